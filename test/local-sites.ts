import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTable, regionDocumentClient } from '../local/dynamo';
import { ReplicationLink } from '../local/replication';
import { tuningOf } from '../lib/config';
import type { SiteId } from '../lambdas/core/wire';
import { readSettings, type Settings } from '../lambdas/shared/settings';
import { SiteStore } from '../lambdas/shared/store';
import { config } from './helpers';

export interface LocalSite {
  readonly settings: Settings;
  readonly db: DynamoDBDocumentClient;
  readonly store: SiteStore;
}

/** The endpoint of the run's DynamoDB Local (test/global-setup.ts). */
export function dynamoEndpoint(): string {
  const endpoint = process.env.MIRRORBEAT_TEST_DYNAMO_ENDPOINT;
  if (endpoint === undefined) throw new Error('MIRRORBEAT_TEST_DYNAMO_ENDPOINT is not set: run the tests through jest, whose global setup starts DynamoDB Local');
  return endpoint;
}

/**
 * Two sites on DynamoDB Local, each with its own replica of the heartbeat volume and its own
 * observations table in its region's database, tied by a replication link. Every call gets
 * fresh tables, so tests never see each other's items.
 */
export async function localSites(overrides: Record<string, unknown> = {}): Promise<{ production: LocalSite; standby: LocalSite; link: ReplicationLink }> {
  const c = config(overrides);
  const suffix = randomUUID().slice(0, 8);
  const volume = `mirrorbeat-test-${suffix}-heartbeat-volume`;
  const site = async (id: SiteId): Promise<LocalSite> => {
    const region = id === 'production' ? c.productionRegion : c.standbyRegion;
    const db = regionDocumentClient(dynamoEndpoint(), region);
    const observations = `mirrorbeat-test-${suffix}-${id}-observations`;
    await Promise.all([createTable(db, volume), createTable(db, observations, { ttl: true })]);
    const settings = readSettings({
      MIRRORBEAT_CLUSTER: c.clusterName,
      MIRRORBEAT_SITE: id,
      AWS_REGION: region,
      MIRRORBEAT_PEER_REGION: id === 'production' ? c.standbyRegion : c.productionRegion,
      MIRRORBEAT_TUNING: JSON.stringify(tuningOf(c)),
      MIRRORBEAT_HEARTBEAT_VOLUME: volume,
      MIRRORBEAT_OBSERVATIONS: observations,
    });
    return { settings, db, store: new SiteStore(db, volume, observations) };
  };
  const [production, standby] = await Promise.all([site('production'), site('standby')]);
  const link = new ReplicationLink([
    { name: 'production', db: production.db, table: volume },
    { name: 'standby', db: standby.db, table: volume },
  ]);
  return { production, standby, link };
}
