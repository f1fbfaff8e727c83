/* store_internal.h - what the store's .c files share: the connection and its cached statements. */
#ifndef TRAPLINE_STORE_INTERNAL_H
#define TRAPLINE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

#include "store.h"

/* Every statement the store runs, prepared once at open (store_db.c holds the SQL). */
enum store_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_EV_ADD,
	ST_EV_FOR_IP,
	ST_EV_IPS,
	ST_LI_PUT,
	ST_LI_DEL,
	ST_LI_GET,
	ST_LI_ALL,
	ST_LI_CLEAR,
	ST_EX_ADD,
	ST_EX_LIVE,
	ST_AC_ADD,
	ST_AC_LAST,
	ST_AC_DELISTED,
	ST_EV_MAX,
	ST_EX_DEL,
	ST_AU_ADD,
	ST_AU_ALL,
	ST_ME_GET,
	ST_ME_SET,
	ST_RE_PUT,
	ST_RE_DEL,
	ST_RE_GET,
	ST_RE_ALL,
	ST_TH_ADD,
	ST_SA_ADD,
	ST_TH_GET,
	ST_SA_PRUNE,
	ST_EV_POLICY,
	ST_HO_ADD,
	ST_HO_BY_NAME,
	ST_HO_BY_KEY,
	ST_HO_BY_ID,
	ST_HO_REMOVE,
	ST_HO_ALL,
	ST_HO_RELAYS,
	ST_RP_ADD,
	ST_RP_GET,
	ST_RP_BY_DIGEST,
	ST_RP_RECENT,
	ST_RP_HOUR_GET,
	ST_RP_HOUR_ADD,
	ST_HI_ADD,
	ST_HI_FOR_IP,
	ST_LI_COUNT,
	ST_EV_COUNT,
	ST_EV_DAYS,
	/* review requests, moderators and sessions (store_review.c) */
	ST_MO_ADD,
	ST_MO_GET,
	ST_MO_REMOVE,
	ST_MO_ALL,
	ST_SE_ADD,
	ST_SE_GET,
	ST_SE_END,
	ST_SE_END_ALL,
	ST_TI_ADD,
	ST_TI_GET,
	ST_TI_DECIDE,
	ST_TI_OPEN,
	ST_TI_ALL,
	ST_TI_N_CLIENT,
	ST_TI_N_DECIDED,
	ST_TI_HEAD,
	ST_TI_JOINED,
	ST_TI_OPEN_ROWS,
	ST_TE_ADD,
	ST_TE_ALL,
	ST_EV_RECENT,
	ST_COUNT
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int lock_fd; /* -1 for a read-only opener */
	bool write;
	int version;
	struct store_ckpt *ckpt; /* the background checkpointer (writers only) */
	/* disk errors (full, read-only, I/O) are logged once every 10 s with a count: each
	 * failed commit of a full disk would otherwise log a line */
	uint64_t disk_logged_ns;
	unsigned long disk_suppressed;
};

/* Logs SQLite's message for a failed step of what and returns STORE_EIO. */
int store_fail(struct store *s, const char *what, int rc);

/* Takes the writer's lock of dir (flock on DIR/trapline.lock) into *fd, which the caller
 * closes to release it: STORE_EBUSY when another process holds it. */
int store_lock_take(const char *dir, int *fd, unsigned wait_ms);

/* store_checkpoint.c: takes WAL checkpoints off the writer's commits (path: the database). */
int store_ckpt_attach(struct store *s, const char *path);
/* Stops the checkpointer's thread and closes its connection; before the store's own. */
void store_ckpt_detach(struct store *s);

/* The helpers every file of the store binds and reads with. */

/* Takes a cached statement, cleared of the previous call's bindings. */
static inline sqlite3_stmt *stmt(struct store *s, enum store_stmt which)
{
	sqlite3_stmt *st = s->st[which];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Steps a write statement to completion and leaves it reset for the next call. */
static inline int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, what, rc);
	return STORE_OK;
}

static inline void bind_ip(sqlite3_stmt *st, int col, const uint8_t ip[16])
{
	sqlite3_bind_blob(st, col, ip, 16, SQLITE_STATIC);
}

/* Binds at most cap bytes of text: a field that overflowed its buffer is cut, not overrun. */
static inline void bind_text(sqlite3_stmt *st, int col, const char *t, size_t cap)
{
	if (!t)
		t = "";
	sqlite3_bind_text(st, col, t, (int)strnlen(t, cap), SQLITE_STATIC);
}

static inline void column_ip(sqlite3_stmt *st, int col, uint8_t ip[16])
{
	const void *b = sqlite3_column_blob(st, col);
	if (b && sqlite3_column_bytes(st, col) == 16)
		memcpy(ip, b, 16);
	else
		memset(ip, 0, 16);
}

static inline void column_text(sqlite3_stmt *st, int col, char *buf, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(buf, t, n);
	buf[n] = '\0';
}

static inline const char *column_str(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? (const char *)t : "";
}


/* Steps an insert: a unique constraint is STORE_EEXIST (the statement alone is undone, the
 * transaction goes on), anything else SQLite's failure. */
static inline int step_insert(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return STORE_EEXIST;
	return store_fail(s, what, rc);
}

#endif
