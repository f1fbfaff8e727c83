/* web.h - the pages a listed person reads and the JSON API: an HTTP server (libmicrohttpd) in
 * the service's process, reading through ctl's queries on read-only store connections of its
 * own, pages rendered from templates by one function that escapes everything it inserts. */
#ifndef TRAPLINE_WEB_H
#define TRAPLINE_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/base.h"
#include "ctl/ctl.h"

/* The codes of the one error space (base.h) that web functions return. */
enum web_err {
	WEB_OK = TL_OK,
	WEB_EINVAL = TL_EINVAL,     /* bad configuration, template or input: the message says what */
	WEB_ENOMEM = TL_ENOMEM,
	WEB_EIO = TL_EIO,           /* a socket or file call failed; errno says why */
	WEB_ETOOMANY = TL_ETOOMANY, /* more listen addresses than WEB_LISTEN_MAX */
	WEB_ENOTFOUND = TL_ENOTFOUND, /* web_cookie_get: no such cookie */
};

#define WEB_LISTEN_MAX 16

/* ---- the server ----------------------------------------------------------------------- */

struct web_config {
	struct sockaddr_storage addrs[WEB_LISTEN_MAX];
	socklen_t lens[WEB_LISTEN_MAX];
	unsigned n_addrs;           /* 0: http_listen = off, no server */
	unsigned threads;           /* worker threads per address (0 in the config: one per core) */
	unsigned max_conns, max_conns_per_ip, request_max, timeout_s, nice;
	unsigned request_timeout_s; /* a request must come whole this soon (web_conn.c) */
	const char *public_url;     /* these point into the config, which must outlive the server */
	const char *templates;      /* "" = the built-in templates */
	const char *data_dir;
	uint32_t answer_a;          /* for the usage page: what the test points answer, */
	uint32_t answer_a_reason[3]; /* what a listing on traps, reports, both answers */
	const char *answer_txt;
	/* the limits in force, for the usage page (docs/rrl.md) */
	unsigned rrl_rate, rrl_slip, rrl_ipv4_prefix, rrl_ipv6_prefix, usage_limit_per_day;
	uint32_t answer_a_excess, answer_a_public_resolver;
	bool public_resolvers;      /* a public_resolvers file is configured */
	/* review requests and moderation */
	unsigned form_max;          /* bytes of a form's body */
	unsigned lockout_failures, lockout_s;
	bool secure;                /* public_url is https: cookies are Secure */
	/* GET /metrics: who may read it (metrics_allow) */
	struct ip_prefix metrics_allow[CONFIG_PREFIX_MAX];
	unsigned n_metrics_allow;
};

/* The web's settings from the configuration (http_*, public_url, web_templates, data_dir,
 * the answers and answer_txt for the usage page). WEB_EINVAL with "KEY: problem" in err. */
int web_config_from(const struct config *cfg, struct web_config *out, char *err, size_t errcap);

/* Reads the files of a web_templates folder that replace built-in ones, as check-config and
 * serve do before anything starts: the folder exists, each such file can be read and each
 * template parses. WEB_OK (also for ""), or WEB_EINVAL with "web_templates PATH: problem" in
 * err. */
int web_templates_check(const char *dir, char *err, size_t errcap);

struct web_server;

/* Binds and listens on every address of cfg (as root, before the privilege drop, like DNS).
 * cfg is copied. WEB_EIO with errno when a bind fails (the log says which address). */
int web_server_bind(const struct web_config *cfg, struct web_server **out);
/* Reads the templates (the built-in ones, or web_templates' files as the service's user) and
 * starts serving: every worker thread opens its own read-only store connection on data_dir at
 * its first request. svc is copied; what it points to (writer, policy) must outlive the
 * server. WEB_EINVAL when a template file cannot be read or does not parse. */
int web_server_start(struct web_server *srv, const struct ctl_service *svc);
/* A configuration reload: the settings of ctl's queries and intake from cfg (the policy_*
 * keys, exclude_default, the limits of reports, feeds and reviews), and the templates and
 * static files read again from web_templates (the pages' texts), each published whole for the
 * requests that start after it (an atomic pointer swap; requests being answered keep theirs).
 * cfg must outlive the server. On failure (logged) the previous ones stay. NULL srv: nothing. */
