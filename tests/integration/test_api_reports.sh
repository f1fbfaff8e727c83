#!/usr/bin/env bash
# test_api_reports.sh - user reports and feeds' trap hits over HTTP, driven by curl against the
# real service: reports add evidence, two reporters list the source through DNS (one
# reporter's reports count once), `check` says "user reports", a report and a feed's hit give
# "both"; the same message counts once (200), forwarded as an attachment too; a report whose
# source is a special-purpose address is taken without evidence, a feed's hit against one is
# refused; a body curl -d stripped of its line breaks and an mbox of two messages are 400; a
# reporter sees its own reports only (404 for any other id); every key that is not the right
# one gets the same 401; a 50 MB body (announced or chunked) gets 413 and is not kept; junk is
# 400; the hourly limit is 429 with Retry-After; a feed's bad body is refused whole, naming the
# hit; a hit whose id its feed sent before is counted once (200 when all are known); a commit
# that fails is 503 and acknowledges nothing. Every refusal writes nothing
# (counted in the store).
source "$(dirname "$0")/lib.sh"

D="$TRAPLINE_SRC/tests/data/received"
DATA=$TL_TMP/data
tl_mkdata "$DATA"
mkdir -p "$TL_TMP/hooks.d"
chmod 0777 "$TL_TMP/hooks.d"
HOOKS=$TL_TMP/hooks.d/hooks
: >"$HOOKS"
export TRAPLINE_TEST_HOOKS=$HOOKS
CONF=$TL_TMP/trapline.conf
printf 'report_max_per_hour = 10\nreport_max_size = 1048576\nfeed_max_hits = 5\n' >"$CONF"
tl() { "$TRAPLINE" "$@" --data "$DATA" --config "$CONF"; }
cd "$TL_TMP" || tl_die "cd $TL_TMP"

TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
tl_wait_http || tl_die "the web pages answer on port $HPORT" "$(tail -n 20 "$TL_LAST_LOG")"
U="http://127.0.0.1:$HPORT"

key_of() { sed -n 's/^key: //p'; }
AKEY=$(tl reporter add acme --trusted-relays "$D/default.trusted" | key_of)
OKEY=$(tl reporter add other --trusted-relays "$D/default.trusted" | key_of)
FKEY=$(tl feed add far-trap | key_of)
check_match "three keys were made" '^tlr_[0-9a-f]{64} tlr_[0-9a-f]{64} tlf_[0-9a-f]{64}$' "$AKEY $OKEY $FKEY"

# req METHOD PATH KEY [curl options...]: one request; STATUS, and the answer's headers and body
# in $TL_TMP/h and $TL_TMP/b. KEY "-" sends no Authorization header.
STATUS=
req() {
	local method=$1 path=$2 key=$3 auth=()
	shift 3
	[ "$key" != - ] && auth=(-H "Authorization: Bearer $key")
	STATUS=$(curl -s --max-time $((30 * TL_SLOW)) -X "$method" -D "$TL_TMP/h" -o "$TL_TMP/b" \
		-w '%{http_code}' "${auth[@]}" "$@" "$U$path")
	tr -d '\r' <"$TL_TMP/h" >"$TL_TMP/h.txt"
}
report() { req POST /api/v1/reports "$1" --data-binary "@$2" "${@:3}"; }
feed() { req POST /api/v1/evidence "${2:-$FKEY}" --data-binary "$1"; }
body() { cat "$TL_TMP/b"; }
header() { sed -n "s/^$1: //Ip" "$TL_TMP/h.txt" | head -n 1; }
# jget KEY: a key of the answer's JSON ("" when absent or not JSON), Python's spelling.
jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$TL_TMP/b" "$1" 2>/dev/null; }
# What the store holds: reports and evidence rows. Every refusal must leave both as they were.
counts() { echo "$(tl_db 'SELECT count(*) FROM reports') reports, $(tl_db 'SELECT count(*) FROM evidence') evidence"; }
# A message of its own: a corpus message with one header more, so its digest differs.
variant() { printf 'X-Variant: %s\n' "$2" | cat - "$D/$1" >"$3"; }
# every answer carries the pages' security headers
secure() {
	check_match "$1: security headers" "^Content-Security-Policy: default-src 'none'" "$(cat "$TL_TMP/h.txt")"
	check_match "$1: nosniff" '^X-Content-Type-Options: nosniff$' "$(cat "$TL_TMP/h.txt")"
}

