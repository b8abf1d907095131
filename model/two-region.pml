/*
 * Two-region mode under isolationPolicy self-fence, as a SPIN model (docs/RELIABILITY.md, "The model").
 *
 * Two sites (0 = production, 1 = standby) and no witness. Each region holds its own replica of
 * the cluster record and each site renews its lease in its own region, so a write never waits for
 * the other region; replication carries records and renewals across while the storage link is up.
 * A site's beats reach the peer while any path from it to the peer is up: the storage link (the
 * heartbeat volume, both ways) or that direction of the network path. Time runs in rounds of one
 * unit; each site steps once every I units of its own clock; between rounds the environment may
 * crash and restart a site, cut or heal the storage link or either direction of the network, or
 * let a clock gain or lose a unit (bounded drift). As in roles.pml the standby's trigger is free:
 * it may fire at any moment, false suspicion included.
 *
 * What keeps two sites from acting at once, as the code has it:
 *   the gate            a standby takes over only once it has seen the peer's renewal stand still
 *                       for a lease and the margin (lease.ts gateOpen), writing the next epoch in
 *                       its own replica, conditional on that replica naming the peer (fence.ts)
 *   the promotion wait  a site promoted through the gate in two-region mode waits a lease and the
 *                       margin before it acts (lease.ts promotionWaitMs)
 *   the fence message   the promoted site's beat claiming primary at its epoch, on the network
 *                       path at once: a site that reads it stops acting (site.ts fencedBy)
 *   self-fence          a primary that has heard its peer acts only while the peer has acknowledged,
 *                       as secondary at an epoch not above the primary's, a beat it sent less than a
 *                       lease ago by its own clock; until the first acknowledgement at its epoch, the
 *                       lease runs from the peer's first beat heard at it (round-trip.ts ackedSentMono)
 *   unheard             a site takes over by itself only once the primary it replaces has
 *                       acknowledged a beat it sent at the record's epoch (unheardSincePromotion)
 *
 * Ages of beats are kept on the clock of the site that sent them (the round trip never compares two
 * clocks): ackAge[i] is the age of site i's own beat that the peer's newest delivered beat
 * acknowledged, inAck[i] the age of site i's newest beat the peer can read (what the peer's next
 * beat acknowledges).
 *
 * Timing: `tsx model/timing.ts two-region` prints the -D flags from the two-region defaults (I=4, L=24, MARGIN=2).
 *
 * Faults: a crash (a restart afterwards is free: a recycled container), a cut of the storage link, of either
 * direction of the network, or of everything at once (a partition), and their heals; none before both sites
 * have heard each other once (FIRSTDEPLOY: from the first moment, where a production that never heard its standby
 * acts as at a first deployment, and the standby takes over by itself only once production has acknowledged one of
 * its beats). The gated takeover's trigger is
 * free (false suspicion at any moment); PERSON adds a person's failover to the standby, once, at any moment
 * (ungated: the promoted site waits a lease and the margin, and never acts unheard).
 *
 * Variants (-D at spin -a): FAULTS, the number of faults; PERSON; mutants that must be found unsafe: NOWAIT (a
 * gated promotion acts at once, as in quorum mode), STAYPRIMARY (no self-fence), PRIMARYFENCE (only a beat
 * claiming primary fences: the code before 2026-12-07, whose two counterexamples this model found), NOUNHEARD
 * (a site takes over without having been heard at the record's epoch), NOFIRSTACK (before any promotion, the
 * standby takes over without production's acknowledgement: the code before 2026-12-07 evening, unsafe from the first
 * moment, -DFIRSTDEPLOY). Not mutants, because the search finds
 * them harmless: a margin short of twice the drift, or none (a gated takeover waits the lease and margin twice,
 * and a person's failover never acts unheard: even with PERSON and one fault, a margin of one unit holds), and
 * ANYEPOCH (an acknowledgement in a beat from a higher epoch counts: that beat now fences its reader first, so
 * the epoch condition on acknowledgements is defence in depth).
 *
 * What model/check.sh two-region proves, exhaustively (CI, about two minutes and 7 GB): no two sites act at once under
 * any two faults, false suspicion and drifting clocks (about 49 million states), and each mutant above is caught.
 * With MODEL_PERSON=1 also under a person's failover with any one fault (about 66 million states, over three
 * minutes). From the first moment (FIRSTDEPLOY) with one fault in CI (2.4 million states, seconds); with two by
 * hand (62,527,858 states, 182 s, 8.4 GB). More faults do not fit: three passed 121 million states and 12 GB unfinished. With no drift margin
 * at all the two-fault search still holds (-UMARGIN -DMARGIN=0, 43 million states): in two-region mode the
 * margin is never what stands between two primaries (docs/RELIABILITY.md).
 */

