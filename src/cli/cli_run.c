/* cli_run.c - the operator's commands run from a shell: their options read by ctl's command
 * table into a request, checked before anything is touched, then sent to the service's control
 * socket, or, when no service answers, run on the data directory with a writer of their own;
 * the files they name read as the caller, one request each; --out written whole or not at all. */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_internal.h"
#include "ctl/ctl.h"
#include "store/store.h"
#include "writer/writer.h"
#include "zone/zone.h"

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
		return CTL_EXIT_USAGE;
	}
	bool repeats = ctl_command_repeats(c) && strcmp(c->positional, key) == 0;
	if (a->n_files > 0 && !repeats) {
		fprintf(stderr, "trapline: --%s given twice\n", key);
		return CTL_EXIT_USAGE;
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
		return CTL_EXIT_USAGE;
	}
	if (!ours && ctl_key_is_flag(key)) {
		if (value) {
			fprintf(stderr, "trapline: %s takes no value\n", flag);
			return CTL_EXIT_USAGE;
		}
		value = "1";
	} else if (!value) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "trapline: %s needs a value\n", flag);
			return CTL_EXIT_USAGE;
		}
		value = argv[++*i];
	}
	if (strcmp(key, "config") == 0)
		return 0; /* read first, by cli_config_file */
	if ((strcmp(key, "data") == 0 && a->data_given) || (strcmp(key, "out") == 0 && a->out_path)) {
		fprintf(stderr, "trapline: %s given twice\n", flag);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(key, "data") == 0) {
		a->data_given = true;
		if (config_set(cfg, "data_dir", value, err, sizeof(err)) != BASE_OK) {
			fprintf(stderr, "trapline: --data: %s\n", err);
			return CTL_EXIT_USAGE;
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
		return CTL_EXIT_USAGE;
	}
	return 0;
}

/* Reads the arguments of an operator's command into cfg (--config, --data) and req. Returns 0
 * or CTL_EXIT_USAGE after printing what is wrong. */
static int cli_ctl_args(const struct ctl_command *c, int argc, char **argv, struct config *cfg,
			struct ctl_request *req, struct cli_ctl_args *a)
{
	char err[CTL_ERR_MAX];
	for (int i = 0; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			a->help = true;
			return 0;
		}
	}
	int rc = cli_config_file(argc, argv, cfg);
	if (rc)
		return rc;
	if (config_check(cfg, err, sizeof(err)) != BASE_OK) { /* no option here changes a key */
		fprintf(stderr, "trapline: %s\n", err);
		return CTL_EXIT_USAGE;
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
			return CTL_EXIT_USAGE;
		}
		have_positional = true;
		if (ctl_request_set(req, c->positional, argv[i], err, sizeof(err)) != CTL_OK) {
			fprintf(stderr, "trapline: %s\n", err);
			return CTL_EXIT_USAGE;
		}
	}
	return 0;
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
		int status = CTL_EXIT_USAGE;
		if (ctl_request_set(&one, a->file_key, name, err, sizeof(err)) != CTL_OK)
			fprintf(stderr, "trapline: %s\n", err);
		else if (cli_read_input(path, CTL_BODY_MAX, ", the most a request may carry", &body,
					&len) != 0)
			status = CTL_EXIT_USAGE; /* it said why */
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
	return CTL_EXIT_USAGE;
}

/* A command on the data directory itself (restore): no service, no store opened; as root, as
 * the service's user, so that what it makes is the service's. An exit status. */
static int cli_offline(const struct config *cfg, const struct ctl_request *req)
{
	int rc = cli_take_data_dir(cfg);
	if (rc)
		return rc;
	struct ctl_service svc;
	char who[CTL_WHO_MAX];
	cli_who(who, sizeof(who));
	ctl_service_init(&svc, cfg, NULL, NULL, NULL);
	int status = ctl_execute(&svc, req, who, stdout, stderr);
	cli_back_to_root();
	return status;
}

/* The command's options, its checks, then its requests: one, or one per file it names. */
int cli_run(const struct ctl_command *c, int argc, char **argv)
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
	if (ctl_command_offline(c)) {
		free(a.files);
		return cli_offline(&cfg, &req);
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
			rc = CTL_EXIT_USAGE;
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
