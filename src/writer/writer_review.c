/* writer_review.c - the writes of review requests and moderation: a ticket filed within its
 * limits, a moderator's decision admitted and written on the ticket and the requests that
 * joined it (what it does to the address is writer_apply.c's, as the commands do it), tickets
 * answered by a delisting or exclusion made outside them, moderators and their sessions.
 * Every refusal is found before anything is written, so it fails its event alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writer_internal.h"

#define DAY 86400

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool name_ok(const char *name)
{
	return terminated(name, STORE_NAME_MAX) && name[0];
}

static bool who_why_ok(const struct writer_event *ev)
{
	return terminated(ev->who, sizeof ev->who) && terminated(ev->why, sizeof ev->why);
}

static void refuse(enum writer_refusal *out, enum writer_refusal why)
{
	if (out)
		*out = why;
}

/* ---- a review request ------------------------------------------------------------------ */

int writer_check_ticket_add(const struct writer_event *ev, int64_t now)
{
	(void)now;
	const struct writer_ticket *t = ev->ticket;
	if (!t || !t->row)
		return WRITER_EINVAL;
	const struct store_ticket *row = t->row;
	size_t idn = strnlen(row->id, sizeof row->id);
	if (idn != STORE_TICKET_ID_LEN || strspn(row->id, "0123456789abcdef") != idn)
		return WRITER_EINVAL;
	if (!terminated(row->email, sizeof row->email) || !row->email[0] ||
	    !terminated(row->fixed, sizeof row->fixed) || !row->fixed[0] ||
	    !terminated(row->comment, sizeof row->comment))
		return WRITER_EINVAL;
	return ip_never_sends(row->ip) ? WRITER_EINVAL : WRITER_OK;
}

/* Whether the request may be stored, and where: the address listed, the client below its
 * limit of the last 24 hours; a request about an address with an open ticket joins it
 * (row->joined), any other opens one if fewer than per_ip_day tickets about the address were
 * decided in that time. Reads only. */
static int ticket_admit(struct writer *w, struct writer_ticket *t, int64_t now)
{
	struct store_listing l;
	int rc = store_listing_get(w->store, t->row->ip, &l);
	if (rc == STORE_ENOTFOUND) {
		t->refusal = WRITER_REFUSED_NOT_LISTED;
		return WRITER_ENOTFOUND;
	}
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	uint64_t n = 0;
	if (t->per_client_day) {
		if ((rc = store_ticket_count_client(w->store, t->row->client, now - DAY, &n)) != STORE_OK)
			return writer_store_rc(rc);
		if (n >= t->per_client_day) {
			t->refusal = WRITER_REFUSED_CLIENT_LIMIT;
			return WRITER_ELIMIT;
		}
	}
	rc = store_ticket_open_head(w->store, t->row->ip, t->row->joined);
	if (rc == STORE_OK)
		return WRITER_OK; /* joins the open ticket: no ticket more to decide */
	t->row->joined[0] = '\0';
	if (rc != STORE_ENOTFOUND)
		return writer_store_rc(rc);
	/* Counting decided tickets, not requests: requests that anyone may send about any listed
	 * address join its one open ticket and use up nothing of its owner's. */
	if (t->per_ip_day) {
		if ((rc = store_ticket_count_decided(w->store, t->row->ip, now - DAY, &n)) != STORE_OK)
			return writer_store_rc(rc);
		if (n >= t->per_ip_day) {
			t->refusal = WRITER_REFUSED_IP_LIMIT;
			return WRITER_ELIMIT;
		}
	}
	return WRITER_OK;
}

