/* main.c - the trapline command line: serve, the operator's commands (evidence add, check, list,
 * delist, exclude, rebuild, export, explain), check-config, config-template, version. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
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
#include "ctl/ctl.h"
#include "dns/dns.h"
#include "mail/mail.h"
#include "smtp/smtp.h"
#include "store/store.h"
#include "writer/writer.h"
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
	{"--smtp", "smtp_listen", "ADDR:PORT[,...]|off", "spamtrap SMTP addresses"},
	{"--zone", "zone", "NAME", "zone served"},
	{"--threads", "threads", "N", "UDP workers per address (0 = one per core)"},
	{"--static", "static_file", "FILE", "rbldnsd-format data file to serve"},
	{"--user", "user", "NAME", "user to run as when started as root"},
	{"--log-level", "log_level", "LEVEL", "debug, info, warn or error"},
};

#define N_SERVE_OPTIONS (sizeof(serve_options) / sizeof(serve_options[0]))

/* The operator's commands: the words that name them, their name in the control protocol, the
 * request key of their one positional argument, and their usage. Each runs through the running
 * service's control socket, or in-process on the data directory when no service answers. */
struct cli_command {
	const char *word, *sub;
	const char *ctl;
	const char *positional;
	const char *usage;
};

static const struct cli_command ctl_commands[] = {
	{"evidence", "add", "evidence-add", NULL,
	 "--ip IP --kind trap|report [--at TIME] [--class spam|bounce|autoreply|virus]"},
	{"check", NULL, "check", "ip", "IP"},
	{"list", NULL, "list", NULL, "[--json]"},
	{"delist", NULL, "delist", "ip", "IP --why TEXT"},
	{"exclude", NULL, "exclude", "cidr", "CIDR [--until TIME] --why TEXT"},
	{"rebuild", NULL, "rebuild", NULL, ""},
	{"export", NULL, "export", NULL, "--format rbldnsd|bind [--out FILE]"},
	{"explain", NULL, "explain", "ip", "IP"},
	{"reputation", "list", "reputation-list", NULL, "[--json]"},
	{"reputation", NULL, "reputation", "cidr", "CIDR --points N|--remove --why TEXT"},
};

#define N_CTL_COMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: trapline serve [--config FILE] [options]\n"
		   "       trapline check-config FILE\n"
		   "       trapline config-template\n"
		   "       trapline classify [--json] MESSAGE\n"
		   "       trapline version\n");
	for (size_t i = 0; i < N_CTL_COMMANDS; i++) {
		const struct cli_command *c = &ctl_commands[i];
		fprintf(f, "       trapline %s%s%s %s%s[--data DIR] [--config FILE]\n", c->word,
			c->sub ? " " : "", c->sub ? c->sub : "", c->usage,
			c->usage[0] ? " " : "");
	}
	fprintf(f, "\nserve options:\n"
		   "  --config FILE               configuration file (etc/trapline.conf)\n");
	for (size_t i = 0; i < N_SERVE_OPTIONS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", serve_options[i].flag, serve_options[i].arg);
		fprintf(f, "  %-27s %s\n", left, serve_options[i].help);
	}
	fprintf(f, "\nA command-line option overrides the config file. TIME is ISO 8601 UTC "
		   "(2026-11-21T10:00:00Z).\nThe operator's commands talk to the running service "
		   "through DATA_DIR/trapline.sock,\nor work on DATA_DIR themselves when no service "
		   "runs. Exit status 2: bad usage,\nconfiguration or input (nothing was changed); "
		   "1: the command failed.\n");
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
static int cli_config_file(int argc, char **argv, struct config *cfg)
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
	return 0;
}

/* Splits "--flag=value" into flag and value (NULL when there is no '='). */
static const char *cli_flag_split(const char *arg, char *flag, size_t cap)
{
	const char *eq = strchr(arg, '=');
	if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < cap) {
		memcpy(flag, arg, (size_t)(eq - arg));
		flag[eq - arg] = '\0';
		return eq + 1;
	}
	snprintf(flag, cap, "%s", arg);
	return NULL;
}

