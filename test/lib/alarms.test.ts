import { Match } from 'aws-cdk-lib/assertions';
import { templates } from '../helpers';

/**
 * Every alarm of a site, as synthesized: what it watches, its threshold, how it treats
 * missing data, and the one action strategy (ALARM and OK to the topic of its severity).
 */
const { standby } = templates({ intervalSeconds: 2, rpoBudgetSeconds: 30 });

type Row = [
  name: string,
  severity: 'Warning' | 'Critical',
  metric: string | null,
  threshold: number,
  comparison: string,
  periods: number,
  missing: string,
];
const ALARMS: Row[] = [
  ['NetworkPathFailed', 'Warning', 'PathFailed', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['StoragePathFailed', 'Warning', 'PathFailed', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['BothPathsFailed', 'Critical', null, 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['Unprotected', 'Critical', 'Verdict', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['PeerFailureReported', 'Warning', 'PeerHealthFailed', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  // Minimum over the minute: only a whole minute without a primary, never a failover's seconds.
  ['NoPrimary', 'Critical', 'NoPrimary', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  // 30 ticks a minute at a 2 s interval: fewer than half of them, or none at all, is a stopped module.
  ['HeartbeatModuleStopped', 'Critical', 'Ticks', 15, 'LessThanThreshold', 2, 'breaching'],
  ['FailoverFailed', 'Critical', 'ExecutionsFailed', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['ReplicationLagOverBudget', 'Critical', 'ReplicationLatency', 30_000, 'GreaterThanThreshold', 3, 'notBreaching'],
  ['NoticesUndelivered', 'Critical', 'NoticesUndelivered', 1, 'GreaterThanOrEqualToThreshold', 5, 'notBreaching'],
  ['HeartbeatModuleErrors', 'Critical', 'Errors', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['NetworkReceiverErrors', 'Critical', 'Errors', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['FailoverStepsErrors', 'Critical', 'Errors', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['PathControlStepsErrors', 'Critical', 'Errors', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['HandlersThrottled', 'Critical', null, 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
];

describe('the alarms of a site', () => {
  it('are exactly these', () => {
    const names = Object.values(standby.findResources('AWS::CloudWatch::Alarm')).map((a) =>
      String(a.Properties.AlarmName).replace('mirrorbeat-orders-standby-', ''),
    );
    expect(names.sort()).toEqual(ALARMS.map(([name]) => name).sort());
  });

  it.each(ALARMS)(
    '%s: %s, threshold and missing data as designed, ALARM and OK to its topic',
    (name, severity, metric, threshold, comparison, periods, missing) => {
      const topic = [{ Ref: Match.stringLikeRegexp(`Notices${severity}`) }];
      standby.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `mirrorbeat-orders-standby-${name}`,
        ...(metric === null ? { Metrics: Match.anyValue() } : { MetricName: metric }),
        Threshold: threshold,
        ComparisonOperator: comparison,
        EvaluationPeriods: periods,
        TreatMissingData: missing,
        AlarmActions: topic,
        OKActions: topic,
        AlarmDescription: Match.stringLikeRegexp('.{20,}'),
      });
    },
  );
});
