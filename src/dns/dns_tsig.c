/* dns_tsig.c - TSIG (RFC 8945) with HMAC-SHA256 on buffers: the key from the config, a request's
 * check, and the signing of answers, every message of a transfer chained to the one before. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "base/base.h"
#include "dns.h"
#include "dns_wire.h"

#define TSIG_MAC_LEN 32 /* HMAC-SHA256 */
#define C_ANY 255

/* "hmac-sha256." in wire form: the only algorithm taken (RFC 8945 6: mandatory to implement). */
static const uint8_t alg_sha256[] = "\x0bhmac-sha256";
#define ALG_SHA256_LEN 13 /* with the root byte */

/* ---- HMAC-SHA256 through OpenSSL's EVP_MAC ------------------------------------------ */

struct hmac {
	EVP_MAC_CTX *ctx;
};

static bool hmac_init(struct hmac *h, const uint8_t *key, size_t klen)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac); /* the context keeps its own reference */
	if (!h->ctx)
		return false;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_MAC_init(h->ctx, key, klen, params) != 1) {
		EVP_MAC_CTX_free(h->ctx);
		h->ctx = NULL;
		return false;
	}
	return true;
}

static void hmac_update(struct hmac *h, const uint8_t *p, size_t n)
{
	if (h->ctx && n)
		(void)EVP_MAC_update(h->ctx, p, n);
}

static bool hmac_final(struct hmac *h, uint8_t out[TSIG_MAC_LEN])
{
	size_t n = 0;
	bool ok = h->ctx && EVP_MAC_final(h->ctx, out, &n, TSIG_MAC_LEN) == 1 && n == TSIG_MAC_LEN;
	EVP_MAC_CTX_free(h->ctx);
	h->ctx = NULL;
	return ok;
}

int dns_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *data, size_t len,
		    uint8_t out[32])
{
	struct hmac h;
	if (!hmac_init(&h, key, klen))
		return DNS_ENOMEM;
	hmac_update(&h, data, len);
	return hmac_final(&h, out) ? DNS_OK : DNS_ENOMEM;
}

/* ---- the key ----------------------------------------------------------------------- */

int dns_tsig_key_from(const char *text, struct dns_tsig_key *k, char *err, size_t errcap)
{
	memset(k, 0, sizeof *k);
	if (!text[0])
		return DNS_OK;
	if (config_tsig_key_parse(text, k->name, k->secret, &k->secret_len, err, errcap) != BASE_OK)
		return DNS_EINVAL;
	k->name_len = dns_name_to_wire(k->name, k->name_wire, true, NULL);
	if (k->name_len == 0) {
		snprintf(err, errcap, "key name '%s' is not a domain name", k->name);
		return DNS_EINVAL;
	}
	size_t n = strlen(k->name);
	if (n > 0 && k->name[n - 1] == '.')
		k->name[n - 1] = '\0';
	k->set = true;
	return DNS_OK;
}

/* ---- reading a TSIG record ------------------------------------------------------------ */

/* An uncompressed name at m[*p..len) (RFC 8945 4.2: TSIG names are never compressed) into
 * out lowercased; its length, 0 when it is not one. */
static size_t read_name(const uint8_t *m, size_t len, size_t *p, uint8_t out[DNS_NAME_MAX])
{
	size_t o = 0, i = *p;
	for (;;) {
		if (i >= len)
			return 0;
		uint8_t l = m[i];
		if (l & 0xC0 || o + 1u + l > DNS_NAME_MAX || i + 1u + l > len)
			return 0;
		out[o++] = l;
		for (unsigned k = 0; k < l; k++) {
			uint8_t c = m[i + 1 + k];
			out[o++] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
		}
		i += 1u + l;
		if (l == 0)
			break;
	}
	*p = i;
	return o;
}

static uint64_t get48(const uint8_t *p)
{
	return (uint64_t)dns_get16(p) << 32 | (uint64_t)dns_get16(p + 2) << 16 | dns_get16(p + 4);
}

static void put48(uint8_t *p, uint64_t v)
{
	dns_put16(p, (uint16_t)(v >> 32));
	dns_put16(p + 2, (uint16_t)(v >> 16));
	dns_put16(p + 4, (uint16_t)v);
}

/* The TSIG variables of RFC 8945 4.3.3 after the message: name, class, TTL, algorithm, time,
 * fudge, error, other. */
