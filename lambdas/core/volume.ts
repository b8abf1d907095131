import type { PathId, PathMode, SiteId } from './wire';

/**
 * Item layout of the two tables. Both use a string partition key `pk` and sort key `sk`.
 *
 * Heartbeat volume (global table, replicated — the remote mirror):
 *   BEAT     / <site>            the site's latest storage-path beat (PVOL in its own region, SVOL at the peer)
 *   PATH     / <site>#<path>     the path registry: mode of one path at one site
 *   CLUSTER  / CLUSTER           { epoch, primary, lease, promotedAt, actAfterMs, handover? } (lease: the primary's
 *                                renewal count; handover: a switchover in progress). In quorum mode the one item
 *                                whose strong reads and conditional writes need a majority of the three regions.
 *   VIEW     / <site>            the site's current verdict on its peer, and since when
 *   STATE    / <site>#<path>     the site's current state of one path of its peer, and since when
 *   LEASE    / <site>            two-region mode: the site's lease renewals, written by that site alone (a renewal of
 *                                the cluster record itself would race the fence under last-writer-wins replication)
 *   FENCE    / <epoch>           who was fenced by the promotion to that epoch
 *   COMMAND  / <to site>#<id>    a path-control request command for the peer (the storage-path copy)
 *   ACK      / <id>              the peer's acknowledgement of a request command
 *   NOTICE   / <site>#<id>       the site's notice journal: each notice, its delivery and its acknowledgement
 *                                (replicated, so either region shows both sites' notices)
 *   FOLD     / <site>#<kind>#<path or site>  the rate-limit window of one notice kind and path
 *   MAINTENANCE / MAINTENANCE  maintenance mode: { on, reason, by, sinceMs }, written by `mirrorbeat maintenance`
 *                              into both replicas (it holds automatic failover and self-fencing)
 *
 * Observations (site-local, never replicated):
 *   SERIAL   / <site>            this site's beat serial counter
 *   OBSERVED / <path>#<peer>     the last valid beat received from the peer on a path, with its arrival time
 *   INVALID  / <path>#<reason>   invalid beats counted per path and reason
 */
export const KEY = { pk: 'pk', sk: 'sk' } as const;
export const TTL_ATTRIBUTE = 'expiresAt';

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export const beatKey = (site: SiteId): ItemKey => ({ pk: 'BEAT', sk: site });
export const pathKey = (site: SiteId, path: PathId): ItemKey => ({ pk: 'PATH', sk: `${site}#${path}` });
export const clusterKey = (): ItemKey => ({ pk: 'CLUSTER', sk: 'CLUSTER' });
export const viewKey = (site: SiteId): ItemKey => ({ pk: 'VIEW', sk: site });
export const stateKey = (site: SiteId, path: PathId): ItemKey => ({ pk: 'STATE', sk: `${site}#${path}` });
export const leaseKey = (site: SiteId): ItemKey => ({ pk: 'LEASE', sk: site });
export const fenceKey = (epoch: number): ItemKey => ({ pk: 'FENCE', sk: String(epoch).padStart(12, '0') });

export const commandKey = (to: SiteId, id: string): ItemKey => ({ pk: 'COMMAND', sk: `${to}#${id}` });
export const ackKey = (id: string): ItemKey => ({ pk: 'ACK', sk: id });

export const noticeKey = (site: SiteId, id: string): ItemKey => ({ pk: 'NOTICE', sk: `${site}#${id}` });
export const foldKey = (site: SiteId, kind: string, scope: string): ItemKey => ({
  pk: 'FOLD',
  sk: `${site}#${kind}#${scope}`,
});

export const serialKey = (site: SiteId): ItemKey => ({ pk: 'SERIAL', sk: site });
export const maintenanceKey = (): ItemKey => ({ pk: 'MAINTENANCE', sk: 'MAINTENANCE' });

/**
 * Maintenance mode, as an operator set it: while on, no automatic failover starts and a
 * two-region self-fence primary does not step down for a silent standby. The quorum lease
 * is not touched: a primary that cannot reach a majority still stops acting.
 */
export interface Maintenance {
  readonly on: boolean;
  readonly reason: string;
  readonly by: string;
  /** When it was switched on or off (the operator's clock). */
  readonly sinceMs: number;
}

/** The maintenance item as read, checked field by field; anything else is maintenance off. */
export function maintenanceOf(item: Readonly<Record<string, unknown>> | undefined): Maintenance | undefined {
  if (item === undefined || typeof item.on !== 'boolean' || typeof item.sinceMs !== 'number') return undefined;
  return {
    on: item.on,
    reason: typeof item.reason === 'string' ? item.reason : '',
    by: typeof item.by === 'string' ? item.by : 'unknown',
    sinceMs: item.sinceMs,
  };
}
export const observationKey = (path: PathId, peer: SiteId): ItemKey => ({ pk: 'OBSERVED', sk: `${path}#${peer}` });
/** In the observations table: the AWS Health events about DynamoDB in the witness region still open. */
export const witnessKey = (): ItemKey => ({ pk: 'OBSERVED', sk: 'witness' });
export const invalidKey = (path: PathId, reason: string): ItemKey => ({ pk: 'INVALID', sk: `${path}#${reason}` });

/**
 * The lowest serial a beat sent at `nowMs` may carry: the send time in ms. Serials are
 * usually exactly that, so they survive a lost counter; the counter only breaks ties.
 */
export const serialFloor = (nowMs: number): number => Math.floor(nowMs);

export interface ClusterRecord {
  readonly epoch: number;
  readonly primary: SiteId;
  /**
   * The primary's renewal count: every renewal and every promotion raises it, so a takeover can name the one it saw.
   */
  readonly lease?: number;
  /**
   * How long the promoted site waits after seeing its promotion before it acts (the old primary's lease); absent: at
   * once.
   */
  readonly actAfterMs?: number;
  /** When the fence step promoted the primary to this epoch (its own clock); absent for the first primary. */
  readonly promotedAtMs?: number;
  /**
   * When the verify step confirmed that promotion complete; a failover started again for this epoch then does nothing.
   */
  readonly verifiedAtMs?: number;
  /** This epoch came from a switchover: the old primary confirmed it stopped before the fence. */
  readonly handedOver?: boolean;
  /**
   * This epoch came from an automatic takeover through the lease gate: the old primary was lost to the promoted site.
   */
  readonly gated?: boolean;
  /** A planned switchover asked the primary to hand over to `to` at this epoch. */
  readonly handover?: Handover;
}

/**
 * A switchover's request to the primary: stop acting as primary, then say so. The primary
 * writes `drainedAtMs` only after it stopped; that write reaching the target's replica is
 * the round trip through the replication link that the switchover waits for.
 */
export interface Handover {
  readonly to: SiteId;
  readonly execution: string;
  readonly requestedAtMs: number;
  readonly drainedAtMs?: number;
}

/** Before anyone wrote the cluster record, production is primary at epoch 1. */
export const INITIAL_CLUSTER: ClusterRecord = { epoch: 1, primary: 'production' };

export interface PathRegistryEntry {
  readonly mode: PathMode;
  readonly changedBy: string;
  readonly changedAt: string;
  readonly reason: string;
}

/** A path nobody registered yet is enabled: a fresh deployment protects on both paths. */
export const DEFAULT_PATH_MODE: PathMode = 'enabled';

/** Maintenance mode in words, for holds and notices. */
export function maintenanceWhy(m: Maintenance): string {
  return `maintenance mode since ${new Date(m.sinceMs).toISOString()} by ${m.by}${m.reason === '' ? '' : ` (${m.reason})`}`;
}
