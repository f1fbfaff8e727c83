/* fuzz_web_route.c - libFuzzer target for the web's request path readers: the raw URI check
 * and the router, on any bytes. Never a crash or a read past the input; a route's argument
 * lies inside the path and a static file's name never holds '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1); /* no terminator behind it: ASan sees overreads */
	if (!p)
		return 0;
	memcpy(p, data, size);
	bool clean = web_uri_clean(p, size);
	struct web_route r;
	int rc = web_route_parse(p, size, &r);
	if (rc == WEB_OK && r.arg) {
		if (r.arg < p || r.arg + r.arg_len > p + size || r.arg_len == 0)
			abort();
		if (r.id == WEB_R_STATIC && memchr(r.arg, '/', r.arg_len))
			abort(); /* no folder, so no way up */
	}
	if (rc == WEB_OK && r.id != WEB_R_NOTFOUND && !clean && memchr(p, 0, size))
		abort(); /* a path with a NUL in it is never routed */
	free(p);
	return 0;
}
