/* dns_xfr.c - zone transfers on buffers: AXFR (RFC 5936) and IXFR (RFC 1995) requests checked
 * (transfer_allow, TSIG), and the answer streamed as many messages from a pinned snapshot. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "dns_internal.h"
#include "dns_wire.h"

/* A message is closed once it holds this much: big enough that the framing and the TSIG of
 * each message cost little, small enough that every name in it can be a compression target
 * (pointers reach 16,383 bytes) and that other connections of the TCP thread get a turn. */
#define XFR_MSG_TARGET 16000
/* Room kept at the end of each message for its TSIG record (name, algorithm, MAC, fields). */
#define XFR_TSIG_ROOM (256 + 14 + 10 + 2 + 64 + 6 + 6)
/* Records held back by a message that was full, and the owner labels remembered. */
#define XFR_LABELS_MAX 40

struct dns_xfr {
	struct zone_snapshot *snap;  /* pinned: lives as long as the transfer */
	struct zone_iter *it;        /* the records: the whole zone, or */
	struct zone_ixfr *ix;        /* ... the differences from the journal (IXFR) */
	uint8_t head[DNS_HDR_LEN + DNS_NAME_MAX + 4]; /* the query's header and question */
	size_t qlen;                 /* header + question */
	bool pending;                /* rr did not fit the last message: it opens the next */
	struct zone_rr rr;
	bool done;
	struct dns_tsig_state tsig;  /* signing state: unsigned when !tsig.on */
	/* compression: the last owner written in this message, label by label */
	unsigned prev_n;
	uint16_t prev_off[XFR_LABELS_MAX];   /* offset in the message of each label */
	uint8_t prev[2 + 32 * 2 + 2];        /* its labels (relative to the zone) */
	size_t prev_len;
	/* for the log line at the end and the secondaries' table */
	char client[IP_STRLEN];
	uint8_t peer[16];
	uint16_t qtype;
	const char *kind;
	uint32_t serial, from;
	uint64_t t0, msgs, rrs, bytes;
};

/* ---- the request ------------------------------------------------------------------ */

bool dns_xfr_allowed(const struct dns_xfr_config *x, const uint8_t peer[16])
{
	for (unsigned i = 0; i < x->n_allow; i++)
		if (ip_prefix_covers(&x->allow[i], peer))
			return true;
	return false;
}

/* True when the question's name is the zone (wire, lowercase), without case. */
static bool qname_is_zone(const uint8_t *q, size_t qname_len, const uint8_t *zone, size_t zlen)
{
	if (qname_len != zlen)
		return false;
	for (size_t i = 0; i < zlen; i++) {
		uint8_t c = q[DNS_HDR_LEN + i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c != zone[i])
			return false;
	}
	return true;
}

/* A one-message answer: header, question, the SOA alone or nothing, and the TSIG. */
static size_t answer_small(const uint8_t *q, const struct dns_xfr_req *r, unsigned rcode,
			   const struct zone_snapshot *soa_of, const char *zone,
			   struct dns_tsig_state *ts, uint8_t *out, size_t cap)
{
	size_t pos = DNS_HDR_LEN + r->question_len;
	if (cap < pos + XFR_TSIG_ROOM + 600)
		return 0;
	memcpy(out, q, pos);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79) | (rcode == DNS_RCODE_NOERROR ? 0x04 : 0));
	out[3] = (uint8_t)(rcode & 0x0F);
	dns_put16(out + 4, 1);
	dns_put16(out + 6, 0);
	dns_put16(out + 8, 0);
	dns_put16(out + 10, 0);
	if (soa_of) {
		struct zone_iter *it = NULL;
		struct zone_rr rr;
		if (zone_iter_new(soa_of, zone, 0, &it) == ZONE_OK && zone_iter_next(it, &rr) == 1) {
			dns_put16(out + pos, 0xC00C);
			dns_put16(out + pos + 2, DNS_T_SOA);
			dns_put16(out + pos + 4, DNS_C_IN);
			dns_put32(out + pos + 6, rr.ttl);
			dns_put16(out + pos + 10, (uint16_t)rr.rdlen);
			memcpy(out + pos + 12, rr.rdata, rr.rdlen);
			pos += 12 + rr.rdlen;
			dns_put16(out + 6, 1);
		}
		zone_iter_free(it);
	}
	if (ts && ts->on)
		pos = dns_tsig_sign(ts, out, pos, cap);
	return pos;
}

static const char *qtype_name(uint16_t t)
{
	return t == DNS_T_AXFR ? "AXFR" : "IXFR";
}

