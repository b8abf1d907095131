// The peer's beats as replication delivers them (ReplicationWatch): late past half the RPO budget twice in a row is
// said once, at warning; its end is recorded quietly.
import { SiteCore } from '../../../lambdas/core/site';
import type { Heartbeat } from '../../../lambdas/core/message';
import { type Notice, severityOf } from '../../../lambdas/core/notices';
import { Announcer } from '../../../lambdas/heartbeat-module/announcer';
import type { ModuleDeps } from '../../../lambdas/heartbeat-module/deps';
import { ReplicationWatch } from '../../../lambdas/heartbeat-module/replication-watch';
import { recordingDesk, standbySettings } from '../../helpers';

const NOW = Date.parse('2026-12-07T12:00:00.000Z');

function harness() {
  const settings = standbySettings({ rpoBudgetSeconds: 30 });
  const values = new Map<string, string>();
  const recordedValues: string[] = [];
  const views = {
    failing: false,
    async recordView(_site: string, attribute: string, value: string) {
      if (this.failing) throw new Error('throttled');
      recordedValues.push(value);
      const previous = values.get(attribute);
      values.set(attribute, value);
      return previous === value ? null : previous;
    },
  };
  const announced: Notice[] = [];
  const deps = {
    settings,
    store: { views },
    notices: recordingDesk(announced),
    log: () => {},
  } as unknown as ModuleDeps;
  const core = new SiteCore(settings.tuning, settings.site, settings.peer);
  const watch = new ReplicationWatch(deps, new Announcer(deps, core));
  /** A tick at `at` ms that read a new storage beat sent `lateMs` before (undefined: no new beat). */
  const tick = async (at: number, lateMs: number | undefined) => {
    const beat =
      lateMs === undefined ? undefined : ({ sentAt: new Date(NOW + at - lateMs).toISOString() } as Heartbeat);
    watch.sample(beat, lateMs !== undefined, NOW + at);
    return (await watch.watch(NOW + at, 500, [])).map((n) => `${n.kind}:${severityOf(n)}`);
  };
  return { watch, tick, views, announced, recordedValues };
}

describe('the replication watch', () => {
  it('says replication-lagging once when two new beats in a row arrive later than half the budget', async () => {
    const { tick, announced, recordedValues, watch } = harness();
    expect(await tick(0, 1_000)).toEqual([]);
    expect(await tick(2_000, 15_001)).toEqual([]);
    // One late read is no trend: a quick one in between starts the count again.
    expect(await tick(4_000, 2_000)).toEqual([]);
    expect(await tick(6_000, 16_000)).toEqual([]);
    // A tick with no new beat changes nothing.
    expect(await tick(8_000, undefined)).toEqual([]);
    expect(await tick(10_000, 17_000)).toEqual(['replication-lagging:warning']);
    expect(watch.lagMs).toBe(17_000);
    expect(announced[0]?.detail).toMatchObject({
      lagMs: 17_000,
      rpoBudgetSeconds: 30,
      why: "production's last beats reached this site's replica 17 s after they were sent, more than half the RPO budget (30 s)",
    });
    expect(await tick(12_000, 18_000)).toEqual([]);
    // Back under half the budget: recorded, quietly.
    expect(await tick(14_000, 3_000)).toEqual([]);
    expect(recordedValues).toEqual(['ok', 'lagging', 'ok']);
    expect(announced).toHaveLength(1);
  });

  it('tries an unrecorded change again on the next tick, and then says it', async () => {
    const { tick, views } = harness();
    await tick(0, 1_000);
    views.failing = true;
    await tick(2_000, 20_000);
    expect(await tick(4_000, 20_000)).toEqual([]);
    views.failing = false;
    expect(await tick(6_000, undefined)).toEqual(['replication-lagging:warning']);
  });

  it('takes no sample from a beat whose send time is not a time', async () => {
    const { watch } = harness();
    watch.sample({ sentAt: 'yesterday' } as Heartbeat, true, NOW);
    expect(watch.lagMs).toBeUndefined();
  });
});
