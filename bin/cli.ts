import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { Command, CommanderError } from 'commander';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigError, configFromContext, CONTEXT_KEY, describeRoles, type MirrorbeatConfig } from '../lib/config';
import { SiteNames } from '../lib/names';
import { PATHS, type PathId, peerOf, SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { SiteStore } from '../lambdas/shared/store';
import { accountOf, AwsAccessError, explainAwsError } from './commands/aws';
import { formatPreflight, preflight, sdkClients } from './commands/preflight';
import { answerApproval, type FailoverRequest, findPendingApproval, formatFailoverOutcome } from './commands/failover';
import { type PathRequest, runWorkflow, type WorkflowOutcome } from './commands/workflow';
import { acknowledgeNotices, formatNotice, formatStatus, readClusterStatus, readNotice, type SiteTables } from './commands/status';
import { benchTable, runBench, writeResults } from '../bench/run';
import fc from 'fast-check';
import { checkInvariants, faultCounts, scenarioOf, scheduleArbitrary } from '../local/chaos';
import { sketchDashboard } from '../local/dashboard';
import { synthesizeDefinitions } from '../local/definitions';
import { startDynamoLocal } from '../local/dynamo';
import { simulateScenario } from '../local/run';
import { loadScenario, type Scenario, ScenarioError } from '../local/scenario';
import { formatEntry, formatFirstPage, formatHeader, formatSummary } from '../local/text';

/** Exit statuses shared by every command (a contract): 2 for bad input, 1 for an internal error. */
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
      const config = loadConfig(opts.cdkJson, opts.context);
      const text = JSON.stringify(config, null, 2);
      process.stdout.write(opts.json ? `${text}\n` : `Configuration is valid.\n${describeRoles(config)}\n${text}\n`);
    });

  const siteOptionNamed =
    (flag: string) =>
    (value: string): SiteId => {
      if (value !== 'production' && value !== 'standby') throw new ConfigError(`${flag}: got ${JSON.stringify(value)}; allowed: production or standby`);
      return value;
    };
  const siteOption = siteOptionNamed('--site');
  const awsOptions = (command: Command) =>
    command
      .option('--cdk-json <file>', 'the cdk.json that names the cluster and its regions', 'cdk.json')
      .option('-c, --context <key=value>', `override one key, as with cdk: -c ${CONTEXT_KEY}.clusterName=orders`, collect, [])
      .option('--region <region>', "the region to call (default: the chosen site's region from the configuration)");

  awsOptions(program.command('status'))
    .description("Both sites' roles, epoch, each path's mode and health, last beat ages (reads each site's own region)")
    .option('--json', 'print JSON only')
    .action(async (opts: { cdkJson: string; context: string[]; region?: string; json?: boolean }) => {
      const config = loadConfig(opts.cdkJson, opts.context);
      const status = await readClusterStatus(config.clusterName, siteTables(config), Date.now());
      const unreachable = status.sites.filter((s) => !s.reachable);
      if (unreachable.length === status.sites.length) explainAwsError(new Error(unreachable[0]?.error ?? 'unreachable'));
      process.stdout.write(opts.json ? `${JSON.stringify(status)}\n` : `${formatStatus(status)}\n`);
    });

  program
    .command('preflight')
    .description('Before the first deploy: credentials, regions enabled, CDK bootstrap, names still held by retained resources, Lambda concurrency, notification addresses (read-only calls)')
    .option('--cdk-json <file>', 'the cdk.json that names the cluster and its regions', 'cdk.json')
    .option('-c, --context <key=value>', `override one key, as with cdk: -c ${CONTEXT_KEY}.clusterName=orders`, collect, [])
    .option('--json', 'print JSON only')
    .action(async (opts: { cdkJson: string; context: string[]; json?: boolean }) => {
      const results = await preflight(loadConfig(opts.cdkJson, opts.context), sdkClients());
      process.stdout.write(opts.json ? `${JSON.stringify(results)}\n` : `${formatPreflight(results)}\n`);
      if (results.some((r) => r.status === 'fail')) process.exitCode = 1;
    });

  awsOptions(program.command('notice <id>'))
    .description('Show one notice whole, as its topic delivered it, with its delivery and acknowledgement (from either region)')
    .option('--site <site>', 'the site that raised it (default: either)', siteOptionNamed('--site'))
    .option('--json', 'print JSON only')
    .action(async (id: string, opts: { cdkJson: string; context: string[]; region?: string; site?: SiteId; json?: boolean }) => {
      const config = loadConfig(opts.cdkJson, opts.context);
      let found;
      try {
        found = await readNotice(siteTables(config), id, opts.site);
      } catch (error) {
        explainAwsError(error);
      }
      if (found === undefined) throw new ConfigError(`notice ${id}: not in the journal of ${opts.site ?? 'either site'} (ids are listed by mirrorbeat status; notices expire after 14 days)`);
      process.stdout.write(opts.json ? `${JSON.stringify(found)}\n` : `${formatNotice(found, config.notifications.runbookUrl)}\n`);
    });

  awsOptions(program.command('ack [ids...]'))
    .description('Acknowledge notices (ids from mirrorbeat status or the notice itself): status then shows who took them')
    .option('--all', 'every unacknowledged notice in the journal (of --site, if given)')
    .option('--site <site>', 'the site that raised the notices (default: either)', siteOptionNamed('--site'))
    .option('--by <name>', 'who acknowledges (default: your user name)')
    .option('--note <text>', 'a short note shown next to the acknowledgement', '')
    .option('--json', 'print JSON only')
    .action(async (ids: string[], opts: { cdkJson: string; context: string[]; region?: string; all?: boolean; site?: SiteId; by?: string; note: string; json?: boolean }) => {
      if (ids.length === 0 && opts.all !== true) throw new ConfigError('ack: name the notice ids to acknowledge (mirrorbeat status lists them), or pass --all');
      if (ids.length > 0 && opts.all === true) throw new ConfigError('ack: give notice ids or --all, not both');
      const config = loadConfig(opts.cdkJson, opts.context);
      const by = opts.by ?? `cli:${os.userInfo().username}`;
      let results;
      try {
        results = await acknowledgeNotices(siteTables(config), { ids, all: opts.all === true, site: opts.site, by, note: opts.note }, Date.now());
      } catch (error) {
        explainAwsError(error);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
      else for (const r of results) process.stdout.write(`${r.id}: ${r.outcome === 'unknown' ? 'no such notice in the journal (it may have expired after 14 days)' : r.outcome === 'already' ? 'already acknowledged' : `acknowledged by ${by} (${r.site ?? ''})`}\n`);
      if (results.some((r) => r.outcome === 'unknown')) process.exitCode = 1;
    });

  const pathCommand = (action: 'activate' | 'deactivate', path: string, opts: PathCliOptions) =>
    runPathCli(loadConfig(opts.cdkJson, opts.context), { path: parsePathArg(path), action, reason: opts.reason ?? `mirrorbeat ${action} from the CLI`, force: opts.force === true }, opts);
  const pathControl = program.command('path').description('Switch a path on or off on both sites through the path-control workflow, and follow it to its end');
  for (const action of ['activate', 'deactivate'] as const) {
    awsOptions(pathControl.command(`${action} <path>`))
      .description(`${action} the network or storage path on both sites`)
      .option('--reason <text>', 'why, recorded in the path registry')
      .option('--force', 'allow disabling the last enabled path (the cluster is then unprotected)')
      .option('--site <site>', 'the site whose workflow runs the command', siteOption, 'production' as SiteId)
      .option('--json', 'print JSON only')
      .action(async (path: string, opts: PathCliOptions) => pathCommand(action, path, opts));
  }
  const mirror = program.command('mirror').description('Install or remove the storage mirror (the storage path) on both sites');
  for (const [verb, action] of [
    ['install', 'activate'],
    ['remove', 'deactivate'],
  ] as const) {
    awsOptions(mirror.command(verb))
      .description(`${verb} the heartbeat mirror: path ${action} storage`)
      .option('--reason <text>', 'why, recorded in the path registry')
      .option('--force', 'allow removing it when it is the last enabled path')
      .option('--site <site>', 'the site whose workflow runs the command', siteOption, 'production' as SiteId)
      .option('--json', 'print JSON only')
      .action(async (opts: PathCliOptions) => pathCommand(action, 'storage', opts));
  }

  awsOptions(program.command('failover'))
    .description("Fail over to a site now (its failover workflow, without the cooldown or approval), or rehearse it with --dry-run")
    .option('--site <site>', 'the site to promote', siteOption, 'standby' as SiteId)
    .option('--dry-run', 'a drill: run every step, change nothing, report what would happen and how long each step took')
    .option('--reason <text>', 'why, carried in the decision record')
    .option('--json', 'print JSON only')
    .action(async (opts: FailoverCliOptions) => runFailoverCli(loadConfig(opts.cdkJson, opts.context), 'failover', opts.site, opts));
  awsOptions(program.command('switchover'))
    .description('Planned handover to a site: the primary stops and confirms over the heartbeat volume, then the site is fenced in and promoted. Failback is a switchover back.')
    .option('--to <site>', 'the site to promote (default: the one that is secondary now, read from the cluster record)', siteOptionNamed('--to'))
    .option('--dry-run', 'run every step, change nothing, report what would happen')
    .option('--reason <text>', 'why, carried in the decision record')
    .option('--json', 'print JSON only')
    .action(async (opts: FailoverCliOptions & { to?: SiteId }) => {
      const config = loadConfig(opts.cdkJson, opts.context);
      return runFailoverCli(config, 'switchover', opts.to ?? peerOf(await currentPrimary(config)), opts);
    });
  for (const decision of ['approve', 'reject'] as const) {
    awsOptions(program.command(decision))
      .description(`${decision === 'approve' ? 'Approve' : 'Reject'} the failover that waits for approval (failoverMode approval)`)
      .option('--site <site>', 'the site whose failover waits', siteOption, 'standby' as SiteId)
      .option('--execution <name>', 'the execution, when more than one waits (default: the newest)')
      .option('--reason <text>', 'why, recorded in the execution history')
      .action(async (opts: ApprovalCliOptions) => runApprovalCli(loadConfig(opts.cdkJson, opts.context), decision, opts));
  }

  program
    .command('chaos')
    .description('Random fault schedules over the whole scenario grammar through the local runtime, checking invariants I1–I5')
    .option('--runs <n>', 'how many schedules', '20')
    .option('--seed <n>', 'fast-check seed (printed, so a run can be repeated)', String(Date.now() % 2 ** 31))
    .action(async (opts: { runs: string; seed: string }) => {
      const runs = Number(opts.runs);
      const seed = Number(opts.seed);
      if (!Number.isInteger(runs) || runs < 1) throw new ConfigError(`--runs: got ${JSON.stringify(opts.runs)}; allowed: a whole number from 1`);
      if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed: got ${JSON.stringify(opts.seed)}; allowed: a whole number from 0`);
      await runChaos(runs, seed);
    });

  program
    .command('simulate')
    .description('Run a scenario on the local two-site runtime: DynamoDB Local, the deployed handlers, the synthesized workflows, virtual time')
    .requiredOption('--scenario <file>', 'the scenario file (docs/SCENARIOS.md; examples in local/scenarios/)')
    .option('--seed <n>', "seed of the run's randomness (default: the scenario's seed, else 1)")
    .option('--json', 'print exactly one JSON report on stdout and nothing else')
    .action(async (opts: { scenario: string; seed?: string; json?: boolean }) => {
      if (opts.seed !== undefined && !/^\d{1,10}$/.test(opts.seed)) throw new ScenarioError(`--seed: got ${JSON.stringify(opts.seed)}; allowed: a whole number from 0 to 4294967295`);
      const seed = opts.seed === undefined ? undefined : Number(opts.seed);
      if (seed !== undefined && seed > 2 ** 32 - 1) throw new ScenarioError(`--seed: got ${opts.seed}; allowed: a whole number from 0 to 4294967295`);
      await runSimulation(path.resolve(opts.scenario), { seed, json: opts.json === true });
    });

  program
    .command('dashboard')
    .description("Sketch a site's CloudWatch dashboard as synthesized from the configuration: its widget grid in ASCII (nothing is deployed or called)")
    .option('--cdk-json <file>', 'the cdk.json whose configuration to synthesize', 'cdk.json')
    .option('-c, --context <key=value>', `override one key: -c ${CONTEXT_KEY}.phiThreshold=10`, collect, [])
    .option('--site <site>', 'the site whose dashboard to sketch', siteOption, 'production' as SiteId)
    .option('--json', 'print the dashboard body (the JSON CloudFormation deploys) instead')
    .action((opts: { cdkJson: string; context: string[]; site: SiteId; json?: boolean }) => {
      const body = synthesizeDefinitions(loadConfig(opts.cdkJson, opts.context))[opts.site].dashboard;
      if (body === null) throw new ConfigError(`the ${opts.site} site has no dashboard`);
      process.stdout.write(opts.json ? `${JSON.stringify(body)}\n` : `${sketchDashboard(body)}\n`);
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
      const whole = (name: string, value: string, max: number) => {
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new ConfigError(`--${name}: got ${JSON.stringify(value)}; allowed: a whole number from 1 to ${max}`);
        return Number(value);
      };
      const config = loadConfig(opts.cdkJson, opts.context);
      const { report, latencies } = await runBench({ config, tracesPerClass: whole('traces', opts.traces, 1000), seed: whole('seed', opts.seed, 2 ** 32 - 1) });
      writeResults(path.resolve(opts.out), report, latencies);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${benchTable(report)}\n\nwritten to ${opts.out}/\n`);
    });

  return program;
}

