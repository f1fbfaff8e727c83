/* test_dns_rrl.c - unit tests of the rate limiter's buckets, the usage sketch and the prefix set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns/dns.h"

static void addr(const char *s, uint8_t out[16])
{
	assert_int_equal(ip_parse(s, strlen(s), out), 0);
}

/* ---- one bucket's word ---------------------------------------------------------- */

static void test_step_counts_to_rate(void **state)
{
	(void)state;
	uint64_t w = 0, next;
	/* An empty slot (tag 0 second 0 would match only a key of tag 0 at second 0). */
	for (unsigned i = 0; i < 5; i++) {
		assert_true(dns_rrl_step(w, 0xabcdef01u, 100, 5, &next));
		w = next;
	}
	assert_int_equal(w & 0xFFFF, 5);
	assert_false(dns_rrl_step(w, 0xabcdef01u, 100, 5, &next));
	assert_int_equal(next, w); /* limited: the word is unchanged */
	/* The next second starts a new count. */
	assert_true(dns_rrl_step(w, 0xabcdef01u, 101, 5, &next));
	assert_int_equal(next & 0xFFFF, 1);
}

static void test_step_other_tag_takes_over(void **state)
{
	(void)state;
	uint64_t w = 0, next;
	for (unsigned i = 0; i < 3; i++) {
		assert_true(dns_rrl_step(w, 7, 42, 3, &next));
		w = next;
	}
	assert_false(dns_rrl_step(w, 7, 42, 3, &next));
	/* A colliding key restarts the count: a collision never limits the newcomer. */
	assert_true(dns_rrl_step(w, 8, 42, 3, &next));
	assert_int_equal(next & 0xFFFF, 1);
	assert_int_equal(next >> 32, 8);
}

static void test_step_saturates(void **state)
{
	(void)state;
	uint64_t w = 0, next;
	assert_true(dns_rrl_step(w, 1, 9, 65535, &next));
	w = (next & ~0xFFFFull) | 65534u;
	assert_true(dns_rrl_step(w, 1, 9, 65535, &next));
	assert_int_equal(next & 0xFFFF, 65535);
	assert_false(dns_rrl_step(next, 1, 9, 65535, &next));
	/* The second is kept modulo 2^16: a slot untouched for exactly 65536 s reads as the
	 * same second (docs/rrl.md); one second later it is a new count. */
	w = next;
	assert_false(dns_rrl_step(w, 1, 9 + 65536, 65535, &next));
	assert_true(dns_rrl_step(w, 1, 10, 65535, &next));
	assert_int_equal(next & 0xFFFF, 1);
}

/* ---- the table -------------------------------------------------------------------- */

static struct dns_rrl *rrl_make(unsigned rate, const char *exempt)
{
	struct dns_rrl_config c = {.rate = rate, .slip = 2, .v4_prefix = 24, .v6_prefix = 56};
	if (exempt) {
		assert_int_equal(ip_prefix_parse(exempt, strlen(exempt), &c.exempt[0]), 0);
		c.n_exempt = 1;
	}
	struct dns_rrl *r = dns_rrl_new(&c, 1u << 12);
	assert_non_null(r);
	return r;
}

static const uint8_t NAME_A[] = "\0011\0012\0013\0014\002bl\007example\003org";
static const uint8_t NAME_A_UP[] = "\0011\0012\0013\0014\002BL\007ExAmPlE\003ORG";
static const uint8_t NAME_B[] = "\0015\0012\0013\0014\002bl\007example\003org";

static unsigned allowed(struct dns_rrl *r, const char *client, enum dns_rrl_class cls,
			const uint8_t *name, unsigned n, uint64_t sec)
{
	uint8_t ip[16];
	unsigned ok = 0;
	addr(client, ip);
	for (unsigned i = 0; i < n; i++)
		ok += dns_rrl_allow(r, ip, cls, name, name ? sizeof NAME_A : 0, sec);
	return ok;
}

