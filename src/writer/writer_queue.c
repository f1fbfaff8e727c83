/* writer_queue.c - the writer thread: the bounded request queue, batching, completion, the
 * clock, start and stop. The top of the module: it hands batches to writer_batch.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "writer_internal.h"

/* ---- waiting ---- */

static void deadline_after_ns(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	uint64_t t = (uint64_t)ts->tv_nsec + ns % 1000000000u;
	ts->tv_sec += (time_t)(ns / 1000000000u + t / 1000000000u);
	ts->tv_nsec = (long)(t % 1000000000u);
}

/* Zone changes are published at most this often (25 ms), and never later than that after
 * their commit: well inside the 100 ms from acknowledgement to DNS answer that the writer
 * promises. Each publication costs the DNS workers an RCU grace period and the writer a copy
 * of the overlay; at 1,000 changes a second, 25 ms instead of 10 took the writer from about
 * 5% of a core to under 4%. */
#define WRITER_PUBLISH_NS 25000000ull

/* How long pending zone changes may still wait for their publication (UINT64_MAX: none). */
static uint64_t publish_wait_ns(const struct writer *w)
{
	if (w->changes_n == 0)
		return UINT64_MAX;
	uint64_t since = time_mono_ns() - w->published_ns;
	return since >= WRITER_PUBLISH_NS ? 0 : WRITER_PUBLISH_NS - since;
}

/* How long the idle writer may sleep: until the next timer is due. With the test clock, time
 * jumps when a test rewrites the file, so look again every 100 ms. */
static uint64_t idle_wait_ns(const struct writer *w)
{
	uint64_t cap = time_now_is_test_clock() ? 100000000ull : 60000000000ull;
	int64_t next = writer_timers_next(w);
	if (next == INT64_MAX)
		return cap;
	if (next <= time_now())
		return 0; /* due already: the rest of a bounded expiry round */
	if (time_now_is_test_clock())
		return cap;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	/* Due when the wall clock's second reaches next: that instant, not a second later. */
	int64_t ns = (next - (int64_t)rt.tv_sec) * 1000000000ll - rt.tv_nsec;
	if (ns <= 0)
		return 0;
	return (uint64_t)ns < cap ? (uint64_t)ns : cap;
}

/* ---- the thread ---- */


/* A posted event: the waiter and the writer's copy of the event, freed when answered. */
struct writer_post {
	struct writer_waiter wt;
	struct writer_event ev;
};

/* Answers one event; any thread may call it. Needs no lock: the result is written before the
 * count is released. */
static void writer_waiter_done(struct writer_waiter *wt)
{
	if (wt->cb) {
		wt->cb(wt->cb_arg, wt->result);
		free((struct writer_post *)wt); /* wt is the post's first member */
		return;
	}
	if (atomic_fetch_sub_explicit(wt->pending, 1, memory_order_acq_rel) == 1)
		sem_post(wt->done);
}

/* The exporter's answer to an export event, on its thread: the files are written, or not. */
static void export_answered(void *arg, int result)
{
	struct writer_waiter *wt = arg;
	wt->result = result;
	writer_waiter_done(wt);
}

static bool is_special(const struct writer_waiter *wt)
{
	return wt->ev->type == WRITER_EV_REBUILD || wt->ev->type == WRITER_EV_EXPORT;
}

static struct writer_waiter *queue_pop(struct writer *w)
{
	struct writer_waiter *wt = w->q[w->q_head];
	w->q_head = (w->q_head + 1) % w->cfg.queue_max;
	w->q_count--;
	if (!wt->cb || wt->prompt)
		w->q_blocking--;
	return wt;
}

/* Called with mtx held. Queues wt, waiting for room, and wakes the writer if this is what it
 * waits for. false: the writer is stopping, wt was not queued. */
static bool queue_push(struct writer *w, struct writer_waiter *wt)
{
	while (!w->stopping && w->q_count >= w->cfg.queue_max)
		pthread_cond_wait(&w->cond_space, &w->mtx);
	if (w->stopping)
		return false;
	wt->queued_ns = time_mono_ns();
	w->q[(w->q_head + w->q_count) % w->cfg.queue_max] = wt;
	w->q_count++;
	if (!wt->cb || wt->prompt)
		w->q_blocking++;
	if (w->want == WRITER_WANT_ANY ||
	    (w->want == WRITER_WANT_URGENT &&
	     (!wt->cb || wt->prompt || w->q_count >= w->cfg.batch_max || is_special(wt)))) {
		w->want = WRITER_WANT_NONE; /* one wake-up is enough */
		pthread_cond_signal(&w->cond_work);
	}
	return true;
}

