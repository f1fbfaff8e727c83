/* ctl_cmd.c - the operator's commands in one table, their keys in another, requests checked
 * against both, the one-line text form the control socket carries, and the running of a
 * request: the service it runs against, from the config (ctl_service_init), and ctl_execute,
 * which checks it on the service's clock and hands it to its row's handler. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_internal.h"

/* One row per command: adding a command is adding a row here and its handler. help and
 * `trapline WORDS --help` print from it, the CLI dispatches on it, the socket names by it. */
static const struct ctl_command ctl_table[] = {
	{"evidence-add", "evidence add", NULL, "ip kind at class json", "ip kind",
	 "--ip IP --kind trap|report [--at TIME] [--class spam|bounce|autoreply|virus] [--json]",
	 "store a piece of evidence against IP (received at TIME, default now)",
	 ctl_run_evidence_add},
	{"check", "check", "ip", "ip json", "ip", "IP [--json]",
	 "listed or not, why and what it usually means, since and until when, the score",
	 ctl_run_check},
	{"explain", "explain", "ip", "ip json", "ip", "IP [--json]",
	 "the policy's computation for IP, piece by piece", ctl_run_explain},
	{"list", "list", NULL, "json", "", "[--json]",
	 "every listing with its reason, score and expiry", ctl_run_list},
	{"status", "status", NULL, "json", "", "[--json]",
	 "the running service's figures: uptime, listings by reason, recent evidence, the "
	 "writer's queue and last commit, the zone's serial, DNS, SMTP, secondaries",
	 ctl_run_status},
	{"delist-list", "delist list", NULL, "json", "", "[--json]",
	 "every delisting in force: when, who, why", ctl_run_delist_list},
	{"delist", "delist", "ip", "ip undo why json", "ip why", "IP [--undo] --why TEXT [--json]",
	 "end IP's listing (evidence received after it lists again); --undo takes it back",
	 ctl_run_delist},
	{"exclude-list", "exclude list", NULL, "json", "", "[--json]",
	 "every exclusion in force: prefix, until when, who, why", ctl_run_exclude_list},
	{"exclude", "exclude", "cidr", "cidr until remove force why json", "cidr why",
	 "CIDR [--until TIME] [--force] --why TEXT | CIDR --remove --why TEXT [--json]",
	 "never list addresses in CIDR (until TIME; replaces CIDR's earlier exclusion); --remove "
	 "ends it; wider than /8 (IPv4) or /32 (IPv6) needs --force",
	 ctl_run_exclude},
	{"reputation-list", "reputation list", NULL, "json", "", "[--json]",
	 "every prefix with reputation points: when, who, why", ctl_run_reputation_list},
	{"reputation", "reputation", "cidr", "cidr points remove why json", "cidr why",
	 "CIDR --points N|--remove --why TEXT [--json]",
	 "raise the listing threshold inside CIDR by N points", ctl_run_reputation},
	{"audit", "audit", NULL, "since json", "", "[--since TIME] [--json]",
	 "the audit log: every operator's and moderator's change, oldest first", ctl_run_audit},
	{"rebuild", "rebuild", NULL, "json", "", "[--json]",
	 "recompute every listing from the evidence", ctl_run_rebuild},
	{"export", "export", NULL, "format", "format", "--format rbldnsd|bind [--out FILE]",
	 "the live zone as a file for mirrors (standard output by default)", ctl_run_export},
	{"reporter-add", "reporter add", "name", "name trusted-relays json body",
	 "name trusted-relays", "NAME --trusted-relays FILE [--json]",
	 "register a reporter of spam (FILE: its own relays, a CIDR or host name a line); prints "
	 "its API key, once",
	 ctl_run_holder_add},
	{"reporter-list", "reporter list", NULL, "json", "", "[--json]",
	 "every reporter: since when, who added it, how many reports it sent", ctl_run_holder_list},
	{"reporter-remove", "reporter remove", "name", "name why json", "name why",
	 "NAME --why TEXT [--json]",
	 "end a reporter's key; its reports and their evidence stay", ctl_run_holder_remove},
	{"feed-add", "feed add", "name", "name json", "name", "NAME [--json]",
	 "register a feed of trap hits from traps elsewhere; prints its API key, once",
	 ctl_run_holder_add},
	{"feed-list", "feed list", NULL, "json", "", "[--json]",
	 "every feed: since when, who added it", ctl_run_holder_list},
	{"feed-remove", "feed remove", "name", "name why json", "name why",
	 "NAME --why TEXT [--json]", "end a feed's key; the evidence it sent stays",
	 ctl_run_holder_remove},
	{"report", "report", "file", "reporter file json body", "reporter file",
	 "--reporter NAME [--json] FILE...",
	 "take spam messages reported by NAME (a file, or - for standard input): each one's "
	 "source, the report stored with its evidence, listed or not",
	 ctl_run_report},
	/* review requests and moderation */
	{"review-list", "review list", NULL, "all json", "", "[--all] [--json]",
	 "the review requests waiting for a moderator, oldest first; --all: every one",
	 ctl_run_review_list},
	{"review-show", "review show", "id", "id json", "id", "ID [--json]",
	 "a review request: what was asked, where the address stands, the evidence, samples with "
	 "trap addresses masked, its history",
	 ctl_run_review_show},
	{"review-delist", "review delist", "id", "id why json", "id why", "ID --why TEXT [--json]",
	 "decide a review request: delist its address (as delist does), close the ticket",
	 ctl_run_review_decide},
	{"review-exclude", "review exclude", "id", "id until why json", "id until why",
	 "ID --until TIME --why TEXT [--json]",
	 "decide a review request: never list its address until TIME, close the ticket",
	 ctl_run_review_decide},
	{"review-reject", "review reject", "id", "id why json", "id why", "ID --why TEXT [--json]",
	 "decide a review request: the listing stands (the requester reads why), close the ticket",
	 ctl_run_review_decide},
	{"moderator-add", "moderator add", "name", "name why json body", "name",
	 "NAME [--why TEXT] [--json] < PASSWORD",
	 "add a moderator of the review queue (/admin/); the password (12 characters at least) is "
	 "read from standard input",
	 ctl_run_moderator_add},
	{"moderator-list", "moderator list", NULL, "json", "", "[--json]",
	 "every moderator: since when, who added it", ctl_run_moderator_list},
	{"moderator-remove", "moderator remove", "name", "name why json", "name",
	 "NAME [--why TEXT] [--json]",
	 "end a moderator's access at once: its sessions end with it, its decisions stay",
	 ctl_run_moderator_remove},	/* getting it back (ctl_backup.c) */
	{"backup", "backup", "path", "path force json", "path", "FILE [--force] [--json]",
	 "a consistent copy of the store, taken while the service runs (the service writes FILE, "
	 "mode 0600, as its user); an existing FILE only with --force",
	 ctl_run_backup},
	{"restore", "restore", "path", "path force json", "path",
	 "FILE [--force] [--json]",
	 "build the data directory (--data DIR) from a backup (checked, and migrated when "
	 "older); a DIR that holds a store only with --force, never while a service runs on it",
	 ctl_run_restore},
	{"verify", "verify", NULL, "json", "", "[--json]",
	 "SQLite's integrity check, and every listing recomputed from the evidence against the "
	 "stored one: what differs; exit 1 when anything does",
	 ctl_run_verify},
};

