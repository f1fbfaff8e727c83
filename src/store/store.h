/* store.h - the SQLite store: evidence (the source of truth), listings, exclusions,
 * moderator actions and the append-only audit log, with numbered schema migrations. */
#ifndef TRAPLINE_STORE_H
#define TRAPLINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* The codes of the one error space (base.h) that store functions return. */
enum store_err {
	STORE_OK = TL_OK,
	STORE_EINVAL = TL_EINVAL,     /* bad argument */
	STORE_ENOMEM = TL_ENOMEM,
	STORE_EIO = TL_EDB,           /* SQLite failed; the message is logged */
	STORE_ENEWER = TL_ENEWER,     /* the database was written by a newer Trapline (schema version) */
	STORE_ENOTFOUND = TL_ENOTFOUND,
	STORE_EBUSY = TL_EBUSY,       /* another process holds the database for writing */
	STORE_EEXIST = TL_EEXIST,     /* a live key holder already has that name */
};


enum store_kind { STORE_KIND_TRAP = 1, STORE_KIND_REPORT = 2 };

/* The evidence classes of base.h, by the store's names. */
enum store_class {
	STORE_CLASS_SPAM = EVIDENCE_SPAM,
	STORE_CLASS_BOUNCE = EVIDENCE_BOUNCE,       /* a bounce / DSN to a trap: backscatter */
	STORE_CLASS_AUTOREPLY = EVIDENCE_AUTOREPLY, /* vacation and auto-responders */
	STORE_CLASS_VIRUS = EVIDENCE_VIRUS,         /* a virus notice */
	STORE_CLASS_UNKNOWN = EVIDENCE_UNKNOWN,
};

/* Text names ("trap", "report"; "spam", "bounce", "autoreply", "virus", "unknown") and back. */
const char *store_kind_name(enum store_kind k);
int store_kind_parse(const char *s, enum store_kind *out);
const char *store_class_name(enum store_class c);
int store_class_parse(const char *s, enum store_class *out);

#define STORE_SOURCE_MAX 320 /* a mail address or a reporter id */
#define STORE_TEXT_MAX 1024  /* reasons, notes */
#define STORE_HIT_ID_MAX 129 /* a feed's id of one trap hit, 1 to 128 bytes (migration 14) */

/* One piece of evidence against one address. source is the trap address or the reporter:
 * private (never shown by a public reader; store_evidence_for_ip returns it only when asked). */
struct store_evidence {
	int64_t id;          /* set by store_evidence_add */
	uint8_t ip[16];      /* the source IP (IPv4 mapped) */
	enum store_kind kind;
	enum store_class cls;
	int64_t received_at; /* when the mail was received, seconds since the epoch */
	int64_t added_at;    /* when it was stored */
	char source[STORE_SOURCE_MAX];
	char digest[65];     /* hex SHA-256 of the message, "" if none */
	char hit_id[STORE_HIT_ID_MAX]; /* a feed's id of the hit, "" if none: unique per source */
};

struct store_listing {
	uint8_t ip[16];
	int64_t listed_at;  /* first listed in this episode */
	int64_t expires_at;
	int64_t last_evidence_at;
	uint32_t traps, reports; /* pieces counted by the policy */
	double score;
	int reason; /* enum policy_reason: trap only, reports only, both */
	int detail; /* the class most of its counted trap hits had (STORE_CLASS_*), for its TXT */
};

struct store_exclusion {
	int64_t id;
	struct ip_prefix prefix;
	int64_t until;      /* 0: for ever */
	int64_t created_at;
	char who[64];
	char why[STORE_TEXT_MAX];
};

enum store_action_kind {
	STORE_ACTION_DELIST = 1,   /* a moderator ended a listing */
	STORE_ACTION_UNDELIST = 2, /* ... and took that back */
};

struct store_action {
	int64_t id;            /* commit order */
	uint8_t ip[16];
	enum store_action_kind kind;
	int64_t at;
	int64_t evidence_mark; /* the newest evidence id when the action was committed (set by
				  store_action_add): evidence with a larger id came after it */
	char who[64];
	char why[STORE_TEXT_MAX];
};

/* One connection. Use it from one thread at a time. Callbacks of the _foreach functions may
 * call other store functions, but not the same _foreach (its statement is in use). */
