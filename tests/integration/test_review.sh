#!/usr/bin/env bash
# test_review.sh - review requests and moderation through the real service, driven by curl and
# the command line: a request filed from a listed address's lookup page, its ticket page, the
# moderators' queue behind a login, decisions through the writer into DNS and the audit log.
# Then every attack of issue 14, each refused with a 4xx and nothing written (the tables
# counted before and after): markup in every field, forms without or with a wrong token,
# another requester's ticket without its link, a login brute force locked out (the right
# password included), admin pages without a session, a decision replayed after logout, a
# removed moderator's cookie, oversized and malformed forms; and the rate limits per client
# and per listed address. Issue 19: text with angle brackets (a pasted bounce) is taken and shown
# escaped everywhere; requests about an address with an open ticket join it, so junk requests
# cannot lock its owner out, and the per-address limit counts decided tickets; the operator's
# own delisting closes the address's ticket, which a moderator can then no longer reject.
source "$(dirname "$0")/lib.sh"

RAW="$TL_DIR/smtpraw.py"
CONF=$TL_TMP/review.conf
cat >"$CONF" <<CONF
trap_domains = trap.example
smtp_proxy_trusted = 127.0.0.2/32
review_per_client_day = 4
review_per_ip_day = 2
review_text_max = 1000
review_form_max = 4096
moderator_lockout_failures = 3
moderator_lockout_minutes = 15
CONF
TL_HTTP=1 tl_start --config "$CONF"
tl_wait_http || tl_die "the web pages answer" "$(tail -n 20 "$TL_LAST_LOG")"
H="http://127.0.0.1:$HPORT"
tl() { "$TRAPLINE" "$@" --data "$TL_DATA"; }
C() { curl -s --max-time $((10 * TL_SLOW)) "$@"; }
code() { C -o /dev/null -w '%{http_code}' "$@"; }
# What a refusal must leave as it was: every table the review path writes.
counts() {
	tl_db "SELECT (SELECT count(*) FROM tickets) || ' tickets, ' ||
	              (SELECT count(*) FROM ticket_events) || ' events, ' ||
	              (SELECT count(*) FROM audit) || ' audit, ' ||
	              (SELECT count(*) FROM actions) || ' actions, ' ||
	              (SELECT count(*) FROM exclusions) || ' exclusions, ' ||
	              (SELECT count(*) FROM sessions) || ' sessions, ' ||
	              (SELECT count(*) FROM sessions WHERE ended_at = 0) || ' live, ' ||
	              (SELECT count(*) FROM moderators) || ' moderators'"
}
# refused NAME WANT_CODE GOT_CODE BEFORE: the code, and nothing written.
refused() {
	check_eq "$1: $2" "$2" "$3"
	check_eq "$1: nothing written" "$4" "$(counts)"
}

# Two trap hits (from behind a trusted proxy, with a To: naming the trap) list an address.
hit() {
	timeout $((20 * TL_SLOW)) python3 "$RAW" "$SMTP_PORT" --src 127.0.0.2 --timeout $((3 * TL_SLOW)) \
		"proxy1:$1" read 'send:EHLO spam.example\r\nMAIL FROM:<x@spam.example>\r\nRCPT TO:<jane@trap.example>\r\nDATA\r\n' \
		read:4 'send:From: x@spam.example\r\nTo: jane@trap.example\r\nCc: Joe <joe@trap.example>\r\nSubject: cheap watches\r\n\r\nbuy\r\n.\r\n' \
		read 'send:QUIT\r\n' drain >/dev/null 2>&1
}
for ip in 193.0.2.10 193.0.2.11 193.0.2.12 193.0.2.13 193.0.2.14; do
	hit $ip
	hit $ip
done
check_ip_a "trap hits list 193.0.2.10" 193.0.2.10 127.0.0.2
check_ip_a "and 193.0.2.13" 193.0.2.13 127.0.0.2

# token JAR IP: the review form's token on IP's lookup page, the cookie in JAR.
token() { C -c "$1" -b "$1" "$H/lookup?ip=$2" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4; }
# review JAR [curl --data options...]: POSTs a request; prints the status code.
review() {
	local jar=$1
	shift
	C -o "$TL_TMP/last.html" -D "$TL_TMP/last.head" -w '%{http_code}' -c "$jar" -b "$jar" "$@" "$H/review"
}

# ---- the form, a request, its page -------------------------------------------------------------
page=$(C -c "$TL_TMP/a.jar" -b "$TL_TMP/a.jar" "$H/lookup?ip=193.0.2.10")
check_match "a listed address's lookup page has the review form" '<form class="review" action="/review" method="post">' "$page"
check_match "with a token" 'name="csrf_token" value="[0-9a-f]{80}"' "$page"
check_match "and a SameSite=Strict HttpOnly cookie for it" 'tl_csrf' "$(cat "$TL_TMP/a.jar")"
check_match "the cookie is HttpOnly" '#HttpOnly_127\.0\.0\.1.*tl_csrf' "$(cat "$TL_TMP/a.jar")"
head=$(C -D - -o /dev/null "$H/lookup?ip=193.0.2.10")
check_match "Set-Cookie: SameSite=Strict, HttpOnly, no Secure over http" '^Set-Cookie: tl_csrf=[0-9a-f]{32}; Path=/; Max-Age=86400; HttpOnly; SameSite=Strict.$' "$head"
check_match "the CSP lets a form post to this site only" "form-action 'self'" "$head"
check_nomatch "an unlisted address's page has none" 'action="/review"' "$(C "$H/lookup?ip=199.51.100.99")"
check_eq "GET /review: 405" "405" "$(code "$H/review")"

