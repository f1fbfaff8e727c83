/* writer_batch.c - what the writer thread does with events: one transaction per batch, the
 * policy on every address touched, zone changes, expiry timers, rebuild and load. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "writer_internal.h"

#define SERIAL_KEY "serial"

/* ---- small helpers ---- */

static bool text_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static int store_rc(int rc)
{
	return rc == STORE_ENOMEM ? WRITER_ENOMEM : WRITER_ESTORE;
}

/* A moderator's event names who asked and why, both terminated within their fields. */
static bool moderator_ok(const struct writer_event *ev)
{
	return text_terminated(ev->who, sizeof ev->who) && text_terminated(ev->why, sizeof ev->why);
}

int writer_event_check(const struct writer_event *ev, int64_t now)
{
	switch (ev->type) {
	case WRITER_EV_EVIDENCE:
		if (ev->evidence.kind != STORE_KIND_TRAP && ev->evidence.kind != STORE_KIND_REPORT)
			return WRITER_EINVAL;
		if ((unsigned)ev->evidence.cls > STORE_CLASS_UNKNOWN || ev->evidence.received_at < 0)
			return WRITER_EINVAL;
		if (!text_terminated(ev->evidence.source, sizeof ev->evidence.source) ||
		    !text_terminated(ev->evidence.digest, sizeof ev->evidence.digest))
			return WRITER_EINVAL;
		if (ev->trap && ev->evidence.kind != STORE_KIND_TRAP)
			return WRITER_EINVAL;
		return WRITER_OK;
	case WRITER_EV_EXCLUDE:
		if (!ip_prefix_valid(&ev->prefix) || (ev->until != 0 && ev->until <= now))
			return WRITER_EINVAL;
		return moderator_ok(ev) ? WRITER_OK : WRITER_EINVAL;
	case WRITER_EV_DELIST:
		return moderator_ok(ev) ? WRITER_OK : WRITER_EINVAL;
	case WRITER_EV_REPUTATION:
		if (!ip_prefix_valid(&ev->prefix) || !isfinite(ev->points) || ev->points < 0)
			return WRITER_EINVAL;
		return moderator_ok(ev) ? WRITER_OK : WRITER_EINVAL;
	case WRITER_EV_REBUILD:
	case WRITER_EV_EXPORT:
		return WRITER_OK;
	}
	return WRITER_EINVAL;
}

/* ---- the timer heap (min-heap on at) ---- */

static void heap_swap(struct writer_timer *a, struct writer_timer *b)
{
	struct writer_timer t = *a;
	*a = *b;
	*b = t;
}

static void heap_down(struct writer_timer *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && h[l].at < h[m].at)
			m = l;
		if (r < n && h[r].at < h[m].at)
			m = r;
		if (m == i)
			return;
		heap_swap(&h[i], &h[m]);
		i = m;
	}
}

static int heap_push(struct writer *w, int64_t at, const uint8_t ip[16])
{
	if (array_grow((void **)&w->heap, &w->heap_cap, w->heap_n + 1, sizeof *w->heap) != WRITER_OK)
		return WRITER_ENOMEM;
	size_t i = w->heap_n++;
	w->heap[i].at = at;
	memcpy(w->heap[i].ip, ip, 16);
	while (i > 0 && w->heap[(i - 1) / 2].at > w->heap[i].at) {
		heap_swap(&w->heap[(i - 1) / 2], &w->heap[i]);
		i = (i - 1) / 2;
	}
	return WRITER_OK;
}

static void heap_pop(struct writer *w)
{
	w->heap[0] = w->heap[--w->heap_n];
	heap_down(w->heap, w->heap_n, 0);
}

static void heap_make(struct writer *w)
{
	for (size_t i = w->heap_n / 2; i-- > 0;)
		heap_down(w->heap, w->heap_n, i);
}

int64_t writer_timers_next(const struct writer *w)
{
	int64_t next = w->heap_n > 0 ? w->heap[0].at : INT64_MAX;
	for (size_t i = 0; i < w->excl_n; i++)
		if (w->excl[i].until != 0 && w->excl[i].until < next)
			next = w->excl[i].until;
	if (w->cfg.export_interval_s > 0 && w->export_dir[0] && w->next_export < next)
		next = w->next_export;
	if (w->next_prune < next)
		next = w->next_prune;
	return next;
}

/* ---- exclusions ---- */

static int excl_add(struct writer *w, const struct ip_prefix *p, int64_t until)
{
	if (array_grow((void **)&w->excl, &w->excl_cap, w->excl_n + 1, sizeof *w->excl) != WRITER_OK)
		return WRITER_ENOMEM;
	w->excl[w->excl_n].prefix = *p;
	w->excl[w->excl_n].until = until;
	w->excl_n++;
	return WRITER_OK;
}

