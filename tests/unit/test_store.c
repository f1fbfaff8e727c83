/* test_store.c - unit tests of the SQLite store: schema migrations, every table, the lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/base.h"
#include "store/store.h"

/* ---- helpers --------------------------------------------------------------- */

struct fixture {
	char dir[64];
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct store *open_w(struct fixture *f)
{
	struct store *s = NULL;
	assert_int_equal(store_open(f->dir, &s), STORE_OK);
	assert_non_null(s);
	return s;
}

/* An IPv4 address as the store keeps it: IPv4-mapped IPv6. */
static void ip4m(const char *txt, uint8_t out[16])
{
	uint32_t v = 0;
	assert_int_equal(ip4_parse(txt, strlen(txt), &v), 0);
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	out[12] = (uint8_t)(v >> 24);
	out[13] = (uint8_t)(v >> 16);
	out[14] = (uint8_t)(v >> 8);
	out[15] = (uint8_t)v;
}

static struct store_evidence evidence(const char *ip, enum store_kind k, int64_t at,
				      const char *source)
{
	struct store_evidence ev;
	memset(&ev, 0, sizeof ev);
	ip4m(ip, ev.ip);
	ev.kind = k;
	ev.cls = STORE_CLASS_SPAM;
	ev.received_at = at;
	ev.added_at = at + 1;
	snprintf(ev.source, sizeof ev.source, "%s", source);
	return ev;
}

static void add_ev(struct store *s, struct store_evidence ev)
{
	assert_int_equal(store_evidence_add(s, &ev), STORE_OK);
	assert_true(ev.id > 0);
}

/* Runs SQL on the file directly, as an operator with the sqlite3 shell would; returns rc. */
static int raw_sql(const char *dir, const char *sql)
{
	char path[128];
	snprintf(path, sizeof path, "%s/trapline.db", dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
					 NULL),
			 SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static int raw_count_row(void *arg, int n, char **v, char **names)
{
	(void)names;
	*(int *)arg = n > 0 && v[0] ? atoi(v[0]) : -1;
	return 0;
}

/* The number a query on the file answers ("SELECT count(*) ..."); -1 when none. */
static int raw_count(const char *dir, const char *sql)
{
	char path[128];
	snprintf(path, sizeof path, "%s/trapline.db", dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	int n = -1;
	assert_int_equal(sqlite3_exec(db, sql, raw_count_row, &n, NULL), SQLITE_OK);
	sqlite3_close(db);
	return n;
}

static int raw_user_version(const char *dir)
{
	char path[128];
	snprintf(path, sizeof path, "%s/trapline.db", dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

struct ev_list {
	struct store_evidence ev[16];
	int n;
	int stop_after;
};

static int collect_ev(const struct store_evidence *ev, void *arg)
{
	struct ev_list *l = arg;
	if (l->n < 16)
		l->ev[l->n++] = *ev;
	return l->stop_after && l->n >= l->stop_after;
}

static int raw_journal_is_wal(const char *dir)
{
	char path[128];
	snprintf(path, sizeof path, "%s/trapline.db", dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return wal;
}

/* ---- names ----------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	enum store_kind k;
	enum store_class c;
	assert_int_equal(store_kind_parse("trap", &k), 0);
	assert_int_equal(k, STORE_KIND_TRAP);
	assert_int_equal(store_kind_parse("report", &k), 0);
	assert_int_equal(k, STORE_KIND_REPORT);
	assert_int_equal(store_kind_parse("Trap", &k), STORE_EINVAL);
	assert_int_equal(store_kind_parse("", &k), STORE_EINVAL);
	assert_string_equal(store_kind_name(STORE_KIND_REPORT), "report");
	const char *names[] = { "spam", "bounce", "autoreply", "virus", "unknown" };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(store_class_parse(names[i], &c), 0);
		assert_int_equal(c, i);
		assert_string_equal(store_class_name(c), names[i]);
	}
	assert_int_equal(store_class_parse("ham", &c), STORE_EINVAL);
	assert_string_equal(tl_strerror(STORE_ENEWER), "database written by a newer trapline");
}

/* ---- open, reopen, migrations ---------------------------------------------- */

static void test_open_create_reopen(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	assert_int_equal(store_schema_version(f->s), store_schema_latest());
	assert_true(store_schema_latest() >= 2);
	assert_int_equal(store_begin(f->s), 0);
	add_ev(f->s, evidence("192.0.2.1", STORE_KIND_TRAP, 1000, "trap@example.org"));
	assert_int_equal(store_meta_set_int(f->s, "serial", 77), 0);
	assert_int_equal(store_commit(f->s), 0);
	store_close(f->s);
	f->s = NULL;

	/* The file is private to its owner (trap addresses live in it), and in WAL mode. */
	char path[128];
	snprintf(path, sizeof path, "%s/trapline.db", f->dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(raw_journal_is_wal(f->dir), 1);

	f->s = open_w(f);
	assert_int_equal(store_schema_version(f->s), store_schema_latest());
	int64_t v = 0;
	assert_int_equal(store_meta_get_int(f->s, "serial", &v), 0);
	assert_int_equal(v, 77);
	uint8_t ip[16];
	ip4m("192.0.2.1", ip);
	struct ev_list l = { 0 };
	assert_int_equal(store_evidence_for_ip(f->s, ip, 0, true, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0].source, "trap@example.org");
	assert_int_equal(store_evidence_ips(f->s, 0, NULL, NULL), STORE_EINVAL);
}

/* The schema of version 1 as a released binary wrote it, kept here by hand so the test
 * checks the upgrade path a real old file takes. */
static const char v1_schema[] =
	"CREATE TABLE evidence (id INTEGER PRIMARY KEY, ip BLOB NOT NULL CHECK (length(ip) = 16),"
	" kind INTEGER NOT NULL, class INTEGER NOT NULL, received_at INTEGER NOT NULL,"
	" added_at INTEGER NOT NULL, source TEXT NOT NULL DEFAULT '',"
	" digest TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX evidence_ip_received ON evidence (ip, received_at);"
	"CREATE INDEX evidence_received ON evidence (received_at);"
	"CREATE TABLE listings (ip BLOB PRIMARY KEY NOT NULL, listed_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL, last_evidence_at INTEGER NOT NULL, traps INTEGER NOT NULL,"
	" reports INTEGER NOT NULL, score REAL NOT NULL, reason INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX listings_expires ON listings (expires_at);"
	"CREATE TABLE exclusions (id INTEGER PRIMARY KEY, addr BLOB NOT NULL CHECK"
	" (length(addr) = 16), plen INTEGER NOT NULL CHECK (plen BETWEEN 0 AND 128),"
	" until INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
	" who TEXT NOT NULL DEFAULT '', why TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE actions (id INTEGER PRIMARY KEY, ip BLOB NOT NULL CHECK (length(ip) = 16),"
	" kind INTEGER NOT NULL, at INTEGER NOT NULL, who TEXT NOT NULL DEFAULT '',"
	" why TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX actions_ip_kind_at ON actions (ip, kind, at);"
	"CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, who TEXT NOT NULL,"
	" what TEXT NOT NULL, target TEXT NOT NULL, why TEXT NOT NULL);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;"
	"INSERT INTO audit (at, who, what, target, why) VALUES (5, 'old', 'made', 'x', 'v1');"
	"INSERT INTO meta (key, value) VALUES ('serial', 41);"
	"PRAGMA user_version = 1;";

static void test_migration_upgrades_v1(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(raw_sql(f->dir, v1_schema), SQLITE_OK);
	assert_int_equal(raw_user_version(f->dir), 1);
	/* Version 1 had no guard on the audit log. */
	assert_int_equal(raw_sql(f->dir, "UPDATE audit SET why = 'x' WHERE 0"), SQLITE_OK);

	f->s = open_w(f);
	assert_int_equal(store_schema_version(f->s), store_schema_latest());
	int64_t v = 0;
	assert_int_equal(store_meta_get_int(f->s, "serial", &v), 0);
	assert_int_equal(v, 41);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(raw_user_version(f->dir), store_schema_latest());
	/* The upgrade added the append-only guard. */
	assert_int_not_equal(raw_sql(f->dir, "UPDATE audit SET why = 'rewritten'"), SQLITE_OK);
	/* And the reputation table (version 3), the trap hits and samples (version 7), the key
	 * holders and reports (version 8), the listing history (version 9). */
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM reputation"), SQLITE_OK);
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM trap_hits"), SQLITE_OK);
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM samples"), SQLITE_OK);
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM key_holders, reports, report_hours"),
			 SQLITE_OK);
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM listing_history"), SQLITE_OK);
}

/* A file the main line made before the trap's tables arrived (version 6) gets them and the
 * later ones: the version numbers follow the order migrations reached the main line, never a
 * branch's. */
static void test_migration_upgrades_v6(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(raw_sql(f->dir, "DROP TABLE trap_hits; DROP TABLE samples;"
					 "DROP TABLE report_hours; DROP TABLE reports;"
					 "DROP TABLE key_holders; DROP TABLE listing_history;"
					 "DROP TABLE ticket_events; DROP TABLE tickets;"
					 "DROP TABLE sessions; DROP TABLE moderators;"
					 "DROP TABLE ixfr_journal;"
					 "DROP INDEX evidence_ip_policy;"
					 "DROP INDEX evidence_hit_id;"
					 "ALTER TABLE evidence DROP COLUMN hit_id;"
					 "ALTER TABLE evidence DROP COLUMN reporter;"
					 "CREATE INDEX evidence_ip_received ON evidence (ip, received_at);"
					 "PRAGMA user_version = 6;"), SQLITE_OK);
	assert_int_not_equal(raw_sql(f->dir, "SELECT count(*) FROM trap_hits"), SQLITE_OK);
	f->s = open_w(f);
	assert_int_equal(store_schema_version(f->s), store_schema_latest());
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM trap_hits"), SQLITE_OK);
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM samples"), SQLITE_OK);
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM key_holders, reports, report_hours"),
			 SQLITE_OK);
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM listing_history"), SQLITE_OK);
	assert_int_equal(raw_sql(f->dir, "SELECT count(*) FROM moderators, sessions, tickets,"
					 " ticket_events"), SQLITE_OK);
	/* The evidence-by-address reads use the index with kind, class and reporter (version 13). */
	assert_int_equal(raw_sql(f->dir, "SELECT reporter FROM evidence INDEXED BY "
					 "evidence_ip_policy"), SQLITE_OK);
	/* A feed's hit ids, unique per source (version 14). */
	assert_int_equal(raw_sql(f->dir, "INSERT INTO evidence (ip, kind, class, received_at,"
					 " added_at, source, hit_id) VALUES (zeroblob(16), 1, 0, 1, 1,"
					 " 'feed:a', 'x'), (zeroblob(16), 1, 0, 1, 1, 'feed:b', 'x')"),
			 SQLITE_OK);
	assert_int_not_equal(raw_sql(f->dir, "INSERT INTO evidence (ip, kind, class, received_at,"
					     " added_at, source, hit_id) VALUES (zeroblob(16), 1, 0,"
					     " 1, 1, 'feed:a', 'x')"), SQLITE_OK);
}

/* Migration 12: the open tickets filed before it, several about one address, join the
 * oldest, so that each address has one open ticket from then on. */
static void test_migration_joins_open_tickets(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	store_close(f->s);
	f->s = NULL;
	/* Back to version 11: migration 13's reporter column, 14's hit_id and 15's journal go too. */
	assert_int_equal(raw_sql(f->dir, "DROP TABLE ixfr_journal;"
					 "DROP INDEX tickets_joined; DROP INDEX tickets_ip_decided;"
					 "DROP INDEX evidence_ip_policy;"
					 "DROP INDEX evidence_hit_id;"
					 "ALTER TABLE evidence DROP COLUMN hit_id;"
					 "ALTER TABLE evidence DROP COLUMN reporter;"
					 "CREATE INDEX evidence_ip_policy ON evidence (ip, received_at, kind, class);"
					 "ALTER TABLE tickets DROP COLUMN joined;"
					 "ALTER TABLE tickets DROP COLUMN by_action;"
					 "INSERT INTO tickets (id, ip, email, fixed, created_at, client, status)"
					 " VALUES ('a0000000000000000000000000000000', zeroblob(16), 'a@b.c', 'x', 20, zeroblob(16), 0),"
					 " ('b0000000000000000000000000000000', zeroblob(16), 'a@b.c', 'x', 10, zeroblob(16), 0),"
					 " ('c0000000000000000000000000000000', zeroblob(16), 'a@b.c', 'x', 5, zeroblob(16), 3),"
					 " ('d0000000000000000000000000000000', randomblob(16), 'a@b.c', 'x', 30, zeroblob(16), 0);"
					 "PRAGMA user_version = 11;"), SQLITE_OK);
	f->s = open_w(f);
	assert_int_equal(store_schema_version(f->s), store_schema_latest());
	struct store_ticket *t = calloc(1, sizeof *t);
	assert_non_null(t);
	/* b is the oldest open one of its address: a joins it; c was decided; d is alone. */
	assert_int_equal(store_ticket_get(f->s, "a0000000000000000000000000000000", t), 0);
	assert_string_equal(t->joined, "b0000000000000000000000000000000");
	assert_int_equal(store_ticket_get(f->s, "b0000000000000000000000000000000", t), 0);
	assert_string_equal(t->joined, "");
	assert_int_equal(t->joined_n, 1);
	assert_int_equal(store_ticket_get(f->s, "c0000000000000000000000000000000", t), 0);
	assert_string_equal(t->joined, "");
	assert_int_equal(store_ticket_get(f->s, "d0000000000000000000000000000000", t), 0);
	assert_string_equal(t->joined, "");
	free(t);
}

static void test_migration_refuses_newer(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(raw_sql(f->dir, "PRAGMA user_version = 999"), SQLITE_OK);
	struct store *s = NULL;
	assert_int_equal(store_open(f->dir, &s), STORE_ENEWER);
	assert_null(s);
	assert_int_equal(store_open_mode(f->dir, false, &s), STORE_ENEWER);
	assert_null(s);
	/* Refusing leaves the file alone. */
	assert_int_equal(raw_user_version(f->dir), 999);
}

/* ---- evidence -------------------------------------------------------------- */

static void test_evidence(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	assert_int_equal(store_begin(f->s), 0);
	/* Added out of order: the query returns oldest first. */
	add_ev(f->s, evidence("192.0.2.1", STORE_KIND_REPORT, 3000, "reporter-7"));
	add_ev(f->s, evidence("192.0.2.1", STORE_KIND_TRAP, 1000, "trap1@example.org"));
	add_ev(f->s, evidence("192.0.2.2", STORE_KIND_TRAP, 1500, "trap2@example.org"));
	struct store_evidence ev = evidence("192.0.2.1", STORE_KIND_TRAP, 2000, "trap3@example.org");
	ev.cls = STORE_CLASS_BOUNCE;
	strcpy(ev.digest, "ab12");
	add_ev(f->s, ev);
	ev.kind = 9;
	assert_int_equal(store_evidence_add(f->s, &ev), STORE_EINVAL);
	ev.kind = STORE_KIND_TRAP;
	ev.cls = 5;
	assert_int_equal(store_evidence_add(f->s, &ev), STORE_EINVAL);
	assert_int_equal(store_commit(f->s), 0);

	uint8_t ip[16];
	ip4m("192.0.2.1", ip);
	struct ev_list l = { 0 };
	assert_int_equal(store_evidence_for_ip(f->s, ip, 0, true, collect_ev, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ev[0].received_at, 1000);
	assert_int_equal(l.ev[1].received_at, 2000);
	assert_int_equal(l.ev[2].received_at, 3000);
	assert_int_equal(l.ev[0].kind, STORE_KIND_TRAP);
	assert_int_equal(l.ev[2].kind, STORE_KIND_REPORT);
	assert_string_equal(l.ev[0].source, "trap1@example.org");
	assert_int_equal(l.ev[1].cls, STORE_CLASS_BOUNCE);
	assert_string_equal(l.ev[1].digest, "ab12");
	assert_int_equal(l.ev[1].added_at, 2001);
	assert_memory_equal(l.ev[1].ip, ip, 16);

	/* The window: received at or after since. */
	memset(&l, 0, sizeof l);
	assert_int_equal(store_evidence_for_ip(f->s, ip, 2000, true, collect_ev, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].received_at, 2000);

	/* A public reader never gets the trap address. */
	memset(&l, 0, sizeof l);
	assert_int_equal(store_evidence_for_ip(f->s, ip, 0, false, collect_ev, &l), 0);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(l.ev[i].source, "");

	/* fn returning non-zero stops. */
	memset(&l, 0, sizeof l);
	l.stop_after = 1;
	assert_int_equal(store_evidence_for_ip(f->s, ip, 0, false, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);

	/* Another address, and one with nothing. */
	memset(&l, 0, sizeof l);
	ip4m("192.0.2.2", ip);
	assert_int_equal(store_evidence_for_ip(f->s, ip, 0, true, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0].source, "trap2@example.org");
	memset(&l, 0, sizeof l);
	ip4m("192.0.2.3", ip);
	assert_int_equal(store_evidence_for_ip(f->s, ip, 0, true, collect_ev, &l), 0);
	assert_int_equal(l.n, 0);
}

struct ip_list {
	uint8_t ip[8][16];
	int n;
};

static int collect_ip(const uint8_t ip[16], void *arg)
{
	struct ip_list *l = arg;
	if (l->n < 8)
		memcpy(l->ip[l->n++], ip, 16);
	return 0;
}

static bool has_ip(const struct ip_list *l, const char *txt)
{
	uint8_t ip[16];
	ip4m(txt, ip);
	for (int i = 0; i < l->n; i++)
		if (memcmp(l->ip[i], ip, 16) == 0)
			return true;
	return false;
}

static void test_evidence_ips(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	assert_int_equal(store_begin(f->s), 0);
	add_ev(f->s, evidence("198.51.100.1", STORE_KIND_TRAP, 100, "t"));
	add_ev(f->s, evidence("198.51.100.1", STORE_KIND_TRAP, 900, "t"));
	add_ev(f->s, evidence("198.51.100.1", STORE_KIND_REPORT, 950, "r"));
	add_ev(f->s, evidence("198.51.100.2", STORE_KIND_TRAP, 500, "t"));
	add_ev(f->s, evidence("198.51.100.3", STORE_KIND_TRAP, 50, "t"));
	assert_int_equal(store_commit(f->s), 0);

	struct ip_list l = { 0 };
	assert_int_equal(store_evidence_ips(f->s, 0, collect_ip, &l), 0);
	assert_int_equal(l.n, 3); /* once each */
	memset(&l, 0, sizeof l);
	assert_int_equal(store_evidence_ips(f->s, 500, collect_ip, &l), 0);
	assert_int_equal(l.n, 2);
	assert_true(has_ip(&l, "198.51.100.1"));
	assert_true(has_ip(&l, "198.51.100.2"));
	assert_false(has_ip(&l, "198.51.100.3"));
}

/* ---- listings -------------------------------------------------------------- */

struct li_list {
	struct store_listing l[8];
	int n;
};

static int collect_li(const struct store_listing *l, void *arg)
{
	struct li_list *out = arg;
	if (out->n < 8)
		out->l[out->n++] = *l;
	return 0;
}

static struct store_listing listing(const char *ip, int64_t expires, uint32_t traps)
{
	struct store_listing l;
	memset(&l, 0, sizeof l);
	ip4m(ip, l.ip);
	l.listed_at = 100;
	l.expires_at = expires;
	l.last_evidence_at = 90;
	l.traps = traps;
	l.reports = 3;
	l.score = 13.5;
	l.reason = 3;
	return l;
}

static void test_listings(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_listing a = listing("203.0.113.1", 5000, 2);
	struct store_listing b = listing("203.0.113.2", 6000, 7);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_listing_put(f->s, &a), 0);
	assert_int_equal(store_listing_put(f->s, &b), 0);
	assert_int_equal(store_commit(f->s), 0);

	struct store_listing got;
	assert_int_equal(store_listing_get(f->s, a.ip, &got), 0);
	assert_memory_equal(got.ip, a.ip, 16);
	assert_int_equal(got.listed_at, 100);
	assert_int_equal(got.expires_at, 5000);
	assert_int_equal(got.last_evidence_at, 90);
	assert_int_equal(got.traps, 2);
	assert_int_equal(got.reports, 3);
	assert_true(got.score == 13.5);
	assert_int_equal(got.reason, 3);

	/* put replaces. */
	a.expires_at = 7000;
	a.traps = 4;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_listing_put(f->s, &a), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_listing_get(f->s, a.ip, &got), 0);
	assert_int_equal(got.expires_at, 7000);
	assert_int_equal(got.traps, 4);

	struct li_list l = { 0 };
	assert_int_equal(store_listing_foreach(f->s, collect_li, &l), 0);
	assert_int_equal(l.n, 2);

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_listing_delete(f->s, a.ip), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_listing_get(f->s, a.ip, &got), STORE_ENOTFOUND);
	assert_int_equal(store_listing_get(f->s, b.ip, &got), 0);

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_listing_clear(f->s), 0);
	assert_int_equal(store_commit(f->s), 0);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_listing_foreach(f->s, collect_li, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_listing_get(f->s, b.ip, &got), STORE_ENOTFOUND);
}

/* ---- listing history and the web's counts (migration 5) ---------------------- */

struct ep_list {
	struct store_episode e[8];
	int n;
};

static int collect_ep(const struct store_episode *e, void *arg)
{
	struct ep_list *l = arg;
	if (l->n < 8)
		l->e[l->n++] = *e;
	return 0;
}

static void test_history_and_counts(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	uint8_t a[16], b[16];
	ip4m("203.0.113.1", a);
	ip4m("203.0.113.2", b);
	struct store_episode e1 = { .listed_at = 1000, .ended_at = 5000, .reason = 1 };
	struct store_episode e2 = { .listed_at = 9000, .ended_at = 9500, .reason = 3 };
	memcpy(e1.ip, a, 16);
	memcpy(e2.ip, a, 16);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_history_add(f->s, &e2), 0);
	assert_int_equal(store_history_add(f->s, &e1), 0);
	/* The same episode again replaces it: never two rows for one episode. */
	e1.ended_at = 6000;
	assert_int_equal(store_history_add(f->s, &e1), 0);
	struct store_episode bad = e1;
	bad.ended_at = 10; /* ends before it began */
	assert_int_equal(store_history_add(f->s, &bad), STORE_EINVAL);
	assert_int_equal(store_commit(f->s), 0);
	struct ep_list l = { 0 };
	assert_int_equal(store_history_for_ip(f->s, a, 0, collect_ep, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.e[0].listed_at, 1000); /* oldest first */
	assert_int_equal(l.e[0].ended_at, 6000);
	assert_int_equal(l.e[1].reason, 3);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_history_for_ip(f->s, a, 6001, collect_ep, &l), 0);
	assert_int_equal(l.n, 1); /* only what ended at or after since */
	memset(&l, 0, sizeof l);
	assert_int_equal(store_history_for_ip(f->s, b, 0, collect_ep, &l), 0);
	assert_int_equal(l.n, 0);

	/* Counts: listings, evidence by kind in a time range, evidence per day of one address. */
	assert_int_equal(store_begin(f->s), 0);
	struct store_listing li = listing("203.0.113.9", 5000, 2);
	assert_int_equal(store_listing_put(f->s, &li), 0);
	add_ev(f->s, evidence("203.0.113.1", STORE_KIND_TRAP, 86400 * 10 + 5, "t@x"));
	add_ev(f->s, evidence("203.0.113.1", STORE_KIND_TRAP, 86400 * 10 + 7, "t@x"));
	add_ev(f->s, evidence("203.0.113.1", STORE_KIND_REPORT, 86400 * 12, "r"));
	add_ev(f->s, evidence("203.0.113.1", STORE_KIND_REPORT, 86400 * 40, "r"));
	add_ev(f->s, evidence("203.0.113.2", STORE_KIND_TRAP, 86400 * 10 + 9, "t@x"));
	assert_int_equal(store_commit(f->s), 0);
	uint64_t n = 0, t = 0, r = 0;
	assert_int_equal(store_listing_count(f->s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_evidence_count(f->s, 86400 * 10, 86400 * 13, &t, &r), 0);
	assert_int_equal(t, 3);
	assert_int_equal(r, 1);
	uint32_t traps[5], reports[5];
	assert_int_equal(store_evidence_per_day(f->s, a, 86400 * 9, 5, traps, reports), 0);
	uint32_t want_t[5] = { 0, 2, 0, 0, 0 }, want_r[5] = { 0, 0, 0, 1, 0 };
	assert_memory_equal(traps, want_t, sizeof traps);
	assert_memory_equal(reports, want_r, sizeof reports);
}

/* ---- exclusions, actions, audit, meta -------------------------------------- */

struct ex_list {
	struct store_exclusion ex[8];
	int n;
};

static int collect_ex(const struct store_exclusion *ex, void *arg)
{
	struct ex_list *l = arg;
	if (l->n < 8)
		l->ex[l->n++] = *ex;
	return 0;
}

static void test_exclusions(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_exclusion forever = { 0 }, until = { 0 };
	ip4m("10.0.0.0", forever.prefix.addr);
	forever.prefix.plen = 96 + 8;
	forever.created_at = 10;
	strcpy(forever.who, "ops");
	strcpy(forever.why, "RFC 1918");
	ip4m("192.0.2.0", until.prefix.addr);
	until.prefix.plen = 96 + 24;
	until.until = 2000;
	until.created_at = 20;
	strcpy(until.who, "mod");
	strcpy(until.why, "customer fixed it");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_exclusion_add(f->s, &forever), 0);
	assert_int_equal(store_exclusion_add(f->s, &until), 0);
	struct store_exclusion bad = forever;
	bad.prefix.plen = 129;
	assert_int_equal(store_exclusion_add(f->s, &bad), STORE_EINVAL);
	assert_int_equal(store_commit(f->s), 0);
	assert_true(forever.id > 0 && until.id > forever.id);

	struct ex_list l = { 0 };
	assert_int_equal(store_exclusion_foreach(f->s, 1999, collect_ex, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ex[1].id, until.id);
	assert_memory_equal(l.ex[1].prefix.addr, until.prefix.addr, 16);
	assert_int_equal(l.ex[1].prefix.plen, 120);
	assert_int_equal(l.ex[1].until, 2000);
	assert_int_equal(l.ex[1].created_at, 20);
	assert_string_equal(l.ex[1].who, "mod");
	assert_string_equal(l.ex[1].why, "customer fixed it");

	/* At its until it is no longer in force; the permanent one always is. */
	memset(&l, 0, sizeof l);
	assert_int_equal(store_exclusion_foreach(f->s, 2000, collect_ex, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ex[0].id, forever.id);
	assert_string_equal(l.ex[0].why, "RFC 1918");
}

static int collect_delisting(const struct store_action *a, void *arg)
{
	char *out = arg;
	char ip[IP_STRLEN];
	ip_format(a->ip, ip);
	snprintf(out + strlen(out), 256 - strlen(out), "%s:%s;", ip, a->why);
	return 0;
}

/* The delisting in force is the latest, in commit order, unless an undelisting took it back;
 * each action marks the newest evidence committed before it. */
static void test_actions(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	uint8_t ip[16], other[16];
	ip4m("192.0.2.9", ip);
	ip4m("192.0.2.10", other);
	struct store_action got;
	assert_int_equal(store_delisting_get(f->s, ip, &got), STORE_ENOTFOUND);

	struct store_evidence ev = evidence("192.0.2.9", STORE_KIND_TRAP, 400, "");
	struct store_action a = { 0 };
	memcpy(a.ip, ip, 16);
	a.kind = STORE_ACTION_DELIST;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_evidence_add(f->s, &ev), 0);
	a.at = 500;
	strcpy(a.why, "first");
	assert_int_equal(store_action_add(f->s, &a), 0);
	assert_int_equal(a.evidence_mark, ev.id);
	assert_int_equal(store_evidence_add(f->s, &ev), 0);
	/* A later action at an earlier time (a clock set back) is still the later one. */
	a.at = 100;
	strcpy(a.why, "second");
	assert_int_equal(store_action_add(f->s, &a), 0);
	assert_int_equal(a.evidence_mark, ev.id);
	memcpy(a.ip, other, 16);
	strcpy(a.why, "other ip");
	assert_int_equal(store_action_add(f->s, &a), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_delisting_get(f->s, ip, &got), 0);
	assert_string_equal(got.why, "second");
	assert_int_equal(got.at, 100);
	assert_int_equal(got.evidence_mark, ev.id);
	assert_memory_equal(got.ip, ip, 16);
	assert_int_equal(got.kind, STORE_ACTION_DELIST);
	char list[256] = "";
	assert_int_equal(store_delisting_foreach(f->s, collect_delisting, list), 0);
	assert_string_equal(list, "192.0.2.9:second;192.0.2.10:other ip;");

	/* Undone: no delisting in force, and the list leaves it out. */
	memcpy(a.ip, ip, 16);
	a.kind = STORE_ACTION_UNDELIST;
	strcpy(a.why, "taken back");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_action_add(f->s, &a), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_delisting_get(f->s, ip, &got), STORE_ENOTFOUND);
	list[0] = '\0';
	assert_int_equal(store_delisting_foreach(f->s, collect_delisting, list), 0);
	assert_string_equal(list, "192.0.2.10:other ip;");
	/* Delisted again: in force again. */
	a.kind = STORE_ACTION_DELIST;
	strcpy(a.why, "again");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_action_add(f->s, &a), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_delisting_get(f->s, ip, &got), 0);
	assert_string_equal(got.why, "again");
	a.kind = (enum store_action_kind)7;
	assert_int_equal(store_action_add(f->s, &a), STORE_EINVAL);
}

struct audit_row {
	int64_t at;
	char who[32], what[32], target[32], why[32];
};

struct audit_list {
	struct audit_row r[4];
	int n;
};

static int collect_audit(int64_t at, const char *who, const char *what, const char *target,
			 const char *why, void *arg)
{
	struct audit_list *l = arg;
	if (l->n >= 4)
		return 1;
	struct audit_row *r = &l->r[l->n++];
	r->at = at;
	snprintf(r->who, sizeof r->who, "%s", who);
	snprintf(r->what, sizeof r->what, "%s", what);
	snprintf(r->target, sizeof r->target, "%s", target);
	snprintf(r->why, sizeof r->why, "%s", why);
	return 0;
}

static void test_audit_append_only(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_audit_add(f->s, 10, "alice", "delist", "192.0.2.1", "fixed"), 0);
	assert_int_equal(store_audit_add(f->s, 20, "bob", "exclude", "10.0.0.0/8", "private"), 0);
	assert_int_equal(store_commit(f->s), 0);