/* Refusal lines a second at most: one pipelined TCP stream can carry thousands of requests.
 * The line after a quiet spell counts those left out (suppressed=N). Only the TCP thread
 * refuses, so plain statics do. */
#define XFR_REFUSED_LINES_PER_S 20
static int64_t refused_sec;
static unsigned refused_lines;
static unsigned long long refused_suppressed;

/* A refused request: its answer in out, one log line with the client and the reason. */
static size_t refuse(const uint8_t *q, const struct dns_xfr_req *r, unsigned rcode,
		     const char *client, const char *reason, struct dns_tsig_state *ts,
		     uint8_t *out, size_t cap)
{
	int64_t sec = (int64_t)(time_mono_ns() / 1000000000u);
	if (sec != refused_sec) {
		refused_sec = sec;
		refused_lines = 0;
	}
	if (refused_lines++ < XFR_REFUSED_LINES_PER_S) {
		log_warn("xfr", "refused client=%s qtype=%s reason=%s rcode=%s suppressed=%llu",
			 client, qtype_name(r->qtype), reason,
			 rcode == DNS_RCODE_REFUSED ? "REFUSED" :
			 rcode == DNS_RCODE_NOTAUTH ? "NOTAUTH" : "FORMERR", refused_suppressed);
		refused_suppressed = 0;
	} else {
		refused_suppressed++;
	}
	return answer_small(q, r, rcode, NULL, "", ts, out, cap);
}

int dns_xfr_request(const struct dns_server_config *cfg, const struct zone_snapshot *snap,
		    struct zone_journal *journal, const uint8_t peer[16],
		    const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, size_t *alen,
		    struct dns_xfr **xfr)
{
	struct dns_xfr_req r;
	*alen = 0;
	*xfr = NULL;
	if (qlen < DNS_HDR_LEN || (q[2] & 0x80) || ((q[2] >> 3) & 0x0F) != 0)
		return DNS_XFR_NOT;
	if (dns_xfr_parse(q, qlen, &r) != DNS_OK)
		return DNS_XFR_NOT; /* dns_answer says FORMERR */
	if ((r.qtype != DNS_T_AXFR && r.qtype != DNS_T_IXFR) || !snap)
		return DNS_XFR_NOT;
	uint8_t zone[DNS_NAME_MAX];
	size_t zlen = dns_name_to_wire(cfg->dns.zone, zone, true, NULL);
	if (zlen == 0 || !qname_is_zone(q, r.qname_len, zone, zlen) ||
	    (r.qclass != DNS_C_IN && r.qclass != DNS_C_ANY))
		return DNS_XFR_NOT; /* not our zone: REFUSED by dns_answer */

	char client[IP_STRLEN];
	ip_format(peer, client);
	struct dns_tsig_state ts = { 0 };
	if (!dns_xfr_allowed(&cfg->xfr, peer)) {
		*alen = refuse(q, &r, DNS_RCODE_REFUSED, client, "not_in_transfer_allow", NULL, out,
			       cap);
		return DNS_XFR_ANSWERED;
	}
	if (cfg->xfr.key.set || r.tsig_off) {
		const char *why = NULL;
		unsigned rc = dns_tsig_verify(&cfg->xfr.key, q, qlen, r.tsig_off, time_wall_s(), &ts,
					      &why);
		if (rc != DNS_RCODE_NOERROR) {
			*alen = refuse(q, &r, rc, client, why, &ts, out, cap);
			return DNS_XFR_ANSWERED;
		}
	}
	const struct zone_soa *soa = zone_snapshot_soa(snap);
	/* RFC 1995 2: a client as new as we are (or newer) gets the SOA alone. */
	if (r.qtype == DNS_T_IXFR && r.has_soa && !zone_serial_gt(soa->serial, r.serial)) {
		*alen = answer_small(q, &r, DNS_RCODE_NOERROR, snap, cfg->dns.zone, &ts, out, cap);
		log_info("xfr", "done client=%s qtype=IXFR kind=current serial=%u from=%u", client,
			 soa->serial, r.serial);
		dns_xfr_served(client, peer, soa->serial);
		return DNS_XFR_ANSWERED;
	}

