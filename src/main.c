/* main.c - the trapline command line: wires the modules, nothing else. Its own commands are in
 * cli_commands below; the operator's commands are the rows of ctl's command table. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "ctl/ctl.h"
#include "dns/dns.h"
#include "store/store.h"
#include "web/web.h"
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
	{"--http", "http_listen", "ADDR:PORT[,...]", "web pages and JSON API addresses, or off"},
	{"--zone", "zone", "NAME", "zone served"},
	{"--threads", "threads", "N", "UDP workers per address (0 = one per core)"},
	{"--static", "static_file", "FILE", "rbldnsd-format data file to serve"},
	{"--user", "user", "NAME", "user to run as when started as root"},
	{"--log-level", "log_level", "LEVEL", "debug, info, warn or error"},
};

#define N_SERVE_OPTIONS (sizeof(serve_options) / sizeof(serve_options[0]))

static int cmd_serve(int argc, char **argv);
static int cmd_check_config(int argc, char **argv);
static int cmd_config_template(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

/* The binary's own commands; help prints these, then the operator's commands. */
static const struct cli_command {
	const char *word;
	const char *usage;
	const char *help;
	int (*main)(int argc, char **argv);
} cli_commands[] = {
	{"serve", "[--config FILE] [options]", "run the service (DNS, the writer, the control socket)",
	 cmd_serve},
	{"check-config", "FILE", "validate a configuration file, print every key with its help",
	 cmd_check_config},
	{"config-template", "", "print the commented default configuration (etc/trapline.conf)",
	 cmd_config_template},
	{"version", "", "print the version", cmd_version},
	{"help", "[COMMAND]", "this summary, or one command's usage", cmd_help},
};

#define N_CLI_COMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

