#!/usr/bin/env bash
# test_disk_full.sh - the data directory on a small tmpfs that the test fills: every intake
# refuses what it could not commit (SMTP 451, HTTP reports and feed hits 503, `evidence add`
# exit 1) and acknowledges only what it committed, DNS keeps serving the last zone, the web
# pages keep answering; once the filler is deleted everything resumes by itself (no restart),
# and the store holds exactly what was acknowledged, nothing twice. Then the same when the
# store's file system turns read-only under the service (ext4 errors=remount-ro, triggered),
# until the operator's repair and restart. Needs root (mount).
source "$(dirname "$0")/lib.sh"

D="$TRAPLINE_SRC/tests/data/received"
MNT=$TL_TMP/mnt
mkdir -p "$MNT"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=12m,mode=0755 tmpfs "$MNT" 2>/dev/null; then
	tl_skip "a full disk" "needs root and a tmpfs mount (mount -t tmpfs)"
	tl_finish
fi
cleanup_mount() {
	local pid
	for pid in "${TL_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	tl_cleanup
}
trap cleanup_mount EXIT

DATA=$MNT/data
tl_mkdata "$DATA"
CONF=$TL_TMP/trapline.conf
cat >"$CONF" <<CONF
trap_domains = trap.example
trap_sample = message
report_max_per_hour = 100000
exclude_default = 127.0.0.0/8, ::1/128
CONF
tl() { "$TRAPLINE" "$@" --data "$DATA" --config "$CONF"; }
cd "$TL_TMP" || tl_die "cd $TL_TMP"

TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
tl_wait_http || tl_die "the web pages answer on port $HPORT" "$(tail -n 20 "$TL_LAST_LOG")"
U="http://127.0.0.1:$HPORT"
key_of() { sed -n 's/^key: //p'; }
AKEY=$(tl reporter add acme --trusted-relays "$D/default.trusted" | key_of)
FKEY=$(tl feed add far-trap | key_of)
[ -n "$AKEY" ] && [ -n "$FKEY" ] || tl_die "a reporter and a feed are made"

# A listing made before the disk fills: DNS must keep answering it.
LISTED=199.18.40.1
run_ok tl evidence add --ip "$LISTED" --kind trap
run_ok tl evidence add --ip "$LISTED" --kind trap
check_ip_a "before: $LISTED is listed" "$LISTED" 127.0.0.2 50

# Bodies big enough that a trap sample or a report needs pages the disk no longer has.
python3 -c 'import sys; sys.stdout.write(("spam spam spam " * 5 + "\n") * 1500)' >"$TL_TMP/big.txt"

