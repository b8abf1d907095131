import { type MirrorbeatConfig, parseConfig } from '../lib/config';
import type { DetectorFigures } from './detection';

/** The intervals a user may pick that the report measures (the benchmark report contract's `intervals`). */
export const BENCH_INTERVALS = [1, 2, 5, 10] as const;

/**
 * mirrorbeat (quorum mode) at one interval, with that interval's default timing, and what the pair costs a month there.
 */
export interface IntervalFigures {
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  falseFailovers: number;
  nonFailureTraces: number;
  /** Non-failure traces of each class that failed over (empty when none did). */
  falseFailoversByClass: DetectorFigures['falseFailoversByClass'];
  /** Failure traces not detected, by class (crash-witness-down is not to be: no majority, no takeover). */
  misses: DetectorFigures['misses'];
  costPerMonthUsd: number;
  /**
   * Of that, the backstop for a ticker killed without warning (each refused per-minute invocation looks again three
   * intervals later): without it such a site stays silent until the next minute's invocation.
   */
  backstopPerMonthUsd: number;
  /** The timing the interval's defaults give (lib/config.ts): what the figures above were measured with. */
  leaseSeconds: number;
  confirmationWindowSeconds: number;
  deadlineFloorSeconds: number;
}

/** The keys whose defaults follow the interval: dropped, so each interval runs with its own defaults. */
const TIMING_KEYS = [
  'leaseSeconds',
  'confirmationWindowSeconds',
  'deadlineFloorSeconds',
  'deadlineCeilingSeconds',
] as const;

/**
 * The configuration at another interval, as a user who changed only `intervalSeconds` gets it: every timing default
 * that
 * follows the interval (lease, confirmation window, deadlines, the health sources' timeout) is taken again for it. Keys
 * the
 * configuration set by hand are timing defaults too here: the row measures the interval, not one hand-tuned lease.
 */
export function configAtInterval(config: MirrorbeatConfig, intervalSeconds: number): MirrorbeatConfig {
  const raw: Record<string, unknown> = { ...config, intervalSeconds };
  for (const key of TIMING_KEYS) delete raw[key];
  const { timeoutMs: _timeout, ...health } = config.health;
  return parseConfig({ ...raw, health });
}

/** Whether two configurations tick and time their lease, window and deadlines alike. */
export function sameTiming(a: MirrorbeatConfig, b: MirrorbeatConfig): boolean {
  return (
    a.intervalSeconds === b.intervalSeconds &&
    a.health.timeoutMs === b.health.timeoutMs &&
    TIMING_KEYS.every((key) => a[key] === b[key])
  );
}

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** The rows as the bench's text report shows them. */
export function intervalTable(rows: Record<string, IntervalFigures>): string[] {
  const lines = [
    'mirrorbeat at each interval (its default timing)  lease   p50      p99      max   false failovers   cost a month (of it the backstop)',
  ];
  for (const [interval, r] of Object.entries(rows)) {
    const why = Object.entries(r.falseFailoversByClass)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    lines.push(
      `  ${`${interval} s`.padEnd(47)} ${`${r.leaseSeconds} s`.padStart(5)} ${seconds(r.p50Ms).padStart(8)} ${seconds(r.p99Ms).padStart(8)} ${seconds(r.maxMs).padStart(8)}   ${`${r.falseFailovers} of ${r.nonFailureTraces}`.padEnd(15)} $${r.costPerMonthUsd.toFixed(2)} ($${r.backstopPerMonthUsd.toFixed(2)})${why ? `  (false: ${why})` : ''}`,
    );
  }
  return lines;
}

export function intervalRow(
  config: MirrorbeatConfig,
  f: DetectorFigures,
  cost: { total: number; items: Record<string, number> },
): IntervalFigures {
  return {
    p50Ms: f.p50Ms,
    p99Ms: f.p99Ms,
    maxMs: f.maxMs,
    falseFailovers: f.falseFailovers,
    nonFailureTraces: f.nonFailureTraces,
    falseFailoversByClass: f.falseFailoversByClass,
    misses: f.misses,
    costPerMonthUsd: cost.total,
    backstopPerMonthUsd: cost.items['lambda-backstop'] ?? 0,
    leaseSeconds: config.leaseSeconds,
    confirmationWindowSeconds: config.confirmationWindowSeconds,
    deadlineFloorSeconds: config.deadlineFloorSeconds,
  };
}
