#!/usr/bin/env bash
# test_fault_loops.sh - kill -9 again and again under mixed load: four producers run without
# pause through several kill/restart rounds of one data directory (the spamtrap by swaks, user
# reports and feed hits by curl, `trapline evidence add`), each recording what it attempted and
# what was acknowledged. After the last restart everything acknowledged is in the store, and
# nothing is there twice: an address sent once is stored at most once, and no intake holds
# more than was attempted. A command that finds no service works on the data directory itself,
# holding the writer's lock for a moment: a service restarting meanwhile waits for it.
source "$(dirname "$0")/lib.sh"

D="$TRAPLINE_SRC/tests/data/received"
ROUNDS=5
DATA=$TL_TMP/data
tl_mkdata "$DATA"
CONF=$TL_TMP/trapline.conf
cat >"$CONF" <<CONF
trap_domains = trap.example
report_max_per_hour = 100000
exclude_default = 127.0.0.0/8, ::1/128
CONF
tl() { "$TRAPLINE" "$@" --data "$DATA" --config "$CONF"; }
cd "$TL_TMP" || tl_die "cd $TL_TMP"

# The same ports every round, as a restarted service would have.
PORT=$(tl_free_port) && SMTP_PORT=$(tl_free_port) && HPORT=$(tl_free_port) ||
	tl_die "pick free ports"
U="http://127.0.0.1:$HPORT"
NSTART=0
serve() {
	NSTART=$((NSTART + 1))
	TL_LAST_LOG=$TL_TMP/server$NSTART.log
	"$TRAPLINE" serve --data "$DATA" --config "$CONF" --dns "127.0.0.1:$PORT" \
		--smtp "127.0.0.1:$SMTP_PORT" --http "127.0.0.1:$HPORT" >"$TL_LAST_LOG" 2>&1 &
	TL_LAST_PID=$!
	TL_PIDS+=("$TL_LAST_PID")
	TL_DATA=$DATA
	tl_wait_ready "$PORT" "$TL_ZONE" 20 ||
		tl_die "start $NSTART: the service answers" "$(tail -n 20 "$TL_LAST_LOG")"
}
serve
tl_wait_http || tl_die "the web pages answer"
key_of() { sed -n 's/^key: //p'; }
AKEY=$(tl reporter add acme --trusted-relays "$D/default.trusted" | key_of)
FKEY=$(tl feed add far-trap | key_of)
[ -n "$AKEY" ] && [ -n "$FKEY" ] || tl_die "a reporter and a feed are made"
python3 -c 'import sys; sys.stdout.write(("lorem ipsum " * 6 + "\n") * 40)' >"$TL_TMP/body.txt"

# ---- the producers -------------------------------------------------------------------------
# Each runs until the stop file appears (or MAX attempts), one attempt at a time, and appends
# to P.attempted and P.acked. A failure (the service is down) waits a little: no busy loop.
STOP=$TL_TMP/stop
MAX=$((400 / TL_SLOW))
ip_of() { echo "$1.$(($2 / 250)).$(($2 % 250 + 1))"; }
producer() {
	local p=$1 n ok ip st out
	for n in $(seq 1 "$MAX"); do
		[ -e "$STOP" ] && return 0
		ok=0
		case $p in
		smtp)
			echo "$n" >>"$TL_TMP/smtp.attempted"
			out=$(timeout $((15 * TL_SLOW)) swaks --server 127.0.0.1 --port "$SMTP_PORT" \
				--timeout $((5 * TL_SLOW)) --to "loop$n@trap.example" \
				--from x@spam.example --body @"$TL_TMP/body.txt" 2>&1)
			printf '%s\n' "$out" | grep -q '<-  250 2\.0\.0 Ok: stored' && ok=1
			;;
		report)
			{ printf 'X-Loop: %s\n' "$n"; cat "$D/postfix_direct.eml"; } >"$TL_TMP/r.eml"
			echo "$n" >>"$TL_TMP/report.attempted"
			st=$(curl -s --max-time $((10 * TL_SLOW)) -o /dev/null -w '%{http_code}' \
				-H "Authorization: Bearer $AKEY" --data-binary @"$TL_TMP/r.eml" \
				"$U/api/v1/reports")
			[ "$st" = 201 ] && ok=1
			;;
		feed)
			ip=$(ip_of 199.21 "$n")
			echo "$ip" >>"$TL_TMP/feed.attempted"
			st=$(curl -s --max-time $((10 * TL_SLOW)) -o /dev/null -w '%{http_code}' \
				-H "Authorization: Bearer $FKEY" --data-binary "{\"ip\": \"$ip\"}" \
				"$U/api/v1/evidence")
			[ "$st" = 201 ] && ok=1
			;;
		cli)
			ip=$(ip_of 199.20 "$n")
			echo "$ip" >>"$TL_TMP/cli.attempted"
			tl evidence add --ip "$ip" --kind trap >/dev/null 2>>"$TL_TMP/cli.err" && ok=1
			;;
		esac
		if [ "$ok" = 1 ]; then
			echo "${ip:-$n}" >>"$TL_TMP/$p.acked"
		else
			sleep 0.1
		fi
	done
}
PRODUCERS="smtp report feed cli"
ppids=()
for p in $PRODUCERS; do
	producer "$p" &
	ppids+=($!)
