/* dns_answer.c - the answering core: one query in, one answer out, from a zone snapshot (RFC 5782). */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_wire.h"

#define DNS_UDP_PLAIN 512   /* RFC 1035 4.2.1: without EDNS */
#define DNS_UDP_DEFAULT 1232 /* DNS flag day 2020: avoids IP fragmentation */
/* SOA body: type, class, ttl, rdlength (10), two names, five 32-bit fields. */
#define SOA_BODY_MAX (10 + 2 * DNS_NAME_MAX + 20)

/* One in-zone name server's addresses (RFC 1034 4.2.1), encoded once per snapshot: the A and
 * AAAA RRsets with owners 0xC00C (only answered to a question for that very name). */
#define GLUE_A_MAX (ZONE_GLUE_ADDRS * (12 + 4))
#define GLUE_AAAA_MAX (ZONE_GLUE_ADDRS * (12 + 16))
struct ctx_glue {
	uint8_t name[DNS_NAME_MAX]; /* lowercase wire form */
	size_t name_len;
	uint8_t a[GLUE_A_MAX], aaaa[GLUE_AAAA_MAX];
	size_t a_len, aaaa_len;
	uint16_t a_count, aaaa_count;
};

struct dns_ctx {
	uint16_t udp_max;
	struct zone_class code_excess, code_public; /* the usage-limit answers */
	char txt_excess[512], txt_public[512];
	uint8_t zone[DNS_NAME_MAX]; /* lowercase wire form */
	size_t zone_len;
	unsigned zone_labels;

	/* Derived from the snapshot whose id is snap_id; rebuilt when it changes. */
	bool cached;
	uint64_t snap_id;
	uint8_t soa[SOA_BODY_MAX]; /* the SOA RR without its owner; TTL at offset 4 */
	size_t soa_len;
	uint32_t soa_ttl, neg_ttl;
	/* Sized for the snapshot: they grow when one brings a bigger set, never per query. */
	uint8_t *ns;               /* the NS RRset, owners 0xC00C (only answered at the apex) */
	size_t ns_len, ns_cap;
	uint16_t ns_count;
	unsigned glue_count, glue_cap;
	struct ctx_glue *glue;
};

struct dns_ctx *dns_ctx_new(const struct dns_config *cfg)
{
	struct dns_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return NULL;
	if (memchr(cfg->zone, '\0', sizeof cfg->zone) == NULL)
		goto fail_free;
	ctx->zone_len = dns_name_to_wire(cfg->zone, ctx->zone, true, &ctx->zone_labels);
	if (ctx->zone_len == 0)
		goto fail_free;
	ctx->udp_max = cfg->edns_udp_max ? cfg->edns_udp_max : DNS_UDP_DEFAULT;
	if (ctx->udp_max < DNS_UDP_PLAIN)
		ctx->udp_max = DNS_UDP_PLAIN;
	if (ctx->udp_max > DNS_MAX_UDP)
		ctx->udp_max = DNS_MAX_UDP;
	dns_ctx_codes_set(ctx, cfg);
	return ctx;

fail_free:
	free(ctx);
	return NULL;
}

void dns_ctx_codes_set(struct dns_ctx *ctx, const struct dns_config *cfg)
{
	memcpy(ctx->txt_excess, cfg->txt_excess, sizeof ctx->txt_excess);
	memcpy(ctx->txt_public, cfg->txt_public_resolver, sizeof ctx->txt_public);
	ctx->txt_excess[sizeof ctx->txt_excess - 1] = ctx->txt_public[sizeof ctx->txt_public - 1] = 0;
	ctx->code_excess = (struct zone_class){cfg->answer_a_excess, cfg->code_ttl,
		ctx->txt_excess[0] ? ctx->txt_excess : NULL, (uint32_t)strlen(ctx->txt_excess)};
	ctx->code_public = (struct zone_class){cfg->answer_a_public_resolver, cfg->code_ttl,
		ctx->txt_public[0] ? ctx->txt_public : NULL, (uint32_t)strlen(ctx->txt_public)};
}

