/*
 * The role protocol of mirrorbeat, as a SPIN model (docs/RELIABILITY.md, "The model").
 *
 * Two sites (0 = production, 1 = standby) and a witness region. The cluster record (epoch,
 * holder, lease renewals, how long a promoted site waits) is linearizable and answers a site
 * only while its region reaches a majority: the production-standby leg, or its own leg to a
 * live witness. Time runs in rounds of one unit, without end. Each site steps once every I units
 * of its own clock (its tick), in any interleaving with the other's when both step in one round;
 * between rounds the environment may crash a site or the witness, cut or heal a leg, restart a
 * crashed site, or let one site's monotonic clock gain or lose a unit (bounded drift, of one sign
 * per clock). The standby's trigger (both paths say the peer is lost) is free: it may fire at
 * any moment, false suspicion included, so the lease gate alone must keep the safety.
 *
 * The timing is the code's: model/check.sh passes I, L, MARGIN and DRIFT from model/timing.ts,
 * which computes them from the default quorum-mode configuration and lambdas/core/lease.ts. The
 * unit is the drift of one clock over one lease that the code's drift margin covers twice (at
 * the defaults 500 ms: an interval of 4 units, a lease of 14, a margin of 2).
 *
 * Time is kept as ages, capped where larger values mean the same (a lease older than L is
 * simply expired), and the lease count as "renewed since this site last looked", so the state
 * space is finite and every run is unbounded.
 *
 *   site step, primary branch   HeartbeatModule.renew + lease.ts renewed / holdsLease / roleOf
 *   site step, standby branch   lease.ts watched / gateOpen / takeover, then the fence step's
 *                               conditional write naming the renewal it saw (failover-steps)
 *   promoted(i)                 the fence: the workflow promotes the workload at once, so the
 *                               promoted site counts as acting from its fence, not its next tick
 *   ungated takeover            an operator's failover, or a reported workload failure
 *                               (lease.ts promotionWaitMs: the promoted site waits a lease)
 *
 *   SWITCH: handover(t)          a switchover: Drain asks the primary to hand over (the record's
 *                                handover); the primary stops acting and confirms (drainedAtMs);
 *                                the workflow's fence needs that confirmation; a primary that has
 *                                drained for EXPIRY units of its clock takes the request back
 *                                (lease.ts handoverExpiryMs, module.ts withdrawExpiredHandover)
 *   FENCEFAIL                    a gated takeover whose workflow fails: the site tries again RETRY
 *                                units later (site-step.ts failoverRetryMs)
 *   HANDOFF                      a container handoff: the next tick comes at any point within an
 *                                interval, the watch is carried with the gap not counted
 *                                (lease.ts watchCarried), and what the old container kept only in
 *                                memory (a handover's first sighting, a failed attempt) is lost
 *
 * Variants (-D at spin -a): SAFETY (default: any FAULTS faults; with SWITCH, a switchover too),
 * NOPRIMARYLOSS (one fault, not of production), LIVENESS (production crashes or is isolated once:
 * the standby acts within BOUND; with FENCEFAIL its first fence fails, with HANDOFF its container
 * hands off once, and the bound grows by what the code allows for each), HANDOVER (a switchover
 * whose target may crash before or after its fence: a primary acts again within BOUND).
 * MARGIN below 2 * DRIFT must be found unsafe, a switchover fence that does not wait for the
 * drain (NODRAIN) too, a handoff that restarts the watch (RESETWATCH) too slow, and one round
 * less than each BOUND too short (SHORTEN=1): the checks are neither vacuous nor loose.
 */

#ifdef HANDOVER
#define SWITCH
#endif
#ifndef I
#define I 4                /* intervalSeconds, in units: one step of a site every I units of its clock */
#endif
#ifndef L
#define L 14               /* leaseSeconds, in units */
#endif
#ifndef MARGIN
#define MARGIN 2           /* the drift margin (lease.ts driftMarginMs): twice the largest drift of one clock */
#endif
#ifndef DRIFT
#define DRIFT 1            /* how far one clock may gain or lose against real time over a lease */
#endif
#define WAIT (L + MARGIN)
#ifndef MAXEPOCH
#define MAXEPOCH 3         /* at most two takeovers in one run */
#endif
#ifndef FAULTS
#define FAULTS 2
#endif
#ifndef SHORTEN
#define SHORTEN 0
#endif
#ifndef EXPIRY
#define EXPIRY 28          /* handoverExpiryMs, in units: two leases in quorum mode */
#endif
#ifndef RETRY
#define RETRY 14           /* failoverRetryMs, in units: one lease */
#endif
#define TICKS(x) (((x) + I - 1) / I * I)
/* LIVENESS: rounds from the fault to the standby acting: a tick to see the last renewal, the wait in
   whole ticks, the drift, and the round the fault happens in (SHORTEN=1: one round less must fail).
   A failed fence adds the retry in whole ticks and its drift; a handoff adds up to one interval. */
