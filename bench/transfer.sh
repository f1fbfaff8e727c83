#!/usr/bin/env bash
# transfer.sh - zone transfers (issue 21): (a) AXFR of the same zone from Trapline and from NSD,
# same client, as a ratio of times; (b) the lag from commit to answer at an NSD secondary at
# 1,000 new listings a second, p50 and p99; (c) Trapline's DNS qps while AXFRs run against
# without, as a ratio.
#
#   bench/transfer.sh [--quick] [--parts abc] [--size N] [--runs N] [--seconds S] [--no-build] [--keep]
#
#   --size N     listings in the zone of (a) and (c) (default 1000000: gen.py's random /32s, the
#                data of bench/dns.sh, served by Trapline with --static)
#   --runs N     runs per side and figure, medians reported (default 5)
#   --seconds S  length of each qps run of (c) and of the lag run of (b) (default 10; (b) 3 x S)
#   --quick      100k listings, 1 run, 3 s: a smoke run of the script
#   --parts P    only the figures named (letters of abc; default all)
#   --no-build   use build/trapline as it is
#   --keep       keep the work directory
#   Env: TRAPLINE (the binary, default build/trapline), BUILD_DIR (default build).
#
# Targets: (a) Trapline's AXFR time at most 1.0x NSD's; (b) p99 at most 1 s; (c) at least 0.9.
# Servers on cpu 0, clients on cpu 1 (loopback, ports picked free). Every process started here
# is stopped by PID at exit. The log goes to bench/results/DATE-COMMIT-transfer.txt (--quick:
# bench/out/DATE-COMMIT-transfer-quick.txt).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export BENCH_DIR=$here

size=1000000 runs=5 secs=10 quick=0 build=1 parts=abc
ZONE=bl.example.org SCPU=0 CCPU=1 NQ=200000
die() { echo "transfer.sh: $*" >&2; exit 2; }
num() { [[ ${2:-} =~ ^[0-9]+$ ]] || die "$1 needs a number"; }
args=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	--size) num "$1" "${2:-}"; size=$2; shift 2 ;;
	--runs) num "$1" "${2:-}"; runs=$2; shift 2 ;;
	--seconds) num "$1" "${2:-}"; secs=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--parts) [[ ${2:-} =~ ^[abc]+$ ]] || die "--parts takes letters of abc"; parts=$2; shift 2 ;;
	--no-build) build=0; shift ;;
	--keep) export KEEP_WORK=1; shift ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
[ $quick = 1 ] && size=100000 runs=1 secs=3 NQ=100000
[ "$runs" -ge 1 ] && [ "$runs" -le 15 ] || die "--runs must be 1..15"
[ "$secs" -ge 1 ] && [ "$secs" -le 120 ] || die "--seconds must be 1..120"
for t in python3 taskset dig kdig nsd cc cmake; do
	command -v "$t" >/dev/null || die "$t not found (scripts/deps.sh --test installs what is needed)"
done

. "$here/lib.sh"
bench_work trapline-transfer
max_foreign=10 quiet_wait=20
. "$here/quiet.sh"

# ------------------------------------------------------------------ build
build_dir=${BUILD_DIR:-$root/build}
bin=${TRAPLINE:-$build_dir/trapline}
if [ $build = 1 ] && [ -z "${TRAPLINE:-}" ]; then
	cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build_dir" -j 2 --target trapline >/dev/null
fi
[ -x "$bin" ] || die "$bin not found (build it, or set TRAPLINE)"
cc -O2 -o "$work/axfr_read" "$here/axfr_read.c"
cc -O2 -o "$work/qblast" "$here/qblast.c" -lpthread 2>/dev/null || cc -O2 -o "$work/qblast" "$here/qblast.c"

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo nogit)
mkdir -p "$root/bench/results"
suffix=transfer
[ $quick = 1 ] && suffix=transfer-quick
[ "$parts" = abc ] || suffix=$suffix-$parts
# a full run's log is one a README may quote (bench/results); a trial run's stays in bench/out
logdir=$root/bench/results
[ $quick = 1 ] && logdir=$root/bench/out
mkdir -p "$logdir"
log=$logdir/$(date -u +%F)-$commit-$suffix.txt
: >"$log"
say() { echo "$*" | tee -a "$log"; }
# wait_quiet says on stderr when it gave up waiting: into the log too, beside the figures
quiet() { local m; m=$(wait_quiet 2>&1); [ -z "$m" ] || say "$m"; }

