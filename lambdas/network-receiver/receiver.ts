import {
  checkControl,
  type PathAckMessage,
  pathAckSchema,
  type PathCommandMessage,
  pathCommandSchema,
} from '../core/command';
import type { RejectionReason } from '../core/message';
import { DetailType, HEALTH_DETAIL_TYPE } from '../core/wire';
import { checkPeerBeat, observationTtlSeconds } from '../shared/acceptance';
import type { Settings } from '../shared/settings';
import type { SigningKeys } from '../shared/keys';
import type { SiteStore } from '../shared/store';
import { receiveWitnessHealth, type WitnessReceipt } from './witness';

export type Receipt =
  | WitnessReceipt
  | { readonly accepted: true; readonly serial: number }
  | { readonly accepted: true; readonly control: 'command' | 'ack'; readonly id: string }
  | { readonly accepted: false; readonly reason: RejectionReason | 'stale'; readonly detail: string };

type ReceiverDeps = { settings: Settings; store: SiteStore; keys: Pick<SigningKeys, 'all'> };

/**
 * Everything the peer sends on the network path, by detail-type: beats, request commands and their acknowledgements;
 * and, in quorum mode, what AWS Health says of DynamoDB in the witness region (witness.ts).
 */
export async function receiveNetworkEvent(
  detailType: unknown,
  detail: unknown,
  nowMs: number,
  deps: ReceiverDeps,
): Promise<Receipt> {
  if (detailType === DetailType.pathCommand) return receiveControl('command', detail, nowMs, deps);
  if (detailType === DetailType.pathAck) return receiveControl('ack', detail, nowMs, deps);
  if (detailType === HEALTH_DETAIL_TYPE) return receiveWitnessHealth(detail, nowMs, deps);
  return receiveNetworkBeat(detail, nowMs, deps);
}

/**
 * A request command or acknowledgement: checked like a beat, then kept in the local table for the module or the
 * workflow.
 */
async function receiveControl(
  kind: 'command' | 'ack',
  detail: unknown,
  nowMs: number,
  deps: ReceiverDeps,
): Promise<Receipt> {
  const { settings, store } = deps;
  const check = checkControl<PathCommandMessage | PathAckMessage>(
    kind === 'command' ? pathCommandSchema : pathAckSchema,
    detail,
    { cluster: settings.cluster, me: settings.site, keys: await deps.keys.all() },
  );
  if (!check.ok) {
    await store.countInvalid('network', check.reason);
    return { accepted: false, reason: check.reason, detail: check.detail };
  }
  await store.paths.recordReceivedControl(kind, check.message, observationTtlSeconds(settings), nowMs);
  return { accepted: true, control: kind, id: check.message.id };
}

/**
 * The network path's receiving end: validates a beat that arrived on the site bus and
 * records it in the site-local observations table with this site's arrival time.
 * Invalid input is counted and answered, never thrown: a forged beat must not make the
 * receiver fail (and be retried) or touch the storage path.
 */
export async function receiveNetworkBeat(detail: unknown, nowMs: number, deps: ReceiverDeps): Promise<Receipt> {
  const { settings, store } = deps;
  // The epoch check needs only what this region knows: a local read, which never waits for the
  // quorum (the storage side's trouble must not block the network path); unreadable, no epoch check.
  const [last, epoch, keys] = await Promise.all([
    store.readObservation('network', settings.peer),
    store.readCluster(undefined, false).then(
      (c) => c.epoch,
      () => 0,
    ),
    deps.keys.all(),
  ]);
  const verdict = checkPeerBeat(detail, settings, { keys, last, epoch, nowMs });
  if (!verdict.ok) {
    await store.countInvalid('network', verdict.reason);
    return { accepted: false, reason: verdict.reason, detail: verdict.detail };
  }
  // Two deliveries racing: the conditional write keeps the newer one.
  const recorded = await store.recordBeat('network', verdict.beat, nowMs, observationTtlSeconds(settings));
  return recorded
    ? { accepted: true, serial: verdict.beat.serial }
    : { accepted: false, reason: 'stale', detail: `serial ${verdict.beat.serial} arrived after a newer one` };
}
