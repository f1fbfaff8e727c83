#!/usr/bin/env bash
# test_web.sh - the web pages and the JSON API of the real service, driven by curl and raw
# sockets: the API answers what `trapline check --json` says, every page and every answer
# carries the security headers, lookups say what the list knows (listed, not, excluded,
# delisted, held back, IPv6, bad input), the listing page shows the policy in force, the TXT
# record points at the lookup page; and every hostile input (markup, script, SQL, oversized or
# malformed requests, path traversal) is refused with a 4xx and writes nothing.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data
CLOCK=$TL_TMP/clock
CONF=$TL_TMP/web.conf
tl_mkdata "$DATA"
T0=$(date +%s)
echo "$T0" >"$CLOCK"
export TRAPLINE_TEST_CLOCK=$CLOCK
cat >"$CONF" <<CONF
public_url = https://lists.example.test
policy_threshold = 6
policy_listing = 172800
http_max_conns_per_ip = 6
http_request_max = 4096
http_timeout = 3
CONF
TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
tl_wait_http || tl_die "the web pages answer on port $HPORT" "$(tail -n 20 "$TL_LAST_LOG")"
tl_ok "the web pages answer (port $HPORT)"

cli() { "$TRAPLINE" "$@" --data "$DATA"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
ev() { cli evidence add --ip "$1" --kind "$2" --at "$(iso "$3")" ${4:+--class "$4"} >/dev/null; }

# 193.0.2.1: trap hits 3 days ago (bounces), reports today -> listed, both.
# 2a01:db8::5: two trap hits today -> listed, traps. 199.51.100.9: one report -> not listed.
ev 193.0.2.1 trap $((T0 - 3 * 86400)) bounce
ev 193.0.2.1 trap $((T0 - 3 * 86400 + 60)) bounce
ev 193.0.2.1 report $((T0 - 7200))
ev 193.0.2.1 report $((T0 - 3600))
ev 2a01:db8::5 trap $((T0 - 600)) autoreply
ev 2a01:db8::5 trap $((T0 - 300)) autoreply
ev 199.51.100.9 report $((T0 - 300))
ev 10.1.2.3 trap $((T0 - 300))
ev 10.1.2.3 trap $((T0 - 200))

# ---- the JSON API is `trapline check --json` --------------------------------------------
for ip in 193.0.2.1 2a01:db8::5 199.51.100.9 10.1.2.3 204.0.113.77; do
	api=$(tl_http "/api/v1/lookup/$ip")
	cli_json=$(cli check "$ip" --json)
	same=$(python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print("same" if a==b else "differ")' "$api" "$cli_json" 2>&1)
	check_eq "GET /api/v1/lookup/$ip is the JSON of trapline check --json" same "$same"
done
check_eq "the API's content type" "application/json" \
	"$(tl_http /api/v1/lookup/193.0.2.1 -o /dev/null -w '%{content_type}')"
check_match "the API for a listed address" '"reason": "both"' "$(tl_http /api/v1/lookup/193.0.2.1)"
check_eq "the API refuses a bad address with 400" 400 "$(tl_http_status /api/v1/lookup/nonsense)"
check_match "... and says why, as JSON" '"error": "not an IPv4 or IPv6 address"' "$(tl_http /api/v1/lookup/nonsense)"
check_eq "the API for a range: 400" 400 "$(tl_http_status '/api/v1/lookup/193.0.2.0%2F24')"
check_eq "the API for a host name: 400" 400 "$(tl_http_status /api/v1/lookup/mail.example.com)"
check_match "the figures: 2 listed" '"listed": 2' "$(tl_http /api/v1/figures)"

# ---- the history: evidence per day as added, the listed period ----------------------------
hist=$(tl_http /api/v1/history/193.0.2.1)
verdict=$(python3 - "$hist" "$T0" <<'PY'
import json, sys, time
h = json.loads(sys.argv[1]); t0 = int(sys.argv[2])
day = lambda t: time.strftime("%Y-%m-%d", time.gmtime(t))
days = {d["date"]: (d["traps"], d["reports"]) for d in h["days"]}
want = {day(t0 - 3 * 86400): (2, 0), day(t0 - 3600): (0, 2)}
if day(t0 - 7200) != day(t0 - 3600):
    want = {day(t0 - 3 * 86400): (2, 0), day(t0 - 7200): (0, 1), day(t0 - 3600): (0, 1)}
bad = [d for d, v in days.items() if v != want.get(d, (0, 0))]
ok = len(h["days"]) == 30 and h["days"][-1]["date"] == day(t0) and not bad
ok = ok and len(h["listed_periods"]) == 1 and h["listed_periods"][0]["ended_at"] is None
print("ok" if ok else "bad %s %s" % (bad, h["listed_periods"]))
PY
)
check_eq "history: 30 days, the evidence on the days it was received, one current listing" ok "$verdict"

# ---- the pages ----------------------------------------------------------------------------
page=$(tl_http '/lookup?ip=193.0.2.1')
check_match "lookup: listed" 'is listed</h2>' "$page"
check_match "lookup: the reason" 'data-reason="both"' "$page"
check_match "lookup: what it usually means: the trap hits were bounces, so backscatter, not a compromised machine" \
	'id="meaning" data-what="spamtrap hits, mostly bounces, and user reports">What it means:' "$page"
check_match "...in the policy's words" 'usually backscatter that people also reported' "$page"
check_nomatch "...and not the advice for a compromised machine" 'Look for malware' "$page"
check_match "lookup: the trap hits were bounces (2)" 'backscatter: <strong>2<' "$page"
check_match "lookup: when it ends by itself (policy_listing = 48 h after the last report)" \
	"id=\"expires\">$(date -u -d "@$((T0 - 3600 + 172800))" '+%Y-%m-%d %H:%M') UTC" "$page"
check_match "lookup: counts of the last 7 days" 'id="traps-7d">2<' "$page"
check_match "lookup: the chart" '<svg class="chart"' "$page"
check_nomatch "lookup: never a trap address or reporter" '@|source|reporter:' "$page"
page=$(tl_http '/lookup?ip=2a01:DB8::5')
check_match "lookup IPv6: listed, trap hits only" 'data-reason="traps"' "$page"
check_match "lookup IPv6: auto-replies explained" 'Auto-replies \(vacation' "$page"
page=$(tl_http '/lookup?ip=199.51.100.9')
check_match "lookup: not listed" 'is not listed</h2>' "$page"
check_match "lookup: why not" 'only one piece of evidence' "$page"
check_match "lookup: excluded address says so" 'id="excluded"' "$(tl_http '/lookup?ip=10.1.2.3')"
cli delist 193.0.2.1 --why "test: fixed" >/dev/null
check_match "lookup: delisted by a moderator says so" 'id="delisted"' "$(tl_http '/lookup?ip=193.0.2.1')"
ev 204.0.113.5 trap $((T0 - 100))
ev 204.0.113.5 trap $((T0 - 90))
cli reputation 204.0.113.0/24 --points 20 --why "test: big provider" >/dev/null
check_match "lookup: held back by reputation says so" 'id="held-back"' "$(tl_http '/lookup?ip=204.0.113.5')"
check_eq "lookup of a host name: 400 with help" 400 "$(tl_http_status '/lookup?ip=mail.example.com')"
check_match "... look up its address" 'look up its address' "$(tl_http '/lookup?ip=mail.example.com')"
check_match "lookup of a range: look up one address" 'look up one address' "$(tl_http '/lookup?ip=193.0.2.0%2F24')"
check_match "lookup of 193.0.2.7/24 offers 193.0.2.7" 'href="/lookup\?ip=193.0.2.7"' "$(tl_http '/lookup?ip=193.0.2.7%2F24')"
check_match "lookup of nonsense: a clear message" 'That is not an IP address' "$(tl_http '/lookup?ip=hello%20world')"
check_eq "an empty lookup is the form: 200" 200 "$(tl_http_status '/lookup?ip=')"
listing=$(tl_http /about/listing)
check_match "how listing works: the threshold in force (6)" 'id="p-threshold">6<' "$listing"
check_match "how listing works: the listing time in force (48 hours)" 'id="p-listing">48 hours<' "$listing"
check_match "how listing works: worked examples from the policy" '2 spamtrap hits</td><td>10.0</td><td>listed' "$listing"
check_match "how listing works: the reporters a listing on reports needs (2)" 'id="p-min-reporters">2<' "$listing"
check_match "...one reporter's two reports do not list" "2 reports from the same reporter</td><td>4.0</td><td>not listed \(only one piece of evidence: one reporter&#39;s reports count once\)" "$listing"
check_match "...two reporters' do" '2 reports from 2 reporters</td><td>8.0</td><td>listed' "$listing"
check_match "...special-purpose space takes no evidence" 'id="p-special">the' "$listing"
usage=$(tl_http /about/usage)
check_match "usage: the TXT points at public_url, with what the listing usually means" \
	'Listed \(spamtrap hits and user reports: probably a compromised machine\) - see https://lists.example.test/lookup\?ip=192.0.2.1' "$usage"
check_match "usage: one A answer for every reason (the default)" '<code>A 127.0.0.2</code></td><td>listed</td>' "$usage"
check_match "usage: no warranty" 'provided as is, without warranty of any kind' "$usage"
check_match "every page's footer: no warranty" 'without warranty' "$(tl_http /about/end-users)"
check_match "the full notice" 'without warranty of any kind' "$(tl_http /about/warranty)"
check_match "home: the live figures" 'id="fig-listed">' "$(tl_http /)"
check_eq "a page that does not exist: 404" 404 "$(tl_http_status /nothing/here)"
check_eq "the stylesheet" 200 "$(tl_http_status /static/style.css)"

# ---- DNS: the default TXT points at the lookup page ----------------------------------------
ev 193.0.2.99 trap $((T0 - 100))
ev 193.0.2.99 trap $((T0 - 90))
check_ip_a "193.0.2.99 listed in DNS" 193.0.2.99 127.0.0.2 30
check_eq "the TXT record points at PUBLIC_URL/lookup" '"Listed (spamtrap hits: mail to addresses no person uses) - see https://lists.example.test/lookup?ip=193.0.2.99"' \
	"$(dig @127.0.0.1 -p "$PORT" +short 99.2.0.193.$TL_ZONE TXT)"

# ---- the RFC 5782 test points: DNS, check, the JSON and the page say the same ----------------
# 127.0.0.2 (and ::ffff:127.0.0.2, the same address) is listed, whatever the exclusions and the
# evidence; 127.0.0.1 never is. The TXT record's link opens a page that says so.
for tp in 127.0.0.2 ::ffff:127.0.0.2; do
	js=$(cli check "$tp" --json)
	check_eq "check --json $tp: listed, the test point" "True True test point RFC 5782 test point None None" \
		"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["listed"], d["test_point"], d["reason"], d["meaning"]["what"], d["why_not"], d["expires_at"])' "$js")"
	check_eq "GET /api/v1/lookup/$tp is the same" same \
		"$(python3 -c 'import json,sys; print("same" if json.loads(sys.argv[1]) == json.loads(sys.argv[2]) else "differ")' "$(tl_http "/api/v1/lookup/$tp")" "$js")"
done
out=$(cli check 127.0.0.2)
check_match "check 127.0.0.2: listed" '^listed: yes$' "$out"
check_match "check 127.0.0.2: the reason is the test point" '^reason: test point$' "$out"
check_match "check 127.0.0.2: what it means" '^meaning: RFC 5782 test point: ' "$out"
check_match "explain 127.0.0.2 says it first" 'RFC 5782 test point that DNS always lists' "$(cli explain 127.0.0.2)"
check_eq "DNS lists 127.0.0.2" 127.0.0.2 "$(dig @127.0.0.1 -p "$PORT" +short 2.0.0.127.$TL_ZONE A)"
txt=$(dig @127.0.0.1 -p "$PORT" +short 2.0.0.127.$TL_ZONE TXT)
check_match "its TXT says test point and links to the lookup page" 'Listed \(RFC 5782 test point\) - see https://lists\.example\.test/lookup\?ip=127\.0\.0\.2"$' "$txt"
page=$(tl_http "/lookup?ip=127.0.0.2")
check_match "the page the TXT links to: listed" 'id="verdict-h"><span class="badge">Listed</span> 127\.0\.0\.2 is listed</h2>' "$page"
check_match "...as the test point of RFC 5782" 'id="test-point" data-reason="test point">It is the <strong>RFC 5782 test point</strong>' "$page"
check_nomatch "...never \"not listed\", an expiry or a review form" 'is not listed|id="expires"|action="/review"' "$page"
out=$(cli check 127.0.0.1)
check_match "check 127.0.0.1: not listed" '^listed: no$' "$out"
check_match "check 127.0.0.1: the test point that is never listed" '^why: RFC 5782 test point: never listed$' "$out"
check_eq "check --json 127.0.0.1: not listed, the test point" "False True RFC 5782 test point: never listed" \
	"$(cli check 127.0.0.1 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["listed"], d["test_point"], d["why_not"])')"
check_eq "DNS: NXDOMAIN for 127.0.0.1" NXDOMAIN "$(rcode_of "$(tl_dig 1.0.0.127.$TL_ZONE A)")"
page=$(tl_http "/lookup?ip=127.0.0.1")
check_match "its page: not listed, the test point" 'is not listed</h2>' "$page"
check_match "...which no list ever lists" 'id="test-point" data-reason="none">It is the RFC 5782 test point that no DNS blocklist' "$page"
# The zone serves no ::1 or ::2 test point (RFC 5782 names ::FFFF:7F00:2 for IPv6): check agrees.
for tp in ::1 ::2; do
	check_eq "DNS: NXDOMAIN for $tp" NXDOMAIN "$(rcode_of "$(tl_dig "$(rev6 $tp).$TL_ZONE" A)")"
	check_eq "check --json $tp: not listed, no test point" "False False" \
		"$(cli check $tp --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["listed"], d["test_point"])')"
done

# ---- security headers on every answer -------------------------------------------------------
for path in / '/lookup?ip=193.0.2.1' '/lookup?ip=%3Cx%3E' /about/end-users /about/listing \
	/about/usage /about/warranty /static/style.css /static/icon.svg /api/v1/ \
	/api/v1/lookup/193.0.2.1 /api/v1/lookup/x /api/v1/figures /nothing; do
	h=$(tl_http "$path" -D - -o /dev/null)
	miss=""
	for want in "Content-Security-Policy: default-src 'none'" "frame-ancestors 'none'" \
		"X-Content-Type-Options: nosniff" "Referrer-Policy: no-referrer" "X-Frame-Options: DENY"; do
		printf '%s\n' "$h" | grep -qiF "$want" || miss="$miss [$want]"
	done
	check_eq "security headers on $path" "" "$miss"
done
h=$(curl -s -D - -o /dev/null -X POST -d x=1 "http://127.0.0.1:$HPORT/")
check_match "POST: 405, allowed GET and HEAD" '^Allow: GET, HEAD' "$(printf '%s' "$h" | tr -d '\r')"
check_match "... with the security headers too" "^Content-Security-Policy:" "$h"

# ---- hostile input: refused with a 4xx, escaped if shown, nothing written -------------------
counts() { python3 - "$DATA/trapline.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(" ".join("%s=%d" % (t, db.execute("SELECT count(*) FROM %s" % t).fetchone()[0])
               for t in ("evidence", "listings", "listing_history", "exclusions", "actions",
                         "audit", "reputation", "meta")))
PY
}
before=$(counts)
hostile=(
	'<script>alert(1)</script>'
	'"><img src=x onerror=alert(1)>'
	"' OR '1'='1"
	"1.2.3.4'; DROP TABLE evidence; --"
	'1.2.3.4" onmouseover="alert(1)'
	'javascript:alert(1)'
	'{{input}}'
	$'1.2.3.4\r\nSet-Cookie: x=1'
	'1.2.3.4%00<script>'
	'../../../../etc/passwd'
)
for h in "${hostile[@]}"; do
	enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$h")
	out=$(tl_http "/lookup?ip=$enc" -D "$TL_TMP/hdr")
	st=$(head -n 1 "$TL_TMP/hdr" | awk '{print $2}')
	check_eq "lookup?ip=$(printf '%q' "$h"): 400" 400 "$st"
	check_nomatch "... shown back escaped only" '<script>alert|<img src=x|onmouseover="' "$out"
	check_nomatch "... and never as a header" 'Set-Cookie' "$(cat "$TL_TMP/hdr")"
	st=$(tl_http_status "/api/v1/lookup/$enc")
	case $st in 4*) tl_ok "api/v1/lookup/$(printf '%q' "$h"): $st" ;; *) tl_fail "api/v1/lookup/$(printf '%q' "$h") refused with a 4xx" "got $st" ;; esac
	check_nomatch "... and not echoed" '<script>|<img|DROP TABLE' "$(tl_http "/api/v1/lookup/$enc")"
