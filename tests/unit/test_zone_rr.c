/* test_zone_rr.c - unit tests of the zone as records (what AXFR sends): apex, test points, listed
 * names, wildcards where exact, expansions within a limit, and agreement with the lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "zone/zone.h"

#define A2 0x7f000002u
#define ZONE "bl.example.org"

static uint32_t ip4(const char *s)
{
	uint32_t v = 0;
	assert_int_equal(ip4_parse(s, strlen(s), &v), 0);
	return v;
}

static struct zone_builder *new_builder_txt(const char *txt)
{
	struct zone_defaults d = { 0 };
	d.a = A2;
	d.ttl = 2100;
	d.txt = txt;
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

static struct zone_builder *new_builder(void)
{
	return new_builder_txt("Listed: $");
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

static struct zone_snapshot *build(struct zone_builder *b)
{
	struct zone_snapshot *s = NULL;
	assert_int_equal(zone_snapshot_build(b, &s), 0);
	zone_builder_free(b);
	return s;
}

/* ---- the records as text ------------------------------------------------------------ */

/* "owner TYPE rdata" per record, owner as dotted labels ("@" at the apex). */
struct rrs {
	char **line;
	size_t n, cap;
	size_t skipped;
};

static void owner_text(const struct zone_rr *rr, char *out)
{
	size_t o = 0;
	if (rr->owner_len == 0) {
		strcpy(out, "@");
		return;
	}
	for (size_t i = 0; i < rr->owner_len;) {
		unsigned len = rr->owner[i++];
		if (o)
			out[o++] = '.';
		memcpy(out + o, rr->owner + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
}

static void rdata_text(const struct zone_rr *rr, char *out, size_t cap)
{
	if (rr->type == 1) {
		snprintf(out, cap, "%u.%u.%u.%u", rr->rdata[0], rr->rdata[1], rr->rdata[2],
			 rr->rdata[3]);
	} else if (rr->type == 16) { /* the character-strings joined */
		size_t o = 0;
		for (size_t i = 0; i < rr->rdlen && o + 256 < cap;) {
			unsigned len = rr->rdata[i++];
			memcpy(out + o, rr->rdata + i, len);
			o += len;
			i += len;
		}
		out[o] = '\0';
	} else {
		snprintf(out, cap, "len%zu", rr->rdlen);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct rrs collect(const struct zone_snapshot *s, size_t expand_max)
{
	struct rrs r = { 0 };
	struct zone_iter *it = NULL;
	assert_int_equal(zone_iter_new(s, ZONE, expand_max, &it), 0);
	struct zone_rr rr;
	int rc;
	while ((rc = zone_iter_next(it, &rr)) == 1) {
		char owner[300], rd[2048], line[2400];
		owner_text(&rr, owner);
		rdata_text(&rr, rd, sizeof rd);
		snprintf(line, sizeof line, "%s %u %s", owner, rr.type, rd);
		if (r.n == r.cap) {
			r.cap = r.cap ? r.cap * 2 : 256;
			r.line = realloc(r.line, r.cap * sizeof *r.line);
			assert_non_null(r.line);
		}
		r.line[r.n++] = strdup(line);
	}
	assert_int_equal(rc, 0);
	r.skipped = zone_iter_skipped(it);
	zone_iter_free(it);
	return r;
}

static void rrs_free(struct rrs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->line[i]);
	free(r->line);
}

static bool has(const struct rrs *r, const char *line)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->line[i], line) == 0)
			return true;
	return false;
}

static size_t count_prefix(const struct rrs *r, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (size_t i = 0; i < r->n; i++)
		n += strncmp(r->line[i], prefix, len) == 0;
	return n;
}

static size_t count_suffix_type(const struct rrs *r, const char *suffix, const char *type)
{
	size_t n = 0, len = strlen(suffix);
	for (size_t i = 0; i < r->n; i++) {
		const char *sp = strchr(r->line[i], ' ');
		size_t olen = (size_t)(sp - r->line[i]);
		if (olen >= len && strncmp(r->line[i] + olen - len, suffix, len) == 0 &&
		    strncmp(sp + 1, type, strlen(type)) == 0)
			n++;
	}
	return n;
}

