#!/usr/bin/env bash
# Checks the role protocol model (roles.pml) exhaustively with SPIN, at the code's timing
# (model/timing.ts): each property must hold, and each mutant (a drift margin short of twice the
# drift, none at all, a switchover fence without the drain, a handoff that restarts the watch,
# each liveness bound one round short) must be caught. One line per run; exit 1
# on any surprise.
set -uo pipefail
cd "$(dirname "$0")"
command -v spin >/dev/null || { echo "spin is not installed: apt-get install spin (Debian package), then run again"; exit 1; }
command -v gcc >/dev/null || { echo "gcc is not installed: SPIN compiles its verifier with it"; exit 1; }
timing=$(cd .. && node_modules/.bin/tsx model/timing.ts) || { echo "the model's timing could not be computed from the code (model/timing.ts)"; exit 1; }
flags=${timing%% #*}
echo "timing from the code: ${timing#* # }"
margin=$(sed -n 's/.*-DMARGIN=\([0-9]*\).*/\1/p' <<<"$flags")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp roles.pml "$work/"
status=0
run() { # name, expectation (holds|violated), spin flags...
  local name=$1 expect=$2; shift 2
  # shellcheck disable=SC2086 # $flags is a list of -D options
  ( cd "$work" && rm -f roles.pml.trail pan pan.* && spin -a $flags "$@" roles.pml >/dev/null && gcc -O2 -DSAFETY -DCOLLAPSE -o pan pan.c 2>/dev/null ) || { echo "$name: the model did not compile"; status=1; return; }
  local out; out=$(cd "$work" && ./pan -m2000000 -w26 2>&1)
  local states errors; states=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' <<<"$out"); errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out")
  # pan stops at the first error, so an incomplete search is a failure only where the property must hold.
  if [ "$expect" = holds ] && grep -q "Search not completed\|max search depth too small" <<<"$out"; then echo "$name: search not completed"; status=1; return; fi
  if [ "$expect" = holds ] && [ "$errors" = 0 ]; then echo "$name: holds, $states states, exhaustive";
  elif [ "$expect" = violated ] && [ "${errors:-0}" != 0 ]; then echo "$name: violated as expected (the check is not vacuous), after $states states";
  else echo "$name: expected $expect, got $errors errors"; grep -m3 "violated\|pan:" <<<"$out"; status=1; fi
}
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
exit $status
