import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { MirrorbeatFunction } from './function';
import { acknowledgeNag, arnWildcardFinding } from './nag';
import type { SiteNames } from './names';
import type { NoticeTopics, Severity } from './notices';

/** Retries for every task that calls AWS: backoff with jitter, well inside a failover's budget. */
const AWS_RETRY: sfn.RetryProps = {
  errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException', 'States.Timeout', 'Transient'],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 3,
  jitterStrategy: sfn.JitterType.FULL,
};

interface WorkflowProps {
  readonly names: SiteNames;
  readonly steps: MirrorbeatFunction;
  readonly topics: NoticeTopics;
  readonly logRetention: logs.RetentionDays;
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
  ) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The vended-logs prefix keeps the account's CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${props.names.stateMachine(workflowName)}`,
      retention: props.logRetention,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.names.stateMachine(workflowName),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(build(this)),
      timeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // SnsPublish tasks grant sns:Publish only; the topics are KMS-encrypted, so the key is needed too.
    props.topics.grantPublish(this.stateMachine);
    const role = this.stateMachine.role;
    acknowledgeNag(role, 'IAM5[Resource::*]', 'Step Functions log delivery and X-Ray actions have no resource-level permissions.');
    acknowledgeNag(role, arnWildcardFinding(props.steps.function), "Invoking any version of this workflow's own step handler.");
  }

  /**
   * Runs `lambdas/<steps>` with `{ step, execution, state }`; the step's result lands at
   * `$.<resultKey>`. With `onError`, any error left after the retries goes there, at `$.error`.
   */
  step(id: string, step: string, resultKey: string, onError?: sfn.IChainable): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: this.props.steps.function,
      payload: sfn.TaskInput.fromObject({
        step,
        execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
        state: sfn.JsonPath.entirePayload,
      }),
      resultSelector: { 'result.$': '$.Payload' },
      resultPath: `$.${resultKey}`,
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
    });
    task.addRetry(AWS_RETRY);
    if (onError !== undefined) task.addCatch(onError, { errors: ['States.ALL'], resultPath: '$.error' });
    return task;
  }

  /** Publishes one notice; `kind` is the message attribute subscribers filter on. */
  notice(id: string, kind: string, severity: Severity, subject: string): tasks.SnsPublish {
    const task = new tasks.SnsPublish(this, id, {
      topic: this.props.topics.of(severity),
      subject,
      message: sfn.TaskInput.fromObject({
        kind,
        cluster: this.props.names.cluster,
        site: this.props.names.site,
        execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
        state: sfn.JsonPath.entirePayload,
      }),
      messageAttributes: {
        kind: { value: kind },
        site: { value: this.props.names.site },
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    task.addRetry(AWS_RETRY);
    return task;
  }
}

export interface FailoverWorkflowProps extends WorkflowProps {
  /** approval: wait for `mirrorbeat approve` (an SNS message carries the task token). */
  readonly failoverMode: 'automatic' | 'approval' | 'manual';
  /** @default Duration.minutes(30) */
  readonly approvalTimeout?: Duration;
}

/**
 * failover: confirm → gates → (approval) → fence → promote → verify → notify. Each task is
 * a step of lambdas/failover-steps; a failure anywhere sends a critical notice.
 */
export class FailoverWorkflow extends Workflow {
  constructor(scope: Construct, id: string, props: FailoverWorkflowProps) {
    super(
      scope,
      id,
      props,
      'failover',
      (w) => {
        const failed = w.notice('NotifyFailoverFailed', 'failover-aborted', 'critical', 'mirrorbeat: failover FAILED, check the cluster record').next(new sfn.Fail(w, 'FailoverFailed', { error: 'FailoverFailed', cause: 'a failover step failed; see the execution history' }));
        const aborted = w.notice('NotifyFailoverAborted', 'failover-aborted', 'warning', 'mirrorbeat: failover aborted, the peer is alive').next(new sfn.Succeed(w, 'Aborted'));
        const blocked = w.notice('NotifyGatesBlocked', 'failover-aborted', 'critical', 'mirrorbeat: failover blocked by a gate').next(new sfn.Fail(w, 'GatesBlocked', { error: 'GatesBlocked', cause: 'replication lag or readiness gate did not pass' }));

        const started = w.notice('NotifyFailoverStarted', 'failover-started', 'critical', 'mirrorbeat: failover started');
        const confirm = w.step('Confirm', 'confirm', 'confirm', failed);
        const gates = w.step('Gates', 'gates', 'gates', failed);
        const fence = w.step('Fence', 'fence', 'fence', failed);
        const promote = w.step('Promote', 'promote', 'promote', failed);
        const verify = w.step('Verify', 'verify', 'verify', failed);
        const promoted = w.notice('NotifyPromoted', 'promoted', 'critical', 'mirrorbeat: standby promoted').next(new sfn.Succeed(w, 'Promoted'));

        const approvalOrFence: sfn.IChainable =
          props.failoverMode === 'approval'
            ? new tasks.SnsPublish(w, 'AwaitApproval', {
                topic: props.topics.critical,
                integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                subject: 'mirrorbeat: failover awaits approval',
                message: sfn.TaskInput.fromObject({
                  kind: 'failover-started',
                  awaiting: 'approval',
                  approve: "aws stepfunctions send-task-success --task-output '{}' --task-token <taskToken>",
                  reject: 'aws stepfunctions send-task-failure --error Rejected --task-token <taskToken>',
                  taskToken: sfn.JsonPath.taskToken,
                  state: sfn.JsonPath.entirePayload,
                }),
                messageAttributes: { kind: { value: 'failover-started' }, site: { value: props.names.site } },
                taskTimeout: sfn.Timeout.duration(props.approvalTimeout ?? Duration.minutes(30)),
                resultPath: '$.approval',
              })
                .addCatch(aborted, { errors: ['States.Timeout', 'Rejected'], resultPath: '$.error' })
                .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
                .next(fence)
            : fence;

        fence.next(promote).next(verify).next(
          new sfn.Choice(w, 'Verified?').when(sfn.Condition.booleanEquals('$.verify.result.ok', true), promoted).otherwise(failed),
        );
        const gatesPassed = new sfn.Choice(w, 'GatesPassed?').when(sfn.Condition.booleanEquals('$.gates.result.passed', true), approvalOrFence).otherwise(blocked);
        const peerStillLost = new sfn.Choice(w, 'PeerStillLost?').when(sfn.Condition.booleanEquals('$.confirm.result.peerLost', false), aborted).otherwise(gates.next(gatesPassed));
        return started.next(confirm).next(peerStillLost);
      },
      Duration.hours(2),
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
        const refused = w.notice('NotifyRefused', 'command-refused', 'warning', 'mirrorbeat: path command refused').next(new sfn.Fail(w, 'Refused', { error: 'CommandRefused', cause: 'see the notice for the reason' }));
        const rollback = w.step('Rollback', 'rollback', 'rollback', refused).next(refused);

        const apply = w.step('Apply', 'apply', 'apply', refused);
        const forward = w.step('Forward', 'forward', 'forward', rollback);
        const wait = new sfn.Wait(w, 'WaitForAck', { time: sfn.WaitTime.duration(Duration.seconds(props.intervalSeconds)) });
        const checkAck = w.step('CheckAck', 'check-ack', 'ack', rollback);
        const finalize = w.step('Finalize', 'finalize', 'finalize', rollback);
        const applied = new sfn.Succeed(w, 'Applied');
        const done = new sfn.Choice(w, 'Activated?')
          .when(sfn.Condition.stringEquals('$.action', 'activate'), w.notice('NotifyActivated', 'path-activated', 'warning', 'mirrorbeat: path activated on both sites').next(applied))
          .otherwise(w.notice('NotifyDeactivated', 'path-deactivated', 'warning', 'mirrorbeat: path deactivated on both sites').next(applied));

        apply.next(forward).next(wait).next(checkAck).next(
          new sfn.Choice(w, 'Acknowledged?')
            .when(sfn.Condition.booleanEquals('$.ack.result.acknowledged', true), finalize.next(done))
            .when(sfn.Condition.booleanEquals('$.ack.result.expired', true), rollback)
            .otherwise(wait),
        );
        return apply;
      },
      Duration.minutes(15),
    );
  }
}
