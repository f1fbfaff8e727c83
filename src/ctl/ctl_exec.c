/* ctl_exec.c - the command handlers: writes go through the writer, reads come from the store;
 * the control socket and the CLI's in-process path both run these. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "ctl.h"
#include "writer/writer.h"
#include "zone/zone.h"

/* One handler per command; they return an exit status. */
struct ctl_run {
	const struct ctl_service *svc;
	const struct ctl_request *req;
	const char *who;
	FILE *out, *err;
	int64_t now;
};

/* ---- reading what the policy needs ------------------------------------------ */

struct ev_list {
	struct policy_evidence *v;
	size_t n, cap;
	uint32_t total_traps, total_reports;
	bool oom;
};

static int ev_collect(const struct store_evidence *ev, void *arg)
{
	struct ev_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct policy_evidence *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->oom = true;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].received_at = ev->received_at;
	l->v[l->n].trap = ev->kind == STORE_KIND_TRAP;
	l->v[l->n].cls = (uint8_t)ev->cls;
	l->n++;
	if (ev->kind == STORE_KIND_TRAP)
		l->total_traps++;
	else
		l->total_reports++;
	return 0;
}

struct excl_find {
	const uint8_t *ip;
	struct store_exclusion found;
	bool hit;
};

static int excl_match(const struct store_exclusion *ex, void *arg)
{
	struct excl_find *f = arg;
	if (!ip_prefix_covers(&ex->prefix, f->ip))
		return 0;
	f->found = *ex;
	f->hit = true;
	return 1;
}

static int policy_inputs_read(const struct ctl_run *r, const uint8_t ip[16], struct ev_list *l,
			 struct policy_context *ctx, struct store_reputation *rep, char *why_excl,
			 size_t cap)
{
	memset(l, 0, sizeof(*l));
	memset(ctx, 0, sizeof(*ctx));
	memset(rep, 0, sizeof(*rep));
	why_excl[0] = '\0';
	struct store *s = r->svc->reader;
	int rc = store_evidence_for_ip(s, ip, 0, false, ev_collect, l);
	if (rc == STORE_OK && l->oom)
		rc = STORE_ENOMEM; /* half the evidence would explain a wrong decision */
	if (rc != STORE_OK)
		return rc;
	for (size_t i = 0; i < r->svc->n_default_exclusions; i++) {
		if (ip_prefix_covers(&r->svc->default_exclusions[i], ip)) {
			ctx->excluded = true;
			snprintf(why_excl, cap, "default exclusion (exclude_default)");
		}
	}
	struct excl_find f = {.ip = ip, .hit = false};
	rc = store_exclusion_foreach(s, r->now, excl_match, &f);
	if (rc != STORE_OK)
		return rc;
	if (f.hit) {
		ctx->excluded = true;
		snprintf(why_excl, cap, "%s", f.found.why);
	}
	struct store_action act;
	rc = store_action_last(s, ip, STORE_ACTION_DELIST, &act);
	if (rc == STORE_OK)
		ctx->delisted_at = act.at;
	else if (rc != STORE_ENOTFOUND)
		return rc;
	/* The same rule as the writer's: the most specific prefix covering ip. */
	rc = store_reputation_for_ip(s, ip, rep);
	if (rc == STORE_OK)
		ctx->reputation = rep->points;
	else if (rc != STORE_ENOTFOUND)
		return rc;
	return STORE_OK;
}

/* The evidence against ip and what else the policy weighs; on success the caller frees l->v,
 * on failure nothing is left to free. why_excl gets the reason of a covering exclusion ("" if
 * none), rep the reputation row that applies (points 0 if none). */
static int policy_inputs(const struct ctl_run *r, const uint8_t ip[16], struct ev_list *l,
			 struct policy_context *ctx, struct store_reputation *rep, char *why_excl,
			 size_t cap)
{
	int rc = policy_inputs_read(r, ip, l, ctx, rep, why_excl, cap);
	if (rc != STORE_OK) {
		free(l->v);
		l->v = NULL;
	}
	return rc;
}

