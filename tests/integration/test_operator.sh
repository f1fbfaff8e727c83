#!/usr/bin/env bash
# test_operator.sh - what a new operator tripped over: input that must be refused with a clear
# line, free text that must not forge output, and the messages that must say the right thing.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data # made by the first command below
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
check_match "...and nothing was stored" '^evidence: 0 trap hits, 0 reports' "$(tl check 193.0.2.1 2>&1)"

# ---- a key given twice ---------------------------------------------------------------------
expect "--ip twice" 2 '^trapline: --ip given twice$' tl evidence add --ip 193.0.2.1 --ip 193.0.2.2 --kind trap
expect "--why twice" 2 '^trapline: --why given twice$' tl delist 193.0.2.1 --why a --why b
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
# nobody is shared by other daemons, and every process of the service's user may use the
# control socket: refused unless the operator says so.
printf 'user = nobody\n' >"$TL_TMP/nobody.conf"
expect "check-config: user = nobody is refused" 2 \
	"^trapline: user: nobody is shared with other daemons, and any process of the service's user may use its control socket: give Trapline a user of its own \(trapline\), or accept this with --allow-nobody$" \
	"$TRAPLINE" check-config "$TL_TMP/nobody.conf"
if [ "$(id -u)" -eq 0 ]; then # the user matters only to a service started as root
	expect "serve --user nobody is refused the same way, before anything starts" 2 "^trapline: user: nobody is shared" \
		"$TRAPLINE" serve --user nobody --data "$TL_TMP/never" --dns 127.0.0.1:1
	check_eq "...and serve created nothing" "no" "$([ -e "$TL_TMP/never" ] && echo yes || echo no)"
fi
printf 'user = nobody\nallow_nobody = 1\n' >"$TL_TMP/nobody-ok.conf"
check_cmd "check-config: user = nobody with allow_nobody = 1 passes" "$TRAPLINE" check-config "$TL_TMP/nobody-ok.conf"
printf 'ctl_group = no-such-group-here\n' >"$TL_TMP/group.conf"
expect "check-config: a ctl_group that does not exist" 2 "^trapline: ctl_group: no such group 'no-such-group-here'$" \
	"$TRAPLINE" check-config "$TL_TMP/group.conf"
expect "--at 1970: too long ago, not 'not ISO 8601'" 2 "1970-01-01T00:00:00Z is too long ago" \
	tl evidence add --ip 193.0.2.1 --kind trap --at 1970-01-01T00:00:00Z
expect "list --bogus: an unknown option, not 'needs a value'" 2 "unknown option '--bogus'" tl list --bogus

# ---- ownership: whichever starts first, the files are the service's user's --------------------
if [ "$(id -u)" -eq 0 ] && getent passwd "$TL_USER" >/dev/null; then
	# The commands above ran as root on a new data directory, before any service.
	check_eq "a command as root made the data directory for the service's user" "$TL_USER" \
		"$(stat -c %U "$DATA")"
	check_eq "...and the database too" "$TL_USER" "$(stat -c %U "$DATA/trapline.db")"
	OWN=$TL_TMP/owned-by-service
	tl_mkdata "$OWN"
	touch "$OWN/trapline.db"
	expect "a database that belongs to root: the command refuses" 1 \
		"trapline: $OWN/trapline.db belongs to root, but the service runs as $TL_USER: chown -R $TL_USER $OWN" \
		"$TRAPLINE" list --data "$OWN"
	expect "...and so does serve" 1 "trapline: $OWN/trapline.db belongs to root, but the service runs as $TL_USER" \
		"$TRAPLINE" serve --data "$OWN" --dns 127.0.0.1:1

	# The default data_dir is ./var: run from / it would be /var. A directory Trapline did not
	# create is never handed over, empty or not; the command and serve say why and change
	# nothing. (A stand-in for /: a root-owned folder with a var of root's in it.)
	ROOTFS=$TL_TMP/rootfs
	mkdir -p "$ROOTFS/var/lib" "$ROOTFS/empty"
	touch "$ROOTFS/var/lib/dpkg-status"
	before=$(stat -c '%U %G %a' "$ROOTFS/var" "$ROOTFS/empty")
	files=$(cd "$ROOTFS" && find . | sort)
	err=$(cd "$ROOTFS" && "$TRAPLINE" list 2>&1 >/dev/null)
	check_eq "run from a root whose var is root's: list exits 1" 1 $?
	check_match "...and says whose it is and what Trapline takes" \
		"^trapline: data_dir \./var belongs to root, not to the service's user $TL_USER, and Trapline takes over only a directory it creates" "$err"
	check_eq "...in one line" 1 "$(printf '%s\n' "$err" | grep -c .)"
	err=$(cd "$ROOTFS" && timeout 60 "$TRAPLINE" serve --dns 127.0.0.1:1 --smtp off --http off 2>&1)
	check_eq "serve from there exits 1 before serving" 1 $?
	check_match "...with the same line" "^trapline: data_dir \./var belongs to root" "$err"
	expect "an empty directory of root's is not taken either" 1 \
		"data_dir $ROOTFS/empty belongs to root, not to the service's user" \
		"$TRAPLINE" evidence add --ip 193.0.2.1 --kind trap --data "$ROOTFS/empty"
	check_eq "...and nothing changed hands" "$before" "$(stat -c '%U %G %a' "$ROOTFS/var" "$ROOTFS/empty")"
	check_eq "...nor was anything written there" "$files" "$(cd "$ROOTFS" && find . | sort)"
	NEW=$TL_TMP/made-here
	run_ok "$TRAPLINE" list --data "$NEW"
	check_eq "a directory the command makes is the service user's, 0750" "$TL_USER 750" "$(stat -c '%U %a' "$NEW")"
