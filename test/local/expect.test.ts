import { actingAtEnd, judge } from '../../local/expect';
import type { Report } from '../../local/report';
import { parseScenario } from '../../local/scenario';

/** A run: production crashed at 30 s, the standby decided at 39 s and was promoted at 41 s. */
const report: Report = {
  scenario: 'x',
  seed: 1,
  durationMs: 120_000,
  failovers: [
    { startedAtMs: 39_000, promotedAtMs: 41_000, from: 'production', to: 'standby', epoch: 2, reason: 'peer-lost' },
  ],
  detectionMs: 9_000,
  maxSimultaneousPrimaries: 1,
  noPrimaryMs: 11_000,
  noPrimaryGaps: [{ fromMs: 30_000, toMs: 41_000 }],
  primaryTimeline: [
    { atMs: 2_000, site: 'production', epoch: 1, acting: true },
    { atMs: 30_000, site: 'production', epoch: 1, acting: false },
    { atMs: 41_000, site: 'standby', epoch: 2, acting: true },
  ],
  notifications: [
    { atMs: 34_000, site: 'standby', kind: 'path-failed', severity: 'warning', path: 'network' },
    { atMs: 39_000, site: 'standby', kind: 'failover-started', severity: 'critical' },
    { atMs: 41_000, site: 'standby', kind: 'promoted', severity: 'critical' },
  ],
  invalidBeats: { network: {}, storage: {} },
  pathStates: [],
};

describe('the verdict on a run', () => {
  it('passes a run that shows every expectation', () => {
    expect(
      judge(report, [
        { failovers: 1 },
        { promotions: 1 },
        { maxSimultaneousPrimaries: 1 },
        { finalPrimary: 'standby' },
        { noPrimaryMsMax: 11_000 },
        { detectionMsMax: 9_000 },
        { notification: { kind: 'path-failed', site: 'standby', path: 'network', severity: 'warning' } },
        { noNotification: { kind: 'two-primaries' } },
        { noNotification: { kind: 'path-failed', path: 'storage' } },
      ]),
    ).toEqual({ passed: true, failed: [] });
  });

  it('names each expectation the run did not meet, in the order written, with what the run showed', () => {
    expect(
      judge(report, [
        { failovers: 0 },
        { promotions: 2 },
        { maxSimultaneousPrimaries: 0 },
        { finalPrimary: 'production' },
        { noPrimaryMsMax: 10_999 },
        { detectionMsMax: 8_999 },
        { notification: { kind: 'path-failed', path: 'storage' } },
        { notification: { kind: 'promoted', severity: 'info' } },
        { noNotification: { kind: 'promoted', site: 'standby' } },
      ]),
    ).toEqual({
      passed: false,
      failed: [
        'failovers: expected 0, the run started 1',
        'promotions: expected 2, the run promoted 1',
        'maxSimultaneousPrimaries: expected at most 0, the run had 1',
        'finalPrimary: expected production, at the end acting: standby',
        'noPrimaryMsMax: expected at most 10999 ms without a primary, the run had 11000 ms',
        'detectionMsMax: expected a failover decision within 8999 ms of the first fatal fault, the run took 9000 ms',
        'notification: expected path-failed on storage, none was sent',
        'notification: expected promoted info, none was sent',
        'noNotification: expected no promoted at standby, 1 sent (the first at 41000 ms)',
      ],
    });
  });

  it('counts a failover that never promoted as a failover, not a promotion; no decision fails a detection bound', () => {
    const aborted: Report = {
      ...report,
      failovers: [{ ...report.failovers[0]!, promotedAtMs: null }],
      detectionMs: null,
      primaryTimeline: report.primaryTimeline.slice(0, 2),
    };
    expect(judge(aborted, [{ failovers: 1 }, { promotions: 0 }, { finalPrimary: 'none' }])).toEqual({
      passed: true,
      failed: [],
    });
    expect(judge(aborted, [{ detectionMsMax: 60_000 }]).failed).toEqual([
      'detectionMsMax: expected a failover decision within 60000 ms of the first fatal fault, the run made none',
    ]);
  });

  it('says both sites when both act at the end', () => {
    const two: Report = {
      ...report,
      primaryTimeline: [...report.primaryTimeline, { atMs: 50_000, site: 'production', epoch: 1, acting: true }],
    };
    expect(actingAtEnd(two)).toEqual(['production', 'standby']);
    expect(judge(two, [{ finalPrimary: 'standby' }]).failed).toEqual([
      'finalPrimary: expected standby, at the end acting: production and standby',
    ]);
  });

  it('is read from the scenario file, which keeps its order', () => {
    const s = parseScenario({
      name: 'x',
      durationMs: 60_000,
      expect: [{ noNotification: { kind: 'promoted' } }, { failovers: 0 }, { finalPrimary: 'none' }],
    });
    expect(s.expect).toEqual([{ noNotification: { kind: 'promoted' } }, { failovers: 0 }, { finalPrimary: 'none' }]);
    expect(parseScenario({ name: 'x', durationMs: 60_000 }).expect).toBeUndefined();
  });
});
