// The peer's beats as this site reads them: the network path from the local table, the storage path from the replica.
import { deadlineSignal } from '../shared/deadlines';
import type { PeerRead, SiteCore } from '../core/site';
import type { PathId } from '../core/wire';
import type { ClusterRecord } from '../core/volume';
import { checkPeerBeat, observationTtlSeconds } from '../shared/acceptance';
import type { Observation } from '../shared/store';
import type { ModuleDeps } from './deps';

/** The peer's last valid network-path beat, as the network receiver recorded it in the local table. */
export async function readNetworkBeat(deps: ModuleDeps, timeoutMs: number): Promise<PeerRead> {
  try {
    const seen = await deps.store.readObservation('network', deps.settings.peer, deadlineSignal(timeoutMs));
    return { arrivedAtMs: seen?.arrivedAtMs, beat: seen?.beat, unreadable: false };
  } catch (error) {
    deps.log('warn', 'peer observation unreadable', { error: String(error) });
    return { unreadable: true };
  }
}

/**
 * The last storage-path beat this invocation recorded. The module is the only writer of that
 * observation, so within one invocation (one container ticking) it need not read it back every
 * tick: it is read once, at the invocation's first tick, and kept. A write that fails or finds
 * a newer record forgets it, so the next tick reads the table again.
 */
export class StorageSeen {
  private seen: { last: Observation | undefined } | undefined;

  /** A new invocation: another container may have recorded beats since this one last ticked. */
  forget(): void {
    this.seen = undefined;
  }

  async last(read: () => Promise<Observation | undefined>): Promise<Observation | undefined> {
    if (this.seen === undefined) this.seen = { last: await read() };
    return this.seen.last;
  }

  recorded(observation: Observation | undefined): void {
    this.seen = observation === undefined ? undefined : { last: observation };
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
  seen: StorageSeen,
): Promise<PeerRead> {
  const { settings, store } = deps;
  let raw: unknown;
  let last: Observation | undefined;
  let keys: Buffer[];
  try {
    [raw, last, keys] = await Promise.all([
      store.readBeat(settings.peer, deadlineSignal(timeoutMs)),
      seen.last(() => store.readObservation('storage', settings.peer, deadlineSignal(timeoutMs))),
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
  // The beat is valid even if recording it fails; the next tick reads the record again and records the beat then.
  const recorded = await store
    .recordBeat('storage', verdict.beat, nowMs, observationTtlSeconds(settings), deadlineSignal(timeoutMs))
    .catch((error: unknown) => {
      deps.log('warn', 'storage-path beat not recorded', { error: String(error) });
      return false;
    });
  seen.recorded(recorded ? { serial: verdict.beat.serial, arrivedAtMs: nowMs, beat: verdict.beat } : undefined);
  return { arrivedAtMs: nowMs, beat: verdict.beat, unreadable: false };
}

/**
 * The peer's beats, read before the role is decided and the beat composed (what they fence and
 * acknowledge counts at once: a two-region self-fence primary's lease runs from the last beat the
 * peer acknowledged), and checked after (module.ts, tick). The two reads are independent: storage
 * from the replica, network from the local observations.
 */
export async function hearPeer(
  deps: ModuleDeps,
  core: SiteCore,
  at: { readonly nowMs: number; readonly cluster: ClusterRecord; readonly timeout: number },
  seen: StorageSeen,
): Promise<Record<PathId, PeerRead>> {
  const [storage, network] = await Promise.all([
    receiveStorageBeat(deps, at.nowMs, at.cluster, at.timeout, seen),
    readNetworkBeat(deps, at.timeout),
  ]);
  const reads = { network, storage };
  const fencedAt = core.heard(reads, at.cluster);
  if (fencedAt !== undefined)
    deps.log('warn', 'the peer beats as primary at a higher epoch: this site is fenced', { ...fencedAt });
  return reads;
}
