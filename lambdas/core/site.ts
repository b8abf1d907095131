import { PhiAccrualDetector } from './detector';
import {
  type ClockState,
  FRESH_CLOCK,
  FRESH_LEASE,
  gateOpen,
  gateOpensAtMono,
  handoverExpiryMs,
  handoverSeen,
  type LeaseState,
  leaseTuningOf,
  type LeaseTuning,
  newInvocation,
  promotionSeen,
  readClock,
  renewalRefused,
  renewed,
  type RoleDecision,
  roleOf,
  silentForMs,
  takeover,
  type TakeoverDecision,
  watched,
} from './lease';
import type { Health, Heartbeat } from './message';
import { allCountedPathsFailed, pathState, type PathState, siteVerdict, type SiteVerdict } from './verdict';
import { type ClusterRecord, type Handover, INITIAL_CLUSTER, type Maintenance, maintenanceWhy } from './volume';
import { PATHS, type PathId, type PathMode, type SiteId, type Tuning } from './wire';

/**
 * A site's decisions, as one deterministic state machine with no I/O (etcd-io/raft's
 * `Step`/`Ready` is the model): the heartbeat module reads the tables and the clocks, hands
 * what it read to these steps, and performs what they decide — the beat's role, the
 * renewal, the path states and verdict to record, the failover to start. Time enters only as
 * arguments. The local runtime drives it through the module; the in-memory property world
 * (local/lease-world.ts) drives its lease functions directly.
 */

/** What one tick learned of the peer on one path. */
export interface PeerRead {
  /** Arrival of the last valid beat recorded, when the read succeeded and one exists. */
  readonly arrivedAtMs?: number;
  /** That beat, for its health and role. */
  readonly beat?: Heartbeat;
  readonly unreadable: boolean;
  readonly invalid?: string;
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
  /** A valid peer beat claimed primary at a higher epoch: the epoch this site is fenced at, newly. */
  readonly fencedAt?: { readonly epoch: number; readonly via: PathId };
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
 * Two-region self-fence: where a primary may act without its peer's word at its epoch. Before any
 * promotion (a first deployment: the standby may not be there yet), and after a takeover through
 * the lease gate, whose old primary was lost to the promoted site and, if alive, fenced itself for
 * want of acknowledgements before the promotion. Not after a switchover or a person's failover: that
 * old primary knows it is secondary and may take over itself if this site falls silent.
 */
function mayActUnheard(cluster: ClusterRecord): boolean {
  return cluster.gated === true || (cluster.epoch === INITIAL_CLUSTER.epoch && cluster.promotedAtMs === undefined);
}

export class SiteCore {
  readonly leaseTuning: LeaseTuning;
  private lease: LeaseState = FRESH_LEASE;
  private clock: ClockState = FRESH_CLOCK;
  private cached: ClusterRecord | undefined;
  /** A higher epoch the peer's valid beats claimed primary at, before this site's replica shows it. */
  private fencedBy: ClusterRecord | undefined;
  private allFailedSinceMs: number | undefined;
  private readonly detectors: Record<PathId, PhiAccrualDetector>;
  readonly modes: Record<PathId, PathMode> = { network: 'enabled', storage: 'enabled' };
  /** Per path, arrivals at or before this time do not count (set when the path came into use). */
  private readonly countFromMs: Partial<Record<PathId, number>> = {};
  private readonly lastBeat: Partial<Record<PathId, Heartbeat>> = {};
  private failoverAttempt: { epoch: number; atMono: number } | undefined;
  /** Whether the last read of the cluster record succeeded. */
  private recordRead = false;
  /** Whether a read of the cluster record succeeded in this invocation: a site decides its role only from state read in it. */
  private readInInvocation = false;
  /** This container's own beats, oldest first: serial and send time on its monotonic clock (the self-fence lease runs from them). */
  private readonly sends: { readonly serial: number; readonly sentMono: number }[] = [];
  /** The highest serial of this site's beats that the peer acknowledged in a beat confirming this site as primary. */
  private acked: number | undefined;
  /** The highest serial of the peer's valid beats this site accepted: what its own beats echo as `ack`. */
  private accepted: number | undefined;
  /** The highest epoch at which the peer's beats acknowledged anything. */
  private acknowledgedAtEpoch = 0;
  /**
   * The peer's first beat this container read at the highest epoch it beat at, and when it arrived
   * (this site's clock): until the peer acknowledges something at the current epoch (it has just
   * started and not yet heard this site), the self-fence lease runs from that arrival — once, never
   * renewed by more beats that acknowledge nothing. A peer never heard at the current epoch (a first
   * deployment; an old primary, fenced, that has not beaten since the promotion) leaves a primary acting.
   */
  private firstHeard: { readonly epoch: number; readonly arrivedAtMs: number } | undefined;
  /** This container's first beat at the epoch it beats at now: the peer must acknowledge it (unheardSincePromotion). */
  private firstSentAtEpoch: { readonly epoch: number; readonly serial: number } | undefined;
  /** The highest serial the peer's beats at the highest epoch they carried acknowledged. */
  private peerAckAtEpoch: { readonly epoch: number; readonly ack: number } | undefined;
  /** Whether the peer's beats were read in this invocation (two-region self-fence decides on them). */
  private peerReadInInvocation = false;
  /** Whether this container's last role decision was to act as primary (maintenance may only keep it so). */
  private acting = false;
  /** Since when a live peer beat has said the peer stepped down from primary (quorum mode). */
  private steppedDownSinceMs: number | undefined;
  /** Why the last role decision came out as it did. */
  roleWhy = '';
  /** Maintenance mode as last read (lambdas/core/volume.ts); undefined: never set. */
  maintenance: Maintenance | undefined;

