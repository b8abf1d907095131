import {
  expiredHandoverOf,
  gateOpensAtMono,
  handoverExpiryMs,
  handoverSeen,
  type LeaseState,
  leaseTuningOf,
  promotionSeen,
  renewed,
  roleOf,
  silentForMs,
  takeover,
  type TakeoverView,
  watched,
} from '../../../lambdas/core/lease';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import { standbySettings } from '../../helpers';

/**
 * The lease's decisions at their edges, one function at a time (the mutation run of 2026-12-07 found each of these
 * reached by no test of its own): who acts, why it says it does not, when a takeover starts, when a handover request
 * expires. A 7 s lease, a 2 s interval (one decision stands 2 s), a 1 s drift margin.
 */
const base = standbySettings().tuning;
const quorum = leaseTuningOf({ ...base, consistency: 'strong', leaseSeconds: 7 });
const twoRegion = leaseTuningOf({ ...base, consistency: 'eventual', isolationPolicy: 'self-fence', leaseSeconds: 7 });
const NOW = 5_000_000;
const view = (record: ClusterRecord, nowMono: number, site: 'production' | 'standby' = 'production') => ({
  site,
  peer: site === 'production' ? ('standby' as const) : ('production' as const),
  record,
  nowMono,
  ackedSentMono: undefined,
  peerSeen: false,
  peerSteppedDown: false,
});

describe('roleOf: who acts, and why not', () => {
  const record: ClusterRecord = { epoch: 3, primary: 'production', lease: 9 };

  it('a record naming the peer wins over a lease this site renewed at that epoch', () => {
    const state = renewed({}, 3, NOW);
    expect(roleOf(state, quorum, view({ ...record, primary: 'standby' }, NOW))).toEqual({
      role: 'secondary',
      why: 'the cluster record names standby primary at epoch 3',
    });
    expect(roleOf(state, quorum, view(record, NOW)).role).toBe('primary');
  });

  it('a primary asked to hand over to its peer stops acting although it holds the lease', () => {
    const state = renewed({}, 3, NOW);
    const handover = { to: 'standby' as const, execution: 'x', requestedAtMs: 0 };
    expect(roleOf(state, quorum, view({ ...record, handover }, NOW))).toEqual({
      role: 'secondary',
      why: 'switchover: handing over to standby',
    });
  });

  it('holds the lease while it outlasts the decision, and says which lease it lost, in each mode', () => {
    const state = renewed({}, 3, NOW);
    // Renewed at NOW: a decision at 4,999 ms stands until 6,999 ms, inside the 7 s lease; one at 5,000 ms does not.
    expect(roleOf(state, quorum, view(record, NOW + 4_999)).role).toBe('primary');
    expect(roleOf(state, quorum, view(record, NOW + 5_000))).toEqual({
      role: 'secondary',
      why: 'the lease was not renewed for leaseSeconds (7 s): this region does not reach a majority of production, standby and witness',
    });
    expect(roleOf(state, twoRegion, { ...view(record, NOW + 5_000), peerSeen: true }).why).toBe(
      'the lease was not renewed for leaseSeconds (7 s): the heartbeat volume did not take the renewal',
    );
    // A renewal at another epoch is no lease at this one.
    for (const other of [{}, renewed({}, 2, NOW)])
      expect(roleOf(other, quorum, view(record, NOW))).toEqual({
        role: 'secondary',
        why: 'not yet renewed the lease in this container',
      });
  });

  it('two-region self-fence: a primary whose beats the peer stopped acknowledging stops acting, and says for how long', () => {
    const state = renewed({}, 3, NOW);
    const v = { ...view(record, NOW + 1_000), peerSeen: true };
    expect(roleOf(state, twoRegion, v)).toEqual({
      role: 'secondary',
      why: 'isolated: standby has acknowledged no beat this site sent in the last leaseSeconds (7 s) on any path; isolationPolicy is self-fence',
    });
    // Acknowledged a beat sent 3 s ago: the decision stands until 5 s after it, inside the lease.
    expect(roleOf(state, twoRegion, { ...v, ackedSentMono: NOW - 2_000 }).role).toBe('primary');
    // Acknowledged one sent 5 s ago: 5 s + the 2 s a decision stands reach the lease.
    expect(roleOf(state, twoRegion, { ...v, ackedSentMono: NOW - 4_000 }).role).toBe('secondary');
    // The quorum lease is the majority's, not the peer's acknowledgement.
    expect(roleOf(state, quorum, v).role).toBe('primary');
  });

  it('a promoted site waits out the old primary’s lease, unless that primary’s live beats say it stepped down', () => {
    const promoted: ClusterRecord = { epoch: 4, primary: 'standby', lease: 1, actAfterMs: 10_000 };
    const state = renewed(promotionSeen({}, promoted, 'standby', NOW), 4, NOW + 8_000);
    expect(roleOf(state, quorum, view(promoted, NOW + 9_000, 'standby'))).toEqual({
      role: 'secondary',
      why: "promoted at epoch 4: waiting 10 s for production's lease to run out",
    });
    expect(roleOf(state, quorum, { ...view(promoted, NOW + 9_000, 'standby'), peerSteppedDown: true }).role).toBe(
      'primary',
    );
    expect(roleOf(state, quorum, view(promoted, NOW + 10_000, 'standby')).role).toBe('primary');
  });
});