before=$(counts)
T=$(token "$TL_TMP/a.jar" 193.0.2.10)
st=$(review "$TL_TMP/a.jar" --data-urlencode ip=193.0.2.10 --data-urlencode email=pm@example.org \
	--data-urlencode "fixed=The contact form sent spam; removed it." \
	--data-urlencode "comment=He said \"a & b\" 'quoted' <3" --data-urlencode "csrf_token=$T")
check_eq "a request is filed: 303" "303" "$st"
loc=$(grep -i '^Location:' "$TL_TMP/last.head" | tr -d '\r' | cut -d' ' -f2)
check_match "to its ticket's page" '^/ticket/[0-9a-f]{32}$' "$loc"
A=${loc#/ticket/}
check_eq "one ticket and its first event are written" "1|1|193.0.2.10|open" \
	"$(tl_db "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_events), '193.0.2.10', status FROM tickets" | sed 's/|0$/|open/')"
tpage=$(C "$H$loc")
check_match "the ticket page says it waits for a moderator" 'Waiting for a moderator' "$tpage"
check_match "what was fixed is shown" 'The contact form sent spam; removed it\.' "$tpage"
check_match "quotes, ampersands and '<' are escaped" '&quot;a &amp; b&quot; &#39;quoted&#39; &lt;3' "$tpage"
check_nomatch "and never shown raw" '"a & b"' "$tpage"
check_eq "the ticket page is never cached" "no-store" \
	"$(C -D - -o /dev/null "$H$loc" | tr -d '\r' | sed -n 's/^Cache-Control: //p')"

# ---- another requester's ticket without its link ----------------------------------------------------
before=$(counts)
check_eq "a made-up ticket id: 404" "404" "$(code "$H/ticket/0123456789abcdef0123456789abcdef")"
other=${A%?}$( [ "${A: -1}" = 0 ] && echo 1 || echo 0)
check_eq "the link with one digit changed: 404" "404" "$(code "$H/ticket/$other")"
check_eq "a prefix of the link: 404" "404" "$(code "$H/ticket/${A:0:16}")"
check_eq "the link in capitals: 404" "404" "$(code "$H/ticket/${A^^}")"
check_eq "a path below the link: 404" "404" "$(code "$H/ticket/$A/x")"
check_eq "the moderators' page of it without a session: 403" "403" "$(code "$H/admin/ticket/$A")"
check_nomatch "which shows nothing of it" "$A|pm@example\.org" "$(C "$H/admin/ticket/$A")"
check_nomatch "the home and lookup pages never name a ticket" "$A" "$(C "$H/"; C "$H/lookup?ip=193.0.2.10")"
check_eq "nothing written by looking" "$before" "$(counts)"

# ---- forms without or with a wrong token -------------------------------------------------------------
FORM=(--data-urlencode ip=193.0.2.11 --data-urlencode email=pm@example.org --data-urlencode "fixed=fixed it")
before=$(counts)
T=$(token "$TL_TMP/a.jar" 193.0.2.11)
refused "no token" 403 "$(review "$TL_TMP/a.jar" "${FORM[@]}")" "$before"
refused "an empty token" 403 "$(review "$TL_TMP/a.jar" "${FORM[@]}" --data-urlencode csrf_token=)" "$before"
bad=${T%?}$( [ "${T: -1}" = 0 ] && echo 1 || echo 0)
refused "a token with one digit changed" 403 "$(review "$TL_TMP/a.jar" "${FORM[@]}" --data-urlencode "csrf_token=$bad")" "$before"
T2=$(token "$TL_TMP/b.jar" 193.0.2.11)
refused "another browser's token" 403 "$(review "$TL_TMP/a.jar" "${FORM[@]}" --data-urlencode "csrf_token=$T2")" "$before"
refused "a token without its cookie" 403 \
	"$(C -o /dev/null -w '%{http_code}' "${FORM[@]}" --data-urlencode "csrf_token=$T" "$H/review")" "$before"
T12=$(token "$TL_TMP/a.jar" 193.0.2.12)
refused "a token made for another address" 403 "$(review "$TL_TMP/a.jar" "${FORM[@]}" --data-urlencode "csrf_token=$T12")" "$before"
refused "a right token from another site (Origin)" 403 \
	"$(review "$TL_TMP/a.jar" -H 'Origin: http://evil.example' "${FORM[@]}" --data-urlencode "csrf_token=$T")" "$before"
refused "a right token from another site on https (Origin)" 403 \
	"$(review "$TL_TMP/a.jar" -H 'Origin: https://evil.example' "${FORM[@]}" --data-urlencode "csrf_token=$T")" "$before"
refused "Origin: null (a sandboxed frame, or our own page under no-referrer) and no token" 403 \
	"$(review "$TL_TMP/a.jar" -H 'Origin: null' "${FORM[@]}")" "$before"
refused "two tl_csrf cookies" 403 \
	"$(C -o /dev/null -w '%{http_code}' -b "tl_csrf=$(grep tl_csrf "$TL_TMP/a.jar" | awk '{print $7}'); tl_csrf=0123456789abcdef0123456789abcdef" \
		"${FORM[@]}" --data-urlencode "csrf_token=$T" "$H/review")" "$before"
check_match "the refusal says the form expired, in a page" 'The form has expired' "$(cat "$TL_TMP/last.html")"

# ---- HTML and script in every field: refused where it cannot be, text where it can -------------------
X='<script>alert(1)</script>'
inj() { # inj FIELD VALUE: the form with FIELD replaced
	local f v args=()
	for f in ip email fixed comment; do
		case $f in ip) v=193.0.2.11 ;; email) v=pm@example.org ;; fixed) v="fixed it" ;; comment) v="" ;; esac
		[ "$f" = "$1" ] && v=$2
		args+=(--data-urlencode "$f=$v")
	done
	review "$TL_TMP/a.jar" "${args[@]}" --data-urlencode "csrf_token=$T"
}
before=$(counts)
refused "markup as the address" 403 "$(inj ip "$X")" "$before"
refused "markup as the e-mail address" 400 "$(inj email "$X@example.org")" "$before"
check_match "the form comes back saying what is wrong, in plain words" \
	'Your e-mail address</strong> holds &quot;&lt;&quot;, which cannot be in an e-mail address\.' "$(cat "$TL_TMP/last.html")"
