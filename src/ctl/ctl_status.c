/* ctl_status.c - `trapline status`: the running service's figures for a person (text) or a
 * program (--json), from the same scrape GET /metrics renders, the writer's figures and the
 * store's count of recent evidence. One table of sections: a section is a function that adds
 * its members to the answer, and the text is printed from the answer, so adding a section is
 * adding a row. A trap node has no service to ask: src/cli/cli_node.c reads its spool. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ctl_internal.h"

#define HOUR 3600
#define DAY 86400

/* What a section reads from. */
struct status_src {
	const struct ctl_run *r;
	const struct metrics *m;
	struct writer_figures wf;
	int store_rc; /* a failed read of the store (STORE_OK: none) */
};

static json_t *jint(double v)
{
	return json_integer((json_int_t)llround(v));
}

/* A time member: ISO 8601, or null for 0. */
static json_t *jtime(int64_t t)
{
	return ctl_json_time(t);
}

static double mget(const struct status_src *s, const char *name, const char *labels)
{
	return metrics_get(s->m, name, labels, NULL);
}

/* ---- the sections ---- */

static int section_service(struct status_src *s, json_t *o)
{
	double started = mget(s, "trapline_start_time_seconds", NULL);
	return json_object_set_new(o, "started", jtime((int64_t)started)) |
	       json_object_set_new(o, "uptime_s", jint(mget(s, "trapline_uptime_seconds", NULL)));
}

static int section_listings(struct status_src *s, json_t *o)
{
	json_t *l = json_object();
	uint64_t total = 0;
	for (int r = POLICY_REASON_TRAPS; r <= POLICY_REASON_BOTH; r++) {
		json_object_set_new(l, policy_reason_name((enum policy_reason)r),
				    json_integer((json_int_t)s->wf.listings[r]));
		total += s->wf.listings[r];
	}
	json_object_set_new(l, "total", json_integer((json_int_t)total));
	return json_object_set_new(o, "listings", l);
}

static json_t *evidence_since(struct status_src *s, int64_t from)
{
	uint64_t traps = 0, reports = 0;
	int rc = store_evidence_count(s->r->svc->reader, from, s->r->now + 1, &traps, &reports);
	if (rc != STORE_OK)
		s->store_rc = rc;
	return json_pack("{s:I,s:I,s:I}", "traps", (json_int_t)traps, "reports",
			 (json_int_t)reports, "total", (json_int_t)(traps + reports));
}

static int section_evidence(struct status_src *s, json_t *o)
{
	json_t *e = json_object();
	json_object_set_new(e, "last_hour", evidence_since(s, s->r->now - HOUR));
	json_object_set_new(e, "last_day", evidence_since(s, s->r->now - DAY));
	return json_object_set_new(o, "evidence", e);
}

static int section_writer(struct status_src *s, json_t *o)
{
	return json_object_set_new(
		o, "writer",
		json_pack("{s:I,s:o,s:I}", "queue_depth", (json_int_t)s->wf.queue_depth,
			  "last_commit", jtime(s->wf.last_commit), "events",
			  (json_int_t)s->wf.events));
}

static int section_zone(struct status_src *s, json_t *o)
{
	return json_object_set_new(
		o, "zone",
		json_pack("{s:I,s:o,s:f}", "serial", (json_int_t)s->wf.serial, "published",
			  jtime(s->wf.published), "age_s", s->wf.published_age));
}

/* Adds every sample of name into sum_by[label value of key]. */
struct by_label {
	const char *key;
	json_t *obj;
};

static void add_by_label(void *arg, const char *labels, double v)
{
	struct by_label *b = arg;
	char pat[64], val[64] = "";
	snprintf(pat, sizeof(pat), "%s=\"", b->key);
	const char *p = strstr(labels, pat);
	if (p) {
		p += strlen(pat);
		size_t n = strcspn(p, "\"");
		snprintf(val, sizeof(val), "%.*s", (int)(n < sizeof(val) - 1 ? n : sizeof(val) - 1),
			 p);
	}
	json_t *cur = json_object_get(b->obj, val);
	json_int_t prev = cur ? json_integer_value(cur) : 0;
	json_object_set_new(b->obj, val, json_integer(prev + (json_int_t)llround(v)));
}

