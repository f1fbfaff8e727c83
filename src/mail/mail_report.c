/* mail_report.c - a reported message read with GMime: the message judged (the attachment of a
 * forward, or the message itself), its Received headers, and the classifier's call site. */
#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mail_internal.h"

/* The length of the line at msg[i..len) without its line break (CRLF or LF), and in *next
 * where the next line starts (len at the end). */
static size_t line_at(const char *msg, size_t len, size_t i, size_t *next)
{
	const char *nl = memchr(msg + i, '\n', len - i);
	size_t end = nl ? (size_t)(nl - msg) : len;
	*next = nl ? end + 1 : len;
	if (end > i && msg[end - 1] == '\r')
		end--;
	return end - i;
}

/* Whether msg[i..i+n) is a header field's first line: a name of printable ASCII without a
 * colon, blanks allowed before the colon (RFC 5322 4.5.3, obsolete syntax), then ':'. */
static bool line_is_field(const char *msg, size_t i, size_t n)
{
	size_t k = 0;
	while (k < n && (unsigned char)msg[i + k] > 0x20 && (unsigned char)msg[i + k] < 0x7f &&
	       msg[i + k] != ':')
		k++;
	if (k == 0)
		return false;
	while (k < n && (msg[i + k] == ' ' || msg[i + k] == '\t'))
		k++;
	return k < n && msg[i + k] == ':';
}

static bool line_is_from(const char *msg, size_t i, size_t n)
{
	return n >= 5 && memcmp(msg + i, "From ", 5) == 0;
}

/* How many messages an mbox holds: its first, and one more for each "From " line that follows
 * an empty line and is itself followed by a header field (a body line that starts with
 * "From " is written ">From " in an mbox, and a paragraph that starts so is rarely followed
 * by "Name:"). 1 for a message that does not start with a "From " line. */
static size_t report_mbox_count(const char *msg, size_t len)
{
	size_t next, n = line_at(msg, len, 0, &next);
	if (!line_is_from(msg, 0, n))
		return 1;
	size_t count = 1;
	bool after_empty = false;
	for (size_t i = next; i < len; i = next) {
		n = line_at(msg, len, i, &next);
		if (after_empty && line_is_from(msg, i, n) && next < len) {
			size_t after, m = line_at(msg, len, next, &after);
			count += line_is_field(msg, next, m);
		}
		after_empty = n == 0;
	}
	return count;
}

/* Whether msg[0..len) is one message (mail.h, mail_report_analyse); why says what it is not.
 * Cheaper and clearer than what GMime makes of a JPEG, and a message sent with its line breaks
 * stripped would otherwise be read as one long header without a Received field. */
static bool report_looks_like_message(const char *msg, size_t len, char *why, size_t cap)
{
	if (len == 0) {
		snprintf(why, cap, "not a message: empty");
		return false;
	}
	size_t i = 0, next, n = line_at(msg, len, 0, &next);
	if (line_is_from(msg, 0, n))
		i = next;
	if (i >= len || !line_is_field(msg, i, line_at(msg, len, i, &next))) {
		snprintf(why, cap, "not a message: the first line is not a header field "
			 "(Name: value)");
		return false;
	}
	if (!memchr(msg, '\n', len)) {
		snprintf(why, cap, "not a message: it has no line break, so its header fields run "
			 "into each other (curl -d removes line breaks: send the file with "
			 "--data-binary @FILE)");
		return false;
	}
	/* The header ends at the first empty line. */
	for (size_t j = i; j < len; j = next) {
		n = line_at(msg, len, j, &next);
		if (memchr(msg + j, '\0', n)) {
			snprintf(why, cap, "not a message: a NUL byte in the header: binary data");
			return false;
		}
		if (n == 0)
			break;
	}
	size_t count = report_mbox_count(msg, len);
	if (count > 1) {
		snprintf(why, cap, "an mbox of %zu messages: a report is one message; split the "
			 "mbox and send each message as a report of its own", count);
		return false;
	}
	return true;
}

static GMimeMessage *report_parse_stream(GMimeStream *stream)
{
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	return m;
}

/* A message/rfc822 part sent with a Content-Transfer-Encoding (base64, as some clients do,
 * though RFC 2046 5.2.1 forbids it) is an ordinary part to GMime: decode it and parse that. */
static GMimeMessage *report_parse_encoded(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	if (!content)
		return NULL;
	GMimeStream *mem = g_mime_stream_mem_new();
	GMimeMessage *m = NULL;
	if (g_mime_data_wrapper_write_to_stream(content, mem) >= 0) {
		g_mime_stream_reset(mem);
		m = report_parse_stream(mem);
	}
	g_object_unref(mem);
	return m;
}

/* The first message/rfc822 part below part, depth first, not looking inside messages: the
 * spam a report carries. An encoded one is parsed into *owned, which the caller unrefs. */
static GMimeMessage *report_attachment(GMimeObject *part, int depth, GMimeMessage **owned)
{
	if (!part || depth > 16)
		return NULL;
	if (GMIME_IS_MESSAGE_PART(part))
		return g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
	if (GMIME_IS_MULTIPART(part)) {
		GMimeMultipart *mp = GMIME_MULTIPART(part);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++) {
			GMimeMessage *m = report_attachment(g_mime_multipart_get_part(mp, i),
							    depth + 1, owned);
			if (m)
				return m;
		}
		return NULL;
	}
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	if (GMIME_IS_PART(part) && ct && g_mime_content_type_is_type(ct, "message", "rfc822")) {
		*owned = report_parse_encoded(GMIME_PART(part));
		return *owned;
	}
	return NULL;
}

