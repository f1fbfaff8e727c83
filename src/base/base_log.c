/* base_log.c - one-line, key=value logs on stderr. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base.h"

static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return BASE_OK;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return BASE_OK;
	}
	return BASE_EINVAL;
}

void log_vmsg(enum log_level level, const char *module, const char *fmt, va_list ap)
{
	if (level < log_threshold)
		return;
	/* Format the whole line first and write it with one call, so lines from
	 * different threads never interleave. */
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
			 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s module=%s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, log_names[level], module);
	if (n < 0)
		return;
	size_t used = (size_t)n;
	int m = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
	if (m > 0)
		used += (size_t)m;
	if (used > sizeof(line) - 2)
		used = sizeof(line) - 2;
	/* A message never spans lines: a control character inside it (from text a caller did not
	 * pass through text_escape) would break parsers or forge a line. */
	for (size_t i = 0; i < used; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	line[used++] = '\n';
	fwrite(line, 1, used, stderr);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, module, fmt, ap);
	va_end(ap);
}
