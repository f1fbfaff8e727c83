/* policy_explain.c - `trapline explain IP`: the policy's computation in words a listed
 * address's administrator can check by hand. Never names a trap address: it has none. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "policy.h"

/* "2 days", "48 hours", "90 minutes", "1 second": the largest unit that divides evenly. */
static void explain_format_span(int64_t s, char *buf, size_t size)
{
	static const struct {
		int64_t unit;
		const char *name;
	} units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		/* Days only from three on: the rules speak of 48 hours, not 2 days. */
		if ((s % units[i].unit != 0 && units[i].unit != 1) ||
		    (units[i].unit == 86400 && s < 3 * 86400))
			continue;
		int64_t v = s / units[i].unit;
		snprintf(buf, size, "%" PRId64 " %s%s", v, units[i].name, v == 1 ? "" : "s");
		return;
	}
}

/* An age as "2 d 03:04:05" or "03:04:05" (hours:minutes:seconds). */
static void explain_format_age(int64_t age, char *buf, size_t size)
{
	int64_t d = age / 86400, rest = age % 86400;
	if (d)
		snprintf(buf, size, "%" PRId64 " d %02" PRId64 ":%02" PRId64 ":%02" PRId64, d,
			 rest / 3600, rest / 60 % 60, rest % 60);
	else
		snprintf(buf, size, "%02" PRId64 ":%02" PRId64 ":%02" PRId64, rest / 3600,
			 rest / 60 % 60, rest % 60);
}

static void explain_pieces(FILE *f, const struct policy_config *c,
			   const struct policy_context *ctx, int64_t now,
			   const struct policy_evidence *ev, const struct policy_step *steps, size_t n)
{
	char when[128], age[48], window[48];
	explain_format_span(c->window_s, window, sizeof(window));
	fprintf(f, "Evidence (%zu piece%s; age in days and hh:mm:ss):\n", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const struct policy_step *s = &steps[i];
		time_format_iso8601(s->received_at, when);
		if (s->received_at > now)
			snprintf(age, sizeof(age), "in the future (clock skew)");
		else
			explain_format_age(now - s->received_at, age, sizeof(age));
		const char *kind = s->trap ? "spamtrap hit" : "user report";
		fprintf(f, "  %s  %-13s  age %-14s  ", when, kind, age);
		if (s->superseded)
			fprintf(f, "not counted: the same reporter's newer report counts\n");
		else if (!s->counted && now - s->received_at > (int64_t)c->window_s)
			fprintf(f, "not counted: older than %s\n", window);
		else if (!s->counted)
			fprintf(f, "not counted: before the delisting\n");
		else if (s->trap)
			fprintf(f, "counted, %s (trap hits are scored together below)\n",
				evidence_class_name((enum evidence_class)ev[i].cls));
		else
			fprintf(f, "weight %.3f\n", policy_score_shown(s->weight));
	}
}

static void explain_scores(FILE *f, const struct policy_config *c,
			   const struct policy_context *ctx, const struct policy_result *r)
{
	char decay[48];
	explain_format_span(c->report_decay_s, decay, sizeof(decay));
	fprintf(f, "Report score: %.3f from %" PRIu32 " report%s (a report weighs %g when just "
		   "received, falling linearly to %g at %s old; one reporter's reports about an "
		   "address count once)\n",
		policy_score_shown(r->report_score), r->reports, r->reports == 1 ? "" : "s",
		c->report_fresh,
		c->report_old, decay);
	if (r->traps < c->trap_square_from)
		fprintf(f, "Trap score: %.3f from %" PRIu32 " spamtrap hit%s (fewer than %" PRIu32
			   " hits: %g x %" PRIu32 ")\n",
			policy_score_shown(r->trap_score), r->traps, r->traps == 1 ? "" : "s",
			c->trap_square_from,
			c->trap_weight, r->traps);
	else
		fprintf(f, "Trap score: %.3f from %" PRIu32 " spamtrap hits (%" PRIu32
			   " hits or more: hits squared, %" PRIu32 " x %" PRIu32 ")\n",
			policy_score_shown(r->trap_score), r->traps, c->trap_square_from, r->traps,
			r->traps);
	fprintf(f, "Total score: %.3f\n", policy_score_shown(r->score));
	if (ctx->reputation != 0)
		fprintf(f, "Threshold: %.3f (%g, plus %g reputation points for this address)\n",
			policy_score_shown(r->threshold), c->threshold, ctx->reputation);
	else
		fprintf(f, "Threshold: %.3f\n", policy_score_shown(r->threshold));
}

