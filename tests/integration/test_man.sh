#!/usr/bin/env bash
# test_man.sh - the manual pages the build generates (build/man, `trapline man 8|5`): groff and
# man render both without a warning, every command of `trapline help` (with its usage) is in
# trapline(8), and every key of `trapline config-template` is in trapline.conf(5).
source "$(dirname "$0")/lib.sh"

MAN=$(dirname "$TRAPLINE")/man
for page in trapline.8 trapline.conf.5; do
	[ -s "$MAN/$page" ] || tl_die "the build generates $MAN/$page"
done
if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
	tl_skip "the manual pages render" "groff or man is not installed (apt-get install man-db groff)"
	tl_finish
fi

for page in trapline.8 trapline.conf.5; do
	err=$(groff -man -Tutf8 -ww -z "$MAN/$page" 2>&1)
	check_eq "groff -man -ww renders $page without a warning" "" "$err"
	err=$(MANWIDTH=80 man --warnings -l "$MAN/$page" 2>&1 >/dev/null)
	check_eq "man -l renders $page without a warning" "" "$err"
done

# Rendered wide enough that no line breaks, blanks squeezed (justification adds some).
render() { MANWIDTH=1000 man -l "$1" 2>/dev/null | col -bx | tr -s ' ' | sed 's/^ //'; }
page8=$(render "$MAN/trapline.8")
page5=$(render "$MAN/trapline.conf.5")

missing=""
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s\n' "$page8" | grep -qxF -- "$line" || missing+="$line"$'\n'
done < <("$TRAPLINE" help | grep -E '^  trapline ' | tr -s ' ' | sed 's/^ //; s/ $//')
[ "$n" -gt 20 ] || tl_fail "trapline help lists the commands" "only $n lines"
check_eq "each of the $n commands of trapline help is in trapline.8 with its usage" "" "$missing"

missing=""
n=0
for key in $("$TRAPLINE" config-template | sed -nE 's/^#([a-z0-9_]+) =.*/\1/p'); do
	n=$((n + 1))
	printf '%s\n' "$page5" | grep -qE "^$key( |\$)" || missing+="$key "
done
[ "$n" -gt 50 ] || tl_fail "config-template lists the keys" "only $n keys"
check_eq "each of the $n keys of config-template is in trapline.conf.5" "" "$missing"
# And nothing more: a key the schema dropped would linger in a page written by hand.
keys5=$(printf '%s\n' "$page5" | grep -cE '^[a-z0-9_]+( \(|$)')
check_eq "trapline.conf.5 has as many keys as the schema" "$n" "$keys5"

# Every serve option is in trapline.8 too.
missing=""
for opt in $("$TRAPLINE" help | sed -n '/^serve options:/,$p' | grep -oE '^  --[a-z-]+'); do
	printf '%s\n' "$page8" | grep -qE "^$opt( |\$)" || missing+="$opt "
done
check_eq "each serve option is in trapline.8" "" "$missing"
tl_finish
