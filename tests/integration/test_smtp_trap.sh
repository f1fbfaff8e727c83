#!/usr/bin/env bash
# test_smtp_trap.sh - the spamtrap driven by swaks and a scripted client: a hit becomes
# evidence with its envelope and a headers sample; relaying is refused; pipelining, STARTTLS,
# IPv6, a large message and one too large; bad commands, timeouts, a client that vanishes
# mid-DATA (nothing recorded, nothing acknowledged); PROXY v1/v2 from a trusted address only;
# enough hits list the client's address, DNS answers it and check names the class; a full
# disk answers 451 and loses nothing acknowledged.
source "$(dirname "$0")/lib.sh"

RAW="$TL_DIR/smtpraw.py"
MAIL="$TRAPLINE_SRC/tests/data/mail"
CONF=$TL_TMP/trap.conf
cat >"$CONF" <<CONF
trap_domains = trap.example, other-trap.example
trap_addresses = lonely@people.example
smtp_hostname = mx.trap.example
smtp_max_size = 3000000
smtp_max_errors = 3
smtp_command_timeout = $((2 * TL_SLOW))
smtp_data_timeout = $((2 * TL_SLOW))
smtp_proxy_trusted = 127.0.0.2/32
# The test's clients are on loopback: evidence against them is taken (not the shipped
# special-purpose, under which the trap refuses MAIL from them: test_special.sh), never listed.
exclude_default = 127.0.0.0/8, ::1/128
CONF
raw() { timeout $((20 * TL_SLOW)) python3 "$RAW" "$SMTP_PORT" --timeout $((3 * TL_SLOW)) "$@" 2>&1; }
evidence_count() { tl_db "SELECT count(*) FROM evidence"; }
tl() { "$TRAPLINE" "$@" --data "$TL_DATA"; }

V6=""
tl_have_ipv6 && V6=1
SMTP_PORT=$(tl_free_port ${V6:+v6})
LISTEN="127.0.0.1:$SMTP_PORT"
[ -n "$V6" ] && LISTEN="$LISTEN,[::1]:$SMTP_PORT"
tl_start --config "$CONF" --smtp "$LISTEN"
check_cmd "the trap greets" tl_smtp_greets

# ---- a hit: evidence, envelope, a headers sample ---------------------------------------
out=$(tl_swaks --to jane@trap.example --from sender@spam.example --helo bad.example \
	--header "Subject: cheap watches" --body "buy now, body text")
check_match "swaks: the message is acknowledged after the commit" '<-  250 2\.0\.0 Ok: stored' "$out"
check_eq "one piece of trap evidence, class spam, against the client" "1|0|127.0.0.1|jane@trap.example" \
	"$(tl_db "SELECT kind, class, CASE WHEN hex(ip) = '00000000000000000000FFFF7F000001' THEN '127.0.0.1' END, source FROM evidence")"
check_match "the evidence carries the message's SHA-256" '^[0-9a-f]{64}$' "$(tl_db "SELECT digest FROM evidence")"
check_eq "the envelope is recorded beside it" "bad.example|sender@spam.example|jane@trap.example" \
	"$(tl_db "SELECT helo, mail_from, rcpts FROM trap_hits")"
sample=$(tl_db "SELECT CAST(body AS TEXT) FROM samples")
check_match "the sample keeps the headers" '^Subject: cheap watches' "$sample"
check_nomatch "and not the body (trap_sample = headers)" 'body text' "$sample"
check_match "the sample is kept trap_sample_days (7)" '^(60479[0-9]|604800)$' \
	"$(tl_db "SELECT s.kept_until - e.received_at FROM samples s JOIN evidence e ON e.id = s.evidence_id")"
check_match "the service logs the hit with its class" 'module=smtp hit ip=127\.0\.0\.1 class=spam' "$(cat "$TL_LAST_LOG")"

# ---- several trap recipients: one piece of evidence; the trap address list; relaying ----
out=$(tl_swaks --to "a@trap.example,LONELY@people.example,b@other-trap.example" --from x@spam.example)
check_match "three trap recipients: accepted" '<-  250 2\.0\.0 Ok: stored' "$out"
check_eq "one piece of evidence per message, every trap recipient recorded" "2|3" \
	"$(tl_db "SELECT count(*), (SELECT length(rcpts) - length(replace(rcpts, char(10), '')) + 1 FROM trap_hits ORDER BY evidence_id DESC LIMIT 1) FROM evidence")"
