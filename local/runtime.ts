import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type HandlerName, SiteNames } from '../lib/names';
import { SITE_IDS, type SiteId } from '../lambdas/core/wire';
import { HANDOFF_MS, RUN_FOR_MS, runInvocation } from '../lambdas/heartbeat-module/driver';
import { HeartbeatModule, type TickReport } from '../lambdas/heartbeat-module/module';
import { reclaimAfterMs } from '../lambdas/heartbeat-module/ticker';
import { virtualDeadlines } from '../lambdas/shared/deadlines';
import type { SigningKeys } from '../lambdas/shared/keys';
import { NoticeJournal } from '../lambdas/shared/journal';
import { type ClusterStatus, readClusterStatus } from '../client/status';
import { Bus } from './bus';
import { asHandler, recordingClient } from './calls';
import { SiteClock, VirtualClock } from './clock';
import { LOCAL_ACCOUNT } from './definitions';
import { emulate } from './emulate';
import { Faults } from './faults';
import { Random } from './random';
import { type DeliveredMessage, Recorder, type Report, type RuntimeLog } from './recorder';
import { Regions } from './regions';
import type { Scenario } from './scenario';
import { createLocalSite } from './sites';
import { type ExecutionRecord, Workflows } from './workflows';
import type { Container, Site, SimulationOptions, TimelineEntry, World } from './world';

export type { DeliveredMessage, Report, RuntimeLog } from './recorder';
export type { ExecutionRecord } from './workflows';
export type { SimulationOptions, TimelineEntry } from './world';

/** The heartbeat module's Lambda timeout (lib/site-stack.ts). */
const HEARTBEAT_TIMEOUT_MS = 660_000;

export interface SimulationResult {
  readonly report: Report;
  readonly timeline: TimelineEntry[];
  readonly executions: readonly ExecutionRecord[];
  /** Distinct custom metric series (name and dimensions) each site's heartbeat module published. */
  readonly metricSeries: Readonly<Record<SiteId, number>>;
  /** Mean bytes of embedded-metric-format log a tick writes. */
  readonly emfBytesPerTick: number;
  /**
   * CPU time (user + system, this process) of heartbeat-module ticks, ms: the handler's own work, without TLS. `first`:
   * each container's first tick (clients and connections built); `steady`: the others, but those starting a failover.
   */
  readonly tickCpuMs: { readonly steady: readonly number[]; readonly first: readonly number[] };
  /** What `mirrorbeat status` would show at the end of the run. */
  readonly status: ClusterStatus;
  /** The runtime's own account, for invariant checks. */
  readonly log: RuntimeLog;
  /** The first notices as the topics delivered them to e-mail subscribers: subject and text body. */
  readonly messages: readonly DeliveredMessage[];
}

/**
 * Runs one scenario: two sites on DynamoDB Local with the deployed handler code, the
 * replication link, the network path through a local bus that routes by the synthesized
 * rules, and the synthesized workflows under aws-local-stepfunctions, all on one virtual
 * clock (local/clock.ts). Events run one at a time in time order, each to its end, so a seed
 * gives one run.
 */
export async function simulate(scenario: Scenario, options: SimulationOptions): Promise<SimulationResult> {
  const simulation = new Simulation(scenario, options);
  // Virtual time: the handlers' deadlines never fire (lambdas/shared/deadlines.ts), so a busy machine changes nothing.
  return virtualDeadlines(async () => {
    try {
      await simulation.setUp();
      return await simulation.run();
    } finally {
      await simulation.tearDown();
    }
  });
}

/** The composition of the runtime's parts, and the heartbeat modules as the scheduler runs them. */
class Simulation implements World {
  readonly random: Random;
  readonly clock = new VirtualClock();
  readonly sites = {} as Record<SiteId, Site>;
  readonly intervalMs: number;
  private readonly seed: number;
  private readonly timeline: TimelineEntry[] = [];
  private readonly key: Buffer;
  private readonly tables: { db: DynamoDBDocumentClient; name: string }[] = [];
  private readonly recorder = new Recorder(this);
  private readonly regions = new Regions(this);
  private readonly bus = new Bus(this, this.regions, this.recorder);
  private readonly workflows = new Workflows(this, this.regions, this.bus, this.recorder);
  private readonly faults = new Faults(this, this.regions, this.bus, this.workflows, this.recorder, this);

  constructor(
    readonly scenario: Scenario,
    readonly options: SimulationOptions,
  ) {
    this.seed = options.seed ?? scenario.seed ?? 1;
    this.random = new Random(this.seed);
    this.key = Buffer.from(Array.from({ length: 32 }, () => Math.floor(this.random.next() * 256)));
    this.intervalMs = scenario.config.intervalSeconds * 1000;
  }

  // ---- what every part shares --------------------------------------------------------------

