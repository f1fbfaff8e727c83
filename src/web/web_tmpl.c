/* web_tmpl.c - the one templating function: every value it inserts is escaped for where it
 * goes, unless this module built it as markup (WEB_HTML), so forgetting is not possible. */
#include <stdio.h>
#include <string.h>

#include "web_internal.h"

#define NAME_MAX_LEN 64
#define DEPTH_MAX 16

struct render {
	struct web_buf *out;
	const struct web_var *vars;
	size_t n;
	char *err;
	size_t errcap;
	bool lenient; /* web_template_check: any name will do */
};

static const struct web_var *var_find(const struct render *r, const char *name, size_t len)
{
	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->vars[i].name) == len && memcmp(r->vars[i].name, name, len) == 0)
			return &r->vars[i];
	return NULL;
}

static int fail(struct render *r, const char *what, const char *name, size_t len)
{
	snprintf(r->err, r->errcap, "%s '%.*s'", what, (int)(len > NAME_MAX_LEN ? NAME_MAX_LEN : len),
		 name);
	return WEB_EINVAL;
}

/* The end of the section named name opened before t[0]: the offset of its "{{/name}}" in
 * t[0..len), nested sections of the same name counted; len when there is none. */
static size_t section_end(const char *t, size_t len, const char *name, size_t nlen)
{
	int depth = 0;
	for (size_t i = 0; i + 4 + nlen <= len; i++) {
		if (t[i] != '{' || t[i + 1] != '{')
			continue;
		char k = t[i + 2];
		if ((k == '#' || k == '^' || k == '/') && memcmp(t + i + 3, name, nlen) == 0 &&
		    i + 5 + nlen <= len && t[i + 3 + nlen] == '}' && t[i + 4 + nlen] == '}') {
			if (k != '/')
				depth++;
			else if (depth-- == 0)
				return i;
		}
	}
	return len;
}

static int render(struct render *r, const char *t, size_t len, int depth)
{
	if (depth > DEPTH_MAX)
		return fail(r, "sections nested too deep at", "", 0);
	size_t i = 0;
	while (i < len) {
		const char *open = NULL;
		for (size_t j = i; j + 1 < len; j++) {
			if (t[j] == '{' && t[j + 1] == '{') {
				open = t + j;
				break;
			}
		}
		if (!open) {
			web_buf_add(r->out, t + i, len - i);
			return WEB_OK;
		}
		web_buf_add(r->out, t + i, (size_t)(open - (t + i)));
		size_t at = (size_t)(open - t) + 2;
		const char *close = NULL;
		for (size_t j = at; j + 1 < len && j < at + NAME_MAX_LEN + 8; j++) {
			if (t[j] == '}' && t[j + 1] == '}') {
				close = t + j;
				break;
			}
		}
		if (!close)
			return fail(r, "unclosed mark after", t + i, (size_t)(open - (t + i)) > 20 ? 20 : (size_t)(open - (t + i)));
		const char *name = t + at;
		size_t nlen = (size_t)(close - name);
		char kind = nlen ? name[0] : 0;
		bool url = nlen > 4 && memcmp(name, "url:", 4) == 0;
		if (kind == '#' || kind == '^' || kind == '/')
			name++, nlen--;
		else if (url)
			name += 4, nlen -= 4;
		static const struct web_var any = {"", WEB_TEXT, "x"};
		const struct web_var *v = r->lenient ? &any : var_find(r, name, nlen);
		if (!v)
			return fail(r, "unknown name", name, nlen);
		i = (size_t)(close - t) + 2;
		if (kind == '/')
			return fail(r, "section closed but not opened:", name, nlen);
		if (kind == '#' || kind == '^') {
			size_t end = i + section_end(t + i, len - i, name, nlen);
			if (end >= len)
				return fail(r, "unclosed section", name, nlen);
			bool present = v->value && v->value[0];
			if (present == (kind == '#')) {
				int rc = render(r, t + i, end - i, depth + 1);
				if (rc != WEB_OK)
					return rc;
			}
			i = end + nlen + 5;
			continue;
		}
		const char *val = v->value ? v->value : "";
		if (url && v->kind != WEB_TEXT)
			return fail(r, "url: of markup", name, nlen);
		if (url)
			web_escape_url(r->out, val, strlen(val));
		else if (v->kind == WEB_HTML)
			web_buf_adds(r->out, val);
		else
			web_escape_html(r->out, val, strlen(val));
	}
	return WEB_OK;
}

int web_render(struct web_buf *out, const char *tmpl, size_t len, const struct web_var *vars,
	       size_t n, char *err, size_t errcap)
{
	struct render r = {out, vars, n, err, errcap, false};
	if (errcap)
		err[0] = '\0';
	int rc = render(&r, tmpl, len, 0);
	if (rc == WEB_OK && out->oom)
		rc = WEB_ENOMEM;
	return rc;
}

int web_template_check(const char *tmpl, size_t len, char *err, size_t errcap)
{
	struct web_buf scratch;
	web_buf_init(&scratch);
	struct render r = {&scratch, NULL, 0, err, errcap, true};
	if (errcap)
		err[0] = '\0';
	int rc = render(&r, tmpl, len, 0);
	web_buf_free(&scratch);
	return rc;
}
