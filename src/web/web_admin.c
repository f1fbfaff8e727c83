/* web_admin.c - the moderators' pages: login (locked out after repeated failures), logout,
 * the queue of review requests, one request with the evidence against its address and the
 * samples of its trap hits (trap addresses masked), and the decisions, each checked against
 * the session and its token before the writer is asked, and by the writer again in the
 * decision's transaction. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "web_internal.h"

#define SESSION_COOKIE "tl_session"
#define SESSION_PATH "/admin"
#define REASON_MAX 900

/* The live session of the request's cookie, and its token; false when there is none. */
static bool session_of(struct web_thread *th, const struct web_request *req,
		       struct store_session *s, char token[CTL_TOKEN_LEN + 1])
{
	const char *v = NULL;
	size_t n = 0;
	if (!req->cookie ||
	    web_cookie_get(req->cookie, strlen(req->cookie), SESSION_COOKIE, &v, &n) != WEB_OK ||
	    n != CTL_TOKEN_LEN)
		return false;
	if (ctl_session_get(th->reader, v, n, time_now(), s) != CTL_OK)
		return false;
	memcpy(token, v, CTL_TOKEN_LEN);
	token[CTL_TOKEN_LEN] = '\0';
	return true;
}

/* The bar above every moderator's page: who is logged in, and the logout button. */
static void admin_bar(struct web_server *srv, const struct store_session *s, const char *token,
		      struct web_vals *p)
{
	char csrf[WEB_CSRF_LEN + 1];
	web_csrf_make(srv->guard->key, "admin", token, CTL_TOKEN_LEN, "logout", time_now(), csrf);
	struct web_vals b = {0};
	web_vals_text(&b, "moderator", s->name);
	web_vals_text(&b, "csrf_token", csrf);
	struct web_buf out;
	web_buf_init(&out);
	if (web_vals_part(srv, &b, "admin-bar.html", &out) != WEB_OK)
		p->oom = true;
	web_vals_free(&b);
	web_vals_html(p, "admin_bar", web_vals_own(p, &out));
}

/* ---- login and logout ---------------------------------------------------------------------- */

static void login_page(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		       struct web_reply *reply, int status, const char *problem, const char *name)
{
	char cookie[33], csrf[WEB_CSRF_LEN + 1];
	web_csrf_cookie(srv, req, reply, cookie);
	web_csrf_make(srv->guard->key, "login", cookie, 32, NULL, time_now(), csrf);
	struct web_vals p = {0};
	reply->status = status;
	web_vals_text(&p, "csrf_token", csrf);
	web_vals_text(&p, "problem", problem);
	web_vals_text(&p, "username", name);
	web_vals_page_private(srv, th, &p, "admin-login.html", "Moderators: log in", reply);
	web_vals_free(&p);
}

static void redirect(struct web_thread *th, struct web_reply *reply, const char *to)
{
	reply->status = 303;
	web_reply_header(reply, MHD_HTTP_HEADER_LOCATION, "%s", to);
	web_buf_adds(&th->body, "303 see ");
	web_buf_adds(&th->body, to);
	web_buf_adds(&th->body, "\n");
}

static const char *const login_fields[] = {"username", "password", "csrf_token", NULL};

static bool login_token_ok(struct web_server *srv, const struct web_request *req,
			   const struct web_form *f)
{
	const char *cookie = NULL, *token;
	size_t clen = 0, tlen;
	if (!web_same_origin(req) || !web_csrf_cookie_sent(req, &cookie, &clen))
		return false;
	token = web_form_get(f, "csrf_token", &tlen);
	return web_csrf_check(srv->guard->key, "login", cookie, clen, NULL, time_now(), token,
			      tlen);
}

static void login_locked(struct web_server *srv, struct web_thread *th,
			 const struct web_request *req, struct web_reply *reply, int64_t wait,
			 const char *name)
{
	char msg[160], client[IP_STRLEN], esc[TEXT_ESCAPED_MAX(STORE_NAME_MAX)];
	ip_format(req->client, client);
	log_warn("web", "login refused reason=locked name=\"%s\" client=%s retry_after=%lld",
		 text_escape(name, esc, sizeof(esc)), client, (long long)wait);
	snprintf(msg, sizeof(msg), "Too many failed logins: logins of this name or from this "
				   "address are locked for %lld more minutes.",
		 (long long)(wait + 59) / 60);
	web_reply_header(reply, MHD_HTTP_HEADER_RETRY_AFTER, "%lld", (long long)wait);
	login_page(srv, th, req, reply, 429, msg, name);
}

