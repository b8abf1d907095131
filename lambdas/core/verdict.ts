import type { PathId, PathMode } from './wire';

export type PathState = 'disabled' | 'pending' | 'healthy' | 'suspect' | 'failed';
export const SITE_VERDICTS = [
  'ok',
  'degraded',
  'peer-lost',
  'unprotected',
  'peer-failure-reported',
  'peer-stepped-down',
] as const;
export type SiteVerdict = (typeof SITE_VERDICTS)[number];

export interface PathObservation {
  readonly path: PathId;
  readonly mode: PathMode;
  /** Receiver's arrival time of the last valid beat on this path, or undefined when none arrived yet. */
  readonly lastValidArrivalMs: number | undefined;
  /** The observation could not be read this time; `lastValidArrivalMs` is then the last one known. */
  readonly unreadable?: boolean;
}

/**
 * State of one path from the age of its last valid beat: healthy within one interval and
 * a half, suspect up to the deadline, failed past it. A path never seen is pending, not
 * failed: a site that just deployed must not look lost. A path that could not be read
 * and has no known beat is suspect: it still counts, so it can never leave the other
 * path to decide alone, and a read failure is no evidence that the peer is gone.
 */
export function pathState(o: PathObservation, nowMs: number, deadlineMs: number, intervalMs: number): PathState {
  if (o.mode === 'disabled') return 'disabled';
  if (o.mode === 'pending') return 'pending';
  if (o.lastValidArrivalMs === undefined) return o.unreadable === true ? 'suspect' : 'pending';
  const age = nowMs - o.lastValidArrivalMs;
  if (age > deadlineMs) return 'failed';
  return age > 1.5 * intervalMs ? 'suspect' : 'healthy';
}

/**
 * True when at least one path counts and every path that counts has failed. Disabled paths
 * (the operator's choice) and pending ones (never carried a beat) do not count.
 */
export function allCountedPathsFailed(states: readonly PathState[]): boolean {
  const counted = states.filter((s) => s !== 'disabled' && s !== 'pending');
  return counted.length > 0 && counted.every((s) => s === 'failed');
}

/**
 * The site verdict over the enabled paths. `allFailedSinceMs` is when every enabled path
 * was first seen failed together; peer-lost needs that to have lasted the confirmation window.
 */
export function siteVerdict(
  states: readonly PathState[],
  peerReportsFailure: boolean,
  allFailedSinceMs: number | undefined,
  nowMs: number,
  confirmationMs: number,
): SiteVerdict {
  if (states.every((s) => s === 'disabled')) return 'unprotected';
  if (allCountedPathsFailed(states)) {
    return allFailedSinceMs !== undefined && nowMs - allFailedSinceMs >= confirmationMs ? 'peer-lost' : 'degraded';
  }
  if (peerReportsFailure) return 'peer-failure-reported';
  return states.some((s) => s === 'failed') ? 'degraded' : 'ok';
}