done
# The other inputs: the path and any query parameter on any page.
check_eq "markup in the path: 404" 404 "$(tl_http_status '/%3Cscript%3Ealert(1)%3C/script%3E')"
check_nomatch "... not echoed" '<script>' "$(tl_http '/%3Cscript%3Ealert(1)%3C/script%3E')"
check_nomatch "a parameter on another page is never echoed" 'xss-marker' "$(tl_http '/about/usage?ip=%3Cb%3Exss-marker')"
for p in '/static/../../../etc/passwd' '/static/%2e%2e/%2e%2e/etc/passwd' '/static/..%2f..%2fetc%2fpasswd' \
	'/static/style.css%00.html' '/static/../web.conf' '/static/layout.html' '/static/' '/static/%2fetc%2fpasswd'; do
	st=$(tl_http_status "$p" --path-as-is)
	body=$(tl_http "$p" --path-as-is)
	case $st in 4*) tl_ok "path traversal $p: $st" ;; *) tl_fail "path traversal $p refused with a 4xx" "got $st" ;; esac
	check_nomatch "... gives nothing of the file system" 'root:|policy_threshold|\{\{' "$body"
done
# Oversized and malformed requests.
long=$(head -c 20000 /dev/zero | tr '\0' a)
st=$(tl_http_status "/lookup?ip=$long")
case $st in 4*) tl_ok "a 20 kB URL: $st" ;; *) tl_fail "a 20 kB URL refused with a 4xx" "got $st" ;; esac
st=$(tl_http_status / -H "X-Big: $long")
case $st in 4*) tl_ok "a 20 kB header: $st" ;; *) tl_fail "a 20 kB header refused with a 4xx" "got $st" ;; esac
st=$(tl_http_status / -X GET --data-binary "$long")
case $st in 4*) tl_ok "a GET with a body: $st" ;; *) tl_fail "a GET with a body refused with a 4xx" "got $st" ;; esac
raw() { python3 - "$HPORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while len(data) < 65536:
        b = s.recv(4096)
        if not b:
            break
        data += b
except socket.timeout:
    pass
line = data.split(b"\r\n", 1)[0].decode("latin-1")
print(line.split(" ")[1] if line.startswith("HTTP/") else "none")
PY
}
# A request line MHD cannot read at all (one word, or none) is closed without an answer;
# everything that reads as HTTP gets a 4xx.
for req in 'GARBAGE\r\n\r\n' '\r\n\r\n'; do
	check_eq "not HTTP at all: $(printf '%q' "$req"): closed, no answer" none "$(raw "$req")"
