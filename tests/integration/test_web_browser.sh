#!/usr/bin/env bash
# test_web_browser.sh - the web pages in a real headless browser (Debian's Chromium, driven by
# tests/browser/web.mjs): look up a listed, an unlisted and an IPv6 address and a bad input,
# read the reason, its meaning and what to check (the words of `check --json`, for a listing on
# spam trap hits only and one on both), the RFC 5782 test point, follow every link of every
# page, check the chart against
# the evidence added; then the review path (tests/browser/review.mjs): file a request from a
# listed address's lookup page (a pasted bounce with angle brackets is text), a second request
# about the same address that joins the open ticket, follow the tickets, log in as a moderator,
# delist (DNS, the audit log and both requests' pages follow), reject another. Screenshots of the lookup page, the review form, the
# ticket pages and the queue (desktop and phone width) are saved in screenshots/ of the build
# directory, for a person to look at.
source "$(dirname "$0")/lib.sh"

BROWSER_DIR=$TRAPLINE_SRC/tests/browser
SHOTS=${TRAPLINE_SCREENSHOTS:-$PWD/screenshots}
command -v node >/dev/null && [ -x /usr/bin/chromium ] ||
	tl_die "node and /usr/bin/chromium are installed" "run scripts/deps.sh --test"
[ -d "$BROWSER_DIR/node_modules/puppeteer-core" ] ||
	tl_die "puppeteer-core is installed in tests/browser" "run scripts/deps.sh --test (npm ci)"

DATA=$TL_TMP/data
tl_mkdata "$DATA"
CONF=$TL_TMP/browser.conf
printf 'trap_domains = trap.example\nsmtp_proxy_trusted = 127.0.0.2/32\n' >"$CONF"
TL_HTTP=1 tl_start --data "$DATA" --config "$CONF"
tl_wait_http || tl_die "the web pages answer" "$(tail -n 20 "$TL_LAST_LOG")"
T0=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
ev() { "$TRAPLINE" evidence add --ip "$1" --kind "$2" --at "$(iso "$3")" --data "$DATA" >/dev/null; }
# 193.0.2.44: trap hits 5 and 2 days ago, reports 2 days ago and now: listed, both.
ev 193.0.2.44 trap $((T0 - 5 * 86400))
ev 193.0.2.44 trap $((T0 - 2 * 86400))
ev 193.0.2.44 trap $((T0 - 2 * 86400 + 30))
ev 193.0.2.44 report $((T0 - 2 * 86400 + 60))
ev 193.0.2.44 report $((T0 - 60))
# 193.0.2.46: two trap hits that were spam itself: listed on trap hits only, not backscatter.
ev 193.0.2.46 trap $((T0 - 300))
ev 193.0.2.46 trap $((T0 - 200))
ev 2a01:db8::44 trap $((T0 - 120))
ev 2a01:db8::44 trap $((T0 - 60))
# 193.0.2.45: three trap hits through the trap itself (behind a trusted proxy), with headers
# that name trap addresses, for the moderator's samples.
hit() {
	timeout $((20 * TL_SLOW)) python3 "$TL_DIR/smtpraw.py" "$SMTP_PORT" --src 127.0.0.2 --timeout $((3 * TL_SLOW)) \
		"proxy1:$1" read 'send:EHLO mail.example.net\r\nMAIL FROM:<news@example.net>\r\nRCPT TO:<jane@trap.example>\r\nDATA\r\n' \
		read:4 'send:From: News <news@example.net>\r\nTo: jane@trap.example\r\nSubject: Our offers\r\nMessage-ID: <1@example.net>\r\n\r\nbuy\r\n.\r\n' \
		read 'send:QUIT\r\n' drain >/dev/null 2>&1
}
hit 193.0.2.45
hit 193.0.2.45
hit 193.0.2.45
PW='a moderator passphrase'
printf '%s\n' "$PW" | "$TRAPLINE" moderator add alice --data "$DATA" >/dev/null || tl_die "moderator add alice"
day() { date -u -d "@$1" +%Y-%m-%d; }
python3 - "$TL_TMP/expect.json" "$(day $((T0 - 5 * 86400)))" "$(day $((T0 - 2 * 86400)))" \
	"$(day $((T0 - 2 * 86400 + 60)))" "$(day $((T0 - 60)))" "$PORT" "$TRAPLINE" "$DATA" "$PW" <<'PY'
import json, sys
out, d5, d2t, d2r, d0, port, trapline, data, pw = sys.argv[1:]
days = {}
def add(d, i):
    v = days.setdefault(d, [0, 0]); v[i] += 1
add(d5, 0); add(d2t, 0); add(d2t, 0); add(d2r, 1); add(d0, 1)
json.dump({"listed": "193.0.2.44", "unlisted": "199.51.100.200", "ipv6": "2a01:DB8::44",
           "reason": "both", "days": days, "traponly": "193.0.2.46", "testpoint": "127.0.0.2",
           "trapline": trapline, "data": data,
           "review": {"first": "193.0.2.44", "second": "193.0.2.45", "moderator": "alice",
                      "password": pw, "dns_port": int(port), "zone": "bl.example.org",
                      "trapline": trapline, "data": data}}, open(out, "w"))
PY
out=$(cd "$BROWSER_DIR" && timeout $((250 * TL_SLOW)) node web.mjs "http://127.0.0.1:$HPORT" "$SHOTS" "$TL_TMP/expect.json" 2>&1)
printf '%s\n' "$out" | grep -E '^(not )?ok - |^    #' | sed '/^ok - /d' || true
n_ok=$(printf '%s\n' "$out" | grep -c '^ok - ' || true)
n_bad=$(printf '%s\n' "$out" | grep -c '^not ok - ' || true)
TL_PASSED=$((TL_PASSED + n_ok))
TL_FAILED=$((TL_FAILED + n_bad))
[ "$n_bad" -gt 0 ] && TL_FAILED_NAMES+=("browser checks (above)")
if ! printf '%s\n' "$out" | grep -qE '^[0-9]+ passed, 0 failed$'; then
	tl_fail "the browser run finishes and passes" "$(printf '%s\n' "$out" | tail -n 15)"
else
	tl_ok "the browser run: $n_ok checks passed; screenshots in $SHOTS"
fi
tl_stop
tl_finish
