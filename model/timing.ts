/**
 * The SPIN model's time constants, computed from the code (model/check.sh passes them to spin -D):
 * the default quorum-mode configuration through the config loader (lib/config.ts) and the lease
 * tuning the heartbeat module and the fence step use (lambdas/core/lease.ts), with how long a
 * primary drains before it takes a switchover's request back (handoverExpiryMs) and how soon a
 * failed failover is tried again (lambdas/core/site-step.ts, failoverRetryMs).
 *
 * The model's time unit is the largest drift of one clock over one lease, which the code's drift
 * margin covers twice: so DRIFT is 1 and MARGIN 2 by construction, and the interval and the lease
 * are the code's, counted in that unit. A configuration whose timing is not a whole number of
 * units is refused here, not rounded: the model would check a protocol that does not deploy.
 *
 * Prints one line: the -D flags, then a comment with the figures in milliseconds; with the argument `two-region`,
 * those of two-region mode under self-fence (model/two-region.pml).
 */
import { parseConfig, tuningOf } from '../lib/config';
import { handoverExpiryMs, leaseTuningOf } from '../lambdas/core/lease';
import { failoverRetryMs } from '../lambdas/core/site-step';

export interface ModelTiming {
  readonly unitMs: number;
  readonly interval: number;
  readonly lease: number;
  readonly margin: number;
  readonly drift: number;
  readonly expiry: number;
  readonly retry: number;
}

/** The default configuration of a cluster whose regions lie in one strong-consistency region set (quorum mode). */
export const QUORUM_DEFAULTS = { clusterName: 'model', productionRegion: 'us-east-1', standbyRegion: 'us-east-2' };
/** Two regions in no such set (two-region mode), under isolationPolicy self-fence (model/two-region.pml). */
export const TWO_REGION_DEFAULTS = {
  clusterName: 'model',
  productionRegion: 'us-east-1',
  standbyRegion: 'eu-west-1',
  isolationPolicy: 'self-fence',
};

export function modelTiming(
  raw: Record<string, unknown> = QUORUM_DEFAULTS,
  mode: 'quorum' | 'two-region' = 'quorum',
): ModelTiming {
  const config = parseConfig(raw);
  const tuning = tuningOf(config);
  const t = leaseTuningOf(tuning);
  if (t.mode !== mode) throw new Error(`this model covers ${mode} mode; this configuration is ${t.mode}`);
  const unitMs = t.driftMarginMs / 2;
  const inUnits = (ms: number, what: string): number => {
    const n = ms / unitMs;
    if (!Number.isInteger(n))
      throw new Error(`${what} (${ms} ms) is not a whole number of the model's unit (${unitMs} ms, half the drift margin)`);
    return n;
  };
  return {
    unitMs,
    interval: inUnits(t.holdMs, 'the interval'),
    lease: inUnits(t.leaseMs, 'the lease'),
    margin: inUnits(t.driftMarginMs, 'the drift margin'),
    drift: 1,
    expiry: inUnits(handoverExpiryMs(t, tuning), 'the handover expiry'),
    retry: inUnits(failoverRetryMs(t), 'the failover retry'),
  };
}

export function spinFlags(m: ModelTiming): string {
  return `-DI=${m.interval} -DL=${m.lease} -DMARGIN=${m.margin} -DDRIFT=${m.drift} -DEXPIRY=${m.expiry} -DRETRY=${m.retry}`;
}

if (require.main === module) {
  const twoRegion = process.argv[2] === 'two-region';
  const m = twoRegion ? modelTiming(TWO_REGION_DEFAULTS, 'two-region') : modelTiming();
  const ms = (units: number): number => units * m.unitMs;
  process.stdout.write(
    `${spinFlags(m)} # unit ${m.unitMs} ms: interval ${ms(m.interval)} ms, lease ${ms(m.lease)} ms, ` +
      `drift margin ${ms(m.margin)} ms, drift of one clock ${ms(m.drift)} ms, ` +
      `handover expiry ${ms(m.expiry)} ms, failover retry ${ms(m.retry)} ms\n`,
  );
}
