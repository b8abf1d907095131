import type { z } from 'zod';
import { type PromotionActions, SITE_IDS, type SiteId, type Tuning } from '../lambdas/core/wire';
import { configObject, STRONG_CONSISTENCY_REGION_SETS } from './config-keys';

export { configObject, LOG_RETENTION_DAYS, STRONG_CONSISTENCY_REGION_SETS } from './config-keys';

/**
 * The one configuration of a mirrorbeat cluster, read from the `mirrorbeat` key of the
 * CDK context (cdk.json) and overridable per key with `-c mirrorbeat.<key>=<value>`.
 * docs/CONFIGURATION.md lists every key; test/config.test.ts keeps the two in step.
 */

export const CONTEXT_KEY = 'mirrorbeat';

/** The region set holding both site regions, if any: where quorum mode is offered. */
export function regionSetOf(productionRegion: string, standbyRegion: string): readonly string[] | undefined {
  return STRONG_CONSISTENCY_REGION_SETS.find((set) => set.includes(productionRegion) && set.includes(standbyRegion));
}

type ConfigInput = z.infer<typeof configObject>;

/**
 * The longest pause of a primary's sender between two ticks that the default lease rides out: cold starts, garbage
 * collection and throttled calls, up to 5 s in the bench's corpus (bench/traces.ts, sender-pause). Beyond it the
 * standby
 * may take over, as it should from a primary that stopped renewing.
 */
export const PAUSE_TOLERATED_SECONDS = 5;

/** Fills the defaults that depend on other keys, so every default is valid at every legal setting. */
function withDefaults(c: ConfigInput) {
  const set = regionSetOf(c.productionRegion, c.standbyRegion);
  const consistency =
    c.consistency ?? (set !== undefined && c.productionRegion !== c.standbyRegion ? 'strong' : 'eventual');
  const witnessRegion =
    c.witnessRegion ??
    (consistency === 'strong' ? set?.find((r) => r !== c.productionRegion && r !== c.standbyRegion) : undefined);
  const isolationPolicy = c.isolationPolicy ?? (consistency === 'strong' ? 'self-fence' : 'stay-primary');
  const failoverMode =
    c.failoverMode ?? (consistency === 'strong' || isolationPolicy === 'self-fence' ? 'automatic' : 'approval');
  const deadlineFloorSeconds = c.deadlineFloorSeconds ?? 3 * c.intervalSeconds;
  return {
    ...c,
    consistency,
    ...(witnessRegion === undefined ? {} : { witnessRegion }),
    isolationPolicy,
    failoverMode,
    deadlineFloorSeconds,
    deadlineCeilingSeconds: c.deadlineCeilingSeconds ?? Math.max(30, 5 * deadlineFloorSeconds),
    // Quorum mode: the lease gates every takeover, so the window only has to outlast one late beat.
    confirmationWindowSeconds: c.confirmationWindowSeconds ?? (consistency === 'strong' ? 1 : 5) * c.intervalSeconds,
    // Quorum mode: a lease that outlasts two missed renewals in a row and half an interval of lateness, and a sender
    // paused for up to PAUSE_TOLERATED_SECONDS between two ticks (at 1 s, 3.5 intervals would not); the standby's wait
    // (lease + margin) is most of the detection time there. Two-region mode: longer, as its renewals replicate.
    leaseSeconds:
      c.leaseSeconds ??
      (consistency === 'strong'
        ? Math.max(3.5 * c.intervalSeconds, c.intervalSeconds + PAUSE_TOLERATED_SECONDS)
        : 6 * c.intervalSeconds),
    health: { ...c.health, timeoutMs: c.health.timeoutMs ?? Math.min(800, 300 * c.intervalSeconds) },
  };
}

