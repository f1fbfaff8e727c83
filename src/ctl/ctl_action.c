/* ctl_action.c - the writes: evidence, delisting, exclusions, reputation, rebuild (through the
 * writer), and export (from the published zone). Each says what it did and, where an address
 * is concerned, where that address stands afterwards. */
#include <string.h>

#include "ctl_internal.h"
#include "zone/zone.h"

/* The status of ip after a change (or the failure to read it). */
static int after(const struct ctl_run *r, const uint8_t ip[16], struct ctl_status *s)
{
	int rc = ctl_query_status(r->svc, r->svc->reader, ip, r->now, s);
	return rc == CTL_OK ? CTL_EXIT_OK : ctl_fail_store(r, rc);
}

/* Hands ev to the writer and reads where ip stands once it is committed. An exit status. */
static int submit_then_status(const struct ctl_run *r, const struct writer_event *ev,
			      struct ctl_status *s)
{
	int rc = writer_submit(r->svc->writer, ev);
	if (rc != WRITER_OK)
		return ctl_fail_writer(r, rc);
	return after(r, r->req->ip, s);
}

/* {"key": value, "status": {...}} where key names what was done. */
static json_t *with_status(json_t *done, const struct ctl_status *s)
{
	json_t *st = ctl_status_json(s);
	if (!done || !st || json_object_set_new(done, "status", st) != 0) {
		json_decref(done);
		return NULL;
	}
	return done;
}

int ctl_run_evidence_add(struct ctl_run *r)
{
	/* It could never list (exclude_default): a typo, or a test that meant another address. */
	char what[200];
	if (r->svc->special_excluded && ip_special_describe(r->req->ip, what, sizeof(what))) {
		fprintf(r->err, "trapline: %s: a special-purpose address, never a public source of "
				"mail: evidence against it is refused (exclude_default)\n", what);
		return CTL_EXIT_USAGE;
	}
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_EVIDENCE;
	memcpy(ev.evidence.ip, r->req->ip, 16);
	ev.evidence.kind = r->req->kind;
	ev.evidence.cls = r->req->has_class ? r->req->cls : STORE_CLASS_SPAM;
	ev.evidence.received_at = r->req->at ? r->req->at : r->now;
	snprintf(ev.evidence.source, sizeof(ev.evidence.source), "%s", r->who);
	struct ctl_status s;
	int rc = submit_then_status(r, &ev, &s);
	if (rc != CTL_EXIT_OK)
		return rc;
	char ip[IP_STRLEN], t[TIME_STRLEN];
	ip_format(ev.evidence.ip, ip);
	time_format_iso8601(ev.evidence.received_at, t);
	if (r->req->json)
		return ctl_print_json(
			r, with_status(json_pack("{s:{s:s,s:s,s:s,s:s}}", "stored", "ip", ip, "kind",
						 store_kind_name(ev.evidence.kind), "class",
						 store_class_name(ev.evidence.cls), "received_at", t),
				       &s));
	fprintf(r->out, "stored: %s (%s) received %s\n", store_kind_name(ev.evidence.kind),
		store_class_name(ev.evidence.cls), t);
	ctl_status_line(r->out, &s);
	return CTL_EXIT_OK;
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

int ctl_run_delist(struct ctl_run *r)
{
	struct writer_event ev;
	bool undo = r->req->undo;
	moderator_event(r, undo ? WRITER_EV_UNDELIST : WRITER_EV_DELIST, &ev);
	struct store_listing before;
	bool was = store_listing_get(r->svc->reader, r->req->ip, &before) == STORE_OK;
	char ip[IP_STRLEN];
	ip_format(r->req->ip, ip);
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc == WRITER_ENOTFOUND) {
		fprintf(r->err, "trapline: %s has no delisting in force: nothing to undo\n", ip);
		return CTL_EXIT_USAGE;
	}
	if (rc != WRITER_OK)
		return ctl_fail_writer(r, rc);
	struct ctl_status s;
	if ((rc = after(r, r->req->ip, &s)) != CTL_EXIT_OK)
		return rc;
	if (r->req->json)
		return ctl_print_json(r, with_status(json_pack("{s:s,s:b}", undo ? "undone" : "delisted",
							       ip, "was_listed", was),
						     &s));
	if (undo)
		fprintf(r->out, "undone: the delisting of %s; its evidence counts again\n", ip);
	else
		fprintf(r->out, "delisted: %s%s; new evidence received after now lists it again\n",
			ip, was ? "" : " (it was not listed)");
	ctl_status_line(r->out, &s);
	return CTL_EXIT_OK;
}

