#!/usr/bin/env bash
# test_reload_limits.sh - SIGHUP changes the limits on clients live (issue 22): a usage limit set
# on a running server gives answer_a_excess past it; a public_resolvers file added gives
# answer_a_public_resolver; a file with a bad line refuses the whole reload (logged, nothing
# changed), and the same file fixed in place is read again; rrl_rate from 0 to a small rate
# limits a flood of one name; metrics_allow narrowed answers /metrics 403. The loopback
# addresses 127.0.x.y are the clients: each /24 is a prefix of its own (rrl_ipv4_prefix 24).
source "$(dirname "$0")/lib.sh"

Z=$TL_ZONE
FLOOD="$TL_DIR/rrlflood.py"
CONF=$TL_TMP/limits.conf
PUB=$TL_TMP/public
RATE=5
# conf USAGE_LIMIT RRL_RATE PUBLIC_RESOLVERS METRICS_ALLOW: the file the service reads,
# written whole then renamed into place. rrl_exempt is empty: it defaults to the loopback, whose
# addresses are this test's clients.
conf() {
	cat >"$CONF.tmp" <<EOF
usage_limit_per_day = $1
rrl_rate = $2
rrl_slip = 2
rrl_exempt = ""
public_resolvers = $3
metrics_allow = $4
EOF
	chmod 644 "$CONF.tmp"
	mv "$CONF.tmp" "$CONF"
}
conf 0 0 "" "127.0.0.0/8"
TL_HTTP=1 tl_start --config "$CONF" --threads 2
tl_wait_http || tl_die "the web pages answer"

