/* test_writer.c - unit tests of the writer: listing through the policy, expiry on the test clock,
 * exclusions, delisting, restart, rebuild against incremental, concurrency, throughput. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "writer/writer.h"

#define T0 1800000000ll /* 2027-01-15: the test clock starts here */
#define HOUR 3600ll

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

struct fx {
	char dir[64];
	char clock[96];
	char hooks[96];
	struct store *store;  /* the writer's own connection: only while no writer runs */
	struct store *reader; /* the test's reads while the writer runs (rd) */
	struct zone_handle *zone;
	struct writer *w;
	struct writer_config cfg;
	struct zone_defaults defaults;
};

static void set_clock(struct fx *f, int64_t t)
{
	char tmp[128];
	snprintf(tmp, sizeof tmp, "%s.tmp", f->clock);
	FILE *fp = fopen(tmp, "w");
	assert_non_null(fp);
	fprintf(fp, "%lld\n", (long long)t);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, f->clock), 0);
}

static void ip_of(const char *s, uint8_t out[16])
{
	uint32_t v4;
	memset(out, 0, 16);
	if (ip4_parse(s, strlen(s), &v4) == 0) {
		out[10] = out[11] = 0xff;
		out[12] = (uint8_t)(v4 >> 24);
		out[13] = (uint8_t)(v4 >> 16);
		out[14] = (uint8_t)(v4 >> 8);
		out[15] = (uint8_t)v4;
		return;
	}
	assert_int_equal(ip6_parse(s, strlen(s), out), 0);
}

static struct ip_prefix prefix_of(const char *s, unsigned plen)
{
	struct ip_prefix p;
	ip_of(s, p.addr);
	bool v4 = strchr(s, ':') == NULL;
	p.plen = (uint8_t)(v4 ? 96 + plen : plen);
	return p;
}

static void fx_start(struct fx *f)
{
	assert_int_equal(store_open(f->dir, &f->store), 0);
	f->zone = zone_handle_new();
	assert_non_null(f->zone);
	assert_int_equal(writer_start(&f->cfg, f->store, f->zone, &f->defaults, &f->w), 0);
}

/* The test's own read-only connection. A connection is one thread's (the store opens them
 * without SQLite's mutex): reading through the writer's while its thread runs would walk
 * cursors it is changing, which under load left one looping for ever inside SQLite. */
static struct store *rd(struct fx *f)
{
	if (!f->reader)
		assert_int_equal(store_open_mode(f->dir, false, &f->reader), STORE_OK);
	return f->reader;
}

static void rd_close(struct fx *f)
{
	store_close(f->reader);
	f->reader = NULL;
}

static void fx_stop(struct fx *f)
{
	rd_close(f);
	writer_stop(f->w);
	f->w = NULL;
	zone_handle_free(f->zone);
	f->zone = NULL;
	store_close(f->store);
	f->store = NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_writer.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->clock, sizeof f->clock, "%s/clock", f->dir);
	setenv("TRAPLINE_TEST_CLOCK", f->clock, 1);
	snprintf(f->hooks, sizeof f->hooks, "%s/hooks", f->dir);
	setenv("TRAPLINE_TEST_HOOKS", f->hooks, 1);
	set_clock(f, T0);
	policy_config_defaults(&f->cfg.policy);
	f->cfg.zone = "bl.example.org";
	f->cfg.export_dir = "";
	f->cfg.batch_wait_ms = 2;
	f->cfg.default_exclusions[0] = prefix_of("10.0.0.0", 8);
	f->cfg.default_exclusions[1] = prefix_of("127.0.0.0", 8);
	f->cfg.default_exclusions[2] = prefix_of("fe80::", 10);
	f->cfg.n_default_exclusions = 3;
	f->defaults.a = 0x7f000002u;
	f->defaults.ttl = 2100;
	f->defaults.txt = "Listed: $";
	strcpy(f->defaults.soa.mname, "ns1.example.org");
	strcpy(f->defaults.soa.rname, "hostmaster.example.org");
	zone_reader_register();
	fx_start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->w)
		fx_stop(f);
	rd_close(f);
	zone_reader_unregister();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("TRAPLINE_TEST_CLOCK");
	unsetenv("TRAPLINE_TEST_HOOKS");
	free(f);
	return 0;
}

static int submit_evidence(struct fx *f, const char *ip, enum store_kind kind, int64_t at)
{
	struct writer_event ev = { .type = WRITER_EV_EVIDENCE };
	ip_of(ip, ev.evidence.ip);
	ev.evidence.kind = kind;
	ev.evidence.cls = STORE_CLASS_SPAM;
	ev.evidence.received_at = at;
	snprintf(ev.evidence.source, sizeof ev.evidence.source, "trap@example.net");
	return writer_submit(f->w, &ev);
}

static void add(struct fx *f, const char *ip, enum store_kind kind)
{
	assert_int_equal(submit_evidence(f, ip, kind, 0), WRITER_OK);
}

/* What DNS answers for ip right now. */
static bool zone_listed(struct fx *f, const char *ip)
{
	uint8_t a[16];
	ip_of(ip, a);
	zone_read_lock();
	const struct zone_snapshot *s = zone_current(f->zone);
	assert_non_null(s);
	const struct zone_class *c;
	if (strchr(ip, ':'))
		c = zone_lookup6(s, a);
	else
		c = zone_lookup4(s, (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
					    (uint32_t)a[14] << 8 | a[15]);
	zone_read_unlock();
	return c != NULL;
}

static uint32_t zone_serial(struct fx *f)
{
	zone_read_lock();
	uint32_t s = zone_snapshot_soa(zone_current(f->zone))->serial;
	zone_read_unlock();
	return s;
}

static bool store_listed(struct fx *f, const char *ip, struct store_listing *out)
{
	uint8_t a[16];
	struct store_listing l;
	ip_of(ip, a);
	int rc = store_listing_get(rd(f), a, out ? out : &l);
	assert_true(rc == STORE_OK || rc == STORE_ENOTFOUND);
	return rc == STORE_OK;
}

/* The zone is published just after the producer is acknowledged, and expiry runs on the
 * writer's next look at the clock: poll for up to 20 s, which only a failure waits out (a
 * loaded CI machine under ASan stalls for seconds). */
static bool wait_zone(struct fx *f, const char *ip, bool listed)
{
	for (int i = 0; i < 2000; i++) {
		if (zone_listed(f, ip) == listed)
			return true;
		usleep(10000);
	}
	return false;
}

/* Something that must NOT happen: give the writer time to (wrongly) do it. */
static void settle(void)
{
	usleep(350000);
}

static void test_one_report_does_not_list_two_do(void **state)
{
	struct fx *f = *state;
	add(f, "192.0.2.1", STORE_KIND_REPORT);
	settle();
	assert_false(zone_listed(f, "192.0.2.1"));
	assert_false(store_listed(f, "192.0.2.1", NULL));

	uint32_t serial = zone_serial(f);
	add(f, "192.0.2.1", STORE_KIND_REPORT);
	assert_true(wait_zone(f, "192.0.2.1", true));
	struct store_listing l;
	assert_true(store_listed(f, "192.0.2.1", &l));
	assert_int_equal(l.reason, POLICY_REASON_REPORTS);
	assert_int_equal(l.reports, 2);
	assert_int_equal(l.expires_at, T0 + 12 * HOUR);
	assert_true(zone_serial(f) > serial);
	assert_false(zone_listed(f, "192.0.2.2"));

	/* On time, to the second: listed one second before, gone at 12 h. */
	set_clock(f, T0 + 12 * HOUR - 1);
	settle();
	assert_true(zone_listed(f, "192.0.2.1"));
	set_clock(f, T0 + 12 * HOUR);
	assert_true(wait_zone(f, "192.0.2.1", false));
	assert_false(store_listed(f, "192.0.2.1", NULL));
}

static void test_traps_expire_24h_and_extend(void **state)
{
	struct fx *f = *state;
	add(f, "198.51.100.7", STORE_KIND_TRAP);
	add(f, "198.51.100.7", STORE_KIND_TRAP);
	add(f, "2001:db8::7", STORE_KIND_TRAP);
	add(f, "2001:db8::7", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "198.51.100.7", true));
	assert_true(wait_zone(f, "2001:db8::7", true));
	struct store_listing l;
	assert_true(store_listed(f, "198.51.100.7", &l));
	assert_int_equal(l.reason, POLICY_REASON_TRAPS);
	assert_int_equal(l.expires_at, T0 + 24 * HOUR);

	/* New evidence at 20 h extends the v4 listing to 44 h; the v6 one ends at 24 h. */
	set_clock(f, T0 + 20 * HOUR);
	add(f, "198.51.100.7", STORE_KIND_TRAP);
	assert_true(store_listed(f, "198.51.100.7", &l));
	assert_int_equal(l.expires_at, T0 + 44 * HOUR);
	set_clock(f, T0 + 24 * HOUR);
	assert_true(wait_zone(f, "2001:db8::7", false));
	settle();
	assert_true(zone_listed(f, "198.51.100.7"));
	set_clock(f, T0 + 44 * HOUR);
	assert_true(wait_zone(f, "198.51.100.7", false));
	assert_false(store_listed(f, "198.51.100.7", NULL));
}

static void test_exclusions(void **state)
{
	struct fx *f = *state;
	/* A default exclusion (10/8) wins over any evidence. */
	for (int i = 0; i < 8; i++)
		add(f, "10.1.2.3", STORE_KIND_TRAP);
	settle();
	assert_false(zone_listed(f, "10.1.2.3"));
	assert_false(store_listed(f, "10.1.2.3", NULL));

	/* An exclusion added later removes a listing. */
	add(f, "192.0.2.9", STORE_KIND_TRAP);
	add(f, "192.0.2.9", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "192.0.2.9", true));
	struct writer_event ev = { .type = WRITER_EV_EXCLUDE, .prefix = prefix_of("192.0.2.0", 24) };
	strcpy(ev.who, "test");
	strcpy(ev.why, "our own customer");
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
	assert_true(wait_zone(f, "192.0.2.9", false));
	assert_false(store_listed(f, "192.0.2.9", NULL));

	/* Bad exclusions never enter: host bits set, a date in the past. */
	ev.prefix = prefix_of("203.0.113.1", 24);
	assert_int_equal(writer_submit(f->w, &ev), WRITER_EINVAL);
	ev.prefix = prefix_of("203.0.113.0", 24);
	ev.until = T0 - 1;
	assert_int_equal(writer_submit(f->w, &ev), WRITER_EINVAL);

	/* An exclusion until a date holds until then, and the address lists after it. */
	ev.until = T0 + HOUR;
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
	add(f, "203.0.113.5", STORE_KIND_TRAP);
	add(f, "203.0.113.5", STORE_KIND_TRAP);
	settle();
	assert_false(zone_listed(f, "203.0.113.5"));
	set_clock(f, T0 + HOUR);
	assert_true(wait_zone(f, "203.0.113.5", true));
	assert_true(store_listed(f, "203.0.113.5", NULL));
}

