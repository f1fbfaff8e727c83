/* policy.h - the listing criteria: score an address's evidence, decide listed or not, why, and
 * until when. Pure functions of their inputs and `now`: no I/O, no clock of their own. */
#ifndef TRAPLINE_POLICY_H
#define TRAPLINE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

/* The codes of the one error space (base.h) that policy functions return. */
enum policy_err { POLICY_OK = TL_OK, POLICY_EINVAL = TL_EINVAL, POLICY_ENOMEM = TL_ENOMEM };

/* Why an address is listed. What each means, by the class most trap hits had, is the table
 * behind policy_meaning (policy_meaning.c). */
enum policy_reason {
	POLICY_REASON_NONE = 0,
	POLICY_REASON_TRAPS = 1,   /* spamtrap hits only */
	POLICY_REASON_REPORTS = 2, /* user reports only: usually a spammer */
	POLICY_REASON_BOTH = 3,    /* both */
};

const char *policy_reason_name(enum policy_reason r); /* "traps", "reports", "both", "none" */

/* What a listing usually means, said plainly, and what to check on the server: by its reason
 * and, for trap hits (alone or with reports), by the class most of them had (detail). The one
 * source of these words: `check`, `explain`, the pages, the JSON and the TXT records say them. */
struct policy_meaning {
	const char *what;    /* "spamtrap hits only, mostly bounces" */
	const char *usually; /* "usually backscatter, from a mail server that ..." (no colon, so
				that "WHAT: USUALLY" reads as one line) */
	const char *txt;     /* the short form a TXT record carries: "spamtrap hits, mostly
				bounces: probably backscatter" */
	const char *const *advice; /* what to check, one sentence each; NULL-terminated */
};
/* The meaning of a listing for reason r (not POLICY_REASON_NONE) whose trap hits are mostly
 * of class detail (ignored for POLICY_REASON_REPORTS). Static. */
const struct policy_meaning *policy_meaning(enum policy_reason r, enum evidence_class detail);
/* How many sentences m->advice holds (0 for NULL). */
size_t policy_advice_count(const struct policy_meaning *m);

/* The words for a class of trap hit: "bounce", "bounces", and what such a hit is. Static. */
struct policy_class_words {
	const char *one, *many;
	const char *description; /* "Bounces (delivery failure notices) for mail the trap never
				    sent, known as backscatter" */
};
const struct policy_class_words *policy_class_words(enum evidence_class c);

/* A score as every reader shows it (text, pages, JSON): three decimals, cut rather than
 * rounded, so that a score short of its threshold never shows as reaching it (4.9996 is
 * 4.999); a sum that reaches it within the comparison's 1e-9 shows as reaching it. */
double policy_score_shown(double score);
#define POLICY_SCORE_STRLEN 32
/* The shown score as text with the decimals that say something: "10.0", "7.999", "4.5". */
const char *policy_score_format(double score, char buf[POLICY_SCORE_STRLEN]);

/* Every number of the criteria (defaults: SpamCop's published rules, in the config schema). */
struct policy_config {
	double report_fresh;         /* weight of a report for mail received just now (4) */
	double report_old;           /* weight at report_decay_s and older (1) */
	uint32_t report_decay_s;     /* 48 h: the weight falls linearly from fresh to old */
	uint32_t window_s;           /* 7 days: older evidence is ignored */
	uint32_t trap_square_from;   /* 6: below it trap hits add trap_weight x hits, from it hits^2
					(keep trap_weight x (from - 1) <= from^2: the score must not
					grow when a hit leaves the window) */
	double trap_weight;          /* 5 */
	double threshold;            /* score at which an address is listed (5) */
	uint32_t min_evidence;       /* more than one piece of evidence: 2 */
	uint32_t listing_s;          /* 24 h after the last evidence */
	uint32_t two_reports_s;      /* 12 h: the most a listing on two reports (and nothing else) lasts */
	uint32_t min_reporters;      /* reporters needed for a listing on reports alone: 2. The
					reports of one reporter about an address count once (its
					newest in the window), however many it sends */
};

/* The criteria the configuration sets (the policy_* keys). */
void policy_config_from(const struct config *cfg, struct policy_config *out);
/* The shipped criteria: the policy_* keys' defaults in the config schema, the one place they
 * are written down. */
void policy_config_defaults(struct policy_config *c);

