/** How `mirrorbeat status` and `notice` show what client/status.ts reads. */
import type { JournalEntry } from '../../lambdas/shared/journal';
import { noticeSubject, noticeText } from '../../lambdas/core/notices';
import { PATHS, peerOf, SITE_IDS, type SiteId } from '../../lambdas/core/wire';
import type { ClusterRecord } from '../../lambdas/core/volume';
import type { RecordedReadiness } from '../../lambdas/core/readiness';
import { type ClusterStatus, type NoticeStatus, STALE_AFTER_MS } from '../../client/status';

const age = (ms: number | null) =>
  ms === null ? 'never' : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s ago` : `${Math.round(ms / 60_000)} min ago`;

/** The human view of `mirrorbeat status`. */
export function formatStatus(s: ClusterStatus): string {
  const lines: string[] = [];
  const records = s.sites.filter((x) => x.cluster !== null).map((x) => x.cluster as ClusterRecord);
  const newest = records.sort((a, b) => b.epoch - a.epoch)[0];
  lines.push(
    `mirrorbeat ${s.cluster}: ${newest === undefined ? 'cluster record unreadable' : `epoch ${newest.epoch}, primary ${newest.primary}`}`,
  );
  // Maintenance mode, as the replicas hold it: the newest switch wins, as the sites apply it.
  const switched = s.sites
    .map((x) => x.maintenance)
    .filter((m) => m !== null)
    .sort((a, b) => b.sinceMs - a.sinceMs)[0];
  if (switched?.on === true)
    lines.push(
      `  MAINTENANCE: on since ${new Date(switched.sinceMs).toISOString()} by ${switched.by}${switched.reason === '' ? '' : ` (${switched.reason})`}: no automatic failover; end it: npx mirrorbeat maintenance off`,
    );
  // What pages at night first: a site that sees nobody serving, if its record is current.
  for (const site of s.sites)
    if (site.noPrimarySince !== null && site.lastTickAgeMs !== null && site.lastTickAgeMs <= STALE_AFTER_MS)
      lines.push(
        `  NO PRIMARY: ${site.site} has seen no site acting as primary since ${site.noPrimarySince}; promote one: npx mirrorbeat failover --site <site>`,
      );
  lines.push(...formatQuorum(s), ...formatReplication(s));
  for (const id of SITE_IDS) {
    const site = s.sites.find((x) => x.site === id);
    if (site === undefined) continue;
    const head = `  ${id.padEnd(10)} ${site.region.padEnd(12)}`;
    if (!site.reachable) {
      lines.push(`${head} unreachable: ${site.error ?? ''}`);
      continue;
    }
    const stale =
      site.cluster !== null && newest !== undefined && site.cluster.epoch < newest.epoch
        ? ` (its replica still says epoch ${site.cluster.epoch})`
        : '';
    // What a site recorded is only as current as its last tick: a site gone quiet is never shown as acting.
    if (site.lastTickAgeMs === null || site.lastTickAgeMs > STALE_AFTER_MS) {
      const heard =
        site.lastTickAgeMs === null
          ? 'never heard from'
          : `not heard from since ${new Date(s.atMs - site.lastTickAgeMs).toISOString()} (last tick ${age(site.lastTickAgeMs)})`;
      lines.push(
        `${head} ${heard}: its heartbeat module is not ticking (site down, or its module stopped); its last record said ${site.role ?? 'no role'}, verdict ${site.verdict ?? 'unknown'}${stale}`,
      );
    } else
      lines.push(
        `${head} acts as ${site.role ?? 'unknown'}, verdict ${site.verdict ?? 'unknown'}${site.verdictSince ? ` since ${site.verdictSince}` : ''}, last tick ${age(site.lastTickAgeMs)}${stale}`,
      );
    if (site.readiness !== null) lines.push(formatReadinessLine(site.readiness, s.atMs));
    for (const path of PATHS) {
      const p = site.paths[path];
      if (p === undefined) continue;
      const changed =
        p.modeChangedAt === null ? '' : ` (set ${p.modeChangedAt}${p.modeReason ? `: ${p.modeReason}` : ''})`;
      lines.push(
        `    ${path.padEnd(8)} ${p.mode}${changed}; peer ${p.state ?? 'not checked yet'}, last valid beat ${age(p.lastBeatAgeMs)}`,
      );
    }
  }
  lines.push(...formatNotices(s.notices, s.atMs));
  return lines.join('\n');
}

/** The site's last readiness check (`mirrorbeat readiness` runs one now and shows every check). */
function formatReadinessLine(r: RecordedReadiness, nowMs: number): string {
  const checked = `checked ${age(nowMs - r.atMs)}`;
  if (r.ready) return `    readiness  ready: a failover to this site would succeed as far as checked (${checked})`;
  return `    readiness  FAILOVER NOT READY (${checked}): ${r.failing.map((c) => `${c.name}: ${c.reason}`).join('; ')}`;
}

/** Quorum mode's votes (client/status.ts, quorumStatus); nothing in two-region mode. */
function formatQuorum(s: ClusterStatus): string[] {
  const q = s.quorum;
  if (q === null) return [];
  const since = q.sinceMs > 0 ? ` since ${new Date(q.sinceMs).toISOString()}` : '';
  const witness =
    q.witness === 'unknown'
      ? 'witness unknown (no API shows it; no AWS Health event names its region)'
      : `witness ${q.witness} (AWS Health)`;
  if (q.degraded)
    return [`  QUORUM DEGRADED${since}: ${q.why.join('; ')}; ${witness}: one more fault and no failover can happen`];
  // Whole, as far as the sites heard from can tell: what each of them sees.
  const seen = s.sites
    .filter((site) => q.from.includes(site.site) && site.quorum !== null)
    .map((site) => `${site.site} reaches a majority, ${peerOf(site.site)}'s replica ${site.quorum?.peerReplica}`);
  return [`  quorum: whole${since}: ${[...seen, witness].join('; ')}`];
}

