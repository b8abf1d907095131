import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Notice } from '../core/notices';
import { foldKey, noticeKey, TTL_ATTRIBUTE } from '../core/volume';
import type { SiteId } from '../core/wire';
import { conditionalWrite } from './conditional-write';

/** How long the journal keeps a notice (DynamoDB TTL). */
export const JOURNAL_DAYS = 14;

/** `recorded`: an info notice, kept here and published to no topic (never in the outbox). */
export type Delivery = 'pending' | 'published' | 'recorded';

/** One notice in a site's journal, with its delivery and its acknowledgement. */
export interface JournalEntry {
  readonly id: string;
  readonly notice: Notice;
  readonly subject: string;
  readonly delivery: Delivery;
  readonly attempts: number;
  readonly lastError?: string;
  readonly publishedAtMs?: number;
  readonly acknowledged?: { readonly by: string; readonly atMs: number; readonly note: string };
}

/** The rate-limit window of one notice kind and path: when it opened, what it let through, what it folded. */
export interface FoldWindow {
  readonly site: SiteId;
  readonly kind: string;
  readonly scope: string;
  readonly startMs: number;
  readonly published: number;
  readonly folded: number;
  readonly firstFoldedAtMs?: number;
  readonly lastFoldedAtMs?: number;
  /** The newest folded notice, for the summary. */
  readonly last?: Notice;
}

export type Admission =
  { readonly admit: true; readonly closed?: FoldWindow } | { readonly admit: false; readonly window: FoldWindow };

const siteOf = (sk: string): SiteId => sk.slice(0, sk.indexOf('#')) as SiteId;

function entryOf(item: Record<string, unknown>): JournalEntry {
  const acked =
    typeof item.ackedBy !== 'string'
      ? undefined
      : { by: item.ackedBy, atMs: Number(item.ackedAtMs), note: typeof item.ackNote === 'string' ? item.ackNote : '' };
  return {
    id: String(item.id),
    notice: item.notice as Notice,
    subject: String(item.subject),
    delivery: item.delivery === 'published' || item.delivery === 'recorded' ? item.delivery : 'pending',
    attempts: Number(item.attempts ?? 0),
    ...(typeof item.lastError === 'string' ? { lastError: item.lastError } : {}),
    ...(typeof item.publishedAtMs === 'number' ? { publishedAtMs: item.publishedAtMs } : {}),
    ...(acked === undefined ? {} : { acknowledged: acked }),
  };
}

function windowOf(item: Record<string, unknown>): FoldWindow {
  const [, kind = '', scope = ''] = String(item.sk).split('#');
  return {
    site: siteOf(String(item.sk)),
    kind,
    scope,
    startMs: Number(item.startMs),
    published: Number(item.published ?? 0),
    folded: Number(item.folded ?? 0),
    ...(typeof item.firstFoldedAtMs === 'number' ? { firstFoldedAtMs: item.firstFoldedAtMs } : {}),
    ...(typeof item.lastFoldedAtMs === 'number' ? { lastFoldedAtMs: item.lastFoldedAtMs } : {}),
    ...(item.last === undefined ? {} : { last: item.last as Notice }),
  };
}

/**
 * The notice journal and the rate-limit windows, in the heartbeat volume. The journal is
 * the outbox (a notice is written before it is published and marked when SNS took it) and
 * the record `mirrorbeat status` and `mirrorbeat ack` read and write. Being replicated, the
 * journal of a region that went down can still be read from the other one.
 */
