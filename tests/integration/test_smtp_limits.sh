#!/usr/bin/env bash
# test_smtp_limits.sh - the trap's limits against clients that hold it without sending mail:
# a command line trickled a byte at a time is closed by its deadline (smtp_command_timeout
# counts the whole line, not the silence between bytes), a message trickled below
# smtp_data_min_rate is closed once smtp_data_timeout's grace is spent, a full session table
# makes room for a newcomer by closing the session idle the longest, and past smtp_memory_max a
# DATA is told 452 while the session holding the most of a stalled message is closed. Nothing
# closed this way is recorded; nothing acknowledged is lost.
source "$(dirname "$0")/lib.sh"

# A stalled message is one that has not grown for 2 s (STALL_NS in smtp_server.c); waiting this
# long after the client's last byte leaves the server (4x slower under ASan) time to read it.
STALL_WAIT=$((2 + TL_SLOW))

CONF=$TL_TMP/trap.conf
# The clients are on loopback, which the shipped exclude_default refuses as evidence (a
# special-purpose address): here it is an ordinary address, never listed.
cat >"$CONF" <<CONF
trap_domains = trap.example
exclude_default = 127.0.0.0/8, ::1/128
smtp_command_timeout = 3
smtp_data_timeout = 3
smtp_data_min_rate = 1000
smtp_max_sessions = 4
smtp_max_per_ip = 100
smtp_max_size = 262144
smtp_memory_max = 327680
CONF
tl_start --config "$CONF"
evidence_count() { tl_db "SELECT count(*) FROM evidence"; }
log() { cat "$TL_LAST_LOG"; }

# ---- a command line trickled a byte every 0.5 s ------------------------------------------------
# libevent's read timeout starts again with each byte, so only a deadline for the whole line
# closes this client: at smtp_command_timeout (3 s) after the greeting, 6 bytes in. It sends for
# 11 s if nobody stops it, and never pauses longer than 0.5 s, so no silence limit can be what
# closed it.
out=$(timeout $((60 * TL_SLOW)) python3 - "$SMTP_PORT" <<'PY'
import socket, sys, time
# t0 before the connection: the server's clock for the first line starts at its accept, so a
# t0 taken after the greeting arrived would make a slow greeting look like an early close.
t0 = time.monotonic()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.recv(512)
line, sent, got = b"EHLO trickle.example\r\n", 0, b""
s.settimeout(0.5)
for c in line:
    try:
        s.sendall(bytes([c]))
        sent += 1
    except OSError:
        break
    try:
        data = s.recv(512)
        got += data
        if not data:
            break
    except socket.timeout:
        pass
    except OSError:
        break
print("after %.1f s and %d of %d bytes: %s" % (time.monotonic() - t0, sent, len(line),
                                              got.decode().strip() or "(nothing)"))
PY
)
echo "    # $out"
check_match "a trickled command line is told 421 4.4.2 before it is complete" \
	'bytes: 421 4\.4\.2 .*timeout exceeded' "$out"
sent=$(printf '%s\n' "$out" | sed -n 's/.* and \([0-9]*\) of 22 bytes.*/\1/p')
check_match "the deadline closed it, the line unfinished (${sent:-?} of 22 bytes sent)" \
	'^([1-9]|1[0-9]|2[01])$' "${sent:-x}"
# A lower bound only (a loaded machine makes the close later, never earlier): the line had its
# whole smtp_command_timeout, 3 s, counted from before the client connected (so from no later
# than the server's accept); 0.1 s is the client's own measuring slack.
secs=$(printf '%s\n' "$out" | sed -n 's/^after \([0-9.]*\) s.*/\1/p')
check_match "not before smtp_command_timeout (${secs:-?} s)" '^([3-9]|[1-9][0-9])\.|^2\.9' "${secs:-0}"
check_match "the deadline is logged with the bytes of the unfinished line" \
	'session closed ip=127\.0\.0\.1 reason="smtp_command_timeout 3" line_bytes=[1-9]' "$(log)"

# Whole commands with pauses shorter than smtp_command_timeout keep a session as long as they
# come: each line has its own deadline. Eight lines 1 s apart: 7 s, over twice the timeout,
# while each pause leaves 2 s of the 3 s to the client's own scheduling on a loaded machine.
out=$(python3 "$TL_DIR/smtpraw.py" "$SMTP_PORT" --timeout $((5 * TL_SLOW)) read \
	'send:EHLO patient.example\r\n' read:1 \
	sleep:1 'send:NOOP\r\n' read sleep:1 'send:NOOP\r\n' read sleep:1 'send:NOOP\r\n' read \
	sleep:1 'send:NOOP\r\n' read sleep:1 'send:NOOP\r\n' read sleep:1 'send:NOOP\r\n' read \
	sleep:1 'send:QUIT\r\n' read)