struct store;

/* Opens (creating it if needed) DIR/trapline.db in WAL mode with synchronous=NORMAL and
 * brings the schema up to date through the numbered migrations. STORE_ENEWER when the file
 * has a schema version this binary does not know (the message names both versions).
 * Takes the writer's lock (flock on DIR/trapline.lock, held until store_close):
 * STORE_EBUSY when another process (or another struct store) has it. Same as
 * store_open_mode(dir, true, out). */
int store_open(const char *dir, struct store **out);
/* store_open, waiting up to wait_ms for the writer's lock while another process holds it (the
 * service: a command working on the directory holds it for a moment). */
int store_open_wait(const char *dir, unsigned wait_ms, struct store **out);
/* write false: opens the existing file read-only (SQLITE_OPEN_READONLY) without the lock, for
 * a reader beside a running service (a CLI's check/list). Never migrates: STORE_EIO when the
 * file's schema is older than this binary's, STORE_ENOTFOUND when there is no file. */
int store_open_mode(const char *dir, bool write, struct store **out);
/* A reader reads its pages through a shared mapping of the file instead of a copy per read:
 * a tenth of an API lookup's time at 1M listings. For readers whose reads mostly fall between
 * the writer's commits (the lookup pages) only: SQLite unmaps all of it at the first read
 * after any commit, and each munmap stops every core for a TLB flush. A reader that reads
 * right after each commit of its own (a report's answer) spent a sixth of the service's CPU
 * there (bench/reports.sh: reports/s over HTTP 1.4x without it). STORE_EINVAL for a writer. */
int store_map(struct store *s);
void store_close(struct store *s);
/* Schema version of the open database. */
int store_schema_version(const struct store *s);
/* The schema version this binary writes (the last migration). */
int store_schema_latest(void);
/* What the store's background thread has done (a writer's store only): WAL checkpoints,
 * which keep the log's copying out of the writer's commits, and syncs of the log to the
 * disk (one a second at most, when there were commits; a checkpoint syncs too). */
struct store_stats {
	unsigned long checkpoints;
	unsigned long log_syncs;
};
void store_stats(const struct store *s, struct store_stats *out);

/* ---- getting it back (store_backup.c) ------------------------------------------------- */

/* What a copy holds: its size and schema version (restore: the backup's version, before the
 * migrations brought it up to date). */
struct store_copy_info {
	uint64_t bytes;
	int schema_version;
	int from_version;
};
/* Writes a consistent copy of s's database to path with SQLite's online backup API: all pages
 * in one read transaction of s (any connection, a reader's too; the writer goes on), into a
 * 0600 file beside path that is renamed to it once complete and on the disk, in rollback-
 * journal mode (one file). STORE_EEXIST when path exists and !replace; STORE_EIO when it
 * cannot be written. err says why in a line. */
int store_backup(struct store *s, const char *path, bool replace, struct store_copy_info *info,
		 char *err, size_t errcap);
/* Checks that path is a Trapline store this binary can read (an SQLite file with our tables,
 * a schema version from 1 to ours, SQLite's integrity check passes); *version gets its schema
 * version. STORE_EINVAL with why in err. */
int store_file_check(const char *path, int *version, char *err, size_t errcap);
/* Builds dir/trapline.db from the copy file (store_file_check first), under the writer's lock
 * (STORE_EBUSY when a service runs on dir), then opens it once so that the migrations bring an
 * older copy up to date. STORE_EEXIST when dir holds a store and !replace (a replaced store's
 * write-ahead log goes with it). err says why in a line. */
int store_restore(const char *file, const char *dir, bool replace, struct store_copy_info *info,
		  char *err, size_t errcap);
/* SQLite's integrity check (PRAGMA integrity_check) on s: fn gets each problem found (a line
 * of SQLite's), *problems their number; 0 problems is a sound file. fn returns non-zero to
 * stop. */
int store_integrity_check(struct store *s, int (*fn)(const char *problem, void *arg), void *arg,
			  unsigned *problems);

/* Transactions: every write below must be inside one (the writer groups a batch into one). */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Adds ev in the caller's transaction; sets ev->id. STORE_EEXIST when ev->hit_id is set and the
 * same source stored a hit of that id before (nothing is written; the transaction goes on). */
