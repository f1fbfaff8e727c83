/* base_time.c - clocks (monotonic, wall, the test clock) and ISO 8601 times. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

uint64_t time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t time_wall_s(void)
{
	return (int64_t)time(NULL);
}

static const char *test_clock_path(void)
{
	const char *p = getenv("TRAPLINE_TEST_CLOCK");
	return (p && *p) ? p : NULL;
}

bool time_now_is_test_clock(void)
{
	return test_clock_path() != NULL;
}

int64_t time_now(void)
{
	const char *path = test_clock_path();
	if (!path)
		return time_wall_s();
	/* Re-read at every call: a test moves time by rewriting the file. */
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return time_wall_s();
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return time_wall_s();
	buf[r] = '\0';
	char *end = NULL;
	long long v = strtoll(buf, &end, 10);
	if (end == buf)
		return time_wall_s();
	return (int64_t)v;
}

/* ---- ISO 8601 ----------------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (days-from-civil), so that neither
 * parsing nor formatting depends on the C library's time zone state. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t days, int64_t *y, int64_t *m, int64_t *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

int time_parse_iso8601(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	size_t len = strlen(s);
	if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d))
		return BASE_EINVAL;
	if (len > 10) {
		if ((s[10] != 'T' && s[10] != 't') || len < 20 || !digits(s + 11, 2, &h) ||
		    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
		    !digits(s + 17, 2, &sec))
			return BASE_EINVAL;
		const char *z = s + 19;
		if (strcmp(z, "Z") == 0 || strcmp(z, "z") == 0) {
			off = 0;
		} else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':') {
			int oh, om;
			if (!digits(z + 1, 2, &oh) || !digits(z + 4, 2, &om) || oh > 23 || om > 59)
				return BASE_EINVAL;
			off = (oh * 60 + om) * 60 * (z[0] == '-' ? -1 : 1);
		} else {
			return BASE_EINVAL;
		}
	}
	/* sec 60: a leap second, read as the first second of the next minute. */
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return BASE_EINVAL;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (t < 0)
		return BASE_ERANGE;
	*out = t;
	return BASE_OK;
}

size_t time_format_iso8601(int64_t t, char *buf)
{
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t y, m, d;
	civil_from_days(days, &y, &m, &d);
	int n = snprintf(buf, TIME_STRLEN,
			 "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64
			 ":%02" PRId64 "Z",
			 y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
	return n < 0 ? 0 : (size_t)n;
}

/* ---- test hooks (they live beside the test clock: both read a file a test rewrites) ---- */

static const char *hooks_path(void)
{
	const char *p = getenv("TRAPLINE_TEST_HOOKS");
	return p && *p ? p : NULL;
}

bool test_hook(const char *name)
{
	const char *path = hooks_path();
	if (!path)
		return false;
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return false;
	buf[r] = '\0';
	size_t n = strlen(name);
	for (const char *p = buf; (p = strstr(p, name)) != NULL; p += n) {
		bool start = p == buf || p[-1] == ' ' || p[-1] == '\n' || p[-1] == ',';
		char end = p[n];
		if (start && (end == '\0' || end == ' ' || end == '\n' || end == ','))
			return true;
	}
	return false;
}

void test_hook_reached(const char *name)
{
	const char *path = hooks_path();
	if (!path)
		return;
	char marker[4096];
	snprintf(marker, sizeof marker, "%s.%s", path, name);
	int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}
