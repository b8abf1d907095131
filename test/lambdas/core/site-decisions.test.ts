import { SiteCore } from '../../../lambdas/core/site';
import type { Heartbeat } from '../../../lambdas/core/message';
import type { PeerRead } from '../../../lambdas/core/site-step';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import { standbySettings } from '../../helpers';

/**
 * The site core's own bookkeeping between the lease and the paths, step by step (the mutation run of 2026-12-07 found
 * each reached by no test of its own): what it decides before it has read anything, the fence beat, a path that comes
 * back into use, the step-down that ends a promotion's wait, and how often a failover is tried.
 * Quorum mode's defaults: a 2 s interval, a 7 s lease and a 1 s drift margin.
 */
const tuning = standbySettings().tuning;
const twoRegion = { ...tuning, consistency: 'eventual' as const, isolationPolicy: 'self-fence' as const };
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 3 };

const beat = (
  from: Heartbeat['site'],
  role: Heartbeat['role'],
  at: number,
  epoch = 1,
  health: Heartbeat['health'] = 'ok',
): Heartbeat => ({
  v: 1,
  cluster: 'orders',
  site: from,
  region: from === 'production' ? 'us-east-1' : 'us-west-2',
  serial: at,
  sentAt: new Date(at).toISOString(),
  epoch,
  role,
  health,
  sig: '',
});
const read = (b: Heartbeat | undefined, arrivedAtMs: number): PeerRead =>
  b === undefined ? { unreadable: false, arrivedAtMs } : { unreadable: false, arrivedAtMs, beat: b };
const nothing: PeerRead = { unreadable: true };
const silent = { network: read(undefined, NOW - 60_000), storage: read(undefined, NOW - 60_000) };

describe('the site core before it has read anything', () => {
  it('decides no role before it read the cluster record in this invocation', () => {
    const core = new SiteCore(tuning, 'production', 'standby');
    expect(core.role(record, NOW, NOW)).toEqual({
      role: 'secondary',
      why: 'has not read the cluster record in this invocation',
    });
  });

  it('takes nothing over on a record it was handed but did not read, however long the peer is silent', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    core.check(silent, record, NOW, NOW);
    expect(core.check(silent, record, NOW + 60_000, NOW + 60_000)).toMatchObject({
      verdict: 'peer-lost',
      takeover: { start: false, hold: expect.stringMatching(/^this site cannot read the cluster record/) },
    });
  });

  it('two-region self-fence: decides no role before it read the peer’s beats in this invocation, again in each new one', () => {
    const core = new SiteCore(twoRegion, 'production', 'standby');
    expect(core.needsPeerRead).toBe(true);
    const c = core.clusterRead(record, NOW);
    expect(core.role(c, NOW, NOW)).toEqual({
      role: 'secondary',
      why: "has not read the peer's beats in this invocation",
    });
    core.check({ network: nothing, storage: nothing }, c, NOW, NOW);
    expect(core.needsPeerRead).toBe(false);
    core.newInvocation();
    expect(core.needsPeerRead).toBe(true);
    // Quorum mode's lease is the majority's, and stay-primary never fences itself: neither waits for the peer's beats.
    expect(new SiteCore(tuning, 'production', 'standby').needsPeerRead).toBe(false);
    expect(new SiteCore({ ...twoRegion, isolationPolicy: 'stay-primary' }, 'production', 'standby').needsPeerRead).toBe(
      false,
    );
  });
});

