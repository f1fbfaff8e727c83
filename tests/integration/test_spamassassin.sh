#!/usr/bin/env bash
# test_spamassassin.sh - SpamAssassin, configured the way a mail admin adds a DNSBL
# (check_rbl on bl.example.org), must hit for mail relayed from a listed IP and miss for an
# unlisted one, with Trapline as its only DNS server.
#
# SpamAssassin runs isolated: its own config dir (the distribution's .pre plugin loaders plus
# our rules, no stock rule set, so nothing else queries DNS), its own site dir and prefs, no
# Bayes, no network fetches. It always trusts 127/8, so the listed relay is a public-looking
# address that only appears in a Received header and in our data file: no packet goes to it.
source "$(dirname "$0")/lib.sh"

command -v spamassassin >/dev/null || tl_die "spamassassin installed (scripts/deps.sh --test)"
Z=$TL_ZONE
LISTED=45.33.12.7
UNLISTED=45.33.12.8

printf '%s\n' ":127.0.0.2:Listed in $Z - see http://127.0.0.1:8080/lookup?ip=\$" "$LISTED" \
	":127.0.0.5:Other class" "45.33.12.99" >"$TL_TMP/sa.zone"
tl_start --static "$TL_TMP/sa.zone" --threads 1

SA=$TL_TMP/sa
mkdir -p "$SA/rules" "$SA/site" "$SA/home"
cp /etc/spamassassin/*.pre "$SA/rules/" 2>/dev/null ||
	printf '%s\n' 'loadplugin Mail::SpamAssassin::Plugin::Check' \
		'loadplugin Mail::SpamAssassin::Plugin::DNSEval' >"$SA/rules/00_plugins.pre"
cat >"$SA/rules/50_trapline.cf" <<EOF
dns_server 127.0.0.1:$PORT
dns_available yes
rbl_timeout $((10 * TL_SLOW))
use_bayes 0
# The MX and the relay that handed it the mail are ours; the next hop is the first
# untrusted relay, the one a DNSBL is asked about.
trusted_networks 10.9.9.0/24
internal_networks 10.9.9.0/24
required_score 5

header   TRAPLINE_TL     eval:check_rbl('tl', '$Z.')
describe TRAPLINE_TL     Relay listed in the Trapline test zone
tflags   TRAPLINE_TL     net
score    TRAPLINE_TL     3.5

header   TRAPLINE_TL_2   eval:check_rbl_sub('tl', '127.0.0.2')
describe TRAPLINE_TL_2   Listed with the default answer 127.0.0.2
tflags   TRAPLINE_TL_2   net
score    TRAPLINE_TL_2   0.1
EOF

message() { # RELAY-IP
	cat <<EOF
Received: from mx.example.net (mx.example.net [10.9.9.1])
	by mail.example.com (Postfix) with ESMTP id 1234
	for <user@example.com>; Mon, 23 Nov 2026 16:00:00 +0000
Received: from sender.example (unknown [$1])
	by mx.example.net (Postfix) with ESMTP id 5678
	for <user@example.com>; Mon, 23 Nov 2026 15:59:59 +0000
From: someone@example.org
To: user@example.com
Subject: integration test
Message-ID: <$1@example.org>
Date: Mon, 23 Nov 2026 15:59:58 +0000

hello
EOF
}

# run_sa RELAY-IP: SpamAssassin in test mode with DNS debugging; prints its debug output.
run_sa() {
	message "$1" | HOME="$SA/home" timeout $((60 * TL_SLOW)) spamassassin -t \
		--configpath="$SA/rules" --siteconfigpath="$SA/site" \
		--prefs-file="$SA/home/user_prefs" -D dns,check 2>&1 >/dev/null
}

out=$(run_sa "$LISTED")
tests=$(printf '%s\n' "$out" | grep -Eo 'dbg: check: tests=.*' | tail -n 1)
check_match "listed relay $LISTED: SpamAssassin asked Trapline" \
	"providing a callback for id: [0-9]+/IN/A/$(rev4 $LISTED)\\.$Z" "$out"
check_match "listed relay $LISTED: the check_rbl rule hits" 'TRAPLINE_TL([,[:space:]]|$)' "$tests"
check_match "listed relay $LISTED: check_rbl_sub for 127.0.0.2 hits" 'TRAPLINE_TL_2' "$tests"
check_nomatch "listed relay: no DNS timeout" 'aborting after|timed out.*DNSBL' "$out"

out=$(run_sa "$UNLISTED")
tests=$(printf '%s\n' "$out" | grep -Eo 'dbg: check: tests=.*' | tail -n 1)
check_match "unlisted relay $UNLISTED: SpamAssassin asked Trapline" \
	"providing a callback for id: [0-9]+/IN/A/$(rev4 $UNLISTED)\\.$Z" "$out"
if [ -n "$tests" ] && ! printf '%s\n' "$tests" | grep -q TRAPLINE_TL; then
	tl_ok "unlisted relay $UNLISTED: the rule does not hit"
else
	tl_fail "unlisted relay $UNLISTED: the rule does not hit" "${tests:-no result line}" \
		"$(printf '%s\n' "$out" | grep -E 'dns:' | tail -n 20)"
fi
check_nomatch "unlisted relay: no DNS timeout (NXDOMAIN came back)" 'aborting after|timed out.*DNSBL' "$out"

out=$(run_sa 45.33.12.99)
tests=$(printf '%s\n' "$out" | grep -Eo 'dbg: check: tests=.*' | tail -n 1)
check_match "relay listed with 127.0.0.5: check_rbl hits" 'TRAPLINE_TL([,[:space:]]|$)' "$tests"
check_nomatch "relay listed with 127.0.0.5: check_rbl_sub for 127.0.0.2 does not" 'TRAPLINE_TL_2' "$tests"

tl_stop
tl_finish
