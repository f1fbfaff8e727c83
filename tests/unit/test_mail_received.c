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
	bool handoff; /* an inside hand-off: LMTP, a pickup, with local */
};

static const struct form_case forms[] = {
	{"postfix", " from mail.example.net (mail.example.net [199.51.100.7])\n\tby mx.example.org "
	 "(Postfix) with ESMTPS id 4XyZ1k2Lmn\n\tfor <u@example.org>; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "199.51.100.7", "mail.example.net", true,
	 "mail.example.net", "mx.example.org", false},
	{"postfix unknown name, HELO a trusted name", " from relay.example.org (unknown "
	 "[204.0.113.9])\n\tby mx.example.org (Postfix) with ESMTP id 1; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.9", "", false, "relay.example.org",
	 "mx.example.org", false},
	{"postfix IPv6", " from mail.example.net (mail.example.net [IPv6:2a01:db8:1::25])\n\tby "
	 "mx.example.org (Postfix) with ESMTPS id 2; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "2a01:db8:1::25", "mail.example.net", true,
	 "mail.example.net", "mx.example.org", false},
	{"postfix IPv4-mapped", " from h (unknown [IPv6:::ffff:204.0.113.9]) by mx (Postfix) with "
	 "ESMTP id 3; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.9", "", false, "h", "mx", false},
	{"postfix HELO address literal, TLS and auth comments", " from [192.168.1.20] (unknown "
	 "[204.0.113.10])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\t"
	 "(Authenticated sender: alice)\n\tby smtp.example.org (Postfix) with ESMTPSA id 4;\n\tMon, "
	 "23 Nov 2026 10:00:00 +0000", MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.10", "",
	 false, "[192.168.1.20]", "smtp.example.org", false},
	{"HELO is the word by", " from by (unknown [204.0.113.11]) by mx.example.org (Postfix) "
	 "with ESMTP id 5; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.11", "", false, "by", "mx.example.org", false},
	{"sendmail ident and may be forged", " from helo.example.net (user@ptr.example.net "
	 "[204.0.113.12] (may be forged))\n\tby mx.example.org (8.17.1/8.17.1/Debian-1) with ESMTP id "
	 "2ANA0001; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.12", "ptr.example.net", false,
	 "helo.example.net", "mx.example.org", false},
	{"sendmail no reverse name", " from helo.example.net ([204.0.113.13])\n\tby mx.example.org "
	 "(8.17.1/8.17.1) with ESMTP id 2ANA0002; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.13", "", false, "helo.example.net",
	 "mx.example.org", false},
	{"sendmail without HELO", " (from ptr.example.net [204.0.113.14])\n\tby mx.example.org "
	 "(8.17.1/8.17.1) with SMTP id 2ANA0003; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.14", "ptr.example.net", true, "",
	 "mx.example.org", false},
	{"sendmail local submission", " (from root@localhost)\n\tby mx.example.org "
	 "(8.17.1/8.17.1/Submit) id 2ANA0004; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LOCAL, "", "", false, "", "mx.example.org", false},
	{"exim verified name, port, helo", " from host.example.net ([204.0.113.20]:51234 "
	 "helo=relay.example.org)\n\tby mx.example.org with esmtps (TLS1.3) tls "
	 "TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from <a@example.net>)\n\tid "
	 "1tXyZa-000Abc-1D\n\tfor u@example.org; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_EXIM, "204.0.113.20", "host.example.net", true,
	 "relay.example.org", "mx.example.org", false},
	{"exim no name", " from [204.0.113.21] (port=40112 helo=spam.example.net)\n\tby "
	 "mx.example.org with esmtp (Exim 4.96)\n\t(envelope-from <a@example.net>)\n\tid "
	 "1tXyZa-000Abc-1E; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_EXIM, "204.0.113.21", "", false, "spam.example.net",
	 "mx.example.org", false},
	{"exim helo equals name", " from relay.example.org ([193.0.2.30])\n\tby mx.example.org with "
	 "esmtp (Exim 4.96)\n\t(envelope-from <a@example.org>)\n\tid 1tXyZa-000Abc-1F; Mon, 23 Nov "
	 "2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_EXIM, "193.0.2.30", "relay.example.org", true,
	 "relay.example.org", "mx.example.org", false},
	{"exim IPv6 and port", " from host6.example.net ([2a01:db8:bad::7]:45678 helo=x)\n\tby "
	 "mx.example.org with esmtp (Exim 4.96)\n\tid 1tXyZa-000Abc-1G; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_EXIM, "2a01:db8:bad::7", "host6.example.net", true, "x",
	 "mx.example.org", false},
	{"exim local", " from alice by mx.example.org with local (Exim 4.96)\n\t(envelope-from "
	 "<alice@example.org>)\n\tid 1tXyZa-000Abc-1H; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LOCAL, "", "", false, "alice", "mx.example.org", false},
	{"exim envelope-from cannot fake a signature", " from relay.example.org ([204.0.113.22])\n\t"
	 "by mx.example.org (8.17.1/8.17.1) with ESMTP id 2ANA0005\n\tfor <\"(Exim 4.96)\"@example.org>;"
	 " Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.22", "", false, "relay.example.org",
	 "mx.example.org", false},
	{"qmail", " from unknown (HELO mail.example.net) (204.0.113.33)\n  by mx.example.org with "
	 "SMTP; 23 Nov 2026 10:00:00 -0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_QMAIL, "204.0.113.33", "", false, "mail.example.net",
	 "mx.example.org", false},
	{"qmail name is not confirmed", " from relay.example.org (HELO x) (ident@204.0.113.34)\n  by "
	 "mx.example.org with SMTP; 23 Nov 2026 10:00:00 -0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_QMAIL, "204.0.113.34", "relay.example.org", false, "x",
	 "mx.example.org", false},
	{"qmail invoked from network", " (qmail 12345 invoked from network); 23 Nov 2026 10:00:00 "
	 "-0000", MAIL_RECEIVED_NO_PEER, MAIL_FORM_QMAIL_QUEUE, "", "", false, "", "", false},
	{"yahoo EHLO", " from 204.0.113.35 (EHLO mail.example.net) (204.0.113.35)\n  by "
	 "mta1003.mail.gq1.yahoo.com with SMTPS; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_QMAIL, "204.0.113.35", "", false, "mail.example.net",
	 "mta1003.mail.gq1.yahoo.com", false},
	{"exchange", " from mail.example.net (204.0.113.50) by EX01.corp.example.org (10.20.0.11) "
	 "with Microsoft SMTP Server (version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) "
	 "id\r\n 15.2.1258.12 via Frontend Transport; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "204.0.113.50", "", false, "mail.example.net",
	 "EX01.corp.example.org", false},
	{"exchange IPv6 bare", " from AM0PR03MB1234.eurprd03.prod.outlook.com (2a01:db8:365::15) by "
	 "AM0PR03MB5678.eurprd03.prod.outlook.com (2a01:db8:365::20) with Microsoft SMTP Server id "
	 "15.20.1234.5; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "2a01:db8:365::15", "", false,
	 "AM0PR03MB1234.eurprd03.prod.outlook.com", "AM0PR03MB5678.eurprd03.prod.outlook.com", false},
	{"exchange mapi link-local with zone", " from EX02.corp.example.org "
	 "([fe80::5d2c:1a4b:3e6f:7a8b]) by EX02.corp.example.org ([fe80::5d2c:1a4b:3e6f:7a8b%12]) "
	 "with mapi id 15.02.1258.012; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "fe80::5d2c:1a4b:3e6f:7a8b", "", false,
	 "EX02.corp.example.org", "EX02.corp.example.org", false},
	{"exchange 2003 SMTPSVC", " from mail.example.net ([204.0.113.51]) by EXCH2003.corp.example.org "
	 "with Microsoft SMTPSVC(6.0.3790.4675); Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "204.0.113.51", "", false, "mail.example.net",
	 "EXCH2003.corp.example.org", false},
	{"bare, no signature", " from name.example.net (204.0.113.52) by mx.example.org with SMTP; "
	 "Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_BARE, "204.0.113.52", "", false, "name.example.net",
	 "mx.example.org", false},
	{"gmail", " from mail.example.net (mail.example.net. [204.0.113.70])\n        by "
	 "mx.google.com with ESMTPS id d9443c01a7336-21c1a2b3c4dsi123456ad.412.2026.11.23.02.00.04\n"
	 "        for <u@gmail.com>\n        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 "
	 "bits=256/256);\n        Mon, 23 Nov 2026 02:00:05 -0800 (PST)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.70", "mail.example.net.", true,
	 "mail.example.net", "mx.google.com", false},
	{"gmail internal", " by 2002:a05:7300:5c8d:b0:1a2:3b4c:5d6e with SMTP id "
	 "abc123csp1234567dyb;\n        Mon, 23 Nov 2026 02:00:05 -0800 (PST)",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_NONE, "", "", false, "", "2002:a05:7300:5c8d:b0:1a2:3b4c:5d6e", false},
	{"opensmtpd", " from helo.example.net (<unknown> [204.0.113.80])\n\tby mx.example.org "
	 "(OpenSMTPD) with ESMTPS id 4f2a9c1e (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO)\n\tfor "
	 "<u@example.org>;\n\tMon, 23 Nov 2026 10:00:00 +0000 (UTC)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.80", "", false, "helo.example.net",
	 "mx.example.org", false},
	{"opensmtpd IPv6 and an unchecked name", " from h (relay.example.org IPv6:2a01:db8:bad::80)\n"
	 "\tby mx.example.org (OpenSMTPD) with ESMTP id 4f2a9c1f;\n\tMon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "2a01:db8:bad::80", "relay.example.org", false, "h",
	 "mx.example.org", false},
	{"opensmtpd local", " from localhost (mx.example.org [local])\n\tby mx.example.org "
	 "(OpenSMTPD) with ESMTP id 4f2a9c20;\n\tMon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LOCAL, "", "", false, "localhost", "mx.example.org", false},
	{"courier mapped and AUTH", " from mail.example.net (mail.example.net [::ffff:204.0.113.90])"
	 "\n  (AUTH: LOGIN spammer, TLS: TLSv1.3,256bits,TLS_AES_256_GCM_SHA384)\n  by "
	 "relay.example.org with ESMTPSA; Mon, 23 Nov 2026 10:00:00 +0000\n  id "
	 "00000000005A0B3C.000000005F1E2D3C.00001234",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.90", "mail.example.net", true,
	 "mail.example.net", "relay.example.org", false},
	{"amavis", " from mx.example.org ([127.0.0.1])\n\tby localhost (mx.example.org [127.0.0.1]) "
	 "(amavisd-new, port 10024)\n\twith ESMTP id abcdEFgh1234 for <u@example.org>;\n\tMon, 23 Nov "
	 "2026 10:00:00 +0000 (UTC)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "127.0.0.1", "", false, "mx.example.org", "localhost", false},
	{"HELO injects a comment before the real one", " from x(10.0.0.1) (unknown [204.0.113.99]) "
	 "by mx.example.org (Postfix) with ESMTP id 6; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.99", "", false, "x", "mx.example.org", false},
	{"HELO injects a bracketed comment before the real one", " from x([193.0.2.30]) (unknown "
	 "[204.0.113.98]) by mx.example.org (Postfix) with ESMTP id 8; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.98", "", false, "x", "mx.example.org", false},
	{"a comment after for is not the MTA's signature", " from relay.example.org ([204.0.113.23])"
	 "\n\tby mx.example.org (8.17.1/8.17.1) with ESMTP id 2ANA0006\n\tfor <u@example.org> "
	 "(Exim 4.96); Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.23", "", false, "relay.example.org",
	 "mx.example.org", false},
	{"a bare address outside any comment", " from mail.example.net 204.0.113.130 by "
	 "mx.example.org; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "mail.example.net", "mx.example.org", false},
	{"truncated comment", " from mail.example.net (unknown [204.0.113.13",
	 MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "mail.example.net", "", false},
	{"literal without a signature", " from [204.0.113.131] by mx.example.org with SMTP; Mon, 23 "
	 "Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "[204.0.113.131]", "mx.example.org", false},
	{"empty", "", MAIL_RECEIVED_NO_PEER, MAIL_FORM_NONE, "", "", false, "", "", false},
	{"8-bit HELO", " from h\xc3\xa9lo.example.net (unknown [204.0.113.140]) by mx.example.org "
	 "(Postfix) with ESMTP id 7; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.140", "", false, "h\\xc3\\xa9lo.example.net",
	 "mx.example.org", false},

	/* ---- the forms of issue 23 (the rest of the field), each with what it trusts ---- */
	{"fetchmail pickup: the mailbox server, its name resolved forward by the retriever",
	 " from pop.example.org [193.0.2.60]\n\tby laptop.example.org with POP3 (fetchmail-6.4.38)\n"
	 "\tfor <jane@localhost> (single-drop); Mon, 23 Nov 2026 10:00:06 +0100 (CET)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_PICKUP, "193.0.2.60", "pop.example.org", true, "",
	 "laptop.example.org", true},
	{"fetchmail IMAP over IPv6", " from imap.example.org [2a01:db8:1::143] by laptop.example.org "
	 "with IMAP (fetchmail-6.4.38) for <jane@localhost> (single-drop); Mon, 23 Nov 2026 "
	 "10:00:06 +0100", MAIL_RECEIVED_PEER, MAIL_FORM_PICKUP, "2a01:db8:1::143",
	 "imap.example.org", true, "", "laptop.example.org", true},
	{"getmail-style pickup, the address in parentheses", " from pop3.example.org (193.0.2.61) by "
	 "laptop.example.org with POP3; 23 Nov 2026 10:00:06 -0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_PICKUP, "193.0.2.61", "pop3.example.org", true, "",
	 "laptop.example.org", true},
	{"fetchmail without an address", " from pop.example.org by laptop.example.org with POP3 "
	 "(fetchmail-6.4.38) for <jane@localhost> (single-drop); Mon, 23 Nov 2026 10:00:06 +0100",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_PICKUP, "", "", false, "pop.example.org",
	 "laptop.example.org", false},
	{"generic from NAME [ADDR] by HOST: NAME is the HELO", " from mail.spam.example "
	 "[204.0.113.200] by mx.example.org; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_BRACKET, "204.0.113.200", "", false, "mail.spam.example",
	 "mx.example.org", false},
	{"two literals after from: a HELO with a blank could have written the first",
	 " from x [199.51.100.9] [204.0.113.201] by mx.example.org with SMTP; Mon, 23 Nov 2026 "
	 "10:00:00 +0000", MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "x",
	 "mx.example.org", false},
	{"IMail", " from oemcomputer [204.0.113.202] by mail.example.org (SMTPD32-8.15) id "
	 "A1B2C3D40028; Mon, 23 Nov 2026 10:00:00 -0500",
	 MAIL_RECEIVED_PEER, MAIL_FORM_IMAIL, "204.0.113.202", "", false, "oemcomputer",
	 "mail.example.org", false},
	{"MDaemon, both addresses bracketed", " from acecomms [204.0.113.203] by mailscan.example.org "
	 "[193.0.2.27] with SMTP (MDaemon.PRO.v5.0.6.R) for <jane@example.org>; Mon, 23 Nov 2026 "
	 "09:32:27 +1000", MAIL_RECEIVED_PEER, MAIL_FORM_MDAEMON, "204.0.113.203", "", false,
	 "acecomms", "mailscan.example.org", false},
	{"MDaemon without from", " smtp.spam.example [(204.0.113.204)] by mail.example.org "
	 "(193.0.2.24) (MDaemon PRO v19.0.2)\n  with ESMTP id md50018233933.msg; Mon, 23 Nov 2026 "
	 "11:39:22 +0200", MAIL_RECEIVED_PEER, MAIL_FORM_MDAEMON, "204.0.113.204", "", false,
	 "smtp.spam.example", "mail.example.org", false},
	{"MDaemon's TCP-info without a name", " from helo.spam.example ([204.0.113.205]) by "
	 "mail.example.org (MDaemon PRO v21.5.2) with ESMTP id md50000012345.msg; Mon, 23 Nov 2026 "
	 "10:00:00 +0200", MAIL_RECEIVED_PEER, MAIL_FORM_MDAEMON, "204.0.113.205", "", false,
	 "helo.spam.example", "mail.example.org", false},
	{"CommuniGate: the literal first is the peer, the HELO after it", " from [204.0.113.210] "
	 "(HELO mail.spam.example)\n  by mx.example.org (CommuniGate Pro SMTP 6.3.4)\n  with ESMTP id "
	 "123456 for jane@example.org; Mon, 23 Nov 2026 10:00:00 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_COMMUNIGATE, "204.0.113.210", "", false, "mail.spam.example",
	 "mx.example.org", false},
	{"CommuniGate account with a literal HELO", " from [204.0.113.211] (account bob@example.net "
	 "HELO [192.168.1.5])\n  by smtp.example.net (CommuniGate Pro SMTP 6.3.4) with ESMTPSA id "
	 "88402416 for jane@example.org; Mon, 23 Nov 2026 10:00:00 -0800",
	 MAIL_RECEIVED_PEER, MAIL_FORM_COMMUNIGATE, "204.0.113.211", "", false, "[192.168.1.5]",
	 "smtp.example.net", false},
	{"CommuniGate verified name", " from relay.example.net ([204.0.113.212] verified)\n  by "
	 "mx.example.org (CommuniGate Pro SMTP 6.3.4)\n  with ESMTPS id 9837783 for jane@example.org; "
	 "Mon, 23 Nov 2026 13:14:35 +0700",
	 MAIL_RECEIVED_PEER, MAIL_FORM_COMMUNIGATE, "204.0.113.212", "relay.example.net", true,
	 "relay.example.net", "mx.example.org", false},
	{"CommuniGate account with a verified name", " from host.example.net (account "
	 "bob@example.net [204.0.113.213] verified) by mx.example.org (CommuniGate Pro SMTP 6.3.4) "
	 "with ESMTPSA id 9828571 for jane@example.org; Mon, 23 Nov 2026 04:00:16 +0700",
	 MAIL_RECEIVED_PEER, MAIL_FORM_COMMUNIGATE, "204.0.113.213", "host.example.net", true,
	 "host.example.net", "mx.example.org", false},
	{"CommuniGate, an address after the HELO: the HELO may have written it",
	 " from [204.0.113.214] (HELO x) (unknown [193.0.2.30]) by mx.example.org (CommuniGate Pro "
	 "SMTP 6.3.4) with ESMTP id 1; Mon, 23 Nov 2026 10:00:00 +0100",
	 MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "[204.0.113.214]", "mx.example.org", false},
	{"CommuniGate webmail: the web client", " from [204.0.113.215] (account bob@example.net)\n  by "
	 "webmail.example.net (CommuniGate Pro WebUser 6.3.4) with HTTPU id 1236 for "
	 "jane@example.org; Mon, 23 Nov 2026 10:00:00 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_WEBMAIL, "204.0.113.215", "", false, "",
	 "webmail.example.net", false},
	{"XMail, the address with its port", " from mail.spam.example (204.0.113.220:40123) by "
	 "mx.example.org with [XMail 1.27 ESMTP Server] id <S1A2B3> for <jane@example.org> from "
	 "<a@spam.example>; Mon, 23 Nov 2026 23:17:54 -0500",
	 MAIL_RECEIVED_PEER, MAIL_FORM_XMAIL, "204.0.113.220", "", false, "mail.spam.example",
	 "mx.example.org", false},
	{"XMail, bracketed with its port", " from mail.spam.example ([204.0.113.221]:40124) by "
	 "mx.example.org (193.0.2.25:25) with [XMail 1.27 ESMTP Server] id <S1A2B4> for "
	 "<jane@example.org> from <a@spam.example>; Mon, 23 Nov 2026 23:17:54 -0500",
	 MAIL_RECEIVED_PEER, MAIL_FORM_XMAIL, "204.0.113.221", "", false, "mail.spam.example",
	 "mx.example.org", false},
	{"GMX: reverse name, HELO in a comment, the address bracketed after",
	 " from dslb-204-000-113-230.pools.example.net (EHLO homepc) [204.0.113.230]\n  by "
	 "mail.gmx.net (mp010) with SMTP; 03 Feb 2026 13:13:47 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_GMX, "204.0.113.230", "dslb-204-000-113-230.pools.example.net",
	 false, "homepc", "mail.gmx.net", false},
	{"web.de with HELO", " from p5b0c0d0e.dip0.example.net (HELO [192.168.178.20]) "
	 "[204.0.113.231] by mx-ha.web.de (mrweb101) with SMTP; Mon, 23 Nov 2026 10:00:00 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_GMX, "204.0.113.231", "p5b0c0d0e.dip0.example.net", false,
	 "[192.168.178.20]", "mx-ha.web.de", false},
	{"ZMailer, both reverse-lookup flags OK: the name is confirmed",
	 " from mail.example.net ([204.0.113.240]:34114 \"EHLO\n        mail.example.net\" "
	 "rhost-flags-OK-OK-OK-OK) by vger.example.org\n        with ESMTP id S1751429AbdKUXo1 "
	 "(ORCPT <rfc822;list@vger.example.org>);\n        Tue, 21 Nov 2026 18:44:27 -0500",
	 MAIL_RECEIVED_PEER, MAIL_FORM_ZMAILER, "204.0.113.240", "mail.example.net", true,
	 "mail.example.net", "vger.example.org", false},
	{"ZMailer without a reverse name", " from [204.0.113.241] ([204.0.113.241]:58626 \"EHLO "
	 "spam.example\"\n        rhost-flags-FAIL-FAIL-OK-OK) by vger.example.org with ESMTP\n"
	 "        id S229686AbhGEXkD (ORCPT <rfc822;list@vger.example.org>);\n        Mon, 5 Jul "
	 "2026 19:40:03 -0400", MAIL_RECEIVED_PEER, MAIL_FORM_ZMAILER, "204.0.113.241", "", false,
	 "spam.example", "vger.example.org", false},
	{"ZMailer, a name that did not resolve back", " from relay.example.org ([204.0.113.242]:1234 "
	 "\"EHLO relay.example.org\" rhost-flags-OK-FAIL-OK-OK) by vger.example.org with ESMTP id "
	 "S3; Mon, 5 Jul 2026 19:40:03 -0400",
	 MAIL_RECEIVED_PEER, MAIL_FORM_ZMAILER, "204.0.113.242", "relay.example.org", false,
	 "relay.example.org", "vger.example.org", false},
	{"ZMailer's list expansion", " (majordomo@vger.example.org) by vger.example.org via "
	 "listexpand\n        id S1751503AbdKUXo2 (ORCPT <rfc822;jane@example.org>);\n        Tue, "
	 "21 Nov 2026 18:44:28 -0500",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LIST, "", "", false, "", "vger.example.org", false},
	{"Lotus Domino", " from helo.spam.example ([204.0.113.250])\n          by notes.example.org "
	 "(Lotus Domino Release 8.5.3FP6)\n          with ESMTP id 2026112310000012-345678 ;\n"
	 "          Mon, 23 Nov 2026 10:00:00 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_DOMINO, "204.0.113.250", "", false, "helo.spam.example",
	 "notes.example.org", false},
	{"GroupWise Internet Agent: its reverse name is not said to be checked",
	 " from d104.example.net (nat.example.net [204.0.113.251])\n\tby gwia.example.org with ESMTP "
	 "(NOT encrypted); Mon, 23 Nov 2026 10:00:00 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_GROUPWISE, "204.0.113.251", "nat.example.net", false,
	 "d104.example.net", "gwia.example.org", false},
	{"GroupWise's own MTA", " from GWIA-MTA by gwia.example.org\n with Novell_GroupWise; Mon, 23 "
	 "Nov 2026 10:00:00 +0100",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_GROUPWISE, "", "", false, "GWIA-MTA", "gwia.example.org", false},
	{"Kerio Connect", " from laptop.example.net ([204.0.113.252])\n        (authenticated user "
	 "bob@example.net)\n        by mail.example.org (Kerio Connect 10.0.2 patch 1) with ESMTPA;\n"
	 "        Sat, 28 Nov 2026 12:59:28 +0200",
	 MAIL_RECEIVED_PEER, MAIL_FORM_KERIO, "204.0.113.252", "", false, "laptop.example.net",
	 "mail.example.org", false},
	{"Sun Java System Messaging Server", " from xanadu.home ([204.0.113.253]) by mr1.example.org\n"
	 " (Sun Java(tm) System Messaging Server 6.3-4.01 (built Aug  3 2007; 32bit))\n with ESMTP id "
	 "<0JWX00B63OE9QT70@mr1.example.org> for\n jane@example.org; Thu, 26 Nov 2026 00:25:22 -0500 "
	 "(EST)", MAIL_RECEIVED_PEER, MAIL_FORM_SUN, "204.0.113.253", "", false, "xanadu.home",
	 "mr1.example.org", false},
	{"Sun Messaging Server, [unknown] for the name", " from pool-204-0-113-254.example.net "
	 "([unknown] [204.0.113.254]) by vms1.example.org (Sun Java(tm) System Messaging Server "
	 "7u2-7.02 32bit (built Apr 16 2009)) with ESMTPA id <0LQ100351OCSGZO5@vms1.example.org> for "
	 "jane@example.org; Tue, 17 Nov 2026 18:38:53 -0500 (CDT)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_SUN, "204.0.113.254", "", false,
	 "pool-204-0-113-254.example.net", "vms1.example.org", false},
	{"Sun Messaging Server's internal channel", " from pmxchannel-daemon.mr1.example.org by\n "
	 "mr1.example.org\n (Sun Java System Messaging Server 6.2-7.05 (built Sep  5 2006))\n id "
	 "<0JJC00A05E8S2M00@mr1.example.org> for jane@example.org; Sat, 28 Nov 2026 02:19:40 +0200",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_SUN, "", "", false, "pmxchannel-daemon.mr1.example.org",
	 "mr1.example.org", false},
	{"webmail with HTTP", " from 204.0.113.160 by webmail.example.net with HTTP; Wed, 25 Nov "
	 "2026 00:57:41 +0100 (CET)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_WEBMAIL, "204.0.113.160", "", false, "",
	 "webmail.example.net", false},
	{"webmail via HTTP", " from [204.0.113.161] by web40310.mail.example.net via HTTP; Wed, 25 "
	 "Nov 2026 14:22:21 PST",
	 MAIL_RECEIVED_PEER, MAIL_FORM_WEBMAIL, "204.0.113.161", "", false, "",
	 "web40310.mail.example.net", false},
	{"webmail (via HTTP)", " from [204.0.113.162] by 3capp-webde-bs01.example.net (via HTTP); "
	 "Tue, 24 Nov 2026 20:32:34 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_WEBMAIL, "204.0.113.162", "", false, "",
	 "3capp-webde-bs01.example.net", false},
	{"SquirrelMail", " from 204.0.113.163        (SquirrelMail authenticated user bob); by "
	 "web1.example.net with HTTP;        Thu, 26 Nov 2026 14:35:29 -0600 (MDT)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_WEBMAIL, "204.0.113.163", "", false, "", "web1.example.net", false},
	{"webmail with the address twice", " from 204.0.113.164 ([204.0.113.164]) by "
	 "webmail.example.net (IMP) with HTTP for <jane@example.org>; Sun, 22 Nov 2026 00:31:07 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_WEBMAIL, "204.0.113.164", "", false, "",
	 "webmail.example.net", false},
	{"Microsoft's internal HTTPS between two hosts is no webmail", " from "
	 "DM6PR11MB4657.namprd11.prod.outlook.com (2a01:db8:365:1d4::23) by "
	 "SN6PR11MB3456.namprd11.prod.outlook.com with HTTPS; Mon, 23 Nov 2026 10:00:05 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_BARE, "2a01:db8:365:1d4::23", "", false,
	 "DM6PR11MB4657.namprd11.prod.outlook.com", "SN6PR11MB3456.namprd11.prod.outlook.com", false},
	{"LMTP from the MTA into Dovecot", " from mx.example.org ([193.0.2.25])\n\tby "
	 "mailbox.example.org with LMTP\n\tid kL3aBcDeFgHiJk\n\t(envelope-from <a@spam.example>)\n\t"
	 "for <jane@example.org>; Mon, 23 Nov 2026 10:00:02 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_LMTP, "193.0.2.25", "", false, "mx.example.org",
	 "mailbox.example.org", true},
	{"LMTP in qmail's shape, LHLO", " from mailbox.example.org (LHLO mailbox.example.org) "
	 "(193.0.2.26) by mailbox.example.org with LMTP; Thu, 26 Nov 2026 16:50:56 -0700 (PDT)",
	 MAIL_RECEIVED_PEER, MAIL_FORM_LMTP, "193.0.2.26", "mailbox.example.org", false,
	 "mailbox.example.org", "mailbox.example.org", true},
	{"LMTP over a unix socket", " from mx.example.org ([unix socket])\n\t by mailbox.example.org "
	 "(Cyrus 3.4.4) with LMTPA;\n\t Mon, 23 Nov 2026 10:00:02 +0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LMTP, "", "", false, "mx.example.org",
	 "mailbox.example.org", false},
	{"with local, recording a loopback peer", " from localhost (localhost [127.0.0.1]) (uid 500) "
	 "by mail.example.org with local; Mon, 23 Nov 2026 11:40:47 -0600",
	 MAIL_RECEIVED_PEER, MAIL_FORM_LOCAL, "127.0.0.1", "localhost", true, "localhost",
	 "mail.example.org", true},
	{"Sendmail: no name, (may be forged)", " from helo.spam.example ([204.0.113.170] (may be "
	 "forged))\n\tby mx.example.org (8.17.1/8.17.1) with ESMTP id 2ANA0010; Mon, 23 Nov 2026 "
	 "10:00:00 +0000", MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.170", "", false,
	 "helo.spam.example", "mx.example.org", false},
	{"Sendmail without HELO, no name, (may be forged)", " (from [204.0.113.169] (may be "
	 "forged))\n\tby mx.example.org (8.17.1/8.17.1) with SMTP id 2ANA0013; Mon, 23 Nov 2026 "
	 "10:00:00 +0000", MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.169", "", false, "",
	 "mx.example.org", false},
	{"Sendmail IDENT:user@name", " from ran-out.spam.example (IDENT:qmailr@ptr.spam.example "
	 "[204.0.113.171])\n\tby mx.example.org (8.17.1/8.17.1) with SMTP id 2ANA0011; Mon, 23 Nov "
	 "2026 10:00:00 +0000", MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.171",
	 "ptr.spam.example", true, "ran-out.spam.example", "mx.example.org", false},
	{"Sendmail user@[ADDR]: an ident and no name", " from 4wtgRl (kgbxn@[204.0.113.172]) by "
	 "mx.example.org (8.17.1/8.17.1) with SMTP id 2ANA0012; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.172", "", false, "4wtgRl",
	 "mx.example.org", false},
	{"IIS SMTPSVC unverified", " from tthompson ([204.0.113.173] unverified) by mail.example.org "
	 "with Microsoft SMTPSVC(5.0.2195.5329); Mon, 23 Nov 2026 13:23:01 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "204.0.113.173", "", false, "tthompson",
	 "mail.example.org", false},
	{"IIS SMTPSVC RDNS failed", " from 0 ([204.0.113.174] RDNS failed) by mail.example.org with "
	 "Microsoft SMTPSVC(6.0.3790.0); Mon, 23 Nov 2026 08:51:06 -0700",
	 MAIL_RECEIVED_PEER, MAIL_FORM_MICROSOFT, "204.0.113.174", "", false, "0", "mail.example.org", false},
	{"IIS pickup directory", " from mail pickup service by mail.example.org with Microsoft "
	 "SMTPSVC; Mon, 23 Nov 2026 19:05:39 -0500",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LOCAL, "", "", false, "mail", "mail.example.org", false},
	{"qmail invoked by uid", " (qmail 12345 invoked by uid 89); 23 Nov 2026 10:00:01 -0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LOCAL, "", "", false, "", "", false},
	{"qmail-ldap: (HELO x) then a bracketed address", " from unknown (HELO [204.0.113.175]) "
	 "([204.0.113.175]) (envelope-sender <a@spam.example>) by mx.example.org (qmail-ldap-1.03) "
	 "with SMTP for <jane@example.org>; 28 Nov 2026 20:44:45 -0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_QMAIL, "204.0.113.175", "", false, "[204.0.113.175]",
	 "mx.example.org", false},
	{"Yahoo's empty EHLO", " from 204.0.113.176  (EHLO ) (204.0.113.176) by mta232.mail.example.net "
	 "with SMTP; Sun, 22 Nov 2026 00:24:37 -0800",
	 MAIL_RECEIVED_PEER, MAIL_FORM_QMAIL, "204.0.113.176", "", false, "",
	 "mta232.mail.example.net", false},
	{"LISTSERV", " from LISTS.EXAMPLE.ORG by LISTS.EXAMPLE.ORG (LISTSERV-TCP/IP release 16.5) with "
	 "spool id 1234567 for NEWS-L@LISTS.EXAMPLE.ORG; Tue, 24 Nov 2026 11:01:27 -0400",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LIST, "", "", false, "LISTS.EXAMPLE.ORG",
	 "LISTS.EXAMPLE.ORG", false},
	{"Ecartis", " with ECARTIS (v1.0.0; list linux-mips); Fri, 27 Nov 2026 21:46:12 +0200 (CEST)",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LIST, "", "", false, "", "", false},
	{"a HELO that writes a whole TCP-info and a by: the last by is the MTA's",
	 " from x (unknown [193.0.2.30]) by evil (unknown [204.0.113.177]) by mx.example.org "
	 "(Postfix) with ESMTP id 9; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.177", "", false, "x", "mx.example.org", false},
	{"an address in a comment after the TCP-info, in no known shape", " from x (unknown "
	 "[204.0.113.179]) (Authenticated sender: bob@[193.0.2.30]) by smtp.example.org (Postfix) "
	 "with ESMTPSA id 10; Mon, 23 Nov 2026 10:00:00 +0000",
	 MAIL_RECEIVED_UNREADABLE, MAIL_FORM_NONE, "", "", false, "x", "smtp.example.org", false},
	{"iPlanet Messaging Server", " from mail.example.net ([204.0.113.249]) by mta.example.org "
	 "(iPlanet Messaging Server 5.2 HotFix 2.07 (built Jun 24 2005)) with ESMTP id "
	 "<0J0E00K02L0G76@mta.example.org> for jane@example.org; Mon, 23 Nov 2026 16:02:40 -0400",
	 MAIL_RECEIVED_PEER, MAIL_FORM_SUN, "204.0.113.249", "", false, "mail.example.net",
	 "mta.example.org", false},
	{"Kerio MailServer", " from helo.example.net ([204.0.113.248]) by mail.example.org (Kerio "
	 "MailServer 6.7.3) with ESMTP; Mon, 23 Nov 2026 10:00:00 +0100",
	 MAIL_RECEIVED_PEER, MAIL_FORM_KERIO, "204.0.113.248", "", false, "helo.example.net",
	 "mail.example.org", false},
	{"IMail by its name", " from pc [204.0.113.247] by mail.example.org (IMail 12.5.7) id "
	 "A1B2C3D4; Mon, 23 Nov 2026 10:00:00 -0500",
	 MAIL_RECEIVED_PEER, MAIL_FORM_IMAIL, "204.0.113.247", "", false, "pc", "mail.example.org",
	 false},
	{"Postfix's pickup", " by relay.example.org (Postfix, from userid 1000) id 3E1A2B; Mon, 23 "
	 "Nov 2026 09:00:00 +0000",
	 MAIL_RECEIVED_NO_PEER, MAIL_FORM_LOCAL, "", "", false, "", "relay.example.org", false},
	{"couriertcpd's softdnserr is no name", " from m165.spam.example (softdnserr "
	 "[::ffff:204.0.113.178]) by mail.example.org with esmtp; Sun, 22 Nov 2026 19:30:42 +0300",
	 MAIL_RECEIVED_PEER, MAIL_FORM_TCP_INFO, "204.0.113.178", "", false, "m165.spam.example",
	 "mail.example.org", false},
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
		    strcmp(r.helo, c->helo) != 0 || strcmp(r.by, c->by) != 0 ||
		    r.handoff != c->handoff)
			fail_msg("%s: got kind=%d form=%s ip=%s rdns=%s confirmed=%d helo=%s by=%s "
				 "handoff=%d (note: %s)", c->what, r.kind, mail_received_form_name(r.form),
				 ip, r.rdns, r.rdns_confirmed, r.helo, r.by, r.handoff, r.note);
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
 * ("t" trusted, "s" source, "k" skipped, "u" unreadable, "i" ignored, "h" an untrusted
 * hand-off, one letter a hop). */
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
		v[i] = "tskuih"[a.hops[i].verdict];
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
		" from mail.spam.example 204.0.113.15 by relay.example.org; Mon, 23 Nov 2026",
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

/* An inside hand-off (LMTP, a mailbox pickup, with local) from a host the reporter did not
 * list is never taken for the source: its host delivers the reporter's own mail. Listed, the
 * walk goes through it as through any trusted relay. */
static void test_walk_handoffs(void **state)
{
	const char *lmtp[] = {
		" from mx.example.org ([204.0.113.40]) by mailbox.example.org with LMTP id kL3; Mon, "
		"23 Nov 2026 10:00:02 +0000",
		" from mail.spam.example (unknown [204.0.113.41])" MX, NULL};
	walk_check(lmtp, "", MAIL_REFUSAL_NO_UNTRUSTED_HOP, "hi");
	const char *lmtp_loopback[] = {
		" from localhost ([127.0.0.1]) by mailbox.example.org with LMTP id kL4; Mon, 23 Nov "
		"2026 10:00:02 +0000",
		" from mail.spam.example (unknown [204.0.113.41])" MX, NULL};
	walk_check(lmtp_loopback, "", MAIL_REFUSAL_NO_UNTRUSTED_HOP, "hi");
	const char *lmtp_trusted[] = {
		" from mx.example.org ([193.0.2.25]) by mailbox.example.org with LMTP id kL5; Mon, "
		"23 Nov 2026 10:00:02 +0000",
		" from mail.spam.example (unknown [204.0.113.42])" MX, NULL};
	walk_check(lmtp_trusted, "204.0.113.42", MAIL_REFUSAL_NONE, "ts");
	/* The name a retriever polled is as good as a confirmed one: relay.example.org is a
	 * trusted name, and its address is in no trusted range. */
	const char *pickup_by_name[] = {
		" from relay.example.org [204.0.113.43] by laptop.example.org with POP3 "
		"(fetchmail-6.4.38) for <jane@localhost> (single-drop); Mon, 23 Nov 2026 10:00:06 "
		"+0100",
		" from mail.spam.example (unknown [204.0.113.44])" MX, NULL};
	walk_check(pickup_by_name, "204.0.113.44", MAIL_REFUSAL_NONE, "ts");
	const char *pickup_unlisted[] = {
		" from pop.example.net [204.0.113.45] by laptop.example.org with POP3 "
		"(fetchmail-6.4.38) for <jane@localhost> (single-drop); Mon, 23 Nov 2026 10:00:06 "
		"+0100",
		" from mail.spam.example (unknown [204.0.113.46])" MX, NULL};
	walk_check(pickup_unlisted, "", MAIL_REFUSAL_NO_UNTRUSTED_HOP, "hi");
	/* A webmail's client is a source like any other, and the why says what it is. */
	const char *webmail[] = {
		" from webmail.example.org (webmail.example.org [193.0.2.50])" MX,
		" from 204.0.113.47 by webmail.example.org with HTTP; Mon, 23 Nov 2026 09:59:59 +0000",
		NULL};
	walk_check(webmail, "204.0.113.47", MAIL_REFUSAL_NONE, "ts");
	size_t lens[2] = {strlen(webmail[0]), strlen(webmail[1])};
	struct mail_analysis a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(mail_chain_analyse(webmail, lens, 2, &trust, false, &a), MAIL_OK);
	assert_non_null(strstr(a.hops[1].why, "a web client"));
	mail_analysis_free(&a);
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
		cmocka_unit_test(test_walk_handoffs),
		cmocka_unit_test(test_walk_too_long),
	};
	return cmocka_run_group_tests(tests, setup_trust, teardown_trust);
}
