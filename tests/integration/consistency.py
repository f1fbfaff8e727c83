#!/usr/bin/env python3
"""consistency.py - DNS, `check --json` and `explain --json` of the real binary agree.

  consistency.py fill PORT DATA CLOCK SEED N      random evidence for N addresses (through the
                                                  CLI, so through the running service); prints
                                                  the addresses, one a line
  consistency.py compare PORT DATA ADDRFILE       for each address: the DNS answer over UDP
                                                  (waiting up to 5 s for publication), check
                                                  --json and explain --json; prints one line
                                                  per disagreement and a summary line

Every command the script runs must exit 0 with nothing on stderr: a sanitizer report from the
CLI is a failure too.
"""
import ipaddress
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsraw  # noqa: E402

ZONE = "bl.example.org"
TRAPLINE = os.environ["TRAPLINE"]


def run(data, *args):
    p = subprocess.run([TRAPLINE, *args, "--data", data], capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0 or p.stderr:
        sys.exit("FAILED: trapline %s: status %d\n%s%s" % (" ".join(args), p.returncode,
                                                         p.stdout, p.stderr))
    return p.stdout


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def qname(ip):
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        return ".".join(reversed(ip.split("."))) + "." + ZONE
    return ".".join(reversed(a.exploded.replace(":", ""))) + "." + ZONE


def dns_status(port, ip):
    q = dnsraw.build_query(qname(ip), "A", qid=random.randrange(65536))
    resp = dnsraw.udp_exchange(port, q, 2.0)
    if resp is None or len(resp) < 12:
        return "noanswer"
    return dnsraw.RCODES.get(resp[3] & 15, str(resp[3] & 15))


def fill(port, data, clock, seed, n):
    rnd = random.Random(seed)
    now = int(open(clock).read())
    ips = set()
    while len(ips) < n:
        if rnd.random() < 0.15:
            ips.add("2a01:db8::%x:%x" % (rnd.randrange(4), rnd.randrange(65536)))
        else:
            ips.add("199.18.%d.%d" % (rnd.randrange(4), rnd.randrange(1, 255)))
    ips = sorted(ips)
    for ip in ips:
        for _ in range(rnd.randrange(5)):
            kind = "trap" if rnd.random() < 0.4 else "report"
            age = rnd.randrange(4 * 86400)
            run(data, "evidence", "add", "--ip", ip, "--kind", kind, "--at", iso(now - age))
    run(data, "exclude", "199.18.2.0/24", "--why", "consistency")
    run(data, "reputation", "199.18.3.0/24", "--points", "6", "--why", "consistency")
    print("\n".join(ips))


def compare(port, data, addrfile):
    ips = open(addrfile).read().split()
    bad, listed = [], 0
    for ip in ips:
        check = json.loads(run(data, "check", ip, "--json"))
        explain = json.loads(run(data, "explain", ip, "--json"))
        want = "NOERROR" if check["listed"] else "NXDOMAIN"
        deadline = time.monotonic() + 5
        got = dns_status(port, ip)
        while got != want and time.monotonic() < deadline:
            time.sleep(0.05)
            got = dns_status(port, ip)
        for k in ("report_score", "trap_score", "pieces", "policy"):
            explain.pop(k)
        if explain != check:
            bad.append("%s: check --json %s, explain --json %s" % (ip, check, explain))
        if got != want:
            bad.append("%s: check says listed=%s, DNS answers %s" % (ip, check["listed"], got))
        listed += check["listed"]
    for line in bad:
        print(line)
    print("compared %d listed %d disagree %d" % (len(ips), listed, len(bad)))


def main():
    cmd = sys.argv[1]
    if cmd == "fill":
        fill(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "compare":
        compare(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