check_nomatch "never that an e-mail address is not an e-mail address" 'is not an e-mail address' "$(cat "$TL_TMP/last.html")"
check_nomatch "and what was typed is shown escaped, never as markup" '<script>alert' "$(cat "$TL_TMP/last.html")"
check_match "escaped" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "$(cat "$TL_TMP/last.html")"
refused "markup after the e-mail address" 400 "$(inj email "pm@example.org\"><script>alert(1)</script>")" "$before"
refused "an e-mail address without a domain" 400 "$(inj email "pm")" "$before"
check_match "...says it needs one @" 'Your e-mail address</strong> needs one @ between the name and the domain, like name@example\.org' "$(cat "$TL_TMP/last.html")"
refused "markup as the token" 403 "$(review "$TL_TMP/a.jar" "${FORM[@]}" --data-urlencode "csrf_token=$X")" "$before"
# A pasted bounce, and text that looks like markup, are text: taken, and shown escaped.
BOUNCE='550 5.1.1 <user@example.org>: Recipient address rejected: User unknown'
HOSTILE='<script>alert(1)</script><img src=x onerror=alert(1)></textarea><!-- x -->'
T7=$(C --interface 127.0.0.7 -c "$TL_TMP/x.jar" -b "$TL_TMP/x.jar" "$H/lookup?ip=193.0.2.11" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)
st=$(C -o "$TL_TMP/last.html" -D "$TL_TMP/last.head" -w '%{http_code}' --interface 127.0.0.7 -c "$TL_TMP/x.jar" -b "$TL_TMP/x.jar" \
	--data-urlencode ip=193.0.2.11 --data-urlencode email=noc@example.net --data-urlencode "fixed=$BOUNCE" \
	--data-urlencode "comment=$HOSTILE" --data-urlencode "csrf_token=$T7" "$H/review")
