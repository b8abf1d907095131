import {
  InvocationPlan,
  type InvocationIo,
  RECLAIM_SLACK_MS,
  RUN_FOR_MS,
  runInvocation,
  SAFETY_MS,
} from '../../../lambdas/heartbeat-module/driver';
import type { TickReport } from '../../../lambdas/heartbeat-module/module';

/**
 * The heartbeat module's one loop (lambdas/heartbeat-module/driver.ts), as the handler and the
 * local runtime run it: on a hand-driven monotonic clock, with a module whose reports the test
 * writes. What each test asserts is when the loop ticks, checks and stops.
 */
const INTERVAL = 2_000;

interface Script {
  /** The report of the step at `mono` (its wall clock may differ: `atMs`). */
  report?: (kind: 'tick' | 'check', mono: number, n: number) => Partial<TickReport> | Error;
  /** Each claim's answer: claimed, refused, or refused with the ticker claimable in so many ms. */
  claims?: (boolean | number)[];
  /** Mono instants at which the process is frozen until the given time. */
  freezes?: [number, number][];
  aliveUntil?: number;
  remainingMs?: number;
}

async function run(script: Script) {
  let mono = 1_000_000;
  const start = mono;
  const steps: { kind: 'tick' | 'check'; at: number }[] = [];
  const failures: string[] = [];
  const claimsAt: number[] = [];
  const begun: string[] = [];
  const claims = [...(script.claims ?? [true])];
  const io: InvocationIo = {
    mono: () => mono,
    sleepUntil: async (at) => {
      mono = Math.max(mono, at);
      for (const [from, to] of script.freezes ?? []) if (mono >= start + from && mono < start + to) mono = start + to;
    },
    claim: async () => {
      claimsAt.push(mono - start);
      const answer = claims.shift() ?? false;
      return typeof answer === 'number' ? { claimed: false, claimableInMs: answer } : { claimed: answer };
    },
    reclaimAfterMs: 6_500,
    begin: (id) => begun.push(id),
    step: async (kind) => {
      steps.push({ kind, at: mono - start });
      const out = script.report?.(kind, mono - start, steps.length) ?? {};
      if (out instanceof Error) throw out;
      return { atMs: mono, wakeAtMs: undefined, superseded: false, ...out } as TickReport;
    },
    failed: (kind, error) => failures.push(`${kind}: ${String(error)}`),
    alive: () => script.aliveUntil === undefined || mono - start < script.aliveUntil,
  };
  const outcome = await runInvocation(io, 'inv-1', {
    intervalMs: INTERVAL,
    remainingMs: script.remainingMs ?? 660_000,
  });
  return { outcome, steps, failures, claimsAt, begun };
}