static int fail_store(const struct ctl_run *r, int rc)
{
	fprintf(r->err, "trapline: reading the store failed: %s\n", tl_strerror(rc));
	return CTL_EXIT_FAIL;
}

static int fail_writer(const struct ctl_run *r, int rc)
{
	fprintf(r->err, "trapline: %s\n", tl_strerror(rc));
	return rc == WRITER_EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
}

/* "reputation: 10 points (192.0.2.0/24: why)" when a prefix's points apply to the address. */
static void reputation_line(const struct ctl_run *r, const struct store_reputation *rep)
{
	if (rep->points == 0)
		return;
	char pre[IP6_STRLEN + 8];
	ip_prefix_format(&rep->prefix, pre, sizeof(pre));
	fprintf(r->out, "reputation: %.10g points (%s: %s)\n", rep->points, pre, rep->why);
}

/* ---- the commands ------------------------------------------------------------ */

/* "listed until T (reason)" or "not listed", after a change, so the operator sees its effect. */
static void status_line(const struct ctl_run *r, const uint8_t ip[16])
{
	char ips[IP6_STRLEN], t[32];
	ip_format(ip, ips);
	struct store_listing l;
	if (store_listing_get(r->svc->reader, ip, &l) == STORE_OK) {
		time_format_iso8601(l.expires_at, t);
		fprintf(r->out, "%s: listed (%s) until %s\n", ips,
			policy_reason_name((enum policy_reason)l.reason), t);
	} else {
		fprintf(r->out, "%s: not listed\n", ips);
	}
}

static int run_evidence_add(const struct ctl_run *r)
{
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_EVIDENCE;
	memcpy(ev.evidence.ip, r->req->ip, 16);
	ev.evidence.kind = r->req->kind;
	ev.evidence.cls = r->req->has_class ? r->req->cls : STORE_CLASS_SPAM;
	ev.evidence.received_at = r->req->at ? r->req->at : r->now;
	snprintf(ev.evidence.source, sizeof(ev.evidence.source), "%s", r->who);
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc != WRITER_OK)
		return fail_writer(r, rc);
	char t[32];
	time_format_iso8601(ev.evidence.received_at, t);
	fprintf(r->out, "stored: %s (%s) received %s\n", store_kind_name(ev.evidence.kind),
		store_class_name(ev.evidence.cls), t);
	status_line(r, r->req->ip);
	return CTL_EXIT_OK;
}

/* The classes of the counted trap hits ("trap_classes: 3 bounce, 1 spam") and, when listed,
 * what the listing usually means (policy_reason_text). */
static void trap_classes_lines(const struct ctl_run *r, const struct policy_result *res,
			       enum policy_reason reason)
{
	if (res->traps > 0) {
		fprintf(r->out, "trap_classes:");
		const char *sep = " ";
		for (unsigned c = 0; c < POLICY_CLASSES; c++) {
			if (!res->trap_classes[c])
				continue;
			fprintf(r->out, "%s%u %s", sep, res->trap_classes[c],
				store_class_name((enum store_class)c));
			sep = ", ";
		}
		fprintf(r->out, "\n");
	}
	if (reason != POLICY_REASON_NONE)
		fprintf(r->out, "meaning: %s\n", policy_reason_text(reason, res->trap_classes));
}

