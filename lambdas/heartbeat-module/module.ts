import { randomUUID } from 'node:crypto';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { invalidBeatPoints, type MetricPoint } from '../core/emf';
import {
  checkControl,
  lastWorkingPathRefusal,
  type PathCommandMessage,
  pathCommandSchema,
  signAck,
} from '../core/command';
import { type Health, type Heartbeat, signHeartbeat } from '../core/message';
import type { Notice, NoticeKind } from '../core/notices';
import type { PathState, SiteVerdict } from '../core/verdict';
import { type ClusterRecord, serialFloor } from '../core/volume';
import type { TakeoverDecision } from '../core/lease';
import { type PeerRead, SiteCore } from '../core/site';
import { DetailType, EVENT_SOURCE, MetricName, PATHS, type PathId, type PathMode } from '../core/wire';
import { checkPeerBeat, observationTtlSeconds } from '../shared/acceptance';
import type { Settings } from '../shared/settings';
import type { SigningKeys } from '../shared/keys';
import type { NoticeDesk, Outcome } from '../shared/notifier';
import type { Observation, ReceivedCommand, SiteStore } from '../shared/store';
import type { HealthProbe, HealthReading } from './health';

export interface ModuleDeps {
  readonly settings: Settings;
  readonly store: SiteStore;
  readonly keys: SigningKeys;
  readonly peerEvents: EventBridgeClient;
  readonly peerBusArn: string;
  readonly sfn: SFNClient;
  readonly failoverStateMachineArn: string | undefined;
  /** Where notices go (journal, rate limit, SNS); without it, changes are only recorded and logged. */
  readonly notices?: Pick<NoticeDesk, 'announce' | 'flush'>;
  /** Your fence hook, called once when this site stops acting as primary (it stops the workload here). */
  readonly fenceHook?: (event: Readonly<Record<string, unknown>>) => Promise<void>;
  /** The protected workload's health; without it, beats say `ok`. */
  readonly health?: Pick<HealthProbe, 'read'>;
  readonly log: (level: 'info' | 'warn', message: string, detail?: Record<string, unknown>) => void;
}

type Role = Heartbeat['role'];

export interface TickReport {
  readonly serial: number;
  /** Whether this site acted as primary in this tick (what its beats said). */
  readonly role: Role;
  /** The epoch of the cluster record this tick read. */
  readonly epoch: number;
  readonly health: Health;
  readonly sent: Readonly<Record<PathId, 'sent' | 'failed' | 'disabled'>>;
  readonly states: Readonly<Record<PathId, PathState>>;
  readonly phi: Readonly<Record<PathId, number>>;
  /** Whether a valid beat from the peer arrived on the path since the last tick. */
  readonly arrived: Readonly<Record<PathId, boolean>>;
  /** Serial of the newest valid peer beat counted on each path. */
  readonly peerSerials: Readonly<Partial<Record<PathId, number>>>;
  readonly deadlineMs: Readonly<Record<PathId, number>>;
  readonly verdict: SiteVerdict;
  readonly failoverStarted: boolean;
  readonly notices: readonly Notice[];
  readonly metrics: readonly MetricPoint[];
}

/** How long one path's send or read may take; a slow path must not hold up the tick or the other path. */
export const pathTimeoutMs = (intervalSeconds: number) => Math.max(500, Math.floor(intervalSeconds * 1000 * 0.4));

/** The notice a change of one path's state raises, if any: failures and recoveries from failure. */
function pathNotice(previous: string | undefined, state: PathState): NoticeKind | undefined {
  if (state === 'failed') return 'path-failed';
  if (previous === 'failed' && (state === 'healthy' || state === 'suspect')) return 'path-recovered';
  return undefined;
}

/** The PathMode metric: what the dashboard plots for the path registry. */
const MODE_VALUE: Record<PathMode, number> = { enabled: 2, pending: 1, disabled: 0 };

/** How often the module flushes the notice outbox and summarizes ended fold windows. */
const FLUSH_EVERY_MS = 60_000;

const VERDICT_NOTICE: Partial<Record<SiteVerdict, NoticeKind>> = {
  'peer-lost': 'peer-lost',
  unprotected: 'unprotected',
  'peer-failure-reported': 'peer-failure-reported',
};