echo "# a report: 201 after the commit, with its id, Location and source"
report "$AKEY" "$D/postfix_direct.eml"
check_eq "POST /api/v1/reports: 201" 201 "$STATUS"
ID1=$(jget id)
check_match "...the report's id" '^[0-9a-f]{32}$' "$ID1"
check_eq "...Location names it" "/api/v1/reports/$ID1" "$(header Location)"
check_eq "...the source" 204.0.113.7 "$(jget source_ip)"
check_eq "...not listed after one report" False "$(jget listed)"
check_eq "...the reporter" acme "$(jget reporter)"
check_eq "...JSON" application/json "$(header Content-Type)"
secure "201"
check_eq "...it is in the store with its evidence (committed before the answer)" \
	"1|report" "$(tl_db "SELECT count(*), (SELECT CASE kind WHEN 2 THEN 'report' END FROM evidence WHERE id = r.evidence_id) FROM reports r WHERE id = '$ID1'")"
check_ip_nx "one report does not list" 204.0.113.7

echo "# two reporters list the source: DNS answers, check says user reports"
variant postfix_direct.eml 2 v2.eml
report "$AKEY" v2.eml
check_eq "a second message of the same reporter: 201" 201 "$STATUS"
check_eq "...but one reporter's reports count once: not listed" False "$(jget listed)"
report "$OKEY" "$D/postfix_direct.eml"
check_eq "the first message from a second reporter: 201" 201 "$STATUS"
check_eq "...and the answer says the source is listed now" True "$(jget listed)"
check_ip_a "DNS answers the reported source" 204.0.113.7 127.0.0.2
out=$(tl check 204.0.113.7)
check_match "check: reason reports" '^reason: reports$' "$out"
check_match "check says user reports" '^meaning: user reports only' "$out"

echo "# the same message again counts once: 200 and the earlier report"
before=$(counts)
report "$AKEY" "$D/postfix_direct.eml"
check_eq "the same message again: 200" 200 "$STATUS"
check_eq "...the earlier report's id" "$ID1" "$(jget id)"
check_eq "...marked duplicate" True "$(jget duplicate)"
check_eq "...Content-Location names it" "/api/v1/reports/$ID1" "$(header Content-Location)"
check_eq "...nothing added" "$before" "$(counts)"
{
	printf 'From: User <user@example.org>\nTo: reports@example.org\nSubject: Fwd: spam\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="fwd"\n\n--fwd\n'
	printf 'Content-Type: text/plain\n\nSee the attached.\n\n--fwd\nContent-Type: message/rfc822\n\n'
	cat "$D/postfix_direct.eml"
	printf '\n--fwd--\n'
} >fwd.eml
report "$AKEY" fwd.eml
check_eq "the same spam forwarded as an attachment: 200, the earlier report" "200 $ID1 True" "$STATUS $(jget id) $(jget duplicate)"
check_eq "...nothing added" "$before" "$(counts)"

echo "# a reporter fetches its own reports, and only those"
req GET "/api/v1/reports/$ID1" "$AKEY"
check_eq "GET its own report: 200" 200 "$STATUS"
check_eq "...the same report" "$ID1 204.0.113.7 False" "$(jget id) $(jget source_ip) $(jget duplicate)"
secure "GET report"
req HEAD "/api/v1/reports/$ID1" "$AKEY" -I
check_eq "HEAD its own report: 200" 200 "$STATUS"
req GET "/api/v1/reports/$ID1" "$OKEY"
check_eq "another reporter's key on acme's id: 404" 404 "$STATUS"
theirs=$(body)
req GET /api/v1/reports/0123456789abcdef0123456789abcdef "$AKEY"
check_eq "an id that does not exist: 404" 404 "$STATUS"
check_eq "...the same answer as for another's report" "$theirs" "$(body)"
req GET /api/v1/reports/../../etc "$AKEY"
check_match "a path that is no id: 404 or 400" '^(400|404)$' "$STATUS"
req GET /api/v1/reports/nothex "$AKEY"
check_eq "an id that is not 32 hex digits: 404, the same answer" "404 $theirs" "$STATUS $(body)"
req GET "/api/v1/reports/$ID1" -
check_eq "no key: 401" 401 "$STATUS"
req GET "/api/v1/reports/$ID1" "$AKEY" -H "Content-Length: 5" --data-binary hello
check_eq "a GET with a body: 400" 400 "$STATUS"

