import type { ClusterRecord, Handover } from './volume';
import type { SiteId, Tuning } from './wire';

/**
 * The role protocol, as pure decisions: the primary's lease, the standby's watch on it, when
 * a site acts as primary and when the standby may try to take over. Time is an input: `mono`
 * is the site's own monotonic clock (every lease is timed on it, so clock offsets between
 * regions never matter, only drift), `wall` its wall clock. The heartbeat module, the local
 * runtime and the property tests all drive these same functions (docs/ARCHITECTURE.md, "Roles").
 *
 * Quorum mode: the cluster record lives in a strongly consistent table over three regions;
 * a renewal (a conditional write naming the epoch and this site) succeeds only in a region
 * that reaches a majority. Two-region mode: renewals land in the local replica and reach the
 * peer by replication, so they prove nothing about isolation; the isolation policy decides.
 */

export type ConsistencyMode = 'quorum' | 'two-region';
export type Role = 'primary' | 'secondary';

export interface LeaseTuning {
  readonly mode: ConsistencyMode;
  readonly leaseMs: number;
  /** Added to every wait for another site's lease: covers the drift of two monotonic clocks over one lease. */
  readonly driftMarginMs: number;
  readonly isolationPolicy: 'self-fence' | 'stay-primary';
  /** How long one decision stands (one tick): a site decides to act only if its lease outlasts the decision. */
  readonly holdMs: number;
}

/** How far two monotonic clocks may drift apart over one lease, as a fraction of it, and never less than 1 s. */
export const DRIFT_FRACTION = 0.05;
export const driftMarginMs = (leaseMs: number): number => Math.max(1_000, Math.ceil(leaseMs * DRIFT_FRACTION));

/**
 * The lease tuning of a deployed site's configuration: one place, for the heartbeat module's core and the fence step
 * alike.
 */
export function leaseTuningOf(
  t: Pick<Tuning, 'consistency' | 'leaseSeconds' | 'isolationPolicy' | 'intervalSeconds'>,
): LeaseTuning {
  const leaseMs = t.leaseSeconds * 1000;
  return {
    mode: t.consistency === 'strong' ? 'quorum' : 'two-region',
    leaseMs,
    driftMarginMs: driftMarginMs(leaseMs),
    isolationPolicy: t.isolationPolicy,
    holdMs: t.intervalSeconds * 1000,
  };
}

/** What a site knows of the lease, carried from one tick to the next (lost with the container). */
export interface LeaseState {
  /** As primary: the epoch and the own-mono start of the last renewal that succeeded. */
  readonly renewal?: { readonly epoch: number; readonly startedAtMono: number };
  /** As standby: the newest renewal seen in the cluster record, and since when (own mono) it has stood unchanged. */
  readonly watch?: { readonly epoch: number; readonly lease: number; readonly sinceMono: number };
  /** The epoch this site was promoted to, and when it first read that promotion (own mono). */
  readonly promotion?: { readonly epoch: number; readonly seenAtMono: number };
  /** As primary: the switchover's handover request it is draining for, and when it first read it (own mono). */
  readonly handover?: { readonly execution: string; readonly seenAtMono: number };
}

export const FRESH_LEASE: LeaseState = {};

/**
 * A new invocation of a warm container: the primary's lease is forgotten, because a frozen
 * container's monotonic clock may not have counted the freeze. The standby's watch is kept:
 * a clock that under-counts only makes it wait longer.
 */
export function newInvocation(state: LeaseState): LeaseState {
  const { renewal: _dropped, ...rest } = state;
  return rest;
}

/** The renewal that started at `startedAtMono` for `epoch` succeeded. */
export function renewed(state: LeaseState, epoch: number, startedAtMono: number): LeaseState {
  if (state.renewal !== undefined && state.renewal.epoch === epoch && state.renewal.startedAtMono >= startedAtMono)
    return state;
  return { ...state, renewal: { epoch, startedAtMono } };
}

/** The cluster record moved on (another epoch or primary): the lease this site held is gone. */
export function renewalRefused(state: LeaseState): LeaseState {
  return newInvocation(state);
}

/** The standby read the cluster record: a renewal it had not seen restarts its watch. */
export function watched(state: LeaseState, record: ClusterRecord, nowMono: number): LeaseState {
  const lease = record.lease ?? 0;
  const w = state.watch;
  if (w !== undefined && w.epoch === record.epoch && w.lease === lease) return state;
  return { ...state, watch: { epoch: record.epoch, lease, sinceMono: nowMono } };
}

/**
 * The standby's watch as a tick leaves it for the site's next container (the ticker's item in
 * the observations table): the renewal watched and how long it has stood, by this container's
 * monotonic clock. A handoff or a recycle then does not start the watch again (issue 31, 10).
 */