# ------------------------------------------------------------------ helpers
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.*[ ^]$1=\([-0-9.]*\).*/\1/p" | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
free_port() { python3 -c 'import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); p = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: u.close(); t.close()'; }
forget() {
	local p rest=()
	for p in "${pids[@]+"${pids[@]}"}"; do [ "$p" = "$1" ] || rest+=("$p"); done
	pids=("${rest[@]+"${rest[@]}"}")
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }
serial_of() { dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "$ZONE" SOA 2>/dev/null | awk 'NF == 7 && $1 !~ /^;/ && $3 ~ /^[0-9]+$/ { print $3; exit }'; }
wait_serial() { # PORT PID SECONDS: until PORT answers a SOA; prints its serial
	local s i
	for i in $(seq 1 $(($3 * 10))); do
		s=$(serial_of "$1")
		[ -n "$s" ] && { echo "$s"; return 0; }
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Trapline with its zone from a file (--static) or its store (DATA), transfers allowed from
# loopback, on cpu 0; sets TPID, TPORT.
start_trapline() { # CONF [serve options...]
	local conf=$1
	shift
	TPORT=$(free_port)
	taskset -c $SCPU "$bin" serve --config "$conf" --dns "127.0.0.1:$TPORT" --log-level warn "$@" \
		>>"$work/trapline.log" 2>&1 &
	TPID=$!
	pids+=("$TPID")
	wait_serial "$TPORT" "$TPID" 600 >/dev/null || { tail -20 "$work/trapline.log" >&2; die "trapline did not start"; }
}

# NSD with its own config in DIR, on cpu 0: a primary of FILE, or (with PRIMARY_PORT) a
# secondary of Trapline (on PORT when given); sets NPID, NPORT.
start_nsd() { # DIR FILE|"" [PRIMARY_PORT [PORT]]
	local dir=$1 file=$2 pport=${3:-}
	mkdir -p "$dir"
	NPORT=${4:-$(free_port)}
	{
		cat <<-EOF
		server:
		    ip-address: 127.0.0.1@$NPORT
		    do-ip6: no
		    server-count: 1
		    username: ""
		    chroot: ""
		    zonesdir: "$dir"
		    database: ""
		    zonefiles-write: 0
		    zonelistfile: "$dir/zone.list"
		    pidfile: "$dir/nsd.pid"
		    xfrdfile: "$dir/xfrd.state"
		    xfrdir: "$dir/xfr"
		    logfile: "$dir/nsd.log"
		    xfrd-reload-timeout: 0
		    rrl-ratelimit: 0
		remote-control:
		    control-enable: no
		zone:
		    name: "$ZONE"
		EOF
		if [ -n "$pport" ]; then
			printf '    zonefile: "%s/zone"\n    request-xfr: 127.0.0.1@%s NOKEY\n' "$dir" "$pport"
			printf '    allow-notify: 127.0.0.1 NOKEY\n'
		else
			printf '    zonefile: "%s"\n    provide-xfr: 127.0.0.1 NOKEY\n' "$file"
		fi
	} >"$dir/nsd.conf"
	taskset -c $SCPU nsd -d -c "$dir/nsd.conf" >>"$dir/stdout.log" 2>&1 &
	NPID=$!
	pids+=("$NPID")
}

hdr() {
	echo "== zone transfers, $(date -u +%FT%RZ): $size listings, $runs run(s), ${secs}s runs"
	echo "   command: bench/transfer.sh ${args[*]}"
	echo "   trapline: $bin (git $commit); nsd $(dpkg-query -W -f='${Version}' nsd 2>/dev/null || echo ?)"
	echo "   machine: $(nproc) cpus ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "   servers on cpu $SCPU, clients (axfr_read, qblast, the lag driver) on cpu $CCPU"
}
hdr | tee -a "$log"

# ------------------------------------------------------------------ data
data=$root/bench/out/data-$size
mkdir -p "$root/bench/out"
"$here/anchor-dns.sh" --gen-only "$data" --queries "$NQ" "$size" >/dev/null
[ -s "$data/zone.trapline" ] && [ -s "$data/queries.txt" ] || die "no data in $data"
cp "$data/zone.trapline" "$work/zone.trapline"
chmod 644 "$work/zone.trapline"
printf 'transfer_allow = 127.0.0.0/8\n' >"$work/static.conf"

# ------------------------------------------------------------------ (a) AXFR time
part() { [[ $parts == *$1* ]]; }
mta=- mna=- ra=- rc=- p50=- p99=-
start_trapline "$work/static.conf" --static "$work/zone.trapline" --data "$work/var-a" --threads 1 --smtp off --http off
if part a; then
say "== (a) AXFR of $size listings: Trapline (--static) against NSD loading the zone Trapline sent"
# The zone NSD serves is the one Trapline transfers: kdig writes it as a master file (the
# closing SOA dropped), so both send the same records.
kdig @127.0.0.1 -p "$TPORT" +noall +answer AXFR "$ZONE" >"$work/axfr.zone" || die "kdig AXFR from trapline failed"
sed -i '$d' "$work/axfr.zone"
trecs=$(grep -c . "$work/axfr.zone")
[ "$trecs" -gt "$size" ] || die "Trapline's AXFR has $trecs records for $size listings"
chmod 644 "$work/axfr.zone"
start_nsd "$work/nsd-a" "$work/axfr.zone"
wait_serial "$NPORT" "$NPID" 600 >/dev/null || { cat "$work/nsd-a/nsd.log" >&2; die "nsd did not load the zone"; }
say "   zone: $trecs records + the closing SOA, served by both"
tt=() nt=() pa=() tr="" nr=""
axfr() { taskset -c $CCPU "$work/axfr_read" -p "$1" -z "$ZONE"; }
for r in $(seq 1 "$runs"); do
	quiet
	# ABBA order, so that whatever favours the first of a pair favours both sides alike
	if [ $((r % 2)) = 1 ]; then a=$(axfr "$TPORT"); b=$(axfr "$NPORT"); else b=$(axfr "$NPORT"); a=$(axfr "$TPORT"); fi
	say "   trapline: $a"
	say "   nsd:      $b"
	tt+=("$(echo "$a" | field seconds)") nt+=("$(echo "$b" | field seconds)")
	pa+=("$(ratio "${tt[-1]}" "${nt[-1]}")")
	tr=$(echo "$a" | field records) nr=$(echo "$b" | field records)
done
[ "$tr" = "$nr" ] || say "   WARNING: Trapline sent $tr records, NSD $nr"
mta=$(printf '%s\n' "${tt[@]}" | median) mna=$(printf '%s\n' "${nt[@]}" | median)
ra=$(ratio "$mta" "$mna")
say "   median: trapline $mta s, nsd $mna s; ratio trapline/nsd = $ra (target <= 1.0, moonshot 0.5)"
say "   pairs' ratios ${pa[*]}: median $(printf '%s\n' "${pa[@]}" | median) (the machine's drift between pairs cancels within one)"
stop "$NPID"
fi

# ------------------------------------------------------------------ (c) qps during AXFR
if part c; then
say "== (c) Trapline's DNS qps (qblast -q 100, $secs s) with an AXFR loop against without"
qrun() { # with|without -> RESULT line of qblast, plus the AXFRs done
	local loop="" n=0 q
	quiet >&2 # (its note goes to the log by say's tee, not into the result captured here)
	if [ "$1" = with ]; then
		# nice 19: the transfers take what qblast leaves of cpu 1, so that the client's own
		# reading does not slow the load generator; how many ran is reported with the figure
		taskset -c $CCPU nice -n 19 "$work/axfr_read" -p "$TPORT" -z "$ZONE" -n 0 >"$work/loop.out" 2>&1 &
		loop=$!
		pids+=("$loop")
		sleep 0.5
	fi
	q=$(taskset -c $CCPU "$work/qblast" -s 127.0.0.1 -p "$TPORT" -d "$data/queries.txt" -l "$secs" -q 100 2>/dev/null | grep '^RESULT')
	if [ -n "$loop" ]; then
		stop "$loop"
		n=$(grep -c '^RESULT' "$work/loop.out" || true)
	fi
	echo "$q axfrs=$n"
}
q0=() q1=() qr=()
for r in $(seq 1 "$runs"); do
	if [ $((r % 2)) = 1 ]; then a=$(qrun without); b=$(qrun with); else b=$(qrun with); a=$(qrun without); fi
	say "   without: $a"
	say "   with:    $b"
	q0+=("$(echo "$a" | field qps)") q1+=("$(echo "$b" | field qps)")
	qr+=("$(ratio "${q1[-1]}" "${q0[-1]}")")
done
mq0=$(printf '%s\n' "${q0[@]}" | median) mq1=$(printf '%s\n' "${q1[@]}" | median)
rc=$(printf '%s\n' "${qr[@]}" | median)
say "   median qps: without $mq0, with AXFRs $mq1; ratio with/without = $rc (median of pairs; target >= 0.9)"
fi
stop "$TPID"

# ------------------------------------------------------------------ (b) lag at a secondary
if part b; then
lsecs=$((3 * secs))
say "== (b) commit to answer at an NSD secondary, 1000 new listings a second for $lsecs s"
say "   (feed API, 10 addresses a request, two hits each; every 10th address watched at NSD)"
tl_data=$work/var-b
mkdir -p "$tl_data"
[ "$(id -u)" -ne 0 ] || chown trapline: "$tl_data" 2>/dev/null || true
key=$("$bin" feed add bench --data "$tl_data" | awk '/^key:/ { print $2 }')
[ -n "$key" ] || die "feed add failed"
NPORT_B=$(free_port)
HPORT=$(free_port)
{
	echo "transfer_allow = 127.0.0.0/8"
	echo "notify = 127.0.0.1:$NPORT_B"
	echo "exclude_default = 127.0.0.0/8, ::1/128"
	echo "feed_max_hits = 1000"
} >"$work/store.conf"
start_trapline "$work/store.conf" --data "$tl_data" --smtp off --http "127.0.0.1:$HPORT"
start_nsd "$work/nsd-b" "" "$TPORT" "$NPORT_B" # the port Trapline notifies
wait_serial "$NPORT_B" "$NPID" 60 >/dev/null || { tail -20 "$work/nsd-b/nsd.log" >&2; die "the NSD secondary has no zone"; }
quiet
res=$(taskset -c $CCPU python3 "$here/xfr_lag.py" --http "$HPORT" --key "$key" --dns "$NPORT_B" \
	--rate 1000 --seconds "$lsecs" --out "$work/lags.txt") || true
say "   $res"
p50=$(echo "$res" | field p50_ms) p99=$(echo "$res" | field p99_ms)
say "   NSD took $(grep -c 'updated to' "$work/nsd-b/nsd.log" || true) transfers"
say "   lag p50 ${p50:-?} ms, p99 ${p99:-?} ms (target p99 <= 1000 ms)"
stop "$NPID"
stop "$TPID"
fi

say "== summary"
say "   (a) AXFR $size listings: trapline $mta s, nsd $mna s, ratio $ra (target <= 1.0)"
say "   (b) commit to answer at NSD, 1000 listings/s: p50 ${p50:-?} ms, p99 ${p99:-?} ms (target p99 <= 1000)"
say "   (c) DNS qps during AXFRs / without: $rc (target >= 0.9)"
echo "log: $log"
