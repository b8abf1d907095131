import { formatSummary } from '../../local/text';
import { runScenario as run } from '../local-sites';

const DETECTION_BOUND_MS = 6_000 + 10_000 + 2 * 2_000 + 4_000; // floor + confirmation + two ticks + the per-minute handoff

describe('the local two-site runtime', () => {
  it('fails production over to the standby once when production crashes, within the detection bound', async () => {
    const report = await run([{ atMs: 30_000, fault: 'crash', site: 'production' }]);
    expect(report.failovers).toHaveLength(1);
    expect(report.failovers[0]).toMatchObject({ from: 'production', to: 'standby', epoch: 2, reason: 'peer-lost' });
    expect(report.failovers[0]?.promotedAtMs).toEqual(expect.any(Number));
    expect(report.detectionMs).toBeLessThanOrEqual(DETECTION_BOUND_MS);
    expect(report.maxSimultaneousPrimaries).toBe(1);
    expect(report.primaryTimeline.filter((p) => p.acting).map((p) => [p.site, p.epoch])).toEqual([
      ['production', 1],
      ['standby', 2],
    ]);
    expect(report.notifications.map((n) => n.kind)).toEqual(
      expect.arrayContaining(['path-failed', 'peer-lost', 'failover-started', 'promoted']),
    );
  });

  it.each(['network', 'storage'])(
    'never fails over when only the %s path is partitioned, and says so',
    async (path) => {
      const report = await run([{ atMs: 20_000, fault: 'partition', path }], { durationMs: 75_000 });
      expect(report.failovers).toEqual([]);
      expect(report.maxSimultaneousPrimaries).toBe(1);
      expect(report.notifications).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ site: 'standby', kind: 'path-failed', path }),
          expect.objectContaining({ site: 'production', kind: 'path-failed', path }),
        ]),
      );
      expect(report.notifications.map((n) => n.kind)).not.toContain('peer-lost');
    },
  );

  it('counts forged and replayed beats by reason, and they change nothing', async () => {
    const report = await run(
      [
        { atMs: 20_000, fault: 'forge', path: 'network', count: 15 },
        { atMs: 30_000, fault: 'replay', path: 'network', count: 5 },
      ],
      { durationMs: 50_000 },
    );
    expect(report.invalidBeats.network).toEqual({ signature: 15, replay: 5 });
    expect(report.failovers).toEqual([]);
    expect(report.notifications).toEqual([]);
    expect(report.pathStates.filter((p) => p.state === 'failed')).toEqual([]);
  });

  it('never lets an isolated production overlap with the promoted standby under the default policy', async () => {
    const report = await run([{ atMs: 30_000, fault: 'isolate', site: 'production' }]);
    expect(report.failovers).toHaveLength(1);
    expect(report.maxSimultaneousPrimaries).toBe(1);
    expect(report.notifications).toEqual(
      expect.arrayContaining([expect.objectContaining({ site: 'production', kind: 'demoted' })]),
    );
    const demotedAt = report.notifications.find((n) => n.kind === 'demoted')?.atMs ?? Infinity;
    expect(demotedAt).toBeLessThan(report.failovers[0]?.promotedAtMs ?? 0);
  });

  it('fails over a live primary whose workload failed without ever having two primaries, when the policy says so', async () => {
    const report = await run([{ atMs: 20_000, fault: 'health', site: 'production', status: 'failed' }], {
      durationMs: 50_000,
      config: { health: { onPeerFailure: 'failover' } },
    });
    expect(report.failovers).toEqual([
      expect.objectContaining({ reason: 'peer-failure-reported', to: 'standby', promotedAtMs: expect.any(Number) }),
    ]);
    expect(report.maxSimultaneousPrimaries).toBe(1);
    expect(report.notifications).toEqual(
      expect.arrayContaining([expect.objectContaining({ site: 'production', kind: 'demoted' })]),
    );
    expect(report.primaryTimeline.filter((p) => p.acting).map((p) => p.site)).toEqual(['production', 'standby']);
  });

  it('records a primary stepping down and the stretch without one, in the report and the summary', async () => {
    // Two-region self-fence: the price of never making two primaries is that a lost standby takes production down too.
    const report = await run([{ atMs: 10_000, fault: 'crash', site: 'standby' }], {
      durationMs: 60_000,
      config: { consistency: 'eventual', isolationPolicy: 'self-fence', failoverMode: 'automatic' },
    });
    const [started, stopped, ...rest] = report.primaryTimeline;
    expect(rest).toEqual([]);
    expect(started).toMatchObject({ site: 'production', epoch: 1, acting: true });
    expect(stopped).toMatchObject({ site: 'production', epoch: 1, acting: false });
    const stoppedAt = stopped?.atMs ?? 0;
    expect(stoppedAt).toBeGreaterThan(10_000);
    expect(report.failovers).toEqual([]);
    expect(report.noPrimaryGaps).toEqual([{ fromMs: stoppedAt, toMs: null }]);
    expect(report.noPrimaryMs).toBe(60_000 - stoppedAt);
    const summary = formatSummary(report, 0).split('\n');
    expect(summary).toContain(
      `  time without a primary (after the first): ${(report.noPrimaryMs / 1000).toFixed(1)} s (${(stoppedAt / 1000).toFixed(1)} s–the end, still none)`,
    );
    expect(summary).toContain(
      `  NO PRIMARY at the end: production stopped acting as primary (epoch 1) at ${(stoppedAt / 1000).toFixed(1)} s and no site took over`,
    );
  });

  it('gives the same report for the same seed', async () => {
    const events = [
      { atMs: 15_000, fault: 'loss', path: 'network', rate: 0.3 },
      { atMs: 25_000, fault: 'lag', path: 'storage', ms: 4_000 },
      { atMs: 40_000, fault: 'crash', site: 'production' },
    ];
    const first = await run(events, { seed: 11, durationMs: 70_000 });
    const second = await run(events, { seed: 11, durationMs: 70_000 });
    expect(second).toEqual(first);
  });
});
