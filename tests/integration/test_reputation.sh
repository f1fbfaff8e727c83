#!/usr/bin/env bash
# test_reputation.sh - `trapline reputation`: a prefix's points raise the listing threshold, DNS
# follows at once both ways, the most specific prefix wins, check/explain show it, `reputation
# list` shows every prefix with its points, restart and rebuild keep it, bad input changes
# nothing, every change is in the audit log.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data
tl_mkdata "$DATA"
tl() { "$TRAPLINE" "$@" --data "$DATA"; }
rcode() { rcode_of "$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 "$(rev4 "$1").$TL_ZONE" A 2>&1)"; }
check_nx() { # NAME IP: not listed: NXDOMAIN, after the next publication (lib.sh)
	check_ip_nx "$1" "$2"
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
audit() { python3 -c 'import sqlite3,sys; c=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True)
for r in c.execute("SELECT what, target, why FROM audit ORDER BY id"): print("|".join(r))' "$DATA/trapline.db" 2>&1; }

CLOCK=$TL_TMP/clock
T0=$(date +%s)
echo "$T0" >"$CLOCK"
export TRAPLINE_TEST_CLOCK=$CLOCK
tl_start --data "$DATA"
check_eq "reputation list: none yet" "no prefix has reputation points" "$(tl reputation list 2>&1)"
check_eq "reputation list --json: an empty array" "[]" "$(tl reputation list --json 2>&1)"

# ---- the issue's example: 2 trap hits + 3 reports 48 h old = 13 -------------------------
for i in 1 2; do run_ok tl evidence add --ip 199.51.100.7 --kind trap; done
for i in 1 2 3; do run_ok tl evidence add --ip 199.51.100.7 --kind report --at "$(iso $((T0 - 48 * 3600)))"; done
for i in 1 2; do run_ok tl evidence add --ip 199.51.100.77 --kind trap; done # 10, same /24
for i in 1 2; do run_ok tl evidence add --ip 199.51.101.5 --kind trap; done  # 10, next /24
out=$(tl check 199.51.100.7 2>&1)
check_match "2 trap hits + 3 reports score 13" '^score: 13\.000$' "$out"
check_match "and list at the default threshold 5" '^listed: yes$' "$out"
check_nomatch "no reputation applies yet" '^reputation:' "$out"
check_ip_a "DNS answers it" 199.51.100.7 127.0.0.2
json_before=$(tl list --json 2>&1)

# ---- points on its /24 raise the threshold above 13: delisted at once --------------------
out=$(tl reputation 199.51.100.0/24 --points 10 --why "big provider, much wanted mail" 2>&1)
check_eq "reputation exits 0" 0 $?
check_match "reputation says what it set" '^reputation: 199\.51\.100\.0/24 10 points .*threshold 15' "$out"
check_nx "threshold 15 > 13: DNS says NXDOMAIN" 199.51.100.7
check_nx "the other address inside the /24 goes too" 199.51.100.77
check_ip_a "an address outside the prefix stays listed" 199.51.101.5 127.0.0.2
out=$(tl check 199.51.100.7 2>&1)
check_match "check: not listed" '^listed: no$' "$out"
check_match "check: why" '^why: score below the threshold' "$out"
check_match "check: the threshold with the points" '^threshold: 15\.000$' "$out"
check_match "check: the points and where they come from" \
	'^reputation: 10 points \(199\.51\.100\.0/24: big provider, much wanted mail\)$' "$out"
out=$(tl explain 199.51.100.7 2>&1)
check_match "explain: the threshold raised by the reputation" \
	'^Threshold: 15\.000 \(5, plus 10 reputation points for this address\)$' "$out"
check_match "explain: not listed" '^Decision: NOT LISTED' "$out"
check_eq "list --json keeps its shape" \
	"$(printf '%s' "$json_before" | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)[0]))' 2>&1)" \
	"$(tl list --json 2>&1 | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)[0]))' 2>&1)"
check_eq "list --json no longer has the address" "[]" "$(tl list --json 2>&1 |
	python3 -c 'import json,sys; print([x["ip"] for x in json.load(sys.stdin) if x["ip"].startswith("199.51.100.")])' 2>&1)"

# ---- the most specific prefix applies ---------------------------------------------------
run_ok tl reputation 199.51.100.7/32 --points 1 --why "this host sends bulk"
check_ip_a "a /32 with 1 point (threshold 6) wins over the /24: listed again" 199.51.100.7 127.0.0.2
check_match "check shows the /32's points" '^reputation: 1 points \(199\.51\.100\.7/32' "$(tl check 199.51.100.7 2>&1)"
check_nx "the /24 still covers the others" 199.51.100.77
out=$(tl reputation list 2>&1)
check_eq "reputation list exits 0" 0 $?
check_eq "reputation list: both prefixes in address order, points, who, why" \
	"199.51.100.0/24 points=10 who=ctl:$(id -un) why=\"big provider, much wanted mail\"
199.51.100.7/32 points=1 who=ctl:$(id -un) why=\"this host sends bulk\"" \
	"$(printf '%s\n' "$out" | sed 's/ set_at=[^ ]* / /')"
check_match "reputation list: when each was set" "^199\.51\.100\.0/24 points=10 set_at=$(iso "$T0") " "$out"
check_eq "reputation list --json: the same rows" \
	"199.51.100.0/24 10 big provider, much wanted mail|199.51.100.7/32 1 this host sends bulk" \
	"$(tl reputation list --json 2>&1 | python3 -c 'import json,sys
print("|".join("%s %g %s" % (r["prefix"], r["points"], r["why"]) for r in json.load(sys.stdin)))' 2>&1)"
out=$(tl reputation 199.51.100.7/32 --remove --why "back to the /24" 2>&1)
check_match "--remove says what it removed" '^reputation: 199\.51\.100\.7/32 removed \(it had 1 points\)' "$out"
check_nx "removing the /32 leaves the /24's points" 199.51.100.7

# ---- bad input: exit 2, a message, nothing changed ---------------------------------------
before=$(tl check 199.51.100.7 2>&1; tl list 2>&1)
audit_before=$(audit)
while IFS= read -r args; do
	eval "set -- $args"
	err=$(tl "$@" 2>&1 >/dev/null)
	check_eq "bad input exits 2: $args" 2 $?
	check_match "bad input says why: $args" '^trapline: .+' "$err"
done <<'EOF'
reputation 199.51.100.1/24 --points 50 --why typo
reputation 199.51.100.0/24 --points -5 --why negative
reputation 199.51.100.0/24 --points lots --why words
reputation 199.51.100.0/24 --points 1e3 --why exponent
reputation 199.51.100.0/24 --points 50
reputation 199.51.100.0/24 --why "no points"
reputation 199.51.100.0/24 --points 5 --remove --why both
reputation 199.51.100.0/24 --points 5 --why "   "
reputation not-a-cidr --points 5 --why x
reputation list --points 5
reputation list 199.51.100.0/24
reputation lists
EOF
check_eq "bad input changed nothing" "$before" "$(tl check 199.51.100.7 2>&1; tl list 2>&1)"
check_eq "bad input left no audit row" "$audit_before" "$(audit)"

# ---- restart and rebuild keep the points --------------------------------------------------
tl_stop
tl_start --data "$DATA"
check_nx "restart: the /24's points still hold" 199.51.100.7
check_match "restart: check still shows them" '^reputation: 10 points \(199\.51\.100\.0/24' \
	"$(tl check 199.51.100.7 2>&1)"
before=$(tl list 2>&1)
check_eq "rebuild exits 0" 0 "$(tl rebuild >/dev/null 2>&1; echo $?)"
check_eq "rebuild agrees with the live service" "$before" "$(tl list 2>&1)"
check_nx "rebuild: still NXDOMAIN" 199.51.100.7
check_ip_a "rebuild: the address outside still listed" 199.51.101.5 127.0.0.2

# ---- removing the points lists it again ---------------------------------------------------
out=$(tl reputation 199.51.100.0/24 --points 0 --why "contract ended" 2>&1)
check_eq "--points 0 exits 0" 0 $?
check_match "--points 0 removes" '^reputation: 199\.51\.100\.0/24 removed \(it had 10 points\)' "$out"
check_ip_a "points removed: listed again, DNS answers" 199.51.100.7 127.0.0.2
check_ip_a "and its neighbour" 199.51.100.77 127.0.0.2
check_nomatch "check: no reputation any more" '^reputation:' "$(tl check 199.51.100.7 2>&1)"
check_match "removing points a prefix does not have says so" 'had no points; nothing changed' \
	"$(tl reputation 199.51.100.0/24 --points 0 --why again 2>&1)"

# ---- every change is in the audit log -----------------------------------------------------
check_eq "the audit log has each change, who did it and why" \
	"reputation 10|199.51.100.0/24|big provider, much wanted mail
reputation 1|199.51.100.7/32|this host sends bulk
reputation-remove|199.51.100.7/32|back to the /24
reputation-remove|199.51.100.0/24|contract ended" "$(audit)"

# ---- no service: in process on the data directory, then served after start ---------------
tl_stop
out=$(tl reputation 199.51.100.0/24 --points 20 --why "offline change" 2>&1)
check_eq "no service: reputation works in-process" 0 $?
check_match "no service: check sees the threshold" '^threshold: 25\.000$' "$(tl check 199.51.100.7 2>&1)"
check_match "no service: reputation list reads the data directory" \
	'^199\.51\.100\.0/24 points=20 set_at=[^ ]* who=cli:[^ ]* why="offline change"$' "$(tl reputation list 2>&1)"
check_eq "no service: bad input still exits 2" 2 \
	"$(tl reputation 199.51.100.0/24 --points -1 --why x >/dev/null 2>&1; echo $?)"
tl_start --data "$DATA"
check_nx "the change made with no service is served after start" 199.51.100.7
tl_stop
unset TRAPLINE_TEST_CLOCK

tl_finish
