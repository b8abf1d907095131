import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { formatStatus, readClusterStatus } from '../../bin/commands/status';
import { runPathControl } from '../../bin/commands/path';
import { localSites, moduleFor } from '../local-sites';

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
    await production.store.setPathMode('production', 'network', 'disabled', 'cli', 'maintenance CHG-1', NOW + 7_000);
    const tables = [production, standby].map((x) => ({ site: x.settings.site, region: x.settings.region, db: x.db, heartbeatVolume: x.settings.heartbeatVolume, observations: x.settings.observations }));
    const status = await readClusterStatus('orders', tables, NOW + 8_000);
    expect(status.sites.map((x) => [x.site, x.reachable, x.role, x.cluster?.epoch])).toEqual([
      ['production', true, 'primary', 1],
      ['standby', true, 'secondary', 1],
    ]);
    expect(status.sites[0]?.paths.network).toMatchObject({ mode: 'disabled', modeReason: 'maintenance CHG-1' });
    expect(status.sites[1]?.paths.storage).toMatchObject({ mode: 'enabled', state: 'healthy', lastBeatAgeMs: expect.any(Number) });
    expect(status.sites[1]?.lastTickAgeMs).toBe(1_500);
    const text = formatStatus(status);
    expect(text.split('\n')[0]).toBe('mirrorbeat orders: epoch 1, primary production');
    expect(text).toContain('network  disabled (set ');
    expect(text).not.toContain('STALE');
    expect(formatStatus(await readClusterStatus('orders', tables, NOW + 60_000))).toMatch(/production .*last tick 54\.0 s ago — STALE/);
  });

  it('reports an unreachable site without hiding the other', async () => {
    const { production } = await localSites();
    const tables = [
      { site: 'production' as const, region: 'us-east-1', db: production.db, heartbeatVolume: production.settings.heartbeatVolume, observations: production.settings.observations },
      { site: 'standby' as const, region: 'us-west-2', db: production.db, heartbeatVolume: 'no-such-table', observations: 'no-such-table' },
    ];
    const status = await readClusterStatus('orders', tables, NOW);
    expect(status.sites.map((x) => x.reachable)).toEqual([true, false]);
    expect(formatStatus(status)).toMatch(/standby\s+us-west-2\s+unreachable: /);
  });
});

describe('mirrorbeat path', () => {
  const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:mirrorbeat-orders-production-path-control';
  const request = { path: 'network' as const, action: 'deactivate' as const, reason: 'maintenance', force: false };

  it('starts the path-control workflow with the console input and follows it to success', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:x` });
    sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' }).resolves({ status: 'SUCCEEDED', output: '{"finalize":{"result":{"mode":"disabled"}}}' });
    const outcome = await runPathControl(new SFNClient({ region: 'us-east-1' }), arn, request, { name: 'cli-1', sleep: async () => undefined });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { finalize: { result: { mode: 'disabled' } } } });
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toEqual(request);
  });

  it('reports a refused command with its cause', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:y` });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'CommandRefused', cause: 'see the notice for the reason' });
    expect(await runPathControl(new SFNClient({ region: 'us-east-1' }), arn, request, { name: 'cli-2', sleep: async () => undefined })).toMatchObject({ status: 'FAILED', error: 'CommandRefused' });
  });

  const cli = (...args: string[]) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    return spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'mirrorbeat.js'), ...args], { encoding: 'utf8', cwd: path.join(__dirname, '..', '..'), env: { ...env, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' } });
  };

  it.each([
    [['path', 'deactivate', 'radio'], 'mirrorbeat: path: got "radio"; allowed: network or storage'],
    [['path', 'activate', 'network', '--site', 'moon'], 'mirrorbeat: --site: got "moon"; allowed: production or standby'],
  ])('refuses %j with exit 2 and one line', (args, line) => {
    const out = cli(...args);
    expect(out.status).toBe(2);
    expect(out.stderr.trim()).toBe(line);
  });

  it('says in one line that there are no credentials, with exit 1', () => {
    const out = cli('status');
    expect(out.status).toBe(1);
    expect(out.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^mirrorbeat: no AWS credentials found: set AWS_PROFILE/)]);
  });
});
