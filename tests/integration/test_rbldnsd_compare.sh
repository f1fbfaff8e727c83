#!/usr/bin/env bash
# test_rbldnsd_compare.sh - the same rbldnsd data file served by rbldnsd and by Trapline must
# give the same answers: a list operator can swap one for the other.
#
# Compared over UDP (rbldnsd has no TCP), without EDNS: rcode, every answer record (owner,
# TTL, type, data) and the authority section. Differences we intend, and tolerate here:
#  - rbldnsd adds its NS records to the authority section of positive answers; Trapline
#    answers minimally (RFC 1034 allows both; it keeps answers small). NS records in
#    rbldnsd's authority section are set aside before comparing.
#  - a name with fewer labels than an address (3.2.1.ZONE) that has listed names below it:
#    rbldnsd says NXDOMAIN, Trapline NOERROR/NODATA, because NXDOMAIN would deny that the
#    names below exist (RFC 8020). Tolerated only for such short names.
#  - SOA serial 0 in the file means "the load time" to both: serials are masked.
#  - Trapline always lists the RFC 5782 test points (127.0.0.2, ::ffff:7f00:2); rbldnsd
#    only when the file does. Both files here list them, as a list operator's would.
source "$(dirname "$0")/lib.sh"

command -v rbldnsd >/dev/null || tl_die "rbldnsd installed (scripts/deps.sh --test)"
GEN="$TRAPLINE_SRC/bench/gen.py"
[ -f "$GEN" ] || tl_die "gen.py found (bench/gen.py)"
Z=$TL_ZONE

RBL_PID=
# start_rbldnsd FILE: rbldnsd in the foreground on a free port; sets RBL_PORT, RBL_PID.
start_rbldnsd() {
	local file=$1 try i
	chmod 644 "$file"
	for try in 1 2 3; do
		RBL_PORT=$(tl_free_port) || tl_die "pick a free port for rbldnsd"
		# rbldnsd refuses to run as root without -u; it reads the file as that user.
		rbldnsd -n -f -u nobody -b "127.0.0.1/$RBL_PORT" -w "$TL_TMP" \
			"$Z:combined:$(basename "$file")" >"$TL_TMP/rbldnsd.log" 2>&1 &
		RBL_PID=$!
		TL_PIDS+=("$RBL_PID")
		for i in $(seq 1 50); do
			if dig @127.0.0.1 -p "$RBL_PORT" +time=1 +tries=1 "2.0.0.127.$Z" A 2>/dev/null |
				grep -q 'status: '; then
				return 0
			fi
			kill -0 "$RBL_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$RBL_PID" 2>/dev/null
		wait "$RBL_PID" 2>/dev/null
	done
	tl_die "rbldnsd starts" "$(cat "$TL_TMP/rbldnsd.log")"
}

stop_rbldnsd() {
	kill -TERM "$RBL_PID" 2>/dev/null
	wait "$RBL_PID" 2>/dev/null
}

# compare LABEL QUERYFILE: every query to both servers; one check, differences printed.
compare() {
	local out rc
	out=$(python3 "$TL_PY" --timeout $((2 * TL_SLOW)) compare "$PORT" "$RBL_PORT" "$2" --tolerate-short)
	rc=$?
	printf '%s\n' "$out" | grep -E '^TOLERATED' | head -n 5 | sed 's/^/# /'
	local summary
	summary=$(printf '%s\n' "$out" | tail -n 1)
	COMPARE_SUMMARY=$summary
	if [ $rc -eq 0 ]; then
		tl_ok "$1: same answers as rbldnsd ($summary)"
	else
		tl_fail "$1: same answers as rbldnsd (A = trapline, B = rbldnsd)" \
			"$(printf '%s\n' "$out" | grep -v '^TOLERATED' | head -n 40)"
	fi
}

# ---- 1. generated data: 2000 addresses, 20 CIDR ranges, 20 IPv6 /64s -------------------------
GENZ="$TL_TMP/gen.zone"
python3 "$GEN" zone --count 2000 --cidr 20 --v6 20 --seed 7 --format rbldnsd-combined >"$GENZ" ||
	tl_die "gen.py zone"
python3 "$GEN" queries --from "$GENZ" --count 400 --types A,TXT --hit 0.5 --v6-share 0.2 \
	--seed 11 >"$TL_TMP/gen.queries" || tl_die "gen.py queries"