check_eq "a pasted bounce with <angle brackets>, and markup in the comment: taken (303)" 303 "$st"
X11=$(grep -i '^Location:' "$TL_TMP/last.head" | tr -d '\r' | cut -d' ' -f2)
X11=${X11#/ticket/}
check_eq "stored as typed" "$BOUNCE" "$(tl_db "SELECT fixed FROM tickets WHERE id = '$X11'")"
tpage=$(C "$H/ticket/$X11")
check_match "the ticket page shows the bounce, escaped" '550 5\.1\.1 &lt;user@example\.org&gt;: Recipient address rejected' "$tpage"
check_match "and the comment, escaped" '&lt;script&gt;alert\(1\)&lt;/script&gt;&lt;img src=x onerror=alert\(1\)&gt;&lt;/textarea&gt;&lt;!-- x --&gt;' "$tpage"
check_nomatch "never as markup" '<script>alert|<img src=x|</textarea><!--' "$tpage"

# ---- oversized and malformed forms ------------------------------------------------------------------
before=$(counts)
long=$(head -c 1001 /dev/zero | tr '\0' x)
refused "what was fixed over review_text_max" 400 "$(inj fixed "$long")" "$before"
refused "an e-mail address over 254 characters" 400 "$(inj email "$(head -c 250 /dev/zero | tr '\0' a)@example.org")" "$before"
big=$(head -c 5000 /dev/zero | tr '\0' x)
refused "a body over review_form_max (Content-Length)" 413 "$(review "$TL_TMP/a.jar" --data "fixed=$big")" "$before"
refused "a chunked body over review_form_max" 413 \
	"$(review "$TL_TMP/a.jar" -H 'Transfer-Encoding: chunked' --data "fixed=$big")" "$before"
refused "a broken %-escape" 400 "$(review "$TL_TMP/a.jar" --data "ip=193.0.2.11&email=a%4&fixed=x&csrf_token=$T")" "$before"
refused "a field given twice" 400 "$(review "$TL_TMP/a.jar" "${FORM[@]}" --data-urlencode "fixed=again" --data-urlencode "csrf_token=$T")" "$before"
refused "a field the form does not have" 400 "$(review "$TL_TMP/a.jar" "${FORM[@]}" --data-urlencode "status=delisted" --data-urlencode "csrf_token=$T")" "$before"
refused "a NUL in a field" 400 "$(review "$TL_TMP/a.jar" --data "ip=193.0.2.11&email=pm%40example.org&fixed=a%00b&csrf_token=$T")" "$before"
refused "bytes that are not UTF-8" 400 "$(review "$TL_TMP/a.jar" --data "ip=193.0.2.11&email=pm%40example.org&fixed=caf%E9&csrf_token=$T")" "$before"
refused "a control character" 400 "$(review "$TL_TMP/a.jar" --data "ip=193.0.2.11&email=pm%40example.org&fixed=a%1Bb&csrf_token=$T")" "$before"
refused "no e-mail address" 400 "$(review "$TL_TMP/a.jar" --data "ip=193.0.2.11&fixed=x&csrf_token=$T")" "$before"
refused "a multipart form" 415 "$(review "$TL_TMP/a.jar" -F ip=193.0.2.11 -F email=pm@example.org -F fixed=x -F "csrf_token=$T")" "$before"
refused "JSON" 415 "$(review "$TL_TMP/a.jar" -H 'Content-Type: application/json' --data '{"ip":"193.0.2.11"}')" "$before"
refused "a form POSTed to a page that takes none" 405 "$(C -o /dev/null -w '%{http_code}' --data x=1 "$H/lookup")" "$before"
refused "a form to an unknown path" 405 "$(C -o /dev/null -w '%{http_code}' --data x=1 "$H/nothing")" "$before"
refused "an encoded control byte in the path" 400 "$(C -o /dev/null -w '%{http_code}' --data x=1 "$H/review%00")" "$before"

# ---- rate limits: one open ticket per address, per client; junk cannot lock the owner out ---------
before=$(counts)
T=$(token "$TL_TMP/a.jar" 193.0.2.10)
st=$(review "$TL_TMP/a.jar" --data-urlencode ip=193.0.2.10 --data-urlencode email=other@example.org \
	--data-urlencode "fixed=second request" --data-urlencode "csrf_token=$T")
check_eq "a second request about 193.0.2.10: 303" "303" "$st"
A2=$(grep -i '^Location:' "$TL_TMP/last.head" | tr -d '\r' | cut -d' ' -f2)
A2=${A2#/ticket/}
check_eq "it joined the open ticket" "$A" "$(tl_db "SELECT joined FROM tickets WHERE id = '$A2'")"
check_match "its page says it was added to the open request" 'id="joined">A request about this address was already open' "$(C "$H/ticket/$A2")"
check_nomatch "and names neither the other request nor its requester" "$A|pm@example\.org|The contact form" "$(C "$H/ticket/$A2")"
check_match "the form on the lookup page says a request is open, and that a new one joins it" \
	'id="open-ticket">A review request about this address is already open' "$(C -b "$TL_TMP/a.jar" "$H/lookup?ip=193.0.2.10")"
# Junk from three more clients (review_per_ip_day = 2): each joins; the owner can still ask.
for n in 3 4 5; do
	T=$(C --interface 127.0.0.$n -c "$TL_TMP/j$n.jar" -b "$TL_TMP/j$n.jar" "$H/lookup?ip=193.0.2.10" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)
	st=$(C -o /dev/null -w '%{http_code}' --interface 127.0.0.$n -c "$TL_TMP/j$n.jar" -b "$TL_TMP/j$n.jar" \
		--data-urlencode ip=193.0.2.10 --data-urlencode email=junk$n@example.org --data-urlencode "fixed=junk $n" \
		--data-urlencode "csrf_token=$T" "$H/review")
	check_eq "junk request $n about 193.0.2.10, from another client: joins (303)" "303" "$st"
done
T=$(C --interface 127.0.0.6 -c "$TL_TMP/o.jar" -b "$TL_TMP/o.jar" "$H/lookup?ip=193.0.2.10" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)
st=$(C -o /dev/null -w '%{http_code}' --interface 127.0.0.6 -c "$TL_TMP/o.jar" -b "$TL_TMP/o.jar" \
	--data-urlencode ip=193.0.2.10 --data-urlencode email=owner@example.org --data-urlencode "fixed=the owner: relay closed" \
	--data-urlencode "csrf_token=$T" "$H/review")
check_eq "then the owner's request: not locked out (303)" "303" "$st"
check_eq "one open ticket about 193.0.2.10, with six requests" "1|5" \
	"$(tl_db "SELECT count(*), (SELECT count(*) FROM tickets WHERE joined = '$A') FROM tickets WHERE joined = '' AND status = 0 AND id = '$A'")"
for ip in 193.0.2.11 193.0.2.12; do
	T=$(token "$TL_TMP/a.jar" $ip)
	st=$(review "$TL_TMP/a.jar" --data-urlencode ip=$ip --data-urlencode email=pm@example.org \
		--data-urlencode "fixed=fixed $ip" --data-urlencode "csrf_token=$T")
	check_eq "a request about $ip: 303" "303" "$st"
done
before=$(counts)
T=$(token "$TL_TMP/a.jar" 193.0.2.13)
refused "a fifth request from one client in a day (review_per_client_day = 4)" 429 \
	"$(review "$TL_TMP/a.jar" --data-urlencode ip=193.0.2.13 --data-urlencode email=pm@example.org \
		--data-urlencode "fixed=x" --data-urlencode "csrf_token=$T")" "$before"
check_match "with Retry-After" '^Retry-After: [0-9]+' "$(tr -d '\r' <"$TL_TMP/last.head")"
st=$(C -o /dev/null -w '%{http_code}' --interface 127.0.0.3 -c "$TL_TMP/c.jar" -b "$TL_TMP/c.jar" \
	--data-urlencode ip=193.0.2.13 --data-urlencode email=pm@example.org --data-urlencode "fixed=from elsewhere" \
	--data-urlencode "csrf_token=$(C --interface 127.0.0.3 -c "$TL_TMP/c.jar" -b "$TL_TMP/c.jar" "$H/lookup?ip=193.0.2.13" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)" "$H/review")
check_eq "another client may still ask about 193.0.2.13" "303" "$st"
T=$(token "$TL_TMP/a.jar" 199.51.100.99)
check_eq "an unlisted address has no form to take a token from" "" "$T"

# ---- moderators --------------------------------------------------------------------------------------
PW='correct horse battery staple'
for m in alice bob carol; do
	printf '%s-%s\n' "$PW" "$m" | tl moderator add $m >/dev/null || tl_fail "moderator add $m"
done
check_eq "three moderators" "alice bob carol" "$(tl moderator list | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')"
check_match "the store keeps an argon2id string, never the password" '^\$argon2id\$v=19\$m=65536,t=2,p=1\$' "$(tl_db "SELECT pw_hash FROM moderators WHERE name = 'alice'")"
check_eq "no password in the store or the log" "0" "$( (tl_db "SELECT * FROM moderators"; cat "$TL_LAST_LOG") | grep -c "$PW")"
out=$(printf 'short\n' | tl moderator add dave 2>&1)
check_match "a short password is refused" '12 to 1024 characters' "$out"
out=$(printf '%s\n' "$PW" | tl moderator add alice 2>&1; echo "rc=$?")
check_match "a name taken: exit 2" 'exists already.*rc=2' "$(echo $out)"

# ---- admin pages without a session ----------------------------------------------------------------------
before=$(counts)
for p in /admin/ /admin "/admin/?all=1" "/admin/ticket/$A"; do
	refused "GET $p without a session" 403 "$(code "$H$p")" "$before"
done
refused "a decision without a session" 403 "$(code --data "action=delist&reason=x&csrf_token=0" "$H/admin/ticket/$A")" "$before"
refused "a decision with a made-up session cookie" 403 \
	"$(code -b "tl_session=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" --data "action=delist&reason=x&csrf_token=0" "$H/admin/ticket/$A")" "$before"
refused "logout without a session" 403 "$(code --data "csrf_token=0" "$H/admin/logout")" "$before"
check_match "the refusal is the login form" 'action="/admin/login"' "$(C "$H/admin/")"

# login JAR NAME PASSWORD [curl options...]: prints the status code.
login() {
	local jar=$1 name=$2 pw=$3
	shift 3
	local lt
	lt=$(C "$@" -c "$jar" -b "$jar" "$H/admin/login" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)
	C "$@" -o "$TL_TMP/last.html" -D "$TL_TMP/last.head" -w '%{http_code}' -c "$jar" -b "$jar" \
		--data-urlencode "username=$name" --data-urlencode "password=$pw" --data-urlencode "csrf_token=$lt" "$H/admin/login"
}

# ---- login brute force: locked out, the right password included ------------------------------------
before=$(counts)
refused "a login without a token" 403 "$(code --data-urlencode username=carol --data-urlencode "password=$PW-carol" "$H/admin/login")" "$before"
for i in 1 2 3; do
	refused "carol, wrong password $i" 403 "$(login "$TL_TMP/m.jar" carol "guess $i guess guess" --interface 127.0.0.2)" "$before"
done
refused "carol's fourth login, the right password: locked" 429 "$(login "$TL_TMP/m.jar" carol "$PW-carol" --interface 127.0.0.2)" "$before"
check_match "locked: with Retry-After" '^Retry-After: [0-9]+' "$(tr -d '\r' <"$TL_TMP/last.head")"
check_match "and says so" 'Too many failed logins' "$(cat "$TL_TMP/last.html")"
refused "carol from another address: still locked (the name)" 429 "$(login "$TL_TMP/m2.jar" carol "$PW-carol" --interface 127.0.0.4)" "$before"
refused "bob from the guessing address: locked (the client)" 429 "$(login "$TL_TMP/m3.jar" bob "$PW-bob" --interface 127.0.0.2)" "$before"
refused "an unknown name is refused like a wrong password" 403 "$(login "$TL_TMP/m4.jar" nobody "$PW" --interface 127.0.0.5)" "$before"
check_match "failed logins are logged" 'login failed name="carol" client=127\.0\.0\.2' "$(cat "$TL_LAST_LOG")"

# ---- alice logs in, sees the request, delists ------------------------------------------------------------
st=$(login "$TL_TMP/alice.jar" alice "$PW-alice")
check_eq "alice logs in: 303" "303" "$st"
sc=$(tr -d '\r' <"$TL_TMP/last.head" | grep '^Set-Cookie: tl_session=')
check_match "the session cookie: random, HttpOnly, SameSite=Strict, for /admin only" '^Set-Cookie: tl_session=[0-9a-f]{64}; Path=/admin; Max-Age=43200; HttpOnly; SameSite=Strict$' "$sc"
check_eq "one live session, stored as a hash" "1|32" "$(tl_db "SELECT count(*), length(token_hash) FROM sessions WHERE ended_at = 0")"
tok=$(echo "$sc" | sed 's/^Set-Cookie: tl_session=\([0-9a-f]*\);.*/\1/')
check_eq "the token itself is nowhere in the store" "0" "$(tl_db "SELECT count(*) FROM sessions WHERE hex(token_hash) = upper('$tok')")"
q=$(C -b "$TL_TMP/alice.jar" "$H/admin/")
check_match "the queue lists the open requests" "data-ticket=\"$A\" data-status=\"open\"" "$q"
check_eq "four waiting: one ticket an address" "4" "$(printf '%s\n' "$q" | grep -c 'data-status="open"')"
check_match "193.0.2.10's with its six requests" 'data-requests="6">6 requests<' "$q"
tp=$(C -b "$TL_TMP/alice.jar" "$H/admin/ticket/$A")
check_match "the request with its e-mail address" 'pm@example\.org' "$tp"
check_match "and every request that joined it: five more" 'id="joined-h">5 more requests about this address' "$tp"
check_match "the owner's among them" 'class="joined-email">owner@example\.org<' "$tp"
check_match "with what each says" 'the owner: relay closed' "$tp"
check_eq "a joined request's page for moderators is its ticket's" "303 /admin/ticket/$A" \
	"$(C -o /dev/null -w '%{http_code} %{redirect_url}' -b "$TL_TMP/alice.jar" "$H/admin/ticket/$A2" | sed "s#http://127.0.0.1:$HPORT##")"
tx=$(C -b "$TL_TMP/alice.jar" "$H/admin/ticket/$X11")
check_match "the moderators' page shows the pasted bounce escaped" '550 5\.1\.1 &lt;user@example\.org&gt;' "$tx"
check_nomatch "...and the markup never as markup" '<script>alert|<img src=x' "$tx"
check_match "the evidence summary" 'id="evidence-summary" data-reason="traps"><strong>Listed</strong> since' "$tp"
check_match "the counts" 'id="traps-7d">2<' "$tp"
check_match "the trap classes" 'id="trap-classes">Trap hits counted by class:.*spam 2' "$(echo $tp)"
check_match "sample headers with the trap addresses masked" 'To: \*\*\*@trap\.example' "$tp"
check_match "every one of them" 'Cc: Joe &lt;\*\*\*@trap\.example&gt;' "$tp"
check_nomatch "never a trap address" 'jane@trap|joe@trap' "$tp"
check_match "the HELO and the envelope sender" 'HELO <code>spam\.example</code>, MAIL FROM <code>x@spam\.example</code>' "$tp"
AT=$(printf '%s\n' "$tp" | grep -A1 'class="decide"' | grep -o 'value="[0-9a-f]*"' | cut -d'"' -f2)
BARTOK=$(printf '%s\n' "$tp" | grep -A1 'class="logout"' | grep -o 'value="[0-9a-f]*"' | cut -d'"' -f2)
decide() { # decide JAR ID [curl --data options...]: prints the status code
	local jar=$1 id=$2
	shift 2
	C -o "$TL_TMP/last.html" -D "$TL_TMP/last.head" -w '%{http_code}' -b "$jar" "$@" "$H/admin/ticket/$id"
}
before=$(counts)
refused "a decision without a token" 403 "$(decide "$TL_TMP/alice.jar" "$A" --data "action=delist&reason=x")" "$before"
# ticket ADDRESS: the id of the open request about ADDRESS.
ticket() { tl review list --json | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin) if t["ip"]==sys.argv[1]][0])' "$1"; }
B=$(ticket 193.0.2.11)
refused "a token made for another request" 403 "$(decide "$TL_TMP/alice.jar" "$B" --data "action=delist&reason=x&csrf_token=$AT")" "$before"
refused "the logout token as a decision's" 403 "$(decide "$TL_TMP/alice.jar" "$A" --data "action=delist&reason=x&csrf_token=$BARTOK")" "$before"
refused "an action there is not" 400 "$(decide "$TL_TMP/alice.jar" "$A" --data "action=explode&reason=x&csrf_token=$AT")" "$before"
refused "no reason" 400 "$(decide "$TL_TMP/alice.jar" "$A" --data "action=delist&reason=+&csrf_token=$AT")" "$before"
refused "an exclusion of 0 days" 400 "$(decide "$TL_TMP/alice.jar" "$A" --data "action=exclude&days=0&reason=x&csrf_token=$AT")" "$before"
refused "an exclusion of 3651 days" 400 "$(decide "$TL_TMP/alice.jar" "$A" --data "action=exclude&days=3651&reason=x&csrf_token=$AT")" "$before"
refused "a decision from another site" 403 "$(decide "$TL_TMP/alice.jar" "$A" -H 'Origin: http://evil.example' --data "action=delist&reason=x&csrf_token=$AT")" "$before"
refused "a decision on a request nobody filed" 403 "$(decide "$TL_TMP/alice.jar" 0123456789abcdef0123456789abcdef --data "action=delist&reason=x&csrf_token=$AT")" "$before"