before=$(evidence_count)
out=$(tl_swaks --to victim@gmail.example --from x@spam.example)
check_match "a relay attempt is refused at RCPT (550 5.1.1)" '<\*\* 550 5\.1\.1 <victim@gmail\.example>' "$out"
out=$(tl_swaks --to "someone@sub.trap.example" --from x@spam.example)
check_match "a subdomain of a trap domain is not a trap" '<\*\* 550 5\.1\.1 ' "$out"
check_eq "refused mail records nothing" "$before" "$(evidence_count)"

# ---- pipelining, STARTTLS, IPv6 -----------------------------------------------------------
out=$(tl_swaks --pipeline --to p@trap.example --from x@spam.example)
check_match "EHLO offers PIPELINING" '250-PIPELINING' "$out"
check_match "a pipelined transaction is stored" '<-  250 2\.0\.0 Ok: stored' "$out"
out=$(tl_swaks -tls --to tls@trap.example --from x@spam.example)
check_match "STARTTLS is offered" '250-ENHANCEDSTATUSCODES' "$out"
check_match "STARTTLS starts TLS" '=== TLS started with cipher' "$out"
check_match "a message inside TLS is stored" '<~  250 2\.0\.0 Ok: stored' "$out"
check_match "the hit says it came over TLS" 'hit ip=127\.0\.0\.1 class=spam size=[0-9]+ rcpts=1 tls=yes' "$(cat "$TL_LAST_LOG")"
check_eq "the self-signed pair was made in the data directory, the key private to the service" \
	"600 $([ "$(id -u)" -eq 0 ] && echo "$TL_USER" || id -un) 644" \
	"$(stat -c '%a %U' "$TL_DATA/smtp-key.pem") $(stat -c %a "$TL_DATA/smtp-cert.pem")"
check_match "the certificate names smtp_hostname" 'CN ?= ?mx\.trap\.example' \
	"$(openssl x509 -in "$TL_DATA/smtp-cert.pem" -noout -subject 2>&1)"
