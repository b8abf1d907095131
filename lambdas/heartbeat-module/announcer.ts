// The heartbeat module's notices: each change of a path state or of the verdict, recorded once and announced.
import { deadlineSignal } from '../shared/deadlines';
import { randomUUID } from 'node:crypto';
import type { Notice, NoticeKind } from '../core/notices';
import type { SiteCore } from '../core/site';
import type { PathState, SiteVerdict } from '../core/verdict';
import { PATHS, type PathId } from '../core/wire';
import type { Settings } from '../shared/settings';
import type { Outcome } from '../shared/notifier';
import type { ModuleDeps, Role } from './deps';

/** How often the module flushes the notice outbox and summarizes ended fold windows. */
const FLUSH_EVERY_MS = 60_000;

const VERDICT_NOTICE: Partial<Record<SiteVerdict, NoticeKind>> = {
  'peer-lost': 'peer-lost',
  unprotected: 'unprotected',
  'peer-failure-reported': 'peer-failure-reported',
};

/** What the check half of a tick saw, as its notices quote it. */
export interface CheckView {
  readonly role: Role;
  readonly states: Readonly<Record<PathId, PathState>>;
  readonly phi: Readonly<Record<PathId, number>>;
  readonly deadlineMs: Readonly<Record<PathId, number>>;
  readonly verdict: SiteVerdict;
  /** Why the standby holds off a failover the trigger asks for (the peer still holds its lease). */
  readonly hold: string | undefined;
}

/**
 * Records each change of a path state and of the verdict in the heartbeat volume, and
 * publishes the notice it raises. The conditional write is the deduplication: of two
 * overlapping invocations only the one whose write changed the record announces.
 */
export class Announcer {
  /** The states and verdict this module last saw recorded, so it writes only on a change. */
  readonly recorded: Partial<Record<PathId | 'verdict', string>> = {};
  /** Who records this module's changes, so a write whose answer was lost is still known as its own. */
  readonly writer = randomUUID();
  /** The last valid arrival per path, as the core's detectors count it, for the ages notices quote. */
  lastArrivalMs: Readonly<Partial<Record<PathId, number>>> = {};
  /** When this module last flushed the notice outbox and the ended fold windows. */
  private lastFlushMs: number | undefined;

  constructor(
    private readonly deps: ModuleDeps,
    private readonly core: SiteCore,
  ) {}

  /** Records and announces what changed since the last recorded states and verdict. */
  async changes(nowMs: number, view: CheckView, timeoutMs: number, outcomes: Outcome[]): Promise<Notice[]> {
    const { settings, store } = this.deps;
    const { role, states, phi, deadlineMs, verdict, hold } = view;
    const changes: { what: PathId | 'verdict'; value: string; record: () => Promise<string | undefined | null> }[] = [];
    for (const path of PATHS) {
      if (this.recorded[path] !== states[path])
        changes.push({
          what: path,
          value: states[path],
          record: () =>
            store.views.recordPathState(
              settings.site,
              path,
              states[path],
              nowMs,
              this.writer,
              deadlineSignal(timeoutMs),
            ),
        });
    }
    if (this.recorded.verdict !== verdict)
      changes.push({
        what: 'verdict',
        value: verdict,
        record: () => store.views.recordVerdict(settings.site, verdict, nowMs, this.writer, deadlineSignal(timeoutMs)),
      });

    const notices: Notice[] = [];
    await Promise.all(
      changes.map(async ({ what, value, record }) => {
        let previous: string | undefined | null;
        try {
          previous = await record();
        } catch (error) {
          // Unrecorded: try again next tick rather than announce a change nobody can see.
          this.deps.log('warn', 'state change not recorded', { what, value, error: String(error) });
          return;
        }
        this.recorded[what] = value;
        if (previous === null) return;
        const detail: Record<string, unknown> = {
          verdict,
          states,
          phi: roundAll(phi),
          deadlineMs,
          lastValidBeatAgeMs: this.ages(nowMs),
          previous: previous ?? 'none',
        };
        const report = this.core.newestLiveBeat(states);
        // What the peer said about its workload, as its beat carried it: what failed, since when, the evidence.
        if (what === 'verdict' && verdict === 'peer-failure-reported' && report !== undefined)
          detail.peerReport = {
            health: report.health,
            sentAt: report.sentAt,
            ...(report.notice ? { notice: report.notice } : {}),
          };
        const kind =
          what === 'verdict' ? VERDICT_NOTICE[value as SiteVerdict] : pathNotice(previous, value as PathState);
        if (kind === undefined) return;
        const notice: Notice = {
          kind,
          site: settings.site,
          region: settings.region,
          cluster: settings.cluster,
          ...(what === 'verdict' ? {} : { path: what }),
          atMs: nowMs,
          detail: {
            ...detail,
            next: nextStep(kind, settings, what === 'verdict' ? undefined : what, role === 'primary', hold),
          },
        };
        notices.push(notice);
        this.deps.log('warn', `notice: ${kind}`, { path: what === 'verdict' ? undefined : what, previous });
        await this.publish(notice, nowMs, outcomes);
      }),
    );
    return notices;
  }

  /**
   * Records one change in this site's view (ViewStore): the previous value when this writer
   * changed it (undefined: none before), null when another invocation already had, and
   * `false` when the write failed (logged; the next tick tries again).
   */
  async recordOnce(
    what: string,
    record: (writer: string, signal: AbortSignal) => Promise<string | undefined | null>,
    timeoutMs: number,
  ): Promise<string | undefined | null | false> {
    try {
      return await record(this.writer, deadlineSignal(timeoutMs));
    } catch (error) {
      this.deps.log('warn', `${what} not recorded`, { error: String(error) });
      return false;
    }
  }

