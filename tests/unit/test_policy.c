/* test_policy.c - unit tests of src/policy: the SpamCop-style score, threshold, expiry and
 * explain, table-driven from SpamCop's published rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

#define NOW INT64_C(1795255200) /* 2026-11-21T10:00:00Z */
#define H 3600
#define D 86400
#define MAXEV 12

/* A piece by its age at NOW (negative: from the future). */
struct piece {
	int64_t age;
	bool trap;
};
#define R(a) {(a), false}
#define T(a) {(a), true}
/* R(0) is a real piece, so rows carry their count rather than end at a zero. */
#define EV(...)                                                                                  \
	.ev = {__VA_ARGS__}, .n = sizeof((struct piece[]){__VA_ARGS__}) / sizeof(struct piece)

struct row {
	const char *name;
	struct piece ev[MAXEV];
	size_t n;
	bool excluded;
	int64_t delisted_age; /* 0: no delisting */
	double reputation;
	void (*tune)(struct policy_config *c);
	bool listed;
	double score;
	enum policy_reason reason;
	int64_t expires_in; /* expires_at - NOW: when listed, or when it expired */
	const char *why_not;
};

/* Weights whose sum in doubles lands an ulp under the threshold (0.1 + 0.7 < 0.8). */
static void tune_binary_fractions(struct policy_config *c)
{
	c->report_fresh = c->report_old = 0.1;
	c->trap_weight = 0.7;
	c->threshold = 0.8;
}

