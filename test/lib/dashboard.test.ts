import { parseConfig } from '../../lib/config';
import { METRICS_NAMESPACE } from '../../lambdas/core/wire';
import { layoutProblems, sketchDashboard, widgetsOf } from '../../local/dashboard';
import { synthesizeDefinitions } from '../../local/definitions';
import { config, templates } from '../helpers';

/**
 * The dashboard as synthesized: its grid, what each widget shows, and that it plots the
 * metrics the alarms watch (both come from the same SiteMetrics factories).
 */
const RUNBOOK = 'https://wiki.example.com/runbooks/orders-failover';
const definitions = synthesizeDefinitions(parseConfig({ ...config(), notifications: { runbookUrl: RUNBOOK } }));

type Widget = {
  type: string;
  width: number;
  height: number;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: unknown[][];
    annotations?: { horizontal?: { label?: string }[] };
    query?: string;
    view?: string;
  };
};
const widgets = (site: 'production' | 'standby') =>
  (definitions[site].dashboard as unknown as { widgets: Widget[] }).widgets;
const titled = (site: 'production' | 'standby', title: RegExp) => {
  const found = widgets(site).find((w) => title.test(w.properties.title ?? w.properties.markdown ?? ''));
  if (found === undefined) throw new Error(`no widget titled ${String(title)}`);
  return found;
};
/** The metric names a graph plots (each metrics row is [namespace, name, dimension, value, ..., options]). */
const metricNames = (w: Widget): string[] => (w.properties.metrics ?? []).map((row) => String(row[1]));

describe('the dashboard', () => {
  it.each(['production', 'standby'] as const)(
    'lays its widgets on the 24-column grid without overlaps (%s)',
    (site) => {
      expect(layoutProblems(widgetsOf(definitions[site].dashboard))).toEqual([]);
      expect(widgetsOf(definitions[site].dashboard).length).toBeGreaterThanOrEqual(14);
    },
  );

  it("plots each path's peer beat age against its deadline, and the path modes", () => {
    // The beat age and the deadline are fields of the module's log lines, not metric series (lambdas/core/emf.ts).
    for (const path of ['network', 'storage']) {
      const age = titled('standby', new RegExp(`^Peer beat age against its deadline, ${path} path`));
      expect(age).toMatchObject({ type: 'log', properties: { view: 'timeSeries' } });
      expect(age.properties.query).toMatch(
        new RegExp(
          `SOURCE '.*HeartbeatModule.*' \\| filter Path = '${path}' and ispresent\\(PeerBeatAgeSeconds\\)\\n\\| stats max\\(PeerBeatAgeSeconds\\) as beat_age_s, max\\(DeadlineSeconds\\) as deadline_s by bin\\(1m\\)`,
        ),
      );
    }
    const modes = titled('standby', /^Path modes/);
    expect(metricNames(modes)).toEqual(['PathMode', 'PathMode']);
    expect(JSON.stringify(modes.properties.metrics)).toContain('"Path","network"');
    expect(metricNames(titled('standby', /^Now: maintenance mode/))).toEqual(['Maintenance', 'PathMode', 'PathMode']);
    expect(titled('standby', /^Now: maintenance mode/).properties.view).toBe('singleValue');
    expect(titled('standby', /^Acts as primary/).properties.query).toMatch(/stats max\(ActingPrimary\)/);
  });

  it('shows phi against its threshold, the verdict over time, invalid beats by reason, and replication latency against the RPO budget', () => {
    expect(titled('standby', /^Phi, network path/).properties.title).toContain('phiThreshold 8');
    expect(titled('standby', /^Phi, storage path/).properties.query).toMatch(
      /filter Path = 'storage' and ispresent\(Phi\)/,
    );
    expect(metricNames(titled('standby', /^Verdict on the peer/))).toEqual([
      'Verdict',
      'Verdict',
      'Verdict',
      'Verdict',
      'Verdict',
      // peer-stepped-down, quorum mode's lost lease seen in the peer's beats.
      'Verdict',
    ]);
    expect(JSON.stringify(titled('standby', /^Invalid beats by path and reason/).properties.metrics)).toContain(
      'SEARCH(\'{Mirrorbeat,Cluster,Site,Path,Reason} MetricName=\\"InvalidBeats\\" Cluster=\\"orders\\" Site=\\"standby\\"\'',
    );
    expect(
      titled('standby', /^Heartbeat volume replication latency to us-east-1/).properties.annotations?.horizontal?.[0]
        ?.label,
    ).toBe('RPO budget 30 s');
  });

  it('shows the failover executions and their outcome, the alarms, and the latest notices of every handler', () => {
    expect(metricNames(titled('standby', /^Failover executions and their outcome/))).toEqual([
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
    ]);
    expect(titled('standby', /^Alarms$/).type).toBe('alarm');
    const notices = titled('standby', /^Latest notices/);
    expect(notices.type).toBe('log');
    expect(notices.properties.query).toMatch(
      /SOURCE '.*HeartbeatModule.*' \| SOURCE '.*FailoverSteps.*' \| SOURCE '.*PathControlSteps.*' \| filter message = 'notice'/,
    );
    expect(metricNames(titled('standby', /^Notices folded/))).toEqual(['NoticesFolded', 'NoticesUndelivered']);
  });

  it('says in its text widget where the roles are and links the runbook', () => {
    const text = titled('standby', /^# mirrorbeat orders: standby site/).properties.markdown ?? '';
    expect(text).toContain('npx mirrorbeat status --region us-west-2');
    expect(text).toContain(`[runbook](${RUNBOOK})`);
  });

  it('sketches as ASCII, one box per widget with its title', () => {
    const sketch = sketchDashboard(definitions.standby.dashboard);
    expect(sketch.split('\n')[0]).toMatch(/^\+-+\+-+\+$/);
    expect(sketch).toContain('[logs] Latest notices');
    expect(sketch).toContain('[value] Now: maintenance mode');
    expect(Math.max(...sketch.split('\n').map((l) => l.length))).toBe(97);
  });
});

describe('alarms and the dashboard', () => {
  const { standby } = templates();
  it('plot the same metrics: every mirrorbeat metric an alarm watches is on the dashboard', () => {
    const body = JSON.stringify(definitions.standby.dashboard);
    const alarms = Object.values(standby.findResources('AWS::CloudWatch::Alarm')).map(
      (a) =>
        a.Properties as {
          AlarmName: string;
          Namespace?: string;
          MetricName?: string;
          Dimensions?: { Name: string; Value: unknown }[];
          Metrics?: {
            MetricStat?: {
              Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] };
            };
          }[];
        },
    );
    const watched = alarms
      .flatMap((a) =>
        a.MetricName !== undefined
          ? [{ Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions ?? [] }]
          : (a.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : [])),
      )
      .filter((m) => m.Namespace === METRICS_NAMESPACE);
    expect(watched.length).toBeGreaterThanOrEqual(8);
    for (const metric of watched) {
      // A graph's metric row: namespace, name, then the dimensions in name order.
      const dimensions = [...metric.Dimensions]
        .sort((a, b) => a.Name.localeCompare(b.Name))
        .flatMap((d) => [d.Name, d.Value]);
      expect([
        metric.MetricName,
        body.includes(JSON.stringify([METRICS_NAMESPACE, metric.MetricName, ...dimensions]).slice(1, -1)),
      ]).toEqual([metric.MetricName, true]);
    }
  });
});
