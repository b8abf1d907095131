import { HANDOFF_MS, InvocationPlan, RUN_FOR_MS } from '../lambdas/heartbeat-module/driver';
import { Random } from '../local/random';

/**
 * Synthetic five-minute traces of one checker (the standby) and its peer (the primary), as
 * the parts that deploy see them. Every figure below is a model of a documented behaviour
 * or, where AWS documents none, an assumption named as such (bench/README.md, "The corpus",
 * cites each one):
 *
 * - Both sites run the heartbeat module as Lambda invocations that EventBridge Scheduler
 *   starts every minute; the one that holds the site's ticker ticks every interval for up to
 *   10 minutes, and a newer one takes over before it ends (`invocations`). Scheduler documents
 *   one-minute granularity and, with the flexible time window OFF, no precision within the
 *   minute: each minute's invocation is drawn late by a log-normal 300 ms, and 1 % of minutes
 *   2–15 s late. The invocation that takes over runs in a fresh container (its core starts
 *   from nothing).
 * - Network path: PutEvents to the peer's bus across regions, rule matching, an asynchronous
 *   invoke of the receiver, its conditional writes: a log-normal 250 ms, capped at 10 s.
 * - Storage path: the beat's write replicates to the peer region's replica, which global
 *   tables document as typically under a second: log-normal 600 ms, capped at 20 s.
 * - The lease: the primary renews every tick. Quorum mode: the write commits through a
 *   majority of production, standby and witness in tens of milliseconds and every read
 *   through a majority sees it. Two-region mode: the renewal replicates like a beat.
 */
export const FAILURE_CLASSES = ['site-crash', 'site-isolated', 'workload-failed', 'crash-witness-down'] as const;
export const NON_FAILURE_CLASSES = [
  'network-partition-short',
  'network-partition-long',
  'storage-partition',
  'replication-lag-spike',
  'sender-pause',
  'scheduler-late',
  'network-loss-30',
  'forged-and-replayed',
  'witness-down',
  'standby-isolated',
  'probe-loss',
] as const;
export type TraceClass = (typeof FAILURE_CLASSES)[number] | (typeof NON_FAILURE_CLASSES)[number];

/** One beat of the peer: when it was sent, when each path makes it visible to the checker (Infinity: never). */
export interface Beat {
  readonly serial: number;
  readonly sentAtMs: number;
  readonly networkAtMs: number;
  readonly storageAtMs: number;
  /**
   * Quorum mode: when the beat's write committed in the MRSC table, from which the checker's strongly consistent read
   * returns it.
   */
  readonly storageQuorumAtMs: number;
  readonly healthFailed: boolean;
}

/** One invocation of the checker's heartbeat module: its container, whether that began fresh, its ticks. */
export interface Invocation {
  readonly container: number;
  readonly cold: boolean;
  readonly ticks: readonly number[];
}

export interface Trace {
  readonly id: string;
  readonly class: TraceClass;
  readonly durationMs: number;
  readonly intervalMs: number;
  /** Ground truth: when the peer stopped serving; undefined for non-failures. */
  readonly failureAtMs: number | undefined;
  readonly beats: readonly Beat[];
  /** When each of the peer's lease renewals becomes visible to the checker's read, ascending, per mode. */
  readonly renewals: { readonly quorum: readonly number[]; readonly twoRegion: readonly number[] };
  readonly checker: readonly Invocation[];
  /** Windows in which the checker's region reaches no majority (quorum mode: the cluster record is unreadable). */
  readonly checkerNoMajority: readonly Window[];
  /** Windows in which forged or replayed items sit in the peer's storage slot (the checker reads an invalid beat). */
  readonly forgedStorage: readonly Window[];
  /** Route 53's view: windows in which the production endpoint does not answer healthy from the internet. */
  readonly endpointDown: readonly Window[];
  /** Fraction of Route 53 probes lost on the internet, endpoint healthy. */
  readonly probeLoss: number;
}

export type Window = readonly [number, number];

export const TRACE_MS = 300_000;
const inside = (t: number, windows: readonly Window[]) => windows.some(([a, b]) => t >= a && t < b);

interface Faults {
  stopAtMs?: number;
  /** Production's region cut off from every other region and from the internet. */
  isolatedFrom?: number;
  networkCut: Window[];
  storageCut: Window[];
  storageLag: [number, number, number][];
  senderGaps: Window[];
  networkLoss: number;
  unhealthyFromMs?: number;
  witnessDown: Window[];
  checkerIsolated: Window[];
  /** Per site, the minutes whose invocation starts 2–15 s late. */
  lateMinutes: { sender: Set<number>; checker: Set<number> };
  forged: Window[];
  probeLoss: number;
}

