/* mail_classify_mask.c - the parts of a trap message kept and shown: the header section, and
 * trap addresses masked wherever a sample is shown. */
#include <string.h>
#include <strings.h>

#include "mail.h"

size_t mail_header_length(const char *msg, size_t len)
{
	/* The header section ends at the first empty line (RFC 5322 2.1), CRLF or bare LF. */
	for (size_t i = 0; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (i + 1 < len && msg[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* The characters of a dot-atom local part (RFC 5322 3.2.3) and of a domain. */
static bool local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

static bool domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* True when one comma/blank separated item of list equals s[0..n) without case. With local,
 * the items are local@domain and s must equal the whole address. */
static bool list_has(const char *list, const char *s, size_t n)
{
	const char *p = list;
	while (*p) {
		p += strspn(p, ", \t");
		size_t l = strcspn(p, ", \t");
		if (l == n && l > 0 && strncasecmp(p, s, n) == 0)
			return true;
		p += l;
	}
	return false;
}

size_t mail_mask_traps(char *text, size_t len, const char *domains, const char *addresses)
{
	size_t masked = 0;
	if (!text)
		return 0;
	for (size_t at = 0; at < len; at++) {
		if (text[at] != '@')
			continue;
		size_t start = at, end = at + 1;
		while (start > 0 && local_char(text[start - 1]))
			start--;
		while (end < len && domain_char(text[end]))
			end++;
		size_t dend = end;
		while (dend > at + 1 && text[dend - 1] == '.') /* a sentence's full stop */
			dend--;
		if (start == at || dend == at + 1)
			continue;
		bool trap = (domains && list_has(domains, text + at + 1, dend - at - 1)) ||
			    (addresses && list_has(addresses, text + start, dend - start));
		if (!trap)
			continue;
		memset(text + start, '*', at - start);
		masked++;
		at = end - 1;
	}
	return masked;
}
