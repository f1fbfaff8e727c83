/* fuzz_dns_query.c - libFuzzer target: any bytes as a DNS query must get a well-formed answer or none, within cap. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/dns.h"
#include "zone/zone.h"

static struct dns_ctx *g_ctx;
static struct zone_snapshot *g_snap;
static uint8_t g_out[DNS_MAX_MSG];

static void fuzz_setup(void)
{
	struct dns_config cfg;
	memset(&cfg, 0, sizeof cfg);
	strcpy(cfg.zone, "bl.example.org");
	cfg.edns_udp_max = 1232;
	/* The usage-limit codes (dns_answer_client's modes), a TXT with a '$' to expand. */
	cfg.answer_a_excess = 0x7fffffff;
	cfg.answer_a_public_resolver = 0x7ffffffe;
	cfg.code_ttl = 60;
	strcpy(cfg.txt_excess, "Query limit exceeded $ - see https://bl.example.org/about/usage");
	g_ctx = dns_ctx_new(&cfg);

	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	struct zone_defaults d;
	memset(&d, 0, sizeof d);
	strcpy(d.soa.mname, "ns1.bl.example.org");
	strcpy(d.soa.rname, "hostmaster.bl.example.org");
	d.soa.serial = 1;
	d.soa.minimum = 300;
	d.soa.ttl = 3600;
	d.ns.ttl = 86400;
	zone_ns_add(&d.ns, "ns1.bl.example.org");
	zone_ns_add(&d.ns, "ns2.example.net");
	/* In-zone name servers with addresses (ns_addr): the glue path, its ancestors (dc.) */
	d.glue.ttl = 3600;
	zone_glue_add(&d.glue, "ns1.bl.example.org", false, 0xC0000235, NULL);
	zone_glue_add(&d.glue, "ns1.bl.example.org", true, 0, v6);
	zone_glue_add(&d.glue, "ns3.dc.bl.example.org", false, 0xC0000236, NULL);
	d.ttl = 2100;
	d.a = 0x7f000002;
	d.txt = "Listed $ see https://bl.example.org/?$";
	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	uint16_t def, lng;
	char txt[600];
	memset(txt, '$', sizeof txt); /* every byte expands: the longest TXT a class can make */
	zone_builder_default_class(b, &def);
	zone_builder_class(b, 0x7f000004, txt, sizeof txt, 30, &lng);
	zone_builder_add4(b, 0xC0000200, 0xC00002FF, def); /* 192.0.2.0/24 */
	zone_builder_add4(b, 0xCB007107, 0xCB007107, lng); /* 203.0.113.7 */
	zone_builder_add4(b, 0x01020304, 0x01020304, def);
	zone_builder_add6(b, v6, 32, lng);
	zone_snapshot_build(b, &g_snap);
	zone_builder_free(b);
	if (!g_ctx || !g_snap)
		__builtin_trap();
}

/* Walks the answer without following pointers: the counts must account for every byte. */
static bool check_name(const uint8_t *m, size_t n, size_t *p)
{
	for (;;) {
		if (*p >= n)
			return false;
		uint8_t l = m[*p];
		if ((l & 0xC0) == 0xC0) {
			/* we only ever point backwards, at the question */
			if (*p + 2 > n || (size_t)((l & 0x3F) << 8 | m[*p + 1]) >= *p)
				return false;
			*p += 2;
			return true;
		}
		if (l & 0xC0)
			return false;
		*p += 1 + (size_t)l;
		if (l == 0)
			return true;
	}
}

static void check_answer(const uint8_t *q, size_t qlen, const uint8_t *m, size_t n, size_t cap)
{
	if (n > cap)
		__builtin_trap();
	if (n == 0) {
		if (qlen >= 12 && !(q[2] & 0x80) && cap >= 12)
			__builtin_trap(); /* a readable query must be answered */
		return;
	}
	if (n < 12 || m[0] != q[0] || m[1] != q[1] || !(m[2] & 0x80))
		__builtin_trap();
	size_t p = 12;
	unsigned qd = (unsigned)(m[4] << 8 | m[5]);
	unsigned rrs = (unsigned)(m[6] << 8 | m[7]) + (unsigned)(m[8] << 8 | m[9]) +
		       (unsigned)(m[10] << 8 | m[11]);
	if (qd > 1)
		__builtin_trap();
	if (qd) {
		if (!check_name(m, n, &p) || p + 4 > n)
			__builtin_trap();
		p += 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		if (!check_name(m, n, &p) || p + 10 > n)
			__builtin_trap();
		p += 10 + (size_t)(m[p + 8] << 8 | m[p + 9]);
	}
	if (p != n)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {DNS_MAX_MSG, DNS_MAX_UDP, 512, 100, 12, 11};

	if (!g_ctx)
		fuzz_setup();
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		for (int tcp = 0; tcp < 2; tcp++) {
			size_t n = dns_answer(g_ctx, g_snap, data, size, g_out, caps[i], tcp != 0);
			check_answer(data, size, g_out, n, caps[i]);
		}
	}
	size_t n = dns_answer(g_ctx, NULL, data, size, g_out, 512, false);
	check_answer(data, size, g_out, n, 512);
	/* Every mode, and the truncated form a rate-limited answer slips out as. */
	for (int mode = DNS_CLIENT_NORMAL; mode <= DNS_CLIENT_PUBLIC_RESOLVER; mode++) {
		for (size_t i = 1; i < sizeof caps / sizeof caps[0]; i++) {
			struct dns_answer_info info;
			n = dns_answer_client(g_ctx, g_snap, data, size, g_out, caps[i], false,
					      (enum dns_client_mode)mode, &info);
			check_answer(data, size, g_out, n, caps[i]);
			if (n > 0) {
				n = dns_answer_slip(g_out, &info);
				check_answer(data, size, g_out, n, caps[i]);
			}
		}
	}
	return 0;
}