static void mac_variables(struct hmac *h, const struct dns_tsig_state *ts, uint64_t time,
			  uint16_t error, const uint8_t *other, size_t other_len)
{
	uint8_t f[16];
	hmac_update(h, ts->key_name, ts->key_name_len);
	dns_put16(f, C_ANY);
	dns_put32(f + 2, 0);
	hmac_update(h, f, 6);
	hmac_update(h, ts->alg, ts->alg_len);
	put48(f, time);
	dns_put16(f + 6, DNS_TSIG_FUDGE);
	dns_put16(f + 8, error);
	dns_put16(f + 10, (uint16_t)other_len);
	hmac_update(h, f, 12);
	hmac_update(h, other, other_len);
}

/* The message as the MAC covers it: ARCOUNT one less, the original ID (RFC 8945 4.3.1). */
static void mac_message(struct hmac *h, const uint8_t *m, size_t len, uint16_t orig_id)
{
	uint8_t head[DNS_HDR_LEN];
	memcpy(head, m, DNS_HDR_LEN);
	dns_put16(head, orig_id);
	dns_put16(head + 10, (uint16_t)(dns_get16(m + 10) - 1));
	hmac_update(h, head, DNS_HDR_LEN);
	hmac_update(h, m + DNS_HDR_LEN, len - DNS_HDR_LEN);
}

unsigned dns_tsig_verify(const struct dns_tsig_key *key, const uint8_t *m, size_t len,
			 size_t tsig_off, int64_t now, struct dns_tsig_state *ts, const char **why)
{
	memset(ts, 0, sizeof *ts);
	ts->key = key;
	if (tsig_off == 0) {
		*why = "unsigned";
		return DNS_RCODE_NOTAUTH; /* no TSIG to answer with: the answer goes unsigned */
	}
	size_t p = tsig_off;
	ts->key_name_len = read_name(m, len, &p, ts->key_name);
	if (ts->key_name_len == 0 || p + 10 > len)
		goto formerr;
	if (dns_get16(m + p) != DNS_T_TSIG || dns_get16(m + p + 2) != C_ANY ||
	    dns_get16(m + p + 4) != 0 || dns_get16(m + p + 6) != 0)
		goto formerr;
	size_t rdlen = dns_get16(m + p + 8), rd = p + 10, end = rd + rdlen;
	if (end != len)
		goto formerr;
	p = rd;
	ts->alg_len = read_name(m, end, &p, ts->alg);
	if (ts->alg_len == 0 || p + 10 > end)
		goto formerr;
	ts->time = get48(m + p);
	uint16_t fudge = dns_get16(m + p + 6);
	size_t mac_len = dns_get16(m + p + 8);
	p += 10;
	if (p + mac_len + 6 > end)
		goto formerr;
	const uint8_t *mac = m + p;
	p += mac_len;
	ts->orig_id = dns_get16(m + p);
	size_t other_len = dns_get16(m + p + 4);
	if (p + 6 + other_len != end)
		goto formerr;
	const uint8_t *other = m + p + 6;
	ts->on = true; /* from here on the answer carries a TSIG record */

	/* RFC 8945 5.2.1: a key or algorithm we do not have is BADKEY, answered unsigned. */
	if (!key->set || ts->key_name_len != key->name_len ||
	    memcmp(ts->key_name, key->name_wire, key->name_len) != 0 ||
	    ts->alg_len != ALG_SHA256_LEN || memcmp(ts->alg, alg_sha256, ALG_SHA256_LEN) != 0) {
		ts->error = DNS_TSIG_BADKEY;
		*why = "tsig_badkey";
		return DNS_RCODE_NOTAUTH;
	}
	/* RFC 8945 5.2.2.1: a MAC shorter than half the hash (and 10 bytes) is FORMERR, a
	 * truncated one we do not take (local policy) BADTRUNC; longer than the hash FORMERR. */
	if (mac_len < TSIG_MAC_LEN / 2 || mac_len > TSIG_MAC_LEN)
		goto formerr;
	struct hmac h;
	uint8_t want[TSIG_MAC_LEN];
	if (!hmac_init(&h, key->secret, key->secret_len)) {
		*why = "out_of_memory";
		ts->on = false;
		return DNS_RCODE_SERVFAIL;
	}
	mac_message(&h, m, tsig_off, ts->orig_id);
	mac_variables(&h, ts, ts->time, dns_get16(m + p + 2), other, other_len);
	if (!hmac_final(&h, want) || CRYPTO_memcmp(want, mac, mac_len) != 0) {
		ts->error = DNS_TSIG_BADSIG;
		*why = "tsig_badsig";
		return DNS_RCODE_NOTAUTH;
	}
	if (mac_len < TSIG_MAC_LEN) {
		ts->error = DNS_TSIG_BADTRUNC;
		*why = "tsig_badtrunc";
		return DNS_RCODE_NOTAUTH;
	}
	/* The answers chain to the request's MAC (RFC 8945 5.3). */
	memcpy(ts->mac, mac, mac_len);
	ts->mac_len = mac_len;
	ts->signing = true;
	/* RFC 8945 5.2.3: outside the request's own time window BADTIME, answered signed with
	 * our time in Other Data. */
	int64_t d = now - (int64_t)ts->time;
	if (d > (int64_t)fudge || -d > (int64_t)fudge) {
		ts->error = DNS_TSIG_BADTIME;
		*why = "tsig_badtime";
		return DNS_RCODE_NOTAUTH;
	}
	ts->time = 0; /* answers are signed with our own time */
	return DNS_RCODE_NOERROR;
formerr:
	ts->on = false;
	*why = "tsig_formerr";
	return DNS_RCODE_FORMERR;
}

