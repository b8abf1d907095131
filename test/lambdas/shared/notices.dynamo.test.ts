import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { type Notice, noticeId } from '../../../lambdas/core/notices';
import { JOURNAL_DAYS, NoticeJournal } from '../../../lambdas/shared/journal';
import { NoticeDesk, Notifier, type NoticePolicy } from '../../../lambdas/shared/notifier';
import { type LocalSite, localSites } from '../../local-sites';

/**
 * The notice desk on DynamoDB Local (its journal and fold windows are items of the heartbeat
 * volume); only SNS, which has no local implementation, is mocked.
 */
const sns = mockClient(SNSClient);
const TOPICS = {
  warning: 'arn:aws:sns:us-west-2:123456789012:mirrorbeat-orders-standby-warning',
  critical: 'arn:aws:sns:us-west-2:123456789012:mirrorbeat-orders-standby-critical',
};
const T0 = Date.UTC(2026, 10, 25, 18, 40, 2);
const POLICY: NoticePolicy = { windowSeconds: 900, burst: 3 };

let site: LocalSite;
let journal: NoticeJournal;

beforeEach(async () => {
  ({ standby: site } = await localSites());
  journal = new NoticeJournal(site.db, site.settings.heartbeatVolume);
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
});

function desk(
  policy: NoticePolicy = POLICY,
  over: Partial<{ journal: NoticeJournal; publishInfo: boolean }> = {},
): NoticeDesk {
  return new NoticeDesk({
    site: 'standby',
    notifier: new Notifier(new SNSClient({ region: 'us-west-2' }), TOPICS),
    journal: over.journal ?? journal,
    policy,
    ...(over.publishInfo === undefined ? {} : { publishInfo: over.publishInfo }),
    timeoutMs: 5_000,
    log: () => undefined,
  });
}

const pathFailed = (atMs: number): Notice => ({
  kind: 'path-failed',
  site: 'standby',
  region: 'us-west-2',
  cluster: 'orders',
  path: 'network',
  atMs,
  detail: {
    verdict: 'degraded',
    states: { network: 'failed', storage: 'healthy' },
    phi: { network: 9.12, storage: 0.31 },
    deadlineMs: { network: 8000, storage: 6000 },
    lastValidBeatAgeMs: { network: 12_400, storage: 1_900 },
    previous: 'suspect',
    next: 'no failover while another enabled path delivers valid beats; check the path, or disable it with the path-control workflow for maintenance',
  },
});

const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

