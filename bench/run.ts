import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tuningOf, type MirrorbeatConfig } from '../lib/config';
import { definitionsFor, simulateScenario } from '../local/run';
import { parseScenario } from '../local/scenario';
import { detectionChart } from './chart';
import { alternativesCost, monthlyCost, PRICES_READ_ON, provisionedDynamoCost } from './cost';
import { pathTimeoutMs } from '../lambdas/heartbeat-module/deps';
import { type DetectorFigures, detectionFigures, percentile } from './detection';
import type { DetectorId } from './detectors';
import { bundleFigures } from './size';
import { dynamoTraffic, type DynamoTraffic } from './traffic';
import { type RuntimeWaits, runtimeWaits } from './waits';
import type { SdkCall } from '../local/calls';
import { startDynamoLocal } from '../local/dynamo';
import {
  BENCH_INTERVALS,
  configAtInterval,
  type IntervalFigures,
  intervalRow,
  intervalTable,
  sameTiming,
} from './intervals';

/**
 * The benchmark report (a contract other tools read; README, "Benchmarks"), with the extra figures the issue asks for
 * after it.
 */
export interface BenchReport {
  config: Record<string, unknown>;
  detection: Record<DetectorId, DetectorFigures>;
  costPerMonthUsd: { total: number; items: Record<string, number> };
  bundleBytes: Record<string, number>;
  failover: { decisionToPromotedMs: number | null; stateTransitions: number | null };
  coldImportMs: Record<string, number>;
  alternativesPerMonthUsd: Record<string, number>;
  pricesReadOn: string;
  corpus: { seeds: number[]; tracesPerClass: number; classes: Record<string, number> };
  /**
   * Detection to clients resolving the new site through DNS: Route 53's own checks flip the
   * answer at once and wait only for resolvers' TTL; mirrorbeat's promotion changes the record
   * (decision to promoted, measured in the local runtime), which Route 53 documents reaching
   * all its servers generally within 60 s, and then the TTL.
   */
  endToEnd: { dnsTtlSeconds: number; recordPropagationSeconds: number; p99Ms: Partial<Record<DetectorId, number>> };
  /**
   * CPU time of heartbeat-module ticks in the local runtime (this machine; no TLS: Lambda keeps its connections
   * alive, so a steady tick's TLS is record encryption only), stretched to the CPU share Lambda gives each memory
   * size (one vCPU at 1,769 MB, proportionally less below), against the path timeout a tick's sends must meet.
   * `steady`: every tick but a container's first (which builds its clients and connections) and one that starts a
   * failover (whose local workflow runs in the same process); `firstMaxMs`: the slowest first tick.
   */
  tick: {
    steadyP50Ms: number;
    steadyP90Ms: number;
    steadyP99Ms: number;
    firstMaxMs: number;
    memoryMb: number;
    pathTimeoutMs: number;
    /** Per memory size, at Lambda's CPU share: the steady p90 and p99 and the slowest first tick. */
    atMemoryMs: Record<string, { steadyP90: number; steadyP99: number; firstMax: number }>;
    /** The Lambda line of the month at each of those memory sizes (`heartbeatModuleMemoryMb`). */
    lambdaUsdAtMemory: Record<string, number>;
  };
  /**
   * The steady DynamoDB traffic the cost bills, measured in the local runtime (bench/traffic.ts), and what it
   * would cost with provisioned capacity instead of on demand (bench/cost.ts, provisionedDynamoCost).
   */
  dynamo: DynamoTraffic & { provisioned: ReturnType<typeof provisionedDynamoCost> };
  /**
   * mirrorbeat (quorum mode) at each interval a user may pick, with that interval's default timing
   * (bench/intervals.ts):
   * detection over the same corpus, and the month's cost from a runtime run at that interval.
   */
  intervals: Record<string, IntervalFigures>;
  /** What a user waits for, end to end, on this machine (bench/waits.ts); absent when not timed. */
  runtime?: RuntimeWaits;
}

/** Lambda: "At 1,769 MB, a function has the equivalent of one vCPU"; CPU is allocated in proportion to memory. */
export const MB_PER_VCPU = 1769;

