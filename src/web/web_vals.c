/* web_vals.c - the one way every page fills its template: its values, each text of any length
 * (a figure, a date, or what people wrote: a request's free text, a sample of headers),
 * escaped by web_render unless this module built it as markup (web_vals_html, web_vals_own),
 * the page rendered inside the layout, and the rows of a table rendered one part each. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_internal.h"

#define DAY 86400

static void add(struct web_vals *p, const char *name, enum web_vkind kind, const char *value)
{
	if (p->n < WEB_VALS_MAX)
		p->v[p->n++] = (struct web_var){name, kind, value};
	else
		p->oom = true; /* a page with more values than it may have: a bug, shown as such */
}

void web_vals_text(struct web_vals *p, const char *name, const char *value)
{
	add(p, name, WEB_TEXT, value);
}

void web_vals_html(struct web_vals *p, const char *name, const char *html)
{
	add(p, name, WEB_HTML, html);
}

void web_vals_flag(struct web_vals *p, const char *name, bool on)
{
	add(p, name, WEB_TEXT, on ? "1" : NULL);
}

/* Keeps s (allocated) until web_vals_free; NULL stays NULL and marks the page oom. */
static const char *keep(struct web_vals *p, char *s)
{
	if (!s || p->n_owned == WEB_VALS_MAX) {
		free(s);
		p->oom = true;
		return NULL;
	}
	p->owned[p->n_owned++] = s;
	return s;
}

void web_vals_printf(struct web_vals *p, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	add(p, name, WEB_TEXT, keep(p, n < 0 ? NULL : s));
}

void web_vals_time(struct web_vals *p, const char *name, int64_t t)
{
	if (!t) {
		add(p, name, WEB_TEXT, NULL);
		return;
	}
	char iso[TIME_STRLEN];
	time_format_iso8601(t, iso);
	web_vals_printf(p, name, "%.10s %.5s UTC", iso, iso + 11);
}

void web_vals_relative(struct web_vals *p, const char *name, int64_t t, int64_t now)
{
	if (!t) {
		add(p, name, WEB_TEXT, NULL);
		return;
	}
	int64_t d = t - now, a = d < 0 ? -d : d;
	const char *unit = "minute";
	int64_t n = a / 60;
	if (a >= 2 * DAY) {
		unit = "day";
		n = a / DAY;
	} else if (a >= 2 * 3600) {
		unit = "hour";
		n = a / 3600;
	}
	if (a < 60)
		web_vals_text(p, name, "just now");
	else
		web_vals_printf(p, name, "%s%lld %s%s%s", d > 0 ? "in " : "", (long long)n, unit,
				n == 1 ? "" : "s", d > 0 ? "" : " ago");
}

const char *web_vals_own(struct web_vals *p, struct web_buf *b)
{
	if (b->oom) {
		web_buf_free(b);
		p->oom = true;
		return NULL;
	}
	char *s = b->data ? b->data : strdup("");
	b->data = NULL;
	web_buf_free(b);
	return keep(p, s);
}

void web_vals_free(struct web_vals *p)
{
	for (size_t i = 0; i < p->n_owned; i++)
		free(p->owned[i]);
	memset(p, 0, sizeof(*p));
}

int web_vals_part(struct web_server *srv, struct web_vals *p, const char *tmpl,
		  struct web_buf *out)
{
	char err[256];
	const struct web_file *f = web_file_find(srv, tmpl, strlen(tmpl));
	int rc = f ? web_render(out, f->data, f->len, p->v, p->n, err, sizeof(err)) : WEB_EINVAL;
	if (rc == WEB_OK && p->oom) {
		rc = WEB_ENOMEM;
		snprintf(err, sizeof(err), "a value ran out of memory");
	}
	if (rc != WEB_OK)
		log_err("web", "part not rendered template=%s problem=\"%s\"", tmpl,
			f ? err : "missing");
	return rc;
}

/* The page's template into th->part, then the layout around it into th->body. */
void web_vals_page(struct web_server *srv, struct web_thread *th, struct web_vals *p,
		   const char *tmpl, const char *title, struct web_reply *reply)
{
	th->part.len = 0;
	th->part.oom = false;
	web_vals_text(p, "title", title);
	web_vals_text(p, "zone", web_svc(srv)->zone_name);
	web_vals_text(p, "public_url", srv->cfg.public_url);
	int rc = web_vals_part(srv, p, tmpl, &th->part);
	if (rc == WEB_OK) {
		web_vals_html(p, "body", th->part.data ? th->part.data : "");
		rc = web_vals_part(srv, p, "layout.html", &th->body);
	}
	reply->type = "text/html; charset=utf-8";
	if (rc != WEB_OK) { /* web_vals_part has logged why */
		th->body.len = 0;
		web_buf_adds(&th->body, "<!doctype html><title>Error</title><p>This page could not "
					"be made. The operator has been told (in the log).</p>\n");
		reply->status = 500;
	}
}

void web_vals_page_private(struct web_server *srv, struct web_thread *th, struct web_vals *p,
			   const char *tmpl, const char *title, struct web_reply *reply)
{
	/* What these pages show is someone's own (a request, a moderator's queue): never kept
	 * by a cache or the browser's history. */
	reply->cache = "no-store";
	web_vals_page(srv, th, p, tmpl, title, reply);
}

int web_rows_add(struct web_rows *r, struct web_vals *p, const char *tmpl)
{
	if (r->rc == WEB_OK)
		r->rc = web_vals_part(r->srv, p, tmpl, r->out);
	web_vals_free(p);
	r->n++;
	return r->rc != WEB_OK;
}
