/* ctl_format.c - the answers as the commands print them: text for people, JSON for programs
 * (the shapes of docs/api.md, built with jansson). */
#include <string.h>

#include "ctl_internal.h"

json_t *ctl_json_time(int64_t t)
{
	if (t == 0)
		return json_null();
	char buf[TIME_STRLEN];
	time_format_iso8601(t, buf);
	return json_string(buf);
}

static json_t *json_prefix(const struct ip_prefix *p)
{
	char buf[IP_PREFIX_STRLEN];
	ip_prefix_format(p, buf, sizeof(buf));
	return json_string(buf);
}

/* null for POLICY_REASON_NONE, else "traps", "reports" or "both". */
static json_t *json_reason(enum policy_reason r)
{
	return r == POLICY_REASON_NONE ? json_null() : json_string(policy_reason_name(r));
}

/* Adds key: value to o, taking value's reference; false when either is NULL (out of memory). */
static bool put(json_t *o, const char *key, json_t *value)
{
	return o && value && json_object_set_new(o, key, value) == 0;
}

static json_t *status_classes(const struct ctl_status *s)
{
	json_t *o = json_object();
	for (int c = 0; c < EVIDENCE_CLASSES; c++)
		if (!put(o, evidence_class_name((enum evidence_class)c),
			 json_integer(s->trap_classes[c])))
			break;
	return o;
}

/* A score as every reader shows it (policy_score_shown). */
static json_t *json_score(double v)
{
	return json_real(policy_score_shown(v));
}

static json_t *meaning_json(const struct policy_meaning *m)
{
	json_t *advice = json_array();
	for (size_t i = 0; advice && m->advice && m->advice[i]; i++)
		if (json_array_append_new(advice, json_string(m->advice[i])) != 0) {
			json_decref(advice);
			return NULL;
		}
	if (!advice)
		return NULL;
	return json_pack("{s:s,s:s,s:s,s:o}", "what", m->what, "usually", m->usually, "short",
			 m->txt, "advice", advice);
}

static json_t *status_meaning(const struct ctl_status *s)
{
	return s->meaning ? meaning_json(s->meaning) : json_null();
}

/* The status is public (ctl.h): the why of a default exclusion is ours (the special-purpose
 * range and its RFC), that of the operator's exclusions is not shown. */
static json_t *status_exclusion(const struct ctl_status *s)
{
	if (!s->excluded)
		return json_null();
	return json_pack("{s:o,s:b,s:o,s:o}", "prefix", json_prefix(&s->exclusion), "default",
			 s->excluded_by_default, "until", ctl_json_time(s->exclusion_until), "why",
			 s->excluded_by_default ? json_string(s->exclusion_why) : json_null());
}

static json_t *status_reputation(const struct ctl_status *s)
{
	if (!s->has_reputation)
		return json_null();
	return json_pack("{s:o,s:f}", "prefix", json_prefix(&s->reputation), "points",
			 s->reputation_points);
}

