/* store_backup.c - getting the store back: a consistent copy of a live store (SQLite's online
 * backup API), checking a copy is a sound Trapline store, a data directory rebuilt from one, and
 * SQLite's integrity check. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "store_internal.h"

/* The tables every Trapline store has had since schema version 1: a file without them is some
 * other SQLite database. */
static const char *const store_tables[] = {"evidence", "listings", "exclusions", "actions",
					   "audit", "meta"};

/* The directory part of path into dir ("." when it has none). */
static void dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, cap, ".");
	else if (slash == path)
		snprintf(dir, cap, "/");
	else
		snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* A rename is durable once its directory is on the disk. */
static void dir_sync(const char *path)
{
	char dir[PATH_MAX];
	dir_of(path, dir, sizeof(dir));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int file_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Copies every page of src's main database into the file tmp (made empty, 0600, by the caller)
 * in one step: one read transaction of src, so the copy is the store as of one commit however
 * busy the writer is (WAL: the writer goes on meanwhile). The copy is left in rollback-journal
 * mode, one file that needs no -wal beside it. */
static int copy_db(sqlite3 *src, const char *tmp, char *err, size_t cap)
{
	sqlite3 *dst = NULL;
	int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, cap, "%s: %s", tmp, dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		sqlite3_close(dst);
		return STORE_EIO;
	}
	sqlite3_busy_timeout(dst, 5000);
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(err, cap, "backup: %s", sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return STORE_EIO;
	}
	/* -1: all pages in one step, under one read lock of the source. A step that finds the
	 * source busy (a reader's lock taken by a checkpoint's restart) is tried again. */
	for (int tries = 0; tries < 50; tries++) {
		rc = sqlite3_backup_step(b, -1);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		sqlite3_sleep(100);
	}
	int frc = sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE || frc != SQLITE_OK) {
		snprintf(err, cap, "backup: %s", rc != SQLITE_DONE ? sqlite3_errstr(rc)
								   : sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return STORE_EIO;
	}
	char *msg = NULL;
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, cap, "backup: %s", msg ? msg : "journal mode");
		sqlite3_free(msg);
		sqlite3_close(dst);
		return STORE_EIO;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		snprintf(err, cap, "backup: cannot close %s", tmp);
		return STORE_EIO;
	}
	if (file_sync(tmp) != 0) {
		snprintf(err, cap, "%s: %s", tmp, strerror(errno));
		return STORE_EIO;
	}
	return STORE_OK;
}

/* Puts tmp at path: replacing what is there when replace, else only when nothing is (renameat2
 * RENAME_NOREPLACE: no window in which a file made meanwhile is lost). */
static int put_in_place(const char *tmp, const char *path, bool replace, char *err, size_t cap)
{
	int rc = replace ? rename(tmp, path)
			 : renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
	if (rc != 0 && !replace && (errno == EINVAL || errno == ENOSYS)) {
		/* A file system without RENAME_NOREPLACE: link(2) refuses an existing name too. */
		rc = link(tmp, path);
		if (rc == 0)
			unlink(tmp);
	}
	if (rc != 0) {
		int e = errno;
		if (e == EEXIST) {
			snprintf(err, cap, "%s exists: give --force to replace it", path);
			return STORE_EEXIST;
		}
		snprintf(err, cap, "%s: %s", path, strerror(e));
		return STORE_EIO;
	}
	dir_sync(path);
	return STORE_OK;
}

/* An empty 0600 file beside path, named from it: *tmp gets its name. */
static int tmp_beside(const char *path, char *tmp, size_t cap, char *err, size_t errcap)
{
	if ((size_t)snprintf(tmp, cap, "%s.tmp.XXXXXX", path) >= cap) {
		snprintf(err, errcap, "%s: name too long", path);
		return STORE_EINVAL;
	}
	int fd = mkstemp(tmp); /* mode 0600: the copy holds the trap addresses */
	if (fd < 0) {
		snprintf(err, errcap, "cannot write beside %s: %s", path, strerror(errno));
		return STORE_EIO;
	}
	close(fd);
	return STORE_OK;
}

static void info_fill(const char *path, int version, struct store_copy_info *info)
{
	struct stat st;
	memset(info, 0, sizeof(*info));
	info->bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	info->schema_version = version;
}

int store_backup(struct store *s, const char *path, bool replace, struct store_copy_info *info,
		 char *err, size_t errcap)
{
	if (!s || !path || !*path)
		return STORE_EINVAL;
	/* Said before the copy is made: a large store takes a while. */
	if (!replace && access(path, F_OK) == 0) {
		snprintf(err, errcap, "%s exists: give --force to replace it", path);
		return STORE_EEXIST;
	}
	char tmp[PATH_MAX];
	int rc = tmp_beside(path, tmp, sizeof(tmp), err, errcap);
	if (rc != STORE_OK)
		return rc;
	rc = copy_db(s->db, tmp, err, errcap);
	if (rc == STORE_OK)
		rc = put_in_place(tmp, path, replace, err, errcap);
	if (rc != STORE_OK) {
		unlink(tmp);
		return rc;
	}
	info_fill(path, s->version, info);
	log_info("store", "backup written file=%s bytes=%llu schema_version=%d", path,
		 (unsigned long long)info->bytes, s->version);
	return STORE_OK;
}

/* Runs SQL returning one integer. */
static int query_int(sqlite3 *db, const char *sql, const char *arg, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return STORE_EIO;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : STORE_EIO;
}

