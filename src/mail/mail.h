/* mail.h - pure functions on message bytes: which address sent a reported message (the
 * Received-chain walk) and, beside it, what kind of message it is (the classifier). */
#ifndef TRAPLINE_MAIL_H
#define TRAPLINE_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* The codes of the one error space (base.h) that mail functions return. */
enum mail_err {
	MAIL_OK = TL_OK,
	MAIL_EINVAL = TL_EINVAL,   /* not a message, or a bad trusted-relay entry: the text says why */
	MAIL_ENOMEM = TL_ENOMEM,
	MAIL_ETOOBIG = TL_ERANGE,  /* a message larger than MAIL_REPORT_MAX */
	MAIL_ENOTFOUND = TL_ENOTFOUND, /* mail_return_path: no such header */
};

/* ==== The Received chain and report analysis (mail_received*.c, mail_report*.c) ==== */
/* A message carries Received headers, the topmost written by the reporter's own mail system.
 * Everything below the first hop handed over by a host the reporter does not trust may be
 * forged by the sender, so the walk goes down from the top while the peer each header records
 * is a trusted relay, and the first untrusted peer is the source. No I/O, no clock, no state
 * that changes: every function here works on the buffers it is given. */


#define MAIL_REPORT_MAX (10u * 1024 * 1024) /* bytes of one reported message */
#define MAIL_HOPS_MAX 100  /* Received headers read; a longer chain is refused unread */
#define MAIL_NAME_MAX 256  /* a host name as recorded (escaped, see below), cut to fit */
#define MAIL_WHY_MAX 512   /* one explanation */

/* ---- one Received header ---- */

enum mail_received_kind {
	MAIL_RECEIVED_PEER = 0,   /* records the address of the host that handed the message on */
	MAIL_RECEIVED_NO_PEER,    /* records none: local submission, webmail, an internal hand-off */
	MAIL_RECEIVED_UNREADABLE, /* has an address, in a form that does not say whose it is */
};

/* How the header was written: the form decides which address is the peer's, which name is the
 * HELO (what the client claims, never trusted) and which the reverse name the receiving MTA
 * looked up, and whether it checked that name. docs/operator.md lists them with what each
 * trusts; mail_received_form_name gives the word. The first five are RFC 5321's and the big
 * MTAs'; the others were added for the rest of the field (issue 23). A header that records no
 * peer may still have a form (local, lmtp, list, ...), which says why it has none. */
enum mail_received_form {
	MAIL_FORM_NONE = 0,
	MAIL_FORM_TCP_INFO,    /* from HELO (NAME [ADDR]): RFC 5321 4.4; Postfix, Sendmail,
				* OpenSMTPD, Courier, Gmail, Haraka */
	MAIL_FORM_EXIM,        /* from NAME ([ADDR]:PORT helo=HELO) or from [ADDR] (helo=HELO) */
	MAIL_FORM_QMAIL,       /* from NAME (HELO HELO) (ADDR); Yahoo's (EHLO HELO) too */
	MAIL_FORM_MICROSOFT,   /* from HELO (ADDR) by HOST (ADDR) with Microsoft SMTP Server; IIS
				* SMTPSVC's from HELO ([ADDR] unverified) */
	MAIL_FORM_BARE,        /* from NAME (ADDR) without a signature: NAME is taken as the HELO */
	MAIL_FORM_BRACKET,     /* from NAME [ADDR] by HOST: small MTAs, test suites */
	MAIL_FORM_IMAIL,       /* from HELO [ADDR] by HOST (SMTPD32-...) */
	MAIL_FORM_MDAEMON,     /* from HELO [ADDR] by HOST [ADDR] ... (MDaemon...), HELO [(ADDR)] */
	MAIL_FORM_PICKUP,      /* from SERVER [ADDR] by HOST with POP3|IMAP (fetchmail-...) */
	MAIL_FORM_COMMUNIGATE, /* from [ADDR] (HELO x), from NAME ([ADDR] verified) */
	MAIL_FORM_XMAIL,       /* from HELO (ADDR:PORT) by HOST with [XMail ...] */
	MAIL_FORM_GMX,         /* from NAME (EHLO x) [ADDR] by HOST: GMX, web.de */
	MAIL_FORM_ZMAILER,     /* from NAME ([ADDR]:PORT "EHLO x" rhost-flags-A-B-C-D) */
	MAIL_FORM_DOMINO,      /* from HELO ([ADDR]) by HOST (Lotus Domino Release ...) */
	MAIL_FORM_GROUPWISE,   /* GWIA's from HELO (NAME [ADDR]) ... (NOT encrypted); its MTA */
	MAIL_FORM_KERIO,       /* from HELO ([ADDR]) by HOST (Kerio Connect ...) */
	MAIL_FORM_SUN,         /* from HELO ([ADDR]) by HOST (Sun Java(tm) System Messaging ...) */
	MAIL_FORM_WEBMAIL,     /* from ADDR by HOST with HTTP: the web client's address */
	MAIL_FORM_LMTP,        /* ... with LMTP: a delivery into the mailbox store */
	MAIL_FORM_LOCAL,       /* with local, Postfix's pickup, Sendmail's submit, qmail by uid */
	MAIL_FORM_QMAIL_QUEUE, /* (qmail N invoked from network): its SMTP line is the next one */
	MAIL_FORM_LIST,        /* a mailing list manager's own line */
	MAIL_FORM_COUNT
};

