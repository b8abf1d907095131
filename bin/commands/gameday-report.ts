// The game day in a real account: plan an experiment, check the pair may take it, start it through FIS, follow it
// (stopping it when the peer's alarms say it hurts), and judge what the sites did by the twin scenario's expectations.
import { type NoticeKind, type Severity, severityOf } from '../../lambdas/core/notices';
import { peerOf, type PathId, SITE_IDS, type SiteId } from '../../lambdas/core/wire';
import type { NoticeJournal } from '../../lambdas/shared/journal';
import {
  FIS_FAULTS,
  type GameDayExperiment,
  type GameDayMode,
  PROTOCOL_STOP_ALARMS,
  stopAlarmNames,
  targetSite,
} from '../../lib/game-day-experiments';
import { type Expectation, judge } from '../../local/expect';
import type { Report } from '../../local/report';
import type { ClusterStatus } from '../../client/status';

export interface GameDayPlan {
  readonly name: string;
  readonly mode: GameDayMode;
  readonly twin: string;
  readonly primary: SiteId;
  readonly faults: {
    readonly site: SiteId;
    readonly region: string;
    readonly template: string;
    readonly action: string;
    readonly target: string;
    readonly durationSeconds: number;
    readonly what: string;
  }[];
  readonly expect: Expectation[];
  readonly stopConditions: {
    readonly site: SiteId;
    readonly region: string;
    readonly alarm: string;
    readonly by: string;
  }[];
}

export interface PlanInputs {
  readonly cluster: string;
  readonly mode: GameDayMode;
  readonly regions: Readonly<Record<SiteId, string>>;
  readonly primary: SiteId;
  /** The twin scenario's `expect` list, as written (production primary). */
  readonly twinExpect: readonly Expectation[];
  readonly healthAlarms: readonly string[];
  /** The name of a site's part: its heartbeat module, network receiver, heartbeat volume, alarms. */
  readonly names: (site: SiteId) => {
    stack(): string;
    heartbeatVolume: string;
    alarm(id: string): string;
  };
}

/** What an experiment will do, where, for how long, what mirrorbeat should do, and what stops it. Reads nothing. */
export function planGameDay(experiment: GameDayExperiment, p: PlanInputs): GameDayPlan {
  const site = targetSite(experiment, p.primary);
  const fault = FIS_FAULTS[experiment.template];
  const n = p.names(site);
  const target =
    experiment.template === 'module-fails'
      ? `the heartbeat module of ${n.stack()}`
      : experiment.template === 'receiver-fails'
        ? `the network receiver of ${n.stack()}`
        : `${n.heartbeatVolume} (its replica in ${p.regions[site]})`;
  const own = (alarm: string) => ({ site, region: p.regions[site], alarm, by: 'FIS (a stop condition)' });
  const peer = peerOf(site);
  const watched = (alarm: string) => ({
    site: peer,
    region: p.regions[peer],
    alarm,
    by: 'mirrorbeat gameday run (FIS reads alarms of its own region only)',
  });
  return {
    name: experiment.name,
    mode: p.mode,
    twin: experiment.twins[p.mode],
    primary: p.primary,
    faults: [
      {
        site,
        region: p.regions[site],
        template: experiment.template,
        action: fault.actionId,
        target,
        durationSeconds: fault.durationMinutes * 60,
        what: fault.what,
      },
    ],
    expect: expectationsFor(p.twinExpect, p.primary),
    stopConditions: [
      ...stopAlarmNames((id) => n.alarm(id), p.healthAlarms).map(own),
      ...PROTOCOL_STOP_ALARMS.map((id) => watched(p.names(peer).alarm(id))),
    ],
  };
}

/**
 * A twin's expectations for a real run: the twin is written with production as the primary; in an account where the
 * standby is primary when the run starts, the two sites' names swap.
 */
export function expectationsFor(twin: readonly Expectation[], primary: SiteId): Expectation[] {
  if (primary === 'production') return twin.map((e) => structuredClone(e));
  const swap = (site: string): string => (site === 'none' ? site : peerOf(site as SiteId));
  return twin.map((e): Expectation => {
    if ('finalPrimary' in e) return { finalPrimary: swap(e.finalPrimary) as typeof e.finalPrimary };
    if ('notification' in e && e.notification.site !== undefined)
      return { notification: { ...e.notification, site: peerOf(e.notification.site) } };
    if ('noNotification' in e && e.noNotification.site !== undefined)
      return { noNotification: { ...e.noNotification, site: peerOf(e.noNotification.site) } };
    return structuredClone(e);
  });
}