	struct dns_xfr *x = calloc(1, sizeof *x);
	if (!x)
		goto fail;
	x->tsig = ts;
	if (zone_snapshot_pin(snap, &x->snap) != ZONE_OK)
		goto fail_free;
	x->kind = r.qtype == DNS_T_AXFR ? "AXFR" : "full";
	/* RFC 1995 4: the differences when the journal holds the way from the client's serial,
	 * else the whole zone in the AXFR form, which every client takes. */
	if (r.qtype == DNS_T_IXFR && r.has_soa && journal) {
		int jrc = zone_ixfr_new(journal, x->snap, cfg->dns.zone, r.serial, &x->ix);
		if (jrc == ZONE_ENOMEM)
			goto fail_free;
		if (jrc == ZONE_OK)
			x->kind = "incremental";
	}
	if (!x->ix && zone_iter_new(x->snap, cfg->dns.zone, cfg->xfr.expand_max, &x->it) != ZONE_OK)
		goto fail_free;
	memcpy(x->head, q, DNS_HDR_LEN + r.question_len);
	x->qlen = DNS_HDR_LEN + r.question_len;
	snprintf(x->client, sizeof x->client, "%s", client);
	memcpy(x->peer, peer, 16);
	x->serial = zone_snapshot_soa(x->snap)->serial;
	x->from = r.has_soa ? r.serial : 0;
	x->t0 = time_mono_ns();
	x->qtype = r.qtype;
	*xfr = x;
	return DNS_XFR_STARTED;
fail_free:
	dns_xfr_free(x);
fail:
	log_err("xfr", "failed client=%s qtype=%s error=\"out of memory\"", client,
		qtype_name(r.qtype));
	*alen = answer_small(q, &r, DNS_RCODE_SERVFAIL, NULL, "", &ts, out, cap);
	return DNS_XFR_ANSWERED;
}

/* ---- the answer's messages ---------------------------------------------------------- */

/* Splits owner labels o[0..len) into label offsets; returns their number. */
static unsigned labels_of(const uint8_t *o, size_t len, uint16_t *off)
{
	unsigned n = 0;
	for (size_t i = 0; i < len && n < XFR_LABELS_MAX; i += 1u + o[i])
		off[n++] = (uint16_t)i;
	return n;
}

/* Writes the owner at m[pos]: the labels not shared with the previous owner, then a pointer
 * to the shared ones, or to the question's name (the apex). Remembers it for the next. */
static size_t put_owner(struct dns_xfr *x, uint8_t *m, size_t pos, const struct zone_rr *rr)
{
	uint16_t lo[XFR_LABELS_MAX];
	unsigned n = labels_of(rr->owner, rr->owner_len, lo);
	/* Labels shared at the end (nearest the zone) with the previous owner. */
	unsigned shared = 0;
	uint16_t plo[XFR_LABELS_MAX];
	unsigned pn = x->prev_n ? labels_of(x->prev, x->prev_len, plo) : 0;
	while (shared < n && shared < pn) {
		const uint8_t *a = rr->owner + lo[n - 1 - shared], *b = x->prev + plo[pn - 1 - shared];
		if (a[0] != b[0] || memcmp(a + 1, b + 1, a[0]) != 0)
			break;
		shared++;
	}
	if (shared > 0 && x->prev_off[pn - shared] >= 0x4000)
		shared = 0; /* out of a pointer's reach */
	size_t o = pos;
	uint16_t offs[XFR_LABELS_MAX];
	unsigned keep = n - shared;
	for (unsigned i = 0; i < keep; i++) {
		size_t l = 1u + rr->owner[lo[i]];
		offs[i] = (uint16_t)(o < 0xFFFF ? o : 0xFFFF);
		memcpy(m + o, rr->owner + lo[i], l);
		o += l;
	}
	uint16_t target = shared ? x->prev_off[pn - shared] : DNS_HDR_LEN;
	dns_put16(m + o, (uint16_t)(0xC000 | target));
	o += 2;
	/* The new owner's labels: written here, or where the previous owner had them. */
	for (unsigned i = keep; i < n; i++)
		offs[i] = x->prev_off[pn - n + i];
	if (rr->owner_len) /* the apex has no labels (and no pointer to them) */
		memcpy(x->prev, rr->owner, rr->owner_len);
	x->prev_len = rr->owner_len;
	x->prev_n = n;
	memcpy(x->prev_off, offs, n * sizeof offs[0]);
	return o - pos;
}

/* The next record to send: the one held back, or the source's next. 1, 0 at the end, <0. */
static int next_rr(struct dns_xfr *x)
{
	if (x->pending)
		return 1;
	int rc = x->ix ? zone_ixfr_next(x->ix, &x->rr) : zone_iter_next(x->it, &x->rr);
	if (rc == 1)
		x->pending = true;
	return rc;
}

