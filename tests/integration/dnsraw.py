#!/usr/bin/env python3
"""dnsraw.py - raw DNS packets for the integration tests: what dig and kdig cannot send.

Subcommands (PORT is on 127.0.0.1; every read is bounded by --timeout):
  query PORT NAME TYPE [--opcode N] [--qr] [--tcp]   one query, prints the answer header
  raw PORT HEX                                       sends bytes as given, prints the header
  case PORT KIND                                     one malformed packet of a named kind
  garbage PORT --count N --seed S                    random packets; checks every answer
  tcpmulti PORT NAME...                              several A queries on one TCP connection
  tcpidle PORT SECONDS                               how long an idle TCP connection is kept
  tcphold PORT --count N --sources A[,B...] --hold S  holds N TCP connections (one source
          [--partial] [--settle S]                   after another), prints how many the
                                                     server closed, keeps the rest S seconds
  tcptrickle PORT --gap S                            one TCP query sent a byte every S seconds;
                                                     prints when the server closed it
  compare PORT_A PORT_B QUERYFILE [--tolerate-short]  the same UDP queries to two servers,
                                                     rcode and answer records compared
A header prints as "rcode=NAME qr=1 aa=1 tc=0 opcode=0 qd=1 an=1 ns=0 ar=0 id_ok=1", and
"noanswer" when nothing came back in time.
"""
import argparse
import random
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TYPES = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "ANY": 255}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode()
            out += bytes([len(b)]) + b
    return out + b"\0"


def header(qid, qr=False, opcode=0, rd=False, qd=1, an=0, ns=0, ar=0):
    flags = (0x8000 if qr else 0) | ((opcode & 15) << 11) | (0x0100 if rd else 0)
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def build_query(name, qtype, qid=0x1234, opcode=0, qr=False):
    t = TYPES.get(qtype.upper()) if isinstance(qtype, str) else qtype
    if t is None:
        t = int(qtype)
    return header(qid, qr=qr, opcode=opcode) + encode_name(name) + struct.pack(">HH", t, 1)


def describe(resp, qid):
    if resp is None:
        return "noanswer"
    if len(resp) < 12:
        return "short len=%d" % len(resp)
    rid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", resp[:12])
    rc = flags & 15
    return "rcode=%s qr=%d aa=%d tc=%d opcode=%d qd=%d an=%d ns=%d ar=%d id_ok=%d" % (
        RCODES.get(rc, str(rc)), flags >> 15, (flags >> 10) & 1, (flags >> 9) & 1,
        (flags >> 11) & 15, qd, an, ns, ar, int(rid == qid))