void dns_ctx_free(struct dns_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->ns);
	free(ctx->glue);
	free(ctx);
}

/* A name the snapshot gave us in text; an invalid one becomes the root rather than failing
 * the whole zone (the zone module validates names where they are configured). */
static size_t put_text_name(uint8_t *p, const char *s)
{
	size_t n = dns_name_to_wire(s, p, false, NULL);
	if (n == 0) {
		p[0] = 0;
		n = 1;
	}
	return n;
}

/* One address record with owner 0xC00C. */
static size_t put_addr_rr(uint8_t *p, uint16_t type, uint32_t ttl, const uint8_t *addr,
			  uint16_t len)
{
	dns_put16(p, 0xC00C);
	dns_put16(p + 2, type);
	dns_put16(p + 4, DNS_C_IN);
	dns_put32(p + 6, ttl);
	dns_put16(p + 10, len);
	memcpy(p + 12, addr, len);
	return 12u + len;
}

/* Makes *buf hold at least need bytes (elements of size elem). False when out of memory;
 * *buf is then unchanged. */
static bool ctx_room(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	void *p = realloc(*buf, need * elem);
	if (!p)
		return false;
	*buf = p;
	*cap = need;
	return true;
}

static bool glue_refresh(struct dns_ctx *ctx, const struct zone_glue *glue)
{
	ctx->glue_count = 0;
	size_t cap = ctx->glue_cap;
	if (!ctx_room((void **)&ctx->glue, &cap, glue->count, sizeof(*ctx->glue)))
		return false;
	ctx->glue_cap = (unsigned)cap;
	for (unsigned i = 0; i < glue->count; i++) {
		const struct zone_glue_name *src = &glue->names[i];
		struct ctx_glue *g = &ctx->glue[ctx->glue_count];
		g->name_len = dns_name_to_wire(src->name, g->name, true, NULL);
		if (g->name_len == 0)
			continue;
		g->a_len = g->aaaa_len = 0;
		g->a_count = g->aaaa_count = 0;
		for (unsigned k = 0; k < src->n4 && k < ZONE_GLUE_ADDRS; k++) {
			uint8_t v4[4];
			dns_put32(v4, src->a4[k]);
			g->a_len += put_addr_rr(g->a + g->a_len, DNS_T_A, glue->ttl, v4, 4);
			g->a_count++;
		}
		for (unsigned k = 0; k < src->n6 && k < ZONE_GLUE_ADDRS; k++) {
			g->aaaa_len += put_addr_rr(g->aaaa + g->aaaa_len, DNS_T_AAAA, glue->ttl,
						   src->a6[k], 16);
			g->aaaa_count++;
		}
		ctx->glue_count++;
	}
	return true;
}

/* The NS RRset, every name (RFC 2181 9 forbids serving part of it; an answer it does not fit
 * goes out with TC=1). The zone keeps the set within one TCP message (ZONE_NS_WIRE_MAX). */
static bool ns_refresh(struct dns_ctx *ctx, const struct zone_ns *ns)
{
	size_t need = 0;
	for (unsigned i = 0; i < ns->count; i++) { /* put_text_name writes at most len + 2 */
		size_t len = strlen(ns->names[i]);
		need += 12 + (len + 2 < DNS_NAME_MAX ? len + 2 : DNS_NAME_MAX);
	}
	ctx->ns_len = 0;
	ctx->ns_count = 0;
	if (!ctx_room((void **)&ctx->ns, &ctx->ns_cap, need, 1))
		return false;
	size_t o = 0;
	for (unsigned i = 0; i < ns->count && ctx->ns_count < UINT16_MAX; i++) {
		uint8_t *p = ctx->ns + o;
		dns_put16(p, 0xC00C);
		dns_put16(p + 2, DNS_T_NS);
		dns_put16(p + 4, DNS_C_IN);
		dns_put32(p + 6, ns->ttl);
		size_t n = put_text_name(p + 12, ns->names[i]);
		dns_put16(p + 10, (uint16_t)n);
		o += 12 + n;
		ctx->ns_count++;
	}
	ctx->ns_len = o;
	return true;
}

