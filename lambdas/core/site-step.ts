import { PhiAccrualDetector } from './detector';
import type { Health, Heartbeat } from './message';
import { gateOpen, type LeaseState, type LeaseTuning, silentForMs, type TakeoverDecision } from './lease';
import type { PathState, SiteVerdict } from './verdict';
import type { ClusterRecord } from './volume';
import { PATHS, type PathId, type PathMode, type SiteId, type Tuning } from './wire';

// The site core's inputs and outputs and its pure helpers (site.ts).

/**
 * A valid peer beat above the record in force fences a site when it claims primary, or when the site's own record
 * names the site, whatever the beat's role (a site promoted there beats as secondary while it waits out the old
 * lease); a secondary beat ahead of a record naming the peer fences nothing (this site may be the one promoted there).
 * The record in force from then on (the role decision uses it too), or undefined.
 */
export function fenceOf(
  beat: Heartbeat | undefined,
  cluster: ClusterRecord,
  site: SiteId,
  fencedEpoch: number,
): ClusterRecord | undefined {
  if (beat === undefined || beat.epoch <= Math.max(cluster.epoch, fencedEpoch)) return undefined;
  return beat.role === 'primary' || cluster.primary === site ? { epoch: beat.epoch, primary: beat.site } : undefined;
}

/** The record a site acts on: the one it read, unless a fence beat it heard (fenceOf) is ahead of it. */
export const inForceOf = (record: ClusterRecord, fencedBy: ClusterRecord | undefined): ClusterRecord =>
  fencedBy !== undefined && fencedBy.epoch > record.epoch ? fencedBy : record;

/** What one tick learned of the peer on one path. */
export interface PeerRead {
  /** Arrival of the last valid beat recorded, when the read succeeded and one exists. */
  readonly arrivedAtMs?: number;
  /** That beat, for its health and role. */
  readonly beat?: Heartbeat;
  readonly unreadable: boolean;
  readonly invalid?: string;
}

/**
 * Arrival stamps as this site's clock can use them. The network receiver stamps a beat's arrival
 * on its own wall clock, another host's; a stamp later than this site's now cannot be true (the
 * beat is being read), so the beat counts as arrived at the read that first saw it, for as long
 * as it is the last one. Otherwise a module whose clock is behind the receiver's sees a dead peer
 * alive for as long as the difference (the fault search: a standby container 33 s behind).
 */
export class ArrivalStamps {
  private readonly seen: Partial<Record<PathId, { readonly stamp: number; readonly atMs: number }>> = {};

  own(path: PathId, read: PeerRead, nowMs: number): PeerRead {
    const stamp = read.arrivedAtMs;
    const seen = this.seen[path];
    if (stamp !== undefined && seen?.stamp === stamp) return { ...read, arrivedAtMs: seen.atMs };
    if (stamp === undefined || stamp <= nowMs) return read;
    this.seen[path] = { stamp, atMs: nowMs };
    return { ...read, arrivedAtMs: nowMs };
  }
}

/** A peer beat claimed primary at a higher epoch: the epoch this site is fenced at, newly (SiteCore.heard). */
export interface FencedAt {
  readonly epoch: number;
  readonly via: PathId;
}

/** What the check half of a tick decided. */
export interface Checked {
  readonly states: Readonly<Record<PathId, PathState>>;
  readonly phi: Readonly<Record<PathId, number>>;
  /** Whether a valid beat from the peer arrived on the path since the last tick. */
  readonly arrived: Readonly<Record<PathId, boolean>>;
  readonly deadlineMs: Readonly<Record<PathId, number>>;
  /** The last valid arrival each detector counts, if any. */
  readonly lastArrivalMs: Readonly<Partial<Record<PathId, number>>>;
  readonly verdict: SiteVerdict;
  readonly peerHealth: Health | undefined;
  readonly takeover: TakeoverDecision;
  /**
   * The next instant (wall) at which, with nothing new read, a decision would change: a path
   * passing its deadline, the confirmation window ending, the lease gate opening. The module
   * checks again then when it comes before its next tick, so detection is not rounded up to
   * the tick (docs/ARCHITECTURE.md, "Detection").
   */
  readonly wakeAtMs: number | undefined;
}

