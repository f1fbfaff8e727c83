/* zone_lookup.c - lock-free, allocation-free lookups in a snapshot: the DNS workers' hot path. */
#include "zone_internal.h"

/* The /32 part: one index read gives the bucket of the top 16 bits (about n/65536 keys, one or
 * two cache lines of 16-bit keys), then a branch-free binary search within it. */
uint16_t zone_s4_find(const struct zone_s4 *p, uint32_t ip, bool *found)
{
	uint32_t h = ip >> 16, lo = p->idx[h], n = p->idx[h + 1] - lo;
	uint16_t key = (uint16_t)ip;
	const uint16_t *base = p->lo + lo;
	*found = false;
	if (n == 0)
		return 0;
	while (n > 1) {
		uint32_t half = n / 2;
		base = base[half] <= key ? base + half : base;
		n -= half;
	}
	if (*base != key)
		return 0;
	*found = true;
	return p->cls[base - p->lo];
}

uint16_t zone_r4_find(const struct zone_r4 *p, uint32_t ip)
{
	if (p->n == 0)
		return 0;
	const uint32_t *base = p->start;
	size_t n = p->n;
	if (p->idx) {
		uint32_t h = ip >> 16;
		base += p->idx[h];
		n = p->idx[h + 1] - p->idx[h] + 1;
	}
	while (n > 1) {
		size_t half = n / 2;
		base = base[half] <= ip ? base + half : base;
		n -= half;
	}
	return p->cls[base - p->start];
}

/* The overlay is searched by every query while the zone changes: branch-free, like the /32
 * buckets, so that random addresses cost no mispredicted jumps. */
static const struct zone_ov4 *ov4_find(const struct zone_snapshot *s, uint32_t ip)
{
	const struct zone_ov4 *base = s->ov4;
	size_t n = s->nov4;
	if (n == 0)
		return NULL;
	while (n > 1) {
		size_t half = n / 2;
		base = base[half].ip <= ip ? base + half : base;
		n -= half;
	}
	return base->ip == ip ? base : NULL;
}

static uint16_t lookup4_cls(const struct zone_snapshot *s, uint32_t ip)
{
	if (s->nov4) {
		const struct zone_ov4 *o = ov4_find(s, ip);
		if (o)
			return o->cls;
	}
	bool found;
	uint16_t c = zone_s4_find(s->s4, ip, &found);
	if (found)
		return c;
	return zone_r4_find(s->r4, ip);
}

const struct zone_class *zone_lookup4(const struct zone_snapshot *s, uint32_t ip)
{
	uint16_t c = lookup4_cls(s, ip);
	return c ? &s->classes[c] : NULL;
}

/* ---- IPv6 ---- */

static size_t p6_seg(const struct zone_p6 *p, zone_u128 ip)
{
	return zone_u128_floor(p->start, p->nseg, ip);
}

static const struct zone_ov6 *ov6_find_exact(const struct zone_snapshot *s, zone_u128 start,
					     unsigned plen)
{
	size_t lo = 0, hi = s->nov6;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct zone_ov6 *o = &s->ov6[mid];
		if (o->start < start || (o->start == start && o->plen < plen))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nov6 && s->ov6[lo].start == start && s->ov6[lo].plen == plen)
		return &s->ov6[lo];
	return NULL;
}

/* Longest overlay prefix holding ip: one exact search per prefix length in use (lists use
 * /64 and /128, so usually one or two). */
static const struct zone_ov6 *ov6_longest(const struct zone_snapshot *s, zone_u128 ip)
{
	for (int w = 2; w >= 0; w--) {
		uint64_t bits = s->ov6_plens[w];
		while (bits) {
			int top = 63 - __builtin_clzll(bits);
			unsigned plen = (unsigned)(w * 64 + top);
			bits &= ~(1ull << top);
			const struct zone_ov6 *o = ov6_find_exact(s, ip & zone_u128_mask(plen), plen);
			if (o)
				return o;
		}
	}
	return NULL;
}

