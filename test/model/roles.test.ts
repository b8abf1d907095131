import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DRIFT_FRACTION } from '../../lambdas/core/lease';
import { modelTiming, QUORUM_DEFAULTS, spinFlags } from '../../model/timing';

/**
 * The SPIN model of the role protocol (model/roles.pml), checked exhaustively at the code's timing; .ci/run installs
 * spin.
 */
describe('the role protocol model (SPIN)', () => {
  it("takes its timing from the code's defaults, in units of one clock's drift over a lease", () => {
    const m = modelTiming();
    // The default quorum-mode interval is 2 s and the lease 3.5 intervals; the margin is 5 % of it, at least 1 s.
    // A switchover's request expires after two leases (lease.ts handoverExpiryMs); a failed failover is tried again after one.
    expect(m).toEqual({ unitMs: 500, interval: 4, lease: 14, margin: 2, drift: 1, expiry: 28, retry: 14 });
    expect(DRIFT_FRACTION).toBe(0.05);
    // At 1 s the default lease is the interval and a 5 s pause (lib/config.ts), 6 s.
    expect(spinFlags(modelTiming({ ...QUORUM_DEFAULTS, intervalSeconds: 1 }))).toBe(
      '-DI=2 -DL=12 -DMARGIN=2 -DDRIFT=1 -DEXPIRY=24 -DRETRY=12',
    );
    expect(() => modelTiming({ ...QUORUM_DEFAULTS, intervalSeconds: 6 })).toThrow(/not a whole number of the model's unit/);
    expect(() => modelTiming({ ...QUORUM_DEFAULTS, consistency: 'eventual' })).toThrow(/covers quorum mode/);
  });

  it('holds its seven properties exhaustively, and catches each mutant', () => {
    const out = spawnSync('bash', [path.join(__dirname, '..', '..', 'model', 'check.sh')], { encoding: 'utf8' });
    process.stdout.write(out.stdout);
    expect({ status: out.status, output: out.stdout + out.stderr }).toEqual({ status: 0, output: expect.stringContaining('timing from the code: unit 500 ms') });
    expect(out.stdout.match(/: holds, \d+ states, exhaustive/g)).toHaveLength(7);
    expect(out.stdout.match(/: violated as expected/g)).toHaveLength(8);
  }, 600_000);
});
