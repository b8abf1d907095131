import { formatPhi } from './detector';
import type { PathId, SiteId } from './wire';

/** Notice kinds (a contract; docs/OPERATIONS.md, "Notices"): the `kind` field and the SNS message attribute `kind`. */
export const NOTICE_KINDS = [
  'path-failed',
  'path-recovered',
  'path-activated',
  'path-deactivated',
  'command-refused',
  'peer-lost',
  'peer-failure-reported',
  'unprotected',
  'failover-started',
  'failover-aborted',
  'promoted',
  'demoted',
  'switchover-started',
  'switchover-completed',
  'quorum-degraded',
  'quorum-restored',
  'replication-lagging',
  'readiness-failed',
  'readiness-restored',
  'clock-untrusted',
  'no-primary',
  'two-primaries',
  'maintenance',
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];
/**
 * A notice's severity (a contract): `info` is recorded (status, history, the page) and published to no topic;
 * `warning` and `critical` go to the site's topic of that name.
 */
export type Severity = 'info' | 'warning' | 'critical';
/** The severities that have a topic (and the alarms' severities). */
export type TopicSeverity = Exclude<Severity, 'info'>;

/** Kinds that page: the site is gone, unwatched, or its role changed. The rest inform. */
const CRITICAL: ReadonlySet<NoticeKind> = new Set<NoticeKind>([
  'peer-lost',
  'unprotected',
  'failover-started',
  'failover-aborted',
  'promoted',
  'demoted',
  'no-primary',
  'two-primaries',
]);

/** Kinds that report what an operator asked for and got: recorded, paging no one. */
const INFO: ReadonlySet<NoticeKind> = new Set<NoticeKind>(['switchover-started', 'switchover-completed']);

/**
 * A notice's severity: its kind's, except that a planned change pages no one. The primary's `demoted` in a
 * switchover (detail.planned) is info, and a switchover the primary did not hand over (nothing changed, the primary
 * resumes) is a warning, not the critical of a failover that went wrong.
 */
export function severityOf(n: Pick<Notice, 'kind' | 'detail'>): Severity {
  if (INFO.has(n.kind) || (n.kind === 'demoted' && n.detail.planned === true)) return 'info';
  if (n.kind === 'failover-aborted' && n.detail.outcome === 'switchover-withdrawn') return 'warning';
  return CRITICAL.has(n.kind) ? 'critical' : 'warning';
}

/** Notices of one kind and path that the rate limit held back, summarized in one notice. */
export interface Folded {
  readonly count: number;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
  readonly windowSeconds: number;
}

export interface Notice {
  readonly kind: NoticeKind;
  /** The site that raised the notice. */
  readonly site: SiteId;
  /** That site's region, for the commands a person runs next. */
  readonly region?: string;
  readonly cluster: string;
  readonly path?: PathId;
  readonly atMs: number;
  /** What a person needs to act: states, ages, verdict, what happens next. */
  readonly detail: Readonly<Record<string, unknown>>;
  /** Present on a summary: this many notices of this kind and path were folded into it. */
  readonly folded?: Folded;
  /** Says more than the kind's headline, such as "failover FAILED" (a kind covers several outcomes). */
  readonly headline?: string;
}

const HEADLINE: Record<NoticeKind, string> = {
  'path-failed': 'path failed',
  'path-recovered': 'path recovered',
  'path-activated': 'path activated',
  'path-deactivated': 'path deactivated',
  'command-refused': 'path command refused',
  'peer-lost': 'peer site lost on every enabled path',
  'peer-failure-reported': 'peer site reports its workload failed',
  unprotected: 'no enabled path: cluster unprotected',
  'failover-started': 'failover started',
  'failover-aborted': 'failover aborted',
  promoted: 'site promoted',
  demoted: 'site demoted',
  'switchover-started': 'switchover started',
  'switchover-completed': 'switchover completed',
  'quorum-degraded': 'quorum degraded: one more fault and no failover',
  'quorum-restored': 'quorum restored',
  'replication-lagging': 'replication lagging: past half the RPO budget',
  'readiness-failed': 'failover NOT READY: a failover to this site would not succeed now',
  'readiness-restored': 'failover ready again',
  'clock-untrusted': 'local clock jumped: beats now stamped from the monotonic clock',
  'no-primary': 'no site acts as primary',
  'two-primaries': 'TWO SITES ACT AS PRIMARY',
  maintenance: 'maintenance mode: automatic failover held',
};

/**
 * The notice's id: unique per event, stable when the same event is announced again (a
 * retried workflow step, a lost answer), and sorting by time within a site's journal.
 */
export function noticeId(n: Pick<Notice, 'kind' | 'atMs' | 'path' | 'folded'>, suffix?: string): string {
  return [
    String(Math.max(0, Math.floor(n.atMs))).padStart(13, '0'),
    n.kind,
    ...(n.path === undefined ? [] : [n.path]),
    ...(n.folded === undefined ? [] : ['folded']),
    ...(suffix === undefined ? [] : [suffix]),
  ].join('.');
}

