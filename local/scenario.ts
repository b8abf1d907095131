import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, mergeConfig, type MirrorbeatConfig, parseConfig } from '../lib/config';
import { PATHS, SITE_IDS } from '../lambdas/core/wire';
import { type Expectation, expectation } from './expect';

/** The scenario file (a contract; docs/SCENARIOS.md). */

const atMs = z
  .number({ error: 'a whole number of milliseconds from the start, 0 or more' })
  .int('a whole number of milliseconds')
  .min(0, '0 or more');
const path = z.enum(PATHS, { error: 'network or storage' });
const site = z.enum(SITE_IDS, { error: 'production or standby' });
/** Faults that stop or cut a whole region also take the witness region of quorum mode. */
const region = z.enum([...SITE_IDS, 'witness'], { error: 'production, standby or witness' });
const witnessLeg = z.union([z.tuple([site, z.literal('witness')]), z.tuple([z.literal('witness'), site])], {
  error: 'a site and the witness: ["production", "witness"] or ["standby", "witness"]',
});
const positiveMs = z
  .number({ error: 'a whole number of milliseconds above 0' })
  .int('a whole number of milliseconds')
  .positive('above 0');
const count = z
  .number({ error: 'a whole number from 1 to 10000' })
  .int('a whole number from 1 to 10000')
  .min(1, 'at least 1')
  .max(10_000, 'at most 10000');

const faults = [
  z.strictObject({ atMs, fault: z.literal('partition'), path }),
  z.strictObject({ atMs, fault: z.literal('heal'), path }),
  z.strictObject({ atMs, fault: z.literal('partition'), between: witnessLeg }),
  z.strictObject({ atMs, fault: z.literal('heal'), between: witnessLeg }),
  z.strictObject({
    atMs,
    fault: z.literal('lag'),
    path,
    ms: z.number({ error: 'a whole number of milliseconds, 0 or more' }).int().min(0).max(600_000, 'at most 600000'),
  }),
  z.strictObject({
    atMs,
    fault: z.literal('loss'),
    path,
    rate: z.number({ error: 'a fraction from 0 to 1' }).min(0, 'from 0').max(1, 'to 1'),
  }),
  z.strictObject({ atMs, fault: z.literal('crash'), site: region }),
  z.strictObject({ atMs, fault: z.literal('restart'), site: region }),
  z.strictObject({ atMs, fault: z.literal('pause'), site: region, ms: positiveMs }),
  z.strictObject({ atMs, fault: z.literal('isolate'), site: region }),
  z.strictObject({
    atMs,
    fault: z.literal('skew'),
    site,
    ms: z.number({ error: 'a whole number of milliseconds (negative: behind)' }).int().min(-3_600_000).max(3_600_000),
  }),
  z.strictObject({
    atMs,
    fault: z.literal('drift'),
    site,
    ppm: z
      .number({ error: 'a whole number of parts per million (negative: slow), from -100000 to 100000' })
      .int('a whole number of parts per million (negative: slow), from -100000 to 100000')
      .min(-100_000, 'at least -100000 (10 % slow)')
      .max(100_000, 'at most 100000 (10 % fast)'),
  }),
  z.strictObject({ atMs, fault: z.literal('forge'), path, count, site: site.optional() }),
  z.strictObject({ atMs, fault: z.literal('replay'), path, count, site: site.optional() }),
  z.strictObject({
    atMs,
    fault: z.literal('health'),
    site,
    status: z.enum(['ok', 'degraded', 'failed'], { error: 'ok, degraded or failed' }),
  }),
] as const;
const COMMAND_NAMES = 'activate, deactivate, paths, switchover, failover, approve, reject or maintenance';
const pathAction = z.enum(['activate', 'deactivate'], { error: 'activate or deactivate' });
/**
 * site: where the command runs (path control: the site that starts it; switchover and failover: the site to promote).
 */
