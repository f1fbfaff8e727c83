/* test_dns.c - unit tests of the DNS answering core (dns_answer) against a small snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "dns/dns.h"
#include "zone/zone.h"

/* ---- an independent decoder for what dns_answer writes ---------------------- */

struct t_rr {
	char name[300];
	uint16_t type, cls;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata; /* offset in the message */
};

struct t_msg {
	const uint8_t *m;
	size_t len;
	uint16_t id, qd, an, ns, ar;
	int qr, opcode, aa, tc, rd, ra, cd, rcode;
	char qname[300];
	uint16_t qtype, qclass;
	struct t_rr rr[64]; /* answer, then authority, then additional */
	int nrr;
	int has_opt;
	uint16_t opt_udp;
	uint8_t opt_ext, opt_ver;
	int opt_do;
};

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads a name, following pointers (at most 20 hops). Returns the end of the name in place. */
static size_t t_name(const uint8_t *m, size_t len, size_t p, char *out)
{
	size_t end = 0, o = 0;
	int hops = 0;
	for (;;) {
		assert_true(p < len);
		uint8_t l = m[p];
		if ((l & 0xC0) == 0xC0) {
			assert_true(p + 1 < len);
			if (!end)
				end = p + 2;
			p = (size_t)(l & 0x3F) << 8 | m[p + 1];
			assert_true(++hops < 20);
			continue;
		}
		if (l == 0) {
			if (!end)
				end = p + 1;
			break;
		}
		assert_true(p + 1 + l <= len);
		if (o)
			out[o++] = '.';
		memcpy(out + o, m + p + 1, l);
		o += l;
		p += 1 + (size_t)l;
	}
	out[o] = '\0';
	return end;
}

static void t_decode(const uint8_t *m, size_t len, struct t_msg *d)
{
	memset(d, 0, sizeof *d);
	d->m = m;
	d->len = len;
	assert_true(len >= 12);
	d->id = g16(m);
	d->qr = m[2] >> 7;
	d->opcode = (m[2] >> 3) & 15;
	d->aa = (m[2] >> 2) & 1;
	d->tc = (m[2] >> 1) & 1;
	d->rd = m[2] & 1;
	d->ra = m[3] >> 7;
	d->cd = (m[3] >> 4) & 1;
	d->rcode = m[3] & 15;
	d->qd = g16(m + 4);
	d->an = g16(m + 6);
	d->ns = g16(m + 8);
	d->ar = g16(m + 10);
	size_t p = 12;
	if (d->qd) {
		assert_int_equal(d->qd, 1);
		p = t_name(m, len, p, d->qname);
		assert_true(p + 4 <= len);
		d->qtype = g16(m + p);
		d->qclass = g16(m + p + 2);
		p += 4;
	}
	int total = d->an + d->ns + d->ar;
	assert_true(total <= 64);
	for (int i = 0; i < total; i++) {
		struct t_rr *r = &d->rr[i];
		p = t_name(m, len, p, r->name);
		assert_true(p + 10 <= len);
		r->type = g16(m + p);
		r->cls = g16(m + p + 2);
		r->ttl = g32(m + p + 4);
		r->rdlen = g16(m + p + 8);
		r->rdata = p + 10;
		p += 10 + r->rdlen;
		assert_true(p <= len);
		if (r->type == 41) {
			d->has_opt++;
			d->opt_udp = r->cls;
			d->opt_ext = (uint8_t)(r->ttl >> 24);
			d->opt_ver = (uint8_t)(r->ttl >> 16);
			d->opt_do = (r->ttl >> 15) & 1;
		}
	}
	d->nrr = total;
	assert_int_equal(p, len); /* nothing after the last record */
}

/* TXT RDATA as one string (character-strings concatenated); returns the number of strings. */
static int t_txt(const struct t_msg *d, const struct t_rr *r, char *out)
{
	size_t p = r->rdata, end = r->rdata + r->rdlen, o = 0;
	int n = 0;
	assert_int_equal(r->type, 16);
	while (p < end) {
		uint8_t l = d->m[p];
		assert_true(p + 1 + l <= end);
		memcpy(out + o, d->m + p + 1, l);
		o += l;
		p += 1 + (size_t)l;
		n++;
	}
	out[o] = '\0';
	return n;
}

/* ---- building queries ----------------------------------------------------- */

struct t_q {
	uint16_t id;
	uint8_t flags2, flags3;
	const char *name;
	uint16_t qtype, qclass;
	int edns;          /* add an OPT */
	uint16_t edns_udp;
	uint8_t edns_ver;
	int edns_do;
};

static size_t t_put_name(uint8_t *b, const char *name)
{
	size_t o = 0;
	const char *s = name;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		b[o++] = (uint8_t)l;
		memcpy(b + o, s, l);
		o += l;
		s += l;
		if (*s == '.')
			s++;
	}
	b[o++] = 0;
	return o;
}

static size_t t_query(uint8_t *b, const struct t_q *q)
{
	memset(b, 0, 12);
	b[0] = (uint8_t)(q->id >> 8);
	b[1] = (uint8_t)q->id;
	b[2] = q->flags2;
	b[3] = q->flags3;
	b[5] = 1;
	b[11] = q->edns ? 1 : 0;
	size_t p = 12 + t_put_name(b + 12, q->name);
	b[p++] = (uint8_t)(q->qtype >> 8);
	b[p++] = (uint8_t)q->qtype;
	uint16_t cls = q->qclass ? q->qclass : 1;
	b[p++] = (uint8_t)(cls >> 8);
	b[p++] = (uint8_t)cls;
	if (q->edns) {
		const uint8_t opt[11] = {0, 0, 41, (uint8_t)(q->edns_udp >> 8), (uint8_t)q->edns_udp,
					 0, q->edns_ver, q->edns_do ? 0x80 : 0, 0, 0, 0};
		memcpy(b + p, opt, 11);
		p += 11;
	}
	return p;
}

