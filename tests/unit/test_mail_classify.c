/* test_mail_classify.c - the trap classifier on the messages of tests/data/mail, the order
 * of its signals, the header section, Return-Path, and the masking of trap addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "mail/mail.h"

static char *slurp(const char *name, size_t *len)
{
	const char *src = getenv("TRAPLINE_SRC");
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/data/mail/%s", src ? src : ".", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static bool has_signal(const struct mail_verdict *v, const char *s)
{
	for (unsigned i = 0; i < v->n_signals; i++)
		if (strcmp(v->signals[i], s) == 0)
			return true;
	return false;
}

/* Each message as the trap would see it: the envelope sender is the Return-Path. */
static void test_corpus(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		enum mail_class cls;
		const char *signal; /* one signal that must be there (NULL: none at all) */
	} rows[] = {
		{ "bounce_dsn.eml", MAIL_CLASS_BOUNCE, "content-type:multipart/report" },
		{ "bounce_nested_dsn.eml", MAIL_CLASS_BOUNCE, "content-type:message/delivery-status" },
		{ "bounce_null_sender.eml", MAIL_CLASS_BOUNCE, "null-sender" },
		{ "autoreply_vacation.eml", MAIL_CLASS_AUTOREPLY, "auto-submitted:auto-replied" },
		{ "autoreply_x_autoreply.eml", MAIL_CLASS_AUTOREPLY, "x-autoreply" },
		{ "autoreply_precedence.eml", MAIL_CLASS_AUTOREPLY, "precedence:auto_reply" },
		{ "autoreply_encoded_subject.eml", MAIL_CLASS_AUTOREPLY, "subject:automatic-reply" },
		{ "autoreply_challenge.eml", MAIL_CLASS_AUTOREPLY, "subject:challenge-response" },
		{ "autoreply_no.eml", MAIL_CLASS_SPAM, NULL },
		{ "virus_notice.eml", MAIL_CLASS_VIRUS, "x-amavis-alert" },
		{ "virus_scanner_subject.eml", MAIL_CLASS_VIRUS, "subject:virus-found" },
		{ "spam_plain.eml", MAIL_CLASS_SPAM, NULL },
		{ "spam_infected_subject.eml", MAIL_CLASS_SPAM, NULL },
		{ "spam_no_return_path.eml", MAIL_CLASS_SPAM, NULL },
		/* A vendor's notice from its no-reply address, the product named in From or
		 * X-Mailer: virus; the same words beside any other address stay spam. */
		{ "virus_vendor_noreply.eml", MAIL_CLASS_VIRUS, "from:scanner-vendor" },
		{ "virus_vendor_xmailer.eml", MAIL_CLASS_VIRUS, "from:scanner-vendor" },
		{ "virus_messagelabs.eml", MAIL_CLASS_VIRUS, "from:scanner-vendor" },
		{ "spam_fake_scanner.eml", MAIL_CLASS_SPAM, NULL },
		{ "spam_scanner_xmailer.eml", MAIL_CLASS_SPAM, NULL },
		{ "spam_vendor_lookalike.eml", MAIL_CLASS_SPAM, NULL },
		/* The scanners' own subjects (SpamAssassin's VBOUNCE forms), from a notifier. */
		{ "virus_groupshield.eml", MAIL_CLASS_VIRUS, "subject:virus-found" },
		{ "virus_scanmail.eml", MAIL_CLASS_VIRUS, "subject:virus-found" },
		{ "virus_interscan.eml", MAIL_CLASS_VIRUS, "subject:virus-found" },
		{ "virus_antigen.eml", MAIL_CLASS_VIRUS, "subject:virus-found" },
		{ "virus_norton_quarantine.eml", MAIL_CLASS_VIRUS, "subject:virus-found" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		size_t len;
		char *msg = slurp(rows[i].file, &len);
		char from[256];
		bool have = mail_return_path(msg, len, from, sizeof from) == MAIL_OK;
		struct mail_verdict v;
		assert_int_equal(mail_classify(msg, len, have ? from : NULL, &v), MAIL_OK);
		if (v.cls != rows[i].cls)
			fail_msg("%s: class %s, expected %s", rows[i].file, mail_class_name(v.cls),
				 mail_class_name(rows[i].cls));
		if (rows[i].signal && !has_signal(&v, rows[i].signal))
			fail_msg("%s: no signal %s", rows[i].file, rows[i].signal);
		if (!rows[i].signal && v.n_signals != 0)
			fail_msg("%s: unexpected signal %s", rows[i].file, v.signals[0]);
		free(msg);
	}
}

