/* test_base.c - unit tests of src/base: errors, IP addresses and prefixes, socket addresses, time,
 * growable arrays, the config schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "base/base.h"

static void test_ip4_parse(void **state)
{
	uint32_t ip;
	assert_int_equal(ip4_parse("1.2.3.4", 7, &ip), 0);
	assert_int_equal(ip, 0x01020304);
	assert_int_equal(ip4_parse("255.255.255.255", 15, &ip), 0);
	assert_int_equal(ip, 0xffffffff);
	assert_int_equal(ip4_parse("0.0.0.0", 7, &ip), 0);
	assert_int_equal(ip, 0);
	/* Only the first len bytes count: the file reader passes unterminated text. */
	assert_int_equal(ip4_parse("10.0.0.1/24", 8, &ip), 0);
	assert_int_equal(ip, 0x0a000001);
	const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1..3.4",
			     "1.2.3.4 ", "a.b.c.d", "1.2.3.0004", "1.2.3.4/", "010.0.0.1",
			     "10.0.0.01", "00.0.0.0", "1.2.3.+4"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ip4_parse(bad[i], strlen(bad[i]), &ip), BASE_EINVAL);
}

static void test_ip_format(void **state)
{
	char buf[IP6_STRLEN];
	assert_int_equal(ip4_format(0x7f000002, buf), 9);
	assert_string_equal(buf, "127.0.0.2");
	ip4_format(0xc0a8640a, buf);
	assert_string_equal(buf, "192.168.100.10");
	uint8_t a6[16];
	assert_int_equal(ip6_parse("2001:DB8::1", 11, a6), 0);
	ip6_format(a6, buf);
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(ip6_parse("2001:db8::/64", 13, a6), BASE_EINVAL);
	assert_int_equal(ip6_parse("", 0, a6), BASE_EINVAL);
}

static void test_ip6_format_rfc5952(void **state)
{
	/* RFC 5952: lowercase, no leading zeros, the longest zero run (the first on a tie,
	 * never a single group) as "::", mapped addresses as a dotted quad. */
	const char *cases[][2] = {
		{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
		{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
		{"0:0:0:0:0:0:0:0", "::"},
		{"::1", "::1"},
		{"::102:304", "::102:304"},
		{"::ffff:10.0.0.1", "::ffff:10.0.0.1"},
		{"fe80:0:0:0:1::", "fe80::1:0:0:0"},
	};
	char buf[IP6_STRLEN];
	uint8_t a[16];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ip6_parse(cases[i][0], strlen(cases[i][0]), a), 0);
		assert_int_equal(ip6_format(a, buf), strlen(cases[i][1]));
		assert_string_equal(buf, cases[i][1]);
	}
}

