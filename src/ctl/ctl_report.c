/* ctl_report.c - user reports: a reported message taken in (its size, the same message again,
 * the reporter's hourly limit, the analysis of its Received chain with the reporter's trusted
 * relays), stored by the writer with its evidence, and answered only once that committed; a
 * stored report fetched by its reporter; `trapline report`. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl_internal.h"

/* The classifier of reports is the spamtrap's (mail_classify_word): a reported bounce or
 * auto-reply is evidence of its class, as the same message arriving at a trap would be. */
static const mail_classify_fn report_classify = mail_classify_word;

/* Seconds a client waits before it tries a report the writer could not take. */
#define REPORT_RETRY_S 5

static void report_id_new(char id[STORE_REPORT_ID_LEN + 1])
{
	unsigned char raw[STORE_REPORT_ID_LEN / 2];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(id, STORE_REPORT_ID_LEN + 1, raw, sizeof(raw));
}

/* The reads of one step in one read transaction: SQLite then takes its WAL read lock and
 * checks the file for changes once, not once per statement. After a commit of the writer's
 * that check costs a remapping of the file (measured: a tenth of a report's time over HTTP
 * went to those, a dozen a report). A failed begin only loses that saving. */
static bool read_begin(struct store *reader)
{
	return store_begin(reader) == STORE_OK;
}

static void read_end(struct store *reader, bool begun)
{
	if (begun && store_commit(reader) != STORE_OK)
		store_rollback(reader);
}

/* Where the report's source stands now, when it has one: read after the commit, in a
 * transaction of its own, so that it sees the report's evidence. */
static void report_status(const struct ctl_service *svc, struct store *reader,
			  struct ctl_report_result *out)
{
	if (!out->report.has_source)
		return;
	bool begun = read_begin(reader);
	if (ctl_query_status(svc, reader, out->report.source, time_now(), &out->status) == CTL_OK)
		out->has_status = true;
	read_end(reader, begun);
}

static void report_fail(struct ctl_report_result *out, enum ctl_report_outcome o, const char *why)
{
	out->outcome = o;
	snprintf(out->why, sizeof(out->why), "%s", why);
}

/* The reporter's trusted relays, as they were checked when it was added. */
static int report_trust(struct store *reader, const struct store_holder *reporter,
			struct mail_trust *t)
{
	char *text = NULL, why[128];
	size_t len = 0, line = 0;
	int rc = store_holder_relays(reader, reporter->id, &text, &len);
	if (rc != STORE_OK)
		return rc;
	rc = mail_trust_parse(t, text, len, &line, why, sizeof(why));
	free(text);
	if (rc == MAIL_EINVAL) /* checked at `reporter add`: a store edited by hand */
		log_warn("ctl", "trusted relays of reporter=%s line=%zu ignored from there",
			 reporter->name, line);
	return rc == MAIL_ENOMEM ? CTL_ENOMEM : CTL_OK;
}

/* The writer's answer to the report event, as an outcome. */
static void report_committed(const struct ctl_service *svc, struct store *reader,
			     struct writer_report *wr, int rc, struct ctl_report_result *out)
{
	switch (rc) {
	case WRITER_OK:
		out->outcome = CTL_REPORT_TAKEN;
		out->report = wr->row;
		out->report.received_at = wr->received_at;
		out->report.evidence_id = wr->evidence_id;
		wr->row.analysis = NULL; /* the result owns it now */
		return;
	case WRITER_EEXIST: /* sent twice at once: the other one was committed first */
		if (store_report_get(reader, wr->earlier_id, true, &out->report) == STORE_OK)
			out->outcome = CTL_REPORT_DUPLICATE;
		else
			report_fail(out, CTL_REPORT_FAILED, "the earlier report cannot be read");
		return;
	case WRITER_ELIMIT:
		out->outcome = CTL_REPORT_LIMIT;
		out->retry_after = 3600 - time_now() % 3600;
		snprintf(out->why, sizeof(out->why), "%u reports this hour, the most a reporter may "
			 "send (report_max_per_hour)", svc->report_max_per_hour);
		return;
	case WRITER_ENOTFOUND:
		report_fail(out, CTL_REPORT_GONE, "the reporter was removed");
		return;
	case WRITER_EFULL: /* svc->writer_nowait: the queue is full */
	case WRITER_ESTOPPED:
	case WRITER_ESTORE:
		out->outcome = CTL_REPORT_UNAVAILABLE;
		out->retry_after = REPORT_RETRY_S;
		snprintf(out->why, sizeof(out->why), "not stored: %s",
			 rc == WRITER_EFULL ? "the writer's queue is full" : tl_strerror(rc));
		return;
	default:
		report_fail(out, CTL_REPORT_FAILED, tl_strerror(rc));
	}
}