describe('the fence beat: the peer claims primary at a higher epoch', () => {
  it('is the record in force until the replica catches up, then the replica is, and it is reported once', () => {
    const core = new SiteCore(tuning, 'production', 'standby');
    core.clusterRead(record, NOW);
    expect(core.shouldRenew(record)).toBe(true);
    const fence = { network: read(beat('standby', 'primary', NOW, 2), NOW + 100), storage: nothing };
    expect(core.heard(fence, record)).toEqual({ epoch: 2, via: 'network' });
    const inForce = core.clusterRead(record, NOW + 300);
    expect(inForce).toEqual({ epoch: 2, primary: 'standby' });
    expect(core.fencedByBeat(inForce)).toBe(true);
    expect(core.shouldRenew(record)).toBe(true);
    expect(core.shouldRenew(inForce)).toBe(false);
    // The next beat of the same epoch fences nothing new.
    const again = { network: read(beat('standby', 'primary', NOW + 2_000, 2), NOW + 2_100), storage: nothing };
    expect(core.heard(again, record)).toBeUndefined();
    // The replica shows epoch 2: it is the record now, with what it says of the lease.
    const caughtUp: ClusterRecord = { epoch: 2, primary: 'standby', lease: 1 };
    expect(core.clusterRead(caughtUp, NOW + 2_300)).toBe(caughtUp);
    expect(core.fencedByBeat(caughtUp)).toBe(false);
  });

  it('only a beat at an epoch above the record’s fences; a secondary one, only a site its record names', () => {
    for (const b of [beat('standby', 'primary', NOW, 1), beat('standby', 'secondary', NOW, 1)]) {
      const core = new SiteCore(tuning, 'production', 'standby');
      core.clusterRead(record, NOW);
      expect(core.heard({ network: read(b, NOW + 100), storage: nothing }, record)).toBeUndefined();
      expect(core.clusterRead(record, NOW + 300)).toBe(record);
    }
    const core = new SiteCore(tuning, 'production', 'standby');
    core.clusterRead(record, NOW);
    const ahead = { network: read(beat('standby', 'secondary', NOW, 3), NOW + 100), storage: nothing };
    expect(core.heard(ahead, record)).toEqual({ epoch: 3, via: 'network' });
  });

  it('a site renews only a record that names it and asks no handover to its peer', () => {
    const core = new SiteCore(tuning, 'production', 'standby');
    expect(core.shouldRenew(record)).toBe(true);
    expect(core.shouldRenew({ ...record, primary: 'standby' })).toBe(false);
    expect(core.shouldRenew({ ...record, handover: { to: 'standby', execution: 'x', requestedAtMs: NOW } })).toBe(
      false,
    );
  });
});

describe('a path that comes back into use counts only the peer’s beats after it did', () => {
  it('forgets the last beat and arrival it had, ignores a read of them, and counts the next arrival', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    const c = core.clusterRead(record, NOW);
    const old = { network: read(beat('production', 'primary', NOW - 500), NOW), storage: nothing };
    expect(core.check(old, c, NOW, NOW)).toMatchObject({ arrived: { network: true }, lastArrivalMs: { network: NOW } });
    expect(core.lastSerials()).toEqual({ network: NOW - 500 });
    // Switched on while on: nothing is forgotten.
    core.setMode('network', 'enabled', NOW + 500);
    expect(core.check(old, c, NOW + 600, NOW + 600).lastArrivalMs).toEqual({ network: NOW });
    core.setMode('network', 'disabled', NOW + 1_000);
    core.setMode('network', 'enabled', NOW + 2_000);
    expect(core.lastSerials()).toEqual({});
    const afterOld = core.check(old, c, NOW + 3_000, NOW + 3_000);
    expect(afterOld.arrived.network).toBe(false);
    expect(afterOld.lastArrivalMs).toEqual({});
    expect(core.lastSerials()).toEqual({});
    // An arrival stamped at the moment it came back is from before it: still nothing.
    const atSwitch = { network: read(beat('production', 'primary', NOW + 1_900), NOW + 2_000), storage: nothing };
    expect(core.check(atSwitch, c, NOW + 3_100, NOW + 3_100).lastArrivalMs).toEqual({});
    const next = { network: read(beat('production', 'primary', NOW + 2_400), NOW + 2_500), storage: nothing };
    expect(core.check(next, c, NOW + 3_200, NOW + 3_200)).toMatchObject({
      arrived: { network: true },
      lastArrivalMs: { network: NOW + 2_500 },
    });
    expect(core.lastSerials()).toEqual({ network: NOW + 2_400 });
  });

  it('a read of the same arrival again is no new arrival and does not replace the beat it counted', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    const c = core.clusterRead(record, NOW);
    core.check({ network: read(beat('production', 'primary', NOW - 500), NOW), storage: nothing }, c, NOW, NOW);
    const same = { network: read(beat('production', 'primary', NOW - 400), NOW), storage: nothing };
    expect(core.check(same, c, NOW + 1_000, NOW + 1_000).arrived.network).toBe(false);
    expect(core.lastSerials()).toEqual({ network: NOW - 500 });
  });
});

