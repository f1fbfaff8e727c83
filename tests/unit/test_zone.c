/* test_zone.c - unit tests of the listing set: build, lookup, apply, rbldnsd reader, publish. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "zone/zone.h"

#define A2 0x7f000002u

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
	d.soa.serial = 42;
	strcpy(d.soa.mname, "ns1.example.org");
	struct zone_builder *b = zone_builder_new(&d);
	assert_non_null(b);
	return b;
}

static struct zone_snapshot *build(struct zone_builder *b)
{
	struct zone_snapshot *s = NULL;
	assert_int_equal(zone_snapshot_build(b, &s), 0);
	assert_non_null(s);
	return s;
}

static uint16_t cls(struct zone_builder *b, uint32_t a, const char *txt)
{
	uint16_t id = 0;
	assert_int_equal(zone_builder_class(b, a, txt, txt ? strlen(txt) : 0, 300, &id), 0);
	return id;
}

static uint16_t defcls(struct zone_builder *b)
{
	uint16_t id = 0;
	assert_int_equal(zone_builder_default_class(b, &id), 0);
	return id;
}

static bool listed4(const struct zone_snapshot *s, const char *ip)
{
	return zone_lookup4(s, ip4(ip)) != NULL;
}

static uint32_t a4(const struct zone_snapshot *s, const char *ip)
{
	const struct zone_class *c = zone_lookup4(s, ip4(ip));
	return c ? c->a : 0;
}

static bool listed6(const struct zone_snapshot *s, const char *ip)
{
	uint8_t v[16];
	ip6(ip, v);
	return zone_lookup6(s, v) != NULL;
}

static uint32_t a6(const struct zone_snapshot *s, const char *ip)
{
	uint8_t v[16];
	ip6(ip, v);
	const struct zone_class *c = zone_lookup6(s, v);
	return c ? c->a : 0;
}

static void add_range(struct zone_builder *b, const char *first, const char *last, uint16_t id)
{
	assert_int_equal(zone_builder_add4(b, ip4(first), ip4(last), id), 0);
}

static void add6(struct zone_builder *b, const char *pfx, unsigned plen, uint16_t id)
{
	uint8_t v[16];
	ip6(pfx, v);
	assert_int_equal(zone_builder_add6(b, v, plen, id), 0);
}

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

/* ---- singles, ranges, exclusions ---- */

static void test_singles(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t c = cls(b, 0x7f00000a, "spam from $");
	assert_int_equal(zone_builder_add4(b, ip4("1.2.3.4"), ip4("1.2.3.4"), c), 0);
	assert_int_equal(zone_builder_add4(b, ip4("10.0.0.1"), ip4("10.0.0.1"), defcls(b)), 0);
	assert_int_equal(zone_builder_add4(b, ip4("10.0.0.1"), ip4("10.0.0.1"), defcls(b)), 0);
	assert_int_equal(zone_builder_add4(b, ip4("2.0.0.0"), ip4("1.0.0.0"), c), ZONE_EINVAL);
	assert_int_equal(zone_builder_add4(b, 1, 1, 999), ZONE_EINVAL);
	struct zone_snapshot *s = build(b);
	zone_builder_free(b);
	const struct zone_class *k = zone_lookup4(s, ip4("1.2.3.4"));
	assert_non_null(k);
	assert_int_equal(k->a, 0x7f00000a);
	assert_int_equal(k->ttl, 300);
	assert_string_equal(k->txt, "spam from $");
	assert_int_equal(k->txt_len, strlen("spam from $"));
	k = zone_lookup4(s, ip4("10.0.0.1"));
	assert_non_null(k);
	assert_int_equal(k->a, A2);
	assert_string_equal(k->txt, "Listed: $");
	assert_false(listed4(s, "1.2.3.5"));
	assert_false(listed4(s, "1.2.3.3"));
	assert_false(listed4(s, "0.0.0.0"));
	assert_false(listed4(s, "255.255.255.255"));
	assert_int_equal(zone_snapshot_count(s), 2); /* the duplicate counts once */
	assert_int_equal(zone_snapshot_soa(s)->serial, 42);
	assert_string_equal(zone_snapshot_soa(s)->mname, "ns1.example.org");
	zone_snapshot_free(s);
}

static void build_nested(bool reverse, struct zone_snapshot **out)
{
	struct zone_builder *b = new_builder();
	uint16_t ca = cls(b, 0x7f000003, "A"), cb = cls(b, 0x7f000004, "B");
	struct {
		const char *f, *l;
		uint16_t c;
	} e[] = {
		{ "10.0.0.0", "10.255.255.255", ca },
		{ "10.1.0.0", "10.1.255.255", ZONE_CLASS_EXCLUDE },
		{ "10.1.2.0", "10.1.2.255", cb },
		{ "10.1.2.3", "10.1.2.3", ZONE_CLASS_EXCLUDE },
		{ "10.1.2.4", "10.1.2.4", ca },
	};
	size_t n = sizeof(e) / sizeof(e[0]);
	for (size_t i = 0; i < n; i++) {
		size_t j = reverse ? n - 1 - i : i;
		add_range(b, e[j].f, e[j].l, e[j].c);
	}
	*out = build(b);
	zone_builder_free(b);
}

static void test_nesting_both_orders(void **state)
{
	(void)state;
	for (int r = 0; r < 2; r++) {
		struct zone_snapshot *s;
		build_nested(r, &s);
		assert_int_equal(a4(s, "10.0.0.0"), 0x7f000003);
		assert_int_equal(a4(s, "10.255.255.255"), 0x7f000003);
		assert_int_equal(a4(s, "10.0.255.255"), 0x7f000003);
		assert_false(listed4(s, "10.1.0.0"));
		assert_false(listed4(s, "10.1.2.255") == false);
		assert_false(listed4(s, "10.1.255.255"));
		assert_int_equal(a4(s, "10.2.0.0"), 0x7f000003);
		assert_int_equal(a4(s, "10.1.2.0"), 0x7f000004);
		assert_int_equal(a4(s, "10.1.2.2"), 0x7f000004);
		assert_false(listed4(s, "10.1.2.3"));
		assert_int_equal(a4(s, "10.1.2.4"), 0x7f000003);
		assert_int_equal(a4(s, "10.1.2.5"), 0x7f000004);
		assert_false(listed4(s, "9.255.255.255"));
		assert_false(listed4(s, "11.0.0.0"));
		assert_int_equal(zone_snapshot_count(s), 5);
		zone_snapshot_free(s);
	}
}

static void test_exclusion_wins_equal_size(void **state)
{
	(void)state;
	for (int r = 0; r < 2; r++) {
		struct zone_builder *b = new_builder();
		uint16_t c = defcls(b);
		for (int k = 0; k < 2; k++) {
			bool excl = (k == 0) == (r == 0);
			add_range(b, "192.0.2.0", "192.0.2.255", excl ? ZONE_CLASS_EXCLUDE : c);
			add_range(b, "192.0.2.7", "192.0.2.7", excl ? ZONE_CLASS_EXCLUDE : c);
		}
		struct zone_snapshot *s = build(b);
		assert_false(listed4(s, "192.0.2.1"));
		assert_false(listed4(s, "192.0.2.7"));
		zone_snapshot_free(s);
		zone_builder_free(b);
	}
	/* Between two listings of the same size, the one added last. */
	struct zone_builder *b = new_builder();
	add_range(b, "192.0.2.0", "192.0.2.255", cls(b, 0x7f000005, NULL));
	add_range(b, "192.0.2.0", "192.0.2.255", cls(b, 0x7f000006, NULL));
	struct zone_snapshot *s = build(b);
	assert_int_equal(a4(s, "192.0.2.9"), 0x7f000006);
	assert_int_equal(zone_snapshot_count(s), 1);
	assert_null(zone_lookup4(s, ip4("192.0.2.9"))->txt);
	zone_snapshot_free(s);
	zone_builder_free(b);
}

