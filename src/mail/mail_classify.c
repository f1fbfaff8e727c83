/* mail_classify.c - what a message to a spamtrap is (bounce, auto-reply, virus notice, spam),
 * from the envelope sender and the headers and MIME structure that GMime reads. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mail_internal.h"

/* ---- the tables of signals ----------------------------------------------------------- */

/* A subject phrase: found anywhere in the decoded subject, or only at its start (words that
 * spam uses too: "vacation deals" is no vacation notice). */
struct subject_phrase {
	const char *text;
	bool at_start;
	const char *signal;
};

/* Vacation notices and challenge-response systems, in the languages they most often come in. */
static const struct subject_phrase autoreply_subjects[] = {
	{ "out of office", false, "subject:out-of-office" },
	{ "out of the office", false, "subject:out-of-office" },
	{ "automatic reply", false, "subject:automatic-reply" },
	{ "auto-reply", false, "subject:auto-reply" },
	{ "autoreply", false, "subject:auto-reply" },
	{ "auto reply", false, "subject:auto-reply" },
	{ "auto-response", false, "subject:auto-reply" },
	{ "autoresponse", false, "subject:auto-reply" },
	{ "auto response", false, "subject:auto-reply" },
	{ "abwesenheitsnotiz", false, "subject:out-of-office" },
	{ "automatische antwort", false, "subject:automatic-reply" },
	{ "automatisch antwoord", false, "subject:automatic-reply" },
	{ "r\xc3\xa9ponse automatique", false, "subject:automatic-reply" },
	{ "respuesta autom\xc3\xa1tica", false, "subject:automatic-reply" },
	{ "risposta automatica", false, "subject:automatic-reply" },
	{ "vacation", true, "subject:vacation" },
	{ "on vacation", false, "subject:vacation" },
	{ "away from my mail", false, "subject:vacation" },
	{ "i am away", false, "subject:vacation" },
	{ "absence", true, "subject:vacation" },
	{ "please confirm your message", false, "subject:challenge-response" },
	{ "please verify your email", false, "subject:challenge-response" },
	{ "verify your email address to", false, "subject:challenge-response" },
	{ "confirm that you sent", false, "subject:challenge-response" },
	{ "sender verification", false, "subject:challenge-response" },
	{ "spam arrest", false, "subject:challenge-response" },
	{ "your message is awaiting verification", false, "subject:challenge-response" },
	{ "is awaiting your confirmation", false, "subject:challenge-response" },
};

/* What virus scanners put in the subjects of the notices they send to a message's sender. */
static const struct subject_phrase virus_subjects[] = {
	{ "virus found", false, "subject:virus-found" },
	{ "virus detected", false, "subject:virus-found" },
	{ "virus alert", false, "subject:virus-found" },
	{ "virus warning", false, "subject:virus-found" },
	{ "virus notification", false, "subject:virus-found" },
	{ "virus in mail", false, "subject:virus-found" },
	{ "virus (", true, "subject:virus-found" },
	{ "infected", false, "subject:infected" },
	{ "malware detected", false, "subject:virus-found" },
	{ "banned contents", false, "subject:banned-content" },
	{ "banned attachment", false, "subject:banned-content" },
	{ "blocked attachment", false, "subject:banned-content" },
	{ "mailscanner has detected", false, "subject:virus-found" },
	/* The scanners' own notices, as their vendors word them (the forms SpamAssassin's
	 * VBOUNCE rules know): a product's name and what it did. */
	{ "viruses detected", false, "subject:virus-found" },
	{ "norton antivirus detected", false, "subject:virus-found" },
	{ "nav detected a virus", false, "subject:virus-found" },
	{ "groupshield alert", false, "subject:virus-found" },
	{ "scanmail message", true, "subject:virus-found" },
	{ "interscan nt alert", true, "subject:virus-found" },
	{ "interscan mss for smtp has delivered", true, "subject:virus-found" },
	{ "antigen found", true, "subject:virus-found" },
	{ "symantec avf detected", true, "subject:virus-found" },
	{ "mailmarshal has detected", true, "subject:virus-found" },
	{ "failed to clean virus", true, "subject:virus-found" },
	{ "virus to sender", true, "subject:virus-found" },
	{ "virusmelding", true, "subject:virus-found" },
	{ "inflex scan report", true, "subject:virus-found" },
	{ "antivirus scan results", false, "subject:virus-found" },
	{ "disallowed attachment", false, "subject:banned-content" },
};

