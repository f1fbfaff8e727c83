/* fuzz_web_input.c - libFuzzer target for what a request carries into a page: the lookup box's
 * parser (the ip parameter, the rest of /api/v1/lookup/) and the template function that shows
 * it back. Whatever the bytes: a refusal or an address that formats back to one that parses
 * the same; shown back as HTML it holds no markup character and is valid UTF-8; as a URL
 * component only unreserved characters and %XX. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

static bool utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
			     : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!len || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	struct web_input in;
	web_input_parse(s, size, &in);
	if (in.text_len > WEB_INPUT_MAX)
		abort();
	if (in.kind == WEB_INPUT_IP) {
		char buf[IP_STRLEN];
		uint8_t back[16];
		size_t n = ip_format(in.ip, buf);
		if (ip_parse(buf, n, back) != BASE_OK || memcmp(back, in.ip, 16) != 0)
			abort();
	}
	/* As the lookup page shows it back. text may hold a NUL: the page shows what is before. */
	char text[WEB_INPUT_MAX + 1];
	memcpy(text, in.text, in.text_len);
	text[in.text_len] = '\0';
	static const char tmpl[] = "<p>{{input}}</p>|{{url:input}}|";
	struct web_var v = {"input", WEB_TEXT, text};
	struct web_buf b;
	web_buf_init(&b);
	char err[128];
	if (web_render(&b, tmpl, sizeof(tmpl) - 1, &v, 1, err, sizeof(err)) != WEB_OK)
		abort();
	const char *open = b.data + 3, *close = strstr(b.data, "</p>|");
	if (strncmp(b.data, "<p>", 3) != 0 || !close)
		abort();
	for (const char *p = open; p < close; p++)
		if (*p == '<' || *p == '>' || *p == '"' || *p == '\'')
			abort();
	if (!utf8_valid((const unsigned char *)open, (size_t)(close - open)))
		abort();
	for (const char *p = close + 5; *p && *p != '|'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      strchr("-._~%", *p)))
			abort();
	web_buf_free(&b);
	free(s);
	return 0;
}