echo "# keys: missing, wrong, a feed's, another scheme, a cookie: one 401 for all, nothing written"
before=$(counts)
variant gmail.eml keys keys.eml
report - keys.eml
check_eq "no key: 401" 401 "$STATUS"
check_match "...WWW-Authenticate: Bearer" '^WWW-Authenticate: Bearer' "$(cat "$TL_TMP/h.txt")"
secure "401"
first=$(body)
report "tlr_$(printf '%064d' 7)" keys.eml
check_eq "a wrong key: 401, the same answer" "401 $first" "$STATUS $(body)"
report "$FKEY" keys.eml
check_eq "a feed's key: 401, the same answer" "401 $first" "$STATUS $(body)"
report "${AKEY}x" keys.eml
check_eq "a key with a byte more: 401, the same answer" "401 $first" "$STATUS $(body)"
report - keys.eml -H "Authorization: Basic $(printf 'acme:%s' "$AKEY" | base64 -w0)"
check_eq "Basic with the key as password: 401, the same answer" "401 $first" "$STATUS $(body)"
report - keys.eml -H "Cookie: key=$AKEY; session=$AKEY"
check_eq "the key in a cookie: 401 (cookies are never looked at)" "401 $first" "$STATUS $(body)"
feed '{"ip": "193.0.2.9"}' "$AKEY"
check_eq "a reporter's key on the feed endpoint: 401" 401 "$STATUS"
feed '{"ip": "193.0.2.9"}' -
check_eq "no key on the feed endpoint: 401" 401 "$STATUS"
check_eq "...none of them wrote anything" "$before" "$(counts)"

echo "# sizes: 413 before the body is read (Content-Length), and for a chunked body"
{
	printf 'Received: from a (b [204.0.113.9]) by mx.example.org; Mon, 23 Nov 2026 10:00:00 +0000\n'
	printf 'Subject: 50 MB\n\n'
	head -c 52428800 /dev/zero | tr '\0' 'x'
} >big.eml
before=$(counts)
up=$(curl -s --max-time $((30 * TL_SLOW)) -o "$TL_TMP/b" -w '%{http_code} %{size_upload}' \
	-H "Authorization: Bearer $AKEY" --data-binary @big.eml "$U/api/v1/reports")
check_eq "a 50 MB message: 413" 413 "${up% *}"
check_match "...refused before the body was read (bytes sent: ${up#* })" '^[0-9]{1,6}$' "${up#* }"
check_match "...and says why" "\"error\": \"the body is $(stat -c %s big.eml) bytes, more than the 1048576 taken here\"" "$(body)"
up=$(head -c 52428800 big.eml | curl -s --max-time $((60 * TL_SLOW)) -o "$TL_TMP/b" -w '%{http_code}' \
	-H "Authorization: Bearer $AKEY" -X POST -T - "$U/api/v1/reports")
check_eq "a 50 MB message sent chunked (no Content-Length): 413" 413 "$up"
check_match "...and says why" '"error": "the body is 52428800 bytes, more than the 1048576 taken here"' "$(body)"
head -c 1048577 big.eml >over.eml
report "$AKEY" over.eml
check_eq "one byte over report_max_size: 413" 413 "$STATUS"
up=$(head -c 1048577 big.eml | curl -s --max-time $((30 * TL_SLOW)) -o /dev/null -w '%{http_code}' \
	-H "Authorization: Bearer $AKEY" -X POST -T - "$U/api/v1/reports")
check_eq "...the same chunked: 413" 413 "$up"
up=$(curl -s --max-time $((30 * TL_SLOW)) -o /dev/null -w '%{http_code} %{size_upload}' \
	--data-binary @big.eml "$U/api/v1/reports")
check_eq "a 50 MB message without a key: 401" "401" "${up% *}"
check_match "...refused before the body was read (bytes sent: ${up#* })" '^[0-9]{1,6}$' "${up#* }"
check_eq "...nothing written for any of them" "$before" "$(counts)"
check_eq "...and no evidence against the 50 MB message's address" "0" \
	"$(tl check 204.0.113.9 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["evidence"]["stored"]["reports"])')"
