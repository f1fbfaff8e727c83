/* writer_apply.c - what each event does to the store and to the writer's rules: one row of a
 * table per kind, its check before it is queued and its writes in the batch's transaction,
 * with the log lines that say what changed. The writes of review requests, moderators and
 * sessions are writer_review.c's; a decision on a ticket acts on the address here, as the
 * commands do. */
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
	if (rc == STORE_EEXIST)
		return WRITER_EEXIST; /* a feed's hit of a known id: counted once, nothing written */
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	writer_count_evidence(w, (int)e.kind, (int)e.cls);
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
	/* A delisting made outside a ticket answers the address's open one (a decision on a
	 * ticket closes its own: ev->decision). */
	if (!undo && !ev->decision) {
		struct ip_prefix one = {.plen = 128};
		memcpy(one.addr, ev->ip, 16);
		if ((rc = writer_tickets_answered(w, ev, &one, STORE_TICKET_DELISTED, 0, now)) !=
		    WRITER_OK)
			return rc;
	}
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
	if (!ev->decision && (rc = writer_tickets_answered(w, ev, &ev->prefix, STORE_TICKET_EXCLUDED,
							    ev->until, now)) != WRITER_OK)
		return rc;
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

/* ---- a moderator's decision on a review request ------------------------------------------ */

/* What the decision does to the address: the delisting or exclusion of the commands, with
 * the ticket named in the audit log's why; a rejection is an audit row of its own. */
static int decision_act(struct writer *w, const struct writer_event *ev,
			const struct store_ticket *t, int64_t now)
{
	const struct writer_decision *d = ev->decision;
	struct writer_event act = *ev;
	snprintf(act.why, sizeof act.why, "ticket %s: %.900s", t->id, ev->why);
	memcpy(act.ip, t->ip, 16);
	char ip[IP_STRLEN];
	ip_format(t->ip, ip);
	if (d->status == STORE_TICKET_DELISTED) {
		act.type = WRITER_EV_DELIST;
		return apply_delist(w, &act, now);
	}
	if (d->status == STORE_TICKET_EXCLUDED) {
		act.type = WRITER_EV_EXCLUDE;
		memcpy(act.prefix.addr, t->ip, 16);
		act.prefix.plen = 128; /* that one address: the request was about it alone */
		act.until = d->until;
		return apply_exclude(w, &act, now);
	}
	int rc = store_audit_add(w->store, now, ev->who, "review-reject", ip, act.why);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	log_moderator(w, "review-reject", ip, &act, "");
	return WRITER_OK;
}

/* A moderator's decision on a review request: admitted by the ticket's state, acted on as the
 * commands act, then written on the ticket and the requests that joined it (writer_review.c),
 * all in the round's transaction. */
static int apply_ticket_decide(struct writer *w, const struct writer_event *ev, int64_t now)
{
	struct writer_decision *d = ev->decision;
	d->refusal = WRITER_REFUSED_NONE;
	struct store_ticket *t = malloc(sizeof *t);
	if (!t)
		return WRITER_ENOMEM;
	int rc = writer_decision_admit(w, d, now, t);
	if (rc == WRITER_OK) {
		memcpy(d->ip, t->ip, 16);
		rc = decision_act(w, ev, t, now);
	}
	if (rc == WRITER_OK)
		rc = writer_ticket_decide_all(w, ev, t, now);
	free(t);
	return rc;
}

/* ---- key holders and reports ------------------------------------------------------------ */

static bool holder_name_ok(const struct store_holder *h)
{
	return memchr(h->name, '\0', sizeof h->name) && h->name[0] &&
	       (h->kind == STORE_HOLDER_REPORTER || h->kind == STORE_HOLDER_FEED);
}

static int check_holder(const struct writer_event *ev, int64_t now)
{
	(void)now;
	if (!ev->holder || !holder_name_ok(ev->holder) || !moderator_ok(ev))
		return WRITER_EINVAL;
	if (ev->type == WRITER_EV_HOLDER_ADD && ev->holder->relays &&
	    memchr(ev->holder->relays, '\0', ev->holder->relays_len))
		return WRITER_EINVAL; /* stored as text: a NUL would cut it */
	return WRITER_OK;
}

