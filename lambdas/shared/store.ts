import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Heartbeat } from '../core/message';
import type { PathAckMessage, PathCommandMessage } from '../core/command';
import {
  ackKey,
  beatKey,
  commandKey,
  clusterKey,
  type ClusterRecord,
  DEFAULT_PATH_MODE,
  INITIAL_CLUSTER,
  invalidKey,
  type ItemKey,
  leaseKey,
  observationKey,
  pathKey,
  serialFloor,
  serialKey,
  stateKey,
  TTL_ATTRIBUTE,
  viewKey,
} from '../core/volume';
import { type PathId, type PathMode, peerOf, type SiteId } from '../core/wire';

/** A request command found for this site, with the path that carried it. */
export interface ReceivedCommand {
  readonly via: PathId;
  readonly id: string;
  /** The message as stored: validated by the caller. */
  readonly message: unknown;
}

export interface Observation {
  readonly serial: number;
  readonly arrivedAtMs: number;
  readonly beat: Heartbeat;
}

/** Sends a conditional write; false when its condition failed. */
export async function conditionalWrite(
  db: DynamoDBDocumentClient,
  command: UpdateCommand | PutCommand | DeleteCommand,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await db.send(command as UpdateCommand, { abortSignal: signal });
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Stands for "no value before" in a recorded change's previous value. */
const NO_VALUE = '-';

/**
 * Reads and writes of the heartbeat volume (this region's replica of the global table)
 * and of the site-local observations table. Reads of the volume are strongly consistent:
 * within one region, a replica read sees every write the replica has applied.
 */
export class SiteStore {
  /**
   * @param leaseItems two-region mode: the primary renews its lease in its own LEASE item, and a
   *   cluster record read carries that item's count (quorum mode renews the cluster record itself)
   */
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly heartbeatVolume: string,
    private readonly observations: string,
    private readonly leaseItems = false,
  ) {}

  /**
   * Next serial of this site's beats: the send time in ms, or the last serial + 1 when that is
   * not above it. Both are atomic updates of one item, so overlapping invocations never reuse a
   * serial, and the time floor keeps serials rising even if the table was recreated empty.
   */
  async nextSerial(site: SiteId, nowMs: number, signal?: AbortSignal): Promise<number> {
    const floor = serialFloor(nowMs);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.observations,
          Key: serialKey(site),
          UpdateExpression: 'SET serial = :floor',
          ConditionExpression: 'attribute_not_exists(serial) OR serial < :floor',
          ExpressionAttributeValues: { ':floor': floor },
        }),
        { abortSignal: signal },
      );
      return floor;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.observations,
        Key: serialKey(site),
        UpdateExpression: 'ADD serial :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
      { abortSignal: signal },
    );
    return Number(out.Attributes?.serial);
  }

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

  /**
   * The cluster record. Strong by default: in quorum mode that read needs a majority. With
   * `strong` false, this region's copy as it stands, which answers without one (for checks
   * that only need an epoch this site already knows, like the receivers').
   */
  async readCluster(signal?: AbortSignal, strong = true): Promise<ClusterRecord> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: clusterKey(), ConsistentRead: strong }),
      { abortSignal: signal },
    );
    if (this.leaseItems) {
      const primary = (out.Item?.primary as SiteId | undefined) ?? INITIAL_CLUSTER.primary;
      const lease = await this.db.send(
        new GetCommand({ TableName: this.heartbeatVolume, Key: leaseKey(primary), ConsistentRead: true }),
        { abortSignal: signal },
      );
      const count: unknown = lease.Item?.lease;
      if (out.Item === undefined) return { ...INITIAL_CLUSTER, ...(typeof count === 'number' ? { lease: count } : {}) };
      out.Item = { ...out.Item, lease: typeof count === 'number' ? count : undefined };
    }
    if (out.Item === undefined) return INITIAL_CLUSTER;
    const promotedAtMs = typeof out.Item.promotedAt === 'string' ? Date.parse(out.Item.promotedAt) : NaN;
    const verifiedAtMs = typeof out.Item.verifiedAt === 'string' ? Date.parse(out.Item.verifiedAt) : NaN;
    const handover = out.Item.handover as Record<string, unknown> | undefined;
    return {
      epoch: Number(out.Item.epoch),
      primary: out.Item.primary as SiteId,
      ...(typeof out.Item.lease === 'number' ? { lease: out.Item.lease } : {}),
      ...(typeof out.Item.actAfterMs === 'number' && out.Item.actAfterMs > 0
        ? { actAfterMs: out.Item.actAfterMs }
        : {}),
      ...(Number.isFinite(promotedAtMs) ? { promotedAtMs } : {}),
      ...(Number.isFinite(verifiedAtMs) ? { verifiedAtMs } : {}),
      ...(out.Item.handedOver === true ? { handedOver: true } : {}),
      ...(handover === undefined
        ? {}
        : {
            handover: {
              to: handover.to as SiteId,
              execution: String(handover.execution),
              requestedAtMs: Number(handover.requestedAtMs),
              ...(typeof handover.drainedAtMs === 'number' ? { drainedAtMs: handover.drainedAtMs } : {}),
            },
          }),
    };
  }

  /**
   * The primary's lease renewal: a conditional write that raises the renewal count while the
   * record still names this site primary at `epoch`. In quorum mode it succeeds only in a region
   * that reaches a majority; 'refused' when the record moved on (another epoch or primary). In
   * two-region mode it raises the count in this site's own LEASE item.
   */
  async renewLease(epoch: number, site: SiteId, nowMs: number, signal?: AbortSignal): Promise<'renewed' | 'refused'> {
    if (this.leaseItems) {
      // Nobody else writes this item, so replication can never make it lose to another writer.
      await this.db.send(
        new UpdateCommand({
          TableName: this.heartbeatVolume,
          Key: leaseKey(site),
          UpdateExpression: 'SET lease = if_not_exists(lease, :zero) + :one, epoch = :epoch, renewedAt = :now',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':epoch': epoch, ':now': new Date(nowMs).toISOString() },
        }),
        { abortSignal: signal },
      );
      return 'renewed';
    }
    const initial = epoch === INITIAL_CLUSTER.epoch && site === INITIAL_CLUSTER.primary;
    const ok = await this.conditional(
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression:
          'SET lease = if_not_exists(lease, :zero) + :one, renewedAt = :now, epoch = if_not_exists(epoch, :epoch), #primary = if_not_exists(#primary, :me)',
        ConditionExpression: initial
          ? 'attribute_not_exists(epoch) OR (epoch = :epoch AND #primary = :me)'
          : 'epoch = :epoch AND #primary = :me',
        ExpressionAttributeNames: { '#primary': 'primary' },
        ExpressionAttributeValues: {
          ':zero': 0,
          ':one': 1,
          ':now': new Date(nowMs).toISOString(),
          ':epoch': epoch,
          ':me': site,
        },
      }),
      signal,
    );
    return ok ? 'renewed' : 'refused';
  }

  /** This site's recorded state of one path of its peer (what its heartbeat module last saw), if any. */
  async readPathState(site: SiteId, path: PathId, signal?: AbortSignal): Promise<string | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: stateKey(site, path), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return out.Item?.state as string | undefined;
  }

  /**
   * A switchover asks the primary at `epoch` to hand over to `to`. Conditional: the record
   * must still be at that epoch with the other site primary, and no other handover pending
   * (the same execution asking again is fine). Returns false when the condition failed.
   */
  async requestHandover(epoch: number, to: SiteId, execution: string, nowMs: number): Promise<boolean> {
    const from = peerOf(to);
    return this.conditional(
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression: 'SET epoch = :epoch, #primary = :from, handover = :handover',
        ConditionExpression: `${epoch === INITIAL_CLUSTER.epoch ? '(attribute_not_exists(epoch) OR (epoch = :epoch AND #primary = :from))' : '(epoch = :epoch AND #primary = :from)'} AND (attribute_not_exists(handover) OR handover.execution = :execution)`,
        ExpressionAttributeNames: { '#primary': 'primary' },
        ExpressionAttributeValues: {
          ':epoch': epoch,
          ':from': from,
          ':handover': { to, execution, requestedAtMs: Math.round(nowMs) },
          ':execution': execution,
        },
      }),
    );
  }

  /** The primary says it stopped acting as one for this handover; once only. */
  async markDrained(execution: string, nowMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression: 'SET handover.drainedAtMs = :now',
        ConditionExpression: 'handover.execution = :execution AND attribute_not_exists(handover.drainedAtMs)',
        ExpressionAttributeValues: { ':now': Math.round(nowMs), ':execution': execution },
      }),
      signal,
    );
  }

  /** A switchover that gave up withdraws its handover, and the primary resumes. */
  async cancelHandover(execution: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression: 'REMOVE handover',
        ConditionExpression: 'handover.execution = :execution',
        ExpressionAttributeValues: { ':execution': execution },
      }),
    );
  }

  private async conditional(command: UpdateCommand | PutCommand, signal?: AbortSignal): Promise<boolean> {
    return conditionalWrite(this.db, command, signal);
  }

  async readPathMode(site: SiteId, path: PathId, signal?: AbortSignal): Promise<PathMode> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: pathKey(site, path), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return (out.Item?.mode as PathMode | undefined) ?? DEFAULT_PATH_MODE;
  }

  /** The storage path: this site's beat into its own replica (the PVOL). */
  async writeBeat(beat: Heartbeat, signal?: AbortSignal): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.heartbeatVolume, Item: { ...beatKey(beat.site), beat } }), {
      abortSignal: signal,
    });
  }

  /** The peer's storage-path beat as replicated into this region (the SVOL); the raw item, validated by the caller. */
  async readBeat(site: SiteId, signal?: AbortSignal): Promise<unknown> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: beatKey(site), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return out.Item?.beat;
  }

  /** Records a valid beat seen on a path unless a newer one is already recorded; false when it was not newer. */
  async recordBeat(
    path: PathId,
    beat: Heartbeat,
    arrivedAtMs: number,
    ttlSeconds: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.observations,
        Item: {
          ...observationKey(path, beat.site),
          serial: beat.serial,
          arrivedAtMs,
          beat,
          [TTL_ATTRIBUTE]: Math.floor(arrivedAtMs / 1000) + ttlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(serial) OR serial < :serial',
        ExpressionAttributeValues: { ':serial': beat.serial },
      }),
      signal,
    );
  }

  async readObservation(path: PathId, peer: SiteId, signal?: AbortSignal): Promise<Observation | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.observations, Key: observationKey(path, peer), ConsistentRead: true }),
      { abortSignal: signal },
    );
    if (out.Item === undefined) return undefined;
    return {
      serial: Number(out.Item.serial),
      arrivedAtMs: Number(out.Item.arrivedAtMs),
      beat: out.Item.beat as Heartbeat,
    };
  }

  /** Sets one path's mode in the path registry (this site's item), with who, when and why. */
  async setPathMode(
    site: SiteId,
    path: PathId,
    mode: PathMode,
    changedBy: string,
    reason: string,
    nowMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.heartbeatVolume,
        Item: { ...pathKey(site, path), mode, changedBy, changedAt: new Date(nowMs).toISOString(), reason },
      }),
      { abortSignal: signal },
    );
  }

  /** The storage path's copy of a request command: an item in the requester's replica that replication carries to the peer. */
  async putCommand(command: PathCommandMessage, signal?: AbortSignal): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.heartbeatVolume,
        Item: { ...commandKey(command.to, command.id), message: command },
      }),
      { abortSignal: signal },
    );
  }

  /** The network path's copy of a request command or acknowledgement, recorded by the receiver in the local table. */
  async recordReceivedControl(
    kind: 'command' | 'ack',
    message: PathCommandMessage | PathAckMessage,
    ttlSeconds: number,
    nowMs: number,
  ): Promise<void> {
    const key = kind === 'command' ? commandKey((message as PathCommandMessage).to, message.id) : ackKey(message.id);
    await this.db.send(
      new PutCommand({
        TableName: this.observations,
        Item: { ...key, message, [TTL_ATTRIBUTE]: Math.floor(nowMs / 1000) + ttlSeconds },
      }),
    );
  }

  /** Request commands addressed to this site, from both paths: the replica (storage) and the local table (network). */
  async receivedCommands(site: SiteId, signal?: AbortSignal): Promise<ReceivedCommand[]> {
    const query = (table: string) =>
      this.db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :to)',
          ExpressionAttributeValues: { ':pk': 'COMMAND', ':to': `${site}#` },
          ConsistentRead: true,
        }),
        { abortSignal: signal },
      );
    const [storage, network] = await Promise.all([query(this.heartbeatVolume), query(this.observations)]);
    const of = (via: PathId, items: Record<string, unknown>[] | undefined): ReceivedCommand[] =>
      (items ?? []).map((item) => ({ via, id: String(item.sk).slice(site.length + 1), message: item.message }));
    return [...of('storage', storage.Items), ...of('network', network.Items)];
  }

  /** Forgets a handled request command on both paths. */
  async deleteCommand(site: SiteId, id: string, signal?: AbortSignal): Promise<void> {
    await Promise.all(
      [this.heartbeatVolume, this.observations].map((table) =>
        this.db.send(new DeleteCommand({ TableName: table, Key: commandKey(site, id) }), { abortSignal: signal }),
      ),
    );
  }

  /** Writes this site's acknowledgement into its replica once; false when it already answered this command. */
  async putAck(ack: PathAckMessage, signal?: AbortSignal): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.heartbeatVolume,
        Item: { ...ackKey(ack.id), message: ack },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
      signal,
    );
  }

  /** The peer's acknowledgement of a command, from whichever path carried it first. */
  async readAck(id: string, signal?: AbortSignal): Promise<unknown> {
    const read = (table: string) =>
      this.db.send(new GetCommand({ TableName: table, Key: ackKey(id), ConsistentRead: true }), {
        abortSignal: signal,
      });
    const [storage, network] = await Promise.all([read(this.heartbeatVolume), read(this.observations)]);
    return storage.Item?.message ?? network.Item?.message;
  }

  async countInvalid(path: PathId, reason: string, signal?: AbortSignal): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.observations,
        Key: invalidKey(path, reason),
        UpdateExpression: 'ADD #count :one',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
      { abortSignal: signal },
    );
  }
}
