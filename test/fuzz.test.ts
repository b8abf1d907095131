import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import fc from 'fast-check';
import { ConfigError, parseConfig } from '../lib/config';
import { checkControl, pathAckSchema, pathCommandSchema } from '../lambdas/core/command';
import { checkHeartbeat, signHeartbeat } from '../lambdas/core/message';
import { parseStepInput, StepError } from '../lambdas/core/steps';
import { DetailType } from '../lambdas/core/wire';
import { receiveNetworkEvent } from '../lambdas/network-receiver/receiver';
import { parsePathCommand } from '../lambdas/path-control-steps/steps';
import type { SiteStore } from '../lambdas/shared/store';
import { parseScenario, ScenarioError } from '../local/scenario';
import { standbySettings } from './helpers';

/**
 * Hostile input at every entry point: wrong types, huge strings, deep nesting, forged
 * signatures, old keys, replays, future timestamps. Each gets a clear error or a counted
 * rejection, never a crash, never a write.
 */
const KEY = Buffer.from('k'.repeat(64));
let tried = 0;

const huge = fc.string({ minLength: 10_000, maxLength: 20_000 });
const deep = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'large', maxDepth: 30 },
    fc.constant(null),
    fc.dictionary(fc.string({ maxLength: 3 }), tie('node'), { maxKeys: 2 }),
  ),
})).node;
const hostile = fc.oneof(
  fc.anything(),
  huge,
  deep,
  fc.constantFrom(null, undefined, NaN, Infinity, -0, '__proto__', { __proto__: { polluted: true } }, [[[[[]]]]], {
    constructor: { prototype: {} },
  }),
);

/** A store that records every call: hostile input must never write anything but an invalid-beat count. */
function recordingStore() {
  const calls: string[] = [];
  const answers: Record<string, unknown> = {
    readCluster: { epoch: 1, primary: 'production' },
    readObservation: undefined,
    recordBeat: true,
  };
  const store = new Proxy(
    {},
    {
      get: (_t, name: string) => async () => {
        calls.push(name);
        return answers[name];
      },
    },
  );
  return { store: store as unknown as SiteStore, calls };
}

describe('hostile input', () => {
  afterAll(() => process.stdout.write(`hostile inputs tried: ${tried}\n`));

  it('never crashes the network receiver, and writes nothing but a count, whatever the event', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(DetailType.heartbeat, DetailType.pathCommand, DetailType.pathAck), fc.anything()),
        hostile,
        async (detailType, detail) => {
          tried += 1;
          const { store, calls } = recordingStore();
          const receipt = await receiveNetworkEvent(detailType, detail, Date.now(), {
            settings: standbySettings(),
            store,
            keys: { all: async () => [KEY] },
          });
          expect(receipt.accepted).toBe(false);
          expect(calls.filter((c) => !['readObservation', 'readCluster', 'countInvalid'].includes(c))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects beats forged, replayed, from the future or signed with an old key, with a reason', () => {
    const now = Date.parse('2026-11-25T12:00:00.000Z');
    const ctx = {
      cluster: 'orders',
      expectedSender: 'production' as const,
      keys: [KEY],
      lastSerial: 100,
      epoch: 1,
      nowMs: now,
      maxSkewMs: 30_000,
    };
    const base = {
      v: 1 as const,
      cluster: 'orders',
      site: 'production' as const,
      region: 'us-east-1',
      serial: 101,
      sentAt: new Date(now).toISOString(),
      epoch: 1,
      role: 'primary' as const,
      health: 'ok' as const,
    };
    const sign = (over: object, key = KEY) => {
      tried += 1;
      return checkHeartbeat(signHeartbeat({ ...base, ...over }, key), ctx) as { ok: boolean; reason?: string };
    };
    expect(sign({}, Buffer.from('old key no longer current or previous'))).toMatchObject({
      ok: false,
      reason: 'signature',
    });
    expect(sign({ serial: 100 })).toMatchObject({ ok: false, reason: 'replay' });
    expect(sign({ sentAt: new Date(now + 3_600_000).toISOString() })).toMatchObject({ ok: false, reason: 'skew' });
    expect(sign({ epoch: 0 })).toMatchObject({ ok: false, reason: 'epoch' });
    expect(sign({ site: 'standby' })).toMatchObject({ ok: false, reason: 'sender' });
  });

  it('never lets a control message through without a valid signature, and never throws', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        tried += 2;
        for (const schema of [pathCommandSchema, pathAckSchema] as const) {
          const check = checkControl<never>(schema as never, input, { cluster: 'orders', me: 'standby', keys: [KEY] });
          expect(check.ok).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['the step handlers', (v: unknown) => parseStepInput(v, ['confirm']), StepError],
    ['the path-control input', (v: unknown) => parsePathCommand(v as Record<string, unknown>), StepError],
    ['the configuration loader', (v: unknown) => parseConfig(v), ConfigError],
    ['the scenario loader', (v: unknown) => parseScenario(v), ScenarioError],
  ] as const)('answers %s with its own clear error, never a crash', (_name, entry, errorClass) => {
    fc.assert(
      fc.property(hostile, (input) => {
        tried += 1;
        try {
          entry(input);
        } catch (error) {
          expect(error).toBeInstanceOf(errorClass);
          expect((error as Error).message.length).toBeLessThan(2_000);
        }
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['an unknown command', ['frobnicate']],
    ['a 5000-character scenario path', ['simulate', '--scenario', 'x'.repeat(5_000)]],
    ['a snowman and a right-to-left override as a path', ['path', 'activate', '\u2603\u202e']],
    ['an override without a key', ['config', '-c', '=oops']],
    ['a negative seed', ['simulate', '--scenario', 'local/scenarios/demo.json', '--seed', '-1']],
    ['zero traces', ['bench', '--traces', '0']],
  ])('answers the CLI given %s with exit 2 and a short error, never a stack', (_label, args) => {
    tried += 1;
    const out = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'mirrorbeat.js'), ...args], {
      encoding: 'utf8',
      cwd: path.join(__dirname, '..'),
    });
    expect(out.status).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).not.toMatch(/\n\s+at /);
    expect(out.stderr.split('\n')[0]?.length).toBeLessThan(400);
  });
});
