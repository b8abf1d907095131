// The metric points one tick emits (EMF): only the series an alarm reads, and the rare ones only when they happen (a
// custom metric is billed for each hour it has data); what only the dashboard plots (Phi, Deadline and PeerBeatAge
// per path, ActingPrimary) is a log field it queries (logOnly). Steady state: Ticks, NoPrimary, PathFailed and
// PathMode per path.
import type { MetricPoint } from '../core/emf';
import type { Checked } from '../core/site';
import { MetricName, PATHS, type PathId, type PathMode } from '../core/wire';
import type { Role } from './deps';

/** The PathMode metric: what the dashboard plots for the path registry. */
const MODE_VALUE: Record<PathMode, number> = { enabled: 2, pending: 1, disabled: 0 };

/** What the check half of the tick measured about the peer, per path. */
export function checkMetrics(checked: Checked, nowMs: number): MetricPoint[] {
  const { states, phi, deadlineMs } = checked;
  const metrics: MetricPoint[] = [{ name: MetricName.ticks, value: 1, unit: 'Count' }];
  for (const path of PATHS) {
    metrics.push(
      {
        name: MetricName.pathFailed,
        value: states[path] === 'failed' ? 1 : 0,
        unit: 'Count',
        dimensions: { Path: path },
      },
      { name: MetricName.phi, value: phi[path], unit: 'None', dimensions: { Path: path }, logOnly: true },
      {
        name: MetricName.deadline,
        value: deadlineMs[path] / 1000,
        unit: 'Seconds',
        dimensions: { Path: path },
        logOnly: true,
      },
    );
    const last = checked.lastArrivalMs[path];
    if (last !== undefined)
      metrics.push({
        name: MetricName.peerBeatAge,
        value: (nowMs - last) / 1000,
        unit: 'Seconds',
        dimensions: { Path: path },
        logOnly: true,
      });
  }
  return metrics;
}

/** A beat that did not go out, per path (nothing when every enabled path sent). */
export function sendMetrics(sent: Readonly<Record<PathId, 'sent' | 'failed' | 'disabled' | 'not-due'>>): MetricPoint[] {
  return PATHS.filter((path) => sent[path] === 'failed').map((path): MetricPoint => ({
    name: MetricName.sendFailures,
    value: 1,
    unit: 'Count',
    dimensions: { Path: path },
  }));
}

/**
 * The role this site acted in, whether it sees no primary at all, maintenance mode, and each path's mode in its
 * registry.
 */
export function roleMetrics(
  role: Role,
  noPrimary: boolean,
  maintenance: boolean,
  modes: Readonly<Record<PathId, PathMode>>,
): MetricPoint[] {
  return [
    { name: MetricName.actingPrimary, value: role === 'primary' ? 1 : 0, unit: 'Count', logOnly: true },
    { name: MetricName.noPrimary, value: noPrimary ? 1 : 0, unit: 'Count' },
    ...(maintenance ? [{ name: MetricName.maintenance, value: 1, unit: 'Count' } as const] : []),
    ...PATHS.map((path): MetricPoint => ({
      name: MetricName.pathMode,
      value: MODE_VALUE[modes[path]],
      unit: 'None',
      dimensions: { Path: path },
    })),
  ];
}
