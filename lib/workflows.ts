import { Aws, Duration, Fn } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { MirrorbeatFunction } from './function';
import { acknowledgeNag, arnWildcardFinding } from './nag';
import type { SiteNames } from './names';
import { FAILOVER_EXAMPLE, PATH_CONTROL_EXAMPLE } from '../lambdas/core/steps';
import { NOTIFY_STEP, type WorkflowOutcome } from '../lambdas/shared/workflow-notices';
import type { NoticeTopics } from './notices';

/** Retries for every task that calls AWS: backoff with jitter, well inside a failover's budget. */
const AWS_RETRY: sfn.RetryProps = {
  errors: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'States.Timeout',
    'Transient',
    // What a step handler throws when a service throttles it or fails for a moment, after the SDK's own retries.
    'ThrottlingException',
    'ProvisionedThroughputExceededException',
    'RequestLimitExceeded',
    'TooManyRequestsException',
    'InternalServerError',
    'ServiceUnavailable',
    'TimeoutError',
    // The step's Lambda ran out of time (a call that hung past its deadline); every step may run again.
    'Sandbox.Timedout',
  ],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 3,
  jitterStrategy: sfn.JitterType.FULL,
};

/** How often a promotion looks at an action under way (the Aurora writer, a Route 53 change). */
export const WORKLOAD_POLL_SECONDS = 10;

interface WorkflowProps {
  readonly names: SiteNames;
  readonly steps: MirrorbeatFunction;
  readonly topics: NoticeTopics;
  readonly logRetention: logs.RetentionDays;
  readonly logKey: kms.IKey;
}

/** The house pieces of a workflow: a step that runs one handler step, a notice, the machine itself. */
abstract class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  protected constructor(
    scope: Construct,
    id: string,
    protected readonly props: WorkflowProps,
    workflowName: string,
    build: (w: Workflow) => sfn.IChainable,
    timeout: Duration,
    comment: string,
  ) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The vended-logs prefix keeps the account's CloudWatch Logs resource policy small. The
      // log group outlives the stack (its records are the failover's history), so its name ends
      // with the stack's own id: a stack deployed again after `cdk destroy` gets a new one.
      logGroupName: `/aws/vendedlogs/states/${props.names.stateMachine(workflowName)}-${Fn.select(2, Fn.split('/', Aws.STACK_ID))}`,
      retention: props.logRetention,
      // Execution data holds decision records and task tokens.
      encryptionKey: props.logKey,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.names.stateMachine(workflowName),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(build(this)),
      timeout,
      // The console shows it above "Start execution": the input to type.
      comment,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // Notices leave through the step handler's notice desk: it publishes, the state machine does not.
    props.topics.bind(props.steps);
    const role = this.stateMachine.role;
    acknowledgeNag(
      role,
      'IAM5[Resource::*]',
      'Step Functions log delivery and X-Ray actions have no resource-level permissions.',
    );
    acknowledgeNag(
      role,
      arnWildcardFinding(props.steps.function),
      "Invoking any version of this workflow's own step handler.",
    );
  }

  /** A task that runs one step of this workflow's handler, with the execution's id, start and state. */
  private invoke(
    id: string,
    payload: Record<string, unknown>,
    props: Partial<tasks.LambdaInvokeProps> = {},
  ): tasks.LambdaInvoke {
    return new tasks.LambdaInvoke(this, id, {
      lambdaFunction: this.props.steps.function,
      payload: sfn.TaskInput.fromObject({
        execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        state: sfn.JsonPath.entirePayload,
        ...payload,
      }),
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
      ...props,
    });
  }

  /**
   * Runs `lambdas/<steps>` with `{ step, execution, state }`; the step's result lands at
   * `$.<resultKey>`. With `onError`, any error left after the retries goes there, at `$.error`.
   */
  step(id: string, step: string, resultKey: string, onError?: sfn.IChainable): tasks.LambdaInvoke {
    const task = this.invoke(
      id,
      { step },
      { resultSelector: { 'result.$': '$.Payload' }, resultPath: `$.${resultKey}` },
    );
    task.addRetry(AWS_RETRY);
    if (onError !== undefined) task.addCatch(onError, { errors: ['States.ALL'], resultPath: '$.error' });
    return task;
  }

  /**
   * Sends one notice through the step handler's notice desk: the same subject, body, journal
   * and topics as the heartbeat module's notices. The outcome picks the kind and the evidence.
   */
  notice(id: string, outcome: WorkflowOutcome): tasks.LambdaInvoke {
    const task = this.invoke(
      id,
      { step: NOTIFY_STEP, notify: { outcome, at: id } },
      // The error and cause the Fail state after it ends the execution with (see failed).
      { resultSelector: { 'error.$': '$.Payload.error', 'cause.$': '$.Payload.cause' }, resultPath: '$.failure' },
    );
    task.addRetry(AWS_RETRY);
    return task;
  }

  /**
   * The end of a failed execution: the console shows the error and cause the notice before it
   * worked out (the step's own message, naming the field and the fix). Without `error`, the
   * error is the step's (InvalidInput, CommandRefused, FenceConflict, ...).
   */
  failed(id: string, error?: string): sfn.Fail {
    return new sfn.Fail(this, id, {
      ...(error === undefined ? { errorPath: '$.failure.error' } : { error }),
      causePath: '$.failure.cause',
    });
  }

  /**
   * The approval request: a notice carrying the approve and reject commands and the task
   * token, then a wait for `mirrorbeat approve` or `reject` (SendTaskSuccess / SendTaskFailure).
   */
  approval(id: string, timeout: Duration): tasks.LambdaInvoke {
    const task = this.invoke(
      id,
      { step: NOTIFY_STEP, notify: { outcome: 'awaiting-approval', at: id }, taskToken: sfn.JsonPath.taskToken },
      {
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        taskTimeout: sfn.Timeout.duration(timeout),
        resultPath: '$.approval',
      },
    );
    // Only the invoke is retried: a timeout is the answer "nobody approved".
    task.addRetry({ ...AWS_RETRY, errors: AWS_RETRY.errors?.filter((e) => e.startsWith('Lambda.')) });
    return task;
  }
}

