#!/usr/bin/env bash
# metrics.sh - DNS qps with GET /metrics scraped every second against without, side by side
# in one run, reported as the ratio with / without (the target is at least 0.98): what the
# counters of the DNS path and a scrape that sums them cost the answers.
#
#   bench/metrics.sh [--quick] [--pairs N] [--seconds S] [--no-save] [--binary PATH]
#
#   --pairs N    pairs of runs, without-with then with-without and so on (default 6)
#   --seconds S  each run's length at full load (default 10)
#   --quick      3 pairs of 3 s on 100k queries: for trying the script; its log stays in
#                bench/out/
#   --no-save    do not copy the log into bench/results/
#   --binary P   the trapline to measure (default build/trapline: `make bench-metrics`
#                builds it first)
#   --quiet-wait S   wait at most S s for a quiet machine before a run (60)
#   --max-foreign P  a run during which others used more than P% of a core is repeated (5)
#
# One `trapline serve` (a store, the web on loopback, SMTP off) with one DNS worker, the whole
# process pinned to cpu 0, so that a scrape's work (a web thread at http_nice, summing the
# workers' counters and rendering the text) competes with the DNS worker for that core as it
# would in production on a busy core. qblast (dns.sh's queries: the 1M-entry data of
# anchor-dns.sh) runs on cpu 1 at full load; in a "with" run, curl asks for /metrics every
# second from cpu 1 too. The store is empty but for the RFC 5782 test points: the counters
# cost the same for any answer, and a cheaper answer makes their share larger, so this is the
# harder case. Before every run the script waits for a quiet machine (quiet.sh); a run during
# which other processes used over 5% of a core is repeated twice at most and marked '!'.
# Everything is on loopback, bounded by timeouts, and every process it starts is stopped by
# PID at exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
args=("$@")
die() { echo "metrics.sh: $*" >&2; exit 2; }

pairs=6 dsecs=10 warm=3 quick=0 save=1 bin=$root/build/trapline size=1000000 NQ=500000
# shellcheck disable=SC2034 # read by quiet.sh's wait_quiet
max_foreign=5 quiet_wait=60
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--pairs) [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 20 ] || die "--pairs needs 1..20"
		pairs=$2; shift 2 ;;
	--seconds) [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 120 ] || die "--seconds needs 1..120"
		dsecs=$2; shift 2 ;;
	--no-save) save=0; shift ;;
	--quiet-wait) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--quiet-wait needs seconds"
		quiet_wait=$2; shift 2 ;;
	--max-foreign) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--max-foreign needs a percentage"
		max_foreign=$2; shift 2 ;;
	--binary) bin=${2:-}; shift 2 ;;
	-h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
if [ $quick = 1 ]; then
	pairs=3 dsecs=3 warm=1 size=100000 NQ=100000 save=0
fi
[ -x "$bin" ] || die "no trapline at $bin (make build, or --binary)"
for t in python3 taskset timeout dig curl cc; do
	command -v "$t" >/dev/null || die "$t not found (scripts/deps.sh --test installs what is needed)"
done
SCPU=0 CCPU=1 ZONE=bl.example.org

. "$here/lib.sh"
bench_work trapline-metrics
. "$here/quiet.sh" # wait_quiet, stat_busy, TCK