size_t dns_tsig_sign(struct dns_tsig_state *ts, uint8_t *m, size_t len, size_t cap)
{
	uint8_t mac[TSIG_MAC_LEN], other[6];
	size_t mac_len = 0, other_len = 0;
	/* A BADTIME answer keeps the request's time and carries ours (RFC 8945 5.3.2); any
	 * other answer is signed now. */
	uint64_t now = (uint64_t)time_wall_s();
	uint64_t signed_at = ts->error == DNS_TSIG_BADTIME ? ts->time : now;
	if (ts->error == DNS_TSIG_BADTIME) {
		put48(other, now);
		other_len = 6;
	}
	size_t need = ts->key_name_len + 10 + ts->alg_len + 16 + TSIG_MAC_LEN + other_len;
	if (len + need > cap || len + need > DNS_MAX_MSG)
		return len; /* never reached: callers keep room (XFR_TSIG_ROOM) */
	if (ts->signing) {
		struct hmac h;
		if (!hmac_init(&h, ts->key->secret, ts->key->secret_len))
			return len;
		uint8_t l[2];
		dns_put16(l, (uint16_t)ts->mac_len);
		hmac_update(&h, l, 2);
		hmac_update(&h, ts->mac, ts->mac_len);
		/* The message as it goes out, before its TSIG: ARCOUNT without it. */
		hmac_update(&h, m, len);
		if (!ts->chained) {
			mac_variables(&h, ts, signed_at, ts->error, other, other_len);
		} else { /* RFC 8945 5.3.1: later messages cover the timers only */
			uint8_t t[8];
			put48(t, signed_at);
			dns_put16(t + 6, DNS_TSIG_FUDGE);
			hmac_update(&h, t, 8);
		}
		if (!hmac_final(&h, mac))
			return len;
		mac_len = TSIG_MAC_LEN;
		memcpy(ts->mac, mac, mac_len); /* the next message chains to this one */
		ts->mac_len = mac_len;
		ts->chained = true;
	}
	uint8_t *p = m + len;
	memcpy(p, ts->key_name, ts->key_name_len);
	p += ts->key_name_len;
	dns_put16(p, DNS_T_TSIG);
	dns_put16(p + 2, C_ANY);
	dns_put32(p + 4, 0);
	uint8_t *rdlen = p + 8;
	p += 10;
	uint8_t *rd = p;
	memcpy(p, ts->alg, ts->alg_len);
	p += ts->alg_len;
	put48(p, signed_at);
	dns_put16(p + 6, DNS_TSIG_FUDGE);
	dns_put16(p + 8, (uint16_t)mac_len);
	p += 10;
	memcpy(p, mac, mac_len);
	p += mac_len;
	dns_put16(p, ts->orig_id);
	dns_put16(p + 2, ts->error);
	dns_put16(p + 4, (uint16_t)other_len);
	p += 6;
	memcpy(p, other, other_len);
	p += other_len;
	dns_put16(rdlen, (uint16_t)(p - rd));
	dns_put16(m + 10, (uint16_t)(dns_get16(m + 10) + 1));
	return (size_t)(p - m);
}