static bool excluded(const struct writer *w, const uint8_t ip[16], int64_t now)
{
	for (size_t i = 0; i < w->cfg.n_default_exclusions; i++)
		if (ip_prefix_covers(&w->defexcl[i], ip))
			return true;
	for (size_t i = 0; i < w->excl_n; i++)
		if ((w->excl[i].until == 0 || w->excl[i].until > now) &&
		    ip_prefix_covers(&w->excl[i].prefix, ip))
			return true;
	return false;
}

/* ---- reputation ---- */

/* The points of the most specific prefix covering ip (0: none). The most specific wins so that
 * an operator can give a provider's /16 points and its /24 of bulk senders fewer (or none but
 * a token amount): a narrower row is the more deliberate statement. */
static double reputation_for(const struct writer *w, const uint8_t ip[16])
{
	int best = -1;
	double points = 0;
	for (size_t i = 0; i < w->rep_n; i++) {
		if ((int)w->rep[i].prefix.plen > best && ip_prefix_covers(&w->rep[i].prefix, ip)) {
			best = w->rep[i].prefix.plen;
			points = w->rep[i].points;
		}
	}
	return points;
}

/* Sets (points > 0) or removes (0) the in-memory row of exactly p, as the store does. */
static int reputation_put(struct writer *w, const struct ip_prefix *p, double points)
{
	for (size_t i = 0; i < w->rep_n; i++) {
		if (w->rep[i].prefix.plen != p->plen || memcmp(w->rep[i].prefix.addr, p->addr, 16))
			continue;
		if (points > 0)
			w->rep[i].points = points;
		else
			w->rep[i] = w->rep[--w->rep_n];
		return WRITER_OK;
	}
	if (points == 0)
		return WRITER_OK;
	if (array_grow((void **)&w->rep, &w->rep_cap, w->rep_n + 1, sizeof *w->rep) != WRITER_OK)
		return WRITER_ENOMEM;
	w->rep[w->rep_n].prefix = *p;
	w->rep[w->rep_n].points = points;
	w->rep_n++;
	return WRITER_OK;
}

static int load_reputation(const struct store_reputation *r, void *arg)
{
	return reputation_put(arg, &r->prefix, r->points) != WRITER_OK;
}

/* Reads every reputation row into memory again (at start, and after a failed batch that had
 * changed the memory copy before its transaction rolled back). */
static int reputation_load(struct writer *w)
{
	w->rep_n = 0;
	int rc = store_reputation_foreach(w->store, load_reputation, w);
	if (rc != STORE_OK)
		return store_rc(rc);
	return WRITER_OK;
}

/* ---- evaluation ---- */

static int touch(struct writer *w, const uint8_t ip[16])
{
	if (array_grow((void **)&w->touched, &w->touched_cap, w->touched_n + 1, 16) != WRITER_OK)
		return WRITER_ENOMEM;
	memcpy(w->touched[w->touched_n++], ip, 16);
	return WRITER_OK;
}

