/* store_journal.c - the IXFR journal's rows (schema version 15): added per publication, read
 * back at start, trimmed with the journal in memory. Rare statements: prepared per call. */
#include <sqlite3.h>
#include <string.h>

#include "store_internal.h"

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? STORE_OK : store_fail(s, "journal prepare", rc);
}

int store_journal_add(struct store *s, const struct store_journal_row *r, int64_t *id)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "INSERT INTO ixfr_journal (serial_from, serial_to, at, changes, data)"
			    " VALUES (?, ?, ?, ?, ?)", &st);
	if (rc != STORE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, r->serial_from);
	sqlite3_bind_int64(st, 2, r->serial_to);
	sqlite3_bind_int64(st, 3, r->at);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)r->changes);
	sqlite3_bind_blob(st, 5, r->len ? (const void *)r->data : "", (int)r->len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, "journal add", rc);
	*id = sqlite3_last_insert_rowid(s->db);
	return STORE_OK;
}

int store_journal_trim(struct store *s, int64_t keep_from)
{
	sqlite3_stmt *st;
	int rc = prepare(s, keep_from ? "DELETE FROM ixfr_journal WHERE id < ?"
				      : "DELETE FROM ixfr_journal", &st);
	if (rc != STORE_OK)
		return rc;
	if (keep_from)
		sqlite3_bind_int64(st, 1, keep_from);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : store_fail(s, "journal trim", rc);
}

int store_journal_foreach(struct store *s, int (*fn)(const struct store_journal_row *r, void *arg),
			  void *arg)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT id, serial_from, serial_to, at, changes, data FROM ixfr_journal"
			    " ORDER BY id", &st);
	if (rc != STORE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_journal_row r = {
			.id = sqlite3_column_int64(st, 0),
			.serial_from = (uint32_t)sqlite3_column_int64(st, 1),
			.serial_to = (uint32_t)sqlite3_column_int64(st, 2),
			.at = sqlite3_column_int64(st, 3),
			.changes = (uint64_t)sqlite3_column_int64(st, 4),
			.data = sqlite3_column_blob(st, 5),
			.len = (size_t)sqlite3_column_bytes(st, 5),
		};
		if (fn(&r, arg))
			break;
	}
	bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? STORE_OK : store_fail(s, "journal read", rc);
}