#ifndef I
#define I 4                /* intervalSeconds, in units */
#endif
#ifndef L
#define L 24               /* leaseSeconds, in units (two-region default: 12 s) */
#endif
#ifndef MARGIN
#define MARGIN 2
#endif
#ifndef DRIFT
#define DRIFT 1
#endif
#define WAIT (L + MARGIN)
#ifndef MAXEPOCH
#define MAXEPOCH 3
#endif
#ifndef FAULTS
#define FAULTS 3
#endif
#ifdef NOWAIT
#define GATEDWAIT 0
#else
#define GATEDWAIT WAIT
#endif

/* a gated takeover needs the peer's acknowledgement: of any beat before a promotion, of one sent at the epoch after */
#ifdef NOUNHEARD
#define HEARDBACK(i) 1
#elif defined(NOFIRSTACK)
#define HEARDBACK(i) (epoch[i] == 1 || (heardBack[i] && sentEpoch[i] == epoch[i]))
#else
#define HEARDBACK(i) ((epoch[i] == 1 && ackEpoch[i] >= 1) || (heardBack[i] && sentEpoch[i] == epoch[i]))
#endif

/* FIRSTDEPLOY: faults from the first moment; otherwise once both sites have heard each other (a deployed pair). */
#ifdef FIRSTDEPLOY
#define DEPLOYED 1
#else
#define DEPLOYED met
#endif

#define cap(x, c) if :: x < c -> x++ :: else -> skip fi

/* each region's replica of the cluster record; gated: the promoted site may act unheard */
byte epoch[2]; byte holder[2]; byte actAfter[2]; bool gated[2];
bool rep = 1;              /* the storage link: replication of records and renewals, beats both ways */
bool net[2];               /* the network path from site i to its peer */
bool crashed[2];
bool done[2];
byte faults = 0;
bool done_person = 0;      /* a person's failover happened (PERSON) */
bool met = 0;              /* ghost: each site has heard the other once (both are deployed) */
byte phase[2];
short dir[2]; short drift[2];
#define reach(i) (rep || net[i])   /* a beat of site i reaches its peer */

/* the newest beat of site i its peer can read (the tables keep it through crashes) */
bool bValid[2]; byte bEpoch[2]; bool bPrimary[2];
bool bAck[2];  byte bAckAge[2]; byte bAckEpoch[2];   /* what it acknowledges: a beat of the peer, aged on the peer's clock */
byte bSentAge[2];                                    /* its send, aged on its sender's clock */
byte bArrAge[2];                                     /* its arrival, aged on the reader's clock */

/* what each site knows (lost with a crash) */
byte rEpoch[2]; byte rHolder[2]; byte rAct[2]; bool rGated[2];
byte fEpoch[2];                          /* the highest fence beat read */
bool renewed[2]; byte rsEpoch[2]; byte leaseAge[2];
byte seenEpoch[2]; byte promoAge[2];
byte heardEpoch[2]; byte hAge[2];        /* firstHeard: the epoch, and the age of its arrival */
byte ackEpoch[2];                        /* acknowledgedAtEpoch */
bool aValid[2]; byte aAge[2];            /* the newest own beat acknowledged by a secondary not ahead: its age */
byte sentEpoch[2]; bool heardBack[2];    /* firstSentAtEpoch, and whether the peer acknowledged a beat sent at it */
byte wEpoch[2]; byte watchAge[2]; bool dirty[2];
byte stepped[2];                         /* the epoch of the peer's newest beat read, when it says secondary (else 0) */