static const struct row rows[] = {
	/* SpamCop's examples "before freshness": reports at 48 h or older weigh 1. */
	{"2 traps + 3 old reports = 13", EV(T(H), T(H), R(48 * H), R(50 * H), R(100 * H)),
	 .listed = true, .score = 13, .reason = POLICY_REASON_BOTH, .expires_in = 23 * H},
	{"7 traps + 3 old reports = 52",
	 EV(T(H), T(H), T(H), T(H), T(H), T(H), T(H), R(48 * H), R(49 * H), R(6 * D)),
	 .listed = true, .score = 52, .reason = POLICY_REASON_BOTH, .expires_in = 23 * H},
	{"2 traps + 3 fresh reports = 22", EV(T(0), T(0), R(0), R(0), R(0)), .listed = true,
	 .score = 22, .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"7 traps + 3 fresh reports = 61",
	 EV(T(0), T(0), T(0), T(0), T(0), T(0), T(0), R(0), R(0), R(0)),
	 .listed = true, .score = 61, .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"all 48 h old: 13 but expired", EV(T(48 * H), T(48 * H), R(48 * H), R(48 * H), R(48 * H)),
	 .score = 13, .expires_in = -24 * H, .why_not = "expired"},
	/* Freshness: a trap hit (5) plus one report of the given age. */
	{"report at 0 h weighs 4", EV(T(0), R(0)), .listed = true, .score = 9,
	 .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"report at 12 h weighs 3.25", EV(T(0), R(12 * H)), .listed = true, .score = 8.25,
	 .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"report at 24 h weighs 2.5", EV(T(0), R(24 * H)), .listed = true, .score = 7.5,
	 .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"report at 48 h weighs 1", EV(T(0), R(48 * H)), .listed = true, .score = 6,
	 .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"report at 100 h weighs 1", EV(T(0), R(100 * H)), .listed = true, .score = 6,
	 .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"future evidence counts as fresh", EV(T(-H), R(-H)), .listed = true, .score = 9,
	 .reason = POLICY_REASON_BOTH, .expires_in = 25 * H},
	/* The 7-day window: exactly 7 days old still counts, one second more does not. */
	{"report exactly 7 days old counts", EV(T(0), T(0), R(7 * D)), .listed = true, .score = 11,
	 .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"report 7 days + 1 s old ignored", EV(T(0), T(0), R(7 * D + 1)), .listed = true,
	 .score = 10, .reason = POLICY_REASON_TRAPS, .expires_in = 24 * H},
	{"window: only old evidence", EV(T(8 * D), R(8 * D)), .score = 0,
	 .why_not = "no evidence in the window"},
	/* One piece never lists, whatever it weighs. */
	{"one report", EV(R(0)), .score = 4, .why_not = "only one piece of evidence"},
	{"one trap hit", EV(T(0)), .score = 5, .why_not = "only one piece of evidence"},
	{"two reports: 12 h", EV(R(0), R(0)), .listed = true, .score = 8,
	 .reason = POLICY_REASON_REPORTS, .expires_in = 12 * H},
	{"two reports + 1 trap: 24 h", EV(R(0), R(0), T(0)), .listed = true, .score = 13,
	 .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"three reports, the oldest leaves the window: 12 h", EV(R(7 * D), R(H), R(H)),
	 .listed = true, .score = 1 + 2 * 3.9375, .reason = POLICY_REASON_REPORTS,
	 .expires_in = 11 * H},
	/* The threshold exactly: 4 + 1 = 5 lists; the score then falls with the fresh report's
	 * age, so the listing ends at the next second. */
	{"score exactly 5", EV(R(0), R(48 * H)), .listed = true, .score = 5,
	 .reason = POLICY_REASON_REPORTS, .expires_in = 1},
	{"score 5 - 1/57600", EV(R(1), R(48 * H)), .score = 5 - 1.0 / 57600,
	 .why_not = "score below the threshold"},
	{"score sinks to 5 after 16 h", EV(R(0), R(47 * H), R(47 * H)), .listed = true,
	 .score = 6.125, .reason = POLICY_REASON_REPORTS, .expires_in = 16 * H + 1},
	{"0.1 + 0.7 reaches 0.8", EV(R(0), T(0)), .tune = tune_binary_fractions, .listed = true,
	 .score = 0.8, .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	/* Reputation raises the threshold (exactly reached: the ageing reports end it at +1 s). */
	{"reputation 17: 22 reaches 22", EV(T(0), T(0), R(0), R(0), R(0)), .reputation = 17,
	 .listed = true, .score = 22, .reason = POLICY_REASON_BOTH, .expires_in = 1},
	{"reputation 10: 22 over 15", EV(T(0), T(0), R(0), R(0), R(0)), .reputation = 10,
	 .listed = true, .score = 22, .reason = POLICY_REASON_BOTH, .expires_in = 24 * H},
	{"reputation 17.5: 22 misses 22.5", EV(T(0), T(0), R(0), R(0), R(0)), .reputation = 17.5,
	 .score = 22, .why_not = "score below the threshold"},
	{"excluded", EV(T(0), T(0), T(0), T(0), T(0), T(0), T(0)), .excluded = true, .score = 49,
	 .why_not = "excluded"},
	/* A delisting holds until evidence received after it. */
	{"delisted, only older evidence", EV(T(2 * H), T(3 * H), R(2 * H)), .delisted_age = H,
	 .score = 0, .why_not = "delisted, no evidence since"},
	{"delisted, new reports since", EV(T(5 * H), T(5 * H), T(5 * H), R(H), R(H)),
	 .delisted_age = 3 * H, .listed = true, .score = 7.875, .reason = POLICY_REASON_REPORTS,
	 .expires_in = 11 * H},
	/* Expiry: expires_at is the first second no longer listed. */
	{"2 traps 24 h old: expired", EV(T(24 * H), T(24 * H)), .score = 10, .expires_in = 0,
	 .why_not = "expired"},
	{"2 traps 24 h - 1 s old: listed", EV(T(24 * H - 1), T(24 * H - 1)), .listed = true,
	 .score = 10, .reason = POLICY_REASON_TRAPS, .expires_in = 1},
	{"2 reports 12 h old: expired", EV(R(12 * H), R(12 * H)), .score = 6.5, .expires_in = 0,
	 .why_not = "expired"},
	{"2 reports 12 h - 1 s old: listed", EV(R(12 * H - 1), R(12 * H - 1)), .listed = true,
	 .score = 8 - 2 * 43199.0 / 57600, .reason = POLICY_REASON_REPORTS, .expires_in = 1},
	/* Trap hits: 5 x hits below 6, hits squared from 6. */
	{"5 trap hits = 25", EV(T(0), T(0), T(0), T(0), T(0)), .listed = true, .score = 25,
	 .reason = POLICY_REASON_TRAPS, .expires_in = 24 * H},
	{"6 trap hits = 36", EV(T(0), T(0), T(0), T(0), T(0), T(0)), .listed = true, .score = 36,
	 .reason = POLICY_REASON_TRAPS, .expires_in = 24 * H},
};

static size_t row_pieces(const struct row *r, struct policy_evidence *ev)
{
	for (size_t i = 0; i < r->n; i++)
		ev[i] = (struct policy_evidence){.received_at = NOW - r->ev[i].age, .trap = r->ev[i].trap};
	return r->n;
}

static void row_setup(const struct row *r, struct policy_config *c, struct policy_context *ctx)
{
	policy_config_defaults(c);
	if (r->tune)
		r->tune(c);
	*ctx = (struct policy_context){.excluded = r->excluded,
				       .delisted_at = r->delisted_age ? NOW - r->delisted_age : 0,
				       .reputation = r->reputation};
}

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		struct policy_config c;
		struct policy_context ctx;
		struct policy_evidence ev[MAXEV];
		struct policy_result res;
		row_setup(row, &c, &ctx);
		size_t n = row_pieces(row, ev);
		assert_int_equal(policy_evaluate(&c, ev, n, &ctx, NOW, &res, NULL), POLICY_OK);
		if (res.listed != row->listed)
			fail_msg("%s: listed %d (%s)", row->name, res.listed,
				 res.why_not ? res.why_not : "");
		assert_float_equal(res.score, row->score, 1e-9);
		if (row->listed) {
			assert_int_equal(res.reason, row->reason);
			assert_null(res.why_not);
			if (res.expires_at - NOW != row->expires_in)
				fail_msg("%s: expires in %lld", row->name,
					 (long long)(res.expires_at - NOW));
			/* The writer's timer: at expires_at the same evidence says "not listed",
			 * one second before it still says listed. */
			struct policy_result at;
			int64_t end = res.expires_at;
			assert_int_equal(policy_evaluate(&c, ev, n, &ctx, end, &at, NULL), 0);
			assert_false(at.listed);
			assert_int_equal(policy_evaluate(&c, ev, n, &ctx, end - 1, &at, NULL), 0);
			assert_true(at.listed);
		} else {
			assert_int_equal(res.reason, POLICY_REASON_NONE);
			assert_non_null(res.why_not);
			assert_string_equal(res.why_not, row->why_not);
			if (strcmp(row->why_not, "expired") == 0)
				assert_int_equal(res.expires_at - NOW, row->expires_in);
		}
	}
}

