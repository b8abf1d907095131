// Starting the standby's failover workflow (FailoverStarter): one attempt at a time, a failed one tried again at once,
// one that ended on a decision not before DECIDED_RETRY_MS. Step Functions is mocked: it has no local service here.
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { TakeoverDecision } from '../../../lambdas/core/lease';
import type { SiteCore } from '../../../lambdas/core/site';
import { INITIAL_CLUSTER } from '../../../lambdas/core/volume';
import type { ModuleDeps } from '../../../lambdas/heartbeat-module/deps';
import { DECIDED_RETRY_MS, FailoverStarter } from '../../../lambdas/heartbeat-module/failover-start';
import { standbySettings } from '../../helpers';

const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:us-west-2:111122223333:stateMachine:failover';
const NOW = Date.parse('2026-12-07T12:00:00.000Z');
const decision = { start: true, reason: 'peer-lost', gated: true, expectedLease: 41 } as const;
const exists = () => new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });

/** Step Functions' answers to StartExecution, in order: an execution ARN, no answer at all, or an error. */
function starts(...answers: (string | undefined | Error)[]): void {
  sfn.on(StartExecutionCommand).callsFake(async () => {
    if (answers.length === 0) throw new Error('no answer left in this test');
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    return answer === undefined ? undefined : { executionArn: answer };
  });
}

function harness(over: { arn?: string | undefined; settings?: Record<string, unknown> } = {}) {
  const logs: { message: string; detail: unknown }[] = [];
  const started: [number, number][] = [];
  const core = { failoverStarted: (epoch: number, mono: number) => started.push([epoch, mono]) } as unknown as SiteCore;
  const deps = {
    settings: standbySettings(over.settings),
    sfn: new SFNClient({ region: 'us-west-2' }),
    failoverStateMachineArn: 'arn' in over ? over.arn : ARN,
    log: (_level: string, message: string, detail: unknown) => logs.push({ message, detail }),
  } as unknown as ModuleDeps;
  const starter = new FailoverStarter(deps, core);
  const start = (mono: number, cluster = INITIAL_CLUSTER, d: Extract<TakeoverDecision, { start: true }> = decision) =>
    starter.start(cluster, d, { lastSerials: { network: 9 } }, NOW + mono, mono);
  const names = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
  const messages = () => logs.map((l) => l.message);
  return { starter, start, started, logs, names, messages };
}

beforeEach(() => sfn.reset());