/* Re-encodes the SOA, NS and glue records once per snapshot, so the hot path only copies
 * them. False when a cache could not grow (out of memory): the caller answers SERVFAIL and
 * the next query tries again. */
static bool ctx_refresh(struct dns_ctx *ctx, const struct zone_snapshot *snap)
{
	const struct zone_soa *soa = zone_snapshot_soa(snap);
	uint8_t *p = ctx->soa;

	ctx->cached = false;
	dns_put16(p, DNS_T_SOA);
	dns_put16(p + 2, DNS_C_IN);
	dns_put32(p + 4, soa->ttl);
	size_t o = 10;
	o += put_text_name(p + o, soa->mname);
	o += put_text_name(p + o, soa->rname);
	dns_put32(p + o, soa->serial);
	dns_put32(p + o + 4, soa->refresh);
	dns_put32(p + o + 8, soa->retry);
	dns_put32(p + o + 12, soa->expire);
	dns_put32(p + o + 16, soa->minimum);
	o += 20;
	dns_put16(p + 8, (uint16_t)(o - 10));
	ctx->soa_len = o;
	ctx->soa_ttl = soa->ttl;
	/* RFC 2308 3: the negative TTL is the lesser of the SOA's TTL and its MINIMUM. */
	ctx->neg_ttl = soa->ttl < soa->minimum ? soa->ttl : soa->minimum;

	if (!ns_refresh(ctx, zone_snapshot_ns(snap)) ||
	    !glue_refresh(ctx, zone_snapshot_glue(snap)))
		return false;
	ctx->snap_id = zone_snapshot_id(snap);
	ctx->cached = true;
	return true;
}

/* ---- the answer being written ------------------------------------------------ */

struct reply {
	uint8_t *out;
	size_t pos;     /* end of what is written */
	size_t qend;    /* end of the question: where answer records start */
	size_t room;    /* answer + authority records must end here (limit minus the OPT) */
	uint16_t an, ns;
	bool tc;        /* something did not fit: sections dropped, TC=1 */
};

static bool reply_has(struct reply *r, size_t n)
{
	if (r->tc)
		return false;
	if (n > r->room - r->pos) {
		r->tc = true;
		return false;
	}
	return true;
}

static void reply_soa(struct reply *r, const struct dns_ctx *ctx, uint16_t owner, uint32_t ttl,
		      bool authority)
{
	if (!reply_has(r, 2 + ctx->soa_len))
		return;
	uint8_t *p = r->out + r->pos;
	dns_put16(p, owner);
	memcpy(p + 2, ctx->soa, ctx->soa_len);
	dns_put32(p + 6, ttl);
	r->pos += 2 + ctx->soa_len;
	if (authority)
		r->ns++;
	else
		r->an++;
}

/* The fixed part of an answer RR for the question's name (owner 0xC00C), class IN: 10 bytes. */
static inline void put_rr_head(uint8_t *p, uint16_t type, uint32_t ttl)
{
	dns_put16(p, 0xC00C);
	dns_put16(p + 2, type);
	dns_put16(p + 4, DNS_C_IN);
	dns_put32(p + 6, ttl);
}

static void reply_a(struct reply *r, const struct zone_class *cls)
{
	if (!reply_has(r, 16))
		return;
	uint8_t *p = r->out + r->pos;
	put_rr_head(p, DNS_T_A, cls->ttl);
	dns_put16(p + 10, 4);
	dns_put32(p + 12, cls->a);
	r->pos += 16;
	r->an++;
}

/* Appends an RRset encoded in advance (owners 0xC00C) to the answer section. */
static void reply_rrset(struct reply *r, const uint8_t *rrs, size_t len, uint16_t count)
{
	if (!reply_has(r, len))
		return;
	memcpy(r->out + r->pos, rrs, len);
	r->pos += len;
	r->an = (uint16_t)(r->an + count);
}

/* Appends text to the TXT RDATA, opening a new character-string every 255 bytes
 * (RFC 1035 3.3.14). *chunk is where the current string's length byte is. */