	struct audit_list l = { 0 };
	assert_int_equal(store_audit_foreach(f->s, 0, collect_audit, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.r[0].at, 10);
	assert_string_equal(l.r[0].who, "alice");
	assert_string_equal(l.r[0].what, "delist");
	assert_string_equal(l.r[0].target, "192.0.2.1");
	assert_string_equal(l.r[0].why, "fixed");
	assert_string_equal(l.r[1].who, "bob");

	/* Even with SQL on the file, history cannot be rewritten or erased. */
	assert_int_not_equal(raw_sql(f->dir, "UPDATE audit SET why = 'nothing happened'"),
			     SQLITE_OK);
	assert_int_not_equal(raw_sql(f->dir, "DELETE FROM audit"), SQLITE_OK);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_audit_foreach(f->s, 0, collect_audit, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.r[0].why, "fixed");
	/* Appending from outside still works: the guard is on changes, not on the table. */
	assert_int_equal(raw_sql(f->dir, "INSERT INTO audit (at, who, what, target, why)"
					 " VALUES (30, 'c', 'd', 'e', 'f')"),
			 SQLITE_OK);
}

struct rep_list {
	struct store_reputation r[8];
	int n;
};

static int collect_rep(const struct store_reputation *r, void *arg)
{
	struct rep_list *l = arg;
	if (l->n < 8)
		l->r[l->n++] = *r;
	return 0;
}

static struct store_reputation reputation(const char *ip, unsigned plen4, double points,
					  const char *why)
{
	struct store_reputation r = { 0 };
	ip4m(ip, r.prefix.addr);
	r.prefix.plen = (uint8_t)(96 + plen4);
	r.points = points;
	r.created_at = 1000;
	strcpy(r.who, "ops");
	snprintf(r.why, sizeof r.why, "%s", why);
	return r;
}

static int count_rows(int64_t at, const char *who, const char *what, const char *target,
		      const char *why, void *arg)
{
	(void)at, (void)who, (void)what, (void)target, (void)why;
	(*(int *)arg)++;
	return 0;
}

static void test_reputation(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_reputation wide = reputation("198.51.0.0", 16, 20, "big provider");
	struct store_reputation narrow = reputation("198.51.100.0", 24, 2.5, "their bulk range");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_reputation_set(f->s, &wide), 0);
	assert_int_equal(store_reputation_set(f->s, &narrow), 0);
	/* Setting the same prefix again replaces its points. */
	wide.points = 30;
	assert_int_equal(store_reputation_set(f->s, &wide), 0);
	struct store_reputation bad = narrow;
	bad.points = -1;
	assert_int_equal(store_reputation_set(f->s, &bad), STORE_EINVAL);
	bad.points = 1.0 / 0.0;
	assert_int_equal(store_reputation_set(f->s, &bad), STORE_EINVAL);
	bad.points = 1;
	bad.prefix.plen = 129;
	assert_int_equal(store_reputation_set(f->s, &bad), STORE_EINVAL);
	assert_int_equal(store_commit(f->s), 0);

