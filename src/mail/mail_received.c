/* mail_received.c - one Received header: the address the receiving MTA recorded for its peer,
 * the reverse name beside it and the HELO, in the forms the common MTAs write. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail.h"

/* A Received header written by a real MTA has 10 to 30 tokens at the top level; what is past
 * this many is not read (the "from" part, the only one that matters, comes first). */
#define RCV_TOKENS_MAX 64

enum tok_kind { TOK_WORD, TOK_COMMENT, TOK_SEMI };

struct tok {
	enum tok_kind kind;
	const char *s; /* a comment's content, without its parentheses */
	size_t len;
	bool unclosed; /* a comment that runs to the end of the header */
};

struct lexed {
	struct tok t[RCV_TOKENS_MAX];
	size_t n;
};

static bool is_space(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

/* Index just past a comment that opens at s[i] == '(' (RFC 5322 3.2.2: comments nest, '\'
 * quotes the next byte); *depth is what is left open at len. */
static size_t comment_end(const char *s, size_t len, size_t i, size_t *depth)
{
	size_t d = 1, j = i + 1;
	while (j < len && d > 0) {
		if (s[j] == '\\' && j + 1 < len) {
			j += 2;
			continue;
		}
		if (s[j] == '(')
			d++;
		else if (s[j] == ')')
			d--;
		j++;
	}
	*depth = d;
	return j;
}

/* Index just past a word starting at s[i]: up to a blank, '(' or ';' outside a quoted string.
 * Brackets and a stray ')' are part of the word. */
static size_t word_end(const char *s, size_t len, size_t i)
{
	bool quoted = false;
	size_t j = i;
	while (j < len) {
		unsigned char c = (unsigned char)s[j];
		if (quoted) {
			if (c == '\\' && j + 1 < len)
				j++;
			else if (c == '"')
				quoted = false;
			j++;
			continue;
		}
		if (is_space(c) || c == '(' || c == ';')
			break;
		if (c == '"')
			quoted = true;
		j++;
	}
	return j;
}

/* Splits s[0..len) into words, comments and ';' at the top level, at most RCV_TOKENS_MAX. */
static void lex(const char *s, size_t len, struct lexed *lx)
{
	size_t i = 0;
	lx->n = 0;
	while (i < len && lx->n < RCV_TOKENS_MAX) {
		unsigned char c = (unsigned char)s[i];
		if (is_space(c)) {
			i++;
			continue;
		}
		struct tok *t = &lx->t[lx->n++];
		t->unclosed = false;
		if (c == ';') {
			t->kind = TOK_SEMI;
			t->s = s + i;
			t->len = 1;
			i++;
		} else if (c == '(') {
			size_t depth;
			size_t j = comment_end(s, len, i, &depth);
			t->kind = TOK_COMMENT;
			t->s = s + i + 1;
			t->len = (depth ? j : j - 1) - (i + 1);
			t->unclosed = depth > 0;
			i = j;
		} else {
			size_t j = word_end(s, len, i);
			t->kind = TOK_WORD;
			t->s = s + i;
			t->len = j - i;
			i = j;
		}
	}
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* A word equal to a literal, or text starting with one, without case. The literal's length is
 * counted by the compiler and the first characters are compared before the call: these run
 * for every token of every header (callgrind on bench/mail.sh's corpus: strlen and the calls
 * were a fifth of the walk). */
static inline __attribute__((always_inline)) bool tok_is_n(const struct tok *t, const char *w,
							  size_t n)
{
	return t->kind == TOK_WORD && t->len == n &&
	       (n == 0 || ascii_lower((unsigned char)t->s[0]) == ascii_lower((unsigned char)w[0])) &&
	       strncasecmp(t->s, w, n) == 0;
}

static inline __attribute__((always_inline)) bool starts_with_n(const char *s, size_t len,
							       const char *prefix, size_t n)
{
	return len >= n &&
	       (n == 0 || ascii_lower((unsigned char)s[0]) == ascii_lower((unsigned char)prefix[0])) &&
	       strncasecmp(s, prefix, n) == 0;
}

#define tok_is(t, lit) tok_is_n((t), "" lit, sizeof(lit) - 1)
#define starts_with_ci(s, len, lit) starts_with_n((s), (len), "" lit, sizeof(lit) - 1)

/* ---- addresses --------------------------------------------------------------------------- */

/* ":" and 1 to 5 digits: the port Exim records after a bracketed address. */
static bool port_suffix(const char *s, size_t len)
{
	if (len < 2 || len > 6 || s[0] != ':')
		return false;
	for (size_t i = 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One address as MTAs write it: "1.2.3.4", "2001:db8::1", "IPv6:2001:db8::1", "::ffff:1.2.3.4"
 * (the IPv4 address), "fe80::1%12" (the zone dropped); with brackets when bracketed is set
 * ("[1.2.3.4]", "[IPv6:...]", Exim's "[1.2.3.4]:2525"), without them otherwise. */
static bool addr_parse(const char *s, size_t len, bool bracketed, uint8_t ip[16])
{
	if (bracketed) {
		if (len < 2 || s[0] != '[')
			return false;
		const char *close = memchr(s, ']', len);
		if (!close)
			return false;
		size_t inner = (size_t)(close - s) - 1, rest = len - inner - 2;
		if (rest && !port_suffix(close + 1, rest))
			return false;
		s++;
		len = inner;
	} else if (len > 0 && s[0] == '[') {
		return false;
	}
	if (starts_with_ci(s, len, "IPv6:")) {
		s += 5;
		len -= 5;
	}
	const char *pct = memchr(s, '%', len);
	if (pct && memchr(s, ':', (size_t)(pct - s)))
		len = (size_t)(pct - s); /* a link-local zone, as Exchange writes fe80::1%12 */
	return ip_parse(s, len, ip) == BASE_OK;
}

static bool addr_char(unsigned char c)
{
	unsigned char l = c | 0x20;
	return (c >= '0' && c <= '9') || (l >= 'a' && l <= 'f') || c == ':' || c == '.';
}

/* Whether s[0..len) holds anything that reads as an address: the runs of characters an
 * address is written with, each holding a '.' or a ':' as every address does, tried as one.
 * Used only to tell "records no address" from "records one we cannot place", so erring
 * towards yes is the safe side. */
static bool has_address(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		bool sep = false;
		while (j < len && addr_char((unsigned char)s[j])) {
			sep |= s[j] == '.' || s[j] == ':';
			j++;
		}
		if (j - i >= 2 && sep) {
			uint8_t ip[16];
			size_t n = j - i;
			if (s[i + n - 1] == '.')
				n--;
			if (addr_parse(s + i, n, false, ip) || addr_parse(s + i, j - i, false, ip))
				return true;
		}
		i = j + 1;
	}
	return false;
}

/* "a.b.c.d:PORT": XMail writes its peer's IPv4 address with the port and no brackets. An IPv6
 * address with a port is read only inside brackets, where the two cannot run together. */
static bool addr_port_parse(const char *s, size_t len, uint8_t ip[16])
{
	const char *colon = memchr(s, ':', len);
	if (!colon || !port_suffix(colon, len - (size_t)(colon - s)))
		return false;
	uint32_t v4;
	if (ip4_parse(s, (size_t)(colon - s), &v4) != BASE_OK)
		return false;
	ip_from_v4(v4, ip);
	return true;
}

/* ---- names ------------------------------------------------------------------------------- */

/* Copies s[0..len) into dst: printable ASCII as is, '\' and anything else as \xNN, cut at a
 * whole character when cap is reached (STYLE.md 13: what came from outside is shown escaped). */
static void copy_escaped(char *dst, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= cap)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= cap)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
}

static void copy_tok(char *dst, const struct tok *t)
{
	if (t)
		copy_escaped(dst, MAIL_NAME_MAX, t->s, t->len);
}

/* Postfix writes "unknown" when the name did not confirm, OpenSMTPD "<unknown>", couriertcpd
 * "softdnserr" when the lookup failed. */
static bool name_is_unknown(const char *s, size_t len)
{
	return (len == 7 && strncasecmp(s, "unknown", 7) == 0) ||
	       (len == 9 && strncasecmp(s, "<unknown>", 9) == 0) ||
	       (len == 10 && strncasecmp(s, "softdnserr", 10) == 0);
}

static bool word_is_literal(const struct tok *t)
{
	return t && t->len > 0 && t->s[0] == '[';
}

/* ---- the comments of the "from" part ------------------------------------------------------ */

enum match_kind {
	M_NONE = 0,   /* holds no address */
	M_UNKNOWN,    /* holds an address in no shape known here */
	M_BRACKET,    /* "NAME [ADDR]", "[ADDR]" (RFC 5321 TCP-info), "NAME IPv6:ADDR" (OpenSMTPD),
		       * "ident@[ADDR]" (Sendmail without a name), "[unknown] [ADDR]" (Sun) */
	M_EXIM_ADDR,  /* "[ADDR]:PORT helo=HELO ident=ID" */
	M_EXIM_ITEMS, /* "port=PORT helo=HELO": Exim's comment when the address came first */
	M_BARE,       /* "ADDR" or "IDENT@ADDR": qmail, Exchange */
	M_HELO,       /* "HELO name", "EHLO name", "LHLO name": qmail's record of the HELO */
	M_ACCOUNT,    /* "account USER [HELO name]": CommuniGate's authenticated client */
	M_VERIFIED,   /* "[ADDR] verified", "account USER [ADDR] verified": CommuniGate */
	M_SMTPSVC,    /* "[ADDR] unverified", "[ADDR] RDNS failed": IIS SMTPSVC */
	M_XMAIL,      /* "a.b.c.d:PORT": XMail */
	M_ZMAILER,    /* "[ADDR]:PORT \"EHLO name\" rhost-flags-A-B-C-D": ZMailer */
	M_WEBMAIL,    /* "SquirrelMail authenticated user NAME": a webmail's record, no address */
};

struct match {
	enum match_kind kind;
	uint8_t ip[16];
	struct tok name; /* the reverse name in M_BRACKET, .len 0 if none */
	struct tok helo; /* the HELO in M_HELO, M_ACCOUNT, M_ZMAILER and the Exim forms */
	bool forged;     /* Sendmail's "(may be forged)" beside the name */
	bool flags;      /* M_ZMAILER: rhost-flags recorded */
	bool flags_ok;   /* M_ZMAILER: its first two (the reverse lookup and its forward check) OK */
	bool local;      /* "NAME [local]": OpenSMTPD's record of a local submission */
};

static bool word_is_item(const struct tok *t)
{
	return t->kind == TOK_WORD && t->len > 1 && memchr(t->s, '=', t->len) != NULL &&
	       t->s[0] != '=';
}

/* Exim's "helo=NAME" item among the words w[from..n). */
static void exim_helo(const struct tok *w, size_t from, size_t n, struct match *m)
{
	for (size_t i = from; i < n; i++)
		if (starts_with_ci(w[i].s, w[i].len, "helo=")) {
			m->helo = w[i];
			m->helo.s += 5;
			m->helo.len -= 5;
		}
}

static bool all_items(const struct tok *w, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (!word_is_item(&w[i]))
			return false;
	return n > from;
}

/* "[IDENT@]NAME [ADDR]" or "[IDENT@]NAME IPv6:ADDR": the name part, ident dropped (Sendmail's
 * "IDENT:user@name" too: everything up to the last '@'). */
static bool tcpinfo_name(const struct tok *w, struct match *m)
{
	if (w->len == 0 || w->s[0] == '[' || memchr(w->s, '=', w->len))
		return false;
	const char *at = NULL;
	for (size_t i = 0; i < w->len; i++)
		if (w->s[i] == '@')
			at = w->s + i;
	m->name = *w;
	if (at) {
		m->name.s = at + 1;
		m->name.len = w->len - (size_t)(at + 1 - w->s);
	}
	return true;
}

/* The part after the last '@' of w (all of it without one). */
static struct tok after_ident(const struct tok *w)
{
	struct tok t = *w;
	for (size_t i = w->len; i > 0; i--)
		if (w->s[i - 1] == '@') {
			t.s = w->s + i;
			t.len = w->len - i;
			break;
		}
	return t;
}

static bool tok_is_helo_verb(const struct tok *t)
{
	return tok_is(t, "HELO") || tok_is(t, "EHLO") || tok_is(t, "LHLO");
}

/* ZMailer's quoted "EHLO name" (or HELO): the name, without the quotes and the verb. */
static bool zmailer_helo(const struct tok *w, struct tok *helo)
{
	if (w->len < 7 || w->s[0] != '"' || w->s[w->len - 1] != '"')
		return false;
	if (!starts_with_ci(w->s + 1, w->len - 2, "EHLO") &&
	    !starts_with_ci(w->s + 1, w->len - 2, "HELO"))
		return false;
	size_t i = 5;
	if (i < w->len - 1 && !is_space((unsigned char)w->s[i]))
		return false;
	while (i < w->len - 1 && is_space((unsigned char)w->s[i]))
		i++;
	helo->kind = TOK_WORD;
	helo->s = w->s + i;
	helo->len = w->len - 1 - i;
	helo->unclosed = false;
	return true;
}

/* "rhost-flags-A-B-C-D", each OK or FAIL: the first two say whether the reverse lookup gave a
 * name and whether that name resolves back to the address. */
static bool zmailer_flags(const struct tok *w, struct match *m)
{
	if (!starts_with_ci(w->s, w->len, "rhost-flags-"))
		return false;
	const char *p = w->s + 12, *end = w->s + w->len;
	m->flags = true;
	m->flags_ok = end - p >= 6 && strncmp(p, "OK-OK-", 6) == 0;
	return true;
}

/* The shapes whose first word is a bracketed address ("[ADDR]" or "[ADDR]:PORT"). */
static void match_bracketed_first(const struct tok *w, size_t n, struct match *m)
{
	bool port = memchr(w[0].s, ']', w[0].len) != w[0].s + w[0].len - 1;
	if (n == 1) {
		m->kind = M_BRACKET;
	} else if (n == 2 && tok_is(&w[1], "verified")) {
		m->kind = M_VERIFIED;
	} else if ((n == 2 && tok_is(&w[1], "unverified")) ||
		   (n == 3 && tok_is(&w[1], "RDNS") && tok_is(&w[2], "failed"))) {
		m->kind = M_SMTPSVC;
	} else if (port && (n == 2 || n == 3) && zmailer_helo(&w[1], &m->helo) &&
		   (n == 2 || zmailer_flags(&w[2], m))) {
		m->kind = M_ZMAILER;
	} else if (all_items(w, 1, n)) {
		m->kind = M_EXIM_ADDR;
		exim_helo(w, 1, n, m);
	} else {
		m->kind = M_UNKNOWN;
	}
}

/* CommuniGate's "account USER", "account USER HELO name", "account USER [ADDR] verified". */
static void match_account(const struct tok *w, size_t n, struct match *m)
{
	if (n == 2) {
		m->kind = M_ACCOUNT;
	} else if ((n == 3 || n == 4) && tok_is_helo_verb(&w[2])) {
		m->kind = M_ACCOUNT;
		if (n == 4)
			m->helo = w[3];
	} else if (n == 4 && addr_parse(w[2].s, w[2].len, true, m->ip) &&
		   tok_is(&w[3], "verified")) {
		m->kind = M_VERIFIED;
	}
}

/* The words of a comment (nested comments dropped, "(may be forged)" noted) into w. */
static size_t comment_words(const struct tok *c, struct tok w[RCV_TOKENS_MAX], struct match *m)
{
	struct lexed sub;
	lex(c->s, c->len, &sub);
	size_t n = 0;
	for (size_t i = 0; i < sub.n; i++) {
		if (sub.t[i].kind == TOK_WORD)
			w[n++] = sub.t[i];
		else if (sub.t[i].kind == TOK_COMMENT && sub.t[i].len == 13 &&
			 strncasecmp(sub.t[i].s, "may be forged", 13) == 0)
			m->forged = true;
	}
	return n;
}

/* Reads one comment of the "from" part as one of the shapes above; what holds an address in
 * none of them is M_UNKNOWN, so that it can never be mistaken for "no address". */
static void match_comment(const struct tok *c, struct match *m)
{
	memset(m, 0, sizeof(*m));
	if (c->unclosed) {
		/* A truncated comment: its structure cannot be trusted. */
		m->kind = has_address(c->s, c->len) ? M_UNKNOWN : M_NONE;
		return;
	}
	if (starts_with_ci(c->s, c->len, "SquirrelMail authenticated user ") ||
	    starts_with_ci(c->s, c->len, "NaSMail authenticated user ")) {
		m->kind = M_WEBMAIL;
		return;
	}
	struct tok w[RCV_TOKENS_MAX];
	size_t n = comment_words(c, w, m);
	if (n == 0)
		return;
	struct tok bare = after_ident(&w[0]);
	if (n <= 2 && tok_is_helo_verb(&w[0])) {
		m->kind = M_HELO;
		if (n == 2)
			m->helo = w[1];
	} else if (tok_is(&w[0], "account") && n >= 2) {
		match_account(w, n, m);
	} else if (addr_parse(w[0].s, w[0].len, true, m->ip)) {
		match_bracketed_first(w, n, m);
	} else if (n == 2 && tok_is(&w[0], "[unknown]") &&
		   addr_parse(w[1].s, w[1].len, true, m->ip)) {
		m->kind = M_BRACKET; /* Sun's Messaging Server when the address has no name */
	} else if (n == 2 && (addr_parse(w[1].s, w[1].len, true, m->ip) ||
			      (starts_with_ci(w[1].s, w[1].len, "IPv6:") &&
			       addr_parse(w[1].s, w[1].len, false, m->ip)))) {
		if (tcpinfo_name(&w[0], m))
			m->kind = M_BRACKET;
	} else if (n == 2 && tok_is(&w[1], "[local]")) {
		m->local = true;
	} else if (n == 1 && bare.s != w[0].s && addr_parse(bare.s, bare.len, true, m->ip)) {
		m->kind = M_BRACKET; /* Sendmail's "ident@[ADDR]": an ident, no name */
	} else if (n == 1 && addr_parse(bare.s, bare.len, false, m->ip)) {
		m->kind = M_BARE;
	} else if (n == 1 && addr_port_parse(w[0].s, w[0].len, m->ip)) {
		m->kind = M_XMAIL;
	} else if (all_items(w, 0, n)) {
		m->kind = M_EXIM_ITEMS;
		exim_helo(w, 0, n, m);
	}
	if (m->kind == M_NONE && has_address(c->s, c->len))
		m->kind = M_UNKNOWN;
}

/* ---- the header ---------------------------------------------------------------------------- */

/* What the by part says about the MTA that wrote the header. Only what that MTA writes itself
 * counts: the words and comments after the host it names, before "id" and "for" (the envelope
 * recipient and sender that may follow are the client's words); and the "by" that starts it
 * is the last one (see find_by). */
enum sig_bit {
	SIG_EXIM = 1u << 0,
	SIG_OPENSMTPD = 1u << 1,
	SIG_MICROSOFT = 1u << 2,
	SIG_COMMUNIGATE = 1u << 3,
	SIG_XMAIL = 1u << 4,
	SIG_DOMINO = 1u << 5,
	SIG_GWIA = 1u << 6,      /* GroupWise Internet Agent: "with ESMTP (NOT encrypted)" */
	SIG_GROUPWISE = 1u << 7, /* "with Novell_GroupWise": from GroupWise's own MTA */
	SIG_KERIO = 1u << 8,
	SIG_IMAIL = 1u << 9,
	SIG_MDAEMON = 1u << 10,
	SIG_SUN = 1u << 11,
	SIG_FETCHMAIL = 1u << 12,
	SIG_LIST = 1u << 13,
	SIG_LOCAL = 1u << 14,    /* Postfix's "(Postfix, from userid N)", Sendmail's ".../Submit" */
	SIG_HTTP = 1u << 15,     /* "(via HTTP)", as United Internet's webmail writes it */
};

/* How the message came, from the word after "with" (or "via"). */
enum proto { PROTO_OTHER = 0, PROTO_HTTP, PROTO_LMTP, PROTO_PICKUP, PROTO_LOCAL };

/* What in the by part names the MTA: a comment that starts with the text, or the word after
 * "with" or "via" that is the text or starts with it. The lengths are counted by the compiler
 * and the first character compared before the rest: every comment of every header's by part
 * comes through here (callgrind on bench/mail.sh's corpus: a tenth of the walk otherwise). */
struct sig_mark {
	unsigned char first; /* the text's first character | 0x20: lowercase for a letter */
	const char *text;
	size_t len;
	bool prefix;         /* a word that starts with the text (a comment always does) */
	unsigned bit;
};

#define MARK(text, prefix, bit) \
	{(unsigned char)((text)[0] | 0x20), text, sizeof(text) - 1, prefix, bit}

static const struct sig_mark sig_comment_marks[] = {
	MARK("OpenSMTPD", true, SIG_OPENSMTPD),
	MARK("CommuniGate Pro", true, SIG_COMMUNIGATE),
	MARK("Lotus Domino", true, SIG_DOMINO),
	MARK("IBM Domino", true, SIG_DOMINO),
	MARK("HCL Domino", true, SIG_DOMINO),
	MARK("Kerio Connect", true, SIG_KERIO),
	MARK("Kerio MailServer", true, SIG_KERIO),
	MARK("SMTPD32-", true, SIG_IMAIL),
	MARK("IMail ", true, SIG_IMAIL),
	MARK("MDaemon", true, SIG_MDAEMON),
	MARK("Sun Java", true, SIG_SUN),
	MARK("Sun ONE Messaging", true, SIG_SUN),
	MARK("iPlanet Messaging", true, SIG_SUN),
	MARK("Oracle Communications Messaging", true, SIG_SUN),
	MARK("fetchmail-", true, SIG_FETCHMAIL),
	MARK("LISTSERV", true, SIG_LIST),
	MARK("NOT encrypted", true, SIG_GWIA),
	MARK("TLS encrypted", true, SIG_GWIA),
	MARK("Postfix, from userid", true, SIG_LOCAL),
	MARK("via HTTP", true, SIG_HTTP),
};

static const struct sig_mark sig_word_marks[] = {
	MARK("Microsoft", false, SIG_MICROSOFT),
	MARK("mapi", false, SIG_MICROSOFT),
	MARK("SMTPSVC(", true, SIG_MICROSOFT),
	MARK("[XMail", true, SIG_XMAIL),
	MARK("Novell_GroupWise", false, SIG_GROUPWISE),
	MARK("listexpand", false, SIG_LIST),
	MARK("ECARTIS", false, SIG_LIST),
};

static unsigned marks_of(const struct tok *t, const struct sig_mark *marks, size_t n)
{
	unsigned bits = 0;
	unsigned char c0 = (unsigned char)(t->s[0] | 0x20);
	for (size_t k = 0; k < n; k++) {
		const struct sig_mark *mk = &marks[k];
		if (mk->first != c0 || t->len < mk->len || (!mk->prefix && t->len != mk->len))
			continue;
		if (strncasecmp(t->s, mk->text, mk->len) == 0)
			bits |= mk->bit;
	}
	return bits;
}

/* The signature bits one word or comment of the by part carries. */
static unsigned sig_of(const struct tok *t)
{
	if (t->len == 0 || t->kind == TOK_SEMI)
		return 0;
	if (t->kind == TOK_WORD)
		return marks_of(t, sig_word_marks, sizeof(sig_word_marks) / sizeof(sig_word_marks[0]));
	unsigned bits = marks_of(t, sig_comment_marks,
				 sizeof(sig_comment_marks) / sizeof(sig_comment_marks[0]));
	if (t->len > 6 && starts_with_ci(t->s, t->len, "Exim ") && t->s[5] >= '0' && t->s[5] <= '9')
		bits |= SIG_EXIM;
	if (t->len >= 7 && t->s[t->len - 7] == '/' && starts_with_ci(t->s + t->len - 7, 7, "/Submit"))
		bits |= SIG_LOCAL;
	return bits;
}

static enum proto proto_of(const struct tok *t)
{
	if (t->kind != TOK_WORD)
		return PROTO_OTHER;
	if (tok_is(t, "HTTP") || tok_is(t, "HTTPS") || tok_is(t, "HTTPU") || tok_is(t, "HTTPA") ||
	    tok_is(t, "HTTPSA"))
		return PROTO_HTTP;
	if (starts_with_ci(t->s, t->len, "LMTP") || starts_with_ci(t->s, t->len, "UTF8LMTP"))
		return PROTO_LMTP;
	if (starts_with_ci(t->s, t->len, "POP") || starts_with_ci(t->s, t->len, "IMAP"))
		return PROTO_PICKUP;
	if (tok_is(t, "local") || starts_with_ci(t->s, t->len, "local-"))
		return PROTO_LOCAL;
	return PROTO_OTHER;
}

/* One item of the from part: a comment as matched, or a word (an address literal [ADDR] is
 * read as one; any other word holding an address is M_UNKNOWN). */
struct item {
	const struct tok *t;
	struct match m;
	bool word;
	bool literal;
};

/* One header taken apart. */
struct rcv {
	struct lexed lx;
	size_t end;            /* tokens before the date (the last top-level ';') */
	size_t by;             /* the "by" that ends the from part, or end */
	bool have_from;
	bool in_comment;       /* Sendmail's "(from NAME [ADDR])", given no HELO */
	const struct tok *w0;  /* the word after "from", whatever it is (a HELO may be "by") */
	struct tok info;       /* the content of Sendmail's comment */
	struct item it[RCV_TOKENS_MAX];
	size_t n;
	size_t last;           /* the last item that holds an address, n if none */
	size_t helo_rec;       /* the last HELO record (qmail's, Exim's, CommuniGate's) before
				* last, n if none */
	unsigned sig;
	enum proto proto;
	bool webmail_mark;     /* a webmail's comment (SquirrelMail) in the from part */
	bool local_mark;       /* OpenSMTPD's [local] */
};

static bool item_has_address(const struct item *it)
{
	switch (it->m.kind) {
	case M_UNKNOWN:
	case M_BRACKET:
	case M_EXIM_ADDR:
	case M_BARE:
	case M_VERIFIED:
	case M_SMTPSVC:
	case M_XMAIL:
	case M_ZMAILER:
		return true;
	default:
		return false;
	}
}

static bool item_is_helo_record(const struct item *it)
{
	return !it->word && (it->m.kind == M_HELO || it->m.kind == M_ACCOUNT ||
			     it->m.kind == M_EXIM_ITEMS);
}

/* Classifies the items t[0..n) of the from part. */
static void items_read(struct rcv *r, const struct tok *t, size_t n)
{
	r->n = 0;
	for (size_t i = 0; i < n && r->n < RCV_TOKENS_MAX; i++) {
		if (t[i].kind == TOK_SEMI)
			continue;
		struct item *it = &r->it[r->n++];
		memset(it, 0, sizeof(*it));
		it->t = &t[i];
		if (t[i].kind == TOK_COMMENT) {
			match_comment(&t[i], &it->m);
			r->webmail_mark |= it->m.kind == M_WEBMAIL;
			r->local_mark |= it->m.local;
			continue;
		}
		it->word = true;
		if (addr_parse(t[i].s, t[i].len, true, it->m.ip)) {
			it->literal = true;
			it->m.kind = M_BRACKET;
		} else if (has_address(t[i].s, t[i].len)) {
			it->m.kind = M_UNKNOWN;
		}
	}
	r->last = r->n;
	for (size_t i = r->n; i > 0; i--)
		if (item_has_address(&r->it[i - 1])) {
			r->last = i - 1;
			break;
		}
	r->helo_rec = r->n;
	for (size_t i = 0; i < r->last; i++)
		if (item_is_helo_record(&r->it[i]))
			r->helo_rec = i;
}

static void set_peer(struct mail_received *out, enum mail_received_form form, const uint8_t ip[16])
{
	out->kind = MAIL_RECEIVED_PEER;
	out->form = form;
	memcpy(out->ip, ip, 16);
}

/* The reverse name and its standing, for the forms that record one beside the address. */
static void set_rdns(struct mail_received *out, const struct tok *name, bool confirmed)
{
	uint8_t ip[16];
	if (!name || name->len == 0 || name_is_unknown(name->s, name->len) || name->s[0] == '[' ||
	    addr_parse(name->s, name->len, false, ip))
		return; /* no name: "unknown", or an address where a name would be */
	copy_tok(out->rdns, name);
	out->rdns_confirmed = confirmed;
}

static void set_unreadable(struct mail_received *out, const struct tok *helo, const char *why)
{
	memset(out->ip, 0, sizeof(out->ip));
	out->kind = MAIL_RECEIVED_UNREADABLE;
	out->form = MAIL_FORM_NONE;
	out->rdns[0] = '\0';
	out->rdns_confirmed = false;
	out->handoff = false;
	copy_tok(out->helo, helo);
	snprintf(out->note, sizeof(out->note), "%s", why);
}

static const char unknown_form[] = "the from part holds an address in no form known here, so "
				   "whether it is the peer's or the HELO's cannot be told";

/* MTAs that write RFC 5321's TCP-info, known by their signature: the form named after them,
 * and what they record beside the address. */
static const struct {
	unsigned sig;
	enum mail_received_form form;
	const char *note;
} tcpinfo_mtas[] = {
	{SIG_DOMINO, MAIL_FORM_DOMINO, "Lotus/IBM/HCL Domino: from HELO ([ADDR]), the address its "
	 "peer's; Domino records no reverse name, so the name before is only the HELO"},
	{SIG_KERIO, MAIL_FORM_KERIO, "Kerio Connect: from HELO ([ADDR]), the address its peer's; "
	 "no reverse name recorded, the name before is only the HELO"},
	{SIG_SUN, MAIL_FORM_SUN, "Sun/Oracle Messaging Server: from HELO ([ADDR]), or (NAME [ADDR]) "
	 "and ([unknown] [ADDR]); the address is its peer's, a name beside it is not said to be "
	 "checked forward"},
	{SIG_GWIA, MAIL_FORM_GROUPWISE, "GroupWise Internet Agent: from HELO (NAME [ADDR]) with "
	 "ESMTP (NOT encrypted); the address is its peer's, the reverse name is not said to be "
	 "checked forward"},
	{SIG_MDAEMON, MAIL_FORM_MDAEMON, "MDaemon: from HELO ([ADDR]), the address its peer's; no "
	 "reverse name recorded"},
	{SIG_XMAIL, MAIL_FORM_XMAIL, "XMail: from HELO ([ADDR]:PORT), the address its peer's; no "
	 "reverse name recorded"},
	{SIG_COMMUNIGATE, MAIL_FORM_COMMUNIGATE, "CommuniGate Pro: from HELO ([ADDR]) without "
	 "\"verified\": the address is its peer's, no name it checked"},
};

/* The bracketed forms: RFC 5321's TCP-info, Exim's, and the MTAs of tcpinfo_mtas. */
static void read_bracketed(const struct rcv *r, const struct match *m, struct mail_received *out)
{
	const struct tok *w0 = r->w0;
	bool w0_name = w0 && !word_is_literal(w0);
	if (m->kind == M_EXIM_ADDR ||
	    (m->kind == M_BRACKET && m->name.len == 0 && (r->sig & SIG_EXIM))) {
		/* Exim writes its verified host name first, the HELO only when it differs. */
		set_peer(out, MAIL_FORM_EXIM, m->ip);
		if (w0_name)
			set_rdns(out, w0, true);
		if (m->helo.len)
			copy_tok(out->helo, &m->helo);
		else if (w0_name)
			copy_tok(out->helo, w0);
		snprintf(out->note, sizeof(out->note), "Exim: from NAME ([ADDR] helo=HELO), NAME "
			 "being the host name Exim verified");
		return;
	}
	copy_tok(out->helo, w0);
	for (size_t k = 0; k < sizeof(tcpinfo_mtas) / sizeof(tcpinfo_mtas[0]); k++)
		if (r->sig & tcpinfo_mtas[k].sig) {
			set_peer(out, tcpinfo_mtas[k].form, m->ip);
			set_rdns(out, &m->name, false);
			snprintf(out->note, sizeof(out->note), "%s", tcpinfo_mtas[k].note);
			return;
		}
	set_peer(out, (r->sig & SIG_MICROSOFT) ? MAIL_FORM_MICROSOFT : MAIL_FORM_TCP_INFO, m->ip);
	bool confirmed = !m->forged && !(r->sig & SIG_OPENSMTPD);
	set_rdns(out, &m->name, confirmed);
	if (m->forged)
		snprintf(out->note, sizeof(out->note), "from HELO (NAME [ADDR] (may be forged)): "
			 "the MTA (Sendmail) says the name did not confirm");
	else if ((r->sig & SIG_OPENSMTPD) && out->rdns[0])
		snprintf(out->note, sizeof(out->note), "from HELO (NAME [ADDR]) by OpenSMTPD, which "
			 "records the reverse name without checking it forward");
	else if (r->sig & SIG_MICROSOFT)
		snprintf(out->note, sizeof(out->note), "Microsoft: from HELO ([ADDR]), no reverse "
			 "name recorded");
	else if (r->in_comment)
		snprintf(out->note, sizeof(out->note), "(from NAME [ADDR]): Sendmail's TCP-info when "
			 "the client sent no HELO");
	else
		snprintf(out->note, sizeof(out->note), "from HELO (NAME [ADDR]), RFC 5321 TCP-info%s",
			 m->name.len ? "" : " without a name");
}

/* The bare forms: qmail's "from NAME (HELO x) (ADDR)" and Exchange's "from HELO (ADDR)"; qmail
 * with a bracketed address too (qmail-ldap's "(ident@[ADDR])"). */
static void read_bare(const struct rcv *r, const struct match *m, const struct match *helo,
		      struct mail_received *out)
{
	if (helo) {
		set_peer(out, MAIL_FORM_QMAIL, m->ip);
		set_rdns(out, r->w0, false);
		copy_tok(out->helo, &helo->helo);
		snprintf(out->note, sizeof(out->note), "qmail: from NAME (HELO x) (ADDR), or EHLO "
			 "as Yahoo writes it; NAME is tcpserver's reverse lookup, not checked forward");
	} else if (r->sig & SIG_MICROSOFT) {
		set_peer(out, MAIL_FORM_MICROSOFT, m->ip);
		copy_tok(out->helo, r->w0);
		snprintf(out->note, sizeof(out->note), "Microsoft Exchange: from HELO (ADDR), no "
			 "reverse name recorded");
	} else {
		set_peer(out, MAIL_FORM_BARE, m->ip);
		copy_tok(out->helo, r->w0);
		snprintf(out->note, sizeof(out->note), "from NAME (ADDR) with no MTA's signature: "
			 "NAME could be a HELO (Exchange writes one there), so it is taken as one");
	}
}

/* ZMailer: from NAME ([ADDR]:PORT "EHLO x" rhost-flags-A-B-C-D). */
static void read_zmailer(const struct rcv *r, const struct match *m, struct mail_received *out)
{
	set_peer(out, MAIL_FORM_ZMAILER, m->ip);
	copy_tok(out->helo, &m->helo);
	if (r->w0 && !word_is_literal(r->w0))
		set_rdns(out, r->w0, m->flags_ok);
	if (!m->flags)
		snprintf(out->note, sizeof(out->note), "ZMailer: from NAME ([ADDR]:PORT \"EHLO x\"), "
			 "without rhost-flags: NAME is its reverse lookup, not said to be checked");
	else
		snprintf(out->note, sizeof(out->note), "ZMailer: from NAME ([ADDR]:PORT \"EHLO x\" "
			 "rhost-flags-A-B-C-D): NAME is its reverse lookup, confirmed when the first "
			 "two flags are OK (the lookup, and its forward check)%s",
			 out->rdns[0] && !out->rdns_confirmed ? ", which they are not here" : "");
}

/* The last address of the from part is in a comment. */
static void read_comment_anchor(const struct rcv *r, struct mail_received *out)
{
	const struct match *m = &r->it[r->last].m;
	const struct match *helo = r->helo_rec < r->n ? &r->it[r->helo_rec].m : NULL;
	uint8_t ip[16];
	bool w0_lit = r->w0 && addr_parse(r->w0->s, r->w0->len, true, ip);
	if (w0_lit && helo) {
		/* CommuniGate and Exim write the address first and the client's HELO after it: an
		 * address after that HELO may be the client's own words. */
		set_unreadable(out, r->w0, "from [ADDR] (HELO ...) and then another address: the "
			       "client's HELO may have written the second, so whose is the peer's "
			       "cannot be told");
		return;
	}
	switch (m->kind) {
	case M_ZMAILER:
		read_zmailer(r, m, out);
		return;
	case M_VERIFIED:
		set_peer(out, MAIL_FORM_COMMUNIGATE, m->ip);
		if (r->w0 && !w0_lit) {
			set_rdns(out, r->w0, true);
			copy_tok(out->helo, r->w0);
		}
		snprintf(out->note, sizeof(out->note), "CommuniGate Pro: from NAME ([ADDR] "
			 "verified): NAME is the name CommuniGate verified for the address");
		return;
	case M_SMTPSVC:
		set_peer(out, MAIL_FORM_MICROSOFT, m->ip);
		copy_tok(out->helo, r->w0);
		snprintf(out->note, sizeof(out->note), "Microsoft SMTPSVC: from HELO ([ADDR] "
			 "unverified|RDNS failed): the address is the peer's; IIS did not match the "
			 "HELO against the reverse name, and records no name");
		return;
	case M_XMAIL:
		set_peer(out, MAIL_FORM_XMAIL, m->ip);
		copy_tok(out->helo, r->w0);
		snprintf(out->note, sizeof(out->note), "XMail: from HELO (ADDR:PORT), the address "
			 "its peer's; no reverse name recorded");
		return;
	case M_BRACKET:
	case M_EXIM_ADDR:
		if (helo && helo->kind == M_HELO && m->kind == M_BRACKET && m->name.len == 0) {
			read_bare(r, m, helo, out); /* qmail-ldap's (HELO x) (ident@[ADDR]) */
			return;
		}
		read_bracketed(r, m, out);
		return;
	case M_BARE:
		read_bare(r, m, helo && helo->kind == M_HELO ? helo : NULL, out);
		return;
	default:
		set_unreadable(out, r->w0, unknown_form);
		return;
	}
}

/* The last address of the from part is a word: from NAME [ADDR] (the bracket forms, pickups),
 * or GMX's from NAME (EHLO x) [ADDR]. Nothing else may stand before it: a HELO with a blank
 * in it could otherwise put an address where the MTA's would be. */
static void read_word_anchor(const struct rcv *r, struct mail_received *out)
{
	const struct item *a = &r->it[r->last];
	if (!a->literal || !r->w0 || has_address(r->w0->s, r->w0->len)) {
		set_unreadable(out, r->w0, unknown_form);
		return;
	}
	if (r->last == 1 && !r->it[0].word && r->it[0].m.kind == M_HELO) {
		set_peer(out, MAIL_FORM_GMX, a->m.ip);
		set_rdns(out, r->w0, false);
		copy_tok(out->helo, &r->it[0].m.helo);
		snprintf(out->note, sizeof(out->note), "GMX, web.de: from NAME (EHLO x) [ADDR]: the "
			 "address is the peer's, NAME its reverse name as looked up (not said to be "
			 "checked forward), x the HELO");
		return;
	}
	if (r->last != 0) {
		set_unreadable(out, r->w0, unknown_form);
		return;
	}
	copy_tok(out->helo, r->w0);
	if (r->sig & SIG_IMAIL) {
		set_peer(out, MAIL_FORM_IMAIL, a->m.ip);
		snprintf(out->note, sizeof(out->note), "IMail: from HELO [ADDR] by HOST (SMTPD32-...):"
			 " the address is the peer's, the name its HELO; no reverse name recorded");
	} else if (r->sig & SIG_MDAEMON) {
		set_peer(out, MAIL_FORM_MDAEMON, a->m.ip);
		snprintf(out->note, sizeof(out->note), "MDaemon: from HELO [ADDR] by HOST [ADDR]: the "
			 "first address is the peer's, the name its HELO; no reverse name recorded");
	} else {
		set_peer(out, MAIL_FORM_BRACKET, a->m.ip);
		snprintf(out->note, sizeof(out->note), "from NAME [ADDR]: the address the receiving "
			 "MTA saw, NAME the HELO it was given; no reverse name recorded");
	}
}

/* Whether the from part's only comments are a HELO record of CommuniGate's (and ones that hold
 * nothing: authentication notes), so that from [ADDR] (HELO x) reads as its form. */
static const struct match *communigate_helo(const struct rcv *r)
{
	const struct match *h = NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct item *it = &r->it[i];
		if (it->word)
			return NULL;
		if (it->m.kind == M_HELO || it->m.kind == M_ACCOUNT) {
			if (h)
				return NULL;
			h = &it->m;
		} else if (it->m.kind != M_NONE) {
			return NULL;
		}
	}
	return h;
}

/* No item of the from part holds an address: the first word may, or nothing does. */
static void read_no_item_address(const struct rcv *r, struct mail_received *out)
{
	uint8_t ip[16];
	const struct tok *w0 = r->w0;
	bool lit = w0 && addr_parse(w0->s, w0->len, true, ip);
	bool bare = w0 && !lit && addr_parse(w0->s, w0->len, false, ip);
	if ((lit || bare) && (r->proto == PROTO_HTTP || (r->sig & SIG_HTTP))) {
		set_peer(out, MAIL_FORM_WEBMAIL, ip); /* the note is set by role_apply */
		return;
	}
	bool exim_items = false;
	for (size_t i = 0; i < r->n; i++)
		if (!r->it[i].word && r->it[i].m.kind == M_EXIM_ITEMS)
			exim_items = true;
	if (lit && (exim_items || (r->sig & SIG_EXIM))) {
		/* Exim without a verified name: from [ADDR] (port=N helo=HELO). */
		set_peer(out, MAIL_FORM_EXIM, ip);
		for (size_t i = 0; i < r->n; i++)
			if (!r->it[i].word && r->it[i].m.kind == M_EXIM_ITEMS && r->it[i].m.helo.len)
				copy_tok(out->helo, &r->it[i].m.helo);
		snprintf(out->note, sizeof(out->note), "Exim: from [ADDR] (helo=HELO), no verified "
			 "host name");
		return;
	}
	const struct match *cg = lit ? communigate_helo(r) : NULL;
	if (cg) {
		set_peer(out, MAIL_FORM_COMMUNIGATE, ip);
		copy_tok(out->helo, &cg->helo);
		snprintf(out->note, sizeof(out->note), "CommuniGate Pro: from [ADDR] (HELO x) or "
			 "(account USER HELO x): the address written first is the peer's, the HELO "
			 "in the comment; no reverse name recorded");
		return;
	}
	if (w0 && has_address(w0->s, w0->len)) {
		set_unreadable(out, w0, unknown_form);
		return;
	}
	out->kind = MAIL_RECEIVED_NO_PEER;
	copy_tok(out->helo, w0);
	snprintf(out->note, sizeof(out->note), "the from part records no address (local "
		 "submission or an internal hand-off)");
}

static void read_from_part(const struct rcv *r, struct mail_received *out)
{
	if (r->last < r->n && !r->it[r->last].word)
		read_comment_anchor(r, out);
	else if (r->last < r->n)
		read_word_anchor(r, out);
	else
		read_no_item_address(r, out);
}

/* Sendmail, given no HELO, writes the TCP-info as a comment: "(from NAME [ADDR]) by ...". */
static bool comment_from(struct rcv *r, size_t first_word)
{
	for (size_t i = 0; i < first_word; i++) {
		const struct tok *t = &r->lx.t[i];
		if (t->kind != TOK_COMMENT || t->unclosed || t->len < 6 ||
		    !starts_with_ci(t->s, t->len, "from") || !is_space((unsigned char)t->s[4]))
			continue;
		r->info = *t;
		r->info.s += 5;
		r->info.len -= 5;
		r->info.kind = TOK_COMMENT;
		r->w0 = NULL;
		r->in_comment = true;
		items_read(r, &r->info, 1);
		return true;
	}
	return false;
}

/* The "by" that ends the from part: the last one at the top level. The client's HELO comes
 * first in the header and may hold words of its own, "by" and a fake TCP-info among them;
 * what the receiving MTA writes after it comes last. Without a "by", the from part ends at the
 * first word that starts another clause, as RFC 5321 4.4 orders them. */
static size_t find_by(const struct rcv *r, size_t from)
{
	for (size_t i = r->end; i > from; i--)
		if (tok_is(&r->lx.t[i - 1], "by"))
			return i - 1;
	for (size_t i = from; i < r->end; i++)
		if (tok_is(&r->lx.t[i], "with") || tok_is(&r->lx.t[i], "via") ||
		    tok_is(&r->lx.t[i], "id") || tok_is(&r->lx.t[i], "for"))
			return i;
	return r->end;
}

/* The signature and the protocol from t[0..n): the by part after its host, up to "id" or
 * "for". */
static void signature_read(const struct tok *t, size_t n, struct rcv *r)
{
	for (size_t i = 0; i < n; i++) {
		if (tok_is(&t[i], "id") || tok_is(&t[i], "for"))
			break;
		if (t[i].kind == TOK_COMMENT) {
			r->sig |= sig_of(&t[i]);
			continue;
		}
		/* The MTA's name, when a word says it, is the protocol's place: "with Microsoft
		 * SMTP Server", "with [XMail ...]", "with Novell_GroupWise", "via listexpand". */
		if ((tok_is(&t[i], "with") || tok_is(&t[i], "via")) && i + 1 < n) {
			r->sig |= sig_of(&t[i + 1]);
			if (!r->proto)
				r->proto = proto_of(&t[i + 1]);
		}
	}
	if (r->sig & SIG_HTTP)
		r->proto = PROTO_HTTP;
}

/* ---- what the hop was for: pickups, webmail, hand-offs ---------------------------------- */

/* A hop whose protocol or MTA says more than the shape of its from part: the form is renamed
 * and the note says what its peer is and what must be trusted. */
static void role_apply(const struct rcv *r, struct mail_received *out)
{
	bool pickup = r->proto == PROTO_PICKUP || (r->sig & SIG_FETCHMAIL);
	if (out->kind != MAIL_RECEIVED_PEER || (r->proto == PROTO_OTHER && !pickup))
		return;
	uint8_t ip[16];
	bool w0_addr = r->w0 && (addr_parse(r->w0->s, r->w0->len, true, ip) ||
				 addr_parse(r->w0->s, r->w0->len, false, ip));
	if (pickup) {
		out->form = MAIL_FORM_PICKUP;
		out->handoff = true;
		out->helo[0] = '\0';
		out->rdns[0] = '\0';
		out->rdns_confirmed = false;
		if (r->w0 && !w0_addr) {
			/* The name the retriever was told to poll, and the address it resolved it to:
			 * a forward lookup by the reporter's own machine, as good as a confirmed
			 * reverse name. */
			copy_tok(out->rdns, r->w0);
			out->rdns_confirmed = !name_is_unknown(r->w0->s, r->w0->len);
			if (!out->rdns_confirmed)
				out->rdns[0] = '\0';
		}
		snprintf(out->note, sizeof(out->note), "a mailbox pickup (fetchmail, getmail: with "
			 "POP3/IMAP): NAME [ADDR] is the mailbox server the reporter's retriever "
			 "fetched from, ADDR what NAME resolved to (so NAME counts as confirmed); the "
			 "header below is that server's own. A mailbox server is never the sender: it "
			 "must be a trusted relay, or the walk stops");
	} else if (r->proto == PROTO_LMTP) {
		out->form = MAIL_FORM_LMTP;
		out->handoff = true;
		snprintf(out->note, sizeof(out->note), "an LMTP hand-off into the mailbox store, "
			 "inside the reporter's system: ADDR is the MTA that delivered it (loopback "
			 "when both run on one host), never the sender; it must be a trusted relay, or "
			 "the walk stops");
	} else if (r->proto == PROTO_LOCAL) {
		out->form = MAIL_FORM_LOCAL;
		out->handoff = true;
		snprintf(out->note, sizeof(out->note), "a local hand-off (with local) that records a "
			 "peer: a program on the receiving host, never the sender; it must be a "
			 "trusted relay, or the walk stops");
	} else if (r->proto == PROTO_HTTP && (w0_addr || r->webmail_mark ||
					      out->form == MAIL_FORM_COMMUNIGATE)) {
		out->form = MAIL_FORM_WEBMAIL;
		out->helo[0] = '\0';
		out->rdns[0] = '\0';
		out->rdns_confirmed = false;
		snprintf(out->note, sizeof(out->note), "webmail (with HTTP): ADDR is the web client's "
			 "as the web server saw it (a browser, or a proxy in front of it), who wrote "
			 "the message over HTTP, not an SMTP peer; no HELO, no reverse name");
	}
}

/* What submitted a message on the host itself, when the header says: the words for the note
 * of a local hand-off. NULL when it says nothing of the kind. */
static const char *local_kind(const struct rcv *r)
{
	if (r->proto == PROTO_LOCAL)
		return "with local";
	if (r->local_mark)
		return "OpenSMTPD's [local]";
	if ((r->sig & SIG_LOCAL) && r->in_comment)
		return "Sendmail's submission program, (from USER) ... /Submit";
	if (r->sig & SIG_LOCAL)
		return "Postfix's pickup, from userid N";
	if ((r->sig & SIG_MICROSOFT) && r->n == 2 && tok_is(r->it[0].t, "pickup") &&
	    tok_is(r->it[1].t, "service"))
		return "IIS's mail pickup service, a file dropped in its directory";
	return NULL;
}

/* A header without a peer: what it is, when its MTA or protocol says so. */
static void no_peer_form(const struct rcv *r, struct mail_received *out)
{
	static const struct {
		unsigned sig;
		enum proto proto;
		enum mail_received_form form;
		const char *note;
	} kinds[] = {
		{0, PROTO_LMTP, MAIL_FORM_LMTP, "an LMTP hand-off over a local socket: no network "
		 "peer"},
		{SIG_LIST, 0, MAIL_FORM_LIST, "a mailing list manager's own line (LISTSERV, "
		 "ZMailer's listexpand, Ecartis): the list re-sent the message, and the lines below "
		 "record how it reached the list"},
		{SIG_GROUPWISE, 0, MAIL_FORM_GROUPWISE, "GroupWise: from its message transfer agent "
		 "by HOST with Novell_GroupWise, a hand-off inside GroupWise, no network peer"},
		{SIG_SUN, 0, MAIL_FORM_SUN, "Sun/Oracle Messaging Server's internal channel (a "
		 "-daemon name): no network peer"},
		{0, PROTO_HTTP, MAIL_FORM_WEBMAIL, "webmail (with HTTP) that records no client "
		 "address"},
		{SIG_FETCHMAIL, PROTO_PICKUP, MAIL_FORM_PICKUP, "a mailbox pickup that records no "
		 "server address"},
	};
	const char *local = local_kind(r);
	if (local) {
		out->form = MAIL_FORM_LOCAL;
		snprintf(out->note, sizeof(out->note), "a local submission (%s): a program on the "
			 "receiving host handed the message in, no network peer", local);
		return;
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if ((kinds[k].sig && (r->sig & kinds[k].sig)) ||
		    (kinds[k].proto && r->proto == kinds[k].proto)) {
			out->form = kinds[k].form;
			snprintf(out->note, sizeof(out->note), "%s", kinds[k].note);
			return;
		}
}

/* ---- headers without a from part ------------------------------------------------------------ */

/* qmail's queue lines: "(qmail N invoked from network)" stands above the SMTP line the same
 * host wrote; "(qmail N invoked by uid N)" is a local submission. */
static bool read_qmail_queue(const struct rcv *r, size_t by, struct mail_received *out)
{
	if (by == 0 || r->lx.t[0].kind != TOK_COMMENT ||
	    !starts_with_ci(r->lx.t[0].s, r->lx.t[0].len, "qmail "))
		return false;
	const struct tok *c = &r->lx.t[0];
	bool network = false, local = false;
	for (size_t i = 0; i < c->len; i++) {
		network |= starts_with_ci(c->s + i, c->len - i, "invoked from network");
		local |= starts_with_ci(c->s + i, c->len - i, "invoked by ");
	}
	if (!network && !local)
		return false;
	out->kind = MAIL_RECEIVED_NO_PEER;
	if (network) {
		out->form = MAIL_FORM_QMAIL_QUEUE;
		snprintf(out->note, sizeof(out->note), "qmail's queue line for a message from the "
			 "network: its peer is on the SMTP line below, which the same host wrote");
	} else {
		out->form = MAIL_FORM_LOCAL;
		snprintf(out->note, sizeof(out->note), "qmail invoked by a uid or an alias: a local "
			 "submission or a forward, no network peer");
	}
	return true;
}

/* MDaemon's "HELO [(ADDR)] by HOST (ADDR) (MDaemon ...)", which has no "from". */
static bool read_mdaemon_nofrom(const struct rcv *r, size_t by, struct mail_received *out)
{
	const struct tok *t = r->lx.t;
	struct match m;
	if (!(r->sig & SIG_MDAEMON) || by != 4 || t[0].kind != TOK_WORD || !tok_is(&t[1], "[") ||
	    t[2].kind != TOK_COMMENT || !tok_is(&t[3], "]"))
		return false;
	match_comment(&t[2], &m);
	if (m.kind != M_BARE)
		return false;
	set_peer(out, MAIL_FORM_MDAEMON, m.ip);
	copy_tok(out->helo, &t[0]);
	snprintf(out->note, sizeof(out->note), "MDaemon: HELO [(ADDR)] by HOST (ADDR), without "
		 "\"from\": the first address is the peer's, the name its HELO");
	return true;
}

static void read_no_from(const struct rcv *r, size_t by, struct mail_received *out)
{
	if (read_qmail_queue(r, by, out) || read_mdaemon_nofrom(r, by, out))
		return;
	/* Gmail's "by HOST with SMTP id", Postfix's "by HOST (Postfix, from userid N)", unless an
	 * address stands before "by" in some form we do not know. */
	for (size_t i = 0; i < by && i < r->end; i++)
		if (has_address(r->lx.t[i].s, r->lx.t[i].len)) {
			out->kind = MAIL_RECEIVED_UNREADABLE;
			snprintf(out->note, sizeof(out->note), "no from part, but an address before "
				 "\"by\" in a form not known here");
			return;
		}
	out->kind = MAIL_RECEIVED_NO_PEER;
	snprintf(out->note, sizeof(out->note), "no from part: the receiving host records no peer");
	no_peer_form(r, out);
}

void mail_received_parse(const char *s, size_t len, struct mail_received *out)
{
	memset(out, 0, sizeof(*out));
	struct rcv r;
	r.n = r.last = r.helo_rec = 0;
	r.w0 = NULL;
	r.have_from = r.in_comment = r.webmail_mark = r.local_mark = false;
	r.sig = 0;
	r.proto = PROTO_OTHER;
	lex(s, len, &r.lx);
	/* The date follows the last ';' at the top level (RFC 5322 3.6.7). */
	r.end = r.lx.n;
	for (size_t i = r.lx.n; i > 0; i--)
		if (r.lx.t[i - 1].kind == TOK_SEMI) {
			r.end = i - 1;
			break;
		}
	size_t first_word = r.end;
	for (size_t i = 0; i < r.end; i++)
		if (r.lx.t[i].kind == TOK_WORD) {
			first_word = i;
			break;
		}
	size_t after = 0;
	if (first_word < r.end && tok_is(&r.lx.t[first_word], "from")) {
		r.have_from = true;
		size_t i = first_word + 1;
		if (i < r.end && r.lx.t[i].kind == TOK_WORD)
			r.w0 = &r.lx.t[i++];
		r.by = find_by(&r, i);
		items_read(&r, r.lx.t + i, r.by - i);
		after = r.by;
	} else {
		r.have_from = comment_from(&r, first_word);
		r.by = find_by(&r, first_word < r.end ? first_word : r.end);
		after = r.by;
	}
	if (r.by < r.end && tok_is(&r.lx.t[r.by], "by") && r.by + 1 < r.end &&
	    r.lx.t[r.by + 1].kind == TOK_WORD) {
		copy_tok(out->by, &r.lx.t[r.by + 1]);
		signature_read(r.lx.t + r.by + 2, r.end - r.by - 2, &r);
	} else if (!r.have_from) {
		signature_read(r.lx.t, r.end, &r); /* "with ECARTIS (...)": no by, no from */
	}
	if (!r.have_from) {
		read_no_from(&r, after, out);
		return;
	}
	read_from_part(&r, out);
	role_apply(&r, out);
	if (out->kind == MAIL_RECEIVED_NO_PEER)
		no_peer_form(&r, out);
}

const char *mail_received_form_name(enum mail_received_form f)
{
	static const char *const names[MAIL_FORM_COUNT] = {
		[MAIL_FORM_NONE] = "none",
		[MAIL_FORM_TCP_INFO] = "tcp-info",
		[MAIL_FORM_EXIM] = "exim",
		[MAIL_FORM_QMAIL] = "qmail",
		[MAIL_FORM_MICROSOFT] = "microsoft",
		[MAIL_FORM_BARE] = "bare",
		[MAIL_FORM_BRACKET] = "bracket",
		[MAIL_FORM_IMAIL] = "imail",
		[MAIL_FORM_MDAEMON] = "mdaemon",
		[MAIL_FORM_PICKUP] = "pickup",
		[MAIL_FORM_COMMUNIGATE] = "communigate",
		[MAIL_FORM_XMAIL] = "xmail",
		[MAIL_FORM_GMX] = "gmx",
		[MAIL_FORM_ZMAILER] = "zmailer",
		[MAIL_FORM_DOMINO] = "domino",
		[MAIL_FORM_GROUPWISE] = "groupwise",
		[MAIL_FORM_KERIO] = "kerio",
		[MAIL_FORM_SUN] = "sun-messaging",
		[MAIL_FORM_WEBMAIL] = "webmail",
		[MAIL_FORM_LMTP] = "lmtp",
		[MAIL_FORM_LOCAL] = "local",
		[MAIL_FORM_QMAIL_QUEUE] = "qmail-queue",
		[MAIL_FORM_LIST] = "list",
	};
	if ((unsigned)f >= MAIL_FORM_COUNT || !names[f])
		return "none";
	return names[f];
}
