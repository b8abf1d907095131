import { z } from 'zod';
import type { Tuning } from '../lambdas/core/wire';
import { MAX_CLUSTER_NAME_LENGTH } from './names';

/**
 * The one configuration of a mirrorbeat cluster, read from the `mirrorbeat` key of the
 * CDK context (cdk.json) and overridable per key with `-c mirrorbeat.<key>=<value>`.
 * docs/CONFIGURATION.md lists every key; test/config.test.ts keeps the two in step.
 */

export const CONTEXT_KEY = 'mirrorbeat';

/** The longest name derived from the cluster name (an IAM role's) sets its length. */
const CLUSTER_NAME_RULE = `the cluster name: lower-case letters, digits and hyphens, 1 to ${MAX_CLUSTER_NAME_LENGTH} characters, starting with a letter`;

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;
const ROUTING_CONTROL_ARN =
  /^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel\/[a-z0-9]+\/routingcontrol\/[a-z0-9]+$/;

/** Region sets in which DynamoDB multi-region strong consistency is offered (three regions of one set). */
export const STRONG_CONSISTENCY_REGION_SETS: readonly (readonly string[])[] = [
  ['us-east-1', 'us-east-2', 'us-west-2'],
  ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
];

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** A list key also accepts one comma-separated string, which is what `-c key=a,b` gives. */
function list<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0)
        : v,
    z.array(item),
  );
}

const region = (what: string) =>
  z
    .string({ error: `${what}: an AWS region code such as us-east-1` })
    .regex(REGION, `${what}: an AWS region code such as us-east-1`);

const email = z.email({ error: 'an e-mail address such as oncall@example.com' });

const seconds = (min: number, max: number, what: string) =>
  z
    .number({ error: `${what}: a number of seconds from ${min} to ${max}` })
    .min(min, `${what}: at least ${min}`)
    .max(max, `${what}: at most ${max}`);

