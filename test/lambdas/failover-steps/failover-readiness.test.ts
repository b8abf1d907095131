import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EBSClient } from '@aws-sdk/client-ebs';
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { ListSubscriptionsByTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { promotionActionsOf } from '../../../lib/config';
import { parseReadiness, type ReadinessReport } from '../../../lambdas/core/readiness';
import { recordedQuorum } from '../../../lambdas/core/quorum';
import {
  checkReadiness,
  failoverReadiness,
  type ReadinessDeps,
} from '../../../lambdas/failover-steps/failover-readiness';
import { siteNoticeDesk } from '../../../lambdas/shared/notifier';
import { asHandler, type SdkCall } from '../../../local/calls';
import { emulate } from '../../../local/emulate';
import { type Caller, WorkloadFake } from '../../../local/fakes/workload';
import { EbsFake, snapshotPair } from '../../../local/fakes/ebs';
import { config } from '../../helpers';
import { type LocalSite, localSites, TEST_KEY } from '../../local-sites';

/**
 * The continuous readiness check (issue 34.2) on DynamoDB Local, its promotion targets read from the local workload
 * fake (Route 53, Auto Scaling, ECS, Aurora: the fake the local runtime promotes), through the real SDK clients. SNS,
 * CloudWatch and Lambda have no local implementation: mocked.
 */
const NOW = Date.UTC(2026, 11, 7, 21, 0, 0);
const PROD_DB = 'arn:aws:rds:us-east-1:123456789012:cluster:orders-use1';
const STANDBY_DB = 'arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2';
const FENCE_HOOK = 'arn:aws:lambda:us-west-2:123456789012:function:fence-hook';
const CRITICAL = 'arn:aws:sns:us-west-2:123456789012:mirrorbeat-orders-standby-critical';
const CONFIG = {
  promotion: {
    capacity: {
      standby: {
        autoScalingGroups: [{ name: 'workers', minSize: 2, desiredCapacity: 4 }],
        ecsServices: [{ cluster: 'orders', service: 'api', desiredCount: 6 }],
      },
    },
    auroraGlobalDatabase: {
      globalClusterIdentifier: 'orders-global',
      clusterArns: { production: PROD_DB, standby: STANDBY_DB },
    },
    route53Records: {
      hostedZoneId: 'Z0123456789ABC',
      recordName: 'api.example.com',
      recordType: 'A',
      routing: 'failover',
      setIdentifiers: { production: 'use1', standby: 'usw2' },
    },
  },
};

const sns = mockClient(SNSClient);
const cloudwatch = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
let sites: { production: LocalSite; standby: LocalSite };
let workload: WorkloadFake;

beforeEach(async () => {
  sites = await localSites(CONFIG);
  workload = new WorkloadFake(config(CONFIG), { production: 'us-east-1', standby: 'us-west-2' }, () => NOW);
  for (const mock of [sns, cloudwatch, lambda]) mock.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sns.on(ListSubscriptionsByTopicCommand).resolves({
    Subscriptions: [{ SubscriptionArn: `${CRITICAL}:0b7c0a2e`, Protocol: 'email', Endpoint: 'oncall@example.com' }],
  });
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [700] }] });
  lambda.on(InvokeCommand).resolves({ StatusCode: 204 });
});

function deps(site: LocalSite, overrides: Partial<ReadinessDeps> = {}): ReadinessDeps {
  const caller: Caller = { region: site.settings.region, note: () => undefined, reachable: () => true };
  const c = config(CONFIG);
  return {
    settings: site.settings,
    store: site.store,
    db: site.db,
    peerCloudWatch: new CloudWatchClient({ region: site.settings.peerRegion }),
    keys: { current: async () => TEST_KEY },
    peerEvents: new EventBridgeClient({ region: site.settings.peerRegion }),
    peerBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/mirrorbeat-orders-production',
    actions: promotionActionsOf(c, site.settings.site),
    route53: emulate(new Route53Client({ region: 'us-east-1' }), workload.route53(caller)),
    autoScaling: emulate(new AutoScalingClient({ region: site.settings.region }), workload.autoScaling(caller)),
    ecs: emulate(new ECSClient({ region: site.settings.region }), workload.ecs(caller)),
    rds: emulate(new RDSClient({ region: site.settings.region }), workload.rds(caller)),
    arcFor: ({ region }) => new Route53RecoveryClusterClient({ region }),
    events: new EventBridgeClient({ region: site.settings.region }),
    lambdaFor: () => new LambdaClient({ region: site.settings.region }),
    siteBus: 'mirrorbeat-orders-standby',
    promotionHook: undefined,
    fenceHook: FENCE_HOOK,
    peerWorkloadFence: undefined,
    notices: siteNoticeDesk({
      settings: site.settings,
      sns: new SNSClient({ region: site.settings.region }),
      topics: { warning: 'arn:aws:sns:us-west-2:123456789012:w', critical: CRITICAL },
      db: site.db,
      timeoutMs: 5_000,
      log: () => undefined,
    }),
    readiness: undefined,
    ebs: new EBSClient({ region: site.settings.region }),
    ec2: new EC2Client({ region: site.settings.region }),
    sns: new SNSClient({ region: site.settings.region }),
    approvalTopic: CRITICAL,
    now: () => NOW,
    ...overrides,
  };
}

