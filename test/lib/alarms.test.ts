import { Match } from 'aws-cdk-lib/assertions';
import { templates } from '../helpers';
import { embeddedMetricLines, invalidBeatPoints } from '../../lambdas/core/emf';
import { BAD_HEARTBEATS, BOTH_PATHS_FAILED, REPLAYS_TOLERATED } from '../../lib/metrics';

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
  // One tick seeing the peer claim primary at this primary's epoch: two sites serve.
  ['TwoPrimaries', 'Critical', 'TwoPrimaries', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  // Quorum mode: one tick seeing two votes left (its majority lapsed, the peer's replica cut off, the witness named).
  ['QuorumDegraded', 'Warning', 'QuorumDegraded', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  ['HeartbeatModuleStopped', 'Critical', 'Ticks', 15, 'LessThanThreshold', 2, 'breaching'],
  ['FailoverFailed', 'Critical', 'ExecutionsFailed', 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
  // The scheduled readiness check (every 30 minutes) found a failover to this site would not succeed; a period
  // without a check keeps the state.
  ['FailoverNotReady', 'Warning', 'FailoverReady', 1, 'LessThanThreshold', 1, 'ignore'],
  ['ReplicationLagOverBudget', 'Critical', 'ReplicationLatency', 30_000, 'GreaterThanThreshold', 3, 'notBreaching'],
  // Over 5 minutes: one forged beat, or ten replays (EventBridge delivers at least once).
  ['BadHeartbeats', 'Warning', null, 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
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

  it('watch the readiness check at its own period, and drop its alarm and schedule when the check is off', () => {
    standby.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'mirrorbeat-orders-standby-FailoverNotReady',
      Period: 1800,
      Statistic: 'Minimum',
    });
    standby.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(30 minutes)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ readiness: 'check' }) })],
    });
    const off = templates({ readiness: { checkMinutes: 0 } }).standby;
    expect(
      Object.keys(off.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } })),
    ).toEqual([]);
    expect(
      Object.values(off.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
        String(a.Properties.AlarmName).endsWith('-FailoverNotReady'),
      ),
    ).toEqual([]);
  });

  it('have no quorum alarm in two-region mode, where there is no quorum', () => {
    const twoRegion = templates({ consistency: 'eventual', isolationPolicy: 'stay-primary' }).standby;
    const names = Object.values(twoRegion.findResources('AWS::CloudWatch::Alarm')).map((a) =>
      String(a.Properties.AlarmName),
    );
    expect(names.filter((n) => n.endsWith('-QuorumDegraded'))).toEqual([]);
    expect(names).toHaveLength(ALARMS.length - 1);
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

/**
 * An alarm's metric math, evaluated as CloudWatch does for one period's values: IF(c, a, b), FILL(m, n), AND, OR,
 * the comparisons (1 or 0), +, parentheses, names and numbers — the part of the language the alarms use. A name
 * without a value is a metric with no data point in the period: only FILL gives it one.
 */
const evaluate = (expression: string, values: Readonly<Record<string, number | undefined>>): number => {
  const tokens = expression.match(/IF|FILL|AND|OR|==|!=|>=|<=|[(),+]|[a-z]+|\d+/g) ?? [];
  let at = 0;
  const next = (): string => tokens[at++] ?? '';
  const expect1 = (t: string) => {
    if (next() !== t) throw new Error(`expected ${t} at token ${at}`);
  };
  const primary = (): number => {
    const t = next();
    if (t === 'IF') {
      expect1('(');
      const c = or();
      expect1(',');
      const a = or();
      expect1(',');
      const b = or();
      expect1(')');
      return c !== 0 ? a : b;
    }
    if (t === 'FILL') {
      expect1('(');
      const name = next();
      expect1(',');
      const fill = Number(next());
      expect1(')');
      return values[name] ?? fill;
    }
    if (t === '(') {
      const v = or();
      expect1(')');
      return v;
    }
    if (/^\d+$/.test(t)) return Number(t);
    const v = values[t];
    if (v === undefined) throw new Error(`no data for ${t}`);
    return v;
  };
  const sum = (): number => {
    let v = primary();
    while (tokens[at] === '+') {
      at += 1;
      v += primary();
    }
    return v;
  };
  const comparison = (): number => {
    const left = sum();
    const op = tokens[at];
    if (op !== '==' && op !== '!=' && op !== '>=' && op !== '<=') return left;
    at += 1;
    const right = sum();
    const result = { '==': left === right, '!=': left !== right, '>=': left >= right, '<=': left <= right }[op];
    return result ? 1 : 0;
  };
  const and = (): number => {
    let v = comparison();
    while (tokens[at] === 'AND') {
      at += 1;
      const w = comparison();
      v = v !== 0 && w !== 0 ? 1 : 0;
    }
    return v;
  };
  const or = (): number => {
    let v = and();
    while (tokens[at] === 'OR') {
      at += 1;
      const w = and();
      v = v !== 0 || w !== 0 ? 1 : 0;
    }
    return v;
  };
  const result = or();
  if (at !== tokens.length) throw new Error(`unparsed tokens from ${at}`);
  return result;
};

describe('BothPathsFailed', () => {
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
            expect({ nm, sm, nf, sf, fires: evaluate(BOTH_PATHS_FAILED, { nf, sf, nm, sm }) }).toEqual({
              nm,
              sm,
              nf,
              sf,
              fires: expected,
            });
          }
    // The case the old MIN([network, storage]) missed: storage switched off, the network path failed.
    expect(evaluate(BOTH_PATHS_FAILED, { nf: 1, sf: 0, nm: ENABLED, sm: DISABLED })).toBe(1);
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

describe('BadHeartbeats', () => {
  const fires = (values: Record<string, number | undefined>) => evaluate(BAD_HEARTBEATS, values);

  it('fires on one forged beat in 5 minutes, or on replays past the tolerance; quiet on no data', () => {
    expect(fires({})).toBe(0);
    expect(fires({ signature: 1 })).toBe(1);
    expect(fires({ sender: 1 })).toBe(1);
    expect(fires({ signature: 0, sender: 0, replay: 0 })).toBe(0);
    // A duplicate delivery now and then is no attack.
    expect(fires({ replay: REPLAYS_TOLERATED - 1 })).toBe(0);
    expect(fires({ replay: REPLAYS_TOLERATED })).toBe(1);
    expect(fires({ signature: 2, replay: 3 })).toBe(1);
  });

  it('is that expression in the template, over InvalidBeats per reason in 5 minutes', () => {
    const alarm = Object.values(standby.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      String(a.Properties.AlarmName).endsWith('-BadHeartbeats'),
    );
    const metrics = alarm?.Properties.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] }; Period: number };
    }[];
    expect(metrics.find((m) => m.Expression !== undefined)?.Expression).toBe(BAD_HEARTBEATS);
    const read = metrics.flatMap((m) => (m.MetricStat === undefined ? [] : [m]));
    expect(read.map((m) => m.Id).sort()).toEqual(['replay', 'sender', 'signature']);
    for (const m of read) {
      expect(m.MetricStat?.Period).toBe(300);
      expect(m.MetricStat?.Metric.MetricName).toBe('InvalidBeats');
      // The dimensions a handler publishes a refused beat with (lambdas/core/emf.ts): one set is exactly these.
      const published = embeddedMetricLines('orders', 'standby', invalidBeatPoints('storage', m.Id), 0).map(
        (l) => (JSON.parse(l) as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } })._aws,
      );
      expect(published.map((p) => [...(p.CloudWatchMetrics[0]?.Dimensions[0] ?? [])].sort())).toContainEqual(
        m.MetricStat?.Metric.Dimensions.map((d) => d.Name).sort(),
      );
      expect(m.MetricStat?.Metric.Dimensions.find((d) => d.Name === 'Reason')?.Value).toBe(m.Id);
    }
  });
});
