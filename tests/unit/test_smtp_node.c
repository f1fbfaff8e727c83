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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
