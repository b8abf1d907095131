import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, regionDocumentClient } from '../../local/dynamo';
import { clusterKey } from '../../lambdas/core/volume';
import { needsMajority, QuorumVolume, WRITE_CONFLICT_MS } from '../../local/quorum';
import { NoticeJournal } from '../../lambdas/shared/journal';
import { SiteStore } from '../../lambdas/shared/store';
import { productionBeat } from '../beats';
import type { Notice } from '../../lambdas/core/notices';
import { dynamoEndpoint, TEST_KEY } from '../local-sites';

/**
 * The local runtime's heartbeat volume in quorum mode, as DynamoDB's multi-region strong consistency has it: every
 * write and every strongly consistent read needs a majority of production, standby and witness (issue 32, 2). The
 * stores are the deployed ones, on a client bound as the runtime binds each site's.
 */
async function volumeAt(reach: { sites: boolean; witness: boolean; nowMs?: number }, attempts = 2) {
  const endpoint = dynamoEndpoint();
  const run = randomUUID().slice(0, 8);
  const db = regionDocumentClient(endpoint, 'us-east-1');
  const standbyDb = regionDocumentClient(endpoint, 'us-west-2', attempts);
  const witnessDb = regionDocumentClient(endpoint, 'us-east-2');
  const volume = `quorum-test-${run}-volume`;
  const observations = `quorum-test-${run}-observations`;
  const quorumTable = `quorum-test-${run}-quorum`;
  await Promise.all([
    createTable(db, volume),
    createTable(db, observations),
    createTable(standbyDb, volume),
    createTable(witnessDb, quorumTable),
  ]);
  const quorum = new QuorumVolume(
    { db: witnessDb, name: quorumTable },
    { sitesLinked: () => reach.sites, witnessLinked: () => reach.witness, nowMs: () => reach.nowMs ?? 0 },
    volume,
  );
  quorum.bind(db, 'production');
  quorum.bind(standbyDb, 'standby');
  const bump = (client: DynamoDBDocumentClient) =>
    client.send(
      new UpdateCommand({
        TableName: volume,
        Key: clusterKey(),
        UpdateExpression: 'ADD lease :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  return {
    quorum,
    renew: { production: () => bump(db), standby: () => bump(standbyDb) },
    store: new SiteStore(db, volume, observations),
    journal: new NoticeJournal(db, volume),
  };
}

const notice = (path: 'network' | 'storage'): Notice => ({
  kind: 'path-failed',
  site: 'production',
  cluster: 'orders',
  path,
  atMs: 1_000,
  detail: {},
});

const NO_MAJORITY = { name: 'TimeoutError', message: expect.stringMatching(/production region reaches no majority/) };

describe('the heartbeat volume in quorum mode (local/quorum.ts)', () => {
  it('refuses every write and strong read of a region that reaches no majority: beats, the cluster record, notices, paths', async () => {
    const reach = { sites: true, witness: true };
    const { quorum, store, journal } = await volumeAt(reach);
    const beat = productionBeat(1, 1_000, TEST_KEY);
    await store.writeBeat(beat);
    await store.paths.setPathMode('production', 'storage', 'enabled', 'test', 'install', 1_000);
    expect(await journal.add('production', 'n-1', notice('network'), 'network failed')).toBe(true);

    // Production's region cut from the standby's and from the witness.
    reach.sites = false;
    reach.witness = false;
    await expect(store.writeBeat({ ...beat, serial: 2 })).rejects.toMatchObject(NO_MAJORITY);
    await expect(store.readBeat('production')).rejects.toMatchObject(NO_MAJORITY);
    await expect(store.readCluster()).rejects.toMatchObject(NO_MAJORITY);
    await expect(store.renewLease(1, 'production', 2_000)).rejects.toMatchObject(NO_MAJORITY);
    await expect(store.paths.readPathModes('production')).rejects.toMatchObject(NO_MAJORITY);
    await expect(
      store.paths.setPathMode('production', 'storage', 'disabled', 'test', 'remove', 2_000),
    ).rejects.toMatchObject(NO_MAJORITY);
    await expect(journal.add('production', 'n-2', notice('storage'), 'storage failed')).rejects.toMatchObject(
      NO_MAJORITY,
    );
    await expect(journal.recent('production', 5, 2_000)).rejects.toMatchObject(NO_MAJORITY);
    expect(quorum.refused.production).toBe(8);

    // What needs no majority still answers: an eventually consistent read of this region's copy, and the
    // observations table, which is this region's own and not replicated.
    await expect(store.readCluster(undefined, false)).resolves.toMatchObject({ epoch: expect.any(Number) });
    await expect(store.countInvalid('network', 'bad-signature')).resolves.toBeUndefined();

    // The witness alone is a majority with this region: everything answers again, and nothing written before is lost.
    reach.witness = true;
    await expect(store.readBeat('production')).resolves.toMatchObject({ serial: 1 });
    await expect(store.paths.readPathModes('production')).resolves.toMatchObject({ storage: 'enabled' });
    expect((await journal.recent('production', 5, 2_000)).map((e) => e.id)).toEqual(['n-1']);
    expect(quorum.refused.production).toBe(8);
  });

  it('knows a strong read from an eventually consistent one, and every kind of write', () => {
    expect(needsMajority('GetItemCommand', { ConsistentRead: true })).toBe(true);
    expect(needsMajority('GetItemCommand', {})).toBe(false);
    expect(needsMajority('QueryCommand', { ConsistentRead: true })).toBe(true);
    expect(needsMajority('QueryCommand', { ConsistentRead: false })).toBe(false);
    for (const write of ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand'])
      expect(needsMajority(write, {})).toBe(true);
    expect(needsMajority('TransactGetItemsCommand', {})).toBe(true);
    expect(needsMajority('DescribeTableCommand', {})).toBe(false);
  });

  it("refuses the first attempt of a cluster-record write concurrent with the other region's; a client that tries twice retries it", async () => {
    const reach = { sites: true, witness: true, nowMs: 1_000 };
    const { quorum, renew } = await volumeAt(reach);
    await renew.production();
    reach.nowMs = 1_040;
    // The standby's write 40 ms later meets production's in flight; its client (two attempts, as deployed) retries.
    await renew.standby();
    expect(quorum.conflicts).toEqual({ production: 0, standby: 1 });
    // One site's own writes never conflict, and writes WRITE_CONFLICT_MS apart are not concurrent.
    await renew.standby();
    reach.nowMs = 1_040 + WRITE_CONFLICT_MS;
    await renew.production();
    expect(quorum.conflicts).toEqual({ production: 0, standby: 1 });

    // A client that does not retry gets the exception AWS raises.
    const once = { sites: true, witness: true, nowMs: 5_000 };
    const single = await volumeAt(once, 1);
    await single.renew.production();
    once.nowMs = 5_010;
    await expect(single.renew.standby()).rejects.toMatchObject({ name: 'ReplicatedWriteConflictException' });
  });
});