/* mail_classify reads a one-part message's header section itself; GMime reading the whole
 * message is the reference. Both must give the same class and the same signals. */
static void same_as_gmime(const char *what, const char *msg, size_t len, const char *sender)
{
	struct mail_verdict a, b;
	assert_int_equal(mail_classify(msg, len, sender, &a), MAIL_OK);
	assert_int_equal(mail_classify_gmime(msg, len, sender, &b), MAIL_OK);
	if (a.cls != b.cls)
		fail_msg("%s: class %s, GMime alone %s", what, mail_class_name(a.cls),
			 mail_class_name(b.cls));
	char sa[512], sb[512];
	mail_signals_format(&a, sa, sizeof sa);
	mail_signals_format(&b, sb, sizeof sb);
	if (strcmp(sa, sb) != 0)
		fail_msg("%s: signals \"%s\", GMime alone \"%s\"", what, sa, sb);
}

static void test_header_path_same_as_gmime(void **state)
{
	(void)state;
	static const char *const dirs[] = { "mail", "received" };
	const char *src = getenv("TRAPLINE_SRC");
	size_t n_files = 0;
	for (size_t d = 0; d < 2; d++) {
		char dir[1024];
		snprintf(dir, sizeof dir, "%s/tests/data/%s", src ? src : ".", dirs[d]);
		DIR *dp = opendir(dir);
		assert_non_null(dp);
		struct dirent *e;
		while ((e = readdir(dp)) != NULL) {
			size_t l = strlen(e->d_name);
			if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
				continue;
			char path[2048];
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			FILE *f = fopen(path, "rb");
			assert_non_null(f);
			char *buf = malloc(1 << 20);
			assert_non_null(buf);
			size_t len = fread(buf, 1, (1 << 20) - 1, f);
			fclose(f);
			char from[256];
			bool have = mail_return_path(buf, len, from, sizeof from) == MAIL_OK;
			same_as_gmime(e->d_name, buf, len, have ? from : NULL);
			same_as_gmime(e->d_name, buf, len, "");
			free(buf);
			n_files++;
		}
		closedir(dp);
	}
	assert_true(n_files > 50);
	/* What the header reader must read as GMime does, or leave to it. */
	static const char *const odd[] = {
		"Subject: =?utf-8?q?Automatische_Antwort?=\r\n\r\nbody\r\n",
		"Subject: =?iso-8859-1?q?R=E9ponse_automatique?=\n\nx\n",
		"Subject: R\xe9ponse automatique\n\nlatin-1 raw\n",
		"Subject: out of\r\n office\r\n\r\nfolded\r\n",
		"Subject: first\nSubject: Out of office\n\nGMime takes the last\n",
		"Auto-Submitted: no\nAuto-Submitted: auto-replied\nFrom: a@b.example\nFrom: mailer-daemon@b.example\nSubject: virus found\n\ntwice\n",
		"subject: VACATION\nauto-submitted: AUTO-REPLIED (x)\n\ncase\n",
		"From: \"Virus Alert\" <amavis@scan.example>\nSubject: virus found\n\nb\n",
		"From: =?utf-8?b?bWFpbGVyLWRhZW1vbkB4LmV4YW1wbGU=?=\nSubject: virus found\n\nb\n",
		"Subject : out of office\n\nspace before the colon\n",
		"Subject:out of office\n\nno space\n",
		"not a header line\nSubject: out of office\n\nb\n",
		" Subject: out of office\n\nstarts with a blank\n",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nx\n--b--\n",
		"Content-Type: message/delivery-status\n\nReporting-MTA: x\n",
		"Content-Type: (comment) text/plain\nSubject: out of office\n\nb\n",
		"Content-Type: text\nSubject: out of office\n\nno subtype\n",
		"Precedence: auto_reply\nX-Amavis-Alert: INFECTED, message contains virus\nSubject: virus found\nAuto-Submitted: no\n\nb\n",
		"X-Autoreply: yes\r\nX-Autorespond: yes\r\n\r\n",
		"Subject: bare CR\rinside\n\nb\n",
		"Subject: tab\tin it: out of office\n\nb\n",
		"From: noreply@sophos.com\nX-Mailer: =?utf-8?q?Sophos_Email?=\nSubject: infected\n\nb\n",
		"From: noreply@sophos.com\nX-Mailer: a\nX-Mailer: Sophos\nSubject: infected\n\nb\n",
		"From: noreply@sophos.com (Sophos Email Appliance)\nSubject: infected\n\nb\n",
	};
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		same_as_gmime(odd[i], odd[i], strlen(odd[i]), NULL);
		same_as_gmime(odd[i], odd[i], strlen(odd[i]), "");
		same_as_gmime(odd[i], odd[i], strlen(odd[i]), "mailer-daemon@x.example");
	}
}

