// A primary that stops acting as one (RoleChange): what the demoted and no-primary notices say, when they are raised
// once and only once, what the fence hook is given, and when the handover is confirmed.
import { SiteCore } from '../../../lambdas/core/site';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import type { Notice } from '../../../lambdas/core/notices';
import { noticeId, severityOf } from '../../../lambdas/core/notices';
import { Announcer } from '../../../lambdas/heartbeat-module/announcer';
import type { ModuleDeps } from '../../../lambdas/heartbeat-module/deps';
import { RoleChange } from '../../../lambdas/heartbeat-module/role-change';
import type { Outcome } from '../../../lambdas/shared/notifier';
import { standbySettings } from '../../helpers';

const NOW = Date.parse('2026-12-06T12:00:00.000Z');

/** The view records RoleChange writes, as the conditional write answers them, with switches to make them fail. */
class Views {
  readonly values = new Map<string, string>();
  readonly calls: string[] = [];
  failing = false;
  /** Someone else (an overlapping invocation) already recorded the next value. */
  recordedElsewhere = false;
  async recordRole(_site: string, role: string) {
    return this.change('role', role);
  }
  async recordView(_site: string, attribute: string, value: string) {
    return this.change(attribute, value);
  }
  private async change(what: string, value: string) {
    this.calls.push(`${what}=${value}`);
    if (this.failing) throw Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
    const previous = this.values.get(what);
    this.values.set(what, value);
    if (this.recordedElsewhere || previous === value) return null;
    return previous;
  }
}

function harness(
  overrides: Record<string, unknown> = {},
  { fenceHookFails = false, drained = true }: { fenceHookFails?: boolean; drained?: boolean | Error } = {},
) {
  const settings = standbySettings({ leaseSeconds: 12, ...overrides });
  const views = new Views();
  const drains: { execution: string; nowMs: number }[] = [];
  const announced: Notice[] = [];
  const fenced: Readonly<Record<string, unknown>>[] = [];
  const logs: [string, string, Record<string, unknown> | undefined][] = [];
  const deps = {
    settings,
    store: {
      views,
      markDrained: async (execution: string, nowMs: number) => {
        drains.push({ execution, nowMs });
        if (drained instanceof Error) throw drained;
        return drained;
      },
    },
    notices: {
      announce: async (n: Notice) => {
        announced.push(n);
        return { id: noticeId(n), outcome: 'published' as const };
      },
      flush: async () => ({ summaries: 0, retried: 0, failed: 0 }),
    },
    fenceHook: async (event: Readonly<Record<string, unknown>>) => {
      fenced.push(event);
      if (fenceHookFails) throw new Error('hook endpoint refused');
    },
    log: (level: 'info' | 'warn', message: string, detail?: Record<string, unknown>) =>
      logs.push([level, message, detail]),
  } as unknown as ModuleDeps;
  const core = new SiteCore(settings.tuning, settings.site, settings.peer);
  const roles = new RoleChange(deps, core, new Announcer(deps, core));
  const outcomes: Outcome[] = [];
  return {
    settings,
    core,
    roles,
    views,
    drains,
    announced,
    fenced,
    logs,
    outcomes,
    announce: (role: 'primary' | 'secondary', cluster: ClusterRecord, nowMs = NOW) =>
      roles.announce(role, cluster, nowMs, 500, outcomes),
    watch: (why: string | undefined, cluster: ClusterRecord, nowMs: number) =>
      roles.watchPrimary(why, cluster, nowMs, 500, outcomes),
  };
}

/** The one notice a call raised (fails the test when there is not exactly one). */
function only(notices: Notice[]): Notice {
  expect(notices).toHaveLength(1);
  return notices[0] as Notice;
}

const SELF: ClusterRecord = { epoch: 3, primary: 'standby' };
const PEER: ClusterRecord = { epoch: 4, primary: 'production' };

