/* cli_help.c - the binary's own commands (a table: serve, the tools, help) and the help that
 * prints them with the operator's commands of ctl's table. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"

/* The binary's own commands (no service, or the service itself); help prints these, then the
 * operator's commands. */
static const struct cli_command own_commands[] = {
	{"serve", "[--config FILE] [options]",
	 "run the service (DNS, the spamtrap, the writer, the control socket)",
	 NULL /* the wiring's: cli_main calls the serve it is given */},
	{"check-config", "FILE", "validate a configuration file, print every key with its help",
	 cli_check_config},
	{"config-template", "", "print the commented default configuration (etc/trapline.conf)",
	 cli_config_template},
	{"report analyse", "--trusted-relays FILE [--json] MESSAGE",
	 "which address sent MESSAGE, from its Received chain (no data directory)",
	 cli_report_analyse},
	{"classify", "[--json] MESSAGE",
	 "the class the spamtrap would give MESSAGE, and the signals that decided it",
	 cli_classify},
	{"status", "[--data DIR] [--config FILE] [--json]",
	 "the service's figures (the operator's `status` below); on a trap node, hits waiting "
	 "in the spool and the last forward to the primary",
	 cli_status},
	{"version", "", "print the version", cli_version},
	{"man", "8|5", "print the manual page trapline(8) or trapline.conf(5) as roff (man -l -)",
	 cli_man},
	{"help", "[COMMAND]", "this summary, or one command's usage", cli_help},
};

#define N_CLI_COMMANDS (sizeof(own_commands) / sizeof(own_commands[0]))

const struct cli_command *cli_commands(size_t *n)
{
	*n = N_CLI_COMMANDS;
	return own_commands;
}

void cli_usage(FILE *f)
{
	fprintf(f, "usage: trapline COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < N_CLI_COMMANDS; i++)
		fprintf(f, "  trapline %s%s%s\n      %s\n", own_commands[i].word,
			own_commands[i].usage[0] ? " " : "", own_commands[i].usage, own_commands[i].help);
	fprintf(f, "\nThe operator's commands (each also takes --data DIR and --config FILE):\n");
	size_t n;
	const struct ctl_command *c = ctl_commands(&n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  trapline %s %s\n      %s\n", c[i].words, c[i].usage, c[i].help);
	fprintf(f, "\n");
	cli_serve_options_help(f);
	fprintf(f, "\nA command-line option overrides the config file. TIME is ISO 8601 UTC "
		   "(2026-11-21T10:00:00Z).\nThe operator's commands talk to the running service "
		   "through DATA_DIR/trapline.sock,\nor work on DATA_DIR themselves when no service "
		   "runs. --json prints the answer as JSON\n(docs/api.md). Exit status 2: bad usage, "
		   "configuration or input (nothing was\nchanged); 1: the command failed. "
		   "`trapline COMMAND --help` shows one command.\n");
}

/* Which of them was meant is not obvious. */
void cli_usage_shared(FILE *f, const struct ctl_command *c)
{
	size_t len = strcspn(c->words, " ");
	bool shared = false;
	for (size_t i = 0; i < N_CLI_COMMANDS; i++)
		shared |= strncmp(own_commands[i].word, c->words, len) == 0 &&
			  own_commands[i].word[len] == ' ';
	if (!shared)
		return;
	size_t n;
	const struct ctl_command *all = ctl_commands(&n);
	for (size_t i = 0; i < n; i++)
		if (strncmp(all[i].words, c->words, len) == 0 &&
		    (all[i].words[len] == ' ' || all[i].words[len] == '\0'))
			fprintf(f, "usage: trapline %s %s\n", all[i].words, all[i].usage);
	for (size_t i = 0; i < N_CLI_COMMANDS; i++)
		if (strncmp(own_commands[i].word, c->words, len) == 0 &&
		    own_commands[i].word[len] == ' ')
			fprintf(f, "usage: trapline %s %s\n", own_commands[i].word,
				own_commands[i].usage);
}

int cli_help(int argc, char **argv)
{
	if (argc == 0) {
		cli_usage(stdout);
		return 0;
	}
	int used = 0;
	const struct ctl_command *c = ctl_command_match(argc, argv, &used);
	if (c) {
		ctl_command_help(stdout, c);
		return 0;
	}
	for (size_t i = 0; i < N_CLI_COMMANDS; i++) {
		if (ctl_words_match(own_commands[i].word, argc, argv)) {
			printf("usage: trapline %s %s\n  %s\n", own_commands[i].word,
			       own_commands[i].usage, own_commands[i].help);
			if (!own_commands[i].main) /* serve */
				cli_serve_options_help(stdout);
			return 0;
		}
	}
	fprintf(stderr, "trapline: no command '%s' (see trapline help)\n", argv[0]);
	return CTL_EXIT_USAGE;
}
