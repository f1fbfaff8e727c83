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

/* Why an address is listed; what it usually means is for the pages (DEVELOPERS.md). */
enum policy_reason {
	POLICY_REASON_NONE = 0,
	POLICY_REASON_TRAPS = 1,   /* spamtrap hits only: often backscatter or auto-responders */
	POLICY_REASON_REPORTS = 2, /* user reports only */
	POLICY_REASON_BOTH = 3,    /* both: a spammer or a compromised machine */
};

const char *policy_reason_name(enum policy_reason r); /* "traps", "reports", "both", "none" */

/* Every number of the criteria (defaults: SpamCop's published rules). */
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
};

void policy_config_defaults(struct policy_config *c);

/* The classes of trap hits, numbered as the store numbers them (enum store_class). */
enum policy_class {
	POLICY_CLASS_SPAM = 0,
	POLICY_CLASS_BOUNCE = 1,
	POLICY_CLASS_AUTOREPLY = 2,
	POLICY_CLASS_VIRUS = 3,
	POLICY_CLASS_UNKNOWN = 4,
	POLICY_CLASSES = 5,
};

/* One piece of evidence, as the policy sees it. */
struct policy_evidence {
	int64_t received_at;
	bool trap;   /* a spamtrap hit; otherwise a user report */
	uint8_t cls; /* a trap hit's enum policy_class: it explains, it does not score */
};

/* What else decides: exclusions, a moderator's delisting, reputation. */
struct policy_context {
	bool excluded;           /* an exclusion in force covers the address */
	int64_t delisted_at;     /* a moderator's delisting (0: none): only evidence received after
				    it counts towards a new listing */
	double reputation;       /* points added to the threshold for this address (0: none) */
};

/* One counted piece of evidence in the computation, for explain. */
struct policy_step {
	int64_t received_at;
	bool trap;
	bool counted;  /* false: outside the window or before a delisting */
	double weight; /* a report's freshness weight; 0 for traps (they count as a group) */
};

/* The score is not rounded: report weights are exact doubles of the age in whole seconds, and
 * the comparison forgives 1e-9 so that sums of binary fractions (2.5 + 2.5, 0.1 + 0.7) reach a
 * threshold they reach on paper. Explain prints three decimals. */
struct policy_result {
	bool listed;
	enum policy_reason reason; /* from the counted pieces; POLICY_REASON_NONE when not listed */
	double score, threshold;
	double report_score, trap_score;
	uint32_t traps, reports;   /* counted pieces */
	uint32_t trap_classes[POLICY_CLASSES]; /* counted trap hits by class */
	int64_t last_evidence_at;  /* newest counted piece (0: none) */
	int64_t expires_at;        /* when listed: when the listing ends if nothing new comes */
				   /* (the first second evaluation says "not listed": listing_s or
				      two_reports_s after the newest piece, or earlier when ageing
				      reports take the score under the threshold; the writer
				      re-evaluates then. When why_not is "expired": when it expired;
				      otherwise 0.) */
	const char *why_not;       /* when not listed: a short reason ("excluded", "score below
				      threshold", "only one piece of evidence", "expired", ...);
				      a static string, NULL when listed */
};

/* What a listing for reason usually means, in words for the address's owner: for trap hits
 * only, from the class most of them have ("spamtrap hits only, mostly bounces: probably
 * backscatter ..."). A static string. */
const char *policy_reason_text(enum policy_reason r, const uint32_t trap_classes[POLICY_CLASSES]);

/* Scores ev[0..n) (any order) at time now. steps, if not NULL, receives one entry per piece
 * in the order given (n entries). The decision is a pure function of the arguments: the
 * running service and `trapline rebuild` get the same answer. ctx may be NULL (no exclusion,
 * delisting or reputation). Returns POLICY_EINVAL for a NULL c or out (or ev with n > 0), and
 * POLICY_ENOMEM when the search for the end of a listing cannot allocate its O(n) events. */
int policy_evaluate(const struct policy_config *c, const struct policy_evidence *ev, size_t n,
		    const struct policy_context *ctx, int64_t now, struct policy_result *out,
		    struct policy_step *steps);

/* Writes the computation step by step (trapline explain): each piece counted, its weight, the
 * totals, the threshold, listed or why not, the expiry (ISO 8601 UTC). ctx may be NULL. */
void policy_explain(FILE *f, const struct policy_config *c, const struct policy_evidence *ev,
		    size_t n, const struct policy_context *ctx, int64_t now);

#endif
