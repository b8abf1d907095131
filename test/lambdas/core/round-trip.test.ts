import type { Heartbeat } from '../../../lambdas/core/message';
import { mayActUnheard, RoundTrip } from '../../../lambdas/core/round-trip';
import type { PeerRead } from '../../../lambdas/core/site-step';
import { type ClusterRecord, INITIAL_CLUSTER } from '../../../lambdas/core/volume';
import { standbyBeat } from '../../beats';

/**
 * Two-region self-fence's round-trip lease, at its own level: what a peer's beats acknowledge,
 * from when the lease runs, and when a primary may act unheard. The site core's tests and the
 * fault search reach it through whole ticks; these pin each rule on its own.
 */
const KEY = Buffer.alloc(32, 7);
const beat = (serial: number, over: { epoch?: number; role?: Heartbeat['role']; ack?: number } = {}): Heartbeat => ({
  ...standbyBeat(serial, 0, KEY, {
    role: over.role ?? 'secondary',
    ...(over.ack === undefined ? {} : { ack: over.ack }),
  }),
  epoch: over.epoch ?? 1,
});
const at = (epoch: number, over: Partial<ClusterRecord> = {}): ClusterRecord => ({
  epoch,
  primary: 'production',
  ...(epoch === 1 ? {} : { promotedAtMs: 1_000 }),
  ...over,
});
const unread: PeerRead = { unreadable: false };

describe('mayActUnheard', () => {
  it('lets the first primary of a first deployment, and one promoted through the lease gate, act unheard', () => {
    expect(mayActUnheard(INITIAL_CLUSTER)).toBe(true);
    expect(mayActUnheard(at(2, { gated: true }))).toBe(true);
  });

  it('does not after a switchover or a person’s failover, nor at the first epoch once a promotion is on record', () => {
    expect(mayActUnheard(at(2))).toBe(false);
    expect(mayActUnheard(at(2, { gated: false }))).toBe(false);
    expect(mayActUnheard(at(2, { promotedAtMs: undefined }))).toBe(false);
    expect(mayActUnheard(at(1, { promotedAtMs: 5_000 }))).toBe(false);
  });
});

