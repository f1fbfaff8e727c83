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

static bool tok_is(const struct tok *t, const char *w)
{
	size_t n = strlen(w);
	return t->kind == TOK_WORD && t->len == n && strncasecmp(t->s, w, n) == 0;
}

static bool starts_with_ci(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && strncasecmp(s, prefix, n) == 0;
}

/* The words that start a clause of RFC 5321 4.4's Stamp after "from". */
static bool tok_is_keyword(const struct tok *t)
{
	return tok_is(t, "by") || tok_is(t, "with") || tok_is(t, "via") || tok_is(t, "id") ||
	       tok_is(t, "for");
}

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

/* Whether s[0..len) holds anything that reads as an address: the runs of characters an
 * address is written with, each tried as one. Used only to tell "records no address" from
 * "records one we cannot place", so erring towards yes is the safe side. */
static bool has_address(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && (strchr("0123456789abcdefABCDEF:.", s[j]) && s[j] != '\0'))
			j++;
		if (j - i >= 2) {
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

/* Postfix writes "unknown" when the name did not confirm, OpenSMTPD "<unknown>". */
static bool name_is_unknown(const char *s, size_t len)
{
	return (len == 7 && strncasecmp(s, "unknown", 7) == 0) ||
	       (len == 9 && strncasecmp(s, "<unknown>", 9) == 0);
}

static bool word_is_literal(const struct tok *t)
{
	return t && t->len > 0 && t->s[0] == '[';
}

/* ---- the comments of the "from" part ------------------------------------------------------ */

enum match_kind {
	M_NONE = 0,
	M_BRACKET,    /* "NAME [ADDR]", "[ADDR]" (RFC 5321 TCP-info), "NAME IPv6:ADDR" (OpenSMTPD) */
	M_EXIM_ADDR,  /* "[ADDR]:PORT helo=HELO ident=ID" */
	M_EXIM_ITEMS, /* "port=PORT helo=HELO": Exim's comment when the address came first */
	M_BARE,       /* "ADDR" or "IDENT@ADDR": qmail, Exchange */
	M_HELO,       /* "HELO name" or "EHLO name": qmail's and Yahoo's record of the HELO */
};

struct match {
	enum match_kind kind;
	uint8_t ip[16];
	struct tok name; /* the reverse name in M_BRACKET, .len 0 if none */
	struct tok helo; /* the HELO in M_HELO and the Exim forms, .len 0 if none */
	bool forged;     /* Sendmail's "(may be forged)" beside the name */
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

/* "[IDENT@]NAME [ADDR]" or "[IDENT@]NAME IPv6:ADDR": the name part, ident dropped. */
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

/* "ADDR", "IDENT@ADDR", "IDENT@[ADDR]". */
static bool bare_address(const struct tok *w, uint8_t ip[16])
{
	const char *s = w->s;
	size_t len = w->len;
	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == '@') {
			s += i;
			len -= i;
			break;
		}
	return addr_parse(s, len, false, ip) || (s != w->s && addr_parse(s, len, true, ip));
}

/* Reads one comment of the "from" part as one of the forms above. */
static void match_comment(const struct tok *c, struct match *m)
{
	memset(m, 0, sizeof(*m));
	if (c->unclosed)
		return; /* a truncated comment: its structure cannot be trusted */
	struct lexed sub;
	lex(c->s, c->len, &sub);
	struct tok w[RCV_TOKENS_MAX];
	size_t n = 0;
	for (size_t i = 0; i < sub.n; i++) {
		if (sub.t[i].kind == TOK_WORD)
			w[n++] = sub.t[i];
		else if (sub.t[i].kind == TOK_COMMENT && sub.t[i].len == 13 &&
			 strncasecmp(sub.t[i].s, "may be forged", 13) == 0)
			m->forged = true;
	}
	if (n == 0)
		return;
	if (n == 2 && (tok_is(&w[0], "HELO") || tok_is(&w[0], "EHLO"))) {
		m->kind = M_HELO;
		m->helo = w[1];
	} else if (addr_parse(w[0].s, w[0].len, true, m->ip)) {
		if (n == 1) {
			m->kind = M_BRACKET;
		} else if (all_items(w, 1, n)) {
			m->kind = M_EXIM_ADDR;
			exim_helo(w, 1, n, m);
		}
	} else if (n == 2 && (addr_parse(w[1].s, w[1].len, true, m->ip) ||
			      (starts_with_ci(w[1].s, w[1].len, "IPv6:") &&
			       addr_parse(w[1].s, w[1].len, false, m->ip)))) {
		if (tcpinfo_name(&w[0], m))
			m->kind = M_BRACKET;
	} else if (n == 1 && bare_address(&w[0], m->ip)) {
		m->kind = M_BARE;
	} else if (all_items(w, 0, n)) {
		m->kind = M_EXIM_ITEMS;
		exim_helo(w, 0, n, m);
	}
}

/* ---- the header ---------------------------------------------------------------------------- */

/* What the "by" part says about the MTA that wrote the header. Only what that MTA writes
 * itself counts: comments before "id" and "for" (the envelope recipient and sender that may
 * follow are the client's words). */
struct signature {
	bool exim, opensmtpd, microsoft;
};

struct from_part {
	const struct tok *w0;    /* the word after "from", whatever it is (a HELO may be "by") */
	const struct tok *items; /* the tokens after it, up to the next clause */
	size_t n_items;
	bool in_comment;         /* Sendmail's "(from NAME [ADDR])", given no HELO */
};

/* The "from" part of tokens t[0..n) that follow the word "from"; returns the count used. */
static size_t from_part_read(const struct tok *t, size_t n, struct from_part *fp)
{
	size_t i = 0;
	fp->w0 = NULL;
	fp->in_comment = false;
	if (n > 0 && t[0].kind == TOK_WORD)
		fp->w0 = &t[i++];
	size_t first = i;
	while (i < n && !(t[i].kind == TOK_WORD && tok_is_keyword(&t[i])) && t[i].kind != TOK_SEMI)
		i++;
	fp->items = t + first;
	fp->n_items = i - first;
	return i;
}

static void signature_read(const struct tok *t, size_t n, struct signature *sig)
{
	for (size_t i = 0; i < n; i++) {
		if (tok_is(&t[i], "id") || tok_is(&t[i], "for"))
			break;
		if (t[i].kind == TOK_COMMENT) {
			if (t[i].len > 6 && strncasecmp(t[i].s, "Exim ", 5) == 0 && t[i].s[5] >= '0' &&
			    t[i].s[5] <= '9')
				sig->exim = true;
			if (t[i].len == 9 && strncasecmp(t[i].s, "OpenSMTPD", 9) == 0)
				sig->opensmtpd = true;
		} else if (tok_is(&t[i], "Microsoft") || tok_is(&t[i], "mapi") ||
			   starts_with_ci(t[i].s, t[i].len, "SMTPSVC(")) {
			sig->microsoft = true;
		}
	}
}

/* Whether the comments and words after the first word of the from part hold an address,
 * leaving out what names the HELO (qmail's "(HELO x)", Exim's "helo=x"). */
static bool items_have_address(const struct from_part *fp)
{
	for (size_t i = 0; i < fp->n_items; i++) {
		const struct tok *t = &fp->items[i];
		if (t->kind != TOK_COMMENT) {
			if (has_address(t->s, t->len))
				return true;
			continue;
		}
		if (starts_with_ci(t->s, t->len, "HELO ") || starts_with_ci(t->s, t->len, "EHLO "))
			continue;
		struct lexed sub;
		lex(t->s, t->len, &sub);
		for (size_t j = 0; j < sub.n; j++)
			if (!starts_with_ci(sub.t[j].s, sub.t[j].len, "helo=") &&
			    has_address(sub.t[j].s, sub.t[j].len))
				return true;
	}
	return false;
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

/* The bracketed forms: RFC 5321's TCP-info and Exim's. */
static void read_bracketed(const struct from_part *fp, const struct match *m,
			   const struct signature *sig, struct mail_received *out)
{
	bool w0_name = fp->w0 && !word_is_literal(fp->w0);
	if (m->kind == M_EXIM_ADDR || (m->kind == M_BRACKET && m->name.len == 0 && sig->exim)) {
		/* Exim writes its verified host name first, the HELO only when it differs. */
		set_peer(out, MAIL_FORM_EXIM, m->ip);
		if (w0_name)
			set_rdns(out, fp->w0, true);
		if (m->helo.len)
			copy_tok(out->helo, &m->helo);
		else if (w0_name)
			copy_tok(out->helo, fp->w0);
		snprintf(out->note, sizeof(out->note), "Exim: from NAME ([ADDR] helo=HELO), NAME "
			 "being the host name Exim verified");
		return;
	}
	set_peer(out, sig->microsoft ? MAIL_FORM_MICROSOFT : MAIL_FORM_TCP_INFO, m->ip);
	copy_tok(out->helo, fp->w0);
	bool confirmed = !m->forged && !sig->opensmtpd;
	set_rdns(out, &m->name, confirmed);
	if (m->forged)
		snprintf(out->note, sizeof(out->note), "from HELO (NAME [ADDR] (may be forged)): "
			 "the MTA (Sendmail) says the name did not confirm");
	else if (sig->opensmtpd && out->rdns[0])
		snprintf(out->note, sizeof(out->note), "from HELO (NAME [ADDR]) by OpenSMTPD, which "
			 "records the reverse name without checking it forward");
	else if (sig->microsoft)
		snprintf(out->note, sizeof(out->note), "Microsoft: from HELO ([ADDR]), no reverse "
			 "name recorded");
	else if (fp->in_comment)
		snprintf(out->note, sizeof(out->note), "(from NAME [ADDR]): Sendmail's TCP-info when "
			 "the client sent no HELO");
	else
		snprintf(out->note, sizeof(out->note), "from HELO (NAME [ADDR]), RFC 5321 TCP-info%s",
			 m->name.len ? "" : " without a name");
}

/* The bare forms: qmail's "from NAME (HELO x) (ADDR)" and Exchange's "from HELO (ADDR)". */
static void read_bare(const struct from_part *fp, const struct match *m, const struct tok *helo,
		      const struct signature *sig, struct mail_received *out)
{
	if (helo) {
		set_peer(out, MAIL_FORM_QMAIL, m->ip);
		set_rdns(out, fp->w0, false);
		copy_tok(out->helo, helo);
		snprintf(out->note, sizeof(out->note), "qmail: from NAME (HELO x) (ADDR), or EHLO "
			 "as Yahoo writes it; NAME is tcpserver's reverse lookup, not checked forward");
	} else if (sig->microsoft) {
		set_peer(out, MAIL_FORM_MICROSOFT, m->ip);
		copy_tok(out->helo, fp->w0);
		snprintf(out->note, sizeof(out->note), "Microsoft Exchange: from HELO (ADDR), no "
			 "reverse name recorded");
	} else {
		set_peer(out, MAIL_FORM_BARE, m->ip);
		copy_tok(out->helo, fp->w0);
		snprintf(out->note, sizeof(out->note), "from NAME (ADDR) with no MTA's signature: "
			 "NAME could be a HELO (Exchange writes one there), so it is taken as one");
	}
}

static void read_from_part(const struct from_part *fp, const struct signature *sig,
			   struct mail_received *out)
{
	struct match m, bracketed, bare, items;
	memset(&bracketed, 0, sizeof(bracketed));
	memset(&bare, 0, sizeof(bare));
	memset(&items, 0, sizeof(items));
	bool have_bracketed = false, have_bare = false, have_items = false;
	const struct tok *helo = NULL;
	/* The last comment of a form wins: the client's HELO comes before what the MTA writes
	 * and cannot push anything after it; the bracketed forms win over the bare ones. */
	for (size_t i = 0; i < fp->n_items; i++) {
		if (fp->items[i].kind != TOK_COMMENT)
			continue;
		match_comment(&fp->items[i], &m);
		if (m.kind == M_BRACKET || m.kind == M_EXIM_ADDR) {
			bracketed = m;
			have_bracketed = true;
		} else if (m.kind == M_BARE) {
			bare = m;
			have_bare = true;
		} else if (m.kind == M_EXIM_ITEMS) {
			items = m;
			have_items = true;
		} else if (m.kind == M_HELO) {
			helo = &fp->items[i];
		}
	}
	if (have_bracketed) {
		read_bracketed(fp, &bracketed, sig, out);
		return;
	}
	if (have_bare) {
		struct tok h;
		if (helo) {
			match_comment(helo, &m);
			h = m.helo;
		}
		read_bare(fp, &bare, helo ? &h : NULL, sig, out);
		return;
	}
	uint8_t ip[16];
	if (fp->w0 && addr_parse(fp->w0->s, fp->w0->len, true, ip) &&
	    (have_items || (sig->exim && !items_have_address(fp)))) {
		/* Exim without a verified name: from [ADDR] (port=N helo=HELO). */
		set_peer(out, MAIL_FORM_EXIM, ip);
		if (have_items && items.helo.len)
			copy_tok(out->helo, &items.helo);
		snprintf(out->note, sizeof(out->note), "Exim: from [ADDR] (helo=HELO), no verified "
			 "host name");
		return;
	}
	if ((fp->w0 && has_address(fp->w0->s, fp->w0->len)) || items_have_address(fp)) {
		out->kind = MAIL_RECEIVED_UNREADABLE;
		copy_tok(out->helo, fp->w0);
		snprintf(out->note, sizeof(out->note), "the from part holds an address in no form "
			 "known here, so whether it is the peer's or the HELO's cannot be told");
		return;
	}
	out->kind = MAIL_RECEIVED_NO_PEER;
	copy_tok(out->helo, fp->w0);
	snprintf(out->note, sizeof(out->note), "the from part records no address (local "
		 "submission or an internal hand-off)");
}

/* The index of the first top-level word "by" in t[from..end), or end. */
static size_t find_by(const struct lexed *lx, size_t from, size_t end)
{
	for (size_t i = from; i < end; i++)
		if (tok_is(&lx->t[i], "by"))
			return i;
	return end;
}

/* Sendmail, given no HELO, writes the TCP-info as a comment: "(from NAME [ADDR]) by ...". */
static bool comment_from(const struct lexed *lx, size_t first_word, struct tok *info,
			 struct from_part *fp, size_t *after)
{
	for (size_t i = 0; i < first_word; i++) {
		const struct tok *t = &lx->t[i];
		if (t->kind != TOK_COMMENT || t->unclosed || t->len < 6 ||
		    !starts_with_ci(t->s, t->len, "from") || !is_space((unsigned char)t->s[4]))
			continue;
		*info = *t;
		info->s += 5;
		info->len -= 5;
		fp->w0 = NULL;
		fp->items = info;
		fp->n_items = 1;
		fp->in_comment = true;
		*after = i + 1;
		return true;
	}
	return false;
}

void mail_received_parse(const char *s, size_t len, struct mail_received *out)
{
	memset(out, 0, sizeof(*out));
	struct lexed lx;
	lex(s, len, &lx);
	/* The date follows the last ';' at the top level (RFC 5322 3.6.7). */
	size_t end = lx.n;
	for (size_t i = lx.n; i > 0; i--)
		if (lx.t[i - 1].kind == TOK_SEMI) {
			end = i - 1;
			break;
		}
	size_t first_word = end;
	for (size_t i = 0; i < end; i++)
		if (lx.t[i].kind == TOK_WORD) {
			first_word = i;
			break;
		}
	struct from_part fp;
	struct tok info;
	bool have_from = false;
	size_t after = 0;
	if (first_word < end && tok_is(&lx.t[first_word], "from")) {
		size_t used = from_part_read(lx.t + first_word + 1, end - first_word - 1, &fp);
		have_from = true;
		after = first_word + 1 + used;
	} else {
		have_from = comment_from(&lx, first_word, &info, &fp, &after);
	}
	struct signature sig = {false, false, false};
	size_t by = find_by(&lx, after, end);
	if (by < end && by + 1 < end && lx.t[by + 1].kind == TOK_WORD) {
		copy_tok(out->by, &lx.t[by + 1]);
		signature_read(lx.t + by + 2, end - by - 2, &sig);
	}
	if (have_from) {
		read_from_part(&fp, &sig, out);
		return;
	}
	/* No from part: Gmail's "by HOST with SMTP id", qmail's "(qmail N invoked from network)",
	 * unless an address stands before "by" in some form we do not know. */
	for (size_t i = 0; i < by && i < end; i++)
		if (has_address(lx.t[i].s, lx.t[i].len)) {
			out->kind = MAIL_RECEIVED_UNREADABLE;
			snprintf(out->note, sizeof(out->note), "no from part, but an address before "
				 "\"by\" in a form not known here");
			return;
		}
	out->kind = MAIL_RECEIVED_NO_PEER;
	snprintf(out->note, sizeof(out->note), "no from part: the receiving host records no peer");
}

const char *mail_received_form_name(enum mail_received_form f)
{
	switch (f) {
	case MAIL_FORM_NONE: return "none";
	case MAIL_FORM_TCP_INFO: return "tcp-info";
	case MAIL_FORM_EXIM: return "exim";
	case MAIL_FORM_QMAIL: return "qmail";
	case MAIL_FORM_MICROSOFT: return "microsoft";
	case MAIL_FORM_BARE: return "bare";
	}
	return "none";
}