static int run_check(const struct ctl_run *r)
{
	struct ev_list l;
	struct policy_context ctx;
	struct store_reputation rep;
	char why_excl[STORE_TEXT_MAX];
	int rc = policy_inputs(r, r->req->ip, &l, &ctx, &rep, why_excl, sizeof(why_excl));
	if (rc != STORE_OK)
		return fail_store(r, rc);
	struct policy_result res;
	int prc = policy_evaluate(&r->svc->policy, l.v, l.n, &ctx, r->now, &res, NULL);
	if (prc != POLICY_OK) {
		free(l.v);
		fprintf(r->err, "trapline: the policy could not be evaluated (out of memory)\n");
		return CTL_EXIT_FAIL;
	}
	char ips[IP6_STRLEN], t[32];
	ip_format(r->req->ip, ips);
	fprintf(r->out, "ip: %s\n", ips);
	/* The listing in the store is what DNS answers; the evaluation explains it. */
	struct store_listing li;
	rc = store_listing_get(r->svc->reader, r->req->ip, &li);
	if (rc == STORE_OK) {
		fprintf(r->out, "listed: yes\nreason: %s\n",
			policy_reason_name((enum policy_reason)li.reason));
		time_format_iso8601(li.listed_at, t);
		fprintf(r->out, "listed_at: %s\n", t);
		time_format_iso8601(li.expires_at, t);
		fprintf(r->out, "expires: %s\n", t);
		fprintf(r->out, "score: %.3f\nthreshold: %.3f\ntraps: %u\nreports: %u\n", li.score,
			res.threshold, li.traps, li.reports);
	} else if (rc == STORE_ENOTFOUND) {
		fprintf(r->out, "listed: no\nwhy: %s\n", res.why_not ? res.why_not : "not yet evaluated");
		fprintf(r->out, "score: %.3f\nthreshold: %.3f\ntraps: %u\nreports: %u\n", res.score,
			res.threshold, res.traps, res.reports);
	} else {
		free(l.v);
		return fail_store(r, rc);
	}
	fprintf(r->out, "evidence: %u trap hits, %u reports in the store\n", l.total_traps,
		l.total_reports);
	trap_classes_lines(r, &res, rc == STORE_OK ? (enum policy_reason)li.reason
						  : POLICY_REASON_NONE);
	if (ctx.excluded)
		fprintf(r->out, "excluded: %s\n", why_excl);
	reputation_line(r, &rep);
	if (ctx.delisted_at) {
		time_format_iso8601(ctx.delisted_at, t);
		fprintf(r->out, "delisted_at: %s\n", t);
	}
	free(l.v);
	return CTL_EXIT_OK;
}

