import { ArnFormat, Duration, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type EbsReadiness, Env, type HealthSources, normalizedRecordName, type SiteId } from '../lambdas/core/wire';
import { type MirrorbeatConfig, promotionActionsOf } from './config';
import { acknowledgeNag, arnWildcardFinding } from './nag';
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

const hostedZoneArn = (stack: SiteStack, id: string) =>
  stack.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: id });

/** The data readiness gate, and the right to read exactly what it reads: snapshots in this region, the named keys. */
export function bindReadiness(stack: SiteStack, config: MirrorbeatConfig): void {
  const ebs = config.readiness.ebs;
  if (ebs === undefined) return;
  const { volumes, maxSnapshotAgeSeconds, policy } = ebs;
  stack.failoverSteps.addEnvironment(
    Env.readiness,
    JSON.stringify({ volumes, maxSnapshotAgeSeconds, policy } satisfies EbsReadiness),
  );
  const role = stack.failoverSteps.role;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      // DescribeSnapshots has no resource-level permissions.
      actions: ['ec2:DescribeSnapshots'],
      resources: ['*'],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      // Read only: the gate never writes a snapshot. Snapshot ids are not known at deploy time.
      actions: ['ebs:ListSnapshotBlocks', 'ebs:ListChangedBlocks', 'ebs:GetSnapshotBlock'],
      resources: [stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' })],
    }),
  );
  // The partition is a literal where the stack's region fixes it, a token where it does not.
  for (const partition of ['<AWS::Partition>', stack.region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws'])
    acknowledgeNag(
      role,
      `IAM5[Resource::arn:${partition}:ec2:${stack.region}::snapshot/*]`,
      "The readiness gate reads whichever snapshot is newest at failover time; the EBS direct APIs' read actions only, in this region.",
    );
  if (ebs.kmsKeyArns.length > 0)
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: ebs.kmsKeyArns,
        // Only for the EBS direct APIs reading a snapshot, not as a general decrypt.
        conditions: { StringEquals: { 'kms:ViaService': `ebs.${stack.region}.amazonaws.com` } },
      }),
    );
}

/** The built-in promotion actions the configuration names, and the right to take exactly those. */
export function bindPromotionActions(stack: SiteStack, config: MirrorbeatConfig, site: SiteId): void {
  const { arc, route53FailoverRecord, route53Records, auroraGlobalDatabase } = config.promotion;
  const actions = promotionActionsOf(config, site);
  const own = actions.capacity?.[site];
  stack.failoverSteps.addEnvironment(Env.promotionActions, JSON.stringify(actions));
  if (actions.zeroWhenFenced === true) {
    // The heartbeat module hands its fence hook event to this site's failover steps, which zero its capacity once
    // fenced.
    stack.heartbeatModule.addEnvironment(Env.workloadFence, stack.failoverSteps.function.functionArn);
    stack.failoverSteps.function.grantInvoke(stack.heartbeatModule.role);
    acknowledgeNag(
      stack.heartbeatModule.role,
      arnWildcardFinding(stack.failoverSteps.function),
      "Invoking this site's own failover steps with a fence event (promotion.capacity.whenFenced: zero).",
    );
    // The fence step of this site, once it promotes, hands the same event to the peer's failover steps, in the peer's
    // region.
    const peerFence = stack.formatArn({
      service: 'lambda',
      region: site === 'production' ? config.standbyRegion : config.productionRegion,
      resource: 'function',
      resourceName: stack.peerNames.functionName('failover-steps'),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    stack.failoverSteps.addEnvironment(Env.peerWorkloadFence, peerFence);
    stack.failoverSteps.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [peerFence] }),
    );
  }
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
  const role = stack.failoverSteps.role;
  if (route53Records !== undefined) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['route53:ListResourceRecordSets'],
        resources: [hostedZoneArn(stack, route53Records.hostedZoneId)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // Only the pair's own name may change in that zone.
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [hostedZoneArn(stack, route53Records.hostedZoneId)],
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [normalizedRecordName(route53Records.recordName)],
            'route53:ChangeResourceRecordSetsRecordTypes': [route53Records.recordType],
          },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // A change's id is known only once it is made.
        actions: ['route53:GetChange'],
        resources: [
          stack.formatArn({ service: 'route53', region: '', account: '', resource: 'change', resourceName: '*' }),
        ],
      }),
    );
    acknowledgeNag(
      role,
      'IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]',
      'GetChange of the change the promote step just made; change ids are not known before.',
    );
  }
  if (own !== undefined && own.autoScalingGroups.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['autoscaling:DescribeAutoScalingGroups'], resources: ['*'] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['autoscaling:UpdateAutoScalingGroup'],
        resources: own.autoScalingGroups.map((g) =>
          stack.formatArn({
            service: 'autoscaling',
            resource: 'autoScalingGroup',
            resourceName: `*:autoScalingGroupName/${g.name}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    // The account is a literal when the stack's environment names it, a token when it does not.
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    for (const g of own.autoScalingGroups)
      acknowledgeNag(
        role,
        `IAM5[Resource::arn:<AWS::Partition>:autoscaling:${stack.region}:${account}:autoScalingGroup:*:autoScalingGroupName/${g.name}]`,
        "An Auto Scaling group's ARN holds a generated id; the group is named.",
      );
  }
  if (own !== undefined && own.ecsServices.length > 0)
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: own.ecsServices.map((e) =>
          stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${e.cluster}/${e.service}` }),
        ),
      }),
    );
  if (auroraGlobalDatabase !== undefined) {
    const globalCluster = stack.formatArn({
      service: 'rds',
      region: '',
      resource: 'global-cluster',
      resourceName: auroraGlobalDatabase.globalClusterIdentifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const members = [auroraGlobalDatabase.clusterArns.production, auroraGlobalDatabase.clusterArns.standby];
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['rds:DescribeGlobalClusters'], resources: [globalCluster] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // The API authorizes the global cluster and its member clusters.
        actions: ['rds:SwitchoverGlobalCluster', 'rds:FailoverGlobalCluster'],
        resources: [globalCluster, ...members],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['rds:DescribeDBClusters'],
        resources: [auroraGlobalDatabase.clusterArns[site]],
      }),
    );
  }
  if (route53FailoverRecord !== undefined) {
    // Reading the zone shows whether the PRIMARY record carries the check (a drill fails if not).
    stack.failoverSteps.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['route53:ListResourceRecordSets'],
        resources: [hostedZoneArn(stack, route53FailoverRecord.hostedZoneId)],
      }),
    );
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
