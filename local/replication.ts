import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { KEY } from '../lambdas/core/volume';

type Item = Record<string, unknown>;

export interface ReplicaSide {
  readonly name: string;
  readonly db: DynamoDBDocumentClient;
  readonly table: string;
}

interface Pending {
  readonly deliverAtMs: number;
  readonly to: 0 | 1;
  readonly key: string;
  /** The item to write, or undefined to delete it. */
  readonly item: Item | undefined;
}

const keyOf = (item: Item): string => `${String(item[KEY.pk])}\u0000${String(item[KEY.sk])}`;

/**
 * The remote link of the heartbeat volume: copies every change made in one replica to the
 * other after a configurable lag, as DynamoDB global-table replication does (asynchronous,
 * per item and in order). A partition holds changes back until it heals; loss drops a
 * change (the next write of that item carries the newer value anyway). Driven by the
 * runtime's clock through `pump(nowMs)`, so replication follows virtual time.
 */
export class ReplicationLink {
  lagMs = 0;
  partitioned = false;
  lossRate = 0;
  private readonly seen: [Map<string, string>, Map<string, string>] = [
    new Map<string, string>(),
    new Map<string, string>(),
  ];
  private queue: Pending[] = [];
  private fresh: number[] = [];
  private readonly lastDue = new Map<string, number>();

  /**
   * @param latencyMs the link's own latency per change, on top of `lagMs` (a fault)
   * @param random where loss decisions come from (seeded in the runtime)
   */
  constructor(
    private readonly sides: readonly [ReplicaSide, ReplicaSide],
    private readonly latencyMs: () => number = () => 0,
    private readonly random: () => number = Math.random,
  ) {}

  /** Picks up the changes made on each side since the last pump and delivers those that are due. */
  async pump(nowMs: number): Promise<{ delivered: number }> {
    await this.capture(nowMs);
    return { delivered: await this.deliver(nowMs) };
  }

  /**
   * Picks up the changes made since the last capture on the given sides (both by default;
   * a caller that knows which replica it wrote names only that one); returns when each new
   * change falls due.
   */
  async capture(nowMs: number, sides: readonly (0 | 1)[] = [0, 1]): Promise<number[]> {
    this.fresh = [];
    const snapshots = await Promise.all(sides.map(async (side) => [side, await this.scan(this.sides[side])] as const));
    for (const [from, current] of snapshots) {
      const to = from === 0 ? 1 : 0;
      const seen = this.seen[from];
      for (const [key, item] of current) {
        const text = JSON.stringify(item);
        if (seen.get(key) === text) continue;
        seen.set(key, text);
        // A value that arrived by replication is not a new change of this side.
        if (this.seen[to].get(key) === text) continue;
        this.enqueue(nowMs, to, key, item);
      }
      for (const key of [...seen.keys()]) {
        if (current.has(key)) continue;
        seen.delete(key);
        if (this.seen[to].has(key)) this.enqueue(nowMs, to, key, undefined);
      }
    }
    return this.fresh;
  }

  /** Applies the changes that are due, unless the link is cut; returns how many. */
  async deliver(nowMs: number): Promise<number> {
    if (this.partitioned) return 0;
    // In the order they fall due: a later version of an item never lands before an earlier one.
    const due = this.queue.filter((p) => p.deliverAtMs <= nowMs).sort((a, b) => a.deliverAtMs - b.deliverAtMs);
    this.queue = this.queue.filter((p) => p.deliverAtMs > nowMs);
    for (const change of due) await this.apply(change);
    return due.length;
  }

  /** Changes waiting on the link: what a lagging or partitioned replica has not applied yet. */
  get backlog(): number {
    return this.queue.length;
  }

  private enqueue(nowMs: number, to: 0 | 1, key: string, item: Item | undefined): void {
    if (this.lossRate > 0 && this.random() < this.lossRate) return;
    // Like a stream, the link applies the changes of one item in order, each after its own latency.
    const previous = this.lastDue.get(`${to}\u0000${key}`) ?? 0;
    const deliverAtMs = Math.max(previous, nowMs + this.lagMs + Math.max(0, this.latencyMs()));
    this.lastDue.set(`${to}\u0000${key}`, deliverAtMs);
    this.queue.push({ deliverAtMs, to, key, item });
    this.fresh.push(deliverAtMs);
  }

  private async apply(change: Pending): Promise<void> {
    const side = this.sides[change.to];
    if (change.item === undefined) {
      const [pk, sk] = change.key.split('\u0000');
      await side.db.send(new DeleteCommand({ TableName: side.table, Key: { [KEY.pk]: pk, [KEY.sk]: sk } }));
      this.seen[change.to].delete(change.key);
    } else {
      await side.db.send(new PutCommand({ TableName: side.table, Item: change.item }));
      this.seen[change.to].set(change.key, JSON.stringify(change.item));
    }
  }

  private async scan(side: ReplicaSide): Promise<Map<string, Item>> {
    const items = new Map<string, Item>();
    let start: Record<string, unknown> | undefined;
    do {
      const out = await side.db.send(
        new ScanCommand({ TableName: side.table, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) items.set(keyOf(item), item);
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }
}
