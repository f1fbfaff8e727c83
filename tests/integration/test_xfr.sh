#!/usr/bin/env bash
# test_xfr.sh - zone transfers with dig and kdig: AXFR allowed or refused by transfer_allow,
# signed with transfer_key (dig and kdig check every message's TSIG), refused unsigned or with
# a wrong key; IXFR from the journal; the serial across a restart and on each new listing.
. "$(dirname "$0")/lib.sh"

command -v kdig >/dev/null || tl_die "kdig installed (knot-dnsutils)"
Z=$TL_ZONE
SECRET=$(head -c 32 /dev/urandom | base64)
KEY="hmac-sha256:xfr-key:$SECRET"

cat >"$TL_TMP/static.txt" <<'EOF'
1.2.3.4
204.0.113.0/24
199.18.0.0/16
!199.18.7.9
193.0.2.10-193.0.2.19
2a01:db8:1::/48
EOF
chmod 644 "$TL_TMP/static.txt"

# axfr [dig options...]: the transfer's records, one per line, fields single-spaced.
axfr() {
	dig @127.0.0.1 -p "$PORT" +time=$((5 * TL_SLOW)) +tries=1 +comments "$Z" AXFR "$@" 2>&1
}
records() { printf '%s\n' "$1" | grep -v '^;' | grep -v '^$' | awk '{ $1 = $1; print }'; }
soa_serial() { dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "$Z" SOA | awk '{ print $3 }'; }
# wait_for SECONDS CMD...: until CMD succeeds (polled every 0.1 s), scaled by TL_SLOW.
wait_for() {
	local limit=$(($1 * 10 * TL_SLOW)) i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ $i -ge $limit ] && return 1
		sleep 0.1
	done
}
serial_above() { local s; s=$(soa_serial); [ -n "$s" ] && [ "$s" -gt "$1" ]; }

# ---- allowed by transfer_allow ----
printf 'transfer_allow = 193.0.2.0/24, 127.0.0.1/32\n' >"$TL_TMP/open.conf"
tl_start --config "$TL_TMP/open.conf" --static "$TL_TMP/static.txt"
out=$(axfr)
recs=$(records "$out")
soa=$(printf '%s\n' "$recs" | awk '$4 == "SOA"' | head -n 1)
check_match "AXFR: the SOA opens the transfer" "^$Z\\. 3600 IN SOA " "$(printf '%s\n' "$recs" | head -n 1)"
check_eq "AXFR: the same SOA closes it" "$soa" "$(printf '%s\n' "$recs" | tail -n 1)"
check_match "AXFR: NS at the apex" "^$Z\\. [0-9]+ IN NS " "$recs"
check_match "AXFR: a listed address, A" "^4\\.3\\.2\\.1\\.$Z\\. 2100 IN A 127\\.0\\.0\\.2$" "$recs"
check_match "AXFR: a listed address, TXT with the address" "^4\\.3\\.2\\.1\\.$Z\\. 2100 IN TXT \".*1\\.2\\.3\\.4" "$recs"
check_match "AXFR: RFC 5782 test point 127.0.0.2" "^2\\.0\\.0\\.127\\.$Z\\. 2100 IN A 127\\.0\\.0\\.2$" "$recs"
check_nomatch "AXFR: RFC 5782 test point 127.0.0.1 absent" "^1\\.0\\.0\\.127\\.$Z\\." "$recs"
check_match "AXFR: IPv6 test point ::ffff:7f00:2" "^2\\.0\\.0\\.0\\.0\\.0\\.f\\.7\\.f\\.f\\.f\\.f\\.(0\\.){20}$Z\\. 2100 IN A " "$recs"
check_match "AXFR: a whole /24 is one wildcard" "^\\*\\.113\\.0\\.204\\.$Z\\. 2100 IN A 127\\.0\\.0\\.2$" "$recs"
check_eq "AXFR: a /16 with a hole: 255 wildcards and 255 names" 510 \
	"$(printf '%s\n' "$recs" | awk '$4 == "A"' | grep -c "\\.18\\.199\\.$Z\\.")"
