import { pathState, siteVerdict } from '../../../lambdas/core/verdict';

const NOW = 1_000_000;
const DEADLINE = 6_000;
const INTERVAL = 2_000;

describe('path state', () => {
  it.each([
    ['healthy', 'enabled', NOW - 1_000],
    ['suspect', 'enabled', NOW - 4_000],
    ['failed', 'enabled', NOW - 6_001],
    ['pending', 'enabled', undefined],
    ['pending', 'pending', NOW - 60_000],
    ['disabled', 'disabled', NOW - 60_000],
  ] as const)('is %s for a %s path whose last beat arrived at %p', (expected, mode, arrival) => {
    expect(pathState({ path: 'network', mode, lastValidArrivalMs: arrival }, NOW, DEADLINE, INTERVAL)).toBe(expected);
  });

  it('is suspect, still counted, when it cannot be read and no beat is known', () => {
    expect(
      pathState(
        { path: 'storage', mode: 'enabled', lastValidArrivalMs: undefined, unreadable: true },
        NOW,
        DEADLINE,
        INTERVAL,
      ),
    ).toBe('suspect');
  });

  it('ages from the last known beat when it cannot be read', () => {
    expect(
      pathState(
        { path: 'storage', mode: 'enabled', lastValidArrivalMs: NOW - 7_000, unreadable: true },
        NOW,
        DEADLINE,
        INTERVAL,
      ),
    ).toBe('failed');
  });
});

describe('site verdict', () => {
  it('is ok when every enabled path is healthy', () => {
    expect(siteVerdict(['healthy', 'healthy'], false, undefined, NOW, 10_000)).toBe('ok');
  });

  it('is degraded, never peer-lost, when one path failed and the other is healthy', () => {
    expect(siteVerdict(['failed', 'healthy'], false, undefined, NOW, 0)).toBe('degraded');
  });

  it('waits out the confirmation window before calling the peer lost', () => {
    expect(siteVerdict(['failed', 'failed'], false, NOW - 9_999, NOW, 10_000)).toBe('degraded');
    expect(siteVerdict(['failed', 'failed'], false, NOW - 10_000, NOW, 10_000)).toBe('peer-lost');
  });

  it('counts only enabled paths: a disabled path does not keep the peer alive', () => {
    expect(siteVerdict(['failed', 'disabled'], false, NOW - 20_000, NOW, 10_000)).toBe('peer-lost');
  });

  it('is unprotected, never peer-lost, with no enabled path', () => {
    expect(siteVerdict(['disabled', 'disabled'], false, NOW - 60_000, NOW, 0)).toBe('unprotected');
  });

  it('never calls a peer lost on paths that never carried a beat', () => {
    expect(siteVerdict(['pending', 'pending'], false, undefined, NOW, 0)).toBe('ok');
  });

  it('reports a peer that says it failed', () => {
    expect(siteVerdict(['healthy', 'healthy'], true, undefined, NOW, 0)).toBe('peer-failure-reported');
  });
});
