// This site's recorded view of the peer in the heartbeat volume: each path's state, the verdict, the role it acts in.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type ItemKey, stateKey, viewKey } from '../core/volume';
import type { PathId, SiteId } from '../core/wire';

/** Stands for "no value before" in a recorded change's previous value. */
const NO_VALUE = '-';

/**
 * Each change is recorded once: of two overlapping invocations only the one whose write changed
 * the record gets the previous value back, and announces the change.
 */
export class ViewStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly heartbeatVolume: string,
  ) {}

  /**
   * Records this site's view of one path of the peer; returns the state it replaces, or
   * null when that state was already recorded (by this invocation or an overlapping one),
   * so exactly one writer announces each change.
   */
  async recordPathState(
    site: SiteId,
    path: PathId,
    state: string,
    nowMs: number,
    writer: string,
    signal?: AbortSignal,
  ): Promise<string | undefined | null> {
    return this.recordChange(stateKey(site, path), 'state', state, nowMs, writer, signal);
  }

  async recordVerdict(
    site: SiteId,
    verdict: string,
    nowMs: number,
    writer: string,
    signal?: AbortSignal,
  ): Promise<string | undefined | null> {
    return this.recordChange(viewKey(site), 'verdict', verdict, nowMs, writer, signal);
  }

  async recordRole(
    site: SiteId,
    role: string,
    nowMs: number,
    writer: string,
    signal?: AbortSignal,
  ): Promise<string | undefined | null> {
    return this.recordChange(viewKey(site), 'role', role, nowMs, writer, signal);
  }

  /**
   * One more attribute of the site's view item, recorded once per change: `primarySeen`
   * (`seen`, or `none` past the no-primary grace), `maintenance` (what was last announced), `quorum` (quorum
   * mode: lambdas/heartbeat-module/quorum-watch.ts), `replication` (`ok` or `lagging`: replication-watch.ts) and
   * `readiness` (lambdas/failover-steps/failover-readiness.ts).
   */
  async recordView(
    site: SiteId,
    attribute: 'primarySeen' | 'twoPrimaries' | 'maintenance' | 'quorum' | 'replication' | 'readiness',
    value: string,
    nowMs: number,
    writer: string,
    signal?: AbortSignal,
  ): Promise<string | undefined | null> {
    return this.recordChange(viewKey(site), attribute, value, nowMs, writer, signal);
  }

  /**
   * Records a new value if it differs from the stored one. Returns the previous value when
   * this writer changed it, null when someone else had already recorded it. A write that
   * landed but whose answer was lost (a timeout) is recognized on the next attempt by its
   * writer id, so the change is still announced once, not dropped.
   */
  private async recordChange(
    key: ItemKey,
    attribute: string,
    value: string,
    nowMs: number,
    writer: string,
    signal?: AbortSignal,
  ): Promise<string | undefined | null> {
    const names = {
      '#value': attribute,
      '#since': `${attribute}Since`,
      '#writer': `${attribute}Writer`,
      '#previous': `${attribute}Previous`,
    };
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.heartbeatVolume,
          Key: key,
          UpdateExpression:
            'SET #previous = if_not_exists(#value, :none), #value = :value, #since = :now, #writer = :writer',
          ConditionExpression: 'attribute_not_exists(#value) OR #value <> :value',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':value': value,
            ':now': new Date(nowMs).toISOString(),
            ':writer': writer,
            ':none': NO_VALUE,
          },
          ReturnValues: 'UPDATED_OLD',
        }),
        { abortSignal: signal },
      );
      return out.Attributes?.[attribute] as string | undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = (
        await this.db.send(new GetCommand({ TableName: this.heartbeatVolume, Key: key, ConsistentRead: true }), {
          abortSignal: signal,
        })
      ).Item;
      if (item?.[`${attribute}Writer`] !== writer) return null;
      const previous = item[`${attribute}Previous`] as string | undefined;
      return previous === NO_VALUE ? undefined : previous;
    }
  }

  /** The site's whole view item (eventually consistent: what it last recorded, readable without a majority). */
  async readView(site: SiteId, signal?: AbortSignal): Promise<Readonly<Record<string, unknown>> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.heartbeatVolume, Key: viewKey(site) }), {
      abortSignal: signal,
    });
    return out.Item;
  }

  async readPathState(site: SiteId, path: PathId, signal?: AbortSignal): Promise<string | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: stateKey(site, path), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return out.Item?.state as string | undefined;
  }
}
