/* writer_review.c - the writes of review requests and moderation: a ticket filed within its
 * limits, a moderator's decision on it (through the same delisting and exclusion as the
 * commands, in the same transaction as the ticket's change), moderators and their sessions.
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

/* Whether the request may be stored: the address listed, the client and the address below
 * their limits of the last 24 hours. Reads only. */
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
	if (t->per_ip_day) {
		if ((rc = store_ticket_count_ip(w->store, t->row->ip, now - DAY, &n)) != STORE_OK)
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
	rc = store_ticket_add(w->store, row);
	if (rc == STORE_EEXIST)
		return WRITER_EEXIST; /* an id drawn twice (2^-128), before anything was written */
	struct store_ticket_event filed = {now, "filed", "requester", ""};
	if (rc == STORE_OK)
		rc = store_ticket_event_add(w->store, row->id, &filed);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	t->created_at = now;
	char ip[IP_STRLEN];
	ip_format(row->ip, ip);
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

/* Whether the decision may be made: the session (if any) live, the ticket there and open. */
static int decision_admit(struct writer *w, struct writer_decision *d, int64_t now,
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
	if (rc == STORE_ENOTFOUND || rc == STORE_EINVAL) {
		d->refusal = WRITER_REFUSED_NO_TICKET;
		return WRITER_ENOTFOUND;
	}
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	if (t->status != STORE_TICKET_OPEN) {
		d->refusal = WRITER_REFUSED_DECIDED;
		return WRITER_EEXIST;
	}
	return WRITER_OK;
}

static const char *decision_word(enum store_ticket_status st)
{
	return st == STORE_TICKET_DELISTED ? "delist"
	       : st == STORE_TICKET_EXCLUDED ? "exclude" : "reject";
}

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
		return writer_apply_delist(w, &act, now);
	}
	if (d->status == STORE_TICKET_EXCLUDED) {
		act.type = WRITER_EV_EXCLUDE;
		memcpy(act.prefix.addr, t->ip, 16);
		act.prefix.plen = 128; /* that one address: the request was about it alone */
		act.until = d->until;
		return writer_apply_exclude(w, &act, now);
	}
	int rc = store_audit_add(w->store, now, ev->who, "review-reject", ip, act.why);
	if (rc != STORE_OK)
		return writer_store_rc(rc);
	char who[TEXT_ESCAPED_MAX(64)], why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	writer_log_add(w, "review-reject target=%s who=\"%s\" why=\"%s\"", ip,
		       text_escape(ev->who, who, sizeof who), text_escape(act.why, why, sizeof why));
	return WRITER_OK;
}

int writer_apply_ticket_decide(struct writer *w, const struct writer_event *ev, int64_t now)
{
	struct writer_decision *d = ev->decision;
	d->refusal = WRITER_REFUSED_NONE;
	struct store_ticket *t = malloc(sizeof *t);
	if (!t)
		return WRITER_ENOMEM;
	int rc = decision_admit(w, d, now, t);
	if (rc == WRITER_OK) {
		memcpy(d->ip, t->ip, 16);
		rc = decision_act(w, ev, t, now);
	}
	if (rc == WRITER_OK) {
		struct store_ticket *done = t; /* the decision, written over the ticket read */
		done->status = d->status;
		done->decided_at = now;
		done->until = d->status == STORE_TICKET_EXCLUDED ? d->until : 0;
		snprintf(done->moderator, sizeof done->moderator, "%s", ev->who);
		snprintf(done->reason, sizeof done->reason, "%s", ev->why);
		struct store_ticket_event e = {now, decision_word(d->status), ev->who, ev->why};
		int src = store_ticket_decide(w->store, done);
		if (src == STORE_OK)
			src = store_ticket_event_add(w->store, done->id, &e);
		/* Admitted above in this transaction: a ticket gone now is a store failure, and
		 * the delisting already written must not commit without it. */
		rc = src == STORE_OK ? WRITER_OK : src == STORE_ENOTFOUND ? WRITER_ESTORE
									 : writer_store_rc(src);
	}
	free(t);
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