/* Names below are kept as recorded, escaped: printable ASCII stays, '\' and every other byte
 * become \xNN, so they can be shown anywhere (text, JSON, logs) and never match a trusted
 * name by accident. "" when the header does not record one. */
struct mail_received {
	enum mail_received_kind kind;
	enum mail_received_form form;
	uint8_t ip[16];            /* the peer (IPv4 as ::ffff:a.b.c.d), when kind is PEER */
	char rdns[MAIL_NAME_MAX];  /* the reverse name the receiving MTA recorded beside it */
	bool rdns_confirmed;       /* the MTA vouches for that name (forward-confirmed) */
	char helo[MAIL_NAME_MAX];  /* what the client called itself in HELO/EHLO */
	char by[MAIL_NAME_MAX];    /* the receiving host, as it names itself */
	bool handoff;              /* the peer is inside the reporter's own system by the nature of
				    * the hop (an LMTP delivery, a mailbox pickup, a local hand-off):
				    * never a sender, so it must be trusted for the walk to go on */
	char note[MAIL_WHY_MAX];   /* how it was read: the MTA's form, why a name is not confirmed,
				    * why it is unreadable */
};

/* Reads one Received header's value (the bytes after "Received:", folded or not, CRLF or LF)
 * from s[0..len). Never reads past len; any byte string gives one of the three kinds. */
void mail_received_parse(const char *s, size_t len, struct mail_received *out);

/* ---- the reporter's trusted relays ---- */

/* Addresses (CIDR ranges) and host names of the relays that handle the reporter's mail before
 * it reaches them. Zero it (or mail_trust_init) before the first add. */
struct mail_trust {
	struct ip_prefix *prefixes;
	size_t n_prefixes, cap_prefixes;
	char (*names)[MAIL_NAME_MAX]; /* lowercase, no trailing dot */
	size_t n_names, cap_names;
};

void mail_trust_init(struct mail_trust *t);
/* Adds one entry from s[0..len): a CIDR range ("192.0.2.0/24", "2001:db8::/32", a bare
 * address), an IPv4 range as rbldnsd's files write them ("192.0.2.10-192.0.2.20", or
 * "192.0.2.10-20" for the last octet; kept as the prefixes that cover it exactly) or a host
 * name (RFC 1123: letters, digits and '-' in dot-separated labels, the last with a letter).
 * MAIL_EINVAL with the problem in err (an address with host bits set below its length, a
 * range that does not parse or runs backwards, a name that is not one); MAIL_ENOMEM. */
int mail_trust_add(struct mail_trust *t, const char *s, size_t len, char *err, size_t errcap);
/* Adds every entry of a file's text: one a line, '#' starts a comment, blank lines and
 * surrounding blanks ignored. On MAIL_EINVAL *bad_line is the first bad line (from 1) and err
 * says what is wrong with it; entries before it stay added. */
int mail_trust_parse(struct mail_trust *t, const char *text, size_t len, size_t *bad_line,
		     char *err, size_t errcap);
void mail_trust_free(struct mail_trust *t);

/* ---- the walk and its explanation ---- */

enum mail_hop_verdict {
	MAIL_HOP_TRUSTED = 0, /* a trusted relay handed the message on: the walk goes down */
	MAIL_HOP_SOURCE,      /* the first untrusted peer: where the message came from */
	MAIL_HOP_SKIPPED,     /* records no peer */
	MAIL_HOP_UNREADABLE,  /* whose address it records cannot be told: the walk stops */
	MAIL_HOP_IGNORED,     /* below where the walk stopped: may be forged, never read for trust */
	MAIL_HOP_HANDOFF,     /* an inside hand-off (handoff above) from a host not trusted: no
			       * sender, and who handed it on before cannot be told: the walk stops */
};

