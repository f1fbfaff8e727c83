#!/usr/bin/env bash
# test_operator.sh - what a new operator tripped over: input that must be refused with a clear
# line, free text that must not forge output, and the messages that must say the right thing.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data
mkdir -p "$DATA"
tl() { "$TRAPLINE" "$@" --data "$DATA"; }
# expect NAME STATUS ERE CMD...: the command exits STATUS and its stderr matches ERE.
expect() {
	local name=$1 want=$2 pattern=$3 err rc
	shift 3
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	check_eq "$name: exit status $want" "$want" "$rc"
	check_match "$name: says why" "$pattern" "$err"
}

# ---- addresses ------------------------------------------------------------------------------
expect "010.0.0.1 is not read as 10.0.0.1 (nor as 8.0.0.1)" 2 "'010\.0\.0\.1' is not an IP address \(four numbers from 0 to 255, without leading zeros\)" \
	tl evidence add --ip 010.0.0.1 --kind trap
for ip in 0.0.0.0 255.255.255.255 :: 224.0.0.1 ff02::1 240.0.0.1; do
	expect "evidence against $ip is refused" 2 "^trapline: $ip .*: it cannot be the source of mail$" \
		tl evidence add --ip "$ip" --kind trap
done
check_match "...and nothing was stored" '^evidence: 0 trap hits, 0 reports' "$(tl check 192.0.2.1 2>&1)"

# ---- a key given twice ---------------------------------------------------------------------
expect "--ip twice" 2 '^trapline: --ip given twice$' tl evidence add --ip 192.0.2.1 --ip 192.0.2.2 --kind trap
expect "--why twice" 2 '^trapline: --why given twice$' tl delist 192.0.2.1 --why a --why b
expect "--data twice" 2 '^trapline: --data given twice$' tl list --data "$DATA"
expect "serve --dns twice" 2 '^trapline: --dns given twice$' "$TRAPLINE" serve --dns 127.0.0.1:1 --dns 127.0.0.1:2
printf 'zone = a.example\n# comment\nzone = b.example\n' >"$TL_TMP/twice.conf"
expect "a key twice in the config file" 2 "twice.conf:3: zone: set twice \(first on line 1\)" \
	"$TRAPLINE" check-config "$TL_TMP/twice.conf"
line=$(python3 - "$DATA" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5)
try:
    s.connect(sys.argv[1] + "/trapline.sock")
except OSError:
    print("no service"); sys.exit(0)
PY
)
check_eq "(no service runs yet)" "no service" "$line"

# ---- files that are not what they should be ---------------------------------------------------
expect "check-config DIR" 2 "not a file \(a directory\)" "$TRAPLINE" check-config "$TL_TMP"
expect "serve --config DIR" 2 "not a file \(a directory\)" "$TRAPLINE" serve --config "$TL_TMP" --data "$TL_TMP/never"
check_eq "...and serve created nothing" "no" "$([ -e "$TL_TMP/never" ] && echo yes || echo no)"
printf 'zone = a.ex\0ample\n' >"$TL_TMP/nul.conf"
expect "a NUL byte in a config line" 2 "nul.conf:1: a NUL byte" "$TRAPLINE" check-config "$TL_TMP/nul.conf"
printf 'user = nosuchuser\n' >"$TL_TMP/user.conf"
expect "check-config: a user that does not exist" 2 "user: no such user 'nosuchuser'" \
	"$TRAPLINE" check-config "$TL_TMP/user.conf"
expect "--at 1970: too long ago, not 'not ISO 8601'" 2 "1970-01-01T00:00:00Z is too long ago" \
	tl evidence add --ip 192.0.2.1 --kind trap --at 1970-01-01T00:00:00Z
expect "list --bogus: an unknown option, not 'needs a value'" 2 "unknown option '--bogus'" tl list --bogus

# ---- ownership: whichever starts first, the files are the service's user's --------------------
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	# The commands above ran as root on a new data directory, before any service.
	check_eq "a command as root made the data directory for the service's user" "nobody" \
		"$(stat -c %U "$DATA")"
	check_eq "...and the database too" "nobody" "$(stat -c %U "$DATA/trapline.db")"
	OWN=$TL_TMP/owned-by-root
	mkdir -p "$OWN"
	touch "$OWN/trapline.db"
	expect "a database that belongs to root: the command refuses" 1 \
		"trapline: $OWN/trapline.db belongs to uid 0, but the service runs as nobody: chown -R nobody $OWN" \
		"$TRAPLINE" list --data "$OWN"
	expect "...and so does serve" 1 "trapline: data_dir $OWN/trapline.db: user nobody cannot write it" \
		"$TRAPLINE" serve --data "$OWN" --dns 127.0.0.1:1
fi

# ---- free text cannot forge a line ------------------------------------------------------------
tl_start --data "$DATA"
why=$'big provider\n198.51.100.0/24 points=1000 set_at=2026-01-01T00:00:00Z who=root why=forged'
out=$(tl reputation 198.51.100.0/24 --points 10 --why "$why" 2>&1)
check_eq "reputation with a newline in --why is taken" 0 $?
out=$(tl reputation list 2>&1)
check_eq "reputation list: one line for one prefix, whatever --why holds" 1 "$(printf '%s\n' "$out" | grep -c .)"
check_match "...the newline is shown as \\n" 'why="big provider\\n198\.51\.100\.0/24 points=1000' "$out"
tl exclude 203.0.113.0/24 --why $'a\tb\x01c"d' >/dev/null 2>&1
tl evidence add --ip 203.0.113.5 --kind trap >/dev/null 2>&1
check_match "check shows control characters escaped" '^excluded: a\\tb\\x01c\\"d$' "$(tl check 203.0.113.5 2>&1)"
check_nomatch "no log line holds a raw control character" $'[\x01\t]' "$(cat "$TL_LAST_LOG")"

# ---- the control socket is for the service's user and root -----------------------------------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && getent passwd daemon >/dev/null; then
	err=$(setpriv --reuid=daemon --regid=daemon --clear-groups "$TRAPLINE" list --data "$DATA" 2>&1 >/dev/null)
	check_eq "another user's command: exit status 1" 1 $?
	check_match "...says which file and who may use it" \
		"^trapline: $DATA/trapline.sock: permission denied: the service's control socket is for its user \(nobody\) and root" "$err"
else
	tl_skip "the control socket's permission message" "needs root, setpriv and the daemon user"
fi
tl_stop
tl_finish