check_match "a client sending whole lines under the timeout is served to its QUIT" \
	'^221 2\.0\.0 Bye' "$out"
check_nomatch "and never told 421" '^421 ' "$out"

# ---- a message trickled below smtp_data_min_rate -------------------------------------------------
# 1000 bytes/s after a 3 s grace: this one sends 10 bytes every 0.5 s (20 bytes/s), so its
# deadline is about 3 s after the 354; it would send for 15 s.
before=$(evidence_count)
out=$(timeout $((60 * TL_SLOW)) python3 - "$SMTP_PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
f.readline()
for cmd in (b"EHLO slow.example", b"MAIL FROM:<s@spam.example>", b"RCPT TO:<slow@trap.example>",
            b"DATA"):
    s.sendall(cmd + b"\r\n")
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            break
t0 = time.monotonic()
s.settimeout(0.5)
sent, got = 0, b""
for i in range(30):
    try:
        s.sendall(b"Subject: %d\r\n" % (i % 10))
        sent += 1
    except OSError:
        break
    try:
        data = s.recv(512)
        got += data
        if not data:
            break
    except socket.timeout:
        pass
    except OSError:
        break
print("after %.1f s and %d of 30 chunks: %s" % (time.monotonic() - t0, sent,
                                               got.decode().strip() or "(nothing)"))
PY
)
echo "    # $out"
check_match "a message trickled below the floor is told 421 4.4.2" 'chunks: 421 4\.4\.2 ' "$out"
chunks=$(printf '%s\n' "$out" | sed -n 's/.* and \([0-9]*\) of 30 chunks.*/\1/p')
check_match "before its end (${chunks:-?} of 30 chunks sent)" '^([1-9]|1[0-9]|2[0-9])$' "${chunks:-x}"
check_match "the floor is logged" \
	'session closed ip=127\.0\.0\.1 reason="smtp_data_min_rate 1000" bytes=[1-9][0-9]* seconds=[0-9]+ recorded=no' \
	"$(log)"
check_eq "the trickled message is not recorded" "$before" "$(evidence_count)"

# A message sent at 10 kB/s in pauses of 0.5 s (far above the floor) is taken.
out=$(timeout $((60 * TL_SLOW)) python3 - "$SMTP_PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
f.readline()
for cmd in (b"EHLO steady.example", b"MAIL FROM:<s@spam.example>", b"RCPT TO:<steady@trap.example>",
            b"DATA"):
    s.sendall(cmd + b"\r\n")
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            break
s.sendall(b"Subject: steady\r\n\r\n")
for i in range(10):
    s.sendall((b"x" * 98 + b"\r\n") * 50)
    time.sleep(0.5)
s.sendall(b".\r\n")
print(f.readline().decode().strip())
PY
)
check_match "a message well above the floor is stored (250)" '^250 2\.0\.0 ' "$out"
check_eq "and recorded" $((before + 1)) "$(evidence_count)"

# ---- a full table: a newcomer takes the place of the session idle the longest ------------------
out=$(timeout $((60 * TL_SLOW)) python3 - "$SMTP_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s, s.makefile("rb")
held = [connect() for _ in range(4)]       # smtp_max_sessions = 4
for s, f in held:
    f.readline()                            # greeted, in this order
for s, f in held[1:]:                       # the last three speak; the first stays idle
    s.sendall(b"NOOP\r\n")
    f.readline()
new, nf = connect()
print("newcomer:", nf.readline().decode().strip())
print("idlest:", held[0][1].readline().decode().strip(), "then",
      "closed" if held[0][1].readline() == b"" else "open")
for i, (s, f) in enumerate(held[1:]):
    s.sendall(b"NOOP\r\n")
    print("busy %d:" % i, f.readline().decode().strip())
PY
)
echo "$out" | sed 's/^/    # /'
check_match "a newcomer to a full table is greeted" '^newcomer: 220 ' "$out"
check_match "the session idle the longest is told 421 4.7.0 and closed" \
	'^idlest: 421 4\.7\.0 .*idle the longest then closed$' "$out"
