import {
  driftMarginMs,
  expiredHandoverOf,
  gateOpen,
  gateOpensAtMono,
  handoverExpiryMs,
  handoverSeen,
  holdsLease,
  leaseTuningOf,
  promotionWaitMs,
  renewed,
  roleOf,
  silentForMs,
  takeover,
  watched,
} from '../../../lambdas/core/lease';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import { standbySettings } from '../../helpers';

/**
 * The lease's timings at their edges, one millisecond either side. Each bound is a safety margin:
 * a test that only looks far from the edge lets the margin go (StrykerJS's mutants showed it).
 */
const base = standbySettings().tuning;
const quorum = leaseTuningOf({ ...base, consistency: 'strong' });
const twoRegion = leaseTuningOf({ ...base, consistency: 'eventual', isolationPolicy: 'self-fence' });
const record: ClusterRecord = { epoch: 3, primary: 'production', lease: 9 };
const T0 = 500_000;

describe('the drift margin', () => {
  it('is 5 % of the lease, and never under a second', () => {
    expect(driftMarginMs(10_000)).toBe(1_000);
    expect(driftMarginMs(19_999)).toBe(1_000);
    expect(driftMarginMs(30_000)).toBe(1_500);
    expect(driftMarginMs(30_001)).toBe(1_501);
    expect(quorum.driftMarginMs).toBe(driftMarginMs(base.leaseSeconds * 1000));
    expect(quorum.holdMs).toBe(base.intervalSeconds * 1000);
  });
});

describe('the gate that opens a failover', () => {
  const state = watched({}, record, T0);
  const wait = quorum.leaseMs + quorum.driftMarginMs;

  it('stays shut until a lease and the drift margin have passed with the renewal standing still, and opens then', () => {
    expect(quorum.driftMarginMs).toBeGreaterThan(0);
    expect(gateOpen(state, quorum, record, T0 + quorum.leaseMs)).toBe(false);
    expect(gateOpen(state, quorum, record, T0 + wait - 1)).toBe(false);
    expect(gateOpen(state, quorum, record, T0 + wait)).toBe(true);
    expect(gateOpensAtMono(state, quorum, record)).toBe(T0 + wait);
    expect(silentForMs(state, record, T0 + 1234)).toBe(1234);
  });

  it('the takeover waits for the same gate and names the renewal it saw stand still', () => {
    const view = {
      site: 'standby' as const,
      record,
      trigger: 'peer-lost' as const,
      onPeerFailure: 'notify' as const,
      fencedByBeat: false,
      recordRead: true,
    };
    expect(takeover(state, quorum, { ...view, nowMono: T0 + wait - 1 })).toMatchObject({ start: false });
    expect(takeover(state, quorum, { ...view, nowMono: T0 + wait })).toEqual({
      start: true,
      reason: 'peer-lost',
      gated: true,
      expectedLease: 9,
    });
    expect(
      takeover(state, quorum, { ...view, record: { epoch: 3, primary: 'production' }, nowMono: T0 + wait }),
    ).toMatchObject({ start: false });
    expect(takeover(state, quorum, { ...view, recordRead: false, nowMono: T0 + wait })).toMatchObject({ start: false });
    expect(takeover(state, quorum, { ...view, fencedByBeat: true, nowMono: T0 + wait })).toEqual({ start: false });
  });

  it('starts over at a renewal or an epoch it has not seen', () => {
    const later = T0 + wait;
    expect(silentForMs(state, { ...record, lease: 10 }, later)).toBe(0);
    expect(silentForMs(state, { ...record, epoch: 4 }, later)).toBe(0);
    expect(gateOpensAtMono(state, quorum, { ...record, lease: 10 })).toBeUndefined();
    expect(gateOpensAtMono({}, quorum, record)).toBeUndefined();
    expect(watched(state, { ...record, lease: 10 }, later).watch).toEqual({ epoch: 3, lease: 10, sinceMono: later });
    expect(watched(state, record, later)).toBe(state);
    // A record with no renewal yet counts as renewal 0.
    const fresh = watched({}, { epoch: 1, primary: 'production' }, T0);
    expect(fresh.watch).toEqual({ epoch: 1, lease: 0, sinceMono: T0 });
    expect(gateOpen(fresh, quorum, { epoch: 1, primary: 'production', lease: 0 }, T0 + wait)).toBe(true);
  });
});

