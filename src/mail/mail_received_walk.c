/* mail_received_walk.c - the walk down a Received chain: the reporter's trusted relays, the
 * first untrusted peer, the refusals and the explanation of every hop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail.h"

/* ---- the reporter's trusted relays -------------------------------------------------------- */

void mail_trust_init(struct mail_trust *t)
{
	memset(t, 0, sizeof(*t));
}

void mail_trust_free(struct mail_trust *t)
{
	free(t->prefixes);
	free(t->names);
	memset(t, 0, sizeof(*t));
}

/* A host name as compared: lowercase, without its trailing dot. Returns false when s does not
 * fit in MAIL_NAME_MAX. */
static bool name_normalize(const char *s, size_t len, char out[MAIL_NAME_MAX])
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len >= MAIL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	return true;
}

static bool looks_like_address(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':')
			return true;
	for (size_t i = 0; i < len; i++)
		if ((s[i] < '0' || s[i] > '9') && s[i] != '.')
			return false;
	return true; /* only digits and dots: meant as an IPv4 address, whether it parses or not */
}

/* Digits, dots and a dash: meant as an IPv4 range (rbldnsd's forms), whether it parses or not
 * (a host name's last label has a letter, so this is no name). */
static bool looks_like_range(const char *s, size_t len)
{
	const char *dash = memchr(s, '-', len);
	if (!dash)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((s[i] < '0' || s[i] > '9') && s[i] != '.' && s + i != dash)
			return false;
	return true;
}

/* A host name as RFC 1123 2.1 has it: labels of letters, digits and '-' (not first or last),
 * 1 to 63 bytes each, 253 in all, the last with a letter (no top-level domain is all digits,
 * so "192.0.2.1-192.0.2.300" is no name). name is normalized already (no trailing dot). */
static bool host_name_valid(const char *name)
{
	size_t len = strlen(name), label = 0;
	bool letter = false;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || name[i - 1] == '-')
				return false;
			if (c == '\0')
				return letter;
			label = 0;
			letter = false;
			continue;
		}
		bool alpha = c >= 'a' && c <= 'z';
		if (!alpha && !(c >= '0' && c <= '9') && !(c == '-' && label > 0))
			return false;
		letter |= alpha;
		label++;
	}
	return letter;
}

/* For "10.0.0.1/8", which ip_prefix_parse refuses: the range it probably meant. */
static void trust_suggest(const char *s, size_t len, char *buf, size_t cap)
{
	const char *slash = memchr(s, '/', len);
	struct ip_prefix p;
	memset(&p, 0, sizeof(p));
	buf[0] = '\0';
	if (!slash || ip_parse(s, (size_t)(slash - s), p.addr) != BASE_OK)
		return;
	unsigned n = 0;
	for (const char *d = slash + 1; d < s + len && *d >= '0' && *d <= '9' && n <= 128; d++)
		n = n * 10 + (unsigned)(*d - '0');
	n += ip_is_v4(p.addr) ? 96 : 0;
	if (n > 128)
		return;
	p.plen = (uint8_t)n;
	for (unsigned bit = n; bit < 128; bit++)
		p.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	ip_prefix_format(&p, buf, cap);
}

static int trust_push(struct mail_trust *t, const struct ip_prefix *p)
{
	if (array_grow((void **)&t->prefixes, &t->cap_prefixes, t->n_prefixes + 1,
		       sizeof(*t->prefixes)) != BASE_OK)
		return MAIL_ENOMEM;
	t->prefixes[t->n_prefixes++] = *p;
	return MAIL_OK;
}

/* "a.b.c.d-e.f.g.h" or "a.b.c.d-e", as rbldnsd's files write ranges: the prefixes that cover
 * it exactly. */