static void test_overlapping_adjacent_ranges(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t ca = cls(b, 0x7f00000a, NULL), cb = cls(b, 0x7f00000b, NULL);
	add_range(b, "1.0.0.0", "1.0.0.100", ca);   /* 101 addresses */
	add_range(b, "1.0.0.50", "1.0.0.200", cb);  /* 151: loses the overlap */
	add_range(b, "2.0.0.0", "2.0.0.9", ca);
	add_range(b, "2.0.0.10", "2.0.0.19", cb);
	add_range(b, "0.0.0.0", "255.255.255.255", cls(b, 0x7f00000c, NULL));
	struct zone_snapshot *s = build(b);
	assert_int_equal(a4(s, "1.0.0.49"), 0x7f00000a);
	assert_int_equal(a4(s, "1.0.0.50"), 0x7f00000a);
	assert_int_equal(a4(s, "1.0.0.100"), 0x7f00000a);
	assert_int_equal(a4(s, "1.0.0.101"), 0x7f00000b);
	assert_int_equal(a4(s, "1.0.0.200"), 0x7f00000b);
	assert_int_equal(a4(s, "1.0.0.201"), 0x7f00000c);
	assert_int_equal(a4(s, "2.0.0.9"), 0x7f00000a);
	assert_int_equal(a4(s, "2.0.0.10"), 0x7f00000b);
	assert_int_equal(a4(s, "2.0.0.19"), 0x7f00000b);
	assert_int_equal(a4(s, "2.0.0.20"), 0x7f00000c);
	assert_int_equal(a4(s, "0.0.0.0"), 0x7f00000c);
	assert_int_equal(a4(s, "255.255.255.255"), 0x7f00000c);
	assert_false(listed4(s, "127.0.0.1"));
	zone_snapshot_free(s);
	zone_builder_free(b);
}

/* ---- IPv6 ---- */

