/* writer.h - the one thread that writes: evidence and moderator events in, committed in
 * groups to the store, the policy run on the addresses touched, the DNS zone updated
 * incrementally, listings expired on time. */
#ifndef TRAPLINE_WRITER_H
#define TRAPLINE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

#include "policy/policy.h"
#include "store/store.h"
#include "zone/zone.h"

/* The codes of the one error space (base.h) that writer functions return. */
enum writer_err {
	WRITER_OK = TL_OK,
	WRITER_EINVAL = TL_EINVAL,     /* bad event (address, prefix with host bits, date in the past...) */
	WRITER_ENOMEM = TL_ENOMEM,
	WRITER_ESTORE = TL_EDB,        /* the store failed: nothing of the batch was acknowledged */
	WRITER_ESTOPPED = TL_ESTOPPED, /* the writer is stopping */
	WRITER_EIO = TL_EEXPORT,       /* an export could not be written (the log says which and why) */
	WRITER_ENOTFOUND = TL_ENOTFOUND, /* undelist, unexclude: nothing of the kind is in force;
					    holder remove: no such holder; report: its reporter was
					    removed */
	WRITER_EFULL = TL_ETOOMANY,    /* writer_post_nowait, writer_submit_many_nowait: the queue
					  is full, try again later */
	WRITER_EEXIST = TL_EEXIST,     /* holder add: a live holder has the name; report: the same
					  message from the same reporter is stored already (its id in
					  writer_report.earlier_id) */
	WRITER_ESPECIAL = TL_ESPECIAL, /* evidence naming a special-purpose address while
					  exclude_default names special-purpose: refused */
	WRITER_ELIMIT = TL_ELIMIT,     /* report: the reporter's reports this clock hour reached
					  writer_report.limit_per_hour */
};


enum writer_event_type {
	WRITER_EV_EVIDENCE = 1, /* ev.evidence */
	WRITER_EV_DELIST = 2,   /* ev.ip, who, why */
	WRITER_EV_EXCLUDE = 3,  /* ev.prefix, until, who, why */
	WRITER_EV_REBUILD = 4,  /* recompute every listing from the evidence */
	WRITER_EV_EXPORT = 5,   /* write the exports now */
	WRITER_EV_REPUTATION = 6, /* ev.prefix, points (0: remove that prefix's points), who, why */
	WRITER_EV_UNDELIST = 7,   /* ev.ip, who, why: takes back the delisting in force */
	WRITER_EV_UNEXCLUDE = 8,  /* ev.prefix, who, why: removes the exclusion of exactly prefix */
	WRITER_EV_HOLDER_ADD = 9,    /* ev.holder (name, kind, key hash, relays), who, why */
	WRITER_EV_HOLDER_REMOVE = 10, /* ev.holder (name, kind), who, why */
	WRITER_EV_REPORT = 11,       /* ev.report: a user report, and its evidence when it has a
					source, in one transaction */
	/* review requests and moderation (writer_review.c) */
	WRITER_EV_TICKET_ADD = 12,      /* ev.ticket: a review request, within its limits */
	WRITER_EV_TICKET_DECIDE = 13,   /* ev.decision, who, why: delist, exclude or reject */
	WRITER_EV_MODERATOR_ADD = 14,   /* ev.moderator (name, pw_hash), who, why */
	WRITER_EV_MODERATOR_REMOVE = 15, /* ev.moderator (name), who, why: ends its sessions */
	WRITER_EV_SESSION_ADD = 16,     /* ev.session (name, token hash, expires_at): a login */
	WRITER_EV_SESSION_END = 17,     /* ev.session (token hash): a logout */
};

/* A user report as the writer stores it (WRITER_EV_REPORT). The writer checks, in the
 * transaction, that the reporter is live, that it has not sent the same message before and
 * that it is below its hourly limit; then stores the report, and, when the analysis found a
 * source, a piece of evidence (kind report, row.cls) against it, and counts the report in its
 * hour. Each of those refusals fails that event alone and writes nothing. */
struct writer_report {
	struct store_report row;  /* id, holder, digest, has_source/source or refusal, cls,
				     analysis; received_at and evidence_id are the writer's */
	uint32_t limit_per_hour;  /* the reporter's reports per clock hour at most; 0: no limit */
	/* Answers, valid once the event is answered, each with its result: */
	char earlier_id[STORE_REPORT_ID_LEN + 1]; /* WRITER_EEXIST: the report stored before */
	int64_t received_at;      /* WRITER_OK: when it was stored (the writer's clock) */
	int64_t evidence_id;      /* WRITER_OK with a source: the evidence row added */
};

