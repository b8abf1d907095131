import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { MetricPoint } from '../core/emf';
import { type Heartbeat, signHeartbeat } from '../core/message';
import { allCountedPathsFailed, pathState, type PathState, siteVerdict, type SiteVerdict } from '../core/verdict';
import { type ClusterRecord, INITIAL_CLUSTER } from '../core/volume';
import { DetailType, EVENT_SOURCE, MetricName, PATHS, type PathId, type PathMode } from '../core/wire';
import { checkPeerBeat, observationTtlSeconds } from '../shared/acceptance';
import type { Settings } from '../shared/settings';
import type { SigningKeys } from '../shared/keys';
import type { Observation, SiteStore } from '../shared/store';

export interface ModuleDeps {
  readonly settings: Settings;
  readonly store: SiteStore;
  readonly keys: SigningKeys;
  readonly peerEvents: EventBridgeClient;
  readonly peerBusArn: string;
  readonly sfn: SFNClient;
  readonly failoverStateMachineArn: string | undefined;
  readonly log: (level: 'info' | 'warn', message: string, detail?: Record<string, unknown>) => void;
}

/** What one tick learned of the peer on one path. */
interface PeerRead {
  /** Arrival of the last valid beat recorded, when the read succeeded and one exists. */
  readonly arrivedAtMs?: number;
  readonly unreadable: boolean;
  readonly invalid?: string;
}

export interface TickReport {
  readonly serial: number;
  readonly sent: Readonly<Record<PathId, 'sent' | 'failed' | 'disabled'>>;
  readonly states: Readonly<Record<PathId, PathState>>;
  readonly verdict: SiteVerdict;
  readonly failoverStarted: boolean;
  readonly metrics: readonly MetricPoint[];
}

/** How long one path's send or read may take; a slow path must not hold up the tick or the other path. */
const pathTimeoutMs = (intervalSeconds: number) => Math.max(500, Math.floor(intervalSeconds * 1000 * 0.4));

/**
 * The heartbeat module of one site (the seed's heartbeat check module): each tick it sends
 * this site's signed beat on every enabled path and checks the peer's beats on both.
 * State that must outlive a tick (last cluster record, when all paths failed) lives here;
 * state that must outlive the invocation lives in the tables.
 */
export class HeartbeatModule {
  private cluster: ClusterRecord | undefined;
  private fallbackSerial = 0;
  private allFailedSinceMs: number | undefined;
  private readonly modes: Record<PathId, PathMode> = { network: 'enabled', storage: 'enabled' };
  private readonly lastArrivalMs: Partial<Record<PathId, number>> = {};

  constructor(private readonly deps: ModuleDeps) {}

  async tick(nowMs: number): Promise<TickReport> {
    const { settings, store } = this.deps;
    const timeout = pathTimeoutMs(settings.tuning.intervalSeconds);
    const [cluster, serial] = await Promise.all([this.readCluster(timeout), this.nextSerial(timeout), this.refreshModes(timeout)]);
    const key = await this.deps.keys.current();
    const beat = signHeartbeat(
      {
        v: 1,
        cluster: settings.cluster,
        site: settings.site,
        region: settings.region,
        serial,
        sentAt: new Date(nowMs).toISOString(),
        epoch: cluster.epoch,
        role: cluster.primary === settings.site ? 'primary' : 'secondary',
        health: 'ok',
      },
      key,
    );

    // Both paths go out together, each under its own timeout: no shared await can stall one behind the other.
    const [network, storage] = await Promise.all([
      this.send('network', timeout, (signal) => this.sendNetwork(beat, signal)),
      this.send('storage', timeout, (signal) => store.writeBeat(beat, signal)),
    ]);
    // The two reads of the peer are independent too: storage from the replica, network from the local observations.
    const [storageRead, networkRead] = await Promise.all([
      this.receiveStorageBeat(nowMs, cluster, timeout),
      this.observe(store.readObservation('network', settings.peer, AbortSignal.timeout(timeout))),
    ]);
    const reads: Record<PathId, PeerRead> = { network: networkRead, storage: storageRead };

    const states = {} as Record<PathId, PathState>;
    const metrics: MetricPoint[] = [{ name: MetricName.ticks, value: 1, unit: 'Count' }];
    for (const path of PATHS) {
      const read = reads[path];
      // A failed read keeps the last arrival this invocation knew, so the path ages instead of vanishing.
      if (read.arrivedAtMs !== undefined) this.lastArrivalMs[path] = read.arrivedAtMs;
      const lastValidArrivalMs = read.unreadable ? this.lastArrivalMs[path] : read.arrivedAtMs;
      const state = pathState({ path, mode: this.modes[path], lastValidArrivalMs, unreadable: read.unreadable }, nowMs, settings.tuning.deadlineFloorSeconds * 1000, settings.tuning.intervalSeconds * 1000);
      states[path] = state;
      metrics.push({ name: MetricName.pathFailed, value: state === 'failed' ? 1 : 0, unit: 'Count', dimensions: { Path: path } });
      if (lastValidArrivalMs !== undefined) metrics.push({ name: MetricName.peerBeatAge, value: (nowMs - lastValidArrivalMs) / 1000, unit: 'Seconds', dimensions: { Path: path } });
    }
    metrics.push(
      { name: MetricName.beatsSent, value: network === 'sent' ? 1 : 0, unit: 'Count', dimensions: { Path: 'network' } },
      { name: MetricName.sendFailures, value: network === 'failed' ? 1 : 0, unit: 'Count', dimensions: { Path: 'network' } },
      { name: MetricName.beatsSent, value: storage === 'sent' ? 1 : 0, unit: 'Count', dimensions: { Path: 'storage' } },
      { name: MetricName.sendFailures, value: storage === 'failed' ? 1 : 0, unit: 'Count', dimensions: { Path: 'storage' } },
    );
    if (storageRead.invalid !== undefined) metrics.push({ name: MetricName.invalidBeats, value: 1, unit: 'Count', dimensions: { Path: 'storage' } });

    const pathStates = PATHS.map((p) => states[p]);
    this.allFailedSinceMs = allCountedPathsFailed(pathStates) ? (this.allFailedSinceMs ?? nowMs) : undefined;
    const verdict = siteVerdict(pathStates, false, this.allFailedSinceMs, nowMs, settings.tuning.confirmationWindowSeconds * 1000);
    const failoverStarted = verdict === 'peer-lost' && cluster.primary !== settings.site ? await this.startFailover(cluster) : false;
    return { serial, sent: { network, storage }, states, verdict, failoverStarted, metrics };
  }

