/* test_mail_report.c - unit tests of src/mail's report analysis: GMime reading, forwards, bad
 * input, the classifier's call site, the explanation, and the golden corpus of
 * tests/data/received (cases.txt; TRAPLINE_GOLDEN_UPDATE=1 rewrites the NAME.json files, to
 * be reviewed by hand before they are committed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include <cmocka.h>
#include <jansson.h>

#include "mail/mail.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			char *p = realloc(buf, cap + 1);
			if (!p)
				break;
			buf = p;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static void corpus_path(char *buf, size_t cap, const char *file)
{
	const char *src = getenv("TRAPLINE_SRC");
	snprintf(buf, cap, "%s/tests/data/received/%s", src ? src : ".", file);
}

static void trust_load(const char *file, struct mail_trust *t)
{
	char path[1024], err[256];
	size_t len, line = 0;
	corpus_path(path, sizeof(path), file);
	char *text = slurp(path, &len);
	if (!text)
		fail_msg("cannot read %s (is TRAPLINE_SRC set?)", path);
	mail_trust_init(t);
	if (mail_trust_parse(t, text, len, &line, err, sizeof(err)) != MAIL_OK)
		fail_msg("%s:%zu: %s", path, line, err);
	free(text);
}

/* Analyses a corpus message with default.trusted. */
static void analyse_file(const char *file, const struct mail_report_options *opt,
			 struct mail_analysis *a)
{
	char path[1024];
	size_t len;
	corpus_path(path, sizeof(path), file);
	char *msg = slurp(path, &len);
	if (!msg)
		fail_msg("cannot read %s", path);
	assert_int_equal(mail_report_analyse(msg, len, opt, a), MAIL_OK);
	free(msg);
}

