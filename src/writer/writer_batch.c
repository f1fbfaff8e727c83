/* writer_batch.c - what the writer thread does with events: one transaction per batch, the
 * policy on every address touched, zone changes, expiry timers, rebuild and load. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "writer_internal.h"

#define SERIAL_KEY "serial"

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
	for (size_t i = 0; i < w->rules.excl_n; i++)
		if (w->rules.excl[i].until != 0 && w->rules.excl[i].until < next)
			next = w->rules.excl[i].until;
	if (w->cfg.export_interval_s > 0 && w->export_dir[0] && w->next_export < next)
		next = w->next_export;
	if (w->next_prune < next)
		next = w->next_prune;
	return next;
}

/* ---- evaluation ---- */

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

/* The answer of a listing for reason and detail: A and TXT by reason (writer.h). */
static void listing_class(const struct writer *w, int reason, int detail, struct zone_change *c)
{
	unsigned r = (unsigned)reason < 4 ? (unsigned)reason : 0;
	unsigned d = (unsigned)detail < EVIDENCE_CLASSES ? (unsigned)detail : 0;
	c->cls.own = true;
	c->cls.a = w->cfg.answer_a[r] ? w->cfg.answer_a[r] : w->defaults.a;
	c->cls.ttl = w->defaults.ttl;
	c->cls.txt = w->txt[r][d]; /* NULL: no TXT */
}

static int change_add(struct writer *w, enum zone_change_op op, const uint8_t ip[16],
		      int reason, int detail)
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
	if (op == ZONE_CHANGE_SET)
		listing_class(w, reason, detail, c);
	return WRITER_OK;
}

/* The log lines of a listing that begins or ends (not during a rebuild or a load: those say
 * how many in one line). */
static void log_listing(struct writer *w, const uint8_t ip[16], const struct policy_result *res,
			bool listed)
{
	char a[IP_STRLEN], t[TIME_STRLEN];
	ip_format(ip, a);
	if (!listed) {
		writer_log_add(w, "unlisted ip=%s why=\"%s\"", a, res->why_not);
		return;
	}
	time_format_iso8601(res->expires_at, t);
	const struct policy_meaning *m = policy_meaning(res->reason, res->detail);
	writer_log_add(w,
		       "listed ip=%s reason=%s score=%.3f traps=%u reports=%u expires=%s "
		       "meaning=\"%s\"",
		       a, policy_reason_name(res->reason), res->score, res->traps, res->reports, t,
		       m->txt);
}

static int cmp_kept(const void *a, const void *b)
{
	return memcmp(a, b, 16); /* ip is the first member */
}

/* When the listing of ip began, as it was before a rebuild cleared it (now if it was not).
 * The rebuild is listing it again: its episode goes on (not an end for the history). */
static int64_t kept_listed_at(struct writer *w, const uint8_t ip[16], int64_t now)
{
	struct writer_kept *k =
		w->kept_n ? bsearch(ip, w->kept, w->kept_n, sizeof *w->kept, cmp_kept) : NULL;
	if (k)
		k->relisted = true;
	return k ? k->listed_at : now;
}

/* The listing history (store migration 9): a listing that ends is recorded as an episode in
 * the transaction that ends it, for the lookup page's chart. It ended at its expiry when
 * that has passed (a timer, or a restart after a downtime), else now (a delisting, an
 * exclusion, more reputation). The rebuild records only the listings it does not list
 * again (writer_rebuild), so an episode that goes on through it is never cut in two. */