/* Called with mtx held and the queue not empty: takes one special event alone, or up to
 * batch_max normal ones. Blocked producers have waited already (their events queued up while
 * the previous batch committed), so a batch with one of them closes at once; posted events
 * wait until the oldest is batch_wait_ms old, to share one commit with those that follow. */
static size_t batch_take(struct writer *w, struct writer_waiter **batch)
{
	if (is_special(w->q[w->q_head])) {
		batch[0] = queue_pop(w);
		return 1;
	}
	uint64_t due = w->q[w->q_head]->queued_ns + (uint64_t)w->cfg.batch_wait_ms * 1000000u;
	while (w->q_count < w->cfg.batch_max && w->q_blocking == 0 && !w->stopping &&
	       !is_special(w->q[(w->q_head + w->q_count - 1) % w->cfg.queue_max])) {
		uint64_t now = time_mono_ns();
		if (now >= due)
			break;
		struct timespec dl;
		deadline_after_ns(&dl, due - now);
		w->want = WRITER_WANT_URGENT;
		pthread_cond_timedwait(&w->cond_work, &w->mtx, &dl);
		w->want = WRITER_WANT_NONE;
	}
	size_t n = 0;
	while (w->q_count > 0 && n < w->cfg.batch_max && !is_special(w->q[w->q_head])) {
		/* One call's events share one transaction (all or none committed): a group that
		 * does not fit in what is left of this batch starts the next one. Only a group
		 * larger than a whole batch is split. */
		if (n > 0 && w->q[w->q_head]->group > w->cfg.batch_max - n)
			break;
		batch[n++] = queue_pop(w);
	}
	return n;
}

static void batch_complete(struct writer_waiter **batch, size_t n, const int *results)
{
	for (size_t i = 0; i < n; i++) {
		batch[i]->result = results[i];
		writer_waiter_done(batch[i]);
	}
}

/* What a reload changes in the writer, made by writer_reload and applied by the writer's
 * thread before its rebuild (writer_settings_apply). */
struct writer_settings {
	struct writer_config cfg;
	struct zone_defaults defaults; /* its names and txt owned */
	char *txt;                     /* defaults.txt */
	char *answer_txt;              /* NULL: the defaults' TXT */
};

static void writer_settings_free(struct writer_settings *s)
{
	if (!s)
		return;
	zone_defaults_free(&s->defaults);
	free(s->txt);
	free(s->answer_txt);
	free(s);
}

static void writer_txt_free(struct writer *w)
{
	for (int r = 0; r < 4; r++)
		for (int d = 0; d < EVIDENCE_CLASSES; d++) {
			free(w->txt[r][d]);
			w->txt[r][d] = NULL;
		}
}

static int writer_txt_make(struct writer *w, const char *answer_txt);

/* On the writer's thread: the settings of a reload replace the live ones (the policy, the
 * default exclusions, the answers and the zone's SOA and NS, the export interval), before the
 * rebuild that recomputes every listing with them and publishes the zone whole. */