/* ---- the snapshot ----------------------------------------------------------- */

#define ZONE "bl.example.org"
static struct zone_snapshot *g_snap;
static struct dns_ctx *g_ctx;
static char g_long_txt[701];

static void t_ip6(const char *hex32, uint8_t out[16])
{
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(hex32 + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static struct zone_snapshot *t_build(uint32_t serial)
{
	struct zone_defaults d;
	memset(&d, 0, sizeof d);
	strcpy(d.soa.mname, "ns1." ZONE);
	strcpy(d.soa.rname, "hostmaster." ZONE);
	d.soa.serial = serial;
	d.soa.refresh = 3600;
	d.soa.retry = 600;
	d.soa.expire = 86400;
	d.soa.minimum = 300;
	d.soa.ttl = 3600;
	d.ns.ttl = 86400;
	zone_ns_add(&d.ns, "ns1." ZONE);
	zone_ns_add(&d.ns, "ns2.example.net");
	d.ttl = 2100;
	d.a = 0x7f000002;
	d.txt = "Listed, see https://example.org/lookup?ip=$";

	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	assert_non_null(b);
	uint16_t def, net, notxt, lng;
	assert_int_equal(zone_builder_default_class(b, &def), 0);
	assert_int_equal(zone_builder_class(b, 0x7f000003, "net $ $", 7, 60, &net), 0);
	assert_int_equal(zone_builder_class(b, 0x7f000004, NULL, 0, 120, &notxt), 0);
	memset(g_long_txt, 'x', 700);
	g_long_txt[0] = '$';
	g_long_txt[700] = '\0';
	assert_int_equal(zone_builder_class(b, 0x7f000005, g_long_txt, 700, 30, &lng), 0);

	assert_int_equal(zone_builder_add4(b, 0xC0000201, 0xC0000201, def), 0);   /* 192.0.2.1 */
	assert_int_equal(zone_builder_add4(b, 0xC6336400, 0xC63364FF, net), 0);   /* 198.51.100/24 */
	assert_int_equal(zone_builder_add4(b, 0xC6336409, 0xC6336409, ZONE_CLASS_EXCLUDE), 0);
	assert_int_equal(zone_builder_add4(b, 0x0A000005, 0x0A000005, notxt), 0); /* 10.0.0.5 */
	assert_int_equal(zone_builder_add4(b, 0xCB007107, 0xCB007107, lng), 0);   /* 203.0.113.7 */
	assert_int_equal(zone_builder_add4(b, 0x01020304, 0x01020304, def), 0);   /* 1.2.3.4 */
	uint8_t p6[16];
	t_ip6("20010db8000000000000000000000001", p6);
	assert_int_equal(zone_builder_add6(b, p6, 128, def), 0);
	t_ip6("20010db8000100000000000000000000", p6);
	assert_int_equal(zone_builder_add6(b, p6, 48, net), 0);
	t_ip6("43210000000000000000000000000005", p6);
	assert_int_equal(zone_builder_add6(b, p6, 128, def), 0);
	struct zone_snapshot *s = NULL;
	assert_int_equal(zone_snapshot_build(b, &s), 0);
	zone_builder_free(b);
	return s;
}

static int setup(void **state)
{
	struct dns_config cfg;
	memset(&cfg, 0, sizeof cfg);
	strcpy(cfg.zone, ZONE);
	cfg.edns_udp_max = 1232;
	g_ctx = dns_ctx_new(&cfg);
	g_snap = t_build(42);
	return g_ctx && g_snap ? 0 : -1;
}

static int teardown(void **state)
{
	dns_ctx_free(g_ctx);
	zone_snapshot_free(g_snap);
	return 0;
}

static uint8_t g_out[DNS_MAX_MSG + 16];

/* Asks (UDP unless tcp) and decodes. */
static void ask_full(const struct t_q *q, size_t cap, int tcp, struct t_msg *d)
{
	uint8_t qb[600];
	size_t ql = t_query(qb, q);
	size_t n = dns_answer(g_ctx, g_snap, qb, ql, g_out, cap, tcp != 0);
	assert_true(n > 0);
	assert_true(n <= cap);
	t_decode(g_out, n, d);
}

static void ask(const char *name, uint16_t qtype, struct t_msg *d)
{
	struct t_q q = {.id = 0x1234, .flags2 = 0x01, .name = name, .qtype = qtype};
	ask_full(&q, DNS_MAX_UDP, 0, d);
}

static void assert_soa_authority(const struct t_msg *d)
{
	assert_int_equal(d->an, 0);
	assert_int_equal(d->ns, 1);
	assert_int_equal(d->rr[0].type, 6);
	assert_string_equal(d->rr[0].name, ZONE);
	assert_int_equal(d->rr[0].ttl, 300); /* min(SOA ttl 3600, minimum 300) */
	char mname[300], rname[300];
	size_t p = t_name(d->m, d->len, d->rr[0].rdata, mname);
	p = t_name(d->m, d->len, p, rname);
	assert_string_equal(mname, "ns1." ZONE);
	assert_string_equal(rname, "hostmaster." ZONE);
	assert_int_equal(g32(d->m + p), 42);
	assert_int_equal(g32(d->m + p + 16), 300);
}

/* ---- listed names ----------------------------------------------------------- */

static void test_listed_a(void **state)
{
	struct t_msg d;
	ask("1.2.0.192." ZONE, 1, &d);
	assert_int_equal(d.id, 0x1234);
	assert_int_equal(d.qr, 1);
	assert_int_equal(d.aa, 1);
	assert_int_equal(d.ra, 0);
	assert_int_equal(d.rd, 1);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.ns, 0);
	assert_int_equal(d.ar, 0);
	assert_string_equal(d.rr[0].name, "1.2.0.192." ZONE);
	assert_int_equal(d.rr[0].type, 1);
	assert_int_equal(d.rr[0].ttl, 2100);
	assert_int_equal(d.rr[0].rdlen, 4);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0x7f000002);
	/* The answer name is a pointer to the question. */
	assert_int_equal(g16(d.m + 12 + d.qname[0] * 0 + strlen(d.qname) + 2 + 4), 0xC00C);
}

