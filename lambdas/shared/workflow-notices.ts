import { type Notice, type NoticeKind, noticeId } from '../core/notices';
import { executionName, StepError, type StepInput } from '../core/steps';
import { PATHS } from '../core/wire';
import type { NoticeDesk } from './notifier';
import type { Settings } from './settings';

/** The step every notify state of the workflows runs, the approval request too (it waits for its token). */
export const NOTIFY_STEP = 'notify';

/**
 * What a workflow's notify state reports. Each outcome has its notice kind (the SNS topic
 * follows from the kind) and tells the reader what happens next.
 */
export const WORKFLOW_OUTCOMES = {
  'failover-started': {
    kind: 'failover-started',
    next: 'confirm, gates, fence, promote, verify follow; a notice says how it ended',
  },
  'awaiting-approval': {
    kind: 'failover-started',
    headline: 'failover awaits approval',
    next: 'nothing changes until someone approves or rejects; without an answer the failover is abandoned when the approval times out',
  },
  aborted: {
    kind: 'failover-aborted',
    headline: 'failover aborted, nothing changed',
    next: 'nothing changed: no fence was written and the primary stays primary',
  },
  'gates-blocked': {
    kind: 'failover-aborted',
    headline: 'failover blocked by a gate',
    next: 'nothing changed; when the gate clears, start the failover by hand (npx mirrorbeat failover), which the cooldown does not bind',
  },
  'switchover-withdrawn': {
    kind: 'failover-aborted',
    headline: 'switchover withdrawn, the primary did not hand over',
    next: 'the handover was withdrawn and the primary resumes; check its heartbeat module, then run the switchover again',
  },
  // A refused command, not a failover decision: nothing changed, the roles stand (warning).
  'switchover-refused': {
    kind: 'command-refused',
    headline: 'switchover refused',
    next: 'nothing changed; run the command the error names instead',
  },
  failed: {
    kind: 'failover-aborted',
    headline: 'failover FAILED, check the cluster record',
    next: 'if the error came after the fence, the cluster record names this site at the new epoch: start the failover again to finish the promotion (it resumes where it stopped)',
  },
  promoted: {
    kind: 'promoted',
    next: 'this site is primary; the old primary demotes itself when it next reads the record or the fence beat; fail back later with npx mirrorbeat switchover',
  },
  'switchover-started': {
    kind: 'switchover-started',
    next: 'the primary is asked to hand over; once it confirms it stopped: gates, fence, promote, verify; switchover-completed says when this site acts as primary',
  },
  'switchover-completed': {
    kind: 'switchover-completed',
    next: 'this site is primary; to hand back, run npx mirrorbeat switchover again',
  },
  'path-activated': { kind: 'path-activated', next: 'the path counts on both sites from their next ticks' },
  'path-deactivated': {
    kind: 'path-deactivated',
    next: 'the path no longer counts on either site; activate it again after the maintenance',
  },
  'command-refused': {
    kind: 'command-refused',
    next: 'nothing changed (a partly applied command was rolled back); see the error, then try again',
  },
} as const satisfies Record<string, { kind: NoticeKind; next: string; headline?: string }>;
export type WorkflowOutcome = keyof typeof WORKFLOW_OUTCOMES;

export interface NotifyDeps {
  readonly settings: Pick<Settings, 'site' | 'peer' | 'region' | 'cluster'>;
  readonly notices: Pick<NoticeDesk, 'announce'>;
  readonly now: () => number;
}

/** The notify step's own part of the payload: which outcome, from which state. */
interface NotifyField {
  readonly outcome: WorkflowOutcome;
  readonly at: string;
}

function notifyField(event: StepInput): NotifyField {
  const notify = (event as StepInput & { notify?: Partial<NotifyField> }).notify;
  if (
    notify === undefined ||
    typeof notify.outcome !== 'string' ||
    !(notify.outcome in WORKFLOW_OUTCOMES) ||
    typeof notify.at !== 'string'
  ) {
    throw new StepError(
      'InvalidInput',
      `notify: expected { outcome, at } with outcome one of ${Object.keys(WORKFLOW_OUTCOMES).join(', ')}`,
    );
  }
  return notify as NotifyField;
}

const resultOf = (state: Readonly<Record<string, unknown>>, key: string) =>
  (state[key] as { result?: Record<string, unknown> } | undefined)?.result;

