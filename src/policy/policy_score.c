/* policy_score.c - the listing criteria: score an address's evidence at a given second, decide
 * listed or not, and find the first second the listing ends if nothing new arrives. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "policy.h"

/* Sums of binary fractions (2.5 + 2.5, 0.7 + 0.1) can land a few ulps under a threshold they
 * reach on paper; the score is never rounded, so the comparison forgives this much. */
#define POLICY_EPSILON 1e-9

void policy_config_from(const struct config *cfg, struct policy_config *out)
{
	out->report_fresh = cfg->policy_report_fresh;
	out->report_old = cfg->policy_report_old;
	out->report_decay_s = cfg->policy_report_decay;
	out->window_s = cfg->policy_window;
	out->trap_square_from = cfg->policy_trap_square_from;
	out->trap_weight = cfg->policy_trap_weight;
	out->threshold = cfg->policy_threshold;
	out->min_evidence = cfg->policy_min_evidence;
	out->listing_s = cfg->policy_listing;
	out->two_reports_s = cfg->policy_two_reports;
	out->min_reporters = cfg->policy_min_reporters;
}

void policy_config_defaults(struct policy_config *c)
{
	struct config *cfg = malloc(sizeof *cfg); /* about 10 KiB: not for a thread's stack */
	if (!cfg) {
		memset(c, 0, sizeof *c);
		return;
	}
	config_defaults(cfg);
	policy_config_from(cfg, c);
	free(cfg);
}

const char *policy_reason_name(enum policy_reason r)
{
	switch (r) {
	case POLICY_REASON_TRAPS:
		return "traps";
	case POLICY_REASON_REPORTS:
		return "reports";
	case POLICY_REASON_BOTH:
		return "both";
	case POLICY_REASON_NONE:
		break;
	}
	return "none";
}

/* The class most counted trap hits have; on a tie the one that says most about the sender. */
static enum evidence_class trap_detail(const uint32_t n[EVIDENCE_CLASSES])
{
	static const enum evidence_class order[] = {EVIDENCE_VIRUS, EVIDENCE_BOUNCE,
						    EVIDENCE_AUTOREPLY, EVIDENCE_SPAM,
						    EVIDENCE_UNKNOWN};
	enum evidence_class best = EVIDENCE_SPAM;
	uint32_t most = 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (n[order[i]] > most) {
			most = n[order[i]];
			best = order[i];
		}
	}
	return best;
}

static bool piece_counted(const struct policy_config *c, const struct policy_evidence *e,
			  const struct policy_context *ctx, int64_t now)
{
	/* Whole seconds cannot order a delisting and evidence received in the same second; the
	 * commit order can: what was stored after the delisting came after it. */
	if (ctx->delisted_at != 0 &&
	    (e->received_at < ctx->delisted_at ||
	     (e->received_at == ctx->delisted_at && e->seq <= ctx->delist_mark)))
		return false;
	/* Evidence from the future (clock skew) is as fresh as it gets; "older than the window"
	 * is strict, so a piece exactly window_s old still counts. */
	return now - e->received_at <= (int64_t)c->window_s;
}

static double report_weight(const struct policy_config *c, int64_t age)
{
	if (age <= 0)
		return c->report_fresh;
	if (c->report_decay_s == 0 || age >= (int64_t)c->report_decay_s)
		return c->report_old;
	return c->report_fresh -
	       (c->report_fresh - c->report_old) * (double)age / (double)c->report_decay_s;
}

static double trap_score(const struct policy_config *c, uint32_t traps)
{
	if (traps < c->trap_square_from)
		return c->trap_weight * (double)traps;
	return (double)traps * (double)traps;
}

/* The evidence expiry: listing_s after the newest counted piece, two_reports_s at most when
 * the listing rests on exactly two reports and nothing else. */
static int64_t evidence_expiry(const struct policy_config *c, int64_t newest, uint32_t traps,
			       uint32_t reports)
{
	uint32_t life = c->listing_s;
	if (traps == 0 && reports == 2 && c->two_reports_s < life)
		life = c->two_reports_s;
	return newest + (int64_t)life;
}

