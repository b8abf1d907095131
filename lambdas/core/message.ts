import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { en } from 'zod/locales';

import { SITE_IDS, type SiteId } from './wire';

/** The heartbeat message (a contract between deployed sites; docs/ARCHITECTURE.md), version 1. */

const MAX_TEXT = 1024;

export const HEALTH_VALUES = ['ok', 'degraded', 'failed'] as const;
export type Health = (typeof HEALTH_VALUES)[number];

// zod/mini with a namespace import lets esbuild drop what the schema does not use (the full zod bundles every
// locale: 500 kB instead of 74 kB for the heartbeat module); the English locale names each problem.
z.config(en());

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const count = (min: number) => z.number().check(z.int(), z.minimum(min), z.maximum(Number.MAX_SAFE_INTEGER));

export const heartbeatSchema = z.strictObject({
  v: z.literal(1),
  cluster: text(64),
  site: z.enum(SITE_IDS),
  region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region code')),
  serial: count(1),
  sentAt: z.iso.datetime({ offset: true }),
  epoch: count(0),
  role: z.enum(['primary', 'secondary']),
  health: z.enum(HEALTH_VALUES),
  notice: z.optional(z.strictObject({ kind: text(64), detail: z.string().check(z.maxLength(MAX_TEXT)) })),
  /**
   * The highest serial this sender has accepted from the peer: the round trip two-region self-fence times its lease by.
   */
  ack: z.optional(count(1)),
  sig: z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 HMAC-SHA256')),
});

export type Heartbeat = z.infer<typeof heartbeatSchema>;
export type UnsignedHeartbeat = Omit<Heartbeat, 'sig'>;

/** Canonical form: JSON with object keys sorted at every depth, `sig` left out. */
export function canonicalForm(beat: UnsignedHeartbeat | Heartbeat): string {
  const { sig: _ignored, ...rest } = beat as Heartbeat;
  return stableStringify(rest);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function mac(key: Buffer, message: object): Buffer {
  return createHmac('sha256', key)
    .update(canonicalForm(message as Heartbeat), 'utf8')
    .digest();
}

/** Signs any message of the site pair (beats, path commands, acknowledgements) the same way. */
export function signMessage<T extends object>(message: T, key: Buffer): T & { sig: string } {
  return { ...message, sig: mac(key, message).toString('base64') };
}

export function signHeartbeat(beat: UnsignedHeartbeat, key: Buffer): Heartbeat {
  return { ...beat, sig: mac(key, beat).toString('base64') };
}

/** True when the signature matches any of the keys (current first, then previous during rotation). */
export function signatureMatches(message: { readonly sig: string }, keys: readonly Buffer[]): boolean {
  const given = Buffer.from(message.sig, 'base64');
  return keys.some((key) => {
    const expected = mac(key, message);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

export type RejectionReason = 'schema' | 'signature' | 'sender' | 'replay' | 'skew' | 'epoch';

export type Verdict =
  | { readonly ok: true; readonly beat: Heartbeat }
  | { readonly ok: false; readonly reason: RejectionReason; readonly detail: string };

export interface AcceptanceContext {
  readonly cluster: string;
  /** The only sender this receiver accepts beats from. */
  readonly expectedSender: SiteId;
  readonly keys: readonly Buffer[];
  /** Serial of the last beat accepted from this sender on this path (0 when none). */
  readonly lastSerial: number;
  /** Receiver's own epoch: a beat from an older epoch is stale. */
  readonly epoch: number;
  /** Receiver's arrival clock, in ms since the epoch. */
  readonly nowMs: number;
  readonly maxSkewMs: number;
}

/**
 * Decides whether a received message is a valid heartbeat. Never throws: anything the
 * peer (or an attacker) can send maps to a verdict with a reason that is counted.
 */
export function checkHeartbeat(input: unknown, ctx: AcceptanceContext): Verdict {
  const parsed = heartbeatSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: 'schema',
      detail: issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'not a heartbeat',
    };
  }
  const beat = parsed.data;
  if (!signatureMatches(beat, ctx.keys))
    return { ok: false, reason: 'signature', detail: 'signature does not match the current or previous key' };
  if (beat.cluster !== ctx.cluster || beat.site !== ctx.expectedSender) {
    return {
      ok: false,
      reason: 'sender',
      detail: `sender ${beat.cluster}/${beat.site} is not ${ctx.cluster}/${ctx.expectedSender}`,
    };
  }
  if (beat.serial <= ctx.lastSerial)
    return { ok: false, reason: 'replay', detail: `serial ${beat.serial} is not above ${ctx.lastSerial}` };
  const skew = Math.abs(Date.parse(beat.sentAt) - ctx.nowMs);
  if (skew > ctx.maxSkewMs)
    return {
      ok: false,
      reason: 'skew',
      detail: `sentAt is ${skew} ms from the receiver's clock (bound ${ctx.maxSkewMs} ms)`,
    };
  if (beat.epoch < ctx.epoch)
    return { ok: false, reason: 'epoch', detail: `epoch ${beat.epoch} is older than ${ctx.epoch}` };
  return { ok: true, beat };
}
