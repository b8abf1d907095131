import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { PathId } from '../../lambdas/core/wire';

/** The path-control input: one path and its action, or one action per path (both switched with one acknowledgement). */
export type PathRequest = (
  | { readonly path: PathId; readonly action: 'activate' | 'deactivate' }
  | Partial<Record<PathId, 'activate' | 'deactivate'>>
) & { readonly reason: string; readonly force: boolean };

export interface WorkflowOutcome {
  readonly executionArn: string;
  readonly status: string;
  readonly output: unknown;
  /** Wall time from start to end, when it ended. */
  readonly tookMs?: number;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * Starts a workflow with the console's input and follows it to its end, as an operator
 * watching the console would: the result is the workflow's, not the CLI's.
 */
export async function runWorkflow(
  sfn: SFNClient,
  stateMachineArn: string,
  request: object,
  options: {
    readonly name: string;
    readonly pollMs?: number;
    readonly timeoutMs?: number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly onStatus?: (status: string) => void;
  },
): Promise<WorkflowOutcome> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name: options.name, input: JSON.stringify(request) }),
  );
  const executionArn = started.executionArn ?? '';
  const deadline = Date.now() + (options.timeoutMs ?? 16 * 60_000);
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const status = d.status ?? 'UNKNOWN';
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      const tookMs = d.startDate && d.stopDate ? d.stopDate.getTime() - d.startDate.getTime() : undefined;
      return {
        executionArn,
        status,
        output: d.output === undefined ? null : (JSON.parse(d.output) as unknown),
        ...(tookMs === undefined ? {} : { tookMs }),
        ...(d.error ? { error: d.error } : {}),
        ...(d.cause ? { cause: d.cause } : {}),
      };
    }
    options.onStatus?.(status);
    if (Date.now() > deadline)
      return {
        executionArn,
        status,
        output: null,
        error: 'Timeout',
        cause: 'the execution is still running; follow it in the Step Functions console',
      };
    await sleep(options.pollMs ?? 2_000);
  }
}
