import { Match } from 'aws-cdk-lib/assertions';
import { ConfigError, parseConfig } from '../../lib/config';
import { derivedNames, MAX_CLUSTER_NAME_LENGTH, RESERVED_CONCURRENCY } from '../../lib/names';
import { BASE_CONFIG, templates } from '../helpers';

/** What a real account would reject or silently break at the first deploy, or at a redeploy. */
describe('names AWS limits', () => {
  const longest = `c${'x'.repeat(MAX_CLUSTER_NAME_LENGTH - 1)}`;

  it('allow the longest cluster name whose every derived name fits, and synthesize it', () => {
    expect(MAX_CLUSTER_NAME_LENGTH).toBe(23);
    for (const d of derivedNames(longest))
      expect({ what: d.what, fits: d.name.length <= d.limit }).toEqual({ what: d.what, fits: true });
    const { production, standby } = templates({ clusterName: longest });
    production.hasResourceProperties('AWS::IAM::Role', {
      RoleName: `mirrorbeat-${longest}-production-path-control-steps`,
    });
    expect(`mirrorbeat-${longest}-production-path-control-steps`).toHaveLength(64);
    standby.resourceCountIs('AWS::Lambda::Function', 4);
  });

  it('refuse one character more, naming the limit', () => {
    expect(() => parseConfig({ ...BASE_CONFIG, clusterName: `${longest}x` })).toThrow(ConfigError);
    expect(() => parseConfig({ ...BASE_CONFIG, clusterName: `${longest}x` })).toThrow(/1 to 23 characters/);
  });
});

describe('a redeploy after cdk destroy', () => {
  const { production } = templates();

  it('gives the retained state-machine log groups a name of their own per stack instance (the stack id), never a fixed one', () => {
    const groups = Object.values(
      production.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: Match.anyValue() } }),
    );
    expect(groups).toHaveLength(2);
    for (const g of groups) {
      expect(g.DeletionPolicy).toBe('Retain');
      expect(JSON.stringify(g.Properties.LogGroupName)).toContain('"Ref":"AWS::StackId"');
      expect(JSON.stringify(g.Properties.LogGroupName)).toMatch(
        /\/aws\/vendedlogs\/states\/mirrorbeat-orders-production-(failover|path-control)-/,
      );
    }
  });

  it('keeps the heartbeat volume and the signing key (the cluster record and the key both sites share); docs/OPERATIONS.md says how to clean up', () => {
    production.hasResource('AWS::DynamoDB::GlobalTable', {
      Properties: { TableName: 'mirrorbeat-orders-heartbeat-volume' },
      DeletionPolicy: 'Retain',
    });
    production.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
  });
});

describe('reserved concurrency', () => {
  it('sets aside what each handler needs, 13 a site, and can be turned off for small accounts', () => {
    const { standby } = templates();
    const reserved = Object.values(standby.findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.ReservedConcurrentExecutions as number,
    );
    expect(reserved.sort()).toEqual([2, 3, 4, 4]);
    expect(Object.values(RESERVED_CONCURRENCY).reduce((a, b) => a + b, 0)).toBe(13);
    const off = templates({ reserveConcurrency: false }).standby;
    for (const f of Object.values(off.findResources('AWS::Lambda::Function')))
      expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });
});

describe('workflow retries', () => {
  it('retry a step whose Lambda ran out of time (Sandbox.Timedout): every step may run again', () => {
    const { standby } = templates();
    for (const machine of Object.values(standby.findResources('AWS::StepFunctions::StateMachine'))) {
      expect(JSON.stringify(machine.Properties.DefinitionString)).toContain('Sandbox.Timedout');
    }
  });
});
