/* store_data.c - reads and writes of the store's tables through the cached statements. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store_internal.h"

/* ---- evidence -------------------------------------------------------------- */

int store_evidence_add(struct store *s, struct store_evidence *ev)
{
	if (!s || !ev || (ev->kind != STORE_KIND_TRAP && ev->kind != STORE_KIND_REPORT) ||
	    (unsigned)ev->cls > STORE_CLASS_UNKNOWN)
		return STORE_EINVAL;
	if (ev->added_at == 0)
		ev->added_at = time_wall_s();
	sqlite3_stmt *st = stmt(s, ST_EV_ADD);
	bind_ip(st, 1, ev->ip);
	sqlite3_bind_int(st, 2, (int)ev->kind);
	sqlite3_bind_int(st, 3, (int)ev->cls);
	sqlite3_bind_int64(st, 4, ev->received_at);
	sqlite3_bind_int64(st, 5, ev->added_at);
	bind_text(st, 6, ev->source, sizeof ev->source);
	bind_text(st, 7, ev->digest, sizeof ev->digest);
	if (ev->hit_id[0])
		bind_text(st, 8, ev->hit_id, sizeof ev->hit_id);
	else
		sqlite3_bind_null(st, 8);
	int rc = step_insert(s, st, "evidence add");
	if (rc)
		return rc;
	ev->id = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

int store_evidence_for_ip(struct store *s, const uint8_t ip[16], int64_t since, bool with_source,
			  int (*fn)(const struct store_evidence *ev, void *arg), void *arg)
{
	if (!s || !ip || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_EV_FOR_IP);
	bind_ip(st, 1, ip);
	sqlite3_bind_int64(st, 2, since);
	struct store_evidence ev;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof ev);
		memcpy(ev.ip, ip, 16);
		ev.id = sqlite3_column_int64(st, 0);
		ev.kind = (enum store_kind)sqlite3_column_int(st, 1);
		ev.cls = (enum store_class)sqlite3_column_int(st, 2);
		ev.received_at = sqlite3_column_int64(st, 3);
		ev.added_at = sqlite3_column_int64(st, 4);
		if (with_source)
			column_text(st, 5, ev.source, sizeof ev.source);
		column_text(st, 6, ev.digest, sizeof ev.digest);
		if (fn(&ev, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "evidence for ip", rc);
	return STORE_OK;
}

int store_evidence_policy_for_ip(struct store *s, const uint8_t ip[16], int64_t since,
				 int (*fn)(int64_t id, int64_t received_at, enum store_kind kind,
					   enum store_class cls, const char *reporter, void *arg),
				 void *arg)
{
	if (!s || !ip || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_EV_POLICY);
	bind_ip(st, 1, ip);
	sqlite3_bind_int64(st, 2, since);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
		       (enum store_kind)sqlite3_column_int(st, 2),
		       (enum store_class)sqlite3_column_int(st, 3),
		       (const char *)sqlite3_column_text(st, 4), arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "evidence policy for ip", rc);
	return STORE_OK;
}

int store_evidence_ips(struct store *s, int64_t since,
		       int (*fn)(const uint8_t ip[16], void *arg), void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_EV_IPS);
	sqlite3_bind_int64(st, 1, since);
	uint8_t ip[16];
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		column_ip(st, 0, ip);
		if (fn(ip, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "evidence ips", rc);
	return STORE_OK;
}

/* ---- listings -------------------------------------------------------------- */

int store_listing_put(struct store *s, const struct store_listing *l)
{
	if (!s || !l)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_LI_PUT);
	bind_ip(st, 1, l->ip);
	sqlite3_bind_int64(st, 2, l->listed_at);
	sqlite3_bind_int64(st, 3, l->expires_at);
	sqlite3_bind_int64(st, 4, l->last_evidence_at);
	sqlite3_bind_int64(st, 5, l->traps);
	sqlite3_bind_int64(st, 6, l->reports);
	sqlite3_bind_double(st, 7, l->score);
	sqlite3_bind_int(st, 8, l->reason);
	sqlite3_bind_int(st, 9, l->detail);
	return step_done(s, st, "listing put");
}

int store_listing_delete(struct store *s, const uint8_t ip[16])
{
	if (!s || !ip)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_LI_DEL);
	bind_ip(st, 1, ip);
	return step_done(s, st, "listing delete");
}

