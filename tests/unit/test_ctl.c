/* test_ctl.c - the operator's requests: arguments, checks and the control protocol's lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "ctl/ctl.h"

#define NOW 1795000000 /* 2026-11-19T... */

static char err[CTL_ERR_MAX];

static void req_new(struct ctl_request *r, const char *name)
{
	assert_int_equal(ctl_request_init(r, name, err, sizeof(err)), CTL_OK);
}

static int req_set(struct ctl_request *r, const char *k, const char *v)
{
	err[0] = '\0';
	return ctl_request_set(r, k, v, err, sizeof(err));
}

static void test_time(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(ctl_time_parse("2026-11-21T10:00:00Z", &t), CTL_OK);
	assert_int_equal(t, 1795255200);
	assert_int_equal(ctl_time_parse("2026-11-21T12:00:00+02:00", &t), CTL_OK);
	assert_int_equal(t, 1795255200);
	assert_int_equal(ctl_time_parse("2026-11-21", &t), CTL_OK);
	assert_int_equal(t, 1795219200);
	char buf[32];
	ctl_time_format(1795255200, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-21T10:00:00Z");
	/* No zone, a day that does not exist, junk: refused. */
	assert_int_equal(ctl_time_parse("2026-11-21T10:00:00", &t), CTL_EINVAL);
	assert_int_equal(ctl_time_parse("2026-02-30T10:00:00Z", &t), CTL_EINVAL);
	assert_int_equal(ctl_time_parse("2026-13-01T10:00:00Z", &t), CTL_EINVAL);
	assert_int_equal(ctl_time_parse("yesterday", &t), CTL_EINVAL);
	assert_int_equal(ctl_time_parse("2026-11-21T10:00:00Zjunk", &t), CTL_EINVAL);
}

static void test_ip_and_cidr(void **state)
{
	(void)state;
	struct ctl_request r;
	req_new(&r, "check");
	assert_int_equal(req_set(&r, "ip", "192.0.2.1"), CTL_OK);
	static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
	assert_memory_equal(r.ip, want, 16);
	char buf[IP6_STRLEN];
	ctl_ip_format(r.ip, buf);
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(req_set(&r, "ip", "2001:db8::1"), CTL_OK);
	ctl_ip_format(r.ip, buf);
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(req_set(&r, "ip", "192.0.2.256"), CTL_EINVAL);
	assert_non_null(strstr(err, "'192.0.2.256' is not an IP address"));
	assert_int_equal(req_set(&r, "ip", "192.0.2.0/24"), CTL_EINVAL);
	assert_int_equal(req_set(&r, "cidr", "192.0.2.0/24"), CTL_EINVAL);
	assert_non_null(strstr(err, "check does not take"));

	req_new(&r, "exclude");
	assert_int_equal(req_set(&r, "cidr", "192.0.2.0/24"), CTL_OK);
	assert_int_equal(r.prefix.plen, 96 + 24);
	assert_int_equal(r.prefix.addr[12], 192);
	assert_int_equal(req_set(&r, "cidr", "192.0.2.1/24"), CTL_EINVAL);
	assert_non_null(strstr(err, "host bits"));
	assert_int_equal(req_set(&r, "cidr", "2001:db8::/32"), CTL_OK);
	assert_int_equal(r.prefix.plen, 32);
	assert_int_equal(req_set(&r, "cidr", "2001:db8::1/32"), CTL_EINVAL);
	assert_int_equal(req_set(&r, "cidr", "10.0.0.0/33"), CTL_EINVAL);
	assert_int_equal(req_set(&r, "cidr", "10.0.0.0/"), CTL_EINVAL);
	/* A bare address is one host. */
	assert_int_equal(req_set(&r, "cidr", "10.1.2.3"), CTL_OK);
	assert_int_equal(r.prefix.plen, 128);
}

static void test_required_and_times(void **state)
{
	(void)state;
	struct ctl_request r;
	req_new(&r, "evidence-add");
	assert_int_equal(req_set(&r, "ip", "192.0.2.1"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_non_null(strstr(err, "--kind"));
	assert_int_equal(req_set(&r, "kind", "spam"), CTL_EINVAL);
	assert_int_equal(req_set(&r, "kind", "trap"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_OK);
	assert_int_equal(req_set(&r, "class", "bounce"), CTL_OK);
	assert_int_equal(r.cls, STORE_CLASS_BOUNCE);
	assert_int_equal(req_set(&r, "class", "ham"), CTL_EINVAL);
	assert_int_equal(req_set(&r, "at", "2030-01-01T00:00:00Z"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_non_null(strstr(err, "in the future"));
	assert_int_equal(req_set(&r, "at", "2026-01-01T00:00:00Z"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_OK);
	assert_int_equal(req_set(&r, "why", "x"), CTL_EINVAL);

	req_new(&r, "delist");
	assert_int_equal(req_set(&r, "ip", "192.0.2.1"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_non_null(strstr(err, "--why"));
	assert_int_equal(req_set(&r, "why", "  "), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_int_equal(req_set(&r, "why", "ticket 42"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_OK);

	req_new(&r, "exclude");
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_non_null(strstr(err, "CIDR"));
	assert_int_equal(req_set(&r, "cidr", "198.51.100.0/24"), CTL_OK);
	assert_int_equal(req_set(&r, "why", "customer"), CTL_OK);
	assert_int_equal(req_set(&r, "until", "2026-01-01T00:00:00Z"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_non_null(strstr(err, "in the past"));
	assert_int_equal(req_set(&r, "until", "2027-01-01T00:00:00Z"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_OK);

	req_new(&r, "export");
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_int_equal(req_set(&r, "format", "csv"), CTL_EINVAL);
	assert_int_equal(req_set(&r, "format", "bind"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_OK);

	assert_int_equal(ctl_request_init(&r, "drop-table", err, sizeof(err)), CTL_EINVAL);
}

/* A request survives the line form unchanged, however odd its text. */
static void test_line_roundtrip(void **state)
{
	(void)state;
	struct ctl_request r, back;
	req_new(&r, "exclude");
	assert_int_equal(req_set(&r, "cidr", "2001:db8:1::/48"), CTL_OK);
	assert_int_equal(req_set(&r, "until", "2027-01-01T00:00:00Z"), CTL_OK);
	assert_int_equal(req_set(&r, "why", "a=b c%d\ttab \xc3\xa9t\xc3\xa9\r\nnext"), CTL_OK);
	char line[CTL_LINE_MAX];
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	/* One line, no raw space inside a value. */
	assert_non_null(strchr(line, '\n'));
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	static const char head[] = "exclude cidr=2001:db8:1::/48 until=2027-01-01T00:00:00Z why=a%3Db";
	assert_int_equal(strncmp(line, head, sizeof(head) - 1), 0);
	assert_int_equal(ctl_request_parse(line, strlen(line), &back, err, sizeof(err)), CTL_OK);
	assert_memory_equal(&r, &back, sizeof(r));

	req_new(&r, "evidence-add");
	assert_int_equal(req_set(&r, "ip", "203.0.113.7"), CTL_OK);
	assert_int_equal(req_set(&r, "kind", "report"), CTL_OK);
	assert_int_equal(req_set(&r, "class", "virus"), CTL_OK);
	assert_int_equal(req_set(&r, "at", "2026-11-21T10:00:00Z"), CTL_OK);
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	assert_string_equal(line, "evidence-add ip=203.0.113.7 kind=report class=virus "
				  "at=2026-11-21T10:00:00Z\n");
	assert_int_equal(ctl_request_parse(line, strlen(line), &back, err, sizeof(err)), CTL_OK);
	assert_memory_equal(&r, &back, sizeof(r));

	req_new(&r, "list");
	assert_int_equal(req_set(&r, "json", "1"), CTL_OK);
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	assert_string_equal(line, "list json=1\n");

	/* Too small a buffer is an error, not a cut line. */
	assert_int_equal(ctl_request_format(&r, line, 8), CTL_EINVAL);
}

static void test_line_bad(void **state)
{
	(void)state;
	struct ctl_request r;
	static const char *bad[] = {
		"", "\n", "nosuch ip=1.2.3.4\n", "check ip\n", "check =1.2.3.4\n",
		"check ip=1.2.3.4%\n", "check ip=1.2.3.4%zz\n", "check ip=1.2.3%00.4\n",
		"check ip=999.1.1.1\n", "check cidr=1.2.3.0/24\n", "delist ip=1.2.3.4 why=%4\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(ctl_request_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)),
				     CTL_OK);
		assert_true(err[0] != '\0');
	}
	/* A NUL inside the line (a binary client) is refused too. */
	assert_int_equal(ctl_request_parse("check\0ip=1.2.3.4\n", 17, &r, err, sizeof(err)),
			 CTL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_ip_and_cidr),
		cmocka_unit_test(test_required_and_times),
		cmocka_unit_test(test_line_roundtrip),
		cmocka_unit_test(test_line_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
