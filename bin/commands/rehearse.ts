import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import fc from 'fast-check';
import { ConfigError, CONTEXT_KEY, parseConfig } from '../../lib/config';
import { benchTable, runBench, writeResults } from '../../bench/run';
import { checkInvariants, faultCounts, scenarioOf, scheduleArbitrary } from '../../local/chaos';
import { startDynamoLocal } from '../../local/dynamo';
import { renderPage } from '../../local/page';
import { simulateScenario } from '../../local/run';
import { loadScenario, SCENARIO_BASE_CONFIG, type Scenario, ScenarioError } from '../../local/scenario';
import { formatEntry, formatFirstPage, formatHeader, formatSummary } from '../../local/text';
import { collect, loadConfig, loadRawConfig } from './options';
import { formatStatus } from './status';

/** Without AWS: a scenario on the local runtime, random fault schedules, the benchmarks. */
export function registerRehearse(program: Command): void {
  program
    .command('chaos')
    .description(
      'Random fault schedules over the whole scenario grammar through the local runtime, checking invariants I1–I8',
    )
    .option('--runs <n>', 'how many schedules', '20')
    .option('--seed <n>', 'fast-check seed (printed, so a run can be repeated)', String(Date.now() % 2 ** 31))
    .action(async (opts: { runs: string; seed: string }) => {
      const runs = Number(opts.runs);
      const seed = Number(opts.seed);
      if (!Number.isInteger(runs) || runs < 1)
        throw new ConfigError(`--runs: got ${JSON.stringify(opts.runs)}; allowed: a whole number from 1`);
      if (!Number.isInteger(seed) || seed < 0)
        throw new ConfigError(`--seed: got ${JSON.stringify(opts.seed)}; allowed: a whole number from 0`);
      await runChaos(runs, seed);
    });

  program
    .command('simulate')
    .description(
      'Run a scenario on the local two-site runtime: DynamoDB Local, the deployed handlers, the synthesized workflows, virtual time',
    )
    .requiredOption('--scenario <file>', 'the scenario file (docs/SCENARIOS.md; examples in local/scenarios/)')
    .option('--seed <n>', "seed of the run's randomness (default: the scenario's seed, else 1)")
    .option('--json', 'print exactly one JSON report on stdout and nothing else')
    .option(
      '--html <file>',
      'also write the game day as one self-contained page: a lane per site, gaps without a primary shaded',
    )
    .option(
      '--cdk-json <file>',
      "the cdk.json whose configuration to rehearse, as synth reads it; the scenario's config goes on top (default: ./cdk.json, else the built-in demo cluster)",
    )
    .option(
      '-c, --context <key=value>',
      `override one key, as with cdk: -c ${CONTEXT_KEY}.failoverMode=manual`,
      collect,
      [],
    )
    .action(
      async (opts: {
        scenario: string;
        seed?: string;
        json?: boolean;
        html?: string;
        cdkJson?: string;
        context: string[];
      }) => {
        if (opts.seed !== undefined && !/^\d{1,10}$/.test(opts.seed))
          throw new ScenarioError(
            `--seed: got ${JSON.stringify(opts.seed)}; allowed: a whole number from 0 to 4294967295`,
          );
        const seed = opts.seed === undefined ? undefined : Number(opts.seed);
        if (seed !== undefined && seed > 2 ** 32 - 1)
          throw new ScenarioError(`--seed: got ${opts.seed}; allowed: a whole number from 0 to 4294967295`);
        await runSimulation(path.resolve(opts.scenario), {
          seed,
          json: opts.json === true,
          base: rehearsedConfig(opts.cdkJson, opts.context),
          ...(opts.html === undefined ? {} : { html: path.resolve(opts.html) }),
        });
      },
    );

  program
    .command('bench')
    .description(
      "Benchmarks: detection time and false failovers against today's detectors, monthly cost, bundle size and cold start, failover time",
    )
    .option('--cdk-json <file>', 'the cdk.json whose configuration to measure', 'cdk.json')
    .option('-c, --context <key=value>', `override one key: -c ${CONTEXT_KEY}.confirmationWindowSeconds=4`, collect, [])
    .option('--traces <n>', 'traces per class and seed', '500')
    .option('--seeds <list>', 'seeds of the trace corpus, one corpus each, comma-separated', '1,2,3')
    .option('--out <dir>', 'where to write bench.json, bench.txt and detection.svg', 'bench/results/latest')
    .option('--update-results', 'also refresh the committed copy in bench/results/ that the README shows')
    .option('--json', 'print exactly one JSON report on stdout and nothing else')
    .action(
      async (opts: {
        cdkJson: string;
        context: string[];
        traces: string;
        seeds: string;
        out: string;
        updateResults?: boolean;
        json?: boolean;
      }) => {
        const whole = (name: string, value: string, max: number) => {
          if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
            throw new ConfigError(`--${name}: got ${JSON.stringify(value)}; allowed: a whole number from 1 to ${max}`);
          return Number(value);
        };
        const config = loadConfig(opts.cdkJson, opts.context);
        // Two-region mode's figures with that mode's own defaults (a longer lease and confirmation window).
        // (its witness, failover mode and isolation policy are quorum mode's: the detector runs stay-primary there).
        const {
          witnessRegion: _w,
          failoverMode: _f,
          isolationPolicy: _i,
          ...raw
        } = loadRawConfig(opts.cdkJson, opts.context);
        let twoRegionConfig;
        try {
          twoRegionConfig = parseConfig({ ...raw, consistency: 'eventual' });
        } catch (error) {
          // Keys only quorum mode takes: two-region mode is measured with this configuration's values, and says so.
          twoRegionConfig = undefined;
          process.stderr.write(
            `mirrorbeat bench: mirrorbeat-two-region runs with this configuration's tuning, not two-region mode's defaults (${error instanceof Error ? error.message : String(error)})\n`,
          );
        }
        const { report, latencies } = await runBench({
          config,
          twoRegionConfig,
          tracesPerClass: whole('traces', opts.traces, 5000),
          seeds: opts.seeds.split(',').map((seed) => whole('seeds', seed.trim(), 2 ** 32 - 1)),
        });
        const written = [opts.out, ...(opts.updateResults === true ? [COMMITTED_RESULTS] : [])];
        for (const dir of written) writeResults(path.resolve(dir), report, latencies);
        process.stdout.write(
          opts.json ? `${JSON.stringify(report)}\n` : `${benchTable(report)}\n\nwritten to ${written.join(' and ')}\n`,
        );
      },
    );
}

