/* policy_meaning.c - the one place where what a listing usually means and what to check are
 * written down, by reason and by the class most trap hits had; the words for each class; the
 * score as every reader shows it. `check`, `explain`, the lookup and listing pages, the JSON and
 * the TXT records all say these words, so that none can tell a story the others do not. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "policy.h"

/* ---- what to check ----------------------------------------------------------------------- */

/* Trap hits that are spam itself: the server sends to addresses nobody gave it. */
static const char *const advice_trap_spam[] = {
	"If this server sends bulk mail: send only to people who asked for it and confirmed "
	"(double opt-in), never to bought, rented or harvested lists, which is where spamtrap "
	"addresses end up.",
	"If nobody here meant to send bulk mail: look for malware, an exploited web form or script, "
	"or a mail account whose password was stolen (one that sends far more than usual).",
	"Only the mail server should send mail to port 25 of other networks.",
	NULL,
};

static const char *const advice_bounce[] = {
	"Reject mail for unknown recipients during the SMTP dialogue instead of accepting it and "
	"bouncing it later: a later bounce goes to the forged sender.",
	"Reject or drop mail your filters call spam or a virus; never bounce it.",
	"A server that relays mail for others should know the final recipients and refuse unknown "
	"ones before it accepts the mail.",
	NULL,
};

static const char *const advice_autoreply[] = {
	"Do not send auto-replies to mail your filters call spam, to mailing lists and bulk mail "
	"(Precedence: bulk or list, Auto-Submitted), or to the same sender more than once every few "
	"days.",
	"Turn challenge-response filters off: they ask forged senders to confirm, so they cannot "
	"work without sending mail to strangers.",
	NULL,
};

static const char *const advice_virus[] = {
	"Turn off virus notices to senders: viruses forge the sender, so the notice goes to a "
	"stranger. Reject infected mail during the SMTP dialogue, or tell only the recipient.",
	NULL,
};

static const char *const advice_reports[] = {
	"If this is a mailing list or a newsletter: send only to people who confirmed that they "
	"want it (double opt-in), make leaving it one click, and drop addresses that bounce.",
	"If nobody here meant to send bulk mail: find the customer, script or mail account that "
	"sent it in the mail server's log (the one that sends far more than usual), stop it, and "
	"change the password of an account that was used.",
	"Limit how much one account or customer may send in an hour.",
	NULL,
};

static const char *const advice_compromised[] = {
	"Look for malware on the machine, and for software that relays mail or web traffic for "
	"anyone (an open relay or proxy).",
	"Look for web forms and scripts that send mail (contact forms, old mailers) and can be "
	"made to send it to anyone.",
	"Look at the mail server's log for an account that sends far more than usual: its password "
	"has probably been stolen. Change it, and limit how much one account may send.",
	"Only the mail server should send mail to port 25 of other networks.",
	NULL,
};

/* ---- the meanings ---------------------------------------------------------------------- */

/* Trap hits only, by the class most of them had (unknown: not sorted, read as spam). */
static const struct policy_meaning meanings_traps[EVIDENCE_CLASSES] = {
	[EVIDENCE_SPAM] = {"spamtrap hits only, mostly spam",
			   "usually a spammer sending to bought or harvested lists of addresses, "
			   "or a compromised machine sending spam",
			   "spamtrap hits: mail to addresses no person uses", advice_trap_spam},
	[EVIDENCE_BOUNCE] = {"spamtrap hits only, mostly bounces",
			     "usually backscatter, from a mail server that accepts mail it cannot "
			     "deliver and then bounces it to the forged sender",
			     "spamtrap hits, mostly bounces: probably backscatter", advice_bounce},
	[EVIDENCE_AUTOREPLY] = {"spamtrap hits only, mostly auto-replies",
				"usually an auto-responder or a challenge-response system "
				"answering mail whose sender was forged",
				"spamtrap hits, mostly auto-replies: probably an auto-responder",
				advice_autoreply},
	[EVIDENCE_VIRUS] = {"spamtrap hits only, mostly virus notices",
			    "usually a virus scanner that tells the forged sender of infected "
			    "mail about it",
			    "spamtrap hits, mostly virus notices: probably a virus scanner",
			    advice_virus},
	[EVIDENCE_UNKNOWN] = {"spamtrap hits only",
			      "usually a spammer sending to bought or harvested lists of "
			      "addresses, or a compromised machine sending spam",
			      "spamtrap hits: mail to addresses no person uses", advice_trap_spam},
};

