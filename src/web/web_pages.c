/* web_pages.c - the public pages (home, lookup, the about pages, static files) and the JSON
 * API's reads (lookup, history, figures): each handler gathers its facts through ctl's queries,
 * turns them into template values (web_vals: text, escaped by web_render) and renders its
 * template inside the layout. The prose lives in the templates; the numbers come from the
 * live configuration and the store, never from a copy that can drift. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_internal.h"

#define FIGURES_TTL_NS 10000000000ull /* the home page's figures are counted every 10 s */

void web_page_template(struct web_server *srv, struct web_thread *th, const char *tmpl,
		       const char *title, struct web_reply *reply)
{
	struct web_vals p = {0};
	web_vals_page(srv, th, &p, tmpl, title, reply);
	web_vals_free(&p);
}

void web_page_not_found(struct web_server *srv, struct web_thread *th,
			const struct web_request *req, struct web_reply *reply)
{
	reply->status = 404;
	web_page_template(srv, th, "notfound.html", "Not found", reply);
}

/* One read transaction around a page's queries: they see one state of the store, and SQLite
 * takes its WAL read lock once instead of once per statement (measured: a sixth of the
 * API's time went to those locks). */
static bool read_begin(struct web_thread *th)
{
	return store_begin(th->reader) == STORE_OK;
}

