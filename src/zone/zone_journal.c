/* zone_journal.c - the IXFR journal: what each publication changed (records deleted and added
 * per serial), bounded by a count of changes and an age, and IXFR's records read from it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "zone_internal.h"

#define T_A 1
#define T_SOA 6
#define T_TXT 16

/* One address's change: what it answered before and after (has_* false: not listed). */
struct zone_jchange {
	uint8_t ip[16];
	bool had, has;
	struct zone_class old, new; /* txt points into the entry's arena */
};

struct zone_jentry {
	atomic_long refs;
	uint32_t from, to;
	int64_t at;
	int64_t store_id;
	size_t n;
	struct zone_jchange *ch;
	char *arena;
};

struct zone_journal {
	pthread_mutex_t mu;
	struct zone_jentry **e; /* oldest first */
	size_t n, cap;
	size_t changes;         /* all entries' changes together */
	size_t max_changes;
	uint32_t max_age;
};

/* ---- entries ------------------------------------------------------------------------ */

static void entry_unref(struct zone_jentry *e)
{
	if (e && atomic_fetch_sub(&e->refs, 1) == 1) {
		free(e->ch);
		free(e->arena);
		free(e);
	}
}

void zone_jentry_free(struct zone_jentry *e)
{
	entry_unref(e);
}

uint32_t zone_jentry_from(const struct zone_jentry *e)
{
	return e->from;
}

uint32_t zone_jentry_to(const struct zone_jentry *e)
{
	return e->to;
}

size_t zone_jentry_changes(const struct zone_jentry *e)
{
	return e->n;
}

void zone_jentry_set_store_id(struct zone_jentry *e, int64_t id)
{
	e->store_id = id;
}

static struct zone_jentry *entry_new(uint32_t from, uint32_t to, int64_t at, size_t n,
				     size_t arena)
{
	struct zone_jentry *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	atomic_init(&e->refs, 1);
	e->from = from;
	e->to = to;
	e->at = at;
	e->ch = calloc(n ? n : 1, sizeof *e->ch);
	e->arena = malloc(arena ? arena : 1);
	if (!e->ch || !e->arena) {
		entry_unref(e);
		return NULL;
	}
	return e;
}

/* The exact entry of ip in s (the writer's zones hold /32 and /128 entries only). */
static const struct zone_class *lookup_ip(const struct zone_snapshot *s, const uint8_t ip[16])
{
	return ip_is_v4(ip) ? zone_lookup4(s, ip_v4(ip)) : zone_lookup6(s, ip);
}

static bool class_eq(const struct zone_class *a, const struct zone_class *b)
{
	if (!a || !b)
		return a == b;
	return a->a == b->a && a->ttl == b->ttl && a->txt_len == b->txt_len &&
	       (a->txt == NULL) == (b->txt == NULL) &&
	       (!a->txt || memcmp(a->txt, b->txt, a->txt_len) == 0);
}

static size_t copy_class(char *arena, size_t o, struct zone_class *dst, const struct zone_class *src)
{
	*dst = *src;
	if (src->txt) {
		memcpy(arena + o, src->txt, src->txt_len);
		dst->txt = arena + o;
		o += src->txt_len;
	}
	return o;
}

int zone_journal_diff(const struct zone_snapshot *old, const struct zone_snapshot *new,
		      const uint8_t (*ips)[16], size_t n, int64_t at, struct zone_jentry **out)
{
	size_t arena = 0;
	for (size_t i = 0; i < n; i++) {
		const struct zone_class *a = lookup_ip(old, ips[i]), *b = lookup_ip(new, ips[i]);
		if (!class_eq(a, b))
			arena += (a && a->txt ? a->txt_len : 0) + (b && b->txt ? b->txt_len : 0);
	}
	struct zone_jentry *e = entry_new(old->soa.serial, new->soa.serial, at, n, arena);
	if (!e)
		return ZONE_ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		const struct zone_class *a = lookup_ip(old, ips[i]), *b = lookup_ip(new, ips[i]);
		if (class_eq(a, b))
			continue; /* changed and changed back, or set to what it was */
		struct zone_jchange *c = &e->ch[e->n++];
		memcpy(c->ip, ips[i], 16);
		c->had = a != NULL;
		c->has = b != NULL;
		if (a)
			o = copy_class(e->arena, o, &c->old, a);
		if (b)
			o = copy_class(e->arena, o, &c->new, b);
	}
	*out = e;
	return ZONE_OK;
}