int store_evidence_add(struct store *s, struct store_evidence *ev);
/* Calls fn for each piece of evidence against ip received at or after since, oldest first.
 * fn returns non-zero to stop. with_source: fill ev->source (operator use only). */
int store_evidence_for_ip(struct store *s, const uint8_t ip[16], int64_t since, bool with_source,
			  int (*fn)(const struct store_evidence *ev, void *arg), void *arg);
/* What the policy needs of each piece of evidence against ip received at or after since (its
 * id, the commit order; when it was received; kind; class; for a reporter's report the
 * reporter's name, else NULL: a report's source "reporter:NAME"), by time, read from an index
 * alone (every evaluation of an address). fn returns non-zero to stop; reporter is valid
 * during the call only. */
int store_evidence_policy_for_ip(struct store *s, const uint8_t ip[16], int64_t since,
				 int (*fn)(int64_t id, int64_t received_at, enum store_kind kind,
					   enum store_class cls, const char *reporter, void *arg),
				 void *arg);
/* Calls fn(ip) once for every address with evidence received at or after since. */
int store_evidence_ips(struct store *s, int64_t since,
		       int (*fn)(const uint8_t ip[16], void *arg), void *arg);

int store_listing_put(struct store *s, const struct store_listing *l);
int store_listing_delete(struct store *s, const uint8_t ip[16]);
/* STORE_ENOTFOUND when ip is not listed. */
int store_listing_get(struct store *s, const uint8_t ip[16], struct store_listing *out);
int store_listing_foreach(struct store *s, int (*fn)(const struct store_listing *l, void *arg),
			  void *arg);
/* Removes every listing (rebuild). */
int store_listing_clear(struct store *s);

int store_exclusion_add(struct store *s, struct store_exclusion *ex);
/* Removes every row of exactly prefix; *n gets how many (0 is not an error). */
int store_exclusion_remove(struct store *s, const struct ip_prefix *prefix, int *n);
/* Every exclusion still in force at now (until == 0 or until > now). */
int store_exclusion_foreach(struct store *s, int64_t now,
			    int (*fn)(const struct store_exclusion *ex, void *arg), void *arg);

/* Appends a moderator's action; sets a->id and a->evidence_mark. */
int store_action_add(struct store *s, struct store_action *a);
/* The delisting in force on ip: its latest delisting, unless a later undelisting took it back.
 * STORE_ENOTFOUND when none is in force. */
int store_delisting_get(struct store *s, const uint8_t ip[16], struct store_action *out);
/* Every delisting in force, by address. */
int store_delisting_foreach(struct store *s, int (*fn)(const struct store_action *a, void *arg),
			    void *arg);

/* Reputation: points an operator gives a prefix (a big mail provider that sends much wanted
 * mail); the policy adds them to the listing threshold of the addresses inside it. */
struct store_reputation {
	struct ip_prefix prefix;
	double points;      /* > 0 in the table; 0 given to store_reputation_set removes the row */
	int64_t created_at;
	char who[64];
	char why[STORE_TEXT_MAX];
};

/* Sets the points of exactly r->prefix (replacing its earlier points; a wider or narrower
 * prefix is another row), or removes that row when r->points is 0, and appends the change to
 * the audit log (who, "reputation" or "reputation-remove", the prefix, why), in the caller's
 * transaction. STORE_EINVAL for points negative or not finite, or plen > 128;
 * STORE_ENOTFOUND when removing a prefix that has no row (nothing is written then). */
int store_reputation_set(struct store *s, const struct store_reputation *r);
/* The row of exactly prefix; STORE_ENOTFOUND if it has none. */
int store_reputation_get(struct store *s, const struct ip_prefix *prefix,
			 struct store_reputation *out);
/* Calls fn for every row, ordered by address then prefix length; fn returns non-zero to stop. */
int store_reputation_foreach(struct store *s,
			     int (*fn)(const struct store_reputation *r, void *arg), void *arg);

/* What a spamtrap hit records beside its evidence row (schema version 4): the envelope, the
 * size, what decided the class, and a sample of the message kept for a while. The recipients
 * are trap addresses: private, like evidence's source. */
