import type { EventBridgeEvent } from 'aws-lambda';
import { logger, publishMetrics } from '../shared/observability';
import { siteParts } from '../shared/shell';
import { readSettings } from '../shared/settings';
import { invalidBeatPoints } from '../core/emf';
import { type Receipt, receiveNetworkEvent } from './receiver';

const settings = readSettings();
const deps = {
  settings,
  ...siteParts(settings),
};

/**
 * Invoked by the site bus rules for each Heartbeat, PathCommand and PathAck event from the peer site, and each AWS
 * Health event the witness stack forwards.
 */
export const handler = async (event: EventBridgeEvent<string, unknown>): Promise<Receipt> => {
  const receipt = await receiveNetworkEvent(event?.['detail-type'], event?.detail, Date.now(), deps);
  if ('witness' in receipt) logger.warn(`AWS Health: DynamoDB issue in the witness region ${receipt.witness}`, receipt);
  else if (!receipt.accepted && receipt.reason === 'not-the-witness') logger.info('AWS Health event left', receipt);
  else if (!receipt.accepted) {
    logger.warn('network-path beat rejected', { reason: receipt.reason, detail: receipt.detail });
    if (receipt.reason !== 'stale')
      publishMetrics(settings.cluster, settings.site, invalidBeatPoints('network', receipt.reason), Date.now());
  }
  return receipt;
};