static int cli_config_read(int argc, char **argv, struct config *cfg)
{
	int rc = cli_config_file(argc, argv, cfg);
	if (rc)
		return rc;
	char err[CONFIG_ERR_MAX];
	for (int i = 0; i < argc; i++) {
		char flag[64];
		const char *value = cli_flag_split(argv[i], flag, sizeof(flag));
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
	if (config_check(cfg, err, sizeof(err)) != BASE_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
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

/* The ns_addr pairs, already checked by config_check, as the zone's glue. */
static void serve_glue_make(const struct config *cfg, struct zone_glue *g)
{
	struct config_ns_addr a[CONFIG_NS_ADDR_MAX];
	unsigned n = 0;
	char err[CONFIG_ERR_MAX];
	g->ttl = cfg->ns_ttl;
	if (config_ns_addr_parse(cfg->ns_addr, a, CONFIG_NS_ADDR_MAX, &n, err, sizeof(err)) != 0)
		return;
	for (unsigned i = 0; i < n; i++)
		if (zone_glue_add(g, a[i].name, a[i].v6, a[i].ip4, a[i].ip6) != ZONE_OK)
			log_warn("main", "ns_addr ignored name=%s reason=\"too many addresses\"",
				 a[i].name);
}

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
	serve_glue_make(cfg, &d->glue);
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
				tl_strerror(rc), st->static_loaded ? "previous" : "none");
			goto fail_free;
		}
	}
	struct zone_snapshot *snap;
	rc = zone_snapshot_build(b, &snap);
	if (rc != ZONE_OK) {
		log_err("zone", "build failed reason=\"%s\" keeping=previous", tl_strerror(rc));
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

/* ---- the store and the writer ------------------------------------------------ */

#define CLI_EXCLUSIONS_MAX 256

/* What the writer is started with, from the configuration. */
struct cli_writer_setup {
	struct writer_config wc;
	struct ip_prefix excl[CLI_EXCLUSIONS_MAX];
};

static void cli_writer_setup_make(const struct config *cfg, const char *export_dir,
				  struct cli_writer_setup *ws)
{
	memset(ws, 0, sizeof(*ws));
	struct policy_config *p = &ws->wc.policy;
	policy_config_defaults(p);
	p->report_fresh = cfg->policy_report_fresh;
	p->report_old = cfg->policy_report_old;
	p->report_decay_s = cfg->policy_report_decay;
	p->window_s = cfg->policy_window;
	p->trap_square_from = cfg->policy_trap_square_from;
	p->trap_weight = cfg->policy_trap_weight;
	p->threshold = cfg->policy_threshold;
	p->min_evidence = cfg->policy_min_evidence;
	p->listing_s = cfg->policy_listing;
	p->two_reports_s = cfg->policy_two_reports;
	ws->wc.zone = cfg->zone;
	ws->wc.export_dir = export_dir;
	ws->wc.export_interval_s = export_dir[0] ? cfg->export_interval : 0;
	/* The config check already refused anything that does not parse. */
	char buf[CONFIG_STR_MAX];
	snprintf(buf, sizeof(buf), "%s", cfg->exclude_default);
	char *save = NULL;
	size_t n = 0;
	for (char *tok = strtok_r(buf, ", \t", &save); tok && n < CLI_EXCLUSIONS_MAX;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (ip_prefix_parse(tok, strlen(tok), &ws->excl[n]) == BASE_OK)
			n++;
	}
	ws->wc.default_exclusions = ws->excl;
	ws->wc.n_default_exclusions = n;
}

static void cli_ctl_socket_path(const struct config *cfg, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/trapline.sock", cfg->data_dir);
}

/* The service's store, writer and control socket (not with a static file). */
struct serve_store {
	struct store *store;
	struct writer *writer;
	struct ctl_server *ctl;
	struct cli_writer_setup ws;
};

/* Opens the store, starts the writer (which publishes the listings on st->zone before it
 * returns) and the control socket. Returns 0, or 1 after logging why. */
static int serve_store_start(struct serve_state *st, struct serve_store *ss)
{
	const struct config *cfg = st->cfg;
	int rc = store_open(cfg->data_dir, &ss->store);
	if (rc != STORE_OK) {
		log_err("main", "cannot open the store data_dir=%s reason=\"%s\"", cfg->data_dir,
			rc == STORE_EBUSY ? "another trapline holds it" : tl_strerror(rc));
		return 1;
	}
	cli_writer_setup_make(cfg, cfg->data_dir, &ss->ws);
	rc = writer_start(&ss->ws.wc, ss->store, st->zone, &st->defaults, &ss->writer);
	if (rc != WRITER_OK) {
		log_err("main", "cannot start the writer reason=\"%s\"", tl_strerror(rc));
		goto fail_store;
	}
	struct ctl_service svc = {.writer = ss->writer, .zone = st->zone, .zone_name = cfg->zone,
				  .policy = ss->ws.wc.policy,
				  .default_exclusions = ss->ws.wc.default_exclusions,
				  .n_default_exclusions = ss->ws.wc.n_default_exclusions};
	char path[CONFIG_STR_MAX + 16];
	cli_ctl_socket_path(cfg, path, sizeof(path));
	if (ctl_server_start(path, cfg->data_dir, &svc, -1, -1, &ss->ctl) != CTL_OK)
		goto fail_writer;
	return 0;

fail_writer:
	writer_stop(ss->writer);
fail_store:
	store_close(ss->store);
	return 1;
}

/* ---- the spamtrap --------------------------------------------------------------- */

/* Binds the trap's sockets and sets up TLS, before privileges are dropped (port 25, a key
 * readable by root only); files it makes in the data directory belong to pw. *out stays NULL
 * when smtp_listen is off or a static file is served (no store to record into). Returns 0,
 * EXIT_USAGE for a bad configuration, or 1. */
static int serve_smtp_bind(const struct config *cfg, const struct passwd *pw, bool use_store,
			   struct smtp_server **out)
{
	*out = NULL;
	struct smtp_server_config sc;
	bool enabled;
	char err[CONFIG_ERR_MAX];
	if (smtp_server_config_make(cfg, &sc, &enabled, err, sizeof(err)) != SMTP_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	if (!enabled || !use_store)
		return 0;
	if (pw) {
		sc.owner_uid = (int)pw->pw_uid;
		sc.owner_gid = (int)pw->pw_gid;
	}
	return smtp_server_bind(&sc, out) == SMTP_OK ? 0 : 1;
}

/* The trap stops before the writer: it waits for the writer to answer the messages it holds. */
static void serve_smtp_stop(struct smtp_server *smtp)
{
	if (!smtp)
		return;
	struct smtp_stats st;
	smtp_server_stats(smtp, &st);
	smtp_server_stop(smtp);
	log_info("smtp", "stopped sessions=%llu messages=%llu deferred=%llu refused=%llu",
		 (unsigned long long)st.sessions, (unsigned long long)st.messages,
		 (unsigned long long)st.deferred, (unsigned long long)st.refused);
}

/* The control socket first (it submits to the writer), the writer before the store. */
static void serve_store_stop(struct serve_store *ss)
{
	ctl_server_stop(ss->ctl);
	writer_stop(ss->writer);
	store_close(ss->store);
}

static int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	int rc = cli_config_read(argc, argv, &cfg);
	if (rc)
		return rc;
	enum log_level level = LOG_LEVEL_INFO;
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

	log_info("main", "starting version=%s zone=%s dns=%s smtp=%s threads=%u static=%s",
		 TRAPLINE_VERSION, cfg.zone, cfg.dns_listen,
		 cfg.static_file[0] ? "off" : cfg.smtp_listen, sc.threads,
		 cfg.static_file[0] ? cfg.static_file : "-");
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
	/* With a static file the zone is that file, and the store is not used (no writer, no
	 * control socket). Without one, the writer publishes the store's listings. */
	bool use_store = cfg.static_file[0] == '\0';
	struct serve_store ss;
	memset(&ss, 0, sizeof(ss));
	/* The zone is complete before the first query can arrive. A data file that cannot be
	 * read at all is fatal at start: serving only the test points would look healthy. */
	if (!use_store) {
		int lrc = serve_load(&st, "start");
		if (lrc != ZONE_OK && lrc != ZONE_EPARSE) {
			rc = 1;
			goto fail_zone;
		}
	}
	struct dns_server *srv;
	if (dns_server_bind(&sc, &srv) != DNS_OK) {
		rc = 1;
		goto fail_zone;
	}
	struct smtp_server *smtp = NULL;
	if ((rc = serve_smtp_bind(&cfg, pw, use_store, &smtp)) != 0) {
		dns_server_stop(srv);
		goto fail_zone;
	}
	/* The store is opened as the user the service runs as, so that every file it creates
	 * (database, WAL, socket) stays writable by it; queries wait in the bound sockets until
	 * dns_server_start, when the writer has published the listings. */
	if (serve_drop_privileges(pw) != 0) {
		rc = 1;
		goto fail_server;
	}
	if (use_store && serve_store_start(&st, &ss) != 0) {
		rc = 1;
		use_store = false;
		goto fail_server;
	}
	if (dns_server_start(srv, st.zone) != DNS_OK) {
		rc = 1;
		goto fail_server;
	}
	if (smtp && smtp_server_start(smtp, ss.writer) != SMTP_OK) {
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
			if (!use_store)
				serve_load(&st, "sighup");
			continue;
		}
		if (!use_store)
			serve_check_static(&st);
	}
	rc = 0;
	struct dns_stats stats;
fail_server:
	dns_server_stats(srv, &stats);
	dns_server_stop(srv);
	serve_smtp_stop(smtp);
	if (use_store)
		serve_store_stop(&ss);
	if (rc == 0)
		log_info("main", "stopped queries=%llu answers=%llu dropped=%llu",
			 (unsigned long long)stats.queries, (unsigned long long)stats.answers,
			 (unsigned long long)stats.dropped);
fail_zone:
	zone_reader_unregister();
	zone_handle_free(st.zone);
	return rc;
}

