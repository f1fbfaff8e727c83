#!/usr/bin/env bash
# test_node.sh - a trap node (`serve --forward`) and its primary on loopback: swaks to the node
# lists the sender at the primary (dig); with the primary stopped the node still answers 250,
# and once the primary is back every acknowledged message is evidence there, none twice;
# kill -9 of the node in the middle of a stream of messages loses none it acknowledged; a full
# spool answers 451; a wrong key keeps the hits in the spool, logged once; `trapline status`
# on the node shows the spool's depth and the last forward; a primary that takes fewer hits a
# request than the node sends makes it send fewer.
source "$(dirname "$0")/lib.sh"

command -v swaks >/dev/null || { tl_skip "swaks is not installed"; tl_finish; }

# ---- the primary -------------------------------------------------------------------------
PDATA=$TL_TMP/primary
tl_mkdata "$PDATA"
PCONF=$TL_TMP/primary.conf
# The node's hits name public addresses (PROXY headers); the primary's own trap is not used.
printf 'exclude_default = 127.0.0.0/8, ::1/128\n' >"$PCONF"
TL_HTTP=1 tl_start --data "$PDATA" --config "$PCONF"
tl_wait_http || tl_die "the primary's web answers" "$(tail -n 20 "$TL_LAST_LOG")"
PPORT=$PORT
PHTTP=$HPORT
PPID_=$TL_LAST_PID
ptl() { "$TRAPLINE" "$@" --data "$PDATA" --config "$PCONF"; }
FKEY=$(ptl feed add node-a | sed -n 's/^key: //p')
check_match "the primary made the node's feed key" '^tlf_[0-9a-f]{64}$' "$FKEY"
# primary_start: the primary again, on the same web port (the node's forward_url).
primary_start() {
	TL_HTTP=1 tl_start --data "$PDATA" --config "$PCONF" --http "127.0.0.1:$PHTTP"
	PPORT=$PORT
	PPID_=$TL_LAST_PID
}
# ev N: the primary's evidence from the node (all of it, or against one address).
ev() { TL_DATA=$PDATA tl_db "SELECT count(*) FROM evidence WHERE source = 'feed:node-a'${1:+ AND hex(ip) = '$(ip_hex "$1")'}"; }
ip_hex() { python3 -c 'import ipaddress,sys; print("00000000000000000000FFFF" + ipaddress.ip_address(sys.argv[1]).packed.hex().upper())' "$1"; }
dups() { TL_DATA=$PDATA tl_db "SELECT count(*) - count(DISTINCT hit_id) FROM evidence WHERE source = 'feed:node-a'"; }

# ---- the node ----------------------------------------------------------------------------
NDATA=$TL_TMP/node
tl_mkdata "$NDATA"
NPORT=$(tl_free_port)
# The test's client is on loopback: the node trusts it as a proxy, so that each message names
# the public address it comes "from" in a PROXY header (swaks --proxy-*).
node_conf() { # node_conf FILE [extra lines]
	{
		printf 'trap_domains = trap.example\nsmtp_hostname = node-a.example\n'
		printf 'smtp_proxy_trusted = 127.0.0.1/32\nforward_retry_max = 1\nforward_batch = 20\n'
		printf 'forward_url = http://127.0.0.1:%s\nforward_key = %s\n' "$PHTTP" "$FKEY"
		printf '%s\n' "${@:2}"
	} >"$1"
}
NCONF=$TL_TMP/node.conf
node_conf "$NCONF"
NPID=
NLOG=
NSTARTS=0
# node_start [serve options]: the node on NPORT, until it greets.
node_start() {
	NSTARTS=$((NSTARTS + 1))
	NLOG=$TL_TMP/node$NSTARTS.log
	"$TRAPLINE" serve --config "$NCONF" --data "$NDATA" --smtp "127.0.0.1:$NPORT" \
		--log-level debug "$@" >"$NLOG" 2>&1 &
	NPID=$!
	TL_PIDS+=("$NPID")
	# It trusts loopback as a proxy: a session without a PROXY header is closed unanswered,
	# so the log says when it is ready.
	tl_poll 100 1 grep -c 'module=main ready' "$NLOG" || tl_die "the node starts" "$(tail -n 20 "$NLOG")"
}
ntl() { "$TRAPLINE" "$@" --data "$NDATA" --config "$NCONF"; }
# send IP: one message to the node "from" IP; prints the reply to the message's end (the one
# before QUIT's 221), nothing when the node is not there.
send() {
	timeout $((30 * TL_SLOW)) swaks --server 127.0.0.1 --port "$NPORT" --timeout $((10 * TL_SLOW)) \
		--proxy-version 1 --proxy-family TCP4 --proxy-source "$1" --proxy-source-port 40000 \
		--proxy-dest 127.0.0.1 --proxy-dest-port 25 \
		--to spam@trap.example --from x@spam.example --body "spam from $1" 2>&1 |
		sed -n 's/^<[-*]* *\([0-9][0-9][0-9]\) .*/\1/p' | tail -n 2 | head -n 1
}
spool() { python3 - "$NDATA" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s/spool.db?mode=ro" % sys.argv[1], uri=True, timeout=5)
print(db.execute(sys.argv[2]).fetchone()[0])
EOF
}
depth() { spool 'SELECT count(*) FROM hits'; }

