import fc from 'fast-check';
import type { SimulationResult } from './runtime';
import { parseScenario, type Scenario } from './scenario';

/**
 * Randomized fault schedules over the whole scenario grammar, and the invariants every run
 * must keep. `test/local/chaos.test.ts` runs a fixed number in CI; `npm run chaos -- --runs N`
 * runs more and saves a failing schedule, shrunk, to `local/scenarios/` as a regression.
 */

const DURATION_MS = 90_000;
const at = fc.integer({ min: 5_000, max: DURATION_MS - 5_000 });
const path = fc.constantFrom('network', 'storage');
const site = fc.constantFrom('production', 'standby');
const region = fc.constantFrom('production', 'standby', 'witness');
const leg = fc.constantFrom(['production', 'witness'], ['standby', 'witness']);

export const eventArbitrary = fc.oneof(
  fc.record({ atMs: at, fault: fc.constant('partition'), path }),
  fc.record({ atMs: at, fault: fc.constant('heal'), path }),
  // Lag longer than detection, while another fault cuts the other path, is where two primaries used to hide.
  fc.record({ atMs: at, fault: fc.constant('lag'), path, ms: fc.integer({ min: 0, max: 30_000 }) }),
  fc.record({ atMs: at, fault: fc.constant('loss'), path, rate: fc.double({ min: 0, max: 0.6, noNaN: true }) }),
  fc.record({ atMs: at, fault: fc.constant('crash'), site: region }),
  fc.record({ atMs: at, fault: fc.constant('restart'), site: region }),
  fc.record({ atMs: at, fault: fc.constant('pause'), site: region, ms: fc.integer({ min: 500, max: 30_000 }) }),
  fc.record({ atMs: at, fault: fc.constant('isolate'), site: region }),
  fc.record({ atMs: at, fault: fc.constantFrom('partition', 'heal'), between: leg }),
  // Small skews, and clock jumps beyond the skew bound.
  fc.record({
    atMs: at,
    fault: fc.constant('skew'),
    site,
    ms: fc.oneof(
      fc.integer({ min: -5_000, max: 5_000 }),
      fc.integer({ min: 31_000, max: 60_000 }),
      fc.integer({ min: -60_000, max: -31_000 }),
    ),
  }),
  // Clocks running fast or slow, within the rate the drift margin covers.
  fc.record({ atMs: at, fault: fc.constant('drift'), site, ppm: fc.integer({ min: -50_000, max: 50_000 }) }),
  fc.record({ atMs: at, fault: fc.constant('forge'), path, count: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ atMs: at, fault: fc.constant('replay'), path, count: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ atMs: at, fault: fc.constant('health'), site, status: fc.constantFrom('ok', 'degraded', 'failed') }),
  fc.record({ atMs: at, command: fc.constantFrom('activate', 'deactivate'), path }),
  fc.record({ atMs: at, command: fc.constant('switchover') }),
  // An operator's failover or drill, to whichever site is secondary then.
  fc.record({ atMs: at, command: fc.constant('failover'), dryRun: fc.boolean() }),
);

export const scheduleArbitrary = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  // Half the schedules let a reported workload failure fail a live primary over; half fold
  // every warning notice after the first in a minute (invariant I4 then counts summaries).
  config: fc
    .record({ failoverOnReport: fc.boolean(), foldHard: fc.boolean() })
    .map(({ failoverOnReport, foldHard }): Record<string, unknown> => ({
      ...(failoverOnReport ? { health: { onPeerFailure: 'failover' } } : {}),
      ...(foldHard ? { notifications: { foldAfter: 1, foldWindowSeconds: 60 } } : {}),
    })),
  events: fc.array(eventArbitrary, { minLength: 1, maxLength: 6 }),
});
export type Schedule = { seed: number; config?: Record<string, unknown>; events: unknown[] };

export function scenarioOf(schedule: Schedule): Scenario {
  return parseScenario({
    name: 'chaos',
    seed: schedule.seed,
    durationMs: DURATION_MS,
    config: schedule.config ?? {},
    events: schedule.events,
  });
}

export interface Violation {
  readonly invariant: 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I7' | 'I8';
  readonly detail: string;
}

type Event = Scenario['events'][number];
const isFault = (e: Event, fault: string) => 'fault' in e && e.fault === fault;

