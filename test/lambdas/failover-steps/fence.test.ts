import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { type StepInput } from '../../../lambdas/core/steps';
import { clusterKey, fenceKey } from '../../../lambdas/core/volume';
import { fence } from '../../../lambdas/failover-steps/fence';
import type { FailoverDeps, FailoverOptions } from '../../../lambdas/failover-steps/steps';
import { type LocalSite, localSites, TEST_KEY } from '../../local-sites';

/**
 * The fence step alone, on DynamoDB Local: the one conditional write that moves the epoch.
 * Each condition is the only thing between a late standby and two primaries, so each one has a
 * case where it alone refuses (the steps before it check the same things, but a record can move
 * between them and the fence).
 */
const NOW = 1_765_000_000_000;
const events = mockClient(EventBridgeClient);
const lambda = mockClient(LambdaClient);

let standby: LocalSite;

beforeEach(async () => {
  standby = (await localSites()).standby;
  events.reset();
  lambda.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
});

function deps(site: LocalSite, over: Partial<FailoverDeps> = {}): FailoverDeps {
  return {
    settings: site.settings,
    store: site.store,
    db: site.db,
    keys: { current: async () => TEST_KEY },
    peerEvents: new EventBridgeClient({ region: site.settings.peerRegion }),
    peerBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/mirrorbeat-orders-production',
    lambdaFor: () => new LambdaClient({ region: site.settings.region }),
    fenceHook: undefined,
    peerWorkloadFence: undefined,
    now: () => NOW,
    ...over,
  } as FailoverDeps;
}

const GATED: FailoverOptions = {
  kind: 'failover',
  dryRun: false,
  requestedBy: 'heartbeat-module',
  reason: 'peer-lost',
  expectedLease: 7,
  gated: true,
};

function input(state: Record<string, unknown> = { expectedEpoch: 1 }, execution = 'exec-1'): StepInput {
  return { step: 'fence', execution, state };
}

async function putCluster(site: LocalSite, item: Record<string, unknown>): Promise<void> {
  await site.db.send(new PutCommand({ TableName: site.settings.heartbeatVolume, Item: { ...clusterKey(), ...item } }));
}

async function cluster(site: LocalSite): Promise<Record<string, unknown> | undefined> {
  const out = await site.db.send(
    new GetCommand({ TableName: site.settings.heartbeatVolume, Key: clusterKey(), ConsistentRead: true }),
  );
  return out.Item;
}

async function fenceRecord(site: LocalSite, epoch: number): Promise<Record<string, unknown> | undefined> {
  return (await site.db.send(new GetCommand({ TableName: site.settings.heartbeatVolume, Key: fenceKey(epoch) }))).Item;
}

