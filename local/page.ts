// The game day as a picture: one self-contained HTML page per run, one lane per site and the witness.
import type { PathState } from '../lambdas/core/verdict';
import { PATHS, SITE_IDS, type SiteId } from '../lambdas/core/wire';
import type { Scenario } from './scenario';
import type { SimulationResult } from './runtime';
import type { TimelineEntry } from './world';
import { quorumMarks, witnessRows } from './page-witness';

/** What the page is drawn from: the scenario as run and everything the run saw. */
export interface PageInput {
  readonly scenario: Scenario;
  readonly seed: number;
  /** Which configuration ran, as the summary says it. */
  readonly configuration: string;
  readonly result: Pick<SimulationResult, 'report' | 'timeline' | 'executions' | 'messages'>;
  /** The summary, as the terminal printed it. */
  readonly summary: string;
}

const WIDTH = 1200;
const LEFT = 150;
const ROW = 16;
const STATE_COLOR: Record<PathState | 'none', string> = {
  healthy: '#2ca02c',
  suspect: '#ff9f1c',
  failed: '#d62728',
  pending: '#c7c7c7',
  disabled: '#eeeeee',
  none: '#ffffff',
};

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** One stretch of a lane: from, to, what it shows, and what hovering it says. */
interface Span {
  readonly fromMs: number;
  readonly toMs: number;
  readonly fill: string;
  readonly label?: string;
  readonly detail: string;
}

/** Each value holds from its change to the next change (or the end of the run). */
function spans<T>(
  changes: readonly { atMs: number; value: T }[],
  endMs: number,
  draw: (value: T) => { fill: string; label?: string; detail: string } | undefined,
): Span[] {
  return changes.flatMap((c, i) => {
    const shown = draw(c.value);
    const toMs = changes[i + 1]?.atMs ?? endMs;
    return shown === undefined || toMs <= c.atMs ? [] : [{ fromMs: c.atMs, toMs, ...shown }];
  });
}

/** The faults and commands that touched a lane, as the timeline recorded them. */
const touches = (entries: readonly TimelineEntry[], lane: SiteId | 'witness' | 'scenario') =>
  entries.filter(
    (e) =>
      (e.kind === 'fault' || e.kind === 'command') &&
      (lane === 'witness'
        ? /witness/.test(e.text)
        : lane === 'scenario'
          ? e.site === undefined && !/witness/.test(e.text)
          : e.site === lane),
  );

/** The faults and commands of a lane as markers. */
const faultMarks = (entries: readonly TimelineEntry[], lane: SiteId | 'witness' | 'scenario') =>
  touches(entries, lane).map((e) => ({
    atMs: e.atMs,
    symbol: '✖',
    color: '#444',
    detail: `${seconds(e.atMs)} ${e.text}`,
  }));

