/**
 * The virtual clock and its scheduler: events run one at a time in time order, each to its
 * end, ties in scheduling order, so a seed gives one run.
 */
interface Scheduled {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => Promise<void>;
}

export class VirtualClock {
  /** Wall-clock ms the run starts at, on a minute boundary (the scheduler fires on minutes). */
  readonly startMs = Math.floor(Date.now() / 60_000) * 60_000;
  nowMs = this.startMs;
  private seq = 0;
  private readonly queue: Scheduled[] = [];

  /** Scenario time: ms since the start of the run. */
  get at(): number {
    return this.nowMs - this.startMs;
  }

  /** Runs `run` at `atMs` (never in the past). */
  schedule(atMs: number, run: () => Promise<void>): void {
    const event: Scheduled = { atMs: Math.max(atMs, this.nowMs), seq: this.seq++, run };
    // Binary search for the first event that runs after this one.
    let low = 0;
    let high = this.queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.queue[mid] as Scheduled;
      if (other.atMs < event.atMs || (other.atMs === event.atMs && other.seq < event.seq)) low = mid + 1;
      else high = mid;
    }
    this.queue.splice(low, 0, event);
  }

  /** Runs every event due by `endMs`, calling `after` once each has run; then stands at `endMs`. */
  async runUntil(endMs: number, after: () => Promise<void>): Promise<void> {
    while (this.queue.length > 0) {
      const next = this.queue[0] as Scheduled;
      if (next.atMs > endMs) break;
      this.queue.shift();
      this.nowMs = next.atMs;
      await next.run();
      await after();
    }
    this.nowMs = endMs;
  }
}
