import * as iam from 'aws-cdk-lib/aws-iam';
import { App } from 'aws-cdk-lib';
import { addSites } from '../../lib/app';
import { buildSites, config } from '../helpers';

describe('cdk-nag AWS Solutions checks', () => {
  it.each([
    ['the default configuration', {}],
    [
      'approval mode with hooks, promotion actions, strong consistency, subscriptions and the game day',
      {
        gameDay: true,
        health: { alarmNames: ['orders-5xx'] },
        failoverMode: 'approval',
        consistency: 'strong',
        productionRegion: 'us-east-1',
        standbyRegion: 'us-east-2',
        witnessRegion: 'us-west-2',
        fenceHookFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fence',
        promotion: {
          hookFunctionArn: 'arn:aws:lambda:us-east-2:123456789012:function:promote',
          arc: {
            clusterEndpoints: [{ url: 'https://host-a.us-east-1.example.com/v1', region: 'us-east-1' }],
            routingControls: {
              production: 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/p1',
              standby: 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/s1',
            },
          },
          route53FailoverRecord: {
            hostedZoneId: 'Z0123456789ABC',
            recordName: 'api.example.com',
            healthCheckId: '0b7c0a2e-3f2f-4a8e-9c55-3c1f0f0e9a11',
          },
        },
        notifications: { criticalEmails: ['oncall@example.com'] },
      },
    ],
  ])('finds nothing unacknowledged in the whole app with %s', (_name, overrides) => {
    const { app } = buildSites(overrides);
    expect(() => app.synth()).not.toThrow();
  });

  it('synthesizes with hooks and no account, as `cdk synth` does without credentials', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    addSites(
      app,
      config({
        fenceHookFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fence',
        promotion: { hookFunctionArn: 'arn:aws:lambda:us-west-2:123456789012:function:promote' },
      }),
    );
    expect(() => app.synth()).not.toThrow();
  });

  it('fails synthesis on a finding nobody acknowledged', () => {
    const { app, sites } = buildSites();
    const careless = new iam.Role(sites.production, 'Careless', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    careless.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
  });
});
