/** Input of a workflow step handler, as the state machines send it. */
export interface StepInput {
  readonly step: string;
  readonly execution: string;
  readonly state: Record<string, unknown>;
  /** When the execution started (ISO-8601), for timings. */
  readonly startedAt?: string;
}

/** An error a workflow catches by name; its message says what was wrong and how to fix it. */
export class StepError extends Error {
  constructor(
    override readonly name: 'InvalidInput' | 'CommandRefused' | 'FenceConflict' | 'Transient',
    message: string,
  ) {
    super(message);
  }
}

export function parseStepInput(event: unknown, steps: readonly string[]): StepInput {
  const e = event as Partial<StepInput> | null;
  if (typeof e !== 'object' || e === null)
    throw new StepError('InvalidInput', 'event: expected { step, execution, state } from the state machine');
  if (typeof e.step !== 'string' || !steps.includes(e.step))
    throw new StepError('InvalidInput', `step: got ${JSON.stringify(e.step)}; allowed: ${steps.join(', ')}`);
  if (typeof e.execution !== 'string') throw new StepError('InvalidInput', 'execution: expected the execution ARN');
  if (typeof e.state !== 'object' || e.state === null || Array.isArray(e.state))
    throw new StepError('InvalidInput', 'state: expected the execution state object');
  return e as StepInput;
}

/** Last segment of an execution ARN, a stable id for what this execution does. */
export const executionName = (arn: string): string => arn.split(':').pop() ?? arn;

/** The result one step left in the execution state at `$.<step>.result`. */
export function resultOf(input: StepInput, step: string): Record<string, unknown> | undefined {
  return (input.state[step] as { result?: Record<string, unknown> } | undefined)?.result;
}

/**
 * The execution input may hold only `inputKeys` (what a person types) and the results the
 * workflow's own steps left (`resultKeys`): anything else is a typo, refused with the fix.
 */
export function refuseUnknownKeys(
  state: Readonly<Record<string, unknown>>,
  inputKeys: readonly string[],
  resultKeys: readonly string[],
  example: string,
): void {
  const unknown = Object.keys(state).filter((k) => !inputKeys.includes(k) && !resultKeys.includes(k));
  if (unknown.length > 0)
    throw new StepError(
      'InvalidInput',
      `${unknown.join(', ')}: not a key of this input; allowed: ${inputKeys.join(', ')}, such as ${example}`,
    );
}

/** The console input of the failover workflow, as its Comment and its errors show it. */
export const FAILOVER_EXAMPLE = '{"kind": "failover", "dryRun": true, "reason": "game day"}';

/** The console input of the path-control workflow, as its Comment and its errors show it. */
export const PATH_CONTROL_EXAMPLE =
  '{"path": "network", "action": "deactivate", "reason": "maintenance"} or {"network": "activate", "storage": "deactivate", "reason": "..."}';
