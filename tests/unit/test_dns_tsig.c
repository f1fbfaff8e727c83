/* test_dns_tsig.c - unit tests of TSIG (RFC 8945) and the transfer request parser: HMAC-SHA256
 * against RFC 4231's vectors, the key's form, a signed request checked, and every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* RFC 4231 4.2-4.8: HMAC-SHA-256 of each test case (4.7's truncated case left out). */
static void test_hmac_rfc4231(void **state)
{
	(void)state;
	static const struct {
		const char *key, *data, *mac;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		  "dddddddddddddddddd",
		  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819",
		  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
		  "cdcdcdcdcdcdcdcdcd",
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ "AA131",
		  "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d20"
		  "48617368204b6579204669727374",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ "AA131",
		  "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b"
		  "2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a652064"
		  "6174612e20546865206b6579206e6565647320746f20626520686173686564206265666f72652062"
		  "65696e6720757365642062792074686520484d414320616c676f726974686d2e",
		  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t key[200], data[300], want[32], got[32];
		size_t kl, dl = unhex(v[i].data, data);
		if (strcmp(v[i].key, "AA131") == 0) /* 4.7, 4.8: 131 bytes of 0xaa */
			memset(key, 0xaa, kl = 131);
		else
			kl = unhex(v[i].key, key);
		unhex(v[i].mac, want);
		assert_int_equal(dns_hmac_sha256(key, kl, data, dl, got), DNS_OK);
		assert_memory_equal(got, want, 32);
	}
}

static void test_key_form(void **state)
{
	(void)state;
	struct dns_tsig_key k;
	char err[256];
	assert_int_equal(dns_tsig_key_from("", &k, err, sizeof err), DNS_OK);
	assert_false(k.set);
	assert_int_equal(dns_tsig_key_from("hmac-sha256:Xfr.Key.:c2VjcmV0", &k, err, sizeof err),
			 DNS_OK);
	assert_true(k.set);
	assert_string_equal(k.name, "Xfr.Key");
	assert_int_equal(k.secret_len, 6);
	assert_memory_equal(k.secret, "secret", 6);
	assert_memory_equal(k.name_wire, "\3xfr\3key", 9); /* canonical: lowercase */
	assert_int_equal(dns_tsig_key_from("hmac-md5:k:c2VjcmV0", &k, err, sizeof err), DNS_EINVAL);
	assert_int_equal(dns_tsig_key_from("hmac-sha256:k:not base64!", &k, err, sizeof err),
			 DNS_EINVAL);
	assert_int_equal(dns_tsig_key_from("hmac-sha256::c2VjcmV0", &k, err, sizeof err),
			 DNS_EINVAL);
	assert_int_equal(dns_tsig_key_from("hmac-sha256:k", &k, err, sizeof err), DNS_EINVAL);
}

/* An AXFR query for bl.example.org with id 0x1234. */
static size_t axfr_query(uint8_t *m)
{
	static const uint8_t q[] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				     2, 'b', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				     3, 'o', 'r', 'g', 0, 0, 252, 0, 1 };
	memcpy(m, q, sizeof q);
	return sizeof q;
}

static void key_of(struct dns_tsig_key *k, const char *text)
{
	char err[256];
	assert_int_equal(dns_tsig_key_from(text, k, err, sizeof err), DNS_OK);
}

/* A request we sign verifies with the key; its answer signed back verifies as the client
 * would check it; every error has its rcode and TSIG error. */
