import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EBSClient } from '@aws-sdk/client-ebs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { RDSClient } from '@aws-sdk/client-rds';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetHealthCheckCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import {
  Route53RecoveryClusterClient,
  UpdateRoutingControlStatesCommand,
} from '@aws-sdk/client-route53-recovery-cluster';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { StateMachine } from 'aws-local-stepfunctions';
import { parseConfig } from '../../../lib/config';
import { type Heartbeat, signHeartbeat } from '../../../lambdas/core/message';
import { parseStepInput } from '../../../lambdas/core/steps';
import { clusterKey, fenceKey } from '../../../lambdas/core/volume';
import { PATHS, type PromotionActions } from '../../../lambdas/core/wire';
import { FAILOVER_STEPS, type FailoverDeps, runFailoverStep } from '../../../lambdas/failover-steps/steps';
import { siteNoticeDesk } from '../../../lambdas/shared/notifier';
import { synthesizeDefinitions } from '../../../local/definitions';
import { failStateOf } from '../../../local/step-summary';
import { config } from '../../helpers';
import { type LocalSite, localSites, TEST_KEY } from '../../local-sites';

/**
 * The failover state machine exactly as synthesized, under aws-local-stepfunctions, each Task
 * bound to the real step handler on DynamoDB Local. Only services without a local
 * implementation are mocked: CloudWatch, EventBridge, Lambda, Route 53, Route 53 ARC and SNS.
 * Notices go through the real notice desk, its journal in DynamoDB Local.
 */
const ARC_CONTROL = 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol';
const CONFIG = {
  promotion: {
    arc: {
      clusterEndpoints: [
        { url: 'https://host-a.us-east-1.example.com/v1', region: 'us-east-1' },
        { url: 'https://host-b.us-west-2.example.com/v1', region: 'us-west-2' },
      ],
      routingControls: { production: `${ARC_CONTROL}/p1`, standby: `${ARC_CONTROL}/s1` },
    },
    route53FailoverRecord: {
      hostedZoneId: 'Z0123456789ABC',
      recordName: 'api.example.com',
      healthCheckId: '0b7c0a2e-3f2f-4a8e-9c55-3c1f0f0e9a11',
    },
    hookFunctionArn: 'arn:aws:lambda:us-west-2:123456789012:function:promote-hook',
  },
};
const definition = synthesizeDefinitions(parseConfig({ ...config(), ...CONFIG })).standby.stateMachines
  .failover as Record<string, unknown>;
const NOW = Math.floor(Date.now() / 1000) * 1000;

const cloudwatch = mockClient(CloudWatchClient);
const events = mockClient(EventBridgeClient);
const lambda = mockClient(LambdaClient);
const route53 = mockClient(Route53Client);
const sns = mockClient(SNSClient);
const arc = mockClient(Route53RecoveryClusterClient);

interface Run {
  readonly status: 'succeeded' | 'failed';
  readonly output: Record<string, unknown> | undefined;
  readonly error: string | undefined;
  /** Every state entered, in order. */
  readonly states: string[];
  readonly notices: { kind: string; subject: string; message: Record<string, unknown> }[];
}

let sites: { production: LocalSite; standby: LocalSite };

beforeEach(async () => {
  sites = await localSites(CONFIG);
  for (const mock of [cloudwatch, events, lambda, route53, arc, sns]) mock.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [700] }] });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
  route53
    .on(GetHealthCheckCommand)
    .resolves({ HealthCheck: { Id: 'hc', CallerReference: 'r', HealthCheckConfig: undefined, HealthCheckVersion: 4 } });
  route53.on(UpdateHealthCheckCommand).resolves({});
  route53.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets: [
      {
        Name: 'api.example.com.',
        Type: 'A',
        SetIdentifier: 'production',
        Failover: 'PRIMARY',
        HealthCheckId: CONFIG.promotion.route53FailoverRecord.healthCheckId,
      },
      { Name: 'api.example.com.', Type: 'A', SetIdentifier: 'standby', Failover: 'SECONDARY' },
    ],
    IsTruncated: false,
    MaxItems: 100,
  });
  arc
    .on(UpdateRoutingControlStatesCommand)
    .rejectsOnce(Object.assign(new Error('endpoint down'), { name: 'EndpointTemporarilyUnavailableException' }))
    .resolves({});
});

