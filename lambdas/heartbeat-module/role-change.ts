// A primary that stops acting as one: the demoted notice, the fence hook, and the handover's confirmation.
import { deadlineSignal } from '../shared/deadlines';
import type { Notice, NoticeKind } from '../core/notices';
import type { SiteCore } from '../core/site';
import type { TwoPrimaries } from '../core/site-step';
import type { ClusterRecord } from '../core/volume';
import type { Outcome } from '../shared/notifier';
import type { Announcer } from './announcer';
import type { ModuleDeps, Role } from './deps';

export class RoleChange {
  /** The role this module last recorded as acting in. */
  private acting: Role | undefined;
  /** A demotion announced while its record could not be written (not announced again once it is). */
  private demotionUnrecorded = false;
  /** Since when this container has seen no site acting as primary. */
  private noPrimarySinceMs: number | undefined;
  /**
   * The epoch the no-primary condition was first seen at: a new epoch (a promotion while this site was frozen) starts
   * it afresh.
   */
  private noPrimaryEpoch: number | undefined;
  /** What it last recorded of that: `none` once it lasted a lease. */
  private recordedSeen: 'seen' | 'none' | undefined;
  /** What it last recorded of a second primary (none until it saw one). */
  private recordedTwo: 'seen' | 'none' = 'none';

  constructor(
    private readonly deps: ModuleDeps,
    private readonly core: SiteCore,
    private readonly announcer: Announcer,
  ) {}

  /** A primary that stops acting as one says so once: its lease ran out, or a higher epoch names the peer. */
  async announce(
    role: Role,
    cluster: ClusterRecord,
    nowMs: number,
    timeoutMs: number,
    outcomes: Outcome[],
  ): Promise<Notice[]> {
    const { settings, store } = this.deps;
    const previous = this.acting;
    if (previous === role) return [];
    const recorded = await this.announcer.recordOnce(
      `role change to ${role}`,
      (writer, signal) => store.views.recordRole(settings.site, role, nowMs, writer, signal),
      timeoutMs,
    );
    // The record is what keeps two overlapping invocations from both announcing. When it cannot be written (in quorum
    // mode a region without a majority can write nothing to the heartbeat volume, which is exactly when a primary steps
    // down) this container's own memory decides, once, and the record is tried again next tick: a notice and a
    // fence-hook call too many (the hook must be idempotent) rather than a demoted site that never says so and never
    // fences itself.
    // (Roles are two: a change from primary is a change to secondary.)
    if (recorded === false) {
      if (previous !== 'primary' || this.demotionUnrecorded) return [];
      this.demotionUnrecorded = true;
      return this.demoted(cluster, nowMs, outcomes);
    }
    this.acting = role;
    const already = this.demotionUnrecorded;
    this.demotionUnrecorded = false;
    // The record names the role it replaced: null when it was this one already.
    if (recorded !== 'primary' || already) return [];
    return this.demoted(cluster, nowMs, outcomes);
  }

  /** The demoted notice and the fence hook, for a change to secondary from primary. */
  private async demoted(cluster: ClusterRecord, nowMs: number, outcomes: Outcome[]): Promise<Notice[]> {
    const { settings } = this.deps;
    // A switchover asked this site to hand over: the demotion is the plan, and pages no one (severity info).
    const planned = cluster.primary === settings.site && cluster.handover?.to === settings.peer;
    const why = planned
      ? `switchover: handing over to ${settings.peer} (${cluster.handover.execution.split(':').pop() ?? ''})`
      : cluster.primary === settings.site
        ? this.core.roleWhy
        : this.core.fencedByBeat(cluster)
          ? `${cluster.primary} beats as primary at epoch ${cluster.epoch}: fenced (the network path carried it before this site's replica did)`
          : `the cluster record names ${cluster.primary} primary at epoch ${cluster.epoch}`;
    const [notices] = await Promise.all([
      this.say('demoted', cluster, nowMs, outcomes, {
        why,
        lastValidBeatAgeMs: this.announcer.ages(nowMs),
        ...(planned ? { planned } : {}),
        next: planned
          ? `this site stopped acting as primary, as the switchover asked; ${settings.peer} acts once it is promoted (switchover-completed says so)`
          : cluster.primary === settings.site
            ? 'this site stops acting as primary; it resumes by itself once it renews its lease again'
            : 'this site stops acting as primary; it resumes only when the cluster record names it again',
      }),
      // The recorded role change is the guard: of two overlapping invocations only one calls the hook.
      this.deps
        .fenceHook?.({
          fenced: settings.site,
          cluster: settings.cluster,
          epoch: cluster.epoch,
          primary: cluster.primary,
          why,
          by: 'heartbeat-module',
        })
        .catch((error: unknown) => {
          this.deps.log('warn', 'fence hook not called', { error: String(error) });
        }),
    ]);
    return notices;
  }

