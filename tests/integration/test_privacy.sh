#!/usr/bin/env bash
# test_privacy.sh - what the public sees never carries what was written for the operator and the
# moderators (issue 19, item 1). Several review requests are filed; moderators act on them in
# the web pages (exclude, delist, reject) and the operator on the command line (delist, exclude,
# reputation), each with a note of its own; then every public page and JSON about those
# addresses (the lookup page, the lookup and history API, the home and about pages, the figures,
# the TXT records in DNS) is fetched, and none holds a ticket id, a moderator's name, who acted
# ("moderator:", "cli:", "ctl:") or any of the notes. The notes are checked to be in the store
# and the audit log, so the test cannot pass on notes that were never written.
source "$(dirname "$0")/lib.sh"

CONF=$TL_TMP/privacy.conf
cat >"$CONF" <<CONF
public_url = https://bl.example.test
review_per_client_day = 0
review_per_ip_day = 0
CONF
TL_HTTP=1 tl_start --config "$CONF"
tl_wait_http || tl_die "the web pages answer" "$(tail -n 20 "$TL_LAST_LOG")"
H="http://127.0.0.1:$HPORT"
tl() { "$TRAPLINE" "$@" --data "$TL_DATA"; }
C() { curl -s --max-time $((10 * TL_SLOW)) "$@"; }

# 193.0.2.20-.25 listed on trap hits; 193.0.2.26 on trap hits and reports.
ADDRS="193.0.2.20 193.0.2.21 193.0.2.22 193.0.2.23 193.0.2.24 193.0.2.25 193.0.2.26"
for ip in $ADDRS; do
	run_ok tl evidence add --ip "$ip" --kind trap
	run_ok tl evidence add --ip "$ip" --kind trap --class bounce
done
run_ok tl evidence add --ip 193.0.2.26 --kind report
for ip in $ADDRS; do check_ip_a "$ip is listed" "$ip" 127.0.0.2 30; done