static int run_explain(const struct ctl_run *r)
{
	struct ev_list l;
	struct policy_context ctx;
	struct store_reputation rep;
	char why_excl[STORE_TEXT_MAX];
	int rc = policy_inputs(r, r->req->ip, &l, &ctx, &rep, why_excl, sizeof(why_excl));
	if (rc != STORE_OK)
		return fail_store(r, rc);
	char ips[IP6_STRLEN];
	ip_format(r->req->ip, ips);
	fprintf(r->out, "ip: %s\n", ips);
	if (ctx.excluded)
		fprintf(r->out, "excluded: %s\n", why_excl);
	reputation_line(r, &rep);
	policy_explain(r->out, &r->svc->policy, l.v, l.n, &ctx, r->now);
	free(l.v);
	return CTL_EXIT_OK;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

struct list_state {
	FILE *out;
	bool json;
	size_t n;
};

static int list_one(const struct store_listing *l, void *arg)
{
	struct list_state *st = arg;
	char ip[IP6_STRLEN], at[32], exp[32];
	ip_format(l->ip, ip);
	time_format_iso8601(l->listed_at, at);
	time_format_iso8601(l->expires_at, exp);
	const char *reason = policy_reason_name((enum policy_reason)l->reason);
	if (st->json) {
		fputs(st->n ? ",\n  {\"ip\": " : "\n  {\"ip\": ", st->out);
		json_string(st->out, ip);
		fprintf(st->out,
			", \"reason\": \"%s\", \"score\": %.3f, \"traps\": %u, \"reports\": %u, "
			"\"listed_at\": \"%s\", \"expires\": \"%s\"}",
			reason, l->score, l->traps, l->reports, at, exp);
	} else {
		fprintf(st->out, "%s reason=%s score=%.3f traps=%u reports=%u listed_at=%s expires=%s\n",
			ip, reason, l->score, l->traps, l->reports, at, exp);
	}
	st->n++;
	return 0;
}

/* A list command's frame: a JSON array around the rows, or in text what an empty list says
 * (none: nothing). rc is the store's answer to walking the rows. */
static struct list_state list_begin(const struct ctl_run *r)
{
	struct list_state st = {.out = r->out, .json = r->req->json, .n = 0};
	if (st.json)
		fputs("[", r->out);
	return st;
}

static int list_end(const struct ctl_run *r, const struct list_state *st, int rc,
		    const char *none)
{
	if (rc != STORE_OK)
		return fail_store(r, rc);
	if (st->json)
		fputs(st->n ? "\n]\n" : "]\n", r->out);
	else if (st->n == 0 && none)
		fprintf(r->out, "%s\n", none);
	return CTL_EXIT_OK;
}

static int run_list(const struct ctl_run *r)
{
	struct list_state st = list_begin(r);
	return list_end(r, &st, store_listing_foreach(r->svc->reader, list_one, &st), NULL);
}

/* A moderator's event (delist, exclude, reputation): who asked and why go with it. */
static void moderator_event(const struct ctl_run *r, enum writer_event_type type,
			    struct writer_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	memcpy(ev->ip, r->req->ip, 16);
	ev->prefix = r->req->prefix;
	snprintf(ev->who, sizeof(ev->who), "%s", r->who);
	snprintf(ev->why, sizeof(ev->why), "%s", r->req->why);
}

static int run_delist(const struct ctl_run *r)
{
	struct writer_event ev;
	moderator_event(r, WRITER_EV_DELIST, &ev);
	struct store_listing before;
	bool was = store_listing_get(r->svc->reader, r->req->ip, &before) == STORE_OK;
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc != WRITER_OK)
		return fail_writer(r, rc);
	char ip[IP6_STRLEN];
	ip_format(r->req->ip, ip);
	fprintf(r->out, "delisted: %s%s; new evidence received after now lists it again\n", ip,
		was ? "" : " (it was not listed)");
	status_line(r, r->req->ip);
	return CTL_EXIT_OK;
}

static int run_exclude(const struct ctl_run *r)
{
	struct writer_event ev;
	moderator_event(r, WRITER_EV_EXCLUDE, &ev);
	ev.until = r->req->until;
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc != WRITER_OK)
		return fail_writer(r, rc);
	char pre[IP6_STRLEN + 8], t[32];
	ip_prefix_format(&ev.prefix, pre, sizeof(pre));
	if (ev.until)
		time_format_iso8601(ev.until, t);
	fprintf(r->out, "excluded: %s %s%s\n", pre, ev.until ? "until " : "for ever",
		ev.until ? t : "");
	return CTL_EXIT_OK;
}

static int run_reputation(const struct ctl_run *r)
{
	struct writer_event ev;
	moderator_event(r, WRITER_EV_REPUTATION, &ev);
	ev.points = r->req->points;
	struct store_reputation before;
	bool had = store_reputation_get(r->svc->reader, &ev.prefix, &before) == STORE_OK;
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc != WRITER_OK)
		return fail_writer(r, rc);
	char pre[IP6_STRLEN + 8];
	ip_prefix_format(&ev.prefix, pre, sizeof(pre));
	if (ev.points > 0)
		fprintf(r->out,
			"reputation: %s %.10g points (was %.10g): threshold %.10g where it is "
			"the most specific prefix\n",
			pre, ev.points, had ? before.points : 0.0,
			r->svc->policy.threshold + ev.points);
	else if (had)
		fprintf(r->out, "reputation: %s removed (it had %.10g points)\n", pre,
			before.points);
	else
		fprintf(r->out, "reputation: %s had no points; nothing changed\n", pre);
	return CTL_EXIT_OK;
}

