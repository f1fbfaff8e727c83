#!/usr/bin/env bash
# test_bad_input.sh - malformed packets and a data file with garbage lines: the server must
# answer FORMERR where it can read a header, stay silent where it cannot, never answer an
# answer (QR=1), and keep serving normal queries throughout.
source "$(dirname "$0")/lib.sh"

Z=$TL_ZONE
DATA="$TL_TMP/mixed.zone"
cat >"$DATA" <<'EOF'
# good and bad lines mixed: the good ones must be served
:127.0.0.2:Listed $
1.2.3.4
this is not an address
999.1.2.3
10.0.0.0/33
5.6.7.8
1.2.3.4.5
:127.0.0.x:broken default
10.20.30.0/24
!!!
2001:db8::zz/64
$SOA not numbers
EOF
# Line numbers of the bad lines above, as the log must name them.
BAD_LINES="4 5 6 8 9 11 12 13"

tl_start --static "$DATA" --threads 2
LOG=$TL_LAST_LOG

still_answers() { # CHECK-NAME: a normal query still gets its normal answer
	local a
	a=$(dig @127.0.0.1 -p "$PORT" +time=$((2 * TL_SLOW)) +tries=2 +short "4.3.2.1.$Z" A 2>&1)
	check_eq "$1" 127.0.0.2 "$a"
}

echo "# a data file with garbage lines"
check_eq "good line before the garbage is served" 127.0.0.2 \
	"$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "4.3.2.1.$Z" A)"
check_eq "good line between garbage lines is served" 127.0.0.2 \
	"$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "8.7.6.5.$Z" A)"
check_eq "good range after the garbage is served" 127.0.0.2 \
	"$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short "9.30.20.10.$Z" A)"
check_eq "a bad line lists nothing (10.0.0.0/33)" NXDOMAIN \
	"$(rcode_of "$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 "1.0.0.10.$Z" A)")"
missing=""
for n in $BAD_LINES; do
	grep -q "mixed.zone:$n[: ]" "$LOG" || missing="$missing $n"
done
check_eq "every bad line is logged as file:line" "" "$missing"
check_nomatch "good lines are not reported" "mixed\.zone:(3|7|10)[: ]" "$(cat "$LOG")"

echo "# malformed packets"
raw() { python3 "$TL_PY" --timeout "$1" case "$PORT" "$2"; }
for kind in empty five; do
	check_eq "python/udp $kind packet (< 12 bytes): no answer" noanswer "$(raw $((1 * TL_SLOW)) $kind)"
	still_answers "still answers after the $kind packet"
done
for kind in header-only truncated-question truncated-type long-name label-64 pointer-loop \
	pointer-pair pointer-forward qdcount-0 qdcount-2; do
	got=$(raw $((2 * TL_SLOW)) $kind)
	check_match "python/udp $kind: FORMERR with our id" '^rcode=FORMERR qr=1 .*id_ok=1$' "$got"
	still_answers "still answers after $kind"
done
# QR=1: whatever else it holds, an answer is never answered (no reflection loops).
got=$(python3 "$TL_PY" --timeout $((1 * TL_SLOW)) raw "$PORT" \
	"4242850000010000000000000132013001300331323702626c076578616d706c65036f72670000010001")
check_eq "python/udp a well-formed response (QR=1) gets no answer" noanswer "$got"
got=$(python3 "$TL_PY" --timeout $((1 * TL_SLOW)) raw "$PORT" "42428000ffff")
check_eq "python/udp a short garbage response (QR=1) gets no answer" noanswer "$got"
still_answers "still answers after the QR=1 packets"

echo "# random garbage"
out=$(python3 "$TL_PY" --timeout $((2 * TL_SLOW)) garbage "$PORT" --count 3000 --seed 7)
rc=$?
if [ $rc -eq 0 ]; then
	tl_ok "python/udp 3000 random packets: every answer well-formed and allowed ($out)"
else
	tl_fail "python/udp 3000 random packets: every answer well-formed and allowed" "$out"
fi
still_answers "still answers after 3000 random packets"
out=$(python3 "$TL_PY" --timeout $((2 * TL_SLOW)) garbage "$PORT" --count 1000 --seed 8)
check_match "python/udp 1000 more random packets (another seed)" '^sent=1000 .* problems=0$' "$out"

echo "# garbage over TCP"
python3 - "$PORT" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
# A length prefix that promises more than is sent, then close; a zero-length message;
# bytes that are not even a length prefix.
for payload in (b"\x00\x40" + b"x" * 10, b"\x00\x00", b"\x01", b"\x00\x05\x00\x00\x00\x00\x00"):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(payload)
        s.close()
    except OSError:
        pass
EOF
got=$(python3 "$TL_PY" --timeout $((2 * TL_SLOW)) query "$PORT" "4.3.2.1.$Z" A --tcp)
check_match "python/tcp a normal query after broken TCP clients" '^rcode=NOERROR qr=1 aa=1 .* an=1 ' "$got"
still_answers "still answers over UDP after broken TCP clients"

check_nomatch "no sanitizer report or crash in the log" 'AddressSanitizer|runtime error|Segmentation' "$(cat "$LOG")"
tl_stop
tl_finish