int writer_apply_ticket_add(struct writer *w, const struct writer_event *ev, int64_t now)
{
	struct writer_ticket *t = ev->ticket;
	t->refusal = WRITER_REFUSED_NONE;
	int rc = ticket_admit(w, t, now);
	if (rc != WRITER_OK)
		return rc;
	struct store_ticket *row = t->row;
	row->created_at = now;
	row->status = STORE_TICKET_OPEN;
	row->moderator[0] = row->reason[0] = '\0';
	row->decided_at = row->until = 0;
	row->by_action = false;
	rc = store_ticket_add(w->store, row);
	if (rc == STORE_EEXIST)
		return WRITER_EEXIST; /* an id drawn twice (2^-128), before anything was written */
	struct store_ticket_event filed = {now, "filed", "requester", ""};
	if (rc == STORE_OK)
		rc = store_ticket_event_add(w->store, row->id, &filed);
	if (rc == STORE_OK && row->joined[0]) {
		/* The request's own history says it joined; the ticket's that one more came.
		 * Neither names the other: each is its own requester's secret link. */
		struct store_ticket_event joined = {now, "joined", "requester", ""};
		struct store_ticket_event added = {now, "added", "requester", ""};
		rc = store_ticket_event_add(w->store, row->id, &joined);
		if (rc == STORE_OK)
			rc = store_ticket_event_add(w->store, row->joined, &added);
	}
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	t->created_at = now;
	char ip[IP_STRLEN];
	ip_format(row->ip, ip);
	if (row->joined[0])
		writer_log_add(w, "review joined ticket=%.8s... open=%.8s... ip=%s", row->id,
			       row->joined, ip);
	else
		writer_log_add(w, "review filed ticket=%.8s... ip=%s", row->id, ip);
	return WRITER_OK;
}

/* ---- a moderator's decision ---------------------------------------------------------------- */

int writer_check_ticket_decide(const struct writer_event *ev, int64_t now)
{
	const struct writer_decision *d = ev->decision;
	if (!d || !who_why_ok(ev) || strnlen(d->ticket, sizeof d->ticket) != STORE_TICKET_ID_LEN)
		return WRITER_EINVAL;
	switch (d->status) {
	case STORE_TICKET_DELISTED:
	case STORE_TICKET_REJECTED:
		return WRITER_OK;
	case STORE_TICKET_EXCLUDED:
		return d->until > now ? WRITER_OK : WRITER_EINVAL;
	default:
		return WRITER_EINVAL;
	}
}

/* How a closed ticket was closed, for the refusal's words. */
static void decision_was(struct writer_decision *d, const struct store_ticket *t)
{
	d->was = t->status;
	d->was_by_action = t->by_action;
	d->was_at = t->decided_at;
	snprintf(d->was_who, sizeof d->was_who, "%s", t->moderator);
}

int writer_decision_admit(struct writer *w, struct writer_decision *d, int64_t now,
			  struct store_ticket *t)
{
	if (d->has_session) {
		struct store_session s;
		int rc = store_session_get(w->store, d->session_hash, now, &s);
		if (rc == STORE_ENOTFOUND) {
			d->refusal = WRITER_REFUSED_SESSION;
			return WRITER_ENOTFOUND;
		}
		if (rc != STORE_OK)
			return writer_store_rc(rc);
	}
	int rc = store_ticket_get(w->store, d->ticket, t);
	if (rc == STORE_OK && t->joined[0] && t->status == STORE_TICKET_OPEN) {
		snprintf(d->ticket, sizeof d->ticket, "%s", t->joined);
		rc = store_ticket_get(w->store, d->ticket, t);
	}
	if (rc == STORE_ENOTFOUND || rc == STORE_EINVAL) {
		d->refusal = WRITER_REFUSED_NO_TICKET;
		return WRITER_ENOTFOUND;
	}
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	if (t->status != STORE_TICKET_OPEN) {
		d->refusal = WRITER_REFUSED_DECIDED;
		decision_was(d, t);
		return WRITER_EEXIST;
	}
	return WRITER_OK;
}

static const char *decision_word(enum store_ticket_status st)
{
	return st == STORE_TICKET_DELISTED ? "delist"
	       : st == STORE_TICKET_EXCLUDED ? "exclude" : "reject";
}

/* The ids of the requests that joined a ticket (each decided with it). */
struct joined_ids {
	char (*id)[STORE_TICKET_ID_LEN + 1];
	size_t n, cap;
	bool oom;
};

static int joined_id(const struct store_ticket *t, void *arg)
{
	struct joined_ids *j = arg;
	if (array_grow((void **)&j->id, &j->cap, j->n + 1, sizeof *j->id) != BASE_OK) {
		j->oom = true;
		return 1;
	}
	memcpy(j->id[j->n++], t->id, STORE_TICKET_ID_LEN + 1);
	return 0;
}

/* Writes the decision (done: status, who, when, ...) over the open ticket done->id and adds
 * its event e. Admitted in this transaction: a ticket not open now is a store failure, and
 * what the decision already wrote must not commit without it. */