static void read_end(struct web_thread *th, bool begun)
{
	if (begun && store_commit(th->reader) != STORE_OK)
		store_rollback(th->reader);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_error(struct web_thread *th, struct web_reply *reply, int status,
		       const char *msg)
{
	web_reply_json(th, reply, status, json_pack("{s:s}", "error", msg));
}

/* What is wrong with an input that is not one address, in one sentence. */
static const char *input_problem(const struct web_input *in)
{
	switch (in->kind) {
	case WEB_INPUT_EMPTY: return "no address given";
	case WEB_INPUT_CIDR: return "a range, not one address: the list names single addresses; "
				    "look up each sending server";
	case WEB_INPUT_HOSTNAME: return "a host name, not an address: look up its address "
					"(dig +short NAME) and then that";
	case WEB_INPUT_TOOLONG: return "too long to be an address";
	default: return "not an IPv4 or IPv6 address";
	}
}

static void api_lookup(struct web_server *srv, struct web_thread *th, const struct web_route *r,
		       struct web_reply *reply, bool history)
{
	struct web_input in;
	web_input_parse(r->arg, r->arg_len, &in);
	if (in.kind != WEB_INPUT_IP) {
		json_error(th, reply, 400, input_problem(&in));
		return;
	}
	int64_t now = time_now();
	json_t *o = NULL;
	int rc;
	bool begun = read_begin(th);
	if (history) {
		struct ctl_history h;
		rc = ctl_query_history(web_svc(srv), th->reader, in.ip, now, &h);
		if (rc == CTL_OK)
			o = ctl_history_json(&h);
	} else {
		struct ctl_status s;
		rc = ctl_query_status(web_svc(srv), th->reader, in.ip, now, &s);
		if (rc == CTL_OK)
			o = ctl_status_json(&s); /* the same JSON as `trapline check --json` */
	}
	read_end(th, begun);
	if (rc != CTL_OK) {
		json_error(th, reply, 503, "the list cannot be read just now");
		return;
	}
	reply->cache = "no-cache";
	web_reply_json(th, reply, 200, o);
}

/* The figures of the home page, counted at most every 10 s whatever the traffic: a count of
 * a million listings takes tens of milliseconds. */
static int figures(struct web_server *srv, struct web_thread *th, struct ctl_figures *out)
{
	int rc = CTL_OK;
	pthread_mutex_lock(&srv->lock);
	uint64_t now_ns = time_mono_ns();
	if (!srv->figures_ns || now_ns - srv->figures_ns > FIGURES_TTL_NS) {
		bool begun = read_begin(th);
		rc = ctl_query_figures(web_svc(srv), th->reader, time_now(), &srv->figures);
		read_end(th, begun);
		srv->figures_ns = rc == CTL_OK ? now_ns : 0;
	}
	*out = srv->figures;
	pthread_mutex_unlock(&srv->lock);
	return rc;
}

void web_page_api_lookup(struct web_server *srv, struct web_thread *th,
			 const struct web_request *req, struct web_reply *reply)
{
	api_lookup(srv, th, &req->route, reply, false);
}

void web_page_api_history(struct web_server *srv, struct web_thread *th,
			  const struct web_request *req, struct web_reply *reply)
{
	api_lookup(srv, th, &req->route, reply, true);
}

void web_page_api_figures(struct web_server *srv, struct web_thread *th,
			  const struct web_request *req, struct web_reply *reply)
{
	struct ctl_figures f;
	if (figures(srv, th, &f) != CTL_OK)
		json_error(th, reply, 503, "the list cannot be read just now");
	else
		web_reply_json(th, reply, 200, ctl_figures_json(&f));
}

void web_page_api_index(struct web_server *srv, struct web_thread *th,
			const struct web_request *req, struct web_reply *reply)
{
	web_reply_json(th, reply, 200,
		       json_pack("{s:s,s:[s,s,s,s,s,s],s:s}", "api", "trapline v1", "endpoints",
				 "/api/v1/lookup/IP", "/api/v1/history/IP", "/api/v1/figures",
				 "/api/v1/reports", "/api/v1/reports/ID", "/api/v1/evidence",
				 "documentation", "/about/usage#api"));
}

/* ---- the pages --------------------------------------------------------------------------- */

/* A time and how far it is from now ("in 23 hours"); both absent when t is 0. */
static void put_time(struct web_vals *p, const char *name, const char *rel_name, int64_t t,
		     int64_t now)
{
	web_vals_time(p, name, t);
	web_vals_relative(p, rel_name, t, now);
}

static void put_figures(struct web_vals *p, const struct ctl_figures *f, int64_t now)
{
	web_vals_printf(p, "listed", "%llu", (unsigned long long)f->listed);
	web_vals_printf(p, "traps_1h", "%llu", (unsigned long long)f->traps_1h);
	web_vals_printf(p, "reports_1h", "%llu", (unsigned long long)f->reports_1h);
	web_vals_printf(p, "traps_24h", "%llu", (unsigned long long)f->traps_24h);
	web_vals_printf(p, "reports_24h", "%llu", (unsigned long long)f->reports_24h);
	put_time(p, "figures_at", "figures_ago", f->at, now);
}

void web_page_home(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		   struct web_reply *reply)
{
	struct web_vals p = {0};
	struct ctl_figures f;
	int64_t now = time_now();
	bool ok = figures(srv, th, &f) == CTL_OK;
	web_vals_flag(&p, "figures", ok);
	if (ok)
		put_figures(&p, &f, now);
	web_vals_page(srv, th, &p, "home.html", "Look up an address", reply);
	web_vals_free(&p);
}

/* A score as every reader shows it (policy_score_shown): "7.999", "10.0". */
static void put_score(struct web_vals *p, const char *name, double v)
{
	char buf[POLICY_SCORE_STRLEN];
	web_vals_printf(p, name, "%s", policy_score_format(v, buf));
}

/* Which kinds of trap mail were counted, each with the words the policy has for it. */
static void put_classes(struct web_vals *p, const struct ctl_status *s)
{
	static const char *const names[] = {"class_spam", "class_bounce", "class_autoreply",
					    "class_virus", "class_unknown"};
	static const char *const words[] = {"class_spam_words", "class_bounce_words",
					    "class_autoreply_words", "class_virus_words",
					    "class_unknown_words"};
	for (int c = STORE_CLASS_SPAM; c <= STORE_CLASS_UNKNOWN; c++) {
		if (s->trap_classes[c])
			web_vals_printf(p, names[c], "%u", s->trap_classes[c]);
		else
			web_vals_text(p, names[c], NULL);
		web_vals_text(p, words[c], policy_class_words((enum evidence_class)c)->description);
	}
}

/* The advice of a meaning as list items, each escaped by the one template function. */
static void advice_html(struct web_buf *b, const struct policy_meaning *m)
{
	static const char item[] = "<li>{{a}}</li>\n";
	char err[64];
	for (size_t i = 0; m && m->advice && m->advice[i]; i++) {
		struct web_var v = {"a", WEB_TEXT, m->advice[i]};
		if (web_render(b, item, sizeof(item) - 1, &v, 1, err, sizeof(err)) != WEB_OK)
			b->oom = true;
	}
}

/* What the listing means and what to check, from the policy's one table (ctl's status
 * carries it): the same words as check, explain, the JSON and the TXT record. */
static void put_meaning(struct web_vals *p, const struct ctl_status *s)
{
	const struct policy_meaning *m = s->listed ? s->meaning : NULL;
	web_vals_text(p, "meaning_what", m ? m->what : NULL);
	web_vals_text(p, "meaning_usually", m ? m->usually : NULL);
	web_vals_text(p, "meaning_short", m ? m->txt : NULL);
	struct web_buf advice;
	web_buf_init(&advice);
	advice_html(&advice, m);
	web_vals_html(p, "advice", web_vals_own(p, &advice));
}

static void put_status(struct web_server *srv, struct web_vals *p, const struct ctl_status *s)
{
	int64_t now = s->at;
	char ip[IP_STRLEN];
	ip_format(s->ip, ip);
	web_vals_printf(p, "ip", "%s", ip);
	/* The RFC 5782 test points have a section of their own: none of the evidence, the
	 * expiry or the review of a listing applies to them. */
	web_vals_flag(p, "test_point", s->test_point);
	web_vals_flag(p, "test_point_listed", s->test_point && s->listed);
	web_vals_flag(p, "test_point_unlisted", s->test_point && !s->listed);
	bool listed = s->listed && !s->test_point;
	web_vals_flag(p, "listed", listed);
	web_vals_flag(p, "reason_traps", listed && s->reason == POLICY_REASON_TRAPS);
	web_vals_flag(p, "reason_reports", listed && s->reason == POLICY_REASON_REPORTS);
	web_vals_flag(p, "reason_both", listed && s->reason == POLICY_REASON_BOTH);
	web_vals_text(p, "detail", listed ? evidence_class_name(s->detail) : NULL);
	put_meaning(p, s);
	web_vals_flag(p, "has_since", listed && s->listed_since);
	put_time(p, "since", "since_rel", listed ? s->listed_since : 0, now);
	web_vals_flag(p, "has_expires", s->expires_at != 0);
	put_time(p, "expires", "expires_rel", s->expires_at, now);
	bool expired = !s->listed && s->why_not && strcmp(s->why_not, POLICY_WHY_EXPIRED) == 0;
	web_vals_flag(p, "expired", expired);
	web_vals_text(p, "why_not", s->why_not);
	put_score(p, "score", s->score);
	put_score(p, "threshold", s->threshold);
	web_vals_printf(p, "traps_24h", "%u", s->traps_24h);
	web_vals_printf(p, "reports_24h", "%u", s->reports_24h);
	web_vals_printf(p, "traps_7d", "%u", s->traps_7d);
	web_vals_printf(p, "reports_7d", "%u", s->reports_7d);
	web_vals_flag(p, "any_evidence", s->store_traps + s->store_reports > 0);
	put_classes(p, s);
	web_vals_flag(p, "excluded", s->excluded);
	web_vals_flag(p, "excluded_default", s->excluded_by_default);
	char pre[IP_PREFIX_STRLEN];
	ip_prefix_format(&s->exclusion, pre, sizeof(pre));
	web_vals_printf(p, "exclusion", "%s", pre);
	web_vals_flag(p, "exclusion_until", s->excluded && s->exclusion_until);
	put_time(p, "exclusion_end", "exclusion_end_rel", s->excluded ? s->exclusion_until : 0, now);
	web_vals_flag(p, "delisted", s->delisted_at != 0);
	put_time(p, "delisted_at", "delisted_rel", s->delisted_at, now);
	/* Held back: the evidence reaches the list's usual bar, but this network's reputation
	 * points raise it for this address. */
	bool held = !s->listed && !s->excluded && s->has_reputation && s->why_not &&
		    strcmp(s->why_not, POLICY_WHY_BELOW) == 0 &&
		    s->score >= web_svc(srv)->policy.threshold;
	web_vals_flag(p, "held_back", held);
	ip_prefix_format(&s->reputation, pre, sizeof(pre));
	web_vals_printf(p, "reputation_prefix", "%s", pre);
	put_score(p, "base_threshold", web_svc(srv)->policy.threshold);
}

/* The answer to a lookup box holding something other than one address. */
static void lookup_input_page(struct web_server *srv, struct web_thread *th, struct web_vals *p,
			      const struct web_input *in, struct web_reply *reply)
{
	web_vals_flag(p, "result", false);
	web_vals_flag(p, "problem", in->kind != WEB_INPUT_EMPTY);
	web_vals_flag(p, "is_cidr", in->kind == WEB_INPUT_CIDR);
	web_vals_flag(p, "is_hostname", in->kind == WEB_INPUT_HOSTNAME);
	web_vals_flag(p, "is_bad", in->kind == WEB_INPUT_BAD || in->kind == WEB_INPUT_TOOLONG);
	web_vals_flag(p, "host_bits", in->prefix_host_bits);
	char a[IP_STRLEN], pre[IP_PREFIX_STRLEN];
	ip_format(in->ip, a);
	ip_prefix_format(&in->prefix, pre, sizeof(pre));
	web_vals_printf(p, "typed_ip", "%s", a);
	web_vals_printf(p, "prefix", "%s", pre);
	reply->status = in->kind == WEB_INPUT_EMPTY ? 200 : 400;
	web_vals_page(srv, th, p, "lookup.html",
		      in->kind == WEB_INPUT_EMPTY ? "Look up an address" : "Not an address", reply);
}

void web_page_lookup(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		     struct web_reply *reply)
{
	struct web_vals p = {0};
	struct web_input in;
	const char *q = req->query_ip;
	web_input_parse(q ? q : "", q ? req->query_ip_len : 0, &in);
	web_vals_text(&p, "input", in.text);
	if (in.kind != WEB_INPUT_IP) {
		lookup_input_page(srv, th, &p, &in, reply);
		web_vals_free(&p);
		return;
	}
	int64_t now = time_now();
	struct ctl_status s;
	struct ctl_history *h = malloc(sizeof(*h));
	bool begun = read_begin(th);
	int rc = h ? ctl_query_status(web_svc(srv), th->reader, in.ip, now, &s) : CTL_ENOMEM;
	if (rc == CTL_OK)
		rc = ctl_query_history(web_svc(srv), th->reader, in.ip, now, h);
	read_end(th, begun);
	if (rc != CTL_OK) {
		free(h);
		reply->status = 503;
		web_vals_flag(&p, "result", false);
		web_vals_page(srv, th, &p, "unavailable.html", "Try again later", reply);
		web_vals_free(&p);
		return;
	}
	web_vals_flag(&p, "result", true);
	web_vals_flag(&p, "problem", false);
	put_status(srv, &p, &s);
	struct web_buf svg;
	web_buf_init(&svg);
	web_svg_history(&svg, h);
	free(h);
	web_vals_html(&p, "chart", web_vals_own(&p, &svg));
	/* A listed address's page carries the review form (web_review.c). */
	struct web_buf form;
	web_buf_init(&form);
	if (s.listed && !s.test_point)
		web_review_form(srv, th, req, &s, &form, reply);
	web_vals_html(&p, "review_form", web_vals_own(&p, &form));
	char title[IP_STRLEN + 32];
	char ip[IP_STRLEN];
	ip_format(s.ip, ip);
	snprintf(title, sizeof(title), "%s %s", ip, s.listed ? "is listed" : "is not listed");
	web_vals_page(srv, th, &p, "lookup.html", title, reply);
	web_vals_free(&p);
}

/* A worked example of the live policy: what n trap hits and m fresh reports from `reporters`
 * reporters (the reports shared among them in turn) score, and whether that lists an
 * address. */
static void example(struct web_server *srv, struct web_vals *p, const char *name,
		    const char *verdict, unsigned traps, unsigned reports, unsigned reporters)
{
	struct policy_evidence ev[16];
	size_t n = 0;
	int64_t now = time_now();
	for (unsigned i = 0; i < traps && n < 16; i++, n++)
		ev[n] = (struct policy_evidence){.received_at = now - 60 * (int64_t)(n + 1),
						 .seq = (int64_t)n + 1, .trap = true,
						 .cls = EVIDENCE_SPAM};
	/* Fresh: received now, so that the page shows what a report weighs when new (4, not the
	 * 3.998 of a report two minutes old). */
	for (unsigned i = 0; i < reports && n < 16; i++, n++)
		ev[n] = (struct policy_evidence){.received_at = now,
						 .seq = (int64_t)n + 1, .trap = false,
						 .cls = EVIDENCE_SPAM,
						 .reporter = 1 + i % (reporters ? reporters : 1)};
	struct policy_result r;
	if (policy_evaluate(&web_svc(srv)->policy, ev, n, NULL, now, &r, NULL) != POLICY_OK)
		memset(&r, 0, sizeof(r));
	put_score(p, name, r.score);
	if (r.listed)
		web_vals_printf(p, verdict, "listed");
	else
		web_vals_printf(p, verdict, "not listed (%s)", r.why_not ? r.why_not : "-");
}

static void put_duration(struct web_vals *p, const char *name, int64_t s)
{
	struct web_buf b;
	web_buf_init(&b);
	web_duration(&b, s);
	web_vals_text(p, name, web_vals_own(p, &b));
}

/* Every meaning of the policy's table, with its advice, for the listing page: trap hits alone
 * and with reports by the class most of them had, and reports alone. out->oom when one could
 * not be made: the 500 page, not a page with a hole in it. */
static void reasons_html(struct web_server *srv, struct web_buf *out)
{
	static const enum evidence_class classes[] = {EVIDENCE_SPAM, EVIDENCE_BOUNCE,
						      EVIDENCE_AUTOREPLY, EVIDENCE_VIRUS};
	static const enum policy_reason reasons[] = {POLICY_REASON_TRAPS, POLICY_REASON_REPORTS,
						     POLICY_REASON_BOTH};
	for (size_t r = 0; r < 3; r++) {
		size_t n = reasons[r] == POLICY_REASON_REPORTS ? 1 : 4;
		for (size_t c = 0; c < n; c++) {
			const struct policy_meaning *m = policy_meaning(reasons[r], classes[c]);
			struct web_vals v = {0};
			struct web_buf advice;
			web_buf_init(&advice);
			advice_html(&advice, m);
			web_vals_text(&v, "reason", policy_reason_name(reasons[r]));
			web_vals_text(&v, "class", n == 1 ? "" : evidence_class_name(classes[c]));
			web_vals_text(&v, "what", m->what);
			web_vals_text(&v, "usually", m->usually);
			web_vals_html(&v, "advice", web_vals_own(&v, &advice));
			if (web_vals_part(srv, &v, "reason.html", out) != WEB_OK)
				out->oom = true;
			web_vals_free(&v);
		}
	}
}

void web_page_listing(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		      struct web_reply *reply)
{
	struct web_vals p = {0};
	struct web_buf reasons;
	web_buf_init(&reasons);
	reasons_html(srv, &reasons);
	web_vals_html(&p, "reasons", web_vals_own(&p, &reasons));
	const struct policy_config *c = &web_svc(srv)->policy;
	web_vals_printf(&p, "report_fresh", "%g", c->report_fresh);
	web_vals_printf(&p, "report_old", "%g", c->report_old);
	put_duration(&p, "report_decay", c->report_decay_s);
	put_duration(&p, "window", c->window_s);
	web_vals_printf(&p, "trap_weight", "%g", c->trap_weight);
	web_vals_printf(&p, "trap_square_from", "%u", c->trap_square_from);
	web_vals_printf(&p, "threshold", "%g", c->threshold);
	web_vals_printf(&p, "min_evidence", "%u", c->min_evidence);
	web_vals_printf(&p, "min_reporters", "%u", c->min_reporters);
	web_vals_flag(&p, "special_excluded", web_svc(srv)->special_excluded);
	put_duration(&p, "listing", c->listing_s);
	put_duration(&p, "two_reports", c->two_reports_s);
	example(srv, &p, "ex_one_trap", "ex_one_trap_verdict", 1, 0, 0);
	example(srv, &p, "ex_two_traps", "ex_two_traps_verdict", 2, 0, 0);
	example(srv, &p, "ex_one_report", "ex_one_report_verdict", 0, 1, 1);
	example(srv, &p, "ex_two_reports_one", "ex_two_reports_one_verdict", 0, 2, 1);
	example(srv, &p, "ex_two_reports", "ex_two_reports_verdict", 0, 2, 2);
	example(srv, &p, "ex_trap_report", "ex_trap_report_verdict", 1, 1, 1);
	web_vals_page(srv, th, &p, "listing.html", "How listing works", reply);
	web_vals_free(&p);
}

/* The limits in force (docs/rrl.md), for the usage page's "limits" section. */
static void usage_limits(struct web_vals *p, const struct web_config *c)
{
	char a[IP4_STRLEN];
	ip4_format(c->answer_a_excess, a);
	web_vals_printf(p, "answer_a_excess", "%s", a);
	ip4_format(c->answer_a_public_resolver, a);
	web_vals_printf(p, "answer_a_public_resolver", "%s", a);
	web_vals_flag(p, "usage_limit", c->usage_limit_per_day > 0);
	web_vals_printf(p, "usage_limit_per_day", "%u", c->usage_limit_per_day);
	web_vals_flag(p, "public_resolvers", c->public_resolvers);
	web_vals_flag(p, "rrl", c->rrl_rate > 0);
	web_vals_printf(p, "rrl_rate", "%u", c->rrl_rate);
	web_vals_flag(p, "rrl_slip", c->rrl_slip > 0);
	web_vals_flag(p, "rrl_slip_one", c->rrl_slip == 1);
	web_vals_printf(p, "rrl_slip_n", "%u", c->rrl_slip);
	web_vals_printf(p, "rrl_ipv4_prefix", "%u", c->rrl_ipv4_prefix);
	web_vals_printf(p, "rrl_ipv6_prefix", "%u", c->rrl_ipv6_prefix);
}

void web_page_usage(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		    struct web_reply *reply)
{
	struct web_vals p = {0};
	const struct web_config *c = web_live(srv); /* the answers and limits change on a reload */
	char a[IP4_STRLEN];
	ip4_format(c->answer_a, a);
	web_vals_printf(&p, "answer_a", "%s", a);
	/* What a listing answers by its reason: one line when the three agree (the default). */
	static const char *const names[3] = {"answer_a_traps", "answer_a_reports", "answer_a_both"};
	bool same = true;
	for (int i = 0; i < 3; i++) {
		ip4_format(c->answer_a_reason[i], a);
		web_vals_printf(&p, names[i], "%s", a);
		same = same && c->answer_a_reason[i] == c->answer_a_reason[0];
	}
	web_vals_flag(&p, "answer_a_same", same);
	/* The TXT a listed 192.0.2.1 gets when its listing is on traps and reports: the template
	 * with '$' and {reason} replaced, as the writer does. */
	const char *reason = policy_meaning(POLICY_REASON_BOTH, EVIDENCE_SPAM)->txt;
	struct web_buf txt;
	web_buf_init(&txt);
	for (const char *src = c->answer_txt ? c->answer_txt : ""; *src;) {
		if (*src == '$') {
			web_buf_adds(&txt, "192.0.2.1");
			src++;
		} else if (strncmp(src, "{reason}", 8) == 0) {
			web_buf_adds(&txt, reason);
			src += 8;
		} else {
			web_buf_add(&txt, src++, 1);
		}
	}
	web_vals_text(&p, "answer_txt", web_vals_own(&p, &txt));
	usage_limits(&p, c);
	web_vals_page(srv, th, &p, "usage.html", "How to use the list", reply);
	web_vals_free(&p);
}

static void static_file(struct web_server *srv, struct web_thread *th,
			const struct web_request *req, const struct web_route *r,
			struct web_reply *reply)
{
	const struct web_file *f = web_file_find(srv, r->arg, r->arg_len);
	if (!f || !f->is_static) {
		web_page_not_found(srv, th, req, reply);
		return;
	}
	reply->file = f;
	reply->type = f->type;
	reply->cache = "public, max-age=3600";
}

void web_page_static(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		     struct web_reply *reply)
{
	static_file(srv, th, req, &req->route, reply);
}

void web_page_favicon(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		      struct web_reply *reply)
{
	static const struct web_route icon = {WEB_R_STATIC, "icon.svg", 8};
	static_file(srv, th, req, &icon, reply);
}
