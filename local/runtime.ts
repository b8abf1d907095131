import './polyfill';
import { randomUUID } from 'node:crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client } from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { ExecutionAlreadyExists, SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { type HandlerName, SiteNames } from '../lib/names';
import { embeddedMetricLines } from '../lambdas/core/emf';
import { type Health, type Heartbeat, signHeartbeat } from '../lambdas/core/message';
import { NOTICE_KINDS, type NoticeKind } from '../lambdas/core/notices';
import { executionName, parseStepInput } from '../lambdas/core/steps';
import type { PathState, SiteVerdict } from '../lambdas/core/verdict';
import { DetailType, EVENT_SOURCE, MetricName, PATHS, type PathId, peerOf, SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { FAILOVER_STEPS, type FailoverDeps, runFailoverStep } from '../lambdas/failover-steps/steps';
import { HeartbeatModule, pathTimeoutMs, type TickReport } from '../lambdas/heartbeat-module/module';
import { receiveNetworkEvent } from '../lambdas/network-receiver/receiver';
import { PATH_CONTROL_STEPS, type PathControlDeps, runPathControlStep } from '../lambdas/path-control-steps/steps';
import type { SigningKeys } from '../lambdas/shared/keys';
import { NoticeJournal } from '../lambdas/shared/journal';
import { NOTIFY_STEP } from '../lambdas/shared/workflow-notices';
import { type NoticeDesk, siteNoticeDesk } from '../lambdas/shared/notifier';
import type { Settings } from '../lambdas/shared/settings';
import type { SiteStore } from '../lambdas/shared/store';
import { type ClusterStatus, readClusterStatus } from '../bin/commands/status';
import { type SiteDefinitions, LOCAL_ACCOUNT } from './definitions';
import { asHandler, type CallSink, recordingClient } from './calls';
import { emulate } from './emulate';
import { Random } from './random';
import { ReplicationLink } from './replication';
import { QuorumVolume } from './quorum';
import { createLocalSite } from './sites';
import { createTable, regionDocumentClient } from './dynamo';
import type { Scenario, ScenarioEvent } from './scenario';

/** The report of a run (a contract; docs/SCENARIOS.md). */
export interface Report {
  readonly scenario: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly failovers: { startedAtMs: number; promotedAtMs: number | null; from: SiteId; to: SiteId; epoch: number; reason: string }[];
  readonly detectionMs: number | null;
  readonly maxSimultaneousPrimaries: number;
  /** Virtual ms after the first primary during which no site acted as primary (a crashed or frozen site acts as nothing). */
  readonly noPrimaryMs: number;
  readonly primaryTimeline: { atMs: number; site: SiteId; epoch: number }[];
  /** Notices that reached a topic; `folded` on a summary: how many notices of its kind and path it stands for. */
  readonly notifications: { atMs: number; site: SiteId; kind: NoticeKind; path?: PathId; folded?: number }[];
  readonly invalidBeats: Record<PathId, Record<string, number>>;
  readonly pathStates: { atMs: number; site: SiteId; path: PathId; state: PathState }[];
}

/** One line of the readable account of a run; also the runtime's own event log. */
export interface TimelineEntry {
  readonly atMs: number;
  readonly site?: SiteId;
  readonly kind: 'fault' | 'command' | 'beats' | 'path' | 'verdict' | 'notice' | 'workflow' | 'role';
  readonly text: string;
}

export interface SimulationOptions {
  readonly dynamoEndpoint: string;
  readonly definitions: Readonly<Record<SiteId, SiteDefinitions>>;
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  readonly onTimeline?: (entry: TimelineEntry) => void;
  /** Every SDK command a handler sends, with the deployed names of the tables (the IAM check). */
  readonly onCall?: CallSink;
}

/** Realistic latencies (ms): cross-region one-way for PutEvents, global-table replication, one Lambda step. */
const NETWORK_MEDIAN_MS = 45;
const REPLICATION_MEDIAN_MS = 600;
const STEP_MEDIAN_MS = 120;
/** The heartbeat module's per-minute invocation ticks for this long (lambdas/heartbeat-module/index.ts). */
const INVOCATION_RUNS_MS = 58_000;
const BEAT_SUMMARY_EVERY_MS = 10_000;

interface Scheduled {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => Promise<void>;
}

interface Execution {
  status: 'running' | 'waiting' | 'done';
  abort: () => void;
}

/** One workflow execution, for benchmarks and the runtime's own account. */
export interface ExecutionRecord {
  readonly site: SiteId;
  readonly machine: string;
  readonly name: string;
  readonly startedAtMs: number;
  endedAtMs: number | null;
  transitions: number;
  outcome: string | null;
}

interface Site {
  readonly id: SiteId;
  readonly settings: Settings;
  readonly db: DynamoDBDocumentClient;
  readonly store: SiteStore;
  readonly module: HeartbeatModule;
  crashed: boolean;
  isolated: boolean;
  pausedUntilMs: number;
  skewMs: number;
  health: Health;
  role: 'primary' | 'secondary' | undefined;
  epoch: number | undefined;
  verdict: SiteVerdict | undefined;
  readonly states: Partial<Record<PathId, PathState>>;
  /** Valid network beats this site received, kept for replay faults. */
  readonly received: Heartbeat[];
  readonly executions: Map<string, Execution>;
  /** Failover executions waiting for `mirrorbeat approve` / `reject`, oldest first. */
  readonly approvals: { name: string; settle: (error?: Error) => void }[];
  readonly counts: Record<PathId, { sent: number; failed: number; accepted: number }>;
}

/**
 * Runs one scenario: two sites on DynamoDB Local with the deployed handler code, the
 * replication link, the network path through a local bus that routes by the synthesized
 * rules, and the synthesized workflows under aws-local-stepfunctions, all on one virtual
 * clock. Events run one at a time in time order, each to its end (ties in scheduling
 * order), so a seed gives one run.
 */
export interface SimulationResult {
  readonly report: Report;
  readonly timeline: TimelineEntry[];
  readonly executions: readonly ExecutionRecord[];
  /** Distinct custom metric series (name and dimensions) each site's heartbeat module published. */
  readonly metricSeries: Readonly<Record<SiteId, number>>;
  /** Mean bytes of embedded-metric-format log a tick writes. */
  readonly emfBytesPerTick: number;
  /** What `mirrorbeat status` would show at the end of the run. */
  readonly status: ClusterStatus;
  /** The runtime's own account, for invariant checks. */
  readonly log: RuntimeLog;
  /** The first notices as the topics delivered them to e-mail subscribers: subject and text body. */
  readonly messages: readonly DeliveredMessage[];
}

export interface DeliveredMessage {
  readonly atMs: number;
  readonly site: SiteId;
  readonly topic: 'warning' | 'critical';
  readonly subject: string;
  readonly body: string;
}

/** How many delivered messages a run keeps whole. */
const MESSAGES_KEPT = 100;

/** What the runtime saw happen, beyond the report: the evidence invariants are checked against. */
export interface RuntimeLog {
  /** Valid peer beats a site accepted, by path, with scenario time (network: at the receiver; storage: at the reading tick). */
  readonly accepted: { atMs: number; site: SiteId; path: PathId; serial: number }[];
  /** Times an accepted serial on a path was lower than one accepted before it. */
  serialRegressions: number;
  /** Notices the heartbeat modules raised; how many reached the topic, how many the rate limit folded. */
  noticesRaised: number;
  noticesDelivered: number;
  noticesFolded: number;
  /** Notices any handler's desk folded; of them, how many a summary that reached the topic counted, and how many wait in windows still open at the end. */
  foldedAll: number;
  noticesSummarized: number;
  foldedOpenAtEnd: number;
}

export async function simulate(scenario: Scenario, options: SimulationOptions): Promise<SimulationResult> {
  const simulation = new Simulation(scenario, options);
  try {
    await simulation.setUp();
    return await simulation.run();
  } finally {
    await simulation.tearDown();
  }
}

class Simulation {
  private readonly random: Random;
  private readonly seed: number;
  private readonly startMs = Math.floor(Date.now() / 60_000) * 60_000;
  private nowMs = this.startMs;
  private seq = 0;
  private queue: Scheduled[] = [];
  private readonly timeline: TimelineEntry[] = [];
  private readonly sites = {} as Record<SiteId, Site>;
  private link!: ReplicationLink;
  private readonly network = { partitioned: false, lossRate: 0, lagMs: 0 };
  private storagePartitioned = false;
  /** The witness region of quorum mode, and each site's leg to it. */
  private readonly witness = { crashed: false, isolated: false, pausedUntilMs: 0, cut: { production: false, standby: false } as Record<SiteId, boolean> };
  private quorum: QuorumVolume | undefined;
  /** Time without a primary: when the current gap began, and the gaps so far. */
  private noPrimary = { sinceMs: undefined as number | undefined, totalMs: 0, seenPrimary: false };
  private readonly key: Buffer;
  private readonly tables: { db: DynamoDBDocumentClient; name: string }[] = [];
  private readonly intervalMs: number;

  private readonly failovers: Report['failovers'] = [];
  private readonly notifications: Report['notifications'] = [];
  private readonly messages: DeliveredMessage[] = [];
  private readonly pathStates: Report['pathStates'] = [];
  private readonly primaryTimeline: Report['primaryTimeline'] = [];
  private readonly invalidBeats: Report['invalidBeats'] = { network: {}, storage: {} };
  private maxSimultaneousPrimaries = 0;
  private readonly executions: ExecutionRecord[] = [];
  private readonly series: Record<SiteId, Set<string>> = { production: new Set(), standby: new Set() };
  private ticks = 0;
  private readonly log: RuntimeLog = { accepted: [], serialRegressions: 0, noticesRaised: 0, noticesDelivered: 0, noticesFolded: 0, foldedAll: 0, noticesSummarized: 0, foldedOpenAtEnd: 0 };
  private readonly lastSerial = new Map<string, number>();
  private emfBytes = 0;
  private firstFatalAtMs: number | undefined;
  /** Rejecters of workflow tasks that have not settled yet. */
  private readonly pendingTasks = new Set<(error: Error) => void>();

  constructor(
    private readonly scenario: Scenario,
    private readonly options: SimulationOptions,
  ) {
    this.seed = options.seed ?? scenario.seed ?? 1;
    this.random = new Random(this.seed);
    this.key = Buffer.from(Array.from({ length: 32 }, () => Math.floor(this.random.next() * 256)));
    this.intervalMs = scenario.config.intervalSeconds * 1000;
  }

  private get at(): number {
    return this.nowMs - this.startMs;
  }

  // ---- setting up ---------------------------------------------------------------------

  async setUp(): Promise<void> {
    const config = this.scenario.config;
    const run = `sim-${randomUUID().slice(0, 8)}`;
    const volume = `mirrorbeat-${config.clusterName}-${run}-heartbeat-volume`;
    for (const id of SITE_IDS) {
      const observations = `mirrorbeat-${config.clusterName}-${run}-${id}-observations`;
      const { settings, db, store } = await createLocalSite(this.options.dynamoEndpoint, config, id, { volume, observations });
      if (this.options.onCall !== undefined) {
        const deployed = { [volume]: this.names(id).heartbeatVolume, [observations]: this.names(id).observations };
        recordingClient(db, (input) => (typeof input.TableName === 'string' ? { ...input, TableName: deployed[input.TableName] ?? input.TableName } : input));
      }
      this.tables.push({ db, name: volume }, { db, name: observations });
      const site: Site = {
        id,
        settings,
        db,
        store,
        module: undefined as unknown as HeartbeatModule,
        crashed: false,
        isolated: false,
        pausedUntilMs: 0,
        skewMs: 0,
        health: 'ok',
        role: undefined,
        epoch: undefined,
        verdict: undefined,
        states: {},
        received: [],
        executions: new Map(),
        approvals: [],
        counts: { network: { sent: 0, failed: 0, accepted: 0 }, storage: { sent: 0, failed: 0, accepted: 0 } },
      };
      (site as { module: HeartbeatModule }).module = this.heartbeatModule(site);
      this.sites[id] = site;
    }
    this.link = new ReplicationLink(
      [
        { name: 'production', db: this.sites.production.db, table: volume },
        { name: 'standby', db: this.sites.standby.db, table: volume },
      ],
      () => this.random.logNormal(REPLICATION_MEDIAN_MS, 0.6),
      () => this.random.next(),
    );
    if (config.consistency === 'strong' && config.witnessRegion !== undefined) {
      // Quorum mode: the cluster record behind the majority rule of production, standby and witness.
      const db = regionDocumentClient(this.options.dynamoEndpoint, config.witnessRegion);
      const name = `mirrorbeat-${config.clusterName}-${run}-quorum`;
      await createTable(db, name);
      this.tables.push({ db, name });
      this.quorum = new QuorumVolume({ db, name }, { sitesLinked: () => this.sitesLinked(), witnessLinked: (site) => this.witnessLinked(site) });
      for (const id of SITE_IDS) this.quorum.bind(this.sites[id].db, id);
    }
  }

  private sitesLinked(): boolean {
    return !this.storagePartitioned && !this.sites.production.isolated && !this.sites.standby.isolated;
  }

  private witnessDown(): boolean {
    return this.witness.crashed || this.witness.isolated || this.nowMs < this.witness.pausedUntilMs;
  }

  private witnessLinked(site: SiteId): boolean {
    return !this.witnessDown() && !this.sites[site].isolated && !this.witness.cut[site];
  }

  /** After every event: whether any site acts as primary, for the time without one. */
  private trackPrimaries(): void {
    const acting = Object.values(this.sites).some((s) => !s.crashed && this.nowMs >= s.pausedUntilMs && s.role === 'primary');
    const gap = this.noPrimary;
    if (acting) {
      gap.seenPrimary = true;
      if (gap.sinceMs !== undefined) gap.totalMs += this.nowMs - gap.sinceMs;
      gap.sinceMs = undefined;
    } else if (gap.seenPrimary && gap.sinceMs === undefined) {
      gap.sinceMs = this.nowMs;
    }
  }

  async tearDown(): Promise<void> {
    for (const site of Object.values(this.sites)) for (const execution of site.executions.values()) execution.abort();
    // An aborted execution stops after its current state, once that state's task settles.
    for (const pending of [...this.pendingTasks]) pending(Object.assign(new Error('the simulation ended'), { name: 'SimulationEnded' }));
    this.pendingTasks.clear();
    await Promise.all(this.tables.map(({ db, name }) => db.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined)));
  }

  private keys(): SigningKeys {
    return { current: async () => this.key, all: async () => [this.key] } as unknown as SigningKeys;
  }

  private names(site: SiteId): SiteNames {
    return new SiteNames(this.scenario.config.clusterName, site);
  }

  private arn(site: Site, service: string, resource: string): string {
    return `arn:aws:${service}:${site.settings.region}:${LOCAL_ACCOUNT}:${resource}`;
  }

  private heartbeatModule(site: Site): HeartbeatModule {
    const { settings } = site;
    const peerRegion = settings.peerRegion;
    return new HeartbeatModule({
      settings,
      store: site.store,
      keys: this.keys(),
      peerEvents: emulate(new EventBridgeClient({ region: peerRegion }), async (_command, input) => this.putEvents(site, input)),
      peerBusArn: `arn:aws:events:${peerRegion}:${LOCAL_ACCOUNT}:event-bus/${this.names(settings.peer).siteBus}`,
      sfn: emulate(new SFNClient({ region: settings.region }), async (command, input) => this.stepFunctions(site, command, input)),
      failoverStateMachineArn: this.arn(site, 'states', `stateMachine:${this.names(site.id).stateMachine('failover')}`),
      notices: this.moduleNoticeDesk(site),
      health: { read: async () => ({ health: site.health, evidence: site.health === 'ok' ? [] : [`scenario set health ${site.health}`] }) },
      fenceHook: async (event) => {
        this.note({ site: site.id, kind: 'role', text: `fence hook called: ${String(event.why)}` });
      },
      log: () => undefined,
    });
  }

  // ---- the event loop -----------------------------------------------------------------

  private schedule(atMs: number, run: () => Promise<void>): void {
    const event: Scheduled = { atMs: Math.max(atMs, this.nowMs), seq: this.seq++, run };
    // Binary search for the first event that runs after this one.
    let low = 0;
    let high = this.queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.queue[mid] as Scheduled;
      if (other.atMs < event.atMs || (other.atMs === event.atMs && other.seq < event.seq)) low = mid + 1;
      else high = mid;
    }
    this.queue.splice(low, 0, event);
  }

  async run(): Promise<SimulationResult> {
    const endMs = this.startMs + this.scenario.durationMs;
    for (const site of SITE_IDS) {
      const phase = this.random.between(0, this.intervalMs);
      for (let minute = 0; minute * 60_000 < this.scenario.durationMs; minute += 1) {
        // The scheduler fires each minute with a little jitter; each invocation ticks for 58 s.
        const invocation = this.startMs + minute * 60_000 + phase + this.random.between(0, 400);
        this.schedule(invocation, async () => this.invocation(this.sites[site], invocation, endMs));
      }
    }
    for (const event of this.scenario.events) this.schedule(this.startMs + event.atMs, async () => this.apply(event));
    for (let t = BEAT_SUMMARY_EVERY_MS; t <= this.scenario.durationMs; t += BEAT_SUMMARY_EVERY_MS) this.schedule(this.startMs + t, async () => this.summarizeBeats());

    while (this.queue.length > 0) {
      const next = this.queue[0] as Scheduled;
      if (next.atMs > endMs) break;
      this.queue.shift();
      this.nowMs = next.atMs;
      await next.run();
      await this.settle();
      this.trackPrimaries();
    }
    this.nowMs = endMs;
    if (this.noPrimary.sinceMs !== undefined) this.noPrimary.totalMs += endMs - this.noPrimary.sinceMs;
    // Folded notices whose window is still open: their summary comes after the run.
    for (const site of Object.values(this.sites)) {
      const open = await new NoticeJournal(site.db, site.settings.heartbeatVolume).closedWindows(site.id, this.nowMs, -365 * 86_400_000);
      this.log.foldedOpenAtEnd += open.reduce((sum, w) => sum + w.folded, 0);
    }
    const metricSeries = { production: this.series.production.size, standby: this.series.standby.size };
    const emfBytesPerTick = this.ticks === 0 ? 0 : Math.round(this.emfBytes / this.ticks);
    const status = await readClusterStatus(
      this.scenario.config.clusterName,
      SITE_IDS.map((id) => ({ site: id, region: this.sites[id].settings.region, db: this.sites[id].db, heartbeatVolume: this.sites[id].settings.heartbeatVolume, observations: this.sites[id].settings.observations })),
      this.nowMs,
    );
    return { report: this.report(), timeline: this.timeline, executions: this.executions, metricSeries, emfBytesPerTick, status, log: this.log, messages: this.messages };
  }

  /** Lets every workflow execution that a finished event woke reach its next task (or its end). */
  private async settle(): Promise<void> {
    for (let spins = 0; ; spins += 1) {
      const running = Object.values(this.sites).some((s) => [...s.executions.values()].some((e) => e.status === 'running'));
      if (!running) return;
      if (spins > 100_000) throw new Error('a workflow execution neither finished nor reached a task');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private note(entry: Omit<TimelineEntry, 'atMs'>): void {
    const full = { atMs: this.at, ...entry };
    this.timeline.push(full);
    this.options.onTimeline?.(full);
  }

  private async invocation(site: Site, startedAtMs: number, endMs: number): Promise<void> {
    for (let k = 0; k * this.intervalMs < INVOCATION_RUNS_MS; k += 1) {
      const at = startedAtMs + k * this.intervalMs;
      // A new invocation first forgets the lease its container held (lambdas/heartbeat-module/index.ts does the same).
      if (at <= endMs) this.schedule(at, async () => this.tick(site, k === 0));
    }
  }

  // ---- the heartbeat module, as the scheduler runs it -------------------------------------

  private async tick(site: Site, invocationStart = false): Promise<void> {
    if (site.crashed || this.nowMs < site.pausedUntilMs) return;
    if (invocationStart) site.module.beginInvocation();
    // The wall clock carries the scenario's skew; the monotonic clock is the virtual one.
    const report = await asHandler(this.caller(site, 'heartbeat-module'), () => site.module.tick(this.nowMs + site.skewMs, this.nowMs));
    this.observeTick(site, report);
    await this.replicate(site);
  }

  private observeTick(site: Site, report: TickReport): void {
    this.ticks += 1;
    this.log.noticesRaised += report.notices.length;
    for (const line of embeddedMetricLines(site.settings.cluster, site.id, report.metrics, this.nowMs)) this.emfBytes += line.length + 1;
    for (const path of PATHS) {
      const sent = report.sent[path];
      if (sent === 'sent') site.counts[path].sent += 1;
      if (sent === 'failed') site.counts[path].failed += 1;
      if (path === 'storage' && report.arrived.storage) {
        site.counts.storage.accepted += 1;
        const serial = report.peerSerials.storage;
        if (serial !== undefined) this.accept(site, 'storage', serial);
      }
      const state = report.states[path];
      if (site.states[path] !== state) {
        const previous = site.states[path];
        site.states[path] = state;
        this.pathStates.push({ atMs: this.at, site: site.id, path, state });
        if (previous !== undefined || state !== 'pending') {
          this.note({ site: site.id, kind: 'path', text: `${path} path ${state}${state === 'failed' || state === 'suspect' ? ` (phi ${report.phi[path] >= 100 ? '>100' : report.phi[path].toFixed(1)}, deadline ${(report.deadlineMs[path] / 1000).toFixed(1)} s)` : ''}` });
        }
      }
    }
    for (const point of report.metrics) {
      this.series[site.id].add(`${point.name}${JSON.stringify(point.dimensions ?? {})}`);
      const reason = point.dimensions?.Reason;
      if (point.name === MetricName.invalidBeats && reason !== undefined) this.countInvalid('storage', reason);
    }
    if (report.verdict !== site.verdict) {
      if (site.verdict !== undefined || report.verdict !== 'ok') this.note({ site: site.id, kind: 'verdict', text: `verdict ${report.verdict}` });
      site.verdict = report.verdict;
    }
    if (report.role !== site.role || report.epoch !== site.epoch) {
      const wasPrimary = site.role === 'primary';
      site.role = report.role;
      site.epoch = report.epoch;
      if (report.role === 'primary') {
        this.primaryTimeline.push({ atMs: this.at, site: site.id, epoch: report.epoch });
        this.note({ site: site.id, kind: 'role', text: `acts as primary at epoch ${report.epoch}` });
      } else if (wasPrimary) {
        this.note({ site: site.id, kind: 'role', text: `stops acting as primary (epoch ${report.epoch})` });
      }
    }
    // A crashed or frozen site acts as nothing; a paused one re-reads the cluster record before it acts again.
    const primaries = Object.values(this.sites).filter((s) => !s.crashed && this.nowMs >= s.pausedUntilMs && s.role === 'primary').length;
    this.maxSimultaneousPrimaries = Math.max(this.maxSimultaneousPrimaries, primaries);
  }

  private accept(site: Site, path: PathId, serial: number): void {
    const key = `${site.id}/${path}`;
    if (serial < (this.lastSerial.get(key) ?? 0)) this.log.serialRegressions += 1;
    this.lastSerial.set(key, Math.max(serial, this.lastSerial.get(key) ?? 0));
    this.log.accepted.push({ atMs: this.at, site: site.id, path, serial });
  }

  private countInvalid(path: PathId, reason: string): void {
    this.invalidBeats[path][reason] = (this.invalidBeats[path][reason] ?? 0) + 1;
  }

  private summarizeBeats(): void {
    const parts = SITE_IDS.map((id) => {
      const s = this.sites[id];
      const peer = this.sites[peerOf(id)];
      const path = (p: PathId) => `${p} ${s.counts[p].sent} sent${s.counts[p].failed > 0 ? ` (${s.counts[p].failed} failed)` : ''}, ${peer.counts[p].accepted} accepted`;
      return `${id}→${peerOf(id)}: ${path('network')}; ${path('storage')}`;
    });
    for (const s of Object.values(this.sites)) for (const p of PATHS) s.counts[p] = { sent: 0, failed: 0, accepted: 0 };
    this.note({ kind: 'beats', text: `last ${BEAT_SUMMARY_EVERY_MS / 1000} s: ${parts.join(' | ')}` });
  }

  // ---- the storage path: the replication link -------------------------------------------

  /** Hands what a site just wrote to its replica to the link. */
  private async replicate(written: Site): Promise<void> {
    this.link.partitioned = this.storagePartitioned || Object.values(this.sites).some((s) => s.isolated);
    const due = await this.link.capture(this.nowMs, [written.id === 'production' ? 0 : 1]);
    for (const at of new Set(due)) this.schedule(at, async () => this.deliverReplication());
  }

  private async deliverReplication(): Promise<void> {
    this.link.partitioned = this.storagePartitioned || Object.values(this.sites).some((s) => s.isolated);
    await this.link.deliver(this.nowMs);
  }

  // ---- the network path: the local bus ---------------------------------------------------

  private networkCut(from: Site, to: Site): boolean {
    return this.network.partitioned || from.isolated || to.isolated;
  }

  private async putEvents(from: Site, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const to = this.sites[peerOf(from.id)];
    if (this.networkCut(from, to)) throw Object.assign(new Error(`connect ETIMEDOUT events.${to.settings.region}.amazonaws.com:443 (network path cut)`), { name: 'TimeoutError' });
    const entries = (input.Entries ?? []) as { Source?: string; DetailType?: string; Detail?: string }[];
    for (const entry of entries) {
      if (this.random.chance(this.network.lossRate)) continue;
      const latency = this.random.logNormal(NETWORK_MEDIAN_MS, 0.35) + this.network.lagMs;
      const event = { source: entry.Source, 'detail-type': entry.DetailType, account: LOCAL_ACCOUNT, region: to.settings.region, detail: JSON.parse(entry.Detail ?? 'null') as unknown };
      this.schedule(this.nowMs + latency, async () => this.deliverEvent(from, to, event));
    }
    return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) };
  }

  private async deliverEvent(from: Site, to: Site, event: Record<string, unknown>): Promise<void> {
    if (to.crashed || this.networkCut(from, to)) return;
    if (this.nowMs < to.pausedUntilMs) {
      this.schedule(to.pausedUntilMs, async () => this.deliverEvent(from, to, event));
      return;
    }
    for (const rule of this.options.definitions[to.id].rules) {
      if (!matches(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        if (!target.startsWith('NetworkReceiver')) continue;
        const receipt = await asHandler(this.caller(to, 'network-receiver'), () => receiveNetworkEvent(event['detail-type'], event.detail, this.nowMs + to.skewMs, { settings: to.settings, store: to.store, keys: this.keys() }));
        if (receipt.accepted && 'control' in receipt) continue;
        if (receipt.accepted) {
          to.counts.network.accepted += 1;
          if ('serial' in receipt) this.accept(to, 'network', receipt.serial);
          to.received.push(event.detail as Heartbeat);
          if (to.received.length > 50) to.received.shift();
        } else if (receipt.reason !== 'stale') {
          this.countInvalid('network', receipt.reason);
        }
      }
    }
  }

  // ---- SNS, Step Functions, CloudWatch ---------------------------------------------------

  /** The emulated SNS topic: a notice as the notice desk published it (one document per subscriber protocol). */
  private async publish(site: Site, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const attributes = (input.MessageAttributes ?? {}) as Record<string, { StringValue?: string }>;
    const structured = input.MessageStructure === 'json' ? (safeJson(String(input.Message)) as Record<string, string> | null) : null;
    const document = (safeJson(structured?.lambda ?? String(input.Message)) ?? {}) as { kind?: string; path?: string; error?: unknown; why?: unknown; outcome?: unknown };
    const kind = attributes.kind?.StringValue ?? document.kind;
    const path = attributes.path?.StringValue ?? document.path;
    const folded = Number(attributes.folded?.StringValue ?? 0);
    if (kind !== undefined && (NOTICE_KINDS as readonly string[]).includes(kind)) {
      const notice = { atMs: this.at, site: site.id, kind: kind as NoticeKind, ...((PATHS as readonly string[]).includes(path ?? '') ? { path: path as PathId } : {}), ...(folded > 0 ? { folded } : {}) };
      this.notifications.push(notice);
      if (folded > 0) this.log.noticesSummarized += folded;
      const topic = typeof input.TopicArn === 'string' && /critical/i.test(input.TopicArn) ? 'critical' : 'warning';
      if (this.messages.length < MESSAGES_KEPT) this.messages.push({ atMs: this.at, site: site.id, topic, subject: String(input.Subject), body: structured?.email ?? String(input.Message) });
      // A workflow's notice carries the error it caught or why it stopped: say so, as the message body does.
      const error = document.error as { Cause?: unknown } | undefined;
      const lambdaError = typeof error?.Cause === 'string' ? (safeJson(error.Cause) as { errorMessage?: unknown } | null) : null;
      const why = typeof error?.Cause === 'string' ? `: ${typeof lambdaError?.errorMessage === 'string' ? lambdaError.errorMessage : error.Cause}` : typeof document.why === 'string' ? `: ${document.why}` : '';
      this.note({ site: site.id, kind: 'notice', text: `notice ${kind}${notice.path ? ` (${notice.path})` : ''}${folded > 0 ? ` summary: ${folded} folded` : ''} → ${topic} topic${why}`.slice(0, 400) });
    }
    return { MessageId: randomUUID() };
  }

  private async stepFunctions(site: Site, command: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (command !== 'StartExecutionCommand') throw new Error(`the local runtime does not emulate Step Functions ${command}`);
    const machine = String(input.stateMachineArn).endsWith('-failover') ? 'failover' : 'path-control';
    const name = typeof input.name === 'string' ? input.name : randomUUID();
    this.startExecution(site, machine, name, safeJson(typeof input.input === 'string' ? input.input : '{}') as Record<string, unknown>);
    return { executionArn: this.executionArn(site, machine, name), startDate: new Date(this.nowMs) };
  }

  private executionArn(site: Site, machine: string, name: string): string {
    return this.arn(site, 'states', `execution:${this.names(site.id).stateMachine(machine)}:${name}`);
  }

  private startExecution(site: Site, machine: string, name: string, input: Record<string, unknown>): void {
    const key = `${machine}/${name}`;
    if (site.executions.has(key)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${this.executionArn(site, machine, name)}'`, $metadata: {} });
    const definition = this.options.definitions[site.id].stateMachines[machine];
    if (definition === undefined) throw new Error(`no ${machine} state machine in the synthesized ${site.id} template`);
    const states = definition.States as Record<string, Record<string, unknown>>;
    const arn = this.executionArn(site, machine, name);
    const execution: Execution = { status: 'running', abort: () => undefined };
    const record: ExecutionRecord = { site: site.id, machine, name, startedAtMs: this.at, endedAtMs: null, transitions: 0, outcome: null };
    this.executions.push(record);
    site.executions.set(key, execution);

    // Wait states take no real time; their virtual duration is added to the task that follows.
    const waitOverrides: Record<string, number> = {};
    const delayBefore: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(states)) {
      if (state.Type !== 'Wait') continue;
      waitOverrides[stateName] = 0;
      if (typeof state.Next === 'string' && typeof state.Seconds === 'number') delayBefore[state.Next] = (delayBefore[state.Next] ?? 0) + state.Seconds * 1000;
    }
    const handlers: Record<string, (taskInput: Record<string, unknown>) => Promise<unknown>> = {};
    const retries: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(states)) {
      if (state.Type !== 'Task') continue;
      retries[stateName] = 0;
      const resource = String(state.Resource);
      const work = resource.endsWith('.waitForTaskToken')
        ? async (taskInput: Record<string, unknown>) => this.awaitTaskToken(site, machine, execution, name, stateName, state, taskInput)
        : async (taskInput: Record<string, unknown>) => ({ Payload: await this.runStep(site, machine, stateName, taskInput) });
      handlers[stateName] = (taskInput) => {
        execution.status = 'waiting';
        const latency = (delayBefore[stateName] ?? 0) + this.random.logNormal(STEP_MEDIAN_MS, 0.4);
        return new Promise((resolveTask, rejectTask) => {
          // Until it settles, the task is pending: a task of a crashed site never settles, and the
          // end of the run settles it, or the execution would hold the process open.
          const pending = (error: Error) => rejectTask(error);
          this.pendingTasks.add(pending);
          const resolve = (value: unknown) => {
            this.pendingTasks.delete(pending);
            resolveTask(value);
          };
          const reject = (error: Error) => {
            this.pendingTasks.delete(pending);
            rejectTask(error);
          };
          this.schedule(this.nowMs + latency, async () => {
            if (site.crashed) return;
            execution.status = 'running';
            try {
              const out = await work(taskInput);
              // A task waiting for its token answers later, from another event: the loop goes on meanwhile.
              if (typeof out === 'function') out().then(resolve, reject);
              else resolve(out);
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
            await this.replicate(site);
          });
        });
      };
    }
    const machineRun = new StateMachine(definition as never, { validationOptions: { checkPaths: false, checkArn: false } }).run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: waitOverrides, retryIntervalOverrides: retries },
      noThrowOnAbort: true,
      context: { Execution: { Id: arn, Name: name, Input: input, StartTime: new Date(this.nowMs).toISOString() }, Task: { Token: `local-task-token-${name}` } } as never,
    });
    execution.abort = () => machineRun.abort();
    void (async () => {
      for await (const event of machineRun.eventLogs) if ((event as { type?: string }).type === 'StateEntered') record.transitions += 1;
    })().catch(() => undefined);
    this.note({ site: site.id, kind: 'workflow', text: `${machine} workflow started (${name})` });
    if (machine === 'failover' && input.dryRun !== true) {
      const expected = typeof input.expectedEpoch === 'number' ? input.expectedEpoch : (site.epoch ?? 1);
      this.failovers.push({ startedAtMs: this.at, promotedAtMs: null, from: (input.from as SiteId | undefined) ?? peerOf(site.id), to: site.id, epoch: expected + 1, reason: typeof input.reason === 'string' ? input.reason : 'requested' });
    }
    machineRun.result
      .then((output) => {
        if (output === null) return;
        record.outcome = outcomeOf(output);
        this.note({ site: site.id, kind: 'workflow', text: `${machine} workflow ${name} ended: ${record.outcome}` });
      })
      .catch((error: unknown) => {
        record.outcome = `failed: ${(error as Error).name}`;
        this.note({ site: site.id, kind: 'workflow', text: `${machine} workflow ${name} failed: ${(error as Error).name}: ${(error as Error).message}`.slice(0, 300) });
      })
      .finally(() => {
        record.endedAtMs = this.at;
        execution.status = 'done';
      });
  }

  /**
   * A task that waits for its token (the failover's approval): it publishes, then waits in
   * virtual time for an approve or reject command, or for its TimeoutSeconds.
   */
  private async awaitTaskToken(site: Site, machine: string, execution: Execution, name: string, stateName: string, state: Record<string, unknown>, taskInput: Record<string, unknown>): Promise<() => Promise<unknown>> {
    await this.runStep(site, machine, stateName, taskInput);
    execution.status = 'waiting';
    const answer = new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        execution.status = 'running';
        const index = site.approvals.findIndex((a) => a.settle === settle);
        if (index >= 0) site.approvals.splice(index, 1);
        if (error === undefined) resolve({ approvedBy: 'operator' });
        else reject(error);
      };
      site.approvals.push({ name, settle });
      const timeoutMs = (typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : 60) * 1000;
      this.schedule(this.nowMs + timeoutMs, async () => {
        if (!settled) this.note({ site: site.id, kind: 'workflow', text: `${name}: approval timed out after ${timeoutMs / 1000} s` });
        settle(Object.assign(new Error(`no approval within ${timeoutMs / 1000} s`), { name: 'States.Timeout' }));
      });
    });
    return () => answer;
  }

  /** Runs one Lambda step of a workflow with the deployed step handler code. */
  private async runStep(site: Site, machine: string, stateName: string, taskInput: Record<string, unknown>): Promise<Record<string, unknown>> {
    return asHandler(this.caller(site, machine === 'failover' ? 'failover-steps' : 'path-control-steps'), () => this.runStepAs(site, machine, stateName, taskInput));
  }

  /** The handler a call is recorded for, when calls are recorded. */
  private caller(site: Site, handler: HandlerName): Parameters<typeof asHandler>[0] {
    const sink = this.options.onCall;
    return sink === undefined ? undefined : { handler, site: site.id, region: site.settings.region, sink };
  }

  private async runStepAs(site: Site, machine: string, stateName: string, taskInput: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (machine === 'failover') {
      // aws-local-stepfunctions stamps the real start time; the step's timings are in virtual time.
      const started = this.executions.find((e) => e.site === site.id && e.machine === 'failover' && e.name === executionName(String((taskInput.Payload as { execution?: unknown }).execution)));
      const input = { ...parseStepInput(taskInput.Payload, FAILOVER_STEPS), ...(started ? { startedAt: new Date(this.startMs + started.startedAtMs).toISOString() } : {}) };
      const result = await runFailoverStep(input, this.failoverDeps(site));
      // A notify step shows as the notice it sent (see publish).
      if (input.step !== NOTIFY_STEP) this.note({ site: site.id, kind: 'workflow', text: `failover ${stateName}: ${summarizeStep(input.step, result)}` });
      if (input.step === 'verify' && result.ok === true && input.state.dryRun !== true) {
        const failover = [...this.failovers].reverse().find((f) => f.to === site.id && f.promotedAtMs === null);
        if (failover !== undefined) failover.promotedAtMs = this.at;
      }
      return result;
    }
    const input = parseStepInput(taskInput.Payload, PATH_CONTROL_STEPS);
    const result = await runPathControlStep(input, this.pathControlDeps(site));
    if (input.step !== 'check-ack' && input.step !== NOTIFY_STEP) this.note({ site: site.id, kind: 'workflow', text: `path-control ${stateName}: ${JSON.stringify(result).slice(0, 160)}` });
    return result;
  }

  /** A site's notice desk as its handlers build it, over the emulated SNS topics, counting folds (invariant I4). */
  private noticeDesk(site: Site, timeoutMs: number): Pick<NoticeDesk, 'announce' | 'flush'> {
    const desk = siteNoticeDesk({
      settings: site.settings,
      sns: emulate(new SNSClient({ region: site.settings.region }), async (_command, input) => this.publish(site, input)),
      topics: { warning: this.arn(site, 'sns', this.names(site.id).topic('warning')), critical: this.arn(site, 'sns', this.names(site.id).topic('critical')) },
      db: site.db,
      timeoutMs,
      log: () => undefined,
    });
    return {
      announce: async (notice, nowMs, id) => {
        const out = await desk.announce(notice, nowMs, id);
        if (out.outcome === 'folded') this.log.foldedAll += 1;
        return out;
      },
      flush: (nowMs) => desk.flush(nowMs),
    };
  }

  /** The heartbeat module's desk, counting what became of each notice it raised (invariant I4). */
  private moduleNoticeDesk(site: Site): Pick<NoticeDesk, 'announce' | 'flush'> {
    const desk = this.noticeDesk(site, pathTimeoutMs(site.settings.tuning.intervalSeconds));
    return {
      announce: async (notice, nowMs, id) => {
        const out = await desk.announce(notice, nowMs, id);
        if (out.outcome === 'published' || out.outcome === 'duplicate') this.log.noticesDelivered += 1;
        if (out.outcome === 'folded') this.log.noticesFolded += 1;
        return out;
      },
      flush: (nowMs) => desk.flush(nowMs),
    };
  }

  private failoverDeps(site: Site): FailoverDeps {
    const peer = this.sites[peerOf(site.id)];
    return {
      settings: site.settings,
      store: site.store,
      db: site.db,
      notices: this.noticeDesk(site, 5_000),
      // ReplicationLatency lives in the peer's region: unreachable when that region is down or cut off.
      peerCloudWatch: emulate(new CloudWatchClient({ region: site.settings.peerRegion }), async () => {
        if (peer.crashed || peer.isolated || site.isolated) throw Object.assign(new Error(`monitoring.${site.settings.peerRegion}.amazonaws.com unreachable`), { name: 'TimeoutError' });
        return { MetricDataResults: [{ Id: 'lag', Values: [this.link.lagMs + REPLICATION_MEDIAN_MS] }] };
      }),
      events: emulate(new EventBridgeClient({ region: site.settings.region }), async (_command, input) => {
        for (const entry of (input.Entries ?? []) as { DetailType?: string }[]) if (entry.DetailType === DetailType.sitePromoted) this.note({ site: site.id, kind: 'workflow', text: `${EVENT_SOURCE} ${DetailType.sitePromoted} event on the ${site.id} site bus` });
        return { FailedEntryCount: 0, Entries: [{ EventId: randomUUID() }] };
      }),
      lambdaFor: () => emulate(new LambdaClient({ region: site.settings.region }), async () => ({ StatusCode: 202 })),
      siteBus: this.names(site.id).siteBus,
      promotionHook: undefined,
      fenceHook: undefined,
      keys: this.keys(),
      peerEvents: emulate(new EventBridgeClient({ region: site.settings.peerRegion }), async (_command, input) => this.putEvents(site, input)),
      peerBusArn: `arn:aws:events:${peer.settings.region}:${LOCAL_ACCOUNT}:event-bus/${this.names(peer.id).siteBus}`,
      // The scenario's configuration names no traffic actions unless it sets promotion.*; those are not emulated.
      actions: {},
      route53: emulate(new Route53Client({ region: 'us-east-1' }), async () => {
        throw new Error('the local runtime does not emulate Route 53; leave promotion.route53FailoverRecord out of scenarios');
      }),
      arcFor: () =>
        emulate(new Route53RecoveryClusterClient({ region: 'us-west-2' }), async () => {
          throw new Error('the local runtime does not emulate Route 53 ARC; leave promotion.arc out of scenarios');
        }),
      now: () => this.nowMs + site.skewMs,
    };
  }

  private pathControlDeps(site: Site): PathControlDeps {
    const peer = this.sites[peerOf(site.id)];
    return {
      settings: site.settings,
      store: site.store,
      peerEvents: emulate(new EventBridgeClient({ region: site.settings.peerRegion }), async (_command, input) => this.putEvents(site, input)),
      peerBusArn: `arn:aws:events:${peer.settings.region}:${LOCAL_ACCOUNT}:event-bus/${this.names(peer.id).siteBus}`,
      keys: this.keys(),
      notices: this.noticeDesk(site, 5_000),
      now: () => this.nowMs + site.skewMs,
    };
  }

  // ---- faults and commands --------------------------------------------------------------

  private primarySite(): Site {
    return Object.values(this.sites).find((s) => s.role === 'primary' && !s.crashed) ?? this.sites.production;
  }

  private fatal(site: Site): void {
    if (this.firstFatalAtMs === undefined && site.role === 'primary') this.firstFatalAtMs = this.at;
  }

  private async apply(event: ScenarioEvent): Promise<void> {
    if ('command' in event) return this.command(event);
    const describe = (text: string, site?: SiteId) => this.note({ kind: 'fault', text, ...(site ? { site } : {}) });
    if ('between' in event) {
      const [, other] = event.between;
      const site = event.between[0] === 'witness' ? other : event.between[0];
      this.witness.cut[site as SiteId] = event.fault === 'partition';
      return describe(`${site} ${event.fault === 'partition' ? 'cut from' : 'reconnected to'} the witness region`);
    }
    if ('site' in event && event.site === 'witness') return this.witnessFault(event.fault, 'ms' in event ? event.ms : 0, describe);
    switch (event.fault) {
      case 'partition':
        if (event.path === 'network') this.network.partitioned = true;
        else this.storagePartitioned = true;
        return describe(`${event.path} path partitioned`);
      case 'heal':
        if (event.path === 'network') Object.assign(this.network, { partitioned: false, lossRate: 0, lagMs: 0 });
        else {
          this.storagePartitioned = false;
          this.link.lossRate = 0;
          this.link.lagMs = 0;
          this.schedule(this.nowMs, async () => this.deliverReplication());
        }
        return describe(`${event.path} path healed`);
      case 'lag':
        if (event.path === 'network') this.network.lagMs = event.ms;
        else this.link.lagMs = event.ms;
        return describe(`${event.path} path lags ${event.ms} ms${event.path === 'storage' ? ' (replication of the heartbeat volume)' : ''}`);
      case 'loss':
        if (event.path === 'network') this.network.lossRate = event.rate;
        else this.link.lossRate = event.rate;
        return describe(`${event.path} path loses ${Math.round(event.rate * 100)} % of messages`);
      case 'crash': {
        const site = this.sites[event.site as SiteId];
        this.fatal(site);
        site.crashed = true;
        return describe('crashed: every process of the site stops', site.id);
      }
      case 'pause': {
        const site = this.sites[event.site as SiteId];
        site.pausedUntilMs = this.nowMs + event.ms;
        // A frozen invocation resumes where it stopped: its overdue tick runs at once.
        this.schedule(this.nowMs + event.ms, async () => this.tick(site));
        return describe(`paused for ${event.ms} ms`, site.id);
      }
      case 'isolate': {
        const site = this.sites[event.site as SiteId];
        this.fatal(site);
        site.isolated = true;
        this.link.partitioned = true;
        return describe('isolated: cut off on both paths and from the witness, still running', site.id);
      }
      case 'restart': {
        const site = this.sites[event.site as SiteId];
        // A cold container: nothing carried over but what the tables hold.
        site.crashed = false;
        site.pausedUntilMs = Math.min(site.pausedUntilMs, this.nowMs);
        site.role = undefined;
        (site as { module: HeartbeatModule }).module = this.heartbeatModule(site);
        this.schedule(this.nowMs, async () => this.tick(site, true));
        return describe('restarted: a cold container, state from the tables', site.id);
      }
      case 'skew':
        this.sites[event.site].skewMs = event.ms;
        return describe(`clock skewed by ${event.ms} ms`, event.site);
      case 'health':
        if (event.status === 'failed' && this.scenario.config.health.onPeerFailure === 'failover') this.fatal(this.sites[event.site]);
        this.sites[event.site].health = event.status;
        return describe(`workload health ${event.status}`, event.site);
      case 'forge':
      case 'replay':
        return this.inject(event.fault, event.path, event.count, this.sites[event.site ?? 'standby']);
    }
  }

  private witnessFault(fault: string, ms: number, describe: (text: string, site?: SiteId) => void): void {
    const w = this.witness;
    if (fault === 'crash') w.crashed = true;
    if (fault === 'restart') Object.assign(w, { crashed: false, pausedUntilMs: 0 });
    if (fault === 'isolate') w.isolated = true;
    if (fault === 'pause') w.pausedUntilMs = this.nowMs + ms;
    const text = { crash: 'witness region down', restart: 'witness region back', isolate: 'witness region cut off from both sites', pause: `witness region frozen for ${ms} ms` }[fault] ?? fault;
    describe(this.quorum === undefined ? `${text} (two-region mode: there is no witness)` : text);
  }

  /** Injects bad messages aimed at one site: forged (signed with a key nobody holds) or replayed (a valid beat sent again). */
  private async inject(kind: 'forge' | 'replay', path: PathId, count: number, target: Site): Promise<void> {
    const sender = this.sites[peerOf(target.id)];
    const forger = Buffer.from('not-the-cluster-key');
    const forged = (i: number): Heartbeat =>
      signHeartbeat(
        { v: 1, cluster: this.scenario.config.clusterName, site: sender.id, region: sender.settings.region, serial: this.nowMs + 10_000_000 + i, sentAt: new Date(this.nowMs).toISOString(), epoch: 99, role: 'primary', health: 'ok' },
        forger,
      );
    const replayed = target.received.at(-1);
    this.note({ kind: 'fault', site: target.id, text: `${count} ${kind === 'forge' ? 'forged' : 'replayed'} ${path}-path beats aimed at ${target.id}` });
    for (let i = 0; i < count; i += 1) {
      const beat = kind === 'forge' ? forged(i) : replayed;
      if (beat === undefined) return;
      const at = this.nowMs + (i * this.intervalMs) / Math.max(1, Math.min(count, 10));
      if (path === 'network') {
        this.schedule(at, async () => this.deliverEvent(sender, target, { source: EVENT_SOURCE, 'detail-type': DetailType.heartbeat, account: LOCAL_ACCOUNT, detail: beat }));
      } else {
        // An attacker with write access to the replica: the forged item sits there until the peer's next beat replaces it.
        this.schedule(at, async () => {
          await target.store.writeBeat(beat);
          await this.replicate(target);
        });
      }
    }
  }

  private async command(event: Extract<ScenarioEvent, { command: string }>): Promise<void> {
    if (event.command === 'switchover' || event.command === 'failover') {
      // The workflow runs in the site it promotes: by default the one that is not primary now.
      const target = event.site === undefined ? this.sites[peerOf(this.primarySite().id)] : this.sites[event.site];
      const dryRun = event.dryRun ?? false;
      this.note({ kind: 'command', site: target.id, text: `${event.command}${dryRun ? ' drill (dry run)' : ''} to ${target.id} requested by the operator` });
      if (target.crashed) return;
      try {
        this.startExecution(target, 'failover', `operator-${event.command}-${this.at}`, { kind: event.command, dryRun, requestedBy: 'operator', reason: `scenario ${event.command}` });
      } catch (error) {
        this.note({ kind: 'command', site: target.id, text: `${event.command} not started: ${(error as Error).message}` });
      }
      return;
    }
    if (!('path' in event)) {
      const site = event.site === undefined ? Object.values(this.sites).find((s) => s.approvals.length > 0) : this.sites[event.site];
      const waiting = site?.approvals.shift();
      if (site === undefined || waiting === undefined) {
        this.note({ kind: 'command', text: `${event.command}: no failover awaits approval` });
        return;
      }
      this.note({ kind: 'command', site: site.id, text: `${event.command} ${waiting.name}` });
      waiting.settle(event.command === 'approve' ? undefined : Object.assign(new Error('rejected by the operator'), { name: 'Rejected' }));
      return;
    }
    const site = event.site === undefined ? this.primarySite() : this.sites[event.site];
    this.note({ kind: 'command', site: site.id, text: `path-control: ${event.command} ${event.path}` });
    if (site.crashed) {
      // Nobody can start a workflow in a region that is down.
      this.note({ kind: 'command', site: site.id, text: 'path-control not started: the site is down' });
      return;
    }
    try {
      this.startExecution(site, 'path-control', `scenario-${event.command}-${event.path}-${this.at}`, { path: event.path, action: event.command, reason: 'scenario command', force: event.force ?? false });
    } catch (error) {
      this.note({ kind: 'command', site: site.id, text: `path-control not started: ${(error as Error).message}` });
    }
  }

  // ---- the report -----------------------------------------------------------------------

  private report(): Report {
    // Detection is the time to an automatic decision; planned and operator-started promotions detect nothing.
    const decision = this.failovers.find((f) => (f.reason === 'peer-lost' || f.reason === 'peer-failure-reported') && f.startedAtMs >= (this.firstFatalAtMs ?? Infinity))?.startedAtMs;
    return {
      scenario: this.scenario.name,
      seed: this.seed,
      durationMs: this.scenario.durationMs,
      failovers: this.failovers.map((f) => ({ ...f, startedAtMs: Math.round(f.startedAtMs), promotedAtMs: f.promotedAtMs === null ? null : Math.round(f.promotedAtMs) })),
      detectionMs: decision !== undefined && this.firstFatalAtMs !== undefined ? Math.round(decision - this.firstFatalAtMs) : null,
      maxSimultaneousPrimaries: this.maxSimultaneousPrimaries,
      noPrimaryMs: Math.round(this.noPrimary.totalMs),
      primaryTimeline: this.primaryTimeline.map((p) => ({ ...p, atMs: Math.round(p.atMs) })),
      // Notices raised in one tick are published concurrently; sorting makes the report independent of their race.
      notifications: this.notifications.map((n) => ({ ...n, atMs: Math.round(n.atMs) })).sort((a, b) => a.atMs - b.atMs || a.site.localeCompare(b.site) || a.kind.localeCompare(b.kind) || (a.path ?? '').localeCompare(b.path ?? '')),
      invalidBeats: this.invalidBeats,
      pathStates: this.pathStates.map((p) => ({ ...p, atMs: Math.round(p.atMs) })),
    };
  }
}