# file IP N: a review request about IP from the browser JAR N; prints the ticket's id.
file() {
	local jar=$TL_TMP/req$2.jar t
	t=$(C -c "$jar" -b "$jar" "$H/lookup?ip=$1" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)
	C -o /dev/null -D "$TL_TMP/head" -c "$jar" -b "$jar" --data-urlencode "ip=$1" \
		--data-urlencode "email=owner$2@example.org" --data-urlencode "fixed=REQUEST-TEXT-$2: fixed it" \
		--data-urlencode "csrf_token=$t" "$H/review"
	grep -i '^Location:' "$TL_TMP/head" | tr -d '\r' | sed 's#.*/ticket/##'
}
IDS=()
i=0
for ip in 193.0.2.20 193.0.2.21 193.0.2.22 193.0.2.23 193.0.2.24 193.0.2.26 193.0.2.26; do
	i=$((i + 1))
	id=$(file "$ip" "$i")
	[ ${#id} = 32 ] || tl_fail "a request about $ip is filed" "$id"
	IDS+=("$id")
done
check_eq "seven requests, six tickets (the second about 193.0.2.26 joined the first)" "7 6" \
	"$(tl_db "SELECT count(*), sum(joined = '') FROM tickets" | tr '|' ' ')"

# Two moderators decide in the web pages.
PW='a long moderator passphrase'
for m in alice bob; do printf '%s-%s\n' "$PW" "$m" | tl moderator add "$m" >/dev/null || tl_fail "moderator add $m"; done
login() { # login NAME: a session in $TL_TMP/NAME.jar
	local jar=$TL_TMP/$1.jar lt
	lt=$(C -c "$jar" -b "$jar" "$H/admin/login" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)
	C -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "username=$1" \
		--data-urlencode "password=$PW-$1" --data-urlencode "csrf_token=$lt" "$H/admin/login"
}
decide() { # decide NAME ID ACTION REASON
	local jar=$TL_TMP/$1.jar t
	t=$(C -b "$jar" "$H/admin/ticket/$2" | grep -A1 'class="decide"' | grep -o 'value="[0-9a-f]*"' | cut -d'"' -f2)
	C -o /dev/null -w '%{http_code}' -b "$jar" --data-urlencode "action=$3" --data-urlencode "days=30" \
		--data-urlencode "reason=$4" --data-urlencode "csrf_token=$t" "$H/admin/ticket/$2"
}
check_eq "alice logs in" 303 "$(login alice)"
check_eq "bob logs in" 303 "$(login bob)"
check_eq "alice excludes 193.0.2.20 for 30 days" 303 "$(decide alice "${IDS[0]}" exclude "NOTE-ALICE-EXCLUDE")"
check_eq "bob delists 193.0.2.21" 303 "$(decide bob "${IDS[1]}" delist "NOTE-BOB-DELIST")"
check_eq "alice rejects the request about 193.0.2.22" 303 "$(decide alice "${IDS[2]}" reject "NOTE-ALICE-REJECT")"
check_eq "bob rejects the ticket about 193.0.2.26, and the request that joined it" 303 "$(decide bob "${IDS[5]}" reject "NOTE-BOB-REJECT")"
# The operator acts on the command line, with notes of its own.
run_ok tl delist 193.0.2.23 --why "NOTE-OP-DELIST"
run_ok tl exclude 193.0.2.24/32 --until "$(date -u -d '+10 days' +%Y-%m-%dT%H:%M:%SZ)" --why "NOTE-OP-EXCLUDE"
run_ok tl reputation 193.0.2.0/24 --points 1 --why "NOTE-OP-REPUTATION"
NOTES="NOTE-ALICE-EXCLUDE NOTE-BOB-DELIST NOTE-ALICE-REJECT NOTE-BOB-REJECT NOTE-OP-DELIST NOTE-OP-EXCLUDE NOTE-OP-REPUTATION"

# The secrets are there to find: in the store and the audit log, not public.
audit=$(tl audit)
for n in $NOTES; do check_match "$n is in the audit log" "$n" "$audit"; done
check_match "the moderators are named in the audit log" 'who="moderator:alice".*who="moderator:bob"|who="moderator:bob".*who="moderator:alice"' "$(echo $audit)"
check_match "the ticket ids are in the audit log" "ticket ${IDS[0]}" "$audit"
check_eq "every ticket decided or closed" "0" "$(tl_db "SELECT count(*) FROM tickets WHERE status = 0")"

# Every public answer about those addresses, and the pages about the list.
PUB=$TL_TMP/public
mkdir -p "$PUB"
n=0
get() { n=$((n + 1)); C "$H$1" >"$PUB/$n" || tl_fail "GET $1"; printf '%s\n' "$1" >"$PUB/$n.name"; }
for ip in $ADDRS 193.0.2.99; do
	get "/lookup?ip=$ip"
	get "/api/v1/lookup/$ip"
	get "/api/v1/history/$ip"
	n=$((n + 1))
	dig @127.0.0.1 -p "$PORT" +short "$(rev4 "$ip").$TL_ZONE" TXT >"$PUB/$n"
	printf 'TXT of %s\n' "$ip" >"$PUB/$n.name"
done
for p in / /about/end-users /about/listing /about/usage /about/warranty /api/v1/ /api/v1/figures; do get "$p"; done
check_match "the public answers were fetched (a listed address's lookup among them)" 'is listed</h2>' "$(cat "$PUB"/*)"
check_match "...and an excluded one's" 'id="excluded"' "$(cat "$PUB"/*)"

secrets=("${IDS[@]}" alice bob "moderator:" "cli:" "ctl:" "ticket " $NOTES REQUEST-TEXT owner1@ owner2@)
leaks=""
for f in "$PUB"/*; do
	case $f in *.name) continue ;; esac
	for s in "${secrets[@]}"; do
		if grep -qF -- "$s" "$f"; then leaks="$leaks [$(cat "$f.name"): $s]"; fi
	done
done
check_eq "no public page, JSON or TXT record carries a ticket id, a moderator, who acted or a note" "" "$leaks"

tl_stop
tl_finish
