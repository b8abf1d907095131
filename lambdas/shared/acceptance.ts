import { checkHeartbeat, type Verdict } from '../core/message';
import type { Settings } from './settings';
import type { Observation } from './store';

/** What a receiver knows when a peer beat arrives on either path. */
export interface ReceiverView {
  readonly keys: readonly Buffer[];
  /** The last valid beat recorded on this path, if any. */
  readonly last: Observation | undefined;
  /** This site's epoch, from the cluster record. */
  readonly epoch: number;
  readonly nowMs: number;
}

/** The one acceptance rule for the peer's beats, the same on the network and the storage path. */
export function checkPeerBeat(raw: unknown, settings: Settings, view: ReceiverView): Verdict {
  return checkHeartbeat(raw, {
    cluster: settings.cluster,
    expectedSender: settings.peer,
    keys: view.keys,
    lastSerial: view.last?.serial ?? 0,
    epoch: view.epoch,
    nowMs: view.nowMs,
    maxSkewMs: settings.tuning.deadlineCeilingSeconds * 1000,
  });
}

/** How long a recorded observation outlives its beat: long past any deadline, then the table forgets it. */
export const observationTtlSeconds = (settings: Settings): number => settings.tuning.deadlineCeilingSeconds * 10;
