import type { PhiAccrualDetector } from './detector';
import { RoundTrip } from './round-trip';
import * as step from './site-step';
import {
  type CarriedWatch,
  type ClockState,
  FRESH_CLOCK,
  FRESH_LEASE,
  gateOpensAtMono,
  expiredHandoverOf,
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
  takeover,
  type TakeoverDecision,
  watchCarried,
  watched,
  watchToCarry,
} from './lease';
import type { Heartbeat } from './message';
import { allCountedPathsFailed, pathState, type PathState, siteVerdict, type SiteVerdict } from './verdict';
import { type ClusterRecord, type Handover, INITIAL_CLUSTER, type Maintenance, maintenanceWhy } from './volume';
import { PATHS, type PathId, type PathMode, type SiteId, type Tuning } from './wire';

export { checkBefore, type Checked, failoverRetryMs, type PeerRead } from './site-step';

/**
 * A site's decisions, as one deterministic state machine with no I/O (etcd-io/raft's `Step`/`Ready`):
 * the heartbeat module reads the tables and clocks, hands them to these steps and performs what they
 * decide. Time enters only as arguments. The local runtime and local/lease-world.ts drive it too.
 */
export class SiteCore {
  readonly leaseTuning: LeaseTuning;
  private lease: LeaseState = FRESH_LEASE;
  /** The watch the site's last ticker left, until this invocation's first record read takes it. */
  private carried: CarriedWatch | undefined;
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
  private readonly stamps = new step.ArrivalStamps();
  private failoverAttempt: { epoch: number; atMono: number } | undefined;
  /** Whether the last read of the cluster record succeeded. */
  private recordRead = false;
  /** Whether a read of the cluster record succeeded in this invocation: a site decides its role only from state read in it. */
  private readInInvocation = false;
  /** Two-region self-fence's round trip: this site's beats and what the peer acknowledged of them (round-trip.ts). */
  private readonly roundTrip = new RoundTrip();
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
    this.detectors = { network: step.detectorOf(tuning), storage: step.detectorOf(tuning) };
    this.leaseTuning = leaseTuningOf(tuning);
  }

  /** A new invocation: a lease held before counts no more (a frozen container); `carried`: the watch its last ticker left. */
  newInvocation(carried?: CarriedWatch): void {
    this.lease = newInvocation(this.lease);
    this.carried = carried;
    this.readInInvocation = false;
    this.roundTrip.peerRead = false;
  }

  /** Whether a two-region self-fence site must read the peer's beats (heard) before its first role decision in this invocation. */
  get needsPeerRead(): boolean {
    return (
      this.tuning.consistency === 'eventual' && this.tuning.isolationPolicy === 'self-fence' && !this.roundTrip.peerRead
    );
  }

  /**
   * The peer's last beats as the tables hold them, heard before every role decision and beat (the
   * fence they carry, what they acknowledge: round-trip.ts); the check takes the same reads after the
   * beat. The fence this learned, if any.
   */
  heard(reads: Readonly<Record<PathId, step.PeerRead>>, cluster: ClusterRecord): step.FencedAt | undefined {
    let fencedAt: step.FencedAt | undefined;
    for (const path of PATHS) {
      const epoch = this.aheadOf(reads[path].beat, cluster);
      if (epoch !== undefined) fencedAt = { epoch, via: path };
    }
    this.roundTrip.heard(reads, cluster);
    return fencedAt;
  }
  /** A peer beat ahead of the record in force (site-step.ts, fenceOf): the epoch it fenced this site at, if it did. */
  private aheadOf(beat: Heartbeat | undefined, cluster: ClusterRecord): number | undefined {
    const fence = step.fenceOf(beat, cluster, this.site, this.fencedBy?.epoch ?? 0);
    if (fence !== undefined) this.fencedBy = fence;
    return fence?.epoch;
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
      this.lease = watched(watchCarried(this.lease, this.carried, monoMs), record, monoMs);
      this.carried = undefined;
      this.lease = promotionSeen(this.lease, record, this.site, monoMs);
      this.lease = handoverSeen(this.lease, record, this.site, monoMs);
    }
    return step.inForceOf(this.cached ?? INITIAL_CLUSTER, this.fencedBy);
  }

  /** Whether the cluster record in force is the peer's fence beat, ahead of this site's replica. */
  fencedByBeat(cluster: ClusterRecord): boolean {
    return cluster === this.fencedBy;
  }

  /** The watch this tick leaves for the site's next container (lease.ts, watchToCarry). */
  watchToCarry(monoMs: number): CarriedWatch | undefined {
    return watchToCarry(this.lease, monoMs);
  }

  /** Whether this site should renew the lease now: the record names it and asks no handover. */
  shouldRenew(cluster: ClusterRecord): boolean {
    return cluster.primary === this.site && cluster.handover?.to !== this.peer && !this.fencedByBeat(cluster);
  }

  /** The handover request past its expiry, to be taken back (lambdas/core/lease.ts, expiredHandoverOf). */
  expiredHandover(cluster: ClusterRecord, monoMs: number): Handover | undefined {
    return expiredHandoverOf(this.lease, this.leaseTuning, this.tuning, this.site, cluster, monoMs);
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

  private decideRole(read: ClusterRecord, nowMs: number, monoMs: number): RoleDecision {
    const cluster = step.inForceOf(read, this.fencedBy);
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
      ackedSentMono: this.roundTrip.ackedSentMono(cluster, nowMs, monoMs),
      peerSeen: this.roundTrip.peerSeen(cluster),
      peerSteppedDown: beats.some((b) => b.epoch >= cluster.epoch && b.role === 'secondary'),
      maintenance: this.maintenance?.on === true && this.acting,
    });
  }

  /** This site sent (or is sending) its beat `serial` at `monoMs`, at `epoch` (round-trip.ts). */
  beatSent(serial: number, monoMs: number, epoch: number): void {
    this.roundTrip.beatSent(serial, monoMs, epoch);
  }

  /** The highest serial of the peer's valid beats accepted so far: the `ack` this site's next beat carries. */
  get ack(): number | undefined {
    return this.roundTrip.ack;
  }

  /**
   * A path that comes (back) into use starts from nothing: it counts only from the peer's
   * first valid beat after now, so a beat from before it was switched off can never make it
   * look failed (seed claim 19: count the mirror only once the peer has beaten on it).
   */
  setMode(path: PathId, mode: PathMode, nowMs: number): void {
    if (mode === 'enabled' && this.modes[path] !== 'enabled') {
      this.detectors[path] = step.detectorOf(this.tuning);
      this.countFromMs[path] = nowMs;
      delete this.lastBeat[path];
    }
    this.modes[path] = mode;
  }

  /** The check half of a tick: path states, verdict, and whether to start a failover (the trigger through the gate). */
  check(
    reads: Readonly<Record<PathId, step.PeerRead>>,
    cluster: ClusterRecord,
    nowMs: number,
    monoMs: number,
  ): step.Checked {
    const states = {} as Record<PathId, PathState>;
    const phi = {} as Record<PathId, number>;
    const arrived = {} as Record<PathId, boolean>;
    const deadlineMs = {} as Record<PathId, number>;
    const lastArrivalMs: Partial<Record<PathId, number>> = {};
    for (const path of PATHS) {
      const read = this.stamps.own(path, reads[path], nowMs);
      const detector = this.detectors[path];
      const counts = read.arrivedAtMs !== undefined && read.arrivedAtMs > (this.countFromMs[path] ?? -Infinity);
      arrived[path] = counts && (detector.lastArrivalMs === undefined || read.arrivedAtMs > detector.lastArrivalMs);
      // A failed read keeps what the detector knew, so the path ages instead of vanishing.
      // A beat from before the path came (back) into use says nothing about it now.
      if (counts) detector.heartbeat(read.arrivedAtMs);
      // A fresh container learns the peer's last beats from the tables (two-region self-fence judges them by send time).
      if (read.beat !== undefined && counts && (arrived[path] || this.lastBeat[path] === undefined))
        this.lastBeat[path] = read.beat;
      // The fence was heard before the decision (heard); the acknowledgement again, now with this site's own stamp of a
      // storage arrival (a stamp from the peer's clock ahead of this one is moved back to now).
      if (read.beat !== undefined) this.roundTrip.acknowledged(read.beat, read.arrivedAtMs, cluster);
      this.roundTrip.peerRead = true;
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
      takeover: this.takeover(verdict, cluster, monoMs),
      wakeAtMs: step.wakeAtOf({
        states,
        deadlineMs,
        lastArrivalMs,
        windowEndsAtMs: this.allFailedSinceMs === undefined ? undefined : this.allFailedSinceMs + this.confirmationMs(),
        // The standby's next change: the gate opening (own mono, as wall), and its second read of the record.
        gateAtMs:
          cluster.primary === this.site
            ? undefined
            : ((gate) => (gate === undefined ? undefined : nowMs + (gate - monoMs)))(
                gateOpensAtMono(this.lease, this.leaseTuning, cluster),
              ),
        secondReadAtMs: cluster.primary === this.site ? undefined : nowMs + (this.tuning.intervalSeconds * 1000) / 2,
        nowMs,
      }),
    };
  }

  /** The verdict `peer-stepped-down` once its condition (site-step.ts, steppedDownOf) held the window and an interval. */
  private steppedDown(verdict: SiteVerdict, live: Heartbeat | undefined, c: ClusterRecord, nowMs: number): SiteVerdict {
    const down = step.steppedDownOf(this.tuning, this.peer, verdict, live, c);
    this.steppedDownSinceMs = down ? (this.steppedDownSinceMs ?? nowMs) : undefined;
    const confirmMs = this.confirmationMs() + this.tuning.intervalSeconds * 1000;
    return down && nowMs - (this.steppedDownSinceMs ?? nowMs) >= confirmMs ? 'peer-stepped-down' : verdict;
  }

  /** How long every path must stay failed before the peer counts as lost (site-step.ts, confirmationMsOf). */
  private confirmationMs(): number {
    return step.confirmationMsOf(this.tuning, this.modes, this.lastBeat);
  }

  /** Why this site can see that no site acts as primary now, or undefined when one may (site-step.ts, noPrimaryOf). */
  noPrimary(
    role: Heartbeat['role'],
    cluster: ClusterRecord,
    states: Readonly<Record<PathId, PathState>>,
    nowMs: number,
    monoMs: number,
  ): string | undefined {
    if (role === 'primary') return undefined;
    const { tuning, leaseTuning, lease, site, peer, recordRead, roleWhy } = this;
    const live = this.newestLiveBeat(states);
    return step.noPrimaryOf(
      { tuning, leaseTuning, lease, site, peer, recordRead, roleWhy, live },
      cluster,
      nowMs,
      monoMs,
    );
  }

  /**
   * How long the no-primary condition must hold before it is announced: longer than a
   * promotion that must wait out the old primary's lease, and two ticks more.
   */
  get noPrimaryGraceMs(): number {
    return this.leaseTuning.leaseMs + this.leaseTuning.driftMarginMs + 2 * this.tuning.intervalSeconds * 1000;
  }

  /** The serial of the peer's last valid beat counted on each path: the confirm step counts beats newer than these. */
  lastSerials(): Partial<Record<PathId, number>> {
    return Object.fromEntries(
      PATHS.flatMap((p) => (this.lastBeat[p] === undefined ? [] : [[p, this.lastBeat[p].serial]])),
    );
  }

  /** The peer's newest valid beat on a path that has not failed. */
  newestLiveBeat(states: Readonly<Record<PathId, PathState>>): Heartbeat | undefined {
    return step.newestLiveBeatOf(states, this.lastBeat);
  }

  /** The seed's trigger (the verdict) through the lease's gate, at most one attempt per retry window in an episode. */
  private takeover(verdict: SiteVerdict, cluster: ClusterRecord, monoMs: number): TakeoverDecision {
    const trigger =
      verdict === 'peer-lost' || verdict === 'peer-failure-reported' || verdict === 'peer-stepped-down'
        ? verdict
        : undefined;
    // The episode of a lost or failing peer is over: the next one may try again at once.
    if (trigger === undefined) this.failoverAttempt = undefined;
    if (
      trigger !== undefined &&
      this.tuning.consistency === 'eventual' &&
      this.roundTrip.unheardSincePromotion(cluster)
    )
      return {
        start: false,
        hold: `two-region mode: ${cluster.epoch === INITIAL_CLUSTER.epoch ? `${this.peer} has never acknowledged a beat of ${this.site}; a primary that never heard its standby acts as at a first deployment and does not fence itself when cut off` : `${this.site} has not heard ${this.peer} since its promotion to epoch ${cluster.epoch}; a site cut off since then cannot tell the new primary lost from its own isolation`}, so a person decides: mirrorbeat failover`,
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
      monoMs - last.atMono < step.failoverRetryMs(this.leaseTuning)
    )
      return { start: false };
    return decision;
  }

  /** A failover attempt for `epoch` started; the next one waits for the retry window. */
  failoverStarted(epoch: number, monoMs: number): void {
    this.failoverAttempt = { epoch, atMono: monoMs };
  }
}
