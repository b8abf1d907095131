/**
 * Reading a cluster's status from each site's tables, and acknowledging its notices: shared by the CLI and the local
 * runtime.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PathState, SiteVerdict } from '../lambdas/core/verdict';
import {
  beatKey,
  clusterKey,
  type ClusterRecord,
  DEFAULT_PATH_MODE,
  type Maintenance,
  maintenanceKey,
  maintenanceOf,
  observationKey,
  pathKey,
  serialKey,
  stateKey,
  viewKey,
} from '../lambdas/core/volume';
import { PATHS, type PathId, type PathMode, peerOf, SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { severityOf } from '../lambdas/core/notices';
import { parseRecorded, type RecordedQuorum, type WitnessState } from '../lambdas/core/quorum';
import { parseReadiness, type RecordedReadiness } from '../lambdas/core/readiness';
import { type JournalEntry, NoticeJournal } from '../lambdas/shared/journal';

/** Where one site's tables are: its region's replica of the heartbeat volume and its observations table. */
export interface SiteTables {
  readonly site: SiteId;
  readonly region: string;
  readonly db: DynamoDBDocumentClient;
  readonly heartbeatVolume: string;
  readonly observations: string;
}

export interface PathStatus {
  readonly mode: PathMode;
  readonly modeChangedAt: string | null;
  readonly modeChangedBy: string | null;
  readonly modeReason: string | null;
  /** This site's view of the peer on this path, as its heartbeat module last recorded it. */
  readonly state: PathState | null;
  readonly stateSince: string | null;
  /** Age of the last valid beat from the peer on this path, on this site's clock. */
  readonly lastBeatAgeMs: number | null;
}

export interface SiteStatus {
  readonly site: SiteId;
  readonly region: string;
  readonly reachable: boolean;
  readonly error?: string;
  readonly cluster: ClusterRecord | null;
  readonly role: string | null;
  readonly verdict: SiteVerdict | null;
  readonly verdictSince: string | null;
  /** Since when this site has seen no site acting as primary (past the grace), or null. */
  readonly noPrimarySince: string | null;
  /** Maintenance mode as this site's replica holds it. */
  readonly maintenance: Maintenance | null;
  readonly paths: Partial<Record<PathId, PathStatus>>;
  /** How long ago this site's heartbeat module last ticked (from its serial counter). */
  readonly lastTickAgeMs: number | null;
  /** Quorum mode: the votes as this site last recorded them, and since when; null in two-region mode or before. */
  readonly quorum: (RecordedQuorum & { readonly since: string }) | null;
  /** Each site's last beat as this site's replica of the heartbeat volume holds it. */
  readonly beats: Partial<Record<SiteId, { readonly serial: number; readonly sentAtMs: number }>>;
  /** What this site last recorded of the peer's beats' replication (lambdas/heartbeat-module/replication-watch.ts). */
  readonly replication: 'ok' | 'lagging' | null;
  /** The last readiness check of this site (lambdas/core/readiness.ts), or null before one ran. */
  readonly readiness: RecordedReadiness | null;
}

/**
 * How far one replica of the heartbeat volume is behind the other, for the beats of the site that writes them: the
 * send time of that site's last beat in its own replica minus that of the same site's last beat in the other replica
 * (both stamped by the writer's clock, so no clock offset enters); null when either replica could not be read.
 */
export interface ReplicationStatus {
  readonly from: SiteId;
  readonly to: SiteId;
  readonly behindMs: number | null;
  /** What the receiving site last recorded (its replication-lagging notice), or null before it recorded anything. */
  readonly state: 'ok' | 'lagging' | null;
}

export function replicationStatus(sites: readonly SiteStatus[]): ReplicationStatus[] {
  return SITE_IDS.map((from) => {
    const to = peerOf(from);
    const own = sites.find((s) => s.site === from)?.beats[from];
    const receiver = sites.find((s) => s.site === to);
    const copy = receiver?.beats[from];
    const behindMs =
      own === undefined || copy === undefined ? null : own.serial <= copy.serial ? 0 : own.sentAtMs - copy.sentAtMs;
    return { from, to, behindMs, state: receiver?.replication ?? null };
  });
}