else
	tl_skip "ownership as root" "needs root and the user $TL_USER (scripts/user.sh)"
fi

# ---- free text cannot forge a line ------------------------------------------------------------
tl_start --data "$DATA"
why=$'big provider\n199.51.100.0/24 points=1000 set_at=2026-01-01T00:00:00Z who=root why=forged'
out=$(tl reputation 199.51.100.0/24 --points 10 --why "$why" 2>&1)
check_eq "reputation with a newline in --why is taken" 0 $?
out=$(tl reputation list 2>&1)
check_eq "reputation list: one line for one prefix, whatever --why holds" 1 "$(printf '%s\n' "$out" | grep -c .)"
check_match "...the newline is shown as \\n" 'why="big provider\\n199\.51\.100\.0/24 points=1000' "$out"
run_ok tl exclude 204.0.113.0/24 --why $'a\tb\x01c"d'
run_ok tl evidence add --ip 204.0.113.5 --kind trap
check_match "check shows control characters escaped" '^excluded: a\\tb\\x01c\\"d$' "$(tl check 204.0.113.5 2>&1)"
check_nomatch "no log line holds a raw control character" $'[\x01\t]' "$(cat "$TL_LAST_LOG")"

# ---- exclusions can be listed, replaced, removed; a wide one needs --force ---------------------
expect "a /7 without --force" 2 "0\.0\.0\.0/7 would exclude more than a /8.*add --force" \
	tl exclude 0.0.0.0/7 --why oops
expect "0.0.0.0/0 without --force" 2 "would exclude more than a /8" tl exclude 0.0.0.0/0 --why x
expect "2001::/16 without --force" 2 "would exclude more than a /32" tl exclude 2001::/16 --why x
check_nomatch "...nothing was excluded" '^(0\.0\.0\.0/[0-7] |2001::/16 )' "$(tl exclude list 2>&1)"
out=$(tl exclude 10.0.0.0/7 --force --why "a deliberate test" 2>&1)
check_eq "a wide exclusion with --force is taken" 0 $?
run_ok tl exclude 10.0.0.0/7 --remove --why "test done"
run_ok tl evidence add --ip 193.0.2.77 --kind trap
run_ok tl evidence add --ip 193.0.2.77 --kind trap
check_ip_a "an address with two trap hits is listed" 193.0.2.77 127.0.0.2
until1=$(date -u -d @$(( $(date +%s) + 86400 )) +%Y-%m-%dT%H:%M:%SZ)
until2=$(date -u -d @$(( $(date +%s) + 7200 )) +%Y-%m-%dT%H:%M:%SZ)
run_ok tl exclude 193.0.2.0/24 --until "$until1" --why "first"
check_ip_a "...an exclusion takes it off" 193.0.2.77 ""
run_ok tl exclude 193.0.2.0/24 --until "$until2" --why "second, shorter"
out=$(tl exclude list 2>&1)
check_eq "exclude list: a second exclusion of the same prefix replaced the first" 1 \
	"$(printf '%s\n' "$out" | grep -c '^193\.0\.2\.0/24 ')"