static void login_post(struct web_server *srv, struct web_thread *th,
		       const struct web_request *req, struct web_reply *reply)
{
	struct web_form f;
	char why[128];
	if (web_form_parse(req->body, req->body_len, login_fields, &f, why, sizeof(why)) != WEB_OK) {
		login_page(srv, th, req, reply, 400, why, NULL);
		return;
	}
	size_t nlen = 0, plen = 0;
	const char *name = web_form_get(&f, "username", &nlen);
	const char *pw = web_form_get(&f, "password", &plen);
	char shown[STORE_NAME_MAX];
	snprintf(shown, sizeof(shown), "%.*s", (int)(nlen < STORE_NAME_MAX ? nlen : 0),
		 name ? name : "");
	if (!login_token_ok(srv, req, &f)) {
		login_page(srv, th, req, reply, 403,
			   "This form has expired or did not come from this site: log in again.",
			   NULL);
		web_form_free(&f);
		return;
	}
	int64_t now = time_now();
	/* Counted before the password is looked at: a locked name costs no hashing at all. */
	int64_t wait = web_lockout_try(srv->guard->lockout, shown, req->client, now);
	if (wait > 0) {
		login_locked(srv, th, req, reply, wait, shown);
		web_form_free(&f);
		return;
	}
	char token[CTL_TOKEN_LEN + 1];
	struct store_session s;
	int rc = name && pw && nlen == strlen(name) && nlen < STORE_NAME_MAX
			 ? ctl_moderator_login(web_svc(srv), th->reader, shown, pw, plen, now, token, &s)
			 : CTL_ENOTFOUND;
	web_lockout_done(srv->guard->lockout, shown, req->client, rc == CTL_OK, now);
	char client[IP_STRLEN], esc[TEXT_ESCAPED_MAX(STORE_NAME_MAX)];
	ip_format(req->client, client);
	if (rc == CTL_OK) {
		web_reply_cookie(reply, SESSION_COOKIE, token, SESSION_PATH,
				 (long)(s.expires_at - now), srv->cfg.secure);
		redirect(th, reply, "/admin/");
	} else if (rc == CTL_ENOTFOUND) {
		log_warn("web", "login failed name=\"%s\" client=%s",
			 text_escape(shown, esc, sizeof(esc)), client);
		login_page(srv, th, req, reply, 403, "Wrong name or password.", shown);
	} else {
		login_page(srv, th, req, reply, 503, "The login could not be stored: try again.",
			   shown);
	}
	sodium_memzero(token, sizeof(token));
	web_form_free(&f);
}

/* The form's token: made for this session (and this ticket, or "logout"), recently. */
static bool admin_token_ok(struct web_server *srv, const struct web_request *req,
			   const struct web_form *f, const char *session_token, const char *about)
{
	size_t tlen;
	const char *token = web_form_get(f, "csrf_token", &tlen);
	return web_same_origin(req) &&
	       web_csrf_check(srv->guard->key, "admin", session_token, CTL_TOKEN_LEN, about,
			      time_now(), token, tlen);
}

static const char *const logout_fields[] = {"csrf_token", NULL};

static void logout_post(struct web_server *srv, struct web_thread *th,
			const struct web_request *req, struct web_reply *reply)
{
	struct store_session s;
	char token[CTL_TOKEN_LEN + 1];
	struct web_form f;
	char why[128];
	if (!session_of(th, req, &s, token)) {
		login_page(srv, th, req, reply, 403, "You are not logged in.", NULL);
		return;
	}
	if (web_form_parse(req->body, req->body_len, logout_fields, &f, why, sizeof(why)) != WEB_OK) {
		web_message(srv, th, reply, 400, "The form could not be read", why, "/admin/",
			    "Back to the queue");
		return;
	}
	bool ok = admin_token_ok(srv, req, &f, token, "logout");
	web_form_free(&f);
	if (!ok) {
		web_message(srv, th, reply, 403, "The form has expired",
			    "This form is too old or did not come from this site.", "/admin/",
			    "Back to the queue");
		return;
	}
	int rc = ctl_session_end(web_svc(srv), &s);
	if (rc != CTL_OK && rc != CTL_ENOTFOUND) {
		web_message(srv, th, reply, 503, "Try again", "The logout could not be stored.",
			    "/admin/", "Back to the queue");
		return;
	}
	web_reply_cookie(reply, SESSION_COOKIE, "", SESSION_PATH, 0, srv->cfg.secure);
	redirect(th, reply, "/admin/login");
}

