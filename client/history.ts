// Past decisions, from the notice journal: failovers, aborts and gates, promotions, demotions, path control,
// maintenance.
import type { NoticeKind } from '../lambdas/core/notices';
import { SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { NoticeJournal } from '../lambdas/shared/journal';
import type { SiteTables } from './status';

/** The notice kinds that record a decision (the rest record what a site saw). */
export const DECISION_KINDS: readonly NoticeKind[] = [
  'failover-started',
  'failover-aborted',
  'promoted',
  'demoted',
  'switchover-started',
  'switchover-completed',
  'path-activated',
  'path-deactivated',
  'command-refused',
  'no-primary',
  'maintenance',
];

export interface HistoryEntry {
  readonly at: string;
  readonly site: SiteId;
  readonly kind: NoticeKind;
  /** The notice's headline: what was decided. */
  readonly what: string;
  /** Who asked, and why, as the notice recorded them. */
  readonly who: string | null;
  readonly why: string | null;
  readonly epoch: number | null;
  readonly id: string;
}

/** How far back each site's journal is read (the journal keeps 14 days). */
export const HISTORY_NOTICES_PER_SITE = 500;

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * Both sites' decisions, newest first, each site's from the first region that answers (its own
 * first: the journal is replicated). A site whose journal no region serves is left out, and said.
 */
export async function readHistory(
  tables: readonly SiteTables[],
  nowMs: number,
): Promise<{ entries: HistoryEntry[]; unread: SiteId[]; lastError?: unknown }> {
  const unread: SiteId[] = [];
  let lastError: unknown;
  const perSite = await Promise.all(
    SITE_IDS.map(async (site) => {
      for (const t of [...tables].sort((a, b) => Number(b.site === site) - Number(a.site === site))) {
        try {
          const recent = await new NoticeJournal(t.db, t.heartbeatVolume).recent(site, HISTORY_NOTICES_PER_SITE, nowMs);
          return recent
            .filter((e) => DECISION_KINDS.includes(e.notice.kind))
            .map((e): HistoryEntry => {
              const d = e.notice.detail;
              return {
                at: new Date(e.notice.atMs).toISOString(),
                site,
                kind: e.notice.kind,
                what: e.notice.headline ?? e.subject,
                who: text(d.requestedBy) ?? text(d.by) ?? (e.notice.kind === 'demoted' ? 'heartbeat-module' : null),
                why: text(d.why) ?? text(d.reason),
                epoch:
                  typeof d.epoch === 'number' ? d.epoch : typeof d.expectedEpoch === 'number' ? d.expectedEpoch : null,
                id: e.id,
              };
            });
        } catch (error) {
          // This region does not answer: try the other replica.
          lastError = error;
        }
      }
      unread.push(site);
      return [];
    }),
  );
  return {
    entries: perSite.flat().sort((a, b) => b.at.localeCompare(a.at)),
    unread,
    ...(lastError === undefined ? {} : { lastError }),
  };
}

/** One line per decision, then who and why, indented. */
export function formatHistory(history: { entries: readonly HistoryEntry[]; unread: readonly SiteId[] }): string {
  const lines = history.entries.length === 0 ? ['no decisions in the journal (it keeps 14 days)'] : [];
  for (const e of history.entries) {
    lines.push(
      `${e.at}  ${e.site.padEnd(10)} ${e.kind.padEnd(20)} ${e.what}${e.epoch === null ? '' : ` (epoch ${e.epoch})`}`,
    );
    const by = [e.who === null ? undefined : `by ${e.who}`, e.why ?? undefined].filter((x) => x !== undefined);
    if (by.length > 0) lines.push(`${' '.repeat(36)}${by.join(': ')}`.slice(0, 300));
  }
  for (const site of history.unread) lines.push(`(${site}'s journal could not be read in either region)`);
  return lines.join('\n');
}