static void test_ipv6(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t ca = cls(b, 0x7f000003, "v6"), cb = cls(b, 0x7f000004, NULL);
	add6(b, "2001:db8::", 32, ca);
	add6(b, "2001:db8:1:2::", 64, cb);
	add6(b, "2001:db8:1:2::5", 128, ZONE_CLASS_EXCLUDE);
	add6(b, "2001:db8:1:3::", 64, ZONE_CLASS_EXCLUDE);
	add6(b, "2001:db8:1:3::9", 128, cb);
	add6(b, "2001:db9::1", 128, ca);
	uint8_t v[16];
	ip6("2001:db8::1", v);
	assert_int_equal(zone_builder_add6(b, v, 64, ca), ZONE_EINVAL);
	assert_int_equal(zone_builder_add6(b, v, 129, ca), ZONE_EINVAL);
	struct zone_snapshot *s = build(b);
	assert_int_equal(a6(s, "2001:db8::1"), 0x7f000003);
	assert_int_equal(a6(s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 0x7f000003);
	assert_int_equal(a6(s, "2001:db8:1:2::"), 0x7f000004);
	assert_int_equal(a6(s, "2001:db8:1:2:ffff:ffff:ffff:ffff"), 0x7f000004);
	assert_false(listed6(s, "2001:db8:1:2::5"));
	assert_int_equal(a6(s, "2001:db8:1:2::6"), 0x7f000004);
	assert_false(listed6(s, "2001:db8:1:3::1"));
	assert_int_equal(a6(s, "2001:db8:1:3::9"), 0x7f000004);
	assert_int_equal(a6(s, "2001:db9::1"), 0x7f000003);
	assert_false(listed6(s, "2001:db9::2"));
	assert_false(listed6(s, "2001:db7:ffff::"));
	assert_false(listed6(s, "::"));
	assert_false(listed6(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_int_equal(zone_snapshot_count(s), 6);

	ip6("2001:db8:1:2::", v);
	assert_true(zone_any6(s, v, 64));
	ip6("2001:db8:1:3::", v);
	assert_true(zone_any6(s, v, 64)); /* ::9 inside the excluded /64 */
	ip6("2001:db8:1:3::", v);
	assert_false(zone_any6(s, v, 125)); /* ::0..::7, all excluded */
	ip6("2001:db9::", v);
	assert_true(zone_any6(s, v, 64));
	ip6("2001:dba::", v);
	assert_false(zone_any6(s, v, 32));
	ip6("::", v);
	assert_true(zone_any6(s, v, 0));
	zone_snapshot_free(s);
	zone_builder_free(b);
}

/* ---- RFC 5782 test points ---- */

static void test_test_points(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	struct zone_snapshot *s = build(b); /* empty */
	assert_true(listed4(s, "127.0.0.2"));
	assert_int_equal(a4(s, "127.0.0.2"), A2);
	assert_false(listed4(s, "127.0.0.1"));
	assert_true(listed6(s, "::ffff:7f00:2"));
	assert_false(listed6(s, "::ffff:7f00:1"));
	assert_int_equal(zone_snapshot_count(s), 0);
	zone_snapshot_free(s);

	uint16_t c = defcls(b);
	add_range(b, "127.0.0.0", "127.255.255.255", c);
	add_range(b, "127.0.0.1", "127.0.0.1", c);
	add_range(b, "127.0.0.2", "127.0.0.2", ZONE_CLASS_EXCLUDE);
	add6(b, "::ffff:0:0", 96, c);
	add6(b, "::ffff:7f00:1", 128, c);
	s = build(b);
	assert_false(listed4(s, "127.0.0.1"));
	assert_true(listed4(s, "127.0.0.2"));
	assert_true(listed4(s, "127.0.0.3"));
	assert_false(listed6(s, "::ffff:7f00:1"));
	assert_true(listed6(s, "::ffff:7f00:2"));
	assert_true(listed6(s, "::ffff:7f00:3"));
	assert_true(zone_any4(s, ip4("127.0.0.2"), ip4("127.0.0.2")));
	assert_false(zone_any4(s, ip4("127.0.0.1"), ip4("127.0.0.1")));
	zone_snapshot_free(s);
	zone_builder_free(b);
}

/* ---- any4 ---- */

static void test_any4(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t c = defcls(b);
	add_range(b, "1.2.3.4", "1.2.3.4", c);
	add_range(b, "5.0.0.0", "5.0.0.255", c);
	for (int i = 0; i < 256; i++) { /* every address of the range excluded one by one */
		uint32_t ip = ip4("5.0.0.0") + (uint32_t)i;
		assert_int_equal(zone_builder_add4(b, ip, ip, ZONE_CLASS_EXCLUDE), 0);
	}
	add_range(b, "6.0.0.0", "6.0.0.255", c);
	add_range(b, "6.0.0.0", "6.0.0.127", ZONE_CLASS_EXCLUDE);
	struct zone_snapshot *s = build(b);
	assert_true(zone_any4(s, ip4("1.2.3.0"), ip4("1.2.3.255")));
	assert_true(zone_any4(s, ip4("1.0.0.0"), ip4("1.255.255.255")));
	assert_true(zone_any4(s, ip4("1.2.3.4"), ip4("1.2.3.4")));
	assert_false(zone_any4(s, ip4("1.2.3.5"), ip4("1.2.3.255")));
	assert_false(zone_any4(s, ip4("1.2.4.0"), ip4("1.2.4.255")));
	assert_false(zone_any4(s, ip4("5.0.0.0"), ip4("5.0.0.255")));
	assert_false(zone_any4(s, ip4("5.0.0.0"), ip4("5.255.255.255")));
	assert_false(zone_any4(s, ip4("6.0.0.0"), ip4("6.0.0.127")));
	assert_true(zone_any4(s, ip4("6.0.0.0"), ip4("6.0.0.128")));
	assert_true(zone_any4(s, 0, UINT32_MAX));
	assert_false(zone_any4(s, ip4("200.0.0.0"), UINT32_MAX));
	zone_snapshot_free(s);
	zone_builder_free(b);
}

/* ---- classes ---- */

static void test_classes(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t x = cls(b, 1, "t"), y = cls(b, 1, "t"), z = cls(b, 1, ""), w = cls(b, 1, NULL);
	assert_true(x >= 1);
	assert_int_equal(x, y);
	assert_int_not_equal(x, z);
	assert_int_not_equal(z, w);
	assert_int_not_equal(x, cls(b, 2, "t"));
	uint16_t id;
	assert_int_equal(zone_builder_class(b, 1, "t", 1, 301, &id), 0);
	assert_int_not_equal(id, x);
	char txt[16];
	for (int i = 0; i < 70000; i++) {
		snprintf(txt, sizeof(txt), "%d", i);
		int rc = zone_builder_class(b, 1, txt, strlen(txt), 1, &id);
		if (rc) {
			assert_int_equal(rc, ZONE_ETOOMANY);
			assert_true(i > 60000);
			break;
		}
		assert_true(i < 65535);
	}
	zone_builder_free(b);
	assert_string_equal(tl_strerror(ZONE_ETOOMANY), "too many entries");
	assert_string_equal(tl_strerror(ZONE_OK), "ok");
}

/* ---- rbldnsd reader ---- */

static struct zone_snapshot *load(const char *text, int want_rc, struct zone_load_report *rep)
{
	struct zone_builder *b = new_builder();
	assert_int_equal(zone_load_rbldnsd_buf(b, "t.zone", text, strlen(text), rep), want_rc);
	struct zone_snapshot *s = build(b);
	zone_builder_free(b);
	return s;
}

static void test_rbldnsd_forms(void **state)
{
	(void)state;
	const char *text = "# comment\r\n"
			   "; another\n"
			   "\n"
			   "$SOA 1h ns1.bl.example. hostmaster.bl.example. 7 10m 5m 1w 300\n"
			   "$NS 0 ns1.bl.example. -ns0.example ns2.bl.example\n"
			   "$TTL 600\n"
			   "1.2.3.4\r\n"
			   "1.2.4.0/24\n"
			   "1.2.5.10-20\n"
			   "1.2.6.1-1.2.6.3\n"
			   "1.3.7\n"
			   "9.9\n"
			   "11\n"
			   "!11.0.0.7\n"
			   "! 11.0.0.8\n"
			   "12.0.0.0/8 :3:twelve $\n"
			   "13.0.0.1 :4\n"
			   "13.0.0.2 :5:\n"
			   "13.0.0.3 text only\n"
			   "13.0.0.4 # comment, default class\n"
			   "14.0.0.1/24\n"
			   "2001:db8:1:2::/64\n"
			   "2001:db8:1:3 :6:six\n"
			   "!2001:db8:1:2::bad\n"
			   "2001:db8:2::1\n"
			   "127.16-31\n"
			   "#$TTL 900\n";
	struct zone_load_report rep;
	struct zone_snapshot *s = load(text, 0, &rep);
	assert_int_equal(rep.lines, 27);
	assert_int_equal(rep.entries, 20);
	assert_int_equal(rep.errors, 0);
	assert_int_equal(a4(s, "1.2.3.4"), A2);
	assert_int_equal(zone_lookup4(s, ip4("1.2.3.4"))->ttl, 600);
	assert_string_equal(zone_lookup4(s, ip4("1.2.3.4"))->txt, "Listed: $");
	assert_false(listed4(s, "1.2.3.5"));
	assert_true(listed4(s, "1.2.4.0") && listed4(s, "1.2.4.255"));
	assert_false(listed4(s, "1.2.5.9") || listed4(s, "1.2.5.21"));
	assert_true(listed4(s, "1.2.5.10") && listed4(s, "1.2.5.20"));
	assert_true(listed4(s, "1.2.6.3") && !listed4(s, "1.2.6.4"));
	assert_true(listed4(s, "1.3.7.0") && listed4(s, "1.3.7.255") && !listed4(s, "1.3.8.0"));
	assert_true(listed4(s, "9.9.0.0") && listed4(s, "9.9.255.255") && !listed4(s, "9.10.0.0"));
	assert_true(listed4(s, "11.255.0.1"));
	assert_false(listed4(s, "11.0.0.7"));
	assert_false(listed4(s, "11.0.0.8"));
	const struct zone_class *c = zone_lookup4(s, ip4("12.1.1.1"));
	assert_int_equal(c->a, 0x7f000003);
	assert_string_equal(c->txt, "twelve $");
	c = zone_lookup4(s, ip4("13.0.0.1"));
	assert_int_equal(c->a, 0x7f000004);
	assert_string_equal(c->txt, "Listed: $");
	c = zone_lookup4(s, ip4("13.0.0.2"));
	assert_int_equal(c->a, 0x7f000005);
	assert_null(c->txt);
	c = zone_lookup4(s, ip4("13.0.0.3"));
	assert_int_equal(c->a, A2);
	assert_string_equal(c->txt, "text only");
	assert_string_equal(zone_lookup4(s, ip4("13.0.0.4"))->txt, "Listed: $");
	assert_true(listed4(s, "14.0.0.0") && listed4(s, "14.0.0.255")); /* masked, warned */
	assert_true(listed4(s, "127.16.0.0") && listed4(s, "127.31.255.255"));
	assert_false(listed4(s, "127.32.0.0"));
	assert_true(listed6(s, "2001:db8:1:2::1"));
	assert_false(listed6(s, "2001:db8:1:2::bad"));
	assert_int_equal(a6(s, "2001:db8:1:3:ffff::"), 0x7f000006);
	assert_true(listed6(s, "2001:db8:2::1"));
	assert_false(listed6(s, "2001:db8:2::2"));
	const struct zone_soa *soa = zone_snapshot_soa(s);
	assert_string_equal(soa->mname, "ns1.bl.example");
	assert_string_equal(soa->rname, "hostmaster.bl.example");
	assert_int_equal(soa->serial, 7);
	assert_int_equal(soa->ttl, 3600);
	assert_int_equal(soa->refresh, 600);
	assert_int_equal(soa->expire, 604800);
	assert_int_equal(soa->minimum, 300);
	const struct zone_ns *ns = zone_snapshot_ns(s);
	assert_int_equal(ns->count, 2);
	assert_string_equal(ns->names[0], "ns1.bl.example");
	assert_string_equal(ns->names[1], "ns2.bl.example");
	zone_snapshot_free(s);
}

static void test_rbldnsd_default_switch(void **state)
{
	(void)state;
	const char *text = "1.0.0.1\n"
			   ":3:first $\n"
			   "1.0.0.2\n"
			   "1.0.0.3 :7\n"
			   ":127.0.0.4\n"
			   "1.0.0.4\n"
			   "::second\n"
			   "1.0.0.5\n"
			   "2001:db8::/64\n"
			   /* A leading "::" that parses as an address is an entry, as in rbldnsd. */
			   "::ffff:7f00:5\n"
			   "::a00:0/120 :127.0.0.9:ten\n";
	struct zone_snapshot *s = load(text, 0, NULL);
	const struct zone_class *c = zone_lookup4(s, ip4("1.0.0.1"));
	assert_int_equal(c->a, A2);
	assert_string_equal(c->txt, "Listed: $");
	c = zone_lookup4(s, ip4("1.0.0.2"));
	assert_int_equal(c->a, 0x7f000003);
	assert_string_equal(c->txt, "first $");
	c = zone_lookup4(s, ip4("1.0.0.3"));
	assert_int_equal(c->a, 0x7f000007);
	assert_string_equal(c->txt, "first $");
	c = zone_lookup4(s, ip4("1.0.0.4"));
	assert_int_equal(c->a, 0x7f000004);
	assert_null(c->txt);
	c = zone_lookup4(s, ip4("1.0.0.5"));
	assert_int_equal(c->a, A2);
	assert_string_equal(c->txt, "second");
	uint8_t v[16];
	ip6("2001:db8::1", v);
	assert_string_equal(zone_lookup6(s, v)->txt, "second");
	ip6("::ffff:7f00:5", v);
	assert_non_null(zone_lookup6(s, v));
	assert_string_equal(zone_lookup6(s, v)->txt, "second");
	ip6("::a00:7", v);
	assert_int_equal(zone_lookup6(s, v)->a, 0x7f000009);
	assert_string_equal(zone_lookup6(s, v)->txt, "ten");
	/* The default did not change: a later v4 entry would still answer "second". */
	assert_string_equal(zone_lookup4(s, ip4("1.0.0.5"))->txt, "second");
	zone_snapshot_free(s);
}

static void test_rbldnsd_bad_lines(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_ERROR); /* the warnings are expected here */
	const char *text = "1.2.3.4\n"
			   "256.1.1.1\n"
			   "1.2.3.4.5\n"
			   "1.2.3.9-1.2.3.1\n"
			   "1.2.3.0/33\n"
			   "hello\n"
			   "2001:db8::g\n"
			   "5.5.5.5 :999:x\n"
			   "$SOA 1 2\n"
			   "$NS\n"
			   "$TTL abc\n"
			   "$FOO 1\n"
			   "6.6.6.6\n"
			   "2001:db8::/64\n";
	struct zone_load_report rep;
	struct zone_snapshot *s = load(text, ZONE_EPARSE, &rep);
	log_set_level(LOG_LEVEL_INFO);
	assert_int_equal(rep.lines, 14);
	assert_int_equal(rep.entries, 3);
	assert_int_equal(rep.errors, 11);
	assert_true(listed4(s, "1.2.3.4"));
	assert_true(listed4(s, "6.6.6.6"));
	assert_false(listed4(s, "5.5.5.5"));
	assert_true(listed6(s, "2001:db8::1"));
	zone_snapshot_free(s);
}

static void test_rbldnsd_combined_and_file(void **state)
{
	(void)state;
	const char *text = "$SOA 3600 ns1.bl.example.org. hostmaster.bl.example.org. 0 600 300 86400 300\n"
			   "$NS 3600 ns1.bl.example.org.\n"
			   "$TTL 2100\n"
			   "$DATASET ip4set:v4 @\n"
			   ":127.0.0.3:v4 $\n"
			   "1.1.1.1\n"
			   "$DATASET generic:other @\n"
			   "www A 127.0.0.8\n"
			   "$DATASET ip4set:sub sub\n"
			   "2.2.2.2\n"
			   "$DATASET ip6trie:v6 @\n"
			   "2001:db8::/64\n";
	char path[] = "/tmp/test_zone_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	struct zone_builder *b = new_builder();
	struct zone_load_report rep;
	assert_int_equal(zone_load_rbldnsd(b, path, &rep), 0);
	struct zone_snapshot *s = build(b);
	zone_builder_free(b);
	unlink(path);
	assert_int_equal(rep.entries, 2);
	assert_int_equal(a4(s, "1.1.1.1"), 0x7f000003);
	assert_false(listed4(s, "2.2.2.2"));
	uint8_t v[16];
	ip6("2001:db8::5", v);
	const struct zone_class *c = zone_lookup6(s, v);
	assert_int_equal(c->a, A2); /* the new section starts from the defaults */
	assert_int_equal(c->ttl, 2100);
	assert_int_equal(zone_snapshot_soa(s)->serial, (uint32_t)st.st_mtime);
	zone_snapshot_free(s);

	b = new_builder();
	assert_int_equal(zone_load_rbldnsd(b, "/nonexistent/zone", &rep), ZONE_EIO);
	zone_builder_free(b);

	/* From a buffer, serial 0 becomes the time of the build. */
	int64_t now = time_wall_s();
	s = load(text, 0, NULL);
	assert_true(zone_snapshot_soa(s)->serial >= (uint32_t)now);
	zone_snapshot_free(s);
}

/* ---- name servers: every one given is served ---- */

/* What stderr receives between begin and end (the log), as a string the caller frees. */
static int g_saved_stderr = -1;
static FILE *g_capture;

static void stderr_capture_begin(void)
{
	fflush(stderr);
	g_capture = tmpfile();
	assert_non_null(g_capture);
	g_saved_stderr = dup(STDERR_FILENO);
	assert_true(g_saved_stderr >= 0);
	assert_true(dup2(fileno(g_capture), STDERR_FILENO) >= 0);
}

static char *stderr_capture_end(void)
{
	fflush(stderr);
	assert_true(dup2(g_saved_stderr, STDERR_FILENO) >= 0);
	close(g_saved_stderr);
	long n = ftell(g_capture);
	assert_true(n >= 0);
	char *text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	rewind(g_capture);
	assert_int_equal(fread(text, 1, (size_t)n, g_capture), (size_t)n);
	fclose(g_capture);
	return text;
}

/* Name server i of a test set: "ns001.<filler>.example.net", the filler fill_len characters
 * of letters with a dot every 61 (labels stay under 63). fill_len 235: 253 characters, the
 * longest valid name. */
static const char *ns_test_name(unsigned i, unsigned fill_len, char *buf, size_t cap)
{
	assert_true(cap > 18 + (size_t)fill_len);
	int o = snprintf(buf, cap, "ns%03u.", i);
	for (unsigned k = 0; k < fill_len; k++)
		buf[o++] = k % 61 == 60 ? '.' : (char)('a' + k % 26);
	snprintf(buf + o, cap - (size_t)o, ".example.net");
	return buf;
}

/* "$NS 3600 name. name. ...\n1.2.3.4\n" with n names, in a buffer the caller frees. */
static char *ns_line_text(unsigned n, unsigned fill_len)
{
	size_t cap = 64 + (size_t)n * (fill_len + 32);
	char *t = malloc(cap);
	assert_non_null(t);
	size_t o = (size_t)snprintf(t, cap, "$NS 3600");
	for (unsigned i = 1; i <= n; i++) {
		char name[300];
		o += (size_t)snprintf(t + o, cap - o, " %s.",
				      ns_test_name(i, fill_len, name, sizeof name));
	}
	snprintf(t + o, cap - o, "\n1.2.3.4\n");
	return t;
}

static void assert_ns_names(const struct zone_snapshot *s, unsigned n, unsigned fill_len)
{
	const struct zone_ns *ns = zone_snapshot_ns(s);
	assert_int_equal(ns->count, n);
	assert_int_equal(ns->ttl, 3600);
	for (unsigned i = 1; i <= n; i++) {
		char want[300];
		assert_string_equal(ns->names[i - 1], ns_test_name(i, fill_len, want, sizeof want));
	}
}

static void test_ns_add(void **state)
{
	(void)state;
	struct zone_ns ns = { .ttl = 60 };
	assert_int_equal(zone_ns_add(&ns, "ns1.example.net."), ZONE_OK);
	assert_string_equal(ns.names[0], "ns1.example.net");
	assert_int_equal(zone_ns_add(&ns, ""), ZONE_EINVAL);
	char big[300];
	memset(big, 'a', 256);
	big[256] = '\0';
	assert_int_equal(zone_ns_add(&ns, big), ZONE_EINVAL);
	assert_int_equal(ns.count, 1);
	zone_ns_free(&ns);
	assert_int_equal(ns.count, 0);
	assert_null(ns.names);
	assert_int_equal(ns.ttl, 60);

	/* The limit is one TCP message: 244 names of the longest valid kind (253 characters,
	 * 255 bytes on the wire). The one past it is refused and leaves the set as it was. */
	char name[300];
	unsigned n = 0;
	int rc;
	do {
		rc = zone_ns_add(&ns, ns_test_name(n + 1, 235, name, sizeof name));
		n += rc == ZONE_OK;
	} while (rc == ZONE_OK && n < 1000);
	assert_int_equal(strlen(name), 253);
	assert_int_equal(rc, ZONE_ETOOMANY);
	assert_int_equal(n, 244);
	assert_int_equal(ns.count, 244);
	assert_true(ns.wire <= ZONE_NS_WIRE_MAX);
	assert_true(ns.wire + 267 > ZONE_NS_WIRE_MAX);
	/* a short name still fits in what is left */
	assert_int_equal(zone_ns_add(&ns, "a.example.net"), ZONE_OK);
	zone_ns_free(&ns);
}

static void test_ns_builder_keeps_all(void **state)
{
	(void)state;
	struct zone_defaults d = { 0 };
	d.ns.ttl = 3600;
	for (unsigned i = 1; i <= 40; i++) {
		char name[64];
		assert_int_equal(zone_ns_add(&d.ns, ns_test_name(i, 4, name, sizeof name)), ZONE_OK);
	}
	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d); /* the builder has its own copy */
	assert_non_null(b);
	struct zone_snapshot *s = build(b);
	assert_ns_names(s, 40, 4);

	/* zone_builder_set_ns: 16 names replace the 40 */
	struct zone_ns ns = { .ttl = 3600 };
	for (unsigned i = 1; i <= 16; i++) {
		char name[64];
		ns_test_name(i, 4, name, sizeof name);
		strcat(name, "."); /* a trailing dot is dropped */
		assert_int_equal(zone_ns_add(&ns, name), ZONE_OK);
	}
	assert_int_equal(zone_builder_set_ns(b, &ns), ZONE_OK);
	zone_ns_free(&ns);
	struct zone_snapshot *s16 = build(b);
	zone_builder_free(b);
	assert_ns_names(s16, 16, 4);
	assert_ns_names(s, 40, 4); /* the first snapshot kept its own */

	/* an applied change carries the set over, and outlives the snapshot it came from */
	struct zone_change ch = { .op = ZONE_CHANGE_SET, .ip4 = ip4("192.0.2.1"),
				  .cls = { .a = A2, .ttl = 60 } };
	struct zone_snapshot *n = NULL;
	assert_int_equal(zone_snapshot_apply(s16, &ch, 1, 9, &n), 0);
	zone_snapshot_free(s16);
	assert_ns_names(n, 16, 4);
	zone_snapshot_free(n);
	zone_snapshot_free(s);
}

static void test_rbldnsd_ns_keeps_all(void **state)
{
	(void)state;
	struct zone_load_report rep;
	for (unsigned n = 16; n <= 40; n += 24) {
		char *text = ns_line_text(n, 20);
		struct zone_snapshot *s = load(text, 0, &rep);
		free(text);
		assert_int_equal(rep.errors, 0);
		assert_int_equal(rep.entries, 1);
		assert_ns_names(s, n, 20);
		zone_snapshot_free(s);
	}
	/* rbldnsd's "-name" (commented out) is skipped, the names around it kept */
	struct zone_snapshot *s = load("$NS 1h a.example. -b.example. c.example.\n", 0, &rep);
	const struct zone_ns *ns = zone_snapshot_ns(s);
	assert_int_equal(ns->count, 2);
	assert_string_equal(ns->names[1], "c.example");
	zone_snapshot_free(s);
}

static void test_rbldnsd_ns_too_big(void **state)
{
	(void)state;
	/* 245 names of 253 characters: 65,415 bytes of NS records, more than a TCP message */
	char *line = ns_line_text(245, 235);
	size_t len = strlen(line);
	const char *after = "$NS 3600 ns1.ok.example.\n";
	char *text = malloc(len + strlen(after) + 1);
	assert_non_null(text);
	memcpy(text, line, len - strlen("1.2.3.4\n"));
	strcpy(text + len - strlen("1.2.3.4\n"), after);
	strcat(text, "1.2.3.4\n");
	free(line);
	struct zone_load_report rep;
	stderr_capture_begin();
	struct zone_snapshot *s = load(text, ZONE_EPARSE, &rep);
	char *log = stderr_capture_end();
	free(text);
	/* refused as a whole, said with file and line; not served in part */
	assert_non_null(strstr(log, "t.zone:1: $NS refused"));
	assert_non_null(strstr(log, "(at name 245)"));
	assert_null(strstr(log, "ignored"));
	free(log);
	assert_int_equal(rep.errors, 1);
	assert_int_equal(rep.entries, 1);
	const struct zone_ns *ns = zone_snapshot_ns(s);
	assert_int_equal(ns->count, 1); /* the next $NS line is the first that counts */
	assert_string_equal(ns->names[0], "ns1.ok.example");
	zone_snapshot_free(s);
}

/* ---- a naive reference for the randomized checks ---- */

struct ref_entry {
	uint32_t first, last;
	uint16_t cls;
};

static uint16_t ref_lookup(const struct ref_entry *e, size_t n, uint32_t ip, uint16_t def)
{
	if (ip == 0x7f000001)
		return 0;
	uint64_t best_size = UINT64_MAX;
	uint16_t best = 0;
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		if (ip < e[i].first || ip > e[i].last)
			continue;
		uint64_t size = (uint64_t)e[i].last - e[i].first;
		if (!found || size < best_size || (size == best_size && (e[i].cls == 0 || best != 0))) {
			found = true;
			best_size = size;
			best = e[i].cls;
		}
	}
	if (ip == 0x7f000002 && (!found || best == 0 || best_size > 0))
		return def;
	return best;
}