log_has() { grep -Ec -- "$1" "$TL_LAST_LOG"; }
# reload: SIGHUP, then wait until the log says the reload ended (done, partly failed, failed).
reload() {
	local n0
	n0=$(log_has 'module=main reload (done|partly failed|failed)')
	kill -HUP "$TL_LAST_PID"
	tl_poll 100 1 eval 'echo $(( $(log_has "module=main reload (done|partly failed|failed)") > n0 ))' >/dev/null
}
# a_from SOURCE NAME: the A answer for NAME asked from SOURCE, or its status.
a_from() {
	local out
	out=$(dig -b "$1" @127.0.0.1 -p "$PORT" +time=$((2 * TL_SLOW)) +tries=1 "$2" A 2>&1)
	printf '%s\n' "$out" | awk '$4 == "A" { print $5; f = 1 } END { if (!f) print "" }' | head -n 1 | grep . ||
		printf '%s\n' "$out" | grep -Eo 'status: [A-Z]+' | head -n 1
}
# Bounded: 1000 queries at most per run, every read bounded by --timeout.
flood() { python3 "$FLOOD" "$PORT" --timeout $((3 * TL_SLOW)) --name "$1" --source "$2" --count 1000; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
unlisted="9.9.9.199.$Z"

# ---- at start: no usage limit, no rate limit ------------------------------------------------
answers=""
for i in 1 2 3 4 5 6; do answers="$answers$(a_from 127.0.1.1 "$unlisted") "; done
check_eq "usage_limit_per_day = 0: a client is answered normally" \
	"$(printf 'status: NXDOMAIN %.0s' 1 2 3 4 5 6)" "$answers"
out=$(flood "8.8.8.199.$Z" 127.0.7.1)
echo "# rrl_rate 0: $out"
full=$(field "$out" full) tc=$(field "$out" tc) span=$(field "$out" span)
if [ "$tc" -eq 0 ] && [ "$full" -gt $((RATE * span)) ]; then
	tl_ok "rrl_rate = 0: a flood of one name is not limited ($full full answers in $span s)"
else
	tl_fail "rrl_rate = 0: a flood of one name is not limited" "$out"
fi
check_eq "metrics_allow = 127.0.0.0/8: /metrics answers 127.0.0.1" 200 "$(tl_http_status /metrics)"

# ---- a usage limit set live -----------------------------------------------------------------
conf 3 0 "" "127.0.0.0/8"
reload
check_match "the reload names the key that changed" 'reload done changed=.*usage_limit_per_day' "$(cat "$TL_LAST_LOG")"
answers=""
for i in 1 2 3 4 5; do answers="$answers$(a_from 127.0.1.1 "$unlisted") "; done
check_eq "SIGHUP with usage_limit_per_day = 3: past it the client gets 127.255.255.255" \
	"status: NXDOMAIN status: NXDOMAIN status: NXDOMAIN 127.255.255.255 127.255.255.255 " "$answers"
check_eq "another prefix is answered normally meanwhile" "status: NXDOMAIN" "$(a_from 127.0.2.1 "$unlisted")"

# ---- a public_resolvers file added live ------------------------------------------------------
printf '%s\n' "# public resolvers of the test" "127.0.4.0/24" >"$PUB"
chmod 644 "$PUB"
conf 3 0 "$PUB" "127.0.0.0/8"
reload
check_eq "SIGHUP adding public_resolvers: a client in it gets 127.255.255.254" \
	"127.255.255.254" "$(a_from 127.0.4.20 "$unlisted")"
check_eq "the day's counts survive the reload (the client over its limit stays over it)" \
	"127.255.255.255" "$(a_from 127.0.1.1 "$unlisted")"

# ---- a public_resolvers file with a bad line: the whole reload refused ------------------------
printf '%s\n' "127.0.6.0/24" "not-an-address" >"$PUB"
conf 1000 0 "$PUB" "127.0.0.0/8"
n0=$(log_has 'reload failed')
reload
check_eq "a public_resolvers file with a bad line refuses the reload" 1 $(($(log_has 'reload failed') - n0))
check_match "... logged with the file and the line" 'reload failed reason=.*public_resolvers: .*public:2.* keeping=running' "$(cat "$TL_LAST_LOG")"
check_eq "... the old public resolvers stay" "127.255.255.254" "$(a_from 127.0.4.20 "$unlisted")"
check_eq "... and so does the old usage limit (not 1000)" "127.255.255.255" "$(a_from 127.0.1.1 "$unlisted")"
check_eq "... the file's new prefix is not taken" "status: NXDOMAIN" "$(a_from 127.0.6.1 "$unlisted")"

# The same file fixed in place (the key unchanged): read again on SIGHUP.
printf '%s\n' "127.0.6.0/24" >"$PUB"
reload
check_eq "the file fixed in place is read again on SIGHUP: its new prefix" \
	"127.255.255.254" "$(a_from 127.0.6.1 "$unlisted")"
check_eq "... the prefix it no longer holds is answered normally" "status: NXDOMAIN" "$(a_from 127.0.4.20 "$unlisted")"
check_eq "... and usage_limit_per_day = 1000 lets the client in again" "status: NXDOMAIN" "$(a_from 127.0.1.1 "$unlisted")"

# ---- rate limiting switched on live ----------------------------------------------------------
conf 0 "$RATE" "" "127.0.0.0/8"
reload
out=$(flood "8.8.8.199.$Z" 127.0.7.1)
echo "# rrl_rate $RATE: $out"
sent=$(field "$out" sent) full=$(field "$out" full) tc=$(field "$out" tc) span=$(field "$out" span)
if [ "$full" -le $((RATE * span)) ] && [ "$full" -ge 1 ] && [ "$tc" -gt 0 ]; then
	tl_ok "SIGHUP with rrl_rate = $RATE: a flood of one name is limited ($full full, $tc slipped of $sent in $span s)"
else
	tl_fail "SIGHUP with rrl_rate = $RATE: a flood of one name is limited" "$out"
fi
check_eq "usage_limit_per_day back to 0: the client over its old limit is answered normally" \
	"status: NXDOMAIN" "$(a_from 127.0.1.1 "$unlisted")"

# ---- metrics_allow narrowed live -------------------------------------------------------------
conf 0 "$RATE" "" "127.0.0.2/32"
reload
check_eq "SIGHUP with metrics_allow excluding 127.0.0.1: /metrics answers 403" 403 "$(tl_http_status /metrics)"
check_eq "the other pages still answer" 200 "$(tl_http_status /about/usage)"
check_match "/about/usage states the rate limit in force after the reload" \
	"at most <strong>$RATE</strong> UDP answers a second" "$(tl_http /about/usage)"
tl_stop

tl_finish
