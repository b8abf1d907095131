import { type CarriedWatch, drainLimitMs, promotionWaitMs } from '../lambdas/core/lease';
import { SiteCore } from '../lambdas/core/site';
import { InvocationPlan, RECLAIM_SLACK_MS, type Step, type StepReport } from '../lambdas/heartbeat-module/driver';
import { reclaimAfterMs, TICKER_DEAD_AFTER_INTERVALS } from '../lambdas/heartbeat-module/ticker';
import { type ClusterRecord, INITIAL_CLUSTER } from '../lambdas/core/volume';
import { type PathId, peerOf, SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { SiteClock } from './clock';
import * as world from './world-types';
export * from './world-types';
export { overlapMs, worldViolations } from './world-invariants';
export function runWorld(s: world.WorldSchedule): world.WorldResult {
  const next = world.random(s.seed);
  const mode = s.mode ?? 'quorum';
  const quorum = mode === 'quorum';
  const tuning = world.worldTuning(s.intervalSeconds, mode);
  const intervalMs = s.intervalSeconds * 1000;
  let record: ClusterRecord = INITIAL_CLUSTER;
  const replicas: Record<SiteId, world.Replica> = {
    production: { record: INITIAL_CLUSTER, leases: { production: 0, standby: 0 } },
    standby: { record: INITIAL_CLUSTER, leases: { production: 0, standby: 0 } },
  };
  const legs = { network: true, storage: true, 'production-witness': true, 'standby-witness': true };
  const witness: world.Witness = { crashed: false, isolated: false, pausedUntilMs: 0 };
  let lagMs = 0;
  let fenceFailures = 0;
  let maintenanceOn = false;
  let lastFaultAtMs = 0;
  const fresh = (id: SiteId): world.SiteState => ({
    core: new SiteCore(tuning, id, peerOf(id)),
    crashed: false,
    isolated: false,
    pausedUntilMs: 0,
    actingSince: undefined,
    noPrimarySinceMs: undefined,
    noPrimaryRaised: false,
    pendingFence: false,
    serial: 0,
    delivered: {},
  });
  const sites = { production: fresh('production'), standby: fresh('standby') };
  /** A new container (recycle or cold restart): nothing but what the tables hold; the observations and maintenance stay. */
  const newContainer = (id: SiteId): void => {
    const { maintenance } = sites[id].core;
    Object.assign(sites[id], { core: new SiteCore(tuning, id, peerOf(id)), pendingFence: false });
    sites[id].core.maintenance = maintenance;
  };
  const acting: Record<SiteId, [number, number, number][]> = { production: [], standby: [] };
  const takeovers: world.WorldResult['takeovers'][number][] = [];
  const noPrimaryAlarms: { atMs: number; site: SiteId; primaryActing: boolean }[] = [];
  const samples: world.WorldSample[] = [];
  // Each site's own clocks (the runtime's): the schedule's rate error from the start, drift and skew faults later.
  const clocks = { production: new SiteClock(), standby: new SiteClock() };
  for (const id of SITE_IDS) clocks[id].drift(0, s.drift[id] * 1e6);
  const mono = (id: SiteId, realMs: number) => clocks[id].mono(realMs);
  const wall = (id: SiteId, realMs: number) => clocks[id].wall(realMs);
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

  const queue = new world.EventQueue();
  const schedule = (atMs: number, run: (now: number) => void) => queue.schedule(atMs, run);

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
    if (!linked('network')) return; // the fence message (fence.ts): a beat claiming primary at the new epoch
    const serial = (sites[id].serial = Math.max(sites[id].serial + 1, Math.floor(wall(id, now))));
    const beat = world.worldBeat(id, serial, wall(id, now), expected.epoch + 1, 'primary', undefined);
    sites[peerOf(id)].delivered.network = { beat, atMs: now };
  };

  /** The module's order: record (through a majority), expired handover, renewal, the peer heard, role, beat; the check. */
  const tick = (id: SiteId, now: number, kind: 'tick' | 'check'): StepReport => {
    const site = sites[id];
    const { core } = site;
    const m = mono(id, now);
    const nowWall = core.readClock(wall(id, now), m).nowMs;
    // The tick's serial update leaves its watch in the site's own table (as it stood before this tick's read).
    if (kind === 'tick') carried[id] = core.watchToCarry(m);
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
    // The peer's beats as this site's tables hold them, heard before the role decision and checked after the beat.
    const reads = world.peerReads(site.delivered);
    core.heard(reads, rec);
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
      const beat = world.worldBeat(id, site.serial, nowWall, rec.epoch, role, ack);
      const peer = sites[peerOf(id)];
      const lost = () => now >= world.LOSS_FROM_MS && next() < s.loss;
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
    if (world.raisesNoPrimary(site, none, rec.epoch, now, core.noPrimaryGraceMs)) {
      const primaryActing = SITE_IDS.some((o) => sites[o].actingSince !== undefined);
      noPrimaryAlarms.push({ atMs: now, site: id, primaryActing });
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
    return { atMs: nowWall, wakeAtMs: checked.wakeAtMs, superseded: false };
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

  /**
   * A site's invocation, stepped as the handler's loop steps it (lambdas/heartbeat-module/driver.ts): its
   * ticks and checks on its own clock, each tick's timer up to 300 ms late, a frozen site's next step at
   * the end of the freeze. A newer invocation (a handoff, a recycle, a restart, the ten minutes run out)
   * ends the one before; a crash ends it.
   */
  const invocations: Record<SiteId, number> = { production: 0, standby: 0 };
  /** The lease watch each site's ticker left on its serial item, for the next invocation. */
  const carried: Record<SiteId, CarriedWatch | undefined> = { production: undefined, standby: undefined };
  /** When each site's ticker last ticked (its own monotonic clock): the claim a restart needs (ticker.ts). */
  const tickedAtMono: Record<SiteId, number> = { production: -Infinity, standby: -Infinity };
  /** A cold restart's invocation claims the dead ticker as the handler's loop does (driver.ts, runInvocation). */
  const claimThenInvoke = (id: SiteId, startAt: number) => {
    const inv = invocations[id];
    const claimableInMs = (at: number) => tickedAtMono[id] + TICKER_DEAD_AFTER_INTERVALS * intervalMs - mono(id, at);
    const claimable = (at: number) => claimableInMs(at) <= 0;
    if (claimable(startAt)) return invoke(id, startAt);
    const waitMs = Math.min(reclaimAfterMs(s.intervalSeconds), claimableInMs(startAt) + RECLAIM_SLACK_MS);
    schedule(startAt + clocks[id].realFor(waitMs), (now) => {
      if (invocations[id] === inv && !sites[id].crashed && claimable(now)) invoke(id, now);
    });
  };
  const invoke = (id: SiteId, startAt: number) => {
    const inv = ++invocations[id];
    // It claims the ticker and takes the lease watch the last ticker left there (ticker-store.ts).
    sites[id].core.newInvocation(carried[id]);
    const plan = new InvocationPlan(intervalMs, mono(id, startAt));
    const go = (step: Step, from: number) => {
      if (step.kind === 'stop') {
        // Its successor claimed the ticker before it stopped: a new invocation of the same core.
        invoke(id, from);
        return;
      }
      const late = step.kind === 'tick' ? next() * 300 : 0;
      const run = (now: number) => {
        if (invocations[id] !== inv || sites[id].crashed) return;
        if (now < sites[id].pausedUntilMs) return schedule(sites[id].pausedUntilMs, run);
        const began = mono(id, now);
        const report = tick(id, now, step.kind);
        if (step.kind === 'tick') tickedAtMono[id] = began;
        if (step.kind === 'tick') sample(now);
        go(plan.after(step.kind, began, report), now);
      };
      schedule(from + clocks[id].realFor(step.atMono - mono(id, from)) + late, run);
    };
    go(plan.first(), startAt);
  };
  for (const id of SITE_IDS) {
    invoke(id, s.phaseMs[id]);
    // Samples on a fixed grid too: a crashed or frozen site is checked while it does not tick.
    for (let at = s.phaseMs[id]; at < s.durationMs; at += intervalMs) schedule(at, sample);
  }

  /** A switchover (quorum mode): the target asks, the primary drains, the target's workflow fences when it sees the drain. */
  const switchover = (now: number) => {
    const to = peerOf(record.primary);
    if (!quorum || sites[to].crashed || !majority(to, now) || record.handover !== undefined) return;
    const execution = `switchover-${Math.round(now)}`;
    const asked = record.epoch;
    record = { ...record, handover: { to, execution, requestedAtMs: now } };
    const limitMs = drainLimitMs(tuning);
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
          clocks[f.site].skewMs += f.ms;
          return;
        case 'drift':
          clocks[f.site].drift(now, f.ppm);
          return;
        case 'recycle':
        case 'handoff': {
          if (sites[f.site].crashed) return;
          if (f.fault === 'recycle') newContainer(f.site);
          invoke(f.site, now);
          return;
        }
        default:
          break;
      }
      if (f.site === 'witness') return world.witnessFault(witness, f, now);
      const site = sites[f.site];
      if (f.fault === 'crash') {
        site.crashed = true;
        invocations[f.site] += 1;
        stopActing(f.site, now);
      } else if (f.fault === 'restart' && site.crashed) {
        newContainer(f.site);
        Object.assign(site, { crashed: false, pausedUntilMs: Math.min(site.pausedUntilMs, now) });
        claimThenInvoke(f.site, now);
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

  queue.runUntil(s.durationMs);
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
