import { GetCommand, PutCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Heartbeat } from '../core/message';
import {
  beatKey,
  clusterKey,
  type ClusterRecord,
  INITIAL_CLUSTER,
  type Maintenance,
  maintenanceKey,
  maintenanceOf,
  invalidKey,
  leaseKey,
  observationKey,
  TTL_ATTRIBUTE,
} from '../core/volume';
import { type PathId, peerOf, type SiteId } from '../core/wire';
import { conditionalWrite } from './conditional-write';
import { PathStore } from './path-store';
import { TickerStore } from './ticker-store';
import { ViewStore } from './view-store';
import { WitnessStore } from './witness-store';

export interface Observation {
  readonly serial: number;
  readonly arrivedAtMs: number;
  readonly beat: Heartbeat;
}

/**
 * Reads and writes of the heartbeat volume (this region's replica of the global table)
 * and of the site-local observations table. Reads of the volume are strongly consistent:
 * within one region, a replica read sees every write the replica has applied.
 * The path registry and path control's items are its `paths`, the site's recorded view its `views`.
 */
export class SiteStore {
  /**
   * @param leaseItems two-region mode: the primary renews its lease in its own LEASE item, and a
   *   cluster record read carries that item's count (quorum mode renews the cluster record itself)
   */
  /** The path registry and path control's request commands and acknowledgements (path-store.ts). */
  readonly paths: PathStore;
  /** What this site recorded of the peer: path states, verdict, role, each change once (view-store.ts). */
  readonly views: ViewStore;
  /** The serials of this site's beats and its ticker (ticker-store.ts). */
  readonly ticker: TickerStore;
  /** What AWS Health said of DynamoDB in the witness region (witness-store.ts). */
  readonly witness: WitnessStore;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly heartbeatVolume: string,
    private readonly observations: string,
    private readonly leaseItems = false,
  ) {
    this.paths = new PathStore(db, heartbeatVolume, observations);
    this.views = new ViewStore(db, heartbeatVolume);
    this.ticker = new TickerStore(db, observations);
    this.witness = new WitnessStore(db, observations);
  }

  /**
   * The cluster record. Strong by default: in quorum mode that read needs a majority. With
   * `strong` false, this region's copy as it stands, which answers without one (for checks
   * that only need an epoch this site already knows, like the receivers').
   */
  async readCluster(signal?: AbortSignal, strong = true): Promise<ClusterRecord> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: clusterKey(), ConsistentRead: strong }),
      { abortSignal: signal },
    );
    if (this.leaseItems) {
      const primary = (out.Item?.primary as SiteId | undefined) ?? INITIAL_CLUSTER.primary;
      const lease = await this.db.send(
        new GetCommand({ TableName: this.heartbeatVolume, Key: leaseKey(primary), ConsistentRead: true }),
        { abortSignal: signal },
      );
      const count: unknown = lease.Item?.lease;
      if (out.Item === undefined) return { ...INITIAL_CLUSTER, ...(typeof count === 'number' ? { lease: count } : {}) };
      out.Item = { ...out.Item, lease: typeof count === 'number' ? count : undefined };
    }
    if (out.Item === undefined) return INITIAL_CLUSTER;
    const promotedAtMs = typeof out.Item.promotedAt === 'string' ? Date.parse(out.Item.promotedAt) : NaN;
    const verifiedAtMs = typeof out.Item.verifiedAt === 'string' ? Date.parse(out.Item.verifiedAt) : NaN;
    const handover = out.Item.handover as Record<string, unknown> | undefined;
    return {
      epoch: Number(out.Item.epoch),
      primary: out.Item.primary as SiteId,
      ...(typeof out.Item.lease === 'number' ? { lease: out.Item.lease } : {}),
      ...(typeof out.Item.actAfterMs === 'number' && out.Item.actAfterMs > 0
        ? { actAfterMs: out.Item.actAfterMs }
        : {}),
      ...(Number.isFinite(promotedAtMs) ? { promotedAtMs } : {}),
      ...(Number.isFinite(verifiedAtMs) ? { verifiedAtMs } : {}),
      ...(out.Item.handedOver === true ? { handedOver: true } : {}),
      ...(out.Item.gated === true ? { gated: true } : {}),
      ...(handover === undefined
        ? {}
        : {
            handover: {
              to: handover.to as SiteId,
              execution: String(handover.execution),
              requestedAtMs: Number(handover.requestedAtMs),
              ...(typeof handover.drainedAtMs === 'number' ? { drainedAtMs: handover.drainedAtMs } : {}),
            },
          }),
    };
  }

  /**
   * The primary's lease renewal: a conditional write that raises the renewal count while the
   * record still names this site primary at `epoch`. In quorum mode it succeeds only in a region
   * that reaches a majority; 'refused' when the record moved on (another epoch or primary). In
   * two-region mode it raises the count in this site's own LEASE item.
   */
  async renewLease(epoch: number, site: SiteId, nowMs: number, signal?: AbortSignal): Promise<'renewed' | 'refused'> {
    if (this.leaseItems) {
      // Nobody else writes this item, so replication can never make it lose to another writer.
      await this.db.send(
        new UpdateCommand({
          TableName: this.heartbeatVolume,
          Key: leaseKey(site),
          UpdateExpression: 'SET lease = if_not_exists(lease, :zero) + :one, epoch = :epoch, renewedAt = :now',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':epoch': epoch, ':now': new Date(nowMs).toISOString() },
        }),
        { abortSignal: signal },
      );
      return 'renewed';
    }
    const initial = epoch === INITIAL_CLUSTER.epoch && site === INITIAL_CLUSTER.primary;
    const ok = await conditionalWrite(
      this.db,
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression:
          'SET lease = if_not_exists(lease, :zero) + :one, renewedAt = :now, epoch = if_not_exists(epoch, :epoch), #primary = if_not_exists(#primary, :me)',
        ConditionExpression: initial
          ? 'attribute_not_exists(epoch) OR (epoch = :epoch AND #primary = :me)'
          : 'epoch = :epoch AND #primary = :me',
        ExpressionAttributeNames: { '#primary': 'primary' },
        ExpressionAttributeValues: {
          ':zero': 0,
          ':one': 1,
          ':now': new Date(nowMs).toISOString(),
          ':epoch': epoch,
          ':me': site,
        },
      }),
      signal,
    );
    return ok ? 'renewed' : 'refused';
  }

  /** This site's recorded state of one path of its peer (what its heartbeat module last saw), if any. */
  /**
   * A switchover asks the primary at `epoch` to hand over to `to`. Conditional: the record
   * must still be at that epoch with the other site primary, and no other handover pending
   * (the same execution asking again is fine). Returns false when the condition failed.
   */
  async requestHandover(epoch: number, to: SiteId, execution: string, nowMs: number): Promise<boolean> {
    const from = peerOf(to);
    return conditionalWrite(
      this.db,
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression: 'SET epoch = :epoch, #primary = :from, handover = :handover',
        ConditionExpression: `${epoch === INITIAL_CLUSTER.epoch ? '(attribute_not_exists(epoch) OR (epoch = :epoch AND #primary = :from))' : '(epoch = :epoch AND #primary = :from)'} AND (attribute_not_exists(handover) OR handover.execution = :execution)`,
        ExpressionAttributeNames: { '#primary': 'primary' },
        ExpressionAttributeValues: {
          ':epoch': epoch,
          ':from': from,
          ':handover': { to, execution, requestedAtMs: Math.round(nowMs) },
          ':execution': execution,
        },
      }),
    );
  }

  /** The primary says it stopped acting as one for this handover; once only. */
  async markDrained(execution: string, nowMs: number, signal?: AbortSignal): Promise<boolean> {
    return conditionalWrite(
      this.db,
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression: 'SET handover.drainedAtMs = :now',
        ConditionExpression: 'handover.execution = :execution AND attribute_not_exists(handover.drainedAtMs)',
        ExpressionAttributeValues: { ':now': Math.round(nowMs), ':execution': execution },
      }),
      signal,
    );
  }

  /** A switchover that gave up withdraws its handover, and the primary resumes. */
  async cancelHandover(execution: string, signal?: AbortSignal): Promise<boolean> {
    return conditionalWrite(
      this.db,
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression: 'REMOVE handover',
        ConditionExpression: 'handover.execution = :execution',
        ExpressionAttributeValues: { ':execution': execution },
      }),
      signal,
    );
  }

  /** The storage path: this site's beat into its own replica (the PVOL). */
  async writeBeat(beat: Heartbeat, signal?: AbortSignal): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.heartbeatVolume, Item: { ...beatKey(beat.site), beat } }), {
      abortSignal: signal,
    });
  }

  /** The peer's storage-path beat as replicated into this region (the SVOL); the raw item, validated by the caller. */
  async readBeat(site: SiteId, signal?: AbortSignal): Promise<unknown> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: beatKey(site), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return out.Item?.beat;
  }

  /** Records a valid beat seen on a path unless a newer one is already recorded; false when it was not newer. */
  async recordBeat(
    path: PathId,
    beat: Heartbeat,
    arrivedAtMs: number,
    ttlSeconds: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    return conditionalWrite(
      this.db,
      new PutCommand({
        TableName: this.observations,
        Item: {
          ...observationKey(path, beat.site),
          serial: beat.serial,
          arrivedAtMs,
          beat,
          [TTL_ATTRIBUTE]: Math.floor(arrivedAtMs / 1000) + ttlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(serial) OR serial < :serial',
        ExpressionAttributeValues: { ':serial': beat.serial },
      }),
      signal,
    );
  }

  async readObservation(path: PathId, peer: SiteId, signal?: AbortSignal): Promise<Observation | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.observations, Key: observationKey(path, peer), ConsistentRead: true }),
      { abortSignal: signal },
    );
    if (out.Item === undefined) return undefined;
    return {
      serial: Number(out.Item.serial),
      arrivedAtMs: Number(out.Item.arrivedAtMs),
      beat: out.Item.beat as Heartbeat,
    };
  }

  async countInvalid(path: PathId, reason: string, signal?: AbortSignal): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.observations,
        Key: invalidKey(path, reason),
        UpdateExpression: 'ADD #count :one',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
      { abortSignal: signal },
    );
  }

  /** Maintenance mode as this region's replica holds it (undefined: never set). */
  async readMaintenance(signal?: AbortSignal): Promise<Maintenance | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: maintenanceKey(), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return maintenanceOf(out.Item);
  }

  /** Switches maintenance mode in this region's replica (`mirrorbeat maintenance` writes both). */
  async writeMaintenance(m: Maintenance, signal?: AbortSignal): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.heartbeatVolume, Item: { ...maintenanceKey(), ...m } }), {
      abortSignal: signal,
    });
  }
}