export function renderPage(input: PageInput): string {
  const { scenario, result } = input;
  const { report, timeline } = result;
  const endMs = scenario.durationMs;
  const x = (ms: number) => LEFT + (Math.max(0, Math.min(ms, endMs)) / endMs) * (WIDTH - LEFT - 10);
  const lanes: string[] = [];
  let y = 40;
  const rowOf = (title: string, items: readonly Span[], labelClass = 'in') => {
    const rects = items
      .map(
        (s) =>
          `<rect x="${x(s.fromMs).toFixed(1)}" y="${y}" width="${Math.max(1, x(s.toMs) - x(s.fromMs)).toFixed(1)}" height="${ROW - 3}" fill="${s.fill}" stroke="#999" stroke-width="0.3" data-detail="${escape(s.detail)}"/>` +
          (s.label !== undefined && x(s.toMs) - x(s.fromMs) > 40
            ? `<text x="${(x(s.fromMs) + 3).toFixed(1)}" y="${y + ROW - 6}" class="${labelClass}">${escape(s.label)}</text>`
            : ''),
      )
      .join('');
    lanes.push(`<text x="${LEFT - 8}" y="${y + ROW - 6}" class="row">${escape(title)}</text>${rects}`);
    y += ROW;
  };
  const markers = (entries: readonly { atMs: number; symbol: string; color: string; detail: string }[]) => {
    lanes.push(
      entries
        .map(
          (m) =>
            `<text x="${x(m.atMs).toFixed(1)}" y="${y + ROW - 4}" class="mark" fill="${m.color}" data-detail="${escape(m.detail)}">${m.symbol}</text>`,
        )
        .join(''),
    );
    y += ROW;
  };

  for (const site of SITE_IDS) {
    lanes.push(`<text x="8" y="${y + 12}" class="lane">${site}</text>`);
    y += 18;
    const top = y;
    for (const path of PATHS) {
      const changes = report.pathStates.filter((p) => p.site === site && p.path === path);
      rowOf(
        `${path} path`,
        spans(
          changes.map((c) => ({ atMs: c.atMs, value: c.state })),
          endMs,
          (state) => ({ fill: STATE_COLOR[state], detail: `${site} sees its peer's ${path} path ${state}` }),
        ),
      );
    }
    const verdicts = timeline
      .filter((e) => e.site === site && e.kind === 'verdict')
      .map((e) => ({ atMs: e.atMs, value: e.text.replace(/^verdict /, '') }));
    rowOf(
      'verdict',
      spans([{ atMs: 0, value: 'ok' }, ...verdicts], endMs, (v) => ({
        fill: v === 'ok' ? '#f4f9f4' : v === 'degraded' ? '#fff1d6' : '#fbdada',
        label: v,
        detail: `${site}: verdict ${v}`,
      })),
      'on',
    );
    rowOf(
      'role (epoch)',
      spans(
        report.primaryTimeline.filter((p) => p.site === site).map((p) => ({ atMs: p.atMs, value: p })),
        endMs,
        (p) =>
          p.acting
            ? { fill: '#1f77b4', label: `primary @${p.epoch}`, detail: `${site} acts as primary at epoch ${p.epoch}` }
            : undefined,
      ),
    );
    const delivered = result.messages.filter((m) => m.site === site);
    markers([
      ...report.notifications
        .filter((n) => n.site === site)
        .map((n) => {
          const page = delivered.find((m) => Math.round(m.atMs) === n.atMs && m.subject.includes(`(${site}`));
          return {
            atMs: n.atMs,
            symbol: '▼',
            color: { critical: '#d62728', warning: '#ff9f1c', info: '#7f7f7f' }[n.severity],
            detail:
              page === undefined
                ? `${seconds(n.atMs)} notice ${n.kind}${n.path ? ` (${n.path})` : ''}`
                : `${page.subject}\n\n${page.body}`,
          };
        }),
      ...report.failovers
        .filter((f) => f.to === site)
        .map((f) => ({
          atMs: f.startedAtMs,
          symbol: '◆',
          color: '#1f77b4',
          detail: decisionRecord(timeline, site, f.startedAtMs, f.promotedAtMs ?? endMs),
        })),
      ...faultMarks(timeline, site),
    ]);
    // A crashed site records nothing: what its rows show after the crash is its last record, greyed out.
    const life = touches(timeline, site)
      .filter((e) => /^(crashed|restarted)/.test(e.text))
      .map((e) => ({ atMs: e.atMs, value: e.text.startsWith('crashed') }));
    for (const down of spans(life, endMs, (crashed) => (crashed ? { fill: '', detail: '' } : undefined)))
      lanes.push(
        `<rect class="down" x="${x(down.fromMs).toFixed(1)}" y="${top}" width="${(x(down.toMs) - x(down.fromMs)).toFixed(1)}" height="${y - top - ROW}" data-detail="${escape(`${site} is down (crashed) from ${seconds(down.fromMs)}${down.toMs < endMs ? ` to ${seconds(down.toMs)}` : ''}: its rows show its last record`)}"/>`,
      );
    y += 8;
  }
  if (scenario.config.consistency === 'strong') {
    lanes.push(`<text x="8" y="${y + 12}" class="lane">witness</text>`);
    y += 18;
    // What the run did to it (no site can see that), then what the sites said of the quorum.
    for (const row of witnessRows(scenario, endMs)) rowOf(row.title, row.spans, 'on');
    markers([...faultMarks(timeline, 'witness'), ...quorumMarks(report)]);
    y += 8;
  }
  lanes.push(`<text x="8" y="${y + 12}" class="lane">scenario (path faults, commands)</text>`);
  y += 18;
  markers(faultMarks(timeline, 'scenario'));
  const height = y + 30;

  const gaps = report.noPrimaryGaps
    .map(
      (g) =>
        `<rect class="gap" x="${x(g.fromMs).toFixed(1)}" y="30" width="${Math.max(2, x(g.toMs ?? endMs) - x(g.fromMs)).toFixed(1)}" height="${height - 50}" data-detail="${escape(`no site acting as primary: ${seconds(g.fromMs)} to ${g.toMs === null ? 'the end of the run' : seconds(g.toMs)}`)}"/>`,
    )
    .join('');
  const ticks = Array.from({ length: 11 }, (_, i) => (endMs * i) / 10)
    .map(
      (ms) =>
        `<line x1="${x(ms)}" x2="${x(ms)}" y1="28" y2="${height - 20}" class="grid"/><text x="${x(ms)}" y="22" class="axis">${seconds(ms)}</text>`,
    )
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mirrorbeat: ${escape(scenario.name)}</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}
.lane{font-weight:600;font-size:13px}.row{text-anchor:end;font-size:11px;fill:#555}.in{font-size:10px;fill:#fff;pointer-events:none}.on{font-size:10px;fill:#333;pointer-events:none}
.down{fill:#888;fill-opacity:.35}
.axis{font-size:10px;fill:#777;text-anchor:middle}.grid{stroke:#eee}.mark{font-size:13px;text-anchor:middle;cursor:default}
.gap{fill:#d62728;fill-opacity:.12;stroke:#d62728;stroke-dasharray:3 2}
#tip{position:fixed;display:none;max-width:560px;white-space:pre-wrap;background:#fffff0;border:1px solid #999;padding:6px;font:12px monospace;pointer-events:none}
.legend span{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px;border:1px solid #999}
</style></head><body>
<h1>mirrorbeat game day: ${escape(scenario.name)}</h1>
<p>seed ${input.seed} · ${seconds(endMs)} of scenario time · configuration: ${escape(input.configuration)}</p>
<p class="legend">paths:${(['healthy', 'suspect', 'failed', 'pending'] as const).map((s) => `<span style="background:${STATE_COLOR[s]}"></span>${s}`).join('')}<span style="background:#1f77b4"></span>acts as primary<span style="background:rgba(214,39,40,.12)"></span>no primary · ▼ notice · ◆ failover decision · ✖ fault or command · hover for details</p>
<svg id="lanes" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">
${ticks}${gaps}${lanes.join('\n')}
</svg>
<h2>Summary</h2><pre>${escape(input.summary.trim())}</pre>
<div id="tip"></div>
<script>
const tip = document.getElementById('tip');
document.getElementById('lanes').addEventListener('mousemove', (event) => {
  const detail = event.target.getAttribute && event.target.getAttribute('data-detail');
  if (!detail) { tip.style.display = 'none'; return; }
  tip.textContent = detail;
  tip.style.display = 'block';
  tip.style.left = Math.min(event.clientX + 12, window.innerWidth - 580) + 'px';
  tip.style.top = (event.clientY + 12) + 'px';
});
</script>
</body></html>
`;
}

/** The failover's decision record as the timeline has it: the workflow's steps from its start to its promotion. */
function decisionRecord(timeline: readonly TimelineEntry[], site: SiteId, fromMs: number, toMs: number): string {
  const steps = timeline.filter(
    (e) =>
      e.site === site && (e.kind === 'workflow' || e.kind === 'notice') && e.atMs >= fromMs && e.atMs <= toMs + 1_000,
  );
  return steps.map((e) => `${seconds(e.atMs)} ${e.text}`).join('\n');
}
