/* web_request.c - a request's two ends on libmicrohttpd: what it brings beside its path
 * (web_request_read), the worker thread's own state it is answered with (its read-only store
 * connection and buffers), and the answer sent with the security headers every answer
 * carries. The server's front door (web_server.c), the forms (web_post.c) and the pages'
 * dispatch all answer through here. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "web_internal.h"

/* Every answer says how it may be used: no script, no framing, nothing loaded from elsewhere,
 * no referrer leaving with the address someone looked up. */
static const struct {
	const char *name, *value;
} security_headers[] = {
	{"Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "
				    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
};

/* ---- the worker threads' own ---------------------------------------------------------- */

static void thread_free(void *p)
{
	(void)p; /* the server frees every thread's state at stop: it holds them all */
}

int web_threads_start(struct web_server *srv)
{
	if (pthread_key_create(&srv->key, thread_free) != 0)
		return WEB_ENOMEM;
	srv->key_made = true;
	return WEB_OK;
}

void web_threads_free(struct web_server *srv)
{
	for (size_t i = 0; i < srv->n_threads; i++) {
		store_close(srv->threads[i]->reader);
		store_close(srv->threads[i]->intake);
		web_buf_free(&srv->threads[i]->body);
		web_buf_free(&srv->threads[i]->part);
		free(srv->threads[i]);
	}
	free(srv->threads);
	srv->threads = NULL;
	srv->n_threads = srv->cap_threads = 0;
	if (srv->key_made)
		pthread_key_delete(srv->key);
	srv->key_made = false;
}

/* The calling worker's store connection and buffers, made at its first request; the thread
 * also steps back in CPU priority (http_nice) so that DNS keeps its core under a page flood. */
struct web_thread *web_thread_get(struct web_server *srv)
{
	struct web_thread *th = pthread_getspecific(srv->key);
	if (th)
		return th;
	th = calloc(1, sizeof(*th));
	if (!th)
		return NULL;
	int rc = store_open_mode(srv->cfg.data_dir, false, &th->reader);
	if (rc == STORE_OK && (rc = store_map(th->reader)) != STORE_OK)
		store_close(th->reader);
	if (rc != STORE_OK) {
		log_err("web", "cannot open the store for reading reason=\"%s\"", tl_strerror(rc));
		free(th);
		return NULL;
	}
	pthread_mutex_lock(&srv->lock);
	bool ok = array_grow((void **)&srv->threads, &srv->cap_threads, srv->n_threads + 1,
			     sizeof(*srv->threads)) == BASE_OK;
	if (ok)
		srv->threads[srv->n_threads++] = th;
	pthread_mutex_unlock(&srv->lock);
	if (!ok) {
		store_close(th->reader);
		free(th);
		return NULL;
	}
	pthread_setspecific(srv->key, th);
	if (srv->cfg.nice) {
		pid_t tid = (pid_t)syscall(SYS_gettid);
		errno = 0;
		int cur = getpriority(PRIO_PROCESS, (id_t)tid);
		if (!(cur == -1 && errno) &&
		    setpriority(PRIO_PROCESS, (id_t)tid, cur + (int)srv->cfg.nice) != 0)
			log_warn("web", "cannot lower the priority of a web thread reason=\"%s\"",
				 strerror(errno));
	}
	return th;
}

/* ---- what a request brings ----------------------------------------------------------- */

void web_request_read(struct MHD_Connection *c, struct web_request *out)
{
	memset(out, 0, sizeof(*out));
	out->cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
	out->host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	out->origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	const char *all = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "all");
	out->query_all = all && strcmp(all, "1") == 0;
	if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "ip", 2, &out->query_ip,
					  &out->query_ip_len) != MHD_YES)
		out->query_ip = NULL;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		ip_from_v4(ntohl(in->sin_addr.s_addr), out->client);
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(out->client, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

/* ---- answering ------------------------------------------------------------------------- */

static _Thread_local enum web_route_id route_now = WEB_R_NOTFOUND;

void web_route_now_mark(const char *url)
{
	struct web_route r;
	if (!url || web_route_parse(url, strlen(url), &r) != WEB_OK)
		r.id = WEB_R_NOTFOUND;
	route_now = r.id;
}

enum MHD_Result web_send_reply(struct web_server *srv, struct MHD_Connection *c,
			       struct web_thread *th, const struct web_reply *r)
{
	struct MHD_Response *resp;
	if (r->file)
		resp = MHD_create_response_from_buffer(r->file->len, r->file->data,
						       MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(th ? th->body.len : 0,
						       th && th->body.data ? th->body.data : (char *)"",
						       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	/* An answer ends the request, whole or not (MHD reads no more of one answered early). */
	web_conn_request_whole(srv, c);
	for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
		MHD_add_response_header(resp, security_headers[i].name, security_headers[i].value);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->type ? r->type : "text/plain; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				r->cache ? r->cache : "no-cache");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	for (size_t i = 0; i < r->n_headers; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	/* Counted before it is queued: a client that has its answer finds it counted. */
	if ((unsigned)route_now < WEB_R_COUNT && r->status >= WEB_STATUS_MIN &&
	    r->status < WEB_STATUS_MIN + WEB_STATUS_N)
		__atomic_fetch_add(&srv->http_counts[route_now][r->status - WEB_STATUS_MIN], 1,
				   __ATOMIC_RELAXED);
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	if (r->status >= 500)
		atomic_fetch_add(&srv->e5xx, 1);
	else if (r->status >= 400)
		atomic_fetch_add(&srv->e4xx, 1);
	return ok;
}

enum MHD_Result web_send_plain(struct web_server *srv, struct MHD_Connection *c, int status,
			       const char *text, const char *allow)
{
	struct web_thread tmp;
	memset(&tmp, 0, sizeof(tmp));
	web_buf_adds(&tmp.body, text);
	struct web_reply r = {.status = status, .allow = allow};
	enum MHD_Result ok = web_send_reply(srv, c, tmp.body.oom ? NULL : &tmp, &r);
	web_buf_free(&tmp.body);
	return ok;
}
