/* fuzz_ctl_request.c - libFuzzer target for the control socket's request parser: any bytes
 * either parse into a request that formats back and parses to the same line, or are refused
 * with a message; never a crash, a hang or a read past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The parser takes a length; give it a copy with no terminator behind it, so ASan sees
	 * any read past the end. */
	char *line = malloc(size ? size : 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	struct ctl_request req;
	char err[256];
	if (ctl_request_parse(line, size, &req, err, sizeof(err)) == 0) {
		char buf[8192], again[8192];
		if (ctl_request_format(&req, buf, sizeof(buf)) == 0) {
			struct ctl_request back;
			if (ctl_request_parse(buf, strlen(buf), &back, err, sizeof(err)) != 0)
				abort(); /* what we write, we must read */
			if (ctl_request_format(&back, again, sizeof(again)) != 0 ||
			    strcmp(buf, again) != 0)
				abort(); /* and reading it back changes nothing */
		}
		(void)ctl_request_check(&req, 1795450000, err, sizeof(err));
	} else if (err[0] == '\0') {
		abort(); /* a refusal always says why */
	}
	free(line);
	return 0;
}
