/* cli_internal.h - what the files of src/cli share; nothing outside src/cli includes it. */
#ifndef TRAPLINE_CLI_INTERNAL_H
#define TRAPLINE_CLI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "ctl/ctl.h"

/* ---- cli_args.c: reading a command line -------------------------------------------- */

bool cli_is_help(const char *arg);
/* Splits "--flag=value" into flag and value (NULL when there is no '='). */
const char *cli_flag_split(const char *arg, char *flag, size_t cap);
/* Reads the config file (if --config names one) over the defaults. Returns 0, or
 * CTL_EXIT_USAGE after printing what is wrong. */
int cli_config_file(int argc, char **argv, struct config *cfg);
/* serve's options, one a line, for help. */
void cli_serve_options_help(FILE *f);
/* One option of `serve` and the config key it sets. */
struct cli_option {
	const char *flag;
	const char *key;
	const char *arg;  /* NULL: a flag that sets its key to 1 */
	const char *help;
};
/* serve's options, in the order help shows them. */
const struct cli_option *cli_serve_options(size_t *n);

/* ---- cli_file.c: what a command reads and writes ------------------------------------ */

/* A file a command is given, whole: path, or standard input for "-", at most max bytes, read
 * as the user who runs the command. 0 with *buf the caller's to free, or CTL_EXIT_USAGE after
 * one line that names the file: why it cannot be read, or that it is larger than max, and why
 * (", the most a report may have"). */
int cli_read_input(const char *path, size_t max, const char *why, char **buf, size_t *len);
/* One line typed without echo (a terminal), or what standard input holds, at most max bytes.
 * 0, or an exit status after saying why. */
int cli_read_secret(size_t max, char **buf, size_t *len);
/* Ends an --out file written to tmp: renamed over path when status is success, else removed.
 * The command's exit status (a failure when the file could not be written). */
int cli_out_finish(FILE *f, const char *path, const char *tmp, int status);

/* ---- cli_service.c: a command on the service's data directory ----------------------- */

/* Started as root: the data directory taken for the service's user, whose effective IDs the
 * command then works with. 0, or an exit status. */
int cli_take_data_dir(const struct config *cfg);
/* Back to root after cli_take_data_dir (nothing when it did not switch). */
void cli_back_to_root(void);

/* ---- cli_help.c: the binary's own commands ------------------------------------------ */

/* One of the binary's own commands (no service, or the service itself). */
struct cli_command {
	const char *word;
	const char *usage;
	const char *help;
	int (*main)(int argc, char **argv); /* NULL: serve, the wiring's (cli_main's serve) */
};

const struct cli_command *cli_commands(size_t *n);
/* The binary's own commands, then the operator's, then serve's options. */
void cli_usage(FILE *f);
/* `trapline help [COMMAND]`. */
int cli_help(int argc, char **argv);
/* The usage of every command that starts with c's first word, when one of them is the
 * binary's own (report and report analyse). */
void cli_usage_shared(FILE *f, const struct ctl_command *c);

/* ---- cli_tools.c: the commands that need no data directory -------------------------- */

int cli_check_config(int argc, char **argv);
int cli_config_template(int argc, char **argv);
int cli_version(int argc, char **argv);
/* `trapline man 8|5`: trapline(8) or trapline.conf(5) in roff, from the command tables and
 * the config schema (cli_man.c); the build writes build/man/ with it. */
int cli_man(int argc, char **argv);
int cli_report_analyse(int argc, char **argv);
int cli_classify(int argc, char **argv);

/* ---- cli_run.c: the operator's commands --------------------------------------------- */

/* Runs c with its arguments (after its words) through the control socket, or on the data
 * directory when no service answers. An exit status. */
int cli_run(const struct ctl_command *c, int argc, char **argv);
/* `trapline status` on a trap node (cli_node.c): the spool's figures. */
int cli_status(int argc, char **argv);

#endif
