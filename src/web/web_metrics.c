/* web_metrics.c - GET /metrics: every module's figures in the Prometheus text exposition
 * format, for the scrapers metrics_allow names; and the web's own figures (answers by route
 * and status). */
#include <stdlib.h>
#include <string.h>

#include "web_internal.h"

static bool metrics_allowed(const struct web_server *srv, const uint8_t client[16])
{
	const struct web_config *live = web_live(srv); /* metrics_allow changes on a reload */
	for (unsigned i = 0; i < live->n_metrics_allow; i++)
		if (ip_prefix_covers(&live->metrics_allow[i], client))
			return true;
	return false;
}

void web_page_metrics(struct web_server *srv, struct web_thread *th, const struct web_request *req,
		      struct web_reply *reply)
{
	reply->type = "text/plain; charset=utf-8";
	reply->cache = "no-store";
	if (!metrics_allowed(srv, req->client)) {
		reply->status = 403;
		web_buf_adds(&th->body, "403 metrics are for the addresses of metrics_allow\n");
		return;
	}
	struct metrics *m = web_svc(srv)->metrics ? metrics_collect(web_svc(srv)->metrics) : NULL;
	char *text = NULL;
	size_t len = 0;
	if (!m || metrics_render(m, &text, &len) != BASE_OK) {
		reply->status = 503;
		web_buf_adds(&th->body, "503 the metrics cannot be gathered just now\n");
		metrics_free(m);
		return;
	}
	/* The version of the text format (Prometheus's exposition formats document). */
	reply->type = "text/plain; version=0.0.4; charset=utf-8";
	web_buf_add(&th->body, text, len);
	free(text);
	metrics_free(m);
}

void web_server_metrics(void *arg, struct metrics *m)
{
	struct web_server *srv = arg;
	metrics_family(m, "trapline_http_requests_total", METRIC_COUNTER,
		       "HTTP requests answered, by route (the page or API endpoint; other: a path "
		       "we do not serve) and status code.");
	for (unsigned r = 0; r < WEB_R_COUNT; r++) {
		for (unsigned c = 0; c < WEB_STATUS_N; c++) {
			uint64_t n = __atomic_load_n(&srv->http_counts[r][c], __ATOMIC_RELAXED);
			if (n)
				metrics_value(m, (double)n, "route=\"%s\",code=\"%u\"",
					      web_route_name((enum web_route_id)r),
					      c + WEB_STATUS_MIN);
		}
	}
}
