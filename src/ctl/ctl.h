/* ctl.h - the operator's commands: one table describes each (its words on the command line,
 * keys, usage, handler); each answers with data (a struct) that is printed as text or as JSON;
 * the control socket of a running service and the CLI's in-process path run the same handlers,
 * and the web reads through the same queries (ctl_query_status). */
#ifndef TRAPLINE_CTL_H
#define TRAPLINE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/base.h"
#include "mail/mail.h"
#include "policy/policy.h"
#include "store/store.h"
#include "writer/writer.h"

struct zone_handle;

/* The codes of the one error space (base.h) that ctl functions return. */
enum ctl_err {
	CTL_OK = TL_OK,
	CTL_EINVAL = TL_EINVAL,         /* bad input: the message says what */
	CTL_ENOMEM = TL_ENOMEM,
	CTL_EIO = TL_EIO,               /* a socket call failed; errno says why */
	CTL_ENOSERVICE = TL_ENOSERVICE, /* no service answers on the control socket */
	CTL_EPROTO = TL_EPROTO,         /* the other side does not speak the protocol */
	CTL_ENOTFOUND = TL_ENOTFOUND,   /* no such key, report or holder (the same for each) */
};

/* Exit statuses of the commands (and the status a service answers with). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1  /* the store or the writer failed */
#define CTL_EXIT_USAGE 2 /* bad input: nothing was changed */

#define CTL_LINE_MAX 8192 /* a request line, newline included */
#define CTL_ERR_MAX 512
#define CTL_WHO_MAX 64
#define CTL_POINTS_MAX 1e9 /* reputation points: beyond it is a typo, not a policy */
#define CTL_BODY_MAX MAIL_REPORT_MAX /* bytes of a request's body: a message, a relays file */
#define CTL_RELAYS_MAX (1u << 20)    /* bytes of a reporter's trusted-relays file */
#define CTL_FILE_MAX 1024            /* a file's name as the operator gave it */

/* ---- the command table ------------------------------------------------------------- */

struct ctl_run;

/* One operator's command. Adding a command is adding a row (ctl_cmd.c) and its handler. */
struct ctl_command {
	const char *name;       /* in the control protocol: "evidence-add" */
	const char *words;      /* on the command line: "evidence add" */
	const char *positional; /* the key of its one positional argument ("ip", "cidr"), or NULL */
	const char *keys;       /* the keys it takes, space separated ("json" where it prints) */
	const char *required;   /* the keys it needs */
	const char *usage;      /* its arguments after the words, for help */
	const char *help;       /* what it does, one line */
	int (*run)(struct ctl_run *r); /* the handler: returns an exit status */
};

/* The rows in the order help shows them. */
const struct ctl_command *ctl_commands(size_t *n);
/* The row named name in the protocol; NULL if none. */
const struct ctl_command *ctl_command_by_name(const char *name);
/* The row whose words start argv[0..argc): the longest match ("reputation list" before
 * "reputation"); *used gets the number of words. NULL if none. */
const struct ctl_command *ctl_command_match(int argc, char *const *argv, int *used);
/* How many of argv's words spell words, a space-separated phrase ("reputation list": 2), or 0
 * (also for the binary's own commands, "report analyse"). */
int ctl_words_match(const char *words, int argc, char *const *argv);
/* Whether the command takes key; whether key is a flag that takes no value (json, remove). */
bool ctl_command_takes(const struct ctl_command *c, const char *key);
bool ctl_key_is_flag(const char *key);
/* Whether the command works on the data directory itself, neither through the service nor
 * with the store open (restore): the command line runs it with ctl_service's data_dir alone. */
bool ctl_command_offline(const struct ctl_command *c);
/* Whether key names a file (report's FILE, --trusted-relays): the command line reads it and
 * sends its contents as the request's body (ctl_request_attach), its name as the value. */
bool ctl_key_is_file(const char *key);
/* Whether the command's positional key may be given several times on the command line (report
 * FILE...): each one is a request of its own. */
bool ctl_command_repeats(const struct ctl_command *c);
/* Whether the command reads its body from standard input (moderator add: the password), as a
 * command with a FILE key reads it from the file. */
bool ctl_command_body_from_stdin(const struct ctl_command *c);
/* Whether any command takes key on the command line (for "unknown option" against "not for
 * this command"); the protocol's own keys (body) are not options. */
