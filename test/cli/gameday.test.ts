import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  FisClient,
  GetExperimentCommand,
  ListExperimentsCommand,
  ListExperimentTemplatesCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from '@aws-sdk/client-fis';
import { mockClient } from 'aws-sdk-client-mock';
import { gameDayPage, gameDayPlan, modeOf } from '../../bin/commands/gameday';
import { gameDayReport, judged, pairProblems, type Sample } from '../../bin/commands/gameday-report';
import { checkRunnable, GameDayRefused, type RunDeps, runGameDay } from '../../bin/commands/gameday-run';
import { type ClusterStatus, siteUnread, type SiteStatus } from '../../client/status';
import { GAME_DAY_EXPERIMENTS } from '../../lib/game-day-experiments';
import type { NoticeKind } from '../../lambdas/core/notices';
import type { NoticeJournal } from '../../lambdas/shared/journal';
import type { SiteId } from '../../lambdas/core/wire';
import { loadScenario } from '../../local/scenario';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { readClusterStatus } from '../../client/status';
import { NoticeJournal as Journal } from '../../lambdas/shared/journal';
import { config } from '../helpers';
import { localSites, moduleFor, tablesOf } from '../local-sites';

/**
 * `mirrorbeat gameday`: the plan from the twin scenarios, the refusals, the report and verdict from what an account
 * shows, and a run followed through FIS (no local FIS exists: its client is mocked) to completion or to a stop.
 */
const SCENARIOS = path.join(__dirname, '..', '..', 'local', 'scenarios');
const quorum = config({});
const twoRegion = config({ consistency: 'eventual', isolationPolicy: 'self-fence', failoverMode: 'automatic' });

describe('gameday plan', () => {
  it.each(GAME_DAY_EXPERIMENTS.map((e) => e.name))(
    '%s: expects what its twin scenario expects, in both modes',
    (name) => {
      for (const c of [quorum, twoRegion]) {
        const plan = gameDayPlan(c, name, 'production');
        const twin = loadScenario(path.join(SCENARIOS, `${plan.twin}.json`));
        expect(plan.expect).toEqual(twin.expect);
        expect(plan.faults).toHaveLength(1);
        expect(plan.stopConditions.map((s) => s.alarm)).toEqual(
          expect.arrayContaining([
            `mirrorbeat-orders-production-TwoPrimaries`,
            `mirrorbeat-orders-standby-TwoPrimaries`,
          ]),
        );
      }
    },
  );

  it('acts on the site that has the role when it starts, and swaps the sites of the expectations', () => {
    const plan = gameDayPlan(quorum, 'primary-crash', 'standby');
    expect(plan.faults[0]).toMatchObject({ site: 'standby', region: quorum.standbyRegion, template: 'module-fails' });
    expect(plan.expect).toEqual(
      expect.arrayContaining([
        { finalPrimary: 'production' },
        { notification: { kind: 'promoted', site: 'production' } },
      ]),
    );
    expect(gameDayPlan(quorum, 'network-cut', 'production').faults[0]).toMatchObject({
      site: 'standby',
      template: 'receiver-fails',
    });
  });

  it('refuses an unknown name, and a failover it cannot judge when a person decides', () => {
    expect(() => gameDayPlan(quorum, 'meteor', 'production')).toThrow(
      'gameday: no experiment "meteor"; allowed: primary-crash, primary-replica-isolated, standby-replica-isolated, network-cut',
    );
    const approval = config({ consistency: 'eventual' });
    expect(modeOf(approval)).toBe('two-region');
    expect(() => gameDayPlan(approval, 'primary-crash', 'production')).toThrow(
      /primary-crash expects a failover, and failoverMode is approval.*run primary-replica-isolated or standby-replica-isolated or network-cut/,
    );
    // In two-region mode an isolated replica is a degraded path, not a failover: it runs under approval.
    expect(gameDayPlan(approval, 'primary-replica-isolated', 'production').twin).toBe(
      'gameday-replica-isolated-two-region',
    );
  });
});

const NOW = Date.UTC(2026, 11, 7, 12);
const healthySite = (site: SiteId, role: string, overrides: Partial<SiteStatus> = {}): SiteStatus => ({
  ...siteUnread(site, site === 'production' ? 'us-east-1' : 'us-west-2'),
  reachable: true,
  role,
  cluster: { primary: 'production', epoch: 3, promotedAtMs: NOW - 86_400_000 } as never,
  lastTickAgeMs: 1000,
  paths: {
    network: { mode: 'enabled', state: 'healthy' } as never,
    storage: { mode: 'enabled', state: 'healthy' } as never,
  },
  beats: {},
  ...overrides,
});
const status = (sites: SiteStatus[], atMs = NOW): ClusterStatus => ({
  cluster: 'orders',
  atMs,
  sites,
  notices: [],
  quorum: null,
  replication: [],
});

