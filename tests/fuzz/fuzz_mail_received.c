/* fuzz_mail_received.c - libFuzzer target: Received header values through the parser, the
 * input cut at NUL bytes into a chain for the walk, and the same bytes as a trusted relays
 * file (addresses, CIDR and rbldnsd ranges, host names). Traps when an invariant breaks. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "mail/mail.h"

#include "fuzz_trust.h"

/* A name field: NUL-terminated inside its array, escaped (printable ASCII, no blank). */
static void check_name(const char *s)
{
	const char *end = memchr(s, '\0', MAIL_NAME_MAX);
	if (!end)
		__builtin_trap();
	for (; s < end; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			__builtin_trap();
}

static void check_text(const char *s)
{
	const char *end = memchr(s, '\0', MAIL_WHY_MAX);
	if (!end)
		__builtin_trap();
	for (; s < end; s++)
		if (*s < 0x20 || *s >= 0x7f)
			__builtin_trap();
}

static void check_received(const struct mail_received *r)
{
	check_name(r->rdns);
	check_name(r->helo);
	check_name(r->by);
	check_text(r->note);
	if ((unsigned)r->form >= MAIL_FORM_COUNT ||
	    (r->form != MAIL_FORM_NONE && strcmp(mail_received_form_name(r->form), "none") == 0))
		__builtin_trap();
	if (r->kind == MAIL_RECEIVED_PEER && r->form == MAIL_FORM_NONE)
		__builtin_trap();
	/* A header without a peer may say what it is (local, lmtp, list), never whose name. */
	if (r->kind != MAIL_RECEIVED_PEER && (r->rdns[0] || r->handoff))
		__builtin_trap();
	if (r->kind == MAIL_RECEIVED_UNREADABLE && r->form != MAIL_FORM_NONE)
		__builtin_trap();
}

/* Once the walk stops (a source, an unreadable hop, an untrusted hand-off), every hop below is
 * ignored; only a hand-off's peer stops it as a hand-off, and a hand-off is never the source. */
static void check_walk(const struct mail_analysis *a)
{
	if (a->has_source != (a->refusal == MAIL_REFUSAL_NONE))
		__builtin_trap();
	bool stopped = false;
	for (size_t i = 0; i < a->n_hops; i++) {
		const struct mail_hop *h = &a->hops[i];
		check_received(&h->rcv);
		check_text(h->why);
		if (stopped != (h->verdict == MAIL_HOP_IGNORED))
			__builtin_trap();
		if (h->verdict == MAIL_HOP_SOURCE || h->verdict == MAIL_HOP_UNREADABLE ||
		    h->verdict == MAIL_HOP_HANDOFF)
			stopped = true;
		if ((h->verdict == MAIL_HOP_HANDOFF) != (h->rcv.handoff && h->verdict != MAIL_HOP_TRUSTED &&
							  h->verdict != MAIL_HOP_IGNORED))
			__builtin_trap();
		if (h->verdict == MAIL_HOP_TRUSTED && !h->trusted_by[0])
			__builtin_trap();
	}
	if (a->has_source && memcmp(a->source, a->hops[a->source_hop].rcv.ip, 16) != 0)
		__builtin_trap();
	check_text(a->why);
}

/* The same bytes as a reporter's trusted relays file (it comes over the control socket): every
 * prefix valid, every name lowercase LDH labels; a refusal names its line and says why. */
static void check_trust(const char *s, size_t size)
{
	struct mail_trust t;
	mail_trust_init(&t);
	size_t line = 0;
	char err[256] = "";
	int rc = mail_trust_parse(&t, s, size, &line, err, sizeof(err));
	if (rc == MAIL_EINVAL && (line == 0 || !err[0]))
		__builtin_trap();
	for (size_t i = 0; i < t.n_prefixes; i++)
		if (!ip_prefix_valid(&t.prefixes[i]))
			__builtin_trap();
	for (size_t i = 0; i < t.n_names; i++) {
		const char *nm = t.names[i];
		if (!nm[0] || nm[0] == '-' || !memchr(nm, '\0', MAIL_NAME_MAX))
			__builtin_trap();
		for (const char *c = nm; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
			      *c == '.'))
				__builtin_trap();
	}
	mail_trust_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mail_trust *trust = fuzz_trust();
	const char *s = (const char *)data;
	struct mail_received r;
	mail_received_parse(s, size, &r);
	check_received(&r);

	/* The same bytes as a chain of headers, NUL between them (GMime never gives a NUL). */
	const char *hdrs[MAIL_HOPS_MAX];
	size_t lens[MAIL_HOPS_MAX], n = 0, start = 0;
	for (size_t i = 0; i <= size && n < MAIL_HOPS_MAX; i++)
		if (i == size || data[i] == 0) {
			hdrs[n] = s + start;
			lens[n++] = i - start;
			start = i + 1;
		}
	struct mail_analysis a;
	memset(&a, 0, sizeof(a));
	if (mail_chain_analyse(hdrs, lens, n, trust, size % 2 == 1, &a) == 0)
		check_walk(&a);
	mail_analysis_free(&a);
	check_trust(s, size);
	return 0;
}
