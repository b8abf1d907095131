import { deadlineSignal } from '../shared/deadlines';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { invalidBeatPoints, type MetricPoint } from '../core/emf';
import type { Health, Heartbeat } from '../core/message';
import type { Notice } from '../core/notices';
import type { PathState, SiteVerdict } from '../core/verdict';
import type { ClusterRecord } from '../core/volume';
import { SiteCore } from '../core/site';
import { twoPrimariesOf } from '../core/site-step';
import { DetailType, EVENT_SOURCE, MetricName, type PathId } from '../core/wire';
import type { Outcome } from '../shared/notifier';
import { Announcer } from './announcer';
import { composeBeat } from './compose';
import { FailoverStarter } from './failover-start';
import { type ModuleDeps, pathTimeoutMs, type Role, sendWithin } from './deps';
import { type HealthReading, readHealth } from './health';
import { MaintenanceWatch } from './maintenance';
import { PathCommands } from './path-commands';
import { QuorumWatch } from './quorum-watch';
import { ReplicationWatch } from './replication-watch';
import { hearPeer, StorageSeen } from './peer-reads';
import { RoleChange } from './role-change';
import type { ClaimAnswer } from './driver';
import { Ticker } from './ticker';
import { checkMetrics, roleMetrics, sendMetrics } from './tick-metrics';

export interface TickReport {
  readonly serial: number;
  /** The tick's time by the site's corrected wall clock (what `wakeAtMs` is measured on). */
  readonly atMs: number;
  /** Whether this site acted as primary in this tick (what its beats said). */
  readonly role: Role;
  /** The epoch of the cluster record this tick read. */
  readonly epoch: number;
  readonly health: Health;
  /** This site's beat on each path; `not-due` in a check between two ticks, which sends nothing. */
  readonly sent: Readonly<Record<PathId, 'sent' | 'failed' | 'disabled' | 'not-due'>>;
  readonly states: Readonly<Record<PathId, PathState>>;
  readonly phi: Readonly<Record<PathId, number>>;
  /** Whether a valid beat from the peer arrived on the path since the last tick. */
  readonly arrived: Readonly<Record<PathId, boolean>>;
  /** Serial of the newest valid peer beat counted on each path. */
  readonly peerSerials: Readonly<Partial<Record<PathId, number>>>;
  readonly deadlineMs: Readonly<Record<PathId, number>>;
  readonly verdict: SiteVerdict;
  readonly failoverStarted: boolean;
  /** A newer invocation of this site's module has taken over ticking: this one stops after this tick. */
  readonly superseded: boolean;
  /**
   * When to check again before the next tick, if a decision would change by then (lambdas/core/site.ts,
   * Checked.wakeAtMs).
   */
  readonly wakeAtMs: number | undefined;
  readonly notices: readonly Notice[];
  readonly metrics: readonly MetricPoint[];
}

/**
 * The heartbeat module of one site (the seed's heartbeat check module): each tick it sends
 * this site's signed beat on every enabled path and checks the peer's beats on both.
 * State that must outlive a tick (the detectors, when all paths failed) lives here, for as
 * long as the Lambda container is warm; state that must outlive the invocation lives in the tables.
 * Its notices are the announcer's (announcer.ts, role-change.ts), its path registry and the
 * peer's request commands path-commands.ts's, its metric points tick-metrics.ts's.
 */
export class HeartbeatModule {
  /** Every decision of this site (lambdas/core/site.ts); the module reads, writes and sends around it. */
  private readonly core: SiteCore;
  private readonly announcer: Announcer;
  private readonly roleChange: RoleChange;
  private readonly pathCommands: PathCommands;
  private readonly maintenance: MaintenanceWatch;
  private readonly ticker: Ticker;
  private readonly failovers: FailoverStarter;
  private readonly quorum: QuorumWatch;
  private readonly replication: ReplicationWatch;
  private readonly storageSeen = new StorageSeen();
  /** Since when the workload this site protects has been failed, for the notice its beats carry. */
  private healthFailedSinceMs: number | undefined;
  /** This site's own last beat: what a check between two ticks reports as its serial and health. */
  private ownLastBeat: { serial: number; reading: HealthReading } = {
    serial: 0,
    reading: { health: 'ok', evidence: [] },
  };

  constructor(private readonly deps: ModuleDeps) {
    this.core = new SiteCore(deps.settings.tuning, deps.settings.site, deps.settings.peer);
    this.announcer = new Announcer(deps, this.core);
    this.roleChange = new RoleChange(deps, this.core, this.announcer);
    this.pathCommands = new PathCommands(deps, this.core, this.announcer.recorded);
    this.maintenance = new MaintenanceWatch(deps, this.core, this.announcer);
    this.ticker = new Ticker(deps);
    this.failovers = new FailoverStarter(deps, this.core);
    this.quorum = new QuorumWatch(deps, this.core.leaseTuning.leaseMs, this.announcer);
    this.replication = new ReplicationWatch(deps, this.announcer);
  }