const headlineOf = (n: Notice): string => n.headline ?? HEADLINE[n.kind];

/** The subject a pager shows (SNS allows 100 characters). */
export function noticeSubject(n: Notice): string {
  const where = n.path === undefined ? n.site : `${n.site}, ${n.path} path`;
  const what = n.folded === undefined ? headlineOf(n) : `${headlineOf(n)} ×${n.folded.count} more (folded)`;
  return `mirrorbeat ${n.cluster}: ${what} (${where})`.slice(0, 100);
}

/** The notice as one JSON document, for subscribers that parse (Lambda, SQS, HTTPS, Firehose). */
export function noticeDocument(n: Notice, id: string, runbookUrl?: string): Record<string, unknown> {
  return {
    id,
    kind: n.kind,
    severity: severityOf(n),
    cluster: n.cluster,
    site: n.site,
    ...(n.region === undefined ? {} : { region: n.region }),
    ...(n.path === undefined ? {} : { path: n.path }),
    at: iso(n.atMs),
    ...(n.folded === undefined
      ? {}
      : { folded: { ...n.folded, firstAt: iso(n.folded.firstAtMs), lastAt: iso(n.folded.lastAtMs) } }),
    ...n.detail,
    inspect: inspectCommand(n),
    acknowledge: ackCommand(n, id),
    runbook: runbookUrl ?? RUNBOOK,
  };
}

/** Where the runbook is when the configuration names none of its own. */
export const RUNBOOK = 'docs/OPERATIONS.md in the mirrorbeat repository';

const iso = (ms: number) => new Date(ms).toISOString();
const regionFlag = (n: Notice) => (n.region === undefined ? '' : ` --region ${n.region}`);
const inspectCommand = (n: Notice) => `npx mirrorbeat status${regionFlag(n)}`;
const ackCommand = (n: Notice, id: string) => `npx mirrorbeat ack ${id} --site ${n.site}${regionFlag(n)}`;

const seconds = (ms: unknown) =>
  typeof ms === 'number' && Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'never';

/** One line per path: its state, the age of the last valid beat against its deadline, phi. */
function pathLines(detail: Readonly<Record<string, unknown>>): string[] {
  const states = detail.states as Record<string, string> | undefined;
  if (states === undefined) return [];
  const ages = detail.lastValidBeatAgeMs as Record<string, number | null> | undefined;
  const deadlines = (detail.deadlineMs ?? {}) as Record<string, number>;
  // Phi may come unrounded from a workflow's evidence.
  const phi = (detail.phi ?? {}) as Record<string, number>;
  return Object.entries(states).map(([path, state]) => {
    const parts =
      ages === undefined
        ? []
        : [
            `last valid beat ${ages[path] === null || ages[path] === undefined ? 'never' : `${seconds(ages[path])} ago`}`,
          ];
    if (deadlines[path] !== undefined) parts.push(`deadline ${seconds(deadlines[path])}`);
    if (phi[path] !== undefined) parts.push(`phi ${formatPhi(phi[path])}`);
    return `  ${path.padEnd(8)} ${String(state).padEnd(9)} ${parts.join(', ')}`.trimEnd();
  });
}

/** Fields the text body renders on their own lines; the rest follow as `key: value`. */
const RENDERED = new Set([
  'states',
  'lastValidBeatAgeMs',
  'deadlineMs',
  'phi',
  'verdict',
  'previous',
  'next',
  'why',
  'peerReport',
  'error',
  'decision',
  'gates',
  'outcome',
  'execution',
]);

interface GateCheck {
  readonly gate?: string;
  readonly passed?: boolean;
  readonly evidence?: unknown;
}

const gateLine = (checks: readonly GateCheck[]): string =>
  checks.map((c) => `${c.gate ?? 'gate'} ${c.passed === false ? 'BLOCKED' : 'passed'}: ${flat(c.evidence)}`).join('; ');

const ms = (value: unknown): string => (typeof value === 'number' ? `${Math.round(value)} ms` : 'n/a');

