import type { Heartbeat } from '../lambdas/core/message';
import type { CarriedWatch } from '../lambdas/core/lease';
import { type PeerRead, SiteCore } from '../lambdas/core/site';
import { InvocationPlan } from '../lambdas/heartbeat-module/driver';
import type { ClusterRecord } from '../lambdas/core/volume';
import type { PathId, Tuning } from '../lambdas/core/wire';
import type { Beat, Trace } from './traces';

/**
 * The standby's decision over one trace, made by the very core the heartbeat module runs
 * (lambdas/core/site.ts), called in the module's order (lambdas/heartbeat-module/module.ts,
 * `tick`) and at the times the handler's own plan steps it (lambdas/heartbeat-module/driver.ts,
 * `InvocationPlan`): each invocation begins (`newInvocation`, or a fresh core in a fresh container,
 * with the lease watch the last ticker left),
 * each tick reads the clock, the cluster record (through a majority, or not at all), and the
 * peer's beat on each path, and the core decides. What the module reads from its tables is
 * what the trace makes visible by then; what outlives a container (the observations of the
 * peer's last beats, in the local table) outlives it here too.
 */
export interface DriveOptions {
  readonly tuning: Tuning;
  /** Paths the checker counts (the others disabled, as an operator would). */
  readonly paths: readonly PathId[];
}

const MODULE_SITE = { site: 'standby', peer: 'production' } as const;

function heartbeatOf(beat: Beat): Heartbeat {
  return {
    v: 1,
    cluster: 'bench',
    site: 'production',
    region: 'us-east-1',
    serial: beat.serial,
    sentAt: new Date(beat.sentAtMs).toISOString(),
    epoch: 1,
    role: 'primary',
    health: beat.healthFailed ? 'failed' : 'ok',
    sig: `${'A'.repeat(43)}=`,
  };
}

/** Beats ordered by when each path makes them visible, with a cursor per path. */
class PathView {
  private readonly order: readonly Beat[];
  private next = 0;
  /** The newest beat visible so far (by serial), and when the module recorded it as arrived. */
  newest: Beat | undefined;
  arrivedAtMs: number | undefined;

  constructor(
    beats: readonly Beat[],
    private readonly at: (b: Beat) => number,
  ) {
    this.order = beats.filter((b) => Number.isFinite(at(b))).sort((a, b) => at(a) - at(b));
  }

  /** Every beat visible by `now`; returns the newest by serial. */
  advance(now: number): Beat | undefined {
    while (this.next < this.order.length && this.at(this.order[this.next] as Beat) <= now) {
      const b = this.order[this.next] as Beat;
      if (this.newest === undefined || b.serial > this.newest.serial) this.newest = b;
      this.next += 1;
    }
    return this.newest;
  }
}

