/* test_zone_export.c - unit tests of the rbldnsd and BIND exports: text, round trip, atomic write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "zone/zone.h"

#define A2 0x7f000002u
#define ZONE "bl.example.org"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* ---- helpers ---- */

static uint32_t ip4(const char *s)
{
	uint32_t v = 0;
	assert_int_equal(ip4_parse(s, strlen(s), &v), 0);
	return v;
}

static void ip6(const char *s, uint8_t out[16])
{
	assert_int_equal(ip6_parse(s, strlen(s), out), 0);
}

static struct zone_builder *new_builder(void)
{
	struct zone_defaults d = { 0 };
	d.a = A2;
	d.ttl = 2100;
	d.txt = "Listed: $";
	d.soa = (struct zone_soa){ .serial = 42, .refresh = 600, .retry = 300, .expire = 86400,
				   .minimum = 300, .ttl = 3600 };
	strcpy(d.soa.mname, "ns1.example.net");
	strcpy(d.soa.rname, "hostmaster.example.net");
	d.ns.ttl = 3600;
	zone_ns_add(&d.ns, "ns1.example.net");
	zone_ns_add(&d.ns, "ns2.example.net");
	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	assert_non_null(b);
	return b;
}

static uint16_t cls(struct zone_builder *b, uint32_t a, const char *txt, uint32_t ttl)
{
	uint16_t id = 0;
	assert_int_equal(zone_builder_class(b, a, txt, txt ? strlen(txt) : 0, ttl, &id), 0);
	return id;
}

static uint16_t defcls(struct zone_builder *b)
{
	uint16_t id = 0;
	assert_int_equal(zone_builder_default_class(b, &id), 0);
	return id;
}

static void add4(struct zone_builder *b, const char *first, const char *last, uint16_t c)
{
	assert_int_equal(zone_builder_add4(b, ip4(first), ip4(last ? last : first), c), 0);
}

static void add6(struct zone_builder *b, const char *pfx, unsigned plen, uint16_t c)
{
	uint8_t a[16];
	ip6(pfx, a);
	assert_int_equal(zone_builder_add6(b, a, plen, c), 0);
}

static struct zone_snapshot *build(struct zone_builder *b)
{
	struct zone_snapshot *s = NULL;
	assert_int_equal(zone_snapshot_build(b, &s), 0);
	zone_builder_free(b);
	return s;
}

/* The export as a string (caller frees). */
static char *export_str(const struct zone_snapshot *s, int format)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	int rc = format == ZONE_EXPORT_RBLDNSD ? zone_export_rbldnsd(s, ZONE, f)
					       : zone_export_bind(s, ZONE, f);
	assert_int_equal(rc, 0);
	fclose(f);
	return buf;
}

static void assert_text(const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "--- got:\n%s--- want:\n%s---\n", got, want);
		fail();
	}
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

/* ---- exact text ---- */

static struct zone_snapshot *small_snapshot(void)
{
	struct zone_builder *b = new_builder();
	uint16_t def = defcls(b);
	uint16_t c3 = cls(b, 0x7f000003, "Other \"q\" $", 300);
	add4(b, "1.2.3.4", NULL, def);
	add4(b, "10.0.0.0", "10.0.0.255", def);
	add4(b, "10.0.0.7", NULL, ZONE_CLASS_EXCLUDE);
	add4(b, "10.0.0.9", NULL, c3);
	add4(b, "192.0.2.0", "192.0.2.9", c3);
	add4(b, "172.16.0.0", "172.31.255.255", ZONE_CLASS_EXCLUDE);
	add6(b, "2001:db8:1:2::", 64, def);
	add6(b, "2001:db8:5::", 48, c3);
	add6(b, "2001:db8:5::1", 128, ZONE_CLASS_EXCLUDE);
	return build(b);
}