static void column_listing(sqlite3_stmt *st, struct store_listing *l)
{
	column_ip(st, 0, l->ip);
	l->listed_at = sqlite3_column_int64(st, 1);
	l->expires_at = sqlite3_column_int64(st, 2);
	l->last_evidence_at = sqlite3_column_int64(st, 3);
	l->traps = (uint32_t)sqlite3_column_int64(st, 4);
	l->reports = (uint32_t)sqlite3_column_int64(st, 5);
	l->score = sqlite3_column_double(st, 6);
	l->reason = sqlite3_column_int(st, 7);
	l->detail = sqlite3_column_int(st, 8);
}

int store_listing_get(struct store *s, const uint8_t ip[16], struct store_listing *out)
{
	if (!s || !ip || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_LI_GET);
	bind_ip(st, 1, ip);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		column_listing(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_ENOTFOUND;
	return store_fail(s, "listing get", rc);
}

int store_listing_foreach(struct store *s, int (*fn)(const struct store_listing *l, void *arg),
			  void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_LI_ALL);
	struct store_listing l;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		column_listing(st, &l);
		if (fn(&l, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "listing foreach", rc);
	return STORE_OK;
}

int store_listing_clear(struct store *s)
{
	if (!s)
		return STORE_EINVAL;
	return step_done(s, stmt(s, ST_LI_CLEAR), "listing clear");
}

/* ---- exclusions ------------------------------------------------------------ */

int store_exclusion_add(struct store *s, struct store_exclusion *ex)
{
	if (!s || !ex || ex->prefix.plen > 128)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_EX_ADD);
	bind_ip(st, 1, ex->prefix.addr);
	sqlite3_bind_int(st, 2, ex->prefix.plen);
	sqlite3_bind_int64(st, 3, ex->until);
	sqlite3_bind_int64(st, 4, ex->created_at);
	bind_text(st, 5, ex->who, sizeof ex->who);
	bind_text(st, 6, ex->why, sizeof ex->why);
	int rc = step_done(s, st, "exclusion add");
	if (rc)
		return rc;
	ex->id = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

int store_exclusion_remove(struct store *s, const struct ip_prefix *prefix, int *n)
{
	if (!s || !prefix || !n)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_EX_DEL);
	bind_ip(st, 1, prefix->addr);
	sqlite3_bind_int(st, 2, prefix->plen);
	int rc = step_done(s, st, "exclusion remove");
	*n = rc == STORE_OK ? sqlite3_changes(s->db) : 0;
	return rc;
}

int store_exclusion_foreach(struct store *s, int64_t now,
			    int (*fn)(const struct store_exclusion *ex, void *arg), void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_EX_LIVE);
	sqlite3_bind_int64(st, 1, now);
	struct store_exclusion ex;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&ex, 0, sizeof ex);
		ex.id = sqlite3_column_int64(st, 0);
		column_ip(st, 1, ex.prefix.addr);
		ex.prefix.plen = (uint8_t)sqlite3_column_int(st, 2);
		ex.until = sqlite3_column_int64(st, 3);
		ex.created_at = sqlite3_column_int64(st, 4);
		column_text(st, 5, ex.who, sizeof ex.who);
		column_text(st, 6, ex.why, sizeof ex.why);
		if (fn(&ex, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "exclusion foreach", rc);
	return STORE_OK;
}

/* ---- moderator actions ----------------------------------------------------- */

int store_action_add(struct store *s, struct store_action *a)
{
	if (!s || !a || (a->kind != STORE_ACTION_DELIST && a->kind != STORE_ACTION_UNDELIST))
		return STORE_EINVAL;
	/* The newest evidence now, in the caller's transaction: what came before the action. */
	sqlite3_stmt *st = stmt(s, ST_EV_MAX);
	int rc = sqlite3_step(st);
	a->evidence_mark = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, "evidence max", rc);
	st = stmt(s, ST_AC_ADD);
	bind_ip(st, 1, a->ip);
	sqlite3_bind_int(st, 2, (int)a->kind);
	sqlite3_bind_int64(st, 3, a->at);
	bind_text(st, 4, a->who, sizeof a->who);
	bind_text(st, 5, a->why, sizeof a->why);
	sqlite3_bind_int64(st, 6, a->evidence_mark);
	if ((rc = step_done(s, st, "action add")) != STORE_OK)
		return rc;
	a->id = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

