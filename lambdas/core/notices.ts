import type { PathId, SiteId } from './wire';

/** Notice kinds of DESIGN.md (contract): the `kind` field and the SNS message attribute `kind`. */
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
  'switchover-completed',
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];
export type Severity = 'warning' | 'critical';

/** Kinds that page: the site is gone, unwatched, or its role changed. The rest inform. */
const CRITICAL: ReadonlySet<NoticeKind> = new Set<NoticeKind>(['peer-lost', 'unprotected', 'failover-started', 'failover-aborted', 'promoted', 'demoted']);

export const severityOf = (kind: NoticeKind): Severity => (CRITICAL.has(kind) ? 'critical' : 'warning');

export interface Notice {
  readonly kind: NoticeKind;
  /** The site that raised the notice. */
  readonly site: SiteId;
  readonly cluster: string;
  readonly path?: PathId;
  readonly atMs: number;
  /** What a person needs to act: states, ages, verdict, what happens next. */
  readonly detail: Readonly<Record<string, unknown>>;
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
  'switchover-completed': 'switchover completed',
};

/** The subject a pager shows (SNS allows 100 characters). */
export function noticeSubject(n: Notice): string {
  const where = n.path === undefined ? n.site : `${n.site}, ${n.path} path`;
  return `mirrorbeat ${n.cluster}: ${HEADLINE[n.kind]} (${where})`.slice(0, 100);
}

/** The message body: one JSON document people and subscribers can both read. */
export function noticeBody(n: Notice): string {
  return JSON.stringify({ kind: n.kind, cluster: n.cluster, site: n.site, ...(n.path === undefined ? {} : { path: n.path }), at: new Date(n.atMs).toISOString(), ...n.detail, inspect: 'npx mirrorbeat status' }, null, 2);
}
