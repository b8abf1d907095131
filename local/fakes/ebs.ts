import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the EBS direct APIs' read side (ListSnapshotBlocks, ListChangedBlocks,
 * GetSnapshotBlock), served over HTTP on loopback so the real `@aws-sdk/client-ebs` client
 * serializes, signs and parses every call. It follows the REST API as documented: 512 KiB
 * blocks, `maxResults` from 100 to 10,000 (a ValidationException outside), page tokens,
 * block tokens bound to their snapshot and block, the checksum headers, and
 * `RequestThrottledException` (HTTP 400) when told to throttle. EC2's DescribeSnapshots,
 * which finds the snapshots, is answered from the same store by `describeSnapshots`.
 */

export const BLOCK_SIZE = 512 * 1024;

export interface FakeSnapshot {
  readonly id: string;
  readonly volumeId: string;
  readonly volumeSizeGiB: number;
  readonly startTime: Date;
  readonly state: 'completed' | 'pending' | 'error';
  readonly tags: Readonly<Record<string, string>>;
  /** Block index → the block's content (blocks never written are absent, as in a real snapshot). */
  readonly blocks: ReadonlyMap<number, Buffer>;
  /** Serve this block with a checksum that does not match its data (a damaged copy). */
  readonly corruptBlock?: number;
}

export class EbsFake {
  readonly snapshots = new Map<string, FakeSnapshot>();
  /** Requests, as "GET /snapshots/…", for tests that count pagination or retries. */
  readonly requests: string[] = [];
  /** The next this many requests are throttled. */
  throttleNext = 0;
  private server: Server | undefined;

  add(snapshot: FakeSnapshot): FakeSnapshot {
    this.snapshots.set(snapshot.id, snapshot);
    return snapshot;
  }

  /** Starts serving on 127.0.0.1 at a free port; the endpoint URL for the SDK client. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** EC2 DescribeSnapshots over the same store: the filters mirrorbeat sends (status, volume-id, tag:key). */
  describeSnapshots(input: Record<string, unknown>): Record<string, unknown> {
    const filters = (input.Filters ?? []) as { Name: string; Values: string[] }[];
    const matches = (s: FakeSnapshot) =>
      filters.every(({ Name, Values }) => {
        if (Name === 'status') return Values.includes(s.state);
        if (Name === 'volume-id') return Values.includes(s.volumeId);
        if (Name.startsWith('tag:')) return Values.includes(s.tags[Name.slice(4)] ?? '\u0000');
        throw new Error(`the EBS fake does not filter on ${Name}`);
      });
    return {
      Snapshots: [...this.snapshots.values()].filter(matches).map((s) => ({
        SnapshotId: s.id,
        VolumeId: s.volumeId,
        VolumeSize: s.volumeSizeGiB,
        StartTime: s.startTime,
        State: s.state,
        Progress: s.state === 'completed' ? '100%' : '40%',
        Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push(`${req.method} ${url.pathname}`);
    const fail = (status: number, type: string, message: string, reason?: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ Message: message, ...(reason === undefined ? {} : { Reason: reason }) }));
    };
    if (this.throttleNext > 0) {
      this.throttleNext -= 1;
      return fail(400, 'RequestThrottledException', 'Rate exceeded', 'ACCOUNT_THROTTLED');
    }
    if (req.method !== 'GET') return fail(400, 'ValidationException', `${req.method} is not served by the fake`);
    const parts = url.pathname.split('/').filter((p) => p.length > 0);
    const snapshot = this.snapshots.get(parts[1] ?? '');
    if (parts[0] !== 'snapshots' || snapshot === undefined)
      return fail(404, 'ResourceNotFoundException', `snapshot ${parts[1]} not found`, 'SNAPSHOT_NOT_FOUND');
    if (snapshot.state !== 'completed')
      return fail(400, 'ValidationException', 'the snapshot is not completed', 'INVALID_SNAPSHOT_STATE');
    const max = Number(url.searchParams.get('maxResults') ?? 10_000);
    if (!Number.isInteger(max) || max < 100 || max > 10_000)
      return fail(400, 'ValidationException', 'maxResults must be between 100 and 10000', 'INVALID_PAGE_SIZE');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // A block token's expiry, as the EBS direct APIs return it: nothing in mirrorbeat reads it.
    // eslint-disable-next-line no-restricted-properties
    const expiry = Math.floor(Date.now() / 1000) + 7 * 86_400;
    if (parts.length === 3 && parts[2] === 'blocks') {
      const page = this.page([...snapshot.blocks.keys()], url, max);
      return json({
        Blocks: page.indexes.map((i) => ({ BlockIndex: i, BlockToken: tokenOf(snapshot.id, i) })),
        ExpiryTime: expiry,
        VolumeSize: snapshot.volumeSizeGiB,
        BlockSize: BLOCK_SIZE,
        ...(page.next === undefined ? {} : { NextToken: page.next }),
      });
    }
    if (parts.length === 3 && parts[2] === 'changedblocks') {
      const first = this.snapshots.get(url.searchParams.get('firstSnapshotId') ?? '');
      if (first === undefined)
        return fail(404, 'ResourceNotFoundException', 'first snapshot not found', 'SNAPSHOT_NOT_FOUND');
      if (first.volumeId !== snapshot.volumeId)
        return fail(400, 'ValidationException', 'the snapshots are not of one lineage', 'INVALID_DEPENDENCY_REQUEST');
      const indexes = new Set([...first.blocks.keys(), ...snapshot.blocks.keys()]);
      const changed = [...indexes].filter((i) => !sameBlock(first.blocks.get(i), snapshot.blocks.get(i)));
      const page = this.page(changed, url, max);
      return json({
        ChangedBlocks: page.indexes.map((i) => ({
          BlockIndex: i,
          ...(first.blocks.has(i) ? { FirstBlockToken: tokenOf(first.id, i) } : {}),
          ...(snapshot.blocks.has(i) ? { SecondBlockToken: tokenOf(snapshot.id, i) } : {}),
        })),
        ExpiryTime: expiry,
        VolumeSize: snapshot.volumeSizeGiB,
        BlockSize: BLOCK_SIZE,
        ...(page.next === undefined ? {} : { NextToken: page.next }),
      });
    }
    if (parts.length === 4 && parts[2] === 'blocks') {
      const index = Number(parts[3]);
      const data = snapshot.blocks.get(index);
      if (data === undefined || url.searchParams.get('blockToken') !== tokenOf(snapshot.id, index))
        return fail(400, 'ValidationException', 'the block token is not valid for this block', 'INVALID_BLOCK_TOKEN');
      const checksum = createHash('sha256')
        .update(index === snapshot.corruptBlock ? Buffer.concat([data, Buffer.from([1])]) : data)
        .digest('base64');
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'x-amz-Data-Length': String(data.length),
        'x-amz-Checksum': checksum,
        'x-amz-Checksum-Algorithm': 'SHA256',
      });
      res.end(data);
      return;
    }
    return fail(400, 'ValidationException', `${url.pathname} is not an EBS direct API path`);
  }

  /** One page of sorted block indexes from startingBlockIndex, the page token being the next index. */
  private page(all: number[], url: URL, max: number): { indexes: number[]; next: string | undefined } {
    const token = url.searchParams.get('pageToken');
    const from = token === null ? Number(url.searchParams.get('startingBlockIndex') ?? 0) : Number(token);
    const sorted = all.filter((i) => i >= from).sort((a, b) => a - b);
    const indexes = sorted.slice(0, max);
    return { indexes, next: sorted.length > max ? String(sorted[max]) : undefined };
  }
}