	struct rep_list l = { 0 };
	assert_int_equal(store_reputation_foreach(f->s, collect_rep, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.r[0].prefix.plen, 96 + 16);
	assert_true(l.r[0].points == 30);
	assert_string_equal(l.r[0].why, "big provider");
	assert_string_equal(l.r[0].who, "ops");
	assert_int_equal(l.r[1].prefix.plen, 96 + 24);
	assert_true(l.r[1].points == 2.5);

	/* (Which row applies to an address is the writer's rule: test_writer's facts test.) */
	struct store_reputation got;
	assert_int_equal(store_reputation_get(f->s, &narrow.prefix, &got), 0);
	assert_string_equal(got.why, "their bulk range");

	/* 0 points removes exactly that prefix's row; removing it again changes nothing. */
	narrow.points = 0;
	strcpy(narrow.why, "no longer");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_reputation_set(f->s, &narrow), 0);
	assert_int_equal(store_reputation_set(f->s, &narrow), STORE_ENOTFOUND);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_reputation_get(f->s, &narrow.prefix, &got), STORE_ENOTFOUND);
	assert_int_equal(store_reputation_get(f->s, &wide.prefix, &got), 0);
	assert_true(got.points == 30);

	/* Every change is in the audit log: three sets and one removal, not the no-op. */
	int rows = 0;
	assert_int_equal(store_audit_foreach(f->s, 0, count_rows, &rows), 0);
	assert_int_equal(rows, 4);
	struct audit_list a = { 0 };
	assert_int_equal(store_audit_foreach(f->s, 0, collect_audit, &a), 0);
	assert_string_equal(a.r[0].what, "reputation 20");
	assert_string_equal(a.r[0].target, "198.51.0.0/16");
	assert_string_equal(a.r[0].why, "big provider");
	assert_string_equal(a.r[2].what, "reputation 30");
	assert_string_equal(a.r[3].what, "reputation-remove");
	assert_string_equal(a.r[3].target, "198.51.100.0/24");
	assert_string_equal(a.r[3].who, "ops");
	assert_string_equal(a.r[3].why, "no longer");

	/* And the points survive a reopen. */
	store_close(f->s);
	f->s = open_w(f);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_reputation_foreach(f->s, collect_rep, &l), 0);
	assert_int_equal(l.n, 1);
	assert_true(l.r[0].points == 30);
}