static void serve_options_help(FILE *f)
{
	fprintf(f, "serve options:\n  %-27s %s\n", "--config FILE",
		"configuration file (etc/trapline.conf)");
	for (size_t i = 0; i < N_SERVE_OPTIONS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", serve_options[i].flag, serve_options[i].arg);
		fprintf(f, "  %-27s %s\n", left, serve_options[i].help);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: trapline COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < N_CLI_COMMANDS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", cli_commands[i].word, cli_commands[i].usage);
		fprintf(f, "  %-36s %s\n", left, cli_commands[i].help);
	}
	fprintf(f, "\nThe operator's commands (each also takes --data DIR and --config FILE):\n");
	size_t n;
	const struct ctl_command *c = ctl_commands(&n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  trapline %s %s\n      %s\n", c[i].words, c[i].usage, c[i].help);
	fprintf(f, "\n");
	serve_options_help(f);
	fprintf(f, "\nA command-line option overrides the config file. TIME is ISO 8601 UTC "
		   "(2026-11-21T10:00:00Z).\nThe operator's commands talk to the running service "
		   "through DATA_DIR/trapline.sock,\nor work on DATA_DIR themselves when no service "
		   "runs. --json prints the answer as JSON\n(docs/api.md). Exit status 2: bad usage, "
		   "configuration or input (nothing was\nchanged); 1: the command failed. "
		   "`trapline COMMAND --help` shows one command.\n");
}

static bool is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* ---- configuration ------------------------------------------------------------ */

static const struct cli_option *cli_option_find(const char *flag)
{
	for (size_t i = 0; i < N_SERVE_OPTIONS; i++)
		if (strcmp(serve_options[i].flag, flag) == 0)
			return &serve_options[i];
	return NULL;
}

/* Reads the config file (if --config names one) over the defaults. Returns 0, or EXIT_USAGE
 * after printing what is wrong. */
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

/* serve's arguments: the file, then every option over it, then the checks between keys. */
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
			fprintf(stderr, "trapline: unknown option '%s' (see trapline serve --help)\n",
				argv[i]);
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

/* Takes on pw's identity for good: no supplementary groups, its group, its user. */
static int become(const struct passwd *pw)
{
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return -1;
	return 0;
}

static int serve_drop_privileges(const struct passwd *pw)
{
	if (!pw)
		return 0;
	if (become(pw) != 0) {
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

/* One path the service will need once it runs as pw, and what it needs of it. */
struct serve_need {
	const char *key;  /* the config key that names it */
	const char *path;
	int mode;         /* R_OK, W_OK, X_OK as access(2) takes them */
	bool directory;
	bool optional;    /* fine when it does not exist yet */
};

/* In a child that has become pw: checks each need and reports the first that fails on fd as
 * "KEY PATH: problem". */
static void serve_check_needs_child(const struct passwd *pw, const struct serve_need *needs,
				    size_t n, int fd)
{
	char msg[CONFIG_STR_MAX + 256] = "";
	if (become(pw) != 0) {
		snprintf(msg, sizeof(msg), "user %s: cannot become it: %s", pw->pw_name,
			 strerror(errno));
	}
	for (size_t i = 0; i < n && !msg[0]; i++) {
		const struct serve_need *d = &needs[i];
		if (access(d->path, F_OK) != 0 && errno == ENOENT && d->optional)
			continue;
		/* open() walks every parent directory as this user, as the service will. */
		int o = open(d->path, O_RDONLY | O_CLOEXEC | (d->directory ? O_DIRECTORY : 0));
		if (o < 0 || access(d->path, d->mode) != 0) {
			snprintf(msg, sizeof(msg), "%s %s: user %s cannot %s it (%s)", d->key,
				 d->path, pw->pw_name,
				 d->directory ? "use" : (d->mode & W_OK) ? "write" : "read",
				 strerror(errno));
		}
		if (o >= 0)
			close(o);
	}
	ssize_t w = write(fd, msg, strlen(msg));
	(void)w;
}

/* Started as root: the service drops to pw before it opens its store or reloads its file, so
 * find out now, in one clear line, whether pw can reach them (a parent directory that is not
 * searchable, a file only root may read), instead of a first reload or a database open that
 * fails later. 0 when every need is met. */
static int serve_check_needs(const struct passwd *pw, const struct config *cfg)
{
	char db[CONFIG_STR_MAX + 16];
	snprintf(db, sizeof(db), "%s/trapline.db", cfg->data_dir);
	struct serve_need needs[4];
	size_t n = 0;
	if (cfg->static_file[0])
		needs[n++] = (struct serve_need){"static_file", cfg->static_file, R_OK, false, false};
	else {
		needs[n++] = (struct serve_need){"data_dir", cfg->data_dir, R_OK | W_OK | X_OK, true,
						 false};
		needs[n++] = (struct serve_need){"data_dir", db, R_OK | W_OK, false, true};
		if (cfg->web_templates[0])
			needs[n++] = (struct serve_need){"web_templates", cfg->web_templates,
							 R_OK | X_OK, true, false};
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		serve_check_needs_child(pw, needs, n, p[1]);
		_exit(0);
	}
	close(p[1]);
	char msg[CONFIG_STR_MAX + 256];
	ssize_t got = read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	waitpid(pid, NULL, 0);
	if (got <= 0)
		return 0;
	msg[got] = '\0';
	fprintf(stderr, "trapline: %s; the service runs as %s once started (config key user)\n",
		msg, pw->pw_name);
	return -1;
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
	struct writer_config wc;
};

/* Opens the store, starts the writer (which publishes the listings on zone before it returns)
 * and the control socket. Returns 0, or 1 after logging why. */
static int serve_store_start(const struct config *cfg, struct zone_handle *zone,
			     const struct zone_defaults *defaults, struct serve_store *ss)
{
	int rc = store_open(cfg->data_dir, &ss->store);
	if (rc != STORE_OK) {
		log_err("main", "cannot open the store data_dir=%s reason=\"%s\"", cfg->data_dir,
			rc == STORE_EBUSY ? "another trapline holds it" : tl_strerror(rc));
		return 1;
	}
	writer_config_from(cfg, true, &ss->wc);
	rc = writer_start(&ss->wc, ss->store, zone, defaults, &ss->writer);
	if (rc != WRITER_OK) {
		log_err("main", "cannot start the writer reason=\"%s\"", tl_strerror(rc));
		goto fail_store;
	}
	struct ctl_service svc;
	ctl_service_init(&svc, cfg, ss->writer, NULL, zone);
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

/* The control socket first (it submits to the writer), the writer before the store. */
static void serve_store_stop(struct serve_store *ss)
{
	ctl_server_stop(ss->ctl);
	writer_stop(ss->writer);
	store_close(ss->store);
}

/* The web pages: the sockets are bound before the privilege drop (port 80), the server starts
 * once the writer runs (its handlers read the store and write through the writer). Not with a
 * static file: the pages read the store. Returns 0, or 1 after logging why. */
static int serve_web_bind(const struct web_config *wc, bool use_store, struct web_server **out)
{
	*out = NULL;
	if (wc->n_addrs == 0)
		return 0;
	if (!use_store) {
		log_info("main", "web pages off: a static zone has no evidence to explain");
		return 0;
	}
	return web_server_bind(wc, out) == WEB_OK ? 0 : 1;
}

static int serve_web_start(struct web_server *web, const struct config *cfg,
			   struct serve_store *ss, struct zone_handle *zone)
{
	if (!web)
		return 0;
	struct ctl_service svc;
	ctl_service_init(&svc, cfg, ss->writer, NULL, zone);
	if (web_server_start(web, &svc) != WEB_OK) {
		log_err("main", "cannot start the web pages (http_listen=%s)", cfg->http_listen);
		return 1;
	}
	return 0;
}

/* Signals are taken synchronously by the main thread; every thread started from here on
 * inherits the mask. */
static void serve_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Until SIGTERM or SIGINT: SIGHUP reloads a static file, and every reload_check_ms the file is
 * looked at for changes. */
static void serve_wait(const struct config *cfg, const sigset_t *sigs, struct zone_static *zs)
{
	struct timespec tick = {(time_t)(cfg->reload_check_ms / 1000),
				(long)(cfg->reload_check_ms % 1000) * 1000000L};
	for (;;) {
		int sig = sigtimedwait(sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("main", "stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
			return;
		}
		if (sig == SIGHUP && zs)
			zone_static_load(zs, "sighup");
		else if (zs)
			zone_static_check(zs);
	}
}

static int cmd_serve(int argc, char **argv)
{
	if (argc > 0 && is_help(argv[0])) {
		printf("usage: trapline serve [--config FILE] [options]\n");
		serve_options_help(stdout);
		return 0;
	}
	struct config cfg;
	int rc = cli_config_read(argc, argv, &cfg);
	if (rc)
		return rc;
	enum log_level level = LOG_LEVEL_INFO;
	log_level_parse(cfg.log_level, &level);
	log_set_level(level);
	struct dns_server_config sc;
	char err[CONFIG_ERR_MAX];
	if (dns_server_config_from(&cfg, &sc, err, sizeof(err)) != DNS_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	struct web_config wc;
	if (web_config_from(&cfg, &wc, err, sizeof(err)) != WEB_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	struct passwd *pw = NULL;
	if (geteuid() == 0) {
		pw = getpwnam(cfg.user);
		if (!pw) {
			fprintf(stderr, "trapline: user: no such user '%s'\n", cfg.user);
			return EXIT_USAGE;
		}
	}
	sigset_t sigs;
	serve_signals(&sigs);
	log_info("main", "starting version=%s zone=%s dns=%s threads=%u static=%s", TRAPLINE_VERSION,
		 cfg.zone, cfg.dns_listen, sc.threads, cfg.static_file[0] ? cfg.static_file : "-");
	/* With a static file the zone is that file and the store is not used. */
	bool use_store = cfg.static_file[0] == '\0';
	if (use_store && serve_data_dir(&cfg, pw) != 0)
		return 1;
	if (pw && serve_check_needs(pw, &cfg) != 0)
		return 1;

	struct zone_defaults defaults;
	zone_defaults_from(&cfg, &defaults);
	struct zone_handle *zone = zone_handle_new();
	struct zone_static *zs = NULL;
	if (!zone)
		return 1;
	zone_reader_register();
	struct serve_store ss;
	memset(&ss, 0, sizeof(ss));
	struct dns_server *srv = NULL;
	struct web_server *web = NULL;
	rc = 1;
	/* The zone is complete before the first query can arrive. A data file that cannot be
	 * read at all is fatal at start: serving only the test points would look healthy. */
	if (!use_store) {
		if (zone_static_new(zone, &defaults, cfg.static_file, &zs) != ZONE_OK)
			goto fail_zone;
		int lrc = zone_static_load(zs, "start");
		if (lrc != ZONE_OK && lrc != ZONE_EPARSE)
			goto fail_zone;
	}
	if (dns_server_bind(&sc, &srv) != DNS_OK)
		goto fail_zone;
	if (serve_web_bind(&wc, use_store, &web) != 0)
		goto fail_server;
	/* The store is opened as the user the service runs as, so that every file it creates
	 * (database, WAL, socket) stays writable by it; queries wait in the bound sockets until
	 * dns_server_start, when the writer has published the listings. */
	if (serve_drop_privileges(pw) != 0)
		goto fail_server;
	if (use_store && serve_store_start(&cfg, zone, &defaults, &ss) != 0) {
		use_store = false;
		goto fail_server;
	}
	if (serve_web_start(web, &cfg, &ss, zone) != 0)
		goto fail_server;
	if (dns_server_start(srv, zone) != DNS_OK)
		goto fail_server;
	log_info("main", "ready");
	serve_wait(&cfg, &sigs, zs);
	rc = 0;
	struct dns_stats stats;
fail_server:
	dns_server_stats(srv, &stats);
	dns_server_stop(srv);
	web_server_stop(web); /* before the writer it reads beside */
	if (use_store)
		serve_store_stop(&ss);
	if (rc == 0)
		log_info("main", "stopped queries=%llu answers=%llu dropped=%llu",
			 (unsigned long long)stats.queries, (unsigned long long)stats.answers,
			 (unsigned long long)stats.dropped);
fail_zone:
	zone_static_free(zs);
	zone_reader_unregister();
	zone_handle_free(zone);
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

/* Opens the store of a data directory no service runs on. Returns 0, or an exit status. */
static int cli_store_open(const struct config *cfg, struct store **out)
{
	if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
		fprintf(stderr, "trapline: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (cli_become_owner(cfg->data_dir) != 0)
		return CTL_EXIT_FAIL;
	int rc = store_open(cfg->data_dir, out);
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
	return 0;
}

/* No service answers: open the data directory ourselves and run the request through a writer
 * of our own (no DNS), so that the same policy path decides. Returns an exit status. */
static int cli_run_local(const struct config *cfg, const struct ctl_request *req, FILE *out)
{
	char who[CTL_WHO_MAX];
	cli_who(who, sizeof(who));
	struct store *store, *reader;
	int status = cli_store_open(cfg, &store);
	if (status)
		return status;
	status = CTL_EXIT_FAIL;
	struct zone_defaults defaults;
	zone_defaults_from(cfg, &defaults);
	struct writer_config *wc = malloc(sizeof(*wc));
	struct zone_handle *zone = zone_handle_new();
	if (!wc || !zone)
		goto fail_store;
	writer_config_from(cfg, false, wc);
	zone_reader_register();
	struct writer *w;
	int rc = writer_start(wc, store, zone, &defaults, &w);
	if (rc != WRITER_OK) {
		fprintf(stderr, "trapline: cannot start the writer: %s\n", tl_strerror(rc));
		goto fail_zone;
	}
	rc = store_open_mode(cfg->data_dir, false, &reader);
	if (rc != STORE_OK) {
		fprintf(stderr, "trapline: cannot read the store: %s\n", tl_strerror(rc));
		goto fail_writer;
	}
	struct ctl_service svc;
	ctl_service_init(&svc, cfg, w, reader, zone);
	status = ctl_execute(&svc, req, who, out, stderr);
	store_close(reader);
fail_writer:
	writer_stop(w);
fail_zone:
	zone_reader_unregister();
fail_store:
	zone_handle_free(zone);
	free(wc);
	store_close(store);
	return status;
}

/* Where an operator's command sends its answer, and its own options. */
struct cli_ctl_args {
	const char *out_path; /* export --out */
	bool help;
};

/* One option of an operator's command: --data, --config, export's --out, or a request key. */
static int cli_ctl_option(const struct ctl_command *c, int argc, char **argv, int *i,
			  struct config *cfg, struct ctl_request *req, struct cli_ctl_args *a)
{
	char flag[64], err[CTL_ERR_MAX];
	const char *value = cli_flag_split(argv[*i], flag, sizeof(flag));
	const char *key = flag + 2;
	bool ours = strcmp(key, "data") == 0 || strcmp(key, "config") == 0 ||
		    (strcmp(key, "out") == 0 && strcmp(c->name, "export") == 0);
	if (!ours && !ctl_key_known(key)) {
		fprintf(stderr, "trapline: unknown option '%s' (see trapline %s --help)\n", flag,
			c->words);
		return EXIT_USAGE;
	}
	if (!ours && ctl_key_is_flag(key)) {
		if (value) {
			fprintf(stderr, "trapline: %s takes no value\n", flag);
			return EXIT_USAGE;
		}
		value = "1";
	} else if (!value) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "trapline: %s needs a value\n", flag);
			return EXIT_USAGE;
		}
		value = argv[++*i];
	}
	if (strcmp(key, "config") == 0)
		return 0; /* read first, by cli_config_file */
	if (strcmp(key, "data") == 0) {
		if (config_set(cfg, "data_dir", value, err, sizeof(err)) != BASE_OK) {
			fprintf(stderr, "trapline: --data: %s\n", err);
			return EXIT_USAGE;
		}
		return 0;
	}
	if (strcmp(key, "out") == 0) {
		a->out_path = value;
		return 0;
	}
	if (ctl_request_set(req, key, value, err, sizeof(err)) != CTL_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

/* Reads the arguments of an operator's command into cfg (--config, --data) and req. Returns 0
 * or EXIT_USAGE after printing what is wrong. */
static int cli_ctl_args(const struct ctl_command *c, int argc, char **argv, struct config *cfg,
			struct ctl_request *req, struct cli_ctl_args *a)
{
	char err[CTL_ERR_MAX];
	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			a->help = true;
			return 0;
		}
	}
	int rc = cli_config_file(argc, argv, cfg);
	if (rc)
		return rc;
	if (config_check(cfg, err, sizeof(err)) != BASE_OK) { /* no option here changes a key */
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	ctl_request_init(req, c->name, err, sizeof(err));
	bool have_positional = false;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0) {
			if ((rc = cli_ctl_option(c, argc, argv, &i, cfg, req, a)) != 0)
				return rc;
			continue;
		}
		if (!c->positional || have_positional) {
			fprintf(stderr, "trapline: %s: unexpected argument '%s'\n", c->words, argv[i]);
			return EXIT_USAGE;
		}
		have_positional = true;
		if (ctl_request_set(req, c->positional, argv[i], err, sizeof(err)) != CTL_OK) {
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

static int cmd_ctl(const struct ctl_command *c, int argc, char **argv)
{
	struct config cfg;
	struct ctl_request req;
	struct cli_ctl_args a = {NULL, false};
	int rc = cli_ctl_args(c, argc, argv, &cfg, &req, &a);
	if (rc)
		return rc;
	if (a.help) {
		ctl_command_help(stdout, c);
		return 0;
	}
	log_set_level(LOG_LEVEL_WARN);
	FILE *out = stdout;
	char tmp[CONFIG_STR_MAX + 8];
	if (a.out_path) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", a.out_path);
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
	return cli_out_finish(out, a.out_path, tmp, status);
}

/* ---- the binary's own commands ---------------------------------------------- */

static int cmd_check_config(int argc, char **argv)
{
	if (argc != 1 || is_help(argv[0])) {
		fprintf(argc == 1 ? stdout : stderr, "usage: trapline check-config FILE\n");
		return argc == 1 ? 0 : EXIT_USAGE;
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

static int cmd_config_template(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	config_template(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("trapline %s\n", TRAPLINE_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	if (argc == 0) {
		usage(stdout);
		return 0;
	}
	int used = 0;
	const struct ctl_command *c = ctl_command_match(argc, argv, &used);
	if (c) {
		ctl_command_help(stdout, c);
		return 0;
	}
	for (size_t i = 0; i < N_CLI_COMMANDS; i++) {
		if (strcmp(argv[0], cli_commands[i].word) == 0) {
			printf("usage: trapline %s %s\n  %s\n", cli_commands[i].word,
			       cli_commands[i].usage, cli_commands[i].help);
			if (cli_commands[i].main == cmd_serve)
				serve_options_help(stdout);
			return 0;
		}
	}
	fprintf(stderr, "trapline: no command '%s' (see trapline help)\n", argv[0]);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (is_help(argv[1]) || strcmp(argv[1], "--version") == 0)
		return is_help(argv[1]) ? cmd_help(0, NULL) : cmd_version(0, NULL);
	for (size_t i = 0; i < N_CLI_COMMANDS; i++)
		if (strcmp(argv[1], cli_commands[i].word) == 0)
			return cli_commands[i].main(argc - 2, argv + 2);
	int used = 0;
	const struct ctl_command *c = ctl_command_match(argc - 1, argv + 1, &used);
	if (c)
		return cmd_ctl(c, argc - 1 - used, argv + 1 + used);
	/* The first word of a longer command ("evidence"): show what it takes. */
	size_t n, len = strlen(argv[1]);
	const struct ctl_command *all = ctl_commands(&n);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(all[i].words, argv[1], len) == 0 && all[i].words[len] == ' ') {
			fprintf(stderr, "trapline: %s needs a sub-command\n", argv[1]);
			ctl_command_help(stderr, &all[i]);
			return EXIT_USAGE;
		}
	}
	fprintf(stderr, "trapline: unknown command '%s' (see trapline help)\n", argv[1]);
	return EXIT_USAGE;
}
