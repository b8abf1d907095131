// What AWS Health said of DynamoDB in the witness region, as the network receiver recorded it (site-local table).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { WitnessState } from '../core/quorum';
import { witnessKey } from '../core/volume';

export interface WitnessRecord {
  readonly state: WitnessState;
  /** The Health events still open (their ARNs). */
  readonly open: readonly string[];
  /** When the last event was recorded (this site's clock). */
  readonly atMs: number | undefined;
}

/**
 * One item per site in its observations table: the set of AWS Health events about DynamoDB in the witness region
 * that are open. An `open` event adds its ARN, a `closed` one takes it out; the witness is `unreachable` while the
 * set has any, `ok` once an event closed and none is open, `unknown` before any event. ADD and DELETE on a set are
 * idempotent, so a repeated delivery changes nothing; a closed event stays closed.
 */
export class WitnessStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly observations: string,
  ) {}

  /**
   * `open`: the event's ARN joins the open set, unless it closed before (EventBridge may deliver out of order).
   * `closed`: it leaves the open set and joins the closed one. Returns whether the record changed.
   */
  async record(eventArn: string, open: boolean, nowMs: number, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.observations,
          Key: witnessKey(),
          UpdateExpression: open
            ? 'ADD openEvents :arns SET atMs = :now'
            : 'ADD closedEvents :arns DELETE openEvents :arns SET atMs = :now',
          ...(open
            ? { ConditionExpression: 'attribute_not_exists(closedEvents) OR NOT contains(closedEvents, :arn)' }
            : {}),
          ExpressionAttributeValues: {
            ':arns': new Set([eventArn]),
            ':now': nowMs,
            ...(open ? { ':arn': eventArn } : {}),
          },
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async read(signal?: AbortSignal): Promise<WitnessRecord> {
    const item = (
      await this.db.send(new GetCommand({ TableName: this.observations, Key: witnessKey(), ConsistentRead: true }), {
        abortSignal: signal,
      })
    ).Item;
    const open = item?.openEvents instanceof Set ? [...(item.openEvents as Set<string>)].sort() : [];
    return {
      state: item === undefined ? 'unknown' : open.length > 0 ? 'unreachable' : 'ok',
      open,
      atMs: item?.atMs === undefined ? undefined : Number(item.atMs),
    };
  }
}
