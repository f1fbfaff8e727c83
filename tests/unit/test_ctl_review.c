/* test_ctl_review.c - review requests and moderators through ctl, the writer and the store:
 * the form's checks, filing within the limits, decisions and what they write, logins and
 * sessions, and every refusal writing nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "ctl/ctl.h"
#include "writer/writer.h"
#include "zone/zone.h"

struct fx {
	char dir[40];
	struct config cfg;
	struct store *store, *reader;
	struct zone_handle *zone;
	struct zone_defaults d;
	struct writer *writer;
	struct ctl_service svc;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_ctl_review.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	config_defaults(&f->cfg);
	f->cfg.review_per_client_day = 3;
	f->cfg.review_per_ip_day = 2;
	snprintf(f->cfg.trap_domains, sizeof(f->cfg.trap_domains), "trap.example");
	assert_int_equal(store_open(f->dir, &f->store), STORE_OK);
	f->zone = zone_handle_new();
	zone_defaults_from(&f->cfg, &f->d);
	struct writer_config wc;
	writer_config_from(&f->cfg, false, &wc);
	wc.batch_wait_ms = 1;
	zone_reader_register();
	assert_int_equal(writer_start(&wc, f->store, f->zone, &f->d, &f->writer), WRITER_OK);
	assert_int_equal(store_open_mode(f->dir, false, &f->reader), STORE_OK);
	ctl_service_init(&f->svc, &f->cfg, f->writer, f->reader, f->zone);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->reader);
	writer_stop(f->writer);
	zone_defaults_free(&f->d);
	zone_reader_unregister();
	zone_handle_free(f->zone);
	store_close(f->store);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void ip(const char *s, uint8_t out[16])
{
	assert_int_equal(ip_parse(s, strlen(s), out), 0);
}

/* Three trap hits: listed. */
static void listed(struct fx *f, const char *addr)
{
	for (int i = 0; i < 3; i++) {
		struct writer_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.type = WRITER_EV_EVIDENCE;
		ip(addr, ev.evidence.ip);
		ev.evidence.kind = STORE_KIND_TRAP;
		ev.evidence.cls = STORE_CLASS_SPAM;
		assert_int_equal(writer_submit(f->writer, &ev), WRITER_OK);
	}
}

static struct ctl_review_input input(const char *addr, const char *email, const char *fixed,
				     const char *comment)
{
	struct ctl_review_input in = {addr, email, fixed, comment, strlen(addr), strlen(email),
				      strlen(fixed), comment ? strlen(comment) : 0};
	return in;
}

static int check(struct fx *f, struct ctl_review_input in, struct store_ticket *t,
		 const char **field)
{
	char why[128];
	return ctl_review_check(&f->svc, &in, t, field, why, sizeof(why));
}