static int writer_settings_apply(struct writer *w)
{
	pthread_mutex_lock(&w->mtx);
	struct writer_settings *s = w->reload;
	w->reload = NULL;
	pthread_mutex_unlock(&w->mtx);
	if (!s)
		return WRITER_OK;
	w->cfg.policy = s->cfg.policy;
	memcpy(w->cfg.default_exclusions, s->cfg.default_exclusions,
	       sizeof(w->cfg.default_exclusions));
	w->cfg.n_default_exclusions = s->cfg.n_default_exclusions;
	w->cfg.special_excluded = s->cfg.special_excluded;
	memcpy(w->cfg.answer_a, s->cfg.answer_a, sizeof(w->cfg.answer_a));
	if (w->cfg.export_dir[0]) {
		w->cfg.export_interval_s = s->cfg.export_interval_s;
		w->next_export = w->cfg.export_interval_s ? time_now() + w->cfg.export_interval_s : 0;
	}
	/* The zone's defaults: the reload's names become the writer's own. */
	if (w->defaults_owned)
		zone_defaults_free(&w->defaults);
	free(w->default_txt);
	w->defaults = s->defaults;
	w->default_txt = s->txt;
	w->defaults.txt = w->default_txt;
	w->defaults_owned = true;
	s->txt = NULL;
	memset(&s->defaults, 0, sizeof(s->defaults));
	writer_txt_free(w);
	int rc = writer_txt_make(w, s->answer_txt);
	writer_rules_free(&w->rules);
	if (rc == WRITER_OK)
		rc = writer_rules_load(w->store, w->cfg.default_exclusions,
				       w->cfg.n_default_exclusions, w->cfg.special_excluded, time_now(),
				       &w->rules);
	writer_settings_free(s);
	if (rc != WRITER_OK)
		log_err("writer", "reload failed reason=\"%s\"", tl_strerror(rc));
	return rc;
}

int writer_reload(struct writer *w, const struct config *cfg)
{
	struct writer_settings *s = calloc(1, sizeof(*s));
	if (!s)
		return WRITER_ENOMEM;
	writer_config_from(cfg, true, &s->cfg);
	zone_defaults_from(cfg, &s->defaults);
	s->txt = s->defaults.txt ? strdup(s->defaults.txt) : NULL;
	s->defaults.txt = s->txt;
	s->answer_txt = s->cfg.answer_txt ? strdup(s->cfg.answer_txt) : NULL;
	s->cfg.answer_txt = NULL;
	s->cfg.zone = NULL;
	s->cfg.export_dir = NULL;
	if (cfg->answer_txt[0] && !s->answer_txt) {
		writer_settings_free(s);
		return WRITER_ENOMEM;
	}
	pthread_mutex_lock(&w->mtx);
	writer_settings_free(w->reload); /* an earlier reload nobody applied yet: this one wins */
	w->reload = s;
	pthread_mutex_unlock(&w->mtx);
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_REBUILD;
	return writer_submit(w, &ev);
}

static void batch_run(struct writer *w, struct writer_waiter **batch, size_t n, int *results)
{
	if (batch[0]->ev->type == WRITER_EV_REBUILD) {
		results[0] = writer_settings_apply(w);
		if (results[0] == WRITER_OK)
			results[0] = writer_rebuild(w);
		batch_complete(batch, n, results);
		return;
	}
	if (batch[0]->ev->type == WRITER_EV_EXPORT) {
		writer_export(w, export_answered, batch[0]); /* answered when the files are written */
		return;
	}
	writer_batch_apply(w, batch, n, results);
	atomic_fetch_add_explicit(&w->st_events, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->st_batches, 1, memory_order_relaxed);
	/* Between the commit and the acknowledgement, on a test's demand: a kill here must lose
	 * nothing (test_fault.sh). There is no point between an acknowledgement and its commit:
	 * batch_complete is the only acknowledgement, and it runs after writer_batch_apply, which
	 * has committed or failed every result. */
	if (test_hook("hold-after-commit")) {
		test_hook_reached("hold-after-commit");
		while (test_hook("hold-after-commit"))
			usleep(10000);
	}
	/* Acknowledge as soon as the transaction is durable; publishing waits for DNS readers to
	 * leave the old snapshot, which producers need not wait for. */
	batch_complete(batch, n, results);
	/* While events keep coming, publish at most once per WRITER_PUBLISH_NS: each publication
	 * copies the overlay and waits out an RCU grace period, whose membarrier interrupts every
	 * DNS worker. What is left is published as soon as the queue runs dry (writer_main). */
	if (time_mono_ns() - w->published_ns >= WRITER_PUBLISH_NS)
		writer_publish_changes(w);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct writer_waiter **batch = calloc(w->cfg.batch_max, sizeof *batch);
	int *results = calloc(w->cfg.batch_max, sizeof *results);
	if (!batch || !results) {
		log_err("writer", "out of memory for batches");
		free(batch);
		free(results);
		batch = NULL;
	}
	for (;;) {
		pthread_mutex_lock(&w->mtx);
		if (w->q_count == 0 && !w->stopping) {
			uint64_t ns = idle_wait_ns(w), pub = publish_wait_ns(w);
			if (pub < ns)
				ns = pub;
			if (ns > 0) {
				struct timespec dl;
				deadline_after_ns(&dl, ns);
				w->want = WRITER_WANT_ANY;
				pthread_cond_timedwait(&w->cond_work, &w->mtx, &dl);
				w->want = WRITER_WANT_NONE;
			}
		}
		if (w->q_count == 0 && w->stopping) {
			pthread_mutex_unlock(&w->mtx);
			break;
		}
		size_t n = 0;
		if (w->q_count > 0) {
			if (!batch) {
				/* Without memory for batches, fail requests rather than hang them. */
				struct writer_waiter *wt = queue_pop(w);
				pthread_cond_broadcast(&w->cond_space);
				pthread_mutex_unlock(&w->mtx);
				wt->result = WRITER_ENOMEM;
				writer_waiter_done(wt);
				continue;
			}
			n = batch_take(w, batch);
			pthread_cond_broadcast(&w->cond_space);
		}
		pthread_mutex_unlock(&w->mtx);
		if (n > 0)
			batch_run(w, batch, n, results);
		writer_timers_run(w, time_now());
		/* A quiet moment publishes what is pending, but still at most once per
		 * WRITER_PUBLISH_NS: a steady trickle of changes (one a millisecond) would
		 * otherwise publish each one on its own. */
		pthread_mutex_lock(&w->mtx);
		bool idle = w->q_count == 0;
		pthread_mutex_unlock(&w->mtx);
		if (idle && publish_wait_ns(w) == 0)
			writer_publish_changes(w);
	}
	writer_publish_changes(w);
	free(batch);
	free(results);
	return NULL;
}

