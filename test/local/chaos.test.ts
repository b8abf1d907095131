import fc from 'fast-check';
import { checkInvariants, faultCounts, scenarioOf, type Schedule, scheduleArbitrary } from '../../local/chaos';
import { simulateScenario } from '../../local/run';
import type { Scenario } from '../../local/scenario';
import { dynamoEndpoint } from '../local-sites';

/** CI runs a fixed number of random fault schedules; `npm run chaos -- --runs N` runs more. */
const RUNS = Number(process.env.MIRRORBEAT_CHAOS_RUNS ?? 20);
const SEED = Number(process.env.MIRRORBEAT_CHAOS_SEED ?? 20261125);

describe('random fault schedules through the local runtime', () => {
  it(`keep invariants I1–I7 over ${RUNS} schedules (fast-check seed ${SEED})`, async () => {
    const ran: Scenario[] = [];
    await fc.assert(
      fc.asyncProperty(scheduleArbitrary, async (schedule: Schedule) => {
        const scenario = scenarioOf(schedule);
        ran.push(scenario);
        const result = await simulateScenario(scenario, { dynamoEndpoint: dynamoEndpoint() });
        expect({ events: schedule.events, violations: checkInvariants(scenario, result) }).toEqual({
          events: schedule.events,
          violations: [],
        });
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    process.stdout.write(
      `chaos: ${ran.length} schedules, seed ${SEED}, faults ${JSON.stringify(faultCounts(ran))}, violations 0\n`,
    );
  }, 900_000);
});