export interface FailoverWorkflowProps extends WorkflowProps {
  /** approval: an automatic start waits for `mirrorbeat approve` (an SNS message carries the command). */
  readonly failoverMode: 'automatic' | 'approval' | 'manual';
  /** @default Duration.minutes(30) */
  readonly approvalTimeout?: Duration;
  /** How often a switchover looks whether the primary confirmed its handover. */
  readonly intervalSeconds: number;
}

/** A field of the execution input is present and equals the value (a missing field is not an error). */
const is = (path: string, value: string): sfn.Condition =>
  sfn.Condition.and(sfn.Condition.isPresent(path), sfn.Condition.stringEquals(path, value));
const flag = (path: string): sfn.Condition =>
  sfn.Condition.and(sfn.Condition.isPresent(path), sfn.Condition.booleanEquals(path, true));

/**
 * failover and switchover, one state machine (input `kind`):
 *   failover:   confirm → gates → (approval → confirm again) → fence → promote (⇄ wait) → verify → notify
 *   switchover: drain → wait for the handover → gates → fence → promote (⇄ wait) → verify → notify
 * `dryRun: true` runs every step without side effects and sends no notice (a drill). Each
 * task is a step of lambdas/failover-steps; a failure anywhere withdraws a pending handover
 * and sends a critical notice. Started again for an epoch it completed, it does nothing.
 */