  /** Whether invocation `id` is to tick (ticker.ts; lambdas/heartbeat-module/index.ts, the handoff). */
  async claimTicker(id: string, nowMs: number, untilMs: number, handoffMs: number): Promise<ClaimAnswer> {
    return this.ticker.claim(id, nowMs, untilMs, handoffMs);
  }

  /**
   * A new invocation: a lease held before it counts no more (the container may have been
   * frozen). Given the id it claimed the ticker with, every serial it takes tells it whether a
   * newer invocation has claimed the ticker since.
   */
  beginInvocation(id?: string): void {
    // The lease watch the last ticker left, as the claim read it: a handoff or recycle does not restart it.
    this.core.newInvocation(id === undefined ? undefined : this.ticker.carried);
    this.ticker.begin(id);
    this.storageSeen.forget();
  }

  /**
   * One tick. `wallMs` is the wall clock, `monoMs` the monotonic clock (leases are timed on it);
   * a wall clock that jumps against the monotonic one is corrected, and said so, before use.
   * `check`: a check between two ticks, at a report's `wakeAtMs` — the same reads and decisions,
   * but no beat, no renewal, no request commands and no outbox flush (those keep the tick's rhythm).
   */
  async tick(wallMs: number, monoMs: number = wallMs, kind: 'tick' | 'check' = 'tick'): Promise<TickReport> {
    const { settings } = this.deps;
    const timeout = pathTimeoutMs(settings.tuning.intervalSeconds);
    const clock = this.core.readClock(wallMs, monoMs);
    const nowMs = clock.nowMs;
    const { cluster, serial, reading, role, sent, reads } =
      kind === 'tick' ? await this.beat(nowMs, monoMs, timeout) : await this.observe(nowMs, monoMs, timeout);
    const { network: networkRead, storage: storageRead } = reads;
    const checked = this.core.check(reads, cluster, nowMs, monoMs);
    const { states, phi, arrived, deadlineMs, verdict, peerHealth } = checked;
    this.replication.sample(storageRead.beat, arrived.storage, nowMs);
    this.announcer.lastArrivalMs = checked.lastArrivalMs;
    const metrics: MetricPoint[] = [...checkMetrics(checked, nowMs), ...(kind === 'tick' ? sendMetrics(sent) : [])];
    if (storageRead.invalid !== undefined) metrics.push(...invalidBeatPoints('storage', storageRead.invalid));
    // Rare series only when they happen: the alarms on them treat no data as fine, the dashboard as "ok".
    if (verdict !== 'ok')
      metrics.push({ name: MetricName.verdict, value: 1, unit: 'Count', dimensions: { Verdict: verdict } });
    if (peerHealth === 'failed') metrics.push({ name: MetricName.peerHealthFailed, value: 1, unit: 'Count' });
    const two = role === 'primary' ? twoPrimariesOf(cluster, reads, arrived, settings.peer) : undefined;
    if (two !== undefined) metrics.push({ name: MetricName.twoPrimaries, value: 1, unit: 'Count' });
    const quorum = this.quorum.active ? this.quorum.view(states, this.core.modes, monoMs) : undefined;
    if (quorum?.degraded === true) metrics.push({ name: MetricName.quorumDegraded, value: 1, unit: 'Count' });

    if (verdict !== 'peer-lost' && verdict !== 'peer-failure-reported' && verdict !== 'peer-stepped-down')
      this.failovers.episodeOver();
    const noPrimary = this.core.noPrimary(role, cluster, states, nowMs, monoMs);
    const decision = checked.takeover;
    const hold = decision.start ? undefined : decision.hold;
    const outcomes: Outcome[] = [];
    const clockNotice =
      clock.jumpMs === undefined ? undefined : this.announcer.clockNotice(clock.jumpMs, clock.correctionMs, nowMs);
    const view = { role, states, phi, deadlineMs, verdict, hold };
    const [, notices, failoverStarted, roleNotices, flushed, maintenanceNotices, quorumNotices, lagNotices] =
      await Promise.all([
        // Request commands change this site's modes from the next tick on.
        kind === 'tick' ? this.pathCommands.handle(nowMs, timeout).then(() => []) : [],
        this.announcer.changes(nowMs, view, timeout, outcomes).then(async (out) => {
          if (clockNotice !== undefined) await this.announcer.publish(clockNotice, nowMs, outcomes);
          return clockNotice === undefined ? out : [...out, clockNotice];
        }),
        decision.start
          ? this.failovers.start(
              cluster,
              decision,
              { states, phi, deadlineMs, verdict, peerHealth, lastSerials: this.core.lastSerials() },
              nowMs,
              monoMs,
            )
          : Promise.resolve(false),
        this.roleChange.announce(role, cluster, nowMs, timeout, outcomes).then(async (out) => {
          await this.roleChange.confirmHandover(role, cluster, nowMs, timeout);
          const none = await this.roleChange.watchPrimary(noPrimary, cluster, nowMs, timeout, outcomes);
          return [
            ...out,
            ...none,
            ...(await this.roleChange.watchTwoPrimaries(two, cluster, nowMs, timeout, outcomes)),
          ];
        }),
        kind === 'tick' ? this.announcer.flush(nowMs) : 0,
        this.maintenance.announce(nowMs, timeout, outcomes),
        quorum === undefined ? [] : this.quorum.watch(quorum, nowMs, timeout, outcomes),
        this.replication.watch(nowMs, timeout, outcomes),
      ]);
    metrics.push(...roleMetrics(role, noPrimary !== undefined, this.core.maintenance?.on === true, this.core.modes));
    // Only when there is something to count: a custom metric is billed for the hours it has data,
    // and these are rare (the alarm on undelivered notices treats no data as fine).
    const folded = outcomes.filter((o) => o === 'folded').length;
    const undelivered = outcomes.filter((o) => o === 'pending').length + flushed;
    if (folded > 0) metrics.push({ name: MetricName.noticesFolded, value: folded, unit: 'Count' });
    if (undelivered > 0) metrics.push({ name: MetricName.noticesUndelivered, value: undelivered, unit: 'Count' });
    return {
      serial,
      atMs: nowMs,
      role,
      epoch: cluster.epoch,
      health: reading.health,
      sent,
      states,
      phi,
      arrived,
      peerSerials: {
        network: arrived.network ? networkRead.beat?.serial : undefined,
        storage: arrived.storage ? storageRead.beat?.serial : undefined,
      },
      deadlineMs,
      verdict,
      failoverStarted,
      superseded: this.ticker.superseded,
      wakeAtMs: checked.wakeAtMs,
      notices: [...notices, ...roleNotices, ...maintenanceNotices, ...quorumNotices, ...lagNotices],
      metrics,
    };
  }