/* ---- the queue ------------------------------------------------------------------------------- */

static int queue_row(const struct store_ticket *t, void *arg)
{
	struct web_rows *c = arg;
	struct web_vals p = {0};
	web_ticket_vals(t, &p);
	/* Where the address stands now: a request about an address no longer listed is quick. */
	struct store_listing l;
	bool listed = store_listing_get(c->th->reader, t->ip, &l) == STORE_OK;
	web_vals_flag(&p, "listed_now", listed);
	web_vals_flag(&p, "more", t->joined_n > 0);
	web_vals_printf(&p, "requests", "%u", 1 + t->joined_n);
	return web_rows_add(c, &p, "admin-queue-row.html");
}

static void queue_page(struct web_server *srv, struct web_thread *th,
		       const struct web_request *req, const struct store_session *s,
		       const char *token, struct web_reply *reply)
{
	struct web_vals p = {0};
	struct web_buf rows;
	web_buf_init(&rows);
	struct web_rows c = {srv, th, &rows, 0, WEB_OK};
	int rc = store_ticket_foreach(th->reader, !req->query_all, queue_row, &c);
	if (rc != STORE_OK || c.rc != WEB_OK)
		p.oom = true; /* shown as the 500 page: a queue read halfway is no queue */
	admin_bar(srv, s, token, &p);
	web_vals_html(&p, "rows", web_vals_own(&p, &rows));
	web_vals_flag(&p, "any", c.n > 0);
	web_vals_flag(&p, "all", req->query_all);
	web_vals_printf(&p, "count", "%zu", c.n);
	reply->status = 200;
	web_vals_page_private(srv, th, &p, "admin-queue.html", "Review queue", reply);
	web_vals_free(&p);
}

/* ---- one request ----------------------------------------------------------------------------- */

static int sample_row(const struct ctl_sample *s, void *arg)
{
	struct web_rows *c = arg;
	struct web_vals p = {0};
	web_vals_time(&p, "at", s->received_at);
	web_vals_text(&p, "class", store_class_name(s->cls));
	web_vals_flag(&p, "envelope", s->envelope);
	web_vals_text(&p, "helo", s->helo[0] ? s->helo : NULL);
	web_vals_text(&p, "mail_from", s->mail_from[0] ? s->mail_from : "<>");
	web_vals_text(&p, "signals", s->signals[0] ? s->signals : NULL);
	web_vals_printf(&p, "size", "%llu", (unsigned long long)s->size);
	web_vals_printf(&p, "headers", "%.*s", (int)(s->sample ? s->sample_len : 0),
			s->sample ? s->sample : "");
	web_vals_flag(&p, "has_headers", s->sample && s->sample_len);
	return web_rows_add(c, &p, "admin-sample.html");
}

/* A stored analysis's string member; NULL when absent or empty (a section left out). */
static const char *member(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v && *v ? v : NULL;
}

/* One user report of the address, with the Received chain as the analysis read it: which hop
 * was trusted and why, which one was taken as the source and why. */
static int report_row(const struct store_report *r, void *arg)
{
	struct web_rows *c = arg;
	json_t *a = json_loads(r->analysis ? r->analysis : "", 0, NULL);
	struct web_vals p = {0};
	struct web_buf hops;
	web_buf_init(&hops);
	struct web_rows hr = {c->srv, c->th, &hops, 0, WEB_OK};
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(a, "hops"), i, h) {
		struct web_vals hp = {0};
		web_vals_printf(&hp, "n", "%zu", i + 1);
		web_vals_text(&hp, "verdict", member(h, "verdict"));
		web_vals_text(&hp, "ip", member(h, "ip"));
		web_vals_text(&hp, "rdns", member(h, "rdns"));
		web_vals_text(&hp, "helo", member(h, "helo"));
		web_vals_text(&hp, "by", member(h, "by"));
		web_vals_text(&hp, "why", member(h, "why"));
		web_rows_add(&hr, &hp, "admin-hop.html");
	}
	if (hr.rc != WEB_OK)
		c->rc = hr.rc;
	char ip[IP_STRLEN];
	ip_format(r->source, ip);
	web_vals_time(&p, "at", r->received_at);
	web_vals_text(&p, "class", store_class_name(r->cls));
	web_vals_text(&p, "source", ip);
	web_vals_flag(&p, "forwarded", json_is_true(json_object_get(a, "forwarded")));
	web_vals_text(&p, "why", member(a, "why"));
	web_vals_html(&p, "hops", web_vals_own(&p, &hops));
	int stop = web_rows_add(c, &p, "admin-report.html");
	json_decref(a); /* after the row: its values point into the analysis */
	return stop;
}