/* The vendors of virus scanners: the names their products go by in X-Mailer or a From display
 * name, and the domains they send their notices from. A notice from a vendor's no-reply
 * address that names its product is the scanner's; the same name beside any other address is
 * what spam about "infected computers" says, and proves nothing. */
struct scanner_vendor {
	const char *names[4];
	const char *domains[4];
};

static const struct scanner_vendor scanner_vendors[] = {
	{ { "Kaspersky" }, { "kaspersky.com" } },
	{ { "Norton", "Symantec", "MessageLabs" },
	  { "norton.com", "symantec.com", "messagelabs.com", "broadcom.com" } },
	{ { "McAfee", "GroupShield", "Trellix" }, { "mcafee.com", "trellix.com" } },
	{ { "Trend Micro", "InterScan", "ScanMail" }, { "trendmicro.com" } },
	{ { "Sophos" }, { "sophos.com" } },
	{ { "ESET" }, { "eset.com" } },
	{ { "Bitdefender" }, { "bitdefender.com" } },
	{ { "F-Secure", "WithSecure" }, { "f-secure.com", "withsecure.com" } },
	{ { "Avast", "AVG" }, { "avast.com", "avg.com" } },
	{ { "Panda Security" }, { "pandasecurity.com" } },
	{ { "ClamAV" }, { "clamav.net" } },
	{ { "MailMarshal", "Trustwave" }, { "trustwave.com" } },
	{ { "Mimecast" }, { "mimecast.com" } },
	{ { "Barracuda" }, { "barracuda.com", "barracudanetworks.com" } },
	{ { "Proofpoint" }, { "proofpoint.com" } },
	{ { "GWAVA" }, { "gwava.com" } },
	{ { "Dr.Web" }, { "drweb.com" } },
};

/* The local parts a vendor sends its notices as. */
static const char *const noreply_locals[] = {
	"noreply", "no-reply", "donotreply", "do-not-reply", "notification", "notifications",
	"alert", "alerts",
};

/* Senders that scanners send their notices as (the local part): a subject that speaks of a
 * virus counts only from them, from the null sender or with Auto-Submitted, so that spam
 * about "infected computers" stays spam. */
static const char *const notifier_locals[] = {
	"mailer-daemon", "postmaster", "amavis", "amavisd", "virusalert", "virus-alert",
	"antivirus", "av", "clamav", "mailscanner", "virusscan", "scanner", "content-filter",
	"security", "quarantine",
};

/* ---- small helpers ------------------------------------------------------------------- */

static void signal_add(struct mail_verdict *v, const char *s)
{
	for (unsigned i = 0; i < v->n_signals; i++)
		if (strcmp(v->signals[i], s) == 0)
			return;
	if (v->n_signals < MAIL_SIGNALS_MAX)
		v->signals[v->n_signals++] = s;
}

static bool has_signal_prefix(const struct mail_verdict *v, const char *prefix)
{
	size_t n = strlen(prefix);
	for (unsigned i = 0; i < v->n_signals; i++)
		if (strncmp(v->signals[i], prefix, n) == 0)
			return true;
	return false;
}

/* Case-insensitive (ASCII) substring search. */
static const char *find_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* The first phrase of table that subject holds, or NULL. Leading blanks and reply/forward
 * prefixes do not count as the start ("Re: Vacation" is still at the start). */
