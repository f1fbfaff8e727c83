#!/usr/bin/env python3
"""smtpraw.py - a scripted SMTP client for the trap's integration tests: raw bytes, PROXY
headers, pauses and abrupt closes, which no real client sends on purpose.

    smtpraw.py PORT [--src IP] [--timeout S] STEP...

STEP is 'send:TEXT' (Python escapes: \\r\\n, \\x00), 'proxy1:SRC' (a PROXY v1 header naming
SRC), 'proxy2:SRC' (v2), 'sleep:S', 'read[:N]' (wait for N final reply lines, 1 by default), 'drain' (read
until the server closes or --timeout passes) or 'close' (close at once, without QUIT).
Everything the server sent is printed; '<closed>' when it closed the connection."""
import ipaddress
import socket
import struct
import sys
import time


def proxy_v2(src):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    ip = ipaddress.ip_address(src)
    if ip.version == 4:
        body = ip.packed + ipaddress.ip_address("192.0.2.25").packed + struct.pack("!HH", 40000, 25)
        return sig + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body
    body = ip.packed + ipaddress.ip_address("2001:db8::25").packed + struct.pack("!HH", 40000, 25)
    return sig + bytes([0x21, 0x21]) + struct.pack("!H", len(body)) + body


def finals(data):
    """How many complete final reply lines ("250 ...", not "250-...") data holds."""
    return sum(1 for line in data.split(b"\r\n")[:-1] if len(line) >= 4 and line[3:4] == b" ")


def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    src, timeout = None, 3.0
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--src":
            src = args.pop(0)
        elif opt == "--timeout":
            timeout = float(args.pop(0))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    got = b""
    closed = False

    def read_some(wait):
        nonlocal got, closed
        s.settimeout(wait)
        try:
            data = s.recv(65536)
            if not data:
                closed = True
            got += data
            return bool(data)
        except socket.timeout:
            return False
        except ConnectionResetError:
            closed = True
            return False

    for step in args:
        kind, _, arg = step.partition(":")
        if closed:
            break
        if kind == "send":
            try:
                s.sendall(arg.encode("latin-1").decode("unicode_escape").encode("latin-1"))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        elif kind == "proxy1":
            fam = "TCP6" if ":" in arg else "TCP4"
            dst = "2001:db8::25" if fam == "TCP6" else "192.0.2.25"
            s.sendall(("PROXY %s %s %s 40000 25\r\n" % (fam, arg, dst)).encode())
        elif kind == "proxy2":
            s.sendall(proxy_v2(arg))
        elif kind == "sleep":
            time.sleep(float(arg))
        elif kind == "read":
            want = int(arg or "1")
            end = time.time() + timeout
            start = len(got)
            while time.time() < end and not closed and finals(got[start:]) < want:
                read_some(max(0.01, end - time.time()))
        elif kind == "drain":
            end = time.time() + timeout
            while time.time() < end and not closed:
                read_some(max(0.01, end - time.time()))
        elif kind == "close":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            sys.stdout.write(got.decode("latin-1"))
            print("<client closed>")
            return
    sys.stdout.write(got.decode("latin-1"))
    if closed:
        print("<closed>")
    s.close()


main()