/* Where the address stands now, as the lookup page says it, for the moderator. */
static void status_vals(struct web_server *srv, const struct ctl_status *st, struct web_vals *p)
{
	web_vals_flag(p, "listed_now", st->listed);
	web_vals_text(p, "reason_now", st->listed ? policy_reason_name(st->reason) : NULL);
	web_vals_text(p, "meaning_what", st->meaning ? st->meaning->what : NULL);
	web_vals_text(p, "meaning", st->meaning ? st->meaning->usually : NULL);
	web_vals_text(p, "why_not", st->why_not);
	web_vals_time(p, "since", st->listed ? st->listed_since : 0);
	web_vals_time(p, "expires", st->expires_at);
	char score[POLICY_SCORE_STRLEN], threshold[POLICY_SCORE_STRLEN];
	web_vals_printf(p, "score", "%s", policy_score_format(st->score, score));
	web_vals_printf(p, "threshold", "%s", policy_score_format(st->threshold, threshold));
	web_vals_printf(p, "traps_24h", "%u", st->traps_24h);
	web_vals_printf(p, "traps_7d", "%u", st->traps_7d);
	web_vals_printf(p, "reports_24h", "%u", st->reports_24h);
	web_vals_printf(p, "reports_7d", "%u", st->reports_7d);
	web_vals_printf(p, "traps_stored", "%u", st->store_traps);
	web_vals_printf(p, "reports_stored", "%u", st->store_reports);
	static const char *const names[] = {"class_spam", "class_bounce", "class_autoreply",
					    "class_virus", "class_unknown"};
	for (int k = STORE_CLASS_SPAM; k <= STORE_CLASS_UNKNOWN; k++) {
		if (st->trap_classes[k])
			web_vals_printf(p, names[k], "%u", st->trap_classes[k]);
		else
			web_vals_text(p, names[k], NULL);
	}
	web_vals_flag(p, "excluded_now", st->excluded);
	web_vals_flag(p, "delisted_now", st->delisted_at != 0);
	(void)srv;
}

/* The client a request came from: an IPv4 address, or an IPv6 /64 (web_client_key). */
static void client_vals(const struct store_ticket *t, struct web_vals *p)
{
	char client[IP_STRLEN];
	ip_format(t->client, client);
	web_vals_printf(p, "client", "%s%s", client, ip_is_v4(t->client) ? "" : "/64");
}

static int joined_row(const struct store_ticket *t, void *arg)
{
	struct web_rows *c = arg;
	struct web_vals p = {0};
	web_ticket_vals(t, &p);
	client_vals(t, &p);
	return web_rows_add(c, &p, "admin-joined.html");
}