export interface CarriedWatch {
  readonly epoch: number;
  readonly lease: number;
  readonly silentMs: number;
}

/** What a tick at `nowMono` leaves for the next container: undefined while nothing is watched. */
export function watchToCarry(state: LeaseState, nowMono: number): CarriedWatch | undefined {
  const w = state.watch;
  if (w === undefined) return undefined;
  return { epoch: w.epoch, lease: w.lease, silentMs: Math.max(0, nowMono - w.sinceMono) };
}

/**
 * A new invocation takes the watch its site's last ticker left (`carried`): it counts that
 * silence as if its own clock had seen it, from `nowMono` back. Of two watches of the same
 * renewal the longer stands, and a newer renewal replaces an older one; the record read next
 * decides as always (watched). The time between the tick that wrote it and now is not counted,
 * so the gate may open later than it could, never sooner.
 */
export function watchCarried(state: LeaseState, carried: CarriedWatch | undefined, nowMono: number): LeaseState {
  if (carried === undefined) return state;
  const seeded = { epoch: carried.epoch, lease: carried.lease, sinceMono: nowMono - carried.silentMs };
  const w = state.watch;
  const newer = w === undefined || seeded.epoch > w.epoch || (seeded.epoch === w.epoch && seeded.lease > w.lease);
  const longer =
    w !== undefined && seeded.epoch === w.epoch && seeded.lease === w.lease && seeded.sinceMono < w.sinceMono;
  return newer || longer ? { ...state, watch: seeded } : state;
}

/** This site read a record naming it primary: it remembers when it first saw that epoch. */
export function promotionSeen(state: LeaseState, record: ClusterRecord, site: SiteId, nowMono: number): LeaseState {
  if (record.primary !== site || (state.promotion !== undefined && state.promotion.epoch >= record.epoch)) return state;
  return { ...state, promotion: { epoch: record.epoch, seenAtMono: nowMono } };
}

/**
 * This site read a record asking it to hand over: it remembers when it first saw that request (its expiry runs from
 * then).
 */
export function handoverSeen(state: LeaseState, record: ClusterRecord, site: SiteId, nowMono: number): LeaseState {
  const asked = record.primary === site ? record.handover : undefined;
  if (asked === undefined) return state.handover === undefined ? state : { ...state, handover: undefined };
  if (state.handover?.execution === asked.execution) return state;
  return { ...state, handover: { execution: asked.execution, seenAtMono: nowMono } };
}

/** How long a switchover waits for the primary to confirm its drain: three ticks and two replication budgets. */
export const drainLimitMs = (tuning: Pick<Tuning, 'intervalSeconds' | 'rpoBudgetSeconds'>): number =>
  (3 * tuning.intervalSeconds + 2 * tuning.rpoBudgetSeconds) * 1000;

/**
 * How long a primary drains for a switchover before it takes the request back: two leases in
 * quorum mode, where the drain confirmation is visible to the standby at once; in two-region
 * mode, the switchover's own patience (its drain limit: three ticks and two replication budgets)
 * and two leases more, so a switchover that is still waiting is never pulled from under it.
 */
export function handoverExpiryMs(t: LeaseTuning, tuning: Pick<Tuning, 'intervalSeconds' | 'rpoBudgetSeconds'>): number {
  const twoLeases = 2 * t.leaseMs;
  if (t.mode === 'quorum') return twoLeases;
  return drainLimitMs(tuning) + twoLeases;
}

/**
 * The switchover's handover request this primary has drained for longer than the expiry
 * (handoverExpiryMs) without the standby fencing: the module takes it back with a conditional
 * write, and the old roles resume. Undefined while none has expired.
 */
export function expiredHandoverOf(
  state: LeaseState,
  t: LeaseTuning,
  tuning: Pick<Tuning, 'intervalSeconds' | 'rpoBudgetSeconds'>,
  site: SiteId,
  cluster: ClusterRecord,
  nowMono: number,
): Handover | undefined {
  const asked = cluster.primary === site ? cluster.handover : undefined;
  const seen = state.handover;
  if (asked === undefined || seen === undefined || seen.execution !== asked.execution) return undefined;
  return nowMono - seen.seenAtMono >= handoverExpiryMs(t, tuning) ? asked : undefined;
}

/**
 * Whether the last successful renewal at `epoch` started less than one lease ago, and still will have when this
 * decision ends.
 */
export function holdsLease(state: LeaseState, t: LeaseTuning, epoch: number, nowMono: number): boolean {
  const r = state.renewal;
  return r !== undefined && r.epoch === epoch && nowMono - r.startedAtMono + t.holdMs < t.leaseMs;
}