/* "reporter-add", "feed-remove": what the audit log and the log call it. */
static void holder_what(const struct store_holder *h, bool add, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s-%s", store_holder_kind_name(h->kind), add ? "add" : "remove");
}

static int apply_holder(struct writer *w, const struct writer_event *ev, int64_t now)
{
	bool add = ev->type == WRITER_EV_HOLDER_ADD;
	char what[32];
	holder_what(ev->holder, add, what, sizeof what);
	int rc;
	if (add) {
		struct store_holder h = *ev->holder;
		h.id = 0;
		h.created_at = now;
		h.removed_at = 0;
		snprintf(h.created_by, sizeof h.created_by, "%s", ev->who);
		rc = store_holder_add(w->store, &h);
	} else {
		rc = store_holder_remove(w->store, ev->holder->name, ev->holder->kind, now);
	}
	if (rc == STORE_EEXIST)
		return WRITER_EEXIST; /* the name is taken: nothing written */
	if (rc == STORE_ENOTFOUND)
		return WRITER_ENOTFOUND; /* nobody of that name and kind: nothing written */
	if (rc == STORE_OK)
		rc = store_audit_add(w->store, now, ev->who, what, ev->holder->name, ev->why);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	char name[TEXT_ESCAPED_MAX(STORE_NAME_MAX)];
	log_moderator(w, what, text_escape(ev->holder->name, name, sizeof name), ev, "");
	return WRITER_OK;
}

static int check_report(const struct writer_event *ev, int64_t now)
{
	(void)now;
	const struct writer_report *r = ev->report;
	if (!r)
		return WRITER_EINVAL;
	const struct store_report *row = &r->row;
	size_t idn = strnlen(row->id, sizeof row->id);
	if (row->holder <= 0 || !row->analysis || idn != STORE_REPORT_ID_LEN ||
	    strspn(row->id, "0123456789abcdef") != idn || (unsigned)row->cls > STORE_CLASS_UNKNOWN ||
	    !text_terminated(row->refusal, sizeof row->refusal))
		return WRITER_EINVAL;
	/* A source, or the word that says why there is none: never both, never neither. */
	if (row->has_source == (row->refusal[0] != '\0'))
		return WRITER_EINVAL;
	if (row->has_source && ip_never_sends(row->source))
		return WRITER_EINVAL;
	return WRITER_OK;
}

/* The hex form of a digest, as the evidence table keeps digests. */
static void digest_hex(const uint8_t d[STORE_DIGEST_LEN], char out[2 * STORE_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < STORE_DIGEST_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * STORE_DIGEST_LEN] = '\0';
}

/* Whether the report may be stored: its reporter live, not the same message again, below the
 * hourly limit. Reads only. */
static int report_admit(struct writer *w, struct writer_report *r, int64_t now,
			struct store_holder *h)
{
	int rc = store_holder_by_id(w->store, r->row.holder, h);
	if (rc == STORE_ENOTFOUND || (rc == STORE_OK && h->removed_at != 0))
		return WRITER_ENOTFOUND; /* removed since its key was checked */
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	if (h->kind != STORE_HOLDER_REPORTER)
		return WRITER_EINVAL;
	struct store_report earlier;
	/* By name: the same message under the reporter's next key is the same report. */
	rc = store_report_by_digest(w->store, h->name, r->row.digest, false, &earlier);
	if (rc == STORE_OK) {
		memcpy(r->earlier_id, earlier.id, sizeof r->earlier_id);
		return WRITER_EEXIST;
	}
	if (rc != STORE_ENOTFOUND)
		return writer_store_rc(rc);
	if (r->limit_per_hour == 0)
		return WRITER_OK;
	uint64_t n = 0;
	rc = store_report_hour_get(w->store, r->row.holder, now / 3600, &n);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	return n >= r->limit_per_hour ? WRITER_ELIMIT : WRITER_OK;
}

