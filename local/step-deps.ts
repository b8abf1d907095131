import { randomUUID } from 'node:crypto';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EBSClient } from '@aws-sdk/client-ebs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { RDSClient } from '@aws-sdk/client-rds';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client } from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { promotionActionsOf } from '../lib/config';
import { DetailType, EVENT_SOURCE, peerOf } from '../lambdas/core/wire';
import { fenceWorkload, NotFencedYet } from '../lambdas/failover-steps/fence-workload';
import type { FailoverDeps } from '../lambdas/failover-steps/steps';
import type { PathControlDeps } from '../lambdas/path-control-steps/steps';
import type { Bus } from './bus';
import { recordingClient } from './calls';
import { LOCAL_ACCOUNT } from './definitions';
import { emulate } from './emulate';
import { EbsFake, snapshotPair } from './fakes/ebs';
import { type Caller, WorkloadFake } from './fakes/workload';
import type { Recorder } from './recorder';
import { type Regions, REPLICATION_MEDIAN_MS } from './regions';
import type { Site, World } from './world';

/** The fake's clients sign with these; nothing leaves loopback. */
const LOCAL_CREDENTIALS = { accessKeyId: 'AKIALOCALFAKE', secretAccessKey: 'local-fake-secret' };

/**
 * What the local runtime's step handlers run with: the deployed step code's dependencies,
 * each service it calls either emulated in process (EventBridge, CloudWatch, Lambda, EC2) or
 * served by a local fake over HTTP (the EBS direct APIs), so the real SDK clients are used.
 */
export class StepDeps {
  /** The EBS direct API fake (HTTP on loopback), when the configuration protects volumes. */
  private ebs: { fake: EbsFake; endpoint: string } | undefined;
  private workloadFake: WorkloadFake | undefined;

  constructor(
    private readonly world: World,
    private readonly regions: Regions,
    private readonly bus: Bus,
    private readonly recorder: Recorder,
  ) {}

  /** The user's workload the promotion actions move (Route 53, Auto Scaling, ECS, Aurora), made on first use. */
  get workload(): WorkloadFake {
    const w = this.world;
    this.workloadFake ??= new WorkloadFake(
      w.scenario.config,
      { production: w.sites.production.settings.region, standby: w.sites.standby.settings.region },
      () => w.clock.nowMs,
    );
    return this.workloadFake;
  }

  /** Starts the fakes the configuration needs: the EBS direct APIs, seeded with the scenario's snapshots. */
  async startFakes(): Promise<void> {
    const { scenario, clock } = this.world;
    const readiness = scenario.config.readiness.ebs;
    if (readiness === undefined) return;
    const fake = new EbsFake();
    readiness.volumes.forEach((volume, i) =>
      snapshotPair(fake, {
        volumeId: 'volumeId' in volume ? volume.volumeId : `vol-0fa4e${String(i).padStart(12, '0')}`,
        tags: 'tag' in volume ? { [volume.tag.key]: volume.tag.value } : {},
        nowMs: clock.nowMs,
        ageSeconds: scenario.ebs.snapshotAgeSeconds,
        intervalSeconds: scenario.ebs.snapshotIntervalSeconds,
        blocks: 64,
        changedBlocks: scenario.ebs.changedBlocks,
        corrupt: scenario.ebs.corrupt,
      }),
    );
    this.ebs = { fake, endpoint: await fake.listen() };
  }

  async stopFakes(): Promise<void> {
    await this.ebs?.fake.close();
    this.ebs = undefined;
  }