describe('the failover starter', () => {
  it('starts nothing without a workflow or in manual failover mode', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    expect(await harness({ arn: undefined }).start(0)).toBe(false);
    expect(await harness({ settings: { failoverMode: 'manual' } }).start(0)).toBe(false);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('starts one attempt named for the next epoch, with the renewal it saw, and opens the core’s retry window', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    const { start, started, logs } = harness();
    expect(await start(5_000)).toBe(true);
    const call = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(call?.stateMachineArn).toBe(ARN);
    expect(call?.name).toBe(`failover-e2-${NOW + 5_000}`);
    expect(JSON.parse(call?.input ?? '{}')).toEqual({
      reason: 'peer-lost',
      requestedBy: 'heartbeat-module',
      expectedEpoch: 1,
      gated: true,
      expectedLease: 41,
      from: 'production',
      to: 'standby',
      evidence: { lastSerials: { network: 9 } },
    });
    expect(started).toEqual([[1, 5_000]]);
    expect(logs).toEqual([{ message: 'peer-lost: failover started', detail: { epoch: 2, execution: call?.name } }]);
  });

  it('names no renewal when the decision saw none', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    const { start } = harness();
    await start(0, INITIAL_CLUSTER, { start: true, reason: 'peer-lost', gated: false });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).not.toHaveProperty('expectedLease');
    expect(input.gated).toBe(false);
  });

  it('leaves the next tick to try again when the start fails, and says why unless the execution already exists', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('throttled'));
    const failing = harness();
    expect(await failing.start(0)).toBe(false);
    expect(failing.started).toEqual([]);
    expect(failing.logs).toEqual([{ message: 'failover not started', detail: { error: 'Error: throttled' } }]);
    sfn.reset();
    sfn.on(StartExecutionCommand).rejects(exists());
    const twin = harness();
    expect(await twin.start(0)).toBe(false);
    expect(twin.started).toEqual([]);
    expect(twin.logs).toEqual([]);
  });

  it('while its attempt still runs, starts no second one and restarts the window', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    const { start, started, names } = harness();
    await start(0);
    expect(await start(7_000)).toBe(false);
    // The same name and input asked again: Step Functions answers as before while it runs.
    expect(names()).toEqual([`failover-e2-${NOW}`, `failover-e2-${NOW}`]);
    expect(sfn.commandCalls(StartExecutionCommand)[1]?.args[0].input).toEqual(
      sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input,
    );
    expect(started).toEqual([
      [1, 0],
      [1, 7_000],
    ]);
  });

  it('tries again at once after an attempt that failed on a step’s error, and says so', async () => {
    starts('arn:exec', exists(), 'arn:2');
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'FAILED', error: 'States.TaskFailed', cause: 'fence timed out' });
    const { start, names, logs } = harness();
    await start(0);
    expect(await start(7_000)).toBe(true);
    expect(names()).toEqual([`failover-e2-${NOW}`, `failover-e2-${NOW}`, `failover-e2-${NOW + 7_000}`]);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({ executionArn: 'arn:exec' });
    expect(logs).toContainEqual({
      message: 'failover attempt failed: trying again',
      detail: { error: 'States.TaskFailed', cause: 'fence timed out' },
    });
  });

  it.each([
    ['a gate that refused', { status: 'FAILED', error: 'GatesBlocked' }],
    ['a refusal', { status: 'FAILED', error: 'Refused' }],
    ['a refused switchover', { status: 'FAILED', error: 'SwitchoverRefused' }],
    ['a promotion', { status: 'SUCCEEDED' }],
    ['an abort', { status: 'ABORTED' }],
  ] as const)('after %s, waits DECIDED_RETRY_MS from the attempt', async (_what, ended) => {
    starts('arn:exec', exists(), exists(), 'arn:2');
    sfn.on(DescribeExecutionCommand).resolves(ended);
    const { start, messages, names } = harness();
    await start(0);
    expect(await start(DECIDED_RETRY_MS - 1)).toBe(false);
    // Counted from the attempt's start, not from the last check.
    expect(await start(DECIDED_RETRY_MS)).toBe(true);
    expect(names()).toEqual([
      `failover-e2-${NOW}`,
      `failover-e2-${NOW}`,
      `failover-e2-${NOW}`,
      `failover-e2-${NOW + DECIDED_RETRY_MS}`,
    ]);
    expect(messages()).not.toContain('failover attempt failed: trying again');
  });

  it('counts an ended attempt whose description is missing or unreadable as decided', async () => {
    starts('arn:exec', exists());
    sfn.on(DescribeExecutionCommand).resolves(undefined as never);
    const silent = harness();
    await silent.start(0);
    expect(await silent.start(1_000)).toBe(false);
    expect(silent.messages()).not.toContain('failover attempt not described');

    sfn.reset();
    starts('arn:exec', exists(), exists(), 'arn:2');
    sfn.on(DescribeExecutionCommand).rejects(new Error('AccessDenied'));
    const denied = harness();
    await denied.start(0);
    expect(await denied.start(1_000)).toBe(false);
    expect(denied.logs).toContainEqual({
      message: 'failover attempt not described',
      detail: { error: 'Error: AccessDenied' },
    });
    expect(await denied.start(DECIDED_RETRY_MS)).toBe(true);
  });

  it('without the attempt’s execution ARN, waits DECIDED_RETRY_MS and describes nothing', async () => {
    starts(undefined, exists(), exists(), 'arn:2');
    const { start } = harness();
    expect(await start(0)).toBe(true);
    expect(await start(DECIDED_RETRY_MS - 1)).toBe(false);
    expect(await start(DECIDED_RETRY_MS)).toBe(true);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('starts nothing when it cannot tell whether its attempt still runs', async () => {
    starts('arn:exec', new Error('network down'));
    const { start, logs, started } = harness();
    await start(0);
    expect(await start(DECIDED_RETRY_MS * 2)).toBe(false);
    expect(logs).toContainEqual({ message: 'failover attempt not checked', detail: { error: 'Error: network down' } });
    expect(started).toEqual([
      [1, 0],
      [1, DECIDED_RETRY_MS * 2],
    ]);
  });

  it('starts afresh for a new epoch, and after the episode of a lost peer ended', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    const { start, starter, names } = harness();
    await start(0);
    expect(await start(1_000, { ...INITIAL_CLUSTER, epoch: 2, primary: 'production' })).toBe(true);
    expect(names()).toEqual([`failover-e2-${NOW}`, `failover-e3-${NOW + 1_000}`]);
    starter.episodeOver();
    expect(await start(2_000, { ...INITIAL_CLUSTER, epoch: 2, primary: 'production' })).toBe(true);
    expect(names()).toHaveLength(3);
  });
});
