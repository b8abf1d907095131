import fc from 'fast-check';
import { runWorld, type WorldMode, type WorldSchedule } from '../../../local/lease-world';

/**
 * A cold restart of production's heartbeat module, and no other fault, is no failure of the site
 * (docs/RELIABILITY.md, "A cold restart"): the new container claims the dead ticker once it has
 * been silent for three intervals (driver.ts, ticker.ts) and beats again within the lease, so the
 * standby never takes over and production, once acting again, acts to the end in one stretch — in
 * two-region self-fence mode too, where its lease runs from the last beat the standby acknowledged.
 */
const RUNS = Number(process.env.MIRRORBEAT_COLD_RESTART_RUNS ?? 200);

const schedule = (mode: WorldMode) =>
  fc
    .record({
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      intervalSeconds: fc.constantFrom(1, 2, 5),
      drift: fc.record({
        production: fc.double({ min: -0.001, max: 0.001, noNaN: true }),
        standby: fc.double({ min: -0.001, max: 0.001, noNaN: true }),
      }),
      phaseMs: fc.record({
        production: fc.integer({ min: 0, max: 4_999 }),
        standby: fc.integer({ min: 0, max: 4_999 }),
      }),
      crashAtMs: fc.integer({ min: 30_000, max: 90_000 }),
      downMs: fc.integer({ min: 0, max: 1_500 }),
    })
    .map((x): WorldSchedule => ({
      seed: x.seed,
      durationMs: x.crashAtMs + 120_000,
      intervalSeconds: x.intervalSeconds,
      mode,
      drift: x.drift,
      phaseMs: x.phaseMs,
      loss: 0,
      fenceDelayMaxMs: 0,
      faults: [
        { atMs: x.crashAtMs, fault: 'crash', site: 'production' },
        { atMs: x.crashAtMs + x.downMs, fault: 'restart', site: 'production' },
      ],
    }));

describe('a cold restart of production, alone (in memory, the driver and the core)', () => {
  it.each<WorldMode>(['quorum', 'two-region'])(
    `%s mode: no takeover, and production acts from its new container's first tick to the end (${RUNS} schedules)`,
    (mode) => {
      fc.assert(
        fc.property(schedule(mode), (s) => {
          const result = runWorld(s);
          const crashAtMs = s.faults[0]?.atMs ?? 0;
          expect(result.takeovers).toEqual([]);
          const after = result.acting.production.filter(([from]) => from > crashAtMs);
          expect(after.map(([, until]) => until)).toEqual([s.durationMs]);
        }),
        { numRuns: RUNS, seed: 20261207 },
      );
    },
  );
});
