/* store_db.c - opening the store: the writer's lock, SQLite pragmas, migrations, statements. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "store_internal.h"

/* Schema migrations, oldest first. A row is never edited once released: a change is a new
 * row, so every file in the field walks the same path to the current schema. Versions are
 * numbered in the order they reached the main line (4 and 5 were never on it), so that a file
 * made by any earlier main runs every migration it lacks. */
static const struct {
	int version;
	const char *sql;
} migrations[] = {
	{ 1, "CREATE TABLE evidence ("
	     " id INTEGER PRIMARY KEY,"
	     " ip BLOB NOT NULL CHECK (length(ip) = 16),"
	     " kind INTEGER NOT NULL,"
	     " class INTEGER NOT NULL,"
	     " received_at INTEGER NOT NULL,"
	     " added_at INTEGER NOT NULL,"
	     " source TEXT NOT NULL DEFAULT '',"
	     " digest TEXT NOT NULL DEFAULT '');"
	     "CREATE INDEX evidence_ip_received ON evidence (ip, received_at);"
	     "CREATE INDEX evidence_received ON evidence (received_at);"
	     /* WITHOUT ROWID: the address is the key, one b-tree instead of two. */
	     "CREATE TABLE listings ("
	     " ip BLOB PRIMARY KEY NOT NULL,"
	     " listed_at INTEGER NOT NULL,"
	     " expires_at INTEGER NOT NULL,"
	     " last_evidence_at INTEGER NOT NULL,"
	     " traps INTEGER NOT NULL,"
	     " reports INTEGER NOT NULL,"
	     " score REAL NOT NULL,"
	     " reason INTEGER NOT NULL) WITHOUT ROWID;"
	     "CREATE INDEX listings_expires ON listings (expires_at);"
	     "CREATE TABLE exclusions ("
	     " id INTEGER PRIMARY KEY,"
	     " addr BLOB NOT NULL CHECK (length(addr) = 16),"
	     " plen INTEGER NOT NULL CHECK (plen BETWEEN 0 AND 128),"
	     " until INTEGER NOT NULL DEFAULT 0,"
	     " created_at INTEGER NOT NULL,"
	     " who TEXT NOT NULL DEFAULT '',"
	     " why TEXT NOT NULL DEFAULT '');"
	     "CREATE TABLE actions ("
	     " id INTEGER PRIMARY KEY,"
	     " ip BLOB NOT NULL CHECK (length(ip) = 16),"
	     " kind INTEGER NOT NULL,"
	     " at INTEGER NOT NULL,"
	     " who TEXT NOT NULL DEFAULT '',"
	     " why TEXT NOT NULL DEFAULT '');"
	     "CREATE INDEX actions_ip_kind_at ON actions (ip, kind, at);"
	     "CREATE TABLE audit ("
	     " id INTEGER PRIMARY KEY,"
	     " at INTEGER NOT NULL,"
	     " who TEXT NOT NULL,"
	     " what TEXT NOT NULL,"
	     " target TEXT NOT NULL,"
	     " why TEXT NOT NULL);"
	     "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;" },
	/* The audit log is append-only in the file itself, not only by convention in our code:
	 * a moderator with the sqlite3 shell cannot quietly rewrite history either. */
	{ 2, "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
	     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;" },
	/* Reputation points an operator gives a prefix (a big mail provider): one row per exact
	 * prefix, so setting it again replaces the points; a row with 0 points is removed. */
	{ 3, "CREATE TABLE reputation ("
	     " addr BLOB NOT NULL CHECK (length(addr) = 16),"
	     " plen INTEGER NOT NULL CHECK (plen BETWEEN 0 AND 128),"
	     " points REAL NOT NULL CHECK (points > 0),"
	     " created_at INTEGER NOT NULL,"
	     " who TEXT NOT NULL DEFAULT '',"
	     " why TEXT NOT NULL DEFAULT '',"
	     " PRIMARY KEY (addr, plen)) WITHOUT ROWID;" },
	/* A moderator's action records the newest evidence at its commit, so that evidence
	 * received in the same second but committed after a delisting still counts (commit order
	 * breaks the tie that whole seconds leave). A listing keeps the class most of its trap
	 * hits had, for the meaning its TXT record gives after a restart. */
	{ 6, "ALTER TABLE actions ADD COLUMN evidence_mark INTEGER NOT NULL DEFAULT 0;"
	     "ALTER TABLE listings ADD COLUMN detail INTEGER NOT NULL DEFAULT 0;"
	     "CREATE INDEX actions_ip_id ON actions (ip, id);"
	     "CREATE INDEX audit_at ON audit (at);" },
	/* What a spamtrap hit records beside its evidence row: the SMTP envelope, for good, and
	 * a sample of the message for the moderators, deleted by the writer when its time is up
	 * (kept apart so that pruning it never touches the evidence). */
	{ 7, "CREATE TABLE trap_hits ("
	     " evidence_id INTEGER PRIMARY KEY REFERENCES evidence (id),"
	     " helo TEXT NOT NULL DEFAULT '',"
	     " mail_from TEXT NOT NULL DEFAULT '',"
	     " rcpts TEXT NOT NULL DEFAULT '',"
	     " size INTEGER NOT NULL DEFAULT 0,"
	     " signals TEXT NOT NULL DEFAULT '');"
	     "CREATE TABLE samples ("
	     " evidence_id INTEGER PRIMARY KEY REFERENCES evidence (id),"
	     " kept_until INTEGER NOT NULL,"
	     " body BLOB NOT NULL);"
	     "CREATE INDEX samples_kept_until ON samples (kept_until);"
	     /* The writer scores an address from the kind, class and time of each piece: with
	      * them in the index it reads the index alone. A trap flooded by one address makes
	      * this the writer's hottest read (three times cheaper than the row lookups). The
	      * old index is a prefix of the new one. */
	     "CREATE INDEX evidence_ip_policy ON evidence (ip, received_at, kind, class);"
	     "DROP INDEX evidence_ip_received;" },
	/* Who may send evidence from outside: reporters (user reports) and feeds (trap hits of
	 * traps elsewhere), each with an API key of which only a hash is kept. A removed holder's
	 * row stays for its reports; a live name is unique across both kinds. Reports keep what
	 * the analysis found, and the same message (its digest) from the same holder once. The
	 * hourly counts make the per-reporter limit one row read, however many reports. */
	{ 8, "CREATE TABLE key_holders ("
	     " id INTEGER PRIMARY KEY,"
	     " name TEXT NOT NULL,"
	     " kind INTEGER NOT NULL CHECK (kind IN (1, 2)),"
	     " key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),"
	     " trusted_relays TEXT NOT NULL DEFAULT '',"
	     " created_at INTEGER NOT NULL,"
	     " created_by TEXT NOT NULL DEFAULT '',"
	     " removed_at INTEGER NOT NULL DEFAULT 0);"
	     "CREATE UNIQUE INDEX key_holders_live_name ON key_holders (name) WHERE removed_at = 0;"
	     "CREATE TABLE reports ("
	     " id TEXT NOT NULL UNIQUE CHECK (length(id) = 32),"
	     " holder INTEGER NOT NULL REFERENCES key_holders (id),"
	     " received_at INTEGER NOT NULL,"
	     " digest BLOB NOT NULL CHECK (length(digest) = 32),"
	     " source BLOB CHECK (source IS NULL OR length(source) = 16),"
	     " refusal TEXT NOT NULL DEFAULT '',"
	     " class INTEGER NOT NULL,"
	     " analysis TEXT NOT NULL,"
	     " evidence_id INTEGER NOT NULL DEFAULT 0,"
	     " UNIQUE (holder, digest));"
	     "CREATE TABLE report_hours ("
	     " holder INTEGER NOT NULL,"
	     " hour INTEGER NOT NULL,"
	     " n INTEGER NOT NULL,"
	     " PRIMARY KEY (holder, hour)) WITHOUT ROWID;" },
	/* Past listing episodes, for the lookup page's 30 days:
	 * the listings table holds only current listings and loses a row when it ends. One row
	 * per episode, keyed by its start, so an episode is never recorded twice. */
	{ 9, "CREATE TABLE listing_history ("
	     " ip BLOB NOT NULL CHECK (length(ip) = 16),"
	     " listed_at INTEGER NOT NULL,"
	     " ended_at INTEGER NOT NULL,"
	     " reason INTEGER NOT NULL,"
	     " PRIMARY KEY (ip, listed_at)) WITHOUT ROWID;" },
	/* Review requests and the moderators who decide them (issue 14). A ticket's id is its
	 * requester's secret link. The rate limits count a client's and an address's tickets
	 * of the last day from the indexes. A ticket's history, like the audit log, cannot be
	 * rewritten. Sessions keep only the hash of their token, so that a copy of the file
	 * opens no session; a removed moderator's row stays for the tickets that name it. */
	{ 10, "CREATE TABLE moderators ("
	      " id INTEGER PRIMARY KEY,"
	      " name TEXT NOT NULL,"
	      " pw_hash TEXT NOT NULL,"
	      " created_at INTEGER NOT NULL,"
	      " created_by TEXT NOT NULL DEFAULT '',"
	      " removed_at INTEGER NOT NULL DEFAULT 0);"
	      "CREATE UNIQUE INDEX moderators_live_name ON moderators (name) WHERE removed_at = 0;"
	      "CREATE TABLE sessions ("
	      " token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),"
	      " moderator INTEGER NOT NULL REFERENCES moderators (id),"
	      " created_at INTEGER NOT NULL,"
	      " expires_at INTEGER NOT NULL,"
	      " ended_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	      "CREATE INDEX sessions_moderator ON sessions (moderator);"
	      "CREATE TABLE tickets ("
	      " id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 32),"
	      " ip BLOB NOT NULL CHECK (length(ip) = 16),"
	      " email TEXT NOT NULL,"
	      " fixed TEXT NOT NULL,"
	      " comment TEXT NOT NULL DEFAULT '',"
	      " created_at INTEGER NOT NULL,"
	      " client BLOB NOT NULL CHECK (length(client) = 16),"
	      " status INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 3),"
	      " moderator TEXT NOT NULL DEFAULT '',"
	      " decided_at INTEGER NOT NULL DEFAULT 0,"
	      " until INTEGER NOT NULL DEFAULT 0,"
	      " reason TEXT NOT NULL DEFAULT '');"
	      "CREATE INDEX tickets_status_created ON tickets (status, created_at);"
	      "CREATE INDEX tickets_created ON tickets (created_at);"
	      "CREATE INDEX tickets_client_created ON tickets (client, created_at);"
	      "CREATE INDEX tickets_ip_created ON tickets (ip, created_at);"
	      "CREATE TABLE ticket_events ("
	      " id INTEGER PRIMARY KEY,"
	      " ticket TEXT NOT NULL REFERENCES tickets (id),"
	      " at INTEGER NOT NULL,"
	      " what TEXT NOT NULL,"
	      " who TEXT NOT NULL,"
	      " why TEXT NOT NULL DEFAULT '');"
	      "CREATE INDEX ticket_events_ticket ON ticket_events (ticket, id);"
	      "CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events"
	      " BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;"
	      "CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events"
	      " BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;" },
	/* A moderator reads the newest reports of an address with their Received-chain
	 * explanations (store_report_recent): by source, not by a scan of every report. */
	{ 11, "CREATE INDEX reports_source ON reports (source, received_at) WHERE source IS NOT NULL;" },
	/* One open ticket per address (issue 19): a request about an address that has one joins
	 * it (joined: the open ticket's id) and is decided with it, so that junk requests cannot
	 * use up an address's quota; the per-address limit counts decided tickets. by_action: the
	 * ticket was closed by a delisting or an exclusion made outside it (the operator's
	 * `delist`, `exclude`), not decided on it. Open tickets filed before this, several about
	 * one address, join the oldest. */
	{ 12, "ALTER TABLE tickets ADD COLUMN joined TEXT NOT NULL DEFAULT '';"
	      "ALTER TABLE tickets ADD COLUMN by_action INTEGER NOT NULL DEFAULT 0;"
	      "UPDATE tickets SET joined = (SELECT h.id FROM tickets h WHERE h.ip = tickets.ip"
	      " AND h.status = 0 ORDER BY h.created_at, h.id LIMIT 1)"
	      " WHERE status = 0 AND id != (SELECT h.id FROM tickets h WHERE h.ip = tickets.ip"
	      " AND h.status = 0 ORDER BY h.created_at, h.id LIMIT 1);"
	      "CREATE INDEX tickets_joined ON tickets (joined) WHERE joined != '';"
	      "CREATE INDEX tickets_ip_decided ON tickets (ip, decided_at) WHERE joined = '';" },
	/* The policy counts one reporter's reports about an address once: the reporter's name
	 * (a report's source is "reporter:NAME") joins what each evaluation reads from the index
	 * alone. A virtual column: rows written before it have it too, and traps add nothing. */
	{ 13, "ALTER TABLE evidence ADD COLUMN reporter TEXT GENERATED ALWAYS AS"
	      " (CASE WHEN kind = 2 AND substr(source, 1, 9) = 'reporter:'"
	      " THEN substr(source, 10) END) VIRTUAL;"
	      "DROP INDEX evidence_ip_policy;"
	      "CREATE INDEX evidence_ip_policy ON evidence (ip, received_at, kind, class, reporter);" },
	/* Trap nodes (issue 21) send their spool again until the primary acknowledges it: a hit
	 * carries the node's id for it, and a hit whose id its feed stored before is counted
	 * once. Unique per source ("feed:NAME"), so that one feed cannot take another's ids;
	 * partial, so that evidence without an id costs the index nothing. */
	{ 14, "ALTER TABLE evidence ADD COLUMN hit_id TEXT;"
	      "CREATE UNIQUE INDEX evidence_hit_id ON evidence (source, hit_id)"
	      " WHERE hit_id IS NOT NULL;" },
	/* The IXFR journal (issue 21): one row per publication, what it changed from serial_from
	 * to serial_to (the zone module's encoded entry), so that secondaries get differences
	 * after a restart too. id orders the rows; the oldest go first (ixfr_journal_max, _age). */
	{ 15, "CREATE TABLE ixfr_journal ("
	      " id INTEGER PRIMARY KEY,"
	      " serial_from INTEGER NOT NULL,"
	      " serial_to INTEGER NOT NULL,"
	      " at INTEGER NOT NULL,"
	      " changes INTEGER NOT NULL,"
	      " data BLOB NOT NULL);" },
};

#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])
#define STORE_SCHEMA_VERSION (migrations[N_MIGRATIONS - 1].version)

#define TICKET_COLS                                                                              \
	"SELECT t.id, t.ip, t.email, t.fixed, t.comment, t.created_at, t.client, t.status,"     \
	" t.moderator, t.decided_at, t.until, t.reason, t.joined, t.by_action,"                 \
	" (SELECT count(*) FROM tickets j WHERE j.joined = t.id) FROM tickets t"

/* Every statement, by enum store_stmt; parameters are always bound, never formatted in. */
static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_EV_ADD] = "INSERT INTO evidence (ip, kind, class, received_at, added_at, source, digest,"
		      " hit_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_EV_FOR_IP] = "SELECT id, kind, class, received_at, added_at, source, digest FROM evidence"
			 " WHERE ip = ?1 AND received_at >= ?2 ORDER BY received_at, id",
	[ST_EV_IPS] = "SELECT DISTINCT ip FROM evidence WHERE received_at >= ?1",
	[ST_LI_PUT] = "INSERT OR REPLACE INTO listings (ip, listed_at, expires_at, last_evidence_at,"
		      " traps, reports, score, reason, detail)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_LI_DEL] = "DELETE FROM listings WHERE ip = ?1",
	[ST_LI_GET] = "SELECT ip, listed_at, expires_at, last_evidence_at, traps, reports, score,"
		      " reason, detail FROM listings WHERE ip = ?1",
	[ST_LI_ALL] = "SELECT ip, listed_at, expires_at, last_evidence_at, traps, reports, score,"
		      " reason, detail FROM listings ORDER BY ip",
	[ST_LI_CLEAR] = "DELETE FROM listings",
	[ST_EX_ADD] = "INSERT INTO exclusions (addr, plen, until, created_at, who, why)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_EX_LIVE] = "SELECT id, addr, plen, until, created_at, who, why FROM exclusions"
		       " WHERE until = 0 OR until > ?1 ORDER BY id",
	[ST_AC_ADD] = "INSERT INTO actions (ip, kind, at, who, why, evidence_mark)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_EV_MAX] = "SELECT coalesce(max(id), 0) FROM evidence",
	/* The latest delisting or its undoing, in commit order. */
	[ST_AC_LAST] = "SELECT id, kind, at, who, why, evidence_mark, ip FROM actions"
		       " WHERE ip = ?1 AND kind IN (1, 2) ORDER BY id DESC LIMIT 1",
	[ST_AC_DELISTED] = "SELECT a.id, a.kind, a.at, a.who, a.why, a.evidence_mark, a.ip"
			   " FROM actions a WHERE a.kind = 1 AND a.id = (SELECT max(b.id) FROM"
			   " actions b WHERE b.ip = a.ip AND b.kind IN (1, 2)) ORDER BY a.ip",
	[ST_EX_DEL] = "DELETE FROM exclusions WHERE addr = ?1 AND plen = ?2",
	[ST_AU_ADD] = "INSERT INTO audit (at, who, what, target, why) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_AU_ALL] = "SELECT at, who, what, target, why FROM audit WHERE at >= ?1 ORDER BY id",
	[ST_ME_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_ME_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
	[ST_RE_PUT] = "INSERT OR REPLACE INTO reputation (addr, plen, points, created_at, who, why)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_RE_DEL] = "DELETE FROM reputation WHERE addr = ?1 AND plen = ?2",
	[ST_RE_GET] = "SELECT addr, plen, points, created_at, who, why FROM reputation"
		      " WHERE addr = ?1 AND plen = ?2",
	[ST_RE_ALL] = "SELECT addr, plen, points, created_at, who, why FROM reputation"
		      " ORDER BY addr, plen",
	[ST_TH_ADD] = "INSERT INTO trap_hits (evidence_id, helo, mail_from, rcpts, size, signals)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_SA_ADD] = "INSERT INTO samples (evidence_id, kept_until, body) VALUES (?1, ?2, ?3)",
	[ST_TH_GET] = "SELECT t.helo, t.mail_from, t.rcpts, t.size, t.signals, s.body, s.kept_until"
		      " FROM trap_hits t LEFT JOIN samples s ON s.evidence_id = t.evidence_id"
		      " WHERE t.evidence_id = ?1",
	/* The index (ip, received_at, kind, class) covers it: a rowid table's index entries
	 * carry the rowid (id, the commit order a delisting's tie needs). */
	[ST_EV_POLICY] = "SELECT id, received_at, kind, class, reporter FROM evidence"
			 " WHERE ip = ?1 AND received_at >= ?2",
	[ST_SA_PRUNE] = "DELETE FROM samples WHERE evidence_id IN (SELECT evidence_id FROM samples"
			" WHERE kept_until <= ?1 ORDER BY kept_until LIMIT ?2)",
	[ST_HO_ADD] = "INSERT INTO key_holders (name, kind, key_hash, trusted_relays, created_at,"
		      " created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_HO_BY_NAME] = "SELECT id, name, kind, key_hash, created_at, created_by, removed_at"
			  " FROM key_holders WHERE name = ?1 AND removed_at = 0",
	[ST_HO_BY_KEY] = "SELECT id, name, kind, key_hash, created_at, created_by, removed_at"
			 " FROM key_holders WHERE key_hash = ?1 AND removed_at = 0",
	[ST_HO_BY_ID] = "SELECT id, name, kind, key_hash, created_at, created_by, removed_at"
			" FROM key_holders WHERE id = ?1",
	[ST_HO_REMOVE] = "UPDATE key_holders SET removed_at = ?3"
			 " WHERE name = ?1 AND kind = ?2 AND removed_at = 0",
	[ST_HO_ALL] = "SELECT h.id, h.name, h.kind, h.key_hash, h.created_at, h.created_by,"
		      " h.removed_at, (SELECT count(*) FROM reports r WHERE r.holder = h.id)"
		      " FROM key_holders h WHERE h.kind = ?1 AND h.removed_at = 0 ORDER BY h.name",
	[ST_HO_RELAYS] = "SELECT trusted_relays FROM key_holders WHERE id = ?1",
	[ST_RP_ADD] = "INSERT INTO reports (id, holder, received_at, digest, source, refusal, class,"
		      " analysis, evidence_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_RP_GET] = "SELECT id, holder, received_at, digest, source, refusal, class, analysis,"
		      " evidence_id FROM reports WHERE id = ?1",
	/* By the reporter's name, so that a report survives the reporter's key rotation (remove
	 * and add again: a new row of the same name). */
	[ST_RP_BY_DIGEST] = "SELECT r.id, r.holder, r.received_at, r.digest, r.source, r.refusal,"
			    " r.class, r.analysis, r.evidence_id FROM reports r"
			    " JOIN key_holders h ON h.id = r.holder"
			    " WHERE h.name = ?1 AND h.kind = 1 AND r.digest = ?2"
			    " ORDER BY r.received_at LIMIT 1",
	[ST_RP_RECENT] = "SELECT id, holder, received_at, digest, source, refusal, class, analysis,"
			 " evidence_id FROM reports WHERE source = ?1 AND source IS NOT NULL"
			 " ORDER BY received_at DESC, rowid DESC LIMIT ?2",
	[ST_RP_HOUR_GET] = "SELECT n FROM report_hours WHERE holder = ?1 AND hour = ?2",
	[ST_RP_HOUR_ADD] = "INSERT INTO report_hours (holder, hour, n) VALUES (?1, ?2, 1)"
			   " ON CONFLICT (holder, hour) DO UPDATE SET n = n + 1",
	/* the web's reads (ctl_stats.c) and the listing history (migration 9) */
	[ST_HI_ADD] = "INSERT OR REPLACE INTO listing_history (ip, listed_at, ended_at, reason)"
		      " VALUES (?1, ?2, ?3, ?4)",
	[ST_HI_FOR_IP] = "SELECT listed_at, ended_at, reason FROM listing_history"
			 " WHERE ip = ?1 AND ended_at >= ?2 ORDER BY listed_at",
	[ST_LI_COUNT] = "SELECT count(*) FROM listings",
	[ST_EV_COUNT] = "SELECT kind, count(*) FROM evidence WHERE received_at >= ?1"
			" AND received_at < ?2 GROUP BY kind",
	[ST_EV_DAYS] = "SELECT (received_at - ?2) / 86400, kind, count(*) FROM evidence"
		       " WHERE ip = ?1 AND received_at >= ?2 AND received_at < ?3 GROUP BY 1, 2",
	/* review requests, moderators and sessions (migration 10, store_review.c) */
	[ST_MO_ADD] = "INSERT INTO moderators (name, pw_hash, created_at, created_by)"
		      " VALUES (?1, ?2, ?3, ?4)",
	[ST_MO_GET] = "SELECT id, name, pw_hash, created_at, created_by, removed_at"
		      " FROM moderators WHERE name = ?1 AND removed_at = 0",
	[ST_MO_REMOVE] = "UPDATE moderators SET removed_at = ?2 WHERE name = ?1 AND removed_at = 0"
			 " RETURNING id",
	[ST_MO_ALL] = "SELECT id, name, '', created_at, created_by, removed_at FROM moderators"
		      " WHERE removed_at = 0 ORDER BY name",
	[ST_SE_ADD] = "INSERT INTO sessions (token_hash, moderator, created_at, expires_at)"
		      " VALUES (?1, ?2, ?3, ?4)",
	[ST_SE_GET] = "SELECT s.moderator, m.name, s.created_at, s.expires_at FROM sessions s"
		      " JOIN moderators m ON m.id = s.moderator WHERE s.token_hash = ?1"
		      " AND s.ended_at = 0 AND s.expires_at > ?2 AND m.removed_at = 0",
	[ST_SE_END] = "UPDATE sessions SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at = 0",
	[ST_SE_END_ALL] = "UPDATE sessions SET ended_at = ?2 WHERE moderator = ?1 AND ended_at = 0",
	[ST_TI_ADD] = "INSERT INTO tickets (id, ip, email, fixed, comment, created_at, client, joined)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	/* Every ticket read has the same columns (column_ticket), the number of requests that
	 * joined it last. */
	[ST_TI_GET] = TICKET_COLS " WHERE t.id = ?1",
	[ST_TI_DECIDE] = "UPDATE tickets SET status = ?2, moderator = ?3, decided_at = ?4,"
			 " until = ?5, reason = ?6, by_action = ?7 WHERE id = ?1 AND status = 0",
	[ST_TI_OPEN] = TICKET_COLS " WHERE t.status = 0 AND t.joined = '' ORDER BY t.created_at, t.id",
	[ST_TI_ALL] = TICKET_COLS " WHERE t.joined = '' ORDER BY t.created_at, t.id",
	[ST_TI_N_CLIENT] = "SELECT count(*) FROM tickets WHERE client = ?1 AND created_at >= ?2",
	[ST_TI_N_DECIDED] = "SELECT count(*) FROM tickets WHERE ip = ?1 AND joined = ''"
			    " AND decided_at >= ?2 AND status != 0 AND by_action = 0",
	[ST_TI_HEAD] = "SELECT id FROM tickets WHERE ip = ?1 AND status = 0 AND joined = ''"
		       " ORDER BY created_at, id LIMIT 1",
	[ST_TI_JOINED] = TICKET_COLS " WHERE t.joined = ?1 ORDER BY t.created_at, t.id",
	[ST_TI_OPEN_ROWS] = "SELECT id, ip FROM tickets WHERE status = 0 ORDER BY created_at, id",
	[ST_TE_ADD] = "INSERT INTO ticket_events (ticket, at, what, who, why)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_TE_ALL] = "SELECT at, what, who, why FROM ticket_events WHERE ticket = ?1 ORDER BY id",
	[ST_EV_RECENT] = "SELECT id, received_at, class FROM evidence WHERE ip = ?1 AND kind = ?2"
			 " ORDER BY received_at DESC, id DESC LIMIT ?3",
};

