import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { type Heartbeat, signHeartbeat } from '../../../lambdas/core/message';
import { serialKey } from '../../../lambdas/core/volume';
import { receiveNetworkBeat } from '../../../lambdas/network-receiver/receiver';
import type { SigningKeys } from '../../../lambdas/shared/keys';
import { HeartbeatModule } from '../../../lambdas/heartbeat-module/module';
import { asHandler, recordingClient, type SdkCall } from '../../../local/calls';
import { productionBeat as signedBeat } from '../../beats';
import { localSites, moduleFor, TEST_KEY } from '../../local-sites';

/**
 * The heartbeat module and the receiver, as deployed, against DynamoDB Local; only EventBridge, SNS and Step Functions
 * are mocked.
 */

const KEY = TEST_KEY;
const keys = { current: async () => KEY, all: async () => [KEY] } as unknown as SigningKeys;
// Near the real clock: DynamoDB Local deletes items whose TTL has passed, as DynamoDB does.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const events = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);
const sfn = mockClient(SFNClient);

const moduleOf = moduleFor;

/** Production's beat as it reaches the standby's replica on the storage path: signed, as replication carries it. */
const productionBeat = (serial: number, atMs: number): Heartbeat => signedBeat(serial, atMs, KEY);

const networkBeats = (): Heartbeat[] =>
  events
    .commandCalls(PutEventsCommand)
    .map((c) => JSON.parse(c.args[0].input.Entries?.[0]?.Detail ?? '{}') as Heartbeat);

beforeEach(() => {
  events.reset();
  sns.reset();
  sfn.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn' });
});

