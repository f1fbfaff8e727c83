/* web_dispatch.c - which handler answers each route, in one table, and the answer of a routed
 * request: the worker's state, the handler, the page sent. Above every page; the server's GETs
 * and the forms' POSTs (web_post.c) come here once the request is whole. The routes that read
 * a key or a body have their own table (web_api.c), which the server consults first. */
#include "web_internal.h"

/* A route's row, indexed by its id. */
static const struct {
	web_handler_fn *handler;
	const char *tmpl, *title; /* a page that is only its template: no handler */
	bool form;                /* a form is POSTed to it (web_post.c reads the body) */
} routes[] = {
	[WEB_R_NOTFOUND] = {.handler = web_page_not_found},
	[WEB_R_HOME] = {.handler = web_page_home},
	[WEB_R_LOOKUP] = {.handler = web_page_lookup},
	[WEB_R_END_USERS] = {.tmpl = "end-users.html", .title = "Your mail bounced?"},
	[WEB_R_LISTING] = {.handler = web_page_listing},
	[WEB_R_USAGE] = {.handler = web_page_usage},
	[WEB_R_WARRANTY] = {.tmpl = "warranty.html", .title = "No warranty"},
	[WEB_R_STATIC] = {.handler = web_page_static},
	[WEB_R_FAVICON] = {.handler = web_page_favicon},
	[WEB_R_API_INDEX] = {.handler = web_page_api_index},
	[WEB_R_API_LOOKUP] = {.handler = web_page_api_lookup},
	[WEB_R_API_HISTORY] = {.handler = web_page_api_history},
	[WEB_R_API_FIGURES] = {.handler = web_page_api_figures},
	/* WEB_R_API_REPORTS, _REPORT, _EVIDENCE: web_api.c's, never dispatched here */
	[WEB_R_REVIEW] = {.handler = web_review_post, .form = true},
	[WEB_R_TICKET] = {.handler = web_review_ticket},
	[WEB_R_ADMIN] = {.handler = web_admin_page},
	[WEB_R_ADMIN_LOGIN] = {.handler = web_admin_login, .form = true},
	[WEB_R_ADMIN_LOGOUT] = {.handler = web_admin_logout, .form = true},
	[WEB_R_ADMIN_TICKET] = {.handler = web_admin_page, .form = true},
	[WEB_R_METRICS] = {.handler = web_page_metrics},
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

bool web_dispatch_form(enum web_route_id id)
{
	return (size_t)id < N_ROUTES && routes[id].form;
}

enum MHD_Result web_dispatch(struct web_server *srv, struct MHD_Connection *c,
			     const struct web_request *req)
{
	struct web_thread *th = web_thread_get(srv);
	if (!th)
		return web_send_plain(srv, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "503 the list cannot be read just now; try again in a "
				      "minute\n",
				      NULL);
	th->body.len = 0;
	th->body.oom = false;
	struct web_reply reply = {.status = 200};
	enum web_route_id id = req->route.id;
	if ((size_t)id < N_ROUTES && routes[id].handler)
		routes[id].handler(srv, th, req, &reply);
	else if ((size_t)id < N_ROUTES && routes[id].tmpl)
		web_page_template(srv, th, routes[id].tmpl, routes[id].title, &reply);
	else
		web_page_not_found(srv, th, req, &reply);
	if (th->body.oom)
		return web_send_plain(srv, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 out of memory\n",
				      NULL);
	if (id == WEB_R_LOOKUP || id == WEB_R_API_LOOKUP)
		atomic_fetch_add(&srv->lookups, 1);
	return web_send_reply(srv, c, th, &reply);
}