static int ticket_close(struct writer *w, struct store_ticket *done,
			const struct store_ticket_event *e)
{
	int rc = store_ticket_decide(w->store, done);
	if (rc == STORE_OK)
		rc = store_ticket_event_add(w->store, done->id, e);
	return rc == STORE_OK ? WRITER_OK : rc == STORE_ENOTFOUND ? WRITER_ESTORE
								  : writer_store_rc(rc);
}

int writer_ticket_decide_all(struct writer *w, const struct writer_event *ev,
			     struct store_ticket *t, int64_t now)
{
	struct writer_decision *d = ev->decision;
	struct joined_ids j = {0};
	int rc = store_ticket_joined_foreach(w->store, t->id, joined_id, &j);
	if (rc != STORE_OK || j.oom) {
		free(j.id);
		return j.oom ? WRITER_ENOMEM : writer_store_rc(rc);
	}
	struct store_ticket *done = t; /* the decision, written over the ticket read */
	done->status = d->status;
	done->decided_at = now;
	done->until = d->status == STORE_TICKET_EXCLUDED ? d->until : 0;
	done->by_action = false;
	snprintf(done->moderator, sizeof done->moderator, "%s", ev->who);
	snprintf(done->reason, sizeof done->reason, "%s", ev->why);
	struct store_ticket_event e = {now, decision_word(d->status), ev->who, ev->why};
	rc = ticket_close(w, done, &e);
	for (size_t i = 0; rc == WRITER_OK && i < j.n; i++) {
		memcpy(done->id, j.id[i], sizeof done->id);
		rc = ticket_close(w, done, &e);
	}
	d->requests = (uint32_t)j.n + 1;
	free(j.id);
	return rc;
}

/* ---- tickets answered by an action outside them ------------------------------------------ */

struct open_rows {
	const struct ip_prefix *p;
	char (*id)[STORE_TICKET_ID_LEN + 1];
	uint8_t (*ip)[16];
	size_t n, cap_id, cap_ip;
	bool oom;
};

static int open_row(const char *id, const uint8_t ip[16], void *arg)
{
	struct open_rows *o = arg;
	if (!ip_prefix_covers(o->p, ip))
		return 0;
	if (array_grow((void **)&o->id, &o->cap_id, o->n + 1, sizeof *o->id) != BASE_OK ||
	    array_grow((void **)&o->ip, &o->cap_ip, o->n + 1, sizeof *o->ip) != BASE_OK) {
		o->oom = true;
		return 1;
	}
	snprintf(o->id[o->n], sizeof o->id[0], "%s", id);
	memcpy(o->ip[o->n++], ip, 16);
	return 0;
}

int writer_tickets_answered(struct writer *w, const struct writer_event *ev,
			    const struct ip_prefix *p, enum store_ticket_status st, int64_t until,
			    int64_t now)
{
	/* The open tickets are few (one an address at most, and the requests that joined it):
	 * read them all, keep those p covers, then write. */
	struct open_rows o = {.p = p};
	int rc = store_ticket_open_rows(w->store, open_row, &o);
	struct store_ticket *done = o.n ? calloc(1, sizeof *done) : NULL;
	if (rc != STORE_OK || o.oom || (o.n && !done)) {
		rc = rc != STORE_OK ? writer_store_rc(rc) : WRITER_ENOMEM;
		goto done;
	}
	const char *what = st == STORE_TICKET_DELISTED ? "operator-delist" : "operator-exclude";
	struct store_ticket_event e = {now, what, ev->who, ev->why};
	for (size_t i = 0; i < o.n; i++) {
		snprintf(done->id, sizeof done->id, "%s", o.id[i]);
		done->status = st;
		done->decided_at = now;
		done->until = st == STORE_TICKET_EXCLUDED ? until : 0;
		done->by_action = true;
		snprintf(done->moderator, sizeof done->moderator, "%s", ev->who);
		done->reason[0] = '\0'; /* the operator's why is for the audit log, not the requester */
		if ((rc = ticket_close(w, done, &e)) != WRITER_OK)
			goto done;
		char ip[IP_STRLEN], why[96];
		ip_format(o.ip[i], ip);
		snprintf(why, sizeof why, "ticket %s: answered by %s", o.id[i],
			 st == STORE_TICKET_DELISTED ? "the delisting" : "the exclusion");
		int src = store_audit_add(w->store, now, ev->who, "review-close", ip, why);
		if (src != STORE_OK) {
			rc = writer_store_rc(src);
			goto done;
		}
		writer_log_add(w, "review closed ticket=%.8s... ip=%s by=%s", o.id[i], ip, what);
	}
	rc = WRITER_OK;
done:
	free(done);
	free(o.id);
	free(o.ip);
	return rc;
}

