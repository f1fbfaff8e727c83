#!/usr/bin/env bash
# test_ctl_access.sh - who may use the control socket: root, the service's own user, and the
# members of ctl_group (by their primary or a supplementary group); nobody else, even when the
# socket file's mode is widened by hand. Needs root (to be other users with setpriv).
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! getent passwd "$TL_USER" >/dev/null ||
	! getent passwd daemon >/dev/null || ! getent passwd bin >/dev/null; then
	tl_skip "the control socket's peers" "needs root, setpriv, the users $TL_USER, daemon and bin"
	tl_finish
fi
# daemon's primary group is daemon; bin's is bin, and bin is no member of daemon.
as() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" "$@"; }

DATA=$TL_TMP/data
printf 'ctl_group = daemon\n' >"$TL_TMP/group.conf"
tl_start --data "$DATA" --config "$TL_TMP/group.conf"
SOCK=$DATA/trapline.sock
check_eq "ctl_group: the socket is the group's, mode 0660" "660 $TL_USER daemon" "$(stat -c '%a %U %G' "$SOCK")"
check_eq "ctl_group: the data directory it made is the group's, 0750, so members reach the socket" \
	"750 $TL_USER daemon" "$(stat -c '%a %U %G' "$DATA")"
run_ok "$TRAPLINE" evidence add --ip 193.0.2.10 --kind trap --data "$DATA"

out=$(as daemon --clear-groups "$TRAPLINE" check 193.0.2.10 --data "$DATA" 2>&1)
check_eq "a member by primary group is answered" 0 $?
check_match "...with the answer" '^evidence: 1 trap hit,' "$out"
out=$(as bin --groups="$(getent group daemon | cut -d: -f3)" "$TRAPLINE" check 193.0.2.10 --data "$DATA" 2>&1)
check_eq "a member by a supplementary group is answered" 0 $?
out=$(as "$TL_USER" --clear-groups "$TRAPLINE" check 193.0.2.10 --data "$DATA" 2>&1)
check_eq "the service's own user is answered" 0 $?
err=$(as bin --clear-groups "$TRAPLINE" check 193.0.2.10 --data "$DATA" --config "$TL_TMP/group.conf" 2>&1 >/dev/null)
check_eq "a user in neither is kept out by the file's mode: exit 1" 1 $?
check_match "...and told who may" \
	"permission denied: the service's control socket is for its user \\($TL_USER\\), root and the group daemon" "$err"

# The modes widened by hand: the service still answers only root, its user and the group.
chmod 0666 "$SOCK"
chmod o+x "$DATA"
err=$(as bin --clear-groups "$TRAPLINE" evidence add --ip 193.0.2.10 --kind trap --data "$DATA" 2>&1 >/dev/null)
check_eq "a socket widened to 0666: another user is refused by the service: exit 1" 1 $?
check_match "...with the reason" "^trapline: the control socket is for root, the service's user and the members of ctl_group only$" "$err"
check_match "...logged with who it was" "module=ctl refused peer uid=$(id -u bin) gid=$(id -g bin)" "$(cat "$TL_LAST_LOG")"
check_match "...and the request did nothing" '^evidence: 1 trap hit,' "$("$TRAPLINE" check 193.0.2.10 --data "$DATA" 2>&1)"
tl_stop

# Without ctl_group: the service's user and root only, and a group that was one no longer counts.
tl_start --data "$DATA"
check_eq "no ctl_group: the socket is 0600" "600" "$(stat -c %a "$SOCK")"
chmod 0666 "$SOCK"
chmod o+x "$DATA"
err=$(as daemon --clear-groups "$TRAPLINE" evidence add --ip 193.0.2.10 --kind trap --data "$DATA" 2>&1 >/dev/null)
check_eq "no ctl_group: daemon is refused even through a 0666 socket" 1 $?
check_match "...with the reason" "^trapline: the control socket is for root" "$err"
run_ok "$TRAPLINE" evidence add --ip 193.0.2.10 --kind trap --data "$DATA"
check_match "root is answered" '^evidence: 2 trap hits,' "$("$TRAPLINE" check 193.0.2.10 --data "$DATA" 2>&1)"
tl_stop

tl_finish