export const configSchema = configObject.transform(withDefaults).superRefine((c, ctx) => {
  const issue = (path: string[], message: string, input: unknown) =>
    ctx.addIssue({ code: 'custom', path, message, input });
  if (c.standbyRegion === c.productionRegion) {
    issue(['standbyRegion'], 'must differ from productionRegion: the two sites live in two regions', c.standbyRegion);
  }
  if (c.consistency === 'strong') {
    if (c.witnessRegion === undefined) {
      issue(
        ['consistency'],
        `strong needs production and standby in one region set (${STRONG_CONSISTENCY_REGION_SETS.map((s) => s.join('/')).join('; ')}); use consistency eventual (two-region mode) for these regions`,
        c.consistency,
      );
    } else {
      const trio = [c.productionRegion, c.standbyRegion, c.witnessRegion];
      const fits = STRONG_CONSISTENCY_REGION_SETS.some((set) => trio.every((r) => set.includes(r)));
      if (new Set(trio).size !== 3 || !fits) {
        issue(
          ['witnessRegion'],
          `production, standby and witness must be three different regions of one set: ${STRONG_CONSISTENCY_REGION_SETS.map((s) => s.join('/')).join('; ')}`,
          c.witnessRegion,
        );
      }
    }
  } else if (c.witnessRegion !== undefined) {
    issue(
      ['witnessRegion'],
      'only used with consistency "strong": set consistency to strong or remove witnessRegion',
      c.witnessRegion,
    );
  }
  if (c.consistency === 'strong' && c.tableCapacity.heartbeatVolume !== undefined) {
    issue(
      ['tableCapacity', 'heartbeatVolume'],
      'quorum mode keeps the heartbeat volume on demand (provisioned capacity on a strongly consistent global table is not verified by mirrorbeat): remove it, or use consistency eventual',
      c.tableCapacity.heartbeatVolume,
    );
  }
  if (c.deadlineFloorSeconds < 2 * c.intervalSeconds) {
    issue(
      ['deadlineFloorSeconds'],
      `at least 2 × intervalSeconds (${2 * c.intervalSeconds}), or one late beat fails a path`,
      c.deadlineFloorSeconds,
    );
  }
  if (c.deadlineCeilingSeconds <= c.deadlineFloorSeconds) {
    issue(
      ['deadlineCeilingSeconds'],
      `greater than deadlineFloorSeconds (${c.deadlineFloorSeconds})`,
      c.deadlineCeilingSeconds,
    );
  }
  if (c.confirmationWindowSeconds < c.intervalSeconds) {
    issue(
      ['confirmationWindowSeconds'],
      `at least intervalSeconds (${c.intervalSeconds}): the window must see one more beat`,
      c.confirmationWindowSeconds,
    );
  }
  if (c.health.timeoutMs > c.intervalSeconds * 400) {
    issue(
      ['health', 'timeoutMs'],
      `at most 40 % of intervalSeconds (${c.intervalSeconds * 400} ms), or a slow health source delays the beat`,
      c.health.timeoutMs,
    );
  }
  if (c.leaseSeconds < 3 * c.intervalSeconds) {
    issue(
      ['leaseSeconds'],
      `at least 3 × intervalSeconds (${3 * c.intervalSeconds}): a primary renews once a tick and decides for one tick at a time`,
      c.leaseSeconds,
    );
  }
  if (c.consistency === 'strong' && c.isolationPolicy === 'stay-primary') {
    issue(
      ['isolationPolicy'],
      'stay-primary applies to two-region mode only: in quorum mode a primary that cannot reach a majority steps down within one lease; remove isolationPolicy, or set consistency eventual',
      c.isolationPolicy,
    );
  }
  if (c.consistency === 'eventual' && c.failoverMode === 'automatic' && c.isolationPolicy !== 'self-fence') {
    issue(
      ['failoverMode'],
      'automatic failover in two-region mode needs isolationPolicy self-fence (an isolated primary steps down, but a lost standby then takes the primary down too); or keep failoverMode approval (the default here) or manual, so a person decides',
      c.failoverMode,
    );
  }
  const aurora = c.promotion.auroraGlobalDatabase;
  for (const site of SITE_IDS) {
    const region = site === 'production' ? c.productionRegion : c.standbyRegion;
    const arn = aurora?.clusterArns[site];
    if (arn !== undefined && arn.split(':')[3] !== region)
      issue(
        ['promotion', 'auroraGlobalDatabase', 'clusterArns', site],
        `the ${site} member cluster must be in ${region} (the ${site} site's region), not ${arn.split(':')[3]}`,
        arn,
      );
  }
  const standbyTakesOverAfter = c.deadlineFloorSeconds + c.confirmationWindowSeconds;
  if (c.consistency === 'eventual' && c.isolationPolicy === 'self-fence' && c.leaseSeconds >= standbyTakesOverAfter) {
    issue(
      ['leaseSeconds'],
      `less than deadlineFloorSeconds + confirmationWindowSeconds (${standbyTakesOverAfter}), so an isolated primary steps down before the standby can promote`,
      c.leaseSeconds,
    );
  }
});