function beatOf(item: Record<string, unknown> | undefined): { serial: number; sentAtMs: number } | undefined {
  const beat = item?.beat as { serial?: unknown; sentAt?: unknown } | undefined;
  const serial = Number(beat?.serial);
  const sentAtMs = typeof beat?.sentAt === 'string' ? Date.parse(beat.sentAt) : NaN;
  return Number.isFinite(serial) && Number.isFinite(sentAtMs) ? { serial, sentAtMs } : undefined;
}

/** Longer than any interval plus the per-minute handoff: a site's module is not ticking, and its records are old. */
export const STALE_AFTER_MS = 30_000;

/** The quorum as both sites' views have it (a contract: `status --json`'s `quorum`); null in two-region mode. */
export interface QuorumStatus {
  /** Every site whose view could be read reaches a majority, by its own last record. */
  readonly majority: boolean;
  readonly witness: WitnessState;
  /** When the newest of those records changed, epoch ms. */
  readonly sinceMs: number;
  /** One more fault and no region has a majority. */
  readonly degraded: boolean;
  /** Why, per site and vote; empty when whole. */
  readonly why: readonly string[];
  /** The sites whose views it sums up: those that reached their tables and ticked lately (STALE_AFTER_MS). */
  readonly from: readonly SiteId[];
}

/** A notice from a site's journal, as status shows it. */
export interface NoticeStatus {
  readonly id: string;
  readonly site: SiteId;
  readonly kind: string;
  readonly severity: string;
  readonly at: string;
  readonly subject: string;
  readonly delivery: JournalEntry['delivery'];
  readonly folded: number;
  readonly acknowledged: { readonly by: string; readonly at: string; readonly note: string } | null;
}

export interface ClusterStatus {
  readonly cluster: string;
  readonly atMs: number;
  readonly sites: readonly SiteStatus[];
  /**
   * Both sites' newest notices, newest first. The journal is replicated: a site that is down still shows its last ones.
   */
  readonly notices: readonly NoticeStatus[];
  readonly quorum: QuorumStatus | null;
  /** Each direction of the heartbeat volume's replication, measured from both replicas. */
  readonly replication: readonly ReplicationStatus[];
}

/**
 * The quorum from the sites' views: a site reaches a majority if its last record says so; a site whose replica could
 * not be read (a strong read fails in a region without a majority) counts as not reaching one, if any site records a
 * quorum at all (in two-region mode none does).
 */
export function quorumStatus(sites: readonly SiteStatus[]): QuorumStatus | null {
  if (sites.every((s) => s.quorum === null)) return null;
  // A site not heard from lately (its module stopped) says nothing of now: its last record is left out.
  const heard = sites.filter((s) => s.quorum !== null && s.lastTickAgeMs !== null && s.lastTickAgeMs <= STALE_AFTER_MS);
  const why: string[] = [];
  for (const s of sites) {
    if (!s.reachable) why.push(`${s.site}'s replica (${s.region}) could not be read: it may have no majority`);
    if (s.quorum === null || !heard.includes(s)) continue;
    if (!s.quorum.majority) why.push(`${s.site} reaches no majority`);
    if (s.quorum.peerReplica === 'unreachable')
      why.push(`${s.site} sees ${peerOf(s.site)}'s beats stop replicating while its network beats arrive`);
  }
  const witnesses = heard.map((s) => s.quorum?.witness);
  const witness: WitnessState = witnesses.includes('unreachable')
    ? 'unreachable'
    : witnesses.includes('ok')
      ? 'ok'
      : 'unknown';
  if (witness === 'unreachable') why.push('an AWS Health event names DynamoDB in the witness region');
  return {
    majority: sites.every((s) => s.reachable && (!heard.includes(s) || s.quorum?.majority === true)),
    witness,
    sinceMs: Math.max(0, ...heard.map((s) => Date.parse(s.quorum?.since ?? '') || 0)),
    degraded: why.length > 0,
    why,
    from: heard.map((s) => s.site),
  };
}

/** How many notices of each site status reads. */
export const NOTICES_PER_SITE = 10;

function noticeStatus(site: SiteId, e: JournalEntry): NoticeStatus {
  return {
    id: e.id,
    site,
    kind: e.notice.kind,
    severity: severityOf(e.notice),
    at: new Date(e.notice.atMs).toISOString(),
    subject: e.subject,
    delivery: e.delivery,
    folded: e.notice.folded?.count ?? 0,
    acknowledged:
      e.acknowledged === undefined
        ? null
        : { by: e.acknowledged.by, at: new Date(e.acknowledged.atMs).toISOString(), note: e.acknowledged.note },
  };
}

