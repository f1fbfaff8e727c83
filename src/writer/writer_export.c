/* writer_export.c - the zone exports (rbldnsd and BIND files), written on a thread of their own
 * from a private copy of the snapshot, so that the writer keeps committing meanwhile. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "writer_internal.h"

/* Writing a 1M-entry zone in both formats takes about a second. On the writer's thread that
 * second would hold every producer's acknowledgement and every DNS change; here the writer
 * only copies the current snapshot (the big arrays are shared and reference counted, only
 * the overlay of recent changes is copied) and goes on. */

struct export_job {
	struct zone_snapshot *snap; /* the exporter's own: freed when written */
	writer_done_fn done;        /* who asked and waits (NULL: the interval) */
	void *arg;
	struct export_job *next;
};

struct writer_exporter {
	pthread_t thread;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct export_job *head, *tail;
	bool stopping;
};

static int export_files(const struct zone_snapshot *s, const char *zone, const char *dir)
{
	static const struct {
		int format;
		const char *name;
	} files[] = { { ZONE_EXPORT_RBLDNSD, "trapline.rbldnsd" }, { ZONE_EXPORT_BIND, "trapline.zone" } };
	int result = WRITER_OK;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[4096];
		int n = snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
		if (n < 0 || (size_t)n >= sizeof path)
			return WRITER_EINVAL;
		/* zone_export_file writes a temp file and renames it: mirrors never read half. */
		int rc = zone_export_file(s, zone, files[i].format, path);
		if (rc != ZONE_OK) {
			log_err("writer", "export path=%s failed: %s", path, tl_strerror(rc));
			result = rc == ZONE_ENOMEM ? WRITER_ENOMEM : WRITER_EIO;
		}
	}
	return result;
}

static void *exporter_main(void *arg)
{
	struct writer *w = arg;
	struct writer_exporter *x = w->exporter;
	pthread_mutex_lock(&x->mtx);
	for (;;) {
		while (!x->head && !x->stopping)
			pthread_cond_wait(&x->cond, &x->mtx);
		if (!x->head)
			break; /* stopping, and every job done */
		struct export_job *j = x->head;
		x->head = j->next;
		if (!x->head)
			x->tail = NULL;
		pthread_mutex_unlock(&x->mtx);
		int rc = export_files(j->snap, w->zone_name, w->export_dir);
		zone_snapshot_free(j->snap);
		if (j->done)
			j->done(j->arg, rc);
		free(j);
		pthread_mutex_lock(&x->mtx);
	}
	pthread_mutex_unlock(&x->mtx);
	return NULL;
}

int writer_exporter_start(struct writer *w)
{
	if (!w->export_dir[0])
		return WRITER_OK; /* nothing will ever be exported */
	struct writer_exporter *x = calloc(1, sizeof *x);
	if (!x)
		return WRITER_ENOMEM;
	pthread_mutex_init(&x->mtx, NULL);
	pthread_cond_init(&x->cond, NULL);
	w->exporter = x;
	if (pthread_create(&x->thread, NULL, exporter_main, w) != 0) {
		pthread_cond_destroy(&x->cond);
		pthread_mutex_destroy(&x->mtx);
		free(x);
		w->exporter = NULL;
		return WRITER_ENOMEM;
	}
	pthread_setname_np(x->thread, "tl-export");
	return WRITER_OK;
}

void writer_exporter_stop(struct writer *w)
{
	struct writer_exporter *x = w->exporter;
	if (!x)
		return;
	pthread_mutex_lock(&x->mtx);
	x->stopping = true;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->mtx);
	pthread_join(x->thread, NULL); /* it writes what was asked for first */
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->mtx);
	free(x);
	w->exporter = NULL;
}

void writer_export(struct writer *w, writer_done_fn done, void *arg)
{
	struct writer_exporter *x = w->exporter;
	int rc = WRITER_OK;
	if (!x || !w->current)
		goto answer; /* no export directory, or nothing to export yet */
	struct zone_snapshot *copy = NULL;
	struct export_job *j = calloc(1, sizeof *j);
	if (!j || zone_snapshot_apply(w->current, NULL, 0, w->serial, &copy) != ZONE_OK) {
		free(j);
		rc = WRITER_ENOMEM;
		goto answer;
	}
	struct zone_snapshot *old = NULL;
	pthread_mutex_lock(&x->mtx);
	if (!done && x->tail && !x->tail->done) {
		/* An interval export still waiting takes the newer copy instead: the files are
		 * written once, with the latest state, however slow the disk. */
		old = x->tail->snap;
		x->tail->snap = copy;
	} else {
		j->snap = copy;
		j->done = done;
		j->arg = arg;
		if (x->tail)
			x->tail->next = j;
		else
			x->head = j;
		x->tail = j;
		j = NULL;
		pthread_cond_signal(&x->cond);
	}
	pthread_mutex_unlock(&x->mtx);
	zone_snapshot_free(old);
	free(j);
	return;

answer:
	if (rc != WRITER_OK)
		log_err("writer", "export not started: %s", tl_strerror(rc));
	if (done)
		done(arg, rc);
}