static bool word_in(const char *list, const char *key);

/* The commands that work on the data directory itself, never through the service nor with
 * the store open: restore makes the store. */
static const char ctl_offline[] = "restore";

#define N_CTL (sizeof(ctl_table) / sizeof(ctl_table[0]))

const struct ctl_command *ctl_commands(size_t *n)
{
	*n = N_CTL;
	return ctl_table;
}

const struct ctl_command *ctl_command_by_name(const char *name)
{
	for (size_t i = 0; i < N_CTL; i++)
		if (strcmp(ctl_table[i].name, name) == 0)
			return &ctl_table[i];
	return NULL;
}

bool ctl_command_offline(const struct ctl_command *c)
{
	return word_in(ctl_offline, c->name);
}

int ctl_words_match(const char *words, int argc, char *const *argv)
{
	int n = 0;
	for (const char *p = words; *p; n++) {
		size_t len = strcspn(p, " ");
		if (n >= argc || strlen(argv[n]) != len || strncmp(argv[n], p, len) != 0)
			return 0;
		p += len;
		p += *p == ' ';
	}
	return n;
}

const struct ctl_command *ctl_command_match(int argc, char *const *argv, int *used)
{
	const struct ctl_command *best = NULL;
	int best_n = 0;
	for (size_t i = 0; i < N_CTL; i++) {
		int n = ctl_words_match(ctl_table[i].words, argc, argv);
		if (n > best_n) {
			best = &ctl_table[i];
			best_n = n;
		}
	}
	*used = best_n;
	return best;
}

/* True when key is one of the words of the space-separated list. */
static bool word_in(const char *list, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n == klen && n > 0 && memcmp(p, key, n) == 0)
			return true;
		p += n;
	}
	return false;
}

bool ctl_command_takes(const struct ctl_command *c, const char *key)
{
	return word_in(c->keys, key);
}

void ctl_command_help(FILE *f, const struct ctl_command *c)
{
	fprintf(f, "usage: trapline %s%s%s [--data DIR] [--config FILE]\n  %s\n", c->words,
		c->usage[0] ? " " : "", c->usage, c->help);
}

/* ---- the keys ------------------------------------------------------------------------ */

