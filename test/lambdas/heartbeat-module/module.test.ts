import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { ModuleDeps } from '../../../lambdas/heartbeat-module/deps';
import { HeartbeatModule } from '../../../lambdas/heartbeat-module/module';
import { invalidBeatPoints } from '../../../lambdas/core/emf';
import { checkHeartbeat, type Heartbeat, signHeartbeat } from '../../../lambdas/core/message';
import type { Observation, SiteStore } from '../../../lambdas/shared/store';
import type { SigningKeys } from '../../../lambdas/shared/keys';
import { type Notice, noticeId, severityOf } from '../../../lambdas/core/notices';
import { productionBeat, standbyBeat as signedStandbyBeat } from '../../beats';
import { standbySettings } from '../../helpers';

/** A notice desk that only records what the module handed it. */
const recording = (push: (n: Notice) => unknown): ModuleDeps['notices'] => ({
  announce: async (n) => {
    push(n);
    return { id: noticeId(n), outcome: 'published' };
  },
  flush: async () => ({ summaries: 0, retried: 0, failed: 0 }),
});

const KEY = Buffer.from('k'.repeat(64));
const NOW = Date.parse('2026-11-25T12:00:00.000Z');
// The lease these tests time against: 12 s (quorum mode's default is 3.5 intervals; these keep the round figures).
const settings = standbySettings({ leaseSeconds: 12 });

/** An in-memory stand-in for the tables, with switches to make one path's calls fail or hang. */
class FakeStore {
  serial = 0;
  written: Heartbeat[] = [];
  observations = new Map<string, Observation>();
  failWrites = false;
  /**
   * The path registry, the recorded view and the ticker are the same fake (SiteStore's are path-store.ts,
   * view-store.ts, ticker-store.ts).
   */
  readonly paths = this;
  readonly views = this;
  readonly ticker = this;
  async nextSerial() {
    return ++this.serial;
  }
  async readCluster() {
    return this.cluster;
  }
  async readPathModes() {
    return { network: 'enabled', storage: 'enabled' } as const;
  }
  maintenance: { on: boolean; by: string; reason: string; sinceMs: number } | undefined = undefined;
  async readMaintenance() {
    return this.maintenance;
  }
  async writeBeat(beat: Heartbeat) {
    this.majority();
    if (this.failWrites) throw new Error('ProvisionedThroughputExceededException');
    this.written.push(beat);
  }
  peerBeat: unknown = undefined;
  invalid: string[] = [];
  unreadable = new Set<string>();
  async readBeat() {
    if (this.unreadable.has('storage')) throw new Error('RequestTimeout');
    return this.peerBeat;
  }
  async readObservation(path: string) {
    if (this.unreadable.has(path)) throw new Error('RequestTimeout');
    return this.observations.get(path);
  }
  async recordBeat(path: string, beat: Heartbeat, arrivedAtMs: number) {
    this.observations.set(path, { serial: beat.serial, arrivedAtMs, beat });
    return true;
  }
  async countInvalid(path: string, reason: string) {
    this.invalid.push(`${path}:${reason}`);
  }
  records = new Map<string, string>();
  async recordPathState(_site: string, path: string, state: string) {
    this.majority();
    return this.change(path, state);
  }
  async recordVerdict(_site: string, verdict: string) {
    this.majority();
    return this.change('verdict', verdict);
  }
  /** The view's other attributes (primarySeen, twoPrimaries, maintenance), recorded once per change. */
  async recordView(_site: string, attribute: string, value: string) {
    this.majority();
    return this.change(attribute, value);
  }
  roleRecords = 0;
  /** Only the role record fails (the rest of the volume answers). */
  failRoleRecords = false;
  async recordRole(_site: string, role: string) {
    this.majority();
    this.roleRecords += 1;
    if (this.failRoleRecords) throw Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
    return this.change('role', role);
  }
  cluster: {
    epoch: number;
    primary: 'production' | 'standby';
    lease?: number;
    promotedAtMs?: number;
    actAfterMs?: number;
  } = { epoch: 1, primary: 'production' };
  /**
   * The region reaches no majority: every write to the heartbeat volume (renewals, beats, records) times out, as on an
   * MRSC table.
   */
  noMajority = false;
  private majority() {
    if (this.noMajority) throw Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
  }
  async renewLease(epoch: number, site: string) {
    this.majority();
    if (this.cluster.epoch !== epoch || this.cluster.primary !== site) return 'refused';
    this.cluster = { ...this.cluster, lease: (this.cluster.lease ?? 0) + 1 };
    return 'renewed';
  }
  private change(what: string, value: string) {
    const previous = this.records.get(what);
    if (previous === value) return null;
    this.records.set(what, value);
    return previous;
  }
}