static const struct subject_phrase *subject_match(const char *subject,
						  const struct subject_phrase *table, size_t n)
{
	const char *start = subject;
	for (;;) {
		start += strspn(start, " \t");
		if (strncasecmp(start, "re:", 3) == 0 || strncasecmp(start, "aw:", 3) == 0)
			start += 3;
		else if (strncasecmp(start, "fwd:", 4) == 0)
			start += 4;
		else
			break;
	}
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(table[i].text);
		if (table[i].at_start ? strncasecmp(start, table[i].text, l) == 0
				      : find_nocase(subject, table[i].text) != NULL)
			return &table[i];
	}
	return NULL;
}

/* The first word of a header value, without blanks or parameters ("auto-replied"). */
static void header_token(const char *value, char *buf, size_t cap)
{
	const char *p = value + strspn(value, " \t\r\n");
	size_t n = strcspn(p, " \t\r\n;(");
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* True when the local part of the address in from (a mailbox or a header with one) is one
 * that scanners send as. */
static bool from_notifier(const char *from)
{
	if (!from)
		return false;
	const char *at = strrchr(from, '@');
	if (!at)
		return false;
	const char *start = at;
	while (start > from && !strchr(" <\t\"", start[-1]))
		start--;
	size_t n = (size_t)(at - start);
	for (size_t i = 0; i < sizeof(notifier_locals) / sizeof(notifier_locals[0]); i++)
		if (strlen(notifier_locals[i]) == n && strncasecmp(start, notifier_locals[i], n) == 0)
			return true;
	return false;
}

/* Case-insensitive (ASCII) search for needle as a whole word of hay: no letter or digit just
 * before or after it ("AVG" is no word of "avgas"). */
static bool has_word_nocase(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++) {
		if (strncasecmp(hay + i, needle, n) != 0)
			continue;
		bool before = i > 0 && isalnum((unsigned char)hay[i - 1]);
		bool after = i + n < len && isalnum((unsigned char)hay[i + n]);
		if (!before && !after)
			return true;
	}
	return false;
}

/* The address of a mailbox (or a header that holds one) split at its last '@': the local part
 * back to a blank, '<' or '"', the domain up to '>', a blank or the end. false without '@'. */
static bool address_parts(const char *addr, const char **local, size_t *llen, const char **dom,
			  size_t *dlen)
{
	if (!addr)
		return false;
	const char *at = strrchr(addr, '@');
	if (!at)
		return false;
	const char *start = at;
	while (start > addr && !strchr(" <\t\"", start[-1]))
		start--;
	*local = start;
	*llen = (size_t)(at - start);
	*dom = at + 1;
	*dlen = strcspn(at + 1, "> \t\r\n;,");
	return true;
}

/* Whether the address is a no-reply address at one of the vendor's domains (or below one). */
static bool vendor_noreply(const struct scanner_vendor *sv, const char *addr)
{
	const char *local, *dom;
	size_t llen, dlen;
	if (!address_parts(addr, &local, &llen, &dom, &dlen))
		return false;
	bool noreply = false;
	for (size_t i = 0; i < sizeof(noreply_locals) / sizeof(noreply_locals[0]); i++)
		noreply |= strlen(noreply_locals[i]) == llen &&
			   strncasecmp(local, noreply_locals[i], llen) == 0;
	if (!noreply)
		return false;
	for (size_t i = 0; i < 4 && sv->domains[i]; i++) {
		size_t n = strlen(sv->domains[i]);
		if (dlen == n && strncasecmp(dom, sv->domains[i], n) == 0)
			return true;
		if (dlen > n && dom[dlen - n - 1] == '.' &&
		    strncasecmp(dom + dlen - n, sv->domains[i], n) == 0)
			return true;
	}
	return false;
}