static int trust_add_range(struct mail_trust *t, const char *s, size_t len, char *err,
			   size_t errcap)
{
	uint32_t first, last;
	int rc = ip4_range_parse(s, len, &first, &last);
	if (rc == BASE_ERANGE) {
		snprintf(err, errcap, "'%.*s' is a range that runs backwards (its end is below its "
			 "start)", (int)(len > 64 ? 64 : len), s);
		return MAIL_EINVAL;
	}
	if (rc != BASE_OK) {
		snprintf(err, errcap, "'%.*s' is not an IPv4 range (a.b.c.d-e.f.g.h, or a.b.c.d-e "
			 "for the last octet)", (int)(len > 64 ? 64 : len), s);
		return MAIL_EINVAL;
	}
	struct ip_prefix p[64];
	size_t n = ip4_range_prefixes(first, last, p, sizeof(p) / sizeof(p[0]));
	for (size_t i = 0; i < n; i++)
		if (trust_push(t, &p[i]) != MAIL_OK)
			return MAIL_ENOMEM;
	return MAIL_OK;
}

static int trust_add_prefix(struct mail_trust *t, const char *s, size_t len, char *err,
			    size_t errcap)
{
	struct ip_prefix p;
	int rc = ip_prefix_parse(s, len, &p);
	if (rc == BASE_ERANGE) {
		char meant[IP_PREFIX_STRLEN];
		trust_suggest(s, len, meant, sizeof(meant));
		snprintf(err, errcap, "'%.*s' has address bits set past its prefix length (%s%s?)",
			 (int)(len > 64 ? 64 : len), s, meant[0] ? "meant " : "a typo",
			 meant);
		return MAIL_EINVAL;
	}
	if (rc != BASE_OK) {
		snprintf(err, errcap, "'%.*s' is neither an address nor a CIDR range",
			 (int)(len > 64 ? 64 : len), s);
		return MAIL_EINVAL;
	}
	return trust_push(t, &p);
}

int mail_trust_add(struct mail_trust *t, const char *s, size_t len, char *err, size_t errcap)
{
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	if (len == 0) {
		snprintf(err, errcap, "an empty entry");
		return MAIL_EINVAL;
	}
	if (looks_like_address(s, len))
		return trust_add_prefix(t, s, len, err, errcap);
	if (looks_like_range(s, len))
		return trust_add_range(t, s, len, err, errcap);
	char name[MAIL_NAME_MAX];
	if (!name_normalize(s, len, name) || memchr(s, '\0', len) || !host_name_valid(name)) {
		snprintf(err, errcap, "'%.*s' is neither a host name (letters, digits and '-' in "
			 "dot-separated labels) nor an address, a CIDR range or an IPv4 range",
			 (int)(len > 64 ? 64 : len), s);
		return MAIL_EINVAL;
	}
	if (array_grow((void **)&t->names, &t->cap_names, t->n_names + 1, sizeof(*t->names)) !=
	    BASE_OK)
		return MAIL_ENOMEM;
	memcpy(t->names[t->n_names++], name, sizeof(name));
	return MAIL_OK;
}

int mail_trust_parse(struct mail_trust *t, const char *text, size_t len, size_t *bad_line,
		     char *err, size_t errcap)
{
	size_t line = 0, i = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		line++;
		const char *hash = memchr(text + i, '#', end - i);
		size_t stop = hash ? (size_t)(hash - text) : end;
		size_t a = i;
		while (a < stop && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
			a++;
		if (a < stop) {
			int rc = mail_trust_add(t, text + a, stop - a, err, errcap);
			if (rc != MAIL_OK) {
				*bad_line = line;
				return rc;
			}
		}
		i = end + 1;
	}
	return MAIL_OK;
}

/* Whether the peer of r is a trusted relay; the range or name that says so goes into by. */
static bool trust_match(const struct mail_trust *t, const struct mail_received *r, char *by,
			size_t cap)
{
	if (!t)
		return false;
	for (size_t i = 0; i < t->n_prefixes; i++)
		if (ip_prefix_covers(&t->prefixes[i], r->ip)) {
			ip_prefix_format(&t->prefixes[i], by, cap);
			return true;
		}
	char name[MAIL_NAME_MAX];
	if (!r->rdns[0] || !r->rdns_confirmed || !name_normalize(r->rdns, strlen(r->rdns), name))
		return false;
	for (size_t i = 0; i < t->n_names; i++)
		if (strcmp(t->names[i], name) == 0) {
			snprintf(by, cap, "%s", t->names[i]);
			return true;
		}
	return false;
}

