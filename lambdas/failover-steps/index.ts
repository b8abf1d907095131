import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { parseStepInput } from '../core/steps';
import { Env } from '../core/wire';
import { documentClient, eventsClient, lambdaClientFor } from '../shared/clients';
import { logger } from '../shared/observability';
import { readSettings } from '../shared/settings';
import { SiteStore } from '../shared/store';
import { FAILOVER_STEPS, runFailoverStep } from './steps';

const settings = readSettings();
const deps = {
  settings,
  store: new SiteStore(documentClient(), settings.heartbeatVolume, settings.observations),
  db: documentClient(),
  peerCloudWatch: new CloudWatchClient({ region: settings.peerRegion, maxAttempts: 2 }),
  events: eventsClient(settings.region),
  lambdaFor: lambdaClientFor,
  siteBus: settings.optional(Env.siteBus),
  promotionHook: settings.optional(Env.promotionHook),
  fenceHook: settings.optional(Env.fenceHook),
  now: Date.now,
};

/** One handler for the steps of the failover workflow; the state machine names the step. */
export const handler = async (event: unknown): Promise<Record<string, unknown>> => {
  const input = parseStepInput(event, FAILOVER_STEPS);
  const result = await runFailoverStep(input, deps);
  logger.info(`failover step ${input.step}`, { execution: input.execution, result });
  return result;
};