static void column_action(sqlite3_stmt *st, struct store_action *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	a->kind = (enum store_action_kind)sqlite3_column_int(st, 1);
	a->at = sqlite3_column_int64(st, 2);
	column_text(st, 3, a->who, sizeof a->who);
	column_text(st, 4, a->why, sizeof a->why);
	a->evidence_mark = sqlite3_column_int64(st, 5);
	column_ip(st, 6, a->ip);
}

int store_delisting_get(struct store *s, const uint8_t ip[16], struct store_action *out)
{
	if (!s || !ip || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_AC_LAST);
	bind_ip(st, 1, ip);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		column_action(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return out->kind == STORE_ACTION_DELIST ? STORE_OK : STORE_ENOTFOUND;
	if (rc == SQLITE_DONE)
		return STORE_ENOTFOUND;
	return store_fail(s, "delisting get", rc);
}

int store_delisting_foreach(struct store *s, int (*fn)(const struct store_action *a, void *arg),
			    void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_AC_DELISTED);
	struct store_action a;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		column_action(st, &a);
		if (fn(&a, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "delisting foreach", rc);
	return STORE_OK;
}

/* ---- reputation ------------------------------------------------------------ */

int store_reputation_set(struct store *s, const struct store_reputation *r)
{
	if (!s || !r || r->prefix.plen > 128 || !isfinite(r->points) || r->points < 0)
		return STORE_EINVAL;
	sqlite3_stmt *st;
	int rc;
	if (r->points == 0) {
		st = stmt(s, ST_RE_DEL);
		bind_ip(st, 1, r->prefix.addr);
		sqlite3_bind_int(st, 2, r->prefix.plen);
		if ((rc = step_done(s, st, "reputation delete")) != STORE_OK)
			return rc;
		/* Nothing removed: nothing happened, and the audit log says only what did. */
		if (sqlite3_changes(s->db) == 0)
			return STORE_ENOTFOUND;
	} else {
		st = stmt(s, ST_RE_PUT);
		bind_ip(st, 1, r->prefix.addr);
		sqlite3_bind_int(st, 2, r->prefix.plen);
		sqlite3_bind_double(st, 3, r->points);
		sqlite3_bind_int64(st, 4, r->created_at);
		bind_text(st, 5, r->who, sizeof r->who);
		bind_text(st, 6, r->why, sizeof r->why);
		if ((rc = step_done(s, st, "reputation put")) != STORE_OK)
			return rc;
	}
	char target[80], what[64];
	ip_prefix_format(&r->prefix, target, sizeof target);
	if (r->points == 0)
		snprintf(what, sizeof what, "reputation-remove");
	else
		snprintf(what, sizeof what, "reputation %.10g", r->points);
	char who[sizeof r->who + 1], why[sizeof r->why + 1];
	snprintf(who, sizeof who, "%.*s", (int)sizeof r->who, r->who);
	snprintf(why, sizeof why, "%.*s", (int)sizeof r->why, r->why);
	return store_audit_add(s, r->created_at, who, what, target, why);
}

static void column_reputation(sqlite3_stmt *st, struct store_reputation *r)
{
	memset(r, 0, sizeof *r);
	column_ip(st, 0, r->prefix.addr);
	r->prefix.plen = (uint8_t)sqlite3_column_int(st, 1);
	r->points = sqlite3_column_double(st, 2);
	r->created_at = sqlite3_column_int64(st, 3);
	column_text(st, 4, r->who, sizeof r->who);
	column_text(st, 5, r->why, sizeof r->why);
}

int store_reputation_get(struct store *s, const struct ip_prefix *prefix,
			 struct store_reputation *out)
{
	if (!s || !prefix || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_RE_GET);
	bind_ip(st, 1, prefix->addr);
	sqlite3_bind_int(st, 2, prefix->plen);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		column_reputation(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_ENOTFOUND;
	return store_fail(s, "reputation get", rc);
}

int store_reputation_foreach(struct store *s,
			     int (*fn)(const struct store_reputation *r, void *arg), void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_RE_ALL);
	struct store_reputation r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		column_reputation(st, &r);
		if (fn(&r, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "reputation foreach", rc);
	return STORE_OK;
}

/* ---- audit ----------------------------------------------------------------- */

int store_audit_add(struct store *s, int64_t at, const char *who, const char *what,
		    const char *target, const char *why)
{
	if (!s || !who || !what)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_AU_ADD);
	sqlite3_bind_int64(st, 1, at);
	bind_text(st, 2, who, STORE_TEXT_MAX);
	bind_text(st, 3, what, STORE_TEXT_MAX);
	bind_text(st, 4, target, STORE_TEXT_MAX);
	bind_text(st, 5, why, STORE_TEXT_MAX);
	return step_done(s, st, "audit add");
}

int store_audit_foreach(struct store *s, int64_t since,
			int (*fn)(int64_t at, const char *who, const char *what, const char *target,
				  const char *why, void *arg),
			void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_AU_ALL);
	sqlite3_bind_int64(st, 1, since);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn(sqlite3_column_int64(st, 0), column_str(st, 1), column_str(st, 2),
		       column_str(st, 3), column_str(st, 4), arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "audit foreach", rc);
	return STORE_OK;
}