/** EventBridge pattern matching for the patterns mirrorbeat's rules use: lists of exact values per field. */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event[field];
    if (Array.isArray(expected)) return expected.some((v) => v === actual);
    if (expected !== null && typeof expected === 'object') return actual !== null && typeof actual === 'object' && matches(expected as Record<string, unknown>, actual as Record<string, unknown>);
    return expected === actual;
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function summarizeStep(step: string, result: Record<string, unknown>): string {
  switch (step) {
    case 'confirm':
      return result.peerLost === true ? 'peer still lost on every path' : 'peer is back';
    case 'gates':
      return `${result.passed === true ? 'passed' : 'blocked'}: ${((result.checks as { evidence: string }[] | undefined) ?? []).map((c) => c.evidence).join('; ')}`;
    case 'drain':
      return result.dryRun === true ? `would ${String(result.would)}` : `asked ${String(result.from)} to hand over at epoch ${String(result.epoch)}`;
    case 'check-drain':
      return result.drained === true ? 'the primary confirmed the handover' : result.expired === true ? String(result.detail) : 'waiting for the primary to hand over';
    case 'cancel-drain':
      return result.cancelled === true ? 'handover withdrawn' : 'no handover to withdraw';
    case 'fence':
      if (result.dryRun === true) return `would ${String(result.would)}`;
      if (result.alreadyFenced === true) return `epoch ${String(result.epoch)} already fenced${result.alreadyDone === true ? ' and verified: nothing to do' : '; resuming at promote'}`;
      return `epoch ${String(result.epoch)} written, ${String(result.fenced)} fenced; network fence ${String(result.networkFence)}`;
    case 'promote':
      return `${result.dryRun === true ? 'would promote' : 'promoted'} at epoch ${String(result.epoch)} (${((result.actions as { action: string }[] | undefined) ?? []).map((a) => a.action).join(', ') || 'no actions'})`;
    case 'verify':
      return result.ok === true ? 'cluster record confirmed' : `cluster record disagrees: ${JSON.stringify(result.cluster)}`;
    default:
      return JSON.stringify(result).slice(0, 120);
  }
}

function outcomeOf(output: unknown): string {
  const o = output as Record<string, unknown>;
  if (o.dryRun === true) return 'drill complete';
  if ((o.fence as { result?: { alreadyDone?: boolean } } | undefined)?.result?.alreadyDone === true) return 'nothing to do (already promoted)';
  if (o.verify !== undefined) return o.kind === 'switchover' ? 'switched over' : 'promoted';
  if (o.confirm !== undefined && (o.confirm as { result?: { peerLost?: boolean } }).result?.peerLost === false) return 'aborted (peer back)';
  return 'succeeded';
}