const commands = [
  z.strictObject({
    atMs,
    command: z.enum(['activate', 'deactivate'], { error: COMMAND_NAMES }),
    path,
    site: site.optional(),
    force: z.boolean().optional(),
  }),
  // One request command for both paths: {"command": "paths", "network": "activate", "storage": "deactivate"}.
  z.strictObject({
    atMs,
    command: z.literal('paths'),
    network: pathAction.optional(),
    storage: pathAction.optional(),
    site: site.optional(),
    force: z.boolean().optional(),
  }),
  z.strictObject({ atMs, command: z.literal('switchover'), site: site.optional(), dryRun: z.boolean().optional() }),
  z.strictObject({ atMs, command: z.literal('failover'), site: site.optional(), dryRun: z.boolean().optional() }),
  z.strictObject({ atMs, command: z.enum(['approve', 'reject'], { error: COMMAND_NAMES }), site: site.optional() }),
  z.strictObject({
    atMs,
    command: z.literal('maintenance'),
    state: z.enum(['on', 'off'], { error: 'on or off' }),
    reason: z.string().max(200, 'at most 200 characters').optional(),
  }),
] as const;

const FAULT_NAMES = [
  'partition',
  'heal',
  'lag',
  'loss',
  'crash',
  'restart',
  'pause',
  'isolate',
  'skew',
  'drift',
  'forge',
  'replay',
  'health',
];

const event = z.unknown().transform((value, ctx) => {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    ctx.addIssue({ code: 'custom', message: 'an object with atMs and either "fault" or "command"' });
    return z.NEVER;
  }
  // A partition or heal names either a path or the two ends of a leg to the witness.
  const shapeFits = (f: (typeof faults)[number]) => !('between' in f.shape) === !('between' in v);
  const candidates =
    'fault' in v
      ? faults.filter(
          (f) =>
            f.shape.fault.safeParse(v.fault).success &&
            (v.fault !== 'partition' && v.fault !== 'heal' ? true : shapeFits(f)),
        )
      : 'command' in v
        ? commands.filter((c) => c.shape.command.safeParse(v.command).success)
        : [];
  if (candidates.length === 0) {
    const message =
      'fault' in v
        ? `fault: one of ${FAULT_NAMES.join(', ')}`
        : 'command' in v
          ? `command: ${COMMAND_NAMES}`
          : 'an event needs "fault" or "command"';
    ctx.addIssue({ code: 'custom', message, path: 'fault' in v ? ['fault'] : 'command' in v ? ['command'] : [] });
    return z.NEVER;
  }
  const parsed = (candidates[0] as z.ZodType).safeParse(v);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({
        ...issue,
        code: 'custom',
        message:
          issue.code === 'unrecognized_keys'
            ? `unknown key ${(issue as { keys: string[] }).keys.map((k) => `"${k}"`).join(', ')}`
            : issue.message,
      } as never);
    return z.NEVER;
  }
  return parsed.data as ScenarioEvent;
});

export type ScenarioFault = z.infer<(typeof faults)[number]>;
export type ScenarioCommand = z.infer<(typeof commands)[number]>;
export type ScenarioEvent = ScenarioFault | ScenarioCommand;

const scenarioSchema = z.strictObject({
  name: z.string({ error: 'a name for the report' }).min(1, 'a name for the report').max(200, 'at most 200 characters'),
  seed: z
    .number({ error: 'a whole number' })
    .int('a whole number')
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  durationMs: z
    .number({ error: 'a whole number of milliseconds from 1000 to 3600000' })
    .int()
    .min(1_000, 'at least 1000')
    .max(3_600_000, 'at most 3600000 (one hour)'),
  config: z.record(z.string(), z.unknown()).optional(),
  /** The snapshots the local EBS fake holds for each volume readiness.ebs protects. */
  ebs: z
    .strictObject({
      snapshotAgeSeconds: z
        .number()
        .int()
        .min(0)
        .max(30 * 86_400)
        .default(300),
      snapshotIntervalSeconds: z
        .number()
        .int()
        .min(60)
        .max(30 * 86_400)
        .default(3600),
      changedBlocks: z.number().int().min(0).max(64).default(8),
      corrupt: z.boolean().default(false),
    })
    .prefault({}),
  events: z.array(event).max(10_000, 'at most 10000 events').default([]),
  /** What the run must show (local/expect.ts); `simulate` adds its verdict to the report. */
  expect: z.array(expectation).max(100, 'at most 100 expectations').optional(),
});