#define EPOCH(i) (fEpoch[i] > rEpoch[i] -> fEpoch[i] : rEpoch[i])
#define HOLDER(i) (fEpoch[i] > rEpoch[i] -> 1 - i : rHolder[i])
#define UNHEARD_OK(i) (rGated[i] || (rEpoch[i] == 1 && fEpoch[i] <= 1))
#define PEERSEEN(i) (heardEpoch[i] >= EPOCH(i) || ackEpoch[i] >= EPOCH(i) || !UNHEARD_OK(i))
/* the self-fence lease's basis (ackedSentMono): an acknowledged send, else the first beat heard at the epoch */
#define BASIS(i) ((ackEpoch[i] >= EPOCH(i) && aValid[i]) -> aAge[i] : (heardEpoch[i] >= EPOCH(i) -> hAge[i] : 255))
#ifdef STAYPRIMARY
#define FENCED(i) 0
#else
#define FENCED(i) (PEERSEEN(i) && BASIS(i) >= L)
#endif
#define ACT(i) (!crashed[i] && HOLDER(i) == i && renewed[i] && rsEpoch[i] == rEpoch[i] && leaseAge[i] < L && \
                seenEpoch[i] == rEpoch[i] && (promoAge[i] >= rAct[i] || stepped[i] >= EPOCH(i)) && !FENCED(i))

inline check() { assert(!(ACT(0) && ACT(1))) }

/* replication, while the storage link is up: the higher epoch wins in both replicas */
inline replicate() {
  if
  :: rep && epoch[0] > epoch[1] -> epoch[1] = epoch[0]; holder[1] = holder[0]; actAfter[1] = actAfter[0]; gated[1] = gated[0]; dirty[1] = 1
  :: rep && epoch[1] > epoch[0] -> epoch[0] = epoch[1]; holder[0] = holder[1]; actAfter[0] = actAfter[1]; gated[0] = gated[1]; dirty[0] = 1
  :: else -> skip
  fi
}

/* site i reads the peer's newest beat: a fence, a first hearing at an epoch, an acknowledgement */
inline hear(i) {
  if
  :: bValid[1 - i] ->
     /* a beat above the record in force fences: when it claims primary, or this site's record names this site */
#ifdef PRIMARYFENCE
     if :: bPrimary[1 - i] && bEpoch[1 - i] > EPOCH(i) -> fEpoch[i] = bEpoch[1 - i] :: else -> skip fi;
#else
     if :: (bPrimary[1 - i] || HOLDER(i) == i) && bEpoch[1 - i] > EPOCH(i) -> fEpoch[i] = bEpoch[1 - i] :: else -> skip fi;
#endif
     if :: bPrimary[1 - i] -> stepped[i] = 0 :: else -> stepped[i] = bEpoch[1 - i] fi;
     met = met || heardEpoch[1 - i] > 0;
     if
     :: bEpoch[1 - i] > heardEpoch[i] -> heardEpoch[i] = bEpoch[1 - i]; hAge[i] = bArrAge[1 - i]
     :: bEpoch[1 - i] == heardEpoch[i] && bArrAge[1 - i] > hAge[i] -> hAge[i] = bArrAge[1 - i]
     :: else -> skip
     fi;
     if
     :: bAck[1 - i] ->
        if :: bEpoch[1 - i] > ackEpoch[i] -> ackEpoch[i] = bEpoch[1 - i] :: else -> skip fi;
#ifdef ANYEPOCH
        if :: !bPrimary[1 - i] && (!aValid[i] || bAckAge[1 - i] < aAge[i]) ->
#else
        if :: !bPrimary[1 - i] && bEpoch[1 - i] <= EPOCH(i) && (!aValid[i] || bAckAge[1 - i] < aAge[i]) ->
#endif
             aValid[i] = 1; aAge[i] = bAckAge[1 - i]
        :: else -> skip
        fi;
        if :: bEpoch[1 - i] >= EPOCH(i) && bAckEpoch[1 - i] == sentEpoch[i] -> heardBack[i] = 1 :: else -> skip fi
     :: else -> skip
     fi
  :: else -> skip
  fi
}