describe('the notice desk', () => {
  it('publishes a notice a person can act on and a subscriber can filter and parse', async () => {
    const notice = pathFailed(T0);
    expect(await desk().announce(notice, T0)).toEqual({ id: noticeId(notice), outcome: 'published' });
    const [input] = published();
    expect(input).toMatchObject({
      TopicArn: TOPICS.warning,
      Subject: 'mirrorbeat orders: path failed (standby, network path)',
      MessageStructure: 'json',
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'path-failed' },
        site: { DataType: 'String', StringValue: 'standby' },
        path: { DataType: 'String', StringValue: 'network' },
        severity: { DataType: 'String', StringValue: 'warning' },
      },
    });
    const message = JSON.parse(String(input?.Message)) as Record<string, string>;
    // People's protocols get the text; machines get one JSON document; SMS gets the subject.
    expect(message.email).toBe(message.default);
    expect(message.sms).toBe(input?.Subject);
    const text = message.default ?? '';
    for (const line of [
      'Path failed: orders, site standby (us-west-2), network path.',
      'Verdict:  degraded',
      'Path state was: suspect',
      '  network  failed    last valid beat 12.4 s ago, deadline 8.0 s, phi 9.12',
      '  storage  healthy   last valid beat 1.9 s ago, deadline 6.0 s, phi 0.31',
      'Next:     no failover while another enabled path delivers valid beats',
      'Inspect:     npx mirrorbeat status --region us-west-2',
      `Acknowledge: npx mirrorbeat ack ${noticeId(notice)} --site standby --region us-west-2`,
    ]) {
      expect(text).toContain(line);
    }
    const document = JSON.parse(message.lambda ?? '{}') as Record<string, unknown>;
    expect(document).toMatchObject({
      id: noticeId(notice),
      kind: 'path-failed',
      severity: 'warning',
      site: 'standby',
      path: 'network',
      verdict: 'degraded',
      at: new Date(T0).toISOString(),
    });
    for (const protocol of ['sqs', 'https', 'firehose', 'email-json']) expect(message[protocol]).toBe(message.lambda);
    expect(await journal.recent('standby', 5, T0)).toEqual([
      expect.objectContaining({ id: noticeId(notice), delivery: 'published', attempts: 1 }),
    ]);
  });

  it('sends a critical kind to the critical topic', async () => {
    await desk().announce({ ...pathFailed(T0), kind: 'peer-lost', path: undefined }, T0);
    expect(published()[0]).toMatchObject({
      TopicArn: TOPICS.critical,
      Subject: 'mirrorbeat orders: peer site lost on every enabled path (standby)',
    });
    expect(published()[0]?.MessageAttributes?.path).toBeUndefined();
  });

  it('folds a flapping path after the burst, and summarizes how many it folded when the window ends', async () => {
    const d = desk();
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i += 1)
      outcomes.push((await d.announce(pathFailed(T0 + i * 20_000), T0 + i * 20_000)).outcome);
    expect(outcomes).toEqual(['published', 'published', 'published', ...Array(7).fill('folded')]);
    expect(published()).toHaveLength(3);
    // Another path's notices have their own window.
    expect((await d.announce({ ...pathFailed(T0), path: 'storage' }, T0 + 200_000)).outcome).toBe('published');

    // Inside the window nothing more goes out; after it, one summary with the count and the newest folded notice.
    expect(await d.flush(T0 + 600_000)).toEqual({ summaries: 0, retried: 0, failed: 0 });
    expect(await d.flush(T0 + 900_000)).toEqual({ summaries: 1, retried: 0, failed: 0 });
    const summary = published().at(-1);
    expect(summary?.Subject).toBe('mirrorbeat orders: path failed ×7 more (folded) (standby, network path)');
    expect(summary?.MessageAttributes?.folded).toEqual({ DataType: 'String', StringValue: '7' });
    const text = (JSON.parse(String(summary?.Message)) as { default: string }).default;
    expect(text).toContain(
      `7 more "path-failed" notices were held back between ${new Date(T0 + 60_000).toISOString()} and ${new Date(T0 + 180_000).toISOString()} (rate limit: window 900 s)`,
    );
    // Summarized once: a second flush, or a new notice opening the next window, sends no second summary.
    expect(await d.flush(T0 + 960_000)).toEqual({ summaries: 0, retried: 0, failed: 0 });
    expect((await d.announce(pathFailed(T0 + 1_000_000), T0 + 1_000_000)).outcome).toBe('published');
    expect(published().filter((p) => p.MessageAttributes?.folded !== undefined)).toHaveLength(1);
  });

  it('summarizes an ended window when the next notice of its kind opens a new one, before the flush gets to it', async () => {
    const d = desk({ windowSeconds: 60, burst: 1 });
    await d.announce(pathFailed(T0), T0);
    await d.announce(pathFailed(T0 + 10_000), T0 + 10_000);
    expect(published()).toHaveLength(1);
    await d.announce(pathFailed(T0 + 70_000), T0 + 70_000);
    expect(published().map((p) => p.MessageAttributes?.folded?.StringValue ?? '-')).toEqual(['-', '1', '-']);
    expect(await d.flush(T0 + 200_000)).toMatchObject({ summaries: 0 });
  });

  it('never folds a critical notice', async () => {
    const d = desk({ windowSeconds: 900, burst: 1 });
    for (let i = 0; i < 4; i += 1)
      expect(
        (await d.announce({ ...pathFailed(T0 + i * 1000), kind: 'demoted', path: undefined }, T0 + i * 1000)).outcome,
      ).toBe('published');
  });

  it('keeps a notice SNS refused in the outbox and publishes it on a later flush, once', async () => {
    sns
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' }))
      .resolves({ MessageId: 'm' });
    const d = desk();
    const notice = pathFailed(T0);
    expect((await d.announce(notice, T0)).outcome).toBe('pending');
    expect(await journal.get('standby', noticeId(notice))).toMatchObject({
      delivery: 'pending',
      attempts: 1,
      lastError: expect.stringContaining('KMS key disabled'),
    });
    expect(await d.flush(T0 + 60_000)).toEqual({ summaries: 0, retried: 1, failed: 0 });
    expect(await journal.get('standby', noticeId(notice))).toMatchObject({ delivery: 'published', attempts: 2 });
    expect(await d.flush(T0 + 120_000)).toEqual({ summaries: 0, retried: 0, failed: 0 });
    expect(published()).toHaveLength(2);
  });

  it('announces the same event once: a retried step with the same id publishes nothing more', async () => {
    const d = desk();
    const notice = { ...pathFailed(T0), kind: 'promoted' as const, path: undefined };
    const id = noticeId(notice, 'failover-epoch-2.NotifyPromoted');
    expect((await d.announce(notice, T0, id)).outcome).toBe('published');
    expect((await d.announce({ ...notice, atMs: T0 + 3_000 }, T0 + 3_000, id)).outcome).toBe('duplicate');
    expect(published()).toHaveLength(1);
  });

  it('still publishes when the journal is down: a failing table never silences a notice', async () => {
    const broken = new NoticeJournal(site.db, 'no-such-table');
    expect((await desk(POLICY, { journal: broken }).announce(pathFailed(T0), T0)).outcome).toBe('published');
    expect(published()).toHaveLength(1);
  });

  const switched: Notice = {
    kind: 'switchover-completed',
    site: 'standby',
    region: 'us-west-2',
    cluster: 'orders',
    atMs: T0,
    detail: { outcome: 'switchover-completed', next: 'this site is primary' },
  };

  it('records an info notice in the journal and publishes it to no topic, now or from the outbox', async () => {
    const d = desk();
    expect(await d.announce(switched, T0)).toEqual({ id: noticeId(switched), outcome: 'recorded' });
    // The same event again (a retried step) is a duplicate, still unpublished.
    expect((await d.announce(switched, T0 + 1_000)).outcome).toBe('duplicate');
    expect(await journal.recent('standby', 5, T0)).toEqual([
      expect.objectContaining({ id: noticeId(switched), delivery: 'recorded', attempts: 0 }),
    ]);
    expect(await d.flush(T0 + 2 * 3_600_000)).toEqual({ summaries: 0, retried: 0, failed: 0 });
    expect(published()).toEqual([]);
  });

  it('publishes an info notice to the warning topic, marked severity info, where notifications.publishInfo asks', async () => {
    const started: Notice = { ...switched, kind: 'switchover-started', detail: { next: 'nothing: it runs by itself' } };
    const d = desk(POLICY, { publishInfo: true });
    expect(await d.announce(started, T0)).toEqual({ id: noticeId(started), outcome: 'published' });
    expect(published()).toEqual([
      expect.objectContaining({
        TopicArn: TOPICS.warning,
        MessageAttributes: expect.objectContaining({ severity: { DataType: 'String', StringValue: 'info' } }),
      }),
    ]);
    expect((await d.announce(started, T0 + 1_000)).outcome).toBe('duplicate');
    expect(published()).toHaveLength(1);
  });

  it('shows no notice past its expiresAt, though DynamoDB has not deleted it yet', async () => {
    const d = desk();
    await d.announce(pathFailed(T0), T0);
    await d.announce({ ...pathFailed(T0 + 60_000), path: 'storage' }, T0 + 60_000);
    const kept = JOURNAL_DAYS * 86_400_000;
    const shown = async (nowMs: number) => (await journal.recent('standby', 5, nowMs)).map((e) => e.notice.path);
    expect(await shown(T0 + kept - 1_000)).toEqual(['storage', 'network']);
    // The first is past its time (DynamoDB Local, like DynamoDB, still returns it to a read without the filter).
    expect(await shown(T0 + kept)).toEqual(['storage']);
    expect(await shown(T0 + kept + 60_000)).toEqual([]);
  });

  it('records who acknowledged a notice, once', async () => {
    const notice = pathFailed(T0);
    await desk().announce(notice, T0);
    const id = noticeId(notice);
    expect(await journal.acknowledge('standby', id, 'alice', 'network team on it', T0 + 5_000)).toBe('acknowledged');
    expect(await journal.acknowledge('standby', id, 'bob', '', T0 + 6_000)).toBe('already');
    expect(await journal.acknowledge('standby', 'no-such-id', 'bob', '', T0 + 6_000)).toBe('unknown');
    expect(await journal.get('standby', id)).toMatchObject({
      acknowledged: { by: 'alice', atMs: T0 + 5_000, note: 'network team on it' },
    });
  });
});