/** A heartbeat module that ticked within three intervals is running. */
const ticking = (ageMs: number | null, intervalSeconds: number): boolean =>
  ageMs !== null && ageMs < 3 * intervalSeconds * 1000;

/** Why the pair may not take an experiment now; empty when it may. */
export function pairProblems(status: ClusterStatus, intervalSeconds: number, cooldownSeconds: number): string[] {
  const problems: string[] = [];
  const promotedAtMs = status.sites.map((s) => s.cluster?.promotedAtMs).find((t) => t !== undefined);
  if (promotedAtMs !== undefined && promotedAtMs + cooldownSeconds * 1000 > status.atMs)
    problems.push(
      `a failover cooldown is active until ${new Date(promotedAtMs + cooldownSeconds * 1000).toISOString()} (cooldownSeconds after the last promotion)`,
    );
  for (const s of status.sites) {
    if (!s.reachable) {
      problems.push(`${s.site}: its tables in ${s.region} do not answer (${s.error ?? 'no answer'})`);
      continue;
    }
    if (!ticking(s.lastTickAgeMs, intervalSeconds))
      problems.push(`${s.site}: its heartbeat module has not ticked for three intervals`);
    if (s.maintenance?.on === true) problems.push(`${s.site}: maintenance is on`);
    if (s.noPrimarySince !== null) problems.push(`${s.site}: sees no primary since ${s.noPrimarySince}`);
    for (const [path, p] of Object.entries(s.paths) as [PathId, NonNullable<(typeof s.paths)[PathId]>][])
      if (p.mode === 'enabled' && p.state !== 'healthy')
        problems.push(`${s.site}: the ${path} path is ${p.state ?? 'not yet seen'}`);
    if (s.readiness !== null && s.role !== 'primary' && !s.readiness.ready)
      problems.push(`${s.site}: its last readiness check failed (npx mirrorbeat readiness --site ${s.site})`);
  }
  const primaries = status.sites.filter((s) => s.role === 'primary').length;
  if (primaries !== 1) problems.push(`${primaries} sites say they are primary; a game day starts from exactly one`);
  if (status.quorum?.degraded === true)
    problems.push(`quorum mode has lost a vote (${status.quorum.why.join('; ')}): a game day must not take another`);
  return problems;
}

/** One look at the pair while an experiment runs. */
export interface Sample {
  readonly atMs: number;
  /** The sites acting as primary: primary by their own record, and ticking. */
  readonly acting: SiteId[];
  readonly epoch: number | null;
  /** The target's last beat as the peer's replica holds it (its own send stamp). */
  readonly targetBeatSentAtMs: number | null;
}

export function sampleOf(status: ClusterStatus, target: SiteId, intervalSeconds: number): Sample {
  const peer = status.sites.find((s) => s.site === peerOf(target));
  const record = status.sites.map((s) => s.cluster).find((c) => c !== null) ?? null;
  return {
    atMs: status.atMs,
    acting: status.sites
      .filter((s) => s.reachable && s.role === 'primary' && ticking(s.lastTickAgeMs, intervalSeconds))
      .map((s) => s.site),
    epoch: record?.epoch ?? null,
    targetBeatSentAtMs: peer?.beats[target]?.sentAtMs ?? null,
  };
}

