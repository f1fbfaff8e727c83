/* ctl_holder.c - reporters and feeds: their API keys (made with libsodium, shown once, kept as
 * a hash), the check of a key a request brings, and the commands that add, list and remove
 * them. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl_internal.h"

/* ---- keys ------------------------------------------------------------------------------ */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_rc;

static void sodium_start(void)
{
	sodium_rc = sodium_init();
}

/* libsodium must be set up before its first use; sodium_init is safe to call again, but once
 * is enough. If it fails (no entropy source), randombytes would abort: refuse to go on. */
void ctl_sodium_ready(void)
{
	pthread_once(&sodium_once, sodium_start);
	if (sodium_rc < 0) {
		log_err("ctl", "libsodium cannot start: no source of random numbers");
		abort();
	}
}

static const char *key_prefix(enum store_holder_kind kind)
{
	return kind == STORE_HOLDER_FEED ? "tlf_" : "tlr_";
}

void ctl_key_hash(const char *key, size_t len, uint8_t hash[STORE_KEY_HASH_LEN])
{
	ctl_sodium_ready();
	crypto_generichash(hash, STORE_KEY_HASH_LEN, (const unsigned char *)key, len, NULL, 0);
}

void ctl_key_new(enum store_holder_kind kind, char key[CTL_KEY_LEN + 1],
		 uint8_t hash[STORE_KEY_HASH_LEN])
{
	ctl_sodium_ready();
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	memcpy(key, key_prefix(kind), 4);
	sodium_bin2hex(key + 4, CTL_KEY_LEN - 4 + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	ctl_key_hash(key, CTL_KEY_LEN, hash);
}

int ctl_holder_auth(struct store *reader, enum store_holder_kind kind, const char *key,
		    size_t len, struct store_holder *out)
{
	/* A malformed key is not looked up at all: it cannot be anyone's. */
	if (!key || len != CTL_KEY_LEN || memcmp(key, key_prefix(kind), 4) != 0 ||
	    strspn(key + 4, "0123456789abcdef") < CTL_KEY_LEN - 4)
		return CTL_ENOTFOUND;
	uint8_t hash[STORE_KEY_HASH_LEN];
	ctl_key_hash(key, len, hash);
	int rc = store_holder_by_key(reader, hash, out);
	if (rc == STORE_ENOTFOUND)
		return CTL_ENOTFOUND;
	if (rc != STORE_OK)
		return rc;
	/* The index found the row by the hash of a random 256-bit key, so its search times say
	 * nothing useful; the row is still checked byte for byte, in constant time. */
	if (sodium_memcmp(out->key_hash, hash, STORE_KEY_HASH_LEN) != 0 || out->kind != kind ||
	    out->removed_at != 0)
		return CTL_ENOTFOUND;
	return CTL_OK;
}

const char *ctl_holder_name_problem(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= STORE_NAME_MAX)
		return "must be 1 to 63 characters long";
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	if (!strchr(alnum, name[0]))
		return "must start with a letter or a digit";
	for (size_t i = 0; i < n; i++)
		if (!strchr(alnum, name[i]) && !strchr("._-@", name[i]))
			return "may hold only letters, digits and . _ - @";
	return NULL;
}

/* ---- the commands ---------------------------------------------------------------------- */

enum store_holder_kind ctl_holder_kind_of(const struct ctl_command *c)
{
	return strncmp(c->name, "feed-", 5) == 0 ? STORE_HOLDER_FEED : STORE_HOLDER_REPORTER;
}

/* A reporter's relays, checked as the analysis will read them: every line a CIDR or a host
 * name. The counts say what was understood. An exit status (2 with the file and line). */