#ifdef FENCEFAIL
#define FFEXTRA TICKS(RETRY)
#else
#define FFEXTRA 0
#endif
#ifdef HANDOFF
#define HOEXTRA I
#else
#define HOEXTRA 0
#endif
/* HANDOVER: rounds with no site acting, counted from the primary's drain: the expiry in whole ticks,
   its drift, the round; or, when the target crashed after its fence, the gated takeover's bound. */
#define SWBOUND (TICKS(EXPIRY) + DRIFT + 1)
#if defined(HANDOVER) && SWBOUND > I + TICKS(WAIT) + DRIFT + 1
#define BOUND (SWBOUND - SHORTEN)
#elif defined(HANDOVER)
#define BOUND (I + TICKS(WAIT) + DRIFT + 1 - SHORTEN)
#else
#define BOUND (I + TICKS(WAIT) + DRIFT + 1 + FFEXTRA + HOEXTRA - SHORTEN)
#endif
#if defined(LIVENESS) || defined(HANDOVER)
#define TRIGGERED pDown &&
#else
#define TRIGGERED
#endif

#define cap(x, c) if :: x < c -> x++ :: else -> skip fi

byte epoch = 1; byte holder = 0; byte actAfter = 0;
bool linkPS = 1; bool linkW[2] = 1; bool witnessUp = 1;
bool crashed[2];
bool done[2];
byte faults = 0;
byte phase[2];             /* units of its own clock since a site's last step */
bool pDown = 0; byte downAge = 0;
bool everActed0 = 0;       /* ghost: production acted as primary at some point */

short dir[2];              /* each clock's drift direction, chosen once */
short drift[2];

/* what each site knows (lost with a crash) */
byte rEpoch[2]; byte rHolder[2]; byte rAct[2];
bool renewed[2]; byte rsEpoch[2]; byte leaseAge[2];
byte seenEpoch[2]; byte promoAge[2];
byte wEpoch[2]; byte watchAge[2]; bool dirty[2];
#ifdef SWITCH
bool hand = 0; bool drained = 0; bool switched = 0;   /* the record's handover request, its confirmation; one switchover a run */
byte target;                                          /* the site the switchover hands over to */
bool rHand[2]; bool handSeen[2]; byte handAge[2];     /* a primary read a request to hand over; since when, by its clock */
#define DRAINING(i) rHand[i]
#else
#define DRAINING(i) 0
#endif
#ifdef FENCEFAIL
bool fenceFailed = 0; bool retryWait[2]; byte retryAge[2];
#define RETRYOK(i) (!retryWait[i] || retryAge[i] >= RETRY)
#else
#define RETRYOK(i) 1
#endif
#ifdef HANDOFF
bool handedOff = 0; bool carrying[2];                 /* the watch is carried, its gap not counted, until the next tick */
#endif
byte noneAge = 0;          /* rounds since some site last acted (HANDOVER) */

#define maj(i) (linkPS || (linkW[i] && witnessUp))
#define ACT(i) (!crashed[i] && !DRAINING(i) && renewed[i] && rHolder[i] == i && rsEpoch[i] == rEpoch[i] && leaseAge[i] < L && seenEpoch[i] == rEpoch[i] && promoAge[i] >= rAct[i])
#define act0 ACT(0)
#define act1 ACT(1)

/* After every step that can change who acts: never two primaries (NOPRIMARYLOSS: production never loses its role). */
inline check() {
  assert(!(act0 && act1));
#ifdef NOPRIMARYLOSS
  everActed0 = everActed0 || act0;
  assert(!everActed0 || act0);
#endif
}

/* The record changed: every site's watch has something new to see. */
inline touched() { dirty[0] = 1; dirty[1] = 1 }

/* The fence is the promoted site's first renewal: the workflow promotes its workload at once, without waiting for a tick. */
inline promoted(i) {
  rEpoch[i] = epoch; rHolder[i] = i; rAct[i] = actAfter; seenEpoch[i] = epoch; promoAge[i] = 0;
  renewed[i] = 1; rsEpoch[i] = epoch; leaseAge[i] = 0
}