/* ---- one reporter, one report -------------------------------------------------------------
 * A reporter's reports about one address count once: its newest counted one. Which that is
 * does not change as time passes without new evidence (older pieces leave the window first),
 * so it is settled once per evaluation, at `now`, and holds for every later second the search
 * for the end of the listing looks at. */

struct reporter_piece {
	uint64_t reporter;
	int64_t received_at, seq;
	size_t i;
};

static int reporter_piece_cmp(const void *a, const void *b)
{
	const struct reporter_piece *x = a, *y = b;
	if (x->reporter != y->reporter)
		return (x->reporter > y->reporter) - (x->reporter < y->reporter);
	if (x->received_at != y->received_at)
		return (x->received_at > y->received_at) - (x->received_at < y->received_at);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* *out: per piece, whether a newer report of its reporter counts instead (NULL, and nothing
 * to free, when no counted report names a reporter). POLICY_ENOMEM. */
static int superseded_mark(const struct policy_config *c, const struct policy_evidence *ev,
			   size_t n, const struct policy_context *ctx, int64_t now, bool **out)
{
	*out = NULL;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += !ev[i].trap && ev[i].reporter && piece_counted(c, &ev[i], ctx, now);
	if (m < 2)
		return POLICY_OK;
	struct reporter_piece *rp = malloc(m * sizeof(*rp));
	bool *mark = calloc(n, sizeof(*mark));
	if (!rp || !mark) {
		free(rp);
		free(mark);
		return POLICY_ENOMEM;
	}
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (!ev[i].trap && ev[i].reporter && piece_counted(c, &ev[i], ctx, now))
			rp[m++] = (struct reporter_piece){ev[i].reporter, ev[i].received_at,
							  ev[i].seq, i};
	qsort(rp, m, sizeof(*rp), reporter_piece_cmp);
	/* Sorted by reporter, then oldest first: all but the last of each run are superseded. */
	for (size_t k = 0; k + 1 < m; k++)
		if (rp[k].reporter == rp[k + 1].reporter)
			mark[rp[k].i] = true;
	free(rp);
	*out = mark;
	return POLICY_OK;
}

/* The decision at one second, without the search for the end of the listing. superseded (may
 * be NULL) marks the reports whose reporter's newer one counts instead. */
static void decide_at(const struct policy_config *c, const struct policy_evidence *ev, size_t n,
		      const struct policy_context *ctx, const bool *superseded, int64_t now,
		      struct policy_result *r, struct policy_step *steps)
{
	memset(r, 0, sizeof(*r));
	r->threshold = c->threshold + ctx->reputation;
	bool any_old = false, any_delisted = false;
	for (size_t i = 0; i < n; i++) {
		const struct policy_evidence *e = &ev[i];
		bool counted = piece_counted(c, e, ctx, now);
		bool over = counted && superseded && superseded[i];
		double w = 0;
		if (over) {
			counted = false;
			r->superseded++;
		} else if (!counted) {
			if (now - e->received_at > (int64_t)c->window_s)
				any_old = true;
			else
				any_delisted = true;
		} else if (e->trap) {
			r->traps++;
			r->trap_classes[e->cls < EVIDENCE_CLASSES ? e->cls : EVIDENCE_UNKNOWN]++;
		} else {
			w = report_weight(c, now - e->received_at);
			r->report_score += w;
			r->reports++;
		}
		if (counted && (r->traps + r->reports == 1 || e->received_at > r->last_evidence_at))
			r->last_evidence_at = e->received_at;
		if (steps)
			steps[i] = (struct policy_step){e->received_at, e->trap, counted, over, w};
	}
	r->trap_score = trap_score(c, r->traps);
	r->detail = trap_detail(r->trap_classes);
	r->score = r->report_score + r->trap_score;
	uint32_t pieces = r->traps + r->reports;
	int64_t expiry = evidence_expiry(c, r->last_evidence_at, r->traps, r->reports);

	if (ctx->excluded)
		r->why_not = POLICY_WHY_EXCLUDED;
	else if (pieces == 0)
		r->why_not = any_delisted ? "delisted, no evidence since"
			     : any_old    ? "no evidence in the window"
					  : "no evidence";
	else if (pieces < c->min_evidence)
		r->why_not = pieces > 1		? POLICY_WHY_FEW
			     : r->superseded ? POLICY_WHY_ONE_REPORTER
					     : POLICY_WHY_ONE;
	else if (r->traps == 0 && r->reports < c->min_reporters)
		r->why_not = POLICY_WHY_REPORTERS; /* reports count once per reporter */
	else if (r->score < r->threshold - POLICY_EPSILON)
		r->why_not = POLICY_WHY_BELOW; /* before expiry: it may never have been
						  listed, and this says why */
	else if (now >= expiry)
		r->why_not = POLICY_WHY_EXPIRED;
	if (r->why_not) {
		if (strcmp(r->why_not, POLICY_WHY_EXPIRED) == 0)
			r->expires_at = expiry;
		return;
	}
	r->listed = true;
	r->reason = r->traps && r->reports ? POLICY_REASON_BOTH
		    : r->traps             ? POLICY_REASON_TRAPS
					   : POLICY_REASON_REPORTS;
	r->expires_at = expiry;
}

static bool listed_at(const struct policy_config *c, const struct policy_evidence *ev, size_t n,
		      const struct policy_context *ctx, const bool *superseded, int64_t t)
{
	struct policy_result r;
	decide_at(c, ev, n, ctx, superseded, t, &r, NULL);
	return r.listed;
}

/* ---- the end of a listing -------------------------------------------------------------
 * Between two pieces of evidence the score only falls (reports age, pieces leave the window),
 * so a listing can end before its evidence expiry: three reports two days apart reach the
 * threshold when the newest arrives and sink under it minutes later. The writer re-evaluates
 * at expires_at and `trapline rebuild` evaluates at any second, so expires_at must be the
 * first second the decision says "not listed". Over time the score is piecewise linear: the
 * walk below goes through its pieces (a future report starting to age, a report reaching
 * report_decay_s, a piece leaving the window) in order, O(n log n) instead of evaluating
 * every second, and the answer is then checked against decide_at itself. */

enum ev_kind { EV_START_DECAY, EV_END_DECAY, EV_LEAVE };

struct walk_event {
	int64_t t; /* relative to now: keeps the sums small and exact enough */
	int64_t r; /* the piece's received_at, relative to now */
	enum ev_kind kind;
	bool trap;
};

static int walk_event_cmp(const void *a, const void *b)
{
	const struct walk_event *x = a, *y = b;
	/* At the same second a report starts ageing, then reaches old age, then leaves. */
	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	return (x->kind > y->kind) - (x->kind < y->kind);
}

struct walk_state {
	double constant; /* the part of the report score that does not move */
	double decaying; /* how many reports are ageing right now */
	double sum_r;    /* sum of their received_at (relative) */
	uint32_t traps, reports;
};

/* First t in [from, to) where the score is under the threshold, or `to`. */
static int64_t walk_segment_end(const struct policy_config *c, const struct walk_state *s,
				double threshold, int64_t from, int64_t to)
{
	double k = c->report_decay_s ? (c->report_fresh - c->report_old) / c->report_decay_s : 0;
	/* score(t) = a - slope * t */
	double a = s->constant + s->decaying * c->report_fresh + k * s->sum_r +
		   trap_score(c, s->traps);
	double slope = k * s->decaying;
	double need = threshold - POLICY_EPSILON;
	if (a - slope * (double)from < need)
		return from;
	if (slope <= 0)
		return to;
	/* score(from) >= need, so x >= from >= 0 and truncation is floor (no libm needed). */
	double x = (a - need) / slope;
	if (x + 1 >= (double)to)
		return to;
	int64_t t = (int64_t)x + 1;
	return t < from ? from : t;
}

static void walk_apply(const struct policy_config *c, struct walk_state *s,
		       const struct walk_event *e)
{
	if (e->trap) {
		if (e->kind == EV_LEAVE)
			s->traps--;
		return;
	}
	switch (e->kind) {
	case EV_START_DECAY:
		s->constant -= c->report_fresh;
		if (c->report_decay_s == 0) {
			s->constant += c->report_old;
			break;
		}
		s->decaying += 1;
		s->sum_r += (double)e->r;
		break;
	case EV_END_DECAY:
		s->decaying -= 1;
		s->sum_r -= (double)e->r;
		s->constant += c->report_old;
		break;
	case EV_LEAVE:
		/* The end of the decay comes first unless the window is shorter than it. */
		if (e->t - e->r >= (int64_t)c->report_decay_s) {
			s->constant -= c->report_old;
		} else {
			s->decaying -= 1;
			s->sum_r -= (double)e->r;
		}
		s->reports--;
		break;
	}
}

static int listing_end(const struct policy_config *c, const struct policy_evidence *ev, size_t n,
		       const struct policy_context *ctx, const bool *superseded, int64_t now,
		       struct policy_result *r)
{
	struct walk_event *evs = malloc((3 * n + 1) * sizeof(*evs));
	if (!evs)
		return POLICY_ENOMEM;
	struct walk_state s = {0};
	size_t m = 0;
	int64_t decay = c->report_decay_s, leave = (int64_t)c->window_s + 1;
	for (size_t i = 0; i < n; i++) {
		if (!piece_counted(c, &ev[i], ctx, now) || (superseded && superseded[i]))
			continue;
		int64_t rel = ev[i].received_at - now;
		bool trap = ev[i].trap;
		evs[m++] = (struct walk_event){rel + leave, rel, EV_LEAVE, trap};
		if (trap) {
			s.traps++;
			continue;
		}
		s.reports++;
		if (rel + decay > 0 && decay > 0)
			evs[m++] = (struct walk_event){rel + decay, rel, EV_END_DECAY, false};
		/* The state at now: fresh until received (future pieces), then ageing, then old. */
		if (rel > 0) {
			s.constant += c->report_fresh;
			evs[m++] = (struct walk_event){rel, rel, EV_START_DECAY, false};
		} else if (-rel < decay) {
			s.decaying += 1;
			s.sum_r += (double)rel;
		} else {
			s.constant += c->report_old;
		}
	}
	qsort(evs, m, sizeof(*evs), walk_event_cmp);

	int64_t newest = r->last_evidence_at - now, end = 0, from = 0;
	size_t i = 0;
	for (;;) {
		int64_t to = i < m ? evs[i].t : INT64_MAX;
		int64_t expiry = evidence_expiry(c, newest, s.traps, s.reports);
		if (s.traps + s.reports < c->min_evidence ||
		    (s.traps == 0 && s.reports < c->min_reporters) || expiry <= from) {
			end = from;
			break;
		}
		bool last = i >= m || expiry <= to;
		if (expiry < to)
			to = expiry;
		end = walk_segment_end(c, &s, r->threshold, from, to);
		if (end < to || last)
			break;
		from = evs[i].t;
		while (i < m && evs[i].t == from)
			walk_apply(c, &s, &evs[i++]);
	}
	free(evs);

	/* The walk's sums and decide_at's may differ in the last ulp: settle on decide_at's
	 * answer, which is the one every other evaluation will give. */
	int64_t t = now + end;
	if (t <= now)
		t = now + 1;
	for (int k = 0; k < 64 && listed_at(c, ev, n, ctx, superseded, t); k++)
		t++;
	for (int k = 0; k < 64 && t - 1 > now && !listed_at(c, ev, n, ctx, superseded, t - 1); k++)
		t--;
	r->expires_at = t;
	return POLICY_OK;
}

int policy_evaluate(const struct policy_config *c, const struct policy_evidence *ev, size_t n,
		    const struct policy_context *ctx, int64_t now, struct policy_result *out,
		    struct policy_step *steps)
{
	static const struct policy_context none = {0};
	if (!c || !out || (n && !ev))
		return POLICY_EINVAL;
	if (!ctx)
		ctx = &none;
	bool *superseded;
	int rc = superseded_mark(c, ev, n, ctx, now, &superseded);
	if (rc != POLICY_OK)
		return rc;
	decide_at(c, ev, n, ctx, superseded, now, out, steps);
	if (out->listed)
		rc = listing_end(c, ev, n, ctx, superseded, now, out);
	free(superseded);
	return rc;
}
