#!/usr/bin/env bash
# test_fault.sh - kill -9 in the middle of a stream of evidence: after a restart every event
# that was acknowledged (the command exited 0) is in the store, and DNS agrees with the store.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data
tl_mkdata "$DATA"
tl() { "$TRAPLINE" "$@" --data "$DATA"; }
tl_start --data "$DATA"
victim=$TL_LAST_PID

# Four producers, each its own addresses, two trap hits per address; each records what was
# acknowledged. They stop by themselves after PER events or when told to.
PER=$((40 / TL_SLOW + 10))
stop=$TL_TMP/stop
producer() {
	local p=$1 i ip
	for i in $(seq 1 "$PER"); do
		[ -e "$stop" ] && return 0
		ip="199.18.$p.$(( (i + 1) / 2 ))"
		# Killed mid-stream, a producer may fail: that is the point (it was not
		# acknowledged); a sanitizer's report on its stderr is not.
		if tl evidence add --ip "$ip" --kind trap >/dev/null 2>"$TL_TMP/err.$p.$i"; then
			echo "$ip" >>"$TL_TMP/acked.$p"
		fi
	done
}
ppids=()
for p in 1 2 3 4; do
	producer $p &
	ppids+=($!)
done
# Kill the service once a few events are in: in the middle of the stream.
for _ in $(seq 1 $((100 * TL_SLOW))); do
	n=$(cat "$TL_TMP"/acked.* 2>/dev/null | wc -l)
	[ "$n" -ge 12 ] && break
	sleep 0.05
done
kill -KILL "$victim"
wait "$victim" 2>/dev/null
touch "$stop"
for pid in "${ppids[@]}"; do wait "$pid"; done
acked=$(cat "$TL_TMP"/acked.* 2>/dev/null | wc -l)
check_nomatch "no producer's stderr holds a sanitizer report" 'Sanitizer|runtime error' \
	"$(cat "$TL_TMP"/err.* 2>/dev/null)"
check_match "events were acknowledged before the kill ($acked)" '^[1-9][0-9]*$' "$acked"

tl_start --data "$DATA"
check_ok=1
declare -A want
while read -r ip; do want[$ip]=$(( ${want[$ip]:-0} + 1 )); done < <(cat "$TL_TMP"/acked.*)
missing=()
for ip in "${!want[@]}"; do
	got=$(tl check "$ip" 2>&1 | sed -n "s/^evidence: \([0-9]*\) trap hits\{0,1\},.*/\1/p")
	[ "${got:-0}" -ge "${want[$ip]}" ] || missing+=("$ip: acknowledged ${want[$ip]}, stored ${got:-0}")
done
if [ ${#missing[@]} -eq 0 ]; then
	tl_ok "every acknowledged event is in the store after kill -9 and restart (${#want[@]} addresses)"
else
	tl_fail "every acknowledged event is in the store after kill -9 and restart" "${missing[@]}"
fi

# DNS agrees with the store: what `list` says is listed answers 127.0.0.2, and an address with
# two acknowledged trap hits is listed.
listed=$(tl list 2>&1 | awk '{ print $1 }' | grep '^199\.18\.')
bad=()
for ip in $listed; do
	a=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "$(rev4 "$ip").$TL_ZONE" A | head -n 1)
	[ "$a" = 127.0.0.2 ] || bad+=("$ip listed in the store, DNS says '${a}'")
done
for ip in "${!want[@]}"; do
	[ "${want[$ip]}" -ge 2 ] || continue
	printf '%s\n' "$listed" | grep -qx "$ip" || bad+=("$ip has 2 acknowledged trap hits but is not listed")
done
if [ ${#bad[@]} -eq 0 ]; then
	tl_ok "the zone is consistent with the store after the restart"
else
	tl_fail "the zone is consistent with the store after the restart" "${bad[@]}"
fi
tl_stop

# ---- acknowledgement after commit, not a microsecond before -------------------------------
# A random kill almost never lands between a commit and its acknowledgement, so the service
# is held there (a test hook: TRAPLINE_TEST_HOOKS names a file of hook words).
mkdir -p "$TL_TMP/hooks.d"
chmod 0777 "$TL_TMP/hooks.d" # the service, as nobody, marks where it stopped beside the file
HOOKS=$TL_TMP/hooks.d/hooks
: >"$HOOKS"
export TRAPLINE_TEST_HOOKS=$HOOKS
DATA=$TL_TMP/data-hooks
tl_mkdata "$DATA"
tl_start --data "$DATA"

# A disk that refuses the commit: the producer gets an error, and nothing is stored.
echo fail-commit >"$HOOKS"
err=$(tl evidence add --ip 204.0.113.70 --kind trap 2>&1 >/dev/null)
check_eq "a commit that fails: the producer gets exit status 1" 1 $?
check_match "...and a line that says nothing was stored" '^trapline: .*database error' "$err"
: >"$HOOKS"
check_match "...and nothing was stored" '^evidence: 0 trap hits, 0 reports' "$(tl check 204.0.113.70 2>&1)"
check_cmd "once the disk takes commits again, evidence is stored" tl evidence add --ip 204.0.113.70 --kind trap

# Held after the commit, before the acknowledgement: the producer still waits; kill -9 there,
# and the event is in the store after the restart.
echo hold-after-commit >"$HOOKS"
tl evidence add --ip 204.0.113.71 --kind trap >"$TL_TMP/held.out" 2>&1 &
producer=$!
for _ in $(seq 1 $((100 * TL_SLOW))); do
	[ -e "$HOOKS.hold-after-commit" ] && break
	sleep 0.05
done
check_cmd "the writer reached the point between commit and acknowledgement" test -e "$HOOKS.hold-after-commit"
if kill -0 "$producer" 2>/dev/null; then
	tl_ok "...and the producer is still waiting for its acknowledgement"
else
	tl_fail "...and the producer is still waiting for its acknowledgement" "$(cat "$TL_TMP/held.out")"
fi
kill -KILL "$TL_LAST_PID"
wait "$TL_LAST_PID" 2>/dev/null
wait "$producer"
check_eq "the producer was never told 'stored' (it exits 1)" 1 $?
: >"$HOOKS"
rm -f "$HOOKS.hold-after-commit"
tl_start --data "$DATA"
check_match "after kill -9 and a restart the committed event is there" '^evidence: 1 trap hit, 0 reports' \
	"$(tl check 204.0.113.71 2>&1)"
tl_stop
unset TRAPLINE_TEST_HOOKS
tl_finish