/* ---- key holders and reports ----------------------------------------------------------- */

static struct store_holder holder(const char *name, enum store_holder_kind kind, uint8_t key,
				  const char *relays)
{
	struct store_holder h;
	memset(&h, 0, sizeof h);
	snprintf(h.name, sizeof h.name, "%s", name);
	h.kind = kind;
	memset(h.key_hash, key, sizeof h.key_hash);
	h.created_at = 1000;
	snprintf(h.created_by, sizeof h.created_by, "cli:root");
	h.relays = relays;
	h.relays_len = relays ? strlen(relays) : 0;
	return h;
}

struct holder_list {
	struct store_holder h[8];
	int n;
};

static int collect_holder(const struct store_holder *h, void *arg)
{
	struct holder_list *l = arg;
	if (l->n < 8)
		l->h[l->n++] = *h;
	return 0;
}

/* Reporters and feeds: a live name is unique across both, a key finds its live holder only,
 * a removed holder keeps its row (its reports keep their reporter) and frees its name. */
static void test_holders(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_holder acme = holder("acme", STORE_HOLDER_REPORTER, 1, "192.0.2.0/25\nrelay.example.org\n");
	struct store_holder feed = holder("far-trap", STORE_HOLDER_FEED, 2, NULL);
	struct store_holder again = holder("acme", STORE_HOLDER_FEED, 3, NULL);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_holder_add(f->s, &acme), STORE_OK);
	assert_int_equal(store_holder_add(f->s, &feed), STORE_OK);
	assert_true(acme.id > 0 && feed.id > acme.id);
	assert_int_equal(store_holder_add(f->s, &again), STORE_EEXIST); /* the other kind too */
	struct store_holder bad = holder("", STORE_HOLDER_FEED, 4, NULL);
	assert_int_equal(store_holder_add(f->s, &bad), STORE_EINVAL);
	bad = holder("x", (enum store_holder_kind)3, 4, NULL);
	assert_int_equal(store_holder_add(f->s, &bad), STORE_EINVAL);
	assert_int_equal(store_commit(f->s), 0);

	struct store_holder got;
	assert_int_equal(store_holder_get(f->s, "acme", &got), STORE_OK);
	assert_int_equal(got.id, acme.id);
	assert_int_equal(got.kind, STORE_HOLDER_REPORTER);
	assert_string_equal(got.created_by, "cli:root");
	assert_int_equal(got.created_at, 1000);
	assert_null(got.relays);
	uint8_t key[STORE_KEY_HASH_LEN];
	memset(key, 2, sizeof key);
	assert_int_equal(store_holder_by_key(f->s, key, &got), STORE_OK);
	assert_string_equal(got.name, "far-trap");
	assert_memory_equal(got.key_hash, key, sizeof key);
	memset(key, 9, sizeof key);
	assert_int_equal(store_holder_by_key(f->s, key, &got), STORE_ENOTFOUND);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(store_holder_relays(f->s, acme.id, &text, &len), STORE_OK);
	assert_string_equal(text, "192.0.2.0/25\nrelay.example.org\n");
	assert_int_equal(len, strlen(text));
	free(text);
	assert_int_equal(store_holder_relays(f->s, feed.id, &text, &len), STORE_OK);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(store_holder_relays(f->s, 999, &text, &len), STORE_ENOTFOUND);
	assert_null(text);

	struct holder_list l = {0};
	assert_int_equal(store_holder_foreach(f->s, STORE_HOLDER_REPORTER, collect_holder, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.h[0].name, "acme");
	assert_int_equal(l.h[0].reports, 0);

	/* Removed: the name and the key find nothing, the id still finds the row. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_holder_remove(f->s, "acme", STORE_HOLDER_FEED, 2000), STORE_ENOTFOUND);
	assert_int_equal(store_holder_remove(f->s, "acme", STORE_HOLDER_REPORTER, 2000), STORE_OK);
	assert_int_equal(store_holder_remove(f->s, "acme", STORE_HOLDER_REPORTER, 2001),
			 STORE_ENOTFOUND);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_holder_get(f->s, "acme", &got), STORE_ENOTFOUND);
	memset(key, 1, sizeof key);
	assert_int_equal(store_holder_by_key(f->s, key, &got), STORE_ENOTFOUND);
	assert_int_equal(store_holder_by_id(f->s, acme.id, &got), STORE_OK);
	assert_int_equal(got.removed_at, 2000);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_holder_foreach(f->s, STORE_HOLDER_REPORTER, collect_holder, &l), 0);
	assert_int_equal(l.n, 0);
	/* The name is free again, for a new holder with a new key and id. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_holder_add(f->s, &again), STORE_OK);
	assert_int_equal(store_commit(f->s), 0);
	assert_true(again.id > feed.id);
}

static struct store_report report_row(const char *id, int64_t holder_id, uint8_t digest,
				      const char *source)
{
	struct store_report r;
	memset(&r, 0, sizeof r);
	snprintf(r.id, sizeof r.id, "%s", id);
	r.holder = holder_id;
	r.received_at = 5000;
	memset(r.digest, digest, sizeof r.digest);
	if (source) {
		r.has_source = true;
		ip4m(source, r.source);
	} else {
		snprintf(r.refusal, sizeof r.refusal, "no-received");
	}
	r.cls = STORE_CLASS_SPAM;
	r.analysis = (char *)"{\"source_ip\": null}";
	r.evidence_id = source ? 7 : 0;
	return r;
}

/* A report is stored once per reporter and message; its id fetches it whole. */
static void test_reports(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_holder a = holder("a", STORE_HOLDER_REPORTER, 1, "");
	struct store_holder b = holder("b", STORE_HOLDER_REPORTER, 2, "");
	const char *id1 = "0123456789abcdef0123456789abcdef";
	const char *id2 = "fedcba9876543210fedcba9876543210";
	const char *id3 = "00000000000000000000000000000003";
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_holder_add(f->s, &a), 0);
	assert_int_equal(store_holder_add(f->s, &b), 0);
	struct store_report r1 = report_row(id1, a.id, 0xaa, "203.0.113.7");
	assert_int_equal(store_report_add(f->s, &r1), STORE_OK);
	/* The same message from the same reporter: refused, nothing written. */
	struct store_report dup = report_row(id3, a.id, 0xaa, NULL);
	assert_int_equal(store_report_add(f->s, &dup), STORE_EEXIST);
	/* ... from another reporter: its own report. */
	struct store_report r2 = report_row(id2, b.id, 0xaa, NULL);
	assert_int_equal(store_report_add(f->s, &r2), STORE_OK);
	/* An id that is not 32 hex digits, no analysis: refused. */
	struct store_report bad = report_row("0123456789ABCDEF0123456789ABCDEF", a.id, 1, NULL);
	assert_int_equal(store_report_add(f->s, &bad), STORE_EINVAL);
	bad = report_row(id3, a.id, 1, NULL);
	bad.analysis = NULL;
	assert_int_equal(store_report_add(f->s, &bad), STORE_EINVAL);
	assert_int_equal(store_report_hour_add(f->s, a.id, 10), 0);
	assert_int_equal(store_report_hour_add(f->s, a.id, 10), 0);
	assert_int_equal(store_report_hour_add(f->s, a.id, 11), 0);
	assert_int_equal(store_commit(f->s), 0);

	struct store_report got;
	assert_int_equal(store_report_get(f->s, id1, true, &got), STORE_OK);
	assert_string_equal(got.id, id1);
	assert_int_equal(got.holder, a.id);
	assert_int_equal(got.received_at, 5000);
	assert_true(got.has_source);
	assert_memory_equal(got.source, r1.source, 16);
	assert_string_equal(got.refusal, "");
	assert_int_equal(got.evidence_id, 7);
	assert_string_equal(got.analysis, "{\"source_ip\": null}");
	free(got.analysis);
	assert_int_equal(store_report_get(f->s, id2, false, &got), STORE_OK);
	assert_false(got.has_source);
	assert_string_equal(got.refusal, "no-received");
	assert_null(got.analysis);
	assert_int_equal(store_report_get(f->s, id3, false, &got), STORE_ENOTFOUND);
	uint8_t d[STORE_DIGEST_LEN];
	memset(d, 0xaa, sizeof d);
	assert_int_equal(store_report_by_digest(f->s, "b", d, false, &got), STORE_OK);
	assert_string_equal(got.id, id2);
	memset(d, 0xab, sizeof d);
	assert_int_equal(store_report_by_digest(f->s, "a", d, false, &got), STORE_ENOTFOUND);
	uint64_t n = 0;
	assert_int_equal(store_report_hour_get(f->s, a.id, 10, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_report_hour_get(f->s, a.id, 12, &n), 0);
	assert_int_equal(n, 0);
	struct holder_list l = {0};
	assert_int_equal(store_holder_foreach(f->s, STORE_HOLDER_REPORTER, collect_holder, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.h[0].reports, 1);
	assert_int_equal(l.h[1].reports, 1);
	/* A reporter's key rotated (removed and added again: a new row of the same name): its
	 * reports are found by its name, under the new key too. */
	struct store_holder a2 = holder("a", STORE_HOLDER_REPORTER, 3, "");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_holder_remove(f->s, "a", STORE_HOLDER_REPORTER, 6000), STORE_OK);
	assert_int_equal(store_holder_add(f->s, &a2), STORE_OK);
	assert_int_equal(store_commit(f->s), 0);
	assert_true(a2.id != a.id);
	memset(d, 0xaa, sizeof d);
	assert_int_equal(store_report_by_digest(f->s, "a", d, false, &got), STORE_OK);
	assert_string_equal(got.id, id1);
	assert_int_equal(got.holder, a.id);
	assert_int_equal(store_report_by_digest(f->s, "c", d, false, &got), STORE_ENOTFOUND);
}


static void test_meta(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	int64_t v = -1;
	assert_int_equal(store_meta_get_int(f->s, "serial", &v), STORE_ENOTFOUND);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_meta_set_int(f->s, "serial", 2026112301), 0);
	assert_int_equal(store_meta_set_int(f->s, "serial", 2026112302), 0);
	assert_int_equal(store_meta_set_int(f->s, "big", INT64_MAX), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_meta_get_int(f->s, "serial", &v), 0);
	assert_int_equal(v, 2026112302);
	assert_int_equal(store_meta_get_int(f->s, "big", &v), 0);
	assert_true(v == INT64_MAX);
}