static void test_bad_input(void **state)
{
	static const struct {
		const char *what;
		const char *msg;
		size_t len;
		const char *error;
	} bad[] = {
#define M(s) s, sizeof(s) - 1
		{"empty", M(""), "empty"},
		{"text", M("hello world, this is not mail\nsecond line\n"), "not a header field"},
		{"png", M("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "not a header field"},
		{"NUL in the header", M("Subject: a\0b\nFrom: x\n\nbody\n"), "NUL"},
		{"a lone mbox line", M("From someone Mon Nov 23 10:00:00 2026\n"), "not a header"},
		{"colon first", M(": value\n\nbody\n"), "not a header field"},
		/* What curl -d @spam.eml sends: every line break stripped. */
		{"no line break", M("Received: from a (b [204.0.113.7]) by c; Mon, 23 Nov 2026 "
				    "10:00:00 +0000Subject: hiFrom: x@y.example"),
		 "not a message: it has no line break"},
		{"an mbox of two", M("From a@b  Mon Nov 23 10:00:00 2026\nSubject: 1\n\none\n\n"
				     "From c@d  Mon Nov 23 10:01:00 2026\nSubject: 2\n\ntwo\n"),
		 "an mbox of 2 messages"},
		{"an mbox of three, CRLF", M("From a@b  x\r\nSubject: 1\r\n\r\none\r\n\r\n"
					     "From c@d  x\r\nX: 2\r\n\r\ntwo\r\n\r\n"
					     "From e@f  x\r\nX : 3\r\n\r\nthree\r\n"),
		 "an mbox of 3 messages"},
#undef M
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mail_analysis a;
		int rc = mail_report_analyse(bad[i].msg, bad[i].len, NULL, &a);
		if (rc != MAIL_EINVAL || !strstr(a.error, bad[i].error))
			fail_msg("%s: rc=%d error=%s", bad[i].what, rc, a.error);
		mail_analysis_free(&a);
	}
	/* One message in mbox form, whose body has a paragraph that starts with "From " (an mbox
	 * writer escapes it, but not every one does): one message. Bare LF, or a message with a
	 * header and no body, is a message too. */
	static const char *const good[] = {
		("From a@b  Mon Nov 23 10:00:00 2026\nSubject: 1\n\nHello,\n\nFrom now on, we\n"
		 "write less.\n"),
		"Subject: 1\n\nbody\n\nFrom c@d  Mon Nov 23 10:01:00 2026\nSubject: 2\n\n",
		"Subject: only a header\n",
		"Received: from a (b [204.0.113.7]) by c; d\nSubject: x\n\nbody",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct mail_analysis g;
		int rc = mail_report_analyse(good[i], strlen(good[i]), NULL, &g);
		if (rc != MAIL_OK)
			fail_msg("good %zu: rc=%d error=%s", i, rc, g.error);
		mail_analysis_free(&g);
	}
	/* A NUL byte in the body is the body's business. */
	struct mail_analysis a;
	const char ok[] = "Subject: hi\n\nbinary\0body\n";
	assert_int_equal(mail_report_analyse(ok, sizeof(ok) - 1, NULL, &a), MAIL_OK);
	assert_int_equal(a.refusal, MAIL_REFUSAL_NO_RECEIVED);
	mail_analysis_free(&a);
}

static void test_too_big(void **state)
{
	size_t len = MAIL_REPORT_MAX + 1;
	char *msg = malloc(len);
	assert_non_null(msg);
	memset(msg, 'x', len);
	memcpy(msg, "Subject: big\n\n", 14);
	struct mail_analysis a;
	assert_int_equal(mail_report_analyse(msg, len, NULL, &a), MAIL_ETOOBIG);
	assert_non_null(strstr(a.error, "10485761 bytes"));
	mail_analysis_free(&a);
	/* At the limit it is read. */
	assert_int_equal(mail_report_analyse(msg, len - 1, NULL, &a), MAIL_OK);
	mail_analysis_free(&a);
	free(msg);
}

struct seen {
	char *bytes;
	size_t len;
	const char *ptr;
};

static const char *classify_stub(const char *msg, size_t len, void *arg)
{
	struct seen *s = arg;
	free(s->bytes);
	s->bytes = malloc(len + 1);
	memcpy(s->bytes, msg, len);
	s->bytes[len] = '\0';
	s->len = len;
	s->ptr = msg;
	return "spam";
}

static void test_classify_call_site(void **state)
{
	struct mail_trust t;
	trust_load("default.trusted", &t);
	struct seen seen = {NULL, 0, NULL};
	struct mail_report_options opt = {&t, classify_stub, &seen, false};
	struct mail_analysis a;
	/* A forward: the classifier sees the attached message, not the forward. */
	analyse_file("forward_attachment.eml", &opt, &a);
	assert_true(a.forwarded);
	assert_string_equal(a.cls, "spam");
	assert_non_null(strstr(seen.bytes, "Subject: You have won"));
	assert_null(strstr(seen.bytes, "Subject: Fwd:"));
	char *json;
	assert_int_equal(mail_analysis_json(&a, &json), MAIL_OK);
	assert_non_null(strstr(json, "\"class\": \"spam\""));
	free(json);
	mail_analysis_free(&a);
	/* A message as received: the classifier sees exactly its bytes. */
	const char msg[] = "Received: from a (b [204.0.113.1]) by c; d\nSubject: x\n\nbody\n";
	assert_int_equal(mail_report_analyse(msg, sizeof(msg) - 1, &opt, &a), MAIL_OK);
	assert_ptr_equal(seen.ptr, msg);
	assert_int_equal(seen.len, sizeof(msg) - 1);
	mail_analysis_free(&a);
	/* Without a classifier the class is null. */
	opt.classify = NULL;
	assert_int_equal(mail_report_analyse(msg, sizeof(msg) - 1, &opt, &a), MAIL_OK);
	assert_null(a.cls);
	mail_analysis_free(&a);
	free(seen.bytes);
	mail_trust_free(&t);
}

/* The trap's classifier as any other classifier is called: on the judged message's bytes. */
static const char *classify_bytes(const char *msg, size_t len, void *arg)
{
	(void)arg;
	return mail_classify_word(msg, len, NULL);
}

/* mail_classify_word given to the analysis classifies the message GMime parsed already; the
 * class must be the one it gives the bytes, for every message of both corpora (trap messages
 * of every class, and reports, forwards among them). */
static void test_classify_parsed_same(void **state)
{
	(void)state;
	const char *src = getenv("TRAPLINE_SRC");
	static const char *const dirs[] = {"tests/data/mail", "tests/data/received"};
	size_t files = 0, classes[4] = {0};
	for (size_t d = 0; d < 2; d++) {
		char dir[1024];
		snprintf(dir, sizeof(dir), "%s/%s", src ? src : ".", dirs[d]);
		DIR *dp = opendir(dir);
		if (!dp)
			fail_msg("cannot read %s (is TRAPLINE_SRC set?)", dir);
		struct dirent *e;
		while ((e = readdir(dp)) != NULL) {
			size_t n = strlen(e->d_name);
			if (n < 5 || strcmp(e->d_name + n - 4, ".eml") != 0)
				continue;
			char path[2048];
			size_t len;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			char *msg = slurp(path, &len);
			assert_non_null(msg);
			struct mail_report_options fast = {NULL, mail_classify_word, NULL, false};
			struct mail_report_options slow = {NULL, classify_bytes, NULL, false};
			struct mail_analysis a, b;
			int ra = mail_report_analyse(msg, len, &fast, &a);
			int rb = mail_report_analyse(msg, len, &slow, &b);
			assert_int_equal(ra, rb);
			if (ra == MAIL_OK) {
				if (!a.cls || !b.cls || strcmp(a.cls, b.cls) != 0)
					fail_msg("%s: class %s parsed, %s from the bytes", e->d_name,
						 a.cls ? a.cls : "(null)", b.cls ? b.cls : "(null)");
				for (size_t k = 0; k < 4; k++)
					classes[k] += strcmp(a.cls, (const char *[]){"spam", "bounce",
							  "autoreply", "virus"}[k]) == 0;
				files++;
			}
			mail_analysis_free(&a);
			mail_analysis_free(&b);
			free(msg);
		}
		closedir(dp);
	}
	assert_true(files >= 50);
	for (size_t k = 0; k < 4; k++)
		assert_true(classes[k] > 0); /* every class was met */
}

/* The digest is the judged message's: the same spam sent raw, forwarded as an attachment
 * (plain or base64), with CRLF line ends, behind an mbox From line, with a line break more at
 * its end, digests the same; another message does not. */
static void test_digest(void **state)
{
	(void)state;
	char path[1024];
	size_t len;
	corpus_path(path, sizeof(path), "postfix_direct.eml");
	char *raw = slurp(path, &len);
	if (!raw)
		fail_msg("cannot read %s", path);
	struct mail_analysis a;
	assert_int_equal(mail_report_analyse(raw, len, NULL, &a), MAIL_OK);
	uint8_t want[32];
	memcpy(want, a.digest, 32);
	mail_analysis_free(&a);
	static const char head[] = "From: u@example.org\nSubject: Fwd\nMIME-Version: 1.0\n"
				   "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
				   "Content-Type: text/plain\n\nsee below\n\n--b\n"
				   "Content-Type: message/rfc822\n";
	size_t cap = 4 * len + 4096, n;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (int form = 0; form < 6; form++) {
		n = 0;
		switch (form) {
		case 0: /* an attachment */
			n = (size_t)snprintf(buf, cap, "%s\n", head);
			memcpy(buf + n, raw, len);
			n += len;
			n += (size_t)snprintf(buf + n, cap - n, "\n--b--\n");
			break;
		case 1: { /* base64 */
			n = (size_t)snprintf(buf, cap, "%sContent-Transfer-Encoding: base64\n\n",
					     head);
			static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						  "0123456789+/";
			for (size_t i = 0; i < len; i += 3) {
				uint32_t v = (uint32_t)(unsigned char)raw[i] << 16;
				if (i + 1 < len)
					v |= (uint32_t)(unsigned char)raw[i + 1] << 8;
				if (i + 2 < len)
					v |= (unsigned char)raw[i + 2];
				buf[n++] = b64[v >> 18 & 63];
				buf[n++] = b64[v >> 12 & 63];
				buf[n++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
				buf[n++] = i + 2 < len ? b64[v & 63] : '=';
				if (i % 57 == 54)
					buf[n++] = '\n';
			}
			n += (size_t)snprintf(buf + n, cap - n, "\n--b--\n");
			break;
		}
		case 2: /* CRLF */
			for (size_t i = 0; i < len; i++) {
				if (raw[i] == '\n')
					buf[n++] = '\r';
				buf[n++] = raw[i];
			}
			break;
		case 3: /* an mbox of one */
			n = (size_t)snprintf(buf, cap, "From x@spam.example  Mon Nov 23 10:00:00 2026\n");
			memcpy(buf + n, raw, len);
			n += len;
			break;
		case 4: /* a line break more */
			memcpy(buf, raw, len);
			n = len;
			buf[n++] = '\n';
			break;
		case 5: /* another message: a header more */
			n = (size_t)snprintf(buf, cap, "X-Other: 1\n");
			memcpy(buf + n, raw, len);
			n += len;
			break;
		}
		assert_int_equal(mail_report_analyse(buf, n, NULL, &a), MAIL_OK);
		bool same = memcmp(a.digest, want, 32) == 0;
		if (same != (form != 5))
			fail_msg("form %d: digest %s", form, same ? "the same" : "differs");
		assert_int_equal(a.forwarded, form <= 1);
		mail_analysis_free(&a);
	}
	free(buf);
	free(raw);
	/* A NUL in the body does not end what is digested. */
	const char x[] = "Subject: a\n\nbody\0one\n", y[] = "Subject: a\n\nbody\0two\n";
	uint8_t dx[32];
	assert_int_equal(mail_report_analyse(x, sizeof(x) - 1, NULL, &a), MAIL_OK);
	memcpy(dx, a.digest, 32);
	mail_analysis_free(&a);
	assert_int_equal(mail_report_analyse(y, sizeof(y) - 1, NULL, &a), MAIL_OK);
	assert_memory_not_equal(dx, a.digest, 32);
	mail_analysis_free(&a);
}

static void test_render(void **state)
{
	struct mail_trust t;
	trust_load("default.trusted", &t);
	struct mail_report_options opt = {&t, NULL, NULL, false};
	struct mail_analysis a;
	analyse_file("postfix_direct.eml", &opt, &a);
	char *text, *js;
	assert_int_equal(mail_analysis_text(&a, &text), MAIL_OK);
	assert_non_null(strstr(text, "source: 204.0.113.7\n"));
	assert_non_null(strstr(text, "hop 1: trusted ip=193.0.2.25 rdns=mx.example.org"));
	assert_non_null(strstr(text, "hop 2: source ip=204.0.113.7 rdns=- helo=mail.spam.example"));
	assert_non_null(strstr(text, "hop 3: ignored"));
	assert_int_equal(mail_analysis_json(&a, &js), MAIL_OK);
	json_error_t err;
	json_t *root = json_loads(js, 0, &err);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "source_ip")), "204.0.113.7");
	assert_true(json_is_null(json_object_get(root, "refusal")));
	assert_true(json_is_null(json_object_get(root, "class")));
	json_t *hops = json_object_get(root, "hops");
	assert_int_equal(json_array_size(hops), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hops, 1), "verdict")),
			    "source");
	json_decref(root);
	free(text);
	free(js);
	mail_analysis_free(&a);

	/* A refusal: the word, and a null source. */
	const char msg[] = "Subject: none\n\nbody\n";
	assert_int_equal(mail_report_analyse(msg, sizeof(msg) - 1, &opt, &a), MAIL_OK);
	assert_int_equal(mail_analysis_text(&a, &text), MAIL_OK);
	assert_non_null(strstr(text, "refused: no-received\n"));
	assert_int_equal(mail_analysis_json(&a, &js), MAIL_OK);
	root = json_loads(js, 0, &err);
	assert_true(json_is_null(json_object_get(root, "source_ip")));
	assert_string_equal(json_string_value(json_object_get(root, "refusal")), "no-received");
	json_decref(root);
	free(text);
	free(js);
	mail_analysis_free(&a);
	mail_trust_free(&t);
}

