/* ctl_query.c - the reads: what the list knows about one address (check, explain, the lookup
 * page), and the lists of listings, reputation rows, exclusions, delistings and the audit log.
 * One gathering of the facts (writer_facts_read) and one evaluation of the policy, the same the
 * writer decides with. */
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"
#include "zone/zone.h"

#define DAY 86400

/* What the facts say besides the evidence: the exclusion, the reputation, the delisting. */
static void status_context(struct ctl_status *s, const struct writer_facts *f)
{
	if (f->default_exclusion) {
		s->excluded = s->excluded_by_default = true;
		s->exclusion = *f->default_exclusion;
		if (f->special)
			snprintf(s->exclusion_why, sizeof(s->exclusion_why), "special-purpose "
				 "address: %s (%s), never a public source of mail (exclude_default)",
				 f->special->name, f->special->rfc);
		else
			snprintf(s->exclusion_why, sizeof(s->exclusion_why),
				 "default exclusion (exclude_default)");
	} else if (f->exclusion) {
		s->excluded = true;
		s->exclusion = f->exclusion->prefix;
		s->exclusion_until = f->exclusion->until;
		snprintf(s->exclusion_why, sizeof(s->exclusion_why), "%s", f->exclusion->why);
	}
	if (f->reputation) {
		s->has_reputation = true;
		s->reputation = f->reputation->prefix;
		s->reputation_points = f->reputation->points;
		snprintf(s->reputation_why, sizeof(s->reputation_why), "%s", f->reputation->why);
	}
	if (f->delisted) {
		s->delisted_at = f->delist.at;
		snprintf(s->delist_who, sizeof(s->delist_who), "%s", f->delist.who);
		snprintf(s->delist_why, sizeof(s->delist_why), "%s", f->delist.why);
	}
}

static const char *const test_point_advice[] = {
	"Nothing to fix: no mail server has this address. If a mail server's query for it is not "
	"answered as listed, that server does not reach the list: check the zone's name in its "
	"configuration, and its resolver.",
	NULL,
};

static const struct policy_meaning test_point_meaning = {
	"RFC 5782 test point",
	"the address every DNS blocklist lists so that the mail servers using it can check that "
	"their queries reach it (RFC 5782, section 5); no mail server has it",
	"RFC 5782 test point", test_point_advice};

const struct policy_meaning *ctl_test_point_meaning(void)
{
	return &test_point_meaning;
}

/* DNS answers the RFC 5782 test points whatever the evidence (zone.h): so does check. */
static void status_test_point(struct ctl_status *s)
{
	if (!ip_is_v4(s->ip))
		return;
	uint32_t v = ip_v4(s->ip);
	if (v != ZONE_TEST_POINT_LISTED && v != ZONE_TEST_POINT_UNLISTED)
		return;
	s->test_point = true;
	s->listed = v == ZONE_TEST_POINT_LISTED;
	s->reason = POLICY_REASON_NONE;
	s->meaning = s->listed ? &test_point_meaning : NULL;
	s->why_not = s->listed ? NULL : CTL_WHY_TEST_POINT;
	s->expires_at = 0;
	s->listed_since = 0;
}

/* Counts of the evidence: in the store, in the last day and in the last week. */
static void status_counts(struct ctl_status *s, const struct policy_evidence *ev, size_t n,
			  int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		bool trap = ev[i].trap;
		int64_t age = now - ev[i].received_at;
		s->store_traps += trap;
		s->store_reports += !trap;
		if (age <= DAY) {
			s->traps_24h += trap;
			s->reports_24h += !trap;
		}
		if (age <= 7 * DAY) {
			s->traps_7d += trap;
			s->reports_7d += !trap;
		}
	}
}