static int set_ip(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	if (ip_parse(v, strlen(v), req->ip) != BASE_OK) {
		bool quad = *v && strspn(v, "0123456789.") == strlen(v);
		snprintf(err, cap, "'%s' is not an IP address%s", v,
			 quad ? " (four numbers from 0 to 255, without leading zeros)" : "");
		return CTL_EINVAL;
	}
	req->has_ip = true;
	return CTL_OK;
}

static int set_cidr(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	int rc = ip_prefix_parse(v, strlen(v), &req->prefix);
	if (rc == BASE_ERANGE) {
		snprintf(err, cap, "'%s' has host bits set: did you mean the network address?", v);
		return CTL_EINVAL;
	}
	if (rc != BASE_OK) {
		snprintf(err, cap, "'%s' is not a CIDR prefix (ADDR/LEN)", v);
		return CTL_EINVAL;
	}
	req->has_prefix = true;
	return CTL_OK;
}

static int set_kind(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	if (store_kind_parse(v, &req->kind) != STORE_OK) {
		snprintf(err, cap, "--kind: '%s' is not trap or report", v);
		return CTL_EINVAL;
	}
	return CTL_OK;
}

static int set_class(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	if (store_class_parse(v, &req->cls) != STORE_OK) {
		snprintf(err, cap, "--class: '%s' is not spam, bounce, autoreply, virus or unknown", v);
		return CTL_EINVAL;
	}
	req->has_class = true;
	return CTL_OK;
}

static int set_time(int64_t *field, const char *key, const char *v, char *err, size_t cap)
{
	int64_t t = 0;
	int rc = time_parse_iso8601(v, &t);
	if (rc == BASE_ERANGE || (rc == BASE_OK && t <= 0)) {
		snprintf(err, cap, "--%s: %s is too long ago: times start after 1970-01-01T00:00:00Z",
			 key, v);
		return CTL_EINVAL;
	}
	if (rc != BASE_OK) {
		snprintf(err, cap, "--%s: '%s' is not an ISO 8601 time such as 2026-11-21T10:00:00Z",
			 key, v);
		return CTL_EINVAL;
	}
	*field = t;
	return CTL_OK;
}

static int set_at(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	return set_time(&req->at, "at", v, err, cap);
}

static int set_until(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	return set_time(&req->until, "until", v, err, cap);
}

/* A plain decimal: "10", "2.5", ".5". No sign, exponent, hex, inf or nan: what an operator
 * means by a number of points, and what ctl_request_format writes back. */
static int set_points(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	size_t digits_n = strspn(v, "0123456789"), dots = 0;
	for (const char *c = v; *c; c++)
		dots += *c == '.';
	char *end = NULL;
	double p = 0;
	bool plain = *v && strspn(v, "0123456789.") == strlen(v) && dots <= 1 &&
		     (digits_n > 0 || strlen(v) > 1);
	if (plain)
		p = strtod(v, &end);
	if (!plain || !end || *end || !(p >= 0 && p <= CTL_POINTS_MAX)) {
		snprintf(err, cap, "--points: '%s' is not a number from 0 to %.0f", v,
			 CTL_POINTS_MAX);
		return CTL_EINVAL;
	}
	req->points = p;
	req->has_points = true;
	return CTL_OK;
}

/* The flags: the protocol carries each as KEY=1. */
static bool flag_value(const char *v)
{
	return strcmp(v, "0") != 0;
}

static int set_since(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	return set_time(&req->since, "since", v, err, cap);
}

static int set_why(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	size_t n = strlen(v);
	if (n >= sizeof(req->why)) {
		snprintf(err, cap, "--why: longer than %zu characters", sizeof(req->why) - 1);
		return CTL_EINVAL;
	}
	memcpy(req->why, v, n + 1);
	req->has_why = true;
	return CTL_OK;
}

static int set_format(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	if (strcmp(v, "rbldnsd") == 0)
		req->format = CTL_FORMAT_RBLDNSD;
	else if (strcmp(v, "bind") == 0)
		req->format = CTL_FORMAT_BIND;
	else {
		snprintf(err, cap, "--format: '%s' is not rbldnsd or bind", v);
		return CTL_EINVAL;
	}
	return CTL_OK;
}

/* A ticket's id: 32 lowercase hex digits, as the requester's link has it. */
static int set_id(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	size_t n = strlen(v);
	if (n != STORE_TICKET_ID_LEN || strspn(v, "0123456789abcdef") != n) {
		char shown[40], esc[TEXT_ESCAPED_MAX(sizeof(shown))];
		snprintf(shown, sizeof(shown), "%.39s", v);
		snprintf(err, cap, "'%s' is not a ticket id (32 hex digits: see trapline review list)",
			 text_escape(shown, esc, sizeof(esc)));
		return CTL_EINVAL;
	}
	memcpy(req->id, v, n + 1);
	req->has_id = true;
	return CTL_OK;
}

