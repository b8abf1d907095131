import { ArnFormat, Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Env, type HealthSources, type PromotionActions } from '../lambdas/core/wire';
import type { MirrorbeatConfig } from './config';
import type { SiteStack } from './site-stack';

/** What a site knows of the workload it protects: the health sources it reads, the promotion actions it takes. */

/** The workload's health sources, and the right to read exactly those alarms. */
export function bindHealthSources(stack: SiteStack, config: MirrorbeatConfig): void {
  const { alarmNames, url, timeoutMs } = config.health;
  stack.heartbeatModule.addEnvironment(
    Env.healthSources,
    JSON.stringify({ alarmNames, url, timeoutMs } satisfies HealthSources),
  );
  if (alarmNames.length === 0) return;
  // An alarm going to ALARM arrives at once through EventBridge: the module sends an extra beat carrying the failure.
  new events.Rule(stack, 'WorkloadAlarmRule', {
    description: 'A watched workload alarm went to ALARM: the heartbeat module beats at once on both paths',
    eventPattern: {
      source: ['aws.cloudwatch'],
      detailType: ['CloudWatch Alarm State Change'],
      detail: { alarmName: [...alarmNames], state: { value: ['ALARM'] } },
    },
    targets: [
      new targets.LambdaFunction(stack.heartbeatModule.function, {
        maxEventAge: Duration.minutes(1),
        retryAttempts: 1,
      }),
    ],
  });
  stack.heartbeatModule.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      // No CDK grant reads alarm state; DescribeAlarms is scoped to the named alarms.
      actions: ['cloudwatch:DescribeAlarms'],
      resources: alarmNames.map((name) =>
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ),
    }),
  );
}

/** The built-in promotion actions the configuration names, and the right to take exactly those. */
export function bindPromotionActions(stack: SiteStack, config: MirrorbeatConfig): void {
  const { arc, route53FailoverRecord } = config.promotion;
  const actions: PromotionActions = {
    ...(arc === undefined
      ? {}
      : { arc: { clusterEndpoints: arc.clusterEndpoints, routingControls: arc.routingControls } }),
    ...(route53FailoverRecord === undefined ? {} : { route53HealthCheckId: route53FailoverRecord.healthCheckId }),
  };
  stack.failoverSteps.addEnvironment(Env.promotionActions, JSON.stringify(actions));
  if (arc !== undefined) {
    stack.failoverSteps.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'route53-recovery-cluster:UpdateRoutingControlStates',
          'route53-recovery-cluster:GetRoutingControlState',
        ],
        resources: [arc.routingControls.production, arc.routingControls.standby],
      }),
    );
  }
  if (route53FailoverRecord !== undefined) {
    stack.failoverSteps.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['route53:GetHealthCheck', 'route53:UpdateHealthCheck'],
        resources: [
          stack.formatArn({
            service: 'route53',
            region: '',
            account: '',
            resource: 'healthcheck',
            resourceName: route53FailoverRecord.healthCheckId,
          }),
        ],
      }),
    );
  }
}