static void test_listed_txt_v4(void **state)
{
	struct t_msg d;
	char txt[2000];
	ask("1.2.0.192." ZONE, 16, &d);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.rr[0].type, 16);
	assert_int_equal(t_txt(&d, &d.rr[0], txt), 1);
	assert_string_equal(txt, "Listed, see https://example.org/lookup?ip=192.0.2.1");

	ask("77.100.51.198." ZONE, 16, &d); /* from the /24, class with two '$' */
	assert_int_equal(d.rr[0].ttl, 60);
	t_txt(&d, &d.rr[0], txt);
	assert_string_equal(txt, "net 198.51.100.77 198.51.100.77");
	ask("77.100.51.198." ZONE, 1, &d);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0x7f000003);
}

static void test_listed_txt_split(void **state)
{
	struct t_msg d;
	char txt[2000];
	struct t_q q = {.id = 7, .name = "7.113.0.203." ZONE, .qtype = 16, .edns = 1,
			.edns_udp = 4096};
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.tc, 0);
	assert_int_equal(d.an, 1);
	assert_int_equal(t_txt(&d, &d.rr[0], txt), 3); /* 710 bytes: 255 + 255 + 200 */
	assert_int_equal(strlen(txt), 710);
	assert_memory_equal(txt, "203.0.113.7xxx", 14);
	assert_int_equal(d.m[d.rr[0].rdata], 255);
	assert_int_equal(d.m[d.rr[0].rdata + 256], 255);
	assert_int_equal(d.m[d.rr[0].rdata + 512], 200);
}

static void test_listed_v6(void **state)
{
	struct t_msg d;
	char txt[2000];
	/* 2001:db8::1, reversed nibbles, mixed case */
	const char *n = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2." ZONE;
	ask(n, 1, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0x7f000002);
	ask(n, 16, &d);
	t_txt(&d, &d.rr[0], txt);
	assert_string_equal(txt, "Listed, see https://example.org/lookup?ip=2001:db8::1");
	/* inside 2001:db8:1::/48 */
	ask("d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2." ZONE, 16, &d);
	t_txt(&d, &d.rr[0], txt);
	assert_string_equal(txt, "net 2001:db8:1::abcd 2001:db8:1::abcd");
}

static void test_rfc5782_test_points(void **state)
{
	struct t_msg d;
	char txt[2000];
	ask("2.0.0.127." ZONE, 1, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
	ask("1.0.0.127." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	ask("2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." ZONE, 16, &d);
	assert_int_equal(d.an, 1);
	t_txt(&d, &d.rr[0], txt);
	assert_string_equal(txt, "Listed, see https://example.org/lookup?ip=::ffff:127.0.0.2");
}

static void test_any_listed_is_minimal(void **state)
{
	struct t_msg d;
	ask("1.2.0.192." ZONE, 255, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.rr[0].type, 1);
}

/* ---- negative answers -------------------------------------------------------- */

static void test_unlisted_nxdomain(void **state)
{
	struct t_msg d;
	ask("2.2.0.192." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	assert_int_equal(d.aa, 1);
	assert_soa_authority(&d);
	ask("9.100.51.198." ZONE, 1, &d); /* excluded inside a listed /24 */
	assert_int_equal(d.rcode, 3);
}

static void test_listed_other_type_nodata(void **state)
{
	struct t_msg d;
	ask("1.2.0.192." ZONE, 28, &d); /* AAAA */
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.aa, 1);
	assert_soa_authority(&d);
	ask("1.2.0.192." ZONE, 15, &d); /* MX */
	assert_int_equal(d.rcode, 0);
	assert_soa_authority(&d);
	ask("5.0.0.10." ZONE, 16, &d); /* class without a TXT template */
	assert_int_equal(d.rcode, 0);
	assert_soa_authority(&d);
	ask("5.0.0.10." ZONE, 1, &d);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.rr[0].ttl, 120);
}

static void test_apex(void **state)
{
	struct t_msg d;
	char a[300], b[300];
	ask(ZONE, 6, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.aa, 1);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.ns, 0);
	assert_int_equal(d.rr[0].type, 6);
	assert_int_equal(d.rr[0].ttl, 3600);
	assert_string_equal(d.rr[0].name, ZONE);

	ask(ZONE, 2, &d);
	assert_int_equal(d.an, 2);
	assert_int_equal(d.rr[0].type, 2);
	assert_int_equal(d.rr[0].ttl, 86400);
	t_name(d.m, d.len, d.rr[0].rdata, a);
	t_name(d.m, d.len, d.rr[1].rdata, b);
	assert_string_equal(a, "ns1." ZONE);
	assert_string_equal(b, "ns2.example.net");

	ask(ZONE, 255, &d);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.rr[0].type, 6);

	ask(ZONE, 1, &d);
	assert_int_equal(d.rcode, 0);
	assert_soa_authority(&d);

	/* Matched case-insensitively; the question keeps the client's case (0x20). */
	ask("Bl.ExAmple.ORG", 6, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
	assert_string_equal(d.qname, "Bl.ExAmple.ORG");
	ask("1.2.0.192.BL.example.org", 1, &d);
	assert_int_equal(d.an, 1);
	assert_string_equal(d.qname, "1.2.0.192.BL.example.org");
	assert_string_equal(d.rr[0].name, "1.2.0.192.BL.example.org");
}

