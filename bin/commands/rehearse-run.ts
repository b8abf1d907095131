import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import type { MirrorbeatConfig } from '../../lib/config';
import { promotionWarning } from '../../lib/config-warnings';
import { benchTable, runBench, writeResults } from '../../bench/run';
import { checkInvariants, faultCounts, scenarioOf, scheduleArbitrary } from '../../local/chaos';
import { startDynamoLocal } from '../../local/dynamo';
import { renderPage } from '../../local/page';
import { simulateScenario } from '../../local/run';
import { loadScenario, SCENARIO_BASE_CONFIG, type Scenario, ScenarioError } from '../../local/scenario';
import { formatEntry, formatFirstPage, formatHeader, formatSummary } from '../../local/text';
import { formatStatus } from './status';

// What `mirrorbeat chaos`, `simulate` and `bench` run (rehearse.ts registers them and loads this file when one runs).

/** `mirrorbeat bench`: runs it, writes the results to each folder, prints the table or the JSON report. */
export async function runBenchCommand(o: {
  config: MirrorbeatConfig;
  twoRegionConfig: MirrorbeatConfig | undefined;
  tracesPerClass: number;
  seeds: number[];
  written: string[];
  json: boolean;
}): Promise<void> {
  const started = Date.now();
  const run = await runBench({
    config: o.config,
    twoRegionConfig: o.twoRegionConfig,
    tracesPerClass: o.tracesPerClass,
    seeds: o.seeds,
    progress: (stage) => progress('bench', started, stage),
  });
  for (const dir of o.written) writeResults(path.resolve(dir), run);
  process.stdout.write(
    o.json ? `${JSON.stringify(run.report)}\n` : `${benchTable(run.report)}\n\nwritten to ${o.written.join(' and ')}\n`,
  );
}

/** `mirrorbeat chaos`: on a violation, the shrunk schedule is saved as a regression scenario. */
export async function runChaos(runs: number, seed: number): Promise<void> {
  const started = Date.now();
  const dynamo = await startDynamoLocal();
  const ran: Scenario[] = [];
  const notices = { raised: 0, folded: 0, summarized: 0 };
  try {
    const outcome = await fc.check(
      fc.asyncProperty(scheduleArbitrary, async (schedule) => {
        const scenario = scenarioOf(schedule);
        ran.push(scenario);
        progress(
          'chaos',
          started,
          `schedule ${ran.length} of ${runs}${ran.length > runs ? ' (shrinking)' : ''}: ${schedule.events.length} event(s)`,
        );
        const result = await simulateScenario(scenario, { dynamoEndpoint: dynamo.endpoint });
        notices.raised += result.log.noticesRaised;
        notices.folded += result.log.foldedAll;
        notices.summarized += result.log.noticesSummarized;
        const violations = checkInvariants(scenario, result);
        if (violations.length > 0) throw new Error(violations.map((v) => `${v.invariant}: ${v.detail}`).join('; '));
      }),
      { numRuns: runs, seed },
    );
    process.stdout.write(
      `chaos: ${outcome.numRuns} schedules (seed ${seed}), faults ${JSON.stringify(faultCounts(ran))}\n`,
    );
    process.stdout.write(
      `notices: ${notices.raised} raised by the heartbeat modules, ${notices.folded} folded, ${notices.summarized} of them counted in summaries\n`,
    );
    if (outcome.failed && outcome.counterexample !== null) {
      const [schedule] = outcome.counterexample;
      const file = path.join('local', 'scenarios', `regression-${seed}.json`);
      writeFileSync(
        file,
        `${JSON.stringify({ name: `regression: chaos seed ${seed}`, seed: schedule.seed, durationMs: scenarioOf(schedule).durationMs, config: schedule.config, events: schedule.events }, null, 2)}\n`,
      );
      process.stdout.write(
        `violation after shrinking: ${String((outcome.errorInstance as Error | undefined)?.message ?? outcome.errorInstance)}\nsaved the minimal schedule to ${file}\n`,
      );
      process.exitCode = 1;
    } else {
      process.stdout.write('violations: 0\n');
    }
  } finally {
    await dynamo.stop();
  }
}

/** One line of progress on stderr, so stdout stays the report (a JSON report stays parseable). */
function progress(command: string, startedMs: number, stage: string): void {
  process.stderr.write(`mirrorbeat ${command}: ${Math.round((Date.now() - startedMs) / 1000)} s: ${stage}\n`);
}

export interface RehearsedConfig {
  readonly raw: Readonly<Record<string, unknown>>;
  /** Which configuration ran, in words for the first line of the summary. */
  readonly source: string;
}

/** Runs `write` (or the check that it could), and says in one line what stops it. */
export function writeOrSay(file: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    throw new ScenarioError(
      `--html: cannot write ${file}: ${(error as { code?: string }).code ?? String(error)}; give a path in a folder you can write`,
    );
  }
}

/** A page that cannot be written is said before the run, not after it. */
export function checkWritable(html: string): void {
  writeOrSay(html, () => {
    const target = statSync(html, { throwIfNoEntry: false });
    if (target?.isDirectory() === true) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
    accessSync(target === undefined ? path.dirname(html) : html, constants.W_OK);
  });
}

/** `mirrorbeat simulate`: the timeline streams while the run goes on; `--json` prints only the report. */
export async function runSimulation(
  file: string,
  opts: { seed: number | undefined; json: boolean; base: RehearsedConfig; html?: string },
): Promise<void> {
  const scenario = loadScenario(
    file,
    opts.base.raw,
    opts.base.raw === SCENARIO_BASE_CONFIG ? undefined : opts.base.source,
  );
  if (opts.html !== undefined) checkWritable(opts.html);
  const keys = Object.keys(scenario.ownConfig);
  const configuration = `${opts.base.source}${keys.length > 0 ? `, with the scenario's ${keys.join(', ')} on top` : ''}`;
  const started = Date.now();
  const seed = opts.seed ?? scenario.seed ?? 1;
  if (!opts.json) process.stdout.write(`${formatHeader(scenario, seed, configuration)}\n`);
  const result = await simulateScenario(scenario, {
    seed,
    ...(opts.json ? {} : { onTimeline: (e) => process.stdout.write(`${formatEntry(e)}\n`) }),
  });
  const { report, status, messages } = result;
  // What a deploy says once, the rehearsal of it says too, once it ran (a runtime that cannot start stays one line):
  // on stderr, so stdout stays the timeline or the one JSON report.
  const promotion = promotionWarning(scenario.config);
  if (promotion !== undefined) process.stderr.write(`mirrorbeat: warning: ${promotion}\n`);
  const summary = formatSummary(report, Date.now() - started, configuration);
  if (opts.html !== undefined) {
    const html = opts.html;
    writeOrSay(html, () => writeFileSync(html, renderPage({ scenario, seed, configuration, result, summary })));
  }
  const page = opts.html === undefined ? '' : `\nthe game day as a page: ${opts.html}\n`;
  process.stdout.write(
    opts.json
      ? `${JSON.stringify({ ...report, configuration })}\n`
      : `${summary}\n${formatFirstPage(messages)}\n\nat the end, mirrorbeat status would say:\n${formatStatus(status)}\n${page}`,
  );
}
