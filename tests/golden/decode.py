#!/usr/bin/env python3
"""decode.py - prints golden DNS messages (*.hex) readably, for reviewing recorded answers.

Usage: decode.py [FILE.hex ...] (default: every *.answer.hex here, each after its query)."""
import glob
import os
import struct
import sys

TYPES = {1: "A", 2: "NS", 6: "SOA", 15: "MX", 16: "TXT", 28: "AAAA", 41: "OPT", 251: "IXFR",
         252: "AXFR", 255: "ANY"}
RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]


def read_hex(path):
    return bytes.fromhex("".join(l.strip() for l in open(path) if not l.startswith("#")))


def name(m, p):
    labels, end, hops = [], None, 0
    while True:
        n = m[p]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = p + 2
            p = (n & 0x3F) << 8 | m[p + 1]
            hops += 1
            assert hops < 20, "pointer loop"
            continue
        if n == 0:
            return ".".join(labels) + ".", (end if end is not None else p + 1)
        labels.append(m[p + 1:p + 1 + n].decode("latin1"))
        p += 1 + n


def rdata(m, t, p, n):
    if t == 1:
        return ".".join(str(b) for b in m[p:p + 4])
    if t == 2:
        return name(m, p)[0]
    if t == 6:
        mn, q = name(m, p)
        rn, q = name(m, q)
        return "%s %s %d %d %d %d %d" % ((mn, rn) + struct.unpack("!5I", m[q:q + 20]))
    if t == 16:
        out, q = [], p
        while q < p + n:
            out.append('"%s"(%d)' % (m[q + 1:q + 1 + m[q]].decode("latin1"), m[q]))
            q += 1 + m[q]
        return " ".join(out)
    return m[p:p + n].hex()


def decode(m):
    if len(m) == 0:
        return "  (no answer)"
    qid, f, qd, an, ns, ar = struct.unpack("!6H", m[:12])
    flags = [x for b, x in [(15, "qr"), (10, "aa"), (9, "tc"), (8, "rd"), (7, "ra"), (5, "ad"),
                            (4, "cd")] if f >> b & 1]
    rc = f & 15
    out = ["  id=%#06x opcode=%d rcode=%s flags=%s qd=%d an=%d ns=%d ar=%d" %
           (qid, f >> 11 & 15, RCODES[rc] if rc < 6 else rc, ",".join(flags), qd, an, ns, ar)]
    p = 12
    for _ in range(qd):
        n, p = name(m, p)
        t, c = struct.unpack("!HH", m[p:p + 4])
        p += 4
        out.append("  Q  %s %s class=%d" % (n, TYPES.get(t, t), c))
    for i in range(an + ns + ar):
        sec = "AN" if i < an else "NS" if i < an + ns else "AR"
        n, p = name(m, p)
        t, c, ttl, rl = struct.unpack("!HHIH", m[p:p + 10])
        p += 10
        if t == 41:
            out.append("  %s OPT udp=%d ext_rcode=%d version=%d do=%d rdlen=%d" %
                       (sec, c, ttl >> 24, ttl >> 16 & 255, ttl >> 15 & 1, rl))
        else:
            out.append("  %s %s %d %s %s" % (sec, n, ttl, TYPES.get(t, t), rdata(m, t, p, rl)))
        p += rl
    if p != len(m):
        out.append("  !! %d trailing bytes" % (len(m) - p))
    return "\n".join(out)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "*.answer.hex")))
    for path in files:
        print(os.path.basename(path))
        if path.endswith(".answer.hex"):
            qpath = path.replace(".answer.hex", ".query.hex")
            opts = [l.strip() for l in open(qpath) if l.startswith("#")]
            try:
                qtext = decode(read_hex(qpath))
            except Exception as e:  # malformed on purpose (FORMERR cases)
                qtext = "  (malformed: %s) %s" % (e, read_hex(qpath).hex())
            print(" query %s\n%s" % (" ".join(opts), qtext))
            print(" answer")
        print(decode(read_hex(path)))