describe('RoleChange.announce: a primary that stops acting as one says so once', () => {
  it('raises nothing when a site starts, in either role, or keeps its role', async () => {
    const h = harness();
    expect(await h.announce('secondary', PEER)).toEqual([]);
    expect(await h.announce('secondary', PEER)).toEqual([]);
    // Only a change is written: the second call finds the role it acts in already recorded by this container.
    expect(h.views.calls).toEqual(['role=secondary']);
    expect(await h.announce('primary', SELF)).toEqual([]);
    expect(h.announced).toEqual([]);
    expect(h.fenced).toEqual([]);
  });

  it('a lapsed lease: demoted with the core’s reason, the fence hook called once, and it resumes by itself', async () => {
    const h = harness();
    await h.announce('primary', SELF);
    h.core.roleWhy = 'the lease ran out 2 s ago: no majority';
    const notices = await h.announce('secondary', SELF, NOW + 2_000);
    expect(notices).toEqual([
      {
        kind: 'demoted',
        site: 'standby',
        region: h.settings.region,
        cluster: h.settings.cluster,
        atMs: NOW + 2_000,
        detail: {
          epoch: 3,
          primary: 'standby',
          why: 'the lease ran out 2 s ago: no majority',
          lastValidBeatAgeMs: { network: null, storage: null },
          next: 'this site stops acting as primary; it resumes by itself once it renews its lease again',
        },
      },
    ]);
    expect(h.announced).toEqual(notices);
    expect(h.outcomes).toEqual(['published']);
    expect(h.fenced).toEqual([
      {
        fenced: 'standby',
        cluster: h.settings.cluster,
        epoch: 3,
        primary: 'standby',
        why: 'the lease ran out 2 s ago: no majority',
        by: 'heartbeat-module',
      },
    ]);
    expect(h.logs).toContainEqual(['warn', 'notice: demoted', { why: 'the lease ran out 2 s ago: no majority' }]);
    // Staying secondary raises nothing more.
    expect(await h.announce('secondary', SELF, NOW + 4_000)).toEqual([]);
    expect(h.fenced).toHaveLength(1);
  });

  it('a record naming the peer: demoted until the record names this site again', async () => {
    const h = harness();
    await h.announce('primary', SELF);
    h.core.roleWhy = 'not the reason';
    const notice = only(await h.announce('secondary', PEER));
    expect(notice.detail).toMatchObject({
      epoch: 4,
      primary: 'production',
      why: 'the cluster record names production primary at epoch 4',
      next: 'this site stops acting as primary; it resumes only when the cluster record names it again',
    });
    expect(h.fenced[0]).toMatchObject({ epoch: 4, primary: 'production' });
    // A record that names the peer while a handover to it is still on it: the record decides, not the request.
    const g = harness();
    await g.announce('primary', SELF);
    const handover = { to: 'production' as const, execution: 'run-8', requestedAtMs: NOW };
    const after = only(await g.announce('secondary', { ...PEER, handover }));
    expect(after.detail.why).toBe('the cluster record names production primary at epoch 4');
  });

  it('a fence beat ahead of this site’s replica is named as such', async () => {
    const h = harness();
    await h.announce('primary', SELF);
    jest.spyOn(h.core, 'fencedByBeat').mockImplementation((cluster) => cluster === PEER);
    const notice = only(await h.announce('secondary', PEER));
    expect(notice.detail.why).toBe(
      "production beats as primary at epoch 4: fenced (the network path carried it before this site's replica did)",
    );
  });

  it('a switchover names the site it hands over to and the execution, not a failure', async () => {
    const h = harness();
    await h.announce('primary', SELF);
    h.core.roleWhy = 'not the reason';
    const handover = {
      to: 'production' as const,
      execution: 'arn:aws:states:eu-west-1:123456789012:execution:switchover:run-7',
      requestedAtMs: NOW,
    };
    const notice = only(await h.announce('secondary', { ...SELF, handover }));
    expect(notice.detail.why).toBe('switchover: handing over to production (run-7)');
    // The plan, not a failure: severity info, and a Next that says what follows.
    expect(notice.detail.planned).toBe(true);
    expect(severityOf(notice)).toBe('info');
    expect(notice.detail.next).toBe(
      'this site stopped acting as primary, as the switchover asked; production acts once it is promoted (switchover-completed says so)',
    );
    // A handover to this site itself is no reason to stop: the core's reason stands.
    const other = harness();
    await other.announce('primary', SELF);
    other.core.roleWhy = 'the lease ran out';
    const own = only(await other.announce('secondary', { ...SELF, handover: { ...handover, to: 'standby' } }));
    expect(own.detail.why).toBe('the lease ran out');
  });

  it('an overlapping invocation that recorded the change first announces it; this one stays silent', async () => {
    const h = harness();
    await h.announce('primary', SELF);
    h.views.recordedElsewhere = true;
    expect(await h.announce('secondary', SELF)).toEqual([]);
    expect(h.fenced).toEqual([]);
    // A record that names another previous role than primary (this site was already secondary) announces nothing.
    const g = harness();
    await g.announce('primary', SELF);
    g.views.values.set('role', 'secondary');
    expect(await g.announce('secondary', SELF)).toEqual([]);
  });

  it('a record that cannot be written (no majority): demoted once from memory, not again when the record lands', async () => {
    const h = harness();
    await h.announce('primary', SELF);
    h.views.failing = true;
    h.core.roleWhy = 'no majority';
    expect((await h.announce('secondary', SELF)).map((n) => n.kind)).toEqual(['demoted']);
    expect(await h.announce('secondary', SELF, NOW + 2_000)).toEqual([]);
    expect(h.fenced).toHaveLength(1);
    // The record is tried every tick, and once written it raises nothing more.
    h.views.failing = false;
    expect(await h.announce('secondary', SELF, NOW + 4_000)).toEqual([]);
    expect(h.views.calls.filter((c) => c.startsWith('role='))).toHaveLength(4);
    expect(h.announced).toHaveLength(1);
    // The memory is cleared with the record: the next demotion is announced again.
    await h.announce('primary', SELF, NOW + 6_000);
    expect((await h.announce('secondary', SELF, NOW + 8_000)).map((n) => n.kind)).toEqual(['demoted']);
    expect(h.fenced).toHaveLength(2);
  });

  it('a site that never acted as primary raises nothing when its record cannot be written', async () => {
    const h = harness();
    h.views.failing = true;
    expect(await h.announce('secondary', SELF)).toEqual([]);
    await h.announce('primary', SELF);
    expect(await h.announce('secondary', SELF)).toEqual([]);
    expect(h.announced).toEqual([]);
  });

  it('a fence hook that fails is logged; the notice still goes out', async () => {
    const h = harness({}, { fenceHookFails: true });
    await h.announce('primary', SELF);
    expect((await h.announce('secondary', PEER)).map((n) => n.kind)).toEqual(['demoted']);
    expect(h.announced).toHaveLength(1);
    expect(h.logs).toContainEqual(['warn', 'fence hook not called', { error: 'Error: hook endpoint refused' }]);
  });
});

