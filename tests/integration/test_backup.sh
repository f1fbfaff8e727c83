#!/usr/bin/env bash
# test_backup.sh - getting it back (issue 22): `trapline backup` through the running service
# while an evidence producer runs, `trapline restore` into a new data directory, and every
# listing, exclusion, reporter, feed and ticket compared between the copy and the live store;
# restore refuses a directory that holds a store (unless --force) and one a service runs on;
# `trapline verify` passes on a sound store and names the address of a listing tampered with
# sqlite3, exit 1.
source "$(dirname "$0")/lib.sh"

TL_HTTP=1 tl_start
tl_wait_http || tl_die "the web pages answer" "$(tail -n 20 "$TL_LAST_LOG")"
H="http://127.0.0.1:$HPORT"
LIVE=$TL_DATA
tl() { "$TRAPLINE" "$@" --data "$LIVE"; }
C() { curl -s --max-time $((10 * TL_SLOW)) "$@"; }
# db DIR SQL: a read-only query on the store of DIR (tl_db on another data directory).
db() { TL_DATA=$1 tl_db "$2"; }

# ---- what the store holds before the load ----------------------------------------------------
for i in 1 2 3 4 5 6; do
	run_ok tl evidence add --ip "193.0.2.$i" --kind trap
	run_ok tl evidence add --ip "193.0.2.$i" --kind trap --class bounce
done
run_ok tl exclude 199.51.100.0/24 --why "our customers"
run_ok tl exclude 204.0.113.0/28 --until 2099-01-01T00:00:00Z --why "a test range"
run_ok tl delist 193.0.2.6 --why "fixed, said the owner"
printf '%s\n' '204.0.113.64/26' 'relay.example.net' >"$TL_TMP/relays"
run_ok tl reporter add acme --trusted-relays "$TL_TMP/relays"
FEED_KEY=$(tl feed add trapfeed --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
[ -n "$FEED_KEY" ] || tl_die "feed add prints a key"
# A review request from the lookup page of a listed address: a ticket.
T=$(C -c "$TL_TMP/jar" -b "$TL_TMP/jar" "$H/lookup?ip=193.0.2.1" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)
st=$(C -o /dev/null -w '%{http_code}' -c "$TL_TMP/jar" -b "$TL_TMP/jar" --data-urlencode ip=193.0.2.1 \
	--data-urlencode email=pm@example.org --data-urlencode "fixed=the form sent spam" \
	--data-urlencode "comment=please" --data-urlencode "csrf_token=$T" "$H/review")
check_eq "a review request is filed (the ticket the backup must keep)" 303 "$st"
check_eq "the live store has 1 ticket, 2 exclusions, 2 key holders, 5 listings" "1|2|2|5" \
	"$(db "$LIVE" "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM exclusions), (SELECT count(*) FROM key_holders), (SELECT count(*) FROM listings)")"