static const char small_rbldnsd[] =
	"# Trapline export of bl.example.org, serial 42: rbldnsd data, load as "
	"bl.example.org:combined:FILE\n"
	"$SOA 3600 ns1.example.net. hostmaster.example.net. 42 600 300 86400 300\n"
	"$NS 3600 ns1.example.net. ns2.example.net.\n"
	"$DATASET ip4set:ttl2100 @\n"
	"$TTL 2100\n"
	":127.0.0.2:Listed: $\n"
	"1.2.3.4\n"
	"10.0.0.0/30\n"
	"10.0.0.4/31\n"
	"10.0.0.6\n"
	"10.0.0.8\n"
	"10.0.0.10/31\n"
	"10.0.0.12/30\n"
	"10.0.0.16/28\n"
	"10.0.0.32/27\n"
	"10.0.0.64/26\n"
	"10.0.0.128/25\n"
	"127.0.0.2\n"
	"$DATASET ip4set:ttl300 @\n"
	"$TTL 300\n"
	":127.0.0.3:Other \"q\" $\n"
	"10.0.0.9\n"
	"192.0.2.0/29\n"
	"192.0.2.8/31\n"
	"$DATASET ip6trie:ttl2100 @\n"
	"$TTL 2100\n"
	":127.0.0.2:Listed: $\n"
	"0:0:0:0:0:ffff:7f00:2\n"
	"2001:db8:1:2:0:0:0:0/64\n"
	"$DATASET ip6trie:ttl300 @\n"
	"$TTL 300\n"
	":127.0.0.3:Other \"q\" $\n"
	"2001:db8:5:0:0:0:0:0\n"
	"2001:db8:5:0:0:0:0:2/127\n"
	"2001:db8:5:0:0:0:0:4/126\n"
	"2001:db8:5:0:0:0:0:8/125\n"
	"2001:db8:5:0:0:0:0:10/124\n"
	"2001:db8:5:0:0:0:0:20/123\n"
	"2001:db8:5:0:0:0:0:40/122\n"
	"2001:db8:5:0:0:0:0:80/121\n"
	"2001:db8:5:0:0:0:0:100/120\n"
	"2001:db8:5:0:0:0:0:200/119\n"
	"2001:db8:5:0:0:0:0:400/118\n"
	"2001:db8:5:0:0:0:0:800/117\n"
	"2001:db8:5:0:0:0:0:1000/116\n"
	"2001:db8:5:0:0:0:0:2000/115\n"
	"2001:db8:5:0:0:0:0:4000/114\n"
	"2001:db8:5:0:0:0:0:8000/113\n"
	"2001:db8:5:0:0:0:1:0/112\n"
	"2001:db8:5:0:0:0:2:0/111\n"
	"2001:db8:5:0:0:0:4:0/110\n"
	"2001:db8:5:0:0:0:8:0/109\n"
	"2001:db8:5:0:0:0:10:0/108\n"
	"2001:db8:5:0:0:0:20:0/107\n"
	"2001:db8:5:0:0:0:40:0/106\n"
	"2001:db8:5:0:0:0:80:0/105\n"
	"2001:db8:5:0:0:0:100:0/104\n"
	"2001:db8:5:0:0:0:200:0/103\n"
	"2001:db8:5:0:0:0:400:0/102\n"
	"2001:db8:5:0:0:0:800:0/101\n"
	"2001:db8:5:0:0:0:1000:0/100\n"
	"2001:db8:5:0:0:0:2000:0/99\n"
	"2001:db8:5:0:0:0:4000:0/98\n"
	"2001:db8:5:0:0:0:8000:0/97\n"
	"2001:db8:5:0:0:1:0:0/96\n"
	"2001:db8:5:0:0:2:0:0/95\n"
	"2001:db8:5:0:0:4:0:0/94\n"
	"2001:db8:5:0:0:8:0:0/93\n"
	"2001:db8:5:0:0:10:0:0/92\n"
	"2001:db8:5:0:0:20:0:0/91\n"
	"2001:db8:5:0:0:40:0:0/90\n"
	"2001:db8:5:0:0:80:0:0/89\n"
	"2001:db8:5:0:0:100:0:0/88\n"
	"2001:db8:5:0:0:200:0:0/87\n"
	"2001:db8:5:0:0:400:0:0/86\n"
	"2001:db8:5:0:0:800:0:0/85\n"
	"2001:db8:5:0:0:1000:0:0/84\n"
	"2001:db8:5:0:0:2000:0:0/83\n"
	"2001:db8:5:0:0:4000:0:0/82\n"
	"2001:db8:5:0:0:8000:0:0/81\n"
	"2001:db8:5:0:1:0:0:0/80\n"
	"2001:db8:5:0:2:0:0:0/79\n"
	"2001:db8:5:0:4:0:0:0/78\n"
	"2001:db8:5:0:8:0:0:0/77\n"
	"2001:db8:5:0:10:0:0:0/76\n"
	"2001:db8:5:0:20:0:0:0/75\n"
	"2001:db8:5:0:40:0:0:0/74\n"
	"2001:db8:5:0:80:0:0:0/73\n"
	"2001:db8:5:0:100:0:0:0/72\n"
	"2001:db8:5:0:200:0:0:0/71\n"
	"2001:db8:5:0:400:0:0:0/70\n"
	"2001:db8:5:0:800:0:0:0/69\n"
	"2001:db8:5:0:1000:0:0:0/68\n"
	"2001:db8:5:0:2000:0:0:0/67\n"
	"2001:db8:5:0:4000:0:0:0/66\n"
	"2001:db8:5:0:8000:0:0:0/65\n"
	"2001:db8:5:1:0:0:0:0/64\n"
	"2001:db8:5:2:0:0:0:0/63\n"
	"2001:db8:5:4:0:0:0:0/62\n"
	"2001:db8:5:8:0:0:0:0/61\n"
	"2001:db8:5:10:0:0:0:0/60\n"
	"2001:db8:5:20:0:0:0:0/59\n"
	"2001:db8:5:40:0:0:0:0/58\n"
	"2001:db8:5:80:0:0:0:0/57\n"
	"2001:db8:5:100:0:0:0:0/56\n"
	"2001:db8:5:200:0:0:0:0/55\n"
	"2001:db8:5:400:0:0:0:0/54\n"
	"2001:db8:5:800:0:0:0:0/53\n"
	"2001:db8:5:1000:0:0:0:0/52\n"
	"2001:db8:5:2000:0:0:0:0/51\n"
	"2001:db8:5:4000:0:0:0:0/50\n"
	"2001:db8:5:8000:0:0:0:0/49\n";

/* Singles, a range with an exclusion and a differently answered address inside, a range that
 * is not a CIDR block, an excluded range over unlisted space, IPv6 with an exclusion; the test
 * points are in (127.0.0.2, ::ffff:7f00:2) and the TTLs give two datasets each. */
static void test_rbldnsd_small(void **state)
{
	(void)state;
	struct zone_snapshot *s = small_snapshot();
	char *got = export_str(s, ZONE_EXPORT_RBLDNSD);
	assert_text(got, small_rbldnsd);
	free(got);
	zone_snapshot_free(s);
}

