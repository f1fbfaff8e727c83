/* web_buf.c - the output buffer and the one escaping per medium (HTML and URL components). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

void web_buf_init(struct web_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void web_buf_free(struct web_buf *b)
{
	free(b->data);
	web_buf_init(b);
}

/* Room for n more bytes and a NUL; false (and oom) when there is none. */
static bool reserve(struct web_buf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *d = realloc(b->data, cap);
	if (!d) {
		b->oom = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

char *web_buf_room(struct web_buf *b, size_t n)
{
	return reserve(b, n) ? b->data + b->len : NULL;
}

void web_buf_add(struct web_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void web_buf_adds(struct web_buf *b, const char *s)
{
	web_buf_add(b, s, strlen(s));
}

void web_buf_addf(struct web_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		web_buf_add(b, small, (size_t)n);
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void web_escape_html(struct web_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0; /* run: plain bytes from i - run waiting to be copied */
	while (i < n) {
		unsigned char c = p[i];
		const char *rep = NULL;
		size_t skip = 1;
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if (c < 0x20 || c == 0x7f)
				rep = c == '\n' || c == '\t' ? NULL : "\xef\xbf\xbd";
			else if (c >= 0x80 && !(skip = text_utf8_len(p + i, n - i))) {
				rep = "\xef\xbf\xbd";
				skip = 1;
			}
		}
		if (!rep) {
			i += skip;
			run += skip;
			continue;
		}
		web_buf_add(b, s + i - run, run);
		web_buf_adds(b, rep);
		run = 0;
		i += skip;
	}
	web_buf_add(b, s + i - run, run);
}

void web_escape_url(struct web_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
		if (plain) {
			web_buf_add(b, (const char *)&c, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			web_buf_add(b, e, 3);
		}
	}
}

void web_duration(struct web_buf *b, int64_t s)
{
	static const struct {
		int64_t len;
		const char *one, *many;
	} units[] = {{86400, "day", "days"}, {3600, "hour", "hours"}, {60, "minute", "minutes"}};
	/* The largest unit that divides it exactly, but 24 or 48 hours rather than days: people
	 * count a day or two in hours. */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s > 0 && s % units[i].len == 0 && !(i == 0 && s < 3 * 86400)) {
			int64_t n = s / units[i].len;
			web_buf_addf(b, "%lld %s", (long long)n, n == 1 ? units[i].one : units[i].many);
			return;
		}
	}
	web_buf_addf(b, "%lld %s", (long long)s, s == 1 ? "second" : "seconds");
}
