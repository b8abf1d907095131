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
 * Variants (-D at spin -a): SAFETY (default: any FAULTS faults), NOPRIMARYLOSS (one fault, not
 * of production), LIVENESS (production crashes or is isolated once: the standby acts within
 * BOUND). MARGIN below 2 * DRIFT must be found unsafe, and one round less than BOUND too short
 * (SHORTEN=1): the checks are neither vacuous nor loose.
 */

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
/* LIVENESS: rounds from the fault to the standby acting: a tick to see the last renewal, the wait in
   whole ticks, the drift, and the round the fault happens in (SHORTEN=1: one round less must fail) */
#define BOUND (I + ((WAIT + I - 1) / I) * I + DRIFT + 1 - SHORTEN)

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

#define maj(i) (linkPS || (linkW[i] && witnessUp))
#define ACT(i) (!crashed[i] && renewed[i] && rHolder[i] == i && rsEpoch[i] == rEpoch[i] && leaseAge[i] < L && seenEpoch[i] == rEpoch[i] && promoAge[i] >= rAct[i])
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
       renewed[i] = 1; rsEpoch[i] = epoch; leaseAge[i] = 0; touched();
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
       if :: dirty[i] || wEpoch[i] != epoch -> wEpoch[i] = epoch; watchAge[i] = 0; dirty[i] = 0 :: else -> skip fi;
       check()
     };
     /* the other site may step between this watch and the fence */
     if
     :: atomic {
          /* the gated takeover: the fence names the renewal it saw stand still */
#ifdef LIVENESS
          pDown &&
#endif
          epoch < MAXEPOCH && watchAge[i] >= WAIT && maj(i) && epoch == wEpoch[i] && !dirty[i] ->
          epoch++; holder = i; actAfter = 0; promoted(i); touched(); check()
        }
#if !defined(NOPRIMARYLOSS) && !defined(LIVENESS)
     :: atomic {
          /* an ungated takeover (an operator, a reported workload failure): the promoted site waits a lease */
          epoch < MAXEPOCH && maj(i) && epoch == rEpoch[i] && holder == rHolder[i] ->
          epoch++; holder = i; actAfter = WAIT; promoted(i); touched(); check()
        }
#endif
#ifdef LIVENESS
     :: else -> skip   /* with the trigger true, an open gate is always taken */
#else
     :: skip
#endif
     fi
  fi
}

proctype site(byte i) {
  do
  :: !done[i] && !crashed[i] -> step(i); phase[i] = 0; done[i] = 1
  od
}

/* One unit of site i's own clock: every age grows, capped, and the next step comes nearer. */
inline age(i) { cap(leaseAge[i], L); cap(promoAge[i], WAIT); cap(watchAge[i], WAIT); cap(phase[i], I) }

inline advance(i) {
  if
  :: age(i)
  :: dir[i] > 0 && drift[i] < DRIFT -> age(i); age(i); drift[i]++
  :: dir[i] < 0 && drift[i] > -DRIFT -> drift[i]--
  fi
}

inline restart(i) { crashed[i] = 0; phase[i] = I; renewed[i] = 0; seenEpoch[i] = 0; wEpoch[i] = 0; dirty[i] = 1; faults++ }

inline environment() {
  if
  :: skip
#if defined(LIVENESS)
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
     }
  od
}