/** The keys as written, before the defaults that depend on other keys are filled in. */
export const configObject = z.strictObject({
  clusterName: z
    .string({ error: CLUSTER_NAME_RULE })
    .regex(new RegExp(`^[a-z][a-z0-9-]{0,${MAX_CLUSTER_NAME_LENGTH - 1}}$`), CLUSTER_NAME_RULE)
    .describe('Name of the protected cluster; prefixes every physical name (tables, bus, topics, roles).'),
  account: z
    .string()
    .regex(/^\d{12}$/, 'a 12-digit AWS account id')
    .optional()
    .describe(
      'Account both sites deploy to. Without it, the account of the deploying credentials (CDK_DEFAULT_ACCOUNT); synth works with none.',
    ),
  productionRegion: region('the production region').describe(
    'Region of the production site (primary at first deploy, epoch 1).',
  ),
  standbyRegion: region('the standby region').describe(
    'Region of the standby site; holds the heartbeat volume replica.',
  ),
  witnessRegion: region('the witness region')
    .optional()
    .describe(
      "Witness region of quorum mode (consistency strong): by default the first other region of the production and standby regions' region set. Refused with consistency eventual.",
    ),
  consistency: z
    .enum(['eventual', 'strong'], { error: 'eventual or strong' })
    .optional()
    .describe(
      "strong (quorum mode, the default wherever production and standby lie in one of DynamoDB's multi-region strong consistency region sets): the cluster record needs a majority of production, standby and witness; eventual (two-region mode, the default elsewhere): an asynchronous global table, no quorum.",
    ),
  intervalSeconds: z
    .number({ error: 'an integer number of seconds from 1 to 20' })
    .int('an integer number of seconds from 1 to 20')
    .min(1, 'an integer number of seconds from 1 to 20')
    .max(20, 'an integer number of seconds from 1 to 20')
    .default(2)
    .describe('Heartbeat period on each path.'),
  deadlineFloorSeconds: seconds(1, 600, 'the shortest path deadline')
    .optional()
    .describe(
      'Shortest deadline the adaptive detector may use before a path counts as failed; at least 2 × intervalSeconds. Default 3 × intervalSeconds.',
    ),
  deadlineCeilingSeconds: seconds(1, 3600, 'the longest path deadline')
    .optional()
    .describe(
      "Longest deadline the adaptive detector may use, also the bound on a beat's clock skew; greater than deadlineFloorSeconds. Default the larger of 30 and 5 × deadlineFloorSeconds.",
    ),
  phiThreshold: z
    .number({ error: 'a number from 1 to 16' })
    .min(1, 'a number from 1 to 16')
    .max(16, 'a number from 1 to 16')
    .default(8)
    .describe('Phi-accrual suspicion level at which a path turns from suspect to failed.'),
  confirmationWindowSeconds: seconds(0, 600, 'the confirmation window')
    .optional()
    .describe(
      'How long every enabled path must stay failed before the peer counts as lost. Default 5 × intervalSeconds.',
    ),
  failoverMode: z
    .enum(['automatic', 'approval', 'manual'], { error: 'automatic, approval or manual' })
    .optional()
    .describe(
      'automatic: the standby promotes itself; approval: it asks on SNS and waits for `mirrorbeat approve`; manual: it only notifies. Default automatic in quorum mode and in two-region mode under isolationPolicy self-fence, approval otherwise.',
    ),
  approvalTimeoutSeconds: seconds(60, 86_400, 'the approval timeout')
    .default(1800)
    .describe(
      'Under failoverMode approval: how long an automatic failover waits for `mirrorbeat approve` before it gives up (aborted, nothing changed).',
    ),
  rpoBudgetSeconds: seconds(1, 3600, 'the RPO budget')
    .default(30)
    .describe('Largest heartbeat-volume replication latency at which failover may proceed.'),
  isolationPolicy: z
    .enum(['self-fence', 'stay-primary'], { error: 'self-fence or stay-primary' })
    .optional()
    .describe(
      'Two-region mode only: what a primary does when no valid beat sent by its peer in the last leaseSeconds reached it on any path: self-fence (stop acting as primary, call the fence hook; needed for automatic failover) or stay-primary (the default: a lost standby never takes the primary down). In quorum mode the lease decides and this key is refused.',
    ),
  leaseSeconds: seconds(1, 3600, 'the primary lease')
    .optional()
    .describe(
      'The primary lease: a primary acts only while its last successful renewal started less than this long ago by its own clock; the standby waits this long plus a drift margin after the last renewal it saw. Default 6 × intervalSeconds; under two-region self-fence less than deadlineFloorSeconds + confirmationWindowSeconds.',
    ),
  logRetentionDays: z
    .number()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `one of ${LOG_RETENTION_DAYS.join(', ')}`)
    .default(30)
    .describe('Retention of every log group mirrorbeat creates.'),
  reserveConcurrency: z
    .boolean({ error: 'true or false' })
    .default(true)
    .describe(
      "Set aside Lambda concurrency for the handlers (12 per site), so a workload in the same account and region cannot throttle the beats. An account must keep 100 unreserved: turn this off only where the account's limit is too low (npx mirrorbeat preflight tells).",
    ),
  notifications: z
    .strictObject({
      criticalEmails: list(email)
        .default([])
        .describe('Addresses subscribed to the critical topic (peer lost, failover, unprotected).'),
      warningEmails: list(email)
        .default([])
        .describe('Addresses subscribed to the warning topic (one path failed, command refused).'),
      foldAfter: z
        .number()
        .int('a whole number')
        .min(0, 'at least 0 (0 turns folding off)')
        .max(100, 'at most 100')
        .default(3)
        .describe(
          'At most this many warning notices of one kind and path per fold window; the rest are folded into one summary when the window ends. 0: never fold. Critical notices are never folded.',
        ),
      foldWindowSeconds: seconds(60, 86_400, 'the notice fold window')
        .default(900)
        .describe('The rate-limit window of warning notices, per kind and path.'),
      runbookUrl: z
        .url({ protocol: /^https$/, error: 'an https:// URL' })
        .optional()
        .describe(
          'Your runbook for this cluster, linked from every notice and from the dashboard (default: docs/OPERATIONS.md of mirrorbeat is named instead).',
        ),
    })
    .prefault({}),
  promotion: z
    .strictObject({
      arc: z
        .strictObject({
          clusterEndpoints: z
            .array(
              z.strictObject({
                url: z.url({
                  protocol: /^https$/,
                  error: 'a Route 53 ARC cluster endpoint URL such as https://host-abc.us-east-1.example.com/v1',
                }),
                region: region('the endpoint region'),
              }),
            )
            .min(1, 'at least one cluster endpoint (aws route53-recovery-control-config describe-cluster lists five)')
            .max(5, 'at most five cluster endpoints'),
          routingControls: z.strictObject({
            production: z.string().regex(ROUTING_CONTROL_ARN, 'a Route 53 ARC routing control ARN'),
            standby: z.string().regex(ROUTING_CONTROL_ARN, 'a Route 53 ARC routing control ARN'),
          }),
        })
        .optional()
        .describe(
          "Route 53 ARC: the cluster endpoints and one routing control per site; promotion sets the promoted site's On and the other's Off.",
        ),
      route53FailoverRecord: z
        .strictObject({
          hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'a hosted zone id such as Z0123456789ABC'),
          recordName: z.string().min(1, 'a DNS name such as api.example.com'),
          healthCheckId: z.uuid('a Route 53 health check id (a UUID)'),
        })
        .optional()
        .describe(
          'The production (PRIMARY) record of a Route 53 failover pair and its health check; promotion of the standby inverts the check, promotion of production restores it.',
        ),
      hookFunctionArn: z
        .string()
        .regex(LAMBDA_ARN, 'a Lambda function ARN')
        .optional()
        .describe('Your Lambda, invoked with the decision record after the built-in promotion actions.'),
    })
    .prefault({}),
  health: z
    .strictObject({
      alarmNames: list(z.string().min(1).max(255, 'a CloudWatch alarm name of at most 255 characters'))
        .default([])
        .describe(
          "CloudWatch alarms (in the site's region) that watch the protected workload; any in ALARM makes the site's beats say health failed.",
        ),
      url: z
        .url({ protocol: /^https$/, error: "an https:// URL of the workload's health endpoint" })
        .optional()
        .describe(
          'HTTPS health endpoint of the workload, probed every tick; a non-2xx answer, an error or a timeout is failed.',
        ),
      timeoutMs: z
        .number({ error: 'a number of milliseconds from 100 to 5000' })
        .int('a whole number of milliseconds from 100 to 5000')
        .min(100, 'at least 100 ms')
        .max(5000, 'at most 5000 ms')
        .optional()
        .describe(
          'How long each health source may take per tick; at most 40 % of intervalSeconds so the beat is never late. Default the smaller of 800 and 30 % of intervalSeconds.',
        ),
      onPeerFailure: z
        .enum(['notify', 'failover'], { error: 'notify or failover' })
        .default('notify')
        .describe(
          "What the secondary does when valid beats say the primary's workload failed: notify only, or start failover.",
        ),
    })
    .prefault({}),
  fenceHookFunctionArn: z
    .string()
    .regex(LAMBDA_ARN, 'a Lambda function ARN')
    .optional()
    .describe(
      "Your Lambda, invoked once by the promoting site's fence step and once by a demoted site's heartbeat module, to stop the old primary's workload.",
    ),
  cooldownSeconds: seconds(0, 86_400, 'the failover cooldown')
    .default(3600)
    .describe(
      'After a promotion, no automatic failover on a reported workload failure for this long (no ping-pong); a lost primary is always replaced, and a person can always fail over or switch over.',
    ),
});

/** The region set holding both site regions, if any: where quorum mode is offered. */
export function regionSetOf(productionRegion: string, standbyRegion: string): readonly string[] | undefined {
  return STRONG_CONSISTENCY_REGION_SETS.find((set) => set.includes(productionRegion) && set.includes(standbyRegion));
}

type ConfigInput = z.infer<typeof configObject>;

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
    confirmationWindowSeconds: c.confirmationWindowSeconds ?? 5 * c.intervalSeconds,
    leaseSeconds: c.leaseSeconds ?? 6 * c.intervalSeconds,
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
  const prefix = `${CONTEXT_KEY}.`;
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
  return parseConfig(applyOverrides(base, overrides));
}