/* One line of cases.txt: NAME MESSAGE TRUSTED EXPECTED. */
static bool case_read(char *line, char *f[4])
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *save = NULL;
	size_t n = 0;
	for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < 4;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		f[n++] = tok;
	return n == 4;
}

static void golden_one(char *f[4], bool update, size_t *failed)
{
	struct mail_trust t;
	trust_load(f[2], &t);
	/* With the trap's classifier, as `report analyse` runs it. */
	struct mail_report_options opt = {&t, mail_classify_word, NULL, false};
	struct mail_analysis a;
	analyse_file(f[1], &opt, &a);
	char got[IP_STRLEN] = "";
	if (a.has_source)
		ip_format(a.source, got);
	else
		snprintf(got, sizeof(got), "%s", mail_refusal_name(a.refusal));
	if (strcmp(got, f[3]) != 0) {
		print_message("%s: expected %s, got %s (%s)\n", f[0], f[3], got, a.why);
		(*failed)++;
	}
	char *js, path[1024], name[300];
	assert_int_equal(mail_analysis_json(&a, &js), MAIL_OK);
	snprintf(name, sizeof(name), "%s.json", f[0]);
	corpus_path(path, sizeof(path), name);
	if (update) {
		FILE *o = fopen(path, "w");
		assert_non_null(o);
		fprintf(o, "%s\n", js);
		fclose(o);
	} else {
		size_t len;
		char *want = slurp(path, &len);
		if (!want || len != strlen(js) + 1 || memcmp(want, js, len - 1) != 0) {
			print_message("%s: the JSON differs from %s:\n%s\n", f[0], path, js);
			(*failed)++;
		}
		free(want);
	}
	free(js);
	mail_analysis_free(&a);
	mail_trust_free(&t);
}

static void test_golden_corpus(void **state)
{
	char path[1024];
	size_t len, cases = 0, failed = 0;
	corpus_path(path, sizeof(path), "cases.txt");
	char *text = slurp(path, &len);
	if (!text)
		fail_msg("cannot read %s", path);
	const char *u = getenv("TRAPLINE_GOLDEN_UPDATE");
	bool update = u && *u && strcmp(u, "0") != 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		if (line[0] == '#' || !case_read(line, f))
			continue;
		golden_one(f, update, &failed);
		cases++;
	}
	free(text);
	assert_true(cases >= 40);
	if (failed)
		fail_msg("%zu of %zu golden cases failed", failed, cases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_classify_call_site),
		cmocka_unit_test(test_classify_parsed_same),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_golden_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
