import { parseConfig, tuningOf } from '../lib/config';
import { promotionWaitMs } from '../lambdas/core/lease';
import type { Heartbeat } from '../lambdas/core/message';
import { checkBefore, type PeerRead, SiteCore } from '../lambdas/core/site';
import { type ClusterRecord, INITIAL_CLUSTER } from '../lambdas/core/volume';
import { PATHS, type PathId, peerOf, SITE_IDS, type SiteId, type Tuning } from '../lambdas/core/wire';

/**
 * The role protocol in memory, in both modes: two sites each running the site core the
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
  /** A site's wall clock steps by `ms` (its monotonic clock does not); a new container (recycle) or invocation (handoff). */
  | { readonly atMs: number; readonly fault: 'skew'; readonly site: SiteId; readonly ms: number }
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
  /** The chance that one beat is lost on one path after LOSS_FROM_MS: at 1 both paths fail with the peer alive (false suspicion). */
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

/** The tuning a deployed site gets at this interval with every other key left to its default (quorum mode unless said). */
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

interface SiteState {
  core: SiteCore;
  crashed: boolean;
  isolated: boolean;
  pausedUntilMs: number;
  skewMs: number;
  actingSince: { atMs: number; epoch: number } | undefined;
  /** Since when its core has seen no site acting as primary, and whether it raised the alarm for it. */
  noPrimarySinceMs: number | undefined;
  noPrimaryRaised: boolean;
  pendingFence: boolean;
  serial: number;
  /** The last beat the peer received from this site on each path, and when (the peer's observations). */
  readonly delivered: Partial<Record<PathId, { beat: Heartbeat; atMs: number }>>;
}

/** Two-region mode: one region's replica of the cluster record and of each site's lease item. */
interface Replica {
  record: ClusterRecord;
  leases: Record<SiteId, number>;
}

