import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { addSites } from '../../lib/app';
import { type MirrorbeatConfig, parseConfig } from '../../lib/config';
import { HANDLERS, type HandlerName, SiteNames, witnessForwarderRole } from '../../lib/names';
import { SITE_IDS, type SiteId } from '../../lambdas/core/wire';
import type { SdkCall } from '../../local/calls';
import { LOCAL_ACCOUNT } from '../../local/definitions';
import { simulateScenario } from '../../local/run';
import { loadScenario } from '../../local/scenario';
import { dynamoEndpoint } from '../local-sites';
import { type Check, decide, type PolicyDocument, ResolvedStack } from '../iam-template';

/**
 * IAM as AWS will evaluate it. The local runtime runs the deployed handler code through a few
 * scenarios and records every SDK command each handler sends; a real policy engine
 * (@cloud-copilot/iam-simulate) then decides each call against the synthesized role policy of
 * that handler and the resource's policy (bus policy, topic policy, key policy). A static scan
 * of each handler's bundle lists the commands its code can send, so a call the scenarios never
 * make cannot be forgotten: it must be checked below by name, or said not to be sent.
 */
const ROOT = path.join(__dirname, '..', '..');
const ACCOUNT = LOCAL_ACCOUNT;
const SCENARIOS = [
  'demo.json',
  'path-maintenance.json',
  'switchover-and-failback.json',
  'ebs-readiness.json',
  'workload-promotion.json',
];

/** SDK clients and the IAM service prefix of their actions. */
const SERVICE: Record<string, string> = {
  DynamoDBClient: 'dynamodb',
  EventBridgeClient: 'events',
  SNSClient: 'sns',
  SFNClient: 'states',
  CloudWatchClient: 'cloudwatch',
  LambdaClient: 'lambda',
  SecretsManagerClient: 'secretsmanager',
  Route53Client: 'route53',
  Route53RecoveryClusterClient: 'route53-recovery-cluster',
  EBSClient: 'ebs',
  EC2Client: 'ec2',
  AutoScalingClient: 'autoscaling',
  ECSClient: 'ecs',
  RDSClient: 'rds',
};
const CLIENT_OF_PACKAGE: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'DynamoDBClient',
  '@aws-sdk/lib-dynamodb': 'DynamoDBClient',
  '@aws-sdk/client-eventbridge': 'EventBridgeClient',
  '@aws-sdk/client-sns': 'SNSClient',
  '@aws-sdk/client-sfn': 'SFNClient',
  '@aws-sdk/client-cloudwatch': 'CloudWatchClient',
  '@aws-sdk/client-lambda': 'LambdaClient',
  '@aws-sdk/client-secrets-manager': 'SecretsManagerClient',
  '@aws-sdk/client-route-53': 'Route53Client',
  '@aws-sdk/client-route53-recovery-cluster': 'Route53RecoveryClusterClient',
  '@aws-sdk/client-ebs': 'EBSClient',
  '@aws-sdk/client-ec2': 'EC2Client',
  '@aws-sdk/client-auto-scaling': 'AutoScalingClient',
  '@aws-sdk/client-ecs': 'ECSClient',
  '@aws-sdk/client-rds': 'RDSClient',
};
/** lib-dynamodb's document commands and the low-level operation each becomes. */
const DOCUMENT_COMMANDS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
  TransactGetCommand: 'TransactGetItems',
  TransactWriteCommand: 'TransactWriteItems',
};
/** Operations whose IAM action has another name. */
const ACTION_NAME: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };

const actionOf = (client: string, command: string): string => {
  const service = SERVICE[client];
  if (service === undefined)
    throw new Error(`no IAM service prefix for ${client}: add it to SERVICE in test/lib/iam.test.ts`);
  const action = `${service}:${command.replace(/Command$/, '')}`;
  return ACTION_NAME[action] ?? action;
};