struct store_trap_hit {
	int64_t evidence_id;   /* the evidence row it belongs to */
	const char *helo;      /* the client's HELO/EHLO argument */
	const char *mail_from; /* the envelope sender, "" for the null sender <> */
	const char *rcpts;     /* the trap recipients, one per line */
	uint64_t size;         /* bytes of the message as received */
	const char *signals;   /* what decided the class ("null-sender, multipart/report") */
	const char *sample;    /* headers or the whole message; NULL: none kept (or pruned) */
	size_t sample_len;
	int64_t sample_until;  /* the writer deletes the sample at this time */
};

/* Records h beside the evidence row h->evidence_id, in the caller's transaction. NULL strings
 * are stored as "". STORE_EINVAL for a missing id. */
int store_trap_hit_add(struct store *s, const struct store_trap_hit *h);
/* Calls fn once with the trap hit of evidence_id (its pointers valid during the call only);
 * STORE_ENOTFOUND when that evidence has none. */
int store_trap_hit_get(struct store *s, int64_t evidence_id,
		       int (*fn)(const struct store_trap_hit *h, void *arg), void *arg);
/* Deletes at most max samples whose time is up (kept_until <= now), in the caller's
 * transaction; *pruned: how many. */
int store_samples_prune(struct store *s, int64_t now, unsigned max, unsigned *pruned);

/* Appends to the audit log (who did what to which target, and why). Never updated or deleted. */
int store_audit_add(struct store *s, int64_t at, const char *who, const char *what,
		    const char *target, const char *why);
/* Every row at or after since, oldest first. */
int store_audit_foreach(struct store *s, int64_t since,
			int (*fn)(int64_t at, const char *who, const char *what, const char *target,
				  const char *why, void *arg),
			void *arg);

/* ---- key holders and reports (schema version 8) -------------------------------------
 * Reporters send user reports and feeds send trap hits from traps running elsewhere; each
 * holds an API key, of which the store keeps only a hash (the caller hashes: the store never
 * sees a key). A removed holder's row stays, so that its reports keep their reporter; its key
 * no longer finds it. A live name is unique across both kinds. */

enum store_holder_kind { STORE_HOLDER_REPORTER = 1, STORE_HOLDER_FEED = 2 };
/* "reporter", "feed" ("?" out of range). */
const char *store_holder_kind_name(enum store_holder_kind k);

#define STORE_NAME_MAX 64     /* a holder's name, NUL included */
#define STORE_KEY_HASH_LEN 32 /* the hash of a key */

struct store_holder {
	int64_t id;            /* set by store_holder_add */
	char name[STORE_NAME_MAX];
	enum store_holder_kind kind;
	uint8_t key_hash[STORE_KEY_HASH_LEN];
	int64_t created_at;
	char created_by[64];
	int64_t removed_at;    /* 0: live */
	uint64_t reports;      /* store_holder_foreach only: reports stored from it */
	/* store_holder_add only: the reporter's trusted relays as given (the text of its file);
	 * NULL or "" for none. The readers leave it NULL: store_holder_relays reads it. */
	const char *relays;
	size_t relays_len;
};

/* Adds h (a live holder) in the caller's transaction; sets h->id. STORE_EEXIST when a live
 * holder of either kind has the name; STORE_EINVAL for an empty name or a bad kind. */
int store_holder_add(struct store *s, struct store_holder *h);
/* The live holder named name (either kind); STORE_ENOTFOUND when none. */
int store_holder_get(struct store *s, const char *name, struct store_holder *out);
/* The live holder whose key has this hash; STORE_ENOTFOUND when none. */
int store_holder_by_key(struct store *s, const uint8_t hash[STORE_KEY_HASH_LEN],
			struct store_holder *out);
/* The holder with this id, live or removed (removed_at says); STORE_ENOTFOUND when none. */
int store_holder_by_id(struct store *s, int64_t id, struct store_holder *out);
/* Marks the live holder of this name and kind removed at `at`, in the caller's transaction.
 * STORE_ENOTFOUND when there is none (nothing is written). */
int store_holder_remove(struct store *s, const char *name, enum store_holder_kind kind,
			int64_t at);
/* Calls fn for every live holder of kind, by name, with its count of reports. */
int store_holder_foreach(struct store *s, enum store_holder_kind kind,
			 int (*fn)(const struct store_holder *h, void *arg), void *arg);
