import { Duration, RemovalPolicy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DetailType, Env, EVENT_SOURCE, peerOf, type SiteId } from '../lambdas/core/wire';
import { type MirrorbeatConfig, tuningOf } from './config';
import { MirrorbeatFunction } from './function';
import { acknowledgeNag, arnWildcardFinding } from './nag';
import { HeartbeatVolume, ObservationsTable } from './heartbeat-volume';
import { SiteMonitoring } from './monitoring';
import { bindFailoverReadiness } from './readiness-check';
import { bindGameDay } from './game-day';
import { type HandlerName, RESERVED_CONCURRENCY, SiteNames, witnessForwarderRole } from './names';
import { SiteKey } from './site-key';
import { receiveWitnessHealth } from './witness-stack';
import { bindHealthSources, bindPromotionActions } from './workload';
import { NoticeTopics } from './notices';
import { FailoverWorkflow, PathControlWorkflow } from './workflows';

/**
 * Handlers that put events on the peer's site bus (beats, commands, acknowledgements, the fence); the peer's bus policy
 * admits exactly their roles.
 */
const PEER_SENDERS = [
  'heartbeat-module',
  'path-control-steps',
  'failover-steps',
] as const satisfies readonly HandlerName[];
/** Handlers that put events on their own site's bus: the failover steps' SitePromoted. */
const OWN_SENDERS = ['failover-steps'] as const satisfies readonly HandlerName[];

export interface SiteStackProps extends StackProps {
  readonly config: MirrorbeatConfig;
  readonly site: SiteId;
}

/**
 * One site: the same stack in each of the two regions. The production stack declares the
 * heartbeat volume (a global table with its replica in the standby region) and the
 * signing key (replicated likewise); the standby stack refers to its local replicas.
 */
export class SiteStack extends Stack {
  readonly names: SiteNames;
  readonly peerNames: SiteNames;
  readonly heartbeatVolume: HeartbeatVolume;
  readonly observations: ObservationsTable;
  readonly siteBus: events.EventBus;
  readonly signingKey: secretsmanager.ISecret;
  readonly key: SiteKey;
  readonly topics: NoticeTopics;
  readonly heartbeatModule: MirrorbeatFunction;
  readonly networkReceiver: MirrorbeatFunction;
  readonly failoverSteps: MirrorbeatFunction;
  readonly pathControlSteps: MirrorbeatFunction;
  readonly failover: FailoverWorkflow;
  readonly pathControl: PathControlWorkflow;
  readonly schedule: scheduler.Schedule;
  readonly monitoring: SiteMonitoring;
  /** Quorum mode: a witness region, whose AWS Health events the witness stack forwards to this site. */
  private readonly quorum: boolean;