const check = (report: ReadinessReport, name: string) => report.checks.find((c) => c.name === name);
const failing = (report: ReadinessReport) => report.checks.filter((c) => !c.ok).map((c) => c.name);
const withTuning = (site: LocalSite, tuning: Partial<LocalSite['settings']['tuning']>) => ({
  settings: { ...site.settings, tuning: { ...site.settings.tuning, ...tuning } },
});

describe('failover readiness: would a failover to this site succeed now?', () => {
  it('passes at a standby whose every target exists, and reads them without changing anything', async () => {
    const made: SdkCall[] = [];
    const report = await asHandler(
      { handler: 'failover-steps', site: 'standby', region: 'us-west-2', sink: (c) => made.push(c) },
      () => failoverReadiness(deps(sites.standby)),
    );
    expect(failing(report)).toEqual([]);
    expect(report).toMatchObject({ ready: true, site: 'standby', atMs: NOW });
    expect(report.checks.map((c) => c.name)).toEqual([
      'role',
      'failover-mode',
      'maintenance',
      'quorum',
      'replication-lag',
      'cooldown',
      'action:capacity',
      'action:aurora-global-database',
      'action:route53-records',
      'action:site-promoted-event',
      'fence-hook',
    ]);
    expect(check(report, 'action:capacity')?.reason).toContain('workers min 0→2, desired 0→4');
    expect(check(report, 'action:aurora-global-database')?.reason).toContain(
      'would FailoverGlobalCluster orders-global to orders-usw2',
    );
    expect(check(report, 'fence-hook')?.reason).toContain('invocable');
    // Reads only: the workload is where it was, and the hook was asked for a DryRun, not run.
    expect(made.map((c) => c.command)).toEqual(
      expect.arrayContaining([
        'DescribeAutoScalingGroupsCommand',
        'DescribeServicesCommand',
        'DescribeGlobalClustersCommand',
        'ListResourceRecordSetsCommand',
      ]),
    );
    expect(made.map((c) => c.command).filter((c) => !/^(Describe|List|Get)/.test(c))).toEqual([]);
    expect(workload.groups.get('us-west-2')?.get('workers')).toMatchObject({ MinSize: 0, DesiredCapacity: 0 });
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toEqual({
      FunctionName: FENCE_HOOK,
      InvocationType: 'DryRun',
    });
  });

  it('says nothing more than its role at the primary: the standby answers for a failover to it', async () => {
    const report = await failoverReadiness(deps(sites.production));
    expect(report.ready).toBe(true);
    expect(report.checks).toEqual([
      {
        name: 'role',
        ok: true,
        reason: expect.stringContaining('production is primary at epoch 1: a failover would promote standby'),
      },
    ]);
  });

  it('fails on a promotion target that is gone, naming it, and still runs every other check', async () => {
    workload.groups.get('us-west-2')?.delete('workers');
    const report = await failoverReadiness(deps(sites.standby));
    expect(report.ready).toBe(false);
    expect(failing(report)).toEqual(['action:capacity']);
    expect(check(report, 'action:capacity')?.reason).toBe(
      'promotion.capacity: no Auto Scaling group workers in this region; correct its name',
    );
  });

  it('fails on a hook this site may not invoke', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(
        Object.assign(new Error('not authorized to perform: lambda:InvokeFunction'), { name: 'AccessDeniedException' }),
      );
    const report = await failoverReadiness(deps(sites.standby));
    expect(failing(report)).toEqual(['fence-hook']);
    expect(check(report, 'fence-hook')?.reason).toBe(
      'could not check: AccessDeniedException: not authorized to perform: lambda:InvokeFunction',
    );
  });

  it('under failoverMode approval, fails while no confirmed subscription would receive the request', async () => {
    sns
      .on(ListSubscriptionsByTopicCommand)
      .resolvesOnce({ Subscriptions: [{ SubscriptionArn: 'PendingConfirmation' }], NextToken: 'page-2' })
      .resolvesOnce({ Subscriptions: [{ SubscriptionArn: 'Deleted' }, { Endpoint: 'oncall@example.com' }] });
    const approval = deps(sites.standby, withTuning(sites.standby, { failoverMode: 'approval' }));
    const report = await failoverReadiness(approval);
    expect(failing(report)).toEqual(['failover-mode']);
    expect(check(report, 'failover-mode')?.reason).toContain(
      'no confirmed subscription to the critical topic (1 pending confirmation)',
    );
    // Every page was read.
    expect(sns.commandCalls(ListSubscriptionsByTopicCommand).map((c) => c.args[0].input)).toEqual([
      { TopicArn: CRITICAL, NextToken: undefined },
      { TopicArn: CRITICAL, NextToken: 'page-2' },
    ]);
    // One confirmed subscription is enough.
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [{ SubscriptionArn: `${CRITICAL}:1` }] });
    expect(check(await failoverReadiness(approval), 'failover-mode')).toMatchObject({ ok: true });
  });

  it('fails under maintenance mode, on replication lag over the RPO budget, and on a degraded quorum', async () => {
    const { standby } = sites;
    await standby.store.writeMaintenance({ on: true, reason: 'patching', by: 'cli:ana', sinceMs: NOW - 60_000 });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [45_000] }] });
    await standby.store.views.recordView(
      'standby',
      'quorum',
      recordedQuorum({ majority: true, peerReplica: 'unreachable', witness: 'unknown', degraded: true, why: [] }),
      NOW - 120_000,
      'module-a',
    );
    const report = await failoverReadiness(deps(standby, withTuning(standby, { consistency: 'strong' })));
    expect(failing(report)).toEqual(['maintenance', 'quorum', 'replication-lag']);
    expect(check(report, 'maintenance')?.reason).toContain('by cli:ana (patching): no automatic failover');
    expect(check(report, 'quorum')?.reason).toContain("production's replica unreachable");
    expect(check(report, 'replication-lag')?.reason).toBe(
      `replication lag 45000 ms against a budget of ${standby.settings.tuning.rpoBudgetSeconds * 1000} ms`,
    );
  });

  it('records each report in the view and says readiness-failed once, then readiness-restored', async () => {
    const { standby } = sites;
    let now = NOW;
    const at = () => deps(standby, { now: () => now });
    workload.groups.get('us-west-2')?.delete('workers');
    const first = await checkReadiness(at());
    expect(first.notice).toMatchObject({
      kind: 'readiness-failed',
      detail: {
        failing: ['action:capacity'],
        why: 'action:capacity: promotion.capacity: no Auto Scaling group workers in this region; correct its name',
        next: expect.stringContaining('npx mirrorbeat readiness --site standby --region us-west-2'),
      },
    });
    now += 30 * 60_000;
    expect((await checkReadiness(at())).notice).toBeNull();
    const view = await standby.store.views.readView('standby');
    expect(parseReadiness(view?.readiness)).toMatchObject({
      ready: false,
      atMs: now,
      failing: [{ name: 'action:capacity', ok: false }],
    });
    workload.groups.get('us-west-2')?.set('workers', { MinSize: 0, MaxSize: 0, DesiredCapacity: 0 });
    now += 30 * 60_000;
    const restored = await checkReadiness(at());
    expect(restored.notice).toMatchObject({
      kind: 'readiness-restored',
      detail: { failing: [], why: `every check passes again (${restored.report.checks.length} checks)` },
    });
    expect(String(restored.notice?.detail.next)).toMatch(/^nothing: /);
    expect(parseReadiness((await standby.store.views.readView('standby'))?.readiness)).toEqual({
      ready: true,
      atMs: now,
      failing: [],
    });
    // Both went to the warning topic, with their kind as the message attribute.
    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(published.map((p) => [p.TopicArn, p.MessageAttributes?.kind?.StringValue])).toEqual([
      ['arn:aws:sns:us-west-2:123456789012:w', 'readiness-failed'],
      ['arn:aws:sns:us-west-2:123456789012:w', 'readiness-restored'],
    ]);
  });

  it('still reports when its view cannot be written (no majority), and announces nothing it could not record', async () => {
    const { standby } = sites;
    workload.groups.get('us-west-2')?.delete('workers');
    jest
      .spyOn(standby.store.views, 'recordView')
      .mockRejectedValueOnce(Object.assign(new Error('no majority'), { name: 'ReplicatedWriteConflictException' }));
    const { report, notice } = await checkReadiness(deps(standby));
    expect([report.ready, notice]).toEqual([false, null]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    // The next check that can write says it.
    expect((await checkReadiness(deps(standby))).notice?.kind).toBe('readiness-failed');
  });

  it('says what it did not need to check: two-region mode, manual failover, no workload action, no fence hook', async () => {
    const { standby } = sites;
    const control = 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol';
    const bare = deps(standby, {
      ...withTuning(standby, { consistency: 'eventual', failoverMode: 'manual' }),
      actions: {},
      fenceHook: undefined,
      approvalTopic: undefined,
    });
    const report = await failoverReadiness(bare);
    expect(report.ready).toBe(true);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['role', true],
      ['failover-mode', true],
      ['maintenance', true],
      ['quorum', true],
      ['replication-lag', true],
      ['cooldown', true],
      ['promotion-actions', true],
      ['action:site-promoted-event', true],
      ['fence-hook', true],
    ]);
    expect(check(report, 'failover-mode')?.reason).toMatch(/^manual: nothing fails over by itself/);
    expect(check(report, 'quorum')?.reason).toBe('two-region mode: no witness, no quorum to lose');
    expect(check(report, 'promotion-actions')?.reason).toMatch(/^none configured: /);
    expect(check(report, 'fence-hook')?.reason).toMatch(/^no fence hook: /);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    // ARC is not called ahead of a failover; a promotion hook is asked for a DryRun as the fence hook is.
    const hook = 'arn:aws:lambda:us-west-2:123456789012:function:promote-hook';
    const withArc = await failoverReadiness({
      ...bare,
      actions: {
        arc: { clusterEndpoints: [], routingControls: { production: `${control}/p1`, standby: `${control}/s1` } },
      },
      promotionHook: hook,
    });
    expect(withArc.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['action:arc-routing-controls', 'action:hook']),
    );
    expect(withArc.checks.map((c) => c.name)).not.toContain('promotion-actions');
    expect(check(withArc, 'action:arc-routing-controls')).toMatchObject({
      ok: true,
      reason: expect.stringContaining('not read'),
    });
    expect(check(withArc, 'action:hook')?.reason).toBe(`${hook}: invocable (DryRun answered 204)`);
    expect(lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: hook, InvocationType: 'DryRun' },
    ]);
    // Under approval with no topic to ask on, nobody can approve.
    const approval = await failoverReadiness({ ...bare, ...withTuning(standby, { failoverMode: 'approval' }) });
    expect(check(approval, 'failover-mode')).toEqual({
      name: 'failover-mode',
      ok: false,
      reason: 'approval: no critical topic configured',
    });
  });

  it('names the standby it would promote, and a whole quorum as whole', async () => {
    const { standby } = sites;
    await standby.store.views.recordView(
      'standby',
      'quorum',
      recordedQuorum({ majority: true, peerReplica: 'reachable', witness: 'unknown', degraded: false, why: [] }),
      NOW - 120_000,
      'module-a',
    );
    const report = await failoverReadiness(deps(standby, withTuning(standby, { consistency: 'strong' })));
    expect(check(report, 'role')?.reason).toBe(
      'standby is secondary at epoch 1, production is primary: a failover would promote standby',
    );
    expect(check(report, 'quorum')).toEqual({
      name: 'quorum',
      ok: true,
      reason: "whole: majority reached, production's replica reachable, witness unknown",
    });
    expect(check(report, 'failover-mode')?.reason).toMatch(/^automatic: /);
  });

  it('a first check that passes says nothing', async () => {
    expect((await checkReadiness(deps(sites.standby))).notice).toBeNull();
  });

  it('checks the EBS data readiness the promotion would gate on, when volumes are protected', async () => {
    // The real EBS client against the local fake of the EBS direct APIs; EC2's DescribeSnapshots from its store.
    const fake = new EbsFake();
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeSnapshotsCommand).callsFake((input: Record<string, unknown>) => fake.describeSnapshots(input));
    const ebs = new EBSClient({
      region: 'us-west-2',
      endpoint: await fake.listen(),
      credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const volumeId = 'vol-0123456789abcdef0';
    const protectedBy = (ageSeconds: number) => {
      fake.snapshots.clear();
      snapshotPair(fake, { volumeId, nowMs: NOW, ageSeconds, intervalSeconds: 3600, blocks: 64, changedBlocks: 8 });
      return deps(sites.standby, {
        ebs,
        readiness: { volumes: [{ volumeId }], maxSnapshotAgeSeconds: 3600, policy: 'block' },
      });
    };
    try {
      expect(check(await failoverReadiness(protectedBy(300)), 'ebs-readiness')).toMatchObject({ ok: true });
      const stale = await failoverReadiness(protectedBy(7200));
      expect(failing(stale)).toEqual(['ebs-readiness']);
      expect(check(stale, 'ebs-readiness')?.reason).toContain('older than maxSnapshotAgeSeconds 3600');
    } finally {
      ebs.destroy();
      await fake.close();
      ec2.restore();
    }
  });
});