describe('a promotion’s wait for the old primary’s lease', () => {
  const promoted: ClusterRecord = { epoch: 2, primary: 'standby', lease: 1, actAfterMs: 10_000 };
  const promotedCore = (network: Heartbeat | undefined, storage: Heartbeat | undefined) => {
    const core = new SiteCore(tuning, 'standby', 'production');
    const c = core.clusterRead(promoted, NOW);
    core.renewal('renewed', 2, NOW);
    const reads = {
      network: network === undefined ? nothing : read(network, NOW + 100),
      storage: storage === undefined ? nothing : read(storage, NOW + 100),
    };
    core.check(reads, c, NOW + 200, NOW + 200);
    return core;
  };
  const oldPrimary = beat('production', 'primary', NOW - 1_000, 1);

  it('ends at once when a live beat of the old primary says it is secondary at the new epoch, on any enabled path', () => {
    const core = promotedCore(beat('production', 'secondary', NOW, 2), oldPrimary);
    expect(core.role(promoted, NOW + 1_000, NOW + 1_000).role).toBe('primary');
  });

  it('stands for a step-down at an older epoch, a claim of primary, or a beat on a path switched off', () => {
    expect(
      promotedCore(beat('production', 'secondary', NOW, 1), undefined).role(promoted, NOW + 1_000, NOW + 1_000),
    ).toMatchObject({ role: 'secondary', why: expect.stringMatching(/^promoted at epoch 2: waiting 10 s/) });
    expect(promotedCore(undefined, oldPrimary).role(promoted, NOW + 1_000, NOW + 1_000).role).toBe('secondary');
    const off = promotedCore(beat('production', 'secondary', NOW, 2), undefined);
    off.setMode('network', 'disabled', NOW + 500);
    expect(off.role(promoted, NOW + 1_000, NOW + 1_000).role).toBe('secondary');
  });
});

describe('how often a failover is tried', () => {
  const failover = { ...tuning, onPeerFailure: 'failover' as const };
  const reads = (at: number, health: Heartbeat['health']) => ({
    network: read(beat('production', 'primary', at, 1, health), at + 100),
    storage: read(beat('production', 'primary', at, 1, health), at + 300),
  });

  it('once per retry window in an episode; a new episode, or a new epoch, may try again at once', () => {
    const core = new SiteCore(failover, 'standby', 'production');
    const tick = (ms: number, health: Heartbeat['health'], r: ClusterRecord = record) =>
      core.check(reads(NOW + ms - 500, health), core.clusterRead(r, NOW + ms), NOW + ms, NOW + ms);
    expect(tick(0, 'failed')).toMatchObject({
      verdict: 'peer-failure-reported',
      takeover: { start: true, reason: 'peer-failure-reported', gated: false },
    });
    core.failoverStarted(1, NOW);
    expect(tick(2_000, 'failed').takeover).toEqual({ start: false });
    expect(tick(4_000, 'ok')).toMatchObject({ verdict: 'ok', takeover: { start: false } });
    expect(tick(4_000, 'ok').takeover).toEqual({ start: false });
    expect(tick(6_000, 'failed').takeover).toMatchObject({ start: true });
    core.failoverStarted(1, NOW + 6_000);
    expect(tick(7_000, 'failed').takeover).toEqual({ start: false });
    expect(tick(8_000, 'failed', { ...record, epoch: 2 }).takeover).toMatchObject({ start: true });
  });

  it('under maintenance, not at all: the failover is held, with the reason', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    core.maintenance = { on: true, reason: 'CHG-7', by: 'ana', sinceMs: NOW };
    core.check(silent, core.clusterRead(record, NOW), NOW, NOW);
    expect(core.check(silent, core.clusterRead(record, NOW + 60_000), NOW + 60_000, NOW + 60_000)).toMatchObject({
      verdict: 'peer-lost',
      takeover: { start: false, hold: expect.stringMatching(/CHG-7.*: automatic failover is held$/) },
    });
  });

  it('two-region mode: a standby that has not been heard since the last promotion leaves the takeover to a person; quorum mode needs no such rule', () => {
    const promotedOnce: ClusterRecord = { epoch: 2, primary: 'production', lease: 3 };
    const at = (core: SiteCore, ms: number) =>
      core.check(silent, core.clusterRead(promotedOnce, NOW + ms), NOW + ms, NOW + ms);
    const eventual = new SiteCore({ ...tuning, consistency: 'eventual' }, 'standby', 'production');
    at(eventual, 0);
    expect(at(eventual, 60_000)).toMatchObject({
      verdict: 'peer-lost',
      takeover: {
        start: false,
        hold: expect.stringMatching(
          /^two-region mode: standby has not heard production since its promotion to epoch 2/,
        ),
      },
    });
    const strong = new SiteCore(tuning, 'standby', 'production');
    at(strong, 0);
    expect(at(strong, 60_000).takeover).toMatchObject({ start: true, reason: 'peer-lost', expectedLease: 3 });
  });

  it('two-region mode, first deployment: a standby whose beats production never acknowledged leaves the takeover to a person (production acts as at a first deployment and never fences itself)', () => {
    const first: ClusterRecord = { epoch: 1, primary: 'production', lease: 3 };
    const eventual = { ...tuning, consistency: 'eventual' as const };
    const tickAt = (core: SiteCore, ms: number, r: Readonly<Record<'network' | 'storage', PeerRead>> = silent) =>
      core.check(r, core.clusterRead(first, NOW + ms), NOW + ms, NOW + ms);
    // Production's beats reached the standby, but never acknowledged one of the standby's: cut from the start.
    const unheard = new SiteCore(eventual, 'standby', 'production');
    const unacking = beat('production', 'primary', NOW - 100);
    tickAt(unheard, 0, { network: read(unacking, NOW - 100), storage: read(unacking, NOW - 100) });
    tickAt(unheard, 30_000);
    expect(tickAt(unheard, 60_000)).toMatchObject({
      verdict: 'peer-lost',
      takeover: {
        start: false,
        hold: expect.stringMatching(/^two-region mode: production has never acknowledged a beat of standby;/),
      },
    });
    // Once production acknowledged a beat of the standby, it fences itself when cut off: the takeover is the standby's.
    const heard = new SiteCore(eventual, 'standby', 'production');
    const acking = { ...beat('production', 'primary', NOW - 100), ack: 5 };
    tickAt(heard, 0, { network: read(acking, NOW - 100), storage: read(acking, NOW - 100) });
    tickAt(heard, 30_000);
    expect(tickAt(heard, 60_000).takeover).toMatchObject({ start: true, reason: 'peer-lost' });
  });
});