/* ---- meta ------------------------------------------------------------------ */

int store_meta_get_int(struct store *s, const char *key, int64_t *out)
{
	if (!s || !key || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_ME_GET);
	bind_text(st, 1, key, STORE_TEXT_MAX);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_ENOTFOUND;
	return store_fail(s, "meta get", rc);
}

int store_meta_set_int(struct store *s, const char *key, int64_t v)
{
	if (!s || !key)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_ME_SET);
	bind_text(st, 1, key, STORE_TEXT_MAX);
	sqlite3_bind_int64(st, 2, v);
	return step_done(s, st, "meta set");
}

/* ---- trap hits and samples ------------------------------------------------- */

static void bind_str(sqlite3_stmt *st, int col, const char *t)
{
	sqlite3_bind_text(st, col, t ? t : "", -1, SQLITE_STATIC);
}

int store_trap_hit_add(struct store *s, const struct store_trap_hit *h)
{
	if (!s || !h || h->evidence_id <= 0 || h->size > INT64_MAX)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TH_ADD);
	sqlite3_bind_int64(st, 1, h->evidence_id);
	bind_str(st, 2, h->helo);
	bind_str(st, 3, h->mail_from);
	bind_str(st, 4, h->rcpts);
	sqlite3_bind_int64(st, 5, (int64_t)h->size);
	bind_str(st, 6, h->signals);
	int rc = step_done(s, st, "trap hit add");
	if (rc || !h->sample)
		return rc;
	if (h->sample_len > INT32_MAX)
		return STORE_EINVAL;
	st = stmt(s, ST_SA_ADD);
	sqlite3_bind_int64(st, 1, h->evidence_id);
	sqlite3_bind_int64(st, 2, h->sample_until);
	/* A blob, not text: a message may hold any byte, NUL included. */
	sqlite3_bind_blob(st, 3, h->sample, (int)h->sample_len, SQLITE_STATIC);
	return step_done(s, st, "sample add");
}

int store_trap_hit_get(struct store *s, int64_t evidence_id,
		       int (*fn)(const struct store_trap_hit *h, void *arg), void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TH_GET);
	sqlite3_bind_int64(st, 1, evidence_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct store_trap_hit h = { .evidence_id = evidence_id };
		h.helo = column_str(st, 0);
		h.mail_from = column_str(st, 1);
		h.rcpts = column_str(st, 2);
		h.size = (uint64_t)sqlite3_column_int64(st, 3);
		h.signals = column_str(st, 4);
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			h.sample = sqlite3_column_blob(st, 5);
			h.sample_len = (size_t)sqlite3_column_bytes(st, 5);
			if (!h.sample)
				h.sample = ""; /* an empty blob */
			h.sample_until = sqlite3_column_int64(st, 6);
		}
		fn(&h, arg);
		sqlite3_reset(st);
		return STORE_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, "trap hit get", rc);
	return STORE_ENOTFOUND;
}

int store_samples_prune(struct store *s, int64_t now, unsigned max, unsigned *pruned)
{
	if (!s || !pruned)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_SA_PRUNE);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max);
	int rc = step_done(s, st, "samples prune");
	*pruned = rc == STORE_OK ? (unsigned)sqlite3_changes(s->db) : 0;
	return rc;
}

/* ---- key holders and reports ---------------------------------------------------------- */