static int count_audit(int64_t at, const char *who, const char *what, const char *target,
		       const char *why, void *arg)
{
	if (strcmp(what, "delist") == 0 && strcmp(target, "192.0.2.44") == 0)
		(*(int *)arg)++;
	return 0;
}

static void test_delist_holds_until_new_evidence(void **state)
{
	struct fx *f = *state;
	add(f, "192.0.2.44", STORE_KIND_TRAP);
	add(f, "192.0.2.44", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "192.0.2.44", true));
	struct writer_event ev = { .type = WRITER_EV_DELIST };
	ip_of("192.0.2.44", ev.ip);
	strcpy(ev.who, "moderator");
	strcpy(ev.why, "fixed their server");
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
	assert_true(wait_zone(f, "192.0.2.44", false));
	int audits = 0;
	assert_int_equal(store_audit_foreach(rd(f), 0, count_audit, &audits), STORE_OK);
	assert_int_equal(audits, 1);

	/* The old evidence no longer counts; one new piece is not enough, two are. */
	set_clock(f, T0 + 60);
	add(f, "192.0.2.44", STORE_KIND_TRAP);
	settle();
	assert_false(zone_listed(f, "192.0.2.44"));
	add(f, "192.0.2.44", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "192.0.2.44", true));
}

static int reputation_event(struct fx *f, const char *net, unsigned plen, double points)
{
	struct writer_event ev = { .type = WRITER_EV_REPUTATION, .prefix = prefix_of(net, plen),
				   .points = points };
	strcpy(ev.who, "test");
	strcpy(ev.why, "a big provider");
	return writer_submit(f->w, &ev);
}

static void test_reputation(void **state)
{
	struct fx *f = *state;
	/* Two trap hits each: score 10 against the default threshold 5. */
	const char *ips[] = { "198.51.100.3", "198.51.100.200", "203.0.113.3" };
	for (size_t i = 0; i < 3; i++) {
		add(f, ips[i], STORE_KIND_TRAP);
		add(f, ips[i], STORE_KIND_TRAP);
		assert_true(wait_zone(f, ips[i], true));
	}
	/* 6 points on the /24: threshold 11 > 10, both addresses inside leave DNS at once. */
	assert_int_equal(reputation_event(f, "198.51.100.0", 24, 6), WRITER_OK);
	assert_true(wait_zone(f, "198.51.100.3", false));
	assert_true(wait_zone(f, "198.51.100.200", false));
	assert_false(store_listed(f, "198.51.100.3", NULL));
	assert_true(zone_listed(f, "203.0.113.3"));

	/* A more specific prefix wins over the wider one: 1 point on the /28 (threshold 6)
	 * lists .3 again, .200 stays under the /24's 6 points. */
	assert_int_equal(reputation_event(f, "198.51.100.0", 28, 1), WRITER_OK);
	assert_true(wait_zone(f, "198.51.100.3", true));
	settle();
	assert_false(zone_listed(f, "198.51.100.200"));

	/* Restart: the points are read back before anything is evaluated; rebuild agrees. */
	fx_stop(f);
	set_clock(f, T0 + 60);
	fx_start(f);
	assert_true(zone_listed(f, "198.51.100.3"));
	assert_false(zone_listed(f, "198.51.100.200"));
	struct writer_event rb = { .type = WRITER_EV_REBUILD };
	assert_int_equal(writer_submit(f->w, &rb), WRITER_OK);
	assert_true(zone_listed(f, "198.51.100.3"));
	assert_false(zone_listed(f, "198.51.100.200"));
	assert_false(store_listed(f, "198.51.100.200", NULL));
	assert_true(zone_listed(f, "203.0.113.3"));

	/* Removing the /28 (0 points) leaves the /24's: .3 goes; removing that lists both. */
	assert_int_equal(reputation_event(f, "198.51.100.0", 28, 0), WRITER_OK);
	assert_true(wait_zone(f, "198.51.100.3", false));
	assert_int_equal(reputation_event(f, "198.51.100.0", 24, 0), WRITER_OK);
	assert_true(wait_zone(f, "198.51.100.3", true));
	assert_true(wait_zone(f, "198.51.100.200", true));
	/* Removing points a prefix does not have is no change and no error. */
	assert_int_equal(reputation_event(f, "198.51.100.0", 24, 0), WRITER_OK);

	/* Bad events change nothing: host bits, negative or non-finite points. */
	assert_int_equal(reputation_event(f, "198.51.100.1", 24, 50), WRITER_EINVAL);
	assert_int_equal(reputation_event(f, "198.51.100.0", 24, -1), WRITER_EINVAL);
	assert_int_equal(reputation_event(f, "198.51.100.0", 24, 1.0 / 0.0), WRITER_EINVAL);
	assert_int_equal(reputation_event(f, "198.51.100.0", 24, 0.0 / 0.0), WRITER_EINVAL);
	settle();
	assert_true(zone_listed(f, "198.51.100.3"));
	assert_true(zone_listed(f, "198.51.100.200"));
}

static void test_bad_events(void **state)
{
	struct fx *f = *state;
	struct writer_event ev = { .type = WRITER_EV_EVIDENCE };
	ev.evidence.kind = 7;
	assert_int_equal(writer_submit(f->w, &ev), WRITER_EINVAL);
	ev.type = 99;
	assert_int_equal(writer_submit(f->w, &ev), WRITER_EINVAL);
	ev.type = WRITER_EV_EXCLUDE;
	ev.prefix.plen = 129;
	assert_int_equal(writer_submit(f->w, &ev), WRITER_EINVAL);
	assert_string_equal(tl_strerror(WRITER_EINVAL), "invalid input");
}

static void test_restart_keeps_listings_and_zone(void **state)
{
	struct fx *f = *state;
	const char *ips[] = { "192.0.2.10", "192.0.2.11", "2001:db8::10" };
	for (size_t i = 0; i < 3; i++) {
		add(f, ips[i], STORE_KIND_TRAP);
		add(f, ips[i], STORE_KIND_REPORT);
	}
	for (size_t i = 0; i < 3; i++)
		assert_true(wait_zone(f, ips[i], true));
	uint32_t serial = zone_serial(f);
	fx_stop(f);
	fx_start(f);
	/* writer_start publishes before it returns: no waiting. */
	for (size_t i = 0; i < 3; i++)
		assert_true(zone_listed(f, ips[i]));
	assert_false(zone_listed(f, "192.0.2.12"));
	assert_true(zone_serial(f) > serial);
	/* Expiry still works after a restart (the timers were rebuilt). */
	set_clock(f, T0 + 24 * HOUR);
	for (size_t i = 0; i < 3; i++)
		assert_true(wait_zone(f, ips[i], false));

	/* A listing that ended while the service was down is gone at start. */
	add(f, "192.0.2.20", STORE_KIND_TRAP);
	add(f, "192.0.2.20", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "192.0.2.20", true));
	writer_stop(f->w);
	f->w = NULL;
	set_clock(f, T0 + 48 * HOUR);
	zone_handle_free(f->zone);
	f->zone = zone_handle_new();
	assert_int_equal(writer_start(&f->cfg, f->store, f->zone, &f->defaults, &f->w), 0);
	assert_false(zone_listed(f, "192.0.2.20"));
	assert_false(store_listed(f, "192.0.2.20", NULL));
}

/* ---- the listing history (store migration 5) ---- */

struct episodes {
	struct store_episode e[8];
	int n;
};

static int collect_episode(const struct store_episode *e, void *arg)
{
	struct episodes *l = arg;
	if (l->n < 8)
		l->e[l->n++] = *e;
	return 0;
}

/* The ended episodes of ip, read through a connection of the test's own. */
static struct episodes history_of(struct fx *f, const char *ip)
{
	struct episodes l = { 0 };
	struct store *r;
	uint8_t a[16];
	ip_of(ip, a);
	assert_int_equal(store_open_mode(f->dir, false, &r), STORE_OK);
	assert_int_equal(store_history_for_ip(r, a, 0, collect_episode, &l), STORE_OK);
	store_close(r);
	return l;
}

static void rebuild(struct fx *f)
{
	struct writer_event ev = { .type = WRITER_EV_REBUILD };
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
}

/* The SOA serial never goes backwards, even when the clock is set back while the service is
 * down: a secondary ignores a zone whose serial went down. It is stored with every change,
 * by a rebuild, at a start that ended listings (they ended while the service was down), and at
 * a start that changed nothing; each restart below sets the clock an hour back, so only the
 * stored serial can keep the next one higher. */
static void test_serial_never_backwards(void **state)
{
	struct fx *f = *state;
	add(f, "192.0.2.20", STORE_KIND_TRAP);
	add(f, "192.0.2.20", STORE_KIND_REPORT);
	assert_true(wait_zone(f, "192.0.2.20", true));
	rebuild(f);
	uint32_t s = zone_serial(f);
	int64_t back[] = { T0 - HOUR, T0 + 48 * HOUR, T0 + 47 * HOUR, T0 + 46 * HOUR };
	for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
		fx_stop(f);
		set_clock(f, back[i]);
		fx_start(f);
		assert_true(zone_serial(f) > s);
		s = zone_serial(f);
	}
	/* The listing ended while the service was down (at the second start). */
	assert_false(zone_listed(f, "192.0.2.20"));
}