int zone_jentry_empty(uint32_t from, uint32_t to, int64_t at, struct zone_jentry **out)
{
	*out = entry_new(from, to, at, 0, 0);
	return *out ? ZONE_OK : ZONE_ENOMEM;
}

/* ---- the stored form: per change ip[16] flags[1], then per side a(4) ttl(4) txtlen(2)
 * (0xFFFF: no TXT) txt ---------------------------------------------------------------- */

static size_t side_len(const struct zone_class *c)
{
	return 10 + (c->txt ? c->txt_len : 0);
}

static uint8_t *put_side(uint8_t *p, const struct zone_class *c)
{
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(c->a >> (24 - 8 * i));
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(c->ttl >> (24 - 8 * i));
	uint16_t len = c->txt ? (uint16_t)c->txt_len : 0xFFFF;
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	if (c->txt) {
		memcpy(p, c->txt, c->txt_len);
		p += c->txt_len;
	}
	return p;
}

int zone_jentry_encode(const struct zone_jentry *e, uint8_t **buf, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n; i++) {
		const struct zone_jchange *c = &e->ch[i];
		n += 17 + (c->had ? side_len(&c->old) : 0) + (c->has ? side_len(&c->new) : 0);
	}
	uint8_t *b = malloc(n ? n : 1), *p = b;
	if (!b)
		return ZONE_ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		const struct zone_jchange *c = &e->ch[i];
		memcpy(p, c->ip, 16);
		p[16] = (uint8_t)((c->had ? 1 : 0) | (c->has ? 2 : 0));
		p += 17;
		if (c->had)
			p = put_side(p, &c->old);
		if (c->has)
			p = put_side(p, &c->new);
	}
	*buf = b;
	*len = n;
	return ZONE_OK;
}

/* Reads one side at b[*o..len): false when it runs past the end. */
static bool get_side(const uint8_t *b, size_t len, size_t *o, struct zone_class *c, size_t *txt_off)
{
	if (len - *o < 10)
		return false;
	const uint8_t *p = b + *o;
	c->a = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	c->ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	uint16_t tl = (uint16_t)(p[8] << 8 | p[9]);
	*o += 10;
	c->txt = NULL;
	c->txt_len = 0;
	if (tl != 0xFFFF) {
		if (len - *o < tl)
			return false;
		*txt_off = *o;
		c->txt_len = tl;
		c->txt = ""; /* set to the arena copy by the caller */
		*o += tl;
	}
	return true;
}

int zone_jentry_decode(uint32_t from, uint32_t to, int64_t at, const uint8_t *b, size_t len,
		       struct zone_jentry **out)
{
	/* Two passes: count and check, then copy; a damaged row is refused whole. */
	size_t n = 0, o = 0, t;
	struct zone_class tmp;
	while (o < len) {
		if (len - o < 17)
			return ZONE_EPARSE;
		uint8_t f = b[o + 16];
		o += 17;
		if (f & ~3u)
			return ZONE_EPARSE;
		if ((f & 1) && !get_side(b, len, &o, &tmp, &t))
			return ZONE_EPARSE;
		if ((f & 2) && !get_side(b, len, &o, &tmp, &t))
			return ZONE_EPARSE;
		n++;
	}
	struct zone_jentry *e = entry_new(from, to, at, n, len);
	if (!e)
		return ZONE_ENOMEM;
	if (len) /* an empty difference comes as a NULL blob */
		memcpy(e->arena, b, len); /* the TXT texts are read in place */
	o = 0;
	for (size_t i = 0; i < n; i++) {
		struct zone_jchange *c = &e->ch[i];
		memcpy(c->ip, b + o, 16);
		uint8_t f = b[o + 16];
		o += 17;
		c->had = f & 1;
		c->has = (f & 2) != 0;
		if (c->had) {
			get_side(b, len, &o, &c->old, &t);
			if (c->old.txt)
				c->old.txt = e->arena + t;
		}
		if (c->has) {
			get_side(b, len, &o, &c->new, &t);
			if (c->new.txt)
				c->new.txt = e->arena + t;
		}
	}
	e->n = n;
	*out = e;
	return ZONE_OK;
}

/* ---- the journal ---------------------------------------------------------------------- */

struct zone_journal *zone_journal_new(size_t max_changes, uint32_t max_age)
{
	struct zone_journal *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	pthread_mutex_init(&j->mu, NULL);
	j->max_changes = max_changes;
	j->max_age = max_age;
	return j;
}

