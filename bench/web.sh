#!/usr/bin/env bash
# web.sh - the web's JSON API under load, side by side with nginx serving a small static JSON
# file on the same core (the ceiling of HTTP on this machine), and DNS while the API is
# loaded. Trapline serves a store of 1,000,000 listings; both servers run on cpu 0, wrk and
# qblast on cpu 1; every run waits for a quiet machine first (quiet.sh). Prints ratios and
# saves the log in bench/results/DATE-COMMIT-web.txt.
#
#   bench/web.sh [--quick] [--no-build] [--seconds S] [--runs N]     (make bench-web)
#
# 1. wrk: GET /api/v1/lookup/IP over random listed and unlisted addresses (64 connections,
#    S seconds), against nginx serving one lookup's JSON as a file; runs alternate.
# 2. DNS: qblast at full load alone, then with wrk loading the API at the same time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
quick=0 dobuild=1 secs=10 runs=3 size=1000000 conns=64
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--no-build) dobuild=0 ;;
	--seconds) secs=$2; shift ;;
	--runs) runs=$2; shift ;;
	-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "web.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ $quick = 1 ] && secs=3 runs=1 size=100000
max_foreign=5 quiet_wait=${QUIET_WAIT:-90}
. "$here/quiet.sh"
# quiet.sh says on stderr when it gave up waiting: keep that in the log too.
quiet() { wait_quiet 2> >(tee -a "$log" >&2); }
for tool in wrk nginx taskset python3 dig; do
	command -v "$tool" >/dev/null || { echo "web.sh: $tool missing (scripts/deps.sh --test)" >&2; exit 2; }
done
if [ $dobuild = 1 ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" --target trapline >/dev/null
fi
bin=${TRAPLINE:-$build/trapline}
. "$here/lib.sh"
bench_work trapline-web-bench
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo nogit)
mkdir -p "$root/bench/results"
log=$root/bench/results/$(date -u +%Y-%m-%d)-$commit-web.txt
: >"$log"
say() { echo "$*" | tee -a "$log"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

say "== web $(date -u +%FT%RZ), git $commit, $(nproc) cpus, $(sed -n 's/^model name.*: //p' /proc/cpuinfo | head -n 1)"
say "   $size listings, wrk -c $conns -t 1, $secs s runs, $runs rounds; servers on cpu 0, clients on cpu 1"

# ---- the data: a store of $size listings ------------------------------------------------
data=$work/data
t0=$(date +%s.%N)
"$bin" list --data "$data" >/dev/null   # creates the store (schema) and nothing else
python3 "$here/web_store.py" "$data" "$size" "$work/addrs"
[ "$(id -u)" = 0 ] && chown -R trapline: "$data" # the service's user (config key user)
say "   store filled in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
# wrk's script: each request a random address of the file (half listed, half not).
{
	echo 'local a = {'
	sed 's/.*/"&",/' "$work/addrs"
	echo '}'
	echo 'math.randomseed(11)'
	echo 'request = function() return wrk.format("GET", "/api/v1/lookup/" .. a[math.random(#a)]) end'
} >"$work/lookup.lua"
{
	echo 'local a = {'
	head -n 2000 "$work/addrs" | sed 's/.*/"&",/'
	echo '}'
	echo 'math.randomseed(13)'
	echo 'request = function() return wrk.format("GET", "/lookup.json?ip=" .. a[math.random(#a)]) end'
} >"$work/static.lua"
python3 - "$work/queries" "$work/addrs" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for line in open(sys.argv[2]):
        a = line.split()[0].split(".")
        f.write("%s.bl.example.org A\n" % ".".join(reversed(a)))
PY
cc -O2 -o "$work/qblast" "$here/qblast.c" -lpthread 2>/dev/null || cc -O2 -o "$work/qblast" "$here/qblast.c"

# ---- the servers --------------------------------------------------------------------------
hport=$(free_port) dport=$(free_port) nport=$(free_port)
cat >"$work/trapline.conf" <<CONF
http_threads = 1
threads = 1
http_max_conns_per_ip = 1024
http_max_conns = 2048
export_interval = 0
log_level = warn
CONF
taskset -c 0 "$bin" serve --data "$data" --dns "127.0.0.1:$dport" --http "127.0.0.1:$hport" \
	--config "$work/trapline.conf" 2>"$work/trapline.log" &
tpid=$!
pids+=("$tpid")
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$hport/static/style.css" && break; sleep 0.1; done
one=$(curl -sf "http://127.0.0.1:$hport/api/v1/lookup/$(head -n 1 "$work/addrs")") ||
	{ echo "web.sh: trapline did not answer; its log:" >&2; tail "$work/trapline.log" >&2; exit 1; }
printf '%s\n' "$one" >"$work/lookup.json"
chmod 644 "$work/lookup.json"
say "   one answer: $(printf '%s' "$one" | wc -c) bytes of JSON, listed=$(printf '%s' "$one" | grep -c '"listed": true')"
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  types { application/json json; }
  server { listen 127.0.0.1:$nport; root $work; location = /lookup.json { } }
}
CONF
taskset -c 0 nginx -e "$work/nginx/error.log" -c "$work/nginx.conf" -p "$work/nginx" 2>>"$work/nginx/error.log" &
npid=$!
pids+=("$npid")
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$nport/lookup.json" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$nport/lookup.json" || { echo "web.sh: nginx did not start" >&2; cat "$work/nginx/error.log" >&2; exit 1; }

