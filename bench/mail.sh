#!/usr/bin/env bash
# mail.sh - the report analysis alone, per message: build/bench_mail over tests/data/received,
# pinned to one core, after waiting for a quiet machine (quiet.sh).
#   bench/mail.sh [ROUNDS [ITERATIONS]]              (9 rounds of 200 by default)
#   bench/mail.sh --ab OLD_REV [--pairs N] [ROUNDS [ITERATIONS]]
# With --ab, OLD_REV's bench_mail (built from its commit by `git archive`, in
# bench/out/ab/<commit>/build, reused when there) and this tree's run alternately, N pairs
# (default 4: old-new, new-old, ...), on the same messages: this tree's corpus. Printed: each
# run's mean and median per message of the whole analysis and of the Received walk alone, and
# the ratios new / old of their medians over the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/quiet.sh
BUILD=${BUILD:-build}
die() { echo "mail.sh: $*" >&2; exit 2; }
old_rev="" pairs=4
while [ $# -gt 0 ]; do
	case $1 in
	--ab) [ -n "${2:-}" ] || die "--ab needs a revision"; old_rev=$2; shift 2 ;;
	--pairs)
		[[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 20 ] || die "--pairs takes 1 to 20"
		pairs=$2; shift 2 ;;
	*) break ;;
	esac
done
rounds=${1:-9} iters=${2:-200}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target bench_mail >/dev/null
if [ -z "$old_rev" ]; then
	wait_quiet
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) git $(git rev-parse --short HEAD) $(nproc) cpus, pinned to cpu 1"
	exec taskset -c 1 "$BUILD/bench_mail" tests/data/received "$rounds" "$iters"
fi

# ---- A/B against OLD_REV, as bench/ab.sh builds its revisions ----
sha=$(git rev-parse --verify --quiet "$old_rev^{commit}") || die "'$old_rev' is not a commit"
dir=bench/out/ab/$sha b=bench/out/ab/$sha/build
mkdir -p "$dir"
if [ ! -x "$b/bench_mail" ]; then
	echo "# building bench_mail of $(git rev-parse --short "$sha") in $b" >&2
	rm -rf "$dir/src" && mkdir -p "$dir/src"
	git archive --format=tar "$sha" | tar -x -C "$dir/src"
	cmake -S "$dir/src" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRAPLINE_WERROR=OFF >"$dir/build.log" 2>&1
	cmake --build "$b" -j "$(nproc)" --target bench_mail >>"$dir/build.log" 2>&1 ||
		die "bench_mail did not build at $old_rev (see $dir/build.log)"
	rm -rf "$dir/src"
fi
declare -A BIN=([old]=$b/bench_mail [new]=$BUILD/bench_mail)
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) bench/mail.sh --ab $old_rev --pairs $pairs $rounds $iters: old $(git rev-parse --short "$sha"), new $(git rev-parse --short HEAD)$([ -n "$(git status --porcelain --untracked-files=no)" ] && echo ' (and the working tree)'), $(nproc) cpus, pinned to cpu 1"
echo "# corpus: tests/data/received, $(ls tests/data/received/*.eml | wc -l) messages; figures in us per message"
printf '%-4s %-3s %12s %12s %12s %12s\n' run rev analyse_mean analyse_med walk_mean walk_med
declare -A AM AD WM WD
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for i in $(seq 1 "$pairs"); do
	order="old new"
	[ $((i % 2)) = 0 ] && order="new old"
	for side in $order; do
		wait_quiet
		taskset -c 1 "${BIN[$side]}" tests/data/received "$rounds" "$iters" >"$out"
		read -r am wm < <(awk '/^mean per message/ {print $5, $15}' "$out")
		read -r ad wd < <(awk '/^median per message/ {print $5, $15}' "$out")
		AM[$side]+="$am " AD[$side]+="$ad " WM[$side]+="$wm " WD[$side]+="$wd "
		printf '%-4s %-3s %12s %12s %12s %12s\n' "$i" "$side" "$am" "$ad" "$wm" "$wd"
	done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.3f (%.2f / %.2f)", a / b, a, b}'; }
echo "new / old, medians over the runs:"
echo "  analysis, mean per message:   $(ratio "${AM[new]}" "${AM[old]}")"
echo "  analysis, median per message: $(ratio "${AD[new]}" "${AD[old]}")"
echo "  walk alone, mean per message: $(ratio "${WM[new]}" "${WM[old]}")"
echo "  walk alone, median:           $(ratio "${WD[new]}" "${WD[old]}")"
