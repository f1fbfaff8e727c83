#!/usr/bin/env bash
# test_rrl.sh - response rate limiting and usage limits against the real binary (issue 22):
# one client flooding one name gets at most rrl_rate full answers a second and truncated
# (slipped) ones, while another prefix asking the same name, and the same client asking
# other names, are answered in full; rrl_exempt is never limited; TCP never is. Usage
# limits: past usage_limit_per_day a prefix gets answer_a_excess about every address, another
# prefix does not, the next day (test clock) it is answered again; a public resolver gets
# answer_a_public_resolver. The loopback addresses 127.0.x.y are the clients: each /24 is a
# prefix of its own (rrl_ipv4_prefix 24).
source "$(dirname "$0")/lib.sh"

Z=$TL_ZONE
FLOOD="$TL_DIR/rrlflood.py"
DATA="$TL_TMP/rrl.zone"
printf '%s\n' "\$SOA 3600 ns1.$Z. hostmaster.$Z. 1 600 300 86400 300" "1.2.3.4" >"$DATA"
RATE=10

# Bounded: 3000 queries at most per run (well under a second of Python's sending), every
# read bounded by --timeout.
flood() {
	python3 "$FLOOD" "$PORT" --timeout $((3 * TL_SLOW)) "$@"
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# ---- rate limiting ------------------------------------------------------------------------
CONF="$TL_TMP/rrl.conf"
cat >"$CONF" <<EOF
rrl_rate = $RATE
rrl_slip = 2
rrl_exempt = 127.0.3.0/24
EOF
tl_start --static "$DATA" --config "$CONF" --threads 2

out=$(flood --source 127.0.1.1 --name "4.3.2.1.$Z" --count 3000 --other 127.0.2.1 \
	--other-count $((RATE - 2)) --names2 100 --tcp 50)
echo "# flood: $out"
sent=$(field "$out" sent) full=$(field "$out" full) tc=$(field "$out" tc) span=$(field "$out" span)
# The server counts whole seconds of its monotonic clock; a run of L seconds touches at most
# floor(L) + 2 of them, each allowing RATE full answers.
if [ "$full" -le $((RATE * span)) ] && [ "$full" -ge "$RATE" ]; then
	tl_ok "one client flooding one name gets at most rrl_rate full answers a second ($full in $span s)"
else
	tl_fail "one client flooding one name gets at most rrl_rate full answers a second" "$out"
fi
limited=$((sent - full)) slipped_seen=$tc
# rrl_slip 2: every second limited answer of a worker goes out truncated; with 2 workers at
# most one more each. Below: the kernel may drop some of the thousands of answers on a loaded
# machine (socket buffers), so at least a quarter rather than a half.
if [ "$tc" -le $((limited / 2 + 2)) ] && [ "$tc" -ge $((limited / 4)) ] && [ "$tc" -gt 0 ]; then
	tl_ok "every rrl_slip-th limited answer slips out truncated ($tc of $limited limited)"
else
	tl_fail "every rrl_slip-th limited answer slips out truncated" "$out"
fi
check_eq "another prefix asking the same name meanwhile is answered in full" \
	"$(field "$out" other_sent) 0" "$(field "$out" other_full) $(field "$out" other_tc)"
check_eq "the flooding client's queries for other names are answered in full" \
	"$(field "$out" names2_sent) 0" "$(field "$out" names2_full) $(field "$out" names2_tc)"
check_eq "TCP is never limited (the flooding client's 50 pipelined queries)" \
	"50" "$(field "$out" tcp_full)"

out=$(flood --source 127.0.3.1 --name "4.3.2.1.$Z" --count 1000)
echo "# exempt: $out"
full=$(field "$out" full) tc=$(field "$out" tc) span=$(field "$out" span)
if [ "$tc" -eq 0 ] && [ "$full" -gt $((RATE * span)) ]; then
	tl_ok "rrl_exempt is never limited ($full full answers in $span s)"
else
	tl_fail "rrl_exempt is never limited" "$out"
fi
tl_stop
# The server's own counts (rrl_dropped, rrl_slipped: what the metrics export): every slipped
# answer the client saw was counted (some counted may have been lost on the way), and each
# limited query was either dropped or slipped.
counts=$(grep -o 'rrl_dropped=[0-9]* rrl_slipped=[0-9]*' "$TL_LAST_LOG")
dropped=$(field "$counts" rrl_dropped) slipped=$(field "$counts" rrl_slipped)
if [ -n "$slipped" ] && [ "$slipped" -ge "$slipped_seen" ] && [ $((dropped + slipped)) -le "$limited" ] &&
	[ $((dropped + slipped)) -ge $((limited - limited / 10)) ]; then
	tl_ok "the server counts its limited answers ($counts; the client saw $slipped_seen of $limited slipped)"
else
	tl_fail "the server counts its limited answers" "$counts; client: $slipped_seen slipped of $limited limited"
fi

# ---- usage limits and public resolvers ---------------------------------------------------
CLOCK="$TL_TMP/clock"
echo 1800000000 >"$CLOCK" # 2027-01-15 08:00 UTC
export TRAPLINE_TEST_CLOCK=$CLOCK
printf '%s\n' "# public resolvers of the test" "127.0.4.0/24" "127.0.5.7  # one address" >"$TL_TMP/public"
CONF="$TL_TMP/usage.conf"
cat >"$CONF" <<EOF
usage_limit_per_day = 5
public_resolvers = $TL_TMP/public
public_url = https://bl.example.org
EOF
V6=""
tl_have_ipv6 && V6=--v6
tl_start $V6 --static "$DATA" --config "$CONF" --threads 2

# a_from SOURCE NAME [dig options]: the A answer (or the status) for NAME asked from SOURCE.
a_from() {
	local src=$1 name=$2 out
	shift 2
	out=$(dig -b "$src" @127.0.0.1 -p "$PORT" +time=2 +tries=1 "$name" A "$@" 2>&1)
	printf '%s\n' "$out" | awk '$4 == "A" { print $5; f = 1 } END { if (!f) print "" }' | head -n 1
	printf '%s\n' "$out" | grep -Eo 'status: [A-Z]+' | head -n 1
}
listed="4.3.2.1.$Z"
unlisted="9.9.9.199.$Z"
answers=""
for i in 1 2 3 4 5; do
	answers="$answers$(a_from 127.0.1.1 "$listed" | head -n 1) "
done
check_eq "a prefix's first usage_limit_per_day queries are answered normally" \
	"127.0.0.2 127.0.0.2 127.0.0.2 127.0.0.2 127.0.0.2 " "$answers"
check_eq "past the limit a listed address is answered answer_a_excess" \
	"127.255.255.255" "$(a_from 127.0.1.9 "$listed" | head -n 1)"
check_eq "past the limit an unlisted address too" \
	"127.255.255.255" "$(a_from 127.0.1.1 "$unlisted" | head -n 1)"
check_eq "past the limit over TCP too" \
	"127.255.255.255" "$(a_from 127.0.1.1 "$unlisted" +tcp | head -n 1)"
txt=$(dig -b 127.0.1.1 @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "$listed" TXT 2>&1)
check_match "the TXT answer past the limit points at /about/usage" \
	'https://bl.example.org/about/usage' "$txt"
check_eq "another prefix is answered normally meanwhile" \
	"status: NXDOMAIN" "$(a_from 127.0.2.1 "$unlisted" | tail -n 1)"
if [ -n "$V6" ]; then
	# IPv6 clients count by their /56 (rrl_ipv6_prefix): ::1's own count, apart from IPv4's.
	answers=""
	for i in 1 2 3 4 5 6; do
		answers="$answers$(dig -6 -b ::1 @::1 -p "$PORT" +time=2 +tries=1 +short "$listed" A 2>&1 | head -n 1) "
	done
	check_eq "an IPv6 client has its own daily count, then gets answer_a_excess" \
		"127.0.0.2 127.0.0.2 127.0.0.2 127.0.0.2 127.0.0.2 127.255.255.255 " "$answers"
else
	tl_skip "an IPv6 client has its own daily count" "no IPv6 loopback"
fi
echo $((1800000000 + 86400)) >"$CLOCK"
check_eq "the next day the prefix is answered normally again" \
	"status: NXDOMAIN" "$(a_from 127.0.1.1 "$unlisted" | tail -n 1)"
check_eq "a public resolver's prefix gets answer_a_public_resolver about an unlisted address" \
	"127.255.255.254" "$(a_from 127.0.4.20 "$unlisted" | head -n 1)"
check_eq "a public resolver's single address gets it about a listed one" \
	"127.255.255.254" "$(a_from 127.0.5.7 "$listed" | head -n 1)"
check_eq "its neighbour is not a public resolver" \
	"127.0.0.2" "$(a_from 127.0.5.8 "$listed" | head -n 1)"
check_eq "the zone's own records are not replaced (SOA to a public resolver)" \
	"status: NOERROR" "$(dig -b 127.0.4.20 @127.0.0.1 -p "$PORT" +time=2 +tries=1 "$Z" SOA | grep -Eo 'status: [A-Z]+')"
tl_stop

# The usage page tells both codes and the limits in force, from this config (a server of
# its own: the web pages are off with a static zone).
TL_HTTP=1 tl_start --config "$CONF"
if tl_wait_http; then
	page=$(tl_http /about/usage)
	check_match "/about/usage explains answer_a_excess" '<code>A 127.255.255.255</code></td><td>you made more queries today' "$page"
	check_match "/about/usage explains answer_a_public_resolver" '<code>A 127.255.255.254</code></td><td>you asked\s*$' "$page"
	check_match "/about/usage states the daily limit in force" 'Queries a day: <strong>5</strong> from one IPv4\s*$' "$page"
	check_match "/about/usage states the rate limit in force" 'at most <strong>20</strong> UDP answers a second' "$page"
	check_match "/about/usage: one answer in 2 slips truncated" 'one answer in\s*$' "$page"
	check_match "/about/end-users links the limits" 'href="/about/usage#limits"' "$(tl_http /about/end-users)"
	# Counted in the metrics: two queries from a public resolver, answered its code.
	for i in 1 2; do dig -b 127.0.4.30 @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "4.3.2.1.$Z" A >/dev/null 2>&1; done
	check_match "the metrics count the public resolver's answers" \
		'^trapline_dns_usage_limited_total\{code="public_resolver"\} 2$' "$(tl_http /metrics)"
else
	tl_fail "the web pages answer"
fi
tl_stop

# A public_resolvers file with a bad line stops the start, naming the line.
printf '%s\n' "127.0.4.0/24" "not-an-address" >"$TL_TMP/badpublic"
echo "public_resolvers = $TL_TMP/badpublic" >"$TL_TMP/bad.conf"
tl_mkdata "$TL_TMP/bad"
"$TRAPLINE" serve --config "$TL_TMP/bad.conf" --data "$TL_TMP/bad" --smtp off --http off \
	--dns "127.0.0.1:$(tl_free_port)" --static "$DATA" >"$TL_TMP/bad.log" 2>&1 &
bad_pid=$!
TL_PIDS+=("$bad_pid")
tl_poll $((50 * TL_SLOW)) 1 bash -c "kill -0 $bad_pid 2>/dev/null; echo \$?" >/dev/null
check_match "a bad public_resolvers line refuses the start, naming the line" \
	'badpublic:2' "$(cat "$TL_TMP/bad.log")"
kill -KILL "$bad_pid" 2>/dev/null
out=$("$TRAPLINE" check-config "$TL_TMP/bad.conf" 2>&1)
check_eq "check-config refuses it too (exit 2)" "2" "$?"
check_match "... naming the key and the line" 'public_resolvers: .*badpublic:2' "$out"

tl_finish
