// The path registry and the request commands of path control: which paths each site uses, and the commands and
// acknowledgements that change them.
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { PathAckMessage, PathCommandMessage } from '../core/command';
import { ackKey, commandKey, DEFAULT_PATH_MODE, pathKey, TTL_ATTRIBUTE } from '../core/volume';
import { PATHS, type PathId, type PathMode, type SiteId } from '../core/wire';
import { conditionalWrite } from './conditional-write';

/** A request command found for this site, with the path that carried it. */
export interface ReceivedCommand {
  readonly via: PathId;
  readonly id: string;
  /** The message as stored: validated by the caller. */
  readonly message: unknown;
}

/**
 * The path registry (one item per site and path in the heartbeat volume) and the request
 * commands and acknowledgements path control sends on both paths: a copy in the requester's
 * replica that replication carries (storage), a copy the receiver records in the local table (network).
 */
export class PathStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly heartbeatVolume: string,
    private readonly observations: string,
  ) {}

  async readPathMode(site: SiteId, path: PathId, signal?: AbortSignal): Promise<PathMode> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.heartbeatVolume, Key: pathKey(site, path), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return (out.Item?.mode as PathMode | undefined) ?? DEFAULT_PATH_MODE;
  }

  /**
   * Both of a site's modes in one request: the two items share a partition, so one strongly
   * consistent query reads them for one read unit (two reads would cost two). A path with no item has the default mode.
   */
  async readPathModes(site: SiteId, signal?: AbortSignal): Promise<Record<PathId, PathMode>> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.heartbeatVolume,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :site)',
        ExpressionAttributeValues: { ':pk': pathKey(site, 'network').pk, ':site': `${site}#` },
        ConsistentRead: true,
      }),
      { abortSignal: signal },
    );
    const modes = Object.fromEntries(PATHS.map((p) => [p, DEFAULT_PATH_MODE])) as Record<PathId, PathMode>;
    for (const item of out.Items ?? []) {
      const path = String(item.sk).slice(site.length + 1) as PathId;
      if (PATHS.includes(path)) modes[path] = item.mode as PathMode;
    }
    return modes;
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

  /**
   * The storage path's copy of a request command: an item in the requester's replica that replication carries to the
   * peer.
   */
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
    return conditionalWrite(
      this.db,
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
}
