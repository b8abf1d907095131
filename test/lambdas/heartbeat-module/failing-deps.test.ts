import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { type Heartbeat, signHeartbeat } from '../../../lambdas/core/message';
import { HeartbeatModule } from '../../../lambdas/heartbeat-module/module';
import type { SigningKeys } from '../../../lambdas/shared/keys';
import { siteNoticeDesk } from '../../../lambdas/shared/notifier';
import { SiteStore } from '../../../lambdas/shared/store';
import { clusterKey } from '../../../lambdas/core/volume';
import { standbySettings } from '../../helpers';

/** Every AWS call the heartbeat module makes, failing: throttled, timed out, 5xx. Nothing may escape a tick. */
const KEY = Buffer.from('k'.repeat(64));
const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const settings = standbySettings();
const dynamo = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);
const sfn = mockClient(SFNClient);

const error = (name: string, fault: 'client' | 'server' = 'server') =>
  Object.assign(new Error(`${name} (injected)`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: fault === 'server' ? 503 : 400 },
  });
const FAILURES = [
  error('ThrottlingException', 'client'),
  error('InternalServerError'),
  error('ServiceUnavailable'),
  Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
];

function moduleWith(
  keys: Pick<SigningKeys, 'current' | 'all'> = { current: async () => KEY, all: async () => [KEY] },
): HeartbeatModule {
  return new HeartbeatModule({
    settings,
    store: new SiteStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-west-2', maxAttempts: 2 })),
      'volume',
      'observations',
    ),
    keys: keys as SigningKeys,
    peerEvents: new EventBridgeClient({ region: 'us-east-1', maxAttempts: 2 }),
    peerBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/b',
    sfn: new SFNClient({ region: 'us-west-2', maxAttempts: 2 }),
    failoverStateMachineArn: 'arn:aws:states:us-west-2:123456789012:stateMachine:f',
    notices: siteNoticeDesk({
      settings,
      sns: new SNSClient({ region: 'us-west-2', maxAttempts: 2 }),
      topics: { warning: 'arn:aws:sns:us-west-2:1:w', critical: 'arn:aws:sns:us-west-2:1:c' },
      db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-west-2', maxAttempts: 2 })),
      timeoutMs: 800,
      log: () => undefined,
    }),
    log: () => undefined,
  });
}

beforeEach(() => {
  dynamo.reset();
  events.reset();
  sns.reset();
  sfn.reset();
});

describe.each(FAILURES.map((f) => [f.name, f] as const))(
  'the heartbeat module when calls fail with %s',
  (_name, failure) => {
    it('keeps beating on the network path when every DynamoDB call fails, and returns a report', async () => {
      dynamo.onAnyCommand().rejects(failure);
      events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
      const hm = moduleWith();
      const first = await hm.tick(NOW);
      const second = await hm.tick(NOW + 2_000);
      expect([first.sent, second.sent]).toEqual([
        { network: 'sent', storage: 'failed' },
        { network: 'sent', storage: 'failed' },
      ]);
      const serials = events
        .commandCalls(PutEventsCommand)
        .map((c) => (JSON.parse(c.args[0].input.Entries?.[0]?.Detail ?? '{}') as Heartbeat).serial);
      expect(serials[1]).toBeGreaterThan(serials[0] as number);
    });

    it('keeps beating on the storage path when EventBridge fails', async () => {
      dynamo.onAnyCommand().resolves({});
      events.on(PutEventsCommand).rejects(failure);
      expect((await moduleWith().tick(NOW)).sent).toEqual({ network: 'failed', storage: 'sent' });
    });

    it('finishes the tick when SNS and Step Functions fail, and tries the failover again next tick', async () => {
      const old = signHeartbeat(
        {
          v: 1,
          cluster: 'orders',
          site: 'production',
          region: 'us-east-1',
          serial: 5,
          sentAt: new Date(NOW - 60_000).toISOString(),
          epoch: 1,
          role: 'primary',
          health: 'ok',
        },
        KEY,
      );
      dynamo.onAnyCommand().resolves({ Item: { serial: 5, arrivedAtMs: NOW - 60_000, beat: old } });
      // No cluster record yet: production primary at epoch 1, its lease never renewed as this site sees it.
      dynamo.on(GetCommand, { Key: clusterKey() }).resolves({});
      events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
      sns.on(PublishCommand).rejects(failure);
      sfn.on(StartExecutionCommand).rejects(failure);
      const hm = moduleWith();
      let last;
      // The lease gate opens a lease and the margin (13 s) after the first read; then every tick tries.
      for (let t = 0; t <= 18_000; t += 2_000) last = await hm.tick(NOW + t);
      expect(last?.verdict).toBe('peer-lost');
      expect(last?.failoverStarted).toBe(false);
      expect(sfn.commandCalls(StartExecutionCommand).length).toBeGreaterThanOrEqual(2);
    });
  },
);

it('finishes the tick, sending nothing, when the signing key cannot be read', async () => {
  dynamo.onAnyCommand().resolves({});
  const hm = moduleWith({
    current: () => Promise.reject(error('ServiceUnavailable')),
    all: () => Promise.reject(error('ServiceUnavailable')),
  });
  const report = await hm.tick(NOW);
  expect(report.sent).toEqual({ network: 'failed', storage: 'failed' });
  expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
});
