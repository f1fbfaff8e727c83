/* test_ctl.c - the operator's requests: arguments, checks and the control protocol's lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "ctl/ctl.h"
#include "writer/writer.h"
#include "zone/zone.h"

#define NOW 1795000000 /* 2026-11-19T... */

static char err[CTL_ERR_MAX];

static void req_new(struct ctl_request *r, const char *name)
{
	assert_int_equal(ctl_request_init(r, name, err, sizeof(err)), CTL_OK);
}

/* Sets one key (these tests set a key again and again to try its values: forget it was given). */
static int req_set(struct ctl_request *r, const char *k, const char *v)
{
	err[0] = '\0';
	r->seen = 0;
	return ctl_request_set(r, k, v, err, sizeof(err));
}

static void test_time(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(time_parse_iso8601("2026-11-21T10:00:00Z", &t), CTL_OK);
	assert_int_equal(t, 1795255200);
	assert_int_equal(time_parse_iso8601("2026-11-21T12:00:00+02:00", &t), CTL_OK);
	assert_int_equal(t, 1795255200);
	assert_int_equal(time_parse_iso8601("2026-11-21", &t), CTL_OK);
	assert_int_equal(t, 1795219200);
	char buf[32];
	time_format_iso8601(1795255200, buf);
	assert_string_equal(buf, "2026-11-21T10:00:00Z");
	/* No zone, a day that does not exist, junk: refused. */
	assert_int_equal(time_parse_iso8601("2026-11-21T10:00:00", &t), CTL_EINVAL);
	assert_int_equal(time_parse_iso8601("2026-02-30T10:00:00Z", &t), CTL_EINVAL);
	assert_int_equal(time_parse_iso8601("2026-13-01T10:00:00Z", &t), CTL_EINVAL);
	assert_int_equal(time_parse_iso8601("yesterday", &t), CTL_EINVAL);
	assert_int_equal(time_parse_iso8601("2026-11-21T10:00:00Zjunk", &t), CTL_EINVAL);
}