bool ctl_key_known(const char *key);
/* "usage: trapline WORDS USAGE" and the help line, for `trapline WORDS --help`. */
void ctl_command_help(FILE *f, const struct ctl_command *c);

/* ---- requests ------------------------------------------------------------------------ */

enum ctl_format { CTL_FORMAT_NONE = 0, CTL_FORMAT_RBLDNSD = 1, CTL_FORMAT_BIND = 2 };

/* A parsed request. Fields a command does not take stay zero. Times are seconds since the
 * epoch; at == 0 means "now" (the service's clock, time_now). */
struct ctl_request {
	const struct ctl_command *cmd;
	bool has_ip;
	uint8_t ip[16];              /* IPv4 mapped, as the store keeps it */
	bool has_prefix;
	struct ip_prefix prefix;     /* exclude, reputation */
	enum store_kind kind;        /* 0: not given */
	bool has_class;
	enum store_class cls;
	int64_t at;                  /* evidence add: when the mail was received */
	int64_t until;               /* exclude: 0 = for ever */
	bool has_points;
	double points;               /* reputation: >= 0, finite; 0 removes the prefix's points */
	bool remove;                 /* reputation: remove the points; exclude: end the exclusion */
	bool force;                  /* exclude: wider than /8 (IPv4) or /32 (IPv6) */
	bool undo;                   /* delist: take back the delisting in force */
	int64_t since;               /* audit: rows at or after this (0: all) */
	bool has_why;
	char why[STORE_TEXT_MAX];
	enum ctl_format format;      /* export */
	bool json;                   /* print the answer as JSON */
	bool has_name;
	char name[STORE_NAME_MAX];   /* reporter add/remove, feed add/remove */
	bool has_reporter;
	char reporter[STORE_NAME_MAX]; /* report --reporter */
	bool has_file;
	char file[CTL_FILE_MAX];     /* report's FILE, --trusted-relays FILE: the name, for messages */
	bool has_id;
	char id[STORE_TICKET_ID_LEN + 1]; /* review ...: a ticket's id */
	bool all;                    /* review list: every ticket, not only the open ones */
	bool has_body;               /* a body comes with the request (body=LEN on the line) */
	size_t body_len;
	const char *body;            /* its bytes, once attached (ctl_request_attach); not owned */
	unsigned seen;               /* keys given so far (a key given twice is refused) */
};

/* Starts a request for the command named name (protocol name); CTL_EINVAL if unknown. */
int ctl_request_init(struct ctl_request *req, const char *name, char *err, size_t errcap);
/* Sets one argument from its text (the keys of the command table: "ip", "kind", "class",
 * "at", "cidr", "until", "why", "format", "json", "points", "remove" (the same as points=0)).
 * Checks what can be checked without a clock: the address parses, a CIDR has no host bits, a
 * time is ISO 8601, points are a plain decimal from 0 to CTL_POINTS_MAX, the command takes the
 * key. CTL_EINVAL with a one-line message in err otherwise. */
int ctl_request_set(struct ctl_request *req, const char *key, const char *value, char *err,
		    size_t errcap);
/* Checks the request as a whole against now: required arguments given (--ip, --kind, --why,
 * --format...), --until in the future, --at not in the future, the body of a FILE key
 * attached. CTL_EINVAL with a message. */
int ctl_request_check(const struct ctl_request *req, int64_t now, char *err, size_t errcap);
/* Attaches len bytes at body (not copied: they must outlive the request) as the request's
 * body. A request parsed from a line that announced body=LEN takes exactly LEN bytes; one built
 * on the command line takes up to CTL_BODY_MAX, if its command takes a body. CTL_EINVAL with a
 * message otherwise. */
int ctl_request_attach(struct ctl_request *req, const char *body, size_t len, char *err,
		       size_t errcap);

/* The protocol: one request per connection, one line "NAME key=value key=value\n", values
 * %XX-escaped (space, '%', '=', control and non-ASCII bytes), then, when the line says
 * body=LEN (its last key), exactly LEN bytes of body (at most CTL_BODY_MAX); the answer is
 * "status N\n" followed by the command's output until the connection closes (its standard
 * output when N is 0, its error message otherwise). */
