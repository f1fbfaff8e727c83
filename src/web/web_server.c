/* web_server.c - the HTTP server: libmicrohttpd daemons (epoll, a thread pool) on sockets bound
 * before the privilege drop, the limits of a front door (connections overall and per client,
 * request size, time; web_conn.c keeps the connections), what every request meets first
 * (framing, URI, Host), and where it goes from there: a route of web_api.c's table, whose key
 * and body are read here; a POSTed form (web_post.c); any other page (web_dispatch.c). */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "web_internal.h"

int web_config_from(const struct config *cfg, struct web_config *out, char *err, size_t errcap)
{
	memset(out, 0, sizeof(*out));
	if (!config_listen_off(cfg->http_listen) &&
	    config_listen_parse(cfg->http_listen, out->addrs, out->lens, WEB_LISTEN_MAX,
				&out->n_addrs, err, errcap) != BASE_OK) {
		char why[CONFIG_ERR_MAX];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errcap, "http_listen: %s", why);
		return WEB_EINVAL;
	}
	out->threads = threads_or_cores(cfg->http_threads);
	out->max_conns = cfg->http_max_conns;
	out->max_conns_per_ip = cfg->http_max_conns_per_ip;
	out->request_max = cfg->http_request_max;
	out->timeout_s = cfg->http_timeout;
	out->request_timeout_s = cfg->http_request_timeout;
	out->nice = cfg->http_nice;
	out->public_url = cfg->public_url;
	out->templates = cfg->web_templates;
	out->data_dir = cfg->data_dir;
	out->answer_a = cfg->answer_a;
	out->answer_a_reason[0] = cfg->answer_a_traps;
	out->answer_a_reason[1] = cfg->answer_a_reports;
	out->answer_a_reason[2] = cfg->answer_a_both;
	out->answer_txt = cfg->answer_txt;
	out->rrl_rate = cfg->rrl_rate;
	out->rrl_slip = cfg->rrl_slip;
	out->rrl_ipv4_prefix = cfg->rrl_ipv4_prefix;
	out->rrl_ipv6_prefix = cfg->rrl_ipv6_prefix;
	out->usage_limit_per_day = cfg->usage_limit_per_day;
	out->answer_a_excess = cfg->answer_a_excess;
	out->answer_a_public_resolver = cfg->answer_a_public_resolver;
	out->public_resolvers = cfg->public_resolvers[0] != '\0';
	out->form_max = cfg->review_form_max;
	out->lockout_failures = cfg->moderator_lockout_failures;
	out->lockout_s = cfg->moderator_lockout_minutes * 60u;
	out->secure = strncmp(cfg->public_url, "https://", 8) == 0;
	if (config_cidrs_parse(cfg->metrics_allow, out->metrics_allow, CONFIG_PREFIX_MAX,
			       &out->n_metrics_allow, err, errcap) != BASE_OK) {
		char why[CONFIG_ERR_MAX];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errcap, "metrics_allow: %s", why);
		return WEB_EINVAL;
	}
	return WEB_OK;
}

/* ---- the limit log: once a second at most, with what was left out ------------------- */

static void web_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct web_server *srv = cls;
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	for (size_t i = 0; i < n; i++) /* a log line stays one line of printable text */
		if ((unsigned char)msg[i] < 0x20 || msg[i] == '"' || msg[i] == 0x7f)
			msg[i] = '?';
	int kind = strstr(msg, "limit") || strstr(msg, "too big") || strstr(msg, "too large");
	if (kind)
		atomic_fetch_add(&srv->limits, 1);
	unsigned long long now = time_mono_ns(), next = atomic_load(&srv->log_next_ns[kind]);
	if (now < next || !atomic_compare_exchange_strong(&srv->log_next_ns[kind], &next,
							  now + 1000000000ull)) {
		atomic_fetch_add(&srv->log_dropped[kind], 1);
		return;
	}
	unsigned long dropped = atomic_exchange(&srv->log_dropped[kind], 0);
	log_warn("web", "http problem=\"%s\" similar_lines_left_out=%lu", msg, dropped);
}

/* A request's state, in MHD's per-request pointer: its raw URI was clean or not, or longer
 * than http_request_max (set by web_uri_seen before the handler's first call), the first call
 * is over. */
