// What a run produced, as the report, the runtime's own log and the topics' deliveries record it (the Recorder,
// local/recorder.ts, fills them).
import type { NoticeKind, Severity } from '../lambdas/core/notices';
import type { PathState } from '../lambdas/core/verdict';
import type { PathId, SiteId } from '../lambdas/core/wire';
import type { Verdict } from './expect';

/** The report of a run (a contract; docs/SCENARIOS.md). */
export interface Report {
  readonly scenario: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly failovers: {
    startedAtMs: number;
    promotedAtMs: number | null;
    from: SiteId;
    to: SiteId;
    epoch: number;
    reason: string;
  }[];
  readonly detectionMs: number | null;
  readonly maxSimultaneousPrimaries: number;
  /**
   * Virtual ms after the first primary during which no site acted as primary (a crashed or frozen site acts as
   * nothing).
   */
  readonly noPrimaryMs: number;
  /** Each stretch without a primary after the first one acted; `toMs` null when the run ended in it. */
  readonly noPrimaryGaps: { fromMs: number; toMs: number | null }[];
  /** Each time a site started (`acting` true) or stopped (false: stepped down, crashed, froze) acting as primary. */
  readonly primaryTimeline: { atMs: number; site: SiteId; epoch: number; acting: boolean }[];
  /**
   * Notices that reached a topic, and info notices, which are recorded and reach none; `folded` on a summary: how many
   * notices of its kind and path it stands for.
   */
  readonly notifications: {
    atMs: number;
    site: SiteId;
    kind: NoticeKind;
    severity: Severity;
    path?: PathId;
    folded?: number;
  }[];
  readonly invalidBeats: Record<PathId, Record<string, number>>;
  readonly pathStates: { atMs: number; site: SiteId; path: PathId; state: PathState }[];
  /** How the run met the scenario's `expect` list (local/expect.ts); only when the scenario has one. */
  readonly verdict?: Verdict;
}

export interface DeliveredMessage {
  readonly atMs: number;
  readonly site: SiteId;
  readonly topic: 'warning' | 'critical';
  readonly subject: string;
  readonly body: string;
}

/** What the runtime saw happen, beyond the report: the evidence invariants are checked against. */
export interface RuntimeLog {
  /**
   * Valid peer beats a site accepted, by path, with scenario time (network: at the receiver; storage: at the reading
   * tick).
   */
  readonly accepted: { atMs: number; site: SiteId; path: PathId; serial: number }[];
  /** Times an accepted serial on a path was lower than one accepted before it. */
  serialRegressions: number;
  /** Notices the heartbeat modules raised; how many reached the topic, how many the rate limit folded. */
  noticesRaised: number;
  noticesDelivered: number;
  noticesFolded: number;
  /**
   * Notices any handler's desk folded; of them, how many a summary that reached the topic counted, and how many wait in
   * windows still open at the end.
   */
  foldedAll: number;
  noticesSummarized: number;
  foldedOpenAtEnd: number;
}
