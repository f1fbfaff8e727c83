/* writer_state.c - what a round of the writer keeps while it applies events, which the batch
 * and every kind of event share: the addresses touched, the evidence of hot addresses, the
 * log lines held until the commit, the store's errors as the writer's. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "writer_internal.h"

/* ---- the figures (writer_metrics) ---- */

/* Upper bounds of trapline_writer_commit_seconds: from a lone event on a fast disk (well
 * under a millisecond) to a flood's batch of thousands (hundreds of milliseconds). */
const double writer_commit_le[WRITER_COMMIT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
							 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

#define STORE_U64(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define LOAD_U64(p) __atomic_load_n((p), __ATOMIC_RELAXED)

void writer_count_evidence(struct writer *w, int kind, int cls)
{
	if (kind >= 0 && kind < WRITER_KINDS && cls >= 0 && cls < EVIDENCE_CLASSES)
		w->counts.pending_evidence[kind][cls]++;
}

void writer_count_listing(struct writer *w, int reason, int delta)
{
	if (reason >= 0 && reason < WRITER_REASONS)
		w->counts.pending_listings[reason] += delta;
}

void writer_counts_commit(struct writer *w, uint64_t round_ns)
{
	struct writer_counts *c = &w->counts;
	for (int k = 0; k < WRITER_KINDS; k++)
		for (int e = 0; e < EVIDENCE_CLASSES; e++)
			if (c->pending_evidence[k][e])
				STORE_U64(&c->evidence[k][e],
					  LOAD_U64(&c->evidence[k][e]) + c->pending_evidence[k][e]);
	for (int r = 0; r < WRITER_REASONS; r++)
		if (c->pending_listings[r])
			STORE_U64(&c->listings[r], LOAD_U64(&c->listings[r]) + c->pending_listings[r]);
	if (round_ns > 0) {
		size_t b = 0;
		while (b < WRITER_COMMIT_BUCKETS && (double)round_ns / 1e9 > writer_commit_le[b])
			b++;
		STORE_U64(&c->commit_buckets[b], LOAD_U64(&c->commit_buckets[b]) + 1);
		STORE_U64(&c->commit_sum_ns, LOAD_U64(&c->commit_sum_ns) + round_ns);
	}
	STORE_U64(&c->last_commit, time_wall_s());
	writer_counts_drop(w);
}

void writer_counts_listings_set(struct writer *w, int reason, int64_t n)
{
	if (reason < 0 || reason >= WRITER_REASONS)
		return;
	if (n < 0)
		n = 0;
	STORE_U64(&w->counts.listings[reason], n);
}

int64_t writer_counts_listings(struct writer *w, int reason)
{
	return LOAD_U64(&w->counts.listings[reason]);
}

void writer_counts_drop(struct writer *w)
{
	memset(w->counts.pending_evidence, 0, sizeof(w->counts.pending_evidence));
	memset(w->counts.pending_listings, 0, sizeof(w->counts.pending_listings));
}

void writer_counts_published(struct writer *w, uint32_t serial)
{
	STORE_U64(&w->counts.published_serial, serial);
	STORE_U64(&w->counts.published_mono_ns, time_mono_ns());
	STORE_U64(&w->counts.published_wall, time_wall_s());
}

int writer_store_rc(int rc)
{
	return rc == STORE_ENOMEM ? WRITER_ENOMEM : WRITER_ESTORE;
}

/* ---- addresses touched: evaluated at the end of the round ---- */

int writer_touch(struct writer *w, const uint8_t ip[16])
{
	if (array_grow((void **)&w->touched, &w->touched_cap, w->touched_n + 1, 16) != WRITER_OK)
		return WRITER_ENOMEM;
	memcpy(w->touched[w->touched_n++], ip, 16);
	return WRITER_OK;
}

int writer_touch_listed_in(struct writer *w, const struct ip_prefix *p)
{
	for (size_t i = 0; i < w->heap_n; i++)
		if (ip_prefix_covers(p, w->heap[i].ip) && writer_touch(w, w->heap[i].ip) != WRITER_OK)
			return WRITER_ENOMEM;
	return WRITER_OK;
}

struct prefix_ctx {
	struct writer *w;
	struct ip_prefix prefix;
	int rc;
};

static int collect_ip_in_prefix(const uint8_t ip[16], void *arg)
{
	struct prefix_ctx *c = arg;
	if (ip_prefix_covers(&c->prefix, ip))
		c->rc = writer_touch(c->w, ip);
	return c->rc != WRITER_OK;
}

/* Addresses inside p with evidence in the window (listed or not). */
int writer_touch_evidence_in(struct writer *w, const struct ip_prefix *p, int64_t now)
{
	struct prefix_ctx c = { .w = w, .prefix = *p, .rc = WRITER_OK };
	int64_t since = now - (int64_t)w->cfg.policy.window_s;
	int rc = store_evidence_ips(w->store, since, collect_ip_in_prefix, &c);
	if (c.rc != WRITER_OK)
		return c.rc;
	return rc == STORE_OK ? WRITER_OK : writer_store_rc(rc);
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
void writer_hot_clear(struct writer *w)
{
	for (size_t i = 0; i < WRITER_HOT_MAX; i++)
		w->hot[i].live = false;
}

void writer_hot_add(struct writer *w, const struct store_evidence *e)
{
	struct writer_hot *h = hot_find(w, e->ip);
	if (!h)
		return; /* the store has it */
	if (array_grow((void **)&h->ev, &h->cap, h->n + 1, sizeof *h->ev) != BASE_OK) {
		h->live = false; /* read from the store next time */
		return;
	}
	h->ev[h->n++] = (struct policy_evidence){.received_at = e->received_at, .seq = e->id,
						   .trap = e->kind == STORE_KIND_TRAP,
						   .cls = (uint8_t)e->cls,
						   .reporter = writer_reporter_of(e)};
}

/* Keeps the evidence just read from the store for ip when it is long enough to be worth it. */
static void hot_keep(struct writer *w, const uint8_t ip[16])
{
	const struct writer_facts *f = &w->facts;
	if (f->n < WRITER_HOT_MIN)
		return;
	struct writer_hot *h = &w->hot[0];
	for (size_t i = 1; i < WRITER_HOT_MAX && h->live; i++)
		if (!w->hot[i].live || w->hot[i].used < h->used)
			h = &w->hot[i];
	h->n = 0;
	h->live = false;
	if (array_grow((void **)&h->ev, &h->cap, f->n, sizeof *h->ev) != BASE_OK)
		return;
	memcpy(h->ev, f->ev, f->n * sizeof *h->ev);
	h->n = f->n;
	memcpy(h->ip, ip, 16);
	h->used = ++w->hot_clock;
	h->live = true;
}

/* The evidence of ip in the window into w->facts: from memory when ip is hot (dropping what
 * left the window), from the store otherwise (writer_facts_evidence, as every reader). */
int writer_evidence_load(struct writer *w, const uint8_t ip[16], int64_t since)
{
	struct writer_hot *h = hot_find(w, ip);
	if (!h) {
		int rc = writer_facts_evidence(w->store, ip, since, &w->facts);
		if (rc == WRITER_OK)
			hot_keep(w, ip);
		return rc;
	}
	size_t k = 0;
	for (size_t i = 0; i < h->n; i++)
		if (h->ev[i].received_at >= since)
			h->ev[k++] = h->ev[i];
	h->n = k;
	h->used = ++w->hot_clock;
	struct writer_facts *f = &w->facts;
	if (array_grow((void **)&f->ev, &f->cap, h->n, sizeof *f->ev) != BASE_OK)
		return WRITER_ENOMEM;
	memcpy(f->ev, h->ev, h->n * sizeof *f->ev);
	f->n = h->n;
	memcpy(f->ip, ip, 16);
	return WRITER_OK;
}

/* ---- the log of what changed ---- */

/* Queues one line for the log; written by writer_log_flush once the round committed, dropped
 * by writer_log_drop if it did not, so the log never tells of a change that did not happen. */
void writer_log_add(struct writer *w, const char *fmt, ...)
{
	if (array_grow((void **)&w->logq, &w->logq_cap, w->logq_n + 1, sizeof *w->logq) != BASE_OK)
		return; /* a line less, never a change less */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->logq[w->logq_n++], sizeof *w->logq, fmt, ap);
	va_end(ap);
}

void writer_log_flush(struct writer *w)
{
	for (size_t i = 0; i < w->logq_n; i++)
		log_info("writer", "%s", w->logq[i]);
	w->logq_n = 0;
}

void writer_log_drop(struct writer *w)
{
	w->logq_n = 0;
}

/* ---- teardown ---- */

void writer_state_free(struct writer *w)
{
	free(w->heap);
	writer_rules_free(&w->rules);
	writer_facts_free(&w->facts);
	free(w->touched);
	free(w->changes);
	free(w->logq);
	for (size_t i = 0; i < WRITER_HOT_MAX; i++)
		free(w->hot[i].ev);
}
