/* test_dns_golden.c - golden tests: recorded queries (tests/golden/NAME.query.hex) must get the recorded answers. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns.h"
#include "zone/zone.h"

/* TRAPLINE_GOLDEN_WRITE=1 writes the answers instead of checking them (review them, then
 * commit them: tests/golden/decode.py prints them readably). */

#define MAX_CASES 128

static struct zone_snapshot *g_snap;
static struct dns_ctx *g_ctx;
static char g_dir[4096];
static char g_names[MAX_CASES][256];
static size_t g_ncases;

/* The fixed data every golden answer was recorded against. Changing it means re-recording. */
static struct zone_snapshot *golden_snapshot(void)
{
	struct zone_defaults d;
	memset(&d, 0, sizeof d);
	strcpy(d.soa.mname, "ns1.bl.example.org");
	strcpy(d.soa.rname, "hostmaster.bl.example.org");
	d.soa.serial = 2026112301;
	d.soa.refresh = 3600;
	d.soa.retry = 600;
	d.soa.expire = 604800;
	d.soa.minimum = 300;
	d.soa.ttl = 3600;
	d.ns.ttl = 86400;
	zone_ns_add(&d.ns, "ns1.bl.example.org");
	zone_ns_add(&d.ns, "ns2.example.net");
	d.ttl = 2100;
	d.a = 0x7f000002;
	d.txt = "Listed, see https://bl.example.org/lookup?ip=$";
	/* ns_addr: ns1 is inside the zone, so the zone answers for its addresses */
	static const uint8_t ns6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
	d.glue.ttl = 86400;
	if (zone_glue_add(&d.glue, "ns1.bl.example.org", false, 0xC0000235, NULL) ||
	    zone_glue_add(&d.glue, "ns1.bl.example.org", true, 0, ns6)) {
		zone_defaults_free(&d);
		return NULL;
	}

	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	if (!b)
		return NULL;
	uint16_t def, lng;
	char txt[600];
	memset(txt, 'x', sizeof txt);
	txt[0] = '$';
	struct zone_snapshot *s = NULL;
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	if (zone_builder_default_class(b, &def) || zone_builder_class(b, 0x7f000005, txt,
								     sizeof txt, 30, &lng) ||
	    zone_builder_add4(b, 0xC0000201, 0xC0000201, def) ||
	    zone_builder_add4(b, 0xCB007107, 0xCB007107, lng) || zone_builder_add6(b, v6, 128, def) ||
	    zone_snapshot_build(b, &s))
		s = NULL;
	zone_builder_free(b);
	return s;
}

static size_t hex_read(const char *path, uint8_t *out, size_t cap, bool *tcp, size_t *capopt,
		       bool *nosnap)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#') {
			if (tcp && strstr(line, "tcp"))
				*tcp = true;
			if (nosnap && strstr(line, "nosnap"))
				*nosnap = true;
			char *c = strstr(line, "cap=");
			if (capopt && c)
				*capopt = (size_t)strtoul(c + 4, NULL, 10);
			continue;
		}
		for (char *p = line; p[0] && p[1]; p += 2) {
			unsigned v;
			if (p[0] == '\n' || sscanf(p, "%2x", &v) != 1)
				break;
			assert_true(n < cap);
			out[n++] = (uint8_t)v;
		}
	}
	fclose(f);
	return n;
}

static void hex_write(const char *path, const uint8_t *m, size_t n)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x%s", m[i], (i % 32 == 31 || i + 1 == n) ? "\n" : "");
	fclose(f);
}

static void hex_print(const char *what, const uint8_t *m, size_t n)
{
	fprintf(stderr, "%s (%zu bytes):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", m[i]);
	fprintf(stderr, "\n");
}

static void test_case(void **state)
{
	const char *name = *state;
	char path[4400];
	static uint8_t q[DNS_MAX_MSG], want[DNS_MAX_MSG], got[DNS_MAX_MSG];
	bool tcp = false, nosnap = false;
	size_t cap = 0;

	snprintf(path, sizeof path, "%s/%s.query.hex", g_dir, name);
	size_t qlen = hex_read(path, q, sizeof q, &tcp, &cap, &nosnap);
	if (cap == 0)
		cap = tcp ? DNS_MAX_MSG : DNS_MAX_UDP;
	size_t n = dns_answer(g_ctx, nosnap ? NULL : g_snap, q, qlen, got, cap, tcp);

	snprintf(path, sizeof path, "%s/%s.answer.hex", g_dir, name);
	const char *w = getenv("TRAPLINE_GOLDEN_WRITE");
	if (w && w[0] == '1') {
		hex_write(path, got, n);
		return;
	}
	size_t wlen = hex_read(path, want, sizeof want, NULL, NULL, NULL);
	if (wlen != n || memcmp(want, got, n) != 0) {
		fprintf(stderr, "golden case %s differs\n", name);
		hex_print("expected", want, wlen);
		hex_print("got", got, n);
		fail();
	}
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int main(void)
{
	const char *src = getenv("TRAPLINE_SRC");
	snprintf(g_dir, sizeof g_dir, "%s/tests/golden", src ? src : ".");
	DIR *dir = opendir(g_dir);
	if (!dir) {
		fprintf(stderr, "cannot open %s (set TRAPLINE_SRC)\n", g_dir);
		return 1;
	}
	struct dirent *e;
	while ((e = readdir(dir)) && g_ncases < MAX_CASES) {
		size_t l = strlen(e->d_name);
		const char *suf = ".query.hex";
		if (l > strlen(suf) && l - strlen(suf) < sizeof g_names[0] &&
		    strcmp(e->d_name + l - strlen(suf), suf) == 0) {
			memcpy(g_names[g_ncases], e->d_name, l - strlen(suf));
			g_names[g_ncases][l - strlen(suf)] = '\0';
			g_ncases++;
		}
	}
	closedir(dir);
	if (g_ncases < 10) { /* a missing folder must not pass as "nothing to check" */
		fprintf(stderr, "only %zu golden cases in %s\n", g_ncases, g_dir);
		return 1;
	}
	qsort(g_names, g_ncases, sizeof g_names[0], cmp_names);

	struct dns_config cfg;
	memset(&cfg, 0, sizeof cfg);
	strcpy(cfg.zone, "bl.example.org");
	cfg.edns_udp_max = 1232;
	g_ctx = dns_ctx_new(&cfg);
	g_snap = golden_snapshot();
	if (!g_ctx || !g_snap)
		return 1;

	static struct CMUnitTest tests[MAX_CASES];
	for (size_t i = 0; i < g_ncases; i++) {
		tests[i] = (struct CMUnitTest){.name = g_names[i], .test_func = test_case,
					       .initial_state = g_names[i]};
	}
	int rc = _cmocka_run_group_tests("dns_golden", tests, g_ncases, NULL, NULL);
	dns_ctx_free(g_ctx);
	zone_snapshot_free(g_snap);
	return rc;
}