/** The copy of the results the README shows, refreshed only on request (`--update-results`). */
const COMMITTED_RESULTS = 'bench/results';

/** `mirrorbeat chaos`: on a violation, the shrunk schedule is saved as a regression scenario. */
async function runChaos(runs: number, seed: number): Promise<void> {
  const dynamo = await startDynamoLocal();
  const ran: Scenario[] = [];
  const notices = { raised: 0, folded: 0, summarized: 0 };
  try {
    const outcome = await fc.check(
      fc.asyncProperty(scheduleArbitrary, async (schedule) => {
        const scenario = scenarioOf(schedule);
        ran.push(scenario);
        const result = await simulateScenario(scenario, { dynamoEndpoint: dynamo.endpoint });
        notices.raised += result.log.noticesRaised;
        notices.folded += result.log.foldedAll;
        notices.summarized += result.log.noticesSummarized;
        const violations = checkInvariants(scenario, result);
        if (violations.length > 0) throw new Error(violations.map((v) => `${v.invariant}: ${v.detail}`).join('; '));
      }),
      { numRuns: runs, seed },
    );
    process.stdout.write(
      `chaos: ${outcome.numRuns} schedules (seed ${seed}), faults ${JSON.stringify(faultCounts(ran))}\n`,
    );
    process.stdout.write(
      `notices: ${notices.raised} raised by the heartbeat modules, ${notices.folded} folded, ${notices.summarized} of them counted in summaries\n`,
    );
    if (outcome.failed && outcome.counterexample !== null) {
      const [schedule] = outcome.counterexample;
      const file = path.join('local', 'scenarios', `regression-${seed}.json`);
      writeFileSync(
        file,
        `${JSON.stringify({ name: `regression: chaos seed ${seed}`, seed: schedule.seed, durationMs: scenarioOf(schedule).durationMs, config: schedule.config, events: schedule.events }, null, 2)}\n`,
      );
      process.stdout.write(
        `violation after shrinking: ${String((outcome.errorInstance as Error | undefined)?.message ?? outcome.errorInstance)}\nsaved the minimal schedule to ${file}\n`,
      );
      process.exitCode = 1;
    } else {
      process.stdout.write('violations: 0\n');
    }
  } finally {
    await dynamo.stop();
  }
}