/** How long the standby has seen the record's renewal stand still; 0 when the record shows one it has not seen. */
export function silentForMs(state: LeaseState, record: ClusterRecord, nowMono: number): number {
  const w = state.watch;
  if (w === undefined || w.epoch !== record.epoch || w.lease !== (record.lease ?? 0)) return 0;
  return nowMono - w.sinceMono;
}

/**
 * The gate: the standby saw no renewal for a lease plus the drift margin by its own clock, so
 * the primary's own clock has run its lease out. A takeover must then name that renewal.
 */
export function gateOpen(state: LeaseState, t: LeaseTuning, record: ClusterRecord, nowMono: number): boolean {
  return silentForMs(state, record, nowMono) >= t.leaseMs + t.driftMarginMs;
}

/**
 * When (own mono) the gate opens if no renewal is seen before: undefined when this site has not watched the record's
 * renewal.
 */
export function gateOpensAtMono(state: LeaseState, t: LeaseTuning, record: ClusterRecord): number | undefined {
  const w = state.watch;
  if (w === undefined || w.epoch !== record.epoch || w.lease !== (record.lease ?? 0)) return undefined;
  return w.sinceMono + t.leaseMs + t.driftMarginMs;
}

/**
 * How long a promoted site waits, after its promotion, before it acts: nothing when the old
 * primary handed over or its lease was seen to run out (quorum mode, gated), otherwise one lease
 * and the margin, the longest the old primary may still act on a renewal it made before the fence.
 */
export function promotionWaitMs(t: LeaseTuning, how: { handedOver: boolean; gated: boolean }): number {
  if (how.handedOver || (how.gated && t.mode === 'quorum')) return 0;
  return t.leaseMs + t.driftMarginMs;
}

export interface RoleView {
  readonly site: SiteId;
  readonly peer: SiteId;
  /** The cluster record as this site must act on it (its replica's, or a fence message's). */
  readonly record: ClusterRecord;
  readonly nowMono: number;
  /**
   * Two-region self-fence: when (this site's mono) it sent its newest beat that the peer has
   * acknowledged in a beat confirming this site as primary; undefined when none is known. A late
   * beat never renews it, and no clock of another site enters it.
   */
  readonly ackedSentMono: number | undefined;
  /**
   * Whether the peer's beats at the record's epoch acknowledge anything from this site: a peer that
   * never heard it at this epoch (a first deployment, an old primary fenced by this promotion) leaves
   * a primary acting, as before any peer.
   */
  readonly peerSeen: boolean;
  /** A valid peer beat sent at this site's epoch or later says the peer is secondary: the old primary stepped down. */
  readonly peerSteppedDown: boolean;
  /**
   * Maintenance mode is on and this site acted as primary at its last decision: a two-region
   * self-fence primary does not step down for a silent standby. Maintenance never makes a site act
   * that did not (a self-fenced or fenced site stays down).
   */
  readonly maintenance?: boolean;
}

export interface RoleDecision {
  readonly role: Role;
  /** Why, in words for a notice. */
  readonly why: string;
}

/** Whether this site acts as primary now. */
export function roleOf(state: LeaseState, t: LeaseTuning, v: RoleView): RoleDecision {
  const { record, site, peer } = v;
  if (record.primary !== site)
    return { role: 'secondary', why: `the cluster record names ${record.primary} primary at epoch ${record.epoch}` };
  if (record.handover?.to === peer) return { role: 'secondary', why: `switchover: handing over to ${peer}` };
  if (!holdsLease(state, t, record.epoch, v.nowMono)) {
    return {
      role: 'secondary',
      why:
        state.renewal?.epoch === record.epoch
          ? `the lease was not renewed for leaseSeconds (${t.leaseMs / 1000} s): ${t.mode === 'quorum' ? 'this region does not reach a majority of production, standby and witness' : 'the heartbeat volume did not take the renewal'}`
          : 'not yet renewed the lease in this container',
    };
  }
  if (
    t.mode === 'two-region' &&
    t.isolationPolicy === 'self-fence' &&
    v.maintenance !== true &&
    v.peerSeen &&
    (v.ackedSentMono === undefined || v.nowMono - v.ackedSentMono + t.holdMs >= t.leaseMs)
  ) {
    return {
      role: 'secondary',
      why: `isolated: ${peer} has acknowledged no beat this site sent in the last leaseSeconds (${t.leaseMs / 1000} s) on any path; isolationPolicy is self-fence`,
    };
  }
  const wait = record.actAfterMs ?? 0;
  const seen = state.promotion?.epoch === record.epoch ? state.promotion.seenAtMono : v.nowMono;
  if (wait > 0 && !v.peerSteppedDown && v.nowMono - seen < wait) {
    return {
      role: 'secondary',
      why: `promoted at epoch ${record.epoch}: waiting ${Math.round(wait / 1000)} s for ${peer}'s lease to run out`,
    };
  }
  return { role: 'primary', why: `holds the lease at epoch ${record.epoch}` };
}