/* Why the writer refused a review event (each refusal writes nothing). */
enum writer_refusal {
	WRITER_REFUSED_NONE = 0,
	WRITER_REFUSED_CLIENT_LIMIT,  /* TICKET_ADD: this client filed per_client_day already */
	WRITER_REFUSED_IP_LIMIT,      /* TICKET_ADD: per_ip_day tickets about this address were
					 decided in the last 24 hours */
	WRITER_REFUSED_NOT_LISTED,    /* TICKET_ADD: the address is not listed (any more) */
	WRITER_REFUSED_NO_TICKET,     /* TICKET_DECIDE: no ticket of that id */
	WRITER_REFUSED_DECIDED,       /* TICKET_DECIDE: the ticket was decided already */
	WRITER_REFUSED_SESSION,       /* TICKET_DECIDE, SESSION_END: the session is not live (it
					 ended, expired, or its moderator was removed) */
	WRITER_REFUSED_NO_MODERATOR,  /* SESSION_ADD, MODERATOR_REMOVE: no such live moderator */
	WRITER_REFUSED_NAME_TAKEN,    /* MODERATOR_ADD: a live moderator has the name */
};

/* A review request as the writer stores it (WRITER_EV_TICKET_ADD). In its transaction the
 * writer checks that the address is listed, that the client filed fewer than per_client_day
 * requests in the last 24 hours and, when the address has no open ticket, that fewer than
 * per_ip_day tickets about it were decided in that time (WRITER_ELIMIT, refusal says which);
 * then stores the request and its first event, "filed". An address has one open ticket at
 * most: a request about an address that has one joins it (row->joined, the events "joined"
 * on the request and "added" on the ticket), and is decided with it, so that requests
 * anyone can send never use up what the address's owner may ask. */
struct writer_ticket {
	struct store_ticket *row;  /* id, ip, email, fixed, comment, client; created_at, joined
				      and the decision fields are the writer's */
	uint32_t per_client_day;   /* 0: no limit */
	uint32_t per_ip_day;       /* 0: no limit */
	/* Answers, valid once the event is answered: */
	enum writer_refusal refusal;
	int64_t created_at;
};

/* A moderator's decision on a ticket (WRITER_EV_TICKET_DECIDE): the ticket must be open (a
 * request that joined a ticket stands for that ticket: ticket becomes its id); a decision made
 * in a web session carries the session's token hash, and the session must still be live when
 * the decision commits (a logout or a removal between the page and the click writes nothing).
 * Delisting and excluding do what `delist` and `exclude` do to the ticket's address (the
 * exclusion is of that one address, until `until`), with "ticket ID: why" in the audit log; a
 * rejection writes an audit row of its own. The requests that joined the ticket are decided
 * with it. The pages of each show the decision.
 *
 * A delisting or an exclusion made outside a ticket (WRITER_EV_DELIST, WRITER_EV_EXCLUDE)
 * answers the open tickets of the addresses it covers: they are closed in its transaction
 * (status delisted or excluded, by_action, the event "operator-delist" or "operator-exclude",
 * an audit row "review-close"), and a decision on them afterwards is refused. */
struct writer_decision {
	char ticket[STORE_TICKET_ID_LEN + 1];
	enum store_ticket_status status; /* DELISTED, EXCLUDED or REJECTED */
	int64_t until;                   /* EXCLUDED: in the future */
	bool has_session;
	uint8_t session_hash[STORE_TOKEN_HASH_LEN];
	/* Answers: */
	enum writer_refusal refusal;
	uint8_t ip[16];                  /* the ticket's address */
	uint32_t requests;               /* WRITER_OK: the requests decided (1 + those joined) */
	/* WRITER_REFUSED_DECIDED: how the ticket was closed before */
	enum store_ticket_status was;
	bool was_by_action;              /* closed by a delisting or exclusion outside it */
	char was_who[64];
	int64_t was_at;
};

struct writer_event {
	enum writer_event_type type;
	struct store_evidence evidence;
	uint8_t ip[16];
	struct ip_prefix prefix;
	int64_t until;
	double points; /* reputation: added to the threshold inside prefix (>= 0, finite) */
	char who[64];
	char why[STORE_TEXT_MAX];
	/* The kinds with parts of variable size carry them by pointer. writer_post copies the
	 * struct above, not what these point to: it must stay as it is (and report writable)
	 * until the event is answered (writer_submit returns, or done is called). */
	const struct store_trap_hit *trap; /* EVIDENCE of kind trap: envelope and sample, stored
					      beside the evidence in its transaction; or NULL */
	const struct store_holder *holder; /* HOLDER_ADD, HOLDER_REMOVE */
	struct writer_report *report;      /* REPORT: what to store, and the writer's answers */
	struct writer_ticket *ticket;      /* TICKET_ADD */
	struct writer_decision *decision;  /* TICKET_DECIDE */
	const struct store_moderator *moderator; /* MODERATOR_ADD, MODERATOR_REMOVE */
	struct store_session *session;     /* SESSION_ADD (name, token_hash, expires_at; the
					      writer sets moderator and created_at), SESSION_END */
	enum writer_refusal *refusal;      /* MODERATOR_*, SESSION_*: why it was refused (or NULL) */
};