static int uri_ok, uri_bad, uri_long, uri_seen;

/* Sees the URI as it came, before MHD decodes it. */
static void *web_uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	const struct web_server *srv = cls;
	(void)c;
	size_t len = strlen(uri);
	if (len > srv->cfg.request_max)
		return &uri_long;
	return web_uri_clean(uri, len) ? &uri_ok : &uri_bad;
}

/* Whether the request announces a body (its first call comes before any of it). */
static bool has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	return (cl && strcmp(cl, "0") != 0) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* ---- routes that read a key or a body (web_api.c's table) ---------------------------- */

/* Such a request's state, in MHD's per-request pointer from its first call to its end. */
struct web_upload {
	const void *tag;  /* upload_tag: web_post.c's forms share the pointer */
	const struct web_body_route *route;
	void *ctx;        /* the route's own (admit's), freed with the request */
	char *body;
	size_t len, cap, limit;
	size_t dropped;   /* bytes past the limit, read and thrown away (too_big) */
	bool too_big;     /* the body went past the limit: answered 413 once it has ended */
	bool answered;    /* an answer is queued */
};

/* A chunked body (no Content-Length) that goes past the limit cannot be answered at once:
 * libmicrohttpd 0.9.75 queues an answer only before the body or after its end. So the rest is
 * read and dropped, and 413 comes at its end; past this much more the connection is closed
 * without an answer, since a stream without end would otherwise be read for ever. */
#define WEB_UPLOAD_DROP_MAX (64u << 20)

static const char upload_tag[] = "web_upload";

static bool is_marker(void *p)
{
	return !p || p == &uri_ok || p == &uri_bad || p == &uri_long || p == &uri_seen;
}

static bool is_upload(void *p)
{
	return !is_marker(p) && *(const void *const *)p == upload_tag; /* the first member */
}

/* MHD calls it when a request ends, however it ended (answered, timed out, cut off). */
static void web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			  enum MHD_RequestTerminationCode why)
{
	(void)why;
	web_conn_request_ended(cls, c); /* the next request's clock starts */
	if (is_upload(*con_cls)) {
		struct web_upload *u = *con_cls;
		free(u->ctx);
		free(u->body);
		free(u);
	} else if (!is_marker(*con_cls)) {
		web_post_free(*con_cls); /* a form's (it checks its own tag) */
	}
	*con_cls = NULL;
}

/* The server's own refusals on such a route: JSON for the API, text otherwise. */
static enum MHD_Result upload_refuse(struct web_server *srv, struct MHD_Connection *c,
				     const struct web_body_route *br, int status, const char *why)
{
	if (!br->json)
		return web_send_plain(srv, c, status, why, NULL);
	struct web_thread tmp;
	memset(&tmp, 0, sizeof(tmp));
	struct web_reply r = {.status = status};
	web_reply_json(&tmp, &r, status, json_pack("{s:s}", "error", why));
	enum MHD_Result ok = web_send_reply(srv, c, tmp.body.oom ? NULL : &tmp, &r);
	web_buf_free(&tmp.body);
	return ok;
}

