import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { WorkflowOutcome } from './workflow';

/** The input the console and the CLI give the failover state machine (docs/OPERATIONS.md). */
export interface FailoverRequest {
  readonly kind: 'failover' | 'switchover';
  readonly dryRun: boolean;
  readonly requestedBy: string;
  readonly reason: string;
}

/** The failover steps in the order a run reports them. */
const STEPS = [
  ['confirm', 'confirm'],
  ['drain', 'drain'],
  ['checkDrain', 'check-drain'],
  ['gates', 'gates'],
  ['fence', 'fence'],
  ['promote', 'promote'],
  ['verify', 'verify'],
] as const;

/**
 * What a failover, switchover or drill did, step by step: how long each handler took and what
 * it found or would have done. A drill says where a real run would have stopped.
 */
export function formatFailoverOutcome(request: FailoverRequest, outcome: WorkflowOutcome): string {
  const state = (outcome.output ?? {}) as Record<string, { result?: Record<string, unknown> } | undefined>;
  const lines = [
    `${request.dryRun ? `${request.kind} drill` : request.kind}: ${outcome.status}${outcome.tookMs === undefined ? '' : ` in ${(outcome.tookMs / 1000).toFixed(1)} s`}`,
  ];
  for (const [key, step] of STEPS) {
    const result = state[key]?.result;
    if (result === undefined) continue;
    const took = typeof result.tookMs === 'number' ? `${result.tookMs} ms` : '';
    lines.push(`  ${step.padEnd(12)}${took.padStart(8)}  ${describeStep(step, result, request.dryRun)}`);
  }
  if (outcome.status !== 'SUCCEEDED') lines.push(`  ${outcome.error ?? ''}: ${outcome.cause ?? ''}`.slice(0, 600));
  lines.push(`  execution: ${outcome.executionArn}`);
  return lines.join('\n');
}

function describeStep(step: string, r: Record<string, unknown>, dryRun: boolean): string {
  switch (step) {
    case 'confirm': {
      const states = Object.entries((r.states as Record<string, string> | undefined) ?? {})
        .map(([p, s]) => `${p} ${s}`)
        .join(', ');
      if (r.peerLost === true) return `peer lost (${states})`;
      return `peer alive (${states})${dryRun ? ': a real failover would abort here' : ': aborted'}`;
    }
    case 'gates':
      return `${r.passed === true ? 'passed' : 'BLOCKED'}: ${((r.checks as { evidence: string }[] | undefined) ?? []).map((c) => c.evidence).join('; ')}`;
    case 'drain':
      return r.dryRun === true
        ? `would ${String(r.would)}`
        : `asked ${String(r.from)} to hand over at epoch ${String(r.epoch)}`;
    case 'check-drain':
      return r.drained === true
        ? 'the primary confirmed it stopped'
        : typeof r.detail === 'string'
          ? r.detail
          : 'waiting';
    case 'fence':
      if (r.dryRun === true) return `would ${String(r.would)}`;
      return r.alreadyFenced === true
        ? `epoch ${String(r.epoch)} was fenced before`
        : `epoch ${String(r.epoch)} written, ${String(r.fenced)} fenced; network fence ${String(r.networkFence)}`;
    case 'promote': {
      const actions = ((r.actions as { action: string; target: string; detail: string }[] | undefined) ?? []).map(
        (a) => `${a.action} (${a.detail})`,
      );
      const pending = r.pending as { action: string; detail: string } | undefined;
      if (pending !== undefined)
        return `${actions.length === 0 ? '' : `took: ${actions.join(', ')}; `}under way: ${pending.action} (${pending.detail})`;
      return `${r.dryRun === true ? 'would take' : 'took'}: ${actions.join(', ') || 'no actions configured'}`;
    }
    case 'verify':
      return r.ok === true ? 'cluster record as expected' : `cluster record disagrees: ${JSON.stringify(r.cluster)}`;
    default:
      return '';
  }
}

/** A failover execution waiting for its approval, and the token that answers it. */
export interface PendingApproval {
  readonly executionArn: string;
  readonly name: string;
  readonly taskToken: string;
}

/**
 * Finds the failover execution that waits for approval: the newest running one (or the one
 * named) whose latest scheduled task is the approval and has not been answered. The token
 * is in that task's parameters, so nobody has to copy it out of an e-mail.
 */
export async function findPendingApproval(
  sfn: SFNClient,
  stateMachineArn: string,
  executionName?: string,
): Promise<PendingApproval | undefined> {
  const running = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 20 }),
  );
  const candidates = (running.executions ?? [])
    .filter((e) => executionName === undefined || e.name === executionName)
    .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0));
  for (const execution of candidates) {
    if (execution.executionArn === undefined) continue;
    const history = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: execution.executionArn,
        reverseOrder: true,
        maxResults: 50,
        includeExecutionData: true,
      }),
    );
    const token = waitingToken(history.events ?? []);
    if (token !== undefined)
      return { executionArn: execution.executionArn, name: execution.name ?? '', taskToken: token };
  }
  return undefined;
}

/** Newest first: the approval task's token, unless a later event already answered it. */
function waitingToken(newestFirst: readonly HistoryEvent[]): string | undefined {
  for (const event of newestFirst) {
    if (
      event.type === 'TaskSucceeded' ||
      event.type === 'TaskFailed' ||
      event.type === 'TaskTimedOut' ||
      event.type === 'TaskStateExited'
    )
      return undefined;
    const scheduled = event.taskScheduledEventDetails;
    // The approval request is the step handler's notify step, invoked with the token in its payload.
    if (event.type === 'TaskScheduled' && scheduled?.resource === 'invoke.waitForTaskToken') {
      const parameters = JSON.parse(scheduled.parameters ?? '{}') as { Payload?: unknown };
      const payload =
        typeof parameters.Payload === 'string'
          ? (JSON.parse(parameters.Payload) as Record<string, unknown>)
          : (parameters.Payload as Record<string, unknown> | undefined);
      return typeof payload?.taskToken === 'string' ? payload.taskToken : undefined;
    }
  }
  return undefined;
}

export async function answerApproval(
  sfn: SFNClient,
  pending: PendingApproval,
  decision: 'approve' | 'reject',
  by: string,
  reason: string,
): Promise<void> {
  if (decision === 'approve') {
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: pending.taskToken, output: JSON.stringify({ approvedBy: by, reason }) }),
    );
  } else {
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken: pending.taskToken,
        error: 'Rejected',
        cause: `rejected by ${by}: ${reason}`,
      }),
    );
  }
}
