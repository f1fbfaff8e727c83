#!/usr/bin/env python3
"""notifyd.py - a stand-in secondary for test_xfr.sh: receives NOTIFYs (RFC 1996) on UDP and
answers them, writing one line per NOTIFY to a log: "serial=N signed=yes|no mac=ok|bad|-".

Usage: notifyd.py PORT LOGFILE [KEYNAME SECRET_BASE64]
With a key, the TSIG of each NOTIFY is checked (RFC 8945 4.3: HMAC-SHA256 over the message
without its TSIG and the TSIG variables) and the answer is signed back (RFC 8945 5.3).
Stops after 120 s or on SIGTERM."""
import base64
import hashlib
import hmac
import socket
import struct
import sys
import time


def read_name(m, p):
    labels = []
    while True:
        n = m[p]
        if n & 0xC0:
            return labels, p + 2
        p += 1
        if n == 0:
            return labels, p
        labels.append(m[p:p + n])
        p += n


def wire(labels):
    return b"".join(bytes([len(l)]) + l.lower() for l in labels) + b"\0"


def skip_rr(m, p):
    _, p = read_name(m, p)
    rdlen = struct.unpack("!H", m[p + 8:p + 10])[0]
    return p, p + 10 + rdlen


def tsig_vars(keyname, alg, t, fudge, err, other):
    return (wire(keyname) + struct.pack("!HI", 255, 0) + wire(alg) + t + struct.pack("!HHH", fudge, err, len(other)) + other)


def main():
    port, log = int(sys.argv[1]), sys.argv[2]
    key = None
    if len(sys.argv) > 4:
        key = (sys.argv[3].encode(), base64.b64decode(sys.argv[4]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.5)
    end = time.time() + 120
    while time.time() < end:
        try:
            m, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        qd, an, ns, ar = struct.unpack("!HHHH", m[4:12])
        opcode = (m[2] >> 3) & 15
        if opcode != 4:
            continue
        p = 12
        _, p = read_name(m, p)
        p += 4
        serial = None
        for _ in range(an):
            start, nxt = skip_rr(m, p)
            typ = struct.unpack("!H", m[start:start + 2])[0]
            if typ == 6:
                serial = struct.unpack("!I", m[nxt - 20:nxt - 16])[0]
            p = nxt
        signed, mac_ok = "no", "-"
        reply = bytearray(m[:p])
        reply[2] |= 0x80
        reply[10:12] = b"\0\0"
        for _ in range(ns + ar):
            rr_start = p
            kn, q = read_name(m, p)
            typ = struct.unpack("!H", m[q:q + 2])[0]
            _, nxt = skip_rr(m, p)
            if typ == 250 and key:
                signed = "yes"
                rd = q + 10
                alg, r = read_name(m, rd)
                t = m[r:r + 6]
                fudge, maclen = struct.unpack("!HH", m[r + 6:r + 10])
                mac = m[r + 10:r + 10 + maclen]
                oid, err, olen = struct.unpack("!HHH", m[r + 10 + maclen:r + 16 + maclen])
                other = m[r + 16 + maclen:r + 16 + maclen + olen]
                msg = bytearray(m[:rr_start])
                msg[0:2] = struct.pack("!H", oid)
                msg[10:12] = struct.pack("!H", ar - 1)
                want = hmac.new(key[1], bytes(msg) + tsig_vars(kn, alg, t, fudge, err, other), hashlib.sha256).digest()
                mac_ok = "ok" if (b".".join(kn).lower() == key[0].lower() and hmac.compare_digest(want, mac)) else "bad"
                # The answer, signed: request MAC, the answer, the variables (RFC 8945 5.3).
                now = struct.pack("!Q", int(time.time()))[2:]
                body = bytes(reply)
                amac = hmac.new(key[1], struct.pack("!H", len(mac)) + mac + body + tsig_vars(kn, alg, now, 300, 0, b""), hashlib.sha256).digest()
                rdata = wire(alg) + now + struct.pack("!HH", 300, len(amac)) + amac + struct.pack("!HHH", oid, 0, 0)
                reply = bytearray(body + wire(kn) + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata)
                reply[10:12] = struct.pack("!H", 1)
            elif typ == 250:
                signed = "yes"
            p = nxt
        with open(log, "a") as f:
            f.write("serial=%s signed=%s mac=%s\n" % (serial, signed, mac_ok))
        s.sendto(bytes(reply), peer)


main()
