#!/usr/bin/env bash
# test.sh - make test's stages: the tests of the normal build, the same tests under
# ASan+UBSan, and each fuzz target briefly. Every stage runs even when one before it failed,
# so a failure never hides what the later stages would have said; the summary names each
# stage's result, and the exit status is 1 when any failed.
#   scripts/test.sh            (make test: after `make build test-deps`)
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${JOBS:=$(nproc)}" "${MAKE:=make}"

names=()
results=()
failed=0
stage() {
	local name=$1 start=$SECONDS rc
	shift
	echo "== test.sh: stage $name"
	"$@"
	rc=$?
	names+=("$name")
	if [ "$rc" -eq 0 ]; then
		results+=("passed in $((SECONDS - start)) s")
	else
		results+=("FAILED (exit $rc) after $((SECONDS - start)) s")
		failed=1
	fi
}

stage "tests (build)" bash -c "cd '$BUILD' && ctest --output-on-failure -j '$JOBS'"
stage "tests under ASan+UBSan (build-asan)" "$MAKE" --no-print-directory asan
stage "fuzz targets (build-fuzz)" "$MAKE" --no-print-directory fuzz-smoke

echo "== test.sh: summary (${SECONDS} s in all)"
for i in "${!names[@]}"; do
	printf '   %-40s %s\n' "${names[$i]}" "${results[$i]}"
done
exit "$failed"
