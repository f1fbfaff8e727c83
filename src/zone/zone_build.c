/* zone_build.c - the zone builder: answer class interning, entry collection and snapshot build. */
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "base/base.h"
#include "zone_internal.h"

static atomic_uint_fast64_t zone_id_counter = 1;

uint64_t zone_next_id(void)
{
	return atomic_fetch_add(&zone_id_counter, 1);
}

/* ---- classes ---- */

static uint64_t class_hash(uint32_t a, uint32_t ttl, const char *txt, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	uint64_t mix[3] = { a, ttl, txt ? len + 1 : 0 };
	for (int i = 0; i < 3; i++)
		h = (h ^ mix[i]) * 1099511628211ull;
	for (size_t i = 0; txt && i < len; i++)
		h = (h ^ (unsigned char)txt[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static bool class_equal(const struct zone_bclass *c, uint32_t a, uint32_t ttl, const char *txt,
			size_t len)
{
	if (c->a != a || c->ttl != ttl || (c->txt == NULL) != (txt == NULL))
		return false;
	return !txt || (c->txt_len == len && memcmp(c->txt, txt, len) == 0);
}

static int hash_rebuild(struct zone_builder *b, size_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	if (!h)
		return ZONE_ENOMEM;
	for (size_t id = 1; id <= b->nclass; id++) {
		const struct zone_bclass *c = &b->classes[id];
		size_t i = class_hash(c->a, c->ttl, c->txt, c->txt_len) & (cap - 1);
		while (h[i])
			i = (i + 1) & (cap - 1);
		h[i] = (uint32_t)id;
	}
	free(b->hash);
	b->hash = h;
	b->hashcap = cap;
	return 0;
}

int zone_builder_class(struct zone_builder *b, uint32_t a, const char *txt, size_t txt_len,
		       uint32_t ttl, uint16_t *id)
{
	if (!b || !id || txt_len > UINT32_MAX)
		return ZONE_EINVAL;
	size_t mask = b->hashcap - 1;
	size_t i = class_hash(a, ttl, txt, txt_len) & mask;
	for (; b->hash[i]; i = (i + 1) & mask) {
		if (class_equal(&b->classes[b->hash[i]], a, ttl, txt, txt_len)) {
			*id = (uint16_t)b->hash[i];
			return 0;
		}
	}
	if (b->nclass >= ZONE_CLASS_MAX)
		return ZONE_ETOOMANY;
	if (array_grow((void **)&b->classes, &b->capclass, b->nclass + 2, sizeof(*b->classes)))
		return ZONE_ENOMEM;
	struct zone_bclass *c = &b->classes[b->nclass + 1];
	c->a = a;
	c->ttl = ttl;
	c->txt = NULL;
	c->txt_len = 0;
	if (txt) {
		c->txt = malloc(txt_len + 1);
		if (!c->txt)
			return ZONE_ENOMEM;
		memcpy(c->txt, txt, txt_len);
		c->txt[txt_len] = '\0';
		c->txt_len = (uint32_t)txt_len;
	}
	b->nclass++;
	b->hash[i] = (uint32_t)b->nclass;
	if (b->nclass * 2 > b->hashcap && hash_rebuild(b, b->hashcap * 2))
		return ZONE_ENOMEM; /* the class exists; only the table stays small */
	*id = (uint16_t)b->nclass;
	return 0;
}

int zone_builder_default_class(struct zone_builder *b, uint16_t *id)
{
	if (!b || !id)
		return ZONE_EINVAL;
	if (!b->cur_valid) {
		int rc = zone_builder_class(b, b->cur_a, b->cur_txt, b->cur_txt_len, b->cur_ttl,
					    &b->cur_id);
		if (rc)
			return rc;
		b->cur_valid = true;
	}
	*id = b->cur_id;
	return 0;
}

static int set_cur_txt(struct zone_builder *b, const char *txt, size_t len)
{
	char *copy = NULL;
	if (txt) {
		copy = malloc(len + 1);
		if (!copy)
			return ZONE_ENOMEM;
		memcpy(copy, txt, len);
		copy[len] = '\0';
	}
	free(b->cur_txt);
	b->cur_txt = copy;
	b->cur_txt_len = (uint32_t)len;
	b->cur_valid = false;
	return 0;
}

int zone_builder_set_default(struct zone_builder *b, uint32_t a, const char *txt, size_t txt_len)
{
	b->cur_a = a;
	return set_cur_txt(b, txt, txt_len);
}

void zone_builder_set_ttl(struct zone_builder *b, uint32_t ttl)
{
	b->cur_ttl = ttl;
	b->cur_valid = false;
}

void zone_builder_reset_default(struct zone_builder *b)
{
	b->cur_a = b->def_a;
	if (set_cur_txt(b, b->def_txt, b->def_txt ? strlen(b->def_txt) : 0) == 0)
		return;
	/* Out of memory: keep the old template rather than fail a section switch. */
}

/* ---- builder ---- */

struct zone_builder *zone_builder_new(const struct zone_defaults *d)
{
	struct zone_builder *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	if (d) {
		b->soa = d->soa;
		b->def_a = d->a;
		b->def_ttl = d->ttl;
		if (zone_ns_copy(&b->ns, &d->ns) || zone_glue_copy(&b->glue, &d->glue))
			goto fail;
	} else {
		b->def_a = ZONE_TP_LISTED;
		b->def_ttl = 2100;
	}
	if (d && d->txt) {
		b->def_txt = strdup(d->txt);
		if (!b->def_txt)
			goto fail;
	}
	b->cur_a = b->def_a;
	b->cur_ttl = b->def_ttl;
	if (set_cur_txt(b, b->def_txt, b->def_txt ? strlen(b->def_txt) : 0))
		goto fail;
	if (array_grow((void **)&b->classes, &b->capclass, 16, sizeof(*b->classes)))
		goto fail;
	if (hash_rebuild(b, 64))
		goto fail;
	return b;
fail:
	zone_builder_free(b);
	return NULL;
}

void zone_builder_free(struct zone_builder *b)
{
	if (!b)
		return;
	for (size_t i = 1; i <= b->nclass; i++)
		free(b->classes[i].txt);
	free(b->classes);
	free(b->hash);
	free(b->def_txt);
	free(b->cur_txt);
	free(b->singles);
	free(b->ranges);
	free(b->v6);
	zone_ns_free(&b->ns);
	zone_glue_free(&b->glue);
	free(b);
}

int zone_builder_add4(struct zone_builder *b, uint32_t first, uint32_t last, uint16_t class_id)
{
	if (!b || first > last || class_id > b->nclass)
		return ZONE_EINVAL;
	if (first == last) {
		if (b->nsingle == b->capsingle &&
		    array_grow((void **)&b->singles, &b->capsingle, b->nsingle + 1, sizeof(uint64_t)))
			return ZONE_ENOMEM;
		b->singles[b->nsingle++] = (uint64_t)first << 32 | class_id;
		return 0;
	}
	if (array_grow((void **)&b->ranges, &b->caprange, b->nrange + 1, sizeof(*b->ranges)))
		return ZONE_ENOMEM;
	b->ranges[b->nrange++] = (struct zone_r4in){ first, last, class_id };
	return 0;
}

int zone_builder_add6(struct zone_builder *b, const uint8_t prefix[16], unsigned plen,
		      uint16_t class_id)
{
	if (!b || !prefix || plen > 128 || class_id > b->nclass)
		return ZONE_EINVAL;
	zone_u128 v = zone_u128_load(prefix);
	if (v & ~zone_u128_mask(plen))
		return ZONE_EINVAL;
	if (array_grow((void **)&b->v6, &b->capv6, b->nv6 + 1, sizeof(*b->v6)))
		return ZONE_ENOMEM;
	b->v6[b->nv6++] = (struct zone_e6){ .start = v, .cls = class_id, .plen = (uint8_t)plen };
	return 0;
}

void zone_builder_set_soa(struct zone_builder *b, const struct zone_soa *soa)
{
	b->soa = *soa;
}

int zone_builder_set_ns(struct zone_builder *b, const struct zone_ns *ns)
{
	struct zone_ns copy;
	int rc = zone_ns_copy(&copy, ns);
	if (rc != ZONE_OK)
		return rc;
	zone_ns_free(&b->ns);
	b->ns = copy;
	return ZONE_OK;
}

size_t zone_builder_count(const struct zone_builder *b)
{
	return b ? b->nsingle + b->nrange + b->nv6 : 0;
}

/* ---- sorting ---- */

/* Stable LSD radix sort of 64-bit items on their top 32 bits, 3 passes of 11/11/10 bits (2048
 * buckets keep the scatter inside the cache, where 2x16 bits thrashed the TLB at 1M items).
 * Returns whichever of a and tmp holds the result. */
uint64_t *zone_radix_sort_hi32(uint64_t *a, uint64_t *tmp, size_t n)
{
	static const unsigned shift[3] = { 32, 43, 54 };
	static const unsigned bits[3] = { 11, 11, 10 };
	for (int pass = 0; pass < 3; pass++) {
		size_t count[2048] = { 0 };
		uint64_t mask = (1u << bits[pass]) - 1;
		for (size_t i = 0; i < n; i++)
			count[(a[i] >> shift[pass]) & mask]++;
		size_t sum = 0;
		for (size_t k = 0; k <= mask; k++) {
			size_t c = count[k];
			count[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(a[i] >> shift[pass]) & mask]++] = a[i];
		uint64_t *t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

static bool sorted_hi32(const uint64_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if ((a[i] >> 32) < (a[i - 1] >> 32))
			return false;
	return true;
}

#define NATURAL_RUNS_MAX 8

/* Files are usually sorted but for a few lines (a test point first, a tail appended later):
 * up to NATURAL_RUNS_MAX sorted runs are merged pairwise, sequentially, which is several times
 * cheaper than the radix passes' scatter. Returns the array holding the result, NULL when the
 * input has too many runs. */
static uint64_t *natural_merge_hi32(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t bound[NATURAL_RUNS_MAX + 1], runs = 0;
	bound[0] = 0;
	for (size_t i = 1; i < n; i++) {
		if ((a[i] >> 32) < (a[i - 1] >> 32)) {
			if (++runs == NATURAL_RUNS_MAX)
				return NULL;
			bound[runs] = i;
		}
	}
	bound[++runs] = n;
	while (runs > 1) {
		size_t nr = 0;
		for (size_t r = 0; r < runs; r += 2) {
			size_t lo = bound[r], mid = bound[r + 1];
			size_t hi = r + 1 < runs ? bound[r + 2] : mid;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = (a[j] >> 32) < (a[i] >> 32) ? a[j++] : a[i++];
			while (i < mid)
				tmp[k++] = a[i++];
			while (j < hi)
				tmp[k++] = a[j++];
			bound[nr++] = lo;
		}
		bound[nr] = n;
		runs = nr;
		uint64_t *t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/* Stable sort on the top 32 bits; returns whichever of a and tmp holds the result. */
static uint64_t *sort_hi32(uint64_t *a, uint64_t *tmp, size_t n)
{
	if (sorted_hi32(a, n))
		return a;
	uint64_t *r = natural_merge_hi32(a, tmp, n);
	return r ? r : zone_radix_sort_hi32(a, tmp, n);
}

/* Sorts the builder's singles by address and keeps one per address, in place: the exclusion
 * if any, else the last added. The builder's meaning does not change, so a second build (or
 * more entries, then a build) sees the same entries. */
static int singles_sort_dedup(struct zone_builder *b)
{
	size_t n = b->nsingle;
	if (n > 1 && !sorted_hi32(b->singles, n)) {
		uint64_t *tmp = malloc(n * sizeof(*tmp));
		if (!tmp)
			return ZONE_ENOMEM;
		uint64_t *res = sort_hi32(b->singles, tmp, n);
		if (res == tmp) {
			free(b->singles);
			b->singles = tmp;
			b->capsingle = n;
		} else {
			free(tmp);
		}
	}
	uint64_t *a = b->singles;
	size_t out = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool excl = false;
		while (j < n && (a[j] >> 32) == (a[i] >> 32)) {
			excl |= (uint16_t)a[j] == 0;
			j++;
		}
		a[out++] = excl ? (a[i] >> 32) << 32 : a[j - 1];
		i = j;
	}
	b->nsingle = out;
	return 0;
}

/* ---- IPv4 /32 part ---- */

void zone_s4_unref(struct zone_s4 *p)
{
	if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	free(p->lo);
	free(p->cls);
	free(p->idx);
	free(p);
}

size_t zone_s4_bytes(const struct zone_s4 *p)
{
	return sizeof(*p) + p->n * (2 * sizeof(uint16_t)) + ZONE_IDX_SIZE * sizeof(uint32_t);
}

struct zone_s4 *zone_s4_from_sorted(const uint64_t *items, size_t n, uint16_t tp_cls)
{
	struct zone_s4 *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	p->lo = malloc((n + 2) * sizeof(uint16_t));
	p->cls = malloc((n + 2) * sizeof(uint16_t));
	p->idx = calloc(ZONE_IDX_SIZE, sizeof(uint32_t));
	if (!p->lo || !p->cls || !p->idx) {
		zone_s4_unref(p);
		return NULL;
	}
	/* Merge the two test points into the sorted stream; they override the data (RFC 5782),
	 * except that a data class listing 127.0.0.2 keeps answering for it. */
	uint64_t tp[2] = { (uint64_t)ZONE_TP_UNLISTED << 32, (uint64_t)ZONE_TP_LISTED << 32 | tp_cls };
	size_t i = 0, t = 0, k = 0;
	while (i < n || t < 2) {
		uint64_t it;
		if (t < 2 && (i == n || (items[i] >> 32) >= (tp[t] >> 32))) {
			it = tp[t];
			if (i < n && (items[i] >> 32) == (tp[t] >> 32)) {
				if (t == 1 && (uint16_t)items[i] != 0)
					it = items[i];
				i++;
			}
			t++;
		} else {
			it = items[i++];
		}
		uint32_t ip = (uint32_t)(it >> 32);
		p->lo[k] = (uint16_t)ip;
		p->cls[k] = (uint16_t)it;
		p->idx[(ip >> 16) + 1]++;
		k++;
	}
	p->n = k;
	for (size_t h = 1; h < ZONE_IDX_SIZE; h++)
		p->idx[h] += p->idx[h - 1];
	return p;
}

/* ---- IPv4 ranges ---- */

void zone_r4_unref(struct zone_r4 *p)
{
	if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	free(p->start);
	free(p->cls);
	free(p->idx);
	free(p);
}

size_t zone_r4_bytes(const struct zone_r4 *p)
{
	size_t b = sizeof(*p) + p->n * (sizeof(uint32_t) + sizeof(uint16_t));
	return p->idx ? b + ZONE_IDX_SIZE * sizeof(uint32_t) : b;
}

/* Heap order for overlapping ranges: the smaller one wins, then the exclusion, then the later. */
static bool range_beats(const struct zone_r4in *r, uint32_t x, uint32_t y)
{
	uint64_t sx = (uint64_t)r[x].last - r[x].first, sy = (uint64_t)r[y].last - r[y].first;
	if (sx != sy)
		return sx < sy;
	if ((r[x].cls == 0) != (r[y].cls == 0))
		return r[x].cls == 0;
	return x > y;
}

static void heap_push(uint32_t *h, size_t *n, uint32_t v, const struct zone_r4in *r)
{
	size_t i = (*n)++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!range_beats(r, v, h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = v;
}

static void heap_pop(uint32_t *h, size_t *n, const struct zone_r4in *r)
{
	uint32_t v = h[--(*n)];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && range_beats(r, h[c + 1], h[c]))
			c++;
		if (!range_beats(r, h[c], v))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

static void r4_emit(struct zone_r4 *p, uint32_t start, uint16_t cls)
{
	if (p->n && p->cls[p->n - 1] == cls)
		return;
	p->start[p->n] = start;
	p->cls[p->n] = cls;
	p->n++;
}

/* Sweeps the ranges in order of their first address with a heap of the open ones: the top of
 * the heap is the winner until it ends or a new range starts, so each step pushes or pops. */
static int r4_flatten(struct zone_r4 *p, const struct zone_r4in *r, const uint64_t *order, size_t n)
{
	uint32_t *heap = malloc(n * sizeof(*heap));
	if (!heap)
		return ZONE_ENOMEM;
	size_t hn = 0, i = 0;
	uint64_t pos = 0;
	while (pos <= UINT32_MAX) {
		while (i < n && (order[i] >> 32) <= pos)
			heap_push(heap, &hn, (uint32_t)order[i++], r);
		while (hn && r[heap[0]].last < pos)
			heap_pop(heap, &hn, r);
		uint64_t next = i < n ? order[i] >> 32 : (uint64_t)UINT32_MAX + 1;
		uint16_t cls = 0;
		if (hn) {
			cls = r[heap[0]].cls;
			if ((uint64_t)r[heap[0]].last + 1 < next)
				next = (uint64_t)r[heap[0]].last + 1;
		}
		r4_emit(p, (uint32_t)pos, cls);
		pos = next;
	}
	free(heap);
	return 0;
}

static int r4_index(struct zone_r4 *p)
{
	p->idx = malloc(ZONE_IDX_SIZE * sizeof(uint32_t));
	if (!p->idx)
		return ZONE_ENOMEM;
	size_t j = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		uint32_t at = h << 16;
		while (j + 1 < p->n && p->start[j + 1] <= at)
			j++;
		p->idx[h] = (uint32_t)j;
	}
	p->idx[65536] = (uint32_t)(p->n - 1);
	return 0;
}

/* Counts distinct (first, last) pairs; order groups equal first addresses together. */
static size_t ranges_distinct(const struct zone_r4in *r, const uint64_t *order, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && (order[j] >> 32) == (order[i] >> 32))
			j++;
		for (size_t a = i; a < j; a++) {
			bool dup = false;
			for (size_t c = i; c < a && j - i <= 64 && !dup; c++)
				dup = r[(uint32_t)order[c]].last == r[(uint32_t)order[a]].last;
			count += !dup;
		}
		i = j;
	}
	return count;
}

static int r4_build(const struct zone_builder *b, struct zone_r4 **out, size_t *distinct)
{
	int rc = ZONE_ENOMEM;
	size_t n = b->nrange;
	struct zone_r4 *p = calloc(1, sizeof(*p));
	uint64_t *order = NULL, *tmp = NULL;
	if (!p)
		return ZONE_ENOMEM;
	atomic_init(&p->refs, 1);
	*distinct = 0;
	if (n == 0) {
		*out = p;
		return 0;
	}
	order = malloc(n * sizeof(*order));
	tmp = malloc(n * sizeof(*tmp));
	p->start = malloc((2 * n + 1) * sizeof(uint32_t));
	p->cls = malloc((2 * n + 1) * sizeof(uint16_t));
	if (!order || !tmp || !p->start || !p->cls)
		goto fail;
	for (size_t i = 0; i < n; i++)
		order[i] = (uint64_t)b->ranges[i].first << 32 | i;
	uint64_t *sorted = sort_hi32(order, tmp, n);
	*distinct = ranges_distinct(b->ranges, sorted, n);
	p->count = *distinct;
	rc = r4_flatten(p, b->ranges, sorted, n);
	if (rc)
		goto fail;
	rc = ZONE_ENOMEM;
	uint32_t *s = realloc(p->start, p->n * sizeof(uint32_t));
	uint16_t *c = realloc(p->cls, p->n * sizeof(uint16_t));
	if (s)
		p->start = s;
	if (c)
		p->cls = c;
	/* A few segments fit in a cache line or two: the index would only cost 256 KiB. */
	if (p->n > 256 && r4_index(p))
		goto fail;
	free(order);
	free(tmp);
	*out = p;
	return 0;
fail:
	free(order);
	free(tmp);
	zone_r4_unref(p);
	return rc;
}

/* ---- IPv6 ---- */

static bool e6_less(const struct zone_e6 *x, const struct zone_e6 *y)
{
	return x->start < y->start || (x->start == y->start && x->plen < y->plen);
}

/* Stable merge sort: equal prefixes keep the order they were added in. */
static void e6_msort(struct zone_e6 *a, struct zone_e6 *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t m = n / 2;
	e6_msort(a, tmp, m);
	e6_msort(a + m, tmp, n - m);
	if (!e6_less(&a[m], &a[m - 1]))
		return;
	size_t i = 0, j = m, k = 0;
	while (i < m && j < n)
		tmp[k++] = e6_less(&a[j], &a[i]) ? a[j++] : a[i++];
	while (i < m)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

size_t zone_e6_sort_dedup(struct zone_e6 *e, size_t n)
{
	bool sorted = true;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = !e6_less(&e[i], &e[i - 1]);
	if (!sorted) {
		struct zone_e6 *tmp = malloc(n * sizeof(*tmp));
		if (!tmp)
			return (size_t)-1;
		e6_msort(e, tmp, n);
		free(tmp);
	}
	size_t out = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool excl = false;
		while (j < n && e[j].start == e[i].start && e[j].plen == e[i].plen)
			excl |= e[j++].cls == 0;
		e[out] = e[j - 1];
		if (excl)
			e[out].cls = 0;
		out++;
		i = j;
	}
	return out;
}

void zone_p6_unref(struct zone_p6 *p)
{
	if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	free(p->ent);
	free(p->start);
	free(p->cls);
	free(p->plen);
	free(p);
}

size_t zone_p6_bytes(const struct zone_p6 *p)
{
	return sizeof(*p) + p->nent * sizeof(struct zone_e6) +
	       p->nseg * (sizeof(zone_u128) + sizeof(uint16_t) + sizeof(uint8_t));
}

static void p6_emit(struct zone_p6 *p, zone_u128 start, uint16_t cls, uint8_t plen)
{
	if (p->nseg && p->cls[p->nseg - 1] == cls && p->plen[p->nseg - 1] == plen)
		return;
	p->start[p->nseg] = start;
	p->cls[p->nseg] = cls;
	p->plen[p->nseg] = plen;
	p->nseg++;
}

static zone_u128 e6_end(const struct zone_e6 *e)
{
	return e->start | ~zone_u128_mask(e->plen);
}

/* CIDR prefixes nest or are disjoint, so a stack of the open ones flattens them in one pass. */
static int p6_flatten(struct zone_p6 *p, const struct zone_e6 *e, size_t n)
{
	const struct zone_e6 **stack = malloc((n + 1) * sizeof(*stack));
	if (!stack)
		return ZONE_ENOMEM;
	size_t sn = 0;
	zone_u128 pos = 0;
	bool done = false; /* pos wrapped past the last address */
	for (size_t i = 0; i < n && !done; i++) {
		while (sn && e6_end(stack[sn - 1]) < e[i].start) {
			const struct zone_e6 *t = stack[--sn];
			if (pos <= e6_end(t)) {
				p6_emit(p, pos, t->cls, t->plen);
				pos = e6_end(t) + 1;
			}
		}
		if (pos < e[i].start) {
			if (sn)
				p6_emit(p, pos, stack[sn - 1]->cls, stack[sn - 1]->plen);
			else
				p6_emit(p, pos, 0, ZONE_PLEN_NONE);
			pos = e[i].start;
		}
		stack[sn++] = &e[i];
	}
	while (sn && !done) {
		const struct zone_e6 *t = stack[--sn];
		if (pos <= e6_end(t)) {
			p6_emit(p, pos, t->cls, t->plen);
			pos = e6_end(t) + 1;
			done = pos == 0;
		}
	}
	if (!done)
		p6_emit(p, pos, 0, ZONE_PLEN_NONE);
	free(stack);
	return 0;
}

struct zone_p6 *zone_p6_from_entries(struct zone_e6 *ent, size_t nent, uint16_t tp_cls)
{
	struct zone_p6 *p = calloc(1, sizeof(*p));
	struct zone_e6 *all = NULL;
	if (!p) {
		free(ent);
		return NULL;
	}
	atomic_init(&p->refs, 1);
	p->ent = ent;
	p->nent = nent;
	size_t max = 2 * (nent + 2) + 1;
	all = malloc((nent + 2) * sizeof(*all));
	p->start = malloc(max * sizeof(zone_u128));
	p->cls = malloc(max * sizeof(uint16_t));
	p->plen = malloc(max * sizeof(uint8_t));
	if (!all || !p->start || !p->cls || !p->plen)
		goto fail;
	/* The test points ::ffff:127.0.0.1 / .2 as /128s that override data entries. */
	struct zone_e6 tp[2] = {
		{ .start = ((zone_u128)0xffff << 32) | ZONE_TP_UNLISTED, .cls = 0, .plen = 128 },
		{ .start = ((zone_u128)0xffff << 32) | ZONE_TP_LISTED, .cls = tp_cls, .plen = 128 },
	};
	size_t i = 0, t = 0, k = 0;
	while (i < nent || t < 2) {
		if (t < 2 && (i == nent || !e6_less(&ent[i], &tp[t]))) {
			all[k] = tp[t];
			if (i < nent && ent[i].start == tp[t].start && ent[i].plen == 128) {
				if (t == 1 && ent[i].cls)
					all[k].cls = ent[i].cls;
				i++;
			}
			t++;
			k++;
		} else {
			all[k++] = ent[i++];
		}
	}
	if (p6_flatten(p, all, k))
		goto fail;
	free(all);
	return p;
fail:
	free(all);
	zone_p6_unref(p);
	return NULL;
}

/* ---- snapshot ---- */

int zone_snapshot_classes(struct zone_snapshot *s, const struct zone_builder *b)
{
	size_t arena = 0;
	for (size_t i = 1; i <= b->nclass; i++)
		arena += b->classes[i].txt ? b->classes[i].txt_len + 1 : 0;
	s->classes = calloc(b->nclass + 1, sizeof(*s->classes));
	s->arena = malloc(arena ? arena : 1);
	if (!s->classes || !s->arena)
		return ZONE_ENOMEM;
	s->nclass = b->nclass;
	s->arena_len = arena;
	char *w = s->arena;
	for (size_t i = 1; i <= b->nclass; i++) {
		const struct zone_bclass *c = &b->classes[i];
		s->classes[i] = (struct zone_class){ .a = c->a, .ttl = c->ttl };
		if (c->txt) {
			memcpy(w, c->txt, c->txt_len + 1);
			s->classes[i].txt = w;
			s->classes[i].txt_len = c->txt_len;
			w += c->txt_len + 1;
		}
	}
	return 0;
}

int zone_snapshot_build(struct zone_builder *b, struct zone_snapshot **out)
{
	if (!b || !out)
		return ZONE_EINVAL;
	uint16_t tp_cls;
	int rc = zone_builder_default_class(b, &tp_cls);
	if (rc)
		return rc;
	struct zone_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return ZONE_ENOMEM;
	rc = ZONE_ENOMEM;
	if (singles_sort_dedup(b))
		goto fail;
	s->s4 = zone_s4_from_sorted(b->singles, b->nsingle, tp_cls);
	if (!s->s4)
		goto fail;
	s->s4->count = b->nsingle;
	size_t nranges;
	rc = r4_build(b, &s->r4, &nranges);
	if (rc)
		goto fail;
	rc = ZONE_ENOMEM;
	size_t n6 = zone_e6_sort_dedup(b->v6, b->nv6);
	if (n6 == (size_t)-1)
		goto fail;
	b->nv6 = n6;
	struct zone_e6 *ent = malloc((n6 ? n6 : 1) * sizeof(*ent));
	if (!ent)
		goto fail;
	if (n6)
		memcpy(ent, b->v6, n6 * sizeof(*ent));
	s->p6 = zone_p6_from_entries(ent, n6, tp_cls);
	if (!s->p6)
		goto fail;
	if (zone_snapshot_classes(s, b))
		goto fail;
	s->default_cls = tp_cls;
	s->count = b->nsingle + nranges + n6;
	s->soa = b->soa;
	if (zone_ns_copy(&s->ns, &b->ns) || zone_glue_copy(&s->glue, &b->glue))
		goto fail;
	if (s->soa.serial == 0)
		s->soa.serial = (uint32_t)time_wall_s();
	s->id = zone_next_id();
	*out = s;
	return 0;
fail:
	zone_snapshot_free(s);
	return rc;
}

void zone_snapshot_free(struct zone_snapshot *s)
{
	if (!s)
		return;
	zone_s4_unref(s->s4);
	zone_r4_unref(s->r4);
	zone_p6_unref(s->p6);
	free(s->ov4);
	free(s->ov6);
	free(s->classes);
	free(s->arena);
	zone_ns_free(&s->ns);
	zone_glue_free(&s->glue);
	free(s);
}

const struct zone_soa *zone_snapshot_soa(const struct zone_snapshot *s)
{
	return &s->soa;
}

const struct zone_ns *zone_snapshot_ns(const struct zone_snapshot *s)
{
	return &s->ns;
}

const struct zone_glue *zone_snapshot_glue(const struct zone_snapshot *s)
{
	return &s->glue;
}

/* ---- name servers and their addresses ---- */

/* Room for need items in *arr (of *cap), doubling: a $NS line of a thousand names must not
 * realloc a thousand times. */
static int grow_names(void **arr, unsigned *cap, unsigned need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? (size_t)*cap * 2 : 4;
	while (ncap < need)
		ncap *= 2;
	if (ncap > (size_t)~0u)
		return ZONE_ENOMEM;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return ZONE_ENOMEM;
	*arr = p;
	*cap = (unsigned)ncap;
	return 0;
}

/* Text length of name without its trailing dot; 0 for an empty or over-long name. */
static size_t ns_name_len(const char *name)
{
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == '.')
		len--;
	return len <= ZONE_NAME_MAX ? len : 0;
}

/* What one NS record of a name of len characters takes in an answer (see ZONE_NS_WIRE_MAX):
 * a valid name is len + 2 bytes on the wire and never more than 255. */
static size_t ns_rr_wire(size_t len)
{
	return 12 + (len + 2 < 255 ? len + 2 : 255);
}

int zone_ns_add(struct zone_ns *ns, const char *name)
{
	size_t len = ns_name_len(name);
	if (len == 0)
		return ZONE_EINVAL;
	size_t wire = ns->wire + ns_rr_wire(len);
	if (wire > ZONE_NS_WIRE_MAX)
		return ZONE_ETOOMANY;
	if (grow_names((void **)&ns->names, &ns->cap, ns->count + 1, sizeof(*ns->names)))
		return ZONE_ENOMEM;
	char *copy = malloc(len + 1);
	if (!copy)
		return ZONE_ENOMEM;
	memcpy(copy, name, len);
	copy[len] = '\0';
	ns->names[ns->count++] = copy;
	ns->wire = wire;
	return ZONE_OK;
}

void zone_ns_free(struct zone_ns *ns)
{
	for (unsigned i = 0; i < ns->count; i++)
		free(ns->names[i]);
	free(ns->names);
	ns->names = NULL;
	ns->count = ns->cap = 0;
	ns->wire = 0;
}

int zone_ns_copy(struct zone_ns *dst, const struct zone_ns *src)
{
	struct zone_ns n = { .ttl = src->ttl };
	for (unsigned i = 0; i < src->count; i++) {
		int rc = zone_ns_add(&n, src->names[i]);
		if (rc != ZONE_OK) {
			zone_ns_free(&n);
			return rc;
		}
	}
	*dst = n;
	return ZONE_OK;
}

int zone_glue_add(struct zone_glue *g, const char *name, bool v6, uint32_t ip4,
		  const uint8_t ip6[16])
{
	size_t len = ns_name_len(name);
	if (len == 0)
		return ZONE_EINVAL;
	char low[ZONE_NAME_MAX + 1];
	for (size_t i = 0; i < len; i++) /* the answering core compares lowercase wire names */
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	low[len] = '\0';
	struct zone_glue_name *e = NULL;
	for (unsigned i = 0; i < g->count && !e; i++)
		if (strcmp(g->names[i].name, low) == 0)
			e = &g->names[i];
	if (!e) {
		if (grow_names((void **)&g->names, &g->cap, g->count + 1, sizeof(*g->names)))
			return ZONE_ENOMEM;
		e = &g->names[g->count++];
		memset(e, 0, sizeof(*e));
		memcpy(e->name, low, len + 1);
	}
	if ((v6 ? e->n6 : e->n4) == ZONE_GLUE_ADDRS)
		return ZONE_ETOOMANY;
	if (v6)
		memcpy(e->a6[e->n6++], ip6, 16);
	else
		e->a4[e->n4++] = ip4;
	return ZONE_OK;
}

void zone_glue_free(struct zone_glue *g)
{
	free(g->names);
	g->names = NULL;
	g->count = g->cap = 0;
}

int zone_glue_copy(struct zone_glue *dst, const struct zone_glue *src)
{
	struct zone_glue n = { .ttl = src->ttl };
	if (src->count) {
		n.names = malloc(src->count * sizeof(*n.names));
		if (!n.names)
			return ZONE_ENOMEM;
		memcpy(n.names, src->names, src->count * sizeof(*n.names));
		n.count = n.cap = src->count;
	}
	*dst = n;
	return ZONE_OK;
}

size_t zone_names_bytes(const struct zone_ns *ns, const struct zone_glue *g)
{
	size_t n = ns->cap * sizeof(*ns->names) + g->cap * sizeof(*g->names);
	for (unsigned i = 0; i < ns->count; i++)
		n += strlen(ns->names[i]) + 1;
	return n;
}

void zone_defaults_free(struct zone_defaults *d)
{
	zone_ns_free(&d->ns);
	zone_glue_free(&d->glue);
}

uint64_t zone_snapshot_id(const struct zone_snapshot *s)
{
	return s->id;
}

size_t zone_snapshot_count(const struct zone_snapshot *s)
{
	return s->count;
}

size_t zone_snapshot_bytes(const struct zone_snapshot *s)
{
	return sizeof(*s) + zone_s4_bytes(s->s4) + zone_r4_bytes(s->r4) + zone_p6_bytes(s->p6) +
	       s->nov4 * sizeof(struct zone_ov4) + s->nov6 * sizeof(struct zone_ov6) +
	       (s->nclass + 1) * sizeof(struct zone_class) + s->arena_len +
	       zone_names_bytes(&s->ns, &s->glue);
}

/* ---- defaults from the configuration ---- */

/* The ns_addr pairs, already checked by config_check, as the zone's glue. */
static void glue_from(const struct config *cfg, struct zone_glue *g)
{
	struct config_ns_addr a[CONFIG_NS_ADDR_MAX];
	unsigned n = 0;
	char err[CONFIG_ERR_MAX];
	g->ttl = cfg->ns_ttl;
	if (config_ns_addr_parse(cfg->ns_addr, a, CONFIG_NS_ADDR_MAX, &n, err, sizeof(err)) != 0)
		return;
	for (unsigned i = 0; i < n; i++)
		if (zone_glue_add(g, a[i].name, a[i].v6, a[i].ip4, a[i].ip6) != ZONE_OK)
			log_warn("zone", "ns_addr ignored name=%s reason=\"too many addresses\"",
				 a[i].name);
}

/* answer_txt for the default class: "{reason}" filled for the test points, or dropped. */
static void zone_defaults_txt(const struct config *cfg, struct zone_defaults *d)
{
	const char *t = cfg->answer_txt, *at = strstr(t, "{reason}");
	d->txt = t[0] ? d->txt_buf : NULL;
	if (!at) {
		snprintf(d->txt_buf, sizeof(d->txt_buf), "%s", t);
		return;
	}
	const char *fill = cfg->static_file[0] ? "" : "RFC 5782 test point";
	size_t head = (size_t)(at - t);
	const char *tail = at + 8;
	if (!fill[0] && head >= 2 && strncmp(at - 2, " (", 2) == 0 && *tail == ')') {
		head -= 2; /* "Listed (...) - see": no empty brackets */
		tail++;
	}
	snprintf(d->txt_buf, sizeof(d->txt_buf), "%.*s%s%s", (int)head, t, fill, tail);
}

/* With no ns key the zone's one name server is ns1.<zone>, this server; unless ns_addr gives
 * its address, it is the address this server answers on (dns_listen), so that the zone and
 * its BIND export load as they are. A wildcard address (0.0.0.0, ::) says nothing: then the
 * export says which key to set. */
static void glue_default(const struct config *cfg, const char *ns1, struct zone_glue *g)
{
	for (unsigned i = 0; i < g->count; i++)
		if (strcasecmp(g->names[i].name, ns1) == 0)
			return;
	struct sockaddr_storage ss[8];
	socklen_t len[8];
	unsigned n = 0;
	char err[CONFIG_ERR_MAX];
	if (config_listen_parse(cfg->dns_listen, ss, len, 8, &n, err, sizeof(err)) != BASE_OK)
		return;
	static const uint8_t any6[16] = {0};
	for (unsigned i = 0; i < n; i++) {
		if (ss[i].ss_family == AF_INET) {
			uint32_t v4 = ntohl(((const struct sockaddr_in *)(const void *)&ss[i])->sin_addr.s_addr);
			if (v4 != 0)
				zone_glue_add(g, ns1, false, v4, NULL);
		} else {
			const uint8_t *a6 = ((const struct sockaddr_in6 *)(const void *)&ss[i])
						    ->sin6_addr.s6_addr;
			if (memcmp(a6, any6, 16) != 0)
				zone_glue_add(g, ns1, true, 0, a6);
		}
	}
}

void zone_defaults_from(const struct config *cfg, struct zone_defaults *d)
{
	memset(d, 0, sizeof(*d));
	if (cfg->soa_mname[0])
		snprintf(d->soa.mname, sizeof(d->soa.mname), "%s", cfg->soa_mname);
	else
		snprintf(d->soa.mname, sizeof(d->soa.mname), "ns1.%.250s", cfg->zone);
	if (cfg->soa_rname[0])
		snprintf(d->soa.rname, sizeof(d->soa.rname), "%s", cfg->soa_rname);
	else
		snprintf(d->soa.rname, sizeof(d->soa.rname), "hostmaster.%.240s", cfg->zone);
	d->soa.serial = 0;
	d->soa.ttl = cfg->soa_ttl;
	d->soa.refresh = cfg->soa_refresh;
	d->soa.retry = cfg->soa_retry;
	d->soa.expire = cfg->soa_expire;
	d->soa.minimum = cfg->soa_minimum;
	d->ns.ttl = cfg->ns_ttl;
	char buf[CONFIG_STR_MAX];
	snprintf(buf, sizeof(buf), "%s", cfg->ns);
	char *save = NULL;
	/* Every name is served: config_check has read them, and a key of CONFIG_STR_MAX bytes
	 * stays far below ZONE_NS_WIRE_MAX, so only memory can fail here. */
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		int rc = zone_ns_add(&d->ns, tok);
		if (rc != ZONE_OK)
			log_err("zone", "ns not served name=%s reason=\"%s\"", tok, tl_strerror(rc));
	}
	glue_from(cfg, &d->glue);
	if (d->ns.count == 0) {
		char ns1[ZONE_NAME_MAX + 1];
		snprintf(ns1, sizeof(ns1), "ns1.%.250s", cfg->zone);
		zone_ns_add(&d->ns, ns1);
		glue_default(cfg, ns1, &d->glue);
	}
	d->ttl = cfg->answer_ttl;
	d->a = cfg->answer_a;
	zone_defaults_txt(cfg, d);
}