  /**
   * No site acting as primary, as this site can see it (`why`, from SiteCore.noPrimary): once
   * it has lasted the grace (a lease, the margin, two ticks: longer than a failover takes), it is recorded once in this
   * site's
   * view and announced as `no-primary`; seeing a primary again is recorded, quietly.
   */
  async watchPrimary(
    why: string | undefined,
    cluster: ClusterRecord,
    nowMs: number,
    timeoutMs: number,
    outcomes: Outcome[],
  ): Promise<Notice[]> {
    const { settings } = this.deps;
    if (this.noPrimaryEpoch !== cluster.epoch) this.noPrimarySinceMs = undefined;
    this.noPrimaryEpoch = cluster.epoch;
    this.noPrimarySinceMs = why === undefined ? undefined : (this.noPrimarySinceMs ?? nowMs);
    const since = this.noPrimarySinceMs;
    const seen = since !== undefined && nowMs - since >= this.core.noPrimaryGraceMs ? 'none' : 'seen';
    if (seen === this.recordedSeen) return [];
    const previous = await this.recordView('primarySeen', seen, nowMs, timeoutMs);
    if (previous === false) return [];
    this.recordedSeen = seen;
    if (seen !== 'none' || previous === null || since === undefined) return [];
    const promote = `npx mirrorbeat failover --site ${settings.site} --region ${settings.region}`;
    return this.say('no-primary', cluster, nowMs, outcomes, {
      why,
      sinceMs: since,
      lastValidBeatAgeMs: this.announcer.ages(nowMs),
      next:
        settings.tuning.failoverMode === 'automatic' && cluster.primary !== settings.site
          ? `nothing serves as primary and no automatic failover has taken over: read npx mirrorbeat status --region ${settings.region}; to promote this site: ${promote}`
          : `nothing serves as primary: read npx mirrorbeat status --region ${settings.region}, then promote a site by hand: ${promote}`,
    });
  }

  /**
   * A second primary (site-step.ts, twoPrimariesOf), recorded in this site's view once per stretch and announced
   * `two-primaries` (critical); its end is recorded, quietly. An overlapping invocation that recorded it first announces.
   */
  async watchTwoPrimaries(
    seen: TwoPrimaries | undefined,
    cluster: ClusterRecord,
    nowMs: number,
    timeoutMs: number,
    outcomes: Outcome[],
  ): Promise<Notice[]> {
    const { settings } = this.deps;
    const now = seen === undefined ? 'none' : 'seen';
    if (now === this.recordedTwo) return [];
    const previous = await this.recordView('twoPrimaries', now, nowMs, timeoutMs);
    if (previous === false) return [];
    this.recordedTwo = now;
    if (seen === undefined || previous === null) return [];
    const why = `${settings.peer} beats as primary at epoch ${seen.epoch} (${seen.path} beat ${seen.serial}, sent ${seen.sentAt}) while this site acts as primary at that epoch`;
    return this.say('two-primaries', cluster, nowMs, outcomes, {
      why,
      peerBeat: seen,
      next: `two sites serve: choose the one to keep and promote it to a new epoch (npx mirrorbeat failover --site <site>), which fences the other; read npx mirrorbeat status --region ${settings.region} first`,
    });
  }

  /** One attribute of this site's view, recorded once per change (Announcer.recordOnce: false when not written). */
  private recordView(attribute: 'primarySeen' | 'twoPrimaries', value: string, nowMs: number, timeoutMs: number) {
    const { settings, store } = this.deps;
    return this.announcer.recordOnce(
      `${attribute} (${value})`,
      (writer, signal) => store.views.recordView(settings.site, attribute, value, nowMs, writer, signal),
      timeoutMs,
    );
  }

  /** A notice of this site about the record it acts on (Announcer.say). */
  private say(
    kind: NoticeKind,
    cluster: ClusterRecord,
    nowMs: number,
    outcomes: Outcome[],
    detail: Readonly<Record<string, unknown>> & { readonly why?: unknown },
  ): Promise<Notice[]> {
    return this.announcer.say(kind, nowMs, outcomes, { epoch: cluster.epoch, primary: cluster.primary, ...detail });
  }

  /**
   * A primary asked to hand over says it stopped, once it has: the write replicates to the
   * switchover's site, which fences only after reading it.
   */
  async confirmHandover(role: Role, cluster: ClusterRecord, nowMs: number, timeoutMs: number): Promise<void> {
    const { handover } = cluster;
    if (
      role !== 'secondary' ||
      this.acting !== 'secondary' ||
      handover === undefined ||
      handover.to !== this.deps.settings.peer ||
      handover.drainedAtMs !== undefined
    )
      return;
    try {
      if (await this.deps.store.markDrained(handover.execution, nowMs, deadlineSignal(timeoutMs)))
        this.deps.log('info', 'handover confirmed: this site no longer acts as primary', {
          execution: handover.execution,
        });
    } catch (error) {
      this.deps.log('warn', 'handover not confirmed; the next tick tries again', { error: String(error) });
    }
  }
}