describe('whether the pair may take an experiment', () => {
  it('may when both sites tick, every enabled path is healthy and one site is primary', () => {
    expect(
      pairProblems(status([healthySite('production', 'primary'), healthySite('standby', 'secondary')]), 2, 300),
    ).toEqual([]);
  });

  it('may not, and says every reason', () => {
    const problems = pairProblems(
      status([
        healthySite('production', 'primary', {
          cluster: { primary: 'production', epoch: 3, promotedAtMs: NOW - 60_000 } as never,
        }),
        healthySite('standby', 'primary', {
          lastTickAgeMs: 60_000,
          maintenance: { on: true, reason: 'patching', by: 'ops', sinceMs: NOW },
          paths: {
            network: { mode: 'enabled', state: 'failed' } as never,
            storage: { mode: 'disabled', state: null } as never,
          },
        }),
      ]),
      2,
      300,
    );
    expect(problems).toEqual([
      'a failover cooldown is active until 2026-12-07T12:04:00.000Z (cooldownSeconds after the last promotion)',
      'standby: its heartbeat module has not ticked for three intervals',
      'standby: maintenance is on',
      'standby: the network path is failed',
      '2 sites say they are primary; a game day starts from exactly one',
    ]);
  });
});

const notice = (site: SiteId, atMs: number, kind: NoticeKind, detail: Record<string, unknown> = {}) => ({
  site,
  atMs,
  kind,
  severity: 'critical' as const,
  detail,
});
const sample = (atMs: number, acting: SiteId[], beat: number | null, epoch = 3): Sample => ({
  atMs,
  acting,
  epoch,
  targetBeatSentAtMs: beat,
});

describe('the report of a real run', () => {
  const plan = gameDayPlan(quorum, 'primary-crash', 'production');
  const run = { startMs: NOW, endMs: NOW + 840_000, faultStartMs: NOW + 5_000, experimentId: 'EXP1' };

  it('times detection from the silent site’s last beat, and meets the twin’s expectations', () => {
    const samples = [
      sample(NOW + 10_000, ['production'], NOW + 9_000),
      sample(NOW + 300_000, ['production'], NOW + 299_000),
      sample(NOW + 310_000, [], NOW + 301_000),
      sample(NOW + 320_000, ['standby'], NOW + 301_000, 4),
      sample(NOW + 840_000, ['standby'], NOW + 301_000, 4),
    ];
    const notices = [
      notice('standby', NOW + 309_500, 'failover-started', { expectedEpoch: 3, reason: 'peer lost' }),
      notice('standby', NOW + 312_000, 'promoted', { epoch: 4 }),
    ];
    const report = judged(gameDayReport(plan, run, samples, notices), plan);
    expect(report).toMatchObject({
      failovers: [{ startedAtMs: 309_500, promotedAtMs: 312_000, from: 'production', to: 'standby', epoch: 4 }],
      detectionMs: 8_500,
      maxSimultaneousPrimaries: 1,
      noPrimaryMs: 10_000,
      noPrimaryGaps: [{ fromMs: 300_000, toMs: 320_000 }],
      verdict: { passed: true, failed: [] },
    });
  });

  it('fails the verdict on two primaries and on a run that never failed over', () => {
    const samples = [sample(NOW + 10_000, ['production', 'standby'], NOW + 9_000)];
    const report = judged(gameDayReport(plan, run, samples, [notice('standby', NOW + 9_000, 'two-primaries')]), plan);
    expect(report.verdict?.failed).toEqual([
      'failovers: expected 1, the run started 0',
      'promotions: expected 1, the run promoted 0',
      'finalPrimary: expected standby, at the end acting: production and standby',
      'detectionMsMax: expected a failover decision within 12000 ms of the first fatal fault, the run made none',
      'notification: expected promoted at standby, none was sent',
      'maxSimultaneousPrimaries: expected at most 1, the run had 2',
      'noNotification: expected no two-primaries, 1 sent (the first at 9000 ms)',
    ]);
  });
});