describe('RoleChange.watchPrimary: no-primary once it lasted the grace, recorded once', () => {
  it('records seeing a primary once, announces none only after the grace, and only the first time', async () => {
    const h = harness();
    const grace = h.core.noPrimaryGraceMs;
    expect(await h.watch(undefined, PEER, NOW)).toEqual([]);
    expect(await h.watch(undefined, PEER, NOW + 1_000)).toEqual([]);
    expect(h.views.calls).toEqual(['primarySeen=seen']);
    // No primary from NOW + 2 s: nothing is written or said before the grace has passed.
    expect(await h.watch('production stepped down', PEER, NOW + 2_000)).toEqual([]);
    expect(await h.watch('production stepped down', PEER, NOW + 2_000 + grace - 1)).toEqual([]);
    expect(h.views.calls).toEqual(['primarySeen=seen']);
    const notices = await h.watch('production stepped down', PEER, NOW + 2_000 + grace);
    expect(notices).toEqual([
      {
        kind: 'no-primary',
        site: 'standby',
        region: h.settings.region,
        cluster: h.settings.cluster,
        atMs: NOW + 2_000 + grace,
        detail: {
          epoch: 4,
          primary: 'production',
          why: 'production stepped down',
          sinceMs: NOW + 2_000,
          lastValidBeatAgeMs: { network: null, storage: null },
          next: `nothing serves as primary and no automatic failover has taken over: read npx mirrorbeat status --region ${h.settings.region}; to promote this site: npx mirrorbeat failover --site standby --region ${h.settings.region}`,
        },
      },
    ]);
    expect(h.announced).toEqual(notices);
    expect(h.logs).toContainEqual(['warn', 'notice: no-primary', { why: 'production stepped down' }]);
    // Still none: neither written nor said again.
    expect(await h.watch('production stepped down', PEER, NOW + 4_000 + grace)).toEqual([]);
    expect(h.views.calls).toEqual(['primarySeen=seen', 'primarySeen=none']);
    // A primary again: recorded, quietly; and the next outage counts its grace afresh.
    expect(await h.watch(undefined, PEER, NOW + 5_000 + grace)).toEqual([]);
    expect(h.views.calls).toHaveLength(3);
    expect(await h.watch('again', PEER, NOW + 6_000 + grace)).toEqual([]);
    expect(await h.watch('again', PEER, NOW + 6_000 + 2 * grace - 1)).toEqual([]);
    expect((await h.watch('again', PEER, NOW + 6_000 + 2 * grace)).map((n) => n.detail.sinceMs)).toEqual([
      NOW + 6_000 + grace,
    ]);
  });

  it('a new epoch starts the grace afresh (a promotion while this site was frozen)', async () => {
    const h = harness();
    const grace = h.core.noPrimaryGraceMs;
    await h.watch('none', PEER, NOW);
    expect(await h.watch('none', { ...PEER, epoch: 5 }, NOW + grace)).toEqual([]);
    expect(await h.watch('none', { ...PEER, epoch: 5 }, NOW + 2 * grace - 1)).toEqual([]);
    expect(await h.watch('none', { ...PEER, epoch: 5 }, NOW + 2 * grace)).toHaveLength(1);
  });

  it('one announcement across overlapping invocations: whoever did not change the record stays silent', async () => {
    const h = harness();
    const grace = h.core.noPrimaryGraceMs;
    await h.watch('none', PEER, NOW);
    h.views.recordedElsewhere = true;
    expect(await h.watch('none', PEER, NOW + grace)).toEqual([]);
    expect(h.announced).toEqual([]);
  });

  it('the first record of a site’s view (no previous value) announces', async () => {
    const h = harness();
    const grace = h.core.noPrimaryGraceMs;
    await h.watch('none', PEER, NOW);
    h.views.values.delete('primarySeen');
    expect(await h.watch('none', PEER, NOW + grace)).toHaveLength(1);
  });

  it('a record that cannot be written announces nothing and is tried again', async () => {
    const h = harness();
    const grace = h.core.noPrimaryGraceMs;
    await h.watch('none', PEER, NOW);
    h.views.failing = true;
    expect(await h.watch('none', PEER, NOW + grace)).toEqual([]);
    h.views.failing = false;
    expect(await h.watch('none', PEER, NOW + grace + 2_000)).toHaveLength(1);
    expect(h.views.calls).toEqual(['primarySeen=seen', 'primarySeen=none', 'primarySeen=none']);
  });

  it('says to promote by hand where automatic failover will not, or this site is the one named primary', async () => {
    const manual = harness({ failoverMode: 'manual' });
    const grace = manual.core.noPrimaryGraceMs;
    await manual.watch('none', PEER, NOW);
    const m = only(await manual.watch('none', PEER, NOW + grace));
    expect(m.detail.next).toMatch(/^nothing serves as primary: read .*then promote a site by hand: /);
    const named = harness();
    await named.watch('none', SELF, NOW);
    const n = only(await named.watch('none', SELF, NOW + grace));
    expect(n.detail.next).toMatch(/^nothing serves as primary: read .*then promote a site by hand: /);
  });
});

