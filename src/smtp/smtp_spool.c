/* smtp_spool.c - a trap node's spool: the hits of accepted messages committed to a small
 * SQLite file in the data directory before their 250, each with an id of its own, until the
 * forwarder (smtp_forward.c) has the primary's acknowledgement. */
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "smtp_node.h"

/* The spool's own schema, apart from the store's: a node has no store. seq keeps the order
 * hits came in (the forwarder sends the oldest first); id is what the primary counts once
 * (POST /api/v1/evidence's id); refused keeps what the primary refused for good (a hit it
 * says it can never count), so that nothing the node acknowledged vanishes silently. */
static const char spool_schema[] =
	"CREATE TABLE IF NOT EXISTS hits ("
	" seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" ip TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" class TEXT NOT NULL,"
	" spooled_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS refused ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" ip TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" class TEXT NOT NULL,"
	" refused_at INTEGER NOT NULL,"
	" why TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;"
	"PRAGMA user_version = 1;";

/* One hit waiting for the spool's next commit. */
struct spool_item {
	uint8_t ip[16];
	int64_t at;
	enum store_class cls;
	writer_done_fn done;
	void *arg;
};

void smtp_spool_path(const char *data_dir, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/spool.db", data_dir);
}

int smtp_spool_db_open(const char *data_dir, bool readonly, sqlite3 **out)
{
	char path[CONFIG_STR_MAX + 16];
	smtp_spool_path(data_dir, path, sizeof(path));
	*out = NULL;
	if (readonly && access(path, F_OK) != 0)
		return TL_ENOTFOUND;
	int flags = readonly ? SQLITE_OPEN_READONLY
			     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_err("spool", "cannot open file=%s error=\"%s\"", path,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return SMTP_EIO;
	}
	/* The forwarder's deletes and the spooler's inserts meet on the file's write lock; each
	 * holds it for one short transaction. */
	sqlite3_busy_timeout(db, 10000);
	/* WAL: the forwarder reads while the spooler commits. synchronous=FULL: a commit is on
	 * the disk before the sender hears 250, power loss included (NORMAL in WAL mode keeps
	 * the file sound but may lose the last commits, which the senders were told were
	 * stored); group commit spreads the fsync over every message waiting. */
	if (!readonly &&
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", NULL, NULL,
			 NULL) != SQLITE_OK) {
		log_err("spool", "cannot set up file=%s error=\"%s\"", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return SMTP_EIO;
	}
	*out = db;
	return SMTP_OK;
}

struct smtp_spool {
	sqlite3 *db;            /* the spooler's connection */
	sqlite3_stmt *ins;
	char node[SMTP_NODE_NAME_MAX + 1];
	uint64_t max;
	pthread_t thread;
	bool started;
	pthread_mutex_t mtx;
	pthread_cond_t wake;    /* items queued, or stop */
	pthread_cond_t spooled; /* a commit added rows (the forwarder waits on it) */
	struct spool_item *q;   /* under mtx */
	size_t q_n, q_cap;
	bool stop;              /* under mtx */
	atomic_ullong depth;    /* rows in hits (committed) */
	atomic_ullong spooled_n;
	atomic_bool full;       /* the last post found the spool full */
};

static int count_rows(sqlite3 *db, const char *sql, uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? SMTP_OK : SMTP_EIO;
}

/* An id the primary has never seen from any node: the node's name and 128 random bits, so
 * that two nodes of one feed, or a node whose spool was wiped, never collide. */
static void hit_id(const struct smtp_spool *sp, char out[SMTP_HIT_ID_MAX])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[16];
	randombytes_buf(r, sizeof(r));
	size_t k = (size_t)snprintf(out, SMTP_HIT_ID_MAX, "%s-", sp->node);
	for (size_t i = 0; i < sizeof(r) && k + 2 < SMTP_HIT_ID_MAX; i++) {
		out[k++] = hex[r[i] >> 4];
		out[k++] = hex[r[i] & 15];
	}
	out[k] = '\0';
}