head -c 1048576 big.eml >at.eml
report "$AKEY" at.eml
check_eq "exactly report_max_size: taken (201)" 201 "$STATUS"
before=$(counts)

echo "# not a message: 400 with the reason, nothing written"
printf '\x89PNG\r\n\x1a\n' >png.bin
head -c 4096 /dev/urandom >>png.bin
report "$AKEY" png.bin
check_eq "binary junk: 400" 400 "$STATUS"
check_match "...not a message, and why" '"error": "not a message: the first line is not a header field' "$(body)"
printf 'Hello,\nthis is a letter, not a message.\n' >letter.txt
report "$AKEY" letter.txt
check_eq "a letter: 400" 400 "$STATUS"
req POST /api/v1/reports "$AKEY" --data-binary ''
check_eq "an empty body: 400" 400 "$STATUS"
check_match "...and why" '"error": "not a message: empty"' "$(body)"
variant qmail.eml curl curl.eml
req POST /api/v1/reports "$AKEY" -d @curl.eml
check_eq "a message sent with curl -d (its line breaks stripped): 400" 400 "$STATUS"
check_match "...and why, with the option that keeps them" '"error": "not a message: it has no line break.*--data-binary @FILE' "$(body)"
{ printf 'From a@spam.example  Mon Nov 23 10:00:00 2026\n'; cat curl.eml; printf '\nFrom b@spam.example  Mon Nov 23 10:01:00 2026\n'; cat v2.eml; } >two.mbox
report "$AKEY" two.mbox
check_eq "an mbox of two messages: 400" 400 "$STATUS"
check_match "...and why" '"error": "an mbox of 2 messages: a report is one message' "$(body)"
check_eq "...nothing written for any of them" "$before" "$(counts)"
report "$AKEY" curl.eml
check_eq "the same message with its line breaks (--data-binary): 201" 201 "$STATUS"
before=$(counts)

echo "# a special-purpose source: the report is taken, names no source, adds no evidence"
{
	printf 'Received: from mx.example.org (mx.example.org [193.0.2.25])\n'
	printf '\tby mailbox.example.org (Postfix); Mon, 23 Nov 2026 10:00:01 +0000\n'
	printf 'Received: from cgn.isp.example (unknown [100.64.7.7])\n'
	printf '\tby mx.example.org (Postfix); Mon, 23 Nov 2026 10:00:00 +0000\n'
	printf 'Subject: from behind a carrier-grade NAT\n\nbody\n'
} >cgn.eml
report "$AKEY" cgn.eml
check_eq "a report whose first untrusted hop is shared address space: 201" 201 "$STATUS"
check_eq "...refused: private-source, no source" "private-source None" "$(jget refusal) $(jget source_ip)"
check_match "...the why names the range and its RFC" '100\.64\.7\.7 is in 100\.64\.0\.0/10, Shared Address Space \(RFC 6598\)' "$(jget why)"
check_eq "...one report more, no evidence" "$((${before%% *} + 1)) reports, $(echo "$before" | sed 's/.*, //')" "$(counts)"
check_eq "...nothing against the address" 0 "$(tl_db "SELECT count(*) FROM evidence WHERE hex(ip) = '00000000000000000000FFFF64400707'")"
before=$(counts)

echo "# methods: POST only on the POST endpoints, GET and HEAD elsewhere"
for m in GET PUT DELETE PATCH; do
	req "$m" /api/v1/reports "$AKEY"
	check_eq "$m /api/v1/reports: 405 Allow: POST" "405 POST" "$STATUS $(header Allow)"
done
req GET /api/v1/evidence "$FKEY"
check_eq "GET /api/v1/evidence: 405 Allow: POST" "405 POST" "$STATUS $(header Allow)"
secure "405"
req POST "/api/v1/reports/$ID1" "$AKEY" --data-binary x
check_eq "POST on a report: 405 Allow: GET, HEAD" "405 GET, HEAD" "$STATUS $(header Allow)"
req POST / - --data-binary x
check_eq "POST on a page: 405 Allow: GET, HEAD" "405 GET, HEAD" "$STATUS $(header Allow)"
req POST /api/v1/lookup/193.0.2.1 - --data-binary x
check_eq "POST on the lookup API: 405" 405 "$STATUS"