/** A failover's decision record (the verify step's), in lines a person reads top to bottom. */
function decisionLines(d: Readonly<Record<string, unknown>>): string[] {
  const evidence = (d.evidence ?? {}) as Record<string, unknown>;
  const confirm = d.confirm as { peerLost?: boolean; states?: Record<string, string> } | null | undefined;
  const gates = (d.gates as { checks?: GateCheck[] } | null | undefined)?.checks ?? [];
  const fence = d.fence as { epoch?: number; fenced?: string; networkFence?: string } | null | undefined;
  const actions = (d.actions ?? []) as { action?: string; target?: string; detail?: unknown; tookMs?: number }[];
  const steps = Object.entries((d.stepMs ?? {}) as Record<string, number>).map(([step, took]) => `${step} ${ms(took)}`);
  const lines = [
    `Decision: ${flat(d.kind)} of ${flat(d.cluster)} from ${flat(d.from)} to ${flat(d.to)} at epoch ${flat(d.epoch)}; reason ${flat(d.reason)}, requested by ${flat(d.requestedBy)} (execution ${flat(d.execution)})`,
  ];
  if (evidence.states !== undefined)
    lines.push('Evidence (the heartbeat module, when it decided):', ...pathLines(evidence));
  if (confirm)
    lines.push(
      `Confirmed: ${confirm.peerLost === true ? 'peer still lost' : 'peer not lost'} (${Object.entries(
        confirm.states ?? {},
      )
        .map(([p, st]) => `${p} ${st}`)
        .join(', ')})`,
    );
  if (gates.length > 0) lines.push(`Gates:    ${gateLine(gates)}`);
  if (fence)
    lines.push(
      `Fence:    epoch ${flat(fence.epoch)} written, ${flat(fence.fenced)} fenced; fence message on the network path: ${flat(fence.networkFence)}`,
    );
  // One line per action: what it acted on, what it did, how long it took (an Aurora writer takes minutes).
  if (actions.length === 0) lines.push('Actions:  none configured');
  else
    lines.push(
      'Actions:',
      ...actions.map(
        (a) =>
          `  ${flat(a.action)}${a.target === undefined ? '' : ` → ${a.target}`}${a.detail === undefined ? '' : `: ${flat(a.detail)}`}${a.tookMs === undefined ? '' : ` (${ms(a.tookMs)})`}`,
      ),
    );
  lines.push(`Timings:  ${[...steps, `decision to verified ${ms(d.decisionToVerifiedMs)}`].join(', ')}`);
  return lines;
}

const flat = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** A failed step's error as Step Functions caught it: the Lambda's own message when there is one. */
function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  const e = error as { Error?: unknown; Cause?: unknown };
  if (typeof e.Cause !== 'string') return flat(error);
  try {
    const cause = JSON.parse(e.Cause) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') return `${String(e.Error)}: ${cause.errorMessage}`;
  } catch {
    // not JSON: the cause is the message
  }
  return `${String(e.Error)}: ${e.Cause}`;
}

/**
 * The body a person reads in an e-mail or a pager app: what happened, where, since when,
 * the evidence, what mirrorbeat does next, and the commands to inspect and acknowledge.
 */
export function noticeText(n: Notice, id: string, runbookUrl?: string): string {
  const d = n.detail;
  const headline = headlineOf(n);
  const lines = [
    `${headline[0]?.toUpperCase() ?? ''}${headline.slice(1)}: ${n.cluster}, site ${n.site}${n.region === undefined ? '' : ` (${n.region})`}${n.path === undefined ? '' : `, ${n.path} path`}.`,
    '',
  ];
  if (n.folded !== undefined) {
    lines.push(
      `${n.folded.count} more "${n.kind}" notice${n.folded.count === 1 ? ' was' : 's were'} held back between ${iso(n.folded.firstAtMs)} and ${iso(n.folded.lastAtMs)} (rate limit: window ${n.folded.windowSeconds} s). The newest of them follows.`,
      '',
    );
  }
  lines.push(`At:       ${iso(n.atMs)}`, `Severity: ${severityOf(n)}`);
  if (d.verdict !== undefined)
    lines.push(
      `Verdict:  ${flat(d.verdict)}${d.previous !== undefined && n.path === undefined ? ` (was ${flat(d.previous)})` : ''}`,
    );
  if (n.path !== undefined && d.previous !== undefined) lines.push(`Path state was: ${flat(d.previous)}`);
  const paths = pathLines(d);
  if (paths.length > 0) lines.push('Paths (as this site sees its peer):', ...paths);
  if (d.peerReport !== undefined) {
    const r = d.peerReport as { health?: unknown; sentAt?: unknown; notice?: { kind?: unknown; detail?: unknown } };
    lines.push(
      `Peer reports: workload ${flat(r.health)} in its beat of ${flat(r.sentAt)}${r.notice === undefined ? '' : `: ${flat(r.notice.detail)}`}`,
    );
  }
  if (d.why !== undefined) lines.push(`Why:      ${flat(d.why)}`);
  const error = errorText(d.error);
  if (error !== undefined) lines.push(`Error:    ${error}`);
  if (typeof d.execution === 'string')
    lines.push(`Execution: ${d.execution}${typeof d.outcome === 'string' ? ` (${d.outcome})` : ''}`);
  if (Array.isArray(d.gates)) lines.push(`Gates:    ${gateLine(d.gates as GateCheck[])}`);
  if (typeof d.decision === 'object' && d.decision !== null)
    lines.push(...decisionLines(d.decision as Record<string, unknown>));
  for (const [key, value] of Object.entries(d)) {
    if (RENDERED.has(key) || value === undefined) continue;
    lines.push(`${key}: ${flat(value)}`.slice(0, 2000));
  }
  if (typeof d.next === 'string' && d.next !== '') lines.push('', `Next:     ${d.next}`);
  lines.push(
    '',
    `Inspect:     ${inspectCommand(n)}`,
    `Acknowledge: ${ackCommand(n, id)}`,
    `Runbook:     ${runbookUrl ?? RUNBOOK}`,
    `Notice id:   ${id}`,
  );
  return lines.join('\n');
}
