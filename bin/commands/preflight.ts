import { AccountClient, GetRegionOptStatusCommand } from '@aws-sdk/client-account';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { MirrorbeatConfig } from '../../lib/config';
import { RESERVED_CONCURRENCY, SiteNames } from '../../lib/names';
import { SITE_IDS, type SiteId } from '../../lambdas/core/wire';
import { deadline } from '../../lambdas/shared/deadlines';
import { explainAwsError } from './aws';

/**
 * `mirrorbeat preflight`: what a first `cdk deploy` (or a redeploy after `cdk destroy`) would
 * trip over, asked of the account with read-only calls before anything is created.
 */

/** The bootstrap stack version the synthesized templates' CheckBootstrapVersion rule demands. */
export const MIN_BOOTSTRAP_VERSION = 6;
/** Lambda keeps this much of an account's concurrency unreserved in every region. */
export const MIN_UNRESERVED_CONCURRENCY = 100;
const BOOTSTRAP_PARAMETER = '/cdk-bootstrap/hnb659fds/version';
const CALL_DEADLINE_MS = 8_000;

export interface PreflightClients {
  readonly sts: () => STSClient;
  readonly account: () => AccountClient;
  readonly ssm: (region: string) => SSMClient;
  readonly cloudformation: (region: string) => CloudFormationClient;
  readonly dynamodb: (region: string) => DynamoDBClient;
  readonly secrets: (region: string) => SecretsManagerClient;
  readonly lambda: (region: string) => LambdaClient;
  readonly sns: (region: string) => SNSClient;
}

/** The standard credential chain, one client per service and region. */
export function sdkClients(): PreflightClients {
  const cache = new Map<string, unknown>();
  const once = <T>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  return {
    sts: () => once('sts', () => new STSClient({ region: 'us-east-1' })),
    account: () => once('account', () => new AccountClient({ region: 'us-east-1' })),
    ssm: (region) => once(`ssm ${region}`, () => new SSMClient({ region })),
    cloudformation: (region) => once(`cfn ${region}`, () => new CloudFormationClient({ region })),
    dynamodb: (region) => once(`ddb ${region}`, () => new DynamoDBClient({ region })),
    secrets: (region) => once(`sm ${region}`, () => new SecretsManagerClient({ region })),
    lambda: (region) => once(`lambda ${region}`, () => new LambdaClient({ region })),
    sns: (region) => once(`sns ${region}`, () => new SNSClient({ region })),
  };
}

export interface PreflightCheck {
  readonly status: 'ok' | 'fail' | 'warn' | 'skip';
  readonly check: string;
  readonly detail: string;
  readonly fix?: string;
}

const nameOf = (e: unknown): string => (e as { name?: string }).name ?? 'Error';

/** A call that failed for a reason other than the answer the check looks for: one line naming what to check. */
function callFailed(check: string, action: string, region: string, error: unknown): PreflightCheck {
  const name = nameOf(error);
  const message = (error as { message?: string }).message ?? String(error);
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/.test(name)) {
    return {
      status: 'fail',
      check,
      detail: `not allowed to call ${action} in ${region}`,
      fix: 'preflight needs read-only access (the ReadOnlyAccess managed policy covers every call it makes)',
    };
  }
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|getaddrinfo/.test(message)
  ) {
    return {
      status: 'fail',
      check,
      detail: `cannot reach ${action.split(':')[0]} in ${region} (${name})`,
      fix: 'check the network, an HTTPS proxy (HTTPS_PROXY) and that the region code is right',
    };
  }
  return { status: 'fail', check, detail: `${action} in ${region} failed: ${name}: ${message}` };
}