static void test_check(void **state)
{
	struct fx *f = *state;
	struct store_ticket *t = calloc(1, sizeof(*t));
	const char *field;
	assert_int_equal(check(f, input("193.0.2.1", " pm@example.org ", "closed the relay\r\nand "
				      "the form", "caf\xc3\xa9 <3 & a < b"), t, &field),
			 CTL_OK);
	assert_string_equal(t->email, "pm@example.org");
	assert_string_equal(t->fixed, "closed the relay\nand the form");
	assert_string_equal(t->comment, "caf\xc3\xa9 <3 & a < b"); /* text, not markup */
	/* Angle brackets are text: a pasted bounce, even what looks like a tag, is kept as typed
	 * (every page escapes it: test_review.sh). */
	static const char *const pasted[] = {
		"550 5.1.1 <user@example.org>: Recipient address rejected",
		"<script>alert(1)</script>", "see </textarea>", "<!-- x -->", "<?php mail(); ?>",
	};
	for (size_t i = 0; i < sizeof(pasted) / sizeof(pasted[0]); i++) {
		assert_int_equal(check(f, input("193.0.2.1", "a@b.example", pasted[i], pasted[i]), t,
				       &field),
				 CTL_OK);
		assert_string_equal(t->fixed, pasted[i]);
		assert_string_equal(t->comment, pasted[i]);
	}
	/* Any run of CRs before an LF goes with it: no CRLF is left (found by fuzz_ctl_review). */
	assert_int_equal(check(f, input("193.0.2.1", "a@b.example", "a\r\r\r\nb\rc", ""), t, &field),
			 CTL_OK);
	assert_string_equal(t->fixed, "a\nb\rc");
	/* What is wrong with an e-mail address, in words that follow "Your e-mail address". */
	static const struct {
		const char *email, *why;
	} emails[] = {
		{"nobody", "needs one @ between the name and the domain, like name@example.org"},
		{"a@@b.example", "needs one @ between the name and the domain, like name@example.org"},
		{"@b.example", "needs a name before the @, like name@example.org"},
		{"a@b", "needs a whole domain after the @, with a dot, like example.org"},
		{"a@", "needs a domain after the @, like name@example.org"},
		{"a b@c.example", "holds a space, which cannot be in an e-mail address"},
		{"<script>@x.example", "holds \"<\", which cannot be in an e-mail address"},
		{"a..b@c.example", "cannot have two dots in a row"},
		{"a@-b.example", "has a domain after the @ that is not a domain name: letters, digits, "
				 "hyphens and dots, like example.org"},
	};
	for (size_t i = 0; i < sizeof(emails) / sizeof(emails[0]); i++) {
		char why[192];
		struct ctl_review_input in = input("193.0.2.1", emails[i].email, "x", "");
		assert_int_equal(ctl_review_check(&f->svc, &in, t, &field, why, sizeof(why)),
				 CTL_EINVAL);
		assert_string_equal(field, "email");
		assert_string_equal(why, emails[i].why);
		assert_null(strstr(why, "is not an e-mail address"));
	}
	static const struct {
		const char *ip, *email, *fixed, *comment, *field;
	} bad[] = {
		{"193.0.2.0/24", "a@b.example", "x", "", "ip"},
		{"example.org", "a@b.example", "x", "", "ip"},
		{"193.0.2.1", "", "x", "", "email"},
		{"193.0.2.1", "nobody", "x", "", "email"},
		{"193.0.2.1", "a@b", "x", "", "email"},
		{"193.0.2.1", "a@@b.example", "x", "", "email"},
		{"193.0.2.1", "a b@c.example", "x", "", "email"},
		{"193.0.2.1", "<script>@x.example", "x", "", "email"},
		{"193.0.2.1", "a@b.example\"><script>", "x", "", "email"},
		{"193.0.2.1", ".a@b.example", "x", "", "email"},
		{"193.0.2.1", "a..b@c.example", "x", "", "email"},
		{"193.0.2.1", "a@-b.example", "x", "", "email"},
		{"193.0.2.1", "a@b.example", "", "", "fixed"},
		{"193.0.2.1", "a@b.example", "  \r\n ", "", "fixed"},
		{"193.0.2.1", "a@b.example", "a\x01" "b", "", "fixed"},
		{"193.0.2.1", "a@b.example", "bad \xff utf-8", "", "fixed"},
		{"193.0.2.1", "a@b.example", "overlong \xc0\xbc", "", "fixed"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		field = NULL;
		assert_int_equal(check(f, input(bad[i].ip, bad[i].email, bad[i].fixed, bad[i].comment),
				       t, &field),
				 CTL_EINVAL);
		assert_non_null(field);
		if (strcmp(field, bad[i].field) != 0)
			fail_msg("case %zu: field %s, wanted %s", i, field, bad[i].field);
	}
	/* A NUL inside a field (%00 in the form) and text over the limit. */
	struct ctl_review_input in = input("193.0.2.1", "a@b.example", "ab", "");
	in.fixed = "a\0b";
	in.fixed_len = 3;
	assert_int_equal(check(f, in, t, &field), CTL_EINVAL);
	char *big = malloc(5000);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	assert_int_equal(check(f, input("193.0.2.1", "a@b.example", big, ""), t, &field), CTL_EINVAL);
	assert_string_equal(field, "fixed");
	big[4000] = '\0';
	assert_int_equal(check(f, input("193.0.2.1", "a@b.example", big, big), t, &field), CTL_OK);
	free(big);
	free(t);
}

static int count_ticket(const struct store_ticket *t, void *arg)
{
	(void)t;
	(*(size_t *)arg)++;
	return 0;
}

static size_t tickets(struct fx *f)
{
	size_t n = 0;
	assert_int_equal(store_ticket_foreach(f->reader, false, count_ticket, &n), STORE_OK);
	return n;
}

static int count_audit(int64_t at, const char *who, const char *what, const char *target,
		       const char *why, void *arg)
{
	(void)at, (void)who, (void)target, (void)why;
	char *out = arg;
	strcat(out, what);
	strcat(out, " ");
	return 0;
}

static void audit(struct fx *f, char *out)
{
	out[0] = '\0';
	assert_int_equal(store_audit_foreach(f->reader, 0, count_audit, out), STORE_OK);
}

static enum ctl_review_outcome file(struct fx *f, const char *addr, const char *client,
				    char id[STORE_TICKET_ID_LEN + 1])
{
	struct store_ticket *t = calloc(1, sizeof(*t));
	const char *field;
	assert_int_equal(check(f, input(addr, "pm@example.org", "fixed it", ""), t, &field), CTL_OK);
	ip(client, t->client);
	enum ctl_review_outcome o = ctl_review_file(&f->svc, t);
	if (id)
		memcpy(id, t->id, STORE_TICKET_ID_LEN + 1);
	free(t);
	return o;
}

static void test_file_limits(void **state)
{
	struct fx *f = *state;
	char id[STORE_TICKET_ID_LEN + 1], id2[STORE_TICKET_ID_LEN + 1];
	/* Not listed: nothing to review, nothing written. */
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.1", NULL), CTL_REVIEW_NOT_LISTED);
	assert_int_equal(tickets(f), 0);
	listed(f, "193.0.2.1");
	listed(f, "193.0.2.2");
	listed(f, "193.0.2.3");
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.1", id), CTL_REVIEW_FILED);
	assert_int_equal(strlen(id), STORE_TICKET_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), STORE_TICKET_ID_LEN);
	/* Anyone may ask about 193.0.2.1 again, as often as their own limit allows: each request
	 * joins the one open ticket, and none uses up what the address may ask (review_per_ip_day
	 * is 2 here). */
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.2", id2), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.3", NULL), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.4", NULL), CTL_REVIEW_FILED);
	assert_int_equal(tickets(f), 1); /* one ticket of its own: the others joined it */
	struct store_ticket *t = calloc(1, sizeof(*t));
	assert_int_equal(store_ticket_get(f->reader, id, t), STORE_OK);
	assert_int_equal(t->joined_n, 3);
	assert_string_equal(t->joined, "");
	assert_int_equal(store_ticket_get(f->reader, id2, t), STORE_OK);
	assert_string_equal(t->joined, id);
	assert_int_equal(t->status, STORE_TICKET_OPEN);
	/* Three from 199.51.100.1 in a day: a fourth is refused, whatever it is about. */
	assert_int_equal(file(f, "193.0.2.2", "199.51.100.1", NULL), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.3", "199.51.100.1", NULL), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.3", "199.51.100.1", NULL), CTL_REVIEW_CLIENT_LIMIT);
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.1", NULL), CTL_REVIEW_CLIENT_LIMIT);
	assert_int_equal(tickets(f), 3);
	assert_int_equal(store_ticket_get(f->reader, id, t), STORE_OK);
	assert_int_equal(t->status, STORE_TICKET_OPEN);
	assert_string_equal(t->fixed, "fixed it");
	/* The per-address limit counts decided tickets: two rejected in a day, a third ticket
	 * about the address is refused; a request joining an open one never is. */
	struct writer_decision d;
	assert_int_equal(ctl_review_decide(&f->svc, id, STORE_TICKET_REJECTED, 0, "cli:test",
					   "still sending", NULL, &d),
			 WRITER_OK);
	assert_int_equal(d.requests, 4); /* the ticket and the three that joined it */
	assert_int_equal(store_ticket_get(f->reader, id2, t), STORE_OK);
	assert_int_equal(t->status, STORE_TICKET_REJECTED);
	assert_string_equal(t->reason, "still sending");
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.5", id), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.6", NULL), CTL_REVIEW_FILED); /* joins */
	assert_int_equal(ctl_review_decide(&f->svc, id, STORE_TICKET_REJECTED, 0, "cli:test", "no",
					   NULL, &d),
			 WRITER_OK);
	assert_int_equal(file(f, "193.0.2.1", "199.51.100.7", NULL), CTL_REVIEW_IP_LIMIT);
	free(t);
}