/* A reporter's or a feed's name: checked here so that it can be shown unescaped everywhere. */
static int set_holder_name(char *field, bool *has, const char *key, const char *v, char *err,
			   size_t cap)
{
	const char *why = ctl_holder_name_problem(v);
	if (why) {
		char shown[TEXT_ESCAPED_MAX(STORE_NAME_MAX)];
		snprintf(shown, sizeof(shown), "%.*s", STORE_NAME_MAX, v);
		char esc[TEXT_ESCAPED_MAX(sizeof(shown))];
		snprintf(err, cap, "%s '%s' %s", key, text_escape(shown, esc, sizeof(esc)), why);
		return CTL_EINVAL;
	}
	snprintf(field, STORE_NAME_MAX, "%s", v);
	*has = true;
	return CTL_OK;
}

static int set_name(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	return set_holder_name(req->name, &req->has_name, "name", v, err, cap);
}

static int set_reporter(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	return set_holder_name(req->reporter, &req->has_reporter, "--reporter", v, err, cap);
}

/* A file's name, kept for messages: the command line sends its contents as the body. */
static int set_file(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof(req->file)) {
		snprintf(err, cap, "a file name of 1 to %zu characters is needed",
			 sizeof(req->file) - 1);
		return CTL_EINVAL;
	}
	memcpy(req->file, v, n + 1);
	req->has_file = true;
	return CTL_OK;
}

/* A file the service writes or a command reads by name (backup, restore): kept absolute, from
 * the operator's working directory, since the service that writes it has its own. */
static int set_path(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	char cwd[CTL_FILE_MAX];
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof(req->file)) {
		snprintf(err, cap, "a file name of 1 to %zu characters is needed",
			 sizeof(req->file) - 1);
		return CTL_EINVAL;
	}
	if (v[0] == '/')
		snprintf(req->file, sizeof(req->file), "%s", v);
	else if (!getcwd(cwd, sizeof(cwd)) ||
		 (size_t)snprintf(req->file, sizeof(req->file), "%s/%s", cwd, v) >=
			 sizeof(req->file)) {
		snprintf(err, cap, "%s: cannot make it an absolute name", v);
		return CTL_EINVAL;
	}
	if (req->file[strlen(req->file) - 1] == '/') {
		snprintf(err, cap, "%s: a file name is needed, not a directory", v);
		return CTL_EINVAL;
	}
	req->has_file = true;
	return CTL_OK;
}

/* body=LEN: a plain decimal, no sign, no leading zero, at most CTL_BODY_MAX. */
static int set_body(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	size_t n = strlen(v);
	unsigned long long len = 0;
	bool ok = n > 0 && n <= 9 && strspn(v, "0123456789") == n && (n == 1 || v[0] != '0');
	for (size_t i = 0; ok && i < n; i++)
		len = len * 10 + (unsigned)(v[i] - '0');
	if (!ok || len > CTL_BODY_MAX) {
		snprintf(err, cap, "body: '%.16s' is not a length from 0 to %u", v, CTL_BODY_MAX);
		return CTL_EINVAL;
	}
	req->has_body = true;
	req->body_len = (size_t)len;
	req->body = NULL;
	return CTL_OK;
}

static bool given_ip(const struct ctl_request *r) { return r->has_ip; }
static bool given_cidr(const struct ctl_request *r) { return r->has_prefix; }
static bool given_kind(const struct ctl_request *r) { return r->kind != 0; }
static bool given_class(const struct ctl_request *r) { return r->has_class; }
static bool given_at(const struct ctl_request *r) { return r->at != 0; }
static bool given_until(const struct ctl_request *r) { return r->until != 0; }
static bool given_points(const struct ctl_request *r) { return r->has_points; }
static bool given_why(const struct ctl_request *r) { return r->has_why; }
static bool given_format(const struct ctl_request *r) { return r->format != CTL_FORMAT_NONE; }
static bool given_since(const struct ctl_request *r) { return r->since != 0; }
static bool given_name(const struct ctl_request *r) { return r->has_name; }
static bool given_reporter(const struct ctl_request *r) { return r->has_reporter; }
static bool given_file(const struct ctl_request *r) { return r->has_file; }
static bool given_body(const struct ctl_request *r) { return r->has_body; }
static bool given_id(const struct ctl_request *r) { return r->has_id; }