static void test_empty_non_terminals(void **state)
{
	struct t_msg d;
	ask("2.0.192." ZONE, 1, &d);
	assert_int_equal(d.rcode, 0);
	assert_soa_authority(&d);
	ask("0.192." ZONE, 16, &d);
	assert_int_equal(d.rcode, 0);
	ask("192." ZONE, 1, &d);
	assert_int_equal(d.rcode, 0);
	ask("3.0.192." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	assert_soa_authority(&d);
	ask("1.193." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	/* IPv6 prefixes: 2001:db8::/32 has entries, 2001:db9::/32 none. */
	ask("8.b.d.0.1.0.0.2." ZONE, 1, &d);
	assert_int_equal(d.rcode, 0);
	ask("9.b.d.0.1.0.0.2." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	ask("0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2." ZONE, 1, &d); /* 31 */
	assert_int_equal(d.rcode, 0);
	ask("f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	/* An unlisted full IPv6 address has nothing below it. */
	ask("2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
}

static void test_both_readings(void **state)
{
	struct t_msg d;
	/* 4.3.2.1 is listed: the IPv4 reading wins. */
	ask("4.3.2.1." ZONE, 1, &d);
	assert_int_equal(d.an, 1);
	/* 1.2.3.4 is not, but 4321::5 lies under the IPv6 reading 4321::/16. */
	ask("1.2.3.4." ZONE, 1, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 0);
	assert_soa_authority(&d);
	/* neither reading has anything */
	ask("1.2.3.5." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	/* "2" is 2.0.0.0/8 (empty) or 2000::/4 (has 2001:db8::1) */
	ask("2." ZONE, 1, &d);
	assert_int_equal(d.rcode, 0);
}

static void test_not_an_ip_nxdomain(void **state)
{
	struct t_msg d;
	const char *names[] = {
		"foo." ZONE, "www.1.2.0.192." ZONE, "01.2.0.192." ZONE, "1.02.0.192." ZONE,
		"256.2.0.192." ZONE, "10.1.2.0.192." ZONE, "1.1.2.0.192." ZONE, "-1.2.0.192." ZONE,
		"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2." ZONE, /* 33 */
		"g.b.d.0.1.0.0.2." ZONE,
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		ask(names[i], 1, &d);
		assert_int_equal(d.rcode, 3);
		assert_soa_authority(&d);
	}
}

/* ---- refusals, errors, header ----------------------------------------------- */

static void test_refused(void **state)
{
	struct t_msg d;
	ask("1.2.0.192.other.example", 1, &d);
	assert_int_equal(d.rcode, 5);
	assert_int_equal(d.aa, 0);
	assert_int_equal(d.an + d.ns + d.ar, 0);
	assert_int_equal(d.qd, 1);
	ask("example.org", 6, &d);
	assert_int_equal(d.rcode, 5);
	ask("xbl.example.org", 6, &d); /* suffix but not on a label boundary */
	assert_int_equal(d.rcode, 5);
	ask(ZONE, 252, &d); /* AXFR */
	assert_int_equal(d.rcode, 5);
	ask(ZONE, 251, &d); /* IXFR over UDP: the SOA alone (RFC 1995 2), whatever its serial */
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.rr[0].type, 6);
	ask("2.0.0.127." ZONE, 251, &d); /* IXFR of a name that is no zone */
	assert_int_equal(d.rcode, 5);

	struct t_q q = {.id = 1, .name = "1.2.0.192." ZONE, .qtype = 1, .qclass = 3}; /* CH */
	ask_full(&q, 512, 0, &d);
	assert_int_equal(d.rcode, 5);
	assert_int_equal(d.aa, 0);
	q.qclass = 255; /* ANY class is answered */
	ask_full(&q, 512, 0, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
}

static void test_header_bits(void **state)
{
	struct t_msg d;
	struct t_q q = {.id = 0xBEEF, .flags2 = 0x00, .flags3 = 0x10 | 0x20, /* CD, AD */
			.name = "1.2.0.192." ZONE, .qtype = 1};
	ask_full(&q, 512, 0, &d);
	assert_int_equal(d.id, 0xBEEF);
	assert_int_equal(d.rd, 0);
	assert_int_equal(d.cd, 1);
	assert_int_equal(d.ra, 0);
	assert_int_equal(d.tc, 0);
	assert_int_equal(d.m[3] & 0x20, 0); /* we do not claim AD */
}

static void test_no_answer(void **state)
{
	uint8_t qb[600];
	struct t_q q = {.id = 1, .flags2 = 0x80, .name = ZONE, .qtype = 6}; /* QR=1 */
	size_t ql = t_query(qb, &q);
	assert_int_equal(dns_answer(g_ctx, g_snap, qb, ql, g_out, 512, false), 0);
	q.flags2 = 0;
	ql = t_query(qb, &q);
	assert_int_equal(dns_answer(g_ctx, g_snap, qb, 11, g_out, 512, false), 0);
	assert_int_equal(dns_answer(g_ctx, g_snap, qb, 0, g_out, 512, false), 0);
	assert_true(dns_answer(g_ctx, g_snap, qb, ql, g_out, 512, false) > 0);
}

static void test_notimp(void **state)
{
	struct t_msg d;
	struct t_q q = {.id = 9, .flags2 = 4 << 3, .name = ZONE, .qtype = 6}; /* NOTIFY */
	ask_full(&q, 512, 0, &d);
	assert_int_equal(d.rcode, 4);
	assert_int_equal(d.opcode, 4);
	assert_int_equal(d.qr, 1);
	assert_int_equal(d.an, 0);
	q.flags2 = 2 << 3; /* STATUS */
	ask_full(&q, 512, 0, &d);
	assert_int_equal(d.rcode, 4);
}

static void t_formerr(const uint8_t *qb, size_t ql, int with_q)
{
	struct t_msg d;
	size_t n = dns_answer(g_ctx, g_snap, qb, ql, g_out, 512, false);
	assert_true(n >= 12);
	t_decode(g_out, n, &d);
	assert_int_equal(d.rcode, 1);
	assert_int_equal(d.qr, 1);
	assert_int_equal(d.id, (qb[0] << 8) | qb[1]);
	assert_int_equal(d.qd, with_q);
	assert_int_equal(d.an + d.ns + d.ar, 0);
}

static void test_formerr(void **state)
{
	uint8_t qb[1200];
	struct t_q q = {.id = 0x4242, .name = "1.2.0.192." ZONE, .qtype = 1};
	size_t ql = t_query(qb, &q);

	qb[5] = 0; /* QDCOUNT 0 */
	t_formerr(qb, ql, 0);
	qb[5] = 2; /* QDCOUNT 2 */
	t_formerr(qb, ql, 0);
	qb[5] = 1;
	t_formerr(qb, ql - 1, 0); /* truncated question */
	t_formerr(qb, 20, 0);
	qb[ql] = 0xAB; /* garbage after */
	t_formerr(qb, ql + 1, 1);

	/* a compression pointer in the question (even a loop onto itself) */
	uint8_t ptr[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
	t_formerr(ptr, sizeof ptr, 0);
	/* a label over 63 (0x40 is an extended label type) */
	uint8_t big[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64, 'a', 0, 0, 1, 0, 1};
	t_formerr(big, sizeof big, 0);
	/* a name over 255 bytes: five 63-byte labels */
	uint8_t longn[12 + 5 * 64 + 5];
	memset(longn, 0, sizeof longn);
	longn[5] = 1;
	for (int i = 0; i < 5; i++) {
		longn[12 + 64 * i] = 63;
		memset(longn + 13 + 64 * i, 'a', 63);
	}
	longn[sizeof longn - 3] = 1;
	longn[sizeof longn - 1] = 1;
	t_formerr(longn, sizeof longn, 0);

	/* two OPT records */
	q.edns = 1;
	q.edns_udp = 1232;
	ql = t_query(qb, &q);
	memcpy(qb + ql, qb + ql - 11, 11);
	qb[11] = 2;
	t_formerr(qb, ql + 11, 1);
	/* OPT whose options overrun its RDATA */
	ql = t_query(qb, &q);
	qb[ql - 1] = 4; /* rdlen 4 */
	memcpy(qb + ql, "\x00\x0a\x00\x08", 4); /* COOKIE, length 8, but nothing follows */
	t_formerr(qb, ql + 4, 1);
	/* OPT with a non-root owner */
	ql = t_query(qb, &q);
	memmove(qb + ql - 11 + 2, qb + ql - 11, 11);
	qb[ql - 11] = 1;
	qb[ql - 10] = 'x';
	t_formerr(qb, ql + 2, 1);
	/* OPT in the answer section */
	ql = t_query(qb, &q);
	qb[7] = 1;
	qb[11] = 0;
	t_formerr(qb, ql, 1);
	/* an RR that claims more RDATA than there is */
	ql = t_query(qb, &q);
	qb[ql - 1] = 200;
	t_formerr(qb, ql, 1);
}

static void test_skips_other_rrs(void **state)
{
	uint8_t qb[600];
	struct t_msg d;
	struct t_q q = {.id = 5, .name = "1.2.0.192." ZONE, .qtype = 1, .edns = 1,
			.edns_udp = 1232};
	size_t ql = t_query(qb, &q);
	/* an extra additional RR before the OPT, owner a pointer to itself (must not be followed) */
	uint8_t extra[] = {0xC0, 0x00, 0, 16, 0, 1, 0, 0, 0, 5, 0, 3, 2, 'h', 'i'};
	memmove(qb + ql - 11 + sizeof extra, qb + ql - 11, 11);
	memcpy(qb + ql - 11, extra, sizeof extra);
	extra[0] = 0;
	qb[11] = 2;
	ql += sizeof extra;
	/* and one in the authority section, with a normal name */
	uint8_t auth[] = {1, 'x', 0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4};
	size_t qend = 12 + strlen("1.2.0.192." ZONE) + 2 + 4;
	memmove(qb + qend + sizeof auth, qb + qend, ql - qend);
	memcpy(qb + qend, auth, sizeof auth);
	qb[9] = 1;
	ql += sizeof auth;
	size_t n = dns_answer(g_ctx, g_snap, qb, ql, g_out, 512, false);
	t_decode(g_out, n, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.has_opt, 1);
}

static void test_edns(void **state)
{
	struct t_msg d;
	struct t_q q = {.id = 5, .name = "1.2.0.192." ZONE, .qtype = 1, .edns = 1,
			.edns_udp = 4096, .edns_do = 1};
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.ar, 1);
	assert_int_equal(d.has_opt, 1);
	assert_int_equal(d.opt_udp, 1232);
	assert_int_equal(d.opt_do, 1);
	assert_int_equal(d.opt_ver, 0);
	assert_int_equal(d.rr[1].type, 41);
	assert_string_equal(d.rr[1].name, "");
	q.edns_do = 0;
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.opt_do, 0);
	/* EDNS rides on negative and refused answers too */
	q.name = "3.0.192." ZONE;
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.rcode, 3);
	assert_int_equal(d.has_opt, 1);
	q.name = "example.com";
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.rcode, 5);
	assert_int_equal(d.has_opt, 1);
	/* no OPT in, no OPT out */
	ask("1.2.0.192." ZONE, 1, &d);
	assert_int_equal(d.has_opt, 0);
	assert_int_equal(d.ar, 0);
}

static void test_badvers(void **state)
{
	struct t_msg d;
	struct t_q q = {.id = 5, .name = "1.2.0.192." ZONE, .qtype = 1, .edns = 1,
			.edns_udp = 4096, .edns_ver = 1};
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.rcode, 0); /* the low 4 bits of 16 */
	assert_int_equal(d.an, 0);
	assert_int_equal(d.has_opt, 1);
	assert_int_equal(d.opt_ext, 1);
	assert_int_equal(d.opt_ver, 0);
	assert_int_equal((d.opt_ext << 4) | d.rcode, DNS_RCODE_BADVERS);
}

static void test_truncation(void **state)
{
	struct t_msg d;
	/* the 710-byte TXT: over 512 without EDNS */
	struct t_q q = {.id = 5, .name = "7.113.0.203." ZONE, .qtype = 16};
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.tc, 1);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.qd, 1);
	assert_int_equal(d.an + d.ns + d.ar, 0);
	assert_true(d.len <= 512);
	/* the same over TCP fits */
	ask_full(&q, DNS_MAX_MSG, 1, &d);
	assert_int_equal(d.tc, 0);
	assert_int_equal(d.an, 1);
	/* TCP limited only by cap */
	ask_full(&q, 100, 1, &d);
	assert_int_equal(d.tc, 1);
	assert_int_equal(d.an, 0);
	/* EDNS 4096 from the client: capped at our 1232, which fits */
	q.edns = 1;
	q.edns_udp = 4096;
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.tc, 0);
	assert_int_equal(d.an, 1);
	/* EDNS 600: does not fit; OPT kept */
	q.edns_udp = 600;
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.tc, 1);
	assert_int_equal(d.an, 0);
	assert_int_equal(d.has_opt, 1);
	assert_true(d.len <= 600);
	/* a client size under 512 counts as 512: a small answer still fits */
	q.edns_udp = 100;
	q.name = "1.2.0.192." ZONE;
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.tc, 0);
	assert_int_equal(d.an, 1);
	/* the cap wins over everything */
	q.edns_udp = 4096;
	q.name = "7.113.0.203." ZONE;
	ask_full(&q, 700, 0, &d);
	assert_int_equal(d.tc, 1);
}