describe('the invocation loop', () => {
  it('ticks once an interval from its start, and stops after ten minutes', async () => {
    const { outcome, steps, begun } = await run({});
    expect(begun).toEqual(['inv-1']);
    expect(steps.slice(0, 3)).toEqual([
      { kind: 'tick', at: 0 },
      { kind: 'tick', at: 2_000 },
      { kind: 'tick', at: 4_000 },
    ]);
    expect(outcome).toEqual({ claimed: true, ticks: RUN_FOR_MS / INTERVAL, checks: 0, stopped: 'ran its time' });
    expect(steps.at(-1)?.at).toBe(RUN_FOR_MS - INTERVAL);
  });

  it('stops before a tick that would end too close to the Lambda timeout', async () => {
    // 30 s left: the last tick starts at least an interval and the safety margin before the timeout.
    const { outcome, steps } = await run({ remainingMs: 30_000 });
    expect(outcome.stopped).toBe('deadline');
    expect(steps.at(-1)?.at).toBe(24_000);
    expect(30_000 - 24_000).toBeGreaterThanOrEqual(INTERVAL + SAFETY_MS);
    expect(30_000 - 26_000).toBeLessThan(INTERVAL + SAFETY_MS);
  });

  it('stops after the tick that learns a newer invocation has taken over', async () => {
    const { outcome, steps } = await run({ report: (_k, at) => ({ superseded: at >= 6_000 }) });
    expect(outcome).toEqual({ claimed: true, ticks: 4, checks: 0, stopped: 'superseded' });
    expect(steps.map((s) => s.at)).toEqual([0, 2_000, 4_000, 6_000]);
  });

  it('checks between two ticks when a decision would change a quarter interval or more before the next, and again while asked', async () => {
    // The report's clock is the module's wall clock, an hour ahead of the monotonic one: the wake converts.
    const hour = 3_600_000;
    const { steps } = await run({
      remainingMs: 9_000,
      report: (kind, at) => {
        const atMs = at + hour;
        if (kind === 'tick' && at === 0) return { atMs, wakeAtMs: atMs + 700 };
        if (kind === 'check' && at === 700) return { atMs, wakeAtMs: atMs + 800 };
        if (kind === 'tick' && at === 2_000) return { atMs, wakeAtMs: atMs + 1_501 }; // closer than 500 ms to the next tick
        return { atMs };
      },
    });
    expect(steps).toEqual([
      { kind: 'tick', at: 0 },
      { kind: 'check', at: 700 },
      { kind: 'check', at: 1_500 },
      { kind: 'tick', at: 2_000 },
      { kind: 'tick', at: 4_000 },
    ]);
  });

  it('after a freeze, ticks once at once and then on its slots: never a burst of the ticks it missed', async () => {
    const { steps } = await run({ remainingMs: 20_000, freezes: [[2_000, 9_300]] });
    expect(steps.map((s) => s.at)).toEqual([0, 9_300, 10_000, 12_000, 14_000]);
  });

  it('goes on after a tick or a check that throws: the next tick reads everything again', async () => {
    const { outcome, steps, failures } = await run({
      remainingMs: 11_000,
      report: (kind, at) => {
        if (kind === 'tick' && at === 0) return { wakeAtMs: 1_000_000 + 500 };
        if (kind === 'check') return new Error('table unreachable');
        if (at === 2_000) return new Error('bus unreachable');
        return {};
      },
    });
    expect(failures).toEqual(['check: Error: table unreachable', 'tick: Error: bus unreachable']);
    expect(steps.map((s) => `${s.kind}@${s.at}`)).toEqual([
      'tick@0',
      'check@500',
      'tick@2000',
      'tick@4000',
      'tick@6000',
    ]);
    expect(outcome).toMatchObject({ ticks: 4, checks: 1, stopped: 'deadline' });
  });

  it('refused the ticker, looks once more after the reclaim wait, and ticks if it gets it', async () => {
    const { outcome, claimsAt, steps } = await run({ claims: [false, true], remainingMs: 20_000 });
    expect(claimsAt).toEqual([0, 6_500]);
    expect(steps[0]).toEqual({ kind: 'tick', at: 6_500 });
    expect(outcome.claimed).toBe(true);
    // The deadline runs from the invocation's start, not from its claim.
    expect(steps.at(-1)?.at).toBe(6_500 + 4 * INTERVAL);
  });

  it('refused by a ticker that is claimable soon (its container died), looks again then, not after the full wait', async () => {
    const { outcome, claimsAt, steps } = await run({ claims: [1_200, true], remainingMs: 20_000 });
    expect(claimsAt).toEqual([0, 1_200 + RECLAIM_SLACK_MS]);
    expect(steps[0]).toEqual({ kind: 'tick', at: 1_200 + RECLAIM_SLACK_MS });
    expect(outcome.claimed).toBe(true);
  });

  it('never waits longer than the reclaim wait, whatever the refusal says', async () => {
    const { claimsAt } = await run({ claims: [60_000, true] });
    expect(claimsAt).toEqual([0, 6_500]);
  });

  it('looks a third time only while a refusal says the ticker is claimable within an interval (clocks apart), never for a live one', async () => {
    // The second look is refused by a clock 300 ms apart: once more, 300 ms and the slack later.
    expect((await run({ claims: [1_000, 300, true] })).claimsAt).toEqual([
      0,
      1_000 + RECLAIM_SLACK_MS,
      1_300 + 2 * RECLAIM_SLACK_MS,
    ]);
    // A refusal that says nothing (an item edited by hand) gets no third look; nor one claimable an interval away.
    expect((await run({ claims: [1_000, false, true] })).claimsAt).toHaveLength(2);
    expect((await run({ claims: [1_000, INTERVAL, true] })).claimsAt).toHaveLength(2);
    expect((await run({ claims: [1_000, INTERVAL - 1, true] })).claimsAt).toHaveLength(3);
    // The second look finds a ticker that ticked since (claimable three intervals on): it gives up.
    const live = await run({ claims: [1_000, 3 * INTERVAL - 100, true] });
    expect(live.claimsAt).toEqual([0, 1_000 + RECLAIM_SLACK_MS]);
    expect(live.outcome.stopped).toBe('not claimed');
    // Three claims at most.
    expect((await run({ claims: [0, 0, 0, true] })).claimsAt).toHaveLength(3);
  });

  it('a container gone while it waits to look again claims nothing', async () => {
    const { outcome, claimsAt } = await run({ claims: [1_000, true], aliveUntil: 500 });
    expect(outcome).toEqual({ claimed: false, ticks: 0, checks: 0, stopped: 'not claimed' });
    expect(claimsAt).toEqual([0]);
  });

  it('refused twice, neither begins nor ticks', async () => {
    const { outcome, begun, steps, claimsAt } = await run({ claims: [false, false] });
    expect(claimsAt).toEqual([0, 6_500]);
    expect(outcome).toEqual({ claimed: false, ticks: 0, checks: 0, stopped: 'not claimed' });
    expect(begun).toEqual([]);
    expect(steps).toEqual([]);
  });

  it('ends without another tick once its container is gone (a recycle, a crash)', async () => {
    const { outcome, steps } = await run({ aliveUntil: 5_000 });
    expect(outcome.stopped).toBe('container gone');
    expect(steps.map((s) => s.at)).toEqual([0, 2_000, 4_000]);
  });
});

describe('the invocation plan, stepped without the loop', () => {
  it('takes a tick a little early (a clock read rounded down) for its own slot, not for the one before', () => {
    const plan = new InvocationPlan(INTERVAL, 0);
    expect(plan.first()).toEqual({ kind: 'tick', atMono: 0 });
    expect(plan.after('tick', 0, undefined)).toEqual({ kind: 'tick', atMono: 2_000 });
    expect(plan.after('tick', 1_999, undefined)).toEqual({ kind: 'tick', atMono: 4_000 });
  });

  it('a wake after the next tick leaves it to the tick', () => {
    const plan = new InvocationPlan(INTERVAL, 0);
    expect(plan.after('tick', 0, { atMs: 50, wakeAtMs: 5_000, superseded: false })).toEqual({
      kind: 'tick',
      atMono: 2_000,
    });
    expect(plan.after('tick', 2_000, { atMs: 50, wakeAtMs: 50 + 1_500, superseded: false })).toEqual({
      kind: 'check',
      atMono: 3_500,
    });
  });
});