/* The trusted relays of holder id as it was added: *text is allocated (NUL-terminated; the
 * caller frees it), *len its length. STORE_ENOTFOUND when there is no such holder. */
int store_holder_relays(struct store *s, int64_t id, char **text, size_t *len);

#define STORE_REPORT_ID_LEN 32 /* hex characters of a report's id (16 random bytes) */
#define STORE_DIGEST_LEN 32    /* SHA-256 */
#define STORE_REFUSAL_MAX 24

/* One user report and what its analysis found. */
struct store_report {
	char id[STORE_REPORT_ID_LEN + 1]; /* given to the reporter: random, unguessable */
	int64_t holder;                   /* the reporter's key_holders id */
	int64_t received_at;
	uint8_t digest[STORE_DIGEST_LEN]; /* SHA-256 of the judged message (mail_analysis.digest:
					     the spam itself, not its wrapper) */
	bool has_source;
	uint8_t source[16];               /* the address that sent it (IPv4 mapped) */
	char refusal[STORE_REFUSAL_MAX];  /* "" with a source, else the refusal word */
	enum store_class cls;
	char *analysis;                   /* the analysis as JSON: store_report_add reads it; the
					     getters allocate it when asked (the caller frees) */
	int64_t evidence_id;              /* the evidence row it added, 0 when refused */
};

/* Adds r in the caller's transaction. STORE_EINVAL for a missing analysis or id;
 * STORE_EEXIST when the holder has a report of the same digest (nothing is written). */
int store_report_add(struct store *s, const struct store_report *r);
/* The report with this id; with_analysis: out->analysis is allocated (else NULL).
 * STORE_ENOTFOUND when none. */
int store_report_get(struct store *s, const char *id, bool with_analysis,
		     struct store_report *out);
/* The first report of the message with this digest from the reporter named name, under any of
 * its keys (a reporter removed and added again is the same reporter); STORE_ENOTFOUND when
 * none. */
int store_report_by_digest(struct store *s, const char *name,
			   const uint8_t digest[STORE_DIGEST_LEN], bool with_analysis,
			   struct store_report *out);
/* The newest max reports whose source is ip, newest first, each with its analysis (owned by
 * the call: copy what outlives fn). fn returns nonzero to stop. */
int store_report_recent(struct store *s, const uint8_t ip[16], unsigned max,
			int (*fn)(const struct store_report *r, void *arg), void *arg);
/* Reports counted for holder in the clock hour `hour` (seconds since the epoch / 3600), and
 * one more, in the caller's transaction. */
int store_report_hour_get(struct store *s, int64_t holder, int64_t hour, uint64_t *n);
int store_report_hour_add(struct store *s, int64_t holder, int64_t hour);

/* ---- the IXFR journal (schema version 15) -------------------------------------------
 * One row per publication: the differences from serial_from to serial_to in the zone
 * module's encoded form (zone_jentry_encode), written by the writer. */

struct store_journal_row {
	int64_t id;
	uint32_t serial_from, serial_to;
	int64_t at;
	uint64_t changes;
	const uint8_t *data; /* valid during the callback */
	size_t len;
};

/* Adds a row in its own transaction (none may be open) and gives its id in *id. */
int store_journal_add(struct store *s, const struct store_journal_row *r, int64_t *id);
/* Deletes the rows older than id (the oldest the journal keeps; 0: every row). */
int store_journal_trim(struct store *s, int64_t keep_from);
/* Calls fn for each row, oldest first; fn returns nonzero to stop. */
int store_journal_foreach(struct store *s, int (*fn)(const struct store_journal_row *r, void *arg),
			  void *arg);

/* Key/value state that must survive restarts (the SOA serial, ...). */
int store_meta_get_int(struct store *s, const char *key, int64_t *out);
int store_meta_set_int(struct store *s, const char *key, int64_t v);

/* ---- listing history and the web's figures -------------------------------------------
 * A listing that ends becomes an episode of the history (migration 5), written by the writer
 * in the transaction that ends it; the lookup page shades these periods on its chart. */

struct store_episode {
	uint8_t ip[16];
	int64_t listed_at; /* when the episode began (the listing's listed_at) */
	int64_t ended_at;
	int reason;        /* enum policy_reason at its end */
};

/* Records an ended episode, in the caller's transaction. The same (ip, listed_at) again
 * replaces the row: an episode is never recorded twice. */
