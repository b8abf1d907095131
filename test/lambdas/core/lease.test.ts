import {
  FRESH_CLOCK,
  gateOpen,
  leaseTuningOf,
  newInvocation,
  promotionSeen,
  readClock,
  renewed,
  roleOf,
  silentForMs,
  takeover,
  watchCarried,
  watched,
  watchToCarry,
} from '../../../lambdas/core/lease';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import { standbySettings } from '../../helpers';

/** The lease's decisions one at a time, where maintenance mode changes them (and where it must not). */
const NOW = 1_000_000;
const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 4 };
const base = standbySettings().tuning;

describe('maintenance mode in the lease', () => {
  it('holds a failover the trigger asks for, with the reason, in either mode', () => {
    for (const consistency of ['strong', 'eventual'] as const) {
      const t = leaseTuningOf({ ...base, consistency, isolationPolicy: 'self-fence' });
      // The standby has watched the count stand still for far longer than a lease.
      const state = watched({}, record, NOW);
      const view = {
        site: 'standby' as const,
        record,
        nowMono: NOW + 60_000,
        trigger: 'peer-lost' as const,
        onPeerFailure: 'notify' as const,
        fencedByBeat: false,
        recordRead: true,
      };
      expect(takeover(state, t, view)).toMatchObject({ start: true });
      expect(takeover(state, t, { ...view, maintenance: 'maintenance mode since … by ana (CHG-1)' })).toEqual({
        start: false,
        hold: 'maintenance mode since … by ana (CHG-1): automatic failover is held',
      });
    }
  });

  it('keeps a two-region self-fence primary acting for a silent standby, and leaves the quorum lease alone', () => {
    const view = {
      site: 'production' as const,
      peer: 'standby' as const,
      record,
      nowMono: NOW + 1_000,
      // The newest beat the standby acknowledged was sent a minute ago.
      ackedSentMono: NOW + 1_000 - 60_000,
      peerSeen: true,
      peerSteppedDown: false,
    };
    const twoRegion = leaseTuningOf({ ...base, consistency: 'eventual', isolationPolicy: 'self-fence' });
    const held = renewed({}, 1, NOW);
    expect(roleOf(held, twoRegion, view)).toMatchObject({ role: 'secondary', why: expect.stringMatching(/isolated/) });
    expect(roleOf(held, twoRegion, { ...view, maintenance: true }).role).toBe('primary');
    // Quorum mode: no renewal through a majority for a lease, no role, maintenance or not.
    const quorum = leaseTuningOf(base);
    expect(roleOf(held, quorum, { ...view, nowMono: NOW + 60_000, maintenance: true }).role).toBe('secondary');
  });
});

describe("the standby's watch carried to its next container (issue 31, 10)", () => {
  const t = leaseTuningOf(base);
  const gateMs = t.leaseMs + t.driftMarginMs;

  it('leaves what it watched and for how long by its own clock; nothing when it watches nothing', () => {
    expect(watchToCarry({}, NOW)).toBeUndefined();
    expect(watchToCarry(watched({}, record, NOW), NOW + 4_321)).toEqual({ epoch: 1, lease: 4, silentMs: 4_321 });
  });

  it('a new container counts the silence the last ticker saw, on its own clock: the gate opens no later than it would have', () => {
    const old = watched({}, record, NOW);
    const carried = watchToCarry(old, NOW + 5_000);
    // Another container, its monotonic clock anywhere: the first record read takes the carried watch.
    const OTHER = 42;
    const fresh = watched(watchCarried({}, carried, OTHER), record, OTHER);
    expect(silentForMs(fresh, record, OTHER)).toBe(5_000);
    expect(gateOpen(fresh, t, record, OTHER + gateMs - 5_000 - 1)).toBe(false);
    expect(gateOpen(fresh, t, record, OTHER + gateMs - 5_000)).toBe(true);
    // Without it the watch starts again at the first read.
    expect(gateOpen(watched({}, record, OTHER), t, record, OTHER + gateMs - 5_000)).toBe(false);
  });

  it('a renewal the record shows and the carried watch did not see starts the watch again', () => {
    const carried = watchToCarry(watched({}, record, NOW), NOW + 6_000);
    const renewedRecord = { ...record, lease: 5 };
    const fresh = watched(watchCarried({}, carried, NOW), renewedRecord, NOW);
    expect(silentForMs(fresh, renewedRecord, NOW + 1_000)).toBe(1_000);
    const promoted = { epoch: 2, primary: 'standby' as const, lease: 1 };
    expect(silentForMs(watched(watchCarried({}, carried, NOW), promoted, NOW), promoted, NOW)).toBe(0);
  });

  it('of two watches of the same renewal the longer stands; a newer renewal replaces an older one, an older never a newer', () => {
    const own = watched({}, record, NOW - 2_000);
    expect(watchCarried(own, { epoch: 1, lease: 4, silentMs: 9_000 }, NOW).watch).toEqual({
      epoch: 1,
      lease: 4,
      sinceMono: NOW - 9_000,
    });
    expect(watchCarried(own, { epoch: 1, lease: 4, silentMs: 500 }, NOW)).toBe(own);
    expect(watchCarried(own, { epoch: 1, lease: 3, silentMs: 60_000 }, NOW)).toBe(own);
    expect(watchCarried(own, { epoch: 0, lease: 9, silentMs: 60_000 }, NOW)).toBe(own);
    // The same count at an older epoch is another renewal, however long it stood; one as long as its own changes
    // nothing.
    expect(watchCarried(own, { epoch: 0, lease: 4, silentMs: 60_000 }, NOW)).toBe(own);
    expect(watchCarried(own, { epoch: 1, lease: 4, silentMs: 2_000 }, NOW)).toBe(own);
    expect(watchCarried(own, { epoch: 1, lease: 5, silentMs: 100 }, NOW).watch).toEqual({
      epoch: 1,
      lease: 5,
      sinceMono: NOW - 100,
    });
    expect(watchCarried(own, { epoch: 2, lease: 0, silentMs: 100 }, NOW).watch).toEqual({
      epoch: 2,
      lease: 0,
      sinceMono: NOW - 100,
    });
    expect(watchCarried(own, undefined, NOW)).toBe(own);
  });

  it('a new invocation of the same container keeps its watch and forgets its renewal', () => {
    const state = renewed(watched({}, record, NOW), 1, NOW);
    expect(newInvocation(state)).toEqual({ watch: state.watch });
  });
});

