/* fuzz_mail_classify.c - libFuzzer target: any bytes as a trap message (GMime reads its
 * headers and structure) must get one of the four classes, within the signal table, with no
 * crash or leak, and the same from the header reader as from GMime alone; Return-Path, the
 * header length and the masking of trap addresses (which a second pass finds none left of)
 * take the same bytes. */
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
	/* Masking: what is masked once holds no trap address for a second pass to find. (Where
	 * encoded words are left, the second pass may decode one that masking made valid, a
	 * blank gone from a local part: different text, no address shown.) Without encoded
	 * words to decode, no '@' is made: an address keeps its own, and those of a quoted
	 * local part go with it. */
	const char *dom = "trap.example, b.example", *addr = "x@y.example";
	size_t n1, n2, m1, m2;
	char *once = mail_mask_traps(msg, size, dom, addr, &n1, &m1);
	if (!once)
		return 0;
	char *twice = mail_mask_traps(once, n1, dom, addr, &n2, &m2);
	bool words_in = false, words_out = false;
	size_t at_in = 0, at_out = 0;
	for (size_t i = 0; i < size; i++) {
		at_in += data[i] == '@';
		words_in |= i + 1 < size && data[i] == '=' && data[i + 1] == '?';
	}
	for (size_t i = 0; i < n1; i++) {
		at_out += once[i] == '@';
		words_out |= i + 1 < n1 && once[i] == '=' && once[i + 1] == '?';
	}
	if (twice && !words_out && (n2 != n1 || memcmp(once, twice, n1) != 0))
		abort();
	if (!words_in && at_out > at_in)
		abort();
	free(once);
	free(twice);
	return 0;
}