/* The value of a key as the line carries it ("" when not given). */
static void put_ip(const struct ctl_request *r, char *b, size_t cap)
{
	(void)cap;
	ip_format(r->ip, b);
}
static void put_cidr(const struct ctl_request *r, char *b, size_t cap)
{
	ip_prefix_format(&r->prefix, b, cap);
}
static void put_kind(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%s", store_kind_name(r->kind));
}
static void put_class(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%s", store_class_name(r->cls));
}
static void put_at(const struct ctl_request *r, char *b, size_t cap)
{
	(void)cap;
	time_format_iso8601(r->at, b);
}
static void put_until(const struct ctl_request *r, char *b, size_t cap)
{
	(void)cap;
	time_format_iso8601(r->until, b);
}
/* %.9f then trimmed: every value set_points accepts, in a form it accepts back. */
static void put_points(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%.9f", r->points);
	char *end = b + strlen(b);
	while (end > b && end[-1] == '0')
		*--end = '\0';
	if (end > b && end[-1] == '.')
		*--end = '\0';
}
static void put_format(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%s", r->format == CTL_FORMAT_BIND ? "bind" : "rbldnsd");
}
static void put_flag(const struct ctl_request *r, char *b, size_t cap)
{
	(void)r;
	snprintf(b, cap, "1");
}
static void put_since(const struct ctl_request *r, char *b, size_t cap)
{
	(void)cap;
	time_format_iso8601(r->since, b);
}
static void put_name(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%s", r->name);
}
static void put_reporter(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%s", r->reporter);
}
static void put_file(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%s", r->file);
}
static void put_body(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%zu", r->body_len);
}
static void put_id(const struct ctl_request *r, char *b, size_t cap)
{
	snprintf(b, cap, "%s", r->id);
}

/* How a key is given. */
enum ctl_key_type {
	KEY_VALUE = 0, /* --key VALUE */
	KEY_FLAG,      /* --key, no value; KEY=1 on the line */
	KEY_FILE,      /* --key FILE (or the positional FILE): the command line reads the file and
			  sends its contents as the body; the line carries the name */
	KEY_BODY,      /* the line's own: body=LEN, the LEN bytes after the line (never an option) */
};

/* The offset of a bool of struct ctl_request (any other type fails to compile). */
#define FLAG(field)                                                                         \
	(offsetof(struct ctl_request, field) +                                               \
	 0 * sizeof(char[_Generic(((struct ctl_request *)0)->field, bool: 1, default: -1)]))

/* One row per key, in the order the line writes them (body last: its bytes follow the line).
 * remove travels as remove=1. */
static const struct ctl_key {
	const char *name;
	const char *arg;  /* how the message for a missing one names it ("an IP address") */
	bool positional;  /* given without --, when the command takes it so */
	enum ctl_key_type type;
	unsigned bit;     /* in ctl_request.seen: a key given twice is an error */
	/* KEY_FLAG: the bool in struct ctl_request it sets (set and given NULL) */
	size_t flag;
	int (*set)(struct ctl_request *r, const char *v, char *err, size_t cap);
	bool (*given)(const struct ctl_request *r);
	void (*put)(const struct ctl_request *r, char *buf, size_t cap); /* NULL: not written */
} ctl_keys[] = {
	{"ip", "an IP address", true, KEY_VALUE, 0, 0, set_ip, given_ip, put_ip},
	{"cidr", "a CIDR", true, KEY_VALUE, 1, 0, set_cidr, given_cidr, put_cidr},
	{"kind", "--kind", false, KEY_VALUE, 2, 0, set_kind, given_kind, put_kind},
	{"class", "--class", false, KEY_VALUE, 3, 0, set_class, given_class, put_class},
	{"at", "--at", false, KEY_VALUE, 4, 0, set_at, given_at, put_at},
	{"until", "--until", false, KEY_VALUE, 5, 0, set_until, given_until, put_until},
	{"points", "--points", false, KEY_VALUE, 6, 0, set_points, given_points, put_points},
	{"remove", "--remove", false, KEY_FLAG, 7, FLAG(remove), NULL, NULL, put_flag},
	{"force", "--force", false, KEY_FLAG, 8, FLAG(force), NULL, NULL, put_flag},
	{"undo", "--undo", false, KEY_FLAG, 9, FLAG(undo), NULL, NULL, put_flag},
	{"since", "--since", false, KEY_VALUE, 10, 0, set_since, given_since, put_since},
	{"why", "--why", false, KEY_VALUE, 11, 0, set_why, given_why, NULL},
	{"format", "--format", false, KEY_VALUE, 12, 0, set_format, given_format, put_format},
	{"json", "--json", false, KEY_FLAG, 13, FLAG(json), NULL, NULL, put_flag},
	{"name", "a NAME", true, KEY_VALUE, 14, 0, set_name, given_name, put_name},
	{"reporter", "--reporter", false, KEY_VALUE, 15, 0, set_reporter, given_reporter,
	 put_reporter},
	{"file", "a FILE", true, KEY_FILE, 16, 0, set_file, given_file, put_file},
	{"trusted-relays", "--trusted-relays", false, KEY_FILE, 17, 0, set_file, given_file,
	 put_file},
	{"id", "a ticket ID", true, KEY_VALUE, 19, 0, set_id, given_id, put_id},
	{"all", "--all", false, KEY_FLAG, 20, FLAG(all), NULL, NULL, put_flag},
	{"path", "a FILE", true, KEY_VALUE, 21, 0, set_path, given_file, put_file},
	/* last: its bytes follow the line */
	{"body", "a body", false, KEY_BODY, 18, 0, set_body, given_body, put_body},
};