static uint16_t lookup6_cls(const struct zone_snapshot *s, zone_u128 ip)
{
	size_t i = p6_seg(s->p6, ip);
	if (s->nov6) {
		const struct zone_ov6 *o = ov6_longest(s, ip);
		/* An overlay entry replaces the base entry of the same prefix, and loses to a more
		 * specific base entry, as a rebuild with the change would have it. */
		if (o && (s->p6->plen[i] == ZONE_PLEN_NONE || o->plen >= s->p6->plen[i]))
			return o->cls;
	}
	return s->p6->cls[i];
}

const struct zone_class *zone_lookup6(const struct zone_snapshot *s, const uint8_t ip[16])
{
	uint16_t c = lookup6_cls(s, zone_u128_load(ip));
	return c ? &s->classes[c] : NULL;
}

/* ---- any ---- */
/* Both walk the interval from boundary to boundary (where the answer can change) and stop at
 * the first listed address; in the usual case that is the first or second step. */

/* Smallest /32 key >= from, if one is <= limit. */
static bool s4_next(const struct zone_s4 *p, uint32_t from, uint32_t limit, uint32_t *key)
{
	uint32_t h = from >> 16;
	for (uint32_t i = p->idx[h]; i < p->idx[h + 1]; i++) {
		if (p->lo[i] >= (uint16_t)from) {
			*key = h << 16 | p->lo[i];
			return *key <= limit;
		}
	}
	for (h++; h <= (limit >> 16); h++) {
		if (p->idx[h] < p->idx[h + 1]) {
			*key = h << 16 | p->lo[p->idx[h]];
			return *key <= limit;
		}
	}
	return false;
}

static bool r4_next(const struct zone_r4 *p, uint32_t after, uint32_t *start)
{
	if (p->n == 0)
		return false;
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->start[mid] <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->n)
		return false;
	*start = p->start[lo];
	return true;
}

bool zone_any4(const struct zone_snapshot *s, uint32_t first, uint32_t last)
{
	uint64_t p = first;
	while (p <= last) {
		uint32_t ip = (uint32_t)p;
		if (lookup4_cls(s, ip))
			return true;
		uint64_t next = (uint64_t)last + 1;
		uint32_t k;
		bool found;
		zone_s4_find(s->s4, ip, &found);
		bool point = found || (s->nov4 && ov4_find(s, ip));
		if (point && p + 1 < next)
			next = p + 1;
		if (ip < UINT32_MAX && s4_next(s->s4, ip + 1, last, &k) && k < next)
			next = k;
		if (r4_next(s->r4, ip, &k) && k < next)
			next = k;
		for (size_t i = 0; i < s->nov4; i++) {
			if (s->ov4[i].ip > ip) {
				if (s->ov4[i].ip < next)
					next = s->ov4[i].ip;
				break;
			}
		}
		p = next;
	}
	return false;
}

bool zone_any6(const struct zone_snapshot *s, const uint8_t prefix[16], unsigned plen)
{
	if (plen > 128)
		return false;
	zone_u128 mask = zone_u128_mask(plen);
	zone_u128 p = zone_u128_load(prefix) & mask, last = p | ~mask;
	const struct zone_p6 *b = s->p6;
	for (;;) {
		if (lookup6_cls(s, p))
			return true;
		size_t i = p6_seg(b, p);
		zone_u128 next = last;
		bool more = false;
		if (i + 1 < b->nseg && b->start[i + 1] <= last) {
			next = b->start[i + 1];
			more = true;
		}
		for (size_t j = 0; j < s->nov6; j++) {
			zone_u128 os = s->ov6[j].start, oe = os | ~zone_u128_mask(s->ov6[j].plen);
			if (os > p && os <= last && (!more || os < next)) {
				next = os;
				more = true;
			}
			if (oe >= p && oe < last && (!more || oe + 1 < next)) {
				next = oe + 1;
				more = true;
			}
		}
		if (!more)
			return false;
		p = next;
	}
}
