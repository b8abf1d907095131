import type { PathId } from '../core/wire';

/** What one invocation's ticks took, logged once as it ends (lambdas/heartbeat-module/index.ts). */
export interface InvocationSummary {
  readonly ticks: number;
  /** Wall time of a tick, from its start to its report: reads, health, signing, both sends, notices. */
  readonly tickMsP50: number;
  readonly tickMsP99: number;
  readonly tickMsMax: number;
  /** Ticks that took longer than one path's timeout: a sign the function's CPU share is too small. */
  readonly ticksOverPathTimeout: number;
  /** Beats that did not go out on a path (timeout or error), over both paths. */
  readonly failedSends: number;
  readonly pathTimeoutMs: number;
}

/**
 * The ticks' wall times of one invocation, against the path timeout. Lambda gives CPU in
 * proportion to memory, so below the default memory a slow tick is the first sign that the
 * signing and the sends no longer fit; one summary line per invocation (every 10 minutes)
 * lets a site measure that in its own account (docs/OPERATIONS.md, "Running the heartbeat
 * module on less memory") at no metric's price.
 */
export class TickTimings {
  private readonly ms: number[] = [];
  private failedSends = 0;

  constructor(private readonly pathTimeoutMs: number) {}

  record(wallMs: number, sent: Readonly<Record<PathId, string>>): void {
    this.ms.push(wallMs);
    for (const outcome of Object.values(sent)) if (outcome === 'failed') this.failedSends += 1;
  }

  summary(): InvocationSummary {
    const sorted = [...this.ms].sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0);
    return {
      ticks: sorted.length,
      tickMsP50: at(0.5),
      tickMsP99: at(0.99),
      tickMsMax: Math.round(sorted.at(-1) ?? 0),
      ticksOverPathTimeout: sorted.filter((ms) => ms > this.pathTimeoutMs).length,
      failedSends: this.failedSends,
      pathTimeoutMs: this.pathTimeoutMs,
    };
  }
}