/**
 * The TTL a failover record would carry (Route 53's console default for a new record is 300 s; 60 s is the common
 * choice for failover).
 */
export const DNS_TTL_SECONDS = 60;
/** ChangeResourceRecordSets: "changes generally propagate to all Route 53 name servers within 60 seconds". */
export const RECORD_PROPAGATION_SECONDS = 60;

function endToEnd(
  detection: Record<DetectorId, DetectorFigures>,
  decisionToPromotedMs: number | null,
): BenchReport['endToEnd'] {
  const p99Ms: Partial<Record<DetectorId, number>> = {};
  for (const id of ['route53-health-check', 'route53-health-check-fast'] as const) {
    const p99 = detection[id]?.p99Ms;
    if (p99 !== null && p99 !== undefined) p99Ms[id] = p99 + DNS_TTL_SECONDS * 1000;
  }
  for (const id of ['mirrorbeat', 'mirrorbeat-two-region'] as const) {
    const p99 = detection[id]?.p99Ms;
    if (p99 !== null && p99 !== undefined && decisionToPromotedMs !== null)
      p99Ms[id] = p99 + decisionToPromotedMs + (RECORD_PROPAGATION_SECONDS + DNS_TTL_SECONDS) * 1000;
  }
  return { dnsTtlSeconds: DNS_TTL_SECONDS, recordPropagationSeconds: RECORD_PROPAGATION_SECONDS, p99Ms };
}

export interface BenchOptions {
  readonly config: MirrorbeatConfig;
  /** The same configuration in two-region mode, with that mode's defaults (the mirrorbeat-two-region detector). */
  readonly twoRegionConfig?: MirrorbeatConfig;
  readonly tracesPerClass: number;
  /** One corpus per seed; the figures are over all of them. */
  readonly seeds: readonly number[];
  /** DynamoDB Local to use for the failover run; one is started when absent. */
  readonly dynamoEndpoint?: string;
  readonly importRuns?: number;
  /** Whether to time what a user waits for (bench/waits.ts: three more CLI processes, half a minute or more). */
  readonly waits?: boolean;
  /** Told each stage as it starts (the CLI prints it on stderr: the whole run takes minutes). */
  readonly progress?: (stage: string) => void;
}

/** The steady window whose DynamoDB requests are counted (bench/traffic.ts): whole minutes, after the first one. */
const STEADY_FROM_MS = 60_000;
const STEADY_TO_MS = 180_000;

/**
 * One run of the local runtime with the deployed handler code: two minutes of steady state,
 * whose DynamoDB requests are counted, then a production crash, for decision to promoted
 * and the failover workflow's state transitions. `steadyOnly`: one steady minute and no crash,
 * for the cost at another interval.
 */
async function runtimeFigures(config: MirrorbeatConfig, seed: number, dynamoEndpoint: string, steadyOnly = false) {
  const steadyTo = steadyOnly ? STEADY_FROM_MS + 60_000 : STEADY_TO_MS;
  const scenario = parseScenario({
    name: steadyOnly ? 'bench: steady state' : 'bench: steady state, then a production crash',
    seed,
    durationMs: steadyOnly ? steadyTo : steadyTo + 40_000,
    config,
    events: steadyOnly ? [] : [{ atMs: steadyTo, fault: 'crash', site: 'production' }],
  });
  const calls: SdkCall[] = [];
  const result = await simulateScenario(scenario, {
    dynamoEndpoint,
    onCall: (call) => calls.push(call),
  });
  const failover = result.report.failovers[0];
  const execution = result.executions.find((e) => e.machine === 'failover');
  return {
    failover: {
      decisionToPromotedMs:
        failover === undefined || failover.promotedAtMs === null ? null : failover.promotedAtMs - failover.startedAtMs,
      stateTransitions: execution?.transitions ?? null,
    },
    dynamo: dynamoTraffic(calls, STEADY_FROM_MS, steadyTo, (table) => table.endsWith('-heartbeat-volume')),
    metricSeries: Math.max(result.metricSeries.production, result.metricSeries.standby),
    tickCpuMs: {
      steady: [...result.tickCpuMs.steady].sort((a, b) => a - b),
      first: [...result.tickCpuMs.first].sort((a, b) => a - b),
    },
    emfBytesPerTick: result.emfBytesPerTick,
    definitions: definitionsFor(scenario),
  };
}