static void ticket_admin(struct web_server *srv, struct web_thread *th,
			 const struct web_route *route, const struct store_session *s,
			 const char *token, struct web_reply *reply, int status, const char *problem)
{
	struct store_ticket *t = malloc(sizeof(*t));
	if (!t) {
		web_message(srv, th, reply, 503, "Try again later", "out of memory", "/admin/",
			    "Back to the queue");
		return;
	}
	if (!web_ticket_read(srv, th, route, t, reply)) {
		free(t);
		return;
	}
	/* A request that joined a ticket is read, and decided, on that ticket's page. */
	if (t->joined[0]) {
		char to[STORE_TICKET_ID_LEN + 16];
		snprintf(to, sizeof(to), "/admin/ticket/%s", t->joined);
		redirect(th, reply, to);
		free(t);
		return;
	}
	struct web_vals p = {0};
	web_ticket_vals(t, &p);
	char who[96];
	web_vals_text(&p, "moderator",
		      t->moderator[0] ? ctl_who_words(t->moderator, who, sizeof(who)) : NULL);
	client_vals(t, &p);
	struct web_buf joined;
	web_buf_init(&joined);
	struct web_rows jc = {srv, th, &joined, 0, WEB_OK};
	if (store_ticket_joined_foreach(th->reader, t->id, joined_row, &jc) != STORE_OK ||
	    jc.rc != WEB_OK)
		p.oom = true;
	web_vals_html(&p, "joined_rows", web_vals_own(&p, &joined));
	web_vals_flag(&p, "any_joined", jc.n > 0);
	web_vals_printf(&p, "joined_heading", "%zu more request%s about this address", jc.n,
			jc.n == 1 ? "" : "s");
	struct ctl_status st;
	if (ctl_query_status(web_svc(srv), th->reader, t->ip, time_now(), &st) != CTL_OK)
		p.oom = true;
	else
		status_vals(srv, &st, &p);
	if (web_ticket_events(srv, th, t->id, true, &p) != WEB_OK)
		p.oom = true;
	struct web_buf samples;
	web_buf_init(&samples);
	struct web_rows sc = {srv, th, &samples, 0, WEB_OK};
	if (ctl_review_samples(web_svc(srv), th->reader, t->ip, sample_row, &sc) != CTL_OK ||
	    sc.rc != WEB_OK)
		p.oom = true;
	web_vals_html(&p, "samples", web_vals_own(&p, &samples));
	web_vals_flag(&p, "any_samples", sc.n > 0);
	struct web_buf reports;
	web_buf_init(&reports);
	struct web_rows rc = {srv, th, &reports, 0, WEB_OK};
	if (store_report_recent(th->reader, t->ip, CTL_REPORTS_SHOWN, report_row, &rc) != STORE_OK ||
	    rc.rc != WEB_OK)
		p.oom = true;
	web_vals_html(&p, "reports", web_vals_own(&p, &reports));
	web_vals_flag(&p, "any_reports", rc.n > 0);
	char csrf[WEB_CSRF_LEN + 1];
	web_csrf_make(srv->guard->key, "admin", token, CTL_TOKEN_LEN, t->id, time_now(), csrf);
	web_vals_text(&p, "csrf_token", csrf);
	web_vals_text(&p, "problem", problem);
	admin_bar(srv, s, token, &p);
	reply->status = status;
	char title[64];
	snprintf(title, sizeof(title), "Request %.8s", t->id);
	web_vals_page_private(srv, th, &p, "admin-ticket.html", title, reply);
	web_vals_free(&p);
	free(t);
}

static const char *const decide_fields[] = {"csrf_token", "action", "reason", "days", NULL};

/* The decision a form asks for: its status, until when, and the reason; NULL, or what is
 * wrong. */
static const char *decision_read(const struct web_form *f, int64_t now,
				 enum store_ticket_status *st, int64_t *until, const char **why)
{
	size_t alen, rlen, dlen;
	const char *action = web_form_get(f, "action", &alen);
	const char *reason = web_form_get(f, "reason", &rlen);
	const char *days = web_form_get(f, "days", &dlen);
	if (!action)
		return "choose delist, exclude or reject";
	if (strcmp(action, "delist") == 0)
		*st = STORE_TICKET_DELISTED;
	else if (strcmp(action, "exclude") == 0)
		*st = STORE_TICKET_EXCLUDED;
	else if (strcmp(action, "reject") == 0)
		*st = STORE_TICKET_REJECTED;
	else
		return "choose delist, exclude or reject";
	while (reason && rlen && (reason[0] == ' ' || reason[0] == '\n' || reason[0] == '\r'))
		reason++, rlen--;
	if (!reason || rlen == 0)
		return "a reason is needed: the requester reads it, and the audit log keeps it";
	if (rlen > REASON_MAX || strlen(reason) != rlen)
		return "the reason is too long (900 characters at most)";
	for (size_t i = 0; i < rlen; i++) {
		unsigned char c = (unsigned char)reason[i];
		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
			return "the reason holds a control character";
	}
	*why = reason;
	*until = 0;
	if (*st == STORE_TICKET_EXCLUDED) {
		unsigned long n = days && dlen && dlen <= 4 && strspn(days, "0123456789") == dlen
					  ? strtoul(days, NULL, 10) : 0;
		if (n < 1 || n > 3650)
			return "an exclusion lasts 1 to 3650 days";
		*until = now + (int64_t)n * 86400;
	}
	return NULL;
}

