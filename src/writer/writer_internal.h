/* writer_internal.h - what the writer's files share: the writer object, its timer heap and the
 * batch machinery. Private to src/writer/. The files, from the top down (each calls only those
 * below it): writer_queue.c (the queue and the thread), writer_batch.c (a round: one
 * transaction, the policy, the zone change; timers, load, rebuild), writer_apply.c (the table
 * of events), writer_review.c (review requests, moderators, sessions), writer_state.c (what a
 * round keeps: touched, hot, held log lines), writer_facts.c (the facts of one address);
 * writer_export.c beside them, answering through a callback. Their sections below go from the
 * bottom up. */
#ifndef TRAPLINE_WRITER_INTERNAL_H
#define TRAPLINE_WRITER_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "writer.h"

/* What the writer has done, for GET /metrics and `trapline status` (writer_state.c). */
#define WRITER_KINDS 3 /* store_kind: 1 trap, 2 report; 0 unused */
#define WRITER_REASONS 4 /* policy_reason */
#define WRITER_COMMIT_BUCKETS 12
struct writer_counts {
	uint64_t evidence[WRITER_KINDS][EVIDENCE_CLASSES]; /* committed pieces */
	int64_t listings[WRITER_REASONS];                   /* listings in force, by reason */
	uint64_t commit_buckets[WRITER_COMMIT_BUCKETS + 1]; /* event rounds' durations */
	uint64_t commit_sum_ns;
	int64_t last_commit;        /* wall clock of the last committed round (0: none yet) */
	uint32_t published_serial;  /* the serial DNS answers with */
	uint64_t published_mono_ns; /* when it was published (monotonic) */
	int64_t published_wall;     /* ... (wall clock) */
	/* the round in progress (writer thread only) */
	uint64_t pending_evidence[WRITER_KINDS][EVIDENCE_CLASSES];
	int64_t pending_listings[WRITER_REASONS];
};
extern const double writer_commit_le[WRITER_COMMIT_BUCKETS];

/* One queued event. A blocking producer's events live on its stack and share one count of
 * those not yet answered and one semaphore: the writer posts it when the count reaches zero,
 * without its mutex, so that a woken producer does not queue behind the writer for the lock
 * it still holds. A posted event (writer_post) is the writer's own copy, with a callback. */
struct writer_waiter {
	const struct writer_event *ev;
	int result;
	sem_t *done;
	atomic_size_t *pending;
	writer_done_fn cb; /* posted: called, then the waiter freed */
	void *cb_arg;
	bool prompt;       /* posted without waiting for company (writer_post_nowait) */
	uint64_t queued_ns; /* monotonic */
	size_t group;      /* the first of a writer_submit_many call's events: how many were
			      queued with it, behind it, which a batch takes whole (0: the rest) */
};

/* What would make a waiting writer move on: producers signal only for that. */
enum writer_want {
	WRITER_WANT_NONE = 0, /* busy: it looks at the queue when done */
	WRITER_WANT_ANY,      /* idle: any event */
	WRITER_WANT_URGENT,   /* gathering posted events: a full batch or a blocked producer */
};

/* When a listing must be looked at again. An entry may be early (the listing was extended
 * since) or stale (the listing is gone): the timer re-reads the store before it acts. Every
 * listing has an entry at or before its expires_at, so none outlives its time. */
struct writer_timer {
	int64_t at;
	uint8_t ip[16];
};

struct writer_kept {
	uint8_t ip[16];
	int64_t listed_at;
	int64_t expires_at; /* the listing history: an episode the rebuild ends is recorded */
	int reason;
	bool relisted;      /* the rebuild listed it again: the episode goes on */
};

/* The evidence of an address that keeps coming back (a trap flooded by one sender): kept in
 * memory so that each batch appends its own pieces instead of reading them all again. */
#define WRITER_HOT_MAX 16  /* addresses kept */
#define WRITER_HOT_MIN 256 /* pieces an address needs to be kept */
struct writer_hot {
	uint8_t ip[16];
	struct policy_evidence *ev;
	size_t n, cap;
	uint64_t used;   /* when last evaluated (a counter): the least recent is replaced */
	bool live;
};

