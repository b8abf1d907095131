import aslValidator from 'asl-validator';
import { synthesizeDefinitions } from '../../local/definitions';
import { SITE_IDS } from '../../lambdas/core/wire';
import { config } from '../helpers';

/**
 * Every state machine definition as synthesized, for every failover mode, checked against the Amazon States Language by
 * asl-validator.
 */
describe.each(['automatic', 'approval', 'manual'])('the state machines under failoverMode %s', (failoverMode) => {
  const definitions = synthesizeDefinitions(
    config({ failoverMode, consistency: 'eventual', isolationPolicy: 'self-fence' }),
  );

  it.each(
    SITE_IDS.flatMap((site) =>
      Object.keys(definitions[site].stateMachines).map((workflow) => [site, workflow] as const),
    ),
  )('%s %s is valid ASL', (site, workflow) => {
    const result = aslValidator(definitions[site].stateMachines[workflow] as never);
    expect(result.isValid ? 'valid' : result.errorsText('\n')).toBe('valid');
  });
});

it('asl-validator refuses a definition whose state goes nowhere (the check can fail)', () => {
  const broken = { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } };
  expect(aslValidator(broken as never).isValid).toBe(false);
});
