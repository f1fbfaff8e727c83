/* test_base_metrics.c - unit tests of src/base's metrics (the Prometheus text rendering, the
 * reads by name, the registry) and of the json log format's lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static char *render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &text, &len), BASE_OK);
	assert_int_equal(strlen(text), len);
	return text;
}

static void test_render_families(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	assert_non_null(m);
	metrics_family(m, "trapline_a_total", METRIC_COUNTER, "A's help, with a \\ and\na break.");
	metrics_value(m, 3, "kind=\"%s\",class=\"%s\"", "trap", "spam");
	metrics_family(m, "trapline_g", METRIC_GAUGE, "A gauge.");
	metrics_value(m, 0.25, NULL);
	/* A family started again gathers its samples in one place. */
	metrics_family(m, "trapline_a_total", METRIC_COUNTER, "ignored");
	metrics_value(m, 12345678901.0, "kind=\"report\",class=\"spam\"");
	char *t = render(m);
	assert_string_equal(t, "# HELP trapline_a_total A's help, with a \\\\ and\\na break.\n"
			       "# TYPE trapline_a_total counter\n"
			       "trapline_a_total{kind=\"trap\",class=\"spam\"} 3\n"
			       "trapline_a_total{kind=\"report\",class=\"spam\"} 12345678901\n"
			       "# HELP trapline_g A gauge.\n"
			       "# TYPE trapline_g gauge\n"
			       "trapline_g 0.25\n");
	free(t);
	bool found;
	assert_true(metrics_get(m, "trapline_a_total", "kind=\"trap\",class=\"spam\"", &found) == 3);
	assert_true(found);
	metrics_get(m, "trapline_a_total", NULL, &found);
	assert_false(found);
	assert_true(metrics_sum(m, "trapline_a_total", &found) == 12345678904.0);
	assert_true(found);
	metrics_sum(m, "trapline_none", &found);
	assert_false(found);
	metrics_free(m);
}

static void test_render_histogram(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	static const double le[] = {0.001, 0.01, 0.1};
	const uint64_t counts[] = {2, 0, 5};
	metrics_family(m, "trapline_h_seconds", METRIC_HISTOGRAM, "H.");
	metrics_histogram(m, le, counts, 3, 1, 1.5);
	char *t = render(m);
	/* Buckets are cumulative, +Inf equals the count. */
	assert_string_equal(t, "# HELP trapline_h_seconds H.\n"
			       "# TYPE trapline_h_seconds histogram\n"
			       "trapline_h_seconds_bucket{le=\"0.001\"} 2\n"
			       "trapline_h_seconds_bucket{le=\"0.01\"} 2\n"
			       "trapline_h_seconds_bucket{le=\"0.1\"} 7\n"
			       "trapline_h_seconds_bucket{le=\"+Inf\"} 8\n"
			       "trapline_h_seconds_sum 1.5\n"
			       "trapline_h_seconds_count 8\n");
	free(t);
	metrics_free(m);
}

static int source_calls;
static void source(void *arg, struct metrics *m)
{
	source_calls++;
	metrics_family(m, "trapline_x", METRIC_GAUGE, "X.");
	metrics_value(m, *(double *)arg, NULL);
}

static void test_registry(void **state)
{
	(void)state;
	struct metrics_registry r;
	metrics_registry_init(&r);
	double v = 7;
	for (int i = 0; i < METRICS_SOURCES_MAX; i++)
		assert_int_equal(metrics_registry_add(&r, "x", source, &v), BASE_OK);
	assert_int_equal(metrics_registry_add(&r, "x", source, &v), BASE_ERANGE);
	r.n = 1;
	struct metrics *m = metrics_collect(&r);
	assert_non_null(m);
	assert_int_equal(source_calls, 1);
	bool found;
	assert_true(metrics_get(m, "trapline_x", NULL, &found) == 7);
	metrics_get(m, "trapline_start_time_seconds", NULL, &found);
	assert_true(found);
	metrics_get(m, "trapline_uptime_seconds", NULL, &found);
	assert_true(found);
	metrics_free(m);
}

static void test_log_format_parse(void **state)
{
	(void)state;
	enum log_format f;
	assert_int_equal(log_format_parse("json", &f), BASE_OK);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("text", &f), BASE_OK);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("JSON", &f), BASE_EINVAL);
	assert_int_equal(log_format_parse("", &f), BASE_EINVAL);
}

static void test_log_json_line(void **state)
{
	(void)state;
	char out[1024];
	size_t n = log_json_line(out, sizeof(out), "2026-12-06T10:00:00.000Z", "info", "writer",
				 "loaded listings=12 serial=2026120601 ms=3 path=/var/x");
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "{\"time\":\"2026-12-06T10:00:00.000Z\",\"level\":\"info\","
				 "\"module\":\"writer\",\"message\":\"loaded\",\"listings\":12,"
				 "\"serial\":2026120601,\"ms\":3,\"path\":\"/var/x\"}\n");
	/* Quoted values lose text_escape's escapes and get JSON's; a field named like one of
	 * the four members gets a _; 007 is no number. */
	log_json_line(out, sizeof(out), "T", "error", "main",
		      "cannot open the store reason=\"a \\\"b\\\" c\\x01\" level=7 id=007 ratio=0.5");
	assert_string_equal(out, "{\"time\":\"T\",\"level\":\"error\",\"module\":\"main\","
				 "\"message\":\"cannot open the store\",\"reason\":\"a \\\"b\\\" "
				 "c\\u0001\",\"level_\":7,\"id\":\"007\",\"ratio\":0.5}\n");
	/* Words after a field still belong to the message. */
	log_json_line(out, sizeof(out), "T", "info", "main",
		      "stopped queries=3 why=\"a b\" (of 4)");
	assert_string_equal(out, "{\"time\":\"T\",\"level\":\"info\",\"module\":\"main\","
				 "\"message\":\"stopped (of 4)\",\"queries\":3,\"why\":\"a b\"}\n");
	/* No fields: the whole message; bytes that are not UTF-8 become U+FFFD. */
	log_json_line(out, sizeof(out), "T", "warn", "dns", "batch of 3 events failed: \xff");
	assert_string_equal(out, "{\"time\":\"T\",\"level\":\"warn\",\"module\":\"dns\","
				 "\"message\":\"batch of 3 events failed: \\ufffd\"}\n");
	/* Too long for the buffer: whole members only, still one closed object a line. */
	char small[80];
	n = log_json_line(small, sizeof(small), "T", "info", "m", "x a=1 b=22222222 c=3333333333");
	assert_int_equal(n, strlen(small));
	assert_true(n < sizeof(small));
	assert_string_equal(small + n - 2, "}\n");
	assert_null(strstr(small, "\"c\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_families), cmocka_unit_test(test_render_histogram),
		cmocka_unit_test(test_registry),        cmocka_unit_test(test_log_format_parse),
		cmocka_unit_test(test_log_json_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