static void test_lookup4_vs_reference(void **state)
{
	(void)state;
	rng_state = 12345;
	for (int round = 0; round < 20; round++) {
		struct zone_builder *b = new_builder();
		uint16_t classes[4] = { 0, cls(b, 3, NULL), cls(b, 4, NULL), cls(b, 5, NULL) };
		size_t n = 1 + rnd() % 300;
		struct ref_entry *e = calloc(n, sizeof(*e));
		uint32_t base = round % 2 ? 0x7f000000 : 0x0a000000;
		for (size_t i = 0; i < n; i++) {
			uint32_t first = base + rnd() % 4096, len;
			switch (rnd() % 4) {
			case 0: len = 0; break;
			case 1: len = rnd() % 16; break;
			case 2: len = (1u << (rnd() % 10)) - 1; first &= ~len; break;
			default: len = rnd() % 2000; break;
			}
			e[i] = (struct ref_entry){ first, first + len, classes[rnd() % 4] };
			assert_int_equal(zone_builder_add4(b, e[i].first, e[i].last, e[i].cls), 0);
		}
		struct zone_snapshot *s = build(b);
		uint16_t def = defcls(b);
		for (uint32_t ip = base - 16; ip < base + 6200; ip++) {
			uint16_t want = ref_lookup(e, n, ip, def);
			const struct zone_class *c = zone_lookup4(s, ip);
			if (!want)
				assert_null(c);
			else
				assert_int_equal(c->a, want == def ? A2 : 2u + want);
		}
		for (int k = 0; k < 200; k++) {
			uint32_t f = base + rnd() % 6000, l = f + rnd() % 300;
			bool want = false;
			for (uint32_t ip = f; ip <= l && !want; ip++)
				want = ref_lookup(e, n, ip, def) != 0;
			assert_int_equal(zone_any4(s, f, l), want);
		}
		zone_snapshot_free(s);
		zone_builder_free(b);
		free(e);
	}
}