echo "# a feed's trap hits: a report and a hit give both"
before_ev=$(tl_db 'SELECT count(*) FROM evidence')
feed '{"ip": "204.0.113.7", "class": "spam"}'
check_eq "one hit: 201" 201 "$STATUS"
check_eq "...stored 1 for far-trap" "1 far-trap" "$(jget stored) $(jget feed)"
secure "evidence 201"
check_eq "...stored as trap evidence from feed:far-trap" "1|feed:far-trap" \
	"$(tl_db "SELECT kind, source FROM evidence ORDER BY id DESC LIMIT 1")"
out=$(tl check 204.0.113.7)
check_match "check: reason both" '^reason: both$' "$out"
check_match "...spamtrap hits and user reports" '^meaning: spamtrap hits and user reports' "$out"
hour_ago=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
feed "[{\"ip\": \"199.51.100.20\", \"at\": \"$hour_ago\", \"class\": \"bounce\"},
 {\"ip\": \"199.51.100.20\", \"class\": \"bounce\"}, {\"ip\": \"2a01:db8:99::7\"}]"
check_eq "an array of three: 201, stored 3" "201 3" "$STATUS $(jget stored)"
check_ip_a "two feed hits list the address" 199.51.100.20 127.0.0.2
check_match "...as trap hits, mostly bounces" '^meaning: spamtrap hits only, mostly bounces' "$(tl check 199.51.100.20)"
check_eq "...and the received time is the feed's" "$(date -u -d "$hour_ago" +%s)" \
	"$(tl_db "SELECT min(received_at) FROM evidence WHERE source = 'feed:far-trap' AND class = 1")"
check_eq "the store has 4 hits more" $((before_ev + 4)) "$(tl_db 'SELECT count(*) FROM evidence')"

echo "# a hit's id: a hit a feed sent before is counted once (a trap node sends its spool again)"
# jlist KEY: a list of the answer's, sorted and joined by spaces.
jlist() { python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))[sys.argv[2]])))' "$TL_TMP/b" "$1" 2>&1; }
before_ev=$(tl_db 'SELECT count(*) FROM evidence')
feed '[{"ip": "204.0.113.30", "id": "n1:a"}, {"ip": "204.0.113.30", "id": "n1:b"}, {"ip": "204.0.113.31"}]'
check_eq "three hits, two with ids: 201, stored 3, no duplicate" "201 3 0" "$STATUS $(jget stored) $(jget duplicates)"
check_eq "...the ids are named new" "n1:a n1:b|" "$(jlist new)|$(jlist duplicate)"
feed '[{"ip": "204.0.113.30", "id": "n1:b"}, {"ip": "204.0.113.30", "id": "n1:c"}, {"ip": "204.0.113.30", "id": "n1:a"}]'
check_eq "sent again with one new: 201, stored 1, 2 duplicates" "201 1 2" "$STATUS $(jget stored) $(jget duplicates)"
check_eq "...which is which, by id" "n1:c|n1:a n1:b" "$(jlist new)|$(jlist duplicate)"
feed '{"ip": "204.0.113.30", "id": "n1:c"}'
check_eq "every hit known: 200, stored 0" "200 0 1" "$STATUS $(jget stored) $(jget duplicates)"
feed '[{"ip": "204.0.113.32", "id": "n1:d"}, {"ip": "204.0.113.32", "id": "n1:d"}]'
check_eq "the same id twice in one request: stored once" "201 1 1" "$STATUS $(jget stored) $(jget duplicates)"
check_eq "the store has 5 hits more, each id once" "$((before_ev + 5)) 4 4" \
	"$(tl_db 'SELECT count(*) FROM evidence') $(tl_db "SELECT count(*) FROM evidence WHERE hit_id LIKE 'n1:%'") $(tl_db "SELECT count(DISTINCT hit_id) FROM evidence WHERE hit_id LIKE 'n1:%'")"
F2KEY=$(tl feed add near-trap | key_of)
feed '{"ip": "204.0.113.30", "id": "n1:a"}' "$F2KEY"
check_eq "another feed's hit of the same id is its own: 201, stored 1" "201 1" "$STATUS $(jget stored)"

