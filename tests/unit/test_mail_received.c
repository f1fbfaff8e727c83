/* test_mail_received.c - unit tests of src/mail's Received parser, trusted relays and chain
 * walk: every MTA form, what a forger controls (HELO, forged lines below), the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail/mail.h"

/* One header as an MTA writes it and what must be read from it. ip "" = no peer. */
struct form_case {
	const char *what;
	const char *hdr;
	enum mail_received_kind kind;
	enum mail_received_form form;
	const char *ip, *rdns;
	bool confirmed;
	const char *helo, *by;
};

static const struct form_case forms[] = {
	{"postfix", " from mail.example.net (mail.example.net [199.51.100.7])\n\tby mx.example.org "
	 "(Postfix) with ESMTPS id 4XyZ1k2Lmn\n\tfor <u@example.org>; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "199.51.100.7", "mail.example.net", true,
	 "mail.example.net", "mx.example.org"},
	{"postfix unknown name, HELO a trusted name", " from relay.example.org (unknown "
	 "[204.0.113.9])\n\tby mx.example.org (Postfix) with ESMTP id 1; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.9", "", false, "relay.example.org",
	 "mx.example.org"},
	{"postfix IPv6", " from mail.example.net (mail.example.net [IPv6:2a01:db8:1::25])\n\tby "
	 "mx.example.org (Postfix) with ESMTPS id 2; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "2a01:db8:1::25", "mail.example.net", true,
	 "mail.example.net", "mx.example.org"},
	{"postfix IPv4-mapped", " from h (unknown [IPv6:::ffff:204.0.113.9]) by mx (Postfix) with "
	 "ESMTP id 3; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.9", "", false, "h", "mx"},
	{"postfix HELO address literal, TLS and auth comments", " from [192.168.1.20] (unknown "
	 "[204.0.113.10])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\t"
	 "(Authenticated sender: alice)\n\tby smtp.example.org (Postfix) with ESMTPSA id 4;\n\tMon, "
	 "23 Nov 2026 10:00:00 +0000", MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.10", "",
	 false, "[192.168.1.20]", "smtp.example.org"},
	{"HELO is the word by", " from by (unknown [204.0.113.11]) by mx.example.org (Postfix) "
	 "with ESMTP id 5; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.11", "", false, "by", "mx.example.org"},
	{"sendmail ident and may be forged", " from helo.example.net (user@ptr.example.net "
	 "[204.0.113.12] (may be forged))\n\tby mx.example.org (8.17.1/8.17.1/Debian-1) with ESMTP id "
	 "2ANA0001; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.12", "ptr.example.net", false,
	 "helo.example.net", "mx.example.org"},
	{"sendmail no reverse name", " from helo.example.net ([204.0.113.13])\n\tby mx.example.org "
	 "(8.17.1/8.17.1) with ESMTP id 2ANA0002; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.13", "", false, "helo.example.net",
	 "mx.example.org"},
	{"sendmail without HELO", " (from ptr.example.net [204.0.113.14])\n\tby mx.example.org "
	 "(8.17.1/8.17.1) with SMTP id 2ANA0003; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.14", "ptr.example.net", true, "",
	 "mx.example.org"},
	{"sendmail local submission", " (from root@localhost)\n\tby mx.example.org "
	 "(8.17.1/8.17.1/Submit) id 2ANA0004; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_NONE, "", "", false, "", "mx.example.org"},
	{"exim verified name, port, helo", " from host.example.net ([204.0.113.20]:51234 "
	 "helo=relay.example.org)\n\tby mx.example.org with esmtps (TLS1.3) tls "
	 "TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from <a@example.net>)\n\tid "
	 "1tXyZa-000Abc-1D\n\tfor u@example.org; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_EXIM, "204.0.113.20", "host.example.net", true,
	 "relay.example.org", "mx.example.org"},
	{"exim no name", " from [204.0.113.21] (port=40112 helo=spam.example.net)\n\tby "
	 "mx.example.org with esmtp (Exim 4.96)\n\t(envelope-from <a@example.net>)\n\tid "
	 "1tXyZa-000Abc-1E; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_EXIM, "204.0.113.21", "", false, "spam.example.net",
	 "mx.example.org"},
	{"exim helo equals name", " from relay.example.org ([193.0.2.30])\n\tby mx.example.org with "
	 "esmtp (Exim 4.96)\n\t(envelope-from <a@example.org>)\n\tid 1tXyZa-000Abc-1F; Mon, 23 Nov "
	 "2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_EXIM, "193.0.2.30", "relay.example.org", true,
	 "relay.example.org", "mx.example.org"},
	{"exim IPv6 and port", " from host6.example.net ([2a01:db8:bad::7]:45678 helo=x)\n\tby "
	 "mx.example.org with esmtp (Exim 4.96)\n\tid 1tXyZa-000Abc-1G; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_EXIM, "2a01:db8:bad::7", "host6.example.net", true, "x",
	 "mx.example.org"},
	{"exim local", " from alice by mx.example.org with local (Exim 4.96)\n\t(envelope-from "
	 "<alice@example.org>)\n\tid 1tXyZa-000Abc-1H; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_NONE, "", "", false, "alice", "mx.example.org"},
	{"exim envelope-from cannot fake a signature", " from relay.example.org ([204.0.113.22])\n\t"
	 "by mx.example.org (8.17.1/8.17.1) with ESMTP id 2ANA0005\n\tfor <\"(Exim 4.96)\"@example.org>;"
	 " Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.22", "", false, "relay.example.org",
	 "mx.example.org"},
	{"qmail", " from unknown (HELO mail.example.net) (204.0.113.33)\n  by mx.example.org with "
	 "SMTP; 23 Nov 2026 10:00:00 -0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_QMAIL, "204.0.113.33", "", false, "mail.example.net",
	 "mx.example.org"},
	{"qmail name is not confirmed", " from relay.example.org (HELO x) (ident@204.0.113.34)\n  by "
	 "mx.example.org with SMTP; 23 Nov 2026 10:00:00 -0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_QMAIL, "204.0.113.34", "relay.example.org", false, "x",
	 "mx.example.org"},
	{"qmail invoked from network", " (qmail 12345 invoked from network); 23 Nov 2026 10:00:00 "
	 "-0000", MAIL_RECEIVED_NO_PEER, MAIL_FORM_NONE, "", "", false, "", ""},
	{"yahoo EHLO", " from 204.0.113.35 (EHLO mail.example.net) (204.0.113.35)\n  by "
	 "mta1003.mail.gq1.yahoo.com with SMTPS; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_QMAIL, "204.0.113.35", "", false, "mail.example.net",
	 "mta1003.mail.gq1.yahoo.com"},
	{"exchange", " from mail.example.net (204.0.113.50) by EX01.corp.example.org (10.20.0.11) "
	 "with Microsoft SMTP Server (version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) "
	 "id\r\n 15.2.1258.12 via Frontend Transport; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "204.0.113.50", "", false, "mail.example.net",
	 "EX01.corp.example.org"},
	{"exchange IPv6 bare", " from AM0PR03MB1234.eurprd03.prod.outlook.com (2a01:db8:365::15) by "
	 "AM0PR03MB5678.eurprd03.prod.outlook.com (2a01:db8:365::20) with Microsoft SMTP Server id "
	 "15.20.1234.5; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "2a01:db8:365::15", "", false,
	 "AM0PR03MB1234.eurprd03.prod.outlook.com", "AM0PR03MB5678.eurprd03.prod.outlook.com"},
	{"exchange mapi link-local with zone", " from EX02.corp.example.org "
	 "([fe80::5d2c:1a4b:3e6f:7a8b]) by EX02.corp.example.org ([fe80::5d2c:1a4b:3e6f:7a8b%12]) "
	 "with mapi id 15.02.1258.012; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "fe80::5d2c:1a4b:3e6f:7a8b", "", false,
	 "EX02.corp.example.org", "EX02.corp.example.org"},
	{"exchange 2003 SMTPSVC", " from mail.example.net ([204.0.113.51]) by EXCH2003.corp.example.org "
	 "with Microsoft SMTPSVC(6.0.3790.4675); Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "204.0.113.51", "", false, "mail.example.net",
	 "EXCH2003.corp.example.org"},
	{"bare, no signature", " from name.example.net (204.0.113.52) by mx.example.org with SMTP; "
	 "Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_BARE, "204.0.113.52", "", false, "name.example.net",
	 "mx.example.org"},
	{"gmail", " from mail.example.net (mail.example.net. [204.0.113.70])\n        by "
	 "mx.google.com with ESMTPS id d9443c01a7336-21c1a2b3c4dsi123456ad.412.2026.11.23.02.00.04\n"
	 "        for <u@gmail.com>\n        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 "
	 "bits=256/256);\n        Mon, 23 Nov 2026 02:00:05 -0800 (PST)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.70", "mail.example.net.", true,
	 "mail.example.net", "mx.google.com"},
	{"gmail internal", " by 2002:a05:7300:5c8d:b0:1a2:3b4c:5d6e with SMTP id "
	 "abc123csp1234567dyb;\n        Mon, 23 Nov 2026 02:00:05 -0800 (PST)",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_NONE, "", "", false, "", "2002:a05:7300:5c8d:b0:1a2:3b4c:5d6e"},
	{"opensmtpd", " from helo.example.net (<unknown> [204.0.113.80])\n\tby mx.example.org "
	 "(OpenSMTPD) with ESMTPS id 4f2a9c1e (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO)\n\tfor "
	 "<u@example.org>;\n\tMon, 23 Nov 2026 10:00:00 +0000 (UTC)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.80", "", false, "helo.example.net",
	 "mx.example.org"},
	{"opensmtpd IPv6 and an unchecked name", " from h (relay.example.org IPv6:2a01:db8:bad::80)\n"
	 "\tby mx.example.org (OpenSMTPD) with ESMTP id 4f2a9c1f;\n\tMon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "2a01:db8:bad::80", "relay.example.org", false, "h",
	 "mx.example.org"},
	{"opensmtpd local", " from localhost (mx.example.org [local])\n\tby mx.example.org "
	 "(OpenSMTPD) with ESMTP id 4f2a9c20;\n\tMon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_NONE, "", "", false, "localhost", "mx.example.org"},
	{"courier mapped and AUTH", " from mail.example.net (mail.example.net [::ffff:204.0.113.90])"
	 "\n  (AUTH: LOGIN spammer, TLS: TLSv1.3,256bits,TLS_AES_256_GCM_SHA384)\n  by "
	 "relay.example.org with ESMTPSA; Mon, 23 Nov 2026 10:00:00 +0000\n  id "
	 "00000000005A0B3C.000000005F1E2D3C.00001234",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.90", "mail.example.net", true,
	 "mail.example.net", "relay.example.org"},
	{"amavis", " from mx.example.org ([127.0.0.1])\n\tby localhost (mx.example.org [127.0.0.1]) "
	 "(amavisd-new, port 10024)\n\twith ESMTP id abcdEFgh1234 for <u@example.org>;\n\tMon, 23 Nov "
	 "2026 10:00:00 +0000 (UTC)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "127.0.0.1", "", false, "mx.example.org", "localhost"},
	{"HELO injects a comment before the real one", " from x(10.0.0.1) (unknown [204.0.113.99]) "
	 "by mx.example.org (Postfix) with ESMTP id 6; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.99", "", false, "x", "mx.example.org"},
	{"HELO injects a bracketed comment before the real one", " from x([193.0.2.30]) (unknown "
	 "[204.0.113.98]) by mx.example.org (Postfix) with ESMTP id 8; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.98", "", false, "x", "mx.example.org"},
	{"a comment after for is not the MTA's signature", " from relay.example.org ([204.0.113.23])"
	 "\n\tby mx.example.org (8.17.1/8.17.1) with ESMTP id 2ANA0006\n\tfor <u@example.org> "
	 "(Exim 4.96); Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.23", "", false, "relay.example.org",
	 "mx.example.org"},
	{"address outside any comment", " from mail.example.net [204.0.113.130] by mx.example.org; "
	 "Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "mail.example.net", "mx.example.org"},
	{"truncated comment", " from mail.example.net (unknown [204.0.113.13",
	 MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "mail.example.net", ""},
	{"literal without a signature", " from [204.0.113.131] by mx.example.org with SMTP; Mon, 23 "
	 "Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "[204.0.113.131]", "mx.example.org"},
	{"empty", "", MAIL_RECEIVED_NO_PEER, MAIL_FORM_NONE, "", "", false, "", ""},
	{"8-bit HELO", " from h\xc3\xa9lo.example.net (unknown [204.0.113.140]) by mx.example.org "
	 "(Postfix) with ESMTP id 7; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.140", "", false, "h\\xc3\\xa9lo.example.net",
	 "mx.example.org"},
};

static void test_forms(void **state)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct form_case *c = &forms[i];
		struct mail_received r;
		mail_received_parse(c->hdr, strlen(c->hdr), &r);
		char ip[IP_STRLEN] = "";
		if (r.kind == MAIL_RECEIVED_PEER)
			ip_format(r.ip, ip);
		if (r.kind != c->kind || r.form != c->form || strcmp(ip, c->ip) != 0 ||
		    strcmp(r.rdns, c->rdns) != 0 || (r.rdns[0] && r.rdns_confirmed != c->confirmed) ||
		    strcmp(r.helo, c->helo) != 0 || strcmp(r.by, c->by) != 0)
			fail_msg("%s: got kind=%d form=%s ip=%s rdns=%s confirmed=%d helo=%s by=%s "
				 "(note: %s)", c->what, r.kind, mail_received_form_name(r.form), ip,
				 r.rdns, r.rdns_confirmed, r.helo, r.by, r.note);
		assert_true(r.note[0] != '\0');
	}
}

static void test_parse_reads_only_len(void **state)
{
	/* The bytes past len are not part of the header. */
	const char *s = " from a (b [204.0.113.1]) by c; d[204.0.113.2]";
	struct mail_received r;
	mail_received_parse(s, 10, &r);
	assert_int_equal(r.kind, MAIL_RECEIVED_NO_PEER);
	assert_string_equal(r.helo, "a");
	mail_received_parse(s, strlen(" from a (b [204.0.113.1])"), &r);
	assert_int_equal(r.kind, MAIL_RECEIVED_PEER);
	/* A long name is cut, never overflowed. */
	char big[2000];
	memset(big, 'a', sizeof(big));
	memcpy(big, " from ", 6);
	mail_received_parse(big, sizeof(big), &r);
	assert_true(strlen(r.helo) < MAIL_NAME_MAX);
}

/* ---- trusted relays --------------------------------------------------------------------- */

/* A range of rbldnsd's forms becomes the prefixes that cover it exactly: every address from
 * its first to its last is trusted, and the addresses just outside are not. */
static void test_trust_ranges(void **state)
{
	(void)state;
	const struct {
		const char *line, *first, *last;
		size_t prefixes;
	} cases[] = {
		{"193.0.2.10-193.0.2.20", "193.0.2.10", "193.0.2.20", 4},  /* /31 /30 /30 /32 */
		{"193.0.2.10-20", "193.0.2.10", "193.0.2.20", 4},
		{"193.0.2.0-193.0.3.255", "193.0.2.0", "193.0.3.255", 1},   /* one /23 */
		{"193.0.2.7-7", "193.0.2.7", "193.0.2.7", 1},
		{"0.0.0.1-255.255.255.254", "0.0.0.1", "255.255.255.254", 62},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_trust t;
		mail_trust_init(&t);
		size_t line = 0;
		char err[256] = "";
		char text[64];
		snprintf(text, sizeof(text), "  %s  # a range\n", cases[i].line);
		if (mail_trust_parse(&t, text, strlen(text), &line, err, sizeof(err)) != MAIL_OK)
			fail_msg("%s: %s", cases[i].line, err);
		assert_int_equal(t.n_names, 0);
		assert_int_equal(t.n_prefixes, cases[i].prefixes);
		uint32_t first, last;
		assert_int_equal(ip4_parse(cases[i].first, strlen(cases[i].first), &first), 0);
		assert_int_equal(ip4_parse(cases[i].last, strlen(cases[i].last), &last), 0);
		const uint32_t probe[] = {first - 1, first, first + (last - first) / 2, last, last + 1};
		for (size_t k = 0; k < 5; k++) {
			uint8_t ip[16];
			ip_from_v4(probe[k], ip);
			bool in = false;
			for (size_t p = 0; p < t.n_prefixes; p++)
				in |= ip_prefix_covers(&t.prefixes[p], ip);
			bool want = probe[k] >= first && probe[k] <= last;
			if (in != want)
				fail_msg("%s: %08x %s", cases[i].line, probe[k], in ? "in" : "out");
		}
		mail_trust_free(&t);
	}
}

static void test_trust_parse(void **state)
{
	const char *text = "# the reporter's relays\n"
			   "193.0.2.0/24\n"
			   "  Relay.Example.ORG.   # trailing dot and case do not matter\n"
			   "\r\n"
			   "2a01:db8:1::/48\n"
			   "199.51.100.7\n";
	struct mail_trust t;
	mail_trust_init(&t);
	size_t line = 0;
	char err[256];
	assert_int_equal(mail_trust_parse(&t, text, strlen(text), &line, err, sizeof(err)), MAIL_OK);
	assert_int_equal(t.n_prefixes, 3);
	assert_int_equal(t.n_names, 1);
	assert_string_equal(t.names[0], "relay.example.org");
	assert_int_equal(t.prefixes[2].plen, 128);
	mail_trust_free(&t);

	const char *bad[][2] = {
		{"193.0.2.0/24\n10.0.0.1/8\n", "2"},
		{"ok.example\n\nnot a name\n", "3"},
		{"300.1.2.3\n", "1"},
		{"2a01:db8::/129\n", "1"},
		{"#\nrelay-ok.example\n1.2.3\n", "3"},
		{"bad!name\n", "1"},
		/* A name is LDH labels, the last one with a letter: no underscore, no all-digit
		 * top label, no dash at a label's end. */
		{"ok.example\nrelay_1.example.org\n", "2"},
		{"a.b.c.123\n", "1"},
		{"relay-.example.org\n", "1"},
		{"-relay.example.org\n", "1"},
		/* Ranges as rbldnsd writes them, or nothing: never read as a name. */
		{"ok.example\n193.0.2.10-193.0.2.300\n", "2"},
		{"193.0.2.10-193.0.1.20\n", "1"},
		{"193.0.2.10-9\n", "1"},
		{"193.0.2.10-256\n", "1"},
		{"193.0.2.10-\n", "1"},
		{"193.0.2.10-193.0.2.11-193.0.2.12\n", "1"},
		{"193.0.2-5\n", "1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mail_trust_init(&t);
		line = 0;
		err[0] = '\0';
		assert_int_equal(mail_trust_parse(&t, bad[i][0], strlen(bad[i][0]), &line, err,
						  sizeof(err)), MAIL_EINVAL);
		assert_int_equal(line, (size_t)atoi(bad[i][1]));
		assert_true(err[0] != '\0');
		mail_trust_free(&t);
	}
}

/* ---- the walk ------------------------------------------------------------------------------ */

static struct mail_trust trust;

static int setup_trust(void **state)
{
	const char *text = "193.0.2.0/24\nrelay.example.org\n2a01:db8:1::/48\n";
	size_t line;
	char err[128];
	mail_trust_init(&trust);
	return mail_trust_parse(&trust, text, strlen(text), &line, err, sizeof(err));
}

static int teardown_trust(void **state)
{
	mail_trust_free(&trust);
	return 0;
}

/* Walks hdrs (NULL-terminated) and checks the source (or "" and the refusal) and verdicts
 * ("t" trusted, "s" source, "k" skipped, "u" unreadable, "i" ignored, one letter a hop). */
static void walk_check(const char *const *hdrs, const char *source, enum mail_refusal refusal,
		       const char *verdicts)
{
	size_t n = 0, lens[32];
	while (hdrs[n]) {
		lens[n] = strlen(hdrs[n]);
		n++;
	}
	struct mail_analysis a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(mail_chain_analyse(hdrs, lens, n, &trust, false, &a), MAIL_OK);
	char got[IP_STRLEN] = "", v[40] = "";
	if (a.has_source)
		ip_format(a.source, got);
	for (size_t i = 0; i < a.n_hops && i < sizeof(v) - 1; i++)
		v[i] = "tskui"[a.hops[i].verdict];
	if (strcmp(got, source) != 0 || a.refusal != refusal || strcmp(v, verdicts) != 0)
		fail_msg("got source=%s refusal=%s verdicts=%s why=%s; want %s %s %s", got,
			 mail_refusal_name(a.refusal), v, a.why, source, mail_refusal_name(refusal),
			 verdicts);
	assert_int_equal(a.has_source, a.refusal == MAIL_REFUSAL_NONE);
	assert_true(a.why[0] != '\0');
	for (size_t i = 0; i < a.n_hops; i++)
		assert_true(a.hops[i].why[0] != '\0');
	mail_analysis_free(&a);
}

#define MX " by mx.example.org (Postfix) with ESMTP id 1; Mon, 23 Nov 2026 10:00:00 +0000"
#define RELAY " by relay.example.org (Postfix) with ESMTP id 2; Mon, 23 Nov 2026 09:59:59 +0000"

static void test_walk_first_untrusted_is_source(void **state)
{
	const char *h[] = {
		" from relay.example.org (relay.example.org [193.0.2.30])" MX,
		" from mail.spam.example (unknown [204.0.113.7])" RELAY,
		/* The spammer's own lines: one names an innocent, one the reporter's relay. */
		" from innocent.example (innocent.example [199.51.100.20]) by mail.spam.example",
		" from relay.example.org (relay.example.org [193.0.2.30]) by relay.example.org",
		NULL};
	walk_check(h, "204.0.113.7", MAIL_REFUSAL_NONE, "tsii");
}

static void test_walk_trusted_by_name(void **state)
{
	/* Outside every trusted range, but its confirmed reverse name is trusted. */
	const char *h[] = {
		" from x (RELAY.example.org. [199.51.100.30])" MX,
		" from y (unknown [204.0.113.8])" RELAY,
		NULL};
	walk_check(h, "204.0.113.8", MAIL_REFUSAL_NONE, "ts");
}

static void test_walk_helo_never_trusted(void **state)
{
	/* The spammer says HELO relay.example.org, or [193.0.2.30]: neither earns trust. */
	const char *h1[] = {
		" from relay.example.org (unknown [204.0.113.9])" MX,
		" from innocent.example (innocent.example [199.51.100.21])" RELAY, NULL};
	walk_check(h1, "204.0.113.9", MAIL_REFUSAL_NONE, "si");
	const char *h2[] = {
		" from [193.0.2.30] (unknown [204.0.113.10])" MX,
		" from innocent.example (innocent.example [199.51.100.22])" RELAY, NULL};
	walk_check(h2, "204.0.113.10", MAIL_REFUSAL_NONE, "si");
	const char *h3[] = {
		" from [204.0.113.11] (port=1025 helo=relay.example.org) by mx.example.org with esmtp "
		"(Exim 4.96) id 1tXyZa-000Abc-1D; Mon, 23 Nov 2026 10:00:00 +0000",
		" from innocent.example (innocent.example [199.51.100.23])" RELAY, NULL};
	walk_check(h3, "204.0.113.11", MAIL_REFUSAL_NONE, "si");
}

static void test_walk_unconfirmed_names(void **state)
{
	/* A reverse name the MTA did not confirm is no trust, however it reads. */
	const char *sendmail[] = {
		" from x (relay.example.org [204.0.113.12] (may be forged)) by mx.example.org "
		"(8.17.1/8.17.1) with ESMTP id 2ANA0001; Mon, 23 Nov 2026 10:00:00 +0000",
		" from innocent.example (innocent.example [199.51.100.24])" RELAY, NULL};
	walk_check(sendmail, "204.0.113.12", MAIL_REFUSAL_NONE, "si");
	const char *qmail[] = {
		" from relay.example.org (HELO x) (204.0.113.13) by mx.example.org with SMTP; 23 Nov "
		"2026 10:00:00 -0000",
		" from innocent.example (innocent.example [199.51.100.25])" RELAY, NULL};
	walk_check(qmail, "204.0.113.13", MAIL_REFUSAL_NONE, "si");
	const char *opensmtpd[] = {
		" from x (relay.example.org [204.0.113.14]) by mx.example.org (OpenSMTPD) with ESMTP "
		"id 4f2a9c1e; Mon, 23 Nov 2026 10:00:00 +0000",
		" from innocent.example (innocent.example [199.51.100.26])" RELAY, NULL};
	walk_check(opensmtpd, "204.0.113.14", MAIL_REFUSAL_NONE, "si");
}

static void test_walk_skips_and_mapped(void **state)
{
	const char *h[] = {
		" by 2002:a05:7300:5c8d:b0:1a2:3b4c:5d6e with SMTP id abc; Mon, 23 Nov 2026 10:00:00 +0000",
		" from relay.example.org (relay.example.org [::ffff:193.0.2.31])" MX,
		" from a (b [2a01:db8:1::5])" RELAY,
		" from c (d [2a01:db8:bad::1])" RELAY,
		NULL};
	walk_check(h, "2a01:db8:bad::1", MAIL_REFUSAL_NONE, "ktts");
}

static void test_walk_refusals(void **state)
{
	const char *none[] = {NULL};
	walk_check(none, "", MAIL_REFUSAL_NO_RECEIVED, "");
	const char *inside[] = {
		" from relay.example.org (relay.example.org [193.0.2.30])" MX,
		" by relay.example.org (Postfix, from userid 1000) id 3; Mon, 23 Nov 2026 09:00:00 +0000",
		NULL};
	walk_check(inside, "", MAIL_REFUSAL_NO_UNTRUSTED_HOP, "tk");
	const char *peerless[] = {" by mx.example.org with HTTP; Mon, 23 Nov 2026 10:00:00 +0000",
				  NULL};
	walk_check(peerless, "", MAIL_REFUSAL_NO_UNTRUSTED_HOP, "k");
	const char *unreadable[] = {
		" from relay.example.org (relay.example.org [193.0.2.30])" MX,
		" from mail.spam.example [204.0.113.15] by relay.example.org; Mon, 23 Nov 2026",
		" from innocent.example (innocent.example [199.51.100.27])" RELAY, NULL};
	walk_check(unreadable, "", MAIL_REFUSAL_NO_UNTRUSTED_HOP, "tui");
	const char *priv[][2] = {
		{" from x (y [10.1.2.3])" MX, "10.0.0.0/8"},
		{" from x (y [100.64.1.1])" MX, "100.64.0.0/10"},
		{" from x (y [127.0.0.1])" MX, "127.0.0.0/8"},
		{" from x (y [169.254.7.7])" MX, "169.254.0.0/16"},
		{" from x (y [172.20.0.1])" MX, "172.16.0.0/12"},
		{" from x (y [192.168.1.1])" MX, "192.168.0.0/16"},
		{" from x (y [IPv6:fd00::1])" MX, "fc00::/7"},
		{" from x (y [IPv6:fe80::1])" MX, "fe80::/10"},
		{" from x (y [IPv6:::1])" MX, "::1/128"},
		{" from x (y [IPv6:::ffff:10.9.9.9])" MX, "10.0.0.0/8"},
	};
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		const char *h[] = {priv[i][0], NULL};
		walk_check(h, "", MAIL_REFUSAL_PRIVATE_SOURCE, "s");
		size_t len = strlen(priv[i][0]);
		struct mail_analysis a;
		memset(&a, 0, sizeof(a));
		mail_chain_analyse(h, &len, 1, &trust, false, &a);
		assert_non_null(strstr(a.why, priv[i][1]));
		mail_analysis_free(&a);
	}
	/* Documentation ranges are public. */
	const char *doc[] = {" from x (y [199.51.100.1])" MX, NULL};
	walk_check(doc, "199.51.100.1", MAIL_REFUSAL_NONE, "s");
}

static void test_walk_too_long(void **state)
{
	size_t n = MAIL_HOPS_MAX + 5;
	const char **h = calloc(n, sizeof(*h));
	size_t *lens = calloc(n, sizeof(*lens));
	assert_non_null(h);
	assert_non_null(lens);
	const char *trusted = " from r (relay.example.org [193.0.2.30])" MX;
	for (size_t i = 0; i < n; i++) {
		h[i] = trusted;
		lens[i] = strlen(trusted);
	}
	struct mail_analysis a;
	memset(&a, 0, sizeof(a));
	/* Only the first MAIL_HOPS_MAX are read: the rest need not even be valid. */
	assert_int_equal(mail_chain_analyse(h, lens, n, &trust, false, &a), MAIL_OK);
	assert_int_equal(a.n_hops, MAIL_HOPS_MAX);
	assert_int_equal(a.n_received, n);
	assert_int_equal(a.refusal, MAIL_REFUSAL_NO_UNTRUSTED_HOP);
	mail_analysis_free(&a);
	free(h);
	free(lens);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_parse_reads_only_len),
		cmocka_unit_test(test_trust_parse),
		cmocka_unit_test(test_trust_ranges),
		cmocka_unit_test(test_walk_first_untrusted_is_source),
		cmocka_unit_test(test_walk_trusted_by_name),
		cmocka_unit_test(test_walk_helo_never_trusted),
		cmocka_unit_test(test_walk_unconfirmed_names),
		cmocka_unit_test(test_walk_skips_and_mapped),
		cmocka_unit_test(test_walk_refusals),
		cmocka_unit_test(test_walk_too_long),
	};
	return cmocka_run_group_tests(tests, setup_trust, teardown_trust);
}
