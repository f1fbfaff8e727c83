#!/usr/bin/env bash
# test_fault_flood.sh - malformed floods on every port at once (tests/integration/flood.py: junk
# datagrams and DNS-shaped junk to UDP DNS, junk and broken length prefixes to TCP DNS, junk
# to SMTP, HTTP and the control socket) for a bounded time, while real queries go to DNS in a
# bounded loop: every one of them is answered, and right. Afterwards the service still runs,
# and every front door still serves a real client.
source "$(dirname "$0")/lib.sh"

FLOOD_S=$((8 * TL_SLOW))
DATA=$TL_TMP/data
tl_mkdata "$DATA"
CONF=$TL_TMP/trapline.conf
cat >"$CONF" <<CONF
trap_domains = trap.example
exclude_default = 127.0.0.0/8, ::1/128
CONF
tl() { "$TRAPLINE" "$@" --data "$DATA" --config "$CONF"; }
TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
tl_wait_http || tl_die "the web pages answer on port $HPORT"
LISTED=199.18.50.1
run_ok tl evidence add --ip "$LISTED" --kind trap
run_ok tl evidence add --ip "$LISTED" --kind trap
check_ip_a "before: $LISTED is listed" "$LISTED" 127.0.0.2 50

python3 "$TL_DIR/flood.py" --seconds "$FLOOD_S" --dns "$PORT" --smtp "$SMTP_PORT" \
	--http "$HPORT" --ctl "$DATA/trapline.sock" >"$TL_TMP/flood.out" 2>&1 &
flood=$!
TL_PIDS+=("$flood")
# Real queries meanwhile, over UDP and TCP, each with one try (a real resolver would retry;
# here none may need to): listed, the test point, not listed.
asked=0 wrong=()
start=$SECONDS
while kill -0 "$flood" 2>/dev/null && [ $((SECONDS - start)) -lt $((FLOOD_S + 20)) ]; do
	asked=$((asked + 1))
	case $((asked % 3)) in
	0) q=$(rev4 "$LISTED").$TL_ZONE want=127.0.0.2 tcp=+tcp ;;
	1) q=2.0.0.127.$TL_ZONE want=127.0.0.2 tcp=+notcp ;;
	2) q=$(rev4 199.18.50.2).$TL_ZONE want=NXDOMAIN tcp=+notcp ;;
	esac
	out=$(dig @127.0.0.1 -p "$PORT" +time=$((2 * TL_SLOW)) +tries=1 "$tcp" "$q" A 2>&1)
	got=$(printf '%s\n' "$out" | awk '$4 == "A" { print $5; exit }')
	[ "$want" = NXDOMAIN ] && got=$(rcode_of "$out")
	[ "$got" = "$want" ] || wrong+=("$q $tcp: ${got:-no answer}")
	sleep 0.05
done
wait "$flood"
check_match "the flood ran on every port ($(cat "$TL_TMP/flood.out"))" \
	'udp_dns=[0-9]{3,}' "$(cat "$TL_TMP/flood.out")"
for kind in tcp_dns smtp http ctl; do
	check_match "... $kind connections were made" "(^| )${kind}(_refused)?=[0-9]+" \
		"$(cat "$TL_TMP/flood.out")"
done
check_match "real queries were asked during the flood ($asked)" '^[0-9]{2,}$' "$asked"
check_eq "every real query was answered, and right, during the flood" "" \
	"$(printf '%s\n' "${wrong[@]}" | head -n 5)"

# Afterwards every front door serves a real client.
kill -0 "$TL_LAST_PID" 2>/dev/null && tl_ok "the service survived the flood" ||
	tl_die "the service survived the flood" "$(tail -n 20 "$TL_LAST_LOG")"
check_eq "after: the lookup API answers" 200 "$(tl_http_status "/api/v1/lookup/$LISTED")"
check_cmd "after: the trap greets" tl_smtp_greets
out=$(tl_swaks --to after@trap.example --from x@spam.example)
check_match "after: the trap takes a message" '<-  250 2\.0\.0 Ok: stored' "$out"
# With the service holding the writer's lock, a command that writes can only succeed through
# the control socket.
check_cmd "after: the control socket takes a command (evidence add)" \
	tl evidence add --ip 199.18.50.3 --kind trap
check_ip_a "after: DNS still answers $LISTED" "$LISTED" 127.0.0.2
check_nomatch "no sanitizer report in the log" 'Sanitizer|runtime error' "$(cat "$TL_LAST_LOG")"
tl_stop
tl_finish