size_t dns_tsig_sign_request(const struct dns_tsig_key *key, uint8_t *m, size_t len, size_t cap,
			     int64_t now, struct dns_tsig_state *ts)
{
	memset(ts, 0, sizeof *ts);
	ts->key = key;
	ts->on = ts->signing = true;
	memcpy(ts->key_name, key->name_wire, key->name_len);
	ts->key_name_len = key->name_len;
	memcpy(ts->alg, alg_sha256, ALG_SHA256_LEN);
	ts->alg_len = ALG_SHA256_LEN;
	ts->orig_id = dns_get16(m);
	/* A request's MAC covers no prior MAC (RFC 8945 4.3.3): sign with an empty one, which
	 * dns_tsig_sign would prefix with a zero length; so compute it here. */
	size_t need = ts->key_name_len + 10 + ts->alg_len + 16 + TSIG_MAC_LEN;
	if (len + need > cap)
		return 0;
	struct hmac h;
	uint8_t mac[TSIG_MAC_LEN];
	if (!hmac_init(&h, key->secret, key->secret_len))
		return 0;
	hmac_update(&h, m, len);
	mac_variables(&h, ts, (uint64_t)now, 0, NULL, 0);
	if (!hmac_final(&h, mac))
		return 0;
	uint8_t *p = m + len;
	memcpy(p, ts->key_name, ts->key_name_len);
	p += ts->key_name_len;
	dns_put16(p, DNS_T_TSIG);
	dns_put16(p + 2, C_ANY);
	dns_put32(p + 4, 0);
	dns_put16(p + 8, (uint16_t)(ts->alg_len + 16 + TSIG_MAC_LEN));
	p += 10;
	memcpy(p, ts->alg, ts->alg_len);
	p += ts->alg_len;
	put48(p, (uint64_t)now);
	dns_put16(p + 6, DNS_TSIG_FUDGE);
	dns_put16(p + 8, TSIG_MAC_LEN);
	p += 10;
	memcpy(p, mac, TSIG_MAC_LEN);
	p += TSIG_MAC_LEN;
	dns_put16(p, ts->orig_id);
	dns_put16(p + 2, 0);
	dns_put16(p + 4, 0);
	p += 6;
	dns_put16(m + 10, (uint16_t)(dns_get16(m + 10) + 1));
	memcpy(ts->mac, mac, TSIG_MAC_LEN);
	ts->mac_len = TSIG_MAC_LEN;
	return (size_t)(p - m);
}

bool dns_tsig_check_answer(struct dns_tsig_state *ts, const uint8_t *m, size_t len)
{
	struct dns_xfr_req r;
	if (dns_xfr_parse(m, len, &r) != DNS_OK || r.tsig_off == 0)
		return false;
	size_t p = r.tsig_off;
	uint8_t name[DNS_NAME_MAX], alg[DNS_NAME_MAX];
	size_t nlen = read_name(m, len, &p, name);
	if (nlen != ts->key_name_len || memcmp(name, ts->key_name, nlen) != 0 || p + 10 > len)
		return false;
	p += 10;
	size_t alen = read_name(m, len, &p, alg);
	if (alen != ts->alg_len || memcmp(alg, ts->alg, alen) != 0 || p + 10 > len)
		return false;
	uint64_t t = get48(m + p);
	size_t mac_len = dns_get16(m + p + 8);
	p += 10;
	if (mac_len != TSIG_MAC_LEN || p + mac_len + 6 > len)
		return false;
	const uint8_t *mac = m + p;
	uint16_t error = dns_get16(m + p + mac_len + 2);
	size_t other_len = dns_get16(m + p + mac_len + 4);
	const uint8_t *other = m + p + mac_len + 6;
	if (p + mac_len + 6 + other_len != len)
		return false;
	struct hmac h;
	uint8_t want[TSIG_MAC_LEN], l[2];
	if (!hmac_init(&h, ts->key->secret, ts->key->secret_len))
		return false;
	dns_put16(l, (uint16_t)ts->mac_len);
	hmac_update(&h, l, 2);
	hmac_update(&h, ts->mac, ts->mac_len);
	mac_message(&h, m, r.tsig_off, dns_get16(m + p + mac_len));
	mac_variables(&h, ts, t, error, other, other_len);
	return hmac_final(&h, want) && CRYPTO_memcmp(want, mac, TSIG_MAC_LEN) == 0;
}
