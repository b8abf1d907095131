// Quorum mode's votes, watched by the heartbeat module (QuorumWatch): recorded once per change, announced when the
// quorum turns degraded or whole, and said from memory when no majority lets the record be written.
import { SiteCore } from '../../../lambdas/core/site';
import { type Notice, severityOf } from '../../../lambdas/core/notices';
import { Announcer } from '../../../lambdas/heartbeat-module/announcer';
import type { ModuleDeps } from '../../../lambdas/heartbeat-module/deps';
import { QuorumWatch } from '../../../lambdas/heartbeat-module/quorum-watch';
import type { Outcome } from '../../../lambdas/shared/notifier';
import { recordingDesk, standbySettings } from '../../helpers';

const NOW = Date.parse('2026-12-07T12:00:00.000Z');
const LEASE = 7_000;
const healthy = { network: 'healthy', storage: 'healthy' } as const;
const storageCut = { network: 'healthy', storage: 'failed' } as const;
const enabled = { network: 'enabled', storage: 'enabled' } as const;

function harness(overrides: Record<string, unknown> = {}) {
  const settings = standbySettings(overrides);
  const values = new Map<string, string>();
  const views = {
    failing: false,
    elsewhere: false,
    calls: [] as string[],
    async recordView(_site: string, attribute: string, value: string) {
      this.calls.push(value);
      if (this.failing) throw Object.assign(new Error('no majority'), { name: 'ReplicatedWriteConflictException' });
      const previous = values.get(attribute);
      values.set(attribute, value);
      return this.elsewhere || previous === value ? null : previous;
    },
  };
  const announced: Notice[] = [];
  const witness = {
    reads: 0,
    answer: 'unreachable' as 'ok' | 'unreachable' | 'unknown' | Error,
    async read() {
      this.reads += 1;
      if (this.answer instanceof Error) throw this.answer;
      return { state: this.answer, open: [], atMs: undefined };
    },
  };
  const deps = {
    settings,
    store: { views, witness },
    notices: recordingDesk(announced),
    log: () => {},
  } as unknown as ModuleDeps;
  const core = new SiteCore(settings.tuning, settings.site, settings.peer);
  const watch = new QuorumWatch(deps, LEASE, new Announcer(deps, core));
  const outcomes: Outcome[] = [];
  /** One tick at `at` ms: a strong read succeeded (`reached`) or not, with these path states. */
  const tick = async (at: number, reached: boolean, states: typeof healthy | typeof storageCut = healthy) => {
    if (reached) watch.reached(at);
    return watch.watch(watch.view(states, enabled, at), NOW + at, 500, outcomes);
  };
  return { watch, views, announced, tick, values, witness };
}

const kinds = (notices: readonly Notice[]) => notices.map((n) => `${n.kind}:${severityOf(n)}`);