static void test_never_past_cap(void **state)
{
	uint8_t qb[600];
	uint8_t out[800];
	struct t_q q = {.id = 5, .name = "7.113.0.203." ZONE, .qtype = 16, .edns = 1,
			.edns_udp = 4096};
	size_t ql = t_query(qb, &q);
	for (size_t cap = 0; cap < 760; cap++) {
		memset(out, 0xEE, sizeof out);
		size_t n = dns_answer(g_ctx, g_snap, qb, ql, out, cap, cap % 2);
		assert_true(n <= cap);
		for (size_t i = cap; i < sizeof out; i++)
			assert_int_equal(out[i], 0xEE);
		if (n > 0) {
			struct t_msg d;
			t_decode(out, n, &d);
			assert_int_equal(d.id, 5);
		}
	}
}

static void test_servfail_without_snapshot(void **state)
{
	uint8_t qb[600];
	struct t_msg d;
	struct t_q q = {.id = 5, .name = "1.2.0.192." ZONE, .qtype = 1};
	size_t ql = t_query(qb, &q);
	size_t n = dns_answer(g_ctx, NULL, qb, ql, g_out, 512, false);
	t_decode(g_out, n, &d);
	assert_int_equal(d.rcode, 2);
	assert_int_equal(d.an, 0);
}