/* ---- tests ---------------------------------------------------------------------------- */

/* The apex first and last, the test points, a listed address, a whole /24 as one wildcard, a
 * /16 with a hole as wildcards and names around the hole, a range that is no block as names. */
static void test_records(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t c = defcls(b);
	add4(b, "1.2.3.4", NULL, c);
	add4(b, "204.0.113.0", "204.0.113.255", c);   /* a /24: one wildcard */
	add4(b, "199.18.0.0", "199.18.255.255", c);   /* a /16 ... */
	add4(b, "199.18.7.9", NULL, ZONE_CLASS_EXCLUDE); /* ... with a hole */
	add4(b, "193.0.2.10", "193.0.2.19", c);        /* ten addresses, no block */
	uint8_t v6[16];
	assert_int_equal(ip6_parse("2a01:db8:1::", 12, v6), 0);
	assert_int_equal(zone_builder_add6(b, v6, 48, c), 0);
	struct zone_snapshot *s = build(b);
	struct rrs r = collect(s, ZONE_RR_EXPAND_MAX);

	assert_true(r.n > 4);
	assert_string_equal(r.line[0], "@ 6 len61");
	assert_string_equal(r.line[r.n - 1], r.line[0]);
	assert_true(has(&r, "@ 2 len17"));
	assert_int_equal(count_prefix(&r, "@ 2 "), 2);
	/* RFC 5782 5: 127.0.0.2 listed, 127.0.0.1 not; and their IPv6 forms. */
	assert_true(has(&r, "2.0.0.127 1 127.0.0.2"));
	assert_true(has(&r, "2.0.0.127 16 Listed: 127.0.0.2"));
	assert_int_equal(count_prefix(&r, "1.0.0.127 "), 0);
	assert_true(has(&r, "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 1 "
			    "127.0.0.2"));
	assert_int_equal(count_prefix(&r, "1.0.0.0.0.0.f.7.f.f.f.f."), 0);
	/* A listed address and its TXT. */
	assert_true(has(&r, "4.3.2.1 1 127.0.0.2"));
	assert_true(has(&r, "4.3.2.1 16 Listed: 1.2.3.4"));
	/* The /24: one wildcard, whose TXT names the block. */
	assert_true(has(&r, "*.113.0.204 1 127.0.0.2"));
	assert_true(has(&r, "*.113.0.204 16 Listed: 204.0.113.0/24"));
	assert_int_equal(count_suffix_type(&r, ".113.0.204", "1 "), 1);
	/* The /16 with a hole: 255 /24 wildcards, and 255 names in 199.18.7 around .9. */
	assert_int_equal(count_suffix_type(&r, ".18.199", "1 "), 255 + 255);
	assert_true(has(&r, "*.6.18.199 1 127.0.0.2"));
	assert_true(has(&r, "*.8.18.199 1 127.0.0.2"));
	assert_false(has(&r, "*.7.18.199 1 127.0.0.2"));
	assert_true(has(&r, "8.7.18.199 1 127.0.0.2"));
	assert_false(has(&r, "9.7.18.199 1 127.0.0.2"));
	assert_true(has(&r, "10.7.18.199 16 Listed: 199.18.7.10"));
	/* Ten addresses that are no label block: ten names. */
	assert_int_equal(count_suffix_type(&r, ".2.0.193", "1 "), 10);
	assert_true(has(&r, "19.2.0.193 1 127.0.0.2"));
	/* The IPv6 /48: one wildcard at 12 nibbles. */
	assert_true(has(&r, "*.1.0.0.0.8.b.d.0.1.0.a.2 1 127.0.0.2"));
	assert_true(has(&r, "*.1.0.0.0.8.b.d.0.1.0.a.2 16 Listed: 2a01:db8:1::/48"));
	assert_int_equal(r.skipped, 0);
	rrs_free(&r);

	/* The overlay counts: a change applied shows without a rebuild. */
	struct zone_change ch[2] = { { .op = ZONE_CHANGE_DELETE, .ip4 = ip4("1.2.3.4") },
				     { .op = ZONE_CHANGE_SET, .ip4 = ip4("1.2.3.5") } };
	struct zone_snapshot *s2 = NULL;
	assert_int_equal(zone_snapshot_apply(s, ch, 2, 43, &s2), 0);
	r = collect(s2, ZONE_RR_EXPAND_MAX);
	assert_false(has(&r, "4.3.2.1 1 127.0.0.2"));
	assert_true(has(&r, "5.3.2.1 1 127.0.0.2"));
	rrs_free(&r);
	zone_snapshot_free(s2);
	zone_snapshot_free(s);
}

