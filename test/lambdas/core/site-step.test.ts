import { FRESH_LEASE, leaseTuningOf } from '../../../lambdas/core/lease';
import {
  checkBefore,
  confirmationMsOf,
  newestLiveBeatOf,
  noPrimaryOf,
  steppedDownOf,
  twoPrimariesOf,
  wakeAtOf,
} from '../../../lambdas/core/site-step';
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

const both = { network: 'enabled', storage: 'enabled' } as const;

describe('the confirmation a lost peer needs (confirmationMsOf)', () => {
  const window = tuning.confirmationWindowSeconds * 1000;
  const beats = (apartMs: number) => ({
    network: peerBeat('primary', 3, NOW),
    storage: peerBeat('primary', 3, NOW - apartMs),
  });

  it('two-region mode: one interval when both paths fell silent within one and a half intervals', () => {
    expect(window).toBeGreaterThan(INTERVAL_MS);
    expect(confirmationMsOf(tuning, both, beats(0))).toBe(INTERVAL_MS);
    expect(confirmationMsOf(tuning, both, beats(1.5 * INTERVAL_MS))).toBe(INTERVAL_MS);
    expect(confirmationMsOf(tuning, both, beats(-1.5 * INTERVAL_MS))).toBe(INTERVAL_MS);
    // A window shorter than an interval stays the window.
    const short = { ...tuning, confirmationWindowSeconds: tuning.intervalSeconds / 2 };
    expect(confirmationMsOf(short, both, beats(0))).toBe(INTERVAL_MS / 2);
  });

  it('the whole window when one path fell silent first, a path carried nothing, one is disabled, or in quorum mode', () => {
    expect(confirmationMsOf(tuning, both, beats(1.5 * INTERVAL_MS + 1))).toBe(window);
    expect(confirmationMsOf(tuning, both, { network: peerBeat('primary', 3, NOW) })).toBe(window);
    expect(confirmationMsOf(tuning, both, {})).toBe(window);
    expect(confirmationMsOf(tuning, { ...both, storage: 'disabled' }, beats(0))).toBe(window);
    expect(confirmationMsOf(tuning, { ...both, network: 'disabled' }, beats(0))).toBe(window);
    const quorum = { ...tuning, consistency: 'strong' as const };
    expect(confirmationMsOf(quorum, both, beats(0))).toBe(window);
  });
});

describe('a peer that stepped down (steppedDownOf)', () => {
  const quorum = { ...tuning, consistency: 'strong' as const };
  const secondary = peerBeat('secondary', 3, NOW);

  it('quorum mode: the primary the record names beats as secondary at its epoch or later, with no handover asked', () => {
    expect(steppedDownOf(quorum, 'production', 'ok', secondary, record)).toBe(true);
    expect(steppedDownOf(quorum, 'production', 'degraded', secondary, record)).toBe(true);
    expect(steppedDownOf(quorum, 'production', 'ok', peerBeat('secondary', 4, NOW), record)).toBe(true);
  });

  it('never in two-region mode, for a lost peer, a primary beat, an older epoch, a handover, or another primary', () => {
    expect(steppedDownOf(tuning, 'production', 'ok', secondary, record)).toBe(false);
    expect(steppedDownOf(quorum, 'production', 'peer-lost', secondary, record)).toBe(false);
    expect(steppedDownOf(quorum, 'production', 'unprotected', secondary, record)).toBe(false);
    expect(steppedDownOf(quorum, 'production', 'ok', undefined, record)).toBe(false);
    expect(steppedDownOf(quorum, 'production', 'ok', peerBeat('primary', 3, NOW), record)).toBe(false);
    expect(steppedDownOf(quorum, 'production', 'ok', peerBeat('secondary', 2, NOW), record)).toBe(false);
    const handover = { to: 'standby' as const, execution: 'x', requestedAtMs: NOW };
    expect(steppedDownOf(quorum, 'production', 'ok', secondary, { ...record, handover })).toBe(false);
    expect(steppedDownOf(quorum, 'production', 'ok', secondary, { ...record, primary: 'standby' })).toBe(false);
  });
});