describe('the heartbeat module on DynamoDB Local', () => {
  it('never reuses a serial across two overlapping invocations, each strictly increasing', async () => {
    const { production } = await localSites();
    // The counter must answer: DynamoDB Local's first requests of each kind in a loaded run can outlast a tick's
    // timeout, and a counter that does not answer leaves each invocation the time floor (ticker.ts), which two may
    // share. One tick of a third invocation, ten seconds before, makes each kind of request once.
    await moduleOf(production).tick(NOW - 10_000);
    events.resetHistory();
    const first = moduleOf(production);
    const second = moduleOf(production);
    const serials: [number[], number[]] = [[], []];
    for (let t = 0; t < 10_000; t += 2_000) {
      // The minute boundary: both invocations tick at the same instant.
      const [a, b] = await Promise.all([first.tick(NOW + t), second.tick(NOW + t)]);
      serials[0].push(a.serial);
      serials[1].push(b.serial);
    }
    const all = [...serials[0], ...serials[1]];
    expect(new Set(all).size).toBe(all.length);
    for (const own of serials) expect(own).toEqual([...own].sort((x, y) => x - y));
    expect(
      networkBeats()
        .map((b) => b.serial)
        .sort(),
    ).toEqual(all.sort());
  });

  it('hands over between invocations: a live ticker keeps ticking, the next claims it near its end and the old one stops', async () => {
    const { production } = await localSites();
    const [a, b, c] = [moduleOf(production), moduleOf(production), moduleOf(production)];
    const RUN = 600_000;
    const HANDOFF = 90_000;
    expect(await a.claimTicker('inv-a', NOW, NOW + RUN, HANDOFF)).toEqual({ claimed: true });
    a.beginInvocation('inv-a');
    expect((await a.tick(NOW)).superseded).toBe(false);
    // A minute later the ticker is alive (it ticked 2 s ago) with 9 minutes to run: that invocation returns at once.
    await a.tick(NOW + 58_000);
    // The refusal says when that ticker becomes claimable: three intervals after its last tick.
    expect(await b.claimTicker('inv-b', NOW + 60_000, NOW + 60_000 + RUN, HANDOFF)).toEqual({
      claimed: false,
      claimableInMs: 4_000,
    });
    expect((await a.tick(NOW + 60_000)).superseded).toBe(false);
    // Near its end the ticker is claimable before it would be dead: 90 s before its end (510 s), not 6 s after 508 s.
    await a.tick(NOW + 508_000);
    expect(await b.claimTicker('inv-b', NOW + 509_000, NOW + 509_000 + RUN, HANDOFF)).toEqual({
      claimed: false,
      claimableInMs: 1_000,
    });
    // Within 90 s of its end, alive still, the next claims it; the old one learns at its next tick and stops.
    await a.tick(NOW + 538_000);
    expect(await b.claimTicker('inv-b', NOW + 540_000, NOW + 540_000 + RUN, HANDOFF)).toEqual({ claimed: true });
    b.beginInvocation('inv-b');
    expect((await b.tick(NOW + 540_000)).superseded).toBe(false);
    expect((await a.tick(NOW + 540_000)).superseded).toBe(true);
    // A ticker silent for three intervals (its container died) is taken over by the next minute's invocation.
    expect(await c.claimTicker('inv-c', NOW + 545_000, NOW + 545_000 + RUN, HANDOFF)).toEqual({
      claimed: false,
      claimableInMs: 1_000,
    });
    expect(await c.claimTicker('inv-c', NOW + 547_000, NOW + 547_000 + RUN, HANDOFF)).toEqual({ claimed: true });
    c.beginInvocation('inv-c');
    await c.tick(NOW + 547_000);
    expect((await b.tick(NOW + 548_000)).superseded).toBe(true);
    // An item that says nothing of when its ticker last ticked (edited by hand): refused, with no time to look again.
    await production.db.send(
      new UpdateCommand({
        TableName: production.settings.observations,
        Key: serialKey('production'),
        UpdateExpression: 'REMOVE tickerSeenAt',
      }),
    );
    expect(await moduleOf(production).claimTicker('inv-d', NOW + 549_000, NOW + 549_000 + RUN, HANDOFF)).toEqual({
      claimed: false,
    });
  });

  it("carries the standby's lease watch to its next container in the ticker's item, and only a well-formed one", async () => {
    const { standby } = await localSites();
    const item = async () =>
      (await standby.db.send(new GetCommand({ TableName: standby.settings.observations, Key: serialKey('standby') })))
        .Item?.watch as unknown;
    /** A new container claims the (dead) ticker at `atMs` and ticks at each [wall offset, its own mono]. */
    const container = async (id: string, atMs: number, ticks: [number, number][]) => {
      const m = moduleOf(standby);
      expect(await m.claimTicker(id, atMs, atMs + 600_000, 90_000)).toEqual({ claimed: true });
      m.beginInvocation(id);
      for (const [offset, mono] of ticks) await m.tick(atMs + offset, mono);
    };
    // Container A watches the record's renewal stand still for 6 s of its own monotonic clock.
    await container('inv-a', NOW, [
      [0, 100],
      [2_000, 2_100],
      [6_000, 6_100],
    ]);
    // Each tick leaves the watch as it stood before the tick's read: 6 s at the third.
    expect(await item()).toEqual({ epoch: 1, lease: 0, silentMs: 6_000 });
    // A dies; B, another container with its own monotonic clock, claims the dead ticker and takes the watch over.
    await container('inv-b', NOW + 13_000, [
      [0, 50],
      [2_000, 2_050],
    ]);
    // A's 6 s and B's own 2 s: the 7 s between A's last tick and B's first read are not counted (the gate opens later,
    // never sooner).
    expect(await item()).toEqual({ epoch: 1, lease: 0, silentMs: 8_000 });
    // A hand-edited or malformed watch is no watch: the next container starts its own.
    await standby.db.send(
      new UpdateCommand({
        TableName: standby.settings.observations,
        Key: serialKey('standby'),
        UpdateExpression: 'SET watch = :w',
        ExpressionAttributeValues: { ':w': { epoch: 1, lease: 0, silentMs: -600_000 } },
      }),
    );
    await container('inv-c', NOW + 30_000, [
      [0, 0],
      [2_000, 2_000],
    ]);
    expect(await item()).toEqual({ epoch: 1, lease: 0, silentMs: 2_000 });
  });

  it('keeps serials rising when the counter item is lost, from the time floor', async () => {
    const { production } = await localSites();
    const hm = moduleOf(production);
    const before = (await hm.tick(NOW)).serial;
    await production.db.send(
      new DeleteCommand({ TableName: production.settings.observations, Key: serialKey('production') }),
    );
    const fresh = moduleOf(production);
    expect((await fresh.tick(NOW + 2_000)).serial).toBeGreaterThan(before);
  });

  it("reads the peer's storage beat from its own replica once replication carried it", async () => {
    const { production, standby, link } = await localSites();
    const sender = moduleOf(production);
    const checker = moduleOf(standby);
    const sent = await sender.tick(NOW);
    expect((await checker.tick(NOW + 100)).states.storage).toBe('pending');
    await link.pump(NOW + 200);
    const report = await checker.tick(NOW + 2_000);
    expect(report.states.storage).toBe('healthy');
    expect(await standby.store.readObservation('storage', 'production')).toMatchObject({
      serial: sent.serial,
      arrivedAtMs: NOW + 2_000,
    });
  });

  it('reads its own storage-path record once an invocation, and both path modes in one request a tick', async () => {
    const { production, standby, link } = await localSites();
    const sender = moduleOf(production);
    const checker = moduleOf(standby);
    const calls: SdkCall[] = [];
    recordingClient(standby.db);
    const asStandby = <T>(work: () => Promise<T>) =>
      asHandler(
        { handler: 'heartbeat-module', site: 'standby', region: standby.settings.region, sink: (c) => calls.push(c) },
        work,
      );
    const reads = (command: string, key: string) =>
      calls.filter((c) => c.command === command && JSON.stringify(c.input).includes(key)).length;
    checker.beginInvocation();
    let serial: number | undefined;
    for (let t = 0; t < 8_000; t += 2_000) {
      await sender.tick(NOW + t);
      await link.pump(NOW + t + 200);
      serial = (await asStandby(() => checker.tick(NOW + t + 1_000))).peerSerials.storage;
    }
    expect(serial).toEqual(expect.any(Number));
    expect(reads('GetItemCommand', 'storage#production')).toBe(1);
    expect(reads('GetItemCommand', 'standby#network') + reads('GetItemCommand', 'standby#storage')).toBe(0);
    expect(reads('QueryCommand', 'PATH')).toBe(4);
    // What it kept is what the table holds; a new invocation reads the record again.
    expect((await standby.store.readObservation('storage', 'production'))?.serial).toBe(serial);
    checker.beginInvocation();
    await sender.tick(NOW + 8_000);
    await link.pump(NOW + 8_200);
    const next = await asStandby(() => checker.tick(NOW + 9_000));
    expect(reads('GetItemCommand', 'storage#production')).toBe(2);
    expect(next.peerSerials.storage).toBeGreaterThan(serial as number);
  });

  it('reads the path modes an operator set, both from one request', async () => {
    const { standby } = await localSites();
    await standby.store.paths.setPathMode('standby', 'network', 'disabled', 'test', 'maintenance', NOW);
    await standby.store.paths.setPathMode('production', 'storage', 'disabled', 'test', 'other site', NOW);
    expect(await standby.store.paths.readPathModes('standby')).toEqual({ network: 'disabled', storage: 'enabled' });
    expect(await standby.store.paths.readPathModes('production')).toEqual({ network: 'enabled', storage: 'disabled' });
    const report = await moduleOf(standby).tick(NOW);
    expect(report.sent.network).toBe('disabled');
  });

  it('announces a failed path once, even when two invocations see it together', async () => {
    const { standby } = await localSites();
    const beat = productionBeat(7, NOW);
    await standby.store.recordBeat('network', beat, NOW, 300);
    await standby.store.recordBeat('storage', beat, NOW, 300);
    const [a, b] = [moduleOf(standby), moduleOf(standby)];
    await Promise.all([a.tick(NOW + 1_000), b.tick(NOW + 1_000)]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    // The storage path keeps beating; the network path goes silent past its deadline.
    await standby.store.writeBeat(productionBeat(8, NOW + 20_000));
    await Promise.all([a.tick(NOW + 20_000), b.tick(NOW + 20_000)]);
    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(published.filter((p) => p.MessageAttributes?.kind?.StringValue === 'path-failed')).toHaveLength(1);
    expect(published[0]).toMatchObject({
      TopicArn: 'arn:aws:sns:us-west-2:123456789012:warning',
      MessageAttributes: {
        kind: { StringValue: 'path-failed' },
        site: { StringValue: 'standby' },
        path: { StringValue: 'network' },
      },
    });
    // What to do next names the command, for this path.
    expect(JSON.parse(String(published[0]?.Message)).default).toContain(
      'Next:     no failover while another enabled path delivers valid beats; check the network path, or switch it off for maintenance: npx mirrorbeat path deactivate network',
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('keeps a notice SNS refused, counts it undelivered, and publishes it from the outbox a minute later', async () => {
    const { standby } = await localSites();
    const beat = productionBeat(7, NOW);
    await standby.store.recordBeat('network', beat, NOW, 300);
    await standby.store.recordBeat('storage', beat, NOW, 300);
    const hm = moduleOf(standby);
    const undelivered = (report: { metrics: readonly { name: string; value: number }[] }) =>
      report.metrics.find((m) => m.name === 'NoticesUndelivered')?.value ?? 0;
    expect(undelivered(await hm.tick(NOW + 1_000))).toBe(0);
    sns.on(PublishCommand).rejects(
      Object.assign(new Error('User is not authorized to perform kms:GenerateDataKey'), {
        name: 'KMSAccessDeniedException',
      }),
    );
    await standby.store.writeBeat(productionBeat(8, NOW + 20_000));
    expect(undelivered(await hm.tick(NOW + 20_000))).toBe(1);
    // SNS takes notices again; the next minute's flush publishes the one it refused, once.
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    await standby.store.writeBeat(productionBeat(9, NOW + 80_000));
    expect(undelivered(await hm.tick(NOW + 80_000))).toBe(0);
    const failedNetwork = sns
      .commandCalls(PublishCommand)
      .filter((c) => c.args[0].input.MessageAttributes?.path?.StringValue === 'network');
    expect(failedNetwork).toHaveLength(2);
    await standby.store.writeBeat(productionBeat(10, NOW + 140_000));
    await hm.tick(NOW + 140_000);
    expect(
      sns
        .commandCalls(PublishCommand)
        .filter((c) => c.args[0].input.MessageAttributes?.path?.StringValue === 'network'),
    ).toHaveLength(2);
  });
});

describe('the extra beat on a workload alarm', () => {
  it('carries the failure on the storage path when the network path is down, and the standby reports it once', async () => {
    const { production, standby, link } = await localSites();
    const failing = new HeartbeatModule({
      settings: production.settings,
      store: production.store,
      keys,
      peerEvents: new EventBridgeClient({ region: 'us-west-2' }),
      peerBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/mirrorbeat-orders-standby',
      sfn: new SFNClient({ region: 'us-east-1' }),
      failoverStateMachineArn: undefined,
      health: { read: async () => ({ health: 'failed', evidence: ['alarm orders-5xx is ALARM'] }) },
      log: () => undefined,
    });
    const watcher = moduleOf(standby);
    // Both sites see each other first.
    await failing.tick(NOW);
    events.on(PutEventsCommand).rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
    const extra = await failing.beatNow(NOW + 700);
    expect(extra).toMatchObject({ health: 'failed', sent: { network: 'failed', storage: 'sent' } });
    await link.pump(NOW + 1_000);
    await watcher.tick(NOW + 1_500);
    await watcher.tick(NOW + 3_500);
    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    const reported = published.filter((p) => p.MessageAttributes?.kind?.StringValue === 'peer-failure-reported');
    expect(reported).toHaveLength(1);
    expect(reported[0]?.Message).toContain('alarm orders-5xx is ALARM');
  });
});

describe('recording a change in the heartbeat volume', () => {
  it('still announces a change whose write landed but whose answer was lost, and never one another writer recorded', async () => {
    const { standby } = await localSites();
    const { store } = standby;
    expect(await store.views.recordVerdict('standby', 'peer-lost', Date.now(), 'module-a')).toBeUndefined();
    // module-a's answer was lost (a timeout): its next attempt finds its own write and still announces, with the true
    // previous value.
    expect(await store.views.recordVerdict('standby', 'peer-lost', Date.now(), 'module-a')).toBeUndefined();
    expect(await store.views.recordVerdict('standby', 'peer-lost', Date.now(), 'module-b')).toBeNull();
    expect(await store.views.recordVerdict('standby', 'ok', Date.now(), 'module-b')).toBe('peer-lost');
    expect(await store.views.recordVerdict('standby', 'ok', Date.now(), 'module-b')).toBe('peer-lost');
    expect(await store.views.recordVerdict('standby', 'ok', Date.now(), 'module-a')).toBeNull();
  });
});

describe('the network receiver on DynamoDB Local', () => {
  const beat = (serial: number) => productionBeat(serial, NOW);

  it('never lets a lower serial overwrite a higher one, whatever the delivery order', async () => {
    const { standby } = await localSites();
    const deps = { settings: standby.settings, store: standby.store, keys };
    // Two deliveries race past the read; the conditional write keeps the newer.
    await Promise.all([
      standby.store.recordBeat('network', beat(12), NOW + 10, 300),
      standby.store.recordBeat('network', beat(11), NOW + 20, 300),
    ]);
    expect((await standby.store.readObservation('network', 'production'))?.serial).toBe(12);
    expect(await standby.store.recordBeat('network', beat(11), NOW + 30, 300)).toBe(false);
    expect(await receiveNetworkBeat(beat(10), NOW + 40, deps)).toMatchObject({ accepted: false, reason: 'replay' });
    expect(await receiveNetworkBeat(beat(13), NOW + 50, deps)).toEqual({ accepted: true, serial: 13 });
    expect(await standby.store.readObservation('network', 'production')).toMatchObject({
      serial: 13,
      arrivedAtMs: NOW + 50,
    });
  });

  it('records a valid beat when the cluster record answers no strong read: the quorum never blocks the network path', async () => {
    const { standby } = await localSites();
    // This region reaches no majority: every strong read of the cluster record times out.
    const store = Object.create(standby.store) as typeof standby.store;
    store.readCluster = async (signal?: AbortSignal, strong = true) => {
      if (strong) throw Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
      return standby.store.readCluster(signal, false);
    };
    expect(await receiveNetworkBeat(beat(30), NOW, { settings: standby.settings, store, keys })).toEqual({
      accepted: true,
      serial: 30,
    });
    // And with the local copy unreadable too, the beat still counts (no epoch check).
    store.readCluster = async () => Promise.reject(new Error('InternalServerError'));
    expect(await receiveNetworkBeat(beat(31), NOW + 10, { settings: standby.settings, store, keys })).toEqual({
      accepted: true,
      serial: 31,
    });
  });

  it('counts a forged beat by reason and records nothing', async () => {
    const { standby } = await localSites();
    const forged = signHeartbeat({ ...beat(20), sig: undefined } as never, Buffer.from('not the key'));
    const receipt = await receiveNetworkBeat(forged, NOW, { settings: standby.settings, store: standby.store, keys });
    expect(receipt).toMatchObject({ accepted: false, reason: 'signature' });
    expect(await standby.store.readObservation('network', 'production')).toBeUndefined();
  });
});