/** The commands a handler's code can send: every `new XCommand(` in the project files its bundle holds. */
async function commandsInBundle(handler: HandlerName): Promise<Set<string>> {
  const out = await build({
    entryPoints: [path.join(ROOT, 'lambdas', handler, 'index.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
    outdir: '/tmp/mirrorbeat-iam-scan',
  });
  const found = new Set<string>();
  for (const file of Object.keys(out.metafile.inputs)) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const importedFrom = new Map<string, string>();
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/[a-z0-9-]+)'/g)) {
      for (const name of (m[1] as string).split(',').map(
        (n) =>
          n
            .trim()
            .replace(/^type\s+/, '')
            .split(/\s+as\s+/)[0] as string,
      ))
        importedFrom.set(name, m[2] as string);
    }
    for (const m of text.matchAll(/new (\w+Command)\(/g)) {
      const name = m[1] as string;
      const pkg = importedFrom.get(name);
      if (pkg === undefined) continue; // a project class that happens to end in Command
      const client = CLIENT_OF_PACKAGE[pkg];
      if (client === undefined)
        throw new Error(
          `${file} sends ${name} from ${pkg}: add the package to CLIENT_OF_PACKAGE in test/lib/iam.test.ts`,
        );
      found.add(actionOf(client, pkg === '@aws-sdk/lib-dynamodb' ? (DOCUMENT_COMMANDS[name] ?? name) : name));
    }
  }
  return found;
}

/** Both sites of a configuration, resolved as CloudFormation would deploy them. */
function deployed(config: MirrorbeatConfig): Record<SiteId, ResolvedStack> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const sites = addSites(app, config, { account: ACCOUNT });
  return {
    production: new ResolvedStack(
      Template.fromStack(sites.production).toJSON() as never,
      sites.production.stackName,
      config.productionRegion,
      ACCOUNT,
    ),
    standby: new ResolvedStack(
      Template.fromStack(sites.standby).toJSON() as never,
      sites.standby.stackName,
      config.standbyRegion,
      ACCOUNT,
    ),
  };
}

const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

function resourcePolicyOf(stacks: Record<SiteId, ResolvedStack>, arn: string): PolicyDocument | undefined {
  for (const id of SITE_IDS) {
    const policy = stacks[id].resourcePolicies().get(arn);
    if (policy !== undefined) return policy;
  }
  return undefined;
}

