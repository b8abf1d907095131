import fc from 'fast-check';
import { overlapMs, runWorld, type WorldFault, type WorldSchedule, worldTuning } from '../../../local/lease-world';

/**
 * Random schedules over a site's decision core (lambdas/core/site.ts, lease.ts) in an in-memory
 * quorum world: drifting clocks, late ticks, slow fences, lost beats up to false suspicion, crashes, pauses, isolation,
 * cut legs, a lost witness, operator takeovers. The SPIN model (model/roles.pml) proves the same
 * properties exhaustively on an abstraction; these run the code that deploys.
 */
// 1,000 per CI run: the fault search (fault-search.test.ts) runs 2,000 schedules of the same world in each mode, over a
// superset of these faults; these keep their own, sharper properties. More with MIRRORBEAT_PROPERTY_RUNS.
const RUNS = Number(process.env.MIRRORBEAT_PROPERTY_RUNS ?? 1000);
const SEED = Number(process.env.MIRRORBEAT_PROPERTY_SEED ?? 20261201);
const DURATION_MS = 180_000;
const at = fc.integer({ min: 1_000, max: DURATION_MS - 1_000 });
const region = fc.constantFrom<'production' | 'standby' | 'witness'>('production', 'standby', 'witness');
const leg = fc.constantFrom<'sites' | 'production-witness' | 'standby-witness'>(
  'sites',
  'production-witness',
  'standby-witness',
);

const fault: fc.Arbitrary<WorldFault> = fc.oneof(
  fc.record({
    atMs: at,
    fault: fc.constantFrom<'crash' | 'restart' | 'isolate'>('crash', 'restart', 'isolate'),
    site: region,
  }),
  fc.record({
    atMs: at,
    fault: fc.constant('pause' as const),
    site: region,
    ms: fc.integer({ min: 500, max: 40_000 }),
  }),
  fc.record({ atMs: at, fault: fc.constantFrom<'cut' | 'heal'>('cut', 'heal'), leg }),
  fc.record({ atMs: at, fault: fc.constant('operator-failover' as const) }),
);

const schedule = (faults: fc.Arbitrary<WorldFault[]>, durationMs = DURATION_MS): fc.Arbitrary<WorldSchedule> =>
  fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    durationMs: fc.constant(durationMs),
    intervalSeconds: fc.constantFrom(1, 2, 5),
    drift: fc.record({
      production: fc.double({ min: -0.02, max: 0.02, noNaN: true }),
      standby: fc.double({ min: -0.02, max: 0.02, noNaN: true }),
    }),
    phaseMs: fc.record({ production: fc.integer({ min: 0, max: 4_999 }), standby: fc.integer({ min: 0, max: 4_999 }) }),
    // Beats lost per path: none, some, most, all (both paths then falsely say the peer is lost).
    loss: fc.constantFrom(0, 0.1, 0.6, 1),
    fenceDelayMaxMs: fc.constantFrom(0, 3_000, 20_000),
    faults,
  });

describe('the role protocol core under random schedules (in memory)', () => {
  it(`never has two sites acting as primary at once, and never says no site does while one does (${RUNS} schedules, seed ${SEED})`, () => {
    let raised = 0;
    fc.assert(
      fc.property(schedule(fc.array(fault, { maxLength: 8 })), (s) => {
        const result = runWorld(s);
        expect(overlapMs(result)).toBeLessThanOrEqual(0);
        expect(result.noPrimaryAlarms.filter((a) => a.primaryActing)).toEqual([]);
        raised += result.noPrimaryAlarms.length;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Not vacuous: some schedules do leave the cluster without a primary, and it is said.
    expect(raised).toBeGreaterThan(0);
  });

  it('never has two primaries when production loses its majority while it keeps ticking (the race the lease exists for)', () => {
    const cutOff = fc.integer({ min: 25_000, max: 100_000 }).map((atMs): WorldFault[] => [
      { atMs, fault: 'cut', leg: 'sites' },
      { atMs, fault: 'cut', leg: 'production-witness' },
    ]);
    // Long enough for the slowest detection: a lossy path's deadline grows to the ceiling.
    fc.assert(
      fc.property(schedule(cutOff, 400_000), (s) => {
        const result = runWorld(s);
        expect(overlapMs(result)).toBeLessThanOrEqual(0);
        expect(result.takeovers).toHaveLength(1);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('never takes production down for one fault elsewhere (the standby, the witness, one leg)', () => {
    const elsewhere: fc.Arbitrary<WorldFault> = fc.oneof(
      fc.record({
        atMs: at,
        fault: fc.constantFrom<'crash' | 'isolate'>('crash', 'isolate'),
        site: fc.constantFrom<'standby' | 'witness'>('standby', 'witness'),
      }),
      fc.record({
        atMs: at,
        fault: fc.constant('pause' as const),
        site: fc.constantFrom<'standby' | 'witness'>('standby', 'witness'),
        ms: fc.integer({ min: 500, max: 60_000 }),
      }),
      fc.record({ atMs: at, fault: fc.constant('cut' as const), leg }),
    );
    fc.assert(
      fc.property(schedule(elsewhere.map((f) => [f])), (s) => {
        const result = runWorld(s);
        expect(result.takeovers).toEqual([]);
        // Production acts from its first decision to the end, without a gap.
        expect(result.acting.production.length).toBe(1);
        expect(result.acting.production[0]?.[1]).toBe(DURATION_MS);
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
  });

  it('replaces a crashed or isolated production within the detection bound', () => {
    const primaryFault = fc.record({
      atMs: fc.integer({ min: 25_000, max: 90_000 }),
      fault: fc.constantFrom<'crash' | 'isolate'>('crash', 'isolate'),
      site: fc.constant('production' as const),
    });
    fc.assert(
      fc.property(schedule(primaryFault.map((f) => [f])), (s) => {
        const result = runWorld(s);
        const f = s.faults[0] as { atMs: number };
        // The trigger (the path deadline: the floor on a steady path, up to the ceiling on a lossy one;
        // a tick; the confirmation window) or the lease and the margin, whichever is later; the tick that
        // opens the gate, the fence, and the tick that acts.
        const t = worldTuning(s.intervalSeconds);
        const leaseMs = t.leaseSeconds * 1000;
        const deadlineS = s.loss === 0 ? t.deadlineFloorSeconds : t.deadlineCeilingSeconds;
        const triggerMs = (deadlineS + t.intervalSeconds + t.confirmationWindowSeconds) * 1000;
        const boundMs =
          Math.max(triggerMs, leaseMs + Math.max(1_000, 0.05 * leaseMs)) * 1.03 +
          s.fenceDelayMaxMs +
          3 * s.intervalSeconds * 1000 +
          1_000;
        const standbyActs = result.acting.standby.find(([from]) => from >= f.atMs);
        if (f.atMs + boundMs <= s.durationMs) expect(standbyActs?.[0]).toBeLessThanOrEqual(f.atMs + boundMs);
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
  });
});
