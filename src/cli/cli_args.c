/* cli_args.c - reading a command line: --config and the file it names, serve's options (a table
 * of flags and the config key each one sets), and the files a configuration names. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_internal.h"
#include "dns/dns.h"
#include "smtp/smtp.h"
#include "web/web.h"

/* Command-line options of `serve` and the config key each one sets (struct cli_option):
 * adding an option is adding a row. */
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
	{"--forward", "forward_url", "URL", "run as a trap node forwarding its hits to this primary"},
	{"--forward-key", "forward_key", "KEY", "the primary's feed key for this node (tlf_...)"},
};

#define N_SERVE_OPTIONS (sizeof(serve_options) / sizeof(serve_options[0]))

const struct cli_option *cli_serve_options(size_t *n)
{
	*n = N_SERVE_OPTIONS;
	return serve_options;
}

void cli_serve_options_help(FILE *f)
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

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static const struct cli_option *cli_option_find(const char *flag)
{
	for (size_t i = 0; i < N_SERVE_OPTIONS; i++)
		if (strcmp(serve_options[i].flag, flag) == 0)
			return &serve_options[i];
	return NULL;
}

/* The file --config names over the defaults into cfg: 0, or CTL_EXIT_USAGE with why in err. */
static int config_file_read(int argc, char **argv, struct config *cfg, char *err, size_t cap)
{
	config_defaults(cfg);
	bool read = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") != 0 && strncmp(argv[i], "--config=", 9) != 0)
			continue;
		if (read) {
			snprintf(err, cap, "--config given twice");
			return CTL_EXIT_USAGE;
		}
		read = true;
		const char *path = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
		if (!path) {
			snprintf(err, cap, "--config needs a FILE");
			return CTL_EXIT_USAGE;
		}
		if (config_load_file(cfg, path, err, cap) != BASE_OK)
			return CTL_EXIT_USAGE;
	}
	return 0;
}

int cli_config_file(int argc, char **argv, struct config *cfg)
{
	char err[CONFIG_ERR_MAX];
	int rc = config_file_read(argc, argv, cfg, err, sizeof(err));
	if (rc)
		fprintf(stderr, "trapline: %s\n", err);
	return rc;
}

const char *cli_flag_split(const char *arg, char *flag, size_t cap)
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

/* serve's arguments (not --help): the file, then every option over it, then the checks
 * between keys. 0, or CTL_EXIT_USAGE with why in err. */
static int serve_config_read(int argc, char **argv, struct config *cfg, char *err, size_t cap)
{
	int rc = config_file_read(argc, argv, cfg, err, cap);
	if (rc)
		return rc;
	char why[CONFIG_ERR_MAX];
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
			snprintf(err, cap, "unknown option '%s' (see trapline serve --help)", argv[i]);
			return CTL_EXIT_USAGE;
		}
		if (seen[opt - serve_options]) {
			snprintf(err, cap, "%s given twice", opt->flag);
			return CTL_EXIT_USAGE;
		}
		seen[opt - serve_options] = true;
		if (!opt->arg) {
			if (value) {
				snprintf(err, cap, "%s takes no value", opt->flag);
				return CTL_EXIT_USAGE;
			}
			value = "1";
		} else if (!value) {
			if (i + 1 >= argc) {
				snprintf(err, cap, "%s needs %s", opt->flag, opt->arg);
				return CTL_EXIT_USAGE;
			}
			value = argv[++i];
		}
		if (config_set(cfg, opt->key, value, why, sizeof(why)) != BASE_OK) {
			snprintf(err, cap, "%s: %s", opt->flag, why);
			return CTL_EXIT_USAGE;
		}
	}
	if (config_check(cfg, err, cap) != BASE_OK)
		return CTL_EXIT_USAGE;
	return 0;
}

int cli_serve_config(int argc, char **argv, struct config *cfg, bool *help)
{
	*help = argc > 0 && cli_is_help(argv[0]);
	if (*help) {
		printf("usage: trapline serve [--config FILE] [options]\n");
		cli_serve_options_help(stdout);
		return 0;
	}
	char err[CONFIG_ERR_MAX];
	int rc = serve_config_read(argc, argv, cfg, err, sizeof(err));
	if (rc)
		fprintf(stderr, "trapline: %s\n", err);
	return rc;
}

int cli_serve_config_reread(int argc, char **argv, struct config *cfg, char *err, size_t cap)
{
	return serve_config_read(argc, argv, cfg, err, cap);
}

/* The files the configuration names, read before anything starts (check-config, serve): a
 * certificate, a template folder or a public_resolvers file that is wrong is a configuration
 * error, exit 2 with the key and the file named, not a start that fails half-way. */
static int config_files_read(const struct config *cfg, char *err, size_t cap)
{
	struct smtp_server_config sc;
	bool enabled;
	if (smtp_server_config_make(cfg, &sc, &enabled, err, cap) != SMTP_OK ||
	    (enabled && smtp_tls_check(&sc, err, cap) != SMTP_OK) ||
	    web_templates_check(cfg->web_templates, err, cap) != WEB_OK)
		return CTL_EXIT_USAGE;
	if (dns_limits_check(cfg, err, cap) != DNS_OK)
		return CTL_EXIT_USAGE;
	return 0;
}

int cli_config_files_check(const struct config *cfg)
{
	char err[CONFIG_ERR_MAX];
	int rc = config_files_read(cfg, err, sizeof(err));
	if (rc)
		fprintf(stderr, "trapline: %s\n", err);
	return rc;
}

void cli_ctl_socket_path(const struct config *cfg, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/trapline.sock", cfg->data_dir);
}
