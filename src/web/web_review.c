/* web_review.c - the review request: its form on a listed address's lookup page, the POST to
 * /review that files it (token, checks, limits: each refusal writes nothing), and the
 * requester's page /ticket/ID, which only its link opens. */
#include <stdlib.h>
#include <string.h>

#include "web_internal.h"

/* ---- the form ------------------------------------------------------------------------------- */

/* What the form shows: the address, a fresh token, and what was typed (when it comes back
 * with a problem). */
struct form_state {
	char ip[IP_STRLEN];
	const char *email, *fixed, *comment; /* NULL: empty */
	const char *field, *problem;         /* the refusal, or NULL */
	int64_t open_since;                  /* the address's open ticket was filed then (0: none) */
};

static const char *field_label(const char *field)
{
	if (!field)
		return "";
	if (strcmp(field, "email") == 0)
		return "Your e-mail address";
	if (strcmp(field, "fixed") == 0)
		return "What was fixed";
	if (strcmp(field, "comment") == 0)
		return "The comment";
	return "The address";
}

static int form_render(struct web_server *srv, const struct web_request *req,
		       struct web_reply *reply, const struct form_state *fs, struct web_buf *out)
{
	char cookie[33], token[WEB_CSRF_LEN + 1];
	web_csrf_cookie(srv, req, reply, cookie);
	web_csrf_make(srv->guard->key, "review", cookie, 32, fs->ip, time_now(), token);
	struct web_vals p = {0};
	web_vals_text(&p, "ip", fs->ip);
	web_vals_text(&p, "csrf_token", token);
	web_vals_printf(&p, "text_max", "%u", web_svc(srv)->review_text_max);
	web_vals_text(&p, "email", fs->email);
	web_vals_text(&p, "fixed", fs->fixed);
	web_vals_text(&p, "comment", fs->comment);
	web_vals_text(&p, "problem", fs->problem);
	web_vals_text(&p, "problem_field", field_label(fs->field));
	web_vals_flag(&p, "bad_email", fs->field && strcmp(fs->field, "email") == 0);
	web_vals_flag(&p, "bad_fixed", fs->field && strcmp(fs->field, "fixed") == 0);
	web_vals_flag(&p, "bad_comment", fs->field && strcmp(fs->field, "comment") == 0);
	web_vals_flag(&p, "open_ticket", fs->open_since != 0);
	web_vals_time(&p, "open_since", fs->open_since);
	int rc = web_vals_part(srv, &p, "review-form.html", out);
	web_vals_free(&p);
	return rc;
}

/* When the open ticket about ip was filed (0: there is none, or it cannot be read now): a
 * new request joins it, and the form says so. */
static int64_t open_ticket_since(struct web_thread *th, const uint8_t ip[16])
{
	char id[STORE_TICKET_ID_LEN + 1];
	if (store_ticket_open_head(th->reader, ip, id) != STORE_OK)
		return 0;
	struct store_ticket *t = malloc(sizeof(*t));
	int64_t at = t && store_ticket_get(th->reader, id, t) == STORE_OK ? t->created_at : 0;
	free(t);
	return at;
}

void web_review_form(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		     const struct ctl_status *s, struct web_buf *out, struct web_reply *reply)
{
	struct form_state fs = {0};
	ip_format(s->ip, fs.ip);
	fs.open_since = open_ticket_since(th, s->ip);
	if (form_render(srv, req, reply, &fs, out) != WEB_OK)
		web_buf_free(out); /* the page without the form rather than no page */
}

/* The form again, with what was typed and what is wrong with it. */
static void form_again(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		       struct web_reply *reply, int status, const struct form_state *typed)
{
	struct web_buf form;
	web_buf_init(&form);
	struct web_vals p = {0};
	struct form_state again = *typed;
	const struct form_state *fs = &again;
	uint8_t ip[16];
	if (ip_parse(again.ip, strlen(again.ip), ip) == BASE_OK)
		again.open_since = open_ticket_since(th, ip);
	reply->status = status;
	if (form_render(srv, req, reply, fs, &form) != WEB_OK) {
		web_buf_free(&form);
		reply->status = 500;
		web_buf_adds(&th->body, "500 the form could not be made\n");
		return;
	}
	web_vals_text(&p, "ip", fs->ip);
	web_vals_html(&p, "review_form", web_vals_own(&p, &form));
	char title[IP_STRLEN + 32];
	snprintf(title, sizeof(title), "Ask for a review of %s", fs->ip);
	web_vals_page_private(srv, th, &p, "review.html", title, reply);
	web_vals_free(&p);
}

static const char *const review_fields[] = {"ip", "email", "fixed", "comment", "csrf_token",
					    NULL};

/* The token: made for this browser's cookie and this address, recently, by this server. */
static bool review_token_ok(struct web_server *srv, const struct web_request *req,
			    const struct web_form *f)
{
	const char *cookie, *ip, *token;
	size_t clen, iplen, tlen;
	if (!web_same_origin(req) || !web_csrf_cookie_sent(req, &cookie, &clen))
		return false;
	ip = web_form_get(f, "ip", &iplen);
	token = web_form_get(f, "csrf_token", &tlen);
	if (!ip || !token || strlen(ip) != iplen)
		return false;
	return web_csrf_check(srv->guard->key, "review", cookie, clen, ip, time_now(), token,
			      tlen);
}

