/* store_review.c - review requests (tickets and their history), the moderators who decide
 * them and the moderators' sessions (schema version 10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* ---- moderators ------------------------------------------------------------------------ */

static bool name_ok(const char *name)
{
	return name && memchr(name, '\0', STORE_NAME_MAX) && name[0];
}

int store_moderator_add(struct store *s, struct store_moderator *m)
{
	if (!s || !m || !name_ok(m->name) || !memchr(m->pw_hash, '\0', sizeof m->pw_hash) ||
	    !m->pw_hash[0])
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_MO_ADD);
	bind_text(st, 1, m->name, sizeof m->name);
	bind_text(st, 2, m->pw_hash, sizeof m->pw_hash);
	sqlite3_bind_int64(st, 3, m->created_at);
	bind_text(st, 4, m->created_by, sizeof m->created_by);
	int rc = step_insert(s, st, "moderator add");
	if (rc != STORE_OK)
		return rc;
	m->id = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

static void column_moderator(sqlite3_stmt *st, struct store_moderator *m)
{
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(st, 0);
	column_text(st, 1, m->name, sizeof m->name);
	column_text(st, 2, m->pw_hash, sizeof m->pw_hash);
	m->created_at = sqlite3_column_int64(st, 3);
	column_text(st, 4, m->created_by, sizeof m->created_by);
	m->removed_at = sqlite3_column_int64(st, 5);
}

int store_moderator_get(struct store *s, const char *name, struct store_moderator *out)
{
	if (!s || !name_ok(name) || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_MO_GET);
	bind_text(st, 1, name, STORE_NAME_MAX);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		column_moderator(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_ENOTFOUND : store_fail(s, "moderator get", rc);
}

int store_moderator_remove(struct store *s, const char *name, int64_t at)
{
	if (!s || !name_ok(name))
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_MO_REMOVE);
	bind_text(st, 1, name, STORE_NAME_MAX);
	sqlite3_bind_int64(st, 2, at);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st); /* RETURNING: the statement ends after its row */
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, "moderator remove", rc);
	if (id == 0)
		return STORE_ENOTFOUND;
	/* Its sessions end with it, in the same transaction: a cookie of a removed moderator
	 * opens nothing, whichever check looks first. */
	st = stmt(s, ST_SE_END_ALL);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, at);
	return step_done(s, st, "moderator sessions end");
}

int store_moderator_foreach(struct store *s,
			    int (*fn)(const struct store_moderator *m, void *arg), void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_MO_ALL);
	struct store_moderator m;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		column_moderator(st, &m);
		if (fn(&m, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "moderator foreach", rc);
	return STORE_OK;
}

/* ---- sessions -------------------------------------------------------------------------- */

int store_session_add(struct store *s, const struct store_session *ss)
{
	if (!s || !ss || ss->moderator <= 0)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_SE_ADD);
	sqlite3_bind_blob(st, 1, ss->token_hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ss->moderator);
	sqlite3_bind_int64(st, 3, ss->created_at);
	sqlite3_bind_int64(st, 4, ss->expires_at);
	return step_insert(s, st, "session add");
}

int store_session_get(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN], int64_t now,
		      struct store_session *out)
{
	if (!s || !hash || !out)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_SE_GET);
	sqlite3_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		memcpy(out->token_hash, hash, STORE_TOKEN_HASH_LEN);
		out->moderator = sqlite3_column_int64(st, 0);
		column_text(st, 1, out->name, sizeof out->name);
		out->created_at = sqlite3_column_int64(st, 2);
		out->expires_at = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_ENOTFOUND : store_fail(s, "session get", rc);
}

int store_session_end(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN], int64_t at)
{
	if (!s || !hash)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_SE_END);
	sqlite3_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, at);
	int rc = step_done(s, st, "session end");
	if (rc != STORE_OK)
		return rc;
	return sqlite3_changes(s->db) ? STORE_OK : STORE_ENOTFOUND;
}

/* ---- tickets --------------------------------------------------------------------------- */

