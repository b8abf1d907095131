import type { Report } from '../../local/runtime';
import { runScenario, simulateEvents } from '../local-sites';

/** The path-control workflow as synthesized, the peer's heartbeat module answering it, on DynamoDB Local. */
const kinds = (r: Report, site?: string) =>
  r.notifications
    .filter((n) => site === undefined || n.site === site)
    .map((n) => `${n.kind}${n.path ? `:${n.path}` : ''}`);
const lastState = (r: Report, site: string, path: string) =>
  r.pathStates.filter((p) => p.site === site && p.path === path).at(-1)?.state;

describe('path control between the two sites', () => {
  it('deactivates a path on both sites, and neither site then counts it as failed', async () => {
    const report = await runScenario([{ atMs: 10_000, command: 'deactivate', path: 'network' }], {
      durationMs: 45_000,
    });
    expect(kinds(report)).toEqual(['path-deactivated:network']);
    expect(lastState(report, 'production', 'network')).toBe('disabled');
    expect(lastState(report, 'standby', 'network')).toBe('disabled');
    expect(report.failovers).toEqual([]);
  });

  it('refuses to disable the last enabled path, then does it when forced and says the cluster is unprotected', async () => {
    const report = await runScenario(
      [
        { atMs: 10_000, command: 'deactivate', path: 'network' },
        { atMs: 25_000, command: 'deactivate', path: 'storage' },
        { atMs: 40_000, command: 'deactivate', path: 'storage', force: true },
      ],
      { durationMs: 60_000 },
    );
    expect(kinds(report, 'production')).toEqual(
      expect.arrayContaining([
        'path-deactivated:network',
        'command-refused:storage',
        'path-deactivated:storage',
        'unprotected',
      ]),
    );
    expect(kinds(report, 'standby')).toContain('unprotected');
    expect(report.failovers).toEqual([]);
  });

  it("brings a path back, counting it only from the peer's first beat after it was re-enabled", async () => {
    const report = await runScenario(
      [
        { atMs: 10_000, command: 'deactivate', path: 'network' },
        { atMs: 40_000, command: 'activate', path: 'network' },
      ],
      { durationMs: 60_000 },
    );
    expect(kinds(report)).toEqual(['path-deactivated:network', 'path-activated:network']);
    expect(lastState(report, 'production', 'network')).toBe('healthy');
    expect(lastState(report, 'standby', 'network')).toBe('healthy');
    expect(report.pathStates.filter((p) => p.state === 'failed')).toEqual([]);
  });

  it('switches both paths in one request command, all or nothing, with the refusal as the execution cause', async () => {
    const { report, timeline } = await simulateEvents(
      [
        { atMs: 10_000, command: 'deactivate', path: 'network' },
        // Network is only being activated: it cannot carry the cluster while storage goes off.
        { atMs: 30_000, command: 'paths', network: 'activate', storage: 'deactivate' },
        { atMs: 50_000, command: 'paths', network: 'activate', storage: 'activate' },
        { atMs: 80_000, command: 'paths', network: 'deactivate', storage: 'deactivate', force: true },
      ],
      { durationMs: 100_000 },
    );
    expect(kinds(report, 'production')).toEqual(
      expect.arrayContaining(['path-deactivated:network', 'command-refused', 'path-activated', 'path-deactivated']),
    );
    const stopped = timeline.find((e) => e.text.includes('stopped: CommandRefused'));
    expect(stopped?.text).toContain(
      'refusing to network activate, storage deactivate: the network path is only being activated',
    );
    // The refused command changed nothing at either site: storage stayed on until the forced one.
    const storageOff = report.pathStates.filter((p) => p.path === 'storage' && p.state === 'disabled');
    expect(storageOff.every((p) => p.atMs >= 80_000)).toBe(true);
    for (const site of ['production', 'standby'])
      for (const path of ['network', 'storage']) expect(lastState(report, site, path)).toBe('disabled');
    expect(report.failovers).toEqual([]);
  });

  it('removes and installs the storage mirror with the same handshake', async () => {
    const report = await runScenario(
      [
        { atMs: 10_000, command: 'deactivate', path: 'storage' },
        { atMs: 35_000, command: 'activate', path: 'storage' },
      ],
      { durationMs: 60_000 },
    );
    expect(kinds(report)).toEqual(['path-deactivated:storage', 'path-activated:storage']);
    expect(lastState(report, 'standby', 'storage')).toBe('healthy');
    expect(report.pathStates.filter((p) => p.state === 'failed')).toEqual([]);
  });

  it('rolls back and says command-refused when the peer does not answer in time', async () => {
    const report = await runScenario(
      [
        { atMs: 5_000, fault: 'crash', site: 'standby' },
        { atMs: 6_000, command: 'deactivate', path: 'network', site: 'production', force: true },
      ],
      { durationMs: 50_000 },
    );
    expect(kinds(report, 'production')).toContain('command-refused:network');
    expect(lastState(report, 'production', 'network')).not.toBe('disabled');
  });
});
