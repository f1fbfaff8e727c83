/* fuzz_ctl_request.c - libFuzzer target for the control socket's request parser: any bytes
 * either parse into a request that formats back and parses to the same line, or are refused
 * with a message; never a crash, a hang or a read past the input. The bytes after the first
 * newline are the request's body, as the service reads them: attached only when they are
 * exactly as many as the line's body=LEN said. */
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
	const char *nl = memchr(line, '\n', size);
	size_t line_len = nl ? (size_t)(nl - line) + 1 : size;
	const char *body = line + line_len;
	size_t body_len = size - line_len;
	struct ctl_request req;
	char err[256];
	if (ctl_request_parse(line, line_len, &req, err, sizeof(err)) == 0) {
		if (req.has_body) {
			err[0] = '\0';
			int rc = ctl_request_attach(&req, body, body_len, err, sizeof(err));
			if ((rc == 0) != (body_len == req.body_len) || (rc != 0 && !err[0]))
				abort(); /* exactly the bytes announced, or a reason */
			if (rc == 0 && (req.body != body || req.body_len > CTL_BODY_MAX))
				abort();
		}
		char buf[8192], again[8192];
		if (ctl_request_format(&req, buf, sizeof(buf)) == 0) {
			struct ctl_request back;
			if (ctl_request_parse(buf, strlen(buf), &back, err, sizeof(err)) != 0)
				abort(); /* what we write, we must read */
			if (back.has_body != req.has_body || back.body_len != req.body_len)
				abort(); /* the body announced survives */
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