/* Whether a name as recorded (a reverse name that did not confirm, a HELO) is one of the
 * trusted names, or an address literal inside a trusted range: said in the explanation, since
 * that is what a forger counts on. */
static bool trust_names(const struct mail_trust *t, const char *recorded)
{
	char name[MAIL_NAME_MAX];
	size_t len = strlen(recorded);
	if (!t || !len)
		return false;
	if (recorded[0] == '[' && recorded[len - 1] == ']') {
		uint8_t ip[16];
		if (ip_parse(recorded + 1, len - 2, ip) != BASE_OK)
			return false;
		for (size_t i = 0; i < t->n_prefixes; i++)
			if (ip_prefix_covers(&t->prefixes[i], ip))
				return true;
		return false;
	}
	if (!name_normalize(recorded, len, name))
		return false;
	for (size_t i = 0; i < t->n_names; i++)
		if (strcmp(t->names[i], name) == 0)
			return true;
	return false;
}

/* ---- addresses that are never a source ------------------------------------------------------ */

/* Whether a peer at ip is no public source of mail: a special-purpose address (base's table,
 * the one exclude_default and every intake use), or with special_public one that never sends
 * at all. what gets the words that say so. */
static bool address_nonpublic(const uint8_t ip[16], bool special_public, char *what, size_t cap)
{
	if (special_public) {
		const char *never = ip_never_sends(ip);
		char a[IP_STRLEN];
		ip_format(ip, a);
		snprintf(what, cap, "%s %s", a, never ? never : "");
		return never != NULL;
	}
	return ip_special_describe(ip, what, cap);
}

/* ---- the walk -------------------------------------------------------------------------------- */

const char *mail_refusal_name(enum mail_refusal r)
{
	switch (r) {
	case MAIL_REFUSAL_NONE: return NULL;
	case MAIL_REFUSAL_NO_RECEIVED: return "no-received";
	case MAIL_REFUSAL_NO_UNTRUSTED_HOP: return "no-untrusted-hop";
	case MAIL_REFUSAL_PRIVATE_SOURCE: return "private-source";
	}
	return NULL;
}

const char *mail_hop_verdict_name(enum mail_hop_verdict v)
{
	switch (v) {
	case MAIL_HOP_TRUSTED: return "trusted";
	case MAIL_HOP_SOURCE: return "source";
	case MAIL_HOP_SKIPPED: return "skipped";
	case MAIL_HOP_UNREADABLE: return "unreadable";
	case MAIL_HOP_IGNORED: return "ignored";
	case MAIL_HOP_HANDOFF: return "handoff";
	}
	return "ignored";
}

void mail_analysis_free(struct mail_analysis *a)
{
	free(a->hops);
	a->hops = NULL;
	a->n_hops = 0;
}

/* Why the peer of h is not trusted, with what a forger would count on said plainly. */
static void why_untrusted(const struct mail_trust *t, struct mail_hop *h, const char *ip)
{
	const struct mail_received *r = &h->rcv;
	char name[200];
	if (!r->rdns[0])
		snprintf(name, sizeof(name), "no reverse name was recorded");
	else if (!r->rdns_confirmed && trust_names(t, r->rdns))
		snprintf(name, sizeof(name), "its reverse name %.100s is a trusted name, but the "
			 "receiving MTA did not confirm it", r->rdns);
	else if (!r->rdns_confirmed)
		snprintf(name, sizeof(name), "its reverse name %.100s is not confirmed", r->rdns);
	else
		snprintf(name, sizeof(name), "its reverse name %.100s is not a trusted relay", r->rdns);
	if (r->form == MAIL_FORM_WEBMAIL) {
		snprintf(h->why, sizeof(h->why), "%s is in no trusted range and %s: the first "
			 "untrusted peer, a web client that wrote the message through the webmail of "
			 "the host that recorded it", ip, name);
		return;
	}
	bool helo_trusted = trust_names(t, r->helo);
	snprintf(h->why, sizeof(h->why), "%s is in no trusted range and %s: the first untrusted "
		 "peer%s%.100s%s", ip, name, helo_trusted ? "; its HELO " : "",
		 helo_trusted ? r->helo : "",
		 helo_trusted ? " names a trusted relay, but a HELO is only what the client claims" : "");
}