static bool txt_put(struct reply *r, size_t *chunk, const char *s, size_t n)
{
	while (n > 0) {
		size_t used = r->out[*chunk];
		if (used == 255) {
			if (!reply_has(r, 1))
				return false;
			*chunk = r->pos;
			r->out[r->pos++] = 0;
			used = 0;
		}
		size_t take = 255 - used < n ? 255 - used : n;
		if (!reply_has(r, take))
			return false;
		memcpy(r->out + r->pos, s, take);
		r->pos += take;
		r->out[*chunk] = (uint8_t)(used + take);
		s += take;
		n -= take;
	}
	return true;
}

static void reply_txt(struct reply *r, const struct zone_class *cls, const char *ip, size_t iplen)
{
	size_t start = r->pos;
	if (!reply_has(r, 13))
		return;
	uint8_t *p = r->out + r->pos;
	put_rr_head(p, DNS_T_TXT, cls->ttl);
	size_t chunk = r->pos + 12;
	p[12] = 0;
	r->pos += 13;

	const char *t = cls->txt, *end = cls->txt + cls->txt_len;
	while (t < end) {
		const char *d = memchr(t, '$', (size_t)(end - t));
		size_t lit = d ? (size_t)(d - t) : (size_t)(end - t);
		if (!txt_put(r, &chunk, t, lit))
			return;
		if (!d)
			break;
		if (!txt_put(r, &chunk, ip, iplen))
			return;
		t = d + 1;
	}
	size_t rdlen = r->pos - start - 12;
	if (rdlen > 0xFFFF) { /* cannot be encoded; only reachable with a cap above 64 KiB */
		r->tc = true;
		return;
	}
	dns_put16(r->out + start + 10, (uint16_t)rdlen);
	r->an++;
}

/* ---- reading the query name -------------------------------------------------- */

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Index of the first label of the zone suffix in qname, or -1 when qname is not in the zone. */
static int zone_suffix(const struct dns_ctx *ctx, const struct dns_query *pq)
{
	if (pq->nlabels < ctx->zone_labels)
		return -1;
	unsigned first = pq->nlabels - ctx->zone_labels;
	size_t off = pq->label_off[first];
	if (pq->qname_len - off != ctx->zone_len)
		return -1;
	const uint8_t *a = pq->qname + off;
	if (memcmp(a, ctx->zone, ctx->zone_len) == 0) /* most clients send lowercase */
		return (int)first;
	/* Length bytes are below 64, so lowercasing them changes nothing. */
	for (size_t i = 0; i < ctx->zone_len; i++)
		if (lower(a[i]) != ctx->zone[i])
			return -1;
	return (int)first;
}

/* RFC 5782 2.1: one decimal octet, no leading zeros. -1 when not one. */
static int label_octet(const uint8_t *l)
{
	unsigned len = l[0];
	if (len == 0 || len > 3 || (len > 1 && l[1] == '0'))
		return -1;
	unsigned v = 0;
	for (unsigned i = 1; i <= len; i++) {
		unsigned d = (unsigned)l[i] - '0';
		if (d > 9)
			return -1;
		v = v * 10 + d;
	}
	return v > 255 ? -1 : (int)v;
}