# One attempt of each producer; each appends to its own file what happened: "ack", "refused"
# (the answer promised for a full disk), or "other STATUS" (a failure of the test).
N=0
smtp_one() {
	N=$((N + 1))
	local out
	out=$(tl_swaks --to "full$N@trap.example" --from x@spam.example --body @"$TL_TMP/big.txt")
	if printf '%s\n' "$out" | grep -q '<-  250 2\.0\.0 Ok: stored'; then
		echo ack >>"$TL_TMP/smtp"
	elif printf '%s\n' "$out" | grep -q '<\*\* 451 4\.3\.0 '; then
		echo refused >>"$TL_TMP/smtp"
	else
		echo "other $(printf '%s\n' "$out" | grep -E '^<\*\* ' | head -n 1)" >>"$TL_TMP/smtp"
	fi
}
report_one() {
	N=$((N + 1))
	{ printf 'X-Variant: %s\n' "$N"; cat "$D/postfix_direct.eml"; printf '\n'; cat "$TL_TMP/big.txt"; } >"$TL_TMP/r.eml"
	local st
	st=$(curl -s --max-time $((20 * TL_SLOW)) -o /dev/null -w '%{http_code}' \
		-H "Authorization: Bearer $AKEY" --data-binary @"$TL_TMP/r.eml" "$U/api/v1/reports")
	case $st in 201) echo ack ;; 503) echo refused ;; *) echo "other $st" ;; esac >>"$TL_TMP/report"
}
# Feed hits and evidence add: each its own address, recorded when acknowledged.
FEED_I=0
feed_one() {
	FEED_I=$((FEED_I + 1))
	local ip="199.18.9.$FEED_I" st
	st=$(curl -s --max-time $((20 * TL_SLOW)) -o /dev/null -w '%{http_code}' \
		-H "Authorization: Bearer $FKEY" --data-binary "{\"ip\": \"$ip\"}" "$U/api/v1/evidence")
	case $st in
	201) echo ack; echo "$ip" >>"$TL_TMP/feed.acked" ;;
	503) echo refused ;;
	*) echo "other $st" ;;
	esac >>"$TL_TMP/feed"
}
CLI_I=0
cli_one() {
	CLI_I=$((CLI_I + 1))
	local ip="204.0.113.$CLI_I" rc
	tl evidence add --ip "$ip" --kind trap >/dev/null 2>>"$TL_TMP/cli.err"
	rc=$?
	case $rc in
	0) echo ack; echo "$ip" >>"$TL_TMP/cli.acked" ;;
	1) echo refused ;;
	*) echo "other $rc" ;;
	esac >>"$TL_TMP/cli"
}
count() { grep -c "^$2\$" "$TL_TMP/$1" 2>/dev/null || true; }
others() { grep -h '^other' "$TL_TMP/smtp" "$TL_TMP/report" "$TL_TMP/feed" "$TL_TMP/cli" 2>/dev/null; }
refused_all() {
	local p
	for p in smtp report feed cli; do [ "$(count $p refused)" -gt 0 ] || return 1; done
}

# One of each while the disk has room: all acknowledged.
smtp_one; report_one; feed_one; cli_one
check_eq "with room, each intake acknowledges" "ack ack ack ack" \
	"$(tail -qn 1 "$TL_TMP/smtp" "$TL_TMP/report" "$TL_TMP/feed" "$TL_TMP/cli" | tr '\n' ' ' | sed 's/ $//')"

# ---- the disk fills --------------------------------------------------------------------
fill() { dd if=/dev/zero of="$MNT/filler.$1" bs=64k >/dev/null 2>&1; }
full_t0=$EPOCHREALTIME
fill 0
free=$(df --output=avail -B1 "$MNT" | tail -n 1 | tr -d ' ')
check_eq "the tmpfs is full" 0 "$free"
# SQLite reuses the pages its files already hold: a few small commits may still fit (then
# they are committed, and acknowledged). Until each intake was refused once, bounded; the
# filler takes whatever the store gives back.
for round in $(seq 1 30); do
	refused_all && break
	[ "$(count smtp refused)" -gt 0 ] || smtp_one
	[ "$(count report refused)" -gt 0 ] || report_one
	[ "$(count feed refused)" -gt 0 ] || feed_one
	[ "$(count cli refused)" -gt 0 ] || cli_one
	fill "$round"
done
check_eq "a full disk: SMTP answers 451 4.3.0" 1 "$(( $(count smtp refused) > 0 ))"
check_eq "a full disk: a user report is answered 503" 1 "$(( $(count report refused) > 0 ))"
check_eq "a full disk: a feed's hit is answered 503" 1 "$(( $(count feed refused) > 0 ))"
check_eq "a full disk: evidence add exits 1" 1 "$(( $(count cli refused) > 0 ))"
check_eq "no other answer than those (no 500, no exit 2, no dropped session)" "" "$(others)"
check_match "the CLI says why" "." "$(cat "$TL_TMP/cli.err" 2>/dev/null)"

