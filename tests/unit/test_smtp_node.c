/* test_smtp_node.c - a trap node's spool through smtp.h: a hit is answered only once it is
 * committed, each with an id of the node's name and 32 hex digits, a full spool refuses at
 * once (the trap's 451), the spool outlives a stop, and smtp_spool_stats reads it (and says
 * when a data directory is no node's). The primary is an address nothing answers at: the
 * forwarder keeps everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "smtp/smtp.h"

struct answers {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	int n, ok;
};

static void on_done(void *arg, int result)
{
	struct answers *a = arg;
	pthread_mutex_lock(&a->mtx);
	a->n++;
	a->ok += result == WRITER_OK;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->mtx);
}

static void wait_answers(struct answers *a, int n)
{
	pthread_mutex_lock(&a->mtx);
	while (a->n < n)
		pthread_cond_wait(&a->cond, &a->mtx);
	pthread_mutex_unlock(&a->mtx);
}

static void config(struct smtp_node_config *c, const char *dir, uint64_t max)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->data_dir, sizeof(c->data_dir), "%s", dir);
	snprintf(c->node, sizeof(c->node), "node a/b.example");
	snprintf(c->url, sizeof(c->url), "http://127.0.0.1:1"); /* nothing answers */
	snprintf(c->key, sizeof(c->key), "tlf_x");
	c->spool_max = max;
	c->batch = 10;
	c->retry_max_s = 1;
}

static struct writer_event hit(const char *ip)
{
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_EVIDENCE;
	assert_int_equal(ip_parse(ip, strlen(ip), ev.evidence.ip), BASE_OK);
	ev.evidence.kind = STORE_KIND_TRAP;
	ev.evidence.cls = STORE_CLASS_BOUNCE;
	ev.evidence.received_at = 1800000000;
	return ev;
}

static void test_spool(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_smtp_node.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct smtp_spool_stats st;
	assert_int_equal(smtp_spool_stats(dir, &st), TL_ENOTFOUND); /* not a node (yet) */

	struct smtp_node_config c;
	config(&c, dir, 3);
	struct smtp_node *node = NULL;
	assert_int_equal(smtp_node_start(&c, &node), SMTP_OK);
	struct smtp_sink sink;
	smtp_node_sink(node, &sink);
	struct answers a = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	struct writer_event ev[4] = {hit("193.0.2.1"), hit("193.0.2.2"), hit("2a01:db8::7"),
				     hit("193.0.2.4")};
	for (int i = 0; i < 3; i++)
		assert_int_equal(sink.post(sink.ctx, &ev[i], on_done, &a), WRITER_OK);
	wait_answers(&a, 3);
	assert_int_equal(a.ok, 3);
	/* Three rows: the fourth is refused at once, and never answered. */
	assert_int_equal(sink.post(sink.ctx, &ev[3], on_done, &a), WRITER_EFULL);
	assert_int_equal(smtp_spool_stats(dir, &st), SMTP_OK);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.oldest_at, 1800000000);
	assert_int_equal(st.last_forward_at, 0); /* nothing answers at the primary's address */
	smtp_node_stop(node);
	assert_int_equal(a.n, 3);

	/* The file: each hit with an id of its own, the name made safe, as the trap saw it. */
	char path[300];
	snprintf(path, sizeof(path), "%s/spool.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st2;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(DISTINCT id), min(id GLOB"
						" 'node-a-b.example-[0-9a-f]*' AND length(id) = 49),"
						" group_concat(ip, ' '), min(class) FROM hits",
					    -1, &st2, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st2), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st2, 0), 3);
	assert_int_equal(sqlite3_column_int(st2, 1), 1);
	assert_string_equal((const char *)sqlite3_column_text(st2, 2),
			    "193.0.2.1 193.0.2.2 2a01:db8::7");
	assert_string_equal((const char *)sqlite3_column_text(st2, 3), "bounce");
	sqlite3_finalize(st2);
	sqlite3_close(db);

	/* A restart finds them: still full. */
	assert_int_equal(smtp_node_start(&c, &node), SMTP_OK);
	smtp_node_sink(node, &sink);
	assert_int_equal(sink.post(sink.ctx, &ev[3], on_done, &a), WRITER_EFULL);
	smtp_node_stop(node);
	assert_int_equal(smtp_spool_stats(dir, &st), SMTP_OK);
	assert_int_equal(st.depth, 3);

	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static struct smtp_fwd_answer answer(long status, const char *body, size_t sent)
{
	struct smtp_fwd_answer a;
	assert_int_equal(smtp_fwd_answer_read(status, body, body ? strlen(body) : 0, sent, 8, &a),
			 SMTP_OK);
	return a;
}