/* RFC 5782 2.4: one hex nibble, either case. */
static int label_nibble(const uint8_t *l)
{
	if (l[0] != 1)
		return -1;
	uint8_t c = lower(l[1]);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The n labels left of the zone as a reversed IPv4 address or prefix (RFC 5782 2.1): the
 * octets read, most significant first, left-aligned in *ip. False when they are not octets. */
static bool read_ip4(const struct dns_query *pq, unsigned n, uint32_t *ip)
{
	uint32_t v = 0;
	for (unsigned k = 0; k < n; k++) { /* the label nearest the zone is the first octet */
		int o = label_octet(pq->qname + pq->label_off[n - 1 - k]);
		if (o < 0)
			return false;
		v |= (uint32_t)o << (24 - 8 * k);
	}
	*ip = v;
	return true;
}

/* The same for IPv6 nibbles (RFC 5782 2.4): left-aligned in ip, the rest zero. */
static bool read_ip6(const struct dns_query *pq, unsigned n, uint8_t ip[16])
{
	memset(ip, 0, 16);
	for (unsigned k = 0; k < n; k++) {
		int x = label_nibble(pq->qname + pq->label_off[n - 1 - k]);
		if (x < 0)
			return false;
		ip[k / 2] |= (uint8_t)(k % 2 ? x : x << 4);
	}
	return true;
}

/* ---- the answer ------------------------------------------------------------- */

static void write_header(uint8_t *out, const uint8_t *q, bool aa, bool tc, unsigned rcode,
			 uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	out[0] = q[0];
	out[1] = q[1];
	/* QR=1, OPCODE and RD echoed; RA=0: we are authoritative only. */
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79) | (aa ? 0x04 : 0) | (tc ? 0x02 : 0));
	out[3] = (uint8_t)((q[3] & 0x10) | (rcode & 0x0F)); /* CD echoed */
	dns_put16(out + 4, qd);
	dns_put16(out + 6, an);
	dns_put16(out + 8, ns);
	dns_put16(out + 10, ar);
}

/* The UDP size the answer must fit in (RFC 6891 6.2.3-6.2.5, RFC 1035 4.2.1). */
static size_t answer_limit(const struct dns_ctx *ctx, const struct dns_query *pq, size_t cap,
			   bool tcp)
{
	size_t lim;
	if (tcp) {
		lim = DNS_MAX_MSG;
	} else if (pq && pq->edns) {
		lim = pq->edns_udp < ctx->udp_max ? pq->edns_udp : ctx->udp_max;
		if (lim < DNS_UDP_PLAIN)
			lim = DNS_UDP_PLAIN;
	} else {
		lim = DNS_UDP_PLAIN;
	}
	return lim < cap ? lim : cap;
}

/* Header + question (copied from the query: keeps the client's 0x20 case) and room for the
 * OPT. Returns false when even that does not fit; the caller then sends a bare header. */
static bool reply_begin(struct reply *r, const struct dns_ctx *ctx, const uint8_t *q,
			const struct dns_query *pq, bool with_q, bool with_opt, uint8_t *out,
			size_t cap, bool tcp)
{
	size_t lim = answer_limit(ctx, with_opt ? pq : NULL, cap, tcp);
	size_t qlen = with_q ? pq->question_len : 0;
	size_t optlen = with_opt ? DNS_OPT_RR_LEN : 0;

	if (DNS_HDR_LEN + qlen + optlen > lim)
		return false;
	r->out = out;
	memmove(out + DNS_HDR_LEN, q + DNS_HDR_LEN, qlen); /* out may be q: answering in place */
	r->pos = r->qend = DNS_HDR_LEN + qlen;
	r->room = lim - optlen;
	r->an = r->ns = 0;
	r->tc = false;
	return true;
}

/* Appends the OPT (RFC 6891 6.1.2) and writes the header; returns the message length. */
static size_t reply_end(struct reply *r, const struct dns_ctx *ctx, const uint8_t *q,
			const struct dns_query *pq, bool with_q, bool with_opt, bool aa,
			unsigned rcode)
{
	if (r->tc) {
		/* RFC 7766 / 2181 9: drop the records rather than send a partial RRset; the client
		 * retries over TCP. */
		r->pos = r->qend;
		r->an = r->ns = 0;
	}
	if (with_opt) {
		uint8_t *p = r->out + r->pos;
		p[0] = 0;
		dns_put16(p + 1, DNS_T_OPT);
		dns_put16(p + 3, ctx->udp_max);
		p[5] = (uint8_t)(rcode >> 4); /* extended RCODE, upper 8 bits */
		p[6] = 0;                     /* version 0 */
		p[7] = pq->edns_do ? 0x80 : 0;
		p[8] = 0;
		dns_put16(p + 9, 0);
		r->pos += DNS_OPT_RR_LEN;
	}
	write_header(r->out, q, aa, r->tc, rcode & 0x0F, with_q ? 1 : 0, r->an, r->ns,
		     with_opt ? 1 : 0);
	return r->pos;
}