static int integrity_rows(sqlite3 *db, int (*fn)(const char *problem, void *arg), void *arg,
			  unsigned *problems)
{
	sqlite3_stmt *st = NULL;
	*problems = 0;
	int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return STORE_EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *row = (const char *)sqlite3_column_text(st, 0);
		if (row && strcmp(row, "ok") == 0)
			continue;
		(*problems)++;
		if (fn && fn(row ? row : "?", arg))
			break;
	}
	sqlite3_finalize(st);
	/* A file too damaged to be read through is a problem of its own. */
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		(*problems)++;
		if (fn)
			fn(sqlite3_errstr(rc), arg);
	}
	return STORE_OK;
}

int store_integrity_check(struct store *s, int (*fn)(const char *problem, void *arg), void *arg,
			  unsigned *problems)
{
	if (!s)
		return STORE_EINVAL;
	return integrity_rows(s->db, fn, arg, problems);
}

static int first_problem(const char *problem, void *arg)
{
	snprintf(arg, STORE_TEXT_MAX, "%s", problem);
	return 1;
}

/* Opens path read-only and checks that it is a sound Trapline store this binary can read:
 * SQLite's header, our tables, a schema version from 1 to ours, and the integrity check. */
static int file_check(const char *path, sqlite3 **out, int *version, char *err, size_t cap)
{
	*out = NULL;
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return STORE_ENOTFOUND;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, cap, "%s: not a file", path);
		return STORE_EINVAL;
	}
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	int64_t v = 0, n = 0;
	if (rc != SQLITE_OK || query_int(db, "PRAGMA user_version", NULL, &v) != STORE_OK) {
		snprintf(err, cap, "%s: not an SQLite database (%s)", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	for (size_t i = 0; i < sizeof(store_tables) / sizeof(store_tables[0]); i++) {
		if (query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
				  "name = ?1", store_tables[i], &n) != STORE_OK || n != 1) {
			snprintf(err, cap, "%s: not a Trapline store (no table %s)", path,
				 store_tables[i]);
			goto fail;
		}
	}
	if (v < 1 || v > store_schema_latest()) {
		snprintf(err, cap, "%s: schema version %lld, this trapline reads 1 to %d%s", path,
			 (long long)v, store_schema_latest(),
			 v > store_schema_latest() ? ": written by a newer trapline" : "");
		goto fail;
	}
	unsigned problems = 0;
	char first[STORE_TEXT_MAX] = "";
	integrity_rows(db, first_problem, first, &problems);
	if (problems) {
		snprintf(err, cap, "%s: the integrity check fails: %.400s", path, first);
		goto fail;
	}
	*version = (int)v;
	*out = db;
	return STORE_OK;
fail:
	sqlite3_close(db);
	return STORE_EINVAL;
}

int store_file_check(const char *path, int *version, char *err, size_t errcap)
{
	sqlite3 *db = NULL;
	int rc = file_check(path, &db, version, err, errcap);
	sqlite3_close(db);
	return rc;
}

/* Removes the write-ahead log and shared memory of a database being replaced: a log left
 * beside the new file would be replayed into it. Under the writer's lock, nobody writes it. */
static void old_log_remove(const char *db)
{
	char p[PATH_MAX + 8];
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

int store_restore(const char *file, const char *dir, bool replace, struct store_copy_info *info,
		  char *err, size_t errcap)
{
	int version = 0, lock = -1;
	sqlite3 *src = NULL;
	int rc = file_check(file, &src, &version, err, errcap);
	if (rc != STORE_OK)
		return rc;
	char db[PATH_MAX], tmp[PATH_MAX];
	if ((size_t)snprintf(db, sizeof(db), "%s/trapline.db", dir) >= sizeof(db)) {
		rc = STORE_EINVAL;
		snprintf(err, errcap, "%s: name too long", dir);
		goto done;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
		rc = STORE_EIO;
		goto done;
	}
	rc = store_lock_take(dir, &lock, 0);
	if (rc == STORE_EBUSY)
		snprintf(err, errcap, "%s is in use by a running trapline: stop it first", dir);
	else if (rc != STORE_OK)
		snprintf(err, errcap, "%s: cannot take its lock", dir);
	if (rc != STORE_OK)
		goto done;
	if (!replace && access(db, F_OK) == 0) {
		snprintf(err, errcap, "%s holds a store already: give --force to replace it", dir);
		rc = STORE_EEXIST;
		goto done;
	}
	if ((rc = tmp_beside(db, tmp, sizeof(tmp), err, errcap)) != STORE_OK)
		goto done;
	rc = copy_db(src, tmp, err, errcap);
	if (rc == STORE_OK) {
		old_log_remove(db);
		rc = put_in_place(tmp, db, true, err, errcap);
	}
	if (rc != STORE_OK)
		unlink(tmp);
done:
	sqlite3_close(src);
	if (lock >= 0)
		close(lock);
	if (rc != STORE_OK)
		return rc;
	/* An older copy is brought up to date as any store is: by the migrations of an open. */
	struct store *s = NULL;
	rc = store_open(dir, &s);
	if (rc != STORE_OK) {
		snprintf(err, errcap, "%s: restored, but it does not open: %s", db, tl_strerror(rc));
		return rc;
	}
	info_fill(db, s->version, info);
	info->from_version = version;
	store_close(s);
	return STORE_OK;
}