/* ---- apply ---- */

static bool class_same(const struct zone_class *x, const struct zone_class *y)
{
	if (!x || !y)
		return x == y;
	if (x->a != y->a || x->ttl != y->ttl || (x->txt == NULL) != (y->txt == NULL))
		return false;
	return !x->txt || strcmp(x->txt, y->txt) == 0;
}

static void test_apply_vs_rebuild(void **state)
{
	(void)state;
	rng_state = 777;
	const uint32_t base = 0x0a000000, span = 65536;
	const char *txts[3] = { NULL, "one", "two" };
	struct zone_builder *b = new_builder();
	uint16_t c1 = cls(b, 3, "base"), c2 = cls(b, 4, NULL);
	size_t nr = 3000;
	struct ref_entry *r = calloc(nr, sizeof(*r));
	for (size_t i = 0; i < nr; i++) {
		uint32_t first = base + rnd() % span, len = 0;
		if (i % 10 == 0) {
			len = (1u << (rnd() % 12)) - 1;
			first &= ~len;
		}
		uint16_t c = i % 7 == 0 ? 0 : (i % 2 ? c1 : c2);
		r[i] = (struct ref_entry){ first, first + len, c };
		assert_int_equal(zone_builder_add4(b, r[i].first, r[i].last, c), 0);
	}
	/* v6: a few /48s with /64 and /128 inside */
	for (int i = 0; i < 50; i++) {
		uint8_t v[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(i % 4) };
		unsigned plen = i % 3 == 0 ? 48 : (i % 3 == 1 ? 64 : 128);
		if (plen >= 64)
			v[7] = (uint8_t)(rnd() % 8);
		if (plen == 128)
			v[15] = (uint8_t)(rnd() % 8);
		assert_int_equal(zone_builder_add6(b, v, plen, i % 5 ? c1 : 0), 0);
	}
	struct zone_snapshot *cur = build(b);
	zone_builder_free(b);
	/* The start, kept to apply every change at once and compare the entry counts: the
	 * count of each round's snapshot is carried over from the one before. */
	struct zone_snapshot *first = NULL;
	assert_int_equal(zone_snapshot_apply(cur, NULL, 0, 1, &first), 0);

	/* The changes so far, replayed into a fresh builder at the end of each round. */
	size_t cap = 20000, nch = 0;
	struct zone_change *all = calloc(cap, sizeof(*all));
	for (int round = 0; round < 12; round++) {
		size_t n = round == 6 ? 5000 : 1 + rnd() % 300;
		struct zone_change *ch = &all[nch];
		assert_true(nch + n <= cap);
		for (size_t i = 0; i < n; i++) {
			struct zone_change *c = &ch[i];
			c->op = rnd() % 3 ? ZONE_CHANGE_SET : ZONE_CHANGE_DELETE;
			c->v6 = rnd() % 8 == 0;
			c->ip4 = base + rnd() % span;
			if (rnd() % 50 == 0)
				c->ip4 = 0x7f000001 + rnd() % 2;
			memset(c->ip6, 0, 16);
			c->ip6[0] = 0x20;
			c->ip6[1] = 0x01;
			c->ip6[2] = 0x0d;
			c->ip6[3] = 0xb8;
			c->ip6[5] = (uint8_t)(rnd() % 4);
			c->ip6[7] = (uint8_t)(rnd() % 8);
			c->plen6 = rnd() % 2 ? 64 : 128;
			if (c->plen6 == 128)
				c->ip6[15] = (uint8_t)(rnd() % 8);
			c->cls.a = 0x7f000010 + rnd() % 3;
			c->cls.ttl = 60;
			c->cls.txt = txts[rnd() % 3];
			c->cls.own = c->cls.txt != NULL; /* NULL: the default class */
		}
		nch += n;
		struct zone_snapshot *next = NULL;
		assert_int_equal(zone_snapshot_apply(cur, ch, n, (uint32_t)(100 + round), &next), 0);
		assert_int_equal(zone_snapshot_soa(next)->serial, 100 + round);
		assert_true(zone_snapshot_id(next) != zone_snapshot_id(cur));
		zone_snapshot_free(cur); /* the new one must not depend on the old one */
		cur = next;
		struct zone_snapshot *once = NULL;
		assert_int_equal(zone_snapshot_apply(first, all, nch, 1, &once), 0);
		assert_int_equal(zone_snapshot_count(cur), zone_snapshot_count(once));
		zone_snapshot_free(once);

		/* Reference: the base entries minus the changed keys, plus the last change per key. */
		struct zone_builder *rb = new_builder();
		uint16_t rc1 = cls(rb, 3, "base"), rc2 = cls(rb, 4, NULL);
		assert_int_equal(rc1, c1);
		assert_int_equal(rc2, c2);
		int32_t *last4 = malloc(span * sizeof(*last4));
		for (uint32_t i = 0; i < span; i++)
			last4[i] = -1;
		for (size_t i = 0; i < nch; i++) {
			if (all[i].v6 || all[i].ip4 - base >= span)
				continue;
			last4[all[i].ip4 - base] = (int32_t)i;
		}
		for (size_t i = 0; i < nr; i++)
			if (r[i].first != r[i].last || last4[r[i].first - base] < 0)
				assert_int_equal(zone_builder_add4(rb, r[i].first, r[i].last, r[i].cls), 0);
		for (uint32_t k = 0; k < span; k++) {
			if (last4[k] < 0)
				continue;
			const struct zone_change *c = &all[last4[k]];
			uint16_t id = 0;
			if (c->op == ZONE_CHANGE_SET && !c->cls.txt)
				id = defcls(rb);
			else if (c->op == ZONE_CHANGE_SET)
				assert_int_equal(zone_builder_class(rb, c->cls.a, c->cls.txt,
								    strlen(c->cls.txt), 60, &id), 0);
			assert_int_equal(zone_builder_add4(rb, base + k, base + k, id), 0);
		}
		struct zone_snapshot *ref = build(rb);
		zone_builder_free(rb);
		for (uint32_t k = 0; k < span; k++) {
			const struct zone_class *x = zone_lookup4(cur, base + k);
			const struct zone_class *y = zone_lookup4(ref, base + k);
			if (!class_same(x, y))
				fail_msg("round %d: 10.0.%u.%u differs", round, k >> 8, k & 255);
		}
		assert_false(zone_lookup4(cur, 0x7f000001));
		assert_non_null(zone_lookup4(cur, 0x7f000002));
		for (int k = 0; k < 300; k++) {
			uint32_t f = base + rnd() % span, l = f + rnd() % 64;
			assert_int_equal(zone_any4(cur, f, l), zone_any4(ref, f, l));
		}
		zone_snapshot_free(ref);
		free(last4);
	}
	zone_snapshot_free(cur);
	zone_snapshot_free(first);
	free(all);
	free(r);
}