/* A delivery or read report (multipart/report, RFC 6522) is itself the mail that arrived
 * (backscatter, when unwanted): the message it quotes is not the one to judge. A feedback
 * report (RFC 5965, ARF) is a forward like any other. */
static bool report_is_notification(GMimeObject *top)
{
	GMimeContentType *ct = top ? g_mime_object_get_content_type(top) : NULL;
	if (!ct || !g_mime_content_type_is_type(ct, "multipart", "report"))
		return false;
	const char *type = g_mime_content_type_get_parameter(ct, "report-type");
	return type && (g_ascii_strcasecmp(type, "delivery-status") == 0 ||
			g_ascii_strcasecmp(type, "disposition-notification") == 0);
}

/* The Received headers of m, top first: the first MAIL_HOPS_MAX into hdrs and lens, the count
 * of all into *n. The strings belong to m. */
static void report_received(GMimeMessage *m, const char **hdrs, size_t *lens, size_t *n)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int count = list ? g_mime_header_list_get_count(list) : 0;
	*n = 0;
	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *name = h ? g_mime_header_get_name(h) : NULL;
		/* Only Received: X-Received, Received-SPF and ARC headers say other things. */
		if (!name || g_ascii_strcasecmp(name, "Received") != 0)
			continue;
		if (*n < MAIL_HOPS_MAX) {
			const char *v = g_mime_header_get_raw_value(h);
			hdrs[*n] = v ? v : "";
			lens[*n] = strlen(hdrs[*n]);
		}
		(*n)++;
	}
}

/* The classifier's call site (mail.h, mail_classify_fn): the judged message's bytes. */
static void report_classify(const struct mail_report_options *opt, GMimeMessage *judged,
			    const char *msg, size_t len, struct mail_analysis *out)
{
	if (!opt || !opt->classify)
		return;
	if (opt->classify == mail_classify_word) { /* the trap's: on the message parsed already */
		out->cls = mail_classify_parsed_word(judged);
		return;
	}
	if (!out->forwarded) {
		out->cls = opt->classify(msg, len, opt->classify_arg);
		return;
	}
	char *bytes = g_mime_object_to_string(GMIME_OBJECT(judged), NULL);
	if (bytes) {
		out->cls = opt->classify(bytes, strlen(bytes), opt->classify_arg);
		g_free(bytes);
	}
}

/* The judged message's digest (mail.h): what GMime writes back of it, so that a forward's
 * attachment (GMime's own parse of it, decoded when it came base64) and the message sent raw
 * go through the same hands; then line ends made LF and the trailing line breaks and blanks
 * dropped, which a forwarding client or a file adds or takes away. false: out of memory. */
static bool report_digest(GMimeMessage *judged, uint8_t digest[32])
{
	/* Written to a stream, not a string: a NUL in the body must not end what is digested. */
	GMimeStream *mem = g_mime_stream_mem_new();
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	GByteArray *arr = mem ? g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem)) : NULL;
	bool ok = arr && ck && g_mime_object_write_to_stream(GMIME_OBJECT(judged), NULL, mem) >= 0;
	if (!ok) {
		if (mem)
			g_object_unref(mem);
		if (ck)
			g_checksum_free(ck);
		return false;
	}
	const char *bytes = (const char *)arr->data;
	size_t len = arr->len;
	while (len > 0 && memchr("\r\n \t", bytes[len - 1], 4))
		len--;
	size_t from = 0;
	for (size_t i = 0; i < len; i++) {
		if (bytes[i] == '\r' && i + 1 < len && bytes[i + 1] == '\n') {
			g_checksum_update(ck, (const guchar *)bytes + from, (gssize)(i - from));
			from = i + 1;
		}
	}
	g_checksum_update(ck, (const guchar *)bytes + from, (gssize)(len - from));
	gsize dlen = 32;
	g_checksum_get_digest(ck, digest, &dlen);
	g_checksum_free(ck);
	g_object_unref(mem);
	return dlen == 32;
}

int mail_report_analyse(const char *msg, size_t len, const struct mail_report_options *opt,
			struct mail_analysis *out)
{
	memset(out, 0, sizeof(*out));
	if (len > MAIL_REPORT_MAX) {
		snprintf(out->error, sizeof(out->error), "%zu bytes, more than the %u bytes (%u MiB) "
			 "a report may have", len, MAIL_REPORT_MAX, MAIL_REPORT_MAX >> 20);
		return MAIL_ETOOBIG;
	}
	if (!report_looks_like_message(msg, len, out->error, sizeof(out->error)))
		return MAIL_EINVAL;
	mail_gmime_ready();
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeMessage *message = report_parse_stream(stream);
	g_object_unref(stream);
	if (!message) {
		snprintf(out->error, sizeof(out->error), "not a message: no header GMime can read");
		return MAIL_EINVAL;
	}
	GMimeMessage *owned = NULL, *judged = message;
	GMimeObject *top = g_mime_message_get_mime_part(message);
	if (!report_is_notification(top)) {
		GMimeMessage *attached = report_attachment(top, 0, &owned);
		if (attached) {
			judged = attached;
			out->forwarded = true;
		}
	}
	const char *hdrs[MAIL_HOPS_MAX];
	size_t lens[MAIL_HOPS_MAX], n;
	report_received(judged, hdrs, lens, &n);
	int rc = mail_chain_analyse(hdrs, lens, n, opt ? opt->trust : NULL,
				    opt && opt->special_public, out);
	if (rc == MAIL_OK)
		report_classify(opt, judged, msg, len, out);
	if (rc == MAIL_OK && !report_digest(judged, out->digest))
		rc = MAIL_ENOMEM;
	if (owned)
		g_object_unref(owned);
	g_object_unref(message);
	return rc;
}
