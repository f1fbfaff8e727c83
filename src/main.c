/* main.c - the trapline command line: serve, check-config, config-template, version. */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "dns/dns.h"
#include "zone/zone.h"

#define TRAPLINE_VERSION "0.1.0"
#define EXIT_USAGE 2

/* Command-line options of `serve` and the config key each one sets: adding an option is
 * adding a row. */
struct cli_option {
	const char *flag;
	const char *key;
	const char *arg;
	const char *help;
};

static const struct cli_option serve_options[] = {
	{"--data", "data_dir", "DIR", "data directory"},
	{"--dns", "dns_listen", "ADDR:PORT[,...]", "DNS addresses (UDP and TCP)"},
	{"--zone", "zone", "NAME", "zone served"},
	{"--threads", "threads", "N", "UDP workers per address (0 = one per core)"},
	{"--static", "static_file", "FILE", "rbldnsd-format data file to serve"},
	{"--user", "user", "NAME", "user to run as when started as root"},
	{"--log-level", "log_level", "LEVEL", "debug, info, warn or error"},
};

#define N_SERVE_OPTIONS (sizeof(serve_options) / sizeof(serve_options[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: trapline serve [--config FILE] [options]\n"
		   "       trapline check-config FILE\n"
		   "       trapline config-template\n"
		   "       trapline version\n\nserve options:\n"
		   "  --config FILE               configuration file (etc/trapline.conf)\n");
	for (size_t i = 0; i < N_SERVE_OPTIONS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", serve_options[i].flag, serve_options[i].arg);
		fprintf(f, "  %-27s %s\n", left, serve_options[i].help);
	}
	fprintf(f, "\nA command-line option overrides the config file. "
		   "Exit status 2: bad usage or configuration.\n");
}

static const struct cli_option *cli_option_find(const char *flag)
{
	for (size_t i = 0; i < N_SERVE_OPTIONS; i++)
		if (strcmp(serve_options[i].flag, flag) == 0)
			return &serve_options[i];
	return NULL;
}

/* Reads the config file (if --config names one), then applies every other option over it.
 * Returns 0, or EXIT_USAGE after printing what is wrong. */
static int cli_config_read(int argc, char **argv, struct config *cfg)
{
	config_defaults(cfg);
	char err[CONFIG_ERR_MAX];
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") != 0 && strncmp(argv[i], "--config=", 9) != 0)
			continue;
		const char *path = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
		if (!path) {
			fprintf(stderr, "trapline: --config needs a FILE\n");
			return EXIT_USAGE;
		}
		if (config_load_file(cfg, path, err, sizeof(err)) != BASE_OK) {
			fprintf(stderr, "trapline: %s\n", err);
			return EXIT_USAGE;
		}
	}
	for (int i = 0; i < argc; i++) {
		char flag[64];
		const char *value = NULL;
		const char *eq = strchr(argv[i], '=');
		if (strncmp(argv[i], "--", 2) == 0 && eq && (size_t)(eq - argv[i]) < sizeof(flag)) {
			memcpy(flag, argv[i], (size_t)(eq - argv[i]));
			flag[eq - argv[i]] = '\0';
			value = eq + 1;
		} else {
			snprintf(flag, sizeof(flag), "%s", argv[i]);
		}
		if (strcmp(flag, "--config") == 0) {
			i += value ? 0 : 1;
			continue;
		}
		const struct cli_option *opt = cli_option_find(flag);
		if (!opt) {
			fprintf(stderr, "trapline: unknown option '%s' (see trapline --help)\n", argv[i]);
			return EXIT_USAGE;
		}
		if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "trapline: %s needs %s\n", opt->flag, opt->arg);
				return EXIT_USAGE;
			}
			value = argv[++i];
		}
		if (config_set(cfg, opt->key, value, err, sizeof(err)) != BASE_OK) {
			fprintf(stderr, "trapline: %s: %s\n", opt->flag, err);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* ---- serve ------------------------------------------------------------------ */

struct serve_state {
	const struct config *cfg;
	struct zone_defaults defaults;
	struct zone_handle *zone;
	struct stat static_st; /* the data file as last loaded */
	bool static_loaded;
	struct stat pending_st; /* a change seen but not yet settled */
	bool pending;
};

static void serve_defaults_make(const struct config *cfg, struct zone_defaults *d)
{
	memset(d, 0, sizeof(*d));
	if (cfg->soa_mname[0])
		snprintf(d->soa.mname, sizeof(d->soa.mname), "%s", cfg->soa_mname);
	else
		snprintf(d->soa.mname, sizeof(d->soa.mname), "ns1.%.250s", cfg->zone);
	if (cfg->soa_rname[0])
		snprintf(d->soa.rname, sizeof(d->soa.rname), "%s", cfg->soa_rname);
	else
		snprintf(d->soa.rname, sizeof(d->soa.rname), "hostmaster.%.240s", cfg->zone);
	d->soa.serial = 0;
	d->soa.ttl = cfg->soa_ttl;
	d->soa.refresh = cfg->soa_refresh;
	d->soa.retry = cfg->soa_retry;
	d->soa.expire = cfg->soa_expire;
	d->soa.minimum = cfg->soa_minimum;
	d->ns.ttl = cfg->ns_ttl;
	char buf[CONFIG_STR_MAX];
	snprintf(buf, sizeof(buf), "%s", cfg->ns);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", \t", &save); tok && d->ns.count < ZONE_NS_MAX;
	     tok = strtok_r(NULL, ", \t", &save)) {
		size_t len = strlen(tok);
		if (len > 1 && tok[len - 1] == '.')
			tok[len - 1] = '\0';
		snprintf(d->ns.names[d->ns.count++], ZONE_NAME_MAX + 1, "%s", tok);
	}
	if (d->ns.count == 0)
		snprintf(d->ns.names[d->ns.count++], ZONE_NAME_MAX + 1, "ns1.%.250s", cfg->zone);
	d->ttl = cfg->answer_ttl;
	d->a = cfg->answer_a;
	d->txt = cfg->answer_txt[0] ? cfg->answer_txt : NULL;
}

