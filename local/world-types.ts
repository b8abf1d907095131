import { parseConfig, tuningOf } from '../lib/config';
import type { Heartbeat } from '../lambdas/core/message';
import type { Role } from '../lambdas/core/lease';
import type { PeerRead, SiteCore } from '../lambdas/core/site';
import type { ClusterRecord } from '../lambdas/core/volume';
import { PATHS, type PathId, type SiteId, type Tuning } from '../lambdas/core/wire';

/**
 * The fault world's schedules, results and state (lease-world.ts runs it). The role protocol in memory, in both modes:
 * two sites each running the site core the
 * heartbeat module runs (lambdas/core/site.ts: detectors, verdict, lease, role, takeover), in
 * the module's order (read the record, withdraw an expired handover, renew, decide, beat with
 * its ack, check, start a failover; checks between ticks at the core's wake time). Quorum mode: a
 * linearizable cluster record behind the majority rule and a witness. Two-region mode: a replica
 * of the record and the lease items per site, copied over the storage link with its lag. Beats on
 * two paths that get lost at random (false suspicion when both are), drifting and stepping
 * clocks, late ticks, slow and failing fences, container recycles and handoffs, switchovers,
 * maintenance, and the faults of the scenario format. Thousands of random schedules run in
 * seconds (test/lambdas/core/lease.property.test.ts); the local runtime proves the wiring with
 * fewer, longer runs on DynamoDB Local.
 */

export type WorldMode = 'quorum' | 'two-region';

export type WorldFault =
  | {
      readonly atMs: number;
      readonly fault: 'crash' | 'restart' | 'isolate' | 'pause' | 'heal-site';
      readonly site: SiteId | 'witness';
      readonly ms?: number;
    }
  | {
      readonly atMs: number;
      readonly fault: 'cut' | 'heal';
      readonly leg: 'sites' | 'network' | 'storage' | 'production-witness' | 'standby-witness';
    }
  /**
   * A site's wall clock steps by `ms` (its monotonic clock does not); a new container (recycle) or invocation
   * (handoff).
   */
  | { readonly atMs: number; readonly fault: 'skew'; readonly site: SiteId; readonly ms: number }
  /**
   * From then on a site's clocks run `ppm` parts per million fast (negative: slow), in place of the schedule's rate.
   */
  | { readonly atMs: number; readonly fault: 'drift'; readonly site: SiteId; readonly ppm: number }
  | { readonly atMs: number; readonly fault: 'recycle' | 'handoff'; readonly site: SiteId }
  /** Storage-path beats and (two-region mode) replication arrive this late from now on. */
  | { readonly atMs: number; readonly fault: 'lag'; readonly ms: number }
  /** The next `count` fence writes fail (a throttled or failed step). */
  | { readonly atMs: number; readonly fault: 'fence-fail'; readonly count: number }
  | { readonly atMs: number; readonly fault: 'maintenance'; readonly on: boolean }
  /** An operator's takeover (no gate), or a planned switchover to the site that is not primary (quorum mode). */
  | { readonly atMs: number; readonly fault: 'operator-failover' | 'switchover' };

export interface WorldSchedule {
  readonly seed: number;
  readonly durationMs: number;
  readonly intervalSeconds: number;
  /** Quorum mode unless said. */
  readonly mode?: WorldMode;
  /** Each site's clock rate error (0.01: 1 % fast), and its tick phase. */
  readonly drift: Readonly<Record<SiteId, number>>;
  readonly phaseMs: Readonly<Record<SiteId, number>>;
  /**
   * The chance that one beat is lost on one path after LOSS_FROM_MS: at 1 both paths fail with the peer alive (false
   * suspicion).
   */
  readonly loss: number;
  /** How long the workflow takes from the start to the fence's conditional write, at most. */
  readonly fenceDelayMaxMs: number;
  readonly faults: readonly WorldFault[];
}

/** One stretch of a site acting as primary, at an epoch. */
export type Acting = readonly [number, number, number];

export interface WorldResult {
  /** Real-time intervals during which each site acted as primary (from one decision to the next), with the epoch. */
  readonly acting: Readonly<Record<SiteId, readonly Acting[]>>;
  readonly takeovers: readonly {
    readonly atMs: number;
    readonly to: SiteId;
    readonly gated: boolean;
    readonly kind: 'automatic' | 'operator' | 'switchover';
    readonly epoch: number;
  }[];
  readonly finalRecord: ClusterRecord;
  /**
   * Each time a site would have raised `no-primary` (SiteCore.noPrimary held for a lease, as
   * the heartbeat module waits), and whether some site acted as primary at that instant.
   */
  readonly noPrimaryAlarms: readonly {
    readonly atMs: number;
    readonly site: SiteId;
    readonly primaryActing: boolean;
  }[];
  /** Every tick's view of the world, for the invariants over time (worldViolations). */
  readonly samples: readonly WorldSample[];
  /** When the last fault took effect (0 without faults). */
  readonly lastFaultAtMs: number;
}

export interface WorldSample {
  readonly atMs: number;
  /** Whether the site's compute runs (not crashed, not paused) and, in quorum mode, reaches a majority. */
  readonly eligible: Readonly<Record<SiteId, boolean>>;
  /** Whether production runs and, in quorum mode, reaches a majority, and nothing cuts it off. */
  readonly productionHealthy: boolean;
  readonly acting: Readonly<Record<SiteId, boolean>>;
  readonly maintenance: boolean;
  /** Fence writes still set to fail, and whether a switchover's handover request stands. */
  readonly fenceFailures: number;
  readonly handover: boolean;
}