static bool method_in(const char *allow, const char *method)
{
	size_t n = strlen(method);
	for (const char *p = allow; (p = strstr(p, method)) != NULL; p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* The first call: everything but the body. The key is checked (admit) and the announced length
 * compared with the limit before MHD reads a byte of the body (or says 100 Continue), so a
 * stranger never makes the server hold a body, and a 50 MB one is refused unread. */
static enum MHD_Result upload_start(struct web_server *srv, struct MHD_Connection *c,
				    const struct web_body_route *br, const char *url,
				    const char *method, const char *version, void **con_cls)
{
	if (*con_cls == &uri_bad)
		return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 bad URI\n", NULL);
	if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
	    !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))
		return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 no Host header\n", NULL);
	if (!method_in(br->allow, method)) {
		char why[96];
		snprintf(why, sizeof(why), "405 method not allowed here (%s)\n", br->allow);
		struct web_thread tmp;
		memset(&tmp, 0, sizeof(tmp));
		web_buf_adds(&tmp.body, why);
		struct web_reply r = {.status = MHD_HTTP_METHOD_NOT_ALLOWED, .allow = br->allow};
		enum MHD_Result ok = web_send_reply(srv, c, tmp.body.oom ? NULL : &tmp, &r);
		web_buf_free(&tmp.body);
		return ok;
	}
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	bool takes_body = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (has_body(c) && !takes_body)
		return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 a GET has no body\n", NULL);
	atomic_fetch_add(&srv->requests, 1);
	struct web_thread *th = web_thread_get(srv);
	if (!th)
		return upload_refuse(srv, c, br, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "the list cannot be read just now; try again in a minute");
	struct web_request rq = {.method = method, .authorization = MHD_lookup_connection_value(
							   c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)};
	web_route_parse(url, strlen(url), &rq.route);
	void *ctx = NULL;
	th->body.len = 0;
	th->body.oom = false;
	struct web_reply reply = {.status = 200};
	if (br->admit && !br->admit(srv, th, &rq, &ctx, &reply)) {
		free(ctx);
		return web_send_reply(srv, c, th, &reply);
	}
	size_t limit = takes_body && br->limit ? br->limit(srv) : 0;
	/* MHD has checked that Content-Length is a number (400 otherwise). */
	unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
	if (announced > limit) {
		free(ctx);
		char why[128];
		snprintf(why, sizeof(why), "the body is %llu bytes, more than the %zu taken here",
			 announced, limit);
		return upload_refuse(srv, c, br, MHD_HTTP_CONTENT_TOO_LARGE, why);
	}
	struct web_upload *u = calloc(1, sizeof(*u));
	if (!u) {
		free(ctx);
		return upload_refuse(srv, c, br, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	u->tag = upload_tag;
	u->route = br;
	u->ctx = ctx;
	u->limit = limit;
	u->cap = (size_t)announced; /* the body's room, made when its first bytes come */
	*con_cls = u;
	return MHD_YES;
}

/* The next calls: the body as it comes, then (a call with nothing) the handler. */
static enum MHD_Result upload_more(struct web_server *srv, struct MHD_Connection *c,
				   const char *url, const char *method, const char *upload_data,
				   size_t *upload_size, struct web_upload *u)
{
	const struct web_body_route *br = u->route;
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (!u->too_big && n > u->limit - u->len) { /* chunked, past the limit */
			u->too_big = true;
			free(u->body);
			u->body = NULL;
			u->cap = 0;
		}
		if (u->too_big) {
			u->dropped += n;
			if (u->dropped <= WEB_UPLOAD_DROP_MAX)
				return MHD_YES;
			log_warn("web", "request body closed unanswered: more than %u bytes past "
					"the limit of %zu", WEB_UPLOAD_DROP_MAX, u->limit);
			return MHD_NO;
		}
		if (u->len + n > u->cap || !u->body) {
			size_t cap = u->cap > u->len + n ? u->cap : 2 * (u->len + n);
			if (cap > u->limit)
				cap = u->limit;
			char *b = realloc(u->body, cap ? cap : 1);
			if (!b)
				return MHD_NO; /* no answer can be queued now */
			u->body = b;
			u->cap = cap;
		}
		memcpy(u->body + u->len, upload_data, n);
		u->len += n;
		return MHD_YES;
	}
	if (u->answered)
		return MHD_YES;
	u->answered = true;
	if (u->too_big) {
		char why[128];
		snprintf(why, sizeof(why), "the body is %zu bytes, more than the %zu taken here",
			 u->len + u->dropped, u->limit);
		return upload_refuse(srv, c, br, MHD_HTTP_CONTENT_TOO_LARGE, why);
	}
	struct web_thread *th = web_thread_get(srv);
	if (!th)
		return upload_refuse(srv, c, br, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "the list cannot be read just now; try again in a minute");
	struct web_request rq = {.method = method,
				 .authorization = MHD_lookup_connection_value(
					 c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
				 .body = u->body ? u->body : "",
				 .body_len = u->len};
	web_route_parse(url, strlen(url), &rq.route);
	th->body.len = 0;
	th->body.oom = false;
	struct web_reply reply = {.status = 200};
	br->handle(srv, th, &rq, u->ctx, &reply);
	if (th->body.oom)
		return web_send_plain(srv, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 out of memory\n",
				      NULL);
	return web_send_reply(srv, c, th, &reply);
}

/* The row of the route url names, when it is one that reads a key or a body. */
static const struct web_body_route *body_route_of(const char *url)
{
	struct web_route route;
	if (web_route_parse(url, strlen(url), &route) != WEB_OK)
		return NULL;
	return web_body_route_find(route.id);
}

/* ---- what every request meets first ------------------------------------------------------ */

struct framing {
	unsigned te, cl;       /* Transfer-Encoding and Content-Length fields */
	const char *te_value;  /* the (first) Transfer-Encoding's */
};

static enum MHD_Result framing_count(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct framing *f = cls;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		if (f->te++ == 0)
			f->te_value = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		f->cl++;
	}
	return MHD_YES;
}

/* Whether the last transfer coding of a Transfer-Encoding list is chunked. */
static bool chunked_last(const char *v)
{
	const char *comma = strrchr(v, ',');
	const char *p = comma ? comma + 1 : v;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return n == 7 && strncasecmp(p, "chunked", 7) == 0;
}

/* The checks of a request's first call, before any route, of what libmicrohttpd lets through
 * but this server does not take; each refused here with an answer of the server's own, so
 * with the security headers and one status line. MHD answers some cases itself, bare and
 * before any callback of ours (see docs/api.md); what it hands on is checked here.
 * - The request line and headers past http_request_max: 414 or 431. MHD's own limit (its
 *   memory per connection, start_daemon) is set well above, so most such requests get here.
 * - A transfer coding: only chunked alone is taken (it is what MHD decodes; anything else it
 *   would read as a body that ends only with the connection, and never answer). Chunked not
 *   last: the body's length cannot be known, 400 (RFC 9112 6.3); another coding before it:
 *   not implemented, 501 (RFC 9112 6.1).
 * - A body framed twice (Content-Length and Transfer-Encoding, or either given twice): 400,
 *   as a proxy in front might read it the other way (RFC 9112 6.3, request smuggling).
 * NULL: the request may go on; else the answer's status and text. */
static const char *head_refusal(const struct web_server *srv, struct MHD_Connection *c,
				void *state, int *status)
{
	if (state == &uri_long) {
		*status = MHD_HTTP_URI_TOO_LONG;
		return "414 the URI is longer than this server takes\n";
	}
	const union MHD_ConnectionInfo *hs =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (hs && hs->header_size > srv->cfg.request_max) {
		*status = MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
		return "431 the request's headers are longer than this server takes\n";
	}
	struct framing f = {0};
	MHD_get_connection_values(c, MHD_HEADER_KIND, framing_count, &f);
	*status = MHD_HTTP_BAD_REQUEST;
	if (f.te > 1 || f.cl > 1)
		return "400 a framing header (Content-Length, Transfer-Encoding) given twice\n";
	if (f.te && f.cl)
		return "400 both Content-Length and Transfer-Encoding\n";
	if (f.te && !chunked_last(f.te_value))
		return "400 a Transfer-Encoding that does not end with chunked\n";
	if (f.te && strcasecmp(f.te_value, "chunked") != 0) {
		*status = MHD_HTTP_NOT_IMPLEMENTED;
		return "501 this server takes no transfer coding but chunked\n";
	}
	return NULL;
}

static enum MHD_Result web_handle(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct web_server *srv = cls;
	bool first = *con_cls == &uri_ok || *con_cls == &uri_bad || *con_cls == &uri_long;
	web_route_now_mark(url);
	if (first) {
		int status;
		const char *why = head_refusal(srv, c, *con_cls, &status);
		if (why)
			return web_send_plain(srv, c, status, why, NULL);
	}
	/* The request is whole at its first call without a body, or at the call after its body
	 * (nothing uploaded): the clock of http_request_timeout stops (web_conn.c). */
	if (first ? !has_body(c) : *upload_size == 0)
		web_conn_request_whole(srv, c);
	/* The API's routes that read a key or a body have their own way (above). */
	if (is_upload(*con_cls))
		return upload_more(srv, c, url, method, upload_data, upload_size, *con_cls);
	const struct web_body_route *br = first ? body_route_of(url) : NULL;
	if (br)
		return upload_start(srv, c, br, url, method, version, con_cls);
	/* Forms (review requests, moderation) are posted: web_post.c reads their bodies. */
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return web_post_handle(srv, c, url, version, upload_data, upload_size, con_cls,
				       first, *con_cls == &uri_bad);
	/* Every other page is read: a request with a body, or another method, is refused at its
	 * first call, before any of it is read. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return web_send_plain(srv, c, MHD_HTTP_METHOD_NOT_ALLOWED,
				      "405 method not allowed: this server only reads "
				      "(GET, HEAD)\n",
				      "GET, HEAD");
	/* The answer waits for the second call: one queued at the first makes MHD discard the
	 * rest of the request and close the connection (no keep-alive). A GET with a body, a
	 * URI with an encoded control byte (%00 would cut the path short) or an HTTP/1.1
	 * request without Host (RFC 9112 3.2) is refused at once. */
	if (*con_cls == &uri_bad)
		return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 bad URI\n", NULL);
	if (*con_cls != &uri_seen) {
		if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
		    !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))
			return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 no Host header\n",
					      NULL);
		if (has_body(c))
			return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 a GET has no body\n",
					      NULL);
		*con_cls = &uri_seen;
		return MHD_YES;
	}
	if (*upload_size)
		return MHD_NO; /* cannot happen: a body was refused at the first call */
	atomic_fetch_add(&srv->requests, 1);
	struct web_request req;
	web_request_read(c, &req);
	if (web_route_parse(url, strlen(url), &req.route) != WEB_OK)
		return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 bad path\n", NULL);
	return web_dispatch(srv, c, &req);
}