echo "# a feed's bad body is refused whole, naming the hit: nothing written"
before=$(counts)
bad() { # bad NAME BODY INDEX ERE: 400, the index, the reason
	feed "$2"
	check_eq "$1: 400" 400 "$STATUS"
	check_eq "$1: the index of the bad hit" "$3" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["index"])' "$TL_TMP/b" 2>&1)"
	check_match "$1: says why" "$4" "$(body)"
}
future=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
old=$(date -u -d '-8 days' +%Y-%m-%dT%H:%M:%SZ)
bad "not JSON" 'ip=193.0.2.1' None '"error": "not JSON: '
bad "an empty array" '[]' None 'an empty array: no hit'
bad "six hits, over feed_max_hits" '[{"ip":"193.0.2.1"},{"ip":"193.0.2.2"},{"ip":"193.0.2.3"},{"ip":"193.0.2.4"},{"ip":"193.0.2.5"},{"ip":"193.0.2.6"}]' \
	None '6 hits, more than the 5 one request may carry \(feed_max_hits\)'
bad "a range in the third hit" '[{"ip":"193.0.2.1"},{"ip":"193.0.2.2"},{"ip":"193.0.2.0/24"}]' 2 \
	'hit 2: ip: \\"193.0.2.0/24\\" is not one IPv4 or IPv6 address'
bad "an address that never sends" '[{"ip":"193.0.2.1"},{"ip":"255.255.255.255"}]' 1 'hit 1: ip: 255.255.255.255 is the broadcast address'
bad "a special-purpose address" '[{"ip":"193.0.2.1"},{"ip":"192.168.1.1"}]' 1 \
	'hit 1: ip: 192\.168\.1\.1 is in 192\.168\.0\.0/16, Private-Use \(RFC 1918\): a special-purpose address, never a public source of mail \(exclude_default\)'
bad "a documentation address" '{"ip":"2001:db8::1"}' 0 'in 2001:db8::/32, Documentation \(RFC 3849\)'
bad "the NAT64 form of loopback" '{"ip":"64:ff9b::7f00:1"}' 0 'NAT64\) form \(64:ff9b::/96, RFC 6052\) of 127\.0\.0\.1, which is in 127\.0\.0\.0/8, Loopback'
bad "a time in the future" "{\"ip\":\"193.0.2.1\",\"at\":\"$future\"}" 0 'hit 0: at: .* s in the future \(300 s of clock skew are allowed\)'
bad "a time older than the window" "{\"ip\":\"193.0.2.1\",\"at\":\"$old\"}" 0 "older than the policy's window"
bad "a time without a zone" '{"ip":"193.0.2.1","at":"2026-12-01T10:00:00"}' 0 'is not an ISO 8601 time with a zone'
bad "a class that is not a word of ours" '[{"ip":"193.0.2.1","class":"bounce"},{"ip":"193.0.2.2","class":"ham"}]' 1 \
	'hit 1: class: \\"ham\\" is not one of spam, bounce, autoreply, virus'
bad "a misspelt key" '{"ip":"193.0.2.1","clas":"bounce"}' 0 'unknown key \\"clas\\"'
bad "an address as a number" '{"ip":3221225985}' 0 'ip: missing, or not a string'
head -c 2000 /dev/urandom >junk.bin
feed @junk.bin
check_eq "binary junk: 400" 400 "$STATUS"
python3 -c 'print("[" + ",".join(["{\"ip\": \"193.0.2.1\", \"class\": \"spam\"}"] * 5) + " " * 3000 + "]")' >long.json
feed @long.json
check_eq "a body over 512 bytes a hit: 413" 413 "$STATUS"
check_eq "...nothing written for any of them" "$before" "$(counts)"

echo "# the hourly limit: 429 with Retry-After, nothing written"
RKEY=$(tl reporter add flood --trusted-relays "$D/default.trusted" | key_of)
# Ten reports and an eleventh in the same clock hour (the service's wall clock, time / 3600):
# wait out the last seconds of an hour, 30 s of them, times TL_SLOW (a sanitized or loaded run
# takes that much longer over the eleven).
into_hour=$(( $(date +%s) % 3600 ))
[ "$into_hour" -gt $((3600 - 30 * TL_SLOW)) ] && sleep $((3600 - into_hour + 1))
ok=0
for i in $(seq 1 10); do
	variant postfix_direct.eml "flood$i" "flood$i.eml"
	report "$RKEY" "flood$i.eml"
	[ "$STATUS" = 201 ] && ok=$((ok + 1))