  note(entry: Omit<TimelineEntry, 'atMs'>): void {
    const full = { atMs: this.clock.at, ...entry };
    this.timeline.push(full);
    this.options.onTimeline?.(full);
  }

  names(site: SiteId): SiteNames {
    return new SiteNames(this.scenario.config.clusterName, site);
  }

  arn(site: Site, service: string, resource: string): string {
    return `arn:aws:${service}:${site.settings.region}:${LOCAL_ACCOUNT}:${resource}`;
  }

  keys(): SigningKeys {
    return { current: async () => this.key, all: async () => [this.key] } as unknown as SigningKeys;
  }

  caller(site: Site, handler: HandlerName): Parameters<typeof asHandler>[0] {
    const sink = this.options.onCall;
    const { clock } = this;
    return sink === undefined
      ? undefined
      : {
          handler,
          site: site.id,
          region: site.settings.region,
          sink: (call) => sink({ ...call, atMs: clock.at }),
        };
  }

  // ---- setting up and tearing down ---------------------------------------------------------

  async setUp(): Promise<void> {
    const config = this.scenario.config;
    const run = `sim-${randomUUID().slice(0, 8)}`;
    const volume = `mirrorbeat-${config.clusterName}-${run}-heartbeat-volume`;
    for (const id of SITE_IDS) {
      const observations = `mirrorbeat-${config.clusterName}-${run}-${id}-observations`;
      const { settings, db, store } = await createLocalSite(this.options.dynamoEndpoint, config, id, {
        volume,
        observations,
      });
      if (this.options.onCall !== undefined) {
        const deployed = { [volume]: this.names(id).heartbeatVolume, [observations]: this.names(id).observations };
        recordingClient(db, (input) =>
          typeof input.TableName === 'string'
            ? { ...input, TableName: deployed[input.TableName] ?? input.TableName }
            : input,
        );
      }
      this.tables.push({ db, name: volume }, { db, name: observations });
      const site: Site = {
        id,
        settings,
        db,
        store,
        containers: [],
        crashed: false,
        isolated: false,
        pausedUntilMs: 0,
        clock: new SiteClock(),
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
      this.sites[id] = site;
    }
    await this.regions.connect(volume, run, this.tables);
    await this.workflows.deps.startFakes();
  }

  async tearDown(): Promise<void> {
    // An aborted execution stops after its current state, once that state's task settles.
    this.workflows.abortAll();
    await this.workflows.deps.stopFakes();
    await Promise.all(
      this.tables.map(({ db, name }) => db.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined)),
    );
  }

  // ---- the heartbeat module, as the scheduler runs it -------------------------------------

  heartbeatModule(site: Site): HeartbeatModule {
    const { settings } = site;
    const peerRegion = settings.peerRegion;
    return new HeartbeatModule({
      settings,
      store: site.store,
      keys: this.keys(),
      peerEvents: emulate(new EventBridgeClient({ region: peerRegion }), async (_command, input) =>
        this.bus.putEvents(site, input),
      ),
      peerBusArn: `arn:aws:events:${peerRegion}:${LOCAL_ACCOUNT}:event-bus/${this.names(settings.peer).siteBus}`,
      sfn: emulate(new SFNClient({ region: settings.region }), async (command, input) =>
        this.workflows.stepFunctions(site, command, input),
      ),
      failoverStateMachineArn: this.arn(site, 'states', `stateMachine:${this.names(site.id).stateMachine('failover')}`),
      notices: this.recorder.moduleNoticeDesk(site),
      health: {
        read: async () => ({
          health: site.health,
          evidence: site.health === 'ok' ? [] : [`scenario set health ${site.health}`],
        }),
      },
      fenceHook: async (event) => {
        this.note({ site: site.id, kind: 'role', text: `fence hook called: ${String(event.why)}` });
        this.workflows.deps.fenceWorkload(site, event);
      },
      log: () => undefined,
    });
  }

