/* ctl_moderator.c - the moderators of the review queue: their passwords (argon2id through
 * libsodium), their logins and sessions (random tokens of which the store keeps a hash), and
 * the commands that add, list and remove them. */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "ctl_internal.h"

/* ---- passwords -------------------------------------------------------------------------- */

int ctl_password_hash(const char *password, size_t len, char out[STORE_PWHASH_MAX])
{
	_Static_assert(crypto_pwhash_STRBYTES <= STORE_PWHASH_MAX, "room for the argon2id string");
	if (!password || len < CTL_PASSWORD_MIN || len > CTL_PASSWORD_MAX ||
	    memchr(password, '\0', len))
		return CTL_EINVAL;
	ctl_sodium_ready();
	/* The interactive limits: a login costs about 64 MiB for a tenth of a second, so that a
	 * stolen database costs a guesser as much per guess; the lockout keeps guessers on the
	 * network from spending the server's memory. */
	if (crypto_pwhash_str_alg(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return CTL_ENOMEM;
	return CTL_OK;
}

/* A hash no password gives (of random bytes), for an unknown name to be checked against, so
 * that a login with a name that does not exist costs what a wrong password costs. */
static char nobody_hash[STORE_PWHASH_MAX];
static pthread_once_t nobody_once = PTHREAD_ONCE_INIT;

static void nobody_make(void)
{
	unsigned char raw[32];
	char hex[65];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	if (ctl_password_hash(hex, 64, nobody_hash) != CTL_OK)
		nobody_hash[0] = '\0';
	sodium_memzero(hex, sizeof(hex));
}

static bool password_matches(const char *hash, const char *password, size_t len)
{
	if (!hash[0] || len > CTL_PASSWORD_MAX)
		return false;
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

/* ---- sessions ---------------------------------------------------------------------------- */

bool ctl_token_hash(const char *token, size_t len, uint8_t hash[STORE_TOKEN_HASH_LEN])
{
	if (!token || len != CTL_TOKEN_LEN || strspn(token, "0123456789abcdef") < CTL_TOKEN_LEN)
		return false;
	ctl_sodium_ready();
	crypto_generichash(hash, STORE_TOKEN_HASH_LEN, (const unsigned char *)token, len, NULL, 0);
	return true;
}

int ctl_moderator_login(const struct ctl_service *svc, struct store *reader, const char *name,
			const char *password, size_t len, int64_t now,
			char token[CTL_TOKEN_LEN + 1], struct store_session *out)
{
	ctl_sodium_ready();
	pthread_once(&nobody_once, nobody_make);
	struct store_moderator m;
	int rc = ctl_holder_name_problem(name) ? STORE_ENOTFOUND
					       : store_moderator_get(reader, name, &m);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return rc;
	bool known = rc == STORE_OK;
	bool ok = password_matches(known ? m.pw_hash : nobody_hash, password, len) && known;
	sodium_memzero(&m, sizeof(m));
	if (!ok)
		return CTL_ENOTFOUND;
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(token, CTL_TOKEN_LEN + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	memset(out, 0, sizeof(*out));
	ctl_token_hash(token, CTL_TOKEN_LEN, out->token_hash);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->expires_at = now + (int64_t)(svc->session_s ? svc->session_s : 3600);
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_SESSION_ADD;
	ev.session = out;
	snprintf(ev.who, sizeof(ev.who), "moderator:%s", name);
	rc = writer_submit(svc->writer, &ev);
	if (rc == WRITER_ENOTFOUND)
		rc = CTL_ENOTFOUND; /* removed between the check and the commit */
	if (rc != CTL_OK)
		sodium_memzero(token, CTL_TOKEN_LEN + 1);
	return rc;
}

int ctl_session_get(struct store *reader, const char *token, size_t len, int64_t now,
		    struct store_session *out)
{
	uint8_t hash[STORE_TOKEN_HASH_LEN];
	if (!ctl_token_hash(token, len, hash))
		return CTL_ENOTFOUND;
	int rc = store_session_get(reader, hash, now, out);
	return rc == STORE_ENOTFOUND ? CTL_ENOTFOUND : rc;
}

int ctl_session_end(const struct ctl_service *svc, const struct store_session *s)
{
	struct store_session copy = *s;
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_SESSION_END;
	ev.session = &copy;
	int rc = writer_submit(svc->writer, &ev);
	return rc == WRITER_ENOTFOUND ? CTL_ENOTFOUND : rc;
}

/* ---- the commands ------------------------------------------------------------------------ */

/* The password as it came on standard input: one line, its newline (LF or CRLF) not part of
 * it. An exit status (2 with the reason). */
static int password_of(const struct ctl_run *r, const char **pw, size_t *len)
{
	const struct ctl_request *req = r->req;
	size_t n = req->has_body && req->body ? req->body_len : 0;
	const char *p = n ? req->body : "";
	if (n && p[n - 1] == '\n')
		n--;
	if (n && p[n - 1] == '\r')
		n--;
	if (n < CTL_PASSWORD_MIN || n > CTL_PASSWORD_MAX) {
		fprintf(r->err, "trapline: the password (on standard input) must be %d to %d "
				"characters long\n",
			CTL_PASSWORD_MIN, CTL_PASSWORD_MAX);
		return CTL_EXIT_USAGE;
	}
	if (memchr(p, '\0', n) || memchr(p, '\n', n)) {
		fprintf(r->err, "trapline: the password must be one line of text\n");
		return CTL_EXIT_USAGE;
	}
	*pw = p;
	*len = n;
	return CTL_EXIT_OK;
}

static int moderator_refused(const struct ctl_run *r, int rc, enum writer_refusal why)
{
	if (why == WRITER_REFUSED_NAME_TAKEN) {
		fprintf(r->err, "trapline: a moderator named %s exists already (see trapline "
				"moderator list)\n",
			r->req->name);
		return CTL_EXIT_USAGE;
	}
	if (why == WRITER_REFUSED_NO_MODERATOR) {
		fprintf(r->err, "trapline: no moderator named %s (see trapline moderator list)\n",
			r->req->name);
		return CTL_EXIT_USAGE;
	}
	return ctl_fail_writer(r, rc);
}

int ctl_run_moderator_add(struct ctl_run *r)
{
	/* "moderator:NAME" names the decisions in the audit log, in 63 characters. */
	if (strlen(r->req->name) > CTL_MODERATOR_NAME_MAX) {
		fprintf(r->err, "trapline: a moderator's name has %d characters at most\n",
			CTL_MODERATOR_NAME_MAX);
		return CTL_EXIT_USAGE;
	}
	const char *pw = NULL;
	size_t len = 0;
	int status = password_of(r, &pw, &len);
	if (status != CTL_EXIT_OK)
		return status;
	struct store_moderator m;
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", r->req->name);
	int rc = ctl_password_hash(pw, len, m.pw_hash);
	if (rc != CTL_OK) {
		fprintf(r->err, "trapline: the password could not be hashed: %s\n", tl_strerror(rc));
		return CTL_EXIT_FAIL;
	}
	enum writer_refusal why = WRITER_REFUSED_NONE;
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_MODERATOR_ADD;
	ev.moderator = &m;
	ev.refusal = &why;
	snprintf(ev.who, sizeof(ev.who), "%s", r->who);
	snprintf(ev.why, sizeof(ev.why), "%s", r->req->has_why ? r->req->why : "");
	rc = writer_submit(r->svc->writer, &ev);
	sodium_memzero(m.pw_hash, sizeof(m.pw_hash));
	if (rc != WRITER_OK)
		return moderator_refused(r, rc, why);
	if (r->req->json)
		return ctl_print_json(r, json_pack("{s:s,s:o}", "moderator", m.name, "created_at",
						   ctl_json_time(r->now)));
	fprintf(r->out, "moderator: %s; logs in at /admin/login with the password given\n",
		m.name);
	return CTL_EXIT_OK;
}

int ctl_run_moderator_remove(struct ctl_run *r)
{
	struct store_moderator m;
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", r->req->name);
	enum writer_refusal why = WRITER_REFUSED_NONE;
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_MODERATOR_REMOVE;
	ev.moderator = &m;
	ev.refusal = &why;
	snprintf(ev.who, sizeof(ev.who), "%s", r->who);
	snprintf(ev.why, sizeof(ev.why), "%s", r->req->has_why ? r->req->why : "");
	int rc = writer_submit(r->svc->writer, &ev);
	if (rc != WRITER_OK)
		return moderator_refused(r, rc, why);
	if (r->req->json)
		return ctl_print_json(r, json_pack("{s:s}", "removed", m.name));
	fprintf(r->out, "removed: moderator %s; its sessions ended, its decisions stay\n", m.name);
	return CTL_EXIT_OK;
}

static void moderator_text(FILE *f, const void *item)
{
	const struct store_moderator *m = item;
	char at[TIME_STRLEN], by[TEXT_ESCAPED_MAX(sizeof(m->created_by))];
	time_format_iso8601(m->created_at, at);
	fprintf(f, "%s created_at=%s created_by=\"%s\"\n", m->name, at,
		text_escape(m->created_by, by, sizeof(by)));
}

static int moderator_one(const struct store_moderator *m, void *arg)
{
	struct ctl_list *st = arg;
	json_t *row = NULL;
	if (st->r->req->json)
		row = json_pack("{s:s,s:o,s:s}", "name", m->name, "created_at",
				ctl_json_time(m->created_at), "created_by", m->created_by);
	return ctl_list_row(st, row, moderator_text, m);
}

int ctl_run_moderator_list(struct ctl_run *r)
{
	struct ctl_list st;
	ctl_list_begin(&st, r);
	return ctl_list_end(&st, store_moderator_foreach(r->svc->reader, moderator_one, &st),
			    "no moderator");
}