/* Hands the analysed report to the writer and waits for its commit. */
static void report_store(const struct ctl_service *svc, struct store *reader,
			 const struct store_holder *reporter, const struct mail_analysis *a,
			 struct ctl_report_result *out)
{
	struct writer_report wr;
	memset(&wr, 0, sizeof(wr));
	if (mail_analysis_json(a, &wr.row.analysis) != MAIL_OK) {
		report_fail(out, CTL_REPORT_FAILED, tl_strerror(CTL_ENOMEM));
		return;
	}
	struct store_report *row = &wr.row;
	report_id_new(row->id);
	row->holder = reporter->id;
	memcpy(row->digest, a->digest, STORE_DIGEST_LEN);
	row->has_source = a->has_source;
	memcpy(row->source, a->source, 16);
	if (!a->has_source)
		snprintf(row->refusal, sizeof(row->refusal), "%s", mail_refusal_name(a->refusal));
	row->cls = STORE_CLASS_SPAM;
	if (a->cls && store_class_parse(a->cls, &row->cls) != STORE_OK)
		row->cls = STORE_CLASS_SPAM;
	wr.limit_per_hour = svc->report_max_per_hour;
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_REPORT;
	ev.report = &wr;
	/* Blocks until the transaction committed or failed: only then is there an outcome. */
	int rc = svc->writer_nowait ? writer_submit_nowait(svc->writer, &ev)
				    : writer_submit(svc->writer, &ev);
	report_committed(svc, reader, &wr, rc, out);
	free(wr.row.analysis);
}

/* The same spam from the same reporter counts once, however it came: the digest is the judged
 * message's (the attachment of a forward, without the wrapper), and the reporter is its name
 * (a rotated key is the same reporter). false when it is new; true when out says what it is
 * (DUPLICATE, or FAILED when the store cannot be read). */
static bool report_seen(const struct ctl_service *svc, struct store *reader,
			const struct store_holder *reporter, const struct mail_analysis *a,
			struct ctl_report_result *out)
{
	int rc = store_report_by_digest(reader, reporter->name, a->digest, true, &out->report);
	if (rc == STORE_OK) {
		out->outcome = CTL_REPORT_DUPLICATE;
		report_status(svc, reader, out);
		return true;
	}
	if (rc != STORE_ENOTFOUND) {
		report_fail(out, CTL_REPORT_FAILED, tl_strerror(rc));
		return true;
	}
	return false;
}

/* Reports taken by outcome, by every caller in the process (the control socket, the web's
 * workers): trapline_reports_total. */
#define REPORT_OUTCOMES (CTL_REPORT_FAILED + 1)
static uint64_t report_counts[REPORT_OUTCOMES];
static const char *const report_outcome_names[REPORT_OUTCOMES] = {
	"taken", "duplicate", "too_big", "not_message", "limit", "gone", "unavailable", "failed"};

static void report_take(const struct ctl_service *svc, struct store *reader,
			const struct store_holder *reporter, const char *msg, size_t len,
			struct ctl_report_result *out);

void ctl_report_take(const struct ctl_service *svc, struct store *reader,
		     const struct store_holder *reporter, const char *msg, size_t len,
		     struct ctl_report_result *out)
{
	report_take(svc, reader, reporter, msg, len, out);
	if ((unsigned)out->outcome < REPORT_OUTCOMES)
		__atomic_fetch_add(&report_counts[out->outcome], 1, __ATOMIC_RELAXED);
}

void ctl_report_metrics(void *arg, struct metrics *m)
{
	(void)arg;
	metrics_family(m, "trapline_reports_total", METRIC_COUNTER,
		       "User reports received (POST /api/v1/reports, trapline report), by result: "
		       "taken, duplicate, too_big, not_message, limit, gone, unavailable, failed.");
	for (unsigned i = 0; i < REPORT_OUTCOMES; i++)
		metrics_value(m, (double)__atomic_load_n(&report_counts[i], __ATOMIC_RELAXED),
			      "result=\"%s\"", report_outcome_names[i]);
}

