/**
 * The per-path failure detector: phi-accrual (Hayashibara et al.) over a window of
 * inter-arrival times, as Akka and Cassandra use it. Phi is the confidence, on a log10
 * scale, that the peer has stopped sending on this path: phi 8 means the silence so far
 * would happen by chance once in 10^8 beats of the stream seen so far. The path's deadline
 * is the silence at which phi reaches the threshold, held between a hard floor and ceiling:
 * a jittery path (a storage replica that sometimes lags) earns a longer deadline, a steady
 * one never gets shorter than the floor, and no path waits longer than the ceiling.
 */
export interface DetectorSettings {
  /** The sender's beat interval: the expected mean before the window has samples. */
  readonly intervalMs: number;
  readonly phiThreshold: number;
  readonly floorMs: number;
  readonly ceilingMs: number;
  /** Inter-arrival samples kept. @default 60 */
  readonly windowSize?: number;
}

const DEFAULT_WINDOW = 60;

/**
 * Phi of a silence `elapsedMs` long under a normal distribution of inter-arrival times,
 * with the logistic approximation of the normal CDF that Akka uses (error < 1e-4), which
 * stays finite far into the tail. Non-decreasing in `elapsedMs`.
 */
export function phiOf(elapsedMs: number, meanMs: number, stdDevMs: number): number {
  const y = (elapsedMs - meanMs) / stdDevMs;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  // Both branches are -log10 of P(next beat later than elapsed); split to keep precision in each tail.
  const phi = elapsedMs > meanMs ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
  // Past a few hundred the tail says nothing more; a cap keeps phi finite for metrics and notices.
  return Number.isFinite(phi) ? Math.min(PHI_CAP, Math.max(0, phi)) : PHI_CAP;
}

/** The largest phi reported: any silence that unlikely is simply over. */
export const PHI_CAP = 1000;

/**
 * Phi as people read it, the same in notices, the timeline and the page: two decimals, and
 * `>100` past 100 (a chance below 10^-100 that the beat is merely late; more digits say nothing).
 */
export function formatPhi(phi: number): string {
  return phi > 100 ? '>100' : String(Math.round(phi * 100) / 100);
}

/**
 * How many standard deviations past the mean a silence must be for phi to reach `threshold`, by bisection on
 * the monotone phi. Phi depends on the silence only through that distance, so a detector finds it once, for its
 * threshold, and its deadline is the mean plus that many deviations (a bisection after every beat was most of the
 * fault search's time).
 */
function deviationsForPhi(threshold: number): number {
  let low = 0;
  let high = 64;
  for (let i = 0; i < 60; i += 1) {
    const mid = (low + high) / 2;
    if (phiOf(mid, 0, 1) >= threshold) high = mid;
    else low = mid;
  }
  return high;
}

export interface DetectorSnapshot {
  readonly samples: number;
  readonly meanMs: number;
  readonly stdDevMs: number;
  readonly lastArrivalMs: number | undefined;
}

export class PhiAccrualDetector {
  private readonly window: number[] = [];
  private readonly size: number;
  /** Standard deviations past the mean at which phi reaches the threshold (deviationsForPhi). */
  private readonly deviations: number;
  private lastArrival: number | undefined;
  private deadline: number | undefined;

  constructor(private readonly settings: DetectorSettings) {
    if (
      !(settings.intervalMs > 0) ||
      !(settings.floorMs > 0) ||
      !(settings.ceilingMs >= settings.floorMs) ||
      !(settings.phiThreshold > 0)
    ) {
      throw new RangeError(
        `detector settings need interval > 0, floor > 0, ceiling >= floor and threshold > 0; got ${JSON.stringify(settings)}`,
      );
    }
    this.size = settings.windowSize ?? DEFAULT_WINDOW;
    this.deviations = deviationsForPhi(settings.phiThreshold);
  }

  get lastArrivalMs(): number | undefined {
    return this.lastArrival;
  }

  /**
   * A valid beat arrived (receiver's clock). Arrivals not after the last one are ignored, and
   * so is a gap longer than the deadline in force: the path had failed, so the gap was an
   * outage (a partition, a crash, a paused sender), not the stream's rhythm, and learning it
   * would stretch every later deadline and slow the next detection.
   */
  heartbeat(arrivalMs: number): void {
    if (!Number.isFinite(arrivalMs)) return;
    if (this.lastArrival !== undefined) {
      if (arrivalMs <= this.lastArrival) return;
      const gap = arrivalMs - this.lastArrival;
      if (gap <= this.deadlineMs()) {
        this.window.push(gap);
        if (this.window.length > this.size) this.window.shift();
        this.deadline = undefined;
      }
    }
    this.lastArrival = arrivalMs;
  }

  snapshot(): DetectorSnapshot {
    const { intervalMs } = this.settings;
    // Until the window has a few samples, assume the configured rhythm with a quarter of it as spread.
    const n = this.window.length;
    const mean = n < 3 ? intervalMs : this.window.reduce((a, b) => a + b, 0) / n;
    const variance = n < 3 ? (intervalMs / 4) ** 2 : this.window.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    // A perfectly steady stream must not make phi explode at the first late millisecond.
    const stdDev = Math.max(Math.sqrt(variance), intervalMs / 10, 50);
    return { samples: n, meanMs: mean, stdDevMs: stdDev, lastArrivalMs: this.lastArrival };
  }

  /** Phi at `nowMs`; 0 before the first beat (a path never seen is pending, not suspect). */
  phi(nowMs: number): number {
    if (this.lastArrival === undefined) return 0;
    const { meanMs, stdDevMs } = this.snapshot();
    return phiOf(Math.max(0, nowMs - this.lastArrival), meanMs, stdDevMs);
  }

  /** The adaptive deadline: the silence where phi reaches the threshold, within [floor, ceiling]. */
  deadlineMs(): number {
    if (this.deadline === undefined) {
      const { meanMs, stdDevMs } = this.snapshot();
      const adaptive = meanMs + this.deviations * stdDevMs;
      this.deadline = Math.min(this.settings.ceilingMs, Math.max(this.settings.floorMs, adaptive));
    }
    return this.deadline;
  }
}