static int cmp_ip(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void touched_unique(struct writer *w)
{
	if (w->touched_n < 2)
		return;
	qsort(w->touched, w->touched_n, 16, cmp_ip);
	size_t k = 1;
	for (size_t i = 1; i < w->touched_n; i++)
		if (memcmp(w->touched[i], w->touched[k - 1], 16) != 0)
			memcpy(w->touched[k++], w->touched[i], 16);
	w->touched_n = k;
}

static int change_add(struct writer *w, enum zone_change_op op, const uint8_t ip[16])
{
	if (array_grow((void **)&w->changes, &w->changes_cap, w->changes_n + 1, sizeof *w->changes) !=
	    WRITER_OK)
		return WRITER_ENOMEM;
	struct zone_change *c = &w->changes[w->changes_n++];
	memset(c, 0, sizeof *c);
	c->op = op;
	if (ip_is_v4(ip)) {
		c->ip4 = ip_v4(ip);
	} else {
		c->v6 = true;
		memcpy(c->ip6, ip, 16);
		c->plen6 = 128;
	}
	c->cls.txt = NULL; /* the snapshot's default class */
	return WRITER_OK;
}

static int collect_evidence(int64_t received_at, enum store_kind kind, enum store_class cls,
			    void *arg)
{
	struct writer *w = arg;
	if (array_grow((void **)&w->evbuf, &w->evbuf_cap, w->evbuf_n + 1, sizeof *w->evbuf) != WRITER_OK) {
		w->oom = true;
		return 1;
	}
	w->evbuf[w->evbuf_n].received_at = received_at;
	w->evbuf[w->evbuf_n].trap = kind == STORE_KIND_TRAP;
	w->evbuf[w->evbuf_n].cls = (uint8_t)cls;
	w->evbuf_n++;
	return 0;
}

static int cmp_kept(const void *a, const void *b)
{
	return memcmp(a, b, 16); /* ip is the first member */
}

/* When the listing of ip began, as it was before a rebuild cleared it (now if it was not). */
static int64_t kept_listed_at(const struct writer *w, const uint8_t ip[16], int64_t now)
{
	const struct writer_kept *k =
		w->kept_n ? bsearch(ip, w->kept, w->kept_n, sizeof *w->kept, cmp_kept) : NULL;
	return k ? k->listed_at : now;
}

static void kept_free(struct writer *w)
{
	free(w->kept);
	w->kept = NULL;
	w->kept_n = w->kept_cap = 0;
}

static int keep_listing(const struct store_listing *l, void *arg)
{
	struct writer *w = arg;
	if (array_grow((void **)&w->kept, &w->kept_cap, w->kept_n + 1, sizeof *w->kept) != WRITER_OK) {
		w->oom = true;
		return 1;
	}
	memcpy(w->kept[w->kept_n].ip, l->ip, 16);
	w->kept[w->kept_n].listed_at = l->listed_at;
	w->kept_n++;
	return 0;
}

/* ---- hot addresses (struct writer_hot) ---- */

static struct writer_hot *hot_find(struct writer *w, const uint8_t ip[16])
{
	for (size_t i = 0; i < WRITER_HOT_MAX; i++)
		if (w->hot[i].live && memcmp(w->hot[i].ip, ip, 16) == 0)
			return &w->hot[i];
	return NULL;
}

/* Forgets every hot address: after a failed batch (its pieces were appended, then rolled
 * back) and around a rebuild. The next evaluation reads the store again. */
static void hot_clear(struct writer *w)
{
	for (size_t i = 0; i < WRITER_HOT_MAX; i++)
		w->hot[i].live = false;
}

static int hot_append(struct writer_hot *h, int64_t received_at, bool trap, uint8_t cls)
{
	if (array_grow((void **)&h->ev, &h->cap, h->n + 1, sizeof *h->ev) != WRITER_OK)
		return WRITER_ENOMEM;
	h->ev[h->n++] = (struct policy_evidence){ received_at, trap, cls };
	return WRITER_OK;
}

/* A piece the batch stored: appended if its address is hot (otherwise the store has it). */
static int hot_add(struct writer *w, const struct store_evidence *e)
{
	struct writer_hot *h = hot_find(w, e->ip);
	if (h && hot_append(h, e->received_at, e->kind == STORE_KIND_TRAP, (uint8_t)e->cls) != WRITER_OK) {
		h->live = false;
		return WRITER_OK; /* read from the store next time */
	}
	return WRITER_OK;
}

/* Keeps evbuf (just read from the store for ip) when it is long enough to be worth it. */
static void hot_keep(struct writer *w, const uint8_t ip[16])
{
	if (w->evbuf_n < WRITER_HOT_MIN)
		return;
	struct writer_hot *h = &w->hot[0];
	for (size_t i = 1; i < WRITER_HOT_MAX && h->live; i++)
		if (!w->hot[i].live || w->hot[i].used < h->used)
			h = &w->hot[i];
	h->n = 0;
	if (array_grow((void **)&h->ev, &h->cap, w->evbuf_n, sizeof *h->ev) != WRITER_OK)
		return;
	memcpy(h->ev, w->evbuf, w->evbuf_n * sizeof *h->ev);
	h->n = w->evbuf_n;
	memcpy(h->ip, ip, 16);
	h->used = ++w->hot_clock;
	h->live = true;
}

/* The evidence of ip in the window into evbuf: from memory when ip is hot (dropping what left
 * the window), from the store otherwise. */
static int evidence_load(struct writer *w, const uint8_t ip[16], int64_t since)
{
	w->evbuf_n = 0;
	w->oom = false;
	struct writer_hot *h = hot_find(w, ip);
	if (h) {
		size_t k = 0;
		for (size_t i = 0; i < h->n; i++)
			if (h->ev[i].received_at >= since)
				h->ev[k++] = h->ev[i];
		h->n = k;
		h->used = ++w->hot_clock;
		if (array_grow((void **)&w->evbuf, &w->evbuf_cap, h->n, sizeof *w->evbuf) != WRITER_OK)
			return WRITER_ENOMEM;
		memcpy(w->evbuf, h->ev, h->n * sizeof *w->evbuf);
		w->evbuf_n = h->n;
		return WRITER_OK;
	}
	int rc = store_evidence_policy_for_ip(w->store, ip, since, collect_evidence, w);
	if (rc != STORE_OK)
		return store_rc(rc);
	if (w->oom)
		return WRITER_ENOMEM;
	hot_keep(w, ip);
	return WRITER_OK;
}

/* How eval_ip is called. */
enum eval_mode {
	EVAL_EVENT = 0,   /* new evidence or a moderator event */
	EVAL_REBUILD = 1, /* the listings were cleared: a listing that goes on keeps its start */
	EVAL_TIMER = 2,   /* the address's timer fired: it needs a new one if still listed */
};

/* Runs the policy on ip and brings its listing (store, zone change, timer) in line with the
 * answer. */
static int eval_ip(struct writer *w, const uint8_t ip[16], int64_t now, enum eval_mode mode)
{
	int64_t since = now - (int64_t)w->cfg.policy.window_s;
	int rc = evidence_load(w, ip, since);
	if (rc != WRITER_OK)
		return rc;

	struct policy_context ctx = { .excluded = excluded(w, ip, now),
				      .reputation = reputation_for(w, ip) };
	struct store_action act;
	rc = store_action_last(w->store, ip, STORE_ACTION_DELIST, &act);
	if (rc == STORE_OK)
		ctx.delisted_at = act.at;
	else if (rc != STORE_ENOTFOUND)
		return store_rc(rc);

	struct policy_result res;
	if (policy_evaluate(&w->cfg.policy, w->evbuf, w->evbuf_n, &ctx, now, &res, NULL) != 0)
		return WRITER_EINVAL;

	struct store_listing prev;
	bool was = false;
	if (mode != EVAL_REBUILD) {
		rc = store_listing_get(w->store, ip, &prev);
		if (rc == STORE_OK)
			was = true;
		else if (rc != STORE_ENOTFOUND)
			return store_rc(rc);
	}
	if (!res.listed) {
		if (!was)
			return WRITER_OK;
		rc = store_listing_delete(w->store, ip);
		if (rc != STORE_OK)
			return store_rc(rc);
		return change_add(w, ZONE_CHANGE_DELETE, ip);
	}
	struct store_listing l = { 0 };
	memcpy(l.ip, ip, 16);
	l.listed_at = was ? prev.listed_at : mode == EVAL_REBUILD ? kept_listed_at(w, ip, now) : now;
	l.expires_at = res.expires_at;
	l.last_evidence_at = res.last_evidence_at;
	l.traps = res.traps;
	l.reports = res.reports;
	l.score = res.score;
	l.reason = (int)res.reason;
	rc = store_listing_put(w->store, &l);
	if (rc != STORE_OK)
		return store_rc(rc);
	/* A timer at or before expires_at exists already when the listing only got longer,
	 * unless it is the one that just fired. */
	if (!was || l.expires_at < prev.expires_at || mode == EVAL_TIMER) {
		rc = heap_push(w, l.expires_at, ip);
		if (rc != WRITER_OK)
			return rc;
	}
	return was ? WRITER_OK : change_add(w, ZONE_CHANGE_SET, ip);
}

/* Evaluates every touched address, bumps and stores the serial if the zone changes. */
static int eval_touched(struct writer *w, int64_t now, enum eval_mode mode, uint32_t *serial)
{
	touched_unique(w);
	for (size_t i = 0; i < w->touched_n; i++) {
		int rc = eval_ip(w, w->touched[i], now, mode);
		if (rc != WRITER_OK)
			return rc;
	}
	*serial = w->serial;
	if (w->changes_n == 0)
		return WRITER_OK;
	*serial = w->serial + 1;
	if (store_meta_set_int(w->store, SERIAL_KEY, *serial) != STORE_OK)
		return WRITER_ESTORE;
	return WRITER_OK;
}

/* ---- applying events ---- */

/* Listed addresses inside p: those with a timer (every listing has one). */
static int touch_listed_in(struct writer *w, const struct ip_prefix *p)
{
	for (size_t i = 0; i < w->heap_n; i++)
		if (ip_prefix_covers(p, w->heap[i].ip) && touch(w, w->heap[i].ip) != WRITER_OK)
			return WRITER_ENOMEM;
	return WRITER_OK;
}

static int touch_evidence_in(struct writer *w, const struct ip_prefix *p, int64_t now);

static int apply_one(struct writer *w, const struct writer_event *ev, int64_t now)
{
	char target[IP_PREFIX_STRLEN];
	int rc;
	switch (ev->type) {
	case WRITER_EV_EVIDENCE: {
		struct store_evidence e = ev->evidence;
		e.id = 0;
		if (e.received_at == 0)
			e.received_at = now;
		e.added_at = now;
		rc = store_evidence_add(w->store, &e);
		if (rc == STORE_OK && ev->trap) {
			struct store_trap_hit h = *ev->trap;
			h.evidence_id = e.id;
			rc = store_trap_hit_add(w->store, &h);
		}
		if (rc != STORE_OK)
			return store_rc(rc);
		hot_add(w, &e);
		return touch(w, e.ip);
	}
	case WRITER_EV_DELIST: {
		struct store_action a = { .kind = STORE_ACTION_DELIST, .at = now };
		memcpy(a.ip, ev->ip, 16);
		snprintf(a.who, sizeof a.who, "%s", ev->who);
		snprintf(a.why, sizeof a.why, "%s", ev->why);
		rc = store_action_add(w->store, &a);
		if (rc == STORE_OK) {
			ip_format(ev->ip, target);
			rc = store_audit_add(w->store, now, ev->who, "delist", target, ev->why);
		}
		if (rc != STORE_OK)
			return store_rc(rc);
		return touch(w, ev->ip);
	}
	case WRITER_EV_EXCLUDE: {
		struct store_exclusion x = { .prefix = ev->prefix, .until = ev->until,
					     .created_at = now };
		snprintf(x.who, sizeof x.who, "%s", ev->who);
		snprintf(x.why, sizeof x.why, "%s", ev->why);
		rc = store_exclusion_add(w->store, &x);
		if (rc == STORE_OK) {
			ip_prefix_format(&ev->prefix, target, sizeof target);
			rc = store_audit_add(w->store, now, ev->who, "exclude", target, ev->why);
		}
		if (rc != STORE_OK)
			return store_rc(rc);
		rc = excl_add(w, &ev->prefix, ev->until);
		return rc == WRITER_OK ? touch_listed_in(w, &ev->prefix) : rc;
	}
	case WRITER_EV_REPUTATION: {
		struct store_reputation r = { .prefix = ev->prefix, .points = ev->points,
					      .created_at = now };
		snprintf(r.who, sizeof r.who, "%s", ev->who);
		snprintf(r.why, sizeof r.why, "%s", ev->why);
		rc = store_reputation_set(w->store, &r);
		if (rc == STORE_ENOTFOUND)
			return WRITER_OK; /* removing points the prefix did not have: no change */
		if (rc != STORE_OK)
			return store_rc(rc);
		w->rep_dirty = true;
		rc = reputation_put(w, &ev->prefix, ev->points);
		/* A higher threshold may delist, a lower one list: every address inside with
		 * evidence in the window is evaluated again, listed or not. */
		return rc == WRITER_OK ? touch_evidence_in(w, &ev->prefix, now) : rc;
	}
	default:
		return WRITER_EINVAL;
	}
}

/* Starts a round. Zone changes of earlier rounds may still wait for publication (they are
 * coalesced, writer.c): a round only ever drops its own, back to the mark it started at. */
static size_t batch_reset(struct writer *w)
{
	w->touched_n = 0;
	return w->changes_n;
}

static void batch_undo(struct writer *w, size_t mark)
{
	w->touched_n = 0;
	w->changes_n = mark;
}

int writer_batch_apply(struct writer *w, struct writer_waiter **batch, size_t n, int *results)
{
	int64_t now = time_now();
	size_t excl_before = w->excl_n;
	uint32_t serial = w->serial;
	size_t mark = batch_reset(w);
	w->rep_dirty = false;
	int rc = store_begin(w->store) == STORE_OK ? WRITER_OK : WRITER_ESTORE;
	for (size_t i = 0; i < n && rc == WRITER_OK; i++) {
		/* A bad event fails alone (the time may have passed an --until since submit). */
		results[i] = writer_event_check(batch[i]->ev, now);
		if (results[i] != WRITER_OK)
			continue;
		rc = apply_one(w, batch[i]->ev, now);
		results[i] = rc;
	}
	if (rc == WRITER_OK)
		rc = eval_touched(w, now, EVAL_EVENT, &serial);
	if (rc == WRITER_OK && store_commit(w->store) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc != WRITER_OK) {
		store_rollback(w->store);
		log_err("writer", "batch of %zu events failed: %s", n, tl_strerror(rc));
		w->excl_n = excl_before; /* stale timers are harmless: they re-read the store */
		if (w->rep_dirty && reputation_load(w) != WRITER_OK)
			log_err("writer", "reputation not reloaded after a failed batch");
		hot_clear(w);
		batch_undo(w, mark);
		for (size_t i = 0; i < n; i++)
			results[i] = rc;
		return rc;
	}
	w->serial = serial;
	return WRITER_OK;
}

void writer_publish_changes(struct writer *w)
{
	if (w->changes_n == 0)
		return;
	struct zone_snapshot *next = NULL;
	int rc = zone_snapshot_apply(w->current, w->changes, w->changes_n, w->serial, &next);
	if (rc != ZONE_OK) {
		/* The store is right and DNS lags: the next rebuild or restart catches up. */
		log_err("writer", "zone change not published: %s", tl_strerror(rc));
		w->changes_n = 0;
		return;
	}
	zone_publish(w->zone, next);
	w->current = next;
	w->changes_n = 0;
	w->published_ns = time_mono_ns();
}

/* ---- timers ---- */

struct prefix_ctx {
	struct writer *w;
	struct ip_prefix prefix;
	int rc;
};

static int collect_ip_in_prefix(const uint8_t ip[16], void *arg)
{
	struct prefix_ctx *c = arg;
	if (ip_prefix_covers(&c->prefix, ip))
		c->rc = touch(c->w, ip);
	return c->rc != WRITER_OK;
}

/* Addresses inside p with evidence in the window (listed or not). */
static int touch_evidence_in(struct writer *w, const struct ip_prefix *p, int64_t now)
{
	struct prefix_ctx c = { .w = w, .prefix = *p, .rc = WRITER_OK };
	int64_t since = now - (int64_t)w->cfg.policy.window_s;
	int rc = store_evidence_ips(w->store, since, collect_ip_in_prefix, &c);
	if (c.rc != WRITER_OK)
		return c.rc;
	return rc == STORE_OK ? WRITER_OK : store_rc(rc);
}

/* Exclusions that ended: the addresses they covered may be listed again. */
static int expire_exclusions(struct writer *w, int64_t now)
{
	for (size_t i = 0; i < w->excl_n;) {
		if (w->excl[i].until == 0 || w->excl[i].until > now) {
			i++;
			continue;
		}
		struct prefix_ctx c = { .w = w, .prefix = w->excl[i].prefix, .rc = WRITER_OK };
		w->excl[i] = w->excl[--w->excl_n];
		int64_t since = now - (int64_t)w->cfg.policy.window_s;
		int rc = store_evidence_ips(w->store, since, collect_ip_in_prefix, &c);
		if (c.rc != WRITER_OK)
			return c.rc;
		if (rc != STORE_OK)
			return store_rc(rc);
	}
	return WRITER_OK;
}

/* Samples of trap messages are kept trap_sample_days (each row knows until when): deleted
 * once a minute, a bounded number per round so that a backlog never holds producers up. */
#define PRUNE_EVERY_S 60
#define PRUNE_MAX 1000

static void prune_samples(struct writer *w, int64_t now)
{
	unsigned n = 0;
	w->next_prune = now + (time_now_is_test_clock() ? 1 : PRUNE_EVERY_S);
	if (store_begin(w->store) != STORE_OK)
		return;
	if (store_samples_prune(w->store, now, PRUNE_MAX, &n) != STORE_OK ||
	    store_commit(w->store) != STORE_OK) {
		store_rollback(w->store);
		log_err("writer", "samples not pruned; retrying in %d s", PRUNE_EVERY_S);
		return;
	}
	if (n == PRUNE_MAX)
		w->next_prune = now; /* more are due: the next round, after the queue's turn */
	if (n > 0)
		log_info("writer", "samples pruned count=%u", n);
}

void writer_timers_run(struct writer *w, int64_t now)
{
	if (now >= w->next_prune)
		prune_samples(w, now);
	if (w->cfg.export_interval_s > 0 && w->export_dir[0] && now >= w->next_export) {
		writer_export(w, NULL);
		w->next_export = now + w->cfg.export_interval_s;
	}
	bool due = w->heap_n > 0 && w->heap[0].at <= now;
	for (size_t i = 0; i < w->excl_n && !due; i++)
		due = w->excl[i].until != 0 && w->excl[i].until <= now;
	if (!due)
		return;
	size_t mark = batch_reset(w);
	uint32_t serial = w->serial;
	int rc = store_begin(w->store) == STORE_OK ? WRITER_OK : WRITER_ESTORE;
	if (rc == WRITER_OK)
		rc = expire_exclusions(w, now);
	/* A bounded round, so that a mass expiry does not hold producers up for long: what is
	 * left is due at once and runs next, after the queue got its turn. */
	size_t max = w->cfg.batch_max * 8;
	while (rc == WRITER_OK && w->heap_n > 0 && w->heap[0].at <= now && w->touched_n < max) {
		rc = touch(w, w->heap[0].ip);
		heap_pop(w);
	}
	/* The policy decides: gone, or extended by newer evidence (then a new timer). */
	if (rc == WRITER_OK)
		rc = eval_touched(w, now, EVAL_TIMER, &serial);
	if (rc == WRITER_OK && store_commit(w->store) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc != WRITER_OK) {
		store_rollback(w->store);
		log_err("writer", "expiry failed: %s; retrying", tl_strerror(rc));
		/* Put the timers back so that the next round tries again. */
		for (size_t i = 0; i < w->touched_n; i++)
			heap_push(w, now, w->touched[i]);
		batch_undo(w, mark);
		return;
	}
	w->serial = serial;
	writer_publish_changes(w);
}

/* ---- load and rebuild ---- */

struct load_ctx {
	struct writer *w;
	struct zone_builder *b;
	uint16_t cls;
	int64_t now;
	int rc;
};

static int builder_add_ip(struct zone_builder *b, const uint8_t ip[16], uint16_t cls)
{
	if (ip_is_v4(ip)) {
		uint32_t v = ip_v4(ip);
		return zone_builder_add4(b, v, v, cls);
	}
	return zone_builder_add6(b, ip, 128, cls);
}

static int load_listing(const struct store_listing *l, void *arg)
{
	struct load_ctx *c = arg;
	struct writer *w = c->w;
	if (l->expires_at <= c->now || excluded(w, l->ip, c->now)) {
		/* Ended while we were down, or excluded offline: writer_load looks again. */
		c->rc = touch(w, l->ip);
		return c->rc != WRITER_OK;
	}
	if (builder_add_ip(c->b, l->ip, c->cls) != ZONE_OK) {
		c->rc = WRITER_ENOMEM;
		return 1;
	}
	/* No sift-up: the heap is made in one pass after the load. */
	if (array_grow((void **)&w->heap, &w->heap_cap, w->heap_n + 1, sizeof *w->heap) != WRITER_OK) {
		c->rc = WRITER_ENOMEM;
		return 1;
	}
	w->heap[w->heap_n].at = l->expires_at;
	memcpy(w->heap[w->heap_n].ip, l->ip, 16);
	w->heap_n++;
	return 0;
}

static int load_exclusion(const struct store_exclusion *ex, void *arg)
{
	return excl_add(arg, &ex->prefix, ex->until) != WRITER_OK;
}

static struct zone_builder *builder_new(struct writer *w, uint32_t serial, uint16_t *cls)
{
	struct zone_builder *b = zone_builder_new(&w->defaults);
	if (!b)
		return NULL;
	struct zone_soa soa = w->defaults.soa;
	soa.serial = serial;
	zone_builder_set_soa(b, &soa);
	if (zone_builder_default_class(b, cls) != ZONE_OK) {
		zone_builder_free(b);
		return NULL;
	}
	return b;
}

/* Builds from b, stores the serial, publishes. */
static int build_publish(struct writer *w, struct zone_builder *b, uint32_t serial)
{
	struct zone_snapshot *s = NULL;
	int rc = zone_snapshot_build(b, &s);
	if (rc != ZONE_OK)
		return rc == ZONE_ENOMEM ? WRITER_ENOMEM : WRITER_EINVAL;
	zone_publish(w->zone, s);
	w->current = s;
	w->serial = serial;
	return WRITER_OK;
}

static int serial_store(struct writer *w, uint32_t serial)
{
	if (store_begin(w->store) != STORE_OK)
		return WRITER_ESTORE;
	if (store_meta_set_int(w->store, SERIAL_KEY, serial) != STORE_OK ||
	    store_commit(w->store) != STORE_OK) {
		store_rollback(w->store);
		return WRITER_ESTORE;
	}
	return WRITER_OK;
}

/* Listings that ended or were excluded while the service was down: evaluated afresh (newer
 * evidence may list them again) in one transaction, published as one change. */
static int load_stale(struct writer *w, int64_t now)
{
	uint32_t serial = w->serial;
	int rc = store_begin(w->store) == STORE_OK ? WRITER_OK : WRITER_ESTORE;
	for (size_t i = 0; i < w->touched_n && rc == WRITER_OK; i++)
		if (store_listing_delete(w->store, w->touched[i]) != STORE_OK)
			rc = WRITER_ESTORE;
	if (rc == WRITER_OK)
		rc = eval_touched(w, now, EVAL_REBUILD, &serial);
	if (rc == WRITER_OK && store_meta_set_int(w->store, SERIAL_KEY, serial) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc == WRITER_OK && store_commit(w->store) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc != WRITER_OK) {
		store_rollback(w->store);
		batch_undo(w, 0);
		return rc;
	}
	w->serial = serial;
	writer_publish_changes(w);
	batch_undo(w, 0);
	return WRITER_OK;
}

int writer_load(struct writer *w)
{
	int64_t now = time_now();
	int64_t stored = 0;
	int rc = store_meta_get_int(w->store, SERIAL_KEY, &stored);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return store_rc(rc);
	/* Never backwards across restarts, and time-based on a fresh store (what secondaries of
	 * an older instance of this zone expect). */
	uint32_t serial = (uint32_t)(stored + 1 > now ? stored + 1 : now);

	if (store_exclusion_foreach(w->store, now, load_exclusion, w) != STORE_OK)
		return WRITER_ESTORE;
	if ((rc = reputation_load(w)) != WRITER_OK)
		return rc;
	uint64_t t0 = time_mono_ns();
	struct load_ctx c = { .w = w, .now = now, .rc = WRITER_OK };
	c.b = builder_new(w, serial, &c.cls);
	if (!c.b)
		return WRITER_ENOMEM;
	rc = store_listing_foreach(w->store, load_listing, &c);
	if (c.rc != WRITER_OK || rc != STORE_OK) {
		zone_builder_free(c.b);
		return c.rc != WRITER_OK ? c.rc : store_rc(rc);
	}
	heap_make(w);
	size_t count = zone_builder_count(c.b);
	rc = build_publish(w, c.b, serial);
	zone_builder_free(c.b);
	if (rc != WRITER_OK)
		return rc;
	rc = w->touched_n > 0 ? load_stale(w, now) : serial_store(w, serial);
	if (rc != WRITER_OK)
		return rc;
	if (w->cfg.export_interval_s > 0)
		w->next_export = now + w->cfg.export_interval_s;
	log_info("writer", "loaded listings=%zu serial=%u ms=%llu", count, serial,
		 (unsigned long long)((time_mono_ns() - t0) / 1000000u));
	return WRITER_OK;
}

static int rebuild_collect(const uint8_t ip[16], void *arg)
{
	return touch(arg, ip) != WRITER_OK;
}

int writer_rebuild(struct writer *w)
{
	hot_clear(w);
	int64_t now = time_now();
	uint32_t serial = w->serial + 1;
	uint64_t t0 = time_mono_ns();
	/* Changes still waiting for publication are dropped: the rebuild publishes a whole
	 * snapshot made from the store, which holds them already. */
	batch_undo(w, 0);
	w->heap_n = 0;
	int rc = store_begin(w->store) == STORE_OK ? WRITER_OK : WRITER_ESTORE;
	/* A listing that goes on through the rebuild keeps the moment it began: the rebuild
	 * recomputes what the evidence says, not the listing's history. */
	w->kept_n = 0;
	w->oom = false;
	if (rc == WRITER_OK && store_listing_foreach(w->store, keep_listing, w) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc == WRITER_OK && w->oom)
		rc = WRITER_ENOMEM;
	if (w->kept_n > 0)
		qsort(w->kept, w->kept_n, sizeof *w->kept, cmp_kept);
	if (rc == WRITER_OK && store_listing_clear(w->store) != STORE_OK)
		rc = WRITER_ESTORE;
	int64_t since = now - (int64_t)w->cfg.policy.window_s;
	if (rc == WRITER_OK && store_evidence_ips(w->store, since, rebuild_collect, w) != STORE_OK)
		rc = WRITER_ESTORE;
	touched_unique(w);
	for (size_t i = 0; i < w->touched_n && rc == WRITER_OK; i++)
		rc = eval_ip(w, w->touched[i], now, EVAL_REBUILD);
	if (rc == WRITER_OK && store_meta_set_int(w->store, SERIAL_KEY, serial) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc == WRITER_OK && store_commit(w->store) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc != WRITER_OK) {
		store_rollback(w->store);
		goto fail;
	}
	/* Every listing is a SET change now: build the snapshot whole from them. */
	uint16_t cls = 0;
	struct zone_builder *b = builder_new(w, serial, &cls);
	if (!b) {
		rc = WRITER_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < w->changes_n && rc == WRITER_OK; i++) {
		const struct zone_change *c = &w->changes[i];
		rc = c->v6 ? zone_builder_add6(b, c->ip6, c->plen6, cls)
			   : zone_builder_add4(b, c->ip4, c->ip4, cls);
		rc = rc == ZONE_OK ? WRITER_OK : WRITER_ENOMEM;
	}
	if (rc == WRITER_OK)
		rc = build_publish(w, b, serial);
	zone_builder_free(b);
	if (rc != WRITER_OK)
		goto fail;
	log_info("writer", "rebuilt addresses=%zu listings=%zu serial=%u ms=%llu", w->touched_n,
		 w->changes_n, serial, (unsigned long long)((time_mono_ns() - t0) / 1000000u));
	batch_undo(w, 0);
	kept_free(w);
	return WRITER_OK;

fail:
	log_err("writer", "rebuild failed: %s", tl_strerror(rc));
	batch_undo(w, 0);
	kept_free(w);
	/* The heap was emptied: refill it from the store so expiry keeps working. */
	w->heap_n = 0;
	struct load_ctx c = { .w = w, .now = now, .rc = WRITER_OK };
	c.b = builder_new(w, w->serial, &c.cls);
	if (c.b) {
		store_listing_foreach(w->store, load_listing, &c);
		heap_make(w);
		zone_builder_free(c.b);
	}
	return rc;
}

/* ---- exports ---- */

void writer_state_free(struct writer *w)
{
	free(w->heap);
	free(w->excl);
	free(w->rep);
	free(w->evbuf);
	free(w->touched);
	free(w->changes);
	for (size_t i = 0; i < WRITER_HOT_MAX; i++)
		free(w->hot[i].ev);
}
