import { phiOf } from '../lambdas/core/detector';
import { Random } from '../local/random';
import type { Trace } from './traces';

/**
 * The detectors a user would pick instead of mirrorbeat, each modelled as its documentation
 * describes it (bench/README.md, "The peers", cites each figure).
 */

/**
 * Route 53's default health checker regions (eight), with this many checkers each: an assumption, Route 53 does not
 * publish it.
 */
export const ROUTE53_REGIONS = 8;
export const ROUTE53_CHECKERS_PER_REGION = 2;
/** Route 53 considers an endpoint unhealthy when this fraction of its checkers or fewer report it healthy. */
export const ROUTE53_HEALTHY_FRACTION = 0.18;

/**
 * A Route 53 health check on production's endpoint: every checker probes on its own (they do
 * not coordinate), every `requestIntervalMs`, and applies the failure threshold to its own
 * consecutive results; the endpoint is unhealthy once 18 % or fewer of them say healthy. A
 * probe fails when production is down, isolated or unhealthy, or the probe is lost on the
 * internet. A partition between our two regions does not touch it. Returns when Route 53
 * first calls the endpoint unhealthy (before DNS: the record's TTL is reported apart).
 */
export function route53Decision(
  trace: Trace,
  threshold: number,
  seed: number,
  requestIntervalMs = 10_000,
): number | undefined {
  const random = new Random(seed);
  const n = ROUTE53_REGIONS * ROUTE53_CHECKERS_PER_REGION;
  const probes: { at: number; checker: number }[] = [];
  for (let c = 0; c < n; c += 1)
    for (let at = random.between(0, requestIntervalMs); at < trace.durationMs; at += requestIntervalMs)
      probes.push({ at, checker: c });
  probes.sort((a, b) => a.at - b.at);
  const healthy = new Array<boolean>(n).fill(true);
  const streak = new Array<number>(n).fill(0);
  let healthyCount = n;
  for (const { at, checker } of probes) {
    const ok = !trace.endpointDown.some(([a, b]) => at >= a && at < b) && !random.chance(trace.probeLoss);
    // The streak counts consecutive results that disagree with the checker's current status.
    const disagreeing = ok === healthy[checker] ? 0 : (streak[checker] ?? 0) + 1;
    streak[checker] = disagreeing;
    if (disagreeing >= threshold) {
      healthy[checker] = ok;
      streak[checker] = 0;
      healthyCount += ok ? 1 : -1;
    }
    if (healthyCount / n <= ROUTE53_HEALTHY_FRACTION) return at;
  }
  return undefined;
}

/**
 * Akka's cluster failure detector defaults (akka.cluster.failure-detector), which Cassandra's phi_convict_threshold 8
 * matches.
 */
export const AKKA = {
  threshold: 8,
  minStdDeviationMs: 100,
  acceptableHeartbeatPauseMs: 3_000,
  firstHeartbeatEstimateMs: 1_000,
  maxSampleSize: 1_000,
  /** How often the detector is asked (the reaper interval). */
  evaluateEveryMs: 1_000,
} as const;

/**
 * Phi accrual as Akka runs it, on one path (the network's beats, received by a long-lived
 * process, so no Lambda handoff or cold start touches it): the history starts from the first
 * heartbeat estimate, every inter-arrival joins it, and phi is taken with the mean plus the
 * acceptable pause. Returns when phi first exceeds the threshold.
 */
export function phiAccrualDecision(trace: Trace): number | undefined {
  const arrivals = trace.beats
    .map((b) => b.networkAtMs)
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  if (arrivals.length === 0) return undefined;
  // Akka seeds the history with two intervals around the estimate (mean estimate, deviation a quarter of it).
  const estimate = AKKA.firstHeartbeatEstimateMs;
  const history: number[] = [estimate - estimate / 4, estimate + estimate / 4];
  let sum = history[0]! + history[1]!;
  let sumSq = history[0]! ** 2 + history[1]! ** 2;
  let next = 1;
  let last = arrivals[0] as number;
  for (let now = last + AKKA.evaluateEveryMs; now < trace.durationMs; now += AKKA.evaluateEveryMs) {
    while (next < arrivals.length && (arrivals[next] as number) <= now) {
      const gap = (arrivals[next] as number) - last;
      history.push(gap);
      sum += gap;
      sumSq += gap * gap;
      if (history.length > AKKA.maxSampleSize) {
        const dropped = history.shift() as number;
        sum -= dropped;
        sumSq -= dropped * dropped;
      }
      last = arrivals[next] as number;
      next += 1;
    }
    const mean = sum / history.length;
    const std = Math.max(Math.sqrt(Math.max(0, sumSq / history.length - mean * mean)), AKKA.minStdDeviationMs);
    if (phiOf(now - last, mean + AKKA.acceptableHeartbeatPauseMs, std) > AKKA.threshold) return now;
  }
  return undefined;
}

/** Both paths, a fixed deadline of three intervals on each, checked at the checker's ticks; liveness only. */
export function fixedTimeoutDualDecision(trace: Trace): number | undefined {
  const deadline = 3 * trace.intervalMs;
  const arrivals = (pick: (b: Trace['beats'][number]) => number) =>
    trace.beats
      .map(pick)
      .filter((t) => Number.isFinite(t))
      .sort((a, b) => a - b);
  const paths = [arrivals((b) => b.networkAtMs), arrivals((b) => b.storageAtMs)];
  const cursors = [0, 0];
  const last: (number | undefined)[] = [undefined, undefined];
  const ticks = trace.checker.flatMap((inv) => inv.ticks).sort((a, b) => a - b);
  for (const now of ticks) {
    paths.forEach((seen, p) => {
      while ((cursors[p] as number) < seen.length && (seen[cursors[p] as number] as number) <= now) {
        last[p] = seen[cursors[p] as number];
        cursors[p] = (cursors[p] as number) + 1;
      }
    });
    if (last.every((t) => t !== undefined && now - t > deadline)) return now;
  }
  return undefined;
}