st=$(decide "$TL_TMP/alice.jar" "$A" --data-urlencode action=delist --data-urlencode "reason=The form is gone; evidence stopped." --data-urlencode "csrf_token=$AT")
check_eq "alice delists: 303" "303" "$st"
check_ip_nx "193.0.2.10 is gone from DNS" 193.0.2.10
check_match "the audit log has it, with the ticket and the moderator" \
	"delist 193\.0\.2\.10 who=\"moderator:alice\" why=\"ticket $A: The form is gone; evidence stopped\.\"" "$(tl audit)"
tpage=$(C "$H/ticket/$A")
check_match "the ticket page shows the delisting" 'Delisted</span> 193\.0\.2\.10 was delisted' "$tpage"
check_match "and the moderator's reason" 'The form is gone; evidence stopped\.' "$tpage"
check_nomatch "but not the moderator's name" 'alice' "$tpage"
check_match "and says the list's operators delisted it, in answer to the request" "The list's operators delisted the address on .*in answer to this request" "$(echo $tpage)"
tpage=$(C "$H/ticket/$A2")
check_match "the request that joined it shows the same decision" 'Delisted</span> 193\.0\.2\.10 was delisted' "$tpage"
check_match "with its history: filed, joined, delisted" 'data-what="filed".*data-what="joined".*data-what="delist"' "$(echo $tpage)"
check_eq "every request of the ticket is decided with it" "6 delisted" \
	"$(tl_db "SELECT count(*) || ' delisted' FROM tickets WHERE (id = '$A' OR joined = '$A') AND status = 1")"
