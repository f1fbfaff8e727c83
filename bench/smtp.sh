#!/usr/bin/env bash
# smtp.sh - the trap's intake side by side with Postfix (issue: the spamtrap). Messages per
# second accepted into committed evidence by `trapline serve`, by Postfix's own smtpd
# delivering to discard: (the real MTA doing the same job; its queue syncs each message), and
# by smtp-sink (which stores nothing: the ceiling), all loaded by Postfix's smtp-source with
# the same messages; then DNS qps of the trap's own DNS server idle and under that load.
# Servers on cpu 0, load on cpu 1; rounds interleaved, medians; every run waits for a quiet
# machine. Everything on loopback, bounded in time, stopped by PID.
#
#   bench/smtp.sh [--rounds N] [--messages N] [--sessions N] [--size BYTES] [--no-build]
#   (or: make bench-smtp). Needs root (Postfix's master) and scripts/deps.sh --test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
rounds=3 msgs=20000 sess=32 size=2048 dobuild=1 dsecs=4
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--messages) msgs=$2; shift ;;
	--sessions) sess=$2; shift ;;
	--size) size=$2; shift ;;
	--no-build) dobuild=0 ;;
	-h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "smtp.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "smtp.sh: run as root (Postfix's master needs it)" >&2; exit 2; }
for t in smtp-source smtp-sink postfix taskset cc python3; do
	command -v "$t" >/dev/null || { echo "smtp.sh: $t missing (scripts/deps.sh --test)" >&2; exit 2; }
done
max_foreign=${max_foreign:-5} quiet_wait=${quiet_wait:-120}
. "$here/quiet.sh"
. "$root/tests/integration/postfix.sh"
if [ $dobuild = 1 ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j 2 --target trapline >/dev/null
fi
bin=$build/trapline
[ -x "$bin" ] || { echo "smtp.sh: $bin not built" >&2; exit 2; }

. "$here/lib.sh"
bench_work trapline-smtp
bench_before_cleanup() { pf_stop "$work/postfix" 2>/dev/null; }
cc -O2 -o "$work/qblast" "$here/qblast.c" -lpthread 2>/dev/null || cc -O2 -o "$work/qblast" "$here/qblast.c"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # PORT: until something accepts on it (10 s)
	local _
	for _ in $(seq 1 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
out=$root/bench/out
mkdir -p "$out"
log=$out/smtp-$(date -u +%Y%m%d-%H%M).txt
say() { echo "$*" | tee -a "$log"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

# DNS queries for the trap's zone: the RFC 5782 test point and unlisted addresses.
python3 - "$work/queries.txt" <<'PY'
import random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        if i % 10 == 0:
            f.write("2.0.0.127.bl.example.org A\n")
        else:
            f.write("%d.%d.%d.%d.bl.example.org A\n" % tuple(random.randrange(1, 255) for _ in range(4)))
PY

# ---- the servers ------------------------------------------------------------------------
cat >"$work/trap.conf" <<CONF
trap_domains = trap.example
smtp_max_per_ip = 1000
smtp_max_sessions = 1000
log_level = warn
export_interval = 0
CONF
TRAP_PID= TRAP_DATA= TRAP_SMTP= TRAP_DNS=
trap_start() {
	TRAP_DATA=$(mktemp -d "$work/data.XXXXXX")
	chmod 755 "$TRAP_DATA"
	TRAP_SMTP=$(free_port) TRAP_DNS=$(free_port)
	taskset -c 0 "$bin" serve --config "$work/trap.conf" --data "$TRAP_DATA" --threads 1 \
		--dns "127.0.0.1:$TRAP_DNS" --smtp "127.0.0.1:$TRAP_SMTP" >"$TRAP_DATA.log" 2>&1 &
	TRAP_PID=$!
	pids+=("$TRAP_PID")
	wait_port "$TRAP_SMTP" || { echo "smtp.sh: trapline did not start" >&2; cat "$TRAP_DATA.log" >&2; exit 1; }
}
trap_stop() {
	kill -TERM "$TRAP_PID" 2>/dev/null || true
	wait "$TRAP_PID" 2>/dev/null || true
}
trap_count() {
	python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM evidence").fetchone()[0])' \
		"$TRAP_DATA/trapline.db"
}
PF_PORT=$(free_port)
pf_setup "$work/postfix" "$PF_PORT" discard
taskset -c 0 postfix -c "$work/postfix/etc" start-fg >"$work/postfix/maillog" 2>&1 </dev/null &
PF_PID=$!
pids+=("$PF_PID")
wait_port "$PF_PORT" || { echo "smtp.sh: postfix did not start" >&2; tail "$work/postfix/maillog" >&2; exit 1; }
SINK_PORT=$(free_port)
taskset -c 0 smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 1024 >/dev/null 2>&1 &
pids+=("$!")
wait_port "$SINK_PORT"

# load PORT: smtp-source on cpu 1, $msgs messages of $size bytes over $sess sessions kept
# open; prints messages per second (wall time of the whole run, connections included).
load() {
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	timeout 300 taskset -c 1 smtp-source -d -s "$sess" -m "$msgs" -l "$size" -f bench@spam.example \
		-t trap@trap.example "127.0.0.1:$1" >"$work/source.out" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	if [ $rc -ne 0 ] || grep -q . "$work/source.out"; then
		echo "smtp.sh: smtp-source against port $1: exit $rc: $(head -c 300 "$work/source.out")" >&2
		errors=$((errors + 1))
	fi
	python3 -c "print('%.0f' % ($msgs / ($t1 - $t0)))"
}

say "== smtp $(date -u +%FT%RZ), git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo -), $(nproc) cpus"
say "== messages/s: $msgs messages of $size bytes over $sess sessions (smtp-source -d on cpu 1; servers on cpu 0)"
tl=() pf=() sk=() lost=0 errors=0
for r in $(seq 1 "$rounds"); do
	wait_quiet
	trap_start
	load "$TRAP_SMTP" >"$work/rate"
	t=$(cat "$work/rate")
	sleep 0.3
	n=$(trap_count)
	trap_stop
	[ "$n" -eq "$msgs" ] || lost=$((lost + msgs - n))
	wait_quiet
	load "$PF_PORT" >"$work/rate"
	p=$(cat "$work/rate")
	wait_quiet
	load "$SINK_PORT" >"$work/rate"
	s=$(cat "$work/rate")
	say "   round $r: trapline $t/s (committed $n of $msgs)  postfix smtpd->discard $p/s  smtp-sink $s/s"
	tl+=("$t") pf+=("$p") sk+=("$s")
done
mt=$(printf '%s\n' "${tl[@]}" | median)
mp=$(printf '%s\n' "${pf[@]}" | median)
ms=$(printf '%s\n' "${sk[@]}" | median)

# DNS: qblast on cpu 1 against the trap's DNS server (one worker, cpu 0), idle and while
# smtp-source delivers to the trap, flat out and at a fixed rate.
say "== DNS qps of the trap's server, idle and under the SMTP load ($dsecs s windows, qblast -q 100 on cpu 1)"
dns() { # EXTRA_QBLAST_ARGS...: the qps of one window
	taskset -c 1 "$work/qblast" -s 127.0.0.1 -p "$TRAP_DNS" -d "$work/queries.txt" -l "$dsecs" -q 100 "$@" 2>/dev/null |
		grep '^RESULT' | field qps
}
dns_under_load() { # EXTRA...: starts the SMTP load, measures a window inside it
	local n=$((msgs * 4)) src
	timeout 300 taskset -c 1 smtp-source -d -s "$sess" -m "$n" -l "$size" -f bench@spam.example \
		-t trap@trap.example "127.0.0.1:$TRAP_SMTP" >/dev/null 2>&1 &
	src=$!
	sleep 0.5
	local q
	q=$(taskset -c 1 "$work/qblast" -s 127.0.0.1 -p "$TRAP_DNS" -d "$work/queries.txt" -l "$dsecs" -q 100 "$@" 2>/dev/null |
		grep '^RESULT' | field qps)
	kill "$src" 2>/dev/null || true
	wait "$src" 2>/dev/null || true
	echo "$q"
}
di=() dl=() fi_=() fl=()
for r in $(seq 1 "$rounds"); do
	wait_quiet
	trap_start
	sleep 0.5
	a=$(dns)
	b=$(dns_under_load)
	c=$(dns -Q 20000)
	d=$(dns_under_load -Q 20000)
	trap_stop
	say "   round $r: flat out idle $a, under load $b; at 20,000 qps offered: idle $c, under load $d"
	di+=("$a") dl+=("$b") fi_+=("$c") fl+=("$d")
done
mdi=$(printf '%s\n' "${di[@]}" | median)
mdl=$(printf '%s\n' "${dl[@]}" | median)
mfi=$(printf '%s\n' "${fi_[@]}" | median)
mfl=$(printf '%s\n' "${fl[@]}" | median)
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

say ""
say "| figure (medians of $rounds rounds) | value | ratio |"
say "| --- | ---: | ---: |"
say "| trapline: messages/s into committed evidence | $mt | |"
say "| Postfix smtpd -> discard: messages/s | $mp | trapline / postfix **$(ratio "$mt" "$mp")** (target >= 5) |"
say "| smtp-sink (stores nothing): messages/s | $ms | trapline / smtp-sink **$(ratio "$mt" "$ms")** (target >= 0.5) |"
say "| trap runs whose store missed messages (smtp-source saw no error: each was acknowledged) | $lost messages | (target 0) |"
say "| runs in which smtp-source reported an error | $errors | |"
say "| DNS qps flat out: idle / under the SMTP load | $mdi / $mdl | **$(ratio "$mdl" "$mdi")** |"
say "| DNS qps at 20,000 offered: idle / under the SMTP load | $mfi / $mfl | **$(ratio "$mfl" "$mfi")** (target >= 0.9) |"
say "log: $log"