describe('the quorum watch', () => {
  it('is on in quorum mode only', () => {
    expect(harness().watch.active).toBe(true);
    expect(harness({ consistency: 'eventual', isolationPolicy: 'self-fence' }).watch.active).toBe(false);
  });

  it('records a whole quorum quietly, once, then writes nothing while it stays so', async () => {
    const { tick, views, announced } = harness();
    expect(await tick(0, true)).toEqual([]);
    expect(await tick(2_000, true)).toEqual([]);
    expect(views.calls).toEqual(['{"degraded":false,"majority":true,"peerReplica":"reachable","witness":"unknown"}']);
    expect(announced).toEqual([]);
  });

  it('says the peer’s replica is cut off once it has been for a lease, at warning, and its return once', async () => {
    const { tick, announced } = harness();
    await tick(0, true);
    // A peer that went quiet fails its storage path a few seconds before its network path: not a cut replica.
    expect(await tick(2_000, true, storageCut)).toEqual([]);
    expect(await tick(4_000, true)).toEqual([]);
    expect(await tick(6_000, true, storageCut)).toEqual([]);
    expect(await tick(12_000, true, storageCut)).toEqual([]);
    const degraded = await tick(13_000, true, storageCut);
    expect(kinds(degraded)).toEqual(['quorum-degraded:warning']);
    expect(degraded[0]?.detail).toMatchObject({
      majority: true,
      peerReplica: 'unreachable',
      witness: 'unknown',
      why: expect.stringMatching(/^the peer's beats have not replicated to this site's replica for 7 s/),
      next: expect.stringMatching(/^two of three votes remain: one more fault/),
    });
    expect(await tick(15_000, true, storageCut)).toEqual([]);
    expect(kinds(await tick(17_000, true))).toEqual(['quorum-restored:warning']);
    expect(announced).toHaveLength(2);
  });

  it('loses its majority a lease after the last strong success, and says so once from memory while nothing can be written', async () => {
    const { tick, views } = harness();
    await tick(0, true);
    views.failing = true;
    expect(await tick(6_999, false)).toEqual([]);
    const said = await tick(7_000, false);
    expect(kinds(said)).toEqual(['quorum-degraded:warning']);
    expect(said[0]?.detail).toMatchObject({ majority: false, next: expect.stringMatching(/^this site cannot write/) });
    // Not again while the record still cannot be written.
    expect(await tick(9_000, false)).toEqual([]);
    expect(await tick(11_000, false)).toEqual([]);
    // The majority back: the record lands whole, and the restoration is said.
    views.failing = false;
    expect(kinds(await tick(13_000, true))).toEqual(['quorum-restored:warning']);
    expect(await tick(15_000, true)).toEqual([]);
  });

  it('says a degradation from memory only once even when the record then lands still degraded', async () => {
    const { tick, views } = harness();
    await tick(0, true);
    views.failing = true;
    expect(kinds(await tick(8_000, false))).toEqual(['quorum-degraded:warning']);
    // The majority comes back but the peer's beats have not replicated for a lease: recorded degraded, not said again.
    expect(await tick(9_000, false, storageCut)).toEqual([]);
    views.failing = false;
    expect(await tick(16_000, true, storageCut)).toEqual([]);
    expect(kinds(await tick(18_000, true))).toEqual(['quorum-restored:warning']);
  });

  it('does not announce what an overlapping invocation recorded first, and does not say a whole quorum it could not record', async () => {
    const { tick, views } = harness();
    await tick(0, true);
    views.elsewhere = true;
    await tick(2_000, true, storageCut);
    expect(await tick(9_000, true, storageCut)).toEqual([]);
    views.elsewhere = false;
    views.failing = true;
    expect(await tick(4_000, true)).toEqual([]);
  });

  it('a first record that is already degraded is announced', async () => {
    const { tick, views } = harness();
    views.failing = true;
    await tick(0, true, storageCut);
    views.failing = false;
    expect(kinds(await tick(7_000, true, storageCut))).toEqual(['quorum-degraded:warning']);
  });

  it('reads what AWS Health said of the witness every 20 s, keeps the last answer when unreadable, and never in two-region mode', async () => {
    const { watch, witness } = harness();
    // A monotonic clock well past zero, as a warm container's is.
    const T = 100_000;
    await watch.refresh(T, 500);
    expect([witness.reads, watch.witness]).toEqual([1, 'unreachable']);
    witness.answer = 'ok';
    await watch.refresh(T + 19_999, 500);
    expect([witness.reads, watch.witness]).toEqual([1, 'unreachable']);
    await watch.refresh(T + 20_000, 500);
    expect([witness.reads, watch.witness]).toEqual([2, 'ok']);
    witness.answer = new Error('throttled');
    await watch.refresh(T + 40_000, 500);
    expect([witness.reads, watch.witness]).toEqual([3, 'ok']);
    const twoRegion = harness({ consistency: 'eventual', isolationPolicy: 'self-fence' });
    await twoRegion.watch.refresh(0, 500);
    expect(twoRegion.witness.reads).toBe(0);
  });

  it('names the witness when AWS Health does', async () => {
    const { tick, watch } = harness();
    await tick(0, true);
    watch.witness = 'unreachable';
    const said = await tick(2_000, true);
    expect(said[0]?.detail).toMatchObject({
      witness: 'unreachable',
      why: 'an AWS Health event names DynamoDB in the witness region',
    });
  });
});