static const char *const holder_kind_names[] = {[STORE_HOLDER_REPORTER] = "reporter",
						[STORE_HOLDER_FEED] = "feed"};

const char *store_holder_kind_name(enum store_holder_kind k)
{
	if ((unsigned)k < sizeof holder_kind_names / sizeof holder_kind_names[0] &&
	    holder_kind_names[k])
		return holder_kind_names[k];
	return "?";
}

static bool holder_kind_ok(enum store_holder_kind k)
{
	return k == STORE_HOLDER_REPORTER || k == STORE_HOLDER_FEED;
}

int store_holder_add(struct store *s, struct store_holder *h)
{
	if (!s || !h || !holder_kind_ok(h->kind) || !memchr(h->name, '\0', sizeof h->name) ||
	    !h->name[0])
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_HO_ADD);
	bind_text(st, 1, h->name, sizeof h->name);
	sqlite3_bind_int(st, 2, (int)h->kind);
	sqlite3_bind_blob(st, 3, h->key_hash, STORE_KEY_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, h->relays ? h->relays : "", h->relays ? (int)h->relays_len : 0,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, h->created_at);
	bind_text(st, 6, h->created_by, sizeof h->created_by);
	int rc = step_insert(s, st, "holder add");
	if (rc != STORE_OK)
		return rc;
	h->id = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

static void column_holder(sqlite3_stmt *st, struct store_holder *h)
{
	memset(h, 0, sizeof *h);
	h->id = sqlite3_column_int64(st, 0);
	column_text(st, 1, h->name, sizeof h->name);
	h->kind = (enum store_holder_kind)sqlite3_column_int(st, 2);
	const void *b = sqlite3_column_blob(st, 3);
	if (b && sqlite3_column_bytes(st, 3) == STORE_KEY_HASH_LEN)
		memcpy(h->key_hash, b, STORE_KEY_HASH_LEN);
	h->created_at = sqlite3_column_int64(st, 4);
	column_text(st, 5, h->created_by, sizeof h->created_by);
	h->removed_at = sqlite3_column_int64(st, 6);
}

/* Steps a statement that yields at most one holder. */
static int holder_one(struct store *s, sqlite3_stmt *st, struct store_holder *out,
		      const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		column_holder(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_ENOTFOUND;
	return store_fail(s, what, rc);
}

int store_holder_get(struct store *s, const char *name, struct store_holder *out)
{
	if (!s || !name || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_HO_BY_NAME);
	bind_text(st, 1, name, STORE_NAME_MAX);
	return holder_one(s, st, out, "holder get");
}

int store_holder_by_key(struct store *s, const uint8_t hash[STORE_KEY_HASH_LEN],
			struct store_holder *out)
{
	if (!s || !hash || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_HO_BY_KEY);
	sqlite3_bind_blob(st, 1, hash, STORE_KEY_HASH_LEN, SQLITE_STATIC);
	return holder_one(s, st, out, "holder by key");
}

int store_holder_by_id(struct store *s, int64_t id, struct store_holder *out)
{
	if (!s || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_HO_BY_ID);
	sqlite3_bind_int64(st, 1, id);
	return holder_one(s, st, out, "holder by id");
}

int store_holder_remove(struct store *s, const char *name, enum store_holder_kind kind,
			int64_t at)
{
	if (!s || !name || !holder_kind_ok(kind) || at <= 0)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_HO_REMOVE);
	bind_text(st, 1, name, STORE_NAME_MAX);
	sqlite3_bind_int(st, 2, (int)kind);
	sqlite3_bind_int64(st, 3, at);
	int rc = step_done(s, st, "holder remove");
	if (rc != STORE_OK)
		return rc;
	return sqlite3_changes(s->db) ? STORE_OK : STORE_ENOTFOUND;
}

int store_holder_foreach(struct store *s, enum store_holder_kind kind,
			 int (*fn)(const struct store_holder *h, void *arg), void *arg)
{
	if (!s || !fn || !holder_kind_ok(kind))
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_HO_ALL);
	sqlite3_bind_int(st, 1, (int)kind);
	struct store_holder h;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		column_holder(st, &h);
		h.reports = (uint64_t)sqlite3_column_int64(st, 7);
		if (fn(&h, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "holder foreach", rc);
	return STORE_OK;
}