/**
 * The ticks of one site's heartbeat module: one invocation ticks at a time, in one container,
 * for up to 10 minutes; the per-minute invocations return at once while it runs, until one
 * arrives within 90 s of its end and claims the ticker. That one runs in another container
 * (cold: its core starts from nothing); the old one stops at its first tick after the new
 * one's first. The trace begins somewhere in the life of the ticker then running. `late`:
 * minutes whose invocation Scheduler delivers 2–15 s late.
 */
export function invocations(random: Random, intervalMs: number, late: ReadonlySet<number>): Invocation[] {
  const out: Invocation[] = [];
  let start = -random.between(0, RUN_FOR_MS - HANDOFF_MS);
  let container = 0;
  let cold = random.chance(0.02);
  for (;;) {
    const end = start + RUN_FOR_MS;
    // The first minute's invocation that arrives within the handoff of this ticker's end claims the ticker.
    let next: number | undefined;
    for (let minute = Math.max(0, Math.ceil(start / 60_000)); minute * 60_000 < TRACE_MS + 60_000; minute += 1) {
      const delay =
        late.has(minute) || random.chance(0.01)
          ? random.between(2_000, 15_000)
          : Math.min(random.logNormal(300, 0.6), 2_000);
      const arrives = minute * 60_000 + delay;
      if (arrives > start && arrives > end - HANDOFF_MS) {
        next = arrives + random.between(300, 1_500);
        break;
      }
    }
    // Its ticks as the handler's own plan steps them (driver.ts): until it has run its time, or its first tick after
    // the next one claimed the ticker (that tick's serial update tells it).
    const ticks: number[] = [];
    const plan = new InvocationPlan(intervalMs, start);
    for (let step = plan.first(); step.kind === 'tick' && step.atMono < TRACE_MS;) {
      const t = step.atMono;
      if (t >= 0) ticks.push(t);
      step = plan.after('tick', t, { atMs: t, wakeAtMs: undefined, superseded: next !== undefined && t > next });
    }
    if (ticks.length > 0) out.push({ container, cold, ticks });
    if (next === undefined || next >= TRACE_MS) return out;
    start = next;
    container += 1;
    cold = true;
  }
}

