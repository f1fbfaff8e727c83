/* zone_rr.c - the zone as DNS records for transfers: an iterator over a snapshot that yields one
 * record at a time (apex, glue, listed space as names and wildcards), never the zone whole. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "zone_internal.h"

#define T_A 1
#define T_NS 2
#define T_SOA 6
#define T_TXT 16
#define T_AAAA 28

/* ---- names in wire form ---------------------------------------------------------- */

size_t zone_name_wire(const char *s, uint8_t out[256])
{
	size_t n = strlen(s), o = 0;
	if (n > 0 && s[n - 1] == '.')
		n--;
	size_t i = 0;
	while (i < n) {
		const char *dot = memchr(s + i, '.', n - i);
		size_t len = dot ? (size_t)(dot - (s + i)) : n - i;
		if (len == 0 || len > 63 || o + 1 + len + 1 > 255)
			return 0;
		out[o++] = (uint8_t)len;
		memcpy(out + o, s + i, len);
		o += len;
		i += len + (dot ? 1 : 0);
	}
	out[o++] = 0;
	return o;
}

/* The labels of name below zone (both wire form), or -1 when name is not zone or below it. */
static long rel_len(const uint8_t *name, size_t nlen, const uint8_t *zone, size_t zlen)
{
	size_t off = 0;
	while (off < nlen && nlen - off > zlen)
		off += 1u + name[off];
	if (off >= nlen || nlen - off != zlen)
		return -1;
	for (size_t i = 0; i < zlen; i++) {
		uint8_t a = name[off + i], b = zone[i];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + 32);
		if (a != b)
			return -1;
	}
	return (long)off;
}

/* ---- one listed name's records ------------------------------------------------------ */

int zone_rr_buf_room(struct zone_rr_buf *b, size_t need)
{
	if (need <= b->cap)
		return ZONE_OK;
	size_t cap = b->cap ? b->cap : 512;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return ZONE_ENOMEM;
	b->data = p;
	b->cap = cap;
	return ZONE_OK;
}

size_t zone_rr_owner(uint8_t *w, unsigned width, zone_u128 a, unsigned depth, bool wild)
{
	static const char hex[] = "0123456789abcdef";
	unsigned step = width == 32 ? 8 : 4;
	uint8_t *p = w;
	if (wild) {
		*p++ = 1;
		*p++ = '*';
	}
	for (unsigned d = depth; d > 0; d--) {
		unsigned label = (unsigned)(a >> (width - d * step)) & ((1u << step) - 1);
		if (step == 4) {
			*p++ = 1;
			*p++ = (uint8_t)hex[label];
		} else {
			char num[4];
			int n = 0;
			do {
				num[n++] = (char)('0' + label % 10);
				label /= 10;
			} while (label);
			*p++ = (uint8_t)n;
			while (n)
				*p++ = (uint8_t)num[--n];
		}
	}
	return (size_t)(p - w);
}