/* Trap hits and reports: people reported what the traps got as well. */
static const struct policy_meaning meanings_both[EVIDENCE_CLASSES] = {
	[EVIDENCE_SPAM] = {"spamtrap hits and user reports",
			   "usually a compromised machine (a virus, an open proxy, an exploited "
			   "web form or script, or stolen mail account credentials) sending spam",
			   "spamtrap hits and user reports: probably a compromised machine",
			   advice_compromised},
	[EVIDENCE_BOUNCE] = {"spamtrap hits, mostly bounces, and user reports",
			     "usually backscatter that people also reported, from a mail server "
			     "that accepts mail it cannot deliver and then bounces it to the "
			     "forged sender",
			     "spamtrap hits, mostly bounces, and user reports: probably "
			     "backscatter",
			     advice_bounce},
	[EVIDENCE_AUTOREPLY] = {"spamtrap hits, mostly auto-replies, and user reports",
				"usually an auto-responder or a challenge-response system "
				"answering mail whose sender was forged, which people also "
				"reported",
				"spamtrap hits, mostly auto-replies, and user reports: probably "
				"an auto-responder",
				advice_autoreply},
	[EVIDENCE_VIRUS] = {"spamtrap hits, mostly virus notices, and user reports",
			    "usually a virus scanner that tells the forged sender of infected "
			    "mail about it, which people also reported",
			    "spamtrap hits, mostly virus notices, and user reports: probably a "
			    "virus scanner",
			    advice_virus},
	[EVIDENCE_UNKNOWN] = {"spamtrap hits and user reports",
			      "usually a compromised machine (a virus, an open proxy, an exploited "
			      "web form or script, or stolen mail account credentials) sending "
			      "spam",
			      "spamtrap hits and user reports: probably a compromised machine",
			      advice_compromised},
};

static const struct policy_meaning meaning_reports = {
	"user reports only", "usually a spammer, or a mailing list its recipients did not ask for",
	"user reports: probably a spammer", advice_reports};

const struct policy_meaning *policy_meaning(enum policy_reason r, enum evidence_class detail)
{
	unsigned d = (unsigned)detail < EVIDENCE_CLASSES ? (unsigned)detail : EVIDENCE_SPAM;
	if (r == POLICY_REASON_REPORTS)
		return &meaning_reports;
	if (r == POLICY_REASON_BOTH)
		return &meanings_both[d];
	return &meanings_traps[d];
}

size_t policy_advice_count(const struct policy_meaning *m)
{
	size_t n = 0;
	while (m && m->advice && m->advice[n])
		n++;
	return n;
}

/* ---- the classes ----------------------------------------------------------------------- */

static const struct policy_class_words class_words[EVIDENCE_CLASSES] = {
	[EVIDENCE_SPAM] = {"spam", "spam", "Spam itself, sent to addresses that never asked for "
					   "anything"},
	[EVIDENCE_BOUNCE] = {"bounce", "bounces",
			     "Bounces (delivery failure notices) for mail the trap never sent, "
			     "known as backscatter"},
	[EVIDENCE_AUTOREPLY] = {"auto-reply", "auto-replies",
				"Auto-replies (vacation or \xe2\x80\x9cwe received your "
				"message\xe2\x80\x9d answers, challenge-response questions) to "
				"mail the trap never sent"},
	[EVIDENCE_VIRUS] = {"virus notice", "virus notices",
			    "Virus warnings sent to the forged sender of an infected message"},
	[EVIDENCE_UNKNOWN] = {"unsorted", "unsorted", "Trap hits not sorted into a kind"},
};

const struct policy_class_words *policy_class_words(enum evidence_class c)
{
	return &class_words[(unsigned)c < EVIDENCE_CLASSES ? c : EVIDENCE_UNKNOWN];
}

/* ---- the score as shown ---------------------------------------------------------------- */

double policy_score_shown(double score)
{
	if (!isfinite(score))
		return 0;
	/* Cut, not rounded: 4.9996 is 4.999, never a 5.000 that seems to reach a threshold of 5
	 * it does not reach. The 1e-6 thousandths are the policy's own 1e-9 (POLICY_EPSILON): a
	 * sum that reaches the threshold on paper shows as reaching it. */
	return floor(score * 1000.0 + 1e-6) / 1000.0;
}

const char *policy_score_format(double score, char buf[POLICY_SCORE_STRLEN])
{
	snprintf(buf, POLICY_SCORE_STRLEN, "%.3f", policy_score_shown(score));
	/* "10.000" as "10.0", "7.990" as "7.99": the decimals that say something. */
	size_t n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0' && n >= 2 && buf[n - 2] != '.')
		buf[--n] = '\0';
	return buf;
}
