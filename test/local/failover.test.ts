import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Report, SimulationResult } from '../../local/runtime';
import { simulateEvents } from '../local-sites';

/**
 * The failover workflow as synthesized, under aws-local-stepfunctions, its tasks bound to the
 * real step handlers and both heartbeat modules on DynamoDB Local (through the local runtime).
 */
const kinds = (r: Report, site?: string) =>
  r.notifications.filter((n) => site === undefined || n.site === site).map((n) => n.kind);
const texts = (r: SimulationResult, pattern: RegExp) =>
  r.timeline.filter((e) => pattern.test(e.text)).map((e) => `${e.site ?? 'both'}: ${e.text}`);
const outcomes = (r: SimulationResult) => r.executions.filter((e) => e.machine === 'failover').map((e) => e.outcome);
/** The epoch both replicas agree on at the end of the run. */
const epochOf = (r: SimulationResult) => {
  const epochs = new Set(r.status.sites.map((x) => x.cluster?.epoch));
  return epochs.size === 1 ? [...epochs][0] : [...epochs];
};
const APPROVAL = { failoverMode: 'approval', approvalTimeoutSeconds: 60 };

/** Two-region mode with automatic failover: where an eventually consistent replica can disagree with its peer's. */
const TWO_REGION = { consistency: 'eventual', isolationPolicy: 'self-fence' };

