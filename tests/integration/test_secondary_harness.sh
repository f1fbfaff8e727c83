#!/usr/bin/env bash
# test_secondary_harness.sh - the NSD, Knot and BIND secondaries of secondary.sh work, checked against
# a primary known to be right: Knot serving a file from `trapline export`. The secondaries take
# the zone with the TSIG key, answer its listings, and follow a change the primary notifies
# (a new export, a new serial). test_secondaries.sh then puts Trapline in Knot's place.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/secondary.sh"

DATA=$TL_TMP/data
tl_mkdata "$DATA"
ZONEFILE=$TL_TMP/primary.zone
A1=193.0.2.11
A2=199.51.100.12

# two pieces of evidence list an address (docs/policy.md)
list_ip() {
	run_ok "$TRAPLINE" evidence add --ip "$1" --kind trap --data "$DATA" &&
		run_ok "$TRAPLINE" evidence add --ip "$1" --kind trap --data "$DATA"
}
export_zone() {
	run_ok "$TRAPLINE" export --format bind --out "$ZONEFILE.new" --data "$DATA" &&
		chmod 644 "$ZONEFILE.new" && mv "$ZONEFILE.new" "$ZONEFILE"
}
file_serial() { awk '$4 == "SOA" { print $7; exit }' "$ZONEFILE"; }

list_ip "$A1"
export_zone
S1=$(file_serial)
check_match "the export has a serial" '^[0-9]+$' "$S1"

sec_key_new
sec_new prim knot-primary
sec_new nsd1 nsd
sec_new knot1 knot
sec_new bind1 bind
sec_start_primary prim "$ZONEFILE" nsd1 knot1 bind1
check_eq "the Knot primary serves the export" "$S1" "$(sec_serial prim)"
sec_start nsd1 "$(sec_port prim)"
sec_start knot1 "$(sec_port prim)"
sec_start bind1 "$(sec_port prim)"

for s in nsd1 knot1 bind1; do
	if sec_wait_serial "$s" "$S1"; then tl_ok "$s: first transfer (serial $S1)"; else
		tl_fail "$s: first transfer (serial $S1)" "serial: '$(sec_serial "$s")'" "$(tail -n 15 "$(sec_log "$s")")"
	fi
	check_eq "$s answers the listing" 127.0.0.2 "$(sec_a "$s" "$(rev4 "$A1").$TL_ZONE")"
	check_eq "$s answers the RFC 5782 test point" 127.0.0.2 "$(sec_a "$s" "2.0.0.127.$TL_ZONE")"
	check_eq "$s: an unlisted address is NXDOMAIN" NXDOMAIN \
		"$(rcode_of "$(sec_dig "$s" "$(rev4 "$A2").$TL_ZONE" A)")"
done

# A change: the primary reloads a newer export and notifies; both follow without a refresh timer
# (the export's SOA refresh is 600 s, so only the NOTIFY can bring it within the wait).
list_ip "$A2"
sleep 1 # the export's serial counts seconds
export_zone
S2=$(file_serial)
check_cmd "the new export has a later serial ($S1 -> $S2)" serial_ge "$S2" "$((S1 + 1))"
check_cmd "the primary reloads" sec_primary_reload prim
for s in nsd1 knot1 bind1; do
	if sec_wait_serial "$s" "$S2" 100; then tl_ok "$s follows the NOTIFY (serial $S2)"; else
		tl_fail "$s follows the NOTIFY (serial $S2)" "serial: '$(sec_serial "$s")'" "$(tail -n 15 "$(sec_log "$s")")"
	fi
	check_eq "$s answers the new listing" 127.0.0.2 "$(sec_a "$s" "$(rev4 "$A2").$TL_ZONE")"
done
# NSD's log does not name the kind of transfer; the primary's does, one line per secondary.
check_eq "all three took the change by IXFR (the primary's log)" 3 \
	"$(grep -c "IXFR, outgoing.*finished" "$(sec_log prim)")"

# A secondary without the key gets nothing from a primary that requires it.
sec_new nokey nsd
SEC_NOKEY=1 sec_start nokey "$(sec_port prim)"
sleep "$TL_SLOW"
check_eq "a secondary without the key has no zone" "" "$(sec_serial nokey)"

for s in nokey bind1 knot1 nsd1 prim; do sec_stop "$s"; done
tl_finish