int zone_rr_txt(struct zone_rr_buf *b, const struct zone_class *c, unsigned width, zone_u128 a,
		unsigned plen)
{
	char sub[IP_PREFIX_STRLEN];
	size_t sn;
	if (width == 32) {
		sn = ip4_format((uint32_t)a, sub);
	} else {
		uint8_t bytes[16];
		zone_u128 v = a;
		for (int i = 15; i >= 0; i--, v >>= 8)
			bytes[i] = (uint8_t)v;
		sn = ip6_format(bytes, sub);
	}
	/* A wildcard cannot know the address asked for: its TXT names the block (CIDR). */
	if (plen < width)
		sn += (size_t)snprintf(sub + sn, sizeof sub - sn, "/%u", plen);
	const char *t = c->txt, *end = c->txt + c->txt_len;
	size_t dollars = 0;
	for (const char *d = t; (d = memchr(d, '$', (size_t)(end - d))) != NULL; d++)
		dollars++;
	size_t text = c->txt_len - dollars + dollars * sn;
	/* RFC 1035 3.3.14: character-strings of at most 255 bytes, each after its length. */
	size_t need = text + text / 255 + 1;
	if (need > 65535)
		return ZONE_ETOOMANY;
	if (zone_rr_buf_room(b, need) != ZONE_OK)
		return ZONE_ENOMEM;
	uint8_t *o = b->data;
	if (text <= 255) {
		/* One string (the usual text): copied a run at a time, not a byte at a time: an
		 * AXFR writes one of these for every listing. */
		size_t len = 0;
		o[len++] = (uint8_t)text;
		while (t < end) {
			const char *d = memchr(t, '$', (size_t)(end - t));
			size_t n = d ? (size_t)(d - t) : (size_t)(end - t);
			memcpy(o + len, t, n);
			len += n;
			t += n;
			if (d) {
				memcpy(o + len, sub, sn);
				len += sn;
				t++;
			}
		}
		b->len = len;
		return ZONE_OK;
	}
	size_t len = 0, chunk = 0;
	o[len++] = 0;
	for (uint32_t i = 0; i < c->txt_len; i++) {
		const char *s = c->txt[i] == '$' ? sub : &c->txt[i];
		size_t n = c->txt[i] == '$' ? sn : 1;
		for (size_t k = 0; k < n; k++) {
			if (o[chunk] == 255) {
				chunk = len;
				o[len++] = 0;
			}
			o[len++] = (uint8_t)s[k];
			o[chunk]++;
		}
	}
	b->len = len;
	return ZONE_OK;
}

/* ---- the listed space as segments ------------------------------------------------------ */
/* The address space in order, as runs [first, last] of one class other than "not listed": the
 * /32 entries (overlay over base) cut into the flattened ranges, read straight from the
 * snapshot's arrays with a few cursors. A /32 entry that answers what the range around it
 * answers does not cut it, so a /24 stays one run and becomes one wildcard. */

struct zone_seg {
	zone_u128 first, last;
	uint16_t cls;
	bool single; /* a /32 or /128 entry: a listed address, never an expansion */
};

struct seg4 {
	const struct zone_snapshot *s;
	uint64_t pos;     /* the first address not yet given out */
	size_t pi;        /* s4 entry */
	uint32_t ph;      /* its top 16 bits */
	size_t oi;        /* overlay entry */
	size_t ri, rj;    /* range segment at pos; at the entry being looked at */
	bool have_e;      /* the next /32 entry e is known */
	uint64_t e;
	uint16_t ecls;
};

static uint16_t r4_class_at(const struct zone_r4 *r, size_t *j, uint64_t a)
{
	if (r->n == 0)
		return 0;
	while (*j + 1 < r->n && r->start[*j + 1] <= a)
		(*j)++;
	return r->cls[*j];
}

/* The next /32 entry at or after pos that cuts a range: e (2^32 when none). */
static void seg4_entry(struct seg4 *g)
{
	const struct zone_s4 *p = g->s->s4;
	for (;;) {
		uint64_t ip_s = UINT64_MAX, ip_o = UINT64_MAX;
		while (g->pi < p->n && p->idx[g->ph + 1] <= g->pi)
			g->ph++;
		if (g->pi < p->n)
			ip_s = (uint64_t)g->ph << 16 | p->lo[g->pi];
		if (g->oi < g->s->nov4)
			ip_o = g->s->ov4[g->oi].ip;
		if (ip_s == UINT64_MAX && ip_o == UINT64_MAX) {
			g->e = (uint64_t)1 << 32;
			g->ecls = 0;
			break;
		}
		uint16_t cls;
		uint64_t e;
		if (ip_o <= ip_s) { /* the overlay answers for its address, a delete included */
			e = ip_o;
			cls = g->s->ov4[g->oi++].cls;
			if (ip_s == ip_o)
				g->pi++;
		} else {
			e = ip_s;
			cls = p->cls[g->pi++];
		}
		if (cls == r4_class_at(g->s->r4, &g->rj, e))
			continue; /* answers as the range does: no cut */
		g->e = e;
		g->ecls = cls;
		break;
	}
	g->have_e = true;
}