static void decide_post(struct web_server *srv, struct web_thread *th, const struct web_route *route,
			const struct web_request *req, const struct store_session *s,
			const char *token, struct web_reply *reply)
{
	struct web_form f;
	char why[128], id[STORE_TICKET_ID_LEN + 1];
	snprintf(id, sizeof(id), "%.*s", (int)(route->arg_len == STORE_TICKET_ID_LEN ? route->arg_len : 0),
		 route->arg);
	if (web_form_parse(req->body, req->body_len, decide_fields, &f, why, sizeof(why)) != WEB_OK) {
		web_message(srv, th, reply, 400, "The form could not be read", why, "/admin/",
			    "Back to the queue");
		return;
	}
	if (!admin_token_ok(srv, req, &f, token, id)) {
		web_message(srv, th, reply, 403, "The form has expired",
			    "This form is too old, was made before the server restarted, or did not "
			    "come from this site: nothing was done. Open the request again.",
			    "/admin/", "Back to the queue");
		web_form_free(&f);
		return;
	}
	enum store_ticket_status st;
	int64_t until = 0;
	const char *reason = NULL;
	const char *problem = decision_read(&f, time_now(), &st, &until, &reason);
	if (problem) {
		ticket_admin(srv, th, route, s, token, reply, 400, problem);
		web_form_free(&f);
		return;
	}
	char who[64];
	snprintf(who, sizeof(who), "moderator:%.53s", s->name); /* names: 50 at most */
	struct writer_decision d;
	int rc = ctl_review_decide(web_svc(srv), id, st, until, who, reason, s->token_hash, &d);
	web_form_free(&f);
	char back[STORE_TICKET_ID_LEN + 16];
	snprintf(back, sizeof(back), "/admin/ticket/%s", id);
	if (rc == WRITER_OK)
		redirect(th, reply, back);
	else if (d.refusal == WRITER_REFUSED_SESSION)
		login_page(srv, th, req, reply, 403, "Your session has ended: log in again.", NULL);
	else if (d.refusal == WRITER_REFUSED_DECIDED && d.was_by_action)
		web_message(srv, th, reply, 409, "Closed already",
			    d.was == STORE_TICKET_DELISTED
				    ? "The operator delisted the address meanwhile, which closed this "
				      "request; nothing more was done."
				    : "The operator excluded the address meanwhile, which closed this "
				      "request; nothing more was done.",
			    back, "See the request");
	else if (d.refusal == WRITER_REFUSED_DECIDED)
		web_message(srv, th, reply, 409, "Decided already",
			    "Another decision on this request was made first; nothing more was done.",
			    back, "See the request");
	else if (d.refusal == WRITER_REFUSED_NO_TICKET)
		web_message(srv, th, reply, 404, "No such request", "There is no such request.",
			    "/admin/", "Back to the queue");
	else
		web_message(srv, th, reply, 503, "Try again", "The decision could not be stored.",
			    back, "See the request");
}

/* ---- the routes ------------------------------------------------------------------------------ */

void web_admin_login(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		     struct web_reply *reply)
{
	struct store_session s;
	char token[CTL_TOKEN_LEN + 1];
	if (req->post)
		login_post(srv, th, req, reply);
	else if (session_of(th, req, &s, token))
		redirect(th, reply, "/admin/");
	else
		login_page(srv, th, req, reply, 200, NULL, NULL);
	sodium_memzero(token, sizeof(token));
}

void web_admin_logout(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		      struct web_reply *reply)
{
	if (req->post) {
		logout_post(srv, th, req, reply);
		return;
	}
	reply->status = 405;
	reply->allow = "POST";
	web_buf_adds(&th->body, "405 log out with the button on the queue's pages\n");
}

void web_admin_page(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		    struct web_reply *reply)
{
	struct store_session s;
	char token[CTL_TOKEN_LEN + 1];
	/* Without a live session, the login form, refused (403). */
	if (!session_of(th, req, &s, token)) {
		login_page(srv, th, req, reply, 403, "Log in to see the review queue.", NULL);
		return;
	}
	if (req->route.id == WEB_R_ADMIN)
		queue_page(srv, th, req, &s, token, reply);
	else if (req->post)
		decide_post(srv, th, &req->route, req, &s, token, reply);
	else
		ticket_admin(srv, th, &req->route, &s, token, reply, 200, NULL);
	sodium_memzero(token, sizeof(token));
}
