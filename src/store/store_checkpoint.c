/* store_checkpoint.c - WAL checkpoints on a thread of their own, so that copying the log back
 * into the database does not stall the writer's commits. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "store/store_internal.h"

/* SQLite's own automatic checkpoint runs inside the commit that takes the log past 1,000
 * pages: the writer copies those pages to the database and syncs it while every producer
 * waits for its acknowledgement. Here the commit only signals a thread, which runs a passive
 * checkpoint on its own connection while the writer goes on appending; a larger log also
 * means a page changed by many commits is copied once, not once per 1,000 pages of log.
 *
 * A passive checkpoint that runs while the writer appends cannot reset the log (frames newer
 * than its start remain), so under a steady stream the file would only grow. When it reaches
 * STORE_WAL_RESET_PAGES the writer's own connection checkpoints what is left (little: the
 * thread copied the rest) and the next transaction starts the log from its beginning. */
#define STORE_WAL_SIGNAL_PAGES 4096  /* 16 MiB of 4 KiB pages between background checkpoints */
#define STORE_WAL_RESET_PAGES 32768  /* 128 MiB: the log never grows past about this */

struct store_ckpt {
	pthread_t thread;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	bool running, due, stopping;
	int signalled_at; /* log size at the last signal (writer thread only) */
	unsigned long runs;
	sqlite3 *db;      /* the checkpointer's own connection, opened by its thread */
	char path[PATH_MAX];
};

static void ckpt_run(struct store_ckpt *c)
{
	if (!c->db) {
		int rc = sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
					 NULL);
		if (rc != SQLITE_OK) {
			log_warn("store", "checkpointer cannot open file=%s error=\"%s\"", c->path,
				 sqlite3_errstr(rc));
			sqlite3_close(c->db);
			c->db = NULL;
			return;
		}
		/* The checkpoint syncs the log before and the database after it copies, as the
		 * writer's own would. */
		sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	}
	int log_pages = 0, done_pages = 0;
	int rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log_pages,
					   &done_pages);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("store", "checkpoint failed error=\"%s\"", sqlite3_errmsg(c->db));
	else
		log_debug("store", "checkpoint log_pages=%d copied=%d", log_pages, done_pages);
}

static void *ckpt_main(void *arg)
{
	struct store_ckpt *c = arg;
	pthread_mutex_lock(&c->mtx);
	for (;;) {
		while (!c->due && !c->stopping)
			pthread_cond_wait(&c->cond, &c->mtx);
		if (c->stopping)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->mtx);
		ckpt_run(c);
		pthread_mutex_lock(&c->mtx);
		c->runs++;
	}
	pthread_mutex_unlock(&c->mtx);
	sqlite3_close(c->db);
	c->db = NULL;
	return NULL;
}

/* Starts the thread at the first checkpoint a store needs: a short-lived CLI never does. */
static bool ckpt_wake(struct store_ckpt *c)
{
	pthread_mutex_lock(&c->mtx);
	if (!c->running) {
		if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
			pthread_mutex_unlock(&c->mtx);
			return false;
		}
		pthread_setname_np(c->thread, "tl-checkpoint");
		c->running = true;
	}
	c->due = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mtx);
	return true;
}

/* Runs on the writer's thread after every commit; pages is the log's size in frames. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_ckpt *c = arg;
	if (pages < c->signalled_at)
		c->signalled_at = 0; /* the log started over */
	bool inline_ckpt = pages >= STORE_WAL_RESET_PAGES;
	if (!inline_ckpt && pages - c->signalled_at >= STORE_WAL_SIGNAL_PAGES) {
		if (ckpt_wake(c))
			c->signalled_at = pages;
		else
			inline_ckpt = true; /* no thread: do it the old way */
	}
	if (inline_ckpt) {
		/* Copy the rest here, with no append in between: the log can start over. */
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		c->signalled_at = 0;
	}
	return SQLITE_OK;
}

int store_ckpt_attach(struct store *s, const char *path)
{
	struct store_ckpt *c = calloc(1, sizeof *c);
	if (!c)
		return STORE_ENOMEM;
	if (snprintf(c->path, sizeof c->path, "%s", path) >= (int)sizeof c->path) {
		free(c);
		return STORE_EINVAL;
	}
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->cond, NULL);
	s->ckpt = c;
	sqlite3_wal_autocheckpoint(s->db, 0);
	sqlite3_wal_hook(s->db, wal_hook, c);
	return STORE_OK;
}

void store_ckpt_detach(struct store *s)
{
	struct store_ckpt *c = s->ckpt;
	if (!c)
		return;
	sqlite3_wal_hook(s->db, NULL, NULL);
	pthread_mutex_lock(&c->mtx);
	c->stopping = true;
	pthread_cond_signal(&c->cond);
	bool running = c->running;
	pthread_mutex_unlock(&c->mtx);
	if (running)
		pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mtx);
	free(c);
	s->ckpt = NULL;
}

unsigned long store_checkpoints(const struct store *s)
{
	if (!s || !s->ckpt)
		return 0;
	pthread_mutex_lock(&s->ckpt->mtx);
	unsigned long n = s->ckpt->runs;
	pthread_mutex_unlock(&s->ckpt->mtx);
	return n;
}