# Meanwhile DNS serves the last zone and the pages answer.
check_ip_a "a full disk: DNS still answers $LISTED" "$LISTED" 127.0.0.2
out=$(tl_dig "2.0.0.127.$TL_ZONE" A +short)
check_eq "a full disk: DNS answers the test point" 127.0.0.2 "$out"
check_eq "a full disk: the lookup API answers" 200 "$(tl_http_status "/api/v1/lookup/$LISTED")"
check_eq "a full disk: the home page answers" 200 "$(tl_http_status /)"
check_eq "a full disk: the lookup page answers" 200 "$(tl_http_status "/lookup?ip=$LISTED")"

# ---- room again: everything resumes by itself -------------------------------------------
rm -f "$MNT"/filler.*
resumed() {
	local p=$1
	for _ in $(seq 1 $((20 * TL_SLOW))); do
		"${p}_one"
		[ "$(tail -n 1 "$TL_TMP/$p")" = ack ] && return 0
		sleep 0.5
	done
	return 1
}
for p in smtp report feed cli; do
	if resumed $p; then
		tl_ok "room again: $p acknowledges again, without a restart"
	else
		tl_fail "room again: $p acknowledges again, without a restart" "$(tail -n 3 "$TL_TMP/$p")"
	fi
done
# From the disk filling to every intake acknowledged again: the longest the writer's batches
# can have failed (for the bound on its log lines below).
fail_ms=$(awk -v a="$full_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
# The writer publishes again: a new listing reaches DNS.
NEW=199.18.41.1
run_ok tl evidence add --ip "$NEW" --kind trap
run_ok tl evidence add --ip "$NEW" --kind trap
check_ip_a "room again: a new listing reaches DNS" "$NEW" 127.0.0.2 50

# ---- what is stored is exactly what was acknowledged -------------------------------------
# The store keeps an address as 16 bytes, IPv4 mapped (::ffff:a.b.c.d).
hexip() { python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address("::ffff:" + sys.argv[1]).packed.hex().upper())' "$1"; }
stored_of() { tl_db "SELECT count(*) FROM evidence WHERE hex(ip) = '$(hexip "$1")'"; }
check_eq "SMTP: every message acknowledged is stored, once" "$(count smtp ack)" \
	"$(stored_of 127.0.0.1)"
check_eq "reports: every report acknowledged is stored, once" "$(count report ack)" \
	"$(tl_db 'SELECT count(*) FROM reports')"
bad=""
for f in feed cli; do
	while read -r ip; do
		[ "$(stored_of "$ip")" = 1 ] || bad+="$f:$ip=$(stored_of "$ip") "
	done <"$TL_TMP/$f.acked"
done
check_eq "feed and evidence add: each acknowledged address is stored once" "" "$bad"
acked=$(( $(count feed ack) + $(count cli ack) + 4 ))
check_eq "and nothing that was refused is stored" "$acked" \
	"$(tl_db "SELECT count(*) FROM evidence WHERE hex(ip) <> '$(hexip 127.0.0.1)' AND source NOT LIKE 'report%'")"
check_match "the refusals are logged" 'level=(error|warn).*(full|FULL|disk)' "$(cat "$TL_LAST_LOG")"
# Once, then once every 10 s with a count (a full disk is no place for a line per batch), and
# once more when commits succeed again (WRITER_FAIL_LOG_NS in writer_batch.c). A commit that
# still fits ends a run of failures (its "commits succeed again" line), and the next failure
# starts a run that is logged at once: a run of T s has at most 1 + floor(T / 10) lines, so all
# of them at most (runs) + floor(fail_ms / 10000), the time measured by the test from the
# filling to the last intake acknowledged again (longer than any run, whatever the machine's
# speed). The run's own count of failed batches says how many lines a line per batch would be.
refusals=$(( $(count smtp refused) + $(count report refused) + $(count feed refused) + $(count cli refused) ))
lines=$(grep -c 'level=error module=writer batch of' "$TL_LAST_LOG")
runs=$(grep -c 'level=info module=writer commits succeed again after failed_batches=' "$TL_LAST_LOG")
[ "$runs" -ge 1 ] || runs=1
batches=$(grep -o 'commits succeed again after failed_batches=[0-9]*' "$TL_LAST_LOG" |
	awk -F= '{ n += $2 } END { print n + 0 }')
most=$((runs + fail_ms / 10000))
if [ "$lines" -ge 1 ] && [ "$lines" -le "$most" ]; then
	tl_ok "the writer's failures are logged once per 10 s ($lines lines, at most $most, for $batches failed batches, $refusals refusals, in $runs runs over $((fail_ms / 1000)) s)"
else
	tl_fail "the writer's failures are logged once per 10 s" \
		"$lines lines, at most $most; $batches failed batches, $refusals refusals, $runs runs, $fail_ms ms" \
		"$(grep 'module=writer' "$TL_LAST_LOG" | tail -n 20)"
fi
check_match "... and the recovery once" 'level=info module=writer commits succeed again after failed_batches=[1-9]' \
	"$(cat "$TL_LAST_LOG")"

# ---- a restart while the disk is full ----------------------------------------------------
# Killed (a crash, an OOM kill) and started again by systemd while the disk is still full:
# DNS must serve the stored listings rather than nothing, the pages answer, intake refuses.
kill -KILL "$TL_LAST_PID"
wait "$TL_LAST_PID" 2>/dev/null
fill restart
check_eq "restart: the tmpfs is full" 0 "$(df --output=avail -B1 "$MNT" | tail -n 1 | tr -d ' ')"
TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
U="http://127.0.0.1:$HPORT"
check_match "restart: the writer says it serves the listings as loaded" \
	'level=warn module=writer the store takes no commits .*serving the listings as loaded' \
	"$(cat "$TL_LAST_LOG")"
check_ip_a "restart on a full disk: DNS answers $LISTED and $NEW" "$LISTED" 127.0.0.2
check_ip_a "... and $NEW" "$NEW" 127.0.0.2
check_eq "restart on a full disk: the lookup API answers" 200 "$(tl_http_status "/api/v1/lookup/$LISTED")"
CLI_I=200
cli_one
check_eq "restart on a full disk: evidence add exits 1" refused "$(tail -n 1 "$TL_TMP/cli")"
rm -f "$MNT"/filler.*
if resumed cli; then
	tl_ok "restart, then room again: evidence add acknowledges again, without a restart"
else
	tl_fail "restart, then room again: evidence add acknowledges again" "$(tail -n 3 "$TL_TMP/cli")"
fi
check_eq "... and the refused one is not stored" 0 "$(stored_of 204.0.113.201)"
tl_stop

# ---- the store's file system turns read-only under it ------------------------------------
# What the kernel does when a disk fails (ext4 errors=remount-ro): every write gets EROFS.
# chmod or chattr on the open store would change nothing (the service holds it open) and a
# tmpfs with files open for writing cannot be remounted read-only, hence an ext4 image whose
# error the test triggers. It stays read-only until unmounted (emergency_ro): the operator
# stops the service, repairs, starts it; nothing acknowledged may be missing then.
IMG=$TL_TMP/ext4.img
EXT=$TL_TMP/ext4
mkdir -p "$EXT"
if ! command -v mkfs.ext4 >/dev/null || ! truncate -s 48M "$IMG" || ! mkfs.ext4 -q -F "$IMG" ||
	! mount -o loop,errors=remount-ro "$IMG" "$EXT" 2>/dev/null; then
	tl_skip "a read-only store" "needs mkfs.ext4 and a loop mount"
	tl_finish
fi
cleanup_ext() {
	cleanup_mount_ext=1
	local pid
	for pid in "${TL_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	umount "$EXT" 2>/dev/null || umount -l "$EXT" 2>/dev/null
	cleanup_mount
}
trap cleanup_ext EXIT
TRIGGER=/sys/fs/ext4/$(basename "$(findmnt -no SOURCE "$EXT")")/trigger_fs_error
if [ ! -w "$TRIGGER" ]; then
	tl_skip "a read-only store" "no $TRIGGER (ext4's error trigger)"
	tl_finish
fi
DATA=$EXT/data
tl_mkdata "$DATA"
for f in smtp report feed cli feed.acked cli.acked; do : >"$TL_TMP/$f"; done
FEED_I=100 CLI_I=100
TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
tl_wait_http || tl_die "the web pages answer on port $HPORT"
U="http://127.0.0.1:$HPORT"
AKEY=$(tl reporter add acme --trusted-relays "$D/default.trusted" | key_of)
FKEY=$(tl feed add far-trap | key_of)
run_ok tl evidence add --ip "$LISTED" --kind trap
run_ok tl evidence add --ip "$LISTED" --kind trap
check_ip_a "ro: before, $LISTED is listed" "$LISTED" 127.0.0.2 50
smtp_one; report_one; feed_one; cli_one
# A service that ran a while: its files, their directory entries and the last commits are on
# the disk (the kernel's writeback; the store syncs its log once a second). A disk that fails
# within that second may take the last second of commits with it (README "Durability").
sync -f "$DATA/trapline.db"
echo trapline-test >"$TRIGGER"
check_match "ro: the file system is read-only now" 'ro' "$(findmnt -no OPTIONS "$EXT")"
smtp_one; report_one; feed_one; cli_one
check_eq "ro: each intake refuses (451, 503, 503, exit 1)" "refused refused refused refused" \
	"$(tail -qn 1 "$TL_TMP/smtp" "$TL_TMP/report" "$TL_TMP/feed" "$TL_TMP/cli" | tr '\n' ' ' | sed 's/ $//')"
check_eq "ro: no other answer" "" "$(others)"
check_ip_a "ro: DNS still answers $LISTED" "$LISTED" 127.0.0.2
check_eq "ro: the lookup API answers" 200 "$(tl_http_status "/api/v1/lookup/$LISTED")"
check_eq "ro: the home page answers" 200 "$(tl_http_status /)"
# The operator's repair: stop, unmount, check the file system, mount, start.
kill -TERM "$TL_LAST_PID"
tl_poll $((100)) gone sh -c "kill -0 $TL_LAST_PID 2>/dev/null && echo running || echo gone" ||
	tl_fail "ro: the service stops on SIGTERM"
wait "$TL_LAST_PID" 2>/dev/null
umount "$EXT" && e2fsck -fy "$IMG" >/dev/null 2>&1
mount -o loop "$IMG" "$EXT" || tl_die "ro: the repaired file system mounts"
# A self-signed pair the service made, left empty by a crash before it reached the disk (as
# files written before they were synced were): the service makes it again.
: >"$DATA/smtp-cert.pem"
TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
check_match "ro: an empty self-signed certificate of its own is made again" \
	'level=warn module=smtp self-signed certificate unreadable, made again' "$(cat "$TL_LAST_LOG")"
check_cmd "ro: ... and the trap greets" tl_smtp_greets
check_eq "ro: after the repair, SMTP: every message acknowledged is stored" "$(count smtp ack)" \
	"$(stored_of 127.0.0.1)"
check_eq "ro: ... every report acknowledged" "$(count report ack)" "$(tl_db 'SELECT count(*) FROM reports')"
bad=""
for f in feed cli; do
	while read -r ip; do
		[ "$(stored_of "$ip")" = 1 ] || bad+="$f:$ip=$(stored_of "$ip") "
	done <"$TL_TMP/$f.acked"
done
check_eq "ro: ... each acknowledged address once" "" "$bad"
check_eq "ro: ... and nothing refused" "$(( $(count feed ack) + $(count cli ack) + 2 ))" \
	"$(tl_db "SELECT count(*) FROM evidence WHERE hex(ip) <> '$(hexip 127.0.0.1)' AND source NOT LIKE 'report%'")"
tl_stop
tl_finish
