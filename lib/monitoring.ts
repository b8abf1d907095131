import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SITE_VERDICTS } from '../lambdas/core/verdict';
import { PATHS } from '../lambdas/core/wire';
import type { MirrorbeatFunction } from './function';
import type { SiteNames } from './names';
import type { NoticeTopics, Severity } from './notices';
import { LOG_SERIES, REPLAYS_TOLERATED, SiteMetrics } from './metrics';

export { SiteMetrics } from './metrics';

export interface SiteMonitoringProps {
  readonly names: SiteNames;
  readonly topics: NoticeTopics;
  readonly heartbeatVolume: dynamodb.ITableV2;
  readonly peerRegion: string;
  readonly rpoBudgetSeconds: number;
  readonly intervalSeconds: number;
  readonly functions: readonly MirrorbeatFunction[];
  readonly failover: sfn.IStateMachine;
  readonly pathControl: sfn.IStateMachine;
  /** Where the handlers log the notices they announce, for the dashboard's notices widget. */
  readonly handlerLogs: readonly logs.ILogGroup[];
  /** The heartbeat module's log: the values only the dashboard plots are fields of its lines (LOG_SERIES). */
  readonly moduleLog: logs.ILogGroup;
  readonly phiThreshold: number;
  /** The deadline bounds the phi detector stays within. */
  readonly deadlineCeilingSeconds: number;
  /** Quorum mode (an MRSC heartbeat volume): the QuorumDegraded alarm watches its three votes. */
  readonly quorum: boolean;
  readonly runbookUrl?: string;
}

