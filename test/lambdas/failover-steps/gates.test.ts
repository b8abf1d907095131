import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { clusterKey } from '../../../lambdas/core/volume';
import { cooldownGate, replicationGate } from '../../../lambdas/failover-steps/gates';
import type { FailoverDeps, FailoverOptions } from '../../../lambdas/failover-steps/steps';
import { type LocalSite, localSites } from '../../local-sites';

/**
 * The two gates a failover passes before the fence, each alone: the cooldown on DynamoDB Local
 * (it reads the cluster record), the replication gate against CloudWatch in the peer's region,
 * which has no local implementation (aws-sdk-client-mock). A gate that passes when it should
 * hold is a second promotion between two live sites or a promotion that loses acknowledged data.
 */
const NOW = 1_765_000_000_000;
const cloudWatch = mockClient(CloudWatchClient);

let standby: LocalSite;

beforeEach(async () => {
  standby = (await localSites({ cooldownSeconds: 600, rpoBudgetSeconds: 15 })).standby;
  cloudWatch.reset();
});

function deps(now = NOW): FailoverDeps {
  return {
    settings: standby.settings,
    store: standby.store,
    peerCloudWatch: new CloudWatchClient({ region: standby.settings.peerRegion }),
    now: () => now,
  } as FailoverDeps;
}

const AUTOMATIC: FailoverOptions = {
  kind: 'failover',
  dryRun: false,
  requestedBy: 'heartbeat-module',
  reason: 'peer-failure-reported',
  gated: true,
};

async function promoted(atMs: number | undefined, primary = 'production'): Promise<void> {
  const item: Record<string, unknown> = { ...clusterKey(), epoch: 3, primary, lease: 1 };
  if (atMs !== undefined) item.promotedAt = new Date(atMs).toISOString();
  await standby.db.send(new PutCommand({ TableName: standby.settings.heartbeatVolume, Item: item }));
}

describe('the cooldown gate', () => {
  const COOLDOWN_MS = 600_000;

  it('holds an automatic failover away from a live peer until cooldownSeconds after the last promotion', async () => {
    await promoted(NOW - COOLDOWN_MS + 1);
    const held = await cooldownGate(AUTOMATIC, deps());
    expect(held).toMatchObject({ gate: 'cooldown', passed: false, until: new Date(NOW + 1).toISOString() });
    expect(held.evidence).toContain('mirrorbeat failover --site standby');
  });

  it('lets it through from the instant the cooldown ends', async () => {
    await promoted(NOW - COOLDOWN_MS);
    expect(await cooldownGate(AUTOMATIC, deps())).toMatchObject({ gate: 'cooldown', passed: true });
    expect(await cooldownGate(AUTOMATIC, deps(NOW - 1))).toMatchObject({ passed: false });
  });

  it('passes with no earlier promotion on record', async () => {
    await promoted(undefined);
    expect(await cooldownGate(AUTOMATIC, deps())).toMatchObject({ passed: true, evidence: 'no earlier promotion' });
  });

  it('never holds a failover for a lost primary, a person, or a switchover', async () => {
    await promoted(NOW - 1);
    for (const options of [
      { ...AUTOMATIC, reason: 'peer-lost' },
      { ...AUTOMATIC, reason: 'peer-stepped-down' },
      { ...AUTOMATIC, requestedBy: 'console' },
      { ...AUTOMATIC, kind: 'switchover' as const },
    ])
      expect(await cooldownGate(options, deps())).toMatchObject({ passed: true });
  });

  it('has no second promotion to hold when this site is already primary', async () => {
    await promoted(NOW - 1, 'standby');
    expect(await cooldownGate(AUTOMATIC, deps())).toMatchObject({ passed: true });
  });
});

describe('the replication gate', () => {
  const BUDGET_MS = 15_000;

  function answers(values: number[]): void {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: values }] });
  }

  it('asks the peer region for the maximum replication latency into this region over the last five minutes', async () => {
    answers([10]);
    await replicationGate(deps());
    const sent = cloudWatch.commandCalls(GetMetricDataCommand);
    expect(sent).toHaveLength(1);
    const query = sent[0]!.args[0].input;
    expect(query.StartTime).toEqual(new Date(NOW - 5 * 60_000));
    expect(query.EndTime).toEqual(new Date(NOW));
    expect(query.MetricDataQueries).toEqual([
      {
        Id: 'lag',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/DynamoDB',
            MetricName: 'ReplicationLatency',
            Dimensions: [
              { Name: 'TableName', Value: standby.settings.heartbeatVolume },
              { Name: 'ReceivingRegion', Value: standby.settings.region },
            ],
          },
          Period: 60,
          Stat: 'Maximum',
        },
      },
    ]);
  });

  it('passes at the budget and holds one millisecond over it, on the newest value', async () => {
    answers([BUDGET_MS, 60_000]);
    expect(await replicationGate(deps())).toMatchObject({ passed: true, replicationLagMs: BUDGET_MS });
    cloudWatch.reset();
    answers([BUDGET_MS + 1, 0]);
    expect(await replicationGate(deps())).toMatchObject({
      gate: 'replication-lag',
      passed: false,
      replicationLagMs: BUDGET_MS + 1,
      budgetMs: BUDGET_MS,
    });
  });

  it('passes with the lag unknown when the peer region reports nothing or does not answer (a lost region cannot)', async () => {
    answers([]);
    expect(await replicationGate(deps())).toMatchObject({ passed: true, replicationLagMs: null });
    // An answer with no result, with a result and no values, or with an empty result list says the same.
    for (const answer of [{}, { MetricDataResults: [] }, { MetricDataResults: [{ Id: 'lag' }] }]) {
      cloudWatch.reset();
      cloudWatch.on(GetMetricDataCommand).resolves(answer);
      expect([answer, await replicationGate(deps())]).toMatchObject([
        answer,
        { passed: true, replicationLagMs: null, evidence: 'no replication latency reported in the last 5 minutes' },
      ]);
    }
    cloudWatch.reset();
    cloudWatch.on(GetMetricDataCommand).rejects(new Error('connect ETIMEDOUT'));
    const lost = await replicationGate(deps());
    expect(lost).toMatchObject({ passed: true, replicationLagMs: null });
    expect(lost.evidence).toContain('ETIMEDOUT');
  });
});
