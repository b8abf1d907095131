// The page's witness lane: the witness region as the run had it (the local runtime can see it; no site can), and the
// quorum as each site saw it (its quorum notices).
import { SITE_IDS, type SiteId } from '../lambdas/core/wire';
import type { Report } from './report';
import type { Scenario } from './scenario';

export interface LaneRow {
  readonly title: string;
  readonly spans: readonly { fromMs: number; toMs: number; fill: string; label?: string; detail: string }[];
}

const UP = '#e3f2e3';
const DOWN = '#d62728';
const FROZEN = '#ff9f1c';
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A value per instant, from the changes to it: one span per stretch, each to the next change or the end. */
function stretches(
  changes: readonly { atMs: number; state: string }[],
  endMs: number,
  fill: (state: string) => string,
  detail: (state: string, fromMs: number, toMs: number) => string,
): LaneRow['spans'] {
  return changes
    .map((c, i) => ({ ...c, toMs: changes[i + 1]?.atMs ?? endMs }))
    .filter((c) => c.toMs > c.atMs)
    .map((c) => ({
      fromMs: c.atMs,
      toMs: c.toMs,
      fill: fill(c.state),
      label: c.state,
      detail: detail(c.state, c.atMs, c.toMs),
    }));
}

/**
 * The witness region, then each site's leg to it, as the scenario's faults made them: what mirrorbeat's sites cannot
 * see (no API shows DynamoDB's witness), drawn so a run can be read against what they said.
 */
export function witnessRows(scenario: Scenario, endMs: number): LaneRow[] {
  const region: { atMs: number; state: string }[] = [{ atMs: 0, state: 'up' }];
  const legs: Record<SiteId, { atMs: number; state: string }[]> = {
    production: [{ atMs: 0, state: 'linked' }],
    standby: [{ atMs: 0, state: 'linked' }],
  };
  let isolated = false;
  for (const e of scenario.events) {
    if (!('fault' in e)) continue;
    if ('site' in e && e.site === 'witness') {
      if (e.fault === 'crash') region.push({ atMs: e.atMs, state: 'down' });
      if (e.fault === 'restart' && !isolated) region.push({ atMs: e.atMs, state: 'up' });
      if (e.fault === 'pause') {
        region.push({ atMs: e.atMs, state: 'frozen' });
        if (
          !scenario.events.some((o) => o.atMs > e.atMs && o.atMs < e.atMs + e.ms && 'site' in o && o.site === 'witness')
        )
          region.push({ atMs: e.atMs + e.ms, state: isolated ? 'cut off' : 'up' });
      }
      if (e.fault === 'isolate') {
        isolated = true;
        region.push({ atMs: e.atMs, state: 'cut off' });
      }
    } else if ('between' in e) {
      const site = e.between[0] === 'witness' ? e.between[1] : e.between[0];
      legs[site].push({ atMs: e.atMs, state: e.fault === 'partition' ? 'cut' : 'linked' });
    } else if (e.fault === 'isolate' && 'site' in e && e.site !== 'witness') {
      legs[e.site].push({ atMs: e.atMs, state: 'cut' });
    }
  }
  const sorted = (changes: { atMs: number; state: string }[]) =>
    changes.filter((c) => c.atMs <= endMs).sort((a, b) => a.atMs - b.atMs);
  return [
    {
      title: 'region (the run)',
      spans: stretches(
        sorted(region),
        endMs,
        (s) => (s === 'up' ? UP : s === 'frozen' ? FROZEN : DOWN),
        (s, from, to) => `the witness region is ${s} from ${seconds(from)} to ${seconds(to)} (no site can see this)`,
      ),
    },
    ...SITE_IDS.map((site) => ({
      title: `leg to ${site}`,
      spans: stretches(
        sorted(legs[site]),
        endMs,
        (s) => (s === 'linked' ? UP : DOWN),
        (s, from, to) => `${site}'s leg to the witness region is ${s} from ${seconds(from)} to ${seconds(to)}`,
      ),
    })),
  ];
}

/** What the sites said of the quorum: their quorum-degraded and quorum-restored notices, as markers. */
export function quorumMarks(report: Pick<Report, 'notifications'>) {
  return report.notifications
    .filter((n) => n.kind === 'quorum-degraded' || n.kind === 'quorum-restored')
    .map((n) => ({
      atMs: n.atMs,
      symbol: n.kind === 'quorum-degraded' ? '▼' : '▲',
      color: n.kind === 'quorum-degraded' ? '#ff9f1c' : '#2ca02c',
      detail: `${seconds(n.atMs)} ${n.site}: ${n.kind}`,
    }));
}