  constructor(
    private readonly tuning: Tuning,
    readonly site: SiteId,
    readonly peer: SiteId,
  ) {
    this.detectors = { network: this.newDetector(), storage: this.newDetector() };
    this.leaseTuning = leaseTuningOf(tuning);
  }

  private newDetector(): PhiAccrualDetector {
    const t = this.tuning;
    return new PhiAccrualDetector({
      intervalMs: t.intervalSeconds * 1000,
      phiThreshold: t.phiThreshold,
      floorMs: t.deadlineFloorSeconds * 1000,
      ceilingMs: t.deadlineCeilingSeconds * 1000,
    });
  }

  /** A new invocation: a lease held before it counts no more (the container may have been frozen). */
  newInvocation(): void {
    this.lease = newInvocation(this.lease);
    this.readInInvocation = false;
    this.peerReadInInvocation = false;
  }

  /** Whether a two-region self-fence site must read the peer's beats (heard) before its first role decision in this invocation. */
  get needsPeerRead(): boolean {
    return this.selfFences && !this.peerReadInInvocation;
  }

  private get selfFences(): boolean {
    return this.tuning.consistency === 'eventual' && this.tuning.isolationPolicy === 'self-fence';
  }

  /**
   * The peer's last beats as the tables hold them, read before the first role decision of an
   * invocation: what they acknowledge, without a check (the tick's own check follows).
   */
  heard(reads: Readonly<Record<PathId, PeerRead>>, cluster: ClusterRecord): void {
    for (const path of PATHS) {
      const read = reads[path];
      if (read.beat !== undefined) this.acknowledged(read.beat, read.arrivedAtMs, cluster);
    }
    this.peerReadInInvocation = true;
  }

  /** The wall clock, corrected for jumps the monotonic clock did not see. */
  readClock(wallMs: number, monoMs: number): { nowMs: number; jumpMs?: number; correctionMs: number } {
    const out = readClock(this.clock, wallMs, monoMs, this.tuning.deadlineCeilingSeconds * 1000);
    this.clock = out.state;
    return {
      nowMs: out.nowMs,
      correctionMs: out.state.correctionMs,
      ...(out.jumpMs === undefined ? {} : { jumpMs: out.jumpMs }),
    };
  }

  get correctionMs(): number {
    return this.clock.correctionMs;
  }