/* the fence: the promoted site's own record, its first renewal, and its fence message on the network path */
inline promoted(i) {
  rEpoch[i] = epoch[i]; rHolder[i] = i; rAct[i] = actAfter[i]; rGated[i] = gated[i]; seenEpoch[i] = epoch[i]; promoAge[i] = 0;
  renewed[i] = 1; rsEpoch[i] = epoch[i]; leaseAge[i] = 0;
  if :: net[i] -> bValid[i] = 1; bEpoch[i] = epoch[i]; bPrimary[i] = 1; bAck[i] = 0; bSentAge[i] = 0; bArrAge[i] = 0 :: else -> skip fi
}

inline step(i) {
  atomic {
    /* a tick: the own replica, then the peer's beats (every tick hears them before it decides: module.ts) */
    rEpoch[i] = epoch[i]; rHolder[i] = holder[i]; rAct[i] = actAfter[i]; rGated[i] = gated[i];
    hear(i);
    if
    :: HOLDER(i) == i ->
       /* named primary: renew in the own region */
       if :: seenEpoch[i] != rEpoch[i] -> seenEpoch[i] = rEpoch[i]; promoAge[i] = 0 :: else -> skip fi;
       renewed[i] = 1; rsEpoch[i] = rEpoch[i]; leaseAge[i] = 0;
       if :: rep -> dirty[1 - i] = 1 :: else -> skip fi
    :: else ->
       renewed[i] = 0;
       if :: dirty[i] || wEpoch[i] != rEpoch[i] -> wEpoch[i] = rEpoch[i]; watchAge[i] = 0; dirty[i] = 0 :: else -> skip fi
    fi;
    /* the beat: the epoch in force, the role, the acknowledgement of the peer's newest beat */
    if :: sentEpoch[i] != EPOCH(i) -> sentEpoch[i] = EPOCH(i); heardBack[i] = 0 :: else -> skip fi;
    if
    :: reach(i) ->
       bAck[i] = bValid[1 - i]; bAckAge[i] = bSentAge[1 - i]; bAckEpoch[i] = bEpoch[1 - i];
       bValid[i] = 1; bEpoch[i] = EPOCH(i); bPrimary[i] = ACT(i); bSentAge[i] = 0; bArrAge[i] = 0
    :: else -> skip
    fi;
    check()
  };
  if
  :: atomic {
       /* the gated takeover (free trigger): the renewal stood still, the own replica names the peer, heard back */
       DEPLOYED && HOLDER(i) != i && fEpoch[i] <= rEpoch[i] && epoch[i] < MAXEPOCH && holder[i] == 1 - i &&
       watchAge[i] >= WAIT && !dirty[i] && epoch[i] == wEpoch[i] && HEARDBACK(i) ->
       epoch[i]++; holder[i] = i; actAfter[i] = GATEDWAIT; gated[i] = 1; promoted(i); check()
     }
  :: skip
  fi
}

proctype site(byte i) {
  do
  :: !done[i] && !crashed[i] -> step(i); atomic { phase[i] = 0; done[i] = 1 }
  od
}

