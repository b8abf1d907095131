import { checkBefore } from '../core/site';
import type { TickReport } from './module';

/**
 * The heartbeat module's invocation loop, once: when an invocation ticks, when it checks
 * between two ticks, when it stops. The Lambda handler (index.ts) and the local runtime
 * (local/runtime.ts) both run it through `runInvocation`, each with its own clocks and sleeps;
 * the decisions are the pure `InvocationPlan`, so the fault search and the bench can step the
 * same plan without the async part (docs/ARCHITECTURE.md, "One loop").
 *
 * The handoff. One invocation ticks at a time, for up to RUN_FOR_MS (lib/site-stack.ts gives the
 * function this and a margin as its timeout), with its state in one container all along.
 * Scheduler still invokes every minute: an invocation that finds a live ticker with more than
 * HANDOFF_MS to run returns at once; one that finds the ticker near its end, or silent for three
 * intervals, claims it, and the old one stops at its next tick. So the next invocation takes over
 * before the last one ends, with up to HANDOFF_MS of Scheduler lateness to spare.
 */
export const RUN_FOR_MS = 10 * 60_000;
export const HANDOFF_MS = 90_000;
/** An invocation stops when its next tick would end less than this before the Lambda timeout. */
export const SAFETY_MS = 3_000;

export type StopReason = 'superseded' | 'ran its time' | 'deadline';
export type Step =
  { readonly kind: 'tick' | 'check'; readonly atMono: number } | { readonly kind: 'stop'; readonly why: StopReason };

/** What the plan needs of a tick's or check's report; undefined when it failed. */
export type StepReport = Pick<TickReport, 'atMs' | 'wakeAtMs' | 'superseded'> | undefined;

/**
 * When an invocation that began at `startMono` (the site's monotonic clock, ms) ticks and
 * checks. Ticks fall on `startMono + k·interval`; a tick that ran late (a frozen container, a
 * slow call) is followed by the next slot still ahead, never by a burst of the slots it missed.
 * A decision that would change before the next tick (a path's deadline, the confirmation
 * window, the lease gate: the report's `wakeAtMs`) is checked then, and again while the check
 * asks for it. The invocation stops once a newer one has taken over, after RUN_FOR_MS, or when
 * its next tick would come too close to the Lambda timeout (`deadlineMono`).
 */
export class InvocationPlan {
  private slot = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly startMono: number,
    private readonly deadlineMono = Number.POSITIVE_INFINITY,
  ) {}

  /** The invocation's first step: a tick at once. */
  first(): Step {
    return this.tickAt(this.startMono);
  }

  /**
   * The step after one that began at `beganMono` (the tick or the check just done) and
   * reported `report` (undefined: it failed, and the next tick reads everything again).
   */
  after(done: 'tick' | 'check', beganMono: number, report: StepReport): Step {
    if (report?.superseded === true) return { kind: 'stop', why: 'superseded' };
    if (done === 'tick') {
      const late = Math.floor((beganMono - this.startMono) / this.intervalMs) + 1;
      this.slot = Math.max(this.slot + 1, late);
    }
    const nextTick = this.startMono + this.slot * this.intervalMs;
    const wake = report?.wakeAtMs;
    // The report's times are the module's corrected wall clock; the step's own start converts them to this clock.
    const wakeMono = wake === undefined || report === undefined ? undefined : beganMono + (wake - report.atMs);
    if (checkBefore(wakeMono, nextTick, this.intervalMs)) return { kind: 'check', atMono: wakeMono };
    return this.tickAt(nextTick);
  }

  private tickAt(atMono: number): Step {
    if (atMono - this.startMono >= RUN_FOR_MS) return { kind: 'stop', why: 'ran its time' };
    if (this.deadlineMono - atMono < this.intervalMs + SAFETY_MS) return { kind: 'stop', why: 'deadline' };
    return { kind: 'tick', atMono };
  }
}

/**
 * A claim of the site's ticker, answered: claimed, or refused and, when the refusal says, in how
 * many ms the ticker it found becomes claimable (ticker.ts).
 */
export interface ClaimAnswer {
  readonly claimed: boolean;
  readonly claimableInMs?: number;
}

/** A refused invocation looks again this long after the ticker it found becomes claimable (two containers' clocks). */
export const RECLAIM_SLACK_MS = 250;

/** What one environment gives the loop: its clocks, its sleeps, its module, its ticker. */
export interface InvocationIo {
  /** The site's monotonic clock, ms. */
  mono(): number;
  /** Resolves once the monotonic clock has reached `atMono` (a frozen process: later). */
  sleepUntil(atMono: number): Promise<void>;
  /** Whether invocation `id` may tick (lambdas/heartbeat-module/ticker.ts): one conditional write. */
  claim(id: string): Promise<ClaimAnswer>;
  /** The longest a refused invocation waits to look once more (ticker.ts, reclaimAfterMs). */
  readonly reclaimAfterMs: number;
  /** The invocation that claimed the ticker begins in its container. */
  begin(id: string): void;
  /** One tick or check of the module; what it reported. */
  step(kind: 'tick' | 'check'): Promise<TickReport>;
  /** A tick or check threw: the loop goes on to the next tick, which may find the fault gone. */
  failed(kind: 'tick' | 'check', error: unknown): void;
  /** Whether the container still runs (the local runtime ends it on a crash or a restart); true on Lambda. */
  alive(): boolean;
}

export interface InvocationOutcome {
  readonly claimed: boolean;
  readonly ticks: number;
  readonly checks: number;
  readonly stopped: StopReason | 'container gone' | 'not claimed';
}

/**
 * One invocation of the heartbeat module: it claims the site's ticker, then ticks and checks as
 * the plan says until it stops. Refused, it looks once more when the refusal says the ticker it
 * found becomes claimable (that ticker may have died with its container just now: it is
 * claimable three intervals after its last tick), never later than `reclaimAfterMs`; and again
 * (once) while the refusal says that is less than an interval away (the two containers' clocks differ),
 * never for a ticker that ticked since (a live one: claimable only intervals later).
 */
export async function runInvocation(
  io: InvocationIo,
  id: string,
  limits: { readonly intervalMs: number; readonly remainingMs: number },
): Promise<InvocationOutcome> {
  const startedMono = io.mono();
  let answer = await io.claim(id);
  for (let look = 1; !answer.claimed && look <= 2; look += 1) {
    const inMs = answer.claimableInMs;
    if (look > 1 && (inMs === undefined || inMs >= limits.intervalMs)) break;
    await io.sleepUntil(io.mono() + Math.min(io.reclaimAfterMs, (inMs ?? io.reclaimAfterMs) + RECLAIM_SLACK_MS));
    if (!io.alive()) break;
    answer = await io.claim(id);
  }
  const claimed = answer.claimed;
  if (!claimed) return { claimed, ticks: 0, checks: 0, stopped: 'not claimed' };
  io.begin(id);
  const plan = new InvocationPlan(limits.intervalMs, io.mono(), startedMono + limits.remainingMs);
  const counts = { tick: 0, check: 0 };
  let step = plan.first();
  while (step.kind !== 'stop') {
    await io.sleepUntil(step.atMono);
    if (!io.alive()) return { claimed, ticks: counts.tick, checks: counts.check, stopped: 'container gone' };
    const kind = step.kind;
    const began = io.mono();
    const report = await io.step(kind).catch((error: unknown) => {
      io.failed(kind, error);
      return undefined;
    });
    counts[kind] += 1;
    step = plan.after(kind, began, report);
  }
  return { claimed, ticks: counts.tick, checks: counts.check, stopped: step.why };
}