/* v6 apply: replace semantics per (prefix, plen), checked against a rebuild. */
static void test_apply6_vs_rebuild(void **state)
{
	(void)state;
	rng_state = 4242;
	struct ent6 {
		uint8_t ip[16];
		unsigned plen;
		int cls; /* -1 none */
	};
	size_t cap = 8000, n = 0;
	struct ent6 *m = calloc(cap, sizeof(*m));
	struct zone_builder *b = new_builder();
	uint16_t c1 = cls(b, 3, "base");
	for (int i = 0; i < 200; i++) {
		struct ent6 e = { { 0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(rnd() % 4) }, 48, c1 };
		int kind = (int)(rnd() % 3);
		if (kind >= 1) {
			e.ip[7] = (uint8_t)(rnd() % 8);
			e.plen = 64;
		}
		if (kind == 2) {
			e.ip[15] = (uint8_t)(rnd() % 8);
			e.plen = 128;
		}
		if (rnd() % 4 == 0)
			e.cls = 0;
		assert_int_equal(zone_builder_add6(b, e.ip, e.plen, (uint16_t)e.cls), 0);
		/* duplicates in a builder: the exclusion wins, else the last */
		size_t j = 0;
		while (j < n && (m[j].plen != e.plen || memcmp(m[j].ip, e.ip, 16) != 0))
			j++;
		if (j < n && (m[j].cls == 0 || e.cls == 0))
			e.cls = 0;
		m[j] = e;
		n += j == n;
	}
	struct zone_snapshot *cur = build(b);
	zone_builder_free(b);
	for (int round = 0; round < 6; round++) {
		size_t k = round == 3 ? 4500 : 50;
		struct zone_change *ch = calloc(k, sizeof(*ch));
		for (size_t i = 0; i < k; i++) {
			struct zone_change *c = &ch[i];
			c->v6 = true;
			c->op = rnd() % 3 ? ZONE_CHANGE_SET : ZONE_CHANGE_DELETE;
			uint8_t v[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(rnd() % 4) };
			memcpy(c->ip6, v, 16);
			c->ip6[7] = (uint8_t)(rnd() % 8);
			c->plen6 = rnd() % 2 ? 64 : 128;
			if (c->plen6 == 128)
				c->ip6[15] = (uint8_t)(rnd() % 8);
			if (round == 3) { /* spread so the overlay outgrows its bound */
				c->ip6[8] = (uint8_t)(i >> 8);
				c->ip6[9] = (uint8_t)i;
				c->plen6 = 128;
			}
			c->cls.a = 0x7f000020;
			c->cls.ttl = 60;
			c->cls.txt = "v6";
			c->cls.own = true;
			assert_true(n < cap);
			/* replace in the model */
			size_t j = 0;
			for (; j < n; j++)
				if (m[j].plen == c->plen6 && memcmp(m[j].ip, c->ip6, 16) == 0)
					break;
			if (j == n)
				n++;
			memcpy(m[j].ip, c->ip6, 16);
			m[j].plen = c->plen6;
			m[j].cls = c->op == ZONE_CHANGE_SET ? 1000 : 0;
		}
		struct zone_snapshot *next;
		assert_int_equal(zone_snapshot_apply(cur, ch, k, 1, &next), 0);
		zone_snapshot_free(cur);
		cur = next;
		free(ch);
		struct zone_builder *rb = new_builder();
		assert_int_equal(cls(rb, 3, "base"), c1);
		uint16_t cv6;
		assert_int_equal(zone_builder_class(rb, 0x7f000020, "v6", 2, 60, &cv6), 0);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(zone_builder_add6(rb, m[j].ip, m[j].plen,
							   m[j].cls == 1000 ? cv6 : (uint16_t)m[j].cls), 0);
		struct zone_snapshot *ref = build(rb);
		zone_builder_free(rb);
		for (int t = 0; t < 20000; t++) {
			uint8_t v[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(rnd() % 4) };
			v[7] = (uint8_t)(rnd() % 8);
			v[15] = (uint8_t)(rnd() % 8);
			if (round >= 3 && t % 2) {
				v[8] = (uint8_t)(rnd() % 18);
				v[9] = (uint8_t)rnd();
				v[15] = 0;
			}
			if (!class_same(zone_lookup6(cur, v), zone_lookup6(ref, v))) {
				char buf[IP6_STRLEN];
				ip6_format(v, buf);
				fail_msg("round %d: v6 lookup differs at %s (probe %d)", round, buf, t);
			}
			unsigned pl = 112 + rnd() % 17;
			uint8_t p[16];
			memcpy(p, v, 16);
			for (unsigned bit = pl; bit < 128; bit++)
				p[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
			if (t % 10 == 0)
				assert_int_equal(zone_any6(cur, p, pl), zone_any6(ref, p, pl));
		}
		zone_snapshot_free(ref);
	}
	zone_snapshot_free(cur);
	free(m);
}

/* ---- scale ---- */

static struct zone_snapshot *build_million(double *ms)
{
	struct zone_builder *b = new_builder();
	uint16_t c = defcls(b);
	rng_state = 99;
	uint64_t t0 = time_mono_ns();
	for (int i = 0; i < 1000000; i++) {
		uint32_t ip = rnd() ^ (rnd() << 16);
		assert_int_equal(zone_builder_add4(b, ip, ip, c), 0);
	}
	struct zone_snapshot *s = build(b);
	*ms = (double)(time_mono_ns() - t0) / 1e6;
	zone_builder_free(b);
	return s;
}

static void test_million(void **state)
{
	(void)state;
	double ms;
	struct zone_snapshot *s = build_million(&ms);
	size_t bytes = zone_snapshot_bytes(s);
	printf("# 1M random /32s: add+build %.1f ms, snapshot %zu bytes (%.2f MiB), count %zu\n", ms,
	       bytes, (double)bytes / 1048576.0, zone_snapshot_count(s));
	assert_true(bytes <= 8u * 1024 * 1024);
	assert_true(zone_snapshot_count(s) > 990000);
	rng_state = 99;
	for (int i = 0; i < 1000; i++) {
		uint32_t ip = rnd() ^ (rnd() << 16);
		assert_non_null(zone_lookup4(s, ip));
	}
	uint64_t t0 = time_mono_ns();
	size_t hits = 0;
	uint32_t x = 1;
	for (int i = 0; i < 2000000; i++) {
		x = x * 1664525u + 1013904223u;
		hits += zone_lookup4(s, x) != NULL;
	}
	printf("# random lookup4: %.1f ns each (%zu hits)\n",
	       (double)(time_mono_ns() - t0) / 2e6, hits);

	/* 1,000 single-change applies on top of it, each published as a new snapshot. */
	t0 = time_mono_ns();
	for (int i = 0; i < 1000; i++) {
		struct zone_change c = { .op = i % 4 ? ZONE_CHANGE_SET : ZONE_CHANGE_DELETE };
		c.ip4 = 0x0b000000u + (uint32_t)i * 7919u;
		struct zone_snapshot *next;
		assert_int_equal(zone_snapshot_apply(s, &c, 1, (uint32_t)i, &next), 0);
		zone_snapshot_free(s);
		s = next;
	}
	printf("# 1000 single applies: %.1f ms total\n", (double)(time_mono_ns() - t0) / 1e6);
	for (int i = 0; i < 1000; i++) {
		uint32_t ip = 0x0b000000u + (uint32_t)i * 7919u;
		if (i % 4)
			assert_non_null(zone_lookup4(s, ip));
		else
			assert_null(zone_lookup4(s, ip));
	}
	zone_snapshot_free(s);
}

static void test_load_million_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_zone_big_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, ":127.0.0.2:Listed $\n");
	rng_state = 5;
	uint32_t ip = 0x01000000;
	for (int i = 0; i < 1000000; i++) {
		ip += 1 + rnd() % 4000;
		fprintf(f, "%u.%u.%u.%u\n", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
	}
	fclose(f);
	uint64_t t0 = time_mono_ns();
	struct zone_builder *b = new_builder();
	struct zone_load_report rep;
	assert_int_equal(zone_load_rbldnsd(b, path, &rep), 0);
	uint64_t t1 = time_mono_ns();
	struct zone_snapshot *s = build(b);
	zone_builder_free(b);
	uint64_t t2 = time_mono_ns();
	unlink(path);
	printf("# 1M-line file: load %.1f ms, build %.1f ms\n", (double)(t1 - t0) / 1e6,
	       (double)(t2 - t1) / 1e6);
	assert_int_equal(rep.entries, 1000000);
	assert_int_equal(zone_snapshot_count(s), 1000000);
	assert_true(listed4(s, "127.0.0.2"));
	zone_snapshot_free(s);
}