/* Expansions stop at the limit and are counted; listed addresses never are. */
/* The TXT of one listed address as the transfer sends it: every '$' the address, the text in
 * character-strings of at most 255 bytes (RFC 1035 3.3.14). *strings: how many. */
static void txt_of(const char *tmpl, char *out, size_t cap, unsigned *strings)
{
	struct zone_builder *b = new_builder_txt(tmpl);
	add4(b, "1.2.3.4", NULL, defcls(b));
	struct zone_snapshot *s = build(b);
	struct zone_iter *it = NULL;
	assert_int_equal(zone_iter_new(s, ZONE, 1000, &it), 0);
	struct zone_rr rr;
	bool found = false;
	while (!found && zone_iter_next(it, &rr) == 1) {
		char owner[300];
		owner_text(&rr, owner);
		if (rr.type != 16 || strcmp(owner, "4.3.2.1") != 0)
			continue;
		found = true;
		rdata_text(&rr, out, cap);
		*strings = 0;
		for (size_t i = 0; i < rr.rdlen; i += 1u + rr.rdata[i])
			(*strings)++;
	}
	assert_true(found);
	zone_iter_free(it);
	zone_snapshot_free(s);
}

static void test_txt_text(void **state)
{
	(void)state;
	char got[2048], want[2048], tmpl[600];
	unsigned strings = 0;
	txt_of("$ is listed, see https://bl.example.org/lookup/$", got, sizeof got, &strings);
	assert_string_equal(got, "1.2.3.4 is listed, see https://bl.example.org/lookup/1.2.3.4");
	assert_int_equal(strings, 1);
	txt_of("no address here", got, sizeof got, &strings);
	assert_string_equal(got, "no address here");
	/* Past 255 bytes the text goes on in a second string, the address across the cut. */
	memset(tmpl, 'x', 250);
	strcpy(tmpl + 250, "$ and more $");
	txt_of(tmpl, got, sizeof got, &strings);
	memset(want, 'x', 250);
	strcpy(want + 250, "1.2.3.4 and more 1.2.3.4");
	assert_string_equal(got, want);
	assert_int_equal(strings, 2);
}

static void test_expand_limit(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	uint16_t c = defcls(b);
	add4(b, "193.0.2.0", "193.0.2.199", c); /* 200 names */
	add4(b, "1.2.3.4", NULL, c);
	add4(b, "1.2.3.6", NULL, c);
	struct zone_snapshot *s = build(b);
	struct rrs r = collect(s, 50);
	assert_int_equal(count_suffix_type(&r, ".2.0.193", "1 "), 50);
	assert_int_equal(r.skipped, 150);
	assert_true(has(&r, "4.3.2.1 1 127.0.0.2"));
	assert_true(has(&r, "6.3.2.1 1 127.0.0.2"));
	assert_true(has(&r, "2.0.0.127 1 127.0.0.2"));
	rrs_free(&r);
	zone_snapshot_free(s);
}

/* What a secondary loading the records answers for an address: the exact name, else the
 * closest wildcard (the walk never puts a wildcard above other names). 0 when not listed. */