function deps(site: LocalSite, overrides: Partial<FailoverDeps> = {}): FailoverDeps {
  return {
    settings: site.settings,
    store: site.store,
    db: site.db,
    peerCloudWatch: new CloudWatchClient({ region: site.settings.peerRegion }),
    keys: { current: async () => TEST_KEY },
    peerEvents: new EventBridgeClient({ region: site.settings.peerRegion }),
    peerBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/mirrorbeat-orders-production',
    actions: {
      arc: CONFIG.promotion.arc,
      route53FailoverRecord: CONFIG.promotion.route53FailoverRecord,
    } satisfies PromotionActions,
    route53: new Route53Client({ region: 'us-east-1' }),
    arcFor: ({ region }) => new Route53RecoveryClusterClient({ region }),
    events: new EventBridgeClient({ region: site.settings.region }),
    lambdaFor: () => new LambdaClient({ region: site.settings.region }),
    siteBus: 'mirrorbeat-orders-standby',
    promotionHook: CONFIG.promotion.hookFunctionArn,
    fenceHook: undefined,
    peerWorkloadFence: undefined,
    notices: siteNoticeDesk({
      settings: site.settings,
      sns: new SNSClient({ region: site.settings.region }),
      topics: { warning: 'arn:aws:sns:us-west-2:123456789012:w', critical: 'arn:aws:sns:us-west-2:123456789012:c' },
      db: site.db,
      timeoutMs: 5_000,
      log: () => undefined,
    }),
    readiness: undefined,
    ebs: new EBSClient({ region: site.settings.region }),
    ec2: new EC2Client({ region: site.settings.region }),
    autoScaling: new AutoScalingClient({ region: site.settings.region }),
    ecs: new ECSClient({ region: site.settings.region }),
    rds: new RDSClient({ region: site.settings.region }),
    now: () => NOW,
    ...overrides,
  };
}

/** Runs one execution of the synthesized definition to its end. */
async function execute(
  input: Record<string, unknown>,
  stepDeps: FailoverDeps,
  name = 'failover-epoch-2',
): Promise<Run> {
  const states = definition.States as Record<string, { Type: string; Resource?: string }>;
  const handlers: Record<string, (taskInput: Record<string, unknown>) => Promise<unknown>> = {};
  const retries: Record<string, number> = {};
  const publishedBefore = sns.commandCalls(PublishCommand).length;
  for (const [stateName, state] of Object.entries(states)) {
    if (state.Type !== 'Task') continue;
    retries[stateName] = 0;
    // aws-local-stepfunctions stamps its own start time: the execution started 1.5 s before NOW.
    handlers[stateName] = async (taskInput) => ({
      Payload: await runFailoverStep(
        { ...parseStepInput(taskInput.Payload, FAILOVER_STEPS), startedAt: new Date(NOW - 1500).toISOString() },
        stepDeps,
      ),
    });
  }
  const notices = (): Run['notices'] =>
    sns
      .commandCalls(PublishCommand)
      .slice(publishedBefore)
      .map((call) => {
        const input = call.args[0].input;
        return {
          kind: String(input.MessageAttributes?.kind?.StringValue),
          subject: String(input.Subject),
          message: JSON.parse(JSON.parse(String(input.Message)).lambda as string) as Record<string, unknown>,
        };
      });
  const run = new StateMachine(definition as never, { validationOptions: { checkPaths: false, checkArn: false } }).run(
    input as never,
    {
      overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: retries },
      context: {
        Execution: {
          Id: `arn:aws:states:us-west-2:123456789012:execution:mirrorbeat-orders-standby-failover:${name}`,
          Name: name,
        },
      },
    },
  );
  const entered: string[] = [];
  const logs = (async () => {
    for await (const event of run.eventLogs) {
      const e = event as { type?: string; state?: { name: string } };
      if (e.type === 'StateEntered' && e.state) entered.push(e.state.name);
    }
  })();
  try {
    const output = (await run.result) as Record<string, unknown>;
    await logs;
    return { status: 'succeeded', output, error: undefined, states: entered, notices: notices() };
  } catch (error) {
    await logs.catch(() => undefined);
    // A Fail state's error and cause, as the console shows them; any other failure as it came.
    const stop = failStateOf(error);
    return {
      status: 'failed',
      output: undefined,
      error: stop ? `${stop.error}: ${stop.cause}` : `${(error as Error).name}: ${(error as Error).message}`,
      states: entered,
      notices: notices(),
    };
  }
}