echo "# the node's configuration"
out=$("$TRAPLINE" check-config "$NCONF" 2>&1)
check_match "check-config: forward_url" "^forward_url = http://127\.0\.0\.1:$PHTTP\$" "$out"
check_match "...forward_key is set and never shown" '^forward_key = \(set, not shown\)$' "$out"
check_nomatch "...the key appears nowhere" "${FKEY#tlf_}" "$out"
printf 'forward_url = http://127.0.0.1:%s\n' "$PHTTP" >"$TL_TMP/nokey.conf"
out=$("$TRAPLINE" serve --config "$TL_TMP/nokey.conf" --data "$NDATA" 2>&1)
check_eq "a node without its key does not start: exit 2" 2 "$?"
check_match "...and says what is missing" 'forward_url: needs forward_key' "$out"

node_start --forward "http://127.0.0.1:$PHTTP" --forward-key "$FKEY"
check_match "the node runs the trap alone (no DNS, no web)" 'module=main starting .*node smtp=127\.0\.0\.1' "$(cat "$NLOG")"

echo "# swaks to the node lists the address at the primary"
codes=""
for _ in 1 2 3; do codes="$codes $(send 204.0.113.50)"; done
check_eq "three messages: 250 each" " 250 250 250" "$codes"
tl_poll 100 3 ev 204.0.113.50 && tl_ok "...each becomes evidence at the primary" ||
	tl_fail "...each becomes evidence at the primary" "got $(ev 204.0.113.50)" "$(tail -n 5 "$NLOG")"
check_ip_a "...which lists it (dig at the primary)" 204.0.113.50 127.0.0.2 50
check_eq "...the spool is empty" 0 "$(depth)"
check_eq "...each hit carries the node's id" 3 \
	"$(TL_DATA=$PDATA tl_db "SELECT count(*) FROM evidence WHERE hit_id GLOB 'node-a.example-[0-9a-f]*' AND length(hit_id) = 47")"
check_match "the node logs that the primary takes hits" 'module=forward primary takes hits' "$(cat "$NLOG")"
out=$(ptl status 2>&1)
check_match "status on the primary is the service's own (no spool there)" '^uptime: ' "$out"
check_nomatch "...not a node's" '^spool: ' "$out"

echo "# the primary stopped while mail arrives, then started: every message once"
tl_stop "$PPID_" >/dev/null
before=$(ev)
codes=""
for i in $(seq 1 10); do codes="$codes $(send "199.18.1.$i")"; done
check_eq "ten messages with the primary away: 250 each" "$(printf ' 250%.0s' $(seq 1 10))" "$codes"
check_eq "...all ten in the spool" 10 "$(depth)"
check_eq "...the node logged the primary away once" 1 "$(grep -c 'module=forward primary unreachable' "$NLOG")"
out=$(ntl status)
check_match "trapline status on the node: the spool's depth" '^spool: 10 hits waiting' "$out"
check_match "...and the last forward" '^last forward: 20[0-9-]+T[0-9:]+Z' "$out"
# It comes back taking fewer hits a request than the node's forward_batch (20).
printf 'feed_max_hits = 5\n' >>"$PCONF"
primary_start
tl_poll 200 $((before + 10)) ev && tl_ok "the primary back: the ten arrive" ||
	tl_fail "the primary back: the ten arrive" "got $(($(ev) - before))" "$(tail -n 5 "$NLOG")"
check_eq "...none twice" 0 "$(dups)"
check_match "...in batches the primary takes (feed_max_hits 5: the node halved 20 twice)" \
	'primary takes fewer hits a request status=400 batch=5' "$(cat "$NLOG")"
tl_poll 50 0 depth && tl_ok "...and the spool empties" || tl_fail "...and the spool empties" "$(depth)"
check_match "...status --json: depth 0" '"depth": *0' "$(ntl status --json)"

