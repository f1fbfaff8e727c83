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

int cli_config_file(int argc, char **argv, struct config *cfg)
{
	config_defaults(cfg);
	char err[CONFIG_ERR_MAX];
	bool read = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") != 0 && strncmp(argv[i], "--config=", 9) != 0)
			continue;
		if (read) {
			fprintf(stderr, "trapline: --config given twice\n");
			return CTL_EXIT_USAGE;
		}
		read = true;
		const char *path = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
		if (!path) {
			fprintf(stderr, "trapline: --config needs a FILE\n");
			return CTL_EXIT_USAGE;
		}
		if (config_load_file(cfg, path, err, sizeof(err)) != BASE_OK) {
			fprintf(stderr, "trapline: %s\n", err);
			return CTL_EXIT_USAGE;
		}
	}
	return 0;
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

/* serve's arguments: the file, then every option over it, then the checks between keys. */
int cli_serve_config(int argc, char **argv, struct config *cfg, bool *help)
{
	*help = argc > 0 && cli_is_help(argv[0]);
	if (*help) {
		printf("usage: trapline serve [--config FILE] [options]\n");
		cli_serve_options_help(stdout);
		return 0;
	}
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
			return CTL_EXIT_USAGE;
		}
		if (seen[opt - serve_options]) {
			fprintf(stderr, "trapline: %s given twice\n", opt->flag);
			return CTL_EXIT_USAGE;
		}
		seen[opt - serve_options] = true;
		if (!opt->arg) {
			if (value) {
				fprintf(stderr, "trapline: %s takes no value\n", opt->flag);
				return CTL_EXIT_USAGE;
			}
			value = "1";
		} else if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "trapline: %s needs %s\n", opt->flag, opt->arg);
				return CTL_EXIT_USAGE;
			}
			value = argv[++i];
		}
		if (config_set(cfg, opt->key, value, err, sizeof(err)) != BASE_OK) {
			fprintf(stderr, "trapline: %s: %s\n", opt->flag, err);
			return CTL_EXIT_USAGE;
		}
	}
	if (config_check(cfg, err, sizeof(err)) != BASE_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

/* The files the configuration names, read before anything starts (check-config, serve): a
 * certificate, a template folder or a public_resolvers file that is wrong is a configuration
 * error, exit 2 with the key and the file named, not a start that fails half-way. */
int cli_config_files_check(const struct config *cfg)
{
	char err[CONFIG_ERR_MAX];
	struct smtp_server_config sc;
	bool enabled;
	if (smtp_server_config_make(cfg, &sc, &enabled, err, sizeof(err)) != SMTP_OK ||
	    (enabled && smtp_tls_check(&sc, err, sizeof(err)) != SMTP_OK) ||
	    web_templates_check(cfg->web_templates, err, sizeof(err)) != WEB_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	if (cfg->public_resolvers[0]) {
		struct dns_prefix_set *set = NULL;
		if (dns_prefix_set_load(cfg->public_resolvers, &set, err, sizeof(err)) != DNS_OK) {
			fprintf(stderr, "trapline: public_resolvers: %s\n", err);
			return CTL_EXIT_USAGE;
		}
		dns_prefix_set_free(set);
	}
	return 0;
}

void cli_ctl_socket_path(const struct config *cfg, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/trapline.sock", cfg->data_dir);
}
