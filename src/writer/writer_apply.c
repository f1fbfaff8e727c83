/* writer_apply.c - what each event does to the store and to the writer's rules, one row of a
 * table per kind, and the log lines that say what changed, written once the change is
 * committed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "writer_internal.h"

static bool text_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/* A moderator's event names who asked and why, both terminated within their fields. */
static bool moderator_ok(const struct writer_event *ev)
{
	return text_terminated(ev->who, sizeof ev->who) && text_terminated(ev->why, sizeof ev->why);
}

/* Who asked and why, into a store row's fields (each as large as the event's). */
static void moderator_copy(const struct writer_event *ev, char who[64], char why[STORE_TEXT_MAX])
{
	snprintf(who, sizeof ev->who, "%s", ev->who);
	snprintf(why, sizeof ev->why, "%s", ev->why);
}

/* ---- the log of what changed ------------------------------------------------------- */

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

/* "delist ip=192.0.2.1 who=cli:root why=\"ticket 42\"" for a moderator's action. */
static void log_moderator(struct writer *w, const char *what, const char *target,
			  const struct writer_event *ev, const char *extra)
{
	char who[TEXT_ESCAPED_MAX(64)], why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	writer_log_add(w, "%s target=%s%s who=\"%s\" why=\"%s\"", what, target, extra,
		       text_escape(ev->who, who, sizeof who), text_escape(ev->why, why, sizeof why));
}

/* ---- checks -------------------------------------------------------------------------- */

static int check_evidence(const struct writer_event *ev, int64_t now)
{
	(void)now;
	const struct store_evidence *e = &ev->evidence;
	if ((e->kind != STORE_KIND_TRAP && e->kind != STORE_KIND_REPORT) ||
	    (unsigned)e->cls > STORE_CLASS_UNKNOWN || e->received_at < 0)
		return WRITER_EINVAL;
	if (ip_never_sends(e->ip))
		return WRITER_EINVAL; /* evidence against no sender at all */
	if (!text_terminated(e->source, sizeof e->source) ||
	    !text_terminated(e->digest, sizeof e->digest))
		return WRITER_EINVAL;
	if (ev->trap && e->kind != STORE_KIND_TRAP)
		return WRITER_EINVAL; /* a trap hit's envelope goes with trap evidence only */
	return WRITER_OK;
}

static int check_exclude(const struct writer_event *ev, int64_t now)
{
	if (!ip_prefix_valid(&ev->prefix) || (ev->until != 0 && ev->until <= now))
		return WRITER_EINVAL;
	return moderator_ok(ev) ? WRITER_OK : WRITER_EINVAL;
}

static int check_prefix_moderator(const struct writer_event *ev, int64_t now)
{
	(void)now;
	return ip_prefix_valid(&ev->prefix) && moderator_ok(ev) ? WRITER_OK : WRITER_EINVAL;
}

static int check_moderator(const struct writer_event *ev, int64_t now)
{
	(void)now;
	return moderator_ok(ev) ? WRITER_OK : WRITER_EINVAL;
}

static int check_reputation(const struct writer_event *ev, int64_t now)
{
	if (!isfinite(ev->points) || ev->points < 0)
		return WRITER_EINVAL;
	return check_prefix_moderator(ev, now);
}

static int check_none(const struct writer_event *ev, int64_t now)
{
	(void)ev;
	(void)now;
	return WRITER_OK;
}

/* ---- applying ---------------------------------------------------------------------------- */

static int apply_evidence(struct writer *w, const struct writer_event *ev, int64_t now)
{
	struct store_evidence e = ev->evidence;
	e.id = 0;
	if (e.received_at == 0)
		e.received_at = now;
	e.added_at = now;
	int rc = store_evidence_add(w->store, &e);
	if (rc == STORE_OK && ev->trap) {
		/* The envelope and the sample, in the same transaction as the evidence. */
		struct store_trap_hit h = *ev->trap;
		h.evidence_id = e.id;
		rc = store_trap_hit_add(w->store, &h);
	}
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	writer_hot_add(w, &e);
	return writer_touch(w, e.ip);
}

/* A delisting, or its undoing: an action row and its audit row; the address is looked at
 * again (an undone delisting lists it again if its evidence says so). */
static int apply_delist(struct writer *w, const struct writer_event *ev, int64_t now)
{
	bool undo = ev->type == WRITER_EV_UNDELIST;
	const char *what = undo ? "undelist" : "delist";
	char target[IP_STRLEN];
	ip_format(ev->ip, target);
	struct store_action a = {.kind = undo ? STORE_ACTION_UNDELIST : STORE_ACTION_DELIST,
				 .at = now};
	memcpy(a.ip, ev->ip, 16);
	moderator_copy(ev, a.who, a.why);
	if (undo) {
		struct store_action in_force;
		int rc = store_delisting_get(w->store, ev->ip, &in_force);
		if (rc == STORE_ENOTFOUND)
			return WRITER_ENOTFOUND; /* nothing to take back: nothing written */
		if (rc != STORE_OK)
			return writer_store_rc(rc);
	}
	int rc = store_action_add(w->store, &a);
	if (rc == STORE_OK)
		rc = store_audit_add(w->store, now, ev->who, what, target, ev->why);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	log_moderator(w, what, target, ev, "");
	return writer_touch(w, ev->ip);
}

