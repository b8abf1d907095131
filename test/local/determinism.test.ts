import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { simulateScenario } from '../../local/run';
import { loadScenario } from '../../local/scenario';
import { dynamoEndpoint } from '../local-sites';

/**
 * The virtual world reads no real time (issue 32, 3): the same scenario and seed give the same
 * report byte for byte, whatever else the machine is doing. The second runs share both cores
 * with two threads that spin all along, so a real-time deadline or timer anywhere in the world
 * (a path's 800 ms timeout, a sleep) would come out differently.
 */
const SCENARIOS = ['production-crash', 'regression-switchover-standby-crashes'];

async function report(name: string): Promise<string> {
  const scenario = loadScenario(path.join(__dirname, '..', '..', 'local', 'scenarios', `${name}.json`));
  return JSON.stringify((await simulateScenario(scenario, { dynamoEndpoint: dynamoEndpoint() })).report);
}

/** Threads that keep the cores busy until stopped. */
function spinners(count: number): () => Promise<void> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from(
    { length: count },
    () =>
      new Worker('const { workerData: s } = require("node:worker_threads"); while (Atomics.load(s, 0) === 0) {}', {
        eval: true,
        workerData: stop,
      }),
  );
  return async () => {
    Atomics.store(stop, 0, 1);
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  };
}

describe('the local runtime under load', () => {
  it('gives the same report byte for byte, idle and with both cores kept busy', async () => {
    const idle: string[] = [];
    for (const name of SCENARIOS) idle.push(await report(name));
    const stop = spinners(2);
    const busy: string[] = [];
    try {
      for (const name of SCENARIOS) busy.push(await report(name));
    } finally {
      await stop();
    }
    expect(busy).toEqual(idle);
    // Not trivially equal: each report saw its faults and raised notices over them.
    for (const r of idle) {
      const parsed = JSON.parse(r) as { notifications: unknown[]; verdict: unknown };
      expect(parsed.notifications.length).toBeGreaterThan(0);
      // And each is the run its scenario file expects.
      expect(parsed.verdict).toEqual({ passed: true, failed: [] });
    }
  });
});