export type MirrorbeatConfig = z.infer<typeof configSchema>;

/** The promotion actions one site's failover steps take, from the configuration (its own capacity only). */
export function promotionActionsOf(c: MirrorbeatConfig, site: SiteId): PromotionActions {
  const { arc, route53FailoverRecord, route53Records, capacity, auroraGlobalDatabase } = c.promotion;
  const own = capacity?.[site];
  return {
    ...(own === undefined ? {} : { capacity: { [site]: own } }),
    ...(own !== undefined && capacity?.whenFenced === 'zero' ? { zeroWhenFenced: true } : {}),
    ...(auroraGlobalDatabase === undefined ? {} : { auroraGlobalDatabase }),
    ...(arc === undefined
      ? {}
      : { arc: { clusterEndpoints: arc.clusterEndpoints, routingControls: arc.routingControls } }),
    ...(route53FailoverRecord === undefined ? {} : { route53FailoverRecord }),
    ...(route53Records === undefined ? {} : { route53Records }),
  };
}

/** The part of the configuration the handlers act on, as they receive it. */
export function tuningOf(c: MirrorbeatConfig): Tuning {
  return {
    intervalSeconds: c.intervalSeconds,
    deadlineFloorSeconds: c.deadlineFloorSeconds,
    deadlineCeilingSeconds: c.deadlineCeilingSeconds,
    phiThreshold: c.phiThreshold,
    confirmationWindowSeconds: c.confirmationWindowSeconds,
    rpoBudgetSeconds: c.rpoBudgetSeconds,
    leaseSeconds: c.leaseSeconds,
    consistency: c.consistency,
    isolationPolicy: c.isolationPolicy,
    failoverMode: c.failoverMode,
    cooldownSeconds: c.cooldownSeconds,
    noticeBurst: c.notifications.foldAfter,
    noticeWindowSeconds: c.notifications.foldWindowSeconds,
    ...(c.notifications.publishInfo ? { publishInfo: true } : {}),
    ...(c.notifications.runbookUrl === undefined ? {} : { runbookUrl: c.notifications.runbookUrl }),
    onPeerFailure: c.health.onPeerFailure,
  };
}

