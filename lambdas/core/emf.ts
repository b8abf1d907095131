import { METRICS_NAMESPACE, MetricName } from './wire';

export interface MetricPoint {
  readonly name: string;
  readonly value: number;
  readonly unit: 'Count' | 'Seconds' | 'Milliseconds' | 'None';
  /** Dimensions beyond Cluster and Site, e.g. { Path: 'network' }. */
  readonly dimensions?: Readonly<Record<string, string>>;
  /**
   * A value only the dashboard plots, from the log (CloudWatch Logs Insights): in the line with its dimensions, but
   * not declared a metric, so it is no custom metric series to pay for.
   */
  readonly logOnly?: boolean;
}

/**
 * CloudWatch embedded metric format: one JSON line per dimension set, with exactly the
 * dimensions the alarms name (Cluster, Site and, per path, Path).
 */
export function embeddedMetricLines(
  cluster: string,
  site: string,
  points: readonly MetricPoint[],
  timestampMs: number,
): string[] {
  const groups = new Map<string, MetricPoint[]>();
  for (const p of points) {
    const key = JSON.stringify(Object.entries(p.dimensions ?? {}).sort());
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()].map((group) => {
    const extra = group[0]?.dimensions ?? {};
    const dims = { Cluster: cluster, Site: site, ...extra };
    const values: Record<string, number> = {};
    for (const p of group) values[p.name] = (values[p.name] ?? 0) + p.value;
    const declared = group.filter((p) => p.logOnly !== true);
    const directive =
      declared.length === 0
        ? {}
        : {
            _aws: {
              Timestamp: timestampMs,
              CloudWatchMetrics: [
                {
                  Namespace: METRICS_NAMESPACE,
                  Dimensions: [Object.keys(dims)],
                  Metrics: [...new Map(declared.map((p) => [p.name, { Name: p.name, Unit: p.unit }])).values()],
                },
              ],
            },
          };
    return JSON.stringify({ ...directive, ...dims, ...values });
  });
}

/**
 * One invalid beat: counted per reason (what the BadHeartbeats alarm watches, whichever path carried it) and per path
 * and reason (what the dashboard breaks down). Published only when a beat is refused, so neither costs anything while
 * nothing is.
 */
export function invalidBeatPoints(path: string, reason: string): MetricPoint[] {
  return [
    { name: MetricName.invalidBeats, value: 1, unit: 'Count', dimensions: { Reason: reason } },
    { name: MetricName.invalidBeats, value: 1, unit: 'Count', dimensions: { Path: path, Reason: reason } },
  ];
}
