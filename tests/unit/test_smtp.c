/* test_smtp.c - the SMTP dialogue and the PROXY header parser, driven with bytes: recorded
 * dialogues, pipelining, dot-unstuffing, bare LF, NUL, long lines, limits, STARTTLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtp.h"

static const struct smtp_dialog_config CFG = {
	.hostname = "trap.test",
	.trap_domains = "trap.example, other-trap.example",
	.trap_addresses = "lonely@people.example",
	.max_size = 1000,
	.max_rcpts = 3,
	.max_errors = 5,
	.tls_available = true,
};

/* A dialogue fed whole strings; what it answered is kept in out. */
struct talk {
	struct smtp_dialog *d;
	char out[65536];
	size_t out_len;
	enum smtp_event last;
};

static void take_output(struct talk *t)
{
	size_t len;
	const uint8_t *o = smtp_dialog_output(t->d, &len);
	assert_true(t->out_len + len < sizeof t->out);
	memcpy(t->out + t->out_len, o, len);
	t->out_len += len;
	t->out[t->out_len] = '\0';
	smtp_dialog_output_clear(t->d);
}

static void talk_start(struct talk *t, const struct smtp_dialog_config *cfg)
{
	memset(t, 0, sizeof *t);
	t->d = smtp_dialog_new(cfg ? cfg : &CFG);
	assert_non_null(t->d);
	smtp_dialog_greet(t->d);
	take_output(t);
}

/* Feeds s in chunks of step bytes (0: at once); stops at an event and returns the bytes
 * consumed. */
static size_t feed(struct talk *t, const char *s, size_t len, size_t step)
{
	size_t done = 0;
	t->last = SMTP_EVENT_NONE;
	while (done < len) {
		size_t n = step && len - done > step ? step : len - done;
		size_t c = smtp_dialog_feed(t->d, (const uint8_t *)s + done, n, &t->last);
		done += c;
		take_output(t);
		if (t->last != SMTP_EVENT_NONE || c < n)
			break;
	}
	return done;
}

static size_t say(struct talk *t, const char *s)
{
	return feed(t, s, strlen(s), 0);
}

static void clear(struct talk *t)
{
	t->out_len = 0;
	t->out[0] = '\0';
}

static void talk_end(struct talk *t)
{
	smtp_dialog_free(t->d);
}

static void test_whole_dialogue(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	assert_string_equal(t.out, "220 trap.test ESMTP\r\n");
	clear(&t);
	say(&t, "EHLO client.example\r\n");
	assert_string_equal(t.out, "250-trap.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
				   "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n");
	clear(&t);
	say(&t, "MAIL FROM:<sender@spam.example> SIZE=100 BODY=8BITMIME\r\n");
	say(&t, "RCPT TO:<a@trap.example>\r\n");
	say(&t, "RCPT TO:<person@elsewhere.example>\r\n");
	say(&t, "RCPT TO:<LONELY@people.example>\r\n");
	say(&t, "RCPT TO:<a@TRAP.example.>\r\n");
	say(&t, "DATA\r\n");
	assert_string_equal(t.out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
				   "550 5.1.1 <person@elsewhere.example>: Recipient address rejected: "
				   "User unknown\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
				   "354 End data with <CR><LF>.<CR><LF>\r\n");
	assert_true(smtp_dialog_in_data(t.d));
	clear(&t);
	const char msg[] = "Subject: x\r\n\r\n..leading dot\r\n.\r\n";
	assert_int_equal(say(&t, msg), strlen(msg));
	assert_int_equal(t.last, SMTP_EVENT_MESSAGE);
	assert_string_equal(t.out, "");
	struct smtp_message m;
	smtp_dialog_message(t.d, &m);
	assert_string_equal(m.helo, "client.example");
	assert_string_equal(m.mail_from, "sender@spam.example");
	assert_int_equal(m.n_rcpts, 2); /* the second a@trap.example is the same trap */
	assert_string_equal(m.rcpts[0], "a@trap.example");
	assert_string_equal(m.rcpts[1], "LONELY@people.example");
	assert_int_equal(m.len, strlen("Subject: x\r\n\r\n.leading dot\r\n"));
	assert_memory_equal(m.data, "Subject: x\r\n\r\n.leading dot\r\n", m.len);
	assert_false(m.tls);
	/* Nothing more is read while the host stores the message. */
	enum smtp_event ev;
	assert_int_equal(smtp_dialog_feed(t.d, (const uint8_t *)"QUIT\r\n", 6, &ev), 0);
	smtp_dialog_message_done(t.d, true);
	take_output(&t);
	assert_string_equal(t.out, "250 2.0.0 Ok: stored\r\n");
	clear(&t);
	say(&t, "QUIT\r\n");
	assert_string_equal(t.out, "221 2.0.0 Bye\r\n");
	assert_int_equal(t.last, SMTP_EVENT_CLOSE);
	talk_end(&t);
}

