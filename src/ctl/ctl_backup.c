/* ctl_backup.c - getting it back: backup (a consistent copy of the live store), restore (a data
 * directory built from one) and verify (SQLite's integrity check, and every listing recomputed
 * from the evidence against the one stored). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"

static int copy_answer(struct ctl_run *r, const char *verb, const char *file,
		       const struct store_copy_info *info, const char *dir)
{
	if (r->req->json) {
		json_t *v = json_pack("{s:s,s:I,s:i}", "file", file, "bytes", (json_int_t)info->bytes,
				      "schema_version", info->schema_version);
		if (v && dir) {
			json_object_set_new(v, "data_dir", json_string(dir));
			json_object_set_new(v, "from_version", json_integer(info->from_version));
		}
		return ctl_print_json(r, v);
	}
	if (dir)
		fprintf(r->out, "%s: restored %s into %s (%llu bytes, schema version %d%s)\n", verb,
			file, dir, (unsigned long long)info->bytes, info->schema_version,
			info->from_version != info->schema_version ? ", migrated" : "");
	else
		fprintf(r->out, "%s: wrote %s (%llu bytes, schema version %d)\n", verb, file,
			(unsigned long long)info->bytes, info->schema_version);
	return CTL_EXIT_OK;
}

static int copy_fail(struct ctl_run *r, int rc, const char *msg)
{
	fprintf(r->err, "trapline: %s\n", msg);
	return rc == STORE_EEXIST || rc == STORE_EINVAL || rc == STORE_ENOTFOUND ? CTL_EXIT_USAGE
										  : CTL_EXIT_FAIL;
}

/* True when file would land in the data directory itself: a copy named trapline.db there
 * (with --force) would be renamed over the live store. */
static bool in_data_dir(const char *file, const char *data_dir)
{
	char dir[CTL_FILE_MAX], a[PATH_MAX], b[PATH_MAX];
	const char *slash = strrchr(file, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash && slash != file ? (int)(slash - file) : 1,
		 slash ? file : ".");
	return data_dir && data_dir[0] && realpath(dir, a) && realpath(data_dir, b) &&
	       strcmp(a, b) == 0;
}

/* The copy is read through the reader's connection: one read transaction, so the writer goes
 * on and the copy is the store as of one commit. */
int ctl_run_backup(struct ctl_run *r)
{
	struct store_copy_info info;
	char msg[CTL_ERR_MAX];
	if (in_data_dir(r->req->file, r->svc->data_dir)) {
		fprintf(r->err, "trapline: %s is in the data directory: a backup goes elsewhere\n",
			r->req->file);
		return CTL_EXIT_USAGE;
	}
	int rc = store_backup(r->svc->reader, r->req->file, r->req->force, &info, msg, sizeof(msg));
	if (rc == STORE_EIO && strstr(msg, "Permission denied")) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, " (the file is written as the service's user: "
						       "name a directory that user can write)");
	}
	if (rc != STORE_OK)
		return copy_fail(r, rc, msg);
	log_info("ctl", "backup file=%s bytes=%llu who=%s", r->req->file,
		 (unsigned long long)info.bytes, r->who);
	return copy_answer(r, "backup", r->req->file, &info, NULL);
}

int ctl_run_restore(struct ctl_run *r)
{
	struct store_copy_info info;
	char msg[CTL_ERR_MAX];
	if (!r->svc->data_dir || !r->svc->data_dir[0]) {
		fprintf(r->err, "trapline: restore needs --data DIR\n");
		return CTL_EXIT_USAGE;
	}
	int rc = store_restore(r->req->file, r->svc->data_dir, r->req->force, &info, msg,
			       sizeof(msg));
	if (rc == STORE_EBUSY)
		return copy_fail(r, STORE_EEXIST, msg);
	if (rc != STORE_OK)
		return copy_fail(r, rc, msg);
	return copy_answer(r, "restore", r->req->file, &info, r->svc->data_dir);
}

