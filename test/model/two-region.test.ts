import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { modelTiming, spinFlags, TWO_REGION_DEFAULTS } from '../../model/timing';

/**
 * The SPIN model of two-region mode under self-fence (model/two-region.pml), checked exhaustively at the code's
 * two-region timing; .ci/run installs spin. Its own suite, so it runs beside the quorum model's.
 */
describe('the two-region self-fence model (SPIN)', () => {
  it("takes its timing from the code's two-region defaults", () => {
    // Two-region mode's lease is six intervals (12 s at the default 2 s); the margin 1 s; the unit half of it.
    expect(spinFlags(modelTiming(TWO_REGION_DEFAULTS, 'two-region'))).toBe(
      '-DI=4 -DL=24 -DMARGIN=2 -DDRIFT=1 -DEXPIRY=180 -DRETRY=24',
    );
    expect(() => modelTiming(TWO_REGION_DEFAULTS)).toThrow(/covers quorum mode/);
  });

  it('never has two sites acting under any two faults, nor from the first moment under any one, exhaustively, and catches each mutant', () => {
    const out = spawnSync('bash', [path.join(__dirname, '..', '..', 'model', 'check.sh'), 'two-region'], {
      encoding: 'utf8',
    });
    process.stdout.write(out.stdout);
    expect({ status: out.status, output: out.stdout + out.stderr }).toEqual({
      status: 0,
      output: expect.stringContaining('timing from the code: unit 500 ms: interval 2000 ms, lease 12000 ms'),
    });
    expect(out.stdout.match(/: holds, \d+ states, exhaustive/g)).toHaveLength(2);
    expect(out.stdout.match(/: violated as expected/g)).toHaveLength(5);
  }, 900_000);
});