/* The file is read in 1 MiB blocks: lines cut at a block edge, a line longer than a block
 * and a last line without a newline must all read as in one buffer. */
static void test_load_file_blocks(void **state)
{
	(void)state;
	char path[] = "/tmp/test_zone_blocks_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	size_t lines = 0;
	for (uint32_t i = 0; i < 120000; i++, lines++) /* the general path: a value per entry */
		fprintf(f, "10.%u.%u.%u :127.0.0.3:v%u\n", i >> 16, i >> 8 & 255, i & 255, i % 100);
	fputc('#', f);
	for (int i = 0; i < 1500000; i++) /* a comment longer than a block */
		fputc('x', f);
	fputc('\n', f);
	lines++;
	for (uint32_t i = 0; i < 120000; i++, lines++) /* the fast path */
		fprintf(f, "11.%u.%u.%u\n", i >> 16, i >> 8 & 255, i & 255);
	fprintf(f, "12.0.0.1 :127.0.0.4:last");
	lines++;
	fclose(f);
	struct zone_builder *b = new_builder();
	struct zone_load_report rep;
	assert_int_equal(zone_load_rbldnsd(b, path, &rep), 0);
	unlink(path);
	struct zone_snapshot *s = build(b);
	zone_builder_free(b);
	assert_int_equal(rep.errors, 0);
	assert_int_equal(rep.lines, lines);
	assert_int_equal(rep.entries, 240001);
	for (uint32_t i = 0; i < 120000; i += 997) {
		const struct zone_class *c = zone_lookup4(s, 0x0a000000u | i);
		assert_non_null(c);
		char want[16];
		snprintf(want, sizeof(want), "v%u", i % 100);
		assert_string_equal(c->txt, want);
		assert_non_null(zone_lookup4(s, 0x0b000000u | i));
	}
	assert_non_null(zone_lookup4(s, 0x0b000000u | 119999));
	assert_int_equal(zone_lookup4(s, 0x0c000001)->a, 0x7f000004);
	assert_string_equal(zone_lookup4(s, 0x0c000001)->txt, "last");
	assert_null(zone_lookup4(s, 0x0b000000u | 120000));
	zone_snapshot_free(s);
}

/* ---- publication ---- */

struct reader_arg {
	struct zone_handle *h;
	atomic_int stop;
	atomic_long reads;
	atomic_int bad;
};

static void *reader(void *p)
{
	struct reader_arg *ra = p;
	zone_reader_register();
	while (!atomic_load(&ra->stop)) {
		zone_read_lock();
		const struct zone_snapshot *s = zone_current(ra->h);
		if (s && (!zone_lookup4(s, 0x7f000002) || zone_lookup4(s, 0x7f000001)))
			atomic_store(&ra->bad, 1);
		zone_read_unlock();
		atomic_fetch_add(&ra->reads, 1);
	}
	zone_reader_unregister();
	return NULL;
}

