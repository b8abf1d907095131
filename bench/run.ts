import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tuningOf, type MirrorbeatConfig } from '../lib/config';
import { definitionsFor, simulateScenario } from '../local/run';
import { parseScenario } from '../local/scenario';
import { detectionChart } from './chart';
import { alternativesCost, monthlyCost, PRICES_READ_ON } from './cost';
import { decide, DETECTOR_IDS, type DetectorId } from './detectors';
import { bundleFigures } from './size';
import { corpus, FAILURE_CLASSES, NON_FAILURE_CLASSES, type TraceClass } from './traces';

export interface DetectorFigures {
  traces: number;
  failures: number;
  detected: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  falseFailovers: number;
  /** Misses and false failovers by trace class, where there were any. */
  misses: Partial<Record<TraceClass, number>>;
  falseFailoversByClass: Partial<Record<TraceClass, number>>;
}

/** The benchmark report (a contract other tools read; README, "Benchmarks"), with the extra figures the issue asks for after it. */
export interface BenchReport {
  config: Record<string, unknown>;
  detection: Record<DetectorId, DetectorFigures>;
  costPerMonthUsd: { total: number; items: Record<string, number> };
  bundleBytes: Record<string, number>;
  failover: { decisionToPromotedMs: number | null; stateTransitions: number | null };
  coldImportMs: Record<string, number>;
  alternativesPerMonthUsd: Record<string, number>;
  pricesReadOn: string;
  corpus: { seed: number; tracesPerClass: number; classes: Record<string, number> };
}

export interface BenchOptions {
  readonly config: MirrorbeatConfig;
  readonly tracesPerClass: number;
  readonly seed: number;
  /** DynamoDB Local to use for the failover run; one is started when absent. */
  readonly dynamoEndpoint?: string;
  readonly importRuns?: number;
}

const percentile = (sorted: readonly number[], p: number): number | null =>
  sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number);

export function detectionFigures(
  config: MirrorbeatConfig,
  tracesPerClass: number,
  seed: number,
): {
  figures: Record<DetectorId, DetectorFigures>;
  latencies: Record<DetectorId, number[]>;
  classes: Record<string, number>;
} {
  const tuning = tuningOf(config);
  const traces = corpus(tracesPerClass, seed, config.intervalSeconds * 1000);
  const figures = {} as Record<DetectorId, DetectorFigures>;
  const latencies = {} as Record<DetectorId, number[]>;
  for (const id of DETECTOR_IDS) {
    const found: number[] = [];
    const f: DetectorFigures = {
      traces: traces.length,
      failures: 0,
      detected: 0,
      p50Ms: null,
      p99Ms: null,
      maxMs: null,
      falseFailovers: 0,
      misses: {},
      falseFailoversByClass: {},
    };
    traces.forEach((trace, i) => {
      const decision = decide(id, trace, tuning, seed * 31 + i);
      const early = decision !== undefined && (trace.failureAtMs === undefined || decision < trace.failureAtMs);
      if (early) {
        f.falseFailovers += 1;
        f.falseFailoversByClass[trace.class] = (f.falseFailoversByClass[trace.class] ?? 0) + 1;
      }
      if (trace.failureAtMs === undefined) return;
      f.failures += 1;
      if (decision !== undefined && !early) {
        f.detected += 1;
        found.push(decision - trace.failureAtMs);
      } else {
        f.misses[trace.class] = (f.misses[trace.class] ?? 0) + 1;
      }
    });
    found.sort((a, b) => a - b);
    f.p50Ms = percentile(found, 0.5) === null ? null : Math.round(percentile(found, 0.5) as number);
    f.p99Ms = percentile(found, 0.99) === null ? null : Math.round(percentile(found, 0.99) as number);
    f.maxMs = found.length === 0 ? null : Math.round(found[found.length - 1] as number);
    figures[id] = f;
    latencies[id] = found;
  }
  const classes = Object.fromEntries(
    [...FAILURE_CLASSES, ...NON_FAILURE_CLASSES].map((c) => [c, traces.filter((t) => t.class === c).length]),
  );
  return { figures, latencies, classes };
}

/** Decision to promoted, and the failover workflow's state transitions, from a production crash in the local runtime. */
async function failoverFigures(config: MirrorbeatConfig, seed: number, dynamoEndpoint: string | undefined) {
  const scenario = parseScenario({
    name: 'bench: production crash',
    seed,
    durationMs: 70_000,
    config,
    events: [{ atMs: 30_000, fault: 'crash', site: 'production' }],
  });
  const result = await simulateScenario(scenario, dynamoEndpoint === undefined ? {} : { dynamoEndpoint });
  const failover = result.report.failovers[0];
  const execution = result.executions.find((e) => e.machine === 'failover');
  return {
    failover: {
      decisionToPromotedMs:
        failover === undefined || failover.promotedAtMs === null ? null : failover.promotedAtMs - failover.startedAtMs,
      stateTransitions: execution?.transitions ?? null,
    },
    metricSeries: Math.max(result.metricSeries.production, result.metricSeries.standby),
    emfBytesPerTick: result.emfBytesPerTick,
    definitions: definitionsFor(scenario),
  };
}