check_eq "the sessions that spoke since are kept" 3 "$(printf '%s\n' "$out" | grep -c '^busy [0-9]: 250 ')"
check_match "the eviction is logged" \
	'session closed ip=127\.0\.0\.1 reason="smtp_max_sessions 4" idle_ms=[0-9]+' "$(log)"

# ---- a client that sends commands and never reads the replies ----------------------------------
# Pipelined NOOPs, 8 MB of them, into a socket whose replies are never read: past 64 KiB of
# replies waiting, the trap stops reading that session's commands, so its memory does not
# grow with what the client sends (19 MB of replies if it read them all).
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$TL_LAST_PID/status"; }
rss_before=$(rss)
timeout $((60 * TL_SLOW)) python3 - "$SMTP_PORT" "$TL_TMP/nr.done" >"$TL_TMP/nr.out" <<'PY' &
import os, select, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.recv(512)
s.setblocking(False)
chunk, sent, end = b"NOOP\r\n" * 10000, 0, time.monotonic() + 2
while sent < 8000000 and time.monotonic() < end:
    select.select([], [s], [], 0.2)
    try:
        sent += s.send(chunk)
    except BlockingIOError:
        pass
    except OSError:
        break
time.sleep(0.5)
print("sent", sent, flush=True)
while not os.path.exists(sys.argv[2]):  # the RSS is read meanwhile, the session still open
    time.sleep(0.05)
PY
nr_pid=$!
for _ in $(seq 1 $((100 * TL_SLOW))); do
	grep -q '^sent' "$TL_TMP/nr.out" && break
	sleep 0.1
done
rss_after=$(rss)
touch "$TL_TMP/nr.done"
wait "$nr_pid"
out=$(cat "$TL_TMP/nr.out")
echo "    # $out; VmRSS ${rss_before} kB before, ${rss_after} kB with the session open"
check_match "the client sent its commands into the socket" '^sent [1-9]' "$out"
# Held, they would be 19 MB of replies (14 MB more RSS, measured). Under ASan its quarantine
# keeps memory freed while the session is read: a few MB more, and a wider margin.
grown=$((rss_after - rss_before)) most=$((TL_SLOW > 1 ? 12000 : 4000))
if [ "$grown" -lt "$most" ]; then
	tl_ok "the trap's memory did not grow with them (${grown} kB, less than ${most})"
else
	tl_fail "the trap's memory did not grow with them" "grew ${grown} kB, ${most} at most"