json_t *ctl_status_json(const struct ctl_status *s)
{
	char ip[IP_STRLEN];
	ip_format(s->ip, ip);
	json_t *o = json_object();
	bool ok = put(o, "ip", json_string(ip)) && put(o, "listed", json_boolean(s->listed)) &&
		  put(o, "test_point", json_boolean(s->test_point)) &&
		  put(o, "reason", s->test_point && s->listed ? json_string("test point")
							      : json_reason(s->reason)) &&
		  put(o, "meaning", status_meaning(s)) &&
		  put(o, "listed_since", ctl_json_time(s->listed_since)) &&
		  put(o, "expires_at", ctl_json_time(s->expires_at)) &&
		  put(o, "score", json_score(s->score)) &&
		  put(o, "threshold", json_score(s->threshold)) &&
		  put(o, "traps", json_integer(s->traps)) &&
		  put(o, "reports", json_integer(s->reports)) &&
		  put(o, "why_not", s->why_not ? json_string(s->why_not) : json_null()) &&
		  put(o, "trap_classes", status_classes(s)) &&
		  put(o, "evidence", json_pack("{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}", "stored",
					       "traps", s->store_traps, "reports", s->store_reports,
					       "last_24h", "traps", s->traps_24h, "reports",
					       s->reports_24h, "last_7d", "traps", s->traps_7d,
					       "reports", s->reports_7d)) &&
		  put(o, "excluded", status_exclusion(s)) &&
		  put(o, "reputation", status_reputation(s)) &&
		  put(o, "delisted_at", ctl_json_time(s->delisted_at)) &&
		  put(o, "evaluated_at", ctl_json_time(s->at));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *piece_json(const struct ctl_piece *p)
{
	return json_pack("{s:o,s:s,s:s,s:b,s:f,s:o}", "received_at", ctl_json_time(p->received_at),
			 "kind", p->trap ? "trap" : "report", "class", store_class_name(p->cls),
			 "counted", p->counted, "weight", policy_score_shown(p->weight),
			 "not_counted_because",
			 p->note ? json_string(p->note) : json_null());
}

json_t *ctl_explain_json(const struct ctl_explain *e)
{
	json_t *o = ctl_status_json(&e->status), *pieces = json_array();
	bool ok = o && pieces;
	for (size_t i = 0; ok && i < e->n; i++) {
		json_t *p = piece_json(&e->pieces[i]);
		ok = p && json_array_append_new(pieces, p) == 0;
	}
	const struct policy_config *c = &e->policy;
	ok = ok && put(o, "report_score", json_score(e->result.report_score)) &&
	     put(o, "trap_score", json_score(e->result.trap_score)) &&
	     put(o, "pieces", json_incref(pieces)) &&
	     put(o, "policy",
		 json_pack("{s:f,s:f,s:I,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I}", "report_fresh",
			   c->report_fresh, "report_old", c->report_old, "report_decay_s",
			   (json_int_t)c->report_decay_s, "window_s", (json_int_t)c->window_s,
			   "trap_square_from", (json_int_t)c->trap_square_from, "trap_weight",
			   c->trap_weight, "threshold", c->threshold, "min_evidence",
			   (json_int_t)c->min_evidence, "listing_s", (json_int_t)c->listing_s,
			   "two_reports_s", (json_int_t)c->two_reports_s, "min_reporters",
			   (json_int_t)c->min_reporters));
	json_decref(pieces);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ctl_listing_json(const struct store_listing *l)
{
	char ip[IP_STRLEN];
	ip_format(l->ip, ip);
	return json_pack("{s:s,s:o,s:f,s:i,s:i,s:o,s:o}", "ip", ip, "reason",
			 json_reason((enum policy_reason)l->reason), "score",
			 policy_score_shown(l->score), "traps",
			 (int)l->traps, "reports", (int)l->reports, "listed_since",
			 ctl_json_time(l->listed_at), "expires_at", ctl_json_time(l->expires_at));
}

json_t *ctl_reputation_json(const struct store_reputation *r)
{
	return json_pack("{s:o,s:f,s:o,s:s,s:s}", "prefix", json_prefix(&r->prefix), "points",
			 r->points, "set_at", ctl_json_time(r->created_at), "who", r->who, "why",
			 r->why);
}

json_t *ctl_exclusion_json(const struct store_exclusion *x)
{
	char pre[IP_PREFIX_STRLEN];
	ip_prefix_format(&x->prefix, pre, sizeof(pre));
	return json_pack("{s:s,s:o,s:o,s:s,s:s,s:b}", "prefix", pre, "until",
			 ctl_json_time(x->until), "set_at", ctl_json_time(x->created_at), "who",
			 x->who, "why", x->why, "default", x->id == 0);
}

/* ---- text ---------------------------------------------------------------------------- */

static void time_line(FILE *f, const char *key, int64_t t)
{
	char buf[TIME_STRLEN];
	time_format_iso8601(t, buf);
	fprintf(f, "%s: %s\n", key, buf);
}

/* "reputation: 10 points (192.0.2.0/24: why)" when a prefix's points apply to the address. */
static void context_text(FILE *f, const struct ctl_status *s)
{
	char why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	if (s->excluded)
		fprintf(f, "excluded: %s\n", text_escape(s->exclusion_why, why, sizeof(why)));
	if (s->has_reputation) {
		char pre[IP_PREFIX_STRLEN];
		ip_prefix_format(&s->reputation, pre, sizeof(pre));
		fprintf(f, "reputation: %.10g points (%s: %s)\n", s->reputation_points, pre,
			text_escape(s->reputation_why, why, sizeof(why)));
	}
}

/* "1 trap hit" or "2 trap hits". */
static const char *plural(uint32_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "5 trap hits (4 bounces, 1 auto-reply) and 2 user reports". */
static void counted_text(FILE *f, const struct ctl_status *s)
{
	fprintf(f, "counted: %u %s", s->traps, plural(s->traps, "trap hit", "trap hits"));
	const char *sep = " (";
	for (int c = 0; c < EVIDENCE_CLASSES && s->traps; c++) {
		if (!s->trap_classes[c])
			continue;
		const struct policy_class_words *w = policy_class_words((enum evidence_class)c);
		fprintf(f, "%s%u %s", sep, s->trap_classes[c],
			s->trap_classes[c] == 1 ? w->one : w->many);
		sep = ", ";
	}
	fprintf(f, "%s and %u %s\n", s->traps ? ")" : "", s->reports,
		plural(s->reports, "user report", "user reports"));
}

/* "meaning: WHAT: USUALLY" and one "check: ..." line for each piece of advice. */
static void meaning_text(FILE *f, const struct policy_meaning *m)
{
	fprintf(f, "meaning: %s: %s\n", m->what, m->usually);
	for (size_t i = 0; m->advice && m->advice[i]; i++)
		fprintf(f, "check: %s\n", m->advice[i]);
}

void ctl_status_text(FILE *f, const struct ctl_status *s)
{
	char ip[IP_STRLEN];
	ip_format(s->ip, ip);
	fprintf(f, "ip: %s\n", ip);
	if (s->test_point && s->listed) {
		fprintf(f, "listed: yes\nreason: test point\n");
		meaning_text(f, s->meaning);
	} else if (s->listed) {
		fprintf(f, "listed: yes\nreason: %s\n", policy_reason_name(s->reason));
		meaning_text(f, s->meaning);
		if (s->listed_since)
			time_line(f, "listed_since", s->listed_since);
		time_line(f, "expires_at", s->expires_at);
	} else if (strcmp(s->why_not, POLICY_WHY_BELOW) == 0) {
		/* The shown figures are cut, so a score short of the threshold is at least 0.001
		 * short of it as shown too. */
		double score = policy_score_shown(s->score), threshold = policy_score_shown(s->threshold);
		fprintf(f, "listed: no\nwhy: score below the threshold (%.3f of %.3f, %.3f short)\n",
			score, threshold, threshold - score);
	} else {
		fprintf(f, "listed: no\nwhy: %s\n", s->why_not);
		if (s->expires_at)
			time_line(f, "expired_at", s->expires_at);
	}
	fprintf(f, "score: %.3f\nthreshold: %.3f\ntraps: %u\nreports: %u\n",
		policy_score_shown(s->score), policy_score_shown(s->threshold), s->traps,
		s->reports);
	counted_text(f, s);
	fprintf(f, "evidence: %u %s, %u %s in the store\n", s->store_traps,
		plural(s->store_traps, "trap hit", "trap hits"), s->store_reports,
		plural(s->store_reports, "report", "reports"));
	context_text(f, s);
	if (s->delisted_at) {
		char who[TEXT_ESCAPED_MAX(64)], why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
		time_line(f, "delisted_at", s->delisted_at);
		fprintf(f, "delisted_by: %s: %s\n", text_escape(s->delist_who, who, sizeof(who)),
			text_escape(s->delist_why, why, sizeof(why)));
	}
}

void ctl_status_line(FILE *f, const struct ctl_status *s)
{
	char ip[IP_STRLEN], t[TIME_STRLEN];
	ip_format(s->ip, ip);
	if (s->test_point) {
		fprintf(f, "%s: %s (RFC 5782 test point)\n", ip, s->listed ? "listed" : "not listed");
	} else if (s->listed) {
		time_format_iso8601(s->expires_at, t);
		fprintf(f, "%s: listed (%s) until %s\n", ip, policy_reason_name(s->reason), t);
	} else {
		fprintf(f, "%s: not listed\n", ip);
	}
}

void ctl_explain_text(FILE *f, const struct ctl_explain *e)
{
	char ip[IP_STRLEN];
	ip_format(e->status.ip, ip);
	fprintf(f, "ip: %s\n", ip);
	if (e->status.test_point)
		fprintf(f, "This is the RFC 5782 test point that DNS %s, whatever the evidence; the "
			   "computation below decides nothing for it.\n",
			e->status.listed ? "always lists" : "never lists");
	context_text(f, &e->status);
	policy_explain(f, &e->policy, e->ev, e->n, &e->ctx, e->status.at);
}