describe('when to look again between ticks (wakeAtOf, checkBefore)', () => {
  const at = (over: Partial<Parameters<typeof wakeAtOf>[0]> = {}) =>
    wakeAtOf({
      states: { network: 'healthy', storage: 'suspect' },
      deadlineMs: { network: 5_000, storage: 7_000 },
      lastArrivalMs: { network: NOW - 1_000, storage: NOW - 2_000 },
      windowEndsAtMs: undefined,
      gateAtMs: undefined,
      secondReadAtMs: undefined,
      nowMs: NOW,
      ...over,
    });

  it('the earliest future instant: a live path one millisecond past its deadline, the window, the gate, a read', () => {
    expect(at()).toBe(NOW + 4_001);
    expect(at({ lastArrivalMs: { storage: NOW - 2_000 } })).toBe(NOW + 5_001);
    expect(at({ states: { network: 'failed', storage: 'suspect' } })).toBe(NOW + 5_001);
    expect(at({ states: { network: 'pending', storage: 'disabled' } })).toBeUndefined();
    expect(at({ windowEndsAtMs: NOW + 3_000 })).toBe(NOW + 3_000);
    expect(at({ gateAtMs: NOW + 2_000, windowEndsAtMs: NOW + 3_000 })).toBe(NOW + 2_000);
    expect(at({ secondReadAtMs: NOW + 1_000, gateAtMs: NOW + 2_000 })).toBe(NOW + 1_000);
  });

  it('never now or the past', () => {
    expect(at({ gateAtMs: NOW })).toBe(NOW + 4_001);
    expect(at({ lastArrivalMs: { network: NOW - 5_001, storage: NOW - 9_000 }, gateAtMs: NOW + 1 })).toBe(NOW + 1);
    expect(at({ lastArrivalMs: { network: NOW - 5_001, storage: NOW - 9_000 } })).toBeUndefined();
  });

  it('checks between ticks only at least a quarter interval before the next tick', () => {
    expect(checkBefore(undefined, NOW + 2_000, 2_000)).toBe(false);
    expect(checkBefore(NOW + 1_500, NOW + 2_000, 2_000)).toBe(true);
    expect(checkBefore(NOW + 1_501, NOW + 2_000, 2_000)).toBe(false);
  });
});

describe('the peer’s newest beat on a live path (newestLiveBeatOf)', () => {
  const beat = (serial: number) => ({ ...peerBeat('primary', 3, NOW), serial });

  it('the highest serial among paths that have not failed', () => {
    const beats = { network: beat(7), storage: beat(9) };
    expect(newestLiveBeatOf({ network: 'healthy', storage: 'suspect' }, beats)?.serial).toBe(9);
    expect(
      newestLiveBeatOf({ network: 'suspect', storage: 'healthy' }, { network: beat(9), storage: beat(7) })?.serial,
    ).toBe(9);
    expect(newestLiveBeatOf({ network: 'healthy', storage: 'failed' }, beats)?.serial).toBe(7);
    expect(newestLiveBeatOf({ network: 'suspect', storage: 'pending' }, beats)?.serial).toBe(7);
    expect(newestLiveBeatOf({ network: 'failed', storage: 'disabled' }, beats)).toBeUndefined();
    expect(newestLiveBeatOf({ network: 'healthy', storage: 'healthy' }, { storage: beat(3) })?.serial).toBe(3);
    expect(newestLiveBeatOf({ network: 'healthy', storage: 'healthy' }, { network: beat(3) })?.serial).toBe(3);
  });
});

describe('two primaries, as a site acting as primary sees them (twoPrimariesOf)', () => {
  const read = (beat: Heartbeat | undefined) => ({ beat, unreadable: false });
  const fresh = { network: true, storage: true };
  const claim = peerBeat('primary', 3, NOW);

  it('a fresh valid beat of the peer claiming primary at the record epoch, on either path', () => {
    expect(twoPrimariesOf(record, { network: read(claim), storage: read(undefined) }, fresh, 'production')).toEqual({
      path: 'network',
      serial: 1,
      epoch: 3,
      sentAt: claim.sentAt,
    });
    expect(twoPrimariesOf(record, { network: read(undefined), storage: read(claim) }, fresh, 'production')?.path).toBe(
      'storage',
    );
  });

  it('never for a beat read before, a secondary, another epoch, or another sender', () => {
    const none = (beat: Heartbeat, arrived = fresh) =>
      twoPrimariesOf(record, { network: read(beat), storage: read(undefined) }, arrived, 'production');
    expect(none(claim, { network: false, storage: true })).toBeUndefined();
    expect(none(peerBeat('secondary', 3, NOW))).toBeUndefined();
    // A higher epoch fenced this site (it steps down); an older one is refused as stale before it gets here.
    expect(none(peerBeat('primary', 4, NOW))).toBeUndefined();
    expect(none(peerBeat('primary', 2, NOW))).toBeUndefined();
    expect(none({ ...claim, site: 'standby' })).toBeUndefined();
  });
});