check_match "...with its own --until and reason" "^193\.0\.2\.0/24 until=$until2 .*why=\"second, shorter\"$" "$out"
check_match "exclude list shows the configuration's defaults too" '^10\.0\.0\.0/8 until=never set_at=- who="config" why="exclude_default: special-purpose, Private-Use \(RFC 1918\)"$' "$out"
check_match "...every special-purpose range, with its name and RFC" '^3fff::/20 until=never set_at=- who="config" why="exclude_default: special-purpose, Documentation \(RFC 9637\)"$' "$out"
check_match "...the 6to4 range only where it embeds special-purpose IPv4" '^2002::/16 .*why="exclude_default: special-purpose, 6to4 \(RFC 3056\), where it embeds a special-purpose IPv4 address"$' "$out"
json=$(tl exclude list --json 2>&1)
check_eq "exclude list --json" "193.0.2.0/24 $until2 second, shorter False" "$(printf '%s' "$json" | python3 -c '
import json, sys
for x in json.load(sys.stdin):
    if x["prefix"] == "193.0.2.0/24": print(x["prefix"], x["until"], x["why"], x["default"])')"
out=$(tl exclude 193.0.2.0/24 --remove --why "customer fixed it" 2>&1)
check_eq "exclude --remove exits 0" 0 $?
check_match "...and says so" '^removed: the exclusion of 193\.0\.2\.0/24' "$out"
check_ip_a "...and the address is listed again by its evidence" 193.0.2.77 127.0.0.2
expect "removing it again: nothing to remove" 2 "193\.0\.2\.0/24 has no exclusion: nothing to remove" \
	tl exclude 193.0.2.0/24 --remove --why again
expect "--remove with --until" 2 "--remove ends the exclusion: it takes no --until" \
	tl exclude 193.0.2.0/24 --remove --until "$until1" --why x

# ---- delistings can be listed and undone; evidence in the same second as one counts ----------
run_ok tl delist 193.0.2.77 --why "ticket 9"
check_ip_a "delisted" 193.0.2.77 ""
check_match "delist list shows it" '^193\.0\.2\.77 delisted_at=[0-9T:-]+Z who="[^"]+" why="ticket 9"$' "$(tl delist list 2>&1)"
out=$(tl delist 193.0.2.77 --undo --why "wrong address" 2>&1)
check_eq "delist --undo exits 0" 0 $?
check_ip_a "...the evidence counts again: listed" 193.0.2.77 127.0.0.2
check_eq "...and the delisting is no longer in force" "no delisting in force" "$(tl delist list 2>&1)"
expect "undoing again: nothing to undo" 2 "193\.0\.2\.77 has no delisting in force: nothing to undo" \
	tl delist 193.0.2.77 --undo --why again
# Delist, then at once two new trap hits: the same second, received after the delisting.
run_ok tl evidence add --ip 193.0.2.88 --kind trap
run_ok tl evidence add --ip 193.0.2.88 --kind trap
check_ip_a "listed" 193.0.2.88 127.0.0.2
run_ok tl delist 193.0.2.88 --why "cleaned" && run_ok tl evidence add --ip 193.0.2.88 --kind trap && \
	run_ok tl evidence add --ip 193.0.2.88 --kind trap
check_ip_a "evidence received right after a delisting (same second) lists again" 193.0.2.88 127.0.0.2
check_nomatch "...explain counts it" 'not counted: before the delisting.*\n.*not counted: before the delisting.*\n.*not counted: before the delisting.*\n.*not counted: before the delisting' "$(tl explain 193.0.2.88 2>&1)"

# ---- the audit log ----------------------------------------------------------------------------
out=$(tl audit 2>&1)
check_match "audit shows the delisting" ' delist 193\.0\.2\.77 who="[^"]+" why="ticket 9"$' "$out"
check_match "...its undoing" ' undelist 193\.0\.2\.77 who="[^"]+" why="wrong address"$' "$out"
check_match "...the replaced exclusion" ' exclude-replace 193\.0\.2\.0/24 ' "$out"
check_match "...the removed one" ' unexclude 193\.0\.2\.0/24 who="[^"]+" why="customer fixed it"$' "$out"
later=$(date -u -d @$(( $(date +%s) + 3600 )) +%Y-%m-%dT%H:%M:%SZ)
check_eq "audit --since the future: nothing" "the audit log is empty" "$(tl audit --since "$later" 2>&1)"
check_match "audit --json" '"what": "undelist"' "$(tl audit --json 2>&1)"

# ---- the log says what changed -----------------------------------------------------------------
log=$(cat "$TL_LAST_LOG")
check_match "the log: a listing with its address, reason and meaning" \
	'module=writer listed ip=193\.0\.2\.77 reason=traps score=10\.000 traps=2 reports=0 expires=[0-9T:-]+Z meaning="spamtrap hits: mail to addresses no person uses"' "$log"
check_match "the log: an end of listing with its address and why" \
	'module=writer unlisted ip=193\.0\.2\.77 why="excluded"' "$log"
check_match "the log: an operator's action with its target and reason" \
	'module=writer delist target=193\.0\.2\.77 who="[^"]+" why="ticket 9"' "$log"