export function generateTrace(cls: TraceClass, index: number, seed: number, intervalMs = 2_000): Trace {
  const random = new Random(seed * 1_000_003 + index * 7_919 + cls.length * 131 + cls.charCodeAt(0) * 17);
  const f: Faults = {
    networkCut: [],
    storageCut: [],
    storageLag: [],
    senderGaps: [],
    networkLoss: 0,
    witnessDown: [],
    checkerIsolated: [],
    lateMinutes: { sender: new Set(), checker: new Set() },
    forged: [],
    probeLoss: 0.002,
  };
  const at = random.between(120_000, 220_000);
  switch (cls) {
    case 'site-crash':
      f.stopAtMs = at;
      break;
    case 'site-isolated':
      f.isolatedFrom = at;
      f.networkCut.push([at, TRACE_MS]);
      f.storageCut.push([at, TRACE_MS]);
      break;
    case 'workload-failed':
      f.unhealthyFromMs = at;
      break;
    case 'crash-witness-down':
      // The witness went first: the standby then reaches no majority and may not take over (safety over liveness).
      f.witnessDown.push([at - random.between(10_000, 60_000), TRACE_MS]);
      f.stopAtMs = at;
      break;
    case 'network-partition-short':
      f.networkCut.push([at, at + random.between(5_000, 25_000)]);
      break;
    case 'network-partition-long':
      f.networkCut.push([at, at + random.between(60_000, 150_000)]);
      break;
    case 'storage-partition':
      f.storageCut.push([at, at + random.between(20_000, 150_000)]);
      break;
    case 'replication-lag-spike':
      for (let t = 60_000; t < TRACE_MS - 30_000; t += random.between(30_000, 70_000))
        f.storageLag.push([t, t + random.between(5_000, 20_000), random.between(3_000, 15_000)]);
      break;
    case 'sender-pause':
      for (let t = 60_000; t < TRACE_MS - 20_000; t += random.between(40_000, 80_000))
        f.senderGaps.push([t, t + random.between(1_000, 5_000)]);
      break;
    case 'scheduler-late':
      // Each site's invocations start 2–15 s late in two of the five minutes, drawn apart.
      for (const late of [f.lateMinutes.sender, f.lateMinutes.checker])
        late.add(1 + Math.floor(random.between(0, 2))).add(3 + Math.floor(random.between(0, 2)));
      break;
    case 'network-loss-30':
      f.networkLoss = 0.3;
      break;
    case 'forged-and-replayed':
      for (let t = 30_000; t < TRACE_MS; t += random.between(2_000, 30_000)) f.forged.push([t, t + 1]);
      break;
    case 'witness-down':
      f.witnessDown.push([at, at + random.between(30_000, 150_000)]);
      break;
    case 'standby-isolated':
      f.checkerIsolated.push([at, at + random.between(20_000, 150_000)]);
      break;
    case 'probe-loss':
      // The internet between Route 53's checkers and production loses 10 % of probes; our paths are untouched.
      f.probeLoss = 0.1;
      break;
  }
  // Production cut off, the standby cut off: neither path between the sites carries anything then.
  f.networkCut.push(...f.checkerIsolated);
  f.storageCut.push(...f.checkerIsolated);

  const sender = invocations(random, intervalMs, f.lateMinutes.sender);
  const checker = invocations(random, intervalMs, f.lateMinutes.checker);
  const beats: Beat[] = [];
  const quorum: number[] = [];
  const twoRegion: number[] = [];
  let storageDue = 0;
  let storageQuorumDue = 0;
  let serial = 0;
  // A paused sender ticks at once when it resumes (the handler's loop does not sleep for a tick already due): the
  // ticks due in a pause are one tick at its end.
  const sends = [
    ...new Set(
      sender
        .flatMap((inv) => inv.ticks)
        .map((t) => f.senderGaps.find(([a, b]) => t >= a && t < b)?.[1] ?? t)
        .sort((a, b) => a - b),
    ),
  ];
  for (const sent of sends) {
    if (f.stopAtMs !== undefined && sent >= f.stopAtMs) break;
    serial += 1;
    let network = Infinity;
    if (!inside(sent, f.networkCut) && !random.chance(f.networkLoss)) {
      const arrival = sent + Math.min(random.logNormal(250, 0.5), 10_000);
      if (!inside(arrival, f.networkCut)) network = arrival;
    }
    let applied = sent + Math.min(random.logNormal(600, 0.7), 20_000);
    for (const [from, to, extra] of f.storageLag) if (sent >= from && sent < to) applied += extra;
    const cut = f.storageCut.find(([a, b]) => applied >= a && applied < b);
    if (cut !== undefined) applied = cut[1] >= TRACE_MS ? Infinity : cut[1] + random.between(0, 2_000);
    // A replica applies one item's writes in order.
    applied = Math.max(applied, storageDue);
    storageDue = applied;
    // Two-region mode: the renewal (its own item) replicates as the beat does.
    if (applied < TRACE_MS) twoRegion.push(applied);
    // Quorum mode: a write (the renewal, then the beat) commits when production reaches a majority (the standby or the
    // witness).
    const reachesStandby = !inside(sent, f.storageCut);
    const reachesWitness = !inside(sent, f.witnessDown) && (f.isolatedFrom === undefined || sent < f.isolatedFrom);
    const majority = reachesStandby || reachesWitness;
    if (majority) quorum.push(sent + random.between(20, 80));
    // The beat in the MRSC table: the checker's strongly consistent read returns it once committed. A lagging link
    // between the sites slows the commit by as much; a cut one keeps the beat from the checker's read until it heals.
    let committed = majority ? sent + random.between(40, 160) : Infinity;
    for (const [from, to, extra] of f.storageLag) if (sent >= from && sent < to) committed += extra;
    const cutQ = f.storageCut.find(([a, b]) => committed >= a && committed < b);
    if (cutQ !== undefined) committed = cutQ[1] >= TRACE_MS ? Infinity : cutQ[1] + random.between(0, 2_000);
    committed = Math.max(committed, storageQuorumDue);
    storageQuorumDue = committed;
    beats.push({
      serial,
      sentAtMs: sent,
      networkAtMs: network,
      storageAtMs: applied,
      storageQuorumAtMs: committed,
      healthFailed: f.unhealthyFromMs !== undefined && sent >= f.unhealthyFromMs,
    });
  }
  twoRegion.sort((a, b) => a - b);
  // The checker reaches a majority with production or the witness.
  const checkerNoMajority: Window[] = [...f.checkerIsolated];
  for (const [a, b] of f.witnessDown) {
    const productionGone = f.stopAtMs ?? f.isolatedFrom;
    if (productionGone !== undefined) checkerNoMajority.push([Math.max(a, productionGone), b]);
    for (const [c, d] of f.storageCut) if (c < b && d > a) checkerNoMajority.push([Math.max(a, c), Math.min(b, d)]);
  }
  const endpointDown: Window[] = [];
  const gone = f.stopAtMs ?? f.isolatedFrom ?? f.unhealthyFromMs;
  if (gone !== undefined) endpointDown.push([gone, TRACE_MS]);
  return {
    id: `${cls}#${index}`,
    class: cls,
    durationMs: TRACE_MS,
    intervalMs,
    failureAtMs: gone,
    beats,
    renewals: { quorum, twoRegion },
    checker,
    checkerNoMajority,
    forgedStorage: f.forged,
    endpointDown,
    probeLoss: f.probeLoss,
  };
}

export function corpus(tracesPerClass: number, seed: number, intervalMs = 2_000): Trace[] {
  return [...FAILURE_CLASSES, ...NON_FAILURE_CLASSES].flatMap((cls) =>
    Array.from({ length: tracesPerClass }, (_, i) => generateTrace(cls, i, seed, intervalMs)),
  );
}
