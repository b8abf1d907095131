import { embeddedMetricLines, invalidBeatPoints } from '../../../lambdas/core/emf';

describe('embedded metric format', () => {
  it('writes one line per dimension set, with exactly the dimensions the alarms name', () => {
    const lines = embeddedMetricLines(
      'orders',
      'standby',
      [
        { name: 'Ticks', value: 1, unit: 'Count' },
        { name: 'PathFailed', value: 1, unit: 'Count', dimensions: { Path: 'network' } },
        { name: 'PeerBeatAgeSeconds', value: 7.5, unit: 'Seconds', dimensions: { Path: 'network' } },
        { name: 'PathFailed', value: 0, unit: 'Count', dimensions: { Path: 'storage' } },
      ],
      1_700_000_000_000,
    ).map(
      (l) =>
        JSON.parse(l) as Record<string, unknown> & {
          _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
        },
    );
    expect(lines).toHaveLength(3);
    const network = lines.find((l) => l.Path === 'network');
    expect(network).toMatchObject({
      Cluster: 'orders',
      Site: 'standby',
      Path: 'network',
      PathFailed: 1,
      PeerBeatAgeSeconds: 7.5,
    });
    expect(network?._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Mirrorbeat',
      Dimensions: [['Cluster', 'Site', 'Path']],
      Metrics: [
        { Name: 'PathFailed', Unit: 'Count' },
        { Name: 'PeerBeatAgeSeconds', Unit: 'Seconds' },
      ],
    });
    expect(lines.find((l) => l.Path === undefined)?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['Cluster', 'Site'],
    ]);
  });
});

describe('log-only values', () => {
  it('are fields of their line but no metric: a line of nothing else declares none', () => {
    const lines = embeddedMetricLines(
      'orders',
      'standby',
      [
        { name: 'PathFailed', value: 0, unit: 'Count', dimensions: { Path: 'network' } },
        { name: 'Phi', value: 1.5, unit: 'None', dimensions: { Path: 'network' }, logOnly: true },
        { name: 'ActingPrimary', value: 1, unit: 'Count', logOnly: true },
      ],
      1_700_000_000_000,
    ).map((l) => JSON.parse(l) as Record<string, unknown> & { _aws?: { CloudWatchMetrics: { Metrics: unknown[] }[] } });
    const network = lines.find((l) => l.Path === 'network');
    expect(network).toMatchObject({ PathFailed: 0, Phi: 1.5 });
    expect(network?._aws?.CloudWatchMetrics[0]?.Metrics).toEqual([{ Name: 'PathFailed', Unit: 'Count' }]);
    const site = lines.find((l) => l.Path === undefined);
    expect(site).toEqual({ Cluster: 'orders', Site: 'standby', ActingPrimary: 1 });
  });
});

describe('invalid beat metrics', () => {
  it('count per reason for the alarm and per path and reason for the dashboard', () => {
    const lines = embeddedMetricLines('orders', 'standby', invalidBeatPoints('network', 'signature'), 0).map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    expect(lines).toEqual([
      expect.objectContaining({ Reason: 'signature', InvalidBeats: 1 }),
      expect.objectContaining({ Path: 'network', Reason: 'signature', InvalidBeats: 1 }),
    ]);
    expect(lines[0]).not.toHaveProperty('Path');
  });
});