/* Writes req as a request line (with its newline, body=LEN included) into buf; the body's
 * bytes are sent after it. CTL_EINVAL when cap is too small. */
int ctl_request_format(const struct ctl_request *req, char *buf, size_t cap);
/* Parses a request line (the newline may be there or not) into req. A body=LEN it announces
 * sets has_body and body_len; the bytes are the caller's to read and attach. */
int ctl_request_parse(const char *line, size_t len, struct ctl_request *req, char *err,
		      size_t errcap);

/* ---- what a command runs against ------------------------------------------------------ */

/* A running service's parts, or the CLI's own writer when no service runs. reader is a store
 * handle used only by the thread that calls ctl_execute (the control socket's thread opens its
 * own read-only one), so reads never share the writer's connection. */
struct ctl_service {
	struct writer *writer;
	struct store *reader;
	struct zone_handle *zone; /* the caller is a registered zone reader (export) */
	const char *zone_name;
	const char *data_dir;         /* the data directory (restore) */
	struct policy_config policy;
	struct ip_prefix default_exclusions[CONFIG_PREFIX_MAX];
	size_t n_default_exclusions;
	bool special_excluded;        /* exclude_default names special-purpose: evidence naming a
					 special-purpose address is refused (trap hits of feeds,
					 evidence add) and a report's analysis treats a hop from
					 one as no public source */
	uint32_t report_max_size;     /* report_max_size: bytes of one report at most */
	uint32_t report_max_per_hour; /* report_max_per_hour: 0 is no limit */
	uint32_t feed_max_hits;       /* feed_max_hits: trap hits one feed request may carry */
	/* Never wait for room in the writer's queue: a full queue is an answer (a report
	 * CTL_REPORT_UNAVAILABLE, feed hits WRITER_EFULL), not a wait. The web sets it: its
	 * workers serve everyone's pages. The commit itself is still waited for. */
	bool writer_nowait;
	/* review requests and moderation (ctl_review.c, ctl_moderator.c) */
	uint32_t review_per_client_day, review_per_ip_day; /* 0: no limit */
	uint32_t review_text_max;     /* bytes of a request's free-text field */
	uint32_t session_s;           /* a moderator's login lasts this long */
	const char *trap_domains;     /* for masking trap addresses in the samples shown */
	const char *trap_addresses;
	/* The service's figures (GET /metrics, `trapline status`); NULL when no service runs.
	 * Filled before any reader starts, then only read. */
	const struct metrics_registry *metrics;
};

/* Fills svc's settings from cfg (zone, the policy_* keys, exclude_default, report_*,
 * feed_max_hits) beside writer,
 * reader and zone (cfg must outlive svc: zone_name points into it). */
void ctl_service_init(struct ctl_service *svc, const struct config *cfg, struct writer *writer,
		      struct store *reader, struct zone_handle *zone);
/* The settings part of ctl_service_init alone (what a reload changes): every field it fills
 * from cfg, leaving the wiring (writer, reader, zone, metrics, writer_nowait) as it is. */
void ctl_service_settings(struct ctl_service *svc, const struct config *cfg);

/* Runs req: writes through the writer, reads from svc->reader. The answer goes to out as text,
 * or as JSON when req->json; a one-line error message ("trapline: ...") to err. who names the
 * operator for the audit log. Returns an exit status: CTL_EXIT_OK, CTL_EXIT_USAGE (bad input,
 * nothing changed) or CTL_EXIT_FAIL. */
int ctl_execute(const struct ctl_service *svc, const struct ctl_request *req, const char *who,
		FILE *out, FILE *err);

/* ---- answers as data ------------------------------------------------------------------ */

/* What the list knows about one address at one moment: the answer of `check`, of the lookup
 * page and of the JSON API. Everything comes from one gathering of the facts
 * (writer_facts_read) and one evaluation of the policy at `at`, the same the writer decides
 * with, so DNS and every explanation agree. */