static int explain_pieces(struct ctl_explain *e, const struct policy_step *steps, int64_t now)
{
	if (e->n == 0)
		return CTL_OK;
	e->pieces = calloc(e->n, sizeof(*e->pieces));
	if (!e->pieces)
		return CTL_ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		struct ctl_piece *p = &e->pieces[i];
		p->received_at = e->ev[i].received_at;
		p->trap = e->ev[i].trap;
		p->cls = (enum store_class)e->ev[i].cls;
		p->counted = steps[i].counted;
		p->weight = steps[i].weight;
		if (steps[i].superseded)
			p->note = "the same reporter's newer report counts";
		else if (!p->counted)
			p->note = now - p->received_at > (int64_t)e->policy.window_s
					  ? "older than the window"
					  : "before the delisting";
	}
	return CTL_OK;
}

/* The facts and the evaluation: everything check and explain say. On failure nothing is left
 * to free. */
static int evaluate(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		    int64_t now, struct ctl_explain *e)
{
	memset(e, 0, sizeof(*e));
	e->policy = svc->policy;
	struct writer_rules rules;
	struct writer_facts f;
	struct policy_step *steps = NULL;
	memset(&f, 0, sizeof(f));
	int rc = writer_rules_load(reader, svc->default_exclusions, svc->n_default_exclusions,
				   svc->special_excluded, now, &rules);
	if (rc != WRITER_OK)
		return rc;
	/* Every piece, however old: explain shows what the window leaves out. */
	rc = writer_facts_read(reader, &rules, ip, now, 0, &f);
	if (rc != WRITER_OK)
		goto done;
	rc = CTL_ENOMEM;
	if (f.n && !(steps = calloc(f.n, sizeof(*steps))))
		goto done;
	rc = policy_evaluate(&svc->policy, f.ev, f.n, &f.ctx, now, &e->result, steps);
	if (rc != POLICY_OK)
		goto done;
	struct ctl_status *s = &e->status;
	memcpy(s->ip, ip, 16);
	s->at = now;
	s->listed = e->result.listed;
	s->reason = e->result.reason;
	s->expires_at = e->result.expires_at;
	s->score = e->result.score;
	s->threshold = e->result.threshold;
	s->traps = e->result.traps;
	s->reports = e->result.reports;
	s->why_not = e->result.why_not;
	status_context(s, &f);
	status_counts(s, f.ev, f.n, now);
	memcpy(s->trap_classes, e->result.trap_classes, sizeof(s->trap_classes));
	s->detail = e->result.detail;
	if (s->listed)
		s->meaning = policy_meaning(s->reason, s->detail);
	struct store_listing l;
	status_test_point(s);
	if (s->listed && !s->test_point) {
		rc = store_listing_get(reader, ip, &l);
		if (rc == STORE_OK)
			s->listed_since = l.listed_at;
		else if (rc != STORE_ENOTFOUND)
			goto done;
	}
	e->ctx = f.ctx;
	e->ev = f.ev; /* the explanation keeps the evidence */
	e->n = f.n;
	f.ev = NULL;
	rc = explain_pieces(e, steps, now);
	if (rc != CTL_OK)
		ctl_explain_free(e);
done:
	free(steps);
	writer_facts_free(&f);
	writer_rules_free(&rules);
	return rc;
}

int ctl_query_status(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		     int64_t now, struct ctl_status *out)
{
	struct ctl_explain e;
	int rc = evaluate(svc, reader, ip, now, &e);
	if (rc != CTL_OK)
		return rc;
	*out = e.status;
	ctl_explain_free(&e);
	return CTL_OK;
}

int ctl_query_explain(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		      int64_t now, struct ctl_explain *out)
{
	return evaluate(svc, reader, ip, now, out);
}

void ctl_explain_free(struct ctl_explain *e)
{
	free(e->ev);
	free(e->pieces);
	e->ev = NULL;
	e->pieces = NULL;
	e->n = 0;
}

/* ---- the handlers ------------------------------------------------------------------------ */

int ctl_run_check(struct ctl_run *r)
{
	struct ctl_status s;
	int rc = ctl_query_status(r->svc, r->svc->reader, r->req->ip, r->now, &s);
	if (rc != CTL_OK)
		return ctl_fail_store(r, rc);
	if (r->req->json)
		return ctl_print_json(r, ctl_status_json(&s));
	ctl_status_text(r->out, &s);
	return CTL_EXIT_OK;
}