int store_holder_relays(struct store *s, int64_t id, char **text, size_t *len)
{
	if (!s || !text || !len)
		return STORE_EINVAL;
	*text = NULL;
	*len = 0;
	sqlite3_stmt *st = stmt(s, ST_HO_RELAYS);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int ret = STORE_OK;
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		size_t n = t ? (size_t)sqlite3_column_bytes(st, 0) : 0;
		char *copy = malloc(n + 1);
		if (copy) {
			if (n)
				memcpy(copy, t, n);
			copy[n] = '\0';
			*text = copy;
			*len = n;
		} else {
			ret = STORE_ENOMEM;
		}
	} else if (rc == SQLITE_DONE) {
		ret = STORE_ENOTFOUND;
	} else {
		ret = store_fail(s, "holder relays", rc);
	}
	sqlite3_reset(st);
	return ret;
}

static bool report_id_ok(const char *id)
{
	size_t n = strnlen(id, STORE_REPORT_ID_LEN + 1);
	return n == STORE_REPORT_ID_LEN && strspn(id, "0123456789abcdef") == n;
}

int store_report_add(struct store *s, const struct store_report *r)
{
	if (!s || !r || !r->analysis || !report_id_ok(r->id) ||
	    (unsigned)r->cls > STORE_CLASS_UNKNOWN ||
	    !memchr(r->refusal, '\0', sizeof r->refusal))
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_RP_ADD);
	bind_text(st, 1, r->id, sizeof r->id);
	sqlite3_bind_int64(st, 2, r->holder);
	sqlite3_bind_int64(st, 3, r->received_at);
	sqlite3_bind_blob(st, 4, r->digest, STORE_DIGEST_LEN, SQLITE_STATIC);
	if (r->has_source)
		bind_ip(st, 5, r->source);
	else
		sqlite3_bind_null(st, 5);
	bind_text(st, 6, r->refusal, sizeof r->refusal);
	sqlite3_bind_int(st, 7, (int)r->cls);
	sqlite3_bind_text(st, 8, r->analysis, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->evidence_id);
	return step_insert(s, st, "report add");
}

/* The report in the row st stands on; with_analysis: out->analysis allocated. */
static int report_columns(sqlite3_stmt *st, bool with_analysis, struct store_report *out)
{
	memset(out, 0, sizeof *out);
	column_text(st, 0, out->id, sizeof out->id);
	out->holder = sqlite3_column_int64(st, 1);
	out->received_at = sqlite3_column_int64(st, 2);
	const void *d = sqlite3_column_blob(st, 3);
	if (d && sqlite3_column_bytes(st, 3) == STORE_DIGEST_LEN)
		memcpy(out->digest, d, STORE_DIGEST_LEN);
	out->has_source = sqlite3_column_type(st, 4) == SQLITE_BLOB;
	if (out->has_source)
		column_ip(st, 4, out->source);
	column_text(st, 5, out->refusal, sizeof out->refusal);
	out->cls = (enum store_class)sqlite3_column_int(st, 6);
	out->evidence_id = sqlite3_column_int64(st, 8);
	if (!with_analysis)
		return STORE_OK;
	const unsigned char *t = sqlite3_column_text(st, 7);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, 7) : 0;
	out->analysis = malloc(n + 1);
	if (!out->analysis)
		return STORE_ENOMEM;
	if (n)
		memcpy(out->analysis, t, n);
	out->analysis[n] = '\0';
	return STORE_OK;
}

/* Steps a statement that yields at most one report. */
static int report_one(struct store *s, sqlite3_stmt *st, bool with_analysis,
		      struct store_report *out, const char *what)
{
	memset(out, 0, sizeof *out);
	int rc = sqlite3_step(st);
	int ret = STORE_OK;
	if (rc == SQLITE_ROW)
		ret = report_columns(st, with_analysis, out);
	else if (rc == SQLITE_DONE)
		ret = STORE_ENOTFOUND;
	else
		ret = store_fail(s, what, rc);
	sqlite3_reset(st);
	return ret;
}

int store_report_recent(struct store *s, const uint8_t ip[16], unsigned max,
			int (*fn)(const struct store_report *r, void *arg), void *arg)
{
	if (!s || !ip || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_RP_RECENT);
	bind_ip(st, 1, ip);
	sqlite3_bind_int64(st, 2, max);
	int rc, ret = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_report r;
		ret = report_columns(st, true, &r);
		bool stop = ret != STORE_OK || fn(&r, arg);
		free(r.analysis);
		if (stop)
			break;
	}
	sqlite3_reset(st);
	if (ret == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_fail(s, "report recent", rc);
	return ret;
}