struct ctl_status {
	uint8_t ip[16];
	int64_t at;                /* when it was evaluated */
	bool listed;
	bool test_point;           /* an RFC 5782 test point, answered by DNS whatever the evidence:
				      127.0.0.2 listed (reason "test point", no expiry), 127.0.0.1
				      never (why_not CTL_WHY_TEST_POINT) */
	enum policy_reason reason; /* POLICY_REASON_NONE when not listed, or a test point */
	enum evidence_class detail; /* the class most counted trap hits have (spam when none) */
	const struct policy_meaning *meaning; /* what the listing usually means; NULL when not
						 listed (static) */
	int64_t listed_since;      /* when this listing began (0: not listed, or not stored yet) */
	int64_t expires_at;        /* listed: when it ends unless new evidence arrives; not listed
				      because it expired: when it did; otherwise 0 */
	double score, threshold;
	uint32_t traps, reports;   /* pieces the policy counts now */
	const char *why_not;       /* NULL when listed (a static string) */
	uint32_t store_traps, store_reports; /* every piece in the store, counted or not */
	uint32_t trap_classes[EVIDENCE_CLASSES]; /* counted trap hits per class */
	uint32_t traps_24h, reports_24h, traps_7d, reports_7d; /* received in the last day, week */
	bool excluded;
	bool excluded_by_default;  /* by exclude_default (no row, no reason but the config) */
	struct ip_prefix exclusion;
	int64_t exclusion_until;   /* 0: for ever */
	char exclusion_why[STORE_TEXT_MAX];
	bool has_reputation;
	struct ip_prefix reputation; /* the most specific prefix with points covering ip */
	double reputation_points;
	char reputation_why[STORE_TEXT_MAX];
	int64_t delisted_at;       /* the latest delisting (0: none) */
	char delist_who[64];       /* who made it ("moderator:NAME", "cli:USER") and why: for the
				      operator's text, never in the JSON (the API is this JSON) */
	char delist_why[STORE_TEXT_MAX];
};

/* why_not of the RFC 5782 test point that is never listed (127.0.0.1). */
#define CTL_WHY_TEST_POINT "RFC 5782 test point: never listed"
/* The meaning of the listed test point (127.0.0.2): static. */
const struct policy_meaning *ctl_test_point_meaning(void);

/* One piece of evidence as explain shows it. */
struct ctl_piece {
	int64_t received_at;
	bool trap;
	enum store_class cls;
	bool counted;
	double weight;      /* a counted report's weight; 0 for trap hits (scored together) */
	const char *note;   /* why it is not counted ("older than the window", "before the
			       delisting"), NULL when counted; a static string */
};

/* `explain`: the status and the computation behind it. */
struct ctl_explain {
	struct ctl_status status;
	struct policy_config policy;
	struct policy_result result;
	struct policy_context ctx;
	struct policy_evidence *ev; /* owned */
	struct ctl_piece *pieces;   /* owned, n of them, oldest first */
	size_t n;
};

/* The status of ip at now, read from reader (a store connection of the caller's thread).
 * CTL_OK, or an error of the store or CTL_ENOMEM. */
int ctl_query_status(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		     int64_t now, struct ctl_status *out);
/* The same with the computation; free it with ctl_explain_free. */
int ctl_query_explain(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		      int64_t now, struct ctl_explain *out);
void ctl_explain_free(struct ctl_explain *e);

/* How every JSON answer is written (the commands, the API): at most 15 significant digits, so
 * that a shown score (policy_score_shown) prints as its three decimals, 7.999 and not
 * 7.9989999999999997. */
#define CTL_JSON_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* The JSON of each answer (docs/api.md has their shapes); the caller owns the value. NULL
 * when out of memory. The status carries no free text written by people (the why of an
 * exclusion, of reputation points or of a delisting, who made them): it is also the public
 * API's answer, and those words are for the operator and the moderators. */
json_t *ctl_status_json(const struct ctl_status *s);
json_t *ctl_explain_json(const struct ctl_explain *e);
json_t *ctl_listing_json(const struct store_listing *l);
json_t *ctl_reputation_json(const struct store_reputation *r);
json_t *ctl_exclusion_json(const struct store_exclusion *x); /* id 0: exclude_default */
/* The text of each, as the commands print it. */
void ctl_status_text(FILE *f, const struct ctl_status *s);
void ctl_explain_text(FILE *f, const struct ctl_explain *e);

/* ---- reporters, feeds and their keys (ctl_holder.c) -------------------------------------- */

/* An API key: "tlr_" (a reporter's) or "tlf_" (a feed's) and 64 hex digits (32 random bytes
 * from libsodium). It is shown once; the store keeps its BLAKE2b hash (crypto_generichash: the
 * key is random and long, so a fast hash is as safe as a slow one, and costs microseconds per
 * request where a password hash would cost milliseconds). */