/** A small seeded generator (mulberry32), so a schedule replays exactly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function runWorld(s: WorldSchedule): WorldResult {
  const next = random(s.seed);
  const mode = s.mode ?? 'quorum';
  const quorum = mode === 'quorum';
  const tuning = worldTuning(s.intervalSeconds, mode);
  const intervalMs = s.intervalSeconds * 1000;
  let record: ClusterRecord = INITIAL_CLUSTER;
  const replicas: Record<SiteId, Replica> = {
    production: { record: INITIAL_CLUSTER, leases: { production: 0, standby: 0 } },
    standby: { record: INITIAL_CLUSTER, leases: { production: 0, standby: 0 } },
  };
  const legs = { network: true, storage: true, 'production-witness': true, 'standby-witness': true };
  const witness = { crashed: false, isolated: false, pausedUntilMs: 0 };
  let lagMs = 0;
  let fenceFailures = 0;
  let maintenanceOn = false;
  let lastFaultAtMs = 0;
  const fresh = (id: SiteId): SiteState => ({
    core: new SiteCore(tuning, id, peerOf(id)),
    crashed: false,
    isolated: false,
    pausedUntilMs: 0,
    skewMs: 0,
    actingSince: undefined,
    noPrimarySinceMs: undefined,
    noPrimaryRaised: false,
    pendingFence: false,
    serial: 0,
    delivered: {},
  });
  const sites = { production: fresh('production'), standby: fresh('standby') };
  const acting: Record<SiteId, [number, number, number][]> = { production: [], standby: [] };
  const takeovers: WorldResult['takeovers'][number][] = [];
  const noPrimaryAlarms: { atMs: number; site: SiteId; primaryActing: boolean }[] = [];
  const samples: WorldSample[] = [];
  const mono = (id: SiteId, realMs: number) => realMs * (1 + s.drift[id]);
  const wall = (id: SiteId, realMs: number) => mono(id, realMs) + sites[id].skewMs;
  const runs = (id: SiteId, now: number) => !sites[id].crashed && now >= sites[id].pausedUntilMs;
  const witnessUp = (now: number) => !witness.crashed && !witness.isolated && now >= witness.pausedUntilMs;
  const linked = (path: PathId) => legs[path] && !sites.production.isolated && !sites.standby.isolated;
  const majority = (id: SiteId, now: number) =>
    !sites[id].isolated && (linked('storage') || (legs[`${id}-witness`] && witnessUp(now)));
  /** Whether a site can read (and write) the cluster record: a majority in quorum mode, its own replica otherwise. */
  const reaches = (id: SiteId, now: number) => (quorum ? majority(id, now) : true);
  const readRecord = (id: SiteId): ClusterRecord => {
    if (quorum) return record;
    const r = replicas[id];
    return { ...r.record, lease: r.leases[r.record.primary] };
  };
  const leaseTuning = sites.production.core.leaseTuning;

  const stopActing = (id: SiteId, now: number) => {
    const site = sites[id];
    if (site.actingSince !== undefined) acting[id].push([site.actingSince.atMs, now, site.actingSince.epoch]);
    site.actingSince = undefined;
  };

  type Event = { atMs: number; seq: number; run: (now: number) => void };
  const queue: Event[] = [];
  let seq = 0;
  // Kept in time order (ties in scheduling order) by binary insertion.
  const schedule = (atMs: number, run: (now: number) => void) => {
    const event = { atMs, seq: seq++, run };
    let low = 0;
    let high = queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((queue[mid] as Event).atMs <= atMs) low = mid + 1;
      else high = mid;
    }
    queue.splice(low, 0, event);
  };

  /** Two-region mode: what one replica holds reaches the other over the storage link, `lagMs` later, if the link is up then. */
  const replicate = (from: SiteId, now: number) => {
    if (quorum) return;
    const copy = { record: replicas[from].record, leases: { ...replicas[from].leases } };
    schedule(now + lagMs, () => {
      if (!linked('storage')) return;
      const to = replicas[peerOf(from)];
      for (const id of SITE_IDS) to.leases[id] = Math.max(to.leases[id], copy.leases[id]);
      // Last writer wins per item; a promotion is the newer write of the record.
      if (copy.record.epoch > to.record.epoch) to.record = copy.record;
    });
  };

  /** Writes the record through a site's view: the linearizable record, or its own replica. */
  const writeRecord = (id: SiteId, now: number, write: (r: ClusterRecord) => ClusterRecord) => {
    if (quorum) record = write(record);
    else {
      replicas[id].record = write(replicas[id].record);
      replicate(id, now);
    }
  };

  const fence = (id: SiteId, now: number, expected: { epoch: number; lease?: number }, gated: boolean) => {
    sites[id].pendingFence = false;
    if (sites[id].crashed || !reaches(id, now)) return;
    if (fenceFailures > 0) {
      fenceFailures -= 1;
      return;
    }
    const current = readRecord(id);
    if (current.epoch !== expected.epoch || current.primary === id) return;
    if (quorum && expected.lease !== undefined && (current.lease ?? 0) !== expected.lease) return;
    writeRecord(id, now, (r) => ({
      epoch: r.epoch + 1,
      primary: id,
      lease: (r.lease ?? 0) + 1,
      actAfterMs: promotionWaitMs(leaseTuning, { handedOver: false, gated }),
      promotedAtMs: now,
      ...(gated ? { gated: true } : {}),
    }));
    takeovers.push({ atMs: now, to: id, gated, kind: 'automatic', epoch: expected.epoch + 1 });
  };

  /** The module's order: record (through a majority), expired handover, renewal, role, beat; then the check. */
  const tick = (id: SiteId, now: number, kind: 'tick' | 'check') => {
    const site = sites[id];
    if (!runs(id, now)) return;
    const { core } = site;
    const m = mono(id, now);
    const nowWall = core.readClock(wall(id, now), m).nowMs;
    const reachable = reaches(id, now);
    let rec = core.clusterRead(reachable ? readRecord(id) : undefined, m);
    if (kind === 'tick') {
      const expired = core.expiredHandover(rec, m);
      if (expired !== undefined && reachable && record.handover?.execution === expired.execution) {
        const { handover: _withdrawn, ...rest } = record;
        record = rest;
        rec = rest;
      }
      if (reachable && core.shouldRenew(rec)) {
        if (quorum) {
          const renewed = record.epoch === rec.epoch && record.primary === id;
          core.renewal(renewed ? 'renewed' : 'refused', rec.epoch, m);
          if (renewed) record = { ...record, lease: (record.lease ?? 0) + 1 };
        } else {
          replicas[id].leases[id] += 1;
          core.renewal('renewed', rec.epoch, m);
          replicate(id, now);
        }
      }
    }
    // The check: the peer's beats as this site's tables hold them (read first in an invocation that must hear them).
    const reads = Object.fromEntries(
      PATHS.map((path) => {
        const d = site.delivered[path];
        return [
          path,
          d === undefined ? { unreadable: false } : { unreadable: false, arrivedAtMs: d.atMs, beat: d.beat },
        ];
      }),
    ) as Record<PathId, PeerRead>;
    if (core.needsPeerRead) core.heard(reads, rec);
    const role = core.role(rec, nowWall, m).role;
    // A decision stands until the next one (a tick or a check), a crash or a freeze.
    if (role === 'primary' && site.actingSince?.epoch !== rec.epoch) {
      stopActing(id, now);
      site.actingSince = { atMs: now, epoch: rec.epoch };
    } else if (role !== 'primary') stopActing(id, now);
    // A switchover's primary says it drained once it stopped acting (role-change.ts, confirmHandover).
    if (quorum && role === 'secondary' && reachable && record.handover !== undefined && record.primary === id)
      record = { ...record, handover: { ...record.handover, drainedAtMs: now } };
    if (kind === 'tick') {
      site.serial = Math.max(site.serial + 1, Math.floor(nowWall));
      const ack = core.ack;
      core.beatSent(site.serial, m, rec.epoch);
      const beat = {
        v: 1,
        cluster: 'world',
        site: id,
        region: id,
        serial: site.serial,
        sentAt: new Date(nowWall).toISOString(),
        epoch: rec.epoch,
        role,
        health: 'ok',
        ...(ack === undefined ? {} : { ack }),
        sig: '',
      } as Heartbeat;
      const peer = sites[peerOf(id)];
      const lost = () => now >= LOSS_FROM_MS && next() < s.loss;
      if (linked('network') && !lost()) peer.delivered.network = { beat, atMs: now };
      // Two-region mode: storage beats ride the replication that carries the record; they are not lost alone.
      if (linked('storage') && (!quorum || !lost())) {
        const deliver = (at: number) => {
          if (!linked('storage')) return;
          // The peer's module stamps a new serial with its own read; a lagging one never replaces a newer one.
          if ((peer.delivered.storage?.beat.serial ?? 0) < beat.serial) peer.delivered.storage = { beat, atMs: at };
        };
        if (lagMs === 0) deliver(now);
        else schedule(now + lagMs, deliver);
      }
    }
    const checked = core.check(reads, rec, nowWall, m);
    // The no-primary alarm, as the heartbeat module raises it: the core's condition, held for the grace.
    const none = core.noPrimary(role, rec, checked.states, nowWall, m) !== undefined;
    site.noPrimarySinceMs = none ? (site.noPrimarySinceMs ?? now) : undefined;
    if (!none) site.noPrimaryRaised = false;
    else if (!site.noPrimaryRaised && now - (site.noPrimarySinceMs ?? now) >= core.noPrimaryGraceMs) {
      site.noPrimaryRaised = true;
      noPrimaryAlarms.push({
        atMs: now,
        site: id,
        primaryActing: SITE_IDS.some((o) => sites[o].actingSince !== undefined),
      });
    }
    const decision = checked.takeover;
    if (decision.start && !site.pendingFence) {
      core.failoverStarted(rec.epoch, m);
      site.pendingFence = true;
      const expected = {
        epoch: rec.epoch,
        ...(decision.expectedLease === undefined ? {} : { lease: decision.expectedLease }),
      };
      schedule(now + next() * s.fenceDelayMaxMs, (at) => fence(id, at, expected, decision.gated));
    }
    // A decision that would change before the next tick is checked then (lambdas/heartbeat-module/index.ts).
    const wake = checked.wakeAtMs;
    const nextTickWall = nowWall + intervalMs;
    if (kind === 'tick' && checkBefore(wake, nextTickWall, intervalMs)) {
      const at = now + (wake - nowWall) / (1 + s.drift[id]);
      schedule(at, (t) => tick(id, t, 'check'));
    }
  };

  const sample = (now: number) => {
    const eligible = (id: SiteId) => runs(id, now) && (quorum ? majority(id, now) : true);
    samples.push({
      atMs: now,
      eligible: { production: eligible('production'), standby: eligible('standby') },
      productionHealthy: eligible('production') && !sites.production.isolated,
      acting: {
        production: sites.production.actingSince !== undefined,
        standby: sites.standby.actingSince !== undefined,
      },
      maintenance: maintenanceOn,
      fenceFailures,
      handover: record.handover !== undefined,
    });
  };

  for (const id of SITE_IDS) {
    for (let at = s.phaseMs[id]; at < s.durationMs; at += intervalMs) {
      const jitter = next() * 300;
      schedule(at + jitter, (now) => {
        tick(id, now, 'tick');
        sample(now);
      });
    }
  }

  /** A switchover (quorum mode): the target asks, the primary drains, the target's workflow fences when it sees the drain. */
  const switchover = (now: number) => {
    const to = peerOf(record.primary);
    if (!quorum || sites[to].crashed || !majority(to, now) || record.handover !== undefined) return;
    const execution = `switchover-${Math.round(now)}`;
    const asked = record.epoch;
    record = { ...record, handover: { to, execution, requestedAtMs: now } };
    const limitMs = (3 * tuning.intervalSeconds + 2 * tuning.rpoBudgetSeconds) * 1000;
    const poll = (at: number) => {
      // The workflow runs in the target's region: a crash there ends it.
      if (sites[to].crashed) return;
      const h = record.handover;
      if (h?.execution !== execution || record.epoch !== asked) return;
      if (!majority(to, at)) {
        if (at - now < limitMs) schedule(at + 1_000, poll);
        return;
      }
      if (h.drainedAtMs !== undefined) {
        if (fenceFailures > 0) {
          fenceFailures -= 1;
          return;
        }
        record = {
          epoch: record.epoch + 1,
          primary: to,
          lease: (record.lease ?? 0) + 1,
          handedOver: true,
          promotedAtMs: at,
        };
        takeovers.push({ atMs: at, to, gated: false, kind: 'switchover', epoch: record.epoch });
      } else if (at - now < limitMs) schedule(at + 1_000, poll);
      else {
        const { handover: _cancelled, ...rest } = record;
        record = rest;
      }
    };
    schedule(now + 1_000, poll);
  };

  for (const f of s.faults) {
    schedule(f.atMs, (now) => {
      lastFaultAtMs = Math.max(lastFaultAtMs, now);
      switch (f.fault) {
        case 'operator-failover': {
          const to = peerOf(quorum ? record.primary : replicas.standby.record.primary);
          if (!sites[to].crashed && !sites[to].pendingFence) {
            sites[to].pendingFence = true;
            const expected = { epoch: readRecord(to).epoch };
            schedule(now + next() * s.fenceDelayMaxMs, (at) => {
              const before = takeovers.length;
              fence(to, at, expected, false);
              const done = takeovers[before];
              if (done !== undefined) takeovers[before] = { ...done, kind: 'operator' };
            });
          }
          return;
        }
        case 'switchover':
          return switchover(now);
        case 'cut':
        case 'heal':
          for (const leg of f.leg === 'sites' ? (['network', 'storage'] as const) : [f.leg])
            legs[leg] = f.fault === 'heal';
          return;
        case 'lag':
          lagMs = f.ms;
          return;
        case 'fence-fail':
          fenceFailures += f.count;
          return;
        case 'maintenance':
          maintenanceOn = f.on;
          for (const id of SITE_IDS)
            sites[id].core.maintenance = { on: f.on, reason: 'world', by: 'operator', sinceMs: now };
          return;
        case 'skew':
          sites[f.site].skewMs += f.ms;
          return;
        case 'recycle':
        case 'handoff': {
          const site = sites[f.site];
          if (site.crashed) return;
          if (f.fault === 'handoff') site.core.newInvocation();
          else {
            // A new container: nothing but what the tables hold (the observations and maintenance stay).
            const maintenance = site.core.maintenance;
            site.core = new SiteCore(tuning, f.site, peerOf(f.site));
            site.core.maintenance = maintenance;
            site.pendingFence = false;
          }
          return;
        }
        default:
          break;
      }
      if (f.site === 'witness') {
        if (f.fault === 'crash') witness.crashed = true;
        if (f.fault === 'restart') Object.assign(witness, { crashed: false, pausedUntilMs: 0 });
        if (f.fault === 'isolate') witness.isolated = true;
        if (f.fault === 'heal-site') witness.isolated = false;
        if (f.fault === 'pause') witness.pausedUntilMs = now + (f.ms ?? 0);
        return;
      }
      const site = sites[f.site];
      if (f.fault === 'crash') {
        site.crashed = true;
        stopActing(f.site, now);
      } else if (f.fault === 'restart' && site.crashed) {
        // A cold container: nothing but what the tables hold (the observations stay).
        const maintenance = site.core.maintenance;
        Object.assign(site, {
          core: new SiteCore(tuning, f.site, peerOf(f.site)),
          crashed: false,
          pausedUntilMs: Math.min(site.pausedUntilMs, now),
          pendingFence: false,
        });
        site.core.maintenance = maintenance;
      } else if (f.fault === 'isolate') {
        site.isolated = true;
      } else if (f.fault === 'heal-site') {
        site.isolated = false;
      } else if (f.fault === 'pause') {
        site.pausedUntilMs = now + (f.ms ?? 0);
        stopActing(f.site, now);
      }
    });
  }

  for (let i = 0; i < queue.length; i += 1) {
    const event = queue[i] as Event;
    if (event.atMs > s.durationMs) break;
    event.run(event.atMs);
  }
  for (const id of SITE_IDS) stopActing(id, s.durationMs);
  return {
    acting,
    takeovers,
    finalRecord: quorum ? record : replicas.standby.record,
    noPrimaryAlarms,
    samples,
    lastFaultAtMs,
  };
}

