#!/usr/bin/env bash
# reports.sh - user reports over HTTP: how many reports a second the service analyses and
# commits, each answered 201 only after its commit. wrk posts the 39 messages of
# tests/data/received in turn, each made unique by a header of its own (run, thread, counter)
# so that none is a duplicate, with one reporter's key and report_max_per_hour = 0. Each
# message's source is varied per request (below). Two services run side by side, one with
# the default web threads (one per core) and one with 8 (a worker waits for the writer's
# commit of its report, so more workers keep more reports in one commit); the rounds
# alternate between them. Beside them, the analysis alone per message (build/bench_mail, as
# bench/mail.sh runs it), so that the HTTP figure can be read as a multiple of it. Every run
# waits for a quiet machine first (quiet.sh); medians. The log goes to
# bench/results/DATE-COMMIT-reports.txt (--quick: a temp file).
#
#   bench/reports.sh [--quick] [--no-build] [--seconds S] [--runs N] [--conns C]
#                    [--threads "T1 T2"] [--pin] [--same-sources]   (make bench-reports)
#
# Bounded: each run lasts S seconds (10) and stops after 20,000 reports a connection.
# By default the services have both cores (the target, 2,000 reports/s, is for this 2-core
# machine) and wrk runs at nice 19 beside them; --pin puts them on cpu 0 and wrk on cpu 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
quick=0 dobuild=1 secs=10 runs=3 conns=32 configs="0 8" pin=0 per_conn=20000 same=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--no-build) dobuild=0 ;;
	--seconds) secs=$2; shift ;;
	--runs) runs=$2; shift ;;
	--conns) conns=$2; shift ;;
	--threads) configs=$2; shift ;;
	--pin) pin=1 ;;
	--same-sources) same=1 ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "reports.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ $quick = 1 ] && secs=3 runs=1
max_foreign=5 quiet_wait=${QUIET_WAIT:-60}
. "$here/quiet.sh"
for tool in wrk taskset python3 curl; do
	command -v "$tool" >/dev/null || { echo "reports.sh: $tool missing (scripts/deps.sh --test)" >&2; exit 2; }