/* The hop at index i is an inside hand-off (an LMTP delivery, a mailbox pickup, a local
 * hand-off) from a host that is not trusted: that host is no sender, and since its own header
 * below cannot be believed either, no source can be named. Taking it for the source would
 * list the reporter's own mailbox server or delivery agent. */
static void walk_handoff(struct mail_analysis *a, size_t i)
{
	struct mail_hop *h = &a->hops[i];
	char ip[IP_STRLEN];
	ip_format(h->rcv.ip, ip);
	h->verdict = MAIL_HOP_HANDOFF;
	snprintf(h->why, sizeof(h->why), "%s handed the message on inside the reporter's own "
		 "system (%s), so it is no sender; it is not a trusted relay, so what it wrote "
		 "below cannot be believed: the walk stops here", ip,
		 mail_received_form_name(h->rcv.form));
	a->refusal = MAIL_REFUSAL_NO_UNTRUSTED_HOP;
	/* A confirmed name (the server a pickup polled) serves as well as the address. */
	char add[IP_STRLEN + 120];
	if (h->rcv.rdns[0] && h->rcv.rdns_confirmed)
		snprintf(add, sizeof(add), "%.100s or %s", h->rcv.rdns, ip);
	else
		snprintf(add, sizeof(add), "%s", ip);
	snprintf(a->why, sizeof(a->why), "hop %zu is a hand-off inside the reporter's own system "
		 "(%s) from %s, which is not among the trusted relays: a delivery agent or mailbox "
		 "server is no sender; add %s (or its range) to the trusted relays", i + 1,
		 mail_received_form_name(h->rcv.form), ip, add);
	a->source_hop = i;
}

/* The hop at index i is the first untrusted peer: the source, or a refusal when it is not a
 * public address. */
static void walk_source(const struct mail_trust *t, bool special_public,
			struct mail_analysis *a, size_t i)
{
	struct mail_hop *h = &a->hops[i];
	char ip[IP_STRLEN], what[256];
	ip_format(h->rcv.ip, ip);
	h->verdict = MAIL_HOP_SOURCE;
	why_untrusted(t, h, ip);
	a->source_hop = i;
	if (address_nonpublic(h->rcv.ip, special_public, what, sizeof(what))) {
		a->refusal = MAIL_REFUSAL_PRIVATE_SOURCE;
		snprintf(a->why, sizeof(a->why), "hop %zu: the first untrusted peer is no public "
			 "address: %s, never listed; if it is one of the reporter's own relays, its "
			 "range belongs in the trusted relays", i + 1, what);
		return;
	}
	a->has_source = true;
	memcpy(a->source, h->rcv.ip, 16);
	snprintf(a->why, sizeof(a->why), "hop %zu: %s is the first peer that is not a trusted "
		 "relay; it handed the message to %.100s", i + 1, ip,
		 h->rcv.by[0] ? h->rcv.by : "the next host");
}

/* Every hop below where the walk stopped: read and shown, never believed. */
static void walk_ignore_rest(struct mail_analysis *a, size_t from, const char *because)
{
	for (size_t i = from; i < a->n_hops; i++) {
		a->hops[i].verdict = MAIL_HOP_IGNORED;
		snprintf(a->hops[i].why, sizeof(a->hops[i].why), "below %s: the sender or anyone on "
			 "its way may have written it", because);
	}
}

