import { Match, type Template } from 'aws-cdk-lib/assertions';
import { templates } from '../helpers';

const { production, standby } = templates({
  notifications: { criticalEmails: ['oncall@example.com'], warningEmails: ['team@example.com'] },
});
const both: [string, Template][] = [
  ['production', production],
  ['standby', standby],
];

/** The IAM policy statements attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(t: Template, rolePrefix: string): { Action: string | string[]; Resource: unknown }[] {
  const policies = t.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
}
const actionsOf = (t: Template, rolePrefix: string): string[] =>
  statementsOf(t, rolePrefix).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('the game day, off by default', () => {
  it('adds no FIS template, bucket, layer or extension setting unless gameDay is on', () => {
    for (const t of [production, standby]) {
      t.resourceCountIs('AWS::FIS::ExperimentTemplate', 0);
      t.resourceCountIs('AWS::S3::Bucket', 0);
      expect(JSON.stringify(t.toJSON())).not.toMatch(/AWS_FIS_CONFIGURATION_LOCATION|FisExtensionLayer/);
    }
  });
});

describe('the heartbeat volume', () => {
  it('is one global table, declared by production with its replica in the standby region', () => {
    production.resourceCountIs('AWS::DynamoDB::GlobalTable', 2); // the volume and the local observations table
    production.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'mirrorbeat-orders-heartbeat-volume',
      BillingMode: 'PAY_PER_REQUEST',
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'us-west-2',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
        Match.objectLike({
          Region: 'us-east-1',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      ]),
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
  });

  it('is retained when the stack goes away', () => {
    production.hasResource('AWS::DynamoDB::GlobalTable', {
      Properties: { TableName: 'mirrorbeat-orders-heartbeat-volume' },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('is only referred to by the standby, which owns no replica of it', () => {
    standby.resourcePropertiesCountIs(
      'AWS::DynamoDB::GlobalTable',
      { TableName: 'mirrorbeat-orders-heartbeat-volume' },
      0,
    );
    // The standby's handlers are granted the replica in the standby region, by name.
    const resources = JSON.stringify(statementsOf(standby, 'HeartbeatModuleRole').map((s) => s.Resource));
    expect(resources).toContain(':dynamodb:us-west-2:');
    expect(resources).toContain(':table/mirrorbeat-orders-heartbeat-volume');
  });

  it('moves to multi-region strong consistency with a witness when configured', () => {
    const strong = templates({
      consistency: 'strong',
      productionRegion: 'us-east-1',
      standbyRegion: 'us-east-2',
      witnessRegion: 'us-west-2',
    });
    strong.production.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'mirrorbeat-orders-heartbeat-volume',
      MultiRegionConsistency: 'STRONG',
      GlobalTableWitnesses: [{ Region: 'us-west-2' }],
    });
  });
});

describe("the heartbeat module's memory", () => {
  it('is 256 MB by default, and what the configuration says otherwise', () => {
    const memoryOf = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))
        .filter((f) => JSON.stringify(f.Properties.Description).includes("Sends this site's beats"))
        .map((f) => f.Properties.MemorySize as number);
    expect(memoryOf(production)[0]).toBe(256);
    expect(memoryOf(templates({ heartbeatModuleMemoryMb: 128 }).standby)[0]).toBe(128);
  });
});

describe('provisioned table capacity', () => {
  it('keeps the configured units as the floor auto scaling holds, up to four times them, on both tables', () => {
    const provisioned = templates({
      consistency: 'eventual',
      tableCapacity: { heartbeatVolume: { read: 8, write: 4 }, observations: { read: 6, write: 4 } },
    });
    const scaling = (units: number) => ({
      MinCapacity: units,
      MaxCapacity: 4 * units,
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 70 },
    });
    provisioned.production.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'mirrorbeat-orders-heartbeat-volume',
      BillingMode: 'PROVISIONED',
      WriteProvisionedThroughputSettings: { WriteCapacityAutoScalingSettings: scaling(4) },
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'us-west-2',
          ReadProvisionedThroughputSettings: { ReadCapacityAutoScalingSettings: scaling(8) },
        }),
      ]),
    });
    for (const [site, t] of [
      ['production', provisioned.production],
      ['standby', provisioned.standby],
    ] as const)
      t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: `mirrorbeat-orders-${site}-observations`,
        BillingMode: 'PROVISIONED',
        WriteProvisionedThroughputSettings: { WriteCapacityAutoScalingSettings: scaling(4) },
      });
  });

  it('stays on demand by default', () => {
    for (const [, t] of both)
      for (const table of Object.values(t.findResources('AWS::DynamoDB::GlobalTable')))
        expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });
});

describe.each(both)('the %s site', (site, t) => {
  const peer = site === 'production' ? 'standby' : 'production';
  const peerRegion = site === 'production' ? 'us-west-2' : 'us-east-1';

  it('keeps network-path observations in a local table that is never replicated', () => {
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: `mirrorbeat-orders-${site}-observations`,
      Replicas: [Match.objectLike({ Region: site === 'production' ? 'us-east-1' : 'us-west-2' })],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it("admits PutEvents on its bus only from the peer site's sending roles (and its own SitePromoted sender), denying everyone else", () => {
    const policies = Object.values(t.findResources('AWS::Events::EventBusPolicy')).map(
      (p) =>
        p.Properties.Statement as {
          Effect: string;
          Action: string;
          Condition: Record<string, Record<string, unknown[]>>;
        },
    );
    expect(policies.map((p) => [p.Effect, p.Action])).toEqual([
      ['Allow', 'events:PutEvents'],
      ['Deny', 'events:PutEvents'],
    ]);
    const roles = (arns: unknown) => JSON.stringify(arns).match(/:role\/[a-z-]+/g);
    const peerSenders = [
      `:role/mirrorbeat-orders-${peer}-heartbeat-module`,
      `:role/mirrorbeat-orders-${peer}-path-control-steps`,
      `:role/mirrorbeat-orders-${peer}-failover-steps`,
      // Quorum mode: the witness stack's rule, forwarding AWS Health events about the witness region.
      ':role/mirrorbeat-orders-witness-health',
    ];
    expect(roles(policies[0]?.Condition.ArnEquals?.['aws:PrincipalArn'])).toEqual(peerSenders);
    expect(roles(policies[1]?.Condition.ArnNotEquals?.['aws:PrincipalArn'])).toEqual([
      ...peerSenders,
      `:role/mirrorbeat-orders-${site}-failover-steps`,
    ]);
  });

  it('routes the AWS Health events the witness stack forwards from its bus to the network receiver, which knows the witness region', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: { source: ['aws.health'], 'detail-type': ['AWS Health Event'], account: ['123456789012'] },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkReceiverFunction'), 'Arn'] } }),
      ],
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Environment: { Variables: Match.objectLike({ MIRRORBEAT_WITNESS_REGION: 'us-east-2' }) },
      Description: Match.stringLikeRegexp('^Receives'),
    });
  });

  it('routes peer heartbeats, path commands and acknowledgements from its bus to the network receiver', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: {
        source: ['mirrorbeat'],
        'detail-type': ['Heartbeat', 'PathCommand', 'PathAck'],
        account: ['123456789012'],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkReceiverFunction'), 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
        }),
      ],
    });
  });

  it('runs every handler on Node.js 24 and arm64 with source maps; X-Ray on the steps, not on every beat unless tracing is all', () => {
    const functions = t.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(4);
    const traced = (template: Template) =>
      Object.entries(template.findResources('AWS::Lambda::Function'))
        .filter(([, fn]) => fn.Properties.TracingConfig?.Mode === 'Active')
        .map(([id]) => id.replace(/Function.*$/, ''))
        .sort();
    expect(traced(t)).toEqual(['FailoverSteps', 'PathControlSteps']);
    expect(traced(templates({ tracing: 'all' })[site as 'production' | 'standby'])).toEqual([
      'FailoverSteps',
      'HeartbeatModule',
      'NetworkReceiver',
      'PathControlSteps',
    ]);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/Logs/) } },
        Environment: {
          Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps', MIRRORBEAT_SITE: site }),
        },
      });
    }
    t.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('invokes the heartbeat module every minute, never late', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HeartbeatModuleFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        RoleArn: Match.anyValue(),
      },
    });
  });

  it('lets the heartbeat module send only to the peer bus, in the peer region', () => {
    const puts = statementsOf(t, 'HeartbeatModuleRole').filter((s) => s.Action === 'events:PutEvents');
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]?.Resource)).toContain(`:events:${peerRegion}:`);
    expect(JSON.stringify(puts[0]?.Resource)).toContain(`:event-bus/mirrorbeat-orders-${peer}`);
  });

  it('lets only the writers write each table', () => {
    const writes = (rolePrefix: string, tablePattern: RegExp) =>
      statementsOf(t, rolePrefix).some(
        (st) =>
          JSON.stringify(st.Action).includes('dynamodb:PutItem') && tablePattern.test(JSON.stringify(st.Resource)),
      );
    const volume = site === 'production' ? /HeartbeatVolumeGlobalTable/ : /table\/mirrorbeat-orders-heartbeat-volume/;
    expect(writes('HeartbeatModuleRole', volume)).toBe(true);
    expect(writes('NetworkReceiverRole', volume)).toBe(false);
    expect(writes('NetworkReceiverRole', /ObservationsTable/)).toBe(true);
    expect(writes('FailoverStepsRole', /ObservationsTable/)).toBe(false);
    expect(writes('PathControlStepsRole', /ObservationsTable/)).toBe(false);
  });

  it('grants each handler only what its job needs', () => {
    expect(actionsOf(t, 'NetworkReceiverRole')).not.toContain('events:PutEvents');
    expect(actionsOf(t, 'NetworkReceiverRole')).toContain('secretsmanager:GetSecretValue');
    expect(actionsOf(t, 'FailoverStepsRole')).toContain('cloudwatch:GetMetricData');
    // The failover steps sign the fence message they send to the peer's bus; they change no traffic unless configured
    // to.
    expect(actionsOf(t, 'FailoverStepsRole')).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue', 'events:PutEvents']),
    );
    expect(actionsOf(t, 'FailoverStepsRole').filter((a) => a.startsWith('route53'))).toEqual([]);
    expect(actionsOf(t, 'HeartbeatModuleRole')).toContain('states:StartExecution');
    // The module announces path and verdict changes itself; it reads no alarm unless health sources name some.
    expect(actionsOf(t, 'HeartbeatModuleRole')).toEqual(
      expect.arrayContaining(['sns:Publish', 'kms:GenerateDataKey*']),
    );
    expect(actionsOf(t, 'HeartbeatModuleRole')).not.toContain('cloudwatch:DescribeAlarms');
    // No handler role carries AWS managed policies: log writing is granted on its own log group.
    for (const role of Object.values(t.findResources('AWS::IAM::Role')))
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('has a failover and a path-control state machine that log everything and trace', () => {
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    for (const name of ['failover', 'path-control']) {
      t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: `mirrorbeat-orders-${site}-${name}`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [Match.anyValue()] },
      });
    }
  });

  it('gives the failover workflow its confirm, gates, fence, promote, verify and notify states', () => {
    const machines = t.findResources('AWS::StepFunctions::StateMachine', {
      Properties: { StateMachineName: `mirrorbeat-orders-${site}-failover` },
    });
    const definition = JSON.stringify(Object.values(machines)[0]?.Properties.DefinitionString);
    for (const state of [
      'Confirm',
      'Gates',
      'Drain',
      'CheckHandover',
      'CancelDrain',
      'Fence',
      'AlreadyPromoted?',
      'Promote',
      'PromotionUnderWay?',
      'WaitForWorkload',
      'ResumePromotion',
      'Verify',
      'NotifyPromoted',
      'NotifySwitchoverCompleted',
      'DrillComplete',
      'NotifyFailoverFailed',
    ]) {
      expect(definition).toContain(`\\"${state}\\":{`);
    }
    expect(definition).not.toContain('\\"AwaitApproval\\"');
  });

  it("lets the workflows' step handlers, not their state machines, publish to the encrypted topics, key included", () => {
    for (const prefix of ['FailoverStepsRole', 'PathControlStepsRole', 'HeartbeatModuleRole']) {
      expect(actionsOf(t, prefix)).toEqual(
        expect.arrayContaining(['sns:Publish', 'kms:GenerateDataKey*', 'kms:Decrypt']),
      );
    }
    for (const prefix of ['FailoverStateMachineRole', 'PathControlStateMachineRole'])
      expect(actionsOf(t, prefix)).not.toContain('sns:Publish');
  });

  it('encrypts both notice topics with a rotating key and refuses plain HTTP', () => {
    t.resourceCountIs('AWS::SNS::Topic', 2);
    t.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.resourceCountIs('AWS::SNS::TopicPolicy', 2);
    t.allResourcesProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes the configured addresses by severity', () => {
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('Critical') },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'team@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('Warning') },
    });
  });

  it('alarms on each path, on both paths, on failover failure and on handler errors, with OK actions', () => {
    for (const name of [
      'NetworkPathFailed',
      'StoragePathFailed',
      'BothPathsFailed',
      'FailoverFailed',
      'HeartbeatModuleStopped',
      'HeartbeatModuleErrors',
      'NetworkReceiverErrors',
    ]) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `mirrorbeat-orders-${site}-${name}`,
        AlarmActions: [Match.objectLike({ Ref: Match.anyValue() })],
        OKActions: [Match.objectLike({ Ref: Match.anyValue() })],
      });
    }
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `mirrorbeat-orders-${site}-NetworkPathFailed`,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('NoticesWarning') }],
      Dimensions: Match.arrayWith([{ Name: 'Path', Value: 'network' }]),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `mirrorbeat-orders-${site}-BothPathsFailed`,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('NoticesCritical') }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `mirrorbeat-orders-${site}-HeartbeatModuleStopped`,
      TreatMissingData: 'breaching',
    });
  });

  it('pages when SNS refuses notices for five minutes running, and says when it takes them again', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `mirrorbeat-orders-${site}-NoticesUndelivered`,
      MetricName: 'NoticesUndelivered',
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('NoticesCritical') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('NoticesCritical') }],
    });
  });

  it('alarms critically when the cluster is unprotected, and warns when the peer reports its workload failed', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `mirrorbeat-orders-${site}-Unprotected`,
      MetricName: 'Verdict',
      Dimensions: Match.arrayWith([{ Name: 'Verdict', Value: 'unprotected' }]),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('NoticesCritical') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('NoticesCritical') }],
      TreatMissingData: 'notBreaching',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `mirrorbeat-orders-${site}-PeerFailureReported`,
      MetricName: 'PeerHealthFailed',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('NoticesWarning') }],
    });
  });

  it('shows phi against its threshold, the verdict, the role, invalid beats by reason and the latest notices', () => {
    const body = JSON.stringify(
      Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardBody,
    );
    for (const piece of [
      // Phi, the deadline, the beat age and the role are plotted from the module's log, as no metric series.
      'max(Phi)',
      'phiThreshold 8',
      '\\"Verdict\\"',
      'max(ActingPrimary)',
      'Reason} MetricName=',
      "filter message = 'notice'",
      '\\"PathMode\\"',
      'max(DeadlineSeconds)',
    ])
      expect(body).toContain(piece);
  });

  it('has a dashboard', () => {
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: `mirrorbeat-orders-${site}` });
  });
});

describe('the signing key', () => {
  it('is created once, in production, and replicated to the standby region', () => {
    production.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'mirrorbeat-orders/heartbeat-signing-key',
      ReplicaRegions: [{ Region: 'us-west-2' }],
    });
    standby.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it("is readable by the standby's heartbeat module through its replica", () => {
    const resources = JSON.stringify(
      statementsOf(standby, 'HeartbeatModuleRole')
        .filter((s) => JSON.stringify(s.Action).includes('GetSecretValue'))
        .map((s) => s.Resource),
    );
    expect(resources).toContain(':secretsmanager:us-west-2:');
    expect(resources).toContain(':secret:mirrorbeat-orders/heartbeat-signing-key-??????');
  });
});

describe('approval mode', () => {
  it('waits for an operator with a task token before fencing', () => {
    const { standby: t } = templates({ failoverMode: 'approval' });
    const machines = t.findResources('AWS::StepFunctions::StateMachine', {
      Properties: { StateMachineName: 'mirrorbeat-orders-standby-failover' },
    });
    const definition = JSON.stringify(Object.values(machines)[0]?.Properties.DefinitionString);
    expect(definition).toContain('\\"AwaitApproval\\":{');
    // The approval request is the notify step, invoked with the token: the CLI finds the token there.
    expect(definition).toContain(':states:::lambda:invoke.waitForTaskToken');
    expect(definition).toContain('\\"taskToken.$\\":\\"$$.Task.Token\\"');
  });
});

describe('promotion actions', () => {
  const healthCheckId = '0b7c0a2e-3f2f-4a8e-9c55-3c1f0f0e9a11';
  const control = 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol';
  const { standby: t } = templates({
    promotion: {
      arc: {
        clusterEndpoints: [{ url: 'https://host-a.us-east-1.example.com/v1', region: 'us-east-1' }],
        routingControls: { production: `${control}/p1`, standby: `${control}/s1` },
      },
      route53FailoverRecord: { hostedZoneId: 'Z0123456789ABC', recordName: 'api.example.com', healthCheckId },
    },
    fenceHookFunctionArn: 'arn:aws:lambda:us-west-2:123456789012:function:fence-orders',
  });

  it('may update exactly the configured routing controls and health check, and nothing else in Route 53', () => {
    const statements = statementsOf(t, 'FailoverStepsRole');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: [
            'route53-recovery-cluster:UpdateRoutingControlStates',
            'route53-recovery-cluster:GetRoutingControlState',
          ],
          Resource: [`${control}/p1`, `${control}/s1`],
        }),
        expect.objectContaining({
          Action: ['route53:GetHealthCheck', 'route53:UpdateHealthCheck'],
          Resource: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::healthcheck/${healthCheckId}`]],
          },
        }),
      ]),
    );
  });

  it('hands the failover steps the actions, and both the fence step and a demoted heartbeat module the fence hook', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MIRRORBEAT_PROMOTION_ACTIONS: Match.stringLikeRegexp('"route53FailoverRecord"'),
        }),
      },
    });
    expect(actionsOf(t, 'HeartbeatModuleRole')).toContain('lambda:InvokeFunction');
    expect(actionsOf(t, 'FailoverStepsRole')).toContain('lambda:InvokeFunction');
  });
});

describe('workload health sources', () => {
  const { production: t } = templates({
    health: { alarmNames: ['orders-5xx', 'orders-latency'], url: 'https://orders.example.com/health', timeoutMs: 500 },
  });

  it('hands the heartbeat module its alarms and URL', () => {
    const fns = t.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { MIRRORBEAT_HEALTH_SOURCES: Match.anyValue() } } },
    });
    const variables = Object.values(fns).map(
      (f) =>
        (f.Properties as { Environment: { Variables: Record<string, string> } }).Environment.Variables
          .MIRRORBEAT_HEALTH_SOURCES,
    );
    expect(variables.map((v) => JSON.parse(v ?? '{}') as unknown)).toEqual([
      { alarmNames: ['orders-5xx', 'orders-latency'], url: 'https://orders.example.com/health', timeoutMs: 500 },
    ]);
  });

  it('lets the module read exactly those alarms', () => {
    const statement = statementsOf(t, 'HeartbeatModuleRole').find((s) => s.Action === 'cloudwatch:DescribeAlarms');
    expect(JSON.stringify(statement?.Resource)).toContain(':cloudwatch:us-east-1:123456789012:alarm:orders-5xx');
    expect(JSON.stringify(statement?.Resource)).toContain(':alarm:orders-latency');
  });

  it('sends exactly those alarms going to ALARM to the heartbeat module at once, for an extra beat', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: ['orders-5xx', 'orders-latency'], state: { value: ['ALARM'] } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HeartbeatModule'), 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 1 },
        }),
      ],
    });
  });

  it('has no alarm rule when no alarm is watched', () => {
    expect(
      Object.keys(
        production.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.cloudwatch'] } } }),
      ),
    ).toEqual([]);
  });
});