check_nomatch "AXFR: the hole itself is absent" "^9\\.7\\.18\\.199\\.$Z\\." "$recs"
check_match "AXFR: an IPv6 /48 is one wildcard" "^\\*\\.1\\.0\\.0\\.0\\.8\\.b\\.d\\.0\\.1\\.0\\.a\\.2\\.$Z\\. " "$recs"
n_dig=$(printf '%s\n' "$recs" | grep -c .)
kout=$(kdig @127.0.0.1 -p "$PORT" +time=$((5 * TL_SLOW)) "$Z" AXFR 2>&1)
n_kdig=$(printf '%s\n' "$kout" | grep -v '^;' | grep -c .)
check_eq "kdig AXFR gets as many records as dig" "$n_dig" "$n_kdig"
check_match "AXFR spans several messages" 'XFR size: [0-9]+ records \(messages [2-9]' "$out"
check_match "the transfer is logged" 'module=xfr done client=127\.0\.0\.1 qtype=AXFR' "$(cat "$TL_LAST_LOG")"
check_match "the secondary's own queries still answered over TCP after it" 'status: NOERROR' \
	"$(tl_dig "4.3.2.1.$Z" A +tcp)"
# A query pipelined behind the AXFR on the same connection: answered after its last message
# (the transfer thread keeps the connection once the transfer moved there).
pipe=$(python3 - "$PORT" <<'PYEOF2'
import socket, struct, sys
def q(i, name, t):
    n = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    m = struct.pack("!HHHHHH", i, 0, 1, 0, 0, 0) + n + struct.pack("!HH", t, 1)
    return struct.pack("!H", len(m)) + m
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(q(1, "bl.example.org", 252) + q(2, "4.3.2.1.bl.example.org", 1))
buf, order = b"", []
while len(order) < 1000:
    while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    if len(buf) < 2:
        break
    n = struct.unpack("!H", buf[:2])[0]
    m, buf = buf[2:2 + n], buf[2 + n:]
    order.append(struct.unpack("!H", m[:2])[0])
    if order[-1] == 2:
        break
print("messages=%d last_id=%d ids_before=%s" % (len(order), order[-1], sorted(set(order[:-1]))))
PYEOF2
)
check_match "a query pipelined behind an AXFR is answered after the transfer's messages" \
	'^messages=[0-9]+ last_id=2 ids_before=\[1\]$' "$pipe"

# Two reloads of the file within a second: the serial rises each time all the same.
cp "$TL_TMP/static.txt" "$TL_TMP/static.orig"
for ip in 204.0.114.98 204.0.114.99; do
	before=$(soa_serial)
	printf '%s\n' "$ip" >>"$TL_TMP/static.txt"
	kill -HUP "$TL_LAST_PID"
	if wait_for 5 serial_above "$before"; then
		tl_ok "a reload of the static file raises the serial ($ip)"
	else
		tl_fail "a reload of the static file raises the serial ($ip)" "still $(soa_serial)"
	fi
done
check_match "AXFR after the reloads holds the new line" "^99\\.114\\.0\\.204\\.$Z\\. " "$(records "$(axfr)")"
tl_stop
cp "$TL_TMP/static.orig" "$TL_TMP/static.txt"

# ---- refused: outside transfer_allow, and by default ----
printf 'transfer_allow = 193.0.2.0/24\n' >"$TL_TMP/other.conf"
tl_start --config "$TL_TMP/other.conf" --static "$TL_TMP/static.txt"
check_match "AXFR from outside transfer_allow: REFUSED" "status: REFUSED" "$(axfr)"
check_match "the refusal is logged with client and reason" \
	'module=xfr refused client=127\.0\.0\.1 qtype=AXFR reason=not_in_transfer_allow rcode=REFUSED' \
	"$(cat "$TL_LAST_LOG")"
check_match "kdig AXFR from outside: REFUSED" "REFUSED" \
	"$(kdig @127.0.0.1 -p "$PORT" +time=$((5 * TL_SLOW)) "$Z" AXFR 2>&1)"
tl_stop
tl_start --static "$TL_TMP/static.txt"
check_match "AXFR without transfer_allow (the default): REFUSED" "status: REFUSED" "$(axfr)"
tl_stop