#define STORE_DISK_LOG_NS 10000000000ull

int store_fail(struct store *s, const char *what, int rc)
{
	int primary = rc & 0xff;
	bool disk = primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_READONLY;
	if (s && disk) {
		uint64_t now_ns = time_mono_ns();
		if (s->disk_logged_ns && now_ns - s->disk_logged_ns < STORE_DISK_LOG_NS) {
			s->disk_suppressed++;
			return STORE_EIO;
		}
		log_err("store", "%s failed rc=%d error=\"%s\" suppressed=%lu", what, rc,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), s->disk_suppressed);
		s->disk_logged_ns = now_ns;
		s->disk_suppressed = 0;
		return STORE_EIO;
	}
	log_err("store", "%s failed rc=%d error=\"%s\"", what, rc,
		s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return STORE_EIO;
}

static int exec(struct store *s, const char *what, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_err("store", "%s failed rc=%d error=\"%s\"", what, rc, msg ? msg : "?");
		sqlite3_free(msg);
		return STORE_EIO;
	}
	return STORE_OK;
}

static int read_user_version(struct store *s, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, "read schema version", rc);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_fail(s, "read schema version", rc);
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return STORE_OK;
}

/* Runs one migration and records its version in the same transaction, so a crash leaves the
 * file either wholly before or wholly after it. */
