import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildSites } from '../helpers';

/**
 * Quorum mode's third stack: one rule in the witness region that forwards AWS Health's DynamoDB issues to both site
 * buses, with a role that may put events on exactly those two buses.
 */
describe('the witness stack', () => {
  const { sites } = buildSites();
  if (sites.witness === undefined) throw new Error('quorum mode has a witness stack');
  const t = Template.fromStack(sites.witness);

  it('lives in the witness region and holds one rule, one role and its policy, and nothing else', () => {
    expect(sites.witness?.region).toBe('us-east-2');
    expect(sites.witness?.stackName).toBe('Mirrorbeat-orders-witness');
    const types = Object.values(t.toJSON().Resources as Record<string, { Type: string }>)
      .map((r) => r.Type)
      .filter((type) => type !== 'AWS::CDK::Metadata')
      .sort();
    expect(types).toEqual(['AWS::Events::Rule', 'AWS::IAM::Policy', 'AWS::IAM::Role']);
  });

  it('forwards AWS Health issues of DynamoDB to both site buses, with its named role', () => {
    const bus = (region: string, site: string) => ({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, `:events:${region}:123456789012:event-bus/mirrorbeat-orders-${site}`],
      ],
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.health'],
        'detail-type': ['AWS Health Event'],
        detail: { service: ['DYNAMODB'], eventTypeCategory: ['issue'] },
      },
      Targets: [
        Match.objectLike({ Arn: bus('us-east-1', 'production'), RoleArn: Match.anyValue() }),
        Match.objectLike({ Arn: bus('us-west-2', 'standby'), RoleArn: Match.anyValue() }),
      ],
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'mirrorbeat-orders-witness-health',
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'events.amazonaws.com' } })],
      }),
    });
    // Its policy: PutEvents on the two site buses, nothing else.
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Effect: string; Resource: unknown }[],
    );
    expect(statements.map((st) => [st.Effect, st.Action])).toEqual(statements.map(() => ['Allow', 'events:PutEvents']));
    const resources = JSON.stringify(statements.map((st) => st.Resource)).match(/:events:[^"]+/g);
    expect(resources).toEqual([
      ':events:us-east-1:123456789012:event-bus/mirrorbeat-orders-production',
      ':events:us-west-2:123456789012:event-bus/mirrorbeat-orders-standby',
    ]);
  });

  it('is not made in two-region mode, and the site buses then admit no witness', () => {
    const twoRegion = buildSites({ consistency: 'eventual', isolationPolicy: 'stay-primary' }).sites;
    expect(twoRegion.witness).toBeUndefined();
    const policies = JSON.stringify(Template.fromStack(twoRegion.standby).findResources('AWS::Events::EventBusPolicy'));
    expect(policies).not.toContain('witness');
    expect(JSON.stringify(Template.fromStack(twoRegion.standby).findResources('AWS::Events::Rule'))).not.toContain(
      'aws.health',
    );
  });
});