#define N_KEYS (sizeof(ctl_keys) / sizeof(ctl_keys[0]))

/* Whether req has key k: a flag's bool, or the key's own test. */
static bool key_given(const struct ctl_key *k, const struct ctl_request *req)
{
	return k->type == KEY_FLAG ? *(const bool *)((const char *)req + k->flag) : k->given(req);
}

static const struct ctl_key *key_find(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(ctl_keys[i].name, name) == 0)
			return &ctl_keys[i];
	return NULL;
}

bool ctl_key_is_flag(const char *key)
{
	const struct ctl_key *k = key_find(key);
	return k && k->type == KEY_FLAG;
}

bool ctl_key_is_file(const char *key)
{
	const struct ctl_key *k = key_find(key);
	return k && k->type == KEY_FILE;
}

/* Several files, one request each: the only positional that repeats is a file's. */
bool ctl_command_repeats(const struct ctl_command *c)
{
	return c->positional && ctl_key_is_file(c->positional);
}

bool ctl_command_body_from_stdin(const struct ctl_command *c)
{
	if (!ctl_command_takes(c, "body"))
		return false;
	for (size_t i = 0; i < N_KEYS; i++)
		if (ctl_keys[i].type == KEY_FILE && ctl_command_takes(c, ctl_keys[i].name))
			return false;
	return true;
}

bool ctl_key_known(const char *key)
{
	const struct ctl_key *k = key_find(key);
	return k && k->type != KEY_BODY;
}

int ctl_request_init(struct ctl_request *req, const char *name, char *err, size_t errcap)
{
	memset(req, 0, sizeof(*req));
	req->cmd = ctl_command_by_name(name);
	if (!req->cmd) {
		snprintf(err, errcap, "unknown command '%s'", name);
		return CTL_EINVAL;
	}
	return CTL_OK;
}

int ctl_request_set(struct ctl_request *req, const char *key, const char *value, char *err,
		    size_t errcap)
{
	const struct ctl_key *k = key_find(key);
	const struct ctl_command *c = req->cmd;
	if (!c || !k || !ctl_command_takes(c, key)) {
		snprintf(err, errcap, "%s does not take %s%s", c ? c->words : "this command",
			 k && k->positional ? "" : "--", k ? (k->positional ? k->arg : k->name) : key);
		return CTL_EINVAL;
	}
	/* The last one winning would hide a typo: evidence against the wrong address. */
	if (req->seen & (1u << k->bit)) {
		if (c->positional && strcmp(c->positional, key) == 0)
			snprintf(err, errcap, "%s: %s given twice", c->words, k->arg);
		else
			snprintf(err, errcap, "--%s given twice", k->name);
		return CTL_EINVAL;
	}
	int rc = CTL_OK;
	if (k->type == KEY_FLAG)
		*(bool *)((char *)req + k->flag) = flag_value(value);
	else
		rc = k->set(req, value, err, errcap);
	if (rc == CTL_OK)
		req->seen |= 1u << k->bit;
	return rc;
}

/* An exclusion this wide unlists a whole region of the Internet: it needs --force. */
static bool prefix_wide(const struct ip_prefix *p)
{
	return ip_is_v4(p->addr) && p->plen >= 96 ? p->plen < 96 + 8 : p->plen < 32;
}

/* What the flags mean together: --points or --remove (one), --remove alone on an exclusion,
 * --force for a wide one. */
static int request_check_flags(const struct ctl_request *req, char *err, size_t errcap)
{
	const struct ctl_command *c = req->cmd;
	if (ctl_command_takes(c, "points")) {
		if (req->has_points && req->remove) {
			snprintf(err, errcap, "--points and --remove: give one of them");
			return CTL_EINVAL;
		}
		if (!req->has_points && !req->remove) {
			snprintf(err, errcap, "%s needs --points or --remove", c->words);
			return CTL_EINVAL;
		}
	}
	if (ctl_command_takes(c, "force") && req->remove && (req->until || req->force)) {
		snprintf(err, errcap, "--remove ends the exclusion: it takes no %s",
			 req->until ? "--until" : "--force");
		return CTL_EINVAL;
	}
	if (ctl_command_takes(c, "force") && !req->remove && req->has_prefix &&
	    prefix_wide(&req->prefix) && !req->force) {
		char pre[IP_PREFIX_STRLEN];
		ip_prefix_format(&req->prefix, pre, sizeof(pre));
		snprintf(err, errcap, "%s would exclude more than a /%d: every address in it would "
				      "leave the list; add --force if that is meant",
			 pre, ip_is_v4(req->prefix.addr) ? 8 : 32);
		return CTL_EINVAL;
	}
	return CTL_OK;
}

