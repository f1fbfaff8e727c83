#!/usr/bin/env bash
# test_policy_shipped.sh - the listing policy the binary ships with, pinned from the outside:
# the weight of a report at ages on each side of every boundary, the trap score, the
# threshold, the window and the 12 h and 24 h expiry, with the default configuration (no
# config file) and the test clock. A changed default (a 36 h decay instead of 48 h, a 6-day
# window) fails here, whichever place the numbers come from.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data
tl_mkdata "$DATA"
CLOCK=$TL_TMP/clock
T0=1800000000 # 2027-01-15T08:00:00Z: well away from today, on the test clock
echo "$T0" >"$CLOCK"
export TRAPLINE_TEST_CLOCK=$CLOCK
tl() { "$TRAPLINE" "$@" --data "$DATA"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
H=3600
D=86400
# json_of IP FIELD...: fields of check --json, space separated (a command that fails is a
# failed check, with what it said).
json_of() {
	local ip=$1 out
	shift
	if ! out=$(tl check "$ip" --json 2>"$TL_TMP/err"); then
		tl_fail "check $ip --json" "$(cat "$TL_TMP/err")"
		return
	fi
	printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(str(d[k]).lower() if isinstance(d[k], bool) else ("%.4f" % d[k] if isinstance(d[k], float) else str(d[k])) for k in sys.argv[1:]))' "$@"
}

tl_start --data "$DATA"

# ---- a report's weight by its age: 4 when fresh, falling linearly to 1 at 48 h -----------------
# (The JSON shows scores with three decimals, cut: 1.0625 is 1.062.)
# One report alone never lists; its score is its weight. 7 days + 1 hour: outside the window.
n=0
while read -r age want; do
	n=$((n + 1))
	ip=199.18.1.$n
	run_ok tl evidence add --ip "$ip" --kind report --at "$(iso $((T0 - age)))"
	check_eq "a report $((age / H)) h old weighs $want" "$want false" "$(json_of "$ip" score listed)"
done <<EOF2
0 4.0000
$((12 * H)) 3.2500
$((24 * H)) 2.5000
$((36 * H)) 1.7500
$((47 * H)) 1.0620
$((49 * H)) 1.0000
$((6 * D)) 1.0000
$((7 * D - H)) 1.0000
$((7 * D + H)) 0.0000
EOF2
check_eq "the report 7 d + 1 h old is outside the window" "no evidence in the window" \
	"$(json_of 199.18.1.9 why_not)"

# ---- trap hits: 5 each below 6 hits, hits squared from 6 ----------------------------------------
for n in 1 2 5 6 7; do
	for _ in $(seq 1 "$n"); do run_ok tl evidence add --ip "199.18.2.$n" --kind trap; done
done
check_eq "1 trap hit scores 5 and does not list (one piece)" "5.0000 false" "$(json_of 199.18.2.1 score listed)"
check_eq "2 trap hits score 10 and list" "10.0000 true traps" "$(json_of 199.18.2.2 score listed reason)"
check_eq "5 trap hits score 25" "25.0000" "$(json_of 199.18.2.5 score)"
check_eq "6 trap hits score 36 (squared)" "36.0000" "$(json_of 199.18.2.6 score)"
check_eq "7 trap hits score 49" "49.0000" "$(json_of 199.18.2.7 score)"

# ---- the threshold is 5: a fresh report and one 48 h old reach it, one 47 h old with 0.9 ---------
run_ok tl evidence add --ip 199.18.3.1 --kind report
run_ok tl evidence add --ip 199.18.3.1 --kind report --at "$(iso $((T0 - 48 * H)))"
check_eq "4 + 1 = 5 reaches the threshold 5" "5.0000 5.0000 true" "$(json_of 199.18.3.1 score threshold listed)"
run_ok tl evidence add --ip 199.18.3.2 --kind report --at "$(iso $((T0 - H)))"
run_ok tl evidence add --ip 199.18.3.2 --kind report --at "$(iso $((T0 - 48 * H)))"
check_eq "3.9375 + 1 misses it (shown 4.937: three decimals, cut)" "4.9370 false" "$(json_of 199.18.3.2 score listed)"

# ---- expiry: 12 h on two reports alone, 24 h after the last evidence otherwise ------------------
run_ok tl evidence add --ip 199.18.4.1 --kind report
run_ok tl evidence add --ip 199.18.4.1 --kind report
run_ok tl evidence add --ip 199.18.4.2 --kind report
run_ok tl evidence add --ip 199.18.4.2 --kind trap
check_eq "two reports: listed until T0 + 12 h" "true $(iso $((T0 + 12 * H)))" "$(json_of 199.18.4.1 listed expires_at)"
check_eq "a report and a trap hit: until T0 + 24 h" "true $(iso $((T0 + 24 * H)))" "$(json_of 199.18.4.2 listed expires_at)"
check_ip_a "two reports are listed" 199.18.4.1 127.0.0.2
echo $((T0 + 12 * H - 1)) >"$CLOCK"
check_ip_a "12 h - 1 s: still listed" 199.18.4.1 127.0.0.2 20
echo $((T0 + 12 * H + 1)) >"$CLOCK"
check_ip_nx "12 h + 1 s: not listed (NXDOMAIN)" 199.18.4.1 20
check_ip_a "12 h + 1 s: the trap and report still listed" 199.18.4.2 127.0.0.2
echo $((T0 + 24 * H - 1)) >"$CLOCK"
check_ip_a "24 h - 1 s: still listed" 199.18.4.2 127.0.0.2 20
echo $((T0 + 24 * H + 1)) >"$CLOCK"
check_ip_nx "24 h + 1 s: not listed (NXDOMAIN)" 199.18.4.2 20
check_eq "check agrees: expired" "false expired" "$(json_of 199.18.4.2 listed why_not)"
tl_stop
unset TRAPLINE_TEST_CLOCK
tl_finish
