/* writer_facts.c - what the policy weighs about one address, gathered in one place: the
 * evidence, the exclusion and the reputation that apply, the latest delisting. The writer
 * decides with it; check, explain and the lookup page explain with it. */
#include <stdlib.h>
#include <string.h>

#include "writer_internal.h"

static int rules_add_exclusion(const struct store_exclusion *ex, void *arg)
{
	return writer_rules_exclusion_add(arg, ex) != WRITER_OK;
}

static int rules_add_reputation(const struct store_reputation *r, void *arg)
{
	return writer_rules_reputation_put(arg, r) != WRITER_OK;
}

int writer_rules_load(struct store *s, const struct ip_prefix *defaults, size_t n, bool special,
		      int64_t now, struct writer_rules *out)
{
	memset(out, 0, sizeof *out);
	out->special = special;
	if (n > 0) {
		out->defaults = malloc(n * sizeof *out->defaults);
		if (!out->defaults)
			return WRITER_ENOMEM;
		memcpy(out->defaults, defaults, n * sizeof *out->defaults);
		out->defaults_n = n;
	}
	int rc = writer_rules_reload(s, out, now);
	if (rc != WRITER_OK)
		writer_rules_free(out);
	return rc;
}

int writer_rules_reload(struct store *s, struct writer_rules *r, int64_t now)
{
	r->excl_n = 0;
	r->rep_n = 0;
	int rc = store_exclusion_foreach(s, now, rules_add_exclusion, r);
	if (rc == STORE_OK)
		rc = store_reputation_foreach(s, rules_add_reputation, r);
	return rc == STORE_OK ? WRITER_OK : rc == STORE_ENOMEM ? WRITER_ENOMEM : WRITER_ESTORE;
}

void writer_rules_free(struct writer_rules *r)
{
	free(r->defaults);
	free(r->excl);
	free(r->rep);
	memset(r, 0, sizeof *r);
}

int writer_rules_exclusion_add(struct writer_rules *r, const struct store_exclusion *ex)
{
	if (array_grow((void **)&r->excl, &r->excl_cap, r->excl_n + 1, sizeof *r->excl) != BASE_OK)
		return WRITER_ENOMEM;
	r->excl[r->excl_n++] = *ex;
	return WRITER_OK;
}

void writer_rules_exclusion_remove(struct writer_rules *r, const struct ip_prefix *p)
{
	for (size_t i = 0; i < r->excl_n;) {
		if (ip_prefix_cmp(&r->excl[i].prefix, p) == 0)
			r->excl[i] = r->excl[--r->excl_n];
		else
			i++;
	}
}

int writer_rules_reputation_put(struct writer_rules *r, const struct store_reputation *row)
{
	for (size_t i = 0; i < r->rep_n; i++) {
		if (ip_prefix_cmp(&r->rep[i].prefix, &row->prefix) != 0)
			continue;
		if (row->points > 0)
			r->rep[i] = *row;
		else
			r->rep[i] = r->rep[--r->rep_n];
		return WRITER_OK;
	}
	if (row->points == 0)
		return WRITER_OK;
	if (array_grow((void **)&r->rep, &r->rep_cap, r->rep_n + 1, sizeof *r->rep) != BASE_OK)
		return WRITER_ENOMEM;
	r->rep[r->rep_n++] = *row;
	return WRITER_OK;
}

const struct ip_prefix *writer_rules_default_exclusion(const struct writer_rules *r,
						      const uint8_t ip[16],
						      const struct ip_special **special)
{
	const struct ip_special *row = r->special ? ip_special_find(ip, NULL) : NULL;
	if (special)
		*special = row;
	if (row)
		return &row->prefix;
	for (size_t i = 0; i < r->defaults_n; i++)
		if (ip_prefix_covers(&r->defaults[i], ip))
			return &r->defaults[i];
	return NULL;
}

/* FNV-1a, 64 bits: a reporter's name as the policy's reporter key. Two names that met on one
 * key would count as one reporter, which can only keep an address off the list. */
uint64_t writer_reporter_key(const char *name)
{
	if (!name)
		return 0;
	uint64_t h = 0xcbf29ce484222325u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3u;
	return h ? h : 1;
}

uint64_t writer_reporter_of(const struct store_evidence *e)
{
	static const char prefix[] = WRITER_REPORTER_SOURCE;
	if (e->kind != STORE_KIND_REPORT || strncmp(e->source, prefix, sizeof prefix - 1) != 0)
		return 0;
	return writer_reporter_key(e->source + sizeof prefix - 1);
}

