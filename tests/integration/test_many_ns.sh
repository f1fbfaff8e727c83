#!/usr/bin/env bash
# test_many_ns.sh - every name server an operator gives is served ($NS line of a data file, the
# ns key of the config): over UDP an NS set too big for the client's size is TC=1 with no
# records (never a part of the set, RFC 2181 9), over TCP the whole set.
source "$(dirname "$0")/lib.sh"

Z=$TL_ZONE
LONG=a-long-name-for-a-dnsbl-mirror-in-the-test-of-many-servers # 58 characters

# ns_names N: "ns01.LONG.example.net. ns02..." (each 77 characters: 16 make 1,600 bytes of
# records, over the 1,232 that dig's EDNS size and our edns_udp_max allow)
ns_names() {
	local i
	for i in $(seq -f '%02g' 1 "$1"); do printf 'ns%s.%s.example.net. ' "$i" "$LONG"; done
}

# check_ns_set LABEL WANT_NAMES: NS over TCP answers exactly these names (trailing dots).
check_ns_set() {
	local out want got
	out=$(tl_dig "$Z" NS +tcp)
	check_eq "$1: NS over TCP is NOERROR without TC" "NOERROR no" \
		"$(rcode_of "$out") $(has_flag "$out" tc && echo tc || echo no)"
	want=$(printf '%s\n' $2 | sort)
	got=$(section_of "$out" ANSWER | awk '$4 == "NS" { print $5 }' | sort)
	check_eq "$1: NS over TCP has all $(printf '%s\n' $2 | grep -c .) names" "$want" "$got"
}

# check_udp_tc LABEL [dig options]: NS over UDP is TC=1 and carries no record at all.
check_udp_tc() {
	local label=$1 out
	shift
	out=$(tl_dig "$Z" NS +ignore "$@")
	check_cmd "$label: TC flag set" has_flag "$out" tc
	check_eq "$label: no partial NS set" "NOERROR 0 0" \
		"$(rcode_of "$out") $(rr_count "$out" ANSWER) $(rr_count "$out" AUTHORITY)"
}

# ---- a data file with 16 names on its $NS line ----
F=$TL_TMP/many-ns.rbldnsd
NS16=$(ns_names 16)
printf '$SOA 3600 ns01.%s.example.net. hostmaster.%s. 7 600 300 86400 300\n$NS 3600 %s\n1.2.3.4\n' \
	"$LONG" "$Z" "$NS16" >"$F"
tl_start --static "$F"
check_nomatch "no name server dropped or refused in the log" 'name servers|\$NS|ignored' \
	"$(cat "$TL_LAST_LOG")"
check_udp_tc "static, UDP with EDNS (1232)"
check_udp_tc "static, UDP without EDNS (512)" +noedns
check_ns_set "static" "$NS16"
out=$(tl_dig "4.3.2.1.$Z" A)
check_eq "the list answers as before" "4.3.2.1.$Z. 2100 IN A 127.0.0.2" "$(section_of "$out" ANSWER)"

# A reload with 40 names: every worker's cache grows with the new snapshot.
NS40=$(ns_names 40)
printf '$NS 3600 %s\n1.2.3.4\n' "$NS40" >"$F.tmp" && mv "$F.tmp" "$F"
kill -HUP "$TL_LAST_PID"
ns_count() { tl_dig "$Z" NS +tcp | awk '/^;; ANSWER SECTION:/ { on = 1; next } on && $4 == "NS"' | grep -c .; }
if tl_poll 60 40 ns_count; then tl_ok "after SIGHUP: 40 names over TCP"; else
	tl_fail "after SIGHUP: 40 names over TCP" "got $(ns_count)"; fi
check_ns_set "static, 40 names" "$NS40"
check_udp_tc "static, 40 names, UDP"

# Past one TCP message (245 names of 253 characters): the line is refused whole, with its file
# and line in the log, and the zone keeps the configured name server (ns1.<zone>).
python3 - "$F.tmp" <<'EOF_PY' || tl_die "write a \$NS line of 245 long names"
import sys
names = ["n%03d%s.%s.%s.%s.example.net." % (i, "x" * 59, "a" * 60, "b" * 60, "c" * 55)
         for i in range(1, 246)]
assert all(len(n) == 254 for n in names)  # 253 characters and the trailing dot
with open(sys.argv[1], "w") as f:
    f.write("$NS 3600 " + " ".join(names) + "\n1.2.3.4\n")
EOF_PY
mv "$F.tmp" "$F"
kill -HUP "$TL_LAST_PID"
if tl_poll 60 1 ns_count; then tl_ok "a \$NS line past one TCP message is not served"; else
	tl_fail "a \$NS line past one TCP message is not served" "got $(ns_count) names"; fi
check_ns_set "static, refused line" "ns1.$Z."
check_match "the refused line is logged with file and line" \
	"many-ns\\.rbldnsd:1: \\\$NS refused: .*one DNS message over TCP" "$(cat "$TL_LAST_LOG")"
tl_stop

# ---- the ns key of the config: 16 names, 10 of them inside the zone with an address ----
names=() addrs=()
for i in $(seq -f '%02g' 1 10); do
	names+=("ns$i.$Z")
	addrs+=("ns$i.$Z=192.0.2.$((10#$i))")
done
for i in $(seq -f '%02g' 11 16); do names+=("ns$i.mirror.example.net"); done
CONF=$TL_TMP/many-ns.conf
{
	printf 'ns = %s\n' "$(IFS=,; echo "${names[*]}")"
	printf 'ns_addr = %s\n' "$(IFS=,; echo "${addrs[*]}")"
} >"$CONF"
check_cmd "check-config accepts 16 name servers" "$TRAPLINE" check-config "$CONF"
tl_start --config "$CONF"
check_nomatch "no name server or address dropped in the log" 'not served|ns_addr ignored' \
	"$(cat "$TL_LAST_LOG")"
check_udp_tc "config, UDP without EDNS (512)" +noedns
check_ns_set "config" "$(printf '%s. ' "${names[@]}")"
out=$(tl_dig "ns10.$Z" A)
check_eq "the tenth in-zone name server has its address" "ns10.$Z. 3600 IN A 192.0.2.10" \
	"$(section_of "$out" ANSWER)"
tl_stop

tl_finish