/** The configuration a scenario runs on: cdk.json's (with -c overrides), as synth reads it, or the built-in demo cluster. */
function rehearsedConfig(cdkJson: string | undefined, overrides: readonly string[]): RehearsedConfig {
  const file = cdkJson ?? 'cdk.json';
  if (cdkJson === undefined && !existsSync(file)) {
    if (overrides.length > 0) throw new ConfigError(`-c: no cdk.json here to override; pass --cdk-json FILE`);
    return { raw: SCENARIO_BASE_CONFIG, source: 'the built-in demo cluster (no cdk.json in this folder)' };
  }
  loadConfig(file, overrides); // the user's configuration must be valid on its own, with synth's error if not
  const raw = loadRawConfig(file, overrides);
  return {
    raw,
    source: `${path.basename(file)} (cluster ${String(raw.clusterName)})${overrides.length > 0 ? ` with -c ${overrides.join(' -c ')}` : ''}`,
  };
}

interface RehearsedConfig {
  readonly raw: Readonly<Record<string, unknown>>;
  /** Which configuration ran, in words for the first line of the summary. */
  readonly source: string;
}

/** `mirrorbeat simulate`: the timeline streams while the run goes on; `--json` prints only the report. */
async function runSimulation(
  file: string,
  opts: { seed: number | undefined; json: boolean; base: RehearsedConfig; html?: string },
): Promise<void> {
  const scenario = loadScenario(
    file,
    opts.base.raw,
    opts.base.raw === SCENARIO_BASE_CONFIG ? undefined : opts.base.source,
  );
  const keys = Object.keys(scenario.ownConfig);
  const configuration = `${opts.base.source}${keys.length > 0 ? `, with the scenario's ${keys.join(', ')} on top` : ''}`;
  const started = Date.now();
  const seed = opts.seed ?? scenario.seed ?? 1;
  if (!opts.json) process.stdout.write(`${formatHeader(scenario, seed, configuration)}\n`);
  const result = await simulateScenario(scenario, {
    seed,
    ...(opts.json ? {} : { onTimeline: (e) => process.stdout.write(`${formatEntry(e)}\n`) }),
  });
  const { report, status, messages } = result;
  const summary = formatSummary(report, Date.now() - started, configuration);
  if (opts.html !== undefined) {
    try {
      writeFileSync(opts.html, renderPage({ scenario, seed, configuration, result, summary }));
    } catch (error) {
      throw new ScenarioError(
        `--html: cannot write ${opts.html}: ${(error as { code?: string }).code ?? String(error)}; give a path in a folder you can write`,
      );
    }
  }
  const page = opts.html === undefined ? '' : `\nthe game day as a page: ${opts.html}\n`;
  process.stdout.write(
    opts.json
      ? `${JSON.stringify({ ...report, configuration })}\n`
      : `${summary}\n${formatFirstPage(messages)}\n\nat the end, mirrorbeat status would say:\n${formatStatus(status)}\n${page}`,
  );
}