/**
 * Runs `use` on the journal of each region in turn, `prefer`'s region first, until one
 * answers: the journal is replicated, so either region serves either site's notices.
 */
async function inFirstRegion<T>(
  tables: readonly SiteTables[],
  prefer: SiteId | undefined,
  use: (journal: NoticeJournal) => Promise<T>,
): Promise<T> {
  let lastError: unknown = new Error('no region to read the notice journal from');
  for (const t of [...tables].sort((a, b) => Number(b.site === prefer) - Number(a.site === prefer))) {
    try {
      return await use(new NoticeJournal(t.db, t.heartbeatVolume));
    } catch (error) {
      // This region does not answer: try the other replica.
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** Each site's newest notices, read from the first region that answers (its own first). */
async function readNotices(tables: readonly SiteTables[], nowMs: number): Promise<NoticeStatus[]> {
  const perSite = await Promise.all(
    SITE_IDS.map((site) =>
      inFirstRegion(tables, site, async (journal) =>
        (await journal.recent(site, NOTICES_PER_SITE, nowMs)).map((e) => noticeStatus(site, e)),
      ).catch(() => []),
    ),
  );
  return perSite.flat().sort((a, b) => b.at.localeCompare(a.at));
}

async function readSite(t: SiteTables, nowMs: number): Promise<SiteStatus> {
  const peer = peerOf(t.site);
  // Eventually consistent for the cluster record: a region cut off from the majority still shows what it last knew.
  const get = async (table: string, key: Record<string, string>) =>
    (await t.db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: key.pk !== clusterKey().pk }))).Item;
  try {
    const [cluster, view, serial, maintenance, ownBeat, peerBeat, ...perPath] = await Promise.all([
      get(t.heartbeatVolume, { ...clusterKey() }),
      get(t.heartbeatVolume, { ...viewKey(t.site) }),
      get(t.observations, { ...serialKey(t.site) }),
      get(t.heartbeatVolume, { ...maintenanceKey() }),
      get(t.heartbeatVolume, { ...beatKey(t.site) }),
      get(t.heartbeatVolume, { ...beatKey(peer) }),
      ...PATHS.flatMap((path) => [
        get(t.heartbeatVolume, { ...pathKey(t.site, path) }),
        get(t.heartbeatVolume, { ...stateKey(t.site, path) }),
        get(t.observations, { ...observationKey(path, peer) }),
      ]),
    ]);
    const paths: Partial<Record<PathId, PathStatus>> = {};
    PATHS.forEach((path, i) => {
      const [registry, state, observed] = perPath.slice(i * 3, i * 3 + 3);
      paths[path] = {
        mode: (registry?.mode as PathMode | undefined) ?? DEFAULT_PATH_MODE,
        modeChangedAt: (registry?.changedAt as string | undefined) ?? null,
        modeChangedBy: (registry?.changedBy as string | undefined) ?? null,
        modeReason: (registry?.reason as string | undefined) ?? null,
        state: (state?.state as PathState | undefined) ?? null,
        stateSince: (state?.stateSince as string | undefined) ?? null,
        lastBeatAgeMs: observed === undefined ? null : Math.max(0, nowMs - Number(observed.arrivedAtMs)),
      };
    });
    // Serials are the send time in ms (lambdas/core/volume.ts): the last one says when the module last ticked.
    const lastSerial = serial === undefined ? undefined : Number(serial.serial);
    return {
      site: t.site,
      region: t.region,
      reachable: true,
      cluster:
        cluster === undefined
          ? { epoch: 1, primary: 'production' }
          : { epoch: Number(cluster.epoch), primary: cluster.primary as SiteId },
      role: (view?.role as string | undefined) ?? null,
      verdict: (view?.verdict as SiteVerdict | undefined) ?? null,
      verdictSince: (view?.verdictSince as string | undefined) ?? null,
      noPrimarySince: view?.primarySeen === 'none' ? ((view.primarySeenSince as string | undefined) ?? null) : null,
      maintenance: maintenanceOf(maintenance) ?? null,
      paths,
      lastTickAgeMs: lastSerial === undefined || !Number.isFinite(lastSerial) ? null : Math.max(0, nowMs - lastSerial),
      quorum: quorumOfView(view),
      beats: { [t.site]: beatOf(ownBeat), [peer]: beatOf(peerBeat) },
      replication: view?.replication === 'lagging' ? 'lagging' : view?.replication === 'ok' ? 'ok' : null,
      readiness: parseReadiness(view?.readiness) ?? null,
    };
  } catch (error) {
    // One region down must not hide the other: report it and carry on.
    return { ...siteUnread(t.site, t.region), error: String(error instanceof Error ? error.message : error) };
  }
}

