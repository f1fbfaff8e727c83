#!/usr/bin/env bash
# test_reload.sh - the static data file: loaded at start, reloaded when it changes and on
# SIGHUP, and a reload that fails keeps serving the previous zone.
source "$(dirname "$0")/lib.sh"

f=$TL_TMP/zone.rbldnsd
write_zone() { # atomically, as an operator's script would (write, then rename)
	printf '%s\n' "$@" >"$f.tmp" && mv "$f.tmp" "$f"
}
a_of() { dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "$1" A 2>/dev/null | head -n 1; }
# wait_a NAME WANT: until NAME answers WANT ("" = no address), bounded.
wait_a() { tl_poll 60 "$2" a_of "$1"; }

write_zone ':127.0.0.2:Listed $' '10.0.0.1' '192.0.2.0/24'
tl_start --static "$f"
check_eq "listed at start" 127.0.0.2 "$(a_of 1.0.0.10.bl.example.org)"
check_match "load is logged with the entry count" 'module=zone .*published reason=start entries=2 ' "$(cat "$TL_LAST_LOG")"

# A changed file is picked up by itself.
write_zone ':127.0.0.2:Listed $' '10.0.0.1' '10.0.0.2' ':127.0.0.3:Other' '198.51.100.7'
if wait_a 2.0.0.10.bl.example.org 127.0.0.2 && wait_a 7.100.51.198.bl.example.org 127.0.0.3; then
	tl_ok "a changed file is reloaded without a signal"
else
	tl_fail "a changed file is reloaded without a signal" "$(tail -n 5 "$TL_LAST_LOG")"
fi
check_eq "an entry removed from the file is no longer listed" "" "$(a_of 1.2.0.192.bl.example.org)"

# SIGHUP reloads at once (same mtime second and size would hide the change from polling).
printf '%s\n' '10.0.0.9' >"$f"
kill -HUP "$TL_LAST_PID"
if wait_a 9.0.0.10.bl.example.org 127.0.0.2; then tl_ok "SIGHUP reloads"; else tl_fail "SIGHUP reloads"; fi
check_match "the SIGHUP reload is logged" 'published reason=sighup' "$(cat "$TL_LAST_LOG")"

# n_failed: how many failed loads that kept the previous zone the log has shown so far.
n_failed() { grep -c 'load failed .*keeping=previous' "$TL_LAST_LOG"; }
# failed_since N: "yes" once the log shows a failed load beyond the first N.
failed_since() { [ "$(n_failed)" -gt "$1" ] && echo yes; }

# Garbage only: the reload fails, the previous zone keeps being served, the log says why.
n0=$(n_failed)
write_zone 'this is not a zone' '999.1.2.3' '1.2.3.4/77'
kill -HUP "$TL_LAST_PID"
tl_poll 50 yes failed_since "$n0" || tl_fail "the failed reload is logged within $((5 * TL_SLOW)) s"
check_eq "a file with no valid entry keeps the previous zone" 127.0.0.2 "$(a_of 9.0.0.10.bl.example.org)"
check_match "bad lines are logged with file and line" "zone.rbldnsd:2: " "$(cat "$TL_LAST_LOG")"
check_match "the failed reload is logged" 'load failed .*keeping=previous' "$(cat "$TL_LAST_LOG")"

# The file disappears: keep serving.
n0=$(n_failed)
rm -f "$f"
kill -HUP "$TL_LAST_PID"
if tl_poll 50 yes failed_since "$n0"; then tl_ok "the missing file's reload fails, keeping the previous zone"; else
	tl_fail "the missing file's reload fails, keeping the previous zone" "$(tail -n 5 "$TL_LAST_LOG")"
fi
check_eq "a missing file keeps the previous zone" 127.0.0.2 "$(a_of 9.0.0.10.bl.example.org)"
check_eq "the test point stays listed throughout" 127.0.0.2 "$(a_of 2.0.0.127.bl.example.org)"
tl_stop

# A file that cannot be read at start is fatal: serving only the test points would look healthy.
out=$("$TRAPLINE" serve --data "$TL_TMP/d2" --dns "127.0.0.1:$(tl_free_port)" --static "$TL_TMP/missing.zone" 2>&1)
rc=$?
check_eq "a missing data file at start exits 1" 1 "$rc"
check_match "and says which file" "missing.zone" "$out"

tl_finish
