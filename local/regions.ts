import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { createTable, regionDocumentClient } from './dynamo';
import { QuorumVolume } from './quorum';
import { ReplicationLink } from './replication';
import type { Site, World } from './world';

/**
 * The emulated regions and what joins them: the replication link of the heartbeat volume
 * (the storage path), the state of the network path between the sites, and in quorum mode
 * the witness region with the majority rule over the cluster record.
 */

/** Median global-table replication latency (ms). */
export const REPLICATION_MEDIAN_MS = 600;

export class Regions {
  link!: ReplicationLink;
  readonly network = { partitioned: false, lossRate: 0, lagMs: 0 };
  storagePartitioned = false;
  /** The witness region of quorum mode, and each site's leg to it. */
  readonly witness = {
    crashed: false,
    isolated: false,
    pausedUntilMs: 0,
    cut: { production: false, standby: false } as Record<SiteId, boolean>,
  };
  quorum: QuorumVolume | undefined;

  constructor(private readonly world: World) {}

  /** The link between the two replicas and, in quorum mode, the witness's copy of the cluster record. */
  async connect(volume: string, run: string, tables: { db: DynamoDBDocumentClient; name: string }[]): Promise<void> {
    const w = this.world;
    const config = w.scenario.config;
    // The link is DynamoDB's own replication, not a caller in a region: its clients are not behind the majority rule.
    const replica = (id: SiteId) => regionDocumentClient(w.options.dynamoEndpoint, w.sites[id].settings.region);
    this.link = new ReplicationLink(
      [
        { name: 'production', db: replica('production'), table: volume },
        { name: 'standby', db: replica('standby'), table: volume },
      ],
      () => w.random.logNormal(REPLICATION_MEDIAN_MS, 0.6),
      () => w.random.next(),
    );
    if (config.consistency === 'strong' && config.witnessRegion !== undefined) {
      // Quorum mode: the cluster record behind the majority rule of production, standby and witness.
      const db = regionDocumentClient(w.options.dynamoEndpoint, config.witnessRegion);
      const name = `mirrorbeat-${config.clusterName}-${run}-quorum`;
      await createTable(db, name);
      tables.push({ db, name });
      this.quorum = new QuorumVolume(
        { db, name },
        {
          sitesLinked: () => this.sitesLinked(),
          witnessLinked: (site) => this.witnessLinked(site),
          nowMs: () => this.world.clock.nowMs,
        },
        volume,
      );
      for (const id of SITE_IDS) this.quorum.bind(w.sites[id].db, id);
    }
  }

  /**
   * A client of `site`'s region for the runtime's own reads: the cluster record where it lives, without the majority
   * rule.
   */
  observer(site: SiteId): DynamoDBDocumentClient {
    const db = regionDocumentClient(this.world.options.dynamoEndpoint, this.world.sites[site].settings.region);
    this.quorum?.bind(db, site, true);
    return db;
  }

  private sitesLinked(): boolean {
    const { sites } = this.world;
    return !this.storagePartitioned && !sites.production.isolated && !sites.standby.isolated;
  }

  private witnessDown(): boolean {
    return this.witness.crashed || this.witness.isolated || this.world.clock.nowMs < this.witness.pausedUntilMs;
  }

  private witnessLinked(site: SiteId): boolean {
    return !this.witnessDown() && !this.world.sites[site].isolated && !this.witness.cut[site];
  }

  /** The network path between two sites is cut (a partition, or either site isolated). */
  networkCut(from: Site, to: Site): boolean {
    return this.network.partitioned || from.isolated || to.isolated;
  }

  /** Hands what a site just wrote to its replica to the link. */
  async replicate(written: Site): Promise<void> {
    const w = this.world;
    this.link.partitioned = this.storagePartitioned || Object.values(w.sites).some((s) => s.isolated);
    const due = await this.link.capture(w.clock.nowMs, [written.id === 'production' ? 0 : 1]);
    for (const at of new Set(due)) w.clock.schedule(at, async () => this.deliverReplication());
  }

  async deliverReplication(): Promise<void> {
    const w = this.world;
    this.link.partitioned = this.storagePartitioned || Object.values(w.sites).some((s) => s.isolated);
    await this.link.deliver(w.clock.nowMs);
  }
}