type RuntimeRun = Awaited<ReturnType<typeof runtimeFigures>>;

/** What the cost model needs of a deployment, from the synthesized templates and a runtime run. */
function profileOf(run: RuntimeRun) {
  const memory = (prefix: string) =>
    Object.entries(run.definitions.standby.functionMemoryMb).find(([id]) => id.startsWith(prefix))?.[1] ?? 128;
  return {
    heartbeatModuleMemoryMb: memory('HeartbeatModule'),
    receiverMemoryMb: memory('NetworkReceiver'),
    alarmsPerSite: run.definitions.standby.alarms,
    alarmMetricsPerSite: run.definitions.standby.alarmMetrics,
    dashboardsPerSite: run.definitions.standby.dashboards,
    metricSeriesPerSite: run.metricSeries,
    logBytesPerTick: run.emfBytesPerTick,
    logBytesPerReceipt: 0,
    dynamo: run.dynamo,
  };
}

/**
 * The `intervals` rows: the configuration's own run where it is one of them at its defaults, else the `mirrorbeat`
 * detector over the same corpus and a runtime run (its DynamoDB traffic, log bytes and metric series) for the cost.
 */
async function intervalFigures(
  options: BenchOptions,
  own: { figures: DetectorFigures; latencies: number[]; cost: { total: number; items: Record<string, number> } },
  dynamoEndpoint: string,
): Promise<{ rows: Record<string, IntervalFigures>; latencies: Record<string, number[]> }> {
  const rows: Record<string, IntervalFigures> = {};
  const latencies: Record<string, number[]> = {};
  const label = (seconds: number, row: IntervalFigures) => `${seconds} s, $${row.costPerMonthUsd.toFixed(0)}/month`;
  for (const seconds of BENCH_INTERVALS) {
    const config = configAtInterval(options.config, seconds);
    if (sameTiming(config, options.config)) {
      rows[seconds] = intervalRow(config, own.figures, own.cost);
      latencies[label(seconds, rows[seconds])] = own.latencies;
      continue;
    }
    options.progress?.(`the interval of ${seconds} s: a failover on the local runtime and the corpus`);
    const run = await runtimeFigures(config, options.seeds[0] ?? 1, dynamoEndpoint, true);
    const detected = detectionFigures(config, options.tracesPerClass, options.seeds, ['mirrorbeat']);
    rows[seconds] = intervalRow(config, detected.figures.mirrorbeat, monthlyCost(config, profileOf(run)));
    latencies[label(seconds, rows[seconds])] = detected.latencies.mirrorbeat;
  }
  return { rows, latencies };
}

/** The report and what its charts plot: detection times per detector, and mirrorbeat's per interval. */
export interface BenchRun {
  report: BenchReport;
  latencies: Record<DetectorId, number[]>;
  intervalLatencies: Record<string, number[]>;
}

export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const started = options.dynamoEndpoint === undefined ? await startDynamoLocal() : undefined;
  try {
    return await benchWith(options, options.dynamoEndpoint ?? (started?.endpoint as string));
  } finally {
    await started?.stop();
  }
}

