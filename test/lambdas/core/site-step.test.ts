import { FRESH_LEASE, leaseTuningOf } from '../../../lambdas/core/lease';
import { noPrimaryOf } from '../../../lambdas/core/site-step';
import type { Heartbeat } from '../../../lambdas/core/message';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import { standbySettings } from '../../helpers';

/** The no-primary alarm's condition (site-step.ts, noPrimaryOf) in two-region mode: sound, so it never cries wolf. */
const tuning = standbySettings({ consistency: 'eventual', isolationPolicy: 'stay-primary' }).tuning;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const INTERVAL_MS = tuning.intervalSeconds * 1000;
const record: ClusterRecord = { epoch: 3, primary: 'production', lease: 9 };

const peerBeat = (role: Heartbeat['role'], epoch: number, sentAtMs: number): Heartbeat => ({
  v: 1,
  cluster: 'orders',
  site: 'production',
  region: 'us-east-1',
  serial: 1,
  sentAt: new Date(sentAtMs).toISOString(),
  epoch,
  role,
  health: 'ok',
  sig: '',
});

const noPrimary = (live: Heartbeat | undefined) =>
  noPrimaryOf(
    {
      tuning,
      leaseTuning: leaseTuningOf(tuning),
      lease: FRESH_LEASE,
      site: 'standby',
      peer: 'production',
      recordRead: true,
      roleWhy: 'the cluster record names production primary at epoch 3',
      live,
    },
    record,
    NOW,
    NOW,
  );

describe('no primary, as a two-region site can see it', () => {
  it('only from a fresh beat of the peer at the record epoch saying it is secondary too', () => {
    expect(tuning.consistency).toBe('eventual');
    expect(noPrimary(peerBeat('secondary', 3, NOW - 1_000))).toBe(
      'standby and production both beat as secondary at epoch 3 (its beat of 1.0 s ago)',
    );
    // A newer epoch than the record's: the peer has seen more, and still says it is secondary.
    expect(noPrimary(peerBeat('secondary', 4, NOW - 1_000))).toMatch(/both beat as secondary/);
  });

  it('never from a lost peer, a primary peer, an older epoch or a beat older than two intervals', () => {
    expect(noPrimary(undefined)).toBeUndefined();
    expect(noPrimary(peerBeat('primary', 3, NOW - 1_000))).toBeUndefined();
    // A beat from before the last promotion says nothing of who acts now.
    expect(noPrimary(peerBeat('secondary', 2, NOW - 1_000))).toBeUndefined();
    // Exactly two intervals old still counts; a millisecond more does not.
    expect(noPrimary(peerBeat('secondary', 3, NOW - 2 * INTERVAL_MS))).toMatch(/both beat as secondary/);
    expect(noPrimary(peerBeat('secondary', 3, NOW - 2 * INTERVAL_MS - 1))).toBeUndefined();
  });
});