done
acked_total() { cat "$TL_TMP"/*.acked 2>/dev/null | wc -l; }

# ---- kill -9, restart, again -------------------------------------------------------------
# Each round waits for a few more acknowledgements (the producers are mid-stream), then kills
# at a moment that differs from round to round.
for round in $(seq 1 "$ROUNDS"); do
	before=$(acked_total)
	smtp_before=$(wc -l <"$TL_TMP/smtp.acked" 2>/dev/null || echo 0)
	for _ in $(seq 1 $((150 * TL_SLOW))); do
		[ "$(acked_total)" -ge $((before + 8)) ] &&
			[ "$(wc -l <"$TL_TMP/smtp.acked" 2>/dev/null || echo 0)" -gt "$smtp_before" ] && break
		sleep 0.1
	done
	sleep "0.$((RANDOM % 5))"
	kill -KILL "$TL_LAST_PID"
	wait "$TL_LAST_PID" 2>/dev/null
	[ "$(acked_total)" -gt "$before" ] || tl_fail "round $round: acknowledgements before the kill"
	sleep 0.3 # the producers meet a dead service
	serve
done
# The last run: a few more acknowledged, then the producers stop.
before=$(acked_total)
for _ in $(seq 1 $((100 * TL_SLOW))); do
	[ "$(acked_total)" -ge $((before + 4)) ] && break
	sleep 0.1
done
touch "$STOP"
for pid in "${ppids[@]}"; do wait "$pid"; done
for p in $PRODUCERS; do
	check_match "$p: acknowledged across $ROUNDS kill -9 rounds ($(wc -l <"$TL_TMP/$p.acked" 2>/dev/null || echo 0))" \
		'^[1-9]' "$(wc -l <"$TL_TMP/$p.acked" 2>/dev/null)"
done
check_nomatch "no producer's stderr holds a sanitizer report" 'Sanitizer|runtime error' \
	"$(cat "$TL_TMP"/cli.err 2>/dev/null)"

# ---- what the store holds ---------------------------------------------------------------------
# Addresses as the store keeps them: 16 bytes, IPv4 mapped.
stored_counts() {
	tl_db "SELECT hex(ip), count(*) FROM evidence GROUP BY ip" >"$TL_TMP/stored"
}
stored_counts
hex_of() { python3 -c 'import ipaddress,sys
for l in sys.stdin: print(ipaddress.IPv6Address("::ffff:" + l.strip()).packed.hex().upper())'; }
for p in feed cli; do
	bad=$(python3 - "$TL_TMP/stored" "$TL_TMP/$p.attempted" "$TL_TMP/$p.acked" <<'EOF'
import ipaddress, sys
stored = dict(l.strip().split("|") for l in open(sys.argv[1]) if l.strip())
hexip = lambda ip: ipaddress.IPv6Address("::ffff:" + ip).packed.hex().upper()
acked = [l.strip() for l in open(sys.argv[3])]
bad = [f"{ip} acknowledged, stored {stored.get(hexip(ip), '0')}" for ip in acked
       if stored.get(hexip(ip)) != "1"]
bad += [f"{ip} attempted once, stored {stored[hexip(ip)]}" for ip in
        (l.strip() for l in open(sys.argv[2])) if int(stored.get(hexip(ip), "0")) > 1]
print("\n".join(bad))
EOF
)
	check_eq "$p: every acknowledged address is stored, and none twice" "" "$bad"
done
smtp_stored=$(grep -c . < <(tl_db "SELECT id FROM evidence WHERE hex(ip) = '$(echo 127.0.0.1 | hex_of)'"))
smtp_acked=$(wc -l <"$TL_TMP/smtp.acked")
smtp_tried=$(wc -l <"$TL_TMP/smtp.attempted")
if [ "$smtp_acked" -le "$smtp_stored" ] && [ "$smtp_stored" -le "$smtp_tried" ]; then
	tl_ok "smtp: acknowledged $smtp_acked <= stored $smtp_stored <= attempted $smtp_tried"
else
	tl_fail "smtp: acknowledged <= stored <= attempted" "$smtp_acked, $smtp_stored, $smtp_tried"
fi
rep_stored=$(tl_db 'SELECT count(*) FROM reports')
rep_acked=$(wc -l <"$TL_TMP/report.acked")
rep_tried=$(wc -l <"$TL_TMP/report.attempted")
if [ "$rep_acked" -le "$rep_stored" ] && [ "$rep_stored" -le "$rep_tried" ]; then
	tl_ok "reports: acknowledged $rep_acked <= stored $rep_stored <= attempted $rep_tried"
else
	tl_fail "reports: acknowledged <= stored <= attempted" "$rep_acked, $rep_stored, $rep_tried"
fi
check_eq "the store passes SQLite's integrity check" ok "$(tl_db 'PRAGMA integrity_check')"
tl_stop
tl_finish