static bool dns_listed(struct fx *f, const char *addr)
{
	uint8_t a[16];
	ip(addr, a);
	struct store_listing l;
	return store_listing_get(f->reader, a, &l) == STORE_OK;
}

static void test_decisions(void **state)
{
	struct fx *f = *state;
	char a[STORE_TICKET_ID_LEN + 1], b[STORE_TICKET_ID_LEN + 1], c[STORE_TICKET_ID_LEN + 1];
	listed(f, "193.0.2.10");
	listed(f, "193.0.2.11");
	listed(f, "193.0.2.12");
	assert_int_equal(file(f, "193.0.2.10", "199.51.100.9", a), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.11", "199.51.100.8", b), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.12", "199.51.100.7", c), CTL_REVIEW_FILED);
	struct writer_decision d;
	char log[512];
	assert_int_equal(ctl_review_decide(&f->svc, a, STORE_TICKET_DELISTED, 0, "cli:test",
					   "relay closed", NULL, &d),
			 WRITER_OK);
	assert_false(dns_listed(f, "193.0.2.10"));
	/* Decided once: a second decision writes nothing. */
	audit(f, log);
	assert_string_equal(log, "delist ");
	assert_int_equal(ctl_review_decide(&f->svc, a, STORE_TICKET_REJECTED, 0, "cli:test", "no",
					   NULL, &d),
			 WRITER_EEXIST);
	assert_int_equal(d.refusal, WRITER_REFUSED_DECIDED);
	audit(f, log);
	assert_string_equal(log, "delist ");
	/* An id nobody was given. */
	assert_int_equal(ctl_review_decide(&f->svc, "0123456789abcdef0123456789abcdef",
					   STORE_TICKET_DELISTED, 0, "cli:test", "x", NULL, &d),
			 WRITER_ENOTFOUND);
	assert_int_equal(d.refusal, WRITER_REFUSED_NO_TICKET);
	/* An exclusion of that one address, until a time; an exclusion in the past is bad. */
	assert_int_equal(ctl_review_decide(&f->svc, b, STORE_TICKET_EXCLUDED, time_now() - 1,
					   "cli:test", "x", NULL, &d),
			 WRITER_EINVAL);
	assert_int_equal(ctl_review_decide(&f->svc, b, STORE_TICKET_EXCLUDED,
					   time_now() + 86400, "cli:test", "customer relay", NULL,
					   &d),
			 WRITER_OK);
	assert_false(dns_listed(f, "193.0.2.11"));
	assert_int_equal(ctl_review_decide(&f->svc, c, STORE_TICKET_REJECTED, 0, "cli:test",
					   "still sending", NULL, &d),
			 WRITER_OK);
	assert_true(dns_listed(f, "193.0.2.12")); /* a rejection leaves the listing */
	audit(f, log);
	assert_string_equal(log, "delist exclude review-reject ");
	struct store_ticket *t = calloc(1, sizeof(*t));
	assert_int_equal(store_ticket_get(f->reader, b, t), STORE_OK);
	assert_int_equal(t->status, STORE_TICKET_EXCLUDED);
	assert_string_equal(t->moderator, "cli:test");
	assert_string_equal(t->reason, "customer relay");
	assert_true(t->until > time_now());
	assert_false(t->by_action); /* decided on the ticket, not closed by an action outside */
	free(t);
}

