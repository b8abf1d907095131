import { deadlineSignal } from '../shared/deadlines';
import type { CarriedWatch } from '../core/lease';
import { serialFloor } from '../core/volume';
import { type ModuleDeps, pathTimeoutMs } from './deps';
import type { ClaimAnswer } from './driver';

/** A ticker that has not ticked for this many intervals is dead: the next invocation may claim it. */
export const TICKER_DEAD_AFTER_INTERVALS = 3;

/**
 * The longest an invocation refused the ticker waits to look once more: a ticker whose container
 * died between two ticks still looks alive for three intervals, and without a second look the
 * site would stay silent until next minute's invocation (long enough for the standby to take
 * over a primary that was only restarting). The refusal says when the ticker it found becomes
 * claimable, and the invocation looks then (driver.ts, runInvocation).
 */
export const reclaimAfterMs = (intervalSeconds: number): number =>
  TICKER_DEAD_AFTER_INTERVALS * intervalSeconds * 1000 + 500;

/**
 * The serials of this site's beats and, for the handler's handoff (index.ts), the site's
 * ticker: which invocation of the heartbeat module ticks now. Both live on the serial
 * counter's item, so an invocation learns that a newer one has taken over from the update
 * every tick makes anyway.
 */
export class Ticker {
  private lastSerial = 0;
  /** The invocation ticking in this container, and whether a newer one has taken over from it. */
  private invocation: { id: string; superseded: boolean } | undefined;

  /** The standby's lease watch the last ticker left, as this invocation's claim read it (lease.ts, watchCarried). */
  carried: CarriedWatch | undefined;

  constructor(private readonly deps: ModuleDeps) {}

  /**
   * Whether invocation `id` is to tick: it claims the site's ticker when no live invocation
   * holds it (none ticked for three intervals), or the one that does ends within `handoffMs`.
   * A table that cannot answer lets it tick: two tickers beat twice for a while, none would
   * leave the site silent.
   */
  async claim(id: string, nowMs: number, untilMs: number, handoffMs: number): Promise<ClaimAnswer> {
    const { settings, store } = this.deps;
    const intervalMs = settings.tuning.intervalSeconds * 1000;
    try {
      const out = await store.ticker.claim(
        settings.site,
        { id, untilMs, nowMs },
        { staleBeforeMs: nowMs - TICKER_DEAD_AFTER_INTERVALS * intervalMs, endsBeforeMs: nowMs + handoffMs },
        deadlineSignal(pathTimeoutMs(settings.tuning.intervalSeconds)),
      );
      this.carried = out.claimed ? out.carried : undefined;
      if (out.claimed) return { claimed: true };
      // When the ticker that holds the item could be claimed: three intervals after its last tick, or as it nears its
      // end. An item missing either time (edited by hand) says nothing: the invocation waits the full reclaim wait.
      const at = Math.min(
        Number(out.seenAtMs) + TICKER_DEAD_AFTER_INTERVALS * intervalMs,
        Number(out.untilMs) - handoffMs,
      );
      return Number.isFinite(at) ? { claimed: false, claimableInMs: Math.max(0, at - nowMs) } : { claimed: false };
    } catch (error) {
      this.deps.log('warn', 'ticker unreadable; ticking anyway', { error: String(error) });
      return { claimed: true };
    }
  }

  /** The invocation that claimed the ticker with `id` begins (undefined: an invocation outside the handoff). */
  begin(id: string | undefined): void {
    this.invocation = id === undefined ? undefined : { id, superseded: false };
  }

  /** Whether a newer invocation has claimed the ticker since this one began. */
  get superseded(): boolean {
    return this.invocation?.superseded === true;
  }

  /**
   * The next serial; the counter down, a serial above any before it from the time floor. The
   * ticking invocation's update leaves `watch` for the site's next container.
   */
  async nextSerial(nowMs: number, timeoutMs: number, watch?: CarriedWatch): Promise<number> {
    const { settings, store } = this.deps;
    const invocation = this.invocation;
    try {
      if (invocation === undefined)
        this.lastSerial = await store.ticker.nextSerial(settings.site, nowMs, deadlineSignal(timeoutMs));
      else {
        const signal = deadlineSignal(timeoutMs);
        const out = await store.ticker.nextSerialAs(settings.site, nowMs, invocation.id, watch, signal);
        this.lastSerial = out.serial;
        invocation.superseded = out.ticker !== undefined && out.ticker !== invocation.id;
      }
    } catch (error) {
      // The counter is down with the local table; the network beat must still go out, with a serial above any before
      // it.
      this.lastSerial = Math.max(this.lastSerial + 1, serialFloor(nowMs));
      this.deps.log('warn', 'serial counter unavailable; using the time floor', { error: String(error) });
    }
    return this.lastSerial;
  }
}