  /**
   * The cluster record as this site must act on it: the one just read (undefined when the read
   * failed: the last one read stands), unless a valid peer beat already claimed primary at a
   * higher epoch — the fence message on the network path.
   */
  clusterRead(record: ClusterRecord | undefined, monoMs: number): ClusterRecord {
    this.recordRead = record !== undefined;
    if (record !== undefined) {
      this.cached = record;
      this.readInInvocation = true;
      // Only a record actually read moves the watch: an unreadable one (no majority) shows no renewal, but proves no silence either.
      this.lease = promotionSeen(watched(this.lease, record, monoMs), record, this.site, monoMs);
      this.lease = handoverSeen(this.lease, record, this.site, monoMs);
    }
    const current = this.cached ?? INITIAL_CLUSTER;
    return this.fencedBy !== undefined && this.fencedBy.epoch > current.epoch ? this.fencedBy : current;
  }

  /** Whether the cluster record in force is the peer's fence beat, ahead of this site's replica. */
  fencedByBeat(cluster: ClusterRecord): boolean {
    return cluster === this.fencedBy;
  }

  /** Whether this site should renew the lease now: the record names it and asks no handover. */
  shouldRenew(cluster: ClusterRecord): boolean {
    return cluster.primary === this.site && cluster.handover?.to !== this.peer && !this.fencedByBeat(cluster);
  }

  /**
   * The switchover's handover request this primary has drained for longer than the expiry
   * (lambdas/core/lease.ts, handoverExpiryMs) without the standby fencing: the module takes it back
   * with a conditional write, and the old roles resume. Undefined while none has expired.
   */
  expiredHandover(cluster: ClusterRecord, monoMs: number): Handover | undefined {
    const asked = cluster.primary === this.site ? cluster.handover : undefined;
    const seen = this.lease.handover;
    if (asked === undefined || seen === undefined || seen.execution !== asked.execution) return undefined;
    return monoMs - seen.seenAtMono >= handoverExpiryMs(this.leaseTuning, this.tuning) ? asked : undefined;
  }

  /** The renewal that started at `startedAtMono` answered (a failed one changes nothing: the lease runs down). */
  renewal(outcome: 'renewed' | 'refused', epoch: number, startedAtMono: number): void {
    this.lease = outcome === 'renewed' ? renewed(this.lease, epoch, startedAtMono) : renewalRefused(this.lease);
  }

  /** Whether this site acts as primary now (lambdas/core/lease.ts, roleOf). */
  role(cluster: ClusterRecord, nowMs: number, monoMs: number): RoleDecision {
    const decision = this.decideRole(cluster, nowMs, monoMs);
    this.roleWhy = decision.why;
    this.acting = decision.role === 'primary';
    return decision;
  }

  private decideRole(cluster: ClusterRecord, nowMs: number, monoMs: number): RoleDecision {
    if (!this.readInInvocation) return { role: 'secondary', why: 'has not read the cluster record in this invocation' };
    if (this.needsPeerRead) return { role: 'secondary', why: "has not read the peer's beats in this invocation" };
    const beats = PATHS.filter((p) => this.modes[p] === 'enabled')
      .map((p) => this.lastBeat[p])
      .filter((b): b is Heartbeat => b !== undefined);
    return roleOf(this.lease, this.leaseTuning, {
      site: this.site,
      peer: this.peer,
      record: cluster,
      nowMono: monoMs,
      ackedSentMono: this.ackedSentMono(cluster, nowMs, monoMs),
      peerSeen:
        (this.firstHeard?.epoch ?? 0) >= cluster.epoch ||
        this.acknowledgedAtEpoch >= cluster.epoch ||
        !mayActUnheard(cluster),
      peerSteppedDown: beats.some((b) => b.epoch >= cluster.epoch && b.role === 'secondary'),
      maintenance: this.maintenance?.on === true && this.acting,
    });
  }

