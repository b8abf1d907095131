import { PhiAccrualDetector } from '../lambdas/core/detector';
import { allCountedPathsFailed, pathState, type PathState, siteVerdict } from '../lambdas/core/verdict';
import type { PathId, Tuning } from '../lambdas/core/wire';
import { Random } from '../local/random';
import type { Trace } from './traces';

export const DETECTOR_IDS = [
  'mirrorbeat',
  'route53-health-check',
  'fixed-timeout-dual',
  'network-only',
  'storage-only',
] as const;
export type DetectorId = (typeof DETECTOR_IDS)[number];

/** When a detector decided the peer had failed (and would fail over), or undefined. */
export type Decision = number | undefined;

/** Checker ticks as the heartbeat module runs them: every interval inside per-minute invocations of 58 s, each starting a little late. */
function checkerTicks(trace: Trace, seed: number): number[] {
  const random = new Random(seed);
  const ticks: number[] = [];
  const phase = random.between(0, trace.intervalMs);
  for (let minute = 0; minute * 60_000 < trace.durationMs; minute += 1) {
    const start = minute * 60_000 + phase + random.between(0, 400);
    for (let t = start; t < start + 58_000 && t < trace.durationMs; t += trace.intervalMs) ticks.push(t);
  }
  return ticks;
}

/** Arrivals seen by a tick at `now` on one path: the storage path is read at the tick, the network path was recorded by the receiver. */
function* visible(arrivals: readonly number[], from: number, now: number): Generator<number> {
  for (let i = from; i < arrivals.length && (arrivals[i] as number) <= now; i += 1) yield arrivals[i] as number;
}

/**
 * mirrorbeat's own decision, over the paths given, with the very detector and verdict code
 * the heartbeat module runs. A storage beat is recorded as arrived when a tick first reads it.
 */
export function mirrorbeatDecision(trace: Trace, tuning: Tuning, paths: readonly PathId[], seed: number): Decision {
  const detectors = Object.fromEntries(
    paths.map((p) => [
      p,
      new PhiAccrualDetector({
        intervalMs: tuning.intervalSeconds * 1000,
        phiThreshold: tuning.phiThreshold,
        floorMs: tuning.deadlineFloorSeconds * 1000,
        ceilingMs: tuning.deadlineCeilingSeconds * 1000,
      }),
    ]),
  ) as Record<PathId, PhiAccrualDetector>;
  const cursor: Record<PathId, number> = { network: 0, storage: 0 };
  let allFailedSince: number | undefined;
  for (const now of checkerTicks(trace, seed)) {
    const states: PathState[] = [];
    let newestHealthFailed = false;
    for (const path of paths) {
      let last: number | undefined;
      for (const t of visible(trace.arrivals[path], cursor[path], now)) {
        last = t;
        cursor[path] += 1;
      }
      if (last !== undefined) detectors[path].heartbeat(path === 'storage' ? now : last);
      const state = pathState(
        { path, mode: 'enabled', lastValidArrivalMs: detectors[path].lastArrivalMs },
        now,
        detectors[path].deadlineMs(),
        trace.intervalMs,
      );
      states.push(state);
      const seen = detectors[path].lastArrivalMs;
      if (
        (state === 'healthy' || state === 'suspect') &&
        seen !== undefined &&
        trace.unhealthyFromMs !== undefined &&
        seen >= trace.unhealthyFromMs
      )
        newestHealthFailed = true;
    }
    allFailedSince = allCountedPathsFailed(states) ? (allFailedSince ?? now) : undefined;
    const verdict = siteVerdict(
      states,
      newestHealthFailed,
      allFailedSince,
      now,
      tuning.confirmationWindowSeconds * 1000,
    );
    if (verdict === 'peer-lost' || verdict === 'peer-failure-reported') return now;
  }
  return undefined;
}

/** Both paths, a fixed deadline of three intervals, no adaptive deadline and no confirmation window; liveness only. */
export function fixedTimeoutDualDecision(trace: Trace, seed: number): Decision {
  const deadline = 3 * trace.intervalMs;
  const last: Record<PathId, number | undefined> = { network: undefined, storage: undefined };
  const cursor: Record<PathId, number> = { network: 0, storage: 0 };
  for (const now of checkerTicks(trace, seed)) {
    for (const path of ['network', 'storage'] as const) {
      for (const t of visible(trace.arrivals[path], cursor[path], now)) {
        last[path] = path === 'storage' ? now : t;
        cursor[path] += 1;
      }
    }
    const failed = (['network', 'storage'] as const).every((p) => {
      const seen = last[p];
      return seen !== undefined && now - seen > deadline;
    });
    if (failed) return now;
  }
  return undefined;
}

/**
 * A Route 53 health check on the workload's endpoint: a probe every 10 s over the network,
 * unhealthy after 3 consecutive failures (Route 53's defaults for a standard check); a probe
 * fails when the network to the site is down or the workload answers unhealthy.
 */
export function route53Decision(trace: Trace, seed: number): Decision {
  const random = new Random(seed);
  let failures = 0;
  for (let now = random.between(0, 10_000); now < trace.durationMs; now += 10_000) {
    const down =
      trace.networkDown.some(([a, b]) => now >= a && now < b) ||
      (trace.unhealthyFromMs !== undefined && now >= trace.unhealthyFromMs);
    failures = down ? failures + 1 : 0;
    // The checker's verdict reaches DNS after propagation: the record's TTL is not counted here.
    if (failures >= 3) return now;
  }
  return undefined;
}

export function decide(id: DetectorId, trace: Trace, tuning: Tuning, seed: number): Decision {
  switch (id) {
    case 'mirrorbeat':
      return mirrorbeatDecision(trace, tuning, ['network', 'storage'], seed);
    case 'network-only':
      return mirrorbeatDecision(trace, tuning, ['network'], seed);
    case 'storage-only':
      return mirrorbeatDecision(trace, tuning, ['storage'], seed);
    case 'fixed-timeout-dual':
      return fixedTimeoutDualDecision(trace, seed);
    case 'route53-health-check':
      return route53Decision(trace, seed);
  }
}
