import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type MirrorbeatConfig, tuningOf } from '../lib/config';
import type { SiteId } from '../lambdas/core/wire';
import { readSettings, type Settings } from '../lambdas/shared/settings';
import { SiteStore } from '../lambdas/shared/store';
import { createTable, regionDocumentClient } from './dynamo';

export interface LocalSite {
  readonly settings: Settings;
  readonly db: DynamoDBDocumentClient;
  readonly store: SiteStore;
}

/**
 * One site on DynamoDB Local: its region's replica of the heartbeat volume and its own
 * observations table, created fresh, and the settings its handlers would get from the stack.
 */
export async function createLocalSite(
  endpoint: string,
  config: MirrorbeatConfig,
  id: SiteId,
  tables: { volume: string; observations: string },
): Promise<LocalSite> {
  const region = id === 'production' ? config.productionRegion : config.standbyRegion;
  const db = regionDocumentClient(endpoint, region);
  await Promise.all([createTable(db, tables.volume), createTable(db, tables.observations, { ttl: true })]);
  const settings = readSettings({
    MIRRORBEAT_CLUSTER: config.clusterName,
    MIRRORBEAT_SITE: id,
    AWS_REGION: region,
    MIRRORBEAT_PEER_REGION: id === 'production' ? config.standbyRegion : config.productionRegion,
    MIRRORBEAT_TUNING: JSON.stringify(tuningOf(config)),
    MIRRORBEAT_HEARTBEAT_VOLUME: tables.volume,
    MIRRORBEAT_OBSERVATIONS: tables.observations,
  });
  return {
    settings,
    db,
    store: new SiteStore(db, tables.volume, tables.observations, config.consistency === 'eventual'),
  };
}