static bool seg4_next(struct seg4 *g, struct zone_seg *out)
{
	const struct zone_r4 *r = g->s->r4;
	while (g->pos < ((uint64_t)1 << 32)) {
		if (!g->have_e)
			seg4_entry(g);
		if (g->pos == g->e) {
			g->pos++;
			g->have_e = false;
			if (g->ecls == 0)
				continue;
			out->first = out->last = g->e;
			out->cls = g->ecls;
			out->single = true;
			return true;
		}
		/* Range space in [pos, e). */
		uint16_t cls = r4_class_at(r, &g->ri, g->pos);
		uint64_t end = r->n && g->ri + 1 < r->n ? r->start[g->ri + 1] : (uint64_t)1 << 32;
		if (end > g->e)
			end = g->e;
		uint64_t first = g->pos;
		g->pos = end;
		if (cls == 0)
			continue;
		out->first = first;
		out->last = end - 1;
		out->cls = cls;
		out->single = false;
		return true;
	}
	return false;
}

struct seg6 {
	const struct zone_p6 *p;
	size_t i;
};

static bool seg6_next(struct seg6 *g, struct zone_seg *out)
{
	const struct zone_p6 *p = g->p;
	while (g->i < p->nseg) {
		size_t i = g->i++;
		if (p->cls[i] == 0)
			continue;
		out->first = p->start[i];
		out->last = i + 1 < p->nseg ? p->start[i + 1] - 1 : ~(zone_u128)0;
		out->cls = p->cls[i];
		out->single = p->plen[i] == 128 && out->first == out->last;
		return true;
	}
	return false;
}

/* ---- the iterator ---------------------------------------------------------------------- */

enum iter_phase {
	IT_SOA_FIRST, IT_NS, IT_GLUE, IT_V4, IT_V6, IT_SOA_LAST, IT_DONE
};

struct zone_iter {
	const struct zone_snapshot *s;
	enum iter_phase phase;
	uint8_t zone[256];
	size_t zone_len;
	size_t budget, skipped;
	unsigned ns_i, glue_i, glue_k;
	uint8_t soa[2 * 256 + 20];
	size_t soa_len;
	/* the listed space */
	struct seg4 g4;
	struct seg6 g6;
	struct zone_p6 *merged; /* the v6 part with its overlay merged in, when it has one */
	unsigned width;
	bool in_seg;
	struct zone_seg seg;
	zone_u128 p;            /* the next block of seg */
	bool txt_due;           /* the name's A went out; its TXT is next */
	unsigned bdepth;        /* the current name: depth in labels, wildcard or not */
	bool bwild;
	zone_u128 baddr;
	uint8_t owner[2 + 32 * 2];
	size_t owner_len;
	uint8_t a[4];
	uint8_t name[256];      /* NS or glue owner scratch */
	struct zone_rr_buf txt;
};

static void iter_soa(struct zone_iter *it)
{
	const struct zone_soa *soa = &it->s->soa;
	uint8_t *p = it->soa;
	size_t o = 0;
	size_t n = soa->mname[0] ? zone_name_wire(soa->mname, p) : 0;
	if (n == 0) { /* as the BIND export: ns1.<zone> */
		p[0] = 3;
		memcpy(p + 1, "ns1", 3);
		memcpy(p + 4, it->zone, it->zone_len);
		n = 4 + it->zone_len;
	}
	o += n;
	n = soa->rname[0] ? zone_name_wire(soa->rname, p + o) : 0;
	if (n == 0) {
		p[o] = 10;
		memcpy(p + o + 1, "hostmaster", 10);
		memcpy(p + o + 11, it->zone, it->zone_len);
		n = 11 + it->zone_len;
	}
	o += n;
	uint32_t v[5] = { soa->serial, soa->refresh, soa->retry, soa->expire, soa->minimum };
	for (int i = 0; i < 5; i++, o += 4) {
		p[o] = (uint8_t)(v[i] >> 24);
		p[o + 1] = (uint8_t)(v[i] >> 16);
		p[o + 2] = (uint8_t)(v[i] >> 8);
		p[o + 3] = (uint8_t)v[i];
	}
	it->soa_len = o;
}