done
for req in 'GARBAGE / HTTP/1.1\r\nHost: a\r\n\r\n' 'GET / FOO/1.1\r\nHost: a\r\n\r\n' 'GET / HTTP/1.1\r\n\r\n' 'GET /\x01\x02 HTTP/1.1\r\nHost: a\r\n\r\n' \
	'GET / HTTP/1.1\r\nHost: a\r\nBroken header line\r\n\r\n' 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n' \
	'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' 'DELETE /api/v1/lookup/1.2.3.4 HTTP/1.1\r\nHost: a\r\n\r\n'; do
	st=$(raw "$req")
	case $st in 4*|505) tl_ok "malformed request $(printf '%q' "$req"): $st" ;; *) tl_fail "malformed request $(printf '%q' "$req") refused" "got $st" ;; esac
done
# Limits: connections per client (http_max_conns_per_ip = 6), a request that trickles.
held=$(python3 - "$HPORT" <<'PY'
import socket, sys, time
conns, refused = [], 0
for _ in range(12):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")  # and never finish the request
    conns.append(s)
time.sleep(0.3)
for s in conns:
    s.settimeout(0.3)
    try:
        if s.recv(1) == b"":
            refused += 1
    except socket.timeout:
        pass
    except OSError:
        refused += 1
print(refused)
PY
)
if [ "${held:-0}" -ge 6 ]; then tl_ok "connections beyond http_max_conns_per_ip are refused ($held of 12)"; else tl_fail "connections beyond http_max_conns_per_ip are refused" "refused: $held of 12"; fi
if tl_poll 30 yes sh -c "grep -q 'module=web http refused reason=client_limit client=127.0.0.1 conns=6 limit=6 ' '$TL_LAST_LOG' && echo yes"; then tl_ok "the limit hit is logged"; else tl_fail "the limit hit is logged"; fi
start=$SECONDS
st=$(python3 - "$HPORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"GET / HTTP/1.1\r\n")
try:
    print("closed" if s.recv(100) == b"" else "answered")
except OSError:
    print("closed")
PY
)
check_eq "a request that never ends is closed after http_timeout" closed "$st"
if [ $((SECONDS - start)) -le $((6 * TL_SLOW)) ]; then tl_ok "... within about 3 s"; else tl_fail "... within about 3 s" "took $((SECONDS - start)) s"; fi
check_eq "still answering after all of it" 200 "$(tl_http_status /)"
after=$(counts)
# The only writes of this section would show in these tables; nothing else ran meanwhile.
check_eq "hostile requests wrote nothing to the store" "$before" "$after"