size_t dns_xfr_next(struct dns_xfr *x, uint8_t *m, size_t cap, bool *done)
{
	*done = false;
	if (cap > DNS_MAX_MSG)
		cap = DNS_MAX_MSG;
	if (x->done || cap < x->qlen + XFR_TSIG_ROOM + 64)
		return 0;
	size_t limit = cap - XFR_TSIG_ROOM;
	memcpy(m, x->head, x->qlen);
	m[2] = (uint8_t)(0x84 | (x->head[2] & 0x01)); /* QR, AA; RD echoed */
	m[3] = 0;
	dns_put16(m + 4, 1);
	dns_put16(m + 8, 0);
	dns_put16(m + 10, 0);
	size_t pos = x->qlen;
	unsigned an = 0;
	x->prev_n = 0;
	int rc = 1;
	while (pos < XFR_MSG_TARGET && (rc = next_rr(x)) == 1) {
		const struct zone_rr *rr = &x->rr;
		if (pos + rr->owner_len + 2 + 10 + rr->rdlen > limit) {
			if (an == 0) /* one record larger than a message: cannot be sent */
				goto fail;
			break;
		}
		pos += put_owner(x, m, pos, rr);
		dns_put16(m + pos, rr->type);
		dns_put16(m + pos + 2, DNS_C_IN);
		dns_put32(m + pos + 4, rr->ttl);
		dns_put16(m + pos + 8, (uint16_t)rr->rdlen);
		memcpy(m + pos + 10, rr->rdata, rr->rdlen);
		pos += 10 + rr->rdlen;
		an++;
		x->pending = false;
	}
	if (rc < 0)
		goto fail;
	dns_put16(m + 6, (uint16_t)an);
	if (rc == 0 && !x->pending)
		x->done = *done = true;
	if (x->tsig.on)
		pos = dns_tsig_sign(&x->tsig, m, pos, cap);
	x->msgs++;
	x->rrs += an;
	x->bytes += pos;
	if (x->done) {
		size_t skipped = x->it ? zone_iter_skipped(x->it) : 0;
		log_info("xfr", "done client=%s qtype=%s kind=%s serial=%u from=%u records=%llu "
			 "messages=%llu bytes=%llu ms=%llu skipped_names=%zu signed=%s",
			 x->client, qtype_name(x->qtype), x->kind, x->serial, x->from,
			 (unsigned long long)x->rrs, (unsigned long long)x->msgs,
			 (unsigned long long)x->bytes,
			 (unsigned long long)((time_mono_ns() - x->t0) / 1000000u), skipped,
			 x->tsig.on ? "yes" : "no");
		if (skipped)
			log_warn("xfr", "incomplete client=%s skipped_names=%zu limit=%zu: ranges "
				 "past the expansion limit were left out", x->client, skipped,
				 (size_t)ZONE_RR_EXPAND_MAX);
		dns_xfr_served(x->client, x->peer, x->serial);
	}
	return pos;
fail:
	log_err("xfr", "failed client=%s qtype=%s serial=%u error=\"%s\"", x->client,
		qtype_name(x->qtype), x->serial, rc < 0 ? tl_strerror(rc) : "record too large");
	x->done = true;
	return 0;
}

void dns_xfr_free(struct dns_xfr *x)
{
	if (!x)
		return;
	zone_iter_free(x->it);
	zone_ixfr_free(x->ix);
	zone_snapshot_free(x->snap);
	free(x);
}

size_t dns_tsig_wrap(const struct dns_tsig_key *key, const uint8_t *q, size_t qlen, uint8_t *out,
		     size_t alen, size_t cap)
{
	struct dns_xfr_req r;
	if (!key->set || alen < DNS_HDR_LEN || qlen < DNS_HDR_LEN || (q[10] | q[11]) == 0 ||
	    dns_xfr_parse(q, qlen, &r) != DNS_OK || r.tsig_off == 0)
		return alen;
	struct dns_tsig_state ts;
	const char *why = NULL;
	unsigned rc = dns_tsig_verify(key, q, qlen, r.tsig_off, time_wall_s(), &ts, &why);
	if (rc == DNS_RCODE_NOERROR)
		return dns_tsig_sign(&ts, out, alen, cap);
	if (!ts.on) /* not a TSIG we could read: the answer goes as it is */
		return alen;
	/* RFC 8945 5.2: NOTAUTH with the TSIG error (unsigned for BADKEY and BADSIG). */
	size_t n = answer_small(q, &r, rc, NULL, "", &ts, out, cap);
	return n ? n : alen;
}