/*
 * One unit of site i's own clock: every age on it grows, capped where more means the same. Only the
 * difference between the two clocks can be observed (nothing here reads real time: faults may come at
 * any moment), so production's clock keeps real time and the standby's carries the difference, up to
 * twice one clock's drift, gained or lost a unit at a time at any moments (a quarter of the states of
 * two drifting clocks, for the same behaviours up to when faults are placed).
 */
inline age(i) {
  cap(leaseAge[i], L); cap(promoAge[i], WAIT); cap(watchAge[i], WAIT); cap(phase[i], I);
  cap(aAge[i], L); cap(hAge[i], L); cap(bSentAge[i], L); cap(bAckAge[1 - i], L); cap(bArrAge[1 - i], L)
}

inline advance(i) {
  if
  :: age(i)
  :: dir[i] > 0 && drift[i] < 2 * DRIFT -> age(i); age(i); drift[i]++
  :: dir[i] < 0 && drift[i] > -2 * DRIFT -> drift[i]--
  fi
}

/* A restarted site knows nothing but what the tables hold. */
inline restart(i) {
  crashed[i] = 0; phase[i] = I; renewed[i] = 0; seenEpoch[i] = 0; wEpoch[i] = 0; dirty[i] = 1;
  fEpoch[i] = 0; stepped[i] = 0; heardEpoch[i] = 0; ackEpoch[i] = 0; aValid[i] = 0; sentEpoch[i] = 0; heardBack[i] = 0
}

inline environment() {
  if
  :: skip
  :: DEPLOYED && faults < FAULTS && !crashed[0] -> crashed[0] = 1; faults++
  :: DEPLOYED && faults < FAULTS && !crashed[1] -> crashed[1] = 1; faults++
  :: crashed[0] -> restart(0)   /* a restart is no fault of its own: the crash was */
  :: crashed[1] -> restart(1)
  :: DEPLOYED && faults < FAULTS && rep -> rep = 0; faults++
  :: DEPLOYED && faults < FAULTS && !rep -> rep = 1; faults++
  :: DEPLOYED && faults < FAULTS && net[0] -> net[0] = 0; faults++
  :: DEPLOYED && faults < FAULTS && net[1] -> net[1] = 0; faults++
  :: DEPLOYED && faults < FAULTS && !(net[0] && net[1]) -> net[0] = 1; net[1] = 1; faults++
  :: DEPLOYED && faults < FAULTS && (rep || net[0] || net[1]) -> rep = 0; net[0] = 0; net[1] = 0; faults++   /* a partition */
  :: DEPLOYED && faults < FAULTS && !(rep && net[0] && net[1]) -> rep = 1; net[0] = 1; net[1] = 1; faults++
  fi
}

/*
 * A person's failover to the standby (PERSON), once, at any moment: the failover workflow's fence step writes
 * the standby's record and sends the fence message whenever it runs, not at a tick. Ungated: the promoted site
 * waits a lease and the margin, and never acts unheard.
 */
inline person() {
#ifdef PERSON
  if
  :: DEPLOYED && !done_person && holder[1] == 0 && epoch[1] < MAXEPOCH ->
     done_person = 1; epoch[1]++; holder[1] = 1; actAfter[1] = WAIT; gated[1] = 0; promoted(1)
  :: skip
  fi
#else
  skip
#endif
}

init {
  atomic {
    epoch[0] = 1; epoch[1] = 1; gated[0] = 1; gated[1] = 1; net[0] = 1; net[1] = 1;
    if :: dir[1] = -1 :: dir[1] = 0 :: dir[1] = 1 fi;
    phase[0] = I; phase[1] = I;
    do :: phase[1] > 1 -> phase[1]-- :: break od; done[1] = phase[1] < I;
    run site(0); run site(1)
  }
  do
  :: done[0] && done[1] ->
     atomic {
       environment();
       person();
       replicate();
       advance(0); advance(1);
       done[0] = crashed[0] || phase[0] < I; done[1] = crashed[1] || phase[1] < I;
       check()
     }
  od
}
