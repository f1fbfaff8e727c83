#!/usr/bin/env python3
"""httpraw.py - raw HTTP for the web's integration tests: what curl will not send, slowly or
wrongly framed, and exactly what came back.

Subcommands (HOST defaults to 127.0.0.1; every read is bounded by --timeout):
  answer PORT REQUEST        sends REQUEST (Python escapes: \\r\\n, \\x00) and reads until the
                             server closes; prints "lines=N status=S ctype=0|1 security=0|1
                             closed=0|1": N status lines in all (exactly one answer per
                             request), the first one's status, whether it had a Content-Type
                             and every security header, and whether the server closed
  trickle PORT REQUEST --gap S [--slow-body] [--for S]
                             sends REQUEST a byte every S seconds (with --slow-body the head
                             whole, then the body so); prints "closed after_bytes=N of=M",
                             "answered STATUS", or "open" when the server had not closed it
                             after --for seconds of trickling
  keepalive PORT --requests N --gap S
                             N GET / requests on one connection, each sent whole S seconds
                             after the previous answer; prints their statuses, or "closed"
  hold PORT --count N --sources A[,B...] [--settle S] [--hold S]
                             N connections (the i-th from SOURCES[i % len]), each with half a
                             request head sent; after SETTLE seconds prints "open=N closed=M
                             failed=K" (closed: by the server), keeps the rest HOLD seconds
"""
import argparse
import socket
import sys
import time

SECURITY = (b"content-security-policy:", b"x-content-type-options: nosniff",
            b"referrer-policy: no-referrer", b"x-frame-options: deny")


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def connect(host, port, timeout, src=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def peer_closed(s):
    """True when the server has closed s (end of file or reset); never blocks."""
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def read_all(s, limit):
    data, closed = b"", False
    end = time.time() + limit
    while len(data) < 1 << 20 and time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not b:
            closed = True
            break
        data += b
    return data, closed


def cmd_answer(a):
    s = connect(a.host, a.port, a.timeout)
    try:
        s.sendall(unescape(a.request))
    except OSError:
        pass
    data, closed = read_all(s, a.timeout)
    s.close()
    # Every status line, wherever it is: a second answer may follow a body.
    lines = data.count(b"HTTP/1.1 ") + data.count(b"HTTP/1.0 ")
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    first = head.split(b"\r\n", 1)[0].decode("latin-1")
    status = first.split(" ")[1] if first.startswith("http/") and " " in first else "none"
    hlines = head.split(b"\r\n")[1:]
    ctype = any(h.startswith(b"content-type:") for h in hlines)
    security = all(any(h.startswith(w) for h in hlines) for w in SECURITY)
    print("lines=%d status=%s ctype=%d security=%d closed=%d"
          % (lines, status, int(ctype), int(security), int(closed)))
    return 0


def cmd_trickle(a):
    req = unescape(a.request)
    s = connect(a.host, a.port, a.timeout)
    try:
        start = 0
        if a.slow_body:
            start = req.index(b"\r\n\r\n") + 4
            s.sendall(req[:start])
        end = time.time() + a.for_s
        for i in range(start, len(req)):
            if time.time() > end:
                print("open")
                return 0
            time.sleep(a.gap)
            if peer_closed(s):
                print("closed after_bytes=%d of=%d" % (i, len(req)))
                return 0
            try:
                s.sendall(req[i:i + 1])
            except OSError:
                print("closed after_bytes=%d of=%d" % (i, len(req)))
                return 0
        data, closed = read_all(s, a.timeout)
        if data.startswith(b"HTTP/"):
            print("answered %s" % data.split(b" ", 2)[1].decode("latin-1"))
        elif closed:
            print("closed after_bytes=%d of=%d" % (len(req), len(req)))
        else:
            print("open")
    finally:
        s.close()
    return 0


def read_answer(s, limit):
    """One answer (headers and a Content-Length body) from a kept-alive connection: its
    status, or None when the connection closed first."""
    data = b""
    end = time.time() + limit
    while b"\r\n\r\n" not in data:
        s.settimeout(max(0.05, end - time.time()))
        b = s.recv(65536)
        if not b:
            return None
        data += b
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for h in head.split(b"\r\n")[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        s.settimeout(max(0.05, end - time.time()))
        b = s.recv(65536)
        if not b:
            return None
        body += b
    return head.split(b" ", 2)[1].decode("latin-1")


def cmd_keepalive(a):
    s = connect(a.host, a.port, a.timeout)
    got = []
    try:
        for i in range(a.requests):
            if i:
                time.sleep(a.gap)
            try:
                s.sendall(b"GET /static/style.css HTTP/1.1\r\nHost: a\r\n\r\n")
                st = read_answer(s, a.timeout)
            except OSError:
                st = None
            if st is None:
                got.append("closed")
                break
            got.append(st)
    finally:
        s.close()
    print(" ".join(got))
    return 0


def cmd_hold(a):
    srcs = a.sources.split(",")
    conns, failed = [], 0
    deadline = time.time() + a.timeout
    for i in range(min(a.count, 4096)):
        if time.time() > deadline:
            failed += a.count - i
            break
        try:
            s = connect(a.host, a.port, 2, srcs[i % len(srcs)])
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")  # and the rest never comes
        except OSError:
            failed += 1
            continue
        conns.append(s)
        time.sleep(a.pace)
    time.sleep(a.settle)
    shut = [peer_closed(s) for s in conns]
    print("open=%d closed=%d failed=%d" % (shut.count(False), shut.count(True), failed),
          flush=True)
    time.sleep(min(a.hold, 600))
    for s in conns:
        s.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--host", default="127.0.0.1")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("answer")
    p.add_argument("port", type=int)
    p.add_argument("request")
    p = sub.add_parser("trickle")
    p.add_argument("port", type=int)
    p.add_argument("request")
    p.add_argument("--gap", type=float, default=0.5)
    p.add_argument("--slow-body", action="store_true")
    p.add_argument("--for", dest="for_s", type=float, default=600)
    p = sub.add_parser("keepalive")
    p.add_argument("port", type=int)
    p.add_argument("--requests", type=int, default=3)
    p.add_argument("--gap", type=float, default=1.0)
    p = sub.add_parser("hold")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--sources", default="127.0.0.1")
    p.add_argument("--settle", type=float, default=0.5)
    p.add_argument("--hold", type=float, default=30)
    p.add_argument("--pace", type=float, default=0.02)
    a = ap.parse_args()
    return {"answer": cmd_answer, "trickle": cmd_trickle, "keepalive": cmd_keepalive,
            "hold": cmd_hold}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
