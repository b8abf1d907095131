/**
 * Deadlines on calls that leave the site's region (the peer region, Route 53's and ARC's
 * endpoints, a hook elsewhere). A region that drops traffic silently must cost a step a few
 * seconds and a clear "not delivered", never the step Lambda's whole 30 s timeout.
 */
export const REMOTE_CALL_DEADLINE_MS = 5_000;

/** A user's hook runs their code: it gets longer, still well inside the step's 30 s. */
export const HOOK_DEADLINE_MS = 20_000;

/**
 * The clock the handlers' deadlines run on. In Lambda, real time. The local runtime runs the
 * handlers in virtual time, where a call takes no time at all and a region cut off answers at
 * once with the error AWS gives after its timeout (local/quorum.ts, local/bus.ts): a real-time
 * deadline there could only fire because the machine is busy, and would make the same scenario
 * and seed end differently under load. So it switches to deadlines that never fire while it
 * runs (`virtualDeadlines`), and every deadline in the handlers is taken from here.
 */
interface DeadlineClock {
  signal(ms: number): AbortSignal;
  /** Calls `fire` after `ms`; returns the cancel. */
  after(ms: number, fire: () => void): () => void;
}

const REAL_TIME: DeadlineClock = {
  signal: (ms) => AbortSignal.timeout(ms),
  after: (ms, fire) => {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
};

const NEVER: DeadlineClock = {
  signal: () => new AbortController().signal,
  after: () => () => undefined,
};

let clock: DeadlineClock = REAL_TIME;

/** Runs `work` with deadlines that never fire (the local runtime's virtual time), then restores real time. */
export async function virtualDeadlines<T>(work: () => Promise<T>): Promise<T> {
  const before = clock;
  clock = NEVER;
  try {
    return await work();
  } finally {
    clock = before;
  }
}

/** A signal that aborts after `ms` (never, in virtual time). */
export const deadlineSignal = (ms: number): AbortSignal => clock.signal(ms);

/** Calls `fire` after `ms` (never, in virtual time); returns the cancel. */
export const deadlineTimer = (ms: number, fire: () => void): (() => void) => clock.after(ms, fire);

/** Send options that abort the call (every SDK attempt of it) after `ms`. */
export const deadline = (ms: number = REMOTE_CALL_DEADLINE_MS): { abortSignal: AbortSignal } => ({
  abortSignal: deadlineSignal(ms),
});