/* The display name of a From header: before its <address>, or the comment after a bare one. */
static void from_display(const char *from, const char **s, size_t *len)
{
	*s = "";
	*len = 0;
	if (!from)
		return;
	const char *lt = strchr(from, '<');
	if (lt) {
		*s = from;
		*len = (size_t)(lt - from);
		return;
	}
	const char *open = strchr(from, '(');
	const char *close = open ? strrchr(open, ')') : NULL;
	if (close) {
		*s = open + 1;
		*len = (size_t)(close - open - 1);
	}
}

/* A virus scanner's notice sent by its vendor: the product named in X-Mailer or in the From
 * display name, and the From address (or the envelope sender) a no-reply address of that
 * product's vendor. */
static bool scanner_vendor_notice(const char *from, const char *x_mailer, const char *envelope)
{
	const char *disp;
	size_t dlen;
	from_display(from, &disp, &dlen);
	size_t xlen = x_mailer ? strlen(x_mailer) : 0;
	for (size_t v = 0; v < sizeof(scanner_vendors) / sizeof(scanner_vendors[0]); v++) {
		const struct scanner_vendor *sv = &scanner_vendors[v];
		bool named = false;
		for (size_t i = 0; i < 4 && sv->names[i] && !named; i++)
			named = has_word_nocase(disp, dlen, sv->names[i]) ||
				(x_mailer && has_word_nocase(x_mailer, xlen, sv->names[i]));
		if (named && (vendor_noreply(sv, from) || vendor_noreply(sv, envelope)))
			return true;
	}
	return false;
}

/* ---- GMime --------------------------------------------------------------------------- */

static GMimeMessage *message_parse(const char *msg, size_t len)
{
	mail_gmime_ready();
	if (len > MAIL_CLASSIFY_MAX)
		len = MAIL_CLASSIFY_MAX;
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(msg, len);
	if (!stream)
		return NULL;
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	if (!parser)
		return NULL;
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	return m;
}

static bool is_dsn_type(GMimeContentType *ct)
{
	return ct && (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
		      g_mime_content_type_is_type(ct, "message", "global-delivery-status"));
}

static void dsn_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	(void)parent;
	if (is_dsn_type(g_mime_object_get_content_type(part)))
		signal_add(data, "content-type:message/delivery-status");
}

static void dsn_signals(GMimeMessage *m, struct mail_verdict *v)
{
	GMimeObject *top = g_mime_message_get_mime_part(m);
	if (!top)
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(top);
	if (ct && g_mime_content_type_is_type(ct, "multipart", "report"))
		signal_add(v, "content-type:multipart/report");
	if (is_dsn_type(ct))
		signal_add(v, "content-type:message/delivery-status");
	g_mime_message_foreach(m, dsn_part, v);
}

/* The header values the signals read: the subject decoded, the others as their fields hold
 * them (unfolded); NULL when the message has no such field. */
struct sig_headers {
	const char *subject;
	const char *from, *auto_submitted, *x_autoreply, *x_autorespond, *precedence, *amavis;
	const char *x_mailer;
};

static void autoreply_signals(const struct sig_headers *hd, struct mail_verdict *v)
{
	char tok[64];
	const char *h = hd->auto_submitted;
	if (h) {
		header_token(h, tok, sizeof tok);
		/* RFC 3834: "no" is what a person's own mail may carry. */
		if (strcasecmp(tok, "no") != 0)
			signal_add(v, strcasecmp(tok, "auto-replied") == 0 ? "auto-submitted:auto-replied"
				   : strcasecmp(tok, "auto-notified") == 0 ? "auto-submitted:auto-notified"
									  : "auto-submitted:auto-generated");
	}
	if (hd->x_autoreply)
		signal_add(v, "x-autoreply");
	if (hd->x_autorespond)
		signal_add(v, "x-autorespond");
	h = hd->precedence;
	if (h) {
		header_token(h, tok, sizeof tok);
		if (strcasecmp(tok, "auto_reply") == 0)
			signal_add(v, "precedence:auto_reply");
	}
	const struct subject_phrase *p = subject_match(
		hd->subject, autoreply_subjects, sizeof(autoreply_subjects) / sizeof(autoreply_subjects[0]));
	if (p)
		signal_add(v, p->signal);
}