def udp_exchange(port, pkt, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(pkt, ("127.0.0.1", port))
        try:
            return s.recvfrom(65535)[0]
        except socket.timeout:
            return None
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_exchange(port, pkt, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(struct.pack(">H", len(pkt)) + pkt)
        ln = recv_exact(s, 2)
        if ln is None:
            return None
        return recv_exact(s, struct.unpack(">H", ln)[0])
    except socket.timeout:
        return None
    finally:
        s.close()


def qid_of(pkt):
    return struct.unpack(">H", pkt[:2])[0] if len(pkt) >= 2 else -1


# Malformed packets with a readable header (the answer must be FORMERR) or without one.
def malformed(kind):
    q = lambda rest, qd=1: header(0x4242, qd=qd) + rest
    tail = struct.pack(">HH", 1, 1)
    if kind == "empty":
        return b""
    if kind == "five":
        return b"\x42\x42\x01\x00\x00"
    if kind == "header-only":          # QDCOUNT=1 but no question follows
        return q(b"")
    if kind == "truncated-question":   # name cut in the middle of a label
        return q(b"\x01\x34\x01\x33\x07bl.exa")
    if kind == "truncated-type":       # name complete, QTYPE/QCLASS cut
        return q(encode_name("2.0.0.127.bl.example.org") + b"\x00")
    if kind == "long-name":            # 4 x 63-byte labels + more: > 255 bytes on the wire
        return q((b"\x3f" + b"a" * 63) * 4 + b"\x03bl1\x00" + tail)
    if kind == "label-64":             # length byte 64 is neither a label nor a pointer
        return q(b"\x40" + b"a" * 64 + encode_name("bl.example.org") + tail)
    if kind == "pointer-loop":         # the name points at itself
        return q(b"\xc0\x0c" + tail)
    if kind == "pointer-pair":         # two pointers that point at each other
        return q(b"\xc0\x0e\xc0\x0c" + tail)
    if kind == "pointer-forward":      # a pointer past the end of the packet
        return q(b"\xc0\xff" + tail)
    if kind == "qdcount-2":            # two questions: not something a DNSBL answers
        one = encode_name("2.0.0.127.bl.example.org") + tail
        return q(one + one, qd=2)
    if kind == "qdcount-0":
        return q(b"", qd=0)
    raise SystemExit("unknown case " + kind)


def cmd_garbage(port, count, seed, timeout):
    """Sends COUNT random packets (a mix of pure noise and mangled queries) from one socket,
    collects the answers and checks each: QR set, id of a packet we sent with QR=0, and never
    an answer to a packet shorter than 12 bytes or one with QR=1."""
    rng = random.Random(seed)
    base = build_query("2.0.0.127.bl.example.org", "A")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent = {}
    bad = []
    answers = 0

    def drain():
        nonlocal answers
        while True:
            try:
                r = s.recv(65535)
            except BlockingIOError:
                return
            answers += 1
            if len(r) < 12:
                bad.append("answer shorter than a header")
                continue
            rid, flags = struct.unpack(">HH", r[:4])
            if not flags & 0x8000:
                bad.append("answer without QR")
            if rid not in sent:
                bad.append("answer with an id we never sent (%d)" % rid)
            elif sent[rid] == "noanswer":
                bad.append("answer to a packet that must get none (id %d)" % rid)

    for i in range(count):
        qid = i & 0xFFFF
        kind = rng.random()
        if kind < 0.4:
            pkt = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 600)))
        elif kind < 0.8:
            p = bytearray(base)
            for _ in range(rng.randint(1, 6)):
                p[rng.randrange(len(p))] = rng.getrandbits(8)
            pkt = bytes(p[: rng.randint(0, len(p))]) if rng.random() < 0.3 else bytes(p)
        else:
            pkt = base + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 100)))
        if len(pkt) >= 2:
            pkt = struct.pack(">H", qid) + pkt[2:]
        # Random packets reuse ids; remember the strictest expectation per id.
        must_not = len(pkt) < 12 or (pkt[2] & 0x80)
        if qid not in sent or must_not:
            sent[qid] = "noanswer" if must_not else "any"
        try:
            s.sendto(pkt, ("127.0.0.1", port))
        except OSError:
            pass
        if i % 64 == 0:
            time.sleep(0.002)
            drain()
    end = time.time() + timeout
    while time.time() < end:
        time.sleep(0.05)
        drain()
    s.close()
    print("sent=%d answers=%d problems=%d" % (count, answers, len(bad)))
    for b in sorted(set(bad))[:10]:
        print("problem: " + b)
    return 1 if bad else 0


def cmd_tcpmulti(port, names, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        msgs = b""
        for i, n in enumerate(names):
            p = build_query(n, "A", qid=1000 + i)
            msgs += struct.pack(">H", len(p)) + p
        s.sendall(msgs)  # pipelined: every query before any answer (RFC 7766 6.2.1.1)
        got = {}
        for _ in names:
            ln = recv_exact(s, 2)
            if ln is None:
                break
            r = recv_exact(s, struct.unpack(">H", ln)[0])
            if r is None:
                break
            rid, flags = struct.unpack(">HH", r[:4])
            got[rid] = RCODES.get(flags & 15, str(flags & 15))
        for i, n in enumerate(names):
            print("%s %s" % (n, got.get(1000 + i, "noanswer")))
    except socket.timeout:
        print("timeout")
        return 1
    finally:
        s.close()
    return 0


def cmd_tcpidle(port, limit):
    """Connects, sends one query, then stays idle; prints after how many seconds the server
    closed the connection, or "open" if it still was after LIMIT seconds."""
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
    p = build_query("2.0.0.127.bl.example.org", "A")
    s.sendall(struct.pack(">H", len(p)) + p)
    ln = recv_exact(s, 2)
    if ln is None or recv_exact(s, struct.unpack(">H", ln)[0]) is None:
        print("noanswer")
        return 1
    start = time.time()
    try:
        while True:
            if not s.recv(1):
                print("closed after %.1f" % (time.time() - start))
                return 0
    except socket.timeout:
        print("open")
        return 0
    except ConnectionResetError:
        print("closed after %.1f" % (time.time() - start))
        return 0
    finally:
        s.close()


def peer_closed(s):
    """True when the server has closed s (end of file or reset); never blocks. (With a
    timeout set, Python would wait it out on a socket with nothing to read.)"""
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def cmd_tcphold(port, count, sources, hold, partial, settle, timeout):
    """Opens COUNT connections to the server, the i-th from SOURCES[i % len], each idle or,
    with --partial, with 1 byte of a 32-byte query sent (a query in progress). After SETTLE
    seconds prints "open=N closed=M failed=K" (closed: by the server), then keeps the
    connections HOLD seconds and closes them. Opening stops after TIMEOUT seconds."""
    srcs = sources.split(",")
    conns, failed = [], 0
    deadline = time.time() + timeout
    for i in range(min(count, 4096)):
        if time.time() > deadline:
            failed += count - i
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.bind((srcs[i % len(srcs)], 0))
            s.connect(("127.0.0.1", port))
            if partial:
                s.sendall(b"\x00\x20\x12")
        except OSError:
            failed += 1
            s.close()
            continue
        conns.append(s)
    time.sleep(settle)
    closed = sum(1 for s in conns if peer_closed(s))
    print("open=%d closed=%d failed=%d" % (len(conns) - closed, closed, failed), flush=True)
    time.sleep(min(hold, 600))
    for s in conns:
        s.close()
    return 0


def cmd_tcptrickle(port, gap, timeout):
    """Sends one A query over TCP a byte at a time, GAP seconds apart (a client that is never
    idle for long but never finishes). Prints "closed after_bytes=N of=M" when the server
    closed the connection after N bytes, or "answered" / "open" when the query got through
    or nothing happened within TIMEOUT seconds after the last byte."""
    p = build_query("2.0.0.127.bl.example.org", "A")
    frame = struct.pack(">H", len(p)) + p
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        for i in range(len(frame)):
            time.sleep(gap)
            if peer_closed(s):
                print("closed after_bytes=%d of=%d" % (i, len(frame)))
                return 0
            s.setblocking(True)
            try:
                s.sendall(frame[i:i + 1])
            except OSError:
                print("closed after_bytes=%d of=%d" % (i, len(frame)))
                return 0
        s.settimeout(timeout)
        try:
            print("answered" if s.recv(2) else "closed after_bytes=%d of=%d" % (len(frame), len(frame)))
        except socket.timeout:
            print("open")
        except OSError:
            print("closed after_bytes=%d of=%d" % (len(frame), len(frame)))
    finally:
        s.close()
    return 0


# ---- a small response parser (for compare) --------------------------------------------

RTYPES = {v: k for k, v in TYPES.items()}


def read_name(msg, off):
    """Returns (name, offset after the name in place); follows compression pointers."""
    labels = []
    end = None
    hops = 0
    while True:
        if off >= len(msg):
            raise ValueError("name past the end")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg) or hops > 64:
                raise ValueError("bad pointer")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            continue
        if n == 0:
            return ".".join(labels) + ".", (end if end is not None else off + 1)
        labels.append(msg[off + 1: off + 1 + n].decode("latin-1"))
        off += 1 + n