fi
# A pipeline whose replies come back slower than it is sent makes the trap wait, and goes on
# as they are read: every NOOP answered, plain and inside TLS (whose replies pass a second
# buffer). The client reads through a small window, a second late, while it sends.
pipeline() {
	timeout $((60 * TL_SLOW)) python3 - "$SMTP_PORT" "$1" <<'PY'
import socket, ssl, sys, threading, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(30)
s.connect(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
if sys.argv[2] == "tls":
    s.sendall(b"EHLO tls.example\r\n")
    while f.readline()[3:4] == b"-":
        pass
    s.sendall(b"STARTTLS\r\n")
    f.readline()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(s)
    f = s.makefile("rb")
n, last = 0, b""
def read():
    global n, last
    time.sleep(1)
    while True:
        last = f.readline()
        if not last.startswith(b"250 "):
            return
        n += 1
r = threading.Thread(target=read)
r.start()
s.sendall(b"NOOP\r\n" * 400000 + b"QUIT\r\n")
r.join()
print(n, "NOOPs answered, then", last.decode().strip())
PY
}
out=$(pipeline plain)
check_match "a pipeline whose replies wait is answered whole" \
	'^400000 NOOPs answered, then 221 2\.0\.0 Bye' "$out"
out=$(pipeline tls)
check_match "inside TLS too" '^400000 NOOPs answered, then 221 2\.0\.0 Bye' "$out"
check_match "both waited for their replies to be taken" 'paused ip=127\.0\.0\.1 tls=no' "$(log)"
check_match "(inside TLS)" 'paused ip=127\.0\.0\.1 tls=yes' "$(log)"
check_match "the pause is logged" \
	'session paused ip=127\.0\.0\.1 reason="replies not taken" bytes=[0-9]+' "$(log)"

# ---- past smtp_memory_max -------------------------------------------------------------------------
# Message buffers start at 4 KiB and double, never past smtp_max_size (256 KiB): A's 200,000
# bytes hold 256 KiB and B's 50,000 bytes 64 KiB, 320 KiB together: the budget. C's DATA finds
# no room for its first 4 KiB: 452 4.3.1, and A, the largest of the stalled, is closed to make
# room, so that C's second DATA goes through. Then E stalls with 256 KiB and F sends 100,000
# bytes: F's buffer cannot double to 128 KiB beside E's, so E goes and F's message is taken.
# The stalled sessions must outlive the wait for their stall: timeouts of 60 s here.
tl_stop
sed -i 's/^smtp_command_timeout = .*/smtp_command_timeout = 60/; s/^smtp_data_timeout = .*/smtp_data_timeout = 60/; s/^smtp_max_sessions = .*/smtp_max_sessions = 100/' "$CONF"
tl_start --config "$CONF"
before=$(evidence_count)
out=$(timeout $((90 * TL_SLOW)) python3 - "$SMTP_PORT" "$STALL_WAIT" <<'PY'
import socket, sys, time
port, stall = int(sys.argv[1]), float(sys.argv[2])

def reply(f):
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            return l.decode().strip()

def session(name):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    reply(f)
    for cmd in (b"EHLO %s.example" % name, b"MAIL FROM:<%s@spam.example>" % name,
                b"RCPT TO:<%s@trap.example>" % name):
        s.sendall(cmd + b"\r\n")
        reply(f)
    return s, f

def body(n):
    return b"Subject: memory\r\n\r\n" + b"y" * (n - 19 - 2) + b"\r\n"

def data(s, f):
    s.sendall(b"DATA\r\n")
    return reply(f)

a, af = session(b"a")
print("A DATA:", data(a, af))
a.sendall(body(200000))
b, bf = session(b"b")
print("B DATA:", data(b, bf))
b.sendall(body(50000))
time.sleep(stall)
c, cf = session(b"c")
print("C DATA:", data(c, cf))
print("A told:", reply(af), "then", "closed" if af.readline() == b"" else "open")
print("C DATA again:", data(c, cf))
c.sendall(body(1000) + b".\r\n")
print("C end:", reply(cf))
b.sendall(b".\r\n")
print("B end:", reply(bf))
# The growth of an active message makes room too.
e, ef = session(b"e")
print("E DATA:", data(e, ef))
e.sendall(body(200000))
time.sleep(stall)
f_, ff = session(b"f")
print("F DATA:", data(f_, ff))
f_.sendall(body(100000) + b".\r\n")
print("F end:", reply(ff))
print("E told:", reply(ef))
for s in (a, b, c, e, f_):
    s.close()
PY
)
echo "$out" | sed 's/^/    # /'
check_match "A and B get their 354" '^B DATA: 354 ' "$out"
check_match "past smtp_memory_max a DATA is told 452 4.3.1" '^C DATA: 452 4\.3\.1 ' "$out"
check_match "the largest stalled session is told 421 4.3.1 and closed" \
	'^A told: 421 4\.3\.1 .*stalled then closed$' "$out"
check_match "the room made is there when the client tries again" '^C DATA again: 354 ' "$out"
check_match "its message is stored" '^C end: 250 2\.0\.0 ' "$out"
check_match "the smaller stalled session was kept, its message stored" '^B end: 250 2\.0\.0 ' "$out"
check_match "a growing message closes a stalled one when the budget is spent" \
	'^E told: 421 4\.3\.1 ' "$out"
check_match "and is stored itself" '^F end: 250 2\.0\.0 ' "$out"
check_eq "B, C and F recorded; A and E, closed unfinished, not" $((before + 3)) "$(evidence_count)"
check_eq "by their senders" "b@spam.example c@spam.example f@spam.example" \
	"$(tl_db "SELECT mail_from FROM trap_hits WHERE mail_from IN ('a@spam.example', 'b@spam.example', 'c@spam.example', 'e@spam.example', 'f@spam.example') ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')"
check_match "the refused DATA is logged" \
	'DATA refused ip=127\.0\.0\.1 reason="smtp_memory_max 327680" held=327680' "$(log)"
check_match "the closed session is logged with what it held" \
	'session closed ip=127\.0\.0\.1 reason="smtp_memory_max 327680" held=262144 stalled_ms=[0-9]+ recorded=no' \
	"$(log)"

check_cmd "the trap still greets" tl_smtp_greets
tl_stop
tl_finish