int zone_iter_new(const struct zone_snapshot *s, const char *zone, size_t expand_max,
		  struct zone_iter **out)
{
	if (!s || !zone || !out)
		return ZONE_EINVAL;
	struct zone_iter *it = calloc(1, sizeof *it);
	if (!it)
		return ZONE_ENOMEM;
	it->s = s;
	it->zone_len = zone_name_wire(zone, it->zone);
	if (it->zone_len == 0) {
		free(it);
		return ZONE_EINVAL;
	}
	if (s->nov6) {
		it->merged = zone_p6_merged(s);
		if (!it->merged) {
			free(it);
			return ZONE_ENOMEM;
		}
	}
	it->g4.s = s;
	it->g6.p = it->merged ? it->merged : s->p6;
	it->budget = expand_max;
	iter_soa(it);
	*out = it;
	return ZONE_OK;
}

void zone_iter_free(struct zone_iter *it)
{
	if (!it)
		return;
	zone_p6_unref(it->merged);
	free(it->txt.data);
	free(it);
}

size_t zone_iter_skipped(const struct zone_iter *it)
{
	return it->skipped;
}

static void rr_set(struct zone_rr *rr, const uint8_t *owner, size_t owner_len, uint16_t type,
		   uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	rr->owner = owner;
	rr->owner_len = owner_len;
	rr->type = type;
	rr->ttl = ttl;
	rr->rdata = rdata;
	rr->rdlen = rdlen;
}

/* The glue of an in-zone name server (RFC 1034 4.2.1), as the BIND export writes it. */
static bool iter_glue(struct zone_iter *it, struct zone_rr *rr)
{
	const struct zone_glue *g = &it->s->glue;
	while (it->glue_i < g->count) {
		const struct zone_glue_name *gn = &g->names[it->glue_i];
		size_t nlen = zone_name_wire(gn->name, it->name);
		long rel = nlen ? rel_len(it->name, nlen, it->zone, it->zone_len) : -1;
		unsigned k = it->glue_k++;
		if (rel >= 0 && k < gn->n4) {
			it->a[0] = (uint8_t)(gn->a4[k] >> 24);
			it->a[1] = (uint8_t)(gn->a4[k] >> 16);
			it->a[2] = (uint8_t)(gn->a4[k] >> 8);
			it->a[3] = (uint8_t)gn->a4[k];
			rr_set(rr, it->name, (size_t)rel, T_A, g->ttl, it->a, 4);
			return true;
		}
		if (rel >= 0 && k < gn->n4 + gn->n6) {
			rr_set(rr, it->name, (size_t)rel, T_AAAA, g->ttl, gn->a6[k - gn->n4], 16);
			return true;
		}
		it->glue_i++;
		it->glue_k = 0;
	}
	return false;
}

/* The next block of the current run: the largest label-aligned node inside it (a wildcard
 * when it is more than one address), never the whole space (depth 0 would be the apex). */
static void iter_block(struct zone_iter *it)
{
	unsigned step = it->width == 32 ? 8 : 4;
	unsigned k = it->width - step;
	for (;; k -= step) {
		zone_u128 span = ((zone_u128)1 << k) - 1;
		if ((it->p & span) == 0 && it->p + span <= it->seg.last && it->p + span >= it->p)
			break;
		if (k == 0)
			break;
	}
	it->baddr = it->p;
	it->bdepth = (it->width - k) / step;
	it->bwild = k > 0;
	zone_u128 blast = it->p + (((zone_u128)1 << k) - 1);
	if (blast == it->seg.last)
		it->in_seg = false;
	else
		it->p = blast + 1;
}

