/* mail.h - pure functions on the bytes of mail messages: the Received-chain walk, report
 * parsing and the classification of trap messages. No I/O, no sockets. */
#ifndef TRAPLINE_MAIL_H
#define TRAPLINE_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* The codes of the one error space (base.h) that mail functions return. */
enum mail_err {
	MAIL_OK = TL_OK,
	MAIL_EINVAL = TL_EINVAL,
	MAIL_ENOMEM = TL_ENOMEM,
	MAIL_ENOTFOUND = TL_ENOTFOUND,
};

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
const char *mail_class_name(enum mail_class c);
/* The signals as "a, b, c" into buf (cap bytes, always terminated); "" when none. */
void mail_signals_format(const struct mail_verdict *v, char *buf, size_t cap);
/* The address of the message's Return-Path header (the envelope sender a delivering MTA
 * wrote) into out: "" for <>. MAIL_ENOTFOUND when there is none, MAIL_EINVAL when it does
 * not fit. */
int mail_return_path(const char *msg, size_t len, char *out, size_t cap);
/* Length of the header section of msg (through the empty line that ends it; all of msg when
 * there is none): what a trap keeps as a headers sample. */
size_t mail_header_length(const char *msg, size_t len);
/* Masks trap addresses in text[0..len) in place, for showing a sample: the local part of
 * every address at one of domains (comma separated) and of each of addresses (comma
 * separated local@domain) becomes '*'s of the same length. Case-insensitive. Returns how many
 * addresses were masked. */
size_t mail_mask_traps(char *text, size_t len, const char *domains, const char *addresses);

/* ==== end of classification =========================================================== */

#endif
