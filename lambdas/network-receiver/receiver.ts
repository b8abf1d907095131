import type { RejectionReason } from '../core/message';
import { checkPeerBeat, observationTtlSeconds } from '../shared/acceptance';
import type { Settings } from '../shared/settings';
import type { SigningKeys } from '../shared/keys';
import type { SiteStore } from '../shared/store';

export type Receipt = { readonly accepted: true; readonly serial: number } | { readonly accepted: false; readonly reason: RejectionReason | 'stale'; readonly detail: string };

/**
 * The network path's receiving end: validates a beat that arrived on the site bus and
 * records it in the site-local observations table with this site's arrival time.
 * Invalid input is counted and answered, never thrown: a forged beat must not make the
 * receiver fail (and be retried) or touch the storage path.
 */
export async function receiveNetworkBeat(detail: unknown, nowMs: number, deps: { settings: Settings; store: SiteStore; keys: SigningKeys }): Promise<Receipt> {
  const { settings, store } = deps;
  const [last, cluster, keys] = await Promise.all([store.readObservation('network', settings.peer), store.readCluster(), deps.keys.all()]);
  const verdict = checkPeerBeat(detail, settings, { keys, last, epoch: cluster.epoch, nowMs });
  if (!verdict.ok) {
    await store.countInvalid('network', verdict.reason);
    return { accepted: false, reason: verdict.reason, detail: verdict.detail };
  }
  // Two deliveries racing: the conditional write keeps the newer one.
  const recorded = await store.recordBeat('network', verdict.beat, nowMs, observationTtlSeconds(settings));
  return recorded ? { accepted: true, serial: verdict.beat.serial } : { accepted: false, reason: 'stale', detail: `serial ${verdict.beat.serial} arrived after a newer one` };
}
