#!/usr/bin/env python3
"""web_store.py - fills a Trapline data directory for bench/web.sh: N listed IPv4 addresses,
each with the two spamtrap hits that list it (received an hour ago, so each listing runs 23 h
more), written straight into the SQLite file that `trapline list` created. Prints the
listed and a set of unlisted addresses for the load generator.

  web_store.py DATA_DIR N ADDR_FILE
"""
import random
import sqlite3
import sys
import time

data, n, addr_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
now = int(time.time())
db = sqlite3.connect(data + "/trapline.db")
db.execute("PRAGMA synchronous = OFF")


def ip16(v4):
    return b"\0" * 10 + b"\xff\xff" + v4.to_bytes(4, "big")


# 11.0.0.0/8 holds the listed ones, spread (a step of 13); 12.0.0.0/8 is never listed.
listed = [0x0B000000 + i * 13 for i in range(n)]
with db:
    db.executemany(
        "INSERT INTO listings (ip, listed_at, expires_at, last_evidence_at, traps, reports,"
        " score, reason) VALUES (?, ?, ?, ?, 2, 0, 10.0, 1)",
        ((ip16(v), now - 3600, now - 3500 + 86400, now - 3500) for v in listed))
    db.executemany(
        "INSERT INTO evidence (ip, kind, class, received_at, added_at, source, digest)"
        " VALUES (?, 1, 0, ?, ?, 'trap@bench.invalid', '')",
        ((ip16(v), now - 3600 + k * 100, now) for v in listed for k in (0, 1)))
db.close()
rnd = random.Random(7)
fmt = lambda v: "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)
with open(addr_file, "w") as f:
    for _ in range(5000):
        f.write(fmt(rnd.choice(listed)) + "\n")
        f.write(fmt(0x0C000000 + rnd.randrange(1 << 24)) + "\n")