/* Rows with a trap at 0 h and one report: the report's own step carries its weight. */
static void test_steps(void **state)
{
	static const struct {
		int64_t age;
		double weight;
	} fresh[] = {{0, 4}, {12 * H, 3.25}, {24 * H, 2.5}, {48 * H, 1}, {100 * H, 1}, {-H, 4}};
	struct policy_config c;
	policy_config_defaults(&c);
	struct policy_context ctx = {0};
	for (size_t i = 0; i < sizeof(fresh) / sizeof(fresh[0]); i++) {
		struct policy_evidence ev[3] = {{.received_at = NOW, .trap = true}, {.received_at = NOW - fresh[i].age, .trap = false},
						{.received_at = NOW - 8 * D, .trap = false}};
		struct policy_step steps[3];
		struct policy_result res;
		assert_int_equal(policy_evaluate(&c, ev, 3, &ctx, NOW, &res, steps), 0);
		assert_true(steps[0].counted && steps[0].trap);
		assert_float_equal(steps[0].weight, 0, 0);
		assert_true(steps[1].counted && !steps[1].trap);
		assert_float_equal(steps[1].weight, fresh[i].weight, 1e-12);
		assert_false(steps[2].counted);
		assert_int_equal(res.traps, 1);
		assert_int_equal(res.reports, 1);
		assert_int_equal(res.last_evidence_at, fresh[i].age < 0 ? NOW - fresh[i].age : NOW);
	}
}

/* expires_at against a second-by-second scan on random evidence: the walk over the score's
 * linear pieces must find exactly the first second the decision says "not listed". */
static void test_expiry_brute_force(void **state)
{
	struct policy_config c;
	policy_config_defaults(&c);
	srand(4);
	int listed_cases = 0;
	for (int round = 0; round < 300 && listed_cases < 40; round++) {
		struct policy_evidence ev[6];
		size_t n = 2 + (size_t)(rand() % 5);
		for (size_t i = 0; i < n; i++) {
			/* Ages from 1 h in the future to 8 days, some on the decay edges. */
			int64_t age = (int64_t)(rand() % (8 * D + H)) - H;
			if (rand() % 4 == 0)
				age = (int64_t)(rand() % 3) * 24 * H + (rand() % 3) - 1;
			/* Reports of two reporters (their reports count once each) and the
			 * operator's (each counts). */
			ev[i] = (struct policy_evidence){.received_at = NOW - age, .seq = (int64_t)i,
							 .trap = rand() % 5 == 0,
							 .reporter = (uint64_t)(rand() % 3)};
		}
		struct policy_context ctx = {0};
		struct policy_result res;
		assert_int_equal(policy_evaluate(&c, ev, n, &ctx, NOW, &res, NULL), 0);
		if (!res.listed)
			continue;
		listed_cases++;
		int64_t t = NOW + 1;
		struct policy_result at;
		for (;; t++) {
			assert_int_equal(policy_evaluate(&c, ev, n, &ctx, t, &at, NULL), 0);
			if (!at.listed)
				break;
		}
		assert_int_equal(res.expires_at, t);
	}
	assert_true(listed_cases >= 10);
}