/* ---- start and stop ----------------------------------------------------------------- */

static int bind_one(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int web_server_bind(const struct web_config *cfg, struct web_server **out)
{
	*out = NULL;
	struct web_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return WEB_ENOMEM;
	srv->cfg = *cfg;
	pthread_mutex_init(&srv->lock, NULL);
	for (unsigned i = 0; i < WEB_LISTEN_MAX; i++)
		srv->fds[i] = -1;
	for (unsigned i = 0; i < cfg->n_addrs; i++) {
		srv->fds[i] = bind_one(&cfg->addrs[i], cfg->lens[i]);
		if (srv->fds[i] < 0) {
			int e = errno;
			char a[80];
			sockaddr_format((const struct sockaddr *)&cfg->addrs[i], a, sizeof(a));
			log_err("web", "cannot listen addr=%s reason=\"%s\"%s", a, strerror(e),
				sockaddr_bind_hint(e));
			web_server_stop(srv);
			errno = e;
			return WEB_EIO;
		}
	}
	*out = srv;
	return WEB_OK;
}

/* MHD's own limit, above http_max_conns by room for the connections web_conn.c has shut down
 * and MHD has not closed yet (it does at its next read of them, within a turn of its loop).
 * MHD divides it among its threads; one at its share stops accepting and the others go on,
 * so only the sum matters. */
static unsigned mhd_conn_limit(const struct web_config *cfg)
{
	unsigned slack = cfg->max_conns / 4;
	if (slack < 16u * cfg->threads)
		slack = 16u * cfg->threads;
	return cfg->max_conns + slack;
}

static int start_daemon(struct web_server *srv, unsigned i)
{
	/* TURBO: read and write a socket before asking epoll whether it is ready (most are). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_USE_TURBO;
	if (srv->cfg.addrs[i].ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)web_mhd_log, srv}, /* first: all messages */
		{MHD_OPTION_LISTEN_SOCKET, srv->fds[i], NULL},
		/* The limits overall and per client are web_conn.c's (MHD's own counts whole
		 * IPv6 addresses and refuses a newcomer rather than close a slow connection);
		 * MHD's is a backstop above them. */
		{MHD_OPTION_CONNECTION_LIMIT, mhd_conn_limit(&srv->cfg), NULL},
		{MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)web_conn_notify, srv},
		/* The request line and headers live in the connection's memory, and the answer's
		 * headers after them. Past it MHD answers 414 or 431 itself, bare (no security
		 * headers), before any callback of ours; so it is twice http_request_max and
		 * some, and head_refusal answers those between. Above 32 KiB MHD maps it lazily:
		 * what a connection does not fill costs no memory. */
		{MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)srv->cfg.request_max * 2 + 16384,
		 NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, srv->cfg.timeout_s, NULL},
		{MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)web_uri_seen, srv},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)web_completed, srv},
		{srv->cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
		 srv->cfg.threads, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, web_handle, srv,
						MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!d)
		return WEB_EIO;
	srv->daemons[i] = d;
	srv->fds[i] = -1; /* the daemon closes it when it stops */
	return WEB_OK;
}