def rdata_text(msg, off, rtype, rdlen):
    rd = msg[off: off + rdlen]
    if rtype == 1 and rdlen == 4:
        return ".".join(str(b) for b in rd)
    if rtype == 16:
        parts, i = [], 0
        while i < len(rd):
            parts.append('"%s"' % rd[i + 1: i + 1 + rd[i]].decode("latin-1"))
            i += 1 + rd[i]
        return " ".join(parts)
    if rtype == 2:
        return read_name(msg, off)[0]
    if rtype == 6:
        m, o = read_name(msg, off)
        r, o = read_name(msg, o)
        return "%s %s %d %d %d %d %d" % ((m, r) + struct.unpack(">IIIII", msg[o: o + 20]))
    return rd.hex()


def parse_response(msg):
    """(rcode, flags, [answer RRs], [authority RRs]); an RR is "owner ttl TYPE data"."""
    rid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        off = read_name(msg, off)[1] + 4
    sections = []
    for count in (an, ns):
        rrs = []
        for _ in range(count):
            name, off = read_name(msg, off)
            rtype, _cls, ttl, rdlen = struct.unpack(">HHIH", msg[off: off + 10])
            off += 10
            rrs.append("%s %d %s %s" % (name, ttl, RTYPES.get(rtype, str(rtype)),
                                        rdata_text(msg, off, rtype, rdlen)))
            off += rdlen
        sections.append(sorted(rrs))
    return RCODES.get(flags & 15, str(flags & 15)), flags, sections[0], sections[1]


def mask_serial(rr):
    f = rr.split(" ")
    if len(f) >= 6 and f[2] == "SOA":
        f[5] = "SERIAL"
    return " ".join(f)


