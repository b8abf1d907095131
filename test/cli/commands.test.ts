import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { answerApproval, findPendingApproval, formatFailoverOutcome } from '../../bin/commands/failover';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { formatHistory, readHistory } from '../../client/history';
import {
  acknowledgeNotices,
  quorumStatus,
  readClusterStatus,
  readNotice,
  replicationStatus,
  siteUnread,
  type SiteStatus,
} from '../../client/status';
import { formatReadiness } from '../../bin/commands/readiness';
import { formatNotice, formatStatus } from '../../bin/commands/status';
import { recordedReadiness } from '../../lambdas/core/readiness';
import { runWorkflow } from '../../bin/commands/workflow';
import { localSites, moduleFor, tablesOf } from '../local-sites';

const NOW = Math.floor(Date.now() / 1000) * 1000;
const events = mockClient(EventBridgeClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);

const moduleOf = moduleFor;

beforeEach(() => {
  events.reset();
  sfn.reset();
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

describe('mirrorbeat status', () => {
  it("reads both sites from their own replicas: roles, epoch, each path's mode and state, beat ages", async () => {
    const { production, standby, link } = await localSites();
    const [p, s] = [moduleOf(production), moduleOf(standby)];
    for (let t = 0; t <= 6_000; t += 2_000) {
      await p.tick(NOW + t);
      await s.tick(NOW + t + 500);
      await link.pump(NOW + t + 1_000);
    }
    await production.store.paths.setPathMode(
      'production',
      'network',
      'disabled',
      'cli',
      'maintenance CHG-1',
      NOW + 7_000,
    );
    const tables = tablesOf(production, standby);
    const status = await readClusterStatus('orders', tables, NOW + 8_000);
    expect(status.sites.map((x) => [x.site, x.reachable, x.role, x.cluster?.epoch])).toEqual([
      ['production', true, 'primary', 1],
      ['standby', true, 'secondary', 1],
    ]);
    expect(status.sites[0]?.paths.network).toMatchObject({ mode: 'disabled', modeReason: 'maintenance CHG-1' });
    expect(status.sites[1]?.paths.storage).toMatchObject({
      mode: 'enabled',
      state: 'healthy',
      lastBeatAgeMs: expect.any(Number),
    });
    expect(status.sites[1]?.lastTickAgeMs).toBe(1_500);
    const text = formatStatus(status);
    expect(text.split('\n')[0]).toBe('mirrorbeat orders: epoch 1, primary production');
    expect(text).toContain('network  disabled (set ');
    expect(text).not.toContain('not heard from');
    // Quorum mode: both sites reached a majority and each other's replica; the witness nobody can see.
    expect(status.quorum).toEqual({
      majority: true,
      witness: 'unknown',
      sinceMs: expect.any(Number),
      degraded: false,
      why: [],
      from: ['production', 'standby'],
    });
    // Both replicas read: each site's last beat is in the other's replica, nothing behind.
    expect(status.replication).toEqual([
      { from: 'production', to: 'standby', behindMs: 0, state: 'ok' },
      { from: 'standby', to: 'production', behindMs: 0, state: 'ok' },
    ]);
    expect(text).toContain('  replication: production → standby 0.0 s behind; standby → production 0.0 s behind');
    expect(text.split('\n')[1]).toMatch(
      /^ {2}quorum: whole since 20\d\d-.*Z: production reaches a majority, standby's replica reachable; standby reaches a majority, production's replica reachable; witness unknown \(no API shows it; no AWS Health event names its region\)$/,
    );
    // A site whose module went quiet is never shown as acting: when it was last heard from, and what it last said.
    const quiet = formatStatus(await readClusterStatus('orders', tables, NOW + 60_000));
    expect(quiet).toMatch(
      /production +us-east-1 +not heard from since 20\d\d-\d\d-\d\dT[\d:.]+Z \(last tick 54\.0 s ago\): its heartbeat module is not ticking \(site down, or its module stopped\); its last record said primary, verdict /,
    );
    expect(quiet).not.toMatch(/production +us-east-1 +acts as/);
  });

  it('reports an unreachable site without hiding the other', async () => {
    const { production } = await localSites();
    const tables = [
      {
        site: 'production' as const,
        region: 'us-east-1',
        db: production.db,
        heartbeatVolume: production.settings.heartbeatVolume,
        observations: production.settings.observations,
      },
      {
        site: 'standby' as const,
        region: 'us-west-2',
        db: production.db,
        heartbeatVolume: 'no-such-table',
        observations: 'no-such-table',
      },
    ];
    const status = await readClusterStatus('orders', tables, NOW);
    expect(status.sites.map((x) => x.reachable)).toEqual([true, false]);
    expect(formatStatus(status)).toMatch(/standby\s+us-west-2\s+unreachable: /);
  });

  it("measures replication from both replicas by the writer's own send times, and says when the receiver saw it lag", () => {
    const at = Date.parse('2026-12-07T10:00:00.000Z');
    const beat = (serial: number, ms: number) => ({ serial, sentAtMs: at + ms });
    const sites = [
      { site: 'production', beats: { production: beat(110, 20_000), standby: beat(55, 19_000) }, replication: 'ok' },
      { site: 'standby', beats: { production: beat(100, 0), standby: beat(55, 19_000) }, replication: 'lagging' },
    ] as unknown as SiteStatus[];
    expect(replicationStatus(sites)).toEqual([
      { from: 'production', to: 'standby', behindMs: 20_000, state: 'lagging' },
      { from: 'standby', to: 'production', behindMs: 0, state: 'ok' },
    ]);
    // A replica that could not be read: unknown, not zero.
    expect(replicationStatus([sites[0] as SiteStatus])[0]).toEqual({
      from: 'production',
      to: 'standby',
      behindMs: null,
      state: null,
    });
    const text = formatStatus({
      cluster: 'orders',
      atMs: at,
      notices: [],
      sites: [],
      quorum: null,
      replication: replicationStatus(sites),
    });
    expect(text).toContain(
      '  replication: production → standby 20.0 s behind (LAGGING: standby saw its beats arrive past half the RPO budget); standby → production 0.0 s behind',
    );
  });

  it('sums up the quorum from both views: which vote is missing, and nothing at all in two-region mode', () => {
    const site = (id: 'production' | 'standby', quorum: SiteStatus['quorum'], reachable = true): SiteStatus => ({
      ...siteUnread(id, id === 'production' ? 'us-east-1' : 'us-west-2'),
      reachable,
      lastTickAgeMs: 1_000,
      quorum,
    });
    const whole = { degraded: false, majority: true, peerReplica: 'reachable', witness: 'unknown' } as const;
    const at = (iso: string) => ({ ...whole, since: iso });
    expect(quorumStatus([site('production', null), site('standby', null)])).toBeNull();
    expect(
      quorumStatus([
        site('production', at('2026-12-07T10:00:00.000Z')),
        site('standby', at('2026-12-07T10:05:00.000Z')),
      ]),
    ).toEqual({
      majority: true,
      witness: 'unknown',
      sinceMs: Date.parse('2026-12-07T10:05:00.000Z'),
      degraded: false,
      why: [],
      from: ['production', 'standby'],
    });
    // A site not heard from for 30 s (its module stopped): its last record says nothing of now and is left out.
    const quiet = {
      ...site('production', { ...at('2026-12-07T10:09:00.000Z'), majority: false }),
      lastTickAgeMs: 30_001,
    };
    const standby = site('standby', { ...at('2026-12-07T10:05:00.000Z'), peerReplica: 'unknown' });
    const one = quorumStatus([quiet, standby]);
    expect(one).toMatchObject({ majority: true, degraded: false, why: [], from: ['standby'] });
    const lines = formatStatus({
      cluster: 'orders',
      atMs: 0,
      notices: [],
      sites: [quiet, standby],
      quorum: one,
      replication: [],
    });
    expect(lines.split('\n').find((line) => line.includes('quorum'))).toBe(
      "  quorum: whole since 2026-12-07T10:05:00.000Z: standby reaches a majority, production's replica unknown; witness unknown (no API shows it; no AWS Health event names its region)",
    );
    const cut = quorumStatus([
      site('production', at('2026-12-07T10:00:00.000Z')),
      site('standby', { ...at('2026-12-07T10:05:00.000Z'), degraded: true, peerReplica: 'unreachable' }),
    ]);
    expect(cut).toMatchObject({
      majority: true,
      degraded: true,
      why: ["standby sees production's beats stop replicating while its network beats arrive"],
    });
    const alone = quorumStatus([
      site('production', {
        ...at('2026-12-07T10:00:00.000Z'),
        degraded: true,
        majority: false,
        witness: 'unreachable',
      }),
      site('standby', null, false),
    ]);
    expect(alone).toMatchObject({
      majority: false,
      witness: 'unreachable',
      degraded: true,
      why: [
        'production reaches no majority',
        "standby's replica (us-west-2) could not be read: it may have no majority",
        'an AWS Health event names DynamoDB in the witness region',
      ],
    });
    const status = { cluster: 'orders', atMs: 0, notices: [], sites: [], quorum: alone, replication: [] };
    expect(formatStatus(status).split('\n')[1]).toBe(
      "  QUORUM DEGRADED since 2026-12-07T10:00:00.000Z: production reaches no majority; standby's replica (us-west-2) could not be read: it may have no majority; an AWS Health event names DynamoDB in the witness region; witness unreachable (AWS Health): one more fault and no failover can happen",
    );
  });
});

describe('mirrorbeat readiness, and its line in status', () => {
  const checks = [
    { name: 'role', ok: true, reason: 'standby is secondary at epoch 1, production is primary' },
    { name: 'action:capacity', ok: false, reason: 'no Auto Scaling group workers in this region' },
  ];

  it('prints the verdict, then each check with its reason', () => {
    const at = Date.parse('2026-12-07T21:00:00.000Z');
    expect(formatReadiness({ ready: false, site: 'standby', atMs: at, checks }).split('\n')).toEqual([
      'failover readiness of standby at 2026-12-07T21:00:00.000Z: NOT READY (1 of 2 checks fail)',
      '  ok    role             standby is secondary at epoch 1, production is primary',
      '  FAIL  action:capacity  no Auto Scaling group workers in this region',
    ]);
    expect(formatReadiness({ ready: true, site: 'standby', atMs: at, checks: checks.slice(0, 1) })).toMatch(
      /: READY\n {2}ok {4}role {2}standby is secondary/,
    );
  });

  it("shows each site's last check under its line: when it ran and, when not ready, what fails", async () => {
    const { production, standby, link } = await localSites();
    const [p, s] = [moduleOf(production), moduleOf(standby)];
    for (let t = 0; t <= 4_000; t += 2_000) {
      await p.tick(NOW + t);
      await s.tick(NOW + t + 500);
      await link.pump(NOW + t + 1_000);
    }
    const tables = tablesOf(production, standby);
    expect((await readClusterStatus('orders', tables, NOW + 5_000)).sites.map((x) => x.readiness)).toEqual([
      null,
      null,
    ]);
    await standby.store.views.recordView(
      'standby',
      'readiness',
      recordedReadiness({ ready: false, site: 'standby', atMs: NOW + 1_000, checks }),
      NOW + 1_000,
      'readiness-1',
    );
    await production.store.views.recordView(
      'production',
      'readiness',
      recordedReadiness({ ready: true, site: 'production', atMs: NOW + 2_000, checks: checks.slice(0, 1) }),
      NOW + 2_000,
      'readiness-2',
    );
    const status = await readClusterStatus('orders', tables, NOW + 5_000);
    expect(status.sites.map((x) => x.readiness)).toEqual([
      { ready: true, atMs: NOW + 2_000, failing: [] },
      { ready: false, atMs: NOW + 1_000, failing: [checks[1]] },
    ]);
    const lines = formatStatus(status).split('\n');
    expect(lines.filter((l) => l.includes('readiness'))).toEqual([
      '    readiness  ready: a failover to this site would succeed as far as checked (checked 3.0 s ago)',
      '    readiness  FAILOVER NOT READY (checked 4.0 s ago): action:capacity: no Auto Scaling group workers in this region',
    ]);
  });
});

describe('notices in mirrorbeat status, and mirrorbeat ack', () => {
  it('lists the newest notices of both sites with their delivery and acknowledgement, read from either replica', async () => {
    const { production, standby, link } = await localSites();
    const [p, s] = [moduleOf(production), moduleOf(standby)];
    for (let t = 0; t <= 4_000; t += 2_000) {
      await p.tick(NOW + t);
      await s.tick(NOW + t + 500);
      await link.pump(NOW + t + 1_000);
    }
    // Production goes quiet: the standby loses it on the storage path (the network path never carried
    // a beat in this harness, so it counts as pending), then decides it is lost.
    for (let t = 6_000; t <= 40_000; t += 2_000) await s.tick(NOW + t + 500);
    await link.pump(NOW + 41_000);
    const tables = tablesOf(production, standby);
    const status = await readClusterStatus('orders', tables, NOW + 42_000);
    expect(status.notices.map((n) => [n.site, n.kind, n.severity, n.delivery, n.acknowledged])).toEqual(
      expect.arrayContaining([
        ['standby', 'peer-lost', 'critical', 'published', null],
        ['standby', 'path-failed', 'warning', 'published', null],
      ]),
    );
    expect(status.notices.map((n) => n.at)).toEqual([...status.notices.map((n) => n.at)].sort().reverse());
    const lost = status.notices.find((n) => n.kind === 'peer-lost');
    // Nobody took over in this harness (its failover workflow is a mock): past the lease and the grace, the standby
    // says so.
    expect(formatStatus(status)).toMatch(/notices \(newest first; 3 unacknowledged;/);
    expect(formatStatus(status)).toMatch(/^ {2}NO PRIMARY: standby has seen no site acting as primary since /m);
    expect(formatStatus(status)).toMatch(/! .* critical no site acts as primary \(standby\); UNACKNOWLEDGED/);
    // The same decision in the history, with why; the path failures and the lost peer are observations, not decisions.
    const history = await readHistory(tables, Date.now());
    expect(history.unread).toEqual([]);
    expect(history.entries.map((e) => [e.site, e.kind])).toEqual([['standby', 'no-primary']]);
    expect(formatHistory(history).split('\n')).toEqual([
      expect.stringMatching(
        /^20\d\d-\S+ {2}standby {4}no-primary {11}mirrorbeat orders: no site acts as primary \(standby\) \(epoch 1\)$/,
      ),
      expect.stringMatching(/^ {36}production's lease at epoch 1 ran out \d+ s ago and no site has taken over$/),
    ]);
    expect(formatStatus(status)).toMatch(
      /! .* critical peer site lost on every enabled path \(standby\); UNACKNOWLEDGED/,
    );

    expect(
      await acknowledgeNotices(
        tables,
        { ids: [lost?.id ?? '', 'no-such-id'], all: false, by: 'alice', note: 'region outage, INC-7' },
        NOW + 43_000,
      ),
    ).toEqual([
      { id: lost?.id, site: 'standby', outcome: 'acknowledged' },
      { id: 'no-such-id', site: null, outcome: 'unknown' },
    ]);
    await link.pump(NOW + 44_000);
    // With the standby's region down, its notices (and the acknowledgement) still read from production's replica.
    const standbyDown = [
      tables[0]!,
      { ...tables[1]!, heartbeatVolume: 'no-such-table', observations: 'no-such-table' },
    ];
    const later = await readClusterStatus('orders', standbyDown, NOW + 45_000);
    expect(later.sites[1]?.reachable).toBe(false);
    expect(later.notices.find((n) => n.id === lost?.id)?.acknowledged).toMatchObject({
      by: 'alice',
      note: 'region outage, INC-7',
    });
    expect(formatStatus(later)).toContain('acknowledged by alice (region outage, INC-7)');
    // The failure notice itself, whole, shown from the surviving region.
    const shown = formatNotice((await readNotice(standbyDown, lost?.id ?? ''))!);
    expect(shown.split('\n').slice(0, 2)).toEqual([
      'Subject: mirrorbeat orders: peer site lost on every enabled path (standby)',
      expect.stringMatching(/^\(delivered at .*; acknowledged by alice at .*: region outage, INC-7\)$/),
    ]);
    expect(shown).toContain('  storage  failed    last valid beat');
    expect(await readNotice(standbyDown, 'no-such-id')).toBeUndefined();

    const rest = await acknowledgeNotices(
      standbyDown,
      { ids: [], all: true, site: 'standby', by: 'bob', note: '' },
      NOW + 46_000,
    );
    expect(rest).toEqual([
      { id: expect.stringMatching(/\.no-primary$/), site: 'standby', outcome: 'acknowledged' },
      { id: expect.stringMatching(/\.path-failed\.storage$/), site: 'standby', outcome: 'acknowledged' },
    ]);
    // Written in production's replica; the standby's sees it once replication carried it.
    await link.pump(NOW + 46_500);
    expect(
      (await readClusterStatus('orders', tables, NOW + 47_000)).notices.every((n) => n.acknowledged !== null),
    ).toBe(true);
  });
});

describe('mirrorbeat path', () => {
  const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:mirrorbeat-orders-production-path-control';
  const request = { path: 'network' as const, action: 'deactivate' as const, reason: 'maintenance', force: false };

  it('starts the path-control workflow with the console input and follows it to success', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:x` });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'SUCCEEDED', output: '{"finalize":{"result":{"mode":"disabled"}}}' });
    const outcome = await runWorkflow(new SFNClient({ region: 'us-east-1' }), arn, request, {
      name: 'cli-1',
      sleep: async () => undefined,
    });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { finalize: { result: { mode: 'disabled' } } } });
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toEqual(request);
  });

  it('reports a refused command with its cause', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:y` });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'FAILED', error: 'CommandRefused', cause: 'see the notice for the reason' });
    expect(
      await runWorkflow(new SFNClient({ region: 'us-east-1' }), arn, request, {
        name: 'cli-2',
        sleep: async () => undefined,
      }),
    ).toMatchObject({ status: 'FAILED', error: 'CommandRefused' });
  });

  const cli = (...args: string[]) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    return spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'mirrorbeat.js'), ...args], {
      encoding: 'utf8',
      cwd: path.join(__dirname, '..', '..'),
      // A child that hangs fails its test (killed, no status) instead of stalling the whole run.
      timeout: 60_000,
      env: {
        ...env,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      },
    });
  };

  it.each([
    [['path', 'deactivate', 'radio'], 'mirrorbeat: path: got "radio"; allowed: network or storage'],
    [
      ['path', 'activate', 'network', '--site', 'moon'],
      'mirrorbeat: --site: got "moon"; allowed: production or standby',
    ],
    [['switchover', '--to', 'moon'], 'mirrorbeat: --to: got "moon"; allowed: production or standby'],
    [['failover', '--site', 'moon', '--dry-run'], 'mirrorbeat: --site: got "moon"; allowed: production or standby'],
    [['ack'], 'mirrorbeat: ack: name the notice ids to acknowledge (mirrorbeat status lists them), or pass --all'],
    [['ack', '1795634231798.peer-lost', '--all'], 'mirrorbeat: ack: give notice ids or --all, not both'],
    [
      ['notice', '1795634231798.peer-lost', '--site', 'moon'],
      'mirrorbeat: --site: got "moon"; allowed: production or standby',
    ],
  ])('refuses %j with exit 2 and one line', (args, line) => {
    const out = cli(...args);
    expect(out.status).toBe(2);
    expect(out.stderr.trim()).toBe(line);
  });

  const cdkContext = () =>
    (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: object }).context;

  it.each([
    [['maintenance', 'maybe'], 'mirrorbeat: maintenance: got "maybe"; allowed: on or off'],
    [
      ['maintenance', 'on'],
      'mirrorbeat: --reason: required to switch maintenance on, such as --reason "CHG-42 database upgrade"',
    ],
  ])('refuses %j in one line naming the fix, before calling AWS', (args, message) => {
    const out = cli(...args);
    expect(out.status).toBe(2);
    expect(out.stderr.trim().split('\n')).toEqual([message]);
  });

  it.each([
    [
      'intervalSeconds=5',
      'intervalSeconds: a mirrorbeat key without the "mirrorbeat." prefix, so it would be ignored; write mirrorbeat.intervalSeconds',
    ],
    [
      'mirrbeat.intervalSeconds=5',
      'mirrbeat.intervalSeconds: unknown context key, so it would be ignored; did you mean mirrorbeat.intervalSeconds?',
    ],
  ])('says a context key that would be ignored (-c %s) once, with the prefix said once', (pair, message) => {
    const out = cli('config', '-c', pair);
    expect(out.status).toBe(2);
    expect(out.stderr.trim().split('\n')).toEqual([`mirrorbeat: invalid configuration: ${message}`]);
  });

  it('reports a bad configuration in the words docs/CONFIGURATION.md shows, as cdk synth does', () => {
    const docs = readFileSync(path.join(__dirname, '..', '..', 'docs', 'CONFIGURATION.md'), 'utf8');
    const documented = /^mirrorbeat: invalid configuration: mirrorbeat\.intervalSeconds: .*$/m.exec(docs)?.[0];
    expect(documented).toBeDefined();
    const out = cli('config', '-c', 'mirrorbeat.intervalSeconds=0');
    expect(out.status).toBe(2);
    expect(out.stderr.trim()).toBe(documented);
    const synth = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'bin', 'app.ts')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ ...cdkContext(), 'mirrorbeat.intervalSeconds': '0' }),
      },
      cwd: path.join(__dirname, '..', '..'),
    });
    expect(synth.status).toBe(1);
    expect(synth.stderr.trim()).toBe(documented);
  });

  it.each([
    ['status'],
    ['failover', '--dry-run'],
    ['switchover'],
    ['approve'],
    ['ack', '--all'],
    ['notice', '1795634231798.peer-lost'],
    ['maintenance', 'on', '--reason', 'CHG-1'],
    ['history'],
    ['readiness'],
    ['readiness', '--site', 'standby', '--json'],
  ])('says in one line that there are no credentials, with exit 1 (%s)', (...args) => {
    const out = cli(...args);
    expect(out.status).toBe(1);
    expect(out.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^mirrorbeat: no AWS credentials found: set AWS_PROFILE/),
    ]);
  });
});