static void test_ip_any_family(void **state)
{
	uint8_t a[16], b[16];
	char buf[IP_STRLEN];
	assert_int_equal(ip_parse("192.0.2.1", 9, a), 0);
	assert_true(ip_is_v4(a));
	assert_int_equal(ip_v4(a), 0xc0000201);
	ip_from_v4(0xc0000201, b);
	assert_memory_equal(a, b, 16);
	/* The IPv6 text of a mapped address is the same address, shown as its dotted quad. */
	assert_int_equal(ip_parse("::ffff:192.0.2.1", 16, b), 0);
	assert_memory_equal(a, b, 16);
	assert_int_equal(ip_format(b, buf), 9);
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(ip_parse("2001:db8::7", 11, a), 0);
	assert_false(ip_is_v4(a));
	ip_format(a, buf);
	assert_string_equal(buf, "2001:db8::7");
	const char *bad[] = {"", "192.0.2.0/24", "2001:db8::/32", "example.org", "1.2.3.4 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ip_parse(bad[i], strlen(bad[i]), a), BASE_EINVAL);
}

/* Limits per client count an IPv4 address whole and an IPv6 address by its /64. */
static void test_ip_client_key(void **state)
{
	(void)state;
	uint8_t ip[16], k[16], want[16];
	char buf[IP_PREFIX_STRLEN];
	assert_int_equal(ip_parse("192.0.2.7", 9, ip), 0);
	ip_client_key(ip, k);
	assert_memory_equal(k, ip, 16);
	ip_client_format(k, buf);
	assert_string_equal(buf, "192.0.2.7");
	assert_int_equal(ip_parse("2001:db8:1:2:3:4:5:6", 20, ip), 0);
	ip_client_key(ip, k);
	assert_int_equal(ip_parse("2001:db8:1:2::", 14, want), 0);
	assert_memory_equal(k, want, 16);
	ip_client_format(k, buf);
	assert_string_equal(buf, "2001:db8:1:2::/64");
	/* Two addresses of one /64 are one client; the next /64 is another. */
	uint8_t a[16], b[16];
	assert_int_equal(ip_parse("2001:db8:1:2::ffff", 18, ip), 0);
	ip_client_key(ip, a);
	assert_memory_equal(a, want, 16);
	assert_int_equal(ip_parse("2001:db8:1:3::1", 15, ip), 0);
	ip_client_key(ip, b);
	assert_memory_not_equal(a, b, 16);
	/* ::1 (loopback) is its /64, ::/64; in place works. */
	assert_int_equal(ip_parse("::1", 3, ip), 0);
	ip_client_key(ip, ip);
	ip_client_format(ip, buf);
	assert_string_equal(buf, "::/64");
}

/* A socket address's IP in the 16-byte form, for either family. */
static void test_sockaddr_ip(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	uint8_t ip[16], want[16];
	assert_int_equal(sockaddr_parse("192.0.2.7:53", &ss, &len), 0);
	sockaddr_ip((const struct sockaddr *)&ss, ip);
	assert_int_equal(ip_parse("192.0.2.7", 9, want), 0);
	assert_memory_equal(ip, want, 16);
	assert_int_equal(sockaddr_parse("[2001:db8::9]:53", &ss, &len), 0);
	sockaddr_ip((const struct sockaddr *)&ss, ip);
	assert_int_equal(ip_parse("2001:db8::9", 11, want), 0);
	assert_memory_equal(ip, want, 16);
}

static void test_ip_prefix(void **state)
{
	struct ip_prefix p, q;
	char buf[IP_PREFIX_STRLEN];
	uint8_t ip[16];
	assert_int_equal(ip_prefix_parse("192.0.2.0/24", 12, &p), 0);
	assert_int_equal(p.plen, 96 + 24);
	assert_int_equal(ip_prefix_format(&p, buf, sizeof buf), 12);
	assert_string_equal(buf, "192.0.2.0/24");
	ip_parse("192.0.2.200", 11, ip);
	assert_true(ip_prefix_covers(&p, ip));
	ip_parse("192.0.3.1", 9, ip);
	assert_false(ip_prefix_covers(&p, ip));
	/* A bare address is one host; host bits set are a typo, not a wider prefix. */
	assert_int_equal(ip_prefix_parse("192.0.2.7", 9, &p), 0);
	assert_int_equal(p.plen, 128);
	ip_prefix_format(&p, buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.7/32");
	assert_int_equal(ip_prefix_parse("10.0.0.1/8", 10, &p), BASE_ERANGE);
	assert_int_equal(ip_prefix_parse("2001:db8::1/32", 14, &p), BASE_ERANGE);
	const char *bad[] = {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/a", "2001:db8::/129",
			     "10.0.0.0/0008", "/8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ip_prefix_parse(bad[i], strlen(bad[i]), &p), BASE_EINVAL);
	/* IPv6, and a prefix of mapped space wider than IPv4 stays in IPv6 form. */
	assert_int_equal(ip_prefix_parse("2001:db8::/32", 13, &p), 0);
	ip_prefix_format(&p, buf, sizeof buf);
	assert_string_equal(buf, "2001:db8::/32");
	assert_int_equal(ip_prefix_parse("::ffff:0.0.0.0/96", 17, &p), 0);
	assert_int_equal(p.plen, 96);
	ip_prefix_format(&p, buf, sizeof buf);
	assert_string_equal(buf, "0.0.0.0/0");
	assert_int_equal(ip_prefix_parse("::/80", 5, &p), 0);
	ip_prefix_format(&p, buf, sizeof buf);
	assert_string_equal(buf, "::/80");
	/* Order: by address, then the shorter prefix first. */
	ip_prefix_parse("10.0.0.0/8", 10, &p);
	ip_prefix_parse("10.0.0.0/16", 11, &q);
	assert_true(ip_prefix_cmp(&p, &q) < 0);
	assert_true(ip_prefix_cmp(&q, &p) > 0);
	assert_int_equal(ip_prefix_cmp(&p, &p), 0);
	ip_prefix_parse("9.255.0.0/16", 12, &q);
	assert_true(ip_prefix_cmp(&q, &p) < 0);
	/* A small cap truncates, never overruns. */
	char tiny[6];
	ip_prefix_format(&p, tiny, sizeof tiny);
	assert_string_equal(tiny, "10.0.");
}

static void test_time_iso8601(void **state)
{
	int64_t t;
	char buf[TIME_STRLEN];
	assert_int_equal(time_parse_iso8601("2026-11-21T10:00:00Z", &t), 0);
	assert_int_equal(t, 1795255200);
	assert_int_equal(time_format_iso8601(t, buf), 20);
	assert_string_equal(buf, "2026-11-21T10:00:00Z");
	assert_int_equal(time_parse_iso8601("2026-11-21T12:30:00+02:30", &t), 0);
	assert_int_equal(t, 1795255200);
	assert_int_equal(time_parse_iso8601("2026-11-21", &t), 0);
	assert_int_equal(t, 1795219200);
	assert_int_equal(time_parse_iso8601("2024-02-29T00:00:00Z", &t), 0);
	time_format_iso8601(t, buf);
	assert_string_equal(buf, "2024-02-29T00:00:00Z");
	assert_int_equal(time_parse_iso8601("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	/* Before the epoch: well-formed but out of range. */
	assert_int_equal(time_parse_iso8601("1969-12-31T23:59:59Z", &t), BASE_ERANGE);
	const char *bad[] = {"2026-02-29T00:00:00Z", "2026-02-31", "2026-13-01", "2026-11-21T10:00:00",
			     "2026-11-21 10:00:00Z", "2026-11-21T24:00:00Z", "tomorrow", "",
			     "2026-11-21T10:00:00+2:00", "2100-02-29"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(time_parse_iso8601(bad[i], &t), BASE_EINVAL);
	/* Every day of 600 years formats and parses back to itself, and agrees with gmtime. */
	for (int64_t d = 0; d < 600 * 366; d += 1) {
		int64_t s = d * 86400 + (d * 7919) % 86400, back;
		time_format_iso8601(s, buf);
		assert_int_equal(time_parse_iso8601(buf, &back), 0);
		assert_int_equal(back, s);
		if (d % 97 == 0) {
			time_t tt = (time_t)s;
			struct tm tm;
			char ref[TIME_STRLEN];
			gmtime_r(&tt, &tm);
			strftime(ref, sizeof ref, "%Y-%m-%dT%H:%M:%SZ", &tm);
			assert_string_equal(buf, ref);
		}
	}
}

static void test_time_now_test_clock(void **state)
{
	char path[] = "/tmp/test_base_clockXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "1795255200\n", 11), 11);
	close(fd);
	assert_false(time_now_is_test_clock());
	/* Between two readings of the wall clock, however long the machine kept us waiting. */
	int64_t before = time_wall_s(), wall = time_now(), after = time_wall_s();
	assert_true(before <= wall && wall <= after);
	setenv("TRAPLINE_TEST_CLOCK", path, 1);
	assert_true(time_now_is_test_clock());
	assert_int_equal(time_now(), 1795255200);
	FILE *f = fopen(path, "w");
	fprintf(f, "1795341600");
	fclose(f);
	assert_int_equal(time_now(), 1795341600); /* re-read at each call */
	unsetenv("TRAPLINE_TEST_CLOCK");
	unlink(path);
}

static void test_array_grow(void **state)
{
	uint32_t *v = NULL;
	size_t cap = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(array_grow((void **)&v, &cap, i + 1, sizeof *v), 0);
		assert_true(cap >= i + 1);
		v[i] = i;
	}
	assert_int_equal(cap, 1024);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], i);
	/* Too much to ever allocate (its size overflows): an error, and the array is as it was. */
	assert_int_equal(array_grow((void **)&v, &cap, SIZE_MAX / 2, sizeof *v), BASE_ENOMEM);
	assert_int_equal(array_grow((void **)&v, &cap, SIZE_MAX, sizeof *v), BASE_ENOMEM);
	assert_int_equal(cap, 1024);
	assert_int_equal(v[999], 999);
	free(v);
}

/* ---- the special-purpose table ---------------------------------------------------------- */

/* The address n steps from ip (as a 128-bit number; wraps). */
static void ip_step(const uint8_t ip[16], int n, uint8_t out[16])
{
	memcpy(out, ip, 16);
	for (int k = 15; k >= 0 && n != 0; k--) {
		int v = out[k] + n;
		n = v < 0 ? -1 : v > 255 ? 1 : 0;
		out[k] = (uint8_t)(v & 0xff);
	}
}

/* The last address of p. */
static void prefix_last(const struct ip_prefix *p, uint8_t out[16])
{
	memcpy(out, p->addr, 16);
	for (unsigned bit = p->plen; bit < 128; bit++)
		out[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
}

static const char *ip_text(const uint8_t ip[16], char buf[IP_STRLEN])
{
	ip_format(ip, buf);
	return buf;
}

/* Every row: its first and last address are in it (the row, or a sub-block of it listed
 * before it, names them), the addresses just outside are not (public, or another row that
 * covers them). The rows that embed IPv4 are judged by the embedded address instead. */
static void test_special_rows(void **state)
{
	(void)state;
	size_t n;
	const struct ip_special *t = ip_special_table(&n);
	assert_true(n >= 45);
	for (size_t i = 0; i < n; i++) {
		const struct ip_special *r = &t[i];
		char a[IP_STRLEN], pre[IP_PREFIX_STRLEN];
		ip_prefix_format(&r->prefix, pre, sizeof pre);
		assert_true(ip_prefix_valid(&r->prefix));
		assert_non_null(r->name);
		assert_int_equal(strncmp(r->rfc, "RFC ", 4), 0);
		if (r->v4_at)
			continue;
		uint8_t first[16], last[16], before[16], after[16];
		memcpy(first, r->prefix.addr, 16);
		prefix_last(&r->prefix, last);
		ip_step(first, -1, before);
		ip_step(last, 1, after);
		const uint8_t *in[] = {first, last};
		for (int k = 0; k < 2; k++) {
			const struct ip_special *got = ip_special_find(in[k], NULL);
			if (!got || !ip_prefix_covers(&r->prefix, got->prefix.addr) ||
			    got->prefix.plen < r->prefix.plen || got > r)
				fail_msg("%s (%s): %s is not found in it", pre, r->name,
					 ip_text(in[k], a));
		}
		const uint8_t *out[] = {before, after};
		for (int k = 0; k < 2; k++) {
			/* The first row's before and the last's after wrap round the family. */
			if (ip_is_v4(out[k]) != ip_is_v4(r->prefix.addr))
				continue;
			const struct ip_special *got = ip_special_find(out[k], NULL);
			if (got == r || (got && !ip_prefix_covers(&got->prefix, out[k])))
				fail_msg("%s (%s): %s, just outside, is taken for it", pre, r->name,
					 ip_text(out[k], a));
		}
	}
}

/* What the registries leave public right beside their ranges, and what they keep: by name. */
static void test_special_public_and_not(void **state)
{
	(void)state;
	const char *public[] = {
		"9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
		"128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
		"191.255.255.255", "192.0.1.0", "192.0.3.0", "192.31.195.255", "192.31.197.0",
		"192.52.192.255", "192.52.194.0", "192.88.98.255", "192.88.100.0", "192.167.255.255",
		"192.169.0.0", "192.175.47.255", "192.175.49.0", "198.17.255.255", "198.20.0.0",
		"198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0", "223.255.255.255",
		"::2", "64:ff9b::808:808", "2001:200::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:db9::", "2002:808:808::1", "2620:4f:7fff:ffff:ffff:ffff:ffff:ffff",
		"2620:4f:8001::", "3ffe:ffff::", "3fff:1000::", "5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"5f01::", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::1",
	};
	for (size_t i = 0; i < sizeof public / sizeof public[0]; i++) {
		uint8_t ip[16];
		char why[256];
		assert_int_equal(ip_parse(public[i], strlen(public[i]), ip), 0);
		if (ip_special_find(ip, NULL) || ip_special_describe(ip, why, sizeof why))
			fail_msg("%s is public, not %s", public[i], why);
		assert_null(ip_never_sends(ip));
	}
	const struct {
		const char *ip, *why, *never;
	} special[] = {
		{"0.0.0.0", "0.0.0.0 is in 0.0.0.0/8, \"This network\" (RFC 791)", "this network"},
		{"10.1.2.3", "10.1.2.3 is in 10.0.0.0/8, Private-Use (RFC 1918)", NULL},
		{"100.64.0.0", "100.64.0.0 is in 100.64.0.0/10, Shared Address Space (RFC 6598)", NULL},
		{"127.0.0.2", "127.0.0.2 is in 127.0.0.0/8, Loopback (RFC 1122)", NULL},
		{"192.0.0.8", "192.0.0.8 is in 192.0.0.8/32, IPv4 dummy address (RFC 7600)", NULL},
		{"192.0.0.171", "192.0.0.171 is in 192.0.0.170/31, NAT64/DNS64 Discovery (RFC 8880)", NULL},
		{"192.0.0.100", "192.0.0.100 is in 192.0.0.0/24, IETF Protocol Assignments (RFC 6890)", NULL},
		{"192.31.196.1", "192.31.196.1 is in 192.31.196.0/24, AS112-v4 (RFC 7535)", NULL},
		{"192.52.193.1", "192.52.193.1 is in 192.52.193.0/24, AMT (RFC 7450)", NULL},
		{"192.88.99.2", "192.88.99.2 is in 192.88.99.0/24, Deprecated (6to4 Relay Anycast) (RFC 7526)", NULL},
		{"192.175.48.6", "192.175.48.6 is in 192.175.48.0/24, Direct Delegation AS112 Service (RFC 7534)", NULL},
		{"198.19.255.255", "198.19.255.255 is in 198.18.0.0/15, Benchmarking (RFC 2544)", NULL},
		{"198.51.100.7", "198.51.100.7 is in 198.51.100.0/24, Documentation (TEST-NET-2) (RFC 5737)", NULL},
		{"203.0.113.0", "203.0.113.0 is in 203.0.113.0/24, Documentation (TEST-NET-3) (RFC 5737)", NULL},
		{"224.0.0.1", "224.0.0.1 is in 224.0.0.0/4, Multicast (RFC 5771)", "multicast"},
		{"240.0.0.1", "240.0.0.1 is in 240.0.0.0/4, Reserved (RFC 1112)", "reserved"},
		{"255.255.255.255", "255.255.255.255 is in 255.255.255.255/32, Limited Broadcast (RFC 919)", "broadcast"},
		{"::", ":: is in ::/128, Unspecified Address (RFC 4291)", "unspecified"},
		{"::1", "::1 is in ::1/128, Loopback Address (RFC 4291)", NULL},
		{"::ffff:192.168.7.7", "192.168.7.7 is in 192.168.0.0/16, Private-Use (RFC 1918)", NULL},
		{"64:ff9b::a00:1", "64:ff9b::a00:1 is the IPv4-IPv6 Translation (NAT64) form (64:ff9b::/96, RFC 6052) of 10.0.0.1, which is in 10.0.0.0/8, Private-Use (RFC 1918)", NULL},
		{"64:ff9b::e000:1", "of 224.0.0.1, which is in 224.0.0.0/4, Multicast (RFC 5771)", "multicast"},
		{"64:ff9b:1::8.8.8.8", "is in 64:ff9b:1::/48, IPv4-IPv6 Translation (local use) (RFC 8215)", NULL},
		{"100::1", "100::1 is in 100::/64, Discard-Only Address Block (RFC 6666)", NULL},
		{"100:0:0:1::1", "100:0:0:1::1 is in 100:0:0:1::/64, Dummy IPv6 Prefix (RFC 9780)", NULL},
		{"2001::1", "2001::1 is in 2001::/32, TEREDO (RFC 4380)", NULL},
		{"2001:1::1", "2001:1::1 is in 2001:1::1/128, Port Control Protocol Anycast (RFC 7723)", NULL},
		{"2001:1::3", "DNS-SD Service Registration Protocol Anycast (RFC 9665)", NULL},
		{"2001:1::4", "2001:1::4 is in 2001::/23, IETF Protocol Assignments (RFC 2928)", NULL},
		{"2001:2::9", "2001:2::9 is in 2001:2::/48, Benchmarking (RFC 5180)", NULL},
		{"2001:3::1", "is in 2001:3::/32, AMT (RFC 7450)", NULL},
		{"2001:4:112::1", "is in 2001:4:112::/48, AS112-v6 (RFC 7535)", NULL},
		{"2001:10::1", "is in 2001:10::/28, Deprecated (previously ORCHID) (RFC 4843)", NULL},
		{"2001:2f::1", "is in 2001:20::/28, ORCHIDv2 (RFC 7343)", NULL},
		{"2001:30::1", "is in 2001:30::/28, Drone Remote ID Protocol Entity Tags (DETs) Prefix (RFC 9374)", NULL},
		{"2001:1ff:ffff::1", "is in 2001::/23, IETF Protocol Assignments (RFC 2928)", NULL},
		{"2001:db8:ffff::1", "is in 2001:db8::/32, Documentation (RFC 3849)", NULL},
		{"2002:c0a8:101::1", "2002:c0a8:101::1 is the 6to4 form (2002::/16, RFC 3056) of 192.168.1.1, which is in 192.168.0.0/16, Private-Use (RFC 1918)", NULL},
		{"2002:7f00:1::", "of 127.0.0.1, which is in 127.0.0.0/8, Loopback (RFC 1122)", NULL},
		{"2620:4f:8000::1", "is in 2620:4f:8000::/48, Direct Delegation AS112 Service (RFC 7534)", NULL},
		{"3fff:fff:ffff::1", "is in 3fff::/20, Documentation (RFC 9637)", NULL},
		{"5f00:1::1", "is in 5f00::/16, Segment Routing (SRv6) SIDs (RFC 9602)", NULL},
		{"fd00::1", "fd00::1 is in fc00::/7, Unique-Local (RFC 4193)", NULL},
		{"febf::1", "febf::1 is in fe80::/10, Link-Local Unicast (RFC 4291)", NULL},
		{"ff02::1", "ff02::1 is in ff00::/8, Multicast (RFC 4291)", "multicast"},
	};
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
		uint8_t ip[16];
		char why[256];
		assert_int_equal(ip_parse(special[i].ip, strlen(special[i].ip), ip), 0);
		assert_non_null(ip_special_find(ip, NULL));
		assert_true(ip_special_describe(ip, why, sizeof why));
		if (!strstr(why, special[i].why))
			fail_msg("%s: %s", special[i].ip, why);
		const char *never = ip_never_sends(ip);
		if (!special[i].never != !never ||
		    (never && !strstr(never, special[i].never)))
			fail_msg("%s never sends: %s", special[i].ip, never ? never : "(null)");
	}
	/* The embedding range is said, the embedded one returned. */
	uint8_t ip[16];
	const struct ip_special *outer;
	assert_int_equal(ip_parse("2002:a00:1::", 12, ip), 0);
	const struct ip_special *r = ip_special_find(ip, &outer);
	assert_non_null(r);
	assert_non_null(outer);
	assert_string_equal(outer->name, "6to4");
	assert_string_equal(r->name, "Private-Use");
	assert_int_equal(ip_parse("10.0.0.1", 8, ip), 0);
	assert_non_null(ip_special_find(ip, &outer));
	assert_null(outer);
	/* A buffer too small is cut, never overrun. */
	char small[8];
	assert_true(ip_special_describe(ip, small, sizeof small));
	assert_int_equal(strlen(small), 7);
}

/* exclude_default: prefixes and the word special-purpose, which is the default. */
static void test_config_exclusions(void **state)
{
	(void)state;
	struct ip_prefix out[CONFIG_PREFIX_MAX];
	unsigned n = 99;
	bool special = false;
	char err[CONFIG_ERR_MAX];
	struct config *c = malloc(sizeof *c);
	assert_non_null(c);
	config_defaults(c);
	assert_string_equal(c->exclude_default, "special-purpose");
	assert_int_equal(config_exclusions_parse(c->exclude_default, out, CONFIG_PREFIX_MAX, &n,
						 &special, err, sizeof err), 0);
	assert_true(special);
	assert_int_equal(n, 0);
	assert_int_equal(config_exclusions_parse("193.0.2.0/24, special-purpose  2a01:db8::/32", out,
						 CONFIG_PREFIX_MAX, &n, &special, err, sizeof err), 0);
	assert_true(special);
	assert_int_equal(n, 2);
	assert_int_equal(out[1].plen, 32);
	assert_int_equal(config_exclusions_parse("10.0.0.0/8", out, CONFIG_PREFIX_MAX, &n, &special,
						 err, sizeof err), 0);
	assert_false(special);
	assert_int_equal(n, 1);
	assert_int_equal(config_exclusions_parse("", out, CONFIG_PREFIX_MAX, &n, &special, err,
						 sizeof err), 0);
	assert_false(special);
	assert_int_equal(n, 0);
	assert_int_equal(config_set(c, "exclude_default", "special", err, sizeof err), BASE_EINVAL);
	assert_non_null(strstr(err, "'special' is not ADDR/LEN (nor the word special-purpose)"));
	assert_int_equal(config_set(c, "exclude_default", "special-purpose, 10.0.0.1/8", err,
				    sizeof err), BASE_EINVAL);
	assert_non_null(strstr(err, "host bits"));
	assert_int_equal(config_set(c, "policy_min_reporters", "0", err, sizeof err), BASE_EINVAL);
	assert_int_equal(config_set(c, "policy_min_reporters", "3", err, sizeof err), 0);
	assert_int_equal(c->policy_min_reporters, 3);
	free(c);
}

/* rbldnsd's IPv4 ranges and the prefixes that cover them. */
static void test_ip4_range(void **state)
{
	(void)state;
	uint32_t a, b;
	assert_int_equal(ip4_range_parse("10.0.0.1-10.0.0.9", 17, &a, &b), 0);
	assert_int_equal(a, 0x0a000001);
	assert_int_equal(b, 0x0a000009);
	assert_int_equal(ip4_range_parse("10.0.0.1-9", 10, &a, &b), 0);
	assert_int_equal(b, 0x0a000009);
	assert_int_equal(ip4_range_parse("10.0.0.9-1", 10, &a, &b), BASE_ERANGE);
	assert_int_equal(ip4_range_parse("10.0.1.0-10.0.0.255", 19, &a, &b), BASE_ERANGE);
	const char *bad[] = {"10.0.0.1", "10.0.0.1-", "-10.0.0.1", "10.0.0.1-256", "10.0.0.1-09",
			     "10.0.0.1-10.0.0", "10.0.0-5", "10.0.0.1--2", "10.0.0.1-+2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ip4_range_parse(bad[i], strlen(bad[i]), &a, &b), BASE_EINVAL);
	struct ip_prefix p[64];
	assert_int_equal(ip4_range_prefixes(0, 0xffffffffu, p, 64), 1);
	assert_int_equal(p[0].plen, 96);
	assert_int_equal(ip4_range_prefixes(0x0a000001, 0x0a000009, p, 64), 4); /* /32 /31 /30 /31 */
	assert_int_equal(ip4_range_prefixes(0x00000001, 0xfffffffe, p, 64), 62);
	assert_int_equal(ip4_range_prefixes(0x00000001, 0xfffffffe, p, 61), 0);
	assert_int_equal(ip4_range_prefixes(7, 7, p, 1), 1);
	assert_int_equal(p[0].plen, 128);
}

static void test_error_space(void **state)
{
	/* One space: every code has its own name, so a code passed up from another module is
	 * still named right. */
	const char *names[32];
	int n = 0;
	for (int e = TL_OK; e >= TL_ESPECIAL; e--) {
		names[n] = tl_strerror(e);
		assert_string_not_equal(names[n], "unknown error");
		for (int k = 0; k < n; k++)
			assert_string_not_equal(names[k], names[n]);
		n++;
	}
	assert_string_equal(tl_strerror(TL_ESPECIAL - 1), "unknown error");
	assert_string_equal(tl_strerror(1), "unknown error");
}

static void test_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64];
	assert_int_equal(sockaddr_parse("127.0.0.1:5353", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	sockaddr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:5353");
	assert_int_equal(sockaddr_parse("[::1]:53", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	sockaddr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:53");
	const char *bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:53", "[::1]53",
			     "localhost:53", "1.2.3.4:5x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sockaddr_parse(bad[i], &ss, &len), BASE_EINVAL);
}

static void test_config_defaults(void **state)
{
	struct config c;
	config_defaults(&c);
	assert_string_equal(c.dns_listen, "127.0.0.1:5353");
	assert_string_equal(c.zone, "bl.example.org");
	assert_string_equal(c.data_dir, "./var");
	assert_int_equal(c.answer_a, 0x7f000002);
	assert_int_equal(c.edns_udp_max, 1232);
	assert_non_null(strchr(c.answer_txt, '$'));
}

static void test_config_set(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	config_defaults(&c);
	assert_int_equal(config_set(&c, "threads", "4", err, sizeof(err)), 0);
	assert_int_equal(c.threads, 4);
	assert_int_equal(config_set(&c, "zone", "dnsbl.example.net.", err, sizeof(err)), 0);
	assert_string_equal(c.zone, "dnsbl.example.net");
	assert_int_equal(config_set(&c, "threads", "many", err, sizeof(err)), BASE_EINVAL);
	assert_non_null(strstr(err, "threads"));
	assert_int_equal(config_set(&c, "threads", "100000", err, sizeof(err)), BASE_EINVAL);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(config_set(&c, "nosuchkey", "1", err, sizeof(err)), BASE_EINVAL);
	assert_non_null(strstr(err, "unknown key"));
	assert_int_equal(config_set(&c, "zone", "bad..name", err, sizeof(err)), BASE_EINVAL);
	assert_int_equal(config_set(&c, "dns_listen", "127.0.0.1:53,[::1]:53", err, sizeof(err)),
			 0);
	assert_int_equal(config_set(&c, "dns_listen", "127.0.0.1", err, sizeof(err)), BASE_EINVAL);
	assert_non_null(strstr(err, "dns_listen"));
	assert_int_equal(config_set(&c, "answer_a", "127.0.0.4", err, sizeof(err)), 0);
	assert_int_equal(c.answer_a, 0x7f000004);
	assert_int_equal(config_set(&c, "log_level", "loud", err, sizeof(err)), BASE_EINVAL);
}

static void test_config_listen(void **state)
{
	struct sockaddr_storage a[4];
	socklen_t l[4];
	unsigned n;
	char err[CONFIG_ERR_MAX];
	assert_int_equal(config_listen_parse("127.0.0.1:53, [::1]:53", a, l, 4, &n, err,
					     sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a[1].ss_family, AF_INET6);
	assert_int_equal(config_listen_parse("", a, l, 4, &n, err, sizeof(err)), BASE_EINVAL);
	assert_int_equal(config_listen_parse("1.1.1.1:1,1.1.1.1:2,1.1.1.1:3", a, l, 2, &n, err,
					     sizeof(err)), BASE_EINVAL);
}

/* ns_addr: the syntax when the key is set, the relation to ns/soa_mname/zone in config_check. */
static void test_config_ns_addr(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	config_defaults(&c);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0); /* the default has none */
	assert_int_equal(config_set(&c, "ns_addr", "NS1.bl.example.org.=192.0.2.53, "
			 "ns1.bl.example.org=2001:db8::53", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0); /* ns1.<zone> by default */
	struct config_ns_addr a[4];
	unsigned n;
	assert_int_equal(config_ns_addr_parse(c.ns_addr, a, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].name, "ns1.bl.example.org");
	assert_false(a[0].v6);
	assert_int_equal(a[0].ip4, 0xC0000235);
	assert_true(a[1].v6);
	assert_int_equal(a[1].ip6[15], 0x53);

	assert_int_equal(config_set(&c, "ns_addr", "ns1.bl.example.org", err, sizeof(err)),
			 BASE_EINVAL);
	assert_non_null(strstr(err, "ns_addr"));
	assert_int_equal(config_set(&c, "ns_addr", "ns1.bl.example.org=1.2.3", err, sizeof(err)),
			 BASE_EINVAL);
	assert_int_equal(config_set(&c, "ns_addr", "bad..name=1.2.3.4", err, sizeof(err)),
			 BASE_EINVAL);

	/* Only the zone's own name servers, below the zone, not where addresses are named. */
	const char *bad[] = {"ns2.bl.example.org=192.0.2.1", "ns1.example.net=192.0.2.1",
			     "bl.example.org=192.0.2.1", "1.2.bl.example.org=192.0.2.1",
			     "ns1.bl.example.org=1.1.1.1,ns1.bl.example.org=1.1.1.2,"
			     "ns1.bl.example.org=1.1.1.3,ns1.bl.example.org=::1,"
			     "ns1.bl.example.org=::2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(config_set(&c, "ns_addr", bad[i], err, sizeof(err)), 0);
		err[0] = '\0';
		assert_int_equal(config_check(&c, err, sizeof(err)), BASE_EINVAL);
		assert_non_null(strstr(err, "ns_addr: "));
	}
	/* Named by ns or by soa_mname (both ns1.<zone> when empty). */
	assert_int_equal(config_set(&c, "ns", "ns2.bl.example.org., ns.example.net", err,
				    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "soa_mname", "ns.example.net", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "ns_addr", "ns2.bl.example.org=192.0.2.1", err,
				    sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "ns_addr", "ns1.bl.example.org=192.0.2.1", err,
				    sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), BASE_EINVAL);
	assert_int_equal(config_set(&c, "soa_mname", "ns1.bl.example.org", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	/* A change of zone (--zone after the file) is seen too. */
	assert_int_equal(config_set(&c, "zone", "other.example", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), BASE_EINVAL);
}

/* The trap's budget of message bytes must hold one message of the largest size. */
static void test_config_smtp_memory(void **state)
{
	(void)state;
	struct config c;
	char err[CONFIG_ERR_MAX];
	config_defaults(&c);
	assert_int_equal(c.smtp_memory_max, 256u << 20);
	assert_int_equal(c.smtp_data_min_rate, 1024);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "smtp_memory_max", "65535", err, sizeof(err)), BASE_EINVAL);
	assert_int_equal(config_set(&c, "smtp_memory_max", "4294967295", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "smtp_memory_max", "1048576", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), BASE_EINVAL);
	assert_non_null(strstr(err, "smtp_memory_max"));
	assert_int_equal(config_set(&c, "smtp_max_size", "1048576", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "smtp_data_min_rate", "0", err, sizeof(err)), 0);
}

static char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/trapline-test-base-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_config_file(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	config_defaults(&c);
	char *p = write_tmp("# comment\n\nzone = dnsbl.example.com\n  threads=2  \n"
			    "answer_txt = \"  spaced $  \"\n");
	assert_int_equal(config_load_file(&c, p, err, sizeof(err)), 0);
	assert_string_equal(c.zone, "dnsbl.example.com");
	assert_int_equal(c.threads, 2);
	assert_string_equal(c.answer_txt, "  spaced $  ");
	unlink(p);

	config_defaults(&c);
	p = write_tmp("zone = ok.example\nsoa_refresh = 0\n");
	assert_int_equal(config_load_file(&c, p, err, sizeof(err)), BASE_EINVAL);
	/* The message names the file, the line and the key. */
	assert_non_null(strstr(err, ":2: soa_refresh"));
	unlink(p);

	p = write_tmp("just words\n");
	assert_int_equal(config_load_file(&c, p, err, sizeof(err)), BASE_EINVAL);
	assert_non_null(strstr(err, ":1:"));
	unlink(p);

	assert_int_equal(config_load_file(&c, "/nonexistent/trapline.conf", err, sizeof(err)),
			 BASE_EIO);
}

/* etc/trapline.conf is generated from the schema; this keeps it from drifting. */
/* SIGHUP's view of the schema: which keys are live, which changed, what a reload keeps. */
static void test_config_reload_keys(void **state)
{
	(void)state;
	assert_true(config_key_live("answer_txt"));
	assert_true(config_key_live("policy_threshold"));
	assert_true(config_key_live("trap_domains"));
	assert_false(config_key_live("dns_listen"));
	assert_false(config_key_live("data_dir"));
	assert_false(config_key_live("user"));
	assert_false(config_key_live("no_such_key"));

	struct config *old = malloc(sizeof(*old)), *now = malloc(sizeof(*now));
	assert_non_null(old);
	assert_non_null(now);
	config_defaults(old);
	config_defaults(now);
	char names[256], err[CONFIG_ERR_MAX];
	assert_int_equal(0, config_changed(old, now, true, names, sizeof(names)));
	assert_int_equal(0, config_changed(old, now, false, names, sizeof(names)));
	assert_int_equal(BASE_OK, config_set(now, "answer_txt", "New $", err, sizeof(err)));
	assert_int_equal(BASE_OK, config_set(now, "policy_threshold", "7.5", err, sizeof(err)));
	assert_int_equal(BASE_OK, config_set(now, "dns_listen", "127.0.0.1:53", err, sizeof(err)));
	assert_int_equal(BASE_OK, config_set(now, "user", "other", err, sizeof(err)));
	assert_int_equal(2, config_changed(old, now, true, names, sizeof(names)));
	assert_string_equal("answer_txt,policy_threshold", names);
	assert_int_equal(2, config_changed(old, now, false, names, sizeof(names)));
	assert_string_equal("dns_listen,user", names);
	/* A reload keeps the running value of every key that is not live, takes the others. */
	config_keep_restart_keys(now, old);
	assert_string_equal("127.0.0.1:5353", now->dns_listen);
	assert_string_equal(old->user, now->user);
	assert_string_equal("New $", now->answer_txt);
	assert_true(now->policy_threshold == 7.5);
	assert_int_equal(0, config_changed(old, now, false, names, sizeof(names)));
	/* A short buffer cuts the names, the count stays. */
	assert_int_equal(BASE_OK, config_set(now, "dns_listen", "127.0.0.1:53", err, sizeof(err)));
	assert_int_equal(BASE_OK, config_set(now, "zone", "bl.example.net", err, sizeof(err)));
	assert_int_equal(2, config_changed(old, now, false, names, 12));
	assert_string_equal("dns_listen", names);
	free(old);
	free(now);
}

static void test_config_template_matches_etc(void **state)
{
	const char *src = getenv("TRAPLINE_SRC");
	if (!src)
		skip();
	char path[1024];
	snprintf(path, sizeof(path), "%s/etc/trapline.conf", src);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char want[65536];
	size_t n = fread(want, 1, sizeof(want) - 1, f);
	fclose(f);
	want[n] = '\0';
	char *got = NULL;
	size_t got_len = 0;
	FILE *m = open_memstream(&got, &got_len);
	config_template(m);
	fclose(m);
	if (strcmp(got, want) != 0)
		fail_msg("etc/trapline.conf differs from `trapline config-template`; regenerate it");
	/* And the template itself is a valid config file. */
	struct config c;
	char err[CONFIG_ERR_MAX];
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4_parse),
		cmocka_unit_test(test_ip_format),
		cmocka_unit_test(test_ip6_format_rfc5952),
		cmocka_unit_test(test_ip_any_family),
		cmocka_unit_test(test_ip_client_key),
		cmocka_unit_test(test_sockaddr_ip),
		cmocka_unit_test(test_ip_prefix),
		cmocka_unit_test(test_time_iso8601),
		cmocka_unit_test(test_time_now_test_clock),
		cmocka_unit_test(test_array_grow),
		cmocka_unit_test(test_error_space),
		cmocka_unit_test(test_special_rows),
		cmocka_unit_test(test_special_public_and_not),
		cmocka_unit_test(test_config_exclusions),
		cmocka_unit_test(test_ip4_range),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_set),
		cmocka_unit_test(test_config_listen),
		cmocka_unit_test(test_config_ns_addr),
		cmocka_unit_test(test_config_smtp_memory),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_config_template_matches_etc),
		cmocka_unit_test(test_config_reload_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