/* Builds a snapshot from the defaults and the static file, if any, and publishes it. A load
 * that fails keeps the snapshot being served (STYLE.md 4). Returns 0 or a zone_err. */
static int serve_load(struct serve_state *st, const char *why)
{
	const char *path = st->cfg->static_file;
	uint64_t t0 = time_mono_ns();
	struct zone_builder *b = zone_builder_new(&st->defaults);
	if (!b)
		return ZONE_ENOMEM;
	struct stat sb;
	memset(&sb, 0, sizeof(sb));
	int rc = ZONE_OK;
	struct zone_load_report rep = {0, 0, 0};
	if (path[0]) {
		if (stat(path, &sb) != 0) {
			log_err("zone", "load failed file=%s reason=\"%s\" keeping=%s", path,
				strerror(errno), st->static_loaded ? "previous" : "none");
			rc = ZONE_EIO;
			goto fail_free;
		}
		rc = zone_load_rbldnsd(b, path, &rep);
		if (rc == ZONE_EPARSE && rep.entries == 0 && st->static_loaded) {
			/* Nothing usable in the new file while an older one serves: a broken
			 * write, not an operator emptying the list on purpose. */
			log_err("zone", "load failed file=%s reason=\"no valid entry, %zu bad lines\" "
					"keeping=previous", path, rep.errors);
			goto fail_free;
		}
		if (rc != ZONE_OK && rc != ZONE_EPARSE) {
			log_err("zone", "load failed file=%s reason=\"%s\" keeping=%s", path,
				zone_strerror(rc), st->static_loaded ? "previous" : "none");
			goto fail_free;
		}
	}
	struct zone_snapshot *snap;
	rc = zone_snapshot_build(b, &snap);
	if (rc != ZONE_OK) {
		log_err("zone", "build failed reason=\"%s\" keeping=previous", zone_strerror(rc));
		goto fail_free;
	}
	zone_builder_free(b);
	size_t entries = zone_snapshot_count(snap), bytes = zone_snapshot_bytes(snap);
	uint32_t serial = zone_snapshot_soa(snap)->serial;
	zone_publish(st->zone, snap);
	if (path[0]) {
		st->static_st = sb;
		st->static_loaded = true;
	}
	log_info("zone", "published reason=%s entries=%zu bad_lines=%zu serial=%u bytes=%zu ms=%.1f",
		 why, entries, rep.errors, serial, bytes, (double)(time_mono_ns() - t0) / 1e6);
	return ZONE_OK;

fail_free:
	zone_builder_free(b);
	return rc;
}

static bool stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_size == b->st_size && a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* Called every reload_check_ms: reloads a changed file once it has stopped changing for one
 * check, so a file being written in place is not loaded half-way. */
static void serve_check_static(struct serve_state *st)
{
	const char *path = st->cfg->static_file;
	struct stat sb;
	if (!path[0] || stat(path, &sb) != 0)
		return;
	if (st->static_loaded && stat_same(&sb, &st->static_st)) {
		st->pending = false;
		return;
	}
	if (st->pending && stat_same(&sb, &st->pending_st)) {
		st->pending = false;
		serve_load(st, "file-changed");
		return;
	}
	st->pending = true;
	st->pending_st = sb;
}

static int serve_data_dir(const struct config *cfg, const struct passwd *pw)
{
	if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
		log_err("main", "cannot create data_dir=%s reason=\"%s\"", cfg->data_dir,
			strerror(errno));
		return -1;
	}
	if (pw && chown(cfg->data_dir, pw->pw_uid, pw->pw_gid) != 0)
		log_warn("main", "cannot chown data_dir=%s reason=\"%s\"", cfg->data_dir,
			 strerror(errno));
	return 0;
}