int ctl_run_exclude(struct ctl_run *r)
{
	struct writer_event ev;
	bool remove = r->req->remove;
	moderator_event(r, remove ? WRITER_EV_UNEXCLUDE : WRITER_EV_EXCLUDE, &ev);
	ev.until = r->req->until;
	char pre[IP_PREFIX_STRLEN], t[TIME_STRLEN];
	ip_prefix_format(&ev.prefix, pre, sizeof(pre));
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc == WRITER_ENOTFOUND) {
		fprintf(r->err, "trapline: %s has no exclusion: nothing to remove (see trapline "
				"exclude list)\n",
			pre);
		return CTL_EXIT_USAGE;
	}
	if (rc != WRITER_OK)
		return ctl_fail_writer(r, rc);
	if (r->req->json && remove)
		return ctl_print_json(r, json_pack("{s:s,s:s}", "removed", pre, "why", ev.why));
	if (r->req->json)
		return ctl_print_json(r, json_pack("{s:s,s:o,s:s}", "excluded", pre, "until",
						   ctl_json_time(ev.until), "why", ev.why));
	if (remove) {
		fprintf(r->out, "removed: the exclusion of %s; its addresses can be listed again\n",
			pre);
		return CTL_EXIT_OK;
	}
	if (ev.until)
		time_format_iso8601(ev.until, t);
	fprintf(r->out, "excluded: %s %s%s\n", pre, ev.until ? "until " : "for ever",
		ev.until ? t : "");
	return CTL_EXIT_OK;
}

int ctl_run_reputation(struct ctl_run *r)
{
	struct writer_event ev;
	moderator_event(r, WRITER_EV_REPUTATION, &ev);
	ev.points = r->req->remove ? 0 : r->req->points;
	struct store_reputation before;
	bool had = store_reputation_get(r->svc->reader, &ev.prefix, &before) == STORE_OK;
	double was = had ? before.points : 0.0;
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc != WRITER_OK)
		return ctl_fail_writer(r, rc);
	char pre[IP_PREFIX_STRLEN];
	ip_prefix_format(&ev.prefix, pre, sizeof(pre));
	double threshold = r->svc->policy.threshold + ev.points;
	if (r->req->json)
		return ctl_print_json(r, json_pack("{s:s,s:f,s:f,s:f}", "prefix", pre, "points",
						   ev.points, "previous_points", was, "threshold",
						   threshold));
	if (ev.points > 0)
		fprintf(r->out,
			"reputation: %s %.10g points (was %.10g): threshold %.10g where it is "
			"the most specific prefix\n",
			pre, ev.points, was, threshold);
	else if (had)
		fprintf(r->out, "reputation: %s removed (it had %.10g points)\n", pre, was);
	else
		fprintf(r->out, "reputation: %s had no points; nothing changed\n", pre);
	return CTL_EXIT_OK;
}

static int count_one(const struct store_listing *l, void *arg)
{
	(void)l;
	(*(size_t *)arg)++;
	return 0;
}

int ctl_run_rebuild(struct ctl_run *r)
{
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_REBUILD;
	uint64_t t0 = time_mono_ns();
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc != WRITER_OK)
		return ctl_fail_writer(r, rc);
	size_t n = 0;
	rc = store_listing_foreach(r->svc->reader, count_one, &n);
	if (rc != STORE_OK)
		return ctl_fail_store(r, rc);
	double ms = (double)(time_mono_ns() - t0) / 1e6;
	if (r->req->json)
		return ctl_print_json(r, json_pack("{s:I,s:f}", "listings", (json_int_t)n, "ms", ms));
	fprintf(r->out, "rebuilt: %zu listings in %.1f ms\n", n, ms);
	return CTL_EXIT_OK;
}

int ctl_run_export(struct ctl_run *r)
{
	zone_read_lock();
	const struct zone_snapshot *snap = zone_current(r->svc->zone);
	int rc = ZONE_EINVAL;
	char why[1024];
	if (snap && r->req->format == CTL_FORMAT_BIND &&
	    zone_export_bind_problem(snap, r->svc->zone_name, why, sizeof(why))) {
		zone_read_unlock();
		fprintf(r->err, "trapline: export failed: %s\n", why);
		return CTL_EXIT_FAIL;
	}
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