const tokenOf = (snapshotId: string, index: number) =>
  createHash('sha256').update(`${snapshotId}/${index}`).digest('base64url').slice(0, 40);

const sameBlock = (a: Buffer | undefined, b: Buffer | undefined) => a !== undefined && b !== undefined && a.equals(b);

/**
 * Two completed snapshots of a volume, the newer `ageSeconds` old with `changedBlocks`
 * blocks written since the older one, `intervalSeconds` before it.
 */
export function snapshotPair(
  fake: EbsFake,
  o: {
    readonly volumeId: string;
    readonly nowMs: number;
    readonly ageSeconds: number;
    readonly intervalSeconds: number;
    readonly blocks: number;
    readonly changedBlocks: number;
    readonly tags?: Readonly<Record<string, string>>;
    readonly corrupt?: boolean;
  },
): { older: FakeSnapshot; newer: FakeSnapshot } {
  // Blocks of one fill share one buffer: a fake volume costs a few MiB, not its size.
  const fills = new Map<number, Buffer>();
  const block = (i: number, generation: number) => {
    const fill = (i * 7 + generation) % 251;
    let data = fills.get(fill);
    if (data === undefined) fills.set(fill, (data = Buffer.alloc(BLOCK_SIZE, fill)));
    return data;
  };
  const first = new Map<number, Buffer>();
  for (let i = 0; i < o.blocks; i += 1) first.set(i * 3, block(i, 0));
  const second = new Map(first);
  for (let i = 0; i < o.changedBlocks; i += 1) second.set(i * 3, block(i, 1));
  const base = { volumeId: o.volumeId, volumeSizeGiB: 100, state: 'completed' as const, tags: o.tags ?? {} };
  const suffix = o.volumeId.slice(4, 12);
  const older = fake.add({
    ...base,
    id: `snap-0${suffix}a`,
    startTime: new Date(o.nowMs - (o.ageSeconds + o.intervalSeconds) * 1000),
    blocks: first,
  });
  const newer = fake.add({
    ...base,
    id: `snap-0${suffix}b`,
    startTime: new Date(o.nowMs - o.ageSeconds * 1000),
    blocks: second,
    ...(o.corrupt === true ? { corruptBlock: 0 } : {}),
  });
  return { older, newer };
}
