#!/usr/bin/env bash
# test_smtp_postfix.sh - a real Postfix (Debian's, a private instance configured here) as the
# sending MTA, relaying to the trap through a transport map and over STARTTLS: its deliveries
# become evidence against its address, enough of them list it, DNS answers it, and check
# names the class of the hits.
source "$(dirname "$0")/lib.sh"
source "$TL_DIR/postfix.sh"

if ! command -v postfix >/dev/null || [ "$(id -u)" -ne 0 ] || ! id postfix >/dev/null 2>&1; then
	tl_skip "postfix as the sending MTA" "needs root and postfix (scripts/deps.sh --test)"
	tl_finish
fi
MAIL="$TRAPLINE_SRC/tests/data/mail"
SRC=127.0.0.5 # Postfix's smtp_bind_address: the address the trap must list
CONF=$TL_TMP/trap.conf
cat >"$CONF" <<CONF
trap_domains = trap.example
smtp_hostname = mx.trap.example
# The sender is on loopback here; nothing is excluded by default in this test.
exclude_default =
CONF
tl_start --config "$CONF"
PF=$TL_TMP/postfix
PFPORT=$(tl_free_port)
pf_setup "$PF" "$PFPORT" relay "$SMTP_PORT" "$SRC"
cleanup_postfix() {
	pf_stop "$PF"
	tl_cleanup
}
trap cleanup_postfix EXIT
pf_start "$PF" "$PFPORT" || tl_die "postfix starts" "$(tail -n 20 "$PF/maillog")"
tl_ok "a private postfix runs on port $PFPORT"

sendpf() { timeout 30 swaks --server 127.0.0.1 --port "$PFPORT" "$@" 2>&1; }
out=$(sendpf --to jane@trap.example --from winner@lottery.example --header "Subject: You won")
check_match "postfix takes a message for the trap" '<-  250 2\.0\.0 Ok: queued' "$out"
out=$(sendpf --to jane@trap.example --from '<>' --data @"$MAIL/bounce_dsn.eml")
check_match "and a DSN from the null sender" '<-  250 2\.0\.0 Ok: queued' "$out"
out=$(sendpf --to "bob@trap.example,carol@trap.example" --from '<>' --data @"$MAIL/bounce_null_sender.eml")
check_match "and a bounce for two trap recipients" '<-  250 2\.0\.0 Ok: queued' "$out"

count() { tl_db "SELECT count(*) FROM evidence"; }
if tl_poll $((200)) 3 count; then
	tl_ok "postfix delivered the three messages to the trap (three pieces of evidence)"
else
	tl_fail "postfix delivered the three messages to the trap" "evidence: $(count)" \
		"$(grep -v warning "$PF/maillog" | tail -n 15)"
fi
check_match "postfix says the trap took them (status=sent)" \
	'relay=127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+,.* dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: stored\)' "$(cat "$PF/maillog")"
check_match "postfix used STARTTLS with the trap's self-signed certificate" \
	'TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+' "$(cat "$PF/maillog")"
check_eq "the evidence is against postfix's address, with its HELO" "3|sender.test" \
	"$(tl_db "SELECT count(*), min(t.helo) FROM evidence e JOIN trap_hits t ON t.evidence_id = e.id WHERE hex(e.ip) = '00000000000000000000FFFF7F000005'")"
# Postfix delivers its queue in parallel: the three arrive in any order, so each is found by
# what it is, not by its place.
check_eq "the classes: one spam, two bounces" "0|1|1" \
	"$(tl_db "SELECT class FROM evidence ORDER BY class" | tr '\n' '|' | sed 's/|$//')"
check_eq "the envelope sender postfix gave (the null sender for bounces)" "||winner@lottery.example" \
	"$(tl_db "SELECT mail_from FROM trap_hits ORDER BY mail_from" | tr '\n' '|' | sed 's/|$//')"
check_eq "both trap recipients of one message, in one piece of evidence" "bob@trap.example carol@trap.example" \
	"$(tl_db "SELECT rcpts FROM trap_hits WHERE rcpts LIKE '%bob@%'" | tr '\n' ' ' | sed 's/ $//')"
check_match "the hits went over TLS" 'hit ip=127\.0\.0\.5 class=bounce .* tls=yes' "$(cat "$TL_LAST_LOG")"
check_ip_a "the hits list postfix's address: DNS answers it" "$SRC" 127.0.0.2
out=$("$TRAPLINE" check "$SRC" --data "$TL_DATA" 2>&1)
check_match "check: listed on trap hits" '^reason: traps$' "$out"
check_match "check names the classes" '^counted: 3 trap hits \(1 spam, 2 bounces\) and 0 user reports$' "$out"
check_match "check says what a listing on mostly bounces means" '^meaning: spamtrap hits only, mostly bounces: usually backscatter' "$out"

pf_stop "$PF"
tl_ok "postfix stopped"
tl_stop
tl_finish
