import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseScenario } from '../../local/scenario';

const base = { name: 'x', durationMs: 60_000 };

describe('the scenario loader', () => {
  it.each([
    [
      { ...base, events: [{ atMs: 1000, fault: 'meteor', path: 'network' }] },
      /^scenario\.events\[0\]\.fault: got "meteor"; allowed: fault: one of partition, heal, lag, loss, crash, restart, pause, isolate, skew, drift, forge, replay, health$/,
    ],
    [
      { ...base, events: [{ atMs: 1000, fault: 'partition', between: ['production', 'standby'] }] },
      /^scenario\.events\[0\]\.between: got \["production","standby"\]; allowed: a site and the witness/,
    ],
    [
      { ...base, events: [{ atMs: 1000, fault: 'skew', site: 'witness', ms: 5 }] },
      /^scenario\.events\[0\]\.site: got "witness"; allowed: production or standby$/,
    ],
    [
      { ...base, events: [{ atMs: 1000, fault: 'drift', site: 'standby', ppm: 250_000 }] },
      /^scenario\.events\[0\]\.ppm: got 250000; allowed: at most 100000 \(10 % fast\)$/,
    ],
    [
      { ...base, events: [{ atMs: 1000, fault: 'drift', site: 'standby', ppm: 0.5 }] },
      /^scenario\.events\[0\]\.ppm: got 0\.5; allowed: a whole number of parts per million/,
    ],
    [
      { ...base, events: [{ atMs: 1000, fault: 'partition', path: 'radio' }] },
      /^scenario\.events\[0\]\.path: got "radio"; allowed: network or storage$/,
    ],
    [
      { ...base, events: [{ atMs: -5, fault: 'crash', site: 'production' }] },
      /^scenario\.events\[0\]\.atMs: got -5; allowed: 0 or more$/,
    ],
    [
      { ...base, events: [{ atMs: 70_000, fault: 'crash', site: 'production' }] },
      /^scenario\.events\[0\]\.atMs: got 70000; allowed: at most durationMs \(60000\)$/,
    ],
    [
      { ...base, events: [{ atMs: 1000, fault: 'loss', path: 'network', rate: 2 }] },
      /^scenario\.events\[0\]\.rate: got 2; allowed: to 1$/,
    ],
    [
      { ...base, events: [{ atMs: 1000, fault: 'crash', site: 'production', when: 'now' }] },
      /^scenario\.events\[0\]: unknown key "when"; see docs\/SCENARIOS.md/,
    ],
    [{ ...base, durationMs: 'long' }, /^scenario\.durationMs: got "long"; allowed: a whole number of milliseconds/],
    [
      { ...base, config: { intervalSeconds: 0 } },
      /^scenario\.config: intervalSeconds: got 0; allowed: an integer number of seconds from 1 to 20$/,
    ],
    [
      { ...base, colour: 'red' },
      /^scenario: unknown key "colour"; allowed: name, seed, durationMs, config, ebs, events, expect$/,
    ],
    [
      { ...base, expect: [{ failovers: 1, promotions: 1 }] },
      /^scenario\.expect\[0\]: got \{"failovers":1,"promotions":1\}; allowed: an object with one key of failovers, promotions, /,
    ],
    [
      { ...base, expect: [{ finalPrimary: 'witness' }] },
      /^scenario\.expect\[0\]\.finalPrimary: got "witness"; allowed: production, standby or none$/,
    ],
    [
      { ...base, expect: [{ notification: { kind: 'paged' } }] },
      /^scenario\.expect\[0\]\.notification\.kind: got "paged"; allowed: a notification kind: path-failed, /,
    ],
    [
      { ...base, expect: [{ notification: { kind: 'promoted', when: 5 } }] },
      /^scenario\.expect\[0\]\.notification: unknown key "when"; a notification matches on kind, site, path and severity/,
    ],
    [
      { ...base, expect: [{ noPrimaryMsMax: -1 }] },
      /^scenario\.expect\[0\]\.noPrimaryMsMax: got -1; allowed: 0 or more$/,
    ],
  ])('refuses %j with one line naming the field', (raw, message) => {
    expect(() => parseScenario(raw)).toThrow(message);
  });

  it('takes every event of the DESIGN grammar, ordered by time', () => {
    const s = parseScenario({
      ...base,
      seed: 7,
      config: { intervalSeconds: 2 },
      events: [
        { atMs: 30000, fault: 'partition', path: 'network' },
        { atMs: 9000, fault: 'heal', path: 'network' },
        { atMs: 4000, fault: 'lag', path: 'storage', ms: 8000 },
        { atMs: 5000, fault: 'loss', path: 'network', rate: 0.3 },
        { atMs: 6000, fault: 'crash', site: 'production' },
        { atMs: 6000, fault: 'pause', site: 'production', ms: 7000 },
        { atMs: 6000, fault: 'isolate', site: 'production' },
        { atMs: 6000, fault: 'skew', site: 'production', ms: 4000 },
        { atMs: 0, fault: 'drift', site: 'production', ppm: 200 },
        { atMs: 6000, fault: 'forge', path: 'network', count: 20 },
        { atMs: 6000, fault: 'replay', path: 'network', count: 20 },
        { atMs: 6000, fault: 'health', site: 'production', status: 'failed' },
        { atMs: 6000, command: 'deactivate', path: 'network' },
        { atMs: 6000, command: 'activate', path: 'network' },
        { atMs: 6000, command: 'switchover' },
        { atMs: 7000, fault: 'restart', site: 'production' },
        { atMs: 7000, fault: 'crash', site: 'witness' },
        { atMs: 7000, fault: 'partition', between: ['standby', 'witness'] },
        { atMs: 7000, fault: 'heal', between: ['witness', 'standby'] },
      ],
    });
    expect(s.events.map((e) => e.atMs)).toEqual([
      0, 4000, 5000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 7000, 7000, 7000, 7000, 9000, 30000,
    ]);
    expect(s.config.clusterName).toBe('demo');
  });

  it("puts the scenario's config on the given base key by key, nested objects merged, and says so when they clash", () => {
    const base = {
      clusterName: 'payments',
      productionRegion: 'eu-west-1',
      standbyRegion: 'eu-central-1',
      failoverMode: 'manual',
      health: { alarmNames: ['payments-5xx'] },
    };
    const s = parseScenario(
      { name: 'x', durationMs: 10_000, config: { health: { onPeerFailure: 'failover' } }, events: [] },
      base,
      'cdk.json (cluster payments)',
    );
    expect(s.config).toMatchObject({
      clusterName: 'payments',
      failoverMode: 'manual',
      health: { alarmNames: ['payments-5xx'], onPeerFailure: 'failover' },
    });
    expect(s.ownConfig).toEqual({ health: { onPeerFailure: 'failover' } });
    expect(() =>
      parseScenario(
        { name: 'x', durationMs: 10_000, config: { consistency: 'eventual', failoverMode: 'automatic' }, events: [] },
        base,
        'cdk.json (cluster payments)',
      ),
    ).toThrow(/^scenario\.config on top of cdk\.json \(cluster payments\): failoverMode: got "automatic"; allowed: /);
  });
});

