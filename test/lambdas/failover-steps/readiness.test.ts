import { EBSClient, ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import type { EbsReadiness } from '../../../lambdas/core/wire';
import { ebsReadinessGate, SOURCE_VOLUME_TAG, type VolumeReadiness } from '../../../lambdas/failover-steps/readiness';
import { BLOCK_SIZE, EbsFake, snapshotPair } from '../../../local/fakes/ebs';

/**
 * The data readiness gate with the real EBS client against a local HTTP fake of the EBS
 * direct APIs on loopback. EC2's DescribeSnapshots has no local implementation: the mock
 * answers it from the fake's store.
 */
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const VOLUME = 'vol-0123456789abcdef0';
const ec2 = mockClient(EC2Client);
let fake: EbsFake;
let ebs: EBSClient;

beforeEach(async () => {
  fake = new EbsFake();
  ebs = new EBSClient({
    region: 'us-west-2',
    endpoint: await fake.listen(),
    credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  ec2.reset();
  ec2.on(DescribeSnapshotsCommand).callsFake((input: Record<string, unknown>) => fake.describeSnapshots(input));
});
afterEach(async () => {
  ebs.destroy();
  await fake.close();
});

const gate = (config: Partial<EbsReadiness> = {}) =>
  ebsReadinessGate(
    { volumes: [{ volumeId: VOLUME }], maxSnapshotAgeSeconds: 3600, policy: 'block', ...config },
    { ebs, ec2: new EC2Client({ region: 'us-west-2' }), now: () => NOW, sleep: async () => undefined },
  );
const only = (check: Readonly<Record<string, unknown>>) => (check.volumes as VolumeReadiness[])[0] as VolumeReadiness;
const pair = (o: Partial<Parameters<typeof snapshotPair>[1]> = {}) =>
  snapshotPair(fake, {
    volumeId: VOLUME,
    nowMs: NOW,
    ageSeconds: 300,
    intervalSeconds: 3600,
    blocks: 64,
    changedBlocks: 8,
    ...o,
  });

describe('the EBS data readiness gate', () => {
  it('passes a recent, readable snapshot and estimates the data at risk from the changed blocks', async () => {
    const { newer } = pair();
    const check = await gate();
    expect(check.passed).toBe(true);
    const volume = only(check);
    expect(volume).toMatchObject({
      ready: true,
      snapshotId: newer.id,
      snapshotAgeSeconds: 300,
      secondsAtRisk: 300,
      blocks: 64,
      changedBytesSincePrevious: 8 * BLOCK_SIZE,
      sampledBlock: { checksum: 'match' },
    });
    // 4 MiB written over the hour between the two snapshots: about 5/60 of it in the 5 minutes since.
    expect(volume.bytesAtRisk).toBe(Math.round(((8 * BLOCK_SIZE) / 3600) * 300));
    expect(check.evidence).toContain('4.0 MiB written since');
  });

  it('blocks on a snapshot older than the limit, or a block whose checksum does not match', async () => {
    pair({ ageSeconds: 7200 });
    const stale = await gate();
    expect(stale.passed).toBe(false);
    expect(stale.evidence).toContain('older than maxSnapshotAgeSeconds 3600');
    expect(stale.evidence).toContain('set readiness.ebs.policy to warn');
    fake.snapshots.clear();
    pair({ corrupt: true, blocks: 1, changedBlocks: 1 });
    const damaged = await gate();
    expect(damaged.passed).toBe(false);
    expect(only(damaged).sampledBlock).toEqual({ index: 0, checksum: 'mismatch' });
  });

  it('under policy warn lets the failover go on, with the same figures', async () => {
    pair({ ageSeconds: 7200 });
    const check = await gate({ policy: 'warn' });
    expect(check.passed).toBe(true);
    expect(check.evidence).toMatch(/^warn: 1 of 1 volumes not ready/);
    expect(only(check).ready).toBe(false);
  });

  it('finds a copy by its source-volume tag, and a volume chosen by tag', async () => {
    pair({ volumeId: 'vol-0ffffffffffffffff', tags: { [SOURCE_VOLUME_TAG]: VOLUME, app: 'orders' } });
    expect((await gate()).passed).toBe(true);
    const byTag = await gate({ volumes: [{ tag: { key: 'app', value: 'orders' } }] });
    expect(only(byTag)).toMatchObject({ volume: 'tag app=orders', ready: true });
    expect((await gate({ volumes: [{ tag: { key: 'app', value: 'billing' } }] })).evidence).toContain(
      'no completed snapshot in this region',
    );
  });

  it('reads every page of a large snapshot and backs off when throttled', async () => {
    pair({ blocks: 25_000, changedBlocks: 64 });
    fake.throttleNext = 3;
    const check = await gate();
    expect(check.passed).toBe(true);
    expect(only(check).blocks).toBe(25_000);
    const listings = fake.requests.filter((r) => r.endsWith('/blocks'));
    // Three throttled attempts, then three pages of at most 10,000 blocks.
    expect(listings).toHaveLength(6);
  });

  it('says what failed when EBS refuses, and blocks', async () => {
    pair();
    const denied = mockClient(EBSClient);
    denied
      .on(ListSnapshotBlocksCommand)
      .rejects(Object.assign(new Error('not authorized to ListSnapshotBlocks'), { name: 'AccessDeniedException' }));
    try {
      const check = await gate();
      expect(check.passed).toBe(false);
      expect(check.evidence).toContain('is not readable: AccessDeniedException: not authorized to ListSnapshotBlocks');
    } finally {
      denied.restore();
    }
  });
});
