#!/usr/bin/env python3
"""flood.py - malformed traffic at every port of a running service at once, for a bounded time:
random datagrams (and DNS headers followed by junk) to UDP DNS; connections that send random
bytes, bad length prefixes or stop halfway to TCP DNS; junk lines, NUL bytes and endless lines
to SMTP; broken request lines, binary junk and oversized headers to HTTP; random bytes to the
control socket. Each kind runs in its own threads at a bounded rate. Prints one line of counts
per kind. Used by test_fault_flood.sh; it never checks answers (the test does that with dig).

  flood.py --seconds N --dns PORT --smtp PORT --http PORT --ctl PATH [--seed S]
"""
import argparse
import os
import random
import socket
import struct
import threading
import time

counts = {}
lock = threading.Lock()


def count(kind, n=1):
    with lock:
        counts[kind] = counts.get(kind, 0) + n


def junk(rng, lo, hi):
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(lo, hi)))


def udp_dns(port, deadline, seed, pps):
    rng = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    gap = 1.0 / pps
    nxt = time.monotonic()
    while time.monotonic() < deadline:
        pick = rng.random()
        if pick < 0.4:
            pkt = junk(rng, 0, 600)
        elif pick < 0.8:
            # A plausible header (id, flags, counts) over junk: the parser's deeper paths.
            pkt = struct.pack(">HHHHHH", rng.getrandbits(16), rng.getrandbits(16),
                              rng.randint(0, 3), rng.randint(0, 3), rng.randint(0, 3),
                              rng.randint(0, 3)) + junk(rng, 0, 300)
        else:
            # A query whose name is junk labels, compression pointers included.
            name = b"".join(bytes([n]) + junk(rng, n, n) for n in
                            (rng.randint(0, 70) for _ in range(rng.randint(1, 6))))
            name += bytes([0xC0 | rng.getrandbits(6), rng.getrandbits(8)]) if rng.random() < .3 else b"\0"
            pkt = struct.pack(">HHHHHH", rng.getrandbits(16), 0, 1, 0, 0, 0) + name + \
                struct.pack(">HH", rng.getrandbits(16), rng.getrandbits(16))
        try:
            s.sendto(pkt, ("127.0.0.1", port))
            count("udp_dns")
        except OSError:
            count("udp_dns_send_error")
        try:
            while True:
                s.recv(4096)  # answers (FORMERR, ...) are read and dropped
        except OSError:
            pass
        nxt += gap
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def stream(kind, connect, deadline, seed, talk, cps):
    rng = random.Random(seed)
    gap = 1.0 / cps
    while time.monotonic() < deadline:
        start = time.monotonic()
        s = None
        try:
            s = connect()
            s.settimeout(0.5)
            talk(s, rng)
            count(kind)
        except OSError:
            count(kind + "_refused")  # refused, reset or timed out: limits doing their job
        finally:
            if s is not None:
                s.close()
        delay = gap - (time.monotonic() - start)
        if delay > 0:
            time.sleep(delay)


def tcp_connect(port):
    return lambda: socket.create_connection(("127.0.0.1", port), timeout=1)


def unix_connect(path):
    def c():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(path)
        return s
    return c


def drain(s):
    try:
        s.recv(65536)
    except OSError:
        pass


def talk_tcp_dns(s, rng):
    pick = rng.random()
    if pick < 0.3:
        s.sendall(junk(rng, 1, 2000))
    elif pick < 0.6:
        n = rng.randint(0, 65535)  # a length prefix, then less (or other) than it says
        s.sendall(struct.pack(">H", n) + junk(rng, 0, min(n, 500)))
    else:
        body = struct.pack(">HHHHHH", rng.getrandbits(16), rng.getrandbits(16), 1, 0, 0, 0) + \
            junk(rng, 0, 200)
        s.sendall(struct.pack(">H", len(body)) + body)
    drain(s)


def talk_smtp(s, rng):
    drain(s)  # the greeting
    pick = rng.random()
    if pick < 0.3:
        s.sendall(junk(rng, 1, 3000))
    elif pick < 0.5:
        s.sendall(b"EHLO " + b"x" * rng.randint(1000, 20000))  # a line without end
    elif pick < 0.7:
        s.sendall(b"\0\0\0HELO\0 a\r\nMAIL FROM:<\xff\xfe>\r\nRCPT TO:<" + junk(rng, 1, 100) + b">\r\n")
    else:
        lines = [junk(rng, 0, 80).replace(b"\n", b"") + b"\r\n" for _ in range(rng.randint(1, 30))]
        s.sendall(b"".join(lines))
    drain(s)


def talk_http(s, rng):
    pick = rng.random()
    if pick < 0.3:
        s.sendall(junk(rng, 1, 3000))
    elif pick < 0.5:
        s.sendall(b"GET /" + junk(rng, 0, 200).replace(b" ", b"") + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    elif pick < 0.7:
        s.sendall(b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + junk(rng, 0, 200))
    else:
        s.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * rng.randint(1000, 60000) + b"\r\n")
    drain(s)


def talk_ctl(s, rng):
    if rng.random() < 0.5:
        s.sendall(junk(rng, 1, 5000))
    else:
        s.sendall(b'{"cmd": ' + junk(rng, 0, 100) + b"}\n")
    drain(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--dns", type=int, required=True)
    ap.add_argument("--smtp", type=int, required=True)
    ap.add_argument("--http", type=int, required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "big"))
    a = ap.parse_args()
    deadline = time.monotonic() + a.seconds
    seed = a.seed
    threads = [threading.Thread(target=udp_dns, args=(a.dns, deadline, seed + i, 1500))
               for i in range(2)]
    for i, (kind, conn, talk, cps) in enumerate([
            ("tcp_dns", tcp_connect(a.dns), talk_tcp_dns, 150),
            ("smtp", tcp_connect(a.smtp), talk_smtp, 100),
            ("http", tcp_connect(a.http), talk_http, 100),
            ("ctl", unix_connect(a.ctl), talk_ctl, 100)]):
        for j in range(2):
            threads.append(threading.Thread(
                target=stream, args=(kind, conn, deadline, seed + 10 + 2 * i + j, talk, cps)))
    for t in threads:
        t.daemon = True
        t.start()
    for t in threads:
        t.join(a.seconds + 10)
    print("seed=%d %s" % (seed, " ".join("%s=%d" % kv for kv in sorted(counts.items()))))


if __name__ == "__main__":
    main()
