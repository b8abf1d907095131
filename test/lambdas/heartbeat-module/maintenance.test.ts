// Maintenance mode as the heartbeat module sees it (MaintenanceWatch): read every 20 s, a failed read keeps what was
// known, and each switch (and each hour it stays on) announced once, by one invocation.
import { SiteCore } from '../../../lambdas/core/site';
import type { Notice } from '../../../lambdas/core/notices';
import type { Maintenance } from '../../../lambdas/core/volume';
import { Announcer } from '../../../lambdas/heartbeat-module/announcer';
import type { ModuleDeps } from '../../../lambdas/heartbeat-module/deps';
import {
  MAINTENANCE_READ_EVERY_MS,
  MAINTENANCE_REMINDER_EVERY_MS,
  MaintenanceWatch,
} from '../../../lambdas/heartbeat-module/maintenance';
import type { Outcome } from '../../../lambdas/shared/notifier';
import { recordingDesk, standbySettings } from '../../helpers';

const SINCE = Date.parse('2026-12-07T12:00:00.000Z');
const ON: Maintenance = { on: true, by: 'ana', reason: 'patching', sinceMs: SINCE };
const OFF: Maintenance = { on: false, by: 'ana', reason: '', sinceMs: SINCE + 600_000 };
const HOUR = MAINTENANCE_REMINDER_EVERY_MS;

function harness(overrides: Record<string, unknown> = {}) {
  const settings = standbySettings(overrides);
  const values = new Map<string, string>();
  const logs: string[] = [];
  const details: unknown[] = [];
  const store = {
    item: undefined as Maintenance | undefined | Error,
    reads: 0,
    async readMaintenance() {
      this.reads += 1;
      if (this.item instanceof Error) throw this.item;
      return this.item;
    },
    views: {
      failing: false,
      elsewhere: false,
      calls: [] as string[],
      async recordView(_site: string, attribute: string, value: string) {
        this.calls.push(value);
        if (this.failing) throw new Error('throttled');
        const previous = values.get(`${attribute}`);
        values.set(attribute, value);
        return this.elsewhere || previous === value ? null : previous;
      },
    },
  };
  const announced: Notice[] = [];
  const deps = {
    settings,
    store,
    notices: recordingDesk(announced),
    log: (_level: string, message: string, detail: unknown) => {
      logs.push(message);
      details.push(detail);
    },
  } as unknown as ModuleDeps;
  const core = new SiteCore(settings.tuning, settings.site, settings.peer);
  const watch = new MaintenanceWatch(deps, core, new Announcer(deps, core));
  const outcomes: Outcome[] = [];
  const announce = (at: number) => watch.announce(at, 500, outcomes);
  return { watch, core, store, announced, announce, logs, details, values, outcomes };
}