/* ---- transactions ------------------------------------------------------------ */

static void test_rollback_discards(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_listing li = listing("203.0.113.50", 100, 1);
	assert_int_equal(store_begin(f->s), 0);
	add_ev(f->s, evidence("203.0.113.50", STORE_KIND_TRAP, 100, "t"));
	assert_int_equal(store_listing_put(f->s, &li), 0);
	assert_int_equal(store_meta_set_int(f->s, "serial", 5), 0);
	store_rollback(f->s);
	store_rollback(f->s); /* a second one is harmless */

	struct ev_list l = { 0 };
	assert_int_equal(store_evidence_for_ip(f->s, li.ip, 0, true, collect_ev, &l), 0);
	assert_int_equal(l.n, 0);
	struct store_listing got;
	assert_int_equal(store_listing_get(f->s, li.ip, &got), STORE_ENOTFOUND);
	int64_t v;
	assert_int_equal(store_meta_get_int(f->s, "serial", &v), STORE_ENOTFOUND);

	/* The connection is usable afterwards, and a commit after a rollback persists. */
	assert_int_equal(store_begin(f->s), 0);
	add_ev(f->s, evidence("203.0.113.50", STORE_KIND_TRAP, 100, "t"));
	assert_int_equal(store_commit(f->s), 0);
	store_close(f->s);
	f->s = open_w(f);
	assert_int_equal(store_evidence_for_ip(f->s, li.ip, 0, true, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);
}

/* ---- the writer's lock ------------------------------------------------------- */

static void test_lock(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	assert_int_equal(store_begin(f->s), 0);
	add_ev(f->s, evidence("192.0.2.77", STORE_KIND_REPORT, 1234, "reporter"));
	assert_int_equal(store_commit(f->s), 0);

	struct store *second = NULL;
	assert_int_equal(store_open(f->dir, &second), STORE_EBUSY);
	assert_null(second);

	/* A reader beside the writer sees committed data, and cannot write. */
	struct store *ro = NULL;
	assert_int_equal(store_open_mode(f->dir, false, &ro), STORE_OK);
	assert_non_null(ro);
	uint8_t ip[16];
	ip4m("192.0.2.77", ip);
	struct ev_list l = { 0 };
	assert_int_equal(store_evidence_for_ip(ro, ip, 0, false, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].received_at, 1234);
	struct store_evidence ev = evidence("192.0.2.78", STORE_KIND_REPORT, 1, "r");
	assert_int_equal(store_evidence_add(ro, &ev), STORE_EIO);
	store_close(ro);

	/* The lock goes with the writer. */
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->dir, &second), STORE_OK);
	store_close(second);
}