static int migrate_one(struct store *s, size_t i)
{
	/* PRAGMA takes no bound parameters; the number comes from our own table, not from input. */
	char pragma[64];
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", migrations[i].version);
	int rc = exec(s, "migration begin", "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	if ((rc = exec(s, "migration", migrations[i].sql)) != STORE_OK ||
	    (rc = exec(s, "migration version", pragma)) != STORE_OK ||
	    (rc = exec(s, "migration commit", "COMMIT")) != STORE_OK) {
		exec(s, "migration rollback", "ROLLBACK");
		log_err("store", "migration to schema version %d failed", migrations[i].version);
		return rc;
	}
	log_info("store", "schema upgraded version=%d", migrations[i].version);
	s->version = migrations[i].version;
	return STORE_OK;
}

/* Runs before anything writes to the file, so a newer file is left exactly as it was. */
static int check_version(struct store *s, const char *path)
{
	int v = 0;
	int rc = read_user_version(s, &v);
	if (rc)
		return rc;
	s->version = v;
	if (v > STORE_SCHEMA_VERSION) {
		log_err("store", "refusing file=%s schema_version=%d supported_version=%d "
			"reason=\"written by a newer trapline; run that version or newer, the file "
			"is left untouched\"", path, v, STORE_SCHEMA_VERSION);
		return STORE_ENEWER;
	}
	return STORE_OK;
}

