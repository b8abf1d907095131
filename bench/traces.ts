import { Random } from '../local/random';
import type { PathId } from '../lambdas/core/wire';

/**
 * Synthetic traces of what a checker sees of its peer: when each valid beat becomes visible
 * on each path (network: processed by the receiver; storage: applied to the local replica),
 * and whether the peer's workload is healthy. Latencies follow heavy-tailed distributions:
 * cross-region one-way 35–80 ms typical, global-table replication under a second typical,
 * sometimes several.
 */
export const FAILURE_CLASSES = ['site-crash', 'site-isolated', 'workload-failed'] as const;
export const NON_FAILURE_CLASSES = [
  'network-partition-short',
  'network-partition-long',
  'storage-partition',
  'replication-lag-spike',
  'sender-pause',
  'lambda-handoff-cold-start',
  'network-loss-30',
  'clock-skew',
  'forged-and-replayed',
] as const;
export type TraceClass = (typeof FAILURE_CLASSES)[number] | (typeof NON_FAILURE_CLASSES)[number];

export interface Trace {
  readonly id: string;
  readonly class: TraceClass;
  readonly durationMs: number;
  readonly intervalMs: number;
  /** Ground truth: when the peer stopped serving (crash, isolation, workload failure); undefined for non-failures. */
  readonly failureAtMs: number | undefined;
  /** Visibility times of valid beats at the checker, per path, ascending. */
  readonly arrivals: Readonly<Record<PathId, readonly number[]>>;
  /** Workload health failed from this time on (reported in beats, seen by health checks). */
  readonly unhealthyFromMs: number | undefined;
  /** Windows in which the network between the checker's probes and the peer is cut (route53's view). */
  readonly networkDown: readonly (readonly [number, number])[];
  /** Invalid messages injected (counted and ignored by validating detectors). */
  readonly invalidInjected: number;
}

const TRACE_MS = 300_000;

interface Faults {
  stopAtMs?: number;
  networkCut: [number, number][];
  storageCut: [number, number][];
  /** Extra replication delay windows: [from, to, extraMs]. */
  storageLag: [number, number, number][];
  /** Sender silent on both paths (paused or between invocations). */
  senderGaps: [number, number][];
  networkLoss: number;
  unhealthyFromMs?: number;
  invalid: number;
}

const inside = (t: number, windows: readonly (readonly [number, number])[]) =>
  windows.some(([a, b]) => t >= a && t < b);

export function generateTrace(cls: TraceClass, index: number, seed: number, intervalMs = 2_000): Trace {
  const random = new Random(seed * 1_000_003 + index * 7_919 + cls.length * 131 + cls.charCodeAt(0));
  const f: Faults = { networkCut: [], storageCut: [], storageLag: [], senderGaps: [], networkLoss: 0, invalid: 0 };
  const at = random.between(120_000, 220_000);
  switch (cls) {
    case 'site-crash':
      f.stopAtMs = at;
      break;
    case 'site-isolated':
      f.networkCut.push([at, TRACE_MS]);
      f.storageCut.push([at, TRACE_MS]);
      break;
    case 'workload-failed':
      f.unhealthyFromMs = at;
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
    case 'lambda-handoff-cold-start':
      // Every minute the next invocation starts late: scheduler jitter plus a cold start up to 3 s.
      for (let m = 60_000; m < TRACE_MS; m += 60_000) f.senderGaps.push([m - 2_000, m + random.between(0, 3_000)]);
      break;
    case 'network-loss-30':
      f.networkLoss = 0.3;
      break;
    case 'clock-skew':
      // Freshness is judged on the receiver's arrival clock: a sender clock off by seconds changes no arrival.
      break;
    case 'forged-and-replayed':
      f.invalid = Math.round(random.between(20, 200));
      break;
  }

  const arrivals: Record<PathId, number[]> = { network: [], storage: [] };
  let storageDue = 0;
  const phase = random.between(0, intervalMs);
  for (let sent = phase; sent < TRACE_MS; sent += intervalMs + random.between(-30, 30)) {
    if (f.stopAtMs !== undefined && sent >= f.stopAtMs) break;
    if (inside(sent, f.senderGaps)) continue;
    if (!inside(sent, f.networkCut) && !random.chance(f.networkLoss)) {
      const arrival = sent + Math.min(random.logNormal(50, 0.3), 5_000);
      if (!inside(arrival, f.networkCut)) arrivals.network.push(arrival);
    }
    // Storage: written to the sender's replica, applied to the checker's in order after the replication latency.
    let applied = sent + Math.min(random.logNormal(600, 0.7), 20_000);
    for (const [from, to, extra] of f.storageLag) if (sent >= from && sent < to) applied += extra;
    const cut = f.storageCut.find(([a, b]) => applied >= a && applied < b);
    if (cut !== undefined) applied = cut[1] >= TRACE_MS ? Infinity : cut[1] + random.between(0, 2_000);
    applied = Math.max(applied, storageDue);
    storageDue = applied;
    if (applied < TRACE_MS) arrivals.storage.push(applied);
  }
  const failureAtMs = f.stopAtMs ?? f.unhealthyFromMs ?? (cls === 'site-isolated' ? at : undefined);
  return {
    id: `${cls}#${index}`,
    class: cls,
    durationMs: TRACE_MS,
    intervalMs,
    failureAtMs,
    arrivals: { network: arrivals.network.sort((a, b) => a - b), storage: arrivals.storage },
    unhealthyFromMs: f.unhealthyFromMs,
    networkDown: [...f.networkCut, ...(f.stopAtMs !== undefined ? [[f.stopAtMs, TRACE_MS] as [number, number]] : [])],
    invalidInjected: f.invalid,
  };
}

export function corpus(tracesPerClass: number, seed: number, intervalMs = 2_000): Trace[] {
  return [...FAILURE_CLASSES, ...NON_FAILURE_CLASSES].flatMap((cls) =>
    Array.from({ length: tracesPerClass }, (_, i) => generateTrace(cls, i, seed, intervalMs)),
  );
}