# The CPU time (ticks) of a server's processes: what it spent, whatever else ran on its core.
cpu_ticks() { local p t=0; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"; }
nginx_pids() { echo "$npid $(ps --ppid "$npid" -o pid= | tr '\n' ' ')"; }
# wrk_run PORT SCRIPT PIDS...: prints "rps p99_ms cpu_us_per_request"
wrk_run() {
	local out c0 c1 reqs port=$1 script=$2
	shift 2
	c0=$(cpu_ticks "$@")
	out=$(taskset -c 1 wrk -t 1 -c "$conns" -d "${secs}s" --latency -s "$script" "http://127.0.0.1:$port" 2>&1)
	c1=$(cpu_ticks "$@")
	reqs=$(printf '%s\n' "$out" | awk '/requests in/ { print $1 }')
	printf '%s\n' "$out" >>"$work/wrk.log"
	local rps p99 errs
	rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec/ { print $2 }')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } print v }')
	errs=$(printf '%s\n' "$out" | awk '/Non-2xx|Socket errors/ { print }' | tr '\n' ' ')
	local us
	us=$(awk -v a="$c0" -v b="$c1" -v r="${reqs:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (r > 0) printf "%.1f", (b - a) * 1e6 / hz / r; else print 0 }')
	echo "${rps:-0} ${p99:-0} $us ${errs}"
}

# Warm-up, not counted: the first requests fault the store's pages in (a million listings
# are about 150 MB of SQLite file), and nginx opens its file once.
taskset -c 1 wrk -t 1 -c "$conns" -d 8s -s "$work/lookup.lua" "http://127.0.0.1:$hport" >/dev/null 2>&1
taskset -c 1 wrk -t 1 -c "$conns" -d 3s -s "$work/static.lua" "http://127.0.0.1:$nport" >/dev/null 2>&1
say "== 1. GET /api/v1/lookup/IP (trapline) and GET /lookup.json (nginx, one worker), alternating"
for r in $(seq 1 "$runs"); do
	# shellcheck disable=SC2046
	quiet; read -r n_rps n_p99 n_us n_err <<<"$(wrk_run "$nport" "$work/static.lua" $(nginx_pids))"
	quiet; read -r t_rps t_p99 t_us t_err <<<"$(wrk_run "$hport" "$work/lookup.lua" "$tpid")"
	say "   round $r: nginx $n_rps req/s p99 $n_p99 ms, $n_us us CPU/req ${n_err:-}| trapline $t_rps req/s p99 $t_p99 ms, $t_us us CPU/req ${t_err:-}| ratio $(ratio "$t_rps" "$n_rps") (CPU: $(ratio "$n_us" "$t_us"))"
	echo "$n_rps" >>"$work/n_rps"; echo "$t_rps" >>"$work/t_rps"; echo "$t_p99" >>"$work/t_p99"
	echo "$n_us" >>"$work/n_us"; echo "$t_us" >>"$work/t_us"
	ratio "$t_rps" "$n_rps" >>"$work/ratios"; echo >>"$work/ratios"
	ratio "$n_us" "$t_us" >>"$work/cpu_ratios"; echo >>"$work/cpu_ratios"
done
n_med=$(median <"$work/n_rps") t_med=$(median <"$work/t_rps") p99_med=$(median <"$work/t_p99")
n_us_med=$(median <"$work/n_us") t_us_med=$(median <"$work/t_us")
r_med=$(grep . "$work/ratios" | median) c_med=$(grep . "$work/cpu_ratios" | median)

say "== 2. DNS on the same core as the web threads, while wrk loads the API"
say "   a. full load: qblast -q 100 alone, then with wrk (at nice 19 beside it on cpu 1, so the"
say "      probe is not starved by the load generator; on cpu 0 the web threads run at http_nice)"
say "   b. a fixed 50% of the full-load rate: qblast -Q alone, then with wrk at full priority"
# qblast_run SECONDS [QPS]: prints "qps p99_us"
qblast_run() {
	taskset -c 1 "$work/qblast" -s 127.0.0.1 -p "$dport" -d "$work/queries" -l "$1" -q 100 ${2:+-Q "$2"} 2>/dev/null |
		sed -n 's/^RESULT.* qps=\([0-9.]*\).* p99_us=\([0-9.]*\).*/\1 \2/p'
}
# with_wrk NICE SECONDS [QPS]: qblast while wrk loads the API; prints "qps p99_us api_rps"
with_wrk() {
	taskset -c 1 nice -n "$1" wrk -t 1 -c "$conns" -d "$(($2 + 2))s" -s "$work/lookup.lua" "http://127.0.0.1:$hport" >"$work/wrk-dns.out" 2>&1 &
	local wpid=$! q
	pids+=("$wpid")
	sleep 1
	q=$(qblast_run "$2" "${3:-}")
	wait "$wpid" || true
	echo "$q $(awk '/^Requests\/sec/ { print $2 }' "$work/wrk-dns.out")"
}
for r in $(seq 1 "$runs"); do
	quiet; read -r idle idle99 <<<"$(qblast_run "$secs")"
	quiet; read -r busy busy99 api <<<"$(with_wrk 19 "$secs")"
	say "   round $r a: DNS alone ${idle:-0} qps (p99 ${idle99:-0} us) | with the API loaded ${busy:-0} qps (p99 ${busy99:-0} us; API meanwhile ${api:-0} req/s) | ratio $(ratio "${busy:-0}" "${idle:-0}")"
	ratio "${busy:-0}" "${idle:-0}" >>"$work/dns_ratios"; echo >>"$work/dns_ratios"
	half=$(awk -v q="${idle:-0}" 'BEGIN { printf "%d", q / 2 }')
	quiet; read -r fidle fidle99 <<<"$(qblast_run "$secs" "$half")"
	quiet; read -r fbusy fbusy99 fapi <<<"$(with_wrk 0 "$secs" "$half")"
	say "   round $r b: DNS at $half qps offered: alone ${fidle:-0} qps (p99 ${fidle99:-0} us) | with the API loaded ${fbusy:-0} qps (p99 ${fbusy99:-0} us; API meanwhile ${fapi:-0} req/s) | ratio $(ratio "${fbusy:-0}" "${fidle:-0}")"
	ratio "${fbusy:-0}" "${fidle:-0}" >>"$work/dns_fixed"; echo >>"$work/dns_fixed"
done
d_med=$(grep . "$work/dns_ratios" | median)
f_med=$(grep . "$work/dns_fixed" | median)

say "== summary (medians)"
say "   nginx, one worker, static JSON:   $n_med req/s"
say "   trapline GET /api/v1/lookup/IP:  $t_med req/s, p99 $p99_med ms  (target: >= 0.25x nginx, p99 <= 20 ms)"
say "   trapline / nginx:                 $r_med"
say "   server CPU per request:           nginx $n_us_med us, trapline $t_us_med us; as requests a core"
say "                                     could serve, trapline / nginx = $c_med (the figure other"
say "                                     processes on the machine disturb least)"
say "   DNS qps with the API loaded / alone, full load:   $d_med  (target: >= 0.9)"
say "   DNS qps with the API loaded / alone, 50% offered: $f_med"
{ echo "---- wrk output"; cat "$work/wrk.log"; echo "---- trapline log"; cat "$work/trapline.log"; } >>"$log"
echo "log: $log"