static void test_listing_history(void **state)
{
	struct fx *f = *state;
	add(f, "198.51.100.1", STORE_KIND_TRAP);
	add(f, "198.51.100.1", STORE_KIND_REPORT);
	assert_true(wait_zone(f, "198.51.100.1", true));
	/* A rebuild while it is listed neither ends nor restarts the episode. */
	set_clock(f, T0 + HOUR);
	rebuild(f);
	assert_int_equal(history_of(f, "198.51.100.1").n, 0);
	struct store_listing l;
	assert_true(store_listed(f, "198.51.100.1", &l));
	assert_int_equal(l.listed_at, T0);

	/* Its expiry ends it: one episode, ended at the expiry, with its reason. */
	set_clock(f, T0 + 24 * HOUR + 5);
	assert_true(wait_zone(f, "198.51.100.1", false));
	struct episodes h = history_of(f, "198.51.100.1");
	assert_int_equal(h.n, 1);
	assert_int_equal(h.e[0].listed_at, T0);
	assert_int_equal(h.e[0].ended_at, T0 + 24 * HOUR);
	assert_int_equal(h.e[0].reason, POLICY_REASON_BOTH);
	/* A rebuild after it ended records nothing more. */
	rebuild(f);
	assert_int_equal(history_of(f, "198.51.100.1").n, 1);

	/* A delisting ends one now; a new listing after it is a second episode. */
	int64_t t1 = T0 + 30 * HOUR;
	set_clock(f, t1);
	add(f, "2001:db8::1", STORE_KIND_TRAP);
	add(f, "2001:db8::1", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "2001:db8::1", true));
	set_clock(f, t1 + 600);
	struct writer_event ev = { .type = WRITER_EV_DELIST };
	ip_of("2001:db8::1", ev.ip);
	strcpy(ev.who, "moderator");
	strcpy(ev.why, "fixed");
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
	assert_true(wait_zone(f, "2001:db8::1", false));
	h = history_of(f, "2001:db8::1");
	assert_int_equal(h.n, 1);
	assert_int_equal(h.e[0].listed_at, t1);
	assert_int_equal(h.e[0].ended_at, t1 + 600);
	assert_int_equal(h.e[0].reason, POLICY_REASON_TRAPS);

	/* One that ends while the service is down is recorded at the next start, ended at its
	 * expiry, not at the restart. */
	add(f, "198.51.100.2", STORE_KIND_TRAP);
	add(f, "198.51.100.2", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "198.51.100.2", true));
	fx_stop(f);
	set_clock(f, t1 + 600 + 48 * HOUR);
	fx_start(f);
	assert_false(zone_listed(f, "198.51.100.2"));
	h = history_of(f, "198.51.100.2");
	assert_int_equal(h.n, 1);
	assert_int_equal(h.e[0].listed_at, t1 + 600);
	assert_int_equal(h.e[0].ended_at, t1 + 600 + 24 * HOUR);

	/* A rebuild that ends a listing (an exclusion the writer has not acted on is not
	 * possible; the policy's own end is) records it once. */
	int64_t t2 = t1 + 600 + 48 * HOUR;
	add(f, "198.51.100.3", STORE_KIND_TRAP);
	add(f, "198.51.100.3", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "198.51.100.3", true));
	fx_stop(f);
	f->cfg.policy.threshold = 100; /* the rules changed while it was down */
	fx_start(f);
	rebuild(f);
	assert_false(zone_listed(f, "198.51.100.3"));
	h = history_of(f, "198.51.100.3");
	assert_int_equal(h.n, 1);
	assert_int_equal(h.e[0].listed_at, t2);
	assert_int_equal(h.e[0].ended_at, t2);
	rebuild(f);
	assert_int_equal(history_of(f, "198.51.100.3").n, 1);
}

static bool file_has(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return false;
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof line, fp))
		found = strstr(line, needle) != NULL;
	fclose(fp);
	return found;
}

static void test_exports(void **state)
{
	struct fx *f = *state;
	char rbl[128], bind[128];
	snprintf(rbl, sizeof rbl, "%s/trapline.rbldnsd", f->dir);
	snprintf(bind, sizeof bind, "%s/trapline.zone", f->dir);
	fx_stop(f);
	f->cfg.export_dir = f->dir;
	f->cfg.export_interval_s = 600;
	fx_start(f);
	add(f, "192.0.2.77", STORE_KIND_TRAP);
	add(f, "192.0.2.77", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "192.0.2.77", true));

	/* On demand: both files, with the listed address. */
	struct writer_event ev = { .type = WRITER_EV_EXPORT };
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
	assert_true(file_has(rbl, "192.0.2.77"));
	assert_true(file_has(bind, "77.2.0.192"));
	assert_false(file_has(rbl, "192.0.2.78"));

	/* On the interval: a new listing shows up once the interval has passed. */
	add(f, "192.0.2.78", STORE_KIND_TRAP);
	add(f, "192.0.2.78", STORE_KIND_TRAP);
	settle();
	assert_false(file_has(rbl, "192.0.2.78"));
	set_clock(f, T0 + 600);
	bool seen = false;
	for (int i = 0; i < 300 && !seen; i++) {
		seen = file_has(rbl, "192.0.2.78") && file_has(bind, "78.2.0.192");
		usleep(10000);
	}
	assert_true(seen);
}

/* ---- rebuild against incremental ---- */

struct listing_set {
	struct store_listing *l;
	size_t n, cap;
};

static int collect_listing(const struct store_listing *l, void *arg)
{
	struct listing_set *s = arg;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->l = realloc(s->l, s->cap * sizeof *s->l);
		assert_non_null(s->l);
	}
	s->l[s->n++] = *l;
	return 0;
}

static int cmp_listing(const void *a, const void *b)
{
	return memcmp(((const struct store_listing *)a)->ip, ((const struct store_listing *)b)->ip,
		      16);
}

static void listings(struct fx *f, struct listing_set *s)
{
	memset(s, 0, sizeof *s);
	assert_int_equal(store_listing_foreach(rd(f), collect_listing, s), STORE_OK);
	qsort(s->l, s->n, sizeof *s->l, cmp_listing);
}

static void test_rebuild_equals_incremental(void **state)
{
	struct fx *f = *state;
	srand(42);
	char ip[32];
	/* Evidence spread over three days against 300 addresses, with a delisting and an
	 * exclusion on the way: what the writer keeps up incrementally. */
	for (int step = 0; step < 12; step++) {
		set_clock(f, T0 + step * 6 * HOUR);
		for (int i = 0; i < 150; i++) {
			int host = rand() % 300;
			snprintf(ip, sizeof ip, "198.18.%d.%d", host / 250, host % 250 + 1);
			enum store_kind k = rand() % 3 == 0 ? STORE_KIND_TRAP : STORE_KIND_REPORT;
			assert_int_equal(submit_evidence(f, ip, k, T0 + step * 6 * HOUR - rand() % 7200),
					 WRITER_OK);
		}
		if (step == 5) {
			struct writer_event ev = { .type = WRITER_EV_DELIST };
			ip_of("198.18.0.7", ev.ip);
			assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
			ev.type = WRITER_EV_EXCLUDE;
			ev.prefix = prefix_of("198.18.0.128", 28);
			assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
		}
	}
	/* Expiries due at the last step run on the writer's next look at the clock: poll until
	 * no listing is past its time, up to 20 s (a loaded machine under ASan). */
	struct listing_set inc, reb;
	const int64_t now = T0 + 11 * 6 * HOUR;
	for (int k = 0;; k++) {
		listings(f, &inc);
		size_t due = 0;
		for (size_t i = 0; i < inc.n; i++)
			due += inc.l[i].expires_at <= now;
		if (due == 0 || k == 400)
			break;
		free(inc.l);
		usleep(50000);
	}
	assert_true(inc.n > 20);

	struct writer_event ev = { .type = WRITER_EV_REBUILD };
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
	listings(f, &reb);
	assert_int_equal(inc.n, reb.n);
	for (size_t i = 0; i < inc.n; i++) {
		assert_memory_equal(inc.l[i].ip, reb.l[i].ip, 16);
		assert_int_equal(inc.l[i].listed_at, reb.l[i].listed_at);
		assert_int_equal(inc.l[i].expires_at, reb.l[i].expires_at);
		assert_int_equal(inc.l[i].last_evidence_at, reb.l[i].last_evidence_at);
		assert_int_equal(inc.l[i].traps, reb.l[i].traps);
		assert_int_equal(inc.l[i].reports, reb.l[i].reports);
		assert_int_equal(inc.l[i].reason, reb.l[i].reason);
	}
	/* And DNS agrees with the store after the whole rebuild. */
	for (int host = 0; host < 300; host++) {
		snprintf(ip, sizeof ip, "198.18.%d.%d", host / 250, host % 250 + 1);
		assert_int_equal(zone_listed(f, ip), store_listed(f, ip, NULL));
	}
	free(inc.l);
	free(reb.l);
}

/* ---- concurrency and throughput ---- */

struct producer {
	struct fx *f;
	int id, n;
	int acked;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	zone_reader_register();
	for (int i = 0; i < p->n; i++) {
		struct writer_event ev = { .type = WRITER_EV_EVIDENCE };
		/* 2,000 addresses per producer, each hit a few times: listings come and change. */
		int host = i % 2000;
		char ip[32];
		snprintf(ip, sizeof ip, "100.%d.%d.%d", 64 + p->id, host / 250, host % 250 + 1);
		ip_of(ip, ev.evidence.ip);
		ev.evidence.kind = i % 2 ? STORE_KIND_TRAP : STORE_KIND_REPORT;
		ev.evidence.cls = STORE_CLASS_SPAM;
		if (writer_submit(p->f->w, &ev) == WRITER_OK)
			p->acked++;
	}
	zone_reader_unregister();
	return NULL;
}

struct counter {
	struct store *s;
	long n;
};

static int count_piece(const struct store_evidence *ev, void *arg)
{
	(*(long *)arg)++;
	return 0;
}

static int count_ip(const uint8_t ip[16], void *arg)
{
	struct counter *c = arg;
	assert_int_equal(store_evidence_for_ip(c->s, ip, 0, false, count_piece, &c->n), STORE_OK);
	return 0;
}