struct writer {
	/* configuration (copied) */
	struct writer_config cfg;
	char *zone_name, *export_dir;
	struct zone_defaults defaults;
	char *default_txt;

	struct store *store;
	struct zone_handle *zone;
	struct zone_snapshot *current; /* what the writer last published (it is the only publisher) */
	uint32_t serial;               /* SOA serial of current */

	/* the queue: producers block when it holds queue_max requests */
	pthread_mutex_t mtx;
	pthread_cond_t cond_work, cond_space;
	struct writer_waiter **q;
	size_t q_head, q_count;
	size_t q_blocking; /* queued events whose producer waits for them: blocked producers, and
			      posts that do not wait for company (prompt) */
	atomic_ullong st_events, st_batches; /* writer_stats */
	enum writer_want want;
	bool stopping;
	pthread_t thread;

	/* writer-thread state */
	struct writer_timer *heap;
	size_t heap_n, heap_cap;
	struct writer_rules rules;     /* exclusions and reputation, in step with the store */
	bool rules_dirty;              /* this batch changed rules (reload them if it fails) */
	struct writer_facts facts;     /* of the address being evaluated (its buffer is reused) */
	bool oom;                      /* a store callback ran out of memory */
	char (*logq)[512];             /* lines for the log once the round commits */
	size_t logq_n, logq_cap;
	char *txt[4][EVIDENCE_CLASSES]; /* TXT of a listing by reason and detail (owned) */
	uint8_t (*touched)[16];        /* addresses a batch touched */
	size_t touched_n, touched_cap;
	struct zone_change *changes;   /* what a batch changes in the zone */
	size_t changes_n, changes_cap;
	uint64_t published_ns; /* monotonic time of the last publication */
	/* batches failed in a row (a full or read-only disk): logged at the first, then once
	 * every WRITER_FAIL_LOG_NS with the count, and once more when a commit succeeds again */
	uint64_t fail_streak, fail_suppressed, fail_logged_ns;
	struct writer_exporter *exporter;
	struct writer_kept *kept; /* rebuild: when each listing before it began, sorted by address */
	size_t kept_n, kept_cap;
	int64_t next_export;
	int64_t next_prune; /* writer clock: when expired samples are deleted next */
	struct writer_hot hot[WRITER_HOT_MAX];
	uint64_t hot_clock;

	/* the figures of GET /metrics and `trapline status` (writer_metrics): written by the
	 * writer's thread only (relaxed stores), read by any thread (relaxed loads). A round's
	 * changes wait in the pending arrays and count once its transaction committed. */
	struct writer_counts counts;
	/* A configuration reload waiting for the writer's thread (writer_reload; under mtx), and
	 * whether w->defaults' names are the writer's own (from a reload) or the starter's. */
	struct writer_settings *reload;
	bool defaults_owned;
};

/* ---- writer_journal.c ---- */

/* At load, after the first snapshot (serial) is published: the journal made and handed to
 * the zone handle, its rows read back from the store, and, when the store's last serial
 * (stored, had_stored) is where the journal ends and the answers are configured as before,
 * an entry from it to serial, so that secondaries go on by IXFR across the restart. Failures
 * only cost IXFR (logged): the zone is served. */
void writer_journal_load(struct writer *w, bool had_stored, uint32_t stored, uint32_t serial,
			 int64_t now);
/* Before next replaces w->current: the journal entry of the changes in w->changes, in memory
 * and in the store (its own small transaction). */
void writer_journal_publish(struct writer *w, const struct zone_snapshot *next);

/* ---- writer_facts.c ---- */

/* Reads the store's exclusions in force at now and reputation rows into r again (keeping its
 * defaults): at start, and after a failed batch changed r before its transaction rolled back. */
