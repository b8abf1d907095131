import type { NoticeKind } from './notices';
import type { MetricPoint } from './emf';
import { MetricName, type SiteId } from './wire';

/**
 * Continuous failover readiness (a contract: `mirrorbeat readiness --json` prints a report): would a failover to this
 * site succeed now? Each check names what it looked at and why it passed or not. The scheduled check in each site
 * (lambdas/failover-steps/failover-readiness.ts) records the report in the site's view, where `status` reads it.
 */
export interface ReadinessCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly reason: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly site: SiteId;
  readonly atMs: number;
  readonly checks: readonly ReadinessCheck[];
}

/** The event the schedule and `mirrorbeat readiness` invoke the failover steps with. */
export const READINESS_EVENT = { readiness: 'check' } as const;

export function isReadinessEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as Record<string, unknown>).readiness === 'check';
}

export function reportOf(site: SiteId, atMs: number, checks: readonly ReadinessCheck[]): ReadinessReport {
  return { ready: checks.every((c) => c.ok), site, atMs, checks };
}

/** What the view records: the verdict, when it was reached, and only the checks that failed (an item stays small). */
export interface RecordedReadiness {
  readonly ready: boolean;
  readonly atMs: number;
  readonly failing: readonly ReadinessCheck[];
}

export function recordedReadiness(report: ReadinessReport): string {
  const failing = report.checks.filter((c) => !c.ok);
  return JSON.stringify({ ready: report.ready, atMs: report.atMs, failing } satisfies RecordedReadiness);
}

/** A recorded readiness value, or undefined when it is none (no check has run yet, or an unreadable value). */
export function parseReadiness(value: unknown): RecordedReadiness | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<RecordedReadiness> | null;
    if (typeof parsed?.ready !== 'boolean' || typeof parsed.atMs !== 'number' || !Array.isArray(parsed.failing))
      return undefined;
    return { ready: parsed.ready, atMs: parsed.atMs, failing: parsed.failing };
  } catch {
    return undefined;
  }
}

/**
 * The notice a new report calls for, given the one recorded before it: `readiness-failed` when a site that was ready
 * (or never checked) is not, `readiness-restored` when it is again. A report that fails for other reasons than the
 * last one says nothing new: the alarm stays raised and `status` shows the reasons.
 */
export function readinessChange(previous: RecordedReadiness | undefined, report: ReadinessReport): NoticeKind | null {
  if (!report.ready && (previous === undefined || previous.ready)) return 'readiness-failed';
  if (report.ready && previous !== undefined && !previous.ready) return 'readiness-restored';
  return null;
}

/** The metric the FailoverNotReady alarm watches: 1 ready, 0 not. */
export function readinessPoints(report: ReadinessReport): MetricPoint[] {
  return [{ name: MetricName.failoverReady, value: report.ready ? 1 : 0, unit: 'None' }];
}