static double run_producers(struct fx *f, int threads, int per, int *acked)
{
	pthread_t t[16];
	struct producer p[16];
	uint64_t t0 = time_mono_ns();
	for (int i = 0; i < threads; i++) {
		p[i] = (struct producer){ .f = f, .id = i, .n = per };
		assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
	}
	*acked = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		*acked += p[i].acked;
	}
	return (double)(time_mono_ns() - t0) / 1e9;
}

static void test_concurrent_producers_nothing_lost(void **state)
{
	struct fx *f = *state;
	int acked = 0;
	run_producers(f, 4, 5000, &acked);
	assert_int_equal(acked, 20000);
	/* Every acknowledged event is in the store, also seen through a fresh connection. */
	fx_stop(f);
	fx_start(f);
	struct counter c = { .s = rd(f) };
	assert_int_equal(store_evidence_ips(rd(f), 0, count_ip, &c), STORE_OK);
	assert_int_equal(c.n, 20000);
	/* Each address got 2 or 3 pieces, half of them traps: all listed, in DNS too. */
	assert_true(zone_listed(f, "100.64.0.1"));
	assert_true(zone_listed(f, "100.67.7.250"));
}

/* Many events in one call: each is answered on its own, a bad one does not stop the others,
 * and the caller returns only when all of them are committed. */
static void test_submit_many(void **state)
{
	struct fx *f = *state;
	size_t n = 2001;
	struct writer_event *evs = calloc(n, sizeof *evs);
	int *results = calloc(n, sizeof *results);
	assert_non_null(evs);
	assert_non_null(results);
	for (size_t i = 0; i < n; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.70.%zu.%zu", i / 2 / 250, i / 2 % 250 + 1);
		evs[i].type = WRITER_EV_EVIDENCE;
		ip_of(ip, evs[i].evidence.ip);
		evs[i].evidence.kind = STORE_KIND_TRAP; /* two hits per address: listed */
		evs[i].evidence.cls = STORE_CLASS_SPAM;
		evs[i].evidence.received_at = 0;
	}
	evs[1000].evidence.kind = (enum store_kind)9; /* not a kind */
	assert_int_equal(writer_submit_many(f->w, evs, n, results), WRITER_EINVAL);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(results[i], i == 1000 ? WRITER_EINVAL : WRITER_OK);
	struct counter c = { .s = rd(f) };
	fx_stop(f);
	fx_start(f);
	c.s = rd(f);
	assert_int_equal(store_evidence_ips(rd(f), 0, count_ip, &c), STORE_OK);
	assert_int_equal(c.n, 2000);
	assert_true(zone_listed(f, "100.70.0.1"));   /* events 0 and 1 */
	assert_true(zone_listed(f, "100.70.3.250")); /* events 1998 and 1999 */
	assert_false(zone_listed(f, "100.70.2.1"));  /* event 1000 was refused, 1001 alone */
	free(evs);
	free(results);
}

/* ---- posted events (writer_post) ---- */

struct post_acks {
	atomic_int ok, failed;
};

static void post_done(void *arg, int result)
{
	struct post_acks *a = arg;
	atomic_fetch_add(result == WRITER_OK ? &a->ok : &a->failed, 1);
}

static void trap_event(struct writer_event *ev, const char *ip)
{
	memset(ev, 0, sizeof *ev);
	ev->type = WRITER_EV_EVIDENCE;
	ip_of(ip, ev->evidence.ip);
	ev->evidence.kind = STORE_KIND_TRAP;
	ev->evidence.cls = STORE_CLASS_SPAM;
}

/* Restarts the writer with posted events gathering for ms. */
static void restart_gathering(struct fx *f, uint32_t ms)
{
	fx_stop(f);
	f->cfg.batch_wait_ms = ms;
	fx_start(f);
}

/* Up to 20 s: only a failure waits it out. */
static bool wait_acks(struct post_acks *a, int n)
{
	for (int i = 0; i < 2000 && atomic_load(&a->ok) + atomic_load(&a->failed) < n; i++)
		usleep(10000);
	return atomic_load(&a->ok) + atomic_load(&a->failed) == n;
}

/* A stream of posted events shares transactions, each event is answered once, and what is
 * answered is stored and published; a bad event is refused at once and never answered. */
static void test_post_shares_commits(void **state)
{
	struct fx *f = *state;
	restart_gathering(f, 50);
	struct post_acks a = { 0 };
	struct writer_stats before, after;
	writer_stats(f->w, &before);
	struct writer_event ev;
	for (int i = 0; i < 200; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.80.0.%d", i / 2 + 1); /* two hits each: listed */
		trap_event(&ev, ip);
		assert_int_equal(writer_post(f->w, &ev, post_done, &a), WRITER_OK);
	}
	trap_event(&ev, "100.80.1.1");
	ev.evidence.kind = (enum store_kind)9;
	assert_int_equal(writer_post(f->w, &ev, post_done, &a), WRITER_EINVAL);
	assert_true(wait_acks(&a, 200));
	assert_int_equal(atomic_load(&a.ok), 200);
	writer_stats(f->w, &after);
	assert_int_equal(after.events - before.events, 200);
	/* One commit per event would be 200; posted within microseconds, they share a few. */
	assert_true(after.batches - before.batches <= 20);
	assert_true(wait_zone(f, "100.80.0.1", true));
	assert_true(wait_zone(f, "100.80.0.100", true));
	assert_false(zone_listed(f, "100.80.1.1"));
	settle();
	assert_int_equal(atomic_load(&a.ok) + atomic_load(&a.failed), 200); /* never twice */
}

/* A blocked producer does not wait out the posted events' gathering time, and stopping the
 * writer answers every posted event after committing it. */
static void test_post_blocking_and_stop(void **state)
{
	struct fx *f = *state;
	/* Gathering for 60 s against bounds of 30 s: a stalled machine stays far below the one,
	 * a writer that waits out the gathering far above the other. */
	restart_gathering(f, 60000);
	struct post_acks a = { 0 };
	struct writer_event ev;
	trap_event(&ev, "100.81.0.1");
	assert_int_equal(writer_post(f->w, &ev, post_done, &a), WRITER_OK);
	uint64_t t0 = time_mono_ns();
	add(f, "100.81.0.1", STORE_KIND_TRAP); /* closes the batch: both committed */
	assert_true(time_mono_ns() - t0 < 30000000000ull);
	assert_int_equal(atomic_load(&a.ok), 1);
	assert_true(wait_zone(f, "100.81.0.1", true));
	for (int i = 0; i < 20; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.81.1.%d", i / 2 + 1);
		trap_event(&ev, ip);
		assert_int_equal(writer_post(f->w, &ev, post_done, &a), WRITER_OK);
	}
	t0 = time_mono_ns();
	fx_stop(f); /* does not wait out the 60 s either */
	assert_true(time_mono_ns() - t0 < 30000000000ull);
	assert_int_equal(atomic_load(&a.ok), 21);
	fx_start(f);
	assert_true(store_listed(f, "100.81.1.1", NULL));
	assert_true(store_listed(f, "100.81.1.10", NULL));
	assert_true(zone_listed(f, "100.81.1.10"));
}

static void test_throughput(void **state)
{
	struct fx *f = *state;
	int per = SANITIZED ? 2000 : 10000, acked = 0;
	double s = run_producers(f, 8, per, &acked);
	assert_int_equal(acked, 8 * per);
	printf("writer: %d events through writer_submit from 8 threads in %.2f s: %.0f events/s\n",
	       acked, s, acked / s);
}

/* ---- start from a big store ---- */

struct export_arg {
	struct writer *w;
	int rc;
	double seconds;
	atomic_bool done;
};

static void *export_main(void *arg)
{
	struct export_arg *x = arg;
	struct writer_event ev = { .type = WRITER_EV_EXPORT };
	uint64_t t0 = time_mono_ns();
	x->rc = writer_submit(x->w, &ev);
	x->seconds = (double)(time_mono_ns() - t0) / 1e9;
	atomic_store(&x->done, true);
	return NULL;
}

static void set_hooks(struct fx *f, const char *words);