/* Every prefix with points, in address order: what raises thresholds where, who set it, why. */
static int reputation_one(const struct store_reputation *rep, void *arg)
{
	struct list_state *st = arg;
	char pre[IP6_STRLEN + 8], at[32];
	ip_prefix_format(&rep->prefix, pre, sizeof(pre));
	time_format_iso8601(rep->created_at, at);
	if (st->json) {
		fputs(st->n ? ",\n  {\"prefix\": " : "\n  {\"prefix\": ", st->out);
		json_string(st->out, pre);
		fprintf(st->out, ", \"points\": %.10g, \"set_at\": \"%s\", \"who\": ", rep->points,
			at);
		json_string(st->out, rep->who);
		fputs(", \"why\": ", st->out);
		json_string(st->out, rep->why);
		fputs("}", st->out);
	} else {
		fprintf(st->out, "%s points=%.10g set_at=%s who=%s why=%s\n", pre, rep->points, at,
			rep->who, rep->why);
	}
	st->n++;
	return 0;
}

static int run_reputation_list(const struct ctl_run *r)
{
	struct list_state st = list_begin(r);
	return list_end(r, &st, store_reputation_foreach(r->svc->reader, reputation_one, &st),
			"no prefix has reputation points");
}

static int count_one(const struct store_listing *l, void *arg)
{
	(void)l;
	(*(size_t *)arg)++;
	return 0;
}

static int run_rebuild(const struct ctl_run *r)
{
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_REBUILD;
	uint64_t t0 = time_mono_ns();
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc != WRITER_OK)
		return fail_writer(r, rc);
	size_t n = 0;
	rc = store_listing_foreach(r->svc->reader, count_one, &n);
	if (rc != STORE_OK)
		return fail_store(r, rc);
	fprintf(r->out, "rebuilt: %zu listings in %.1f ms\n", n, (double)(time_mono_ns() - t0) / 1e6);
	return CTL_EXIT_OK;
}

static int run_export(const struct ctl_run *r)
{
	zone_read_lock();
	const struct zone_snapshot *snap = zone_current(r->svc->zone);
	int rc = ZONE_EINVAL;
	if (snap && r->req->format == CTL_FORMAT_BIND)
		rc = zone_export_bind(snap, r->svc->zone_name, r->out);
	else if (snap)
		rc = zone_export_rbldnsd(snap, r->svc->zone_name, r->out);
	zone_read_unlock();
	if (rc != ZONE_OK) {
		fprintf(r->err, "trapline: export failed: %s\n",
			snap ? tl_strerror(rc) : "no zone published yet");
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static const struct {
	enum ctl_cmd cmd;
	int (*run)(const struct ctl_run *r);
} ctl_handlers[] = {
	{CTL_CMD_EVIDENCE_ADD, run_evidence_add},
	{CTL_CMD_CHECK, run_check},
	{CTL_CMD_LIST, run_list},
	{CTL_CMD_DELIST, run_delist},
	{CTL_CMD_EXCLUDE, run_exclude},
	{CTL_CMD_REBUILD, run_rebuild},
	{CTL_CMD_EXPORT, run_export},
	{CTL_CMD_EXPLAIN, run_explain},
	{CTL_CMD_REPUTATION, run_reputation},
	{CTL_CMD_REPUTATION_LIST, run_reputation_list},
};

int ctl_execute(const struct ctl_service *svc, const struct ctl_request *req, const char *who,
		FILE *out, FILE *err)
{
	struct ctl_run r = {.svc = svc, .req = req, .who = who, .out = out, .err = err,
			    .now = time_now()};
	char msg[CTL_ERR_MAX];
	/* Checked here, on the service's clock, whichever way the request came. */
	if (ctl_request_check(req, r.now, msg, sizeof(msg)) != CTL_OK) {
		fprintf(err, "trapline: %s\n", msg);
		return CTL_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(ctl_handlers) / sizeof(ctl_handlers[0]); i++)
		if (ctl_handlers[i].cmd == req->cmd)
			return ctl_handlers[i].run(&r);
	fprintf(err, "trapline: no handler for this command\n");
	return CTL_EXIT_USAGE;
}
