// The peer's beats as this site reads them: the network path from the local table, the storage path from the replica.
import type { PeerRead } from '../core/site';
import type { ClusterRecord } from '../core/volume';
import { checkPeerBeat, observationTtlSeconds } from '../shared/acceptance';
import type { Observation } from '../shared/store';
import type { ModuleDeps } from './deps';

/** The peer's last valid network-path beat, as the network receiver recorded it in the local table. */
export async function readNetworkBeat(deps: ModuleDeps, timeoutMs: number): Promise<PeerRead> {
  try {
    const seen = await deps.store.readObservation('network', deps.settings.peer, AbortSignal.timeout(timeoutMs));
    return { arrivedAtMs: seen?.arrivedAtMs, beat: seen?.beat, unreadable: false };
  } catch (error) {
    deps.log('warn', 'peer observation unreadable', { error: String(error) });
    return { unreadable: true };
  }
}

/**
 * Reads the peer's beat from this region's replica; a new valid one is recorded as arrived
 * now. Returns the last valid arrival on the storage path and the rejection reason, if any.
 */
export async function receiveStorageBeat(
  deps: ModuleDeps,
  nowMs: number,
  cluster: ClusterRecord,
  timeoutMs: number,
): Promise<PeerRead> {
  const { settings, store } = deps;
  let raw: unknown;
  let last: Observation | undefined;
  let keys: Buffer[];
  try {
    [raw, last, keys] = await Promise.all([
      store.readBeat(settings.peer, AbortSignal.timeout(timeoutMs)),
      store.readObservation('storage', settings.peer, AbortSignal.timeout(timeoutMs)),
      deps.keys.all(),
    ]);
  } catch (error) {
    deps.log('warn', 'storage path unreadable', { error: String(error) });
    return { unreadable: true };
  }
  // Nothing written yet, or the same item read again: no replay, the peer simply has not written since.
  if (raw === undefined || (last !== undefined && (raw as { serial?: unknown }).serial === last.serial))
    return { arrivedAtMs: last?.arrivedAtMs, beat: last?.beat, unreadable: false };
  const verdict = checkPeerBeat(raw, settings, { keys, last, epoch: cluster.epoch, nowMs });
  if (!verdict.ok) {
    await store.countInvalid('storage', verdict.reason).catch(() => undefined);
    deps.log('warn', 'invalid storage-path beat', { reason: verdict.reason, detail: verdict.detail });
    return { arrivedAtMs: last?.arrivedAtMs, beat: last?.beat, unreadable: false, invalid: verdict.reason };
  }
  // The beat is valid even if recording it fails; the next tick records it again.
  await store
    .recordBeat('storage', verdict.beat, nowMs, observationTtlSeconds(settings), AbortSignal.timeout(timeoutMs))
    .catch((error: unknown) => {
      deps.log('warn', 'storage-path beat not recorded', { error: String(error) });
    });
  return { arrivedAtMs: nowMs, beat: verdict.beat, unreadable: false };
}