int store_history_add(struct store *s, const struct store_episode *e);
/* Calls fn for each episode of ip that ended at or after since, oldest first; fn returns
 * non-zero to stop. */
int store_history_for_ip(struct store *s, const uint8_t ip[16], int64_t since,
			 int (*fn)(const struct store_episode *e, void *arg), void *arg);
/* The number of current listings (a full count: callers cache it). */
int store_listing_count(struct store *s, uint64_t *out);
/* Pieces of evidence of every address received in [from, to), by kind. */
int store_evidence_count(struct store *s, int64_t from, int64_t to, uint64_t *traps,
			 uint64_t *reports);
/* Evidence against ip per day: traps[d] and reports[d] count the pieces received in
 * [from + d * 86400, from + (d + 1) * 86400) for d < days (the arrays are zeroed first). */
int store_evidence_per_day(struct store *s, const uint8_t ip[16], int64_t from, unsigned days,
			   uint32_t *traps, uint32_t *reports);

/* ---- review requests, moderators and their sessions (schema version 10) -----------------
 * The owner of a listed address asks for a review (a ticket); a moderator decides it: delist,
 * exclude for a while, or reject. Moderators log in with a password of which the store keeps
 * only the argon2id string (the caller hashes); a session is a random token of which the
 * store keeps only a hash. A removed moderator's row stays (the tickets name it) and ends its
 * sessions in the same transaction. */

#define STORE_PWHASH_MAX 128 /* crypto_pwhash_STRBYTES: the argon2id string, NUL included */
#define STORE_TOKEN_HASH_LEN 32

struct store_moderator {
	int64_t id;                    /* set by store_moderator_add */
	char name[STORE_NAME_MAX];
	char pw_hash[STORE_PWHASH_MAX]; /* "$argon2id$v=19$m=...": salt and cost inside */
	int64_t created_at;
	char created_by[64];
	int64_t removed_at;            /* 0: live */
};

/* Adds m (live) in the caller's transaction; sets m->id. STORE_EEXIST when a live moderator
 * has the name; STORE_EINVAL for an empty name or hash. */
int store_moderator_add(struct store *s, struct store_moderator *m);
/* The live moderator named name; STORE_ENOTFOUND when none. */
int store_moderator_get(struct store *s, const char *name, struct store_moderator *out);
/* Marks the live moderator named name removed at `at` and ends every session of it, in the
 * caller's transaction. STORE_ENOTFOUND when there is none (nothing is written). */
int store_moderator_remove(struct store *s, const char *name, int64_t at);
/* Calls fn for every live moderator, by name (pw_hash left empty). */
int store_moderator_foreach(struct store *s,
			    int (*fn)(const struct store_moderator *m, void *arg), void *arg);

struct store_session {
	uint8_t token_hash[STORE_TOKEN_HASH_LEN];
	int64_t moderator;             /* moderators.id */
	char name[STORE_NAME_MAX];     /* store_session_get: the moderator's name */
	int64_t created_at, expires_at;
};

/* Adds a session in the caller's transaction. STORE_EEXIST for a token hash seen before. */
int store_session_add(struct store *s, const struct store_session *ss);
/* The session whose token has this hash, if it is live at now: not ended, not expired, and
 * its moderator not removed. STORE_ENOTFOUND otherwise (one answer for every reason). */
int store_session_get(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN], int64_t now,
		      struct store_session *out);
/* Ends the live session of this hash at `at`; STORE_ENOTFOUND when none is live. */
int store_session_end(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN], int64_t at);

enum store_ticket_status {
	STORE_TICKET_OPEN = 0,
	STORE_TICKET_DELISTED = 1,
	STORE_TICKET_EXCLUDED = 2,
	STORE_TICKET_REJECTED = 3,
};
/* "open", "delisted", "excluded", "rejected" ("?" out of range). */
const char *store_ticket_status_name(enum store_ticket_status st);

#define STORE_TICKET_ID_LEN 32    /* hex characters of a ticket's id (16 random bytes) */
#define STORE_EMAIL_MAX 255       /* an address of 254 characters at most (RFC 5321) */
#define STORE_TICKET_TEXT_MAX 8001 /* what was fixed, the comment: 8000 bytes at most */

