import * as path from 'node:path';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { MirrorbeatConfig } from '../../lib/config';
import type * as Catalog from '../../lib/game-day-experiments';
import type { GameDayMode } from '../../lib/game-day-experiments';
import { SiteNames } from '../../lib/names';
import { ConfigError } from '../../lib/config';
import type { SiteId } from '../../lambdas/core/wire';
import type * as Scenario from '../../local/scenario';
import type * as GameDay from './gameday-report';
import type { GameDayPlan } from './gameday-report';
import type * as GameDayRun from './gameday-run';
import type * as Status from '../../client/status';
import type * as Journal from '../../lambdas/shared/journal';
import type { Report } from '../../local/report';
import type * as Page from '../../local/page';
import { AwsAccessError, explainAwsError } from './aws';
import type * as Rehearsals from './rehearse-run';
import { awsOptions, currentPrimary, loadConfig, siteOptionNamed, siteRegion, siteTables } from './options';

const SCENARIOS = path.join(__dirname, '..', '..', 'local', 'scenarios');
// Loaded when a game-day command runs: the catalog reaches the heartbeat module's code, no part of --help.
/* eslint-disable @typescript-eslint/no-require-imports */
const catalog = () => require('../../lib/game-day-experiments') as typeof Catalog;
const gameDay = () => require('./gameday-report') as typeof GameDay;
const scenarios = () => require('../../local/scenario') as typeof Scenario;
const page = () => require('../../local/page') as typeof Page;
const rehearsals = () => require('./rehearse-run') as typeof Rehearsals;

export const modeOf = (config: MirrorbeatConfig): GameDayMode =>
  config.consistency === 'strong' && config.witnessRegion !== undefined ? 'quorum' : 'two-region';

/** The plan of an experiment for this configuration, with `primary` the site that is primary when it starts. */
export function gameDayPlan(config: MirrorbeatConfig, name: string, primary: SiteId): GameDayPlan {
  const { GAME_DAY_EXPERIMENTS, gameDayExperiment } = catalog();
  const experiment = gameDayExperiment(name);
  if (experiment === undefined)
    throw new ConfigError(
      `gameday: no experiment ${JSON.stringify(name)}; allowed: ${GAME_DAY_EXPERIMENTS.map((e) => e.name).join(', ')}`,
    );
  const mode = modeOf(config);
  if (experiment.failsOver[mode] && config.failoverMode !== 'automatic')
    throw new ConfigError(
      `gameday: ${name} expects a failover, and failoverMode is ${config.failoverMode}: a person decides, so the game day cannot judge it; deploy with failoverMode automatic, or run ${GAME_DAY_EXPERIMENTS.filter(
        (e) => !e.failsOver[mode],
      )
        .map((e) => e.name)
        .join(' or ')}`,
    );
  const twin = scenarios().loadScenario(path.join(SCENARIOS, `${experiment.twins[mode]}.json`));
  return gameDay().planGameDay(experiment, {
    cluster: config.clusterName,
    mode,
    regions: { production: siteRegion(config, 'production'), standby: siteRegion(config, 'standby') },
    primary,
    twinExpect: twin.expect ?? [],
    healthAlarms: config.health.alarmNames,
    names: (site) => new SiteNames(config.clusterName, site),
  });
}

/** The human view of a plan. */
export function formatPlan(plan: GameDayPlan): string {
  return [
    `game day ${plan.name} (${plan.mode} mode; ${plan.primary} primary at the start; twin scenario local/scenarios/${plan.twin}.json)`,
    'injects:',
    ...plan.faults.map(
      (f) => `  ${f.action} on ${f.target} at ${f.site} (${f.region}) for ${f.durationSeconds} s: ${f.what}`,
    ),
    'expects:',
    ...plan.expect.map((e) => `  ${JSON.stringify(e)}`),
    `stops when (no primary: ${catalog().GAME_DAY_NO_PRIMARY_MINUTES} minutes in a row):`,
    ...plan.stopConditions.map((c) => `  ${c.alarm} (${c.site}, ${c.region}) in ALARM, by ${c.by}`),
  ].join('\n');
}

