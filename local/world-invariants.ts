import { driftMarginMs } from '../lambdas/core/lease';
import { SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { type WorldResult, type WorldSchedule, worldTuning } from './world-types';

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
  const marginMs = driftMarginMs(leaseMs);
  const intervalMs = t.intervalSeconds * 1000;
  const rates = [s.drift.production, s.drift.standby, ...s.faults.map((f) => (f.fault === 'drift' ? f.ppm / 1e6 : 0))];
  const maxDrift = Math.max(...rates.map(Math.abs));
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
  // Each fence write that failed during the stretch costs a retry (a lease): those used up count, not only those left.
  let usedFailures = 0;
  let lastFailures = 0;
  for (const x of result.samples) {
    for (const id of SITE_IDS) eligibleSince[id] = x.eligible[id] ? (eligibleSince[id] ?? x.atMs) : undefined;
    allowedSince = !x.maintenance ? (allowedSince ?? x.atMs) : undefined;
    const anyActing = x.acting.production || x.acting.standby;
    firstPrimary ||= anyActing;
    noneSince = anyActing || !firstPrimary ? undefined : (noneSince ?? x.atMs);
    usedFailures = noneSince === undefined ? 0 : usedFailures + Math.max(0, lastFailures - x.fenceFailures);
    lastFailures = x.fenceFailures;
    if (noneSince === undefined || allowedSince === undefined) continue;
    const bound = boundMs((usedFailures + x.fenceFailures) * (leaseMs + s.fenceDelayMaxMs + intervalMs));
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
