import fc from 'fast-check';
import {
  type AcceptanceContext,
  canonicalForm,
  checkHeartbeat,
  signHeartbeat,
  type UnsignedHeartbeat,
} from '../../../lambdas/core/message';
import { productionBeat } from '../../beats';

const key = Buffer.from('current-key-material-0123456789abcdef');
const previousKey = Buffer.from('previous-key-material-0123456789abcd');
const NOW = Date.parse('2026-11-25T12:00:00.000Z');

const unsigned = (over: Partial<UnsignedHeartbeat> = {}): UnsignedHeartbeat => ({
  v: 1,
  cluster: 'orders',
  site: 'production',
  region: 'us-east-1',
  serial: 42,
  sentAt: new Date(NOW - 300).toISOString(),
  epoch: 1,
  role: 'primary',
  health: 'ok',
  ...over,
});

const ctx = (over: Partial<AcceptanceContext> = {}): AcceptanceContext => ({
  cluster: 'orders',
  expectedSender: 'production',
  keys: [key],
  lastSerial: 41,
  epoch: 1,
  nowMs: NOW,
  maxSkewMs: 30_000,
  ...over,
});

describe('heartbeat messages', () => {
  it('accepts a beat signed with the current key', () => {
    expect(checkHeartbeat(signHeartbeat(unsigned(), key), ctx())).toEqual({
      ok: true,
      beat: expect.objectContaining({ serial: 42 }),
    });
  });

  it('accepts a beat signed with the previous key while the key rotates', () => {
    expect(checkHeartbeat(signHeartbeat(unsigned(), previousKey), ctx({ keys: [key, previousKey] })).ok).toBe(true);
  });

  it('signs the canonical form, independent of key order', () => {
    const a = unsigned({ notice: { kind: 'k', detail: 'd' } });
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as UnsignedHeartbeat;
    expect(canonicalForm(reordered)).toBe(canonicalForm(a));
    expect(signHeartbeat(reordered, key).sig).toBe(signHeartbeat(a, key).sig);
  });

  it.each([
    ['schema', { ...signHeartbeat(unsigned(), key), serial: 'x' }],
    ['schema', { ...signHeartbeat(unsigned(), key), extra: true }],
    ['schema', null],
    ['schema', 'a string'],
    ['schema', { v: 2 }],
    ['signature', { ...signHeartbeat(unsigned(), key), health: 'failed' }],
    ['signature', signHeartbeat(unsigned(), Buffer.from('an attacker key'))],
    ['sender', signHeartbeat(unsigned({ site: 'standby' }), key)],
    ['sender', signHeartbeat(unsigned({ cluster: 'payments' }), key)],
    ['replay', signHeartbeat(unsigned({ serial: 41 }), key)],
    ['replay', signHeartbeat(unsigned({ serial: 7 }), key)],
    ['skew', signHeartbeat(unsigned({ sentAt: new Date(NOW + 31_000).toISOString() }), key)],
    ['skew', signHeartbeat(unsigned({ sentAt: new Date(NOW - 31_000).toISOString() }), key)],
    ['epoch', signHeartbeat(unsigned({ epoch: 0 }), key)],
  ])('rejects with reason %s, never throwing', (reason, message) => {
    const verdict = checkHeartbeat(message, ctx());
    expect(verdict).toMatchObject({ ok: false, reason });
  });

  it('rejects a beat signed by a key that was rotated out', () => {
    expect(checkHeartbeat(signHeartbeat(unsigned(), previousKey), ctx({ keys: [key] }))).toMatchObject({
      ok: false,
      reason: 'signature',
    });
  });
});

describe('acceptance (properties)', () => {
  const key = Buffer.from('current-key'.repeat(4));
  const now = Date.parse('2026-11-25T12:00:00.000Z');
  const ctx = {
    cluster: 'orders',
    expectedSender: 'production' as const,
    keys: [key],
    epoch: 1,
    nowMs: now,
    maxSkewMs: 30_000,
  };
  const beat = (serial: number, signingKey = key) => productionBeat(serial, now, signingKey);

  it('never accepts a replayed or reordered beat: accepted serials strictly increase, whatever the delivery order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 60 }), (deliveries) => {
        let last = 0;
        const accepted: number[] = [];
        for (const serial of deliveries) {
          const verdict = checkHeartbeat(beat(serial), { ...ctx, lastSerial: last });
          if (verdict.ok) {
            accepted.push(serial);
            last = serial;
          } else {
            expect(verdict.reason).toBe('replay');
          }
        }
        for (let i = 1; i < accepted.length; i += 1) expect(accepted[i]).toBeGreaterThan(accepted[i - 1] as number);
      }),
    );
  });

  it('rejects any beat signed with a key it does not hold', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 1e9 }), (other, serial) => {
        fc.pre(!Buffer.from(other).equals(key));
        expect(checkHeartbeat(beat(serial, Buffer.from(other)), { ...ctx, lastSerial: 0 })).toMatchObject({
          ok: false,
          reason: 'signature',
        });
      }),
    );
  });

  it('never throws on arbitrary input, and names a reason', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ v: fc.anything(), sig: fc.string(), serial: fc.anything(), site: fc.string() }),
        ),
        (input) => {
          const verdict = checkHeartbeat(input, { ...ctx, lastSerial: 0 });
          expect(verdict.ok).toBe(false);
          if (!verdict.ok) expect(['schema', 'signature']).toContain(verdict.reason);
        },
      ),
    );
  });

  it('never throws on a valid beat with any one field replaced by arbitrary values', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'v',
          'cluster',
          'site',
          'region',
          'serial',
          'sentAt',
          'epoch',
          'role',
          'health',
          'notice',
          'sig',
        ),
        fc.anything(),
        (field, value) => {
          expect(() => checkHeartbeat({ ...beat(5), [field]: value }, { ...ctx, lastSerial: 0 })).not.toThrow();
        },
      ),
    );
  });
});
