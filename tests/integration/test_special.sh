#!/usr/bin/env bash
# test_special.sh - special-purpose addresses with the shipped exclude_default (special-purpose):
# the spamtrap refuses MAIL from a client at one (loopback here, or one a trusted proxy names)
# with the range and its RFC, records nothing and never answers 451; a public client behind the
# same proxy is recorded; the RFC 5782 test points stay answered. The other doors (evidence add,
# feeds, reports) are tested in test_evidence_cli.sh and test_api_reports.sh.
source "$(dirname "$0")/lib.sh"

RAW="$TL_DIR/smtpraw.py"
CONF=$TL_TMP/trap.conf
cat >"$CONF" <<CONF
trap_domains = trap.example
smtp_hostname = mx.trap.example
smtp_proxy_trusted = 127.0.0.2/32
CONF
raw() { timeout $((20 * TL_SLOW)) python3 "$RAW" "$SMTP_PORT" --timeout $((3 * TL_SLOW)) "$@" 2>&1; }
evidence_count() { tl_db "SELECT count(*) FROM evidence"; }
MSG='send:Subject: cheap watches\r\n\r\nbuy now\r\n.\r\n'

tl_start --config "$CONF"
check_cmd "the trap greets" tl_smtp_greets

out=$(tl_swaks --to jane@trap.example --from sender@spam.example)
check_match "a client on loopback is greeted" '<-  220 mx\.trap\.example ESMTP' "$out"
check_match "...but its MAIL is refused: 550 with the range and its RFC" \
	'<\*\* 550 5\.7\.1 Error: 127\.0\.0\.1 is in 127\.0\.0\.0/8, Loopback \(RFC 1122\), a special-purpose address: nothing is accepted' "$out"
check_nomatch "...never 451 (a sender would retry for ever)" ' 451 ' "$out"
check_eq "...and nothing is recorded" 0 "$(evidence_count)"
check_match "the service says why in its log" 'session from a special-purpose address ip=127\.0\.0\.1: MAIL refused \(exclude_default\)' \
	"$(cat "$TL_LAST_LOG")"

out=$(raw --src 127.0.0.2 proxy1:10.1.2.3 read 'send:EHLO c\r\nMAIL FROM:<x@spam.example>\r\n' read:2 drain)
check_match "a trusted proxy naming private space: MAIL refused, naming it" \
	'^550 5\.7\.1 Error: 10\.1\.2\.3 is in 10\.0\.0\.0/8, Private-Use \(RFC 1918\), a special-purpose address' "$out"
out=$(raw --src 127.0.0.2 proxy2:2002:a01:203::1 read 'send:EHLO c\r\nMAIL FROM:<x@spam.example>\r\n' read:2 drain)
check_match "...and the 6to4 form of private space (PROXY v2)" \
	'^550 5\.7\.1 Error: 2002:a01:203::1 is the 6to4 form \(2002::/16, RFC 3056\) of 10\.1\.2\.3' "$out"
out=$(raw --src 127.0.0.2 proxy1:192.0.2.7 read 'send:EHLO c\r\nMAIL FROM:<x@spam.example>\r\n' read:2 drain)
check_match "...and a documentation address" '^550 5\.7\.1 Error: 192\.0\.2\.7 is in 192\.0\.2\.0/24, Documentation \(TEST-NET-1\) \(RFC 5737\)' "$out"
check_eq "...none of them recorded anything" 0 "$(evidence_count)"

out=$(raw --src 127.0.0.2 proxy1:204.0.113.7 read 'send:EHLO c\r\nMAIL FROM:<x@spam.example>\r\nRCPT TO:<jane@trap.example>\r\nDATA\r\n' \
	read:4 "$MSG" read 'send:QUIT\r\n' drain)
check_match "a public client behind the same proxy: stored" '^250 2\.0\.0 Ok: stored' "$out"
check_eq "...against the client the header names" 1 \
	"$(tl_db "SELECT count(*) FROM evidence WHERE hex(ip) = '00000000000000000000FFFFCC007107'")"

check_ip_a "the RFC 5782 test point 127.0.0.2 is answered" 127.0.0.2 127.0.0.2
check_ip_a "...and 127.0.0.1 is not listed" 127.0.0.1 ""
tl_stop
tl_finish