  /**
   * An extra beat, now, outside the rhythm (seed claim 24): when a watched alarm goes to ALARM,
   * the failure notice leaves on every enabled path at once instead of at the next tick. It only
   * sends. Its role is judged as a tick's: in a fresh container, whose detectors know nothing of
   * the peer, that is the role the cluster record gives it, as on any first tick.
   */
  async beatNow(
    wallMs: number,
    monoMs: number = wallMs,
  ): Promise<{ serial: number; health: Health; sent: Record<PathId, 'sent' | 'failed' | 'disabled'> }> {
    const timeout = pathTimeoutMs(this.deps.settings.tuning.intervalSeconds);
    const { serial, reading, sent } = await this.beat(wallMs - this.core.correctionMs, monoMs, timeout);
    return { serial, health: reading.health, sent };
  }

  /** A check between two ticks reads the cluster record and decides the role as a tick does, and sends nothing. */
  private async observe(nowMs: number, monoMs: number, timeout: number) {
    const cluster = await this.readCluster(monoMs, timeout);
    const reads = await hearPeer(this.deps, this.core, { nowMs, cluster, timeout }, this.storageSeen);
    const role = this.roleAt(cluster, nowMs, monoMs);
    const notDue = { network: 'not-due', storage: 'not-due' } as const;
    return { cluster, ...this.ownLastBeat, role, sent: notDue, reads };
  }

  /** Composes, signs and sends this site's beat on both paths, each under its own timeout. */
  private async beat(nowMs: number, monoMs: number, timeout: number) {
    const { settings, store } = this.deps;
    const [read, serial, , reading] = await Promise.all([
      this.readCluster(monoMs, timeout),
      this.ticker.nextSerial(nowMs, timeout, this.core.watchToCarry(monoMs)),
      this.pathCommands.refreshModes(nowMs, timeout),
      readHealth(this.deps.health),
      this.maintenance.refresh(nowMs, timeout),
      this.quorum.refresh(monoMs, timeout),
    ]);
    const cluster = await this.withdrawExpiredHandover(read, monoMs, timeout);
    const [, reads] = await Promise.all([
      this.renew(cluster, nowMs, monoMs, timeout),
      hearPeer(this.deps, this.core, { nowMs, cluster, timeout }, this.storageSeen),
    ]);
    const key = await this.deps.keys.current().catch((error: unknown) => {
      // Without the key nothing can be signed; the tick still checks the peer and reports.
      this.deps.log('warn', 'signing key unavailable: no beat sent this tick', { error: String(error) });
      return undefined;
    });
    this.healthFailedSinceMs = reading.health === 'failed' ? (this.healthFailedSinceMs ?? nowMs) : undefined;
    this.ownLastBeat = { serial, reading };
    const role = this.roleAt(cluster, nowMs, monoMs);
    const ack = this.core.ack;
    this.core.beatSent(serial, monoMs, cluster.epoch);
    const beat =
      key === undefined
        ? undefined
        : composeBeat(
            settings,
            { serial, nowMs, epoch: cluster.epoch, role, reading, ack },
            this.healthFailedSinceMs,
            key,
          );
    // Both paths go out together, each under its own timeout: no shared await can stall one behind the other.
    const [network, storage] = await Promise.all([
      this.send('network', timeout, (signal) =>
        beat === undefined ? Promise.reject(new Error('no signing key')) : this.sendNetwork(beat, signal),
      ),
      this.send('storage', timeout, (signal) =>
        beat === undefined ? Promise.reject(new Error('no signing key')) : store.writeBeat(beat, signal),
      ),
    ]);
    if (storage === 'sent') this.quorum.reached(monoMs);
    return { cluster, serial, reading, role, sent: { network, storage }, reads };
  }

