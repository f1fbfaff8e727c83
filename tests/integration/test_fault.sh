#!/usr/bin/env bash
# test_fault.sh - kill -9 in the middle of a stream of evidence: after a restart every event
# that was acknowledged (the command exited 0) is in the store, and DNS agrees with the store.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data
mkdir -p "$DATA"
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
		ip="198.18.$p.$(( (i + 1) / 2 ))"
		if tl evidence add --ip "$ip" --kind trap >/dev/null 2>&1; then
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
listed=$(tl list 2>&1 | awk '{ print $1 }' | grep '^198\.18\.')
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
tl_finish