/** The IAM requests one recorded call makes: the call itself, and the KMS use an encrypted topic implies. */
function checksOf(call: SdkCall, stacks: Record<SiteId, ResolvedStack>, config: MirrorbeatConfig): Check[] {
  const roleName = new SiteNames(config.clusterName, call.site).role(call.handler);
  const base = {
    principal: roleArn(roleName),
    identity: stacks[call.site].rolePolicies(roleName),
    what: `${call.site} ${call.handler}`,
  };
  const action = actionOf(call.client, call.command);
  const input = call.input as Record<string, unknown>;
  switch (call.client) {
    case 'DynamoDBClient': {
      const key = (input.Key ?? input.Item) as { pk?: string } | undefined;
      const pk = key?.pk ?? (input.ExpressionAttributeValues as Record<string, string> | undefined)?.[':pk'];
      return [
        {
          ...base,
          action,
          resource: `arn:aws:dynamodb:${call.region}:${ACCOUNT}:table/${String(input.TableName)}`,
          ...(pk === undefined ? {} : { context: { 'dynamodb:LeadingKeys': [String(pk)] } }),
        },
      ];
    }
    case 'EventBridgeClient':
      return ((input.Entries as { EventBusName: string }[]) ?? []).map((entry) => {
        const arn = entry.EventBusName.startsWith('arn:')
          ? entry.EventBusName
          : `arn:aws:events:${call.region}:${ACCOUNT}:event-bus/${entry.EventBusName}`;
        const policy = resourcePolicyOf(stacks, arn);
        return { ...base, action, resource: arn, ...(policy === undefined ? {} : { resourcePolicy: policy }) };
      });
    case 'SNSClient': {
      const topicArn = String(input.TopicArn);
      const owner = stacks[call.site].named('AWS::SNS::Topic').find((t) => t.name === topicArn);
      if (owner === undefined) throw new Error(`${topicArn} is no topic of the ${call.site} stack`);
      const keyArn = String(owner.properties.KmsMasterKeyId);
      return [
        { ...base, action, resource: topicArn, resourcePolicy: resourcePolicyOf(stacks, topicArn) },
        ...['kms:GenerateDataKey', 'kms:Decrypt'].map((kms) => ({
          ...base,
          what: `${base.what} (for ${topicArn})`,
          action: kms,
          resource: keyArn,
          resourcePolicy: resourcePolicyOf(stacks, keyArn) as PolicyDocument,
        })),
      ];
    }
    case 'SFNClient':
      return [{ ...base, action, resource: String(input.stateMachineArn) }];
    case 'LambdaClient':
      // The fence step invoking the peer's failover steps (the workload fence) by its ARN.
      return [{ ...base, action, resource: input.FunctionName as string }];
    case 'CloudWatchClient':
    case 'EC2Client':
      // Neither GetMetricData nor DescribeSnapshots has resource-level permissions.
      return [{ ...base, action, resource: '*' }];
    case 'EBSClient': {
      // The EBS direct APIs act on the snapshot named in the path (the second one for ListChangedBlocks).
      const snapshot = String(input.SnapshotId ?? input.SecondSnapshotId);
      return [{ ...base, action, resource: `arn:aws:ec2:${call.region}::snapshot/${snapshot}` }];
    }
    case 'Route53Client': {
      if (call.command === 'GetChangeCommand')
        return [
          { ...base, action, resource: `arn:aws:route53:::change/${String(input.Id).replace(/^\/change\//, '')}` },
        ];
      if (input.HealthCheckId !== undefined)
        return [{ ...base, action, resource: `arn:aws:route53:::healthcheck/${input.HealthCheckId as string}` }];
      const zone = `arn:aws:route53:::hostedzone/${String(input.HostedZoneId)}`;
      const changes = (input.ChangeBatch as { Changes?: { ResourceRecordSet: { Name: string; Type: string } }[] })
        ?.Changes;
      // ChangeResourceRecordSets is authorized on the names and types it changes.
      return [
        {
          ...base,
          action,
          resource: zone,
          ...(changes === undefined
            ? {}
            : {
                context: {
                  'route53:ChangeResourceRecordSetsNormalizedRecordNames': changes.map((c) =>
                    c.ResourceRecordSet.Name.toLowerCase().replace(/\.$/, ''),
                  ),
                  'route53:ChangeResourceRecordSetsRecordTypes': changes.map((c) => c.ResourceRecordSet.Type),
                  'route53:ChangeResourceRecordSetsActions': changes.map(() => 'UPSERT'),
                },
              }),
        },
      ];
    }
    case 'AutoScalingClient':
      // Describe has no resource-level permissions; an update acts on the group (its ARN holds a generated id).
      return [
        {
          ...base,
          action,
          resource:
            call.command === 'UpdateAutoScalingGroupCommand'
              ? `arn:aws:autoscaling:${call.region}:${ACCOUNT}:autoScalingGroup:0f1e2d3c-4b5a-6978-8899-aabbccddeeff:autoScalingGroupName/${String(input.AutoScalingGroupName)}`
              : '*',
        },
      ];
    case 'ECSClient':
      return [
        {
          ...base,
          action,
          // DescribeServices names its services in a list; UpdateService one.
          resource: `arn:aws:ecs:${call.region}:${ACCOUNT}:service/${String(input.cluster)}/${String((input.services as string[] | undefined)?.[0] ?? input.service)}`,
        },
      ];
    case 'RDSClient': {
      if (call.command === 'DescribeDBClustersCommand')
        return [{ ...base, action, resource: String(input.DBClusterIdentifier) }];
      const global = `arn:aws:rds::${ACCOUNT}:global-cluster:${String(input.GlobalClusterIdentifier)}`;
      // Moving the writer is authorized on the global cluster and on the member cluster it promotes.
      return [
        { ...base, action, resource: global },
        ...(input.TargetDbClusterIdentifier === undefined
          ? []
          : [{ ...base, action, resource: input.TargetDbClusterIdentifier as string }]),
      ];
    }
    default:
      throw new Error(
        `no resource model for ${call.client} ${call.command}: add it to checksOf in test/lib/iam.test.ts`,
      );
  }
}