static void virus_signals(const struct sig_headers *hd, const char *envelope_from,
			  struct mail_verdict *v)
{
	const char *h = hd->amavis;
	if (h && (find_nocase(h, "infected") || find_nocase(h, "banned")))
		signal_add(v, "x-amavis-alert");
	const struct subject_phrase *p = subject_match(
		hd->subject, virus_subjects, sizeof(virus_subjects) / sizeof(virus_subjects[0]));
	if (!p)
		return;
	bool vendor = scanner_vendor_notice(hd->from, hd->x_mailer, envelope_from);
	bool notifier = (envelope_from && !envelope_from[0]) || from_notifier(envelope_from) ||
			from_notifier(hd->from) || hd->auto_submitted || vendor;
	if (vendor)
		signal_add(v, "from:scanner-vendor");
	if (notifier)
		signal_add(v, p->signal);
}

static void gmime_headers(GMimeMessage *m, struct sig_headers *hd)
{
	GMimeObject *o = GMIME_OBJECT(m);
	const char *subject = g_mime_message_get_subject(m);
	hd->subject = subject ? subject : "";
	hd->from = g_mime_object_get_header(o, "From");
	hd->auto_submitted = g_mime_object_get_header(o, "Auto-Submitted");
	hd->x_autoreply = g_mime_object_get_header(o, "X-Autoreply");
	hd->x_autorespond = g_mime_object_get_header(o, "X-Autorespond");
	hd->precedence = g_mime_object_get_header(o, "Precedence");
	hd->amavis = g_mime_object_get_header(o, "X-Amavis-Alert");
	hd->x_mailer = g_mime_object_get_header(o, "X-Mailer");
}

/* ---- the header section alone ---------------------------------------------------------- */

/* A trap gets thousands of messages a second, most of them one part: their signals are all in
 * the header section, and building GMime's objects for them was a fifth of the SMTP thread
 * (perf, bench/smtp.sh). This reads the header section of such a message into fields (GMime
 * still decodes RFC 2047 words); anything it does not read exactly as GMime would (a line
 * that is not a field, a Content-Type that is multipart, message/ or not plain, too many
 * bytes) is left to GMime. mail_classify_gmime is the reference the tests and the fuzz
 * target compare it with. */
struct raw_headers {
	struct sig_headers hd;
	char *buf;               /* the unfolded values, NUL-terminated, one after another */
	char *decoded[3];        /* g_malloc'd decodings of the subject, From and X-Mailer */
};

static const char *const raw_names[] = {
	"Subject", "From", "Auto-Submitted", "X-Autoreply", "X-Autorespond", "Precedence",
	"X-Amavis-Alert", "Content-Type", "X-Mailer",
};
#define RAW_N (sizeof(raw_names) / sizeof(raw_names[0]))

/* A value to the signals: blanks before it skipped; RFC 2047 words and 8-bit bytes decoded by
 * GMime, as its parser does. */
static const char *raw_value(struct raw_headers *r, const char *v, int slot)
{
	v += strspn(v, " \t");
	bool plain = true;
	for (const unsigned char *p = (const unsigned char *)v; *p && plain; p++)
		plain = *p < 0x80 && !(p[0] == '=' && p[1] == '?');
	if (plain || slot < 0)
		return v;
	r->decoded[slot] = g_mime_utils_header_decode_text(NULL, v);
	return r->decoded[slot] ? r->decoded[slot] : v;
}

static void raw_free(struct raw_headers *r)
{
	free(r->buf);
	g_free(r->decoded[0]);
	g_free(r->decoded[1]);
	g_free(r->decoded[2]);
}