# ---- TSIG ----
printf 'transfer_allow = 127.0.0.1/32\ntransfer_key = %s\n' "$KEY" >"$TL_TMP/key.conf"
check_cmd "check-config takes the key" "$TRAPLINE" check-config "$TL_TMP/key.conf"
check_nomatch "check-config never prints the key's secret" "$(printf '%s' "$SECRET" | sed 's/[+/=]/./g')" \
	"$("$TRAPLINE" check-config "$TL_TMP/key.conf" 2>&1)"
printf 'transfer_key = hmac-md5:k:%s\n' "$SECRET" >"$TL_TMP/badkey.conf"
out=$("$TRAPLINE" check-config "$TL_TMP/badkey.conf" 2>&1)
check_match "check-config refuses another algorithm" 'transfer_key: .*hmac-sha256' "$out"
tl_start --config "$TL_TMP/key.conf" --static "$TL_TMP/static.txt"
out=$(axfr -y "$KEY")
check_eq "dig -y: the signed AXFR verifies, every message (dig checks each TSIG)" "$n_dig" \
	"$(records "$out" | awk '$4 != "TSIG"' | grep -c .)"
check_nomatch "dig -y: no TSIG complaint" 'tsig|TSIG.*(BAD|fail)|Transfer failed' "$(printf '%s\n' "$out" | grep '^;')"
kout=$(kdig @127.0.0.1 -p "$PORT" +time=$((5 * TL_SLOW)) -y "$KEY" "$Z" AXFR 2>&1)
check_eq "kdig -y: the signed AXFR verifies" "$n_dig" \
	"$(records "$kout" | awk '$4 != "TSIG"' | grep -c .)"
check_eq "kdig -y: every message signed" \
	"$(printf '%s\n' "$kout" | grep -Eo '\(([0-9]+) messages' | tr -dc 0-9)" \
	"$(records "$kout" | awk '$4 == "TSIG" && $11 == "NOERROR"' | grep -c .)"
check_nomatch "kdig -y: no error" ';; (ERROR|WARNING)|failed' "$kout"
out=$(axfr)
check_match "AXFR unsigned while a key is set: NOTAUTH" 'status: NOTAUTH' "$out"
check_match "... logged: unsigned" 'refused client=127\.0\.0\.1 qtype=AXFR reason=unsigned rcode=NOTAUTH' \
	"$(cat "$TL_LAST_LOG")"
out=$(axfr -y "hmac-sha256:xfr-key:$(head -c 32 /dev/urandom | base64)")
check_match "AXFR with the wrong secret: BADSIG" 'BADSIG' "$out"
check_match "... logged: tsig_badsig" 'reason=tsig_badsig rcode=NOTAUTH' "$(cat "$TL_LAST_LOG")"
out=$(axfr -y "hmac-sha256:another-key:$SECRET")
check_match "AXFR with another key name: BADKEY" 'BADKEY' "$out"
check_match "... logged: tsig_badkey" 'reason=tsig_badkey rcode=NOTAUTH' "$(cat "$TL_LAST_LOG")"
kout=$(kdig @127.0.0.1 -p "$PORT" +time=$((5 * TL_SLOW)) -y "hmac-sha256:xfr-key:$(head -c 32 /dev/urandom | base64)" "$Z" AXFR 2>&1)
check_match "kdig with the wrong secret: refused" 'BADSIG|NOTAUTH|failed' "$kout"
# A secondary signs its SOA check before a transfer (NSD, Knot): the answer is signed back.
for proto in +notcp +tcp; do
	out=$(tl_dig "$Z" SOA -y "$KEY" "$proto")
	check_match "signed SOA query ($proto): NOERROR" 'status: NOERROR' "$out"
	check_match "... the answer carries our TSIG" "^xfr-key\\.[[:space:]]+0[[:space:]]+ANY[[:space:]]+TSIG[[:space:]]+hmac-sha256\\. [0-9]+ 300 32 .* NOERROR 0" "$out"
	check_nomatch "... and dig verifies it" 'verify|[Cc]ouldn.t|BADSIG|failure' "$out"