commit=$(git -C "$root" rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
dirty=""
[ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=" (+ uncommitted changes)"
mkdir -p "$root/bench/out"
qtag=""
[ $quick = 0 ] || qtag=-quick
log=$root/bench/out/$(date -u +%Y-%m-%d)-$commit-metrics$qtag.txt
: >"$log"
say() { echo "$*" | tee -a "$log"; }

forget() {
	local p rest=()
	for p in "${pids[@]+"${pids[@]}"}"; do [ "$p" = "$1" ] || rest+=("$p"); done
	pids=("${rest[@]+"${rest[@]}"}")
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }
free_port() {
	python3 - <<-'EOF'
	import socket
	for _ in range(100):
	    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
	    p = u.getsockname()[1]
	    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	    try:
	        t.bind(("127.0.0.1", p))
	    except OSError:
	        continue
	    finally:
	        u.close(); t.close()
	    print(p); break
	EOF
}
field() { grep '^RESULT' "$2" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p" | tail -1; }
ticks() { local s; s=$(cut -d')' -f2- "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }; set -- $s; echo $((${12} + ${13})); }
median() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{a[NR]=$1} END{if (!NR) print "-"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

say "== bench/metrics.sh, $(date -u +%Y-%m-%dT%H:%MZ): DNS qps with /metrics scraped every second / without"
say "   command: bench/metrics.sh ${args[*]}"
say "   trapline: $bin at $commit$dirty"
say "   machine: $(nproc) cpus ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "   server (one DNS worker, the web, the writer) on cpu $SCPU; qblast -q 100 and the scraper on cpu $CCPU; $pairs pairs of ${dsecs} s, off-on then on-off"

# dns.sh's queries (gen.py with the seeds of ANCHORS.md), in the cache ab.sh uses too.
data=$root/bench/out/data-$size
"$here/anchor-dns.sh" --gen-only "$data" --queries "$NQ" "$size" >/dev/null
[ -s "$data/queries.txt" ] || die "no queries in $data"
cp "$data/queries.txt" "$work/queries.txt"
cc -O2 -o "$work/qblast" "$here/qblast.c" -lpthread 2>/dev/null || cc -O2 -o "$work/qblast" "$here/qblast.c"

# ------------------------------------------------------------------ the server
port=$(free_port) hport=$(free_port)
[ -n "$port" ] && [ -n "$hport" ] || die "no free port on 127.0.0.1"
taskset -c $SCPU timeout -k 5 $(((pairs * 2 * (dsecs + 70)) + 600)) "$bin" serve --data "$work/var" \
	--threads 1 --dns "127.0.0.1:$port" --http "127.0.0.1:$hport" --smtp off --log-level warn \
	>"$work/server.log" 2>&1 &
wpid=$!; pids+=("$wpid")
spid=""
for _ in $(seq 1 3000); do
	[ -z "$spid" ] && spid=$(ps -o pid= --ppid "$wpid" 2>/dev/null | head -1 | tr -d ' ')
	[ "$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" "2.0.0.127.$ZONE" A 2>/dev/null)" = 127.0.0.2 ] && break
	kill -0 "$wpid" 2>/dev/null || { cat "$work/server.log" >&2; die "trapline did not start"; }
	sleep 0.01
done
[ -n "$spid" ] || die "cannot find the server's pid"
code=$(curl -s -o "$work/first.txt" -w '%{http_code}' "http://127.0.0.1:$hport/metrics")
[ "$code" = 200 ] || die "GET /metrics answered $code"
say "   /metrics: $(wc -c <"$work/first.txt") bytes, $(grep -c '^trapline_' "$work/first.txt") series"
taskset -c $CCPU timeout $((warm + 30)) "$work/qblast" -s 127.0.0.1 -p "$port" -d "$work/queries.txt" \
	-l "$warm" -q 100 >"$work/warm.out" 2>&1 || die "qblast warm-up failed"

# ------------------------------------------------------------------ the runs
# The scraper: GET /metrics every second until killed; counts the 200s.
scraper() {
	local n=0 code
	while :; do
		code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "http://127.0.0.1:$hport/metrics" || true)
		[ "$code" = 200 ] && n=$((n + 1)) && echo "$n" >"$work/scrapes"
		sleep 1
	done
}
declare -A QPS US
run() { # mode(off|on) pair
	local mode=$1 p=$2 attempt c0 c1 b0 b1 t0 t1 res qcpu foreign mark="" scr=- spid_s="" allow
	for attempt in 1 2 3; do
		wait_quiet
		echo 0 >"$work/scrapes"
		if [ "$mode" = on ]; then
			taskset -c $CCPU bash -c "$(declare -f scraper); hport=$hport work=$work; scraper" &
			spid_s=$!; pids+=("$spid_s")
		fi
		c0=$(ticks "$spid") b0=$(stat_busy) t0=$EPOCHREALTIME
		taskset -c $CCPU timeout $((dsecs + 30)) "$work/qblast" -s 127.0.0.1 -p "$port" \
			-d "$work/queries.txt" -l "$dsecs" -q 100 >"$work/qblast.out" 2>&1 ||
			{ cat "$work/qblast.out" >&2; die "qblast failed"; }
		c1=$(ticks "$spid") b1=$(stat_busy) t1=$EPOCHREALTIME
		if [ -n "$spid_s" ]; then stop "$spid_s"; spid_s=""; scr=$(cat "$work/scrapes"); fi
		res=$work/qblast.out
		qcpu=$(field cpu_s "$res")
		# others: CPU neither the server nor qblast used (the scraper's curl counts as others)
		foreign=$(awk -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v k="$TCK" -v q="$qcpu" -v a="$t0" -v z="$t1" \
			'BEGIN{f=100*((b-c)/k-q)/(z-a); printf "%.0f", f<0 ? 0 : f}')
		mark=""
		# a with-run's own scraper uses a little CPU: allow it 3% more
		allow=$max_foreign
		[ "$mode" = on ] && allow=$((max_foreign + 3))
		[ "$foreign" -le "$allow" ] && break
		mark="!"
		[ $attempt -lt 3 ] && say "   ($mode run disturbed: others used $foreign% of a core; repeating)"
	done
	local qps comp us
	qps=$(awk -v v="$(field qps "$res")" 'BEGIN{printf "%.0f", v}')
	comp=$(field completed "$res")
	us=$(awk -v c=$((c1 - c0)) -v k="$TCK" -v n="$comp" 'BEGIN{if (n > 0) printf "%.3f", 1e6*c/k/n; else print "-"}')
	QPS[$mode/$p]=$qps US[$mode/$p]=$us
	say "$(printf '   %-3s qps %7s  server %6s us/query  scrapes %3s  lost %s  others %s%% %s' \
		"$mode" "$qps" "$us" "$scr" "$(field lost "$res")" "$foreign" "$mark")"
}
for p in $(seq 1 "$pairs"); do
	say "-- pair $p"
	if [ $((p % 2)) = 1 ]; then run off "$p"; run on "$p"; else run on "$p"; run off "$p"; fi
done
curl -s -o "$work/last.txt" "http://127.0.0.1:$hport/metrics"
stop "$wpid"

# ------------------------------------------------------------------ figures
offs=() ons=() uoffs=() uons=() prs=()
for p in $(seq 1 "$pairs"); do
	offs+=("${QPS[off/$p]}") ons+=("${QPS[on/$p]}") uoffs+=("${US[off/$p]}") uons+=("${US[on/$p]}")
	prs+=("$(awk -v a="${QPS[on/$p]}" -v b="${QPS[off/$p]}" 'BEGIN{printf "%.3f", (b > 0 ? a/b : 0)}')")
done
qo=$(median "${offs[@]}") qn=$(median "${ons[@]}")
uo=$(median "${uoffs[@]}") un=$(median "${uons[@]}")
say ""
say "medians of $pairs pairs:"
say "$(printf '   %-34s %10s %10s %8s' figure without with ratio)"
say "$(printf '   %-34s %10s %10s %8s' "max qps" "$qo" "$qn" "$(awk -v a="$qn" -v b="$qo" 'BEGIN{printf "%.3f", a/b}')")"
say "$(printf '   %-34s %10s %10s %8s' "server us/query" "$uo" "$un" "$(awk -v a="$un" -v b="$uo" 'BEGIN{printf "%.3f", a/b}')")"
say "   per-pair qps ratios: ${prs[*]} (median $(median "${prs[@]}"))"
say "   queries counted at the end: $(awk '$1 ~ /^trapline_dns_queries_total\{/ {s += $2} END {print s}' "$work/last.txt")"
say "ratio with/without (max qps) = $(awk -v a="$qn" -v b="$qo" 'BEGIN{printf "%.3f", a/b}') (target >= 0.98)"
if [ $save = 1 ]; then
	mkdir -p "$root/bench/results"
	cp "$log" "$root/bench/results/"
	echo "log: bench/results/$(basename "$log")"
else
	echo "log: ${log#"$root"/}"
fi