  constructor(scope: Construct, id: string, props: SiteStackProps) {
    super(scope, id, props);
    const { config, site } = props;
    if (props.env?.region === undefined)
      throw new Error(`SiteStack ${id}: env.region is required; every site lives in an explicit region`);
    const isProduction = site === 'production';
    const peerRegion = isProduction ? config.standbyRegion : config.productionRegion;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    this.names = new SiteNames(config.clusterName, site);
    this.peerNames = new SiteNames(config.clusterName, peerOf(site));
    this.quorum = config.consistency === 'strong' && config.witnessRegion !== undefined;

    this.heartbeatVolume = new HeartbeatVolume(this, 'HeartbeatVolume', {
      tableName: this.names.heartbeatVolume,
      ...(isProduction
        ? {
            replicaRegion: config.standbyRegion,
            witnessRegion: config.witnessRegion,
            capacity: config.tableCapacity.heartbeatVolume,
          }
        : {}),
    });
    this.observations = new ObservationsTable(this, 'Observations', {
      tableName: this.names.observations,
      capacity: config.tableCapacity.observations,
    });
    this.signingKey = isProduction
      ? new secretsmanager.Secret(this, 'SigningKey', {
          secretName: this.names.signingKey,
          description: `mirrorbeat ${config.clusterName}: HMAC-SHA256 key that signs heartbeats on both paths`,
          generateSecretString: { passwordLength: 64, excludePunctuation: true },
          replicaRegions: [{ region: config.standbyRegion }],
          removalPolicy: RemovalPolicy.RETAIN,
        })
      : secretsmanager.Secret.fromSecretNameV2(this, 'SigningKey', this.names.signingKey);
    this.key = new SiteKey(this, 'SiteKey', { names: this.names });
    this.topics = new NoticeTopics(this, 'Notices', {
      names: this.names,
      key: this.key,
      warningEmails: config.notifications.warningEmails,
      criticalEmails: config.notifications.criticalEmails,
    });
    this.siteBus = new events.EventBus(this, 'SiteBus', {
      eventBusName: this.names.siteBus,
      description: `mirrorbeat ${config.clusterName} ${site} site bus`,
    });
    this.restrictSenders();
    const peerBus = events.EventBus.fromEventBusArn(
      this,
      'PeerBus',
      this.formatArn({
        service: 'events',
        region: peerRegion,
        resource: 'event-bus',
        resourceName: this.peerNames.siteBus,
      }),
    );
    const tuning = tuningOf(config);
    const handler = (
      id: string,
      handlerName: HandlerName,
      description: string,
      timeout?: Duration,
      memorySize?: number,
    ) =>
      new MirrorbeatFunction(this, id, {
        handler: handlerName,
        roleName: this.names.role(handlerName),
        description,
        logRetention,
        logKey: this.key.key,
        ...(config.reserveConcurrency ? { reservedConcurrency: RESERVED_CONCURRENCY[handlerName] } : {}),
        ...(timeout ? { timeout } : {}),
        ...(memorySize ? { memorySize } : {}),
        // The per-beat handlers run every tick: traced only with tracing all (a trace per beat is most of what X-Ray
        // would bill).
        tracing:
          config.tracing === 'all' ||
          !(['heartbeat-module', 'network-receiver'] as HandlerName[]).includes(handlerName),
        // The peer's fence step invokes the failover steps by name, for the workload fence.
        ...(handlerName === 'failover-steps' ? { functionName: this.names.functionName(handlerName) } : {}),
        environment: {
          [Env.cluster]: config.clusterName,
          [Env.site]: site,
          [Env.peerRegion]: peerRegion,
          [Env.tuning]: JSON.stringify(tuning),
        },
      });
    const bindPeerBus = (fn: MirrorbeatFunction) => {
      fn.addEnvironment(Env.peerBus, peerBus.eventBusArn);
      peerBus.grantPutEventsTo(fn.role);
    };
    const bindSigningKey = (fn: MirrorbeatFunction) => {
      fn.addEnvironment(Env.signingKey, this.names.signingKey);
      this.signingKey.grantRead(fn.role);
    };

    this.heartbeatModule = handler(
      'HeartbeatModule',
      'heartbeat-module',
      "Sends this site's beats on both paths and checks the peer's, every interval, for up to 10 minutes, handing over to the next invocation",
      // The handler ticks for up to 10 minutes (lambdas/heartbeat-module/index.ts, RUN_FOR_MS).
      Duration.seconds(660),
      // It runs all the time, so its memory is most of the bill. Lambda gives CPU in proportion to memory; `npm run
      // bench` measures a tick's CPU and stretches it to each share: at 128 MB the p90 fits the 800 ms path timeout,
      // the p99 (an occasional slow tick) not reliably, so the default stays at 256 MB (bench/README.md, "Cost").
      config.heartbeatModuleMemoryMb,
    );
    this.networkReceiver = handler(
      'NetworkReceiver',
      'network-receiver',
      "Receives the peer's network-path beats from the site bus and records valid ones",
    );
    this.failoverSteps = handler(
      'FailoverSteps',
      'failover-steps',
      'Steps of the failover and switchover workflow: confirm, drain, gates, fence, promote, verify',
    );
    this.pathControlSteps = handler(
      'PathControlSteps',
      'path-control-steps',
      'Steps of the path-control workflow: apply, forward, check-ack, finalize, rollback',
    );

    // Who writes what: beats and observations by the module and receiver, the cluster record by the fence, the path
    // registry by path control.
    this.heartbeatVolume.bind(this.heartbeatModule, 'readWrite');
    this.heartbeatVolume.bind(this.networkReceiver, 'read');
    this.heartbeatVolume.bind(this.failoverSteps, 'readWrite');
    this.heartbeatVolume.bind(this.pathControlSteps, 'readWrite');
    this.observations.bind(this.heartbeatModule, 'readWrite');
    this.observations.bind(this.networkReceiver, 'readWrite');
    // The fence message on the network path is a beat, numbered from this site's serial counter.
    this.observations.bind(this.failoverSteps, 'readSerial');
    this.observations.bind(this.pathControlSteps, 'read');
    // Beats, request commands and acknowledgements are all signed with the cluster's key.
    // The failover steps sign and send the fence message on the network path.
    for (const fn of [this.heartbeatModule, this.networkReceiver, this.pathControlSteps, this.failoverSteps])
      bindSigningKey(fn);
    for (const fn of [this.heartbeatModule, this.pathControlSteps, this.failoverSteps]) bindPeerBus(fn);

    // The failover steps: CloudWatch for the replication-lag gate, the site bus for SitePromoted, the hooks.
    this.failoverSteps.addEnvironment(Env.siteBus, this.siteBus.eventBusName);
    this.siteBus.grantPutEventsTo(this.failoverSteps.role);
    this.failoverSteps.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // GetMetricData has no resource-level permissions.
        actions: ['cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
    // The hooks are the user's functions, named by ARN (perhaps in the other region): an identity
    // policy on exactly that function, rather than an imported function's grant, which needs a known account.
    const grantHook = (
      fn: MirrorbeatFunction,
      env: (typeof Env)[keyof typeof Env],
      functionArn: string,
      what: string,
    ) => {
      fn.addEnvironment(env, functionArn);
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [functionArn, `${functionArn}:*`] }),
      );
      acknowledgeNag(
        fn.role,
        `IAM5[Resource::${functionArn}:*]`,
        `Invoking any version of the ${what} the configuration names, and nothing else.`,
      );
    };
    if (config.promotion.hookFunctionArn !== undefined)
      grantHook(this.failoverSteps, Env.promotionHook, config.promotion.hookFunctionArn, 'promotion hook');
    if (config.fenceHookFunctionArn !== undefined) {
      // Called by the fence step of the site that promotes, and by the heartbeat module of the site that is demoted.
      for (const fn of [this.failoverSteps, this.heartbeatModule])
        grantHook(fn, Env.fenceHook, config.fenceHookFunctionArn, 'fence hook');
    }
    bindPromotionActions(this, config, site);

    new events.Rule(this, 'HeartbeatRule', {
      eventBus: this.siteBus,
      description: 'Peer heartbeats, path commands and acknowledgements on the network path to the receiver',
      eventPattern: {
        source: [EVENT_SOURCE],
        detailType: [DetailType.heartbeat, DetailType.pathCommand, DetailType.pathAck],
        account: [this.account],
      },
      // A beat older than a minute says nothing about now; the next one is a few seconds away.
      targets: [
        new targets.LambdaFunction(this.networkReceiver.function, {
          maxEventAge: Duration.minutes(1),
          retryAttempts: 2,
        }),
      ],
    });

    if (this.quorum && config.witnessRegion !== undefined)
      receiveWitnessHealth(this, this.siteBus, this.networkReceiver, config.witnessRegion);
    this.failover = new FailoverWorkflow(this, 'Failover', {
      names: this.names,
      steps: this.failoverSteps,
      topics: this.topics,
      logRetention,
      logKey: this.key.key,
      failoverMode: config.failoverMode,
      approvalTimeout: Duration.seconds(config.approvalTimeoutSeconds),
      intervalSeconds: config.intervalSeconds,
    });
    this.pathControl = new PathControlWorkflow(this, 'PathControl', {
      names: this.names,
      steps: this.pathControlSteps,
      topics: this.topics,
      logRetention,
      logKey: this.key.key,
      intervalSeconds: config.intervalSeconds,
    });
    this.heartbeatModule.addEnvironment(Env.failoverStateMachine, this.failover.stateMachine.stateMachineArn);
    this.failover.stateMachine.grantStartExecution(this.heartbeatModule.role);
    // How its last failover attempt ended decides whether it tries again within a lease (failover-start.ts). No
    // grant names the executions of one state machine by its name (grantExecution splits its ARN at deploy time).
    const executionsOf = (partition: string, region: string, account: string) =>
      `arn:${partition}:states:${region}:${account}:execution:${this.names.stateMachine('failover')}:*`;
    const executions = executionsOf(this.partition, this.region, this.account);
    const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    this.heartbeatModule.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }),
    );
    acknowledgeNag(
      this.heartbeatModule.role,
      `IAM5[Resource::${executionsOf(shown(this.partition, 'Partition'), shown(this.region, 'Region'), shown(this.account, 'AccountId'))}]`,
      'Describing the failover executions the heartbeat module started: each attempt has its own name.',
    );
    this.topics.bind(this.heartbeatModule);
    bindHealthSources(this, config);

    const schedulerRole = new iam.Role(this, 'HeartbeatScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'EventBridge Scheduler invoking the heartbeat module',
    });
    this.schedule = new scheduler.Schedule(this, 'HeartbeatSchedule', {
      description: `mirrorbeat ${config.clusterName} ${site}: run the heartbeat module every minute`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      // A missed minute is better skipped than run late: the next invocation is already due.
      target: new schedulerTargets.LambdaInvoke(this.heartbeatModule.function, {
        role: schedulerRole,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });
    acknowledgeNag(
      schedulerRole,
      arnWildcardFinding(this.heartbeatModule.function),
      'The scheduler may invoke any version of the heartbeat module, and nothing else.',
    );

    this.monitoring = new SiteMonitoring(this, 'Monitoring', {
      names: this.names,
      topics: this.topics,
      heartbeatVolume: this.heartbeatVolume.table,
      peerRegion,
      rpoBudgetSeconds: config.rpoBudgetSeconds,
      intervalSeconds: config.intervalSeconds,
      functions: [this.heartbeatModule, this.networkReceiver, this.failoverSteps, this.pathControlSteps],
      failover: this.failover.stateMachine,
      pathControl: this.pathControl.stateMachine,
      handlerLogs: [this.heartbeatModule.logGroup, this.failoverSteps.logGroup, this.pathControlSteps.logGroup],
      moduleLog: this.heartbeatModule.logGroup,
      phiThreshold: config.phiThreshold,
      deadlineCeilingSeconds: config.deadlineCeilingSeconds,
      quorum: config.consistency === 'strong',
      ...(config.notifications.runbookUrl === undefined ? {} : { runbookUrl: config.notifications.runbookUrl }),
    });
    bindFailoverReadiness(this, config);
    bindGameDay(this, config);
    this.acknowledgeFindings();
  }

  /**
   * The site bus takes events only from the peer's senders and this site's own. In one account
   * an identity policy alone lets a principal put events, so the Allow is paired with an
   * explicit Deny for every other principal. Only PutEvents is denied: the stack's own deploy,
   * rules and targets are untouched. The peer's roles may not exist yet when this site deploys
   * first; naming them in conditions (not as principals) lets either site deploy first. In quorum mode the witness
   * stack's rule is a sender too: it forwards AWS Health events about the witness region (lib/witness-stack.ts).
   */
  private restrictSenders(): void {
    const witness = this.quorum ? [this.roleArn(witnessForwarderRole(this.names.cluster))] : [];
    const peerSenders = [...PEER_SENDERS.map((h) => this.roleArn(this.peerNames.role(h))), ...witness];
    const senders = [...peerSenders, ...OWN_SENDERS.map((h) => this.roleArn(this.names.role(h)))];
    this.siteBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'PeerSiteSenders',
        principals: [new iam.AccountPrincipal(this.account)],
        actions: ['events:PutEvents'],
        resources: [this.siteBus.eventBusArn],
        conditions: { ArnEquals: { 'aws:PrincipalArn': peerSenders } },
      }),
    );
    this.siteBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoOtherSenders',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.siteBus.eventBusArn],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': senders } },
      }),
    );
  }

  private roleArn(roleName: string): string {
    return this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: roleName });
  }

  /** cdk-nag findings this stack accepts that belong to no single construct above, each with its reason. */
  private acknowledgeFindings(): void {
    for (const fn of [this.heartbeatModule, this.networkReceiver, this.failoverSteps, this.pathControlSteps]) {
      acknowledgeNag(
        fn.role,
        'IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords (and, for the failover steps, CloudWatch GetMetricData) have no resource-level permissions.',
      );
    }
    if (this.signingKey instanceof secretsmanager.Secret) {
      acknowledgeNag(
        this.signingKey,
        'SMG4',
        'Rotated by the operator (docs/OPERATIONS.md): receivers accept the AWSCURRENT and AWSPREVIOUS versions, so a put-secret-value never drops a beat. Automatic rotation is planned.',
      );
    }
  }
}
