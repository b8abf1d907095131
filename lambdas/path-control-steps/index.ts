import { parseStepInput } from '../core/steps';
import { Env } from '../core/wire';
import { eventsClient, regionOfArn } from '../shared/clients';
import { deployedNoticeDesk } from '../shared/desk';
import { logger } from '../shared/observability';
import { siteParts } from '../shared/shell';
import { readSettings } from '../shared/settings';
import { PATH_CONTROL_STEPS, runPathControlStep } from './steps';

const settings = readSettings();
const peerBusArn = settings.required(Env.peerBus);
const deps = {
  settings,
  ...siteParts(settings),
  peerEvents: eventsClient(regionOfArn(peerBusArn)),
  peerBusArn,
  notices: deployedNoticeDesk(settings, 5_000),
  now: Date.now,
};

/** One handler for the steps of the path-control workflow; the state machine names the step. */
export const handler = async (event: unknown): Promise<Record<string, unknown>> => {
  const input = parseStepInput(event, PATH_CONTROL_STEPS);
  const result = await runPathControlStep(input, deps);
  logger.info(`path-control step ${input.step}`, { execution: input.execution, result });
  return result;
};
