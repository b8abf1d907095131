import { randomUUID } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { formatPhi } from '../lambdas/core/detector';
import { embeddedMetricLines } from '../lambdas/core/emf';
import { NOTICE_KINDS, type NoticeKind } from '../lambdas/core/notices';
import { MetricName, PATHS, type PathId, peerOf, SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { pathTimeoutMs } from '../lambdas/heartbeat-module/deps';
import type { TickReport } from '../lambdas/heartbeat-module/module';
import { type NoticeDesk, siteNoticeDesk } from '../lambdas/shared/notifier';
import { emulate } from './emulate';
import { judge } from './expect';
import { acting, type Site, type World } from './world';

import type { DeliveredMessage, Report, RuntimeLog } from './report';

export type { DeliveredMessage, Report, RuntimeLog } from './report';

/** How many delivered messages a run keeps whole. */
const MESSAGES_KEPT = 100;
const BEAT_SUMMARY_EVERY_MS = 10_000;

export class Recorder {
  readonly failovers: Report['failovers'] = [];
  readonly messages: DeliveredMessage[] = [];
  readonly log: RuntimeLog = {
    accepted: [],
    serialRegressions: 0,
    noticesRaised: 0,
    noticesDelivered: 0,
    noticesFolded: 0,
    foldedAll: 0,
    noticesSummarized: 0,
    foldedOpenAtEnd: 0,
  };
  readonly series: Record<SiteId, Set<string>> = { production: new Set(), standby: new Set() };
  ticks = 0;
  emfBytes = 0;
  private readonly notifications: Report['notifications'] = [];
  private readonly pathStates: Report['pathStates'] = [];
  private readonly primaryTimeline: Report['primaryTimeline'] = [];
  private readonly invalidBeats: Report['invalidBeats'] = { network: {}, storage: {} };
  private maxSimultaneousPrimaries = 0;
  private readonly lastSerial = new Map<string, number>();
  private firstFatalAtMs: number | undefined;
  /** Time without a primary: the gaps so far, the last one open while it lasts. */
  private readonly noPrimary = { gaps: [] as { fromMs: number; toMs: number | null }[], seenPrimary: false };
  /** The epoch each site acts as primary at, as last recorded in the primary timeline. */
  private readonly actingAt = new Map<SiteId, number>();
  /**
   * Sites that ticked since they last stopped (crashed, froze): a thawed or restarted site acts only after its next
   * tick.
   */
  private readonly tickedSinceStop = new Set<SiteId>();

  constructor(private readonly world: World) {}

  /** The beat summaries the timeline carries, every 10 s of scenario time. */
  scheduleSummaries(): void {
    const w = this.world;
    for (let t = BEAT_SUMMARY_EVERY_MS; t <= w.scenario.durationMs; t += BEAT_SUMMARY_EVERY_MS)
      w.clock.schedule(w.clock.startMs + t, async () => this.summarizeBeats());
  }

  /** What one tick of a site's heartbeat module reported: counts, path states, verdict, role. */
  observeTick(site: Site, report: TickReport): void {
    const w = this.world;
    this.ticks += 1;
    this.tickedSinceStop.add(site.id);
    this.log.noticesRaised += report.notices.length;
    for (const line of embeddedMetricLines(site.settings.cluster, site.id, report.metrics, w.clock.nowMs))
      this.emfBytes += line.length + 1;
    for (const path of PATHS) {
      const sent = report.sent[path];
      if (sent === 'sent') site.counts[path].sent += 1;
      if (sent === 'failed') site.counts[path].failed += 1;
      if (path === 'storage' && report.arrived.storage) {
        site.counts.storage.accepted += 1;
        const serial = report.peerSerials.storage;
        if (serial !== undefined) this.accept(site, 'storage', serial);
      }
      const state = report.states[path];
      if (site.states[path] !== state) {
        const previous = site.states[path];
        site.states[path] = state;
        this.pathStates.push({ atMs: w.clock.at, site: site.id, path, state });
        if (previous !== undefined || state !== 'pending') {
          w.note({
            site: site.id,
            kind: 'path',
            text: `${path} path ${state}${state === 'failed' || state === 'suspect' ? ` (phi ${formatPhi(report.phi[path])}, deadline ${(report.deadlineMs[path] / 1000).toFixed(1)} s)` : ''}`,
          });
        }
      }
    }
    for (const point of report.metrics) {
      // A log-only value is a field of the log line, no metric series.
      if (point.logOnly !== true) this.series[site.id].add(`${point.name}${JSON.stringify(point.dimensions ?? {})}`);
      const reason = point.dimensions?.Reason;
      if (point.name === MetricName.invalidBeats && reason !== undefined) this.countInvalid('storage', reason);
    }
    if (report.verdict !== site.verdict) {
      if (site.verdict !== undefined || report.verdict !== 'ok')
        w.note({ site: site.id, kind: 'verdict', text: `verdict ${report.verdict}` });
      site.verdict = report.verdict;
    }
    if (report.role !== site.role || report.epoch !== site.epoch) {
      const wasPrimary = site.role === 'primary';
      site.role = report.role;
      site.epoch = report.epoch;
      if (report.role === 'primary') {
        w.note({ site: site.id, kind: 'role', text: `acts as primary at epoch ${report.epoch}` });
      } else if (wasPrimary) {
        w.note({ site: site.id, kind: 'role', text: `stops acting as primary (epoch ${report.epoch})` });
      }
    }
    // A crashed or frozen site acts as nothing; a paused one re-reads the cluster record before it acts again.
    const primaries = Object.values(w.sites).filter((s) => acting(w, s) && s.role === 'primary').length;
    this.maxSimultaneousPrimaries = Math.max(this.maxSimultaneousPrimaries, primaries);
  }

  accept(site: Site, path: PathId, serial: number): void {
    const key = `${site.id}/${path}`;
    if (serial < (this.lastSerial.get(key) ?? 0)) this.log.serialRegressions += 1;
    this.lastSerial.set(key, Math.max(serial, this.lastSerial.get(key) ?? 0));
    this.log.accepted.push({ atMs: this.world.clock.at, site: site.id, path, serial });
  }

  countInvalid(path: PathId, reason: string): void {
    this.invalidBeats[path][reason] = (this.invalidBeats[path][reason] ?? 0) + 1;
  }

  private summarizeBeats(): void {
    const w = this.world;
    const parts = SITE_IDS.map((id) => {
      const s = w.sites[id];
      const peer = w.sites[peerOf(id)];
      const path = (p: PathId) =>
        `${p} ${s.counts[p].sent} sent${s.counts[p].failed > 0 ? ` (${s.counts[p].failed} failed)` : ''}, ${peer.counts[p].accepted} accepted`;
      return `${id}→${peerOf(id)}: ${path('network')}; ${path('storage')}`;
    });
    for (const s of Object.values(w.sites)) for (const p of PATHS) s.counts[p] = { sent: 0, failed: 0, accepted: 0 };
    w.note({ kind: 'beats', text: `last ${BEAT_SUMMARY_EVERY_MS / 1000} s: ${parts.join(' | ')}` });
  }

  /** The first fatal fault to a primary: detection is measured from it. */
  fatal(site: Site): void {
    if (this.firstFatalAtMs === undefined && site.role === 'primary') this.firstFatalAtMs = this.world.clock.at;
  }

  /** After every event: whether any site acts as primary, for the time without one. */
  trackPrimaries(): void {
    const w = this.world;
    const atMs = w.clock.at;
    for (const site of Object.values(w.sites)) {
      if (!acting(w, site)) this.tickedSinceStop.delete(site.id);
      const now =
        acting(w, site) && this.tickedSinceStop.has(site.id) && site.role === 'primary' ? site.epoch : undefined;
      const before = this.actingAt.get(site.id);
      if (now === before) continue;
      if (before !== undefined) this.primaryTimeline.push({ atMs, site: site.id, epoch: before, acting: false });
      if (now !== undefined) this.primaryTimeline.push({ atMs, site: site.id, epoch: now, acting: true });
      if (now === undefined) this.actingAt.delete(site.id);
      else this.actingAt.set(site.id, now);
    }
    const gap = this.noPrimary;
    const open = gap.gaps.at(-1)?.toMs === null ? gap.gaps.at(-1) : undefined;
    if (this.actingAt.size > 0) {
      gap.seenPrimary = true;
      if (open !== undefined) open.toMs = atMs;
    } else if (gap.seenPrimary && open === undefined) {
      gap.gaps.push({ fromMs: atMs, toMs: null });
    }
  }

  /** Virtual ms without a primary, an open gap counted to `endAtMs`. */
  private noPrimaryMs(endAtMs: number): number {
    return this.noPrimary.gaps.reduce((sum, g) => sum + (g.toMs ?? endAtMs) - g.fromMs, 0);
  }

  // ---- the emulated SNS topics ------------------------------------------------------------

  /** A notice as the notice desk published it (one document per subscriber protocol). */
  private async publish(site: Site, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const w = this.world;
    const attributes = (input.MessageAttributes ?? {}) as Record<string, { StringValue?: string }>;
    const structured =
      input.MessageStructure === 'json' ? (safeJson(String(input.Message)) as Record<string, string> | null) : null;
    const document = (safeJson(structured?.lambda ?? String(input.Message)) ?? {}) as {
      kind?: string;
      path?: string;
      error?: unknown;
      why?: unknown;
      outcome?: unknown;
    };
    const kind = attributes.kind?.StringValue ?? document.kind;
    const path = attributes.path?.StringValue ?? document.path;
    const folded = Number(attributes.folded?.StringValue ?? 0);
    if (kind !== undefined && (NOTICE_KINDS as readonly string[]).includes(kind)) {
      const topic = typeof input.TopicArn === 'string' && /critical/i.test(input.TopicArn) ? 'critical' : 'warning';
      const notice = {
        atMs: w.clock.at,
        site: site.id,
        kind: kind as NoticeKind,
        severity: topic,
        ...((PATHS as readonly string[]).includes(path ?? '') ? { path: path as PathId } : {}),
        ...(folded > 0 ? { folded } : {}),
      } as const;
      this.notifications.push(notice);
      if (folded > 0) this.log.noticesSummarized += folded;
      if (this.messages.length < MESSAGES_KEPT)
        this.messages.push({
          atMs: w.clock.at,
          site: site.id,
          topic,
          subject: String(input.Subject),
          body: structured?.email ?? String(input.Message),
        });
      // A workflow's notice carries the error it caught or why it stopped: say so, as the message body does.
      const error = document.error as { Cause?: unknown } | undefined;
      const lambdaError =
        typeof error?.Cause === 'string' ? (safeJson(error.Cause) as { errorMessage?: unknown } | null) : null;
      const why =
        typeof error?.Cause === 'string'
          ? `: ${typeof lambdaError?.errorMessage === 'string' ? lambdaError.errorMessage : error.Cause}`
          : typeof document.why === 'string'
            ? `: ${document.why}`
            : '';
      w.note({
        site: site.id,
        kind: 'notice',
        text: `notice ${kind}${notice.path ? ` (${notice.path})` : ''}${folded > 0 ? ` summary: ${folded} folded` : ''} → ${topic} topic${why}`.slice(
          0,
          400,
        ),
      });
    }
    return { MessageId: randomUUID() };
  }

  /** A site's notice desk as its handlers build it, over the emulated SNS topics, counting folds (invariant I4). */
  noticeDesk(site: Site, timeoutMs: number): Pick<NoticeDesk, 'announce' | 'flush'> {
    const w = this.world;
    const desk = siteNoticeDesk({
      settings: site.settings,
      sns: emulate(new SNSClient({ region: site.settings.region }), async (_command, input) =>
        this.publish(site, input),
      ),
      topics: {
        warning: w.arn(site, 'sns', w.names(site.id).topic('warning')),
        critical: w.arn(site, 'sns', w.names(site.id).topic('critical')),
      },
      db: site.db,
      timeoutMs,
      log: () => undefined,
    });
    return {
      announce: async (notice, nowMs, id) => {
        const out = await desk.announce(notice, nowMs, id);
        if (out.outcome === 'folded') this.log.foldedAll += 1;
        // An info notice reaches no topic: it is in the report as recorded, as status and the page show it.
        if (out.outcome === 'recorded') {
          this.notifications.push({
            atMs: w.clock.at,
            site: site.id,
            kind: notice.kind,
            severity: 'info',
            ...(notice.path === undefined ? {} : { path: notice.path }),
          });
          w.note({ site: site.id, kind: 'notice', text: `notice ${notice.kind} → recorded (info, no topic)` });
        }
        return out;
      },
      flush: (nowMs) => desk.flush(nowMs),
    };
  }

  /** The heartbeat module's desk, counting what became of each notice it raised (invariant I4). */
  moduleNoticeDesk(site: Site): Pick<NoticeDesk, 'announce' | 'flush'> {
    const desk = this.noticeDesk(site, pathTimeoutMs(site.settings.tuning.intervalSeconds));
    return {
      announce: async (notice, nowMs, id) => {
        const out = await desk.announce(notice, nowMs, id);
        if (out.outcome === 'published' || out.outcome === 'duplicate' || out.outcome === 'recorded')
          this.log.noticesDelivered += 1;
        if (out.outcome === 'folded') this.log.noticesFolded += 1;
        return out;
      },
      flush: (nowMs) => desk.flush(nowMs),
    };
  }

  report(seed: number): Report {
    const { scenario } = this.world;
    // Detection is the time to an automatic decision; planned and operator-started promotions detect nothing.
    const decision = this.failovers.find(
      (f) =>
        (f.reason === 'peer-lost' || f.reason === 'peer-failure-reported' || f.reason === 'peer-stepped-down') &&
        f.startedAtMs >= (this.firstFatalAtMs ?? Infinity),
    )?.startedAtMs;
    const report: Report = {
      scenario: scenario.name,
      seed,
      durationMs: scenario.durationMs,
      failovers: this.failovers.map((f) => ({
        ...f,
        startedAtMs: Math.round(f.startedAtMs),
        promotedAtMs: f.promotedAtMs === null ? null : Math.round(f.promotedAtMs),
      })),
      detectionMs:
        decision !== undefined && this.firstFatalAtMs !== undefined ? Math.round(decision - this.firstFatalAtMs) : null,
      maxSimultaneousPrimaries: this.maxSimultaneousPrimaries,
      noPrimaryMs: Math.round(this.noPrimaryMs(this.world.scenario.durationMs)),
      noPrimaryGaps: this.noPrimary.gaps.map((g) => ({
        fromMs: Math.round(g.fromMs),
        toMs: g.toMs === null ? null : Math.round(g.toMs),
      })),
      primaryTimeline: this.primaryTimeline.map((p) => ({ ...p, atMs: Math.round(p.atMs) })),
      // Notices raised in one tick are published concurrently; sorting makes the report independent of their race.
      notifications: this.notifications
        .map((n) => ({ ...n, atMs: Math.round(n.atMs) }))
        .sort(
          (a, b) =>
            a.atMs - b.atMs ||
            a.site.localeCompare(b.site) ||
            a.kind.localeCompare(b.kind) ||
            (a.path ?? '').localeCompare(b.path ?? ''),
        ),
      invalidBeats: this.invalidBeats,
      pathStates: this.pathStates.map((p) => ({ ...p, atMs: Math.round(p.atMs) })),
    };
    return scenario.expect === undefined ? report : { ...report, verdict: judge(report, scenario.expect) };
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
