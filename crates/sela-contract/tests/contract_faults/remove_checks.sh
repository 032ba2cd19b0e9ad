#!/usr/bin/env bash
# Removes each fault test's pinned check and runs the test: every one must
# fail. The removal is Config::skip_checks (no edit of the harness): each
# line of pins.tsv, `TEST<TAB>CHECK`, switches CHECK off for TEST's runs only
# (SELA_SKIP_PER_TEST, read by common::skipped_checks), so one run of the
# suite removes every pinned check once. CHECK is `CLAUSE part@file[:line]`
# (that failure, where the harness records it) or a site's own name
# (`check_bulk T1`, `starts_at_zero R1`); see PINS.md.
#
# Usage (from the workspace root): crates/sela-contract/tests/contract_faults/remove_checks.sh [FILTER]
# Prints the tests that did NOT fail with their check removed (none is the
# goal) and exits 1 if there is one. FILTER keeps the table's lines that
# contain it (a file: `state::`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
table="$(mktemp)"
trap 'rm -f "$table"' EXIT
grep -v '^#' "$here/pins.tsv" | grep -F -- "${1:-}" >"$table" || true
mapfile -t tests < <(cut -f1 "$table")
if [ "${#tests[@]}" -eq 0 ]; then
  echo "no pinned test matches '${1:-}'" >&2
  exit 2
fi
log="$(mktemp)"
SELA_SKIP_PER_TEST="$table" cargo test -p sela-contract --test contract_faults -- --exact "${tests[@]}" >"$log" 2>&1 || true
survivors="$(grep -E '^test .* \.\.\. ok$' "$log" | sed -E 's/^test (.*) \.\.\. ok$/\1/' || true)"
failed="$(grep -cE '^test .* \.\.\. FAILED$' "$log" || true)"
echo "removed ${#tests[@]} pinned checks: $failed test(s) failed as they must"
if [ -n "$survivors" ]; then
  echo "still passing with their pinned check removed:"
  echo "$survivors"
  rm -f "$log"
  exit 1
fi
rm -f "$log"
