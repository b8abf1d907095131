import {
  isReadinessEvent,
  parseReadiness,
  readinessChange,
  readinessPoints,
  recordedReadiness,
  reportOf,
} from '../../../lambdas/core/readiness';

/** The readiness report, what a site's view records of it, and when a change is announced (pure). */
const ok = { name: 'maintenance', ok: true, reason: 'maintenance mode is off' };
const bad = { name: 'action:capacity', ok: false, reason: 'no Auto Scaling group workers in this region' };

describe('the readiness report', () => {
  it('is ready only when every check passes', () => {
    expect(reportOf('standby', 5, [ok]).ready).toBe(true);
    expect(reportOf('standby', 5, [ok, bad]).ready).toBe(false);
    expect(readinessPoints(reportOf('standby', 5, [ok, bad]))).toEqual([
      { name: 'FailoverReady', value: 0, unit: 'None' },
    ]);
    expect(readinessPoints(reportOf('standby', 5, [ok]))[0]?.value).toBe(1);
  });

  it('records the verdict, its time and only the failing checks, and reads that back', () => {
    const recorded = recordedReadiness(reportOf('standby', 1_000, [ok, bad]));
    expect(JSON.parse(recorded)).toEqual({ ready: false, atMs: 1_000, failing: [bad] });
    expect(parseReadiness(recorded)).toEqual({ ready: false, atMs: 1_000, failing: [bad] });
  });

  it.each([
    undefined,
    42,
    '',
    'not json',
    'null',
    '{"ready":true}',
    '{"ready":"yes","atMs":1,"failing":[]}',
    '{"ready":true,"atMs":"1","failing":[]}',
  ])('reads %p as no recorded check', (value) => expect(parseReadiness(value)).toBeUndefined());

  it('announces a change of verdict once: failed after ready or never checked, restored after failed', () => {
    const ready = reportOf('standby', 2, [ok]);
    const failed = reportOf('standby', 2, [bad]);
    const was = (r: boolean) => ({ ready: r, atMs: 1, failing: [] });
    expect(readinessChange(undefined, failed)).toBe('readiness-failed');
    expect(readinessChange(was(true), failed)).toBe('readiness-failed');
    expect(readinessChange(was(false), failed)).toBeNull();
    expect(readinessChange(was(false), ready)).toBe('readiness-restored');
    expect(readinessChange(was(true), ready)).toBeNull();
    expect(readinessChange(undefined, ready)).toBeNull();
  });

  it('knows its event, and no other', () => {
    expect(isReadinessEvent({ readiness: 'check' })).toBe(true);
    for (const other of [undefined, null, 'check', { readiness: true }, { step: 'confirm' }, { fenced: true }])
      expect(isReadinessEvent(other)).toBe(false);
  });
});