static void report_take(const struct ctl_service *svc, struct store *reader,
			const struct store_holder *reporter, const char *msg, size_t len,
			struct ctl_report_result *out)
{
	memset(out, 0, sizeof(*out));
	if (len > svc->report_max_size) {
		out->outcome = CTL_REPORT_TOO_BIG;
		snprintf(out->why, sizeof(out->why), "%zu bytes, more than the %u a report may have "
			 "(report_max_size)", len, svc->report_max_size);
		return;
	}
	/* What is read before the analysis is read together (read_begin). */
	bool begun = read_begin(reader);
	int64_t now = time_now();
	uint64_t n = 0;
	int rc = svc->report_max_per_hour
			 ? store_report_hour_get(reader, reporter->id, now / 3600, &n)
			 : STORE_OK;
	struct mail_trust trust;
	mail_trust_init(&trust);
	if (rc == STORE_OK)
		rc = report_trust(reader, reporter, &trust);
	read_end(reader, begun); /* not held across the analysis and the writer's commit */
	if (rc != CTL_OK) {
		report_fail(out, CTL_REPORT_FAILED, tl_strerror(rc));
		mail_trust_free(&trust);
		return;
	}
	/* The analysis comes first even past the hourly limit: only its digest of the judged
	 * message tells a message sent before (answered as such, never counted) from a new one. */
	struct mail_report_options opt = {.trust = &trust, .classify = report_classify,
					  .special_public = !svc->special_excluded};
	struct mail_analysis a;
	rc = mail_report_analyse(msg, len, &opt, &a);
	mail_trust_free(&trust);
	if (rc != MAIL_OK) {
		if (rc == MAIL_ENOMEM)
			report_fail(out, CTL_REPORT_FAILED, tl_strerror(rc));
		else
			report_fail(out, rc == MAIL_ETOOBIG ? CTL_REPORT_TOO_BIG
							     : CTL_REPORT_NOT_MESSAGE,
				    a.error);
		mail_analysis_free(&a);
		return;
	}
	if (report_seen(svc, reader, reporter, &a, out)) {
		mail_analysis_free(&a);
		return;
	}
	/* The writer checks the limit again in its transaction. */
	if (svc->report_max_per_hour && n >= svc->report_max_per_hour)
		report_committed(svc, reader, NULL, WRITER_ELIMIT, out);
	else
		report_store(svc, reader, reporter, &a, out);
	mail_analysis_free(&a);
	report_status(svc, reader, out);
}

int ctl_report_lookup(const struct ctl_service *svc, struct store *reader,
		      const struct store_holder *reporter, const char *id, int64_t now,
		      struct ctl_report_result *out)
{
	memset(out, 0, sizeof(*out));
	size_t n = strlen(id);
	if (n != STORE_REPORT_ID_LEN || strspn(id, "0123456789abcdef") != n)
		return CTL_ENOTFOUND;
	int rc = store_report_get(reader, id, true, &out->report);
	if (rc == STORE_OK && out->report.holder != reporter->id)
		rc = STORE_ENOTFOUND; /* another's: as if there were none */
	if (rc != STORE_OK) {
		ctl_report_result_free(out);
		return rc == STORE_ENOTFOUND ? CTL_ENOTFOUND : rc;
	}
	out->outcome = CTL_REPORT_TAKEN;
	if (out->report.has_source &&
	    ctl_query_status(svc, reader, out->report.source, now, &out->status) == CTL_OK)
		out->has_status = true;
	return CTL_OK;
}

void ctl_report_result_free(struct ctl_report_result *r)
{
	free(r->report.analysis);
	r->report.analysis = NULL;
}

json_t *ctl_report_json(const struct ctl_report_result *r, const char *reporter)
{
	json_t *analysis = r->report.analysis ? json_loads(r->report.analysis, 0, NULL) : NULL;
	if (!json_is_object(analysis)) {
		json_decref(analysis);
		return NULL;
	}
	json_t *listed = r->has_status ? json_boolean(r->status.listed) : json_null();
	json_t *o = json_pack("{s:s,s:s,s:o,s:b,s:o}", "id", r->report.id, "reporter", reporter,
			      "received_at", ctl_json_time(r->report.received_at), "duplicate",
			      r->outcome == CTL_REPORT_DUPLICATE, "listed", listed);
	if (!o || json_object_update(o, analysis) != 0) {
		json_decref(o);
		o = NULL;
	}
	json_decref(analysis);
	return o;
}