static uint32_t secondary_a(const struct rrs *sorted, uint32_t ip)
{
	char key[64];
	unsigned o[4] = { ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255 };
	for (int f = 0; f < 4; f++) {
		switch (f) {
		case 0: snprintf(key, sizeof key, "%u.%u.%u.%u 1 ", o[3], o[2], o[1], o[0]); break;
		case 1: snprintf(key, sizeof key, "*.%u.%u.%u 1 ", o[2], o[1], o[0]); break;
		case 2: snprintf(key, sizeof key, "*.%u.%u 1 ", o[1], o[0]); break;
		default: snprintf(key, sizeof key, "*.%u 1 ", o[0]); break;
		}
		size_t lo = 0, hi = sorted->n, len = strlen(key);
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strncmp(sorted->line[mid], key, len) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < sorted->n && strncmp(sorted->line[lo], key, len) == 0)
			return ip4(sorted->line[lo] + len);
	}
	return 0;
}

/* Random singles, ranges and holes: for thousands of addresses (inside ranges, at their
 * edges, random) what the records say equals what the snapshot answers. */
static void test_agrees_with_lookup(void **state)
{
	(void)state;
	uint32_t x = 12345;
#define RND() (x ^= x << 13, x ^= x >> 17, x ^= x << 5, x)
	struct zone_builder *b = new_builder();
	uint16_t cs[3];
	cs[0] = defcls(b);
	assert_int_equal(zone_builder_class(b, 0x7f00000au, "ten $", 5, 60, &cs[1]), 0);
	assert_int_equal(zone_builder_class(b, 0x7f00000bu, NULL, 0, 60, &cs[2]), 0);
	uint32_t probes[4000];
	size_t np = 0;
	for (int i = 0; i < 300; i++) {
		uint32_t base = (RND() & 0x00ffffffu) | 0xc1000000u; /* inside 193/8 */
		uint32_t len = RND() % 3 == 0 ? (RND() % 600) : 0;
		uint16_t c = cs[RND() % 3];
		if (RND() % 7 == 0)
			c = ZONE_CLASS_EXCLUDE;
		if (RND() % 5 == 0) { /* an aligned block */
			unsigned bits = (RND() % 2) ? 8 : 16;
			base &= ~((1u << bits) - 1);
			len = (1u << bits) - 1;
		}
		assert_int_equal(zone_builder_add4(b, base, base + len, c), 0);
		probes[np++] = base;
		probes[np++] = base + len;
		probes[np++] = base + len + 1;
		probes[np++] = base + (len ? RND() % len : 0);
	}
	while (np < 4000)
		probes[np++] = (RND() & 0x00ffffffu) | 0xc1000000u;
	struct zone_snapshot *s = build(b);
	struct rrs r = collect(s, ZONE_RR_EXPAND_MAX);
	assert_int_equal(r.skipped, 0);
	qsort(r.line, r.n, sizeof *r.line, cmp_str);
	for (size_t i = 0; i < np; i++) {
		const struct zone_class *c = zone_lookup4(s, probes[i]);
		uint32_t want = c ? c->a : 0;
		if (secondary_a(&r, probes[i]) != want) {
			char t[16];
			ip4_format(probes[i], t);
			fail_msg("address %s: records say %u, lookup %u", t,
				 secondary_a(&r, probes[i]), want);
		}
	}
	rrs_free(&r);
	zone_snapshot_free(s);
}

/* A pinned copy outlives the snapshot it was made from and walks to the same records. */
static void test_pin(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	add4(b, "1.2.3.4", NULL, defcls(b));
	struct zone_snapshot *s = build(b), *p = NULL;
	assert_int_equal(zone_snapshot_pin(s, &p), 0);
	struct rrs r1 = collect(s, 10);
	zone_snapshot_free(s);
	struct rrs r2 = collect(p, 10);
	assert_int_equal(r1.n, r2.n);
	for (size_t i = 0; i < r1.n; i++)
		assert_string_equal(r1.line[i], r2.line[i]);
	rrs_free(&r1);
	rrs_free(&r2);
	zone_snapshot_free(p);
}