/* Reads hl bytes of header section into r; false when GMime must read the message. */
static bool raw_read(const char *msg, size_t hl, struct raw_headers *r)
{
	memset(r, 0, sizeof *r);
	const char *val[RAW_N] = { 0 };
	r->buf = malloc(hl + 1);
	if (!r->buf)
		return false;
	size_t o = 0, i = 0;
	while (i < hl) {
		if (msg[i] == '\n' || (msg[i] == '\r' && i + 1 < hl && msg[i + 1] == '\n'))
			break; /* the empty line */
		size_t name = i;
		while (i < hl && msg[i] > 32 && msg[i] < 127 && msg[i] != ':')
			i++;
		if (i == name || i >= hl || msg[i] != ':')
			return false; /* not a field: GMime decides what it is */
		size_t name_len = i - name;
		i++;
		size_t start = o;
		for (;;) { /* the value, unfolded: CRLF or LF before a blank is dropped */
			size_t e = i;
			while (e < hl && msg[e] != '\n')
				e++;
			size_t end = e > i && msg[e - 1] == '\r' ? e - 1 : e;
			for (size_t k = i; k < end; k++)
				if (msg[k] == '\0' || msg[k] == '\r')
					return false;
			memcpy(r->buf + o, msg + i, end - i);
			o += end - i;
			i = e + 1;
			if (i >= hl || (msg[i] != ' ' && msg[i] != '\t'))
				break;
		}
		r->buf[o++] = '\0';
		for (size_t k = 0; k < RAW_N; k++) {
			if (strlen(raw_names[k]) != name_len ||
			    strncasecmp(raw_names[k], msg + name, name_len) != 0)
				continue;
			if (val[k])
				return false; /* twice: which one counts is GMime's to say */
			val[k] = r->buf + start;
		}
	}
	if (val[7]) { /* Content-Type: a plain media type that is not multipart or message */
		const char *t = val[7] + strspn(val[7], " \t");
		size_t n = strcspn(t, "/");
		if (t[n] != '/' || strcspn(t, " \t();\"") < n ||
		    (n == 9 && strncasecmp(t, "multipart", 9) == 0) ||
		    (n == 7 && strncasecmp(t, "message", 7) == 0))
			return false;
	}
	mail_gmime_ready();
	r->hd.subject = val[0] ? raw_value(r, val[0], 0) : "";
	r->hd.from = val[1] ? raw_value(r, val[1], 1) : NULL;
	r->hd.auto_submitted = val[2] ? raw_value(r, val[2], -1) : NULL;
	r->hd.x_autoreply = val[3] ? raw_value(r, val[3], -1) : NULL;
	r->hd.x_autorespond = val[4] ? raw_value(r, val[4], -1) : NULL;
	r->hd.precedence = val[5] ? raw_value(r, val[5], -1) : NULL;
	r->hd.amavis = val[6] ? raw_value(r, val[6], -1) : NULL;
	r->hd.x_mailer = val[8] ? raw_value(r, val[8], 2) : NULL;
	return true;
}

/* ---- public -------------------------------------------------------------------------- */

/* The order of the issue: virus, then a DSN, then auto-reply signals, then the null sender. */
static enum mail_class decide(const struct mail_verdict *v, bool null_sender)
{
	if (has_signal_prefix(v, "subject:virus") || has_signal_prefix(v, "subject:infected") ||
	    has_signal_prefix(v, "subject:banned") || has_signal_prefix(v, "x-amavis"))
		return MAIL_CLASS_VIRUS;
	if (has_signal_prefix(v, "content-type:"))
		return MAIL_CLASS_BOUNCE;
	if (v->n_signals > (null_sender ? 1u : 0u))
		return MAIL_CLASS_AUTOREPLY; /* what is left are auto-reply signals */
	return null_sender ? MAIL_CLASS_BOUNCE : MAIL_CLASS_SPAM;
}

/* The signals and the decision: hd the header values (NULL: none could be read), m the
 * parsed message for its MIME structure (NULL: one part, or none GMime could read). */
