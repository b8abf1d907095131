import { type AcceptanceContext, canonicalForm, checkHeartbeat, signHeartbeat, type UnsignedHeartbeat } from '../../../lambdas/core/message';

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
    expect(checkHeartbeat(signHeartbeat(unsigned(), key), ctx())).toEqual({ ok: true, beat: expect.objectContaining({ serial: 42 }) });
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
    expect(checkHeartbeat(signHeartbeat(unsigned(), previousKey), ctx({ keys: [key] }))).toMatchObject({ ok: false, reason: 'signature' });
  });
});