static void test_table_per_prefix_class_name(void **state)
{
	(void)state;
	struct dns_rrl *r = rrl_make(10, NULL);
	assert_int_equal(allowed(r, "193.0.2.1", DNS_RRL_NEGATIVE, NAME_A, 50, 5), 10);
	/* The same /24, the same name: the same bucket, whatever the case of the name. */
	assert_int_equal(allowed(r, "193.0.2.200", DNS_RRL_NEGATIVE, NAME_A_UP, 5, 5), 0);
	/* Another name, another class, another prefix: buckets of their own. */
	assert_int_equal(allowed(r, "193.0.2.1", DNS_RRL_NEGATIVE, NAME_B, 50, 5), 10);
	assert_int_equal(allowed(r, "193.0.2.1", DNS_RRL_LISTED, NAME_A, 50, 5), 10);
	assert_int_equal(allowed(r, "193.0.3.1", DNS_RRL_NEGATIVE, NAME_A, 50, 5), 10);
	/* The next second: allowed again. */
	assert_int_equal(allowed(r, "193.0.2.1", DNS_RRL_NEGATIVE, NAME_A, 50, 6), 10);
	dns_rrl_free(r);
}

static void test_table_zone_and_errors_per_prefix(void **state)
{
	(void)state;
	struct dns_rrl *r = rrl_make(4, NULL);
	/* The zone's records and errors count per prefix whatever the name. */
	assert_int_equal(allowed(r, "199.51.100.1", DNS_RRL_ERROR, NAME_A, 3, 1), 3);
	assert_int_equal(allowed(r, "199.51.100.2", DNS_RRL_ERROR, NAME_B, 3, 1), 1);
	assert_int_equal(allowed(r, "199.51.100.2", DNS_RRL_ZONE, NAME_B, 9, 1), 4);
	dns_rrl_free(r);
}

/* A reload's limiter (dns_rrl_view): the table's counts with another rate and exempt list. */
static void test_view_keeps_counts(void **state)
{
	(void)state;
	struct dns_rrl *r = rrl_make(3, NULL);
	assert_int_equal(allowed(r, "193.0.2.1", DNS_RRL_NEGATIVE, NAME_A, 10, 7), 3);
	struct dns_rrl_config c = {.rate = 5, .slip = 2, .v4_prefix = 24, .v6_prefix = 56};
	struct dns_rrl *v = dns_rrl_view(r, &c);
	assert_non_null(v);
	/* The rate raised: the 3 answers of this second counted, 2 more allowed. */
	assert_int_equal(allowed(v, "193.0.2.1", DNS_RRL_NEGATIVE, NAME_A, 10, 7), 2);
	c.rate = 1;
	assert_int_equal(ip_prefix_parse("193.0.2.0/24", 12, &c.exempt[0]), 0);
	c.n_exempt = 1;
	struct dns_rrl *w = dns_rrl_view(r, &c);
	uint8_t ip[16];
	addr("193.0.2.1", ip);
	assert_true(dns_rrl_exempt(w, ip));
	assert_false(dns_rrl_exempt(v, ip));
	assert_int_equal(allowed(w, "193.0.2.1", DNS_RRL_NEGATIVE, NAME_A, 10, 7), 0);
	dns_rrl_free(w);
	dns_rrl_free(v); /* a view's free leaves the table's slots */
	assert_int_equal(allowed(r, "193.0.2.1", DNS_RRL_NEGATIVE, NAME_A, 10, 8), 3);
	dns_rrl_free(r);
}

static void test_exempt_and_ipv6_prefix(void **state)
{
	(void)state;
	struct dns_rrl *r = rrl_make(1, "204.0.113.0/24");
	uint8_t ip[16], p1[16], p2[16];
	addr("204.0.113.9", ip);
	assert_true(dns_rrl_exempt(r, ip));
	addr("204.0.114.9", ip);
	assert_false(dns_rrl_exempt(r, ip));
	/* IPv6 by /56: ::ff in byte 7 is inside, byte 6 is another prefix. */
	addr("2a01:db8:0:100::1", ip);
	dns_client_prefix(ip, 24, 56, p1);
	addr("2a01:db8:0:1ff:ffff::2", ip);
	dns_client_prefix(ip, 24, 56, p2);
	assert_memory_equal(p1, p2, 16);
	addr("2a01:db8:0:200::1", ip);
	dns_client_prefix(ip, 24, 56, p2);
	assert_memory_not_equal(p1, p2, 16);
	dns_rrl_free(r);
}