/* A /24 and two /16s as wildcards (one /16 made of pieces of the same class), IPv6 /128 and
 * /64, a class without TXT, a TXT template past 255 bytes with a quote in it. */
static struct zone_snapshot *bind_snapshot(void)
{
	struct zone_builder *b = new_builder();
	uint16_t def = defcls(b);
	char long_txt[301];
	memset(long_txt, 'x', 300);
	long_txt[0] = '"';
	long_txt[299] = '$';
	long_txt[300] = '\0';
	uint16_t c4 = cls(b, 0x7f000004, long_txt, 600);
	uint16_t c5 = cls(b, 0x7f000005, NULL, 600);
	add4(b, "1.2.3.4", NULL, c4);
	add4(b, "10.1.2.0", "10.1.2.255", def);
	add4(b, "10.2.0.0", "10.2.255.255", c5);
	add4(b, "10.3.0.0", "10.3.0.255", c5);
	add4(b, "10.3.1.0", "10.3.1.255", c5);
	add4(b, "10.3.2.0", "10.3.255.255", c5);
	add4(b, "10.3.7.0", "10.3.7.255", c5); /* same class inside: no boundary, still one */
	add6(b, "2001:db8::1", 128, def);
	add6(b, "2001:db8:1:2::", 64, c5);
	return build(b);
}

static void test_bind_small(void **state)
{
	(void)state;
	struct zone_snapshot *s = bind_snapshot();
	char x254[255], x44[45];
	memset(x254, 'x', 254);
	x254[254] = '\0';
	memset(x44, 'x', 44);
	x44[44] = '\0';
	char want[4096];
	snprintf(want, sizeof(want),
		 "; Trapline export of bl.example.org, serial 42: RFC 1035 master file\n"
		 "$ORIGIN bl.example.org.\n"
		 "$TTL 2100\n"
		 "@\t3600\tIN\tSOA\tns1.example.net. hostmaster.example.net. 42 600 300 86400 300\n"
		 "@\t3600\tIN\tNS\tns1.example.net.\n"
		 "@\t3600\tIN\tNS\tns2.example.net.\n"
		 "4.3.2.1\t600\tIN\tA\t127.0.0.4\n"
		 "4.3.2.1\t600\tIN\tTXT\t\"\\\"%s\" \"%s1.2.3.4\"\n"
		 "*.2.1.10\t2100\tIN\tA\t127.0.0.2\n"
		 "*.2.1.10\t2100\tIN\tTXT\t\"Listed: 10.1.2.0/24\"\n"
		 "*.2.10\t600\tIN\tA\t127.0.0.5\n"
		 "*.3.10\t600\tIN\tA\t127.0.0.5\n"
		 "2.0.0.127\t2100\tIN\tA\t127.0.0.2\n"
		 "2.0.0.127\t2100\tIN\tTXT\t\"Listed: 127.0.0.2\"\n"
		 "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0\t2100\tIN\tA\t127.0.0.2\n"
		 "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0\t2100\tIN\tTXT\t"
		 "\"Listed: ::ffff:127.0.0.2\"\n"
		 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2\t2100\tIN\tA\t127.0.0.2\n"
		 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2\t2100\tIN\tTXT\t"
		 "\"Listed: 2001:db8::1\"\n"
		 "*.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2\t600\tIN\tA\t127.0.0.5\n",
		 x254, x44);
	char *got = export_str(s, ZONE_EXPORT_BIND);
	assert_text(got, want);
	free(got);
	zone_snapshot_free(s);
}

/* In-zone name servers: their addresses follow the NS records (and survive an applied change
 * set); names outside the zone are not ours to write. */
/* One snapshot with the defaults d and one listing, 192.0.2.1. */
static struct zone_snapshot *glue_snapshot(struct zone_defaults *d)
{
	struct zone_builder *b = zone_builder_new(d);
	zone_defaults_free(d);
	assert_non_null(b);
	struct zone_snapshot *base = build(b);
	struct zone_change ch = { .op = ZONE_CHANGE_SET, .ip4 = ip4("192.0.2.1") };
	ch.cls.a = A2;
	ch.cls.ttl = 2100;
	struct zone_snapshot *s = NULL;
	assert_int_equal(zone_snapshot_apply(base, &ch, 1, 43, &s), 0);
	zone_snapshot_free(base);
	return s;
}

static void glue_defaults(struct zone_defaults *d, bool ns2_address)
{
	memset(d, 0, sizeof(*d));
	d->a = A2;
	d->ttl = 2100;
	d->soa = (struct zone_soa){ .serial = 42, .refresh = 600, .retry = 300, .expire = 86400,
				    .minimum = 300, .ttl = 3600 };
	strcpy(d->soa.mname, "ns1.bl.example.org");
	strcpy(d->soa.rname, "hostmaster.example.net");
	d->ns.ttl = 3600;
	zone_ns_add(&d->ns, "ns1.bl.example.org");
	zone_ns_add(&d->ns, "ns2.bl.example.org");
	zone_ns_add(&d->ns, "ns.example.net");
	d->glue.ttl = 7200;
	uint8_t a6[16];
	ip6("2001:db8::53", a6);
	assert_int_equal(zone_glue_add(&d->glue, "ns1.bl.example.org", false, ip4("192.0.2.53"),
				       NULL), 0);
	assert_int_equal(zone_glue_add(&d->glue, "ns1.bl.example.org", true, 0, a6), 0);
	assert_int_equal(zone_glue_add(&d->glue, "ns.example.net", false, ip4("192.0.2.9"), NULL),
			 0);
	if (ns2_address)
		assert_int_equal(zone_glue_add(&d->glue, "ns2.bl.example.org", false,
					       ip4("192.0.2.54"), NULL), 0);
}