static int migrate(struct store *s, const char *path)
{
	int v = s->version, rc;
	if (v == STORE_SCHEMA_VERSION)
		return STORE_OK;
	if (!s->write) {
		log_err("store", "refusing file=%s schema_version=%d supported_version=%d "
			"reason=\"older schema, read-only open cannot upgrade it; open it once for "
			"writing (trapline serve)\"", path, v, STORE_SCHEMA_VERSION);
		return STORE_EIO;
	}
	for (size_t i = 0; i < N_MIGRATIONS; i++) {
		if (migrations[i].version <= v)
			continue;
		if ((rc = migrate_one(s, i)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/* One writer at a time across processes: the service and a CLI run without it must never
 * write the same file at once. flock is released by the kernel when the holder dies. */
int store_lock_take(const char *dir, int *fd, unsigned wait_ms)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/trapline.lock", dir) >= sizeof path)
		return STORE_EINVAL;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		log_err("store", "open lock file=%s error=\"%s\"", path, strerror(errno));
		return STORE_EIO;
	}
	int got = flock(*fd, LOCK_EX | LOCK_NB);
	/* A command that works on the directory holds the lock for a moment: a service that
	 * restarts meanwhile (after a crash) waits for it instead of failing its start. */
	for (unsigned waited = 0; got != 0 && errno == EWOULDBLOCK && waited < wait_ms;
	     waited += 20) {
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
		got = flock(*fd, LOCK_EX | LOCK_NB);
	}
	if (got != 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			log_err("store", "%s is held by another trapline writing to %s", path, dir);
			return STORE_EBUSY;
		}
		log_err("store", "lock file=%s error=\"%s\"", path, strerror(e));
		return STORE_EIO;
	}
	return STORE_OK;
}

static int take_lock(struct store *s, const char *dir, unsigned wait_ms)
{
	return store_lock_take(dir, &s->lock_fd, wait_ms);
}

static int prepare_all(struct store *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		const char *sql = stmt_sql[i];
		/* A reader's transaction must not try to take the write lock. */
		if (i == ST_BEGIN && !s->write)
			sql = "BEGIN";
		int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
		if (rc != SQLITE_OK)
			return store_fail(s, "prepare", rc);
	}
	return STORE_OK;
}