int web_server_reload(struct web_server *srv, const struct config *cfg);
/* Stops serving (requests in progress finish first), closes the sockets and the store
 * connections, frees srv. NULL is a no-op. */
void web_server_stop(struct web_server *srv);

/* What the server has answered since it started, for tests and the log. */
struct web_stats {
	unsigned long requests, lookups, errors_4xx, errors_5xx, limits_hit;
};
void web_server_stats(struct web_server *srv, struct web_stats *out);
/* The web's families (a metrics_collect_fn; arg: the web_server):
 * trapline_http_requests_total{route,code}. */
void web_server_metrics(void *srv, struct metrics *m);

/* ---- the cores, on buffers: the escaping, the templates, the parsers, the chart ---------- */

/* A growable output buffer. Appending never fails: after an allocation failure oom is set and
 * further appends are dropped; the caller checks oom once at the end. */
struct web_buf {
	char *data;
	size_t len, cap;
	bool oom;
};
void web_buf_init(struct web_buf *b);
void web_buf_free(struct web_buf *b);
void web_buf_add(struct web_buf *b, const char *s, size_t n);
void web_buf_adds(struct web_buf *b, const char *s);
void web_buf_addf(struct web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Room for n more bytes at the end (len unchanged: the caller writes, then adds what it
 * wrote to len); NULL when out of memory. */
char *web_buf_room(struct web_buf *b, size_t n);

/* The one escaping for HTML, text and quoted attribute values alike: & < > " ' become
 * entities, control characters and bytes that are not valid UTF-8 become U+FFFD. */
void web_escape_html(struct web_buf *b, const char *s, size_t n);
/* A URL component (a query value, a path segment): every byte but A-Z a-z 0-9 - . _ ~ as %XX.
 * The result is safe in HTML as it is. */
void web_escape_url(struct web_buf *b, const char *s, size_t n);

/* A value for a template. TEXT is escaped where it is inserted; HTML is markup this module
 * built from escaped pieces (the chart, a nested template) and is inserted as it is. */
enum web_vkind { WEB_TEXT = 0, WEB_HTML = 1 };
struct web_var {
	const char *name;
	enum web_vkind kind;
	const char *value; /* NULL: absent (a section on it is skipped) */
};

/* Renders tmpl[0..len) into out. The template's marks:
 *   {{name}}              the value: TEXT escaped by web_escape_html, HTML as it is
 *   {{url:name}}          a TEXT value as a URL component (web_escape_url)
 *   {{#name}}...{{/name}} the inside when name is present and not empty
 *   {{^name}}...{{/name}} the inside when name is absent or empty
 * A name the vars do not have, an unclosed section or mark is WEB_EINVAL with the problem in
 * err: templates are checked when they are read. */
int web_render(struct web_buf *out, const char *tmpl, size_t len, const struct web_var *vars,
	       size_t n, char *err, size_t errcap);

/* What a request's path names. */
enum web_route_id {
	WEB_R_NOTFOUND = 0,
	WEB_R_HOME,           /* / */
	WEB_R_LOOKUP,         /* /lookup?ip= */
	WEB_R_END_USERS,      /* /about/end-users */
	WEB_R_LISTING,        /* /about/listing */
	WEB_R_USAGE,          /* /about/usage */
	WEB_R_WARRANTY,       /* /about/warranty */
	WEB_R_STATIC,         /* /static/NAME: arg is NAME */
	WEB_R_API_INDEX,      /* /api/v1/ */
	WEB_R_API_LOOKUP,     /* /api/v1/lookup/IP: arg is IP (or what was there: a CIDR
				 has one '/', answered 400 with help) */
	WEB_R_API_HISTORY,    /* /api/v1/history/IP: the same */
	WEB_R_API_FIGURES,    /* /api/v1/figures */
	WEB_R_FAVICON,        /* /favicon.ico, which browsers ask for where a page names none */
	/* the report and evidence API (web_api.c): a key in Authorization, a body */
	WEB_R_API_REPORTS,    /* /api/v1/reports: POST a reported message */
	WEB_R_API_REPORT,     /* /api/v1/reports/ID: arg is ID */
	WEB_R_API_EVIDENCE,   /* /api/v1/evidence: POST a feed's trap hits */
	/* review requests and moderation (web_review.c, web_admin.c) */
	WEB_R_REVIEW,         /* /review: POST a review request */
	WEB_R_TICKET,         /* /ticket/ID: arg is ID (the requester's link) */
	WEB_R_ADMIN,          /* /admin/: the queue */
	WEB_R_ADMIN_LOGIN,    /* /admin/login */
	WEB_R_ADMIN_LOGOUT,   /* /admin/logout: POST */
	WEB_R_ADMIN_TICKET,   /* /admin/ticket/ID: arg is ID; POST: a decision */
	WEB_R_METRICS,        /* /metrics: the Prometheus exposition, for metrics_allow */
	WEB_R_COUNT           /* the number of routes (not one) */
};
/* A route's name in trapline_http_requests_total ("home", "api_lookup", "metrics"; "other" for
 * WEB_R_NOTFOUND and anything unknown). */
const char *web_route_name(enum web_route_id id);
#define WEB_PATH_MAX 1024
struct web_route {
	enum web_route_id id;
	const char *arg; /* inside the path given */
	size_t arg_len;
};
/* Reads a (percent-decoded) path: exact names only, so "..", "//" or a NUL never reach a file.
 * WEB_EINVAL for a path that is not one at all (empty, not starting with '/', control bytes,
 * longer than WEB_PATH_MAX); a well-formed path we do not serve is WEB_R_NOTFOUND. */
int web_route_parse(const char *path, size_t len, struct web_route *out);

/* A request's URI as it came (before decoding): false when it holds a control byte, raw or
 * percent-encoded (%00 to %1F, %7F), which has no business in a path or a lookup, and %00
 * would cut a decoded path short. */
bool web_uri_clean(const char *uri, size_t len);

/* The key of an Authorization header "Bearer KEY" (RFC 6750 2.1: the scheme in any case, then
 * spaces, then the token, nothing after it): *key and *len point into header. false when
 * header is NULL, names another scheme or holds no token. */
bool web_bearer_parse(const char *header, const char **key, size_t *len);

/* What someone typed into the lookup box (or put after /api/v1/lookup/). */
enum web_input_kind {
	WEB_INPUT_EMPTY = 0,
	WEB_INPUT_IP,       /* ip: one address, IPv4 or IPv6 (a /32 or /128 counts as one) */
	WEB_INPUT_CIDR,     /* prefix: a range (or host bits set: prefix_host_bits) */
	WEB_INPUT_HOSTNAME, /* a domain name: look up its address */
	WEB_INPUT_BAD,      /* anything else */
	WEB_INPUT_TOOLONG,  /* more than WEB_INPUT_MAX bytes */
};
#define WEB_INPUT_MAX 255
struct web_input {
	enum web_input_kind kind;
	uint8_t ip[16];
	struct ip_prefix prefix;
	bool prefix_host_bits;
	char text[WEB_INPUT_MAX + 1]; /* the input, blanks around it trimmed (for showing it
					 back, escaped); cut at WEB_INPUT_MAX */
	size_t text_len;
};
void web_input_parse(const char *s, size_t len, struct web_input *out);

/* The 30-day chart of the lookup page as inline SVG: a bar per day (trap hits and reports
 * stacked), the listed periods shaded, dates along the bottom; attributes carry the numbers
 * (data-day, data-traps, data-reports; data-from, data-to) for tests and screen readers. */
void web_svg_history(struct web_buf *b, const struct ctl_history *h);

/* "7 days", "48 hours", "90 minutes", "1 second": a number of seconds in words. */
void web_duration(struct web_buf *b, int64_t seconds);

/* ---- forms, cookies and their guards (web_form.c, web_guard.c): parsers of what a browser
 * sends, on buffers, fuzzed (tests/fuzz/fuzz_web_form.c, fuzz_web_cookie.c) ------------------ */

#define WEB_FORM_FIELDS_MAX 16
/* An application/x-www-form-urlencoded body, decoded. Each value is NUL-terminated after
 * its len bytes, and may hold a NUL of its own (%00): len says where it ends. */
struct web_form {
	char *buf; /* owned: every name and value, decoded */
	struct {
		const char *name, *value;
		size_t len;
	} f[WEB_FORM_FIELDS_MAX];
	size_t n;
};
/* Parses body[0..len): name=value pairs joined by '&', '+' for a space, %XX escapes (the
 * WHATWG URL standard's form decoding, strictly). allowed lists the names a form may have
 * (NULL-terminated). WEB_EINVAL, with why in err and nothing in out to free, for a broken
 * escape, a name that is empty or not allowed, a name given twice, more than
 * WEB_FORM_FIELDS_MAX fields; WEB_ENOMEM. Free out with web_form_free. */
int web_form_parse(const char *body, size_t len, const char *const *allowed, struct web_form *out,
		   char *err, size_t errcap);
/* The value of name, or NULL when the form has none; *len its length. */
const char *web_form_get(const struct web_form *f, const char *name, size_t *len);
void web_form_free(struct web_form *f);

/* The value of the cookie name in a Cookie request header header[0..len) ("a=1; b=2", RFC 6265
 * 5.4; a value in double quotes is given without them): WEB_OK with *value, *vlen inside
 * header; WEB_ENOTFOUND when there is none; WEB_EINVAL when the name is there twice (which
 * would we trust?) or its value holds a byte no cookie value may. *value is NULL (and *vlen 0)
 * unless WEB_OK. */
int web_cookie_get(const char *header, size_t len, const char *name, const char **value,
		   size_t *vlen);
/* A Set-Cookie value into buf: "NAME=VALUE; Path=PATH; Max-Age=N; HttpOnly; SameSite=Strict"
 * and "; Secure" when secure. max_age 0 deletes the cookie. False when it does not fit. */
bool web_cookie_format(char *buf, size_t cap, const char *name, const char *value,
		       const char *path, long max_age, bool secure);

/* A form's token against cross-site requests: when it was made and a MAC (keyed BLAKE2b) of
 * its purpose ("review", "login", "admin"), of the cookie it goes with (the browser's own
 * tl_csrf, or a moderator's session token) and of what the form is about (the address of a
 * review request). Another site can neither read the cookie nor make the MAC, and with
 * SameSite=Strict the browser does not even send the cookie along with its request. */
#define WEB_CSRF_KEY_LEN 32
#define WEB_CSRF_LEN 80 /* 16 hex digits of time, 64 of MAC */
#define WEB_CSRF_TTL 14400 /* seconds a form stays good: four hours to write a request */
void web_csrf_make(const uint8_t key[WEB_CSRF_KEY_LEN], const char *purpose, const char *cookie,
		   size_t cookie_len, const char *about, int64_t now, char out[WEB_CSRF_LEN + 1]);
/* Whether token[0..len) is one web_csrf_make gave for the same purpose, cookie and about, at
 * most WEB_CSRF_TTL seconds before now (and not after it). Compared in constant time. */
bool web_csrf_check(const uint8_t key[WEB_CSRF_KEY_LEN], const char *purpose, const char *cookie,
		    size_t cookie_len, const char *about, int64_t now, const char *token,
		    size_t len);

/* Failed logins counted per moderator name and per client address, in memory (web_guard.c):
 * after `failures` of either within `window` seconds, logins of that name or from that client
 * are refused until the window has passed since the last failure, the right password
 * included. An attempt counts as a failure from its start (web_lockout_try), so that
 * parallel guesses cannot slip past the count; a success takes it back and clears both. The
 * table holds WEB_LOCKOUT_SLOTS keys; when full, the entry whose lock ended longest ago is
 * reused (a live lock is never dropped for a newcomer: the newcomer is refused instead). */
#define WEB_LOCKOUT_SLOTS 4096
struct web_lockout;
struct web_lockout *web_lockout_new(unsigned failures, unsigned window_s);
void web_lockout_free(struct web_lockout *l);
/* Starts a login attempt of name from client at now: 0 when it may go on (and is counted),
 * else the seconds until it may (for Retry-After). */
int64_t web_lockout_try(struct web_lockout *l, const char *name, const uint8_t client[16],
			int64_t now);
/* The attempt's end: success clears the name's and the client's failures. */
void web_lockout_done(struct web_lockout *l, const char *name, const uint8_t client[16],
		      bool success, int64_t now);

#endif