static void test_soa_cache_follows_snapshot(void **state)
{
	struct t_msg d;
	char mname[300], rname[300];
	struct zone_snapshot *old = g_snap;
	g_snap = t_build(43);
	ask(ZONE, 6, &d);
	size_t p = t_name(d.m, d.len, d.rr[0].rdata, mname);
	p = t_name(d.m, d.len, p, rname);
	assert_int_equal(g32(d.m + p), 43);
	zone_snapshot_free(g_snap);
	g_snap = old;
	ask(ZONE, 6, &d);
	p = t_name(d.m, d.len, d.rr[0].rdata, mname);
	p = t_name(d.m, d.len, p, rname);
	assert_int_equal(g32(d.m + p), 42);
}

/* ---- in-zone name servers (ns_addr) ------------------------------------------ */

/* The test zone with addresses for ns1 (two IPv4, one IPv6) and for ns3.dc, IPv4 only. */
static struct zone_snapshot *t_build_glue(void)
{
	struct zone_defaults d;
	memset(&d, 0, sizeof d);
	strcpy(d.soa.mname, "ns1." ZONE);
	strcpy(d.soa.rname, "hostmaster." ZONE);
	d.soa.serial = 42; /* what assert_soa_authority expects */
	d.soa.minimum = 300;
	d.soa.ttl = 3600;
	d.ns.ttl = 86400;
	zone_ns_add(&d.ns, "ns1." ZONE);
	zone_ns_add(&d.ns, "ns2." ZONE); /* in the zone, no address: answered as before */
	zone_ns_add(&d.ns, "ns3.dc." ZONE);
	d.glue.ttl = 7200;
	uint8_t v6[16];
	t_ip6("20010db8000000000000000000000053", v6);
	assert_int_equal(zone_glue_add(&d.glue, "NS1." ZONE ".", false, 0xC0000235, NULL), 0);
	assert_int_equal(zone_glue_add(&d.glue, "ns1." ZONE, true, 0, v6), 0);
	assert_int_equal(zone_glue_add(&d.glue, "ns1." ZONE, false, 0xC0000236, NULL), 0);
	assert_int_equal(zone_glue_add(&d.glue, "ns3.dc." ZONE, false, 0xC0000237, NULL), 0);
	assert_int_equal(d.glue.count, 2);
	d.ttl = 2100;
	d.a = 0x7f000002;
	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	assert_non_null(b);
	uint16_t def;
	assert_int_equal(zone_builder_default_class(b, &def), 0);
	assert_int_equal(zone_builder_add4(b, 0xC0000201, 0xC0000201, def), 0);
	struct zone_snapshot *s = NULL;
	assert_int_equal(zone_snapshot_build(b, &s), 0);
	zone_builder_free(b);
	assert_int_equal(zone_snapshot_glue(s)->count, 2);
	return s;
}

