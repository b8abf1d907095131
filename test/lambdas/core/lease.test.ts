import { leaseTuningOf, renewed, roleOf, takeover, watched } from '../../../lambdas/core/lease';
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
