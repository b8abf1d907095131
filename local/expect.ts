import { z } from 'zod';
import { NOTICE_KINDS } from '../lambdas/core/notices';
import { PATHS, SITE_IDS } from '../lambdas/core/wire';
import type { Report } from './report';

/**
 * What a run is expected to show (a contract: the scenario file's `expect` key, and a game day's
 * expectations): `simulate` judges its report by them and adds the verdict. One definition judges the
 * local runtime and, later, a real account's game day.
 */

const count = z.number({ error: 'a whole number, 0 or more' }).int('a whole number, 0 or more').min(0, '0 or more');
const ms = z
  .number({ error: 'a whole number of milliseconds, 0 or more' })
  .int('a whole number of milliseconds')
  .min(0, '0 or more');
/** The fields a notification is matched on; each given one must be equal. */
const notificationMatch = z.strictObject({
  kind: z.enum(NOTICE_KINDS, { error: `a notification kind: ${NOTICE_KINDS.join(', ')}` }),
  site: z.enum(SITE_IDS, { error: 'production or standby' }).optional(),
  path: z.enum(PATHS, { error: 'network or storage' }).optional(),
  severity: z.enum(['info', 'warning', 'critical'], { error: 'info, warning or critical' }).optional(),
});

const shapes = {
  failovers: count,
  promotions: count,
  maxSimultaneousPrimaries: count,
  finalPrimary: z.enum([...SITE_IDS, 'none'], { error: 'production, standby or none' }),
  noPrimaryMsMax: ms,
  detectionMsMax: ms,
  notification: notificationMatch,
  noNotification: notificationMatch,
} as const;

export type ExpectKey = keyof typeof shapes;
export const EXPECT_KEYS = Object.keys(shapes) as ExpectKey[];
type NotificationMatch = z.infer<typeof notificationMatch>;
export type Expectation = { [K in ExpectKey]: { [P in K]: z.infer<(typeof shapes)[P]> } }[ExpectKey];

/** One expectation: an object with exactly one of the keys above. */
export const expectation = z.unknown().transform((value, ctx): Expectation => {
  const v = value as Record<string, unknown> | null;
  const keys = typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v) : [];
  if (keys.length !== 1 || !EXPECT_KEYS.includes(keys[0] as ExpectKey)) {
    ctx.addIssue({ code: 'custom', message: `an object with one key of ${EXPECT_KEYS.join(', ')}` });
    return z.NEVER;
  }
  const key = keys[0] as ExpectKey;
  const parsed = shapes[key].safeParse((v as Record<string, unknown>)[key]);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({
        code: 'custom',
        path: [key, ...issue.path],
        message:
          issue.code === 'unrecognized_keys'
            ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}; a notification matches on kind, site, path and severity`
            : issue.message,
      });
    return z.NEVER;
  }
  return { [key]: parsed.data } as Expectation;
});

export interface Verdict {
  readonly passed: boolean;
  /** One line per expectation the run did not meet: what was expected and what the run showed. */
  readonly failed: string[];
}

type Judged = Omit<Report, 'verdict'>;

const matches = (n: Judged['notifications'][number], m: NotificationMatch): boolean =>
  n.kind === m.kind &&
  (m.site === undefined || n.site === m.site) &&
  (m.path === undefined || n.path === m.path) &&
  (m.severity === undefined || n.severity === m.severity);

const describe = (m: NotificationMatch): string =>
  [
    m.kind,
    m.severity,
    m.site === undefined ? undefined : `at ${m.site}`,
    m.path === undefined ? undefined : `on ${m.path}`,
  ]
    .filter((part) => part !== undefined)
    .join(' ');

/** The sites acting as primary when the run ended, by the primary timeline's last word on each. */
export function actingAtEnd(report: Judged): string[] {
  const last = new Map<string, boolean>();
  for (const entry of report.primaryTimeline) last.set(entry.site, entry.acting);
  return [...last].filter(([, acting]) => acting).map(([site]) => site);
}

/** Judges one expectation; undefined when the run meets it, else the line that says how it did not. */
function judgeOne(report: Judged, e: Expectation): string | undefined {
  if ('failovers' in e)
    return report.failovers.length === e.failovers
      ? undefined
      : `failovers: expected ${e.failovers}, the run started ${report.failovers.length}`;
  if ('promotions' in e) {
    const promoted = report.failovers.filter((f) => f.promotedAtMs !== null).length;
    return promoted === e.promotions ? undefined : `promotions: expected ${e.promotions}, the run promoted ${promoted}`;
  }
  if ('maxSimultaneousPrimaries' in e)
    return report.maxSimultaneousPrimaries <= e.maxSimultaneousPrimaries
      ? undefined
      : `maxSimultaneousPrimaries: expected at most ${e.maxSimultaneousPrimaries}, the run had ${report.maxSimultaneousPrimaries}`;
  if ('finalPrimary' in e) {
    const acting = actingAtEnd(report);
    const final = acting.length === 0 ? 'none' : acting.join(' and ');
    return final === e.finalPrimary
      ? undefined
      : `finalPrimary: expected ${e.finalPrimary}, at the end acting: ${final}`;
  }
  if ('noPrimaryMsMax' in e)
    return report.noPrimaryMs <= e.noPrimaryMsMax
      ? undefined
      : `noPrimaryMsMax: expected at most ${e.noPrimaryMsMax} ms without a primary, the run had ${report.noPrimaryMs} ms`;
  if ('detectionMsMax' in e)
    return report.detectionMs !== null && report.detectionMs <= e.detectionMsMax
      ? undefined
      : `detectionMsMax: expected a failover decision within ${e.detectionMsMax} ms of the first fatal fault, ${report.detectionMs === null ? 'the run made none' : `the run took ${report.detectionMs} ms`}`;
  if ('notification' in e)
    return report.notifications.some((n) => matches(n, e.notification))
      ? undefined
      : `notification: expected ${describe(e.notification)}, none was sent`;
  const sent = report.notifications.filter((n) => matches(n, e.noNotification));
  return sent.length === 0
    ? undefined
    : `noNotification: expected no ${describe(e.noNotification)}, ${sent.length} sent (the first at ${sent[0]?.atMs} ms)`;
}

/** The verdict on a run: every expectation it did not meet, in the order they were written. */
export function judge(report: Judged, expectations: readonly Expectation[]): Verdict {
  const failed = expectations.map((e) => judgeOne(report, e)).filter((line) => line !== undefined);
  return { passed: failed.length === 0, failed };
}
