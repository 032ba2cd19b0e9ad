#!/usr/bin/env bash
# The contract harness's default run vs schemathesis (with the project's
# openapi.yaml and the CI configuration), one after the other against the same
# `cargo xtask sandbox` process. Requests and leads are counted from the
# sandbox's own log (one line per request; bulk lines carry the per-item
# counts), not from either tool's report, so both are counted the same way.
#
#   bash benches/contract_vs_schemathesis.sh          # from the repository root
#   ROUNDS=3 bash benches/contract_vs_schemathesis.sh # several rounds, interleaved
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18799}
ROUNDS=${ROUNDS:-1}
TOKEN="bench-$RANDOM$RANDOM"
VENV=target/schemathesis-venv
LOG=target/bench-sandbox.log

if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi
cargo build --quiet --release -p xtask
XTASK=target/release/xtask

"$XTASK" sandbox --port "$PORT" --token "$TOKEN" > "$LOG" 2>&1 &
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
        measure harness env SELA_API_KEY="$TOKEN" "$XTASK" contract --base-url "$BASE" >> "$RESULTS" ;;
      schemathesis)
        measure schemathesis "$VENV/bin/schemathesis" --config-file .ci/schemathesis.toml \
          run openapi.yaml --url "$BASE" -H "Authorization: Token $TOKEN" >> "$RESULTS" ;;
    esac
  done
done

awk '
  { secs[$1] += $2; req[$1] += $3; leads[$1] += $4; if ($5 != 0) bad[$1] = $5 }
  END {
    printf "| tool | seconds | requests | leads checked | requests/s | leads checked/s |\n"
    printf "| --- | ---: | ---: | ---: | ---: | ---: |\n"
    for (t in secs) {
      printf "| %s | %.1f | %d | %d | %.0f | %.0f |\n", t, secs[t], req[t], leads[t], req[t] / secs[t], leads[t] / secs[t]
    }
    if (secs["schemathesis"] > 0 && req["schemathesis"] > 0 && secs["harness"] > 0) {
      rs = req["schemathesis"] / secs["schemathesis"]; rh = req["harness"] / secs["harness"]
      printf "\nharness / schemathesis: %.1fx requests/s", rh / rs
      if (leads["schemathesis"] > 0)
        printf ", %.1fx leads checked/s", (leads["harness"] / secs["harness"]) / (leads["schemathesis"] / secs["schemathesis"])
      printf "\n"
    }
    for (t in bad) printf "note: %s exited %d (see target/bench-%s.out)\n", t, bad[t], t
  }' "$RESULTS"