# CVE-2011-0411: commands sent in the clear behind STARTTLS must not run inside TLS.
out=$(timeout $((20 * TL_SLOW)) python3 - "$SMTP_PORT" <<'PY' 2>&1
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
def reply(f):
    lines = []
    while True:
        l = f.readline()
        lines.append(l.decode().strip())
        if len(l) < 4 or l[3:4] == b" ":
            return lines
reply(f)
s.sendall(b"EHLO c\r\n")
reply(f)
s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@spam.example>\r\n")
print("starttls:", reply(f)[-1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="mx.trap.example")
tf = t.makefile("rb")
t.sendall(b"EHLO c\r\n")
print("after tls:", reply(tf)[0])
t.sendall(b"RCPT TO:<x@trap.example>\r\n")
print("rcpt:", reply(tf)[-1])
PY
)
check_match "STARTTLS answers 220" '^starttls: 220 2\.0\.0 Ready to start TLS' "$out"
check_match "the first reply inside TLS is EHLO's" '^after tls: 250-mx\.trap\.example' "$out"
check_match "a MAIL injected behind STARTTLS was dropped (RCPT needs MAIL)" '^rcpt: 503 5\.5\.1 Error: need MAIL command' "$out"

if [ -n "$V6" ]; then
	out=$(timeout 30 swaks --server ::1 --port "$SMTP_PORT" --to v6@trap.example --from x@spam.example 2>&1)
	check_match "IPv6: stored" '<-  250 2\.0\.0 Ok: stored' "$out"
	check_eq "IPv6: the evidence is against ::1" "00000000000000000000000000000001" \
		"$(tl_db "SELECT hex(ip) FROM evidence WHERE source = 'v6@trap.example'")"
else
	tl_skip "IPv6" "no ::1"
fi

# ---- sizes ---------------------------------------------------------------------------------
python3 -c 'import sys; sys.stdout.write(("x" * 998 + "\r\n") * 2000)' >"$TL_TMP/big.txt"
out=$(tl_swaks --to big@trap.example --from x@spam.example --body @"$TL_TMP/big.txt")
check_match "a 2 MB message under smtp_max_size is stored" '<-  250 2\.0\.0 Ok: stored' "$out"
check_match "its size is recorded" '^20[0-9]{5}$' "$(tl_db "SELECT size FROM trap_hits ORDER BY evidence_id DESC LIMIT 1")"
python3 -c 'import sys; sys.stdout.write(("y" * 998 + "\r\n") * 3100)' >"$TL_TMP/huge.txt"
before=$(evidence_count)
out=$(tl_swaks --to huge@trap.example --from x@spam.example --body @"$TL_TMP/huge.txt")
check_match "a message over smtp_max_size is refused at its end (552 5.3.4)" '<\*\* 552 5\.3\.4' "$out"
check_match "SIZE is advertised" '250-SIZE 3000000' "$out"
check_eq "and not recorded" "$before" "$(evidence_count)"

# ---- bad commands, bare LF, NUL, long lines, errors before disconnect ---------------------
out=$(raw read 'send:EHLO c\r\n' read 'send:NO\x00OP\r\n' read 'send:NOOP\n' read \
	"send:$(printf 'A%.0s' $(seq 1 1500))\\r\\n" read 'send:FOO\r\n' drain)
check_match "NUL in a command: 500" '^500 5\.5\.2 Error: NUL byte in command' "$out"
check_match "a bare LF ends a command" '^250 2\.0\.0 Ok' "$out"
check_match "a line over the limit: 500" '^500 5\.5\.2 Error: line too long' "$out"
check_match "smtp_max_errors (3): 421 and the session is closed" '^421 4\.7\.0 mx\.trap\.example Error: too many errors' "$out"
check_match "closed by the server" '^<closed>$' "$out"

# ---- timeouts; a client that vanishes mid-DATA ---------------------------------------------
before=$(evidence_count)
out=$(raw --timeout $((6 * TL_SLOW)) read 'send:EHLO c\r\n' read drain)
check_match "an idle client gets 421 4.4.2 after smtp_command_timeout" '^421 4\.4\.2 mx\.trap\.example Error: timeout exceeded' "$out"
check_match "and is disconnected" '^<closed>$' "$out"
out=$(raw --timeout $((6 * TL_SLOW)) read 'send:EHLO c\r\nMAIL FROM:<a@spam.example>\r\nRCPT TO:<t@trap.example>\r\nDATA\r\n' \
	read:4 'send:Subject: half\r\n\r\nsome text' drain)
check_match "a client silent inside DATA gets 421 after smtp_data_timeout" '^421 4\.4\.2 ' "$out"
check_nomatch "and no 250 for its message" '^250 2\.0\.0 Ok: stored' "$out"
left_logged() { grep -c 'client left inside DATA ip=127\.0\.0\.1: nothing recorded' "$TL_LAST_LOG"; }
left0=$(left_logged)
out=$(raw read 'send:EHLO c\r\nMAIL FROM:<a@spam.example>\r\nRCPT TO:<t@trap.example>\r\nDATA\r\n' \
	read:4 'send:Subject: vanish\r\n\r\nhalf a message\r\n' close)
check_match "a client vanishes mid-DATA" '<client closed>' "$out"
check_nomatch "it was never acknowledged" '^250 2\.0\.0 Ok: stored' "$out"
# Until the service has noticed the close (logged), then nothing may have been recorded.
if tl_poll 50 "$((left0 + 1))" left_logged; then tl_ok "the service noticed the client left inside DATA"; else
	tl_fail "the service noticed the client left inside DATA" "log lines: $(left_logged)" "$(tail -n 5 "$TL_LAST_LOG")"
fi
check_eq "nothing of the vanished or timed-out messages is recorded" "$before" "$(evidence_count)"

# ---- PROXY protocol: the client's address from a trusted proxy, never the proxy's -------
out=$(raw --src 127.0.0.2 proxy1:198.51.100.7 read 'send:EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bounce@trap.example>\r\nDATA\r\n' \
	read:4 "send:$(sed 's/$/\\r/' "$MAIL/bounce_dsn.eml" | tr '\n' '\a' | sed 's/\a/\\n/g')\\r\\n.\\r\\n" read 'send:QUIT\r\n' drain)
check_match "PROXY v1 from a trusted address: greeted after the header" '^220 mx\.trap\.example ESMTP' "$out"
check_match "PROXY v1: stored" '^250 2\.0\.0 Ok: stored' "$out"
check_eq "the evidence is against the client the header names" "1" \
	"$(tl_db "SELECT count(*) FROM evidence WHERE hex(ip) = '00000000000000000000FFFFC6336407'")"
check_eq "and never against the proxy" "0" \
	"$(tl_db "SELECT count(*) FROM evidence WHERE hex(ip) = '00000000000000000000FFFF7F000002'")"
check_eq "a DSN from the null sender is a bounce" "1" \
	"$(tl_db "SELECT class FROM evidence WHERE hex(ip) = '00000000000000000000FFFFC6336407'")"
check_eq "its signals are recorded" "null-sender, content-type:multipart/report, content-type:message/delivery-status, auto-submitted:auto-replied" \
	"$(tl_db "SELECT t.signals FROM trap_hits t JOIN evidence e ON e.id = t.evidence_id WHERE hex(e.ip) = '00000000000000000000FFFFC6336407'")"
check_ip_a "one hit does not list" 198.51.100.7 ""
out=$(raw --src 127.0.0.2 proxy2:198.51.100.7 read 'send:EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bounce@trap.example>\r\nDATA\r\n' \
	read:4 'send:Subject: Returned mail: User unknown\r\n\r\nbounced\r\n.\r\n' read drain)
check_match "PROXY v2: stored" '^250 2\.0\.0 Ok: stored' "$out"
check_ip_a "two trap hits list the client: DNS answers it" 198.51.100.7 127.0.0.2
out=$(tl check 198.51.100.7 2>&1)
check_match "check: listed on traps" '^reason: traps$' "$out"
check_match "check names the class of the hits" '^counted: 2 trap hits \(2 bounces\) and 0 user reports$' "$out"
check_match "check says what it usually means" '^meaning: spamtrap hits only, mostly bounces: usually backscatter' "$out"
check_match "explain gives the reason with the class" 'Reason: spamtrap hits only, mostly bounces' "$(tl explain 198.51.100.7 2>&1)"
check_nomatch "the trap address is never in check's output" 'trap\.example' "$out"
before=$(evidence_count)
out=$(raw proxy1:203.0.113.66 read 'send:EHLO c\r\n' drain)
check_match "a PROXY header from an untrusted address is refused" '^554 5\.7\.0 Error: PROXY header not accepted' "$out"
check_match "and the session closed" '^<closed>$' "$out"
out=$(raw --src 127.0.0.2 'send:EHLO c\r\nMAIL FROM:<x@y.example>\r\n' drain)
check_eq "a trusted address without a PROXY header is closed without a word" "<closed>" "$out"
out=$(raw --src 127.0.0.2 'send:PROXY UNKNOWN\r\n' read 'send:EHLO c\r\nMAIL FROM:<x@y.example>\r\n' read read drain)
check_match "PROXY UNKNOWN (the proxy's own check): MAIL is refused" '^550 5\.7\.1 ' "$out"
check_eq "none of these recorded anything" "$before" "$(evidence_count)"

# ---- limits per client -----------------------------------------------------------------------
tl_stop
cat >>"$CONF" <<CONF
smtp_max_per_ip = 2
CONF
tl_start --config "$CONF"
out=$(python3 - "$SMTP_PORT" <<'PY'
import socket, sys
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3) for _ in range(2)]
greet = [s.recv(512)[:3] for s in held]
third = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
print(b" ".join(greet).decode(), third.recv(512).decode().strip())
PY
)
check_match "smtp_max_per_ip: the third session from one address gets 421" '^220 220 421 4\.7\.0 .*too many sessions from your address' "$out"
check_match "the limit is logged, with the client it counts" 'session refused ip=127\.0\.0\.1 client=127\.0\.0\.1 reason="smtp_max_per_ip 2"' "$(cat "$TL_LAST_LOG")"

