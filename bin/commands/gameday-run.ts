// `mirrorbeat gameday run`: refuse when the pair may not take it, start the experiment, follow it, judge it.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { FisClient } from '@aws-sdk/client-fis';
import { peerOf, type SiteId } from '../../lambdas/core/wire';
import type { NoticeJournal } from '../../lambdas/shared/journal';
import { GAME_DAY_TAG } from '../../lib/game-day-experiments';
import type { Report } from '../../local/report';
import type { TimelineEntry } from '../../local/world';
import {
  type GameDayPlan,
  gameDayReport,
  journaledSince,
  judged,
  pairProblems,
  type Sample,
  sampleOf,
} from './gameday-report';
import type { ClusterStatus } from '../../client/status';

/** An experiment that has not ended (FIS's states). */
const ACTIVE = ['pending', 'initiating', 'running', 'stopping'];
const ENDED = ['completed', 'stopped', 'failed', 'cancelled'];

export class GameDayRefused extends Error {
  override readonly name = 'GameDayRefused';
}

export interface RunDeps {
  readonly cluster: string;
  readonly regions: Readonly<Record<SiteId, string>>;
  readonly intervalSeconds: number;
  readonly cooldownSeconds: number;
  readonly fis: (region: string) => Pick<FisClient, 'send'>;
  readonly cloudwatch: (region: string) => Pick<CloudWatchClient, 'send'>;
  readonly status: () => Promise<ClusterStatus>;
  readonly journal: (site: SiteId) => NoticeJournal;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Progress, a line at a time (stderr). */
  readonly progress: (line: string) => void;
  /** How often the run looks at the experiment, the pair and the peer's alarms. */
  readonly pollMs: number;
  /** How long it keeps looking after the experiment ends: recoveries (path-recovered) come a few beats later. */
  readonly settleMs: number;
}

export interface GameDayOutcome {
  readonly report: Report;
  readonly experiment: { readonly id: string; readonly state: string; readonly reason: string | null };
  /** Set when this run stopped the experiment: the alarm that said it hurt. */
  readonly stoppedBy: string | null;
  /** The fault's start and the experiment's end, as a page's timeline marks them (ms from the start). */
  readonly timeline: TimelineEntry[];
}

