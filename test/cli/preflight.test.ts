import { AccountClient, GetRegionOptStatusCommand } from '@aws-sdk/client-account';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessError } from '../../bin/commands/aws';
import { formatPreflight, preflight, type PreflightCheck, sdkClients } from '../../bin/commands/preflight';
import { config } from '../helpers';

/** `mirrorbeat preflight` against each answer AWS can give, with the real SDK clients and aws-sdk-client-mock. */
const sts = mockClient(STSClient);
const account = mockClient(AccountClient);
const ssm = mockClient(SSMClient);
const cfn = mockClient(CloudFormationClient);
const ddb = mockClient(DynamoDBClient);
const secrets = mockClient(SecretsManagerClient);
const lambda = mockClient(LambdaClient);
const sns = mockClient(SNSClient);

const named = (name: string, message = name) => Object.assign(new Error(message), { name });
const CONFIG = config({ notifications: { criticalEmails: ['oncall@example.com'] } });

/** A fresh account where everything is ready for a first deploy. */
beforeEach(() => {
  for (const m of [sts, account, ssm, cfn, ddb, secrets, lambda, sns]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  account.on(GetRegionOptStatusCommand).resolves({ RegionOptStatus: 'ENABLED_BY_DEFAULT' });
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '27' } });
  cfn
    .on(DescribeStacksCommand)
    .rejects(named('ValidationError', 'Stack with id Mirrorbeat-orders-production does not exist'));
  ddb
    .on(DescribeTableCommand)
    .rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
  secrets.on(DescribeSecretCommand).rejects(named('ResourceNotFoundException'));
  lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
});

const run = () => preflight(CONFIG, sdkClients());
const failures = (results: PreflightCheck[]) => results.filter((r) => r.status === 'fail');