/* ---- verify ------------------------------------------------------------------------------ */

/* A listing as stored, or as the policy computes it now. */
struct verify_side {
	bool listed;
	int reason, detail;
	int64_t expires_at;
	const char *why_not; /* recomputed, not listed */
};

struct verify_diff {
	uint8_t ip[16];
	struct verify_side stored, now;
};

struct verify {
	struct ctl_run *r;
	struct store *s;
	struct writer_rules rules;
	struct writer_facts facts;
	int64_t since;
	struct store_listing *stored; /* every stored listing, by address */
	size_t stored_n, stored_cap;
	uint8_t (*ips)[16];           /* every address with evidence in the window */
	size_t ips_n, ips_cap;
	struct verify_diff *diffs;
	size_t diffs_n, diffs_cap;
	char **problems;              /* the integrity check's */
	size_t problems_n, problems_cap;
	size_t listed_now, pending;   /* recomputed listings; stored ones past their expiry that
					 the writer's timer has yet to end */
	bool oom;
};

static int keep_problem(const char *problem, void *arg)
{
	struct verify *v = arg;
	char *copy = strdup(problem);
	if (!copy || array_grow((void **)&v->problems, &v->problems_cap, v->problems_n + 1,
				sizeof(*v->problems)) != BASE_OK) {
		free(copy);
		v->oom = true;
		return 1;
	}
	v->problems[v->problems_n++] = copy;
	return 0;
}

static int keep_listing(const struct store_listing *l, void *arg)
{
	struct verify *v = arg;
	if (array_grow((void **)&v->stored, &v->stored_cap, v->stored_n + 1, sizeof(*v->stored)) !=
	    BASE_OK) {
		v->oom = true;
		return 1;
	}
	v->stored[v->stored_n++] = *l;
	return 0;
}

static int keep_ip(const uint8_t ip[16], void *arg)
{
	struct verify *v = arg;
	if (array_grow((void **)&v->ips, &v->ips_cap, v->ips_n + 1, sizeof(*v->ips)) != BASE_OK) {
		v->oom = true;
		return 1;
	}
	memcpy(v->ips[v->ips_n++], ip, 16);
	return 0;
}