/** The heartbeat volume's replication, both ways, as the two replicas show it now. */
function formatReplication(s: ClusterStatus): string[] {
  const parts = s.replication.map(
    (r) =>
      `${r.from} → ${r.to} ${r.behindMs === null ? 'unknown (a replica could not be read)' : `${(r.behindMs / 1000).toFixed(1)} s behind`}${r.state === 'lagging' ? ` (LAGGING: ${r.to} saw its beats arrive past half the RPO budget)` : ''}`,
  );
  return parts.length === 0 ? [] : [`  replication: ${parts.join('; ')}`];
}

/** How many notices the text view lists; --json has them all. */
const NOTICE_LINES = 8;

function formatNotices(notices: readonly NoticeStatus[], nowMs: number): string[] {
  if (notices.length === 0) return ['  notices: none in the journal'];
  // An info notice (a switchover asked for and done) paged no one and waits for no acknowledgement.
  const open = notices.filter((n) => n.acknowledged === null && n.severity !== 'info');
  const lines = [
    `  notices (newest first; ${open.length} unacknowledged; acknowledge with: npx mirrorbeat ack <id> [--site <site>], or ack --all):`,
  ];
  for (const n of notices.slice(0, NOTICE_LINES)) {
    const ack =
      n.severity === 'info' && n.acknowledged === null
        ? 'recorded, paged no one'
        : n.acknowledged === null
          ? n.severity === 'critical'
            ? 'UNACKNOWLEDGED'
            : 'unacknowledged'
          : `acknowledged by ${n.acknowledged.by}${n.acknowledged.note ? ` (${n.acknowledged.note})` : ''}`;
    const delivery = n.delivery === 'pending' ? ', NOT YET DELIVERED (the outbox retries it)' : '';
    lines.push(
      `    ${n.acknowledged === null && n.severity === 'critical' ? '!' : ' '} ${age(nowMs - Date.parse(n.at)).padEnd(13)} ${n.severity.padEnd(8)} ${n.subject.replace(/^mirrorbeat [^:]+: /, '')}; ${ack}${delivery}`,
    );
    lines.push(`      id ${n.id}`);
  }
  if (notices.length > NOTICE_LINES) lines.push(`    … ${notices.length - NOTICE_LINES} more (--json lists them)`);
  return lines;
}

export function formatNotice(found: { site: SiteId; entry: JournalEntry }, runbookUrl?: string): string {
  const { entry } = found;
  const ack =
    entry.acknowledged === undefined
      ? 'not acknowledged'
      : `acknowledged by ${entry.acknowledged.by} at ${new Date(entry.acknowledged.atMs).toISOString()}${entry.acknowledged.note ? `: ${entry.acknowledged.note}` : ''}`;
  const delivery =
    entry.delivery === 'recorded'
      ? 'recorded: an info notice, published to no topic'
      : entry.delivery === 'published'
        ? `delivered${entry.publishedAtMs === undefined ? '' : ` at ${new Date(entry.publishedAtMs).toISOString()}`}`
        : `NOT YET DELIVERED after ${entry.attempts} attempt(s)${entry.lastError ? `: ${entry.lastError}` : ''}`;
  return [
    `Subject: ${noticeSubject(entry.notice)}`,
    `(${delivery}; ${ack})`,
    '',
    noticeText(entry.notice, entry.id, runbookUrl),
  ].join('\n');
}
