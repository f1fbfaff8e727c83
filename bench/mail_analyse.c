/* mail_analyse.c - the report analysis alone, per message: mail_report_analyse timed in a loop
 * over every message of a corpus, beside its two parts measured the same way on the same
 * bytes: GMime's parse alone, and the Received parse and walk alone (mail_chain_analyse).
 *
 *   build/bench_mail tests/data/received [ROUNDS] [ITERATIONS]
 *
 * Each message is analysed ITERATIONS times per round (default 200), ROUNDS rounds (default 9),
 * the three measurements interleaved round by round; a message's figure is its median round.
 * Printed: per message, then the median and the mean over the messages. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "base/base.h"
#include "mail/mail.h"

#define MSGS_MAX 256

struct msg {
	char name[128];
	char *bytes;
	size_t len;
	const char *hdrs[MAIL_HOPS_MAX]; /* its Received values, owned by gm */
	size_t lens[MAIL_HOPS_MAX], n_hdrs;
	GMimeMessage *gm;
	double full_us, gmime_us, walk_us; /* per analysis, median round */
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	if (b)
		b[n] = '\0';
	*len = (size_t)n;
	return b;
}

static GMimeMessage *gmime_parse(const char *bytes, size_t len)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(bytes, len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(s);
	return m;
}

/* The Received values of the message as received (forwards are not unpacked here: the walk is
 * timed on the top-level chain). */
static void received_of(struct msg *m)
{
	GMimeHeaderList *l = g_mime_object_get_header_list(GMIME_OBJECT(m->gm));
	int n = g_mime_header_list_get_count(l);
	for (int i = 0; i < n && m->n_hdrs < MAIL_HOPS_MAX; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(l, i);
		if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Received") != 0)
			continue;
		m->hdrs[m->n_hdrs] = g_mime_header_get_raw_value(h);
		m->lens[m->n_hdrs] = strlen(m->hdrs[m->n_hdrs]);
		m->n_hdrs++;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum what { FULL, GMIME, WALK };

/* One round: iters runs of one measurement on m; µs per run. */
static double round_us(struct msg *m, const struct mail_report_options *opt, enum what w,
		       unsigned iters)
{
	uint64_t t0 = time_mono_ns();
	for (unsigned i = 0; i < iters; i++) {
		struct mail_analysis a;
		if (w == FULL) {
			mail_report_analyse(m->bytes, m->len, opt, &a);
			mail_analysis_free(&a);
		} else if (w == GMIME) {
			GMimeMessage *g = gmime_parse(m->bytes, m->len);
			if (g)
				g_object_unref(g);
		} else {
			memset(&a, 0, sizeof(a));
			mail_chain_analyse(m->hdrs, m->lens, m->n_hdrs, opt->trust, false, &a);
			mail_analysis_free(&a);
		}
	}
	return (double)(time_mono_ns() - t0) / 1e3 / iters;
}

static size_t load(const char *dir, struct msg *msgs)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < MSGS_MAX) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		char path[1024];
		struct msg *m = &msgs[n];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%.*s", (int)(l - 4), e->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		m->bytes = slurp(path, &m->len);
		if (m->bytes)
			n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_mail CORPUS-DIR [ROUNDS] [ITERATIONS]\n");
		return 2;
	}
	unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 9;
	unsigned iters = argc > 3 ? (unsigned)atoi(argv[3]) : 200;
	if (rounds < 1 || rounds > 99 || iters < 1)
		return 2;
	static struct msg msgs[MSGS_MAX];
	size_t n = load(argv[1], msgs);
	char path[1024], err[256];
	size_t tlen, line;
	snprintf(path, sizeof(path), "%s/default.trusted", argv[1]);
	char *text = slurp(path, &tlen);
	struct mail_trust trust;
	mail_trust_init(&trust);
	if (!n || !text || mail_trust_parse(&trust, text, tlen, &line, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_mail: no .eml or no default.trusted in %s\n", argv[1]);
		return 1;
	}
	struct mail_report_options opt = {&trust, NULL, NULL, false};
	struct mail_analysis warm;
	mail_report_analyse(msgs[0].bytes, msgs[0].len, &opt, &warm); /* initialises GMime */
	mail_analysis_free(&warm);
	for (size_t i = 0; i < n; i++) {
		msgs[i].gm = gmime_parse(msgs[i].bytes, msgs[i].len);
		if (msgs[i].gm)
			received_of(&msgs[i]);
	}
	double full[99], gm[99], walk[99], mf[MSGS_MAX], mg[MSGS_MAX], mw[MSGS_MAX];
	double sf = 0, sg = 0, sw = 0;
	printf("%-30s %6s %5s %10s %10s %10s\n", "message", "bytes", "hops", "analyse_us",
	       "gmime_us", "walk_us");
	for (size_t i = 0; i < n; i++) {
		struct msg *m = &msgs[i];
		for (unsigned r = 0; r < rounds; r++) {
			full[r] = round_us(m, &opt, FULL, iters);
			gm[r] = round_us(m, &opt, GMIME, iters);
			walk[r] = round_us(m, &opt, WALK, iters);
		}
		mf[i] = m->full_us = median(full, rounds);
		mg[i] = m->gmime_us = median(gm, rounds);
		mw[i] = m->walk_us = median(walk, rounds);
		sf += mf[i];
		sg += mg[i];
		sw += mw[i];
		printf("%-30s %6zu %5zu %10.2f %10.2f %10.2f\n", m->name, m->len, m->n_hdrs,
		       m->full_us, m->gmime_us, m->walk_us);
	}
	double f = median(mf, n), g = median(mg, n), w = median(mw, n);
	printf("\n%zu messages, %u rounds of %u\n", n, rounds, iters);
	printf("median per message: analyse %.2f us, GMime parse alone %.2f us, Received walk "
	       "alone %.2f us (analyse/GMime %.2f)\n", f, g, w, f / g);
	printf("mean per message:   analyse %.2f us, GMime parse alone %.2f us, Received walk "
	       "alone %.2f us (analyse/GMime %.2f)\n", sf / n, sg / n, sw / n, sf / sg);
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].gm)
			g_object_unref(msgs[i].gm);
		free(msgs[i].bytes);
	}
	free(text);
	mail_trust_free(&trust);
	return 0;
}
