/* test_web_form.c - unit tests of what the review and moderation pages read from a browser:
 * the urlencoded form parser, the Cookie header parser, Set-Cookie, the forms' tokens, the
 * login lockout and the routes of the new pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/web.h"

static const char *const fields[] = {"ip", "email", "fixed", "comment", "csrf_token", NULL};

static int parse(const char *body, struct web_form *f, char *err)
{
	return web_form_parse(body, strlen(body), fields, f, err, 128);
}

static void test_form_decodes(void **state)
{
	(void)state;
	struct web_form f;
	char err[128];
	assert_int_equal(parse("ip=192.0.2.1&email=a%40b.example&fixed=closed+the+relay%21"
			       "&comment=&csrf_token=x",
			       &f, err),
			 WEB_OK);
	size_t n;
	assert_string_equal(web_form_get(&f, "ip", &n), "192.0.2.1");
	assert_string_equal(web_form_get(&f, "email", &n), "a@b.example");
	assert_string_equal(web_form_get(&f, "fixed", &n), "closed the relay!");
	assert_int_equal(n, 17);
	assert_string_equal(web_form_get(&f, "comment", &n), "");
	assert_int_equal(n, 0);
	assert_null(web_form_get(&f, "nothing", &n));
	web_form_free(&f);

	/* A value may hold any byte, NUL included: its length says where it ends. */
	assert_int_equal(parse("fixed=a%00b%0D%0Ac&ip", &f, err), WEB_OK);
	const char *v = web_form_get(&f, "fixed", &n);
	assert_int_equal(n, 6);
	assert_memory_equal(v, "a\0b\r\nc", 6);
	assert_string_equal(web_form_get(&f, "ip", &n), ""); /* a name alone: an empty value */
	web_form_free(&f);

	/* Empty pieces are nothing (a trailing '&', "&&"); '=' inside a value stays. */
	assert_int_equal(parse("&&ip=a=b&&", &f, err), WEB_OK);
	assert_int_equal(f.n, 1);
	assert_string_equal(web_form_get(&f, "ip", &n), "a=b");
	web_form_free(&f);
	assert_int_equal(parse("", &f, err), WEB_OK);
	assert_int_equal(f.n, 0);
	web_form_free(&f);
}

static void test_form_refuses(void **state)
{
	(void)state;
	struct web_form f;
	char err[128];
	static const char *const bad[] = {
		"ip=1&ip=2",            /* twice: which one is meant? */
		"admin=1",              /* not a field of this form */
		"=x",                   /* no name */
		"%69p=x&ip=y",          /* the same name, escaped */
		"ip=%zz",               /* broken escapes */
		"ip=%4",
		"ip=%",
		"i%p=1",
		"%00=1",                /* a NUL in a name */
		"fixed<script>=1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], &f, err), WEB_EINVAL);
		assert_true(err[0] != '\0');
		assert_null(f.buf); /* nothing left to free */
		assert_null(strchr(err, '<'));
	}
	/* More fields than a form may have. */
	static const char *const many[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i",
					   "j", "k", "l", "m", "n", "o", "p", "q", NULL};
	char body[256] = "";
	for (size_t i = 0; many[i]; i++) {
		strcat(body, many[i]);
		strcat(body, "=1&");
	}
	assert_int_equal(web_form_parse(body, strlen(body), many, &f, err, sizeof(err)), WEB_EINVAL);
	assert_non_null(strstr(err, "too many"));
}