static const char *const ticket_status_names[] = {
	[STORE_TICKET_OPEN] = "open", [STORE_TICKET_DELISTED] = "delisted",
	[STORE_TICKET_EXCLUDED] = "excluded", [STORE_TICKET_REJECTED] = "rejected"};

const char *store_ticket_status_name(enum store_ticket_status st)
{
	if ((unsigned)st < sizeof ticket_status_names / sizeof ticket_status_names[0])
		return ticket_status_names[st];
	return "?";
}

static bool ticket_id_ok(const char *id)
{
	return id && strnlen(id, STORE_TICKET_ID_LEN + 1) == STORE_TICKET_ID_LEN;
}

int store_ticket_add(struct store *s, const struct store_ticket *t)
{
	if (!s || !t || !ticket_id_ok(t->id))
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TI_ADD);
	bind_text(st, 1, t->id, sizeof t->id);
	bind_ip(st, 2, t->ip);
	bind_text(st, 3, t->email, sizeof t->email);
	bind_text(st, 4, t->fixed, sizeof t->fixed);
	bind_text(st, 5, t->comment, sizeof t->comment);
	sqlite3_bind_int64(st, 6, t->created_at);
	bind_ip(st, 7, t->client);
	bind_text(st, 8, t->joined, sizeof t->joined);
	return step_insert(s, st, "ticket add");
}

static void column_ticket(sqlite3_stmt *st, struct store_ticket *t)
{
	/* No memset of the whole: the texts are 16 kB, and every field is written below. */
	column_text(st, 0, t->id, sizeof t->id);
	column_ip(st, 1, t->ip);
	column_text(st, 2, t->email, sizeof t->email);
	column_text(st, 3, t->fixed, sizeof t->fixed);
	column_text(st, 4, t->comment, sizeof t->comment);
	t->created_at = sqlite3_column_int64(st, 5);
	column_ip(st, 6, t->client);
	t->status = (enum store_ticket_status)sqlite3_column_int(st, 7);
	column_text(st, 8, t->moderator, sizeof t->moderator);
	t->decided_at = sqlite3_column_int64(st, 9);
	t->until = sqlite3_column_int64(st, 10);
	column_text(st, 11, t->reason, sizeof t->reason);
	column_text(st, 12, t->joined, sizeof t->joined);
	t->by_action = sqlite3_column_int(st, 13) != 0;
	t->joined_n = (uint32_t)sqlite3_column_int64(st, 14);
}

int store_ticket_get(struct store *s, const char *id, struct store_ticket *out)
{
	if (!s || !out || !ticket_id_ok(id))
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TI_GET);
	bind_text(st, 1, id, STORE_TICKET_ID_LEN + 1);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		column_ticket(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_ENOTFOUND : store_fail(s, "ticket get", rc);
}

int store_ticket_decide(struct store *s, const struct store_ticket *d)
{
	if (!s || !d || !ticket_id_ok(d->id) || d->status == STORE_TICKET_OPEN ||
	    (unsigned)d->status > STORE_TICKET_REJECTED)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TI_DECIDE);
	bind_text(st, 1, d->id, sizeof d->id);
	sqlite3_bind_int(st, 2, (int)d->status);
	bind_text(st, 3, d->moderator, sizeof d->moderator);
	sqlite3_bind_int64(st, 4, d->decided_at);
	sqlite3_bind_int64(st, 5, d->until);
	bind_text(st, 6, d->reason, sizeof d->reason);
	sqlite3_bind_int(st, 7, d->by_action ? 1 : 0);
	int rc = step_done(s, st, "ticket decide");
	if (rc != STORE_OK)
		return rc;
	return sqlite3_changes(s->db) ? STORE_OK : STORE_ENOTFOUND;
}

/* Calls fn for each row st yields (bound by the caller). */
static int ticket_rows(struct store *s, sqlite3_stmt *st,
		       int (*fn)(const struct store_ticket *t, void *arg), void *arg)
{
	struct store_ticket *t = malloc(sizeof *t);
	if (!t)
		return STORE_ENOMEM;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		column_ticket(st, t);
		if (fn(t, arg))
			break;
	}
	sqlite3_reset(st);
	free(t);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "ticket foreach", rc);
	return STORE_OK;
}

