/* base_metrics.c - one scrape's figures, gathered from the modules' sources and rendered as
 * the Prometheus text exposition format (0.0.4), or read back by name for `trapline status`. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

#define METRICS_NAME_MAX 96
#define METRICS_LABELS_MAX 192

struct metrics_family {
	char name[METRICS_NAME_MAX];
	enum metric_type type;
	const char *help; /* static text of the source */
};

struct metrics_sample {
	size_t family;
	char name[METRICS_NAME_MAX + 8]; /* the family's, or with _bucket, _sum, _count */
	char labels[METRICS_LABELS_MAX];
	double v;
};

struct metrics {
	struct metrics_family *fam;
	size_t n_fam, cap_fam;
	struct metrics_sample *s;
	size_t n_s, cap_s;
	size_t cur; /* the family samples go to; SIZE_MAX before the first */
	bool oom;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (m)
		m->cur = SIZE_MAX;
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->fam);
	free(m->s);
	free(m);
}

void metrics_family(struct metrics *m, const char *name, enum metric_type type, const char *help)
{
	for (size_t i = 0; i < m->n_fam; i++) {
		if (strcmp(m->fam[i].name, name) == 0) {
			m->cur = i;
			return;
		}
	}
	if (array_grow((void **)&m->fam, &m->cap_fam, m->n_fam + 1, sizeof(*m->fam)) != BASE_OK) {
		m->oom = true;
		m->cur = SIZE_MAX;
		return;
	}
	struct metrics_family *f = &m->fam[m->n_fam];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->type = type;
	f->help = help;
	m->cur = m->n_fam++;
}

static void sample_add(struct metrics *m, const char *suffix, const char *labels, double v)
{
	if (m->cur == SIZE_MAX)
		return;
	if (array_grow((void **)&m->s, &m->cap_s, m->n_s + 1, sizeof(*m->s)) != BASE_OK) {
		m->oom = true;
		return;
	}
	struct metrics_sample *s = &m->s[m->n_s++];
	s->family = m->cur;
	snprintf(s->name, sizeof(s->name), "%s%s", m->fam[m->cur].name, suffix);
	snprintf(s->labels, sizeof(s->labels), "%s", labels ? labels : "");
	s->v = v;
}

void metrics_value(struct metrics *m, double v, const char *labels_fmt, ...)
{
	char labels[METRICS_LABELS_MAX] = "";
	if (labels_fmt) {
		va_list ap;
		va_start(ap, labels_fmt);
		vsnprintf(labels, sizeof(labels), labels_fmt, ap);
		va_end(ap);
	}
	sample_add(m, "", labels, v);
}

void metrics_histogram(struct metrics *m, const double *le, const uint64_t *counts, size_t n,
		       uint64_t above, double sum)
{
	uint64_t cum = 0;
	char labels[METRICS_LABELS_MAX];
	for (size_t i = 0; i < n; i++) {
		cum += counts[i];
		snprintf(labels, sizeof(labels), "le=\"%g\"", le[i]);
		sample_add(m, "_bucket", labels, (double)cum);
	}
	cum += above;
	sample_add(m, "_bucket", "le=\"+Inf\"", (double)cum);
	sample_add(m, "_sum", NULL, sum);
	sample_add(m, "_count", NULL, (double)cum);
}

static const char *type_name(enum metric_type t)
{
	return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

/* A value as the format writes it: integers without a fraction, the rest with enough digits. */
static void value_print(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.9g", v);
}

/* HELP text escapes a backslash and a line break (the format's only two). */
static void help_print(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

int metrics_render(const struct metrics *m, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (m->oom)
		return BASE_ENOMEM;
	FILE *f = open_memstream(out, len);
	if (!f)
		return BASE_ENOMEM;
	for (size_t i = 0; i < m->n_fam; i++) {
		const struct metrics_family *fam = &m->fam[i];
		fprintf(f, "# HELP %s ", fam->name);
		help_print(f, fam->help);
		fprintf(f, "\n# TYPE %s %s\n", fam->name, type_name(fam->type));
		for (size_t j = 0; j < m->n_s; j++) {
			const struct metrics_sample *s = &m->s[j];
			if (s->family != i)
				continue;
			fputs(s->name, f);
			if (s->labels[0])
				fprintf(f, "{%s}", s->labels);
			fputc(' ', f);
			value_print(f, s->v);
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return BASE_ENOMEM;
	}
	return BASE_OK;
}

double metrics_get(const struct metrics *m, const char *name, const char *labels, bool *found)
{
	if (found)
		*found = false;
	for (size_t j = 0; j < m->n_s; j++) {
		if (strcmp(m->s[j].name, name) == 0 && strcmp(m->s[j].labels, labels ? labels : "") == 0) {
			if (found)
				*found = true;
			return m->s[j].v;
		}
	}
	return 0;
}

double metrics_sum(const struct metrics *m, const char *name, bool *found)
{
	double sum = 0;
	bool any = false;
	for (size_t j = 0; j < m->n_s; j++) {
		if (strcmp(m->s[j].name, name) == 0) {
			sum += m->s[j].v;
			any = true;
		}
	}
	if (found)
		*found = any;
	return sum;
}

void metrics_each(const struct metrics *m, const char *name,
		  void (*fn)(void *arg, const char *labels, double v), void *arg)
{
	for (size_t j = 0; j < m->n_s; j++)
		if (strcmp(m->s[j].name, name) == 0)
			fn(arg, m->s[j].labels, m->s[j].v);
}

void metrics_registry_init(struct metrics_registry *r)
{
	memset(r, 0, sizeof(*r));
	r->started = time_wall_s();
}

int metrics_registry_add(struct metrics_registry *r, const char *name, metrics_collect_fn fn,
			 void *arg)
{
	if (r->n >= METRICS_SOURCES_MAX)
		return BASE_ERANGE;
	r->src[r->n].name = name;
	r->src[r->n].fn = fn;
	r->src[r->n].arg = arg;
	r->n++;
	return BASE_OK;
}

struct metrics *metrics_collect(const struct metrics_registry *r)
{
	struct metrics *m = metrics_new();
	if (!m)
		return NULL;
	metrics_family(m, "trapline_start_time_seconds", METRIC_GAUGE,
		       "When the service started, seconds since the epoch.");
	metrics_value(m, (double)r->started, NULL);
	metrics_family(m, "trapline_uptime_seconds", METRIC_GAUGE,
		       "Seconds since the service started.");
	metrics_value(m, (double)(time_wall_s() - r->started), NULL);
	for (size_t i = 0; i < r->n; i++)
		r->src[i].fn(r->src[i].arg, m);
	if (m->oom) {
		metrics_free(m);
		return NULL;
	}
	return m;
}
