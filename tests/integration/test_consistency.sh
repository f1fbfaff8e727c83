#!/usr/bin/env bash
# test_consistency.sh - the running service's DNS answers, `check --json` and `explain --json`
# agree for every one of a few hundred random addresses, as listings begin and as they expire
# on the test clock (the in-process test in test_ctl.c does the same for thousands).
source "$(dirname "$0")/lib.sh"

PY=$TL_DIR/consistency.py
DATA=$TL_TMP/data
CLOCK=$TL_TMP/clock
tl_mkdata "$DATA"
T0=$(date +%s)
echo "$T0" >"$CLOCK"
export TRAPLINE_TEST_CLOCK=$CLOCK
N=$((240 / TL_SLOW + 40))

tl_start --data "$DATA"
if ! python3 "$PY" fill "$PORT" "$DATA" "$CLOCK" 42 "$N" >"$TL_TMP/ips" 2>"$TL_TMP/fill.err"; then
	tl_die "random evidence through the CLI" "$(cat "$TL_TMP/fill.err")"
fi
check_eq "$N random addresses got evidence" "$N" "$(grep -c . "$TL_TMP/ips")"

# Listings begin, then reports age and listings end at 12 h and 24 h, an exclusion holds.
for at in 0 $((13 * 3600)) $((25 * 3600)) $((5 * 86400)); do
	echo $((T0 + at)) >"$CLOCK"
	out=$(python3 "$PY" compare "$PORT" "$DATA" "$TL_TMP/ips" 2>&1)
	summary=$(printf '%s\n' "$out" | tail -n 1)
	check_match "+${at}s: DNS, check --json and explain --json agree on every address" \
		"^compared $N listed [0-9]+ disagree 0$" "$out"
	listed=$(printf '%s\n' "$summary" | awk '{print $4}')
	echo "# +${at}s: ${listed:-?} of $N listed"
	eval "listed_$at=${listed:-0}"
done
if [ "$listed_0" -gt 10 ] && [ "$listed_0" -gt "${listed_46800}" ] && [ "${listed_432000}" -eq 0 ]; then
	tl_ok "the run covers listings and their expiry (${listed_0} listed, then fewer, then none)"
else
	tl_fail "the run covers listings and their expiry" "listed: $listed_0, ${listed_46800}, ${listed_90000}, ${listed_432000}"
fi
tl_stop
unset TRAPLINE_TEST_CLOCK
tl_finish