#define CTL_KEY_LEN 68
/* A new key for a holder of kind into key (CTL_KEY_LEN + 1 bytes) and its hash. */
void ctl_key_new(enum store_holder_kind kind, char key[CTL_KEY_LEN + 1],
		 uint8_t hash[STORE_KEY_HASH_LEN]);
/* The hash the store keeps of key[0..len). */
void ctl_key_hash(const char *key, size_t len, uint8_t hash[STORE_KEY_HASH_LEN]);
/* The live holder of kind whose key is key[0..len), from reader: CTL_OK, or CTL_ENOTFOUND for
 * a key that is missing, malformed, unknown, removed or of the other kind (one answer for all,
 * so that a client learns nothing from which), or a store error. The stored hash is compared
 * in constant time (sodium_memcmp). */
int ctl_holder_auth(struct store *reader, enum store_holder_kind kind, const char *key,
		    size_t len, struct store_holder *out);
/* NULL when name is a valid holder name (1 to 63 of A-Z a-z 0-9 . _ - @, starting with a
 * letter or digit: it is shown in logs, lists and evidence unescaped), else why not. */
const char *ctl_holder_name_problem(const char *name);

/* ---- user reports (ctl_report.c): what `trapline report` and POST /api/v1/reports do ---- */

enum ctl_report_outcome {
	CTL_REPORT_TAKEN = 0,   /* stored, with its evidence when the analysis found a source */
	CTL_REPORT_DUPLICATE,   /* this reporter sent the same message before: that report */
	CTL_REPORT_TOO_BIG,     /* larger than report_max_size: nothing written */
	CTL_REPORT_NOT_MESSAGE, /* not a message (why says what): nothing written */
	CTL_REPORT_LIMIT,       /* the reporter's hourly limit is reached: nothing written */
	CTL_REPORT_GONE,        /* the reporter was removed meanwhile: nothing written */
	CTL_REPORT_UNAVAILABLE, /* the writer could not take it (stopping, a failed commit):
				   nothing acknowledged; try again (retry_after) */
	CTL_REPORT_FAILED,      /* out of memory, a read of the store failed (why) */
};

struct ctl_report_result {
	enum ctl_report_outcome outcome;
	struct store_report report; /* TAKEN, DUPLICATE: the report (its analysis allocated) */
	bool has_status;
	struct ctl_status status;   /* TAKEN, DUPLICATE with a source: where it stands now */
	int64_t retry_after;        /* LIMIT, UNAVAILABLE: seconds to wait */
	char why[MAIL_WHY_MAX];     /* what went wrong, for the outcomes that are not a report */
};

/* Takes the message msg[0..len) reported by reporter (a live reporter, read from reader):
 * refuses it when too big, answers the earlier report when the same message came from the same
 * reporter, refuses it past the hourly limit; otherwise finds its source with the reporter's
 * trusted relays (mail_report_analyse), gives it a random id and hands it to the writer, which
 * stores the report and its evidence in one transaction; the outcome is TAKEN only once that
 * committed. Reads go to reader (a connection of the caller's thread). Free out with
 * ctl_report_result_free whatever the outcome. */
void ctl_report_take(const struct ctl_service *svc, struct store *reader,
		     const struct store_holder *reporter, const char *msg, size_t len,
		     struct ctl_report_result *out);
/* The report with this id if reporter sent it: CTL_OK with out->report (analysis allocated) and
 * out->status; CTL_ENOTFOUND when there is none or it is another reporter's (the same answer:
 * ids are secrets of their reporters); a store error. */
int ctl_report_lookup(const struct ctl_service *svc, struct store *reader,
		      const struct store_holder *reporter, const char *id, int64_t now,
		      struct ctl_report_result *out);
void ctl_report_result_free(struct ctl_report_result *r);
/* The reports this process took, by outcome (a metrics_collect_fn; arg unused):
 * trapline_reports_total{result}. */
void ctl_report_metrics(void *arg, struct metrics *m);
/* A report as JSON (docs/api.md): id, reporter, received_at, duplicate, listed, then the keys of
 * the analysis (mail_analysis_json). NULL when out of memory. */
json_t *ctl_report_json(const struct ctl_report_result *r, const char *reporter);

