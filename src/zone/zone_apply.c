/* zone_apply.c - incremental changes: a new snapshot sharing the old arrays plus a small overlay. */
#include <stdlib.h>
#include <string.h>

#include "zone_internal.h"

static bool is_tp4(uint32_t ip)
{
	return ip == ZONE_TP_LISTED || ip == ZONE_TP_UNLISTED;
}

static bool is_tp6(zone_u128 start, unsigned plen)
{
	zone_u128 base = (zone_u128)0xffff << 32;
	return plen == 128 && (start == (base | ZONE_TP_LISTED) || start == (base | ZONE_TP_UNLISTED));
}

/* Copies the base's classes into a scratch builder (same ids) so the changes' classes intern
 * against them, then the snapshot takes the lot. */
static int classes_begin(const struct zone_snapshot *base, struct zone_builder **out)
{
	struct zone_builder *b = zone_builder_new(NULL);
	if (!b)
		return ZONE_ENOMEM;
	for (size_t i = 1; i <= base->nclass; i++) {
		const struct zone_class *c = &base->classes[i];
		uint16_t id;
		int rc = zone_builder_class(b, c->a, c->txt, c->txt_len, c->ttl, &id);
		if (rc || id != i) {
			zone_builder_free(b);
			return rc ? rc : ZONE_EINVAL;
		}
	}
	*out = b;
	return 0;
}

static int change_class(struct zone_builder *b, const struct zone_snapshot *base,
			const struct zone_change *c, uint16_t *id)
{
	if (c->op == ZONE_CHANGE_DELETE) {
		*id = ZONE_CLASS_EXCLUDE;
		return 0;
	}
	if (c->op != ZONE_CHANGE_SET)
		return ZONE_EINVAL;
	if (!c->cls.own) {
		*id = base->default_cls;
		return 0;
	}
	return zone_builder_class(b, c->cls.a, c->cls.txt, c->cls.txt ? strlen(c->cls.txt) : 0,
				  c->cls.ttl, id);
}

/* Contribution of one overlay entry to the entry count: a new listed address adds one, a
 * delete of an address listed only by a range stays as an exclusion, a delete of a base /32
 * that nothing else covers removes it. */
static long ov4_count_delta(const struct zone_snapshot *s, uint32_t ip, uint16_t cls)
{
	bool in_base;
	zone_s4_find(s->s4, ip, &in_base);
	bool keep = cls != 0 || zone_r4_find(s->r4, ip) != 0;
	if (in_base)
		return keep ? 0 : -1;
	return keep ? 1 : 0;
}

/* ---- IPv4 ---- */

static int v4_overlay(struct zone_snapshot *s, const struct zone_snapshot *base, uint64_t *items,
		      size_t n)
{
	uint64_t *tmp = malloc((n ? n : 1) * sizeof(*tmp));
	if (!tmp)
		return ZONE_ENOMEM;
	uint64_t *sorted = zone_radix_sort_hi32(items, tmp, n);
	/* Later changes to the same address win: keep the last of each run. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && (sorted[i + 1] >> 32) == (sorted[i] >> 32))
			continue;
		sorted[m++] = sorted[i];
	}
	s->ov4 = malloc((base->nov4 + m + 1) * sizeof(*s->ov4));
	if (!s->ov4) {
		free(tmp);
		return ZONE_ENOMEM;
	}
	/* The count moves by what the changed entries move it: an entry kept from the base
	 * overlay counts as it did there (same arrays), so a publication costs lookups for its
	 * own changes only, not for the whole overlay again. */
	long delta = base->ov4_delta;
	size_t i = 0, j = 0, k = 0;
	while (i < base->nov4 || j < m) {
		uint32_t cip = j < m ? (uint32_t)(sorted[j] >> 32) : 0;
		if (j == m || (i < base->nov4 && base->ov4[i].ip < cip)) {
			s->ov4[k++] = base->ov4[i++];
			continue;
		}
		if (i < base->nov4 && base->ov4[i].ip == cip) {
			delta -= ov4_count_delta(s, cip, base->ov4[i].cls);
			i++;
		}
		s->ov4[k] = (struct zone_ov4){ cip, (uint16_t)sorted[j++] };
		delta += ov4_count_delta(s, cip, s->ov4[k].cls);
		k++;
	}
	s->nov4 = k;
	s->ov4_delta = delta;
	free(tmp);
	return 0;
}

