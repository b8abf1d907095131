// The peer's beats as the heartbeat volume's replication delivers them: late past half the RPO budget, said once.
import type { Heartbeat } from '../core/message';
import type { Notice } from '../core/notices';
import type { Outcome } from '../shared/notifier';
import type { Announcer } from './announcer';
import type { ModuleDeps } from './deps';

/** Samples in a row over half the budget before replication counts as lagging (one late read is not a trend). */
const SAMPLES_OVER = 2;

/**
 * How late the peer's beats reach this site's replica: for each new storage beat, this site's corrected clock at the
 * read minus the beat's send time (the peer's clock: the two differ by what Amazon Time Sync leaves, milliseconds),
 * which includes up to one interval of waiting for the read. Past half `rpoBudgetSeconds` for SAMPLES_OVER beats in a
 * row, `replication-lagging` (warning) says so once, before the failover's replication gate and the
 * ReplicationLagOverBudget alarm act at the budget itself; it is recorded in this site's view, and its end too,
 * quietly. A display and a warning, never a decision: no role or failover depends on it.
 */
export class ReplicationWatch {
  private over = 0;
  private state: 'ok' | 'lagging' = 'ok';
  /** The last sample, ms. */
  lagMs: number | undefined;
  private recorded: 'ok' | 'lagging' | undefined;

  constructor(
    private readonly deps: ModuleDeps,
    private readonly announcer: Announcer,
  ) {}

  private get halfBudgetMs(): number {
    return (this.deps.settings.tuning.rpoBudgetSeconds * 1000) / 2;
  }

  /** A storage beat read this tick; only a new one (`arrived`) is a sample. */
  sample(beat: Heartbeat | undefined, arrived: boolean, nowMs: number): void {
    if (!arrived || beat === undefined) return;
    const sentMs = Date.parse(beat.sentAt);
    if (!Number.isFinite(sentMs)) return;
    this.lagMs = Math.max(0, nowMs - sentMs);
    this.over = this.lagMs > this.halfBudgetMs ? this.over + 1 : 0;
    if (this.over >= SAMPLES_OVER) this.state = 'lagging';
    if (this.over === 0) this.state = 'ok';
  }

  async watch(nowMs: number, timeoutMs: number, outcomes: Outcome[]): Promise<Notice[]> {
    const { settings, store } = this.deps;
    const state = this.state;
    if (state === this.recorded) return [];
    const previous = await this.announcer.recordOnce(
      `replication (${state})`,
      (writer, signal) => store.views.recordView(settings.site, 'replication', state, nowMs, writer, signal),
      timeoutMs,
    );
    if (previous === false) return [];
    this.recorded = state;
    if (state !== 'lagging' || previous === null) return [];
    const budget = settings.tuning.rpoBudgetSeconds;
    return this.announcer.say('replication-lagging', nowMs, outcomes, {
      lagMs: this.lagMs,
      rpoBudgetSeconds: budget,
      why: `${settings.peer}'s last beats reached this site's replica ${Math.round((this.lagMs ?? 0) / 1000)} s after they were sent, more than half the RPO budget (${budget} s)`,
      next: `no action yet: at ${budget} s the ReplicationLagOverBudget alarm fires and a failover's replication gate blocks. Check the heartbeat volume's ReplicationLatency in CloudWatch and the region's DynamoDB health; npx mirrorbeat status --region ${settings.region} shows the lag`,
    });
  }
}