/* The walk ended without naming an untrusted peer. */
static void walk_refuse_none(struct mail_analysis *a, size_t peers)
{
	a->refusal = MAIL_REFUSAL_NO_UNTRUSTED_HOP;
	if (a->n_received > a->n_hops)
		snprintf(a->why, sizeof(a->why), "the first %zu of %zu Received headers all record "
			 "trusted relays or no peer, and a chain that long is not read further",
			 a->n_hops, a->n_received);
	else if (peers == 0)
		snprintf(a->why, sizeof(a->why), "none of the %zu Received headers records a peer "
			 "address", a->n_hops);
	else
		snprintf(a->why, sizeof(a->why), "every peer recorded (%zu) is a trusted relay: the "
			 "message started inside the reporter's own systems", peers);
}

static void walk(const struct mail_trust *t, bool special_public, struct mail_analysis *a)
{
	size_t peers = 0;
	for (size_t i = 0; i < a->n_hops; i++) {
		struct mail_hop *h = &a->hops[i];
		char ip[IP_STRLEN];
		switch (h->rcv.kind) {
		case MAIL_RECEIVED_NO_PEER:
			h->verdict = MAIL_HOP_SKIPPED;
			snprintf(h->why, sizeof(h->why), "records no peer address, so it says nothing "
				 "about who handed the message on");
			continue;
		case MAIL_RECEIVED_UNREADABLE:
			h->verdict = MAIL_HOP_UNREADABLE;
			snprintf(h->why, sizeof(h->why), "who handed the message on cannot be read, "
				 "and what lies below may be forged: the walk stops here");
			a->refusal = MAIL_REFUSAL_NO_UNTRUSTED_HOP;
			snprintf(a->why, sizeof(a->why), "hop %zu records an address in a form that "
				 "does not say whose it is, so no untrusted peer can be named", i + 1);
			walk_ignore_rest(a, i + 1, "an unreadable hop");
			return;
		case MAIL_RECEIVED_PEER:
			break;
		}
		peers++;
		ip_format(h->rcv.ip, ip);
		if (trust_match(t, &h->rcv, h->trusted_by, sizeof(h->trusted_by))) {
			h->verdict = MAIL_HOP_TRUSTED;
			if (strchr(h->trusted_by, '/'))
				snprintf(h->why, sizeof(h->why), "%s is inside the trusted range %s", ip,
					 h->trusted_by);
			else
				snprintf(h->why, sizeof(h->why), "%s has the reverse name %.100s, which "
					 "the receiving MTA confirmed and which is a trusted relay", ip,
					 h->rcv.rdns);
			continue;
		}
		if (h->rcv.handoff) {
			walk_handoff(a, i);
			walk_ignore_rest(a, i + 1, "an untrusted hand-off");
			return;
		}
		walk_source(t, special_public, a, i);
		walk_ignore_rest(a, i + 1, "the source");
		return;
	}
	walk_refuse_none(a, peers);
}

int mail_chain_analyse(const char *const *hdrs, const size_t *lens, size_t n,
		       const struct mail_trust *t, bool special_public, struct mail_analysis *out)
{
	out->n_received = n;
	if (n == 0) {
		out->refusal = MAIL_REFUSAL_NO_RECEIVED;
		snprintf(out->why, sizeof(out->why), "the message has no Received header, so "
			 "nothing records where it came from");
		return MAIL_OK;
	}
	size_t m = n < MAIL_HOPS_MAX ? n : MAIL_HOPS_MAX;
	out->hops = calloc(m, sizeof(*out->hops));
	if (!out->hops)
		return MAIL_ENOMEM;
	out->n_hops = m;
	for (size_t i = 0; i < m; i++)
		mail_received_parse(hdrs[i], lens[i], &out->hops[i].rcv);
	walk(t, special_public, out);
	return MAIL_OK;
}
