import {
  driftMarginMs,
  FRESH_LEASE,
  type LeaseState,
  type LeaseTuning,
  promotionSeen,
  promotionWaitMs,
  renewalRefused,
  renewed,
  roleOf,
  takeover,
  watched,
} from '../lambdas/core/lease';
import { type ClusterRecord, INITIAL_CLUSTER } from '../lambdas/core/volume';
import { peerOf, SITE_IDS, type SiteId } from '../lambdas/core/wire';

/**
 * The role protocol in memory, in quorum mode: two sites driving the same decision functions
 * the heartbeat module drives (lambdas/core/lease.ts), a linearizable cluster record behind the
 * majority rule, a witness, drifting monotonic clocks, late ticks, slow fences, false suspicion
 * and faults. Thousands of random schedules run in seconds (test/lambdas/core/lease.property.test.ts);
 * the local runtime proves the wiring with fewer, longer runs on DynamoDB Local.
 */

export type WorldFault =
  | { readonly atMs: number; readonly fault: 'crash' | 'restart' | 'isolate' | 'pause'; readonly site: SiteId | 'witness'; readonly ms?: number }
  | { readonly atMs: number; readonly fault: 'cut' | 'heal'; readonly leg: 'sites' | 'production-witness' | 'standby-witness' }
  | { readonly atMs: number; readonly fault: 'operator-failover' };

export interface WorldSchedule {
  readonly seed: number;
  readonly durationMs: number;
  readonly intervalMs: number;
  readonly leaseMs: number;
  /** Each site's clock rate error (0.01: 1 % fast), and its tick phase. */
  readonly drift: Readonly<Record<SiteId, number>>;
  readonly phaseMs: Readonly<Record<SiteId, number>>;
  /** Chance that the standby's trigger fires with the peer alive (both paths falsely suspect it). */
  readonly falseSuspicion: number;
  /** How long the workflow takes from the start to the fence's conditional write, at most. */
  readonly fenceDelayMaxMs: number;
  readonly faults: readonly WorldFault[];
}

export interface WorldResult {
  /** Real-time intervals during which each site acted as primary (from one decision to the next). */
  readonly acting: Readonly<Record<SiteId, readonly (readonly [number, number])[]>>;
  readonly takeovers: readonly { readonly atMs: number; readonly to: SiteId; readonly gated: boolean }[];
  readonly finalRecord: ClusterRecord;
}

interface SiteState {
  lease: LeaseState;
  cached: ClusterRecord | undefined;
  crashed: boolean;
  isolated: boolean;
  pausedUntilMs: number;
  actingSinceMs: number | undefined;
  downSinceMs: number | undefined;
  pendingFence: boolean;
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
  const t: LeaseTuning = { mode: 'quorum', leaseMs: s.leaseMs, driftMarginMs: driftMarginMs(s.leaseMs), isolationPolicy: 'self-fence', holdMs: s.intervalMs };
  let record: ClusterRecord = INITIAL_CLUSTER;
  const legs = { sites: true, 'production-witness': true, 'standby-witness': true };
  /** Since when the sites' leg has been cut: both paths between them are down with it. */
  let sitesCutSinceMs: number | undefined;
  const witness = { crashed: false, isolated: false, pausedUntilMs: 0 };
  const sites = Object.fromEntries(SITE_IDS.map((id) => [id, { lease: FRESH_LEASE, cached: undefined, crashed: false, isolated: false, pausedUntilMs: 0, actingSinceMs: undefined, downSinceMs: undefined, pendingFence: false }])) as Record<SiteId, SiteState>;
  const acting: Record<SiteId, [number, number][]> = { production: [], standby: [] };
  const takeovers: { atMs: number; to: SiteId; gated: boolean }[] = [];
  const mono = (id: SiteId, realMs: number) => realMs * (1 + s.drift[id]);
  const witnessUp = (now: number) => !witness.crashed && !witness.isolated && now >= witness.pausedUntilMs;
  const majority = (id: SiteId, now: number) =>
    !sites[id].isolated && ((legs.sites && !sites[peerOf(id)].isolated) || (legs[`${id}-witness`] && witnessUp(now)));

  const stopActing = (id: SiteId, now: number) => {
    const site = sites[id];
    if (site.actingSinceMs !== undefined) acting[id].push([site.actingSinceMs, now]);
    site.actingSinceMs = undefined;
  };
  const down = (id: SiteId, now: number) => {
    sites[id].downSinceMs ??= now;
  };

