#!/usr/bin/env bash
# test_evidence_cli.sh - the operator's commands against a running service (control socket) and
# on a bare data directory: evidence lists an address and DNS answers it, the SpamCop rules,
# check/list/explain figures, delisting, exclusions, bad input, restart, rebuild, expiry.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data
tl_mkdata "$DATA"
# The clock stands still until the expiry part moves it: a report's weight falls with its age,
# so figures read seconds apart (the list before and after a rebuild, say) would differ in the
# last digit on a loaded machine (8.000 against 7.999) if the wall clock ran.
CLOCK=$TL_TMP/clock
date +%s >"$CLOCK"
export TRAPLINE_TEST_CLOCK=$CLOCK
tl() { "$TRAPLINE" "$@" --data "$DATA"; }
txt_of() { dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "$(rev4 "$1").$TL_ZONE" TXT 2>/dev/null | head -n 1; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

tl_start --data "$DATA"
SOCK=$DATA/trapline.sock
check_eq "the control socket is created with mode 0600" "600" "$(stat -c %a "$SOCK" 2>&1)"
check_eq "it is a socket" "socket" "$(stat -c %F "$SOCK" 2>&1)"

# ---- evidence lists an address, DNS answers it ------------------------------------------
out=$(tl evidence add --ip 193.0.2.10 --kind trap 2>&1)
check_match "evidence add says stored" '^stored: trap \(spam\)' "$out"
check_match "one trap hit does not list" '193.0.2.10: not listed' "$out"
out=$(tl evidence add --ip 193.0.2.10 --kind trap --class bounce 2>&1)
check_match "a second trap hit lists" '193.0.2.10: listed \(traps\) until ' "$out"
check_ip_a "two trap hits: DNS answers 127.0.0.2 within a second" 193.0.2.10 127.0.0.2
check_match "and a TXT record naming the address" 'ip=193\.0\.2\.10"$' "$(txt_of 193.0.2.10)"
check_match "the request went through the socket (logged by the service)" \
	'module=ctl request cmd=evidence-add who=ctl:[a-z]+ status=0' "$(cat "$TL_LAST_LOG")"

run_ok tl evidence add --ip 193.0.2.20 --kind report
check_ip_a "one report does not list" 193.0.2.20 ""
check_match "check says why" '^why: only one piece of evidence' "$(tl check 193.0.2.20 2>&1)"

# ---- check, list, --json, explain -------------------------------------------------------
out=$(tl check 193.0.2.10 2>&1)
check_eq "check exits 0" 0 $?
for want in '^listed: yes$' '^reason: traps$' '^score: 10\.000$' '^threshold: 5\.000$' '^traps: 2$' \
	'^reports: 0$' '^expires_at: 20[0-9-]+T[0-9:]+Z$' '^evidence: 2 trap hits, 0 reports'; do
	check_match "check shows $want" "$want" "$out"
done
out=$(tl list 2>&1)
check_match "list shows the listing with its figures" \
	'^193\.0\.2\.10 reason=traps score=10\.000 traps=2 reports=0 listed_since=.* expires_at=' "$out"
check_nomatch "list leaves the unlisted out" '^193\.0\.2\.20 ' "$out"
json=$(tl list --json 2>&1)
check_eq "list --json is JSON with the figures" "193.0.2.10 traps 10.0 2 0" "$(printf '%s' "$json" |
	python3 -c 'import json,sys; l=[x for x in json.load(sys.stdin) if x["ip"]=="193.0.2.10"][0]; print(l["ip"], l["reason"], l["score"], l["traps"], l["reports"])' 2>&1)"
out=$(tl explain 193.0.2.10 2>&1)
check_match "explain shows the total" '^Total score: 10\.000' "$out"
check_match "explain shows the decision" '^Decision: LISTED' "$out"
check_match "explain shows the expiry" '^Expires: ' "$out"

# ---- the rules, table-driven: evidence -> listed or not, and the score -------------------
NOW=$(cat "$CLOCK")
OLD=$(iso $((NOW - 49 * 3600)))   # a report 49 h old weighs 1 (SpamCop's "before freshness")
# IP | pieces (t = trap now, r = report now, o = report 49 h old) | listed | score
while IFS='|' read -r ip pieces want score; do
	for p in $pieces; do
		case $p in
		t) run_ok tl evidence add --ip "$ip" --kind trap ;;
		r) run_ok tl evidence add --ip "$ip" --kind report ;;
		o) run_ok tl evidence add --ip "$ip" --kind report --at "$OLD" ;;
		esac
	done
	out=$(tl check "$ip" 2>&1)
	check_match "rules: $pieces -> listed: $want" "^listed: $want\$" "$out"
	check_match "rules: $pieces -> score $score" "^score: $score\$" "$out"
