import { createHash } from 'node:crypto';
import {
  type EBSClient,
  GetSnapshotBlockCommand,
  ListChangedBlocksCommand,
  ListSnapshotBlocksCommand,
} from '@aws-sdk/client-ebs';
import { DescribeSnapshotsCommand, type EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import type { EbsReadiness } from '../core/wire';
import { deadline } from '../shared/deadlines';
import type { GateCheck } from './gates';

/**
 * The data readiness gate: before a promotion, in the promoted site's region, the newest
 * completed snapshot (or copy) of each protected EBS volume must be recent, listable block by
 * block, and one sampled block must match its checksum. With `ListChangedBlocks` against the
 * snapshot before it, the gate estimates how much data was written since (the bytes and
 * seconds at risk). Policy `block` stops the failover when a volume is not ready; `warn` lets
 * it go on with the figures in the decision record.
 */

export interface ReadinessDeps {
  readonly ebs: EBSClient;
  readonly ec2: EC2Client;
  readonly now: () => number;
  /** Backoff between throttled calls (a test passes one that does not wait). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The EBS direct APIs' largest page; listing stops after this many pages of one snapshot (5 M blocks, 2.4 TiB). */
const PAGE_SIZE = 10_000;
const MAX_PAGES = 500;
/** RequestThrottledException is retried this often, with full-jitter backoff from 200 ms. */
const THROTTLE_RETRIES = 5;

/** The tag a snapshot copy carries to name its source volume (a copy's own VolumeId is arbitrary). */
export const SOURCE_VOLUME_TAG = 'mirrorbeat:volume';

export interface VolumeReadiness {
  readonly volume: string;
  readonly ready: boolean;
  readonly snapshotId: string | null;
  readonly snapshotAgeSeconds: number | null;
  readonly blocks: number | null;
  readonly changedBytesSincePrevious: number | null;
  /** Estimated bytes written since the snapshot, at the rate between it and the one before it. */
  readonly bytesAtRisk: number | null;
  readonly secondsAtRisk: number | null;
  readonly sampledBlock: { readonly index: number; readonly checksum: 'match' | 'mismatch' } | null;
  readonly evidence: string;
}

export async function ebsReadinessGate(config: EbsReadiness, deps: ReadinessDeps): Promise<GateCheck> {
  const volumes = await Promise.all(config.volumes.map((v) => volumeReadiness(v, config, deps)));
  const notReady = volumes.filter((v) => !v.ready);
  const summary = volumes.map((v) => `${v.volume}: ${v.evidence}`).join('; ');
  return {
    gate: 'ebs-readiness',
    passed: notReady.length === 0 || config.policy === 'warn',
    policy: config.policy,
    volumes,
    evidence:
      notReady.length === 0
        ? summary
        : config.policy === 'warn'
          ? `warn: ${notReady.length} of ${volumes.length} volumes not ready (policy warn lets the failover go on): ${summary}`
          : `${notReady.length} of ${volumes.length} volumes not ready: ${summary}; to fail over anyway set readiness.ebs.policy to warn and deploy, or restore the data first`,
  };
}

async function volumeReadiness(
  selector: EbsReadiness['volumes'][number],
  config: EbsReadiness,
  deps: ReadinessDeps,
): Promise<VolumeReadiness> {
  const volume = 'volumeId' in selector ? selector.volumeId : `tag ${selector.tag.key}=${selector.tag.value}`;
  const none = {
    volume,
    ready: false,
    snapshotId: null,
    snapshotAgeSeconds: null,
    blocks: null,
    changedBytesSincePrevious: null,
    bytesAtRisk: null,
    secondsAtRisk: null,
    sampledBlock: null,
  };
  let snapshots: Snapshot[];
  try {
    snapshots = await completedSnapshots(selector, deps);
  } catch (error) {
    return { ...none, evidence: `snapshots not readable: ${describe(error)}` };
  }
  const [newest, previous] = snapshots;
  if (newest?.SnapshotId === undefined || newest.StartTime === undefined)
    return {
      ...none,
      evidence: `no completed snapshot in this region (copies are found by their ${SOURCE_VOLUME_TAG} tag)`,
    };
  const snapshotId = newest.SnapshotId;
  const ageSeconds = Math.max(0, Math.round((deps.now() - newest.StartTime.getTime()) / 1000));
  const found = { ...none, snapshotId, snapshotAgeSeconds: ageSeconds, secondsAtRisk: ageSeconds };
  let listed: Listed;
  try {
    listed = await listBlocks(deps, snapshotId);
  } catch (error) {
    return { ...found, evidence: `${snapshotId} is not readable: ${describe(error)}` };
  }
  const blocks = listed.indexes.length;
  let changedBytes: number | null = null;
  let changedNote = 'no earlier snapshot to compare';
  if (previous?.SnapshotId !== undefined && previous.StartTime !== undefined) {
    try {
      const changed = await listChanged(deps, previous.SnapshotId, snapshotId);
      changedBytes = changed.count * listed.blockSize;
      changedNote = `${formatBytes(changedBytes)}${changed.truncated ? ' or more' : ''} written since ${previous.SnapshotId}`;
    } catch (error) {
      changedNote = `changes since ${previous.SnapshotId} unknown (${describe(error)})`;
    }
  }
  const spanSeconds =
    previous?.StartTime === undefined ? 0 : (newest.StartTime.getTime() - previous.StartTime.getTime()) / 1000;
  const bytesAtRisk =
    changedBytes === null || spanSeconds <= 0 ? null : Math.round((changedBytes / spanSeconds) * ageSeconds);
  let sampledBlock: VolumeReadiness['sampledBlock'] = null;
  let sampleNote = 'no block written';
  if (blocks > 0) {
    // One block per snapshot, picked by its id: the same block each time the gate runs.
    const at = createHash('sha256').update(snapshotId).digest().readUInt32BE(0) % blocks;
    const index = listed.indexes[at] as number;
    try {
      const match = await checksumMatches(deps, snapshotId, index, listed.tokens[at] as string);
      sampledBlock = { index, checksum: match ? 'match' : 'mismatch' };
      sampleNote = match ? `block ${index} checksum matches` : `block ${index} checksum does NOT match its data`;
    } catch (error) {
      sampleNote = `block ${index} not readable (${describe(error)})`;
    }
  }
  const fresh = ageSeconds <= config.maxSnapshotAgeSeconds;
  const ready =
    fresh && !listed.truncated && sampledBlock?.checksum !== 'mismatch' && (blocks === 0 || sampledBlock !== null);
  return {
    ...found,
    ready,
    blocks,
    changedBytesSincePrevious: changedBytes,
    bytesAtRisk,
    sampledBlock,
    evidence: [
      `${snapshotId} ${formatSeconds(ageSeconds)} old${fresh ? '' : ` (older than maxSnapshotAgeSeconds ${config.maxSnapshotAgeSeconds})`}`,
      `${blocks} blocks listed${listed.truncated ? ` (stopped after ${MAX_PAGES} pages)` : ''}`,
      sampleNote,
      changedNote,
      bytesAtRisk === null
        ? 'data at risk unknown'
        : `about ${formatBytes(bytesAtRisk)} at risk over ${formatSeconds(ageSeconds)}`,
    ].join(', '),
  };
}

/** The completed snapshots of one protected volume in this region, newest first. */
async function completedSnapshots(selector: EbsReadiness['volumes'][number], deps: ReadinessDeps): Promise<Snapshot[]> {
  const completed = { Name: 'status', Values: ['completed'] };
  const queries =
    'volumeId' in selector
      ? [
          // Snapshots taken in this region keep the volume's id; copies from the other region carry the tag.
          [completed, { Name: 'volume-id', Values: [selector.volumeId] }],
          [completed, { Name: `tag:${SOURCE_VOLUME_TAG}`, Values: [selector.volumeId] }],
        ]
      : [[completed, { Name: `tag:${selector.tag.key}`, Values: [selector.tag.value] }]];
  const byId = new Map<string, Snapshot>();
  // The queries side by side: in a region that does not answer, the gate gives up within one deadline.
  const pages = await Promise.all(
    queries.map(async (Filters) => {
      const found: Snapshot[] = [];
      let NextToken: string | undefined;
      do {
        const out = await deps.ec2.send(
          new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters, MaxResults: 1000, NextToken }),
          deadline(),
        );
        found.push(...(out.Snapshots ?? []));
        NextToken = out.NextToken;
      } while (NextToken !== undefined);
      return found;
    }),
  );
  for (const s of pages.flat()) if (s.SnapshotId !== undefined) byId.set(s.SnapshotId, s);
  return [...byId.values()].sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0));
}