tl_stop
unset TRAPLINE_TEST_CLOCK

# ---- web_templates replaces a template; http_listen off serves no pages --------------------
mkdir -p "$TL_TMP/tpl"
printf '<h1>Custom not-found page</h1>\n' >"$TL_TMP/tpl/notfound.html"
chmod 755 "$TL_TMP/tpl"
chmod 644 "$TL_TMP/tpl/notfound.html"
printf 'web_templates = %s\nanswer_a_both = 127.0.0.4\n' "$TL_TMP/tpl" >"$TL_TMP/tpl.conf"
TL_HTTP=1 tl_start --config "$TL_TMP/tpl.conf"
tl_wait_http
check_match "web_templates: the folder's file replaces the built-in one" 'Custom not-found page' "$(tl_http /nothing)"
check_match "... the others stay built in" 'How listing works' "$(tl_http /about/listing)"
usage=$(tl_http /about/usage)
check_match "usage: answer_a_both differs, so each reason's answer is shown" \
	'<code>A 127.0.0.4</code></td><td>listed on spamtrap hits and user reports</td>' "$usage"
check_match "... and the traps' answer" '<code>A 127.0.0.2</code></td><td>listed on spamtrap hits only</td>' "$usage"
tl_stop
printf '{{#broken}}\n' >"$TL_TMP/tpl/notfound.html"
# serve stops by itself, before binding anything: wait for that (bounded), never a fixed sleep.
out=$(timeout $((60 * TL_SLOW)) "$TRAPLINE" serve --data "$TL_TMP/d3" --dns "127.0.0.1:$(tl_free_port)" \
	--http "127.0.0.1:$(tl_free_port)" --smtp off --config "$TL_TMP/tpl.conf" 2>&1)
check_eq "a template that does not parse stops the start: exit 2, a configuration error" 2 $?
check_match "...named, with the file and the problem" \
	"^trapline: web_templates $TL_TMP/tpl/notfound.html: does not parse: " "$out"
check_nomatch "...before anything started" 'level=info module=main ready' "$out"
out=$("$TRAPLINE" check-config "$TL_TMP/tpl.conf" 2>&1)
check_eq "check-config finds the same template: exit 2" 2 $?
check_match "...with the same line" "^trapline: web_templates $TL_TMP/tpl/notfound.html: does not parse: " "$out"
printf 'web_templates = %s\n' "$TL_TMP/no-such-folder" >"$TL_TMP/tpl-missing.conf"
out=$("$TRAPLINE" check-config "$TL_TMP/tpl-missing.conf" 2>&1)
check_eq "check-config: a web_templates folder that does not exist: exit 2" 2 $?
check_match "...named" "^trapline: web_templates $TL_TMP/no-such-folder: no such directory$" "$out"
tl_finish
