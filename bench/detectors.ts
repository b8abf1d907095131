import type { Tuning } from '../lambdas/core/wire';
import { driveCore } from './drive';
import { fixedTimeoutDualDecision, phiAccrualDecision, route53Decision } from './peers';
import type { Trace } from './traces';

/** The detector ids of the benchmark report (a contract: docs/ARCHITECTURE.md, "Benchmark report"). */
export const DETECTOR_IDS = [
  'mirrorbeat',
  'mirrorbeat-two-region',
  'route53-health-check',
  'route53-health-check-fast',
  'phi-accrual',
  'fixed-timeout-dual',
  'network-only',
  'storage-only',
] as const;
export type DetectorId = (typeof DETECTOR_IDS)[number];

/** The tunings mirrorbeat runs under: the configuration's own in quorum mode, and the same in two-region mode. */
export interface BenchTunings {
  readonly quorum: Tuning;
  readonly twoRegion: Tuning;
}

/** When a detector decided the peer had failed (and would fail over), or undefined. */
export function decide(id: DetectorId, trace: Trace, tunings: BenchTunings, seed: number): number | undefined {
  switch (id) {
    case 'mirrorbeat':
      return driveCore(trace, { tuning: tunings.quorum, paths: ['network', 'storage'] });
    case 'mirrorbeat-two-region':
      return driveCore(trace, { tuning: tunings.twoRegion, paths: ['network', 'storage'] });
    case 'network-only':
      return driveCore(trace, { tuning: tunings.quorum, paths: ['network'] });
    case 'storage-only':
      return driveCore(trace, { tuning: tunings.quorum, paths: ['storage'] });
    case 'route53-health-check':
      return route53Decision(trace, 3, seed);
    case 'route53-health-check-fast':
      return route53Decision(trace, 1, seed);
    case 'phi-accrual':
      return phiAccrualDecision(trace);
    case 'fixed-timeout-dual':
      return fixedTimeoutDualDecision(trace);
  }
}