done
kout=$(tl_kdig "$Z" SOA -y "$KEY")
check_match "kdig: signed SOA query answered NOERROR" 'status: NOERROR' "$kout"
check_nomatch "... and kdig verifies the TSIG" 'WARNING|ERROR:|failed' "$kout"
out=$(tl_dig "$Z" SOA -y "hmac-sha256:xfr-key:$(head -c 32 /dev/urandom | base64)")
check_match "SOA query signed with a wrong secret: NOTAUTH" 'status: NOTAUTH|BADSIG' "$out"
check_match "an unsigned SOA query is answered as ever" 'status: NOERROR' "$(tl_dig "$Z" SOA)"
tl_stop


# ---- the store's zone: the serial, NOTIFY ----
# A stand-in secondary answers NOTIFYs, checking and returning their TSIG (notifyd.py).
NPORT=$(tl_free_port) || tl_die "pick a free port for notifyd"
NLOG="$TL_TMP/notify.log"
: >"$NLOG"
python3 "$TL_DIR/notifyd.py" "$NPORT" "$NLOG" xfr-key "$SECRET" &
TL_PIDS+=("$!")
# A second secondary that never answers: nothing listens on its port.
DEAD=$(tl_free_port) || tl_die "pick a free port for a silent secondary"
cat >"$TL_TMP/live.conf" <<EOF
transfer_allow = 127.0.0.1/32
transfer_key = $KEY
notify = 127.0.0.1:$NPORT, 127.0.0.1:$DEAD
exclude_default = 127.0.0.0/8, ::1/128
EOF
notified() { grep -q "^serial=$1 signed=yes mac=ok$" "$NLOG"; }
list_ip() {
	"$TRAPLINE" evidence add --ip "$1" --kind trap --data "$TL_DATA" >/dev/null &&
		"$TRAPLINE" evidence add --ip "$1" --kind trap --data "$TL_DATA" >/dev/null
}

tl_start --config "$TL_TMP/live.conf"
DATA=$TL_DATA
S0=$(soa_serial)
check_match "a serial is served" '^[0-9]+$' "$S0"
if wait_for 5 notified "$S0"; then
	tl_ok "NOTIFY of the serial at start, signed (the secondary checked its MAC)"
else
	tl_fail "NOTIFY of the serial at start, signed" "$(cat "$NLOG")"
fi
list_ip 204.0.113.7 || tl_fail "evidence add"
if wait_for 5 serial_above "$S0"; then tl_ok "a new listing raises the serial"; else tl_fail "a new listing raises the serial" "still $(soa_serial)"; fi
S1=$(soa_serial)
if wait_for 5 notified "$S1"; then
	tl_ok "NOTIFY of the new serial"
else
	tl_fail "NOTIFY of the new serial $S1" "$(cat "$NLOG")"
fi
check_match "AXFR after the listing holds it" "^7\\.113\\.0\\.204\\.$Z\\. [0-9]+ IN A 127\\.0\\.0\\.2$" \
	"$(records "$(axfr -y "$KEY")")"
list_ip 204.0.113.8 || tl_fail "evidence add"
if wait_for 5 serial_above "$S1"; then tl_ok "the next listing raises it again"; else tl_fail "the next listing raises it again"; fi
S2=$(soa_serial)

# ---- IXFR ----
ixfr() { dig @127.0.0.1 -p "$PORT" +time=$((5 * TL_SLOW)) +tries=1 +comments "$Z" "IXFR=$1" -y "$KEY" "${@:2}" 2>&1; }
recs=$(records "$(ixfr "$S1")" | awk '$4 != "TSIG"')
check_eq "IXFR from the previous serial: SOA new, SOA old, SOA new, the listing, SOA new" 	"SOA $S2|SOA $S1|SOA $S2|A 204.0.113.8|TXT 204.0.113.8|SOA $S2" 	"$(printf '%s
' "$recs" | awk '$4 == "SOA" { printf "%sSOA %s", sep, $7 } $4 != "SOA" { split($1, o, "."); printf "%s%s %s.%s.%s.%s", sep, $4, o[4], o[3], o[2], o[1] } { sep = "|" }')"
check_match "IXFR is logged as incremental" "qtype=IXFR kind=incremental serial=$S2 from=$S1" "$(cat "$TL_LAST_LOG")"
kout=$(kdig @127.0.0.1 -p "$PORT" +time=$((5 * TL_SLOW)) -y "$KEY" "$Z" "IXFR=$S1" 2>&1)
check_match "kdig IXFR from the previous serial: verified, a few records" '\(1 messages, 6 records\)' "$kout"
recs=$(records "$(ixfr 1000)" | awk '$4 != "TSIG"')
check_match "IXFR from a serial the journal never held: the whole zone (AXFR form)" \
	"^$Z\\. [0-9]+ IN NS " "$(printf '%s\n' "$recs" | sed -n 2p)"
