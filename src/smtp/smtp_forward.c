/* smtp_forward.c - a trap node's forwarder: one thread sends the spool's oldest hits in batches
 * to the primary's POST /api/v1/evidence (libcurl), deletes the rows the primary acknowledged
 * by id, and while the primary is away or failing waits, doubling the wait up to a cap. One
 * log line per change of state, not per try. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "smtp_node.h"

#define FWD_ANSWER_MAX (256 * 1024) /* bytes of the primary's answer read at most */
#define FWD_TIMEOUT_S 30            /* one request at most, connection included */
#define FWD_CONNECT_S 10

/* Where the primary stands, as the log tells it: a line each time this changes. */
enum fwd_state {
	FWD_START = 0,
	FWD_OK,       /* the primary takes hits */
	FWD_DOWN,     /* no answer: connection refused, timeout, TLS */
	FWD_FAILING,  /* 5xx, 429, or a 2xx that acknowledged none of the hits */
	FWD_REFUSED,  /* 4xx: a wrong key, or a node the primary does not know */
};

struct fwd_row {
	char id[SMTP_HIT_ID_MAX];
	char ip[IP_STRLEN];
	int64_t at;
	char cls[16];
};

struct smtp_forwarder {
	struct smtp_spool *sp;
	sqlite3 *db;
	sqlite3_stmt *sel, *del, *aside;
	CURL *curl;
	struct curl_slist *headers;
	char url[CONFIG_STR_MAX + 32];
	unsigned batch, retry_max_s;
	struct fwd_row *rows;
	pthread_t thread;
	enum fwd_state state;
	long state_status;  /* the HTTP status of the state (0: none) */
	unsigned tries;     /* failed tries since the last success */
	/* the answer being read */
	char *ans;
	size_t ans_len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct smtp_forwarder *f = arg;
	size_t len = size * n;
	if (f->ans_len + len > FWD_ANSWER_MAX)
		return 0; /* an answer this large is not the API's: the transfer fails */
	char *g = realloc(f->ans, f->ans_len + len + 1);
	if (!g)
		return 0;
	memcpy(g + f->ans_len, p, len);
	f->ans = g;
	f->ans_len += len;
	f->ans[f->ans_len] = '\0';
	return len;
}

/* A stop ends a request under way (the primary may be slow to answer). */
static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	struct smtp_forwarder *f = arg;
	return smtp_spool_stopping(f->sp) ? 1 : 0;
}

/* The oldest rows of the spool, at most f->batch. */
static size_t rows_read(struct smtp_forwarder *f)
{
	size_t n = 0;
	sqlite3_bind_int(f->sel, 1, (int)f->batch);
	while (n < f->batch && sqlite3_step(f->sel) == SQLITE_ROW) {
		struct fwd_row *r = &f->rows[n++];
		snprintf(r->id, sizeof(r->id), "%s", (const char *)sqlite3_column_text(f->sel, 0));
		snprintf(r->ip, sizeof(r->ip), "%s", (const char *)sqlite3_column_text(f->sel, 1));
		r->at = sqlite3_column_int64(f->sel, 2);
		snprintf(r->cls, sizeof(r->cls), "%s", (const char *)sqlite3_column_text(f->sel, 3));
	}
	sqlite3_reset(f->sel);
	return n;
}

