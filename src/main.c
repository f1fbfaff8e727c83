/* main.c - the trapline binary: `trapline serve` is the wiring of the modules (the service's
 * user, binding, the privilege drop, the start of each module in order and their stop in
 * reverse); every other command line is src/cli's (the operator's commands, the tools). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "ctl/ctl.h"
#include "dns/dns.h"
#include "smtp/smtp.h"
#include "store/store.h"
#include "web/web.h"
#include "writer/writer.h"
#include "zone/zone.h"

static int serve_drop_privileges(const struct passwd *pw, int group)
{
	if (!pw)
		return 0;
	if (cli_become(pw, group) != 0) {
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
	if (cli_become(pw, -1) != 0) {
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


/* The service's store, writer and control socket (not with a static file). */
struct serve_store {
	struct store *store;
	struct writer *writer;
	struct ctl_server *ctl;
	struct writer_config wc;
};

/* The figures of GET /metrics and `trapline status`: each module's source, listed before any
 * reader (the control socket, the web) starts; the writer's joins in serve_store_start. The
 * transfers (xfr: each secondary's last transfer) and a trap node (node: spool depth, last
 * forward) add their sources here with one metrics_registry_add each. */
static void serve_metrics(struct metrics_registry *reg, struct dns_server *srv,
			  struct smtp_server *smtp, struct web_server *web)
{
	metrics_registry_init(reg);
	metrics_registry_add(reg, "dns", dns_server_metrics, srv);
	if (smtp)
		metrics_registry_add(reg, "smtp", smtp_server_metrics, smtp);
	if (web)
		metrics_registry_add(reg, "web", web_server_metrics, web);
	metrics_registry_add(reg, "reports", ctl_report_metrics, NULL);
}

/* Opens the store, starts the writer (which publishes the listings on zone before it returns)
 * and the control socket. Returns 0, or 1 after logging why. */
