import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  type FailoverStatus,
  RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { mockClient } from 'aws-sdk-client-mock';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import type { PromotionActions } from '../../../lambdas/core/wire';
import { fenceWorkload, NotFencedYet } from '../../../lambdas/failover-steps/fence-workload';
import {
  type ActionDeps,
  type PromotionProgress,
  rehearseActions,
  takeActions,
} from '../../../lambdas/failover-steps/actions';

/**
 * The promotion actions that move the user's workload, against aws-sdk-client-mock: Route 53,
 * Auto Scaling, ECS and RDS have no local implementation (the local runtime's fakes are proven
 * in test/local/failover.test.ts). What is asserted is what each action sends, and how one that
 * takes minutes is resumed across runs of the promote step.
 */

const PROD = 'arn:aws:rds:us-east-1:123456789012:cluster:orders-use1';
const STANDBY = 'arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2';
const ACTIONS: PromotionActions = {
  capacity: {
    standby: {
      autoScalingGroups: [{ name: 'workers', minSize: 2, desiredCapacity: 4 }],
      ecsServices: [{ cluster: 'orders', service: 'api', desiredCount: 6 }],
    },
  },
  auroraGlobalDatabase: {
    globalClusterIdentifier: 'orders-global',
    clusterArns: { production: PROD, standby: STANDBY },
    waitSeconds: 900,
  },
  route53Records: {
    hostedZoneId: 'Z0123456789ABC',
    recordName: 'api.example.com',
    recordType: 'A',
    routing: 'failover',
    setIdentifiers: { production: 'use1', standby: 'usw2' },
    weight: 100,
  },
};

const rds = mockClient(RDSClient);
const route53 = mockClient(Route53Client);
const autoScaling = mockClient(AutoScalingClient);
const ecs = mockClient(ECSClient);
let now = 1_000_000;

const record = (id: string, failover: 'PRIMARY' | 'SECONDARY') => ({
  Name: 'api.example.com.',
  Type: 'A' as const,
  SetIdentifier: id,
  Failover: failover,
  TTL: 60,
  ResourceRecords: [{ Value: id === 'use1' ? '192.0.2.10' : '198.51.100.10' }],
});
// The SDK's FailoverStatus lists pending, failing-over and cancelling; the API documents switching-over too.
const globalCluster = (writer: string, moving?: { Status: string; ToDbClusterArn: string }) => ({
  GlobalClusters: [
    {
      GlobalClusterIdentifier: 'orders-global',
      GlobalClusterMembers: [
        { DBClusterArn: PROD, IsWriter: writer === PROD },
        { DBClusterArn: STANDBY, IsWriter: writer === STANDBY },
      ],
      ...(moving === undefined ? {} : { FailoverState: { ...moving, Status: moving.Status as FailoverStatus } }),
    },
  ],
});

function deps(actions: PromotionActions = ACTIONS): ActionDeps {
  return {
    actions,
    route53: new Route53Client({ region: 'us-east-1' }),
    rds: new RDSClient({ region: 'us-west-2' }),
    autoScaling: new AutoScalingClient({ region: 'us-west-2' }),
    ecs: new ECSClient({ region: 'us-west-2' }),
    arcFor: ({ region }) => new Route53RecoveryClusterClient({ region }),
    lambdaFor: () => new LambdaClient({ region: 'us-west-2' }),
    events: new EventBridgeClient({ region: 'us-west-2' }),
    siteBus: undefined,
    promotionHook: undefined,
    now: () => now,
  };
}

beforeEach(() => {
  for (const mock of [rds, route53, autoScaling, ecs]) mock.reset();
  now = 1_000_000;
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [{ AutoScalingGroupName: 'workers', MinSize: 0, MaxSize: 2, DesiredCapacity: 0 } as never],
  });
  autoScaling.on(UpdateAutoScalingGroupCommand).resolves({});
  ecs.on(UpdateServiceCommand).resolves({});
  ecs
    .on(DescribeServicesCommand)
    .resolves({ services: [{ serviceName: 'api', status: 'ACTIVE', desiredCount: 0 }], failures: [] });
  route53.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets: [record('use1', 'PRIMARY'), record('usw2', 'SECONDARY')],
    IsTruncated: false,
    MaxItems: 100,
  });
  route53
    .on(ChangeResourceRecordSetsCommand)
    .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });
  rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterArn: STANDBY, Status: 'available' }] });
});