/* An answer with no records: errors, REFUSED, BADVERS. */
static size_t answer_empty(const struct dns_ctx *ctx, const uint8_t *q, const struct dns_query *pq,
			   bool with_q, bool with_opt, unsigned rcode, uint8_t *out, size_t cap,
			   bool tcp)
{
	struct reply r;
	if (!reply_begin(&r, ctx, q, pq, with_q, with_opt, out, cap, tcp)) {
		write_header(out, q, false, true, rcode & 0x0F, 0, 0, 0, 0);
		return DNS_HDR_LEN;
	}
	return reply_end(&r, ctx, q, pq, with_q, with_opt, false, rcode);
}

/* True when the question's name equals the lowercase wire name n[0..len), without case. */
static bool qname_is(const struct dns_query *pq, const uint8_t *n, size_t len)
{
	if (len != pq->qname_len)
		return false;
	for (size_t k = 0; k < len; k++)
		if (lower(pq->qname[k]) != n[k])
			return false;
	return true;
}

/* The in-zone name server whose name is the question's, or NULL. *above is set when the
 * question names an ancestor of one (ns1 in ns1.dc.<zone> makes dc.<zone> an empty
 * non-terminal: NODATA, not NXDOMAIN, RFC 8020). */
static const struct ctx_glue *glue_find(const struct dns_ctx *ctx, const struct dns_query *pq,
					bool *above)
{
	for (unsigned i = 0; i < ctx->glue_count; i++) {
		const struct ctx_glue *g = &ctx->glue[i];
		if (qname_is(pq, g->name, g->name_len))
			return g;
		size_t off = 0;
		while (g->name[off] && g->name_len - off > pq->qname_len)
			off += 1u + g->name[off];
		if (off > 0 && qname_is(pq, g->name + off, g->name_len - off))
			*above = true;
	}
	return NULL;
}

/* A name server's own name (RFC 1034 4.2.1): its addresses, NODATA for every other type.
 * ANY gets one RRset, A before AAAA, as for a listed address (RFC 8482). */
static unsigned answer_glue(struct reply *r, const struct dns_ctx *ctx, const struct ctx_glue *g,
			    uint16_t qtype, uint16_t soa_owner)
{
	bool any = qtype == DNS_T_ANY;
	if ((qtype == DNS_T_A || any) && g->a_count)
		reply_rrset(r, g->a, g->a_len, g->a_count);
	else if ((qtype == DNS_T_AAAA || any) && g->aaaa_count)
		reply_rrset(r, g->aaaa, g->aaaa_len, g->aaaa_count);
	else
		reply_soa(r, ctx, soa_owner, ctx->neg_ttl, true);
	return DNS_RCODE_NOERROR;
}

/* Names below the apex: listed IPs, empty non-terminals, everything else NXDOMAIN. A name of
 * single-digit labels reads both ways; each reading is parsed only when needed, since the
 * common query is a 4-label IPv4 name. */
static unsigned answer_below(struct reply *r, const struct dns_ctx *ctx,
			     const struct zone_snapshot *snap, const struct dns_query *pq,
			     unsigned n, uint16_t soa_owner, enum dns_client_mode mode,
			     enum dns_rrl_class *rrl)
{
	uint32_t ip4 = 0;
	uint8_t ip6[16];
	const struct zone_class *cls = NULL;
	bool v4 = n <= 4 && read_ip4(pq, n, &ip4);
	int v6 = -1; /* not read yet */
	bool exists = false;
	bool addr = false;

	if (v4 && n == 4)
		addr = true;
	else if (n == 32 && (v6 = read_ip6(pq, n, ip6)) == 1)
		addr = true;
	/* A client over its usage limit, or a public resolver, gets its code about every
	 * address, listed or not (as Spamhaus answers): it must not read "not listed" from
	 * an answer it was refused. */
	if (addr && mode == DNS_CLIENT_EXCESS)
		cls = &ctx->code_excess;
	else if (addr && mode == DNS_CLIENT_PUBLIC_RESOLVER)
		cls = &ctx->code_public;
	else if (addr && n == 4)
		cls = zone_lookup4(snap, ip4);
	else if (addr)
		cls = zone_lookup6(snap, ip6);