/* Publishes svc's settings and live's for the workers (the previous ones stay until the
 * server stops). */
static int svc_publish(struct web_server *srv, const struct ctl_service *svc,
		       const struct web_config *live)
{
	struct web_svc *n = malloc(sizeof(*n));
	if (!n)
		return WEB_ENOMEM;
	n->svc = *svc;
	n->live = *live;
	n->svc.reader = NULL; /* each worker thread reads through its own */
	n->svc.writer_nowait = true; /* a worker serves every page: a full queue is a 503 */
	n->older = atomic_load_explicit(&srv->svc_now, memory_order_relaxed);
	atomic_store_explicit(&srv->svc_now, n, memory_order_release);
	return WEB_OK;
}

int web_server_reload(struct web_server *srv, const struct config *cfg)
{
	if (!srv || !atomic_load_explicit(&srv->svc_now, memory_order_relaxed))
		return WEB_OK;
	/* The running one's wiring (writer, zone, metrics), the settings from cfg. */
	struct ctl_service svc = *web_svc(srv);
	ctl_service_settings(&svc, cfg);
	char err[CONFIG_ERR_MAX];
	struct web_config *live = malloc(sizeof(*live));
	if (!live)
		return WEB_ENOMEM;
	int rc = web_config_from(cfg, live, err, sizeof(err));
	if (rc != WEB_OK) {
		log_err("web", "reload: settings not taken error=\"%s\"", err);
		free(live);
		return rc;
	}
	rc = svc_publish(srv, &svc, live);
	free(live);
	/* The pages' texts: the folder read again (its files may have changed, or the key). */
	int frc = web_files_load(srv, cfg->web_templates);
	if (frc == WEB_OK)
		log_info("web", "templates reloaded web_templates=\"%s\"", cfg->web_templates);
	return rc != WEB_OK ? rc : frc;
}

