// Maintenance mode as the heartbeat module sees it: read from the replica now and then, handed to the core, announced.
import { deadlineSignal } from '../shared/deadlines';
import type { Notice } from '../core/notices';
import type { SiteCore } from '../core/site';
import { type Maintenance, maintenanceWhy } from '../core/volume';
import type { Outcome } from '../shared/notifier';
import type { Announcer } from './announcer';
import type { ModuleDeps } from './deps';

/** How often the module reads the maintenance item: a switch takes effect within this long. */
export const MAINTENANCE_READ_EVERY_MS = 20_000;
/** While maintenance mode lasts, a reminder notice this often. */
export const MAINTENANCE_REMINDER_EVERY_MS = 60 * 60_000;

export class MaintenanceWatch {
  private lastReadMs: number | undefined;
  /** What this container last recorded as announced: `on@<since>#<reminder>` or `off@<since>`. */
  private announced: string | undefined;

  constructor(
    private readonly deps: ModuleDeps,
    private readonly core: SiteCore,
    private readonly announcer: Announcer,
  ) {}

  /**
   * Reads the item when due; a read that fails keeps what the core knew (an operator's switch is not undone by a
   * timeout).
   */
  async refresh(nowMs: number, timeoutMs: number): Promise<void> {
    if (this.lastReadMs !== undefined && nowMs - this.lastReadMs < MAINTENANCE_READ_EVERY_MS) return;
    this.lastReadMs = nowMs;
    try {
      this.core.maintenance = await this.deps.store.readMaintenance(deadlineSignal(timeoutMs));
    } catch (error) {
      this.deps.log('warn', 'maintenance mode unreadable; keeping the last one read', { error: String(error) });
    }
  }

  /**
   * Says maintenance mode began, is still on (once per MAINTENANCE_REMINDER_EVERY_MS), or ended;
   * each recorded once in this site's view, so of overlapping invocations only one announces.
   */
  async announce(nowMs: number, timeoutMs: number, outcomes: Outcome[]): Promise<Notice[]> {
    const m = this.core.maintenance;
    if (m === undefined) return [];
    const reminder = Math.max(0, Math.floor((nowMs - m.sinceMs) / MAINTENANCE_REMINDER_EVERY_MS));
    const state = m.on ? `on@${m.sinceMs}#${reminder}` : `off@${m.sinceMs}`;
    if (state === this.announced) return [];
    const { settings, store } = this.deps;
    const previous = await this.announcer.recordOnce(
      'maintenance notice',
      (writer, signal) => store.views.recordView(settings.site, 'maintenance', state, nowMs, writer, signal),
      timeoutMs,
    );
    if (previous === false) return [];
    this.announced = state;
    // A site that never saw it on has nothing to say about it being off.
    if (previous === null || (!m.on && previous === undefined)) return [];
    const notice = this.notice(m, reminder, nowMs);
    this.deps.log('warn', 'notice: maintenance', { on: m.on, reminder });
    await this.announcer.publish(notice, nowMs, outcomes);
    return [notice];
  }

  private notice(m: Maintenance, reminder: number, nowMs: number): Notice {
    const { settings } = this.deps;
    const off = `npx mirrorbeat maintenance off --reason "..."`;
    return {
      kind: 'maintenance',
      site: settings.site,
      region: settings.region,
      cluster: settings.cluster,
      atMs: nowMs,
      headline: m.on
        ? reminder === 0
          ? 'maintenance mode on: automatic failover held'
          : `maintenance mode still on after ${reminder} h: automatic failover held`
        : 'maintenance mode off: automatic failover resumes',
      detail: {
        on: m.on,
        by: m.by,
        reason: m.reason,
        since: new Date(m.sinceMs).toISOString(),
        why: maintenanceWhy(m),
        next: m.on
          ? `no automatic failover starts${settings.tuning.isolationPolicy === 'self-fence' && settings.tuning.consistency === 'eventual' ? ' and the primary does not fence itself for a silent standby' : ''} until: ${off}; a failover or switchover by hand still works`
          : 'nothing: automatic failover and self-fencing work again',
      },
    };
  }
}
