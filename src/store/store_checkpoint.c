/* store_checkpoint.c - WAL checkpoints on a thread of their own, so that copying the log back
 * into the database does not stall the writer's commits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "store_internal.h"

/* SQLite's own automatic checkpoint runs inside the commit that takes the log past 1,000
 * pages: the writer copies those pages to the database and syncs it while every producer
 * waits for its acknowledgement. Here the commit only signals a thread, which runs a passive
 * checkpoint on its own connection while the writer goes on appending; a larger log also
 * means a page changed by many commits is copied once, not once per 1,000 pages of log.
 *
 * A passive checkpoint that runs while the writer appends cannot reset the log (frames newer
 * than its start remain), so under a steady stream the file would only grow. When it reaches
 * STORE_WAL_RESET_PAGES the writer's own connection checkpoints what is left (little: the
 * thread copied the rest) and the next transaction starts the log from its beginning. Only
 * one connection checkpoints at a time: were the thread's still running then, the writer's
 * would find the log busy and the writer would go on appending until it ends, which on a slow
 * disk was thousands of pages past the line. So the writer waits for it first (its commits
 * were too fast for the disk anyway), for STORE_WAL_WAIT_NS at most lest a stuck disk hold
 * it for ever; after that the next commit tries again. */
#define STORE_WAL_SIGNAL_PAGES 4096  /* 16 MiB of 4 KiB pages between background checkpoints */
#define STORE_WAL_RESET_PAGES 32768  /* 128 MiB: the log never grows past about this */
#define STORE_WAL_WAIT_NS 10000000000ull /* the thread copies 128 MiB at most: seconds at worst */

/* With synchronous=NORMAL a commit is in the log but not yet on the disk: the process may die
 * at any moment without losing it, an operating-system crash or a power cut may not, and
 * SQLite itself syncs the log only at a checkpoint, which a quiet trap could wait hours for.
 * So the thread syncs the log once a second when there were commits: acknowledged evidence
 * is on the disk a second later at most, for one fdatasync a second. */
#define STORE_WAL_SYNC_NS 1000000000ull

struct store_ckpt {
	pthread_t thread;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	pthread_cond_t idle; /* the thread's checkpoint ended (for the writer's wait) */
	bool running, due, stopping;
	bool busy;        /* the thread is checkpointing */
	bool started;     /* the thread was asked for (writer thread only) */
	int signalled_at; /* log size at the last signal (writer thread only) */
	atomic_bool dirty; /* commits since the log was last synced */
	unsigned long runs, syncs;
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

static void ckpt_sync_log(struct store_ckpt *c)
{
	char wal[PATH_MAX + 8];
	snprintf(wal, sizeof wal, "%s-wal", c->path);
	int fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* no log: everything is in the database file */
	if (fdatasync(fd) != 0)
		log_warn("store", "log sync failed file=%s error=\"%s\"", wal, strerror(errno));
	close(fd);
}

static void *ckpt_main(void *arg)
{
	struct store_ckpt *c = arg;
	pthread_mutex_lock(&c->mtx);
	for (;;) {
		struct timespec dl;
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += (time_t)(STORE_WAL_SYNC_NS / 1000000000ull);
		while (!c->due && !c->stopping)
			if (pthread_cond_timedwait(&c->cond, &c->mtx, &dl) == ETIMEDOUT)
				break;
		if (c->stopping)
			break;
		bool due = c->due;
		c->due = false;
		c->busy = due;
		pthread_mutex_unlock(&c->mtx);
		/* Cleared first: a commit from now on is synced by the next round. */
		bool dirty = atomic_exchange(&c->dirty, false);
		if (due)
			ckpt_run(c); /* syncs the log before it copies */
		else if (dirty)
			ckpt_sync_log(c);
		pthread_mutex_lock(&c->mtx);
		c->runs += due;
		c->syncs += due || dirty;
		if (due) {
			c->busy = false;
			pthread_cond_broadcast(&c->idle);
		}
	}
	pthread_mutex_unlock(&c->mtx);
	sqlite3_close(c->db);
	c->db = NULL;
	return NULL;
}

/* Starts the thread at the first commit (a store only read never needs it) and, when due,
 * asks it for a checkpoint. */
static bool ckpt_wake(struct store_ckpt *c, bool due)
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
	if (due) {
		c->due = true;
		pthread_cond_signal(&c->cond);
	}
	pthread_mutex_unlock(&c->mtx);
	return true;
}

/* Waits (STORE_WAL_WAIT_NS at most) until the thread has no checkpoint running or asked for,
 * so that the writer's own is not refused as busy. Writer thread only: nobody else asks for
 * one meanwhile. */
static void ckpt_wait_idle(struct store_ckpt *c)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	uint64_t ns = (uint64_t)dl.tv_nsec + STORE_WAL_WAIT_NS;
	dl.tv_sec += (time_t)(ns / 1000000000ull);
	dl.tv_nsec = (long)(ns % 1000000000ull);
	pthread_mutex_lock(&c->mtx);
	while (c->running && (c->busy || c->due))
		if (pthread_cond_timedwait(&c->idle, &c->mtx, &dl) == ETIMEDOUT) {
			log_warn("store", "background checkpoint still running waited_s=%llu",
				 (unsigned long long)(STORE_WAL_WAIT_NS / 1000000000ull));
			break;
		}
	pthread_mutex_unlock(&c->mtx);
}

/* Runs on the writer's thread after every commit; pages is the log's size in frames. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_ckpt *c = arg;
	atomic_store_explicit(&c->dirty, true, memory_order_relaxed);
	if (!c->started)
		c->started = ckpt_wake(c, false);
	if (pages < c->signalled_at)
		c->signalled_at = 0; /* the log started over */
	bool inline_ckpt = pages >= STORE_WAL_RESET_PAGES;
	if (!inline_ckpt && pages - c->signalled_at >= STORE_WAL_SIGNAL_PAGES) {
		if (ckpt_wake(c, true))
			c->signalled_at = pages;
		else
			inline_ckpt = true; /* no thread: do it the old way */
	}
	if (inline_ckpt) {
		/* Copy the rest here, with no append in between: the log can start over. */
		ckpt_wait_idle(c);
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
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->cond, &ca);
	pthread_cond_init(&c->idle, &ca);
	pthread_condattr_destroy(&ca);
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
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->mtx);
	free(c);
	s->ckpt = NULL;
}

void store_stats(const struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!s || !s->ckpt)
		return;
	pthread_mutex_lock(&s->ckpt->mtx);
	out->checkpoints = s->ckpt->runs;
	out->log_syncs = s->ckpt->syncs;
	pthread_mutex_unlock(&s->ckpt->mtx);
}