/** The longest time two sites acted as primary at once. */
export function overlapMs(result: WorldResult): number {
  let worst = 0;
  for (const [a0, a1] of result.acting.production) {
    for (const [b0, b1] of result.acting.standby) worst = Math.max(worst, Math.min(a1, b1) - Math.max(a0, b0));
  }
  return worst;
}

/**
 * The promises every schedule must keep, as named violations (empty: kept):
 * - `two-primaries`: two sites acting at once (quorum mode, and two-region mode under self-fence);
 * - `fenced-acts`: a site acting at an epoch after a later epoch's primary began to act;
 * - `no-primary` (quorum mode): a site ran and reached a majority, automatic failover was allowed, and
 *   still no site acted for longer than `boundMs` (the detection bound, and a lease per failed fence);
 * - `false-failover` (quorum mode): an automatic takeover while production ran, reached a majority,
 *   was not cut off and was asked to hand over by no switchover, for the lease and the margin before it.
 */
export function worldViolations(s: WorldSchedule, result: WorldResult): string[] {
  const out: string[] = [];
  const mode = s.mode ?? 'quorum';
  const t = worldTuning(s.intervalSeconds, mode);
  const overlap = overlapMs(result);
  if (overlap > 0) out.push(`two-primaries: overlapping for ${Math.round(overlap)} ms`);
  for (const id of SITE_IDS)
    for (const [from, , epoch] of result.acting[id]) {
      const later = SITE_IDS.flatMap((o) => result.acting[o]).find(([f, , e]) => e > epoch && f < from);
      if (later !== undefined)
        out.push(`fenced-acts: ${id} acts at epoch ${epoch} from ${from} ms, after epoch ${later[2]}`);
    }
  if (mode !== 'quorum') return out;
  const leaseMs = t.leaseSeconds * 1000;
  const marginMs = Math.max(1_000, Math.ceil(leaseMs * 0.05));
  const intervalMs = t.intervalSeconds * 1000;
  const maxDrift = Math.max(Math.abs(s.drift.production), Math.abs(s.drift.standby));
  // The trigger (the path deadline: up to the ceiling on a lossy path, the window and an interval more to confirm a
  // step-down) or the lease and the margin, whichever is later; the fence; the promoted site's wait; ticks around it.
  const triggerMs = t.deadlineCeilingSeconds * 1000 + t.confirmationWindowSeconds * 1000 + 2 * intervalMs;
  const boundMs = (ms: number) =>
    (Math.max(triggerMs, leaseMs + marginMs, 2 * leaseMs) + s.fenceDelayMaxMs + 4 * intervalMs + ms) *
    (1 + 2 * maxDrift);
  let noneSince: number | undefined;
  let firstPrimary = false;
  const eligibleSince: Record<SiteId, number | undefined> = { production: undefined, standby: undefined };
  let allowedSince: number | undefined;
  for (const x of result.samples) {
    for (const id of SITE_IDS) eligibleSince[id] = x.eligible[id] ? (eligibleSince[id] ?? x.atMs) : undefined;
    allowedSince = !x.maintenance ? (allowedSince ?? x.atMs) : undefined;
    const anyActing = x.acting.production || x.acting.standby;
    firstPrimary ||= anyActing;
    noneSince = anyActing || !firstPrimary ? undefined : (noneSince ?? x.atMs);
    if (noneSince === undefined || allowedSince === undefined) continue;
    const bound = boundMs(x.fenceFailures * (leaseMs + s.fenceDelayMaxMs + intervalMs));
    const since = Math.max(noneSince, allowedSince, Math.min(...SITE_IDS.map((id) => eligibleSince[id] ?? Infinity)));
    if (x.atMs - since > bound) {
      out.push(
        `no-primary: none acting from ${Math.round(noneSince)} ms to ${Math.round(x.atMs)} ms while a site ran with a majority (bound ${Math.round(bound)} ms)`,
      );
      break;
    }
  }
  for (const takeover of result.takeovers) {
    if (takeover.kind !== 'automatic') continue;
    const window = result.samples.filter(
      (x) => x.atMs <= takeover.atMs && x.atMs >= takeover.atMs - (leaseMs + marginMs) * (1 + 2 * maxDrift),
    );
    if (window.length > 0 && window.every((x) => x.productionHealthy && !x.handover) && takeover.to === 'standby')
      out.push(
        `false-failover: standby took over at ${Math.round(takeover.atMs)} ms from a production healthy for a lease before`,
      );
  }
  return out;
}