static int section_dns(struct status_src *s, json_t *o)
{
	json_t *d = json_object();
	json_t *proto = json_object(), *rcode = json_object();
	struct by_label bp = {"proto", proto}, br = {"rcode", rcode};
	metrics_each(s->m, "trapline_dns_queries_total", add_by_label, &bp);
	metrics_each(s->m, "trapline_dns_queries_total", add_by_label, &br);
	json_object_set_new(d, "queries", jint(metrics_sum(s->m, "trapline_dns_queries_total", NULL)));
	json_object_set_new(d, "by_proto", proto);
	json_object_set_new(d, "by_rcode", rcode);
	json_object_set_new(d, "rrl_dropped",
			    jint(mget(s, "trapline_dns_rrl_total", "action=\"dropped\"")));
	json_object_set_new(d, "rrl_slipped",
			    jint(mget(s, "trapline_dns_rrl_total", "action=\"slipped\"")));
	return json_object_set_new(o, "dns", d);
}

static int section_smtp(struct status_src *s, json_t *o)
{
	bool on = false;
	double now = metrics_get(s->m, "trapline_smtp_sessions_open", NULL, &on);
	if (!on)
		return json_object_set_new(o, "smtp", json_null());
	return json_object_set_new(
		o, "smtp",
		json_pack("{s:o,s:o,s:o,s:o}", "sessions_now", jint(now), "sessions",
			  jint(mget(s, "trapline_smtp_sessions_total", "result=\"accepted\"")),
			  "messages_stored",
			  jint(mget(s, "trapline_smtp_messages_total", "result=\"stored\"")),
			  "messages_deferred",
			  jint(mget(s, "trapline_smtp_messages_total", "result=\"deferred\""))));
}

/* The secondaries of the zone transfers: one object a secondary, from the samples the
 * transfers' metrics source adds (STATUS_XFR_LAST_METRIC{secondary="ADDR"}, the wall clock
 * of its last transfer). Empty until that source is registered. */
#define STATUS_XFR_LAST_METRIC "trapline_xfr_last_transfer_time_seconds"
static void add_secondary(void *arg, const char *labels, double v)
{
	json_t *a = arg;
	char who[128] = "";
	const char *p = strstr(labels, "secondary=\"");
	if (p) {
		p += strlen("secondary=\"");
		size_t n = strcspn(p, "\"");
		snprintf(who, sizeof(who), "%.*s", (int)(n < sizeof(who) - 1 ? n : sizeof(who) - 1),
			 p);
	}
	json_array_append_new(a, json_pack("{s:s,s:o}", "secondary", who, "last_transfer",
					   jtime((int64_t)v)));
}

static int section_secondaries(struct status_src *s, json_t *o)
{
	json_t *a = json_array();
	metrics_each(s->m, STATUS_XFR_LAST_METRIC, add_secondary, a);
	return json_object_set_new(o, "secondaries", a);
}

static const struct {
	const char *name;
	int (*add)(struct status_src *s, json_t *o);
} sections[] = {
	{"service", section_service},   {"listings", section_listings},
	{"evidence", section_evidence}, {"writer", section_writer},
	{"zone", section_zone},         {"dns", section_dns},
	{"smtp", section_smtp},         {"secondaries", section_secondaries},
};

/* ---- the text: one line a section, from the answer ---- */

static long long ival(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (v && path2)
		v = json_object_get(v, path2);
	return v ? (long long)json_integer_value(v) : 0;
}

static const char *sval(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (v && path2)
		v = json_object_get(v, path2);
	return v && json_is_string(v) ? json_string_value(v) : "never";
}

static void uptime_text(FILE *f, long long s)
{
	if (s >= 86400)
		fprintf(f, "%lldd ", s / 86400);
	fprintf(f, "%02lld:%02lld:%02lld", s % 86400 / 3600, s % 3600 / 60, s % 60);
}

static void pairs_text(FILE *f, json_t *obj)
{
	const char *k;
	json_t *v;
	bool first = true;
	json_object_foreach(obj, k, v)
	{
		fprintf(f, "%s%s %lld", first ? "" : ", ", k, (long long)json_integer_value(v));
		first = false;
	}
}

