// The heartbeat volume's layout (lambdas/core/volume.ts): item keys other tools and the two sites rely on, and the
// maintenance item as an operator wrote it, checked field by field.
import {
  ackKey,
  commandKey,
  fenceKey,
  foldKey,
  maintenanceOf,
  maintenanceWhy,
  noticeKey,
  serialKey,
} from '../../../lambdas/core/volume';

const SINCE = Date.parse('2026-12-07T12:00:00.000Z');

describe('the heartbeat volume', () => {
  it('keys each item as the layout says', () => {
    expect(commandKey('standby', 'c-1')).toEqual({ pk: 'COMMAND', sk: 'standby#c-1' });
    expect(ackKey('c-1')).toEqual({ pk: 'ACK', sk: 'c-1' });
    expect(noticeKey('production', 'n-9')).toEqual({ pk: 'NOTICE', sk: 'production#n-9' });
    expect(foldKey('standby', 'path-failed', 'network')).toEqual({ pk: 'FOLD', sk: 'standby#path-failed#network' });
    expect(serialKey('standby')).toEqual({ pk: 'SERIAL', sk: 'standby' });
    // Fence items sort by epoch as strings.
    expect(fenceKey(7)).toEqual({ pk: 'FENCE', sk: '000000000007' });
  });

  it('reads the maintenance item field by field, and anything else as no maintenance', () => {
    expect(maintenanceOf({ on: true, sinceMs: SINCE, reason: 'patching', by: 'ana' })).toEqual({
      on: true,
      sinceMs: SINCE,
      reason: 'patching',
      by: 'ana',
    });
    expect(maintenanceOf({ on: false, sinceMs: SINCE })).toEqual({
      on: false,
      sinceMs: SINCE,
      reason: '',
      by: 'unknown',
    });
    expect(maintenanceOf({ on: true, sinceMs: SINCE, reason: 3, by: ['ana'] })).toEqual({
      on: true,
      sinceMs: SINCE,
      reason: '',
      by: 'unknown',
    });
    expect(maintenanceOf(undefined)).toBeUndefined();
    expect(maintenanceOf({ on: 'true', sinceMs: SINCE })).toBeUndefined();
    expect(maintenanceOf({ on: true, sinceMs: String(SINCE) })).toBeUndefined();
    expect(maintenanceOf({ on: true })).toBeUndefined();
  });

  it('says maintenance mode in words, with the reason only when one was given', () => {
    const m = { on: true, sinceMs: SINCE, by: 'ana', reason: 'patching' };
    expect(maintenanceWhy(m)).toBe('maintenance mode since 2026-12-07T12:00:00.000Z by ana (patching)');
    expect(maintenanceWhy({ ...m, reason: '' })).toBe('maintenance mode since 2026-12-07T12:00:00.000Z by ana');
  });
});
