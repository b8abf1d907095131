import { randomUUID } from 'node:crypto';
import { ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import { executionName, parseStepInput } from '../lambdas/core/steps';
import { peerOf, type SiteId } from '../lambdas/core/wire';
import { FAILOVER_STEPS, runFailoverStep } from '../lambdas/failover-steps/steps';
import { PATH_CONTROL_STEPS, runPathControlStep } from '../lambdas/path-control-steps/steps';
import { NOTIFY_STEP } from '../lambdas/shared/workflow-notices';
import type { Bus } from './bus';
import { asHandler } from './calls';
import { type Recorder, safeJson } from './recorder';
import type { Regions } from './regions';
import { StepDeps } from './step-deps';
import { failStateOf, outcomeOf, summarizeStep } from './step-summary';
import type { Execution, Site, World } from './world';

/**
 * The workflow runner: the synthesized state machines under aws-local-stepfunctions, each
 * Task bound to the deployed step handler on virtual time, task tokens answered by scenario
 * commands, and the emulated Step Functions API the heartbeat module starts executions with.
 */

/** Median duration (ms) of one Lambda step. */
const STEP_MEDIAN_MS = 120;

/** One workflow execution, for benchmarks and the runtime's own account. */
export interface ExecutionRecord {
  readonly site: SiteId;
  readonly machine: string;
  readonly name: string;
  readonly startedAtMs: number;
  endedAtMs: number | null;
  transitions: number;
  outcome: string | null;
}

export class Workflows {
  readonly executions: ExecutionRecord[] = [];
  /** Rejecters of workflow tasks that have not settled yet. */
  private readonly pendingTasks = new Set<(error: Error) => void>();

  constructor(
    private readonly world: World,
    private readonly regions: Regions,
    bus: Bus,
    private readonly recorder: Recorder,
  ) {
    this.deps = new StepDeps(world, regions, bus, recorder);
  }

  /** What the step handlers run with: emulated services and the fakes (started with the run). */
  readonly deps: StepDeps;

  /** Lets every workflow execution that a finished event woke reach its next task (or its end). */
  async settle(): Promise<void> {
    for (let spins = 0; ; spins += 1) {
      const running = Object.values(this.world.sites).some((s) =>
        [...s.executions.values()].some((e) => e.status === 'running'),
      );
      if (!running) return;
      if (spins > 100_000) throw new Error('a workflow execution neither finished nor reached a task');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Stops every execution: each stops after its current state, once that state's task settles. */
  abortAll(): void {
    for (const site of Object.values(this.world.sites))
      for (const execution of site.executions.values()) execution.abort();
    for (const pending of [...this.pendingTasks])
      pending(Object.assign(new Error('the simulation ended'), { name: 'SimulationEnded' }));
    this.pendingTasks.clear();
  }

  /** Runs one Lambda step of a workflow with the deployed step handler code. */
  private async runStep(
    site: Site,
    machine: string,
    stateName: string,
    taskInput: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return asHandler(this.world.caller(site, machine === 'failover' ? 'failover-steps' : 'path-control-steps'), () =>
      this.runStepAs(site, machine, stateName, taskInput),
    );
  }

  /**
   * The emulated Step Functions API: StartExecution only. As Step Functions does for a Standard
   * workflow, the same name and input as an execution still open answers as the first call did;
   * a closed one, or other input, is ExecutionAlreadyExists.
   */
  async stepFunctions(site: Site, command: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const w = this.world;
    if (command === 'DescribeExecutionCommand') return this.describeExecution(site, String(input.executionArn));
    if (command !== 'StartExecutionCommand')
      throw new Error(`the local runtime does not emulate Step Functions ${command}`);
    const machine = String(input.stateMachineArn).endsWith('-failover') ? 'failover' : 'path-control';
    const name = typeof input.name === 'string' ? input.name : randomUUID();
    const given = typeof input.input === 'string' ? input.input : '{}';
    const open = site.executions.get(`${machine}/${name}`);
    if (open === undefined || open.status === 'done' || open.input !== given)
      this.startExecution(site, machine, name, safeJson(given) as Record<string, unknown>, given);
    return { executionArn: this.executionArn(site, machine, name), startDate: new Date(w.clock.nowMs) };
  }

  /**
   * DescribeExecution's status, error and cause, from the execution's record (a Fail state's error; a crash as its
   * error name).
   */
  private describeExecution(site: Site, executionArn: string): Record<string, unknown> {
    const record = this.executions.find(
      (e) => e.site === site.id && this.executionArn(site, e.machine, e.name) === executionArn,
    );
    if (record === undefined) throw new Error(`ExecutionDoesNotExist: ${executionArn}`);
    if (record.endedAtMs === null) return { executionArn, status: 'RUNNING' };
    const failure = /^(stopped|failed): (.*)$/.exec(record.outcome ?? '');
    return failure === null
      ? { executionArn, status: 'SUCCEEDED' }
      : { executionArn, status: 'FAILED', error: failure[2], cause: record.outcome };
  }

  private executionArn(site: Site, machine: string, name: string): string {
    const w = this.world;
    return w.arn(site, 'states', `execution:${w.names(site.id).stateMachine(machine)}:${name}`);
  }

  startExecution(site: Site, machine: string, name: string, input: Record<string, unknown>, given?: string): void {
    const w = this.world;
    const key = `${machine}/${name}`;
    if (site.executions.has(key))
      throw new ExecutionAlreadyExists({
        message: `Execution Already Exists: '${this.executionArn(site, machine, name)}'`,
        $metadata: {},
      });
    const definition = w.options.definitions[site.id].stateMachines[machine];
    if (definition === undefined) throw new Error(`no ${machine} state machine in the synthesized ${site.id} template`);
    const states = definition.States as Record<string, Record<string, unknown>>;
    const arn = this.executionArn(site, machine, name);
    const execution: Execution = {
      status: 'running',
      abort: () => undefined,
      ...(given === undefined ? {} : { input: given }),
    };
    const record: ExecutionRecord = {
      site: site.id,
      machine,
      name,
      startedAtMs: w.clock.at,
      endedAtMs: null,
      transitions: 0,
      outcome: null,
    };
    this.executions.push(record);
    site.executions.set(key, execution);

    // Wait states take no real time; their virtual duration is added to the task that follows.
    const waitOverrides: Record<string, number> = {};
    const delayBefore: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(states)) {
      if (state.Type !== 'Wait') continue;
      waitOverrides[stateName] = 0;
      if (typeof state.Next === 'string' && typeof state.Seconds === 'number')
        delayBefore[state.Next] = (delayBefore[state.Next] ?? 0) + state.Seconds * 1000;
    }
    const handlers: Record<string, (taskInput: Record<string, unknown>) => Promise<unknown>> = {};
    const retries: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(states)) {
      if (state.Type !== 'Task') continue;
      retries[stateName] = 0;
      const resource = String(state.Resource);
      const work = resource.endsWith('.waitForTaskToken')
        ? async (taskInput: Record<string, unknown>) =>
            this.awaitTaskToken(site, machine, execution, name, stateName, state, taskInput)
        : async (taskInput: Record<string, unknown>) => ({
            Payload: await this.runStep(site, machine, stateName, taskInput),
          });
      handlers[stateName] = (taskInput) => {
        execution.status = 'waiting';
        const latency = (delayBefore[stateName] ?? 0) + w.random.logNormal(STEP_MEDIAN_MS, 0.4);
        return new Promise((resolveTask, rejectTask) => {
          // Until it settles, the task is pending: a task of a crashed site never settles, and the
          // end of the run settles it, or the execution would hold the process open.
          const pending = (error: Error) => rejectTask(error);
          this.pendingTasks.add(pending);
          const resolve = (value: unknown) => {
            this.pendingTasks.delete(pending);
            resolveTask(value);
          };
          const reject = (error: Error) => {
            this.pendingTasks.delete(pending);
            rejectTask(error);
          };
          w.clock.schedule(w.clock.nowMs + latency, async () => {
            if (site.crashed) return;
            execution.status = 'running';
            try {
              const out = await work(taskInput);
              // A task waiting for its token answers later, from another event: the loop goes on meanwhile.
              if (typeof out === 'function') out().then(resolve, reject);
              else resolve(out);
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
            await this.regions.replicate(site);
          });
        });
      };
    }
    const machineRun = new StateMachine(definition as never, {
      validationOptions: { checkPaths: false, checkArn: false },
    }).run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: waitOverrides,
        retryIntervalOverrides: retries,
      },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: arn, Name: name, Input: input, StartTime: new Date(w.clock.nowMs).toISOString() },
        Task: { Token: `local-task-token-${name}` },
      } as never,
    });
    execution.abort = () => machineRun.abort();
    void (async () => {
      for await (const event of machineRun.eventLogs)
        if ((event as { type?: string }).type === 'StateEntered') record.transitions += 1;
    })().catch(() => undefined);
    w.note({ site: site.id, kind: 'workflow', text: `${machine} workflow started (${name})` });
    if (machine === 'failover' && input.dryRun !== true) {
      const expected = typeof input.expectedEpoch === 'number' ? input.expectedEpoch : (site.epoch ?? 1);
      this.recorder.failovers.push({
        startedAtMs: w.clock.at,
        promotedAtMs: null,
        from: (input.from as SiteId | undefined) ?? peerOf(site.id),
        to: site.id,
        epoch: expected + 1,
        reason: typeof input.reason === 'string' ? input.reason : 'requested',
      });
    }
    machineRun.result
      .then((output) => {
        if (output === null) return;
        record.outcome = outcomeOf(output);
        w.note({ site: site.id, kind: 'workflow', text: `${machine} workflow ${name} ended: ${record.outcome}` });
      })
      .catch((error: unknown) => {
        // A Fail state of the definition (GatesBlocked, Refused, ...) is the workflow deciding to stop, not a crash:
        // the console shows it as Failed with that error and cause, and so does the timeline.
        const stop = failStateOf(error);
        record.outcome = stop === undefined ? `failed: ${(error as Error).name}` : `stopped: ${stop.error}`;
        w.note({
          site: site.id,
          kind: 'workflow',
          text: (stop === undefined
            ? `${machine} workflow ${name} failed: ${(error as Error).name}: ${(error as Error).message}`
            : `${machine} workflow ${name} stopped: ${stop.error} (${stop.cause})`
          ).slice(0, 300),
        });
      })
      .finally(() => {
        record.endedAtMs = w.clock.at;
        execution.status = 'done';
      });
  }

  /**
   * A task that waits for its token (the failover's approval): it publishes, then waits in
   * virtual time for an approve or reject command, or for its TimeoutSeconds.
   */
  private async awaitTaskToken(
    site: Site,
    machine: string,
    execution: Execution,
    name: string,
    stateName: string,
    state: Record<string, unknown>,
    taskInput: Record<string, unknown>,
  ): Promise<() => Promise<unknown>> {
    const w = this.world;
    await this.runStep(site, machine, stateName, taskInput);
    execution.status = 'waiting';
    const answer = new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        execution.status = 'running';
        const index = site.approvals.findIndex((a) => a.settle === settle);
        if (index >= 0) site.approvals.splice(index, 1);
        if (error === undefined) resolve({ approvedBy: 'operator' });
        else reject(error);
      };
      site.approvals.push({ name, settle });
      const timeoutMs = (typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : 60) * 1000;
      w.clock.schedule(w.clock.nowMs + timeoutMs, async () => {
        if (!settled)
          w.note({ site: site.id, kind: 'workflow', text: `${name}: approval timed out after ${timeoutMs / 1000} s` });
        settle(Object.assign(new Error(`no approval within ${timeoutMs / 1000} s`), { name: 'States.Timeout' }));
      });
    });
    return () => answer;
  }

  private async runStepAs(
    site: Site,
    machine: string,
    stateName: string,
    taskInput: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const w = this.world;
    if (machine === 'failover') {
      // aws-local-stepfunctions stamps the real start time; the step's timings are in virtual time.
      const started = this.executions.find(
        (e) =>
          e.site === site.id &&
          e.machine === 'failover' &&
          e.name === executionName(String((taskInput.Payload as { execution?: unknown }).execution)),
      );
      const input = {
        ...parseStepInput(taskInput.Payload, FAILOVER_STEPS),
        ...(started ? { startedAt: new Date(w.clock.startMs + started.startedAtMs).toISOString() } : {}),
      };
      const result = await runFailoverStep(input, this.deps.failover(site));
      // A notify step shows as the notice it sent (see publish).
      if (input.step !== NOTIFY_STEP)
        w.note({
          site: site.id,
          kind: 'workflow',
          text: `failover ${stateName}: ${summarizeStep(input.step, result)}`,
        });
      if (input.step === 'verify' && result.ok === true && input.state.dryRun !== true) {
        const failover = [...this.recorder.failovers]
          .reverse()
          .find((f) => f.to === site.id && f.promotedAtMs === null);
        if (failover !== undefined) failover.promotedAtMs = w.clock.at;
      }
      return result;
    }
    const input = parseStepInput(taskInput.Payload, PATH_CONTROL_STEPS);
    const result = await runPathControlStep(input, this.deps.pathControl(site));
    if (input.step !== 'check-ack' && input.step !== NOTIFY_STEP)
      w.note({
        site: site.id,
        kind: 'workflow',
        text: `path-control ${stateName}: ${JSON.stringify(result).slice(0, 160)}`,
      });
    return result;
  }
}
