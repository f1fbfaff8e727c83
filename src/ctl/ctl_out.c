/* ctl_out.c - how a running command answers, whichever command it is: its JSON printed, a
 * failed read or write as a message and an exit status, and a list's rows printed as the store
 * yields them. Every handler file uses them; they use none. */
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"

int ctl_fail_store(const struct ctl_run *r, int rc)
{
	fprintf(r->err, "trapline: reading the store failed: %s\n", tl_strerror(rc));
	return CTL_EXIT_FAIL;
}

int ctl_fail_writer(const struct ctl_run *r, int rc)
{
	fprintf(r->err, "trapline: %s\n", tl_strerror(rc));
	return rc == WRITER_EINVAL || rc == WRITER_ESPECIAL ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
}

int ctl_print_json(const struct ctl_run *r, json_t *v)
{
	if (!v) {
		fprintf(r->err, "trapline: out of memory\n");
		return CTL_EXIT_FAIL;
	}
	int rc = json_dumpf(v, r->out, JSON_INDENT(2) | CTL_JSON_FLAGS);
	json_decref(v);
	fputc('\n', r->out);
	return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

/* A list's frame: a JSON array with one row a line, or the text rows and what an empty list
 * says. Rows are printed as the store yields them: a list of a million is never held whole. */

void ctl_list_begin(struct ctl_list *st, const struct ctl_run *r)
{
	memset(st, 0, sizeof(*st));
	st->r = r;
	if (r->req->json)
		fputs("[", r->out);
}

int ctl_list_row(struct ctl_list *st, json_t *row, void (*text)(FILE *, const void *),
		 const void *item)
{
	FILE *out = st->r->out;
	if (!st->r->req->json) {
		text(out, item);
		st->n++;
		return 0;
	}
	char *line = row ? json_dumps(row, CTL_JSON_FLAGS) : NULL;
	json_decref(row);
	if (!line) {
		st->oom = true;
		return 1;
	}
	fprintf(out, "%s%s", st->n ? ",\n  " : "\n  ", line);
	free(line);
	st->n++;
	return 0;
}

int ctl_list_end(struct ctl_list *st, int rc, const char *none)
{
	const struct ctl_run *r = st->r;
	if (rc == STORE_OK && st->oom)
		rc = CTL_ENOMEM;
	if (rc != STORE_OK)
		return ctl_fail_store(r, rc);
	if (r->req->json)
		fputs(st->n ? "\n]\n" : "]\n", r->out);
	else if (st->n == 0 && none)
		fprintf(r->out, "%s\n", none);
	return CTL_EXIT_OK;
}
