/* web_form.c - what a browser sends beside the path: a form's urlencoded body and the Cookie
 * header, read strictly on buffers (fuzzed), and the Set-Cookie the server answers with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

/* Decodes s[0..n) ('+' is a space, %XX a byte) to out, which has room for n bytes and a NUL;
 * the decoded length, or -1 for a broken escape. */
static long decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			out[o++] = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? text_hex_digit(s[i + 1]) : -1;
			int lo = hi >= 0 ? text_hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return (long)o;
}

static bool name_allowed(const char *const *allowed, const char *name)
{
	for (size_t i = 0; allowed && allowed[i]; i++)
		if (strcmp(allowed[i], name) == 0)
			return true;
	return false;
}

static int refuse(struct web_form *out, char *err, size_t errcap, const char *why,
		  const char *name)
{
	char shown[40] = "";
	/* The name is shown back only when it is one we know or plain letters. */
	if (name && strspn(name, "abcdefghijklmnopqrstuvwxyz_") == strlen(name))
		snprintf(shown, sizeof(shown), " '%.32s'", name);
	snprintf(err, errcap, "%s%s", why, shown);
	web_form_free(out);
	return WEB_EINVAL;
}

int web_form_parse(const char *body, size_t len, const char *const *allowed, struct web_form *out,
		   char *err, size_t errcap)
{
	memset(out, 0, sizeof(*out));
	if (errcap)
		err[0] = '\0';
	/* Decoding never makes text longer; each piece gets its NUL. */
	out->buf = malloc(len + 2 * WEB_FORM_FIELDS_MAX + 2);
	if (!out->buf)
		return WEB_ENOMEM;
	char *w = out->buf;
	for (size_t i = 0; i <= len;) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		if (end == i) { /* an empty piece ("a=1&&b=2", a trailing '&'): nothing */
			i = end + 1;
			continue;
		}
		if (out->n == WEB_FORM_FIELDS_MAX)
			return refuse(out, err, errcap, "too many fields", NULL);
		const char *eq = memchr(body + i, '=', end - i);
		size_t nlen = eq ? (size_t)(eq - (body + i)) : end - i;
		char *name = w;
		long dn = decode(body + i, nlen, name);
		if (dn < 0)
			return refuse(out, err, errcap, "a broken %-escape in a name", NULL);
		w += dn + 1;
		if (dn == 0 || strlen(name) != (size_t)dn)
			return refuse(out, err, errcap, "an empty field name", NULL);
		if (!name_allowed(allowed, name))
			return refuse(out, err, errcap, "a field this form does not have:", name);
		for (size_t k = 0; k < out->n; k++)
			if (strcmp(out->f[k].name, name) == 0)
				return refuse(out, err, errcap, "a field given twice:", name);
		char *value = w;
		long dv = eq ? decode(eq + 1, (size_t)(body + end - (eq + 1)), value) : 0;
		if (!eq)
			value[0] = '\0';
		if (dv < 0)
			return refuse(out, err, errcap, "a broken %-escape in the value of", name);
		w += dv + 1;
		out->f[out->n].name = name;
		out->f[out->n].value = value;
		out->f[out->n].len = (size_t)dv;
		out->n++;
		i = end + 1;
	}
	return WEB_OK;
}

const char *web_form_get(const struct web_form *f, const char *name, size_t *len)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->f[i].name, name) == 0) {
			*len = f->f[i].len;
			return f->f[i].value;
		}
	}
	*len = 0;
	return NULL;
}

void web_form_free(struct web_form *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

/* ---- cookies ----------------------------------------------------------------------------- */

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

int web_cookie_get(const char *header, size_t len, const char *name, const char **value,
		   size_t *vlen)
{
	size_t nlen = strlen(name);
	bool found = false;
	*value = NULL;
	*vlen = 0;
	if (!header || nlen == 0)
		return WEB_ENOTFOUND;
	for (size_t i = 0; i < len;) {
		while (i < len && (ows(header[i]) || header[i] == ';'))
			i++;
		size_t end = i;
		while (end < len && header[end] != ';')
			end++;
		if (end == i)
			break;
		const char *pair = header + i;
		size_t plen = end - i;
		while (plen && ows(pair[plen - 1]))
			plen--;
		const char *eq = memchr(pair, '=', plen);
		i = end;
		if (!eq)
			continue; /* a piece without '=' names no cookie (RFC 6265 5.2: ignored) */
		size_t klen = (size_t)(eq - pair);
		while (klen && ows(pair[klen - 1]))
			klen--;
		if (klen != nlen || memcmp(pair, name, nlen) != 0)
			continue;
		if (found)
			goto refused; /* twice: one may have been planted by someone else */
		const char *v = eq + 1;
		size_t n = plen - (size_t)(v - pair);
		while (n && ows(*v))
			v++, n--;
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
			v++, n -= 2;
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)v[k];
			/* RFC 6265 4.1.1 cookie-octet: no control, blank, '"', ',', ';' or '\'. */
			if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == '\\')
				goto refused;
		}
		found = true;
		*value = v;
		*vlen = n;
	}
	return found ? WEB_OK : WEB_ENOTFOUND;
refused: /* no value goes with a refusal: nobody may use half of one */
	*value = NULL;
	*vlen = 0;
	return WEB_EINVAL;
}

bool web_cookie_format(char *buf, size_t cap, const char *name, const char *value,
		       const char *path, long max_age, bool secure)
{
	int n = snprintf(buf, cap, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Strict%s", name,
			 value, path, max_age, secure ? "; Secure" : "");
	return n > 0 && (size_t)n < cap;
}