interface PathCliOptions {
  cdkJson: string;
  context: string[];
  region?: string;
  reason?: string;
  force?: boolean;
  site: SiteId;
  json?: boolean;
}

interface FailoverCliOptions {
  cdkJson: string;
  context: string[];
  region?: string;
  site: SiteId;
  dryRun?: boolean;
  reason?: string;
  json?: boolean;
}

interface ApprovalCliOptions {
  cdkJson: string;
  context: string[];
  region?: string;
  site: SiteId;
  execution?: string;
  reason?: string;
}

async function stateMachineArn(config: MirrorbeatConfig, site: SiteId, workflow: string, regionOption: string | undefined): Promise<{ arn: string; region: string }> {
  const region = regionOption ?? siteRegion(config, site);
  const account = await accountOf(config.account, region);
  return { arn: `arn:aws:states:${region}:${account}:stateMachine:${new SiteNames(config.clusterName, site).stateMachine(workflow)}`, region };
}

/** The primary the cluster record names, read from whichever site's replica answers first. */
async function currentPrimary(config: MirrorbeatConfig): Promise<SiteId> {
  const errors: unknown[] = [];
  for (const site of SITE_IDS) {
    const names = new SiteNames(config.clusterName, site);
    try {
      const store = new SiteStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: siteRegion(config, site) })), names.heartbeatVolume, names.observations, config.consistency === 'eventual');
      return (await store.readCluster()).primary;
    } catch (error) {
      errors.push(error);
    }
  }
  return explainAwsError(errors[0]);
}