static void review_filed(struct web_server *srv, struct web_thread *th, struct web_reply *reply,
			 enum ctl_review_outcome o, const struct form_state *fs,
			 const struct store_ticket *t)
{
	char back[IP_STRLEN + 16];
	snprintf(back, sizeof(back), "/lookup?ip=%s", fs->ip);
	switch (o) {
	case CTL_REVIEW_FILED:
		reply->status = 303;
		web_reply_header(reply, MHD_HTTP_HEADER_LOCATION, "/ticket/%s", t->id);
		web_buf_adds(&th->body, "303 filed: see the ticket's page\n");
		return;
	case CTL_REVIEW_NOT_LISTED:
		web_message(srv, th, reply, 409, "Not listed",
			    "This address is not listed (any more), so there is nothing to review. "
			    "Look it up again to see where it stands.",
			    back, "Look it up again");
		return;
	case CTL_REVIEW_CLIENT_LIMIT:
	case CTL_REVIEW_IP_LIMIT:
		web_reply_header(reply, MHD_HTTP_HEADER_RETRY_AFTER, "3600");
		web_message(srv, th, reply, 429, "Too many requests",
			    o == CTL_REVIEW_IP_LIMIT
				    ? "The moderators have decided as many review requests about this "
				      "address today as they take in a day, and the listing stands. "
				      "It still ends by itself once no more spam comes from the "
				      "address; you may ask again tomorrow."
				    : "You have sent as many review requests as one may send in a day. "
				      "Please wait for the moderators' answers to those.",
			    back, "Back to the address");
		return;
	case CTL_REVIEW_UNAVAILABLE:
		break;
	}
	web_message(srv, th, reply, 503, "Try again later",
		    "The request could not be stored just now; nothing was kept. Please send it "
		    "again in a few minutes.",
		    back, "Back to the address");
}

void web_review_post(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		     struct web_reply *reply)
{
	if (!req->post) {
		reply->status = 405;
		reply->allow = "POST";
		web_buf_adds(&th->body, "405 a review request is sent with the form on the lookup "
					"page of a listed address\n");
		return;
	}
	struct web_form f;
	char why[128];
	if (web_form_parse(req->body, req->body_len, review_fields, &f, why, sizeof(why)) != WEB_OK) {
		web_message(srv, th, reply, 400, "The form could not be read",
			    why[0] ? why : "out of memory", "/", "Look up an address");
		return;
	}
	if (!review_token_ok(srv, req, &f)) {
		web_message(srv, th, reply, 403, "The form has expired",
			    "This form is too old, was made before the server restarted, or did not "
			    "come from this site's own page, so nothing was sent. Please look the "
			    "address up again and fill in the form there.",
			    "/", "Look up an address");
		web_form_free(&f);
		return;
	}
	struct store_ticket *t = calloc(1, sizeof(*t));
	struct ctl_review_input in = {0};
	in.ip = web_form_get(&f, "ip", &in.ip_len);
	in.email = web_form_get(&f, "email", &in.email_len);
	in.fixed = web_form_get(&f, "fixed", &in.fixed_len);
	in.comment = web_form_get(&f, "comment", &in.comment_len);
	struct form_state fs = {.email = in.email, .fixed = in.fixed, .comment = in.comment};
	snprintf(fs.ip, sizeof(fs.ip), "%.*s", (int)(in.ip_len < IP_STRLEN ? in.ip_len : 0), in.ip);
	const char *field = NULL;
	char problem[192];
	if (!t) {
		web_message(srv, th, reply, 503, "Try again later", "out of memory", "/", "Home");
	} else if (ctl_review_check(web_svc(srv), &in, t, &field, problem, sizeof(problem)) != CTL_OK) {
		fs.field = field;
		fs.problem = problem;
		form_again(srv, th, req, reply, 400, &fs);
	} else {
		ip_client_key(req->client, t->client);
		ip_format(t->ip, fs.ip);
		review_filed(srv, th, reply, ctl_review_file(web_svc(srv), t), &fs, t);
	}
	free(t);
	web_form_free(&f);
}

/* ---- the requester's page ------------------------------------------------------------------ */

void web_review_ticket(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		       struct web_reply *reply)
{
	struct store_ticket *t = malloc(sizeof(*t));
	if (!t) {
		web_message(srv, th, reply, 503, "Try again later", "out of memory", "/", "Home");
		return;
	}
	if (web_ticket_read(srv, th, &req->route, t, reply)) {
		struct web_vals p = {0};
		web_ticket_vals(t, &p);
		/* A rejection kept the listing then; whether it stands is today's answer. */
		struct store_listing l;
		web_vals_flag(&p, "listed_now", store_listing_get(th->reader, t->ip, &l) == STORE_OK);
		if (web_ticket_events(srv, th, t->id, false, &p) != WEB_OK)
			p.oom = true;
		reply->status = 200;
		web_vals_page_private(srv, th, &p, "ticket.html", "Your review request", reply);
		web_vals_free(&p);
	}
	free(t);
}