done <<'EOF'
199.18.0.1|t t o o o|yes|13.000
199.18.0.2|t t t t t t t o o o|yes|52.000
199.18.0.3|r|no|4.000
199.18.0.4|r r|yes|8.000
199.18.0.5|t|no|5.000
199.18.0.6|t o|yes|6.000
199.18.0.7|o o|no|2.000
199.18.0.8|o o o o o|no|5.000
EOF
check_ip_a "the 13-point SpamCop example is in DNS" 199.18.0.1 127.0.0.2
check_ip_a "two old reports are not in DNS" 199.18.0.7 ""
check_match "evidence all older than 24 h does not list, whatever its score" '^why: expired$' \
	"$(tl check 199.18.0.8 2>&1)"
check_match "a listing on reports only says so" '^reason: reports$' "$(tl check 199.18.0.4 2>&1)"
check_match "a listing on both says so" '^reason: both$' "$(tl check 199.18.0.1 2>&1)"

# ---- special-purpose addresses: refused at intake, never listed -------------------------
# Every kind of the IANA registries, the 6to4, NAT64 and mapped forms of private space among
# them: exit 2 with the range and its RFC, nothing stored (exclude_default's special-purpose).
while read -r ip range name; do
	out=$(tl evidence add --ip "$ip" --kind trap 2>&1)
	check_eq "evidence against $ip ($name) is refused: exit 2" 2 $?
	check_match "...naming $range and why" "^trapline: .*$range, $name.*: a special-purpose address, never a public source of mail: evidence against it is refused \(exclude_default\)$" "$out"
done <<'EOF_SPECIAL'
10.1.2.3 10\.0\.0\.0/8 Private-Use
100.64.0.1 100\.64\.0\.0/10 Shared
198.18.0.1 198\.18\.0\.0/15 Benchmarking
192.0.0.9 192\.0\.0\.9/32 Port
192.0.2.10 192\.0\.2\.0/24 Documentation
203.0.113.255 203\.0\.113\.0/24 Documentation
127.0.0.3 127\.0\.0\.0/8 Loopback
fd12:3456::1 fc00::/7 Unique-Local
2001:db8::1 2001:db8::/32 Documentation
3fff::1 3fff::/20 Documentation
2001:2::7 2001:2::/48 Benchmarking
5f00::1 5f00::/16 Segment
100::1 100::/64 Discard-Only
64:ff9b::a01:203 10\.0\.0\.0/8 Private-Use
2002:c0a8:101::1 192\.168\.0\.0/16 Private-Use
::ffff:172.16.9.9 172\.16\.0\.0/12 Private-Use
EOF_SPECIAL
check_match "...nothing of them was stored" '^evidence: 0 trap hits, 0 reports' "$(tl check 10.1.2.3 2>&1)"
check_ip_a "RFC 1918 space is never listed" 10.1.2.3 ""
check_match "check names the special-purpose range" '^excluded: special-purpose address: Private-Use \(RFC 1918\)' "$(tl check 10.1.2.3 2>&1)"
check_match "...and the 6to4 form of private space too" '^excluded: special-purpose address: Private-Use \(RFC 1918\)' "$(tl check 2002:c0a8:101::1 2>&1)"
for ip in 2002:808:808::1 2002:808:808::1 64:ff9b::808:808 64:ff9b::808:808; do
	run_ok tl evidence add --ip "$ip" --kind trap
done
a6_of() { dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "$(rev6 "$1").$TL_ZONE" A 2>/dev/null | head -n 1; }
check_cmd "the 6to4 form of a public address is public: DNS lists it" tl_poll 10 127.0.0.2 a6_of 2002:808:808::1
check_cmd "...and so is its NAT64 form" tl_poll 10 127.0.0.2 a6_of 64:ff9b::808:808
check_ip_a "the RFC 5782 test point 127.0.0.2 is still answered" 127.0.0.2 127.0.0.2
check_ip_a "...and 127.0.0.1 is not" 127.0.0.1 ""

# ---- exclusions, delisting ---------------------------------------------------------------

out=$(tl exclude 199.51.100.0/24 --why "customer's outbound relay" 2>&1)
check_eq "exclude exits 0" 0 $?
check_match "exclude says what" '^excluded: 199\.51\.100\.0/24 for ever' "$out"
run_ok tl evidence add --ip 199.51.100.7 --kind trap
run_ok tl evidence add --ip 199.51.100.7 --kind trap
run_ok tl evidence add --ip 199.51.100.7 --kind report
check_ip_a "an address in an excluded /24 is not listed despite evidence" 199.51.100.7 ""
out=$(tl check 199.51.100.7 2>&1)
check_match "check: not listed" '^listed: no$' "$out"
check_match "check names the exclusion's reason" "^excluded: customer's outbound relay" "$out"
check_ip_a "an address listed before an exclusion..." 199.18.0.6 127.0.0.2
run_ok tl exclude 199.18.0.6/32 --until "$(iso $((NOW + 86400)))" --why "ticket 7"
check_ip_a "...is removed by it" 199.18.0.6 ""