	*rrl = DNS_RRL_LISTED;
	if (cls) {
		uint16_t t = pq->qtype;
		if (t == DNS_T_A || t == DNS_T_ANY) { /* RFC 8482: ANY gets the A RRset alone */
			reply_a(r, cls);
			return DNS_RCODE_NOERROR;
		}
		if (t == DNS_T_TXT && cls->txt) {
			char ip[48];
			size_t iplen = n == 4 ? ip4_format(ip4, ip) : ip6_format(ip6, ip);
			reply_txt(r, cls, ip, iplen);
			return DNS_RCODE_NOERROR;
		}
		exists = true;
	} else if (ctx->glue_count && !v4 && v6 != 1) {
		/* Checked last and only for names that are not addresses (config_check keeps name
		 * servers off those), so a list lookup never pays for it. */
		const struct ctx_glue *g = glue_find(ctx, pq, &exists);
		if (g) {
			*rrl = DNS_RRL_ZONE;
			return answer_glue(r, ctx, g, pq->qtype, soa_owner);
		}
	}
	if (!cls) {
		/* Empty non-terminals (RFC 8020 would let a resolver cut the tree at an
		 * NXDOMAIN, so a prefix that has listed addresses below must be NODATA). */
		if (v4 && n < 4)
			exists = zone_any4(snap, ip4, ip4 | (0xFFFFFFFFu >> (8 * n)));
		if (!exists && n < 32) {
			if (v6 < 0)
				v6 = read_ip6(pq, n, ip6);
			if (v6 == 1)
				exists = zone_any6(snap, ip6, 4 * n);
		}
	}
	if (!cls)
		*rrl = DNS_RRL_NEGATIVE;
	reply_soa(r, ctx, soa_owner, ctx->neg_ttl, true);
	return exists ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN;
}

static unsigned answer_apex(struct reply *r, const struct dns_ctx *ctx, uint16_t qtype)
{
	if (qtype == DNS_T_SOA || qtype == DNS_T_ANY) { /* RFC 8482: ANY gets the SOA alone */
		reply_soa(r, ctx, 0xC00C, ctx->soa_ttl, false);
	} else if (qtype == DNS_T_NS && ctx->ns_count > 0) {
		if (reply_has(r, ctx->ns_len)) {
			memcpy(r->out + r->pos, ctx->ns, ctx->ns_len);
			r->pos += ctx->ns_len;
			r->an = ctx->ns_count;
		}
	} else {
		reply_soa(r, ctx, 0xC00C, ctx->neg_ttl, true);
	}
	return DNS_RCODE_NOERROR;
}

/* The answer of dns_answer_client; info is never NULL and its class is ERROR until an
 * answer from the zone is written. */
static size_t answer_query(struct dns_ctx *ctx, const struct zone_snapshot *snap,
			   const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, bool tcp,
			   enum dns_client_mode mode, struct dns_answer_info *info)
{
	struct dns_query pq;

	if (qlen < DNS_HDR_LEN || cap < DNS_HDR_LEN)
		return 0;
	if (q[2] & 0x80) /* a response: answering it could start a loop between two servers */
		return 0;