inline step(i) {
  if
  :: atomic {
       /* named primary: the strong read, then the renewal, its lease timed from the start */
       maj(i) && holder == i ->
       rEpoch[i] = epoch; rHolder[i] = holder; rAct[i] = actAfter;
       if :: seenEpoch[i] != epoch -> seenEpoch[i] = epoch; promoAge[i] = 0 :: else -> skip fi;
#ifdef SWITCH
       /* a handover drained for EXPIRY units is taken back (a conditional write), and the tick goes on as primary */
       if :: hand && handSeen[i] && handAge[i] >= EXPIRY -> hand = 0; drained = 0; touched() :: else -> skip fi;
       if
       :: hand ->
          /* asked to hand over: stop acting, confirm the drain, renew nothing */
          rHand[i] = 1; drained = 1;
          if :: !handSeen[i] -> handSeen[i] = 1; handAge[i] = 0 :: else -> skip fi
       :: else ->
          rHand[i] = 0; handSeen[i] = 0;
          renewed[i] = 1; rsEpoch[i] = epoch; leaseAge[i] = 0; touched()
       fi;
#else
       renewed[i] = 1; rsEpoch[i] = epoch; leaseAge[i] = 0; touched();
#endif
       check()
     }
  :: atomic {
       /* no majority: nothing read, nothing renewed, the lease runs down */
       !maj(i) -> check()
     }
  :: atomic {
       /* the record names the other site: watch its renewals */
       maj(i) && holder != i ->
       rEpoch[i] = epoch; rHolder[i] = holder; rAct[i] = actAfter; renewed[i] = 0;
#ifdef SWITCH
       rHand[i] = 0; handSeen[i] = 0;
#endif
       if :: dirty[i] || wEpoch[i] != epoch -> wEpoch[i] = epoch; watchAge[i] = 0; dirty[i] = 0 :: else -> skip fi;
       check()
     };
     /* the other site may step between this watch and the fence */
     if
     :: atomic {
          /* the gated takeover: the fence names the renewal it saw stand still */
          TRIGGERED RETRYOK(i) &&
          epoch < MAXEPOCH && watchAge[i] >= WAIT && maj(i) && epoch == wEpoch[i] && !dirty[i] ->
#ifdef FENCEFAIL
          if
          :: !fenceFailed -> fenceFailed = 1; retryWait[i] = 1; retryAge[i] = 0   /* the workflow failed: nothing written */
          :: else ->
#endif
          epoch++; holder = i; actAfter = 0; promoted(i); touched();
#ifdef SWITCH
          hand = 0; drained = 0;
#endif
#ifdef FENCEFAIL
          fi;
#endif
          check()
        }
#if !defined(NOPRIMARYLOSS) && !defined(LIVENESS) && !defined(HANDOVER)
     :: atomic {
          /* an ungated takeover (an operator, a reported workload failure): the promoted site waits a lease */
          epoch < MAXEPOCH && maj(i) && epoch == rEpoch[i] && holder == rHolder[i] ->
          epoch++; holder = i; actAfter = WAIT; promoted(i); touched();
#ifdef SWITCH
          hand = 0; drained = 0;
#endif
          check()
        }
#endif
#if defined(LIVENESS) || defined(HANDOVER)
     :: else -> skip   /* with the trigger true, an open gate is always taken */
#else
     :: skip
#endif
     fi
  fi
}

/* A container handoff after this tick: the new container's first tick comes at any point of the next
   interval; until it, the carried watch does not count (from this tick on); a handover's sighting and a
   failed attempt are forgotten. */
inline handoff(i) {
#ifdef HANDOFF
  handedOff = 1; carrying[i] = 1;
  if :: phase[i] = 0 :: phase[i] = I - 1 :: phase[i] = I / 2 fi;
#ifdef RESETWATCH
  watchAge[i] = 0;   /* mutant: the new container starts its watch afresh (issue 31, mechanism 10) */
#endif
#ifdef SWITCH
  handSeen[i] = 0;
#endif
#ifdef FENCEFAIL
  retryWait[i] = 0;
#endif
#endif
}

proctype site(byte i) {
  do
  :: !done[i] && !crashed[i] ->
     step(i);
     atomic {
       phase[i] = 0; done[i] = 1;
#ifdef HANDOFF
       /* this tick may be the last of its container (the standby's, once a run) */
       carrying[i] = 0;
       if :: i == 1 && !handedOff -> handoff(i) :: skip fi
#endif
     }
  od
}