describe('the workload promotion actions', () => {
  it('a failover scales the region up, fails Aurora over with data loss allowed, and waits for the writer and INSYNC across runs', async () => {
    rds.on(DescribeGlobalClustersCommand).resolves(globalCluster(PROD));
    rds.on(FailoverGlobalClusterCommand).resolves({});
    const first = await takeActions(deps(), 'standby', {}, 'failover', undefined);
    // The maximum is raised to fit the desired capacity; ECS takes its desired count.
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: 'workers',
      MinSize: 2,
      DesiredCapacity: 4,
      MaxSize: 4,
    });
    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: 'orders',
      service: 'api',
      desiredCount: 6,
    });
    expect(rds.commandCalls(FailoverGlobalClusterCommand)[0]?.args[0].input).toEqual({
      GlobalClusterIdentifier: 'orders-global',
      TargetDbClusterIdentifier: STANDBY,
      AllowDataLoss: true,
    });
    expect(first.actions.map((a) => a.action)).toEqual(['capacity']);
    expect(first.pending).toMatchObject({
      action: 'aurora-global-database',
      ref: 'FailoverGlobalCluster',
      sinceMs: now,
    });

    // Aurora is moving the writer: the next run looks, starts nothing, takes no action twice.
    now += 10_000;
    rds
      .on(DescribeGlobalClustersCommand)
      .resolves(globalCluster(PROD, { Status: 'failing-over', ToDbClusterArn: STANDBY }));
    const second = await takeActions(deps(), 'standby', {}, 'failover', first);
    expect(second.pending).toMatchObject({ action: 'aurora-global-database', detail: 'failing-over to orders-usw2' });
    expect(rds.commandCalls(FailoverGlobalClusterCommand)).toHaveLength(1);
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(1);

    // The writer moved and is available; the record pair changes in one batch and is PENDING.
    now += 50_000;
    rds.on(DescribeGlobalClustersCommand).resolves(globalCluster(STANDBY));
    const third = await takeActions(deps(), 'standby', {}, 'failover', second);
    expect(third.actions.at(-1)).toMatchObject({
      action: 'aurora-global-database',
      detail: 'orders-usw2 is the writer (FailoverGlobalCluster), available',
      tookMs: 60_000,
    });
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch?.Changes).toEqual([
      { Action: 'UPSERT', ResourceRecordSet: record('use1', 'SECONDARY') },
      { Action: 'UPSERT', ResourceRecordSet: record('usw2', 'PRIMARY') },
    ]);
    expect(third.pending).toMatchObject({ action: 'route53-records', ref: '/change/C1' });

    now += 20_000;
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
    const last = await takeActions(deps(), 'standby', {}, 'failover', third);
    expect(last.pending).toBeUndefined();
    expect(last.actions.map((a) => [a.action, a.detail])).toEqual([
      ['capacity', 'workers min 0→2, desired 0→4, max 2→4; orders/api desired 0→6'],
      ['aurora-global-database', 'orders-usw2 is the writer (FailoverGlobalCluster), available'],
      ['route53-records', 'standby PRIMARY, the other SECONDARY, C1 INSYNC'],
    ]);
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('a switchover uses SwitchoverGlobalCluster, without data loss', async () => {
    rds.on(DescribeGlobalClustersCommand).resolves(globalCluster(PROD));
    rds.on(SwitchoverGlobalClusterCommand).resolves({});
    const progress = await takeActions(
      deps({ auroraGlobalDatabase: ACTIONS.auroraGlobalDatabase }),
      'standby',
      {},
      'switchover',
      undefined,
    );
    expect(rds.commandCalls(SwitchoverGlobalClusterCommand)[0]?.args[0].input).toEqual({
      GlobalClusterIdentifier: 'orders-global',
      TargetDbClusterIdentifier: STANDBY,
    });
    expect(rds.commandCalls(FailoverGlobalClusterCommand)).toHaveLength(0);
    expect(progress.pending?.ref).toBe('SwitchoverGlobalCluster');
  });

  it('an action still under way past its limit fails the promotion, naming what to look at', async () => {
    rds
      .on(DescribeGlobalClustersCommand)
      .resolves(globalCluster(PROD, { Status: 'switching-over', ToDbClusterArn: STANDBY }));
    const only = deps({ auroraGlobalDatabase: { ...ACTIONS.auroraGlobalDatabase!, waitSeconds: 60 } });
    const previous: PromotionProgress = {
      actions: [],
      pending: {
        action: 'aurora-global-database',
        detail: 'started',
        sinceMs: now - 61_000,
        ref: 'SwitchoverGlobalCluster',
      },
    };
    await expect(takeActions(only, 'standby', {}, 'switchover', previous)).rejects.toThrow(
      'aurora-global-database orders-global not done after 60 s (switching-over to orders-usw2); see it in its console, then start the failover again to resume',
    );
  });

  it('refuses to fight another move of the writer, and a cluster that is not a member', async () => {
    const only = deps({ auroraGlobalDatabase: ACTIONS.auroraGlobalDatabase });
    rds
      .on(DescribeGlobalClustersCommand)
      .resolves(globalCluster(STANDBY, { Status: 'switching-over', ToDbClusterArn: PROD }));
    await expect(takeActions(only, 'standby', {}, 'failover', undefined)).rejects.toThrow(
      'orders-global is switching-over to orders-use1, not to orders-usw2: someone else moved the writer',
    );
    const stranger = deps({
      auroraGlobalDatabase: {
        ...ACTIONS.auroraGlobalDatabase!,
        clusterArns: { production: PROD, standby: 'arn:aws:rds:us-west-2:123456789012:cluster:other' },
      },
    });
    rds.on(DescribeGlobalClustersCommand).resolves(globalCluster(PROD));
    await expect(takeActions(stranger, 'standby', {}, 'failover', undefined)).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringContaining(
        'promotion.auroraGlobalDatabase.clusterArns.standby: arn:aws:rds:us-west-2:123456789012:cluster:other is not a member of orders-global',
      ),
    });
    expect(rds.commandCalls(FailoverGlobalClusterCommand)).toHaveLength(0);
  });

  it('a drill reads what it would change and changes nothing; a missing record fails it with the field to fix', async () => {
    rds.on(DescribeGlobalClustersCommand).resolves(globalCluster(PROD));
    const drill = await rehearseActions(deps(), 'standby', 'failover');
    expect(drill.map((a) => a.detail)).toEqual([
      'would set workers min 0→2, desired 0→4, max 2→4; orders/api desired 0→6',
      'would FailoverGlobalCluster orders-global to orders-usw2 (writer now orders-use1)',
      'would set standby PRIMARY, the other SECONDARY',
    ]);
    for (const command of [UpdateAutoScalingGroupCommand]) expect(autoScaling.commandCalls(command)).toHaveLength(0);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(rds.commandCalls(FailoverGlobalClusterCommand)).toHaveLength(0);
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);

    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    await expect(rehearseActions(deps({ capacity: ACTIONS.capacity }), 'standby', 'failover')).rejects.toThrow(
      'promotion.capacity: no ECS service orders/api in this region; correct its cluster or service name',
    );
    route53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [record('use1', 'PRIMARY')], IsTruncated: false, MaxItems: 100 });
    await expect(
      rehearseActions(deps({ route53Records: ACTIONS.route53Records }), 'standby', 'failover'),
    ).rejects.toThrow(
      'promotion.route53Records: no A record api.example.com with set identifier usw2 in hosted zone Z0123456789ABC; create the pair or correct setIdentifiers.standby',
    );
  });

  it('weighted routing gives the promoted record the weight and the other 0; a pair already so is left alone', async () => {
    const weighted = { ...ACTIONS.route53Records!, routing: 'weighted' as const };
    const w = (id: string, weight: number) => ({ ...record(id, 'PRIMARY'), Failover: undefined, Weight: weight });
    route53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [w('use1', 100), w('usw2', 0)], IsTruncated: false, MaxItems: 100 });
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C2', Status: 'INSYNC', SubmittedAt: new Date() } });
    const done = await takeActions(deps({ route53Records: weighted }), 'standby', {}, 'failover', undefined);
    expect(
      route53
        .commandCalls(ChangeResourceRecordSetsCommand)[0]
        ?.args[0].input.ChangeBatch?.Changes?.map((c) => [
          c.ResourceRecordSet?.SetIdentifier,
          c.ResourceRecordSet?.Weight,
        ]),
    ).toEqual([
      ['use1', 0],
      ['usw2', 100],
    ]);
    expect(done.actions[0]?.detail).toBe('standby weight 100, the other 0, C2 INSYNC');

    route53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [w('use1', 0), w('usw2', 100)], IsTruncated: false, MaxItems: 100 });
    const again = await takeActions(deps({ route53Records: weighted }), 'standby', {}, 'failover', undefined);
    expect(again.actions[0]?.detail).toBe('already standby weight 100, the other 0');
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });
});