static void test_start_1m_listings(void **state)
{
	struct fx *f = *state;
	fx_stop(f);
	f->cfg.export_dir = f->dir; /* on demand only */
	assert_int_equal(store_open(f->dir, &f->store), 0);
	size_t n = SANITIZED ? 200000 : 1000000;
	assert_int_equal(store_begin(f->store), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		struct store_listing l = { .listed_at = T0, .expires_at = T0 + 24 * HOUR,
					   .last_evidence_at = T0, .traps = 2, .reason = 1 };
		l.ip[10] = l.ip[11] = 0xff;
		uint32_t v = 0x0b000000u + (uint32_t)i * 7; /* 11.0.0.0 onwards */
		l.ip[12] = (uint8_t)(v >> 24);
		l.ip[13] = (uint8_t)(v >> 16);
		l.ip[14] = (uint8_t)(v >> 8);
		l.ip[15] = (uint8_t)v;
		if (i == 1)
			l.expires_at = T0 + HOUR; /* 11.0.0.7 */
		assert_int_equal(store_listing_put(f->store, &l), STORE_OK);
	}
	assert_int_equal(store_commit(f->store), STORE_OK);
	f->zone = zone_handle_new();
	uint64_t t0 = time_mono_ns();
	assert_int_equal(writer_start(&f->cfg, f->store, f->zone, &f->defaults, &f->w), 0);
	double s = (double)(time_mono_ns() - t0) / 1e9;
	printf("writer: start with %zu active listings: %.2f s\n", n, s);
	zone_read_lock();
	assert_int_equal(zone_snapshot_count(zone_current(f->zone)), n);
	zone_read_unlock();
	assert_true(zone_listed(f, "11.0.0.0"));
	assert_true(zone_listed(f, "11.0.0.7"));
	assert_false(zone_listed(f, "11.0.0.8"));
	/* The bound is 2 s; leave room for a machine busy with other builds. */
	if (!SANITIZED)
		assert_true(s < 4.0);
	/* The timers were filled: the one due first goes on time, the others stay. */
	set_clock(f, T0 + HOUR);
	assert_true(wait_zone(f, "11.0.0.7", false));
	assert_true(zone_listed(f, "11.0.0.14"));

	/* Exporting the big zone takes a while; the writer goes on acknowledging meanwhile (were
	 * the export on its thread, the first event would wait for all of it). That is seen
	 * whatever the machine's speed with the export held: the temporary name of its first file
	 * is a FIFO, whose open waits for a reader, and the export event is queued while the hook
	 * holds the writer after a commit, so that the events posted next come after it. */
	char fifo[160], marker[160];
	snprintf(fifo, sizeof fifo, "%s/trapline.rbldnsd.tmp", f->dir);
	snprintf(marker, sizeof marker, "%s.hold-after-commit", f->hooks);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	struct post_acks a = { 0 };
	struct writer_event ev;
	set_hooks(f, "hold-after-commit\n");
	trap_event(&ev, "100.91.0.1");
	assert_int_equal(writer_post(f->w, &ev, post_done, &a), WRITER_OK);
	struct stat sb;
	for (int i = 0; i < 2000 && stat(marker, &sb) != 0; i++) /* 20 s: only a failure waits */
		usleep(10000);
	bool was_held = stat(marker, &sb) == 0;
	struct export_arg x = { .w = f->w };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, export_main, &x), 0);
	struct writer_figures fig = { 0 };
	for (int i = 0; i < 2000; i++) { /* the export queued, up to 20 s */
		writer_figures(f->w, &fig);
		if (fig.queue_depth == 1)
			break;
		usleep(10000);
	}
	set_hooks(f, ""); /* before any assertion: a failed one must not leave the writer held */
	unlink(marker);
	/* Events one at a time, each answered before the next is posted, while the export waits
	 * at the FIFO: 20 s for each, which only a writer blocked by the export waits out. */
	const int held_n = 100;
	int during = 0;
	double slowest = 0;
	for (int i = 0; i < held_n; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.92.0.%d", i + 1);
		trap_event(&ev, ip);
		uint64_t sent = time_mono_ns();
		if (writer_post(f->w, &ev, post_done, &a) != WRITER_OK)
			break;
		for (int k = 0; k < 20000 && atomic_load(&a.ok) + atomic_load(&a.failed) < i + 2;
		     k++)
			usleep(1000);
		if (atomic_load(&a.ok) < i + 2 || atomic_load(&x.done))
			break;
		double ack = (double)(time_mono_ns() - sent) / 1e9;
		if (ack > slowest)
			slowest = ack;
		during++;
	}
	/* Release the export: read the FIFO to its end. Its first file fails (a FIFO cannot be
	 * fsynced), the second is written; the export below is the one whose result counts. */
	int fd = open(fifo, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	char buf[65536];
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(was_held);
	assert_int_equal(fig.queue_depth, 1);
	assert_int_equal(during, held_n);
	printf("writer: %d events acknowledged while an export was held, slowest %.3f s\n", during,
	       slowest);

	/* An export left alone: its result, its file, and the acknowledgements meanwhile, with a
	 * bound that is only "not waiting for the export" (seen above): 10 s, which a loaded
	 * machine under ASan does not reach for one commit. */
	x = (struct export_arg){ .w = f->w };
	assert_int_equal(pthread_create(&t, NULL, export_main, &x), 0);
	usleep(20000);
	during = 0;
	slowest = 0;
	for (int i = 0; i < 5000 && !atomic_load(&x.done); i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.90.%d.%d", i / 250, i % 250 + 1);
		uint64_t sent = time_mono_ns();
		add(f, ip, STORE_KIND_REPORT);
		double ack = (double)(time_mono_ns() - sent) / 1e9;
		if (ack > slowest)
			slowest = ack;
		if (!atomic_load(&x.done))
			during++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(x.rc, WRITER_OK);
	printf("writer: export of %zu listings %.2f s; %d events acknowledged meanwhile, slowest "
	       "%.3f s\n", n, x.seconds, during, slowest);
	assert_true(slowest < 10.0);
	char bind[128];
	snprintf(bind, sizeof bind, "%s/trapline.zone", f->dir);
	assert_true(file_has(bind, "0.0.0.11"));
}

static int count_excl(const struct store_exclusion *x, void *arg)
{
	(void)x;
	(*(int *)arg)++;
	return 0;
}

static struct writer_event moderator(enum writer_event_type type, const char *cidr, unsigned plen)
{
	struct writer_event ev = {.type = type};
	ev.prefix = prefix_of(cidr, plen);
	memcpy(ev.ip, ev.prefix.addr, 16);
	snprintf(ev.who, sizeof ev.who, "test");
	snprintf(ev.why, sizeof ev.why, "why %s", cidr);
	return ev;
}

/* An exclusion of a prefix replaces the one it had; removing it lists again what its evidence
 * lists; taking back what is not there fails that event alone and writes nothing. */
static void test_corrections(void **state)
{
	struct fx *f = *state;
	add(f, "192.0.2.7", STORE_KIND_TRAP);
	add(f, "192.0.2.7", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "192.0.2.7", true));
	struct writer_event ex = moderator(WRITER_EV_EXCLUDE, "192.0.2.0", 24);
	ex.until = T0 + 10 * HOUR;
	assert_int_equal(writer_submit(f->w, &ex), WRITER_OK);
	ex.until = T0 + 2 * HOUR;
	assert_int_equal(writer_submit(f->w, &ex), WRITER_OK);
	assert_true(wait_zone(f, "192.0.2.7", false));
	int n = 0;
	assert_int_equal(store_exclusion_foreach(rd(f), T0, count_excl, &n), STORE_OK);
	assert_int_equal(n, 1); /* replaced, not added */
	/* The shorter end holds: at +3 h the exclusion is over and the evidence lists again. */
	set_clock(f, T0 + 3 * HOUR);
	assert_true(wait_zone(f, "192.0.2.7", true));
	set_clock(f, T0 + 3 * HOUR + 5);
	ex.until = 0;
	assert_int_equal(writer_submit(f->w, &ex), WRITER_OK);
	assert_true(wait_zone(f, "192.0.2.7", false));
	struct writer_event un = moderator(WRITER_EV_UNEXCLUDE, "192.0.2.0", 24);
	assert_int_equal(writer_submit(f->w, &un), WRITER_OK);
	assert_true(wait_zone(f, "192.0.2.7", true));
	n = 0;
	assert_int_equal(store_exclusion_foreach(rd(f), T0, count_excl, &n), STORE_OK);
	assert_int_equal(n, 0);
	/* Nothing to remove, nothing to undo: those fail alone, the rest of the batch holds. */
	struct writer_event evs[3] = {un, moderator(WRITER_EV_UNDELIST, "192.0.2.7", 32)};
	evs[2] = (struct writer_event){.type = WRITER_EV_EVIDENCE};
	ip_of("192.0.2.8", evs[2].evidence.ip);
	evs[2].evidence.kind = STORE_KIND_REPORT;
	int res[3];
	int audits = 0;
	assert_int_equal(store_audit_foreach(rd(f), 0, count_audit, &audits), STORE_OK);
	assert_int_equal(writer_submit_many(f->w, evs, 3, res), WRITER_ENOTFOUND);
	assert_int_equal(res[0], WRITER_ENOTFOUND);
	assert_int_equal(res[1], WRITER_ENOTFOUND);
	assert_int_equal(res[2], WRITER_OK);
	int after = 0;
	assert_int_equal(store_audit_foreach(rd(f), 0, count_audit, &after), STORE_OK);
	assert_int_equal(after, audits);
	/* Delist, undo: listed again by the same evidence. */
	struct writer_event dl = moderator(WRITER_EV_DELIST, "192.0.2.7", 32);
	assert_int_equal(writer_submit(f->w, &dl), WRITER_OK);
	assert_true(wait_zone(f, "192.0.2.7", false));
	dl.type = WRITER_EV_UNDELIST;
	assert_int_equal(writer_submit(f->w, &dl), WRITER_OK);
	assert_true(wait_zone(f, "192.0.2.7", true));
}

/* Evidence committed after a delisting in the same second counts; the delisting holds for
 * what came before it. */
static void test_delist_same_second(void **state)
{
	struct fx *f = *state;
	add(f, "198.51.100.9", STORE_KIND_TRAP);
	add(f, "198.51.100.9", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "198.51.100.9", true));
	struct writer_event dl = moderator(WRITER_EV_DELIST, "198.51.100.9", 32);
	assert_int_equal(writer_submit(f->w, &dl), WRITER_OK); /* the test clock stands still */
	assert_true(wait_zone(f, "198.51.100.9", false));
	add(f, "198.51.100.9", STORE_KIND_TRAP);
	assert_false(store_listed(f, "198.51.100.9", NULL)); /* one piece since: not enough */
	add(f, "198.51.100.9", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "198.51.100.9", true));
}

static void set_hooks(struct fx *f, const char *words)
{
	FILE *fp = fopen(f->hooks, "w");
	assert_non_null(fp);
	fputs(words, fp);
	assert_int_equal(fclose(fp), 0);
}

struct post_count {
	pthread_mutex_t mtx;
	int answered, ok;
};

static void count_post_done(void *arg, int result)
{
	struct post_count *pc = arg;
	pthread_mutex_lock(&pc->mtx);
	pc->answered++;
	pc->ok += result == WRITER_OK;
	pthread_mutex_unlock(&pc->mtx);
}

static int post_answered(struct post_count *pc)
{
	pthread_mutex_lock(&pc->mtx);
	int n = pc->answered;
	pthread_mutex_unlock(&pc->mtx);
	return n;
}

struct ack_arg {
	struct fx *f;
	int index;
	int result;
};

static void *ack_producer(void *p)
{
	struct ack_arg *a = p;
	char ip[32];
	snprintf(ip, sizeof ip, "198.18.9.%d", a->index + 1);
	a->result = submit_evidence(a->f, ip, STORE_KIND_TRAP, 0);
	return NULL;
}

static int count_ev(const struct store_evidence *ev, void *arg)
{
	(void)ev;
	(*(int *)arg)++;
	return 0;
}

/* A commit that fails acknowledges nobody: every producer of that batch gets the store's error
 * and nothing of it is in the store; once the disk takes commits again, everything works. */