/* ---- the IXFR journal ------------------------------------------------------------------ */

static struct rrs collect_ixfr(struct zone_ixfr *x)
{
	struct rrs r = { 0 };
	struct zone_rr rr;
	int rc;
	while ((rc = zone_ixfr_next(x, &rr)) == 1) {
		char owner[300], rd[2048], line[2400];
		owner_text(&rr, owner);
		if (rr.type == 6) /* the SOA by its serial */
			snprintf(rd, sizeof rd, "%u", (unsigned)(rr.rdata[rr.rdlen - 20] << 24 |
						     rr.rdata[rr.rdlen - 19] << 16 |
						     rr.rdata[rr.rdlen - 18] << 8 |
						     rr.rdata[rr.rdlen - 17]));
		else
			rdata_text(&rr, rd, sizeof rd);
		snprintf(line, sizeof line, "%s %u %s", owner, rr.type, rd);
		if (r.n == r.cap) {
			r.cap = r.cap ? r.cap * 2 : 64;
			r.line = realloc(r.line, r.cap * sizeof *r.line);
		}
		r.line[r.n++] = strdup(line);
	}
	assert_int_equal(rc, 0);
	return r;
}

static void expect_lines(const struct rrs *r, const char *const *want, size_t n)
{
	if (r->n != n)
		for (size_t i = 0; i < r->n; i++)
			print_message("%s\n", r->line[i]);
	assert_int_equal(r->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r->line[i], want[i]);
}

static void ip16(const char *s, uint8_t out[16])
{
	assert_int_equal(ip_parse(s, strlen(s), out), 0);
}

/* Two publications (a listing, a delisting) as journal entries; IXFR from either serial, the
 * stored form read back, and the bounds. */