struct mail_hop {
	struct mail_received rcv;
	enum mail_hop_verdict verdict;
	char trusted_by[MAIL_NAME_MAX]; /* the range or name that made it trusted, "" */
	char why[MAIL_WHY_MAX];
};

enum mail_refusal {
	MAIL_REFUSAL_NONE = 0,
	MAIL_REFUSAL_NO_RECEIVED,      /* "no-received": the message has no Received header */
	MAIL_REFUSAL_NO_UNTRUSTED_HOP, /* "no-untrusted-hop": no untrusted peer could be named */
	MAIL_REFUSAL_PRIVATE_SOURCE,   /* "private-source": the source is not a public address (a
					* special-purpose one: ip_special_find) */
};

/* The message classifier's call site: it gets the judged message's bytes (the attached message
 * of a forward) and returns one of the words of `evidence add --class`, or NULL.
 * mail_classify_word (below, the trap's classifier) is the one to give. */
typedef const char *(*mail_classify_fn)(const char *msg, size_t len, void *arg);

struct mail_report_options {
	const struct mail_trust *trust; /* NULL: nothing is trusted */
	mail_classify_fn classify;      /* NULL: the class stays NULL */
	void *classify_arg;
	bool special_public;            /* special-purpose addresses count as public (a list of a
					   private network: exclude_default without the word
					   special-purpose); those that never send never do */
};

struct mail_analysis {
	enum mail_refusal refusal;
	bool has_source;           /* false exactly when refused */
	uint8_t source[16];
	size_t source_hop;         /* index into hops of the source, of the private peer, or of
				      the untrusted hand-off */
	char why[MAIL_WHY_MAX];    /* why this source, or why refused */
	struct mail_hop *hops;     /* the Received headers, top first (at most MAIL_HOPS_MAX) */
	size_t n_hops;
	size_t n_received;         /* Received headers in the message (more than n_hops when cut) */
	bool forwarded;            /* the judged message is the report's message/rfc822 attachment */
	uint8_t digest[32];        /* SHA-256 of the judged message (mail_report_analyse): the same
				      spam raw, forwarded as an attachment (encoded or not), with
				      CRLF or LF line ends or behind an mbox From line digests the
				      same (mail_report_analyse says how) */
	const char *cls;           /* the classifier's word, or NULL */
	char error[MAIL_WHY_MAX];  /* when mail_report_analyse fails: why */
};

/* Walks the Received header values of a message (top first, lens[i] bytes each, as they stand
 * in the message) with the trusted relays t (NULL: none) into out, which the caller frees with
 * mail_analysis_free. n is how many the message has; hdrs holds the first MAIL_HOPS_MAX of
 * them when there are more (such a chain is refused unless the source is among those). The
 * first untrusted peer is no source when it is a special-purpose address (unless
 * special_public, and then only when it never sends). A refusal is a result, not an error: 0
 * or MAIL_ENOMEM. */
int mail_chain_analyse(const char *const *hdrs, const size_t *lens, size_t n,
		       const struct mail_trust *t, bool special_public, struct mail_analysis *out);

/* Parses msg[0..len) with GMime (a raw RFC 5322 message, or a report that carries it as a
 * message/rfc822 attachment, which is then the one judged) and walks its Received chain.
 * 0; MAIL_EINVAL when it is not one message and MAIL_ETOOBIG above MAIL_REPORT_MAX, with
 * out->error saying why; MAIL_ENOMEM. Free out with mail_analysis_free in every case.
 * One message is: an optional mbox "From " line, a header section that starts with a header
 * field (Name: value), line breaks (CRLF or a bare LF; a text without any is a message whose
 * lines were joined, as `curl -d` does), no NUL byte before the body. An mbox that holds
 * several messages (a "From " line after an empty line, followed by a header field) is
 * refused whole, naming how many: nothing of it is taken.
 * out->digest is the SHA-256 of the judged message as GMime writes it back, its line ends
 * made LF and the line breaks and blanks that end it dropped. */
int mail_report_analyse(const char *msg, size_t len, const struct mail_report_options *opt,
			struct mail_analysis *out);
void mail_analysis_free(struct mail_analysis *a);

/* The explanation a moderator reads, as text (one line for the outcome, one per hop) or as
 * JSON (docs/api.md). *out is allocated (free it with free()); 0 or MAIL_ENOMEM. */
int mail_analysis_text(const struct mail_analysis *a, char **out);
int mail_analysis_json(const struct mail_analysis *a, char **out);

