/* fuzz_mail_report.c - libFuzzer target: whole reports (raw messages, forwards, mboxes, junk)
 * through the check of what one message is, GMime, the walk, the judged message's digest and
 * both renderings. Traps when an invariant breaks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/base.h"
#include "mail/mail.h"

#include "fuzz_trust.h"

/* Stands for the classifier: reads every byte it is given. */
static const char *classify_touch(const char *msg, size_t len, void *arg)
{
	unsigned sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += (unsigned char)msg[i];
	*(unsigned *)arg += sum;
	return "spam";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mail_trust *trust = fuzz_trust();
	unsigned sum = 0;
	/* Both settings of exclude_default's special-purpose word, by the input's length. */
	struct mail_report_options opt = {trust, classify_touch, &sum, size % 2 == 1};
	struct mail_analysis a;
	int rc = mail_report_analyse((const char *)data, size, &opt, &a);
	/* A text without a line break is never taken for a message (curl -d). */
	if (rc == MAIL_OK && !memchr(data, '\n', size))
		__builtin_trap();
	if (rc == MAIL_EINVAL || rc == MAIL_ETOOBIG) {
		if (!a.error[0] || a.hops)
			__builtin_trap();
	} else if (rc == MAIL_OK) {
		/* The same bytes digest the same: the duplicate check depends on it. */
		struct mail_analysis again;
		if (mail_report_analyse((const char *)data, size, &opt, &again) != MAIL_OK ||
		    memcmp(again.digest, a.digest, sizeof(a.digest)) != 0)
			__builtin_trap();
		mail_analysis_free(&again);
		/* A source is never a special-purpose address unless those are public, and never
		 * one that sends nothing. */
		if (a.has_source && (ip_never_sends(a.source) ||
				     (!opt.special_public && ip_special_find(a.source, NULL))))
			__builtin_trap();
		if (a.has_source != (a.refusal == MAIL_REFUSAL_NONE) || !a.cls)
			__builtin_trap();
		char *text = NULL, *js = NULL;
		if (mail_analysis_text(&a, &text) == 0 && !strstr(text, "why: "))
			__builtin_trap();
		if (mail_analysis_json(&a, &js) == 0) {
			json_error_t err;
			json_t *root = json_loads(js, 0, &err);
			if (!root) /* every string must have been valid UTF-8 */
				__builtin_trap();
			json_decref(root);
		}
		free(text);
		free(js);
	}
	mail_analysis_free(&a);
	return 0;
}