const tunings = new Map<string, Tuning>();

/**
 * The tuning a deployed site gets at this interval with every other key left to its default (quorum mode unless said).
 */
export function worldTuning(intervalSeconds: number, mode: WorldMode = 'quorum'): Tuning {
  const key = `${mode}/${intervalSeconds}`;
  let t = tunings.get(key);
  if (t === undefined)
    tunings.set(
      key,
      (t = tuningOf(
        parseConfig({
          clusterName: 'world',
          productionRegion: 'us-east-1',
          standbyRegion: 'us-west-2',
          intervalSeconds,
          ...(mode === 'two-region'
            ? { consistency: 'eventual', failoverMode: 'automatic', isolationPolicy: 'self-fence' }
            : {}),
        }),
      )),
    );
  return t;
}

/** Beats are never lost before this: each site has seen its peer once (a peer never seen is pending, not lost). */
export const LOSS_FROM_MS = 20_000;

export interface SiteState {
  core: SiteCore;
  crashed: boolean;
  isolated: boolean;
  pausedUntilMs: number;
  actingSince: { atMs: number; epoch: number } | undefined;
  /** Since when its core has seen no site acting as primary, and whether it raised the alarm for it. */
  noPrimarySinceMs: number | undefined;
  noPrimaryEpoch?: number;
  noPrimaryRaised: boolean;
  pendingFence: boolean;
  serial: number;
  /** The last beat the peer received from this site on each path, and when (the peer's observations). */
  readonly delivered: Partial<Record<PathId, { beat: Heartbeat; atMs: number }>>;
}

/** Two-region mode: one region's replica of the cluster record and of each site's lease item. */
export interface Replica {
  record: ClusterRecord;
  leases: Record<SiteId, number>;
}

/** A small seeded generator (mulberry32), so a schedule replays exactly. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The world's events in time order (ties in scheduling order, by binary insertion); each runs to its end. */
export class EventQueue {
  private readonly events: { atMs: number; seq: number; run: (now: number) => void }[] = [];
  private seq = 0;
  private nowMs = -Infinity;

  /** An event due before the one running now runs right after it (never before: time only moves on). */
  schedule(dueMs: number, run: (now: number) => void): void {
    const atMs = Math.max(dueMs, this.nowMs);
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.events[mid] as { atMs: number }).atMs <= atMs) low = mid + 1;
      else high = mid;
    }
    this.events.splice(low, 0, { atMs, seq: this.seq++, run });
  }

  /** Runs every event due by `endMs`, those scheduled meanwhile included. */
  runUntil(endMs: number): void {
    for (let i = 0; i < this.events.length; i += 1) {
      const event = this.events[i] as { atMs: number; run: (now: number) => void };
      if (event.atMs > endMs) break;
      this.nowMs = event.atMs;
      event.run(event.atMs);
    }
  }
}

/** The peer's beats as a site's tables hold them: the last one delivered on each path, and when. */
export function peerReads(delivered: SiteState['delivered']): Record<PathId, PeerRead> {
  const reads = {} as Record<PathId, PeerRead>;
  for (const path of PATHS) {
    const d = delivered[path];
    reads[path] = d === undefined ? { unreadable: false } : { unreadable: false, arrivedAtMs: d.atMs, beat: d.beat };
  }
  return reads;
}

/** The beat a site of the world sends: the module's fields, unsigned (the world has no forger). */
export function worldBeat(
  site: SiteId,
  serial: number,
  nowWall: number,
  epoch: number,
  role: Role,
  ack: Heartbeat['ack'],
): Heartbeat {
  return {
    v: 1,
    cluster: 'world',
    site,
    region: site,
    serial,
    sentAt: new Date(nowWall).toISOString(),
    epoch,
    role,
    health: 'ok',
    ...(ack === undefined ? {} : { ack }),
    sig: '',
  };
}

export interface Witness {
  crashed: boolean;
  isolated: boolean;
  pausedUntilMs: number;
}

/** A fault of the scenario format applied to the witness region. */
export function witnessFault(witness: Witness, f: WorldFault, now: number): void {
  if (f.fault === 'crash') witness.crashed = true;
  if (f.fault === 'restart') Object.assign(witness, { crashed: false, pausedUntilMs: 0 });
  if (f.fault === 'isolate') witness.isolated = true;
  if (f.fault === 'heal-site') witness.isolated = false;
  if (f.fault === 'pause') witness.pausedUntilMs = now + ((f as { ms?: number }).ms ?? 0);
}

/**
 * The no-primary alarm, as the heartbeat module raises it (role-change.ts): the core's condition `none`, held for
 * the grace; a new epoch (a promotion while the site was frozen) starts it afresh. Whether it is raised now.
 */
export function raisesNoPrimary(site: SiteState, none: boolean, epoch: number, now: number, graceMs: number): boolean {
  if (site.noPrimaryEpoch !== epoch) site.noPrimarySinceMs = undefined;
  site.noPrimaryEpoch = epoch;
  site.noPrimarySinceMs = none ? (site.noPrimarySinceMs ?? now) : undefined;
  if (!none) site.noPrimaryRaised = false;
  else if (!site.noPrimaryRaised && now - (site.noPrimarySinceMs ?? now) >= graceMs)
    return (site.noPrimaryRaised = true);
  return false;
}
