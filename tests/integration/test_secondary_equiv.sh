#!/usr/bin/env bash
# test_secondary_equiv.sh - what a secondary answers is what Trapline answers: NSD, Knot and BIND
# take a --static rbldnsd zone from Trapline by AXFR (with the TSIG key), then thousands of A and TXT
# queries (listed single addresses, random addresses inside ranges, ranges with holes and the
# holes themselves, excluded addresses, unlisted addresses, IPv6) get the same rcode and the
# same answer records from each secondary as from Trapline (dnsraw.py compare; SOA serials
# masked, the NS records a secondary may add to the authority section set aside).
#
# The data's TXT templates carry no '$': a secondary answers a range from a wildcard, whose TXT
# cannot name the address asked for (docs/transfers.md); with '$' only the TXT would differ.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/secondary.sh"

GEN="$TRAPLINE_SRC/bench/gen.py"
Z=$TL_ZONE
ZF=$TL_TMP/static.zone
Q=$TL_TMP/queries

# Generated: 2,000 addresses, 20 CIDR ranges (/16 to /24: wildcards, or /24 wildcards for the
# others), 20 IPv6 /64s.
python3 "$GEN" zone --count 2000 --cidr 20 --v6 20 --seed 5 --format rbldnsd-combined |
	sed 's/=\$$/=/' >"$TL_TMP/gen.zone" || tl_die "gen.py zone"
# Hand-written: ranges with holes (an address, a /28), ranges that are not label blocks (a /25,
# an a-b range), a value of another class, IPv6 with a hole.
cat >"$ZF" <<EOF
\$SOA 3600 ns1.$Z. hostmaster.$Z. 0 600 300 86400 300
\$NS 3600 ns1.$Z.
\$TTL 1800
\$DATASET ip4set:hand @
:127.0.0.2:Listed by hand, see http://127.0.0.1:8080/lookup
199.18.0.0/16
!199.18.7.9
!199.18.9.16/28
204.0.113.0/25
193.0.2.10-193.0.2.19
!193.0.2.15
199.51.100.0/24 :127.0.0.3:Another class, see http://127.0.0.1:8080/lookup
!199.51.100.77
\$DATASET ip6trie:hand6 @
:127.0.0.2:Listed by hand (IPv6)
2a01:db8:1::/48
!2a01:db8:1:7::/64
EOF
sed -n '/^\$DATASET/,$p' "$TL_TMP/gen.zone" >>"$ZF"
chmod 644 "$ZF"

python3 "$GEN" queries --from "$TL_TMP/gen.zone" --count 2400 --types A,TXT --hit 0.5 \
	--v6-share 0.2 --seed 9 >"$Q" || tl_die "gen.py queries"
python3 - "$Z" >>"$Q" <<'EOF'
import ipaddress, random, sys
z = sys.argv[1]
rnd = random.Random(13)
def q4(ip, t="A"):
    print("%s.%s %s" % (".".join(reversed(ip.split("."))), z, t))
def q6(ip, t="A"):
    print("%s.%s %s" % (".".join(reversed(ipaddress.ip_address(ip).exploded.replace(":", ""))), z, t))
for i in range(256):                      # the /24 with the hole, every address
    q4("199.18.7.%d" % i, rnd.choice("A TXT".split()))
for i in range(256):                      # the /24 with the excluded /28
    q4("199.18.9.%d" % i)
for _ in range(300):                      # the rest of the /16, and around it
    q4("199.18.%d.%d" % (rnd.randrange(256), rnd.randrange(256)), rnd.choice(["A", "TXT"]))
for _ in range(100):
    q4("199.%d.%d.%d" % (rnd.randrange(17, 20), rnd.randrange(256), rnd.randrange(256)))
for i in range(256):                      # the /25 and the other half
    q4("204.0.113.%d" % i)
for i in range(5, 25):                    # the a-b range and its hole
    q4("193.0.2.%d" % i, "A"); q4("193.0.2.%d" % i, "TXT")
for i in range(256):                      # the other class, and its hole
    q4("199.51.100.%d" % i, "A" if i % 3 else "TXT")
for _ in range(200):                      # IPv6: the /48, its hole, outside
    q6("2a01:db8:1:%x::%x" % (rnd.choice([0, 5, 7, 0xffff]), rnd.randrange(1 << 16)))
    q6("2a01:db8:2::%x" % rnd.randrange(1 << 16))
q4("127.0.0.2"); q4("127.0.0.2", "TXT"); q4("127.0.0.1")
q6("::ffff:7f00:2"); q6("::ffff:7f00:1")
EOF
NQ=$(grep -c . "$Q")
check_cmd "thousands of queries ($NQ)" test "$NQ" -ge 3000

sec_key_new
CONF=$TL_TMP/trapline.conf
printf 'transfer_allow = 127.0.0.1/32\ntransfer_key = %s\n' "$SEC_KEY" >"$CONF"
tl_start --config "$CONF" --static "$ZF"
S0=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "$Z" SOA | awk 'NF == 7 && $1 !~ /^;/ && $3 ~ /^[0-9]+$/ { print $3; exit }')
check_match "Trapline serves the static zone (serial $S0)" '^[0-9]+$' "$S0"

for s in nsd1 knot1 bind1; do
	sec_new "$s" "${s%1}"
	sec_start "$s" "$PORT"
done
for s in nsd1 knot1 bind1; do
	if ! sec_wait_serial "$s" "$S0" 150; then
		tl_fail "$s transfers the static zone (serial $S0)" "serial: '$(sec_serial "$s")'" \
			"$(tail -n 15 "$(sec_log "$s")")"
		continue
	fi
	tl_ok "$s transfers the static zone (serial $S0)"
	out=$(python3 "$TL_PY" --timeout $((2 * TL_SLOW)) compare "$PORT" "$(sec_port "$s")" "$Q")
	summary=$(printf '%s\n' "$out" | tail -n 1)
	if printf '%s\n' "$summary" | grep -Eq "^same=$NQ different=0 "; then
		tl_ok "$s answers all $NQ queries as Trapline ($summary)"
	else
		tl_fail "$s answers all $NQ queries as Trapline (A = trapline, B = $s)" \
			"$summary" "$(printf '%s\n' "$out" | grep -v '^same=' | head -n 30)"
	fi
	# the comparison is not of two empty zones: a fair share of the answers are listings
	with=$(printf '%s\n' "$summary" | grep -Eo 'with_answer=[0-9]+' | cut -d= -f2)
	check_cmd "$s: the queries are a mix of listed and unlisted (${with:-?} of $NQ answered)" \
		test "${with:-0}" -ge $((NQ / 4)) -a "${with:-0}" -le $((NQ * 3 / 4))
done

sec_stop bind1
sec_stop knot1
sec_stop nsd1
tl_stop
tl_finish
