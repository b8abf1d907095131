import fc from 'fast-check';
import { PhiAccrualDetector, phiOf } from '../../../lambdas/core/detector';
import { allCountedPathsFailed, pathState, type PathState, siteVerdict } from '../../../lambdas/core/verdict';

const DEFAULTS = { intervalMs: 2_000, phiThreshold: 8, floorMs: 6_000, ceilingMs: 30_000 };

/** A seeded stream of arrivals every interval with jitter (the same seed gives the same stream). */
function arrivals(count: number, jitterMs: number, seed: number, startMs = 0): number[] {
  let state = seed >>> 0;
  const random = () => (state = (state * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, (_, i) => startMs + i * DEFAULTS.intervalMs + (random() - 0.5) * 2 * jitterMs);
}

describe('the phi-accrual detector', () => {
  it('lets phi rise monotonically through silence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 200, max: 20_000 }), { minLength: 0, maxLength: 80 }),
        fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 2, maxLength: 30 }),
        (gaps, probes) => {
          const d = new PhiAccrualDetector(DEFAULTS);
          let t = 0;
          d.heartbeat(t);
          for (const gap of gaps) d.heartbeat((t += gap));
          const sorted = [...probes].sort((a, b) => a - b);
          const phis = sorted.map((p) => d.phi(t + p));
          for (let i = 1; i < phis.length; i += 1) expect(phis[i]).toBeGreaterThanOrEqual(phis[i - 1] as number);
        },
      ),
    );
  });

  it('keeps every deadline between the floor and the ceiling', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 100 }), (gaps) => {
        const d = new PhiAccrualDetector(DEFAULTS);
        let t = 0;
        d.heartbeat(t);
        for (const gap of gaps) d.heartbeat((t += gap));
        expect(d.deadlineMs()).toBeGreaterThanOrEqual(DEFAULTS.floorMs);
        expect(d.deadlineMs()).toBeLessThanOrEqual(DEFAULTS.ceilingMs);
      }),
    );
  });

  it('reaches the threshold exactly at the adaptive deadline when that lies inside the bounds', () => {
    const d = new PhiAccrualDetector({ ...DEFAULTS, floorMs: 2_000 });
    for (const t of arrivals(40, 900, 7)) d.heartbeat(t);
    const last = d.lastArrivalMs as number;
    const deadline = d.deadlineMs();
    expect(deadline).toBeGreaterThan(2_000);
    expect(deadline).toBeLessThan(30_000);
    expect(d.phi(last + deadline - 1)).toBeLessThan(8);
    expect(d.phi(last + deadline + 1)).toBeGreaterThanOrEqual(8);
  });

  it('gives a jittery path a longer deadline than a steady one, up to the ceiling', () => {
    const steady = new PhiAccrualDetector(DEFAULTS);
    const jittery = new PhiAccrualDetector(DEFAULTS);
    for (const t of arrivals(60, 50, 1)) steady.heartbeat(t);
    // A storage replica that often lags: every third beat is read 3 s late.
    let t = 0;
    for (let i = 0; i < 60; i += 1) jittery.heartbeat((t += i % 3 === 0 ? 5_000 : 2_000));
    expect(steady.deadlineMs()).toBe(DEFAULTS.floorMs);
    expect(jittery.deadlineMs()).toBeGreaterThan(steady.deadlineMs());
    expect(jittery.deadlineMs()).toBeLessThanOrEqual(DEFAULTS.ceilingMs);
  });

  it('does not learn a gap the path was failed for (an outage, not the rhythm), nor arrivals out of order', () => {
    const d = new PhiAccrualDetector(DEFAULTS);
    for (const t of arrivals(30, 100, 3)) d.heartbeat(t);
    const before = d.snapshot();
    d.heartbeat(before.lastArrivalMs! + 20_000);
    d.heartbeat(before.lastArrivalMs! + 1_000);
    expect(d.snapshot()).toMatchObject({
      samples: before.samples,
      meanMs: before.meanMs,
      lastArrivalMs: before.lastArrivalMs! + 20_000,
    });
    expect(d.deadlineMs()).toBe(DEFAULTS.floorMs);
  });

  it('says phi 0 before any beat, and refuses nonsensical settings by name', () => {
    expect(new PhiAccrualDetector(DEFAULTS).phi(10_000)).toBe(0);
    expect(() => new PhiAccrualDetector({ ...DEFAULTS, ceilingMs: 1_000 })).toThrow(/ceiling >= floor/);
    expect(phiOf(1e12, 2_000, 200)).toBeGreaterThan(8);
  });

  it('declares a silent peer lost within floor + confirmation window + one interval of its last beat, at the defaults', () => {
    // Both paths beat every 2 s with ±300 ms jitter for two minutes; then the site goes silent.
    const streams = { network: arrivals(60, 300, 11), storage: arrivals(60, 300, 12).map((t) => t + 800) };
    const detectors = { network: new PhiAccrualDetector(DEFAULTS), storage: new PhiAccrualDetector(DEFAULTS) };
    const lastBeat = Math.max(...streams.network, ...streams.storage);
    let allFailedSince: number | undefined;
    let lostAt: number | undefined;
    for (let now = 0; now < lastBeat + 60_000 && lostAt === undefined; now += 2_000) {
      const states: PathState[] = (['network', 'storage'] as const).map((path) => {
        for (const t of streams[path]) if (t <= now) detectors[path].heartbeat(t);
        return pathState(
          { path, mode: 'enabled', lastValidArrivalMs: detectors[path].lastArrivalMs },
          now,
          detectors[path].deadlineMs(),
          2_000,
        );
      });
      if (now >= 4_000 && now <= lastBeat) expect(states).toEqual(['healthy', 'healthy']);
      allFailedSince = allCountedPathsFailed(states) ? (allFailedSince ?? now) : undefined;
      if (siteVerdict(states, false, allFailedSince, now, 10_000) === 'peer-lost') lostAt = now;
    }
    expect(lostAt).toBeDefined();
    expect(lostAt! - lastBeat).toBeGreaterThanOrEqual(6_000 + 10_000);
    expect(lostAt! - lastBeat).toBeLessThanOrEqual(6_000 + 10_000 + 2_000);
  });
});

describe('the site verdict (properties)', () => {
  const state = fc.constantFrom<PathState>('disabled', 'pending', 'healthy', 'suspect', 'failed');

  it('never says peer-lost while any counted path is not failed', () => {
    fc.assert(
      fc.property(state, state, fc.boolean(), fc.integer({ min: 0, max: 100_000 }), (a, b, failure, since) => {
        const v = siteVerdict([a, b], failure, since, 100_000, 10_000);
        if (v === 'peer-lost')
          expect([a, b].filter((s) => s !== 'disabled' && s !== 'pending').every((s) => s === 'failed')).toBe(true);
        if (
          (a === 'failed') !== (b === 'failed') &&
          a !== 'disabled' &&
          b !== 'disabled' &&
          a !== 'pending' &&
          b !== 'pending'
        )
          expect(v).not.toBe('peer-lost');
      }),
    );
  });

  it('never says peer-lost before the confirmation window has passed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999 }), (elapsed) => {
        expect(siteVerdict(['failed', 'failed'], false, 0, elapsed, 10_000)).toBe('degraded');
      }),
    );
  });
});
