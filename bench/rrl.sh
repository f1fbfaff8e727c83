#!/usr/bin/env bash
# rrl.sh - DNS qps with response rate limiting on (no client limited) against off, side by
# side in ABBA pairs on one build, reported as the ratio on / off (issue 22: at least 0.98).
#
#   bench/rrl.sh [--quick] [--pairs N] [--seconds S] [--no-save]
#
#   --pairs N    pairs, off-on then on-off and so on (default 6)
#   --seconds S  length of each full-load run (default 10)
#   --quick      100k entries, 3 s runs, 1 pair: for trying the script (log not saved)
#   --no-save    do not copy the log into bench/results/
#   Env: TRAPLINE (default build/trapline, as it is: build it first).
#
# The setup of ab.sh's DNS figure: trapline serve --static of dns.sh's 1M-entry zone, one
# worker on cpu 0, qblast on cpu 1 at full load (-q 100) with dns.sh's 500,000 queries. "Off"
# is rrl_rate = 0 (the workers never look at the client's address); "on" is the default
# rrl_rate = 20 with rrl_exempt emptied, so that every answer goes through the shared table
# (the loopback, exempt by default, would skip it). qblast sends from one address and many
# ports: one client prefix, but 500,000 different names sent round robin, so each bucket
# (prefix, class, name) sees one answer every 500000/qps seconds, far under 20 a second: no
# answer is limited, which the server's own count at stop (rrl_dropped, rrl_slipped) shows
# in the log. Loopback only, bounded by timeouts, every process stopped by PID on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export BENCH_DIR=$here
args=("$@")
die() { echo "rrl.sh: $*" >&2; exit 2; }
pairs=6 secs=10 quick=0 save=1 size=1000000 NQ=500000 warm=3
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--pairs) [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 20 ] || die "--pairs needs 1..20"
		pairs=$2; shift 2 ;;
	--seconds) [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 120 ] || die "--seconds needs 1..120"
		secs=$2; shift 2 ;;
	--no-save) save=0; shift ;;
	-h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
[ $quick = 1 ] && { size=100000 NQ=100000 secs=3 warm=1 pairs=1 save=0; }
# shellcheck disable=SC2034 # read by quiet.sh's wait_quiet
max_foreign=5 quiet_wait=60
SCPU=0 CCPU=1 ZONE=bl.example.org
for t in python3 taskset timeout dig cc ps; do
	command -v "$t" >/dev/null || die "$t not found (scripts/deps.sh --test installs what is needed)"
done
bin=${TRAPLINE:-$root/build/trapline}
[ -x "$bin" ] || die "$bin not found: build it first (cmake --build build)"

# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=quiet.sh
. "$here/quiet.sh"
bench_work trapline-rrl
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

data=$root/bench/out/data-$size
mkdir -p "$root/bench/out"
"$here/anchor-dns.sh" --gen-only "$data" --queries "$NQ" "$size" >/dev/null
[ -s "$data/zone.rbldnsd" ] && [ -s "$data/queries.txt" ] || die "no data in $data"
cp "$data/zone.rbldnsd" "$work/zone" && chmod 644 "$work/zone"
cc -O2 -o "$work/qblast" "$here/qblast.c" -lpthread
printf 'rrl_rate = 0\n' >"$work/off.conf"
printf 'rrl_rate = 20\nrrl_exempt =\n' >"$work/on.conf"