struct writer_config {
	struct policy_config policy;
	const char *zone;              /* zone name, for exports */
	const char *export_dir;        /* where exports go ("" = none) */
	uint32_t export_interval_s;    /* 0 = only on demand */
	size_t queue_max;              /* events waiting at most; producers block beyond (default 65536) */
	size_t batch_max;              /* events per transaction at most (default 1024) */
	uint32_t batch_wait_ms;        /* posted events wait this long for company (0: 50 ms) */
	struct ip_prefix default_exclusions[CONFIG_PREFIX_MAX]; /* never listed (exclude_default) */
	size_t n_default_exclusions;
	bool special_excluded;         /* exclude_default names special-purpose: every range of the
					  special-purpose table is never listed, and evidence
					  naming one is refused (WRITER_ESPECIAL) */
	/* What a listing answers, by reason (index: enum policy_reason; 0: the defaults' A), and
	 * the TXT template of listings, in which "{reason}" stands for what the listing usually
	 * means (NULL: the defaults' TXT as it is). */
	uint32_t answer_a[4];
	const char *answer_txt;
	/* The IXFR journal (writer_journal.c): changed addresses kept at most (0: no journal)
	 * and seconds a serial's changes are kept (0: any age). */
	size_t ixfr_journal_max;
	uint32_t ixfr_journal_age;
};

/* The writer's settings from the configuration: the policy_* keys, zone, exclude_default,
 * ixfr_journal_max and ixfr_journal_age, and
 * exports into data_dir every export_interval when exports is true (the service), none when
 * false (a command working on the data directory). cfg must outlive the writer's start. */
void writer_config_from(const struct config *cfg, bool exports, struct writer_config *out);

/* ---- what the policy weighs about one address --------------------------------------
 * The writer decides with these, and check, explain and the lookup page explain with the very
 * same, so that DNS and every page that explains it can never disagree. */

/* The rules beside the evidence: exclusions (the configuration's defaults and the store's
 * rows in force) and reputation points per prefix. A reader loads them with
 * writer_rules_load; the writer keeps its own copy in step with what it commits. */
struct writer_rules {
	struct ip_prefix *defaults; /* exclude_default's prefixes */
	size_t defaults_n;
	bool special;               /* and its word special-purpose: the special-purpose table */
	struct store_exclusion *excl;
	size_t excl_n, excl_cap;
	struct store_reputation *rep;
	size_t rep_n, rep_cap;
};

/* Loads the exclusions in force at now and every reputation row from s, beside a copy of the
 * n default exclusions (and the special-purpose table when special). On failure nothing is
 * left to free. */
int writer_rules_load(struct store *s, const struct ip_prefix *defaults, size_t n, bool special,
		      int64_t now, struct writer_rules *out);
void writer_rules_free(struct writer_rules *r);

/* The facts about one address. Pointers into the rules stay valid while the rules do. */
struct writer_facts {
	uint8_t ip[16];
	struct policy_evidence *ev;  /* received at or after `since`, oldest first (owned) */
	size_t n, cap;
	struct policy_context ctx;   /* excluded, delisted_at, reputation: what the policy takes */
	const struct ip_prefix *default_exclusion;   /* an exclude_default prefix covering ip (for a
							special-purpose address, its range's) */
	const struct ip_special *special;            /* that range, when the special-purpose table
							excludes ip */
	const struct store_exclusion *exclusion;     /* else the store's exclusion covering ip */
	const struct store_reputation *reputation;   /* the most specific prefix with points */
	bool delisted;
	struct store_action delist;                  /* the latest delisting, when delisted */
};

/* Gathers the facts about ip at now from s (any connection: the writer's, or a reader's) and
 * rules: its evidence received at or after since, the exclusion and the reputation that apply
 * (the most specific prefix: a narrower row is the more deliberate statement), the latest
 * delisting. f may be reused across calls (its evidence buffer is kept); zero it before the
 * first call and free it with writer_facts_free. */
int writer_facts_read(struct store *s, const struct writer_rules *rules, const uint8_t ip[16],
		      int64_t now, int64_t since, struct writer_facts *f);
void writer_facts_free(struct writer_facts *f);

struct writer;

/* Starts the writer: rebuilds the listing set from the store (listings in force at now, minus
 * exclusions) into a snapshot published on zone before it returns, so DNS never answers from an
 * empty zone. defaults give SOA/NS/answer values. */