describe('the failover workflow', () => {
  it('under approval mode, waits for `approve` and then promotes', async () => {
    const result = await simulateEvents(
      [
        { atMs: 10_000, fault: 'crash', site: 'production' },
        { atMs: 45_000, command: 'approve' },
      ],
      { durationMs: 60_000, config: APPROVAL },
    );
    const { report } = result;
    expect(report.failovers).toEqual([
      expect.objectContaining({ to: 'standby', epoch: 2, reason: 'peer-lost', promotedAtMs: expect.any(Number) }),
    ]);
    // Nothing is promoted before the approval.
    expect(report.failovers[0]?.promotedAtMs).toBeGreaterThan(45_000);
    expect(kinds(report, 'standby')).toEqual(expect.arrayContaining(['peer-lost', 'failover-started', 'promoted']));
    expect(outcomes(result)).toEqual(['promoted']);
  });

  it('under approval mode, a rejection aborts the failover and changes nothing', async () => {
    const result = await simulateEvents(
      [
        { atMs: 10_000, fault: 'crash', site: 'production' },
        { atMs: 40_000, command: 'reject' },
      ],
      { durationMs: 55_000, config: APPROVAL },
    );
    expect(result.report.failovers[0]?.promotedAtMs).toBeNull();
    expect(kinds(result.report, 'standby')).toContain('failover-aborted');
    expect(epochOf(result)).toBe(1);
    expect(result.status.sites.map((x) => x.cluster?.primary)).toEqual(['production', 'production']);
  });

  it('under approval mode, no answer within approvalTimeoutSeconds aborts it', async () => {
    const result = await simulateEvents([{ atMs: 10_000, fault: 'crash', site: 'production' }], {
      durationMs: 110_000,
      config: APPROVAL,
    });
    expect(texts(result, /approval timed out after 60 s/)).toHaveLength(1);
    expect(kinds(result.report, 'standby')).toContain('failover-aborted');
    expect(epochOf(result)).toBe(1);
  });

  it('switches over to the standby and fails back, never with two primaries, and without waiting for a lease', async () => {
    const result = await simulateEvents(
      [
        { atMs: 15_000, command: 'switchover' },
        { atMs: 50_000, command: 'switchover' },
      ],
      { durationMs: 75_000 },
    );
    const { report } = result;
    expect(report.failovers.map((f) => [f.from, f.to, f.epoch, f.reason])).toEqual([
      ['production', 'standby', 2, 'scenario switchover'],
      ['standby', 'production', 3, 'scenario switchover'],
    ]);
    expect(report.maxSimultaneousPrimaries).toBe(1);
    expect(report.primaryTimeline.filter((p) => p.acting).map((p) => [p.site, p.epoch])).toEqual([
      ['production', 1],
      ['standby', 2],
      ['production', 3],
    ]);
    // Each switchover: the old primary stops and calls its fence hook, then the new one is promoted within seconds.
    expect(kinds(report)).toEqual(expect.arrayContaining(['demoted', 'switchover-completed']));
    expect(kinds(report).filter((k) => k === 'switchover-completed')).toHaveLength(2);
    expect(texts(result, /fence hook called: switchover/)).toHaveLength(2);
    // Asked for and done, it pages no one: its start, the old primary's demotion and its end are recorded as info.
    expect(report.notifications.filter((n) => n.severity !== 'info')).toEqual([]);
    expect(report.notifications.map((n) => `${n.site} ${n.kind}`)).toEqual(
      expect.arrayContaining([
        'standby switchover-started',
        'production demoted',
        'standby switchover-completed',
        'production switchover-started',
        'standby demoted',
        'production switchover-completed',
      ]),
    );
    for (const f of report.failovers) expect((f.promotedAtMs ?? Infinity) - f.startedAtMs).toBeLessThan(10_000);
    expect(report.detectionMs).toBeNull();
    expect(kinds(report)).not.toContain('peer-lost');
  });

  it('refuses a switchover to the site that is already primary, and says what to run', async () => {
    const result = await simulateEvents([{ atMs: 10_000, command: 'switchover', site: 'production' }], {
      durationMs: 20_000,
    });
    expect(result.report.failovers[0]?.promotedAtMs).toBeNull();
    expect(
      texts(result, /notice command-refused.*→ warning topic.*already primary at epoch 1.*switchover --to standby/),
    ).toHaveLength(1);
    // A refused command is no failover decision, and never started: refused at warning, nothing else.
    expect(result.report.notifications.map((n) => `${n.kind}:${n.severity}`)).toEqual(['command-refused:warning']);
    // The execution ends with the same words as its cause, as the console shows it.
    expect(texts(result, /stopped: SwitchoverRefused \(production is already primary/)).toHaveLength(1);
    expect(epochOf(result)).toBe(1);
  });

  it('checks the EBS snapshot copies before it promotes, and a stale one blocks the failover with the figures', async () => {
    const config = {
      readiness: { ebs: { volumes: [{ volumeId: 'vol-0123456789abcdef0' }], maxSnapshotAgeSeconds: 600 } },
    };
    const crash = [{ atMs: 30_000, fault: 'crash', site: 'production' }];
    const ready = await simulateEvents(crash, { config, ebs: { snapshotAgeSeconds: 120 } });
    expect(outcomes(ready)).toEqual(['promoted']);
    // The promoted notice carries the decision record, and the record the gate's figures.
    const promoted = ready.messages.find((m) => m.subject.includes('promoted'));
    expect(promoted?.body).toContain('ebs-readiness');
    expect(promoted?.body).toMatch(/checksum matches.*at risk/);

    const stale = await simulateEvents(crash, { config, ebs: { snapshotAgeSeconds: 3_600 } });
    expect(outcomes(stale)).toEqual(['stopped: GatesBlocked']);
    expect(texts(stale, /stopped: GatesBlocked/)[0]).toContain('older than maxSnapshotAgeSeconds 600');
    expect(kinds(stale.report, 'standby')).not.toContain('promoted');
    expect(epochOf(stale)).toBe(1);
  });

  it("moves the workload on a failover: the region's capacity, the Aurora writer (waited for across runs), then the record pair once INSYNC", async () => {
    const scenario = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'local', 'scenarios', 'workload-promotion.json'), 'utf8'),
    ) as { config: Record<string, unknown> };
    const result = await simulateEvents([{ atMs: 10_000, fault: 'crash', site: 'production' }], {
      durationMs: 160_000,
      config: scenario.config,
    });
    expect(outcomes(result)).toEqual(['promoted']);
    // Capacity before the database, the database before traffic; a production crash is a failover, with data loss
    // allowed.
    expect(texts(result, /Auto Scaling group|ECS service|Aurora|Route 53 change/)).toEqual([
      'standby: us-west-2 Auto Scaling group orders-workers-usw2: min 2, desired 4, max 4',
      'standby: us-west-2 ECS service orders-usw2/api: desired 6',
      'standby: Aurora orders-global: failing-over to orders-usw2',
      'standby: Aurora orders-global: orders-usw2 is the writer',
      'standby: Route 53 change C000000000001: orders-use1 SECONDARY, orders-usw2 PRIMARY',
    ]);
    expect(texts(result, /ResumePromotion: promoting at epoch 2/).length).toBeGreaterThanOrEqual(5);
    const promoted = result.messages.find((m) => m.subject.includes('promoted'));
    expect(promoted?.body).toContain('orders-usw2 is the writer (FailoverGlobalCluster), available');
    expect(promoted?.body).toContain('standby PRIMARY, the other SECONDARY, C000000000001 INSYNC');
    // The Aurora move takes a minute and INSYNC half of one: the promotion waited for both.
    const failover = result.report.failovers[0];
    expect((failover?.promotedAtMs ?? 0) - (failover?.startedAtMs ?? 0)).toBeGreaterThan(90_000);
    expect(epochOf(result)).toBe(2);
  });

  it("fences the old primary's workload on a switchover (capacity to zero once the record names the new primary), and a later promotion brings it back", async () => {
    const scenario = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'local', 'scenarios', 'workload-promotion.json'), 'utf8'),
    ) as { config: Record<string, unknown>; events: unknown[]; durationMs: number };
    const result = await simulateEvents(scenario.events, { durationMs: scenario.durationMs, config: scenario.config });
    expect(outcomes(result)).toEqual(['drill complete', 'switched over', 'promoted']);
    // The new primary's fence step and the old primary's heartbeat module both hand it the event: the first zeroes, a
    // repeat changes nothing.
    const fence = texts(result, /workload fence/);
    expect(fence[0]).toBe(
      'production: workload fence: standby is primary at epoch 2: orders-workers-use1 min 2→0, desired 4→0; orders-use1/api desired 6→0',
    );
    for (const repeat of fence.slice(1))
      expect(repeat).toMatch(/already min 0, desired 0; orders-use1\/api already desired 0$/);
    // Zeroed right after the fence (before the promotion finished), restored by production's own promotion later.
    const production = texts(result, /us-east-1 Auto Scaling group/);
    expect(production[0]).toBe('production: us-east-1 Auto Scaling group orders-workers-use1: min 0, desired 0, max 4');
    expect(production.at(-1)).toBe(
      'production: us-east-1 Auto Scaling group orders-workers-use1: min 2, desired 4, max 4',
    );
    expect(texts(result, /Aurora orders-global: (switching-over|failing-over)/)).toEqual([
      'standby: Aurora orders-global: switching-over to orders-usw2',
      'production: Aurora orders-global: failing-over to orders-use1',
    ]);
    expect(result.report.maxSimultaneousPrimaries).toBe(1);
  });

  it('runs a drill through every step without changing anything or paging anyone', async () => {
    const result = await simulateEvents([{ atMs: 10_000, command: 'failover', dryRun: true }], { durationMs: 20_000 });
    expect(outcomes(result)).toEqual(['drill complete']);
    expect(texts(result, /failover (Confirm|Gates|Fence|Promote|Verify):/)).toHaveLength(5);
    expect(texts(result, /Fence: would write epoch 2 naming standby/)).toHaveLength(1);
    expect(result.report.notifications).toEqual([]);
    expect(result.report.failovers).toEqual([]);
    expect(epochOf(result)).toBe(1);
  });

  it('demotes a paused primary on the fence: one demoted notice, the fence hook called once, never two primaries', async () => {
    const result = await simulateEvents([{ atMs: 10_000, fault: 'pause', site: 'production', ms: 30_000 }], {
      durationMs: 60_000,
    });
    const { report } = result;
    expect(report.failovers).toEqual([
      expect.objectContaining({ to: 'standby', epoch: 2, promotedAtMs: expect.any(Number) }),
    ]);
    expect(report.maxSimultaneousPrimaries).toBe(1);
    expect(kinds(report, 'production').filter((k) => k === 'demoted')).toHaveLength(1);
    expect(report.primaryTimeline.filter((p) => p.acting).map((p) => [p.site, p.epoch])).toEqual([
      ['production', 1],
      ['standby', 2],
    ]);
    expect(texts(result, /^fence hook called/).filter((t) => t.startsWith('production'))).toHaveLength(1);
  });

  it('refuses to promote a site its own replica still names primary, so a partition never makes two primaries at one epoch', async () => {
    // Found by the chaos run (seed 20261125): production isolated, the standby took over, then an
    // operator failed over "to production", whose replica still said epoch 1 production.
    const result = await simulateEvents(
      [
        { atMs: 5_000, fault: 'isolate', site: 'production' },
        { atMs: 26_641, command: 'failover', site: 'production' },
        { atMs: 28_462, fault: 'crash', site: 'production' },
      ],
      // A two-region phenomenon: in quorum mode the isolated site cannot write at all.
      { durationMs: 40_000, seed: 0, config: TWO_REGION },
    );
    expect(result.report.maxSimultaneousPrimaries).toBe(1);
    expect(result.report.failovers.map((f) => [f.to, f.promotedAtMs === null])).toEqual([
      ['standby', false],
      ['production', true],
    ]);
    expect(
      texts(result, /failover-aborted .*production is already primary at epoch 1 in this region's replica/),
    ).toHaveLength(1);
  });

  it("sends no fence on a disabled path, and a site fenced only by its peer's beat never fails back over it", async () => {
    // Found by the chaos run (seed 7): with the network path off and the storage path cut, the
    // standby rightly took over; its fence beat went out on the disabled network path, counted as a
    // valid beat at production, which then started a failover back to epoch 3.
    const result = await simulateEvents(
      [
        { atMs: 5_000, command: 'deactivate', path: 'network' },
        { atMs: 5_000, fault: 'partition', path: 'storage' },
      ],
      { durationMs: 45_000, seed: 0, config: TWO_REGION },
    );
    expect(result.report.failovers.map((f) => [f.to, f.epoch])).toEqual([['standby', 2]]);
    expect(texts(result, /network fence not sent: the network path is disabled at standby/)).toHaveLength(1);
    expect(result.log.accepted.filter((a) => a.path === 'network' && a.atMs > 10_000)).toEqual([]);
  });

  it('holds a second automatic failover on a reported workload failure within cooldownSeconds, and says how to override it', async () => {
    // Production reports its workload failed (the standby takes over), recovers, then the new primary's workload fails
    // too.
    const result = await simulateEvents(
      [
        { atMs: 10_000, fault: 'health', site: 'production', status: 'failed' },
        { atMs: 40_000, fault: 'health', site: 'production', status: 'ok' },
        { atMs: 60_000, fault: 'health', site: 'standby', status: 'failed' },
      ],
      { durationMs: 100_000, config: { health: { onPeerFailure: 'failover' } } },
    );
    expect(result.report.failovers.filter((f) => f.promotedAtMs !== null)).toHaveLength(1);
    expect(
      texts(result, /Gates: blocked: .*automatic failover is held until .*mirrorbeat failover --site production/),
    ).toHaveLength(1);
    expect(kinds(result.report, 'production')).toContain('failover-aborted');
    // The blocked workflow reads as a decision with its reason, not as a crash.
    expect(outcomes(result)).toEqual(['promoted', 'stopped: GatesBlocked']);
    expect(
      texts(result, /failover workflow .* stopped: GatesBlocked \(cooldown: the last promotion was at .*held until/),
    ).toHaveLength(1);
    expect(texts(result, /ExecutionError/)).toEqual([]);
  });
});