/* ---- trapline report ------------------------------------------------------------------- */

static const char *json_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static void report_text(const struct ctl_run *r, const struct ctl_report_result *res,
			const char *file)
{
	FILE *f = r->out;
	json_t *a = json_loads(res->report.analysis, 0, NULL);
	char why[TEXT_ESCAPED_MAX(MAIL_WHY_MAX)], t[TIME_STRLEN];
	fprintf(f, "file: %s\nreport: %s\n", file, res->report.id);
	if (res->outcome == CTL_REPORT_DUPLICATE) {
		time_format_iso8601(res->report.received_at, t);
		fprintf(f, "duplicate: the same message came from %s on %s; it counts once\n",
			r->req->reporter, t);
	}
	if (res->report.has_source)
		fprintf(f, "source: %s\n", json_str(a, "source_ip"));
	else
		fprintf(f, "refused: %s\n", res->report.refusal);
	snprintf(why, sizeof(why), "%s", json_str(a, "why"));
	char esc[TEXT_ESCAPED_MAX(sizeof(why))];
	fprintf(f, "why: %s\nclass: %s\n", text_escape(why, esc, sizeof(esc)),
		res->report.has_source ? store_class_name(res->report.cls) : "-");
	if (res->has_status)
		ctl_status_line(f, &res->status);
	json_decref(a);
}

/* The exit status and the line on standard error for what is not a report. */
static int report_refused(const struct ctl_run *r, const struct ctl_report_result *res,
			  const char *file)
{
	char why[TEXT_ESCAPED_MAX(MAIL_WHY_MAX)];
	text_escape(res->why, why, sizeof(why));
	switch (res->outcome) {
	case CTL_REPORT_TOO_BIG:
	case CTL_REPORT_NOT_MESSAGE:
		fprintf(r->err, "trapline: %s: %s\n", file, why);
		return CTL_EXIT_USAGE;
	case CTL_REPORT_GONE:
		fprintf(r->err, "trapline: %s: not taken: %s meanwhile\n", file, why);
		return CTL_EXIT_USAGE;
	case CTL_REPORT_LIMIT:
		fprintf(r->err, "trapline: %s: not taken: reporter %s sent %s; try again in %lld s\n",
			file, r->req->reporter, why, (long long)res->retry_after);
		return CTL_EXIT_FAIL;
	default:
		fprintf(r->err, "trapline: %s: not taken: %s\n", file, why);
		return CTL_EXIT_FAIL;
	}
}

int ctl_run_report(struct ctl_run *r)
{
	const struct ctl_request *req = r->req;
	struct store_holder reporter;
	int rc = store_holder_get(r->svc->reader, req->reporter, &reporter);
	if (rc == STORE_OK && reporter.kind != STORE_HOLDER_REPORTER)
		rc = STORE_ENOTFOUND;
	if (rc == STORE_ENOTFOUND) {
		fprintf(r->err, "trapline: no reporter named %s (see trapline reporter list)\n",
			req->reporter);
		return CTL_EXIT_USAGE;
	}
	if (rc != STORE_OK)
		return ctl_fail_store(r, rc);
	char file[TEXT_ESCAPED_MAX(CTL_FILE_MAX)];
	text_escape(req->file, file, sizeof(file));
	struct ctl_report_result res;
	ctl_report_take(r->svc, r->svc->reader, &reporter, req->body, req->body_len, &res);
	int status = CTL_EXIT_OK;
	if (res.outcome != CTL_REPORT_TAKEN && res.outcome != CTL_REPORT_DUPLICATE) {
		status = report_refused(r, &res, file);
	} else if (req->json) {
		json_t *o = ctl_report_json(&res, reporter.name);
		json_t *name = json_string(req->file); /* NULL when the name is not UTF-8 */
		if (o && json_object_set_new(o, "file", name ? name : json_null()) != 0) {
			json_decref(o);
			o = NULL;
		}
		status = ctl_print_json(r, o);
	} else {
		report_text(r, &res, file);
	}
	ctl_report_result_free(&res);
	return status;
}