echo "# kill -9 of the node mid-stream: nothing acknowledged is lost"
# Four senders at once, ten messages each, every message from an address of its own; the node
# is killed once eight were acknowledged, while others are in flight, and started again. The
# primary is away meanwhile, so that what was acknowledged is in the spool when it dies.
tl_stop "$PPID_" >/dev/null
stream() {
	local i ip
	for i in $(seq 1 10); do
		ip="199.18.$((20 + $1)).$i"
		echo "$ip $(send "$ip")"
	done >"$TL_TMP/stream.$1"
}
acked_n() { cat "$TL_TMP"/stream.* 2>/dev/null | grep -c ' 250$'; }
rm -f "$TL_TMP"/stream.*
spids=()
for k in 1 2 3 4; do stream "$k" & spids+=($!); done
tl_poll 300 ok sh -c "[ \$(cat $TL_TMP/stream.* 2>/dev/null | grep -c ' 250\$') -ge 8 ] && echo ok" ||
	tl_fail "eight messages acknowledged before the kill" "$(acked_n)"
kill -KILL "$NPID"
wait "$NPID" 2>/dev/null
for p in "${spids[@]}"; do wait "$p"; done
acked=($(cat "$TL_TMP"/stream.* | awk '$2 == 250 { print $1 }'))
n=${#acked[@]}
[ "$n" -ge 8 ] && [ "$n" -lt 40 ] && tl_ok "killed mid-stream: $n of 40 acknowledged" ||
	tl_fail "killed mid-stream: $n of 40 acknowledged"
[ "$(depth)" -ge "$n" ] && tl_ok "...the spool on disk holds them all after the kill" ||
	tl_fail "...the spool on disk holds them all after the kill" "$(depth) < $n"
node_start
check_eq "the node again: a message is taken" 250 "$(send 199.18.29.1)"
primary_start
all_there() {
	local ip missing=0
	for ip in "${acked[@]}"; do [ "$(ev "$ip")" = 1 ] || missing=$((missing + 1)); done
	echo "$missing"
}
tl_poll 300 0 all_there && tl_ok "...every acknowledged message reaches the primary, once" ||
	tl_fail "...every acknowledged message reaches the primary, once" "$(all_there) of $n missing or twice"
check_eq "...none twice" 0 "$(dups)"
tl_poll 100 0 depth && tl_ok "...and the spool empties" || tl_fail "...and the spool empties" "$(depth)"

echo "# a full spool answers 451"
kill -TERM "$NPID"; wait "$NPID"
tl_stop "$PPID_" >/dev/null
node_conf "$NCONF" "forward_spool_max = 3"
node_start --forward "http://127.0.0.1:$PHTTP" --forward-key "$FKEY"
codes=""
for i in 1 2 3 4; do codes="$codes $(send "199.18.3.$i")"; done
check_eq "forward_spool_max 3, primary away: 250 250 250, then 451" " 250 250 250 451" "$codes"
check_eq "...the spool holds three" 3 "$(depth)"
check_eq "...the node logs the full spool once" 1 "$(grep -c 'module=spool full depth=3 max=3' "$NLOG")"
kill -TERM "$NPID"; wait "$NPID"
check_eq "the node stops cleanly" 0 "$?"

echo "# a wrong key: refused loudly, once; the hits stay"
primary_start
node_conf "$NCONF"
node_start --forward "http://127.0.0.1:$PHTTP" --forward-key "tlf_$(printf '0%.0s' $(seq 1 64))"
tl_poll 100 1 grep -c 'PRIMARY REFUSES THIS NODE' "$NLOG" && tl_ok "the node logs the refusal" ||
	tl_fail "the node logs the refusal" "$(tail -n 5 "$NLOG")"
check_match "...naming the status and the key to check" 'status=401 .*check forward_key' "$(grep 'PRIMARY REFUSES' "$NLOG")"
sleep $((3 * TL_SLOW)) # three tries at forward_retry_max = 1 s
check_eq "...one line, not one per try" 1 "$(grep -c 'PRIMARY REFUSES THIS NODE' "$NLOG")"
check_eq "...the hits stay in the spool" 3 "$(depth)"
kill -TERM "$NPID"; wait "$NPID"
before=$(ev)
node_start --forward "http://127.0.0.1:$PHTTP" --forward-key "$FKEY"
tl_poll 100 $((before + 3)) ev && tl_ok "the right key: the three arrive" || tl_fail "the right key: the three arrive" "$(($(ev) - before))"
check_eq "...none twice" 0 "$(dups)"
kill -TERM "$NPID"; wait "$NPID"
check_eq "the node stops cleanly" 0 "$?"
tl_stop "$PPID_"
tl_finish
