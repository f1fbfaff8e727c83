/* cli_node.c - `trapline status` on a trap node: the spool's depth and the last successful
 * forward, read from the node's spool file (the node has no control socket nor store). A data
 * directory without a spool is a whole Trapline's: ctl's `status` answers for it. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_internal.h"
#include "smtp/smtp.h"

#define STATUS_USAGE "usage: trapline status [--data DIR] [--config FILE] [--json]\n"

static json_t *time_or_null(int64_t t)
{
	char buf[TIME_STRLEN];
	if (t <= 0)
		return json_null();
	time_format_iso8601(t, buf);
	return json_string(buf);
}

static void status_print(const struct smtp_spool_stats *st, bool json)
{
	if (json) {
		json_t *o = json_pack("{s:{s:I,s:o,s:I,s:I,s:o}}", "spool", "depth",
				      (json_int_t)st->depth, "oldest_at", time_or_null(st->oldest_at),
				      "refused", (json_int_t)st->refused, "forwarded",
				      (json_int_t)st->forwarded, "last_forward_at",
				      time_or_null(st->last_forward_at));
		char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		if (s)
			printf("%s\n", s);
		json_decref(o);
		free(s);
		return;
	}
	char oldest[TIME_STRLEN] = "", last[TIME_STRLEN] = "never";
	if (st->oldest_at > 0)
		time_format_iso8601(st->oldest_at, oldest);
	if (st->last_forward_at > 0)
		time_format_iso8601(st->last_forward_at, last);
	printf("spool: %llu hits waiting%s%s%s\n", (unsigned long long)st->depth,
	       st->depth ? " (oldest " : "", oldest, st->depth ? ")" : "");
	printf("last forward: %s\n", last);
	printf("forwarded: %llu\n", (unsigned long long)st->forwarded);
	printf("refused for good: %llu\n", (unsigned long long)st->refused);
}

/* Not a node: the service's own `status` when ctl's table has one (its row answers), else
 * say what this one is for. */
static int status_not_node(const char *data, int argc, char **argv)
{
	char word[] = "status";
	char *one[] = {word};
	int used = 0;
	const struct ctl_command *c = ctl_command_match(1, one, &used);
	if (c)
		return cli_run(c, argc, argv);
	fprintf(stderr, "trapline: %s holds no trap node's spool (spool.db): `status` shows a trap "
			"node's (serve --forward)\n", data);
	return 1;
}

int cli_status(int argc, char **argv)
{
	bool json = false, bad = false, help = false;
	const char *data = NULL;
	for (int i = 0; i < argc; i++) {
		if (cli_is_help(argv[i]))
			help = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			i++;
		else
			bad = true;
	}
	struct config cfg;
	int rc = cli_config_file(argc, argv, &cfg);
	if (rc)
		return rc;
	if (!data)
		data = cfg.data_dir;
	struct smtp_spool_stats st;
	rc = smtp_spool_stats(data, &st);
	if (rc == TL_ENOTFOUND)
		return status_not_node(data, argc, argv);
	if (help || bad) {
		fprintf(help ? stdout : stderr, STATUS_USAGE);
		return help ? 0 : CTL_EXIT_USAGE;
	}
	if (rc != SMTP_OK) {
		fprintf(stderr, "trapline: the spool in %s cannot be read (see the log above)\n",
			data);
		return 1;
	}
	status_print(&st, json);
	return 0;
}
