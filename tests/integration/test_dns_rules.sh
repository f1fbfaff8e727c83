#!/usr/bin/env bash
# test_dns_rules.sh - the DNSBL answer rules (RFC 5782, 1034/1035, 2308, 6891, 7766, 8482)
# checked against the real binary with dig and kdig, over UDP and TCP.
source "$(dirname "$0")/lib.sh"

Z=$TL_ZONE
DEF_TXT="Listed - see http://127.0.0.1:8080/lookup?ip="  # the default answer_txt (from public_url)
SOA_RR="$Z. 3600 IN SOA ns1.$Z. hostmaster.$Z. 42 600 300 86400 300"
# Negative answers carry the SOA with TTL min(SOA TTL, SOA minimum) (RFC 2308 section 5).
NEG_SOA="$Z. 300 IN SOA ns1.$Z. hostmaster.$Z. 42 600 300 86400 300"

DATA="$TL_TMP/rules.zone"
cat >"$DATA" <<EOF
# rbldnsd combined data for the answer rules
\$SOA 3600 ns1.$Z. hostmaster.$Z. 42 600 300 86400 300
\$NS 3600 ns1.$Z. ns2.$Z.
\$TTL 2100
\$DATASET ip4set:v4 @
:127.0.0.2:$DEF_TXT\$
1.2.3.4
10.0.0.0/24
!10.0.0.7
10.1.0.5-10
192.0.2.99 :127.0.0.4:Per-entry text for \$
192.0.2.101 Only text for \$
\$DATASET ip6trie:v6 @
:127.0.0.2:$DEF_TXT\$
::ffff:7f00:2
2001:db8:1:2::/64
!2001:db8:1:2::99/128
2001:db8::42/128 :127.0.0.6:v6 host \$
EOF

tl_start --static "$DATA" --threads 2