export interface Scenario {
  readonly name: string;
  readonly seed: number | undefined;
  readonly durationMs: number;
  readonly config: MirrorbeatConfig;
  /** The scenario file's own config keys, as written (the rest came from the base). */
  readonly ownConfig: Readonly<Record<string, unknown>>;
  readonly ebs: {
    readonly snapshotAgeSeconds: number;
    readonly snapshotIntervalSeconds: number;
    readonly changedBlocks: number;
    readonly corrupt: boolean;
  };
  readonly events: readonly ScenarioEvent[];
  /** What the run must show; undefined: the scenario expects nothing and its report carries no verdict. */
  readonly expect: readonly Expectation[] | undefined;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** The cluster every scenario simulates, unless its config says otherwise. */
export const SCENARIO_BASE_CONFIG = {
  clusterName: 'demo',
  productionRegion: 'us-east-1',
  standbyRegion: 'us-west-2',
} as const;

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Validates a parsed scenario; the error is one line naming the field, the value and what is allowed.
 * The scenario's `config` goes on top of `base` (the built-in demo cluster, or what `simulate`
 * read from cdk.json), key by key into nested objects.
 */
export function parseScenario(
  raw: unknown,
  base: Readonly<Record<string, unknown>> = SCENARIO_BASE_CONFIG,
  baseName?: string,
): Scenario {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ScenarioError('scenario: expected a JSON object with name, durationMs and events');
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = ['scenario', ...(issue?.path ?? []).map(String)].join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
    if (issue?.code === 'unrecognized_keys')
      throw new ScenarioError(
        `${where}: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: name, seed, durationMs, config, ebs, events, expect`,
      );
    if (issue?.message.startsWith('unknown key') === true)
      throw new ScenarioError(`${where}: ${issue.message}; see docs/SCENARIOS.md for the keys of each event`);
    let given: unknown = raw;
    for (const key of issue?.path ?? []) given = (given as Record<PropertyKey, unknown> | undefined)?.[key];
    throw new ScenarioError(
      `${where}: got ${given === undefined ? 'nothing' : show(given)}; allowed: ${issue?.message ?? 'see docs/SCENARIOS.md'}`,
    );
  }
  const s = result.data;
  for (const [i, e] of s.events.entries()) {
    if (e.atMs > s.durationMs)
      throw new ScenarioError(
        `scenario.events[${i}].atMs: got ${e.atMs}; allowed: at most durationMs (${s.durationMs})`,
      );
  }
  let config: MirrorbeatConfig;
  try {
    config = parseConfig(mergeConfig(base, s.config ?? {}));
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ScenarioError(
        baseName === undefined
          ? `scenario.config: ${error.message.replace(/^mirrorbeat\./, '')}`
          : `scenario.config on top of ${baseName}: ${error.message.replace(/^mirrorbeat\./, '')}; change the scenario's config, or run it on another configuration (--cdk-json)`,
      );
    throw error;
  }
  // Events at the same instant keep their file order.
  const events = s.events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.atMs - b.e.atMs || a.i - b.i)
    .map(({ e }) => e);
  return {
    name: s.name,
    seed: s.seed,
    durationMs: s.durationMs,
    config,
    ownConfig: s.config ?? {},
    ebs: s.ebs,
    events,
    expect: s.expect,
  };
}

/** Reads and validates a scenario file; its config goes on top of `base` (see parseScenario). */
export function loadScenario(
  file: string,
  base: Readonly<Record<string, unknown>> = SCENARIO_BASE_CONFIG,
  baseName?: string,
): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(
      `scenario: cannot read ${show(file)}: ${(error as { code?: string }).code ?? 'error'}; give the path of a scenario file such as local/scenarios/demo.json`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`scenario: ${show(file)} is not JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  return parseScenario(raw, base, baseName);
}
