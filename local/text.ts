import type { Scenario } from './scenario';
import type { DeliveredMessage, Report, TimelineEntry } from './runtime';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** One timeline line: scenario time, the site (or the fault injector), what happened. */
export function formatEntry(entry: TimelineEntry): string {
  const time = `${(entry.atMs / 1000).toFixed(1).padStart(7)} s`;
  const who = (entry.site ?? (entry.kind === 'fault' || entry.kind === 'command' ? 'scenario' : 'both')).padEnd(10);
  return `${time}  ${who}  ${entry.text}`;
}

export function formatHeader(scenario: Scenario, seed: number, configuration?: string): string {
  const c = scenario.config;
  return [
    `mirrorbeat simulate: ${scenario.name}`,
    ...(configuration === undefined ? [] : [`  configuration: ${configuration}`]),
    `  seed ${seed}, ${seconds(scenario.durationMs)} of scenario time; interval ${c.intervalSeconds} s, deadline ${c.deadlineFloorSeconds}–${c.deadlineCeilingSeconds} s (phi ${c.phiThreshold}), confirmation ${c.confirmationWindowSeconds} s, failover ${c.failoverMode}`,
    `  two sites (production ${c.productionRegion}, standby ${c.standbyRegion}) on DynamoDB Local, the deployed handlers and the synthesized workflows`,
    c.consistency === 'strong'
      ? `  quorum mode: witness ${c.witnessRegion ?? '?'}, lease ${c.leaseSeconds} s; the heartbeat volume takes writes and strong reads only from a region that reaches a majority`
      : `  two-region mode (no witness): lease ${c.leaseSeconds} s, isolationPolicy ${c.isolationPolicy}`,
    '',
  ].join('\n');
}

export function formatSummary(report: Report, wallMs: number, configuration?: string): string {
  const lines = ['', 'summary'];
  if (configuration !== undefined) lines.push(`  configuration: ${configuration}`);
  if (report.failovers.length === 0) lines.push('  failovers: none');
  for (const f of report.failovers) {
    lines.push(
      `  failover: ${f.from} → ${f.to} at epoch ${f.epoch} (${f.reason}), decided at ${seconds(f.startedAtMs)}, ${f.promotedAtMs === null ? 'not promoted' : `promoted at ${seconds(f.promotedAtMs)} (${seconds(f.promotedAtMs - f.startedAtMs)} later)`}`,
    );
  }
  lines.push(
    `  detection: ${report.detectionMs === null ? 'no fatal fault led to a failover' : `${seconds(report.detectionMs)} from the first fatal fault to the failover decision`}`,
  );
  lines.push(`  most sites acting as primary at once: ${report.maxSimultaneousPrimaries}`);
  const gaps = report.noPrimaryGaps.map(
    (g) => `${seconds(g.fromMs)}–${g.toMs === null ? 'the end, still none' : seconds(g.toMs)}`,
  );
  lines.push(
    `  time without a primary (after the first): ${seconds(report.noPrimaryMs)}${gaps.length === 0 ? '' : ` (${gaps.join(', ')})`}`,
  );
  const ended = report.primaryTimeline.at(-1);
  if (report.noPrimaryGaps.at(-1)?.toMs === null && ended !== undefined)
    lines.push(
      `  NO PRIMARY at the end: ${ended.site} stopped acting as primary (epoch ${ended.epoch}) at ${seconds(ended.atMs)} and no site took over`,
    );
  const kinds = new Map<string, number>();
  for (const n of report.notifications) kinds.set(n.kind, (kinds.get(n.kind) ?? 0) + 1);
  lines.push(`  notices: ${kinds.size === 0 ? 'none' : [...kinds].map(([k, n]) => `${k} × ${n}`).join(', ')}`);
  const invalid = Object.entries(report.invalidBeats).flatMap(([path, reasons]) =>
    Object.entries(reasons).map(([reason, n]) => `${path} ${reason} × ${n}`),
  );
  lines.push(`  invalid beats counted and ignored: ${invalid.length === 0 ? 'none' : invalid.join(', ')}`);
  const verdict = report.verdict;
  if (verdict !== undefined)
    lines.push(
      verdict.passed
        ? "  expected: all of the scenario's expectations met"
        : `  expected: NOT MET: ${verdict.failed.join('; ')}`,
    );
  lines.push(`  wall time: ${seconds(wallMs)}`);
  return lines.join('\n');
}

/**
 * The first page of the run as the on-call person got it (the first critical notice, else the
 * first notice): subject and body, exactly as the topic delivered them to e-mail.
 */
export function formatFirstPage(messages: readonly DeliveredMessage[]): string {
  const page = messages.find((m) => m.topic === 'critical') ?? messages[0];
  if (page === undefined) return '';
  return [
    '',
    `the first ${page.topic} notice, as the ${page.site} site's ${page.topic} topic delivered it at ${seconds(page.atMs)}:`,
    `  Subject: ${page.subject}`,
    ...page.body.split('\n').map((line) => `  ${line}`.trimEnd()),
  ].join('\n');
}