/* One piece of evidence, as the policy sees it. */
struct policy_evidence {
	int64_t received_at;
	int64_t seq; /* commit order (the store's id): breaks a tie with a delisting's second */
	bool trap;   /* a spamtrap hit; otherwise a user report */
	uint8_t cls; /* the store's class (spam, bounce, ...): carried for explanations, not scored */
	uint64_t reporter; /* a report's reporter: the same nonzero value for each report of one
			      reporter, whose reports about the address count once (the newest
			      counted); 0: a report that counts on its own (an operator's) */
};

/* What else decides: exclusions, a moderator's delisting, reputation. */
struct policy_context {
	bool excluded;           /* an exclusion in force covers the address */
	int64_t delisted_at;     /* a moderator's delisting (0: none): only evidence received after
				    it counts towards a new listing; within its second, evidence
				    committed after it (seq > delist_mark) is after it */
	int64_t delist_mark;
	double reputation;       /* points added to the threshold for this address (0: none) */
};

/* One counted piece of evidence in the computation, for explain. */
struct policy_step {
	int64_t received_at;
	bool trap;
	bool counted;  /* false: outside the window, before a delisting, or superseded */
	bool superseded; /* a report not counted because its reporter's newer one counts */
	double weight; /* a report's freshness weight; 0 for traps (they count as a group) */
};

/* The score is not rounded: report weights are exact doubles of the age in whole seconds, and
 * the comparison forgives 1e-9 so that sums of binary fractions (2.5 + 2.5, 0.1 + 0.7) reach a
 * threshold they reach on paper. Readers show policy_score_shown's three decimals. */
struct policy_result {
	bool listed;
	enum policy_reason reason; /* from the counted pieces; POLICY_REASON_NONE when not listed */
	double score, threshold;
	double report_score, trap_score;
	uint32_t traps, reports;   /* counted pieces: each reporter's newest report once, so that
				      reports is also the number of reporters */
	uint32_t superseded;       /* reports in the window that do not count: the same
				      reporter's newer report about the address counts instead */
	uint32_t trap_classes[EVIDENCE_CLASSES]; /* counted trap hits by class */
	enum evidence_class detail; /* the class most counted trap hits have (the most telling on
				       a tie: virus, bounce, autoreply, spam, unknown); spam when
				       there are none */
	int64_t last_evidence_at;  /* newest counted piece (0: none) */
	int64_t expires_at;        /* when listed: when the listing ends if nothing new comes */
				   /* (the first second evaluation says "not listed": listing_s or
				      two_reports_s after the newest piece, or earlier when ageing
				      reports take the score under the threshold; the writer
				      re-evaluates then. When why_not is "expired": when it expired;
				      otherwise 0.) */
	const char *why_not;       /* when not listed: a short reason ("excluded", "score below
				      the threshold", "only one piece of evidence", "expired": the
				      score still reaches the threshold but the evidence is too old,
				      ...); a static string, NULL when listed. Readers that act on
				      one compare it with the POLICY_WHY_* words below. */
};

/* The why_not words readers act on (the text and the pages say more for them). */
#define POLICY_WHY_EXCLUDED "excluded"
#define POLICY_WHY_BELOW "score below the threshold"
#define POLICY_WHY_EXPIRED "expired"
#define POLICY_WHY_ONE "only one piece of evidence"
#define POLICY_WHY_ONE_REPORTER "only one piece of evidence: one reporter's reports count once"
#define POLICY_WHY_FEW "not enough evidence"
#define POLICY_WHY_REPORTERS "reports from too few reporters"

/* Scores ev[0..n) (any order) at time now. steps, if not NULL, receives one entry per piece
 * in the order given (n entries). The decision is a pure function of the arguments: the
 * running service and `trapline rebuild` get the same answer. ctx may be NULL (no exclusion,
 * delisting or reputation). Returns POLICY_EINVAL for a NULL c or out (or ev with n > 0), and
 * POLICY_ENOMEM when the reports of one reporter cannot be sorted or the search for the end of
 * a listing cannot allocate its O(n) events. */
int policy_evaluate(const struct policy_config *c, const struct policy_evidence *ev, size_t n,
		    const struct policy_context *ctx, int64_t now, struct policy_result *out,
		    struct policy_step *steps);

/* Writes the computation step by step (trapline explain): each piece counted, its weight, the
 * totals, the threshold, listed or why not, the expiry (ISO 8601 UTC). ctx may be NULL. */
void policy_explain(FILE *f, const struct policy_config *c, const struct policy_evidence *ev,
		    size_t n, const struct policy_context *ctx, int64_t now);

#endif
