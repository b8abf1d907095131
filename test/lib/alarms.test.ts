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
  /**
   * The alarm's metric math, evaluated as CloudWatch does for one minute's values: IF(c, a, b), AND, OR, the
   * comparisons (1 or 0), parentheses, names and numbers — the part of the language the expression uses.
   */
  const evaluate = (values: Readonly<Record<string, number>>): number => {
    const tokens = BOTH_PATHS_FAILED.match(/IF|AND|OR|==|!=|>=|<=|[(),]|[a-z]+|\d+/g) ?? [];
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
      if (t === '(') {
        const v = or();
        expect1(')');
        return v;
      }
      if (/^\d+$/.test(t)) return Number(t);
      const v = values[t];
      if (v === undefined) throw new Error(`unknown name ${t}`);
      return v;
    };
    const comparison = (): number => {
      const left = primary();
      const op = tokens[at];
      if (op !== '==' && op !== '!=' && op !== '>=' && op !== '<=') return left;
      at += 1;
      const right = primary();
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