static void test_cookie_get(void **state)
{
	(void)state;
	const char *v;
	size_t n;
	const char *h = "theme=dark; tl_csrf=0123abcd;tl_session=\"ff00\"  ; other";
	assert_int_equal(web_cookie_get(h, strlen(h), "tl_csrf", &v, &n), WEB_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(v, "0123abcd", 8);
	assert_int_equal(web_cookie_get(h, strlen(h), "tl_session", &v, &n), WEB_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(v, "ff00", 4);
	assert_int_equal(web_cookie_get(h, strlen(h), "tl", &v, &n), WEB_ENOTFOUND);
	assert_int_equal(web_cookie_get(h, strlen(h), "other", &v, &n), WEB_ENOTFOUND);
	/* A name is matched whole: "xtl_csrf" is not "tl_csrf". */
	const char *h2 = "xtl_csrf=1";
	assert_int_equal(web_cookie_get(h2, strlen(h2), "tl_csrf", &v, &n), WEB_ENOTFOUND);
	/* Twice: refused, whichever is first (a subdomain may plant one). */
	const char *h3 = "tl_session=aa; tl_session=bb";
	assert_int_equal(web_cookie_get(h3, strlen(h3), "tl_session", &v, &n), WEB_EINVAL);
	assert_null(v); /* found by the fuzzer: the first one's value was left in place */
	assert_int_equal(n, 0);
	/* Bytes a cookie value may not hold. */
	const char *h4 = "tl_session=a\\b";
	assert_int_equal(web_cookie_get(h4, strlen(h4), "tl_session", &v, &n), WEB_EINVAL);
	/* The length given is the end, whatever follows. */
	const char *h5 = "a=1; tl_csrf=zz";
	assert_int_equal(web_cookie_get(h5, 4, "tl_csrf", &v, &n), WEB_ENOTFOUND);
	assert_int_equal(web_cookie_get(h5, strlen(h5) - 1, "tl_csrf", &v, &n), WEB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(web_cookie_get("", 0, "a", &v, &n), WEB_ENOTFOUND);
	assert_int_equal(web_cookie_get(NULL, 0, "a", &v, &n), WEB_ENOTFOUND);
}

static void test_cookie_format(void **state)
{
	(void)state;
	char b[256];
	assert_true(web_cookie_format(b, sizeof(b), "tl_session", "abc", "/admin", 3600, false));
	assert_string_equal(b, "tl_session=abc; Path=/admin; Max-Age=3600; HttpOnly; SameSite=Strict");
	assert_true(web_cookie_format(b, sizeof(b), "tl_session", "", "/admin", 0, true));
	assert_string_equal(b, "tl_session=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
	assert_false(web_cookie_format(b, 16, "tl_session", "abc", "/admin", 3600, false));
}

static void test_csrf(void **state)
{
	(void)state;
	uint8_t key[WEB_CSRF_KEY_LEN], other[WEB_CSRF_KEY_LEN];
	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	char t[WEB_CSRF_LEN + 1];
	const char *cookie = "0123456789abcdef0123456789abcdef";
	web_csrf_make(key, "review", cookie, 32, "192.0.2.1", 1000000, t);
	assert_int_equal(strlen(t), WEB_CSRF_LEN);
	assert_true(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000000, t, WEB_CSRF_LEN));
	assert_true(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000000 + WEB_CSRF_TTL, t,
				   WEB_CSRF_LEN));
	/* Too old, from the future, another key, cookie, purpose or address, one bit off. */
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.1",
				    1000000 + WEB_CSRF_TTL + 1, t, WEB_CSRF_LEN));
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 999999, t, WEB_CSRF_LEN));
	assert_false(web_csrf_check(other, "review", cookie, 32, "192.0.2.1", 1000000, t,
				    WEB_CSRF_LEN));
	assert_false(web_csrf_check(key, "review", "1123456789abcdef0123456789abcdef", 32,
				    "192.0.2.1", 1000000, t, WEB_CSRF_LEN));
	assert_false(web_csrf_check(key, "login", cookie, 32, "192.0.2.1", 1000000, t, WEB_CSRF_LEN));
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.2", 1000000, t, WEB_CSRF_LEN));
	assert_false(web_csrf_check(key, "review", cookie, 32, NULL, 1000000, t, WEB_CSRF_LEN));
	assert_false(web_csrf_check(key, "review", cookie, 0, "192.0.2.1", 1000000, t, WEB_CSRF_LEN));
	char u[WEB_CSRF_LEN + 1];
	memcpy(u, t, sizeof(u));
	u[WEB_CSRF_LEN - 1] = u[WEB_CSRF_LEN - 1] == '0' ? '1' : '0';
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000000, u, WEB_CSRF_LEN));
	/* A later time in the token with the old MAC: the time is under the MAC. */
	memcpy(u, t, sizeof(u));
	u[15] = u[15] == '0' ? '1' : '0';
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000010, u, WEB_CSRF_LEN));
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000000, t, 10));
	/* The token is token[0..len) with nothing behind it (a value inside a header): the
	 * check reads no further (ASan). */
	char *bare = malloc(WEB_CSRF_LEN);
	assert_non_null(bare);
	memcpy(bare, t, WEB_CSRF_LEN);
	assert_true(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000000, bare,
				   WEB_CSRF_LEN));
	free(bare);
	/* A made-up time with its top bit set: refused, with no overflow (UBSan). */
	memcpy(u, t, sizeof(u));
	memcpy(u, "8000000000000200", 16);
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000000, u, WEB_CSRF_LEN));
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000000, NULL, 0));
	assert_false(web_csrf_check(key, "review", cookie, 32, "192.0.2.1", 1000000, "", 0));
	/* Parts are length-prefixed: "ab"+"c" is not "a"+"bc". */
	web_csrf_make(key, "review", "ab", 2, "c", 5, t);
	assert_false(web_csrf_check(key, "review", "a", 1, "bc", 5, t, WEB_CSRF_LEN));
}