static void test_config_and_names(void **state)
{
	struct policy_config c;
	policy_config_defaults(&c);
	assert_float_equal(c.report_fresh, 4, 0);
	assert_float_equal(c.report_old, 1, 0);
	assert_int_equal(c.report_decay_s, 48 * H);
	assert_int_equal(c.window_s, 7 * D);
	assert_int_equal(c.trap_square_from, 6);
	assert_float_equal(c.trap_weight, 5, 0);
	assert_float_equal(c.threshold, 5, 0);
	assert_int_equal(c.min_evidence, 2);
	assert_int_equal(c.listing_s, 24 * H);
	assert_int_equal(c.two_reports_s, 12 * H);
	assert_int_equal(c.min_reporters, 2);
	assert_string_equal(policy_reason_name(POLICY_REASON_TRAPS), "traps");
	assert_string_equal(policy_reason_name(POLICY_REASON_REPORTS), "reports");
	assert_string_equal(policy_reason_name(POLICY_REASON_BOTH), "both");
	assert_string_equal(policy_reason_name(POLICY_REASON_NONE), "none");
	struct policy_result res;
	assert_int_equal(policy_evaluate(NULL, NULL, 0, NULL, NOW, &res, NULL), POLICY_EINVAL);
	assert_int_equal(policy_evaluate(&c, NULL, 1, NULL, NOW, &res, NULL), POLICY_EINVAL);
	assert_int_equal(policy_evaluate(&c, NULL, 0, NULL, NOW, &res, NULL), 0);
	assert_false(res.listed);
	assert_string_equal(res.why_not, "no evidence");
}

static char *explain_to_string(const struct policy_evidence *ev, size_t n,
			       const struct policy_context *ctx)
{
	struct policy_config c;
	policy_config_defaults(&c);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	policy_explain(f, &c, ev, n, ctx, NOW);
	fclose(f);
	return buf;
}

static void assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("missing \"%s\" in:\n%s", part, text);
}