/* In-zone name servers get their addresses beside the NS records; one without an address
 * makes a file BIND would refuse, so none is written and the reason names it. */
static void test_bind_glue(void **state)
{
	(void)state;
	struct zone_defaults d;
	glue_defaults(&d, false);
	struct zone_snapshot *s = glue_snapshot(&d);
	char why[512], *buf = NULL;
	size_t len = 0;
	assert_true(zone_export_bind_problem(s, ZONE, why, sizeof why));
	assert_non_null(strstr(why, "name server ns2.bl.example.org is inside zone"));
	assert_non_null(strstr(why, "ns_addr = ns2.bl.example.org=ADDR"));
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(zone_export_bind(s, ZONE, f), ZONE_EUNLOADABLE);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
	zone_snapshot_free(s);

	glue_defaults(&d, true);
	s = glue_snapshot(&d);
	assert_false(zone_export_bind_problem(s, ZONE, why, sizeof why));
	char *got = export_str(s, ZONE_EXPORT_BIND);
	assert_non_null(strstr(got, "@\t3600\tIN\tNS\tns2.bl.example.org.\n"
				    "@\t3600\tIN\tNS\tns.example.net.\n"
				    "ns1.bl.example.org.\t7200\tIN\tA\t192.0.2.53\n"
				    "ns1.bl.example.org.\t7200\tIN\tAAAA\t2001:db8::53\n"
				    "ns2.bl.example.org.\t7200\tIN\tA\t192.0.2.54\n"
				    "2.0.0.127\t"));
	assert_non_null(strstr(got, "\n1.2.0.192\t2100\tIN\tA\t127.0.0.2\n"));
	assert_null(strstr(got, "192.0.2.9")); /* another zone's name is not ours to publish */
	free(got);
	zone_snapshot_free(s);
}
/* Forty name servers: both exports write every one, and the rbldnsd file reads back whole. */
static void test_many_ns(void **state)
{
	(void)state;
	struct zone_defaults d = { 0 };
	d.a = A2;
	d.ttl = 2100;
	d.soa = (struct zone_soa){ .serial = 42, .ttl = 3600 };
	strcpy(d.soa.mname, "ns01.mirror.example.net");
	strcpy(d.soa.rname, "hostmaster.example.net");
	d.ns.ttl = 3600;
	char name[64];
	for (unsigned i = 1; i <= 40; i++) {
		snprintf(name, sizeof name, "ns%02u.mirror.example.net", i);
		assert_int_equal(zone_ns_add(&d.ns, name), 0);
	}
	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	assert_non_null(b);
	struct zone_snapshot *s = build(b);

	char want[4096];
	size_t o = (size_t)snprintf(want, sizeof want, "\n$NS 3600");
	for (unsigned i = 1; i <= 40; i++)
		o += (size_t)snprintf(want + o, sizeof want - o, " ns%02u.mirror.example.net.", i);
	snprintf(want + o, sizeof want - o, "\n");
	char *got = export_str(s, ZONE_EXPORT_RBLDNSD);
	assert_non_null(strstr(got, want));
	b = zone_builder_new(NULL);
	assert_non_null(b);
	struct zone_load_report rep;
	assert_int_equal(zone_load_rbldnsd_buf(b, "export", got, strlen(got), &rep), 0);
	struct zone_snapshot *back = build(b);
	const struct zone_ns *ns = zone_snapshot_ns(back);
	assert_int_equal(ns->count, 40);
	assert_string_equal(ns->names[39], "ns40.mirror.example.net");
	zone_snapshot_free(back);
	free(got);

	got = export_str(s, ZONE_EXPORT_BIND);
	o = 0;
	for (unsigned i = 1; i <= 40; i++)
		o += (size_t)snprintf(want + o, sizeof want - o,
				      "@\t3600\tIN\tNS\tns%02u.mirror.example.net.\n", i);
	assert_non_null(strstr(got, want));
	free(got);
	zone_snapshot_free(s);
}


/* The overlay answers: a new address, a deleted base address, a deleted address inside a
 * range (not listed even though the range is), IPv6 added and a base /64 deleted. */
