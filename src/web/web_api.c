/* web_api.c - the report and evidence API: reporters post spam messages and fetch their own
 * reports, feeds post trap hits; each with its key in "Authorization: Bearer", checked before
 * any of the body is read. Every answer that says "stored" comes after the writer committed. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web_internal.h"

#define RETRY_S 5 /* Retry-After when the writer cannot take a request now */

bool web_bearer_parse(const char *header, const char **key, size_t *len)
{
	*key = NULL;
	*len = 0;
	if (!header || strncasecmp(header, "Bearer", 6) != 0 ||
	    (header[6] != ' ' && header[6] != '\t'))
		return false;
	const char *k = header + 6;
	while (*k == ' ' || *k == '\t')
		k++;
	size_t n = strcspn(k, " \t");
	if (n == 0 || k[n + strspn(k + n, " \t")] != '\0')
		return false; /* no token, or something after it */
	*key = k;
	*len = n;
	return true;
}

/* {"error": why}. why may quote what a client sent: anything outside printable ASCII becomes
 * '?', so the JSON can always be made (jansson takes UTF-8 only). */
static void api_error(struct web_thread *th, struct web_reply *reply, int status,
		      const char *why)
{
	char clean[512];
	snprintf(clean, sizeof(clean), "%s", why);
	for (char *c = clean; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	web_reply_json(th, reply, status, json_pack("{s:s}", "error", clean));
}

/* One answer for a key that is missing, malformed, unknown, removed or of the other kind: a
 * client learns nothing from which it was. */
static void unauthorized(struct web_thread *th, struct web_reply *reply,
			 enum store_holder_kind kind)
{
	web_reply_header(reply, "WWW-Authenticate", "Bearer realm=\"trapline\"");
	api_error(th, reply, 401, kind == STORE_HOLDER_FEED
					  ? "a feed's key is needed: Authorization: Bearer tlf_..."
					  : "a reporter's key is needed: Authorization: Bearer tlr_...");
}

static void unavailable(struct web_thread *th, struct web_reply *reply, const char *why)
{
	web_reply_header(reply, "Retry-After", "%d", RETRY_S);
	api_error(th, reply, 503, why);
}

/* The calling worker's unmapped reader (th->intake, store_map in store.h says why), opened at
 * its first use; NULL (logged) when the store cannot be opened. */
static struct store *intake_of(struct web_server *srv, struct web_thread *th)
{
	if (th->intake)
		return th->intake;
	int rc = store_open_mode(srv->cfg.data_dir, false, &th->intake);
	if (rc != STORE_OK) {
		log_err("web", "cannot open the store for reading reason=\"%s\"", tl_strerror(rc));
		th->intake = NULL;
	}
	return th->intake;
}

/* The holder whose key the request carries, as the route's ctx. Cookies are never looked at:
 * a browser sends those by itself, a key only when its owner's program puts it there, so
 * there is nothing for another site to forge (no CSRF) and no session to ride on. */
static bool admit_holder(struct web_server *srv, struct web_thread *th,
			 const struct web_request *rq, enum store_holder_kind kind, void **ctx,
			 struct web_reply *reply)
{
	const char *key;
	size_t len;
	struct store *intake = intake_of(srv, th);
	if (!intake) {
		unavailable(th, reply, "the list cannot be read just now");
		return false;
	}
	struct store_holder *h = calloc(1, sizeof(*h));
	if (!h) {
		api_error(th, reply, 500, "out of memory");
		return false;
	}
	int rc = web_bearer_parse(rq->authorization, &key, &len)
			 ? ctl_holder_auth(intake, kind, key, len, h)
			 : CTL_ENOTFOUND;
	if (rc != CTL_OK) {
		free(h);
		if (rc == CTL_ENOTFOUND)
			unauthorized(th, reply, kind);
		else
			unavailable(th, reply, "the list cannot be read just now");
		return false;
	}
	*ctx = h;
	return true;
}

static bool admit_reporter(struct web_server *srv, struct web_thread *th,
			   const struct web_request *rq, void **ctx, struct web_reply *reply)
{
	return admit_holder(srv, th, rq, STORE_HOLDER_REPORTER, ctx, reply);
}

static bool admit_feed(struct web_server *srv, struct web_thread *th,
		       const struct web_request *rq, void **ctx, struct web_reply *reply)
{
	return admit_holder(srv, th, rq, STORE_HOLDER_FEED, ctx, reply);
}

/* ---- POST /api/v1/reports ------------------------------------------------------------- */

static size_t report_limit(const struct web_server *srv)
{
	return web_svc(srv)->report_max_size;
}

/* The report as JSON: 201 with its Location when new, 200 when it is one sent before. */
static void report_answer(struct web_thread *th, struct web_reply *reply,
			  const struct ctl_report_result *res, const struct store_holder *h,
			  int status)
{
	json_t *o = ctl_report_json(res, h->name);
	if (!o) {
		api_error(th, reply, 500, "the report is stored but cannot be shown");
		return;
	}
	web_reply_header(reply, status == 201 ? "Location" : "Content-Location",
			 "/api/v1/reports/%s", res->report.id);
	web_reply_json(th, reply, status, o);
}

static void report_post(struct web_server *srv, struct web_thread *th,
			const struct web_request *rq, void *ctx, struct web_reply *reply)
{
	const struct store_holder *h = ctx;
	struct store *intake = intake_of(srv, th);
	if (!intake) {
		unavailable(th, reply, "the list cannot be read just now");
		return;
	}
	struct ctl_report_result res;
	ctl_report_take(web_svc(srv), intake, h, rq->body, rq->body_len, &res);
	switch (res.outcome) {
	case CTL_REPORT_TAKEN: report_answer(th, reply, &res, h, 201); break;
	case CTL_REPORT_DUPLICATE: report_answer(th, reply, &res, h, 200); break;
	case CTL_REPORT_NOT_MESSAGE: api_error(th, reply, 400, res.why); break;
	case CTL_REPORT_TOO_BIG: api_error(th, reply, 413, res.why); break;
	case CTL_REPORT_LIMIT:
		web_reply_header(reply, "Retry-After", "%lld", (long long)res.retry_after);
		api_error(th, reply, 429, res.why);
		break;
	case CTL_REPORT_GONE: unauthorized(th, reply, STORE_HOLDER_REPORTER); break;
	case CTL_REPORT_UNAVAILABLE:
		log_warn("web", "report not taken reporter=%s reason=\"%s\"", h->name, res.why);
		web_reply_header(reply, "Retry-After", "%lld", (long long)res.retry_after);
		api_error(th, reply, 503, res.why);
		break;
	case CTL_REPORT_FAILED:
	default:
		log_err("web", "report failed reporter=%s reason=\"%s\"", h->name, res.why);
		api_error(th, reply, 500, res.why);
		break;
	}
	ctl_report_result_free(&res);
}

/* ---- GET /api/v1/reports/ID: the reporter's own only ----------------------------------- */

static void report_get(struct web_server *srv, struct web_thread *th,
		       const struct web_request *rq, void *ctx, struct web_reply *reply)
{
	const struct store_holder *h = ctx;
	char id[STORE_REPORT_ID_LEN + 1] = "";
	if (rq->route.arg_len == STORE_REPORT_ID_LEN) {
		memcpy(id, rq->route.arg, STORE_REPORT_ID_LEN);
		id[STORE_REPORT_ID_LEN] = '\0';
	}
	struct store *intake = intake_of(srv, th);
	if (!intake) {
		unavailable(th, reply, "the list cannot be read just now");
		return;
	}
	struct ctl_report_result res;
	/* Another reporter's id and one that does not exist get the same answer. */
	int rc = ctl_report_lookup(web_svc(srv), intake, h, id, time_now(), &res);
	if (rc == CTL_ENOTFOUND)
		api_error(th, reply, 404, "no such report");
	else if (rc != CTL_OK)
		unavailable(th, reply, "the list cannot be read just now");
	else
		web_reply_json(th, reply, 200, ctl_report_json(&res, h->name));
	ctl_report_result_free(&res);
}

/* ---- POST /api/v1/evidence ------------------------------------------------------------ */

static size_t evidence_limit(const struct web_server *srv)
{
	return (size_t)web_svc(srv)->feed_max_hits * CTL_FEED_HIT_BYTES;
}

/* {"feed", "stored": new hits, "duplicates": known ones, "new": [ids], "duplicate": [ids]}:
 * a hit without an id is counted, never named. */
static json_t *feed_answer(const char *feed, const struct ctl_feed_hit *hits, size_t n,
			   size_t stored)
{
	json_t *fresh = json_array(), *known = json_array();
	for (size_t i = 0; i < n; i++)
		if (hits[i].id[0])
			json_array_append_new(hits[i].duplicate ? known : fresh,
					      json_string(hits[i].id));
	return json_pack("{s:s,s:I,s:I,s:o,s:o}", "feed", feed, "stored", (json_int_t)stored,
			 "duplicates", (json_int_t)(n - stored), "new", fresh, "duplicate", known);
}

static void evidence_post(struct web_server *srv, struct web_thread *th,
			  const struct web_request *rq, void *ctx, struct web_reply *reply)
{
	const struct store_holder *h = ctx;
	size_t max = web_svc(srv)->feed_max_hits, n = 0;
	struct ctl_feed_hit *hits = calloc(max ? max : 1, sizeof(*hits));
	if (!hits) {
		api_error(th, reply, 500, "out of memory");
		return;
	}
	char err[512];
	long index = -1;
	int rc = ctl_feed_parse(rq->body, rq->body_len, time_now(), web_svc(srv)->policy.window_s,
				web_svc(srv)->special_excluded, max, hits, &n, &index, err, sizeof(err));
	if (rc != CTL_OK) {
		/* Nothing of the request is stored: one bad hit refuses them all. */
		json_t *o = json_pack("{s:s,s:o}", "error", err, "index",
				      index >= 0 ? json_integer(index) : json_null());
		web_reply_json(th, reply, 400, o);
		free(hits);
		return;
	}
	size_t stored = 0;
	rc = ctl_feed_take(web_svc(srv), h, hits, n, &stored);
	if (rc == CTL_OK) {
		log_info("web", "feed hits stored feed=%s hits=%zu stored=%zu duplicates=%zu",
			 h->name, n, stored, n - stored);
		/* 201 when something new was stored, 200 when every hit was known (as a report
		 * sent again); the ids say which was which, so that a node can drop both. */
		web_reply_json(th, reply, stored ? 201 : 200, feed_answer(h->name, hits, n, stored));
	} else if (rc == WRITER_EFULL || rc == WRITER_ESTOPPED || rc == WRITER_ESTORE) {
		log_warn("web", "feed hits not stored feed=%s hits=%zu reason=\"%s\"", h->name, n,
			 tl_strerror(rc));
		unavailable(th, reply, rc == WRITER_EFULL ? "not stored: the writer's queue is full"
							  : "not stored: the store cannot take them "
							    "just now");
	} else {
		log_err("web", "feed hits failed feed=%s reason=\"%s\"", h->name, tl_strerror(rc));
		api_error(th, reply, 500, "not stored: the service failed (see its log)");
	}
	free(hits);
}

/* ---- the table -------------------------------------------------------------------------- */

static const struct web_body_route body_routes[] = {
	{WEB_R_API_REPORTS, "POST", true, report_limit, admit_reporter, report_post},
	{WEB_R_API_REPORT, "GET, HEAD", true, NULL, admit_reporter, report_get},
	{WEB_R_API_EVIDENCE, "POST", true, evidence_limit, admit_feed, evidence_post},
};

const struct web_body_route *web_body_route_find(enum web_route_id id)
{
	for (size_t i = 0; i < sizeof(body_routes) / sizeof(body_routes[0]); i++)
		if (body_routes[i].id == id)
			return &body_routes[i];
	return NULL;
}