export class FailoverWorkflow extends Workflow {
  constructor(scope: Construct, id: string, props: FailoverWorkflowProps) {
    super(
      scope,
      id,
      props,
      'failover',
      (w) => {
        // A drill sends no notice (the step handler guards it) but still ends with the step's own error and cause.
        const drillFailed = w.notice('ExplainDrillFailure', 'failed').next(w.failed('DrillFailed'));
        const failedNotice = w.notice('NotifyFailoverFailed', 'failed').next(w.failed('FailoverFailed'));
        const failedOrDrill = new sfn.Choice(w, 'FailedInDrill?')
          .when(flag('$.dryRun'), drillFailed)
          .otherwise(failedNotice);
        // Withdrawing a handover is a no-op for a failover, and after a fence (which removed it).
        const failed = w.step('CancelDrain', 'cancel-drain', 'cancelDrain', failedOrDrill).next(failedOrDrill);

        const aborted = w.notice('NotifyFailoverAborted', 'aborted').next(new sfn.Succeed(w, 'Aborted'));
        const blockedNotice = w
          .notice('NotifyGatesBlocked', 'gates-blocked')
          .next(w.failed('GatesBlocked', 'GatesBlocked'));
        const blocked = w.step('CancelDrainBlocked', 'cancel-drain', 'cancelDrain', failed).next(blockedNotice);
        const withdrawnNotice = w
          .notice('NotifySwitchoverWithdrawn', 'switchover-withdrawn')
          .next(w.failed('SwitchoverWithdrawn', 'SwitchoverWithdrawn'));
        const withdrawn = w.step('CancelDrainExpired', 'cancel-drain', 'cancelDrain', failed).next(withdrawnNotice);
        const refusedNotice = w
          .notice('NotifySwitchoverRefused', 'switchover-refused')
          .next(w.failed('SwitchoverRefused', 'SwitchoverRefused'));
        const refused = new sfn.Choice(w, 'RefusedInDrill?')
          .when(flag('$.dryRun'), drillFailed)
          .otherwise(refusedNotice);

        const started = w.notice('NotifyFailoverStarted', 'failover-started');
        const switchoverStarted = w.notice('NotifySwitchoverStarted', 'switchover-started');
        const confirm = w.step('Confirm', 'confirm', 'confirm', failed);
        const drain = w.step('Drain', 'drain', 'drain', refused);
        const waitForDrain = new sfn.Wait(w, 'WaitForHandover', {
          time: sfn.WaitTime.duration(Duration.seconds(props.intervalSeconds)),
        });
        const checkDrain = w.step('CheckHandover', 'check-drain', 'checkDrain', failed);
        const gates = w.step('Gates', 'gates', 'gates', failed);
        const fence = w.step('Fence', 'fence', 'fence', failed);
        const promote = w.step('Promote', 'promote', 'promote', failed);
        const verify = w.step('Verify', 'verify', 'verify', failed);
        const promoted = w.notice('NotifyPromoted', 'promoted').next(new sfn.Succeed(w, 'Promoted'));
        const switchedOver = w
          .notice('NotifySwitchoverCompleted', 'switchover-completed')
          .next(new sfn.Succeed(w, 'SwitchedOver'));

        let approvalOrFence: sfn.IChainable = fence;
        if (props.failoverMode === 'approval') {
          // After the wait the world may have moved: the peer may be back, its lease renewed. Look again.
          const reconfirm = w.step('Reconfirm', 'confirm', 'confirm', failed);
          const awaitApproval = w
            .approval('AwaitApproval', props.approvalTimeout ?? Duration.minutes(30))
            .addCatch(aborted, { errors: ['States.Timeout', 'Rejected'], resultPath: '$.error' })
            .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
            .next(reconfirm)
            .next(
              new sfn.Choice(w, 'StillLostAfterApproval?')
                .when(sfn.Condition.booleanEquals('$.confirm.result.peerLost', false), aborted)
                .otherwise(fence),
            );
          // Only an automatic start asks: a person who started a failover or switchover has decided.
          approvalOrFence = new sfn.Choice(w, 'NeedsApproval?')
            .when(
              sfn.Condition.and(is('$.requestedBy', 'heartbeat-module'), sfn.Condition.not(flag('$.dryRun'))),
              awaitApproval,
            )
            .otherwise(fence);
        }

        fence.next(
          new sfn.Choice(w, 'AlreadyPromoted?')
            .when(
              flag('$.fence.result.alreadyDone'),
              new sfn.Succeed(w, 'AlreadyPromoted', {
                comment: 'this epoch was promoted and verified before: nothing to do',
              }),
            )
            .otherwise(promote),
        );
        // An action that takes minutes (the Aurora writer, a Route 53 change going INSYNC) leaves the
        // promotion pending: wait, and run the step again, which resumes it where it stood.
        const waitForWorkload = new sfn.Wait(w, 'WaitForWorkload', {
          time: sfn.WaitTime.duration(Duration.seconds(WORKLOAD_POLL_SECONDS)),
        });
        const underWay = new sfn.Choice(w, 'PromotionUnderWay?');
        const resume = w.step('ResumePromotion', 'promote', 'promote', failed).next(underWay);
        underWay
          .when(sfn.Condition.isPresent('$.promote.result.pending'), waitForWorkload.next(resume))
          .otherwise(verify);
        promote.next(underWay);
        verify.next(
          new sfn.Choice(w, 'Verified?')
            .when(flag('$.dryRun'), new sfn.Succeed(w, 'DrillComplete'))
            .when(
              sfn.Condition.booleanEquals('$.verify.result.ok', true),
              new sfn.Choice(w, 'Switchover?').when(is('$.kind', 'switchover'), switchedOver).otherwise(promoted),
            )
            .otherwise(failed),
        );
        gates.next(
          new sfn.Choice(w, 'GatesPassed?')
            .when(
              sfn.Condition.or(flag('$.dryRun'), sfn.Condition.booleanEquals('$.gates.result.passed', true)),
              approvalOrFence,
            )
            .otherwise(blocked),
        );
        confirm.next(
          new sfn.Choice(w, 'PeerStillLost?')
            .when(
              sfn.Condition.and(
                sfn.Condition.not(flag('$.dryRun')),
                sfn.Condition.booleanEquals('$.confirm.result.peerLost', false),
              ),
              aborted,
            )
            .otherwise(gates),
        );
        // Started once the primary took the handover request: a refused switchover never started (command-refused).
        drain.next(new sfn.Choice(w, 'DrillDrain?').when(flag('$.dryRun'), waitForDrain).otherwise(switchoverStarted));
        switchoverStarted.next(waitForDrain);
        waitForDrain
          .next(checkDrain)
          .next(
            new sfn.Choice(w, 'HandedOver?')
              .when(sfn.Condition.booleanEquals('$.checkDrain.result.drained', true), gates)
              .when(sfn.Condition.booleanEquals('$.checkDrain.result.expired', true), withdrawn)
              .otherwise(waitForDrain),
          );
        return new sfn.Choice(w, 'Kind?')
          .when(is('$.kind', 'switchover'), drain)
          .when(flag('$.dryRun'), confirm)
          .otherwise(started.next(confirm));
      },
      Duration.hours(2),
      `Failover, switchover or drill of ${props.names.cluster} to this site. Input: ${FAILOVER_EXAMPLE}; "kind": "switchover" hands over from a live primary; "dryRun": true runs every step and changes nothing; leave "reason" out or give a short text.`,
    );
  }
}

