import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { deadline } from '../shared/deadlines';
import type { FailoverDeps, FailoverOptions } from './steps';

/**
 * The failover's gates: replication lag within the RPO budget (read in the peer's region), and the cooldown after a
 * promotion.
 */
export interface GateCheck {
  readonly gate: 'replication-lag' | 'cooldown' | 'ebs-readiness';
  readonly passed: boolean;
  readonly evidence: string;
  readonly [more: string]: unknown;
}

/** Replication lag from the peer's region into ours is within the RPO budget; the metric lives in the peer's region. */
export async function replicationGate(deps: FailoverDeps): Promise<GateCheck> {
  const { settings } = deps;
  const end = new Date(deps.now());
  const out = await deps.peerCloudWatch
    .send(
      new GetMetricDataCommand({
        StartTime: new Date(end.getTime() - 5 * 60_000),
        EndTime: end,
        MetricDataQueries: [
          {
            Id: 'lag',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/DynamoDB',
                MetricName: 'ReplicationLatency',
                Dimensions: [
                  { Name: 'TableName', Value: settings.heartbeatVolume },
                  { Name: 'ReceivingRegion', Value: settings.region },
                ],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
      deadline(),
    )
    .catch((error: unknown) => ({ error: String(error) }));
  if ('error' in out)
    return {
      gate: 'replication-lag',
      passed: true,
      replicationLagMs: null,
      evidence: `lag unknown, the peer region did not answer (${out.error}); a lost region cannot report its lag`,
    };
  const latest = out.MetricDataResults?.[0]?.Values?.[0];
  const budgetMs = settings.tuning.rpoBudgetSeconds * 1000;
  if (latest === undefined)
    return {
      gate: 'replication-lag',
      passed: true,
      replicationLagMs: null,
      evidence: 'no replication latency reported in the last 5 minutes',
    };
  return {
    gate: 'replication-lag',
    passed: latest <= budgetMs,
    replicationLagMs: latest,
    budgetMs,
    evidence: `replication lag ${latest} ms against a budget of ${budgetMs} ms`,
  };
}

/**
 * No automatic failover on a reported workload failure within cooldownSeconds of the last
 * promotion: between two live sites a person decides a second one (no ping-pong). A lost
 * primary is never held: the cooldown must never keep a crashed primary in charge.
 */
export async function cooldownGate(options: FailoverOptions, deps: FailoverDeps): Promise<GateCheck> {
  const { settings } = deps;
  if (options.kind === 'switchover' || options.requestedBy !== 'heartbeat-module')
    return {
      gate: 'cooldown',
      passed: true,
      evidence: `requested by ${options.requestedBy}: the cooldown binds automatic failovers only`,
    };
  if (options.reason !== 'peer-failure-reported')
    return {
      gate: 'cooldown',
      passed: true,
      evidence: `reason ${options.reason}: the cooldown holds only failovers away from a live peer that reports its workload failed`,
    };
  const { promotedAtMs, primary } = await deps.store.readCluster();
  // Started again for a promotion that already happened: the fence step finds it and does nothing more.
  if (primary === settings.site)
    return {
      gate: 'cooldown',
      passed: true,
      evidence: `${settings.site} is already primary: no second promotion to hold`,
    };
  if (promotedAtMs === undefined) return { gate: 'cooldown', passed: true, evidence: 'no earlier promotion' };
  const untilMs = promotedAtMs + settings.tuning.cooldownSeconds * 1000;
  if (deps.now() >= untilMs)
    return {
      gate: 'cooldown',
      passed: true,
      evidence: `last promotion at ${new Date(promotedAtMs).toISOString()}, outside cooldownSeconds (${settings.tuning.cooldownSeconds})`,
    };
  return {
    gate: 'cooldown',
    passed: false,
    until: new Date(untilMs).toISOString(),
    evidence: `the last promotion was at ${new Date(promotedAtMs).toISOString()}; automatic failover is held until ${new Date(untilMs).toISOString()} (cooldownSeconds ${settings.tuning.cooldownSeconds}); to fail over now, run: mirrorbeat failover --site ${settings.site}`,
  };
}
