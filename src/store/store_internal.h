/* store_internal.h - what the store's .c files share: the connection and its cached statements. */
#ifndef TRAPLINE_STORE_INTERNAL_H
#define TRAPLINE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>

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
	ST_RP_HOUR_GET,
	ST_RP_HOUR_ADD,
	ST_HI_ADD,
	ST_HI_FOR_IP,
	ST_LI_COUNT,
	ST_EV_COUNT,
	ST_EV_DAYS,
	ST_COUNT
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int lock_fd; /* -1 for a read-only opener */
	bool write;
	int version;
	struct store_ckpt *ckpt; /* the background checkpointer (writers only) */
};

/* Logs SQLite's message for a failed step of what and returns STORE_EIO. */
int store_fail(struct store *s, const char *what, int rc);

/* store_checkpoint.c: takes WAL checkpoints off the writer's commits (path: the database). */
int store_ckpt_attach(struct store *s, const char *path);
/* Stops the checkpointer's thread and closes its connection; before the store's own. */
void store_ckpt_detach(struct store *s);

#endif