static void test_verify(void **state)
{
	(void)state;
	struct dns_tsig_key k, other_secret, other_name;
	key_of(&k, "hmac-sha256:xfr-key:c2VjcmV0c2VjcmV0c2VjcmV0");
	key_of(&other_secret, "hmac-sha256:xfr-key:b3RoZXJvdGhlcg==");
	key_of(&other_name, "hmac-sha256:other-key:c2VjcmV0c2VjcmV0c2VjcmV0");
	uint8_t m[1024];
	struct dns_tsig_state client, server;
	const char *why = NULL;
	int64_t now = 1800000000;

	size_t len = dns_tsig_sign_request(&k, m, axfr_query(m), sizeof m, now, &client);
	assert_true(len > 32);
	struct dns_xfr_req r;
	assert_int_equal(dns_xfr_parse(m, len, &r), DNS_OK);
	assert_int_equal(r.qtype, 252);
	assert_int_equal(r.tsig_off, 32);
	assert_int_equal(dns_tsig_verify(&k, m, len, r.tsig_off, now + 10, &server, &why),
			 DNS_RCODE_NOERROR);
	assert_true(server.on && server.signing);

	/* The answer: the query turned into a response, signed, checked as a client would. */
	uint8_t a[1024];
	memcpy(a, m, 32);
	a[2] = 0x84;
	a[11] = 0;
	size_t alen = dns_tsig_sign(&server, a, 32, sizeof a);
	assert_true(alen > 32);
	assert_true(dns_tsig_check_answer(&client, a, alen));
	a[20] ^= 1; /* one bit of the answer changed: the MAC no longer covers it */
	assert_false(dns_tsig_check_answer(&client, a, alen));

	/* Unsigned while a key is required. */
	size_t plain = axfr_query(m);
	assert_int_equal(dns_tsig_verify(&k, m, plain, 0, now, &server, &why), DNS_RCODE_NOTAUTH);
	assert_string_equal(why, "unsigned");
	assert_false(server.on);

	/* Another key name: BADKEY, answered unsigned. */
	len = dns_tsig_sign_request(&other_name, m, axfr_query(m), sizeof m, now, &client);
	assert_int_equal(dns_tsig_verify(&k, m, len, 32, now, &server, &why), DNS_RCODE_NOTAUTH);
	assert_int_equal(server.error, DNS_TSIG_BADKEY);
	assert_false(server.signing);

	/* The right name, another secret: BADSIG, answered unsigned. */
	len = dns_tsig_sign_request(&other_secret, m, axfr_query(m), sizeof m, now, &client);
	assert_int_equal(dns_tsig_verify(&k, m, len, 32, now, &server, &why), DNS_RCODE_NOTAUTH);
	assert_int_equal(server.error, DNS_TSIG_BADSIG);
	assert_false(server.signing);

	/* A byte of the signed message changed: BADSIG. */
	len = dns_tsig_sign_request(&k, m, axfr_query(m), sizeof m, now, &client);
	m[13] ^= 0x20;
	assert_int_equal(dns_tsig_verify(&k, m, len, 32, now, &server, &why), DNS_RCODE_NOTAUTH);
	assert_int_equal(server.error, DNS_TSIG_BADSIG);

	/* Signed 301 s ago (the fudge is 300): BADTIME, answered signed with our time. */
	len = dns_tsig_sign_request(&k, m, axfr_query(m), sizeof m, now - 301, &client);
	assert_int_equal(dns_tsig_verify(&k, m, len, 32, now, &server, &why), DNS_RCODE_NOTAUTH);
	assert_int_equal(server.error, DNS_TSIG_BADTIME);
	assert_true(server.signing);
	len = dns_tsig_sign_request(&k, m, axfr_query(m), sizeof m, now + 299, &client);
	assert_int_equal(dns_tsig_verify(&k, m, len, 32, now, &server, &why), DNS_RCODE_NOERROR);

	/* A TSIG record that is not the last: the parser refuses it. */
	len = dns_tsig_sign_request(&k, m, axfr_query(m), sizeof m, now, &client);
	m[len++] = 0;
	m[len++] = 0;
	m[len++] = 41; /* an OPT after it */
	memset(m + len, 0, 8);
	len += 8;
	m[11] = 2;
	assert_int_equal(dns_xfr_parse(m, len, &r), DNS_EINVAL);
}

/* The messages of a transfer chain: the second one's MAC covers the first one's. */
static void test_chain(void **state)
{
	(void)state;
	struct dns_tsig_key k;
	key_of(&k, "hmac-sha256:xfr-key:c2VjcmV0c2VjcmV0c2VjcmV0");
	uint8_t m[1024], a1[1024], a2[1024];
	struct dns_tsig_state client, server;
	const char *why;
	int64_t now = time_wall_s();
	size_t len = dns_tsig_sign_request(&k, m, axfr_query(m), sizeof m, now, &client);
	assert_int_equal(dns_tsig_verify(&k, m, len, 32, now, &server, &why), DNS_RCODE_NOERROR);
	memcpy(a1, m, 32);
	a1[2] = 0x84;
	a1[11] = 0; /* the answer's own ARCOUNT: no record before its TSIG */
	memcpy(a2, a1, 32);
	size_t l1 = dns_tsig_sign(&server, a1, 32, sizeof a1);
	uint8_t first_mac[32];
	memcpy(first_mac, server.mac, 32);
	size_t l2 = dns_tsig_sign(&server, a2, 32, sizeof a2);
	assert_true(l1 > 32 && l2 > 32);
	assert_memory_not_equal(first_mac, server.mac, 32);
	assert_true(dns_tsig_check_answer(&client, a1, l1));
	/* The second message's MAC: HMAC(prior MAC, message, timers), computed here by hand. */
	uint8_t buf[512];
	size_t n = 0;
	buf[n++] = 0;
	buf[n++] = 32;
	memcpy(buf + n, first_mac, 32);
	n += 32;
	memcpy(buf + n, a2, 32);
	buf[n + 11] = 0; /* ARCOUNT without the TSIG */
	n += 32;
	/* From the end: other len, error, original id (6), the MAC (32), its size (2), and
	 * before that the timers: time signed (6) and fudge (2). */
	size_t t = l2 - 6 - 32 - 2 - 8;
	memcpy(buf + n, a2 + t, 8);
	n += 8;
	uint8_t want[32];
	assert_int_equal(dns_hmac_sha256(k.secret, k.secret_len, buf, n, want), DNS_OK);
	assert_memory_equal(a2 + l2 - 6 - 32, want, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_key_form),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
