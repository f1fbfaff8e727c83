/* mail_classify_mask.c - the parts of a trap message kept and shown: the header section, and
 * trap addresses masked wherever a sample is shown. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mail_internal.h"

size_t mail_header_length(const char *msg, size_t len)
{
	/* The header section ends at the first empty line (RFC 5322 2.1), CRLF or bare LF. */
	for (size_t i = 0; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (i + 1 < len && msg[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* ---- masking trap addresses ------------------------------------------------------------
 *
 * What a moderator sees of a sample must not teach anyone a trap address, however the sender
 * wrote it. So an address is read the way a mail reader would read it, not only as a
 * dot-atom: a local part may be quoted ("a b"@trap.example) or mix quoted and plain pieces
 * (RFC 5322 3.4.1 and its obsolete forms), blanks and folded lines (CRLF followed by a blank,
 * 2.2.3) may stand around the '@' and the domain's dots (4.4), and the whole address may sit
 * inside RFC 2047 encoded words (=?utf-8?q?jane=40trap.example?=), split over several of them
 * and over lines. Every trap address found becomes "***@domain": its local part, and even its
 * length, are gone. Comments inside an address (jane(x)@trap.example) are not read.
 *
 * The work is linear in the text: a quoted string is scanned once, and one that never ends is
 * remembered as such (every quote after it up to the end of the field would not end either);
 * a token that is no address is passed over whole. */

#define MASK "***"
#define LOCAL_MAX 256   /* RFC 5321 4.5.3.1.3's path: a longer local part is no trap address */
#define DOMAIN_MAX 255
#define DECODE_DEPTH 8  /* encoded words inside decoded words, as deep as anyone nests them */

struct mbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct mbuf *b, const char *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *g = realloc(b->p, cap);
		if (!g) {
			b->oom = true;
			return;
		}
		b->p = g;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* atext (RFC 5322 3.2.3), the dot of a dot-atom, and UTF-8 (RFC 6532 3.2). */
static bool local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

static bool domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* The length of a line break that is a fold (CRLF or a bare LF, then a blank) at t[i], or 0. */
static size_t fold_at(const char *t, size_t n, size_t i)
{
	size_t k = i;
	if (k < n && t[k] == '\r')
		k++;
	if (k < n && t[k] == '\n' && k + 1 < n && (t[k + 1] == ' ' || t[k + 1] == '\t'))
		return k + 1 - i;
	return 0;
}

/* Past blanks and folds from i. */
static size_t skip_fws(const char *t, size_t n, size_t i)
{
	for (;;) {
		if (i < n && (t[i] == ' ' || t[i] == '\t')) {
			i++;
			continue;
		}
		size_t f = fold_at(t, n, i);
		if (!f)
			return i;
		i += f;
	}
}

struct scan {
	const char *t;
	size_t n;
	const char *domains, *addresses;
	size_t masked;
	/* The quoted string opening at unended_from runs to unended_to, the end of its field
	 * (or of the text), and so does every one opening between the two: their quotes are the
	 * escaped ones it passed over, and from each the same characters follow. */
	size_t unended_from, unended_to;
	struct mbuf *out;
};

/* The end (after the closing quote) of the quoted string opening at t[i], or 0 when it does
 * not end within its header field (a line break that is no fold ends the field). */
static size_t quoted_end(struct scan *sc, size_t i)
{
	const char *t = sc->t;
	size_t n = sc->n;
	if (i >= sc->unended_from && i < sc->unended_to)
		return 0;
	for (size_t k = i + 1; k < n;) {
		if (t[k] == '"')
			return k + 1;
		if (t[k] == '\r' || t[k] == '\n') {
			size_t f = fold_at(t, n, k);
			if (!f) {
				sc->unended_from = i;
				sc->unended_to = k;
				return 0;
			}
			k += f;
		} else if (t[k] == '\\' && k + 1 < n && t[k + 1] != '\r' && t[k + 1] != '\n') {
			k += 2;
		} else {
			k++;
		}
	}
	sc->unended_from = i;
	sc->unended_to = n;
	return 0;
}

/* True when one comma/blank separated item of list equals s[0..n) without case. */
static bool list_has(const char *list, const char *s, size_t n)
{
	for (const char *p = list; p && *p;) {
		p += strspn(p, ", \t");
		size_t l = strcspn(p, ", \t");
		if (l == n && l > 0 && strncasecmp(p, s, n) == 0)
			return true;
		p += l;
	}
	return false;
}

/* A local part: plain and (with quotes) quoted pieces, side by side, from i. Returns its
 * end; what it means (quotes, escapes and folds gone) is added to local[0..*local_len), which
 * counts on past LOCAL_MAX when it is too long. */
static size_t token_read(struct scan *sc, size_t i, bool quotes, char local[LOCAL_MAX],
			 size_t *local_len)
{
	const char *t = sc->t;
	size_t n = sc->n, l = *local_len;
	for (;;) {
		if (i < n && local_char((unsigned char)t[i])) {
			for (; i < n && local_char((unsigned char)t[i]); i++)
				if (l++ < LOCAL_MAX)
					local[l - 1] = t[i];
			continue;
		}
		size_t e = quotes && i < n && t[i] == '"' ? quoted_end(sc, i) : 0;
		if (!e)
			break;
		for (size_t k = i + 1; k + 1 < e; k++) {
			if (t[k] == '\r' || t[k] == '\n')
				continue;
			if (t[k] == '\\')
				k++;
			if (l++ < LOCAL_MAX)
				local[l - 1] = t[k];
		}
		i = e;
	}
	*local_len = l;
	return i;
}

/* After a local part ending at i: blanks, '@', blanks, then a domain whose labels may have
 * blanks and folds around their dots. The longest domain read that is a trap (or makes
 * local@domain one of the trap addresses) wins, unless the text goes on right after it with
 * a dot and a label (x@trap.example.org is not at trap.example); "x@trap.example. Next"
 * ends a sentence after trap.example. Returns the end of the address, domain its name (its
 * labels and dots) and *dstart where it starts; 0: no trap address. */
static size_t trap_after(struct scan *sc, size_t i, const char *local, size_t local_len,
			 char domain[DOMAIN_MAX + 1], size_t *dstart)
{
	const char *t = sc->t;
	size_t n = sc->n;
	i = skip_fws(t, n, i);
	if (i >= n || t[i] != '@')
		return 0;
	i = skip_fws(t, n, i + 1);
	*dstart = i;
	char d[DOMAIN_MAX + 1], addr[LOCAL_MAX + 1 + DOMAIN_MAX + 1];
	size_t dl = 0, best = 0;
	while (i < n && domain_char((unsigned char)t[i])) {
		size_t e = i;
		while (e < n && domain_char((unsigned char)t[e]))
			e++;
		if (dl + (dl > 0) + (e - i) > DOMAIN_MAX)
			break;
		if (dl)
			d[dl++] = '.';
		memcpy(d + dl, t + i, e - i);
		dl += e - i;
		d[dl] = '\0';
		bool goes_on = e + 1 < n && t[e] == '.' && domain_char((unsigned char)t[e + 1]);
		if (!goes_on) {
			bool trap = sc->domains && list_has(sc->domains, d, dl);
			if (!trap && sc->addresses && local_len <= LOCAL_MAX) {
				memcpy(addr, local, local_len);
				addr[local_len] = '@';
				memcpy(addr + local_len + 1, d, dl);
				trap = list_has(sc->addresses, addr, local_len + 1 + dl);
			}
			if (trap) {
				memcpy(domain, d, dl + 1);
				best = e;
			}
		}
		size_t k = skip_fws(t, n, e);
		if (k >= n || t[k] != '.')
			break;
		i = skip_fws(t, n, k + 1);
	}
	return best;
}

static void scan_text(struct scan *sc, bool quotes);

/* A quoted string's content, read on its own for addresses written inside it (a display name
 * "jane@trap.example" <...>); quotes inside it are escaped ones, plain characters here. */
static void scan_quoted(struct scan *sc, size_t from, size_t to)
{
	struct scan inner = *sc;
	inner.t = sc->t + from;
	inner.n = to - from;
	inner.unended_from = inner.unended_to = 0;
	inner.masked = 0;
	scan_text(&inner, false);
	sc->masked += inner.masked;
}

static void scan_text(struct scan *sc, bool quotes)
{
	const char *t = sc->t;
	size_t n = sc->n, i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)t[i];
		bool start = local_char(c) || (quotes && c == '"' && quoted_end(sc, i));
		if (!start) {
			put(sc->out, t + i, 1);
			i++;
			continue;
		}
		char local[LOCAL_MAX], domain[DOMAIN_MAX + 1];
		size_t local_len = 0;
		size_t end = token_read(sc, i, quotes, local, &local_len);
		if (end == i) { /* cannot be (start says a piece is here); never stand still */
			put(sc->out, t + i, 1);
			i++;
			continue;
		}
		size_t dstart, aend = trap_after(sc, end, local, local_len, domain, &dstart);
		if (aend) {
			/* The local part becomes MASK; the rest stays as written. The domain may also
			 * begin the local part of a second trap address, after an '@'
			 * (x@trap.example@b.example) or with more glued to it
			 * (x@y.example/z@b.example): that one goes too. */
			for (;;) {
				put(sc->out, MASK, strlen(MASK));
				sc->masked++;
				local_len = strlen(domain); /* DOMAIN_MAX < LOCAL_MAX */
				memcpy(local, domain, local_len);
				size_t lend = token_read(sc, aend, quotes, local, &local_len), ds2;
				size_t e = trap_after(sc, lend, local, local_len, domain, &ds2);
				if (!e)
					break;
				put(sc->out, t + end, dstart - end);
				end = lend;
				dstart = ds2;
				aend = e;
			}
			put(sc->out, t + end, aend - end);
			i = aend;
			continue;
		}
		/* No address: the token as it is, its quoted pieces read inside. */
		while (i < end) {
			size_t e = t[i] == '"' ? quoted_end(sc, i) : 0;
			if (!e) {
				put(sc->out, t + i, 1);
				i++;
				continue;
			}
			put(sc->out, "\"", 1);
			scan_quoted(sc, i + 1, e - 1);
			put(sc->out, "\"", 1);
			i = e;
		}
	}
}

/* ---- RFC 2047 encoded words ------------------------------------------------------------- */

/* The length of the encoded word =?charset?B|Q?text?= at t[i], or 0. */
static size_t word_len(const char *t, size_t n, size_t i)
{
	if (i + 1 >= n || t[i] != '=' || t[i + 1] != '?')
		return 0;
	size_t k = i + 2, from = k;
	while (k < n && t[k] != '?' && t[k] > ' ' && t[k] < 0x7f)
		k++;
	if (k == from || k + 2 >= n || t[k] != '?' || t[k + 2] != '?' ||
	    (t[k + 1] != 'B' && t[k + 1] != 'b' && t[k + 1] != 'Q' && t[k + 1] != 'q'))
		return 0;
	for (k += 3; k < n && t[k] != '?' && t[k] > ' ' && t[k] < 0x7f; k++)
		;
	return k + 1 < n && t[k] == '?' && t[k + 1] == '=' ? k + 2 - i : 0;
}

static void decode_into(const char *t, size_t n, struct mbuf *out, unsigned depth);

/* The decoded text of the run t[0..n) of encoded words, in UTF-8 by GMime, with control
 * characters as blanks (no decoded line break may pass for a new header line), and with the
 * encoded words it may itself hold decoded too. false: nothing decoded (out unchanged). */
static bool run_decode(const char *t, size_t n, struct mbuf *out, unsigned depth)
{
	char *run = strndup(t, n);
	if (!run) {
		out->oom = true;
		return false;
	}
	mail_gmime_ready();
	char *dec = g_mime_utils_header_decode_text(NULL, run);
	free(run);
	if (!dec)
		return false;
	bool at = strchr(dec, '@') != NULL;
	if (at) {
		for (unsigned char *p = (unsigned char *)dec; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				*p = ' ';
		decode_into(dec, strlen(dec), out, depth + 1);
	}
	g_free(dec);
	return at;
}

/* t[0..n) into out, every run of encoded words (separated by blanks and folds only) that
 * decodes to something with an '@' in it replaced by its decoded text, so that the address
 * scan reads what a mail reader shows. Runs without an '@' stay as they are: an address split
 * between an encoded word and plain text is read by the scan as one token. */
static void decode_into(const char *t, size_t n, struct mbuf *out, unsigned depth)
{
	size_t i = 0, copied = 0;
	while (depth < DECODE_DEPTH && i + 1 < n) {
		size_t w = t[i] == '=' && t[i + 1] == '?' ? word_len(t, n, i) : 0;
		if (!w) {
			i++;
			continue;
		}
		size_t end = i + w;
		for (;;) {
			size_t k = skip_fws(t, n, end), w2 = word_len(t, n, k);
			if (!w2)
				break;
			end = k + w2;
		}
		put(out, t + copied, i - copied);
		size_t mark = out->len;
		if (!run_decode(t + i, end - i, out, depth)) {
			out->len = mark;
			put(out, t + i, end - i);
		}
		i = copied = end;
	}
	put(out, t + copied, n - copied);
}

char *mail_mask_traps(const char *text, size_t len, const char *domains, const char *addresses,
		      size_t *out_len, size_t *masked)
{
	struct mbuf dec = { 0 }, out = { 0 };
	const char *t = text ? text : "";
	if (!text)
		len = 0;
	bool words = false;
	for (size_t i = 0; i + 1 < len && !words; i++)
		words = t[i] == '=' && t[i + 1] == '?';
	if (words) {
		decode_into(t, len, &dec, 0);
		if (dec.oom) {
			free(dec.p);
			return NULL;
		}
		t = dec.p ? dec.p : "";
		len = dec.len;
	}
	struct scan sc = { .t = t, .n = len, .domains = domains, .addresses = addresses,
			   .out = &out };
	put(&out, "", 0);
	scan_text(&sc, true);
	free(dec.p);
	if (!out.oom && !out.p) { /* nothing to copy: an empty string */
		out.p = malloc(1);
		if (out.p)
			out.p[0] = '\0';
		else
			out.oom = true;
	}
	if (out.oom) {
		free(out.p);
		return NULL;
	}
	if (out_len)
		*out_len = out.len;
	if (masked)
		*masked = sc.masked;
	return out.p;
}