static void classify_headers(const struct sig_headers *hd, GMimeMessage *m,
			     const char *envelope_from, struct mail_verdict *out)
{
	memset(out, 0, sizeof *out);
	bool null_sender = envelope_from && envelope_from[0] == '\0';
	if (null_sender)
		signal_add(out, "null-sender");
	if (hd) {
		virus_signals(hd, envelope_from, out);
		if (m)
			dsn_signals(m, out);
		autoreply_signals(hd, out);
	}
	out->cls = decide(out, null_sender);
}

static void classify_message(GMimeMessage *m, const char *envelope_from,
			     struct mail_verdict *out)
{
	struct sig_headers hd;
	if (m)
		gmime_headers(m, &hd);
	classify_headers(m ? &hd : NULL, m, envelope_from, out);
}

int mail_classify_gmime(const char *msg, size_t len, const char *envelope_from,
			struct mail_verdict *out)
{
	if (!out || (!msg && len))
		return MAIL_EINVAL;
	GMimeMessage *m = len ? message_parse(msg, len) : NULL;
	classify_message(m, envelope_from, out);
	if (m)
		g_object_unref(m);
	return MAIL_OK;
}

int mail_classify(const char *msg, size_t len, const char *envelope_from,
		  struct mail_verdict *out)
{
	if (!out || (!msg && len))
		return MAIL_EINVAL;
	size_t hl = len ? mail_header_length(msg, len) : 0;
	struct raw_headers r;
	memset(&r, 0, sizeof r);
	bool raw = hl < len && hl <= MAIL_CLASSIFY_MAX && raw_read(msg, hl, &r);
	if (raw)
		classify_headers(&r.hd, NULL, envelope_from, out);
	raw_free(&r);
	if (raw)
		return MAIL_OK;
	return mail_classify_gmime(msg, len, envelope_from, out);
}

const char *mail_class_name(enum mail_class c)
{
	switch (c) {
	case MAIL_CLASS_SPAM:
		return "spam";
	case MAIL_CLASS_BOUNCE:
		return "bounce";
	case MAIL_CLASS_AUTOREPLY:
		return "autoreply";
	case MAIL_CLASS_VIRUS:
		return "virus";
	}
	return "?";
}

/* The envelope sender a message's Return-Path names, into out. */
static int return_path_of(GMimeMessage *m, char *out, size_t cap)
{
	const char *h = g_mime_object_get_header(GMIME_OBJECT(m), "Return-Path");
	if (!h)
		return MAIL_ENOTFOUND;
	const char *p = h + strspn(h, " \t\r\n");
	size_t n;
	if (*p == '<') {
		p++;
		n = strcspn(p, ">");
	} else {
		n = strcspn(p, " \t\r\n");
	}
	if (n >= cap)
		return MAIL_EINVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	return MAIL_OK;
}

const char *mail_classify_word(const char *msg, size_t len, void *arg)
{
	(void)arg;
	char from[512];
	const char *envelope = mail_return_path(msg, len, from, sizeof(from)) == MAIL_OK ? from
										     : NULL;
	struct mail_verdict v;
	if (mail_classify(msg, len, envelope, &v) != MAIL_OK)
		return NULL;
	return mail_class_name(v.cls);
}

const char *mail_classify_parsed_word(GMimeMessage *m)
{
	char from[512];
	const char *envelope = return_path_of(m, from, sizeof(from)) == MAIL_OK ? from : NULL;
	struct mail_verdict v;
	classify_message(m, envelope, &v);
	return mail_class_name(v.cls);
}

void mail_signals_format(const struct mail_verdict *v, char *buf, size_t cap)
{
	size_t used = 0;
	if (cap == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < v->n_signals && used < cap; i++) {
		int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", v->signals[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int mail_return_path(const char *msg, size_t len, char *out, size_t cap)
{
	if (!msg || !out || cap == 0)
		return MAIL_EINVAL;
	GMimeMessage *m = message_parse(msg, len);
	if (!m)
		return MAIL_ENOTFOUND;
	int rc = return_path_of(m, out, cap);
	g_object_unref(m);
	return rc;
}
