import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { invalidKey } from '../../../lambdas/core/volume';
import { Env, HEALTH_DETAIL_TYPE } from '../../../lambdas/core/wire';
import { receiveNetworkEvent } from '../../../lambdas/network-receiver/receiver';
import type { SigningKeys } from '../../../lambdas/shared/keys';
import type { Settings } from '../../../lambdas/shared/settings';
import { readClusterStatus } from '../../../client/status';
import { localSites, moduleFor, tablesOf, TEST_KEY } from '../../local-sites';

/**
 * What AWS Health says of DynamoDB in the witness region, as the witness stack forwards it to a site bus: the
 * receiver records it in the site's observations table (DynamoDB Local), the heartbeat module reads it and the
 * quorum view, its notice and `status` say it.
 */
const NOW = Math.floor(Date.now() / 1000) * 1000;
const keys = { current: async () => TEST_KEY, all: async () => [TEST_KEY] } as unknown as SigningKeys;
const events = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);

beforeEach(() => {
  events.reset();
  sns.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
});

/** An AWS Health event's detail, as the AWS Health User Guide's EventBridge schema gives it. */
const health = (statusCode: string, over: Record<string, unknown> = {}) => ({
  eventArn: 'arn:aws:health:us-east-2::event/DYNAMODB/AWS_DYNAMODB_OPERATIONAL_ISSUE/AWS_DYNAMODB_OPERATIONAL_ISSUE_7',
  service: 'DYNAMODB',
  eventTypeCode: 'AWS_DYNAMODB_OPERATIONAL_ISSUE',
  eventTypeCategory: 'issue',
  eventScopeCode: 'PUBLIC',
  communicationId: 'c1',
  startTime: 'Mon, 7 Dec 2026 09:00:00 GMT',
  eventRegion: 'us-east-2',
  statusCode,
  eventDescription: [{ language: 'en_US', latestDescription: 'Increased error rates' }],
  ...over,
});

/** The site's settings, as the stack sets them in quorum mode (the receiver knows the witness region). */
const withWitness = (settings: Settings): Settings => ({
  ...settings,
  optional: (name) => (name === Env.witnessRegion ? 'us-east-2' : settings.optional(name)),
});

describe('AWS Health events about the witness region', () => {
  it('are recorded open and closed, once each, and a closed event stays closed', async () => {
    const { standby } = await localSites();
    const deps = { settings: withWitness(standby.settings), store: standby.store, keys };
    const receive = (detail: unknown, at = NOW) => receiveNetworkEvent(HEALTH_DETAIL_TYPE, detail, at, deps);
    expect(await standby.store.witness.read()).toEqual({ state: 'unknown', open: [], atMs: undefined });
    expect(await receive(health('open'))).toMatchObject({ accepted: true, witness: 'open' });
    // EventBridge delivers at least once: a second delivery changes nothing.
    await receive(health('open'), NOW + 1_000);
    const other = 'arn:aws:health:us-east-2::event/DYNAMODB/AWS_DYNAMODB_OPERATIONAL_ISSUE/SECOND';
    await receive(health('open', { eventArn: other }), NOW + 2_000);
    expect(await standby.store.witness.read()).toMatchObject({
      state: 'unreachable',
      open: [other, health('open').eventArn].sort(),
    });
    await receive(health('closed'), NOW + 3_000);
    expect((await standby.store.witness.read()).state).toBe('unreachable');
    await receive(health('closed', { eventArn: other }), NOW + 4_000);
    expect(await standby.store.witness.read()).toEqual({ state: 'ok', open: [], atMs: NOW + 4_000 });
    // An `open` delivered after its `closed` (out of order) does not reopen it.
    await receive(health('open'), NOW + 5_000);
    expect((await standby.store.witness.read()).state).toBe('ok');
  });

  it('leave everything else alone: another region, service or category, an upcoming event; a malformed one is counted', async () => {
    const { standby } = await localSites();
    const deps = { settings: withWitness(standby.settings), store: standby.store, keys };
    const receive = (detail: unknown) => receiveNetworkEvent(HEALTH_DETAIL_TYPE, detail, NOW, deps);
    for (const detail of [
      health('open', { eventRegion: 'us-east-1' }),
      health('open', { service: 'EC2' }),
      health('open', { eventTypeCategory: 'scheduledChange' }),
      health('upcoming'),
    ])
      expect(await receive(detail)).toMatchObject({ accepted: false, reason: 'not-the-witness' });
    expect((await standby.store.witness.read()).state).toBe('unknown');
    for (const detail of [null, 'open', { service: 'DYNAMODB' }, health('resolved')])
      expect(await receive(detail)).toMatchObject({ accepted: false, reason: 'schema' });
    const counted = await standby.db.send(
      new GetCommand({ TableName: standby.settings.observations, Key: invalidKey('network', 'schema') }),
    );
    expect(Number(counted.Item?.count)).toBe(4);
  });

  it('reach the quorum: the module reads the witness as unreachable, says quorum-degraded, and status shows it', async () => {
    const { production, standby, link } = await localSites();
    const [p, s] = [moduleFor(production), moduleFor(standby)];
    const tick = async (t: number) => {
      await p.tick(NOW + t);
      await s.tick(NOW + t + 500);
      await link.pump(NOW + t + 1_000);
    };
    for (let t = 0; t <= 4_000; t += 2_000) await tick(t);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    await receiveNetworkEvent(HEALTH_DETAIL_TYPE, health('open'), NOW + 5_000, {
      settings: withWitness(standby.settings),
      store: standby.store,
      keys,
    });
    // The module reads it within WITNESS_READ_EVERY_MS (20 s).
    for (let t = 6_000; t <= 26_000; t += 2_000) await tick(t);
    const subjects = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
    expect(subjects).toEqual(['mirrorbeat orders: quorum degraded: one more fault and no failover (standby)']);
    const body = String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message);
    expect(body).toContain('an AWS Health event names DynamoDB in the witness region');
    const tables = tablesOf(production, standby);
    const status = await readClusterStatus('orders', tables, NOW + 27_000);
    expect(status.quorum).toMatchObject({
      majority: true,
      witness: 'unreachable',
      degraded: true,
      why: ['an AWS Health event names DynamoDB in the witness region'],
    });
  });
});
