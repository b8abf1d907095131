import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { READINESS_EVENT } from '../lambdas/core/readiness';
import type { MirrorbeatConfig } from './config';
import type { SiteStack } from './site-stack';
import { bindReadiness } from './workload';

/**
 * Readiness, before and at a failover: the EBS data readiness gate a promotion runs (lib/workload.ts), and the
 * scheduled check that asks every readiness.checkMinutes whether a failover to this site would succeed now
 * (lambdas/failover-steps/failover-readiness.ts), with its FailoverNotReady alarm. Bound after the monitoring.
 */
export function bindFailoverReadiness(stack: SiteStack, config: MirrorbeatConfig): void {
  bindReadiness(stack, config);
  const minutes = config.readiness.checkMinutes;
  const steps = stack.failoverSteps;
  // Who would receive an approval request: the critical topic's subscriptions (a read; no grant names it).
  const critical = stack.topics.of('critical');
  steps.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['sns:ListSubscriptionsByTopic'], resources: [critical.topicArn] }),
  );
  if (minutes === 0) return;
  new events.Rule(stack, 'ReadinessCheck', {
    description: `Every ${minutes} minutes: would a failover to this site succeed now? (mirrorbeat readiness)`,
    schedule: events.Schedule.rate(Duration.minutes(minutes)),
    targets: [
      new targets.LambdaFunction(steps.function, {
        event: events.RuleTargetInput.fromObject(READINESS_EVENT),
        // A missed check is better skipped than run late: the next one is due.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(Math.min(minutes, 60)),
      }),
    ],
  });
  stack.monitoring.readinessAlarm(minutes);
}