static void test_publish(void **state)
{
	(void)state;
	struct reader_arg ra = { .h = zone_handle_new() };
	assert_non_null(ra.h);
	zone_read_lock();
	assert_null(zone_current(ra.h));
	zone_read_unlock();
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reader, &ra), 0);
	/* 200 builds of an empty zone take milliseconds: on a loaded machine the reader may not
	 * run at all before they end. Wait (at most 10 s) until it reads, so that it reads while
	 * they happen. */
	for (int k = 0; k < 10000 && atomic_load(&ra.reads) == 0; k++)
		usleep(1000);
	uint64_t last = 0;
	for (int i = 0; i < 200; i++) {
		struct zone_builder *b = new_builder();
		struct zone_snapshot *s = build(b);
		zone_builder_free(b);
		assert_true(zone_snapshot_id(s) > last);
		last = zone_snapshot_id(s);
		zone_publish(ra.h, s);
	}
	atomic_store(&ra.stop, 1);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&ra.bad), 0);
	assert_true(atomic_load(&ra.reads) > 0);
	zone_handle_free(ra.h);
}

/* Snapshots applied on the one before share its arrays: their grace periods are shared too,
 * and readers never see a freed one (ASan would say). The first snapshot that leaves arrays
 * behind ends the wait at once. */
struct applied_arg {
	struct zone_handle *h;
	size_t base_n;
	atomic_int stop;
	atomic_long reads;
	atomic_int bad;
};

static void *applied_reader(void *p)
{
	struct applied_arg *aa = p;
	zone_reader_register();
	while (!atomic_load(&aa->stop)) {
		zone_read_lock();
		const struct zone_snapshot *s = zone_current(aa->h);
		uint32_t n = (uint32_t)(zone_snapshot_count(s) - aa->base_n);
		/* round i sets 10.1.0.i: exactly the first n are there */
		if ((n > 0 && !zone_lookup4(s, 0x0a010000u + n - 1)) ||
		    zone_lookup4(s, 0x0a010000u + n))
			atomic_store(&aa->bad, 1);
		zone_read_unlock();
		atomic_fetch_add(&aa->reads, 1);
	}
	zone_reader_unregister();
	return NULL;
}

/* RFC 1982 serial arithmetic: greater across the wrap, undefined pairs neither way, and the next
 * serial always greater than the last one served. */
static void test_serial_arithmetic(void **state)
{
	(void)state;
	assert_true(zone_serial_gt(2, 1));
	assert_false(zone_serial_gt(1, 2));
	assert_false(zone_serial_gt(7, 7));
	/* The wrap: 0 and 5 follow 2^32 - 1 (RFC 1982 3.2's examples, with 32 bits). */
	assert_true(zone_serial_gt(0, 0xFFFFFFFFu));
	assert_true(zone_serial_gt(5, 0xFFFFFFF0u));
	assert_false(zone_serial_gt(0xFFFFFFFFu, 0));
	/* Up to 2^31 - 1 ahead is greater; 2^31 apart is undefined: false both ways. */
	assert_true(zone_serial_gt(0x7FFFFFFFu, 0));
	assert_false(zone_serial_gt(0x80000000u, 0));
	assert_false(zone_serial_gt(0, 0x80000000u));
	assert_true(zone_serial_gt(0x80000001u, 2));

	/* next: the clock when it is ahead, else one more, wrapping. */
	assert_int_equal(zone_serial_next(100, 1800000000u), 1800000000u);
	assert_int_equal(zone_serial_next(1800000000u, 1800000000u), 1800000001u);
	assert_int_equal(zone_serial_next(1800000005u, 1700000000u), 1800000006u); /* clock back */
	assert_int_equal(zone_serial_next(0xFFFFFFFFu, 5), 5);  /* 5 is after the wrap */
	assert_int_equal(zone_serial_next(0xFFFFFFFFu, 0xFFFFFFFFu), 0);
	assert_int_equal(zone_serial_next(0x80000000u, 0), 0x80000001u); /* undefined: + 1 */
	/* Whatever the pair, next is greater than last. */
	uint32_t x = 0x9E3779B9u;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint32_t last = x, now = x * 2654435761u;
		assert_true(zone_serial_gt(zone_serial_next(last, now), last));
	}
}

static void test_publish_applied(void **state)
{
	(void)state;
	struct applied_arg aa = { .h = zone_handle_new() };
	struct zone_builder *b = new_builder();
	uint16_t c1 = cls(b, A2, NULL);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(zone_builder_add4(b, 0x0b000000u + i * 7, 0x0b000000u + i * 7, c1),
				 0);
	struct zone_snapshot *cur = build(b);
	zone_builder_free(b);
	aa.base_n = zone_snapshot_count(cur);
	zone_publish(aa.h, cur);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, applied_reader, &aa), 0);
	/* On a loaded machine the reader may not run at all before the publications end: wait
	 * (at most 10 s) until it reads, so that it reads while they happen. */
	for (int k = 0; k < 10000 && atomic_load(&aa.reads) == 0; k++)
		usleep(1000);
	const unsigned rounds = 64;
	for (unsigned i = 0; i < rounds; i++) {
		struct zone_change c = { .op = ZONE_CHANGE_SET, .ip4 = 0x0a010000u + i,
					 .cls = { .a = A2, .ttl = 2100 } };
		struct zone_snapshot *next = NULL;
		assert_int_equal(zone_snapshot_apply(cur, &c, 1, i + 2, &next), 0);
		zone_publish(aa.h, next);
		cur = next;
	}
	struct zone_publish_stats st;
	zone_publish_stats(aa.h, &st);
	assert_int_equal(st.publications, rounds);
	assert_int_equal(st.grace_periods, rounds / 8);
	assert_int_equal(st.retired, 0);
	atomic_store(&aa.stop, 1);
	pthread_join(t, NULL);
	/* one more applied: it waits; a rebuilt snapshot shares nothing and frees them all */
	struct zone_change c = { .op = ZONE_CHANGE_DELETE, .ip4 = 0x0b000000u };
	struct zone_snapshot *next = NULL;
	assert_int_equal(zone_snapshot_apply(cur, &c, 1, rounds + 2, &next), 0);
	zone_publish(aa.h, next);
	zone_publish_stats(aa.h, &st);
	assert_int_equal(st.retired, 1);
	assert_int_equal(st.grace_periods, rounds / 8);
	b = new_builder();
	zone_publish(aa.h, build(b));
	zone_builder_free(b);
	zone_publish_stats(aa.h, &st);
	assert_int_equal(st.retired, 0);
	assert_int_equal(st.grace_periods, rounds / 8 + 1);
	assert_int_equal(atomic_load(&aa.bad), 0);
	assert_true(atomic_load(&aa.reads) > 0);
	zone_handle_free(aa.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_singles),
		cmocka_unit_test(test_nesting_both_orders),
		cmocka_unit_test(test_exclusion_wins_equal_size),
		cmocka_unit_test(test_overlapping_adjacent_ranges),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_test_points),
		cmocka_unit_test(test_any4),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_rbldnsd_forms),
		cmocka_unit_test(test_rbldnsd_default_switch),
		cmocka_unit_test(test_rbldnsd_bad_lines),
		cmocka_unit_test(test_rbldnsd_combined_and_file),
		cmocka_unit_test(test_ns_add),
		cmocka_unit_test(test_ns_builder_keeps_all),
		cmocka_unit_test(test_rbldnsd_ns_keeps_all),
		cmocka_unit_test(test_rbldnsd_ns_too_big),
		cmocka_unit_test(test_lookup4_vs_reference),
		cmocka_unit_test(test_apply_vs_rebuild),
		cmocka_unit_test(test_apply6_vs_rebuild),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_load_million_file),
		cmocka_unit_test(test_load_file_blocks),
		cmocka_unit_test(test_publish),
		cmocka_unit_test(test_publish_applied),
		cmocka_unit_test(test_serial_arithmetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
