/* fuzz_trust.h - the reporter's trusted relays the mail fuzz targets judge chains against
 * (a range of each family and a name), parsed once. */
#ifndef FUZZ_TRUST_H
#define FUZZ_TRUST_H

#include <stdbool.h>
#include <string.h>

#include "mail/mail.h"

static const struct mail_trust *fuzz_trust(void)
{
	static struct mail_trust trust;
	static bool ready;
	if (!ready) {
		const char *relays = "192.0.2.0/24\n2001:db8:1::/48\nrelay.example.org\n";
		size_t line;
		char err[128];
		mail_trust_init(&trust);
		if (mail_trust_parse(&trust, relays, strlen(relays), &line, err, sizeof(err)) != 0)
			__builtin_trap();
		ready = true;
	}
	return &trust;
}

#endif