describe('the maintenance watch', () => {
  it('reads the item at once, then not again for 20 s, then again', async () => {
    const { watch, store, core } = harness();
    store.item = ON;
    await watch.refresh(SINCE, 500);
    expect(store.reads).toBe(1);
    expect(core.maintenance).toEqual(ON);
    store.item = OFF;
    await watch.refresh(SINCE + MAINTENANCE_READ_EVERY_MS - 1, 500);
    expect(store.reads).toBe(1);
    expect(core.maintenance).toEqual(ON);
    await watch.refresh(SINCE + MAINTENANCE_READ_EVERY_MS, 500);
    expect(store.reads).toBe(2);
    expect(core.maintenance).toEqual(OFF);
    // Counted from the last read, not from the first.
    await watch.refresh(SINCE + 2 * MAINTENANCE_READ_EVERY_MS - 1, 500);
    expect(store.reads).toBe(2);
  });

  it('keeps what it knew when a read fails (an operator’s switch is not undone by a timeout), and says so', async () => {
    const { watch, store, core, logs, details } = harness();
    store.item = ON;
    await watch.refresh(SINCE, 500);
    store.item = new Error('timed out');
    await watch.refresh(SINCE + MAINTENANCE_READ_EVERY_MS, 500);
    expect(core.maintenance).toEqual(ON);
    expect(logs).toEqual(['maintenance mode unreadable; keeping the last one read']);
    expect(details).toEqual([{ error: 'Error: timed out' }]);
  });

  it('says nothing while no maintenance item exists', async () => {
    const { announce, store, announced } = harness();
    expect(await announce(SINCE)).toEqual([]);
    expect(store.views.calls).toEqual([]);
    expect(announced).toEqual([]);
  });

  it('announces maintenance on once, with how to end it, and nothing more within the hour', async () => {
    const { watch, announce, store, announced, outcomes } = harness();
    store.item = ON;
    await watch.refresh(SINCE, 500);
    const [notice] = await announce(SINCE + 1_000);
    expect(notice).toMatchObject({
      kind: 'maintenance',
      site: 'standby',
      atMs: SINCE + 1_000,
      headline: 'maintenance mode on: automatic failover held',
      detail: { on: true, by: 'ana', reason: 'patching', since: '2026-12-07T12:00:00.000Z' },
    });
    expect(notice?.detail.next).toBe(
      'no automatic failover starts until: npx mirrorbeat maintenance off --reason "..."; a failover or switchover by hand still works',
    );
    expect(announced).toEqual([notice]);
    expect(outcomes).toEqual(['published']);
    expect(store.views.calls).toEqual([`on@${SINCE}#0`]);
    expect(await announce(SINCE + HOUR - 1)).toEqual([]);
    expect(store.views.calls).toHaveLength(1);
  });

  it('reminds once an hour while it stays on', async () => {
    const { watch, announce, store, details } = harness();
    store.item = ON;
    await watch.refresh(SINCE, 500);
    await announce(SINCE);
    const [reminder] = await announce(SINCE + HOUR);
    expect(details).toEqual([
      { on: true, reminder: 0 },
      { on: true, reminder: 1 },
    ]);
    expect(reminder?.headline).toBe('maintenance mode still on after 1 h: automatic failover held');
    expect(await announce(SINCE + HOUR + 1)).toEqual([]);
    const [second] = await announce(SINCE + 2 * HOUR + 5);
    expect(second?.headline).toBe('maintenance mode still on after 2 h: automatic failover held');
    expect(store.views.calls).toEqual([`on@${SINCE}#0`, `on@${SINCE}#1`, `on@${SINCE}#2`]);
  });

  it('counts an item switched on later than the site’s clock as just switched on', async () => {
    const { watch, announce, store } = harness();
    store.item = ON;
    await watch.refresh(SINCE, 500);
    const [notice] = await announce(SINCE - 5_000);
    expect(notice?.headline).toBe('maintenance mode on: automatic failover held');
    expect(store.views.calls).toEqual([`on@${SINCE}#0`]);
  });

  it('announces the end once to a site that saw it on, and says nothing of an end it never saw begin', async () => {
    const seen = harness();
    seen.store.item = ON;
    await seen.watch.refresh(SINCE, 500);
    await seen.announce(SINCE);
    seen.store.item = OFF;
    await seen.watch.refresh(SINCE + MAINTENANCE_READ_EVERY_MS, 500);
    const [end] = await seen.announce(SINCE + MAINTENANCE_READ_EVERY_MS);
    expect(end).toMatchObject({
      headline: 'maintenance mode off: automatic failover resumes',
      detail: { on: false, next: 'nothing: automatic failover and self-fencing work again' },
    });
    expect(await seen.announce(SINCE + MAINTENANCE_READ_EVERY_MS + 1)).toEqual([]);

    const fresh = harness();
    fresh.store.item = OFF;
    await fresh.watch.refresh(SINCE, 500);
    expect(await fresh.announce(SINCE)).toEqual([]);
    expect(fresh.store.views.calls).toEqual([`off@${OFF.sinceMs}`]);
    expect(fresh.announced).toEqual([]);
  });

  it('leaves the announcement to the invocation whose write changed the record', async () => {
    const { watch, announce, store, announced } = harness();
    store.item = ON;
    store.views.elsewhere = true;
    await watch.refresh(SINCE, 500);
    expect(await announce(SINCE)).toEqual([]);
    expect(announced).toEqual([]);
    // Recorded by the other invocation: this one does not write it again.
    expect(await announce(SINCE + 1)).toEqual([]);
    expect(store.views.calls).toHaveLength(1);
  });

  it('tries again on the next tick when the record could not be written, and announces then', async () => {
    const { watch, announce, store, announced } = harness();
    store.item = ON;
    store.views.failing = true;
    await watch.refresh(SINCE, 500);
    expect(await announce(SINCE)).toEqual([]);
    store.views.failing = false;
    expect(await announce(SINCE + 2_000)).toHaveLength(1);
    expect(announced.map((n) => n.headline)).toEqual(['maintenance mode on: automatic failover held']);
  });

  it('says the primary does not fence itself for a silent standby in two-region self-fence mode', async () => {
    const { watch, announce, store } = harness({ consistency: 'eventual', isolationPolicy: 'self-fence' });
    store.item = ON;
    await watch.refresh(SINCE, 500);
    const [notice] = await announce(SINCE);
    expect(notice?.detail.next).toMatch(
      /^no automatic failover starts and the primary does not fence itself for a silent standby until/,
    );
    const quorum = harness({ isolationPolicy: 'self-fence' });
    quorum.store.item = ON;
    await quorum.watch.refresh(SINCE, 500);
    const [plain] = await quorum.announce(SINCE);
    expect(plain?.detail.next).toMatch(/^no automatic failover starts until/);
    // A two-region primary that stays primary when cut off has no self-fence to hold.
    const stays = harness({ consistency: 'eventual', isolationPolicy: 'stay-primary' });
    stays.store.item = ON;
    await stays.watch.refresh(SINCE, 500);
    const [staying] = await stays.announce(SINCE);
    expect(staying?.detail.next).toMatch(/^no automatic failover starts until/);
  });
});