int ctl_run_explain(struct ctl_run *r)
{
	struct ctl_explain e;
	int rc = ctl_query_explain(r->svc, r->svc->reader, r->req->ip, r->now, &e);
	if (rc != CTL_OK)
		return ctl_fail_store(r, rc);
	if (r->req->json) {
		rc = ctl_print_json(r, ctl_explain_json(&e));
	} else {
		ctl_explain_text(r->out, &e);
		rc = CTL_EXIT_OK;
	}
	ctl_explain_free(&e);
	return rc;
}

static void listing_text(FILE *f, const void *item)
{
	const struct store_listing *l = item;
	char ip[IP_STRLEN], at[TIME_STRLEN], exp[TIME_STRLEN];
	ip_format(l->ip, ip);
	time_format_iso8601(l->listed_at, at);
	time_format_iso8601(l->expires_at, exp);
	fprintf(f, "%s reason=%s score=%.3f traps=%u reports=%u listed_since=%s expires_at=%s\n",
		ip, policy_reason_name((enum policy_reason)l->reason), policy_score_shown(l->score),
		l->traps,
		l->reports, at, exp);
}

static int list_one(const struct store_listing *l, void *arg)
{
	struct ctl_list *st = arg;
	return ctl_list_row(st, st->r->req->json ? ctl_listing_json(l) : NULL, listing_text, l);
}

int ctl_run_list(struct ctl_run *r)
{
	struct ctl_list st;
	ctl_list_begin(&st, r);
	return ctl_list_end(&st, store_listing_foreach(r->svc->reader, list_one, &st), NULL);
}

static void reputation_text(FILE *f, const void *item)
{
	const struct store_reputation *rep = item;
	char pre[IP_PREFIX_STRLEN], at[TIME_STRLEN], who[TEXT_ESCAPED_MAX(sizeof(rep->who))],
		why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	ip_prefix_format(&rep->prefix, pre, sizeof(pre));
	time_format_iso8601(rep->created_at, at);
	fprintf(f, "%s points=%.10g set_at=%s who=%s why=\"%s\"\n", pre, rep->points, at,
		text_escape(rep->who, who, sizeof(who)), text_escape(rep->why, why, sizeof(why)));
}

static int reputation_one(const struct store_reputation *rep, void *arg)
{
	struct ctl_list *st = arg;
	return ctl_list_row(st, st->r->req->json ? ctl_reputation_json(rep) : NULL, reputation_text,
			rep);
}

int ctl_run_reputation_list(struct ctl_run *r)
{
	struct ctl_list st;
	ctl_list_begin(&st, r);
	return ctl_list_end(&st, store_reputation_foreach(r->svc->reader, reputation_one, &st),
			"no prefix has reputation points");
}

/* ---- exclusions, delistings, the audit log ----------------------------------------------- */

static void exclusion_text(FILE *f, const void *item)
{
	const struct store_exclusion *x = item;
	char pre[IP_PREFIX_STRLEN], until[TIME_STRLEN] = "never", at[TIME_STRLEN];
	char who[TEXT_ESCAPED_MAX(sizeof(x->who))], why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	ip_prefix_format(&x->prefix, pre, sizeof(pre));
	if (x->until)
		time_format_iso8601(x->until, until);
	if (x->created_at)
		time_format_iso8601(x->created_at, at);
	else
		snprintf(at, sizeof(at), "-");
	fprintf(f, "%s until=%s set_at=%s who=\"%s\" why=\"%s\"\n", pre, until, at,
		text_escape(x->who, who, sizeof(who)), text_escape(x->why, why, sizeof(why)));
}

static int exclusion_one(const struct store_exclusion *x, void *arg)
{
	struct ctl_list *st = arg;
	return ctl_list_row(st, st->r->req->json ? ctl_exclusion_json(x) : NULL, exclusion_text, x);
}

/* The configuration's exclusions first (id 0, no time: they hold while the config says so),
 * then the store's in force, oldest first. */
