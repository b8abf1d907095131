import { ArrivalStamps } from '../../../lambdas/core/site-step';

/**
 * The network receiver stamps arrivals on its own clock. A stamp in the reader's future counts as
 * arrived at the read that first saw it (local/world-counterexamples.json: a standby 33 s behind
 * its receiver saw a crashed production alive for 33 s more).
 */
describe('arrival stamps from another clock', () => {
  const read = (arrivedAtMs: number | undefined) => ({ arrivedAtMs, unreadable: false });

  it('keeps a stamp at or before now as it is', () => {
    const stamps = new ArrivalStamps();
    expect(stamps.own('network', read(10_000), 10_000).arrivedAtMs).toBe(10_000);
    expect(stamps.own('network', read(9_000), 10_000).arrivedAtMs).toBe(9_000);
    expect(stamps.own('network', read(undefined), 10_000).arrivedAtMs).toBeUndefined();
  });

  it('takes a stamp in the future as arrived now, and keeps that for as long as it is the last beat', () => {
    const stamps = new ArrivalStamps();
    expect(stamps.own('network', read(43_000), 10_000).arrivedAtMs).toBe(10_000);
    // Read again later, even once this clock has passed the stamp: the same beat, the same arrival.
    expect(stamps.own('network', read(43_000), 12_000).arrivedAtMs).toBe(10_000);
    expect(stamps.own('network', read(43_000), 50_000).arrivedAtMs).toBe(10_000);
    // The next beat is a new arrival; the other path keeps its own.
    expect(stamps.own('network', read(44_000), 13_000).arrivedAtMs).toBe(13_000);
    expect(stamps.own('storage', read(43_000), 13_500).arrivedAtMs).toBe(13_500);
  });
});
