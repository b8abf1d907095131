/**
 * Deadlines on calls that leave the site's region (the peer region, Route 53's and ARC's
 * endpoints, a hook elsewhere). A region that drops traffic silently must cost a step a few
 * seconds and a clear "not delivered", never the step Lambda's whole 30 s timeout.
 */
export const REMOTE_CALL_DEADLINE_MS = 5_000;

/** A user's hook runs their code: it gets longer, still well inside the step's 30 s. */
export const HOOK_DEADLINE_MS = 20_000;

/** Send options that abort the call (every SDK attempt of it) after `ms`. */
export const deadline = (ms: number = REMOTE_CALL_DEADLINE_MS): { abortSignal: AbortSignal } => ({
  abortSignal: AbortSignal.timeout(ms),
});