  /** This site sent (or is sending) its beat `serial` at `monoMs`: the self-fence lease may run from it once the peer acknowledges it. */
  beatSent(serial: number, monoMs: number, epoch: number): void {
    this.sends.push({ serial, sentMono: monoMs });
    if ((this.firstSentAtEpoch?.epoch ?? 0) < epoch) this.firstSentAtEpoch = { epoch, serial };
    // Far more than two leases of beats at the shortest interval; the oldest go first.
    if (this.sends.length > 256) this.sends.shift();
  }

  /** The highest serial of the peer's valid beats accepted so far: the `ack` this site's next beat carries. */
  get ack(): number | undefined {
    return this.accepted;
  }

  /**
   * The own-mono send time of the newest beat of this site the peer acknowledged. A beat of an
   * earlier container of this site is found by its serial, which is its send time on this site's
   * (corrected) wall clock (volume.ts, serialFloor): its age on that clock, if not in the future.
   */
  private ackedSentMono(cluster: ClusterRecord, nowMs: number, monoMs: number): number | undefined {
    const acked = this.acked;
    const onWall = (atMs: number) => (atMs <= nowMs ? monoMs - (nowMs - atMs) : undefined);
    if (this.acknowledgedAtEpoch < cluster.epoch || acked === undefined) {
      const heard = this.firstHeard;
      return heard !== undefined && heard.epoch >= cluster.epoch ? onWall(heard.arrivedAtMs) : undefined;
    }
    const own = this.sends.find((s) => s.serial === acked);
    if (own !== undefined) return own.sentMono;
    const first = this.sends[0];
    if (first !== undefined && acked > first.serial) return undefined;
    return onWall(acked);
  }

  /**
   * A path that comes (back) into use starts from nothing: it counts only from the peer's
   * first valid beat after now, so a beat from before it was switched off can never make it
   * look failed (seed claim 19: count the mirror only once the peer has beaten on it).
   */
  setMode(path: PathId, mode: PathMode, nowMs: number): void {
    if (mode === 'enabled' && this.modes[path] !== 'enabled') {
      this.detectors[path] = this.newDetector();
      this.countFromMs[path] = nowMs;
      delete this.lastBeat[path];
    }
    this.modes[path] = mode;
  }

  /** The check half of a tick: path states, verdict, and whether to start a failover (the trigger through the gate). */
  check(reads: Readonly<Record<PathId, PeerRead>>, cluster: ClusterRecord, nowMs: number, monoMs: number): Checked {
    const states = {} as Record<PathId, PathState>;
    const phi = {} as Record<PathId, number>;
    const arrived = {} as Record<PathId, boolean>;
    const deadlineMs = {} as Record<PathId, number>;
    const lastArrivalMs: Partial<Record<PathId, number>> = {};
    let fencedAt: Checked['fencedAt'];
    for (const path of PATHS) {
      const read = reads[path];
      const detector = this.detectors[path];
      const counts = read.arrivedAtMs !== undefined && read.arrivedAtMs > (this.countFromMs[path] ?? -Infinity);
      arrived[path] = counts && (detector.lastArrivalMs === undefined || read.arrivedAtMs > detector.lastArrivalMs);
      // A failed read keeps what the detector knew, so the path ages instead of vanishing.
      // A beat from before the path came (back) into use says nothing about it now.
      if (counts) detector.heartbeat(read.arrivedAtMs);
      // A fresh container learns the peer's last beats from the tables (two-region self-fence judges them by send time).
      if (read.beat !== undefined && counts && (arrived[path] || this.lastBeat[path] === undefined))
        this.lastBeat[path] = read.beat;
      if (
        read.beat !== undefined &&
        arrived[path] &&
        read.beat.role === 'primary' &&
        read.beat.epoch > cluster.epoch &&
        read.beat.epoch > (this.fencedBy?.epoch ?? 0)
      ) {
        this.fencedBy = { epoch: read.beat.epoch, primary: read.beat.site };
        fencedAt = { epoch: read.beat.epoch, via: path };
      }
      if (read.beat !== undefined) this.acknowledged(read.beat, read.arrivedAtMs, cluster);
      this.peerReadInInvocation = true;
      if (detector.lastArrivalMs !== undefined) lastArrivalMs[path] = detector.lastArrivalMs;
      deadlineMs[path] = detector.deadlineMs();
      phi[path] = detector.phi(nowMs);
      states[path] = pathState(
        { path, mode: this.modes[path], lastValidArrivalMs: detector.lastArrivalMs, unreadable: read.unreadable },
        nowMs,
        deadlineMs[path],
        this.tuning.intervalSeconds * 1000,
      );
    }
    const pathStates = PATHS.map((p) => states[p]);
    this.allFailedSinceMs = allCountedPathsFailed(pathStates) ? (this.allFailedSinceMs ?? nowMs) : undefined;
    const live = this.newestLiveBeat(states);
    const peerHealth = live?.health;
    const verdict = this.steppedDown(
      siteVerdict(pathStates, peerHealth === 'failed', this.allFailedSinceMs, nowMs, this.confirmationMs()),
      live,
      cluster,
      nowMs,
    );
    return {
      states,
      phi,
      arrived,
      deadlineMs,
      lastArrivalMs,
      verdict,
      peerHealth,
      ...(fencedAt === undefined ? {} : { fencedAt }),
      takeover: this.takeover(verdict, cluster, monoMs),
      wakeAtMs: this.wakeAt(states, deadlineMs, cluster, nowMs, monoMs),
    };
  }