describe('the site’s corrected clock (readClock)', () => {
  const BOUND = 1_000;
  const WALL = Date.parse('2026-12-07T12:00:00.000Z');

  it('reads the wall clock as it is while it keeps pace with the monotonic clock, within the bound', () => {
    const first = readClock(FRESH_CLOCK, WALL, 50, BOUND);
    expect(first).toEqual({ state: { last: { wall: WALL, mono: 50 }, correctionMs: 0 }, nowMs: WALL });
    const paced = readClock(first.state, WALL + 2_000, 2_050, BOUND);
    expect(paced).toEqual({
      state: { last: { wall: WALL + 2_000, mono: 2_050 }, correctionMs: 0 },
      nowMs: WALL + 2_000,
    });
    // Drift of exactly the bound either way is drift, not a jump.
    expect(readClock(first.state, WALL + 2_000 + BOUND, 2_050, BOUND)).toMatchObject({ nowMs: WALL + 2_000 + BOUND });
    expect(readClock(first.state, WALL + 2_000 - BOUND, 2_050, BOUND)).not.toHaveProperty('jumpMs');
  });

  it('takes a step of the wall clock beyond the bound out, forward or back, and says how large it was', () => {
    const first = readClock(FRESH_CLOCK, WALL, 50, BOUND);
    const ahead = readClock(first.state, WALL + 2_000 + BOUND + 1, 2_050, BOUND);
    expect(ahead).toEqual({
      state: { last: { wall: WALL + 2_000, mono: 2_050 }, correctionMs: BOUND + 1 },
      nowMs: WALL + 2_000,
      jumpMs: BOUND + 1,
    });
    const back = readClock(first.state, WALL + 2_000 - 45_000, 2_050, BOUND);
    expect(back).toMatchObject({ nowMs: WALL + 2_000, jumpMs: -45_000, state: { correctionMs: -45_000 } });
  });

  it('keeps the correction for later reads, and adds a second step to the first', () => {
    const first = readClock(FRESH_CLOCK, WALL, 0, BOUND);
    const back = readClock(first.state, WALL + 1_000 - 45_000, 1_000, BOUND);
    const later = readClock(back.state, WALL + 3_000 - 45_000, 3_000, BOUND);
    expect(later).toEqual({
      state: { last: { wall: WALL + 3_000, mono: 3_000 }, correctionMs: -45_000 },
      nowMs: WALL + 3_000,
    });
    const again = readClock(later.state, WALL + 4_000 - 45_000 + 10_000, 4_000, BOUND);
    expect(again).toMatchObject({ nowMs: WALL + 4_000, jumpMs: 10_000, state: { correctionMs: -35_000 } });
  });
});

describe('a promotion’s first sighting (promotionSeen)', () => {
  const promoted: ClusterRecord = { epoch: 2, primary: 'standby', lease: 5, actAfterMs: 8_000 };

  it('remembers when this site first read a record naming it primary, per epoch', () => {
    const seen = promotionSeen({}, promoted, 'standby', NOW);
    expect(seen.promotion).toEqual({ epoch: 2, seenAtMono: NOW });
    expect(promotionSeen(seen, promoted, 'standby', NOW + 5_000)).toBe(seen);
    expect(promotionSeen(seen, { ...promoted, epoch: 3 }, 'standby', NOW + 5_000).promotion).toEqual({
      epoch: 3,
      seenAtMono: NOW + 5_000,
    });
  });

  it('does not forget a newer promotion for an older record read late, nor count another site’s', () => {
    const seen = promotionSeen({}, { ...promoted, epoch: 3 }, 'standby', NOW);
    expect(promotionSeen(seen, promoted, 'standby', NOW + 1_000)).toBe(seen);
    expect(promotionSeen({}, promoted, 'production', NOW)).toEqual({});
  });
});