static int serve_store_start(const struct config *cfg, int group, struct zone_handle *zone,
			     const struct zone_defaults *defaults, struct serve_store *ss,
			     struct metrics_registry *reg)
{
	/* A command that found no service works on the directory for a moment: wait for it. */
	int rc = store_open_wait(cfg->data_dir, 10000, &ss->store);
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
	metrics_registry_add(reg, "writer", writer_metrics, ss->writer);
	struct ctl_service svc;
	ctl_service_init(&svc, cfg, ss->writer, NULL, zone);
	svc.metrics = reg;
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
 * CTL_EXIT_USAGE for a bad configuration, or 1. */
static int serve_smtp_bind(const struct config *cfg, const struct passwd *pw, bool use_store,
			   struct smtp_server **out)
{
	*out = NULL;
	struct smtp_server_config sc;
	bool enabled;
	char err[CONFIG_ERR_MAX];
	if (smtp_server_config_make(cfg, &sc, &enabled, err, sizeof(err)) != SMTP_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return CTL_EXIT_USAGE;
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
			   struct serve_store *ss, struct zone_handle *zone,
			   const struct metrics_registry *reg)
{
	if (!web)
		return 0;
	struct ctl_service svc;
	ctl_service_init(&svc, cfg, ss->writer, NULL, zone);
	svc.metrics = reg;
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

/* Until SIGTERM or SIGINT: SIGHUP reloads the configuration (cli_reload.c) and a static file,
 * and every reload_check_ms the file is looked at for changes. */
static void serve_wait(const struct config *cfg, const sigset_t *sigs, struct zone_static *zs,
		       struct cli_reload *reload, const struct cli_reload_targets *targets)
{
	struct timespec tick = {(time_t)(cfg->reload_check_ms / 1000),
				(long)(cfg->reload_check_ms % 1000) * 1000000L};
	for (;;) {
		int sig = sigtimedwait(sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("main", "stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
			return;
		}
		if (sig == SIGHUP && reload)
			cli_reload_run(reload, targets);
		if (sig == SIGHUP && zs)
			zone_static_load(zs, "sighup");
		else if (zs)
			zone_static_check(zs);
	}
}

/* `serve --forward URL`: a trap node. The trap alone, its hits committed to the node's spool,
 * which a forwarder empties into the primary; no DNS, no store of listings, no web pages. */
static int serve_node(const struct config *cfg, const struct passwd *pw, int group,
		      const sigset_t *sigs)
{
	log_info("main", "starting version=%s node smtp=%s forward=%s", CLI_VERSION,
		 cfg->smtp_listen, cfg->forward_url);
	if ((pw ? cli_data_dir_take(cfg->data_dir, pw->pw_uid,
				    group >= 0 ? (gid_t)group : pw->pw_gid, pw->pw_name)
		: cli_data_dir_make(cfg->data_dir, group)) != 0)
		return 1;
	struct smtp_server *smtp = NULL;
	int rc = serve_smtp_bind(cfg, pw, true, &smtp);
	if (rc != 0)
		return rc;
	if (!smtp) {
		fprintf(stderr, "trapline: forward_url: a trap node needs its trap (smtp_listen)\n");
		return CTL_EXIT_USAGE;
	}
	struct smtp_node_config nc;
	smtp_node_config_from(cfg, &nc);
	struct smtp_node *node = NULL;
	struct smtp_sink sink;
	rc = 1;
	if (serve_drop_privileges(pw, group) != 0 || smtp_node_start(&nc, &node) != SMTP_OK)
		goto out;
	smtp_node_sink(node, &sink);
	if (smtp_server_start_sink(smtp, &sink) != SMTP_OK)
		goto out;
	log_info("main", "ready");
	serve_wait(cfg, sigs, NULL, NULL, NULL);
	rc = 0;
out:
	serve_smtp_stop(smtp); /* before the spool: it waits for the spool's answers */
	smtp_node_stop(node);
	return rc;
}

/* `trapline serve ARGS`: the configuration, the checks that need no privilege, then each
 * module bound, privileges dropped, each started; after the signal to stop, each stopped. */
static int serve(int argc, char **argv)
{
	struct config cfg;
	bool help;
	int rc = cli_serve_config(argc, argv, &cfg, &help);
	if (rc || help)
		return rc;
	enum log_level level = LOG_LEVEL_INFO;
	log_level_parse(cfg.log_level, &level);
	log_set_level(level);
	enum log_format lf = LOG_FORMAT_TEXT;
	log_format_parse(cfg.log_format, &lf);
	log_set_format(lf);
	struct dns_server_config sc;
	char err[CONFIG_ERR_MAX];
	if (dns_server_config_from(&cfg, &sc, err, sizeof(err)) != DNS_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	struct web_config wc;
	if (web_config_from(&cfg, &wc, err, sizeof(err)) != WEB_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	/* With a static file the zone is that file and the store is not used (nor the trap,
	 * which would have nowhere to record, nor the pages). */
	bool use_store = cfg.static_file[0] == '\0';
	if (use_store && (rc = cli_config_files_check(&cfg)) != 0)
		return rc;
	struct passwd *pw = NULL;
	int group = -1;
	if ((rc = cli_service_group(&cfg, &group)) != 0)
		return rc;
	if (geteuid() == 0 && (rc = cli_service_user(&cfg, &pw)) != 0)
		return rc;
	sigset_t sigs;
	serve_signals(&sigs);
	if (cfg.forward_url[0])
		return serve_node(&cfg, pw, group, &sigs);
	log_info("main", "starting version=%s zone=%s dns=%s smtp=%s http=%s threads=%u static=%s",
		 CLI_VERSION, cfg.zone, cfg.dns_listen, use_store ? cfg.smtp_listen : "off",
		 use_store ? cfg.http_listen : "off", sc.threads, use_store ? "-" : cfg.static_file);
	if (use_store && (pw ? cli_data_dir_take(cfg.data_dir, pw->pw_uid,
					     group >= 0 ? (gid_t)group : pw->pw_gid, pw->pw_name)
			     : cli_data_dir_make(cfg.data_dir, group)) != 0)
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
	struct cli_reload *reload = NULL;
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
	struct metrics_registry reg;
	serve_metrics(&reg, srv, smtp, web);
	if (use_store && serve_store_start(&cfg, group, zone, &defaults, &ss, &reg) != 0) {
		use_store = false;
		goto fail_server;
	}
	if (serve_web_start(web, &cfg, &ss, zone, &reg) != 0)
		goto fail_server;
	if (dns_server_start(srv, zone) != DNS_OK)
		goto fail_server;
	if (smtp && smtp_server_start(smtp, ss.writer) != SMTP_OK)
		goto fail_server;
	log_info("main", "ready");
	struct cli_reload_targets targets = {ss.writer, ss.ctl, web, smtp, zs, srv};
	reload = cli_reload_new(argc, argv, &cfg);
	serve_wait(&cfg, &sigs, zs, reload, &targets);
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
	cli_reload_free(reload); /* the modules kept pointers into its configurations */
	zone_static_free(zs);
	zone_reader_unregister();
	zone_handle_free(zone);
	zone_defaults_free(&defaults);
	return rc;
}

int main(int argc, char **argv)
{
#ifdef TRAPLINE_INSTALLED_DATA_DIR
	/* The installed binary keeps its data where a system keeps a service's state; the one in
	 * a checkout keeps ./var beside the sources. */
	if (config_default_set("data_dir", TRAPLINE_INSTALLED_DATA_DIR) != BASE_OK)
		return 1;
#endif
	return cli_main(argc, argv, serve);
}