const stamp = () => new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14);

/** `mirrorbeat failover` and `switchover`: start the site's failover workflow as an operator and follow it. */
async function runFailoverCli(config: MirrorbeatConfig, kind: 'failover' | 'switchover', site: SiteId, opts: FailoverCliOptions): Promise<void> {
  const { arn, region } = await stateMachineArn(config, site, 'failover', opts.region);
  const dryRun = opts.dryRun === true;
  const request: FailoverRequest = { kind, dryRun, requestedBy: `cli:${process.env.USER ?? 'operator'}`, reason: opts.reason ?? `mirrorbeat ${kind} from the CLI` };
  const name = `cli-${dryRun ? 'drill' : kind}-${stamp()}`;
  if (!opts.json) process.stdout.write(`${dryRun ? `${kind} drill` : kind} to ${site} through its failover workflow (${name})...\n`);
  let outcome: WorkflowOutcome;
  try {
    outcome = await runWorkflow(new SFNClient({ region }), arn, request, { name, timeoutMs: 30 * 60_000, onStatus: () => (opts.json ? undefined : process.stdout.write('.')) });
  } catch (error) {
    return explainAwsError(error);
  }
  process.stdout.write(opts.json ? `${JSON.stringify(outcome)}\n` : `\n${formatFailoverOutcome(request, outcome)}\n`);
  if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
}

