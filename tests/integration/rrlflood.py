#!/usr/bin/env python3
"""rrlflood.py - floods one name over UDP from one source address, for test_rrl.sh.

  rrlflood.py PORT --source ADDR --name NAME --count N [--other ADDR --other-count M]
              [--names2 K] [--tcp T] [--timeout S]

Sends N queries for NAME from ADDR (one socket, so one client) as fast as Python can, and
meanwhile M queries for the same NAME from --other (another client), and K queries from ADDR
for K different names (other addresses: each its own bucket). Then, with --tcp, T queries for
NAME from ADDR over one TCP connection. Every read is bounded by --timeout; the UDP answers
are read until all came, --timeout passed or none came for a third of it. Prints one line:
  sent= full= tc= span= other_sent= other_full= other_tc= names2_sent= names2_full= names2_tc=
  tcp_sent= tcp_full=
full counts answers with TC=0, tc those with TC=1; span is how many distinct seconds the run
can have touched on the server's clock: floor(last answer - first send) + 2.
"""
import argparse
import math
import select
import socket
import struct
import sys
import time

ZONE = "bl.example.org"


def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)


def udp_socket(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((source, 0))
    s.setblocking(False)
    return s


def drain(socks, counts, wait):
    """Reads every answer waiting (or arriving within wait seconds); counts (kind, tc)."""
    got = 0
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        r, _, _ = select.select(socks, [], [], max(left, 0))
        if not r:
            return got
        for s in r:
            while True:
                try:
                    pkt = s.recv(4096)
                except BlockingIOError:
                    break
                if len(pkt) < 12:
                    continue
                qid, flags = struct.unpack(">HH", pkt[:4])
                kind = "other" if s is socks[1] else ("names2" if qid >= 0x8000 else "flood")
                counts[(kind, (flags >> 9) & 1)] += 1
                got += 1


def tcp_flood(port, source, name, n, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    msgs = b""
    for i in range(n):
        p = query(name, i)
        msgs += struct.pack(">H", len(p)) + p
    s.sendall(msgs)
    full = 0
    buf = b""
    try:
        while full < n:
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                ln = struct.unpack(">H", buf[:2])[0]
                msg, buf = buf[2:2 + ln], buf[2 + ln:]
                if len(msg) >= 12 and not (struct.unpack(">H", msg[2:4])[0] >> 9) & 1:
                    full += 1
            if full >= n:
                break
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except socket.timeout:
        pass
    finally:
        s.close()
    return full


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--source", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--other")
    ap.add_argument("--other-count", type=int, default=0)
    ap.add_argument("--names2", type=int, default=0)
    ap.add_argument("--tcp", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=2.0)
    a = ap.parse_args()

    dst = ("127.0.0.1", a.port)
    flood = udp_socket(a.source)
    other = udp_socket(a.other) if a.other else udp_socket(a.source)
    socks = [flood, other]
    counts = {(k, t): 0 for k in ("flood", "other", "names2") for t in (0, 1)}
    sent = other_sent = names2_sent = 0
    # Spread the other client's and the other names' queries over the flood.
    other_every = max(1, a.count // a.other_count) if a.other_count else 0
    names2_every = max(1, a.count // a.names2) if a.names2 else 0
    t0 = time.monotonic()
    for i in range(a.count):
        try:
            flood.sendto(query(a.name, i & 0x7FFF), dst)
            sent += 1
        except BlockingIOError:
            pass
        if other_every and i % other_every == 0 and other_sent < a.other_count:
            other.sendto(query(a.name, other_sent), dst)
            other_sent += 1
        if names2_every and i % names2_every == 0 and names2_sent < a.names2:
            n2 = "%d.%d.0.199.%s" % (names2_sent % 250 + 1, names2_sent // 250 + 1, ZONE)
            flood.sendto(query(n2, 0x8000 + names2_sent), dst)
            names2_sent += 1
        if i % 64 == 63:
            drain(socks, counts, 0)
    # Until every query is answered, --timeout passes, or no answer came for a third of it: a
    # short gap in the answers is no end on a loaded machine (a server thread descheduled for
    # a while), and a limited query that was dropped is never answered, so a run with drops
    # ends on the gap (1 s, 4 s under ASan). span counts up to the last answer that came.
    expected = sent + other_sent + names2_sent
    deadline = time.monotonic() + a.timeout
    last = time.monotonic()
    while sum(counts.values()) < expected:
        now = time.monotonic()
        left = min(deadline, last + a.timeout / 3) - now
        if left <= 0:
            break
        if drain(socks, counts, min(0.3, left)) > 0:
            last = time.monotonic()
    span = math.floor(last - t0) + 2
    tcp_full = tcp_flood(a.port, a.source, a.name, a.tcp, a.timeout) if a.tcp else 0
    print("sent=%d full=%d tc=%d span=%d other_sent=%d other_full=%d other_tc=%d "
          "names2_sent=%d names2_full=%d names2_tc=%d tcp_sent=%d tcp_full=%d" % (
              sent, counts[("flood", 0)], counts[("flood", 1)], span, other_sent,
              counts[("other", 0)], counts[("other", 1)], names2_sent,
              counts[("names2", 0)], counts[("names2", 1)], a.tcp, tcp_full))
    return 0


if __name__ == "__main__":
    sys.exit(main())