static void test_explain(void **state)
{
	/* SpamCop's first example, a piece outside the window, one before a delisting. */
	struct policy_evidence ev[] = {
		{.received_at = NOW - H, .trap = true},       {.received_at = NOW - H, .trap = true},       {.received_at = NOW - 48 * H, .trap = false},
		{.received_at = NOW - 50 * H, .trap = false}, {.received_at = NOW - 100 * H, .trap = false}, {.received_at = NOW - 8 * D, .trap = false},
	};
	struct policy_context ctx = {.delisted_at = NOW - 6 * D};
	struct policy_evidence all[7];
	memcpy(all, ev, sizeof(ev));
	all[6] = (struct policy_evidence){.received_at = NOW - 6 * D - H, .trap = true};
	char *out = explain_to_string(all, 7, &ctx);
	assert_contains(out, "Evaluated at: 2026-11-21T10:00:00Z");
	assert_contains(out, "2026-11-21T09:00:00Z  spamtrap hit");
	assert_contains(out, "2026-11-19T10:00:00Z  user report    age 2 d 00:00:00");
	assert_contains(out, "weight 1.000");
	assert_contains(out, "not counted: older than 7 days");
	assert_contains(out, "not counted: before the delisting");
	assert_contains(out, "Report score: 3.000 from 3 reports");
	assert_contains(out, "Trap score: 10.000 from 2 spamtrap hits (fewer than 6 hits: 5 x 2)");
	assert_contains(out, "Total score: 13.000");
	assert_contains(out, "Threshold: 5.000");
	assert_contains(out, "Decision: LISTED");
	assert_contains(out, "Reason: spamtrap hits and user reports");
	assert_contains(out, "Expires: 2026-11-22T09:00:00Z (24 hours after the newest evidence)");
	assert_null(strchr(out, '@'));
	free(out);

	/* Squares, reputation, and a refusal that says by how much. */
	struct policy_evidence seven[7];
	for (int i = 0; i < 7; i++)
		seven[i] = (struct policy_evidence){.received_at = NOW, .trap = true};
	struct policy_context rep = {.reputation = 50};
	out = explain_to_string(seven, 7, &rep);
	assert_contains(out, "Trap score: 49.000 from 7 spamtrap hits (6 hits or more: hits "
			     "squared, 7 x 7)");
	assert_contains(out, "Threshold: 55.000 (5, plus 50 reputation points for this address)");
	assert_contains(out, "Decision: NOT LISTED: score below the threshold (49.000 < 55.000, short "
			     "by 6)");
	free(out);

	/* Two reports: the 12-hour rule is named. */
	struct policy_evidence two[] = {{.received_at = NOW - H, .trap = false}, {.received_at = NOW, .trap = false}};
	out = explain_to_string(two, 2, NULL);
	assert_contains(out, "weight 3.937"); /* 3.9375, cut to three decimals */
	assert_contains(out, "Reason: user reports only");
	assert_contains(out, "Expires: 2026-11-21T22:00:00Z (12 hours after the newest evidence: "
			     "listed on two reports only)");
	free(out);

	/* Expired and one-piece refusals. */
	struct policy_evidence old[] = {{.received_at = NOW - 30 * H, .trap = true}, {.received_at = NOW - 30 * H, .trap = true}};
	out = explain_to_string(old, 2, NULL);
	assert_contains(out, "Decision: NOT LISTED: expired");
	assert_contains(out, "Expired: 2026-11-21T04:00:00Z (24 hours after the newest evidence)");
	free(out);
	out = explain_to_string(old, 1, NULL);
	assert_contains(out, "NOT LISTED: only one piece of evidence (1 counted, at least 2 "
			     "needed)");
	free(out);
	struct policy_context excl = {.excluded = true};
	out = explain_to_string(two, 2, &excl);
	assert_contains(out, "covered by an exclusion");
	assert_contains(out, "NOT LISTED: excluded");
	free(out);
}

/* One reporter's reports about an address count once, its newest in the window; a listing on
 * reports alone needs policy_min_reporters reporters; an operator's reports (reporter 0) each
 * count. */