describe('takeover: when the standby starts a failover', () => {
  const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 4 };
  const watching = watched({}, record, NOW);
  const lost = (nowMono: number, more: Partial<TakeoverView> = {}): TakeoverView => ({
    site: 'standby',
    record,
    nowMono,
    trigger: 'peer-lost',
    onPeerFailure: 'notify',
    fencedByBeat: false,
    recordRead: true,
    ...more,
  });

  it('once the renewal stood still a lease and the drift margin, naming the renewal it saw; and says how long it waits', () => {
    expect(takeover(watching, quorum, lost(NOW + 8_000))).toEqual({
      start: true,
      reason: 'peer-lost',
      gated: true,
      expectedLease: 4,
    });
    expect(takeover(watching, quorum, lost(NOW + 6_000))).toEqual({
      start: false,
      hold: 'the peer is unreachable on both paths but still holds the lease (renewed 6 s ago as this site sees the cluster record); no failover while it does',
    });
    expect(takeover(watching, twoRegion, lost(NOW + 6_000))).toEqual({
      start: false,
      hold: "waiting for the peer's lease to run out (no renewal seen for 6 s of 8 s)",
    });
  });

  it('never for the site the record names, without a trigger, or once the peer’s beat fenced this site', () => {
    expect(takeover(watching, quorum, lost(NOW + 60_000, { site: 'production' }))).toEqual({ start: false });
    expect(takeover(watching, quorum, lost(NOW + 60_000, { trigger: undefined }))).toEqual({ start: false });
    expect(takeover(watching, quorum, lost(NOW + 60_000, { fencedByBeat: true }))).toEqual({ start: false });
  });

  it('a reported workload failure needs no gate under onPeerFailure failover, and starts nothing under notify', () => {
    const failed = { trigger: 'peer-failure-reported' as const };
    expect(takeover(watching, quorum, lost(NOW, { ...failed, onPeerFailure: 'failover' }))).toEqual({
      start: true,
      reason: 'peer-failure-reported',
      gated: false,
    });
    expect(takeover(watching, quorum, lost(NOW + 60_000, { ...failed, onPeerFailure: 'notify' }))).toEqual({
      start: false,
    });
  });

  it('a site that cannot read the record does not take over, however long it watched', () => {
    expect(takeover(watching, quorum, lost(NOW + 60_000, { recordRead: false }))).toEqual({
      start: false,
      hold: expect.stringMatching(/^this site cannot read the cluster record/),
    });
  });
});