/* ---- trap hits from feeds (ctl_feed.c): what POST /api/v1/evidence takes --------------- */

#define CTL_FEED_SKEW_S 300    /* seconds a hit may lie in the future: the feed's clock is not
				  ours */
#define CTL_FEED_HIT_BYTES 512 /* body bytes a request may take per hit it may carry */

/* One trap hit a feed reports. */
struct ctl_feed_hit {
	uint8_t ip[16];      /* IPv4 mapped, as the store keeps it */
	int64_t at;          /* when the trap received the message */
	enum store_class cls;
	char id[STORE_HIT_ID_MAX]; /* the feed's id of the hit, "" when it gave none */
	bool duplicate;      /* set by ctl_feed_take: the feed stored a hit of this id before */
};

/* Reads a feed's request body (JSON): one hit, {"ip": ADDRESS, "at": ISO 8601 (omitted or null:
 * now), "class": "spam", "bounce", "autoreply" or "virus" (omitted: spam), "id": 1 to 128
 * printable ASCII characters (optional: the feed's own id of the hit)}, or an array of 1 to
 * max of them. All or nothing: CTL_OK with every hit in out[0..*n) (out has room for max);
 * CTL_EINVAL with the reason in err and in *index the position of the first bad hit (from 0; a
 * lone object is hit 0), or -1 when the body as a whole is wrong (not JSON, empty, too many).
 * A hit names one address that can send mail (ip_never_sends) and, when special_refused (the
 * service's special_excluded), that is no special-purpose address (ip_special_find), a time at
 * most CTL_FEED_SKEW_S after now and not before now - window_s (evidence older than the
 * policy's window never counts), and no other key. A pure function: no I/O, no clock but now. */
int ctl_feed_parse(const char *body, size_t len, int64_t now, int64_t window_s,
		   bool special_refused, size_t max, struct ctl_feed_hit *out, size_t *n,
		   long *index, char *err, size_t errcap);

/* Hands feed's n hits to the writer as trap evidence with the source "feed:NAME", in one
 * transaction (n <= feed_max_hits), and returns once it committed: CTL_OK; CTL_ENOMEM; or the
 * writer's error, with nothing stored: WRITER_EFULL, WRITER_ESTOPPED, WRITER_ESTORE (try again
 * later), others. A hit with an id this feed stored before (in an earlier request or earlier in
 * this one) is not stored again: its duplicate is set, and *stored counts the others. */
int ctl_feed_take(const struct ctl_service *svc, const struct store_holder *feed,
		  struct ctl_feed_hit *hits, size_t n, size_t *stored);

/* ---- the control socket ---------------------------------------------------------------- */

/* An AF_UNIX stream socket at path, mode 0600, answered by one thread, one request per
 * connection. A socket file left by a killed process (nothing accepts on it) is replaced; one a
 * live process answers on is CTL_EIO with errno EADDRINUSE. svc is copied, but what it points
 * to must outlive the server; the server opens its own read-only store handle on data_dir and
 * ignores svc->reader. Only root, the calling process's effective user and, when group >= 0,
 * that group's members (the peer's primary or supplementary groups) are answered; anyone else
 * gets "status 1" and one refusal line. group >= 0: the socket file is given to that group
 * with mode 0660 (the caller must be a member). */
struct ctl_server;
int ctl_server_start(const char *path, const char *data_dir, const struct ctl_service *svc,
		     int group, struct ctl_server **out);
/* Stops the thread (a request being run finishes first), removes the socket file, frees. */
void ctl_server_stop(struct ctl_server *srv);
/* A configuration reload: the settings ctl_service_init takes from cfg (the policy,
 * exclude_default, the limits of reports, feeds and reviews, the trap addresses to mask), for
 * the requests after the one being run. cfg must outlive the server (the service keeps
 * pointers into it). NULL srv: nothing to do. */
int ctl_server_reload(struct ctl_server *srv, const struct config *cfg);

/* Sends req to the service listening on path and copies its answer: the output to out when the
 * status is 0, to err otherwise. *status gets the service's exit status. CTL_ENOSERVICE when
 * there is no socket file or nothing accepts on it (run the command in-process then). */
int ctl_client_call(const char *path, const struct ctl_request *req, FILE *out, FILE *err,
		    int *status);