# A few rcode-only cases gen.py does not produce: other types, the apex, prefixes, outside.
first=$(grep -Em1 '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "$GENZ")
cat >>"$TL_TMP/gen.queries" <<EOF
$(rev4 "$first").$Z AAAA
$(rev4 "$first").$Z MX
$Z A
$Z NS
2.0.0.127.$Z TXT
1.0.0.127.$Z A
$(rev6 ::ffff:7f00:2).$Z A
$(rev6 ::ffff:7f00:1).$Z A
4.3.2.1.example.com A
$(rev4 "$first" | cut -d. -f2-).$Z A
9.9.9.$Z A
EOF
check_eq "query file written (400 generated + 11 hand-written)" "yes" \
	"$( [ "$(wc -l <"$TL_TMP/gen.queries")" -ge 400 ] && echo yes)"

start_rbldnsd "$GENZ"
tl_start --static "$GENZ" --threads 1
compare "generated zone, $(wc -l <"$TL_TMP/gen.queries") queries" "$TL_TMP/gen.queries"
with=$(printf '%s\n' "$COMPARE_SUMMARY" | grep -Eo 'with_answer=[0-9]+' | cut -d= -f2)
total=$(wc -l <"$TL_TMP/gen.queries")
if [ "${with:-0}" -ge $((total / 4)) ] && [ "${with:-0}" -le $((total * 3 / 4)) ]; then
	tl_ok "the generated queries are a mix of hits and misses ($with of $total answered)"
else
	tl_fail "the generated queries are a mix of hits and misses" "${with:-?} of $total answered"
fi
tl_stop
stop_rbldnsd

# ---- 2. hand-written data: exclusions, per-entry values, ranges, IPv6 -----------------------
HAND="$TL_TMP/hand.zone"
cat >"$HAND" <<EOF
\$SOA 3600 ns1.$Z. hostmaster.$Z. 7 600 300 86400 300
\$NS 3600 ns1.$Z. ns2.$Z.
\$TTL 1800
\$DATASET ip4set:v4 @
:127.0.0.2:Listed - see http://127.0.0.1:8080/lookup?ip=\$
127.0.0.2
1.2.3.4
10.0.0.0/24
!10.0.0.7
!10.0.0.128/28
10.1.0.5-10
172.16.0.0/16 :127.0.0.3:Range with its own value \$
!172.16.5.5
192.0.2.99 :127.0.0.4:Per-entry text for \$
192.0.2.101 Only text for \$
\$DATASET ip6trie:v6 @
:127.0.0.2:Listed - see http://127.0.0.1:8080/lookup?ip=\$
::ffff:7f00:2
2001:db8:1:2::/64
!2001:db8:1:2::99/128
2001:db8::42/128 :127.0.0.6:v6 host
EOF
: >"$TL_TMP/hand.queries"
for ip in 1.2.3.4 1.2.3.5 10.0.0.0 10.0.0.6 10.0.0.7 10.0.0.8 10.0.0.127 10.0.0.128 10.0.0.135 \
	10.0.0.143 10.0.0.144 10.0.0.255 10.0.1.0 10.1.0.4 10.1.0.5 10.1.0.7 10.1.0.10 10.1.0.11 \
	172.16.0.0 172.16.5.4 172.16.5.5 172.16.255.255 172.17.0.0 192.0.2.99 192.0.2.100 \
	192.0.2.101 127.0.0.2 127.0.0.1; do
	for t in A TXT; do echo "$(rev4 $ip).$Z $t" >>"$TL_TMP/hand.queries"; done
done
for ip in 2001:db8:1:2::1 2001:db8:1:2:ffff:ffff:ffff:ffff 2001:db8:1:2::99 2001:db8:1:3::1 \
	2001:db8::42 2001:db8::43 ::ffff:7f00:2 ::ffff:7f00:1; do
	echo "$(rev6 $ip).$Z A" >>"$TL_TMP/hand.queries"
done
cat >>"$TL_TMP/hand.queries" <<EOF
4.3.2.1.$Z AAAA
$Z AAAA
3.2.1.$Z A
0.0.10.$Z A
16.172.$Z A
9.9.9.$Z A
EOF
start_rbldnsd "$HAND"
tl_start --static "$HAND" --threads 1
compare "hand-written zone, $(wc -l <"$TL_TMP/hand.queries") queries" "$TL_TMP/hand.queries"
# The IPv6 TXT is compared apart: rbldnsd and Trapline may write '$' for an IPv6 address in
# different forms; both must name the address.
for srv in "trapline:$PORT" "rbldnsd:$RBL_PORT"; do
	txt=$(dig @127.0.0.1 -p "${srv#*:}" +time=2 +tries=1 +short "$(rev6 2001:db8:1:2::1).$Z" TXT)
	check_match "${srv%%:*}: TXT of an IPv6 entry names the address" '2001:(0?db8:0*:0*1:0*2:0*:0*:0*:0*1|db8:1:2::1)' "$txt"
done
tl_stop
stop_rbldnsd

tl_finish