/** What the role protocol does with this configuration, and what the choice risks, in words for `mirrorbeat config`. */
export function describeRoles(c: MirrorbeatConfig): string {
  if (c.consistency === 'strong') {
    return `Quorum mode: witness ${c.witnessRegion ?? '?'}; a primary acts only while it renews its ${c.leaseSeconds} s lease through a majority of the three regions. A lost standby or witness never takes it down; an isolated primary steps down within one lease; failover is ${c.failoverMode}.`;
  }
  if (c.isolationPolicy === 'self-fence') {
    return `Two-region mode, self-fence: a primary that hears no beat sent by its peer for ${c.leaseSeconds} s steps down, so failover (${c.failoverMode}) never makes two primaries on a clean partition; the price: a lost standby takes the primary down too.`;
  }
  return `Two-region mode, stay-primary: a lost standby never takes the primary down; failover is ${c.failoverMode} (a person decides: approving while the old primary lives behind a partition makes two primaries until it sees the new epoch).`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A value as the user wrote it, short enough for one line. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Applies `mirrorbeat.<dotted.key>` overrides (as `-c` gives them: strings) onto the base object.
 * A string that parses as JSON is taken as that JSON value (`5`, `true`, `["a"]`).
 */
export function applyOverrides(base: unknown, overrides: Readonly<Record<string, unknown>>): unknown {
  const merged: Record<string, unknown> = structuredClone(isRecord(base) ? base : {});
  for (const [dotted, raw] of Object.entries(overrides)) {
    const keys = dotted.split('.');
    let node = merged;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      node[key] = isRecord(next) ? next : {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = typeof raw === 'string' ? parseLoose(raw) : raw;
  }
  return merged;
}

function parseLoose(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The keys an object of the schema allows at a path (`[]` for the top level, `['notifications']`, ...). */
function keysAt(path: readonly string[]): string[] {
  let node: unknown = configObject;
  for (const key of path) {
    const shape = (node as { shape?: Record<string, unknown> }).shape;
    node = shape?.[key];
    // Optional and defaulted objects wrap the object schema; unwrap to reach its shape.
    while (
      node !== undefined &&
      (node as { shape?: unknown }).shape === undefined &&
      typeof (node as { unwrap?: unknown }).unwrap === 'function'
    ) {
      node = (node as { unwrap: () => unknown }).unwrap();
    }
  }
  const shape = (node as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape === undefined ? [] : Object.keys(shape);
}

/**
 * Validates a raw configuration. Throws a ConfigError whose message is one line:
 * the key, the value given, and what is allowed.
 */
export function parseConfig(raw: unknown): MirrorbeatConfig {
  if (typeof raw === 'string') raw = parseLoose(raw);
  if (!isRecord(raw)) {
    throw new ConfigError(
      `${CONTEXT_KEY}: got ${show(raw)}; expected an object of settings under the "${CONTEXT_KEY}" key of cdk.json context`,
    );
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const first = result.error.issues[0];
  if (first === undefined) throw new ConfigError(`${CONTEXT_KEY}: invalid configuration`);
  const key = [CONTEXT_KEY, ...first.path.map(String)].join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  if (first.code === 'unrecognized_keys') {
    const known = keysAt(first.path.map(String));
    throw new ConfigError(
      `${key}: unknown key ${first.keys.map((k) => `"${k}"`).join(', ')}; allowed keys here: ${known.length > 0 ? known.join(', ') : 'see docs/CONFIGURATION.md'}`,
    );
  }
  throw new ConfigError(`${key}: got ${show(first.input)}; allowed: ${first.message}`);
}

/**
 * Reads the configuration from a CDK context map: the `mirrorbeat` object, then every
 * `mirrorbeat.<key>` entry on top of it.
 */
export function configFromContext(context: Readonly<Record<string, unknown>>): MirrorbeatConfig {
  return parseConfig(rawConfigFromContext(context));
}

/**
 * The configuration object a CDK context holds, before validation: the `mirrorbeat` object
 * with every `mirrorbeat.<key>` entry applied (what `mergeConfig` can put more keys on).
 */
export function rawConfigFromContext(context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const prefix = `${CONTEXT_KEY}.`;
  for (const key of Object.keys(context)) {
    const head = key.split('.')[0] as string;
    if (head !== CONTEXT_KEY && editDistance(head.toLowerCase(), CONTEXT_KEY) <= 3) {
      const meant = `${CONTEXT_KEY}${key.slice(head.length)}`;
      throw new ConfigError(`${key}: unknown context key, so it would be ignored; did you mean ${meant}?`);
    }
    // `-c intervalSeconds=5` is a mirrorbeat key without its prefix: the CDK would keep it and mirrorbeat never read it.
    if (keysAt([]).includes(head)) {
      throw new ConfigError(
        `${key}: a mirrorbeat key without the "${CONTEXT_KEY}." prefix, so it would be ignored; write ${CONTEXT_KEY}.${key}`,
      );
    }
  }
  const overrides = Object.fromEntries(
    Object.entries(context)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
  const base = typeof context[CONTEXT_KEY] === 'string' ? parseLoose(context[CONTEXT_KEY]) : context[CONTEXT_KEY];
  if (base === undefined) {
    throw new ConfigError(
      `${CONTEXT_KEY}: missing; add a "${CONTEXT_KEY}" object to the context of cdk.json (see docs/CONFIGURATION.md)`,
    );
  }
  return applyOverrides(base, overrides) as Record<string, unknown>;
}

/** `over` on top of `base`, key by key into nested objects; a list or value in `over` replaces the base's. */
export function mergeConfig(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>) {
  const merged: Record<string, unknown> = structuredClone({ ...base });
  for (const [key, value] of Object.entries(over)) {
    const under = merged[key];
    merged[key] = isRecord(under) && isRecord(value) ? mergeConfig(under, value) : structuredClone(value);
  }
  return merged;
}

/** Levenshtein distance, for a context key that is one slip away from `mirrorbeat`. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length] as number;
}