describe('mirrorbeat simulate', () => {
  const simulate = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'mirrorbeat.js'), 'simulate', ...args], {
      encoding: 'utf8',
      cwd,
    });
  const crash = (dir: string) => {
    const file = path.join(dir, 'crash.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'crash',
        seed: 2,
        durationMs: 50_000,
        events: [{ atMs: 10_000, fault: 'crash', site: 'production' }],
      }),
    );
    return file;
  };

  it('rehearses the cdk.json of the folder it runs in, with -c overrides, and says which configuration ran', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mirrorbeat-'));
    const scenario = crash(dir);
    writeFileSync(
      path.join(dir, 'cdk.json'),
      JSON.stringify({
        app: 'x',
        context: {
          mirrorbeat: {
            clusterName: 'payments',
            productionRegion: 'us-east-1',
            standbyRegion: 'us-west-2',
            failoverMode: 'manual',
          },
        },
      }),
    );
    const manual = simulate(dir, '--scenario', scenario, '--json');
    // Nothing but the one warning a deploy of this configuration gives too: a failover would promote only the record.
    expect(manual.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^mirrorbeat: warning: mirrorbeat\.promotion: no action configured, so a failover moves /),
    ]);
    const report = JSON.parse(manual.stdout) as { configuration: string; failovers: unknown[] };
    expect(report.configuration).toBe('cdk.json (cluster payments)');
    expect(report.failovers).toEqual([]);

    const automatic = simulate(dir, '--scenario', scenario, '-c', 'mirrorbeat.failoverMode=automatic');
    expect(automatic.stdout.split('\n').filter((l) => l.includes('configuration:'))).toEqual([
      '  configuration: cdk.json (cluster payments) with -c mirrorbeat.failoverMode=automatic',
      '  configuration: cdk.json (cluster payments) with -c mirrorbeat.failoverMode=automatic',
    ]);
    expect(automatic.stdout).toMatch(/summary\n {2}configuration: .*\n {2}failover: production → standby at epoch 2/);
  });

  it('rehearses the built-in demo cluster where there is no cdk.json, and refuses a cdk.json that synth would refuse', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mirrorbeat-'));
    const scenario = crash(dir);
    const builtIn = JSON.parse(simulate(dir, '--scenario', scenario, '--json').stdout) as { configuration: string };
    expect(builtIn.configuration).toBe('the built-in demo cluster (no cdk.json in this folder)');
    writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ context: { mirrorbeat: { clusterName: 'payments' } } }));
    const bad = simulate(dir, '--scenario', scenario, '--json');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^mirrorbeat: invalid configuration: mirrorbeat\.productionRegion: got nothing; allowed: /),
    ]);
  });

  it.each([
    ['a folder that does not exist', 'no-such-folder/page.html', 'ENOENT'],
    ['a folder', '.', 'EISDIR'],
  ])('refuses --html naming %s before the run, in one line', (_, name, code) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mirrorbeat-'));
    const html = path.join(dir, name);
    const out = simulate(dir, '--scenario', crash(dir), '--html', html);
    expect(out.status).toBe(2);
    // Nothing ran: no timeline, no summary.
    expect(out.stdout).toBe('');
    expect(out.stderr.trim().split('\n')).toEqual([
      `mirrorbeat: --html: cannot write ${html}: ${code}; give a path in a folder you can write`,
    ]);
  });

  it('exits 2 with one line on stderr for a bad scenario file, and prints nothing on stdout', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mirrorbeat-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'bad', durationMs: 1000, events: [{ atMs: 0, fault: 'partition', path: 'radio' }] }),
    );
    const out = spawnSync(
      process.execPath,
      [path.join(__dirname, '..', '..', 'bin', 'mirrorbeat.js'), 'simulate', '--scenario', file, '--json'],
      // A child that hangs fails this test instead of holding the whole run.
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(out.status).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim().split('\n')).toEqual([
      'mirrorbeat: scenario.events[0].path: got "radio"; allowed: network or storage',
    ]);
  });
});