void zone_journal_free(struct zone_journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		entry_unref(j->e[i]);
	free(j->e);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

/* Drops the oldest entries past the bounds; under the lock. */
static void journal_trim(struct zone_journal *j, int64_t now)
{
	size_t drop = 0;
	while (drop < j->n) {
		const struct zone_jentry *e = j->e[drop];
		bool old = j->max_age && e->at + (int64_t)j->max_age < now;
		/* The newest entry stays even when it alone passes the count: one serial back
		 * is what a secondary that keeps up asks for. */
		bool big = j->changes > j->max_changes && drop + 1 < j->n;
		if (!old && !big)
			break;
		j->changes -= e->n;
		drop++;
	}
	for (size_t i = 0; i < drop; i++)
		entry_unref(j->e[i]);
	memmove(j->e, j->e + drop, (j->n - drop) * sizeof *j->e);
	j->n -= drop;
}

int64_t zone_journal_add(struct zone_journal *j, struct zone_jentry *e, int64_t now)
{
	int64_t oldest = 0;
	if (!j || j->max_changes == 0) {
		entry_unref(e);
		return 0;
	}
	pthread_mutex_lock(&j->mu);
	if (array_grow((void **)&j->e, &j->cap, j->n + 1, sizeof *j->e) != BASE_OK) {
		entry_unref(e); /* no room: the chain breaks there, IXFR gives the whole zone */
	} else {
		j->e[j->n++] = e;
		j->changes += e->n;
	}
	journal_trim(j, now);
	oldest = j->n ? j->e[0]->store_id : 0;
	pthread_mutex_unlock(&j->mu);
	return oldest;
}

size_t zone_journal_entries(struct zone_journal *j, uint32_t *last_to)
{
	if (!j)
		return 0;
	pthread_mutex_lock(&j->mu);
	size_t n = j->n;
	if (n && last_to)
		*last_to = j->e[n - 1]->to;
	pthread_mutex_unlock(&j->mu);
	return n;
}

/* ---- IXFR from the journal ------------------------------------------------------------- */

enum ixfr_step {
	IX_SOA_NEW, IX_SOA_FROM, IX_DEL, IX_SOA_TO, IX_ADD, IX_SOA_LAST, IX_DONE
};

struct zone_ixfr {
	struct zone_jentry **e; /* the chain from the client's serial to the snapshot's */
	size_t n, ei, ci;
	enum ixfr_step step;
	bool txt_due;
	uint8_t soa[2 * 256 + 20];
	size_t soa_len;
	uint32_t soa_ttl, serial;
	uint8_t owner[2 + 32 * 2];
	size_t owner_len;
	uint8_t a[4];
	struct zone_rr_buf txt;
	size_t records;
};

int zone_ixfr_new(struct zone_journal *j, const struct zone_snapshot *s, const char *zone,
		  uint32_t from, struct zone_ixfr **out)
{
	*out = NULL;
	if (!j)
		return ZONE_ENOTFOUND;
	uint32_t to = s->soa.serial;
	struct zone_ixfr *x = calloc(1, sizeof *x);
	if (!x)
		return ZONE_ENOMEM;
	/* The SOA as the iterator encodes it (the serial is patched per step). */
	struct zone_iter *it = NULL;
	struct zone_rr rr;
	int rc = zone_iter_new(s, zone, 0, &it);
	if (rc == ZONE_OK && zone_iter_next(it, &rr) == 1) {
		memcpy(x->soa, rr.rdata, rr.rdlen);
		x->soa_len = rr.rdlen;
		x->soa_ttl = rr.ttl;
	} else {
		rc = ZONE_ENOMEM;
	}
	zone_iter_free(it);
	if (rc != ZONE_OK) {
		free(x);
		return rc;
	}
	pthread_mutex_lock(&j->mu);
	/* The entry that starts at the client's serial, then each that follows on, up to the
	 * snapshot's serial: any gap (a rebuild, a restart that could not go on) and the
	 * journal does not hold the way, and the answer is the whole zone. */
	size_t start = j->n;
	for (size_t i = 0; i < j->n; i++)
		if (j->e[i]->from == from) {
			start = i;
			break;
		}
	size_t end = start;
	bool found = false;
	for (size_t i = start; i < j->n; i++) {
		if (i > start && j->e[i]->from != j->e[i - 1]->to)
			break;
		if (j->e[i]->to == to) {
			end = i + 1;
			found = true;
			break;
		}
	}
	if (found) {
		x->n = end - start;
		x->e = malloc(x->n * sizeof *x->e);
		if (x->e)
			for (size_t i = 0; i < x->n; i++) {
				x->e[i] = j->e[start + i];
				atomic_fetch_add(&x->e[i]->refs, 1);
			}
	}
	pthread_mutex_unlock(&j->mu);
	if (!found || !x->e) {
		zone_ixfr_free(x);
		return found ? ZONE_ENOMEM : ZONE_ENOTFOUND;
	}
	x->serial = to;
	*out = x;
	return ZONE_OK;
}

void zone_ixfr_free(struct zone_ixfr *x)
{
	if (!x)
		return;
	for (size_t i = 0; x->e && i < x->n; i++)
		entry_unref(x->e[i]);
	free(x->e);
	free(x->txt.data);
	free(x);
}

size_t zone_ixfr_changes(const struct zone_ixfr *x)
{
	size_t n = 0;
	for (size_t i = 0; i < x->n; i++)
		n += x->e[i]->n;
	return n;
}

static void ixfr_soa(struct zone_ixfr *x, struct zone_rr *rr, uint32_t serial)
{
	uint8_t *p = x->soa + x->soa_len - 20;
	p[0] = (uint8_t)(serial >> 24);
	p[1] = (uint8_t)(serial >> 16);
	p[2] = (uint8_t)(serial >> 8);
	p[3] = (uint8_t)serial;
	rr->owner = NULL;
	rr->owner_len = 0;
	rr->type = T_SOA;
	rr->ttl = x->soa_ttl;
	rr->rdata = x->soa;
	rr->rdlen = x->soa_len;
}

/* The A, then the TXT, of one side of change c. 1 written, 0 nothing (more) on that side. */
static int ixfr_side(struct zone_ixfr *x, const struct zone_jchange *c, bool new_side,
		     struct zone_rr *rr)
{
	const struct zone_class *k = new_side ? &c->new : &c->old;
	bool v4 = ip_is_v4(c->ip);
	zone_u128 a = v4 ? ip_v4(c->ip) : zone_u128_load(c->ip);
	unsigned width = v4 ? 32 : 128;
	x->owner_len = zone_rr_owner(x->owner, width, a, v4 ? 4 : 32, false);
	rr->owner = x->owner;
	rr->owner_len = x->owner_len;
	rr->ttl = k->ttl;
	if (!x->txt_due) {
		x->a[0] = (uint8_t)(k->a >> 24);
		x->a[1] = (uint8_t)(k->a >> 16);
		x->a[2] = (uint8_t)(k->a >> 8);
		x->a[3] = (uint8_t)k->a;
		rr->type = T_A;
		rr->rdata = x->a;
		rr->rdlen = 4;
		x->txt_due = k->txt != NULL;
		return 1;
	}
	x->txt_due = false;
	int rc = zone_rr_txt(&x->txt, k, width, a, width);
	if (rc != ZONE_OK)
		return rc;
	rr->type = T_TXT;
	rr->rdata = x->txt.data;
	rr->rdlen = x->txt.len;
	return 1;
}

int zone_ixfr_next(struct zone_ixfr *x, struct zone_rr *rr)
{
	for (;;) {
		const struct zone_jentry *e = x->ei < x->n ? x->e[x->ei] : NULL;
		switch (x->step) {
		case IX_SOA_NEW:
			x->step = x->n ? IX_SOA_FROM : IX_SOA_LAST;
			ixfr_soa(x, rr, x->serial);
			return 1;
		case IX_SOA_FROM:
			x->step = IX_DEL;
			x->ci = 0;
			ixfr_soa(x, rr, e->from);
			return 1;
		case IX_DEL:
			/* RFC 1995 4: the records the version after deletes, then the SOA of that
			 * version and the records it adds. */
			while (x->ci < e->n) {
				const struct zone_jchange *c = &e->ch[x->ci];
				if (c->had) {
					int rc = ixfr_side(x, c, false, rr);
					if (!x->txt_due)
						x->ci++;
					return rc;
				}
				x->ci++;
			}
			x->step = IX_SOA_TO;
			continue;
		case IX_SOA_TO:
			x->step = IX_ADD;
			x->ci = 0;
			ixfr_soa(x, rr, e->to);
			return 1;
		case IX_ADD:
			while (x->ci < e->n) {
				const struct zone_jchange *c = &e->ch[x->ci];
				if (c->has) {
					int rc = ixfr_side(x, c, true, rr);
					if (!x->txt_due)
						x->ci++;
					return rc;
				}
				x->ci++;
			}
			x->ei++;
			x->step = x->ei < x->n ? IX_SOA_FROM : IX_SOA_LAST;
			continue;
		case IX_SOA_LAST:
			x->step = IX_DONE;
			ixfr_soa(x, rr, x->serial);
			return 1;
		case IX_DONE:
			return 0;
		}
	}
}