/** The evidence a person needs for each outcome, picked from the execution state. */
function detailOf(
  outcome: WorkflowOutcome,
  state: Readonly<Record<string, unknown>>,
  taskToken: unknown,
  deps: NotifyDeps,
): Record<string, unknown> {
  const { site, region } = deps.settings;
  const asked = {
    reason: state.reason ?? null,
    requestedBy: state.requestedBy ?? 'operator',
    ...(state.kind === undefined ? {} : { kind: state.kind }),
  };
  const evidence = (state.evidence ?? {}) as Record<string, unknown>;
  const error = state.error === undefined ? {} : { error: state.error };
  switch (outcome) {
    case 'switchover-started':
      return { ...asked, from: deps.settings.peer, to: site };
    case 'failover-started':
      return {
        ...asked,
        expectedEpoch: state.expectedEpoch ?? null,
        from: state.from ?? deps.settings.peer,
        to: site,
        ...pick(evidence, ['verdict', 'states', 'phi', 'deadlineMs', 'peerHealth']),
      };
    case 'awaiting-approval':
      return {
        ...asked,
        why: 'failoverMode is approval: an automatic failover waits for a person',
        approve: `npx mirrorbeat approve --site ${site} --region ${region}`,
        reject: `npx mirrorbeat reject --site ${site} --region ${region}`,
        confirm: resultOf(state, 'confirm') ?? null,
        gates: resultOf(state, 'gates') ?? null,
        taskToken,
      };
    case 'aborted': {
      const confirm = resultOf(state, 'confirm');
      const why =
        state.error !== undefined
          ? 'the approval was rejected or timed out'
          : `the peer beats again on ${PATHS.filter((p) => ['healthy', 'suspect'].includes(String((confirm?.states as Record<string, string> | undefined)?.[p]))).join(' and ') || 'a path'}`;
      return {
        ...asked,
        why,
        ...(confirm === undefined ? {} : { states: confirm.states, lastValidBeatAgeMs: confirm.beatAgesMs }),
        ...error,
      };
    }
    case 'gates-blocked': {
      const checks = (resultOf(state, 'gates')?.checks ?? []) as {
        gate?: string;
        passed?: boolean;
        evidence?: unknown;
      }[];
      return {
        ...asked,
        why:
          checks
            .filter((c) => c.passed === false)
            .map(
              (c) => `${c.gate ?? 'gate'}: ${typeof c.evidence === 'string' ? c.evidence : JSON.stringify(c.evidence)}`,
            )
            .join('; ') || 'a gate did not pass',
        gates: checks,
      };
    }
    case 'switchover-withdrawn': {
      const detail = resultOf(state, 'checkDrain')?.detail;
      return {
        ...asked,
        why: typeof detail === 'string' ? detail : 'the primary did not confirm the handover in time',
        drain: resultOf(state, 'drain') ?? null,
      };
    }
    case 'switchover-refused':
    case 'failed':
      return { ...asked, ...error };
    case 'command-refused':
      return { ...asked, ...error, changes: changesIn(state) };
    case 'promoted':
    case 'switchover-completed':
      return { decision: resultOf(state, 'verify')?.decision ?? null };
    case 'path-activated':
    case 'path-deactivated':
      return {
        changes: changesIn(state),
        requestedBy: state.requestedBy ?? 'operator',
        reason: state.reason ?? null,
        acknowledged: resultOf(state, 'ack') ?? null,
      };
  }
}

/** What a path-control input asked for, as typed (it may be malformed: the notice of a refusal says so). */
function changesIn(state: Readonly<Record<string, unknown>>): string {
  const asked =
    state.path !== undefined || state.action !== undefined
      ? [`${String(state.path)} ${String(state.action)}`]
      : PATHS.filter((p) => state[p] !== undefined).map((p) => `${p} ${String(state[p])}`);
  return asked.join(', ') || 'nothing';
}

function pick(from: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));
}

/**
 * The notify step: one notice through the site's desk (journal, SNS, the same subject and
 * body as the heartbeat module's). Its id is the execution's and the state's, so a retried
 * step never sends the notice twice.
 */
export async function runNotifyStep(input: StepInput, deps: NotifyDeps): Promise<Record<string, unknown>> {
  const { outcome, at } = notifyField(input);
  const described: { kind: NoticeKind; next: string; headline?: string } = WORKFLOW_OUTCOMES[outcome];
  const { kind, next } = described;
  const { settings } = deps;
  const state = input.state;
  // A command on one path is that path's notice; one on both paths is the cluster's.
  const named = PATHS.filter((p) => state.path === p || (state.path === undefined && state[p] !== undefined));
  const path = named.length === 1 ? named[0] : undefined;
  const nowMs = deps.now();
  const startedAtMs =
    typeof input.startedAt === 'string' && Number.isFinite(Date.parse(input.startedAt))
      ? Date.parse(input.startedAt)
      : nowMs;
  const notice: Notice = {
    kind,
    site: settings.site,
    region: settings.region,
    cluster: settings.cluster,
    ...(path === undefined ? {} : { path }),
    ...(described.headline === undefined ? {} : { headline: described.headline }),
    atMs: nowMs,
    detail: {
      outcome,
      execution: executionName(input.execution),
      ...detailOf(outcome, state, (input as StepInput & { taskToken?: unknown }).taskToken, deps),
      next,
    },
  };
  const id = noticeId({ kind, path, atMs: startedAtMs }, `${executionName(input.execution)}.${at}`);
  const { outcome: delivery } = await deps.notices.announce(notice, nowMs, id);
  return { notice: id, kind, delivery, ...failureOf(state, notice.detail) };
}

/**
 * The error and cause a failed execution ends with (its Fail state reads them): the step's own
 * message, which names the field and the fix, rather than "see the notice".
 */
export function failureOf(
  state: Readonly<Record<string, unknown>>,
  detail: Readonly<Record<string, unknown>>,
): { error: string; cause: string } {
  const caught = state.error as { Error?: unknown; Cause?: unknown } | undefined;
  let cause = typeof detail.why === 'string' ? detail.why : undefined;
  if (typeof caught?.Cause === 'string') {
    // A Lambda step's error arrives as {"errorType", "errorMessage", "trace"}; anything else as text.
    try {
      const parsed = JSON.parse(caught.Cause) as { errorMessage?: unknown };
      cause = typeof parsed.errorMessage === 'string' ? parsed.errorMessage : caught.Cause;
    } catch {
      cause = caught.Cause;
    }
  }
  return {
    error: typeof caught?.Error === 'string' ? caught.Error : String(detail.outcome),
    cause: (cause ?? String(detail.next)).slice(0, 32_000),
  };
}