int ctl_run_exclude_list(struct ctl_run *r)
{
	struct ctl_list st;
	ctl_list_begin(&st, r);
	size_t n = 0;
	const struct ip_special *sp = r->svc->special_excluded ? ip_special_table(&n) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct store_exclusion x = {.prefix = sp[i].prefix};
		snprintf(x.who, sizeof(x.who), "config");
		snprintf(x.why, sizeof(x.why), "exclude_default: special-purpose, %s (%s)%s",
			 sp[i].name, sp[i].rfc,
			 sp[i].v4_at ? ", where it embeds a special-purpose IPv4 address" : "");
		if (exclusion_one(&x, &st))
			break;
	}
	for (size_t i = 0; i < r->svc->n_default_exclusions; i++) {
		struct store_exclusion x = {.prefix = r->svc->default_exclusions[i]};
		snprintf(x.who, sizeof(x.who), "config");
		snprintf(x.why, sizeof(x.why), "exclude_default");
		if (exclusion_one(&x, &st))
			break;
	}
	return ctl_list_end(&st, store_exclusion_foreach(r->svc->reader, r->now, exclusion_one, &st),
			"no exclusion");
}

static void delisting_text(FILE *f, const void *item)
{
	const struct store_action *a = item;
	char ip[IP_STRLEN], at[TIME_STRLEN];
	char who[TEXT_ESCAPED_MAX(sizeof(a->who))], why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	ip_format(a->ip, ip);
	time_format_iso8601(a->at, at);
	fprintf(f, "%s delisted_at=%s who=\"%s\" why=\"%s\"\n", ip, at,
		text_escape(a->who, who, sizeof(who)), text_escape(a->why, why, sizeof(why)));
}

static json_t *delisting_json(const struct store_action *a)
{
	char ip[IP_STRLEN];
	ip_format(a->ip, ip);
	return json_pack("{s:s,s:o,s:s,s:s}", "ip", ip, "delisted_at", ctl_json_time(a->at), "who",
			 a->who, "why", a->why);
}

static int delisting_one(const struct store_action *a, void *arg)
{
	struct ctl_list *st = arg;
	return ctl_list_row(st, st->r->req->json ? delisting_json(a) : NULL, delisting_text, a);
}

int ctl_run_delist_list(struct ctl_run *r)
{
	struct ctl_list st;
	ctl_list_begin(&st, r);
	return ctl_list_end(&st, store_delisting_foreach(r->svc->reader, delisting_one, &st),
			"no delisting in force");
}

struct audit_row {
	int64_t at;
	const char *who, *what, *target, *why;
};

static void audit_text(FILE *f, const void *item)
{
	const struct audit_row *a = item;
	char at[TIME_STRLEN], who[TEXT_ESCAPED_MAX(64)], why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	char what[TEXT_ESCAPED_MAX(64)], target[TEXT_ESCAPED_MAX(64)];
	time_format_iso8601(a->at, at);
	fprintf(f, "%s %s %s who=\"%s\" why=\"%s\"\n", at, text_escape(a->what, what, sizeof(what)),
		text_escape(a->target, target, sizeof(target)), text_escape(a->who, who, sizeof(who)),
		text_escape(a->why, why, sizeof(why)));
}

static int audit_one(int64_t at, const char *who, const char *what, const char *target,
		     const char *why, void *arg)
{
	struct ctl_list *st = arg;
	struct audit_row a = {at, who, what, target, why};
	json_t *row = NULL;
	if (st->r->req->json)
		row = json_pack("{s:o,s:s,s:s,s:s,s:s}", "at", ctl_json_time(at), "what", what,
				"target", target, "who", who, "why", why);
	return ctl_list_row(st, row, audit_text, &a);
}

int ctl_run_audit(struct ctl_run *r)
{
	struct ctl_list st;
	ctl_list_begin(&st, r);
	return ctl_list_end(&st, store_audit_foreach(r->svc->reader, r->req->since, audit_one, &st),
			"the audit log is empty");
}