interface Listed {
  readonly indexes: number[];
  readonly tokens: string[];
  readonly blockSize: number;
  readonly truncated: boolean;
}

async function listBlocks(deps: ReadinessDeps, snapshotId: string): Promise<Listed> {
  const indexes: number[] = [];
  const tokens: string[] = [];
  let blockSize = 512 * 1024;
  let NextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const out = await throttled(deps, () =>
      deps.ebs.send(
        new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, MaxResults: PAGE_SIZE, NextToken }),
        deadline(),
      ),
    );
    blockSize = out.BlockSize ?? blockSize;
    for (const b of out.Blocks ?? []) {
      if (b.BlockIndex === undefined || b.BlockToken === undefined) continue;
      indexes.push(b.BlockIndex);
      tokens.push(b.BlockToken);
    }
    NextToken = out.NextToken;
    if (NextToken === undefined) return { indexes, tokens, blockSize, truncated: false };
  }
  return { indexes, tokens, blockSize, truncated: true };
}

async function listChanged(
  deps: ReadinessDeps,
  first: string,
  second: string,
): Promise<{ count: number; truncated: boolean }> {
  let count = 0;
  let NextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const out = await throttled(deps, () =>
      deps.ebs.send(
        new ListChangedBlocksCommand({
          FirstSnapshotId: first,
          SecondSnapshotId: second,
          MaxResults: PAGE_SIZE,
          NextToken,
        }),
        deadline(),
      ),
    );
    count += out.ChangedBlocks?.length ?? 0;
    NextToken = out.NextToken;
    if (NextToken === undefined) return { count, truncated: false };
  }
  return { count, truncated: true };
}

