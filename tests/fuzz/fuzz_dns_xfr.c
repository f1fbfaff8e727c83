/* fuzz_dns_xfr.c - libFuzzer target: any bytes as a zone transfer request over TCP (the request
 * parser, the ACL, TSIG's checks, IXFR's serial, the journal's way) get one well-formed answer
 * or a transfer whose messages all fit, never a read or write out of bounds. The first byte
 * picks whether a TSIG key is required. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "zone/zone.h"
#include "../../src/dns/dns_internal.h"

static struct zone_snapshot *g_snap;
static struct zone_journal *g_journal;
static struct dns_server_config g_cfg[2];
static uint8_t g_out[DNS_MAX_MSG];

static void fuzz_setup(void)
{
	struct zone_defaults d;
	memset(&d, 0, sizeof d);
	strcpy(d.soa.mname, "ns1.bl.example.org");
	strcpy(d.soa.rname, "hostmaster.bl.example.org");
	d.soa.serial = 100;
	d.soa.ttl = 3600;
	d.ns.ttl = 3600;
	zone_ns_add(&d.ns, "ns1.bl.example.org");
	d.ttl = 2100;
	d.a = 0x7f000002;
	d.txt = "Listed $";
	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	uint16_t def;
	zone_builder_default_class(b, &def);
	zone_builder_add4(b, 0xC1000200, 0xC10002FF, def); /* a /24: a wildcard */
	zone_builder_add4(b, 0x01020304, 0x01020304, def);
	struct zone_snapshot *s0 = NULL;
	zone_snapshot_build(b, &s0);
	zone_builder_free(b);
	/* A journal 98 -> 99 -> 100 (a listing, then a serial-only step). */
	struct zone_change set = {.op = ZONE_CHANGE_SET, .ip4 = 0x01020305};
	struct zone_snapshot *s98 = NULL, *s99 = NULL;
	zone_snapshot_apply(s0, NULL, 0, 98, &s98);
	zone_snapshot_apply(s98, &set, 1, 99, &s99);
	zone_snapshot_apply(s99, NULL, 0, 100, &g_snap);
	g_journal = zone_journal_new(1000, 0);
	uint8_t ip[1][16] = {{0}};
	ip[0][10] = ip[0][11] = 0xff;
	ip[0][12] = 1, ip[0][13] = 2, ip[0][14] = 3, ip[0][15] = 5;
	struct zone_jentry *e = NULL;
	zone_journal_diff(s98, s99, (const uint8_t(*)[16])ip, 1, 0, &e);
	zone_journal_add(g_journal, e, 0);
	zone_jentry_empty(99, 100, 0, &e);
	zone_journal_add(g_journal, e, 0);
	zone_snapshot_free(s0);
	zone_snapshot_free(s98);
	zone_snapshot_free(s99);
	char err[256];
	for (int k = 0; k < 2; k++) {
		memset(&g_cfg[k], 0, sizeof g_cfg[k]);
		strcpy(g_cfg[k].dns.zone, "bl.example.org");
		g_cfg[k].xfr.n_allow = 1;
		g_cfg[k].xfr.allow[0].plen = 0; /* everybody */
		g_cfg[k].xfr.expand_max = 1000;
	}
	if (dns_tsig_key_from("hmac-sha256:xfr-key:c2VjcmV0c2VjcmV0c2VjcmV0", &g_cfg[1].xfr.key, err,
			      sizeof err) != DNS_OK || !g_snap || !g_journal)
		__builtin_trap();
}

/* An answer: a header, counts no bigger than the bytes could hold, within the cap. */
static void check_msg(size_t n, size_t cap)
{
	if (n > cap || (n > 0 && n < 12))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g_snap)
		fuzz_setup();
	if (size < 1)
		return 0;
	const struct dns_server_config *cfg = &g_cfg[data[0] & 1];
	static const uint8_t peer[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	struct dns_xfr *x = NULL;
	size_t alen = 0;
	int v = dns_xfr_request(cfg, g_snap, g_journal, peer, data + 1, size - 1, g_out,
				sizeof g_out, &alen, &x);
	if (v == DNS_XFR_ANSWERED)
		check_msg(alen, sizeof g_out);
	if (v == DNS_XFR_STARTED) {
		bool done = false, failed = false;
		for (int i = 0; i < 1000 && !done && !failed; i++) {
			size_t n = dns_xfr_next(x, g_out, sizeof g_out, &done);
			check_msg(n, sizeof g_out);
			failed = n == 0;
		}
		if (!done && !failed)
			__builtin_trap(); /* a small zone ends within a few messages */
		dns_xfr_free(x);
	}
	/* An ordinary query's answer (here the query's own bytes) signed or refused by TSIG. */
	if (size - 1 >= 12) {
		size_t qn = size - 1 < 1024 ? size - 1 : 1024;
		memcpy(g_out, data + 1, qn);
		check_msg(dns_tsig_wrap(&g_cfg[1].xfr.key, data + 1, size - 1, g_out, qn, 4096), 4096);
	}
	/* The parser and TSIG's check alone, on the same bytes. */
	struct dns_xfr_req r;
	if (dns_xfr_parse(data + 1, size - 1, &r) == DNS_OK && r.tsig_off) {
		struct dns_tsig_state ts;
		const char *why;
		(void)dns_tsig_verify(&g_cfg[1].xfr.key, data + 1, size - 1, r.tsig_off, 1800000000, &ts,
				      &why);
	}
	return 0;
}