static void test_reporters(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	struct policy_result r;
	struct policy_step steps[4];
	/* Two made-up reports from one reporter list nothing. */
	struct policy_evidence one[] = {{.received_at = NOW, .seq = 1, .reporter = 7},
					{.received_at = NOW, .seq = 2, .reporter = 7}};
	assert_int_equal(policy_evaluate(&c, one, 2, NULL, NOW, &r, steps), POLICY_OK);
	assert_false(r.listed);
	assert_string_equal(r.why_not, POLICY_WHY_ONE_REPORTER);
	assert_int_equal(r.reports, 1);
	assert_int_equal(r.superseded, 1);
	assert_true(steps[0].superseded && !steps[0].counted);
	assert_true(!steps[1].superseded && steps[1].counted);
	/* Two reporters do (the 12-hour rule of two reports). */
	one[1].reporter = 8;
	assert_int_equal(policy_evaluate(&c, one, 2, NULL, NOW, &r, NULL), POLICY_OK);
	assert_true(r.listed);
	assert_int_equal(r.reason, POLICY_REASON_REPORTS);
	assert_int_equal(r.expires_at, NOW + 12 * H);
	/* The newest report of a reporter is the one that counts, whatever the order given:
	 * 4 (fresh, reporter 7) + 4 (reporter 8); the older ones of 7 weigh nothing. */
	struct policy_evidence many[] = {{.received_at = NOW - 47 * H, .seq = 1, .reporter = 7},
					 {.received_at = NOW, .seq = 4, .reporter = 7},
					 {.received_at = NOW - H, .seq = 3, .reporter = 7},
					 {.received_at = NOW, .seq = 2, .reporter = 8}};
	assert_int_equal(policy_evaluate(&c, many, 4, NULL, NOW, &r, steps), POLICY_OK);
	assert_true(r.listed);
	assert_float_equal(r.score, 8, 1e-9);
	assert_int_equal(r.reports, 2);
	assert_int_equal(r.superseded, 2);
	assert_true(steps[0].superseded && steps[2].superseded);
	assert_true(steps[1].counted && steps[3].counted);
	/* The same second: the later commit counts. */
	struct policy_evidence tie[] = {{.received_at = NOW, .seq = 9, .reporter = 7},
					{.received_at = NOW, .seq = 5, .reporter = 7}};
	assert_int_equal(policy_evaluate(&c, tie, 2, NULL, NOW, &r, steps), POLICY_OK);
	assert_true(steps[1].superseded && steps[0].counted);
	/* policy_min_reporters 3: two reporters are too few on reports alone, not with a trap
	 * hit; the operator's reports count one each. */
	c.min_reporters = 3;
	assert_int_equal(policy_evaluate(&c, one, 2, NULL, NOW, &r, NULL), POLICY_OK);
	assert_false(r.listed);
	assert_string_equal(r.why_not, POLICY_WHY_REPORTERS);
	struct policy_evidence three[] = {{.received_at = NOW, .seq = 1, .reporter = 7},
					  {.received_at = NOW, .seq = 2, .reporter = 8},
					  {.received_at = NOW, .seq = 3, .reporter = 0}};
	assert_int_equal(policy_evaluate(&c, three, 3, NULL, NOW, &r, NULL), POLICY_OK);
	assert_true(r.listed);
	three[2] = (struct policy_evidence){.received_at = NOW, .seq = 3, .trap = true};
	assert_int_equal(policy_evaluate(&c, three, 3, NULL, NOW, &r, NULL), POLICY_OK);
	assert_true(r.listed);
	assert_int_equal(r.reason, POLICY_REASON_BOTH);
	/* A listing on three reporters ends when the third's report leaves the window, even if
	 * the score would still reach the threshold. */
	struct policy_evidence ending[] = {{.received_at = NOW, .seq = 1, .reporter = 7},
					   {.received_at = NOW, .seq = 2, .reporter = 8},
					   {.received_at = NOW - 7 * D + H, .seq = 3, .reporter = 9},
					   {.received_at = NOW, .seq = 4, .reporter = 9}};
	c.threshold = 1;
	assert_int_equal(policy_evaluate(&c, ending, 3, NULL, NOW, &r, NULL), POLICY_OK);
	assert_true(r.listed);
	assert_int_equal(r.expires_at, NOW + H + 1);
	/* ... and the reporter's newer report keeps it listed. */
	assert_int_equal(policy_evaluate(&c, ending, 4, NULL, NOW, &r, NULL), POLICY_OK);
	assert_int_equal(r.expires_at, NOW + 24 * H);
	/* Explain says why a report did not count, and the rule. */
	policy_config_defaults(&c);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	one[1].reporter = 7;
	policy_explain(f, &c, one, 2, NULL, NOW);
	fclose(f);
	if (!strstr(buf, "not counted: the same reporter's newer report counts") ||
	    !strstr(buf, "NOT LISTED: only one piece of evidence: one reporter's reports count "
			 "once (1 counted, at least 2 needed)"))
		fail_msg("%s", buf);
	free(buf);
	c.min_reporters = 3;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	one[1].reporter = 8;
	policy_explain(f, &c, one, 2, NULL, NOW);
	fclose(f);
	if (!strstr(buf, "NOT LISTED: reports from too few reporters (2 reporters, at least 3 "
			 "needed for a listing on reports alone)"))
		fail_msg("%s", buf);
	free(buf);
}

/* Evidence received in the second of a delisting counts when it was committed after it (its
 * seq above the delisting's mark), not when it was committed before. */
static void test_delisting_same_second(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	struct policy_context ctx = {.delisted_at = NOW, .delist_mark = 10};
	struct policy_evidence before[] = {{.received_at = NOW, .seq = 9, .trap = true},
					   {.received_at = NOW, .seq = 10, .trap = true}};
	struct policy_evidence after[] = {{.received_at = NOW, .seq = 11, .trap = true},
					  {.received_at = NOW, .seq = 12, .trap = true}};
	struct policy_result r;
	assert_int_equal(policy_evaluate(&c, before, 2, &ctx, NOW, &r, NULL), POLICY_OK);
	assert_false(r.listed);
	assert_string_equal(r.why_not, "delisted, no evidence since");
	assert_int_equal(policy_evaluate(&c, after, 2, &ctx, NOW, &r, NULL), POLICY_OK);
	assert_true(r.listed);
	assert_int_equal(r.traps, 2);
	/* A second earlier never counts, a second later always does, whatever the order. */
	after[0].received_at = after[1].received_at = NOW - 1;
	assert_int_equal(policy_evaluate(&c, after, 2, &ctx, NOW, &r, NULL), POLICY_OK);
	assert_false(r.listed);
	before[0].received_at = before[1].received_at = NOW + 1;
	assert_int_equal(policy_evaluate(&c, before, 2, &ctx, NOW + 1, &r, NULL), POLICY_OK);
	assert_true(r.listed);
}