/* The next listed name of the space being walked (v4 or v6); false at its end. */
static bool iter_name(struct zone_iter *it)
{
	for (;;) {
		if (!it->in_seg) {
			bool got = it->width == 32 ? seg4_next(&it->g4, &it->seg)
						   : seg6_next(&it->g6, &it->seg);
			if (!got)
				return false;
			it->in_seg = true;
			it->p = it->seg.first;
		}
		iter_block(it);
		if (it->seg.single)
			return true;
		/* An expansion of a range: counted against the budget, left out past it. */
		if (it->budget == 0) {
			it->skipped++;
			continue;
		}
		it->budget--;
		return true;
	}
}

/* The listed space's next record: a name's A, then its TXT. 1, 0 at the end, or an error. */
static int iter_space(struct zone_iter *it, struct zone_rr *rr)
{
	const struct zone_class *c;
	if (it->txt_due) {
		it->txt_due = false;
		c = &it->s->classes[it->seg.cls];
		unsigned step = it->width == 32 ? 8 : 4;
		int rc = zone_rr_txt(&it->txt, c, it->width, it->baddr, it->bdepth * step);
		if (rc != ZONE_OK)
			return rc;
		rr_set(rr, it->owner, it->owner_len, T_TXT, c->ttl, it->txt.data, it->txt.len);
		return 1;
	}
	if (!iter_name(it))
		return 0;
	c = &it->s->classes[it->seg.cls];
	it->owner_len = zone_rr_owner(it->owner, it->width, it->baddr, it->bdepth, it->bwild);
	it->a[0] = (uint8_t)(c->a >> 24);
	it->a[1] = (uint8_t)(c->a >> 16);
	it->a[2] = (uint8_t)(c->a >> 8);
	it->a[3] = (uint8_t)c->a;
	rr_set(rr, it->owner, it->owner_len, T_A, c->ttl, it->a, 4);
	it->txt_due = c->txt != NULL;
	return 1;
}

int zone_iter_next(struct zone_iter *it, struct zone_rr *rr)
{
	const struct zone_snapshot *s = it->s;
	int rc;
	switch (it->phase) {
	case IT_SOA_FIRST:
		it->phase = IT_NS;
		rr_set(rr, NULL, 0, T_SOA, s->soa.ttl, it->soa, it->soa_len);
		return 1;
	case IT_NS:
		if (s->ns.count == 0 && it->ns_i == 0) { /* a zone must have NS: the SOA primary */
			it->ns_i = 1;
			size_t mlen = 0;
			while (it->soa[mlen])
				mlen += 1u + it->soa[mlen];
			rr_set(rr, NULL, 0, T_NS, s->soa.ttl, it->soa, mlen + 1);
			return 1;
		}
		if (it->ns_i < s->ns.count) {
			size_t n = zone_name_wire(s->ns.names[it->ns_i++], it->name);
			if (n == 0)
				return zone_iter_next(it, rr);
			rr_set(rr, NULL, 0, T_NS, s->ns.ttl, it->name, n);
			return 1;
		}
		it->phase = IT_GLUE;
		/* fall through */
	case IT_GLUE:
		if (iter_glue(it, rr))
			return 1;
		it->phase = IT_V4;
		it->width = 32;
		it->in_seg = false;
		/* fall through */
	case IT_V4:
		rc = iter_space(it, rr);
		if (rc != 0)
			return rc;
		it->phase = IT_V6;
		it->width = 128;
		it->in_seg = false;
		/* fall through */
	case IT_V6:
		rc = iter_space(it, rr);
		if (rc != 0)
			return rc;
		it->phase = IT_SOA_LAST;
		/* fall through */
	case IT_SOA_LAST:
		it->phase = IT_DONE;
		rr_set(rr, NULL, 0, T_SOA, s->soa.ttl, it->soa, it->soa_len);
		return 1;
	case IT_DONE:
		break;
	}
	return 0;
}

int zone_snapshot_pin(const struct zone_snapshot *s, struct zone_snapshot **out)
{
	if (!s)
		return ZONE_EINVAL;
	return zone_snapshot_apply(s, NULL, 0, s->soa.serial, out);
}