# ---- the backup, under load ------------------------------------------------------------------
# The producer: 150 addresses, a trap hit each and then a second one that lists it, posted by
# the feed over HTTP (the web's workers and the writer go on while the control socket copies);
# bounded in count and in time.
load() {
	local i ip st
	for i in $(seq 1 150); do
		ip="199.18.$((i / 100)).$((i % 100 + 1))"
		for _ in 1 2; do
			st=$(C -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $FEED_KEY" \
				--data-binary "{\"ip\": \"$ip\"}" "$H/api/v1/evidence")
			[ "$st" = 201 ] || return 1
		done
	done
}
BK=$TL_TMP/bk
tl_mkdata "$BK" # the service writes the copy, as its user
before=$(db "$LIVE" "SELECT count(*) FROM evidence")
load &
LOADER=$!
TL_PIDS+=("$LOADER")
evidence_grew() { [ "$(db "$LIVE" "SELECT count(*) FROM evidence")" -ge $((before + 20)) ] && echo yes; }
tl_poll 300 yes evidence_grew || tl_fail "the producer adds evidence" "$(tail -n 5 "$TL_LAST_LOG")"
out=$(tl backup "$BK/trapline.backup" 2>&1)
rc=$?
running=no
kill -0 "$LOADER" 2>/dev/null && running=yes
check_eq "backup through the running service exits 0" 0 "$rc"
check_match "and says what it wrote" "^backup: wrote $BK/trapline.backup \\([0-9]+ bytes, schema version [0-9]+\\)" "$out"
check_eq "the producer was still running when the backup was done" yes "$running"
check_match "the service wrote it (its log)" 'module=store .*backup written file=.*trapline.backup' "$(cat "$TL_LAST_LOG")"
check_eq "the backup's mode is 0600" 600 "$(stat -c %a "$BK/trapline.backup")"
check_eq "no temporary file is left beside it" "trapline.backup" "$(ls "$BK")"
wait "$LOADER"
check_eq "the producer ended without an error" 0 $?

out=$(tl backup "$BK/trapline.backup" 2>&1)
check_eq "a second backup to the same file is refused: exit 2" 2 $?
check_match "saying --force replaces it" 'exists: give --force' "$out"
check_eq "the refused backup left no temporary file" "trapline.backup" "$(ls "$BK")"
cp "$BK/trapline.backup" "$TL_TMP/first.backup"
out=$(tl backup "$BK/trapline.backup" --force --json 2>&1)
check_eq "backup --force replaces it" 0 $?
check_match "--json says the file and its size" '"bytes": [1-9][0-9]*' "$out"
cp "$TL_TMP/first.backup" "$BK/trapline.backup" # the one taken under load is the one restored
out=$(tl backup "$LIVE/trapline.db" --force 2>&1)
check_eq "a backup into the data directory is refused (it would replace the live store): exit 2" 2 $?
check_match "saying so" 'is in the data directory' "$out"
check_eq "the live store still answers" 0 "$(tl list >/dev/null 2>&1; echo $?)"

# ---- restore into a new directory --------------------------------------------------------------
R=$TL_TMP/restored
out=$("$TRAPLINE" restore "$BK/trapline.backup" --data "$R" 2>&1)
check_eq "restore into a new directory exits 0" 0 $?
check_match "and says what it restored" "^restore: restored $BK/trapline.backup into $R" "$out"
[ "$(id -u)" -ne 0 ] || check_eq "as root, the restored store is the service's user's" "$TL_USER" "$(stat -c %U "$R/trapline.db")"

# The copy is one consistent moment of the store: every listing in it is what its evidence says.
out=$("$TRAPLINE" verify --data "$R" 2>&1)
check_eq "verify on the restored copy (taken under load) exits 0" 0 $?
check_match "verify says ok" '^verify: ok$' "$out"
check_eq "the copy has evidence of the load, not all of it" yes \
	"$(n=$(db "$R" "SELECT count(*) FROM evidence"); [ "$n" -gt "$before" ] && [ "$n" -lt $((before + 300)) ] && echo yes)"

# The live store now, with the service stopped: what the load added after the copy is the only
# difference.
tl_stop
rows() { # rows DIR TABLE-QUERY
	db "$1" "$2"
}
LISTINGS="SELECT hex(ip), listed_at, expires_at, last_evidence_at, traps, reports, reason, detail FROM listings ORDER BY ip"
for q in "SELECT id, hex(addr), plen, until, created_at, who, why FROM exclusions ORDER BY id" \
	"SELECT id, name, kind, hex(key_hash), created_at, created_by, removed_at FROM key_holders ORDER BY id" \
	"SELECT * FROM tickets ORDER BY id" "SELECT * FROM ticket_events ORDER BY rowid" \
	"SELECT * FROM actions ORDER BY id" "SELECT * FROM reputation ORDER BY addr"; do
	name=$(echo "$q" | sed -E 's/.* FROM ([a-z_]+).*/\1/')
	check_eq "restored $name equal the live store's" "$(rows "$LIVE" "$q")" "$(rows "$R" "$q")"
done
check_eq "restored listings of the addresses before the load equal the live store's" \
	"$(rows "$LIVE" "$LISTINGS" | grep -v '^00000000000000000000FFFFC712')" \
	"$(rows "$R" "$LISTINGS" | grep -v '^00000000000000000000FFFFC712')"
rows "$LIVE" "$LISTINGS" >"$TL_TMP/live.rows"
rows "$R" "$LISTINGS" >"$TL_TMP/restored.rows"
check_eq "every restored listing of the load's addresses is in the live store, row for row" "" \
	"$(comm -23 "$TL_TMP/restored.rows" "$TL_TMP/live.rows")"
check_eq "the restored evidence is the live store's up to the moment of the copy" "" \
	"$(comm -23 <(rows "$R" "SELECT id, hex(ip), kind, class, received_at, source FROM evidence ORDER BY id") \
	           <(rows "$LIVE" "SELECT id, hex(ip), kind, class, received_at, source FROM evidence ORDER BY id"))"
# And the same through the command line's --json lists, store against store.
for cmd in "exclude list" "reporter list" "feed list" "review list --all" "delist list"; do
	# shellcheck disable=SC2086
	check_eq "trapline $cmd --json: the same on both" "$("$TRAPLINE" $cmd --json --data "$LIVE" 2>&1)" \
		"$("$TRAPLINE" $cmd --json --data "$R" 2>&1)"
done

# ---- restore refuses to overwrite --------------------------------------------------------------
n_before=$(db "$LIVE" "SELECT count(*) FROM evidence")
out=$("$TRAPLINE" restore "$BK/trapline.backup" --data "$LIVE" 2>&1)
check_eq "restore into a directory that holds a store is refused: exit 2" 2 $?
check_match "saying --force replaces it" 'holds a store already: give --force' "$out"
check_eq "and that store is untouched" "$n_before" "$(db "$LIVE" "SELECT count(*) FROM evidence")"
printf 'not a database at all, only text\n' >"$TL_TMP/junk"
out=$("$TRAPLINE" restore "$TL_TMP/junk" --data "$TL_TMP/r2" 2>&1)
check_eq "restore of a file that is no store: exit 2" 2 $?
check_match "saying so" 'not an SQLite database|not a Trapline store' "$out"

# A service running on the directory: refused even with --force.
tl_start --data "$LIVE"
out=$("$TRAPLINE" restore "$BK/trapline.backup" --data "$LIVE" --force 2>&1)
check_ne_zero=$?
check_eq "restore --force into the directory of a running service is refused" 2 "$check_ne_zero"
check_match "saying a trapline runs on it" 'in use by a running trapline' "$out"

# ---- verify ------------------------------------------------------------------------------------
out=$(tl verify 2>&1)
check_eq "verify of the live store through the service exits 0" 0 $?
check_match "integrity: ok" '^integrity: ok$' "$out"
check_match "and counts what it compared" '^listings: [0-9]+ stored, [0-9]+ recomputed from the evidence of [0-9]+ addresses' "$out"
tl_stop

out=$("$TRAPLINE" restore "$BK/trapline.backup" --data "$R" --force 2>&1)
check_eq "restore --force replaces a stopped store" 0 $?
# Tampering, as someone with the sqlite3 shell might: a listing made longer, one removed, one
# invented.
sqlite3 "$R/trapline.db" "UPDATE listings SET expires_at = expires_at + 86400 WHERE ip = X'00000000000000000000FFFFC1000202';
	DELETE FROM listings WHERE ip = X'00000000000000000000FFFFC1000203';
	INSERT INTO listings (ip, listed_at, expires_at, last_evidence_at, traps, reports, score, reason, detail)
	VALUES (X'00000000000000000000FFFFC1000263', 1, 4102444800, 1, 9, 0, 99, 1, 1);"
out=$("$TRAPLINE" verify --data "$R" 2>&1)
check_eq "verify after tampering exits 1" 1 $?
check_match "names the listing made longer, stored against recomputed" '^differs 193\.0\.2\.2: stored listed \(traps, [a-z]+\) until [0-9T:-]+Z, recomputed listed \(traps, [a-z]+\) until ' "$out"
check_match "names the listing removed" '^differs 193\.0\.2\.3: stored not listed, recomputed listed' "$out"
check_match "names the listing invented" '^differs 193\.0\.2\.99: stored listed .*, recomputed not listed' "$out"
check_match "and counts them" '^verify: 3 listings differ' "$out"
check_nomatch "an untouched address is not named" '^differs 193\.0\.2\.(1|4|5):' "$out"
json=$("$TRAPLINE" verify --data "$R" --json 2>&1)
check_eq "verify --json: ok false and the three addresses" "False 193.0.2.2 193.0.2.3 193.0.2.99" \
	"$(printf '%s' "$json" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["ok"], " ".join(sorted(d["ip"] for d in v["differences"])))')"

tl_finish