/* The order of the issue when signals disagree. */
static void test_precedence_of_signals(void **state)
{
	(void)state;
	struct mail_verdict v;
	/* A DSN with Auto-Submitted (what most MTAs stamp on bounces) is a bounce. */
	const char dsn[] = "Auto-Submitted: auto-replied\r\nSubject: Out of office\r\n"
			   "Content-Type: multipart/report; report-type=delivery-status; "
			   "boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n";
	assert_int_equal(mail_classify(dsn, sizeof dsn - 1, "sender@example.org", &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_BOUNCE);
	/* Auto-reply signals win over the null sender. */
	const char ooo[] = "Auto-Submitted: auto-replied\r\nSubject: hi\r\n\r\nbody\r\n";
	assert_int_equal(mail_classify(ooo, sizeof ooo - 1, "", &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_AUTOREPLY);
	assert_true(has_signal(&v, "null-sender"));
	/* A scanner's notice wins over everything. */
	const char vir[] = "Auto-Submitted: auto-generated\r\nSubject: Virus found in your mail\r\n"
			   "Content-Type: multipart/report; boundary=b\r\n\r\n--b--\r\n";
	assert_int_equal(mail_classify(vir, sizeof vir - 1, "", &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_VIRUS);
	/* "Auto-Submitted: no" is a person's own mail; the null sender alone is a bounce. */
	const char no[] = "Auto-Submitted: no\r\nSubject: hi\r\n\r\nbody\r\n";
	assert_int_equal(mail_classify(no, sizeof no - 1, "x@example.org", &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_SPAM);
	assert_int_equal(mail_classify(no, sizeof no - 1, "", &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_BOUNCE);
	/* Vacation at the start of a subject is a notice, in the middle it is an offer. */
	const char va[] = "Subject: Re: Vacation notice\r\n\r\nx\r\n";
	assert_int_equal(mail_classify(va, sizeof va - 1, "x@example.org", &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_AUTOREPLY);
	const char vb[] = "Subject: Cheap vacation\r\n\r\nx\r\n";
	assert_int_equal(mail_classify(vb, sizeof vb - 1, "x@example.org", &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_SPAM);
}

/* A scanner's notice from its vendor: the product named in From or X-Mailer, the From (or the
 * envelope sender) a no-reply address of that vendor's domains or below them. */
static void test_scanner_vendor_notice(void **state)
{
	(void)state;
	static const struct {
		const char *from, *x_mailer, *envelope;
		enum mail_class cls;
	} rows[] = {
		{ "Kaspersky Security <noreply@kaspersky.com>", NULL, NULL, MAIL_CLASS_VIRUS },
		{ "Kaspersky Security <noreply@mail.kaspersky.com>", NULL, NULL, MAIL_CLASS_VIRUS },
		{ "Kaspersky Security <do-not-reply@kaspersky.com>", NULL, NULL, MAIL_CLASS_VIRUS },
		{ "noreply@avg.com", "AVG Email Server 2026", NULL, MAIL_CLASS_VIRUS },
		{ "Sophos Email <quarantine-digest@customer.example>", NULL, "noreply@sophos.com",
		  MAIL_CLASS_VIRUS },
		/* Not the vendor's domain, only a name that ends like it, or not below it. */
		{ "Kaspersky Security <noreply@kaspersky.com.evil.example>", NULL, NULL,
		  MAIL_CLASS_SPAM },
		{ "Kaspersky Security <noreply@notkaspersky.com>", NULL, NULL, MAIL_CLASS_SPAM },
		/* The vendor's domain, but a person's address: a salesman, not a scanner. */
		{ "Kaspersky Security <sales@kaspersky.com>", NULL, NULL, MAIL_CLASS_SPAM },
		/* The vendor's no-reply address without its product named. */
		{ "Account Team <noreply@kaspersky.com>", "Mailer 1.0", NULL, MAIL_CLASS_SPAM },
		/* Another vendor's product named: its own address is what would count. */
		{ "Norton <noreply@kaspersky.com>", NULL, NULL, MAIL_CLASS_SPAM },
		/* A name is a whole word: "AVGas" is no AVG. */
		{ "noreply@avg.com", "AVGas pump mailer", NULL, MAIL_CLASS_SPAM },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char msg[512];
		snprintf(msg, sizeof msg, "From: %s\n%s%s%sSubject: found an infected message sent "
			 "from your address\n\nbody\n", rows[i].from, rows[i].x_mailer ? "X-Mailer: " : "",
			 rows[i].x_mailer ? rows[i].x_mailer : "", rows[i].x_mailer ? "\n" : "");
		struct mail_verdict v;
		assert_int_equal(mail_classify(msg, strlen(msg), rows[i].envelope, &v), MAIL_OK);
		if (v.cls != rows[i].cls)
			fail_msg("%s / %s / %s: class %s", rows[i].from,
				 rows[i].x_mailer ? rows[i].x_mailer : "-",
				 rows[i].envelope ? rows[i].envelope : "-", mail_class_name(v.cls));
		assert_int_equal(has_signal(&v, "from:scanner-vendor"), rows[i].cls == MAIL_CLASS_VIRUS);
		same_as_gmime(rows[i].from, msg, strlen(msg), rows[i].envelope);
	}
}

static void test_odd_input(void **state)
{
	(void)state;
	struct mail_verdict v;
	assert_int_equal(mail_classify(NULL, 0, NULL, &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_SPAM);
	assert_int_equal(mail_classify("", 0, "", &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_BOUNCE);
	const char junk[] = "\0\0\xff\xfe no headers at all\n\n\n";
	assert_int_equal(mail_classify(junk, sizeof junk - 1, NULL, &v), 0);
	assert_int_equal(v.cls, MAIL_CLASS_SPAM);
	assert_int_equal(mail_classify(NULL, 3, NULL, &v), MAIL_EINVAL);
	char buf[512];
	mail_signals_format(&v, buf, sizeof buf);
	assert_string_equal(buf, "");
	assert_string_equal(mail_class_name(MAIL_CLASS_AUTOREPLY), "autoreply");
}

static void test_return_path(void **state)
{
	(void)state;
	char out[64];
	const char a[] = "Return-Path: <>\r\nSubject: x\r\n\r\n";
	assert_int_equal(mail_return_path(a, sizeof a - 1, out, sizeof out), MAIL_OK);
	assert_string_equal(out, "");
	const char b[] = "Return-Path: <bounce@example.org>\nSubject: x\n\n";
	assert_int_equal(mail_return_path(b, sizeof b - 1, out, sizeof out), MAIL_OK);
	assert_string_equal(out, "bounce@example.org");
	const char c[] = "Subject: x\r\n\r\nReturn-Path: <in@body.example>\r\n";
	assert_int_equal(mail_return_path(c, sizeof c - 1, out, sizeof out), MAIL_ENOTFOUND);
	assert_int_equal(mail_return_path(b, sizeof b - 1, out, 5), MAIL_EINVAL);
}

static void test_header_length(void **state)
{
	(void)state;
	const char a[] = "A: 1\r\nB: 2\r\n\r\nbody\r\n";
	assert_int_equal(mail_header_length(a, sizeof a - 1), strlen("A: 1\r\nB: 2\r\n\r\n"));
	const char b[] = "A: 1\nB: 2\n\nbody\n";
	assert_int_equal(mail_header_length(b, sizeof b - 1), strlen("A: 1\nB: 2\n\n"));
	const char c[] = "A: 1\r\nno end";
	assert_int_equal(mail_header_length(c, sizeof c - 1), sizeof c - 1);
	assert_int_equal(mail_header_length("", 0), 0);
}

/* mail_mask_traps on text, compared with want; the count of masked addresses too. */
static void mask_is(const char *text, size_t want_masked, const char *want)
{
	size_t n = 0, masked = 99;
	char *got = mail_mask_traps(text, strlen(text), "trap.example, b.example",
				    "solo@single.example", &n, &masked);
	assert_non_null(got);
	if (strcmp(got, want) != 0 || masked != want_masked)
		print_error("masking %s\n gave %s (%zu masked)\n want %s (%zu)\n", text, got, masked,
			    want, want_masked);
	assert_string_equal(got, want);
	assert_int_equal(n, strlen(want));
	assert_int_equal(masked, want_masked);
	free(got);
}

static void test_mask_plain(void **state)
{
	(void)state;
	/* Every trap address is ***@domain, whatever the length of its local part. */
	mask_is("To: Jane.Doe@TRAP.example, bob@other.example\r\n"
		"Cc: solo@single.example, x@trap.example.\r\nsolo@single.example.org\r\n", 3,
		"To: ***@TRAP.example, bob@other.example\r\n"
		"Cc: ***@single.example, ***@trap.example.\r\nsolo@single.example.org\r\n");
	mask_is("<a@trap.example>,<very.long+tag@b.example>", 2, "<***@trap.example>,<***@b.example>");
	/* Not at a trap: a subdomain, a longer domain, another address at a trap address's
	 * domain, no local part, no domain. */
	mask_is("x@sub.trap.example, y@trap.example.org, other@single.example, @trap.example, a@ @",
		0, "x@sub.trap.example, y@trap.example.org, other@single.example, @trap.example, a@ @");
	/* A trap address whose domain is the local part of another: both go. */
	mask_is("<solo@single.example@trap.example> a@x@b.example x@trap.example/z@b.example", 5,
		"<***@***@trap.example> a@***@b.example ***@***@b.example");
	/* A sentence's full stop ends the domain, a following label does not. */
	mask_is("write to x@trap.example. Then", 1, "write to ***@trap.example. Then");
	/* UTF-8 local parts (RFC 6532) go whole. */
	mask_is("To: j\xc3\xa4ne@trap.example", 1, "To: ***@trap.example");
	mask_is("", 0, "");
	size_t n = 7;
	char *e = mail_mask_traps(NULL, 0, "trap.example", "", &n, NULL);
	assert_non_null(e);
	assert_string_equal(e, "");
	assert_int_equal(n, 0);
	free(e);
}

static void test_mask_quoted(void **state)
{
	(void)state;
	mask_is("To: \"a b\"@trap.example", 1, "To: ***@trap.example");
	mask_is("To: \"a\\\"b\\\\\"@trap.example", 1, "To: ***@trap.example");
	/* Plain and quoted pieces side by side are one local part (RFC 5322 obs-local-part). */
	mask_is("To: jane.\"x y\".doe@trap.example", 1, "To: ***@trap.example");
	mask_is("To: x\"y\"@trap.example", 1, "To: ***@trap.example");
	/* A quoted trap address in full is matched by its meaning. */
	mask_is("\"solo\"@single.example and \"so\\lo\"@single.example", 2,
		"***@single.example and ***@single.example");
	/* A display name that holds the address is read inside, quotes kept. */
	mask_is("To: \"jane@trap.example\" <jane@trap.example>", 2,
		"To: \"***@trap.example\" <***@trap.example>");
	mask_is("To: \"Jane \\\"J\\\" x@trap.example\" <y@other.example>", 1,
		"To: \"Jane \\\"J\\\" ***@trap.example\" <y@other.example>");
	/* A quote that never closes is a plain character; what follows is still read. */
	mask_is("Subject: \"unclosed x@trap.example\r\nTo: \"q\" y@trap.example\r\n", 2,
		"Subject: \"unclosed ***@trap.example\r\nTo: \"q\" ***@trap.example\r\n");
	/* A quoted string ends with its field: the next field's quotes are its own. */
	mask_is("A: \"x\r\nB: \"y\"@trap.example\r\n", 1, "A: \"x\r\nB: ***@trap.example\r\n");
}

static void test_mask_folded(void **state)
{
	(void)state;
	/* A fold (CRLF or LF, then a blank) inside a quoted local part, around the '@', around a
	 * dot of the domain: the local part goes, the rest stays as written. */
	mask_is("To: \"Jane\r\n Doe\"@trap.example\r\n", 1, "To: ***@trap.example\r\n");
	mask_is("To: jane\r\n\t@trap.example\r\n", 1, "To: ***\r\n\t@trap.example\r\n");
	mask_is("To: jane@\r\n trap.example\r\n", 1, "To: ***@\r\n trap.example\r\n");
	mask_is("To: jane@trap\r\n .example\r\n", 1, "To: ***@trap\r\n .example\r\n");
	mask_is("To: jane@trap.\n example\n", 1, "To: ***@trap.\n example\n");
	mask_is("To: jane @ trap . example", 1, "To: *** @ trap . example");
	/* A line break that is no fold ends the address. */
	mask_is("To: jane\r\n@trap.example\r\n", 0, "To: jane\r\n@trap.example\r\n");
	/* Tight, a following label makes another domain; after a blank or a fold a reader may
	 * take it either way, and the trap address is masked. */
	mask_is("To: x@trap.example.org\r\n", 0, "To: x@trap.example.org\r\n");
	mask_is("To: x@trap.example\r\n .org\r\n", 1, "To: ***@trap.example\r\n .org\r\n");
}

static void test_mask_encoded_words(void **state)
{
	(void)state;
	/* Q and B encodings, the address alone or in a display name; a run of words holding an
	 * '@' is shown decoded. */
	mask_is("To: =?utf-8?q?jane=40trap.example?=\r\n", 1, "To: ***@trap.example\r\n");
	mask_is("To: =?UTF-8?B?amFuZUB0cmFwLmV4YW1wbGU=?=\r\n", 1, "To: ***@trap.example\r\n");
	mask_is("From: =?utf-8?q?Jane_Doe_<jane@trap.example>?= <x@spam.example>", 1,
		"From: Jane Doe <***@trap.example> <x@spam.example>");
	/* Split over words, and over a folded line between them. */
	mask_is("To: =?utf-8?q?jane?= =?utf-8?q?=40trap.example?=", 1, "To: ***@trap.example");
	mask_is("To: =?utf-8?q?jane?=\r\n =?utf-8?q?=40trap?=\r\n =?utf-8?q?.example?=\r\n", 1,
		"To: ***@trap.example\r\n");
	/* Another charset, converted to UTF-8. */
	mask_is("To: =?iso-8859-1?q?j=E4ne=40trap.example?=", 1, "To: ***@trap.example");
	/* An encoded word as the local part, or beside a plain one. */
	mask_is("To: =?utf-8?q?jane?=@trap.example", 1, "To: ***@trap.example");
	mask_is("To: jane=?utf-8?q?=40trap.example?=", 1, "To: ***@trap.example");
	/* Inside a decoded word, another encoded one. */
	mask_is("To: =?utf-8?b?PT91dGYtOD9xP2phbmU9NDB0cmFwLmV4YW1wbGU/PSBAIA==?=", 1,
		"To: ***@trap.example @ ");
	/* Words without an address stay encoded; a decoded line break is a blank. */
	mask_is("Subject: =?utf-8?q?hello?= =?utf-8?q?x?=", 0, "Subject: =?utf-8?q?hello?= =?utf-8?q?x?=");
	mask_is("Subject: =?utf-8?q?a=0D=0AX-Fake:_jane=40other.example?=", 0,
		"Subject: a  X-Fake: jane@other.example");
	/* Not an encoded word: read as plain text. */
	mask_is("To: =?utf-8?x?jane@trap.example?=", 1, "To: ***@trap.example?=");
}

/* Masking what is masked already changes nothing (the fuzz target holds every input to it). */
static void test_mask_twice(void **state)
{
	(void)state;
	const char *texts[] = {
		"To: \"a b\"@trap.example, =?utf-8?q?x=40b.example?=, y @ trap . example.",
		"Cc: \"jane@trap.example\" <jane\r\n @trap.example>, solo@single.example",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		size_t n, m;
		char *once = mail_mask_traps(texts[i], strlen(texts[i]), "trap.example, b.example",
					     "solo@single.example", &n, NULL);
		assert_non_null(once);
		char *twice = mail_mask_traps(once, n, "trap.example, b.example",
					      "solo@single.example", &m, NULL);
		assert_non_null(twice);
		assert_string_equal(once, twice);
		assert_null(strstr(once, "jane"));
		free(once);
		free(twice);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_header_path_same_as_gmime),
		cmocka_unit_test(test_precedence_of_signals),
		cmocka_unit_test(test_scanner_vendor_notice),
		cmocka_unit_test(test_odd_input),
		cmocka_unit_test(test_return_path),
		cmocka_unit_test(test_header_length),
		cmocka_unit_test(test_mask_plain),
		cmocka_unit_test(test_mask_quoted),
		cmocka_unit_test(test_mask_folded),
		cmocka_unit_test(test_mask_encoded_words),
		cmocka_unit_test(test_mask_twice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