/**
 * The heartbeat module of one site (the seed's heartbeat check module): each tick it sends
 * this site's signed beat on every enabled path and checks the peer's beats on both.
 * State that must outlive a tick (the detectors, when all paths failed) lives here, for as
 * long as the Lambda container is warm; state that must outlive the invocation lives in the tables.
 */
export class HeartbeatModule {
  /** Every decision of this site (lambdas/core/site.ts); the module reads, writes and sends around it. */
  private readonly core: SiteCore;
  private lastSerial = 0;
  /** The states and verdict this module last saw recorded, so it writes only on a change. */
  private readonly recorded: Partial<Record<PathId | 'verdict', string>> = {};
  private acting: Role | undefined;
  /** Who records this module's changes, so a write whose answer was lost is still known as its own. */
  private readonly writer = randomUUID();
  /** When this module last flushed the notice outbox and the ended fold windows. */
  private lastFlushMs: number | undefined;
  /** Since when the workload this site protects has been failed, for the notice its beats carry. */
  private healthFailedSinceMs: number | undefined;
  /** Why the standby holds off a failover the trigger asks for (the peer still holds its lease). */
  private hold: string | undefined;
  /** The last valid arrival per path, as the core's detectors count it, for the ages notices quote. */
  private lastArrivalMs: Readonly<Partial<Record<PathId, number>>> = {};

  constructor(private readonly deps: ModuleDeps) {
    this.core = new SiteCore(deps.settings.tuning, deps.settings.site, deps.settings.peer);
  }

  /** A new invocation: a lease held before it counts no more (the container may have been frozen). */
  beginInvocation(): void {
    this.core.newInvocation();
  }