def cmd_compare(port_a, port_b, qfile, tolerate_short, zone, timeout):
    """Sends every "NAME TYPE" line of QFILE to both servers over UDP (no EDNS, as most DNSBL
    clients send) and compares the rcode and the answer records. Authority sections differ
    by design (rbldnsd adds its NS records to positive answers) and are only counted."""
    zlabels = len(zone.rstrip(".").split("."))
    same = diff = tolerated = 0
    auth_ns = answered = 0
    for qid, line in enumerate(open(qfile)):
        f = line.split()
        if len(f) < 2:
            continue
        pkt = build_query(f[0], f[1], qid=qid & 0xFFFF)
        res = []
        for port in (port_a, port_b):
            r = udp_exchange(port, pkt, timeout)
            res.append(parse_response(r) if r else None)
        a, b = res
        if a is None or b is None:
            diff += 1
            print("DIFF %s %s: no answer from %s" % (f[0], f[1], "A" if a is None else "B"))
            continue
        if a[2]:
            answered += 1
        if b[3] and any(" NS " in rr for rr in b[3]) and a[0] == "NOERROR" and a[2]:
            auth_ns += 1
        # The authority sections must agree once rbldnsd's NS records are set aside; SOA
        # serials are masked (serial 0 in a file means "now" to both, a second apart maybe).
        auth_a, auth_b = (sorted(mask_serial(rr) for rr in x[3] if " NS " not in rr) for x in (a, b))
        if a[0] == b[0] and a[2] == b[2]:
            if auth_a == auth_b:
                same += 1
            else:
                diff += 1
                print("DIFF %s %s: authority A=%s B=%s" % (f[0], f[1], auth_a, auth_b))
            continue
        # Names shorter than a full address (fewer than 4 IPv4 labels / 32 IPv6 nibbles):
        # Trapline answers NOERROR/NODATA for a name with listed names below it (an empty
        # non-terminal, RFC 8020), rbldnsd answers NXDOMAIN.
        nlabels = len(f[0].rstrip(".").split(".")) - zlabels
        if tolerate_short and nlabels < 4 and {a[0], b[0]} == {"NOERROR", "NXDOMAIN"} \
                and not a[2] and not b[2]:
            tolerated += 1
            print("TOLERATED %s %s: A=%s B=%s (empty non-terminal)" % (f[0], f[1], a[0], b[0]))
            continue
        diff += 1
        print("DIFF %s %s: rcode A=%s B=%s" % (f[0], f[1], a[0], b[0]))
        for rr in a[2]:
            if rr not in b[2]:
                print("    only A: " + rr)
        for rr in b[2]:
            if rr not in a[2]:
                print("    only B: " + rr)
    print("same=%d different=%d tolerated=%d with_answer=%d b_ns_in_authority=%d"
          % (same, diff, tolerated, answered, auth_ns))
    return 1 if diff else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=2.0)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("query")
    p.add_argument("port", type=int)
    p.add_argument("name")
    p.add_argument("type")
    p.add_argument("--opcode", type=int, default=0)
    p.add_argument("--qr", action="store_true")
    p.add_argument("--tcp", action="store_true")
    p = sub.add_parser("raw")
    p.add_argument("port", type=int)
    p.add_argument("hex")
    p = sub.add_parser("case")
    p.add_argument("port", type=int)
    p.add_argument("kind")
    p = sub.add_parser("garbage")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=3000)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("tcpmulti")
    p.add_argument("port", type=int)
    p.add_argument("names", nargs="+")
    p = sub.add_parser("tcpidle")
    p.add_argument("port", type=int)
    p.add_argument("seconds", type=float)
    p = sub.add_parser("tcphold")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--sources", default="127.0.0.1")
    p.add_argument("--hold", type=float, default=30)
    p.add_argument("--settle", type=float, default=0.5)
    p.add_argument("--partial", action="store_true")
    p = sub.add_parser("tcptrickle")
    p.add_argument("port", type=int)
    p.add_argument("--gap", type=float, default=0.2)
    p = sub.add_parser("compare")
    p.add_argument("port_a", type=int)
    p.add_argument("port_b", type=int)
    p.add_argument("qfile")
    p.add_argument("--zone", default="bl.example.org")
    p.add_argument("--tolerate-short", action="store_true")
    a = ap.parse_args()

    if a.cmd == "query":
        pkt = build_query(a.name, a.type, opcode=a.opcode, qr=a.qr)
        ex = tcp_exchange if a.tcp else udp_exchange
        print(describe(ex(a.port, pkt, a.timeout), qid_of(pkt)))
    elif a.cmd == "raw":
        pkt = bytes.fromhex(a.hex)
        print(describe(udp_exchange(a.port, pkt, a.timeout), qid_of(pkt)))
    elif a.cmd == "case":
        pkt = malformed(a.kind)
        print(describe(udp_exchange(a.port, pkt, a.timeout), qid_of(pkt)))
    elif a.cmd == "garbage":
        return cmd_garbage(a.port, a.count, a.seed, a.timeout)
    elif a.cmd == "tcpmulti":
        return cmd_tcpmulti(a.port, a.names, a.timeout)
    elif a.cmd == "tcpidle":
        return cmd_tcpidle(a.port, a.seconds)
    elif a.cmd == "tcphold":
        return cmd_tcphold(a.port, a.count, a.sources, a.hold, a.partial, a.settle, a.timeout)
    elif a.cmd == "tcptrickle":
        return cmd_tcptrickle(a.port, a.gap, a.timeout)
    elif a.cmd == "compare":
        return cmd_compare(a.port_a, a.port_b, a.qfile, a.tolerate_short, a.zone, a.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
