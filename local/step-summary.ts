/** How the timeline words a workflow step's result and an execution's outcome. */
import { ExecutionError } from 'aws-local-stepfunctions';

export function summarizeStep(step: string, result: Record<string, unknown>): string {
  switch (step) {
    case 'confirm':
      return result.peerLost === true ? 'peer still lost on every path' : 'peer is back';
    case 'gates':
      return `${result.passed === true ? 'passed' : 'blocked'}: ${((result.checks as { evidence: string }[] | undefined) ?? []).map((c) => c.evidence).join('; ')}`;
    case 'drain':
      return result.dryRun === true
        ? `would ${String(result.would)}`
        : `asked ${String(result.from)} to hand over at epoch ${String(result.epoch)}`;
    case 'check-drain':
      return result.drained === true
        ? 'the primary confirmed the handover'
        : result.expired === true
          ? String(result.detail)
          : 'waiting for the primary to hand over';
    case 'cancel-drain':
      return result.cancelled === true ? 'handover withdrawn' : 'no handover to withdraw';
    case 'fence':
      if (result.dryRun === true) return `would ${String(result.would)}`;
      if (result.alreadyFenced === true)
        return `epoch ${String(result.epoch)} already fenced${result.alreadyDone === true ? ' and verified: nothing to do' : '; resuming at promote'}`;
      return `epoch ${String(result.epoch)} written, ${String(result.fenced)} fenced; network fence ${String(result.networkFence)}`;
    case 'promote': {
      const done = ((result.actions as { action: string }[] | undefined) ?? []).map((a) => a.action).join(', ');
      const pending = result.pending as { action: string; detail: string } | undefined;
      if (pending !== undefined)
        return `promoting at epoch ${String(result.epoch)}: ${done || 'nothing'} done; ${pending.action} under way (${pending.detail})`;
      return `${result.dryRun === true ? 'would promote' : 'promoted'} at epoch ${String(result.epoch)} (${done || 'no actions'})`;
    }
    case 'verify':
      return result.ok === true
        ? 'cluster record confirmed'
        : `cluster record disagrees: ${JSON.stringify(result.cluster)}`;
    default:
      return JSON.stringify(result).slice(0, 120);
  }
}

export function outcomeOf(output: unknown): string {
  const o = output as Record<string, unknown>;
  if (o.dryRun === true) return 'drill complete';
  if ((o.fence as { result?: { alreadyDone?: boolean } } | undefined)?.result?.alreadyDone === true)
    return 'nothing to do (already promoted)';
  if (o.verify !== undefined) return o.kind === 'switchover' ? 'switched over' : 'promoted';
  if (o.confirm !== undefined && (o.confirm as { result?: { peerLost?: boolean } }).result?.peerLost === false)
    return 'aborted (peer back)';
  return 'succeeded';
}

/**
 * The error and cause of the Fail state an execution ended in, if it ended in one (aws-local-stepfunctions'
 * FailStateError).
 */
export function failStateOf(error: unknown): { error: string; cause: string } | undefined {
  if (!(error instanceof ExecutionError)) return undefined;
  const failed = error.cause;
  if (!(failed instanceof Error) || failed.constructor.name !== 'FailStateError') return undefined;
  return { error: failed.name, cause: failed.message };
}
