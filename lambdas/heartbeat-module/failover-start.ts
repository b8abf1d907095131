// Starting the standby's failover workflow: one attempt at a time, tried again within a lease when it failed.
import { DescribeExecutionCommand, ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { TakeoverDecision } from '../core/lease';
import type { SiteCore } from '../core/site';
import type { ClusterRecord } from '../core/volume';
import type { ModuleDeps } from './deps';

/**
 * After an attempt that ended on a decision (promoted, aborted because the peer came back, an
 * approval rejected, or a gate that refused with its reason), the next attempt in the same episode
 * waits this long; after one that failed (a fence or promotion step's error), only the core's
 * retry window (one lease: lambdas/core/site.ts, failoverRetryMs).
 */
export const DECIDED_RETRY_MS = 5 * 60_000;
/**
 * Errors with which the failover workflow refuses for a stated reason (lib/workflows.ts): a decision, not a failure.
 */
const DECIDED_ERRORS: ReadonlySet<string> = new Set(['GatesBlocked', 'Refused', 'SwitchoverRefused']);

interface Attempt {
  readonly epoch: number;
  readonly startedAtMono: number;
  readonly executionArn: string | undefined;
  readonly start: { readonly name: string; readonly input: string };
}

export class FailoverStarter {
  /** This container's last attempt: its name and input, to ask whether it still runs and how it ended. */
  private last: Attempt | undefined;

  constructor(
    private readonly deps: ModuleDeps,
    private readonly core: SiteCore,
  ) {}

  /**
   * Starts a failover attempt: its own execution name, the renewal it saw (the fence's
   * conditional write names it, so one attempt per epoch wins), and at most one attempt per
   * retry window in one episode of a lost peer. The previous attempt of this container is
   * started again first, with its own name and input: Step Functions answers as before while
   * that execution still runs (no second one, no second approval request), and
   * ExecutionAlreadyExists once it ended; then how it ended decides (DECIDED_RETRY_MS).
   */
  async start(
    cluster: ClusterRecord,
    decision: Extract<TakeoverDecision, { start: true }>,
    evidence: Record<string, unknown>,
    nowMs: number,
    monoMs: number,
  ): Promise<boolean> {
    const { failoverStateMachineArn: stateMachineArn, settings } = this.deps;
    if (stateMachineArn === undefined || settings.tuning.failoverMode === 'manual') return false;
    const previous = this.last;
    if (previous !== undefined && previous.epoch === cluster.epoch && !(await this.mayTryAgain(previous, monoMs))) {
      // Running, or ended on a decision not long ago: the window starts again.
      this.core.failoverStarted(cluster.epoch, monoMs);
      return false;
    }
    const name = `failover-e${cluster.epoch + 1}-${Math.round(nowMs)}`;
    const start = {
      name,
      input: JSON.stringify({
        reason: decision.reason,
        requestedBy: 'heartbeat-module',
        expectedEpoch: cluster.epoch,
        gated: decision.gated,
        ...(decision.expectedLease === undefined ? {} : { expectedLease: decision.expectedLease }),
        from: cluster.primary,
        to: settings.site,
        evidence,
      }),
    };
    try {
      const out = await this.deps.sfn.send(new StartExecutionCommand({ stateMachineArn, ...start }));
      this.last = { epoch: cluster.epoch, startedAtMono: monoMs, executionArn: out?.executionArn, start };
      this.core.failoverStarted(cluster.epoch, monoMs);
      this.deps.log('warn', `${decision.reason}: failover started`, { epoch: cluster.epoch + 1, execution: name });
      return true;
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return false;
      // The next tick tries again; the verdict still holds.
      this.deps.log('warn', 'failover not started', { error: String(error) });
      return false;
    }
  }

  /** The episode of a lost peer ended (the verdict holds no trigger): the next one starts afresh. */
  episodeOver(): void {
    this.last = undefined;
  }

  /** Whether the previous attempt has ended so that a new one may start now. */
  private async mayTryAgain(previous: Attempt, monoMs: number): Promise<boolean> {
    const stateMachineArn = this.deps.failoverStateMachineArn;
    try {
      await this.deps.sfn.send(new StartExecutionCommand({ stateMachineArn, ...previous.start }));
      return false;
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) {
        this.deps.log('warn', 'failover attempt not checked', { error: String(error) });
        return false;
      }
    }
    const decidedLongAgo = monoMs - previous.startedAtMono >= DECIDED_RETRY_MS;
    if (previous.executionArn === undefined) return decidedLongAgo;
    try {
      const ended = await this.deps.sfn.send(new DescribeExecutionCommand({ executionArn: previous.executionArn }));
      const failed = ended?.status === 'FAILED' && !DECIDED_ERRORS.has(ended.error ?? '');
      if (failed)
        this.deps.log('warn', 'failover attempt failed: trying again', { error: ended?.error, cause: ended?.cause });
      return failed || decidedLongAgo;
    } catch (error) {
      this.deps.log('warn', 'failover attempt not described', { error: String(error) });
      return decidedLongAgo;
    }
  }
}