before=$(counts)
refused "the same decision again (replayed)" 409 "$(decide "$TL_TMP/alice.jar" "$A" --data-urlencode action=reject --data-urlencode "reason=again" --data-urlencode "csrf_token=$AT")" "$before"

# ---- a decision replayed after logout ------------------------------------------------------------------
tpB=$(C -b "$TL_TMP/alice.jar" "$H/admin/ticket/$B")
BT=$(printf '%s\n' "$tpB" | grep -A1 'class="decide"' | grep -o 'value="[0-9a-f]*"' | cut -d'"' -f2)
BAR=$(printf '%s\n' "$tpB" | grep -A1 'class="logout"' | grep -o 'value="[0-9a-f]*"' | cut -d'"' -f2)
cp "$TL_TMP/alice.jar" "$TL_TMP/alice-old.jar"
before=$(counts)
refused "logout without its token" 403 "$(C -o /dev/null -w '%{http_code}' -b "$TL_TMP/alice.jar" --data "csrf_token=$BT" "$H/admin/logout")" "$before"
st=$(C -o /dev/null -D "$TL_TMP/last.head" -w '%{http_code}' -b "$TL_TMP/alice.jar" -c "$TL_TMP/alice.jar" --data "csrf_token=$BAR" "$H/admin/logout")
check_eq "alice logs out: 303" "303" "$st"
check_match "the cookie is cleared" '^Set-Cookie: tl_session=; Path=/admin; Max-Age=0' "$(tr -d '\r' <"$TL_TMP/last.head")"
check_eq "her session has ended" "0" "$(tl_db "SELECT count(*) FROM sessions WHERE ended_at = 0")"
before=$(counts)
refused "her decision replayed with the old cookie and token" 403 \
	"$(decide "$TL_TMP/alice-old.jar" "$B" --data-urlencode action=delist --data-urlencode reason=replay --data-urlencode "csrf_token=$BT")" "$before"
