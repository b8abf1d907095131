#!/usr/bin/env bash
# Checks a role protocol model with SPIN, at the code's timing (model/timing.ts): each property must hold,
# exhaustively, and each mutant must be caught. One line per run; exit 1 on any surprise.
#   model/check.sh [roles]     quorum mode (roles.pml): a drift margin short of twice the drift, none at all, a
#                              switchover fence without the drain, a handoff that restarts the watch, each
#                              liveness bound one round short
#   model/check.sh two-region  two-region mode under self-fence (two-region.pml): no promotion wait, no
#                              self-fence, the fence only by a primary's beat, a takeover unheard; from the
#                              first moment (a first deployment), and its mutant: a takeover before production
#                              acknowledged the standby; with
#                              MODEL_PERSON=1 also a person's failover among any one fault (over three minutes)
set -uo pipefail
cd "$(dirname "$0")"
command -v spin >/dev/null || { echo "spin is not installed: apt-get install spin (Debian package), then run again"; exit 1; }
command -v gcc >/dev/null || { echo "gcc is not installed: SPIN compiles its verifier with it"; exit 1; }
model=${1:-roles}
case $model in roles | two-region) ;; *) echo "unknown model '$model': use roles or two-region"; exit 1 ;; esac
timing=$(cd .. && node_modules/.bin/tsx model/timing.ts "$model") || { echo "the model's timing could not be computed from the code (model/timing.ts)"; exit 1; }
flags=${timing%% #*}
echo "timing from the code: ${timing#* # }"
margin=$(sed -n 's/.*-DMARGIN=\([0-9]*\).*/\1/p' <<<"$flags")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$model.pml" "$work/"
status=0
run() { # name, expectation (holds|violated), spin flags...
  local name=$1 expect=$2; shift 2
  # shellcheck disable=SC2086 # $flags is a list of -D options
  # A mutant's search stops at its first counterexample, in a second or two: compiling it unoptimized saves more than
  # it costs. A property that holds is searched to the end, optimized (states uncompressed: faster, and at most 7 GB).
  local opt=-O2; [ "$expect" = violated ] && opt=-O0
  ( cd "$work" && rm -f "$model.pml.trail" pan pan.* && spin -a $flags "$@" "$model.pml" >/dev/null && gcc $opt -DSAFETY -o pan pan.c 2>/dev/null ) || { echo "$name: the model did not compile"; status=1; return; }
  local out; out=$(cd "$work" && ./pan -m2000000 -w26 2>&1)
  local states errors; states=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' <<<"$out"); errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out")
  # pan stops at the first error, so an incomplete search is a failure only where the property must hold.
  if [ "$expect" = holds ] && grep -q "Search not completed\|max search depth too small" <<<"$out"; then echo "$name: search not completed"; status=1; return; fi
  if [ "$expect" = holds ] && [ "$errors" = 0 ]; then echo "$name: holds, $states states, exhaustive";
  elif [ "$expect" = violated ] && [ "${errors:-0}" != 0 ]; then echo "$name: violated as expected (the check is not vacuous), after $states states";
  else echo "$name: expected $expect, got $errors errors"; grep -m3 "violated\|pan:" <<<"$out"; status=1; fi
}
if [ "$model" = roles ]; then
  run "never two sites acting as primary (any 2 faults, drifting clocks, false suspicion, operator takeovers)" holds
  run "one fault elsewhere (standby, witness, one leg) never ends production's role" holds -DNOPRIMARYLOSS
  run "production crashed or isolated: the standby acts within a tick, the lease and margin in whole ticks, the drift" holds -DLIVENESS
  run "a switchover among false suspicion, operator takeovers and drift never leaves two sites acting" holds -DSWITCH -DFAULTS=0
  run "a switchover whose target crashes before or after its fence: a site acts again within the expiry in whole ticks" holds -DHANDOVER
  run "production lost and the standby's first fence fails: it acts within the bound and the retry in whole ticks" holds -DLIVENESS -DFENCEFAIL
  run "production lost and the standby's container hands off: it acts within the bound and one interval" holds -DLIVENESS -DHANDOFF
  run "mutant: a drift margin one unit short of twice the drift" violated -UMARGIN -DMARGIN=$((margin - 1))
  run "mutant: no drift margin" violated -UMARGIN -DMARGIN=0
  run "mutant: the liveness bound one round shorter" violated -DLIVENESS -DSHORTEN=1
  run "mutant: the switchover's fence does not wait for the drain confirmation" violated -DSWITCH -DFAULTS=0 -DNODRAIN
  run "mutant: the switchover's bound one round shorter" violated -DHANDOVER -DSHORTEN=1
  run "mutant: the failed fence's bound one round shorter" violated -DLIVENESS -DFENCEFAIL -DSHORTEN=1
  run "mutant: the handoff's bound one round shorter" violated -DLIVENESS -DHANDOFF -DSHORTEN=1
  run "mutant: a handoff restarts the standby's watch" violated -DLIVENESS -DHANDOFF -DRESETWATCH
else
  run "never two sites acting as primary (any 2 faults, false suspicion, drifting clocks, crashed containers recycled)" holds -DFAULTS=2
  # A person's failover at any moment among any one fault: 66 million states, over three minutes; not in CI's run.
  [ "${MODEL_PERSON:-0}" = 1 ] && run "a person's failover among any one fault and drifting clocks never leaves two sites acting" holds -DFAULTS=1 -DPERSON
  run "mutant: a gated promotion acts at once (no promotion wait)" violated -DFAULTS=2 -DNOWAIT
  run "mutant: no self-fence" violated -DFAULTS=2 -DSTAYPRIMARY
  run "mutant: only a beat claiming primary fences (the code before 2026-12-07)" violated -DFAULTS=2 -DPRIMARYFENCE
  run "mutant: a site takes over without having been heard at the record's epoch" violated -DFAULTS=2 -DNOUNHEARD
  run "from the first moment (a first deployment, production may never hear its standby): never two sites acting (any 1 fault)" holds -DFAULTS=1 -DFIRSTDEPLOY
  run "mutant: before any promotion the standby takes over without production's acknowledgement" violated -DFAULTS=1 -DFIRSTDEPLOY -DNOFIRSTACK
fi
exit $status