  /** A valid peer beat: its serial is accepted, and its `ack` counts when it confirms this site (secondary, not ahead). */
  private acknowledged(beat: Heartbeat, arrivedAtMs: number | undefined, cluster: ClusterRecord): void {
    this.accepted = Math.max(this.accepted ?? 0, beat.serial);
    const heard = this.firstHeard;
    if (arrivedAtMs !== undefined && (heard === undefined || beat.epoch > heard.epoch))
      this.firstHeard = { epoch: beat.epoch, arrivedAtMs };
    else if (
      arrivedAtMs !== undefined &&
      heard !== undefined &&
      beat.epoch === heard.epoch &&
      arrivedAtMs < heard.arrivedAtMs
    )
      this.firstHeard = { epoch: beat.epoch, arrivedAtMs };
    if (beat.ack !== undefined) this.acknowledgedAtEpoch = Math.max(this.acknowledgedAtEpoch, beat.epoch);
    const known = this.peerAckAtEpoch;
    if (beat.ack !== undefined && (known === undefined || beat.epoch > known.epoch || beat.ack > known.ack))
      this.peerAckAtEpoch = {
        epoch: Math.max(beat.epoch, known?.epoch ?? 0),
        ack: Math.max(beat.ack, known?.ack ?? 0),
      };
    if (beat.ack !== undefined && beat.role === 'secondary' && beat.epoch <= cluster.epoch)
      this.acked = Math.max(this.acked ?? 0, beat.ack);
  }

  /**
   * Quorum mode: the peer the record names primary beats, on a path that is alive, that it is
   * secondary at the record's epoch, with no handover asked — it lost its lease. Such a beat is no
   * valid primary heartbeat, so once that has held for the confirmation window and one interval
   * more (a fresh container's first beat before its first renewal never pages), the verdict is
   * `peer-stepped-down`: the trigger, as `peer-lost` is; the lease gate still decides when the
   * takeover may start. In two-region mode a beat as secondary proves nothing about the lease.
   */
  private steppedDown(
    verdict: SiteVerdict,
    live: Heartbeat | undefined,
    cluster: ClusterRecord,
    nowMs: number,
  ): SiteVerdict {
    const down =
      this.tuning.consistency === 'strong' &&
      (verdict === 'ok' || verdict === 'degraded') &&
      cluster.primary === this.peer &&
      cluster.handover === undefined &&
      live !== undefined &&
      live.role === 'secondary' &&
      live.epoch >= cluster.epoch;
    this.steppedDownSinceMs = down ? (this.steppedDownSinceMs ?? nowMs) : undefined;
    const confirmMs = this.confirmationMs() + this.tuning.intervalSeconds * 1000;
    return down && nowMs - (this.steppedDownSinceMs ?? nowMs) >= confirmMs ? 'peer-stepped-down' : verdict;
  }