static void test_failed_commit_acks_nobody(void **state)
{
	struct fx *f = *state;
	set_hooks(f, "fail-commit\n");
	enum { N = 16 };
	pthread_t t[N];
	struct ack_arg a[N];
	for (int i = 0; i < N; i++) {
		a[i] = (struct ack_arg){f, i, 99};
		assert_int_equal(pthread_create(&t[i], NULL, ack_producer, &a[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].result, WRITER_ESTORE);
	}
	/* Posted events too: their callbacks report the failure. */
	struct post_count pc = {0};
	pthread_mutex_init(&pc.mtx, NULL);
	for (int i = 0; i < N; i++) {
		struct writer_event ev = {.type = WRITER_EV_EVIDENCE};
		ip_of("198.18.9.100", ev.evidence.ip);
		ev.evidence.kind = STORE_KIND_REPORT;
		assert_int_equal(writer_post(f->w, &ev, count_post_done, &pc), WRITER_OK);
	}
	for (int i = 0; i < 500 && post_answered(&pc) < N; i++)
		usleep(10000);
	assert_int_equal(post_answered(&pc), N);
	assert_int_equal(pc.ok, 0);
	pthread_mutex_destroy(&pc.mtx);
	int n = 0;
	for (int i = 0; i < N; i++) {
		uint8_t ip[16];
		char s[32];
		snprintf(s, sizeof s, "198.18.9.%d", i + 1);
		ip_of(s, ip);
		assert_int_equal(store_evidence_for_ip(rd(f), ip, 0, false, count_ev, &n), STORE_OK);
	}
	assert_int_equal(n, 0);
	assert_false(zone_listed(f, "198.18.9.1"));
	set_hooks(f, "");
	add(f, "198.18.9.1", STORE_KIND_TRAP);
	add(f, "198.18.9.1", STORE_KIND_TRAP);
	assert_true(wait_zone(f, "198.18.9.1", true));
}

/* Held between the commit and the acknowledgement, the producer still waits and the event is
 * already in the store: a kill there loses nothing. */
static void test_ack_after_commit(void **state)
{
	struct fx *f = *state;
	set_hooks(f, "hold-after-commit\n");
	struct ack_arg a = {f, 200, 99};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, ack_producer, &a), 0);
	char marker[160];
	snprintf(marker, sizeof marker, "%s.hold-after-commit", f->hooks);
	struct stat sb;
	for (int i = 0; i < 500 && stat(marker, &sb) != 0; i++)
		usleep(10000);
	assert_int_equal(stat(marker, &sb), 0);
	usleep(50000);
	assert_int_equal(a.result, 99); /* not acknowledged yet */
	/* ... and committed already: another connection sees it. */
	struct store *r;
	assert_int_equal(store_open_mode(f->dir, false, &r), STORE_OK);
	uint8_t ip[16];
	ip_of("198.18.9.201", ip);
	int n = 0;
	assert_int_equal(store_evidence_for_ip(r, ip, 0, false, count_ev, &n), STORE_OK);
	store_close(r);
	assert_int_equal(n, 1);
	set_hooks(f, "");
	pthread_join(t, NULL);
	assert_int_equal(a.result, WRITER_OK);
}

/* ---- trap hits, samples, a post that never blocks ---- */

struct hit_seen {
	bool found;
	char helo[64], rcpts[128], signals[64];
	size_t sample_len;
	uint64_t size;
};

static int hit_copy(const struct store_trap_hit *h, void *arg)
{
	struct hit_seen *s = arg;
	s->found = true;
	snprintf(s->helo, sizeof s->helo, "%s", h->helo);
	snprintf(s->rcpts, sizeof s->rcpts, "%s", h->rcpts);
	snprintf(s->signals, sizeof s->signals, "%s", h->signals);
	s->sample_len = h->sample ? h->sample_len : 0;
	s->size = h->size;
	return 0;
}

static int last_id(const struct store_evidence *ev, void *arg)
{
	*(int64_t *)arg = ev->id;
	return 0;
}

/* The hit of the only evidence against ip, read with the writer stopped. */
static struct hit_seen hit_of(struct fx *f, const char *ip)
{
	struct hit_seen seen = { 0 };
	uint8_t a[16];
	int64_t id = 0;
	ip_of(ip, a);
	fx_stop(f);
	assert_int_equal(store_open(f->dir, &f->store), 0);
	assert_int_equal(store_evidence_for_ip(f->store, a, 0, false, last_id, &id), 0);
	int rc = store_trap_hit_get(f->store, id, hit_copy, &seen);
	assert_true(rc == STORE_OK || rc == STORE_ENOTFOUND);
	store_close(f->store);
	f->store = NULL;
	fx_start(f);
	return seen;
}

/* The sample length of the only evidence against ip, read through the test's connection
 * while the writer runs; -1 when there is no hit. */
static long sample_len_of(struct fx *f, const char *ip)
{
	struct hit_seen seen = { 0 };
	uint8_t a[16];
	int64_t id = 0;
	ip_of(ip, a);
	assert_int_equal(store_evidence_for_ip(rd(f), a, 0, false, last_id, &id), 0);
	int rc = store_trap_hit_get(rd(f), id, hit_copy, &seen);
	assert_true(rc == STORE_OK || rc == STORE_ENOTFOUND);
	return seen.found ? (long)seen.sample_len : -1;
}

/* A trap hit's envelope and sample are stored with its evidence, in its transaction; the
 * writer prunes the sample when its time is up and keeps the rest. */
static void test_trap_hit_and_prune(void **state)
{
	struct fx *f = *state;
	struct store_trap_hit hit = { .helo = "mx.bad.example", .mail_from = "",
				      .rcpts = "a@trap.example\nb@trap.example", .size = 1234,
				      .signals = "null-sender", .sample = "Subject: x\r\n\r\n",
				      .sample_len = 15, .sample_until = T0 + 100 };
	struct writer_event ev;
	trap_event(&ev, "100.82.0.1");
	ev.trap = &hit;
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
	struct hit_seen seen = hit_of(f, "100.82.0.1");
	assert_true(seen.found);
	assert_string_equal(seen.helo, "mx.bad.example");
	assert_string_equal(seen.rcpts, "a@trap.example\nb@trap.example");
	assert_string_equal(seen.signals, "null-sender");
	assert_int_equal(seen.size, 1234);
	assert_int_equal(seen.sample_len, 15);
	/* A trap hit belongs to trap evidence only. */
	ev.evidence.kind = STORE_KIND_REPORT;
	assert_int_equal(writer_submit(f->w, &ev), WRITER_EINVAL);
	/* Past its time the sample goes (the writer looks every second on the test clock). */
	set_clock(f, T0 + 101);
	/* The prune must come: poll every 50 ms, up to 20 s (a loaded machine under ASan), through
	 * the test's own connection while the writer runs. */
	for (int i = 0; i < 400 && sample_len_of(f, "100.82.0.1") != 0; i++)
		usleep(50000);
	seen = hit_of(f, "100.82.0.1");
	assert_true(seen.found);
	assert_int_equal(seen.sample_len, 0);
	assert_string_equal(seen.helo, "mx.bad.example");
}

/* An address with hundreds of hits is evaluated from memory (each batch appends its own
 * pieces): the listing is the one a rebuild, which reads the store, computes. */
static void test_hot_address(void **state)
{
	struct fx *f = *state;
	enum { N = 400 };
	static struct writer_event evs[N];
	static int results[N];
	for (int i = 0; i < N; i++) {
		trap_event(&evs[i], "100.84.0.1");
		evs[i].evidence.received_at = T0 - 8 * 86400 + (i < 100 ? 0 : 8 * 86400); /* 100 old */
		evs[i].evidence.cls = i % 4 == 0 ? STORE_CLASS_BOUNCE : STORE_CLASS_SPAM;
	}
	assert_int_equal(writer_submit_many(f->w, evs, N, results), WRITER_OK);
	for (int i = 0; i < 50; i++)
		add(f, "100.84.0.1", STORE_KIND_TRAP); /* each evaluated from memory */
	struct store_listing before, after;
	assert_true(store_listed(f, "100.84.0.1", &before));
	assert_int_equal(before.traps, 350); /* the 100 older than the window do not count */
	assert_true(before.score == 350.0 * 350.0);
	struct writer_event rb = { .type = WRITER_EV_REBUILD };
	assert_int_equal(writer_submit(f->w, &rb), WRITER_OK);
	assert_true(store_listed(f, "100.84.0.1", &after));
	assert_int_equal(after.traps, before.traps);
	assert_true(after.score == before.score);
	assert_int_equal(after.expires_at, before.expires_at);
	add(f, "100.84.0.1", STORE_KIND_TRAP);
	assert_true(store_listed(f, "100.84.0.1", &after));
	assert_int_equal(after.traps, 351);
}

/* Evidence of addr in a store read beside the writer (what a commit made visible). */
static int stored_count(struct fx *f, const char *addr)
{
	struct store *r;
	assert_int_equal(store_open_mode(f->dir, false, &r), STORE_OK);
	uint8_t ip[16];
	ip_of(addr, ip);
	int n = 0;
	assert_int_equal(store_evidence_for_ip(r, ip, 0, false, count_ev, &n), STORE_OK);
	store_close(r);
	return n;
}

/* writer_post_nowait says WRITER_EFULL when the queue is full instead of blocking; what it
 * queued is answered once as usual. The queue is filled with writer_post, whose events wait
 * batch_wait_ms for company, so it is full whatever the machine's speed: an event of
 * writer_post_nowait is prompt and wakes the writer, which could empty the queue between two
 * calls (CI under ASan once saw no EFULL in eight). */