  const fence = (id: SiteId, now: number, expected: { epoch: number; lease?: number }, gated: boolean) => {
    sites[id].pendingFence = false;
    if (sites[id].crashed || !majority(id, now)) return;
    if (record.epoch !== expected.epoch || record.primary === id) return;
    if (expected.lease !== undefined && (record.lease ?? 0) !== expected.lease) return;
    record = { epoch: record.epoch + 1, primary: id, lease: (record.lease ?? 0) + 1, actAfterMs: promotionWaitMs(t, { handedOver: false, gated }) };
    takeovers.push({ atMs: now, to: id, gated });
  };

  type Event = { atMs: number; seq: number; run: (now: number) => void };
  const queue: Event[] = [];
  let seq = 0;
  const schedule = (atMs: number, run: (now: number) => void) => {
    queue.push({ atMs, seq: seq++, run });
  };

  const tick = (id: SiteId, now: number) => {
    const site = sites[id];
    if (site.crashed || now < site.pausedUntilMs) return;
    const m = mono(id, now);
    const reachable = majority(id, now);
    if (reachable) {
      site.cached = record;
      site.lease = promotionSeen(watched(site.lease, record, m), record, id, m);
    }
    const rec = site.cached ?? INITIAL_CLUSTER;
    if (rec.primary === id && reachable) {
      site.lease = record.epoch === rec.epoch && record.primary === id ? renewed(site.lease, rec.epoch, m) : renewalRefused(site.lease);
      if (record.epoch === rec.epoch && record.primary === id) record = { ...record, lease: (record.lease ?? 0) + 1 };
    }
    const role = roleOf(site.lease, t, { site: id, peer: peerOf(id), record: rec, nowMono: m, nowWall: now, peerConfirmedAtWall: undefined, peerSteppedDown: false }).role;
    // A decision stands until the next tick; the next tick (or a crash or freeze) ends it.
    if (role === 'primary') site.actingSinceMs ??= now;
    else stopActing(id, now);
  };

  // The standby's side of a tick: the trigger (true or false suspicion) through the gate.
  const watch = (id: SiteId, now: number) => {
    const site = sites[id];
    if (site.crashed || now < site.pausedUntilMs || site.pendingFence) return;
    const rec = site.cached ?? INITIAL_CLUSTER;
    if (rec.primary === id) return;
    const peer = sites[peerOf(id)];
    // The trigger: both paths silent for the confirmation window, because the peer is down or cut off from this site.
    const silentSince = Math.min(peer.downSinceMs ?? Infinity, sitesCutSinceMs ?? Infinity, site.isolated ? (site.downSinceMs ?? Infinity) : Infinity);
    const trigger = now - silentSince >= 10_000 || next() < s.falseSuspicion ? 'peer-lost' : undefined;
    const decision = takeover(site.lease, t, { site: id, record: rec, nowMono: mono(id, now), trigger, onPeerFailure: 'notify', fencedByBeat: false });
    if (!decision.start) return;
    site.pendingFence = true;
    const expected = { epoch: rec.epoch, ...(decision.expectedLease === undefined ? {} : { lease: decision.expectedLease }) };
    schedule(now + next() * s.fenceDelayMaxMs, (at) => fence(id, at, expected, decision.gated));
  };

  for (const id of SITE_IDS) {
    for (let at = s.phaseMs[id]; at < s.durationMs; at += s.intervalMs) {
      const jitter = next() * 300;
      schedule(at + jitter, (now) => {
        tick(id, now);
        watch(id, now);
      });
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
        if (f.leg === 'sites') sitesCutSinceMs = f.fault === 'cut' ? (sitesCutSinceMs ?? now) : undefined;
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
        down(f.site, now);
      } else if (f.fault === 'restart') {
        // A cold container: nothing but what the record says.
        Object.assign(site, { crashed: false, pausedUntilMs: Math.min(site.pausedUntilMs, now), lease: FRESH_LEASE, cached: undefined, pendingFence: false });
        if (!site.isolated) site.downSinceMs = undefined;
      } else if (f.fault === 'isolate') {
        site.isolated = true;
        down(f.site, now);
      } else if (f.fault === 'pause') {
        site.pausedUntilMs = now + (f.ms ?? 0);
        stopActing(f.site, now);
      }
    });
  }

  queue.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
  while (queue.length > 0) {
    const event = queue.shift() as Event;
    if (event.atMs > s.durationMs) break;
    event.run(event.atMs);
    // Events scheduled by this one (fences) keep the queue in time order.
    queue.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
  }
  for (const id of SITE_IDS) stopActing(id, s.durationMs);
  return { acting, takeovers, finalRecord: record };
}

/** The longest time two sites acted as primary at once. */
export function overlapMs(result: WorldResult): number {
  let worst = 0;
  for (const [a0, a1] of result.acting.production) {
    for (const [b0, b1] of result.acting.standby) worst = Math.max(worst, Math.min(a1, b1) - Math.max(a0, b0));
  }
  return worst;
}