static int serve_drop_privileges(const struct passwd *pw)
{
	if (!pw)
		return 0;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_err("main", "cannot drop privileges user=%s reason=\"%s\"", pw->pw_name,
			strerror(errno));
		return -1;
	}
	/* Make sure root cannot be regained. */
	if (setuid(0) == 0) {
		log_err("main", "privileges not dropped: setuid(0) still works");
		return -1;
	}
	log_info("main", "dropped privileges user=%s uid=%u", pw->pw_name, (unsigned)pw->pw_uid);
	return 0;
}

static int serve_server_config(const struct config *cfg, struct dns_server_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->dns.zone, sizeof(sc->dns.zone), "%s", cfg->zone);
	sc->dns.edns_udp_max = (uint16_t)cfg->edns_udp_max;
	char err[CONFIG_ERR_MAX];
	if (config_listen_parse(cfg->dns_listen, sc->listen, sc->listen_len, DNS_LISTEN_MAX,
				&sc->n_listen, err, sizeof(err)) != BASE_OK) {
		fprintf(stderr, "trapline: dns_listen: %s\n", err);
		return EXIT_USAGE;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	sc->threads = cfg->threads ? cfg->threads : (unsigned)(cores > 0 ? cores : 1);
	sc->tcp_max_conns = cfg->tcp_max_conns;
	sc->tcp_idle_ms = cfg->tcp_idle_ms;
	sc->udp_spin_us = cfg->udp_spin_us;
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	int rc = cli_config_read(argc, argv, &cfg);
	if (rc)
		return rc;
	enum log_level level = LOG_INFO;
	log_level_parse(cfg.log_level, &level);
	log_set_level(level);
	struct dns_server_config sc;
	if ((rc = serve_server_config(&cfg, &sc)) != 0)
		return rc;

	struct passwd *pw = NULL;
	if (geteuid() == 0) {
		pw = getpwnam(cfg.user);
		if (!pw) {
			fprintf(stderr, "trapline: user: no such user '%s'\n", cfg.user);
			return EXIT_USAGE;
		}
	}
	/* Signals are taken synchronously by the main thread; every thread started from here
	 * on inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("main", "starting version=%s zone=%s dns=%s threads=%u static=%s", TRAPLINE_VERSION,
		 cfg.zone, cfg.dns_listen, sc.threads, cfg.static_file[0] ? cfg.static_file : "-");
	if (serve_data_dir(&cfg, pw) != 0)
		return 1;

	struct serve_state st;
	memset(&st, 0, sizeof(st));
	st.cfg = &cfg;
	serve_defaults_make(&cfg, &st.defaults);
	st.zone = zone_handle_new();
	if (!st.zone)
		return 1;
	zone_reader_register();
	/* The zone is complete before the first query can arrive. A data file that cannot be
	 * read at all is fatal at start: serving only the test points would look healthy. */
	int lrc = serve_load(&st, "start");
	if (lrc != ZONE_OK && lrc != ZONE_EPARSE) {
		rc = 1;
		goto fail_zone;
	}
	struct dns_server *srv;
	if (dns_server_bind(&sc, &srv) != DNS_OK) {
		rc = 1;
		goto fail_zone;
	}
	if (serve_drop_privileges(pw) != 0) {
		rc = 1;
		goto fail_server;
	}
	if (dns_server_start(srv, st.zone) != DNS_OK) {
		rc = 1;
		goto fail_server;
	}
	log_info("main", "ready");

	struct timespec tick = {(time_t)(cfg.reload_check_ms / 1000),
				(long)(cfg.reload_check_ms % 1000) * 1000000L};
	for (;;) {
		int sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("main", "stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
			break;
		}
		if (sig == SIGHUP) {
			serve_load(&st, "sighup");
			continue;
		}
		serve_check_static(&st);
	}
	rc = 0;
	struct dns_stats stats;
fail_server:
	dns_server_stats(srv, &stats);
	dns_server_stop(srv);
	if (rc == 0)
		log_info("main", "stopped queries=%llu answers=%llu dropped=%llu",
			 (unsigned long long)stats.queries, (unsigned long long)stats.answers,
			 (unsigned long long)stats.dropped);
fail_zone:
	zone_reader_unregister();
	zone_handle_free(st.zone);
	return rc;
}

static int cmd_check_config(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: trapline check-config FILE\n");
		return EXIT_USAGE;
	}
	struct config cfg;
	config_defaults(&cfg);
	char err[CONFIG_ERR_MAX];
	if (config_load_file(&cfg, argv[0], err, sizeof(err)) != BASE_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	printf("# %s: ok\n", argv[0]);
	config_print(stdout, &cfg);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(argc - 2, argv + 2);
	if (strcmp(cmd, "config-template") == 0) {
		config_template(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("trapline %s\n", TRAPLINE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "trapline: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