/**
 * Whether the heartbeat module checks between two ticks at `wakeAtMs` (Checked.wakeAtMs): when
 * that comes at least a quarter interval before the next tick; closer, the tick decides.
 */
export function checkBefore(
  wakeAtMs: number | undefined,
  nextTickAtMs: number,
  intervalMs: number,
): wakeAtMs is number {
  return wakeAtMs !== undefined && wakeAtMs <= nextTickAtMs - intervalMs / 4;
}

/**
 * Within one episode of a lost peer, a failover is attempted again after one lease: a fence or
 * promotion that failed is retried before the old primary's lease could have been renewed twice
 * over, so no failure of one attempt leaves the cluster without a primary for long. An attempt
 * still running is not duplicated (lambdas/heartbeat-module/module.ts, startFailover).
 */
export const failoverRetryMs = (t: LeaseTuning): number => t.leaseMs;

/**
 * How long every path must stay failed before the peer counts as lost. Two-region mode tells
 * a crash from a partition: when both paths are in use and the last beats they carried were
 * sent within one and a half intervals of each other (by the peer's own clock: two send times
 * of one sender), the peer stopped on both at once, as a crash does, and one interval of
 * confirmation is enough; when one path fell silent earlier, the partition that took it may
 * be spreading, and the whole window applies. (A site cut off from everything looks like a
 * crash either way; in two-region mode a person approves the failover by default.)
 */
export function confirmationMsOf(
  tuning: Tuning,
  modes: Readonly<Record<PathId, PathMode>>,
  lastBeat: Readonly<Partial<Record<PathId, Heartbeat>>>,
): number {
  const window = tuning.confirmationWindowSeconds * 1000;
  if (tuning.consistency === 'strong' || PATHS.some((p) => modes[p] !== 'enabled')) return window;
  const [a, b] = PATHS.map((p) => lastBeat[p]).map((beat) => (beat === undefined ? NaN : Date.parse(beat.sentAt)));
  const together = Math.abs((a as number) - (b as number)) <= 1.5 * tuning.intervalSeconds * 1000;
  return together ? Math.min(window, tuning.intervalSeconds * 1000) : window;
}

/**
 * Quorum mode: the peer the record names primary beats, on a path that is alive, that it is
 * secondary at the record's epoch, with no handover asked: it lost its lease. Such a beat is no
 * valid primary heartbeat; once that has held for the confirmation window and one interval more
 * (a fresh container's first beat before its first renewal never pages), the verdict is
 * `peer-stepped-down`: the trigger, as `peer-lost` is; the lease gate still decides when the
 * takeover may start. In two-region mode a beat as secondary proves nothing about the lease.
 */
export function steppedDownOf(
  tuning: Tuning,
  peer: SiteId,
  verdict: SiteVerdict,
  live: Heartbeat | undefined,
  cluster: ClusterRecord,
): boolean {
  return (
    tuning.consistency === 'strong' &&
    (verdict === 'ok' || verdict === 'degraded') &&
    cluster.primary === peer &&
    cluster.handover === undefined &&
    live !== undefined &&
    live.role === 'secondary' &&
    live.epoch >= cluster.epoch
  );
}

/**
 * Checked.wakeAtMs: the earliest future instant at which a path would fail (one millisecond past
 * its deadline: verdict.ts, pathState), the confirmation window would end, the gate would open, or
 * the standby reads the record a second time (it sees each renewal within half an interval).
 */
export function wakeAtOf(w: {
  readonly states: Readonly<Record<PathId, PathState>>;
  readonly deadlineMs: Readonly<Record<PathId, number>>;
  readonly lastArrivalMs: Readonly<Partial<Record<PathId, number>>>;
  readonly windowEndsAtMs: number | undefined;
  readonly gateAtMs: number | undefined;
  readonly secondReadAtMs: number | undefined;
  readonly nowMs: number;
}): number | undefined {
  // The guards on undefined are for the type: an undefined or NaN candidate is never `> nowMs` either.
  const at: number[] = [];
  for (const path of PATHS) {
    const last = w.lastArrivalMs[path];
    if (last !== undefined && (w.states[path] === 'healthy' || w.states[path] === 'suspect'))
      at.push(last + w.deadlineMs[path] + 1);
  }
  for (const t of [w.windowEndsAtMs, w.gateAtMs, w.secondReadAtMs]) if (t !== undefined) at.push(t);
  const future = at.filter((t) => t > w.nowMs);
  return future.length === 0 ? undefined : Math.min(...future);
}