/* ---- for the web pages: the list's live figures, one address's last 30 days (ctl_stats.c) */

/* The home page's figures: listings now, evidence received in the last hour and day. */
struct ctl_figures {
	int64_t at;          /* when they were counted */
	uint64_t listed;
	uint64_t traps_1h, reports_1h, traps_24h, reports_24h;
};

/* Counts the figures at now from reader. The listing count reads every row (a million takes
 * tens of milliseconds): callers cache it. CTL_OK or a store error. */
int ctl_query_figures(const struct ctl_service *svc, struct store *reader, int64_t now,
		      struct ctl_figures *out);

#define CTL_HISTORY_DAYS 30
#define CTL_HISTORY_EPISODES_MAX 64

/* One period an address was listed; ended_at 0: still listed. */
struct ctl_episode {
	int64_t listed_at, ended_at;
	enum policy_reason reason;
};

/* An address's last 30 days for the lookup page's chart: the evidence per UTC day (the last
 * day is today, so far) and the periods it was listed (ended ones from the listing history,
 * the current one from the listings). Never which traps or reporters. */
struct ctl_history {
	uint8_t ip[16];
	int64_t at;
	int64_t from;     /* midnight UTC starting the first day; the days end at from + 30 d */
	uint32_t traps[CTL_HISTORY_DAYS], reports[CTL_HISTORY_DAYS];
	struct ctl_episode episodes[CTL_HISTORY_EPISODES_MAX]; /* oldest first */
	size_t n_episodes;
	bool episodes_cut; /* more episodes than the array holds: the newest are kept */
};

/* Fills out for ip at now from reader. CTL_OK or a store error. */
int ctl_query_history(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		      int64_t now, struct ctl_history *out);
/* The figures and the history as JSON (docs/api.md); NULL when out of memory. */
json_t *ctl_figures_json(const struct ctl_figures *f);
json_t *ctl_history_json(const struct ctl_history *h);

/* ---- review requests (ctl_review.c): the web's form, the queue, the decisions ----------- */

/* What a review request's form brings, each field as it came (not NUL-terminated; a NUL inside
 * is refused): ip, email, fixed, comment. */
struct ctl_review_input {
	const char *ip, *email, *fixed, *comment;
	size_t ip_len, email_len, fixed_len, comment_len;
};

/* Checks every field and fills t (id, ip, email, fixed, comment; client from the caller):
 * ip one address, email an address of at most 254 characters, fixed 1 to review_text_max bytes
 * and comment at most that, all valid UTF-8 without control characters (newlines and tabs
 * allowed in the texts). Angle brackets are text (a pasted "550 5.1.1 <user@example.org>"),
 * escaped wherever it is shown. CTL_EINVAL with *field the field's name and why in err, words
 * that follow the field's name ("Your e-mail address needs one @ ..."). */
int ctl_review_check(const struct ctl_service *svc, const struct ctl_review_input *in,
		     struct store_ticket *t, const char **field, char *err, size_t errcap);

enum ctl_review_outcome {
	CTL_REVIEW_FILED = 0,     /* stored (its first event "filed"): t->id is the link; when the
				     address had an open ticket, the request joined it (t->joined) */
	CTL_REVIEW_NOT_LISTED,    /* the address is not listed: nothing to review */
	CTL_REVIEW_CLIENT_LIMIT,  /* this client filed review_per_client_day in 24 hours */
	CTL_REVIEW_IP_LIMIT,      /* no open ticket, and review_per_ip_day tickets about this
				     address were decided in 24 hours */
	CTL_REVIEW_UNAVAILABLE,   /* the writer could not take it now: nothing stored */
};

/* Gives t (checked by ctl_review_check, client set) a random id and hands it to the writer,
 * which checks the listing and the limits again in its transaction; FILED only once it is
 * committed. */
enum ctl_review_outcome ctl_review_file(const struct ctl_service *svc, struct store_ticket *t);

/* A moderator's decision on ticket id: status DELISTED, EXCLUDED (until, in the future) or
 * REJECTED, with who and why for the audit log. session_hash: the web session it was made in,
 * which must still be live when it commits (NULL from the command line). Returns a writer
 * result: WRITER_OK, or WRITER_ENOTFOUND / WRITER_EEXIST with d->refusal saying why (no such
 * ticket, decided or closed already: d->was..., the session ended), or a failure. d gets the
 * ticket's address, the ticket decided (a request that joined one stands for it: d->ticket)
 * and how many requests were decided. */