/* ---- public ---- */

int writer_submit(struct writer *w, const struct writer_event *ev)
{
	int result;
	int rc = writer_submit_many(w, ev, 1, &result);
	return rc == WRITER_OK ? result : rc;
}

int writer_submit_nowait(struct writer *w, const struct writer_event *ev)
{
	int result;
	int rc = writer_submit_many_nowait(w, ev, 1, &result);
	return rc == WRITER_OK ? result : rc;
}

/* Called with mtx held: whether the queue has room for n events more, after waiting for it
 * unless nowait. A call's events go in together, one behind the other, so that a batch can
 * take them whole; a call with more events than the queue holds goes in as room appears. */
static bool room_for(struct writer *w, size_t n, bool nowait)
{
	if (nowait)
		return w->stopping || w->q_count + n <= w->cfg.queue_max;
	while (!w->stopping && n <= w->cfg.queue_max && w->q_count + n > w->cfg.queue_max)
		pthread_cond_wait(&w->cond_space, &w->mtx);
	return true;
}

static int submit(struct writer *w, const struct writer_event *evs, size_t n, int *results,
		  bool nowait)
{
	if (!w || (!evs && n) || (!results && n))
		return WRITER_EINVAL;
	int64_t now = time_now();
	struct writer_waiter one, *wts = n == 1 ? &one : calloc(n, sizeof *wts);
	if (!wts)
		return WRITER_ENOMEM;
	sem_t done;
	sem_init(&done, 0, 0);
	/* One count for the producer itself until it has queued everything: the writer cannot
	 * post the semaphore while this call may still add events. */
	atomic_size_t pending = 1;
	size_t i, good = 0;
	int rc = WRITER_OK;
	/* A bad event never enters the queue: it is answered here, the others go on. */
	for (i = 0; i < n; i++) {
		results[i] = writer_event_check(&w->cfg, &evs[i], now);
		wts[i] = (struct writer_waiter){ .ev = &evs[i], .result = results[i], .done = &done,
						 .pending = &pending };
		if (results[i] == WRITER_OK && good++ == 0)
			wts[i].group = 1;
	}
	pthread_mutex_lock(&w->mtx);
	bool room = room_for(w, good, nowait);
	for (i = 0; i < n && room; i++) {
		if (results[i] != WRITER_OK)
			continue;
		if (wts[i].group)
			wts[i].group = good <= w->cfg.queue_max ? good : 0;
		atomic_fetch_add_explicit(&pending, 1, memory_order_relaxed);
		if (!queue_push(w, &wts[i])) {
			atomic_fetch_sub_explicit(&pending, 1, memory_order_relaxed);
			break;
		}
	}
	pthread_mutex_unlock(&w->mtx);
	for (size_t k = i; k < n; k++) /* not queued: the queue is full, or the writer stops */
		if (results[k] == WRITER_OK)
			wts[k].result = room ? WRITER_ESTOPPED : WRITER_EFULL;
	if (atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel) != 1)
		while (sem_wait(&done) != 0)
			; /* EINTR: a signal handler ran */
	for (i = 0; i < n; i++) {
		results[i] = wts[i].result;
		if (results[i] != WRITER_OK && rc == WRITER_OK)
			rc = results[i];
	}
	sem_destroy(&done);
	if (wts != &one)
		free(wts);
	return rc;
}