static void ip4(const char *s, uint8_t out[16])
{
	assert_int_equal(ip_parse(s, strlen(s), out), 0);
}

static void test_lockout(void **state)
{
	(void)state;
	struct web_lockout *l = web_lockout_new(3, 900);
	assert_non_null(l);
	uint8_t a[16], b[16], c[16];
	ip4("198.51.100.1", a);
	ip4("198.51.100.2", b);
	ip4("198.51.100.3", c);
	int64_t t = 100000;
	/* Three failures of alice from a: the fourth attempt is refused, the right password
	 * included, until the window passed. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(web_lockout_try(l, "alice", a, t), 0);
		web_lockout_done(l, "alice", a, false, t);
	}
	assert_int_equal(web_lockout_try(l, "alice", a, t + 1), 899);
	/* The name is locked from any address, and the address for any name. */
	assert_true(web_lockout_try(l, "alice", b, t + 1) > 0);
	assert_true(web_lockout_try(l, "bob", a, t + 1) > 0);
	assert_int_equal(web_lockout_try(l, "bob", c, t + 1), 0);
	web_lockout_done(l, "bob", c, true, t + 1);
	assert_int_equal(web_lockout_try(l, "alice", a, t + 900), 0);
	web_lockout_done(l, "alice", a, true, t + 900);

	/* Attempts count from their start: parallel guesses cannot slip past the count. */
	assert_int_equal(web_lockout_try(l, "carol", c, t), 0);
	assert_int_equal(web_lockout_try(l, "carol", c, t), 0);
	assert_int_equal(web_lockout_try(l, "carol", c, t), 0);
	assert_true(web_lockout_try(l, "carol", c, t) > 0);
	/* A success clears the name and the client. */
	web_lockout_done(l, "carol", c, true, t);
	assert_int_equal(web_lockout_try(l, "carol", c, t), 0);
	/* Failures older than the window are forgotten. */
	web_lockout_done(l, "carol", c, false, t);
	assert_int_equal(web_lockout_try(l, "carol", c, t + 901), 0);
	web_lockout_free(l);

	/* A full table refuses a newcomer rather than forget a live lock. */
	l = web_lockout_new(1, 900);
	char name[32];
	int refused = 0;
	for (int i = 0; i < WEB_LOCKOUT_SLOTS + 64; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		uint8_t ip[16];
		ip_from_v4(0x0a000000u + (uint32_t)i, ip);
		refused += web_lockout_try(l, name, ip, t) > 0;
	}
	assert_true(refused > 0);
	assert_true(web_lockout_try(l, "n0", a, t) > 0); /* the first lock still holds */
	web_lockout_free(l);
}

static void test_routes(void **state)
{
	(void)state;
	struct web_route r;
	const struct {
		const char *path;
		enum web_route_id id;
		const char *arg;
	} cases[] = {
		{"/review", WEB_R_REVIEW, NULL},
		{"/admin/", WEB_R_ADMIN, NULL},
		{"/admin", WEB_R_ADMIN, NULL},
		{"/admin/login", WEB_R_ADMIN_LOGIN, NULL},
		{"/admin/logout", WEB_R_ADMIN_LOGOUT, NULL},
		{"/ticket/0123456789abcdef0123456789abcdef", WEB_R_TICKET,
		 "0123456789abcdef0123456789abcdef"},
		{"/admin/ticket/ab", WEB_R_ADMIN_TICKET, "ab"},
		{"/ticket/a/b", WEB_R_NOTFOUND, NULL},
		{"/ticket/", WEB_R_NOTFOUND, NULL},
		{"/admin/ticket/../login", WEB_R_NOTFOUND, NULL},
		{"/admin/other", WEB_R_NOTFOUND, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(web_route_parse(cases[i].path, strlen(cases[i].path), &r), WEB_OK);
		assert_int_equal(r.id, cases[i].id);
		if (cases[i].arg) {
			assert_int_equal(r.arg_len, strlen(cases[i].arg));
			assert_memory_equal(r.arg, cases[i].arg, r.arg_len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_decodes), cmocka_unit_test(test_form_refuses),
		cmocka_unit_test(test_cookie_get),   cmocka_unit_test(test_cookie_format),
		cmocka_unit_test(test_csrf),         cmocka_unit_test(test_lockout),
		cmocka_unit_test(test_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