static void test_rbldnsd_overlay(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t def = defcls(b);
	add4(b, "1.2.3.4", NULL, def);
	add4(b, "1.2.3.5", NULL, def);
	add4(b, "10.0.0.0", "10.0.0.3", def);
	add6(b, "2001:db8:1:2::", 64, def);
	add6(b, "2001:db8:1:3::", 64, def);
	struct zone_snapshot *base = build(b);
	struct zone_change ch[6] = {
		{ .op = ZONE_CHANGE_SET, .ip4 = ip4("1.2.3.6") },
		{ .op = ZONE_CHANGE_DELETE, .ip4 = ip4("1.2.3.4") },
		{ .op = ZONE_CHANGE_DELETE, .ip4 = ip4("10.0.0.1") },
		{ .op = ZONE_CHANGE_SET, .ip4 = ip4("1.2.3.7"), .cls = { true, 0x7f000003, 60, "Reported" } },
		{ .op = ZONE_CHANGE_SET, .v6 = true, .plen6 = 128 },
		{ .op = ZONE_CHANGE_DELETE, .v6 = true, .plen6 = 64 },
	};
	ip6("2001:db8::9", ch[4].ip6);
	ip6("2001:db8:1:3::", ch[5].ip6);
	struct zone_snapshot *s = NULL;
	assert_int_equal(zone_snapshot_apply(base, ch, 6, 43, &s), 0);
	char *got = export_str(s, ZONE_EXPORT_RBLDNSD);
	assert_text(got,
		    "# Trapline export of bl.example.org, serial 43: rbldnsd data, load as "
		    "bl.example.org:combined:FILE\n"
		    "$SOA 3600 ns1.example.net. hostmaster.example.net. 43 600 300 86400 300\n"
		    "$NS 3600 ns1.example.net. ns2.example.net.\n"
		    "$DATASET ip4set:ttl2100 @\n"
		    "$TTL 2100\n"
		    ":127.0.0.2:Listed: $\n"
		    "1.2.3.5\n"
		    "1.2.3.6\n"
		    "10.0.0.0\n"
		    "10.0.0.2/31\n"
		    "127.0.0.2\n"
		    "$DATASET ip4set:ttl60 @\n"
		    "$TTL 60\n"
		    ":127.0.0.3:Reported\n"
		    "1.2.3.7\n"
		    "$DATASET ip6trie:ttl2100 @\n"
		    "$TTL 2100\n"
		    ":127.0.0.2:Listed: $\n"
		    "0:0:0:0:0:ffff:7f00:2\n"
		    "2001:db8:0:0:0:0:0:9\n"
		    "2001:db8:1:2:0:0:0:0/64\n");
	free(got);
	zone_snapshot_free(s);
	zone_snapshot_free(base);
}

/* ---- a random zone, and what answers it ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed seeds give the same zone on every run and host */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* Addresses crowd into a few blocks so that singles, ranges and changes meet. */
static uint32_t rnd_v4(void)
{
	static const uint32_t areas[] = { 0x0a000000, 0xc6120000, 0x5db80000 };
	switch (rnd_below(4)) {
	case 0: return rnd_below(0xe0000000u);
	default: return areas[rnd_below(3)] | rnd_below(1u << 18);
	}
}

static void rnd_v6(uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0x20;
	out[1] = 0x01;
	out[2] = 0x0d;
	out[3] = 0xb8;
	out[4] = (uint8_t)rnd_below(4);
	out[5] = (uint8_t)rnd_below(3);
	for (int i = 6; i < 16; i++)
		out[i] = (uint8_t)(rnd_below(3) ? 0 : rnd());
}