/* Words for the enums ("no-untrusted-hop", "trusted", "tcp-info"); NULL for REFUSAL_NONE; the
 * form of MAIL_FORM_NONE is "none". */
const char *mail_refusal_name(enum mail_refusal r);
const char *mail_hop_verdict_name(enum mail_hop_verdict v);
const char *mail_received_form_name(enum mail_received_form f);

/* ==== end of the Received chain and report analysis ==== */

/* ==== classification of trap messages (mail_classify*.c) ============================== */
/* What a message to a spamtrap is, from its envelope sender and its headers, parsed with
 * GMime: the class names the usual cause of a listing on trap hits (backscatter from a
 * server that accepts then bounces, an auto-responder answering forged senders, a virus
 * scanner notifying them, or spam proper). */

/* The same numbers and words as the store's classes (evidence add --class). */
enum mail_class {
	MAIL_CLASS_SPAM = 0,
	MAIL_CLASS_BOUNCE = 1,
	MAIL_CLASS_AUTOREPLY = 2,
	MAIL_CLASS_VIRUS = 3,
};

#define MAIL_SIGNALS_MAX 12

/* The class and the signals seen, each a static string such as "null-sender",
 * "content-type:multipart/report", "auto-submitted:auto-replied", "subject:out-of-office". */
struct mail_verdict {
	enum mail_class cls;
	unsigned n_signals;
	const char *signals[MAIL_SIGNALS_MAX];
};

/* Classifies msg[0..len) (the whole message as received, CRLF or LF line ends) sent with the
 * envelope sender envelope_from: "" is the null sender <>, NULL means unknown. The decision:
 * a scanner's notification is virus; otherwise a delivery status notification
 * (multipart/report, message/delivery-status) is bounce, even with Auto-Submitted; otherwise
 * the auto-reply signals (Auto-Submitted other than "no", X-Autoreply, Precedence auto_reply,
 * vacation and challenge-response subjects) give autoreply; otherwise a null sender is
 * bounce; everything else is spam. Only the first MAIL_CLASSIFY_MAX bytes are read.
 * MAIL_EINVAL for NULL arguments; a message GMime cannot read is spam with no signal. */
#define MAIL_CLASSIFY_MAX (1024 * 1024)
int mail_classify(const char *msg, size_t len, const char *envelope_from,
		  struct mail_verdict *out);
/* "spam", "bounce", "autoreply", "virus". */
/* The same classification with GMime reading the whole message (mail_classify reads the
 * header section alone when the message is one part): the reference its tests compare with. */
int mail_classify_gmime(const char *msg, size_t len, const char *envelope_from,
			struct mail_verdict *out);
const char *mail_class_name(enum mail_class c);
/* The class the trap would give msg as it is (the envelope sender from its Return-Path), as
 * a word: a mail_classify_fn for mail_report_options, so that a reported message is classified
 * as a trap message is. arg is unused. NULL when it cannot be classified. */
const char *mail_classify_word(const char *msg, size_t len, void *arg);
/* The signals as "a, b, c" into buf (cap bytes, always terminated); "" when none. */
void mail_signals_format(const struct mail_verdict *v, char *buf, size_t cap);
/* The address of the message's Return-Path header (the envelope sender a delivering MTA
 * wrote) into out: "" for <>. MAIL_ENOTFOUND when there is none, MAIL_EINVAL when it does
 * not fit. */
int mail_return_path(const char *msg, size_t len, char *out, size_t cap);
/* Length of the header section of msg (through the empty line that ends it; all of msg when
 * there is none): what a trap keeps as a headers sample. */
size_t mail_header_length(const char *msg, size_t len);
/* A copy of text[0..len) for showing a sample, with every trap address in it as "***@domain"
 * (its local part and length gone), however it is written: a dot-atom or quoted local part
 * ("a b"@trap.example), blanks or a folded line around the '@' and the domain's dots, inside
 * RFC 2047 encoded words (a run of them that holds an '@' is shown decoded, in UTF-8). A trap
 * address is one at one of domains (comma separated) or one of addresses (comma separated
 * local@domain), without case. Returns the copy (malloc'd, NUL-terminated, its length in
 * *out_len if not NULL; text's NUL bytes are kept) and how many addresses were masked in
 * *masked if not NULL; NULL when out of memory. */
char *mail_mask_traps(const char *text, size_t len, const char *domains, const char *addresses,
		      size_t *out_len, size_t *masked);

/* ==== end of classification =========================================================== */

#endif
