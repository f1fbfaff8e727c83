#!/usr/bin/env bash
# test_ns_addr.sh - name servers inside the zone (ns_addr): checked by check-config, answered
# by DNS with AA, and written into the BIND export so that named-checkzone accepts it.
source "$(dirname "$0")/lib.sh"

command -v named-checkzone >/dev/null || tl_die "named-checkzone installed (bind9-utils)"
Z=$TL_ZONE

# ---- check-config ----
conf_bad() {
	printf 'ns = ns1.%s, ns2.example.net\nns_addr = %s\n' "$Z" "$1" >"$TL_TMP/bad.conf"
	local out rc
	out=$("$TRAPLINE" check-config "$TL_TMP/bad.conf" 2>&1)
	rc=$?
	check_eq "check-config refuses ns_addr = $1 (exit 2)" 2 "$rc"
	check_match "check-config names the key for $1" '^trapline: .*ns_addr: ' "$out"
}
conf_bad "ns2.$Z=192.0.2.54"          # not one of the name servers
conf_bad "ns2.example.net=192.0.2.54" # a name server, but not inside the zone
conf_bad "ns1.$Z=192.0.2.300"         # not an address
conf_bad "ns1.$Z"                     # no address at all

CONF="$TL_TMP/ns.conf"
cat >"$CONF" <<EOF
ns = ns1.$Z, ns2.example.net
ns_ttl = 7200
ns_addr = ns1.$Z=192.0.2.53, NS1.$Z.=2001:db8::53
EOF
check_cmd "check-config accepts addresses for an in-zone name server" \
	"$TRAPLINE" check-config "$CONF"
out=$("$TRAPLINE" serve --config "$CONF" --zone other.example --data "$TL_TMP/never" 2>&1)
check_eq "serve refuses a --zone that leaves ns_addr outside the zone (exit 2)" 2 "$?"
check_match "serve says which key" 'ns_addr: ns1\.bl\.example\.org is not below the zone' "$out"

# ---- DNS ----
tl_start --config "$CONF"
DATA="$TL_TMP/data$TL_NSTARTS"

out=$(tl_dig "ns1.$Z" A)
check_eq "ns1.$Z A: NOERROR" NOERROR "$(rcode_of "$out")"
check_cmd "ns1.$Z A: authoritative (AA)" has_flag "$out" aa
check_eq "ns1.$Z A: the configured address, ns_ttl" "ns1.$Z. 7200 IN A 192.0.2.53" \
	"$(section_of "$out" ANSWER)"
out=$(tl_dig "ns1.$Z" AAAA +tcp)
check_cmd "ns1.$Z AAAA over TCP: authoritative (AA)" has_flag "$out" aa
check_eq "ns1.$Z AAAA: the configured address" "ns1.$Z. 7200 IN AAAA 2001:db8::53" \
	"$(section_of "$out" ANSWER)"
out=$(tl_dig "ns1.$Z" MX)
check_eq "ns1.$Z MX: NOERROR, no data" "NOERROR 0 1" \
	"$(rcode_of "$out") $(rr_count "$out" ANSWER) $(rr_count "$out" AUTHORITY SOA)"
out=$(tl_dig "ns3.$Z" A)
check_eq "ns3.$Z (no address configured) stays NXDOMAIN" NXDOMAIN "$(rcode_of "$out")"
out=$(tl_dig "2.0.0.127.$Z" A)
check_eq "the list answers as before" "2.0.0.127.$Z. 2100 IN A 127.0.0.2" \
	"$(section_of "$out" ANSWER)"

# ---- BIND export, from the running service ----
check_cmd "export through the service" "$TRAPLINE" export --format bind --data "$DATA" \
	--out "$TL_TMP/with.zone"
check_match "the export has ns1's A record" "^ns1\\.$Z\\.[[:space:]]+7200[[:space:]]+IN[[:space:]]+A[[:space:]]+192\\.0\\.2\\.53$" \
	"$(cat "$TL_TMP/with.zone")"
out=$(named-checkzone "$Z" "$TL_TMP/with.zone" 2>&1)
check_match "named-checkzone accepts the export with ns_addr" '^OK$' "$out"
tl_stop

# ---- without ns_addr: no file BIND would refuse, exit status 1 and the key that fixes it ----
printf 'ns = ns1.%s, ns2.example.net\n' "$Z" >"$TL_TMP/plain.conf"
tl_mkdata "$TL_TMP/plain"
err=$("$TRAPLINE" export --format bind --config "$TL_TMP/plain.conf" --data "$TL_TMP/plain" \
	--out "$TL_TMP/without.zone" 2>&1 >/dev/null)
check_eq "export of a zone that would not load exits 1" 1 $?
check_match "...and says which name server and which key fixes it" \
	"^trapline: export failed: name server ns1\\.$Z is inside zone $Z and has no address.*set ns_addr = ns1\\.$Z=ADDR" "$err"
check_eq "...and writes no file" no "$([ -e "$TL_TMP/without.zone" ] && echo yes || echo no)"

# ---- the default configuration: a zone that loads as it is ----
tl_mkdata "$TL_TMP/default"
"$TRAPLINE" export --format bind --data "$TL_TMP/default" --out "$TL_TMP/default.zone" 2>"$TL_TMP/default.err"
check_eq "export with the default configuration exits 0" 0 $?
check_match "...its name server ns1.$Z has the address DNS listens on" \
	"^ns1\\.$Z\\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+127\\.0\\.0\\.1$" "$(cat "$TL_TMP/default.zone")"
check_match "named-checkzone loads it" '^OK$' "$(named-checkzone "$Z" "$TL_TMP/default.zone" 2>&1)"

tl_finish