describe('RoleChange.watchTwoPrimaries: a second primary said once per stretch, its end recorded quietly', () => {
  const seen = { path: 'storage' as const, serial: 77, epoch: 3, sentAt: '2026-12-06T12:00:01.000Z' };
  const two = (h: ReturnType<typeof harness>, evidence: typeof seen | undefined, nowMs = NOW) =>
    h.roles.watchTwoPrimaries(evidence, SELF, nowMs, 500, h.outcomes);

  it('writes nothing while there is none, and says the first sighting once, critical, with the evidence', async () => {
    const h = harness();
    expect(await two(h, undefined)).toEqual([]);
    expect(h.views.calls).toEqual([]);
    const notice = only(await two(h, seen, NOW + 2_000));
    expect(notice).toMatchObject({ kind: 'two-primaries', site: 'standby', atMs: NOW + 2_000 });
    expect(notice.detail).toEqual({
      epoch: 3,
      primary: 'standby',
      why: 'production beats as primary at epoch 3 (storage beat 77, sent 2026-12-06T12:00:01.000Z) while this site acts as primary at that epoch',
      peerBeat: seen,
      next: `two sites serve: choose the one to keep and promote it to a new epoch (npx mirrorbeat failover --site <site>), which fences the other; read npx mirrorbeat status --region ${h.settings.region} first`,
    });
    expect(h.logs).toContainEqual(['warn', 'notice: two-primaries', { why: notice.detail.why }]);
    expect(await two(h, seen, NOW + 4_000)).toEqual([]);
    expect(await two(h, undefined, NOW + 6_000)).toEqual([]);
    expect(h.views.calls).toEqual(['twoPrimaries=seen', 'twoPrimaries=none']);
    expect(h.announced).toHaveLength(1);
  });

  it('stays silent where an overlapping invocation recorded it first, and tries a record it could not write again', async () => {
    const h = harness();
    h.views.recordedElsewhere = true;
    expect(await two(h, seen)).toEqual([]);
    const g = harness();
    g.views.failing = true;
    expect(await two(g, seen)).toEqual([]);
    g.views.failing = false;
    expect(await two(g, seen, NOW + 2_000)).toHaveLength(1);
    expect(g.views.calls).toEqual(['twoPrimaries=seen', 'twoPrimaries=seen']);
  });
});