describe('mirrorbeat failover, switchover, approve and reject', () => {
  const arn = 'arn:aws:states:us-west-2:123456789012:stateMachine:mirrorbeat-orders-standby-failover';
  const approvalScheduled = (token: string) => ({
    type: 'TaskScheduled' as const,
    timestamp: new Date(),
    id: 7,
    taskScheduledEventDetails: {
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      region: 'us-west-2',
      parameters: JSON.stringify({
        FunctionName: 'f',
        Payload: { step: 'notify', notify: { outcome: 'awaiting-approval', at: 'AwaitApproval' }, taskToken: token },
      }),
    },
  });

  it('finds the failover that waits for approval in its history and approves it with its token', async () => {
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: `${arn}:failover-epoch-2`,
          name: 'failover-epoch-2',
          stateMachineArn: arn,
          status: 'RUNNING',
          startDate: new Date(),
        },
      ],
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [{ type: 'TaskSubmitted', timestamp: new Date(), id: 8 }, approvalScheduled('token-abc')] });
    sfn.on(SendTaskSuccessCommand).resolves({});
    const client = new SFNClient({ region: 'us-west-2' });
    const pending = await findPendingApproval(client, arn);
    expect(pending).toEqual({
      executionArn: `${arn}:failover-epoch-2`,
      name: 'failover-epoch-2',
      taskToken: 'token-abc',
    });
    await answerApproval(client, pending!, 'approve', 'cli:alice', 'checked the region is down');
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'token-abc',
      output: JSON.stringify({ approvedBy: 'cli:alice', reason: 'checked the region is down' }),
    });
  });

  it('a rejection fails the task with the Rejected error the workflow catches; an answered approval is not found again', async () => {
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: `${arn}:a`, name: 'a', stateMachineArn: arn, status: 'RUNNING', startDate: new Date() },
      ],
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [approvalScheduled('token-r')] });
    sfn.on(SendTaskFailureCommand).resolves({});
    const client = new SFNClient({ region: 'us-west-2' });
    await answerApproval(client, (await findPendingApproval(client, arn))!, 'reject', 'cli:bob', 'false alarm');
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toMatchObject({
      taskToken: 'token-r',
      error: 'Rejected',
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [{ type: 'TaskFailed', timestamp: new Date(), id: 9 }, approvalScheduled('token-r')] });
    expect(await findPendingApproval(client, arn)).toBeUndefined();
  });

  it('reports a drill step by step, with where a real run would have stopped', () => {
    const text = formatFailoverOutcome(
      { kind: 'failover', dryRun: true, requestedBy: 'cli', reason: 'drill' },
      {
        executionArn: `${arn}:cli-drill-1`,
        status: 'SUCCEEDED',
        tookMs: 2400,
        output: {
          confirm: { result: { peerLost: false, states: { network: 'healthy', storage: 'healthy' }, tookMs: 81 } },
          gates: {
            result: {
              passed: true,
              checks: [{ evidence: 'replication lag 700 ms against a budget of 30000 ms' }],
              tookMs: 240,
            },
          },
          fence: {
            result: { dryRun: true, would: 'write epoch 2 naming standby over production at epoch 1', tookMs: 35 },
          },
          promote: {
            result: {
              dryRun: true,
              actions: [{ action: 'route53-health-check', target: 'hc', detail: 'Inverted true' }],
              tookMs: 1,
            },
          },
          verify: { result: { ok: true, tookMs: 30 } },
        },
      },
    );
    expect(text.split('\n')).toEqual([
      'failover drill: SUCCEEDED in 2.4 s',
      '  confirm        81 ms  peer alive (network healthy, storage healthy): a real failover would abort here',
      '  gates         240 ms  passed: replication lag 700 ms against a budget of 30000 ms',
      '  fence          35 ms  would write epoch 2 naming standby over production at epoch 1',
      '  promote         1 ms  would take: route53-health-check (Inverted true)',
      '  verify         30 ms  cluster record as expected',
      `  execution: ${arn}:cli-drill-1`,
    ]);
  });

  it('starts a switchover with the console input and follows it', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:s` });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'SUCCEEDED', output: '{}', startDate: new Date(0), stopDate: new Date(4200) });
    const request = { kind: 'switchover', dryRun: false, requestedBy: 'cli:alice', reason: 'region maintenance' };
    expect(
      await runWorkflow(new SFNClient({ region: 'us-west-2' }), arn, request, {
        name: 'cli-switchover-1',
        sleep: async () => undefined,
      }),
    ).toMatchObject({ status: 'SUCCEEDED', tookMs: 4200 });
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toEqual(request);
  });
});
