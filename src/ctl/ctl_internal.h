/* ctl_internal.h - what the ctl module's files share: a running command, its handlers, and
 * what every handler answers through (ctl_out.c, ctl_format.c). */
#ifndef TRAPLINE_CTL_INTERNAL_H
#define TRAPLINE_CTL_INTERNAL_H

#include "ctl.h"

/* One command being run. */
struct ctl_run {
	const struct ctl_service *svc;
	const struct ctl_request *req;
	const char *who;
	FILE *out, *err;
	int64_t now;
};

/* The handlers of the command table (ctl_query.c: the reads; ctl_action.c: the writes). Each
 * returns an exit status and prints its answer as text or JSON (r->req->json). */
int ctl_run_check(struct ctl_run *r);
int ctl_run_explain(struct ctl_run *r);
int ctl_run_list(struct ctl_run *r);
int ctl_run_reputation_list(struct ctl_run *r);
int ctl_run_exclude_list(struct ctl_run *r);
int ctl_run_delist_list(struct ctl_run *r);
int ctl_run_audit(struct ctl_run *r);
int ctl_run_evidence_add(struct ctl_run *r);
int ctl_run_delist(struct ctl_run *r);
int ctl_run_exclude(struct ctl_run *r);
int ctl_run_reputation(struct ctl_run *r);
int ctl_run_rebuild(struct ctl_run *r);
int ctl_run_export(struct ctl_run *r);
int ctl_run_holder_add(struct ctl_run *r);    /* ctl_holder.c: reporter add, feed add */
int ctl_run_holder_list(struct ctl_run *r);
int ctl_run_holder_remove(struct ctl_run *r);
int ctl_run_report(struct ctl_run *r);        /* ctl_report.c */
int ctl_run_review_list(struct ctl_run *r);   /* ctl_review.c */
int ctl_run_review_show(struct ctl_run *r);
int ctl_run_review_decide(struct ctl_run *r); /* review delist, exclude, reject */
int ctl_run_moderator_add(struct ctl_run *r); /* ctl_moderator.c */
int ctl_run_moderator_list(struct ctl_run *r);
int ctl_run_moderator_remove(struct ctl_run *r);
int ctl_run_backup(struct ctl_run *r);        /* ctl_backup.c */
int ctl_run_restore(struct ctl_run *r);
int ctl_run_verify(struct ctl_run *r);
int ctl_run_status(struct ctl_run *r);        /* ctl_status.c: the service's figures */
/* libsodium set up once (ctl_holder.c): before any of its random numbers or hashes. */
void ctl_sodium_ready(void);

/* The kind of holder a reporter-... or feed-... command is about. */
enum store_holder_kind ctl_holder_kind_of(const struct ctl_command *c);

/* ---- how every handler answers (ctl_out.c) ------------------------------------------ */

/* Prints v (an answer) as JSON on r->out and drops the reference; CTL_EXIT_FAIL when v is NULL
 * (out of memory) or cannot be written. */
int ctl_print_json(const struct ctl_run *r, json_t *v);
/* Messages for a failed read or write; they return the exit status to give. */
int ctl_fail_store(const struct ctl_run *r, int rc);
int ctl_fail_writer(const struct ctl_run *r, int rc);

/* A list's frame: rows printed as they come, a JSON array with one row a line. */
struct ctl_list {
	const struct ctl_run *r;
	size_t n;
	bool oom;
};
/* Starts the list (the JSON array's bracket). */
void ctl_list_begin(struct ctl_list *st, const struct ctl_run *r);
/* One row: row (JSON, its reference taken) or text(out, item). Non-zero to stop. */
int ctl_list_row(struct ctl_list *st, json_t *row, void (*text)(FILE *, const void *),
		 const void *item);
/* Ends it: the store's rc, and what an empty text list says. An exit status. */
int ctl_list_end(struct ctl_list *st, int rc, const char *none);

/* ---- the answers' own forms beside ctl.h's (ctl_format.c) ---------------------------- */

/* "192.0.2.1: listed (traps) until T" or "...: not listed", after a change. */
void ctl_status_line(FILE *f, const struct ctl_status *s);
/* A time as an ISO 8601 string, or null for 0. */
json_t *ctl_json_time(int64_t t);

#endif