/** `mirrorbeat approve` / `reject`: answer the failover that waits, found from its execution history. */
async function runApprovalCli(config: MirrorbeatConfig, decision: 'approve' | 'reject', opts: ApprovalCliOptions): Promise<void> {
  const { arn, region } = await stateMachineArn(config, opts.site, 'failover', opts.region);
  const sfn = new SFNClient({ region });
  try {
    const pending = await findPendingApproval(sfn, arn, opts.execution);
    if (pending === undefined) {
      process.stderr.write(`mirrorbeat: no failover of ${opts.site}${opts.execution ? ` named ${opts.execution}` : ''} waits for approval; see mirrorbeat status\n`);
      process.exitCode = 1;
      return;
    }
    await answerApproval(sfn, pending, decision, `cli:${process.env.USER ?? 'operator'}`, opts.reason ?? `${decision} from the CLI`);
    process.stdout.write(`${decision === 'approve' ? 'approved' : 'rejected'}: ${pending.name}\n`);
  } catch (error) {
    return explainAwsError(error);
  }
}

/** The configuration from cdk.json's context with `-c key=value` overrides, as `cdk synth` reads it. */
function loadConfig(cdkJson: string, overrides: readonly string[]): MirrorbeatConfig {
  const context = readCdkContext(path.resolve(cdkJson));
  for (const pair of overrides) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigError(`-c ${pair}: expected key=value, such as ${CONTEXT_KEY}.intervalSeconds=5`);
    context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return configFromContext(context);
}