check_match "... with every listing" "^7\\.113\\.0\\.204\\.$Z\\. " "$recs"
check_match "... logged as full" "qtype=IXFR kind=full serial=$S2 from=1000" "$(cat "$TL_LAST_LOG")"
recs=$(records "$(ixfr "$S2")" | awk '$4 != "TSIG"')
check_eq "IXFR from the current serial: the SOA alone" "$Z. 3600 IN SOA" \
	"$(printf '%s\n' "$recs" | awk '{ print $1, $2, $3, $4 }')"
out=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +notcp "$Z" "IXFR=$S1" 2>&1)
check_eq "IXFR over UDP: the SOA alone (RFC 1995 2)" "SOA $S2" \
	"$(records "$out" | awk '{ print $4, $7 }')"
out=$(ixfr "$S1" -y "hmac-sha256:xfr-key:$(head -c 32 /dev/urandom | base64)")
check_match "IXFR with the wrong key: BADSIG" 'BADSIG' "$out"
# The silent secondary: its NOTIFY is tried again (1, 2, 4, 8, 16 s apart) and then named in one
# log line; the one that answers is told of every serial meanwhile.
unanswered() { grep -Eq "level=warn module=notify unanswered secondary=127\.0\.0\.1:$DEAD serial=[0-9]+ tries=" "$TL_LAST_LOG"; }
if wait_for 90 unanswered; then
	tl_ok "a secondary that never answers its NOTIFY is logged, once the retries are spent"
else
	tl_fail "a secondary that never answers its NOTIFY is logged" "$(grep module=notify "$TL_LAST_LOG" | tail -n 5)"
fi
check_eq "... in one line, not one a retry" 1 "$(grep -c "unanswered secondary=127\.0\.0\.1:$DEAD " "$TL_LAST_LOG")"
check_cmd "the answering secondary was still told of the last serial" notified "$S2"
tl_stop
tl_start --config "$TL_TMP/live.conf" --data "$DATA"
S3=$(soa_serial)
if [ -n "$S3" ] && [ "$S3" -gt "$S2" ]; then
	tl_ok "the serial rises across a restart ($S2 -> $S3)"
else
	tl_fail "the serial rises across a restart" "before: $S2, after: $S3"
fi
if wait_for 5 notified "$S3"; then tl_ok "NOTIFY after the restart"; else tl_fail "NOTIFY after the restart" "$(cat "$NLOG")"; fi
recs=$(records "$(ixfr "$S2")" | awk '$4 != "TSIG"')
check_eq "IXFR across the restart: the journal goes on (nothing changed but the serial)" \
	"SOA $S3|SOA $S2|SOA $S3|SOA $S3" \
	"$(printf '%s\n' "$recs" | awk '{ printf "%s%s %s", sep, $4, $7; sep = "|" }')"
recs=$(records "$(ixfr "$S1")" | awk '$4 != "TSIG"')
check_match "IXFR across the restart from two serials back: the listing made before it" \
	"^8\\.113\\.0\\.204\\.$Z\\. [0-9]+ IN A " "$recs"
check_eq "... in three steps" 3 "$(printf '%s\n' "$recs" | awk '$4 == "SOA"' | grep -c " $S3 ")"
check_match "the listings survive the restart in AXFR" "^8\\.113\\.0\\.204\\.$Z\\. " \
	"$(records "$(axfr -y "$KEY")")"
tl_stop

tl_finish