done
check_eq "ten reports in an hour: each 201" 10 "$ok"
before=$(counts)
variant postfix_direct.eml flood11 flood11.eml
report "$RKEY" flood11.eml
check_eq "the eleventh: 429" 429 "$STATUS"
retry=$(header Retry-After)
check_match "...with Retry-After until the hour ends ($retry)" '^[0-9]+$' "$retry"
[ "${retry:-0}" -ge 1 ] && [ "${retry:-0}" -le 3600 ] && tl_ok "...between 1 and 3600 s" || tl_fail "...between 1 and 3600 s" "$retry"
check_match "...and says why" '10 reports this hour, the most a reporter may send \(report_max_per_hour\)' "$(body)"
check_eq "...nothing written" "$before" "$(counts)"
report "$RKEY" flood3.eml
check_eq "a message sent before is still answered past the limit: 200" "200 True" "$STATUS $(jget duplicate)"

echo "# a commit that fails: 503 with Retry-After, nothing acknowledged or stored"
before=$(counts)
echo fail-commit >"$HOOKS"
variant gmail.eml failed failed.eml
report "$AKEY" failed.eml
check_eq "the report's commit fails: 503" 503 "$STATUS"
check_eq "...Retry-After" 5 "$(header Retry-After)"
check_match "...says it was not stored" '"error": "not stored: ' "$(body)"
check_eq "...and no id is given" "" "$(jget id)"
feed '[{"ip": "193.0.2.77"}, {"ip": "193.0.2.78"}]'
check_eq "the feed's commit fails: 503" "503 5" "$STATUS $(header Retry-After)"
: >"$HOOKS"
check_eq "...nothing was stored" "$before" "$(counts)"
report "$AKEY" failed.eml
check_eq "once commits work, the same message is taken: 201, no duplicate" "201 False" "$STATUS $(jget duplicate)"
feed '[{"ip": "193.0.2.77"}, {"ip": "193.0.2.78"}]'
check_eq "...and so are the hits" "201 2" "$STATUS $(jget stored)"

echo "# the answer comes after the commit, not a moment before"
# The service is held between the commit and the acknowledgement (a test hook): the report is
# in the store, and its client still waits.
known=$(tl_db 'SELECT count(*) FROM reports')
echo hold-after-commit >"$HOOKS"
variant gmail.eml held held.eml
curl -s --max-time $((60 * TL_SLOW)) -o "$TL_TMP/held.b" -w '%{http_code}' -H "Authorization: Bearer $AKEY" \
	--data-binary @held.eml "$U/api/v1/reports" >"$TL_TMP/held.status" &
client=$!
for _ in $(seq 1 $((100 * TL_SLOW))); do
	[ -e "$HOOKS.hold-after-commit" ] && break
	sleep 0.05
done
check_cmd "the writer reached the point between commit and acknowledgement" test -e "$HOOKS.hold-after-commit"
sleep 0.3
if kill -0 "$client" 2>/dev/null; then
	tl_ok "...and the client still waits for its answer"
else
	tl_fail "...and the client still waits for its answer" "it got $(cat "$TL_TMP/held.status"): $(cat "$TL_TMP/held.b")"
fi
check_eq "...while the report is committed already" $((known + 1)) "$(tl_db 'SELECT count(*) FROM reports')"
: >"$HOOKS"
wait "$client"
check_eq "...and once released it is answered 201" 201 "$(cat "$TL_TMP/held.status")"

echo "# a removed reporter's key no longer works; what it sent stays"
run_ok tl reporter remove acme --why "test done"
report "$AKEY" keys.eml
check_eq "its key: 401, the same answer as any wrong key" "401 $first" "$STATUS $(body)"
req GET "/api/v1/reports/$ID1" "$AKEY"
check_eq "...also to fetch its reports" 401 "$STATUS"
check_eq "its reports stay" 1 "$(tl_db "SELECT count(*) FROM reports WHERE id = '$ID1'")"
check_nomatch "the log never shows a key" "${AKEY#tlr_}|${FKEY#tlf_}" "$(cat "$TL_LAST_LOG")"
tl_stop
tl_finish
