#!/usr/bin/env bash
# test-loaded.sh - `make test` twice in a row while stress(1) keeps N cores busy, as a shared
# CI machine would: the suite must pass both times. The load stops with the script (its PID
# only), and after 90 minutes in any case.
#   scripts/test-loaded.sh [N]      (make test-loaded; N defaults to the number of cores)
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-$(nproc)}
command -v stress >/dev/null || { echo "test-loaded.sh: needs stress (scripts/deps.sh --test)" >&2; exit 2; }
stress --cpu "$n" --timeout 5400 >/dev/null 2>&1 &
load=$!
trap 'kill "$load" 2>/dev/null; wait "$load" 2>/dev/null' EXIT
rc=0
for run in 1 2; do
	start=$SECONDS
	echo "== test-loaded.sh: make test, run $run of 2, with $n cores loaded"
	if scripts/test.sh; then
		echo "== test-loaded.sh: run $run passed in $((SECONDS - start)) s"
	else
		echo "== test-loaded.sh: run $run FAILED after $((SECONDS - start)) s"
		rc=1
	fi
done
exit "$rc"