int store_ticket_foreach(struct store *s, bool open_only,
			 int (*fn)(const struct store_ticket *t, void *arg), void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	return ticket_rows(s, stmt(s, open_only ? ST_TI_OPEN : ST_TI_ALL), fn, arg);
}

int store_ticket_joined_foreach(struct store *s, const char *head,
				int (*fn)(const struct store_ticket *t, void *arg), void *arg)
{
	if (!s || !fn || !ticket_id_ok(head))
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TI_JOINED);
	bind_text(st, 1, head, STORE_TICKET_ID_LEN + 1);
	return ticket_rows(s, st, fn, arg);
}

int store_ticket_open_head(struct store *s, const uint8_t ip[16],
			   char id[STORE_TICKET_ID_LEN + 1])
{
	if (!s || !ip || !id)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TI_HEAD);
	bind_ip(st, 1, ip);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		column_text(st, 0, id, STORE_TICKET_ID_LEN + 1);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_ENOTFOUND : store_fail(s, "ticket head", rc);
}

int store_ticket_open_rows(struct store *s,
			   int (*fn)(const char *id, const uint8_t ip[16], void *arg), void *arg)
{
	if (!s || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TI_OPEN_ROWS);
	int rc;
	char id[STORE_TICKET_ID_LEN + 1];
	uint8_t ip[16];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		column_text(st, 0, id, sizeof id);
		column_ip(st, 1, ip);
		if (fn(id, ip, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "ticket open rows", rc);
	return STORE_OK;
}

static int count_since(struct store *s, enum store_stmt which, const uint8_t key[16],
		       int64_t since, uint64_t *n)
{
	if (!s || !key || !n)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, which);
	bind_ip(st, 1, key);
	sqlite3_bind_int64(st, 2, since);
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : store_fail(s, "ticket count", rc);
}

int store_ticket_count_client(struct store *s, const uint8_t client[16], int64_t since,
			      uint64_t *n)
{
	return count_since(s, ST_TI_N_CLIENT, client, since, n);
}

int store_ticket_count_decided(struct store *s, const uint8_t ip[16], int64_t since,
			       uint64_t *n)
{
	return count_since(s, ST_TI_N_DECIDED, ip, since, n);
}

int store_ticket_event_add(struct store *s, const char *ticket, const struct store_ticket_event *e)
{
	if (!s || !e || !ticket_id_ok(ticket) || !e->what || !e->who)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TE_ADD);
	bind_text(st, 1, ticket, STORE_TICKET_ID_LEN + 1);
	sqlite3_bind_int64(st, 2, e->at);
	bind_text(st, 3, e->what, STORE_TEXT_MAX);
	bind_text(st, 4, e->who, STORE_TEXT_MAX);
	bind_text(st, 5, e->why, STORE_TEXT_MAX);
	return step_done(s, st, "ticket event add");
}

int store_ticket_event_foreach(struct store *s, const char *ticket,
			       int (*fn)(const struct store_ticket_event *e, void *arg), void *arg)
{
	if (!s || !fn || !ticket_id_ok(ticket))
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_TE_ALL);
	bind_text(st, 1, ticket, STORE_TICKET_ID_LEN + 1);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_ticket_event e = {sqlite3_column_int64(st, 0), column_str(st, 1),
					       column_str(st, 2), column_str(st, 3)};
		if (fn(&e, arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "ticket event foreach", rc);
	return STORE_OK;
}

int store_evidence_recent(struct store *s, const uint8_t ip[16], enum store_kind kind,
			  unsigned max,
			  int (*fn)(int64_t id, int64_t received_at, enum store_class cls, void *arg),
			  void *arg)
{
	if (!s || !ip || !fn)
		return STORE_EINVAL;
	sqlite3_stmt *st = stmt(s, ST_EV_RECENT);
	bind_ip(st, 1, ip);
	sqlite3_bind_int(st, 2, (int)kind);
	sqlite3_bind_int64(st, 3, max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
		       (enum store_class)sqlite3_column_int(st, 2), arg))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, "evidence recent", rc);
	return STORE_OK;
}