/* ---- moderators and their sessions ----------------------------------------------------- */

int writer_check_moderator(const struct writer_event *ev, int64_t now)
{
	(void)now;
	const struct store_moderator *m = ev->moderator;
	if (!m || !name_ok(m->name) || !who_why_ok(ev))
		return WRITER_EINVAL;
	if (ev->type == WRITER_EV_MODERATOR_ADD &&
	    (!terminated(m->pw_hash, sizeof m->pw_hash) || strncmp(m->pw_hash, "$argon2id$", 10) != 0))
		return WRITER_EINVAL; /* never a password in the clear, never another scheme */
	return WRITER_OK;
}

int writer_apply_moderator(struct writer *w, const struct writer_event *ev, int64_t now)
{
	bool add = ev->type == WRITER_EV_MODERATOR_ADD;
	const char *what = add ? "moderator-add" : "moderator-remove";
	int rc;
	refuse(ev->refusal, WRITER_REFUSED_NONE);
	if (add) {
		struct store_moderator m = *ev->moderator;
		m.id = 0;
		m.created_at = now;
		m.removed_at = 0;
		snprintf(m.created_by, sizeof m.created_by, "%s", ev->who);
		rc = store_moderator_add(w->store, &m);
	} else {
		rc = store_moderator_remove(w->store, ev->moderator->name, now);
	}
	if (rc == STORE_EEXIST) {
		refuse(ev->refusal, WRITER_REFUSED_NAME_TAKEN);
		return WRITER_EEXIST;
	}
	if (rc == STORE_ENOTFOUND) {
		refuse(ev->refusal, WRITER_REFUSED_NO_MODERATOR);
		return WRITER_ENOTFOUND;
	}
	if (rc == STORE_OK)
		rc = store_audit_add(w->store, now, ev->who, what, ev->moderator->name, ev->why);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	char who[TEXT_ESCAPED_MAX(64)], why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	writer_log_add(w, "%s target=%s who=\"%s\" why=\"%s\"", what, ev->moderator->name,
		       text_escape(ev->who, who, sizeof who), text_escape(ev->why, why, sizeof why));
	return WRITER_OK;
}

int writer_check_session(const struct writer_event *ev, int64_t now)
{
	const struct store_session *s = ev->session;
	if (!s)
		return WRITER_EINVAL;
	if (ev->type == WRITER_EV_SESSION_ADD && (!name_ok(s->name) || s->expires_at <= now))
		return WRITER_EINVAL;
	return WRITER_OK;
}

int writer_apply_session(struct writer *w, const struct writer_event *ev, int64_t now)
{
	struct store_session *s = ev->session;
	refuse(ev->refusal, WRITER_REFUSED_NONE);
	if (ev->type == WRITER_EV_SESSION_END) {
		int rc = store_session_end(w->store, s->token_hash, now);
		if (rc == STORE_ENOTFOUND) {
			refuse(ev->refusal, WRITER_REFUSED_SESSION);
			return WRITER_ENOTFOUND;
		}
		if (rc != STORE_OK)
			return writer_store_rc(rc);
		writer_log_add(w, "logout moderator=%s", s->name[0] ? s->name : "-");
		return WRITER_OK;
	}
	struct store_moderator m;
	int rc = store_moderator_get(w->store, s->name, &m);
	if (rc == STORE_ENOTFOUND) {
		refuse(ev->refusal, WRITER_REFUSED_NO_MODERATOR);
		return WRITER_ENOTFOUND;
	}
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	s->moderator = m.id;
	s->created_at = now;
	rc = store_session_add(w->store, s);
	if (rc == STORE_EEXIST)
		return WRITER_EEXIST; /* a token drawn twice (2^-256), before anything was written */
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	writer_log_add(w, "login moderator=%s", s->name);
	return WRITER_OK;
}