static int cmp_ip(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int cmp_listing(const void *a, const void *b)
{
	return memcmp(((const struct store_listing *)a)->ip, ((const struct store_listing *)b)->ip,
		      16);
}

/* What the policy says of ip now, from the same facts the writer decides with. */
static int recompute(struct verify *v, const uint8_t ip[16], struct verify_side *out)
{
	int rc = writer_facts_read(v->s, &v->rules, ip, v->r->now, v->since, &v->facts);
	if (rc != WRITER_OK)
		return rc;
	struct policy_result res;
	rc = policy_evaluate(&v->r->svc->policy, v->facts.ev, v->facts.n, &v->facts.ctx,
			     v->r->now, &res, NULL);
	if (rc != POLICY_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->listed = res.listed;
	out->why_not = res.why_not;
	if (res.listed) {
		out->reason = (int)res.reason;
		out->detail = (int)res.detail;
		out->expires_at = res.expires_at;
	}
	return CTL_OK;
}

static bool sides_differ(const struct verify_side *a, const struct verify_side *b)
{
	if (a->listed != b->listed)
		return true;
	return a->listed && (a->reason != b->reason || a->detail != b->detail ||
			     a->expires_at != b->expires_at);
}

static int diff_add(struct verify *v, const uint8_t ip[16], const struct verify_side *stored,
		    const struct verify_side *now)
{
	if (array_grow((void **)&v->diffs, &v->diffs_cap, v->diffs_n + 1, sizeof(*v->diffs)) !=
	    BASE_OK)
		return CTL_ENOMEM;
	struct verify_diff *d = &v->diffs[v->diffs_n++];
	memcpy(d->ip, ip, 16);
	d->stored = *stored;
	d->now = *now;
	return CTL_OK;
}

/* One address: its stored listing (or none) against the policy's answer now. A stored listing
 * whose time is up and that the policy no longer lists is the writer's timer still to come
 * (or a stopped service's next start), not a difference. */
static int verify_ip(struct verify *v, const uint8_t ip[16], const struct store_listing *l)
{
	struct verify_side stored = {0}, now;
	int rc = recompute(v, ip, &now);
	if (rc != CTL_OK)
		return rc;
	v->listed_now += now.listed;
	if (l) {
		stored.listed = true;
		stored.reason = l->reason;
		stored.detail = l->detail;
		stored.expires_at = l->expires_at;
		if (!now.listed && l->expires_at <= v->r->now) {
			v->pending++;
			return CTL_OK;
		}
	}
	return sides_differ(&stored, &now) ? diff_add(v, ip, &stored, &now) : CTL_OK;
}

/* Every stored listing and every address with evidence in the policy's window, recomputed in
 * one read transaction: a consistent picture however busy the writer is. */
static int verify_listings(struct verify *v)
{
	const struct ctl_service *svc = v->r->svc;
	v->since = v->r->now - (int64_t)svc->policy.window_s;
	int rc = writer_rules_load(v->s, svc->default_exclusions, svc->n_default_exclusions,
				   svc->special_excluded, v->r->now, &v->rules);
	if (rc != WRITER_OK)
		return rc;
	if (store_listing_foreach(v->s, keep_listing, v) != STORE_OK ||
	    store_evidence_ips(v->s, v->since, keep_ip, v) != STORE_OK)
		return STORE_EIO;
	if (v->oom)
		return CTL_ENOMEM;
	qsort(v->stored, v->stored_n, sizeof(*v->stored), cmp_listing);
	qsort(v->ips, v->ips_n, sizeof(*v->ips), cmp_ip);
	for (size_t i = 0; i < v->stored_n && rc == CTL_OK; i++)
		rc = verify_ip(v, v->stored[i].ip, &v->stored[i]);
	for (size_t i = 0; i < v->ips_n && rc == CTL_OK; i++) {
		if (i > 0 && memcmp(v->ips[i], v->ips[i - 1], 16) == 0)
			continue;
		if (!bsearch(v->ips[i], v->stored, v->stored_n, sizeof(*v->stored), cmp_listing))
			rc = verify_ip(v, v->ips[i], NULL);
	}
	return rc;
}

static void side_text(FILE *f, const struct verify_side *s, bool recomputed)
{
	char t[TIME_STRLEN];
	if (!s->listed) {
		fprintf(f, "not listed");
		if (recomputed && s->why_not)
			fprintf(f, " (%s)", s->why_not);
		return;
	}
	time_format_iso8601(s->expires_at, t);
	fprintf(f, "listed (%s, %s) until %s", policy_reason_name((enum policy_reason)s->reason),
		evidence_class_name((enum evidence_class)s->detail), t);
}

static json_t *side_json(const struct verify_side *s, bool recomputed)
{
	if (!s->listed)
		return recomputed && s->why_not
			       ? json_pack("{s:b,s:s}", "listed", 0, "why_not", s->why_not)
			       : json_pack("{s:b}", "listed", 0);
	return json_pack("{s:b,s:s,s:s,s:o}", "listed", 1, "reason",
			 policy_reason_name((enum policy_reason)s->reason), "class",
			 evidence_class_name((enum evidence_class)s->detail), "expires_at",
			 ctl_json_time(s->expires_at));
}

static int verify_json(struct verify *v, FILE *out)
{
	json_t *diffs = json_array(), *problems = json_array();
	for (size_t i = 0; diffs && i < v->diffs_n; i++) {
		char ip[IP_STRLEN];
		ip_format(v->diffs[i].ip, ip);
		json_array_append_new(diffs, json_pack("{s:s,s:o,s:o}", "ip", ip, "stored",
						       side_json(&v->diffs[i].stored, false),
						       "recomputed",
						       side_json(&v->diffs[i].now, true)));
	}
	for (size_t i = 0; problems && i < v->problems_n; i++)
		json_array_append_new(problems, json_string(v->problems[i]));
	json_t *j = json_pack("{s:b,s:o,s:I,s:I,s:I,s:I,s:o}", "ok",
			      v->diffs_n == 0 && v->problems_n == 0, "integrity", problems,
			      "stored", (json_int_t)v->stored_n, "recomputed",
			      (json_int_t)v->listed_now, "addresses", (json_int_t)v->ips_n,
			      "expiry_pending", (json_int_t)v->pending, "differences", diffs);
	if (!j)
		return CTL_EXIT_FAIL;
	int rc = json_dumpf(j, out, JSON_INDENT(2) | CTL_JSON_FLAGS);
	json_decref(j);
	fputc('\n', out);
	return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static void verify_text(struct verify *v, FILE *out)
{
	if (v->problems_n == 0)
		fprintf(out, "integrity: ok\n");
	for (size_t i = 0; i < v->problems_n; i++)
		fprintf(out, "integrity: %s\n", v->problems[i]);
	fprintf(out, "listings: %zu stored, %zu recomputed from the evidence of %zu addresses",
		v->stored_n, v->listed_now, v->ips_n);
	if (v->pending)
		fprintf(out, ", %zu past their expiry waiting for the writer's timer", v->pending);
	fputc('\n', out);
	for (size_t i = 0; i < v->diffs_n; i++) {
		char ip[IP_STRLEN];
		ip_format(v->diffs[i].ip, ip);
		fprintf(out, "differs %s: stored ", ip);
		side_text(out, &v->diffs[i].stored, false);
		fprintf(out, ", recomputed ");
		side_text(out, &v->diffs[i].now, true);
		fputc('\n', out);
	}
	if (v->diffs_n || v->problems_n)
		fprintf(out, "verify: %zu listing%s differ%s, %zu integrity problem%s\n", v->diffs_n,
			v->diffs_n == 1 ? "" : "s", v->diffs_n == 1 ? "s" : "", v->problems_n,
			v->problems_n == 1 ? "" : "s");
	else
		fprintf(out, "verify: ok\n");
}

static void verify_free(struct verify *v)
{
	writer_facts_free(&v->facts);
	writer_rules_free(&v->rules);
	free(v->stored);
	free(v->ips);
	free(v->diffs);
	for (size_t i = 0; i < v->problems_n; i++)
		free(v->problems[i]);
	free(v->problems);
}

int ctl_run_verify(struct ctl_run *r)
{
	struct verify v;
	memset(&v, 0, sizeof(v));
	v.r = r;
	v.s = r->svc->reader;
	unsigned problems = 0;
	int rc = store_begin(v.s) == STORE_OK ? CTL_OK : STORE_EIO;
	if (rc == CTL_OK)
		rc = store_integrity_check(v.s, keep_problem, &v, &problems);
	if (rc == CTL_OK && v.oom)
		rc = CTL_ENOMEM;
	/* A file whose pages are broken gives no listing worth comparing. */
	if (rc == CTL_OK && problems == 0)
		rc = verify_listings(&v);
	store_rollback(v.s);
	if (rc != CTL_OK) {
		verify_free(&v);
		return ctl_fail_store(r, rc);
	}
	bool ok = v.diffs_n == 0 && v.problems_n == 0;
	/* A failing answer travels on the error stream (the control socket sends that one). */
	FILE *out = ok ? r->out : r->err;
	int status = r->req->json ? verify_json(&v, out) : (verify_text(&v, out), CTL_EXIT_OK);
	if (!ok)
		log_info("ctl", "verify found differences=%zu integrity_problems=%zu who=%s",
			 v.diffs_n, v.problems_n, r->who);
	verify_free(&v);
	return status != CTL_EXIT_OK ? status : ok ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}