/** The time of the first tick at which the core decided to start a failover, or undefined. */
export function driveCore(trace: Trace, options: DriveOptions): number | undefined {
  const { tuning, paths } = options;
  const renewals = tuning.consistency === 'strong' ? trace.renewals.quorum : trace.renewals.twoRegion;
  const network = new PathView(trace.beats, (b) => b.networkAtMs);
  // Quorum mode: the heartbeat volume is an MRSC table, whose strongly consistent read returns a beat once its write
  // committed.
  const storageAt = (b: Beat) => (tuning.consistency === 'strong' ? b.storageQuorumAtMs : b.storageAtMs);
  const storage = new PathView(trace.beats, storageAt);
  let storageSeenSerial: number | undefined;
  let renewalCursor = 0;
  // Each invocation's ticks, interleaved in time when two containers overlap at the handoff.
  const ticks = trace.checker
    .flatMap((inv, i) => inv.ticks.map((t, k) => ({ t, inv: i, first: k === 0, next: inv.ticks[k + 1], ...inv })))
    .sort((a, b) => a.t - b.t);
  const byContainer = new Map<number, SiteCore>();
  const cores = new Map<number, SiteCore>();
  const plans = new Map<number, InvocationPlan>();
  let carried: CarriedWatch | undefined;
  /**
   * One check of the module at `now` (a tick, or a wake between two: the same reads,
   * lambdas/heartbeat-module/module.ts).
   */
  const checkAt = (site: SiteCore, now: number) => {
    site.readClock(now, now);
    while (renewalCursor < renewals.length && (renewals[renewalCursor] as number) <= now) renewalCursor += 1;
    const readable = tuning.consistency !== 'strong' || !trace.checkerNoMajority.some(([a, b]) => now >= a && now < b);
    const record: ClusterRecord | undefined = readable
      ? { epoch: 1, primary: 'production', lease: renewalCursor }
      : undefined;
    const cluster = site.clusterRead(record, now);

    const net = network.advance(now);
    const networkRead: PeerRead =
      net === undefined
        ? { unreadable: false }
        : { arrivedAtMs: net.networkAtMs, beat: heartbeatOf(net), unreadable: false };
    // Storage: the module reads the peer's item from its replica; a new serial is recorded as arrived at this read.
    const item = storage.advance(now);
    // A forged or replayed item written over the peer's slot is what the tick reads until the peer's next write
    // replaces it.
    const forged = trace.forgedStorage.some(([a]) => a <= now && (item === undefined || a > storageAt(item)));
    let storageRead: PeerRead;
    if (item === undefined) storageRead = { unreadable: false };
    else if (forged) storageRead = { ...lastStorage(storage), unreadable: false, invalid: 'signature' };
    else {
      if (item.serial !== storageSeenSerial) {
        storageSeenSerial = item.serial;
        storage.arrivedAtMs = now;
      }
      storageRead = { ...lastStorage(storage), unreadable: false };
    }
    // Heard before the role decision, checked after it, as the module's tick does.
    const reads = { network: networkRead, storage: storageRead };
    site.heard(reads, cluster);
    site.role(cluster, now, now);
    return site.check(reads, cluster, now, now);
  };
  for (const [i, { t: now, inv, first, next, cold, container }] of ticks.entries()) {
    if (first) {
      // A warm container keeps its core (a new invocation forgets the lease it held); a fresh one starts from nothing.
      let core = byContainer.get(container);
      if (cold || core === undefined) {
        core = new SiteCore(tuning, MODULE_SITE.site, MODULE_SITE.peer);
        for (const path of ['network', 'storage'] as const)
          if (!paths.includes(path)) core.setMode(path, 'disabled', now);
        byContainer.set(container, core);
      }
      // It claims the ticker and takes the lease watch the last ticker left there (lambdas/shared/ticker-store.ts).
      core.newInvocation(carried);
      cores.set(inv, core);
      plans.set(inv, new InvocationPlan(trace.intervalMs, now));
    }
    const site = cores.get(inv) as SiteCore;
    const plan = plans.get(inv) as InvocationPlan;
    // The tick's serial update leaves the watch as it stood before the tick's read, for the next container.
    carried = site.watchToCarry(now);
    let checked = checkAt(site, now);
    if (checked.takeover.start) return now;
    // The module checks again when a decision would change before its next tick: the handler's own plan says when
    // (lambdas/heartbeat-module/driver.ts). Its last tick in the trace ends it (superseded, or the trace's end). Not
    // past the next tick of another invocation either (at a handoff), so what the paths show only moves forward.
    const other = ticks[i + 1]?.t ?? Infinity;
    const report = (at: number, superseded: boolean) => ({ atMs: at, wakeAtMs: checked.wakeAtMs, superseded });
    for (
      let step = plan.after('tick', now, report(now, next === undefined));
      step.kind === 'check' && step.atMono < other;
      step = plan.after('check', step.atMono, report(step.atMono, false))
    ) {
      checked = checkAt(site, step.atMono);
      if (checked.takeover.start) return step.atMono;
    }
  }
  return undefined;
}

function lastStorage(view: PathView): Pick<PeerRead, 'arrivedAtMs' | 'beat'> {
  return view.arrivedAtMs === undefined || view.newest === undefined
    ? {}
    : { arrivedAtMs: view.arrivedAtMs, beat: heartbeatOf(view.newest) };
}