int writer_rules_reload(struct store *s, struct writer_rules *r, int64_t now);
/* Adds an exclusion row to r, as its transaction adds it to the store. */
int writer_rules_exclusion_add(struct writer_rules *r, const struct store_exclusion *ex);
/* Sets (points > 0) or removes (points 0) r's row of exactly row->prefix, as the store does. */
int writer_rules_reputation_put(struct writer_rules *r, const struct store_reputation *row);
/* The default exclusion covering ip, the store's exclusion in force at now covering ip, the
 * reputation row that applies to ip; NULL when none. */
const struct ip_prefix *writer_rules_default_exclusion(const struct writer_rules *r,
						      const uint8_t ip[16],
						      const struct ip_special **special);
/* A report's source names its reporter as "reporter:NAME" (apply_report writes it). */
#define WRITER_REPORTER_SOURCE "reporter:"
/* The policy's reporter key of a reporter's name (policy_evidence.reporter; NULL: 0), and of a
 * stored piece of evidence (0 unless it is a reporter's report). */
uint64_t writer_reporter_key(const char *name);
uint64_t writer_reporter_of(const struct store_evidence *e);
const struct store_exclusion *writer_rules_exclusion(const struct writer_rules *r,
						     const uint8_t ip[16], int64_t now);
const struct store_reputation *writer_rules_reputation(const struct writer_rules *r,
						       const uint8_t ip[16]);

/* The two halves of writer_facts_read: f emptied for ip and filled with its evidence received
 * at or after since; then, for f's address, the rules and the delisting. The writer takes the
 * evidence of a hot address from memory and the rest from writer_facts_context, so that
 * every evaluation still goes through the same rules. */
int writer_facts_evidence(struct store *s, const uint8_t ip[16], int64_t since,
			  struct writer_facts *f);
int writer_facts_context(struct store *s, const struct writer_rules *rules, int64_t now,
			 struct writer_facts *f);
/* Removes the rows of exactly p from r, as store_exclusion_remove does in the store. */
void writer_rules_exclusion_remove(struct writer_rules *r, const struct ip_prefix *p);

/* ---- writer_state.c: what a round keeps; the batch and every kind of event use it ---- */

/* A store error as the writer reports it. */
int writer_store_rc(int rc);
/* The round's figures: a piece of evidence stored, a listing's reason gone (-1) or come
 * (+1); committed into the totals once the round's transaction is, or dropped with it. */
void writer_count_evidence(struct writer *w, int kind, int cls);
void writer_count_listing(struct writer *w, int reason, int delta);
void writer_counts_commit(struct writer *w, uint64_t round_ns); /* 0: not an event round */
void writer_counts_drop(struct writer *w);
/* Sets the listings of reason in force (a load, a rebuild), and reads it. */
void writer_counts_listings_set(struct writer *w, int reason, int64_t n);
int64_t writer_counts_listings(struct writer *w, int reason);
/* A snapshot published with serial. */
void writer_counts_published(struct writer *w, uint32_t serial);
/* Queues ip for evaluation at the end of the round. */
int writer_touch(struct writer *w, const uint8_t ip[16]);
/* ... every listed address inside p / every address inside p with evidence in the window. */
int writer_touch_listed_in(struct writer *w, const struct ip_prefix *p);
int writer_touch_evidence_in(struct writer *w, const struct ip_prefix *p, int64_t now);
/* A piece of evidence the round stored: appended to its address's evidence in memory when the
 * address is hot (a sender flooding the trap), so that its next evaluation reads no store. */
void writer_hot_add(struct writer *w, const struct store_evidence *e);
/* Forgets every hot address: after a failed batch (its pieces were appended, then rolled
 * back) and around a rebuild. The next evaluation reads the store again. */
void writer_hot_clear(struct writer *w);
/* The evidence of ip received at or after since into w->facts: from memory when ip is hot,
 * from the store otherwise (then kept in memory if there is enough of it). */