# ---- what a listing means: check, explain, TXT ---------------------------------------------------
for c in bounce bounce autoreply; do run_ok tl evidence add --ip 199.18.0.40 --kind trap --class "$c"; done
out=$(tl check 199.18.0.40 2>&1)
check_match "check: the meaning of trap hits that are mostly bounces" \
	'^meaning: spamtrap hits only, mostly bounces: usually backscatter' "$out"
check_match "check: the counted hits by class, singular and plural" \
	'^counted: 3 trap hits \(2 bounces, 1 auto-reply\) and 0 user reports$' "$out"
check_match "explain: the same meaning" '^What it means: usually backscatter' "$(tl explain 199.18.0.40 2>&1)"
check_match "check --json: the meaning" '"what": "spamtrap hits only, mostly bounces"' "$(tl check 199.18.0.40 --json 2>&1)"
txt=$(dig @127.0.0.1 -p "$PORT" +short "$(rev4 199.18.0.40).$TL_ZONE" TXT)
check_match "the TXT record says it too" '\(spamtrap hits, mostly bounces: probably backscatter\) - see' "$txt"
run_ok tl evidence add --ip 199.18.0.41 --kind report
run_ok tl evidence add --ip 199.18.0.41 --kind trap
check_match "both: usually a compromised machine" '^meaning: spamtrap hits and user reports: usually a compromised machine' \
	"$(tl check 199.18.0.41 2>&1)"
old=$(date -u -d @$(( $(date +%s) - 50 * 3600 )) +%Y-%m-%dT%H:%M:%SZ)
run_ok tl evidence add --ip 199.18.0.42 --kind report --at "$old"
run_ok tl evidence add --ip 199.18.0.42 --kind report --at "$old"
out=$(tl check 199.18.0.42 2>&1)
check_match "old evidence that never reached the threshold: below it, by how much (not 'expired')" \
	'^why: score below the threshold \(2\.000 of 5\.000, 3\.000 short\)$' "$out"
check_match "singular: 1 report" '^counted: 0 trap hits and 2 user reports$' "$out"
check_match "explain says the same" '^Decision: NOT LISTED: score below the threshold \(2\.000 < 5\.000' "$(tl explain 199.18.0.42 2>&1)"

# ---- the control socket is for the service's user and root -----------------------------------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && getent passwd daemon >/dev/null; then
	err=$(setpriv --reuid=daemon --regid=daemon --clear-groups "$TRAPLINE" list --data "$DATA" 2>&1 >/dev/null)
	check_eq "another user's command: exit status 1" 1 $?
	check_match "...says which file and who may use it" \
		"^trapline: $DATA/trapline.sock: permission denied: the service's control socket is for its user \($TL_USER\), root; " "$err"
else
	tl_skip "the control socket's permission message" "needs root, setpriv and the daemon user"
fi
tl_stop

# ---- an A record per reason --------------------------------------------------------------------
DATA2=$TL_TMP/data2
tl_mkdata "$DATA2"
printf 'answer_a_traps = 127.0.0.2\nanswer_a_reports = 127.0.0.3\nanswer_a_both = 127.0.0.4\n' >"$TL_TMP/a.conf"
tl_start --data "$DATA2" --config "$TL_TMP/a.conf"
t2() { "$TRAPLINE" "$@" --data "$DATA2" --config "$TL_TMP/a.conf"; }
run_ok t2 evidence add --ip 193.0.2.31 --kind trap; run_ok t2 evidence add --ip 193.0.2.31 --kind trap
run_ok t2 evidence add --ip 193.0.2.32 --kind report; run_ok t2 evidence add --ip 193.0.2.32 --kind report
run_ok t2 evidence add --ip 193.0.2.33 --kind report; run_ok t2 evidence add --ip 193.0.2.33 --kind trap
check_ip_a "answer_a_traps for trap hits only" 193.0.2.31 127.0.0.2
check_ip_a "answer_a_reports for reports only" 193.0.2.32 127.0.0.3
check_ip_a "answer_a_both for both" 193.0.2.33 127.0.0.4
run_ok t2 evidence add --ip 193.0.2.31 --kind report
check_ip_a "a listing whose reason changes (traps -> both) changes its answer" 193.0.2.31 127.0.0.4
check_ip_a "the RFC 5782 test point keeps answer_a" 127.0.0.2 127.0.0.2
tl_stop
# After a restart the answers come from the stored listings.
tl_start --data "$DATA2" --config "$TL_TMP/a.conf"
check_ip_a "after a restart: reports only still answers answer_a_reports" 193.0.2.32 127.0.0.3
check_ip_a "after a restart: both still answers answer_a_both" 193.0.2.31 127.0.0.4
tl_stop
tl_finish
