/* web_post.c - forms posted to the review and moderation pages, over libmicrohttpd's calls:
 * refused at the first call when the request cannot be a form of ours (its path, its type, a
 * declared length over review_form_max), the body gathered up to that limit, then answered
 * like any page (web_dispatch.c). The body's parsing is web_form.c's, on the whole buffer. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web_internal.h"

/* A form being received (MHD's per-request pointer), tagged against a mix-up. */
struct web_post {
	const void *tag;
	struct web_route route;
	char path[WEB_PATH_MAX + 1];
	char *buf;
	size_t len;
	bool too_big;     /* a body without a length outgrew the limit: answered 413 at its end */
	size_t discarded; /* bytes of it read and dropped */
};

/* A body without a length (chunked) that outgrows the limit is read and dropped up to this
 * much more, so that the 413 reaches the client (a connection closed with unread bytes is
 * reset, and the answer lost with it); beyond, the connection is closed at once. */
#define POST_DISCARD_MAX (1u << 20)

static const char post_tag[] = "web_post";

/* The checks of a form's first call: an answer (and MHD_YES/NO from sending it), or NULL
 * and the state to gather the body in. */
static enum MHD_Result post_begin(struct web_server *srv, struct MHD_Connection *c,
				  const char *url, const char *version, void **con_cls)
{
	if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
	    !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))
		return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 no Host header\n", NULL);
	struct web_route route;
	size_t ulen = strlen(url);
	if (web_route_parse(url, ulen, &route) != WEB_OK)
		return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 bad path\n", NULL);
	if (!web_dispatch_form(route.id))
		return web_send_plain(srv, c, MHD_HTTP_METHOD_NOT_ALLOWED,
				      "405 method not allowed: this page is only read (GET, HEAD)\n",
				      "GET, HEAD");
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	static const char form_type[] = "application/x-www-form-urlencoded";
	size_t tl = sizeof(form_type) - 1;
	if (!type || strncasecmp(type, form_type, tl) != 0 || (type[tl] && type[tl] != ';' &&
							      type[tl] != ' '))
		return web_send_plain(srv, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				      "415 a form is sent as application/x-www-form-urlencoded\n",
				      NULL);
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && (strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 12 ||
		   strtoull(cl, NULL, 10) > srv->cfg.form_max))
		return web_send_plain(srv, c, MHD_HTTP_CONTENT_TOO_LARGE,
				      "413 the form is larger than this server takes\n", NULL);
	struct web_post *p = calloc(1, sizeof(*p));
	char *buf = malloc((size_t)srv->cfg.form_max + 1);
	if (!p || !buf) {
		free(p);
		free(buf);
		return web_send_plain(srv, c, MHD_HTTP_SERVICE_UNAVAILABLE, "503 out of memory\n",
				      NULL);
	}
	p->tag = post_tag;
	p->buf = buf;
	memcpy(p->path, url, ulen + 1); /* web_route_parse checked: at most WEB_PATH_MAX */
	web_route_parse(p->path, ulen, &p->route); /* its argument points into our copy */
	*con_cls = p;
	return MHD_YES;
}

enum MHD_Result web_post_handle(struct web_server *srv, struct MHD_Connection *c, const char *url,
				const char *version, const char *upload_data, size_t *upload_size,
				void **con_cls, bool first, bool bad_uri)
{
	if (bad_uri)
		return web_send_plain(srv, c, MHD_HTTP_BAD_REQUEST, "400 bad URI\n", NULL);
	if (first)
		return post_begin(srv, c, url, version, con_cls);
	struct web_post *p = *con_cls; /* not first: post_begin put it there */
	if (!p || p->tag != post_tag)
		return MHD_NO;
	if (*upload_size) {
		if (p->too_big || *upload_size > srv->cfg.form_max - p->len) {
			p->too_big = true;
			p->discarded += *upload_size;
			*upload_size = 0;
			if (p->discarded <= POST_DISCARD_MAX)
				return MHD_YES;
			return web_send_plain(srv, c, MHD_HTTP_CONTENT_TOO_LARGE,
					      "413 the form is larger than this server takes\n",
					      NULL);
		}
		memcpy(p->buf + p->len, upload_data, *upload_size);
		p->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	atomic_fetch_add(&srv->requests, 1);
	if (p->too_big)
		return web_send_plain(srv, c, MHD_HTTP_CONTENT_TOO_LARGE,
				      "413 the form is larger than this server takes\n", NULL);
	struct web_request req;
	web_request_read(c, &req);
	req.route = p->route;
	req.post = true;
	req.body = p->buf;
	req.body_len = p->len;
	return web_dispatch(srv, c, &req);
}

void web_post_free(void *state)
{
	struct web_post *p = state;
	if (!p || p->tag != post_tag)
		return;
	free(p->buf);
	free(p);
}
