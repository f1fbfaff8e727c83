/* main.c - the trapline command line: wires the modules, nothing else. Its own commands are in
 * cli_commands below; the operator's commands are the rows of ctl's command table. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "ctl/ctl.h"
#include "dns/dns.h"
#include "mail/mail.h"
#include "smtp/smtp.h"
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
	const char *arg;  /* NULL: a flag that sets its key to 1 */
	const char *help;
};

static const struct cli_option serve_options[] = {
	{"--data", "data_dir", "DIR", "data directory"},
	{"--dns", "dns_listen", "ADDR:PORT[,...]", "DNS addresses (UDP and TCP)"},
	{"--http", "http_listen", "ADDR:PORT[,...]", "web pages and JSON API addresses, or off"},
	{"--zone", "zone", "NAME", "zone served"},
	{"--threads", "threads", "N", "UDP workers per address (0 = one per core)"},
	{"--static", "static_file", "FILE", "rbldnsd-format data file to serve"},
	{"--smtp", "smtp_listen", "ADDR:PORT[,...]|off", "spamtrap SMTP addresses"},
	{"--user", "user", "NAME", "user to run as when started as root (default trapline)"},
	{"--allow-nobody", "allow_nobody", NULL, "accept user nobody (shared with other daemons)"},
	{"--log-level", "log_level", "LEVEL", "debug, info, warn or error"},
};

#define N_SERVE_OPTIONS (sizeof(serve_options) / sizeof(serve_options[0]))