# expect LABEL CLIENT(dig|kdig) TRANSPORT(udp|tcp) QNAME QTYPE RCODE ANSWER AUTHORITY [opts...]
# ANSWER and AUTHORITY are the exact records expected, one per line ("owner ttl IN type data",
# single spaces), "" for an empty section or "*" for not checked. Order does not matter.
expect() {
	local label=$1 client=$2 tr=$3 qname=$4 qtype=$5 rcode=$6 ans=$7 auth=$8 out got_rc
	shift 8
	local opts=("$@")
	[ "$tr" = tcp ] && opts+=(+tcp)
	out=$(tl_$client "$qname" "$qtype" "${opts[@]}")
	got_rc=$(rcode_of "$out")
	local name="$client/$tr $label ($qname $qtype): $rcode" problems=()
	[ "$got_rc" = "$rcode" ] || problems+=("rcode: expected $rcode, got ${got_rc:-none}")
	if [ "$ans" != "*" ]; then
		local want got
		want=$(printf '%s\n' "$ans" | grep . | sort)
		got=$(section_of "$out" ANSWER | sort)
		[ "$want" = "$got" ] || problems+=("answer section: expected" "${want:-(empty)}" "got" "${got:-(empty)}")
	fi
	if [ "$auth" != "*" ]; then
		local want got
		want=$(printf '%s\n' "$auth" | grep . | sort)
		got=$(section_of "$out" AUTHORITY | sort)
		[ "$want" = "$got" ] || problems+=("authority section: expected" "${want:-(empty)}" "got" "${got:-(empty)}")
	fi
	if has_flag "$out" qr && ! has_flag "$out" aa && [ "$rcode" != REFUSED ]; then
		problems+=("AA flag not set on an authoritative answer")
	fi
	if [ ${#problems[@]} -eq 0 ]; then
		tl_ok "$name"
	else
		tl_fail "$name" "${problems[@]}"
	fi
}

# The same expectation over dig/UDP, dig/TCP and, with "k" as the first argument, kdig too.
expect_all() {
	local clients=(dig)
	if [ "$1" = k ]; then
		clients+=(kdig)
		shift
	fi
	local c tr
	for c in "${clients[@]}"; do
		for tr in udp tcp; do
			expect "$1" "$c" "$tr" "${@:2}"
		done
	done
}

echo "# listed addresses: A and TXT"
expect_all k "listed /32 A" "4.3.2.1.$Z" A NOERROR "4.3.2.1.$Z. 2100 IN A 127.0.0.2" ""
expect_all k "listed /32 TXT" "4.3.2.1.$Z" TXT NOERROR "4.3.2.1.$Z. 2100 IN TXT \"${DEF_TXT}1.2.3.4\"" ""
expect_all k "inside a /24" "5.0.0.10.$Z" A NOERROR "5.0.0.10.$Z. 2100 IN A 127.0.0.2" ""
expect_all "inside a /24 TXT" "255.0.0.10.$Z" TXT NOERROR "255.0.0.10.$Z. 2100 IN TXT \"${DEF_TXT}10.0.0.255\"" ""
expect_all k "exclusion inside a /24" "7.0.0.10.$Z" A NXDOMAIN "" "$NEG_SOA"
expect_all "exclusion inside a /24 TXT" "7.0.0.10.$Z" TXT NXDOMAIN "" "$NEG_SOA"
expect_all "range a.b.c.d-e, first" "5.0.1.10.$Z" A NOERROR "5.0.1.10.$Z. 2100 IN A 127.0.0.2" ""
expect_all "range a.b.c.d-e, last" "10.0.1.10.$Z" A NOERROR "10.0.1.10.$Z. 2100 IN A 127.0.0.2" ""
expect_all "range a.b.c.d-e, just past" "11.0.1.10.$Z" A NXDOMAIN "" "$NEG_SOA"
expect_all "range a.b.c.d-e, just before" "4.0.1.10.$Z" A NXDOMAIN "" "$NEG_SOA"
expect_all k "per-entry A" "99.2.0.192.$Z" A NOERROR "99.2.0.192.$Z. 2100 IN A 127.0.0.4" ""
expect_all k "per-entry TXT" "99.2.0.192.$Z" TXT NOERROR "99.2.0.192.$Z. 2100 IN TXT \"Per-entry text for 192.0.2.99\"" ""
expect_all "per-entry TXT only, default A" "101.2.0.192.$Z" A NOERROR "101.2.0.192.$Z. 2100 IN A 127.0.0.2" ""
expect_all "per-entry TXT only" "101.2.0.192.$Z" TXT NOERROR "101.2.0.192.$Z. 2100 IN TXT \"Only text for 192.0.2.101\"" ""

echo "# RFC 5782 section 5 test points"
expect_all k "test point 127.0.0.2 A" "2.0.0.127.$Z" A NOERROR "2.0.0.127.$Z. 2100 IN A 127.0.0.2" ""
expect_all k "test point 127.0.0.2 TXT" "2.0.0.127.$Z" TXT NOERROR "2.0.0.127.$Z. 2100 IN TXT \"${DEF_TXT}127.0.0.2\"" ""
expect_all k "test point 127.0.0.1 not listed" "1.0.0.127.$Z" A NXDOMAIN "" "$NEG_SOA"
TP6=$(rev6 ::ffff:7f00:2)
TP6N=$(rev6 ::ffff:7f00:1)
expect_all k "test point ::FFFF:7F00:2 A" "$TP6.$Z" A NOERROR "$TP6.$Z. 2100 IN A 127.0.0.2" ""
expect_all "test point ::FFFF:7F00:2 TXT" "$TP6.$Z" TXT NOERROR "*" ""
expect_all k "test point ::FFFF:7F00:1 not listed" "$TP6N.$Z" A NXDOMAIN "" "$NEG_SOA"

echo "# IPv6 entries (nibble-reversed names)"
N64=$(rev6 2001:db8:1:2:aaaa:bbbb:cccc:dddd)
N64X=$(rev6 2001:db8:1:2::99)
N64OUT=$(rev6 2001:db8:1:3::1)
N128=$(rev6 2001:db8::42)
N128OUT=$(rev6 2001:db8::43)
expect_all k "inside a /64" "$N64.$Z" A NOERROR "$N64.$Z. 2100 IN A 127.0.0.2" ""
expect_all "exclusion /128 inside a /64" "$N64X.$Z" A NXDOMAIN "" "$NEG_SOA"
expect_all "next /64" "$N64OUT.$Z" A NXDOMAIN "" "$NEG_SOA"
expect_all k "listed /128 per-entry A" "$N128.$Z" A NOERROR "$N128.$Z. 2100 IN A 127.0.0.6" ""
expect_all "neighbour of a /128" "$N128OUT.$Z" A NXDOMAIN "" "$NEG_SOA"
# An entry written with a leading "::" is an address, not a ":A:TXT" default line.
for tr in udp tcp; do
	o=(); [ $tr = tcp ] && o=(+tcp)
	out=$(tl_dig "$N64.$Z" TXT "${o[@]}")
	check_match "dig/$tr inside a /64 TXT: the default template with the IPv6 address" \
		"^$N64\\.$Z\\. 2100 IN TXT \"$(printf "%s" "$DEF_TXT" | sed "s/[.?]/\\\\&/g")2001:(0?db8:0*1:0*2:aaaa:bbbb:cccc:dddd|db8:1:2:aaaa:bbbb:cccc:dddd)\"$" \
		"$(section_of "$out" ANSWER)"
done
out=$(tl_dig "$N128.$Z" TXT)
check_match "dig/udp /128 TXT carries the IPv6 address" '"v6 host 2001:(0?db8:0*:0*:0*:0*:0*:0*42|db8::42)"' \
	"$(section_of "$out" ANSWER)"

echo "# not listed, other types, the apex"
expect_all k "unlisted" "9.9.9.9.$Z" A NXDOMAIN "" "$NEG_SOA"
expect_all k "unlisted TXT" "9.9.9.9.$Z" TXT NXDOMAIN "" "$NEG_SOA"
expect_all k "AAAA on a listed name" "4.3.2.1.$Z" AAAA NOERROR "" "$NEG_SOA"
expect_all "MX on a listed name" "4.3.2.1.$Z" MX NOERROR "" "$NEG_SOA"
expect_all k "apex SOA" "$Z" SOA NOERROR "$SOA_RR" ""
expect_all k "apex NS" "$Z" NS NOERROR "$Z. 3600 IN NS ns1.$Z.
$Z. 3600 IN NS ns2.$Z." ""
expect_all "apex A (no data)" "$Z" A NOERROR "" "$NEG_SOA"

echo "# empty non-terminals (RFC 8020: NXDOMAIN means nothing below either)"
expect_all k "prefix of a listed name" "3.2.1.$Z" A NOERROR "" "$NEG_SOA"
expect_all "shorter prefix of a listed name" "2.1.$Z" A NOERROR "" "$NEG_SOA"
expect_all "prefix inside a listed /24" "0.0.10.$Z" A NOERROR "" "$NEG_SOA"
expect_all "prefix with nothing under it" "9.9.9.$Z" A NXDOMAIN "" "$NEG_SOA"
expect_all "one-label prefix with nothing under it" "250.$Z" A NXDOMAIN "" "$NEG_SOA"
expect_all "five labels under a listed name" "5.4.3.2.1.$Z" A NXDOMAIN "" "$NEG_SOA"

echo "# outside the zone, other opcodes, QR=1"
expect_all k "outside the zone" "4.3.2.1.example.com" A REFUSED "" ""
expect_all "parent of the zone" "example.org" A REFUSED "" ""
for op in 2:STATUS 4:NOTIFY 5:UPDATE 9:unassigned; do
	got=$(python3 "$TL_PY" --timeout $((2 * TL_SLOW)) query "$PORT" "2.0.0.127.$Z" A --opcode "${op%%:*}")
	check_match "python/udp opcode ${op#*:} -> NOTIMP" '^rcode=NOTIMP qr=1 ' "$got"
done
got=$(python3 "$TL_PY" --timeout $((2 * TL_SLOW)) query "$PORT" "2.0.0.127.$Z" A --opcode 4 --tcp)
check_match "python/tcp opcode NOTIFY -> NOTIMP" '^rcode=NOTIMP qr=1 ' "$got"
out=$(tl_dig "2.0.0.127.$Z" A +opcode=notify)
check_eq "dig/udp +opcode=notify -> NOTIMP" NOTIMP "$(rcode_of "$out")"
out=$(tl_kdig "$Z" NOTIFY)
check_eq "kdig/udp NOTIFY -> NOTIMP" NOTIMP "$(rcode_of "$out")"
got=$(python3 "$TL_PY" --timeout $((1 * TL_SLOW)) query "$PORT" "2.0.0.127.$Z" A --qr)
check_eq "python/udp a packet with QR=1 gets no answer" noanswer "$got"

echo "# ANY (RFC 8482), case, EDNS (RFC 6891)"
for tr in udp tcp; do
	o=(); [ $tr = tcp ] && o=(+tcp)
	out=$(tl_dig "4.3.2.1.$Z" ANY "${o[@]}")
	ans=$(section_of "$out" ANSWER)
	n=$(printf '%s\n' "$ans" | grep -c .)
	types=$(printf '%s\n' "$ans" | awk '{print $4}' | sort -u | tr '\n' ' ')
	if [ "$(rcode_of "$out")" = NOERROR ] && [ "$n" -ge 1 ] && [ "$(echo $types)" != "A TXT" ] &&
		printf '%s\n' "$types" | grep -Eq '^(A|TXT|HINFO) $'; then
		tl_ok "dig/$tr ANY on a listed name: one minimal RRset ($types)"
	else
		tl_fail "dig/$tr ANY on a listed name: one minimal RRset" "rcode $(rcode_of "$out"), answer:" "$ans"
	fi
done
MIXED="4.3.2.1.Bl.ExAmPlE.oRg"
for c in dig kdig; do
	for tr in udp tcp; do
		o=(); [ $tr = tcp ] && o=(+tcp)
		out=$(tl_$c "$MIXED" A "${o[@]}")
		check_match "$c/$tr mixed-case name kept in the question" "^;;? ?$MIXED\.[[:space:]]" "$out"
		check_eq "$c/$tr mixed-case name kept in the answer owner" "$MIXED. 2100 IN A 127.0.0.2" \
			"$(section_of "$out" ANSWER)"
	done
done
for c in dig kdig; do
	for tr in udp tcp; do
		o=(); [ $tr = tcp ] && o=(+tcp)
		out=$(tl_$c "4.3.2.1.$Z" A "${o[@]}" +edns=0)
		if has_opt "$out"; then tl_ok "$c/$tr OPT in the answer to an EDNS query"; else
			tl_fail "$c/$tr OPT in the answer to an EDNS query" "$out"; fi
		out=$(tl_$c "4.3.2.1.$Z" A "${o[@]}" +noedns)
		if ! has_opt "$out" && [ "$(rcode_of "$out")" = NOERROR ]; then
			tl_ok "$c/$tr no OPT in the answer to a query without one"
		else
			tl_fail "$c/$tr no OPT in the answer to a query without one" "$out"
		fi
		# dig would retry with version 0 after BADVERS unless told not to negotiate.
		neg=(); [ $c = dig ] && neg=(+noednsnegotiation)
		out=$(tl_$c "4.3.2.1.$Z" A "${o[@]}" +edns=1 "${neg[@]}")
		check_eq "$c/$tr EDNS version 1 -> BADVERS" BADVERS "$(rcode_of "$out")"
	done
done
# The OPT answer of an NXDOMAIN still has the SOA (EDNS must not change the sections).
expect_all k "unlisted with EDNS" "9.9.9.9.$Z" A NXDOMAIN "" "$NEG_SOA" +edns=0

echo "# several queries on one TCP connection (RFC 7766 6.2.1)"
out=$(python3 "$TL_PY" --timeout $((3 * TL_SLOW)) tcpmulti "$PORT" "4.3.2.1.$Z" "9.9.9.9.$Z" \
	"2.0.0.127.$Z" "4.3.2.1.example.com" "5.0.0.10.$Z")
check_eq "python/tcp five pipelined queries on one connection" "4.3.2.1.$Z NOERROR
9.9.9.9.$Z NXDOMAIN
2.0.0.127.$Z NOERROR
4.3.2.1.example.com REFUSED
5.0.0.10.$Z NOERROR" "$out"
out=$(kdig @127.0.0.1 -p "$PORT" +tcp +keepopen +time=$((2 * TL_SLOW)) +retry=0 +short \
	"4.3.2.1.$Z" A "99.2.0.192.$Z" A "5.0.0.10.$Z" A 2>&1)
check_eq "kdig/tcp +keepopen three queries on one connection" "127.0.0.2
127.0.0.4
127.0.0.2" "$out"

echo "# logs"
check_match "log lines are key=value" '[a-z_]+=[^ ]+' "$(head -n 5 "$TL_LAST_LOG")"
check_nomatch "no error logged while answering" 'level=error' "$(cat "$TL_LAST_LOG")"
tl_stop

echo "# long TXT: truncation and TCP fallback; reload on change and on SIGHUP"
BIG_TXT=$(python3 -c 'print("Listed for a long reason, " + "x" * 1480 + " ip=$")')
BIG="$TL_TMP/big.zone"
# Here the SOA's own TTL (120) is below its minimum (900): negative answers use 120.
BIG_HDR=("\$SOA 120 ns1.$Z. hostmaster.$Z. 5 600 300 86400 900" "\$TTL 600")
printf '%s\n' "${BIG_HDR[@]}" ":127.0.0.3:$BIG_TXT" "1.2.3.4" >"$BIG"
cat >"$TL_TMP/small-idle.conf" <<'EOF'
# a short TCP idle time so the idle check is quick
tcp_idle_ms = 1500
EOF
tl_start --static "$BIG" --config "$TL_TMP/small-idle.conf" --threads 1
EXPECT_TXT_LEN=$(( ${#BIG_TXT} - 1 + 7 ))   # '$' -> "1.2.3.4"
for o in "+noedns" "+bufsize=512"; do
	out=$(tl_dig "4.3.2.1.$Z" TXT $o +ignore)
	if has_flag "$out" tc; then tl_ok "dig/udp $o +ignore: a 1.5 KB TXT sets TC"; else
		tl_fail "dig/udp $o +ignore: a 1.5 KB TXT sets TC" "$out"; fi
done
out=$(tl_dig "4.3.2.1.$Z" TXT +noedns)
txt=$(tl_dig "4.3.2.1.$Z" TXT +noedns +short | tr -d '" \n')
want=$(printf '%s' "${BIG_TXT//\$/1.2.3.4}" | tr -d ' ')
if printf '%s\n' "$out" | grep -q 'Truncated, retrying in TCP' && [ "$txt" = "$want" ]; then
	tl_ok "dig/udp +noedns retries over TCP and gets the whole TXT"
else
	tl_fail "dig/udp +noedns retries over TCP and gets the whole TXT" "$(printf '%s\n' "$out" | head -n 30)"
fi
out=$(tl_dig "4.3.2.1.$Z" TXT +tcp)
if ! has_flag "$out" tc && [ "$(rr_count "$out" ANSWER TXT)" = 1 ]; then
	tl_ok "dig/tcp the 1.5 KB TXT in one answer without TC"
else
	tl_fail "dig/tcp the 1.5 KB TXT in one answer without TC" "$out"
fi
out=$(tl_kdig "4.3.2.1.$Z" TXT +tcp)
check_eq "kdig/tcp the 1.5 KB TXT answer" "NOERROR 1" "$(rcode_of "$out") $(rr_count "$out" ANSWER TXT)"
out=$(tl_dig "4.3.2.1.$Z" A +noedns)
check_eq "dig/udp the A of that entry still fits" "4.3.2.1.$Z. 600 IN A 127.0.0.3" "$(section_of "$out" ANSWER)"

NEG_SOA2="$Z. 120 IN SOA ns1.$Z. hostmaster.$Z. 5 600 300 86400 900"
expect_all k "negative TTL is the SOA TTL when below the minimum" "9.9.9.9.$Z" A NXDOMAIN "" "$NEG_SOA2"
expect_all "NODATA TTL is the SOA TTL when below the minimum" "4.3.2.1.$Z" AAAA NOERROR "" "$NEG_SOA2"
expect_all "apex SOA keeps its own TTL" "$Z" SOA NOERROR "$Z. 120 IN SOA ns1.$Z. hostmaster.$Z. 5 600 300 86400 900" ""

# TCP idle timeout: the server closes an idle connection (configured 1.5 s here).
got=$(python3 "$TL_PY" --timeout $((6 * TL_SLOW)) tcpidle "$PORT" $((6 * TL_SLOW)))
check_match "python/tcp an idle TCP connection is closed by the server (tcp_idle_ms=1500)" '^closed after' "$got"

# Reload when the file changes (polled about every second).
printf '%s\n' "${BIG_HDR[@]}" ":127.0.0.3:$BIG_TXT" "1.2.3.4" "5.6.7.8" >"$BIG.new"
mv "$BIG.new" "$BIG"
deadline=$((SECONDS + 20 * TL_SLOW)) # a bound for a loaded machine, not the promise (polled each second)
until [ "$(tl_dig "8.7.6.5.$Z" A +short)" = 127.0.0.3 ] || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
check_eq "reload: a new entry answers within a few seconds of the file change" 127.0.0.3 \
	"$(tl_dig "8.7.6.5.$Z" A +short)"
# SIGHUP: change the file but keep its mtime and size, so only the signal can trigger the load.
# Written in place (same inode), same size, mtime restored: the poller sees no change.
cp -p "$BIG" "$TL_TMP/big.before"
sed 's/^5\.6\.7\.8$/5.6.7.9/' "$TL_TMP/big.before" >"$TL_TMP/big.after"
cat "$TL_TMP/big.after" >"$BIG"
touch -r "$TL_TMP/big.before" "$BIG"
sleep $((2 * TL_SLOW))
before=$(tl_dig "9.7.6.5.$Z" A +short)
kill -HUP "$TL_LAST_PID"
deadline=$((SECONDS + 20 * TL_SLOW)) # a bound for a loaded machine, not the promise (polled each second)
until [ "$(tl_dig "9.7.6.5.$Z" A +short)" = 127.0.0.3 ] || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
check_eq "reload on SIGHUP" "127.0.0.3" "$(tl_dig "9.7.6.5.$Z" A +short)"
[ -n "$before" ] && echo "# note: the mtime-preserving change was picked up before SIGHUP ($before)"
check_eq "reload on SIGHUP removes the old entry" "NXDOMAIN" "$(rcode_of "$(tl_dig "8.7.6.5.$Z" A)")"
tl_stop

echo "# IPv6 listening"
if tl_have_ipv6; then
	tl_start --v6 --static "$DATA" --threads 1
	out=$(dig @::1 -p "$PORT" +time=$((2 * TL_SLOW)) +tries=1 "4.3.2.1.$Z" A 2>&1)
	check_eq "dig/udp over [::1]" "4.3.2.1.$Z. 2100 IN A 127.0.0.2" "$(section_of "$out" ANSWER)"
	out=$(dig @::1 -p "$PORT" +tcp +time=$((2 * TL_SLOW)) +tries=1 "4.3.2.1.$Z" TXT 2>&1)
	check_eq "dig/tcp over [::1]" "4.3.2.1.$Z. 2100 IN TXT \"${DEF_TXT}1.2.3.4\"" "$(section_of "$out" ANSWER)"
	out=$(kdig @::1 -p "$PORT" +time=$((2 * TL_SLOW)) +retry=0 "9.9.9.9.$Z" A 2>&1)
	check_eq "kdig/udp over [::1] unlisted" NXDOMAIN "$(rcode_of "$out")"
	tl_stop
else
	tl_skip "IPv6 listening on [::1]" "no ::1 on this machine"
fi

tl_finish
