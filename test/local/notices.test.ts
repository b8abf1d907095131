import { checkInvariants } from '../../local/chaos';
import { parseScenario } from '../../local/scenario';
import { simulateEvents } from '../local-sites';

/**
 * Notices end to end in the local runtime: both heartbeat modules and the workflows announce
 * through the real notice desk, whose journal and fold windows live in DynamoDB Local.
 */
describe('notices in the local two-site runtime', () => {
  it('folds a flapping path after the burst and says how many it folded in one summary when the window ends', async () => {
    const flaps = [20_000, 50_000, 80_000, 110_000, 140_000].flatMap((at) => [
      { atMs: at, fault: 'partition', path: 'network' },
      { atMs: at + 15_000, fault: 'heal', path: 'network' },
    ]);
    const config = { notifications: { foldAfter: 1, foldWindowSeconds: 60 } };
    const result = await simulateEvents(flaps, { durationMs: 300_000, config });
    const failed = result.report.notifications.filter(
      (n) => n.site === 'standby' && n.kind === 'path-failed' && n.path === 'network',
    );
    // One failure per window reaches the topic; the rest come back as a count in a summary.
    const plain = failed.filter((n) => n.folded === undefined);
    const summaries = failed.filter((n) => n.folded !== undefined);
    expect(plain.length).toBeGreaterThanOrEqual(2);
    expect(plain.length).toBeLessThan(5);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(
      plain.length + summaries.reduce((sum, n) => sum + (n.folded ?? 0), 0) + result.log.foldedOpenAtEnd,
    ).toBeGreaterThanOrEqual(5);
    // A failure of the other path is never folded by this one's window; the peer was never lost.
    expect(result.report.failovers).toEqual([]);
    // Nothing raised was lost (I4), and the status lists the journal.
    const scenario = parseScenario({ name: 'test', seed: 3, durationMs: 300_000, config, events: flaps });
    expect(checkInvariants(scenario, result).filter((v) => v.invariant === 'I4')).toEqual([]);
    expect(result.log.noticesFolded).toBeGreaterThan(0);
    expect(result.status.notices.some((n) => n.folded > 0)).toBe(true);
  });

  it("journals the workflow notices next to the heartbeat module's, with ids a retried step cannot duplicate", async () => {
    const result = await simulateEvents([{ atMs: 20_000, fault: 'crash', site: 'production' }], { durationMs: 90_000 });
    const kinds = result.status.notices.filter((n) => n.site === 'standby').map((n) => n.kind);
    expect(kinds).toEqual(expect.arrayContaining(['peer-lost', 'failover-started', 'promoted']));
    const promoted = result.status.notices.find((n) => n.kind === 'promoted');
    expect(promoted).toMatchObject({
      severity: 'critical',
      delivery: 'published',
      acknowledged: null,
      subject: 'mirrorbeat demo: site promoted (standby)',
    });
    expect(promoted?.id).toMatch(/^\d{13}\.promoted\..+\.NotifyPromoted$/);
  });
});