  private async readCluster(timeoutMs: number): Promise<ClusterRecord> {
    try {
      this.cluster = await this.deps.store.readCluster(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      this.deps.log('warn', 'cluster record unreadable; using the last one read', { error: String(error) });
    }
    return this.cluster ?? INITIAL_CLUSTER;
  }

  private async nextSerial(timeoutMs: number): Promise<number> {
    try {
      this.fallbackSerial = await this.deps.store.nextSerial(this.deps.settings.site, AbortSignal.timeout(timeoutMs));
    } catch (error) {
      // The counter is down with the local table; the network beat must still go out.
      this.fallbackSerial += 1;
      this.deps.log('warn', 'serial counter unavailable; continuing from the last serial of this invocation', { error: String(error) });
    }
    return this.fallbackSerial;
  }

  private async refreshModes(timeoutMs: number): Promise<void> {
    await Promise.all(
      PATHS.map(async (path) => {
        try {
          this.modes[path] = await this.deps.store.readPathMode(this.deps.settings.site, path, AbortSignal.timeout(timeoutMs));
        } catch {
          // Keep the last known mode: a registry read failure is not an operator's command.
        }
      }),
    );
  }

  /**
   * Runs one path's send under its own deadline. The deadline is enforced here, not only
   * through the SDK's abort signal: a stuck credential fetch or retry must not hold the tick.
   */
  private async send(path: PathId, timeoutMs: number, action: (signal: AbortSignal) => Promise<unknown>): Promise<'sent' | 'failed' | 'disabled'> {
    if (this.modes[path] === 'disabled') return 'disabled';
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
      new PutEventsCommand({ Entries: [{ EventBusName: this.deps.peerBusArn, Source: EVENT_SOURCE, DetailType: DetailType.heartbeat, Detail: JSON.stringify(beat) }] }),
      { abortSignal: signal },
    );
    if ((out.FailedEntryCount ?? 0) > 0) throw new Error(`PutEvents refused the beat: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'} ${out.Entries?.[0]?.ErrorMessage ?? ''}`);
  }

  private async observe(read: Promise<Observation | undefined>): Promise<PeerRead> {
    try {
      const seen = await read;
      return { arrivedAtMs: seen?.arrivedAtMs, unreadable: false };
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
      [raw, last, keys] = await Promise.all([store.readBeat(settings.peer, AbortSignal.timeout(timeoutMs)), store.readObservation('storage', settings.peer, AbortSignal.timeout(timeoutMs)), this.deps.keys.all()]);
    } catch (error) {
      this.deps.log('warn', 'storage path unreadable', { error: String(error) });
      return { unreadable: true };
    }
    // Nothing written yet, or the same item read again: no replay, the peer simply has not written since.
    if (raw === undefined || (last !== undefined && (raw as { serial?: unknown }).serial === last.serial)) return { arrivedAtMs: last?.arrivedAtMs, unreadable: false };
    const verdict = checkPeerBeat(raw, settings, { keys, last, epoch: cluster.epoch, nowMs });
    if (!verdict.ok) {
      await store.countInvalid('storage', verdict.reason).catch(() => undefined);
      this.deps.log('warn', 'invalid storage-path beat', { reason: verdict.reason, detail: verdict.detail });
      return { arrivedAtMs: last?.arrivedAtMs, unreadable: false, invalid: verdict.reason };
    }
    // The beat is valid even if recording it fails; the next tick records it again.
    await store.recordBeat('storage', verdict.beat, nowMs, observationTtlSeconds(settings), AbortSignal.timeout(timeoutMs)).catch((error: unknown) => {
      this.deps.log('warn', 'storage-path beat not recorded', { error: String(error) });
    });
    return { arrivedAtMs: nowMs, unreadable: false };
  }

  /** One execution per epoch: the execution name makes a second start for the same epoch a no-op. */
  private async startFailover(cluster: ClusterRecord): Promise<boolean> {
    const { failoverStateMachineArn, settings } = this.deps;
    if (failoverStateMachineArn === undefined || settings.tuning.failoverMode === 'manual') return false;
    try {
      await this.deps.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: failoverStateMachineArn,
          name: `failover-epoch-${cluster.epoch + 1}`,
          input: JSON.stringify({ reason: 'peer-lost', requestedBy: 'heartbeat-module', expectedEpoch: cluster.epoch, from: cluster.primary, to: settings.site }),
        }),
      );
      this.deps.log('warn', 'peer lost on every enabled path: failover started', { epoch: cluster.epoch + 1 });
      return true;
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return false;
      throw error;
    }
  }
}