const siteRegion = (config: MirrorbeatConfig, site: SiteId) => (site === 'production' ? config.productionRegion : config.standbyRegion);

function parsePathArg(value: string): PathId {
  if (!(PATHS as readonly string[]).includes(value)) throw new ConfigError(`path: got ${JSON.stringify(value)}; allowed: network or storage`);
  return value as PathId;
}

async function runPathCli(config: MirrorbeatConfig, request: PathRequest, opts: PathCliOptions): Promise<void> {
  const { arn, region } = await stateMachineArn(config, opts.site, 'path-control', opts.region);
  const name = `cli-${request.action}-${request.path}-${stamp()}`;
  if (!opts.json) process.stdout.write(`${request.action} ${request.path} through ${opts.site}'s path-control workflow (${name})...\n`);
  let outcome: WorkflowOutcome;
  try {
    outcome = await runWorkflow(new SFNClient({ region }), arn, request, { name, onStatus: () => (opts.json ? undefined : process.stdout.write('.')) });
  } catch (error) {
    return explainAwsError(error);
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(outcome)}\n`);
  else process.stdout.write(outcome.status === 'SUCCEEDED' ? `\n${request.path} path ${request.action}d on both sites.\n` : `\n${outcome.status}: ${outcome.error ?? ''} ${outcome.cause ?? ''}\nThe local change was rolled back; see the command-refused notice and ${outcome.executionArn}.\n`);
  if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
}

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
    process.stdout.write(`chaos: ${outcome.numRuns} schedules (seed ${seed}), faults ${JSON.stringify(faultCounts(ran))}\n`);
    process.stdout.write(`notices: ${notices.raised} raised by the heartbeat modules, ${notices.folded} folded, ${notices.summarized} of them counted in summaries\n`);
    if (outcome.failed && outcome.counterexample !== null) {
      const [schedule] = outcome.counterexample;
      const file = path.join('local', 'scenarios', `regression-${seed}.json`);
      writeFileSync(file, `${JSON.stringify({ name: `regression: chaos seed ${seed}`, seed: schedule.seed, durationMs: scenarioOf(schedule).durationMs, config: schedule.config, events: schedule.events }, null, 2)}\n`);
      process.stdout.write(`violation after shrinking: ${String((outcome.errorInstance as Error | undefined)?.message ?? outcome.errorInstance)}\nsaved the minimal schedule to ${file}\n`);
      process.exitCode = 1;
    } else {
      process.stdout.write('violations: 0\n');
    }
  } finally {
    await dynamo.stop();
  }
}

/** `mirrorbeat simulate`: the timeline streams while the run goes on; `--json` prints only the report. */
async function runSimulation(file: string, opts: { seed: number | undefined; json: boolean }): Promise<void> {
  const scenario = loadScenario(file);
  const started = Date.now();
  const seed = opts.seed ?? scenario.seed ?? 1;
  if (!opts.json) process.stdout.write(`${formatHeader(scenario, seed)}\n`);
  const { report, status, messages } = await simulateScenario(scenario, { seed, ...(opts.json ? {} : { onTimeline: (e) => process.stdout.write(`${formatEntry(e)}\n`) }) });
  process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatSummary(report, Date.now() - started)}\n${formatFirstPage(messages)}\n\nat the end, mirrorbeat status would say:\n${formatStatus(status)}\n`);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    if (error instanceof AwsAccessError) {
      process.stderr.write(`mirrorbeat: ${error.message}\n`);
      process.exit(1);
    }
    if (error instanceof ConfigError || error instanceof ScenarioError) {
      process.stderr.write(`mirrorbeat: ${error.message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    process.stderr.write(`mirrorbeat: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}

/** Each site's tables, in its own region. */
function siteTables(config: MirrorbeatConfig): SiteTables[] {
  return SITE_IDS.map((site) => {
    const names = new SiteNames(config.clusterName, site);
    const region = siteRegion(config, site);
    return { site, region, db: DynamoDBDocumentClient.from(new DynamoDBClient({ region })), heartbeatVolume: names.heartbeatVolume, observations: names.observations };
  });
}