static void test_ns_addr(void **state)
{
	struct zone_snapshot *plain = g_snap;
	g_snap = t_build_glue();
	struct t_msg d;

	ask("ns1." ZONE, 1, &d);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.aa, 1);
	assert_int_equal(d.an, 2);
	assert_int_equal(d.ns, 0);
	assert_string_equal(d.rr[0].name, "ns1." ZONE);
	assert_int_equal(d.rr[0].type, 1);
	assert_int_equal(d.rr[0].ttl, 7200);
	assert_int_equal(d.rr[0].rdlen, 4);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0xC0000235);
	assert_int_equal(g32(d.m + d.rr[1].rdata), 0xC0000236);

	ask("Ns1.Bl.Example.Org", 28, &d); /* AAAA, mixed case (0x20) */
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.aa, 1);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.rr[0].type, 28);
	assert_int_equal(d.rr[0].rdlen, 16);
	assert_int_equal(d.m[d.rr[0].rdata + 15], 0x53);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0x20010db8);

	ask("ns1." ZONE, 255, &d); /* ANY: one RRset, the A one (RFC 8482) */
	assert_int_equal(d.an, 2);
	assert_int_equal(d.rr[0].type, 1);
	ask("ns1." ZONE, 16, &d); /* TXT: NODATA */
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.aa, 1);
	assert_soa_authority(&d);

	ask("ns3.dc." ZONE, 28, &d); /* no IPv6 address: NODATA */
	assert_int_equal(d.rcode, 0);
	assert_soa_authority(&d);
	ask("ns3.dc." ZONE, 255, &d);
	assert_int_equal(d.an, 1);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0xC0000237);
	ask("dc." ZONE, 1, &d); /* above a name that exists: NODATA (RFC 8020) */
	assert_int_equal(d.rcode, 0);
	assert_soa_authority(&d);

	ask("ns2." ZONE, 1, &d); /* a name server without addresses: as before */
	assert_int_equal(d.rcode, 3);
	ask("x.ns1." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	ask("s1." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
	ask("1.2.0.192." ZONE, 1, &d); /* the list answers as before */
	assert_int_equal(d.an, 1);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0x7f000002);
	ask("2.2.0.192." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);

	/* The cache follows the snapshot: without glue, ns1 is NXDOMAIN again. */
	zone_snapshot_free(g_snap);
	g_snap = plain;
	ask("ns1." ZONE, 1, &d);
	assert_int_equal(d.rcode, 3);
}

/* ---- many name servers ------------------------------------------------------- */

/* n name servers, odd ones outside the zone, even ones inside it with an address each
 * (192.0.2.i): 16 take 560 bytes, more than a 512-byte answer holds, less than 1232. */
static const char *t_ns_name(unsigned i, char *buf, size_t cap)
{
	if (i % 2)
		snprintf(buf, cap, "ns%02u.mirror.example.net", i);
	else
		snprintf(buf, cap, "ns%02u." ZONE, i);
	return buf;
}

static struct zone_snapshot *t_build_ns(unsigned n)
{
	struct zone_defaults d;
	memset(&d, 0, sizeof d);
	strcpy(d.soa.mname, "ns02." ZONE);
	strcpy(d.soa.rname, "hostmaster." ZONE);
	d.soa.serial = 42;
	d.soa.minimum = 300;
	d.soa.ttl = 3600;
	d.ns.ttl = 86400;
	d.glue.ttl = 7200;
	for (unsigned i = 1; i <= n; i++) {
		char name[64];
		assert_int_equal(zone_ns_add(&d.ns, t_ns_name(i, name, sizeof name)), 0);
		if (i % 2 == 0)
			assert_int_equal(zone_glue_add(&d.glue, name, false, 0xC0000200 + i, NULL), 0);
	}
	assert_int_equal(d.ns.count, n);
	d.ttl = 2100;
	d.a = 0x7f000002;
	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	assert_non_null(b);
	struct zone_snapshot *s = NULL;
	assert_int_equal(zone_snapshot_build(b, &s), 0);
	zone_builder_free(b);
	return s;
}

/* d answers every one of the n names, in order, and nothing else. */
static void assert_ns_set(const struct t_msg *d, unsigned n)
{
	assert_int_equal(d->tc, 0);
	assert_int_equal(d->rcode, 0);
	assert_int_equal(d->aa, 1);
	assert_int_equal(d->an, n);
	assert_int_equal(d->ns, 0);
	for (unsigned i = 1; i <= n; i++) {
		char want[64], got[300];
		const struct t_rr *r = &d->rr[i - 1];
		assert_string_equal(r->name, ZONE);
		assert_int_equal(r->type, 2);
		assert_int_equal(r->ttl, 86400);
		t_name(d->m, d->len, r->rdata, got);
		assert_string_equal(got, t_ns_name(i, want, sizeof want));
	}
}

static void test_ns_many(void **state)
{
	struct zone_snapshot *plain = g_snap;
	g_snap = t_build_ns(16);
	struct t_msg d;
	struct t_q q = {.id = 7, .name = ZONE, .qtype = 2};

	/* UDP without EDNS: 512 bytes cannot hold the set, and a part of it must never be sent
	 * (RFC 2181 9): TC=1, no records, so the client asks again over TCP. */
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.tc, 1);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.qd, 1);
	assert_int_equal(d.an + d.ns + d.ar, 0);
	assert_int_equal(d.len, 12 + strlen(ZONE) + 2 + 4);

	/* TCP: every name. */
	ask_full(&q, DNS_MAX_MSG, 1, &d);
	assert_ns_set(&d, 16);

	/* EDNS 4096 from the client, capped at our 1232: it fits. */
	q.edns = 1;
	q.edns_udp = 4096;
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_ns_set(&d, 16);
	assert_int_equal(d.ar, 1);
	assert_int_equal(d.has_opt, 1);
	/* EDNS 560: not quite, the same TC=1 with the OPT kept */
	q.edns_udp = 560;
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.tc, 1);
	assert_int_equal(d.an + d.ns, 0);
	assert_int_equal(d.has_opt, 1);

	/* ANY at the apex stays the SOA alone (RFC 8482): no NS set to cut. */
	q.qtype = 255;
	q.edns = 0;
	ask_full(&q, DNS_MAX_UDP, 0, &d);
	assert_int_equal(d.tc, 0);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.rr[0].type, 6);

	/* Every in-zone name server has its address, the last as much as the first. */
	ask("ns16." ZONE, 1, &d);
	assert_int_equal(d.an, 1);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0xC0000210);
	ask("ns02." ZONE, 1, &d);
	assert_int_equal(g32(d.m + d.rr[0].rdata), 0xC0000202);

	zone_snapshot_free(g_snap);
	g_snap = plain;
	ask(ZONE, 2, &d); /* the cache follows the snapshot back to two names */
	assert_int_equal(d.an, 2);
}

