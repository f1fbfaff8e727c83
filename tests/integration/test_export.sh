#!/usr/bin/env bash
# test_export.sh - the zone exports as other servers load them: the rbldnsd export served by a
# real rbldnsd answers every probe as the snapshot does, and named-checkzone accepts the BIND one.
#
# The exports come from the unit test program (test_zone_export beside the trapline binary),
# which, with TRAPLINE_EXPORT_DIR set, writes zone.rbldnsd, zone.bind and expect.txt for a
# fixed random zone (singles, ranges with exclusions, IPv6, four classes, an applied change
# set): expect.txt holds one "qname A-value" or "qname NXDOMAIN" line per probe.
. "$(dirname "$0")/lib.sh"

command -v rbldnsd >/dev/null || tl_die "rbldnsd installed (scripts/deps.sh --test)"
command -v named-checkzone >/dev/null || tl_die "named-checkzone installed (bind9-utils)"
TOOL="$(dirname "$TRAPLINE")/test_zone_export"
[ -x "$TOOL" ] || tl_die "export writer built" "missing: $TOOL (cmocka needed)"

OUT="$TL_TMP/export"
mkdir -p "$OUT"
chmod 755 "$OUT"
check_cmd "exports written" env TRAPLINE_EXPORT_DIR="$OUT" "$TOOL"
for f in zone.rbldnsd zone.bind expect.txt; do
	[ -s "$OUT/$f" ] || tl_die "export file $f written"
done
chmod 644 "$OUT"/*

# ---- BIND ----
out=$(named-checkzone "$TL_ZONE" "$OUT/zone.bind" 2>&1)
check_match "named-checkzone accepts the BIND export" '^OK$' "$out"
check_match "named-checkzone loads the serial" 'loaded serial 77' "$out"

# ---- rbldnsd ----
RBL_PID=
for try in 1 2 3; do
	RBL_PORT=$(tl_free_port) || tl_die "pick a free port for rbldnsd"
	rbldnsd -n -f -u nobody -b "127.0.0.1/$RBL_PORT" -w "$OUT" \
		"$TL_ZONE:combined:zone.rbldnsd" >"$TL_TMP/rbldnsd.log" 2>&1 &
	RBL_PID=$!
	TL_PIDS+=("$RBL_PID")
	for _ in $(seq 1 $((50 * TL_SLOW))); do
		if dig @127.0.0.1 -p "$RBL_PORT" +time=1 +tries=1 "2.0.0.127.$TL_ZONE" A 2>/dev/null |
			grep -q 'status: NOERROR'; then
			break 2
		fi
		kill -0 "$RBL_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$RBL_PID" 2>/dev/null
	wait "$RBL_PID" 2>/dev/null
	RBL_PID=
done
[ -n "$RBL_PID" ] || tl_die "rbldnsd loads the export" "$(cat "$TL_TMP/rbldnsd.log")"
check_nomatch "rbldnsd loads the export without complaints" 'error|invalid|unrecognized' \
	"$(cat "$TL_TMP/rbldnsd.log")"

# Every probe in one dig batch; one "status A-or-dash" line per query, in order.
awk '{ print $1 " A" }' "$OUT/expect.txt" >"$TL_TMP/queries"
dig @127.0.0.1 -p "$RBL_PORT" +time=2 +tries=2 +norecurse +noall +comments +answer \
	-f "$TL_TMP/queries" 2>&1 | awk '
	/^;; ->>HEADER<<-/ { if (n++) print st, a; st = $6; sub(",", "", st); a = "-" }
	$4 == "A" && $3 == "IN" { if (a == "-") a = $5 }
	END { if (n) print st, a }' >"$TL_TMP/answers.raw"
# Answer lines name the query only when there is an answer: pair the lines with the queries.
paste -d' ' "$OUT/expect.txt" "$TL_TMP/answers.raw" | awk '
	{ want = $2; st = $3; got = $4
	  if (want == "NXDOMAIN") ok = (st == "NXDOMAIN")
	  else ok = (st == "NOERROR" && got == want)
	  if (!ok) { bad++; if (bad <= 10) print "  " $1 " want " want " got " st " " got }
	  n++ }
	END { print n " probes, " bad + 0 " differ" }' >"$TL_TMP/compare"
summary=$(tail -n 1 "$TL_TMP/compare")
total=$(wc -l <"$OUT/expect.txt")
listed=$(grep -vc 'NXDOMAIN$' "$OUT/expect.txt")
check_eq "rbldnsd answers all $total probes ($listed listed) as the snapshot" \
	"$total probes, 0 differ" "$summary"
[ "$summary" = "$total probes, 0 differ" ] || cat "$TL_TMP/compare"
check_cmd "probes cover listed and unlisted addresses" \
	test "$listed" -gt 50 -a "$((total - listed))" -gt 50

# A TXT answer: rbldnsd substitutes the address into the exported template.
name=$(grep -v '^2\.0\.0\.127\.' "$OUT/expect.txt" | grep -m1 ' 127\.0\.0\.2$' | awk '{ print $1 }')
if [ -n "$name" ]; then
	txt=$(dig @127.0.0.1 -p "$RBL_PORT" +time=2 +tries=2 +short "$name" TXT 2>&1)
	check_match "rbldnsd TXT answer from the exported template" '^"Listed: ' "$txt"
fi

kill -TERM "$RBL_PID" 2>/dev/null
wait "$RBL_PID" 2>/dev/null
tl_finish
