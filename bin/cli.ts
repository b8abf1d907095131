import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError, configFromContext, CONTEXT_KEY } from '../lib/config';
import { benchTable, runBench, writeResults } from '../bench/run';
import { simulateScenario } from '../local/run';
import { loadScenario, ScenarioError } from '../local/scenario';
import { formatEntry, formatHeader, formatSummary } from '../local/text';

/** Exit statuses shared by every command (DESIGN.md): 2 for bad input, 1 for an internal error. */
const EXIT_BAD_INPUT = 2;

function readCdkContext(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${file}: cannot be read; run from the project folder or pass --cdk-json FILE`);
  }
  try {
    const json = JSON.parse(text) as { context?: Record<string, unknown> };
    return json.context ?? {};
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildCli(): Command {
  const program = new Command('mirrorbeat')
    .description('Two-region heartbeat over two independent paths, with fenced failover')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('config')
    .description(`Validate and print the cluster configuration (the "${CONTEXT_KEY}" key of cdk.json, with -c overrides)`)
    .option('--cdk-json <file>', 'the cdk.json to read', 'cdk.json')
    .option('-c, --context <key=value>', `override one key, as with cdk: -c ${CONTEXT_KEY}.intervalSeconds=5`, collect, [])
    .option('--json', 'print JSON only')
    .action((opts: { cdkJson: string; context: string[]; json?: boolean }) => {
      const context = readCdkContext(path.resolve(opts.cdkJson));
      for (const pair of opts.context) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new ConfigError(`-c ${pair}: expected key=value, such as ${CONTEXT_KEY}.intervalSeconds=5`);
        context[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const config = configFromContext(context);
      const text = JSON.stringify(config, null, 2);
      process.stdout.write(opts.json ? `${text}\n` : `Configuration is valid.\n${text}\n`);
    });

  program
    .command('simulate')
    .description('Run a scenario on the local two-site runtime: DynamoDB Local, the deployed handlers, the synthesized workflows, virtual time')
    .requiredOption('--scenario <file>', 'the scenario file (see DESIGN.md and local/scenarios/)')
    .option('--seed <n>', "seed of the run's randomness (default: the scenario's seed, else 1)")
    .option('--json', 'print exactly one JSON report on stdout and nothing else')
    .action(async (opts: { scenario: string; seed?: string; json?: boolean }) => {
      if (opts.seed !== undefined && !/^\d{1,10}$/.test(opts.seed)) throw new ScenarioError(`--seed: got ${JSON.stringify(opts.seed)}; allowed: a whole number from 0 to 4294967295`);
      const seed = opts.seed === undefined ? undefined : Number(opts.seed);
      if (seed !== undefined && seed > 2 ** 32 - 1) throw new ScenarioError(`--seed: got ${opts.seed}; allowed: a whole number from 0 to 4294967295`);
      await runSimulation(path.resolve(opts.scenario), { seed, json: opts.json === true });
    });

  program
    .command('bench')
    .description('Benchmarks: detection time and false failovers against today\'s detectors, monthly cost, bundle size and cold start, failover time')
    .option('--cdk-json <file>', 'the cdk.json whose configuration to measure', 'cdk.json')
    .option('-c, --context <key=value>', `override one key: -c ${CONTEXT_KEY}.confirmationWindowSeconds=4`, collect, [])
    .option('--traces <n>', 'traces per class', '40')
    .option('--seed <n>', 'seed of the trace corpus', '1')
    .option('--out <dir>', 'where to write bench.json, bench.txt and detection.svg', 'bench/results')
    .option('--json', 'print exactly one JSON report on stdout and nothing else')
    .action(async (opts: { cdkJson: string; context: string[]; traces: string; seed: string; out: string; json?: boolean }) => {
      const context = readCdkContext(path.resolve(opts.cdkJson));
      for (const pair of opts.context) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new ConfigError(`-c ${pair}: expected key=value, such as ${CONTEXT_KEY}.intervalSeconds=5`);
        context[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const whole = (name: string, value: string, max: number) => {
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new ConfigError(`--${name}: got ${JSON.stringify(value)}; allowed: a whole number from 1 to ${max}`);
        return Number(value);
      };
      const config = configFromContext(context);
      const { report, latencies } = await runBench({ config, tracesPerClass: whole('traces', opts.traces, 1000), seed: whole('seed', opts.seed, 2 ** 32 - 1) });
      writeResults(path.resolve(opts.out), report, latencies);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${benchTable(report)}\n\nwritten to ${opts.out}/\n`);
    });

  return program;
}

/** `mirrorbeat simulate`: the timeline streams while the run goes on; `--json` prints only the report. */
async function runSimulation(file: string, opts: { seed: number | undefined; json: boolean }): Promise<void> {
  const scenario = loadScenario(file);
  const started = Date.now();
  const seed = opts.seed ?? scenario.seed ?? 1;
  if (!opts.json) process.stdout.write(`${formatHeader(scenario, seed)}\n`);
  const { report } = await simulateScenario(scenario, { seed, ...(opts.json ? {} : { onTimeline: (e) => process.stdout.write(`${formatEntry(e)}\n`) }) });
  process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatSummary(report, Date.now() - started)}\n`);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    if (error instanceof ConfigError || error instanceof ScenarioError) {
      process.stderr.write(`mirrorbeat: ${error.message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    process.stderr.write(`mirrorbeat: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}