/** The invariants of issue 9 over one run's report and the runtime's own log. */
export function checkInvariants(scenario: Scenario, result: SimulationResult): Violation[] {
  const { report, log } = result;
  const c = scenario.config;
  const violations: Violation[] = [];

  // I1: in quorum mode, and in two-region mode under self-fence, never two sites acting as primary at once.
  if ((c.consistency === 'strong' || c.isolationPolicy === 'self-fence') && report.maxSimultaneousPrimaries > 1)
    violations.push({ invariant: 'I1', detail: `maxSimultaneousPrimaries ${report.maxSimultaneousPrimaries}` });

  // I2: no failover decided while valid beats from the primary were still arriving at the deciding site.
  const intervalMs = c.intervalSeconds * 1000;
  for (const f of report.failovers) {
    const from = f.startedAtMs - c.confirmationWindowSeconds * 1000 + intervalMs;
    const seen = log.accepted.filter((a) => a.site === f.to && a.atMs > from && a.atMs < f.startedAtMs - 1_000);
    if (seen.length > 0 && f.reason === 'peer-lost')
      violations.push({
        invariant: 'I2',
        detail: `failover at ${f.startedAtMs} ms while ${seen.length} valid beats arrived in its confirmation window (first: ${seen[0]?.path} at ${seen[0]?.atMs} ms)`,
      });
  }

  // I3: a crashed primary is replaced within the detection bound, when nothing else prevents it.
  const crash = scenario.events.find((e) => isFault(e, 'crash') && 'site' in e && e.site === 'production');
  // The standby needs a majority too: a storage partition with the witness lost or cut from it hinders it.
  const witnessTrouble = scenario.events.some(
    (e) => ('site' in e && e.site === 'witness') || ('between' in e && e.between.includes('standby')),
  );
  const storageCut = scenario.events.some((e) => isFault(e, 'partition') && 'path' in e && e.path === 'storage');
  const standbyHindered =
    (witnessTrouble && storageCut) ||
    scenario.events.some(
      (e) =>
        ('site' in e &&
          e.site === 'standby' &&
          ['crash', 'isolate', 'pause', 'skew'].includes((e as { fault?: string }).fault ?? '')) ||
        'command' in e,
    );
  const productionGoneBefore = scenario.events.some(
    (e) =>
      crash !== undefined &&
      e.atMs < crash.atMs &&
      'site' in e &&
      e.site === 'production' &&
      ['isolate'].includes((e as { fault?: string }).fault ?? ''),
  );
  if (crash !== undefined && !standbyHindered && !productionGoneBefore && c.failoverMode === 'automatic') {
    const boundMs = (c.deadlineCeilingSeconds + c.confirmationWindowSeconds) * 1000 + 3 * intervalMs + 5_000;
    if (crash.atMs + boundMs <= scenario.durationMs) {
      const replaced = report.failovers.some(
        (f) => f.to === 'standby' && f.promotedAtMs !== null && f.promotedAtMs <= crash.atMs + boundMs,
      );
      const alreadyReplaced = report.primaryTimeline.some(
        (p) => p.acting && p.site === 'standby' && p.atMs <= crash.atMs,
      );
      if (!replaced && !alreadyReplaced)
        violations.push({
          invariant: 'I3',
          detail: `production crashed at ${crash.atMs} ms and was not replaced within ${boundMs} ms`,
        });
    }
  }

  // I4: every notice a heartbeat module raised reached its topic or was folded, and every folded
  // notice is counted in a summary that reached its topic or waits in a window still open.
  if (log.noticesDelivered + log.noticesFolded !== log.noticesRaised)
    violations.push({
      invariant: 'I4',
      detail: `${log.noticesRaised} notices raised, ${log.noticesDelivered} delivered, ${log.noticesFolded} folded`,
    });
  if (log.noticesSummarized + log.foldedOpenAtEnd !== log.foldedAll)
    violations.push({
      invariant: 'I4',
      detail: `${log.foldedAll} notices folded, ${log.noticesSummarized} summarized, ${log.foldedOpenAtEnd} in open windows`,
    });

  // I5: no accepted serial ever went backwards, on either path.
  if (log.serialRegressions > 0)
    violations.push({ invariant: 'I5', detail: `${log.serialRegressions} accepted serials went backwards` });

  // I6: every epoch has one primary: failovers, switchovers and failbacks never promote two sites to the same epoch.
  const holders = new Map<number, Set<string>>();
  for (const p of report.primaryTimeline.filter((e) => e.acting))
    holders.set(p.epoch, (holders.get(p.epoch) ?? new Set()).add(p.site));
  for (const [epoch, sites] of holders)
    if (sites.size > 1)
      violations.push({ invariant: 'I6', detail: `epoch ${epoch} had ${[...sites].join(' and ')} acting as primary` });

  // I7: in quorum mode, one fault that is not production's own never takes production's role:
  // a lost, paused or isolated standby or witness, one cut leg, one path's trouble, hostile beats.
  const faults = scenario.events.filter((e) => 'fault' in e && e.fault !== 'forge' && e.fault !== 'replay');
  const only = faults.length === 1 && scenario.events.every((e) => !('command' in e)) ? faults[0] : undefined;
  const touchesProduction =
    only !== undefined &&
    (('site' in only && only.site === 'production') || ('between' in only && only.between.includes('production')));
  if (c.consistency === 'strong' && only !== undefined && !touchesProduction && !isFault(only, 'health')) {
    if (report.failovers.length > 0 || report.noPrimaryMs > 0)
      violations.push({
        invariant: 'I7',
        detail: `one fault (${JSON.stringify(only)}) took production's role: ${report.failovers.length} failovers, ${report.noPrimaryMs} ms without a primary`,
      });
  }

  // I8: a no-primary notice is never raised while a site acts as primary (it is what pages people at night).
  const actingAt = (t: number) => {
    const now = new Map<string, boolean>();
    for (const p of report.primaryTimeline) if (p.atMs <= t) now.set(p.site, p.acting);
    return [...now].filter(([, acting]) => acting).map(([site]) => site);
  };
  for (const n of report.notifications.filter((x) => x.kind === 'no-primary')) {
    const primaries = actingAt(n.atMs);
    if (primaries.length > 0)
      violations.push({
        invariant: 'I8',
        detail: `no-primary from ${n.site} at ${n.atMs} ms while ${primaries.join(' and ')} acted as primary`,
      });
  }
  return violations;
}

/** Faults injected by kind, for the published counts. */
export function faultCounts(scenarios: readonly Scenario[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of scenarios)
    for (const e of s.events) {
      const kind = 'fault' in e ? e.fault : `command:${e.command}`;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
  return counts;
}
