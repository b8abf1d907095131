import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** The SPIN model of the role protocol (model/roles.pml), checked exhaustively; .ci/run installs spin. */
describe('the role protocol model (SPIN)', () => {
  it('holds its three properties exhaustively, and catches the mutant without a drift margin', () => {
    const out = spawnSync('bash', [path.join(__dirname, '..', '..', 'model', 'check.sh')], { encoding: 'utf8' });
    process.stdout.write(out.stdout);
    expect({ status: out.status, output: out.stdout + out.stderr }).toEqual({ status: 0, output: expect.stringContaining('violated as expected') });
    expect(out.stdout.match(/: holds, \d+ states, exhaustive/g)).toHaveLength(3);
  }, 300_000);
});
