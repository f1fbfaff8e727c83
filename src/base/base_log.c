/* base_log.c - one-line, key=value logs on stderr, as text or as one JSON object a line. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base.h"

static enum log_level log_threshold = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;

static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

void log_set_format(enum log_format f)
{
	log_fmt = f;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return BASE_EINVAL;
	return BASE_OK;
}

/* ---- the json format ---- */

/* An output that never overflows: what does not fit is left out, and the caller cuts the line
 * back to its last whole member. */
struct jout {
	char *b;
	size_t cap, len;
	bool full;
};

static void jput(struct jout *o, const char *s, size_t n)
{
	if (o->full || o->len + n + 3 > o->cap) { /* room kept for "}\n" and the NUL */
		o->full = true;
		return;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

/* s[0..n) as the inside of a JSON string: quotes, backslashes and control characters
 * escaped, bytes that are not UTF-8 as U+FFFD. */
static void jstr(struct jout *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			jput(o, e, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			jput(o, e, 6);
			i++;
		} else {
			size_t l = text_utf8_len(p + i, n - i);
			if (l == 0) {
				jput(o, "\\ufffd", 6);
				i++;
			} else {
				jput(o, s + i, l);
				i += l;
			}
		}
	}
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* The length of a field's key at s ("key=" follows), 0 when s does not start a field. */
static size_t field_key(const char *s)
{
	size_t k = 0;
	while (key_char(s[k]))
		k++;
	return k > 0 && s[k] == '=' ? k : 0;
}

/* A value that reads as a JSON number stays one (counts, durations); the rest are strings. */
static bool is_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0' && i + 1 < n && s[i + 1] != '.')
		return false; /* 0123: a name or an id, not a number */
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.') {
		size_t frac = 0;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (frac == 0)
			return false;
	}
	return digits > 0 && i == n && n <= 18;
}

/* A quoted value's text without its escapes (text_escape's \\ \" \n \r \t \xHH), into
 * buf; *end after the closing quote. */
static size_t unquote(const char *s, char *buf, size_t cap, const char **end)
{
	size_t o = 0;
	const char *p = s + 1;
	while (*p && *p != '"') {
		char c = *p++;
		if (c == '\\' && *p) {
			char e = *p++;
			if (e == 'n')
				c = '\n';
			else if (e == 'r')
				c = '\r';
			else if (e == 't')
				c = '\t';
			else if (e == 'x' && text_hex_digit(p[0]) >= 0 && text_hex_digit(p[1]) >= 0) {
				c = (char)(text_hex_digit(p[0]) * 16 + text_hex_digit(p[1]));
				p += 2;
			} else
				c = e;
		}
		if (o + 1 < cap)
			buf[o++] = c;
	}
	*end = *p == '"' ? p + 1 : p;
	return o;
}

/* Where a field's value that starts at v ends: after its closing quote, or at a space. */
static const char *field_end(const char *v)
{
	if (*v != '"') {
		while (*v && *v != ' ')
			v++;
		return v;
	}
	for (v++; *v && *v != '"'; v++)
		if (*v == '\\' && v[1])
			v++;
	return *v == '"' ? v + 1 : v;
}

static void jmember(struct jout *o, const char *key, size_t klen, const char *v, size_t vlen,
		    bool number)
{
	size_t mark = o->len;
	jput(o, ",\"", 2);
	jstr(o, key, klen);
	/* The four members every line has keep their names: a field of the same name gets _. */
	static const char *const own[] = {"time", "level", "module", "message"};
	for (size_t i = 0; i < 4; i++)
		if (strlen(own[i]) == klen && memcmp(own[i], key, klen) == 0)
			jput(o, "_", 1);
	jput(o, number ? "\":" : "\":\"", number ? 2 : 3);
	if (number)
		jput(o, v, vlen);
	else
		jstr(o, v, vlen);
	if (!number)
		jput(o, "\"", 1);
	if (o->full)
		o->len = mark; /* a member whole or not at all */
}

size_t log_json_line(char *out, size_t cap, const char *ts, const char *level,
		     const char *module, const char *msg)
{
	if (cap < 8) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	struct jout o = {.b = out, .cap = cap};
	jput(&o, "{\"time\":\"", 9);
	jstr(&o, ts, strlen(ts));
	jput(&o, "\",\"level\":\"", 11);
	jstr(&o, level, strlen(level));
	jput(&o, "\",\"module\":\"", 12);
	jstr(&o, module, strlen(module));
	jput(&o, "\",\"message\":\"", 13);
	/* The message is every word that is no field (the text before the first field, and any
	 * after one); the fields follow as members. */
	const char *p = msg;
	bool any = false;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t k = field_key(p);
		if (k) {
			p = field_end(p + k + 1);
			continue;
		}
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		if (any)
			jput(&o, " ", 1);
		jstr(&o, w, (size_t)(p - w));
		any = true;
	}
	jput(&o, "\"", 1);
	bool head_full = o.full;
	char val[2048];
	for (p = msg; *p && !head_full;) {
		while (*p == ' ')
			p++;
		size_t k = field_key(p);
		if (k == 0) { /* a word of the message */
			while (*p && *p != ' ')
				p++;
			continue;
		}
		const char *key = p, *v = p + k + 1;
		o.full = false;
		if (*v == '"') {
			size_t n = unquote(v, val, sizeof(val), &p);
			jmember(&o, key, k, val, n, false);
		} else {
			p = field_end(v);
			jmember(&o, key, k, v, (size_t)(p - v), is_number(v, (size_t)(p - v)));
		}
	}
	/* jput kept room for the end. */
	memcpy(out + o.len, "}\n", 2);
	o.len += 2;
	out[o.len] = '\0';
	return o.len;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return BASE_OK;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return BASE_OK;
	}
	return BASE_EINVAL;
}

void log_vmsg(enum log_level level, const char *module, const char *fmt, va_list ap)
{
	if (level < log_threshold)
		return;
	/* Format the whole line first and write it with one call, so lines from
	 * different threads never interleave. */
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (log_fmt == LOG_FORMAT_JSON) {
		char when[64], json[4096];
		snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000);
		vsnprintf(line, sizeof(line), fmt, ap);
		size_t len = log_json_line(json, sizeof(json), when, log_names[level], module, line);
		fwrite(json, 1, len, stderr);
		return;
	}
	int n = snprintf(line, sizeof(line),
			 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s module=%s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, log_names[level], module);
	if (n < 0)
		return;
	size_t used = (size_t)n;
	int m = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
	if (m > 0)
		used += (size_t)m;
	if (used > sizeof(line) - 2)
		used = sizeof(line) - 2;
	/* A message never spans lines: a control character inside it (from text a caller did not
	 * pass through text_escape) would break parsers or forge a line. */
	for (size_t i = 0; i < used; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	line[used++] = '\n';
	fwrite(line, 1, used, stderr);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, module, fmt, ap);
	va_end(ap);
}
