import { Match } from 'aws-cdk-lib/assertions';
import { templates } from '../helpers';
import { BOTH_PATHS_FAILED } from '../../lib/metrics';

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

describe('BothPathsFailed', () => {
  /** The alarm's metric math, evaluated as CloudWatch does for one minute's values (comparisons are 1 or 0). */
  const evaluate = (values: { nf: number; sf: number; nm: number; sm: number }): number => {
    const js = BOTH_PATHS_FAILED.replace(/\bAND\b/g, '&&')
      .replace(/\bOR\b/g, '||')
      .replace(/^IF\((.*), 1, 0\)$/, '(($1) ? 1 : 0)');
    return new Function('nf', 'sf', 'nm', 'sm', `return ${js};`)(values.nf, values.sf, values.nm, values.sm) as number;
  };

  it('fires when every enabled path failed, whichever is switched off, and never with no path enabled', () => {
    const ENABLED = 2;
    const PENDING = 1;
    const DISABLED = 0;
    for (const nm of [ENABLED, PENDING, DISABLED])
      for (const sm of [ENABLED, PENDING, DISABLED])
        for (const nf of [0, 1])
          for (const sf of [0, 1]) {
            const enabled = [nm === ENABLED ? nf : undefined, sm === ENABLED ? sf : undefined].filter(
              (f) => f !== undefined,
            );
            const expected = enabled.length > 0 && enabled.every((f) => f === 1) ? 1 : 0;
            expect({ nm, sm, nf, sf, fires: evaluate({ nf, sf, nm, sm }) }).toEqual({
              nm,
              sm,
              nf,
              sf,
              fires: expected,
            });
          }
    // The case the old MIN([network, storage]) missed: storage switched off, the network path failed.
    expect(evaluate({ nf: 1, sf: 0, nm: ENABLED, sm: DISABLED })).toBe(1);
  });

  it("is that expression in the template, over both paths' failure and mode", () => {
    const alarm = Object.values(standby.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      String(a.Properties.AlarmName).endsWith('-BothPathsFailed'),
    );
    const metrics = alarm?.Properties.Metrics as {
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    expect(metrics.find((m) => m.Expression !== undefined)?.Expression).toBe(BOTH_PATHS_FAILED);
    expect(metrics.flatMap((m) => (m.MetricStat === undefined ? [] : [m.MetricStat.Metric.MetricName])).sort()).toEqual(
      ['PathFailed', 'PathFailed', 'PathMode', 'PathMode'],
    );
  });
});