	enum dns_parse_result pr = dns_query_parse(q, qlen, &pq);
	bool ok = pr == DNS_PARSE_OK;
	bool has_q = pr != DNS_PARSE_BAD;
	if (has_q) {
		info->qname = pq.qname;
		info->qname_len = pq.qname_len;
		info->question_end = DNS_HDR_LEN + pq.question_len;
	}
	if (((q[2] >> 3) & 0x0F) != 0)
		return answer_empty(ctx, q, &pq, has_q, ok && pq.edns, DNS_RCODE_NOTIMP, out, cap,
				    tcp);
	/* FORMERR carries no OPT: we could not read the query's EDNS with confidence. */
	if (!ok)
		return answer_empty(ctx, q, &pq, has_q, false, DNS_RCODE_FORMERR, out, cap, tcp);
	if (pq.edns && pq.edns_version > 0) /* RFC 6891 6.1.3 */
		return answer_empty(ctx, q, &pq, true, true, DNS_RCODE_BADVERS, out, cap, tcp);
	if (!snap)
		return answer_empty(ctx, q, &pq, true, pq.edns, DNS_RCODE_SERVFAIL, out, cap, tcp);
	if (pq.qclass != DNS_C_IN && pq.qclass != DNS_C_ANY)
		return answer_empty(ctx, q, &pq, true, pq.edns, DNS_RCODE_REFUSED, out, cap, tcp);
	int first = zone_suffix(ctx, &pq);
	if (first < 0)
		return answer_empty(ctx, q, &pq, true, pq.edns, DNS_RCODE_REFUSED, out, cap, tcp);
	/* Zone transfers go over TCP (dns_xfr.c, with its ACL and TSIG): AXFR here is one over
	 * UDP (RFC 5936 4.2: not served) or below the apex. IXFR over UDP of the zone gets the
	 * SOA alone (RFC 1995 2: the client then asks over TCP), as a SOA query would. */
	bool ixfr_udp = pq.qtype == DNS_T_IXFR && !tcp && first == 0;
	if ((pq.qtype == DNS_T_AXFR || pq.qtype == DNS_T_IXFR) && !ixfr_udp)
		return answer_empty(ctx, q, &pq, true, pq.edns, DNS_RCODE_REFUSED, out, cap, tcp);

	if ((!ctx->cached || ctx->snap_id != zone_snapshot_id(snap)) && !ctx_refresh(ctx, snap))
		return answer_empty(ctx, q, &pq, true, pq.edns, DNS_RCODE_SERVFAIL, out, cap, tcp);

	struct reply r;
	if (!reply_begin(&r, ctx, q, &pq, true, pq.edns, out, cap, tcp)) {
		write_header(out, q, true, true, DNS_RCODE_NOERROR, 0, 0, 0, 0);
		return DNS_HDR_LEN;
	}
	unsigned rcode;
	if (first == 0) {
		info->cls = DNS_RRL_ZONE;
		rcode = answer_apex(&r, ctx, ixfr_udp ? DNS_T_SOA : pq.qtype);
	} else {
		uint16_t soa_owner = (uint16_t)(0xC000 | (DNS_HDR_LEN + pq.label_off[first]));
		rcode = answer_below(&r, ctx, snap, &pq, (unsigned)first, soa_owner, mode,
				     &info->cls);
	}
	return reply_end(&r, ctx, q, &pq, true, pq.edns, true, rcode);
}

size_t dns_answer_client(struct dns_ctx *ctx, const struct zone_snapshot *snap, const uint8_t *q,
			 size_t qlen, uint8_t *out, size_t cap, bool tcp, enum dns_client_mode mode,
			 struct dns_answer_info *info)
{
	struct dns_answer_info local;
	if (!info)
		info = &local;
	info->cls = DNS_RRL_ERROR;
	info->qname = NULL;
	info->qname_len = 0;
	info->question_end = DNS_HDR_LEN;
	return answer_query(ctx, snap, q, qlen, out, cap, tcp, mode, info);
}

size_t dns_answer(struct dns_ctx *ctx, const struct zone_snapshot *snap, const uint8_t *q,
		  size_t qlen, uint8_t *out, size_t cap, bool tcp)
{
	return dns_answer_client(ctx, snap, q, qlen, out, cap, tcp, DNS_CLIENT_NORMAL, NULL);
}

size_t dns_answer_slip(uint8_t *out, const struct dns_answer_info *info)
{
	/* The question only if the answer carried it (an answer too small for it is a bare
	 * header already); RFC 1035 4.1.1: TC=1 tells the client to ask again over TCP. */
	size_t end = dns_get16(out + 4) == 1 ? info->question_end : DNS_HDR_LEN;
	out[2] |= 0x02;
	dns_put16(out + 4, end > DNS_HDR_LEN ? 1 : 0);
	dns_put16(out + 6, 0);
	dns_put16(out + 8, 0);
	dns_put16(out + 10, 0);
	return end;
}
