#!/usr/bin/env bash
# dns.sh - Trapline's DNS server side by side with rbldnsd: load time, throughput, latency,
# memory, and --threads 2 against --threads 1; prints a summary table and keeps it in bench/out/.
#
#   bench/dns.sh [--size N] [--runs N] [--seconds S] [--quick] [--no-build] [--keep]
#
#   --size N     entries in the generated zone (default 1000000; same seeds as ANCHORS.md)
#   --runs N     runs per server and figure, medians reported (default 3)
#   --seconds S  length of each full-load run (default 10)
#   --quick      100k entries, 1 run of 3 s, no udp_echo ceiling: for trying the script
#   --no-build   use build/trapline as it is (default: configure and build it, RelWithDebInfo)
#   --keep       keep the temporary directory
#   Env: TRAPLINE (binary to test, default build/trapline), BUILD_DIR (default build).
#
# Servers run on cpu 0 and qblast on cpu 1, on loopback ports picked free. Every process
# started here is stopped by PID on exit. The generated data is cached in bench/out/data-N.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export BENCH_DIR=$here # anchor-dns.sh finds qblast.c and gen.py beside this script

size=1000000 runs=3 secs=10 quick=0 build=1 keep=0 quiet_tries=12
ZONE=bl.example.org SCPU=0 CCPU=1 NQ=500000

die() { echo "dns.sh: $*" >&2; exit 2; }
num() { [[ ${2:-} =~ ^[0-9]+$ ]] || die "$1 needs a number"; }
args=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	--size) num "$1" "${2:-}"; size=$2; shift 2 ;;
	--runs) num "$1" "${2:-}"; runs=$2; shift 2 ;;
	--seconds) num "$1" "${2:-}"; secs=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--no-build) build=0; shift ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
anchor_opts=()
if [ $quick = 1 ]; then
	size=100000 runs=1 secs=3 NQ=100000 quiet_tries=2
	anchor_opts=(--warmup 1 --no-echo --quiet-wait 10)
fi
[ "$runs" -ge 1 ] && [ "$runs" -le 9 ] || die "--runs must be 1..9"
[ "$secs" -ge 1 ] && [ "$secs" -le 120 ] || die "--seconds must be 1..120"
[ "$size" -ge 1 ] && [ "$size" -le 50000000 ] || die "--size must be 1..50000000"

for t in python3 taskset dig rbldnsd cc cmake ss; do
	command -v "$t" >/dev/null || die "$t not found (scripts/deps.sh --test installs what is needed)"
done

# ------------------------------------------------------------------ workspace, cleanup
work=$(mktemp -d "${TMPDIR:-/tmp}/trapline-bench.XXXXXX")
chmod 755 "$work" # rbldnsd drops to its own user and must read its data here
pids=()
cleanup() {
	local p
	for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
	if [ $keep = 1 ]; then echo "dns.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
forget() { # drop a stopped PID from the list, so cleanup never signals a reused one
	local p rest=()
	for p in "${pids[@]+"${pids[@]}"}"; do [ "$p" = "$1" ] || rest+=("$p"); done
	pids=("${rest[@]+"${rest[@]}"}")
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }

log=$work/log.txt
say() { echo "$*" | tee -a "$log" >&2; }

# ------------------------------------------------------------------ build
build_dir=${BUILD_DIR:-$root/build}
bin=${TRAPLINE:-$build_dir/trapline}
if [ $build = 1 ] && [ -z "${TRAPLINE:-}" ]; then
	say "== building trapline (RelWithDebInfo) in $build_dir"
	cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build_dir" -j "$(nproc)" --target trapline >/dev/null
fi
[ -x "$bin" ] || die "$bin not found or not executable (build it, or set TRAPLINE)"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)

# ------------------------------------------------------------------ data
data=$root/bench/out/data-$size
mkdir -p "$root/bench/out"
"$here/anchor-dns.sh" --gen-only "$data" --queries "$NQ" "$size" >/dev/null
[ -s "$data/zone.rbldnsd" ] && [ -s "$data/zone.trapline" ] || die "no data in $data"
# rbldnsd runs as its own user: give it copies it can read wherever the tree is
cp "$data/zone.rbldnsd" "$data/zone.trapline" "$work/" && chmod 644 "$work"/zone.*

# ------------------------------------------------------------------ ports
# Five consecutive ports free for UDP and TCP: trapline, trapline --threads 2, rbldnsd and
# anchor-dns.sh's rbldnsd/udp_echo/nsd (which take P, P+1, P+2).
free_ports() {
	python3 - <<-'EOF'
	import socket
	for _ in range(200):
	    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
	    p = s.getsockname()[1]; s.close()
	    if p + 5 > 65535: continue
	    held = []
	    try:
	        for i in range(5):
	            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
	                x = socket.socket(socket.AF_INET, kind); held.append(x); x.bind(("127.0.0.1", p + i))
	    except OSError:
	        continue
	    finally:
	        for x in held: x.close()
	    print(p); break
	EOF
}
P=$(free_ports)
[ -n "$P" ] || die "no free ports"
T1_PORT=$P T2_PORT=$((P + 1)) RBL_PORT=$((P + 2))