/* ---- the operator's commands ------------------------------------------------ */

/* As root, work on the data directory as its owner (the service's user), so that a database
 * created or a WAL file written here stays the service's to write. */
static int cli_become_owner(const char *dir)
{
	struct stat sb;
	if (geteuid() != 0 || stat(dir, &sb) != 0 || sb.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) != 0 || setgid(sb.st_gid) != 0 || setuid(sb.st_uid) != 0) {
		fprintf(stderr, "trapline: cannot switch to the owner (uid %u) of %s: %s\n",
			(unsigned)sb.st_uid, dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void cli_who(char *who, size_t cap)
{
	struct passwd *pw = getpwuid(geteuid());
	if (pw)
		snprintf(who, cap, "cli:%s", pw->pw_name);
	else
		snprintf(who, cap, "cli:uid%u", (unsigned)geteuid());
}

/* No service answers: open the data directory ourselves and run the request through a writer
 * of our own (no DNS), so that the same policy path decides. Returns an exit status. */
static int cli_run_local(const struct config *cfg, const struct ctl_request *req, FILE *out)
{
	char who[CTL_WHO_MAX];
	cli_who(who, sizeof(who));
	if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
		fprintf(stderr, "trapline: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (cli_become_owner(cfg->data_dir) != 0)
		return CTL_EXIT_FAIL;
	struct store *store, *reader;
	int rc = store_open(cfg->data_dir, &store);
	if (rc == STORE_EBUSY) {
		fprintf(stderr, "trapline: %s is in use by another trapline process, and no service "
				"answers on its control socket; try again, or stop that process\n",
			cfg->data_dir);
		return CTL_EXIT_FAIL;
	}
	if (rc != STORE_OK) {
		fprintf(stderr, "trapline: cannot open the store in %s: %s\n", cfg->data_dir,
			tl_strerror(rc));
		return CTL_EXIT_FAIL;
	}
	int status = CTL_EXIT_FAIL;
	struct zone_defaults defaults;
	serve_defaults_make(cfg, &defaults);
	struct cli_writer_setup ws;
	cli_writer_setup_make(cfg, "", &ws);
	struct zone_handle *zone = zone_handle_new();
	if (!zone)
		goto fail_store;
	zone_reader_register();
	struct writer *w;
	rc = writer_start(&ws.wc, store, zone, &defaults, &w);
	if (rc != WRITER_OK) {
		fprintf(stderr, "trapline: cannot start the writer: %s\n", tl_strerror(rc));
		goto fail_zone;
	}
	rc = store_open_mode(cfg->data_dir, false, &reader);
	if (rc != STORE_OK) {
		fprintf(stderr, "trapline: cannot read the store: %s\n", tl_strerror(rc));
		goto fail_writer;
	}
	struct ctl_service svc = {.writer = w, .reader = reader, .zone = zone,
				  .zone_name = cfg->zone, .policy = ws.wc.policy,
				  .default_exclusions = ws.wc.default_exclusions,
				  .n_default_exclusions = ws.wc.n_default_exclusions};
	status = ctl_execute(&svc, req, who, out, stderr);
	store_close(reader);
fail_writer:
	writer_stop(w);
fail_zone:
	zone_reader_unregister();
	zone_handle_free(zone);
fail_store:
	store_close(store);
	return status;
}

/* Reads the arguments of an operator's command into cfg (--config, --data) and req. Returns 0
 * or EXIT_USAGE after printing what is wrong. */
static int cli_ctl_args(const struct cli_command *c, int argc, char **argv, struct config *cfg,
			struct ctl_request *req, const char **out_path)
{
	char err[CTL_ERR_MAX];
	int rc = cli_config_file(argc, argv, cfg);
	if (rc)
		return rc;
	if (config_check(cfg, err, sizeof(err)) != BASE_OK) { /* no option here changes a key */
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	ctl_request_init(req, c->ctl, err, sizeof(err));
	bool have_positional = false;
	for (int i = 0; i < argc; i++) {
		char flag[64];
		const char *value = cli_flag_split(argv[i], flag, sizeof(flag));
		if (strncmp(flag, "--", 2) != 0) {
			if (!c->positional || have_positional) {
				fprintf(stderr, "trapline: %s: unexpected argument '%s'\n", c->ctl,
					argv[i]);
				return EXIT_USAGE;
			}
			have_positional = true;
			value = argv[i];
			snprintf(flag, sizeof(flag), "--%s", c->positional);
		} else if (strcmp(flag, "--json") == 0 || strcmp(flag, "--remove") == 0) {
			value = "1";
		} else if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "trapline: %s needs a value\n", flag);
				return EXIT_USAGE;
			}
			value = argv[++i];
		}
		if (strcmp(flag, "--config") == 0)
			continue;
		if (strcmp(flag, "--data") == 0) {
			if (config_set(cfg, "data_dir", value, err, sizeof(err)) != BASE_OK) {
				fprintf(stderr, "trapline: --data: %s\n", err);
				return EXIT_USAGE;
			}
			continue;
		}
		if (strcmp(flag, "--out") == 0 && strcmp(c->ctl, "export") == 0) {
			*out_path = value;
			continue;
		}
		if (ctl_request_set(req, flag + 2, value, err, sizeof(err)) != CTL_OK) {
			fprintf(stderr, "trapline: %s\n", err);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Writes to FILE.tmp and renames it over FILE only when the command succeeded, so that a
 * mirror never loads half an export. */
static int cli_out_finish(FILE *f, const char *path, const char *tmp, int status)
{
	if (!path)
		return status;
	bool ok = status == CTL_EXIT_OK && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) != 0) {
		fprintf(stderr, "trapline: cannot write %s: %s\n", path, strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		return status == CTL_EXIT_OK ? CTL_EXIT_FAIL : status;
	}
	return status;
}

static int cmd_ctl(const struct cli_command *c, int argc, char **argv)
{
	struct config cfg;
	struct ctl_request req;
	const char *out_path = NULL;
	int rc = cli_ctl_args(c, argc, argv, &cfg, &req, &out_path);
	if (rc)
		return rc;
	log_set_level(LOG_LEVEL_WARN);
	FILE *out = stdout;
	char tmp[CONFIG_STR_MAX + 8];
	if (out_path) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
		out = fopen(tmp, "w");
		if (!out) {
			fprintf(stderr, "trapline: cannot write %s: %s\n", tmp, strerror(errno));
			return CTL_EXIT_FAIL;
		}
	}
	char path[CONFIG_STR_MAX + 16];
	cli_ctl_socket_path(&cfg, path, sizeof(path));
	int status = CTL_EXIT_FAIL;
	rc = ctl_client_call(path, &req, out, stderr, &status);
	if (rc == CTL_ENOSERVICE) {
		status = cli_run_local(&cfg, &req, out);
	} else if (rc != CTL_OK) {
		fprintf(stderr, "trapline: control socket %s: %s%s%s\n", path, tl_strerror(rc),
			rc == CTL_EIO ? ": " : "", rc == CTL_EIO ? strerror(errno) : "");
		status = CTL_EXIT_FAIL;
	}
	return cli_out_finish(out, out_path, tmp, status);
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
	if (config_load_file(&cfg, argv[0], err, sizeof(err)) != BASE_OK ||
	    config_check(&cfg, err, sizeof(err)) != BASE_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	printf("# %s: ok\n", argv[0]);
	config_print(stdout, &cfg);
	return 0;
}

/* ---- classify ---------------------------------------------------------------- */

/* Reads all of path ("-": stdin) into a malloc'd buffer. */
static char *read_file_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		char *g = cap < (size_t)1 << 30 ? realloc(buf, cap * 2) : NULL;
		if (!g) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = g;
		cap *= 2;
	}
	bool err = ferror(f);
	if (f != stdin)
		fclose(f);
	if (err) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* `trapline classify [--json] MESSAGE`: the class the trap would give MESSAGE arriving as it
 * is (the envelope sender taken from its Return-Path), and the signals that decided it. */
static int cmd_classify(int argc, char **argv)
{
	bool json = false;
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path) {
		fprintf(stderr, "usage: trapline classify [--json] MESSAGE (a file, or - for stdin)\n");
		return EXIT_USAGE;
	}
	size_t len = 0;
	char *msg = read_file_all(path, &len);
	if (!msg) {
		fprintf(stderr, "trapline: cannot read %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	char from[512];
	bool have_from = mail_return_path(msg, len, from, sizeof(from)) == MAIL_OK;
	struct mail_verdict v;
	mail_classify(msg, len, have_from ? from : NULL, &v);
	free(msg);
	if (json) {
		json_t *o = json_object(), *sig = json_array();
		for (unsigned i = 0; i < v.n_signals; i++)
			json_array_append_new(sig, json_string(v.signals[i]));
		json_object_set_new(o, "class", json_string(mail_class_name(v.cls)));
		json_object_set_new(o, "signals", sig);
		json_object_set_new(o, "envelope_from", have_from ? json_string(from) : json_null());
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return 0;
	}
	char signals[512];
	mail_signals_format(&v, signals, sizeof(signals));
	printf("class: %s\nsignals: %s\nenvelope_from: %s\n", mail_class_name(v.cls),
	       v.n_signals ? signals : "(none)",
	       !have_from ? "(unknown: no Return-Path)" : from[0] ? from : "<> (null sender)");
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
	if (strcmp(cmd, "classify") == 0)
		return cmd_classify(argc - 2, argv + 2);
	/* A word's rows with a sub-command come first ("reputation list"); a row without one
	 * ("reputation CIDR ...") takes what is left. */
	const struct cli_command *missed = NULL;
	for (size_t i = 0; i < N_CTL_COMMANDS; i++) {
		const struct cli_command *c = &ctl_commands[i];
		if (strcmp(cmd, c->word) != 0)
			continue;
		if (!c->sub)
			return cmd_ctl(c, argc - 2, argv + 2);
		if (argc >= 3 && strcmp(argv[2], c->sub) == 0)
			return cmd_ctl(c, argc - 3, argv + 3);
		missed = c;
	}
	if (missed) {
		fprintf(stderr, "usage: trapline %s %s %s\n", missed->word, missed->sub,
			missed->usage);
		return EXIT_USAGE;
	}
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
