import { type Notice, noticeSubject, noticeText, severityOf } from '../../../lambdas/core/notices';

/** The text body of the workflows' notices: what a person reads in the page. */
const AT = Date.UTC(2026, 10, 25, 19, 55, 59, 94);
const base = { site: 'standby', region: 'us-west-2', cluster: 'orders', atMs: AT } as const;

describe('the text of a notice', () => {
  it('renders a promotion as its decision: who, why, the evidence, the gates, the fence, the actions, the timings', () => {
    const notice: Notice = {
      ...base,
      kind: 'promoted',
      detail: {
        outcome: 'promoted',
        execution: 'failover-epoch-2',
        decision: {
          cluster: 'orders',
          kind: 'failover',
          reason: 'peer-lost',
          requestedBy: 'heartbeat-module',
          from: 'production',
          to: 'standby',
          epoch: 2,
          execution: 'failover-epoch-2',
          evidence: {
            verdict: 'peer-lost',
            states: { network: 'failed', storage: 'failed' },
            phi: { network: 1000, storage: 240.76906905061495 },
            deadlineMs: { network: 6000, storage: 6580.7 },
          },
          confirm: { peerLost: true, states: { network: 'failed', storage: 'failed' } },
          gates: {
            passed: true,
            checks: [
              { gate: 'replication-lag', passed: true, evidence: 'lag 700 ms within 30000 ms' },
              { gate: 'cooldown', passed: true, evidence: 'no earlier promotion' },
            ],
          },
          fence: { epoch: 2, fenced: 'production', networkFence: 'sent' },
          actions: [
            {
              action: 'aurora-global-database',
              target: 'orders-global',
              detail: 'orders-usw2 is the writer (FailoverGlobalCluster), available',
              tookMs: 61_200,
            },
            { action: 'arc-routing-controls', target: 'standby On, production Off' },
            { action: 'hook' },
          ],
          stepMs: { confirm: 13, gates: 6, fence: 35, promote: 120 },
          decisionToVerifiedMs: 781.9,
        },
        next: 'this site is primary',
      },
    };
    expect(noticeSubject(notice)).toBe('mirrorbeat orders: site promoted (standby)');
    const text = noticeText(notice, 'id-1');
    for (const line of [
      'Execution: failover-epoch-2 (promoted)',
      'Decision: failover of orders from production to standby at epoch 2; reason peer-lost, requested by heartbeat-module (execution failover-epoch-2)',
      '  storage  failed    deadline 6.6 s, phi >100',
      'Confirmed: peer still lost (network failed, storage failed)',
      'Gates:    replication-lag passed: lag 700 ms within 30000 ms; cooldown passed: no earlier promotion',
      'Fence:    epoch 2 written, production fenced; fence message on the network path: sent',
      'Actions:',
      '  aurora-global-database → orders-global: orders-usw2 is the writer (FailoverGlobalCluster), available (61200 ms)',
      '  arc-routing-controls → standby On, production Off',
      '  hook',
      'Timings:  confirm 13 ms, gates 6 ms, fence 35 ms, promote 120 ms, decision to verified 782 ms',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    // Nothing is dumped as raw JSON.
    expect(text).not.toContain('{"');
  });

  it('names the blocking gate, and the Lambda error a failed step raised', () => {
    const blocked = noticeText(
      {
        ...base,
        kind: 'failover-aborted',
        headline: 'failover blocked by a gate',
        detail: { gates: [{ gate: 'cooldown', passed: false, evidence: 'last promotion 10 min ago; until 19:45' }] },
      },
      'id-2',
    );
    expect(blocked.split('\n')[0]).toBe('Failover blocked by a gate: orders, site standby (us-west-2).');
    expect(blocked).toContain('Gates:    cooldown BLOCKED: last promotion 10 min ago; until 19:45');
    const failed = noticeText(
      {
        ...base,
        kind: 'failover-aborted',
        detail: {
          error: {
            Error: 'AccessDenied',
            Cause: JSON.stringify({ errorMessage: 'not authorized to perform route53:UpdateHealthCheck' }),
          },
        },
      },
      'id-3',
    );
    expect(failed).toContain('Error:    AccessDenied: not authorized to perform route53:UpdateHealthCheck');
  });
});

describe('the severity of a notice', () => {
  const of = (kind: Notice['kind'], detail: Record<string, unknown> = {}) => severityOf({ kind, detail });

  it('pages for a lost site, a failover and a demotion it did not plan', () => {
    for (const kind of ['peer-lost', 'unprotected', 'failover-started', 'failover-aborted', 'promoted', 'no-primary'])
      expect([kind, of(kind as Notice['kind'])]).toEqual([kind, 'critical']);
    expect(of('demoted', { why: 'the lease ran out' })).toBe('critical');
    expect(of('failover-aborted', { outcome: 'failed' })).toBe('critical');
  });

  it('records what an operator asked for and got, paging no one', () => {
    expect(of('switchover-started')).toBe('info');
    expect(of('switchover-completed')).toBe('info');
    // The old primary handing over as the switchover asked.
    expect(of('demoted', { planned: true })).toBe('info');
    expect(of('demoted', { planned: 'yes' })).toBe('critical');
  });

  it('warns for what changed nothing: a refused command, a switchover the primary did not hand over', () => {
    expect(of('command-refused', { outcome: 'switchover-refused' })).toBe('warning');
    expect(of('failover-aborted', { outcome: 'switchover-withdrawn' })).toBe('warning');
    expect(of('path-failed')).toBe('warning');
  });
});