/* An exclusion replaces any earlier one of the same prefix, its end included, so that
 * `exclude P --until T` shortens or lengthens what is there instead of adding a row that
 * outlives it. */
static int apply_exclude(struct writer *w, const struct writer_event *ev, int64_t now)
{
	char target[IP_PREFIX_STRLEN], until[TIME_STRLEN + 8] = "";
	ip_prefix_format(&ev->prefix, target, sizeof target);
	struct store_exclusion x = {.prefix = ev->prefix, .until = ev->until, .created_at = now};
	moderator_copy(ev, x.who, x.why);
	int replaced = 0;
	int rc = store_exclusion_remove(w->store, &ev->prefix, &replaced);
	if (rc == STORE_OK)
		rc = store_exclusion_add(w->store, &x);
	if (rc == STORE_OK)
		rc = store_audit_add(w->store, now, ev->who, replaced ? "exclude-replace" : "exclude",
				     target, ev->why);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	w->rules_dirty = true;
	writer_rules_exclusion_remove(&w->rules, &ev->prefix);
	if ((rc = writer_rules_exclusion_add(&w->rules, &x)) != WRITER_OK)
		return rc;
	if (ev->until) {
		strcpy(until, " until=");
		time_format_iso8601(ev->until, until + 7);
	}
	log_moderator(w, replaced ? "exclude replaced" : "exclude", target, ev, until);
	/* Listed addresses inside leave the list; with a shorter end than before, those with
	 * evidence are looked at when it comes. */
	return writer_touch_listed_in(w, &ev->prefix);
}

static int apply_unexclude(struct writer *w, const struct writer_event *ev, int64_t now)
{
	char target[IP_PREFIX_STRLEN];
	ip_prefix_format(&ev->prefix, target, sizeof target);
	int removed = 0;
	int rc = store_exclusion_remove(w->store, &ev->prefix, &removed);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	if (removed == 0)
		return WRITER_ENOTFOUND; /* nothing written: the audit log says only what happened */
	rc = store_audit_add(w->store, now, ev->who, "unexclude", target, ev->why);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	w->rules_dirty = true;
	writer_rules_exclusion_remove(&w->rules, &ev->prefix);
	log_moderator(w, "unexclude", target, ev, "");
	/* The addresses inside with evidence may be listed now. */
	return writer_touch_evidence_in(w, &ev->prefix, now);
}

static int apply_reputation(struct writer *w, const struct writer_event *ev, int64_t now)
{
	struct store_reputation r = {.prefix = ev->prefix, .points = ev->points, .created_at = now};
	moderator_copy(ev, r.who, r.why);
	int rc = store_reputation_set(w->store, &r);
	if (rc == STORE_ENOTFOUND)
		return WRITER_OK; /* removing points the prefix did not have: no change */
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	w->rules_dirty = true;
	if ((rc = writer_rules_reputation_put(&w->rules, &r)) != WRITER_OK)
		return rc;
	char target[IP_PREFIX_STRLEN], points[48];
	ip_prefix_format(&ev->prefix, target, sizeof target);
	snprintf(points, sizeof points, " points=%.10g", ev->points);
	log_moderator(w, "reputation", target, ev, points);
	/* A higher threshold may delist, a lower one list: every address inside with evidence in
	 * the window is evaluated again, listed or not. */
	return writer_touch_evidence_in(w, &ev->prefix, now);
}

/* One row per kind of event that goes through a batch (rebuild and export do not: writer.c
 * runs them alone). Adding a kind is adding a row. */
static const struct {
	enum writer_event_type type;
	int (*check)(const struct writer_event *ev, int64_t now);
	int (*apply)(struct writer *w, const struct writer_event *ev, int64_t now);
} event_table[] = {
	{WRITER_EV_EVIDENCE, check_evidence, apply_evidence},
	{WRITER_EV_DELIST, check_moderator, apply_delist},
	{WRITER_EV_UNDELIST, check_moderator, apply_delist},
	{WRITER_EV_EXCLUDE, check_exclude, apply_exclude},
	{WRITER_EV_UNEXCLUDE, check_prefix_moderator, apply_unexclude},
	{WRITER_EV_REPUTATION, check_reputation, apply_reputation},
	{WRITER_EV_REBUILD, check_none, NULL},
	{WRITER_EV_EXPORT, check_none, NULL},
};

#define N_EVENT_KINDS (sizeof event_table / sizeof event_table[0])

int writer_event_check(const struct writer_event *ev, int64_t now)
{
	for (size_t i = 0; i < N_EVENT_KINDS; i++)
		if (event_table[i].type == ev->type)
			return event_table[i].check(ev, now);
	return WRITER_EINVAL;
}

int writer_event_apply(struct writer *w, const struct writer_event *ev, int64_t now)
{
	for (size_t i = 0; i < N_EVENT_KINDS; i++)
		if (event_table[i].type == ev->type && event_table[i].apply)
			return event_table[i].apply(w, ev, now);
	return WRITER_EINVAL;
}