const events = mockClient(EventBridgeClient);
const sfn = mockClient(SFNClient);

function moduleWith(store: FakeStore, extra: Partial<ModuleDeps> = {}): HeartbeatModule {
  const deps: ModuleDeps = {
    settings,
    ...extra,
    store: store as unknown as SiteStore,
    keys: { current: async () => KEY, all: async () => [KEY] } as unknown as SigningKeys,
    peerEvents: new EventBridgeClient({ region: 'us-east-1' }),
    peerBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/mirrorbeat-orders-production',
    sfn: new SFNClient({ region: 'us-west-2' }),
    failoverStateMachineArn: 'arn:aws:states:us-west-2:123456789012:stateMachine:mirrorbeat-orders-standby-failover',
    log: () => undefined,
    ...extra,
  };
  return new HeartbeatModule(deps);
}

beforeEach(() => {
  events.reset();
  sfn.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

describe('the heartbeat module', () => {
  it('sends one signed beat on both paths, with a strictly increasing serial', async () => {
    const store = new FakeStore();
    const hm = moduleWith(store);
    await hm.tick(NOW);
    const second = await hm.tick(NOW + 2000);
    expect(second.sent).toEqual({ network: 'sent', storage: 'sent' });
    const sentOnNetwork = events
      .commandCalls(PutEventsCommand)
      .map((c) => JSON.parse(c.args[0].input.Entries?.[0]?.Detail ?? '{}') as Heartbeat);
    expect(sentOnNetwork.map((b) => b.serial)).toEqual([1, 2]);
    // Nothing rare to report on a quiet tick: no verdict series, no peer failure, no refusal, no failed send.
    expect(
      second.metrics.filter((m) => ['Verdict', 'PeerHealthFailed', 'InvalidBeats', 'SendFailures'].includes(m.name)),
    ).toEqual([]);
    expect(store.written.map((b) => b.serial)).toEqual([1, 2]);
    const verdict = checkHeartbeat(sentOnNetwork[1], {
      cluster: 'orders',
      expectedSender: 'standby',
      keys: [KEY],
      lastSerial: 1,
      epoch: 1,
      nowMs: NOW + 2000,
      maxSkewMs: 30_000,
    });
    expect(verdict.ok).toBe(true);
  });

  it('still sends the network beat when the storage write fails', async () => {
    const store = new FakeStore();
    store.failWrites = true;
    const report = await moduleWith(store).tick(NOW);
    expect(report.sent).toEqual({ network: 'sent', storage: 'failed' });
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(report.metrics.filter((m) => m.name === 'SendFailures')).toEqual([
      { name: 'SendFailures', value: 1, unit: 'Count', dimensions: { Path: 'storage' } },
    ]);
  });

  it('still writes the storage beat when the network path hangs, and finishes the tick', async () => {
    events.on(PutEventsCommand).callsFake((_input, getClient) => new Promise(() => void getClient));
    const store = new FakeStore();
    const report = await moduleWith(store).tick(NOW);
    expect(report.sent).toEqual({ network: 'failed', storage: 'sent' });
    expect(store.written).toHaveLength(1);
  });

  it('is degraded, and starts no failover, when only one path has failed', async () => {
    const store = new FakeStore();
    store.observations.set('network', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
    store.observations.set('storage', { serial: 9, arrivedAtMs: NOW - 1_000, beat: {} as Heartbeat });
    const report = await moduleWith(store).tick(NOW);
    expect(report.states).toEqual({ network: 'failed', storage: 'healthy' });
    expect(report.verdict).toBe('degraded');
    // The rare series only while they happen: the verdict's, and nothing of a peer failure or a refused beat.
    expect(report.metrics.filter((m) => ['Verdict', 'PeerHealthFailed', 'InvalidBeats'].includes(m.name))).toEqual([
      { name: 'Verdict', value: 1, unit: 'Count', dimensions: { Verdict: 'degraded' } },
    ]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('starts a failover once both paths stay failed for the confirmation window and the lease stood still for a lease and the margin', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn' });
    const store = new FakeStore();
    store.cluster = { epoch: 1, primary: 'production', lease: 40 };
    store.observations.set('network', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
    store.observations.set('storage', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
    const hm = moduleWith(store);
    expect((await hm.tick(NOW)).verdict).toBe('degraded');
    const lost = await hm.tick(NOW + 10_000);
    // The trigger holds, the gate not yet: the renewal seen at NOW has stood 10 s of 12 + 1.
    expect([lost.verdict, lost.failoverStarted]).toEqual(['peer-lost', false]);
    const started = await hm.tick(NOW + 13_000);
    expect(started.failoverStarted).toBe(true);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toMatchObject({
      name: `failover-e2-${NOW + 13_000}`,
    });
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toMatchObject({
      expectedEpoch: 1,
      expectedLease: 40,
      gated: true,
      reason: 'peer-lost',
    });
    // One attempt per retry window in one episode; the fence's conditional write keeps it to one promotion.
    expect((await hm.tick(NOW + 15_000)).failoverStarted).toBe(false);
  });

  it('tries a failed failover again within one lease, without a second execution while the first still runs, and not after a gate refused', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn' });
    const store = new FakeStore();
    store.cluster = { epoch: 1, primary: 'production', lease: 40 };
    store.observations.set('network', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
    store.observations.set('storage', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
    const hm = moduleWith(store);
    await hm.tick(NOW);
    expect((await hm.tick(NOW + 13_000)).failoverStarted).toBe(true);
    const first = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(JSON.parse(first?.input ?? '{}')).toMatchObject({ evidence: { lastSerials: {} } });
    // One lease (12 s) on, the first attempt still runs: asked again by its own name and input, nothing new starts.
    expect((await hm.tick(NOW + 24_000)).failoverStarted).toBe(false);
    expect((await hm.tick(NOW + 25_000)).failoverStarted).toBe(false);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([first, first]);
    // It ended on a decision (a gate refused, with its reason): no new attempt for minutes.
    sfn
      .on(StartExecutionCommand, { name: first?.name })
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'GatesBlocked' });
    expect((await hm.tick(NOW + 37_000)).failoverStarted).toBe(false);
    // It ended in a failure (its fence write failed): a new attempt starts within the lease.
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'States.TaskFailed' });
    expect((await hm.tick(NOW + 49_000)).failoverStarted).toBe(true);
    const calls = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(calls).toEqual([first?.name, first?.name, first?.name, first?.name, `failover-e2-${NOW + 49_000}`]);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({ executionArn: 'arn' });
  });

  it('never starts a failover while the primary still renews its lease, and says why', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn' });
    const published: Notice[] = [];
    const store = new FakeStore();
    store.observations.set('network', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
    store.observations.set('storage', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
    const hm = moduleWith(store, { notices: recording((n) => published.push(n)) });
    for (let t = 0; t <= 40_000; t += 2_000) {
      // The primary renews through the witness though neither path reaches this site.
      store.cluster = { ...store.cluster, lease: t };
      expect((await hm.tick(NOW + t)).failoverStarted).toBe(false);
    }
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(published.find((n) => n.kind === 'peer-lost')?.detail.next).toMatch(/still holds the lease/);
  });

  const peerBeat = (serial: number, key = KEY) => productionBeat(serial, NOW - 500, key);

  it("reads the peer's storage beat from the local replica and records its arrival on the receiver's clock", async () => {
    const store = new FakeStore();
    store.peerBeat = peerBeat(5);
    const report = await moduleWith(store).tick(NOW);
    expect(store.observations.get('storage')).toMatchObject({ serial: 5, arrivedAtMs: NOW });
    expect(report.states.storage).toBe('healthy');
    expect(store.invalid).toEqual([]);
  });

  it('a check between two ticks reads a storage beat the peer wrote since the tick, and records its arrival', async () => {
    const store = new FakeStore();
    const hm = moduleWith(store);
    await hm.tick(NOW);
    store.peerBeat = peerBeat(5);
    const check = await hm.tick(NOW + 1_000, NOW + 1_000, 'check');
    expect(store.observations.get('storage')).toMatchObject({ serial: 5, arrivedAtMs: NOW + 1_000 });
    expect(check.peerSerials.storage).toBe(5);
  });

  it('counts a forged storage beat by reason and ignores it, while the network beat still goes out', async () => {
    const store = new FakeStore();
    store.peerBeat = peerBeat(5, Buffer.from('forger'));
    const report = await moduleWith(store).tick(NOW);
    expect(store.invalid).toEqual(['storage:signature']);
    expect(store.observations.get('storage')).toBeUndefined();
    expect(report.states.storage).toBe('pending');
    expect(report.sent.network).toBe('sent');
    // What the BadHeartbeats alarm and the dashboard read: one refusal, by reason and by path and reason.
    expect(report.metrics.filter((m) => m.name === 'InvalidBeats')).toEqual(invalidBeatPoints('storage', 'signature'));
  });

  it('never counts a path it cannot read as absent: a failed path plus an unreadable one is no lost peer', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn' });
    const store = new FakeStore();
    store.observations.set('network', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
    store.unreadable.add('storage');
    const hm = moduleWith(store);
    for (let t = 0; t <= 30_000; t += 2_000) {
      const report = await hm.tick(NOW + t);
      expect(report.verdict).not.toBe('peer-lost');
    }
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('lets a path it read before age from its last known beat while reads fail', async () => {
    const store = new FakeStore();
    store.peerBeat = peerBeat(5);
    const hm = moduleWith(store);
    expect((await hm.tick(NOW)).states.storage).toBe('healthy');
    store.unreadable.add('storage');
    expect((await hm.tick(NOW + 2_000)).states.storage).toBe('healthy');
    expect((await hm.tick(NOW + 7_000)).states.storage).toBe('failed');
  });

  it('puts the workload health its sources report into the beat, with the evidence as a notice', async () => {
    const store = new FakeStore();
    const health = { read: async () => ({ health: 'failed' as const, evidence: ['alarm orders-5xx is ALARM'] }) };
    const hm = moduleWith(store, { health });
    const report = await hm.tick(NOW);
    expect(report.health).toBe('failed');
    expect(store.written[0]).toMatchObject({
      health: 'failed',
      notice: { kind: 'workload-failed', detail: `since ${new Date(NOW).toISOString()}: alarm orders-5xx is ALARM` },
    });
    // Since when: the first beat that saw it failed, not the latest one.
    await hm.tick(NOW + 2_000);
    expect(store.written.at(-1)?.notice?.detail).toMatch(new RegExp(`^since ${new Date(NOW).toISOString()}:`));
  });

  it('beats degraded, not failed, when the health sources cannot be read', async () => {
    const store = new FakeStore();
    const report = await moduleWith(store, { health: { read: () => Promise.reject(new Error('throttled')) } }).tick(
      NOW,
    );
    expect(report.health).toBe('degraded');
    expect(report.sent).toEqual({ network: 'sent', storage: 'sent' });
  });

  const failingPeer = (serial: number) =>
    signHeartbeat(
      {
        v: 1,
        cluster: 'orders',
        site: 'production',
        region: 'us-east-1',
        serial,
        sentAt: new Date(NOW - 500).toISOString(),
        epoch: 1,
        role: 'primary',
        health: 'failed',
      },
      KEY,
    );

  it('reports a peer whose valid beats say its workload failed, and only notifies by default', async () => {
    const published: string[] = [];
    const store = new FakeStore();
    store.peerBeat = failingPeer(5);
    const report = await moduleWith(store, { notices: recording((n) => published.push(n.kind)) }).tick(NOW);
    expect(report.verdict).toBe('peer-failure-reported');
    expect(published).toEqual(['peer-failure-reported']);
    expect(report.metrics.filter((m) => ['Verdict', 'PeerHealthFailed'].includes(m.name))).toEqual([
      { name: 'Verdict', value: 1, unit: 'Count', dimensions: { Verdict: 'peer-failure-reported' } },
      { name: 'PeerHealthFailed', value: 1, unit: 'Count' },
    ]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('fails over on a reported workload failure when health.onPeerFailure is failover', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn' });
    const store = new FakeStore();
    store.peerBeat = failingPeer(5);
    const failoverSettings = { ...settings, tuning: { ...settings.tuning, onPeerFailure: 'failover' as const } };
    const report = await moduleWith(store, { settings: failoverSettings }).tick(NOW);
    expect(report.failoverStarted).toBe(true);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toMatchObject({
      reason: 'peer-failure-reported',
      expectedEpoch: 1,
    });
  });

  it('keeps its first attempt while the peer still reports its workload failed: no second execution a lease later', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn' });
    const store = new FakeStore();
    const failoverSettings = { ...settings, tuning: { ...settings.tuning, onPeerFailure: 'failover' as const } };
    const hm = moduleWith(store, { settings: failoverSettings });
    store.peerBeat = failingPeer(5);
    expect((await hm.tick(NOW)).failoverStarted).toBe(true);
    store.peerBeat = failingPeer(6);
    expect((await hm.tick(NOW + 13_000)).verdict).toBe('peer-failure-reported');
    const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(names).toEqual([`failover-e2-${NOW}`, `failover-e2-${NOW}`]);
  });

  it('announces each change once: a failed path, its recovery, and a lost peer', async () => {
    const published: string[] = [];
    const store = new FakeStore();
    store.peerBeat = peerBeat(5);
    const hm = moduleWith(store, { notices: recording((n) => published.push(`${n.kind}:${n.path ?? '-'}`)) });
    store.observations.set('network', { serial: 5, arrivedAtMs: NOW, beat: peerBeat(5) });
    await hm.tick(NOW);
    await hm.tick(NOW + 2_000);
    expect(published).toEqual([]);
    for (let t = 4_000; t <= 40_000; t += 2_000) await hm.tick(NOW + t);
    // No failover takes over here (the workflow is a mock): past the grace, the standby also says no site is primary.
    expect(published.sort()).toEqual(['no-primary:-', 'path-failed:network', 'path-failed:storage', 'peer-lost:-']);
    store.peerBeat = signHeartbeat(
      {
        ...(peerBeat(6) as Omit<Heartbeat, 'sig'> & { sig?: string }),
        sig: undefined,
        sentAt: new Date(NOW + 41_500).toISOString(),
      } as never,
      KEY,
    );
    await hm.tick(NOW + 42_000);
    expect(published).toContain('path-recovered:storage');
  });

  describe('as primary', () => {
    const production = readSettingsFor('production');

    it('two-region self-fence: acts while the standby acknowledges a beat it sent within leaseSeconds, timed from the send; says so once when not', async () => {
      const published: string[] = [];
      const store = new FakeStore();
      const standbyBeat = (serial: number, ack: number | undefined) => signedStandbyBeat(serial, NOW, KEY, { ack });
      const twoRegion = {
        ...production,
        tuning: { ...production.tuning, consistency: 'eventual' as const, isolationPolicy: 'self-fence' as const },
      };
      const hm = moduleWith(store, { settings: twoRegion, notices: recording((n) => published.push(n.kind)) });
      // No standby ever heard: a first deployment acts.
      expect((await hm.tick(NOW)).role).toBe('primary');
      expect(store.written.at(-1)?.ack).toBeUndefined();
      // The standby never heard this site (its beat acknowledges nothing): it acts on, as at a first deployment.
      store.observations.set('network', { serial: 3, arrivedAtMs: NOW + 1_000, beat: standbyBeat(3, undefined) });
      await hm.tick(NOW + 2_000);
      expect((await hm.tick(NOW + 4_000)).role).toBe('primary');
      // It acknowledges the beat sent at +4 s (serial 3 of this site), and this site echoes the standby's serial back.
      store.observations.set('network', { serial: 4, arrivedAtMs: NOW + 5_000, beat: standbyBeat(4, 3) });
      await hm.tick(NOW + 6_000);
      expect((await hm.tick(NOW + 8_000)).role).toBe('primary');
      expect(store.written.at(-1)?.ack).toBe(4);
      // A late beat acknowledging the same old serial renews nothing.
      store.observations.set('network', { serial: 5, arrivedAtMs: NOW + 12_000, beat: standbyBeat(5, 3) });
      // A lease (12 s) from the send at +4 s, less the decision's hold of one interval: acts to +13.999 s.
      expect((await hm.tick(NOW + 13_999)).role).toBe('primary');
      expect((await hm.tick(NOW + 14_000)).role).toBe('secondary');
      expect(published.filter((k) => k === 'demoted')).toHaveLength(1);
    });

    it("two-region self-fence: hears the peer before it decides and beats, so its beat echoes the peer's beat read in that tick", async () => {
      const store = new FakeStore();
      const twoRegion = {
        ...production,
        tuning: { ...production.tuning, consistency: 'eventual' as const, isolationPolicy: 'self-fence' as const },
      };
      const hm = moduleWith(store, { settings: twoRegion });
      await hm.tick(NOW);
      // Between two ticks the standby's beat 7 arrives, acknowledging this site's beat 1 (sent at NOW).
      store.observations.set('network', {
        serial: 7,
        arrivedAtMs: NOW + 500,
        beat: signedStandbyBeat(7, NOW, KEY, { ack: 1 }),
      });
      expect((await hm.tick(NOW + 2_000)).role).toBe('primary');
      // Read before the beat: the beat sent in the same tick acknowledges it (read after, it waited a tick more).
      expect(store.written.at(-1)?.ack).toBe(7);
      // The lease (12 s) runs from beat 1's send, less the decision's hold of one interval.
      expect((await hm.tick(NOW + 9_999)).role).toBe('primary');
      expect((await hm.tick(NOW + 10_000)).role).toBe('secondary');
    });

    it('quorum mode: keeps its role with a silent standby, steps down within one lease without a majority, resumes with one', async () => {
      const published: string[] = [];
      const store = new FakeStore();
      const fenced: string[] = [];
      const hm = moduleWith(store, {
        settings: production,
        notices: recording((n) => published.push(n.kind)),
        fenceHook: async (event) => void fenced.push(String(event.why)),
      });
      for (let t = 0; t <= 30_000; t += 2_000) expect((await hm.tick(NOW + t)).role).toBe('primary');
      store.noMajority = true;
      // The last renewal started at +30 s: a decision at +38 s still ends inside the lease, one at +40 s would not.
      expect((await hm.tick(NOW + 38_000)).role).toBe('primary');
      // Without a majority the role change cannot be recorded either: the site says so and fences itself all the same,
      // once, though every tick tries the record again.
      expect((await hm.tick(NOW + 40_000)).role).toBe('secondary');
      expect((await hm.tick(NOW + 42_000)).role).toBe('secondary');
      expect(published).toEqual(['demoted']);
      expect(fenced).toEqual([expect.stringMatching(/lease was not renewed/)]);
      store.noMajority = false;
      expect((await hm.tick(NOW + 44_000)).role).toBe('primary');
      expect(published).toEqual(['demoted']);
      expect(fenced).toHaveLength(1);
    });

    it('counts a strong read or a storage beat as reaching a majority; with neither for a lease, says quorum-degraded and counts it', async () => {
      const published: string[] = [];
      const store = new FakeStore();
      const hm = moduleWith(store, { settings: production, notices: recording((n) => published.push(n.kind)) });
      const degraded = (r: { metrics: readonly { name: string }[] }) =>
        r.metrics.filter((m) => m.name === 'QuorumDegraded').length;
      expect(degraded(await hm.tick(NOW))).toBe(0);
      // The cluster record unreadable, the storage beat still written: that write went through a majority.
      const readCluster = store.readCluster.bind(store);
      store.readCluster = async () => {
        throw Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
      };
      for (let t = 2_000; t <= 30_000; t += 2_000) expect(degraded(await hm.tick(NOW + t))).toBe(0);
      expect(published).not.toContain('quorum-degraded');
      // Neither for a lease (12 s): degraded, said once, counted each tick.
      store.noMajority = true;
      for (let t = 32_000; t < 42_000; t += 2_000) expect(degraded(await hm.tick(NOW + t))).toBe(0);
      expect(degraded(await hm.tick(NOW + 42_000))).toBe(1);
      expect(degraded(await hm.tick(NOW + 44_000))).toBe(1);
      expect(published.filter((k) => k === 'quorum-degraded')).toHaveLength(1);
      store.noMajority = false;
      store.readCluster = readCluster;
      expect(degraded(await hm.tick(NOW + 46_000))).toBe(0);
      expect(published).toContain('quorum-restored');
    });

    it('records a role once per change, and announces a demotion it cannot record once, and only from primary', async () => {
      const published: string[] = [];
      const store = new FakeStore();
      const notices = recording((n) => published.push(n.kind));
      const hm = moduleWith(store, { settings: production, notices });
      for (let t = 0; t <= 10_000; t += 2_000)
        expect(await hm.tick(NOW + t)).toMatchObject({ role: 'primary', notices: t === 0 ? expect.any(Array) : [] });
      // The role is written when it changes, not every tick.
      expect(store.roleRecords).toBe(1);
      // The standby fenced it (epoch 2) while its role record cannot be written: it says so once, from memory.
      store.failRoleRecords = true;
      store.cluster = { epoch: 2, primary: 'standby' };
      expect((await hm.tick(NOW + 12_000)).notices.map((n) => n.kind)).toContain('demoted');
      expect(await hm.tick(NOW + 14_000)).toMatchObject({ role: 'secondary', notices: [] });
      expect(published).toEqual(['demoted']);
      // The record is written again, still as secondary: the demotion it now records was announced already.
      store.failRoleRecords = false;
      expect(await hm.tick(NOW + 16_000)).toMatchObject({ role: 'secondary', notices: [] });
      expect(published).toEqual(['demoted']);
      expect(store.records.get('role')).toBe('secondary');

      // A site that never acted as primary announces nothing, record or not.
      const standbyStore = new FakeStore();
      standbyStore.failRoleRecords = true;
      const standbyPublished: string[] = [];
      const standbyModule = moduleWith(standbyStore, {
        settings: standbySettings(),
        notices: recording((n) => standbyPublished.push(n.kind)),
      });
      for (let t = 0; t <= 6_000; t += 2_000) expect((await standbyModule.tick(NOW + t)).role).toBe('secondary');
      expect(standbyPublished).not.toContain('demoted');
    });

    it('a fresh container acts as primary only after its own first renewal', async () => {
      const store = new FakeStore();
      store.noMajority = true;
      expect((await moduleWith(store, { settings: production }).tick(NOW)).role).toBe('secondary');
    });

    it('keeps acting as primary with no peer ever seen (a first deployment) and under stay-primary', async () => {
      expect((await moduleWith(new FakeStore(), { settings: production }).tick(NOW + 60_000)).role).toBe('primary');
      const store = new FakeStore();
      store.observations.set('network', { serial: 3, arrivedAtMs: NOW, beat: {} as Heartbeat });
      const stay = {
        ...production,
        tuning: { ...production.tuning, consistency: 'eventual' as const, isolationPolicy: 'stay-primary' as const },
      };
      expect((await moduleWith(store, { settings: stay }).tick(NOW + 60_000)).role).toBe('primary');
    });

    it('keeps acting as primary after fencing a peer that has not beaten since', async () => {
      const store = new FakeStore();
      store.cluster = { epoch: 2, primary: 'production', promotedAtMs: NOW + 1_000 };
      store.observations.set('network', { serial: 3, arrivedAtMs: NOW, beat: {} as Heartbeat });
      expect((await moduleWith(store, { settings: production }).tick(NOW + 60_000)).role).toBe('primary');
    });

    it('demotes itself when the peer beats as primary at a higher epoch, before its own replica shows the fence', async () => {
      const published: string[] = [];
      const logged: string[] = [];
      const store = new FakeStore();
      const hm = moduleWith(store, {
        settings: production,
        notices: recording((n) => published.push(n.kind)),
        log: (_level, message, detail) => logged.push(`${message} ${JSON.stringify(detail)}`),
      });
      expect((await hm.tick(NOW)).role).toBe('primary');
      const fence = signHeartbeat(
        {
          v: 1,
          cluster: 'orders',
          site: 'standby',
          region: 'us-west-2',
          serial: 40,
          sentAt: new Date(NOW + 1_500).toISOString(),
          epoch: 2,
          role: 'primary',
          health: 'ok',
        },
        KEY,
      );
      store.observations.set('network', { serial: 40, arrivedAtMs: NOW + 1_600, beat: fence });
      // Heard before the decision: the tick that reads the fence beat already beats as secondary (at the epoch of the
      // record it read; the next tick's record in force is the fence's).
      expect((await hm.tick(NOW + 2_000)).role).toBe('secondary');
      expect(store.written.at(-1)?.role).toBe('secondary');
      const report = await hm.tick(NOW + 4_000);
      expect(report).toMatchObject({ role: 'secondary', epoch: 2 });
      expect(published).toEqual(['demoted']);
      // Said once in the log, where it was learned.
      expect(logged.filter((m) => m.includes('this site is fenced'))).toEqual([
        'the peer beats as primary at a higher epoch: this site is fenced {"epoch":2,"via":"network"}',
      ]);
    });

    it('says two primaries, once, when the peer beats as primary at its own epoch, and counts each tick it does', async () => {
      const published: Notice[] = [];
      const store = new FakeStore();
      const hm = moduleWith(store, { settings: production, notices: recording((n) => published.push(n)) });
      expect((await hm.tick(NOW)).role).toBe('primary');
      const claim = (serial: number) => signedStandbyBeat(serial, NOW + serial * 100, KEY, { role: 'primary' });
      const counted = (r: { metrics: readonly { name: string }[] }) =>
        r.metrics.filter((m) => m.name === 'TwoPrimaries').length;
      store.observations.set('network', { serial: 41, arrivedAtMs: NOW + 1_900, beat: claim(41) });
      const first = await hm.tick(NOW + 2_000);
      // It keeps acting (nothing here says which site should serve); it says so, critical, with the evidence.
      expect(first.role).toBe('primary');
      expect(counted(first)).toBe(1);
      expect(published.map((n) => [n.kind, severityOf(n)])).toEqual([['two-primaries', 'critical']]);
      expect(published[0]?.detail).toMatchObject({
        epoch: 1,
        peerBeat: { path: 'network', serial: 41, epoch: 1 },
        why: expect.stringMatching(/^standby beats as primary at epoch 1 \(network beat 41, sent /),
      });
      store.observations.set('network', { serial: 42, arrivedAtMs: NOW + 3_900, beat: claim(42) });
      expect(counted(await hm.tick(NOW + 4_000))).toBe(1);
      // The same beat read again is no new claim; the stretch ends quietly, and the next one is said again.
      expect(counted(await hm.tick(NOW + 6_000))).toBe(0);
      expect(published).toHaveLength(1);
      store.observations.set('network', { serial: 43, arrivedAtMs: NOW + 7_900, beat: claim(43) });
      await hm.tick(NOW + 8_000);
      expect(published.map((n) => n.kind)).toEqual(['two-primaries', 'two-primaries']);
    });

    it('demotes itself when the cluster record names its peer at a higher epoch', async () => {
      const published: string[] = [];
      const store = new FakeStore();
      const hm = moduleWith(store, { settings: production, notices: recording((n) => published.push(n.kind)) });
      expect((await hm.tick(NOW)).role).toBe('primary');
      store.cluster = { epoch: 2, primary: 'standby', promotedAtMs: NOW + 500 };
      const report = await hm.tick(NOW + 2_000);
      expect(report).toMatchObject({ role: 'secondary', epoch: 2 });
      expect(published).toEqual(['demoted']);
    });
  });
  describe('its clock, its checks between ticks and its role metrics', () => {
    it('says once that the wall clock stepped, and goes on at the corrected time', async () => {
      const published: Notice[] = [];
      const hm = moduleWith(new FakeStore(), { notices: recording((n) => published.push(n)) });
      await hm.tick(NOW, 0);
      const stepped = await hm.tick(NOW + 2_000 - 45_000, 2_000);
      expect(stepped.atMs).toBe(NOW + 2_000);
      expect(stepped.notices.filter((n) => n.kind === 'clock-untrusted')).toHaveLength(1);
      expect(published.filter((n) => n.kind === 'clock-untrusted')).toHaveLength(1);
      const after = await hm.tick(NOW + 4_000 - 45_000, 4_000);
      expect(after.atMs).toBe(NOW + 4_000);
      expect(after.notices.filter((n) => n.kind === 'clock-untrusted')).toEqual([]);
      expect(published.filter((n) => n.kind === 'clock-untrusted')).toHaveLength(1);
    });

    it('sends nothing on a check between ticks and counts no send failure there', async () => {
      const store = new FakeStore();
      store.failWrites = true;
      const hm = moduleWith(store);
      const check = await hm.tick(NOW, NOW, 'check');
      expect(check.sent).toEqual({ network: 'not-due', storage: 'not-due' });
      expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
      expect(check.metrics.filter((m) => m.name === 'SendFailures')).toEqual([]);
      const tick = await hm.tick(NOW + 2_000);
      expect(tick.metrics.filter((m) => m.name === 'SendFailures')).toHaveLength(1);
    });

    it('counts no primary once the lease it watches ran out with no takeover, and maintenance mode while it is on', async () => {
      const store = new FakeStore();
      store.cluster = { epoch: 1, primary: 'production', lease: 40 };
      store.observations.set('network', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
      store.observations.set('storage', { serial: 9, arrivedAtMs: NOW - 60_000, beat: {} as Heartbeat });
      const manual = { ...settings, tuning: { ...settings.tuning, failoverMode: 'manual' as const } };
      const hm = moduleWith(store, { settings: manual });
      const metric = (r: { metrics: readonly { name: string; value: number }[] }, name: string) =>
        r.metrics.filter((m) => m.name === name).map((m) => m.value);
      const first = await hm.tick(NOW);
      expect(metric(first, 'NoPrimary')).toEqual([0]);
      expect(metric(first, 'Maintenance')).toEqual([]);
      store.maintenance = { on: true, by: 'ana', reason: 'patching', sinceMs: NOW };
      const later = await hm.tick(NOW + 21_000);
      expect(metric(later, 'NoPrimary')).toEqual([1]);
      expect(metric(later, 'Maintenance')).toEqual([1]);
    });
  });
});

function readSettingsFor(site: 'production' | 'standby') {
  const s = standbySettings({ leaseSeconds: 12 });
  return {
    ...s,
    site,
    peer: site === 'production' ? ('standby' as const) : ('production' as const),
    region: s.peerRegion,
    peerRegion: s.region,
  };
}