static void test_journal(void **state)
{
	(void)state;
	struct zone_builder *b = new_builder();
	add4(b, "1.2.3.4", NULL, defcls(b));
	struct zone_snapshot *s0 = build(b), *s1 = NULL, *s2 = NULL;
	struct zone_change set = { .op = ZONE_CHANGE_SET, .ip4 = ip4("1.2.3.5") };
	struct zone_change del = { .op = ZONE_CHANGE_DELETE, .ip4 = ip4("1.2.3.4") };
	assert_int_equal(zone_snapshot_apply(s0, &set, 1, 43, &s1), 0);
	assert_int_equal(zone_snapshot_apply(s1, &del, 1, 44, &s2), 0);
	uint8_t a5[1][16], a4[2][16];
	ip16("1.2.3.5", a5[0]);
	ip16("1.2.3.4", a4[0]);
	ip16("193.0.2.9", a4[1]); /* touched, unchanged: not in the entry */
	struct zone_jentry *e1, *e2;
	assert_int_equal(zone_journal_diff(s0, s1, (const uint8_t(*)[16])a5, 1, 100, &e1), 0);
	assert_int_equal(zone_journal_diff(s1, s2, (const uint8_t(*)[16])a4, 2, 100, &e2), 0);
	assert_int_equal(zone_jentry_changes(e2), 1);

	/* The stored form reads back whole; every shorter prefix of it is refused. */
	uint8_t *buf;
	size_t len;
	assert_int_equal(zone_jentry_encode(e2, &buf, &len), 0);
	struct zone_jentry *back = NULL;
	assert_int_equal(zone_jentry_decode(43, 44, 100, buf, len, &back), 0);
	for (size_t cut = 1; cut < len; cut++) {
		struct zone_jentry *bad = NULL;
		int rc = zone_jentry_decode(43, 44, 100, buf, cut, &bad);
		assert_true(rc == ZONE_EPARSE || rc == ZONE_OK);
		zone_jentry_free(bad);
	}
	free(buf);
	zone_jentry_free(e2);

	struct zone_journal *j = zone_journal_new(1000, 0);
	zone_journal_add(j, e1, 100);
	zone_journal_add(j, back, 100);
	struct zone_ixfr *x = NULL;
	assert_int_equal(zone_ixfr_new(j, s2, ZONE, 42, &x), 0);
	struct rrs r = collect_ixfr(x);
	static const char *const from42[] = {
		"@ 6 44", "@ 6 42", "@ 6 43",
		"5.3.2.1 1 127.0.0.2", "5.3.2.1 16 Listed: 1.2.3.5",
		"@ 6 43", "4.3.2.1 1 127.0.0.2", "4.3.2.1 16 Listed: 1.2.3.4", "@ 6 44",
		"@ 6 44",
	};
	expect_lines(&r, from42, sizeof from42 / sizeof from42[0]);
	rrs_free(&r);
	zone_ixfr_free(x);
	assert_int_equal(zone_ixfr_new(j, s2, ZONE, 43, &x), 0);
	r = collect_ixfr(x);
	static const char *const from43[] = {
		"@ 6 44", "@ 6 43", "4.3.2.1 1 127.0.0.2", "4.3.2.1 16 Listed: 1.2.3.4", "@ 6 44",
		"@ 6 44",
	};
	expect_lines(&r, from43, sizeof from43 / sizeof from43[0]);
	rrs_free(&r);
	zone_ixfr_free(x);
	/* A serial the journal never had, and the way to a serial it does not reach. */
	assert_int_equal(zone_ixfr_new(j, s2, ZONE, 41, &x), ZONE_ENOTFOUND);
	assert_int_equal(zone_ixfr_new(j, s1, ZONE, 41, &x), ZONE_ENOTFOUND);
	assert_int_equal(zone_ixfr_new(j, s1, ZONE, 42, &x), 0); /* 42 -> 43 alone */
	zone_ixfr_free(x);
	/* A gap (a rebuild published 50 without an entry): no way from 42 to 51. */
	struct zone_jentry *gap;
	assert_int_equal(zone_jentry_empty(50, 51, 100, &gap), 0);
	zone_journal_add(j, gap, 100);
	struct zone_snapshot *s51 = NULL;
	assert_int_equal(zone_snapshot_apply(s2, NULL, 0, 51, &s51), 0);
	assert_int_equal(zone_ixfr_new(j, s51, ZONE, 42, &x), ZONE_ENOTFOUND);
	assert_int_equal(zone_ixfr_new(j, s51, ZONE, 50, &x), 0);
	zone_ixfr_free(x);
	zone_journal_free(j);

	/* The bounds: one change at most drops the older entry; an age drops both. */
	j = zone_journal_new(1, 0);
	assert_int_equal(zone_journal_diff(s0, s1, (const uint8_t(*)[16])a5, 1, 100, &e1), 0);
	assert_int_equal(zone_journal_diff(s1, s2, (const uint8_t(*)[16])a4, 1, 100, &e2), 0);
	zone_journal_add(j, e1, 100);
	zone_journal_add(j, e2, 100);
	assert_int_equal(zone_journal_entries(j, NULL), 1);
	assert_int_equal(zone_ixfr_new(j, s2, ZONE, 42, &x), ZONE_ENOTFOUND);
	assert_int_equal(zone_ixfr_new(j, s2, ZONE, 43, &x), 0);
	zone_ixfr_free(x);
	zone_journal_free(j);
	j = zone_journal_new(1000, 60);
	assert_int_equal(zone_journal_diff(s0, s1, (const uint8_t(*)[16])a5, 1, 100, &e1), 0);
	zone_journal_add(j, e1, 100);
	assert_int_equal(zone_jentry_empty(43, 44, 200, &e2), 0);
	zone_journal_add(j, e2, 200); /* e1 is 100 s old by now */
	assert_int_equal(zone_journal_entries(j, NULL), 1);
	zone_journal_free(j);

	zone_snapshot_free(s51);
	zone_snapshot_free(s2);
	zone_snapshot_free(s1);
	zone_snapshot_free(s0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_txt_text),
		cmocka_unit_test(test_expand_limit),
		cmocka_unit_test(test_agrees_with_lookup),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_journal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
