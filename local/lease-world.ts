import { parseConfig, tuningOf } from '../lib/config';
import { promotionWaitMs } from '../lambdas/core/lease';
import type { Heartbeat } from '../lambdas/core/message';
import { type PeerRead, SiteCore } from '../lambdas/core/site';
import { type ClusterRecord, INITIAL_CLUSTER } from '../lambdas/core/volume';
import { PATHS, type PathId, peerOf, SITE_IDS, type SiteId } from '../lambdas/core/wire';

/**
 * The role protocol in memory, in quorum mode: two sites each running the site core the
 * heartbeat module runs (lambdas/core/site.ts: detectors, verdict, lease, role, takeover), a
 * linearizable cluster record behind the majority rule, a witness, beats on two paths that
 * get lost at random (false suspicion when both are lost), drifting monotonic clocks, late
 * ticks, slow fences, and faults. Thousands of random schedules run in seconds
 * (test/lambdas/core/lease.property.test.ts); the local runtime proves the wiring with fewer,
 * longer runs on DynamoDB Local.
 */

export type WorldFault =
  | {
      readonly atMs: number;
      readonly fault: 'crash' | 'restart' | 'isolate' | 'pause';
      readonly site: SiteId | 'witness';
      readonly ms?: number;
    }
  | {
      readonly atMs: number;
      readonly fault: 'cut' | 'heal';
      readonly leg: 'sites' | 'production-witness' | 'standby-witness';
    }
  | { readonly atMs: number; readonly fault: 'operator-failover' };

export interface WorldSchedule {
  readonly seed: number;
  readonly durationMs: number;
  readonly intervalSeconds: number;
  /** Each site's clock rate error (0.01: 1 % fast), and its tick phase. */
  readonly drift: Readonly<Record<SiteId, number>>;
  readonly phaseMs: Readonly<Record<SiteId, number>>;
  /** The chance that one beat is lost on one path after LOSS_FROM_MS: at 1 both paths fail with the peer alive (false suspicion). */
  readonly loss: number;
  /** How long the workflow takes from the start to the fence's conditional write, at most. */
  readonly fenceDelayMaxMs: number;
  readonly faults: readonly WorldFault[];
}

export interface WorldResult {
  /** Real-time intervals during which each site acted as primary (from one decision to the next). */
  readonly acting: Readonly<Record<SiteId, readonly (readonly [number, number])[]>>;
  readonly takeovers: readonly { readonly atMs: number; readonly to: SiteId; readonly gated: boolean }[];
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
}

const tunings = new Map<number, ReturnType<typeof tuningOf>>();

