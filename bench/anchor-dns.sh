#!/usr/bin/env bash
# anchor-dns.sh - measure the DNS anchor (rbldnsd) and the machine's UDP
# ceiling (udp_echo) with qblast, optionally NSD, and optionally a target
# server (Trapline) side by side with rbldnsd, reported as a ratio.
#
#   bench/anchor-dns.sh [SIZE]                    rbldnsd + udp_echo, SIZE entries (default 1000000)
#   bench/anchor-dns.sh --nsd 100000              ... and NSD on the same data (BIND zone file)
#   bench/anchor-dns.sh --gen-only DIR 100000     write the data (every format) to DIR and exit
#   bench/anchor-dns.sh --data DIR --target 127.0.0.1:5353 [--target-pid PID] 100000
#                                                 rbldnsd and the running target, runs interleaved;
#                                                 the last line is "ratio target/rbldnsd = X.XX"
# Options: --runs N (3)  --seconds S (10)  --warmup S (3)  --queries N (500000)  -q N (qblast
#   outstanding, 100)  --server-cpu C (0)  --client-cpu C (1)  --no-echo  --port P (5300)
#   --keep (keep the temp dir)  --max-foreign PCT (5)  --quiet-wait S (60)
#   --lat-qps Q (100000; 0 = skip): after the throughput runs, each server also gets $runs
#   runs of 5 s at a fixed Q queries/s, whose p50/p99 are the latency figures to compare
#   (at saturation p99 is mostly queueing: outstanding / qps).
#   Env: RBLDNSD_OPTS (extra rbldnsd flags, e.g. -a), BENCH_DIR.
#
# Noise: before each run the script waits (at most --quiet-wait s) until processes other
# than its own use under --max-foreign % of one core; a run during which they used more
# is repeated (twice at most) and marked '!' if still disturbed.
#
# The target must serve zone bl.example.org from the same data: generate it with --gen-only
# (or gen.py with the seeds printed below) and start it pinned to the server CPU
# (taskset -c 0) before running this.  Every server and load run here is on loopback only,
# bounded in time, and everything started is stopped by PID at exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_DIR:-}
if [ -z "$bench" ]; then
	for d in "$here" "$here/../shared/bench" "$here/../../shared/bench" "$here/../bench"; do
		if [ -f "$d/qblast.c" ]; then bench=$(cd "$d" && pwd); break; fi
	done
fi
[ -n "$bench" ] && [ -f "$bench/qblast.c" ] || { echo "anchor-dns: cannot find shared/bench (set BENCH_DIR)" >&2; exit 2; }

size=1000000 runs=3 secs=10 warm=3 nq=500000 outq=100 scpu=0 ccpu=1
port=5300 echo_port=5301 nsd_port=5302
do_nsd=0 do_echo=1 keep=0 gen_only="" data="" target="" target_pid=""
max_foreign=5 quiet_wait=60 lat_qps=100000 lat_secs=5
ZONE=bl.example.org ZSEED=1 QSEED=2 HIT=0.3 TYPES=A,TXT

die() { echo "anchor-dns: $*" >&2; exit 2; }
num() { [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a number, got '$2'"; }
while [ $# -gt 0 ]; do
	case $1 in
	--runs) num "$1" "${2:-}"; runs=$2; shift 2 ;;
	--seconds) num "$1" "${2:-}"; secs=$2; shift 2 ;;
	--warmup) num "$1" "${2:-}"; warm=$2; shift 2 ;;
	--queries) num "$1" "${2:-}"; nq=$2; shift 2 ;;
	-q) num "$1" "${2:-}"; outq=$2; shift 2 ;;
	--server-cpu) num "$1" "${2:-}"; scpu=$2; shift 2 ;;
	--client-cpu) num "$1" "${2:-}"; ccpu=$2; shift 2 ;;
	--port) num "$1" "${2:-}"; port=$2; echo_port=$((port + 1)); nsd_port=$((port + 2)); shift 2 ;;
	--nsd) do_nsd=1; shift ;;
	--no-echo) do_echo=0; shift ;;
	--keep) keep=1; shift ;;
	--max-foreign) num "$1" "${2:-}"; max_foreign=$2; shift 2 ;;
	--quiet-wait) num "$1" "${2:-}"; quiet_wait=$2; shift 2 ;;
	--lat-qps) num "$1" "${2:-}"; lat_qps=$2; shift 2 ;;
	--gen-only) gen_only=${2:-}; [ -n "$gen_only" ] || die "--gen-only needs a directory"; shift 2 ;;
	--data) data=${2:-}; [ -n "$data" ] || die "--data needs a directory"; shift 2 ;;
	--target) target=${2:-}; shift 2 ;;
	--target-pid) num "$1" "${2:-}"; target_pid=$2; shift 2 ;;
	-h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) num size "$1"; size=$1; shift ;;
	esac