/**
 * Why a standby takes over: the peer is lost on every enabled path, its beats report its
 * workload failed, or (quorum mode) its beats say it stepped down from primary without a
 * handover — it lost its lease, so they are no valid primary heartbeat.
 */
export type FailoverReason = 'peer-lost' | 'peer-failure-reported' | 'peer-stepped-down';

export interface TakeoverView {
  readonly site: SiteId;
  readonly record: ClusterRecord;
  readonly nowMono: number;
  /**
   * The seed's trigger: every enabled path says the peer is lost (for the confirmation window), or its beats report
   * failure.
   */
  readonly trigger: FailoverReason | undefined;
  readonly onPeerFailure: 'notify' | 'failover';
  /** The peer's beat claimed primary at a higher epoch than this site's replica shows: it has just taken over. */
  readonly fencedByBeat: boolean;
  /** This tick's read of the cluster record succeeded (in quorum mode: this region reaches a majority). */
  readonly recordRead: boolean;
  /** Maintenance mode, when on: no automatic failover starts; why, for the notice. */
  readonly maintenance?: string;
}

export type TakeoverDecision =
  | { readonly start: true; readonly reason: FailoverReason; readonly gated: boolean; readonly expectedLease?: number }
  | { readonly start: false; readonly hold?: string };

/**
 * Whether the standby starts a failover now. The trigger says when to try; in quorum mode the
 * lease is the gate, so a peer cut off from this site but still reaching the witness keeps its
 * role. A reported workload failure is a takeover of a live peer: it needs no gate, and the
 * promoted site then waits out the old primary's lease (promotionWaitMs).
 */
export function takeover(state: LeaseState, t: LeaseTuning, v: TakeoverView): TakeoverDecision {
  if (v.record.primary === v.site || v.fencedByBeat || v.trigger === undefined) return { start: false };
  if (v.maintenance !== undefined) return { start: false, hold: `${v.maintenance}: automatic failover is held` };
  if (v.trigger === 'peer-failure-reported')
    return v.onPeerFailure === 'failover' ? { start: true, reason: v.trigger, gated: false } : { start: false };
  // Silence is only what reads that succeeded showed: a site that cannot read the record cannot take over either.
  if (!v.recordRead)
    return {
      start: false,
      hold: 'this site cannot read the cluster record (its region reaches no majority): it can neither take over nor tell whether the peer still holds the lease',
    };
  if (!gateOpen(state, t, v.record, v.nowMono)) {
    const silent = Math.round(silentForMs(state, v.record, v.nowMono) / 1000);
    return {
      start: false,
      hold:
        t.mode === 'quorum'
          ? `the peer is unreachable on both paths but still holds the lease (renewed ${silent} s ago as this site sees the cluster record); no failover while it does`
          : `waiting for the peer's lease to run out (no renewal seen for ${silent} s of ${(t.leaseMs + t.driftMarginMs) / 1000} s)`,
    };
  }
  return { start: true, reason: v.trigger, gated: true, expectedLease: v.record.lease ?? 0 };
}

/**
 * The site's wall clock, checked against its monotonic clock between ticks. A jump beyond the
 * bound is absorbed into a correction, so the site keeps stamping beats with the time it can
 * trust and says so, instead of acting on a clock that moved under it.
 */
export interface ClockState {
  readonly last?: { readonly wall: number; readonly mono: number };
  /** Subtracted from the wall clock: the jumps seen so far. */
  readonly correctionMs: number;
}

export const FRESH_CLOCK: ClockState = { correctionMs: 0 };

export function readClock(
  state: ClockState,
  wall: number,
  mono: number,
  boundMs: number,
): { state: ClockState; nowMs: number; jumpMs?: number } {
  let correctionMs = state.correctionMs;
  let jumpMs: number | undefined;
  if (state.last !== undefined) {
    const expected = state.last.wall + (mono - state.last.mono);
    const off = wall - correctionMs - expected;
    if (Math.abs(off) > boundMs) {
      correctionMs += off;
      jumpMs = off;
    }
  }
  const nowMs = wall - correctionMs;
  return { state: { last: { wall: nowMs, mono }, correctionMs }, nowMs, ...(jumpMs === undefined ? {} : { jumpMs }) };
}
