import { checkBefore, SiteCore } from '../../../lambdas/core/site';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import { standbySettings } from '../../helpers';

/** The site core driven step by step, with no I/O: what the tables said in, decisions out. */
// A 12 s lease (quorum mode's default is 3.5 intervals): the figures below are timed against it.
const tuning = standbySettings({ leaseSeconds: 12 }).tuning;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const silent = {
  network: { unreadable: false, arrivedAtMs: NOW - 60_000 },
  storage: { unreadable: false, arrivedAtMs: NOW - 60_000 },
};

/** A valid beat of the peer sent at `at`. */
const beat = (role: 'primary' | 'secondary', at: number) =>
  ({
    v: 1,
    cluster: 'orders',
    site: 'production',
    region: 'us-east-1',
    serial: at,
    sentAt: new Date(at).toISOString(),
    epoch: 1,
    role,
    health: 'ok',
    sig: '',
  }) as const;

describe('the site core', () => {
  it('as standby: the trigger comes after the confirmation window, the takeover after the lease stood still a lease and the margin', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 7 };
    const at = (ms: number) => core.check(silent, core.clusterRead(record, NOW + ms), NOW + ms, NOW + ms);
    expect(at(0)).toMatchObject({ verdict: 'degraded', takeover: { start: false } });
    expect(at(10_000)).toMatchObject({
      verdict: 'peer-lost',
      takeover: { start: false, hold: expect.stringMatching(/still holds the lease/) },
    });
    expect(at(13_000)).toMatchObject({
      verdict: 'peer-lost',
      takeover: { start: true, reason: 'peer-lost', gated: true, expectedLease: 7 },
    });
    core.failoverStarted(1, NOW + 13_000);
    expect(at(15_000).takeover).toEqual({ start: false });
  });

  it('asks to be checked again when a decision would change before the next tick: a deadline, the window, the gate', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    const beats = (lastMs: number) => ({
      network: { unreadable: false, arrivedAtMs: NOW + lastMs },
      storage: { unreadable: false, arrivedAtMs: NOW + lastMs + 300 },
    });
    const renewal = (lease: number): ClusterRecord => ({ epoch: 1, primary: 'production', lease });
    const at = (ms: number, lastBeatMs: number, lease: number) =>
      core.check(beats(lastBeatMs), core.clusterRead(renewal(lease), NOW + ms), NOW + ms, NOW + ms);
    // Beats and renewals every 2 s: the soonest change is the standby's second read of the record, half an interval on.
    for (let t = 0; t <= 20_000; t += 2_000) at(t, t, t / 2_000);
    expect(at(21_000, 20_000, 10).wakeAtMs).toBe(NOW + 22_000);
    // A primary has no second read: its next change is the network path's deadline (the floor, 6 s after the beat).
    const primary = new SiteCore(tuning, 'production', 'standby');
    const named: ClusterRecord = { epoch: 1, primary: 'production' };
    primary.check(beats(0), primary.clusterRead(named, NOW), NOW, NOW);
    expect(primary.check(beats(0), named, NOW + 1_000, NOW + 1_000).wakeAtMs).toBe(NOW + 6_001);
    // Silent from +20 s: at +23 s the second read comes first; at +25.7 s the network path's deadline, 1 ms past it.
    expect(at(23_000, 20_000, 10).wakeAtMs).toBe(NOW + 24_000);
    expect(at(25_700, 20_000, 10).wakeAtMs).toBe(NOW + 26_001);
    // Both failed at +26.5 s; the window (2 s) ends at +28.5 s, when the trigger holds and the gate not yet.
    expect(at(26_500, 20_000, 10).states).toEqual({ network: 'failed', storage: 'failed' });
    expect(at(28_100, 20_000, 10).wakeAtMs).toBe(NOW + 28_500);
    expect(at(28_500, 20_000, 10)).toMatchObject({ verdict: 'peer-lost', takeover: { start: false } });
    // The renewal seen at +20 s stands 12 s and the 1 s margin: the gate opens at +33 s, and a check then takes over.
    expect(at(32_600, 20_000, 10).wakeAtMs).toBe(NOW + 33_000);
    expect(at(33_000, 20_000, 10).takeover).toMatchObject({ start: true, reason: 'peer-lost' });
    // The module checks between ticks only a quarter interval or more before the next one.
    expect(checkBefore(NOW + 1_000, NOW + 2_000, 2_000)).toBe(true);
    expect(checkBefore(NOW + 1_600, NOW + 2_000, 2_000)).toBe(false);
    expect(checkBefore(undefined, NOW + 2_000, 2_000)).toBe(false);
  });

  it('two-region mode tells a crash from a partition: paths that stopped together need one interval, not the window', () => {
    // Two-region mode's defaults: a 10 s confirmation window.
    const twoRegion = { ...tuning, consistency: 'eventual' as const, confirmationWindowSeconds: 10 };
    const core = new SiteCore(twoRegion, 'standby', 'production');
    const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 1 };
    const lastBeats = (networkSentMs: number, storageSentMs: number) => ({
      network: {
        unreadable: false,
        arrivedAtMs: NOW + networkSentMs + 200,
        beat: beat('primary', NOW + networkSentMs),
      },
      storage: {
        unreadable: false,
        arrivedAtMs: NOW + storageSentMs + 700,
        beat: beat('primary', NOW + storageSentMs),
      },
    });
    const at = (ms: number, reads: ReturnType<typeof lastBeats>) =>
      core.check(reads, core.clusterRead(record, NOW + ms), NOW + ms, NOW + ms).verdict;
    // Both paths' last beats were sent at +0 (a crash): failed at +6.7 s, lost one interval (2 s) later.
    const crash = lastBeats(0, 0);
    at(0, crash);
    expect(at(6_800, crash)).toBe('degraded');
    expect(at(8_800, crash)).toBe('peer-lost');
    // The network path went quiet 10 s before the storage path (a partition spreading): the whole window (10 s).
    const partition = new SiteCore(twoRegion, 'standby', 'production');
    const spread = lastBeats(20_000, 30_000);
    const verdict = (ms: number) =>
      partition.check(spread, partition.clusterRead(record, NOW + ms), NOW + ms, NOW + ms).verdict;
    verdict(30_000);
    expect(verdict(36_800)).toBe('degraded');
    expect(verdict(38_800)).toBe('degraded');
    expect(verdict(46_800)).toBe('peer-lost');
  });

  it('as standby: an unreadable record proves no silence, and a renewal seen restarts the watch', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    const lease1: ClusterRecord = { epoch: 1, primary: 'production', lease: 1 };
    core.check(silent, core.clusterRead(lease1, NOW), NOW, NOW);
    core.check(silent, core.clusterRead(undefined, NOW + 12_000), NOW + 12_000, NOW + 12_000);
    // No majority: the trigger holds and the lease stood still as far as this site saw, but it read nothing now.
    expect(
      core.check(silent, core.clusterRead(undefined, NOW + 13_000), NOW + 13_000, NOW + 13_000).takeover,
    ).toMatchObject({ start: false, hold: expect.stringMatching(/cannot read the cluster record/) });
    // Read again, unchanged since NOW: the silence is real.
    expect(
      core.check(silent, core.clusterRead(lease1, NOW + 14_000), NOW + 14_000, NOW + 14_000).takeover,
    ).toMatchObject({ start: true });
    const renewedLater = core.clusterRead({ epoch: 1, primary: 'production', lease: 2 }, NOW + 15_000);
    expect(core.check(silent, renewedLater, NOW + 15_000, NOW + 15_000).takeover).toMatchObject({ start: false });
  });

  it('as primary: acts only on a renewal of its own, and only while the lease outlasts the decision', () => {
    const core = new SiteCore(tuning, 'production', 'standby');
    const record: ClusterRecord = { epoch: 1, primary: 'production' };
    expect(core.role(core.clusterRead(record, NOW), NOW, NOW).role).toBe('secondary');
    expect(core.shouldRenew(record)).toBe(true);
    core.renewal('renewed', 1, NOW);
    expect(core.role(record, NOW, NOW).role).toBe('primary');
    expect(core.role(record, NOW + 9_999, NOW + 9_999).role).toBe('primary');
    expect(core.role(record, NOW + 10_000, NOW + 10_000)).toMatchObject({
      role: 'secondary',
      why: expect.stringMatching(/majority/),
    });
    core.renewal('refused', 1, NOW + 10_000);
    expect(core.role(record, NOW + 10_000, NOW + 10_000).role).toBe('secondary');
  });

  it("takes the peer's beat at a higher epoch as the fence, ahead of its replica", () => {
    const core = new SiteCore(tuning, 'production', 'standby');
    const record: ClusterRecord = { epoch: 1, primary: 'production' };
    core.clusterRead(record, NOW);
    const fence = {
      v: 1,
      cluster: 'orders',
      site: 'standby',
      region: 'us-west-2',
      serial: 9,
      sentAt: new Date(NOW).toISOString(),
      epoch: 2,
      role: 'primary',
      health: 'ok',
      sig: '',
    } as const;
    const fencedAt = core.heard(
      { network: { unreadable: false, arrivedAtMs: NOW, beat: fence }, storage: { unreadable: false } },
      record,
    );
    expect(fencedAt).toEqual({ epoch: 2, via: 'network' });
    const now = core.clusterRead(undefined, NOW + 2_000);
    expect(now).toMatchObject({ epoch: 2, primary: 'standby' });
    expect(core.fencedByBeat(now)).toBe(true);
    expect(core.shouldRenew(now)).toBe(false);
  });

  describe('sees no primary only when it can know', () => {
    const fresh = (role: 'primary' | 'secondary', at: number) => ({
      network: { unreadable: false, arrivedAtMs: at, beat: beat(role, at) },
      storage: { unreadable: false, arrivedAtMs: at, beat: beat(role, at) },
    });
    const tick = (core: SiteCore, reads: Parameters<SiteCore['check']>[0], at: number, record?: ClusterRecord) => {
      const cluster = core.clusterRead(record, at);
      const { states } = core.check(reads, cluster, at, at);
      return core.noPrimary(core.role(cluster, at, at).role, cluster, states, at, at);
    };
    const named = (lease: number): ClusterRecord => ({ epoch: 1, primary: 'production', lease });

    it('quorum mode: a lost peer is no primary once its lease ran out; unknown while it may hold it or the record is unread', () => {
      const core = new SiteCore(tuning, 'standby', 'production');
      expect(tick(core, fresh('primary', NOW), NOW, named(3))).toBeUndefined();
      // The peer goes silent; its lease (12 s and the 1 s margin) still runs.
      expect(tick(core, silent, NOW + 10_000, named(3))).toBeUndefined();
      expect(tick(core, silent, NOW + 14_000)).toBeUndefined();
      expect(tick(core, silent, NOW + 14_000, named(3))).toBe(
        "production's lease at epoch 1 ran out 14 s ago and no site has taken over",
      );
      // A renewal seen is a primary, whatever the beats say.
      expect(tick(core, fresh('secondary', NOW + 16_000), NOW + 16_000, named(4))).toBeUndefined();
    });

    it('quorum mode: the record naming this site while it does not act is no primary', () => {
      const core = new SiteCore(tuning, 'production', 'standby');
      expect(tick(core, fresh('secondary', NOW), NOW, named(3))).toMatch(
        /^the cluster record names production primary at epoch 1, but it does not act as primary: /,
      );
      core.renewal('renewed', 1, NOW);
      expect(tick(core, silent, NOW + 1_000, named(4))).toBeUndefined();
    });

    it('two-region mode: only a fresh beat of the peer saying secondary; a lost peer may be primary behind the partition', () => {
      const core = new SiteCore({ ...tuning, consistency: 'eventual' }, 'standby', 'production');
      expect(tick(core, fresh('primary', NOW), NOW, named(3))).toBeUndefined();
      expect(tick(core, fresh('secondary', NOW + 2_000), NOW + 2_000, named(3))).toBe(
        'standby and production both beat as secondary at epoch 1 (its beat of 0.0 s ago)',
      );
      expect(tick(core, silent, NOW + 60_000, named(3))).toBeUndefined();
    });

    it('waits out a promotion that must let the old lease run down before it says so', () => {
      const core = new SiteCore(tuning, 'standby', 'production');
      // lease 12 s + margin 1 s + two ticks of 2 s
      expect(core.noPrimaryGraceMs).toBe(17_000);
    });
  });
});
