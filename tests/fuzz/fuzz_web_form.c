/* fuzz_web_form.c - libFuzzer target for the forms' body parser (web_form_parse: the review
 * request, the login, a moderator's decision). Whatever the bytes: a refusal that leaves
 * nothing to free, or fields that are allowed, each once, each value inside the parser's own
 * buffer and NUL-terminated after its length; and written back with web_escape_url, the same
 * form parses to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

static const char *const forms[][6] = {
	{"ip", "email", "fixed", "comment", "csrf_token", NULL},
	{"username", "password", "csrf_token", NULL},
	{"csrf_token", "action", "reason", "days", NULL},
};

static void same(const struct web_form *a, const struct web_form *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		size_t len;
		const char *v = web_form_get(b, a->f[i].name, &len);
		if (!v || len != a->f[i].len || memcmp(v, a->f[i].value, len) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *const *allowed = forms[data[0] % 3];
	char *body = malloc(size); /* no terminator behind it: ASan sees overreads */
	if (!body)
		return 0;
	memcpy(body, data + 1, size - 1);
	struct web_form f;
	char err[128];
	int rc = web_form_parse(body, size - 1, allowed, &f, err, sizeof(err));
	if (rc != WEB_OK) {
		if (f.buf || f.n || !err[0])
			abort();
		free(body);
		return 0;
	}
	if (f.n > WEB_FORM_FIELDS_MAX)
		abort();
	struct web_buf again;
	web_buf_init(&again);
	for (size_t i = 0; i < f.n; i++) {
		bool known = false;
		for (size_t k = 0; allowed[k]; k++)
			known |= strcmp(allowed[k], f.f[i].name) == 0;
		if (!known || !f.f[i].name[0])
			abort();
		for (size_t k = 0; k < i; k++)
			if (strcmp(f.f[k].name, f.f[i].name) == 0)
				abort();
		if (f.f[i].value[f.f[i].len] != '\0')
			abort();
		if (i)
			web_buf_add(&again, "&", 1);
		web_escape_url(&again, f.f[i].name, strlen(f.f[i].name));
		web_buf_add(&again, "=", 1);
		web_escape_url(&again, f.f[i].value, f.f[i].len);
	}
	struct web_form g;
	if (web_form_parse(again.data ? again.data : "", again.len, allowed, &g, err, sizeof(err)) !=
	    WEB_OK)
		abort();
	same(&f, &g);
	web_form_free(&g);
	web_buf_free(&again);
	web_form_free(&f);
	free(body);
	return 0;
}