log=$work/log.txt
say() { echo "$*" | tee -a "$log" >&2; }
field() { grep '^RESULT' "$2" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p" | tail -1; }
median() { printf '%s\n' "$@" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{if (!NR) print "-"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
free_port() {
	python3 -c 'import socket
for _ in range(100):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); p = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        u.close(); t.close()'
}
wait_answer() { # port pid
	local r n=0
	while :; do
		r=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "2.0.0.127.$ZONE" A 2>/dev/null || true)
		[ "$r" = 127.0.0.2 ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		n=$((n + 1)); [ $n -gt 30000 ] && return 1
		sleep 0.01
	done
}

{
	echo "== RRL on (rrl_rate 20, rrl_exempt empty, no client limited) vs off (rrl_rate 0), $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "   command: bench/rrl.sh ${args[*]}"
	echo "   trapline: $bin (git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?))"
	echo "   machine: $(nproc) cpus ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)"
	echo "   $size entries, $NQ queries round robin, $pairs ABBA pairs of ${secs}s runs; server on cpu $SCPU, qblast on cpu $CCPU"
} | tee -a "$log" >&2

TCK=$(getconf CLK_TCK)
ticks() { local s; s=$(cut -d')' -f2- "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }; set -- $s; echo $((${12} + ${13})); }
child_of() { # the process timeout started: the server itself, whose CPU time we read
	local c i
	for i in $(seq 1 200); do
		c=$(ps -o pid= --ppid "$1" 2>/dev/null | head -1 | tr -d ' ')
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.005
	done
	return 1
}

declare -A QPS US
run() { # side pair
	local side=$1 p=$2 port d spid tpid res qps c0 c1 us
	port=$(free_port)
	d=$(mktemp -d "$work/var.XXXXXX")
	taskset -c $SCPU timeout -k 5 $((secs + warm + 600)) "$bin" serve --config "$work/$side.conf" \
		--static "$work/zone" --threads 1 --dns "127.0.0.1:$port" --data "$d" --smtp off \
		--http off --log-level info >"$work/server.log" 2>&1 &
	tpid=$!; pids+=("$tpid")
	spid=$(child_of "$tpid") || die "trapline ($side) did not start"
	wait_answer "$port" "$spid" || { tail -20 "$work/server.log" >&2; die "trapline ($side) did not come up"; }
	taskset -c $CCPU timeout -k 5 $((warm + 30)) "$work/qblast" -s 127.0.0.1 -p "$port" \
		-d "$data/queries.txt" -l "$warm" -q 100 >/dev/null 2>&1 || die "qblast warm-up failed"
	wait_quiet
	res=$work/qblast.out
	c0=$(ticks "$spid")
	taskset -c $CCPU timeout -k 5 $((secs + 30)) "$work/qblast" -s 127.0.0.1 -p "$port" \
		-d "$data/queries.txt" -l "$secs" -q 100 >"$res" 2>&1 || { cat "$res" >&2; die "qblast failed"; }
	c1=$(ticks "$spid")
	stop "$tpid"
	qps=$(awk -v v="$(field qps "$res")" 'BEGIN{printf "%.0f", v}')
	us=$(awk -v c=$((c1 - c0)) -v k="$TCK" -v n="$(field completed "$res")" 'BEGIN{printf "%.3f", (n > 0 ? 1e6*c/k/n : 0)}')
	QPS[$side/$p]=$qps US[$side/$p]=$us
	say "$(printf '   pair %d %-3s qps %7s  server %s us/query  lost %s  p99 %s us  %s' "$p" "$side" "$qps" "$us" \
		"$(field lost "$res")" "$(field p99_us "$res")" \
		"$(grep -o 'rrl_dropped=[0-9]* rrl_slipped=[0-9]*' "$work/server.log" || echo '(rrl off)')")"
}

for p in $(seq 1 "$pairs"); do
	if [ $((p % 2)) = 1 ]; then run off "$p"; run on "$p"; else run on "$p"; run off "$p"; fi
done

ratios=() ons=() offs=() uratios=() uons=() uoffs=()
for p in $(seq 1 "$pairs"); do
	ons+=("${QPS[on/$p]}") offs+=("${QPS[off/$p]}") uons+=("${US[on/$p]}") uoffs+=("${US[off/$p]}")
	ratios+=("$(awk -v a="${QPS[on/$p]}" -v b="${QPS[off/$p]}" 'BEGIN{printf "%.3f", a/b}')")
	uratios+=("$(awk -v a="${US[off/$p]}" -v b="${US[on/$p]}" 'BEGIN{printf "%.3f", (b > 0 ? a/b : 0)}')")
done
mon=$(median "${ons[@]}") moff=$(median "${offs[@]}")
uon=$(median "${uons[@]}") uoff=$(median "${uoffs[@]}")
{
	echo "== result (above 1: on is faster)"
	echo "   qps median: on $mon, off $moff; on/off $(awk -v a="$mon" -v b="$moff" 'BEGIN{printf "%.3f", a/b}')"
	echo "   per-pair qps on/off: ${ratios[*]} (median $(median "${ratios[@]}"))"
	echo "   server us/query median: on $uon, off $uoff; off/on (the qps it allows) $(awk -v a="$uoff" -v b="$uon" 'BEGIN{printf "%.3f", a/b}')"
	echo "   per-pair us/query off/on: ${uratios[*]} (median $(median "${uratios[@]}"))"
} | tee -a "$log" >&2

if [ $save = 1 ]; then
	out=$root/bench/results/$(date -u +%Y-%m-%d)-$(git -C "$root" rev-parse --short=7 HEAD)-rrl.txt
	cp "$log" "$out"
	echo "rrl.sh: log in $out" >&2
fi