static void test_ns_forty(void **state)
{
	struct zone_snapshot *s = t_build_ns(40);
	struct dns_config cfg;
	memset(&cfg, 0, sizeof cfg);
	strcpy(cfg.zone, ZONE);
	cfg.edns_udp_max = 4096;
	struct dns_ctx *c = dns_ctx_new(&cfg);
	assert_non_null(c);
	uint8_t qb[600];
	struct t_msg d;
	struct t_q q = {.id = 9, .name = ZONE, .qtype = 2};
	size_t ql = t_query(qb, &q);

	size_t n = dns_answer(c, s, qb, ql, g_out, DNS_MAX_MSG, true);
	t_decode(g_out, n, &d);
	assert_ns_set(&d, 40);

	n = dns_answer(c, s, qb, ql, g_out, DNS_MAX_UDP, false);
	t_decode(g_out, n, &d);
	assert_int_equal(d.tc, 1);
	assert_int_equal(d.an, 0);

	/* An operator who raised edns_udp_max to 4096 serves the 1.4 KB set over UDP. */
	q.edns = 1;
	q.edns_udp = 4096;
	ql = t_query(qb, &q);
	n = dns_answer(c, s, qb, ql, g_out, DNS_MAX_UDP, false);
	t_decode(g_out, n, &d);
	assert_ns_set(&d, 40);
	assert_true(n > 1232);
	dns_ctx_free(c);
	zone_snapshot_free(s);
}

static void test_glue_limits(void **state)
{
	struct zone_glue g;
	memset(&g, 0, sizeof g);
	for (unsigned i = 0; i < ZONE_GLUE_ADDRS; i++)
		assert_int_equal(zone_glue_add(&g, "ns1." ZONE, false, i, NULL), 0);
	assert_int_equal(zone_glue_add(&g, "ns1." ZONE, false, 9, NULL), ZONE_ETOOMANY);
	/* As many names as the zone has name servers (and the SOA primary): no cap of its own. */
	for (unsigned i = 2; i <= 41; i++) {
		char name[64];
		snprintf(name, sizeof name, "ns%u.x." ZONE, i);
		assert_int_equal(zone_glue_add(&g, name, false, i, NULL), 0);
	}
	assert_int_equal(g.count, 41);
	assert_string_equal(g.names[40].name, "ns41.x." ZONE);
	assert_int_equal(g.names[40].a4[0], 41);
	zone_glue_free(&g);
	assert_int_equal(g.count, 0);
}

static void test_ctx_config(void **state)
{
	struct dns_config cfg;
	memset(&cfg, 0, sizeof cfg);
	strcpy(cfg.zone, "a..b");
	assert_null(dns_ctx_new(&cfg));
	memset(cfg.zone, 'a', 70);
	cfg.zone[70] = '\0';
	assert_null(dns_ctx_new(&cfg)); /* label over 63 */
	strcpy(cfg.zone, "BL.Example.Org."); /* trailing dot and case are fine */
	struct dns_ctx *c = dns_ctx_new(&cfg);
	assert_non_null(c);
	uint8_t qb[600];
	struct t_msg d;
	struct t_q q = {.id = 5, .name = "1.2.0.192." ZONE, .qtype = 1, .edns = 1,
			.edns_udp = 4096};
	size_t ql = t_query(qb, &q);
	size_t n = dns_answer(c, g_snap, qb, ql, g_out, 512, false);
	t_decode(g_out, n, &d);
	assert_int_equal(d.an, 1);
	assert_int_equal(d.opt_udp, 1232); /* edns_udp_max 0 means the default */
	dns_ctx_free(c);
	assert_string_equal(tl_strerror(DNS_EIO), "input/output error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed_a),
		cmocka_unit_test(test_listed_txt_v4),
		cmocka_unit_test(test_listed_txt_split),
		cmocka_unit_test(test_listed_v6),
		cmocka_unit_test(test_rfc5782_test_points),
		cmocka_unit_test(test_any_listed_is_minimal),
		cmocka_unit_test(test_unlisted_nxdomain),
		cmocka_unit_test(test_listed_other_type_nodata),
		cmocka_unit_test(test_apex),
		cmocka_unit_test(test_empty_non_terminals),
		cmocka_unit_test(test_both_readings),
		cmocka_unit_test(test_not_an_ip_nxdomain),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_header_bits),
		cmocka_unit_test(test_no_answer),
		cmocka_unit_test(test_notimp),
		cmocka_unit_test(test_formerr),
		cmocka_unit_test(test_skips_other_rrs),
		cmocka_unit_test(test_edns),
		cmocka_unit_test(test_badvers),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_never_past_cap),
		cmocka_unit_test(test_servfail_without_snapshot),
		cmocka_unit_test(test_soa_cache_follows_snapshot),
		cmocka_unit_test(test_ns_addr),
		cmocka_unit_test(test_ns_many),
		cmocka_unit_test(test_ns_forty),
		cmocka_unit_test(test_glue_limits),
		cmocka_unit_test(test_ctx_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