int writer_submit_many(struct writer *w, const struct writer_event *evs, size_t n, int *results)
{
	return submit(w, evs, n, results, false);
}

int writer_submit_many_nowait(struct writer *w, const struct writer_event *evs, size_t n,
			      int *results)
{
	return submit(w, evs, n, results, true);
}

static int post(struct writer *w, const struct writer_event *ev, writer_done_fn done, void *arg,
		bool wait)
{
	if (!w || !ev || !done)
		return WRITER_EINVAL;
	int rc = writer_event_check(&w->cfg, ev, time_now());
	if (rc != WRITER_OK)
		return rc;
	struct writer_post *p = malloc(sizeof *p);
	if (!p)
		return WRITER_ENOMEM;
	p->ev = *ev;
	p->wt = (struct writer_waiter){ .ev = &p->ev, .cb = done, .cb_arg = arg, .prompt = !wait };
	pthread_mutex_lock(&w->mtx);
	bool full = !wait && !w->stopping && w->q_count >= w->cfg.queue_max;
	bool queued = !full && queue_push(w, &p->wt);
	pthread_mutex_unlock(&w->mtx);
	if (!queued) {
		free(p);
		return full ? WRITER_EFULL : WRITER_ESTOPPED;
	}
	return WRITER_OK;
}

int writer_post(struct writer *w, const struct writer_event *ev, writer_done_fn done, void *arg)
{
	return post(w, ev, done, arg, true);
}

int writer_post_nowait(struct writer *w, const struct writer_event *ev, writer_done_fn done,
		       void *arg)
{
	return post(w, ev, done, arg, false);
}

void writer_stats(struct writer *w, struct writer_stats *out)
{
	out->events = atomic_load_explicit(&w->st_events, memory_order_relaxed);
	out->batches = atomic_load_explicit(&w->st_batches, memory_order_relaxed);
}

#define LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)

void writer_figures(struct writer *w, struct writer_figures *out)
{
	memset(out, 0, sizeof(*out));
	const struct writer_counts *c = &w->counts;
	for (int k = 0; k < WRITER_KINDS; k++)
		for (int e = 0; e < EVIDENCE_CLASSES; e++)
			out->evidence[k][e] = LOAD_RELAXED(&c->evidence[k][e]);
	for (int r = 0; r < WRITER_REASONS; r++) {
		int64_t n = LOAD_RELAXED(&c->listings[r]);
		out->listings[r] = n > 0 ? (uint64_t)n : 0;
	}
	pthread_mutex_lock(&w->mtx);
	out->queue_depth = w->q_count;
	pthread_mutex_unlock(&w->mtx);
	out->last_commit = LOAD_RELAXED(&c->last_commit);
	out->serial = LOAD_RELAXED(&c->published_serial);
	out->published = LOAD_RELAXED(&c->published_wall);
	uint64_t pub = LOAD_RELAXED(&c->published_mono_ns), now = time_mono_ns();
	out->published_age = pub && now > pub ? (double)(now - pub) / 1e9 : 0;
	out->events = atomic_load_explicit(&w->st_events, memory_order_relaxed);
	out->batches = atomic_load_explicit(&w->st_batches, memory_order_relaxed);
}