int writer_evidence_load(struct writer *w, const uint8_t ip[16], int64_t since);
/* Lines for the log, written when the round commits (flush) or forgotten when it does not. */
void writer_log_add(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void writer_log_flush(struct writer *w);
void writer_log_drop(struct writer *w);
/* Frees what the writer thread built up (timers, rules, facts, touched, changes, log, hot). */
void writer_state_free(struct writer *w);

/* ---- writer_review.c: review requests, moderators, sessions ---- */

int writer_check_ticket_add(const struct writer_event *ev, int64_t now);
int writer_apply_ticket_add(struct writer *w, const struct writer_event *ev, int64_t now);
int writer_check_ticket_decide(const struct writer_event *ev, int64_t now);
/* Whether a decision may be made: the session (if any) live, the ticket there and open (t gets
 * it). A request that joined a ticket stands for that ticket (d->ticket becomes its id). Reads
 * only: a refusal (d->refusal) fails its event alone. */
int writer_decision_admit(struct writer *w, struct writer_decision *d, int64_t now,
			  struct store_ticket *t);
/* Writes ev's decision on the ticket t (admitted, open) and on every request that joined it,
 * in the caller's transaction. */
int writer_ticket_decide_all(struct writer *w, const struct writer_event *ev,
			     struct store_ticket *t, int64_t now);
/* Closes the open tickets of the addresses p covers, answered by ev (a delisting, or an
 * exclusion until `until`, made outside any ticket): status st, by_action, ev's who, the event
 * "operator-delist" or "operator-exclude" with ev's why, an audit row "review-close" each.
 * In the caller's transaction. */
int writer_tickets_answered(struct writer *w, const struct writer_event *ev,
			    const struct ip_prefix *p, enum store_ticket_status st, int64_t until,
			    int64_t now);
int writer_check_moderator(const struct writer_event *ev, int64_t now);
int writer_apply_moderator(struct writer *w, const struct writer_event *ev, int64_t now);
int writer_check_session(const struct writer_event *ev, int64_t now);
int writer_apply_session(struct writer *w, const struct writer_event *ev, int64_t now);

/* ---- writer_apply.c: the table of events ---- */

/* Checks an event before it is queued (and again when applied): WRITER_EINVAL if bad,
 * WRITER_ESPECIAL for evidence naming a special-purpose address that cfg refuses. */
int writer_event_check(const struct writer_config *cfg, const struct writer_event *ev,
		       int64_t now);
/* Applies one checked event of a batch inside the round's transaction. WRITER_ENOTFOUND,
 * WRITER_EINVAL, WRITER_EEXIST and WRITER_ELIMIT fail that event alone (nothing of it was
 * written); other errors fail the round. */
int writer_event_apply(struct writer *w, const struct writer_event *ev, int64_t now);

/* ---- writer_export.c ---- */

/* Starts the exporter's thread (none when there is no export directory). */
int writer_exporter_start(struct writer *w);
/* Writes what was asked for, then stops the thread. */
void writer_exporter_stop(struct writer *w);
/* Hands a copy of the current snapshot to the exporter. done, when not NULL, is called with
 * arg and the result once the files are written (on the exporter's thread), or at once if
 * they cannot be: the exporter knows nothing of who asked. */
void writer_export(struct writer *w, writer_done_fn done, void *arg);

/* ---- writer_batch.c: rounds, timers, load and rebuild ---- */

/* Applies n queued normal events (evidence, delist, exclude, reputation) in one transaction;
 * results[i] gets each one's result. Publishes the zone change after the caller's completion
 * callback. */
int writer_batch_apply(struct writer *w, struct writer_waiter **batch, size_t n, int *results);
/* Publishes the changes the last committed batch left in w->changes (if any). */
void writer_publish_changes(struct writer *w);
/* The earliest time (writer clock, seconds) a timer needs the writer: INT64_MAX if none. */
int64_t writer_timers_next(const struct writer *w);
/* Expires the listings whose time has come and exclusions that ended; publishes. */
void writer_timers_run(struct writer *w, int64_t now);
/* Recomputes every listing from the evidence, rebuilds and publishes the snapshot whole. */
int writer_rebuild(struct writer *w);
/* Reads the store into a new snapshot published on the zone (writer_start). */
int writer_load(struct writer *w);

#endif