int ctl_request_check(const struct ctl_request *req, int64_t now, char *err, size_t errcap)
{
	const struct ctl_command *c = req->cmd;
	if (!c) {
		snprintf(err, errcap, "no command");
		return CTL_EINVAL;
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct ctl_key *k = &ctl_keys[i];
		if (!word_in(c->required, k->name) || key_given(k, req))
			continue;
		/* A positional key is named as what it is ("an IP address"); the same key taken
		 * as an option (evidence add --ip) is named as the option. */
		bool positional = c->positional && strcmp(c->positional, k->name) == 0;
		char opt[24];
		snprintf(opt, sizeof(opt), "--%s", k->name);
		snprintf(err, errcap, "%s needs %s", c->words, positional ? k->arg : opt);
		return CTL_EINVAL;
	}
	int rc = request_check_flags(req, err, errcap);
	if (rc != CTL_OK)
		return rc;
	/* Evidence against an address that never sends mail is a typo or a forgery. */
	const char *never = req->has_ip && word_in(c->keys, "kind") ? ip_never_sends(req->ip) : NULL;
	if (never) {
		char ip[IP_STRLEN];
		ip_format(req->ip, ip);
		snprintf(err, errcap, "%s %s: it cannot be the source of mail", ip, never);
		return CTL_EINVAL;
	}
	/* A FILE key's contents travel as the body: a request naming the file without them (a
	 * client of the socket other than ours) has nothing to work on. */
	if (req->has_file && (!req->has_body || !req->body) && word_in(c->keys, "body")) {
		char esc[TEXT_ESCAPED_MAX(64)], shown[64];
		snprintf(shown, sizeof(shown), "%.63s", req->file);
		snprintf(err, errcap, "%s: its contents did not come with the request",
			 text_escape(shown, esc, sizeof(esc)));
		return CTL_EINVAL;
	}
	if (req->has_why && req->why[strspn(req->why, " \t")] == '\0') {
		snprintf(err, errcap, "--why must say why (it goes to the audit log)");
		return CTL_EINVAL;
	}
	char t[TIME_STRLEN];
	if (req->until != 0 && req->until <= now) {
		time_format_iso8601(req->until, t);
		snprintf(err, errcap, "--until %s is in the past", t);
		return CTL_EINVAL;
	}
	/* A minute of slack for a reporter's clock; more is a typo (a year, a month). */
	if (req->at > now + 60) {
		time_format_iso8601(req->at, t);
		snprintf(err, errcap, "--at %s is in the future", t);
		return CTL_EINVAL;
	}
	return CTL_OK;
}

int ctl_request_attach(struct ctl_request *req, const char *body, size_t len, char *err,
		       size_t errcap)
{
	if (!req->cmd || !ctl_command_takes(req->cmd, "body")) {
		snprintf(err, errcap, "%s takes no body", req->cmd ? req->cmd->words : "this request");
		return CTL_EINVAL;
	}
	if (req->has_body && req->body == NULL && len != req->body_len) {
		snprintf(err, errcap, "the body is %zu bytes, the line said %zu", len, req->body_len);
		return CTL_EINVAL;
	}
	if (len > CTL_BODY_MAX || (len && !body)) {
		snprintf(err, errcap, "a body of %zu bytes: more than the %u a request may carry",
			 len, CTL_BODY_MAX);
		return CTL_EINVAL;
	}
	req->has_body = true;
	req->body_len = len;
	req->body = body ? body : "";
	return CTL_OK;
}

/* ---- running one ---------------------------------------------------------------------- */

void ctl_service_init(struct ctl_service *svc, const struct config *cfg, struct writer *writer,
		      struct store *reader, struct zone_handle *zone)
{
	memset(svc, 0, sizeof(*svc));
	svc->writer = writer;
	svc->reader = reader;
	svc->zone = zone;
	ctl_service_settings(svc, cfg);
}