/* A commit is durable once store_commit returned, even if the process dies at once (kill -9,
 * no store_close); the kernel releases the dead writer's lock. */
static void test_kill9_keeps_commits(void **state)
{
	struct fixture *f = *state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *s = NULL;
		char ok = 'n';
		if (store_open(f->dir, &s) == 0 && store_begin(s) == 0) {
			struct store_evidence ev =
				evidence("192.0.2.99", STORE_KIND_TRAP, 4242, "trap@example.org");
			if (store_evidence_add(s, &ev) == 0 && store_commit(s) == 0)
				ok = 'y';
			/* Uncommitted work in flight when the kill comes. */
			if (store_begin(s) == 0) {
				ev.received_at = 4343;
				store_evidence_add(s, &ev);
			}
		}
		if (write(p[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	char ok = 0;
	assert_int_equal(read(p[0], &ok, 1), 1);
	close(p[0]);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(ok, 'y');

	f->s = open_w(f);
	uint8_t ip[16];
	ip4m("192.0.2.99", ip);
	struct ev_list l = { 0 };
	assert_int_equal(store_evidence_for_ip(f->s, ip, 0, true, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].received_at, 4242);
}

static void test_readonly_needs_file(void **state)
{
	struct fixture *f = *state;
	struct store *ro = NULL;
	assert_int_equal(store_open_mode(f->dir, false, &ro), STORE_ENOTFOUND);
	assert_null(ro);
	assert_int_equal(store_open_mode(NULL, false, &ro), STORE_EINVAL);
}

/* ---- checkpoints ------------------------------------------------------------- */

static int count_ip_cb(const uint8_t ip[16], void *arg)
{
	(void)ip;
	(*(int *)arg)++;
	return 0;
}

/* A steady stream of commits: the log is checkpointed by the store's own thread, yet it never
 * grows without bound (a passive checkpoint beside a busy writer cannot restart it alone),
 * and everything committed is there after a reopen. */
static void test_wal_checkpoints_bounded(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	char wal[128];
	snprintf(wal, sizeof wal, "%s/trapline.db-wal", f->dir);
	struct store_evidence ev = evidence("10.0.0.0", STORE_KIND_TRAP, 1700000000, "");
	memset(ev.source, 'x', sizeof ev.source - 1); /* big rows: many pages per commit */
	ev.source[sizeof ev.source - 1] = '\0';
	off_t biggest = 0;
	int n = 0;
	/* About 90,000 log frames: well past the 32,768 at which the log must start over. */
	for (int tx = 0; tx < 3000; tx++) {
		assert_int_equal(store_begin(f->s), 0);
		for (int j = 0; j < 10; j++, n++) {
			/* Distinct addresses all over the index: an odd multiplier permutes 24 bits. */
			uint32_t v = ((uint32_t)n * 2654435761u) & 0xffffffu;
			ev.ip[12] = 11;
			ev.ip[13] = (uint8_t)(v >> 16);
			ev.ip[14] = (uint8_t)(v >> 8);
			ev.ip[15] = (uint8_t)v;
			assert_int_equal(store_evidence_add(f->s, &ev), 0);
		}
		assert_int_equal(store_commit(f->s), 0);
		struct stat st;
		if (stat(wal, &st) == 0 && st.st_size > biggest)
			biggest = st.st_size;
	}
	struct store_stats st;
	for (int i = 0; i < 500 && (store_stats(f->s, &st), st.checkpoints == 0); i++)
		usleep(10000);
	assert_true(st.checkpoints > 0);
	/* 32,768 frames of 4 KiB + 24 bytes, plus the one commit that crossed the line: the
	 * writer waits there for a background checkpoint still running (however slow the disk,
	 * up to 10 s a commit) and then copies the rest itself, so the next commit starts the log
	 * over (measured: exactly 32,768 frames). The bound leaves 8,192 frames of room, which
	 * the product does not need; without the reset the log reaches the 90,000 frames written. */
	print_message("store: largest log %.1f MiB, %lu background checkpoints\n",
		      (double)biggest / 1048576.0, st.checkpoints);
	assert_true(biggest < (off_t)(32768 + 8192) * (4096 + 24));
	store_close(f->s);
	f->s = open_w(f);
	int rows = 0;
	assert_int_equal(store_evidence_ips(f->s, 0, count_ip_cb, &rows), 0);
	assert_int_equal(rows, n);
}

/* synchronous=NORMAL leaves a commit unsynced until a checkpoint, which a quiet store may
 * not reach for hours: the store syncs the log within a second of a commit, and does nothing
 * while nothing is committed. */
static void test_log_synced_after_commit(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_stats st;
	store_stats(f->s, &st);
	assert_int_equal(st.log_syncs, 0);
	add_ev(f->s, evidence("192.0.2.1", STORE_KIND_TRAP, 1700000000, "trap@x.org"));
	for (int i = 0; i < 300 && (store_stats(f->s, &st), st.log_syncs == 0); i++)
		usleep(10000);
	assert_int_equal(st.log_syncs, 1);
	assert_int_equal(st.checkpoints, 0); /* a sync, not a checkpoint: the log stays */
	usleep(2500000);
	store_stats(f->s, &st);
	assert_int_equal(st.log_syncs, 1); /* nothing new, nothing done */
	add_ev(f->s, evidence("192.0.2.2", STORE_KIND_TRAP, 1700000000, "trap@x.org"));
	for (int i = 0; i < 300 && (store_stats(f->s, &st), st.log_syncs == 1); i++)
		usleep(10000);
	assert_int_equal(st.log_syncs, 2);
}

/* ---- throughput -------------------------------------------------------------- */

static void test_evidence_throughput(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	enum { TOTAL = 100000, BATCH = 500 };
	struct store_evidence ev = evidence("10.0.0.0", STORE_KIND_TRAP, 1700000000, "trap@x.org");
	uint64_t t0 = time_mono_ns();
	for (int i = 0; i < TOTAL; i += BATCH) {
		assert_int_equal(store_begin(f->s), 0);
		for (int j = 0; j < BATCH; j++) {
			uint32_t n = (uint32_t)(i + j);
			/* ~25,000 distinct addresses, as many sources hit a trap repeatedly. */
			ev.ip[14] = (uint8_t)((n % 25000) >> 8);
			ev.ip[15] = (uint8_t)(n % 25000);
			ev.received_at = 1700000000 + n / 10;
			ev.added_at = 0;
			assert_int_equal(store_evidence_add(f->s, &ev), 0);
		}
		assert_int_equal(store_commit(f->s), 0);
	}
	double s = (double)(time_mono_ns() - t0) / 1e9;
	print_message("store: %d evidence rows in batches of %d: %.3f s, %.0f rows/s committed\n",
		      TOTAL, BATCH, s, TOTAL / s);
	uint8_t ip[16];
	memcpy(ip, ev.ip, 16);
	struct ev_list got = { 0 };
	assert_int_equal(store_evidence_for_ip(f->s, ip, 0, false, collect_ev, &got), 0);
	assert_int_equal(got.n, TOTAL / 25000);
}

/* ---- trap hits and samples (version 7) ------------------------------------- */

struct hit_copy {
	int calls;
	char helo[64], from[64], rcpts[128], signals[64];
	char sample[64];
	size_t sample_len;
	int64_t until;
	uint64_t size;
};

static int hit_cb(const struct store_trap_hit *h, void *arg)
{
	struct hit_copy *c = arg;
	c->calls++;
	snprintf(c->helo, sizeof c->helo, "%s", h->helo);
	snprintf(c->from, sizeof c->from, "%s", h->mail_from);
	snprintf(c->rcpts, sizeof c->rcpts, "%s", h->rcpts);
	snprintf(c->signals, sizeof c->signals, "%s", h->signals);
	c->sample_len = h->sample ? h->sample_len : (size_t)-1;
	if (h->sample && h->sample_len < sizeof c->sample)
		memcpy(c->sample, h->sample, h->sample_len);
	c->until = h->sample_until;
	c->size = h->size;
	return 0;
}

struct policy_rows {
	int n;
	int64_t id, at;
	enum store_kind kind;
	char reporter[64]; /* "-" for NULL */
};

static int policy_row(int64_t id, int64_t received_at, enum store_kind kind, enum store_class cls,
		      const char *reporter, void *arg)
{
	struct policy_rows *p = arg;
	p->id = id;
	(void)cls;
	p->n++;
	p->at = received_at;
	p->kind = kind;
	snprintf(p->reporter, sizeof p->reporter, "%s", reporter ? reporter : "-");
	return 0;
}

static void test_trap_hits(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	assert_int_equal(store_begin(f->s), 0);
	struct store_evidence a = evidence("192.0.2.50", STORE_KIND_TRAP, 1000, "t@trap.example");
	struct store_evidence b = evidence("192.0.2.51", STORE_KIND_TRAP, 1000, "t@trap.example");
	assert_int_equal(store_evidence_add(f->s, &a), 0);
	assert_int_equal(store_evidence_add(f->s, &b), 0);
	/* A sample may hold any byte: NUL included. */
	struct store_trap_hit h = { .evidence_id = a.id, .helo = "h", .mail_from = "",
				    .rcpts = "t@trap.example\nu@trap.example", .size = 77,
				    .signals = "null-sender", .sample = "A\0B", .sample_len = 3,
				    .sample_until = 2000 };
	assert_int_equal(store_trap_hit_add(f->s, &h), 0);
	struct store_trap_hit hb = { .evidence_id = b.id, .helo = NULL, .size = 1,
				     .sample = "X", .sample_len = 1, .sample_until = 5000 };
	assert_int_equal(store_trap_hit_add(f->s, &hb), 0);
	struct store_trap_hit bad = { .evidence_id = 0 };
	assert_int_equal(store_trap_hit_add(f->s, &bad), STORE_EINVAL);
	assert_int_equal(store_commit(f->s), 0);

	/* The policy's view of the evidence: time, kind and class, from the index. */
	uint8_t ip[16];
	ip4m("192.0.2.50", ip);
	struct policy_rows pr = { 0 };
	assert_int_equal(store_evidence_policy_for_ip(f->s, ip, 0, policy_row, &pr), 0);
	assert_int_equal(pr.n, 1);
	assert_int_equal(pr.at, 1000);
	assert_int_equal(pr.id, a.id);
	assert_int_equal(pr.kind, STORE_KIND_TRAP);
	assert_string_equal(pr.reporter, "-");
	assert_int_equal(store_evidence_policy_for_ip(f->s, ip, 1001, policy_row, &pr), 0);
	assert_int_equal(pr.n, 1);
	/* A reporter's report names its reporter (its source "reporter:NAME"); an operator's
	 * report, and a trap hit whose source happens to start so, do not. */
	const struct {
		enum store_kind kind;
		const char *source, *want;
	} who[] = {
		{STORE_KIND_REPORT, "reporter:acme", "acme"},
		{STORE_KIND_REPORT, "cli:root", "-"},
		{STORE_KIND_TRAP, "reporter:x@trap.example", "-"},
	};
	for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
		ip4m("192.0.2.51", ip);
		struct store_evidence e = {.kind = who[i].kind, .received_at = 3000 + (int64_t)i,
					   .added_at = 1};
		memcpy(e.ip, ip, 16);
		snprintf(e.source, sizeof e.source, "%s", who[i].source);
		assert_int_equal(store_begin(f->s), 0);
		assert_int_equal(store_evidence_add(f->s, &e), 0);
		assert_int_equal(store_commit(f->s), 0);
		memset(&pr, 0, sizeof pr);
		assert_int_equal(store_evidence_policy_for_ip(f->s, ip, 3000 + (int64_t)i, policy_row,
							      &pr), 0);
		assert_int_equal(pr.n, 1);
		assert_string_equal(pr.reporter, who[i].want);
	}

	struct hit_copy c = { 0 };
	assert_int_equal(store_trap_hit_get(f->s, a.id, hit_cb, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.helo, "h");
	assert_string_equal(c.from, "");
	assert_string_equal(c.rcpts, "t@trap.example\nu@trap.example");
	assert_string_equal(c.signals, "null-sender");
	assert_int_equal(c.size, 77);
	assert_int_equal(c.sample_len, 3);
	assert_memory_equal(c.sample, "A\0B", 3);
	assert_int_equal(c.until, 2000);
	assert_int_equal(store_trap_hit_get(f->s, 9999, hit_cb, &c), STORE_ENOTFOUND);

	/* Pruning takes the samples whose time is up, at most max a call, and nothing else. */
	unsigned n = 99;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_samples_prune(f->s, 1999, 10, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_samples_prune(f->s, 6000, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_commit(f->s), 0);
	memset(&c, 0, sizeof c);
	assert_int_equal(store_trap_hit_get(f->s, a.id, hit_cb, &c), 0);
	assert_int_equal(c.sample_len, (size_t)-1); /* the older one went first */
	assert_string_equal(c.helo, "h");
	memset(&c, 0, sizeof c);
	assert_int_equal(store_trap_hit_get(f->s, b.id, hit_cb, &c), 0);
	assert_int_equal(c.sample_len, 1);
}

/* ---- review requests, moderators and sessions (migration 10) ---------------------------- */

static int collect_names(const struct store_moderator *m, void *arg)
{
	char *out = arg;
	strcat(out, m->name);
	strcat(out, m->pw_hash[0] ? "+hash " : " ");
	return 0;
}

static void test_moderators_sessions(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_moderator a = {.created_at = 100}, b, got;
	snprintf(a.name, sizeof a.name, "alice");
	snprintf(a.pw_hash, sizeof a.pw_hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
	b = a;
	snprintf(b.name, sizeof b.name, "bob");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_moderator_add(f->s, &a), 0);
	assert_int_equal(store_moderator_add(f->s, &b), 0);
	struct store_moderator dup = a;
	assert_int_equal(store_moderator_add(f->s, &dup), STORE_EEXIST);
	struct store_session sa = {.moderator = a.id, .created_at = 100, .expires_at = 200};
	memset(sa.token_hash, 0xaa, sizeof sa.token_hash);
	struct store_session sb = {.moderator = b.id, .created_at = 100, .expires_at = 200};
	memset(sb.token_hash, 0xbb, sizeof sb.token_hash);
	assert_int_equal(store_session_add(f->s, &sa), 0);
	assert_int_equal(store_session_add(f->s, &sb), 0);
	assert_int_equal(store_session_add(f->s, &sb), STORE_EEXIST);
	assert_int_equal(store_commit(f->s), 0);

	assert_int_equal(store_moderator_get(f->s, "alice", &got), 0);
	assert_string_equal(got.pw_hash, a.pw_hash);
	char names[64] = "";
	assert_int_equal(store_moderator_foreach(f->s, collect_names, names), 0);
	assert_string_equal(names, "alice bob "); /* never the hashes in a list */

	struct store_session live;
	assert_int_equal(store_session_get(f->s, sa.token_hash, 150, &live), 0);
	assert_string_equal(live.name, "alice");
	assert_int_equal(live.expires_at, 200);
	/* Expired, ended, or of a removed moderator: the same answer. */
	assert_int_equal(store_session_get(f->s, sa.token_hash, 200, &live), STORE_ENOTFOUND);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_session_end(f->s, sa.token_hash, 160), 0);
	assert_int_equal(store_session_end(f->s, sa.token_hash, 161), STORE_ENOTFOUND);
	assert_int_equal(store_moderator_remove(f->s, "bob", 170), 0);
	assert_int_equal(store_moderator_remove(f->s, "bob", 171), STORE_ENOTFOUND);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_session_get(f->s, sa.token_hash, 165, &live), STORE_ENOTFOUND);
	assert_int_equal(store_session_get(f->s, sb.token_hash, 175, &live), STORE_ENOTFOUND);
	assert_int_equal(store_moderator_get(f->s, "bob", &got), STORE_ENOTFOUND);
	/* The removed row stays: its sessions were ended with it, not deleted. */
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM sessions WHERE ended_at = 170"), 1);
	/* Each guard holds alone: a session left live (a moderator marked removed behind the
	 * store's back) of a removed moderator opens nothing either. */
	struct store_moderator c = a;
	snprintf(c.name, sizeof c.name, "carol");
	struct store_session sc = {.created_at = 100, .expires_at = 200};
	memset(sc.token_hash, 0xcc, sizeof sc.token_hash);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_moderator_add(f->s, &c), 0);
	sc.moderator = c.id;
	assert_int_equal(store_session_add(f->s, &sc), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_session_get(f->s, sc.token_hash, 150, &live), 0);
	assert_int_equal(raw_sql(f->dir, "UPDATE moderators SET removed_at = 172 WHERE name = 'carol'"),
			 SQLITE_OK);
	assert_int_equal(store_session_get(f->s, sc.token_hash, 175, &live), STORE_ENOTFOUND);
	/* A name of a removed moderator can be given again. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_moderator_add(f->s, &b), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_session_get(f->s, sb.token_hash, 175, &live), STORE_ENOTFOUND);
}

struct ticket_list {
	char ids[8][STORE_TICKET_ID_LEN + 1];
	size_t n;
};

static int collect_ticket(const struct store_ticket *t, void *arg)
{
	struct ticket_list *l = arg;
	if (l->n < 8)
		snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", t->id);
	return 0;
}

static int collect_row(const char *id, const uint8_t ip[16], void *arg)
{
	(void)ip;
	struct ticket_list *l = arg;
	if (l->n < 8)
		snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", id);
	return 0;
}

static int collect_event(const struct store_ticket_event *e, void *arg)
{
	char *out = arg;
	strcat(out, e->what);
	strcat(out, "/");
	strcat(out, e->who);
	strcat(out, " ");
	return 0;
}

static void test_tickets(void **state)
{
	struct fixture *f = *state;
	f->s = open_w(f);
	struct store_ticket *t = calloc(1, sizeof *t), *got = calloc(1, sizeof *got);
	assert_non_null(t);
	assert_non_null(got);
	snprintf(t->id, sizeof t->id, "%032d", 1);
	ip4m("192.0.2.1", t->ip);
	ip4m("198.51.100.7", t->client);
	snprintf(t->email, sizeof t->email, "postmaster@example.org");
	snprintf(t->fixed, sizeof t->fixed, "closed the open relay");
	t->created_at = 1000;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_ticket_add(f->s, t), 0);
	assert_int_equal(store_ticket_add(f->s, t), STORE_EEXIST);
	struct store_ticket_event filed = {1000, "filed", "requester", ""};
	assert_int_equal(store_ticket_event_add(f->s, t->id, &filed), 0);
	snprintf(t->id, sizeof t->id, "%032d", 2);
	t->created_at = 2000;
	assert_int_equal(store_ticket_add(f->s, t), 0);
	assert_int_equal(store_commit(f->s), 0);

	uint64_t n = 0;
	assert_int_equal(store_ticket_count_client(f->s, t->client, 1000, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_ticket_count_client(f->s, t->client, 1001, &n), 0);
	assert_int_equal(n, 1);
	/* Nothing decided yet: the per-address limit counts decided tickets. */
	assert_int_equal(store_ticket_count_decided(f->s, t->ip, 0, &n), 0);
	assert_int_equal(n, 0);
	char head[STORE_TICKET_ID_LEN + 1];
	assert_int_equal(store_ticket_open_head(f->s, t->ip, head), 0);
	assert_int_equal(strcmp(head, "00000000000000000000000000000001"), 0);
	assert_int_equal(store_ticket_open_head(f->s, t->client, head), STORE_ENOTFOUND);

	struct store_ticket d = {.status = STORE_TICKET_DELISTED, .decided_at = 3000};
	snprintf(d.id, sizeof d.id, "%032d", 1);
	snprintf(d.moderator, sizeof d.moderator, "moderator:alice");
	snprintf(d.reason, sizeof d.reason, "relay closed");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_ticket_decide(f->s, &d), 0);
	/* Decided once: a second decision finds no open ticket. */
	d.status = STORE_TICKET_REJECTED;
	assert_int_equal(store_ticket_decide(f->s, &d), STORE_ENOTFOUND);
	struct store_ticket_event ev = {3000, "delist", "moderator:alice", "relay closed"};
	assert_int_equal(store_ticket_event_add(f->s, d.id, &ev), 0);
	assert_int_equal(store_commit(f->s), 0);

	assert_int_equal(store_ticket_get(f->s, d.id, got), 0);
	assert_int_equal(got->status, STORE_TICKET_DELISTED);
	assert_string_equal(got->fixed, "closed the open relay");
	assert_string_equal(got->moderator, "moderator:alice");
	assert_int_equal(got->decided_at, 3000);
	assert_string_equal(store_ticket_status_name(got->status), "delisted");
	assert_false(got->by_action);
	assert_string_equal(got->joined, "");
	assert_int_equal(store_ticket_count_decided(f->s, t->ip, 3000, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_ticket_count_decided(f->s, t->ip, 3001, &n), 0);
	assert_int_equal(n, 0);
	char unknown[STORE_TICKET_ID_LEN + 1];
	snprintf(unknown, sizeof unknown, "%032d", 3);
	assert_int_equal(store_ticket_get(f->s, unknown, got), STORE_ENOTFOUND);
	assert_int_equal(store_ticket_get(f->s, "short", got), STORE_EINVAL);

	struct ticket_list open = {0}, all = {0};
	assert_int_equal(store_ticket_foreach(f->s, true, collect_ticket, &open), 0);
	assert_int_equal(open.n, 1);
	assert_string_equal(open.ids[0], t->id);
	assert_int_equal(store_ticket_foreach(f->s, false, collect_ticket, &all), 0);
	assert_int_equal(all.n, 2);
	char events[128] = "";
	assert_int_equal(store_ticket_event_foreach(f->s, d.id, collect_event, events), 0);
	assert_string_equal(events, "filed/requester delist/moderator:alice ");
	/* A request that joins the open ticket 2: listed under it, not on its own; decided on
	 * it, it counts as nothing for the address's limit; closed by an action outside, neither
	 * does its ticket. */
	snprintf(t->id, sizeof t->id, "%032d", 4);
	snprintf(t->joined, sizeof t->joined, "%032d", 2);
	t->created_at = 4000;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_ticket_add(f->s, t), 0);
	assert_int_equal(store_commit(f->s), 0);
	struct ticket_list joined = {0}, rows = {0};
	snprintf(unknown, sizeof unknown, "%032d", 2);
	assert_int_equal(store_ticket_joined_foreach(f->s, unknown, collect_ticket, &joined), 0);
	assert_int_equal(joined.n, 1);
	assert_string_equal(joined.ids[0], t->id);
	assert_int_equal(store_ticket_get(f->s, unknown, got), 0);
	assert_int_equal(got->joined_n, 1);
	memset(&open, 0, sizeof open);
	assert_int_equal(store_ticket_foreach(f->s, true, collect_ticket, &open), 0);
	assert_int_equal(open.n, 1); /* ticket 2 alone: 4 joined it */
	assert_int_equal(store_ticket_open_rows(f->s, collect_row, &rows), 0);
	assert_int_equal(rows.n, 2); /* 2 and 4: every open request */
	d.status = STORE_TICKET_DELISTED;
	d.by_action = true;
	d.decided_at = 5000;
	snprintf(d.id, sizeof d.id, "%032d", 2);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_ticket_decide(f->s, &d), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_ticket_count_decided(f->s, t->ip, 0, &n), 0);
	assert_int_equal(n, 1); /* ticket 1's decision; 2 was closed by an action */
	assert_int_equal(store_ticket_get(f->s, d.id, got), 0);
	assert_true(got->by_action);
	/* A ticket's history cannot be rewritten from outside either. */
	assert_int_not_equal(raw_sql(f->dir, "UPDATE ticket_events SET why = 'x'"), SQLITE_OK);
	assert_int_not_equal(raw_sql(f->dir, "DELETE FROM ticket_events"), SQLITE_OK);
	free(t);
	free(got);
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_open_create_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_upgrades_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_upgrades_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_joins_open_tickets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_refuses_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_ips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trap_hits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_append_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moderators_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tickets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reputation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_discards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill9_keeps_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_needs_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_checkpoints_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_synced_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_throughput, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