/* The data file is created 0600: evidence names the trap addresses, which stay private.
 * SQLite gives its -wal and -shm files the same mode as the database. */
static int create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("store", "create file=%s error=\"%s\"", path, strerror(errno));
		return STORE_EIO;
	}
	close(fd);
	return STORE_OK;
}

static int open_db(struct store *s, const char *dir)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/trapline.db", dir) >= sizeof path)
		return STORE_EINVAL;
	int flags = SQLITE_OPEN_NOMUTEX; /* one thread at a time per struct store */
	if (s->write) {
		int rc = create_private(path);
		if (rc)
			return rc;
		flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	} else {
		if (access(path, F_OK) != 0) {
			log_err("store", "no database file=%s", path);
			return STORE_ENOTFOUND;
		}
		flags |= SQLITE_OPEN_READONLY;
	}
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, "open", rc);
	sqlite3_extended_result_codes(s->db, 1);
	/* Writers queue behind each other (a CLI during a migration) instead of failing at once. */
	sqlite3_busy_timeout(s->db, 5000);
	if ((rc = check_version(s, path)) != STORE_OK)
		return rc;
	if (s->write) {
		/* WAL: readers never block the writer. synchronous=NORMAL: a commit survives the
		 * process being killed; only an OS crash or power loss may lose the last commits. */
		if ((rc = exec(s, "set journal_mode", "PRAGMA journal_mode = WAL")) != STORE_OK)
			return rc;
	}
	if ((rc = exec(s, "set synchronous", "PRAGMA synchronous = NORMAL")) != STORE_OK)
		return rc;
	if ((rc = migrate(s, path)) != STORE_OK)
		return rc;
	if (s->write && (rc = store_ckpt_attach(s, path)) != STORE_OK)
		return rc;
	return prepare_all(s);
}