int web_server_start(struct web_server *srv, const struct ctl_service *svc)
{
	if (svc_publish(srv, svc, &srv->cfg) != WEB_OK)
		return WEB_ENOMEM;
	int rc = web_files_load(srv, srv->cfg.templates);
	if (rc != WEB_OK)
		return rc;
	if ((rc = web_guard_start(srv)) != WEB_OK)
		return rc;
	if ((rc = web_threads_start(srv)) != WEB_OK)
		return rc;
	if ((rc = web_conns_start(srv)) != WEB_OK)
		return rc;
	for (unsigned i = 0; i < srv->cfg.n_addrs; i++) {
		char a[80];
		sockaddr_format((const struct sockaddr *)&srv->cfg.addrs[i], a, sizeof(a));
		if (start_daemon(srv, i) != WEB_OK) {
			log_err("web", "cannot start the HTTP server addr=%s", a);
			return WEB_EIO;
		}
		log_info("web", "listening addr=%s threads=%u public_url=%s", a, srv->cfg.threads,
			 srv->cfg.public_url);
	}
	return WEB_OK;
}

void web_server_stop(struct web_server *srv)
{
	if (!srv)
		return;
	for (unsigned i = 0; i < WEB_LISTEN_MAX; i++) {
		if (srv->daemons[i])
			MHD_stop_daemon(srv->daemons[i]);
		if (srv->fds[i] >= 0)
			close(srv->fds[i]);
	}
	web_conns_stop(srv); /* after the daemons: no connection is left to notify it */
	web_threads_free(srv);
	web_files_free(srv);
	for (struct web_svc *v = atomic_load(&srv->svc_now), *o; v; v = o) {
		o = v->older;
		free(v);
	}
	web_guard_stop(srv);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

void web_server_stats(struct web_server *srv, struct web_stats *out)
{
	out->requests = atomic_load(&srv->requests);
	out->lookups = atomic_load(&srv->lookups);
	out->errors_4xx = atomic_load(&srv->e4xx);
	out->errors_5xx = atomic_load(&srv->e5xx);
	out->limits_hit = atomic_load(&srv->limits);
}