static void test_post_nowait_full(void **state)
{
	struct fx *f = *state;
	fx_stop(f);
	f->cfg.queue_max = 4;
	f->cfg.batch_wait_ms = 60000;
	fx_start(f);
	struct post_acks a = { 0 };
	struct writer_event ev;
	for (int i = 0; i < 4; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.83.0.%d", i + 1);
		trap_event(&ev, ip);
		assert_int_equal(writer_post(f->w, &ev, post_done, &a), WRITER_OK);
	}
	trap_event(&ev, "100.83.1.1");
	assert_int_equal(writer_post_nowait(f->w, &ev, post_done, &a), WRITER_EFULL);
	fx_stop(f);
	assert_int_equal(atomic_load(&a.ok), 4);
	assert_int_equal(atomic_load(&a.failed), 0);
	f->cfg.queue_max = 0;
	f->cfg.batch_wait_ms = 2;
	fx_start(f);
	assert_int_equal(stored_count(f, "100.83.0.4"), 1);
	assert_int_equal(stored_count(f, "100.83.1.1"), 0); /* refused, not half-kept */
	/* With room it is queued and answered once. */
	assert_int_equal(writer_post_nowait(f->w, &ev, post_done, &a), WRITER_OK);
	fx_stop(f);
	assert_int_equal(atomic_load(&a.ok), 5);
	fx_start(f);
	assert_int_equal(stored_count(f, "100.83.1.1"), 1);
}


/* writer_submit_many_nowait queues all of a call's events or none: a full queue answers
 * WRITER_EFULL at once for each, and none of them is ever stored. */
static void test_submit_nowait_full(void **state)
{
	struct fx *f = *state;
	fx_stop(f);
	f->cfg.queue_max = 4;
	/* The posted events stay queued, gathering company, however long the machine stalls
	 * (fx_stop wakes the writer). */
	f->cfg.batch_wait_ms = 60000;
	fx_start(f);
	struct post_acks a = { 0 };
	struct writer_event ev[4];
	for (int i = 0; i < 3; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.85.0.%d", i + 1);
		trap_event(&ev[0], ip);
		assert_int_equal(writer_post(f->w, &ev[0], post_done, &a), WRITER_OK);
	}
	trap_event(&ev[0], "100.85.1.1");
	trap_event(&ev[1], "100.85.1.2");
	int results[2] = { 99, 99 };
	assert_int_equal(writer_submit_many_nowait(f->w, ev, 2, results), WRITER_EFULL);
	assert_int_equal(results[0], WRITER_EFULL);
	assert_int_equal(results[1], WRITER_EFULL);
	assert_int_equal(writer_submit_nowait(f->w, &ev[0]), WRITER_OK); /* one fits */
	fx_stop(f);
	assert_int_equal(atomic_load(&a.ok), 3);
	f->cfg.queue_max = 0;
	f->cfg.batch_wait_ms = 2;
	fx_start(f);
	assert_int_equal(stored_count(f, "100.85.1.1"), 1);
	assert_int_equal(stored_count(f, "100.85.1.2"), 0);
	/* With room, it is writer_submit_many. */
	assert_int_equal(writer_submit_many_nowait(f->w, ev, 2, results), WRITER_OK);
	assert_int_equal(stored_count(f, "100.85.1.2"), 1);
}

struct many_arg {
	struct fx *f;
	struct writer_event ev[3];
	int results[3];
	int rc;
};

static void *many_producer(void *arg)
{
	struct many_arg *m = arg;
	m->rc = writer_submit_many(m->f->w, m->ev, 3, m->results);
	return NULL;
}

/* A call's events share one transaction: a batch that has room for only part of them closes
 * before them, so that a failed commit can never store half of a call. Here a batch of at most
 * 4 holds 3 posted events; the call's 3 go into the next one, seen while the writer is held
 * after the first commit. */
static void test_submit_many_one_transaction(void **state)
{
	struct fx *f = *state;
	fx_stop(f);
	f->cfg.batch_max = 4;
	/* The batch stays open for the whole sequence however long the machine stalls (fx_stop
	 * wakes the writer). */
	f->cfg.batch_wait_ms = 60000;
	fx_start(f);
	struct post_acks a = { 0 };
	struct writer_event ev;
	for (int i = 0; i < 3; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.86.0.%d", i + 1);
		trap_event(&ev, ip);
		assert_int_equal(writer_post(f->w, &ev, post_done, &a), WRITER_OK);
	}
	set_hooks(f, "hold-after-commit\n");
	struct many_arg m = { .f = f, .rc = 99 };
	for (int i = 0; i < 3; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "100.86.1.%d", i + 1);
		trap_event(&m.ev[i], ip);
	}
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, many_producer, &m), 0);
	char marker[160];
	snprintf(marker, sizeof marker, "%s.hold-after-commit", f->hooks);
	struct stat sb;
	for (int i = 0; i < 2000 && stat(marker, &sb) != 0; i++) /* 20 s: only a failure waits */
		usleep(10000);
	bool held = stat(marker, &sb) == 0;
	int first = stored_count(f, "100.86.0.3"), call = stored_count(f, "100.86.1.1");
	set_hooks(f, ""); /* before any assertion: a failed one must not leave the writer held */
	pthread_join(t, NULL);
	assert_true(held);
	assert_int_equal(first, 1); /* the first batch committed */
	assert_int_equal(call, 0);  /* and none of the call's events */
	assert_int_equal(m.rc, WRITER_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(m.results[i], WRITER_OK);
	assert_int_equal(stored_count(f, "100.86.1.3"), 1);
	assert_true(wait_acks(&a, 3));
	unlink(marker);
	fx_stop(f);
	f->cfg.batch_max = 0;
	f->cfg.batch_wait_ms = 2;
	fx_start(f);
}

/* ---- key holders and reports ---- */

static int count_holder_audit(int64_t at, const char *who, const char *what, const char *target,
			      const char *why, void *arg)
{
	(void)at, (void)why;
	if (strcmp(who, "cli:test") == 0 && strcmp(target, "acme") == 0 &&
	    strncmp(what, "reporter-", 9) == 0)
		(*(int *)arg)++;
	return 0;
}

static int holder_event(struct fx *f, enum writer_event_type type, const char *name,
			enum store_holder_kind kind, uint8_t key)
{
	struct store_holder h;
	memset(&h, 0, sizeof h);
	snprintf(h.name, sizeof h.name, "%s", name);
	h.kind = kind;
	memset(h.key_hash, key, sizeof h.key_hash);
	h.relays = "192.0.2.0/25\n";
	h.relays_len = strlen(h.relays);
	struct writer_event ev = {.type = type, .holder = &h};
	snprintf(ev.who, sizeof ev.who, "cli:test");
	snprintf(ev.why, sizeof ev.why, "%s", type == WRITER_EV_HOLDER_ADD ? "" : "gone");
	return writer_submit(f->w, &ev);
}

static int64_t reporter_id(struct fx *f, const char *name)
{
	struct store_holder h;
	assert_int_equal(store_holder_get(rd(f), name, &h), STORE_OK);
	return h.id;
}

/* A report of the message numbered msg (its digest) from holder, with a source or refused. */
static void report_make(struct writer_report *r, int64_t holder, int msg, const char *source)
{
	memset(r, 0, sizeof *r);
	snprintf(r->row.id, sizeof r->row.id, "%032x", (unsigned)(msg * 7919 + (int)holder));
	r->row.holder = holder;
	memset(r->row.digest, 0, sizeof r->row.digest);
	memcpy(r->row.digest, &msg, sizeof msg);
	if (source) {
		r->row.has_source = true;
		ip_of(source, r->row.source);
	} else {
		snprintf(r->row.refusal, sizeof r->row.refusal, "no-untrusted-hop");
	}
	r->row.cls = STORE_CLASS_SPAM;
	r->row.analysis = (char *)"{}";
}

static int report_submit(struct fx *f, struct writer_report *r)
{
	struct writer_event ev = {.type = WRITER_EV_REPORT, .report = r};
	return writer_submit(f->w, &ev);
}

static int evidence_count(struct fx *f, const char *ip)
{
	uint8_t a[16];
	ip_of(ip, a);
	int n = 0;
	assert_int_equal(store_evidence_for_ip(rd(f), a, 0, false, count_ev, &n), STORE_OK);
	return n;
}

/* Holders: a name is taken once (either kind), removing what is not there fails alone, and
 * both go to the audit log. */
static void test_holder_events(void **state)
{
	struct fx *f = *state;
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_ADD, "acme", STORE_HOLDER_REPORTER, 1),
			 WRITER_OK);
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_ADD, "acme", STORE_HOLDER_FEED, 2),
			 WRITER_EEXIST);
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_REMOVE, "acme", STORE_HOLDER_FEED, 0),
			 WRITER_ENOTFOUND);
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_REMOVE, "acme", STORE_HOLDER_REPORTER, 0),
			 WRITER_OK);
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_REMOVE, "acme", STORE_HOLDER_REPORTER, 0),
			 WRITER_ENOTFOUND);
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_ADD, "", STORE_HOLDER_FEED, 3),
			 WRITER_EINVAL);
	struct writer_event no_holder = {.type = WRITER_EV_HOLDER_ADD};
	assert_int_equal(writer_submit(f->w, &no_holder), WRITER_EINVAL);
	int n = 0;
	assert_int_equal(store_audit_foreach(rd(f), 0, count_holder_audit, &n), STORE_OK);
	assert_int_equal(n, 2); /* reporter-add, reporter-remove: not the refusals */
}

/* A report with a source adds its evidence in the same transaction (two reporters list the
 * address, one reporter's reports count once); the same message again is answered with the
 * earlier id and writes nothing, under the reporter's next key too; a refused report is stored
 * without evidence; past the hourly limit nothing is written; a removed reporter's report is
 * refused. Each fails alone in a batch. */