struct store_ticket {
	char id[STORE_TICKET_ID_LEN + 1]; /* random: the requester's link, unguessable */
	uint8_t ip[16];                   /* the listed address */
	char email[STORE_EMAIL_MAX];
	char fixed[STORE_TICKET_TEXT_MAX];
	char comment[STORE_TICKET_TEXT_MAX];
	int64_t created_at;
	uint8_t client[16];               /* who filed it: an IPv4 address or an IPv6 /64 */
	enum store_ticket_status status;
	char moderator[64];               /* who decided it ("" while open) */
	int64_t decided_at;               /* 0 while open */
	int64_t until;                    /* excluded: until when (0 with by_action: no end) */
	char reason[STORE_TEXT_MAX];      /* the moderator's reason, for the requester ("" when
					     by_action: the operator's why is the audit log's) */
	char joined[STORE_TICKET_ID_LEN + 1]; /* "": a ticket of its own; else the id of the open
						 ticket about the same address this request
						 joined, which decides it */
	bool by_action;                   /* closed by a delisting or an exclusion made outside
					     it (delist, exclude), not decided on it */
	uint32_t joined_n;                /* read: the requests that joined this one */
};

/* Adds t (open; joined as given) in the caller's transaction. STORE_EEXIST when the id is
 * taken. */
int store_ticket_add(struct store *s, const struct store_ticket *t);
/* The ticket with this id; STORE_ENOTFOUND when none. */
int store_ticket_get(struct store *s, const char *id, struct store_ticket *out);
/* Records the decision on the open ticket id (status, who, at, until, reason, by_action), in
 * the caller's transaction. STORE_ENOTFOUND when there is no open ticket of that id. */
int store_ticket_decide(struct store *s, const struct store_ticket *decision);
/* Calls fn for every ticket of its own, not the requests that joined one (open_only: the open
 * ones), oldest first. */
int store_ticket_foreach(struct store *s, bool open_only,
			 int (*fn)(const struct store_ticket *t, void *arg), void *arg);
/* Calls fn for every request that joined ticket head, oldest first. */
int store_ticket_joined_foreach(struct store *s, const char *head,
				int (*fn)(const struct store_ticket *t, void *arg), void *arg);
/* The open ticket of its own about ip (the one a new request joins) into id; STORE_ENOTFOUND
 * when there is none. */
int store_ticket_open_head(struct store *s, const uint8_t ip[16],
			   char id[STORE_TICKET_ID_LEN + 1]);
/* Calls fn(id, ip) for every open ticket, requests that joined one included, oldest first (the
 * id valid during the call; fn may not write tickets: collect, then write). */
int store_ticket_open_rows(struct store *s,
			   int (*fn)(const char *id, const uint8_t ip[16], void *arg), void *arg);
/* For the rate limits: requests filed at or after since by client (joined ones included), and
 * tickets about ip decided at or after since on the ticket itself (not those closed by an
 * action outside it, nor the requests that joined one). */
int store_ticket_count_client(struct store *s, const uint8_t client[16], int64_t since,
			      uint64_t *n);
int store_ticket_count_decided(struct store *s, const uint8_t ip[16], int64_t since,
			       uint64_t *n);

/* Calls fn(id, received_at, class) for the newest max pieces of evidence of kind against ip,
 * newest first (from the index on (ip, received_at): a flooded address costs max rows). */
int store_evidence_recent(struct store *s, const uint8_t ip[16], enum store_kind kind,
			  unsigned max,
			  int (*fn)(int64_t id, int64_t received_at, enum store_class cls, void *arg),
			  void *arg);

/* A ticket's history, append-only like the audit log: filed, then the decision. */
struct store_ticket_event {
	int64_t at;
	const char *what; /* "filed", "joined" (this request joined the open ticket), "added" (a
			     request joined this ticket), a decision on it ("delist", "exclude",
			     "reject"), or an action outside it that closed it ("operator-delist",
			     "operator-exclude") */
	const char *who;
	const char *why;
};
int store_ticket_event_add(struct store *s, const char *ticket, const struct store_ticket_event *e);
/* Calls fn for every event of ticket, oldest first (the strings valid during the call). */
int store_ticket_event_foreach(struct store *s, const char *ticket,
			       int (*fn)(const struct store_ticket_event *e, void *arg), void *arg);

#endif