  async run(): Promise<SimulationResult> {
    const { clock } = this;
    const endMs = clock.startMs + this.scenario.durationMs;
    for (const site of SITE_IDS) {
      const phase = this.random.between(0, this.intervalMs);
      for (let minute = 0; minute * 60_000 < this.scenario.durationMs; minute += 1) {
        // The scheduler fires each minute with a little jitter; the invocation that holds the ticker ticks.
        const invocation = clock.startMs + minute * 60_000 + phase + this.random.between(0, 400);
        this.invocation(this.sites[site], invocation);
      }
    }
    for (const event of this.scenario.events)
      clock.schedule(clock.startMs + event.atMs, async () => this.faults.apply(event));
    this.recorder.scheduleSummaries();

    await clock.runUntil(endMs, async () => {
      await this.workflows.settle();
      this.recorder.trackPrimaries();
    });
    // What the runtime itself reads after the run is no handler's call: no majority rule (Regions.observer).
    const observers = { production: this.regions.observer('production'), standby: this.regions.observer('standby') };
    // Folded notices whose window is still open: their summary comes after the run.
    for (const site of Object.values(this.sites)) {
      const open = await new NoticeJournal(observers[site.id], site.settings.heartbeatVolume).closedWindows(
        site.id,
        clock.nowMs,
        -365 * 86_400_000,
      );
      this.recorder.log.foldedOpenAtEnd += open.reduce((sum, w) => sum + w.folded, 0);
    }
    const { series, ticks, emfBytes } = this.recorder;
    const metricSeries = { production: series.production.size, standby: series.standby.size };
    const emfBytesPerTick = ticks === 0 ? 0 : Math.round(emfBytes / ticks);
    const status = await readClusterStatus(
      this.scenario.config.clusterName,
      SITE_IDS.map((id) => ({
        site: id,
        region: this.sites[id].settings.region,
        db: observers[id],
        heartbeatVolume: this.sites[id].settings.heartbeatVolume,
        observations: this.sites[id].settings.observations,
      })),
      clock.nowMs,
    );
    return {
      report: this.recorder.report(this.seed),
      timeline: this.timeline,
      executions: this.workflows.executions,
      metricSeries,
      emfBytesPerTick,
      tickCpuMs: this.tickCpuMs,
      status,
      log: this.recorder.log,
      messages: this.recorder.messages,
    };
  }

  private invocationCount = 0;
  private readonly tickCpuMs = { steady: [] as number[], first: [] as number[] };

  /**
   * One invocation as Lambda runs it, through the handler's own loop (lambdas/heartbeat-module/driver.ts):
   * in a free warm container of the site, or a new one (a cold start: nothing carried over but
   * what the tables hold). It ticks only if it claims the site's ticker, and then until a newer
   * invocation has claimed it. Its sleeps are the site's own clock on the virtual one; a paused
   * site's sleeps end when the pause does (a frozen process resumes where it stopped).
   */
  private invocation(site: Site, atMs: number): void {
    this.clock.spawn(atMs, async (sleepUntil) => {
      if (site.crashed || this.clock.nowMs < site.pausedUntilMs) return;
      let container = site.containers.find((c) => !c.busy);
      if (container === undefined) {
        container = { module: this.heartbeatModule(site), busy: false };
        site.containers.push(container);
      }
      const running = container;
      running.busy = true;
      this.invocationCount += 1;
      const { clock } = this;
      const mono = () => site.clock.mono(clock.nowMs);
      await runInvocation(
        {
          mono,
          sleepUntil: async (atMono) => {
            await sleepUntil(clock.nowMs + site.clock.realFor(atMono - mono()));
            while (clock.nowMs < site.pausedUntilMs) await sleepUntil(site.pausedUntilMs);
          },
          claim: (id) =>
            asHandler(this.caller(site, 'heartbeat-module'), () =>
              running.module.claimTicker(id, clock.nowMs, clock.nowMs + RUN_FOR_MS, HANDOFF_MS),
            ),
          reclaimAfterMs: reclaimAfterMs(this.scenario.config.intervalSeconds),
          begin: (id) => running.module.beginInvocation(id),
          step: (kind) => this.tickIn(site, running, kind),
          failed: (kind, error) => {
            throw new Error(`${site.id}: the heartbeat module's ${kind} failed: ${String(error)}`);
          },
          alive: () => !site.crashed && site.containers.includes(running),
        },
        `${site.id}-invocation-${this.invocationCount}`,
        { intervalMs: this.intervalMs, remainingMs: HEARTBEAT_TIMEOUT_MS },
      );
      running.busy = false;
    });
  }

  restart(site: Site): void {
    site.containers.length = 0;
    this.invocation(site, this.clock.nowMs);
  }

  /** One tick or check of the module in `container`, as the handler's loop asks for it. */
  private async tickIn(site: Site, container: Container, kind: 'tick' | 'check'): Promise<TickReport> {
    const { clock } = this;
    // The site's own clocks: the wall clock carries the scenario's skew, both run at the site's drift.
    const cpu = process.cpuUsage();
    const report = await asHandler(this.caller(site, 'heartbeat-module'), () =>
      container.module.tick(site.clock.wall(clock.nowMs), site.clock.mono(clock.nowMs), kind),
    );
    const used = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpu));
    // A container's first tick builds its SDK clients and connections; a tick that starts a failover runs the local
    // workflow in this process too: the one counted apart, the other not at all.
    if (!container.ticked) this.tickCpuMs.first.push(used);
    else if (kind === 'tick' && !report.failoverStarted) this.tickCpuMs.steady.push(used);
    container.ticked = true;
    this.recorder.observeTick(site, report);
    await this.regions.replicate(site);
    return report;
  }
}
