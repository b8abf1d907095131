import {
  gateOpen,
  leaseTuningOf,
  newInvocation,
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
