/* web_reply.c - what every page's answer is made of: its headers and cookies, a JSON body
 * formatted as the commands print it, and the page that says one thing (a refusal, mostly).
 * Pages fill a struct web_reply and th->body; web_request.c sends them. */
#include <stdarg.h>
#include <stdio.h>

#include "web_internal.h"

void web_reply_header(struct web_reply *reply, const char *name, const char *fmt, ...)
{
	if (reply->n_headers == WEB_REPLY_HEADERS_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reply->headers[reply->n_headers].value, sizeof(reply->headers[0].value), fmt, ap);
	va_end(ap);
	reply->headers[reply->n_headers++].name = name;
}

void web_reply_cookie(struct web_reply *reply, const char *name, const char *value,
		      const char *path, long max_age, bool secure)
{
	char c[WEB_COOKIE_MAX];
	if (web_cookie_format(c, sizeof(c), name, value, path, max_age, secure))
		web_reply_header(reply, MHD_HTTP_HEADER_SET_COOKIE, "%s", c);
}

/* Written straight into the thread's buffer, no copy in between. */
void web_reply_json(struct web_thread *th, struct web_reply *reply, int status, json_t *o)
{
	const size_t flags = CTL_JSON_FLAGS | JSON_INDENT(2);
	reply->status = status;
	reply->type = "application/json";
	/* Once into room that usually suffices (a lookup is under 1 kB), again if it did not. */
	size_t cap = 4096, n = 0;
	char *room = o ? web_buf_room(&th->body, cap) : NULL;
	if (room && (n = json_dumpb(o, room, cap, flags)) > cap) {
		cap = n;
		room = web_buf_room(&th->body, cap);
		if (room && json_dumpb(o, room, cap, flags) != n)
			n = 0;
	}
	if (room && n > 0) {
		th->body.len += n;
		web_buf_adds(&th->body, "\n");
	} else {
		th->body.oom = true;
	}
	json_decref(o);
}

void web_message(struct web_server *srv, struct web_thread *th, struct web_reply *reply,
		 int status, const char *title, const char *text, const char *back,
		 const char *back_text)
{
	struct web_vals p = {0};
	reply->status = status;
	web_vals_text(&p, "heading", title);
	web_vals_text(&p, "text", text);
	web_vals_text(&p, "back", back);
	web_vals_text(&p, "back_text", back_text);
	web_vals_page_private(srv, th, &p, "message.html", title, reply);
	web_vals_free(&p);
}
