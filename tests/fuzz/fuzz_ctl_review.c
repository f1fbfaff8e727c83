/* fuzz_ctl_review.c - libFuzzer target for the review form's checks (ctl_review_check, what
 * POST /review runs on the parsed fields): any bytes, cut into the four fields at NUL bytes, are
 * either a request a store may take (one address; an e-mail address with one '@', a dotted
 * domain and nothing a page could read as markup; texts of valid UTF-8 without a control
 * character but newline and tab, CRLF made LF, within the limit) or a refusal naming one of the
 * four fields, with a reason that is one line of printable ASCII; never a crash or a read past
 * a field. Angle brackets in the texts are text, and kept as they came. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

#define TEXT_MAX 200

/* A copy of the next field (up to a NUL or the end) on the heap, exactly its length: ASan sees
 * a read past it. */
static char *field(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
	size_t n = (size_t)((nul ? nul : end) - *p);
	char *f = malloc(n ? n : 1);
	if (f)
		memcpy(f, *p, n);
	*len = n;
	*p = nul ? nul + 1 : end;
	return f;
}

/* Valid UTF-8, and no control character but newline, tab and a lone carriage return. */
static bool text_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		if ((u[i] < 0x20 && u[i] != '\n' && u[i] != '\t' && u[i] != '\r') || u[i] == 0x7f)
			return false;
		size_t len = text_utf8_len(u + i, n - i);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_service svc = {.review_text_max = TEXT_MAX};
	const uint8_t *p = data, *end = data + size;
	struct ctl_review_input in;
	char *ip = field(&p, end, &in.ip_len), *email = field(&p, end, &in.email_len);
	char *fixed = field(&p, end, &in.fixed_len), *comment = field(&p, end, &in.comment_len);
	struct store_ticket *t = calloc(1, sizeof(*t));
	if (!ip || !email || !fixed || !comment || !t)
		goto done;
	in.ip = ip, in.email = email, in.fixed = fixed, in.comment = comment;
	const char *name = NULL;
	char err[192] = "";
	int rc = ctl_review_check(&svc, &in, t, &name, err, sizeof(err));
	if (rc != CTL_OK) {
		if (rc != CTL_EINVAL || !name || !err[0])
			abort();
		if (strcmp(name, "ip") && strcmp(name, "email") && strcmp(name, "fixed") &&
		    strcmp(name, "comment"))
			abort();
		for (const char *c = err; *c; c++)
			if (*c < 0x20 || *c >= 0x7f)
				abort(); /* one line of ASCII, whatever came in */
		goto done;
	}
	size_t el = strlen(t->email);
	const char *at = strchr(t->email, '@');
	if (el == 0 || el > 254 || !at || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
	    strpbrk(t->email, "<>\" \t\r\n"))
		abort();
	if (!t->fixed[0] || strlen(t->fixed) > TEXT_MAX || strlen(t->comment) > TEXT_MAX)
		abort();
	if (strstr(t->fixed, "\r\n") || strstr(t->comment, "\r\n") || !text_ok(t->fixed) ||
	    !text_ok(t->comment))
		abort();
	/* Angle brackets are kept: the text in is the text out, but for CRLF and the blanks
	 * around it. */
	if (memchr(fixed, '<', in.fixed_len) && !strchr(t->fixed, '<'))
		abort();
done:
	free(ip);
	free(email);
	free(fixed);
	free(comment);
	free(t);
	return 0;
}