export interface PathControlWorkflowProps extends WorkflowProps {
  readonly intervalSeconds: number;
}

/**
 * path-control, the request command: apply here → forward to the peer over the other
 * active path(s) → wait for the peer's acknowledgement → finalize, or roll back on timeout.
 */
export class PathControlWorkflow extends Workflow {
  constructor(scope: Construct, id: string, props: PathControlWorkflowProps) {
    super(
      scope,
      id,
      props,
      'path-control',
      (w) => {
        const refused = w.notice('NotifyRefused', 'command-refused').next(w.failed('Refused'));
        const rollback = w.step('Rollback', 'rollback', 'rollback', refused).next(refused);

        const apply = w.step('Apply', 'apply', 'apply', refused);
        const forward = w.step('Forward', 'forward', 'forward', rollback);
        const wait = new sfn.Wait(w, 'WaitForAck', {
          time: sfn.WaitTime.duration(Duration.seconds(props.intervalSeconds)),
        });
        const checkAck = w.step('CheckAck', 'check-ack', 'ack', rollback);
        const finalize = w.step('Finalize', 'finalize', 'finalize', rollback);
        const applied = new sfn.Succeed(w, 'Applied');
        const done = new sfn.Choice(w, 'Activated?')
          .when(
            sfn.Condition.stringEquals('$.finalize.result.notice', 'path-activated'),
            w.notice('NotifyActivated', 'path-activated').next(applied),
          )
          .otherwise(w.notice('NotifyDeactivated', 'path-deactivated').next(applied));

        apply
          .next(forward)
          .next(wait)
          .next(checkAck)
          .next(
            new sfn.Choice(w, 'Acknowledged?')
              .when(sfn.Condition.booleanEquals('$.ack.result.acknowledged', true), finalize.next(done))
              .when(sfn.Condition.booleanEquals('$.ack.result.expired', true), rollback)
              .otherwise(wait),
          );
        return apply;
      },
      Duration.minutes(15),
      `Switch the heartbeat paths of ${props.names.cluster} on or off at both sites (one request command, one acknowledgement). Input: ${PATH_CONTROL_EXAMPLE}; add "force": true to disable the last working path.`,
    );
  }
}