  /**
   * How long every path must stay failed before the peer counts as lost. Two-region mode tells
   * a crash from a partition: when both paths are in use and the last beats they carried were
   * sent within one and a half intervals of each other (by the peer's own clock: two send times
   * of one sender), the peer stopped on both at once, as a crash does, and one interval of
   * confirmation is enough; when one path fell silent earlier, the partition that took it may
   * be spreading, and the whole window applies. (A site cut off from everything looks like a
   * crash either way; in two-region mode a person approves the failover by default.)
   */
  private confirmationMs(): number {
    const window = this.tuning.confirmationWindowSeconds * 1000;
    if (this.tuning.consistency === 'strong' || PATHS.some((p) => this.modes[p] !== 'enabled')) return window;
    const [a, b] = PATHS.map((p) => this.lastBeat[p]).map((beat) =>
      beat === undefined ? NaN : Date.parse(beat.sentAt),
    );
    const together = Math.abs((a as number) - (b as number)) <= 1.5 * this.tuning.intervalSeconds * 1000;
    return together ? Math.min(window, this.tuning.intervalSeconds * 1000) : window;
  }

  /** Checked.wakeAtMs: the earliest future instant at which a path would fail, the window end or the gate open. */
  private wakeAt(
    states: Readonly<Record<PathId, PathState>>,
    deadlineMs: Readonly<Record<PathId, number>>,
    cluster: ClusterRecord,
    nowMs: number,
    monoMs: number,
  ): number | undefined {
    const at: number[] = [];
    for (const path of PATHS) {
      const last = this.detectors[path].lastArrivalMs;
      // A path fails once its beat is older than the deadline (verdict.ts, pathState): one millisecond past it.
      if (last !== undefined && (states[path] === 'healthy' || states[path] === 'suspect'))
        at.push(last + deadlineMs[path] + 1);
    }
    if (this.allFailedSinceMs !== undefined) at.push(this.allFailedSinceMs + this.confirmationMs());
    if (cluster.primary !== this.site) {
      const gate = gateOpensAtMono(this.lease, this.leaseTuning, cluster);
      if (gate !== undefined) at.push(nowMs + (gate - monoMs));
      // The standby reads the record twice an interval: it sees each renewal within half an interval, and its
      // wait for the lease to run out starts that much closer to the renewal.
      at.push(nowMs + (this.tuning.intervalSeconds * 1000) / 2);
    }
    const future = at.filter((t) => t > nowMs);
    return future.length === 0 ? undefined : Math.min(...future);
  }

  /**
   * Why this site can see that no site acts as primary now, or undefined when one may. Sound
   * by construction, so the alarm on it does not cry wolf. Quorum mode, the record read through
   * a majority: the record names this site and it does not act, or names the peer and the
   * peer's lease ran out (its renewals stopped a lease and the margin ago). Two-region mode,
   * where a lost peer may be primary behind the partition: only a fresh beat of the peer at
   * the record's epoch saying it is secondary too.
   */
  noPrimary(
    role: Heartbeat['role'],
    cluster: ClusterRecord,
    states: Readonly<Record<PathId, PathState>>,
    nowMs: number,
    monoMs: number,
  ): string | undefined {
    if (role === 'primary') return undefined;
    if (this.tuning.consistency === 'strong') {
      if (!this.recordRead) return undefined;
      if (cluster.primary === this.site)
        return `the cluster record names ${this.site} primary at epoch ${cluster.epoch}, but it does not act as primary: ${this.roleWhy}`;
      if (!gateOpen(this.lease, this.leaseTuning, cluster, monoMs)) return undefined;
      return `${cluster.primary}'s lease at epoch ${cluster.epoch} ran out ${Math.round(silentForMs(this.lease, cluster, monoMs) / 1000)} s ago and no site has taken over`;
    }
    const live = this.newestLiveBeat(states);
    if (live === undefined || live.role !== 'secondary' || live.epoch < cluster.epoch) return undefined;
    const ageMs = nowMs - Date.parse(live.sentAt);
    if (ageMs > 2 * this.tuning.intervalSeconds * 1000) return undefined;
    return `${this.site} and ${this.peer} both beat as secondary at epoch ${cluster.epoch} (its beat of ${(ageMs / 1000).toFixed(1)} s ago)`;
  }