/* Which rule set expires_at, so the reader knows what would extend or end the listing. */
static const char *explain_expiry_rule(const struct policy_config *c,
				       const struct policy_result *r, char *buf, size_t size)
{
	char span[48];
	int64_t after = r->expires_at - r->last_evidence_at;
	if (after == (int64_t)c->two_reports_s && r->traps == 0 && r->reports == 2) {
		explain_format_span(c->two_reports_s, span, sizeof(span));
		snprintf(buf, size, "%s after the newest evidence: listed on two reports only",
			 span);
	} else if (after == (int64_t)c->listing_s) {
		explain_format_span(c->listing_s, span, sizeof(span));
		snprintf(buf, size, "%s after the newest evidence", span);
	} else {
		snprintf(buf, size, "when the score falls under the threshold as the evidence "
				    "ages");
	}
	return buf;
}

static void explain_decision(FILE *f, const struct policy_config *c,
			     const struct policy_result *r)
{
	char when[128], rule[128];
	if (r->listed) {
		fprintf(f, "Decision: LISTED (score %.3f reaches the threshold %.3f with %" PRIu32
			   " pieces of evidence)\n",
			policy_score_shown(r->score), policy_score_shown(r->threshold),
			r->traps + r->reports);
		const struct policy_meaning *m = policy_meaning(r->reason, r->detail);
		fprintf(f, "Reason: %s\nWhat it means: %s\nWhat to check:\n", m->what,
			m->usually);
		for (size_t i = 0; m->advice[i]; i++)
			fprintf(f, "  - %s\n", m->advice[i]);
		time_format_iso8601(r->expires_at, when);
		fprintf(f, "Expires: %s (%s), unless new evidence arrives\n", when,
			explain_expiry_rule(c, r, rule, sizeof(rule)));
		return;
	}
	fprintf(f, "Decision: NOT LISTED: %s", r->why_not);
	if (strcmp(r->why_not, POLICY_WHY_BELOW) == 0)
		/* Three decimals could print 5.000 for 4.9998: say by how much it falls short. */
		fprintf(f, " (%.3f < %.3f, short by %.3g)", policy_score_shown(r->score),
			policy_score_shown(r->threshold), r->threshold - r->score);
	else if (strcmp(r->why_not, POLICY_WHY_ONE) == 0 ||
		 strcmp(r->why_not, POLICY_WHY_ONE_REPORTER) == 0 ||
		 strcmp(r->why_not, POLICY_WHY_FEW) == 0)
		fprintf(f, " (%" PRIu32 " counted, at least %" PRIu32 " needed)",
			r->traps + r->reports, c->min_evidence);
	else if (strcmp(r->why_not, POLICY_WHY_REPORTERS) == 0)
		fprintf(f, " (%" PRIu32 " reporter%s, at least %" PRIu32 " needed for a listing on "
			   "reports alone)",
			r->reports, r->reports == 1 ? "" : "s", c->min_reporters);
	fprintf(f, "\n");
	if (strcmp(r->why_not, POLICY_WHY_EXPIRED) == 0) {
		time_format_iso8601(r->expires_at, when);
		fprintf(f, "Expired: %s (%s)\n", when,
			explain_expiry_rule(c, r, rule, sizeof(rule)));
	}
}

void policy_explain(FILE *f, const struct policy_config *c, const struct policy_evidence *ev,
		    size_t n, const struct policy_context *ctx, int64_t now)
{
	static const struct policy_context none = {0};
	struct policy_result r;
	struct policy_step *steps = NULL;
	char when[128];
	if (!ctx)
		ctx = &none;
	if (n && !(steps = calloc(n, sizeof(*steps)))) {
		fprintf(f, "explain: out of memory\n");
		return;
	}
	if (policy_evaluate(c, ev, n, ctx, now, &r, steps) != POLICY_OK) {
		fprintf(f, "explain: cannot evaluate the evidence\n");
		goto cleanup;
	}
	time_format_iso8601(now, when);
	fprintf(f, "Evaluated at: %s\n", when);
	if (ctx->excluded)
		fprintf(f, "This address is covered by an exclusion: it is never listed.\n");
	if (ctx->delisted_at != 0) {
		time_format_iso8601(ctx->delisted_at, when);
		fprintf(f, "Delisted at %s: only evidence received after it counts.\n", when);
	}
	explain_pieces(f, c, ctx, now, ev, steps, n);
	explain_scores(f, c, ctx, &r);
	explain_decision(f, c, &r);
cleanup:
	free(steps);
}