describe('the fence step on DynamoDB Local', () => {
  it('moves the epoch over the renewal the gate saw stand still, and only over that one', async () => {
    await putCluster(standby, { epoch: 1, primary: 'production', lease: 7 });
    const out = await fence(input(), GATED, deps(standby));
    expect(out).toMatchObject({ epoch: 2, fenced: 'production', networkFence: 'sent', actAfterMs: 0 });
    expect(await cluster(standby)).toMatchObject({
      epoch: 2,
      primary: 'standby',
      gated: true,
      handedOver: false,
      actAfterMs: 0,
      lease: 8,
      promotedBy: 'exec-1',
    });
    expect(await fenceRecord(standby, 2)).toMatchObject({ fenced: 'production', by: 'standby', execution: 'exec-1' });
  });

  it('loses to a renewal made after the gate opened: the old primary still holds its lease', async () => {
    // The confirm step saw renewal 7; production renewed once more before the fence.
    await putCluster(standby, { epoch: 1, primary: 'production', lease: 8 });
    await expect(fence(input(), GATED, deps(standby))).rejects.toMatchObject({
      name: 'FenceConflict',
      message: expect.stringContaining('over lease renewal 7'),
    });
    expect(await cluster(standby)).toEqual({ ...clusterKey(), epoch: 1, primary: 'production', lease: 8 });
    expect(await fenceRecord(standby, 2)).toBeUndefined();
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('a gate that saw no renewal yet (0) takes a record with none, and loses to a first renewal', async () => {
    await putCluster(standby, { epoch: 1, primary: 'production' });
    await expect(fence(input(), { ...GATED, expectedLease: 0 }, deps(standby))).resolves.toMatchObject({ epoch: 2 });
    expect(await cluster(standby)).toMatchObject({ epoch: 2, lease: 1 });

    const other = (await localSites()).standby;
    await putCluster(other, { epoch: 1, primary: 'production', lease: 1 });
    await expect(fence(input(), { ...GATED, expectedLease: 0 }, deps(other))).rejects.toMatchObject({
      name: 'FenceConflict',
    });
  });

  it('in two-region mode names no renewal (the lease lives in the local replica) and makes the promoted site wait', async () => {
    const eventual = (await localSites({ consistency: 'eventual' })).standby;
    await putCluster(eventual, { epoch: 1, primary: 'production', lease: 99 });
    const out = await fence(input(), GATED, deps(eventual));
    const t = eventual.settings.tuning;
    const wait = t.leaseSeconds * 1000 + Math.max(1_000, Math.ceil(t.leaseSeconds * 1000 * 0.05));
    expect(out).toMatchObject({ epoch: 2, actAfterMs: wait });
    expect(await cluster(eventual)).toMatchObject({ epoch: 2, primary: 'standby', actAfterMs: wait, lease: 100 });
  });

  it('an ungated takeover (an operator) names no renewal and the promoted site waits out the old lease', async () => {
    await putCluster(standby, { epoch: 1, primary: 'production', lease: 12 });
    const operator = { ...GATED, requestedBy: 'operator', expectedLease: undefined, gated: false };
    const out = await fence(input(), operator, deps(standby));
    expect(out).toMatchObject({ epoch: 2 });
    expect((out as { actAfterMs: number }).actAfterMs).toBeGreaterThan(0);
    expect(await cluster(standby)).toMatchObject({ epoch: 2, primary: 'standby', gated: false });
  });

  it('refuses an epoch that moved since the start, and a record that names another primary', async () => {
    await putCluster(standby, { epoch: 2, primary: 'production', lease: 7 });
    await expect(fence(input({ expectedEpoch: 1 }), GATED, deps(standby))).rejects.toMatchObject({
      name: 'FenceConflict',
    });
    expect(await cluster(standby)).toMatchObject({ epoch: 2, primary: 'production' });
  });

  it('refuses to promote a site its own replica already names primary, before it writes', async () => {
    await putCluster(standby, { epoch: 3, primary: 'standby', lease: 7 });
    await expect(fence(input({}), GATED, deps(standby))).rejects.toMatchObject({
      name: 'FenceConflict',
      message: expect.stringContaining('already primary at epoch 3'),
    });
    expect(await cluster(standby)).toMatchObject({ epoch: 3, primary: 'standby', lease: 7 });
    expect(await fenceRecord(standby, 4)).toBeUndefined();
  });

  it('run again after it fenced, says so and writes no second fence record over the first', async () => {
    await putCluster(standby, { epoch: 1, primary: 'production', lease: 7 });
    await fence(input(), GATED, deps(standby));
    const later = deps(standby, { now: () => NOW + 60_000 });
    await expect(fence(input({ expectedEpoch: 1 }, 'exec-2'), GATED, later)).resolves.toEqual({
      epoch: 2,
      fenced: 'production',
      alreadyFenced: true,
      alreadyDone: false,
    });
    expect(await fenceRecord(standby, 2)).toMatchObject({ execution: 'exec-1', at: new Date(NOW).toISOString() });
  });

  it('a first takeover finds no record at all and writes epoch 2', async () => {
    await expect(
      fence(input({}), { ...GATED, expectedLease: undefined, gated: false }, deps(standby)),
    ).resolves.toMatchObject({ epoch: 2 });
    expect(await cluster(standby)).toMatchObject({ epoch: 2, primary: 'standby' });
  });

  it('a switchover fences only over its own drained handover', async () => {
    const switchover: FailoverOptions = { ...GATED, kind: 'switchover', expectedLease: undefined, gated: false };
    const drained = { to: 'standby', execution: 'sw-1', requestedAtMs: NOW - 9, drainedAtMs: NOW - 1 };
    await putCluster(standby, { epoch: 1, primary: 'production', handover: { ...drained, drainedAtMs: undefined } });
    await expect(fence(input({}, 'sw-1'), switchover, deps(standby))).rejects.toMatchObject({ name: 'FenceConflict' });
    await putCluster(standby, { epoch: 1, primary: 'production', handover: drained });
    await expect(fence(input({}, 'sw-2'), switchover, deps(standby))).rejects.toMatchObject({ name: 'FenceConflict' });
    await expect(fence(input({}, 'sw-1'), switchover, deps(standby))).resolves.toMatchObject({
      epoch: 2,
      actAfterMs: 0,
    });
    const now = await cluster(standby);
    expect(now).toMatchObject({ epoch: 2, primary: 'standby', handedOver: true });
    expect(now?.handover).toBeUndefined();
  });

  it('reports a fence message the peer bus refused, and a network path switched off sends none', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDenied' }] });
    await putCluster(standby, { epoch: 1, primary: 'production', lease: 7 });
    await expect(fence(input(), GATED, deps(standby))).resolves.toMatchObject({
      networkFence: 'not delivered: AccessDenied',
    });

    const off = (await localSites()).standby;
    await off.store.paths.setPathMode('standby', 'network', 'disabled', 'ana', 'test', NOW);
    await putCluster(off, { epoch: 1, primary: 'production', lease: 7 });
    const sent = events.commandCalls(PutEventsCommand).length;
    await expect(fence(input(), GATED, deps(off))).resolves.toMatchObject({
      networkFence: 'not sent: the network path is disabled at standby',
    });
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(sent);
  });

  it('invokes the fence hook and the peer workload fence with the epoch, and says when one failed', async () => {
    lambda.on(InvokeCommand).rejectsOnce(new Error('throttled')).resolves({ StatusCode: 202 });
    await putCluster(standby, { epoch: 1, primary: 'production', lease: 7 });
    const out = await fence(input(), GATED, deps(standby, { fenceHook: 'arn:hook', peerWorkloadFence: 'arn:peer' }));
    expect([out.fenceHook, out.workloadFence].sort()).toEqual(['invoked', 'not invoked: Error: throttled']);
    const payloads = lambda
      .commandCalls(InvokeCommand)
      .map((c) => JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString()) as unknown);
    expect(payloads[0]).toEqual({ fenced: 'production', epoch: 2, by: 'standby', cluster: 'orders' });
  });
});