const struct store_exclusion *writer_rules_exclusion(const struct writer_rules *r,
						     const uint8_t ip[16], int64_t now)
{
	for (size_t i = 0; i < r->excl_n; i++)
		if ((r->excl[i].until == 0 || r->excl[i].until > now) &&
		    ip_prefix_covers(&r->excl[i].prefix, ip))
			return &r->excl[i];
	return NULL;
}

/* The most specific prefix wins, so that an operator can give a provider's /16 points and its
 * /24 of bulk senders fewer (or none but a token amount): a narrower row is the more
 * deliberate statement. */
const struct store_reputation *writer_rules_reputation(const struct writer_rules *r,
						       const uint8_t ip[16])
{
	const struct store_reputation *best = NULL;
	for (size_t i = 0; i < r->rep_n; i++)
		if ((!best || r->rep[i].prefix.plen > best->prefix.plen) &&
		    ip_prefix_covers(&r->rep[i].prefix, ip))
			best = &r->rep[i];
	return best;
}

struct collect {
	struct writer_facts *f;
	bool oom;
};

static int collect_evidence(int64_t id, int64_t received_at, enum store_kind kind,
			    enum store_class cls, const char *reporter, void *arg)
{
	struct collect *c = arg;
	struct writer_facts *f = c->f;
	if (array_grow((void **)&f->ev, &f->cap, f->n + 1, sizeof *f->ev) != BASE_OK) {
		c->oom = true;
		return 1;
	}
	f->ev[f->n++] = (struct policy_evidence){.received_at = received_at, .seq = id,
						   .trap = kind == STORE_KIND_TRAP,
						   .cls = (uint8_t)cls,
						   .reporter = kind == STORE_KIND_REPORT
								       ? writer_reporter_key(reporter)
								       : 0};
	return 0;
}

/* Empties f for ip, keeping its evidence buffer. */
static void facts_reset(struct writer_facts *f, const uint8_t ip[16])
{
	struct policy_evidence *ev = f->ev;
	size_t cap = f->cap;
	memset(f, 0, sizeof *f);
	f->ev = ev;
	f->cap = cap;
	memcpy(f->ip, ip, 16);
}

int writer_facts_evidence(struct store *s, const uint8_t ip[16], int64_t since,
			  struct writer_facts *f)
{
	facts_reset(f, ip);
	struct collect c = {.f = f, .oom = false};
	int rc = store_evidence_policy_for_ip(s, ip, since, collect_evidence, &c);
	if (rc != STORE_OK)
		return rc == STORE_ENOMEM ? WRITER_ENOMEM : WRITER_ESTORE;
	/* Half the evidence would explain (or make) a wrong decision. */
	return c.oom ? WRITER_ENOMEM : WRITER_OK;
}

int writer_facts_context(struct store *s, const struct writer_rules *rules, int64_t now,
			 struct writer_facts *f)
{
	const uint8_t *ip = f->ip;
	f->default_exclusion = writer_rules_default_exclusion(rules, ip, &f->special);
	f->exclusion = f->default_exclusion ? NULL : writer_rules_exclusion(rules, ip, now);
	f->ctx.excluded = f->default_exclusion || f->exclusion;
	f->reputation = writer_rules_reputation(rules, ip);
	f->ctx.reputation = f->reputation ? f->reputation->points : 0;
	f->delisted = false;
	f->ctx.delisted_at = f->ctx.delist_mark = 0;
	int rc = store_delisting_get(s, ip, &f->delist);
	if (rc == STORE_OK) {
		f->delisted = true;
		f->ctx.delisted_at = f->delist.at;
		f->ctx.delist_mark = f->delist.evidence_mark;
	} else if (rc != STORE_ENOTFOUND) {
		return rc == STORE_ENOMEM ? WRITER_ENOMEM : WRITER_ESTORE;
	}
	return WRITER_OK;
}

int writer_facts_read(struct store *s, const struct writer_rules *rules, const uint8_t ip[16],
		      int64_t now, int64_t since, struct writer_facts *f)
{
	int rc = writer_facts_evidence(s, ip, since, f);
	return rc == WRITER_OK ? writer_facts_context(s, rules, now, f) : rc;
}

void writer_facts_free(struct writer_facts *f)
{
	free(f->ev);
	memset(f, 0, sizeof *f);
}