/* One transaction for every item waiting: all committed, or none (then each is told). */
static int spool_commit(struct smtp_spool *sp, const struct spool_item *items, size_t n)
{
	if (sqlite3_exec(sp->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	int64_t now = time_now();
	for (size_t i = 0; i < n; i++) {
		char id[SMTP_HIT_ID_MAX], ip[IP_STRLEN];
		hit_id(sp, id);
		ip_format(items[i].ip, ip);
		sqlite3_bind_text(sp->ins, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sp->ins, 2, ip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(sp->ins, 3, items[i].at);
		sqlite3_bind_text(sp->ins, 4, store_class_name(items[i].cls), -1, SQLITE_STATIC);
		sqlite3_bind_int64(sp->ins, 5, now);
		int rc = sqlite3_step(sp->ins);
		sqlite3_reset(sp->ins);
		if (rc != SQLITE_DONE)
			goto fail_rollback;
	}
	if (sqlite3_exec(sp->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail_rollback;
	return SMTP_OK;

fail_rollback:
	log_err("spool", "commit of %zu hits failed error=\"%s\"", n, sqlite3_errmsg(sp->db));
	sqlite3_exec(sp->db, "ROLLBACK", NULL, NULL, NULL);
	return SMTP_EIO;
fail:
	log_err("spool", "cannot begin error=\"%s\"", sqlite3_errmsg(sp->db));
	return SMTP_EIO;
}

static void *spool_main(void *arg)
{
	struct smtp_spool *sp = arg;
	pthread_mutex_lock(&sp->mtx);
	for (;;) {
		while (sp->q_n == 0 && !sp->stop)
			pthread_cond_wait(&sp->wake, &sp->mtx);
		if (sp->q_n == 0 && sp->stop)
			break;
		/* Take what is waiting; what comes during the commit shares the next one. */
		struct spool_item *items = sp->q;
		size_t n = sp->q_n;
		sp->q = NULL;
		sp->q_n = sp->q_cap = 0;
		pthread_mutex_unlock(&sp->mtx);
		int rc = spool_commit(sp, items, n);
		if (rc == SMTP_OK) {
			atomic_fetch_add(&sp->depth, n);
			atomic_fetch_add(&sp->spooled_n, n);
		}
		pthread_mutex_lock(&sp->mtx);
		if (rc == SMTP_OK)
			pthread_cond_broadcast(&sp->spooled);
		pthread_mutex_unlock(&sp->mtx);
		/* Only now may the senders hear 250 (or 451 when the commit failed). */
		for (size_t i = 0; i < n; i++)
			items[i].done(items[i].arg, rc == SMTP_OK ? WRITER_OK : WRITER_ESTORE);
		free(items);
		pthread_mutex_lock(&sp->mtx);
	}
	pthread_mutex_unlock(&sp->mtx);
	return NULL;
}

/* The sink's post: never blocks. A full spool (rows and hits waiting for their commit
 * together) is WRITER_EFULL, which the trap answers 451: the sender keeps the message. */
static int spool_post(void *ctx, const struct writer_event *ev, writer_done_fn done, void *arg)
{
	struct smtp_spool *sp = ctx;
	if (ev->type != WRITER_EV_EVIDENCE)
		return WRITER_EINVAL;
	pthread_mutex_lock(&sp->mtx);
	int rc = WRITER_OK;
	if (sp->stop)
		rc = WRITER_ESTOPPED;
	else if (atomic_load(&sp->depth) + sp->q_n >= sp->max)
		rc = WRITER_EFULL;
	else if (array_grow((void **)&sp->q, &sp->q_cap, sp->q_n + 1, sizeof(*sp->q)) != BASE_OK)
		rc = WRITER_ENOMEM;
	if (rc == WRITER_OK) {
		struct spool_item *it = &sp->q[sp->q_n++];
		memcpy(it->ip, ev->evidence.ip, 16);
		it->at = ev->evidence.received_at;
		it->cls = ev->evidence.cls;
		it->done = done;
		it->arg = arg;
		pthread_cond_signal(&sp->wake);
	}
	pthread_mutex_unlock(&sp->mtx);
	/* One line when the spool fills up, one when it takes hits again. */
	bool was_full = atomic_exchange(&sp->full, rc == WRITER_EFULL);
	if (rc == WRITER_EFULL && !was_full)
		log_warn("spool", "full depth=%llu max=%llu: senders are told 451 until the primary "
				  "takes hits (forward_spool_max)",
			 (unsigned long long)atomic_load(&sp->depth), (unsigned long long)sp->max);
	else if (rc == WRITER_OK && was_full)
		log_info("spool", "taking hits again depth=%llu",
			 (unsigned long long)atomic_load(&sp->depth));
	return rc;
}

/* The node's name as an id's prefix: letters, digits, dots and dashes, at most
 * SMTP_NODE_NAME_MAX bytes (a host name may be longer than an id should be). */
static void node_name(const char *want, char out[SMTP_NODE_NAME_MAX + 1])
{
	char host[256] = "";
	if (!want || !want[0]) {
		if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
			snprintf(host, sizeof(host), "node");
		want = host;
	}
	size_t k = 0;
	for (const char *c = want; *c && k < SMTP_NODE_NAME_MAX; c++) {
		char ch = *c;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
		out[k++] = ok ? ch : '-';
	}
	out[k] = '\0';
}

int smtp_spool_open(const char *data_dir, const char *node, uint64_t max, struct smtp_spool **out)
{
	*out = NULL;
	if (sodium_init() < 0)
		return SMTP_EIO;
	struct smtp_spool *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return SMTP_ENOMEM;
	node_name(node, sp->node);
	sp->max = max ? max : 1;
	pthread_mutex_init(&sp->mtx, NULL);
	pthread_cond_init(&sp->wake, NULL);
	pthread_cond_init(&sp->spooled, NULL);
	int rc = smtp_spool_db_open(data_dir, false, &sp->db);
	if (rc != SMTP_OK)
		goto fail;
	uint64_t depth = 0;
	rc = SMTP_EIO;
	if (sqlite3_exec(sp->db, spool_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    count_rows(sp->db, "SELECT count(*) FROM hits", &depth) != SMTP_OK ||
	    sqlite3_prepare_v2(sp->db, "INSERT INTO hits (id, ip, at, class, spooled_at)"
				       " VALUES (?1, ?2, ?3, ?4, ?5)", -1, &sp->ins, NULL) != SQLITE_OK) {
		log_err("spool", "cannot set up the spool error=\"%s\"", sqlite3_errmsg(sp->db));
		goto fail;
	}
	atomic_store(&sp->depth, depth);
	if (pthread_create(&sp->thread, NULL, spool_main, sp) != 0) {
		rc = SMTP_ENOMEM;
		goto fail;
	}
	pthread_setname_np(sp->thread, "tl-spool");
	sp->started = true;
	log_info("spool", "open node=%s depth=%llu max=%llu", sp->node,
		 (unsigned long long)depth, (unsigned long long)sp->max);
	*out = sp;
	return SMTP_OK;

fail:
	smtp_spool_close(sp);
	return rc;
}

void smtp_spool_sink(struct smtp_spool *sp, struct smtp_sink *out)
{
	out->post = spool_post;
	out->ctx = sp;
}

void smtp_spool_shutdown(struct smtp_spool *sp)
{
	pthread_mutex_lock(&sp->mtx);
	sp->stop = true;
	pthread_cond_broadcast(&sp->wake);
	pthread_cond_broadcast(&sp->spooled);
	pthread_mutex_unlock(&sp->mtx);
}

bool smtp_spool_stopping(struct smtp_spool *sp)
{
	pthread_mutex_lock(&sp->mtx);
	bool stop = sp->stop;
	pthread_mutex_unlock(&sp->mtx);
	return stop;
}

void smtp_spool_close(struct smtp_spool *sp)
{
	if (!sp)
		return;
	if (sp->started) {
		smtp_spool_shutdown(sp);
		pthread_join(sp->thread, NULL); /* it commits what is queued first */
	}
	sqlite3_finalize(sp->ins);
	sqlite3_close(sp->db);
	free(sp->q);
	pthread_cond_destroy(&sp->spooled);
	pthread_cond_destroy(&sp->wake);
	pthread_mutex_destroy(&sp->mtx);
	free(sp);
}

/* ---- what the forwarder shares with the spool ------------------------------------------ */

void smtp_spool_forwarded(struct smtp_spool *sp, uint64_t n)
{
	atomic_fetch_sub(&sp->depth, n);
}

static void deadline_in(unsigned ms, struct timespec *until)
{
	clock_gettime(CLOCK_REALTIME, until);
	until->tv_sec += ms / 1000;
	until->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until->tv_nsec >= 1000000000L) {
		until->tv_sec++;
		until->tv_nsec -= 1000000000L;
	}
}

bool smtp_spool_wait(struct smtp_spool *sp, unsigned ms, bool for_rows)
{
	struct timespec until;
	deadline_in(ms, &until);
	pthread_mutex_lock(&sp->mtx);
	int rc = 0;
	/* for_rows: until a commit adds rows (or ms pass); else ms whatever is spooled, so that a
	 * backoff is not cut short by every new hit. Either way stop ends the wait. */
	while (!sp->stop && rc == 0 && !(for_rows && atomic_load(&sp->depth) > 0))
		rc = pthread_cond_timedwait(&sp->spooled, &sp->mtx, &until);
	bool stop = sp->stop;
	pthread_mutex_unlock(&sp->mtx);
	return !stop;
}

uint64_t smtp_spool_depth(struct smtp_spool *sp)
{
	return atomic_load(&sp->depth);
}

/* ---- trapline status on a node ------------------------------------------------------------ */

int smtp_spool_stats(const char *data_dir, struct smtp_spool_stats *out)
{
	memset(out, 0, sizeof(*out));
	sqlite3 *db = NULL;
	int rc = smtp_spool_db_open(data_dir, true, &db);
	if (rc != SMTP_OK)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = SMTP_EIO;
	if (count_rows(db, "SELECT count(*) FROM hits", &out->depth) != SMTP_OK ||
	    count_rows(db, "SELECT count(*) FROM refused", &out->refused) != SMTP_OK)
		goto done;
	if (sqlite3_prepare_v2(db, "SELECT (SELECT min(at) FROM hits), (SELECT value FROM meta"
				   " WHERE key = 'last_forward_at'), (SELECT value FROM meta WHERE"
				   " key = 'forwarded')", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto done;
	out->oldest_at = sqlite3_column_int64(st, 0);
	out->last_forward_at = sqlite3_column_int64(st, 1);
	out->forwarded = (uint64_t)sqlite3_column_int64(st, 2);
	rc = SMTP_OK;
done:
	if (rc != SMTP_OK)
		log_err("spool", "cannot read the spool error=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}