# ------------------------------------------------------------------ helpers
TCK=$(getconf CLK_TCK)
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}'; }
median() { printf '%s\n' "$@" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{if (!NR) print "-"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a/b; else print "-"}'; }
vm_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
ticks() { local s; s=$(cut -d')' -f2- "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }; set -- $s; echo $((${12} + ${13})); }
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
wait_quiet() { # at most 60 s (10 s with --quick), until other processes use under 5% of a core
	local i b0 b1
	for i in $(seq 1 "$quiet_tries"); do
		b0=$(busy_ticks); sleep 1; b1=$(busy_ticks)
		[ $(((b1 - b0) * 100 / TCK)) -le 5 ] && return 0
		sleep 4
	done
	say "   (machine busy: going on anyway)"
}

# Waits until PORT answers the RFC 5782 test point with 127.0.0.2 (dig every 10 ms).
# Fails if pid dies or after 600 s.
wait_answer() { # port pid
	local r n=0
	while :; do
		r=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "2.0.0.127.$ZONE" A 2>/dev/null || true)
		[ "$r" = 127.0.0.2 ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		n=$((n + 1)); [ $n -gt 60000 ] && return 1
		sleep 0.01
	done
}

start_trapline() { # port threads file -> sets SPID
	local d
	d=$(mktemp -d "$work/var.XXXXXX")
	taskset -c $SCPU "$bin" serve --threads "$2" --dns "127.0.0.1:$1" --static "$3" --data "$d" \
		--log-level warn >>"$work/trapline.log" 2>&1 &
	SPID=$!; pids+=("$SPID")
}
start_rbldnsd() { # port file -> sets SPID (the way anchor-dns.sh starts it)
	local uopt=()
	[ "$(id -u)" = 0 ] && uopt=(-u rbldns)
	# shellcheck disable=SC2086
	taskset -c $SCPU rbldnsd -n "${uopt[@]}" -b "127.0.0.1/$1" -c 0 ${RBLDNSD_OPTS:-} -w "$work" \
		"$ZONE:ip4set:$(basename "$2")" >>"$work/rbldnsd.log" 2>&1 &
	SPID=$!; pids+=("$SPID")
}

# ------------------------------------------------------------------ header
hdr() {
	echo "== trapline vs rbldnsd, $(date -u +%Y-%m-%dT%H:%MZ): $size entries, $runs run(s), ${secs}s each"
	echo "   command: bench/dns.sh ${args[*]}"
	echo "   trapline: $bin (git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?), build ${build_type:-?}); rbldnsd $(dpkg-query -W -f='${Version}' rbldnsd 2>/dev/null || echo ?)"
	echo "   machine: $(nproc) cpus ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)"
	echo "   servers on cpu $SCPU, qblast on cpu $CCPU; data in $data"
}
hdr | tee -a "$log" >&2

# ------------------------------------------------------------------ 1. load time and RSS
# Interleaved trapline, rbldnsd, trapline, ...; each time from exec to the first correct
# answer; VmRSS read 0.5 s after that answer, VmHWM (peak) with it, and RssAnon: the memory
# the process has for itself (heap, stacks, written pages), without the pages of its shared
# libraries' files, which every process using them shares (Trapline links 36 of them).
declare -A LOAD RSS HWM ANON
load_one() { # server file port
	local t0 s
	wait_quiet
	t0=$EPOCHREALTIME
	if [ "$1" = trapline ]; then start_trapline "$3" 1 "$work/$2"; else start_rbldnsd "$3" "$work/$2"; fi
	if ! wait_answer "$3" "$SPID"; then
		tail -20 "$work/$1.log" >&2
		die "$1 did not answer 2.0.0.127.$ZONE with 127.0.0.2 after loading $2"
	fi
	s=$(elapsed "$t0")
	sleep 0.5
	LOAD[$1/$2]+="$s " RSS[$1/$2]+="$(vm_kb "$SPID" VmRSS) " HWM[$1/$2]+="$(vm_kb "$SPID" VmHWM) "
	ANON[$1/$2]+="$(vm_kb "$SPID" RssAnon) "
	say "   $(printf '%-8s %-14s %6.3f s  VmRSS %6.1f MiB  VmHWM %6.1f MiB  RssAnon %6.1f MiB' "$1" "$2" "$s" \
		"$(awk -v k="$(vm_kb "$SPID" VmRSS)" 'BEGIN{print k/1024}')" "$(awk -v k="$(vm_kb "$SPID" VmHWM)" 'BEGIN{print k/1024}')" \
		"$(awk -v k="$(vm_kb "$SPID" RssAnon)" 'BEGIN{print k/1024}')")"
	stop "$SPID"
}
say "== 1. load time (exec to first correct answer) and memory after load"
for f in zone.rbldnsd zone.trapline; do
	for i in $(seq 1 "$runs"); do
		load_one trapline "$f" "$T1_PORT"
		load_one rbldnsd "$f" "$RBL_PORT"
	done
done

# ------------------------------------------------------------------ 2. throughput and latency
say "== 2. throughput and latency: anchor-dns.sh, trapline --threads 1 and rbldnsd interleaved"
start_trapline "$T1_PORT" 1 "$work/zone.rbldnsd"; TPID=$SPID
wait_answer "$T1_PORT" "$TPID" || die "trapline did not come up"
"$here/anchor-dns.sh" --data "$data" --target "127.0.0.1:$T1_PORT" --target-pid "$TPID" \
	--port "$RBL_PORT" --runs "$runs" --seconds "$secs" --queries "$NQ" \
	"${anchor_opts[@]+"${anchor_opts[@]}"}" "$size" >"$work/anchor.txt" 2>&1 &
APID=$!; pids+=("$APID")
tail -n +1 --pid="$APID" -f "$work/anchor.txt" >&2 || true
arc=0; wait "$APID" || arc=$?; forget "$APID"
cat "$work/anchor.txt" >>"$log"
[ $arc = 0 ] || die "anchor-dns.sh failed (exit $arc)"
TRSS_AFTER=$(vm_kb "$TPID" VmRSS)
stop "$TPID"
# anchor-dns.sh's summary lines: label, qps, p99, p50/p99@lat, srv cpu, qblast cpu, us/query, RSS
aline() { awk -v l="$1" '$1==l && $2 ~ /^[0-9]/' "$work/anchor.txt" | tail -1; }
afield() { aline "$1" | awk -v n="$2" '{print $n}'; }

# ------------------------------------------------------------------ 3. threads 2 vs 1
say "== 3. trapline --threads 1 vs --threads 2 (both on cpu $SCPU; qblast on cpu $CCPU with 1 and 2 sockets)"
cc -O2 -o "$work/qblast" "$here/qblast.c"
start_trapline "$T1_PORT" 1 "$work/zone.rbldnsd"; P1=$SPID
start_trapline "$T2_PORT" 2 "$work/zone.rbldnsd"; P2=$SPID
wait_answer "$T1_PORT" "$P1" || die "trapline --threads 1 did not come up"
wait_answer "$T2_PORT" "$P2" || die "trapline --threads 2 did not come up"
declare -A TQPS TP99 TUS
trun() { # threads sockets seconds [warm]; a run that others disturbed (> 5% of a core) is repeated twice at most
	local port=$T1_PORT pid=$P1 other=$P2 c0 o0 b0 t0 c1 o1 b1 t1 res comp qps p99 us foreign attempt mark=""
	[ "$1" = 2 ] && port=$T2_PORT pid=$P2 other=$P1
	for attempt in 1 2 3; do
		[ "${4:-}" = warm ] || wait_quiet
		c0=$(ticks "$pid") o0=$(ticks "$other") b0=$(busy_ticks) t0=$EPOCHREALTIME
		res=$(taskset -c $CCPU "$work/qblast" -s 127.0.0.1 -p "$port" -d "$data/queries.txt" -l "$3" -q 100 \
			-c "$2" 2>&1 | grep '^RESULT ') || die "qblast failed against trapline --threads $1"
		c1=$(ticks "$pid") o1=$(ticks "$other") b1=$(busy_ticks) t1=$EPOCHREALTIME
		[ "${4:-}" = warm ] && return 0
		foreign=$(awk -v b=$((b1 - b0)) -v c=$((c1 - c0 + o1 - o0)) -v k="$TCK" -v a="$t0" -v z="$t1" \
			-v q="$(echo "$res" | sed 's/.* cpu_s=\([0-9.]*\).*/\1/')" 'BEGIN{f=100*((b-c)/k-q)/(z-a); printf "%.0f", f<0 ? 0 : f}')
		mark=""
		[ "$foreign" -le 5 ] && break
		mark="!"
		[ $attempt -lt 3 ] && say "   (threads $1 -c $2 run disturbed: others used ${foreign}% of a core; repeating)"
	done
	qps=$(echo "$res" | sed 's/.* qps=\([0-9.]*\).*/\1/')
	p99=$(echo "$res" | sed 's/.* p99_us=\([0-9.]*\).*/\1/')
	comp=$(echo "$res" | sed 's/.* completed=\([0-9]*\).*/\1/')
	us=$(awk -v c=$((c1 - c0)) -v k="$TCK" -v n="$comp" 'BEGIN{printf "%.2f", n ? 1e6*c/k/n : 0}')
	TQPS[$1/$2]+="$qps " TP99[$1/$2]+="$p99 " TUS[$1/$2]+="$us "
	say "   $(printf 'threads %s, qblast -c %s: qps %7.0f  p99 %6.0f us  server us/query %s  others %s%% %s' \
		"$1" "$2" "$qps" "$p99" "$us" "$foreign" "$mark")"
}
trun 1 1 2 warm; trun 2 1 2 warm
for i in $(seq 1 "$runs"); do
	for c in 1 2; do trun 1 "$c" "$secs"; trun 2 "$c" "$secs"; done
done
stop "$P1"; stop "$P2"

# ------------------------------------------------------------------ summary
int() { awk -v v="$1" 'BEGIN{if (v ~ /^[0-9.]+$/) printf "%.0f", v; else print "-"}'; }
mib() { awk -v k="$1" 'BEGIN{if (k ~ /^[0-9.]+$/) printf "%.1f", k/1024; else print "-"}'; }
row() { printf '%-40s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
summary() {
	local tl rl k
	echo
	echo "summary: medians; ratio = trapline / rbldnsd (for qps higher is better, for time, memory, latency and us/query lower is better)"
	printf '%-40s %12s %12s %8s\n' figure trapline rbldnsd ratio
	for f in zone.rbldnsd zone.trapline; do
		row "load time, $f (s)" "$(median ${LOAD[trapline/$f]})" "$(median ${LOAD[rbldnsd/$f]})"
	done
	row "VmRSS after load, zone.rbldnsd (MiB)" "$(mib "$(median ${RSS[trapline/zone.rbldnsd]})")" "$(mib "$(median ${RSS[rbldnsd/zone.rbldnsd]})")"
	row "RssAnon after load, zone.rbldnsd (MiB)" "$(mib "$(median ${ANON[trapline/zone.rbldnsd]})")" "$(mib "$(median ${ANON[rbldnsd/zone.rbldnsd]})")"
	row "VmHWM (peak) during load (MiB)" "$(mib "$(median ${HWM[trapline/zone.rbldnsd]})")" "$(mib "$(median ${HWM[rbldnsd/zone.rbldnsd]})")"
	row "VmRSS after the load runs (MiB)" "$(mib "$TRSS_AFTER")" "$(afield rbldnsd 8 | sed 's/MiB//')"
	row "max qps (1 thread, cpu 0)" "$(afield target 2)" "$(afield rbldnsd 2)"
	row "p99 at max qps (us)" "$(afield target 3)" "$(afield rbldnsd 3)"
	tl=$(afield target 4) rl=$(afield rbldnsd 4)
	row "p50 at 100k qps (us)" "${tl%/*}" "${rl%/*}"
	row "p99 at 100k qps (us)" "${tl#*/}" "${rl#*/}"
	row "server CPU at max qps (%)" "$(afield target 5)" "$(afield rbldnsd 5)"
	row "qblast CPU at max qps (%)" "$(afield target 6)" "$(afield rbldnsd 6)"
	row "server CPU per query (us)" "$(afield target 7)" "$(afield rbldnsd 7)"
	[ -n "$(aline udp_echo)" ] && printf '%-40s %12s   (the most any server reaches here)\n' "udp_echo ceiling qps" "$(afield udp_echo 2)"
	grep -E '^(ratio|WARNING|NOTE)' "$work/anchor.txt" || true
	echo
	echo "trapline --threads 2 vs --threads 1, server pinned to cpu $SCPU, qblast on cpu $CCPU; ratio = threads 2 / threads 1"
	printf '%-40s %12s %12s %8s\n' figure "threads 2" "threads 1" ratio
	for c in 1 2; do
		row "qps, qblast -c $c ($c socket(s))" "$(int "$(median ${TQPS[2/$c]})")" "$(int "$(median ${TQPS[1/$c]})")"
		row "p99 at max, qblast -c $c (us)" "$(int "$(median ${TP99[2/$c]})")" "$(int "$(median ${TP99[1/$c]})")"
		row "server CPU per query, qblast -c $c (us)" "$(median ${TUS[2/$c]})" "$(median ${TUS[1/$c]})"
	done
}
out=$root/bench/out/dns-$(date +%Y%m%d-%H%M).txt
{ hdr; summary; } >"$out.tmp"
summary >&2
{ cat "$out.tmp"; echo; echo "---- full log"; cat "$log"; } >"$out"
rm -f "$out.tmp"
echo "dns.sh: summary and log written to ${out#"$root"/}" >&2