/* RFC 2920: a whole transaction in one write, answered in order; the 250 of DATA waits for
 * the store, and what was pipelined behind it is read after. */
static void test_pipelining(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	clear(&t);
	const char all[] = "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\n"
			   "hello\r\n.\r\nRSET\r\nQUIT\r\n";
	size_t used = say(&t, all);
	assert_int_equal(t.last, SMTP_EVENT_MESSAGE);
	assert_true(strstr(t.out, "354 ") != NULL);
	assert_null(strstr(t.out, "2.0.0 Ok"));
	smtp_dialog_message_done(t.d, false);
	take_output(&t);
	assert_non_null(strstr(t.out, "451 4.3.0 "));
	clear(&t);
	feed(&t, all + used, strlen(all) - used, 0);
	assert_string_equal(t.out, "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
	talk_end(&t);
}

/* Fed one byte at a time, the dialogue says exactly what it says when fed at once. */
static void test_byte_by_byte(void **state)
{
	(void)state;
	const char all[] = "HELO c\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<x@trap.example>\r\n"
			   "DATA\r\n.\r\n..\r\n.x\r\n\r\n.\r\n";
	struct talk a, b;
	talk_start(&a, NULL);
	talk_start(&b, NULL);
	size_t ua = feed(&a, all, strlen(all), 0);
	size_t ub = feed(&b, all, strlen(all), 1);
	assert_int_equal(ua, ub);
	assert_string_equal(a.out, b.out);
	struct smtp_message ma, mb;
	smtp_dialog_message(a.d, &ma);
	smtp_dialog_message(b.d, &mb);
	assert_int_equal(ma.len, mb.len);
	assert_int_equal(ma.len, 0); /* ".\r\n" right after DATA: an empty message */
	talk_end(&a);
	talk_end(&b);
}

/* Only CRLF.CRLF ends a message: bare LF before or after the dot never does (SMTP
 * smuggling), and a dot starting a line is taken away once. */
static void test_data_end_and_unstuffing(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	say(&t, "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\n");
	const char body[] = "a\n.\nb\r\n.\nc\n.\r\nd\r\n.x\r\n..\r\n.\rq\r\n\r\n.\r\n";
	assert_int_equal(say(&t, body), strlen(body));
	assert_int_equal(t.last, SMTP_EVENT_MESSAGE);
	struct smtp_message m;
	smtp_dialog_message(t.d, &m);
	const char want[] = "a\n.\nb\r\n\nc\n.\r\nd\r\nx\r\n.\r\n\rq\r\n\r\n";
	assert_int_equal(m.len, strlen(want));
	assert_memory_equal(m.data, want, m.len);
	talk_end(&t);
}

static void test_nul_and_bare_lf_and_long_lines(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	clear(&t);
	/* A bare LF ends a command (ratware sends it); NUL in a command is refused. */
	say(&t, "EHLO c\nNOOP\r\n");
	assert_non_null(strstr(t.out, "250 STARTTLS\r\n250 2.0.0 Ok\r\n"));
	clear(&t);
	feed(&t, "NO\0OP\r\n", 7, 0);
	assert_string_equal(t.out, "500 5.5.2 Error: NUL byte in command\r\n");
	clear(&t);
	char longl[3000];
	memset(longl, 'A', sizeof longl);
	memcpy(longl + sizeof longl - 2, "\r\n", 2);
	feed(&t, longl, sizeof longl, 700);
	assert_string_equal(t.out, "500 5.5.2 Error: line too long\r\n");
	clear(&t);
	say(&t, "NOOP\r\n");
	assert_string_equal(t.out, "250 2.0.0 Ok\r\n");
	/* Inside DATA, NUL and long lines are the message's business (RFC 5321 4.5.3.1). */
	say(&t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\n");
	char data[900];
	memset(data, 'x', sizeof data);
	data[10] = '\0';
	memcpy(data + sizeof data - 5, "\r\n.\r\n", 5);
	assert_int_equal(feed(&t, data, sizeof data, 0), sizeof data);
	assert_int_equal(t.last, SMTP_EVENT_MESSAGE);
	struct smtp_message m;
	smtp_dialog_message(t.d, &m);
	assert_int_equal(m.len, sizeof data - 3);
	assert_int_equal(m.data[10], 0);
	talk_end(&t);
}

static void test_bad_sequence_and_errors(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	clear(&t);
	say(&t, "MAIL FROM:<a@b.example>\r\n");
	assert_string_equal(t.out, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	clear(&t);
	say(&t, "HELO\r\nHELO c\r\nRCPT TO:<x@trap.example>\r\nDATA\r\nVRFY x\r\n");
	assert_string_equal(t.out, "501 5.5.4 Syntax: HELO hostname\r\n250 trap.test\r\n"
				   "503 5.5.1 Error: need MAIL command\r\n"
				   "503 5.5.1 Error: need RCPT command\r\n"
				   "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery\r\n");
	clear(&t);
	/* A fifth error closes the session with 421. */
	say(&t, "BOGUS\r\n");
	assert_int_equal(t.last, SMTP_EVENT_CLOSE);
	assert_string_equal(t.out, "500 5.5.2 Error: command not recognized\r\n"
				   "421 4.7.0 trap.test Error: too many errors\r\n");
	enum smtp_event ev;
	assert_int_equal(smtp_dialog_feed(t.d, (const uint8_t *)"NOOP\r\n", 6, &ev), 6);
	assert_int_equal(ev, SMTP_EVENT_CLOSE);
	talk_end(&t);
}

static void test_relay_and_limits(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	say(&t, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
	clear(&t);
	/* A relay attempt, a subdomain of a trap domain, the postmaster of nowhere. */
	say(&t, "RCPT TO:<victim@gmail.example>\r\nRCPT TO:<a@sub.trap.example>\r\n"
		"RCPT TO:<postmaster>\r\n");
	const char *p = t.out;
	for (int i = 0; i < 3; i++) {
		assert_memory_equal(p, "550 5.1.1 ", 10);
		p = strstr(p, "\r\n") + 2;
	}
	clear(&t);
	say(&t, "DATA\r\n");
	assert_string_equal(t.out, "554 5.5.1 Error: no valid recipients\r\n");
	clear(&t);
	say(&t, "RCPT TO:<1@trap.example>\r\nRCPT TO:<2@trap.example>\r\nRCPT TO:<3@trap.example>\r\n"
		"RCPT TO:<4@trap.example>\r\n");
	assert_non_null(strstr(t.out, "452 4.5.3 Error: too many recipients\r\n"));
	talk_end(&t);

	/* Size: declared too big at MAIL, or found too big at the end (read to the end). */
	talk_start(&t, NULL);
	say(&t, "EHLO c\r\n");
	clear(&t);
	say(&t, "MAIL FROM:<a@b.example> SIZE=1001\r\n");
	assert_string_equal(t.out, "552 5.3.4 Message size exceeds fixed limit\r\n");
	clear(&t);
	say(&t, "MAIL FROM:<a@b.example> SIZE=10\r\nRCPT TO:<x@trap.example>\r\nDATA\r\n");
	char big[3000];
	memset(big, 'y', sizeof big);
	memcpy(big + sizeof big - 5, "\r\n.\r\n", 5);
	clear(&t);
	assert_int_equal(feed(&t, big, sizeof big, 256), sizeof big);
	assert_int_equal(t.last, SMTP_EVENT_NONE);
	assert_string_equal(t.out, "552 5.3.4 Error: message too big (the limit is 1000 bytes)\r\n");
	clear(&t);
	say(&t, "MAIL FROM:<a@b.example> FOO=1\r\nMAIL FROM:<a@b.example> BODY=BINARYMIME\r\n");
	assert_string_equal(t.out, "555 5.5.4 Unsupported option: FOO\r\n"
				   "501 5.5.4 Bad BODY parameter\r\n");
	talk_end(&t);
}

static void test_paths(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	say(&t, "EHLO c\r\n");
	clear(&t);
	/* A source route is dropped; a bare address is taken; a quoted '>' stays inside. */
	say(&t, "MAIL FROM: <@relay.example:s@x.example>\r\nRCPT TO:x@trap.example\r\n"
		"RCPT TO:<\"odd>name\"@trap.example>\r\nDATA\r\n.\r\n");
	assert_int_equal(t.last, SMTP_EVENT_MESSAGE);
	struct smtp_message m;
	smtp_dialog_message(t.d, &m);
	assert_string_equal(m.mail_from, "s@x.example");
	assert_string_equal(m.rcpts[0], "x@trap.example");
	assert_string_equal(m.rcpts[1], "\"odd>name\"@trap.example");
	smtp_dialog_message_done(t.d, true);
	take_output(&t);
	clear(&t);
	char lp[400];
	snprintf(lp, sizeof lp, "MAIL FROM:<%0300d@x.example>\r\nMAIL FROM:<a@b\r\n", 0);
	say(&t, lp);
	assert_string_equal(t.out, "501 5.1.7 Address too long\r\n501 5.1.7 Bad address syntax\r\n");
	talk_end(&t);
}

static void test_starttls(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	say(&t, "EHLO c\r\n");
	clear(&t);
	/* What follows STARTTLS in the same read is not consumed: the host drops it. */
	const char inj[] = "STARTTLS\r\nMAIL FROM:<injected@x.example>\r\n";
	size_t used = say(&t, inj);
	assert_int_equal(used, strlen("STARTTLS\r\n"));
	assert_int_equal(t.last, SMTP_EVENT_STARTTLS);
	assert_string_equal(t.out, "220 2.0.0 Ready to start TLS\r\n");
	smtp_dialog_tls_started(t.d);
	clear(&t);
	say(&t, "MAIL FROM:<a@b.example>\r\n");
	assert_string_equal(t.out, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	clear(&t);
	say(&t, "EHLO c\r\nSTARTTLS\r\n");
	assert_null(strstr(t.out, "STARTTLS\r\n250")); /* not offered again */
	assert_non_null(strstr(t.out, "250 ENHANCEDSTATUSCODES\r\n503 5.5.1 Error: TLS already active"));
	say(&t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\n.\r\n");
	struct smtp_message m;
	smtp_dialog_message(t.d, &m);
	assert_true(m.tls);
	talk_end(&t);

	struct smtp_dialog_config nocert = CFG;
	nocert.tls_available = false;
	talk_start(&t, &nocert);
	say(&t, "EHLO c\r\n");
	assert_null(strstr(t.out, "STARTTLS"));
	clear(&t);
	say(&t, "STARTTLS\r\n");
	assert_string_equal(t.out, "502 5.5.1 Error: command not implemented\r\n");
	talk_end(&t);
}

static void test_timeout_proxy_noclient(void **state)
{
	(void)state;
	struct talk t;
	talk_start(&t, NULL);
	say(&t, "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\npartial");
	clear(&t);
	smtp_dialog_timeout(t.d);
	take_output(&t);
	assert_string_equal(t.out, "421 4.4.2 trap.test Error: timeout exceeded\r\n");
	talk_end(&t);
	/* A PROXY header from an untrusted address is refused and closes the session. */
	talk_start(&t, NULL);
	clear(&t);
	say(&t, "PROXY TCP4 192.0.2.1 192.0.2.2 1000 25\r\nEHLO c\r\n");
	assert_int_equal(t.last, SMTP_EVENT_CLOSE);
	assert_string_equal(t.out, "554 5.7.0 Error: PROXY header not accepted from this address\r\n");
	talk_end(&t);
	/* No client address known: MAIL is refused, so nothing is recorded. */
	talk_start(&t, NULL);
	smtp_dialog_no_client(t.d);
	say(&t, "EHLO c\r\n");
	clear(&t);
	say(&t, "MAIL FROM:<a@b.example>\r\n");
	assert_memory_equal(t.out, "550 5.7.1 ", 10);
	talk_end(&t);
}

/* ---- the host's limits: the account of message buffers, progress, abort ---------------- */

/* A host's budget of message bytes, as smtp_server.c keeps it. */
struct budget {
	size_t held, peak, max;
	unsigned calls;
};

static bool budget_mem(void *arg, size_t from, size_t to)
{
	struct budget *b = arg;
	b->calls++;
	if (to <= from) {
		assert_true(b->held >= from - to);
		b->held -= from - to;
		return true;
	}
	if (b->held + (to - from) > b->max)
		return false;
	b->held += to - from;
	if (b->held > b->peak)
		b->peak = b->held;
	return true;
}

static void test_memory_account(void **state)
{
	(void)state;
	struct talk t;
	struct budget b = { .max = 4096 };
	/* A budget too small for a DATA's first buffer: 452 4.3.1, and the transaction stays, so
	 * that DATA may be tried again. */
	talk_start(&t, NULL);
	struct budget none = { .max = 100 };
	smtp_dialog_set_mem(t.d, budget_mem, &none);
	say(&t, "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@trap.example>\r\n");
	clear(&t);
	say(&t, "DATA\r\n");
	assert_string_equal(t.out, "452 4.3.1 Error: insufficient system storage, try again later\r\n");
	assert_false(smtp_dialog_in_data(t.d));
	clear(&t);
	none.max = 1000; /* the room was made: CFG's max_size of 1000 bytes is the first buffer */
	say(&t, "DATA\r\n");
	assert_string_equal(t.out, "354 End data with <CR><LF>.<CR><LF>\r\n");
	assert_int_equal(none.held, 1000);
	/* Never past max_size however the message grows: it is read to its end, 552. */
	char big[3000];
	memset(big, 'y', sizeof big);
	memcpy(big + sizeof big - 5, "\r\n.\r\n", 5);
	clear(&t);
	feed(&t, big, sizeof big, 100);
	assert_memory_equal(t.out, "552 5.3.4 ", 10);
	assert_int_equal(none.peak, 1000);
	assert_int_equal(none.held, 0); /* the transaction is over: no buffer held */
	talk_end(&t);

	/* A message that outgrows the budget is let go at once, read to its end and answered 452;
	 * the next one, smaller, is taken. */
	struct smtp_dialog_config cfg = CFG;
	cfg.max_size = 100000;
	talk_start(&t, &cfg);
	smtp_dialog_set_mem(t.d, budget_mem, &b);
	say(&t, "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\n");
	assert_int_equal(b.held, 4096);
	char msg[10000];
	memset(msg, 'z', sizeof msg);
	memcpy(msg + sizeof msg - 5, "\r\n.\r\n", 5);
	clear(&t);
	assert_int_equal(feed(&t, msg, sizeof msg, 1000), sizeof msg);
	assert_int_equal(t.last, SMTP_EVENT_NONE); /* never a message to store */
	assert_string_equal(t.out, "452 4.3.1 Error: insufficient system storage, try again later\r\n");
	assert_int_equal(b.held, 0);
	assert_int_equal(b.peak, 4096);
	clear(&t);
	say(&t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\nsmall\r\n.\r\n");
	assert_int_equal(t.last, SMTP_EVENT_MESSAGE);
	struct smtp_message m;
	smtp_dialog_message(t.d, &m);
	assert_int_equal(m.len, 7);
	assert_int_equal(b.held, 4096); /* held while the host stores it */
	smtp_dialog_message_done(t.d, true);
	assert_int_equal(b.held, 0);
	/* A buffer held at the end of the session goes with it. */
	say(&t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\npart");
	assert_int_equal(b.held, 4096);
	talk_end(&t);
	assert_int_equal(b.held, 0);
}

static void test_progress_and_abort(void **state)
{
	(void)state;
	struct talk t;
	struct smtp_dialog_progress p;
	talk_start(&t, NULL);
	say(&t, "EHLO c\r\nNOOP\r\nMAIL FR");
	smtp_dialog_progress(t.d, &p);
	assert_int_equal(p.commands, 2);
	assert_int_equal(p.line_bytes, 7); /* a line begun: the host's deadline counts it */
	assert_int_equal(p.held, 0);
	say(&t, "OM:<a@b.example>\r\nRCPT TO:<x@trap.example>\r\nDATA\r\nSubject: x\r\n");
	smtp_dialog_progress(t.d, &p);
	assert_int_equal(p.commands, 5);
	assert_int_equal(p.line_bytes, 0);
	assert_int_equal(p.data_bytes, 12);
	assert_int_equal(p.held, 1000);
	/* The host closes it for a limit of its own: 421, the message gone unrecorded. */
	struct budget b = { .max = 1 << 20 };
	smtp_dialog_set_mem(t.d, budget_mem, &b); /* from here on: only the release is seen */
	b.held = 1000;
	clear(&t);
	smtp_dialog_abort(t.d, "4.3.1", "insufficient system storage, your message stalled");
	take_output(&t);
	assert_string_equal(t.out, "421 4.3.1 trap.test Error: insufficient system storage, your "
				   "message stalled\r\n");
	assert_int_equal(b.held, 0);
	enum smtp_event ev;
	assert_int_equal(smtp_dialog_feed(t.d, (const uint8_t *)"x\r\n.\r\n", 6, &ev), 6);
	assert_int_equal(ev, SMTP_EVENT_CLOSE);
	talk_end(&t);
}

/* ---- PROXY headers ---------------------------------------------------------------------- */

static void ip_text(const uint8_t ip[16], char *buf)
{
	ip_format(ip, buf);
}

static void test_proxy_v1(void **state)
{
	(void)state;
	struct smtp_proxy_info pi;
	size_t used;
	char a[IP_STRLEN];
	const char v4[] = "PROXY TCP4 198.51.100.7 192.0.2.1 40000 25\r\nEHLO";
	assert_int_equal(smtp_proxy_parse((const uint8_t *)v4, sizeof v4 - 1, &used, &pi), 1);
	assert_int_equal(used, sizeof v4 - 1 - 4);
	ip_text(pi.src, a);
	assert_string_equal(a, "198.51.100.7");
	assert_int_equal(pi.src_port, 40000);
	assert_int_equal(pi.dst_port, 25);
	assert_false(pi.local);
	const char v6[] = "PROXY TCP6 2001:db8::7 2001:db8::1 65535 25\r\n";
	assert_int_equal(smtp_proxy_parse((const uint8_t *)v6, sizeof v6 - 1, &used, &pi), 1);
	ip_text(pi.src, a);
	assert_string_equal(a, "2001:db8::7");
	const char unk[] = "PROXY UNKNOWN whatever\r\n";
	assert_int_equal(smtp_proxy_parse((const uint8_t *)unk, sizeof unk - 1, &used, &pi), 1);
	assert_true(pi.local);
	/* Incomplete: more is needed; every prefix of a good header says so. */
	for (size_t n = 0; n < sizeof v4 - 5; n++)
		assert_int_equal(smtp_proxy_parse((const uint8_t *)v4, n, &used, &pi), 0);
	static const char *const bad[] = {
		"PROXY TCP4 198.51.100.7 192.0.2.1 40000 25\n",    /* bare LF */
		"PROXY TCP4 2001:db8::1 192.0.2.1 40000 25\r\n",    /* family mismatch */
		"PROXY TCP4 198.51.100.7 192.0.2.1 040000 25\r\n",  /* leading zero */
		"PROXY TCP4 198.51.100.7 192.0.2.1 65536 25\r\n",   /* port range */
		"PROXY TCP4 198.51.100.7  192.0.2.1 1 25\r\n",      /* two spaces */
		"PROXY TCP4 198.51.100.7 192.0.2.1 1 25 x\r\n",     /* extra field */
		"PROXY UDP4 198.51.100.7 192.0.2.1 1 25\r\n",
		"EHLO client.example\r\n",
		"proxy TCP4 198.51.100.7 192.0.2.1 1 25\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (smtp_proxy_parse((const uint8_t *)bad[i], strlen(bad[i]), &used, &pi) !=
		    SMTP_EPROTO)
			fail_msg("accepted: %s", bad[i]);
	char longl[200] = "PROXY TCP4 ";
	memset(longl + 11, '1', sizeof longl - 12);
	assert_int_equal(smtp_proxy_parse((const uint8_t *)longl, sizeof longl - 1, &used, &pi),
			 SMTP_EPROTO);
}

static size_t v2_header(uint8_t *b, uint8_t ver_cmd, uint8_t fam, const uint8_t *addr,
			size_t alen)
{
	static const uint8_t sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
					 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
	memcpy(b, sig, 12);
	b[12] = ver_cmd;
	b[13] = fam;
	b[14] = (uint8_t)(alen >> 8);
	b[15] = (uint8_t)alen;
	if (alen)
		memcpy(b + 16, addr, alen);
	return 16 + alen;
}

static void test_proxy_v2(void **state)
{
	(void)state;
	struct smtp_proxy_info pi;
	size_t used;
	char a[IP_STRLEN];
	uint8_t b[256];
	/* INET, STREAM, with a TLV after the addresses (skipped). */
	const uint8_t in4[] = { 203, 0, 113, 9, 192, 0, 2, 1, 0x9c, 0x40, 0, 25, 0x04, 0, 1, 'x' };
	size_t n = v2_header(b, 0x21, 0x11, in4, sizeof in4);
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), 1);
	assert_int_equal(used, n);
	ip_text(pi.src, a);
	assert_string_equal(a, "203.0.113.9");
	assert_int_equal(pi.src_port, 40000);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(smtp_proxy_parse(b, k, &used, &pi), 0);
	uint8_t in6[36] = { 0x20, 0x01, 0x0d, 0xb8 };
	in6[15] = 9;
	n = v2_header(b, 0x21, 0x21, in6, sizeof in6);
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), 1);
	ip_text(pi.src, a);
	assert_string_equal(a, "2001:db8::9");
	/* LOCAL: a health check of the proxy itself. */
	n = v2_header(b, 0x20, 0x00, NULL, 0);
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), 1);
	assert_true(pi.local);
	/* Version 3, an unknown command, UDP, AF_UNIX, a short address block. */
	n = v2_header(b, 0x31, 0x11, in4, 12);
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), SMTP_EPROTO);
	n = v2_header(b, 0x22, 0x11, in4, 12);
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), SMTP_EPROTO);
	n = v2_header(b, 0x21, 0x12, in4, 12);
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), SMTP_EPROTO);
	n = v2_header(b, 0x21, 0x31, in4, 12);
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), SMTP_EPROTO);
	n = v2_header(b, 0x21, 0x11, in4, 8);
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), SMTP_EPROTO);
	/* A length beyond what is accepted. */
	n = v2_header(b, 0x21, 0x11, in4, 12);
	b[14] = 0xFF;
	assert_int_equal(smtp_proxy_parse(b, n, &used, &pi), SMTP_EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_dialogue),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_data_end_and_unstuffing),
		cmocka_unit_test(test_nul_and_bare_lf_and_long_lines),
		cmocka_unit_test(test_bad_sequence_and_errors),
		cmocka_unit_test(test_relay_and_limits),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_timeout_proxy_noclient),
		cmocka_unit_test(test_memory_account),
		cmocka_unit_test(test_progress_and_abort),
		cmocka_unit_test(test_proxy_v1),
		cmocka_unit_test(test_proxy_v2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