  failover(site: Site): FailoverDeps {
    const w = this.world;
    const peer = w.sites[peerOf(site.id)];
    const peerFence = `arn:aws:lambda:${peer.settings.region}:${LOCAL_ACCOUNT}:function:${w.names(peer.id).functionName('failover-steps')}`;
    const caller: Caller = {
      region: site.settings.region,
      note: (text) => w.note({ site: site.id, kind: 'workflow', text }),
      reachable: (id) => !w.sites[id].crashed && !w.sites[id].isolated && !site.isolated,
    };
    return {
      settings: site.settings,
      store: site.store,
      db: site.db,
      notices: this.recorder.noticeDesk(site, 5_000),
      // ReplicationLatency lives in the peer's region: unreachable when that region is down or cut off.
      peerCloudWatch: emulate(new CloudWatchClient({ region: site.settings.peerRegion }), async () => {
        if (peer.crashed || peer.isolated || site.isolated)
          throw Object.assign(new Error(`monitoring.${site.settings.peerRegion}.amazonaws.com unreachable`), {
            name: 'TimeoutError',
          });
        return { MetricDataResults: [{ Id: 'lag', Values: [this.regions.link.lagMs + REPLICATION_MEDIAN_MS] }] };
      }),
      events: emulate(new EventBridgeClient({ region: site.settings.region }), async (_command, input) => {
        for (const entry of (input.Entries ?? []) as { DetailType?: string }[])
          if (entry.DetailType === DetailType.sitePromoted)
            w.note({
              site: site.id,
              kind: 'workflow',
              text: `${EVENT_SOURCE} ${DetailType.sitePromoted} event on the ${site.id} site bus`,
            });
        return { FailedEntryCount: 0, Entries: [{ EventId: randomUUID() }] };
      }),
      // The peer's failover steps, invoked by name for its workload fence, run there; any other function is a hook.
      lambdaFor: () =>
        emulate(new LambdaClient({ region: site.settings.region }), async (_command, input) => {
          if (input.FunctionName === peerFence) {
            if (peer.crashed || peer.isolated || site.isolated)
              throw Object.assign(new Error(`lambda.${peer.settings.region}.amazonaws.com unreachable`), {
                name: 'TimeoutError',
              });
            this.fenceWorkload(peer, JSON.parse(Buffer.from(input.Payload as Uint8Array).toString()) as never);
          }
          return { StatusCode: 202 };
        }),
      siteBus: w.names(site.id).siteBus,
      promotionHook: undefined,
      fenceHook: undefined,
      peerWorkloadFence: promotionActionsOf(w.scenario.config, site.id).zeroWhenFenced === true ? peerFence : undefined,
      keys: w.keys(),
      peerEvents: emulate(new EventBridgeClient({ region: site.settings.peerRegion }), async (_command, input) =>
        this.bus.putEvents(site, input),
      ),
      peerBusArn: `arn:aws:events:${peer.settings.region}:${LOCAL_ACCOUNT}:event-bus/${w.names(peer.id).siteBus}`,
      // The configuration's promotion actions, against the local workload fake.
      actions: promotionActionsOf(w.scenario.config, site.id),
      route53: emulate(new Route53Client({ region: 'us-east-1' }), this.workload.route53(caller)),
      autoScaling: emulate(new AutoScalingClient({ region: site.settings.region }), this.workload.autoScaling(caller)),
      ecs: emulate(new ECSClient({ region: site.settings.region }), this.workload.ecs(caller)),
      rds: emulate(new RDSClient({ region: site.settings.region }), this.workload.rds(caller)),
      arcFor: () =>
        emulate(new Route53RecoveryClusterClient({ region: 'us-west-2' }), async () => {
          throw new Error('the local runtime does not emulate Route 53 ARC; leave promotion.arc out of scenarios');
        }),
      readiness: this.readinessOf(),
      // The real EBS client, over HTTP to the fake; EC2's snapshot listing answered from the same store.
      ebs: recordingClient(
        new EBSClient({
          region: site.settings.region,
          endpoint: this.ebs?.endpoint ?? 'http://127.0.0.1:9',
          credentials: LOCAL_CREDENTIALS,
          maxAttempts: 1,
        }),
      ),
      ec2: emulate(new EC2Client({ region: site.settings.region }), async (_command, input) => {
        if (this.ebs === undefined) throw new Error('no EBS fake: readiness.ebs is not configured');
        return this.ebs.fake.describeSnapshots(input);
      }),
      sleep: async () => undefined,
      now: () => site.clock.wall(w.clock.nowMs),
    };
  }

  /**
   * The built-in workload fence, as the heartbeat module's asynchronous invoke of the failover
   * steps runs it: a "not fenced yet" failure is retried as Lambda retries an event (after
   * 1 and 3 minutes), on the virtual clock; what it did goes on the timeline.
   */
  fenceWorkload(site: Site, event: Readonly<Record<string, unknown>>, attempt = 0): void {
    const w = this.world;
    const deps = this.failover(site);
    if (deps.actions.zeroWhenFenced !== true) return;
    // An asynchronous invoke starts a moment later; the clock waits for it like any event.
    const delayMs = attempt === 0 ? 200 : 60_000 * attempt;
    w.clock.schedule(w.clock.nowMs + delayMs, async () => {
      if (site.crashed) return;
      try {
        const result = await fenceWorkload(event, {
          ...deps,
          site: site.id,
          readCluster: () => site.store.readCluster(),
        });
        w.note({ site: site.id, kind: 'role', text: `workload fence: ${result.detail}` });
      } catch (error) {
        if (error instanceof NotFencedYet && attempt < 2) this.fenceWorkload(site, event, attempt + 1);
        else w.note({ site: site.id, kind: 'role', text: `workload fence failed: ${(error as Error).message}` });
      }
    });
  }

  private readinessOf(): FailoverDeps['readiness'] {
    const ebs = this.world.scenario.config.readiness.ebs;
    return ebs === undefined
      ? undefined
      : { volumes: ebs.volumes, maxSnapshotAgeSeconds: ebs.maxSnapshotAgeSeconds, policy: ebs.policy };
  }

  pathControl(site: Site): PathControlDeps {
    const w = this.world;
    const peer = w.sites[peerOf(site.id)];
    return {
      settings: site.settings,
      store: site.store,
      peerEvents: emulate(new EventBridgeClient({ region: site.settings.peerRegion }), async (_command, input) =>
        this.bus.putEvents(site, input),
      ),
      peerBusArn: `arn:aws:events:${peer.settings.region}:${LOCAL_ACCOUNT}:event-bus/${w.names(peer.id).siteBus}`,
      keys: w.keys(),
      notices: this.recorder.noticeDesk(site, 5_000),
      now: () => site.clock.wall(w.clock.nowMs),
    };
  }
}
