import type { Heartbeat } from './message';
import type { PeerRead } from './site-step';
import { type ClusterRecord, INITIAL_CLUSTER } from './volume';
import { PATHS, type PathId } from './wire';

/**
 * Two-region self-fence: where a primary may act without its peer's word at its epoch. Before any
 * promotion (a first deployment: the standby may not be there yet), and after a takeover through
 * the lease gate, whose old primary was lost to the promoted site and, if alive, fenced itself for
 * want of acknowledgements before the promotion. Not after a switchover or a person's failover: that
 * old primary knows it is secondary and may take over itself if this site falls silent.
 */
export function mayActUnheard(cluster: ClusterRecord): boolean {
  return cluster.gated === true || (cluster.epoch === INITIAL_CLUSTER.epoch && cluster.promotedAtMs === undefined);
}

/**
 * Two-region self-fence as a round-trip lease (docs/ARCHITECTURE.md, "Roles"): this container's
 * beats and their send times on its monotonic clock, the `ack` its beats carry, and what the
 * peer's beats acknowledged. The site core (site.ts) asks it when its lease runs from and whether
 * the peer has heard it at the record's epoch.
 */
export class RoundTrip {
  /** Whether the peer's beats were read in this invocation (two-region self-fence decides on them). */
  peerRead = false;

  /** The peer's last beats as the tables hold them: what they acknowledge, without a check (the tick's own follows). */
  heard(reads: Readonly<Record<PathId, PeerRead>>, cluster: ClusterRecord): void {
    for (const path of PATHS) {
      const read = reads[path];
      if (read.beat !== undefined) this.acknowledged(read.beat, read.arrivedAtMs, cluster);
    }
    this.peerRead = true;
  }

  /**
   * This container's own beats, oldest first: serial and send time on its monotonic clock (the self-fence lease runs
   * from them).
   */
  private readonly sends: { readonly serial: number; readonly sentMono: number }[] = [];
  /** The highest serial of this site's beats that the peer acknowledged in a beat confirming this site as primary. */
  private acked: number | undefined;
  /** The highest serial of the peer's valid beats this site accepted: what its own beats echo as `ack`. */
  private accepted: number | undefined;
  /** The highest epoch at which the peer's beats acknowledged anything. */
  private acknowledgedAtEpoch = 0;
  /**
   * The peer's first beat this container read at the highest epoch it beat at, and when it arrived
   * (this site's clock): until the peer acknowledges something at the current epoch (it has just
   * started and not yet heard this site), the self-fence lease runs from that arrival — once, never
   * renewed by more beats that acknowledge nothing. A peer never heard at the current epoch (a first
   * deployment; an old primary, fenced, that has not beaten since the promotion) leaves a primary acting.
   */
  private firstHeard: { readonly epoch: number; readonly arrivedAtMs: number } | undefined;
  /** This container's first beat at the epoch it beats at now: the peer must acknowledge it (unheardSincePromotion). */
  private firstSentAtEpoch: { readonly epoch: number; readonly serial: number } | undefined;
  /** The highest serial the peer's beats at the highest epoch they carried acknowledged. */
  private peerAckAtEpoch: { readonly epoch: number; readonly ack: number } | undefined;
  /**
   * This site sent (or is sending) its beat `serial` at `monoMs`: the self-fence lease may run from it once the peer
   * acknowledges it.
   */
  beatSent(serial: number, monoMs: number, epoch: number): void {
    this.sends.push({ serial, sentMono: monoMs });
    if ((this.firstSentAtEpoch?.epoch ?? 0) < epoch) this.firstSentAtEpoch = { epoch, serial };
    // Far more than two leases of beats at the shortest interval; the oldest go first.
    if (this.sends.length > 256) this.sends.shift();
  }

  /** The highest serial of the peer's valid beats accepted so far: the `ack` this site's next beat carries. */
  get ack(): number | undefined {
    return this.accepted;
  }

  /**
   * The own-mono send time of the newest beat of this site the peer acknowledged. A beat of an
   * earlier container of this site is found by its serial, which is its send time on this site's
   * (corrected) wall clock (volume.ts, serialFloor): its age on that clock, if not in the future.
   */
  ackedSentMono(cluster: ClusterRecord, nowMs: number, monoMs: number): number | undefined {
    const acked = this.acked;
    const onWall = (atMs: number) => (atMs <= nowMs ? monoMs - (nowMs - atMs) : undefined);
    if (this.acknowledgedAtEpoch < cluster.epoch || acked === undefined) {
      const heard = this.firstHeard;
      return heard !== undefined && heard.epoch >= cluster.epoch ? onWall(heard.arrivedAtMs) : undefined;
    }
    const own = this.sends.find((s) => s.serial === acked);
    if (own !== undefined) return own.sentMono;
    const first = this.sends[0];
    if (first !== undefined && acked > first.serial) return undefined;
    return onWall(acked);
  }

  /**
   * A valid peer beat: its serial is accepted, and its `ack` counts when it confirms this site (secondary, not ahead).
   */
  acknowledged(beat: Heartbeat, arrivedAtMs: number | undefined, cluster: ClusterRecord): void {
    this.accepted = Math.max(this.accepted ?? 0, beat.serial);
    const heard = this.firstHeard;
    // The first arrival at the highest epoch: a higher epoch starts it again, an earlier arrival at it moves it back.
    if (
      arrivedAtMs !== undefined &&
      (heard === undefined ||
        beat.epoch > heard.epoch ||
        (beat.epoch === heard.epoch && arrivedAtMs < heard.arrivedAtMs))
    )
      this.firstHeard = { epoch: beat.epoch, arrivedAtMs };
    if (beat.ack !== undefined) {
      this.acknowledgedAtEpoch = Math.max(this.acknowledgedAtEpoch, beat.epoch);
      const known = this.peerAckAtEpoch;
      this.peerAckAtEpoch = {
        epoch: Math.max(beat.epoch, known?.epoch ?? 0),
        ack: Math.max(beat.ack, known?.ack ?? 0),
      };
    }
    if (beat.ack !== undefined && beat.role === 'secondary' && beat.epoch <= cluster.epoch)
      this.acked = Math.max(this.acked ?? 0, beat.ack);
  }

  /**
   * Two-region mode, after a promotion: the peer has not acknowledged a beat this site sent at the
   * record's epoch. A promoted primary acts unheard until it hears this site at its epoch
   * (mayActUnheard); until it has acknowledged such a beat, it may still be acting unheard, and
   * taking over in this half of a partition would make two primaries, so this site does not do so
   * by itself. Before any promotion, likewise until the peer has acknowledged any beat of this site:
   * a primary that never heard its standby acts as at a first deployment and never fences itself.
   * Quorum mode's record, read through a majority, needs no such rule.
   */
  unheardSincePromotion(cluster: ClusterRecord): boolean {
    if (cluster.epoch === INITIAL_CLUSTER.epoch) return this.acknowledgedAtEpoch < INITIAL_CLUSTER.epoch;
    const first = this.firstSentAtEpoch;
    const acked = this.peerAckAtEpoch;
    return !(
      first?.epoch === cluster.epoch &&
      acked !== undefined &&
      acked.epoch >= cluster.epoch &&
      acked.ack >= first.serial
    );
  }

  /** Whether the peer heard this site at the record's epoch, or may be ignored there (mayActUnheard). */
  peerSeen(cluster: ClusterRecord): boolean {
    return (
      (this.firstHeard?.epoch ?? 0) >= cluster.epoch ||
      this.acknowledgedAtEpoch >= cluster.epoch ||
      !mayActUnheard(cluster)
    );
  }
}
