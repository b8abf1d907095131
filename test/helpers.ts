import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addSites, type MirrorbeatSites } from '../lib/app';
import { parseConfig, type MirrorbeatConfig, tuningOf } from '../lib/config';
import { readSettings, type Settings } from '../lambdas/shared/settings';
import { type Notice, noticeId } from '../lambdas/core/notices';
import type { NoticeDesk } from '../lambdas/shared/notifier';

export const BASE_CONFIG = {
  clusterName: 'orders',
  productionRegion: 'us-east-1',
  standbyRegion: 'us-west-2',
} as const;

export function config(overrides: Record<string, unknown> = {}): MirrorbeatConfig {
  return parseConfig({ ...BASE_CONFIG, ...overrides });
}

/**
 * Both sites in a fresh app. Bundling is skipped unless asked for: template assertions
 * do not need the code, and esbuild for every test would only cost time.
 */
export function buildSites(
  overrides: Record<string, unknown> = {},
  options: { bundle?: boolean } = {},
): { app: App; sites: MirrorbeatSites } {
  const app = new App({ context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  const sites = addSites(app, config(overrides), { account: '123456789012' });
  return { app, sites };
}

export function templates(overrides: Record<string, unknown> = {}): { production: Template; standby: Template } {
  const { sites } = buildSites(overrides);
  return { production: Template.fromStack(sites.production), standby: Template.fromStack(sites.standby) };
}

/** A handler's settings as the stack would set them for the standby site with the default tuning. */
export function standbySettings(overrides: Record<string, unknown> = {}): Settings {
  const c = config(overrides);
  return readSettings({
    MIRRORBEAT_CLUSTER: c.clusterName,
    MIRRORBEAT_SITE: 'standby',
    AWS_REGION: c.standbyRegion,
    MIRRORBEAT_PEER_REGION: c.productionRegion,
    MIRRORBEAT_TUNING: JSON.stringify(tuningOf(c)),
    MIRRORBEAT_HEARTBEAT_VOLUME: 'volume',
    MIRRORBEAT_OBSERVATIONS: 'observations',
  });
}

/** A notice desk that keeps what it is given and publishes it at once (for the heartbeat module's watch classes). */
export function recordingDesk(announced: Notice[]): Pick<NoticeDesk, 'announce' | 'flush'> {
  return {
    announce: async (n: Notice) => {
      announced.push(n);
      return { id: noticeId(n), outcome: 'published' as const };
    },
    flush: async () => ({ summaries: 0, retried: 0, failed: 0 }),
  };
}