export class NoticeJournal {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly heartbeatVolume: string,
  ) {}

  /**
   * Writes a notice once, `pending` until SNS takes it or `recorded` for good (an info notice); false when this id is
   * already in the journal (the same event announced again).
   */
  async add(
    site: SiteId,
    id: string,
    notice: Notice,
    subject: string,
    signal?: AbortSignal,
    delivery: 'pending' | 'recorded' = 'pending',
  ): Promise<boolean> {
    return conditionalWrite(
      this.db,
      new PutCommand({
        TableName: this.heartbeatVolume,
        Item: {
          ...noticeKey(site, id),
          id,
          notice,
          subject,
          delivery,
          attempts: 0,
          atMs: notice.atMs,
          [TTL_ATTRIBUTE]: Math.floor(notice.atMs / 1000) + JOURNAL_DAYS * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
      signal,
    );
  }

  async get(site: SiteId, id: string, signal?: AbortSignal): Promise<JournalEntry | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: noticeKey(site, id), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return out.Item === undefined ? undefined : entryOf(out.Item);
  }

  async markPublished(site: SiteId, id: string, nowMs: number, signal?: AbortSignal): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: noticeKey(site, id),
        UpdateExpression: 'SET delivery = :published, publishedAtMs = :now ADD attempts :one REMOVE lastError',
        ExpressionAttributeValues: { ':published': 'published', ':now': Math.round(nowMs), ':one': 1 },
      }),
      { abortSignal: signal },
    );
  }

  async markFailedAttempt(site: SiteId, id: string, error: string, signal?: AbortSignal): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.heartbeatVolume,
          Key: noticeKey(site, id),
          UpdateExpression: 'SET lastError = :error ADD attempts :one',
          ConditionExpression: 'delivery = :pending',
          ExpressionAttributeValues: { ':error': error.slice(0, 500), ':one': 1, ':pending': 'pending' },
        }),
        { abortSignal: signal },
      )
      .catch(() => undefined);
  }

  /** A site's newest notices not past their `expiresAt` at `nowMs`, newest first (ids sort by time). */
  async recent(site: SiteId, limit: number, nowMs: number, signal?: AbortSignal): Promise<JournalEntry[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.heartbeatVolume,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :site)',
        // DynamoDB deletes an expired item only within days of its `expiresAt`, and reads return it until then: a
        // notice past its time is dropped here. (The limit counts before the filter; the expired are the oldest.)
        FilterExpression: 'attribute_not_exists(#ttl) OR #ttl > :now',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':pk': 'NOTICE', ':site': `${site}#`, ':now': Math.floor(nowMs / 1000) },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
      { abortSignal: signal },
    );
    return (out.Items ?? []).map(entryOf);
  }

  /** Notices journaled since `sinceMs` and not yet taken by SNS: the outbox. */
  async pending(site: SiteId, sinceMs: number, signal?: AbortSignal): Promise<JournalEntry[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.heartbeatVolume,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        FilterExpression: 'delivery = :pending',
        ExpressionAttributeValues: {
          ':pk': 'NOTICE',
          ':from': `${site}#${String(Math.max(0, Math.floor(sinceMs))).padStart(13, '0')}`,
          ':to': `${site}#~`,
          ':pending': 'pending',
        },
        ConsistentRead: true,
      }),
      { abortSignal: signal },
    );
    return (out.Items ?? []).map(entryOf);
  }

  /** Records who acknowledged a notice; 'already' when someone did before, 'unknown' when there is no such notice. */
  async acknowledge(
    site: SiteId,
    id: string,
    by: string,
    note: string,
    nowMs: number,
  ): Promise<'acknowledged' | 'already' | 'unknown'> {
    const done = await conditionalWrite(
      this.db,
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: noticeKey(site, id),
        UpdateExpression: 'SET ackedBy = :by, ackedAtMs = :now, ackNote = :note',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(ackedBy)',
        ExpressionAttributeValues: { ':by': by, ':now': Math.round(nowMs), ':note': note },
      }),
    );
    if (done) return 'acknowledged';
    return (await this.get(site, id)) === undefined ? 'unknown' : 'already';
  }

  /**
   * Counts a warning notice against its kind and path's window: admitted while the window
   * has let fewer than `burst` through, folded after that. A notice after the window ran out
   * opens a new one, and returns the old one when it had folded notices to summarize.
   */
  async admit(
    site: SiteId,
    kind: string,
    scope: string,
    notice: Notice,
    nowMs: number,
    windowMs: number,
    burst: number,
    signal?: AbortSignal,
  ): Promise<Admission> {
    const key = foldKey(site, kind, scope);
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.heartbeatVolume,
          Key: key,
          UpdateExpression:
            'SET startMs = :now, published = :one, folded = :zero, #ttl = :ttl REMOVE firstFoldedAtMs, lastFoldedAtMs, #last',
          ConditionExpression: 'attribute_not_exists(startMs) OR startMs <= :expired',
          ExpressionAttributeNames: { '#last': 'last', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':now': Math.round(nowMs),
            ':one': 1,
            ':zero': 0,
            ':expired': Math.round(nowMs - windowMs),
            ':ttl': Math.floor(nowMs / 1000) + JOURNAL_DAYS * 86_400,
          },
          ReturnValues: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      const old = out.Attributes === undefined ? undefined : windowOf(out.Attributes);
      return { admit: true, ...(old !== undefined && old.folded > 0 ? { closed: old } : {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const within = await conditionalWrite(
      this.db,
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: key,
        UpdateExpression: 'ADD published :one',
        ConditionExpression: 'published < :burst',
        ExpressionAttributeValues: { ':one': 1, ':burst': burst },
      }),
      signal,
    );
    if (within) return { admit: true };
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: key,
        UpdateExpression:
          'ADD folded :one SET firstFoldedAtMs = if_not_exists(firstFoldedAtMs, :now), lastFoldedAtMs = :now, #last = :notice',
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: { ':one': 1, ':now': Math.round(nowMs), ':notice': notice },
        ReturnValues: 'ALL_NEW',
      }),
      { abortSignal: signal },
    );
    return { admit: false, window: windowOf(out.Attributes ?? {}) };
  }

  /** This site's windows that ran out with folded notices nobody summarized yet. */
  async closedWindows(site: SiteId, nowMs: number, windowMs: number, signal?: AbortSignal): Promise<FoldWindow[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.heartbeatVolume,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :site)',
        FilterExpression: 'folded > :zero AND startMs <= :expired',
        ExpressionAttributeValues: {
          ':pk': 'FOLD',
          ':site': `${site}#`,
          ':zero': 0,
          ':expired': Math.round(nowMs - windowMs),
        },
        ConsistentRead: true,
      }),
      { abortSignal: signal },
    );
    return (out.Items ?? []).map(windowOf);
  }

  /** Removes a window that ran out, if it is still as read; false when a notice or another flush changed it. */
  async closeWindow(w: FoldWindow, signal?: AbortSignal): Promise<boolean> {
    return conditionalWrite(
      this.db,
      new DeleteCommand({
        TableName: this.heartbeatVolume,
        Key: foldKey(w.site, w.kind, w.scope),
        ConditionExpression: 'startMs = :start AND folded = :folded',
        ExpressionAttributeValues: { ':start': w.startMs, ':folded': w.folded },
      }),
      signal,
    );
  }
}
