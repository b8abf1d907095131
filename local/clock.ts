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
  // The virtual epoch: the current minute, so items' TTLs lie ahead of DynamoDB Local's own clock. Reports count from
  // it.
  // eslint-disable-next-line no-restricted-properties
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

  /**
   * Runs an async task on the virtual clock from `atMs`, as a series of events: the event that
   * starts or wakes it lasts until the task sleeps again (`sleepUntil`, virtual ms) or ends, so
   * its work is awaited like any event's and a seed still gives one run. A task still asleep at
   * the end of the run never wakes.
   */
  spawn(atMs: number, task: (sleepUntil: (atMs: number) => Promise<void>) => Promise<void>): void {
    let step: { done: () => void; fail: (error: unknown) => void } | undefined;
    const stepOver = () => {
      const current = step;
      step = undefined;
      current?.done();
    };
    const stepFor = (go: () => void) => () =>
      new Promise<void>((done, fail) => {
        step = { done, fail };
        go();
      });
    const sleepUntil = (wakeMs: number) =>
      new Promise<void>((wake) => {
        this.schedule(wakeMs, stepFor(wake));
        stepOver();
      });
    this.schedule(
      atMs,
      stepFor(() => {
        task(sleepUntil).then(stepOver, (error: unknown) => {
          const current = step;
          step = undefined;
          current?.fail(error);
        });
      }),
    );
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

/**
 * A site's own clocks, read against the virtual one: its monotonic clock runs at the site's
 * rate (a `drift` fault: fast for positive ppm, slow for negative, from that moment on), its
 * wall clock is that plus the steps `skew` faults made. Whole milliseconds, so a run's report
 * stays the same for the same scenario and seed.
 */
export class SiteClock {
  /** How far `skew` faults moved the wall clock (negative: behind). */
  skewMs = 0;
  private ppm = 0;
  /** Virtual ms at which the current rate began, and how far the monotonic clock had run ahead by then. */
  private sinceMs = 0;
  private aheadMs = 0;

  /** The site's monotonic clock at virtual time `realMs`. */
  mono(realMs: number): number {
    return Math.round(realMs + this.aheadMs + ((realMs - this.sinceMs) * this.ppm) / 1e6);
  }

  /** The site's wall clock at virtual time `realMs`. */
  wall(realMs: number): number {
    return this.mono(realMs) + this.skewMs;
  }

  /** From `realMs` on, the site's clocks run at `ppm` parts per million fast (negative: slow). */
  drift(realMs: number, ppm: number): void {
    this.aheadMs += ((realMs - this.sinceMs) * this.ppm) / 1e6;
    this.sinceMs = realMs;
    this.ppm = ppm;
  }

  /** Virtual ms that pass while the site's own clock counts `ownMs` (its timers, its sleeps). */
  realFor(ownMs: number): number {
    return Math.round(ownMs / (1 + this.ppm / 1e6));
  }
}
