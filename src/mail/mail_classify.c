/* mail_classify.c - what a message to a spamtrap is (bounce, auto-reply, virus notice, spam),
 * from the envelope sender and the headers and MIME structure that GMime reads. */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mail_internal.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

/* GMime's global tables are set up once for the process and stay (they are not a leak). */
static void gmime_init_once(void)
{
	g_mime_init();
}

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

/* ---- GMime --------------------------------------------------------------------------- */

static GMimeMessage *message_parse(const char *msg, size_t len)
{
	pthread_once(&gmime_once, gmime_init_once);
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

/* What the signals read: the header section alone when the message is one part (its
 * headers say everything the classifier looks at), the whole message when it is multipart
 * or a message/ type, whose parts a DSN may be in. Building GMime's objects for the body was
 * a third of the trap's classification (perf, bench/smtp.sh). */
static GMimeMessage *message_parse_signals(const char *msg, size_t len)
{
	size_t hl = mail_header_length(msg, len);
	if (hl < len) {
		GMimeMessage *m = message_parse(msg, hl);
		GMimeObject *top = m ? g_mime_message_get_mime_part(m) : NULL;
		GMimeContentType *ct = top ? g_mime_object_get_content_type(top) : NULL;
		const char *type = ct ? g_mime_content_type_get_media_type(ct) : NULL;
		if (m && (!type || (strcasecmp(type, "multipart") != 0 &&
				    strcasecmp(type, "message") != 0)))
			return m;
		if (m)
			g_object_unref(m);
	}
	return message_parse(msg, len);
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

static void autoreply_signals(GMimeMessage *m, const char *subject, struct mail_verdict *v)
{
	GMimeObject *o = GMIME_OBJECT(m);
	char tok[64];
	const char *h = g_mime_object_get_header(o, "Auto-Submitted");
	if (h) {
		header_token(h, tok, sizeof tok);
		/* RFC 3834: "no" is what a person's own mail may carry. */
		if (strcasecmp(tok, "no") != 0)
			signal_add(v, strcasecmp(tok, "auto-replied") == 0 ? "auto-submitted:auto-replied"
				   : strcasecmp(tok, "auto-notified") == 0 ? "auto-submitted:auto-notified"
									  : "auto-submitted:auto-generated");
	}
	if (g_mime_object_get_header(o, "X-Autoreply"))
		signal_add(v, "x-autoreply");
	if (g_mime_object_get_header(o, "X-Autorespond"))
		signal_add(v, "x-autorespond");
	h = g_mime_object_get_header(o, "Precedence");
	if (h) {
		header_token(h, tok, sizeof tok);
		if (strcasecmp(tok, "auto_reply") == 0)
			signal_add(v, "precedence:auto_reply");
	}
	const struct subject_phrase *p = subject_match(
		subject, autoreply_subjects, sizeof(autoreply_subjects) / sizeof(autoreply_subjects[0]));
	if (p)
		signal_add(v, p->signal);
}

static void virus_signals(GMimeMessage *m, const char *subject, const char *envelope_from,
			  struct mail_verdict *v)
{
	GMimeObject *o = GMIME_OBJECT(m);
	const char *h = g_mime_object_get_header(o, "X-Amavis-Alert");
	if (h && (find_nocase(h, "infected") || find_nocase(h, "banned")))
		signal_add(v, "x-amavis-alert");
	const struct subject_phrase *p = subject_match(
		subject, virus_subjects, sizeof(virus_subjects) / sizeof(virus_subjects[0]));
	if (!p)
		return;
	bool notifier = (envelope_from && !envelope_from[0]) || from_notifier(envelope_from) ||
			from_notifier(g_mime_object_get_header(o, "From")) ||
			g_mime_object_get_header(o, "Auto-Submitted");
	if (notifier)
		signal_add(v, p->signal);
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

/* The signals and the decision on a parsed message (m NULL: none GMime could read). */
static void classify_message(GMimeMessage *m, const char *envelope_from,
			     struct mail_verdict *out)
{
	memset(out, 0, sizeof *out);
	bool null_sender = envelope_from && envelope_from[0] == '\0';
	if (null_sender)
		signal_add(out, "null-sender");
	if (m) {
		const char *subject = g_mime_message_get_subject(m);
		if (!subject)
			subject = "";
		virus_signals(m, subject, envelope_from, out);
		dsn_signals(m, out);
		autoreply_signals(m, subject, out);
	}
	out->cls = decide(out, null_sender);
}

int mail_classify(const char *msg, size_t len, const char *envelope_from,
		  struct mail_verdict *out)
{
	if (!out || (!msg && len))
		return MAIL_EINVAL;
	GMimeMessage *m = len ? message_parse_signals(msg, len) : NULL;
	classify_message(m, envelope_from, out);
	if (m)
		g_object_unref(m);
	return MAIL_OK;
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