static int listing_ended(struct writer *w, const uint8_t ip[16], int64_t listed_at,
			 int64_t expires_at, int reason, int64_t now)
{
	struct store_episode e = { .listed_at = listed_at, .reason = reason };
	memcpy(e.ip, ip, 16);
	e.ended_at = expires_at < now ? expires_at : now;
	if (e.ended_at < listed_at)
		e.ended_at = listed_at;
	int rc = store_history_add(w->store, &e);
	return rc == STORE_OK ? WRITER_OK : writer_store_rc(rc);
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
	w->kept[w->kept_n].expires_at = l->expires_at;
	w->kept[w->kept_n].reason = l->reason;
	w->kept[w->kept_n].relisted = false;
	w->kept_n++;
	return 0;
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
	int rc = writer_evidence_load(w, ip, since);
	if (rc == WRITER_OK)
		rc = writer_facts_context(w->store, &w->rules, now, &w->facts);
	if (rc != WRITER_OK)
		return rc;
	struct policy_result res;
	rc = policy_evaluate(&w->cfg.policy, w->facts.ev, w->facts.n, &w->facts.ctx, now, &res,
			     NULL);
	if (rc != POLICY_OK)
		return rc;

	struct store_listing prev;
	bool was = false;
	if (mode != EVAL_REBUILD) {
		rc = store_listing_get(w->store, ip, &prev);
		if (rc == STORE_OK)
			was = true;
		else if (rc != STORE_ENOTFOUND)
			return writer_store_rc(rc);
	}
	if (!res.listed) {
		if (!was)
			return WRITER_OK;
		rc = store_listing_delete(w->store, ip);
		if (rc != STORE_OK)
			return writer_store_rc(rc);
		writer_count_listing(w, prev.reason, -1);
		rc = listing_ended(w, ip, prev.listed_at, prev.expires_at, prev.reason, now);
		if (rc != WRITER_OK)
			return rc;
		log_listing(w, ip, &res, false);
		return change_add(w, ZONE_CHANGE_DELETE, ip, 0, 0);
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
	l.detail = (int)res.detail;
	rc = store_listing_put(w->store, &l);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	if (was)
		writer_count_listing(w, prev.reason, -1);
	writer_count_listing(w, l.reason, +1);
	/* A timer at or before expires_at exists already when the listing only got longer,
	 * unless it is the one that just fired. */
	if (!was || l.expires_at < prev.expires_at || mode == EVAL_TIMER) {
		rc = heap_push(w, l.expires_at, ip);
		if (rc != WRITER_OK)
			return rc;
	}
	if (!was && mode != EVAL_REBUILD)
		log_listing(w, ip, &res, true);
	/* A new listing, or one whose meaning changed (its TXT and A say it), is a zone change. */
	if (was && prev.reason == l.reason && prev.detail == l.detail)
		return WRITER_OK;
	return change_add(w, ZONE_CHANGE_SET, ip, l.reason, l.detail);
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

/* Starts a round. Zone changes of earlier rounds may still wait for publication (they are
 * coalesced, writer_queue.c): a round only ever drops its own, back to the mark it started
 * at. */
static size_t batch_reset(struct writer *w)
{
	w->touched_n = 0;
	writer_log_drop(w);
	writer_counts_drop(w);
	return w->changes_n;
}

static void batch_undo(struct writer *w, size_t mark)
{
	w->touched_n = 0;
	w->changes_n = mark;
}

/* A disk that is full or read-only fails every batch until it recovers, and each producer is
 * told so (451, 503, exit 1): the log says it once, then once every 10 s with the count, so
 * that it does not fill what little disk is left. */
#define WRITER_FAIL_LOG_NS 10000000000ull

static void batch_fail_log(struct writer *w, size_t n, int rc)
{
	uint64_t now_ns = time_mono_ns();
	w->fail_streak++;
	if (w->fail_streak > 1 && now_ns - w->fail_logged_ns < WRITER_FAIL_LOG_NS) {
		w->fail_suppressed++;
		return;
	}
	log_err("writer", "batch of %zu events failed: %s; nothing of it acknowledged, each new "
		"batch tries again failed_batches=%llu suppressed=%llu",
		n, tl_strerror(rc), (unsigned long long)w->fail_streak,
		(unsigned long long)w->fail_suppressed);
	w->fail_logged_ns = now_ns;
	w->fail_suppressed = 0;
}

/* Ends a round that began with store_begin and went as far as rc says: the policy on every
 * address it touched, then the commit; on any failure the rollback. */
static int round_commit(struct writer *w, int64_t now, enum eval_mode mode, uint32_t *serial,
			int rc)
{
	if (rc == WRITER_OK)
		rc = eval_touched(w, now, mode, serial);
	if (rc == WRITER_OK && store_commit(w->store) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc != WRITER_OK) {
		store_rollback(w->store);
		writer_log_drop(w);
		writer_counts_drop(w);
		return rc;
	}
	writer_log_flush(w);
	return rc;
}

int writer_batch_apply(struct writer *w, struct writer_waiter **batch, size_t n, int *results)
{
	int64_t now = time_now();
	uint32_t serial = w->serial;
	size_t mark = batch_reset(w);
	uint64_t t0 = time_mono_ns();
	w->rules_dirty = false;
	int rc = store_begin(w->store) == STORE_OK ? WRITER_OK : WRITER_ESTORE;
	for (size_t i = 0; i < n && rc == WRITER_OK; i++) {
		/* A bad event fails alone (the time may have passed an --until since submit). */
		results[i] = writer_event_check(&w->cfg, batch[i]->ev, now);
		if (results[i] != WRITER_OK)
			continue;
		rc = writer_event_apply(w, batch[i]->ev, now);
		results[i] = rc;
		if (rc == WRITER_ENOTFOUND || rc == WRITER_EINVAL || rc == WRITER_EEXIST ||
		    rc == WRITER_ELIMIT)
			rc = WRITER_OK; /* that event alone: it wrote nothing */
	}
	rc = round_commit(w, now, EVAL_EVENT, &serial, rc);
	if (rc == WRITER_OK)
		writer_counts_commit(w, time_mono_ns() - t0);
	if (rc != WRITER_OK) {
		batch_fail_log(w, n, rc);
		/* Stale timers are harmless (they re-read the store); stale rules are not. */
		if (w->rules_dirty && writer_rules_reload(w->store, &w->rules, now) != WRITER_OK)
			log_err("writer", "exclusions and reputation not reloaded after a failed batch");
		writer_hot_clear(w);
		batch_undo(w, mark);
		for (size_t i = 0; i < n; i++)
			results[i] = rc;
		return rc;
	}
	w->serial = serial;
	if (w->fail_streak > 0) {
		log_info("writer", "commits succeed again after failed_batches=%llu",
			 (unsigned long long)w->fail_streak);
		w->fail_streak = 0;
	}
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
	writer_journal_publish(w, next);
	zone_publish(w->zone, next);
	w->current = next;
	w->changes_n = 0;
	w->published_ns = time_mono_ns();
	writer_counts_published(w, w->serial);
}

/* ---- timers ---- */

/* Exclusions that ended: the addresses they covered may be listed again. */
static int expire_exclusions(struct writer *w, int64_t now)
{
	struct writer_rules *r = &w->rules;
	for (size_t i = 0; i < r->excl_n;) {
		if (r->excl[i].until == 0 || r->excl[i].until > now) {
			i++;
			continue;
		}
		struct ip_prefix ended = r->excl[i].prefix;
		r->excl[i] = r->excl[--r->excl_n];
		int rc = writer_touch_evidence_in(w, &ended, now);
		if (rc != WRITER_OK)
			return rc;
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
		writer_export(w, NULL, NULL);
		w->next_export = now + w->cfg.export_interval_s;
	}
	bool due = w->heap_n > 0 && w->heap[0].at <= now;
	for (size_t i = 0; i < w->rules.excl_n && !due; i++)
		due = w->rules.excl[i].until != 0 && w->rules.excl[i].until <= now;
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
		rc = writer_touch(w, w->heap[0].ip);
		heap_pop(w);
	}
	/* The policy decides: gone, or extended by newer evidence (then a new timer). */
	rc = round_commit(w, now, EVAL_TIMER, &serial, rc);
	if (rc != WRITER_OK) {
		log_err("writer", "expiry failed: %s; retrying", tl_strerror(rc));
		/* Put the timers back so that the next round tries again. */
		for (size_t i = 0; i < w->touched_n; i++)
			heap_push(w, now, w->touched[i]);
		batch_undo(w, mark);
		return;
	}
	w->serial = serial;
	writer_counts_commit(w, 0);
	writer_publish_changes(w);
}

/* ---- load and rebuild ---- */

/* The builder's class ids of the listings' answers (a handful: by reason and detail), so that
 * loading a million listings does not hash the same TXT a million times. */
struct class_cache {
	struct {
		uint32_t a;
		const char *txt; /* one of w->txt: compared by address */
		uint16_t id;
	} e[4 * EVIDENCE_CLASSES + 1];
	size_t n;
};

static int class_id(struct zone_builder *b, struct class_cache *cc, const struct zone_change *c,
		    uint16_t *id)
{
	for (size_t i = 0; i < cc->n; i++) {
		if (cc->e[i].a == c->cls.a && cc->e[i].txt == c->cls.txt) {
			*id = cc->e[i].id;
			return ZONE_OK;
		}
	}
	int rc = zone_builder_class(b, c->cls.a, c->cls.txt, c->cls.txt ? strlen(c->cls.txt) : 0,
				    c->cls.ttl, id);
	if (rc == ZONE_OK && cc->n < sizeof cc->e / sizeof cc->e[0]) {
		cc->e[cc->n].a = c->cls.a;
		cc->e[cc->n].txt = c->cls.txt;
		cc->e[cc->n++].id = *id;
	}
	return rc;
}

struct load_ctx {
	struct writer *w;
	struct zone_builder *b;
	uint16_t cls;
	struct class_cache cc;
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
	if (l->expires_at <= c->now || writer_rules_default_exclusion(&w->rules, l->ip, NULL) ||
	    writer_rules_exclusion(&w->rules, l->ip, c->now)) {
		/* Ended while we were down, or excluded offline: writer_load looks again. */
		c->rc = writer_touch(w, l->ip);
		return c->rc != WRITER_OK;
	}
	struct zone_change ch;
	uint16_t id;
	if (l->reason >= 0 && l->reason < WRITER_REASONS)
		writer_counts_listings_set(w, l->reason, writer_counts_listings(w, l->reason) + 1);
	listing_class(w, l->reason, l->detail, &ch);
	if (class_id(c->b, &c->cc, &ch, &id) != ZONE_OK || builder_add_ip(c->b, l->ip, id) != ZONE_OK) {
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
	writer_counts_published(w, serial);
	return WRITER_OK;
}

/* Ends a transaction that went as far as rc says: the serial stored with what it changed and
 * the commit, or the rollback on any failure. */
static int serial_commit(struct writer *w, uint32_t serial, int rc)
{
	if (rc == WRITER_OK && store_meta_set_int(w->store, SERIAL_KEY, serial) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc == WRITER_OK && store_commit(w->store) != STORE_OK)
		rc = WRITER_ESTORE;
	if (rc != WRITER_OK)
		store_rollback(w->store);
	return rc;
}

static int serial_store(struct writer *w, uint32_t serial)
{
	if (store_begin(w->store) != STORE_OK)
		return WRITER_ESTORE;
	return serial_commit(w, serial, WRITER_OK);
}

/* Listings that ended or were excluded while the service was down: evaluated afresh (newer
 * evidence may list them again) in one transaction, published as one change. */
static int load_stale(struct writer *w, int64_t now)
{
	uint32_t serial = w->serial;
	writer_counts_drop(w);
	int rc = store_begin(w->store) == STORE_OK ? WRITER_OK : WRITER_ESTORE;
	struct store_listing l;
	for (size_t i = 0; i < w->touched_n && rc == WRITER_OK; i++) {
		/* Ended while the service was down (or excluded offline): an episode of the
		 * history; if the evidence lists it again now, that is a new one. */
		if (store_listing_get(w->store, w->touched[i], &l) == STORE_OK)
			rc = listing_ended(w, l.ip, l.listed_at, l.expires_at, l.reason, now);
		if (rc == WRITER_OK && store_listing_delete(w->store, w->touched[i]) != STORE_OK)
			rc = WRITER_ESTORE;
	}
	if (rc == WRITER_OK)
		rc = eval_touched(w, now, EVAL_REBUILD, &serial);
	rc = serial_commit(w, serial, rc);
	if (rc != WRITER_OK) {
		writer_counts_drop(w);
		/* Due at once: the timers try them again (writer_timers_run). */
		for (size_t i = 0; i < w->touched_n; i++)
			heap_push(w, now, w->touched[i]);
		batch_undo(w, 0);
		return rc;
	}
	w->serial = serial;
	writer_counts_commit(w, 0);
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
		return writer_store_rc(rc);
	/* Never backwards across restarts in RFC 1982's sense (a secondary takes only a greater
	 * serial), and time-based on a fresh store (what secondaries of an older instance of this
	 * zone expect). The stored value is the last serial published, wrapped to 32 bits. */
	int stored_rc = rc;
	uint32_t serial = rc == STORE_ENOTFOUND ? (uint32_t)now
					       : zone_serial_next((uint32_t)stored, (uint32_t)now);

	rc = writer_rules_load(w->store, w->cfg.default_exclusions, w->cfg.n_default_exclusions,
			       w->cfg.special_excluded,
			       now, &w->rules);
	if (rc != WRITER_OK)
		return rc;
	uint64_t t0 = time_mono_ns();
	struct load_ctx c = { .w = w, .now = now, .rc = WRITER_OK };
	c.b = builder_new(w, serial, &c.cls);
	if (!c.b)
		return WRITER_ENOMEM;
	rc = store_listing_foreach(w->store, load_listing, &c);
	if (c.rc != WRITER_OK || rc != STORE_OK) {
		zone_builder_free(c.b);
		return c.rc != WRITER_OK ? c.rc : writer_store_rc(rc);
	}
	heap_make(w);
	size_t count = zone_builder_count(c.b);
	rc = build_publish(w, c.b, serial);
	zone_builder_free(c.b);
	if (rc != WRITER_OK)
		return rc;
	writer_journal_load(w, stored_rc == STORE_OK, (uint32_t)stored, serial, now);
	rc = w->touched_n > 0 ? load_stale(w, now) : serial_store(w, serial);
	if (rc == WRITER_ESTORE) {
		/* A full or read-only disk (a restart after a crash, while the disk is still
		 * full): DNS serves the listings as stored rather than nothing, intake is refused
		 * until the store takes commits again, the expiries that were due are tried again
		 * by the timers. The serial is stored with the next commit that changes the zone;
		 * until then a restart computes it again, never lower (stored + 1, or the time). */
		log_warn("writer", "the store takes no commits (a full or read-only disk?): serving "
			 "the listings as loaded serial=%u; intake is refused until it does", serial);
		w->fail_streak = 1;
		w->fail_logged_ns = time_mono_ns();
	} else if (rc != WRITER_OK) {
		return rc;
	}
	if (w->cfg.export_interval_s > 0)
		w->next_export = now + w->cfg.export_interval_s;
	log_info("writer", "loaded listings=%zu serial=%u ms=%llu", count, serial,
		 (unsigned long long)((time_mono_ns() - t0) / 1000000u));
	return WRITER_OK;
}

static int rebuild_collect(const uint8_t ip[16], void *arg)
{
	return writer_touch(arg, ip) != WRITER_OK;
}

int writer_rebuild(struct writer *w)
{
	writer_hot_clear(w);
	int64_t now = time_now();
	uint32_t serial = w->serial + 1;
	uint64_t t0 = time_mono_ns();
	/* Changes still waiting for publication are dropped: the rebuild publishes a whole
	 * snapshot made from the store, which holds them already. */
	batch_undo(w, 0);
	writer_counts_drop(w);
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
	/* The listing history: what was listed before and is not now has ended. */
	for (size_t i = 0; i < w->kept_n && rc == WRITER_OK; i++) {
		const struct writer_kept *k = &w->kept[i];
		if (!k->relisted)
			rc = listing_ended(w, k->ip, k->listed_at, k->expires_at, k->reason, now);
	}
	rc = serial_commit(w, serial, rc);
	if (rc != WRITER_OK)
		goto fail;
	/* Every listing was counted as it was made again. */
	for (int r = 0; r < WRITER_REASONS; r++)
		writer_counts_listings_set(w, r, 0);
	writer_counts_commit(w, 0);
	/* Every listing is a SET change now: build the snapshot whole from them. */
	uint16_t cls = 0;
	struct zone_builder *b = builder_new(w, serial, &cls);
	if (!b) {
		rc = WRITER_ENOMEM;
		goto fail;
	}
	struct class_cache cc = {.n = 0};
	for (size_t i = 0; i < w->changes_n && rc == WRITER_OK; i++) {
		const struct zone_change *c = &w->changes[i];
		rc = class_id(b, &cc, c, &cls);
		if (rc == ZONE_OK)
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
	/* The heap was emptied: refill it from the store so expiry keeps working (and the
	 * count of listings). */
	w->heap_n = 0;
	writer_counts_drop(w);
	for (int r = 0; r < WRITER_REASONS; r++)
		writer_counts_listings_set(w, r, 0);
	struct load_ctx c = { .w = w, .now = now, .rc = WRITER_OK };
	c.b = builder_new(w, w->serial, &c.cls);
	if (c.b) {
		store_listing_foreach(w->store, load_listing, &c);
		heap_make(w);
		zone_builder_free(c.b);
	}
	return rc;
}
