import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, CONTEXT_KEY, parseConfig } from '../../lib/config';
import { SCENARIO_BASE_CONFIG, ScenarioError } from '../../local/scenario';
import { collect, loadConfig, loadRawConfig } from './options';
import type * as Rehearsals from './rehearse-run';
import type { RehearsedConfig } from './rehearse-run';

/**
 * The runs themselves (the local runtime, the bench, fast-check: over a second to load) are
 * required only when one of these commands runs, so `mirrorbeat --help` stays fast. A require,
 * not import(): the CLI runs as CommonJS (tsx, jest), where import() would take the ESM loader.
 */
const rehearsals = (): typeof Rehearsals =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./rehearse-run') as typeof Rehearsals;

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
      const { runChaos } = rehearsals();
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
        const { runSimulation } = rehearsals();
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
        const { runBenchCommand } = rehearsals();
        await runBenchCommand({
          config,
          twoRegionConfig,
          tracesPerClass: whole('traces', opts.traces, 5000),
          seeds: opts.seeds.split(',').map((seed) => whole('seeds', seed.trim(), 2 ** 32 - 1)),
          written: [opts.out, ...(opts.updateResults === true ? [COMMITTED_RESULTS] : [])],
          json: opts.json === true,
        });
      },
    );
}

/** The copy of the results the README shows, refreshed only on request (`--update-results`). */
const COMMITTED_RESULTS = 'bench/results';

/**
 * The configuration a scenario runs on: cdk.json's (with -c overrides), as synth reads it, or the built-in demo
 * cluster.
 */
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
