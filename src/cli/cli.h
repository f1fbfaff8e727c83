/* cli.h - the command line: the operator's commands run from a shell (their options read by
 * ctl's command table, sent to the service's control socket or run on the data directory
 * when no service answers), the binary's own tools (help, version, check-config,
 * config-template, report analyse, classify), and the rules of the service's user and data
 * directory that `serve` and the commands share. `serve` itself is the wiring's (main.c). */
#ifndef TRAPLINE_CLI_H
#define TRAPLINE_CLI_H

#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/base.h"

#define CLI_VERSION "0.1.0"

/* Runs the command that argv names (argv[0] is the program) and returns its exit status:
 * 0, CTL_EXIT_FAIL (1) when the command failed, CTL_EXIT_USAGE (2) for bad usage,
 * configuration or input (nothing was changed). `trapline serve ARGS` calls serve with ARGS. */
int cli_main(int argc, char **argv, int (*serve)(int argc, char **argv));

/* ---- serve's command line ----------------------------------------------------------- */

/* serve's arguments into cfg: the defaults, the file --config names, every option over it (a
 * table of flags and the key each sets), then the checks between keys. 0 with *help false;
 * 0 with *help true after printing serve's usage (--help); or CTL_EXIT_USAGE after printing
 * what is wrong. */
int cli_serve_config(int argc, char **argv, struct config *cfg, bool *help);

/* serve's arguments read again (SIGHUP): as cli_serve_config, with what is wrong in err
 * instead of on stderr. 0 or CTL_EXIT_USAGE. */
int cli_serve_config_reread(int argc, char **argv, struct config *cfg, char *err, size_t cap);

/* ---- SIGHUP: the configuration reloaded (cli_reload.c) ------------------------------ */

/* The running modules a reload hands the new configuration to (NULL: not running). */
struct cli_reload_targets {
	struct writer *writer;
	struct ctl_server *ctl;
	struct web_server *web;
	struct smtp_server *smtp;
	struct zone_static *zs;
	struct dns_server *dns;
};
struct cli_reload;
/* Keeps serve's arguments (argv must outlive it) and the configuration it started with. */
struct cli_reload *cli_reload_new(int argc, char **argv, const struct config *cfg);
/* Reads the configuration again as at start (the file, then serve's options over it, and the
 * checks between keys); a bad one changes nothing and is logged with why. Of a good one, the
 * keys the schema marks live (CONFIG_LIVE) go to every module's *_reload; the others that
 * changed are named in one log line and keep their values. Returns 0 when applied. */
int cli_reload_run(struct cli_reload *r, const struct cli_reload_targets *t);
/* Frees every configuration it read: after every module stopped. */
void cli_reload_free(struct cli_reload *r);

/* The files the configuration names (the trap's certificate and key, web_templates), read
 * now: 0, or CTL_EXIT_USAGE after one line naming the key and the file. */
int cli_config_files_check(const struct config *cfg);

/* DATA_DIR/trapline.sock: where the service listens and the commands call. */
void cli_ctl_socket_path(const struct config *cfg, char *buf, size_t cap);

/* ---- the service's user and its data directory -------------------------------------- */

/* ctl_group's gid into *group (-1 when the key is empty). 0, or CTL_EXIT_USAGE after one line. */
int cli_service_group(const struct config *cfg, int *group);

/* The user the service runs as when started as root (getpwnam's storage: use it before the
 * next getpw* call); nobody only with allow_nobody. 0, or CTL_EXIT_USAGE after one line. */
int cli_service_user(const struct config *cfg, struct passwd **out);

/* Started as root, the data directory must end up the service user's (uid, gid): it is given
 * to that user only when made here; an existing one must already be the user's, with none of
 * our files in it belonging to someone else. 0, or 1 after one line saying why and how to
 * fix it. */
int cli_data_dir_take(const char *dir, uid_t uid, gid_t gid, const char *user);

/* Not root: the data directory is the caller's; made with ctl_group (group >= 0) when one is
 * set, so that its members can reach the socket. 0 (also when it exists), or 1 after logging
 * why. */
int cli_data_dir_make(const char *dir, int group);

/* Takes on pw's identity for good: its group, its user, and no supplementary group but
 * group (>= 0; the control socket's). 0, or -1 with errno set. */
int cli_become(const struct passwd *pw, int group);

#endif
