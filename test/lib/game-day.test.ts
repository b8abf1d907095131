import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addSites } from '../../lib/app';
import { FIS_EXTENSION_PARAMETER } from '../../lib/game-day';
import { FIS_FAULTS, GAME_DAY_TAG } from '../../lib/game-day-experiments';
import { SiteNames } from '../../lib/names';
import { RUN_FOR_MS } from '../../lambdas/heartbeat-module/driver';
import { LOCAL_ACCOUNT } from '../../local/definitions';
import { config } from '../helpers';
import { decide, ResolvedStack } from '../iam-template';

/**
 * The game day in the stacks (gameDay: true): three FIS experiment templates per site, each acting on that site's
 * own part, stopped by the site's alarms; the FIS Lambda extension on exactly the two functions they fail.
 */
const c = config({ gameDay: true, health: { alarmNames: ['orders-5xx'] } });
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const sites = addSites(app, c, { account: LOCAL_ACCOUNT });
const production = Template.fromStack(sites.production);
const standby = Template.fromStack(sites.standby);
const resolved = new ResolvedStack(
  production.toJSON() as never,
  sites.production.stackName,
  c.productionRegion,
  LOCAL_ACCOUNT,
);
const names = new SiteNames(c.clusterName, 'production');
const arn = (service: string, resource: string) =>
  `arn:aws:${service}:${c.productionRegion}:${LOCAL_ACCOUNT}:${resource}`;
/** The heartbeat module and the network receiver have generated names; the failover steps a fixed one. */
const functionArn = (construct: string) =>
  resolved.getAtt(
    Object.keys(resolved.resources).find(
      (id) => id.startsWith(`${construct}Function`) && !id.includes('Role'),
    ) as string,
    'Arn',
  );

const templatesOf = (t: Template) =>
  Object.values(t.findResources('AWS::FIS::ExperimentTemplate')).map(
    (r) =>
      r.Properties as { Tags: Record<string, string>; Actions: { fault: Record<string, unknown> } } & Record<
        string,
        unknown
      >,
  );