static int store_open_lock(const char *dir, bool write, unsigned wait_ms, struct store **out)
{
	if (!dir || !*dir || !out)
		return STORE_EINVAL;
	*out = NULL;
	struct store *s = calloc(1, sizeof *s);
	if (!s)
		return STORE_ENOMEM;
	s->lock_fd = -1;
	s->write = write;
	int rc = STORE_OK;
	if (write) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			log_err("store", "mkdir dir=%s error=\"%s\"", dir, strerror(errno));
			rc = STORE_EIO;
			goto fail;
		}
		if ((rc = take_lock(s, dir, wait_ms)) != STORE_OK)
			goto fail;
	}
	if ((rc = open_db(s, dir)) != STORE_OK)
		goto fail;
	*out = s;
	return STORE_OK;
fail:
	store_close(s);
	return rc;
}

int store_open_mode(const char *dir, bool write, struct store **out)
{
	return store_open_lock(dir, write, 0, out);
}

int store_open(const char *dir, struct store **out)
{
	return store_open_lock(dir, true, 0, out);
}

int store_open_wait(const char *dir, unsigned wait_ms, struct store **out)
{
	return store_open_lock(dir, true, wait_ms, out);
}

int store_map(struct store *s)
{
	if (!s || s->write)
		return STORE_EINVAL;
	return exec(s, "set mmap_size", "PRAGMA mmap_size = 1073741824");
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_ckpt_detach(s);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_err("store", "close failed error=\"%s\"", sqlite3_errmsg(s->db));
	/* The lock goes last: nobody else may write until our connection is gone. */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
}

