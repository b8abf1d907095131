import { setMaintenance } from '../client/maintenance';
import { signHeartbeat, type Heartbeat } from '../lambdas/core/message';
import { DetailType, EVENT_SOURCE, type PathId, peerOf, type SiteId } from '../lambdas/core/wire';
import type { Bus } from './bus';
import { LOCAL_ACCOUNT } from './definitions';
import type { Recorder } from './recorder';
import type { Regions } from './regions';
import type { ScenarioEvent } from './scenario';
import type { Workflows } from './workflows';
import type { Site, World } from './world';

/** Faults and operator commands: what a scenario's events do to the regions, the sites and the workflows. */

/** What faults need from the part that runs the heartbeat modules. */
export interface ModuleRunner {
  /** Every container of the site gone; a new invocation starts now in a fresh one. */
  restart(site: Site): void;
}

export class Faults {
  constructor(
    private readonly world: World,
    private readonly regions: Regions,
    private readonly bus: Bus,
    private readonly workflows: Workflows,
    private readonly recorder: Recorder,
    private readonly runner: ModuleRunner,
  ) {}

  private primarySite(): Site {
    const w = this.world;
    return Object.values(w.sites).find((s) => s.role === 'primary' && !s.crashed) ?? w.sites.production;
  }

  /** Applies one scenario event: a fault, or an operator's command. */
  async apply(event: ScenarioEvent): Promise<void> {
    const w = this.world;
    if ('command' in event) return this.command(event);
    const describe = (text: string, site?: SiteId) => w.note({ kind: 'fault', text, ...(site ? { site } : {}) });
    if ('between' in event) {
      const [, other] = event.between;
      const site = event.between[0] === 'witness' ? other : event.between[0];
      this.regions.witness.cut[site as SiteId] = event.fault === 'partition';
      return describe(`${site} ${event.fault === 'partition' ? 'cut from' : 'reconnected to'} the witness region`);
    }
    if ('site' in event && event.site === 'witness')
      return this.witnessFault(event.fault, 'ms' in event ? event.ms : 0, describe);
    switch (event.fault) {
      case 'partition':
        if (event.path === 'network') this.regions.network.partitioned = true;
        else this.regions.storagePartitioned = true;
        return describe(`${event.path} path partitioned`);
      case 'heal':
        if (event.path === 'network')
          Object.assign(this.regions.network, { partitioned: false, lossRate: 0, lagMs: 0 });
        else {
          this.regions.storagePartitioned = false;
          this.regions.link.lossRate = 0;
          this.regions.link.lagMs = 0;
          w.clock.schedule(w.clock.nowMs, async () => this.regions.deliverReplication());
        }
        return describe(`${event.path} path healed`);
      case 'lag':
        if (event.path === 'network') this.regions.network.lagMs = event.ms;
        else this.regions.link.lagMs = event.ms;
        return describe(
          `${event.path} path lags ${event.ms} ms${event.path === 'storage' ? ' (replication of the heartbeat volume)' : ''}`,
        );
      case 'loss':
        if (event.path === 'network') this.regions.network.lossRate = event.rate;
        else this.regions.link.lossRate = event.rate;
        return describe(`${event.path} path loses ${Math.round(event.rate * 100)} % of messages`);
      case 'crash': {
        const site = w.sites[event.site as SiteId];
        this.recorder.fatal(site);
        site.crashed = true;
        return describe('crashed: every process of the site stops', site.id);
      }
      case 'pause': {
        const site = w.sites[event.site as SiteId];
        // A frozen invocation resumes where it stopped: its sleeps end with the pause, its overdue tick runs at once.
        site.pausedUntilMs = w.clock.nowMs + event.ms;
        return describe(`paused for ${event.ms} ms`, site.id);
      }
      case 'isolate': {
        const site = w.sites[event.site as SiteId];
        this.recorder.fatal(site);
        site.isolated = true;
        this.regions.link.partitioned = true;
        return describe('isolated: cut off on both paths and from the witness, still running', site.id);
      }
      case 'restart': {
        const site = w.sites[event.site as SiteId];
        // A cold container: nothing carried over but what the tables hold.
        site.crashed = false;
        site.pausedUntilMs = Math.min(site.pausedUntilMs, w.clock.nowMs);
        site.role = undefined;
        this.runner.restart(site);
        return describe('restarted: a cold container, state from the tables', site.id);
      }
      case 'skew':
        w.sites[event.site].clock.skewMs = event.ms;
        return describe(`clock skewed by ${event.ms} ms`, event.site);
      case 'drift':
        w.sites[event.site].clock.drift(w.clock.nowMs, event.ppm);
        return describe(`clocks run ${event.ppm >= 0 ? 'fast' : 'slow'} by ${Math.abs(event.ppm)} ppm`, event.site);
      case 'health':
        if (event.status === 'failed' && w.scenario.config.health.onPeerFailure === 'failover')
          this.recorder.fatal(w.sites[event.site]);
        w.sites[event.site].health = event.status;
        return describe(`workload health ${event.status}`, event.site);
      case 'forge':
      case 'replay':
        return this.inject(event.fault, event.path, event.count, w.sites[event.site ?? 'standby']);
    }
  }

  private witnessFault(fault: string, ms: number, describe: (text: string, site?: SiteId) => void): void {
    const witness = this.regions.witness;
    if (fault === 'crash') witness.crashed = true;
    if (fault === 'restart') Object.assign(witness, { crashed: false, pausedUntilMs: 0 });
    if (fault === 'isolate') witness.isolated = true;
    if (fault === 'pause') witness.pausedUntilMs = this.world.clock.nowMs + ms;
    const text =
      {
        crash: 'witness region down',
        restart: 'witness region back',
        isolate: 'witness region cut off from both sites',
        pause: `witness region frozen for ${ms} ms`,
      }[fault] ?? fault;
    describe(this.regions.quorum === undefined ? `${text} (two-region mode: there is no witness)` : text);
  }