refused "the queue with the old cookie" 403 "$(code -b "$TL_TMP/alice-old.jar" "$H/admin/")" "$before"
check_ip_a "the replayed decision changed nothing in DNS" 193.0.2.11 127.0.0.2

# ---- a removed moderator's cookie --------------------------------------------------------------------------
check_eq "bob logs in (from an unlocked address)" "303" "$(login "$TL_TMP/bob.jar" bob "$PW-bob" --interface 127.0.0.6)"
# A user report whose source is 193.0.2.12: the moderator sees its Received chain as the
# analysis read it (issue 15), with what the sender wrote escaped.
printf 'mx.reporter.example\n' >"$TL_TMP/relays"
printf 'Received: from evil<b>x</b>.example (unknown [193.0.2.12])\n\tby mx.reporter.example (Postfix) with ESMTP id 4AB1\n\tfor <user@reporter.example>; Wed, 2 Dec 2026 08:00:00 +0000\nReceived: from trusted.reporter.example ([199.51.100.77])\n\tby 193.0.2.12 with SMTP; Wed, 2 Dec 2026 07:59:00 +0000\nFrom: a@spam.example\nTo: user@reporter.example\nSubject: cheap\nMessage-ID: <r1@spam.example>\n\nbuy\n' >"$TL_TMP/report.eml"
check_cmd "a reporter is added" tl reporter add carol --trusted-relays "$TL_TMP/relays"
check_cmd "carol reports a message from 193.0.2.12" tl report --reporter carol "$TL_TMP/report.eml"
C12=$(ticket 193.0.2.12)
tp=$(C -b "$TL_TMP/bob.jar" "$H/admin/ticket/$C12")
check_match "bob sees the queue" 'Logged in as <strong id="moderator-name">bob' "$tp"
check_match "the request shows the user report with its source" 'source <code class="source">193\.0\.2\.12</code>' "$tp"
check_match "and why the analysis chose it" '193\.0\.2\.12 is the first peer that is not a trusted relay; it handed the message to mx\.reporter\.example' "$tp"
check_match "and each hop below, marked as ignored" '<strong>ignored</strong> <code>199\.51\.100\.77</code>' "$tp"
check_match "the HELO the sender wrote, escaped" 'HELO <code>evil&lt;b&gt;x&lt;/b&gt;\.example</code>' "$tp"
check_nomatch "never as markup" '<b>x</b>' "$tp"
CT=$(printf '%s\n' "$tp" | grep -A1 'class="decide"' | grep -o 'value="[0-9a-f]*"' | cut -d'"' -f2)
check_cmd "the operator removes bob" tl moderator remove bob --why "left the team"
before=$(counts)
refused "bob's cookie after his removal: the queue" 403 "$(code -b "$TL_TMP/bob.jar" "$H/admin/")" "$before"
refused "bob's cookie and token after his removal: a decision" 403 \
	"$(decide "$TL_TMP/bob.jar" "$C12" --data-urlencode action=delist --data-urlencode reason=late --data-urlencode "csrf_token=$CT")" "$before"
check_ip_a "193.0.2.12 stays listed" 193.0.2.12 127.0.0.2
check_eq "bob's sessions ended with him" "0" "$(tl_db "SELECT count(*) FROM sessions s JOIN moderators m ON m.id = s.moderator WHERE m.name = 'bob' AND s.ended_at = 0")"

# ---- the command line: list, show, reject, exclude ---------------------------------------------------------
js=$(tl review list --json)
check_eq "review list --json: every open ticket with id, ip and status" "3 open" \
	"$(printf '%s' "$js" | python3 -c 'import json,sys; l=json.load(sys.stdin); assert all(set(["id","ip","status"]) <= set(t) for t in l); print(len(l), " ".join(sorted(set(t["status"] for t in l))))')"
check_match "review list --all --json has the delisted one" "\"id\": \"$A\", \"ip\": \"193.0.2.10\", \"status\": \"delisted\"" "$(tl review list --all --json)"
show=$(tl review show "$C12")
check_match "review show: the request" 'fixed: "fixed 193\.0\.2\.12"' "$show"
check_match "review show: where the address stands" '^listed: yes' "$show"
check_match "review show: the masked samples" '\| To: \*\*\*@trap\.example' "$show"
check_nomatch "review show: never a trap address" 'jane@trap' "$show"
check_match "review show --json: status and trap hits" '"trap_hits": \[' "$(tl review show "$C12" --json)"
check_match "review show: the user report's chain" 'hop 1: source ip=193\.0\.2\.12 rdns= helo=evil<b>x</b>\.example' "$show"
check_eq "review show --json: the report's analysis, its source and hops" "193.0.2.12 source ignored" \
	"$(tl review show "$C12" --json | python3 -c 'import json,sys; r=json.load(sys.stdin)["reports"][0]; print(r["source_ip"], " ".join(h["verdict"] for h in r["analysis"]["hops"]))')"