  /**
   * How long the no-primary condition must hold before it is announced: longer than a
   * promotion that must wait out the old primary's lease, and two ticks more.
   */
  get noPrimaryGraceMs(): number {
    return this.leaseTuning.leaseMs + this.leaseTuning.driftMarginMs + 2 * this.tuning.intervalSeconds * 1000;
  }

  /** The serial of the peer's last valid beat counted on each path: the failover's confirm step counts beats newer than these. */
  lastSerials(): Partial<Record<PathId, number>> {
    const out: Partial<Record<PathId, number>> = {};
    for (const path of PATHS) {
      const serial = this.lastBeat[path]?.serial;
      if (serial !== undefined) out[path] = serial;
    }
    return out;
  }

  /** The peer's newest valid beat on a path that has not failed. */
  newestLiveBeat(states: Readonly<Record<PathId, PathState>>): Heartbeat | undefined {
    return PATHS.filter((p) => states[p] === 'healthy' || states[p] === 'suspect')
      .map((p) => this.lastBeat[p])
      .filter((b): b is Heartbeat => b !== undefined)
      .sort((a, b) => b.serial - a.serial)[0];
  }

  /** The seed's trigger (the verdict) through the lease's gate, at most one attempt per retry window in an episode. */
  private takeover(verdict: SiteVerdict, cluster: ClusterRecord, monoMs: number): TakeoverDecision {
    const trigger =
      verdict === 'peer-lost' || verdict === 'peer-failure-reported' || verdict === 'peer-stepped-down'
        ? verdict
        : undefined;
    // The episode of a lost or failing peer is over: the next one may try again at once.
    if (trigger === undefined) this.failoverAttempt = undefined;
    if (trigger !== undefined && this.unheardSincePromotion(cluster))
      return {
        start: false,
        hold: `two-region mode: ${this.site} has not heard ${this.peer} since its promotion to epoch ${cluster.epoch}; a site cut off since then cannot tell the new primary lost from its own isolation, so a person decides: mirrorbeat failover`,
      };
    const decision = takeover(this.lease, this.leaseTuning, {
      site: this.site,
      record: cluster,
      nowMono: monoMs,
      trigger,
      onPeerFailure: this.tuning.onPeerFailure,
      fencedByBeat: this.fencedByBeat(cluster),
      recordRead: this.recordRead,
      ...(this.maintenance?.on === true ? { maintenance: maintenanceWhy(this.maintenance) } : {}),
    });
    const last = this.failoverAttempt;
    if (
      decision.start &&
      last !== undefined &&
      last.epoch === cluster.epoch &&
      monoMs - last.atMono < failoverRetryMs(this.leaseTuning)
    )
      return { start: false };
    return decision;
  }

  /**
   * Two-region mode, after a promotion: the peer has not acknowledged a beat this site sent at the
   * record's epoch. A promoted primary acts unheard until it hears this site at its epoch
   * (mayActUnheard); until it has acknowledged such a beat, it may still be acting unheard, and
   * taking over in this half of a partition would make two primaries, so this site does not do so
   * by itself. Quorum mode's record, read through a majority, needs no such rule.
   */
  private unheardSincePromotion(cluster: ClusterRecord): boolean {
    if (this.tuning.consistency !== 'eventual' || cluster.epoch === INITIAL_CLUSTER.epoch) return false;
    const first = this.firstSentAtEpoch;
    const acked = this.peerAckAtEpoch;
    return !(
      first?.epoch === cluster.epoch &&
      acked !== undefined &&
      acked.epoch >= cluster.epoch &&
      acked.ack >= first.serial
    );
  }

  /** A failover attempt for `epoch` started; the next one waits for the retry window. */
  failoverStarted(epoch: number, monoMs: number): void {
    this.failoverAttempt = { epoch, atMono: monoMs };
  }
}
