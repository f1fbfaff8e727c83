#!/usr/bin/env python3
"""xfr_lag.py - lag from commit to answer at a secondary, at a steady rate of new listings.

  xfr_lag.py --http PORT --key tlf_... --dns PORT [--rate 1000] [--seconds 30] [--batch 10]
             [--sample 10] [--seed 7] [--zone bl.example.org]

Lists RATE new addresses a second through Trapline's feed API (POST /api/v1/evidence, two trap
hits an address, which the policy needs to list it), BATCH addresses a request, on one
keep-alive connection. The commit of an address is the moment its request's 201 arrived (the
writer committed it then). One address in SAMPLE is watched at the secondary on --dns (UDP,
every 20 ms) until it answers its A record; the lag is that answer's time minus the commit.
Prints every lag in ms to --out (if given) and one summary line:

  RESULT sent=N rate=R watched=W answered=A p50_ms=X p99_ms=Y max_ms=Z missing=M

An address still unanswered 10 s after the last commit counts as missing. Addresses are
random public IPv4 addresses of 20.0.0.0/8 (a non-special block; the generator never repeats).
"""
import argparse
import http.client
import json
import random
import select
import socket
import struct
import sys
import time


def qname_wire(ip, zone):
    labels = list(reversed(ip.split("."))) + zone.split(".")
    return b"".join(bytes([len(x)]) + x.encode() for x in labels) + b"\0"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--dns", type=int, required=True)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--sample", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--zone", default="bl.example.org")
    ap.add_argument("--out")
    a = ap.parse_args()

    rnd = random.Random(a.seed)
    used = set()

    def fresh():
        while True:
            ip = "20.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255))
            if ip not in used:
                used.add(ip)
                return ip

    conn = http.client.HTTPConnection("127.0.0.1", a.http, timeout=30)
    hdrs = {"Authorization": "Bearer " + a.key, "Content-Type": "application/json"}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", a.dns))
    sock.setblocking(False)

    pending = {}  # qid -> [ip, commit time, last query time, wire]
    lags = []
    qid = 0
    sent = watched = 0
    interval = a.batch / a.rate
    t0 = time.monotonic()
    next_send = t0
    end_send = t0 + a.seconds
    last_commit = t0

    def poll_dns(now):
        # answers first, then the queries that are due
        while True:
            try:
                r = sock.recv(4096)
            except BlockingIOError:
                break
            if len(r) < 12:
                continue
            rid = struct.unpack(">H", r[:2])[0]
            p = pending.get(rid)
            if p is None:
                continue
            an = struct.unpack(">H", r[6:8])[0]
            if (r[3] & 15) == 0 and an > 0:
                lags.append((time.monotonic() - p[1]) * 1000.0)
                del pending[rid]
        for rid, p in pending.items():
            if now - p[2] >= 0.02:
                p[2] = now
                sock.send(struct.pack(">HHHHHH", rid, 0, 1, 0, 0, 0) + p[3] + b"\0\x01\0\x01")

    while True:
        now = time.monotonic()
        if now < end_send and now >= next_send:
            ips = [fresh() for _ in range(a.batch)]
            body = json.dumps([{"ip": ip} for ip in ips for _ in range(2)])
            conn.request("POST", "/api/v1/evidence", body, hdrs)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 201:
                sys.exit("xfr_lag: POST answered %d: %s" % (resp.status, data[:200]))
            commit = time.monotonic()
            last_commit = commit
            for ip in ips:
                sent += 1
                if sent % a.sample == 0:
                    qid = (qid + 1) & 0xFFFF
                    watched += 1
                    pending[qid] = [ip, commit, 0.0, qname_wire(ip, a.zone)]
            next_send += interval
            if next_send < now - 1:  # fell behind by a second: do not burst to catch up
                next_send = now
        elif now >= end_send and (not pending or now > last_commit + 10):
            break
        poll_dns(now)
        wait = min(0.005, max(0.0, next_send - time.monotonic())) if now < end_send else 0.005
        select.select([sock], [], [], wait)

    elapsed = last_commit - t0
    lags.sort()

    def pct(p):
        if not lags:
            return -1
        return lags[min(len(lags) - 1, int(p / 100.0 * len(lags)))]

    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join("%.1f" % x for x in lags) + "\n")
    print("RESULT sent=%d rate=%.0f watched=%d answered=%d p50_ms=%.0f p99_ms=%.0f max_ms=%.0f "
          "missing=%d" % (sent, sent / elapsed if elapsed > 0 else 0, watched, len(lags), pct(50),
                          pct(99), lags[-1] if lags else -1, len(pending)))
    return 0 if not pending else 1


if __name__ == "__main__":
    sys.exit(main())
