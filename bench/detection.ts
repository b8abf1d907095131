import { tuningOf, type MirrorbeatConfig } from '../lib/config';
import type { Tuning } from '../lambdas/core/wire';
import { type BenchTunings, decide, DETECTOR_IDS, type DetectorId } from './detectors';
import { corpus, FAILURE_CLASSES, NON_FAILURE_CLASSES, type TraceClass } from './traces';

export interface DetectorFigures {
  traces: number;
  failures: number;
  detected: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Non-failure traces in which the detector failed over: the numerator of the rate below, over nonFailureTraces. */
  falseFailovers: number;
  nonFailureTraces: number;
  /** Failure traces in which it decided before the failure happened (counted as misses too, not in the rate). */
  earlyDecisions: number;
  /** One-sided 95 % upper bound (Clopper–Pearson) on the rate of false failovers per non-failure trace. */
  falseFailoverRateUpper95: number;
  /** Misses and false failovers by trace class, where there were any. */
  misses: Partial<Record<TraceClass, number>>;
  falseFailoversByClass: Partial<Record<TraceClass, number>>;
}

export const percentile = (sorted: readonly number[], p: number): number | null =>
  sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number);

/** P(X ≤ k) for X ~ Binomial(n, p), summed in log space so large n stays exact enough. */
function binomialCdf(k: number, n: number, p: number): number {
  if (p <= 0) return 1;
  if (p >= 1) return k >= n ? 1 : 0;
  let logTerm = n * Math.log(1 - p);
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= k; i += 1) {
    logTerm += Math.log((n - i + 1) / i) + Math.log(p / (1 - p));
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

/** The one-sided 95 % Clopper–Pearson upper bound on a rate seen `k` times in `n` trials (k = 0: about 3/n). */
export function upperBound95(k: number, n: number): number {
  if (n === 0) return 1;
  if (k >= n) return 1;
  let low = k / n;
  let high = 1;
  for (let i = 0; i < 60; i += 1) {
    const mid = (low + high) / 2;
    if (binomialCdf(k, n, mid) > 0.05) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * The tunings the bench runs mirrorbeat under: the configuration's, in quorum mode and in
 * two-region mode (stay-primary, its default). A reported workload failure starts a
 * failover in both (`health.onPeerFailure: failover`), so the workload-failed class is a
 * detection, as a Route 53 health check on the workload's endpoint would make it.
 */
export function benchTunings(config: MirrorbeatConfig, twoRegionConfig: MirrorbeatConfig = config): BenchTunings {
  const tuning = (c: MirrorbeatConfig): Tuning => ({ ...tuningOf(c), onPeerFailure: 'failover' });
  return {
    quorum: { ...tuning(config), consistency: 'strong', isolationPolicy: 'self-fence' },
    twoRegion: { ...tuning(twoRegionConfig), consistency: 'eventual', isolationPolicy: 'stay-primary' },
  };
}

export interface DetectionResult {
  figures: Record<DetectorId, DetectorFigures>;
  latencies: Record<DetectorId, number[]>;
  classes: Record<string, number>;
}

/**
 * Every detector over the corpus of every seed. A false failover is a decision in a non-failure trace (the rate's
 * numerator and denominator are both non-failure traces); a decision before the failure in a failure trace is an early
 * decision, reported apart and counted as a miss.
 */
export function detectionFigures(
  config: MirrorbeatConfig,
  tracesPerClass: number,
  seeds: readonly number[],
  detectors: readonly DetectorId[] = DETECTOR_IDS,
  twoRegionConfig: MirrorbeatConfig = config,
): DetectionResult {
  const tunings = benchTunings(config, twoRegionConfig);
  const found = Object.fromEntries(detectors.map((id) => [id, [] as number[]])) as Record<DetectorId, number[]>;
  const figures = {} as Record<DetectorId, DetectorFigures>;
  for (const id of detectors)
    figures[id] = {
      traces: 0,
      failures: 0,
      detected: 0,
      p50Ms: null,
      p99Ms: null,
      maxMs: null,
      falseFailovers: 0,
      nonFailureTraces: 0,
      earlyDecisions: 0,
      falseFailoverRateUpper95: 1,
      misses: {},
      falseFailoversByClass: {},
    };
  const classes: Record<string, number> = {};
  for (const seed of seeds) {
    corpus(tracesPerClass, seed, config.intervalSeconds * 1000).forEach((trace, i) => {
      classes[trace.class] = (classes[trace.class] ?? 0) + 1;
      for (const id of detectors) {
        const f = figures[id];
        const decision = decide(id, trace, tunings, seed * 31 + i);
        f.traces += 1;
        const early = decision !== undefined && (trace.failureAtMs === undefined || decision < trace.failureAtMs);
        if (trace.failureAtMs === undefined) {
          f.nonFailureTraces += 1;
          if (early) {
            f.falseFailovers += 1;
            f.falseFailoversByClass[trace.class] = (f.falseFailoversByClass[trace.class] ?? 0) + 1;
          }
          continue;
        }
        if (early) f.earlyDecisions += 1;
        f.failures += 1;
        if (decision !== undefined && !early) {
          f.detected += 1;
          found[id].push(decision - trace.failureAtMs);
        } else f.misses[trace.class] = (f.misses[trace.class] ?? 0) + 1;
      }
    });
  }
  for (const id of detectors) {
    const f = figures[id];
    const sorted = found[id].sort((a, b) => a - b);
    const at = (p: number) => {
      const v = percentile(sorted, p);
      return v === null ? null : Math.round(v);
    };
    f.p50Ms = at(0.5);
    f.p99Ms = at(0.99);
    f.maxMs = sorted.length === 0 ? null : Math.round(sorted[sorted.length - 1] as number);
    f.falseFailoverRateUpper95 = Number(upperBound95(f.falseFailovers, f.nonFailureTraces).toPrecision(3));
  }
  const ordered = Object.fromEntries([...FAILURE_CLASSES, ...NON_FAILURE_CLASSES].map((c) => [c, classes[c] ?? 0]));
  return { figures, latencies: found, classes: ordered };
}