export async function runBench(
  options: BenchOptions,
): Promise<{ report: BenchReport; latencies: Record<DetectorId, number[]> }> {
  const { config, tracesPerClass, seed } = options;
  const detection = detectionFigures(config, tracesPerClass, seed);
  const run = await failoverFigures(config, seed, options.dynamoEndpoint);
  const memory = (prefix: string) =>
    Object.entries(run.definitions.standby.functionMemoryMb).find(([id]) => id.startsWith(prefix))?.[1] ?? 128;
  const cost = monthlyCost(config, {
    heartbeatModuleMemoryMb: memory('HeartbeatModule'),
    receiverMemoryMb: memory('NetworkReceiver'),
    alarmsPerSite: run.definitions.standby.alarms,
    dashboardsPerSite: run.definitions.standby.dashboards,
    metricSeriesPerSite: run.metricSeries,
    logBytesPerTick: run.emfBytesPerTick,
    logBytesPerReceipt: 0,
  });
  const sizes = bundleFigures(options.importRuns ?? 5);
  const report: BenchReport = {
    config: { ...tuningOf(config) },
    detection: detection.figures,
    costPerMonthUsd: cost,
    bundleBytes: sizes.bundleBytes,
    failover: run.failover,
    coldImportMs: sizes.coldImportMs,
    alternativesPerMonthUsd: alternativesCost(),
    pricesReadOn: PRICES_READ_ON,
    corpus: { seed, tracesPerClass, classes: detection.classes },
  };
  return { report, latencies: detection.latencies };
}

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

export function benchTable(r: BenchReport): string {
  const lines = [
    `mirrorbeat bench — interval ${String(r.config.intervalSeconds)} s, ${r.corpus.tracesPerClass} traces per class × ${Object.keys(r.corpus.classes).length} classes (seed ${r.corpus.seed})`,
    '',
  ];
  lines.push('detector               failures detected    p50      p99      max   false failovers');
  for (const [id, f] of Object.entries(r.detection)) {
    const why = Object.entries(f.falseFailoversByClass)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    lines.push(
      `${id.padEnd(22)} ${String(f.failures).padStart(8)} ${String(f.detected).padStart(8)} ${seconds(f.p50Ms).padStart(8)} ${seconds(f.p99Ms).padStart(8)} ${seconds(f.maxMs).padStart(8)}   ${f.falseFailovers}${why ? ` (${why})` : ''}`,
    );
    const missed = Object.entries(f.misses)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    if (missed) lines.push(`${''.padEnd(22)} missed: ${missed}`);
  }
  lines.push(
    '',
    `cost per month, one site pair (prices read ${r.pricesReadOn}): $${r.costPerMonthUsd.total.toFixed(2)}`,
  );
  for (const [k, v] of Object.entries(r.costPerMonthUsd.items)) lines.push(`  ${k.padEnd(24)} $${v.toFixed(2)}`);
  lines.push(
    `  beside it: ${Object.entries(r.alternativesPerMonthUsd)
      .map(([k, v]) => `${k} $${v.toFixed(2)}`)
      .join(', ')}`,
  );
  lines.push('', 'bundle (minified) and cold import:');
  for (const [k, v] of Object.entries(r.bundleBytes))
    lines.push(`  ${k.padEnd(24)} ${(v / 1024).toFixed(1)} KiB   ${String(r.coldImportMs[k])} ms`);
  lines.push(
    '',
    `failover in the local runtime: decision to promoted ${seconds(r.failover.decisionToPromotedMs)}, ${String(r.failover.stateTransitions)} state transitions`,
  );
  return lines.join('\n');
}

/** Writes the report, the table and the chart to `dir` (bench/results/ for the full run). */
export function writeResults(dir: string, report: BenchReport, latencies: Record<DetectorId, number[]>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(dir, 'bench.txt'), `${benchTable(report)}\n`);
  writeFileSync(
    path.join(dir, 'detection.svg'),
    `${detectionChart(latencies, `Detection time after a true failure (${report.corpus.tracesPerClass} traces per failure class, interval ${String(report.config.intervalSeconds)} s)`)}\n`,
  );
}