void ctl_service_settings(struct ctl_service *svc, const struct config *cfg)
{
	svc->zone_name = cfg->zone;
	svc->data_dir = cfg->data_dir;
	policy_config_from(cfg, &svc->policy);
	unsigned n = 0;
	char err[CONFIG_ERR_MAX];
	/* The schema checked the list when it was set. */
	if (config_exclusions_parse(cfg->exclude_default, svc->default_exclusions,
				    CONFIG_PREFIX_MAX, &n, &svc->special_excluded, err,
				    sizeof(err)) != BASE_OK)
		log_err("ctl", "exclude_default ignored reason=\"%s\"", err);
	svc->n_default_exclusions = n;
	svc->report_max_size = cfg->report_max_size;
	svc->report_max_per_hour = cfg->report_max_per_hour;
	svc->feed_max_hits = cfg->feed_max_hits;
	svc->review_per_client_day = cfg->review_per_client_day;
	svc->review_per_ip_day = cfg->review_per_ip_day;
	svc->review_text_max = cfg->review_text_max;
	svc->session_s = cfg->moderator_session_hours * 3600u;
	svc->trap_domains = cfg->trap_domains;
	svc->trap_addresses = cfg->trap_addresses;
}

int ctl_execute(const struct ctl_service *svc, const struct ctl_request *req, const char *who,
		FILE *out, FILE *err)
{
	struct ctl_run r = {.svc = svc, .req = req, .who = who, .out = out, .err = err,
			    .now = time_now()};
	char msg[CTL_ERR_MAX];
	/* Checked here, on the service's clock, whichever way the request came. */
	if (ctl_request_check(req, r.now, msg, sizeof(msg)) != CTL_OK) {
		fprintf(err, "trapline: %s\n", msg);
		return CTL_EXIT_USAGE;
	}
	return req->cmd->run(&r);
}

/* ---- the text form ---------------------------------------------------------- */

static bool needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%' || c == '=';
}

/* Appends " key=value" (value escaped) at buf[*pos]; false when it does not fit. */
static bool put_kv(char *buf, size_t cap, size_t *pos, const char *key, const char *value)
{
	int n = snprintf(buf + *pos, cap - *pos, " %s=", key);
	if (n < 0 || (size_t)n >= cap - *pos)
		return false;
	*pos += (size_t)n;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*pos + 4 >= cap)
			return false;
		if (needs_escape(*p))
			*pos += (size_t)snprintf(buf + *pos, cap - *pos, "%%%02X", *p);
		else
			buf[(*pos)++] = (char)*p;
	}
	buf[*pos] = '\0';
	return true;
}

int ctl_request_format(const struct ctl_request *req, char *buf, size_t cap)
{
	if (!req->cmd || cap == 0)
		return CTL_EINVAL;
	int n = snprintf(buf, cap, "%s", req->cmd->name);
	if (n < 0 || (size_t)n >= cap)
		return CTL_EINVAL;
	size_t pos = (size_t)n;
	char tmp[CTL_FILE_MAX];
	bool ok = true;
	for (size_t i = 0; i < N_KEYS && ok; i++) {
		const struct ctl_key *k = &ctl_keys[i];
		/* Two keys may share a field (file, trusted-relays): the command's own is written. */
		if (!key_given(k, req) || !ctl_command_takes(req->cmd, k->name))
			continue;
		if (k->put) {
			k->put(req, tmp, sizeof(tmp));
			ok = put_kv(buf, cap, &pos, k->name, tmp);
		} else if (strcmp(k->name, "why") == 0) {
			ok = put_kv(buf, cap, &pos, k->name, req->why);
		}
	}
	if (!ok || pos + 2 > cap)
		return CTL_EINVAL;
	buf[pos++] = '\n';
	buf[pos] = '\0';
	return CTL_OK;
}

/* Undoes the %XX escapes of s in place; false on a broken escape or an escaped NUL. */
static bool unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		int hi = text_hex_digit(r[1]), lo = hi < 0 ? -1 : text_hex_digit(r[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return false;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return true;
}

int ctl_request_parse(const char *line, size_t len, struct ctl_request *req, char *err,
		      size_t errcap)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || len >= CTL_LINE_MAX || memchr(line, '\0', len) || memchr(line, '\n', len)) {
		snprintf(err, errcap, "not a request line");
		return CTL_EINVAL;
	}
	char *buf = malloc(len + 1);
	if (!buf)
		return CTL_ENOMEM;
	memcpy(buf, line, len);
	buf[len] = '\0';
	char *save = NULL;
	char *tok = strtok_r(buf, " ", &save);
	int rc = tok ? ctl_request_init(req, tok, err, errcap) : CTL_EINVAL;
	if (!tok)
		snprintf(err, errcap, "not a request line");
	while (rc == CTL_OK && (tok = strtok_r(NULL, " ", &save)) != NULL) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			snprintf(err, errcap, "'%.64s' is not key=value", tok);
			rc = CTL_EINVAL;
			break;
		}
		*eq = '\0';
		if (!unescape(eq + 1)) {
			snprintf(err, errcap, "%.32s: bad %%-escape", tok);
			rc = CTL_EINVAL;
			break;
		}
		rc = ctl_request_set(req, tok, eq + 1, err, errcap);
	}
	free(buf);
	return rc;
}
