/* fuzz_mail_classify.c - libFuzzer target: any bytes as a trap message (GMime reads its
 * headers and structure) must get one of the four classes, within the signal table, with no
 * crash or leak, and the same from the header reader as from GMime alone; Return-Path, the header length and masking take the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	char from[256];
	int rc = mail_return_path(msg, size, from, sizeof from);
	struct mail_verdict v;
	const char *sender = rc == MAIL_OK ? from : (size && data[0] & 1) ? "" : NULL;
	if (mail_classify(msg, size, sender, &v) != MAIL_OK)
		abort();
	if ((unsigned)v.cls > MAIL_CLASS_VIRUS || v.n_signals > MAIL_SIGNALS_MAX)
		abort();
	/* The header reader of a one-part message agrees with GMime reading all of it. */
	struct mail_verdict g;
	if (mail_classify_gmime(msg, size, sender, &g) != MAIL_OK || g.cls != v.cls)
		abort();
	char sv[512], sg[512];
	mail_signals_format(&v, sv, sizeof sv);
	mail_signals_format(&g, sg, sizeof sg);
	if (strcmp(sv, sg) != 0)
		abort();
	char sig[512];
	mail_signals_format(&v, sig, sizeof sig);
	if (mail_header_length(msg, size) > size)
		abort();
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	mail_mask_traps(copy, size, "trap.example, b.example", "x@y.example");
	/* Masking changes local parts into '*' and nothing else. */
	for (size_t i = 0; i < size; i++)
		if (copy[i] != msg[i] && copy[i] != '*')
			abort();
	free(copy);
	return 0;
}