/* The overlay outgrew its bound: fold it into new /32 arrays (linear in the zone). */
static int v4_merge(struct zone_snapshot *s)
{
	const struct zone_s4 *old = s->s4;
	size_t cap = old->n + s->nov4;
	uint64_t *items = malloc((cap ? cap : 1) * sizeof(*items));
	if (!items)
		return ZONE_ENOMEM;
	size_t k = 0, o = 0;
	long count = (long)old->count;
	for (uint32_t h = 0; h < 65536; h++) {
		for (uint32_t i = old->idx[h]; i < old->idx[h + 1]; i++) {
			uint32_t ip = h << 16 | old->lo[i];
			for (; o < s->nov4 && s->ov4[o].ip < ip; o++)
				if (s->ov4[o].cls || zone_r4_find(s->r4, s->ov4[o].ip))
					items[k++] = (uint64_t)s->ov4[o].ip << 32 | s->ov4[o].cls;
			if (o < s->nov4 && s->ov4[o].ip == ip) {
				if (s->ov4[o].cls || zone_r4_find(s->r4, ip))
					items[k++] = (uint64_t)ip << 32 | s->ov4[o].cls;
				o++;
				continue;
			}
			items[k++] = (uint64_t)ip << 32 | old->cls[i];
		}
	}
	for (; o < s->nov4; o++)
		if (s->ov4[o].cls || zone_r4_find(s->r4, s->ov4[o].ip))
			items[k++] = (uint64_t)s->ov4[o].ip << 32 | s->ov4[o].cls;
	for (size_t i = 0; i < s->nov4; i++)
		count += ov4_count_delta(s, s->ov4[i].ip, s->ov4[i].cls);
	/* The test points are in old, with their classes, so passing any class keeps them. */
	struct zone_s4 *n4 = zone_s4_from_sorted(items, k, s->default_cls);
	free(items);
	if (!n4)
		return ZONE_ENOMEM;
	n4->count = (size_t)count;
	zone_s4_unref(s->s4);
	s->s4 = n4;
	free(s->ov4);
	s->ov4 = NULL;
	s->nov4 = 0;
	s->ov4_delta = 0;
	return 0;
}

/* ---- IPv6 ---- */

static bool ov6_less(const struct zone_ov6 *x, const struct zone_ov6 *y)
{
	return x->start < y->start || (x->start == y->start && x->plen < y->plen);
}

static bool ov6_same(const struct zone_ov6 *x, const struct zone_ov6 *y)
{
	return x->start == y->start && x->plen == y->plen;
}

/* Insertion into the sorted overlay, replacing an equal prefix; changes come a few at a time. */
static void ov6_put(struct zone_ov6 *a, size_t *n, struct zone_ov6 v)
{
	size_t lo = 0, hi = *n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ov6_less(&a[mid], &v))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < *n && ov6_same(&a[lo], &v)) {
		a[lo] = v;
		return;
	}
	memmove(&a[lo + 1], &a[lo], (*n - lo) * sizeof(*a));
	a[lo] = v;
	(*n)++;
}

static void ov6_plens(struct zone_snapshot *s)
{
	memset(s->ov6_plens, 0, sizeof(s->ov6_plens));
	for (size_t i = 0; i < s->nov6; i++)
		s->ov6_plens[s->ov6[i].plen / 64] |= 1ull << (s->ov6[i].plen % 64);
}

static bool p6_has(const struct zone_p6 *p, zone_u128 start, unsigned plen)
{
	size_t lo = 0, hi = p->nent;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct zone_e6 *e = &p->ent[mid];
		if (e->start < start || (e->start == start && e->plen < plen))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nent && p->ent[lo].start == start && p->ent[lo].plen == plen;
}

static size_t ov6_new_keys(const struct zone_snapshot *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nov6; i++)
		n += !p6_has(s->p6, s->ov6[i].start, s->ov6[i].plen);
	return n;
}

