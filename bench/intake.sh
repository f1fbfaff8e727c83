#!/usr/bin/env bash
# intake.sh - the writer's figures (issue 4): events per second through the writer to a
# committed state, acknowledged-to-answered-by-DNS latency, the start-up rebuild of 1M
# listings, and DNS qps/p99 while the zone changes 1,000 times a second against the same load
# with no changes. Everything on loopback, bounded in time, processes stopped by PID.
#
#   bench/intake.sh [--quick] [--no-build]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
quick=0 dobuild=1
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	--no-build) dobuild=0 ;;
	-h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "intake.sh: unknown argument $a" >&2; exit 2 ;;
	esac
done
events=200000 listings=1000000 secs=10 runs=3 druns=10 pruns=6 psecs=30
# Before each run, wait (at most 120 s) until other processes use under 5% of a core.
max_foreign=5 quiet_wait=120
. "$here/quiet.sh"
[ $quick = 1 ] && events=20000 listings=100000 secs=3 runs=1 druns=1 pruns=1 psecs=3

if [ $dobuild = 1 ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" --target bench_intake >/dev/null
fi
bin=$build/bench_intake
[ -x "$bin" ] || { echo "intake.sh: $bin not built" >&2; exit 2; }
. "$here/lib.sh"
bench_work trapline-intake
cc -O2 -o "$work/qblast" "$here/qblast.c" -lpthread 2>/dev/null || cc -O2 -o "$work/qblast" "$here/qblast.c"
out=$root/bench/out
mkdir -p "$out"
log=$out/intake-$(date -u +%Y%m%d-%H%M).txt
say() { echo "$*" | tee -a "$log"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

say "== intake $(date -u +%FT%RZ), git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo -)"
say "== 1. events through the writer, each acknowledged after its commit"
say "   (64 producers with one event a call, as SMTP sessions; 8 with 64 a call, as bulk intake)"
eps=() epsb=()
for r in $(seq 1 $runs); do
	wait_quiet
	line=$("$bin" throughput --events $events --producers 64 | tail -n 1)
	say "   $line"
	eps+=("$(echo "$line" | field events_per_s)")
	wait_quiet
	line=$("$bin" throughput --events $events --producers 8 --batch 64 | tail -n 1)
	say "   $line"
	epsb+=("$(echo "$line" | field events_per_s)")
done
eps_med=$(printf '%s\n' "${eps[@]}" | median)
epsb_med=$(printf '%s\n' "${epsb[@]}" | median)

say "== 2. start-up rebuild of $listings listings (read from the store, build, publish)"
line=$("$bin" rebuild --listings $listings | tail -n 1)
say "   $line"
rebuild=$(echo "$line" | field rebuild_s)

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
queries=$work/queries.txt
python3 - "$queries" <<'PY'
import random, sys
random.seed(3)
with open(sys.argv[1], "w") as f:
    for _ in range(200000):
        i = random.randrange(0, 200000)   # 11.0.0.0/8 holds what the writer lists
        ip = 0x0b000000 + i
        f.write("%d.%d.%d.%d.bl.example.org A\n" % (ip & 255, ip >> 8 & 255, ip >> 16 & 255, ip >> 24))
PY
# serve_run RATE: the writer (and its checkpointer) and the DNS worker on cpu 0 with RATE
# changes/s; qblast and the producer of the changes (the outside world: mail arriving) on cpu 1.
serve_run() { # RATE [PHASE_MS [SECONDS]]
	local rate=$1 port res q len=${3:-$secs}
	wait_quiet
	port=$(free_port)
	taskset -c 0 "$bin" serve --port "$port" --changes "$rate" --seconds $((len + 4)) --listings $listings --producer-cpu 1 ${2:+--phase-ms "$2"} >"$work/serve.out" 2>&1 &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 1 200); do grep -q '^ready' "$work/serve.out" && break; sleep 0.1; done
	sleep 1
	q=$(taskset -c 1 "$work/qblast" -s 127.0.0.1 -p "$port" -d "$queries" -l "$len" -q 100 2>/dev/null | grep '^RESULT')
	wait "$pid" || true
	res=$(grep '^RESULT' "$work/serve.out")
	{ grep '^PHASE_RATIOS' "$work/serve.out" || true; } | cut -d' ' -f2- >>"$work/phase_ratios"
	echo "$q | $res"
}
say "== 3. DNS while the zone changes (1M listings; qblast -q 100 on cpu 1, $secs s runs, interleaved)"
# Runs with and without changes alternate; each pair gives a ratio, and the median of the
# ratios is the figure: the machine's drift between pairs (±10% here) cancels within a pair.
# The order turns every other pair (ABBA), so that whatever favours the first run of a pair
# favours both sides alike.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print 0 }'; }
q0=() q1=() p0=() p1=() lat50=() lat99=() qr=() lost=0
for r in $(seq 1 $druns); do
	if [ $((r % 2)) = 1 ]; then
		a=$(serve_run 0); b=$(serve_run 1000)
	else
		b=$(serve_run 1000); a=$(serve_run 0)
	fi
	say "   no changes:   $a"
	say "   1000 changes/s: $b"
	q0+=("$(echo "$a" | field qps)"); p0+=("$(echo "$a" | field p99_us)")
	q1+=("$(echo "$b" | field qps)"); p1+=("$(echo "$b" | field p99_us)")
	lat50+=("$(echo "$b" | field ack_to_dns_p50_us)"); lat99+=("$(echo "$b" | field ack_to_dns_p99_us)")
	qr+=("$(ratio "${q1[-1]}" "${q0[-1]}")")
	lost=$((lost + $(echo "$a" | field lost) + $(echo "$b" | field lost)))
done
mq0=$(printf '%s\n' "${q0[@]}" | median) mq1=$(printf '%s\n' "${q1[@]}" | median)

# The same question inside one process: changes on and off by turns every 500 ms under one
# continuous load, each half-second with changes against the mean of the two around it. No
# process-to-process difference enters, but the half-second counts vary by about 10% here:
# many ratios (about 170), so that the median is good to about 1%.
say "== 3b. one process, one load, 1000 changes/s on and off every 500 ms ($pruns runs of $psecs s)"
: >"$work/phase_ratios"
for r in $(seq 1 $pruns); do
	b=$(serve_run 1000 500 $psecs); say "   alternating:  $b"
	lost=$((lost + $(echo "$b" | field lost)))
done
pr_n=$(tr ' ' '\n' <"$work/phase_ratios" | grep -c .)
pr_med=$(tr ' ' '\n' <"$work/phase_ratios" | grep . | median)

# What the service spends on the changes, on the DNS core, with no queries: the CPU of each
# of its threads over 6 s at 1000 changes/s (the producer stands for the outside world).
say "== 3c. CPU of the service's threads at 1000 changes/s, no queries (6 s, % of one core)"
port=$(free_port)
taskset -c 0 "$bin" serve --port "$port" --changes 1000 --seconds 12 --listings $listings --producer-cpu 1 >"$work/cpu.out" 2>&1 &
cpid=$!
pids+=("$cpid")
for _ in $(seq 1 300); do grep -q '^ready' "$work/cpu.out" && break; sleep 0.1; done
sleep 2
# schedstat's first field is the thread's time on a CPU in ns (stat's ticks are 10 ms coarse)
thread_cpu() { for t in /proc/$cpid/task/*; do echo "$(cat "$t/comm") $(cut -d' ' -f1 "$t/schedstat")"; done | awk '{ a[$1] += $2 } END { for (k in a) print k, a[k] }' | sort; }
thread_cpu >"$work/cpu0"; sleep 6; thread_cpu >"$work/cpu1"
wait "$cpid" || true
join "$work/cpu0" "$work/cpu1" | awk '{ printf "   %-14s %5.2f%%\n", $1 == "bench_intake" ? "producer" : $1, ($3 - $2) / 6e7 }' | tee -a "$log"
intake_cpu=$(join "$work/cpu0" "$work/cpu1" | awk '$1 == "tl-writer" || $1 == "tl-checkpoint" { s += $3 - $2 } END { printf "%.2f", s / 6e7 }')

# The anchor for the same question: rbldnsd cannot change one entry, it reloads its file.
# Touched every 0.5 s with -c 1, it reloads about once a second, as often as it can.
say "== 4. rbldnsd on the same 1M-entry zone, reloading its file as often as it can"
zdir=$out/data-$listings
if [ ! -f "$zdir/zone.rbldnsd" ]; then
	mkdir -p "$zdir"
	python3 "$here/gen.py" zone --count "$listings" --seed 1 --format rbldnsd >"$zdir/zone.rbldnsd"
fi
rdir=$work/rbl
mkdir -p "$rdir"
cp "$zdir/zone.rbldnsd" "$rdir/zone.rbldnsd"
chmod 755 "$rdir"
chmod 644 "$rdir/zone.rbldnsd"
python3 "$here/gen.py" queries --from "$rdir/zone.rbldnsd" --hit 0.3 --count 200000 --types A,TXT \
	--seed 2 >"$work/rq.txt"
ruser=()
id rbldns >/dev/null 2>&1 && ruser=(-u rbldns)
[ ${#ruser[@]} -eq 0 ] && [ "$(id -u)" -eq 0 ] && ruser=(-u nobody)
rbl_run() { # RELOAD(0|1): prints the qblast RESULT line
	local reload=$1 port rpid tpid="" q
	wait_quiet
	port=$(free_port)
	taskset -c 0 rbldnsd -n "${ruser[@]}" -b "127.0.0.1/$port" -c 1 -w "$rdir" \
		bl.example.org:ip4set:zone.rbldnsd >/dev/null 2>&1 &
	rpid=$!
	pids+=("$rpid")
	for _ in $(seq 1 100); do
		[ "$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short 2.0.0.127.bl.example.org A 2>/dev/null)" = 127.0.0.2 ] && break
		sleep 0.1
	done
	if [ "$reload" = 1 ]; then
		( end=$((SECONDS + secs + 2)); while [ $SECONDS -lt $end ]; do touch "$rdir/zone.rbldnsd"; sleep 0.5; done ) &
		tpid=$!
	fi
	q=$(taskset -c 1 "$work/qblast" -s 127.0.0.1 -p "$port" -d "$work/rq.txt" -l "$secs" -q 100 2>/dev/null | grep '^RESULT')
	[ -n "$tpid" ] && { kill "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null; }
	kill "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null || true
	echo "$q"
}
r0=() r1=() rr=()
if command -v rbldnsd >/dev/null; then
	for r in $(seq 1 $druns); do
		if [ $((r % 2)) = 1 ]; then
			a=$(rbl_run 0); b=$(rbl_run 1)
		else
			b=$(rbl_run 1); a=$(rbl_run 0)
		fi
		say "   no reloads:      $a"; r0+=("$(echo "$a" | field qps)")
		say "   reloading:       $b"; r1+=("$(echo "$b" | field qps)")
		rr+=("$(ratio "${r1[-1]}" "${r0[-1]}")")
	done
fi
mr0=$(printf '%s\n' "${r0[@]:-0}" | median) mr1=$(printf '%s\n' "${r1[@]:-0}" | median)
say ""
say "summary (medians)"
say "   events/s through the writer, committed:   $eps_med (one a call), $epsb_med (64 a call)"
say "   rebuild of $listings listings at start:  $rebuild s"
say "   ack -> answered by DNS, p50 / p99:        $(printf '%s\n' "${lat50[@]}" | median) / $(printf '%s\n' "${lat99[@]}" | median) us"
say "   DNS qps, no changes / 1000 changes/s:     $mq0 / $mq1"
say "   DNS qps ratio, median of $druns pairs:        $(printf '%s\n' "${qr[@]}" | median)  (pairs: ${qr[*]})"
say "   same, alternating in one process:         $pr_med  (median of $pr_n half-second ratios)"
say "   writer + checkpointer CPU at 1000 changes/s: $intake_cpu% of the DNS core"
say "   DNS queries lost (all runs above):        $lost"
say "   DNS p99, no changes / 1000 changes/s:     $(printf '%s\n' "${p0[@]}" | median) / $(printf '%s\n' "${p1[@]}" | median) us"
say "   rbldnsd qps, no reloads / reloading:       $mr0 / $mr1"
say "   rbldnsd qps ratio, median of pairs:        $(printf '%s\n' "${rr[@]:-0}" | median)  (pairs: ${rr[*]:-})"
say "intake.sh: log written to $log"