static void test_slip_answer(void **state)
{
	(void)state;
	/* An NXDOMAIN with an SOA and OPT, cut down to header + question with TC=1. */
	uint8_t m[64] = {0x12, 0x34, 0x84, 0x03, 0, 1, 0, 0, 0, 1, 0, 1};
	struct dns_answer_info info = {.cls = DNS_RRL_NEGATIVE, .question_end = 12 + 9};
	size_t n = dns_answer_slip(m, &info);
	assert_int_equal(n, 21);
	assert_int_equal(m[2] & 0x02, 0x02);
	assert_int_equal(m[3] & 0x0F, 3);
	assert_int_equal(m[5], 1);
	assert_int_equal(m[7] | m[9] | m[11], 0);
}

/* ---- the usage sketch -------------------------------------------------------------- */

static void test_usage_counts_and_new_day(void **state)
{
	(void)state;
	struct dns_usage *u = dns_usage_new();
	uint8_t a[16], b[16];
	assert_non_null(u);
	addr("193.0.2.0", a);
	addr("193.0.3.0", b);
	for (unsigned i = 1; i <= 100; i++)
		assert_int_equal(dns_usage_count(u, a, 20000), i);
	/* Never below the truth; with one other key in 65536 counters per row, exact. */
	assert_int_equal(dns_usage_count(u, b, 20000), 1);
	assert_int_equal(dns_usage_count(u, a, 20000), 101);
	/* The next day starts anew; an earlier day does not go back. */
	assert_int_equal(dns_usage_count(u, a, 20001), 1);
	assert_int_equal(dns_usage_count(u, a, 20000), 2);
	dns_usage_free(u);
}

static void test_usage_error_bound(void **state)
{
	(void)state;
	/* 200,000 queries from 20,000 prefixes (10 each): a prefix's estimate is never below
	 * 10 and above it by more than e*N/width (e * 200000 / 65536 = 8.3) for at most
	 * about e^-4 (1.8%) of them. */
	struct dns_usage *u = dns_usage_new();
	uint8_t p[16];
	unsigned over = 0;
	for (unsigned k = 0; k < 10; k++)
		for (uint32_t i = 0; i < 20000; i++) {
			ip_from_v4(0xC1000000u | (i << 8), p);
			uint32_t v = dns_usage_count(u, p, 1);
			assert_true(v >= k + 1);
		}
	for (uint32_t i = 0; i < 20000; i++) {
		ip_from_v4(0xC1000000u | (i << 8), p);
		uint32_t v = dns_usage_count(u, p, 1) - 1;
		over += v > 10 + 9;
	}
	assert_true(over <= 20000 / 50);
	dns_usage_free(u);
}

/* ---- the prefix set ------------------------------------------------------------------ */

static void test_prefix_set(void **state)
{
	(void)state;
	char path[] = "/tmp/test_dns_rrl.XXXXXX", err[256];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# resolvers\n199.18.0.0/16\n  204.0.113.7 # one\n\n2a01:db8::/32\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct dns_prefix_set *s = NULL;
	assert_int_equal(dns_prefix_set_load(path, &s, err, sizeof err), 0);
	assert_int_equal(dns_prefix_set_count(s), 3);
	uint8_t ip[16];
	addr("199.18.77.1", ip);
	assert_true(dns_prefix_set_has(s, ip));
	addr("199.19.0.1", ip);
	assert_false(dns_prefix_set_has(s, ip));
	addr("204.0.113.7", ip);
	assert_true(dns_prefix_set_has(s, ip));
	addr("204.0.113.8", ip);
	assert_false(dns_prefix_set_has(s, ip));
	addr("2a01:db8:5::1", ip);
	assert_true(dns_prefix_set_has(s, ip));
	dns_prefix_set_free(s);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "199.18.0.0/16\n199.18.0.1/16\n", 28), 28);
	close(fd);
	assert_int_equal(dns_prefix_set_load(path, &s, err, sizeof err), DNS_EINVAL);
	assert_non_null(strstr(err, ":2:"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step_counts_to_rate),
		cmocka_unit_test(test_step_other_tag_takes_over),
		cmocka_unit_test(test_step_saturates),
		cmocka_unit_test(test_table_per_prefix_class_name),
		cmocka_unit_test(test_table_zone_and_errors_per_prefix),
		cmocka_unit_test(test_view_keeps_counts),
		cmocka_unit_test(test_exempt_and_ipv6_prefix),
		cmocka_unit_test(test_slip_answer),
		cmocka_unit_test(test_usage_counts_and_new_day),
		cmocka_unit_test(test_usage_error_bound),
		cmocka_unit_test(test_prefix_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