describe('the built-in workload fence (promotion.capacity.whenFenced: zero)', () => {
  const capacity = ACTIONS.capacity?.standby;
  const fencing = (record: Partial<ClusterRecord>, zeroWhenFenced = true) =>
    fenceWorkload(
      { fenced: 'standby', epoch: 3, by: 'heartbeat-module' },
      {
        ...deps({ capacity: { standby: capacity! }, zeroWhenFenced }),
        site: 'standby',
        readCluster: async () => ({ epoch: 3, primary: 'production', ...record }),
      },
    );

  it('zeroes the capacity once the cluster record names another primary', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ AutoScalingGroupName: 'workers', MinSize: 2, MaxSize: 4, DesiredCapacity: 4 } as never],
    });
    const result = await fencing({});
    expect(result).toEqual({
      fenced: true,
      detail: 'production is primary at epoch 3: workers min 2→0, desired 4→0; orders/api already desired 0',
    });
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: 'workers',
      MinSize: 0,
      DesiredCapacity: 0,
      MaxSize: 4,
    });
    // The service was at zero already: a repeated fence event sends no update.
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('leaves a site that stepped down on its lease, still named primary, as it is; waits out a handover under way', async () => {
    expect(await fencing({ primary: 'standby' })).toMatchObject({ fenced: false });
    await expect(
      fencing({ primary: 'standby', epoch: 2, handover: { to: 'production' } as ClusterRecord['handover'] }),
    ).rejects.toBeInstanceOf(NotFencedYet);
    expect(await fencing({}, false)).toMatchObject({ fenced: false, detail: expect.stringContaining('keep') });
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it("with a weighted pair, weights the fenced site's own record to 0, but not while the other's is 0 too", async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ AutoScalingGroupName: 'workers', MinSize: 0, MaxSize: 4, DesiredCapacity: 0 } as never],
    });
    const weighted = { ...ACTIONS.route53Records!, routing: 'weighted' as const };
    const w = (id: string, weight: number) => ({ ...record(id, 'PRIMARY'), Failover: undefined, Weight: weight });
    const fence = (weights: [number, number]) => {
      route53.on(ListResourceRecordSetsCommand).resolves({
        ResourceRecordSets: [w('use1', weights[0]), w('usw2', weights[1])],
        IsTruncated: false,
        MaxItems: 100,
      });
      return fenceWorkload(
        { fenced: 'standby', epoch: 3, by: 'fence-step' },
        {
          ...deps({ capacity: { standby: capacity! }, zeroWhenFenced: true, route53Records: weighted }),
          site: 'standby',
          readCluster: async () => ({ epoch: 3, primary: 'production' }),
        },
      );
    };
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C7', Status: 'PENDING', SubmittedAt: new Date() } });

    expect((await fence([100, 100])).detail).toMatch(/; api\.example\.com usw2 weight 100→0 \(C7\)$/);
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch?.Changes).toEqual([
      { Action: 'UPSERT', ResourceRecordSet: w('usw2', 0) },
    ]);
    expect((await fence([0, 100])).detail).toMatch(
      /api\.example\.com usw2 left at weight 100: the other record has weight 0 too, so its promotion moves the traffic$/,
    );
    expect((await fence([100, 0])).detail).toMatch(/api\.example\.com usw2 already weight 0$/);
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('refuses an event for the other site, or without an epoch, naming the field', async () => {
    const own = { ...deps({ capacity: { standby: capacity! }, zeroWhenFenced: true }), site: 'standby' as const };
    const readCluster = async () => ({ epoch: 3, primary: 'production' }) as ClusterRecord;
    await expect(fenceWorkload({ fenced: 'production', epoch: 3 }, { ...own, readCluster })).rejects.toThrow(
      "fenced: got production; this is the standby site's function: it fences its own workload only",
    );
    await expect(fenceWorkload({ fenced: 'standby' }, { ...own, readCluster })).rejects.toThrow(
      'epoch: got undefined; allowed: the epoch of the fence, a whole number from 1',
    );
  });
});
