import type { PathState } from './verdict';
import type { PathId, PathMode } from './wire';

/**
 * Quorum mode's three votes, as far as a site can see them (a contract: `status --json`'s `quorum`). The witness is
 * DynamoDB's MRSC witness: no API reads or writes it, and while both replicas live a dead witness changes nothing a
 * site's own I/O sees. So a site knows two things from the I/O it does anyway, and no more:
 * - whether it reaches a majority: its strong reads and writes of the heartbeat volume succeed;
 * - whether the peer's replica takes part: the peer's beats replicate to this site's replica while its network beats
 *   say it lives. When both paths are silent the peer itself may be gone (`peer-lost` says that), so the replica is
 *   `unknown`, not `unreachable`.
 * The witness is `unknown` unless an AWS Health event names DynamoDB in its region.
 */
export type WitnessState = 'ok' | 'unreachable' | 'unknown';
export type ReplicaState = 'reachable' | 'unreachable' | 'unknown';

export interface QuorumView {
  /** Whether this site reached a majority within the last lease. */
  readonly majority: boolean;
  readonly peerReplica: ReplicaState;
  readonly witness: WitnessState;
  /** One more fault and no region has a majority (no failover, and the primary steps down). */
  readonly degraded: boolean;
  /** Why it is degraded, in words for the notice: one line per missing vote. Empty when whole. */
  readonly why: readonly string[];
}

export interface QuorumInputs {
  /** Monotonic time of this site's last strong read or write that succeeded (undefined: none yet). */
  readonly lastMajorityMono: number | undefined;
  /** When this container began watching: a fresh container has a lease to find its majority. */
  readonly watchingSinceMono: number;
  readonly monoMs: number;
  readonly leaseMs: number;
  readonly states: Readonly<Record<PathId, PathState>>;
  readonly modes: Readonly<Record<PathId, PathMode>>;
  /** Since when `replicaCut` has held without a break (undefined: it does not hold now). */
  readonly replicaCutSinceMono: number | undefined;
  /** What the last AWS Health event about the witness region said, if any did. */
  readonly witness: WitnessState;
}

/**
 * Whether the peer's beats fail to replicate while its network beats say it lives: storage failed, network enabled
 * and healthy or suspect (pending: no beat yet). A peer that merely went quiet fails both paths, a few seconds apart:
 * the condition must hold for a lease before the replica counts as cut off (quorumOf).
 */
export function replicaCut(states: QuorumInputs['states'], modes: QuorumInputs['modes']): boolean {
  const networkAlive = states.network === 'healthy' || states.network === 'suspect';
  return modes.storage === 'enabled' && states.storage === 'failed' && modes.network === 'enabled' && networkAlive;
}

/** The quorum as this site sees it now; pure. */
export function quorumOf(q: QuorumInputs): QuorumView {
  const since = q.lastMajorityMono ?? q.watchingSinceMono;
  const majority = q.monoMs - since < q.leaseMs;
  const cutFor = q.replicaCutSinceMono === undefined ? undefined : q.monoMs - q.replicaCutSinceMono;
  const peerReplica: ReplicaState =
    cutFor !== undefined && cutFor >= q.leaseMs
      ? 'unreachable'
      : q.modes.storage === 'enabled' && q.states.storage !== 'failed'
        ? 'reachable'
        : 'unknown';
  const why: string[] = [];
  if (!majority)
    why.push(
      `this site reached no majority for ${Math.round((q.monoMs - since) / 1000)} s: its strong reads and writes of the heartbeat volume fail (its region is cut from the peer's replica and from the witness)`,
    );
  if (peerReplica === 'unreachable')
    why.push(
      `the peer's beats have not replicated to this site's replica for ${Math.round((cutFor ?? 0) / 1000)} s while its network beats say it lives: the peer's replica is cut off or lagging`,
    );
  if (q.witness === 'unreachable') why.push('an AWS Health event names DynamoDB in the witness region');
  return { majority, peerReplica, witness: q.witness, degraded: why.length > 0, why };
}

/** What a site's view records of it (a JSON string status parses); no `why`, whose ages change each tick. */
export interface RecordedQuorum {
  readonly degraded: boolean;
  readonly majority: boolean;
  readonly peerReplica: ReplicaState;
  readonly witness: WitnessState;
}

export function recordedQuorum(view: QuorumView): string {
  const { degraded, majority, peerReplica, witness } = view;
  return JSON.stringify({ degraded, majority, peerReplica, witness } satisfies RecordedQuorum);
}

/** A recorded quorum value, or undefined when it is not one (an older record, or none). */
export function parseRecorded(value: unknown): RecordedQuorum | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<RecordedQuorum> | null;
    return typeof parsed?.degraded === 'boolean' && typeof parsed.majority === 'boolean'
      ? {
          degraded: parsed.degraded,
          majority: parsed.majority,
          peerReplica: parsed.peerReplica ?? 'unknown',
          witness: parsed.witness ?? 'unknown',
        }
      : undefined;
  } catch {
    return undefined;
  }
}