async function benchWith(options: BenchOptions, dynamoEndpoint: string): Promise<BenchRun> {
  const { config, tracesPerClass, seeds } = options;
  const say = options.progress ?? (() => undefined);
  // The failover run first, in a small heap: its ticks' CPU times are not to carry the corpus's garbage collection.
  say(`a failover on the local runtime at ${config.intervalSeconds} s`);
  const run = await runtimeFigures(config, seeds[0] ?? 1, dynamoEndpoint);
  say(`detection over the corpus (${tracesPerClass} traces per class, ${seeds.length} seed(s))`);
  const detection = detectionFigures(config, tracesPerClass, seeds, undefined, options.twoRegionConfig);
  const profile = profileOf(run);
  const cost = monthlyCost(config, profile);
  const lambdaAt = (mb: number) => {
    const { items } = monthlyCost(config, { ...profile, heartbeatModuleMemoryMb: mb });
    return Math.round(((items.lambda ?? 0) + (items['lambda-backstop'] ?? 0)) * 100) / 100;
  };
  say('bundle sizes and cold imports');
  const sizes = bundleFigures(options.importRuns ?? 5);
  const intervals = await intervalFigures(
    options,
    { figures: detection.figures.mirrorbeat, latencies: detection.latencies.mirrorbeat, cost },
    dynamoEndpoint,
  );
  const report: BenchReport = {
    config: { ...tuningOf(config) },
    detection: detection.figures,
    costPerMonthUsd: cost,
    bundleBytes: sizes.bundleBytes,
    failover: run.failover,
    coldImportMs: sizes.coldImportMs,
    alternativesPerMonthUsd: alternativesCost(),
    pricesReadOn: PRICES_READ_ON,
    corpus: { seeds: [...seeds], tracesPerClass, classes: detection.classes },
    endToEnd: endToEnd(detection.figures, run.failover.decisionToPromotedMs),
    tick: tickFigures(run.tickCpuMs, profile.heartbeatModuleMemoryMb, config.intervalSeconds, lambdaAt),
    dynamo: { ...run.dynamo, provisioned: provisionedDynamoCost(run.dynamo, config.consistency) },
    intervals: intervals.rows,
    ...(options.waits === false ? {} : { runtime: (say('what a user waits for (CLI processes)'), runtimeWaits()) }),
  };
  return { report, latencies: detection.latencies, intervalLatencies: intervals.latencies };
}

function tickFigures(
  cpuMs: { readonly steady: readonly number[]; readonly first: readonly number[] },
  memoryMb: number,
  intervalSeconds: number,
  lambdaUsdAt: (memoryMb: number) => number,
): BenchReport['tick'] {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const steadyP90Ms = round(percentile(cpuMs.steady, 0.9) ?? 0);
  const steadyP99Ms = round(percentile(cpuMs.steady, 0.99) ?? 0);
  const firstMaxMs = round(cpuMs.first.at(-1) ?? 0);
  const stretch = (ms: number, mb: number) => Math.round(ms * Math.max(1, MB_PER_VCPU / mb));
  const sizes = [...new Set([128, 192, 256, memoryMb])].sort((a, b) => a - b);
  return {
    steadyP50Ms: round(percentile(cpuMs.steady, 0.5) ?? 0),
    steadyP90Ms,
    steadyP99Ms,
    firstMaxMs,
    memoryMb,
    pathTimeoutMs: pathTimeoutMs(intervalSeconds),
    atMemoryMs: Object.fromEntries(
      sizes.map((mb) => [
        mb,
        {
          steadyP90: stretch(steadyP90Ms, mb),
          steadyP99: stretch(steadyP99Ms, mb),
          firstMax: stretch(firstMaxMs, mb),
        },
      ]),
    ),
    lambdaUsdAtMemory: Object.fromEntries(sizes.map((mb) => [mb, lambdaUsdAt(mb)])),
  };
}

/** mirrorbeat's p99 against Route 53's, said the way round it is. */
export function compared(oursMs: number, route53Ms: number): string {
  if (oursMs <= route53Ms)
    return `mirrorbeat ${(route53Ms / oursMs).toFixed(2)}× faster than route53-health-check (threshold 3)`;
  return `mirrorbeat ${(oursMs / route53Ms).toFixed(2)}× slower than route53-health-check (threshold 3)`;
}

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

