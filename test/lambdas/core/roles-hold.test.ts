import { handoverExpiryMs } from '../../../lambdas/core/lease';
import { failoverRetryMs, SiteCore } from '../../../lambdas/core/site';
import type { Heartbeat } from '../../../lambdas/core/message';
import type { ClusterRecord } from '../../../lambdas/core/volume';
import { standbySettings } from '../../helpers';

/**
 * The mechanisms that once left the cluster without a primary or with two (docs/RELIABILITY.md,
 * "What once broke"), each at the core, step by step. Quorum mode's default lease (3.5 intervals: 7 s).
 */
const tuning = standbySettings().tuning;
const leaseMs = tuning.leaseSeconds * 1000;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');

const beat = (role: Heartbeat['role'], at: number, epoch = 1): Heartbeat => ({
  v: 1,
  cluster: 'orders',
  site: 'production',
  region: 'us-east-1',
  serial: at,
  sentAt: new Date(at).toISOString(),
  epoch,
  role,
  health: 'ok',
  sig: '',
});

describe('roles that hold', () => {
  it('quorum mode: a production that lost its lease and beats as secondary on a live network path is taken over once the gate opens', () => {
    // Production is cut from the witness and from the standby's storage; the network path still carries its beats.
    const core = new SiteCore(tuning, 'standby', 'production');
    const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 40 };
    const at = (ms: number, role: Heartbeat['role']) =>
      core.check(
        {
          network: { unreadable: false, arrivedAtMs: NOW + ms, beat: beat(role, NOW + ms) },
          storage: { unreadable: false, arrivedAtMs: NOW - 1_000, beat: beat('primary', NOW - 1_000) },
        },
        core.clusterRead(record, NOW + ms),
        NOW + ms,
        NOW + ms,
      );
    at(0, 'primary');
    const decisions = [];
    for (let ms = 2_000; ms <= 12_000; ms += 1_000) decisions.push({ ms, ...at(ms, 'secondary') });
    // The verdict says so after the confirmation window (and one interval more, so one odd beat never pages) ...
    expect(decisions.find((d) => d.verdict === 'peer-stepped-down')?.ms).toBe(6_000);
    // ... and the takeover waits for the gate: the renewal seen at +0 stood still for a lease and the margin.
    const first = decisions.find((d) => d.takeover.start);
    expect(first?.ms).toBe(leaseMs + 1_000);
    expect(first?.takeover).toMatchObject({ start: true, reason: 'peer-stepped-down', gated: true, expectedLease: 40 });
  });

  it('quorum mode: a peer that beats as secondary while it still renews is never taken over', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    for (let ms = 0; ms <= 30_000; ms += 1_000) {
      const record: ClusterRecord = { epoch: 1, primary: 'production', lease: ms };
      const checked = core.check(
        {
          network: { unreadable: false, arrivedAtMs: NOW + ms, beat: beat('secondary', NOW + ms) },
          storage: { unreadable: false, arrivedAtMs: NOW + ms, beat: beat('secondary', NOW + ms) },
        },
        core.clusterRead(record, NOW + ms),
        NOW + ms,
        NOW + ms,
      );
      expect(checked.takeover.start).toBe(false);
    }
  });

  it('a beat as secondary during a switchover, or from the site the record does not name, is no step-down', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    const handover: ClusterRecord = {
      epoch: 1,
      primary: 'production',
      lease: 3,
      handover: { to: 'standby', execution: 'x', requestedAtMs: NOW },
    };
    for (let ms = 0; ms <= 12_000; ms += 1_000) {
      const checked = core.check(
        {
          network: { unreadable: false, arrivedAtMs: NOW + ms, beat: beat('secondary', NOW + ms) },
          storage: { unreadable: false, arrivedAtMs: NOW + ms, beat: beat('secondary', NOW + ms) },
        },
        core.clusterRead(handover, NOW + ms),
        NOW + ms,
        NOW + ms,
      );
      expect(checked.verdict).toBe('ok');
    }
  });

  it('a handover request expires: the primary that drained for a standby which never fenced says so after the expiry', () => {
    const core = new SiteCore(tuning, 'production', 'standby');
    const asked: ClusterRecord = {
      epoch: 1,
      primary: 'production',
      lease: 9,
      handover: { to: 'standby', execution: 'switchover-1', requestedAtMs: NOW },
    };
    const expiry = handoverExpiryMs(core.leaseTuning, tuning);
    expect(expiry).toBe(2 * leaseMs);
    core.clusterRead(asked, NOW);
    expect(core.expiredHandover(asked, NOW)).toBeUndefined();
    expect(core.shouldRenew(asked)).toBe(false);
    core.clusterRead(asked, NOW + expiry - 1);
    expect(core.expiredHandover(asked, NOW + expiry - 1)).toBeUndefined();
    core.clusterRead(asked, NOW + expiry);
    expect(core.expiredHandover(asked, NOW + expiry)).toEqual(asked.handover);
    // Another request (a new execution) starts its own clock.
    const again: ClusterRecord = { ...asked, handover: { ...asked.handover!, execution: 'switchover-2' } };
    core.clusterRead(again, NOW + expiry + 1_000);
    expect(core.expiredHandover(again, NOW + expiry + 1_000)).toBeUndefined();
  });

  it('two-region mode: a handover outlives the switchover workflow’s own patience before it expires', () => {
    const twoRegion = standbySettings({ consistency: 'eventual', failoverMode: 'manual' }).tuning;
    const core = new SiteCore(twoRegion, 'production', 'standby');
    const drainLimit = (3 * twoRegion.intervalSeconds + 2 * twoRegion.rpoBudgetSeconds) * 1000;
    expect(handoverExpiryMs(core.leaseTuning, twoRegion)).toBe(drainLimit + 2 * twoRegion.leaseSeconds * 1000);
  });

  it('a failed failover is tried again within one lease, not after minutes', () => {
    const core = new SiteCore(tuning, 'standby', 'production');
    expect(failoverRetryMs(core.leaseTuning)).toBe(leaseMs);
    const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 7 };
    const silent = {
      network: { unreadable: false, arrivedAtMs: NOW - 60_000 },
      storage: { unreadable: false, arrivedAtMs: NOW - 60_000 },
    };
    const at = (ms: number) => core.check(silent, core.clusterRead(record, NOW + ms), NOW + ms, NOW + ms).takeover;
    at(0);
    expect(at(leaseMs + 2_000).start).toBe(true);
    core.failoverStarted(1, NOW + leaseMs + 2_000);
    expect(at(leaseMs + 4_000).start).toBe(false);
    expect(at(2 * leaseMs + 1_999).start).toBe(false);
    expect(at(2 * leaseMs + 2_000).start).toBe(true);
  });

  it('a new invocation decides its role only from a cluster record read in it', () => {
    const core = new SiteCore(tuning, 'production', 'standby');
    const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 1 };
    core.clusterRead(record, NOW);
    core.renewal('renewed', 1, NOW);
    expect(core.role(record, NOW, NOW).role).toBe('primary');
    core.newInvocation();
    // The read fails in the new invocation: the record of the last one does not let it act.
    const stale = core.clusterRead(undefined, NOW + 1_000);
    core.renewal('renewed', 1, NOW + 1_000);
    expect(core.role(stale, NOW + 1_000, NOW + 1_000)).toMatchObject({
      role: 'secondary',
      why: expect.stringMatching(/not read the cluster record in this invocation/),
    });
    const read = core.clusterRead(record, NOW + 2_000);
    core.renewal('renewed', 1, NOW + 2_000);
    expect(core.role(read, NOW + 2_000, NOW + 2_000).role).toBe('primary');
  });

  describe('two-region self-fence, a round-trip lease on the site’s own clock', () => {
    const twoRegion = standbySettings({
      consistency: 'eventual',
      isolationPolicy: 'self-fence',
      leaseSeconds: 12,
    }).tuning;
    const record: ClusterRecord = { epoch: 1, primary: 'production', lease: 1 };
    /** The standby's beat, stamped by a clock `skewMs` off this site's, acknowledging `ack`. */
    const standbyBeat = (serial: number, at: number, skewMs: number, ack?: number): Heartbeat => ({
      ...beat('secondary', at + skewMs),
      site: 'standby',
      region: 'us-west-2',
      serial,
      ...(ack === undefined ? {} : { ack }),
    });
    /** One tick of production at +ms: renew, decide, send serial NOW + ms, then read the standby's beat. */
    const tick = (core: SiteCore, ms: number, peer?: Heartbeat) => {
      const now = NOW + ms;
      const cluster = core.clusterRead(record, now);
      core.renewal('renewed', 1, now);
      const role = core.role(cluster, now, now).role;
      core.beatSent(now, now, 1);
      const read = peer === undefined ? { unreadable: false } : { unreadable: false, arrivedAtMs: now, beat: peer };
      core.check({ network: read, storage: { unreadable: false } }, cluster, now, now);
      return role;
    };

    it('no offset between the sites’ clocks decides: a standby 60 s behind or ahead that acknowledges keeps it; one that stops acknowledging does not', () => {
      for (const skewMs of [-60_000, 60_000]) {
        const acknowledging = new SiteCore(twoRegion, 'production', 'standby');
        const silentOnAcks = new SiteCore(twoRegion, 'production', 'standby');
        tick(acknowledging, 0);
        tick(silentOnAcks, 0);
        for (let ms = 2_000; ms <= 40_000; ms += 2_000) {
          const a = tick(acknowledging, ms, standbyBeat(ms, NOW + ms, skewMs, NOW + ms - 2_000));
          // This one hears nothing after the first beat (sent at +0): a lease less the hold from that send.
          const b = tick(silentOnAcks, ms, standbyBeat(ms, NOW + ms, skewMs, NOW));
          if (ms >= 4_000) expect([skewMs, ms, a]).toEqual([skewMs, ms, 'primary']);
          expect([skewMs, ms, b]).toEqual([skewMs, ms, ms < 10_000 ? 'primary' : 'secondary']);
        }
      }
    });

    it('maintenance keeps an acting primary acting for a silent standby, and never makes a self-fenced one act again', () => {
      const acting = new SiteCore(twoRegion, 'production', 'standby');
      const fenced = new SiteCore(twoRegion, 'production', 'standby');
      for (let ms = 0; ms <= 8_000; ms += 2_000) {
        tick(acting, ms, standbyBeat(ms + 1, NOW + ms, 0, NOW + ms - 2_000));
        tick(fenced, ms, standbyBeat(ms + 1, NOW + ms, 0, NOW + ms - 2_000));
      }
      // The standby falls silent; one site goes into maintenance at once, the other only after it fenced itself.
      acting.maintenance = { on: true, reason: 'CHG-1', by: 'ana', sinceMs: NOW + 9_000 };
      for (let ms = 10_000; ms <= 30_000; ms += 2_000) expect(tick(acting, ms)).toBe('primary');
      for (let ms = 10_000; ms <= 20_000; ms += 2_000) tick(fenced, ms);
      expect(tick(fenced, 22_000)).toBe('secondary');
      fenced.maintenance = { on: true, reason: 'CHG-2', by: 'ana', sinceMs: NOW + 23_000 };
      for (let ms = 24_000; ms <= 40_000; ms += 2_000) expect(tick(fenced, ms)).toBe('secondary');
      // Off again: the acting one fences itself at once.
      acting.maintenance = { on: false, reason: '', by: 'ana', sinceMs: NOW + 31_000 };
      expect(tick(acting, 32_000)).toBe('secondary');
    });
  });
});
