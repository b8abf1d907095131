import { randomUUID } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import type { SiteTables } from '../client/status';
import { HeartbeatModule } from '../lambdas/heartbeat-module/module';
import type { SigningKeys } from '../lambdas/shared/keys';
import { siteNoticeDesk } from '../lambdas/shared/notifier';
import { ReplicationLink } from '../local/replication';
import { simulateScenario } from '../local/run';
import type { Report, SimulationResult } from '../local/runtime';
import { parseScenario } from '../local/scenario';
import { createLocalSite, type LocalSite } from '../local/sites';
import { config } from './helpers';

export type { LocalSite } from '../local/sites';

/** The endpoint of the run's DynamoDB Local (test/global-setup.ts). */
export function dynamoEndpoint(): string {
  const endpoint = process.env.MIRRORBEAT_TEST_DYNAMO_ENDPOINT;
  if (endpoint === undefined)
    throw new Error(
      'MIRRORBEAT_TEST_DYNAMO_ENDPOINT is not set: run the tests through jest, whose global setup starts DynamoDB Local',
    );
  return endpoint;
}

/**
 * Two sites on DynamoDB Local, each with its own replica of the heartbeat volume and its own
 * observations table in its region's database, tied by a replication link. Every call gets
 * fresh tables, so tests never see each other's items.
 */
export async function localSites(
  overrides: Record<string, unknown> = {},
): Promise<{ production: LocalSite; standby: LocalSite; link: ReplicationLink }> {
  const c = config(overrides);
  const suffix = randomUUID().slice(0, 8);
  const volume = `mirrorbeat-test-${suffix}-heartbeat-volume`;
  const [production, standby] = await Promise.all(
    (['production', 'standby'] as const).map((id) =>
      createLocalSite(dynamoEndpoint(), c, id, {
        volume,
        observations: `mirrorbeat-test-${suffix}-${id}-observations`,
      }),
    ),
  );
  const link = new ReplicationLink([
    { name: 'production', db: production!.db, table: volume },
    { name: 'standby', db: standby!.db, table: volume },
  ]);
  return { production: production!, standby: standby!, link };
}

/**
 * One scenario end to end, through the entry point `mirrorbeat simulate` uses: both sites on
 * the run's DynamoDB Local, the deployed handler code, the synthesized workflows, virtual time.
 */
export async function runScenario(events: unknown[], over: ScenarioOptions = {}): Promise<Report> {
  return (await simulateEvents(events, over)).report;
}

interface ScenarioOptions {
  durationMs?: number;
  seed?: number;
  config?: Record<string, unknown>;
  /** The snapshots the local EBS fake holds (scenario key ebs). */
  ebs?: Record<string, unknown>;
}

/** The same, with the whole result: timeline, executions, status. */
export async function simulateEvents(events: unknown[], over: ScenarioOptions = {}): Promise<SimulationResult> {
  const scenario = parseScenario({
    name: 'test',
    seed: over.seed ?? 3,
    durationMs: over.durationMs ?? 90_000,
    config: over.config ?? {},
    ...(over.ebs === undefined ? {} : { ebs: over.ebs }),
    events,
  });
  return simulateScenario(scenario, { dynamoEndpoint: dynamoEndpoint() });
}

/** The key every local test site signs with. */
export const TEST_KEY = Buffer.from('k'.repeat(64));

/** Where `mirrorbeat status` finds each local site's tables (client/status.ts). */
export function tablesOf(...sites: LocalSite[]): SiteTables[] {
  return sites.map((x) => ({
    site: x.settings.site,
    region: x.settings.region,
    db: x.db,
    heartbeatVolume: x.settings.heartbeatVolume,
    observations: x.settings.observations,
  }));
}

/**
 * The real heartbeat module of one local site. Its EventBridge, SNS and Step Functions clients
 * are plain SDK clients: tests mock them with aws-sdk-client-mock.
 */
export function moduleFor(site: LocalSite): HeartbeatModule {
  const { settings } = site;
  return new HeartbeatModule({
    settings,
    store: site.store,
    keys: { current: async () => TEST_KEY, all: async () => [TEST_KEY] } as unknown as SigningKeys,
    peerEvents: new EventBridgeClient({ region: settings.peerRegion }),
    peerBusArn: `arn:aws:events:${settings.peerRegion}:123456789012:event-bus/mirrorbeat-orders-${settings.peer}`,
    sfn: new SFNClient({ region: settings.region }),
    failoverStateMachineArn: `arn:aws:states:${settings.region}:123456789012:stateMachine:mirrorbeat-orders-${settings.site}-failover`,
    notices: siteNoticeDesk({
      settings,
      sns: new SNSClient({ region: settings.region }),
      topics: {
        warning: 'arn:aws:sns:us-west-2:123456789012:warning',
        critical: 'arn:aws:sns:us-west-2:123456789012:critical',
      },
      db: site.db,
      timeoutMs: 800,
      log: () => undefined,
    }),
    log: () => undefined,
  });
}
