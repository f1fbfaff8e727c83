#!/usr/bin/env bash
# node.sh - a trap node's intake side by side with a whole Trapline's trap (issue 21). Messages
# per second acknowledged by a node (each hit committed to its spool, synchronous=FULL, before
# the 250) and by the primary's own trap (each committed by the writer), both loaded by
# Postfix's smtp-source with the same messages, rounds interleaved, medians, as a ratio; then
# how fast a node empties a spool of N hits into the primary once the primary is back (hits
# per second forwarded), and whether every acknowledged hit arrived once. Servers on cpu 0,
# load on cpu 1, loopback, bounded in time, stopped by PID.
#
#   bench/node.sh [--rounds N] [--messages N] [--sessions N] [--size BYTES] [--no-build]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
rounds=3 msgs=5000 sess=16 size=2048 dobuild=1
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--messages) msgs=$2; shift ;;
	--sessions) sess=$2; shift ;;
	--size) size=$2; shift ;;
	--no-build) dobuild=0 ;;
	-h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "node.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
for t in smtp-source taskset python3 curl; do
	command -v "$t" >/dev/null || { echo "node.sh: $t missing (scripts/deps.sh --test)" >&2; exit 2; }
done
if [ $dobuild = 1 ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j 2 --target trapline >/dev/null
fi
bin=$build/trapline
. "$here/lib.sh"
bench_work trapline-node
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_log() { # FILE TEXT: until FILE has TEXT (20 s)
	local _
	for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=10).execute(sys.argv[2]).fetchone()[0])' "$@"; }
mkdir -p "$root/bench/out"
log=$root/bench/out/node-$(date -u +%Y%m%d-%H%M).txt
say() { echo "$*" | tee -a "$log"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Loopback senders: evidence against 127.0.0.1 is taken (never listed).
common="trap_domains = trap.example
smtp_max_per_ip = 1000
smtp_max_sessions = 1000
exclude_default = 127.0.0.0/8, ::1/128
log_level = warn
export_interval = 0"
P_DATA=$work/primary N_DATA=$work/node
mkdir -p "$P_DATA" "$N_DATA"
[ "$(id -u)" -ne 0 ] || chown trapline: "$P_DATA" "$N_DATA"
P_HTTP=$(free_port) P_SMTP=$(free_port) P_DNS=$(free_port) N_SMTP=$(free_port)
printf '%s\n' "$common" >"$work/primary.conf"
P_PID=
primary_start() {
	taskset -c 0 "$bin" serve --config "$work/primary.conf" --data "$P_DATA" --threads 1 \
		--dns "127.0.0.1:$P_DNS" --smtp "127.0.0.1:$P_SMTP" --http "127.0.0.1:$P_HTTP" \
		--log-level info >>"$work/primary.log" 2>&1 &
	P_PID=$!
	pids+=("$P_PID")
	wait_log "$work/primary.log" "module=main ready" || { echo "node.sh: the primary did not start" >&2; exit 1; }
	: >"$work/primary.log"
}
primary_start
KEY=$("$bin" feed add bench-node --data "$P_DATA" --config "$work/primary.conf" | sed -n 's/^key: //p')
printf '%s\nsmtp_hostname = bench-node\nforward_url = http://127.0.0.1:%s\nforward_key = %s\nforward_retry_max = 1\nforward_spool_max = 10000000\n' \
	"$common" "$P_HTTP" "$KEY" >"$work/node.conf"
taskset -c 0 "$bin" serve --config "$work/node.conf" --data "$N_DATA" --smtp "127.0.0.1:$N_SMTP" \
	--log-level info >"$work/node.log" 2>&1 &
pids+=("$!")
wait_log "$work/node.log" "module=main ready" || { echo "node.sh: the node did not start" >&2; exit 1; }

errors=0
load() { # PORT [N]: messages per second, whole run
	local t0 t1 rc=0 n=${2:-$msgs}
	t0=$(date +%s.%N)
	timeout 300 taskset -c 1 smtp-source -d -s "$sess" -m "$n" -l "$size" -f bench@spam.example \
		-t trap@trap.example "127.0.0.1:$1" >"$work/source.out" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	if [ $rc -ne 0 ] || grep -q . "$work/source.out"; then
		echo "node.sh: smtp-source against port $1: exit $rc: $(head -c 300 "$work/source.out")" >&2
		errors=$((errors + 1))
	fi
	python3 -c "print('%.0f' % ($n / ($t1 - $t0)))"
}
fed() { q "$P_DATA/trapline.db" "SELECT count(*) FROM evidence WHERE source = 'feed:bench-node'"; }
depth() { q "$N_DATA/spool.db" "SELECT count(*) FROM hits"; }
wait_drained() { # until the spool is empty (300 s)
	local _
	for _ in $(seq 1 3000); do [ "$(depth)" = 0 ] && return 0; sleep 0.1; done
	return 1
}

say "== node $(date -u +%FT%RZ), git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo -), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "== messages/s: $msgs messages of $size bytes over $sess sessions (smtp-source -d on cpu 1; servers on cpu 0)"
nd=() tr=()
for r in $(seq 1 "$rounds"); do
	nd+=("$(load "$N_SMTP")")
	tr+=("$(load "$P_SMTP")")
	say "round $r: node ${nd[-1]}/s, primary's trap ${tr[-1]}/s"
done
wait_drained || say "the spool did not empty within 300 s"
n_med=$(printf '%s\n' "${nd[@]}" | median)
t_med=$(printf '%s\n' "${tr[@]}" | median)
sent=$((rounds * msgs))
say "| node (spool, synchronous=FULL) | $n_med msg/s |"
say "| primary's own trap (writer) | $t_med msg/s |"
say "| ratio node / trap | $(python3 -c "print('%.2f' % ($n_med / $t_med))") |"
say "| node hits at the primary after the rounds | $(fed) of $sent acknowledged |"

say "== a spool of $msgs hits emptied into the primary once it is back"
kill -TERM "$P_PID"; wait "$P_PID" 2>/dev/null || true
before=$(fed)
load "$N_SMTP" >/dev/null
say "spool while the primary was away: $(depth) hits"
t0=$(date +%s.%N)
primary_start
wait_drained || say "the spool did not empty within 300 s"
t1=$(date +%s.%N)
got=$(($(fed) - before))
say "| drain of $msgs hits (primary start included) | $(python3 -c "print('%.1f s, %.0f hits/s' % ($t1 - $t0, $msgs / ($t1 - $t0)))") |"
say "| hits that arrived | $got of $msgs, twice: $(q "$P_DATA/trapline.db" "SELECT count(*) - count(DISTINCT hit_id) FROM evidence WHERE source = 'feed:bench-node'") |"
say "| runs in which smtp-source reported an error | $errors |"
echo "log: $log"