  /** A notice of this site, outside the path and verdict changes above: logged and published. */
  async say(
    kind: NoticeKind,
    nowMs: number,
    outcomes: Outcome[],
    detail: Readonly<Record<string, unknown>> & { readonly why?: unknown },
  ): Promise<Notice[]> {
    const { settings } = this.deps;
    const notice: Notice = {
      kind,
      site: settings.site,
      region: settings.region,
      cluster: settings.cluster,
      atMs: nowMs,
      detail,
    };
    this.deps.log('warn', `notice: ${kind}`, { why: detail.why });
    await this.publish(notice, nowMs, outcomes);
    return [notice];
  }

  /** Hands a notice to the desk (journal, rate limit, SNS); a desk that failed never fails the tick. */
  async publish(notice: Notice, nowMs: number, outcomes: Outcome[]): Promise<void> {
    if (this.deps.notices === undefined) return;
    try {
      outcomes.push((await this.deps.notices.announce(notice, nowMs)).outcome);
    } catch (error) {
      outcomes.push('pending');
      this.deps.log('warn', 'notice not announced', { kind: notice.kind, error: String(error) });
    }
  }

  /** Once a minute: the outbox publishes again what SNS did not take, and ended fold windows are summarized. */
  async flush(nowMs: number): Promise<number> {
    if (
      this.deps.notices === undefined ||
      (this.lastFlushMs !== undefined && nowMs - this.lastFlushMs < FLUSH_EVERY_MS)
    )
      return 0;
    this.lastFlushMs = nowMs;
    try {
      const out = await this.deps.notices.flush(nowMs);
      if (out.summaries + out.retried > 0) this.deps.log('info', 'notice outbox flushed', out);
      return out.failed;
    } catch (error) {
      this.deps.log('warn', 'notice outbox not flushed; the next minute tries again', { error: String(error) });
      return 0;
    }
  }

  /** A wall-clock jump the monotonic clock did not see: beats go on with the corrected time. */
  clockNotice(jumpMs: number, correctionMs: number, nowMs: number): Notice {
    const { settings } = this.deps;
    this.deps.log('warn', 'notice: clock-untrusted', { jumpMs, correctionMs });
    return {
      kind: 'clock-untrusted',
      site: settings.site,
      region: settings.region,
      cluster: settings.cluster,
      atMs: nowMs,
      detail: {
        jumpMs: Math.round(jumpMs),
        correctionMs: Math.round(correctionMs),
        why: `the wall clock moved ${Math.round(jumpMs)} ms against the monotonic clock between two ticks, beyond the skew bound (deadlineCeilingSeconds ${settings.tuning.deadlineCeilingSeconds})`,
        next:
          correctionMs === 0
            ? 'nothing: the wall clock agrees with the monotonic clock again'
            : `this container stamps beats ${Math.round(correctionMs)} ms behind the wall clock until it agrees again; check the host's time synchronization (chrony, Amazon Time Sync)`,
      },
    };
  }

  /** How old the last valid beat on each path is, as notices quote it. */
  ages(nowMs: number): Record<PathId, number | null> {
    const age = (p: PathId) => {
      const last = this.lastArrivalMs[p];
      return last === undefined ? null : nowMs - last;
    };
    return { network: age('network'), storage: age('storage') };
  }
}

/** The notice a change of one path's state raises, if any: failures and recoveries from failure. */
function pathNotice(previous: string | undefined, state: PathState): NoticeKind | undefined {
  if (state === 'failed') return 'path-failed';
  if (previous === 'failed' && (state === 'healthy' || state === 'suspect')) return 'path-recovered';
  return undefined;
}

function roundAll(values: Readonly<Record<PathId, number>>): Record<PathId, number> {
  return { network: Math.round(values.network * 100) / 100, storage: Math.round(values.storage * 100) / 100 };
}
/** What mirrorbeat does next after a notice, in words for the person reading it. */
function nextStep(
  kind: NoticeKind,
  settings: Settings,
  path: PathId | undefined,
  primary: boolean,
  hold: string | undefined,
): string {
  const { site, peer, region, tuning } = settings;
  const failoverByHand = `npx mirrorbeat failover --site ${site} --region ${region}`;
  switch (kind) {
    case 'path-failed':
      return `no failover while another enabled path delivers valid beats; check the ${path ?? ''} path, or switch it off for maintenance: npx mirrorbeat path deactivate ${path ?? '<path>'} --reason "..."`;
    case 'path-recovered':
      return 'nothing: the path counts again';
    case 'peer-lost':
      if (primary)
        return `${site} is primary and stays primary; ${peer} no longer protects it: bring ${peer} back (its region, its heartbeat module)`;
      if (hold !== undefined && tuning.consistency === 'strong')
        return `${hold}: check the paths between the sites; npx mirrorbeat status --region ${region}`;
      return tuning.failoverMode === 'manual'
        ? `failoverMode is manual: decide, then run ${failoverByHand}`
        : `the failover workflow starts in ${site} (failoverMode ${tuning.failoverMode}); follow it with npx mirrorbeat status`;
    case 'peer-failure-reported':
      if (primary) return `${site} is primary; the failure is ${peer}'s, which is secondary: fix its workload`;
      return tuning.onPeerFailure === 'failover'
        ? `health.onPeerFailure is failover: the failover workflow starts in ${site}`
        : `notify only (health.onPeerFailure is notify): fix the workload, or fail over by hand: ${failoverByHand}`;
    case 'unprotected':
      return 'no enabled path: mirrorbeat cannot fail over; activate one: npx mirrorbeat path activate network';
    default:
      return '';
  }
}