describe("the primary's lease", () => {
  const held = renewed({}, 3, T0);
  it('holds while the renewal, plus the decision it covers, is younger than a lease', () => {
    const edge = T0 + quorum.leaseMs - quorum.holdMs;
    expect(holdsLease(held, quorum, 3, edge - 1)).toBe(true);
    expect(holdsLease(held, quorum, 3, edge)).toBe(false);
    expect(holdsLease(held, quorum, 4, T0)).toBe(false);
    expect(holdsLease({}, quorum, 3, T0)).toBe(false);
  });

  it('keeps the later of two renewals at one epoch', () => {
    expect(renewed(held, 3, T0 - 1)).toBe(held);
    expect(renewed(held, 3, T0)).toBe(held);
    expect(renewed(held, 3, T0 + 1).renewal).toEqual({ epoch: 3, startedAtMono: T0 + 1 });
    expect(renewed(held, 4, T0 - 5).renewal).toEqual({ epoch: 4, startedAtMono: T0 - 5 });
  });

  it('a promoted site waits a lease and the margin unless the old primary handed over or (quorum) its lease was seen to run out', () => {
    const full = quorum.leaseMs + quorum.driftMarginMs;
    expect(promotionWaitMs(quorum, { handedOver: false, gated: false })).toBe(full);
    expect(promotionWaitMs(quorum, { handedOver: true, gated: false })).toBe(0);
    expect(promotionWaitMs(quorum, { handedOver: false, gated: true })).toBe(0);
    expect(promotionWaitMs(twoRegion, { handedOver: false, gated: true })).toBe(full);
    expect(promotionWaitMs(twoRegion, { handedOver: true, gated: false })).toBe(0);
  });

  it('a promoted site acts only once its wait has passed since it first read the promotion', () => {
    const promoted: ClusterRecord = { epoch: 4, primary: 'standby', lease: 1, actAfterMs: 12_000 };
    // Renewed just now each time: only the promotion's wait decides.
    const state = { ...renewed({}, 4, T0 + 11_000), promotion: { epoch: 4, seenAtMono: T0 } };
    const view = {
      site: 'standby' as const,
      peer: 'production' as const,
      record: promoted,
      ackedSentMono: undefined,
      peerSeen: false,
      peerSteppedDown: false,
    };
    expect(roleOf(state, quorum, { ...view, nowMono: T0 + 11_999 }).role).toBe('secondary');
    expect(roleOf(state, quorum, { ...view, nowMono: T0 + 11_999, peerSteppedDown: true }).role).toBe('primary');
    expect(roleOf(state, quorum, { ...view, nowMono: T0 + 12_000 }).role).toBe('primary');
    // A site that has not read the promotion before times the wait from now.
    expect(roleOf(renewed({}, 4, T0 + 11_000), quorum, { ...view, nowMono: T0 + 12_000 }).role).toBe('secondary');
  });
});

describe('the two-region self-fence', () => {
  const held = renewed({}, 3, T0);
  const view = {
    site: 'production' as const,
    peer: 'standby' as const,
    record: { epoch: 3, primary: 'production' as const, lease: 9 },
    peerSeen: true,
    peerSteppedDown: false,
  };
  it('acts while the newest acknowledged beat was sent less than a lease ago, decision included', () => {
    const now = T0 + 1_000;
    const edge = now - twoRegion.leaseMs + twoRegion.holdMs;
    expect(roleOf(held, twoRegion, { ...view, nowMono: now, ackedSentMono: edge + 1 }).role).toBe('primary');
    expect(roleOf(held, twoRegion, { ...view, nowMono: now, ackedSentMono: edge }).role).toBe('secondary');
    expect(roleOf(held, twoRegion, { ...view, nowMono: now, ackedSentMono: undefined }).role).toBe('secondary');
    // A peer that never heard this site at the epoch leaves it acting; stay-primary and quorum never self-fence.
    expect(roleOf(held, twoRegion, { ...view, nowMono: now, ackedSentMono: undefined, peerSeen: false }).role).toBe(
      'primary',
    );
    const stay = { ...twoRegion, isolationPolicy: 'stay-primary' as const };
    expect(roleOf(held, stay, { ...view, nowMono: now, ackedSentMono: undefined }).role).toBe('primary');
    expect(roleOf(held, quorum, { ...view, nowMono: now, ackedSentMono: undefined }).role).toBe('primary');
  });
});

describe('a handover request', () => {
  const asked: ClusterRecord = {
    epoch: 3,
    primary: 'production',
    handover: { to: 'standby', execution: 'sw-1', requestedAtMs: 1 },
  };
  const tuning = { intervalSeconds: 5, rpoBudgetSeconds: 10 };
  it('expires two leases after the primary first read it (quorum), and the drain limit later in two-region mode', () => {
    expect(handoverExpiryMs(quorum, tuning)).toBe(2 * quorum.leaseMs);
    expect(handoverExpiryMs(twoRegion, tuning)).toBe((3 * 5 + 2 * 10) * 1000 + 2 * twoRegion.leaseMs);
    const state = handoverSeen({}, asked, 'production', T0);
    const expiry = handoverExpiryMs(quorum, tuning);
    expect(expiredHandoverOf(state, quorum, tuning, 'production', asked, T0 + expiry - 1)).toBeUndefined();
    expect(expiredHandoverOf(state, quorum, tuning, 'production', asked, T0 + expiry)).toEqual(asked.handover);
    // Seen again, it keeps its first sighting; another execution's request starts its own.
    expect(handoverSeen(state, asked, 'production', T0 + 5)).toBe(state);
    const other = { ...asked, handover: { ...asked.handover!, execution: 'sw-2' } };
    expect(expiredHandoverOf(state, quorum, tuning, 'production', other, T0 + expiry)).toBeUndefined();
    expect(handoverSeen(state, { epoch: 3, primary: 'production' }, 'production', T0).handover).toBeUndefined();
  });
});
