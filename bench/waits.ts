import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * What a user waits for, end to end, as they type it (issue 32, 4): `mirrorbeat --help`, a
 * five-minute scenario and the demo, each a process of its own that starts its own DynamoDB
 * Local and synthesizes its own workflows, as `npx mirrorbeat simulate` and `npm run demo` do.
 * Wall time on this machine, so the figures move with its load: the bench reports, it asserts
 * nothing.
 */
export interface RuntimeWaits {
  readonly helpMs: number;
  readonly fiveMinuteScenarioMs: number;
  readonly demoMs: number;
}

const ROOT = path.join(__dirname, '..');

/** Wall time of one CLI run; a run that fails is not a figure. */
function timed(args: readonly string[]): number {
  const started = performance.now();
  const out = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'mirrorbeat.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const ms = Math.round(performance.now() - started);
  if (out.status !== 0)
    throw new Error(`mirrorbeat ${args.join(' ')} failed (${String(out.status)}): ${out.stderr.trim().split('\n')[0]}`);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export function runtimeWaits(): RuntimeWaits {
  const help = [0, 1, 2].map(() => timed(['--help']));
  const scenario = (name: string) => path.join('local', 'scenarios', `${name}.json`);
  const page = path.join(mkdtempSync(path.join(tmpdir(), 'mirrorbeat-bench-')), 'demo.html');
  return {
    helpMs: median(help),
    fiveMinuteScenarioMs: timed(['simulate', '--scenario', scenario('five-minutes'), '--json']),
    // As `npm run demo` runs it (package.json): the timeline printed, the page written.
    demoMs: timed(['simulate', '--scenario', scenario('demo'), '--html', page]),
  };
}
