#!/usr/bin/env python3
"""make_queries.py - writes the golden DNS queries (*.query.hex) that test_dns_golden answers.

Run once from this folder; then `TRAPLINE_GOLDEN_WRITE=1 build/test_dns_golden` writes the
*.answer.hex files, which are reviewed by hand (decode.py) and committed.
A query file may carry option lines: '# tcp' (answered as over TCP), '# cap=N' (the
transport's cap), '# nosnap' (no snapshot loaded)."""
import struct

ZONE = "bl.example.org"


def name(n):
    out = b""
    for label in n.split(".") if n else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype, qclass=1, qid=0x1234, flags=0x0100, edns=None, qdcount=1):
    """edns: (udp size, version, do) or None."""
    ar = 1 if edns else 0
    msg = struct.pack("!HHHHHH", qid, flags, qdcount, 0, 0, ar)
    msg += name(qname) + struct.pack("!HH", qtype, qclass)
    if edns:
        udp, ver, do = edns
        msg += b"\0" + struct.pack("!HHBBHH", 41, udp, 0, ver, 0x8000 if do else 0, 0)
    return msg


V6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2." + ZONE
CASES = {
    "a_listed_v4": (query("1.2.0.192." + ZONE, 1), []),
    "txt_listed_v4": (query("1.2.0.192." + ZONE, 16, qid=0xa001), []),
    "txt_listed_v6_edns_do": (query(V6, 16, edns=(4096, 0, True)), []),
    "any_listed_minimal": (query("1.2.0.192." + ZONE, 255), []),
    "nxdomain_unlisted": (query("2.2.0.192." + ZONE, 1), []),
    "nxdomain_not_an_ip": (query("www." + ZONE, 1), []),
    "nodata_listed_aaaa": (query("1.2.0.192." + ZONE, 28), []),
    "nodata_empty_non_terminal": (query("2.0.192." + ZONE, 1), []),
    "apex_soa_0x20": (query("bL.eXaMpLe.OrG", 6, edns=(1232, 0, False)), []),
    "apex_ns": (query(ZONE, 2), []),
    "apex_any": (query(ZONE, 255), []),
    "refused_outside_zone": (query("example.com", 1), []),
    "refused_axfr": (query(ZONE, 252), []),
    "refused_chaos": (query("version.bind", 16, qclass=3), []),
    "notimp_notify": (query(ZONE, 6, flags=0x2000), []),
    "formerr_qdcount0": (struct.pack("!HHHHHH", 0x1234, 0x0100, 0, 0, 0, 0), []),
    "formerr_pointer_in_question": (struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
                                    + b"\xc0\x0c\x00\x01\x00\x01", []),
    "formerr_trailing_garbage": (query("1.2.0.192." + ZONE, 1) + b"\xff", []),
    "badvers": (query("1.2.0.192." + ZONE, 1, edns=(1232, 1, False)), []),
    "tc_long_txt_udp": (query("7.113.0.203." + ZONE, 16), []),
    "tcp_long_txt": (query("7.113.0.203." + ZONE, 16), ["tcp"]),
    "tcp_small_cap": (query("7.113.0.203." + ZONE, 16), ["tcp", "cap=100"]),
    "servfail_no_snapshot": (query("1.2.0.192." + ZONE, 1), ["nosnap"]),
    "qr_set_no_answer": (query("1.2.0.192." + ZONE, 1, flags=0x8100), []),
    # ns_addr: the in-zone name server's own name (RFC 1034 4.2.1)
    "ns_glue_a": (query("ns1." + ZONE, 1), []),
    "ns_glue_aaaa_0x20": (query("NS1.Bl.example.ORG", 28, edns=(1232, 0, False)), []),
    "ns_glue_any": (query("ns1." + ZONE, 255), []),
    "ns_glue_txt_nodata": (query("ns1." + ZONE, 16), []),
    "ns_glue_below_nxdomain": (query("x.ns1." + ZONE, 1), []),
}

if __name__ == "__main__":
    for case, (msg, opts) in CASES.items():
        with open(case + ".query.hex", "w") as f:
            for o in opts:
                f.write("# %s\n" % o)
            h = msg.hex()
            for i in range(0, len(h), 64):
                f.write(h[i:i + 64] + "\n")