  /**
   * The primary renews its lease every tick while the record names it and no handover is asked:
   * a conditional write, timed from when it *started* (lambdas/core/lease.ts). A refused renewal
   * means the record moved on; a failed one lets the lease run down.
   */
  private async renew(cluster: ClusterRecord, nowMs: number, monoMs: number, timeoutMs: number): Promise<void> {
    const { settings, store } = this.deps;
    if (!this.core.shouldRenew(cluster)) return;
    try {
      this.core.renewal(
        await store.renewLease(cluster.epoch, settings.site, nowMs, deadlineSignal(timeoutMs)),
        cluster.epoch,
        monoMs,
      );
    } catch (error) {
      this.deps.log('warn', 'lease not renewed', { epoch: cluster.epoch, error: String(error) });
    }
  }

  /**
   * A switchover's handover request this primary drained for, past its expiry with no fence
   * (the standby that asked may have crashed midway): taken back with a conditional write naming
   * its execution, so the switchover's fence, which needs it, can no longer succeed; then the old
   * roles resume in this very tick. A write that fails leaves it for the next tick.
   */
  private async withdrawExpiredHandover(
    cluster: ClusterRecord,
    monoMs: number,
    timeoutMs: number,
  ): Promise<ClusterRecord> {
    const expired = this.core.expiredHandover(cluster, monoMs);
    if (expired === undefined) return cluster;
    const withdrawn = await this.deps.store
      .cancelHandover(expired.execution, deadlineSignal(timeoutMs))
      .catch((error: unknown) => {
        this.deps.log('warn', 'expired handover not withdrawn', { error: String(error) });
        return false;
      });
    if (!withdrawn) return cluster;
    this.deps.log('warn', 'handover request expired with no fence: withdrawn, this site resumes as primary', {
      execution: expired.execution,
      epoch: cluster.epoch,
    });
    const { handover: _withdrawn, ...rest } = cluster;
    return rest;
  }

  /** Whether this site acts as primary now (lambdas/core/lease.ts, roleOf). */
  private roleAt(cluster: ClusterRecord, nowMs: number, monoMs: number): Role {
    return this.core.role(cluster, nowMs, monoMs).role;
  }

  /**
   * The cluster record as this site must act on it: its replica's record, unless a valid beat
   * from the peer already claimed primary at a higher epoch. That beat is the fence message
   * on the network path: it reaches an old primary even when the storage path cannot.
   */
  private async readCluster(monoMs: number, timeoutMs: number): Promise<ClusterRecord> {
    let record: ClusterRecord | undefined;
    try {
      record = await this.deps.store.readCluster(deadlineSignal(timeoutMs));
      this.quorum.reached(monoMs);
    } catch (error) {
      this.deps.log('warn', 'cluster record unreadable; using the last one read', { error: String(error) });
    }
    return this.core.clusterRead(record, monoMs);
  }

  /** One path's send under its own deadline (deps.ts, sendWithin), unless the path is disabled. */
  private async send(
    path: PathId,
    timeoutMs: number,
    action: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<'sent' | 'failed' | 'disabled'> {
    return this.core.modes[path] === 'disabled' ? 'disabled' : sendWithin(this.deps, path, timeoutMs, action);
  }

  private async sendNetwork(beat: Heartbeat, signal: AbortSignal): Promise<void> {
    const out = await this.deps.peerEvents.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.deps.peerBusArn,
            Source: EVENT_SOURCE,
            DetailType: DetailType.heartbeat,
            Detail: JSON.stringify(beat),
          },
        ],
      }),
      { abortSignal: signal },
    );
    if ((out.FailedEntryCount ?? 0) > 0)
      throw new Error(
        `PutEvents refused the beat: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'} ${out.Entries?.[0]?.ErrorMessage ?? ''}`,
      );
  }
}