out=$(tl delist 193.0.2.10 --why "ticket 12: fixed" 2>&1)
check_eq "delist exits 0" 0 $?
check_match "delist says so" '^delisted: 193\.0\.2\.10' "$out"
check_ip_a "delisted: DNS says NXDOMAIN" 193.0.2.10 ""
check_match "check shows the delisting" '^delisted_at: ' "$(tl check 193.0.2.10 2>&1)"
run_ok tl evidence add --ip 193.0.2.10 --kind trap
check_ip_a "one new hit after a delisting does not list again" 193.0.2.10 ""
run_ok tl evidence add --ip 193.0.2.10 --kind trap
check_ip_a "new evidence after the delisting lists again" 193.0.2.10 127.0.0.2

# ---- bad input: exit 2, a message, nothing changed ---------------------------------------
before=$(tl list 2>&1)
while IFS= read -r args; do
	eval "set -- $args"
	err=$(tl "$@" 2>&1 >/dev/null)
	rc=$?
	check_eq "bad input exits 2: $args" 2 "$rc"
	check_match "bad input says why in one line: $args" '^trapline: .+' "$err"
	check_eq "one line: $args" 1 "$(printf '%s\n' "$err" | grep -c .)"
done <<'EOF'
evidence add --ip 300.1.1.1 --kind trap
evidence add --ip 193.0.2.77 --kind spam
evidence add --ip 193.0.2.77
evidence add --ip 193.0.2.77 --kind trap --at yesterday
evidence add --ip 193.0.2.77 --kind trap --at 2099-01-01T00:00:00Z
evidence add --ip 193.0.2.77 --kind trap --class ham
check not-an-ip
exclude 193.0.2.1/24 --why typo
exclude 193.0.2.0/24 --until 2020-01-01T00:00:00Z --why past
exclude 193.0.2.0/24
exclude 193.0.2.0/24 --why "   "
delist 193.0.2.10
export --format csv
list --bogus
evidence add --ip 010.0.0.1 --kind trap
evidence add --ip 0.0.0.0 --kind trap
evidence add --ip 255.255.255.255 --kind report
evidence add --ip :: --kind trap
evidence add --ip 224.0.0.5 --kind trap
evidence add --ip 193.0.2.77 --ip 193.0.2.78 --kind trap
evidence add --ip 193.0.2.77 --kind trap --kind report
evidence add --ip 193.0.2.77 --kind trap --at 1970-01-01T00:00:00Z
check 193.0.2.77 193.0.2.78
check 193.0.2.77 --data /tmp --data /tmp
EOF
check_eq "bad input changed nothing" "$before" "$(tl list 2>&1)"
check_eq "no evidence was stored for the bad requests" "evidence: 0 trap hits, 0 reports in the store" \
	"$(tl check 193.0.2.77 2>&1 | grep '^evidence:')"

# ---- rebuild agrees with the live service; exports --------------------------------------
# Everything, listed_at included: a listing that goes on through the rebuild keeps its start.
before=$(tl list 2>&1)
out=$(tl rebuild 2>&1)
check_eq "rebuild exits 0" 0 $?
check_match "rebuild says how many" '^rebuilt: [0-9]+ listings' "$out"
# Exactly: the test clock stands still (above), so a report's decay cannot move a score.
check_eq "rebuild agrees with the list before it" "$before" "$(tl list 2>&1)"
check_match "the list compared is not empty" '^199\.18\.0\.2 reason=both score=52\.000' "$before"
check_ip_a "DNS still answers after the rebuild" 199.18.0.1 127.0.0.2

tl export --format rbldnsd --out "$TL_TMP/zone.rbldnsd"
check_eq "export --out exits 0" 0 $?
check_match "the rbldnsd export has the listed address" '^199\.18\.0\.1$' "$(cat "$TL_TMP/zone.rbldnsd" 2>&1)"
check_nomatch "and not an unlisted one" '^199\.18\.0\.7$' "$(cat "$TL_TMP/zone.rbldnsd" 2>&1)"
check_match "the BIND export has the listed address" '^1\.0\.18\.199[[:space:]].*A[[:space:]]+127\.0\.0\.2' \
	"$(tl export --format bind 2>&1)"

# ---- restart keeps everything ------------------------------------------------------------
listed=$(tl list 2>&1)
tl_stop
check_eq "the socket is removed at exit" "gone" "$( [ -e "$SOCK" ] && echo present || echo gone)"
tl_start --data "$DATA"
check_eq "restart: the listings are the same" "$listed" "$(tl list 2>&1)"
check_ip_a "restart: DNS answers a listing from before" 193.0.2.10 127.0.0.2
check_ip_a "restart: an exclusion still holds" 199.51.100.7 ""

