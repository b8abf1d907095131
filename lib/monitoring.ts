import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SITE_VERDICTS, type SiteVerdict } from '../lambdas/core/verdict';
import { METRICS_NAMESPACE, MetricName, PATHS, type PathId } from '../lambdas/core/wire';
import type { MirrorbeatFunction } from './function';
import type { SiteNames } from './names';
import type { NoticeTopics, Severity } from './notices';

/**
 * The metrics mirrorbeat's handlers emit, as CloudWatch metric objects. Alarms and the
 * dashboard are built from these same factories, so they cannot disagree.
 */
export class SiteMetrics {
  constructor(private readonly names: SiteNames) {}

  private metric(name: string, statistic: string, extra: Record<string, string> = {}, period = Duration.minutes(1)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { Cluster: this.names.cluster, Site: this.names.site, ...extra },
      statistic,
      period,
    });
  }

  /** 1 while the path to the peer is failed, 0 otherwise (emitted every tick). */
  pathFailed(path: PathId): cloudwatch.Metric {
    return this.metric(MetricName.pathFailed, cloudwatch.Stats.MAXIMUM, { Path: path });
  }

  peerBeatAge(path: PathId): cloudwatch.Metric {
    return this.metric(MetricName.peerBeatAge, cloudwatch.Stats.MAXIMUM, { Path: path });
  }

  invalidBeats(path: PathId): cloudwatch.Metric {
    return this.metric(MetricName.invalidBeats, cloudwatch.Stats.SUM, { Path: path });
  }

  sendFailures(path: PathId): cloudwatch.Metric {
    return this.metric(MetricName.sendFailures, cloudwatch.Stats.SUM, { Path: path });
  }

  /** Heartbeat-module ticks per minute; missing data means the module stopped. */
  ticks(): cloudwatch.Metric {
    return this.metric(MetricName.ticks, cloudwatch.Stats.SUM);
  }

  /** Phi of each path's failure detector: how sure the site is that the peer went silent on it. */
  phi(path: PathId): cloudwatch.Metric {
    return this.metric(MetricName.phi, cloudwatch.Stats.MAXIMUM, { Path: path });
  }

  /** 1 in the minutes this site's verdict on its peer was `verdict`. */
  verdict(verdict: SiteVerdict): cloudwatch.Metric {
    return this.metric(MetricName.verdict, cloudwatch.Stats.MAXIMUM, { Verdict: verdict });
  }

  /** 1 while this site acts as primary. */
  actingPrimary(): cloudwatch.Metric {
    return this.metric(MetricName.actingPrimary, cloudwatch.Stats.MAXIMUM);
  }

  /** 1 while the peer's valid beats say its workload failed. */
  peerHealthFailed(): cloudwatch.Metric {
    return this.metric(MetricName.peerHealthFailed, cloudwatch.Stats.MAXIMUM);
  }

  /** Invalid beats broken down by path and reason, whatever reasons occur. */
  invalidBeatsByReason(): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},Cluster,Site,Path,Reason} MetricName="${MetricName.invalidBeats}" Cluster="${this.names.cluster}" Site="${this.names.site}"', 'Sum', 60)`,
      label: '',
      period: Duration.minutes(1),
    });
  }

  /** 1 when every path failed in the same minute. */
  bothPathsFailed(): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'MIN([network, storage])',
      usingMetrics: { network: this.pathFailed('network'), storage: this.pathFailed('storage') },
      label: 'Both paths failed',
      period: Duration.minutes(1),
    });
  }
}

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
  /** Where the heartbeat module logs its notices, for the dashboard's notices widget. */
  readonly heartbeatModuleLogs: logs.ILogGroup;
  readonly phiThreshold: number;
}

/** Alarms routed by severity to the notice topics (with OK actions), and one dashboard per site. */
export class SiteMonitoring extends Construct {
  readonly metrics: SiteMetrics;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, private readonly props: SiteMonitoringProps) {
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
      alarmDescription: 'Both paths to the peer site failed: the peer is lost or this site is isolated.',
    });
    this.alarm('Unprotected', 'critical', {
      metric: m.verdict('unprotected'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'No path is enabled: mirrorbeat cannot tell a lost peer and will not fail over. Activate a path.',
    });
    this.alarm('PeerFailureReported', 'warning', {
      metric: m.peerHealthFailed(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: "The peer's valid beats say its workload failed (its health sources); see health.onPeerFailure for what follows.",
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

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.names.dashboard, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: [
          `# mirrorbeat ${props.names.cluster}: ${props.names.site} site`,
          `Roles and epoch: \`npx mirrorbeat status --region ${Stack.of(this).region}\` · runbook: docs/OPERATIONS.md in the mirrorbeat repository.`,
        ].join('\n\n'),
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Peer beat age per path (s)', left: PATHS.map((p) => m.peerBeatAge(p)), width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Path failed (1) per path', left: PATHS.map((p) => m.pathFailed(p)), right: [m.bothPathsFailed()], width: 12 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Phi per path (failed above the threshold, within the deadline bounds)',
        left: PATHS.map((p) => m.phi(p)),
        leftAnnotations: [{ value: props.phiThreshold, label: `phiThreshold ${props.phiThreshold}`, color: '#d62728' }],
        leftYAxis: { min: 0, max: Math.max(20, props.phiThreshold * 2) },
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Verdict on the peer (1 = in that verdict)', left: SITE_VERDICTS.map((v) => m.verdict(v)), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Acts as primary (1) · peer reports failure (1)', left: [m.actingPrimary()], right: [m.peerHealthFailed()], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Invalid beats per path', left: PATHS.map((p) => m.invalidBeats(p)), right: PATHS.map((p) => m.sendFailures(p)), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Heartbeat module ticks / min', left: [m.ticks()], width: 8 }),
      new cloudwatch.GraphWidget({ title: `Heartbeat volume replication latency to ${props.peerRegion} (ms)`, left: [replicationLatency], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Workflow executions',
        left: [props.failover.metricStarted(), props.failover.metricSucceeded(), props.failover.metricFailed()],
        right: [props.pathControl.metricSucceeded(), props.pathControl.metricFailed()],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Invalid beats by path and reason', left: [m.invalidBeatsByReason()], width: 12 }),
      new cloudwatch.LogQueryWidget({
        title: 'Latest notices from the heartbeat module',
        logGroupNames: [props.heartbeatModuleLogs.logGroupName],
        queryLines: ['fields @timestamp, message, path, why, previous', "filter message like 'notice:'", 'sort @timestamp desc', 'limit 20'],
        width: 12,
      }),
    );
  }

  /** The one action strategy: alarm and OK both go to the topic of the alarm's severity. */
  private alarm(id: string, severity: Severity, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      alarmName: `mirrorbeat-${this.props.names.cluster}-${this.props.names.site}-${id}`,
    });
    const action = new actions.SnsAction(this.props.topics.of(severity));
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