const describeChecks = async (checks: Check[]): Promise<string[]> => {
  const outcomes = await Promise.all(checks.map(async (c) => ({ c, outcome: await decide(c) })));
  return outcomes
    .filter((o) => o.outcome !== 'Allowed')
    .map(
      ({ c, outcome }) =>
        `${c.what}: ${c.action} on ${c.resource}${c.context ? ` ${JSON.stringify(c.context)}` : ''}: ${outcome}`,
    );
};

describe('IAM, evaluated by a policy engine over the synthesized templates', () => {
  const observed = new Map<HandlerName, Set<string>>(HANDLERS.map((h) => [h, new Set<string>()]));
  const denied: string[] = [];
  const distinct = new Map<string, Check>();

  beforeAll(async () => {
    // The scenarios run side by side: the runtime waits on DynamoDB Local most of the time.
    const runs = await Promise.all(
      SCENARIOS.map(async (file) => {
        const scenario = loadScenario(path.join(ROOT, 'local', 'scenarios', file));
        const calls: SdkCall[] = [];
        await simulateScenario(scenario, { dynamoEndpoint: dynamoEndpoint(), onCall: (call) => calls.push(call) });
        return { scenario, calls };
      }),
    );
    for (const { scenario, calls } of runs) {
      const stacks = deployed(scenario.config);
      for (const call of calls) {
        observed.get(call.handler)?.add(actionOf(call.client, call.command));
        for (const check of checksOf(call, stacks, scenario.config))
          distinct.set(
            JSON.stringify([
              check.what,
              check.action,
              check.resource,
              check.context,
              check.resourcePolicy === undefined,
            ]),
            check,
          );
      }
    }
    denied.push(...(await describeChecks([...distinct.values()])));
  }, 300_000);

  it('allows every call the handlers make in the local runtime (each handler its own role, each resource its own policy)', () => {
    expect(distinct.size).toBeGreaterThan(40);
    expect(denied).toEqual([]);
  });

  // Calls the scenarios do not make: the local runtime stubs the signing key, the health
  // sources and the hooks, and emulates no Route 53 or ARC. Each is checked here by name,
  // against a configuration that turns it on.
  const FULL = parseConfig({
    clusterName: 'orders',
    productionRegion: 'us-east-1',
    standbyRegion: 'us-west-2',
    health: { alarmNames: ['orders-5xx'] },
    fenceHookFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:fence-hook`,
    promotion: {
      hookFunctionArn: `arn:aws:lambda:us-west-2:${ACCOUNT}:function:promote-hook`,
      route53FailoverRecord: {
        hostedZoneId: 'Z0123456789ABC',
        recordName: 'api.example.com',
        healthCheckId: '0b7c0a2e-3f2f-4a8e-9c55-3c1f0f0e9a11',
      },
      arc: {
        clusterEndpoints: [{ url: 'https://host-a.us-east-1.example.com/v1', region: 'us-east-1' }],
        routingControls: {
          production: `arn:aws:route53-recovery-control::${ACCOUNT}:controlpanel/abc/routingcontrol/p1`,
          standby: `arn:aws:route53-recovery-control::${ACCOUNT}:controlpanel/abc/routingcontrol/s1`,
        },
      },
    },
  });
  const full = deployed(FULL);
  const names = (site: SiteId) => new SiteNames(FULL.clusterName, site);
  const region = (site: SiteId) => (site === 'production' ? FULL.productionRegion : FULL.standbyRegion);
  const secretArn = (site: SiteId) =>
    `arn:aws:secretsmanager:${region(site)}:${ACCOUNT}:secret:${names(site).signingKey}-AbCdEf`;
  const NOT_EXERCISED: Record<HandlerName, { action: string; resource: (site: SiteId) => string }[]> = {
    'heartbeat-module': [
      { action: 'secretsmanager:GetSecretValue', resource: secretArn },
      {
        action: 'cloudwatch:DescribeAlarms',
        resource: (site) => `arn:aws:cloudwatch:${region(site)}:${ACCOUNT}:alarm:orders-5xx`,
      },
      { action: 'lambda:InvokeFunction', resource: () => FULL.fenceHookFunctionArn as string },
      // Asked only once a failover attempt ended (failover-start.ts); the scenarios here end none that way.
      {
        action: 'states:DescribeExecution',
        resource: (site) =>
          `arn:aws:states:${region(site)}:${ACCOUNT}:execution:mirrorbeat-orders-${site}-failover:failover-e2-1`,
      },
    ],
    'network-receiver': [{ action: 'secretsmanager:GetSecretValue', resource: secretArn }],
    'failover-steps': [
      { action: 'secretsmanager:GetSecretValue', resource: secretArn },
      // The readiness check: who would receive an approval request (the critical topic only).
      {
        action: 'sns:ListSubscriptionsByTopic',
        resource: (site) => `arn:aws:sns:${region(site)}:${ACCOUNT}:${names(site).topic('critical')}`,
      },
      { action: 'lambda:InvokeFunction', resource: () => FULL.fenceHookFunctionArn as string },
      { action: 'lambda:InvokeFunction', resource: () => FULL.promotion.hookFunctionArn as string },
      {
        action: 'route53:GetHealthCheck',
        resource: () => 'arn:aws:route53:::healthcheck/0b7c0a2e-3f2f-4a8e-9c55-3c1f0f0e9a11',
      },
      // Whether the PRIMARY record carries the check.
      { action: 'route53:ListResourceRecordSets', resource: () => 'arn:aws:route53:::hostedzone/Z0123456789ABC' },
      {
        action: 'route53:UpdateHealthCheck',
        resource: () => 'arn:aws:route53:::healthcheck/0b7c0a2e-3f2f-4a8e-9c55-3c1f0f0e9a11',
      },
      {
        action: 'route53-recovery-cluster:UpdateRoutingControlStates',
        resource: () => FULL.promotion.arc?.routingControls.standby as string,
      },
      {
        action: 'route53-recovery-cluster:UpdateRoutingControlStates',
        resource: () => FULL.promotion.arc?.routingControls.production as string,
      },
    ],
    'path-control-steps': [{ action: 'secretsmanager:GetSecretValue', resource: secretArn }],
  };
  /** Bundled with a handler (shared modules) but never sent by it. */
  const BUNDLED_NOT_SENT: Partial<Record<HandlerName, Record<string, string>>> = {
    'network-receiver': {
      'dynamodb:Query': 'the receiver shares SiteStore but never lists commands or notices',
      'dynamodb:DeleteItem': 'the receiver shares SiteStore but never deletes commands',
    },
    'path-control-steps': {
      'dynamodb:Query': 'path control shares SiteStore and the notice journal, but its notify step only appends',
      'dynamodb:DeleteItem': 'path control shares SiteStore but never deletes commands',
    },
    'failover-steps': {
      'dynamodb:Query': 'the failover steps share SiteStore and the notice journal, but never list',
      'dynamodb:DeleteItem': 'the failover steps share SiteStore but never delete commands',
    },
  };

  it('allows the calls the local runtime does not make (signing key, health alarms, hooks, Route 53, ARC), on exactly what the configuration names', async () => {
    const checks = HANDLERS.flatMap((handler) =>
      SITE_IDS.flatMap((site) =>
        NOT_EXERCISED[handler].map(({ action, resource }) => {
          const role = names(site).role(handler);
          return {
            what: `${site} ${handler}`,
            principal: roleArn(role),
            identity: full[site].rolePolicies(role),
            action,
            resource: resource(site),
          } satisfies Check;
        }),
      ),
    );
    expect(await describeChecks(checks)).toEqual([]);
  });

  it.each(HANDLERS)(
    'accounts for every command the %s code can send (a call added later cannot go unchecked)',
    async (handler) => {
      const inBundle = await commandsInBundle(handler);
      expect(inBundle.size).toBeGreaterThan(0);
      const listed = new Set(NOT_EXERCISED[handler].map((n) => n.action));
      const unaccounted = [...inBundle].filter(
        (a) => !observed.get(handler)?.has(a) && !listed.has(a) && BUNDLED_NOT_SENT[handler]?.[a] === undefined,
      );
      expect(unaccounted).toEqual([]);
    },
  );

  describe('what the policies refuse', () => {
    const stacks = deployed(
      parseConfig({ clusterName: 'orders', productionRegion: 'us-east-1', standbyRegion: 'us-west-2' }),
    );
    const n = (site: SiteId) => new SiteNames('orders', site);
    const bus = (site: SiteId) =>
      `arn:aws:events:${site === 'production' ? 'us-east-1' : 'us-west-2'}:${ACCOUNT}:event-bus/${n(site).siteBus}`;
    const anyPutEvents: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }],
    };

    it.each(SITE_IDS)(
      'the %s bus denies a principal of the account whose own policy allows PutEvents anywhere',
      async (site) => {
        const outcome = await decide({
          what: 'workload',
          principal: roleArn('some-workload'),
          identity: [anyPutEvents],
          action: 'events:PutEvents',
          resource: bus(site),
          resourcePolicy: resourcePolicyOf(stacks, bus(site)),
        });
        expect(outcome).toBe('ExplicitlyDenied');
      },
    );

    it("admits the witness stack's forwarder on both site buses, and lets it do nothing else", async () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const sites = addSites(
        app,
        parseConfig({ clusterName: 'orders', productionRegion: 'us-east-1', standbyRegion: 'us-west-2' }),
        { account: ACCOUNT },
      );
      if (sites.witness === undefined) throw new Error('quorum mode has a witness stack');
      const witness = new ResolvedStack(
        Template.fromStack(sites.witness).toJSON() as never,
        sites.witness.stackName,
        'us-east-2',
        ACCOUNT,
      );
      const role = witnessForwarderRole('orders');
      const forward = (action: string, resource: string, resourcePolicy?: PolicyDocument) =>
        decide({
          what: 'witness forwarder',
          principal: roleArn(role),
          identity: witness.rolePolicies(role),
          action,
          resource,
          ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
        });
      for (const site of SITE_IDS)
        expect(await forward('events:PutEvents', bus(site), resourcePolicyOf(stacks, bus(site)))).toBe('Allowed');
      expect(await forward('events:PutEvents', `arn:aws:events:us-east-2:${ACCOUNT}:event-bus/default`)).toBe(
        'ImplicitlyDenied',
      );
      expect(await forward('events:DeleteEventBus', bus('standby'), resourcePolicyOf(stacks, bus('standby')))).toBe(
        'ImplicitlyDenied',
      );
    });

    it('the receiver may not write the heartbeat volume, nor the failover steps any observation but the serial counter', async () => {
      const receiver = n('standby').role('network-receiver');
      const steps = n('standby').role('failover-steps');
      const table = (name: string) => `arn:aws:dynamodb:us-west-2:${ACCOUNT}:table/${name}`;
      expect(
        await decide({
          what: 'receiver',
          principal: roleArn(receiver),
          identity: stacks.standby.rolePolicies(receiver),
          action: 'dynamodb:UpdateItem',
          resource: table(n('standby').heartbeatVolume),
        }),
      ).toBe('ImplicitlyDenied');
      expect(
        await decide({
          what: 'steps',
          principal: roleArn(steps),
          identity: stacks.standby.rolePolicies(steps),
          action: 'dynamodb:UpdateItem',
          resource: table(n('standby').observations),
          context: { 'dynamodb:LeadingKeys': ['OBS'] },
        }),
      ).toBe('ImplicitlyDenied');
      expect(
        await decide({
          what: 'steps',
          principal: roleArn(steps),
          identity: stacks.standby.rolePolicies(steps),
          action: 'dynamodb:UpdateItem',
          resource: table(n('standby').observations),
          context: { 'dynamodb:LeadingKeys': ['SERIAL'] },
        }),
      ).toBe('Allowed');
    });
  });

  it("lets the promote step change only the workload the configuration names: the pair's own record, its region's groups and services, its global database", async () => {
    const config = loadScenario(path.join(ROOT, 'local', 'scenarios', 'workload-promotion.json')).config;
    const stacks = deployed(config);
    const role = new SiteNames(config.clusterName, 'standby').role('failover-steps');
    const as = (action: string, resource: string, context?: Record<string, string[]>) =>
      decide({
        what: 'standby failover-steps',
        principal: roleArn(role),
        identity: stacks.standby.rolePolicies(role),
        action,
        resource,
        ...(context === undefined ? {} : { context }),
      });
    const records = (name: string, type = 'A') => ({
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': [name],
      'route53:ChangeResourceRecordSetsRecordTypes': [type],
      'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
    });
    const zone = 'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ';
    expect(await as('route53:ChangeResourceRecordSets', zone, records('api.orders.example.com'))).toBe('Allowed');
    expect(await as('route53:ChangeResourceRecordSets', zone, records('www.orders.example.com'))).toBe(
      'ImplicitlyDenied',
    );
    expect(await as('route53:ChangeResourceRecordSets', zone, records('api.orders.example.com', 'TXT'))).toBe(
      'ImplicitlyDenied',
    );
    const group = (region: string, name: string) =>
      `arn:aws:autoscaling:${region}:${ACCOUNT}:autoScalingGroup:0f1e2d3c-4b5a-6978-8899-aabbccddeeff:autoScalingGroupName/${name}`;
    expect(await as('autoscaling:UpdateAutoScalingGroup', group('us-west-2', 'orders-workers-usw2'))).toBe('Allowed');
    expect(await as('autoscaling:UpdateAutoScalingGroup', group('us-west-2', 'billing'))).toBe('ImplicitlyDenied');
    expect(await as('autoscaling:UpdateAutoScalingGroup', group('us-east-1', 'orders-workers-use1'))).toBe(
      'ImplicitlyDenied',
    );
    expect(await as('ecs:UpdateService', `arn:aws:ecs:us-west-2:${ACCOUNT}:service/orders-usw2/billing`)).toBe(
      'ImplicitlyDenied',
    );
    expect(await as('rds:FailoverGlobalCluster', `arn:aws:rds::${ACCOUNT}:global-cluster:orders-global`)).toBe(
      'Allowed',
    );
    expect(await as('rds:FailoverGlobalCluster', `arn:aws:rds::${ACCOUNT}:global-cluster:billing-global`)).toBe(
      'ImplicitlyDenied',
    );
  });

  describe('the services that act for the stack', () => {
    const stacks = deployed(
      parseConfig({
        clusterName: 'orders',
        productionRegion: 'us-east-1',
        standbyRegion: 'us-west-2',
        notifications: { criticalEmails: ['oncall@example.com'] },
      }),
    );

    it.each(SITE_IDS)(
      'CloudWatch may publish every %s alarm to its topic, and encrypt for it; an alarm of another application may not',
      async (site) => {
        const s = stacks[site];
        const checks: Check[] = [];
        for (const alarm of s.named('AWS::CloudWatch::Alarm')) {
          const alarmArn = `arn:aws:cloudwatch:${s.region}:${ACCOUNT}:alarm:${String(alarm.properties.AlarmName)}`;
          for (const topicArn of alarm.properties.AlarmActions as string[]) {
            const topic = s.named('AWS::SNS::Topic').find((t) => t.name === topicArn);
            const keyArn = String(topic?.properties.KmsMasterKeyId);
            const context = { 'aws:SourceArn': alarmArn, 'aws:SourceAccount': ACCOUNT };
            checks.push({
              what: `alarm ${String(alarm.properties.AlarmName)}`,
              principal: 'cloudwatch.amazonaws.com',
              identity: [],
              action: 'sns:Publish',
              resource: topicArn,
              resourcePolicy: resourcePolicyOf(stacks, topicArn),
              context,
            });
            checks.push({
              what: `alarm ${String(alarm.properties.AlarmName)}`,
              principal: 'cloudwatch.amazonaws.com',
              identity: [],
              action: 'kms:GenerateDataKey',
              resource: keyArn,
              resourcePolicy: resourcePolicyOf(stacks, keyArn),
              context,
            });
          }
        }
        expect(checks.length).toBeGreaterThan(20);
        expect(await describeChecks(checks)).toEqual([]);
        const topicArn = s.named('AWS::SNS::Topic')[0]?.name as string;
        const stranger = await decide({
          what: 'stranger',
          principal: 'cloudwatch.amazonaws.com',
          identity: [],
          action: 'sns:Publish',
          resource: topicArn,
          resourcePolicy: resourcePolicyOf(stacks, topicArn),
          context: {
            'aws:SourceArn': `arn:aws:cloudwatch:${s.region}:${ACCOUNT}:alarm:billing-high`,
            'aws:SourceAccount': ACCOUNT,
          },
        });
        expect(stranger).not.toBe('Allowed');
      },
    );

    it.each(SITE_IDS)(
      'EventBridge may invoke the %s receiver from its rule, Scheduler the heartbeat module, each state machine its step handler',
      async (site) => {
        const s = stacks[site];
        const checks: Check[] = [];
        for (const rule of s.named('AWS::Events::Rule')) {
          const ruleArn = s.getAtt(rule.id, 'Arn');
          for (const target of rule.properties.Targets as { Arn: string }[]) {
            checks.push({
              what: `rule ${rule.id}`,
              principal: 'events.amazonaws.com',
              identity: [],
              action: 'lambda:InvokeFunction',
              resource: target.Arn,
              resourcePolicy: resourcePolicyOf(stacks, target.Arn),
              context: { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': ACCOUNT },
            });
          }
        }
        for (const schedule of s.named('AWS::Scheduler::Schedule')) {
          const target = schedule.properties.Target as { Arn: string; RoleArn: string };
          const roleName = target.RoleArn.split('/').pop() as string;
          checks.push({
            what: 'scheduler trust',
            principal: 'scheduler.amazonaws.com',
            identity: [],
            action: 'sts:AssumeRole',
            resource: target.RoleArn,
            resourcePolicy: s.trustPolicy(roleName),
            context: { 'aws:SourceAccount': ACCOUNT },
          });
          checks.push({
            what: 'schedule role',
            principal: target.RoleArn,
            identity: s.rolePolicies(roleName),
            action: 'lambda:InvokeFunction',
            resource: target.Arn,
          });
        }
        for (const machine of s.named('AWS::StepFunctions::StateMachine')) {
          const roleName = String(machine.properties.RoleArn).split('/').pop() as string;
          const definition = JSON.stringify(machine.properties.DefinitionString);
          const steps = s.named('AWS::Lambda::Function').filter((f) => definition.includes(`function:${f.name}`));
          expect(steps).toHaveLength(1);
          checks.push({
            what: `state machine ${machine.name}`,
            principal: roleArn(roleName),
            identity: s.rolePolicies(roleName),
            action: 'lambda:InvokeFunction',
            resource: `arn:aws:lambda:${s.region}:${ACCOUNT}:function:${steps[0]?.name}`,
          });
        }
        expect(checks.length).toBeGreaterThanOrEqual(5);
        expect(await describeChecks(checks)).toEqual([]);
      },
    );

    it.each(SITE_IDS)(
      'CloudWatch Logs may use the %s site key for each of its log groups, all of which are encrypted with it',
      async (site) => {
        const s = stacks[site];
        const key = s.named('AWS::KMS::Key')[0]?.id as string;
        const keyArn = s.getAtt(key, 'Arn');
        const groups = s.named('AWS::Logs::LogGroup');
        expect(groups).toHaveLength(6);
        // iam-simulate resolves slash-delimited variable keys only (aws:RequestTag/<key>), not
        // kms:EncryptionContext:<key>; the key's condition is evaluated under a stand-in global key.
        const STAND_IN = 'aws:SourceArn';
        const policy = JSON.parse(
          JSON.stringify(resourcePolicyOf(stacks, keyArn)).replaceAll('kms:EncryptionContext:aws:logs:arn', STAND_IN),
        ) as PolicyDocument;
        expect(JSON.stringify(policy)).toContain(STAND_IN);
        const checks: Check[] = groups.map((g) => {
          expect(g.properties.KmsKeyId).toBe(keyArn);
          return {
            what: `log group ${g.name}`,
            principal: `logs.${s.region}.amazonaws.com`,
            identity: [],
            action: 'kms:GenerateDataKey',
            resource: keyArn,
            resourcePolicy: policy,
            context: { [STAND_IN]: `arn:aws:logs:${s.region}:${ACCOUNT}:log-group:${g.name}` },
          };
        });
        // A log group of another region may not use the key.
        expect(
          await decide({
            what: 'elsewhere',
            principal: `logs.${s.region}.amazonaws.com`,
            identity: [],
            action: 'kms:GenerateDataKey',
            resource: keyArn,
            resourcePolicy: policy,
            context: { [STAND_IN]: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:x` },
          }),
        ).not.toBe('Allowed');
        expect(await describeChecks(checks)).toEqual([]);
      },
    );
  });
});