function beat(serial: number): Heartbeat {
  return signHeartbeat(
    {
      v: 1,
      cluster: 'orders',
      site: 'production',
      region: 'us-east-1',
      serial,
      sentAt: new Date(NOW).toISOString(),
      epoch: 1,
      role: 'primary',
      health: 'ok',
    },
    TEST_KEY,
  );
}

/** The standby last heard production `agoMs` ago on both paths. */
async function lastHeard(agoMs: number): Promise<void> {
  for (const path of PATHS) await sites.standby.store.recordBeat(path, beat(NOW - agoMs), NOW - agoMs, 3600);
}

async function cluster(site: LocalSite): Promise<Record<string, unknown> | undefined> {
  return (
    await site.db.send(
      new GetCommand({ TableName: site.settings.heartbeatVolume, Key: clusterKey(), ConsistentRead: true }),
    )
  ).Item;
}

const AUTOMATIC = {
  reason: 'peer-lost',
  requestedBy: 'heartbeat-module',
  expectedEpoch: 1,
  from: 'production',
  to: 'standby',
};

describe('the failover workflow as synthesized, on DynamoDB Local', () => {
  it('promotes a lost peer: fence, traffic actions, hook, event, verified decision record', async () => {
    await lastHeard(60_000);
    const run = await execute(AUTOMATIC, deps(sites.standby));
    expect(run.error).toBeUndefined();
    expect(run.states).toEqual([
      'Kind?',
      'NotifyFailoverStarted',
      'Confirm',
      'PeerStillLost?',
      'Gates',
      'GatesPassed?',
      'Fence',
      'AlreadyPromoted?',
      'Promote',
      'PromotionUnderWay?',
      'Verify',
      'Verified?',
      'Switchover?',
      'NotifyPromoted',
      'Promoted',
    ]);
    expect(await cluster(sites.standby)).toMatchObject({
      epoch: 2,
      primary: 'standby',
      handedOver: false,
      verifiedAt: expect.any(String),
    });
    const fence = await sites.standby.db.send(
      new GetCommand({ TableName: sites.standby.settings.heartbeatVolume, Key: fenceKey(2) }),
    );
    expect(fence.Item).toMatchObject({ fenced: 'production', by: 'standby' });

    // The fence message on the network path: a signed beat at epoch 2 claiming primary, to the peer's bus.
    const fenceBeat = JSON.parse(
      String(
        events.commandCalls(PutEventsCommand).find((c) => c.args[0].input.Entries?.[0]?.DetailType === 'Heartbeat')
          ?.args[0].input.Entries?.[0]?.Detail,
      ),
    ) as Heartbeat;
    expect(fenceBeat).toMatchObject({ site: 'standby', epoch: 2, role: 'primary', notice: { kind: 'fence' } });
    // Traffic moves: ARC (the first endpoint down, the second answers), then the health check inverted.
    expect(arc.commandCalls(UpdateRoutingControlStatesCommand)).toHaveLength(2);
    expect(
      arc.commandCalls(UpdateRoutingControlStatesCommand)[1]?.args[0].input.UpdateRoutingControlStateEntries,
    ).toEqual([
      { RoutingControlArn: `${ARC_CONTROL}/s1`, RoutingControlState: 'On' },
      { RoutingControlArn: `${ARC_CONTROL}/p1`, RoutingControlState: 'Off' },
    ]);
    expect(route53.commandCalls(UpdateHealthCheckCommand)[0]?.args[0].input).toMatchObject({
      Inverted: true,
      HealthCheckVersion: 4,
    });
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);

    const promoted = run.notices.find((n) => n.kind === 'promoted');
    const decision = promoted?.message.decision as Record<string, unknown>;
    expect(decision).toMatchObject({
      kind: 'failover',
      reason: 'peer-lost',
      from: 'production',
      to: 'standby',
      epoch: 2,
      decisionToVerifiedMs: 1500,
    });
    expect((decision.actions as { action: string }[]).map((a) => a.action)).toEqual([
      'arc-routing-controls',
      'route53-health-check',
      'hook',
      'site-promoted-event',
    ]);
    expect(Object.keys(decision.stepMs as object)).toEqual(['confirm', 'gates', 'fence', 'promote']);
  });

  it('aborts when valid beats came back before the fence, and changes nothing', async () => {
    await lastHeard(1_000);
    const run = await execute(AUTOMATIC, deps(sites.standby));
    expect(run.status).toBe('succeeded');
    expect(run.states.at(-1)).toBe('Aborted');
    expect(run.notices.map((n) => n.kind)).toEqual(['failover-started', 'failover-aborted']);
    expect(await cluster(sites.standby)).toBeUndefined();
  });

  it('confirms by counting the beats since the decision, not by the clock: a standby clock stepped back 45 s still sees its peer lost', async () => {
    await lastHeard(30_000);
    const known = { evidence: { lastSerials: { network: NOW - 30_000, storage: NOW - 30_000 } } };
    const confirm = (state: Record<string, unknown>, d: FailoverDeps) =>
      runFailoverStep({ step: 'confirm', execution: 'x', state }, d);
    const stepped = deps(sites.standby, { now: () => NOW - 45_000 });
    expect(await confirm({ ...AUTOMATIC, ...known }, stepped)).toMatchObject({ peerLost: true, newBeats: [] });
    // Timed on that clock, a 30 s old beat is 15 s in the future, and looks alive.
    expect(await confirm(AUTOMATIC, stepped)).toMatchObject({ peerLost: false });
    // A beat the module had not seen when it decided: the peer came back.
    await sites.standby.store.recordBeat('network', beat(NOW - 1_000), NOW - 1_000, 3600);
    expect(await confirm({ ...AUTOMATIC, ...known }, stepped)).toMatchObject({
      peerLost: false,
      why: `production beat again since the decision (serial ${NOW - 1_000})`,
    });
    // Stepped down: only a beat as primary since the decision calls the takeover off.
    expect(await confirm({ ...AUTOMATIC, ...known, reason: 'peer-stepped-down' }, stepped)).toMatchObject({
      peerLost: false,
    });
  });

  it('retries a throttled fence write and then promotes', async () => {
    await lastHeard(60_000);
    let throttled = 0;
    sites.standby.db.middlewareStack.add(
      (next) => async (args) => {
        const input = (args as { input: { UpdateExpression?: string } }).input;
        if (throttled === 0 && input.UpdateExpression?.includes('promotedBy') === true) {
          throttled += 1;
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
            name: 'ProvisionedThroughputExceededException',
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleOnce' },
    );
    const run = await execute(AUTOMATIC, deps(sites.standby));
    expect(throttled).toBe(1);
    expect(run.states.at(-1)).toBe('Promoted');
    expect(await cluster(sites.standby)).toMatchObject({ epoch: 2, primary: 'standby' });
  });

  it('a failure in promote leaves one consistent primary and pages; starting it again resumes at promote', async () => {
    await lastHeard(60_000);
    route53.on(UpdateHealthCheckCommand).rejects(
      Object.assign(new Error('User: mirrorbeat is not authorized to perform route53:UpdateHealthCheck'), {
        name: 'AccessDenied',
      }),
    );
    const failed = await execute(AUTOMATIC, deps(sites.standby));
    expect(failed.status).toBe('failed');
    expect(failed.states.slice(-4)).toEqual([
      'CancelDrain',
      'FailedInDrill?',
      'NotifyFailoverFailed',
      'FailoverFailed',
    ]);
    const page = failed.notices.at(-1);
    expect(page).toMatchObject({ kind: 'failover-aborted', subject: expect.stringMatching(/FAILED/) });
    expect(JSON.stringify(page?.message)).toContain('not authorized to perform route53:UpdateHealthCheck');
    // The fence holds: standby is the one primary at epoch 2, not yet verified.
    const record = await cluster(sites.standby);
    expect(record).toMatchObject({ epoch: 2, primary: 'standby' });
    expect(record?.verifiedAt).toBeUndefined();

    route53.on(UpdateHealthCheckCommand).resolves({});
    const resumed = await execute({ reason: 'operator', expectedEpoch: 1 }, deps(sites.standby), 'operator-resume');
    expect(resumed.output?.fence).toMatchObject({ result: { epoch: 2, alreadyFenced: true, alreadyDone: false } });
    expect(resumed.states.at(-1)).toBe('Promoted');
    expect(await cluster(sites.standby)).toMatchObject({ epoch: 2, verifiedAt: expect.any(String) });
  });

  it('started a second time for an epoch it completed, does nothing', async () => {
    await lastHeard(60_000);
    await execute(AUTOMATIC, deps(sites.standby));
    const callsBefore = lambda.commandCalls(InvokeCommand).length;
    const again = await execute(
      { ...AUTOMATIC, requestedBy: 'operator' },
      deps(sites.standby),
      'failover-epoch-2-again',
    );
    expect(again.states.slice(-2)).toEqual(['AlreadyPromoted?', 'AlreadyPromoted']);
    expect(again.states).not.toContain('Promote');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(callsBefore);
    expect(await cluster(sites.standby)).toMatchObject({ epoch: 2, primary: 'standby' });
  });

  it('blocks a gate that fails, with the evidence, and pages', async () => {
    await lastHeard(60_000);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [45_000] }] });
    const run = await execute(AUTOMATIC, deps(sites.standby));
    expect(run.status).toBe('failed');
    expect(run.states.slice(-3)).toEqual(['CancelDrainBlocked', 'NotifyGatesBlocked', 'GatesBlocked']);
    expect(JSON.stringify(run.notices.at(-1)?.message)).toContain(
      'replication lag 45000 ms against a budget of 30000 ms',
    );
    expect(await cluster(sites.standby)).toBeUndefined();
  });

  it('rejects bad input naming the field, before it changes anything', async () => {
    const run = await execute({ kind: 'takeover' }, deps(sites.standby));
    expect(run.status).toBe('failed');
    expect(run.states.slice(-2)).toEqual(['NotifyFailoverFailed', 'FailoverFailed']);
    expect(JSON.stringify(run.notices.at(-1)?.message)).toContain(
      'kind: got \\"takeover\\"; allowed: failover or switchover',
    );
    expect(await cluster(sites.standby)).toBeUndefined();
    await expect(
      runFailoverStep({ step: 'confirm', execution: 'x', state: { dryRun: 'yes' } }, deps(sites.standby)),
    ).rejects.toThrow(/^dryRun: got "yes"; expected true or false$/);
    await expect(
      runFailoverStep({ step: 'fence', execution: 'x', state: { expectedEpoch: 0 } }, deps(sites.standby)),
    ).rejects.toThrow(/^expectedEpoch: got 0;/);
  });

  it('ends a bad console input with the field and the fix as the execution error and cause, drills too', async () => {
    const typo = await execute({ kind: 'failover', dryrun: true }, deps(sites.standby), 'typo-1');
    expect(typo.status).toBe('failed');
    expect(typo.states.at(-1)).toBe('FailoverFailed');
    expect(typo.error).toBe(
      'InvalidInput: dryrun: not a key of this input; allowed: kind, dryRun, reason, requestedBy, expectedEpoch, such as {"kind": "failover", "dryRun": true, "reason": "game day"}',
    );
    const drill = await execute({ dryRun: true, kind: 'takeover' }, deps(sites.standby), 'drill-typo');
    expect(drill.states.slice(-2)).toEqual(['ExplainDrillFailure', 'DrillFailed']);
    expect(drill.error).toBe('InvalidInput: kind: got "takeover"; allowed: failover or switchover');
    expect(drill.notices).toEqual([]);
    expect(await cluster(sites.standby)).toBeUndefined();
  });

  it('says in its Comment what to type', () => {
    expect(definition.Comment).toContain('{"kind": "failover", "dryRun": true');
  });

  it('a drill runs every step, reports the timings and the actions it would take, and writes or calls nothing', async () => {
    await lastHeard(1_000);
    const run = await execute({ dryRun: true }, deps(sites.standby), 'drill-1');
    expect(run.status).toBe('succeeded');
    expect(run.states.at(-1)).toBe('DrillComplete');
    expect(run.notices).toEqual([]);
    expect(run.output?.confirm).toMatchObject({ result: { peerLost: false } });
    expect(run.output?.fence).toMatchObject({
      result: { dryRun: true, would: 'write epoch 2 naming standby over production at epoch 1' },
    });
    expect(
      (run.output?.promote as { result: { actions: { action: string }[] } }).result.actions.map((a) => a.action),
    ).toEqual(['arc-routing-controls', 'route53-health-check', 'hook', 'site-promoted-event']);
    expect(run.output?.verify).toMatchObject({
      result: {
        decision: {
          dryRun: true,
          stepMs: expect.objectContaining({ confirm: expect.any(Number), fence: expect.any(Number) }),
        },
      },
    });
    expect(await cluster(sites.standby)).toBeUndefined();
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(arc.calls()).toHaveLength(0);
    // The drill reads the zone (the PRIMARY record must carry the check) and changes nothing.
    expect(route53.calls().map((c) => c.args[0].constructor.name)).toEqual(['ListResourceRecordSetsCommand']);
    expect(
      (run.output?.promote as { result: { actions: { action: string; detail: string }[] } }).result.actions.find(
        (a) => a.action === 'route53-health-check',
      )?.detail,
    ).toBe('would set Inverted true; PRIMARY A record api.example.com (production) carries it');
    expect(lambda.calls()).toHaveLength(0);
  });

  it('a drill fails, naming the key, when no PRIMARY record carries the configured health check', async () => {
    await lastHeard(1_000);
    route53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [{ Name: 'api.example.com.', Type: 'A', SetIdentifier: 'production', Failover: 'PRIMARY' }],
      IsTruncated: false,
      MaxItems: 100,
    });
    const run = await execute({ dryRun: true }, deps(sites.standby), 'drill-unused-check');
    expect(run.states.at(-1)).toBe('DrillFailed');
    expect(run.error).toBe(
      'InvalidInput: promotion.route53FailoverRecord: no PRIMARY failover record api.example.com in hosted zone Z0123456789ABC carries health check 0b7c0a2e-3f2f-4a8e-9c55-3c1f0f0e9a11, so inverting it moves no traffic; correct promotion.route53FailoverRecord or the record',
    );
    expect(route53.commandCalls(UpdateHealthCheckCommand)).toHaveLength(0);
  });

  it("a failover back to production restores the health check and turns production's routing control On", async () => {
    await lastHeard(60_000);
    await execute(AUTOMATIC, deps(sites.standby));
    // Production, now secondary at epoch 2, loses the standby in turn; an operator fails it back.
    await Promise.all(
      PATHS.map(async (path) =>
        sites.production.store.recordBeat(
          path,
          { ...beat(NOW - 60_000), site: 'standby', region: 'us-west-2' },
          NOW - 60_000,
          3600,
        ),
      ),
    );
    await sites.production.db.send(
      new PutCommand({
        TableName: sites.production.settings.heartbeatVolume,
        Item: { ...clusterKey(), epoch: 2, primary: 'standby' },
      }),
    );
    arc.reset();
    arc.on(UpdateRoutingControlStatesCommand).resolves({});
    const back = await execute(
      { reason: 'operator failback' },
      deps(sites.production, { siteBus: 'mirrorbeat-orders-production' }),
      'operator-failback',
    );
    expect(back.states.at(-1)).toBe('Promoted');
    expect(await cluster(sites.production)).toMatchObject({ epoch: 3, primary: 'production' });
    expect(route53.commandCalls(UpdateHealthCheckCommand).at(-1)?.args[0].input).toMatchObject({ Inverted: false });
    expect(
      arc.commandCalls(UpdateRoutingControlStatesCommand)[0]?.args[0].input.UpdateRoutingControlStateEntries?.[0],
    ).toEqual({ RoutingControlArn: `${ARC_CONTROL}/p1`, RoutingControlState: 'On' });
  });
});