/* The request's body: the API's hits, each with its id. NULL when out of memory. */
static char *body_make(const struct fwd_row *rows, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		char at[TIME_STRLEN];
		time_format_iso8601(rows[i].at, at);
		if (json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "ip", rows[i].ip, "at",
						       at, "class", rows[i].cls, "id",
						       rows[i].id)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

/* Deletes the rows whose ids the answer names (new or duplicate: the primary has both), and
 * records the time of this forward, in one transaction. Returns how many went. */
static int rows_acknowledged(struct smtp_forwarder *f, const struct smtp_fwd_answer *a,
			     uint64_t *gone)
{
	*gone = 0;
	if (sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return SMTP_EIO;
	for (size_t i = 0; i < a->n_ids; i++) {
		sqlite3_bind_text(f->del, 1, a->ids[i], -1, SQLITE_STATIC);
		int rc = sqlite3_step(f->del);
		sqlite3_reset(f->del);
		if (rc != SQLITE_DONE)
			goto fail;
		*gone += (uint64_t)sqlite3_changes(f->db);
	}
	char sql[320];
	snprintf(sql, sizeof(sql),
		 "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_forward_at', %lld),"
		 " ('forwarded', coalesce((SELECT value FROM meta WHERE key = 'forwarded'), 0) + %llu)",
		 (long long)time_now(), (unsigned long long)*gone);
	if (sqlite3_exec(f->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return SMTP_OK;
fail:
	log_err("forward", "cannot delete acknowledged hits error=\"%s\"", sqlite3_errmsg(f->db));
	sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
	*gone = 0;
	return SMTP_EIO;
}

/* A hit the primary refuses for good (an address it never counts, a time past its window)
 * would stop the spool for ever: it goes to the spool's refused table, with why. */
static int row_set_aside(struct smtp_forwarder *f, const struct fwd_row *r, const char *why)
{
	if (sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return SMTP_EIO;
	sqlite3_bind_text(f->aside, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(f->aside, 2, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(f->aside, 3, time_now());
	int rc = sqlite3_step(f->aside);
	sqlite3_reset(f->aside);
	if (rc == SQLITE_DONE) {
		sqlite3_bind_text(f->del, 1, r->id, -1, SQLITE_STATIC);
		rc = sqlite3_step(f->del);
		sqlite3_reset(f->del);
	}
	if (rc != SQLITE_DONE || sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("forward", "cannot set a hit aside error=\"%s\"", sqlite3_errmsg(f->db));
		sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
		return SMTP_EIO;
	}
	smtp_spool_forwarded(f->sp, 1);
	return SMTP_OK;
}

/* One log line when the state changes. why is escaped already (answer_words) or ours. */
static void state_set(struct smtp_forwarder *f, enum fwd_state st, long status, const char *why)
{
	if (st == f->state && status == f->state_status)
		return;
	const char *esc = why ? why : "";
	unsigned long long depth = (unsigned long long)smtp_spool_depth(f->sp);
	switch (st) {
	case FWD_OK:
		log_info("forward", "primary takes hits url=%s spool=%llu failed_tries=%u", f->url,
			 depth, f->tries);
		break;
	case FWD_DOWN:
		log_warn("forward", "primary unreachable url=%s error=\"%s\" spool=%llu: the spool "
				    "keeps the hits, retrying at most every %u s", f->url, esc, depth,
			 f->retry_max_s);
		break;
	case FWD_FAILING:
		log_warn("forward", "primary failing url=%s status=%ld answer=\"%s\" spool=%llu: "
				    "retrying at most every %u s", f->url, status, esc, depth,
			 f->retry_max_s);
		break;
	case FWD_REFUSED:
		log_err("forward", "PRIMARY REFUSES THIS NODE url=%s status=%ld answer=\"%s\" "
				   "spool=%llu: check forward_key (the feed key of `trapline feed add` "
				   "on the primary); the spool keeps the hits, retrying every %u s",
			f->url, status, esc, depth, f->retry_max_s);
		break;
	case FWD_START:
		break;
	}
	f->state = st;
	f->state_status = status;
}

/* What the answer to one request means. */
enum fwd_outcome { OUT_DONE, OUT_RETRY, OUT_REFUSED, OUT_SMALLER };

/* A 400 naming one hit as one the primary can never count (its address, or a time older
 * than its window). */
static bool hit_refused_for_good(json_t *answer, size_t sent, size_t *index)
{
	json_t *ix = json_object_get(answer, "index");
	const char *err = json_string_value(json_object_get(answer, "error"));
	if (!json_is_integer(ix) || !err)
		return false;
	json_int_t i = json_integer_value(ix);
	if (i < 0 || (size_t)i >= sent)
		return false;
	*index = (size_t)i;
	return strstr(err, ": ip: ") || strstr(err, "older than the policy's window");
}

/* The ids a 2xx names (new or duplicate), at most sent of them, each one that could be ours. */
static int ids_read(json_t *answer, size_t sent, struct smtp_fwd_answer *out)
{
	out->ids = calloc(sent ? sent : 1, sizeof(*out->ids));
	if (!out->ids)
		return SMTP_ENOMEM;
	const char *lists[] = {"new", "duplicate"};
	for (size_t l = 0; l < 2; l++) {
		json_t *v;
		size_t i;
		json_array_foreach(json_object_get(answer, lists[l]), i, v) {
			const char *id = json_string_value(v);
			if (!id || out->n_ids >= sent || json_string_length(v) == 0 ||
			    json_string_length(v) >= SMTP_HIT_ID_MAX)
				continue;
			memcpy(out->ids[out->n_ids++], id, json_string_length(v) + 1);
		}
	}
	return SMTP_OK;
}

int smtp_fwd_answer_read(long status, const char *body, size_t len, size_t sent, unsigned batch,
			 struct smtp_fwd_answer *out)
{
	memset(out, 0, sizeof(*out));
	json_error_t je;
	json_t *answer = body && len ? json_loadb(body, len, 0, &je) : NULL;
	const char *err = json_string_value(json_object_get(answer, "error"));
	char esc[TEXT_ESCAPED_MAX(200)];
	snprintf(out->why, sizeof(out->why), "%s", err ? text_escape(err, esc, sizeof(esc)) : "");
	int rc = SMTP_OK;
	out->verdict = SMTP_FWD_RETRY;
	if (status >= 200 && status < 300) {
		rc = answer ? ids_read(answer, sent, out) : SMTP_OK;
		if (rc == SMTP_OK && out->n_ids > 0)
			out->verdict = SMTP_FWD_ACK;
	} else if ((status == 413 || (status == 400 && err && strstr(err, "(feed_max_hits)"))) &&
		   batch > 1) {
		/* The primary takes fewer hits a request than forward_batch: its body limit (413)
		 * or its count (400 "... more than the N one request may carry (feed_max_hits)"). */
		out->verdict = SMTP_FWD_SMALLER;
	} else if (status == 400 && answer && hit_refused_for_good(answer, sent, &out->index)) {
		out->verdict = SMTP_FWD_SET_ASIDE;
	} else if (status >= 400 && status < 500 && status != 429 && status != 408) {
		out->verdict = SMTP_FWD_REFUSED;
	}
	json_decref(answer);
	if (rc != SMTP_OK || out->n_ids == 0)
		smtp_fwd_answer_free(out); /* only an ACK holds something */
	return rc;
}

void smtp_fwd_answer_free(struct smtp_fwd_answer *a)
{
	free(a->ids);
	a->ids = NULL;
	a->n_ids = 0;
}

/* The answer's own words for the log: its error, or the start of its body. */
static const char *answer_words(const struct smtp_forwarder *f, const struct smtp_fwd_answer *a,
				char *buf, size_t cap)
{
	if (a->why[0])
		return a->why;
	char raw[201];
	snprintf(raw, sizeof(raw), "%.*s", (int)(f->ans_len < 200 ? f->ans_len : 200),
		 f->ans ? f->ans : "");
	return text_escape(raw, buf, cap);
}

static enum fwd_outcome answer_handle(struct smtp_forwarder *f, long status, size_t n)
{
	struct smtp_fwd_answer a;
	if (smtp_fwd_answer_read(status, f->ans, f->ans_len, n, f->batch, &a) != SMTP_OK)
		return OUT_RETRY;
	char words[TEXT_ESCAPED_MAX(200)];
	enum fwd_outcome out = OUT_RETRY;
	uint64_t gone = 0;
	switch (a.verdict) {
	case SMTP_FWD_ACK:
		if (rows_acknowledged(f, &a, &gone) == SMTP_OK && gone > 0) {
			smtp_spool_forwarded(f->sp, gone);
			log_debug("forward", "hits forwarded sent=%zu acknowledged=%llu", n,
				  (unsigned long long)gone);
			state_set(f, FWD_OK, 0, NULL);
			out = OUT_DONE;
		} else {
			state_set(f, FWD_FAILING, status, "a 2xx that acknowledged none of the ids");
		}
		break;
	case SMTP_FWD_SMALLER:
		f->batch /= 2; /* the primary's feed_max_hits is below forward_batch */
		log_warn("forward", "primary takes fewer hits a request status=%ld batch=%u", status,
			 f->batch);
		out = OUT_SMALLER;
		break;
	case SMTP_FWD_SET_ASIDE:
		log_err("forward", "hit refused for good id=%s ip=%s reason=\"%s\": kept in the "
				   "spool's refused table", f->rows[a.index].id, f->rows[a.index].ip,
			a.why);
		out = row_set_aside(f, &f->rows[a.index], a.why) == SMTP_OK ? OUT_SMALLER : OUT_RETRY;
		break;
	case SMTP_FWD_REFUSED:
		state_set(f, FWD_REFUSED, status, answer_words(f, &a, words, sizeof(words)));
		out = OUT_REFUSED;
		break;
	case SMTP_FWD_RETRY:
	default:
		state_set(f, FWD_FAILING, status,
			  status >= 200 && status < 300 ? "a 2xx that acknowledged none of the ids"
							: answer_words(f, &a, words, sizeof(words)));
		break;
	}
	smtp_fwd_answer_free(&a);
	return out;
}

/* Sends rows[0..n) once; what to do next. */
static enum fwd_outcome send_batch(struct smtp_forwarder *f, size_t n)
{
	char *body = body_make(f->rows, n);
	if (!body)
		return OUT_RETRY;
	free(f->ans);
	f->ans = NULL;
	f->ans_len = 0;
	curl_easy_setopt(f->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(f->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	CURLcode cc = curl_easy_perform(f->curl);
	free(body);
	if (cc != CURLE_OK) {
		if (!smtp_spool_stopping(f->sp))
			state_set(f, FWD_DOWN, 0, curl_easy_strerror(cc));
		return OUT_RETRY;
	}
	long status = 0;
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
	return answer_handle(f, status, n);
}

static void *forward_main(void *arg)
{
	struct smtp_forwarder *f = arg;
	unsigned wait_s = 1;
	for (;;) {
		size_t n = rows_read(f);
		if (n == 0) {
			/* Rows counted but none read (a busy file): a second, not a spin. */
			if (!smtp_spool_wait(f->sp, 1000, smtp_spool_depth(f->sp) == 0))
				break;
			continue;
		}
		enum fwd_outcome out = send_batch(f, n);
		if (smtp_spool_stopping(f->sp))
			break;
		if (out == OUT_DONE || out == OUT_SMALLER) {
			f->tries = 0;
			wait_s = 1;
			continue;
		}
		f->tries++;
		/* A refusal will not mend itself soon: the longest wait at once. */
		if (out == OUT_REFUSED)
			wait_s = f->retry_max_s;
		if (!smtp_spool_wait(f->sp, wait_s * 1000, false))
			break;
		wait_s = wait_s * 2 > f->retry_max_s ? f->retry_max_s : wait_s * 2;
	}
	return NULL;
}

static int curl_setup(struct smtp_forwarder *f, const char *key)
{
	f->curl = curl_easy_init();
	if (!f->curl)
		return SMTP_ENOMEM;
	char auth[160];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	f->headers = curl_slist_append(NULL, auth);
	f->headers = curl_slist_append(f->headers, "Content-Type: application/json");
	f->headers = curl_slist_append(f->headers, "Expect:"); /* no 100-continue round trip */
	if (!f->headers)
		return SMTP_ENOMEM;
	CURL *c = f->curl;
	curl_easy_setopt(c, CURLOPT_URL, f->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)FWD_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)FWD_CONNECT_S);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
	/* Only HTTP(S), and never to another host: the key goes where forward_url says. */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "trapline-node");
	return SMTP_OK;
}

int smtp_forward_start(struct smtp_spool *sp, const char *data_dir,
		       const struct smtp_node_config *cfg, struct smtp_forwarder **out)
{
	*out = NULL;
	struct smtp_forwarder *f = calloc(1, sizeof(*f));
	if (!f)
		return SMTP_ENOMEM;
	f->sp = sp;
	f->batch = cfg->batch ? cfg->batch : 1;
	f->retry_max_s = cfg->retry_max_s ? cfg->retry_max_s : 1;
	snprintf(f->url, sizeof(f->url), "%s/api/v1/evidence", cfg->url);
	f->rows = calloc(f->batch, sizeof(*f->rows));
	int rc = f->rows ? smtp_spool_db_open(data_dir, false, &f->db) : SMTP_ENOMEM;
	if (rc != SMTP_OK)
		goto fail;
	rc = SMTP_EIO;
	if (sqlite3_prepare_v2(f->db, "SELECT id, ip, at, class FROM hits ORDER BY seq LIMIT ?1",
			       -1, &f->sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "DELETE FROM hits WHERE id = ?1", -1, &f->del, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "INSERT OR REPLACE INTO refused (id, ip, at, class,"
				      " refused_at, why) SELECT id, ip, at, class, ?3, ?2 FROM hits"
				      " WHERE id = ?1", -1, &f->aside, NULL) != SQLITE_OK) {
		log_err("forward", "cannot read the spool error=\"%s\"", sqlite3_errmsg(f->db));
		goto fail;
	}
	if ((rc = curl_setup(f, cfg->key)) != SMTP_OK)
		goto fail;
	log_info("forward", "starting url=%s batch=%u retry_max=%u", f->url, f->batch,
		 f->retry_max_s);
	if (pthread_create(&f->thread, NULL, forward_main, f) != 0) {
		rc = SMTP_ENOMEM;
		goto fail;
	}
	pthread_setname_np(f->thread, "tl-forward");
	*out = f;
	return SMTP_OK;
fail:
	f->thread = 0;
	smtp_forward_free(f);
	return rc;
}

void smtp_forward_free(struct smtp_forwarder *f)
{
	if (!f)
		return;
	curl_slist_free_all(f->headers);
	curl_easy_cleanup(f->curl);
	sqlite3_finalize(f->sel);
	sqlite3_finalize(f->del);
	sqlite3_finalize(f->aside);
	sqlite3_close(f->db);
	free(f->rows);
	free(f->ans);
	free(f);
}

void smtp_forward_join(struct smtp_forwarder *f)
{
	if (f)
		pthread_join(f->thread, NULL);
}