  /**
   * One tick. `wallMs` is the wall clock, `monoMs` the monotonic clock (leases are timed on it);
   * a wall clock that jumps against the monotonic one is corrected, and said so, before use.
   */
  async tick(wallMs: number, monoMs: number = wallMs): Promise<TickReport> {
    const { settings, store } = this.deps;
    const timeout = pathTimeoutMs(settings.tuning.intervalSeconds);
    const clock = this.core.readClock(wallMs, monoMs);
    const nowMs = clock.nowMs;
    const { cluster, serial, reading, role, sent } = await this.beat(nowMs, monoMs, timeout);
    const { network, storage } = sent;
    // The two reads of the peer are independent too: storage from the replica, network from the local observations.
    const [storageRead, networkRead] = await Promise.all([
      this.receiveStorageBeat(nowMs, cluster, timeout),
      this.observe(store.readObservation('network', settings.peer, AbortSignal.timeout(timeout))),
    ]);
    const checked = this.core.check({ network: networkRead, storage: storageRead }, cluster, nowMs, monoMs);
    const { states, phi, arrived, deadlineMs, verdict, peerHealth } = checked;
    this.lastArrivalMs = checked.lastArrivalMs;
    if (checked.fencedAt !== undefined)
      this.deps.log('warn', 'the peer beats as primary at a higher epoch: this site is fenced', checked.fencedAt);
    const metrics: MetricPoint[] = [{ name: MetricName.ticks, value: 1, unit: 'Count' }];
    for (const path of PATHS) {
      metrics.push(
        {
          name: MetricName.pathFailed,
          value: states[path] === 'failed' ? 1 : 0,
          unit: 'Count',
          dimensions: { Path: path },
        },
        { name: MetricName.phi, value: phi[path], unit: 'None', dimensions: { Path: path } },
        { name: MetricName.deadline, value: deadlineMs[path] / 1000, unit: 'Seconds', dimensions: { Path: path } },
      );
      const last = checked.lastArrivalMs[path];
      if (last !== undefined)
        metrics.push({
          name: MetricName.peerBeatAge,
          value: (nowMs - last) / 1000,
          unit: 'Seconds',
          dimensions: { Path: path },
        });
    }
    metrics.push(
      { name: MetricName.beatsSent, value: network === 'sent' ? 1 : 0, unit: 'Count', dimensions: { Path: 'network' } },
      {
        name: MetricName.sendFailures,
        value: network === 'failed' ? 1 : 0,
        unit: 'Count',
        dimensions: { Path: 'network' },
      },
      { name: MetricName.beatsSent, value: storage === 'sent' ? 1 : 0, unit: 'Count', dimensions: { Path: 'storage' } },
      {
        name: MetricName.sendFailures,
        value: storage === 'failed' ? 1 : 0,
        unit: 'Count',
        dimensions: { Path: 'storage' },
      },
    );
    if (storageRead.invalid !== undefined) metrics.push(...invalidBeatPoints('storage', storageRead.invalid));

    metrics.push(
      { name: MetricName.verdict, value: 1, unit: 'Count', dimensions: { Verdict: verdict } },
      { name: MetricName.peerHealthFailed, value: peerHealth === 'failed' ? 1 : 0, unit: 'Count' },
    );

    const decision = checked.takeover;
    this.hold = decision.start ? undefined : decision.hold;
    const outcomes: Outcome[] = [];
    const clockNotice =
      clock.jumpMs === undefined ? undefined : this.clockNotice(clock.jumpMs, clock.correctionMs, nowMs);
    const [, notices, failoverStarted, roleNotices, flushed] = await Promise.all([
      // Request commands change this site's modes from the next tick on.
      this.handleCommands(nowMs, timeout).then(() => []),
      this.announce(nowMs, role, states, phi, deadlineMs, verdict, timeout, outcomes).then(async (out) => {
        if (clockNotice !== undefined) await this.publish(clockNotice, nowMs, outcomes);
        return clockNotice === undefined ? out : [...out, clockNotice];
      }),
      decision.start
        ? this.startFailover(cluster, decision, { states, phi, deadlineMs, verdict, peerHealth }, nowMs, monoMs)
        : Promise.resolve(false),
      this.announceRole(role, cluster, nowMs, timeout, outcomes).then(async (out) => {
        await this.confirmHandover(role, cluster, nowMs, timeout);
        return out;
      }),
      this.flushNotices(nowMs),
    ]);
    metrics.push(
      { name: MetricName.actingPrimary, value: role === 'primary' ? 1 : 0, unit: 'Count' },
      ...PATHS.map((path): MetricPoint => ({
        name: MetricName.pathMode,
        value: MODE_VALUE[this.core.modes[path]],
        unit: 'None',
        dimensions: { Path: path },
      })),
    );
    // Only when there is something to count: a custom metric is billed for the hours it has data,
    // and these are rare (the alarm on undelivered notices treats no data as fine).
    const folded = outcomes.filter((o) => o === 'folded').length;
    const undelivered = outcomes.filter((o) => o === 'pending').length + flushed;
    if (folded > 0) metrics.push({ name: MetricName.noticesFolded, value: folded, unit: 'Count' });
    if (undelivered > 0) metrics.push({ name: MetricName.noticesUndelivered, value: undelivered, unit: 'Count' });
    return {
      serial,
      role,
      epoch: cluster.epoch,
      health: reading.health,
      sent: { network, storage },
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
      notices: [...notices, ...roleNotices],
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

  /** Composes, signs and sends this site's beat on both paths, each under its own timeout. */
  private async beat(nowMs: number, monoMs: number, timeout: number) {
    const { settings, store } = this.deps;
    const [cluster, serial, , reading] = await Promise.all([
      this.readCluster(monoMs, timeout),
      this.nextSerial(nowMs, timeout),
      this.refreshModes(nowMs, timeout),
      this.readHealth(),
    ]);
    await this.renew(cluster, nowMs, monoMs, timeout);
    const key = await this.deps.keys.current().catch((error: unknown) => {
      // Without the key nothing can be signed; the tick still checks the peer and reports.
      this.deps.log('warn', 'signing key unavailable: no beat sent this tick', { error: String(error) });
      return undefined;
    });
    this.healthFailedSinceMs = reading.health === 'failed' ? (this.healthFailedSinceMs ?? nowMs) : undefined;
    const role = this.roleAt(cluster, nowMs, monoMs);
    const beat =
      key === undefined
        ? undefined
        : signHeartbeat(
            {
              v: 1,
              cluster: settings.cluster,
              site: settings.site,
              region: settings.region,
              serial,
              sentAt: new Date(nowMs).toISOString(),
              epoch: cluster.epoch,
              role,
              health: reading.health,
              ...(reading.health === 'failed'
                ? {
                    notice: {
                      kind: 'workload-failed',
                      detail:
                        `since ${new Date(this.healthFailedSinceMs ?? nowMs).toISOString()}: ${reading.evidence.join('; ')}`.slice(
                          0,
                          1024,
                        ),
                    },
                  }
                : {}),
            },
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
    return { cluster, serial, reading, role, sent: { network, storage } };
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
        await store.renewLease(cluster.epoch, settings.site, nowMs, AbortSignal.timeout(timeoutMs)),
        cluster.epoch,
        monoMs,
      );
    } catch (error) {
      this.deps.log('warn', 'lease not renewed', { epoch: cluster.epoch, error: String(error) });
    }
  }

  /** Whether this site acts as primary now (lambdas/core/lease.ts, roleOf). */
  private roleAt(cluster: ClusterRecord, nowMs: number, monoMs: number): Role {
    return this.core.role(cluster, nowMs, monoMs).role;
  }

  /** A wall-clock jump the monotonic clock did not see: beats go on with the corrected time. */
  private clockNotice(jumpMs: number, correctionMs: number, nowMs: number): Notice {
    const { settings } = this.deps;
    this.deps.log('warn', 'notice: clock-untrusted', { jumpMs, correctionMs });
    return {
      kind: 'clock-untrusted',
      site: settings.site,
      region: settings.region,
      cluster: settings.cluster,
      atMs: nowMs,
      detail: {
        jumpMs: Math.round(jumpMs),
        correctionMs: Math.round(correctionMs),
        why: `the wall clock moved ${Math.round(jumpMs)} ms against the monotonic clock between two ticks, beyond the skew bound (deadlineCeilingSeconds ${settings.tuning.deadlineCeilingSeconds})`,
        next:
          correctionMs === 0
            ? 'nothing: the wall clock agrees with the monotonic clock again'
            : `this container stamps beats ${Math.round(correctionMs)} ms behind the wall clock until it agrees again; check the host's time synchronization (chrony, Amazon Time Sync)`,
      },
    };
  }

  /** A primary that stops acting as one says so once: its lease ran out, or a higher epoch names the peer. */
  private async announceRole(
    role: Role,
    cluster: ClusterRecord,
    nowMs: number,
    timeoutMs: number,
    outcomes: Outcome[],
  ): Promise<Notice[]> {
    const { settings, store } = this.deps;
    const previous = this.acting;
    if (previous === role) return [];
    let recordedPrevious: string | undefined | null;
    try {
      recordedPrevious = await store.recordRole(
        settings.site,
        role,
        nowMs,
        this.writer,
        AbortSignal.timeout(timeoutMs),
      );
    } catch (error) {
      this.deps.log('warn', 'role change not recorded', { role, error: String(error) });
      return [];
    }
    this.acting = role;
    if (role !== 'secondary' || recordedPrevious !== 'primary') return [];
    const why =
      cluster.primary === settings.site && cluster.handover?.to === settings.peer
        ? `switchover: handing over to ${settings.peer} (${cluster.handover.execution.split(':').pop() ?? ''})`
        : cluster.primary === settings.site
          ? this.core.roleWhy
          : this.core.fencedByBeat(cluster)
            ? `${cluster.primary} beats as primary at epoch ${cluster.epoch}: fenced (the network path carried it before this site's replica did)`
            : `the cluster record names ${cluster.primary} primary at epoch ${cluster.epoch}`;
    const notice: Notice = {
      kind: 'demoted',
      site: settings.site,
      region: settings.region,
      cluster: settings.cluster,
      atMs: nowMs,
      detail: {
        epoch: cluster.epoch,
        primary: cluster.primary,
        why,
        lastValidBeatAgeMs: this.ages(nowMs),
        next:
          cluster.primary === settings.site
            ? 'this site stops acting as primary; it resumes by itself once it renews its lease again'
            : 'this site stops acting as primary; it resumes only when the cluster record names it again',
      },
    };
    this.deps.log('warn', 'notice: demoted', { why });
    await Promise.all([
      this.publish(notice, nowMs, outcomes),
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
    return [notice];
  }

  /**
   * A primary asked to hand over says it stopped, once it has: the write replicates to the
   * switchover's site, which fences only after reading it.
   */
  private async confirmHandover(role: Role, cluster: ClusterRecord, nowMs: number, timeoutMs: number): Promise<void> {
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
      if (await this.deps.store.markDrained(handover.execution, nowMs, AbortSignal.timeout(timeoutMs)))
        this.deps.log('info', 'handover confirmed: this site no longer acts as primary', {
          execution: handover.execution,
        });
    } catch (error) {
      this.deps.log('warn', 'handover not confirmed; the next tick tries again', { error: String(error) });
    }
  }

  /**
   * Records each change of a path state and of the verdict in the heartbeat volume, and
   * publishes the notice it raises. The conditional write is the deduplication: of two
   * overlapping invocations only the one whose write changed the record announces.
   */
  private async announce(
    nowMs: number,
    role: Role,
    states: Readonly<Record<PathId, PathState>>,
    phi: Readonly<Record<PathId, number>>,
    deadlineMs: Readonly<Record<PathId, number>>,
    verdict: SiteVerdict,
    timeoutMs: number,
    outcomes: Outcome[],
  ): Promise<Notice[]> {
    const { settings, store } = this.deps;
    const changes: { what: PathId | 'verdict'; value: string; record: () => Promise<string | undefined | null> }[] = [];
    for (const path of PATHS) {
      if (this.recorded[path] !== states[path])
        changes.push({
          what: path,
          value: states[path],
          record: () =>
            store.recordPathState(
              settings.site,
              path,
              states[path],
              nowMs,
              this.writer,
              AbortSignal.timeout(timeoutMs),
            ),
        });
    }
    if (this.recorded.verdict !== verdict)
      changes.push({
        what: 'verdict',
        value: verdict,
        record: () => store.recordVerdict(settings.site, verdict, nowMs, this.writer, AbortSignal.timeout(timeoutMs)),
      });

    const notices: Notice[] = [];
    await Promise.all(
      changes.map(async ({ what, value, record }) => {
        let previous: string | undefined | null;
        try {
          previous = await record();
        } catch (error) {
          // Unrecorded: try again next tick rather than announce a change nobody can see.
          this.deps.log('warn', 'state change not recorded', { what, value, error: String(error) });
          return;
        }
        this.recorded[what] = value;
        if (previous === null) return;
        const detail: Record<string, unknown> = {
          verdict,
          states,
          phi: roundAll(phi),
          deadlineMs,
          lastValidBeatAgeMs: this.ages(nowMs),
          previous: previous ?? 'none',
        };
        const report = this.core.newestLiveBeat(states);
        // What the peer said about its workload, as its beat carried it: what failed, since when, the evidence.
        if (what === 'verdict' && verdict === 'peer-failure-reported' && report !== undefined)
          detail.peerReport = {
            health: report.health,
            sentAt: report.sentAt,
            ...(report.notice ? { notice: report.notice } : {}),
          };
        const kind =
          what === 'verdict' ? VERDICT_NOTICE[value as SiteVerdict] : pathNotice(previous, value as PathState);
        if (kind === undefined) return;
        const notice: Notice = {
          kind,
          site: settings.site,
          region: settings.region,
          cluster: settings.cluster,
          ...(what === 'verdict' ? {} : { path: what }),
          atMs: nowMs,
          detail: {
            ...detail,
            next: nextStep(kind, settings, what === 'verdict' ? undefined : what, role === 'primary', this.hold),
          },
        };
        notices.push(notice);
        this.deps.log('warn', `notice: ${kind}`, { path: what === 'verdict' ? undefined : what, previous });
        await this.publish(notice, nowMs, outcomes);
      }),
    );
    return notices;
  }

  /** Hands a notice to the desk (journal, rate limit, SNS); a desk that failed never fails the tick. */
  private async publish(notice: Notice, nowMs: number, outcomes: Outcome[]): Promise<void> {
    if (this.deps.notices === undefined) return;
    try {
      outcomes.push((await this.deps.notices.announce(notice, nowMs)).outcome);
    } catch (error) {
      outcomes.push('pending');
      this.deps.log('warn', 'notice not announced', { kind: notice.kind, error: String(error) });
    }
  }

  /** Once a minute: the outbox publishes again what SNS did not take, and ended fold windows are summarized. */
  private async flushNotices(nowMs: number): Promise<number> {
    if (
      this.deps.notices === undefined ||
      (this.lastFlushMs !== undefined && nowMs - this.lastFlushMs < FLUSH_EVERY_MS)
    )
      return 0;
    this.lastFlushMs = nowMs;
    try {
      const out = await this.deps.notices.flush(nowMs);
      if (out.summaries + out.retried > 0) this.deps.log('info', 'notice outbox flushed', out);
      return out.failed;
    } catch (error) {
      this.deps.log('warn', 'notice outbox not flushed; the next minute tries again', { error: String(error) });
      return 0;
    }
  }

  private ages(nowMs: number): Record<PathId, number | null> {
    const age = (p: PathId) => {
      const last = this.lastArrivalMs[p];
      return last === undefined ? null : nowMs - last;
    };
    return { network: age('network'), storage: age('storage') };
  }

  private async readHealth(): Promise<HealthReading> {
    if (this.deps.health === undefined) return { health: 'ok', evidence: [] };
    try {
      return await this.deps.health.read();
    } catch (error) {
      return { health: 'degraded', evidence: [`health unreadable: ${String(error)}`] };
    }
  }

  /**
   * The cluster record as this site must act on it: its replica's record, unless a valid beat
   * from the peer already claimed primary at a higher epoch. That beat is the fence message
   * on the network path: it reaches an old primary even when the storage path cannot.
   */
  private async readCluster(monoMs: number, timeoutMs: number): Promise<ClusterRecord> {
    let record: ClusterRecord | undefined;
    try {
      record = await this.deps.store.readCluster(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      this.deps.log('warn', 'cluster record unreadable; using the last one read', { error: String(error) });
    }
    return this.core.clusterRead(record, monoMs);
  }

  private async nextSerial(nowMs: number, timeoutMs: number): Promise<number> {
    try {
      this.lastSerial = await this.deps.store.nextSerial(
        this.deps.settings.site,
        nowMs,
        AbortSignal.timeout(timeoutMs),
      );
    } catch (error) {
      // The counter is down with the local table; the network beat must still go out, with a serial above any before it.
      this.lastSerial = Math.max(this.lastSerial + 1, serialFloor(nowMs));
      this.deps.log('warn', 'serial counter unavailable; using the time floor', { error: String(error) });
    }
    return this.lastSerial;
  }

  private async refreshModes(nowMs: number, timeoutMs: number): Promise<void> {
    await Promise.all(
      PATHS.map(async (path) => {
        try {
          this.core.setMode(
            path,
            await this.deps.store.readPathMode(this.deps.settings.site, path, AbortSignal.timeout(timeoutMs)),
            nowMs,
          );
        } catch {
          // Keep the last known mode: a registry read failure is not an operator's command.
        }
      }),
    );
  }

  /**
   * The peer's request commands (path control), from whichever path carried them: each is
   * checked, acted on once (the acknowledgement's conditional write is the guard), answered
   * on both paths, and forgotten. A command that would leave this site with no enabled path
   * is refused unless forced.
   */
  private async handleCommands(nowMs: number, timeoutMs: number): Promise<void> {
    const { settings, store } = this.deps;
    let received: ReceivedCommand[];
    let keys: Buffer[];
    try {
      received = await store.receivedCommands(settings.site, AbortSignal.timeout(timeoutMs));
      if (received.length === 0) return;
      keys = await this.deps.keys.all();
    } catch (error) {
      this.deps.log('warn', 'request commands unreadable', { error: String(error) });
      return;
    }
    for (const item of received) {
      try {
        const check = checkControl(pathCommandSchema, item.message, {
          cluster: settings.cluster,
          me: settings.site,
          keys,
        });
        if (!check.ok) {
          await store.countInvalid(item.via, check.reason);
          this.deps.log('warn', 'invalid request command ignored', {
            via: item.via,
            reason: check.reason,
            detail: check.detail,
          });
        } else if (check.message.expiresAtMs >= nowMs) {
          await this.actOn(check.message, nowMs);
        }
        await store.deleteCommand(settings.site, item.id);
      } catch (error) {
        // Left in place: the next tick tries again, and the acknowledgement's guard keeps it to one effect.
        this.deps.log('warn', 'request command not handled', { id: item.id, error: String(error) });
      }
    }
  }

  private async actOn(command: PathCommandMessage, nowMs: number): Promise<void> {
    const { settings, store } = this.deps;
    const other: PathId = command.path === 'network' ? 'storage' : 'network';
    const refusal =
      command.action === 'deactivate' && !command.force
        ? lastWorkingPathRefusal(command.path, this.core.modes[other], this.recorded[other])
        : undefined;
    const refuse = refusal !== undefined;
    const mode: PathMode = refuse
      ? this.core.modes[command.path]
      : command.action === 'activate'
        ? 'enabled'
        : 'disabled';
    const detail = refuse
      ? `at ${settings.site}, ${refusal}: send "force": true to do it anyway`
      : `${command.path} ${mode} at ${settings.site}`;
    const ack = signAck(
      {
        id: command.id,
        cluster: settings.cluster,
        from: settings.site,
        to: command.from,
        accepted: !refuse,
        mode,
        detail,
        atMs: Math.round(nowMs),
      },
      await this.deps.keys.current(),
    );
    if (!refuse && this.core.modes[command.path] !== mode) {
      await store.setPathMode(
        settings.site,
        command.path,
        mode,
        `${command.from}:${command.id}`,
        command.reason,
        nowMs,
      );
      this.core.setMode(command.path, mode, nowMs);
    }
    // The storage path's answer is the acknowledgement item; the network path's, a PathAck event.
    if (await store.putAck(ack)) {
      await this.deps.peerEvents
        .send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: this.deps.peerBusArn,
                Source: EVENT_SOURCE,
                DetailType: DetailType.pathAck,
                Detail: JSON.stringify(ack),
              },
            ],
          }),
          { abortSignal: AbortSignal.timeout(pathTimeoutMs(settings.tuning.intervalSeconds)) },
        )
        .catch((error: unknown) =>
          this.deps.log('warn', 'acknowledgement not sent on the network path', {
            id: command.id,
            error: String(error),
          }),
        );
      this.deps.log('info', `request command ${refuse ? 'refused' : 'applied'}`, {
        id: command.id,
        path: command.path,
        action: command.action,
        mode,
      });
    }
  }

  /**
   * Runs one path's send under its own deadline. The deadline is enforced here, not only
   * through the SDK's abort signal: a stuck credential fetch or retry must not hold the tick.
   */
  private async send(
    path: PathId,
    timeoutMs: number,
    action: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<'sent' | 'failed' | 'disabled'> {
    if (this.core.modes[path] === 'disabled') return 'disabled';
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`${path} send exceeded ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([action(controller.signal), deadline]);
      return 'sent';
    } catch (error) {
      this.deps.log('warn', `${path} beat not sent`, { path, error: String(error) });
      return 'failed';
    } finally {
      clearTimeout(timer);
    }
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

  private async observe(read: Promise<Observation | undefined>): Promise<PeerRead> {
    try {
      const seen = await read;
      return { arrivedAtMs: seen?.arrivedAtMs, beat: seen?.beat, unreadable: false };
    } catch (error) {
      this.deps.log('warn', 'peer observation unreadable', { error: String(error) });
      return { unreadable: true };
    }
  }

  /**
   * Reads the peer's beat from this region's replica; a new valid one is recorded as arrived
   * now. Returns the last valid arrival on the storage path and the rejection reason, if any.
   */
  private async receiveStorageBeat(nowMs: number, cluster: ClusterRecord, timeoutMs: number): Promise<PeerRead> {
    const { settings, store } = this.deps;
    let raw: unknown;
    let last: Observation | undefined;
    let keys: Buffer[];
    try {
      [raw, last, keys] = await Promise.all([
        store.readBeat(settings.peer, AbortSignal.timeout(timeoutMs)),
        store.readObservation('storage', settings.peer, AbortSignal.timeout(timeoutMs)),
        this.deps.keys.all(),
      ]);
    } catch (error) {
      this.deps.log('warn', 'storage path unreadable', { error: String(error) });
      return { unreadable: true };
    }
    // Nothing written yet, or the same item read again: no replay, the peer simply has not written since.
    if (raw === undefined || (last !== undefined && (raw as { serial?: unknown }).serial === last.serial))
      return { arrivedAtMs: last?.arrivedAtMs, beat: last?.beat, unreadable: false };
    const verdict = checkPeerBeat(raw, settings, { keys, last, epoch: cluster.epoch, nowMs });
    if (!verdict.ok) {
      await store.countInvalid('storage', verdict.reason).catch(() => undefined);
      this.deps.log('warn', 'invalid storage-path beat', { reason: verdict.reason, detail: verdict.detail });
      return { arrivedAtMs: last?.arrivedAtMs, beat: last?.beat, unreadable: false, invalid: verdict.reason };
    }
    // The beat is valid even if recording it fails; the next tick records it again.
    await store
      .recordBeat('storage', verdict.beat, nowMs, observationTtlSeconds(settings), AbortSignal.timeout(timeoutMs))
      .catch((error: unknown) => {
        this.deps.log('warn', 'storage-path beat not recorded', { error: String(error) });
      });
    return { arrivedAtMs: nowMs, beat: verdict.beat, unreadable: false };
  }

  /**
   * Starts a failover attempt: its own execution name, the renewal it saw (the fence's
   * conditional write names it, so one attempt per epoch wins), and at most one attempt per
   * FAILOVER_RETRY_MS (lambdas/core/site.ts) in one episode of a lost peer.
   */
  private async startFailover(
    cluster: ClusterRecord,
    decision: Extract<TakeoverDecision, { start: true }>,
    evidence: Record<string, unknown>,
    nowMs: number,
    monoMs: number,
  ): Promise<boolean> {
    const { failoverStateMachineArn, settings } = this.deps;
    if (failoverStateMachineArn === undefined || settings.tuning.failoverMode === 'manual') return false;
    const name = `failover-e${cluster.epoch + 1}-${Math.round(nowMs)}`;
    try {
      await this.deps.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: failoverStateMachineArn,
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
        }),
      );
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
}

function roundAll(values: Readonly<Record<PathId, number>>): Record<PathId, number> {
  return { network: Math.round(values.network * 100) / 100, storage: Math.round(values.storage * 100) / 100 };
}

/** What mirrorbeat does next after a notice, in words for the person reading it. */
function nextStep(
  kind: NoticeKind,
  settings: Settings,
  path: PathId | undefined,
  primary: boolean,
  hold: string | undefined,
): string {
  const { site, peer, region, tuning } = settings;
  const failoverByHand = `npx mirrorbeat failover --site ${site} --region ${region}`;
  switch (kind) {
    case 'path-failed':
      return `no failover while another enabled path delivers valid beats; check the ${path ?? ''} path, or switch it off for maintenance: npx mirrorbeat path deactivate ${path ?? '<path>'} --reason "..."`;
    case 'path-recovered':
      return 'nothing: the path counts again';
    case 'peer-lost':
      if (primary)
        return `${site} is primary and stays primary; ${peer} no longer protects it: bring ${peer} back (its region, its heartbeat module)`;
      if (hold !== undefined && tuning.consistency === 'strong')
        return `${hold}: check the paths between the sites; npx mirrorbeat status --region ${region}`;
      return tuning.failoverMode === 'manual'
        ? `failoverMode is manual: decide, then run ${failoverByHand}`
        : `the failover workflow starts in ${site} (failoverMode ${tuning.failoverMode}); follow it with npx mirrorbeat status`;
    case 'peer-failure-reported':
      if (primary) return `${site} is primary; the failure is ${peer}'s, which is secondary: fix its workload`;
      return tuning.onPeerFailure === 'failover'
        ? `health.onPeerFailure is failover: the failover workflow starts in ${site}`
        : `notify only (health.onPeerFailure is notify): fix the workload, or fail over by hand: ${failoverByHand}`;
    case 'unprotected':
      return 'no enabled path: mirrorbeat cannot fail over; activate one: npx mirrorbeat path activate network';
    default:
      return '';
  }
}
