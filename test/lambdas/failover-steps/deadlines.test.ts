import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EBSClient } from '@aws-sdk/client-ebs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { RDSClient } from '@aws-sdk/client-rds';
import { createServer, type Server, type Socket } from 'node:net';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client } from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { clusterKey, fenceKey } from '../../../lambdas/core/volume';
import { type FailoverDeps, runFailoverStep } from '../../../lambdas/failover-steps/steps';
import { REMOTE_CALL_DEADLINE_MS } from '../../../lambdas/shared/deadlines';
import { siteNoticeDesk } from '../../../lambdas/shared/notifier';
import { type LocalSite, localSites, TEST_KEY } from '../../local-sites';

/**
 * A peer region that drops traffic silently: a loopback server that accepts connections and
 * never answers. The real SDK clients point at it. Every step that calls that region must end
 * within its deadline, report what did not arrive, and leave the cluster record consistent.
 */
let blackHole: Server;
let endpoint: string;
const held: Socket[] = [];

beforeAll(async () => {
  blackHole = createServer((socket) => {
    held.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  const address = blackHole.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((resolve) => blackHole.close(resolve));
});

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

function deps(site: LocalSite): FailoverDeps {
  const silent = <T>(Client: new (c: Record<string, unknown>) => T, region: string): T =>
    new Client({ region, endpoint, credentials, maxAttempts: 2 });
  return {
    settings: site.settings,
    store: site.store,
    db: site.db,
    peerCloudWatch: silent(CloudWatchClient, site.settings.peerRegion),
    keys: { current: async () => TEST_KEY },
    peerEvents: silent(EventBridgeClient, site.settings.peerRegion),
    peerBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/mirrorbeat-orders-production',
    actions: {},
    route53: silent(Route53Client, 'us-east-1'),
    arcFor: ({ region }) => silent(Route53RecoveryClusterClient, region),
    events: silent(EventBridgeClient, site.settings.region),
    lambdaFor: () => silent(LambdaClient, 'us-east-1'),
    siteBus: undefined,
    promotionHook: undefined,
    fenceHook: 'arn:aws:lambda:us-east-1:123456789012:function:fence-hook',
    peerWorkloadFence: undefined,
    readiness: { volumes: [{ volumeId: 'vol-0123456789abcdef0' }], maxSnapshotAgeSeconds: 3600, policy: 'warn' },
    ebs: silent(EBSClient, site.settings.region),
    ec2: silent(EC2Client, site.settings.region),
    autoScaling: silent(AutoScalingClient, site.settings.region),
    ecs: silent(ECSClient, site.settings.region),
    rds: silent(RDSClient, site.settings.region),
    notices: siteNoticeDesk({
      settings: site.settings,
      sns: silent(SNSClient, site.settings.region),
      topics: { warning: 'arn:aws:sns:us-west-2:123456789012:w', critical: 'arn:aws:sns:us-west-2:123456789012:c' },
      db: site.db,
      timeoutMs: 1_000,
      log: () => undefined,
    }),
    now: Date.now,
  };
}

const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const start = Date.now();
  const value = await work();
  return { value, ms: Date.now() - start };
};

describe('calls to a region that drops traffic silently', () => {
  it('the replication-lag gate gives up on the peer region within its deadline and says the lag is unknown', async () => {
    const { standby } = await localSites();
    const { value, ms } = await timed(() =>
      runFailoverStep(
        { step: 'gates', execution: 'arn:aws:states:us-west-2:123456789012:execution:m:e1', state: {} },
        deps(standby),
      ),
    );
    expect(ms).toBeLessThan(REMOTE_CALL_DEADLINE_MS + 2_000);
    expect(JSON.stringify(value)).toContain('lag unknown, the peer region did not answer');
  }, 20_000);

  it('the fence writes the record, then reports the network fence and the fence hook as not delivered, within the deadlines', async () => {
    const { standby } = await localSites();
    const execution = 'arn:aws:states:us-west-2:123456789012:execution:m:e2';
    const { value, ms } = await timed(() =>
      runFailoverStep({ step: 'fence', execution, state: { expectedEpoch: 1 } }, deps(standby)),
    );
    expect(ms).toBeLessThan(REMOTE_CALL_DEADLINE_MS + 2_000);
    expect(value).toMatchObject({
      epoch: 2,
      fenced: 'production',
      networkFence: expect.stringMatching(/^not delivered: /),
      fenceHook: expect.stringMatching(/^not invoked: /),
    });
    const record = (
      await standby.db.send(
        new GetCommand({ TableName: standby.settings.heartbeatVolume, Key: clusterKey(), ConsistentRead: true }),
      )
    ).Item;
    expect(record).toMatchObject({ epoch: 2, primary: 'standby' });
    const fence = (
      await standby.db.send(
        new GetCommand({ TableName: standby.settings.heartbeatVolume, Key: fenceKey(2), ConsistentRead: true }),
      )
    ).Item;
    expect(fence).toMatchObject({ fenced: 'production', by: 'standby', execution });
    // Run again (as a retry after a Lambda timeout would): nothing moves twice.
    const again = await runFailoverStep({ step: 'fence', execution, state: { expectedEpoch: 1 } }, deps(standby));
    expect(again).toMatchObject({ epoch: 2, alreadyFenced: true });
  }, 30_000);
});
