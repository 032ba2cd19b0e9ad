#!/usr/bin/env bash
# The contract harness's default run vs schemathesis (with the project's
# openapi.yaml and the CI configuration), one after the other against the same
# `sela-sandbox` process (the harness is the `sela-contract` binary). Requests and leads are counted from the
# sandbox's own log (one line per request; bulk lines carry the per-item
# counts), not from either tool's report, so both are counted the same way.
#
#   bash benches/contract_vs_schemathesis.sh          # from the repository root
#   ROUNDS=3 bash benches/contract_vs_schemathesis.sh # several rounds, interleaved
#   LATENCY_MS=30 bash benches/contract_vs_schemathesis.sh # a remote-like server
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18799}
ROUNDS=${ROUNDS:-1}
LATENCY_MS=${LATENCY_MS:-0}
TOKEN="bench-$RANDOM$RANDOM"
SECOND="$TOKEN-second"
VENV=target/schemathesis-venv
LOG=target/bench-sandbox.log

if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi
cargo build --quiet --release -p sela-sandbox -p sela-contract
HARNESS=target/release/sela-contract

target/release/sela-sandbox --port "$PORT" --token "$TOKEN" --second-token "$SECOND" \
  --latency-ms "$LATENCY_MS" > "$LOG" 2>&1 &
SANDBOX=$!
trap 'kill "$SANDBOX" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q '^Serving' "$LOG" 2>/dev/null && break
  sleep 0.1
done
BASE="http://127.0.0.1:$PORT/"

# measure NAME COMMAND...: runs it, prints "NAME seconds requests leads exit".
measure() {
  local name=$1
  shift
  local before t0 t1 status=0
  before=$(wc -l < "$LOG")
  t0=$(date +%s.%N)
  "$@" > "target/bench-$name.out" 2>&1 || status=$?
  t1=$(date +%s.%N)
  sleep 0.2 # the last log lines
  tail -n "+$((before + 1))" "$LOG" | awk -v name="$name" -v t0="$t0" -v t1="$t1" -v status="$status" '
    / (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE) \// { requests++ }
    / created=/ {
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "created" || kv[1] == "reengaged" || kv[1] == "rejected") leads += kv[2]
      }
    }
    END { printf "%s %.3f %d %d %d\n", name, t1 - t0, requests, leads, status }'
}

RESULTS=target/bench-contract-vs-schemathesis.txt
: > "$RESULTS"
for round in $(seq "$ROUNDS"); do
  # The side that goes first alternates by round.
  if [ $((round % 2)) -eq 1 ]; then order="harness schemathesis"; else order="schemathesis harness"; fi
  for side in $order; do
    case $side in
      harness)
        echo "$round $(measure harness env SELA_API_KEY="$TOKEN" SELA_SECOND_API_KEY="$SECOND" "$HARNESS" --base-url "$BASE")" >> "$RESULTS" ;;
      schemathesis)
        echo "$round $(measure schemathesis "$VENV/bin/schemathesis" --config-file .ci/schemathesis.toml \
          run openapi.yaml --url "$BASE" -H "Authorization: Token $TOKEN")" >> "$RESULTS" ;;
    esac
  done
done

# One row per tool and round, then per round the ratio harness / schemathesis.
awk '
  {
    round = $1; tool = $2
    secs[tool, round] = $3; req[tool, round] = $4; leads[tool, round] = $5
    if ($6 != 0) bad[tool] = $6
    if (round > rounds) rounds = round
  }
  END {
    printf "| round | tool | seconds | requests | leads checked | requests/s | leads checked/s |\n"
    printf "| ---: | --- | ---: | ---: | ---: | ---: | ---: |\n"
    for (r = 1; r <= rounds; r++) {
      for (k = 1; k <= 2; k++) {
        tool = (k == 1) ? "harness" : "schemathesis"
        s = secs[tool, r]
        printf "| %d | %s | %.1f | %d | %d | %.0f | %.0f |\n", r, tool, s, req[tool, r], leads[tool, r], req[tool, r] / s, leads[tool, r] / s
      }
    }
    printf "\nharness / schemathesis, per round:\n"
    for (r = 1; r <= rounds; r++) {
      rh = req["harness", r] / secs["harness", r]; rs = req["schemathesis", r] / secs["schemathesis", r]
      lh = leads["harness", r] / secs["harness", r]; ls = leads["schemathesis", r] / secs["schemathesis", r]
      printf "  round %d: %.1fx requests/s, %.0fx leads checked/s\n", r, rh / rs, (ls > 0 ? lh / ls : 0)
    }
    for (t in bad) printf "note: %s exited %d (see target/bench-%s.out)\n", t, bad[t], t
  }' "$RESULTS"