  /**
   * Injects bad messages aimed at one site: forged (signed with a key nobody holds) or replayed (a valid beat sent
   * again).
   */
  private async inject(kind: 'forge' | 'replay', path: PathId, count: number, target: Site): Promise<void> {
    const w = this.world;
    const sender = w.sites[peerOf(target.id)];
    const forger = Buffer.from('not-the-cluster-key');
    const forged = (i: number): Heartbeat =>
      signHeartbeat(
        {
          v: 1,
          cluster: w.scenario.config.clusterName,
          site: sender.id,
          region: sender.settings.region,
          serial: w.clock.nowMs + 10_000_000 + i,
          sentAt: new Date(w.clock.nowMs).toISOString(),
          epoch: 99,
          role: 'primary',
          health: 'ok',
        },
        forger,
      );
    const replayed = target.received.at(-1);
    w.note({
      kind: 'fault',
      site: target.id,
      text: `${count} ${kind === 'forge' ? 'forged' : 'replayed'} ${path}-path beats aimed at ${target.id}`,
    });
    for (let i = 0; i < count; i += 1) {
      const beat = kind === 'forge' ? forged(i) : replayed;
      if (beat === undefined) return;
      const at = w.clock.nowMs + (i * w.intervalMs) / Math.max(1, Math.min(count, 10));
      if (path === 'network') {
        w.clock.schedule(at, async () =>
          this.bus.deliverEvent(sender, target, {
            source: EVENT_SOURCE,
            'detail-type': DetailType.heartbeat,
            account: LOCAL_ACCOUNT,
            detail: beat,
          }),
        );
      } else {
        // An attacker with write access to the replica: the forged item sits there until the peer's next beat replaces
        // it.
        w.clock.schedule(at, async () => {
          await target.store.writeBeat(beat);
          await this.regions.replicate(target);
        });
      }
    }
  }

  private async command(event: Extract<ScenarioEvent, { command: string }>): Promise<void> {
    const w = this.world;
    if (event.command === 'maintenance') {
      // As `mirrorbeat maintenance` does it: into every replica that answers.
      const writes = await setMaintenance(
        Object.values(w.sites).map((s) => ({ site: s.id, store: s.store })),
        { on: event.state === 'on', reason: event.reason ?? 'scenario', by: 'operator', sinceMs: w.clock.nowMs },
      );
      const missed = writes.filter((x) => !x.written).map((x) => x.site);
      w.note({
        kind: 'command',
        text: `maintenance ${event.state}${missed.length > 0 ? ` (not written at ${missed.join(', ')})` : ''}`,
      });
      return;
    }
    if (event.command === 'switchover' || event.command === 'failover') {
      // The workflow runs in the site it promotes: by default the one that is not primary now.
      const target = event.site === undefined ? w.sites[peerOf(this.primarySite().id)] : w.sites[event.site];
      const dryRun = event.dryRun ?? false;
      w.note({
        kind: 'command',
        site: target.id,
        text: `${event.command}${dryRun ? ' drill (dry run)' : ''} to ${target.id} requested by the operator`,
      });
      if (target.crashed) return;
      try {
        this.workflows.startExecution(target, 'failover', `operator-${event.command}-${w.clock.at}`, {
          kind: event.command,
          dryRun,
          requestedBy: 'operator',
          reason: `scenario ${event.command}`,
        });
      } catch (error) {
        w.note({ kind: 'command', site: target.id, text: `${event.command} not started: ${(error as Error).message}` });
      }
      return;
    }
    if (event.command !== 'paths' && !('path' in event)) {
      const site =
        event.site === undefined ? Object.values(w.sites).find((s) => s.approvals.length > 0) : w.sites[event.site];
      const waiting = site?.approvals.shift();
      if (site === undefined || waiting === undefined) {
        w.note({ kind: 'command', text: `${event.command}: no failover awaits approval` });
        return;
      }
      w.note({ kind: 'command', site: site.id, text: `${event.command} ${waiting.name}` });
      waiting.settle(
        event.command === 'approve'
          ? undefined
          : Object.assign(new Error('rejected by the operator'), { name: 'Rejected' }),
      );
      return;
    }
    const site = event.site === undefined ? this.primarySite() : w.sites[event.site];
    const input =
      event.command === 'paths'
        ? {
            ...(event.network === undefined ? {} : { network: event.network }),
            ...(event.storage === undefined ? {} : { storage: event.storage }),
          }
        : { path: event.path, action: event.command };
    const asked =
      event.command === 'paths'
        ? Object.entries(input)
            .map(([p, a]) => `${p} ${a}`)
            .join(', ')
        : `${event.command} ${event.path}`;
    w.note({ kind: 'command', site: site.id, text: `path-control: ${asked}` });
    if (site.crashed) {
      // Nobody can start a workflow in a region that is down.
      w.note({ kind: 'command', site: site.id, text: 'path-control not started: the site is down' });
      return;
    }
    try {
      this.workflows.startExecution(site, 'path-control', `scenario-${asked.replace(/[ ,]+/g, '-')}-${w.clock.at}`, {
        ...input,
        reason: 'scenario command',
        force: event.force ?? false,
      });
    } catch (error) {
      w.note({ kind: 'command', site: site.id, text: `path-control not started: ${(error as Error).message}` });
    }
  }
}