/* One unit of site i's own clock: every age grows, capped, and the next step comes nearer. */
inline age(i) {
  cap(leaseAge[i], L); cap(promoAge[i], WAIT); cap(phase[i], I);
#ifdef HANDOFF
  if :: !carrying[i] -> cap(watchAge[i], WAIT) :: else -> skip fi;
#else
  cap(watchAge[i], WAIT);
#endif
#ifdef SWITCH
  if :: handSeen[i] -> cap(handAge[i], EXPIRY) :: else -> skip fi;
#endif
#ifdef FENCEFAIL
  if :: retryWait[i] -> cap(retryAge[i], RETRY) :: else -> skip fi;
#endif
}

inline advance(i) {
  if
  :: age(i)
  :: dir[i] > 0 && drift[i] < DRIFT -> age(i); age(i); drift[i]++
  :: dir[i] < 0 && drift[i] > -DRIFT -> drift[i]--
  fi
}

inline restart(i) { crashed[i] = 0; phase[i] = I; renewed[i] = 0; seenEpoch[i] = 0; wEpoch[i] = 0; dirty[i] = 1; faults++ }

/* The switchover's first step (Drain, run where the target is): the record asks the primary to hand over. */
inline askHandover() {
#ifdef SWITCH
  hand = 1; drained = 0; switched = 1; target = 1 - holder
#endif
}

/* The switchover's fence: the workflow at the target, only once the primary confirmed its drain. */
inline handedOver() {
#ifdef SWITCH
  epoch++; holder = target; actAfter = 0; hand = 0; drained = 0; promoted(target); touched(); check()
#endif
}

inline environment() {
  if
  :: skip
#ifdef SWITCH
  :: !switched && maj(1 - holder) && !crashed[1 - holder] -> askHandover()
#ifdef NODRAIN
  :: hand && epoch < MAXEPOCH && maj(target) && !crashed[target] -> handedOver()   /* mutant: the fence does not wait for the drain */
#else
  :: hand && drained && epoch < MAXEPOCH && maj(target) && !crashed[target] -> handedOver()
#endif
#endif
#if defined(HANDOVER)
  :: switched && faults == 0 -> crashed[target] = 1; faults++; pDown = 1
#elif defined(LIVENESS)
  :: faults == 0 -> crashed[0] = 1; faults++; pDown = 1
  :: faults == 0 -> linkPS = 0; linkW[0] = 0; faults++; pDown = 1
#elif defined(NOPRIMARYLOSS)
  :: faults == 0 -> crashed[1] = 1; faults++
  :: faults == 0 -> witnessUp = 0; faults++
  :: faults == 0 -> linkPS = 0; faults++
  :: faults == 0 -> linkW[0] = 0; faults++
  :: faults == 0 -> linkW[1] = 0; faults++
  :: faults == 0 -> linkPS = 0; linkW[1] = 0; faults++
#else
  :: faults < FAULTS -> crashed[0] = 1; faults++
  :: faults < FAULTS -> crashed[1] = 1; faults++
  :: faults < FAULTS -> witnessUp = 0; faults++
  :: faults < FAULTS -> linkPS = 0; faults++
  :: faults < FAULTS -> linkW[0] = 0; faults++
  :: faults < FAULTS -> linkW[1] = 0; faults++
  :: faults < FAULTS -> linkPS = 1; linkW[0] = 1; linkW[1] = 1; witnessUp = 1; faults++
  :: faults < FAULTS && crashed[0] -> restart(0)
  :: faults < FAULTS && crashed[1] -> restart(1)
#endif
  fi
}

init {
  atomic {
    if :: dir[0] = -1 :: dir[0] = 0 :: dir[0] = 1 fi;
    if :: dir[1] = -1 :: dir[1] = 0 :: dir[1] = 1 fi;
    /* both sites step at once, or the standby's ticks fall anywhere between production's */
    phase[0] = I; phase[1] = I;
    do :: phase[1] > 1 -> phase[1]-- :: break od; done[1] = phase[1] < I;
    run site(0); run site(1)
  }
  do
  :: done[0] && done[1] ->
     atomic {
       environment();
       advance(0); advance(1);
       done[0] = crashed[0] || phase[0] < I; done[1] = crashed[1] || phase[1] < I;
       check();
#ifdef LIVENESS
       if :: pDown -> cap(downAge, BOUND) :: else -> skip fi;
       /* the standby acts within BOUND rounds of the fault */
       assert(downAge < BOUND || act1);
#endif
#ifdef HANDOVER
       if :: act0 || act1 -> noneAge = 0 :: else -> cap(noneAge, BOUND) fi;
       /* a switchover, its target crashed or not: some site acts again within BOUND rounds */
       assert(noneAge < BOUND);
#endif
     }
  od
}