/** The template of this experiment at its target site, found by its tags. */
async function findTemplate(plan: GameDayPlan, deps: RunDeps): Promise<string> {
  const fault = plan.faults[0];
  if (fault === undefined) throw new GameDayRefused(`gameday: ${plan.name} has no fault`);
  const { ListExperimentTemplatesCommand } = await import('@aws-sdk/client-fis');
  let nextToken: string | undefined;
  do {
    const page = await deps.fis(fault.region).send(new ListExperimentTemplatesCommand({ nextToken }));
    const found = (page.experimentTemplates ?? []).find(
      (t) =>
        t.tags?.[GAME_DAY_TAG.cluster] === deps.cluster &&
        t.tags?.[GAME_DAY_TAG.experiment] === fault.template &&
        t.tags?.['mirrorbeat:site'] === fault.site,
    );
    if (found?.id !== undefined) return found.id;
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  throw new GameDayRefused(
    `gameday: no ${fault.template} template of cluster ${deps.cluster} at ${fault.site} (${fault.region}); deploy with -c mirrorbeat.gameDay=true`,
  );
}

/** Experiments of this cluster that have not ended, in either site's region. */
async function activeExperiments(deps: RunDeps): Promise<string[]> {
  const { ListExperimentsCommand } = await import('@aws-sdk/client-fis');
  const active: string[] = [];
  for (const region of new Set(Object.values(deps.regions))) {
    let nextToken: string | undefined;
    do {
      const page = await deps.fis(region).send(new ListExperimentsCommand({ nextToken }));
      for (const e of page.experiments ?? [])
        if (e.tags?.[GAME_DAY_TAG.cluster] === deps.cluster && ACTIVE.includes(e.state?.status ?? ''))
          active.push(`${e.id ?? '?'} (${e.tags?.[GAME_DAY_TAG.experiment] ?? '?'}, ${e.state?.status}, ${region})`);
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  }
  return active;
}

/** Checks the pair may take the experiment; throws GameDayRefused with every reason when it may not. */
export async function checkRunnable(plan: GameDayPlan, deps: RunDeps): Promise<string> {
  const templateId = await findTemplate(plan, deps);
  const running = await activeExperiments(deps);
  const problems = [
    ...pairProblems(await deps.status(), deps.intervalSeconds, deps.cooldownSeconds),
    ...running.map((e) => `another game-day experiment has not ended: ${e}`),
  ];
  if (problems.length > 0) throw new GameDayRefused(`gameday: ${plan.name} not started: ${problems.join('; ')}`);
  return templateId;
}

/** The peer's stop alarms now in ALARM (FIS watches only the target region's). */
async function peerAlarms(plan: GameDayPlan, deps: RunDeps): Promise<string[]> {
  const watched = plan.stopConditions.filter((c) => c.site !== plan.faults[0]?.site);
  if (watched.length === 0) return [];
  const { DescribeAlarmsCommand } = await import('@aws-sdk/client-cloudwatch');
  const out = await deps
    .cloudwatch(watched[0]?.region ?? '')
    .send(new DescribeAlarmsCommand({ AlarmNames: watched.map((c) => c.alarm) }));
  return (out.MetricAlarms ?? []).filter((a) => a.StateValue === 'ALARM').map((a) => a.AlarmName ?? '?');
}

/** Starts the experiment, follows it to its end, and judges what the sites did. */
export async function runGameDay(plan: GameDayPlan, templateId: string, deps: RunDeps): Promise<GameDayOutcome> {
  const { GetExperimentCommand, StartExperimentCommand, StopExperimentCommand } = await import('@aws-sdk/client-fis');
  const fault = plan.faults[0];
  if (fault === undefined) throw new GameDayRefused(`gameday: ${plan.name} has no fault`);
  const fis = deps.fis(fault.region);
  const startMs = deps.now();
  const started = await fis.send(
    new StartExperimentCommand({
      experimentTemplateId: templateId,
      clientToken: `mirrorbeat-${plan.name}-${startMs}`,
      tags: { [GAME_DAY_TAG.cluster]: deps.cluster, [GAME_DAY_TAG.experiment]: plan.name },
    }),
  );
  const id = started.experiment?.id ?? '?';
  deps.progress(`started experiment ${id}: ${fault.what} (${fault.site}, ${fault.region}, ${fault.durationSeconds} s)`);
  const samples: Sample[] = [];
  let state = started.experiment?.state?.status ?? 'pending';
  let reason: string | null = null;
  let faultStartMs = startMs;
  let stoppedBy: string | null = null;
  let lastLine = '';
  while (!ENDED.includes(state)) {
    await deps.sleep(deps.pollMs);
    const got = await fis.send(new GetExperimentCommand({ id }));
    state = got.experiment?.state?.status ?? state;
    reason = got.experiment?.state?.reason ?? null;
    const actionStart = got.experiment?.actions?.fault?.startTime;
    if (actionStart !== undefined) faultStartMs = new Date(actionStart).getTime();
    const sample = sampleOf(await deps.status(), fault.site, deps.intervalSeconds);
    samples.push(sample);
    const line = `${Math.round((deps.now() - startMs) / 1000)} s: experiment ${state}; acting primary: ${sample.acting.join(' and ') || 'none'} (epoch ${sample.epoch ?? '?'})`;
    if (line.replace(/^\d+ s: /, '') !== lastLine.replace(/^\d+ s: /, '')) deps.progress(line);
    lastLine = line;
    if (stoppedBy === null && !ENDED.includes(state)) {
      const hurting = await peerAlarms(plan, deps);
      if (hurting.length > 0) {
        stoppedBy = hurting.join(', ');
        deps.progress(`stopping experiment ${id}: ${stoppedBy} in ALARM at ${peerOf(fault.site)}`);
        await fis.send(new StopExperimentCommand({ id }));
      }
    }
  }
  deps.progress(
    `experiment ${id} ${state}${reason === null ? '' : `: ${reason}`}; looking on for ${deps.settleMs / 1000} s`,
  );
  await deps.sleep(deps.settleMs);
  samples.push(sampleOf(await deps.status(), fault.site, deps.intervalSeconds));
  const endMs = deps.now();
  const notices = await journaledSince(deps.journal, startMs, endMs);
  const report = judged(
    gameDayReport(plan, { startMs, endMs, faultStartMs, experimentId: id }, samples, notices),
    plan,
  );
  const timeline: TimelineEntry[] = [
    {
      atMs: Math.max(0, faultStartMs - startMs),
      site: fault.site,
      kind: 'fault',
      text: `${fault.action} on ${fault.target} (FIS experiment ${id})`,
    },
    {
      atMs: Math.max(0, endMs - deps.settleMs - startMs),
      site: fault.site,
      kind: 'fault',
      text: `experiment ${state}`,
    },
  ];
  return { report, experiment: { id, state, reason }, stoppedBy, timeline };
}
