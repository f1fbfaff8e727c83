/* cli_tools.c - the binary's commands that need no data directory nor service: what a message's
 * Received chain says (report analyse), what the trap would make of it (classify), whether a
 * configuration holds (check-config), the commented defaults, the version. */
#include <jansson.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_internal.h"
#include "mail/mail.h"

/* ---- report analyse ----------------------------------------------------------------- */
/* A local command (no data directory, no service): which address sent a message, by its
 * Received chain. */

#define REPORT_USAGE "usage: trapline report analyse --trusted-relays FILE [--json] MESSAGE\n"
#define REPORT_TRUST_MAX (1u << 20) /* bytes of a trusted-relays file */

static int report_trust_read(const char *path, struct mail_trust *t)
{
	char *text = NULL, err[256];
	size_t len, line = 0;
	int rc = cli_read_input(path, REPORT_TRUST_MAX, ", not a list of relays", &text, &len);
	if (rc)
		return rc;
	rc = mail_trust_parse(t, text, len, &line, err, sizeof(err));
	free(text);
	if (rc == MAIL_EINVAL) {
		fprintf(stderr, "trapline: %s:%zu: %s\n", path, line, err);
		return CTL_EXIT_USAGE;
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
	int rc = cli_read_input(path, MAIL_REPORT_MAX, ", the most a report may have", &msg, &len);
	if (rc)
		return rc;
	struct mail_report_options opt = {.trust = t, .classify = mail_classify_word,
					  .classify_arg = NULL};
	struct mail_analysis a;
	rc = mail_report_analyse(msg, len, &opt, &a);
	free(msg);
	int status = rc == MAIL_OK ? (a.has_source ? 0 : 1) : rc == MAIL_ENOMEM ? 1 : CTL_EXIT_USAGE;
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

int cli_report_analyse(int argc, char **argv)
{
	const char *trusted = NULL, *message = NULL;
	bool json = false;
	for (int i = 0; i < argc; i++) {
		bool is_trusted = strcmp(argv[i], "--trusted-relays") == 0 ||
				  strncmp(argv[i], "--trusted-relays=", 17) == 0;
		if ((is_trusted && trusted) || (strcmp(argv[i], "--json") == 0 && json)) {
			fprintf(stderr, "trapline: %.16s given twice\n", argv[i]);
			return CTL_EXIT_USAGE;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--trusted-relays") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "trapline: --trusted-relays needs a FILE\n" REPORT_USAGE);
				return CTL_EXIT_USAGE;
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
			return CTL_EXIT_USAGE;
		}
	}
	if (!trusted || !message) {
		fprintf(stderr, "trapline: report analyse: %s\n" REPORT_USAGE,
			!trusted ? "--trusted-relays FILE is required (it may be empty)"
				 : "MESSAGE is required (a file, or - for standard input)");
		return CTL_EXIT_USAGE;
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
int cli_classify(int argc, char **argv)
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
			return CTL_EXIT_USAGE;
		}
	}
	if (!path) {
		fprintf(stderr, "trapline: classify: MESSAGE is required\n" CLASSIFY_USAGE);
		return CTL_EXIT_USAGE;
	}
	char *msg = NULL;
	size_t len = 0;
	int rc = cli_read_input(path, MAIL_REPORT_MAX, "", &msg, &len);
	if (rc)
		return rc;
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

/* ---- the configuration and the binary ------------------------------------------------ */

int cli_check_config(int argc, char **argv)
{
	if (argc != 1 || cli_is_help(argv[0])) {
		fprintf(argc == 1 ? stdout : stderr, "usage: trapline check-config FILE\n");
		return argc == 1 ? 0 : CTL_EXIT_USAGE;
	}
	struct config cfg;
	config_defaults(&cfg);
	char err[CONFIG_ERR_MAX];
	if (config_load_file(&cfg, argv[0], err, sizeof(err)) != BASE_OK ||
	    config_check(&cfg, err, sizeof(err)) != BASE_OK) {
		fprintf(stderr, "trapline: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	/* serve started as root refuses a user that does not exist, or nobody: say so now. */
	struct passwd *pw;
	int group, rc;
	if ((rc = cli_service_user(&cfg, &pw)) != 0 || (rc = cli_service_group(&cfg, &group)) != 0 ||
	    (rc = cli_config_files_check(&cfg)) != 0)
		return rc;
	printf("# %s: ok\n", argv[0]);
	config_print(stdout, &cfg);
	return 0;
}

int cli_config_template(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	config_template(stdout);
	return 0;
}

int cli_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("trapline %s\n", CLI_VERSION);
	return 0;
}