describe('the watch of the renewal', () => {
  const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 4 };
  const state = watched({}, record, NOW);

  it('starts again on a record at another epoch, though its renewal count is the same; stands on the same one', () => {
    expect(watched(state, record, NOW + 5_000)).toBe(state);
    expect(watched(state, { ...record, epoch: 2 }, NOW + 5_000).watch).toEqual({
      epoch: 2,
      lease: 4,
      sinceMono: NOW + 5_000,
    });
  });

  it('counts no silence and names no gate for a record it has not watched', () => {
    expect(silentForMs({}, record, NOW + 9_000)).toBe(0);
    expect(silentForMs(state, record, NOW + 9_000)).toBe(9_000);
    expect(silentForMs(state, { ...record, epoch: 2 }, NOW + 9_000)).toBe(0);
    expect(silentForMs(state, { ...record, lease: 5 }, NOW + 9_000)).toBe(0);
    expect(gateOpensAtMono({}, quorum, record)).toBeUndefined();
    expect(gateOpensAtMono(state, quorum, { ...record, epoch: 2 })).toBeUndefined();
    expect(gateOpensAtMono(state, quorum, { ...record, lease: 5 })).toBeUndefined();
    expect(gateOpensAtMono(state, quorum, record)).toBe(NOW + 8_000);
  });
});

describe('a handover request: seen, and expired', () => {
  const handover = { to: 'standby' as const, execution: 'switch-1', requestedAtMs: 0 };
  const asking: ClusterRecord = { epoch: 2, primary: 'production', lease: 3, handover };

  it('is remembered from its first sighting by the primary it asks, and by no other site', () => {
    const seen = handoverSeen({}, asking, 'production', NOW);
    expect(seen.handover).toEqual({ execution: 'switch-1', seenAtMono: NOW });
    expect(handoverSeen(seen, asking, 'production', NOW + 4_000)).toBe(seen);
    expect(handoverSeen({}, asking, 'standby', NOW).handover).toBeUndefined();
  });

  it('is forgotten once the record no longer asks, and nothing else is', () => {
    const seen = handoverSeen(renewed({}, 2, NOW), asking, 'production', NOW);
    const cleared = handoverSeen(seen, { ...asking, handover: undefined }, 'production', NOW + 1_000);
    expect(cleared).toEqual({ renewal: { epoch: 2, startedAtMono: NOW } });
    const untouched: LeaseState = renewed({}, 2, NOW);
    expect(handoverSeen(untouched, { ...asking, handover: undefined }, 'production', NOW)).toBe(untouched);
  });

  it('expires two leases after its first sighting in quorum mode, and after the switchover’s patience and two leases in two-region mode', () => {
    const seen = handoverSeen({}, asking, 'production', NOW);
    expect(expiredHandoverOf(seen, quorum, base, 'production', asking, NOW + 13_999)).toBeUndefined();
    expect(expiredHandoverOf(seen, quorum, base, 'production', asking, NOW + 14_000)).toBe(handover);
    const patience = (3 * base.intervalSeconds + 2 * base.rpoBudgetSeconds) * 1000;
    expect(handoverExpiryMs(twoRegion, base)).toBe(patience + 14_000);
  });

  it('never for a record that names the peer, asks nothing, or asks another switchover than the one seen', () => {
    const seen = handoverSeen({}, asking, 'production', NOW);
    const late = NOW + 60_000;
    expect(
      expiredHandoverOf(seen, quorum, base, 'production', { ...asking, primary: 'standby' }, late),
    ).toBeUndefined();
    expect(
      expiredHandoverOf(seen, quorum, base, 'production', { ...asking, handover: undefined }, late),
    ).toBeUndefined();
    expect(expiredHandoverOf({}, quorum, base, 'production', asking, late)).toBeUndefined();
    const other = { ...asking, handover: { ...handover, execution: 'switch-2' } };
    expect(expiredHandoverOf(seen, quorum, base, 'production', other, late)).toBeUndefined();
  });
});