/** What a site acting as primary saw of a second primary (twoPrimariesOf). */
export interface TwoPrimaries {
  readonly path: PathId;
  readonly serial: number;
  readonly epoch: number;
  readonly sentAt: string;
}

/**
 * Two primaries, as a site acting as primary can see them: a valid beat of the peer that arrived since the last look
 * claims primary at the epoch of the record this site acts on. (At a higher epoch the peer fenced this site, which
 * steps down; a beat of an older epoch is refused as stale.) Only a fault outside the protocol makes it — two
 * promotions at one epoch — so it is critical, and the stop condition of a game day.
 */
export function twoPrimariesOf(
  cluster: ClusterRecord,
  reads: Readonly<Record<PathId, PeerRead>>,
  arrived: Readonly<Record<PathId, boolean>>,
  peer: SiteId,
): TwoPrimaries | undefined {
  for (const path of PATHS) {
    const beat = reads[path].beat;
    if (arrived[path] && beat?.site === peer && beat.role === 'primary' && beat.epoch === cluster.epoch)
      return { path, serial: beat.serial, epoch: beat.epoch, sentAt: beat.sentAt };
  }
  return undefined;
}

/** The peer's newest valid beat on a path that has not failed. */
export function newestLiveBeatOf(
  states: Readonly<Record<PathId, PathState>>,
  lastBeat: Readonly<Partial<Record<PathId, Heartbeat>>>,
): Heartbeat | undefined {
  let newest: Heartbeat | undefined;
  for (const path of PATHS) {
    const beat = lastBeat[path];
    if (beat === undefined || (states[path] !== 'healthy' && states[path] !== 'suspect')) continue;
    if (newest === undefined || beat.serial > newest.serial) newest = beat;
  }
  return newest;
}

/**
 * Why a site that does not act as primary can see that no site does now, or undefined when one
 * may. Sound by construction, so the alarm on it does not cry wolf. Quorum mode, the record read
 * through a majority: the record names this site and it does not act, or names the peer and the
 * peer's lease ran out (its renewals stopped a lease and the margin ago). Two-region mode, where
 * a lost peer may be primary behind the partition: only a fresh beat of the peer (`live`) at the
 * record's epoch saying it is secondary too.
 */
export function noPrimaryOf(
  c: {
    readonly tuning: Tuning;
    readonly leaseTuning: LeaseTuning;
    readonly lease: LeaseState;
    readonly site: SiteId;
    readonly peer: SiteId;
    readonly recordRead: boolean;
    readonly roleWhy: string;
    readonly live: Heartbeat | undefined;
  },
  cluster: ClusterRecord,
  nowMs: number,
  monoMs: number,
): string | undefined {
  if (c.tuning.consistency === 'strong') {
    if (!c.recordRead) return undefined;
    if (cluster.primary === c.site)
      return `the cluster record names ${c.site} primary at epoch ${cluster.epoch}, but it does not act as primary: ${c.roleWhy}`;
    if (!gateOpen(c.lease, c.leaseTuning, cluster, monoMs)) return undefined;
    return `${cluster.primary}'s lease at epoch ${cluster.epoch} ran out ${Math.round(silentForMs(c.lease, cluster, monoMs) / 1000)} s ago and no site has taken over`;
  }
  const live = c.live;
  if (live === undefined || live.role !== 'secondary' || live.epoch < cluster.epoch) return undefined;
  const ageMs = nowMs - Date.parse(live.sentAt);
  if (ageMs > 2 * c.tuning.intervalSeconds * 1000) return undefined;
  return `${c.site} and ${c.peer} both beat as secondary at epoch ${cluster.epoch} (its beat of ${(ageMs / 1000).toFixed(1)} s ago)`;
}

/** A path's failure detector, as the site's tuning sets it. */
export const detectorOf = (t: Tuning): PhiAccrualDetector =>
  new PhiAccrualDetector({
    intervalMs: t.intervalSeconds * 1000,
    phiThreshold: t.phiThreshold,
    floorMs: t.deadlineFloorSeconds * 1000,
    ceilingMs: t.deadlineCeilingSeconds * 1000,
  });