static void mask6(uint8_t a[16], unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = plen > 8 * i ? plen - 8 * i : 0;
		if (keep < 8)
			a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

#define RZ_SINGLES 3000
#define RZ_RANGES 120
#define RZ_V6 300
#define RZ_CHANGES 600

struct rzone {
	struct zone_snapshot *s;
	uint32_t probe4[2 * RZ_SINGLES + 4 * RZ_RANGES + 3 * RZ_CHANGES];
	size_t n4;
	uint8_t probe6[3 * RZ_V6 + RZ_CHANGES][16];
	size_t n6;
};

/* Singles, ranges (CIDR and not, nested, exclusions among both), IPv6 prefixes of many
 * lengths, four classes with two TTLs, then a change set through zone_snapshot_apply. */
static void rzone_make(struct rzone *z, uint64_t seed)
{
	rng_state = seed;
	z->n4 = z->n6 = 0;
	struct zone_builder *b = new_builder();
	uint16_t c[5];
	c[0] = ZONE_CLASS_EXCLUDE;
	c[1] = defcls(b);
	c[2] = cls(b, 0x7f000003, "Spam from $, see https://example.org/$", 2100);
	c[3] = cls(b, 0x7f000004, NULL, 300);
	c[4] = cls(b, 0x7f00000a, "Trap hits", 300);
	for (int i = 0; i < RZ_RANGES; i++) {
		uint32_t first = rnd_v4(), len = 1u << rnd_below(13);
		if (rnd_below(2))
			first &= ~(len - 1); /* a CIDR block */
		else
			len += rnd_below(300);
		uint32_t last = first + len - 1 < first ? UINT32_MAX : first + len - 1;
		assert_int_equal(zone_builder_add4(b, first, last, c[rnd_below(5)]), 0);
		z->probe4[z->n4++] = first;
		z->probe4[z->n4++] = last;
		z->probe4[z->n4++] = first - 1;
		z->probe4[z->n4++] = last + 1;
	}
	for (int i = 0; i < RZ_SINGLES; i++) {
		uint32_t ip = rnd_v4();
		assert_int_equal(zone_builder_add4(b, ip, ip, c[rnd_below(5)]), 0);
		z->probe4[z->n4++] = ip;
		z->probe4[z->n4++] = ip + 1;
	}
	static const unsigned plens[] = { 32, 40, 48, 56, 61, 64, 64, 64, 96, 127, 128, 128 };
	for (int i = 0; i < RZ_V6; i++) {
		uint8_t a[16];
		rnd_v6(a);
		unsigned plen = plens[rnd_below(sizeof(plens) / sizeof(plens[0]))];
		mask6(a, plen);
		assert_int_equal(zone_builder_add6(b, a, plen, c[rnd_below(5)]), 0);
		memcpy(z->probe6[z->n6++], a, 16);
		uint8_t *end = z->probe6[z->n6++];
		memcpy(end, a, 16);
		for (unsigned k = plen; k < 128; k++)
			end[k / 8] |= (uint8_t)(0x80u >> (k % 8));
		uint8_t *after = z->probe6[z->n6++];
		memcpy(after, end, 16);
		for (int k = 15; k >= 0 && ++after[k] == 0; k--)
			;
	}
	struct zone_snapshot *base = build(b);
	static struct zone_change ch[RZ_CHANGES];
	static const char *const txts[] = { NULL, "Changed $", "Other" };
	for (int i = 0; i < RZ_CHANGES; i++) {
		struct zone_change *x = &ch[i];
		memset(x, 0, sizeof(*x));
		x->op = rnd_below(3) ? ZONE_CHANGE_SET : ZONE_CHANGE_DELETE;
		unsigned t = rnd_below(3);
		x->cls.a = 0x7f000002u + t;
		x->cls.ttl = t == 2 ? 300 : 2100;
		x->cls.txt = txts[t];
		x->cls.own = txts[t] != NULL; /* NULL: the default class */
		if (rnd_below(4)) {
			/* near what exists: an existing probe, or one step off it */
			x->ip4 = rnd_below(2) ? z->probe4[rnd_below((uint32_t)z->n4)] : rnd_v4();
			z->probe4[z->n4++] = x->ip4;
			z->probe4[z->n4++] = x->ip4 - 1;
			z->probe4[z->n4++] = x->ip4 + 1;
		} else {
			x->v6 = true;
			memcpy(x->ip6, z->probe6[rnd_below((uint32_t)z->n6)], 16);
			x->plen6 = rnd_below(2) ? 128 : 64;
			mask6(x->ip6, x->plen6);
			memcpy(z->probe6[z->n6++], x->ip6, 16);
		}
	}
	assert_int_equal(zone_snapshot_apply(base, ch, RZ_CHANGES, 77, &z->s), 0);
	zone_snapshot_free(base);
}

static bool class_same(const struct zone_class *x, const struct zone_class *y)
{
	if (!x || !y)
		return x == y;
	if (x->a != y->a || x->ttl != y->ttl || (x->txt == NULL) != (y->txt == NULL))
		return false;
	return !x->txt || (x->txt_len == y->txt_len && memcmp(x->txt, y->txt, x->txt_len) == 0);
}

/* ---- a small model of a BIND server's answer from a master file (RFC 4592 wildcards) ---- */

struct bind_model {
	size_t cap, n;
	char **key;
	uint32_t *a; /* A value; 0: the name exists without an A record */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static size_t model_slot(const struct bind_model *m, const char *k)
{
	size_t i = hash_str(k) & (m->cap - 1);
	while (m->key[i] && strcmp(m->key[i], k) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void model_put(struct bind_model *m, const char *k, size_t len, uint32_t a)
{
	char tmp[300];
	memcpy(tmp, k, len);
	tmp[len] = '\0';
	size_t i = model_slot(m, tmp);
	if (!m->key[i]) {
		assert_true(m->n + 1 < m->cap / 2);
		m->key[i] = strdup(tmp);
		m->a[i] = 0;
		m->n++;
	}
	if (a)
		m->a[i] = a;
}

/* Reads the owner names and A records of an export; every ancestor of an owner exists too. */
static void model_load(struct bind_model *m, const char *text, size_t cap)
{
	m->cap = cap;
	m->n = 0;
	m->key = calloc(cap, sizeof(*m->key));
	m->a = calloc(cap, sizeof(*m->a));
	assert_non_null(m->key);
	assert_non_null(m->a);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		const char *e = nl ? nl : p + strlen(p);
		const char *tab = memchr(p, '\t', (size_t)(e - p));
		if (*p != ';' && *p != '$' && *p != '@' && tab) {
			uint32_t a = 0;
			const char *t = memmem(p, (size_t)(e - p), "\tIN\tA\t", 6);
			if (t)
				assert_int_equal(ip4_parse(t + 6, (size_t)(e - t - 6), &a), 0);
			model_put(m, p, (size_t)(tab - p), a);
			for (const char *q = p; q < tab; q++)
				if (*q == '.')
					model_put(m, q + 1, (size_t)(tab - q - 1), 0);
		}
		p = nl ? nl + 1 : e;
	}
}

static void model_free(struct bind_model *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->key[i]);
	free(m->key);
	free(m->a);
}

static bool model_has(const struct bind_model *m, const char *k, uint32_t *a)
{
	size_t i = model_slot(m, k);
	if (!m->key[i])
		return false;
	*a = m->a[i];
	return true;
}

/* The A answer for a relative name: the name itself, else the wildcard at its closest
 * encloser; 0 for NXDOMAIN or no A. */
static uint32_t model_answer(const struct bind_model *m, const char *name)
{
	uint32_t a;
	if (model_has(m, name, &a))
		return a;
	char wild[300];
	for (const char *p = name; p; p = strchr(p, '.')) {
		if (*p == '.')
			p++;
		const char *next = strchr(p, '.');
		const char *parent = next ? next + 1 : "";
		/* p's parent is an encloser candidate once p itself does not exist */
		if (!*parent || model_has(m, parent, &a)) {
			snprintf(wild, sizeof(wild), "*%s%s", *parent ? "." : "", parent);
			return model_has(m, wild, &a) ? a : 0;
		}
		if (!next)
			break;
		p = next;
	}
	return 0;
}

static void name4(uint32_t ip, char *out)
{
	sprintf(out, "%u.%u.%u.%u", ip & 255, (ip >> 8) & 255, (ip >> 16) & 255, ip >> 24);
}

static void name6(const uint8_t ip[16], char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 31; i >= 0; i--) {
		*out++ = hex[(ip[i / 2] >> (i % 2 ? 0 : 4)) & 15];
		if (i)
			*out++ = '.';
	}
	*out = '\0';
}

static uint32_t want_a4(const struct zone_snapshot *s, uint32_t ip)
{
	const struct zone_class *c = zone_lookup4(s, ip);
	return c ? c->a : 0;
}

/* The rbldnsd export read back by our own reader answers like the original, and so does the
 * BIND export under wildcard rules, on every entry's edges, every changed address and 100,000
 * random addresses. */
static void test_roundtrip_random(void **state)
{
	(void)state;
	static struct rzone z;
	rzone_make(&z, 20261121);
	char *text = export_str(z.s, ZONE_EXPORT_RBLDNSD);
	struct zone_builder *b = zone_builder_new(NULL);
	struct zone_load_report rep;
	assert_int_equal(zone_load_rbldnsd_buf(b, "export", text, strlen(text), &rep), 0);
	assert_int_equal(rep.errors, 0);
	struct zone_snapshot *back = build(b);
	assert_int_equal(zone_snapshot_soa(back)->serial, 77);

	char *btext = export_str(z.s, ZONE_EXPORT_BIND);
	struct bind_model m;
	model_load(&m, btext, 1u << 21);
	char name[80];
	size_t listed = 0, total = 0;
	for (size_t i = 0; i < z.n4 + 100000; i++) {
		uint32_t ip = i < z.n4 ? z.probe4[i] : (i % 2 ? rnd_v4() : (uint32_t)rnd());
		const struct zone_class *want = zone_lookup4(z.s, ip);
		if (!class_same(want, zone_lookup4(back, ip))) {
			char t[16];
			ip4_format(ip, t);
			fail_msg("rbldnsd round trip differs at %s", t);
		}
		name4(ip, name);
		if (model_answer(&m, name) != want_a4(z.s, ip)) {
			char t[16];
			ip4_format(ip, t);
			fail_msg("bind export answers %s with %08x, want %08x", t,
				 model_answer(&m, name), want_a4(z.s, ip));
		}
		listed += want != NULL;
		total++;
	}
	for (size_t i = 0; i < z.n6 + 20000; i++) {
		uint8_t a[16];
		if (i < z.n6) {
			memcpy(a, z.probe6[i], 16);
		} else {
			memcpy(a, z.probe6[rnd_below((uint32_t)z.n6)], 16);
			a[15 - rnd_below(10)] ^= (uint8_t)rnd();
		}
		const struct zone_class *want = zone_lookup6(z.s, a);
		char t[64];
		ip6_format(a, t);
		if (!class_same(want, zone_lookup6(back, a)))
			fail_msg("rbldnsd round trip differs at %s", t);
		name6(a, name);
		uint32_t wa = want ? want->a : 0;
		if (model_answer(&m, name) != wa)
			fail_msg("bind export answers %s with %08x, want %08x", t,
				 model_answer(&m, name), wa);
		listed += want != NULL;
		total++;
	}
	/* the probes must exercise both answers */
	assert_true(listed > total / 20);
	assert_true(listed < total - total / 20);
	model_free(&m);
	free(btext);
	free(text);
	zone_snapshot_free(back);
	zone_snapshot_free(z.s);
}

/* ---- files ---- */

static void test_file_atomic(void **state)
{
	(void)state;
	char dir[] = "/tmp/trapline-export-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], tmp[300], sub[300];
	snprintf(path, sizeof(path), "%s/zone.rbldnsd", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct zone_snapshot *s = small_snapshot();
	assert_int_equal(zone_export_file(s, ZONE, ZONE_EXPORT_RBLDNSD, path), 0);
	char *got = read_all(path);
	assert_non_null(got);
	assert_text(got, small_rbldnsd);
	free(got);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_not_equal(access(tmp, F_OK), 0);

	/* a write that fails half way (the temp file is the full device): old file kept */
	assert_int_equal(symlink("/dev/full", tmp), 0);
	assert_int_equal(zone_export_file(s, ZONE, ZONE_EXPORT_BIND, path), ZONE_EIO);
	got = read_all(path);
	assert_text(got, small_rbldnsd);
	free(got);
	assert_int_not_equal(access(tmp, F_OK), 0);

	/* the temp file cannot be created: old file kept */
	assert_int_equal(mkdir(tmp, 0755), 0);
	assert_int_equal(zone_export_file(s, ZONE, ZONE_EXPORT_BIND, path), ZONE_EIO);
	got = read_all(path);
	assert_text(got, small_rbldnsd);
	free(got);
	rmdir(tmp);

	/* a directory that does not exist */
	snprintf(sub, sizeof(sub), "%s/missing/zone.bind", dir);
	assert_int_equal(zone_export_file(s, ZONE, ZONE_EXPORT_BIND, sub), ZONE_EIO);
	assert_int_equal(zone_export_file(s, ZONE, 7, path), ZONE_EINVAL);

	/* and a BIND export replaces the file whole */
	assert_int_equal(zone_export_file(s, ZONE, ZONE_EXPORT_BIND, path), 0);
	got = read_all(path);
	assert_non_null(strstr(got, "$ORIGIN bl.example.org.\n"));
	assert_null(strstr(got, "$DATASET"));
	free(got);
	unlink(path);
	rmdir(dir);
	zone_snapshot_free(s);
}

/* Thousands of holes in a listed /8 would take millions of names: the export stops expanding
 * at the limit, says so in the file, and still writes every listed single address. */
static void test_bind_expand_limit(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t c = cls(b, A2, NULL, 300);
	add4(b, "10.0.0.0", "10.255.255.255", c);
	for (uint32_t x = 0; x < 256; x++)
		for (uint32_t y = 0; y < 20; y++)
			assert_int_equal(zone_builder_add4(b, 0x0a000001u | x << 16 | y << 8,
							   0x0a000001u | x << 16 | y << 8, 0), 0);
	add4(b, "20.1.2.3", NULL, c);
	struct zone_snapshot *s = build(b);
	char *got = export_str(s, ZONE_EXPORT_BIND);
	assert_non_null(strstr(got, "names over the expansion limit of 1000000 were left out"));
	assert_non_null(strstr(got, "\n3.2.1.20\t300\tIN\tA\t127.0.0.2\n"));
	assert_non_null(strstr(got, "\n2.0.0.127\t"));
	size_t lines = 0;
	for (const char *p = got; *p; p++)
		lines += *p == '\n';
	assert_true(lines > 900000 && lines < 1010000);
	free(got);
	zone_snapshot_free(s);
}

/* Export time of a 1M-entry zone (100k under the sanitizers), printed. */
static void test_export_1m(void **state)
{
	(void)state;
	size_t n = SANITIZED ? 100000 : 1000000;
	rng_state = 99;
	struct zone_builder *b = new_builder();
	uint16_t def = defcls(b);
	for (size_t i = 0; i < n; i++) {
		uint32_t ip = rnd_below(0xe0000000u);
		assert_int_equal(zone_builder_add4(b, ip, ip, def), 0);
	}
	struct zone_snapshot *s = build(b);
	char dir[] = "/tmp/trapline-export-XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const char *const names[] = { "rbldnsd", "bind" };
	for (int fmt = ZONE_EXPORT_RBLDNSD; fmt <= ZONE_EXPORT_BIND; fmt++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/zone.%s", dir, names[fmt - 1]);
		uint64_t t0 = time_mono_ns();
		assert_int_equal(zone_export_file(s, ZONE, fmt, path), 0);
		double ms = (double)(time_mono_ns() - t0) / 1e6;
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		printf("export %s of %zu entries: %.0f ms, %.1f MB (written, fsynced)\n",
		       names[fmt - 1], n, ms, (double)st.st_size / 1e6);
		unlink(path);
	}
	rmdir(dir);
	zone_snapshot_free(s);
}

/* ---- files for tests/integration/test_export.sh ---- */

/* Writes zone.rbldnsd, zone.bind and expect.txt ("qname A-value" or "qname NXDOMAIN", one
 * probe a line) for a fixed random zone into dir. */
static int write_export_dir(const char *dir)
{
	static struct rzone z;
	rzone_make(&z, 4242);
	char path[4096];
	snprintf(path, sizeof(path), "%s/zone.rbldnsd", dir);
	if (zone_export_file(z.s, ZONE, ZONE_EXPORT_RBLDNSD, path))
		return 1;
	snprintf(path, sizeof(path), "%s/zone.bind", dir);
	if (zone_export_file(z.s, ZONE, ZONE_EXPORT_BIND, path))
		return 1;
	snprintf(path, sizeof(path), "%s/expect.txt", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	char name[80], a[16];
	size_t listed = 0;
	for (size_t i = 0; i < 600; i++) {
		uint32_t ip = i < 500 ? z.probe4[rnd_below((uint32_t)z.n4)] : rnd_v4();
		if (i == 0)
			ip = A2;
		if (i == 1)
			ip = 0x7f000001u;
		const struct zone_class *c = zone_lookup4(z.s, ip);
		name4(ip, name);
		if (c)
			ip4_format(c->a, a);
		fprintf(f, "%s.%s %s\n", name, ZONE, c ? a : "NXDOMAIN");
		listed += c != NULL;
	}
	for (size_t i = 0; i < 200; i++) {
		uint8_t *ip6a = z.probe6[rnd_below((uint32_t)z.n6)];
		const struct zone_class *c = zone_lookup6(z.s, ip6a);
		name6(ip6a, name);
		if (c)
			ip4_format(c->a, a);
		fprintf(f, "%s.%s %s\n", name, ZONE, c ? a : "NXDOMAIN");
	}
	fclose(f);
	zone_snapshot_free(z.s);
	printf("wrote %s/zone.rbldnsd, zone.bind, expect.txt (%zu of 600 IPv4 probes listed)\n", dir,
	       listed);
	return 0;
}

int main(void)
{
	const char *dir = getenv("TRAPLINE_EXPORT_DIR");
	if (dir && *dir)
		return write_export_dir(dir);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rbldnsd_small),
		cmocka_unit_test(test_bind_small),
		cmocka_unit_test(test_bind_glue),
		cmocka_unit_test(test_many_ns),
		cmocka_unit_test(test_rbldnsd_overlay),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_file_atomic),
		cmocka_unit_test(test_bind_expand_limit),
		cmocka_unit_test(test_export_1m),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