interface JournalNotice {
  readonly site: SiteId;
  readonly atMs: number;
  readonly kind: NoticeKind;
  readonly severity: Severity;
  readonly path?: PathId;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Both sites' notices journaled since `sinceMs`, oldest first. */
export async function journaledSince(
  journal: (site: SiteId) => NoticeJournal,
  sinceMs: number,
  nowMs: number,
): Promise<JournalNotice[]> {
  const perSite = await Promise.all(
    SITE_IDS.map(async (site) =>
      (await journal(site).recent(site, 500, nowMs))
        .filter((e) => e.notice.atMs >= sinceMs)
        .map((e): JournalNotice => ({
          site,
          atMs: e.notice.atMs,
          kind: e.notice.kind,
          severity: severityOf(e.notice),
          ...(e.notice.path === undefined ? {} : { path: e.notice.path }),
          detail: e.notice.detail,
        })),
    ),
  );
  return perSite.flat().sort((a, b) => a.atMs - b.atMs);
}

/**
 * The run as `simulate --json` reports one, from what a real account shows: the notice journal (failovers,
 * promotions, notifications) and the samples taken while following (who acted, the target's last beat). Times are ms
 * from the start of the experiment; who acted is known to the sampling period.
 */
export function gameDayReport(
  plan: GameDayPlan,
  run: { startMs: number; endMs: number; faultStartMs: number; experimentId: string },
  samples: readonly Sample[],
  notices: readonly JournalNotice[],
): Omit<Report, 'verdict'> {
  const rel = (ms: number) => Math.max(0, Math.round(ms - run.startMs));
  const started = notices.filter((n) => n.kind === 'failover-started' || n.kind === 'switchover-started');
  const failovers = started.map((n) => {
    const epoch = typeof n.detail.expectedEpoch === 'number' ? n.detail.expectedEpoch + 1 : 0;
    const promoted = notices.find((p) => p.kind === 'promoted' && p.site === n.site && p.atMs >= n.atMs);
    return {
      startedAtMs: rel(n.atMs),
      promotedAtMs: promoted === undefined ? null : rel(promoted.atMs),
      from: peerOf(n.site),
      to: n.site,
      epoch,
      reason: typeof n.detail.reason === 'string' ? n.detail.reason : n.kind,
    };
  });
  const timeline: Report['primaryTimeline'] = [];
  let acting = new Set<SiteId>([plan.primary]);
  timeline.push({ atMs: 0, site: plan.primary, epoch: samples[0]?.epoch ?? 0, acting: true });
  let noPrimaryMs = 0;
  const gaps: Report['noPrimaryGaps'] = [];
  let previous = run.startMs;
  let max = 1;
  for (const s of samples) {
    const now = new Set(s.acting);
    for (const site of SITE_IDS)
      if (now.has(site) !== acting.has(site))
        timeline.push({ atMs: rel(s.atMs), site, epoch: s.epoch ?? 0, acting: now.has(site) });
    if (now.size === 0) {
      noPrimaryMs += s.atMs - previous;
      const open = gaps.at(-1);
      if (open === undefined || open.toMs !== null) gaps.push({ fromMs: rel(previous), toMs: null });
    } else {
      const open = gaps.at(-1);
      if (open !== undefined && open.toMs === null) open.toMs = rel(s.atMs);
    }
    max = Math.max(max, now.size);
    acting = now;
    previous = s.atMs;
  }
  if (notices.some((n) => n.kind === 'two-primaries')) max = Math.max(max, 2);
  // Detection: from the target falling silent (its last beat, for a crash) or the fault's start, to the decision.
  const target = plan.faults[0]?.site;
  const crash = plan.faults[0]?.template === 'module-fails';
  const firstDecision = started.find((n) => n.site !== target);
  // The target's last beat before the decision, as the samples saw it in the peer's replica (its own send stamp).
  const beats = samples
    .map((s) => s.targetBeatSentAtMs)
    .filter((t): t is number => t !== null && (firstDecision === undefined || t <= firstDecision.atMs));
  const silentFrom = crash ? (beats.length === 0 ? undefined : Math.max(...beats)) : run.faultStartMs;
  return {
    scenario: `game day ${plan.name} (experiment ${run.experimentId})`,
    seed: 0,
    durationMs: rel(run.endMs),
    failovers,
    detectionMs:
      firstDecision === undefined || silentFrom === undefined || silentFrom === null
        ? null
        : Math.max(0, Math.round(firstDecision.atMs - silentFrom)),
    maxSimultaneousPrimaries: max,
    noPrimaryMs: Math.round(noPrimaryMs),
    noPrimaryGaps: gaps,
    primaryTimeline: timeline,
    notifications: notices.map((n) => ({
      atMs: rel(n.atMs),
      site: n.site,
      kind: n.kind,
      severity: n.severity,
      ...(n.path === undefined ? {} : { path: n.path }),
    })),
    invalidBeats: { network: {}, storage: {} },
    pathStates: [],
  };
}

/** The report with its verdict by the plan's expectations. */
export function judged(report: Omit<Report, 'verdict'>, plan: GameDayPlan): Report {
  return { ...report, verdict: judge(report, plan.expect) };
}
