#!/usr/bin/env bash
# test_tcp_limits.sh - TCP's limits against the real binary: one client holding 256 idle
# connections no longer locks everyone else out (tcp_max_per_client), a table full of idle
# connections makes room for a newcomer, and so does one full of half-sent queries from 16
# addresses (issue 19); a query trickled a byte at a time is closed tcp_query_ms after its
# first byte; each limit hit is logged, at most one line per kind every few seconds with a
# count of the rest.
source "$(dirname "$0")/lib.sh"

Z=$TL_ZONE
DATA="$TL_TMP/limits.zone"
printf '%s\n' "\$SOA 3600 ns1.$Z. hostmaster.$Z. 1 600 300 86400 300" "1.2.3.4" >"$DATA"
# A long idle timeout, so that nothing here is rescued by connections timing out.
CONF="$TL_TMP/limits.conf"
cat >"$CONF" <<'EOF'
tcp_max_conns = 256
tcp_max_per_client = 16
tcp_idle_ms = 120000
EOF

HOLD_PID=
HOLD_LINE=

# hold_start ARGS...: dnsraw.py tcphold in the background (bounded: it lets go after 60 s);
# waits for its "open=N closed=M failed=K" line and puts it in HOLD_LINE. Not to be called
# in $(...): HOLD_PID must reach this shell for hold_stop and the exit trap.
hold_start() {
	local i out="$TL_TMP/hold.$RANDOM"
	python3 "$TL_PY" --timeout $((20 * TL_SLOW)) tcphold "$PORT" --hold 60 \
		--settle $((1 * TL_SLOW)) "$@" >"$out" 2>&1 &
	HOLD_PID=$!
	TL_PIDS+=("$HOLD_PID")
	for i in $(seq 1 $((300 * TL_SLOW))); do
		grep -q '^open=' "$out" && break
		kill -0 "$HOLD_PID" 2>/dev/null || break
		sleep 0.1
	done
	HOLD_LINE=$(grep '^open=' "$out" || cat "$out")
}

hold_stop() {
	kill "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
}

# events_logged ERE: how many events the log lines matching ERE stand for (each line is one
# event plus suppressed=N others).
events_logged() {
	grep -E -- "$1" "$TL_LAST_LOG" | sed -nE 's/.* suppressed=([0-9]+).*/\1/p' |
		awk '{ n += 1 + $1 } END { print n + 0 }'
}

# check_events NAME ERE WANT: within 8 s (the held-back count comes out after 5 s), the lines
# matching ERE stand for WANT events.
check_events() {
	if tl_poll 80 "$3" events_logged "$2"; then
		tl_ok "$1"
	else
		tl_fail "$1" "expected $3 events, the log says $(events_logged "$2")" \
			"$(grep -E -- "$2" "$TL_LAST_LOG")"
	fi
}

echo "# 256 idle connections from 127.0.0.1 (the original complaint)"
tl_start --static "$DATA" --config "$CONF" --threads 1
hold_start --count 256 --sources 127.0.0.1
check_eq "the client's 16 connections are kept, its 240 others closed at once" \
	"open=16 closed=240 failed=0" "$HOLD_LINE"
out=$(tl_dig "2.0.0.127.$Z" A +tcp -b 127.0.0.2)
check_eq "dig +tcp from 127.0.0.2 is answered meanwhile" "NOERROR 1" \
	"$(rcode_of "$out") $(rr_count "$out" ANSWER A)"
out=$(tl_dig "2.0.0.127.$Z" A +tcp -b 127.0.0.1)
check_eq "dig +tcp from 127.0.0.1 itself is closed at once (no answer)" "" "$(rcode_of "$out")"
check_match "the first refusal is logged at once" \
	'level=warn module=dns tcp refused reason=client_limit client=127\.0\.0\.1 conns=16 limit=16 suppressed=0$' \
	"$(cat "$TL_LAST_LOG")"
check_events "the refusals held back are counted in a later line (241 in all)" \
	'tcp refused reason=client_limit client=127\.0\.0\.1 ' 241
n=$(grep -c 'tcp refused reason=client_limit' "$TL_LAST_LOG")
if [ "$n" -le 3 ]; then tl_ok "241 refusals make $n log lines, not one each"; else
	tl_fail "241 refusals make a few log lines, not one each" "$n lines"; fi