/** A site whose replica could not be read: everything unknown. */
export function siteUnread(site: SiteId, region: string): SiteStatus {
  return {
    site,
    region,
    reachable: false,
    cluster: null,
    role: null,
    verdict: null,
    verdictSince: null,
    noPrimarySince: null,
    maintenance: null,
    paths: {},
    lastTickAgeMs: null,
    quorum: null,
    beats: {},
    replication: null,
    readiness: null,
  };
}

function quorumOfView(view: Record<string, unknown> | undefined): SiteStatus['quorum'] {
  const recorded = parseRecorded(view?.quorum);
  const since = view?.quorumSince;
  return recorded === undefined ? null : { ...recorded, since: typeof since === 'string' ? since : '' };
}

/** Both sites, each read from its own region, in parallel. */
export async function readClusterStatus(
  cluster: string,
  tables: readonly SiteTables[],
  nowMs: number,
): Promise<ClusterStatus> {
  const [sites, notices] = await Promise.all([
    Promise.all(tables.map((t) => readSite(t, nowMs))),
    readNotices(tables, nowMs),
  ]);
  return { cluster, atMs: nowMs, sites, notices, quorum: quorumStatus(sites), replication: replicationStatus(sites) };
}

/** Acknowledges notices in the journal: the ids given, or with `all` every unacknowledged one status shows. */
export async function acknowledgeNotices(
  tables: readonly SiteTables[],
  request: { ids: readonly string[]; all: boolean; site?: SiteId; by: string; note: string },
  nowMs: number,
): Promise<{ id: string; site: SiteId | null; outcome: 'acknowledged' | 'already' | 'unknown' }[]> {
  // Any replica takes the write (the journal is replicated): the first region that answers.
  const journal = await inFirstRegion(tables, request.site, async (j) => {
    await j.recent(request.site ?? 'production', 1, nowMs);
    return j;
  });
  const sites = request.site === undefined ? SITE_IDS : [request.site];
  const unacknowledged = async () =>
    (
      await Promise.all(
        sites.map(async (site) =>
          (await journal.recent(site, NOTICES_PER_SITE, nowMs))
            .filter((e) => e.acknowledged === undefined && severityOf(e.notice) !== 'info')
            .map((e) => ({ id: e.id, site })),
        ),
      )
    ).flat();
  const targets: { id: string; site?: SiteId }[] = request.all
    ? await unacknowledged()
    : request.ids.map((id) => ({ id }));
  const out: { id: string; site: SiteId | null; outcome: 'acknowledged' | 'already' | 'unknown' }[] = [];
  for (const target of targets) {
    let result: { id: string; site: SiteId | null; outcome: 'acknowledged' | 'already' | 'unknown' } = {
      id: target.id,
      site: null,
      outcome: 'unknown',
    };
    for (const site of target.site === undefined ? sites : [target.site]) {
      const outcome = await journal.acknowledge(site, target.id, request.by, request.note, nowMs);
      if (outcome !== 'unknown') {
        result = { id: target.id, site, outcome };
        break;
      }
    }
    out.push(result);
  }
  return out;
}

/** One notice from the journal, whole, as its topic delivered it: the failure notice shown at either site. */
export async function readNotice(
  tables: readonly SiteTables[],
  id: string,
  site?: SiteId,
): Promise<{ site: SiteId; entry: JournalEntry } | undefined> {
  return inFirstRegion(tables, site, async (journal) => {
    for (const s of site === undefined ? SITE_IDS : [site]) {
      const entry = await journal.get(s, id);
      if (entry !== undefined) return { site: s, entry };
    }
    return undefined;
  });
}
