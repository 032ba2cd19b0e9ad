#!/usr/bin/env bash
# The contract harness's run at --cases 32 against a server that answers every
# request 30 ms after it came (a CI job talking to a staging server): this
# tree's harness against a baseline harness built from BASE_REV (default: the
# last main before issue 16's harness), each against its own fresh
# `sela-sandbox --latency-ms 30` (this tree's), in the same run. Requests are
# counted from the sandbox's own log. This tree's harness is the `sela-contract`
# binary; the baseline's is `xtask contract` of its own revision (before the
# workspace was split into crates, issue 23).
#
#   bash benches/contract_latency.sh                   # from the repository root
#   ROUNDS=3 BASE_REV=<rev> bash benches/contract_latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-1}
BASE_REV=${BASE_REV:-f35eb77}
LATENCY_MS=${LATENCY_MS:-30}
CASES=${CASES:-32}
TOKEN="bench-$RANDOM$RANDOM"
SECOND="$TOKEN-second"
BASE_SRC=target/bench-base/src

cargo build --quiet --release -p sela-sandbox -p sela-contract
SANDBOX=target/release/sela-sandbox
HARNESS=target/release/sela-contract
if [ ! -d "$BASE_SRC" ]; then
  git worktree add --detach "$BASE_SRC" "$BASE_REV" > /dev/null
fi
git -C "$BASE_SRC" checkout --quiet --detach "$BASE_REV"
cargo build --quiet --release -p xtask --manifest-path "$BASE_SRC/Cargo.toml" \
  --target-dir target/bench-base/target
BASE=target/bench-base/target/release/xtask

# run NAME HARNESS...: a fresh sandbox, one harness run (the command HARNESS...
# plus the flags below); prints "NAME seconds requests exit".
run() {
  local name=$1 port log status=0 t0 t1 pid
  shift
  port=$((18800 + RANDOM % 100))
  log=target/bench-latency-sandbox-$name.log
  "$SANDBOX" --port "$port" --token "$TOKEN" --second-token "$SECOND" \
    --latency-ms "$LATENCY_MS" > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q '^Serving' "$log" 2>/dev/null && break; sleep 0.1; done
  t0=$(date +%s.%N)
  env SELA_API_KEY="$TOKEN" SELA_SECOND_API_KEY="$SECOND" "$@" \
    --base-url "http://127.0.0.1:$port/" --cases "$CASES" --no-regressions \
    > "target/bench-latency-$name.out" 2>&1 || status=$?
  t1=$(date +%s.%N)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  awk -v name="$name" -v t0="$t0" -v t1="$t1" -v status="$status" '
    / (GET|POST|PUT|PATCH|DELETE) \// { requests++ }
    END { printf "%s %.2f %d %d\n", name, t1 - t0, requests, status }' "$log"
}

RESULTS=target/bench-contract-latency.txt
: > "$RESULTS"
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then order="baseline current"; else order="current baseline"; fi
  for side in $order; do
    case $side in
      baseline) echo "$round $(run baseline "$BASE" contract)" >> "$RESULTS" ;;
      current) echo "$round $(run current "$HARNESS")" >> "$RESULTS" ;;
    esac
  done
done

awk -v base="$BASE_REV" -v ms="$LATENCY_MS" -v cases="$CASES" '
  { secs[$2, $1] = $3; req[$2, $1] = $4; if ($5 != 0) bad[$2] = $5; if ($1 > rounds) rounds = $1 }
  END {
    printf "--cases %d against %d ms per request; baseline = %s\n\n", cases, ms, base
    printf "| round | harness | seconds | requests | requests/s |\n| ---: | --- | ---: | ---: | ---: |\n"
    for (r = 1; r <= rounds; r++)
      for (k = 1; k <= 2; k++) {
        t = (k == 1) ? "baseline" : "current"
        printf "| %d | %s | %.1f | %d | %.0f |\n", r, t, secs[t, r], req[t, r], req[t, r] / secs[t, r]
      }
    printf "\ncurrent / baseline, per round:\n"
    for (r = 1; r <= rounds; r++)
      printf "  round %d: %.2fx the time, %.2fx the requests\n", r, secs["current", r] / secs["baseline", r], req["current", r] / req["baseline", r]
    for (t in bad) printf "note: %s exited %d (see target/bench-latency-%s.out)\n", t, bad[t], t
  }' "$RESULTS"
