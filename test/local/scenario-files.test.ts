import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkInvariants } from '../../local/chaos';
import { simulateScenario } from '../../local/run';
import { loadScenario } from '../../local/scenario';
import { dynamoEndpoint } from '../local-sites';

/**
 * Every scenario file the repository ships says what its run must show (its `expect` list), and a test holds it to
 * that: here, or in the test named for it below, which runs the file and checks its verdict. A new scenario file
 * that no test runs fails this suite.
 */
const DIR = path.join(__dirname, '..', '..', 'local', 'scenarios');
const RUN_ELSEWHERE: Readonly<Record<string, string>> = {
  'roles.test.ts': 'regression scenarios and the role protocol',
  'determinism.test.ts': 'the same report idle and under load',
};
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''))
  .sort();
const elsewhere = (name: string) =>
  Object.keys(RUN_ELSEWHERE).filter((test) =>
    [`'${name}'`, `'${name}.json'`].some((quoted) => readFileSync(path.join(__dirname, test), 'utf8').includes(quoted)),
  );
const here = files.filter((name) => elsewhere(name).length === 0);

describe('the scenario files', () => {
  it('each carry an expect list that keeps one primary at most and no two-primaries notice', () => {
    for (const name of files) {
      const scenario = loadScenario(path.join(DIR, `${name}.json`));
      expect([name, scenario.expect]).toEqual([
        name,
        expect.arrayContaining([{ maxSimultaneousPrimaries: 1 }, { noNotification: { kind: 'two-primaries' } }]),
      ]);
    }
  });

  it.each(here)('%s meets its own expectations, and every invariant holds', async (name) => {
    const scenario = loadScenario(path.join(DIR, `${name}.json`));
    const result = await simulateScenario(scenario, { dynamoEndpoint: dynamoEndpoint() });
    expect(result.report.verdict).toEqual({ passed: true, failed: [] });
    expect(checkInvariants(scenario, result)).toEqual([]);
  });
});