/** Alarms routed by severity to the notice topics (with OK actions), and one dashboard per site. */
export class SiteMonitoring extends Construct {
  readonly metrics: SiteMetrics;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: SiteMonitoringProps,
  ) {
    super(scope, id);
    const m = (this.metrics = new SiteMetrics(props.names));
    const replicationLatency = props.heartbeatVolume.metric('ReplicationLatency', {
      dimensionsMap: { TableName: props.heartbeatVolume.tableName, ReceivingRegion: props.peerRegion },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
    });
    const ticksPerMinute = Math.floor(60 / props.intervalSeconds);

    for (const path of PATHS) {
      this.alarm(`${cap(path)}PathFailed`, 'warning', {
        metric: m.pathFailed(path),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `The ${path} path to the peer site failed (one path lost: notice only, no failover).`,
      });
    }
    this.alarm('BothPathsFailed', 'critical', {
      metric: m.bothPathsFailed(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'Every enabled path to the peer site failed (a path switched off counts as neither): the peer is lost or this site is isolated.',
    });
    this.alarm('Unprotected', 'critical', {
      metric: m.verdict('unprotected'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'No path is enabled: mirrorbeat cannot tell a lost peer and will not fail over. Activate a path.',
    });
    this.alarm('PeerFailureReported', 'warning', {
      metric: m.peerHealthFailed(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        "The peer's valid beats say its workload failed (its health sources); see health.onPeerFailure for what follows.",
    });
    this.alarm('NoPrimary', 'critical', {
      metric: m.noPrimary(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'For a whole minute this site saw no site acting as primary (both beat as secondary, or in quorum mode the record names a site whose lease ran out): nothing serves. Read npx mirrorbeat status, then promote a site (npx mirrorbeat failover).',
    });
    this.alarm('TwoPrimaries', 'critical', {
      metric: m.twoPrimaries(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'This site acts as primary and a fresh valid beat of the peer claims primary at the same epoch: two sites serve. Promote the one to keep to a new epoch (npx mirrorbeat failover --site <site>), which fences the other. The stop condition of a game day.',
    });
    if (props.quorum)
      this.alarm('QuorumDegraded', 'warning', {
        metric: m.quorumDegraded(),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          "Quorum mode has two votes left, as this site sees it: it reached no majority for a lease, or the peer's beats stopped replicating while its network beats arrive, or AWS Health named the witness region. One more fault and no region has a majority: no failover, and the primary steps down. See the runbook, 'Quorum'.",
      });
    this.alarm('HeartbeatModuleStopped', 'critical', {
      metric: m.ticks(),
      threshold: Math.max(1, Math.floor(ticksPerMinute / 2)),
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No ticks reported at all is exactly the failure this alarm is for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `The heartbeat module ticked fewer than half of its ${ticksPerMinute} ticks a minute, or not at all.`,
    });
    this.alarm('FailoverFailed', 'critical', {
      metric: props.failover.metricFailed({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'A failover execution failed; the cluster record may need an operator.',
    });
    this.alarm('ReplicationLagOverBudget', 'critical', {
      metric: replicationLatency,
      threshold: props.rpoBudgetSeconds * 1000,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Heartbeat volume replication to ${props.peerRegion} is slower than the RPO budget (${props.rpoBudgetSeconds} s): failover gates will block.`,
    });
    this.alarm('BadHeartbeats', 'warning', {
      metric: m.badHeartbeats(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `In 5 minutes a heartbeat or path command with a bad signature or an unknown sender reached this site, or ${REPLAYS_TOLERATED} replays did. Each was counted and ignored. A signing key out of step (a rotation less than 5 minutes apart), or someone else writing to this site's bus or heartbeat volume: see the runbook.`,
    });
    this.alarm('NoticesUndelivered', 'critical', {
      metric: m.noticesUndelivered(),
      threshold: 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        "SNS has refused notices for 5 minutes (the outbox keeps retrying for 24 h): check the topics, their KMS key and the handlers' publish rights; `npx mirrorbeat status` lists what is undelivered.",
    });
    for (const fn of props.functions) {
      this.alarm(`${fn.node.id}Errors`, 'critical', {
        metric: fn.function.metricErrors({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `The ${fn.node.id} handler raised an error.`,
      });
    }
    // A throttled heartbeat module or receiver drops beats, and the peer may declare this site lost.
    const throttles = Object.fromEntries(
      props.functions.map((fn, i) => [
        `t${i}`,
        fn.function.metricThrottles({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
      ]),
    );
    this.alarm('HandlersThrottled', 'critical', {
      metric: new cloudwatch.MathExpression({
        expression: `SUM([${Object.keys(throttles).join(', ')}])`,
        usingMetrics: throttles,
        label: 'Handler throttles',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        "Lambda throttled a mirrorbeat handler: beats or steps were dropped. Check the account's concurrency (npx mirrorbeat preflight) and reserveConcurrency.",
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.names.dashboard,
      defaultInterval: Duration.hours(3),
    });
    const region = Stack.of(this).region;
    const runbook =
      props.runbookUrl === undefined
        ? 'runbook: docs/OPERATIONS.md in the mirrorbeat repository'
        : `[runbook](${props.runbookUrl})`;
    const modeAxis = { min: 0, max: 2.2, showUnits: false };
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: [
          `# mirrorbeat ${props.names.cluster}: ${props.names.site} site (${region}), peer in ${props.peerRegion}`,
          `Current roles and epoch, the latest notices and who acknowledged them: \`npx mirrorbeat status --region ${region}\` · ${runbook} · failover drill: \`npx mirrorbeat failover --dry-run\``,
        ].join('\n\n'),
        width: 16,
        height: 3,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Now: maintenance mode (1) · path modes (2 enabled, 1 pending, 0 disabled)',
        metrics: [m.maintenance(), ...PATHS.map((p) => m.pathMode(p))],
        width: 8,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      ...PATHS.map(
        (p) =>
          new cloudwatch.LogQueryWidget({
            title: `Peer beat age against its deadline, ${p} path (s; the deadline stays at most ${props.deadlineCeilingSeconds})`,
            logGroupNames: [props.moduleLog.logGroupName],
            queryLines: LOG_SERIES.beatAge(p),
            view: cloudwatch.LogQueryVisualizationType.LINE,
            width: 6,
          }),
      ),
      new cloudwatch.GraphWidget({
        title: 'Path modes (2 enabled, 1 pending, 0 disabled)',
        left: PATHS.map((p) => m.pathMode(p).with({ label: `${p} mode` })),
        leftYAxis: modeAxis,
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Path failed (1) per path · every enabled path (1)',
        left: PATHS.map((p) => m.pathFailed(p)),
        right: [m.bothPathsFailed()],
        width: 6,
      }),
    );
    this.dashboard.addWidgets(
      ...PATHS.map(
        (p) =>
          new cloudwatch.LogQueryWidget({
            title: `Phi, ${p} path (failed above phiThreshold ${props.phiThreshold}, within the deadline bounds)`,
            logGroupNames: [props.moduleLog.logGroupName],
            queryLines: LOG_SERIES.phi(p),
            view: cloudwatch.LogQueryVisualizationType.LINE,
            width: 4,
          }),
      ),
      new cloudwatch.GraphWidget({
        title: 'Verdict on the peer over time (1 = in that verdict)',
        left: SITE_VERDICTS.map((v) => m.verdict(v)),
        width: 8,
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Acts as primary (1 in the minutes it did)',
        logGroupNames: [props.moduleLog.logGroupName],
        queryLines: LOG_SERIES.actingPrimary(),
        view: cloudwatch.LogQueryVisualizationType.LINE,
        width: 4,
      }),
      new cloudwatch.GraphWidget({
        title: `Sees no primary at all (1) · two primaries (1)${props.quorum ? ' · quorum degraded (1)' : ''} · peer reports failure (1)`,
        left: [m.noPrimary(), m.twoPrimaries(), ...(props.quorum ? [m.quorumDegraded()] : [])],
        right: [m.peerHealthFailed()],
        width: 4,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Invalid beats by path and reason · send failures, BadHeartbeats condition (1, 5 min; right)',
        left: [m.invalidBeatsByReason()],
        right: [...PATHS.map((p) => m.sendFailures(p)), m.badHeartbeats()],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Heartbeat module ticks / min',
        left: [m.ticks()],
        leftAnnotations: [
          { value: Math.max(1, Math.floor(ticksPerMinute / 2)), label: 'alarm below', color: '#d62728' },
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: `Heartbeat volume replication latency to ${props.peerRegion} (ms)`,
        left: [replicationLatency],
        leftAnnotations: [
          { value: props.rpoBudgetSeconds * 1000, label: `RPO budget ${props.rpoBudgetSeconds} s`, color: '#d62728' },
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Failover executions and their outcome',
        left: [
          props.failover.metricStarted({ label: 'failover started' }),
          props.failover.metricSucceeded({ label: 'ended well (promoted, aborted, drill)' }),
          props.failover.metricFailed({ label: 'failed' }),
          props.failover.metricTimedOut({ label: 'timed out' }),
        ],
        right: [
          props.pathControl.metricSucceeded({ label: 'path command applied' }),
          props.pathControl.metricFailed({ label: 'path command refused' }),
        ],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12, height: 6 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Latest notices (all handlers; acknowledge with npx mirrorbeat ack)',
        logGroupNames: props.handlerLogs.map((g) => g.logGroupName),
        queryLines: [
          "filter message = 'notice'",
          'fields @timestamp, severity, subject, outcome, id',
          'sort @timestamp desc',
          'limit 20',
        ],
        width: 16,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Notices folded · undelivered (the outbox retries)',
        left: [m.noticesFolded()],
        right: [m.noticesUndelivered()],
        width: 8,
      }),
    );
  }

  /**
   * FailoverNotReady: the last scheduled readiness check found that a failover to this site would not succeed now
   * (lambdas/failover-steps/failover-readiness.ts). One check per period; a period without one keeps the state.
   */
  readinessAlarm(checkMinutes: number): cloudwatch.Alarm {
    const ready = this.metrics.failoverReady(Duration.minutes(checkMinutes));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Failover readiness (1 ready, 0 not; checked every ${checkMinutes} min; npx mirrorbeat readiness)`,
        left: [ready],
        leftYAxis: { min: 0, max: 1.2, showUnits: false },
        width: 24,
      }),
    );
    return this.alarm('FailoverNotReady', 'warning', {
      metric: ready,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      alarmDescription: `The scheduled readiness check (every ${checkMinutes} minutes) found that a failover to this site would not succeed now: a gate would refuse, quorum is one fault from none, nobody would receive an approval request, or a promotion target or hook is missing or not permitted. Run npx mirrorbeat readiness for each check and its reason; see the runbook, 'Failover readiness'.`,
    });
  }

  /** The one action strategy: alarm and OK both go to the topic of the alarm's severity. */
  private alarm(id: string, severity: Severity, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      alarmName: this.props.names.alarm(id),
    });
    const action = new actions.SnsAction(this.props.topics.of(severity));
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