export function benchTable(r: BenchReport): string {
  const lines = [
    `mirrorbeat bench — interval ${String(r.config.intervalSeconds)} s, ${r.corpus.tracesPerClass} traces per class × ${Object.keys(r.corpus.classes).length} classes × ${r.corpus.seeds.length} seeds (${r.corpus.seeds.join(', ')})`,
    '',
  ];
  lines.push(
    'detector                  failures detected    p50      p99      max   false failovers (of non-failure traces; 95 % upper bound on the rate)',
  );
  for (const [id, f] of Object.entries(r.detection)) {
    const why = Object.entries(f.falseFailoversByClass)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    lines.push(
      `${id.padEnd(25)} ${String(f.failures).padStart(8)} ${String(f.detected).padStart(8)} ${seconds(f.p50Ms).padStart(8)} ${seconds(f.p99Ms).padStart(8)} ${seconds(f.maxMs).padStart(8)}   ${f.falseFailovers} of ${f.nonFailureTraces}, ≤ ${(f.falseFailoverRateUpper95 * 100).toPrecision(2)} %${why ? ` (${why})` : ''}`,
    );
    const missed = Object.entries(f.misses)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    if (missed)
      lines.push(
        `${''.padEnd(25)} missed: ${missed}${f.earlyDecisions > 0 ? ` (${f.earlyDecisions} of them decided before the failure)` : ''}`,
      );
  }
  const ours = r.detection.mirrorbeat?.p99Ms;
  const route53 = r.detection['route53-health-check']?.p99Ms;
  if (typeof ours === 'number' && typeof route53 === 'number') lines.push('', `p99: ${compared(ours, route53)}`);
  lines.push(
    `through DNS (TTL ${r.endToEnd.dnsTtlSeconds} s; mirrorbeat adds its promotion and Route 53's ≤ ${r.endToEnd.recordPropagationSeconds} s propagation of the record change), p99: ${Object.entries(
      r.endToEnd.p99Ms,
    )
      .map(([id, ms]) => `${id} ${seconds(ms)}`)
      .join(', ')}`,
  );
  lines.push('', ...intervalTable(r.intervals));
  lines.push(
    '',
    `cost per month, one site pair (prices read ${r.pricesReadOn}): $${r.costPerMonthUsd.total.toFixed(2)}`,
  );
  for (const [k, v] of Object.entries(r.costPerMonthUsd.items)) lines.push(`  ${k.padEnd(24)} $${v.toFixed(2)}`);
  const d = r.dynamo;
  lines.push(
    `  dynamodb, measured in steady state: ${d.readUnitsPerSecond} read and ${d.writeUnitsPerSecond} write units a second (+${d.replicatedWriteUnitsPerSecond} replicated); with provisioned capacity instead (2x the mean): $${d.provisioned.total.toFixed(2)}`,
    `    as tableCapacity: ${JSON.stringify(d.provisioned.tableCapacity)}`,
  );
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
    `heartbeat-module tick (deployed at ${r.tick.memoryMb} MB): CPU here p50 ${r.tick.steadyP50Ms} ms, p90 ${r.tick.steadyP90Ms} ms, p99 ${r.tick.steadyP99Ms} ms, a container's first tick up to ${r.tick.firstMaxMs} ms`,
    `  at Lambda's CPU share, p90 / p99 / first tick: ${Object.entries(r.tick.atMemoryMs)
      .map(([mb, t]) => `${mb} MB ${t.steadyP90} / ${t.steadyP99} / ${t.firstMax} ms`)
      .join(', ')}; a path's sends must finish within ${r.tick.pathTimeoutMs} ms`,
    `  lambda and its backstop a month at each (heartbeatModuleMemoryMb): ${Object.entries(r.tick.lambdaUsdAtMemory)
      .map(([mb, usd]) => `${mb} MB $${usd.toFixed(2)}`)
      .join(', ')}`,
  );
  if (r.runtime !== undefined)
    lines.push(
      '',
      `what a user waits for, on this machine: mirrorbeat --help ${seconds(r.runtime.helpMs)}, a five-minute scenario ${seconds(r.runtime.fiveMinuteScenarioMs)}, the demo ${seconds(r.runtime.demoMs)}`,
    );
  return lines.join('\n');
}

/** Writes the report, the table and the chart to `dir` (bench/results/ for the full run). */
export function writeResults(dir: string, { report, latencies, intervalLatencies }: BenchRun): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(dir, 'bench.txt'), `${benchTable(report)}\n`);
  writeFileSync(
    path.join(dir, 'detection.svg'),
    `${detectionChart(latencies, `Detection time after a true failure (${report.corpus.tracesPerClass} traces per failure class, interval ${String(report.config.intervalSeconds)} s)`)}\n`,
  );
  writeFileSync(
    path.join(dir, 'intervals.svg'),
    `${detectionChart(intervalLatencies, 'mirrorbeat (quorum mode) at each interval, its default timing: detection time and cost', (row) => row.startsWith(`${String(report.config.intervalSeconds)} s`))}\n`,
  );
}