done
[ "$size" -ge 1 ] && [ "$size" -le 50000000 ] || die "size must be 1..50000000"
[ "$runs" -ge 1 ] && [ "$runs" -le 9 ] || die "--runs must be 1..9"
[ "$secs" -ge 1 ] && [ "$secs" -le 120 ] || die "--seconds must be 1..120"
[ "$warm" -le 60 ] || die "--warmup must be <= 60"
[ "$nq" -ge 1000 ] && [ "$nq" -le 20000000 ] || die "--queries must be 1000..20000000"
if [ -n "$target" ]; then
	[[ $target =~ ^(127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\]|::1|localhost):([0-9]+)$ ]] ||
		die "--target must be a loopback HOST:PORT (127.x.x.x:PORT or [::1]:PORT), got '$target'"
	thost=${BASH_REMATCH[1]} tport=${BASH_REMATCH[2]}
	thost=${thost#[}; thost=${thost%]}; [ "$thost" = localhost ] && thost=127.0.0.1
fi

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (apt-get install -y $2)"; }
need python3 python3; need taskset util-linux
if [ -z "$gen_only" ]; then
	need cc gcc; need dig bind9-dnsutils; need rbldnsd rbldnsd
	[ $do_nsd = 1 ] && need nsd nsd
fi

# ------------------------------------------------------------------ workspace
work=$(mktemp -d "${TMPDIR:-/tmp}/anchor-dns.XXXXXX")
chmod 755 "$work" # rbldnsd drops to its own user and must read the data
pids=()
cleanup() {
	local p
	for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
	if [ $keep = 1 ]; then echo "anchor-dns: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ data
gen() { python3 "$bench/gen.py" "$@"; }
make_data() { # dir
	local d=$1 stamp="size=$size zseed=$ZSEED qseed=$QSEED nq=$nq hit=$HIT types=$TYPES"
	mkdir -p "$d"
	if [ -f "$d/STAMP" ] && [ "$(cat "$d/STAMP")" = "$stamp" ]; then return; fi
	echo "== generating $size entries and $nq queries in $d" >&2
	gen zone --count "$size" --seed $ZSEED --zone $ZONE --format rbldnsd >"$d/zone.rbldnsd"
	gen zone --count "$size" --seed $ZSEED --zone $ZONE --format trapline-list >"$d/zone.trapline"
	if [ -n "$gen_only" ] || [ $do_nsd = 1 ]; then
		gen zone --count "$size" --seed $ZSEED --zone $ZONE --format bind >"$d/zone.bind"
	fi
	gen queries --from "$d/zone.rbldnsd" --zone $ZONE --hit $HIT --count "$nq" --types $TYPES \
		--seed $QSEED >"$d/queries.txt"
	chmod 755 "$d"; chmod 644 "$d"/zone.* "$d/queries.txt"
	echo "$stamp" >"$d/STAMP"
}
gencmd="gen.py zone --count $size --seed $ZSEED --format rbldnsd|bind|trapline-list; gen.py queries --from ZONEFILE --hit $HIT --count $nq --types $TYPES --seed $QSEED"
if [ -n "$gen_only" ]; then
	make_data "$gen_only"
	echo "data for zone $ZONE in $gen_only: zone.rbldnsd zone.bind zone.trapline queries.txt"
	echo "($gencmd)"
	exit 0
fi
ddir=${data:-$work/data}
make_data "$ddir"
ddir=$(cd "$ddir" && pwd)

echo "== building qblast and udp_echo" >&2
cc -O2 -o "$work/qblast" "$bench/qblast.c"
cc -O2 -o "$work/udp_echo" "$bench/udp_echo.c"

# ------------------------------------------------------------------ helpers
now() { date +%s.%N; }
port_busy() { command -v ss >/dev/null && [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
tree_pids() { # pid and its descendants
	local p=$1 c
	echo "$p"
	for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$c"; done
}
cpu_ticks() { # summed utime+stime of a process tree, in clock ticks
	local t=0 p s
	for p in $(tree_pids "$1"); do
		s=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		set -- $s
		t=$((t + ${12} + ${13}))
	done
	echo $t
}
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
pss_kb() { # summed PSS of a process tree (shared pages counted once)
	local t=0 p v
	for p in $(tree_pids "$1"); do
		v=$(awk '/^Pss:/{print $2; exit}' "/proc/$p/smaps_rollup" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo $t
}
wait_answer() { # host port pid timeout_s -> prints seconds waited, fails on timeout/death
	local h=$1 p=$2 pid=$3 lim=$4 t0 r
	t0=$(now)
	while :; do
		r=$(dig +short +time=1 +tries=1 @"$h" -p "$p" 2.0.0.127.$ZONE A 2>/dev/null || true)
		[ "$r" = 127.0.0.2 ] && break
		[ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
		awk -v a="$t0" -v b="$(now)" -v l="$lim" 'BEGIN{exit !(b-a>l)}' && return 1
		sleep 0.01
	done
	awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'
}
. "$here/quiet.sh"
declare -A R_QPS R_P99 R_P50 R_CPU R_US R_NX R_QC R_FOR

qrun() { # label host port pid seconds [qblast args] -> one run; records unless label is "warm"
	local label=$1 h=$2 p=$3 pid=$4 s=$5 attempt
	shift 5
	if [ "$label" = warm ]; then
		taskset -c "$ccpu" "$work/qblast" -s "$h" -p "$p" -d "$ddir/queries.txt" -l "$s" -q "$outq" >/dev/null 2>&1 ||
			die "qblast warm-up failed against $h:$p"
		return 0
	fi
	local c0 c1 t0 t1 b0 b1 out res qps p50 p99 comp nx lost cpu us qcpu_pct qcpu_s foreign mark
	for attempt in 1 2 3; do
		wait_quiet
		c0=0; [ -n "$pid" ] && c0=$(cpu_ticks "$pid")
		b0=$(stat_busy); t0=$(now)
		out=$(taskset -c "$ccpu" "$work/qblast" -s "$h" -p "$p" -d "$ddir/queries.txt" -l "$s" -q "$outq" "$@" 2>&1) ||
			{ echo "$out" >&2; die "qblast failed against $label"; }
		t1=$(now); b1=$(stat_busy)
		c1=0; [ -n "$pid" ] && c1=$(cpu_ticks "$pid")
		res=$(echo "$out" | grep '^RESULT ')
		qcpu_s=$(echo "$res" | sed 's/.* cpu_s=\([0-9.]*\).*/\1/')
		foreign=-
		[ -n "$pid" ] && foreign=$(awk -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v k="$TCK" -v q="$qcpu_s" -v a="$t0" -v z="$t1" \
			'BEGIN{f=100*((b-c)/k-q)/(z-a); if (f<0) f=0; printf "%.0f", f}')
		mark=""
		[ "$foreign" = - ] || [ "$foreign" -le "$max_foreign" ] && break
		mark="!"
		[ $attempt -lt 3 ] && echo "   ($label run disturbed: others used ${foreign}% of a core; repeating)" >&2
	done
	qps=$(echo "$res" | sed 's/.* qps=\([0-9.]*\).*/\1/')
	p99=$(echo "$res" | sed 's/.* p99_us=\([0-9.]*\).*/\1/')
	p50=$(echo "$res" | sed 's/.* p50_us=\([0-9.]*\).*/\1/')
	comp=$(echo "$res" | sed 's/.* completed=\([0-9]*\).*/\1/')
	lost=$(echo "$res" | sed 's/.* lost=\([0-9]*\).*/\1/')
	nx=$(echo "$res" | sed 's/.* nxdomain=\([0-9]*\).*/\1/')
	qcpu_pct=$(echo "$res" | sed 's/.* cpu_pct=\([0-9]*\).*/\1/')
	cpu=- us=-
	if [ -n "$pid" ]; then
		cpu=$(awk -v c=$((c1 - c0)) -v k="$TCK" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", 100*c/k/(b-a)}')
		us=$(awk -v c=$((c1 - c0)) -v k="$TCK" -v n="$comp" 'BEGIN{printf "%.2f", n ? 1e6*c/k/n : 0}')
	fi
	printf '   %-12s qps %7.0f  p50/p99 %4.0f/%4.0f us  lost %s  cpu: server %s%% qblast %s%% others %s%%  server us/query %s %s\n' \
		"$label" "$qps" "$p50" "$p99" "$lost" "$cpu" "$qcpu_pct" "$foreign" "$us" "$mark" >&2
	R_QPS[$label]+="$qps "; R_P99[$label]+="$p99 "; R_P50[$label]+="$p50 "; R_CPU[$label]+="$cpu "; R_US[$label]+="$us "
	R_QC[$label]+="$qcpu_pct "; R_FOR[$label]+="$foreign$mark "
	R_NX[$label]+="$(awk -v a="$nx" -v b="$comp" 'BEGIN{printf "%.4f", b ? a/b : 0}') "
}
median() { echo "$@" | tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{if (!NR) print "-"; else if (a[1] == "-") print "-"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A INFO_RSS INFO_LOAD
summary_line() { # label
	local l=$1 lat=-
	[ -n "${R_P99[${l}@lat]:-}" ] && lat=$(printf '%.0f/%.0f' "$(median ${R_P50[${l}@lat]})" "$(median ${R_P99[${l}@lat]})")
	printf '%-9s %8.0f %7.0f %11s %7s %7s %8s %12s  %-9s %s\n' "$l" "$(median ${R_QPS[$l]})" "$(median ${R_P99[$l]})" \
		"$lat" "$(median ${R_CPU[$l]})" "$(median ${R_QC[$l]})" "$(median ${R_US[$l]})" "${INFO_RSS[$l]:--}" \
		"$(echo ${R_FOR[$l]} | tr ' ' ',')" "${INFO_LOAD[$l]:--}"
}
latruns() { # label host port pid
	[ "$lat_qps" -gt 0 ] || return 0
	local i
	for i in $(seq 1 "$runs"); do qrun "$1@lat" "$2" "$3" "$4" "$lat_secs" -Q "$lat_qps"; done
}

# ------------------------------------------------------------------ servers
start_rbldnsd() {
	port_busy "$port" && die "UDP port $port is already in use on this machine (use --port)"
	local uopt=()
	[ "$(id -u)" = 0 ] && uopt=(-u rbldns)
	local t0; t0=$(now)
	# shellcheck disable=SC2086
	cp "$ddir/zone.rbldnsd" "$work/zone.rbldnsd" # readable by the rbldns user wherever --data is
	chmod 644 "$work/zone.rbldnsd"
	taskset -c "$scpu" rbldnsd -n "${uopt[@]}" -b "127.0.0.1/$port" -c 0 ${RBLDNSD_OPTS:-} -w "$work" \
		"$ZONE:ip4set:zone.rbldnsd" >"$work/rbldnsd.log" 2>&1 &
	RBL_PID=$!; pids+=("$RBL_PID")
	local w
	w=$(wait_answer 127.0.0.1 "$port" "$RBL_PID" 600) || { cat "$work/rbldnsd.log" >&2; die "rbldnsd did not come up"; }
	INFO_LOAD[rbldnsd]="$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}') s to first answer"
}
start_echo() {
	port_busy "$echo_port" && die "UDP port $echo_port is already in use"
	taskset -c "$scpu" "$work/udp_echo" -s 127.0.0.1 -p "$echo_port" -C "$scpu" -T 3600 2>"$work/echo.log" &
	ECHO_PID=$!; pids+=("$ECHO_PID")
	sleep 0.3
	kill -0 "$ECHO_PID" 2>/dev/null || { cat "$work/echo.log" >&2; die "udp_echo did not start"; }
}
start_nsd() {
	port_busy "$nsd_port" && die "UDP port $nsd_port is already in use"
	mkdir -p "$work/nsd"
	cat >"$work/nsd/nsd.conf" <<-EOF
	server:
	    ip-address: 127.0.0.1
	    port: $nsd_port
	    server-count: 1
	    username: ""
	    chroot: ""
	    zonesdir: "$ddir"
	    database: ""
	    zonelistfile: "$work/nsd/zone.list"
	    xfrdfile: "$work/nsd/xfrd.state"
	    xfrdir: "$work/nsd"
	    pidfile: "$work/nsd/nsd.pid"
	    logfile: "$work/nsd/nsd.log"
	    do-ip6: no
	    tcp-count: 16
	    rrl-ratelimit: 0
	    rrl-whitelist-ratelimit: 0
	remote-control:
	    control-enable: no
	zone:
	    name: $ZONE
	    zonefile: "$ddir/zone.bind"
	EOF
	local t0; t0=$(now)
	taskset -c "$scpu" nsd -d -c "$work/nsd/nsd.conf" >"$work/nsd/out.log" 2>&1 &
	NSD_PID=$!; pids+=("$NSD_PID")
	wait_answer 127.0.0.1 "$nsd_port" "$NSD_PID" 600 >/dev/null ||
		{ cat "$work/nsd/out.log" "$work/nsd/nsd.log" >&2; die "nsd did not come up"; }
	INFO_LOAD[nsd]="$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}') s to first answer"
}
stop_pid() { # stop one of ours and forget it, so cleanup never signals a reused PID
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}

# ------------------------------------------------------------------ run
cpu_model=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
echo "== anchor-dns $(date -u +%Y-%m-%dT%H:%MZ): $size entries, $nq queries (hit $HIT, types $TYPES)"
echo "   machine: $(nproc) cpus ($cpu_model), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   servers on cpu $scpu, qblast on cpu $ccpu (-q $outq), warm-up ${warm}s, $runs x ${secs}s per server"
echo "   data: $gencmd"

start_rbldnsd
INFO_RSS[rbldnsd]="$(awk -v k="$(rss_kb "$RBL_PID")" 'BEGIN{printf "%.1fMiB", k/1024}')"
echo "   rbldnsd up: ${INFO_LOAD[rbldnsd]}, RSS before load ${INFO_RSS[rbldnsd]}" >&2

if [ -n "$target" ]; then
	wait_answer "$thost" "$tport" "" 5 >/dev/null ||
		echo "WARNING: target $target does not answer 2.0.0.127.$ZONE A with 127.0.0.2 (RFC 5782 test point)"
	if [ -z "$target_pid" ] && command -v ss >/dev/null; then # the process that owns the target's socket
		target_pid=$(ss -Hulpn "sport = :$tport" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
		[ -n "$target_pid" ] && echo "   target pid $target_pid (from ss)" >&2
	fi
	[ -n "$target_pid" ] && INFO_RSS[target]="$(awk -v k="$(pss_kb "$target_pid")" 'BEGIN{printf "%.1fMiB", k/1024}')"
fi

echo "== rbldnsd${target:+ and target $target (interleaved)}" >&2
[ "$warm" -gt 0 ] && qrun warm 127.0.0.1 "$port" "" "$warm"
[ -n "$target" ] && [ "$warm" -gt 0 ] && qrun warm "$thost" "$tport" "" "$warm"
for i in $(seq 1 "$runs"); do
	qrun rbldnsd 127.0.0.1 "$port" "$RBL_PID" "$secs"
	[ -n "$target" ] && qrun target "$thost" "$tport" "$target_pid" "$secs"
done
if [ "$lat_qps" -gt 0 ]; then
	for i in $(seq 1 "$runs"); do
		qrun rbldnsd@lat 127.0.0.1 "$port" "$RBL_PID" "$lat_secs" -Q "$lat_qps"
		[ -n "$target" ] && qrun target@lat "$thost" "$tport" "$target_pid" "$lat_secs" -Q "$lat_qps"
	done
fi
INFO_RSS[rbldnsd]="$(awk -v k="$(rss_kb "$RBL_PID")" 'BEGIN{printf "%.1fMiB", k/1024}')"
[ -n "$target_pid" ] && INFO_RSS[target]="$(awk -v k="$(pss_kb "$target_pid")" 'BEGIN{printf "%.1fMiB", k/1024}')"
stop_pid "$RBL_PID"

if [ $do_nsd = 1 ]; then
	echo "== nsd" >&2
	start_nsd
	[ "$warm" -gt 0 ] && qrun warm 127.0.0.1 "$nsd_port" "" "$warm"
	for i in $(seq 1 "$runs"); do qrun nsd 127.0.0.1 "$nsd_port" "$NSD_PID" "$secs"; done
	latruns nsd 127.0.0.1 "$nsd_port" "$NSD_PID"
	INFO_RSS[nsd]="$(awk -v k="$(pss_kb "$NSD_PID")" 'BEGIN{printf "%.1fMiB(PSS)", k/1024}')"
	stop_pid "$NSD_PID"
fi

if [ $do_echo = 1 ]; then
	echo "== udp_echo (ceiling: no DNS work at all)" >&2
	start_echo
	[ "$warm" -gt 0 ] && qrun warm 127.0.0.1 "$echo_port" "" "$warm"
	for i in $(seq 1 "$runs"); do qrun udp_echo 127.0.0.1 "$echo_port" "$ECHO_PID" "$secs"; done
	latruns udp_echo 127.0.0.1 "$echo_port" "$ECHO_PID"
	stop_pid "$ECHO_PID"
fi

echo
echo "medians of $runs runs; p99 at max load, p50/p99 at a fixed $lat_qps qps; cpu in % of one core;"
echo "us/query = server CPU time per answer; RSS after the runs; others = CPU used by other processes"
printf '%-9s %8s %7s %11s %7s %7s %8s %12s  %-9s %s\n' server "max qps" "p99 us" "p50/p99 us" srv_cpu qbl_cpu us/query RSS "others%" "load time"
summary_line rbldnsd
[ $do_nsd = 1 ] && summary_line nsd
[ $do_echo = 1 ] && summary_line udp_echo
if [ -n "$target" ]; then
	summary_line target
	nx_r=$(median ${R_NX[rbldnsd]}) nx_t=$(median ${R_NX[target]})
	awk -v a="$nx_r" -v b="$nx_t" 'BEGIN{d=a-b; if (d<0) d=-d; exit !(d>0.01)}' &&
		echo "WARNING: NXDOMAIN share differs (rbldnsd $nx_r, target $nx_t): does the target serve the same data?"
	q_r=$(median ${R_QPS[rbldnsd]}) q_t=$(median ${R_QPS[target]})
	if [ $do_echo = 1 ]; then
		awk -v t="$q_t" -v e="$(median ${R_QPS[udp_echo]})" 'BEGIN{if (t > 0.9*e) print "NOTE: target is within 10% of the udp_echo ceiling: qblast/the kernel, not the target, may be the limit; compare us/query too"}'
	fi
	awk -v a="$q_t" -v b="$q_r" 'BEGIN{printf "ratio target/rbldnsd = %.2f\n", (b > 0 ? a/b : 0)}'
fi
