import fc from 'fast-check';
import { overlapMs, runWorld, type WorldFault, type WorldSchedule } from '../../../local/lease-world';

/**
 * Random schedules over the role protocol's core (lambdas/core/lease.ts) in an in-memory quorum
 * world: drifting clocks, late ticks, slow fences, false suspicion, crashes, pauses, isolation,
 * cut legs, a lost witness, operator takeovers. The SPIN model (model/roles.pml) proves the same
 * properties exhaustively on an abstraction; these run the code that deploys.
 */
const RUNS = Number(process.env.MIRRORBEAT_PROPERTY_RUNS ?? 2000);
const SEED = Number(process.env.MIRRORBEAT_PROPERTY_SEED ?? 20261201);
const DURATION_MS = 180_000;
const at = fc.integer({ min: 1_000, max: DURATION_MS - 1_000 });
const region = fc.constantFrom<'production' | 'standby' | 'witness'>('production', 'standby', 'witness');
const leg = fc.constantFrom<'sites' | 'production-witness' | 'standby-witness'>('sites', 'production-witness', 'standby-witness');

const fault: fc.Arbitrary<WorldFault> = fc.oneof(
  fc.record({ atMs: at, fault: fc.constantFrom<'crash' | 'restart' | 'isolate'>('crash', 'restart', 'isolate'), site: region }),
  fc.record({ atMs: at, fault: fc.constant('pause' as const), site: region, ms: fc.integer({ min: 500, max: 40_000 }) }),
  fc.record({ atMs: at, fault: fc.constantFrom<'cut' | 'heal'>('cut', 'heal'), leg }),
  fc.record({ atMs: at, fault: fc.constant('operator-failover' as const) }),
);

const schedule = (faults: fc.Arbitrary<WorldFault[]>): fc.Arbitrary<WorldSchedule> =>
  fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    durationMs: fc.constant(DURATION_MS),
    intervalMs: fc.constantFrom(1_000, 2_000, 5_000),
    leaseMs: fc.constant(0),
    drift: fc.record({ production: fc.double({ min: -0.02, max: 0.02, noNaN: true }), standby: fc.double({ min: -0.02, max: 0.02, noNaN: true }) }),
    phaseMs: fc.record({ production: fc.integer({ min: 0, max: 4_999 }), standby: fc.integer({ min: 0, max: 4_999 }) }),
    falseSuspicion: fc.constantFrom(0, 0.05, 0.5, 1),
    fenceDelayMaxMs: fc.constantFrom(0, 3_000, 20_000),
    faults,
  }).map((s) => ({ ...s, leaseMs: 6 * s.intervalMs }));

describe('the role protocol core under random schedules (in memory)', () => {
  it(`never has two sites acting as primary at once (${RUNS} schedules, seed ${SEED})`, () => {
    fc.assert(
      fc.property(schedule(fc.array(fault, { maxLength: 8 })), (s) => {
        expect(overlapMs(runWorld(s))).toBeLessThanOrEqual(0);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('never has two primaries when production loses its majority while it keeps ticking (the race the lease exists for)', () => {
    const cutOff = fc.integer({ min: 5_000, max: 100_000 }).map((atMs): WorldFault[] => [
      { atMs, fault: 'cut', leg: 'sites' },
      { atMs, fault: 'cut', leg: 'production-witness' },
    ]);
    fc.assert(
      fc.property(schedule(cutOff), (s) => {
        const result = runWorld(s);
        expect(overlapMs(result)).toBeLessThanOrEqual(0);
        expect(result.takeovers).toHaveLength(1);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('never takes production down for one fault elsewhere (the standby, the witness, one leg)', () => {
    const elsewhere: fc.Arbitrary<WorldFault> = fc.oneof(
      fc.record({ atMs: at, fault: fc.constantFrom<'crash' | 'isolate'>('crash', 'isolate'), site: fc.constantFrom<'standby' | 'witness'>('standby', 'witness') }),
      fc.record({ atMs: at, fault: fc.constant('pause' as const), site: fc.constantFrom<'standby' | 'witness'>('standby', 'witness'), ms: fc.integer({ min: 500, max: 60_000 }) }),
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
    const primaryFault = fc.record({ atMs: fc.integer({ min: 10_000, max: 90_000 }), fault: fc.constantFrom<'crash' | 'isolate'>('crash', 'isolate'), site: fc.constant('production' as const) });
    fc.assert(
      fc.property(schedule(primaryFault.map((f) => [f])), (s) => {
        const result = runWorld(s);
        const f = s.faults[0] as { atMs: number };
        // The tick that sees the last renewal, the trigger (10 s) or the lease and margin, whichever is
        // later, the tick that opens the gate, the fence, and the tick that acts: three ticks in all.
        const boundMs = Math.max(10_000, s.leaseMs + Math.max(1_000, 0.05 * s.leaseMs)) * 1.03 + s.fenceDelayMaxMs + 3 * s.intervalMs + 1_000;
        const standbyActs = result.acting.standby.find(([from]) => from >= f.atMs);
        expect(standbyActs?.[0]).toBeLessThanOrEqual(f.atMs + boundMs);
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
  });
});