int store_report_get(struct store *s, const char *id, bool with_analysis,
		     struct store_report *out)
{
	if (!s || !id || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_RP_GET);
	bind_text(st, 1, id, STORE_REPORT_ID_LEN + 1);
	return report_one(s, st, with_analysis, out, "report get");
}

int store_report_by_digest(struct store *s, const char *name,
			   const uint8_t digest[STORE_DIGEST_LEN], bool with_analysis,
			   struct store_report *out)
{
	if (!s || !name || !digest || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_RP_BY_DIGEST);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, digest, STORE_DIGEST_LEN, SQLITE_STATIC);
	return report_one(s, st, with_analysis, out, "report by digest");
}

int store_report_hour_get(struct store *s, int64_t holder, int64_t hour, uint64_t *n)
{
	if (!s || !n)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_RP_HOUR_GET);
	sqlite3_bind_int64(st, 1, holder);
	sqlite3_bind_int64(st, 2, hour);
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "report hour get", rc);
	return STORE_OK;
}

int store_report_hour_add(struct store *s, int64_t holder, int64_t hour)
{
	if (!s)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_RP_HOUR_ADD);
	sqlite3_bind_int64(st, 1, holder);
	sqlite3_bind_int64(st, 2, hour);
	return step_done(s, st, "report hour add");
}

/* ---- listing history and the web's figures --------------------------------- */

int store_history_add(struct store *s, const struct store_episode *e)
{
	if (!s || !e || e->ended_at < e->listed_at)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_HI_ADD);
	bind_ip(st, 1, e->ip);
	sqlite3_bind_int64(st, 2, e->listed_at);
	sqlite3_bind_int64(st, 3, e->ended_at);
	sqlite3_bind_int(st, 4, e->reason);
	return step_done(s, st, "history add");
}

int store_history_for_ip(struct store *s, const uint8_t ip[16], int64_t since,
			 int (*fn)(const struct store_episode *e, void *arg), void *arg)
{
	if (!s || !ip || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_HI_FOR_IP);
	bind_ip(st, 1, ip);
	sqlite3_bind_int64(st, 2, since);
	struct store_episode e;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memcpy(e.ip, ip, 16);
		e.listed_at = sqlite3_column_int64(st, 0);
		e.ended_at = sqlite3_column_int64(st, 1);
		e.reason = sqlite3_column_int(st, 2);
		if (fn(&e, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "history for ip", rc);
	return STORE_OK;
}

int store_listing_count(struct store *s, uint64_t *out)
{
	if (!s || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_LI_COUNT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : store_fail(s, "listing count", rc);
}

int store_evidence_count(struct store *s, int64_t from, int64_t to, uint64_t *traps,
			 uint64_t *reports)
{
	if (!s || !traps || !reports)
		return STORE_EINVAL;
	*traps = *reports = 0;
	sqlite3_stmt *st = stmt(s, ST_EV_COUNT);
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);
		if (sqlite3_column_int(st, 0) == STORE_KIND_TRAP)
			*traps += n;
		else
			*reports += n;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, "evidence count", rc);
	return STORE_OK;
}

int store_evidence_per_day(struct store *s, const uint8_t ip[16], int64_t from, unsigned days,
			   uint32_t *traps, uint32_t *reports)
{
	if (!s || !ip || !traps || !reports)
		return STORE_EINVAL;
	memset(traps, 0, days * sizeof *traps);
	memset(reports, 0, days * sizeof *reports);
	sqlite3_stmt *st = stmt(s, ST_EV_DAYS);
	bind_ip(st, 1, ip);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, from + (int64_t)days * 86400);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t d = sqlite3_column_int64(st, 0);
		uint32_t n = (uint32_t)sqlite3_column_int64(st, 2);
		if (d < 0 || d >= (int64_t)days)
			continue;
		if (sqlite3_column_int(st, 1) == STORE_KIND_TRAP)
			traps[d] += n;
		else
			reports[d] += n;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, "evidence per day", rc);
	return STORE_OK;
}