struct zone_p6 *zone_p6_merged(const struct zone_snapshot *s)
{
	const struct zone_p6 *old = s->p6;
	size_t cap = old->nent + s->nov6;
	struct zone_e6 *ent = malloc((cap ? cap : 1) * sizeof(*ent));
	if (!ent)
		return NULL;
	size_t i = 0, j = 0, k = 0;
	while (i < old->nent || j < s->nov6) {
		const struct zone_ov6 *o = j < s->nov6 ? &s->ov6[j] : NULL;
		const struct zone_e6 *e = i < old->nent ? &old->ent[i] : NULL;
		if (e && (!o || e->start < o->start || (e->start == o->start && e->plen < o->plen))) {
			ent[k++] = *e;
			i++;
			continue;
		}
		if (e && e->start == o->start && e->plen == o->plen)
			i++;
		ent[k++] = (struct zone_e6){ .start = o->start, .cls = o->cls, .plen = o->plen };
		j++;
	}
	return zone_p6_from_entries(ent, k, s->default_cls);
}

static int v6_merge(struct zone_snapshot *s)
{
	struct zone_p6 *n6 = zone_p6_merged(s);
	if (!n6)
		return ZONE_ENOMEM;
	zone_p6_unref(s->p6);
	s->p6 = n6;
	free(s->ov6);
	s->ov6 = NULL;
	s->nov6 = 0;
	ov6_plens(s);
	return 0;
}

/* ---- the change set ---- */

static int collect(struct zone_snapshot *s, const struct zone_snapshot *base,
		   struct zone_builder *cb, const struct zone_change *changes, size_t n)
{
	size_t n4 = 0, n6 = 0;
	for (size_t i = 0; i < n; i++) {
		if (changes[i].v6 && changes[i].plen6 > 128)
			return ZONE_EINVAL;
		changes[i].v6 ? n6++ : n4++;
	}
	uint64_t *items = malloc((n4 ? n4 : 1) * sizeof(*items));
	s->ov6 = malloc((base->nov6 + n6 + 1) * sizeof(*s->ov6));
	if (!items || !s->ov6) {
		free(items);
		return ZONE_ENOMEM;
	}
	if (base->nov6)
		memcpy(s->ov6, base->ov6, base->nov6 * sizeof(*s->ov6));
	s->nov6 = base->nov6;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct zone_change *c = &changes[i];
		uint16_t id;
		int rc = change_class(cb, base, c, &id);
		if (rc) {
			free(items);
			return rc;
		}
		if (!c->v6) {
			if (!is_tp4(c->ip4))
				items[k++] = (uint64_t)c->ip4 << 32 | id;
			continue;
		}
		zone_u128 start = zone_u128_load(c->ip6) & zone_u128_mask(c->plen6);
		if (!is_tp6(start, c->plen6))
			ov6_put(s->ov6, &s->nov6,
				(struct zone_ov6){ .start = start, .cls = id, .plen = c->plen6 });
	}
	int rc = v4_overlay(s, base, items, k);
	free(items);
	return rc;
}

int zone_snapshot_apply(const struct zone_snapshot *base, const struct zone_change *changes,
			size_t n, uint32_t serial, struct zone_snapshot **out)
{
	if (!base || !out || (n && !changes))
		return ZONE_EINVAL;
	struct zone_builder *cb = NULL;
	struct zone_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return ZONE_ENOMEM;
	s->s4 = base->s4;
	s->r4 = base->r4;
	s->p6 = base->p6;
	atomic_fetch_add(&s->s4->refs, 1);
	atomic_fetch_add(&s->r4->refs, 1);
	atomic_fetch_add(&s->p6->refs, 1);
	s->default_cls = base->default_cls;
	s->soa = base->soa;
	s->soa.serial = serial;
	int rc = zone_ns_copy(&s->ns, &base->ns);
	if (!rc)
		rc = zone_glue_copy(&s->glue, &base->glue);
	if (!rc)
		rc = classes_begin(base, &cb);
	if (rc)
		goto fail;
	rc = collect(s, base, cb, changes, n);
	if (rc)
		goto fail;
	rc = ZONE_ENOMEM;
	if (s->nov4 > ZONE_OVERLAY_MAX && v4_merge(s))
		goto fail;
	if (s->nov6 > ZONE_OVERLAY_MAX && v6_merge(s))
		goto fail;
	ov6_plens(s);
	if (zone_snapshot_classes(s, cb))
		goto fail;
	s->count = (size_t)((long)(s->s4->count + s->r4->count + s->p6->nent) + s->ov4_delta) +
		   ov6_new_keys(s);
	zone_builder_free(cb);
	s->id = zone_next_id();
	*out = s;
	return 0;
fail:
	zone_builder_free(cb);
	zone_snapshot_free(s);
	return rc;
}