describe('mirrorbeat preflight', () => {
  it('passes a fresh account: one line per check, the three regions of quorum mode, no failure', async () => {
    const results = await run();
    expect(failures(results)).toEqual([]);
    expect(results.map((r) => r.check)).toEqual(
      expect.arrayContaining([
        'account',
        'region us-east-1',
        'region us-west-2',
        'region us-east-2',
        'quorum',
        'production region us-east-1: CDK bootstrap',
        // The witness stack (its AWS Health rule) deploys there too.
        'witness region us-east-2: CDK bootstrap',
        'table mirrorbeat-orders-heartbeat-volume in us-west-2',
        'secret mirrorbeat-orders/heartbeat-signing-key in us-east-1',
        'standby region us-west-2: Lambda concurrency',
      ]),
    );
    expect(formatPreflight(results)).toMatch(/preflight: ready for npx cdk deploy --all$/);
  });

  it('names the bootstrap command for a region that is not bootstrapped, or bootstrapped too long ago', async () => {
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(named('ParameterNotFound'))
      .resolves({ Parameter: { Value: '4' } });
    const failed = failures(await run());
    expect(failed.map((f) => [f.check, f.detail, f.fix])).toEqual([
      [
        'production region us-east-1: CDK bootstrap',
        'not bootstrapped',
        'run: npx cdk bootstrap aws://123456789012/us-east-1',
      ],
      [
        'standby region us-west-2: CDK bootstrap',
        'version 4, the templates need 6 or later',
        'run: npx cdk bootstrap aws://123456789012/us-west-2',
      ],
      [
        'witness region us-east-2: CDK bootstrap',
        'version 4, the templates need 6 or later',
        'run: npx cdk bootstrap aws://123456789012/us-east-2',
      ],
    ]);
  });

  it('refuses a region the account has not enabled', async () => {
    account.on(GetRegionOptStatusCommand, { RegionName: 'us-east-2' }).resolves({ RegionOptStatus: 'DISABLED' });
    const failed = failures(await run());
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ check: 'region us-east-2', detail: 'not enabled for the account (DISABLED)' });
  });

  it('finds a heartbeat volume and a signing key retained from an earlier deploy, and a key scheduled for deletion', async () => {
    ddb
      .on(DescribeTableCommand, { TableName: 'mirrorbeat-orders-heartbeat-volume' })
      .resolves({ Table: { TableName: 'mirrorbeat-orders-heartbeat-volume' } });
    secrets
      .on(DescribeSecretCommand)
      .resolvesOnce({ Name: 'mirrorbeat-orders/heartbeat-signing-key', DeletedDate: new Date('2026-12-20T00:00:00Z') })
      .resolves({ Name: 'mirrorbeat-orders/heartbeat-signing-key' });
    const failed = failures(await run());
    expect(failed.map((f) => f.check)).toEqual([
      'table mirrorbeat-orders-heartbeat-volume in us-east-1',
      'table mirrorbeat-orders-heartbeat-volume in us-west-2',
      'secret mirrorbeat-orders/heartbeat-signing-key in us-east-1',
      'secret mirrorbeat-orders/heartbeat-signing-key in us-west-2',
    ]);
    expect(failed[3]?.detail).toBe('exists, retained from an earlier deploy: the stack cannot create it');
    expect(failed[0]?.fix).toMatch(/docs\/OPERATIONS\.md, "Tearing down and redeploying a site"/);
    expect(failed[2]?.detail).toBe('scheduled for deletion on 2026-12-20; its name stays taken until then');
  });

  it('leaves names alone once the stacks are deployed (an update), and then checks the e-mail subscriptions', async () => {
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'x', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }] });
    ddb.on(DescribeTableCommand).resolves({ Table: {} });
    sns
      .on(ListSubscriptionsByTopicCommand)
      .resolves({ Subscriptions: [{ Endpoint: 'oncall@example.com', SubscriptionArn: 'PendingConfirmation' }] });
    const results = await run();
    expect(results.some((r) => r.check.startsWith('table '))).toBe(false);
    const failed = failures(results);
    expect(failed.map((f) => [f.check, f.detail])).toEqual([
      ['production critical subscriptions', 'not confirmed: oncall@example.com'],
      ['standby critical subscriptions', 'not confirmed: oncall@example.com'],
    ]);
    expect(sns.commandCalls(ListSubscriptionsByTopicCommand)[0]?.args[0].input.TopicArn).toBe(
      'arn:aws:sns:us-east-1:123456789012:mirrorbeat-orders-production-critical',
    );
  });

  it('refuses a stack CloudFormation cannot update', async () => {
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'x', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date() }] });
    expect(failures(await run()).map((f) => f.fix)).toEqual([
      'delete it (npx cdk destroy Mirrorbeat-orders-production), then deploy again',
      'delete it (npx cdk destroy Mirrorbeat-orders-standby), then deploy again',
    ]);
  });

  it('refuses to reserve concurrency an account does not have, and says how to go on', async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    const failed = failures(await run());
    expect(failed).toHaveLength(2);
    expect(failed[0]?.fix).toMatch(/reserveConcurrency to false/);
    const off = await preflight(
      config({ reserveConcurrency: false, notifications: { criticalEmails: ['oncall@example.com'] } }),
      sdkClients(),
    );
    expect(failures(off)).toEqual([]);
    expect(off.filter((r) => r.status === 'warn').map((r) => r.detail)).toContain(
      'reserveConcurrency is off: a workload in this account and region can throttle the beats',
    );
  });

  it('warns that nobody is paged without critical addresses', async () => {
    const results = await preflight(config(), sdkClients());
    expect(results.find((r) => r.check === 'notifications')).toMatchObject({
      status: 'warn',
      detail: 'no notifications.criticalEmails: a lost site or a failover pages nobody',
    });
  });

  it('says in one line what is missing: credentials, a permission, the network', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejects(named('CredentialsProviderError', 'Could not load credentials from any providers'));
    await expect(run()).rejects.toThrow(AwsAccessError);
    await expect(run()).rejects.toThrow(/^no AWS credentials found: set AWS_PROFILE/);
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    lambda
      .on(GetAccountSettingsCommand)
      .rejects(named('AccessDeniedException', 'User is not authorized to perform: lambda:GetAccountSettings'));
    ssm.on(GetParameterCommand).rejects(named('TimeoutError', 'connect ETIMEDOUT'));
    const failed = failures(await run());
    expect(failed.map((f) => f.detail)).toEqual([
      'cannot reach ssm in us-east-1 (TimeoutError)',
      'cannot reach ssm in us-west-2 (TimeoutError)',
      'cannot reach ssm in us-east-2 (TimeoutError)',
      'not allowed to call lambda:GetAccountSettings in us-east-1',
      'not allowed to call lambda:GetAccountSettings in us-west-2',
    ]);
    for (const f of failed) expect(f.fix).toBeDefined();
  });

  it('refuses credentials of another account than the configuration names', async () => {
    const results = await preflight(
      config({ account: '999999999999', notifications: { criticalEmails: ['a@example.com'] } }),
      sdkClients(),
    );
    expect(failures(results)[0]).toMatchObject({
      check: 'account',
      detail: 'the credentials belong to 123456789012, the configuration names 999999999999',
    });
  });
});