describe('the game day templates (gameDay: true)', () => {
  it('holds one template per fault at each site, tagged for the CLI, acting on that site alone', () => {
    for (const [site, t] of [
      ['production', production],
      ['standby', standby],
    ] as const) {
      const found = templatesOf(t);
      expect(found.map((p) => p.Tags[GAME_DAY_TAG.experiment]).sort()).toEqual([
        'module-fails',
        'receiver-fails',
        'replica-isolated',
      ]);
      for (const p of found) {
        expect(p.Tags[GAME_DAY_TAG.cluster]).toBe(c.clusterName);
        expect(p.Tags['mirrorbeat:site']).toBe(site);
        const fault = FIS_FAULTS[p.Tags[GAME_DAY_TAG.experiment] as keyof typeof FIS_FAULTS];
        expect(p.Actions.fault).toMatchObject({
          ActionId: fault.actionId,
          Parameters: fault.parameters,
          Targets: { [fault.targetKey]: 'target' },
        });
        expect(p).toMatchObject({
          Targets: { target: { ResourceType: fault.resourceType, SelectionMode: 'ALL' } },
          ExperimentOptions: { AccountTargeting: 'single-account', EmptyTargetResolutionMode: 'fail' },
          LogConfiguration: { LogSchemaVersion: 2 },
        });
      }
    }
  });

  it("outlasts the heartbeat module's running invocation: FIS fails only invocations that start", () => {
    expect(FIS_FAULTS['module-fails'].durationMinutes * 60_000).toBeGreaterThan(RUN_FOR_MS + 2 * 60_000);
    expect(FIS_FAULTS['module-fails'].parameters).toEqual({
      duration: `PT${FIS_FAULTS['module-fails'].durationMinutes}M`,
      invocationPercentage: '100',
      preventExecution: 'true',
    });
  });

  it("targets the site's own heartbeat module, network receiver and replica, and stops on its alarms", () => {
    const targets = templatesOf(production).map((p) => [
      p.Tags[GAME_DAY_TAG.experiment],
      resolved.resolve((p.Targets as { target: { ResourceArns: unknown } }).target.ResourceArns),
      resolved.resolve(p.StopConditions),
    ]);
    const stops = ['TwoPrimaries', 'GameDayNoPrimary'].map((id) => ({
      Source: 'aws:cloudwatch:alarm',
      Value: arn('cloudwatch', `alarm:${names.alarm(id)}`),
    }));
    const health = { Source: 'aws:cloudwatch:alarm', Value: arn('cloudwatch', 'alarm:orders-5xx') };
    expect(Object.fromEntries(targets.map(([k, ...rest]) => [k, rest]))).toEqual({
      'module-fails': [[functionArn('HeartbeatModule')], [...stops, health]],
      'receiver-fails': [[functionArn('NetworkReceiver')], [...stops, health]],
      'replica-isolated': [[arn('dynamodb', `table/${names.heartbeatVolume}`)], [...stops, health]],
    });
    production.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: names.alarm('GameDayNoPrimary'),
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('puts the FIS extension on the heartbeat module and the network receiver only, reading a private bucket', () => {
    expect(production.toJSON().Parameters.FisExtensionLayer).toMatchObject({
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: FIS_EXTENSION_PARAMETER,
    });
    const functions = production.findResources('AWS::Lambda::Function');
    const withLayer = Object.entries(functions)
      .filter(([, r]) => JSON.stringify(r.Properties.Layers ?? []).includes('FisExtensionLayer'))
      .map(([id]) => id.replace(/Function.*$/, ''))
      .sort();
    expect(withLayer).toEqual(['HeartbeatModule', 'NetworkReceiver']);
    for (const id of withLayer) {
      const env = Object.entries(functions).find(([k]) => k.startsWith(`${id}Function`))?.[1].Properties.Environment
        .Variables as Record<string, unknown>;
      expect(env.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/aws-fis/bootstrap');
      expect(JSON.stringify(env.AWS_FIS_CONFIGURATION_LOCATION)).toContain('/fis-configuration/');
    }
    production.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.objectLike({}),
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    production.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('gives each experiment role exactly what its action needs (a real policy engine)', async () => {
    const roleOf = (template: string) => {
      const p = templatesOf(production).find((t) => t.Tags[GAME_DAY_TAG.experiment] === template);
      return String(resolved.resolve(p?.RoleArn)).split('/').pop() as string;
    };
    const bucket = resolved.named('AWS::S3::Bucket')[0]?.name as string;
    const module = functionArn('HeartbeatModule');
    const table = arn('dynamodb', `table/${names.heartbeatVolume}`);
    const ask = (template: string, action: string, resource: string) =>
      decide({
        what: template,
        principal: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${roleOf(template)}`,
        identity: resolved.rolePolicies(roleOf(template)),
        action,
        resource,
      });
    const answers = {
      pause: await ask('replica-isolated', 'dynamodb:PutResourcePolicy', table),
      unpause: await ask('replica-isolated', 'dynamodb:DeleteResourcePolicy', table),
      otherTable: await ask('replica-isolated', 'dynamodb:PutResourcePolicy', arn('dynamodb', 'table/orders')),
      writeBeats: await ask('replica-isolated', 'dynamodb:PutItem', table),
      readFunction: await ask('module-fails', 'lambda:GetFunction', module),
      otherFunction: await ask(
        'module-fails',
        'lambda:GetFunction',
        arn('lambda', `function:${names.functionName('failover-steps')}`),
      ),
      invoke: await ask('module-fails', 'lambda:InvokeFunction', module),
      writeConfig: await ask('module-fails', 's3:PutObject', `arn:aws:s3:::${bucket}/fis-configuration/x.json`),
      writeElsewhere: await ask('module-fails', 's3:PutObject', `arn:aws:s3:::${bucket}/other/x.json`),
      pauseFromLambdaRole: await ask('module-fails', 'dynamodb:PutResourcePolicy', table),
    };
    expect(answers).toEqual({
      pause: 'Allowed',
      unpause: 'Allowed',
      otherTable: 'ImplicitlyDenied',
      writeBeats: 'ImplicitlyDenied',
      readFunction: 'Allowed',
      otherFunction: 'ImplicitlyDenied',
      invoke: 'ImplicitlyDenied',
      writeConfig: 'Allowed',
      writeElsewhere: 'ImplicitlyDenied',
      pauseFromLambdaRole: 'ImplicitlyDenied',
    });
    const trust = JSON.stringify(resolved.trustPolicy(roleOf('module-fails')));
    expect(trust).toContain('fis.amazonaws.com');
    expect(trust).toContain('aws:SourceAccount');
  });
});