/** Reads one block and compares its SHA-256 with the checksum the API sent for it. */
async function checksumMatches(
  deps: ReadinessDeps,
  snapshotId: string,
  index: number,
  token: string,
): Promise<boolean> {
  const out = await throttled(deps, () =>
    deps.ebs.send(
      new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }),
      deadline(),
    ),
  );
  if (out.ChecksumAlgorithm !== 'SHA256' || out.Checksum === undefined || out.BlockData === undefined)
    throw new Error(`no SHA256 checksum with block ${index} (algorithm ${out.ChecksumAlgorithm ?? 'none'})`);
  const data = await out.BlockData.transformToByteArray();
  if (out.DataLength !== undefined && data.length !== out.DataLength)
    throw new Error(`block ${index} is ${data.length} bytes, the API said ${out.DataLength}`);
  return createHash('sha256').update(data).digest('base64') === out.Checksum;
}

/** The EBS direct APIs throttle per account and per snapshot: back off and try again a few times. */
async function throttled<T>(deps: ReadinessDeps, call: () => Promise<T>): Promise<T> {
  // The Lambda's own wait; the local runtime injects its virtual one (local/step-deps.ts).
  // eslint-disable-next-line no-restricted-globals
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if ((error as Error).name !== 'RequestThrottledException' || attempt >= THROTTLE_RETRIES) throw error;
      await sleep(Math.random() * 200 * 2 ** attempt);
    }
  }
}

const describe = (error: unknown) => `${(error as Error).name}: ${(error as Error).message}`.slice(0, 200);

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function formatSeconds(s: number): string {
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}