int writer_start(const struct writer_config *cfg, struct store *store, struct zone_handle *zone,
		 const struct zone_defaults *defaults, struct writer **out);
/* Hands ev to the writer and waits until its transaction committed (or failed): only then may a
 * producer say "stored". Thread-safe. */
int writer_submit(struct writer *w, const struct writer_event *ev);
/* A configuration reload (SIGHUP): the writer takes the policy_* keys, exclude_default, the
 * answers (answer_*), the zone's SOA and NS (soa_*, ns*), and export_interval from cfg, then
 * recomputes every listing with them and publishes the zone whole (a rebuild), on its own
 * thread, between two batches: no event is lost and DNS keeps answering from the previous
 * snapshot until the new one is published. Waits for it; the rebuild's result. cfg is read
 * during the call only. */
int writer_reload(struct writer *w, const struct config *cfg);
/* The same for n events at once (a bulk importer, a feed's trap hits): they are queued
 * together and the caller is woken once, when all are committed. Up to batch_max of them
 * (1024 by default) share one transaction, so that a failed commit stores none of them.
 * results[i] is each event's own result; the return value is the first error, or WRITER_OK. */
int writer_submit_many(struct writer *w, const struct writer_event *evs, size_t n, int *results);
/* The same for a producer that must not wait for room in the queue (a web worker, which
 * serves other people too): when the queue cannot take every good event of the call now,
 * none is queued and each gets WRITER_EFULL at once (try again later). Once queued, the call
 * waits for the commit as writer_submit_many does: that takes one batch, milliseconds. */
int writer_submit_many_nowait(struct writer *w, const struct writer_event *evs, size_t n,
			      int *results);
int writer_submit_nowait(struct writer *w, const struct writer_event *ev);
/* Called on the writer's thread once a posted event is committed (result WRITER_OK) or
 * failed. It must be quick and must not call into the writer: wake the producer (an eventfd,
 * a flag) and return. */
typedef void (*writer_done_fn)(void *arg, int result);
/* Queues a copy of ev (the struct: see writer_event for what its pointers must do) and returns at once (blocking only while the queue is full), for
 * producers that cannot wait, such as an event loop holding many SMTP sessions: done(arg,
 * result) tells when the event is stored, and only then may the producer say so. Posted
 * events wait up to batch_wait_ms for others to share their transaction, so that a stream of
 * them costs one commit per batch rather than one per event. Returns WRITER_OK when queued
 * (done will be called exactly once), or an error and done is never called. */
int writer_post(struct writer *w, const struct writer_event *ev, writer_done_fn done, void *arg);
/* The same for a producer whose client waits for the answer (an SMTP session for its 250,
 * sending its next message only then): it never blocks, WRITER_EFULL when the queue is full
 * (the event loop answers "try again later" rather than stall every other session), and the
 * event does not wait batch_wait_ms for company: its batch closes as soon as the writer is
 * free, as a blocked producer's does. Events that arrive while a batch commits share the next
 * one, so the group commit comes from the load itself: one commit per event when mail
 * trickles in, thousands per commit in a flood. */
int writer_post_nowait(struct writer *w, const struct writer_event *ev, writer_done_fn done,
		       void *arg);
/* What the writer has done since it started: events handled, transactions they took. */
struct writer_stats {
	uint64_t events;
	uint64_t batches;
};
void writer_stats(struct writer *w, struct writer_stats *out);
/* The writer's figures for GET /metrics and `trapline status`, read from any thread. */
#define WRITER_FIG_KINDS 3       /* by store_kind (1 trap, 2 report) */
#define WRITER_FIG_REASONS 4     /* by policy_reason */
struct writer_figures {
	uint64_t evidence[WRITER_FIG_KINDS][EVIDENCE_CLASSES]; /* pieces committed since start */
	uint64_t listings[WRITER_FIG_REASONS];                  /* in force now */
	size_t queue_depth;          /* events waiting for the writer */
	int64_t last_commit;         /* wall clock of the last committed round; 0: none */
	uint32_t serial;             /* of the snapshot DNS answers from */
	int64_t published;           /* wall clock of its publication */
	double published_age;        /* seconds since (monotonic) */
	uint64_t events, batches;
};
void writer_figures(struct writer *w, struct writer_figures *out);
/* The writer's families (a metrics_collect_fn; arg: the writer): trapline_evidence_total
 * {kind,class}, trapline_listings{reason}, trapline_writer_queue_depth,
 * trapline_writer_commit_seconds, trapline_writer_events_total, trapline_zone_serial,
 * trapline_zone_publication_age_seconds, trapline_last_commit_time_seconds. */
void writer_metrics(void *w, struct metrics *m);
/* Stops after committing what is queued; frees w. */
void writer_stop(struct writer *w);

#endif