static int apply_report(struct writer *w, const struct writer_event *ev, int64_t now)
{
	struct writer_report *r = ev->report;
	struct store_holder h;
	int rc = report_admit(w, r, now, &h);
	if (rc != WRITER_OK)
		return rc;
	struct store_report row = r->row;
	row.received_at = now;
	row.evidence_id = 0;
	if (row.has_source) {
		struct store_evidence e = {.kind = STORE_KIND_REPORT, .cls = row.cls,
					   .received_at = now, .added_at = now};
		memcpy(e.ip, row.source, 16);
		snprintf(e.source, sizeof e.source, WRITER_REPORTER_SOURCE "%s", h.name);
		digest_hex(row.digest, e.digest);
		if ((rc = store_evidence_add(w->store, &e)) != STORE_OK)
			return writer_store_rc(rc);
		writer_count_evidence(w, (int)e.kind, (int)e.cls);
		row.evidence_id = e.id;
	}
	rc = store_report_add(w->store, &row);
	if (rc == STORE_EEXIST) {
		/* Checked above in this transaction: only an id drawn twice (2^-128) gets here,
		 * after the evidence was written, so the round must not commit. */
		log_err("writer", "report id=%s stored already", row.id);
		return WRITER_ESTORE;
	}
	if (rc == STORE_OK)
		rc = store_report_hour_add(w->store, row.holder, now / 3600);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	r->received_at = now;
	r->evidence_id = row.evidence_id;
	char name[TEXT_ESCAPED_MAX(STORE_NAME_MAX)], src[IP_STRLEN];
	if (row.has_source)
		ip_format(row.source, src);
	writer_log_add(w, "report id=%s reporter=\"%s\" %s=%s class=%s", row.id,
		       text_escape(h.name, name, sizeof name),
		       row.has_source ? "source" : "refused", row.has_source ? src : row.refusal,
		       store_class_name(row.cls));
	return row.has_source ? writer_touch(w, row.source) : WRITER_OK;
}

/* One row per kind of event that goes through a batch (rebuild and export do not:
 * writer_queue.c runs them alone). Adding a kind is adding a row. */
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
	{WRITER_EV_HOLDER_ADD, check_holder, apply_holder},
	{WRITER_EV_HOLDER_REMOVE, check_holder, apply_holder},
	{WRITER_EV_REPORT, check_report, apply_report},
	{WRITER_EV_TICKET_ADD, writer_check_ticket_add, writer_apply_ticket_add},
	{WRITER_EV_TICKET_DECIDE, writer_check_ticket_decide, apply_ticket_decide},
	{WRITER_EV_MODERATOR_ADD, writer_check_moderator, writer_apply_moderator},
	{WRITER_EV_MODERATOR_REMOVE, writer_check_moderator, writer_apply_moderator},
	{WRITER_EV_SESSION_ADD, writer_check_session, writer_apply_session},
	{WRITER_EV_SESSION_END, writer_check_session, writer_apply_session},
	{WRITER_EV_REBUILD, check_none, NULL},
	{WRITER_EV_EXPORT, check_none, NULL},
};

#define N_EVENT_KINDS (sizeof event_table / sizeof event_table[0])

/* Evidence naming a special-purpose address, while the configuration refuses those (it
 * would never list them): a trap behind a relay on its own host, a feed's or an operator's
 * mistake. A report's source is judged by the analysis already (never one of those). */
static int check_special(const struct writer_config *cfg, const struct writer_event *ev)
{
	if (!cfg->special_excluded)
		return WRITER_OK;
	if (ev->type == WRITER_EV_EVIDENCE && ip_special_find(ev->evidence.ip, NULL))
		return WRITER_ESPECIAL;
	if (ev->type == WRITER_EV_REPORT && ev->report && ev->report->row.has_source &&
	    ip_special_find(ev->report->row.source, NULL))
		return WRITER_ESPECIAL;
	return WRITER_OK;
}

int writer_event_check(const struct writer_config *cfg, const struct writer_event *ev,
		       int64_t now)
{
	for (size_t i = 0; i < N_EVENT_KINDS; i++) {
		if (event_table[i].type != ev->type)
			continue;
		int rc = event_table[i].check(ev, now);
		return rc == WRITER_OK ? check_special(cfg, ev) : rc;
	}
	return WRITER_EINVAL;
}

int writer_event_apply(struct writer *w, const struct writer_event *ev, int64_t now)
{
	for (size_t i = 0; i < N_EVENT_KINDS; i++)
		if (event_table[i].type == ev->type && event_table[i].apply)
			return event_table[i].apply(w, ev, now);
	return WRITER_EINVAL;
}
