import { unprotectedRefusal } from '../../../lambdas/core/command';
import type { PathMode } from '../../../lambdas/core/wire';
import { parsePathCommand } from '../../../lambdas/path-control-steps/steps';

/** The path-control console input, in both forms, and what it refuses with the field and the fix. */
describe('the path-control input', () => {
  it('reads one path and its action, or one action per path', () => {
    expect(parsePathCommand({ path: 'network', action: 'deactivate', reason: 'maintenance' })).toEqual({
      changes: [{ path: 'network', action: 'deactivate' }],
      reason: 'maintenance',
      force: false,
    });
    expect(parsePathCommand({ network: 'activate', storage: 'deactivate', force: true }).changes).toEqual([
      { path: 'network', action: 'activate' },
      { path: 'storage', action: 'deactivate' },
    ]);
  });

  it.each([
    [{ path: 'network', action: 'deactivate', reson: 'x' }, /^reson: not a key of this input; allowed: path, action/],
    [{ path: 'network', action: 'deactivate', storage: 'activate' }, /^storage: give either "path" and "action"/],
    [{ network: 'off' }, /^network: got "off"; allowed: "activate" or "deactivate"$/],
    [{ reason: 'nothing asked' }, /^path: missing; give a path and an action/],
    [{ path: 'disk', action: 'activate' }, /^path: got "disk"; allowed: "network" or "storage"$/],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => parsePathCommand(input)).toThrow(message);
  });
});

describe('a request command leaves a working path', () => {
  const modes = (network: PathMode, storage: PathMode) => (p: 'network' | 'storage') =>
    p === 'network' ? network : storage;
  const healthy = () => 'healthy';

  it('lets one path go while the other stays enabled and carries beats', () => {
    expect(
      unprotectedRefusal([{ path: 'storage', action: 'deactivate' }], modes('enabled', 'enabled'), healthy),
    ).toBeUndefined();
  });

  it('refuses both off, and a swap to a path that carries no beat yet', () => {
    expect(
      unprotectedRefusal(
        [
          { path: 'network', action: 'deactivate' },
          { path: 'storage', action: 'deactivate' },
        ],
        modes('enabled', 'enabled'),
        healthy,
      ),
    ).toMatch(/both paths would be disabled/);
    expect(
      unprotectedRefusal(
        [
          { path: 'network', action: 'activate' },
          { path: 'storage', action: 'deactivate' },
        ],
        modes('disabled', 'enabled'),
        healthy,
      ),
    ).toMatch(/^the network path is only being activated/);
  });

  it('never refuses an activation', () => {
    expect(
      unprotectedRefusal([{ path: 'network', action: 'activate' }], modes('disabled', 'disabled'), () => undefined),
    ).toBeUndefined();
  });
});
