/*
 * The role protocol of mirrorbeat, as a SPIN model (docs/RELIABILITY.md, "The model").
 *
 * Two sites (0 = production, 1 = standby) and a witness region. The cluster record (epoch,
 * holder, lease renewals, how long a promoted site waits) is linearizable and answers a site
 * only while its region reaches a majority: the production-standby leg, or its own leg to a
 * live witness. Time runs in rounds, without end; in each round every live site takes its step
 * (in any interleaving with the other's), and the environment may crash a site or the witness,
 * cut or heal a leg, restart a crashed site, or let one site's monotonic clock gain or lose a
 * tick (bounded drift, of one sign per clock). The standby's trigger (both paths say the peer
 * is lost) is free: it may fire at any moment, false suspicion included, so the lease gate alone
 * must keep the safety.
 *
 * Time is kept as ages, capped where larger values mean the same (a lease older than L is
 * simply expired), and the lease count as "renewed since this site last looked", so the state
 * space is finite and every run is unbounded.
 *
 *   site step, primary branch   HeartbeatModule.renew + lease.ts renewed / holdsLease / roleOf
 *   site step, standby branch   lease.ts watched / gateOpen / takeover, then the fence step's
 *                               conditional write naming the renewal it saw (failover-steps)
 *   ungated takeover            an operator's failover, or a reported workload failure
 *                               (lease.ts promotionWaitMs: the promoted site waits a lease)
 *
 * Variants (-D at spin -a): SAFETY (default: any FAULTS faults), NOPRIMARYLOSS (one fault, not
 * of production), LIVENESS (production crashes or is isolated once). MARGIN=0 must be found
 * unsafe: the check is not vacuous.
 */

#define L 3                /* leaseSeconds, in ticks */
#ifndef MARGIN
#define MARGIN 2           /* the drift margin: twice the largest drift of one clock */
#endif
#define DRIFT 1            /* how far one clock may gain or lose against real time */
#define WAIT (L + MARGIN)
#ifndef MAXEPOCH
#define MAXEPOCH 3         /* at most two takeovers in one run */
#endif
#ifndef FAULTS
#define FAULTS 2
#endif
#define BOUND (WAIT + DRIFT + 3)   /* LIVENESS: rounds from the fault to the standby acting */

#define cap(x, c) if :: x < c -> x++ :: else -> skip fi

byte epoch = 1; byte holder = 0; byte actAfter = 0;
bool linkPS = 1; bool linkW[2] = 1; bool witnessUp = 1;
bool crashed[2];
bool done[2];
byte faults = 0;
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
          epoch++; holder = i; actAfter = 0; touched(); check()
        }
#if !defined(NOPRIMARYLOSS) && !defined(LIVENESS)
     :: atomic {
          /* an ungated takeover (an operator, a reported workload failure): the promoted site waits a lease */
          epoch < MAXEPOCH && maj(i) && epoch == rEpoch[i] && holder == rHolder[i] ->
          epoch++; holder = i; actAfter = WAIT; touched(); check()
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
  :: !done[i] && !crashed[i] -> step(i); done[i] = 1
  od
}

/* One tick of site i's own clock: every age grows, capped. */
inline age(i) { cap(leaseAge[i], L); cap(promoAge[i], WAIT); cap(watchAge[i], WAIT) }

inline advance(i) {
  if
  :: age(i)
  :: dir[i] > 0 && drift[i] < DRIFT -> age(i); age(i); drift[i]++
  :: dir[i] < 0 && drift[i] > -DRIFT -> drift[i]--
  fi
}

inline restart(i) { crashed[i] = 0; renewed[i] = 0; seenEpoch[i] = 0; wEpoch[i] = 0; dirty[i] = 1; faults++ }

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
    run site(0); run site(1)
  }
  do
  :: done[0] && done[1] ->
     atomic {
       environment();
       advance(0); advance(1);
       done[0] = crashed[0]; done[1] = crashed[1];
       check();
#ifdef LIVENESS
       if :: pDown -> cap(downAge, BOUND) :: else -> skip fi;
       /* the standby acts within a lease, the margin, the drift and three rounds of its own steps */
       assert(downAge < BOUND || act1);
#endif
     }
  od
}