int ctl_review_decide(const struct ctl_service *svc, const char *id,
		      enum store_ticket_status status, int64_t until, const char *who,
		      const char *why, const uint8_t *session_hash, struct writer_decision *d);

/* A ticket as JSON: id, ip, status, filed_at, email, fixed, comment, decided_at, moderator,
 * by_action, until, reason, joined, requests (docs/api.md). NULL when out of memory. */
json_t *ctl_ticket_json(const struct store_ticket *t);

/* Who acted, in words for the operator's and the moderators' eyes (never the public's):
 * "moderator:alice" is "moderator alice", "cli:root" "the operator (root, on the command
 * line)", "ctl:root" the same through the control socket. Into buf; returns buf. */
const char *ctl_who_words(const char *who, char *buf, size_t cap);

/* One trap hit of the address under review as a moderator sees it: the envelope and the
 * sample of headers, every trap address masked (mail_mask_traps), text valid UTF-8. */
struct ctl_sample {
	int64_t received_at;
	enum store_class cls;
	bool envelope;       /* false: evidence added by a command or a feed, no SMTP envelope */
	const char *helo, *mail_from, *signals; /* masked, valid during the callback */
	uint64_t size;
	const char *sample;  /* NULL: none kept (pruned, or trap_sample = none) */
	size_t sample_len;   /* at most CTL_SAMPLE_SHOWN bytes of it */
};
#define CTL_SAMPLES_SHOWN 5
#define CTL_SAMPLE_SHOWN 8192
/* Calls fn for the newest CTL_SAMPLES_SHOWN trap hits against ip (newest first), read from
 * reader. CTL_OK or a store error. */
int ctl_review_samples(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		       int (*fn)(const struct ctl_sample *s, void *arg), void *arg);

/* The user reports a moderator sees of an address (store_report_recent), each with the
 * Received-chain analysis that chose it. */
#define CTL_REPORTS_SHOWN 5

/* ---- moderators, their passwords and sessions (ctl_moderator.c) ------------------------- */

#define CTL_MODERATOR_NAME_MAX 50 /* "moderator:NAME" fits the audit log's who */
#define CTL_PASSWORD_MIN 12
#define CTL_PASSWORD_MAX 1024
/* The argon2id string of password[0..len) (libsodium crypto_pwhash_str_alg, interactive
 * limits: about 64 MiB and a tenth of a second). CTL_EINVAL for a password outside
 * CTL_PASSWORD_MIN..CTL_PASSWORD_MAX bytes or holding a NUL; CTL_ENOMEM when the memory for
 * the hash cannot be had. */
int ctl_password_hash(const char *password, size_t len, char out[STORE_PWHASH_MAX]);

/* A session token: 64 hex digits (32 random bytes); the store keeps its BLAKE2b hash. */
#define CTL_TOKEN_LEN 64
/* The hash the store keeps of a token; false when token[0..len) is not one (no lookup then). */
bool ctl_token_hash(const char *token, size_t len, uint8_t hash[STORE_TOKEN_HASH_LEN]);

/* Checks name and password against the live moderators (from reader). On success, a new
 * session (valid svc->session_s seconds) is committed through the writer and its token written
 * to token (CTL_TOKEN_LEN + 1 bytes). CTL_ENOTFOUND for an unknown name or a wrong password,
 * after the same work either way (an unknown name is checked against a hash of nothing), so
 * that neither the answer nor its time tells names apart; a writer or store failure else. */
int ctl_moderator_login(const struct ctl_service *svc, struct store *reader, const char *name,
			const char *password, size_t len, int64_t now,
			char token[CTL_TOKEN_LEN + 1], struct store_session *out);
/* The live session of token (not ended, not expired, its moderator not removed), read from
 * reader: CTL_OK, CTL_ENOTFOUND (one answer for every reason), or a store error. */
int ctl_session_get(struct store *reader, const char *token, size_t len, int64_t now,
		    struct store_session *out);
/* Ends the session of this hash through the writer: CTL_OK, CTL_ENOTFOUND when none is live. */
int ctl_session_end(const struct ctl_service *svc, const struct store_session *s);

#endif
