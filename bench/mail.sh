#!/usr/bin/env bash
# mail.sh - the report analysis alone, per message: build/bench_mail over tests/data/received,
# pinned to one core, after waiting for a quiet machine (quiet.sh).
#   bench/mail.sh [ROUNDS [ITERATIONS]]     (9 rounds of 200 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/quiet.sh
BUILD=${BUILD:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target bench_mail >/dev/null
wait_quiet
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) git $(git rev-parse --short HEAD) $(nproc) cpus, pinned to cpu 1"
exec taskset -c 1 "$BUILD/bench_mail" tests/data/received "${1:-9}" "${2:-200}"
