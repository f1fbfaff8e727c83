/* cli_main.c - which command a command line names: one of the binary's own (cli_help.c's
 * table; serve is the caller's), or an operator's command of ctl's table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_internal.h"

int cli_main(int argc, char **argv, int (*serve)(int argc, char **argv))
{
	if (argc < 2) {
		cli_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (cli_is_help(argv[1]) || strcmp(argv[1], "--version") == 0)
		return cli_is_help(argv[1]) ? cli_help(0, NULL) : cli_version(0, NULL);
	size_t n_own;
	const struct cli_command *own = cli_commands(&n_own);
	for (size_t i = 0; i < n_own; i++) {
		int used = ctl_words_match(own[i].word, argc - 1, argv + 1);
		if (used)
			return (own[i].main ? own[i].main : serve)(argc - 1 - used, argv + 1 + used);
	}
	int used = 0;
	const struct ctl_command *c = ctl_command_match(argc - 1, argv + 1, &used);
	if (c)
		return cli_run(c, argc - 1 - used, argv + 1 + used);
	/* The first word of a longer command ("evidence", "report"): show what it takes. */
	size_t n, len = strlen(argv[1]);
	const struct ctl_command *all = ctl_commands(&n);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(all[i].words, argv[1], len) == 0 && all[i].words[len] == ' ') {
			fprintf(stderr, "trapline: %s needs a sub-command\n", argv[1]);
			ctl_command_help(stderr, &all[i]);
			return CTL_EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < n_own; i++) {
		const char *w = own[i].word;
		if (strncmp(w, argv[1], len) == 0 && w[len] == ' ') {
			fprintf(stderr, "trapline: %s needs a sub-command\nusage: trapline %s %s\n",
				argv[1], w, own[i].usage);
			return CTL_EXIT_USAGE;
		}
	}
	fprintf(stderr, "trapline: unknown command '%s' (see trapline help)\n", argv[1]);
	return CTL_EXIT_USAGE;
}