/** The tuning a deployed site gets at this interval with every other key left to its default (quorum mode). */
export function worldTuning(intervalSeconds: number): ReturnType<typeof tuningOf> {
  let t = tunings.get(intervalSeconds);
  if (t === undefined)
    tunings.set(
      intervalSeconds,
      (t = tuningOf(
        parseConfig({
          clusterName: 'world',
          productionRegion: 'us-east-1',
          standbyRegion: 'us-west-2',
          intervalSeconds,
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
  actingSinceMs: number | undefined;
  /** Since when its core has seen no site acting as primary, and whether it raised the alarm for it. */
  noPrimarySinceMs: number | undefined;
  noPrimaryRaised: boolean;
  pendingFence: boolean;
  serial: number;
  /** The last beat the peer received from this site on each path, and when (the peer's observations). */
  readonly delivered: Partial<Record<PathId, { beat: Heartbeat; atMs: number }>>;
  role: Heartbeat['role'];
  epoch: number;
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
  const tuning = worldTuning(s.intervalSeconds);
  const intervalMs = s.intervalSeconds * 1000;
  let record: ClusterRecord = INITIAL_CLUSTER;
  const legs = { sites: true, 'production-witness': true, 'standby-witness': true };
  const witness = { crashed: false, isolated: false, pausedUntilMs: 0 };
  const fresh = (id: SiteId): SiteState => ({
    core: new SiteCore(tuning, id, peerOf(id)),
    crashed: false,
    isolated: false,
    pausedUntilMs: 0,
    actingSinceMs: undefined,
    noPrimarySinceMs: undefined,
    noPrimaryRaised: false,
    pendingFence: false,
    serial: 0,
    delivered: {},
    role: 'secondary',
    epoch: 1,
  });
  const sites = { production: fresh('production'), standby: fresh('standby') };
  const acting: Record<SiteId, [number, number][]> = { production: [], standby: [] };
  const takeovers: { atMs: number; to: SiteId; gated: boolean }[] = [];
  const noPrimaryAlarms: { atMs: number; site: SiteId; primaryActing: boolean }[] = [];
  const mono = (id: SiteId, realMs: number) => realMs * (1 + s.drift[id]);
  const witnessUp = (now: number) => !witness.crashed && !witness.isolated && now >= witness.pausedUntilMs;
  const linked = () => legs.sites && !sites.production.isolated && !sites.standby.isolated;
  const majority = (id: SiteId, now: number) =>
    !sites[id].isolated && (linked() || (legs[`${id}-witness`] && witnessUp(now)));
  const leaseTuning = sites.production.core.leaseTuning;

  const stopActing = (id: SiteId, now: number) => {
    const site = sites[id];
    if (site.actingSinceMs !== undefined) acting[id].push([site.actingSinceMs, now]);
    site.actingSinceMs = undefined;
  };

  const fence = (id: SiteId, now: number, expected: { epoch: number; lease?: number }, gated: boolean) => {
    sites[id].pendingFence = false;
    if (sites[id].crashed || !majority(id, now)) return;
    if (record.epoch !== expected.epoch || record.primary === id) return;
    if (expected.lease !== undefined && (record.lease ?? 0) !== expected.lease) return;
    record = {
      epoch: record.epoch + 1,
      primary: id,
      lease: (record.lease ?? 0) + 1,
      actAfterMs: promotionWaitMs(leaseTuning, { handedOver: false, gated }),
    };
    takeovers.push({ atMs: now, to: id, gated });
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

  /** One tick of the heartbeat module, as module.ts runs it: read, renew, decide the role, beat, check, maybe start a failover. */
  const tick = (id: SiteId, now: number) => {
    const site = sites[id];
    if (site.crashed || now < site.pausedUntilMs) return;
    const { core } = site;
    const m = mono(id, now);
    const reachable = majority(id, now);
    const rec = core.clusterRead(reachable ? record : undefined, m);
    if (reachable && core.shouldRenew(rec)) {
      const renewed = record.epoch === rec.epoch && record.primary === id;
      core.renewal(renewed ? 'renewed' : 'refused', rec.epoch, m);
      if (renewed) record = { ...record, lease: (record.lease ?? 0) + 1 };
    }
    const role = core.role(rec, now, m).role;
    // A decision stands until the next tick; the next tick (or a crash or freeze) ends it.
    if (role === 'primary') site.actingSinceMs ??= now;
    else stopActing(id, now);
    site.role = role;
    site.epoch = rec.epoch;
    // The beat, on both paths: each gets through when the sites are linked and the peer runs, unless lost.
    site.serial += 1;
    const beat = {
      v: 1,
      cluster: 'world',
      site: id,
      region: id,
      serial: site.serial,
      sentAt: new Date(now).toISOString(),
      epoch: rec.epoch,
      role,
      health: 'ok',
      sig: '',
    } as Heartbeat;
    for (const path of PATHS)
      if (linked() && (now < LOSS_FROM_MS || next() >= s.loss)) site.delivered[path] = { beat, atMs: now };
    // The check: the peer's beats as this site's tables hold them.
    const peer = sites[peerOf(id)];
    const reads = Object.fromEntries(
      PATHS.map((path) => [
        path,
        peer.delivered[path] === undefined
          ? { unreadable: false }
          : { unreadable: false, arrivedAtMs: peer.delivered[path].atMs, beat: peer.delivered[path].beat },
      ]),
    ) as Record<PathId, PeerRead>;
    const checked = core.check(reads, rec, now, m);
    // The no-primary alarm, as the heartbeat module raises it: the core's condition, held for the grace.
    const none = core.noPrimary(role, rec, checked.states, now, m) !== undefined;
    site.noPrimarySinceMs = none ? (site.noPrimarySinceMs ?? now) : undefined;
    if (!none) site.noPrimaryRaised = false;
    else if (!site.noPrimaryRaised && now - (site.noPrimarySinceMs ?? now) >= core.noPrimaryGraceMs) {
      site.noPrimaryRaised = true;
      noPrimaryAlarms.push({
        atMs: now,
        site: id,
        primaryActing: SITE_IDS.some((o) => sites[o].actingSinceMs !== undefined),
      });
    }
    const decision = checked.takeover;
    if (!decision.start || site.pendingFence) return;
    core.failoverStarted(rec.epoch, m);
    site.pendingFence = true;
    const expected = {
      epoch: rec.epoch,
      ...(decision.expectedLease === undefined ? {} : { lease: decision.expectedLease }),
    };
    schedule(now + next() * s.fenceDelayMaxMs, (at) => fence(id, at, expected, decision.gated));
  };

  for (const id of SITE_IDS) {
    for (let at = s.phaseMs[id]; at < s.durationMs; at += intervalMs) {
      const jitter = next() * 300;
      schedule(at + jitter, (now) => tick(id, now));
    }
  }
  for (const f of s.faults) {
    schedule(f.atMs, (now) => {
      if (f.fault === 'operator-failover') {
        const to = peerOf(record.primary);
        if (!sites[to].crashed && !sites[to].pendingFence) {
          sites[to].pendingFence = true;
          const expected = { epoch: record.epoch };
          schedule(now + next() * s.fenceDelayMaxMs, (at) => fence(to, at, expected, false));
        }
        return;
      }
      if ('leg' in f) {
        legs[f.leg] = f.fault === 'heal';
        return;
      }
      if (f.site === 'witness') {
        if (f.fault === 'crash') witness.crashed = true;
        if (f.fault === 'restart') Object.assign(witness, { crashed: false, pausedUntilMs: 0 });
        if (f.fault === 'isolate') witness.isolated = true;
        if (f.fault === 'pause') witness.pausedUntilMs = now + (f.ms ?? 0);
        return;
      }
      const site = sites[f.site];
      if (f.fault === 'crash') {
        site.crashed = true;
        stopActing(f.site, now);
      } else if (f.fault === 'restart' && site.crashed) {
        // A cold container: nothing but what the tables hold (the observations stay).
        Object.assign(site, {
          core: new SiteCore(tuning, f.site, peerOf(f.site)),
          crashed: false,
          pausedUntilMs: Math.min(site.pausedUntilMs, now),
          pendingFence: false,
        });
      } else if (f.fault === 'isolate') {
        site.isolated = true;
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
  return { acting, takeovers, finalRecord: record, noPrimaryAlarms };
}

/** The longest time two sites acted as primary at once. */
export function overlapMs(result: WorldResult): number {
  let worst = 0;
  for (const [a0, a1] of result.acting.production) {
    for (const [b0, b1] of result.acting.standby) worst = Math.max(worst, Math.min(a1, b1) - Math.max(a0, b0));
  }
  return worst;
}