describe('RoleChange.confirmHandover: the old primary says it stopped, once it has', () => {
  const handover = { to: 'production' as const, execution: 'exec-1', requestedAtMs: NOW };

  async function stopped(h: ReturnType<typeof harness>) {
    await h.announce('primary', SELF);
    await h.announce('secondary', { ...SELF, handover });
  }

  it('writes drainedAtMs for the handover it was asked, only once it acts as secondary', async () => {
    const h = harness();
    await h.announce('primary', SELF);
    await h.roles.confirmHandover('secondary', { ...SELF, handover }, NOW, 500);
    expect(h.drains).toEqual([]);
    await h.announce('secondary', { ...SELF, handover });
    await h.roles.confirmHandover('primary', { ...SELF, handover }, NOW, 500);
    expect(h.drains).toEqual([]);
    await h.roles.confirmHandover('secondary', { ...SELF, handover }, NOW + 1_000, 500);
    expect(h.drains).toEqual([{ execution: 'exec-1', nowMs: NOW + 1_000 }]);
    expect(h.logs).toContainEqual([
      'info',
      'handover confirmed: this site no longer acts as primary',
      { execution: 'exec-1' },
    ]);
  });

  it('does nothing without a handover, for one to this site, or once drained', async () => {
    const h = harness();
    await stopped(h);
    await h.roles.confirmHandover('secondary', SELF, NOW, 500);
    await h.roles.confirmHandover('secondary', { ...SELF, handover: { ...handover, to: 'standby' } }, NOW, 500);
    await h.roles.confirmHandover('secondary', { ...SELF, handover: { ...handover, drainedAtMs: NOW } }, NOW, 500);
    expect(h.drains).toEqual([]);
  });

  it('a write that changed nothing logs nothing; one that failed is logged and tried next tick', async () => {
    const quiet = harness({}, { drained: false });
    await stopped(quiet);
    await quiet.roles.confirmHandover('secondary', { ...SELF, handover }, NOW, 500);
    expect(quiet.drains).toHaveLength(1);
    expect(quiet.logs.filter(([, message]) => message.startsWith('handover'))).toEqual([]);
    const failing = harness({}, { drained: new Error('ConditionalCheckFailed? no: throttled') });
    await stopped(failing);
    await expect(failing.roles.confirmHandover('secondary', { ...SELF, handover }, NOW, 500)).resolves.toBeUndefined();
    expect(failing.logs).toContainEqual([
      'warn',
      'handover not confirmed; the next tick tries again',
      { error: 'Error: ConditionalCheckFailed? no: throttled' },
    ]);
  });
});