describe('RoundTrip', () => {
  it('reads the peer’s beats on every path that carried one, and says it read them', () => {
    const rt = new RoundTrip();
    expect(rt.peerRead).toBe(false);
    expect(rt.ack).toBeUndefined();
    rt.heard({ network: { unreadable: false, beat: beat(7), arrivedAtMs: 1 }, storage: unread }, INITIAL_CLUSTER);
    expect(rt.peerRead).toBe(true);
    expect(rt.ack).toBe(7);
    rt.heard({ network: unread, storage: { unreadable: false, beat: beat(9), arrivedAtMs: 2 } }, INITIAL_CLUSTER);
    expect(rt.ack).toBe(9);
  });

  it('echoes the highest serial it accepted, never a lower one read later', () => {
    const rt = new RoundTrip();
    rt.acknowledged(beat(5), 1, INITIAL_CLUSTER);
    expect(rt.ack).toBe(5);
    rt.acknowledged(beat(3), 2, INITIAL_CLUSTER);
    expect(rt.ack).toBe(5);
  });

  describe('ackedSentMono: the send time the self-fence lease runs from', () => {
    it('is the own-clock send time of the newest beat the peer acknowledged as secondary', () => {
      const rt = new RoundTrip();
      rt.beatSent(10, 1_000, 1);
      rt.beatSent(11, 3_000, 1);
      rt.acknowledged(beat(1, { ack: 10 }), 1, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(1_000);
      rt.acknowledged(beat(2, { ack: 11 }), 2, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(3_000);
      // An older acknowledgement read later does not take the lease back, nor a beat that acknowledges nothing.
      rt.acknowledged(beat(3, { ack: 10 }), 3, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(3_000);
      rt.acknowledged(beat(4), 4, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(3_000);
    });

    it('does not count an acknowledgement from a peer that says it is primary, or that is at a later epoch than the record', () => {
      const rt = new RoundTrip();
      rt.beatSent(10, 1_000, 1);
      rt.acknowledged(beat(1, { ack: 10, role: 'primary' }), undefined, INITIAL_CLUSTER);
      rt.acknowledged(beat(2, { ack: 10, epoch: 2 }), undefined, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBeUndefined();
      rt.acknowledged(beat(3, { ack: 10 }), undefined, at(2));
      expect(rt.ackedSentMono(at(2), 50_000, 9_000)).toBe(1_000);
    });

    it('dates a beat of an earlier container by its serial, a send time on the wall clock, and never from the future', () => {
      const rt = new RoundTrip();
      rt.acknowledged(beat(1, { ack: 47_000 }), undefined, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(6_000);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 47_000, 9_000)).toBe(9_000);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 46_999, 9_000)).toBeUndefined();
    });

    it('runs from nothing when the peer acknowledges a serial this container never sent and newer than its first', () => {
      const rt = new RoundTrip();
      rt.beatSent(40_000, 100, 1);
      rt.acknowledged(beat(1, { ack: 45_000 }), undefined, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBeUndefined();
      const older = new RoundTrip();
      older.beatSent(40_000, 100, 1);
      older.acknowledged(beat(1, { ack: 39_000 }), undefined, INITIAL_CLUSTER);
      expect(older.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(-2_000);
    });

    it('keeps the last 256 sends: an older acknowledged serial is dated on the wall clock', () => {
      const rt = new RoundTrip();
      for (let serial = 1; serial <= 257; serial++) rt.beatSent(serial, 100_000 + serial, 1);
      rt.acknowledged(beat(1, { ack: 2 }), undefined, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(100_002);
      const first = new RoundTrip();
      for (let serial = 1; serial <= 257; serial++) first.beatSent(serial, 100_000 + serial, 1);
      first.acknowledged(beat(1, { ack: 1 }), undefined, INITIAL_CLUSTER);
      expect(first.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(9_000 - (50_000 - 1));
    });

    it('before the peer acknowledges anything at the record’s epoch, runs once from the first arrival of its beats there', () => {
      const rt = new RoundTrip();
      const record = at(2);
      rt.acknowledged(beat(1, { epoch: 2 }), 48_000, record);
      expect(rt.ackedSentMono(record, 50_000, 9_000)).toBe(7_000);
      // Later beats that acknowledge nothing do not renew it; an earlier arrival of that epoch read late does.
      rt.acknowledged(beat(2, { epoch: 2 }), 49_000, record);
      expect(rt.ackedSentMono(record, 50_000, 9_000)).toBe(7_000);
      rt.acknowledged(beat(3, { epoch: 2 }), 47_500, record);
      expect(rt.ackedSentMono(record, 50_000, 9_000)).toBe(6_500);
      // A beat with no arrival (a tick's own) changes nothing; an arrival in the future is not dated.
      rt.acknowledged(beat(4, { epoch: 2 }), undefined, record);
      expect(rt.ackedSentMono(record, 50_000, 9_000)).toBe(6_500);
      expect(rt.ackedSentMono(record, 47_000, 9_000)).toBeUndefined();
    });

    it('does not run from beats of an older epoch than the record’s, and a newer epoch’s first arrival replaces an older one', () => {
      const rt = new RoundTrip();
      rt.acknowledged(beat(1, { epoch: 1 }), 40_000, INITIAL_CLUSTER);
      expect(rt.ackedSentMono(at(2), 50_000, 9_000)).toBeUndefined();
      expect(rt.ackedSentMono(INITIAL_CLUSTER, 50_000, 9_000)).toBe(-1_000);
      rt.acknowledged(beat(2, { epoch: 3 }), 45_000, at(2));
      expect(rt.ackedSentMono(at(2), 50_000, 9_000)).toBe(4_000);
      expect(rt.ackedSentMono(at(3), 50_000, 9_000)).toBe(4_000);
      // An earlier arrival of an older epoch's beat, read late, does not replace it.
      rt.acknowledged(beat(3, { epoch: 2 }), 40_000, at(2));
      expect(rt.ackedSentMono(at(3), 50_000, 9_000)).toBe(4_000);
    });

    it('once the peer acknowledged at an older epoch only, still waits on the first arrival at the record’s epoch', () => {
      const rt = new RoundTrip();
      rt.beatSent(10, 1_000, 1);
      rt.acknowledged(beat(1, { ack: 10, epoch: 1 }), 30_000, at(2));
      expect(rt.ackedSentMono(at(2), 50_000, 9_000)).toBeUndefined();
      // A peer that says it is primary acknowledged nothing for the lease, even at the record's epoch: the
      // lease runs from its beats' first arrival there.
      const primary = new RoundTrip();
      primary.beatSent(10, 1_000, 2);
      primary.acknowledged(beat(1, { ack: 10, epoch: 2, role: 'primary' }), undefined, at(2));
      expect(primary.ackedSentMono(at(2), 50_000, 9_000)).toBeUndefined();
      primary.acknowledged(beat(2, { ack: 10, epoch: 2, role: 'primary' }), 49_000, at(2));
      expect(primary.ackedSentMono(at(2), 50_000, 9_000)).toBe(8_000);
    });
  });

  describe('unheardSincePromotion', () => {
    it('at the first epoch, lasts until the peer has acknowledged any beat of this site (a primary that never heard its standby never fences itself)', () => {
      const rt = new RoundTrip();
      expect(rt.unheardSincePromotion(INITIAL_CLUSTER)).toBe(true);
      // A beat that acknowledges nothing: the peer has not heard this site.
      rt.acknowledged(beat(1, { role: 'primary' }), 100, INITIAL_CLUSTER);
      expect(rt.unheardSincePromotion(INITIAL_CLUSTER)).toBe(true);
      rt.acknowledged(beat(2, { role: 'primary', ack: 7 }), 200, INITIAL_CLUSTER);
      expect(rt.unheardSincePromotion(INITIAL_CLUSTER)).toBe(false);
      // A new container learns it from the tables (heard), before its first decision.
      const fresh = new RoundTrip();
      fresh.heard(
        {
          network: { unreadable: false, beat: beat(2, { role: 'primary', ack: 7 }), arrivedAtMs: 200 },
          storage: unread,
        },
        INITIAL_CLUSTER,
      );
      expect(fresh.unheardSincePromotion(INITIAL_CLUSTER)).toBe(false);
    });

    it('after a promotion, lasts until the peer acknowledges this site’s first beat at the record’s epoch', () => {
      const rt = new RoundTrip();
      const record = at(2);
      expect(rt.unheardSincePromotion(record)).toBe(true);
      rt.beatSent(15, 100, 1);
      rt.beatSent(20, 200, 2);
      rt.beatSent(21, 300, 2);
      rt.acknowledged(beat(1, { epoch: 2, ack: 19 }), undefined, record);
      expect(rt.unheardSincePromotion(record)).toBe(true);
      rt.acknowledged(beat(2, { epoch: 2, ack: 20 }), undefined, record);
      expect(rt.unheardSincePromotion(record)).toBe(false);
      // The acknowledgement need not come as secondary: a peer that only heard this site counts.
      const asPrimary = new RoundTrip();
      asPrimary.beatSent(20, 200, 2);
      asPrimary.acknowledged(beat(1, { epoch: 3, ack: 25, role: 'primary' }), undefined, record);
      expect(asPrimary.unheardSincePromotion(record)).toBe(false);
    });

    it('is still so when the acknowledgement came at an older epoch, or this site has sent nothing at this one', () => {
      const old = new RoundTrip();
      old.beatSent(20, 200, 2);
      old.acknowledged(beat(1, { epoch: 1, ack: 30 }), undefined, at(2));
      expect(old.unheardSincePromotion(at(2))).toBe(true);
      const silent = new RoundTrip();
      silent.beatSent(20, 200, 1);
      silent.acknowledged(beat(1, { epoch: 2, ack: 30 }), undefined, at(2));
      expect(silent.unheardSincePromotion(at(2))).toBe(true);
      // A beat with no ack acknowledges nothing.
      const none = new RoundTrip();
      none.beatSent(20, 200, 2);
      none.acknowledged(beat(1, { epoch: 2 }), undefined, at(2));
      expect(none.unheardSincePromotion(at(2))).toBe(true);
    });

    it('keeps the highest acknowledgement and the highest epoch the peer’s beats carried, in whatever order they are read', () => {
      const rt = new RoundTrip();
      rt.beatSent(20, 200, 2);
      rt.acknowledged(beat(1, { epoch: 2, ack: 12 }), undefined, at(2));
      rt.acknowledged(beat(2, { epoch: 1, ack: 25 }), undefined, at(2));
      expect(rt.unheardSincePromotion(at(2))).toBe(false);
      rt.acknowledged(beat(3, { epoch: 2, ack: 3 }), undefined, at(2));
      expect(rt.unheardSincePromotion(at(2))).toBe(false);
      // A beat of a later epoch that acknowledges nothing changes nothing.
      rt.acknowledged(beat(4, { epoch: 3 }), undefined, at(2));
      expect(rt.unheardSincePromotion(at(2))).toBe(false);
      const later = new RoundTrip();
      later.beatSent(20, 200, 2);
      later.acknowledged(beat(1, { epoch: 1, ack: 25 }), undefined, at(2));
      expect(later.unheardSincePromotion(at(2))).toBe(true);
      later.acknowledged(beat(2, { epoch: 2, ack: 5 }), undefined, at(2));
      expect(later.unheardSincePromotion(at(2))).toBe(false);
    });
  });

  describe('peerSeen', () => {
    const gated = at(2, { gated: true });

    it('after a gated promotion, waits for a beat of the peer at the record’s epoch, arrived or acknowledging', () => {
      const rt = new RoundTrip();
      expect(rt.peerSeen(gated)).toBe(false);
      // A beat at the epoch that neither arrived (a tick's own read) nor acknowledges anything is not enough.
      rt.acknowledged(beat(1, { epoch: 2 }), undefined, gated);
      expect(rt.peerSeen(gated)).toBe(false);
      rt.acknowledged(beat(1, { epoch: 1 }), 10, gated);
      expect(rt.peerSeen(gated)).toBe(false);
      rt.acknowledged(beat(2, { epoch: 2 }), 20, gated);
      expect(rt.peerSeen(gated)).toBe(true);
      const acking = new RoundTrip();
      acking.acknowledged(beat(1, { epoch: 1, ack: 3 }), undefined, gated);
      expect(acking.peerSeen(gated)).toBe(false);
      acking.acknowledged(beat(2, { epoch: 2, ack: 3 }), undefined, gated);
      expect(acking.peerSeen(gated)).toBe(true);
      const ahead = new RoundTrip();
      ahead.acknowledged(beat(1, { epoch: 3 }), 20, gated);
      expect(ahead.peerSeen(gated)).toBe(true);
    });

    it('holds at once where the primary may not act unheard (after a switchover), and not on a first deployment', () => {
      expect(new RoundTrip().peerSeen(at(2))).toBe(true);
      expect(new RoundTrip().peerSeen(INITIAL_CLUSTER)).toBe(false);
    });
  });
});