static void test_ip_and_cidr(void **state)
{
	(void)state;
	struct ctl_request r;
	req_new(&r, "check");
	assert_int_equal(req_set(&r, "ip", "193.0.2.1"), CTL_OK);
	static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 193, 0, 2, 1};
	assert_memory_equal(r.ip, want, 16);
	char buf[IP6_STRLEN];
	ip_format(r.ip, buf);
	assert_string_equal(buf, "193.0.2.1");
	assert_int_equal(req_set(&r, "ip", "2a01:db8::1"), CTL_OK);
	ip_format(r.ip, buf);
	assert_string_equal(buf, "2a01:db8::1");
	assert_int_equal(req_set(&r, "ip", "193.0.2.256"), CTL_EINVAL);
	assert_non_null(strstr(err, "'193.0.2.256' is not an IP address"));
	assert_int_equal(req_set(&r, "ip", "193.0.2.0/24"), CTL_EINVAL);
	assert_int_equal(req_set(&r, "cidr", "193.0.2.0/24"), CTL_EINVAL);
	assert_non_null(strstr(err, "check does not take"));

	req_new(&r, "exclude");
	assert_int_equal(req_set(&r, "cidr", "193.0.2.0/24"), CTL_OK);
	assert_int_equal(r.prefix.plen, 96 + 24);
	assert_int_equal(r.prefix.addr[12], 193);
	assert_int_equal(req_set(&r, "cidr", "193.0.2.1/24"), CTL_EINVAL);
	assert_non_null(strstr(err, "host bits"));
	assert_int_equal(req_set(&r, "cidr", "2a01:db8::/32"), CTL_OK);
	assert_int_equal(r.prefix.plen, 32);
	assert_int_equal(req_set(&r, "cidr", "2a01:db8::1/32"), CTL_EINVAL);
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
	assert_int_equal(req_set(&r, "ip", "193.0.2.1"), CTL_OK);
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
	assert_int_equal(req_set(&r, "ip", "193.0.2.1"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_non_null(strstr(err, "--why"));
	assert_int_equal(req_set(&r, "why", "  "), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_int_equal(req_set(&r, "why", "ticket 42"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_OK);

	req_new(&r, "exclude");
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_non_null(strstr(err, "CIDR"));
	assert_int_equal(req_set(&r, "cidr", "199.51.100.0/24"), CTL_OK);
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

/* Adds one key to a request being built (a second one would be refused). */
static int req_add(struct ctl_request *r, const char *k, const char *v)
{
	err[0] = '\0';
	return ctl_request_set(r, k, v, err, sizeof(err));
}

/* A request survives the line form unchanged, however odd its text. */
static void test_line_roundtrip(void **state)
{
	(void)state;
	struct ctl_request r, back;
	req_new(&r, "exclude");
	assert_int_equal(req_add(&r, "cidr", "2a01:db8:1::/48"), CTL_OK);
	assert_int_equal(req_add(&r, "until", "2027-01-01T00:00:00Z"), CTL_OK);
	assert_int_equal(req_add(&r, "why", "a=b c%d\ttab \xc3\xa9t\xc3\xa9\r\nnext"), CTL_OK);
	char line[CTL_LINE_MAX];
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	/* One line, no raw space inside a value. */
	assert_non_null(strchr(line, '\n'));
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	static const char head[] = "exclude cidr=2a01:db8:1::/48 until=2027-01-01T00:00:00Z why=a%3Db";
	assert_int_equal(strncmp(line, head, sizeof(head) - 1), 0);
	assert_int_equal(ctl_request_parse(line, strlen(line), &back, err, sizeof(err)), CTL_OK);
	assert_memory_equal(&r, &back, sizeof(r));

	req_new(&r, "evidence-add");
	assert_int_equal(req_add(&r, "ip", "204.0.113.7"), CTL_OK);
	assert_int_equal(req_add(&r, "kind", "report"), CTL_OK);
	assert_int_equal(req_add(&r, "class", "virus"), CTL_OK);
	assert_int_equal(req_add(&r, "at", "2026-11-21T10:00:00Z"), CTL_OK);
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	assert_string_equal(line, "evidence-add ip=204.0.113.7 kind=report class=virus "
				  "at=2026-11-21T10:00:00Z\n");
	assert_int_equal(ctl_request_parse(line, strlen(line), &back, err, sizeof(err)), CTL_OK);
	assert_memory_equal(&r, &back, sizeof(r));

	req_new(&r, "reputation");
	assert_int_equal(req_add(&r, "cidr", "199.51.100.0/24"), CTL_OK);
	assert_int_equal(req_add(&r, "points", "12.5"), CTL_OK);
	assert_int_equal(req_add(&r, "why", "big provider"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_OK);
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	assert_string_equal(line,
			    "reputation cidr=199.51.100.0/24 points=12.5 why=big%20provider\n");
	assert_int_equal(ctl_request_parse(line, strlen(line), &back, err, sizeof(err)), CTL_OK);
	assert_memory_equal(&r, &back, sizeof(r));
	/* --remove travels as remove=1. */
	req_new(&r, "reputation");
	assert_int_equal(req_add(&r, "cidr", "2a01:db8::/32"), CTL_OK);
	assert_int_equal(req_add(&r, "remove", "1"), CTL_OK);
	assert_int_equal(req_add(&r, "why", "gone"), CTL_OK);
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	assert_string_equal(line, "reputation cidr=2a01:db8::/32 remove=1 why=gone\n");
	assert_int_equal(ctl_request_parse(line, strlen(line), &back, err, sizeof(err)), CTL_OK);
	assert_memory_equal(&r, &back, sizeof(r));

	req_new(&r, "list");
	assert_int_equal(req_add(&r, "json", "1"), CTL_OK);
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	assert_string_equal(line, "list json=1\n");

	/* Too small a buffer is an error, not a cut line. */
	assert_int_equal(ctl_request_format(&r, line, 8), CTL_EINVAL);
}

/* Points are a plain decimal from 0 up; --why and --points are required. */
static void test_reputation_args(void **state)
{
	(void)state;
	struct ctl_request r;
	static const char *const bad[] = { "-1", "-0", "abc", "", ".", "1.2.3", "1e3", "0x10",
					   "inf", "nan", "12 ", "2000000000" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_new(&r, "reputation");
		assert_int_equal(req_set(&r, "points", bad[i]), CTL_EINVAL);
		assert_non_null(strstr(err, "--points"));
	}
	static const struct {
		const char *text;
		double v;
	} good[] = { { "0", 0 }, { "10", 10 }, { "2.5", 2.5 }, { ".5", 0.5 }, { "7.", 7 } };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		req_new(&r, "reputation");
		assert_int_equal(req_set(&r, "points", good[i].text), CTL_OK);
		assert_true(r.has_points && r.points == good[i].v);
	}
	req_new(&r, "reputation");
	assert_int_equal(req_set(&r, "cidr", "199.51.100.1/24"), CTL_EINVAL);
	assert_int_equal(req_set(&r, "cidr", "199.51.100.0/24"), CTL_OK);
	assert_int_equal(req_set(&r, "points", "3"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_string_equal(err, "reputation needs --why");
	struct ctl_request both = r;
	assert_int_equal(req_add(&both, "remove", "1"), CTL_OK);
	assert_int_equal(req_add(&both, "why", "x"), CTL_OK);
	assert_int_equal(ctl_request_check(&both, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_string_equal(err, "--points and --remove: give one of them");
	req_new(&r, "reputation");
	assert_int_equal(req_set(&r, "cidr", "199.51.100.0/24"), CTL_OK);
	assert_int_equal(req_set(&r, "why", "x"), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_string_equal(err, "reputation needs --points or --remove");
	/* Other commands do not take points. */
	req_new(&r, "exclude");
	assert_int_equal(req_set(&r, "points", "3"), CTL_EINVAL);
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
	/* A key given twice is refused, on the socket as on the command line: the last one
	 * winning would hide a typo. */
	static const char *twice[][2] = {
		{"check ip=1.2.3.4 ip=5.6.7.8\n", "check: an IP address given twice"},
		{"evidence-add ip=1.2.3.4 kind=trap kind=report\n", "--kind given twice"},
		{"evidence-add ip=1.2.3.4 ip=1.2.3.4 kind=trap\n", "--ip given twice"},
		{"reputation cidr=10.0.0.0/8 points=3 points=0 why=x\n", "--points given twice"},
		{"delist ip=1.2.3.4 why=a why=b\n", "--why given twice"},
	};
	for (size_t i = 0; i < sizeof(twice) / sizeof(twice[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ctl_request_parse(twice[i][0], strlen(twice[i][0]), &r, err,
						   sizeof(err)),
				 CTL_EINVAL);
		if (!strstr(err, twice[i][1]))
			fail_msg("%s: got '%s'", twice[i][0], err);
	}
	/* A NUL inside the line (a binary client) is refused too. */
	assert_int_equal(ctl_request_parse("check\0ip=1.2.3.4\n", 17, &r, err, sizeof(err)),
			 CTL_EINVAL);
}

/* ---- the control socket, end to end ------------------------------------------ */

struct svc_fx {
	char dir[32], sock[64];
	struct store *store;
	struct zone_handle *zone;
	struct writer *writer;
	struct ctl_server *srv;
	struct ctl_service svc;
};

static void svc_up(struct svc_fx *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_ctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/trapline.sock", f->dir);
	assert_int_equal(store_open(f->dir, &f->store), STORE_OK);
	f->zone = zone_handle_new();
	assert_non_null(f->zone);
	struct zone_defaults d;
	memset(&d, 0, sizeof(d));
	snprintf(d.soa.mname, sizeof(d.soa.mname), "ns1.bl.example.org");
	snprintf(d.soa.rname, sizeof(d.soa.rname), "hostmaster.bl.example.org");
	d.soa.refresh = d.soa.retry = d.soa.expire = 60;
	d.ttl = 60;
	d.a = 0x7f000002;
	struct writer_config wc;
	memset(&wc, 0, sizeof(wc));
	policy_config_defaults(&wc.policy);
	wc.zone = "bl.example.org";
	wc.export_dir = "";
	assert_int_equal(writer_start(&wc, f->store, f->zone, &d, &f->writer), WRITER_OK);
	memset(&f->svc, 0, sizeof(f->svc));
	f->svc.writer = f->writer;
	f->svc.zone = f->zone;
	f->svc.zone_name = "bl.example.org";
	f->svc.policy = wc.policy;
	f->svc.report_max_size = CTL_BODY_MAX;
	f->svc.report_max_per_hour = 2;
	assert_int_equal(ctl_server_start(f->sock, f->dir, &f->svc, -1, &f->srv), CTL_OK);
}

static void svc_down(struct svc_fx *f)
{
	ctl_server_stop(f->srv);
	writer_stop(f->writer);
	zone_handle_free(f->zone);
	store_close(f->store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
}

/* Sends line and returns the status; the output lands in *text (caller frees). */
static int call(const char *sock, const char *line, char **text)
{
	struct ctl_request r;
	assert_int_equal(ctl_request_parse(line, strlen(line), &r, err, sizeof(err)), CTL_OK);
	size_t len;
	FILE *m = open_memstream(text, &len);
	assert_non_null(m);
	int status = -1;
	assert_int_equal(ctl_client_call(sock, &r, m, m, &status), CTL_OK);
	fclose(m);
	return status;
}

static void test_socket_roundtrip(void **state)
{
	(void)state;
	struct svc_fx f;
	svc_up(&f);
	struct stat sb;
	assert_int_equal(stat(f.sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);

	char *text = NULL;
	assert_int_equal(call(f.sock, "evidence-add ip=193.0.2.1 kind=trap", &text), 0);
	assert_non_null(strstr(text, "193.0.2.1: not listed"));
	free(text);
	assert_int_equal(call(f.sock, "evidence-add ip=193.0.2.1 kind=trap class=virus", &text), 0);
	assert_non_null(strstr(text, "stored: trap (virus)"));
	assert_non_null(strstr(text, "193.0.2.1: listed (traps) until"));
	free(text);
	assert_int_equal(call(f.sock, "check ip=193.0.2.1", &text), 0);
	assert_non_null(strstr(text, "listed: yes\n"));
	assert_non_null(strstr(text, "score: 10.000\n"));
	free(text);
	/* An error comes back with its status and its message, and changes nothing. */
	assert_int_equal(call(f.sock, "delist ip=193.0.2.1", &text), CTL_EXIT_USAGE);
	assert_non_null(strstr(text, "trapline: delist needs --why"));
	free(text);
	assert_int_equal(call(f.sock, "exclude cidr=193.0.2.0/24 why=x until=2001-01-01", &text),
			 CTL_EXIT_USAGE);
	assert_non_null(strstr(text, "in the past"));
	free(text);
	assert_int_equal(call(f.sock, "list", &text), 0);
	assert_non_null(strstr(text, "193.0.2.1 reason=traps score=10.000"));
	free(text);
	/* The export is of the published zone, which follows the commit that `list` reads by up
	 * to one publication (25 ms, more on a loaded machine): wait for it, 5 s at most. */
	bool exported = false;
	for (int i = 0; i < 500 && !exported; i++) {
		assert_int_equal(call(f.sock, "export format=rbldnsd", &text), 0);
		exported = strstr(text, "\n193.0.2.1\n") != NULL;
		free(text);
		if (!exported)
			usleep(10000);
	}
	assert_true(exported);

	/* A line that does not parse gets status 2 from the server, not a hang. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f.sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, "drop table\n", 11), 11);
	char buf[256];
	ssize_t n = 0, r;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	buf[n] = '\0';
	close(fd);
	assert_non_null(strstr(buf, "status 2\ntrapline: unknown command 'drop'"));

	/* A second server on the same path while the first answers: refused. */
	struct ctl_server *other;
	assert_int_equal(ctl_server_start(f.sock, f.dir, &f.svc, -1, &other), CTL_EIO);
	svc_down(&f);
}

static void test_socket_absent_and_stale(void **state)
{
	(void)state;
	struct ctl_request r;
	req_new(&r, "list");
	int status;
	/* No socket file: no service. */
	assert_int_equal(ctl_client_call("/nonexistent/trapline.sock", &r, stdout, stderr, &status),
			 CTL_ENOSERVICE);
	/* A socket file nobody accepts on (a killed service): no service either. */
	char dir[] = "/tmp/test_ctl_stale.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/trapline.sock", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(ctl_client_call(path, &r, stdout, stderr, &status), CTL_ENOSERVICE);
	unlink(path);
	rmdir(dir);
}


/* ---- the body: a message or a relays file after the line ---------------------------- */

static void test_body_line(void **state)
{
	(void)state;
	struct ctl_request r, back;
	req_new(&r, "report");
	assert_int_equal(req_add(&r, "reporter", "acme"), CTL_OK);
	assert_int_equal(req_add(&r, "file", "spam 1.eml"), CTL_OK);
	assert_int_equal(req_add(&r, "json", "1"), CTL_OK);
	/* Named, not attached: the check says so. */
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_EINVAL);
	assert_non_null(strstr(err, "spam 1.eml: its contents did not come with the request"));
	assert_int_equal(ctl_request_attach(&r, "Subject: x\n\nhi\n", 16, err, sizeof(err)), CTL_OK);
	assert_int_equal(ctl_request_check(&r, NOW, err, sizeof(err)), CTL_OK);
	char line[CTL_LINE_MAX];
	assert_int_equal(ctl_request_format(&r, line, sizeof(line)), CTL_OK);
	assert_string_equal(line, "report json=1 reporter=acme file=spam%201.eml body=16\n");
	assert_int_equal(ctl_request_parse(line, strlen(line), &back, err, sizeof(err)), CTL_OK);
	assert_true(back.has_body);
	assert_int_equal(back.body_len, 16);
	assert_null(back.body);
	assert_string_equal(back.file, "spam 1.eml");
	/* The bytes after the line must be as many as it said. */
	assert_int_equal(ctl_request_attach(&back, "Subject: x\n\nhi", 15, err, sizeof(err)),
			 CTL_EINVAL);
	assert_non_null(strstr(err, "the body is 15 bytes, the line said 16"));
	assert_int_equal(ctl_request_attach(&back, "Subject: x\n\nhi\n", 16, err, sizeof(err)),
			 CTL_OK);
	assert_memory_equal(back.body, "Subject: x\n\nhi\n", 16);

	/* body is the protocol's, never an option; only commands that take a file take one. */
	assert_false(ctl_key_known("body"));
	assert_true(ctl_key_is_file("file") && ctl_key_is_file("trusted-relays"));
	assert_true(ctl_command_repeats(ctl_command_by_name("report")));
	assert_false(ctl_command_repeats(ctl_command_by_name("reporter-add")));
	assert_false(ctl_command_repeats(ctl_command_by_name("check")));
	static const char *bad[] = {
		"check ip=1.2.3.4 body=3\n", "report reporter=a file=f body=-1\n",
		"report reporter=a file=f body=01\n", "report reporter=a file=f body=\n",
		"report reporter=a file=f body=10485761\n", "report reporter=a file=f body=1x\n",
		"report reporter=a file=f body=3 body=3\n", "report reporter=-a file=f body=3\n",
		"reporter-add name=a%20b trusted-relays=f body=0\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (ctl_request_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)) == CTL_OK)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	const char *most = "report reporter=a file=f body=10485760\n";
	assert_int_equal(ctl_request_parse(most, strlen(most), &r, err, sizeof(err)), CTL_OK);
	/* A body attached on the command line: up to the most a request carries. */
	req_new(&r, "check");
	assert_int_equal(ctl_request_attach(&r, "x", 1, err, sizeof(err)), CTL_EINVAL);
	req_new(&r, "report");
	assert_int_equal(ctl_request_attach(&r, "x", (size_t)CTL_BODY_MAX + 1, err, sizeof(err)),
			 CTL_EINVAL);
	/* Names: shown unescaped everywhere, so only a safe alphabet. */
	assert_null(ctl_holder_name_problem("acme.example-1_x@y"));
	assert_non_null(ctl_holder_name_problem(""));
	assert_non_null(ctl_holder_name_problem("-acme"));
	assert_non_null(ctl_holder_name_problem("a b"));
	assert_non_null(ctl_holder_name_problem("a\"b"));
	assert_non_null(ctl_holder_name_problem(
		"a123456789012345678901234567890123456789012345678901234567890123"));
}

/* Sends raw bytes to the socket and returns what came back (caller frees). */
static char *raw_call(const char *sock, const char *bytes, size_t n)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	shutdown(fd, SHUT_WR);
	char *buf = calloc(1, 4096);
	ssize_t got = 0, r;
	while ((r = read(fd, buf + got, 4095 - (size_t)got)) > 0)
		got += r;
	close(fd);
	return buf;
}

/* Sends a request built like the command line does (a body attached) and returns the status. */
static int call_body(const char *sock, const char *line, const char *body, char **text)
{
	struct ctl_request r;
	assert_int_equal(ctl_request_parse(line, strlen(line), &r, err, sizeof(err)), CTL_OK);
	assert_int_equal(ctl_request_attach(&r, body, strlen(body), err, sizeof(err)), CTL_OK);
	size_t len;
	FILE *m = open_memstream(text, &len);
	assert_non_null(m);
	int status = -1;
	assert_int_equal(ctl_client_call(sock, &r, m, m, &status), CTL_OK);
	fclose(m);
	return status;
}

static const char spam[] =
	"Received: from relay.example.org (relay.example.org [193.0.2.25])\n"
	"\tby mx.example.org (Postfix) with ESMTP id 1; Mon, 23 Nov 2026 10:00:02 +0000\n"
	"Received: from mail.spam.example (unknown [204.0.113.7])\n"
	"\tby relay.example.org (Postfix) with ESMTP id 2; Mon, 23 Nov 2026 10:00:01 +0000\n"
	"Subject: buy now\n\nbody\n";

/* Reporters and their reports through the socket: the key shown once and only its hash kept,
 * the body carried whole, the same message counted once, the hourly limit, bad bodies refused
 * with nothing written, a key of the other kind or of a removed reporter refused. */
static void test_socket_reports(void **state)
{
	(void)state;
	struct svc_fx f;
	svc_up(&f);
	/* The writer owns f.store: this thread reads through a connection of its own. */
	struct store *rd;
	assert_int_equal(store_open_mode(f.dir, false, &rd), STORE_OK);
	char *text = NULL;
	assert_int_equal(call_body(f.sock, "reporter-add name=acme trusted-relays=relays.txt json=1",
				   "# ours\n193.0.2.0/25\n", &text),
			 0);
	json_t *o = json_loads(text, 0, NULL);
	assert_non_null(o);
	char key[CTL_KEY_LEN + 1];
	assert_non_null(json_string_value(json_object_get(o, "key")));
	snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(o, "key")));
	assert_int_equal(strlen(key), CTL_KEY_LEN);
	assert_int_equal(strncmp(key, "tlr_", 4), 0);
	struct store_holder h;
	assert_int_equal(ctl_holder_auth(rd, STORE_HOLDER_REPORTER, key, strlen(key), &h),
			 CTL_OK);
	assert_string_equal(h.name, "acme");
	/* One answer for a wrong key, a malformed one, and a right one of the other kind. */
	char wrong[CTL_KEY_LEN + 1];
	snprintf(wrong, sizeof(wrong), "%s", key);
	wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
	assert_int_equal(ctl_holder_auth(rd, STORE_HOLDER_REPORTER, wrong, strlen(wrong), &h),
			 CTL_ENOTFOUND);
	assert_int_equal(ctl_holder_auth(rd, STORE_HOLDER_REPORTER, key, 10, &h), CTL_ENOTFOUND);
	assert_int_equal(ctl_holder_auth(rd, STORE_HOLDER_FEED, key, strlen(key), &h),
			 CTL_ENOTFOUND);
	assert_int_equal(ctl_holder_auth(rd, STORE_HOLDER_REPORTER, NULL, 0, &h), CTL_ENOTFOUND);
	/* The store has the hash, never the key. */
	uint8_t hash[STORE_KEY_HASH_LEN];
	ctl_key_hash(key, strlen(key), hash);
	assert_memory_equal(h.key_hash, hash, sizeof(hash));
	json_decref(o);
	free(text);

	/* A relays file with a bad line: refused with its line number, nothing added. */
	assert_int_equal(call_body(f.sock, "reporter-add name=other trusted-relays=r.txt",
				   "193.0.2.0/24\n10.0.0.1/8\n", &text),
			 CTL_EXIT_USAGE);
	assert_non_null(strstr(text, "trapline: r.txt:2: "));
	free(text);
	assert_int_equal(store_holder_get(rd, "other", &h), STORE_ENOTFOUND);
	assert_int_equal(call_body(f.sock, "reporter-add name=acme trusted-relays=r.txt", "", &text),
			 CTL_EXIT_USAGE);
	assert_non_null(strstr(text, "named acme exists already"));
	free(text);

	assert_int_equal(call_body(f.sock, "report reporter=acme file=a.eml", spam, &text), 0);
	assert_non_null(strstr(text, "file: a.eml\nreport: "));
	char id[STORE_REPORT_ID_LEN + 1];
	assert_int_equal(sscanf(strstr(text, "report: "), "report: %32s", id), 1);
	assert_non_null(strstr(text, "source: 204.0.113.7\n"));
	assert_non_null(strstr(text, "204.0.113.7: not listed\n"));
	free(text);
	assert_int_equal(call_body(f.sock, "report reporter=acme file=a.eml", spam, &text), 0);
	assert_non_null(strstr(text, "duplicate: the same message came from acme"));
	free(text);
	/* Not a message: exit 2 with the reason, nothing stored. */
	assert_int_equal(call_body(f.sock, "report reporter=acme file=j.bin", "\x89PNG\r\n", &text),
			 CTL_EXIT_USAGE);
	assert_non_null(strstr(text, "trapline: j.bin: not a message"));
	free(text);
	/* The second report this hour is the last (report_max_per_hour 2 here). */
	char other[sizeof(spam) + 16];
	snprintf(other, sizeof(other), "X-N: 2\n%s", spam);
	assert_int_equal(call_body(f.sock, "report reporter=acme file=b.eml", other, &text), 0);
	/* Another message, the same reporter: its reports about the address count once. */
	assert_non_null(strstr(text, "204.0.113.7: not listed\n"));
	free(text);
	snprintf(other, sizeof(other), "X-N: 3\n%s", spam);
	assert_int_equal(call_body(f.sock, "report reporter=acme file=c.eml", other, &text),
			 CTL_EXIT_FAIL);
	assert_non_null(strstr(text, "not taken: reporter acme sent 2 reports this hour"));
	free(text);
	assert_int_equal(call(f.sock, "reporter-list", &text), 0);
	assert_non_null(strstr(text, "acme created_at="));
	assert_non_null(strstr(text, " reports=2\n"));
	free(text);
	/* An unknown reporter. */
	assert_int_equal(call_body(f.sock, "report reporter=nobody file=a.eml", spam, &text),
			 CTL_EXIT_USAGE);
	assert_non_null(strstr(text, "no reporter named nobody"));
	free(text);

	/* The body on the socket: cut short, or bytes with no body announced. */
	char *ans = raw_call(f.sock, "report reporter=acme file=x body=100\nSubject: x\n", 48);
	if (!strstr(ans, "status 2\ntrapline: the body ended after 11 of its 100 bytes"))
		fail_msg("got: %s", ans);
	free(ans);
	ans = raw_call(f.sock, "list\nmore", 9);
	assert_non_null(strstr(ans, "status 2\ntrapline: bytes after the request line"));
	free(ans);
	ans = raw_call(f.sock, "report reporter=acme file=x\n", 28);
	assert_non_null(strstr(ans, "status 2\ntrapline: x: its contents did not come"));
	free(ans);

	/* A report is fetched by its own reporter only: another's id is as unknown as none. */
	assert_int_equal(call_body(f.sock, "reporter-add name=beta trusted-relays=r.txt",
				   "193.0.2.0/25\n", &text),
			 0);
	free(text);
	/* A second reporter of the same spam: two reporters list the address. */
	assert_int_equal(call_body(f.sock, "report reporter=beta file=a.eml", spam, &text), 0);
	assert_non_null(strstr(text, "204.0.113.7: listed (reports) until"));
	free(text);
	struct store_holder acme, beta;
	assert_int_equal(store_holder_get(rd, "acme", &acme), STORE_OK);
	assert_int_equal(store_holder_get(rd, "beta", &beta), STORE_OK);
	struct ctl_report_result res;
	assert_int_equal(ctl_report_lookup(&f.svc, rd, &acme, id, NOW, &res), CTL_OK);
	assert_string_equal(res.report.id, id);
	assert_non_null(strstr(res.report.analysis, "\"source_ip\": \"204.0.113.7\""));
	assert_true(res.has_status && res.status.listed);
	json_t *rj = ctl_report_json(&res, "acme");
	assert_non_null(rj);
	assert_string_equal(json_string_value(json_object_get(rj, "id")), id);
	assert_true(json_is_true(json_object_get(rj, "listed")));
	assert_string_equal(json_string_value(json_object_get(rj, "source_ip")), "204.0.113.7");
	json_decref(rj);
	ctl_report_result_free(&res);
	assert_int_equal(ctl_report_lookup(&f.svc, rd, &beta, id, NOW, &res), CTL_ENOTFOUND);
	assert_null(res.report.analysis);
	assert_int_equal(ctl_report_lookup(&f.svc, rd, &acme, "00000000000000000000000000000000",
					   NOW, &res),
			 CTL_ENOTFOUND);
	assert_int_equal(ctl_report_lookup(&f.svc, rd, &acme, "../etc", NOW, &res), CTL_ENOTFOUND);

	/* Removed: its key no longer works; its reports stay. */
	assert_int_equal(call(f.sock, "reporter-remove name=acme why=left", &text), 0);
	free(text);
	assert_int_equal(ctl_holder_auth(rd, STORE_HOLDER_REPORTER, key, strlen(key), &h),
			 CTL_ENOTFOUND);
	assert_int_equal(call(f.sock, "reporter-remove name=acme why=again", &text), CTL_EXIT_USAGE);
	assert_non_null(strstr(text, "no reporter named acme"));
	free(text);
	/* Feeds: a key of their own kind. */
	assert_int_equal(call(f.sock, "feed-add name=far json=1", &text), 0);
	o = json_loads(text, 0, NULL);
	snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(o, "key")));
	assert_int_equal(strncmp(key, "tlf_", 4), 0);
	assert_int_equal(ctl_holder_auth(rd, STORE_HOLDER_FEED, key, strlen(key), &h), CTL_OK);
	json_decref(o);
	free(text);
	store_close(rd);
	svc_down(&f);
}

/* ---- DNS, check and explain agree --------------------------------------------------- */

#define C_T0 1800000000ll
#define C_N 3000

struct cons {
	char dir[64], clock[96];
	struct config cfg;
	struct store *store, *reader;
	struct zone_handle *zone;
	struct writer *writer;
	struct ctl_service svc;
	uint8_t (*ips)[16];
};

static void cons_clock(struct cons *c, int64_t t)
{
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->clock);
	FILE *fp = fopen(tmp, "w");
	assert_non_null(fp);
	fprintf(fp, "%lld\n", (long long)t);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, c->clock), 0);
}

/* What DNS answers for ip: the published snapshot, as the DNS workers read it. */
static bool dns_listed(struct zone_handle *zone, const uint8_t ip[16])
{
	zone_read_lock();
	const struct zone_snapshot *s = zone_current(zone);
	bool listed = ip_is_v4(ip) ? zone_lookup4(s, ip_v4(ip)) != NULL
				   : zone_lookup6(s, ip) != NULL;
	zone_read_unlock();
	return listed;
}

static double rnd(void)
{
	return (double)rand() / ((double)RAND_MAX + 1);
}

static void cons_event(struct writer_event *ev, const uint8_t ip[16], int64_t at, bool trap)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = WRITER_EV_EVIDENCE;
	memcpy(ev->evidence.ip, ip, 16);
	ev->evidence.kind = trap ? STORE_KIND_TRAP : STORE_KIND_REPORT;
	ev->evidence.cls = (enum store_class)(rand() % 4);
	ev->evidence.received_at = at;
	/* Most reports come from one of four reporters, whose reports about an address count
	 * once each; the rest are an operator's, each of which counts. */
	int who = rand() % 6;
	if (trap || who >= 4)
		snprintf(ev->evidence.source, sizeof(ev->evidence.source), "test");
	else
		snprintf(ev->evidence.source, sizeof(ev->evidence.source), "reporter:r%d", who);
}

static void cons_moderator(struct writer_event *ev, enum writer_event_type type, const char *pre)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	assert_int_equal(ip_prefix_parse(pre, strlen(pre), &ev->prefix), 0);
	memcpy(ev->ip, ev->prefix.addr, 16);
	snprintf(ev->who, sizeof(ev->who), "test");
	snprintf(ev->why, sizeof(ev->why), "consistency %s", pre);
}

/* Random addresses (IPv4, some IPv6, some in default-excluded space) with random evidence over
 * eight days, from a few reporters and the operator, exclusions, reputation and delistings with
 * evidence after them. */
static void cons_fill(struct cons *c)
{
	size_t cap = C_N * 8 + 64, n = 0;
	struct writer_event *evs = calloc(cap, sizeof(*evs));
	int *res = calloc(cap, sizeof(*res));
	assert_true(evs && res);
	c->ips = calloc(C_N, 16);
	assert_non_null(c->ips);
	for (size_t i = 0; i < C_N; i++) {
		uint8_t *ip = c->ips[i];
		double kind = rnd();
		if (kind < 0.1) {
			assert_int_equal(ip6_parse("2a01:db8::", 10, ip), 0);
			for (int b = 8; b < 16; b++)
				ip[b] = (uint8_t)(rand() & (b < 14 ? 0x03 : 0xff));
		} else {
			/* Dense enough that the exclusions and reputation prefixes below cover some. */
			uint32_t v4 = kind < 0.15 ? 0xc7130000u | (uint32_t)(rand() & 0xffff)
						  : 0xc7120000u | (uint32_t)(rand() & 0x3fff);
			ip_from_v4(v4, ip);
		}
		int pieces = rand() % 8;
		for (int k = 0; k < pieces; k++) {
			int64_t age = (int64_t)(rnd() * 8 * 86400);
			cons_event(&evs[n++], ip, C_T0 - age, rnd() < 0.4);
		}
	}
	static const char *excl[] = {"199.18.1.0/24", "199.18.7.0/24", "199.18.12.0/26"};
	static const char *rep[][2] = {{"199.18.16.0/20", "12"}, {"199.18.2.0/24", "3.5"},
				       {"199.18.0.0/16", "1"}};
	for (size_t i = 0; i < 3; i++) {
		cons_moderator(&evs[n], WRITER_EV_EXCLUDE, excl[i]);
		evs[n++].until = i == 2 ? C_T0 + 20 * 3600 : 0; /* one ends on the way */
		cons_moderator(&evs[n], WRITER_EV_REPUTATION, rep[i][0]);
		evs[n++].points = strtod(rep[i][1], NULL);
	}
	assert_int_equal(writer_submit_many(c->writer, evs, n, res), WRITER_OK);
	/* Delist one address in twenty; a third of them get evidence after it. */
	n = 0;
	for (size_t i = 0; i < C_N; i += 20) {
		char ip[IP_STRLEN];
		ip_format(c->ips[i], ip);
		cons_moderator(&evs[n++], WRITER_EV_DELIST, ip);
	}
	assert_int_equal(writer_submit_many(c->writer, evs, n, res), WRITER_OK);
	cons_clock(c, C_T0 + 10);
	n = 0;
	for (size_t i = 0; i < C_N; i += 60) {
		cons_event(&evs[n++], c->ips[i], C_T0 + 10, true);
		cons_event(&evs[n++], c->ips[i], C_T0 + 10, false);
	}
	assert_int_equal(writer_submit_many(c->writer, evs, n, res), WRITER_OK);
	free(evs);
	free(res);
}

/* Fresh evidence, two pieces each, for one address in twenty-five, received at t. */
static void cons_more(struct cons *c, int64_t t)
{
	struct writer_event evs[2 * (C_N / 25 + 1)];
	int res[2 * (C_N / 25 + 1)];
	size_t n = 0;
	for (size_t i = (size_t)(t % 25); i < C_N; i += 25) {
		cons_event(&evs[n++], c->ips[i], t, rnd() < 0.5);
		cons_event(&evs[n++], c->ips[i], t, rnd() < 0.5);
	}
	assert_int_equal(writer_submit_many(c->writer, evs, n, res), WRITER_OK);
}

/* check --json and explain --json of every address say the same, and DNS answers what they
 * say (waiting, at most 5 s, for the writer's publication). Returns how many are listed. */
static size_t cons_compare(struct cons *c, int64_t now)
{
	size_t listed = 0, disagree = C_N;
	for (int wait = 0; wait < 500 && disagree > 0; wait++) {
		if (wait)
			usleep(10000);
		disagree = 0;
		for (size_t i = 0; i < C_N && !disagree; i++) {
			struct ctl_status s;
			assert_int_equal(ctl_query_status(&c->svc, c->reader, c->ips[i], now, &s), 0);
			disagree += s.listed != dns_listed(c->zone, c->ips[i]);
		}
	}
	for (size_t i = 0; i < C_N; i++) {
		struct ctl_status s;
		struct ctl_explain e;
		assert_int_equal(ctl_query_status(&c->svc, c->reader, c->ips[i], now, &s), 0);
		assert_int_equal(ctl_query_explain(&c->svc, c->reader, c->ips[i], now, &e), 0);
		json_t *sj = ctl_status_json(&s), *ej = ctl_explain_json(&e);
		assert_true(sj && ej);
		/* explain says what check says, and how it got there. */
		for (const char *const *k = (const char *const[]){"report_score", "trap_score", "pieces",
								  "policy", NULL};
		     *k; k++)
			assert_int_equal(json_object_del(ej, *k), 0);
		if (!json_equal(sj, ej)) {
			char *a = json_dumps(sj, JSON_PRESERVE_ORDER), *b = json_dumps(ej, 0);
			fail_msg("check and explain disagree:\n%s\n%s", a, b);
		}
		char ip[IP_STRLEN];
		ip_format(c->ips[i], ip);
		if (s.listed != dns_listed(c->zone, c->ips[i]))
			fail_msg("%s: check says listed=%d, DNS the opposite (at +%lld s)", ip,
				 s.listed, (long long)(now - C_T0));
		/* A listing DNS answers is one the store has, with its start. */
		if (s.listed && (s.listed_since == 0 || s.expires_at <= now))
			fail_msg("%s: listed without a start or with an end in the past", ip);
		listed += s.listed;
		json_decref(sj);
		json_decref(ej);
		ctl_explain_free(&e);
	}
	return listed;
}

static void test_dns_check_explain_agree(void **state)
{
	(void)state;
	struct cons *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	snprintf(c->dir, sizeof(c->dir), "/tmp/test_ctl_cons.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->clock, sizeof(c->clock), "%s/clock", c->dir);
	setenv("TRAPLINE_TEST_CLOCK", c->clock, 1);
	cons_clock(c, C_T0);
	srand(20261202);
	/* The shipped configuration: the same policy and default exclusions as the binary, and a
	 * prefix of the operator's beside the word special-purpose (199.19.0.0/16: evidence is
	 * taken, nothing listed; special-purpose addresses take no evidence at all). */
	config_defaults(&c->cfg);
	char why[CONFIG_ERR_MAX];
	assert_int_equal(config_set(&c->cfg, "exclude_default", "special-purpose, 199.19.0.0/16", why,
				    sizeof(why)), 0);
	assert_int_equal(store_open(c->dir, &c->store), STORE_OK);
	c->zone = zone_handle_new();
	struct zone_defaults d;
	zone_defaults_from(&c->cfg, &d);
	struct writer_config *wc = malloc(sizeof(*wc));
	assert_non_null(wc);
	writer_config_from(&c->cfg, false, wc);
	wc->batch_wait_ms = 1;
	zone_reader_register();
	assert_int_equal(writer_start(wc, c->store, c->zone, &d, &c->writer), WRITER_OK);
	free(wc);
	assert_int_equal(store_open_mode(c->dir, false, &c->reader), STORE_OK);
	ctl_service_init(&c->svc, &c->cfg, c->writer, c->reader, c->zone);
	cons_fill(c);

	/* Then time passes: reports age, listings end at 12 h and 24 h, an exclusion ends at
	 * 20 h, evidence leaves the window at 7 days. */
	static const int64_t at[] = {10, 13 * 3600, 21 * 3600, 25 * 3600, 3 * 86400, 9 * 86400};
	size_t listed[6];
	for (size_t k = 0; k < 6; k++) {
		cons_clock(c, C_T0 + at[k]);
		if (k == 3 || k == 4)
			cons_more(c, C_T0 + at[k]);
		listed[k] = cons_compare(c, C_T0 + at[k]);
		print_message("# +%llds: %zu of %d listed; DNS, check and explain agree on all\n",
			      (long long)at[k], listed[k], C_N);
	}
	/* The run means something: many listed at first, fewer as time passes, new evidence lists
	 * again, and nothing is left at the end. */
	assert_true(listed[0] > C_N / 5 && listed[0] < C_N * 4 / 5);
	assert_true(listed[1] < listed[0] && listed[2] < listed[1]);
	assert_true(listed[3] > 0 && listed[4] > 0);
	assert_int_equal(listed[5], 0);

	store_close(c->reader);
	writer_stop(c->writer);
	zone_defaults_free(&d);
	zone_reader_unregister();
	zone_handle_free(c->zone);
	store_close(c->store);
	unsetenv("TRAPLINE_TEST_CLOCK");
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
	assert_int_equal(system(cmd), 0);
	free(c->ips);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_ip_and_cidr),
		cmocka_unit_test(test_required_and_times),
		cmocka_unit_test(test_line_roundtrip),
		cmocka_unit_test(test_reputation_args),
		cmocka_unit_test(test_line_bad),
		cmocka_unit_test(test_socket_roundtrip),
		cmocka_unit_test(test_socket_absent_and_stale),
		cmocka_unit_test(test_body_line),
		cmocka_unit_test(test_socket_reports),
		cmocka_unit_test(test_dns_check_explain_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