describe('two-region self-fence: a peer beat at a higher epoch than this site’s replica (the two-region SPIN model’s counterexamples)', () => {
  const withAck = (b: Heartbeat, ack: number): Heartbeat => ({ ...b, ack });

  it('a new container whose stale replica names it primary does not act on it: the peer’s beat, though secondary, is ahead', () => {
    // The standby took over at epoch 2 and waits out the old primary's lease, beating as secondary at epoch 2;
    // production's replica (storage cut) still says epoch 1, and production's container was recycled.
    const core = new SiteCore(twoRegion, 'production', 'standby');
    const stale = core.clusterRead({ epoch: 1, primary: 'production', lease: 40 }, NOW);
    core.renewal('renewed', 1, NOW);
    const waiting = withAck(beat('standby', 'secondary', NOW - 300, 2), NOW - 2_000);
    core.heard({ network: read(waiting, NOW - 200), storage: nothing }, stale);
    expect(core.role(stale, NOW, NOW)).toMatchObject({ role: 'secondary' });
    expect(core.shouldRenew(core.clusterRead(stale, NOW + 100))).toBe(false);
  });

  it('nor does a promoted site whose wait a step-down would end, when the step-down is at an epoch above its own', () => {
    // Epoch 2 named the standby (a person's failover); production took over at epoch 3 while the standby was down,
    // and its record did not replicate. The standby's new container reads production waiting at epoch 3.
    const core = new SiteCore(twoRegion, 'standby', 'production');
    const stale = core.clusterRead({ epoch: 2, primary: 'standby', lease: 5, actAfterMs: 13_000 }, NOW);
    core.renewal('renewed', 2, NOW);
    const ahead = withAck(beat('production', 'secondary', NOW - 300, 3), NOW - 1_000);
    const reads = { network: read(ahead, NOW - 200), storage: nothing };
    core.heard(reads, stale);
    expect(core.role(stale, NOW, NOW).role).toBe('secondary');
    core.check(reads, core.clusterRead({ epoch: 2, primary: 'standby', lease: 5, actAfterMs: 13_000 }, NOW), NOW, NOW);
    expect(core.role(stale, NOW + 2_000, NOW + 2_000).role).toBe('secondary');
  });

  it('a secondary beat ahead of a replica naming the peer fences nothing: this site may be the one promoted there', () => {
    const core = new SiteCore(twoRegion, 'standby', 'production');
    const cached = core.clusterRead({ epoch: 1, primary: 'production', lease: 3 }, NOW);
    const demoted = { network: read(beat('production', 'secondary', NOW, 2), NOW + 100), storage: nothing };
    expect(core.heard(demoted, cached)).toBeUndefined();
    expect(core.clusterRead(cached, NOW + 300)).toBe(cached);
    // A beat claiming primary there does fence: the record in force moves to its epoch (no takeover at the old one).
    const promotedAgain = {
      network: read(beat('production', 'primary', NOW + 2_000, 3), NOW + 2_100),
      storage: nothing,
    };
    expect(core.heard(promotedAgain, cached)).toEqual({ epoch: 3, via: 'network' });
    expect(core.clusterRead(cached, NOW + 2_300)).toEqual({ epoch: 3, primary: 'production' });
  });
});