void writer_metrics(void *arg, struct metrics *m)
{
	struct writer *w = arg;
	struct writer_figures f;
	writer_figures(w, &f);
	metrics_family(m, "trapline_evidence_total", METRIC_COUNTER,
		       "Pieces of evidence stored since the start, by kind (trap: a spamtrap hit, "
		       "from the trap or a feed; report: a user report with a source) and class.");
	for (int k = STORE_KIND_TRAP; k <= STORE_KIND_REPORT; k++)
		for (int e = 0; e < EVIDENCE_CLASSES; e++)
			metrics_value(m, (double)f.evidence[k][e], "kind=\"%s\",class=\"%s\"",
				      store_kind_name((enum store_kind)k),
				      evidence_class_name((enum evidence_class)e));
	metrics_family(m, "trapline_listings", METRIC_GAUGE,
		       "Addresses listed now, by the reason of their listing.");
	for (int r = POLICY_REASON_TRAPS; r <= POLICY_REASON_BOTH; r++)
		metrics_value(m, (double)f.listings[r], "reason=\"%s\"",
			      policy_reason_name((enum policy_reason)r));
	metrics_family(m, "trapline_writer_queue_depth", METRIC_GAUGE,
		       "Events waiting in the writer's queue.");
	metrics_value(m, (double)f.queue_depth, NULL);
	metrics_family(m, "trapline_writer_events_total", METRIC_COUNTER,
		       "Events the writer handled (evidence, reports, moderators' actions).");
	metrics_value(m, (double)f.events, NULL);
	metrics_family(m, "trapline_writer_commit_seconds", METRIC_HISTOGRAM,
		       "Duration of the writer's rounds of events: the transaction, the policy on "
		       "the addresses touched and the commit.");
	uint64_t counts[WRITER_COMMIT_BUCKETS];
	for (int b = 0; b < WRITER_COMMIT_BUCKETS; b++)
		counts[b] = LOAD_RELAXED(&w->counts.commit_buckets[b]);
	metrics_histogram(m, writer_commit_le, counts, WRITER_COMMIT_BUCKETS,
			  LOAD_RELAXED(&w->counts.commit_buckets[WRITER_COMMIT_BUCKETS]),
			  (double)LOAD_RELAXED(&w->counts.commit_sum_ns) / 1e9);
	metrics_family(m, "trapline_writer_last_commit_time_seconds", METRIC_GAUGE,
		       "When the writer last committed a round, seconds since the epoch (0: not "
		       "yet).");
	metrics_value(m, (double)f.last_commit, NULL);
	metrics_family(m, "trapline_zone_serial", METRIC_GAUGE,
		       "SOA serial of the zone DNS answers from.");
	metrics_value(m, (double)f.serial, NULL);
	metrics_family(m, "trapline_zone_publication_age_seconds", METRIC_GAUGE,
		       "Seconds since the zone DNS answers from was published.");
	metrics_value(m, f.published_age, NULL);
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

void writer_config_from(const struct config *cfg, bool exports, struct writer_config *out)
{
	memset(out, 0, sizeof *out);
	policy_config_from(cfg, &out->policy);
	out->zone = cfg->zone;
	out->export_dir = exports ? cfg->data_dir : "";
	out->export_interval_s = exports ? cfg->export_interval : 0;
	/* The schema checked the list when it was set: it parses. */
	unsigned n = 0;
	char err[CONFIG_ERR_MAX];
	if (config_exclusions_parse(cfg->exclude_default, out->default_exclusions,
				    CONFIG_PREFIX_MAX, &n, &out->special_excluded, err,
				    sizeof err) != BASE_OK)
		log_err("writer", "exclude_default ignored reason=\"%s\"", err);
	out->n_default_exclusions = n;
	out->answer_a[POLICY_REASON_TRAPS] = cfg->answer_a_traps;
	out->answer_a[POLICY_REASON_REPORTS] = cfg->answer_a_reports;
	out->answer_a[POLICY_REASON_BOTH] = cfg->answer_a_both;
	out->answer_txt = cfg->answer_txt[0] ? cfg->answer_txt : NULL;
	out->ixfr_journal_max = cfg->ixfr_journal_max;
	out->ixfr_journal_age = cfg->ixfr_journal_age;
}

static int writer_copy_config(struct writer *w, const struct writer_config *cfg,
			      const struct zone_defaults *defaults)
{
	w->cfg = *cfg;
	if (w->cfg.queue_max == 0)
		w->cfg.queue_max = 65536;
	if (w->cfg.batch_max == 0)
		w->cfg.batch_max = 1024;
	/* Each commit costs the writer about as much as 40 events (BEGIN, the log frames, the
	 * lock dance): at 2,000 posted events a second, 50 ms instead of 20 took the writer from
	 * 3.8% of a core to 3.1%. An SMTP client waits that long for its 250 without noticing. */
	if (w->cfg.batch_wait_ms == 0)
		w->cfg.batch_wait_ms = 50;
	w->zone_name = dup_or_empty(cfg->zone);
	w->export_dir = dup_or_empty(cfg->export_dir);
	w->cfg.zone = w->zone_name;
	w->cfg.export_dir = w->export_dir;
	if (!w->zone_name || !w->export_dir)
		return WRITER_ENOMEM;
	/* The default exclusions are copied into the rules by writer_load. */
	w->defaults = *defaults;
	if (defaults->txt) {
		w->default_txt = strdup(defaults->txt);
		if (!w->default_txt)
			return WRITER_ENOMEM;
	}
	w->defaults.txt = w->default_txt;
	w->cfg.answer_txt = NULL; /* the caller's: writer_txt_make copies what it needs */
	w->q = calloc(w->cfg.queue_max, sizeof *w->q);
	return w->q ? WRITER_OK : WRITER_ENOMEM;
}

/* The TXT of a listing for each reason and detail: the template with "{reason}" replaced by
 * what such a listing usually means (writer_config.answer_txt). */
static int writer_txt_make(struct writer *w, const char *answer_txt)
{
	const char *t = answer_txt ? answer_txt : w->defaults.txt;
	if (!t)
		return WRITER_OK; /* no TXT records */
	const char *at = strstr(t, "{reason}");
	for (int r = POLICY_REASON_TRAPS; r <= POLICY_REASON_BOTH; r++) {
		for (int d = 0; d < EVIDENCE_CLASSES; d++) {
			const char *fill = policy_meaning((enum policy_reason)r,
							  (enum evidence_class)d)->txt;
			size_t n = strlen(t) + (at ? strlen(fill) : 0) + 1;
			char *s = malloc(n);
			if (!s)
				return WRITER_ENOMEM;
			if (at)
				snprintf(s, n, "%.*s%s%s", (int)(at - t), t, fill, at + 8);
			else
				snprintf(s, n, "%s", t);
			w->txt[r][d] = s;
		}
	}
	return WRITER_OK;
}

static void writer_free(struct writer *w)
{
	writer_txt_free(w);
	writer_settings_free(w->reload);
	if (w->defaults_owned)
		zone_defaults_free(&w->defaults);
	writer_exporter_stop(w);
	writer_state_free(w);
	free(w->q);
	free(w->zone_name);
	free(w->export_dir);
	free(w->default_txt);
	free(w);
}

int writer_start(const struct writer_config *cfg, struct store *store, struct zone_handle *zone,
		 const struct zone_defaults *defaults, struct writer **out)
{
	if (!cfg || !store || !zone || !defaults || !out)
		return WRITER_EINVAL;
	struct writer *w = calloc(1, sizeof *w);
	if (!w)
		return WRITER_ENOMEM;
	w->store = store;
	w->zone = zone;
	int rc = writer_copy_config(w, cfg, defaults);
	if (rc == WRITER_OK)
		rc = writer_txt_make(w, cfg->answer_txt);
	if (rc != WRITER_OK)
		goto fail_free;
	rc = writer_load(w);
	if (rc == WRITER_OK)
		rc = writer_exporter_start(w);
	if (rc != WRITER_OK)
		goto fail_free;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cond_work, &ca);
	pthread_cond_init(&w->cond_space, NULL);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		rc = WRITER_ENOMEM;
		goto fail_sync;
	}
	pthread_setname_np(w->thread, "tl-writer");
	*out = w;
	return WRITER_OK;

fail_sync:
	pthread_cond_destroy(&w->cond_space);
	pthread_cond_destroy(&w->cond_work);
	pthread_mutex_destroy(&w->mtx);
fail_free:
	writer_free(w);
	return rc;
}

void writer_stop(struct writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mtx);
	w->stopping = true;
	pthread_cond_broadcast(&w->cond_work);
	pthread_cond_broadcast(&w->cond_space);
	pthread_mutex_unlock(&w->mtx);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond_space);
	pthread_cond_destroy(&w->cond_work);
	pthread_mutex_destroy(&w->mtx);
	writer_free(w);
}
