/* fuzz_web_cookie.c - libFuzzer target for the Cookie header parser (web_cookie_get), which
 * finds the forms' tl_csrf and the moderators' tl_session, and for the token check fed what it
 * finds. Whatever the bytes: a value lies inside the header, right after "NAME=" (or its
 * quote), and holds no byte a cookie value may not; a name there twice is refused; a token
 * check on it never passes (the key is random and the token made up). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size ? size : 1); /* no terminator behind it: ASan sees overreads */
	if (!h)
		return 0;
	memcpy(h, data, size);
	static const char *const names[] = {"tl_csrf", "tl_session", "a"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = NULL;
		size_t n = 0;
		int rc = web_cookie_get(h, size, names[i], &v, &n);
		if (rc == WEB_ENOTFOUND || rc == WEB_EINVAL) {
			if (v || n)
				abort();
			continue;
		}
		if (rc != WEB_OK || !v || v < h || v + n > h + size)
			abort();
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)v[k];
			if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\')
				abort();
		}
		/* "NAME=" (blanks allowed around '=') ends before the value. */
		const char *eq = v - 1;
		while (eq > h && *eq != '=')
			eq--;
		if (*eq != '=')
			abort();
		uint8_t key[WEB_CSRF_KEY_LEN] = {0x5a};
		if (web_csrf_check(key, "review", v, n, "192.0.2.1", 1000, v, n))
			abort();
	}
	free(h);
	return 0;
}