/* Evidence whose score never reached the threshold is "below the threshold" however old, not
 * "expired"; "expired" is for evidence that still scores enough but is too old. */
static void test_why_not_below_or_expired(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	struct policy_evidence low[] = {{.received_at = NOW - 49 * H}, {.received_at = NOW - 50 * H}};
	struct policy_evidence old[] = {{.received_at = NOW - 30 * H, .trap = true},
					{.received_at = NOW - 30 * H, .trap = true}};
	struct policy_result r;
	assert_int_equal(policy_evaluate(&c, low, 2, NULL, NOW, &r, NULL), POLICY_OK);
	assert_string_equal(r.why_not, "score below the threshold");
	assert_int_equal(r.expires_at, 0);
	assert_int_equal(policy_evaluate(&c, old, 2, NULL, NOW, &r, NULL), POLICY_OK);
	assert_string_equal(r.why_not, "expired");
	assert_int_equal(r.expires_at, NOW - 6 * H);
}

/* The counted trap hits by class, the class that describes them, and what that means. */
static void test_meaning(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	struct policy_evidence ev[] = {
		{.received_at = NOW, .trap = true, .cls = EVIDENCE_BOUNCE},
		{.received_at = NOW, .trap = true, .cls = EVIDENCE_BOUNCE},
		{.received_at = NOW, .trap = true, .cls = EVIDENCE_AUTOREPLY},
		{.received_at = NOW - 8 * D, .trap = true, .cls = EVIDENCE_VIRUS}, /* not counted */
	};
	struct policy_result r;
	assert_int_equal(policy_evaluate(&c, ev, 4, NULL, NOW, &r, NULL), POLICY_OK);
	assert_true(r.listed);
	assert_int_equal(r.trap_classes[EVIDENCE_BOUNCE], 2);
	assert_int_equal(r.trap_classes[EVIDENCE_AUTOREPLY], 1);
	assert_int_equal(r.trap_classes[EVIDENCE_VIRUS], 0);
	assert_int_equal(r.detail, EVIDENCE_BOUNCE);
	const struct policy_meaning *m = policy_meaning(r.reason, r.detail);
	assert_string_equal(m->what, "spamtrap hits only, mostly bounces");
	char *out = explain_to_string(ev, 4, NULL);
	assert_contains(out, "Reason: spamtrap hits only, mostly bounces");
	assert_contains(out, "counted, bounce (trap hits are scored together below)");
	free(out);
	assert_non_null(strstr(m->usually, "backscatter"));
	assert_string_equal(m->txt, "spamtrap hits, mostly bounces: probably backscatter");
	/* A tie goes to the class that says most about the sender. */
	ev[1].cls = EVIDENCE_VIRUS;
	ev[2].cls = EVIDENCE_VIRUS;
	ev[0].cls = EVIDENCE_SPAM;
	assert_int_equal(policy_evaluate(&c, ev, 3, NULL, NOW, &r, NULL), POLICY_OK);
	assert_int_equal(r.detail, EVIDENCE_VIRUS);
	ev[2].cls = EVIDENCE_SPAM;
	assert_int_equal(policy_evaluate(&c, ev, 3, NULL, NOW, &r, NULL), POLICY_OK);
	assert_int_equal(r.detail, EVIDENCE_SPAM);
	ev[1].cls = EVIDENCE_BOUNCE;
	ev[0].cls = EVIDENCE_AUTOREPLY;
	ev[2].cls = EVIDENCE_VIRUS;
	assert_int_equal(policy_evaluate(&c, ev, 3, NULL, NOW, &r, NULL), POLICY_OK);
	assert_int_equal(r.detail, EVIDENCE_VIRUS);
	assert_non_null(strstr(policy_meaning(POLICY_REASON_REPORTS, EVIDENCE_BOUNCE)->usually,
			       "spammer"));
	assert_non_null(strstr(policy_meaning(POLICY_REASON_BOTH, EVIDENCE_SPAM)->usually,
			       "compromised machine"));
	for (int cls = 0; cls < EVIDENCE_CLASSES; cls++)
		assert_non_null(policy_meaning(POLICY_REASON_TRAPS, (enum evidence_class)cls)->txt);
}

