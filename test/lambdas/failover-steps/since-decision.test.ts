// The confirm step's count of the peer's beats since the module decided (sinceDecision): by serial, never by clock.
import type { Heartbeat } from '../../../lambdas/core/message';
import type { StepInput } from '../../../lambdas/core/steps';
import type { PathState } from '../../../lambdas/core/verdict';
import { sinceDecision } from '../../../lambdas/failover-steps/since-decision';
import { productionBeat } from '../../beats';

const KEY = Buffer.alloc(32, 3);
const input = (state: Record<string, unknown>): StepInput => ({ step: 'confirm', execution: 'arn:x:exec', state });
const decided = (lastSerials: unknown) => input({ requestedBy: 'heartbeat-module', evidence: { lastSerials } });
const both: Record<'network' | 'storage', PathState> = { network: 'failed', storage: 'failed' };
const beat = (serial: number): Heartbeat => productionBeat(serial, 0, KEY);

describe('sinceDecision', () => {
  it('counts the beats newer than the serials the decision named, path by path', () => {
    const observed = { network: beat(11), storage: beat(10) };
    expect(sinceDecision(decided({ network: 10, storage: 10 }), observed, both)).toStrictEqual([beat(11)]);
    expect(sinceDecision(decided({ network: 11, storage: 9 }), observed, both)).toStrictEqual([beat(10)]);
    expect(sinceDecision(decided({ network: 11, storage: 10 }), observed, both)).toStrictEqual([]);
  });

  it('counts a beat on a path the decision named no serial for, and not a path with no beat', () => {
    expect(sinceDecision(decided({ network: 10 }), { network: beat(9), storage: beat(4) }, both)).toStrictEqual([
      beat(4),
    ]);
    // A serial that is not a number (a hand-written input) names nothing, even one that reads as a number.
    expect(sinceDecision(decided({ network: '100' }), { network: beat(9) }, both)).toStrictEqual([beat(9)]);
    expect(sinceDecision(decided({}), {}, both)).toStrictEqual([]);
  });

  it('leaves out a path switched off', () => {
    const observed = { network: beat(11), storage: beat(12) };
    expect(
      sinceDecision(decided({ network: 10, storage: 10 }), observed, { network: 'disabled', storage: 'failed' }),
    ).toStrictEqual([beat(12)]);
    expect(
      sinceDecision(decided({ network: 10, storage: 10 }), observed, { network: 'failed', storage: 'disabled' }),
    ).toStrictEqual([beat(11)]);
  });

  it('counts nothing for a failover that named no serials: a person’s, or an older module’s', () => {
    const observed = { network: beat(11) };
    expect(
      sinceDecision(input({ requestedBy: 'operator', evidence: { lastSerials: { network: 1 } } }), observed, both),
    ).toBe(undefined);
    expect(sinceDecision(input({ requestedBy: 'heartbeat-module' }), observed, both)).toBeUndefined();
    expect(sinceDecision(input({ requestedBy: 'heartbeat-module', evidence: {} }), observed, both)).toBeUndefined();
    expect(sinceDecision(decided(7), observed, both)).toBeUndefined();
    expect(sinceDecision(decided('network'), observed, both)).toBeUndefined();
    // Evidence whose serials are null (a hand-written input) names none, and breaks nothing.
    expect(sinceDecision(decided(null), observed, both)).toBeUndefined();
  });
});