int store_schema_version(const struct store *s)
{
	return s ? s->version : 0;
}

int store_schema_latest(void)
{
	return STORE_SCHEMA_VERSION;
}

static int run_simple(struct store *s, enum store_stmt which, const char *what)
{
	sqlite3_stmt *st = s->st[which];
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, what, rc);
	return STORE_OK;
}

int store_begin(struct store *s)
{
	if (!s)
		return STORE_EINVAL;
	return run_simple(s, ST_BEGIN, "begin");
}

int store_commit(struct store *s)
{
	if (!s)
		return STORE_EINVAL;
	/* A disk that refuses the commit, on a test's demand (base.h, test_hook). */
	if (test_hook("fail-commit")) {
		log_err("store", "commit failed error=\"test hook fail-commit\"");
		return STORE_EIO;
	}
	return run_simple(s, ST_COMMIT, "commit");
}

void store_rollback(struct store *s)
{
	/* After some errors SQLite has already rolled back; a second one is not news. */
	if (s && !sqlite3_get_autocommit(s->db))
		run_simple(s, ST_ROLLBACK, "rollback");
}

static const char *const kind_names[] = { [STORE_KIND_TRAP] = "trap",
					  [STORE_KIND_REPORT] = "report" };

const char *store_kind_name(enum store_kind k)
{
	if ((unsigned)k < sizeof kind_names / sizeof kind_names[0] && kind_names[k])
		return kind_names[k];
	return "?";
}

int store_kind_parse(const char *s, enum store_kind *out)
{
	for (unsigned i = 0; s && i < sizeof kind_names / sizeof kind_names[0]; i++) {
		if (kind_names[i] && strcmp(s, kind_names[i]) == 0) {
			*out = (enum store_kind)i;
			return STORE_OK;
		}
	}
	return STORE_EINVAL;
}

const char *store_class_name(enum store_class c)
{
	return evidence_class_name((enum evidence_class)c);
}

int store_class_parse(const char *s, enum store_class *out)
{
	enum evidence_class c;
	if (evidence_class_parse(s, &c) != BASE_OK)
		return STORE_EINVAL;
	*out = (enum store_class)c;
	return STORE_OK;
}
