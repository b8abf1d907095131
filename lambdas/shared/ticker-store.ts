// The serial counter's item in the site's observations table: the serials of its beats, the
// site's ticker (the one invocation of the heartbeat module that ticks now) and the standby's
// lease watch that ticker leaves for the next one.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CarriedWatch } from '../core/lease';
import { serialFloor, serialKey } from '../core/volume';
import type { SiteId } from '../core/wire';

/**
 * The watch as the item holds it, when it is one (three non-negative integers); anything else,
 * a hand-edited or older item, is no watch: the next invocation starts its own, which only waits
 * longer.
 */
export function carriedWatchOf(value: unknown): CarriedWatch | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { epoch, lease, silentMs } = value as Record<string, unknown>;
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  return count(epoch) && count(lease) && count(silentMs) ? { epoch, lease, silentMs } : undefined;
}

export class TickerStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly observations: string,
  ) {}

  /**
   * Next serial of this site's beats: the send time in ms, or the last serial + 1 when that is
   * not above it. Both are atomic updates of one item, so overlapping invocations never reuse a
   * serial, and the time floor keeps serials rising even if the table was recreated empty.
   */
  async nextSerial(site: SiteId, nowMs: number, signal?: AbortSignal): Promise<number> {
    return (await this.nextSerialAs(site, nowMs, undefined, undefined, signal)).serial;
  }

  /**
   * The site's ticker: the one invocation of the heartbeat module that ticks now. An invocation
   * claims it when no ticker ticked within `staleBeforeMs`, or the current one ends before
   * `endsBeforeMs` (it is near its own end: the next takes over before it stops); otherwise it
   * leaves the ticking to the one that holds it. One conditional write on the serial counter's
   * item, which answers with the lease watch the last ticker left (`carried`).
   */
  async claim(
    site: SiteId,
    claim: { readonly id: string; readonly untilMs: number; readonly nowMs: number },
    bounds: { readonly staleBeforeMs: number; readonly endsBeforeMs: number },
    signal?: AbortSignal,
  ): Promise<
    | { claimed: false; seenAtMs: number | undefined; untilMs: number | undefined }
    | { claimed: true; carried: CarriedWatch | undefined }
  > {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.observations,
          Key: serialKey(site),
          UpdateExpression: 'SET ticker = :id, tickerUntil = :until, tickerSeenAt = :now',
          ConditionExpression:
            'attribute_not_exists(ticker) OR tickerSeenAt < :stale OR tickerUntil < :ends OR ticker = :id',
          ExpressionAttributeValues: {
            ':id': claim.id,
            ':until': claim.untilMs,
            ':now': claim.nowMs,
            ':stale': bounds.staleBeforeMs,
            ':ends': bounds.endsBeforeMs,
          },
          ReturnValues: 'ALL_NEW',
          // A refusal answers with the ticker that holds the item: when it last ticked and until when it runs.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return { claimed: true, carried: carriedWatchOf(out.Attributes?.watch) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The exception's item is in DynamoDB's own format (the document client converts only answers).
      const time = (name: string) => {
        const n = Number(error.Item?.[name]?.N);
        return Number.isFinite(n) ? n : undefined;
      };
      return { claimed: false, seenAtMs: time('tickerSeenAt'), untilMs: time('tickerUntil') };
    }
  }

  /**
   * The next serial, for the invocation that ticks (`ticker`): the update also marks the ticker
   * alive, leaves the standby's lease watch (`watch`) for the next invocation, and returns which
   * invocation the item names, so an older invocation learns, in the update it makes anyway,
   * that a newer one has taken over (lambdas/heartbeat-module/driver.ts).
   */
  async nextSerialAs(
    site: SiteId,
    nowMs: number,
    ticker: string | undefined,
    watch: CarriedWatch | undefined,
    signal?: AbortSignal,
  ): Promise<{ serial: number; ticker: string | undefined }> {
    const floor = serialFloor(nowMs);
    const sets = [
      ...(ticker === undefined ? [] : ['tickerSeenAt = :now']),
      ...(watch === undefined ? [] : ['watch = :watch']),
    ];
    const values = {
      ...(ticker === undefined ? {} : { ':now': nowMs }),
      ...(watch === undefined ? {} : { ':watch': { ...watch } }),
    };
    const answer = (attributes: Record<string, unknown> | undefined) => ({
      serial: Number(attributes?.serial),
      ticker: typeof attributes?.ticker === 'string' ? attributes.ticker : undefined,
    });
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.observations,
          Key: serialKey(site),
          UpdateExpression: ['SET serial = :floor', ...sets].join(', '),
          ConditionExpression: 'attribute_not_exists(serial) OR serial < :floor',
          ExpressionAttributeValues: { ':floor': floor, ...values },
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal: signal },
      );
      return answer(out.Attributes);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.observations,
        Key: serialKey(site),
        UpdateExpression: `ADD serial :one${sets.length === 0 ? '' : ` SET ${sets.join(', ')}`}`,
        ExpressionAttributeValues: { ':one': 1, ...values },
        ReturnValues: 'ALL_NEW',
      }),
      { abortSignal: signal },
    );
    return answer(out.Attributes);
  }
}
