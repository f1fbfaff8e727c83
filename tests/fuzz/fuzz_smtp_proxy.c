/* fuzz_smtp_proxy.c - libFuzzer target: any bytes as a PROXY header (v1 or v2) must parse, ask
 * for more, or be refused, and a parsed header's length must lie inside the input; asking for
 * more must agree with a parse of a longer input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "smtp/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_proxy_info pi;
	size_t used = 0;
	int rc = smtp_proxy_parse(data, size, &used, &pi);
	if (rc != 0 && rc != 1 && rc != SMTP_EPROTO)
		abort();
	if (rc == 1 && (used == 0 || used > size))
		abort();
	if (rc == 1 && used > SMTP_PROXY_V2_MAX)
		abort();
	/* A complete header stays complete, with the same length, whatever follows it. */
	if (rc == 1) {
		for (size_t n = used; n <= size; n++) {
			size_t u2;
			struct smtp_proxy_info p2;
			if (smtp_proxy_parse(data, n, &u2, &p2) != 1 || u2 != used)
				abort();
		}
	}
	return 0;
}
