import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { ConfigError, CONTEXT_KEY, type MirrorbeatConfig, parseConfig, rawConfigFromContext } from '../../lib/config';
import { SiteNames } from '../../lib/names';
import { SITE_IDS, type SiteId } from '../../lambdas/core/wire';
import { SiteStore } from '../../lambdas/shared/store';
import type { SiteTables } from '../../client/status';
import { accountOf, explainAwsError } from './aws';

/**
 * What the command groups share: the configuration as synth reads it, the site options, each site's region and tables.
 */

function readCdkContext(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${file}: cannot be read; run from the project folder or pass --cdk-json FILE`);
  }
  try {
    const json = JSON.parse(text) as { context?: Record<string, unknown> };
    return json.context ?? {};
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export const siteOptionNamed =
  (flag: string) =>
  (value: string): SiteId => {
    if (value !== 'production' && value !== 'standby')
      throw new ConfigError(`${flag}: got ${JSON.stringify(value)}; allowed: production or standby`);
    return value;
  };
export const siteOption = siteOptionNamed('--site');

/** The options of every command that calls AWS. */
export const awsOptions = (command: Command) =>
  command
    .option('--cdk-json <file>', 'the cdk.json that names the cluster and its regions', 'cdk.json')
    .option(
      '-c, --context <key=value>',
      `override one key, as with cdk: -c ${CONTEXT_KEY}.clusterName=orders`,
      collect,
      [],
    )
    .option('--region <region>', "the region to call (default: the chosen site's region from the configuration)");

/** The configuration from cdk.json's context with `-c key=value` overrides, as `cdk synth` reads it. */
export function loadConfig(cdkJson: string, overrides: readonly string[]): MirrorbeatConfig {
  // loadRawConfig says its own errors in these words already: only the parse is wrapped here, or they say it twice.
  const raw = loadRawConfig(cdkJson, overrides);
  return asConfigError(() => parseConfig(raw));
}

/** The same configuration before validation, for `simulate` to put a scenario's keys on. */
export function loadRawConfig(cdkJson: string, overrides: readonly string[]): Record<string, unknown> {
  const context = readCdkContext(path.resolve(cdkJson));
  for (const pair of overrides) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigError(`-c ${pair}: expected key=value, such as ${CONTEXT_KEY}.intervalSeconds=5`);
    context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return asConfigError(() => rawConfigFromContext(context));
}

/** A configuration error in the same words as `cdk synth` prints for the same configuration. */
function asConfigError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError(`invalid configuration: ${error.message}`) : error;
  }
}

export const siteRegion = (config: MirrorbeatConfig, site: SiteId) =>
  site === 'production' ? config.productionRegion : config.standbyRegion;

export async function stateMachineArn(
  config: MirrorbeatConfig,
  site: SiteId,
  workflow: string,
  regionOption: string | undefined,
): Promise<{ arn: string; region: string }> {
  const region = regionOption ?? siteRegion(config, site);
  const account = await accountOf(config.account, region);
  return {
    arn: `arn:aws:states:${region}:${account}:stateMachine:${new SiteNames(config.clusterName, site).stateMachine(workflow)}`,
    region,
  };
}

/** The primary the cluster record names, read from whichever site's replica answers first. */
export async function currentPrimary(config: MirrorbeatConfig): Promise<SiteId> {
  const errors: unknown[] = [];
  for (const site of SITE_IDS) {
    const names = new SiteNames(config.clusterName, site);
    try {
      const store = new SiteStore(
        DynamoDBDocumentClient.from(new DynamoDBClient({ region: siteRegion(config, site) })),
        names.heartbeatVolume,
        names.observations,
        config.consistency === 'eventual',
      );
      return (await store.readCluster()).primary;
    } catch (error) {
      errors.push(error);
    }
  }
  return explainAwsError(errors[0]);
}

export const stamp = () =>
  new Date()
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14);

/** Each site's tables, in its own region. */
export function siteTables(config: MirrorbeatConfig): SiteTables[] {
  return SITE_IDS.map((site) => {
    const names = new SiteNames(config.clusterName, site);
    const region = siteRegion(config, site);
    return {
      site,
      region,
      db: DynamoDBDocumentClient.from(new DynamoDBClient({ region })),
      heartbeatVolume: names.heartbeatVolume,
      observations: names.observations,
    };
  });
}
