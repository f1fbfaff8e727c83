/* test_web.c - unit tests of the web module's cores: the escaping, the template function, the
 * path and input parsers, the chart, durations in words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/web.h"

/* The escaped form of s, as a new string. */
static char *html(const char *s, size_t n)
{
	struct web_buf b;
	web_buf_init(&b);
	web_escape_html(&b, s, n);
	char *r = strdup(b.data ? b.data : "");
	web_buf_free(&b);
	return r;
}

static void test_escape_html(void **state)
{
	(void)state;
	const char *in = "<script>alert('x')</script> & \"q\"";
	char *r = html(in, strlen(in));
	assert_string_equal(r, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
	free(r);
	/* Valid UTF-8 stays, invalid bytes and controls become U+FFFD; NUL does not end it. */
	r = html("caf\xc3\xa9 \xff\xc0\xaf|\x01|\0|", 14);
	assert_string_equal(r, "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd|"
			       "\xef\xbf\xbd|");
	free(r);
	/* An overlong '<' (0xc0 0xbc) must not come back as '<'. */
	r = html("\xc0\xbc\xe0\x80\xbc", 5);
	assert_null(strchr(r, '<'));
	free(r);
	r = html("plain text", 10);
	assert_string_equal(r, "plain text");
	free(r);
}

static void test_escape_url(void **state)
{
	(void)state;
	struct web_buf b;
	web_buf_init(&b);
	web_escape_url(&b, "2001:db8::1 /?&=<\"", 18);
	assert_string_equal(b.data, "2001%3Adb8%3A%3A1%20%2F%3F%26%3D%3C%22");
	web_buf_free(&b);
}

static int render(const char *t, const struct web_var *v, size_t n, char **out)
{
	struct web_buf b;
	web_buf_init(&b);
	char err[128];
	int rc = web_render(&b, t, strlen(t), v, n, err, sizeof(err));
	if (rc != WEB_OK)
		assert_true(err[0] != '\0'); /* a refusal says why */
	*out = strdup(b.data ? b.data : "");
	web_buf_free(&b);
	return rc;
}

static void test_render(void **state)
{
	(void)state;
	struct web_var v[] = {
		{"name", WEB_TEXT, "<b>\"x\""},
		{"markup", WEB_HTML, "<svg></svg>"},
		{"yes", WEB_TEXT, "1"},
		{"no", WEB_TEXT, NULL},
		{"empty", WEB_TEXT, ""},
		{"ip", WEB_TEXT, "2001:db8::1"},
	};
	char *out;
	assert_int_equal(render("a {{name}} b {{markup}} <a href=\"/l?ip={{url:ip}}\">", v, 6, &out),
			 WEB_OK);
	assert_string_equal(out, "a &lt;b&gt;&quot;x&quot; b <svg></svg> "
				 "<a href=\"/l?ip=2001%3Adb8%3A%3A1\">");
	free(out);
	assert_int_equal(render("{{#yes}}Y{{#no}}N{{/no}}{{^no}}n{{/no}}{{/yes}}{{^yes}}!{{/yes}}"
				"{{#empty}}E{{/empty}}{{^empty}}e{{/empty}}",
				v, 6, &out),
			 WEB_OK);
	assert_string_equal(out, "Yne");
	free(out);
	/* The same section nested in itself closes at its own end. */
	assert_int_equal(render("{{#yes}}1{{#yes}}2{{/yes}}3{{/yes}}4", v, 6, &out), WEB_OK);
	assert_string_equal(out, "1234");
	free(out);
	/* Mistakes are refused, never rendered half-way into a page. */
	const char *bad[] = {"{{nosuch}}", "{{#yes}}unclosed", "{{/yes}}", "{{name", "{{url:markup}}",
			     "{{#nosuch}}x{{/nosuch}}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(render(bad[i], v, 6, &out), WEB_EINVAL);
		free(out);
	}
	/* A value that looks like a mark is text, not a mark. */
	struct web_var tricky[] = {{"x", WEB_TEXT, "{{y}}"}, {"y", WEB_TEXT, "secret"}};
	assert_int_equal(render("{{x}}", tricky, 2, &out), WEB_OK);
	assert_string_equal(out, "{{y}}");
	free(out);
}

static void route(const char *path, enum web_route_id id, const char *arg)
{
	struct web_route r;
	assert_int_equal(web_route_parse(path, strlen(path), &r), WEB_OK);
	assert_int_equal(r.id, id);
	if (arg) {
		assert_int_equal(r.arg_len, strlen(arg));
		assert_memory_equal(r.arg, arg, r.arg_len);
	}
}

static void test_route(void **state)
{
	(void)state;
	route("/", WEB_R_HOME, NULL);
	route("/lookup", WEB_R_LOOKUP, NULL);
	route("/about/end-users", WEB_R_END_USERS, NULL);
	route("/about/listing", WEB_R_LISTING, NULL);
	route("/about/usage", WEB_R_USAGE, NULL);
	route("/about/warranty", WEB_R_WARRANTY, NULL);
	route("/static/style.css", WEB_R_STATIC, "style.css");
	route("/api/v1/", WEB_R_API_INDEX, NULL);
	route("/api/v1/lookup/192.0.2.1", WEB_R_API_LOOKUP, "192.0.2.1");
	route("/api/v1/lookup/2001:db8::1", WEB_R_API_LOOKUP, "2001:db8::1");
	route("/api/v1/history/::ffff:192.0.2.1", WEB_R_API_HISTORY, "::ffff:192.0.2.1");
	route("/api/v1/figures", WEB_R_API_FIGURES, NULL);
	route("/favicon.ico", WEB_R_FAVICON, NULL);
	route("/api/v1/reports", WEB_R_API_REPORTS, NULL);
	route("/api/v1/reports/d9e43dfc4d94b9053e33f0beecf9c96f", WEB_R_API_REPORT,
	      "d9e43dfc4d94b9053e33f0beecf9c96f");
	route("/api/v1/reports/", WEB_R_NOTFOUND, NULL);
	route("/api/v1/reports/a/b", WEB_R_NOTFOUND, NULL);
	route("/api/v1/evidence", WEB_R_API_EVIDENCE, NULL);
	route("/api/v1/evidence/", WEB_R_NOTFOUND, NULL);
	/* Nothing below a name, no way up. */
	route("/static/../../etc/passwd", WEB_R_NOTFOUND, NULL);
	route("/static/..", WEB_R_STATIC, ".."); /* a name no file has: 404 at the lookup */
	route("/static/", WEB_R_NOTFOUND, NULL);
	route("/static/a/b.css", WEB_R_NOTFOUND, NULL);
	route("/api/v1/lookup/1.2.3.4/x/y", WEB_R_NOTFOUND, NULL);
	route("/api/v1/lookup/192.0.2.0/24", WEB_R_API_LOOKUP, "192.0.2.0/24");
	assert_false(web_uri_clean("/static/a.css%00.html", 21));
	assert_false(web_uri_clean("/lookup?ip=%1b", 14));
	assert_false(web_uri_clean("/x%7F", 5));
	assert_false(web_uri_clean("/x\ty", 4));
	assert_true(web_uri_clean("/lookup?ip=%3Cb%3E%20%2F", 24));
	assert_true(web_uri_clean("/x%2", 4));
	route("/lookup/", WEB_R_NOTFOUND, NULL);
	route("//", WEB_R_NOTFOUND, NULL);
	route("/ABOUT/listing", WEB_R_NOTFOUND, NULL);
	struct web_route r;
	assert_int_equal(web_route_parse("", 0, &r), WEB_EINVAL);
	assert_int_equal(web_route_parse("lookup", 6, &r), WEB_EINVAL);
	assert_int_equal(web_route_parse("/a\0b", 4, &r), WEB_EINVAL);
	assert_int_equal(web_route_parse("/a\nb", 4, &r), WEB_EINVAL);
	char longp[WEB_PATH_MAX + 2];
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	assert_int_equal(web_route_parse(longp, sizeof(longp), &r), WEB_EINVAL);
}

static enum web_input_kind input(const char *s, struct web_input *in)
{
	web_input_parse(s, strlen(s), in);
	return in->kind;
}

/* The key of "Authorization: Bearer KEY" (RFC 6750 2.1), and what is no key at all. */
static void bearer(const char *header, const char *want)
{
	const char *key = (const char *)1;
	size_t len = 99;
	bool ok = web_bearer_parse(header, &key, &len);
	if (!want) {
		assert_false(ok);
		assert_null(key);
		assert_int_equal(len, 0);
		return;
	}
	assert_true(ok);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(key, want, len);
}

static void test_bearer(void **state)
{
	(void)state;
	bearer("Bearer tlr_abc", "tlr_abc");
	bearer("bearer tlr_abc", "tlr_abc"); /* the scheme in any case */
	bearer("BEARER \t  tlr_abc  ", "tlr_abc");
	bearer(NULL, NULL);
	bearer("", NULL);
	bearer("Bearer", NULL);
	bearer("Bearer ", NULL);
	bearer("Bearertlr_abc", NULL);
	bearer("Basic dGxyOmFiYw==", NULL);
	bearer("Bearer tlr_abc tlr_def", NULL); /* one token, nothing after it */
	bearer(" Bearer tlr_abc", NULL);
}

static void test_input(void **state)
{
	(void)state;
	struct web_input in;
	assert_int_equal(input("  192.0.2.1 \n", &in), WEB_INPUT_IP);
	assert_string_equal(in.text, "192.0.2.1");
	assert_true(ip_is_v4(in.ip));
	assert_int_equal(ip_v4(in.ip), 0xc0000201);
	assert_int_equal(input("2001:DB8::1", &in), WEB_INPUT_IP);
	assert_false(ip_is_v4(in.ip));
	assert_int_equal(input("::ffff:192.0.2.1", &in), WEB_INPUT_IP);
	assert_true(ip_is_v4(in.ip));
	assert_int_equal(input("192.0.2.1/32", &in), WEB_INPUT_IP);
	assert_int_equal(input("192.0.2.0/24", &in), WEB_INPUT_CIDR);
	assert_false(in.prefix_host_bits);
	assert_int_equal(in.prefix.plen, 96 + 24);
	assert_int_equal(input("192.0.2.7/24", &in), WEB_INPUT_CIDR);
	assert_true(in.prefix_host_bits);
	assert_int_equal(in.prefix.plen, 96 + 24);
	assert_int_equal(ip_v4(in.ip), 0xc0000207); /* the address typed, to offer it */
	char buf[IP_PREFIX_STRLEN];
	ip_prefix_format(&in.prefix, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.0/24");
	assert_int_equal(input("2001:db8::1/48", &in), WEB_INPUT_CIDR);
	ip_prefix_format(&in.prefix, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::/48");
	assert_int_equal(input("mail.example.com", &in), WEB_INPUT_HOSTNAME);
	assert_int_equal(input("", &in), WEB_INPUT_EMPTY);
	assert_int_equal(input("   ", &in), WEB_INPUT_EMPTY);
	const char *bad[] = {"<script>alert(1)</script>", "1.2.3", "1.2.3.4.5", "256.0.0.1",
			     "' OR 1=1 --", "localhost", "1.2.3.4/33", "1.2.3.4/", "../../etc/passwd",
			     "1.2.3.4 5.6.7.8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(input(bad[i], &in), WEB_INPUT_BAD);
	char longs[WEB_INPUT_MAX + 10];
	memset(longs, '1', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_int_equal(input(longs, &in), WEB_INPUT_TOOLONG);
	assert_int_equal(in.text_len, WEB_INPUT_MAX);
	web_input_parse("1.2.3.4\0x", 9, &in);
	assert_int_equal(in.kind, WEB_INPUT_BAD);
}

static void test_svg(void **state)
{
	(void)state;
	struct ctl_history h;
	memset(&h, 0, sizeof(h));
	h.from = 1795392000; /* 2026-11-23T00:00:00Z */
	h.at = h.from + 29 * 86400 + 3600;
	h.traps[0] = 3;
	h.reports[0] = 1;
	h.traps[29] = 7;
	h.reports[12] = 2;
	h.episodes[0] = (struct ctl_episode){h.from + 3600, h.from + 86400 * 2, POLICY_REASON_BOTH};
	h.episodes[1] = (struct ctl_episode){h.from + 29 * 86400, 0, POLICY_REASON_TRAPS};
	h.n_episodes = 2;
	struct web_buf b;
	web_buf_init(&b);
	web_svg_history(&b, &h);
	assert_false(b.oom);
	assert_non_null(strstr(b.data, "<svg class=\"chart\""));
	assert_non_null(strstr(b.data, "data-day=\"2026-11-23\" data-traps=\"3\" data-reports=\"1\""));
	assert_non_null(strstr(b.data, "data-day=\"2026-12-05\" data-traps=\"0\" data-reports=\"2\""));
	assert_non_null(strstr(b.data, "data-day=\"2026-12-22\" data-traps=\"7\" data-reports=\"0\""));
	assert_non_null(strstr(b.data, "data-from=\"2026-11-23T01:00:00Z\" data-to=\"2026-11-25T00:00:00Z\""));
	assert_non_null(strstr(b.data, "data-to=\"now\" data-current=\"1\""));
	/* 30 days, one group each; the tallest day is 7, the scale's top 10. */
	size_t days = 0;
	for (const char *p = b.data; (p = strstr(p, "class=\"day\"")); p++)
		days++;
	assert_int_equal(days, 30);
	assert_non_null(strstr(b.data, ">10</text>"));
	assert_non_null(strstr(b.data, "10 trap hits and 3 reports in 30 days; 2 listed periods"));
	web_buf_free(&b);
}

static void duration(int64_t s, const char *want)
{
	struct web_buf b;
	web_buf_init(&b);
	web_duration(&b, s);
	assert_string_equal(b.data, want);
	web_buf_free(&b);
}

static void test_duration(void **state)
{
	(void)state;
	duration(604800, "7 days");
	duration(86400, "24 hours");
	duration(172800, "48 hours");
	duration(43200, "12 hours");
	duration(3600, "1 hour");
	duration(5400, "90 minutes");
	duration(61, "61 seconds");
	duration(1, "1 second");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_html), cmocka_unit_test(test_escape_url),
		cmocka_unit_test(test_render),      cmocka_unit_test(test_route),
		cmocka_unit_test(test_input),       cmocka_unit_test(test_svg),
		cmocka_unit_test(test_duration),    cmocka_unit_test(test_bearer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