done
if [ $dobuild = 1 ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" --target trapline bench_mail >/dev/null
fi
bin=${TRAPLINE:-$build/trapline}
corpus=$root/tests/data/received
. "$here/lib.sh"
bench_work trapline-reports-bench
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo nogit)
mkdir -p "$root/bench/results"
log=$root/bench/results/$(date -u +%Y-%m-%d)-$commit-reports.txt
[ $quick = 1 ] && log=$work/quick-reports.txt
: >"$log"
say() { echo "$*" | tee -a "$log"; }
quiet() { wait_quiet 2> >(tee -a "$log" >&2); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

srv_cpus=0-1 cli=(nice -n 19)
[ $pin = 1 ] && srv_cpus=0 cli=(taskset -c 1)
say "== reports $(date -u +%FT%RZ), git $commit, $(nproc) cpus, $(sed -n 's/^model name.*: //p' /proc/cpuinfo | head -n 1)"
say "   POST /api/v1/reports, wrk -t 1 -c $conns, $secs s runs, $runs rounds; services on cpus $srv_cpus, wrk: ${cli[*]}"
say "   command: bench/reports.sh $*"

# ---- the services: each its own data directory and reporter --------------------------------
declare -A tpid hport key
for t in $configs; do
	hport[$t]=$(free_port)
	mkdir -p "$work/$t/data"
	cat >"$work/$t/trapline.conf" <<CONF
report_max_per_hour = 0
http_threads = $t
http_max_conns_per_ip = 1024
http_max_conns = 2048
export_interval = 0
log_level = warn
CONF
	[ "$(id -u)" = 0 ] && chown trapline: "$work/$t/data" # the service's user (config key user)
	taskset -c "$srv_cpus" "$bin" serve --data "$work/$t/data" --dns "127.0.0.1:$(free_port)" \
		--smtp off --http "127.0.0.1:${hport[$t]}" --config "$work/$t/trapline.conf" \
		2>"$work/$t/trapline.log" &
	tpid[$t]=$!
	pids+=("${tpid[$t]}")
	for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:${hport[$t]}/static/style.css" && break; sleep 0.1; done
	key[$t]=$("$bin" reporter add bench --trusted-relays "$corpus/default.trusted" --data "$work/$t/data" |
		sed -n 's/^key: //p')
	[ -n "${key[$t]}" ] || { echo "reports.sh: no reporter key; the log:" >&2; tail "$work/$t/trapline.log" >&2; exit 1; }
done

# ---- wrk's script: the corpus as Lua strings, a header of its own per request ------------
# Each message's source (as the analysis finds it with the bench's relays) is replaced, per
# request, by one of 4096 addresses of 198.18.0.0/20 (2001:db8:b::/116 for IPv6), so that the
# evidence spreads as reports of many senders do, some addresses getting enough to be
# listed. With --same-sources the corpus goes as it is: every report goes to one of its ~30
# sources, and each of those addresses' growing evidence is read and sorted by the policy
# for every report (a different benchmark: one address reported tens of thousands of times).
for f in "$corpus"/*.eml; do
	# (exit status 1: refused, no source; the JSON says so)
	src=$({ "$bin" report analyse --trusted-relays "$corpus/default.trusted" --json "$f" 2>/dev/null || true; } |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["source_ip"] or "-")' 2>/dev/null) || src=-
	printf '%s %s\n' "$f" "${src:--}"
done >"$work/sources"
varied=$(python3 - "$work/sources" "$work/messages.lua" "$same" <<'PY'
import re, sys
out = open(sys.argv[2], "w")
out.write("msgs = {}\nnl = {}\n")
varied = 0
def lua(b):
    return '"%s"' % "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\%03d" % c for c in b)
for line in open(sys.argv[1]):
    path, src = line.split()
    b = open(path, "rb").read()
    first = b.split(b"\n", 1)[0]
    # The added header ends its line as the message's first line does (CRLF or LF).
    out.write("nl[#nl + 1] = %s\n" % ('"\\r\\n"' if first.endswith(b"\r") else '"\\n"'))
    parts = [b]
    if src != "-" and sys.argv[3] == "0":
        six = ":" in src
        edge = rb"0-9a-fA-F:" if six else rb"0-9"
        pat = rb"(?<![" + edge + rb".])" + re.escape(src.encode()) + rb"(?![" + edge + rb"])"
        if re.search(pat, b):
            parts = re.split(pat, b)
            varied += 1
            out.write("-- %s: source %s, %d places\n" % (path.rsplit("/", 1)[-1], src, len(parts) - 1))
    out.write("msgs[#msgs + 1] = {six = %s, %s}\n" % ("true" if src != "-" and ":" in src else "false",
                                                     ", ".join(lua(p) for p in parts)))
print("%d messages, %d with their source varied per request" % (len(open(sys.argv[1]).readlines()), varied))
PY
)
say "   $varied"
for t in $configs; do
	cat >"$work/$t/reports.lua" <<LUA
dofile("$work/messages.lua")
local threads, n_threads = {}, 0
function setup(thread)
	n_threads = n_threads + 1
	thread:set("tid", n_threads)
	threads[n_threads] = thread
end
function init(args)
	run = args[1] or "0"
	count, ok, dup, bad = 0, 0, 0, 0
	limit = tonumber(args[2] or "20000") -- answers this thread waits for at most
	wrk.headers["Authorization"] = "Bearer ${key[$t]}"
	wrk.headers["Content-Type"] = "message/rfc822"
end
-- One of 4096 sources, by the request's number.
local function source(k, six)
	k = k % 4096
	if six then return string.format("2001:db8:b::%x", k + 1) end
	return string.format("198.18.%d.%d", math.floor(k / 256), k % 256)
end
function request()
	count = count + 1
	local i = (count % #msgs) + 1
	local m = msgs[i]
	local body = m[1]
	if #m > 1 then body = table.concat(m, source(count * 7919 + tid, m.six)) end
	body = "X-Bench: " .. run .. "-" .. tid .. "-" .. count .. nl[i] .. body
	return wrk.format("POST", "/api/v1/reports", nil, body)
end
function response(status, headers, body)
	if status == 201 then ok = ok + 1 elseif status == 200 then dup = dup + 1 else bad = bad + 1 end
	if ok + dup + bad >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
	local o, d, b = 0, 0, 0
	for _, t in ipairs(threads) do o = o + t:get("ok"); d = d + t:get("dup"); b = b + t:get("bad") end
	io.write(string.format("RESULT created=%d duplicate=%d other=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
		o, d, b, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
done

stored() { python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:%s/trapline.db?mode=ro" % sys.argv[1], uri=True, timeout=5).execute("SELECT count(*) FROM reports").fetchone()[0])' "$work/$1/data"; }
# run_wrk CONFIG R: prints "reports_per_s cpu_us_per_report p50_ms p99_ms created other stored_more"
run_wrk() {
	local t=$1 out c0 c1 s0 s1
	s0=$(stored "$t")
	c0=$(cpu_ticks "${tpid[$t]}")
	out=$("${cli[@]}" wrk -t 1 -c "$conns" -d "${secs}s" --latency -s "$work/$t/reports.lua" \
		"http://127.0.0.1:${hport[$t]}" -- "$2" "$((per_conn * conns))" 2>&1)
	c1=$(cpu_ticks "${tpid[$t]}")
	s1=$(stored "$t")
	printf 'http_threads %s round %s\n%s\n' "$t" "$2" "$out" >>"$work/wrk.log"
	printf '%s\n' "$out" | awk -v c0="$c0" -v c1="$c1" -v hz="$(getconf CLK_TCK)" -v s0="$s0" -v s1="$s1" '
		/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		END { r = v["seconds"] > 0 ? v["created"] / v["seconds"] : 0
		      us = v["created"] > 0 ? (c1 - c0) * 1e6 / hz / v["created"] : 0
		      printf "%.0f %.0f %s %s %d %d %d\n", r, us, v["p50_ms"], v["p99_ms"], v["created"], v["other"], s1 - s0 }'
}

# A warm-up of each, not counted: the first reports create the store's pages.
for t in $configs; do
	"${cli[@]}" wrk -t 1 -c "$conns" -d 3s -s "$work/$t/reports.lua" "http://127.0.0.1:${hport[$t]}" -- w 2000 >/dev/null 2>&1
done
say "== 1. reports/s over HTTP, each analysed and committed before its 201 (http_threads: $configs; 0 = one per core)"
for r in $(seq 1 "$runs"); do
	for t in $configs; do
		quiet
		read -r rps us p50 p99 created other more <<<"$(run_wrk "$t" "$r")"
		if [ "$more" -ge "$created" ]; then acked="every 201 is stored"; else acked="FEWER STORED THAN ACKNOWLEDGED"; fi
		say "   round $r, http_threads $t: $rps reports/s ($created answered 201, $other other answers, $more stored: $acked), p50 $p50 ms, p99 $p99 ms, service CPU $us us/report"
		echo "$rps" >>"$work/$t.rps"; echo "$us" >>"$work/$t.us"; echo "$p99" >>"$work/$t.p99"
	done
done

say "== 2. the analysis alone, per message (build/bench_mail over the corpus, 3 rounds of 100, cpu 1)"
quiet
analysis=$(taskset -c 1 "$build/bench_mail" "$corpus" 3 100 2>&1 | tee -a "$work/mail.log" |
	sed -n 's/^median per message: analyse \([0-9.]*\) us.*/\1/p')
say "   $(grep '^median per message' "$work/mail.log")"

say "== summary (medians of $runs rounds)"
for t in $configs; do
	rps_med=$(median <"$work/$t.rps") us_med=$(median <"$work/$t.us") p99_med=$(median <"$work/$t.p99")
	say "   http_threads $t: $rps_med reports/s analysed and committed (target: >= 2,000), p99 $p99_med ms,"
	say "      service CPU $us_med us/report (all threads, both cores) = $(ratio "$us_med" "${analysis:-0}") x the analysis alone"
done
say "   the analysis alone: ${analysis:-?} us per message (median over the corpus)"
{ echo "---- wrk output"; cat "$work/wrk.log"; echo "---- bench_mail"; cat "$work/mail.log"
  for t in $configs; do echo "---- trapline log (http_threads $t)"; cat "$work/$t/trapline.log"; done; } >>"$log"
echo "log: $log"