static void test_report_events(void **state)
{
	struct fx *f = *state;
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_ADD, "acme", STORE_HOLDER_REPORTER, 1),
			 WRITER_OK);
	int64_t acme = reporter_id(f, "acme");
	struct writer_report r[6];
	report_make(&r[0], acme, 1, "203.0.113.7");
	assert_int_equal(report_submit(f, &r[0]), WRITER_OK);
	assert_int_equal(r[0].received_at, T0);
	assert_true(r[0].evidence_id > 0);
	assert_int_equal(evidence_count(f, "203.0.113.7"), 1);
	struct store_report got;
	assert_int_equal(store_report_get(rd(f), r[0].row.id, false, &got), STORE_OK);
	assert_int_equal(got.evidence_id, r[0].evidence_id);
	assert_int_equal(got.received_at, T0);

	/* The same message: the earlier id, nothing more stored. */
	report_make(&r[1], acme, 1, "203.0.113.7");
	snprintf(r[1].row.id, sizeof r[1].row.id, "%032x", 99u);
	assert_int_equal(report_submit(f, &r[1]), WRITER_EEXIST);
	assert_string_equal(r[1].earlier_id, r[0].row.id);
	assert_int_equal(evidence_count(f, "203.0.113.7"), 1);
	assert_int_equal(store_report_get(rd(f), r[1].row.id, false, &got), STORE_ENOTFOUND);
	settle();
	assert_false(zone_listed(f, "203.0.113.7"));

	/* In one batch: a new message, a refused one, a duplicate, one past the limit of 4 (two
	 * so far, then these), a bad one: each answered on its own. */
	struct writer_event evs[5];
	int results[5];
	memset(evs, 0, sizeof evs);
	report_make(&r[2], acme, 2, "203.0.113.7");
	report_make(&r[3], acme, 3, NULL);
	report_make(&r[4], acme, 1, "203.0.113.7");
	report_make(&r[5], acme, 4, "203.0.113.8");
	for (int i = 0; i < 4; i++) {
		evs[i].type = WRITER_EV_REPORT;
		evs[i].report = &r[2 + i];
		r[2 + i].limit_per_hour = 3;
	}
	evs[4].type = WRITER_EV_REPORT; /* no report at all */
	assert_int_equal(writer_submit_many(f->w, evs, 5, results), WRITER_EEXIST);
	assert_int_equal(results[0], WRITER_OK);
	assert_int_equal(results[1], WRITER_OK);
	assert_int_equal(results[2], WRITER_EEXIST);
	assert_int_equal(results[3], WRITER_ELIMIT);
	assert_int_equal(results[4], WRITER_EINVAL);
	assert_int_equal(r[3].evidence_id, 0);
	assert_int_equal(store_report_get(rd(f), r[3].row.id, false, &got), STORE_OK);
	assert_string_equal(got.refusal, "no-untrusted-hop");
	assert_int_equal(evidence_count(f, "203.0.113.7"), 2);
	assert_int_equal(evidence_count(f, "203.0.113.8"), 0);
	assert_int_equal(store_report_get(rd(f), r[5].row.id, false, &got), STORE_ENOTFOUND);
	/* Two messages, one reporter: its reports about the address count once. */
	settle();
	assert_false(zone_listed(f, "203.0.113.7"));
	/* A second reporter of the first message: two reporters list it. */
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_ADD, "beta", STORE_HOLDER_REPORTER, 7),
			 WRITER_OK);
	struct writer_report rb;
	report_make(&rb, reporter_id(f, "beta"), 1, "203.0.113.7");
	assert_int_equal(report_submit(f, &rb), WRITER_OK);
	assert_true(wait_zone(f, "203.0.113.7", true));
	uint64_t n = 0;
	assert_int_equal(store_report_hour_get(rd(f), acme, T0 / 3600, &n), STORE_OK);
	assert_int_equal(n, 3);

	/* The next hour the limit starts again. */
	set_clock(f, (T0 / 3600 + 1) * 3600);
	report_make(&r[5], acme, 4, "203.0.113.8");
	r[5].limit_per_hour = 3;
	assert_int_equal(report_submit(f, &r[5]), WRITER_OK);

	/* A report checked against a key, then its reporter removed: refused, nothing written. */
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_REMOVE, "acme", STORE_HOLDER_REPORTER, 0),
			 WRITER_OK);
	report_make(&r[0], acme, 5, "203.0.113.9");
	assert_int_equal(report_submit(f, &r[0]), WRITER_ENOTFOUND);
	assert_int_equal(evidence_count(f, "203.0.113.9"), 0);
	/* Added again under the same name (a new key): the same message is the earlier report. */
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_ADD, "acme", STORE_HOLDER_REPORTER, 8),
			 WRITER_OK);
	int64_t acme2 = reporter_id(f, "acme");
	assert_true(acme2 != acme);
	report_make(&r[0], acme2, 1, "203.0.113.7");
	assert_int_equal(report_submit(f, &r[0]), WRITER_EEXIST);
	report_make(&r[1], acme, 1, "203.0.113.7");
	assert_string_equal(r[0].earlier_id, r[1].row.id);
	assert_int_equal(evidence_count(f, "203.0.113.7"), 3);
	/* Checked before it is queued: a source and a refusal both, an id not 32 hex digits. */
	report_make(&r[0], acme, 6, "203.0.113.9");
	snprintf(r[0].row.refusal, sizeof r[0].row.refusal, "no-received");
	assert_int_equal(report_submit(f, &r[0]), WRITER_EINVAL);
	report_make(&r[0], acme, 6, "203.0.113.9");
	r[0].row.id[5] = 'X';
	assert_int_equal(report_submit(f, &r[0]), WRITER_EINVAL);
	report_make(&r[0], acme, 6, "0.0.0.0");
	assert_int_equal(report_submit(f, &r[0]), WRITER_EINVAL);
}

/* A flooded address (its evidence kept in memory) counts one reporter's reports once too, and
 * says the same after a rebuild from the store. */
static void test_hot_reporters(void **state)
{
	struct fx *f = *state;
	enum { N = 300 };
	static struct writer_event evs[N];
	static int results[N];
	for (int i = 0; i < N; i++) {
		trap_event(&evs[i], "100.84.0.2");
		evs[i].evidence.kind = STORE_KIND_REPORT;
		evs[i].evidence.received_at = T0 - 3600 + i;
		snprintf(evs[i].evidence.source, sizeof evs[i].evidence.source, "reporter:acme");
	}
	assert_int_equal(writer_submit_many(f->w, evs, N, results), WRITER_OK);
	settle();
	assert_false(store_listed(f, "100.84.0.2", NULL));
	struct writer_event ev;
	trap_event(&ev, "100.84.0.2");
	ev.evidence.kind = STORE_KIND_REPORT;
	snprintf(ev.evidence.source, sizeof ev.evidence.source, "reporter:acme");
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK); /* evaluated from memory */
	settle();
	assert_false(store_listed(f, "100.84.0.2", NULL));
	snprintf(ev.evidence.source, sizeof ev.evidence.source, "reporter:beta");
	assert_int_equal(writer_submit(f->w, &ev), WRITER_OK);
	struct store_listing l, after;
	assert_true(wait_zone(f, "100.84.0.2", true));
	assert_true(store_listed(f, "100.84.0.2", &l));
	assert_int_equal(l.reports, 2);
	struct writer_event rb = { .type = WRITER_EV_REBUILD };
	assert_int_equal(writer_submit(f->w, &rb), WRITER_OK);
	assert_true(store_listed(f, "100.84.0.2", &after));
	assert_int_equal(after.reports, 2);
	assert_int_equal(after.expires_at, l.expires_at);
}

static void never_called(void *arg, int result)
{
	(void)arg;
	fail_msg("a refused event was answered later (%d)", result);
}

/* With exclude_default's special-purpose, evidence naming a special-purpose address is refused
 * before it is queued (WRITER_ESPECIAL), whatever door it came through; nothing is stored. */
static void test_special_refused(void **state)
{
	struct fx *f = *state;
	fx_stop(f);
	f->cfg.special_excluded = true;
	fx_start(f);
	const char *special[] = {"10.0.0.1", "198.18.0.1", "192.0.2.1", "fd00::1", "2002:a00:1::",
				 "64:ff9b::7f00:1", "2001:db8::1"};
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
		assert_int_equal(submit_evidence(f, special[i], STORE_KIND_TRAP, 0), WRITER_ESPECIAL);
		assert_int_equal(evidence_count(f, special[i]), 0);
	}
	/* The trap's way in: refused at once, the callback never called. */
	struct writer_event ev;
	trap_event(&ev, "10.0.0.1");
	assert_int_equal(writer_post_nowait(f->w, &ev, never_called, NULL), WRITER_ESPECIAL);
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_ADD, "acme", STORE_HOLDER_REPORTER, 1),
			 WRITER_OK);
	struct writer_report r;
	report_make(&r, reporter_id(f, "acme"), 1, "100.64.0.1");
	assert_int_equal(report_submit(f, &r), WRITER_ESPECIAL);
	/* Public ones, 6to4 and NAT64 forms of public ones among them, are taken. */
	assert_int_equal(submit_evidence(f, "204.0.113.7", STORE_KIND_TRAP, 0), WRITER_OK);
	assert_int_equal(submit_evidence(f, "2002:808:808::1", STORE_KIND_TRAP, 0), WRITER_OK);
	assert_int_equal(submit_evidence(f, "64:ff9b::808:808", STORE_KIND_TRAP, 0), WRITER_OK);
}

/* A report is acknowledged only once committed: a commit that fails leaves no report and no
 * evidence, and answers the producer with the store's error. */
static void test_report_failed_commit(void **state)
{
	struct fx *f = *state;
	assert_int_equal(holder_event(f, WRITER_EV_HOLDER_ADD, "acme", STORE_HOLDER_REPORTER, 1),
			 WRITER_OK);
	struct writer_report r;
	report_make(&r, reporter_id(f, "acme"), 1, "203.0.113.7");
	set_hooks(f, "fail-commit\n");
	assert_int_equal(report_submit(f, &r), WRITER_ESTORE);
	set_hooks(f, "");
	struct store_report got;
	assert_int_equal(store_report_get(rd(f), r.row.id, false, &got), STORE_ENOTFOUND);
	assert_int_equal(evidence_count(f, "203.0.113.7"), 0);
	uint64_t n = 1;
	assert_int_equal(store_report_hour_get(rd(f), r.row.holder, T0 / 3600, &n), STORE_OK);
	assert_int_equal(n, 0);
	/* And the same report goes through once the disk takes commits again. */
	assert_int_equal(report_submit(f, &r), WRITER_OK);
	assert_int_equal(evidence_count(f, "203.0.113.7"), 1);
}

int main(void)
{
	log_set_level(LOG_LEVEL_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_report_does_not_list_two_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_traps_expire_24h_and_extend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delist_holds_until_new_evidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reputation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_listings_and_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_never_backwards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_equals_incremental, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_producers_nothing_lost, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_submit_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_acks_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holder_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hot_reporters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_failed_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delist_same_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_shares_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_blocking_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trap_hit_and_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_nowait_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_nowait_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_many_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hot_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_1m_listings, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