export function registerGameDay(program: Command): void {
  const gameday = program
    .command('gameday')
    .description(
      'Game day in your account: FIS experiments that break one part of a deployed pair (deployed with gameDay: true), judged by their twin scenarios',
    );
  gameday
    .command('list')
    .description('the experiments, one name per line')
    .action(() => {
      process.stdout.write(
        `${catalog()
          .GAME_DAY_EXPERIMENTS.map((e) => e.name)
          .join('\n')}\n`,
      );
    });
  awsOptions(gameday.command('plan <name>'))
    .description(
      'what an experiment injects, where, for how long, what mirrorbeat should do, and what stops it; reads nothing',
    )
    .option(
      '--primary <site>',
      'the site that is primary when it starts (default production)',
      siteOptionNamed('--primary'),
    )
    .option('--json', 'print JSON only: { "name", "faults", "expect", "stopConditions" }')
    .action((name: string, opts: { cdkJson: string; context: string[]; primary?: SiteId; json?: boolean }) => {
      const plan = gameDayPlan(loadConfig(opts.cdkJson, opts.context), name, opts.primary ?? 'production');
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ name: plan.name, faults: plan.faults, expect: plan.expect, stopConditions: plan.stopConditions })}\n`
          : `${formatPlan(plan)}\n`,
      );
    });
  awsOptions(gameday.command('run <name>'))
    .description(
      'start the experiment (after the checks: a healthy pair, no cooldown, no other experiment), follow it, and judge what the sites did by its twin scenario',
    )
    .option('--yes', 'start without asking')
    .option('--json', 'print JSON only: the simulate report with its verdict, and the experiment')
    .option('--html <file>', 'also write the run as one self-contained page, as simulate --html does')
    .action(
      async (
        name: string,
        opts: { cdkJson: string; context: string[]; yes?: boolean; json?: boolean; html?: string },
      ) => {
        const config = loadConfig(opts.cdkJson, opts.context);
        const html = opts.html;
        if (html !== undefined) rehearsals().checkWritable(html);
        const plan = gameDayPlan(config, name, await currentPrimary(config));
        const outcome = await runFromCli(config, plan, opts.yes === true);
        if (html !== undefined)
          rehearsals().writeOrSay(html, () =>
            writeFileSync(html, gameDayPage(config, plan, outcome, formatOutcome(outcome))),
          );
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ ...outcome.report, experiment: outcome.experiment, stoppedBy: outcome.stoppedBy })}\n`
            : `${formatOutcome(outcome)}\n`,
        );
      },
    );
}

/** The run as the page `simulate --html` writes: a lane per site, its role, the notices, the fault. */
export function gameDayPage(
  config: MirrorbeatConfig,
  plan: GameDayPlan,
  outcome: Pick<GameDayRun.GameDayOutcome, 'report' | 'timeline'>,
  summary: string,
): string {
  return page().renderPage({
    scenario: {
      name: outcome.report.scenario,
      seed: undefined,
      durationMs: outcome.report.durationMs,
      config,
      ownConfig: {},
      ebs: { snapshotAgeSeconds: 300, snapshotIntervalSeconds: 3600, changedBlocks: 8, corrupt: false },
      events: [],
      expect: plan.expect,
    },
    seed: 0,
    configuration: `your account (cluster ${config.clusterName})`,
    result: { report: outcome.report, timeline: outcome.timeline, executions: [], messages: [] },
    summary,
  });
}

async function runFromCli(config: MirrorbeatConfig, plan: GameDayPlan, yes: boolean) {
  // Loaded when asked: the FIS and CloudWatch clients are no part of --help.
  const [{ FisClient }, { CloudWatchClient }] = await Promise.all([
    import('@aws-sdk/client-fis'),
    import('@aws-sdk/client-cloudwatch'),
  ]);
  const run = require('./gameday-run') as typeof GameDayRun;
  const { readClusterStatus } = require('../../client/status') as typeof Status;
  const { NoticeJournal } = require('../../lambdas/shared/journal') as typeof Journal;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const tables = siteTables(config);
  const deps = {
    cluster: config.clusterName,
    regions: { production: siteRegion(config, 'production'), standby: siteRegion(config, 'standby') },
    intervalSeconds: config.intervalSeconds,
    cooldownSeconds: config.cooldownSeconds,
    fis: (region: string) => new FisClient({ region }),
    cloudwatch: (region: string) => new CloudWatchClient({ region }),
    status: () => readClusterStatus(config.clusterName, tables, Date.now()),
    journal: (site: SiteId) => {
      const t = tables.find((x) => x.site === site) ?? tables[0];
      return new NoticeJournal(t!.db, t!.heartbeatVolume);
    },
    now: () => Date.now(),
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    progress: (line: string) => process.stderr.write(`${line}\n`),
    pollMs: 10_000,
    settleMs: 60_000,
  };
  try {
    const templateId = await run.checkRunnable(plan, deps);
    process.stderr.write(`${formatPlan(plan)}\n`);
    if (!yes) {
      if (!process.stdin.isTTY) throw new run.GameDayRefused('gameday: not started: no terminal to ask; add --yes');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`start ${plan.name} now? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) throw new run.GameDayRefused('gameday: not started: not confirmed');
    }
    return await run.runGameDay(plan, templateId, deps);
  } catch (error) {
    if (error instanceof run.GameDayRefused) throw new AwsAccessError(error.message);
    return explainAwsError(error);
  }
}

function formatOutcome(o: { report: Report; experiment: { id: string; state: string } }) {
  const v = o.report.verdict;
  return [
    `experiment ${o.experiment.id}: ${o.experiment.state}`,
    `failovers: ${o.report.failovers.length}, detection: ${o.report.detectionMs ?? '-'} ms, no primary: ${o.report.noPrimaryMs} ms`,
    v === undefined || v.passed
      ? 'expected: all of the twin scenario’s expectations met'
      : `expected: NOT MET: ${v.failed.join('; ')}`,
  ].join('\n');
}
