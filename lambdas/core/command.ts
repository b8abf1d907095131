import * as z from 'zod/mini';
import { signatureMatches, signMessage } from './message';
import { PATH_MODES, type PathId, type PathMode, PATHS, SITE_IDS, type SiteId } from './wire';

/**
 * The request command of the path-control workflow (seed claim 23) and the peer's
 * acknowledgement: signed like heartbeats, carried on every path that can still carry them
 * (an item in the heartbeat volume, and a PathCommand / PathAck event on the peer's bus).
 */
const sig = z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 HMAC-SHA256'));
const id = z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'an execution name'));
const at = z.number().check(z.int(), z.minimum(0));

/** One path switched on or off; a request command carries one change per path, applied together. */
export interface PathChange {
  readonly path: PathId;
  readonly action: 'activate' | 'deactivate';
}

const change = z.strictObject({ path: z.enum(PATHS), action: z.enum(['activate', 'deactivate']) });

export const pathCommandSchema = z.strictObject({
  id,
  cluster: z.string().check(z.minLength(1), z.maxLength(64)),
  from: z.enum(SITE_IDS),
  to: z.enum(SITE_IDS),
  changes: z.array(change).check(
    z.minLength(1),
    z.maxLength(PATHS.length),
    z.refine((c) => new Set(c.map((x) => x.path)).size === c.length, 'one change per path'),
  ),
  reason: z.string().check(z.maxLength(500)),
  force: z.boolean(),
  issuedAtMs: at,
  /** After this the requester has rolled back: the peer must not act on it. */
  expiresAtMs: at,
  sig,
});
export type PathCommandMessage = z.infer<typeof pathCommandSchema>;

export const pathAckSchema = z.strictObject({
  id,
  cluster: z.string().check(z.minLength(1), z.maxLength(64)),
  from: z.enum(SITE_IDS),
  to: z.enum(SITE_IDS),
  accepted: z.boolean(),
  /** The peer's mode of each path the command named, after acting on it. */
  modes: z.strictObject({ network: z.optional(z.enum(PATH_MODES)), storage: z.optional(z.enum(PATH_MODES)) }),
  detail: z.string().check(z.maxLength(500)),
  atMs: at,
  sig,
});
export type PathAckMessage = z.infer<typeof pathAckSchema>;

export const signCommand = (c: Omit<PathCommandMessage, 'sig'>, key: Buffer): PathCommandMessage => signMessage(c, key);
export const signAck = (a: Omit<PathAckMessage, 'sig'>, key: Buffer): PathAckMessage => signMessage(a, key);

export type ControlCheck<T> =
  | { readonly ok: true; readonly message: T }
  | { readonly ok: false; readonly reason: 'schema' | 'signature' | 'sender'; readonly detail: string };

/** Validates a command or acknowledgement from the peer; never throws. */
export function checkControl<T extends { cluster: string; from: SiteId; to: SiteId; sig: string }>(
  schema: z.ZodMiniType<T>,
  input: unknown,
  expect: { readonly cluster: string; readonly me: SiteId; readonly keys: readonly Buffer[] },
): ControlCheck<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: 'schema',
      detail: issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'not a control message',
    };
  }
  const message = parsed.data;
  if (!signatureMatches(message, expect.keys))
    return { ok: false, reason: 'signature', detail: 'signature does not match the current or previous key' };
  if (message.cluster !== expect.cluster || message.to !== expect.me || message.from === expect.me) {
    return {
      ok: false,
      reason: 'sender',
      detail: `${message.cluster}/${message.from} → ${message.to} is not addressed to ${expect.cluster}/${expect.me} by its peer`,
    };
  }
  return { ok: true, message };
}

/**
 * Why switching `path` off would leave the cluster without a working path, if it would: the
 * other path is not enabled, or it is enabled but not carrying valid beats (failed, never
 * seen). A mode says what the operators chose; only the state says what still works.
 */
export function lastWorkingPathRefusal(
  path: PathId,
  otherMode: PathMode,
  otherState: string | undefined,
): string | undefined {
  const other: PathId = path === 'network' ? 'storage' : 'network';
  if (otherMode !== 'enabled') return `the ${other} path is ${otherMode}, so the cluster would be unprotected`;
  if (otherState !== 'healthy' && otherState !== 'suspect')
    return `the ${other} path is enabled but ${otherState ?? 'has carried no beat yet'}, so ${path} is the only path still working and the peer would look lost`;
  return undefined;
}

/**
 * Why applying `changes` together would leave the cluster with no working path, if it would.
 * A path counts as working when it stays enabled and carries valid beats; a path this command
 * activates carries none yet, so it cannot stand in for the one the command deactivates.
 */
export function unprotectedRefusal(
  changes: readonly PathChange[],
  modeOf: (path: PathId) => PathMode,
  stateOf: (path: PathId) => string | undefined,
): string | undefined {
  const off = changes.filter((c) => c.action === 'deactivate').map((c) => c.path);
  const [path] = off;
  if (path === undefined) return undefined;
  if (off.length === PATHS.length) return 'both paths would be disabled, so the cluster would be unprotected';
  const other: PathId = path === 'network' ? 'storage' : 'network';
  if (changes.some((c) => c.path === other && c.action === 'activate') && modeOf(other) !== 'enabled')
    return `the ${other} path is only being activated and carries no beat yet, so ${path} is the only path still working; activate ${other} first and deactivate ${path} once ${other} is healthy`;
  return lastWorkingPathRefusal(path, modeOf(other), stateOf(other));
}

/** "network activate, storage deactivate": how a command reads in notices, logs and the CLI. */
export const describeChanges = (changes: readonly PathChange[]): string =>
  changes.map((c) => `${c.path} ${c.action}`).join(', ');