export async function preflight(config: MirrorbeatConfig, clients: PreflightClients): Promise<PreflightCheck[]> {
  const results: PreflightCheck[] = [];
  const regionOf = (site: SiteId) => (site === 'production' ? config.productionRegion : config.standbyRegion);

  // Credentials first: without them nothing else can be asked, and the error is one line.
  let account: string;
  try {
    account = (await clients.sts().send(new GetCallerIdentityCommand({}), deadline(CALL_DEADLINE_MS))).Account ?? '';
  } catch (error) {
    return explainAwsError(error);
  }
  if (config.account !== undefined && config.account !== account) {
    results.push({
      status: 'fail',
      check: 'account',
      detail: `the credentials belong to ${account}, the configuration names ${config.account}`,
      fix: 'use credentials of that account (AWS_PROFILE), or change mirrorbeat.account',
    });
  } else {
    results.push({ status: 'ok', check: 'account', detail: `credentials of account ${account}` });
  }

  // Regions: enabled for the account; in quorum mode, one region set with the witness.
  const regions = [
    config.productionRegion,
    config.standbyRegion,
    ...(config.consistency === 'strong' && config.witnessRegion !== undefined ? [config.witnessRegion] : []),
  ];
  for (const region of regions) {
    const check = `region ${region}`;
    try {
      const status = (
        await clients.account().send(new GetRegionOptStatusCommand({ RegionName: region }), deadline(CALL_DEADLINE_MS))
      ).RegionOptStatus;
      if (status === 'ENABLED' || status === 'ENABLED_BY_DEFAULT')
        results.push({ status: 'ok', check, detail: 'enabled for the account' });
      else
        results.push({
          status: 'fail',
          check,
          detail: `not enabled for the account (${status ?? 'unknown'})`,
          fix: `enable it (AWS console: Account, AWS Regions; or aws account enable-region --region-name ${region}) and wait until it shows ENABLED`,
        });
    } catch (error) {
      results.push(callFailed(check, 'account:GetRegionOptStatus', region, error));
    }
  }
  results.push(
    config.consistency === 'strong'
      ? {
          status: 'ok',
          check: 'quorum',
          detail: `quorum mode: ${config.productionRegion}, ${config.standbyRegion} and witness ${config.witnessRegion ?? '?'} are one region set of DynamoDB multi-region strong consistency`,
        }
      : {
          status: 'ok',
          check: 'quorum',
          detail:
            'two-region mode (consistency eventual): no witness region; a person decides failover unless isolationPolicy is self-fence',
        },
  );

  // Bootstrapped for CDK: the version parameter the bootstrap stack writes.
  const bootstrapped = async (where: string, region: string) => {
    const bootstrap = `${where}: CDK bootstrap`;
    try {
      const version = Number(
        (
          await clients
            .ssm(region)
            .send(new GetParameterCommand({ Name: BOOTSTRAP_PARAMETER }), deadline(CALL_DEADLINE_MS))
        ).Parameter?.Value,
      );
      if (version >= MIN_BOOTSTRAP_VERSION)
        results.push({ status: 'ok', check: bootstrap, detail: `version ${version}` });
      else
        results.push({
          status: 'fail',
          check: bootstrap,
          detail: `version ${version}, the templates need ${MIN_BOOTSTRAP_VERSION} or later`,
          fix: `run: npx cdk bootstrap aws://${account}/${region}`,
        });
    } catch (error) {
      if (nameOf(error) === 'ParameterNotFound')
        results.push({
          status: 'fail',
          check: bootstrap,
          detail: 'not bootstrapped',
          fix: `run: npx cdk bootstrap aws://${account}/${region}`,
        });
      else results.push(callFailed(bootstrap, 'ssm:GetParameter', region, error));
    }
  };

  const deployed: Partial<Record<SiteId, boolean>> = {};
  for (const site of SITE_IDS) {
    const region = regionOf(site);
    const names = new SiteNames(config.clusterName, site);

    await bootstrapped(`${site} region ${region}`, region);

    // The stack: a first deploy, an update, or a stack stuck where CloudFormation will not update it.
    const stackCheck = `${site} stack ${names.stack()}`;
    try {
      const stack = (
        await clients
          .cloudformation(region)
          .send(new DescribeStacksCommand({ StackName: names.stack() }), deadline(CALL_DEADLINE_MS))
      ).Stacks?.[0];
      deployed[site] = true;
      const status = stack?.StackStatus ?? 'UNKNOWN';
      if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED' || status === 'DELETE_FAILED') {
        results.push({
          status: 'fail',
          check: stackCheck,
          detail: `is ${status}: CloudFormation cannot update it`,
          fix: `delete it (npx cdk destroy ${names.stack()}), then deploy again`,
        });
      } else {
        results.push({ status: 'ok', check: stackCheck, detail: `deployed (${status}): cdk deploy updates it` });
      }
    } catch (error) {
      if (nameOf(error) === 'ValidationError' && /does not exist/.test((error as Error).message)) {
        deployed[site] = false;
        results.push({ status: 'ok', check: stackCheck, detail: 'not deployed yet: cdk deploy creates it' });
      } else {
        results.push(callFailed(stackCheck, 'cloudformation:DescribeStacks', region, error));
      }
    }
  }

  // Quorum mode's witness stack (its AWS Health rule) deploys into the witness region too.
  if (config.consistency === 'strong' && config.witnessRegion !== undefined)
    await bootstrapped(`witness region ${config.witnessRegion}`, config.witnessRegion);

  // Names the stacks will create that something retained from an earlier deploy still holds.
  const retainedFix =
    'docs/OPERATIONS.md, "Tearing down and redeploying a site", says how to remove it (or choose another clusterName)';
  const retained = (check: string): PreflightCheck => ({
    status: 'fail',
    check,
    detail: 'exists, retained from an earlier deploy: the stack cannot create it',
    fix: retainedFix,
  });
  // The production stack owns the heartbeat volume in both regions; each stack its own observations.
  const volumeOwner: SiteId = 'production';
  const tables: { site: SiteId; name: string; owner: SiteId }[] = [
    ...SITE_IDS.map((site) => ({
      site,
      name: new SiteNames(config.clusterName, site).heartbeatVolume,
      owner: volumeOwner,
    })),
    ...SITE_IDS.map((site) => ({ site, name: new SiteNames(config.clusterName, site).observations, owner: site })),
  ];
  for (const { site, name, owner } of tables) {
    if (deployed[owner] !== false) continue;
    const region = regionOf(site);
    const check = `table ${name} in ${region}`;
    try {
      await clients.dynamodb(region).send(new DescribeTableCommand({ TableName: name }), deadline(CALL_DEADLINE_MS));
      results.push(retained(check));
    } catch (error) {
      if (nameOf(error) === 'ResourceNotFoundException') results.push({ status: 'ok', check, detail: 'free' });
      else results.push(callFailed(check, 'dynamodb:DescribeTable', region, error));
    }
  }
  if (deployed.production === false) {
    for (const site of SITE_IDS) {
      const region = regionOf(site);
      const secretName = new SiteNames(config.clusterName, site).signingKey;
      const check = `secret ${secretName} in ${region}`;
      try {
        const secret = await clients
          .secrets(region)
          .send(new DescribeSecretCommand({ SecretId: secretName }), deadline(CALL_DEADLINE_MS));
        results.push(
          secret.DeletedDate !== undefined
            ? {
                status: 'fail',
                check,
                detail: `scheduled for deletion on ${secret.DeletedDate.toISOString().slice(0, 10)}; its name stays taken until then`,
                fix: `restore it and delete it at once: aws secretsmanager restore-secret --secret-id ${secretName} --region ${region}, then ${retainedFix.replace(/^docs/, 'see docs')}`,
              }
            : retained(check),
        );
      } catch (error) {
        if (nameOf(error) === 'ResourceNotFoundException') results.push({ status: 'ok', check, detail: 'free' });
        else results.push(callFailed(check, 'secretsmanager:DescribeSecret', region, error));
      }
    }
  }

  // Concurrency: what the stack reserves must leave the account's minimum unreserved.
  const perSite = Object.values(RESERVED_CONCURRENCY).reduce((a, b) => a + b, 0);
  for (const site of SITE_IDS) {
    const region = regionOf(site);
    const check = `${site} region ${region}: Lambda concurrency`;
    if (!config.reserveConcurrency) {
      results.push({
        status: 'warn',
        check,
        detail: 'reserveConcurrency is off: a workload in this account and region can throttle the beats',
      });
      continue;
    }
    try {
      const limits = (await clients.lambda(region).send(new GetAccountSettingsCommand({}), deadline(CALL_DEADLINE_MS)))
        .AccountLimit;
      const unreserved = limits?.UnreservedConcurrentExecutions ?? 0;
      const needed = deployed[site] === true ? 0 : perSite;
      if (unreserved - needed >= MIN_UNRESERVED_CONCURRENCY)
        results.push({
          status: 'ok',
          check,
          detail: `${unreserved} unreserved of ${limits?.ConcurrentExecutions ?? '?'}; the site reserves ${perSite}${needed === 0 ? ' (already)' : ''}`,
        });
      else
        results.push({
          status: 'fail',
          check,
          detail: `${unreserved} unreserved of ${limits?.ConcurrentExecutions ?? '?'}: reserving ${needed} would leave less than Lambda's minimum of ${MIN_UNRESERVED_CONCURRENCY}`,
          fix: 'ask for a higher "Concurrent executions" quota (Service Quotas, AWS Lambda), or set mirrorbeat.reserveConcurrency to false',
        });
    } catch (error) {
      results.push(callFailed(check, 'lambda:GetAccountSettings', region, error));
    }
  }

  // Who gets paged: addresses configured, and (once deployed) confirmed.
  const { criticalEmails, warningEmails } = config.notifications;
  if (criticalEmails.length === 0)
    results.push({
      status: 'warn',
      check: 'notifications',
      detail: 'no notifications.criticalEmails: a lost site or a failover pages nobody',
      fix: 'add the on-call address to mirrorbeat.notifications.criticalEmails (or subscribe your pager to the critical topics)',
    });
  for (const site of SITE_IDS) {
    const region = regionOf(site);
    for (const severity of ['critical', 'warning'] as const) {
      if ((severity === 'critical' ? criticalEmails : warningEmails).length === 0) continue;
      const topic = `arn:aws:sns:${region}:${account}:${new SiteNames(config.clusterName, site).topic(severity)}`;
      const check = `${site} ${severity} subscriptions`;
      if (deployed[site] !== true) {
        results.push({
          status: 'skip',
          check,
          detail: 'checked after the deploy: each address gets a confirmation e-mail then',
        });
        continue;
      }
      try {
        const subscriptions =
          (
            await clients
              .sns(region)
              .send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }), deadline(CALL_DEADLINE_MS))
          ).Subscriptions ?? [];
        const pending = subscriptions
          .filter((s) => s.SubscriptionArn === 'PendingConfirmation')
          .map((s) => s.Endpoint ?? '?');
        if (pending.length === 0) results.push({ status: 'ok', check, detail: `${subscriptions.length} confirmed` });
        else
          results.push({
            status: 'fail',
            check,
            detail: `not confirmed: ${pending.join(', ')}`,
            fix: 'each address must click the link in the "AWS Notification - Subscription Confirmation" e-mail (look in spam); until then it gets nothing',
          });
      } catch (error) {
        results.push(callFailed(check, 'sns:ListSubscriptionsByTopic', region, error));
      }
    }
  }
  return results;
}

export function formatPreflight(results: readonly PreflightCheck[]): string {
  const label = { ok: 'ok  ', fail: 'FAIL', warn: 'warn', skip: 'skip' } as const;
  const lines = results.map(
    (r) => `${label[r.status]}  ${r.check}: ${r.detail}${r.fix === undefined ? '' : `\n        fix: ${r.fix}`}`,
  );
  const failed = results.filter((r) => r.status === 'fail').length;
  lines.push(
    '',
    failed === 0
      ? 'preflight: ready for npx cdk deploy --all'
      : `preflight: ${failed} check${failed === 1 ? '' : 's'} failed; fix ${failed === 1 ? 'it' : 'them'} before npx cdk deploy --all`,
  );
  return lines.join('\n');
}