# ---- a full disk: 451, the client retries, nothing acknowledged is lost ------------------
tl_stop
MNT=$TL_TMP/full
mkdir -p "$MNT"
if mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null; then
	cleanup_mount() {
		local pid
		for pid in "${TL_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
		wait 2>/dev/null
		umount "$MNT" 2>/dev/null
		tl_cleanup
	}
	trap cleanup_mount EXIT
	tl_mkdata "$MNT" # the mount point: a directory the operator gave the service
	chmod 755 "$MNT"
	printf 'trap_sample = message\n' >>"$CONF"
	tl_start --config "$CONF" --data "$MNT"
	acked=0 deferred=0
	for i in $(seq 1 12); do
		out=$(tl_swaks --to "full$i@trap.example" --from x@spam.example --body @"$TL_TMP/big.txt")
		if printf '%s\n' "$out" | grep -q '<-  250 2\.0\.0 Ok: stored'; then
			acked=$((acked + 1))
		elif printf '%s\n' "$out" | grep -q '<\*\* 451 4\.3\.0 '; then
			deferred=$((deferred + 1))
		fi
	done
	check_match "a full disk: the trap answers 451 4.3.0 (the sender retries)" '^[1-9]' "$deferred"
	check_eq "every message acknowledged is in the store" "$acked" "$(tl_db "SELECT count(*) FROM evidence")"
	check_match "the refusal is logged" 'message deferred ip=127\.0\.0\.1' "$(cat "$TL_LAST_LOG")"
	tl_stop
else
	tl_skip "full disk" "cannot mount a tmpfs here"
fi

tl_finish
