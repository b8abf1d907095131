import { quorumMarks, witnessRows } from '../../local/page-witness';
import { parseScenario } from '../../local/scenario';

const rowsOf = (events: unknown[]) =>
  witnessRows(parseScenario({ name: 'w', durationMs: 100_000, events }), 100_000).map((row) => [
    row.title,
    row.spans.map((s) => `${s.label} ${s.fromMs}-${s.toMs}`),
  ]);

describe("the page's witness lane", () => {
  it('draws the region down, frozen and cut off as the faults made it', () => {
    expect(
      rowsOf([
        { atMs: 10_000, fault: 'crash', site: 'witness' },
        { atMs: 20_000, fault: 'restart', site: 'witness' },
        { atMs: 30_000, fault: 'pause', site: 'witness', ms: 5_000 },
        { atMs: 60_000, fault: 'isolate', site: 'witness' },
        { atMs: 70_000, fault: 'restart', site: 'witness' },
      ])[0],
    ).toEqual([
      'region (the run)',
      [
        'up 0-10000',
        'down 10000-20000',
        'up 20000-30000',
        'frozen 30000-35000',
        'up 35000-60000',
        'cut off 60000-100000',
      ],
    ]);
  });

  it("draws each site's leg cut by a partition until its heal, and for good by the site's isolation", () => {
    const rows = rowsOf([
      { atMs: 10_000, fault: 'partition', between: ['witness', 'standby'] },
      { atMs: 30_000, fault: 'heal', between: ['standby', 'witness'] },
      { atMs: 50_000, fault: 'isolate', site: 'production' },
      { atMs: 55_000, fault: 'partition', path: 'network' },
    ]);
    expect(rows.slice(1)).toEqual([
      ['leg to production', ['linked 0-50000', 'cut 50000-100000']],
      ['leg to standby', ['linked 0-10000', 'cut 10000-30000', 'linked 30000-100000']],
    ]);
    expect(rows[0]).toEqual(['region (the run)', ['up 0-100000']]);
  });

  it("marks the sites' quorum notices and nothing else", () => {
    expect(
      quorumMarks({
        notifications: [
          { atMs: 1_000, site: 'standby', kind: 'path-failed', severity: 'warning', path: 'storage' },
          { atMs: 9_000, site: 'standby', kind: 'quorum-degraded', severity: 'warning' },
          { atMs: 40_000, site: 'production', kind: 'quorum-restored', severity: 'warning' },
        ],
      }).map((m) => [m.symbol, m.detail]),
    ).toEqual([
      ['▼', '9.0 s standby: quorum-degraded'],
      ['▲', '40.0 s production: quorum-restored'],
    ]);
  });
});