static int cmd_serve(int argc, char **argv);
static int cmd_check_config(int argc, char **argv);
static int cmd_config_template(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_report_analyse(int argc, char **argv);
static int cmd_classify(int argc, char **argv);

/* The binary's own commands (no service, or the service itself); help prints these, then the
 * operator's commands. */
static const struct cli_command {
	const char *word;
	const char *usage;
	const char *help;
	int (*main)(int argc, char **argv);
} cli_commands[] = {
	{"serve", "[--config FILE] [options]",
	 "run the service (DNS, the spamtrap, the writer, the control socket)",
	 cmd_serve},
	{"check-config", "FILE", "validate a configuration file, print every key with its help",
	 cmd_check_config},
	{"config-template", "", "print the commented default configuration (etc/trapline.conf)",
	 cmd_config_template},
	{"report analyse", "--trusted-relays FILE [--json] MESSAGE",
	 "which address sent MESSAGE, from its Received chain (no data directory)",
	 cmd_report_analyse},
	{"classify", "[--json] MESSAGE",
	 "the class the spamtrap would give MESSAGE, and the signals that decided it",
	 cmd_classify},
	{"version", "", "print the version", cmd_version},
	{"help", "[COMMAND]", "this summary, or one command's usage", cmd_help},
};

#define N_CLI_COMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

static void serve_options_help(FILE *f)
{
	fprintf(f, "serve options:\n  %-27s %s\n", "--config FILE",
		"configuration file (none is read unless given: `make run` gives etc/trapline.conf)");
	for (size_t i = 0; i < N_SERVE_OPTIONS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s%s%s", serve_options[i].flag,
			 serve_options[i].arg ? " " : "", serve_options[i].arg ? serve_options[i].arg : "");
		fprintf(f, "  %-27s %s\n", left, serve_options[i].help);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: trapline COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < N_CLI_COMMANDS; i++)
		fprintf(f, "  trapline %s%s%s\n      %s\n", cli_commands[i].word,
			cli_commands[i].usage[0] ? " " : "", cli_commands[i].usage, cli_commands[i].help);
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
	bool read = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") != 0 && strncmp(argv[i], "--config=", 9) != 0)
			continue;
		if (read) {
			fprintf(stderr, "trapline: --config given twice\n");
			return EXIT_USAGE;
		}
		read = true;
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
	bool seen[N_SERVE_OPTIONS] = {false};
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
		if (seen[opt - serve_options]) {
			fprintf(stderr, "trapline: %s given twice\n", opt->flag);
			return EXIT_USAGE;
		}
		seen[opt - serve_options] = true;
		if (!opt->arg) {
			if (value) {
				fprintf(stderr, "trapline: %s takes no value\n", opt->flag);
				return EXIT_USAGE;
			}
			value = "1";
		} else if (!value) {
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

/* The files the configuration names, read before anything starts (check-config, serve): a
 * certificate or a template folder that is wrong is a configuration error, exit 2 with the
 * key and the file named, not a start that fails half-way. */
static int config_files_check(const struct config *cfg)
{
	char err[CONFIG_ERR_MAX];
	struct smtp_server_config sc;
	bool enabled;
	if (smtp_server_config_make(cfg, &sc, &enabled, err, sizeof(err)) != SMTP_OK ||
	    (enabled && smtp_tls_check(&sc, err, sizeof(err)) != SMTP_OK) ||
	    web_templates_check(cfg->web_templates, err, sizeof(err)) != WEB_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

/* ---- serve ------------------------------------------------------------------ */

/* ---- the service's user and its data directory ------------------------------------ */

/* The files a service or a command makes in the data directory. */
static const char *const data_files[] = {"trapline.db", "trapline.db-wal", "trapline.db-shm",
					 "trapline.lock", "trapline.rbldnsd", "trapline.zone"};

/* nobody is many daemons' user: a service running as it shares its files and its control
 * socket with all of them. */
static bool user_is_nobody(const struct passwd *pw)
{
	return strcmp(pw->pw_name, "nobody") == 0 || pw->pw_uid == 65534;
}

/* ctl_group's gid into *group (-1 when the key is empty). 0, or EXIT_USAGE after one line. */
static int service_group(const struct config *cfg, int *group)
{
	*group = -1;
	if (!cfg->ctl_group[0])
		return 0;
	struct group *g = getgrnam(cfg->ctl_group);
	if (!g) {
		fprintf(stderr, "trapline: ctl_group: no such group '%s'\n", cfg->ctl_group);
		return EXIT_USAGE;
	}
	*group = (int)g->gr_gid;
	return 0;
}

/* The user the service runs as when started as root (getpwnam's storage: use it before the
 * next getpw* call). 0, or EXIT_USAGE after one line. */
static int service_user(const struct config *cfg, struct passwd **out)
{
	struct passwd *pw = getpwnam(cfg->user);
	if (!pw) {
		fprintf(stderr, "trapline: user: no such user '%s' (started as root, Trapline runs as "
				"it: `make install` or scripts/deps.sh creates the system user "
				"trapline)\n", cfg->user);
		return EXIT_USAGE;
	}
	if (user_is_nobody(pw) && !cfg->allow_nobody) {
		fprintf(stderr, "trapline: user: %s is shared with other daemons, and any process "
				"of the service's user may use its control socket: give Trapline a "
				"user of its own (trapline), or accept this with --allow-nobody\n",
			pw->pw_name);
		return EXIT_USAGE;
	}
	*out = pw;
	return 0;
}

static void owner_name(uid_t uid, char *buf, size_t cap)
{
	struct passwd *o = getpwuid(uid);
	if (o)
		snprintf(buf, cap, "%s", o->pw_name);
	else
		snprintf(buf, cap, "uid %u", (unsigned)uid);
}

/* Started as root, the data directory must end up the service user's (uid, gid). Trapline gives
 * it a directory only when it makes that directory here; an existing one must already be
 * the user's, with none of our files in it belonging to someone else. Taking over whatever
 * exists would hand the service, say, /var (the default ./var, run from /). 0, or 1 after one
 * line saying why. */
static int data_dir_take(const char *dir, uid_t uid, gid_t gid, const char *user)
{
	if (mkdir(dir, 0750) == 0) {
		/* Given by descriptor: what was made is what is given, whatever the path is now. */
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchown(fd, uid, gid) != 0) {
			fprintf(stderr, "trapline: data_dir %s: cannot give it to %s: %s\n", dir, user,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		fprintf(stderr, "trapline: data_dir %s: cannot create it: %s\n", dir, strerror(errno));
		return 1;
	}
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "trapline: data_dir %s: not a directory\n", dir);
		return 1;
	}
	char owner[64];
	if (sb.st_uid != uid) {
		owner_name(sb.st_uid, owner, sizeof(owner));
		fprintf(stderr, "trapline: data_dir %s belongs to %s, not to the service's user %s, "
				"and Trapline takes over only a directory it creates: name a new "
				"one, or `chown %s %s` if this one is for Trapline alone\n",
			dir, owner, user, user, dir);
		return 1;
	}
	for (size_t i = 0; i < sizeof(data_files) / sizeof(data_files[0]); i++) {
		char f[CONFIG_STR_MAX + 32];
		snprintf(f, sizeof(f), "%s/%s", dir, data_files[i]);
		struct stat fs;
		if (stat(f, &fs) == 0 && fs.st_uid != uid) {
			owner_name(fs.st_uid, owner, sizeof(owner));
			fprintf(stderr, "trapline: %s belongs to %s, but the service runs as %s: "
					"chown -R %s %s (or set the config key user)\n",
				f, owner, user, user, dir);
			return 1;
		}
	}
	return 0;
}

/* Not root: the data directory is the caller's; made with ctl_group when one is set, so that
 * its members can reach the socket. 0, or 1 after logging why. */
static int data_dir_make(const char *dir, int group)
{
	if (mkdir(dir, 0750) != 0) {
		if (errno == EEXIST)
			return 0;
		log_err("main", "cannot create data_dir=%s reason=\"%s\"", dir, strerror(errno));
		return 1;
	}
	if (group >= 0 && chown(dir, (uid_t)-1, (gid_t)group) != 0)
		log_warn("main", "cannot give data_dir=%s to ctl_group reason=\"%s\"", dir,
			 strerror(errno));
	return 0;
}

/* Takes on pw's identity for good: its group, its user, and no supplementary group but
 * ctl_group (group >= 0), which the control socket is given to. */
static int become(const struct passwd *pw, int group)
{
	gid_t g = (gid_t)group;
	if (setgroups(group >= 0 ? 1 : 0, group >= 0 ? &g : NULL) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return -1;
	return 0;
}

static int serve_drop_privileges(const struct passwd *pw, int group)
{
	if (!pw)
		return 0;
	if (become(pw, group) != 0) {
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
	if (become(pw, -1) != 0) {
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
static int serve_store_start(const struct config *cfg, int group, struct zone_handle *zone,
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
	if (ctl_server_start(path, cfg->data_dir, &svc, group, &ss->ctl) != CTL_OK)
		goto fail_writer;
	return 0;

fail_writer:
	writer_stop(ss->writer);
fail_store:
	store_close(ss->store);
	return 1;
}

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
	/* With a static file the zone is that file and the store is not used (nor the trap,
	 * which would have nowhere to record, nor the pages). */
	bool use_store = cfg.static_file[0] == '\0';
	if (use_store && (rc = config_files_check(&cfg)) != 0)
		return rc;
	struct passwd *pw = NULL;
	int group = -1;
	if ((rc = service_group(&cfg, &group)) != 0)
		return rc;
	if (geteuid() == 0 && (rc = service_user(&cfg, &pw)) != 0)
		return rc;
	sigset_t sigs;
	serve_signals(&sigs);
	log_info("main", "starting version=%s zone=%s dns=%s smtp=%s http=%s threads=%u static=%s",
		 TRAPLINE_VERSION, cfg.zone, cfg.dns_listen, use_store ? cfg.smtp_listen : "off",
		 use_store ? cfg.http_listen : "off", sc.threads, use_store ? "-" : cfg.static_file);
	if (use_store && (pw ? data_dir_take(cfg.data_dir, pw->pw_uid,
					     group >= 0 ? (gid_t)group : pw->pw_gid, pw->pw_name)
			     : data_dir_make(cfg.data_dir, group)) != 0)
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
	struct smtp_server *smtp = NULL;
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
	int brc = serve_smtp_bind(&cfg, pw, use_store, &smtp);
	if (brc != 0) {
		rc = brc;
		goto fail_server;
	}
	if (serve_web_bind(&wc, use_store, &web) != 0)
		goto fail_server;
	/* The store is opened as the user the service runs as, so that every file it creates
	 * (database, WAL, socket) stays writable by it; queries wait in the bound sockets until
	 * dns_server_start, when the writer has published the listings. */
	if (serve_drop_privileges(pw, group) != 0)
		goto fail_server;
	if (use_store && serve_store_start(&cfg, group, zone, &defaults, &ss) != 0) {
		use_store = false;
		goto fail_server;
	}
	if (serve_web_start(web, &cfg, &ss, zone) != 0)
		goto fail_server;
	if (dns_server_start(srv, zone) != DNS_OK)
		goto fail_server;
	if (smtp && smtp_server_start(smtp, ss.writer) != SMTP_OK)
		goto fail_server;
	log_info("main", "ready");
	serve_wait(&cfg, &sigs, zs);
	rc = 0;
	struct dns_stats stats;
fail_server:
	dns_server_stats(srv, &stats);
	dns_server_stop(srv);
	serve_smtp_stop(smtp);
	web_server_stop(web); /* before the writer it reads beside */
	if (use_store)
		serve_store_stop(&ss);
	if (rc == 0)
		log_info("main",
			 "stopped queries=%llu answers=%llu dropped=%llu tcp_conns=%llu "
			 "tcp_rejected=%llu tcp_rejected_client=%llu tcp_evicted=%llu "
			 "tcp_query_timeouts=%llu",
			 (unsigned long long)stats.queries, (unsigned long long)stats.answers,
			 (unsigned long long)stats.dropped, (unsigned long long)stats.tcp_conns,
			 (unsigned long long)stats.tcp_rejected,
			 (unsigned long long)stats.tcp_rejected_client,
			 (unsigned long long)stats.tcp_evicted,
			 (unsigned long long)stats.tcp_query_timeouts);
fail_zone:
	zone_static_free(zs);
	zone_reader_unregister();
	zone_handle_free(zone);
	zone_defaults_free(&defaults);
	return rc;
}

/* ---- the operator's commands ------------------------------------------------ */

/* Started as root, a command works on the data directory as the service's user, so that
 * whichever comes first (the service or a command) the files end up the service's: it
 * creates the directory for that user, and refuses a directory or a file that belongs to
 * someone else, with the line that says how to fix it (data_dir_take). 0, or an exit status. */
static int cli_take_data_dir(const struct config *cfg)
{
	if (geteuid() != 0)
		return 0;
	struct passwd *pw;
	int group, rc;
	if ((rc = service_group(cfg, &group)) != 0 || (rc = service_user(cfg, &pw)) != 0)
		return rc;
	if (data_dir_take(cfg->data_dir, pw->pw_uid, group >= 0 ? (gid_t)group : pw->pw_gid,
			  pw->pw_name) != 0)
		return CTL_EXIT_FAIL;
	/* Effective IDs only: the files this command creates are the service's, and root is
	 * back for what the caller asked to be written elsewhere (export --out). */
	if (setegid(pw->pw_gid) != 0 || seteuid(pw->pw_uid) != 0) {
		fprintf(stderr, "trapline: cannot become %s: %s\n", pw->pw_name, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* Back to root after cli_take_data_dir (nothing when it did not switch). */
static void cli_back_to_root(void)
{
	if (getuid() == 0 && geteuid() != 0 && (seteuid(0) != 0 || setegid(0) != 0))
		fprintf(stderr, "trapline: cannot switch back to root: %s\n", strerror(errno));
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
	int rc = cli_take_data_dir(cfg);
	if (rc)
		return rc;
	if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
		fprintf(stderr, "trapline: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	rc = store_open(cfg->data_dir, out);
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

/* No service answers: the data directory opened by the command itself, with a writer of its
 * own (no DNS), so that the same policy path decides. Opened once for all the requests of a
 * command (report FILE...). */
struct cli_local {
	struct store *store, *reader;
	struct zone_defaults defaults;
	struct writer_config wc;
	struct zone_handle *zone;
	struct writer *writer;
	struct ctl_service svc;
	char who[CTL_WHO_MAX];
};

/* Returns 0, or an exit status after saying why. */
static int cli_local_open(const struct config *cfg, struct cli_local *l)
{
	memset(l, 0, sizeof(*l));
	cli_who(l->who, sizeof(l->who));
	int status = cli_store_open(cfg, &l->store);
	if (status)
		return status;
	zone_defaults_from(cfg, &l->defaults);
	l->zone = zone_handle_new();
	if (!l->zone)
		goto fail_store;
	writer_config_from(cfg, false, &l->wc);
	zone_reader_register();
	int rc = writer_start(&l->wc, l->store, l->zone, &l->defaults, &l->writer);
	if (rc != WRITER_OK) {
		fprintf(stderr, "trapline: cannot start the writer: %s\n", tl_strerror(rc));
		goto fail_zone;
	}
	rc = store_open_mode(cfg->data_dir, false, &l->reader);
	if (rc != STORE_OK) {
		fprintf(stderr, "trapline: cannot read the store: %s\n", tl_strerror(rc));
		goto fail_writer;
	}
	ctl_service_init(&l->svc, cfg, l->writer, l->reader, l->zone);
	return 0;

fail_writer:
	writer_stop(l->writer);
fail_zone:
	zone_reader_unregister();
	zone_handle_free(l->zone);
fail_store:
	store_close(l->store);
	zone_defaults_free(&l->defaults);
	return CTL_EXIT_FAIL;
}

static void cli_local_close(struct cli_local *l)
{
	store_close(l->reader);
	writer_stop(l->writer);
	zone_reader_unregister();
	zone_handle_free(l->zone);
	store_close(l->store);
	zone_defaults_free(&l->defaults);
}

/* Where a command's requests go: the service's socket, or, from the first time no service
 * answers, the data directory itself. */
struct cli_runner {
	const struct config *cfg;
	char sock[CONFIG_STR_MAX + 16];
	bool local, opened;
	struct cli_local loc;
};

/* Runs one request; its answer to out, its error to stderr. An exit status. */
static int cli_run_one(struct cli_runner *run, const struct ctl_request *req, FILE *out)
{
	int status = CTL_EXIT_FAIL;
	if (!run->local) {
		int rc = ctl_client_call(run->sock, req, out, stderr, &status);
		if (rc == CTL_OK)
			return status;
		if (rc == CTL_EIO && (errno == EACCES || errno == EPERM)) {
			fprintf(stderr, "trapline: %s: permission denied: the service's control socket "
					"is for its user (%s), root%s%s; run the command as one of "
					"them\n",
				run->sock, run->cfg->user,
				run->cfg->ctl_group[0] ? " and the group " : "",
				run->cfg->ctl_group);
			return CTL_EXIT_FAIL;
		}
		if (rc != CTL_ENOSERVICE) {
			fprintf(stderr, "trapline: control socket %s: %s%s%s\n", run->sock,
				tl_strerror(rc), rc == CTL_EIO ? ": " : "",
				rc == CTL_EIO ? strerror(errno) : "");
			return CTL_EXIT_FAIL;
		}
		run->local = true;
	}
	if (!run->opened) {
		if ((status = cli_local_open(run->cfg, &run->loc)) != 0)
			return status;
		run->opened = true;
	}
	return ctl_execute(&run->loc.svc, req, run->loc.who, out, stderr);
}

static void cli_runner_end(struct cli_runner *run)
{
	if (run->opened)
		cli_local_close(&run->loc);
	if (run->local)
		cli_back_to_root();
}

/* Where an operator's command sends its answer, and its own options. */
struct cli_ctl_args {
	const char *out_path; /* export --out */
	bool data_given;
	bool help;
	char file_key[32];    /* the key naming files (report's FILE, --trusted-relays) */
	const char **files;   /* their names, in order: each one a request */
	size_t n_files;
};

/* A file named by a FILE key: kept for later, when each becomes a request of its own. */
static int cli_file_arg(const struct ctl_command *c, const char *key, const char *value,
			struct cli_ctl_args *a)
{
	char err[CTL_ERR_MAX];
	struct ctl_request probe;
	ctl_request_init(&probe, c->name, err, sizeof(err));
	if (ctl_request_set(&probe, key, value, err, sizeof(err)) != CTL_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return EXIT_USAGE;
	}
	bool repeats = ctl_command_repeats(c) && strcmp(c->positional, key) == 0;
	if (a->n_files > 0 && !repeats) {
		fprintf(stderr, "trapline: --%s given twice\n", key);
		return EXIT_USAGE;
	}
	const char **more = realloc(a->files, (a->n_files + 1) * sizeof(*more));
	if (!more) {
		fprintf(stderr, "trapline: out of memory\n");
		return CTL_EXIT_FAIL;
	}
	a->files = more;
	a->files[a->n_files++] = value;
	snprintf(a->file_key, sizeof(a->file_key), "%s", key);
	return 0;
}

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
	if ((strcmp(key, "data") == 0 && a->data_given) || (strcmp(key, "out") == 0 && a->out_path)) {
		fprintf(stderr, "trapline: %s given twice\n", flag);
		return EXIT_USAGE;
	}
	if (strcmp(key, "data") == 0) {
		a->data_given = true;
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
	if (ctl_key_is_file(key))
		return cli_file_arg(c, key, value, a);
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
		/* "-" alone is a file: standard input. */
		if (strncmp(argv[i], "--", 2) == 0) {
			if ((rc = cli_ctl_option(c, argc, argv, &i, cfg, req, a)) != 0)
				return rc;
			continue;
		}
		if (c->positional && ctl_key_is_file(c->positional)) {
			if ((rc = cli_file_arg(c, c->positional, argv[i], a)) != 0)
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

static int cli_read_limited(const char *path, size_t max, char **buf, size_t *len, bool *too_big);

/* Reads path as the user who runs the command: a command run as root works on the data
 * directory as the service's user once it opened it itself (cli_take_data_dir), but the files
 * it was given are the caller's to read. */
static int cli_read_as_caller(const char *path, size_t max, char **buf, size_t *len,
			      bool *too_big)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	bool swap = getuid() == 0 && euid != 0;
	if (swap && (seteuid(0) != 0 || setegid(0) != 0))
		return -1;
	int rc = cli_read_limited(path, max, buf, len, too_big);
	int saved = errno;
	if (swap && (setegid(egid) != 0 || seteuid(euid) != 0)) {
		fprintf(stderr, "trapline: cannot switch back to uid %u: %s\n", (unsigned)euid,
			strerror(errno));
		if (rc == 0)
			free(*buf);
		errno = EPERM;
		return -1;
	}
	errno = saved;
	return rc;
}

/* The worse of two exit statuses: a failure over bad input over success. */
static int cli_worse(int a, int b)
{
	if (a == CTL_EXIT_FAIL || b == CTL_EXIT_FAIL)
		return CTL_EXIT_FAIL;
	return a ? a : b;
}

/* One request per file named (report FILE..., reporter add --trusted-relays FILE): the file is
 * read here, as the operator who runs the command, and sent as the request's body. Answers in
 * JSON of a repeating command make one array. An exit status. */
static int cli_ctl_files(struct cli_runner *run, const struct ctl_request *req,
			 const struct cli_ctl_args *a, FILE *out)
{
	bool array = req->json && ctl_command_repeats(req->cmd);
	int worst = CTL_EXIT_OK;
	size_t shown = 0;
	if (array)
		fputs("[", out);
	for (size_t i = 0; i < a->n_files; i++) {
		const char *path = a->files[i];
		const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
		struct ctl_request one = *req;
		char err[CTL_ERR_MAX], *body = NULL, *ans = NULL;
		size_t len = 0, alen = 0;
		bool too_big = false;
		int status = EXIT_USAGE;
		if (ctl_request_set(&one, a->file_key, name, err, sizeof(err)) != CTL_OK)
			fprintf(stderr, "trapline: %s\n", err);
		else if (cli_read_as_caller(path, CTL_BODY_MAX, &body, &len, &too_big) != 0)
			fprintf(stderr, "trapline: %s: %s\n", name, strerror(errno));
		else if (too_big)
			fprintf(stderr, "trapline: %s: larger than %u bytes (%u MiB), the most a "
					"request may carry\n",
				name, CTL_BODY_MAX, CTL_BODY_MAX >> 20);
		else if (ctl_request_attach(&one, body, len, err, sizeof(err)) != CTL_OK)
			fprintf(stderr, "trapline: %s: %s\n", name, err);
		else {
			FILE *dst = array ? open_memstream(&ans, &alen) : out;
			if (!array && shown > 0)
				fputc('\n', out); /* a blank line between the answers */
			status = dst ? cli_run_one(run, &one, dst) : CTL_EXIT_FAIL;
			if (array && dst)
				fclose(dst);
		}
		free(body);
		if (status == CTL_EXIT_OK && array && ans) {
			while (alen > 0 && ans[alen - 1] == '\n')
				alen--;
			fprintf(out, "%s%.*s", shown ? ",\n" : "\n", (int)alen, ans);
		}
		shown += status == CTL_EXIT_OK;
		free(ans);
		worst = cli_worse(worst, status);
	}
	if (array)
		fputs(shown ? "\n]\n" : "]\n", out);
	return worst;
}

/* The usage of every command that starts with c's first word, when one of them is the binary's
 * own (report and report analyse): which of them was meant is not obvious. */
static void cli_usage_shared(FILE *f, const struct ctl_command *c)
{
	size_t len = strcspn(c->words, " ");
	bool shared = false;
	for (size_t i = 0; i < N_CLI_COMMANDS; i++)
		shared |= strncmp(cli_commands[i].word, c->words, len) == 0 &&
			  cli_commands[i].word[len] == ' ';
	if (!shared)
		return;
	size_t n;
	const struct ctl_command *all = ctl_commands(&n);
	for (size_t i = 0; i < n; i++)
		if (strncmp(all[i].words, c->words, len) == 0 &&
		    (all[i].words[len] == ' ' || all[i].words[len] == '\0'))
			fprintf(f, "usage: trapline %s %s\n", all[i].words, all[i].usage);
	for (size_t i = 0; i < N_CLI_COMMANDS; i++)
		if (strncmp(cli_commands[i].word, c->words, len) == 0 &&
		    cli_commands[i].word[len] == ' ')
			fprintf(f, "usage: trapline %s %s\n", cli_commands[i].word,
				cli_commands[i].usage);
}

/* The request's own checks, here, before any file is read or any data directory opened, so
 * that bad usage changes nothing at all (the service checks again on its clock). The first
 * file stands for all: each is checked for what it holds when it is sent. */
static int cli_ctl_precheck(const struct ctl_command *c, const struct ctl_request *req,
			    const struct cli_ctl_args *a)
{
	struct ctl_request probe = *req;
	char err[CTL_ERR_MAX];
	int rc = CTL_OK;
	if (a->n_files > 0) {
		const char *first = strcmp(a->files[0], "-") == 0 ? "standard input" : a->files[0];
		rc = ctl_request_set(&probe, a->file_key, first, err, sizeof(err));
		if (rc == CTL_OK)
			rc = ctl_request_attach(&probe, "", 0, err, sizeof(err));
	}
	if (rc == CTL_OK)
		rc = ctl_request_check(&probe, time_now(), err, sizeof(err));
	if (rc == CTL_OK)
		return 0;
	fprintf(stderr, "trapline: %s\n", err);
	cli_usage_shared(stderr, c);
	return EXIT_USAGE;
}

/* One line typed without echo (a terminal), or what standard input holds, at most max bytes:
 * the password of moderator add. 0, or an exit status after saying why. */
static int cli_read_secret(size_t max, char **buf, size_t *len)
{
	if (isatty(STDIN_FILENO)) {
		struct termios old, quiet;
		if (tcgetattr(STDIN_FILENO, &old) != 0)
			return CTL_EXIT_FAIL;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fprintf(stderr, "password: ");
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		char *line = NULL;
		size_t cap = 0;
		ssize_t n = getline(&line, &cap, stdin);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
		if (n < 0) {
			free(line);
			fprintf(stderr, "trapline: no password given\n");
			return EXIT_USAGE;
		}
		*buf = line;
		*len = (size_t)n > max ? max + 1 : (size_t)n;
		return 0;
	}
	bool too_big = false;
	if (cli_read_limited("-", max, buf, len, &too_big) != 0) {
		fprintf(stderr, "trapline: standard input: %s\n", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (too_big)
		*len = max + 1; /* refused by the command as too long */
	return 0;
}

static int cmd_ctl(const struct ctl_command *c, int argc, char **argv)
{
	struct config cfg;
	struct ctl_request req;
	struct cli_ctl_args a = {NULL, false, false, "", NULL, 0};
	int rc = cli_ctl_args(c, argc, argv, &cfg, &req, &a);
	if (rc || a.help) {
		if (a.help)
			ctl_command_help(stdout, c);
		free(a.files);
		return rc;
	}
	if ((rc = cli_ctl_precheck(c, &req, &a)) != 0) {
		free(a.files);
		return rc;
	}
	log_set_level(LOG_LEVEL_WARN);
	FILE *out = stdout;
	char tmp[CONFIG_STR_MAX + 8];
	if (a.out_path) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", a.out_path);
		out = fopen(tmp, "w");
		if (!out) {
			fprintf(stderr, "trapline: cannot write %s: %s\n", tmp, strerror(errno));
			free(a.files);
			return CTL_EXIT_FAIL;
		}
	}
	/* moderator add: the password from standard input, as the request's body (it stays on
	 * this machine: the control socket is the service's user's and root's alone). */
	char *secret = NULL;
	size_t secret_len = 0;
	if (ctl_command_body_from_stdin(c)) {
		char err[CTL_ERR_MAX];
		rc = cli_read_secret(CTL_PASSWORD_MAX + 2, &secret, &secret_len);
		if (rc == 0 && ctl_request_attach(&req, secret ? secret : "", secret ? secret_len : 0,
						  err, sizeof(err)) != CTL_OK) {
			fprintf(stderr, "trapline: %s\n", err);
			rc = EXIT_USAGE;
		}
		if (rc != 0) {
			free(secret);
			free(a.files);
			return cli_out_finish(out, a.out_path, tmp, rc);
		}
	}
	struct cli_runner run;
	memset(&run, 0, sizeof(run));
	run.cfg = &cfg;
	cli_ctl_socket_path(&cfg, run.sock, sizeof(run.sock));
	int status = a.n_files > 0 ? cli_ctl_files(&run, &req, &a, out) : cli_run_one(&run, &req, out);
	cli_runner_end(&run);
	if (secret) {
		explicit_bzero(secret, secret_len);
		free(secret);
	}
	free(a.files);
	return cli_out_finish(out, a.out_path, tmp, status);
}

/* ---- report analyse ----------------------------------------------------------------- */
/* A local command (no data directory, no service): which address sent a message, by its
 * Received chain. */

#define REPORT_USAGE "usage: trapline report analyse --trusted-relays FILE [--json] MESSAGE\n"
#define REPORT_TRUST_MAX (1u << 20) /* bytes of a trusted-relays file */

/* Reads path ("-": standard input) into *buf, at most max bytes; *too_big when there was more.
 * 0, or -1 with errno set. */
static int cli_read_limited(const char *path, size_t max, char **buf, size_t *len, bool *too_big)
{
	bool std_in = strcmp(path, "-") == 0;
	FILE *f = std_in ? stdin : fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 0, n = 0;
	char *b = NULL;
	int rc = 0;
	for (;;) {
		if (n == cap) {
			size_t want = cap ? cap * 2 : 65536;
			want = want > max + 1 ? max + 1 : want;
			if (want == cap)
				break; /* max + 1 bytes read: too big, stop reading */
			char *p = realloc(b, want);
			if (!p) {
				errno = ENOMEM;
				rc = -1;
				break;
			}
			b = p;
			cap = want;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = -1;
			break;
		}
	}
	int saved = errno;
	if (!std_in)
		fclose(f);
	if (rc != 0) {
		free(b);
		errno = saved;
		return -1;
	}
	*buf = b;
	*len = n > max ? max : n;
	*too_big = n > max;
	return 0;
}

static int report_trust_read(const char *path, struct mail_trust *t)
{
	char *text = NULL, err[256];
	size_t len, line = 0;
	bool too_big;
	if (cli_read_limited(path, REPORT_TRUST_MAX, &text, &len, &too_big) != 0) {
		fprintf(stderr, "trapline: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	if (too_big) {
		fprintf(stderr, "trapline: %s: larger than %u bytes, not a list of relays\n", path,
			REPORT_TRUST_MAX);
		free(text);
		return EXIT_USAGE;
	}
	int rc = mail_trust_parse(t, text, len, &line, err, sizeof(err));
	free(text);
	if (rc == MAIL_EINVAL) {
		fprintf(stderr, "trapline: %s:%zu: %s\n", path, line, err);
		return EXIT_USAGE;
	}
	if (rc != MAIL_OK) {
		fprintf(stderr, "trapline: %s: %s\n", path, tl_strerror(rc));
		return 1;
	}
	return 0;
}

/* Runs the analysis of the message at path and prints it. 0 source found, 1 refused. */
static int report_analyse_file(const char *path, const struct mail_trust *t, bool json)
{
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	char *msg = NULL, *out = NULL;
	size_t len;
	bool too_big;
	if (cli_read_limited(path, MAIL_REPORT_MAX, &msg, &len, &too_big) != 0) {
		fprintf(stderr, "trapline: %s: %s\n", name, strerror(errno));
		return EXIT_USAGE;
	}
	if (too_big) {
		fprintf(stderr, "trapline: %s: larger than %u bytes (%u MiB), the most a report may "
				"have\n", name, MAIL_REPORT_MAX, MAIL_REPORT_MAX >> 20);
		free(msg);
		return EXIT_USAGE;
	}
	struct mail_report_options opt = {.trust = t, .classify = mail_classify_word,
					  .classify_arg = NULL};
	struct mail_analysis a;
	int rc = mail_report_analyse(msg, len, &opt, &a);
	free(msg);
	int status = rc == MAIL_OK ? (a.has_source ? 0 : 1) : rc == MAIL_ENOMEM ? 1 : EXIT_USAGE;
	if (rc != MAIL_OK)
		fprintf(stderr, "trapline: %s: %s\n", name, rc == MAIL_ENOMEM ? tl_strerror(rc) : a.error);
	else if ((json ? mail_analysis_json(&a, &out) : mail_analysis_text(&a, &out)) != MAIL_OK)
		status = 1;
	if (out)
		printf(json ? "%s\n" : "%s", out);
	free(out);
	mail_analysis_free(&a);
	return status;
}

static int cmd_report_analyse(int argc, char **argv)
{
	const char *trusted = NULL, *message = NULL;
	bool json = false;
	for (int i = 0; i < argc; i++) {
		bool is_trusted = strcmp(argv[i], "--trusted-relays") == 0 ||
				  strncmp(argv[i], "--trusted-relays=", 17) == 0;
		if ((is_trusted && trusted) || (strcmp(argv[i], "--json") == 0 && json)) {
			fprintf(stderr, "trapline: %.16s given twice\n", argv[i]);
			return EXIT_USAGE;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--trusted-relays") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "trapline: --trusted-relays needs a FILE\n" REPORT_USAGE);
				return EXIT_USAGE;
			}
			trusted = argv[i];
		} else if (strncmp(argv[i], "--trusted-relays=", 17) == 0) {
			trusted = argv[i] + 17;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(REPORT_USAGE, stdout);
			return 0;
		} else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !message) {
			message = argv[i];
		} else {
			fprintf(stderr, "trapline: report analyse: unexpected argument '%s'\n"
					REPORT_USAGE, argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!trusted || !message) {
		fprintf(stderr, "trapline: report analyse: %s\n" REPORT_USAGE,
			!trusted ? "--trusted-relays FILE is required (it may be empty)"
				 : "MESSAGE is required (a file, or - for standard input)");
		return EXIT_USAGE;
	}
	struct mail_trust t;
	mail_trust_init(&t);
	int rc = report_trust_read(trusted, &t);
	if (rc == 0)
		rc = report_analyse_file(message, &t, json);
	mail_trust_free(&t);
	return rc;
}

/* ---- classify ----------------------------------------------------------------------- */

#define CLASSIFY_USAGE "usage: trapline classify [--json] MESSAGE (a file, or - for standard input)\n"

/* `trapline classify [--json] MESSAGE`: the class the trap would give MESSAGE arriving as it
 * is (the envelope sender taken from its Return-Path), and the signals that decided it. */
static int cmd_classify(int argc, char **argv)
{
	bool json = false;
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(CLASSIFY_USAGE, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--json") == 0 && !json) {
			json = true;
		} else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
			path = argv[i];
		} else {
			fprintf(stderr, "trapline: classify: unexpected argument '%s'\n" CLASSIFY_USAGE,
				argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!path) {
		fprintf(stderr, "trapline: classify: MESSAGE is required\n" CLASSIFY_USAGE);
		return EXIT_USAGE;
	}
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	char *msg = NULL;
	size_t len = 0;
	bool too_big;
	if (cli_read_limited(path, MAIL_REPORT_MAX, &msg, &len, &too_big) != 0) {
		fprintf(stderr, "trapline: %s: %s\n", name, strerror(errno));
		return EXIT_USAGE;
	}
	if (too_big) {
		fprintf(stderr, "trapline: %s: larger than %u bytes (%u MiB)\n", name,
			MAIL_REPORT_MAX, MAIL_REPORT_MAX >> 20);
		free(msg);
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
	/* serve started as root refuses a user that does not exist, or nobody: say so now. */
	struct passwd *pw;
	int group, rc;
	if ((rc = service_user(&cfg, &pw)) != 0 || (rc = service_group(&cfg, &group)) != 0 ||
	    (rc = config_files_check(&cfg)) != 0)
		return rc;
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
		if (ctl_words_match(cli_commands[i].word, argc, argv)) {
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
#ifdef TRAPLINE_INSTALLED_DATA_DIR
	/* The installed binary keeps its data where a system keeps a service's state; the one in
	 * a checkout keeps ./var beside the sources. */
	if (config_default_set("data_dir", TRAPLINE_INSTALLED_DATA_DIR) != BASE_OK)
		return 1;
#endif
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (is_help(argv[1]) || strcmp(argv[1], "--version") == 0)
		return is_help(argv[1]) ? cmd_help(0, NULL) : cmd_version(0, NULL);
	for (size_t i = 0; i < N_CLI_COMMANDS; i++) {
		int used = ctl_words_match(cli_commands[i].word, argc - 1, argv + 1);
		if (used)
			return cli_commands[i].main(argc - 1 - used, argv + 1 + used);
	}
	int used = 0;
	const struct ctl_command *c = ctl_command_match(argc - 1, argv + 1, &used);
	if (c)
		return cmd_ctl(c, argc - 1 - used, argv + 1 + used);
	/* The first word of a longer command ("evidence", "report"): show what it takes. */
	size_t n, len = strlen(argv[1]);
	const struct ctl_command *all = ctl_commands(&n);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(all[i].words, argv[1], len) == 0 && all[i].words[len] == ' ') {
			fprintf(stderr, "trapline: %s needs a sub-command\n", argv[1]);
			ctl_command_help(stderr, &all[i]);
			return EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < N_CLI_COMMANDS; i++) {
		const char *w = cli_commands[i].word;
		if (strncmp(w, argv[1], len) == 0 && w[len] == ' ') {
			fprintf(stderr, "trapline: %s needs a sub-command\nusage: trapline %s %s\n",
				argv[1], w, cli_commands[i].usage);
			return EXIT_USAGE;
		}
	}
	fprintf(stderr, "trapline: unknown command '%s' (see trapline help)\n", argv[1]);
	return EXIT_USAGE;
}
