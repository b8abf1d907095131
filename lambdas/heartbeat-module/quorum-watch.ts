// Quorum mode's votes as this site sees them: recorded in its view, `quorum-degraded` and `quorum-restored` announced.
import { deadlineSignal } from '../shared/deadlines';
import type { Notice } from '../core/notices';
import {
  parseRecorded,
  type QuorumView,
  quorumOf,
  recordedQuorum,
  replicaCut,
  type WitnessState,
} from '../core/quorum';
import type { PathState } from '../core/verdict';
import type { PathId, PathMode } from '../core/wire';
import type { Outcome } from '../shared/notifier';
import type { Announcer } from './announcer';
import type { ModuleDeps } from './deps';

/** How often the module reads what AWS Health said of the witness region (the network receiver records it). */
export const WITNESS_READ_EVERY_MS = 20_000;

export class QuorumWatch {
  /** Monotonic time of the last strong read or write of the heartbeat volume that succeeded. */
  private lastMajorityMono: number | undefined;
  /** When this container first looked: it gets one lease to find its majority. */
  private watchingSinceMono: number | undefined;
  /** Since when the peer's beats have failed to replicate while its network beats arrive (core/quorum.ts, replicaCut). */
  private replicaCutSinceMono: number | undefined;
  /** The value this module last recorded. */
  private recorded: string | undefined;
  /** A degradation announced while its record could not be written (no majority: the volume refuses the write). */
  private saidUnrecorded = false;
  /** What the witness's region last said, by AWS Health (unknown until an event says otherwise). */
  witness: WitnessState = 'unknown';
  /** When it was last read, on the monotonic clock. */
  private witnessReadMono: number | undefined;

  constructor(
    private readonly deps: ModuleDeps,
    private readonly leaseMs: number,
    private readonly announcer: Announcer,
  ) {}

  /** Quorum mode only: in two-region mode there is no quorum to watch. */
  get active(): boolean {
    return this.deps.settings.tuning.consistency === 'strong';
  }

  /** Reads what AWS Health said of the witness region, every WITNESS_READ_EVERY_MS; unreadable, the last one stands. */
  async refresh(monoMs: number, timeoutMs: number): Promise<void> {
    if (!this.active || (this.witnessReadMono !== undefined && monoMs - this.witnessReadMono < WITNESS_READ_EVERY_MS))
      return;
    this.witnessReadMono = monoMs;
    try {
      this.witness = (await this.deps.store.witness.read(deadlineSignal(timeoutMs))).state;
    } catch (error) {
      this.deps.log('warn', 'what AWS Health said of the witness region is unreadable; keeping the last one read', {
        error: String(error),
      });
    }
  }

  /** A strong read or write of the heartbeat volume succeeded: in quorum mode, this site reached a majority. */
  reached(monoMs: number): void {
    this.lastMajorityMono = Math.max(this.lastMajorityMono ?? monoMs, monoMs);
  }

  /** The quorum now (core/quorum.ts). */
  view(
    states: Readonly<Record<PathId, PathState>>,
    modes: Readonly<Record<PathId, PathMode>>,
    monoMs: number,
  ): QuorumView {
    this.watchingSinceMono ??= monoMs;
    this.replicaCutSinceMono = replicaCut(states, modes) ? (this.replicaCutSinceMono ?? monoMs) : undefined;
    return quorumOf({
      lastMajorityMono: this.lastMajorityMono,
      watchingSinceMono: this.watchingSinceMono,
      monoMs,
      leaseMs: this.leaseMs,
      states,
      modes,
      replicaCutSinceMono: this.replicaCutSinceMono,
      witness: this.witness,
    });
  }

  /**
   * Records a changed view once (the conditional write dedupes overlapping invocations) and announces a change between
   * whole and degraded. Without a majority the record cannot be written (an MRSC table refuses every write there), so
   * a degradation is said once from this container's memory, and the record is tried again each tick; its restoration
   * is said when the record lands whole.
   */
  async watch(view: QuorumView, nowMs: number, timeoutMs: number, outcomes: Outcome[]): Promise<Notice[]> {
    const { settings, store } = this.deps;
    const value = recordedQuorum(view);
    if (value === this.recorded) return [];
    const previous = await this.announcer.recordOnce(
      'quorum',
      (writer, signal) => store.views.recordView(settings.site, 'quorum', value, nowMs, writer, signal),
      timeoutMs,
    );
    if (previous === false) {
      if (!view.degraded || this.saidUnrecorded) return [];
      this.saidUnrecorded = true;
      // What is recorded no longer says what this container told: a whole quorum is written again once it can be.
      this.recorded = undefined;
      return this.degraded(view, nowMs, outcomes);
    }
    this.recorded = value;
    const said = this.saidUnrecorded;
    this.saidUnrecorded = false;
    // null: an overlapping invocation recorded this value, and announced it (unless this one said it from memory).
    if (previous === null && !said) return [];
    const was = said || parseRecorded(previous)?.degraded === true;
    if (view.degraded && !was) return this.degraded(view, nowMs, outcomes);
    if (!view.degraded && was)
      return this.announcer.say('quorum-restored', nowMs, outcomes, {
        ...fields(view),
        why: 'this site reaches a majority and the peer’s beats replicate again',
        next: 'nothing: a failover can take place again if a site is lost',
      });
    return [];
  }

  private degraded(view: QuorumView, nowMs: number, outcomes: Outcome[]): Promise<Notice[]> {
    const { settings } = this.deps;
    return this.announcer.say('quorum-degraded', nowMs, outcomes, {
      ...fields(view),
      why: view.why.join('; '),
      next: view.majority
        ? `two of three votes remain: one more fault (the witness region, or this site's link to it) and no region has a majority, so no failover can happen and the primary steps down. Check the storage path between the sites; npx mirrorbeat status --region ${settings.region}`
        : `this site cannot write the heartbeat volume: if it acts as primary it steps down within a lease; the peer takes over if it reaches a majority. Check this region's connectivity to ${settings.peer}'s region and the witness region`,
    });
  }
}

const fields = (view: QuorumView) => ({
  majority: view.majority,
  peerReplica: view.peerReplica,
  witness: view.witness,
});