/* The primary's answers, as the forwarder reads them. */
static void test_answer(void **state)
{
	(void)state;
	struct smtp_fwd_answer a = answer(201, "{\"feed\": \"n\", \"stored\": 1, \"duplicates\": 1,"
					   " \"new\": [\"n-1\"], \"duplicate\": [\"n-2\", 7]}", 3);
	assert_int_equal(a.verdict, SMTP_FWD_ACK);
	assert_int_equal(a.n_ids, 2);
	assert_string_equal(a.ids[0], "n-1");
	assert_string_equal(a.ids[1], "n-2");
	smtp_fwd_answer_free(&a);
	/* More ids than were sent: never more than sent are taken. */
	a = answer(200, "{\"new\": [\"a\", \"b\", \"c\"]}", 2);
	assert_int_equal(a.n_ids, 2);
	smtp_fwd_answer_free(&a);
	/* A 2xx that names none (an old primary, a proxy's page): try again, delete nothing. */
	a = answer(201, "{\"feed\": \"n\", \"stored\": 2}", 2);
	assert_int_equal(a.verdict, SMTP_FWD_RETRY);
	assert_int_equal(a.n_ids, 0);
	a = answer(200, "<html>ok</html>", 2);
	assert_int_equal(a.verdict, SMTP_FWD_RETRY);
	a = answer(503, "{\"error\": \"not stored: the writer's queue is full\"}", 2);
	assert_int_equal(a.verdict, SMTP_FWD_RETRY);
	assert_string_equal(a.why, "not stored: the writer's queue is full");
	assert_int_equal(answer(429, NULL, 2).verdict, SMTP_FWD_RETRY);
	a = answer(401, "{\"error\": \"a feed's key is needed\"}", 2);
	assert_int_equal(a.verdict, SMTP_FWD_REFUSED);
	assert_int_equal(answer(413, "", 2).verdict, SMTP_FWD_SMALLER);
	assert_int_equal(answer(400, "{\"error\": \"500 hits, more than the 400 one request may carry"
				     " (feed_max_hits): send them in several requests\", \"index\": null}",
				2).verdict, SMTP_FWD_SMALLER);
	/* 400 naming a hit the primary can never count: that one goes aside. */
	a = answer(400, "{\"error\": \"hit 1: ip: 192.168.1.1 is in 192.168.0.0/16\", \"index\": 1}", 2);
	assert_int_equal(a.verdict, SMTP_FWD_SET_ASIDE);
	assert_int_equal(a.index, 1);
	a = answer(400, "{\"error\": \"hit 0: at: 2026-01-01T00:00:00Z is older than the policy's "
			"window of 604800 s (policy_window): it would never count\", \"index\": 0}", 2);
	assert_int_equal(a.verdict, SMTP_FWD_SET_ASIDE);
	/* ...but not an index past what was sent, nor a refusal of the request's form. */
	assert_int_equal(answer(400, "{\"error\": \"hit 5: ip: x\", \"index\": 5}", 2).verdict,
			 SMTP_FWD_REFUSED);
	assert_int_equal(answer(400, "{\"error\": \"hit 0: unknown key \\\"id\\\"\", \"index\": 0}", 2)
				 .verdict, SMTP_FWD_REFUSED);
	/* What is shown of an error is one line, its control bytes escaped (text_escape). */
	a = answer(401, "{\"error\": \"bad\\nkey\\u0001\"}", 2);
	assert_string_equal(a.why, "bad\\nkey\\x01");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
