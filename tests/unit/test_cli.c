/* test_cli.c - unit tests of the command line through cli.h, in process: serve's options over
 * its config file, the rules by which a data directory becomes the service user's, and an
 * operator's command that refuses bad usage without touching anything and writes --out whole
 * or not at all. The binary itself is driven by tests/integration (test_cli.sh and others). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "cli/cli.h"
#include "ctl/ctl.h"

/* ---- helpers --------------------------------------------------------------- */

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_cli.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* Run as root, a command works on its data directory as the service's user. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* dir/name into buf. */
static const char *in(const struct fixture *f, const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", f->dir, name);
	return buf;
}

static bool exists(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0;
}

/* cli_main on a NULL-terminated list of words after the program's name. */
static int run(const char *first, ...)
{
	char *argv[16] = {"trapline", (char *)first};
	int argc = 2;
	va_list ap;
	va_start(ap, first);
	const char *w;
	while ((w = va_arg(ap, const char *)) != NULL && argc < 15)
		argv[argc++] = (char *)w;
	va_end(ap);
	return cli_main(argc, argv, NULL);
}

/* ---- serve's options ----------------------------------------------------------- */

static int serve_config(int argc, const char **args, struct config *cfg, bool *help)
{
	return cli_serve_config(argc, (char **)args, cfg, help);
}

static void test_serve_options_over_the_file(void **state)
{
	struct fixture *f = *state;
	char conf[128];
	FILE *c = fopen(in(f, "t.conf", conf, sizeof conf), "w");
	assert_non_null(c);
	fputs("zone = file.example\nthreads = 3\n", c);
	fclose(c);
	struct config cfg;
	bool help = true;
	const char *args[] = {"--zone=opt.example", "--config", conf, "--allow-nobody"};
	assert_int_equal(serve_config(4, args, &cfg, &help), 0);
	assert_false(help);
	assert_string_equal(cfg.zone, "opt.example"); /* the option wins over the file */
	assert_int_equal(cfg.threads, 3);              /* the file wins over the default */
	assert_int_equal(cfg.allow_nobody, 1);

	const char *twice[] = {"--zone", "a.example", "--zone", "b.example"};
	assert_int_equal(serve_config(4, twice, &cfg, &help), CTL_EXIT_USAGE);
	const char *unknown[] = {"--zonez", "a.example"};
	assert_int_equal(serve_config(2, unknown, &cfg, &help), CTL_EXIT_USAGE);
	const char *flag_value[] = {"--allow-nobody=1"};
	assert_int_equal(serve_config(1, flag_value, &cfg, &help), CTL_EXIT_USAGE);
	const char *missing[] = {"--dns"};
	assert_int_equal(serve_config(1, missing, &cfg, &help), CTL_EXIT_USAGE);
	const char *asked[] = {"--help"};
	assert_int_equal(serve_config(1, asked, &cfg, &help), 0);
	assert_true(help);
}

/* ---- the data directory ------------------------------------------------------------ */

static void test_data_dir_rules(void **state)
{
	struct fixture *f = *state;
	/* The service's user: ourselves, or, run as root, a user that is not root. */
	uid_t user = geteuid() == 0 ? 54321 : geteuid();
	gid_t group = geteuid() == 0 ? 54321 : getegid();
	char dir[128], path[160];

	/* Made here: the directory is the user's, closed to others. */
	in(f, "data", dir, sizeof dir);
	assert_int_equal(cli_data_dir_take(dir, user, group, "svc"), 0);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_uid, user);
	assert_int_equal(sb.st_gid, group);
	assert_int_equal(sb.st_mode & 0777, 0750);
	/* Already the user's: taken again. */
	assert_int_equal(cli_data_dir_take(dir, user, group, "svc"), 0);

	/* One of our files belonging to someone else (root's, through a link) is refused. */
	snprintf(path, sizeof path, "%s/trapline.db", dir);
	assert_int_equal(symlink("/", path), 0);
	assert_int_equal(cli_data_dir_take(dir, user, group, "svc"), 1);
	assert_int_equal(unlink(path), 0);

	/* Someone else's directory is not taken over (root's /, or the fixture's, made by root),
	 * nor is a file. */
	assert_int_equal(cli_data_dir_take("/", user, group, "svc"), 1);
	FILE *file = fopen(in(f, "plain", path, sizeof path), "w");
	assert_non_null(file);
	fclose(file);
	assert_int_equal(cli_data_dir_take(path, user, group, "svc"), 1);

	/* Not root: the caller's directory, made or existing; a missing parent fails. */
	assert_int_equal(cli_data_dir_make(in(f, "mine", path, sizeof path), -1), 0);
	assert_int_equal(cli_data_dir_make(path, -1), 0);
	assert_int_equal(cli_data_dir_make(in(f, "no/such", path, sizeof path), -1), 1);
}

/* ---- an operator's command ----------------------------------------------------------- */

/* Bad usage changes nothing: the data directory is not even made. */
static void test_bad_usage_touches_nothing(void **state)
{
	struct fixture *f = *state;
	char data[128];
	in(f, "data", data, sizeof data);
	assert_int_equal(run("check", "999.1.1.1", "--data", data, NULL), CTL_EXIT_USAGE);
	assert_int_equal(run("check", "--data", data, "--bogus", "193.0.2.1", NULL),
			 CTL_EXIT_USAGE);
	/* A key the command requires is missing: found before any data directory is opened. */
	assert_int_equal(run("delist", "193.0.2.1", "--data", data, NULL), CTL_EXIT_USAGE);
	assert_false(exists(data));
}

/* export --out: the file appears whole when the command succeeds; after a failure there is
 * neither the file nor its temporary. */
static void test_out_whole_or_nothing(void **state)
{
	struct fixture *f = *state;
	char data[128], out[128], tmp[136], plain[128];
	in(f, "data", data, sizeof data);
	in(f, "zone.rbldnsd", out, sizeof out);
	snprintf(tmp, sizeof tmp, "%s.tmp", out);

	/* The store cannot be opened in a file: the command fails after it opened --out. */
	FILE *p = fopen(in(f, "plain", plain, sizeof plain), "w");
	assert_non_null(p);
	fclose(p);
	assert_int_equal(run("export", "--data", plain, "--format", "rbldnsd", "--out", out, NULL),
			 CTL_EXIT_FAIL);
	assert_false(exists(out));
	assert_false(exists(tmp));

	assert_int_equal(run("export", "--data", data, "--format", "rbldnsd", "--out", out, NULL),
			 CTL_EXIT_OK);
	assert_true(exists(out));
	assert_false(exists(tmp));
	struct stat sb;
	assert_int_equal(stat(out, &sb), 0);
	assert_true(sb.st_size > 0); /* an empty zone still has its header */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_serve_options_over_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_dir_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_usage_touches_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_whole_or_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