/* One table says what each reason and class means and what to check: every combination has
 * its words, and the advice fits the mail the traps got (spam is not backscatter). */
static void test_meaning_table(void **state)
{
	(void)state;
	static const enum policy_reason reasons[] = {POLICY_REASON_TRAPS, POLICY_REASON_REPORTS,
						     POLICY_REASON_BOTH};
	for (size_t r = 0; r < 3; r++) {
		for (int c = 0; c < EVIDENCE_CLASSES; c++) {
			const struct policy_meaning *m =
				policy_meaning(reasons[r], (enum evidence_class)c);
			assert_non_null(m->what);
			assert_non_null(m->txt);
			/* "WHAT: USUALLY" is one line: no colon inside, and it says "usually". */
			assert_int_equal(strncmp(m->usually, "usually ", 8), 0);
			assert_null(strchr(m->usually, ':'));
			assert_true(policy_advice_count(m) >= 1);
			bool bounce_advice = false;
			for (size_t i = 0; m->advice[i]; i++)
				bounce_advice |= strstr(m->advice[i], "bouncing") != NULL;
			bool bounces = reasons[r] != POLICY_REASON_REPORTS && c == EVIDENCE_BOUNCE;
			if (bounce_advice != bounces)
				fail_msg("%s/%s: advice about bounces %s", policy_reason_name(reasons[r]),
					 evidence_class_name((enum evidence_class)c),
					 bounces ? "missing" : "given for mail that was no bounce");
		}
	}
	assert_string_equal(policy_meaning(POLICY_REASON_TRAPS, EVIDENCE_SPAM)->what,
			    "spamtrap hits only, mostly spam");
	assert_null(strstr(policy_meaning(POLICY_REASON_TRAPS, EVIDENCE_SPAM)->usually,
			   "backscatter"));
	assert_non_null(strstr(policy_meaning(POLICY_REASON_BOTH, EVIDENCE_BOUNCE)->usually,
			       "backscatter"));
	/* No advice points at a list that does not follow it. */
	const struct policy_meaning *rep = policy_meaning(POLICY_REASON_REPORTS, EVIDENCE_SPAM);
	for (size_t i = 0; rep->advice[i]; i++)
		assert_null(strstr(rep->advice[i], "see the next"));
	assert_string_equal(policy_class_words(EVIDENCE_BOUNCE)->many, "bounces");
	assert_non_null(strstr(policy_class_words(EVIDENCE_BOUNCE)->description, "backscatter"));
	/* explain says the advice too. */
	struct policy_evidence ev[] = {{.received_at = NOW, .trap = true, .cls = EVIDENCE_SPAM},
				       {.received_at = NOW, .trap = true, .cls = EVIDENCE_SPAM}};
	char *out = explain_to_string(ev, 2, NULL);
	assert_contains(out, "What to check:\n  - If this server sends bulk mail");
	assert_null(strstr(out, "bounc"));
	free(out);
}

/* Every reader shows a score with three decimals, cut: never reaching a threshold it does not
 * reach, and never 17 digits. */
static void test_score_shown(void **state)
{
	(void)state;
	char buf[POLICY_SCORE_STRLEN];
	assert_true(policy_score_shown(7.9996006944444442) == 7.999);
	assert_string_equal(policy_score_format(7.9996006944444442, buf), "7.999");
	assert_string_equal(policy_score_format(4.9996, buf), "4.999");
	assert_string_equal(policy_score_format(10, buf), "10.0");
	assert_string_equal(policy_score_format(7.99, buf), "7.99");
	assert_string_equal(policy_score_format(0, buf), "0.0");
	/* A sum that reaches 5 on paper (2.5 + 2.4999999999) shows as 5. */
	assert_string_equal(policy_score_format(4.9999999999, buf), "5.0");
	assert_true(policy_score_shown(3.9375) == 3.937);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_and_names), cmocka_unit_test(test_table),
		cmocka_unit_test(test_steps),            cmocka_unit_test(test_expiry_brute_force),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_delisting_same_second),
		cmocka_unit_test(test_reporters),
		cmocka_unit_test(test_why_not_below_or_expired),
		cmocka_unit_test(test_meaning),
		cmocka_unit_test(test_meaning_table),
		cmocka_unit_test(test_score_shown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