static int event_whats(const struct store_ticket_event *e, void *arg)
{
	strcat(arg, e->what);
	strcat(arg, " ");
	return 0;
}

static void events(struct fx *f, const char *id, char *out)
{
	out[0] = '\0';
	assert_int_equal(store_ticket_event_foreach(f->reader, id, event_whats, out), STORE_OK);
}

/* The operator's delisting or exclusion, made outside any ticket, answers the open tickets of
 * the addresses it covers: they are closed, said so in their history and the audit log, and a
 * moderator can no longer reject what the operator delisted. */
static void test_answered_by_action(void **state)
{
	struct fx *f = *state;
	char a[STORE_TICKET_ID_LEN + 1], b[STORE_TICKET_ID_LEN + 1], c[STORE_TICKET_ID_LEN + 1];
	char x[STORE_TICKET_ID_LEN + 1], log[512];
	listed(f, "193.0.2.30");
	listed(f, "193.0.2.40");
	listed(f, "193.0.2.41");
	assert_int_equal(file(f, "193.0.2.30", "199.51.100.30", a), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.30", "199.51.100.31", b), CTL_REVIEW_FILED); /* joins a */
	assert_int_equal(file(f, "193.0.2.40", "199.51.100.32", c), CTL_REVIEW_FILED);
	assert_int_equal(file(f, "193.0.2.41", "199.51.100.33", x), CTL_REVIEW_FILED);
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_DELIST;
	ip("193.0.2.30", ev.ip);
	snprintf(ev.who, sizeof(ev.who), "cli:root");
	snprintf(ev.why, sizeof(ev.why), "operator's note: customer called");
	assert_int_equal(writer_submit(f->writer, &ev), WRITER_OK);
	struct store_ticket *t = calloc(1, sizeof(*t));
	for (const char *id = a;; id = b) {
		assert_int_equal(store_ticket_get(f->reader, id, t), STORE_OK);
		assert_int_equal(t->status, STORE_TICKET_DELISTED);
		assert_true(t->by_action);
		assert_string_equal(t->moderator, "cli:root");
		assert_string_equal(t->reason, ""); /* the operator's note is not the requester's */
		if (id == b)
			break;
	}
	events(f, a, log);
	assert_string_equal(log, "filed added operator-delist ");
	events(f, b, log);
	assert_string_equal(log, "filed joined operator-delist ");
	audit(f, log);
	assert_string_equal(log, "delist review-close review-close ");
	/* Rejecting it now is refused, and says how it was closed. */
	struct writer_decision d;
	assert_int_equal(ctl_review_decide(&f->svc, a, STORE_TICKET_REJECTED, 0, "moderator:alice",
					   "the listing stands", NULL, &d),
			 WRITER_EEXIST);
	assert_int_equal(d.refusal, WRITER_REFUSED_DECIDED);
	assert_true(d.was_by_action);
	assert_int_equal(d.was, STORE_TICKET_DELISTED);
	assert_string_equal(d.was_who, "cli:root");
	/* An exclusion of a range closes the tickets of every address in it. */
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_EXCLUDE;
	assert_int_equal(ip_prefix_parse("193.0.2.0/24", 12, &ev.prefix), BASE_OK);
	ev.until = time_now() + 86400;
	snprintf(ev.who, sizeof(ev.who), "ctl:root");
	snprintf(ev.why, sizeof(ev.why), "partner's relays");
	assert_int_equal(writer_submit(f->writer, &ev), WRITER_OK);
	for (const char *id = c;; id = x) {
		assert_int_equal(store_ticket_get(f->reader, id, t), STORE_OK);
		assert_int_equal(t->status, STORE_TICKET_EXCLUDED);
		assert_true(t->by_action);
		assert_int_equal(t->until, ev.until);
		if (id == x)
			break;
	}
	events(f, c, log);
	assert_string_equal(log, "filed operator-exclude ");
	free(t);
}

static void test_sessions(void **state)
{
	struct fx *f = *state;
	struct store_moderator m;
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "alice");
	assert_int_equal(ctl_password_hash("short", 5, m.pw_hash), CTL_EINVAL);
	assert_int_equal(ctl_password_hash("correct horse battery", 21, m.pw_hash), CTL_OK);
	assert_int_equal(strncmp(m.pw_hash, "$argon2id$", 10), 0);
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_MODERATOR_ADD;
	ev.moderator = &m;
	snprintf(ev.who, sizeof(ev.who), "cli:test");
	assert_int_equal(writer_submit(f->writer, &ev), WRITER_OK);
	/* A hash that is not argon2id is never stored (a password in the clear would be). */
	struct store_moderator plain = m;
	snprintf(plain.name, sizeof(plain.name), "bob");
	snprintf(plain.pw_hash, sizeof(plain.pw_hash), "correct horse battery");
	ev.moderator = &plain;
	assert_int_equal(writer_submit(f->writer, &ev), WRITER_EINVAL);

	char token[CTL_TOKEN_LEN + 1];
	struct store_session s;
	int64_t now = time_now();
	assert_int_equal(ctl_moderator_login(&f->svc, f->reader, "alice", "wrong horse battery", 19,
					     now, token, &s),
			 CTL_ENOTFOUND);
	assert_int_equal(ctl_moderator_login(&f->svc, f->reader, "nobody", "correct horse battery",
					     21, now, token, &s),
			 CTL_ENOTFOUND);
	assert_int_equal(ctl_moderator_login(&f->svc, f->reader, "alice", "correct horse battery",
					     21, now, token, &s),
			 CTL_OK);
	assert_int_equal(strlen(token), CTL_TOKEN_LEN);
	struct store_session live;
	assert_int_equal(ctl_session_get(f->reader, token, CTL_TOKEN_LEN, now, &live), CTL_OK);
	assert_string_equal(live.name, "alice");
	assert_int_equal(live.expires_at, now + 12 * 3600);
	assert_int_equal(ctl_session_get(f->reader, token, CTL_TOKEN_LEN - 1, now, &live),
			 CTL_ENOTFOUND);

	/* A decision made in a session that ended writes nothing: after a logout, and after the
	 * moderator's removal (a second session of hers). */
	char id[STORE_TICKET_ID_LEN + 1], log[512];
	listed(f, "193.0.2.20");
	assert_int_equal(file(f, "193.0.2.20", "199.51.100.20", id), CTL_REVIEW_FILED);
	assert_int_equal(ctl_session_end(&f->svc, &live), CTL_OK);
	assert_int_equal(ctl_session_end(&f->svc, &live), CTL_ENOTFOUND);
	struct writer_decision d;
	assert_int_equal(ctl_review_decide(&f->svc, id, STORE_TICKET_DELISTED, 0, "moderator:alice",
					   "replayed", live.token_hash, &d),
			 WRITER_ENOTFOUND);
	assert_int_equal(d.refusal, WRITER_REFUSED_SESSION);
	assert_int_equal(ctl_moderator_login(&f->svc, f->reader, "alice", "correct horse battery",
					     21, now, token, &s),
			 CTL_OK);
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_MODERATOR_REMOVE;
	ev.moderator = &m;
	snprintf(ev.who, sizeof(ev.who), "cli:test");
	assert_int_equal(writer_submit(f->writer, &ev), WRITER_OK);
	assert_int_equal(ctl_session_get(f->reader, token, CTL_TOKEN_LEN, now, &live), CTL_ENOTFOUND);
	assert_int_equal(ctl_review_decide(&f->svc, id, STORE_TICKET_DELISTED, 0, "moderator:alice",
					   "after removal", s.token_hash, &d),
			 WRITER_ENOTFOUND);
	assert_int_equal(d.refusal, WRITER_REFUSED_SESSION);
	assert_true(dns_listed(f, "193.0.2.20"));
	audit(f, log);
	assert_string_equal(log, "moderator-add moderator-remove ");
	assert_int_equal(ctl_moderator_login(&f->svc, f->reader, "alice", "correct horse battery",
					     21, now, token, &s),
			 CTL_ENOTFOUND);
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answered_by_action, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