out=$(tl review reject 0123456789abcdef0123456789abcdef --why x 2>&1; echo "rc=$?")
check_match "review reject of an unknown id: exit 2" 'no review request.*rc=2' "$(echo $out)"
out=$(tl review reject "$C12" --why "Still sending: 2 hits today." 2>&1)
check_match "review reject" '^rejected: 193\.0\.2\.12' "$out"
check_ip_a "a rejected request's address stays listed" 193.0.2.12 127.0.0.2
check_match "its page shows the rejection and the reason" 'Rejected</span> The listing stands.*Still sending: 2 hits today\.' "$(echo $(C "$H/ticket/$C12"))"
out=$(tl review reject "$C12" --why again 2>&1; echo "rc=$?")
check_match "a decided request cannot be decided again: exit 2" 'decided already.*rc=2' "$(echo $out)"
C11=$B
until=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
check_match "review exclude --until" '^excluded: 193\.0\.2\.11' "$(tl review exclude "$C11" --until "$until" --why "customer's relay, fixed")"
check_ip_nx "193.0.2.11 is gone from DNS" 193.0.2.11
check_match "the exclusion is of that one address, until then" "^193\.0\.2\.11/32 until=$until" "$(tl exclude list)"
check_match "its page says until when" 'Excluded</span> 193\.0\.2\.11 is excluded until' "$(C "$H/ticket/$C11")"
check_match "the audit log: review-reject and exclude with their tickets" \
	"review-reject 193\.0\.2\.12 who=\"[a-z]+:[^\"]*\" why=\"ticket $C12: Still sending.*exclude 193\.0\.2\.11/32 who=\"[a-z]+:[^\"]*\" why=\"ticket $C11: " "$(echo $(tl audit))"

# ---- the per-address limit counts decided tickets -------------------------------------------------------------
# 193.0.2.14: two tickets rejected today (review_per_ip_day = 2); a third ticket is refused.
ask14() { # ask14 N: a request about 193.0.2.14 from 127.0.0.N; prints the status code
	local t
	t=$(C --interface 127.0.0.$1 -c "$TL_TMP/r$1.jar" -b "$TL_TMP/r$1.jar" "$H/lookup?ip=193.0.2.14" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | cut -d'"' -f4)
	C -o "$TL_TMP/last.html" -D "$TL_TMP/last.head" -w '%{http_code}' --interface 127.0.0.$1 -c "$TL_TMP/r$1.jar" -b "$TL_TMP/r$1.jar" \
		--data-urlencode ip=193.0.2.14 --data-urlencode email=r$1@example.org --data-urlencode "fixed=request $1" \
		--data-urlencode "csrf_token=$t" "$H/review"
}
for n in 20 21; do
	check_eq "a request about 193.0.2.14 from 127.0.0.$n: 303" 303 "$(ask14 $n)"
	check_match "rejected from the command line" '^rejected: 193\.0\.2\.14' "$(tl review reject "$(ticket 193.0.2.14)" --why "still sending")"
done
before=$(counts)
refused "a third ticket about 193.0.2.14 after two decided today" 429 "$(ask14 22)" "$before"
check_match "...which says the moderators decided enough about it today" 'decided as many review requests about this address today' "$(cat "$TL_TMP/last.html")"

# ---- the operator's delisting answers the open ticket ----------------------------------------------------------
C13=$(ticket 193.0.2.13)
run_ok tl delist 193.0.2.13 --why "operator's own note: customer phoned"
check_ip_nx "193.0.2.13 is delisted" 193.0.2.13
check_eq "its open ticket is closed, by the operator's action" "1|1|" \
	"$(tl_db "SELECT status, by_action, reason FROM tickets WHERE id = '$C13'")"
check_match "the audit log says the delisting closed it" "review-close 193\.0\.2\.13 who=\"[a-z]+:[^\"]*\" why=\"ticket $C13: answered by the delisting\"" "$(tl audit)"
tpage=$(C "$H/ticket/$C13")
check_match "the requester's page: delisted by the list's operators, which closed it" \
	"Delisted</span> 193\.0\.2\.13 was delisted.*The list's operators delisted the address on .*while this request was waiting" "$(echo $tpage)"
check_nomatch "...without the operator's note or name" "customer phoned|cli:|ctl:|root" "$tpage"
check_nomatch "...and never that the listing stands" 'listing stands' "$tpage"
out=$(tl review reject "$C13" --why "the listing stands" 2>&1; echo "rc=$?")
check_match "a rejection afterwards is refused, saying the operator's delisting closed it" \
	"was closed at .*: the operator \([^)]*\) delisted the address, which answered it.*rc=2" "$(echo $out)"
check_match "review show says who closed it" '^closed_because: the address was delisted outside the ticket' "$(tl review show "$C13")"
check_eq "the lookup page says the list's operators delisted it, no name" "1 0" \
	"$(C "$H/lookup?ip=193.0.2.13" | grep -c "The list's operators <strong>delisted</strong>") $(C "$H/lookup?ip=193.0.2.13" | grep -c 'moderator')"

# ---- public_url https: Secure cookies ------------------------------------------------------------------------
tl_stop
printf 'public_url = https://bl.example.org\n' >>"$CONF"
TL_HTTP=1 tl_start --config "$CONF" --data "$TL_DATA"
tl_wait_http || tl_die "the web pages answer again"
H="http://127.0.0.1:$HPORT"
check_match "behind https, the cookies are Secure" '^Set-Cookie: tl_csrf=[0-9a-f]{32}; Path=/; Max-Age=86400; HttpOnly; SameSite=Strict; Secure' \
	"$(C -D - -o /dev/null "$H/admin/login" | tr -d '\r')"
check_eq "the tickets outlive a restart" "delisted" "$(tl_db "SELECT CASE status WHEN 1 THEN 'delisted' END FROM tickets WHERE id = '$A'")"
check_eq "and a form made before it is refused" "403" "$(code -b "$TL_TMP/a.jar" "${FORM[@]}" --data-urlencode "csrf_token=$T" "$H/review")"
tl_stop
tl_finish