static void status_text(FILE *f, json_t *o)
{
	fprintf(f, "uptime: ");
	uptime_text(f, ival(o, "uptime_s", NULL));
	fprintf(f, " (since %s)\n", sval(o, "started", NULL));
	fprintf(f, "listings: %lld (traps %lld, reports %lld, both %lld)\n",
		ival(o, "listings", "total"), ival(o, "listings", "traps"),
		ival(o, "listings", "reports"), ival(o, "listings", "both"));
	json_t *e = json_object_get(o, "evidence");
	fprintf(f, "evidence: last hour %lld (traps %lld, reports %lld), last day %lld (traps "
		   "%lld, reports %lld)\n",
		ival(e, "last_hour", "total"), ival(e, "last_hour", "traps"),
		ival(e, "last_hour", "reports"), ival(e, "last_day", "total"),
		ival(e, "last_day", "traps"), ival(e, "last_day", "reports"));
	fprintf(f, "writer: queue %lld, last commit %s, events %lld\n",
		ival(o, "writer", "queue_depth"), sval(o, "writer", "last_commit"),
		ival(o, "writer", "events"));
	json_t *z = json_object_get(o, "zone");
	fprintf(f, "zone: serial %lld, published %s (%.1f s ago)\n", ival(o, "zone", "serial"),
		sval(o, "zone", "published"), json_real_value(json_object_get(z, "age_s")));
	json_t *d = json_object_get(o, "dns");
	fprintf(f, "dns: queries %lld", ival(o, "dns", "queries"));
	if (json_object_size(json_object_get(d, "by_proto"))) {
		fprintf(f, " (");
		pairs_text(f, json_object_get(d, "by_proto"));
		fprintf(f, "; ");
		pairs_text(f, json_object_get(d, "by_rcode"));
		fprintf(f, ")");
	}
	fprintf(f, ", rate-limited: dropped %lld, slipped %lld\n", ival(o, "dns", "rrl_dropped"),
		ival(o, "dns", "rrl_slipped"));
	if (json_is_null(json_object_get(o, "smtp")))
		fprintf(f, "smtp: off\n");
	else
		fprintf(f, "smtp: sessions now %lld, sessions %lld, messages stored %lld, deferred "
			   "%lld\n",
			ival(o, "smtp", "sessions_now"), ival(o, "smtp", "sessions"),
			ival(o, "smtp", "messages_stored"), ival(o, "smtp", "messages_deferred"));
	json_t *sec = json_object_get(o, "secondaries");
	fprintf(f, "secondaries:%s\n", json_array_size(sec) ? "" : " none");
	size_t i;
	json_t *v;
	json_array_foreach(sec, i, v)
	{
		fprintf(f, "  %s last transfer %s\n", sval(v, "secondary", NULL),
			sval(v, "last_transfer", NULL));
	}
}

int ctl_run_status(struct ctl_run *r)
{
	if (!r->svc->metrics) {
		fprintf(r->err, "trapline: no service is running: status reads a running "
				"service's figures (start it with trapline serve)\n");
		return CTL_EXIT_FAIL;
	}
	struct status_src s = {.r = r, .store_rc = STORE_OK};
	struct metrics *m = metrics_collect(r->svc->metrics);
	if (!m) {
		fprintf(r->err, "trapline: out of memory\n");
		return CTL_EXIT_FAIL;
	}
	s.m = m;
	writer_figures(r->svc->writer, &s.wf);
	json_t *o = json_object();
	int rc = o ? 0 : -1;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]) && rc == 0; i++)
		rc = sections[i].add(&s, o);
	metrics_free(m);
	if (rc == 0 && s.store_rc != STORE_OK) {
		json_decref(o);
		return ctl_fail_store(r, s.store_rc);
	}
	if (rc != 0) {
		json_decref(o);
		fprintf(r->err, "trapline: out of memory\n");
		return CTL_EXIT_FAIL;
	}
	if (r->req->json)
		return ctl_print_json(r, o);
	status_text(r->out, o);
	json_decref(o);
	return CTL_EXIT_OK;
}
