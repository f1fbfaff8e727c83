/* fuzz_smtp_fwd_answer.c - libFuzzer target: any bytes as the primary's answer to a trap node's
 * batch (the first two bytes pick the HTTP status and how many hits were sent) must give one
 * verdict, never more ids than were sent, each a string that fits, an index inside the batch,
 * and a reason of one line without control bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp.h"

static const long statuses[] = {200, 201, 204, 400, 401, 403, 404, 408, 413, 429, 500, 503};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	long status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	size_t sent = 1 + data[1] % 16;
	struct smtp_fwd_answer a;
	if (smtp_fwd_answer_read(status, (const char *)data + 2, size - 2, sent, 8, &a) != SMTP_OK)
		return 0;
	if (a.verdict < SMTP_FWD_ACK || a.verdict > SMTP_FWD_SET_ASIDE)
		abort();
	if (a.n_ids > sent || (a.verdict == SMTP_FWD_ACK) != (a.n_ids > 0))
		abort();
	for (size_t i = 0; i < a.n_ids; i++)
		if (strnlen(a.ids[i], SMTP_HIT_ID_MAX) == 0 || strnlen(a.ids[i], SMTP_HIT_ID_MAX) >= SMTP_HIT_ID_MAX)
			abort();
	if (a.verdict == SMTP_FWD_SET_ASIDE && (a.index >= sent || status != 400))
		abort();
	for (const unsigned char *c = (const unsigned char *)a.why; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			abort();
	smtp_fwd_answer_free(&a);
	return 0;
}