# ---- a killed service: stale socket; no service: the data directory ----------------------
{ kill -KILL "$TL_LAST_PID"; wait "$TL_LAST_PID"; } 2>/dev/null
check_eq "kill -9 leaves the socket file" "present" "$( [ -S "$SOCK" ] && echo present || echo gone)"
out=$(tl list 2>&1)
check_eq "no service: list works on the data directory" "$listed" "$out"
out=$(tl evidence add --ip 204.0.113.9 --kind trap 2>&1 && tl evidence add --ip 204.0.113.9 --kind report 2>&1)
check_match "no service: evidence add runs the policy in-process" '204.0.113.9: listed \(both\)' "$out"
check_match "no service: check reads it" '^listed: yes$' "$(tl check 204.0.113.9 2>&1)"
check_match "no service: explain works" '^Decision: LISTED' "$(tl explain 204.0.113.9 2>&1)"
tl delist 204.0.113.9 --why x >/dev/null 2>&1; rc=$?
check_eq "no service: delist works" 0 "$rc"
check_eq "no service: bad input still exits 2" 2 "$(tl exclude 10.0.0.1/8 --why x >/dev/null 2>&1; echo $?)"
run_ok tl evidence add --ip 204.0.113.50 --kind trap
run_ok tl evidence add --ip 204.0.113.50 --kind trap
# The store's lock held by some process that does not answer on a socket: say so, change nothing.
exec {lockfd}>"$DATA/trapline.lock"
flock -n "$lockfd"
err=$(tl evidence add --ip 204.0.113.60 --kind trap 2>&1 >/dev/null)
check_eq "store locked, no socket: exit 1" 1 $?
check_match "store locked, no socket: a clear message" 'is in use by another trapline process' "$err"
exec {lockfd}>&-
check_match "store locked: nothing was stored" '^evidence: 0 trap hits' "$(tl check 204.0.113.60 2>&1)"
tl_start --data "$DATA"
check_eq "a stale socket is replaced by the next start" "600" "$(stat -c %a "$SOCK" 2>&1)"
check_ip_a "what was added with no service is served after start" 204.0.113.50 127.0.0.2
check_ip_a "and the delisting made with no service holds" 204.0.113.9 ""
tl_stop

# ---- expiry with the test clock: 12 h on two reports, 24 h after the last evidence -------
CLOCK=$TL_TMP/clock
T0=$(date +%s)
echo "$T0" >"$CLOCK"
export TRAPLINE_TEST_CLOCK=$CLOCK
DATA=$TL_TMP/data-clock
tl_mkdata "$DATA"
tl_start --data "$DATA"
run_ok tl evidence add --ip 193.0.2.100 --kind trap
run_ok tl evidence add --ip 193.0.2.100 --kind trap
run_ok tl evidence add --ip 193.0.2.101 --kind report
run_ok tl evidence add --ip 193.0.2.101 --kind report
check_ip_a "clock: two trap hits listed" 193.0.2.100 127.0.0.2
check_ip_a "clock: two reports listed" 193.0.2.101 127.0.0.2
check_match "clock: the evidence is at the test clock's time" "^expires_at: $(iso $((T0 + 86400)))\$" \
	"$(tl check 193.0.2.100 2>&1)"
check_match "clock: two reports expire after 12 h" "^expires_at: $(iso $((T0 + 43200)))\$" \
	"$(tl check 193.0.2.101 2>&1)"
echo $((T0 + 43200 - 1)) >"$CLOCK"
sleep 0.5
check_ip_a "clock: 12 h - 1 s: two reports still listed" 193.0.2.101 127.0.0.2
echo $((T0 + 43200 + 1)) >"$CLOCK"
check_ip_a "clock: 12 h + 1 s: two reports expired (NXDOMAIN)" 193.0.2.101 "" 20
check_ip_a "clock: 12 h + 1 s: the trap hits still listed" 193.0.2.100 127.0.0.2
echo $((T0 + 86400 - 1)) >"$CLOCK"
sleep 0.5
check_ip_a "clock: 24 h - 1 s: still listed" 193.0.2.100 127.0.0.2
echo $((T0 + 86400 + 1)) >"$CLOCK"
check_ip_a "clock: 24 h + 1 s after the last evidence: expired (NXDOMAIN)" 193.0.2.100 "" 20
check_match "clock: check agrees" '^listed: no$' "$(tl check 193.0.2.100 2>&1)"
run_ok tl evidence add --ip 193.0.2.100 --kind trap
run_ok tl evidence add --ip 193.0.2.100 --kind trap
check_ip_a "clock: new evidence lists it again" 193.0.2.100 127.0.0.2
tl_stop
unset TRAPLINE_TEST_CLOCK

tl_finish