hold_stop
tl_stop
check_match "the counters at stop" 'tcp_rejected=0 tcp_rejected_client=241 tcp_evicted=0' \
	"$(grep 'stopped queries=' "$TL_LAST_LOG")"

echo "# 320 idle connections from 20 addresses: the table (256) makes room"
tl_start --static "$DATA" --config "$CONF" --threads 1
SRC=$(seq -f '127.0.0.%g' 10 29 | paste -sd, -)
hold_start --count 320 --sources "$SRC"
check_eq "256 kept, the 64 idle the longest closed for the newcomers" \
	"open=256 closed=64 failed=0" "$HOLD_LINE"
out=$(tl_dig "2.0.0.127.$Z" A +tcp -b 127.0.0.2)
check_eq "dig +tcp from 127.0.0.2 is answered in the full table" "NOERROR 1" \
	"$(rcode_of "$out") $(rr_count "$out" ANSWER A)"
check_match "the first closing is logged at once, naming the connection's client" \
	'tcp closed idle reason=table_full client=127\.0\.0\.10 idle_ms=[0-9]+ conns=256 limit=256 suppressed=0$' \
	"$(cat "$TL_LAST_LOG")"
check_events "every connection closed for room is counted (65)" 'tcp closed idle reason=table_full ' 65
hold_stop
tl_stop
check_match "the counters at stop" 'tcp_rejected=0 tcp_rejected_client=0 tcp_evicted=65' \
	"$(grep 'stopped queries=' "$TL_LAST_LOG")"

echo "# issue 19: 16 addresses, 16 half-sent queries each, fill the table; a newcomer gets in"
cat >"$TL_TMP/slow.conf" <<'EOF'
tcp_max_conns = 256
tcp_max_per_client = 16
tcp_idle_ms = 120000
tcp_query_ms = 120000
EOF
tl_start --static "$DATA" --config "$TL_TMP/slow.conf" --threads 1
SRC=$(seq -f '127.0.0.%g' 30 45 | paste -sd, -)
hold_start --count 256 --sources "$SRC" --partial
check_eq "256 connections, each with a query in progress" "open=256 closed=0 failed=0" "$HOLD_LINE"
out=$(tl_dig "2.0.0.127.$Z" A +tcp -b 127.0.0.2)
check_eq "dig +tcp from 127.0.0.2 is answered in the full table" "NOERROR 1" \
	"$(rcode_of "$out") $(rr_count "$out" ANSWER A)"
check_match "the half-sent query begun first is closed for it, and logged" \
	'tcp closed slow reason=table_full client=127\.0\.0\.30 query_ms=[0-9]+ conns=256 limit=256 suppressed=0$' \
	"$(cat "$TL_LAST_LOG")"
hold_stop
tl_stop
check_match "the counters at stop" 'tcp_rejected=0 tcp_rejected_client=0 tcp_evicted=1 tcp_query_timeouts=0' \
	"$(grep 'stopped queries=' "$TL_LAST_LOG")"

echo "# a query trickled a byte at a time: closed tcp_query_ms after its first byte"
cat >"$TL_TMP/trickle.conf" <<'EOF'
tcp_idle_ms = 120000
tcp_query_ms = 1000
EOF
tl_start --static "$DATA" --config "$TL_TMP/trickle.conf" --threads 1
# A byte every 0.2 s: never idle, and the whole query (about 44 bytes) would take 9 s.
st=$(python3 "$TL_PY" --timeout $((5 * TL_SLOW)) tcptrickle "$PORT" --gap 0.2)
check_match "the trickling connection is closed before its query is whole" \
	'^closed after_bytes=([0-9]|[1-3][0-9]) of=4[0-9]$' "$st"
check_match "... and logged" \
	'tcp closed slow reason=query_timeout client=127\.0\.0\.1 query_ms=[0-9]+ limit_ms=1000 suppressed=0$' \
	"$(cat "$TL_LAST_LOG")"
out=$(tl_dig "2.0.0.127.$Z" A +tcp)
check_eq "a query sent whole is answered as before" "NOERROR 1" \
	"$(rcode_of "$out") $(rr_count "$out" ANSWER A)"
check_nomatch "no error logged" 'level=error' "$(cat "$TL_LAST_LOG")"
tl_stop
check_match "the counter at stop" 'tcp_query_timeouts=1' "$(grep 'stopped queries=' "$TL_LAST_LOG")"

tl_finish