static int relays_check(const struct ctl_run *r, size_t *ranges, size_t *names)
{
	const struct ctl_request *req = r->req;
	char file[TEXT_ESCAPED_MAX(CTL_FILE_MAX)], why[256];
	text_escape(req->file, file, sizeof(file));
	if (req->body_len > CTL_RELAYS_MAX) {
		fprintf(r->err, "trapline: %s: larger than %u bytes, not a list of relays\n", file,
			CTL_RELAYS_MAX);
		return CTL_EXIT_USAGE;
	}
	if (memchr(req->body, '\0', req->body_len)) {
		fprintf(r->err, "trapline: %s: a NUL byte: not a text file of relays\n", file);
		return CTL_EXIT_USAGE;
	}
	struct mail_trust t;
	mail_trust_init(&t);
	size_t line = 0;
	int rc = mail_trust_parse(&t, req->body, req->body_len, &line, why, sizeof(why));
	*ranges = t.n_prefixes;
	*names = t.n_names;
	mail_trust_free(&t);
	if (rc == MAIL_EINVAL) {
		char esc[TEXT_ESCAPED_MAX(sizeof(why))];
		fprintf(r->err, "trapline: %s:%zu: %s\n", file, line,
			text_escape(why, esc, sizeof(esc)));
		return CTL_EXIT_USAGE;
	}
	if (rc != MAIL_OK) {
		fprintf(r->err, "trapline: %s: %s\n", file, tl_strerror(rc));
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

int ctl_run_holder_add(struct ctl_run *r)
{
	const struct ctl_request *req = r->req;
	enum store_holder_kind kind = ctl_holder_kind_of(req->cmd);
	const char *what = store_holder_kind_name(kind);
	size_t ranges = 0, names = 0;
	int status;
	if (kind == STORE_HOLDER_REPORTER && (status = relays_check(r, &ranges, &names)) != 0)
		return status;
	struct store_holder h;
	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "%s", req->name);
	h.kind = kind;
	if (kind == STORE_HOLDER_REPORTER) {
		h.relays = req->body;
		h.relays_len = req->body_len;
	}
	char key[CTL_KEY_LEN + 1];
	ctl_key_new(kind, key, h.key_hash);
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_HOLDER_ADD;
	ev.holder = &h;
	snprintf(ev.who, sizeof(ev.who), "%s", r->who);
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc == WRITER_EEXIST) {
		fprintf(r->err, "trapline: a reporter or feed named %s exists already (see trapline "
				"%s list)\n", h.name, what);
		sodium_memzero(key, sizeof(key));
		return CTL_EXIT_USAGE;
	}
	if (rc != WRITER_OK) {
		sodium_memzero(key, sizeof(key));
		return ctl_fail_writer(r, rc);
	}
	/* Only now, once the hash is committed, is the key worth showing. */
	if (req->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "name", h.name, "kind", what, "key", key,
				      "created_at", ctl_json_time(r->now));
		if (o && kind == STORE_HOLDER_REPORTER)
			json_object_set_new(o, "trusted_relays",
					    json_pack("{s:I,s:I}", "ranges", (json_int_t)ranges,
						      "names", (json_int_t)names));
		status = ctl_print_json(r, o);
	} else {
		fprintf(r->out, "%s: %s", what, h.name);
		if (kind == STORE_HOLDER_REPORTER)
			fprintf(r->out, " (trusted relays: %zu ranges, %zu names)", ranges, names);
		fprintf(r->out, "\nkey: %s\nThis key is shown once: the store keeps only a hash of "
				"it. Hand it to the %s now; if it is lost, remove the %s and add it "
				"again.\n",
			key, what, what);
		status = CTL_EXIT_OK;
	}
	sodium_memzero(key, sizeof(key));
	return status;
}

int ctl_run_holder_remove(struct ctl_run *r)
{
	const struct ctl_request *req = r->req;
	enum store_holder_kind kind = ctl_holder_kind_of(req->cmd);
	const char *what = store_holder_kind_name(kind);
	struct store_holder h;
	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "%s", req->name);
	h.kind = kind;
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_HOLDER_REMOVE;
	ev.holder = &h;
	snprintf(ev.who, sizeof(ev.who), "%s", r->who);
	snprintf(ev.why, sizeof(ev.why), "%s", req->why);
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc == WRITER_ENOTFOUND) {
		fprintf(r->err, "trapline: no %s named %s (see trapline %s list)\n", what, h.name,
			what);
		return CTL_EXIT_USAGE;
	}
	if (rc != WRITER_OK)
		return ctl_fail_writer(r, rc);
	if (req->json)
		return ctl_print_json(r, json_pack("{s:s,s:s,s:s}", "removed", h.name, "kind", what,
						   "why", req->why));
	fprintf(r->out, "removed: %s %s; its key no longer works, what it sent stays\n", what,
		h.name);
	return CTL_EXIT_OK;
}

static void holder_text(FILE *f, const void *item)
{
	const struct store_holder *h = item;
	char at[TIME_STRLEN], by[TEXT_ESCAPED_MAX(sizeof(h->created_by))];
	time_format_iso8601(h->created_at, at);
	fprintf(f, "%s created_at=%s created_by=\"%s\"", h->name, at,
		text_escape(h->created_by, by, sizeof(by)));
	if (h->kind == STORE_HOLDER_REPORTER)
		fprintf(f, " reports=%llu", (unsigned long long)h->reports);
	fputc('\n', f);
}

static json_t *holder_json(const struct store_holder *h)
{
	json_t *o = json_pack("{s:s,s:o,s:s}", "name", h->name, "created_at",
			      ctl_json_time(h->created_at), "created_by", h->created_by);
	if (o && h->kind == STORE_HOLDER_REPORTER &&
	    json_object_set_new(o, "reports", json_integer((json_int_t)h->reports)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int holder_one(const struct store_holder *h, void *arg)
{
	struct ctl_list *st = arg;
	return ctl_list_row(st, st->r->req->json ? holder_json(h) : NULL, holder_text, h);
}

int ctl_run_holder_list(struct ctl_run *r)
{
	enum store_holder_kind kind = ctl_holder_kind_of(r->req->cmd);
	struct ctl_list st;
	ctl_list_begin(&st, r);
	return ctl_list_end(&st, store_holder_foreach(r->svc->reader, kind, holder_one, &st),
			    kind == STORE_HOLDER_FEED ? "no feed" : "no reporter");
}