describe('gameday run, followed through FIS', () => {
  // The registry holds @aws-sdk/client-fis only at an older release than the other clients, whose types
  // aws-sdk-client-mock follows: the stub is the same at run time, typed loosely here.
  const fis = mockClient(FisClient as never) as unknown as {
    on(command: unknown): { resolves(output: unknown): void; callsFake(fn: () => unknown): void };
    reset(): void;
    commandCalls(command: unknown): { args: [{ input: Record<string, unknown> }] }[];
  };
  const cw = mockClient(CloudWatchClient);
  const plan = gameDayPlan(quorum, 'network-cut', 'production');
  const template = {
    id: 'EXT1',
    tags: { 'mirrorbeat:cluster': 'orders', 'mirrorbeat:game-day': 'receiver-fails', 'mirrorbeat:site': 'standby' },
  };
  let clock = NOW;
  const progress: string[] = [];
  const deps = (
    pairs: ClusterStatus = status([healthySite('production', 'primary'), healthySite('standby', 'secondary')]),
  ): RunDeps => ({
    cluster: 'orders',
    regions: { production: quorum.productionRegion, standby: quorum.standbyRegion },
    intervalSeconds: 2,
    cooldownSeconds: 300,
    fis: () => new FisClient({ region: 'us-west-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    cloudwatch: () =>
      new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    status: async () => ({ ...pairs, atMs: clock }),
    journal: () =>
      ({
        recent: async () => [
          {
            id: 'n1',
            subject: '',
            notice: {
              ...notice('standby', NOW + 40_000, 'path-failed'),
              path: 'network',
              cluster: 'orders',
              detail: {},
            },
          },
          {
            id: 'n2',
            subject: '',
            notice: {
              ...notice('standby', NOW + 320_000, 'path-recovered'),
              path: 'network',
              cluster: 'orders',
              detail: {},
            },
          },
        ],
      }) as unknown as NoticeJournal,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    progress: (line) => progress.push(line),
    pollMs: 10_000,
    settleMs: 60_000,
  });

  beforeEach(() => {
    fis.reset();
    cw.reset();
    clock = NOW;
    progress.length = 0;
    fis.on(ListExperimentTemplatesCommand).resolves({ experimentTemplates: [template] });
    fis.on(ListExperimentsCommand).resolves({ experiments: [] });
    fis.on(StartExperimentCommand).resolves({ experiment: { id: 'EXP1', state: { status: 'initiating' } } });
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  });

  it('starts the template of the target site, follows it to completion, and judges it by the twin', async () => {
    let polls = 0;
    fis.on(GetExperimentCommand).callsFake(() => {
      polls += 1;
      return { experiment: { id: 'EXP1', state: { status: polls < 30 ? 'running' : 'completed' } } };
    });
    const templateId = await checkRunnable(plan, deps());
    const outcome = await runGameDay(plan, templateId, deps());
    expect(fis.commandCalls(StartExperimentCommand)[0]?.args[0].input).toMatchObject({
      experimentTemplateId: 'EXT1',
      tags: { 'mirrorbeat:cluster': 'orders', 'mirrorbeat:game-day': 'network-cut' },
    });
    expect(fis.commandCalls(StopExperimentCommand)).toHaveLength(0);
    expect(outcome).toMatchObject({ experiment: { id: 'EXP1', state: 'completed' }, stoppedBy: null });
    expect(outcome.report.verdict).toEqual({ passed: true, failed: [] });
    expect(progress[0]).toMatch(/^started experiment EXP1: every invocation of the site's network receiver fails/);
  });

  it("reads the pair and the journals from the sites' own tables (DynamoDB Local) while a recorded experiment runs", async () => {
    const [sns, bus] = [mockClient(SNSClient), mockClient(EventBridgeClient)];
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const { production, standby, link } = await localSites();
    const [p, s] = [moduleFor(production), moduleFor(standby)];
    const tables = tablesOf(production, standby);
    // Only the storage path is wired between two local modules: the network path is switched off at both sites.
    for (const site of ['production', 'standby'] as const)
      await production.store.paths.setPathMode(site, 'network', 'disabled', 'test', 'storage only', NOW - 1_000);
    let at = NOW;
    const advance = async (ms: number) => {
      for (const end = at + ms; at < end; at += 2_000) {
        await p.tick(at);
        await s.tick(at + 500);
        await link.pump(at + 1_000);
      }
    };
    await advance(10_000);
    // What the sites would journal while the standby's receiver fails, written where they write it.
    const journal = (site: SiteId) => {
      const t = tables.find((x) => x.site === site)!;
      return new Journal(t.db, t.heartbeatVolume);
    };
    let polls = 0;
    fis.on(GetExperimentCommand).callsFake(async () => {
      polls += 1;
      const say = (kind: NoticeKind) =>
        journal('standby').add(
          'standby',
          `gd.${kind}`,
          { ...notice('standby', at, kind), path: 'network', cluster: 'orders' },
          's',
        );
      if (polls === 3) await say('path-failed');
      if (polls === 8) await say('path-recovered');
      return { experiment: { id: 'EXP1', state: { status: polls < 10 ? 'running' : 'completed' } } };
    });
    const real: RunDeps = {
      ...deps(),
      status: () => readClusterStatus('orders', tables, at),
      journal,
      now: () => at,
      sleep: advance,
    };
    const plan2 = gameDayPlan(quorum, 'network-cut', 'production');
    const outcome = await runGameDay(plan2, await checkRunnable(plan2, real), real);
    expect(outcome.report.primaryTimeline).toEqual([{ atMs: 0, site: 'production', epoch: 1, acting: true }]);
    expect(outcome.report.notifications.filter((n) => n.path === 'network')).toEqual([
      { atMs: 30_000, site: 'standby', kind: 'path-failed', severity: 'warning', path: 'network' },
      { atMs: 80_000, site: 'standby', kind: 'path-recovered', severity: 'warning', path: 'network' },
    ]);
    expect(outcome.report.verdict).toEqual({ passed: true, failed: [] });
    // The same page as simulate --html: the sites' lanes, the fault where it began, the notices.
    const page = gameDayPage(quorum, plan2, outcome, 'expected: all met');
    expect(page).toMatch(/^<!doctype html>/i);
    expect(page).toContain('aws:lambda:invocation-error on the network receiver of Mirrorbeat-orders-standby');
    expect(page).toContain('expected: all met');
    expect(page).toContain('primary @1');
    sns.restore();
    bus.restore();
  });

  it("stops the experiment when the peer's stop alarm goes to ALARM, which FIS cannot watch", async () => {
    fis.on(GetExperimentCommand).resolves({ experiment: { id: 'EXP1', state: { status: 'running' } } });
    fis.on(StopExperimentCommand).callsFake(() => {
      fis
        .on(GetExperimentCommand)
        .resolves({ experiment: { id: 'EXP1', state: { status: 'stopped', reason: 'stopped by user' } } });
      return {};
    });
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'mirrorbeat-orders-production-TwoPrimaries', StateValue: 'ALARM' }],
    });
    const outcome = await runGameDay(plan, 'EXT1', deps());
    expect(cw.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input.AlarmNames).toEqual([
      'mirrorbeat-orders-production-TwoPrimaries',
      'mirrorbeat-orders-production-GameDayNoPrimary',
    ]);
    expect(fis.commandCalls(StopExperimentCommand)[0]?.args[0].input).toEqual({ id: 'EXP1' });
    expect(outcome).toMatchObject({
      experiment: { state: 'stopped' },
      stoppedBy: 'mirrorbeat-orders-production-TwoPrimaries',
    });
  });

  it('refuses while another experiment of the cluster runs, without a template, and on an unhealthy pair', async () => {
    fis.on(ListExperimentsCommand).resolves({
      experiments: [
        {
          id: 'EXP0',
          state: { status: 'running' },
          tags: { 'mirrorbeat:cluster': 'orders', 'mirrorbeat:game-day': 'primary-crash' },
        },
      ],
    });
    await expect(checkRunnable(plan, deps())).rejects.toThrow(
      /not started: another game-day experiment has not ended: EXP0 \(primary-crash, running, us-east-1\)/,
    );
    fis.on(ListExperimentTemplatesCommand).resolves({ experimentTemplates: [] });
    await expect(checkRunnable(plan, deps())).rejects.toThrow(
      new GameDayRefused(
        'gameday: no receiver-fails template of cluster orders at standby (us-west-2); deploy with -c mirrorbeat.gameDay=true',
      ),
    );
    fis.on(ListExperimentTemplatesCommand).resolves({ experimentTemplates: [template] });
    fis.on(ListExperimentsCommand).resolves({ experiments: [] });
    await expect(
      checkRunnable(plan, deps(status([healthySite('production', 'primary'), siteUnread('standby', 'us-west-2')]))),
    ).rejects.toThrow(/standby: its tables in us-west-2 do not answer/);
    expect(fis.commandCalls(StartExperimentCommand)).toHaveLength(0);
  });
});

describe('the gameday commands, as a user types them', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'mirrorbeat.js'), 'gameday', ...args], {
      encoding: 'utf8',
      cwd: path.join(__dirname, '..', '..'),
      timeout: 60_000,
      env: { ...process.env, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' },
    });

  it('lists one name per line, and refuses a page it could not write before touching the account', () => {
    expect(cli('list')).toMatchObject({
      status: 0,
      stdout: 'primary-crash\nprimary-replica-isolated\nstandby-replica-isolated\nnetwork-cut\n',
    });
    const refused = cli('run', 'network-cut', '--yes', '--html', '/nonexistent/folder/game-day.html');
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^mirrorbeat: --html: cannot write \/nonexistent\/folder\/game-day\.html: ENOENT; /),
    ]);
  });
});
