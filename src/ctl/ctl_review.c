/* ctl_review.c - review requests: the checks of the web's form, filing a ticket and deciding it
 * through the writer, what a moderator sees (samples with the trap addresses masked), and the
 * commands review list, show, delist, exclude and reject. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl_internal.h"

/* ---- the form's checks ------------------------------------------------------------------- */

/* Plain text a person typed: valid UTF-8, no control character but newline, carriage return
 * and tab (multiline) or none at all. NULL, or why not. Angle brackets are text like any
 * other: a pasted bounce ("550 5.1.1 <user@example.org>: unknown user") is what a requester
 * has to show, and every page, the command line and the logs escape what they show. */
static const char *text_problem(const char *s, size_t n, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c < 0x20 || c == 0x7f) {
			if (!multiline || (c != '\n' && c != '\r' && c != '\t'))
				return "holds a control character";
		}
		size_t len = text_utf8_len(p + i, n - i);
		if (!len)
			return "is not valid UTF-8 text";
		i += len;
	}
	return NULL;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* s[0..*n) without the blanks around it. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && blank(*s))
		s++, (*n)--;
	while (*n && blank(s[*n - 1]))
		(*n)--;
	return s;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* local@domain.tld: a dot-atom local part (RFC 5322 3.2.3) of 1 to 64 characters, a domain of
 * labels of letters, digits and '-' with one dot at least; 254 characters at most (RFC 5321).
 * What a reply can be sent to, and nothing a page could mistake for markup. NULL, or what is
 * wrong, in words that follow the field's name ("Your e-mail address ...") into err. */
static const char *email_problem(const char *s, size_t n, char *err, size_t errcap)
{
	if (n == 0)
		return "is needed: where to tell you what was decided";
	if (n > 254)
		return "is longer than 254 characters";
	const char *at = memchr(s, '@', n);
	if (!at || memchr(at + 1, '@', n - (size_t)(at + 1 - s)))
		return "needs one @ between the name and the domain, like name@example.org";
	size_t local = (size_t)(at - s), dom = n - local - 1;
	if (local == 0)
		return "needs a name before the @, like name@example.org";
	if (local > 64)
		return "has more than 64 characters before the @";
	if (s[0] == '.' || at[-1] == '.')
		return "cannot start with a dot or have one just before the @";
	for (size_t i = 0; i < local; i++) {
		char c = s[i];
		if (c == '.' && s[i + 1] == '.')
			return "cannot have two dots in a row";
		if (label_char(c) || (c && strchr("!#$%&'*+/=?^_`{|}~.", c)))
			continue;
		if (c > 0x20 && c < 0x7f) {
			snprintf(err, errcap, "holds \"%c\", which cannot be in an e-mail address", c);
			return err;
		}
		return c == ' ' ? "holds a space, which cannot be in an e-mail address"
				: "holds a character that cannot be in an e-mail address (letters "
				  "without accents, digits and . _ - + are fine)";
	}
	const char *d = at + 1;
	bool dot = false;
	size_t lab = 0;
	static const char bad_domain[] = "has a domain after the @ that is not a domain name: "
					 "letters, digits, hyphens and dots, like example.org";
	for (size_t i = 0; i < dom; i++) {
		if (d[i] == '.') {
			if (lab == 0 || d[i - 1] == '-')
				return bad_domain;
			dot = true;
			lab = 0;
			continue;
		}
		if (!label_char(d[i]) || (lab == 0 && d[i] == '-') || ++lab > 63)
			return bad_domain;
	}
	if (dom == 0)
		return "needs a domain after the @, like name@example.org";
	if (!dot)
		return "needs a whole domain after the @, with a dot, like example.org";
	if (lab == 0 || d[dom - 1] == '-')
		return bad_domain;
	return NULL;
}

/* Copies a checked text into a field: CRLF as LF (what a browser sends from a textarea), and
 * so any run of CRs before an LF, so that no CRLF is left however many came. */
static void text_copy(char *dst, size_t cap, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		if (s[i] == '\r') {
			size_t j = i;
			while (j < n && s[j] == '\r')
				j++;
			if (j < n && s[j] == '\n') {
				i = j - 1; /* the run goes; the LF is copied next */
				continue;
			}
		}
		dst[o++] = s[i];
	}
	dst[o] = '\0';
}

static int refuse_field(const char **field, const char *name, char *err, size_t errcap,
			const char *why)
{
	*field = name;
	snprintf(err, errcap, "%s", why);
	return CTL_EINVAL;
}

int ctl_review_check(const struct ctl_service *svc, const struct ctl_review_input *in,
		     struct store_ticket *t, const char **field, char *err, size_t errcap)
{
	size_t max = svc->review_text_max ? svc->review_text_max : 4000;
	if (max >= STORE_TICKET_TEXT_MAX)
		max = STORE_TICKET_TEXT_MAX - 1;
	*field = NULL;
	if (!in->ip || memchr(in->ip, '\0', in->ip_len) ||
	    ip_parse(in->ip, in->ip_len, t->ip) != BASE_OK)
		return refuse_field(field, "ip", err, errcap, "is not one IPv4 or IPv6 address");
	size_t en = in->email ? in->email_len : 0;
	const char *email = trim(in->email ? in->email : "", &en);
	char ebuf[96];
	const char *why = email_problem(email, en, ebuf, sizeof(ebuf));
	if (why)
		return refuse_field(field, "email", err, errcap, why);
	size_t fn = in->fixed ? in->fixed_len : 0, cn = in->comment ? in->comment_len : 0;
	const char *fixed = trim(in->fixed ? in->fixed : "", &fn);
	const char *comment = trim(in->comment ? in->comment : "", &cn);
	char msg[96];
	if (fn == 0)
		return refuse_field(field, "fixed", err, errcap,
				    "is needed: what was the cause, and what changed?");
	snprintf(msg, sizeof(msg), "is longer than %zu bytes", max);
	if (fn > max)
		return refuse_field(field, "fixed", err, errcap, msg);
	if (cn > max)
		return refuse_field(field, "comment", err, errcap, msg);
	if ((why = text_problem(fixed, fn, true)) != NULL)
		return refuse_field(field, "fixed", err, errcap, why);
	if ((why = text_problem(comment, cn, true)) != NULL)
		return refuse_field(field, "comment", err, errcap, why);
	memcpy(t->email, email, en);
	t->email[en] = '\0';
	text_copy(t->fixed, sizeof(t->fixed), fixed, fn);
	text_copy(t->comment, sizeof(t->comment), comment, cn);
	return CTL_OK;
}

/* ---- filing and deciding --------------------------------------------------------------- */

enum ctl_review_outcome ctl_review_file(const struct ctl_service *svc, struct store_ticket *t)
{
	ctl_sodium_ready();
	unsigned char raw[STORE_TICKET_ID_LEN / 2];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(t->id, sizeof(t->id), raw, sizeof(raw));
	struct writer_ticket wt = {.row = t, .per_client_day = svc->review_per_client_day,
				   .per_ip_day = svc->review_per_ip_day};
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_TICKET_ADD;
	ev.ticket = &wt;
	snprintf(ev.who, sizeof(ev.who), "requester");
	int rc = writer_submit(svc->writer, &ev);
	if (rc == WRITER_OK)
		return CTL_REVIEW_FILED;
	switch (wt.refusal) {
	case WRITER_REFUSED_NOT_LISTED: return CTL_REVIEW_NOT_LISTED;
	case WRITER_REFUSED_CLIENT_LIMIT: return CTL_REVIEW_CLIENT_LIMIT;
	case WRITER_REFUSED_IP_LIMIT: return CTL_REVIEW_IP_LIMIT;
	default: break;
	}
	log_warn("ctl", "review request not stored reason=\"%s\"", tl_strerror(rc));
	return CTL_REVIEW_UNAVAILABLE;
}

int ctl_review_decide(const struct ctl_service *svc, const char *id,
		      enum store_ticket_status status, int64_t until, const char *who,
		      const char *why, const uint8_t *session_hash, struct writer_decision *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->ticket, sizeof(d->ticket), "%s", id);
	d->status = status;
	d->until = until;
	if (session_hash) {
		d->has_session = true;
		memcpy(d->session_hash, session_hash, STORE_TOKEN_HASH_LEN);
	}
	struct writer_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = WRITER_EV_TICKET_DECIDE;
	ev.decision = d;
	snprintf(ev.who, sizeof(ev.who), "%s", who);
	snprintf(ev.why, sizeof(ev.why), "%s", why);
	return writer_submit(svc->writer, &ev);
}

/* ---- who acted, in words ---------------------------------------------------------------- */

const char *ctl_who_words(const char *who, char *buf, size_t cap)
{
	if (strncmp(who, "moderator:", 10) == 0)
		snprintf(buf, cap, "moderator %s", who + 10);
	else if (strncmp(who, "cli:", 4) == 0)
		snprintf(buf, cap, "the operator (%s, on the command line)", who + 4);
	else if (strncmp(who, "ctl:", 4) == 0)
		snprintf(buf, cap, "the operator (%s, through the control socket)", who + 4);
	else if (strcmp(who, "requester") == 0)
		snprintf(buf, cap, "the requester");
	else
		snprintf(buf, cap, "%s", who);
	return buf;
}

/* ---- as data ----------------------------------------------------------------------------- */

static json_t *ticket_json(const struct store_ticket *t, bool whole)
{
	char ip[IP_STRLEN];
	ip_format(t->ip, ip);
	json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:s}", "id", t->id, "ip", ip, "status",
			      store_ticket_status_name(t->status), "filed_at",
			      ctl_json_time(t->created_at), "email", t->email);
	if (!o)
		return NULL;
	int bad = 0;
	if (whole) {
		bad |= json_object_set_new(o, "fixed", json_string(t->fixed));
		bad |= json_object_set_new(o, "comment", json_string(t->comment));
	}
	bad |= json_object_set_new(o, "decided_at", ctl_json_time(t->decided_at));
	bad |= json_object_set_new(o, "moderator", t->decided_at ? json_string(t->moderator)
								 : json_null());
	bad |= json_object_set_new(o, "by_action", json_boolean(t->by_action));
	bad |= json_object_set_new(o, "until", ctl_json_time(t->until));
	if (whole)
		bad |= json_object_set_new(o, "reason", t->decided_at ? json_string(t->reason)
								      : json_null());
	bad |= json_object_set_new(o, "joined", t->joined[0] ? json_string(t->joined)
							      : json_null());
	bad |= json_object_set_new(o, "requests", json_integer(t->joined[0] ? 1 : 1 + t->joined_n));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ctl_ticket_json(const struct store_ticket *t)
{
	return ticket_json(t, true);
}

/* ---- samples, as a moderator sees them ----------------------------------------------------- */

/* A copy of s[0..n) to show: trap addresses masked, CRLF as LF, the blank lines that end a
 * header section dropped, bytes that are not valid UTF-8 and control characters (newline and
 * tab kept) as '?'. NULL when out of memory. */
static char *shown_copy(const struct ctl_service *svc, const char *s, size_t n)
{
	char *c = mail_mask_traps(s, n, svc->trap_domains, svc->trap_addresses, &n, NULL);
	if (!c)
		return NULL;
	unsigned char *p = (unsigned char *)c;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
			i++;
			continue;
		}
		size_t len = text_utf8_len(p + i, n - i);
		if (!len || ((p[i] < 0x20 || p[i] == 0x7f) && p[i] != '\n' && p[i] != '\t')) {
			p[o++] = '?';
			i++;
			continue;
		}
		memmove(p + o, p + i, len);
		o += len;
		i += len;
	}
	while (o && (p[o - 1] == '\n' || p[o - 1] == ' ' || p[o - 1] == '\t'))
		o--;
	c[o] = '\0';
	return c;
}

struct samples_ctx {
	const struct ctl_service *svc;
	struct store *reader;
	int (*fn)(const struct ctl_sample *s, void *arg);
	void *arg;
	int64_t received_at;
	enum store_class cls;
	int stop, rc;
};

static int sample_show(const struct store_trap_hit *h, void *arg)
{
	struct samples_ctx *c = arg;
	struct ctl_sample s = {.received_at = c->received_at, .cls = c->cls, .size = h->size,
			       .envelope = true};
	size_t slen = h->sample ? h->sample_len : 0;
	if (slen > CTL_SAMPLE_SHOWN)
		slen = CTL_SAMPLE_SHOWN;
	char *helo = shown_copy(c->svc, h->helo, strlen(h->helo));
	char *from = shown_copy(c->svc, h->mail_from, strlen(h->mail_from));
	char *signals = shown_copy(c->svc, h->signals, strlen(h->signals));
	char *sample = h->sample ? shown_copy(c->svc, h->sample, slen) : NULL;
	if (sample)
		slen = strlen(sample); /* shorter now: CRLF as LF, the last blank lines gone */
	if (!helo || !from || !signals || (h->sample && !sample)) {
		c->rc = CTL_ENOMEM;
	} else {
		s.helo = helo;
		s.mail_from = from;
		s.signals = signals;
		s.sample = sample;
		s.sample_len = slen;
		c->stop = c->fn(&s, c->arg);
	}
	free(helo);
	free(from);
	free(signals);
	free(sample);
	return 0;
}

static int sample_one(int64_t id, int64_t received_at, enum store_class cls, void *arg)
{
	struct samples_ctx *c = arg;
	c->received_at = received_at;
	c->cls = cls;
	int rc = store_trap_hit_get(c->reader, id, sample_show, c);
	if (rc == STORE_ENOTFOUND) { /* evidence added by a command or a feed: no envelope */
		struct ctl_sample s = {.received_at = received_at, .cls = cls, .helo = "",
				       .mail_from = "", .signals = ""};
		c->stop = c->fn(&s, c->arg);
	} else if (rc != STORE_OK) { /* ... or a store error */
		c->rc = rc;
	}
	return c->stop || c->rc != CTL_OK;
}

int ctl_review_samples(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		       int (*fn)(const struct ctl_sample *s, void *arg), void *arg)
{
	struct samples_ctx c = {.svc = svc, .reader = reader, .fn = fn, .arg = arg};
	int rc = store_evidence_recent(reader, ip, STORE_KIND_TRAP, CTL_SAMPLES_SHOWN, sample_one,
				       &c);
	return rc != STORE_OK ? rc : c.rc;
}

/* ---- the commands ------------------------------------------------------------------------ */

static void ticket_text(FILE *f, const void *item)
{
	const struct store_ticket *t = item;
	char ip[IP_STRLEN], at[TIME_STRLEN], email[TEXT_ESCAPED_MAX(STORE_EMAIL_MAX)];
	ip_format(t->ip, ip);
	time_format_iso8601(t->created_at, at);
	fprintf(f, "%s ip=%s status=%s filed_at=%s requests=%u email=\"%s\"", t->id, ip,
		store_ticket_status_name(t->status), at, 1 + t->joined_n,
		text_escape(t->email, email, sizeof(email)));
	if (t->decided_at) {
		char who[TEXT_ESCAPED_MAX(64)];
		time_format_iso8601(t->decided_at, at);
		fprintf(f, " decided_at=%s %s=\"%s\"", at, t->by_action ? "closed_by" : "moderator",
			text_escape(t->moderator, who, sizeof(who)));
	}
	fputc('\n', f);
}

static int ticket_one(const struct store_ticket *t, void *arg)
{
	struct ctl_list *st = arg;
	return ctl_list_row(st, st->r->req->json ? ticket_json(t, false) : NULL, ticket_text, t);
}

int ctl_run_review_list(struct ctl_run *r)
{
	struct ctl_list st;
	ctl_list_begin(&st, r);
	return ctl_list_end(&st, store_ticket_foreach(r->svc->reader, !r->req->all, ticket_one, &st),
			    r->req->all ? "no review request" : "no review request is waiting");
}

/* The ticket of the request, or the message that there is none. An exit status. */
static int ticket_read(const struct ctl_run *r, struct store_ticket *t)
{
	int rc = store_ticket_get(r->svc->reader, r->req->id, t);
	if (rc == STORE_ENOTFOUND) {
		fprintf(r->err, "trapline: no review request %s (see trapline review list --all)\n",
			r->req->id);
		return CTL_EXIT_USAGE;
	}
	return rc == STORE_OK ? CTL_EXIT_OK : ctl_fail_store(r, rc);
}

static void field_text(FILE *f, const char *name, const char *value)
{
	size_t n = strlen(value);
	char *esc = malloc(TEXT_ESCAPED_MAX(n));
	fprintf(f, "%s: \"%s\"\n", name, esc ? text_escape(value, esc, TEXT_ESCAPED_MAX(n)) : "?");
	free(esc);
}

struct show_ctx {
	const struct ctl_run *r;
	json_t *arr; /* JSON: the rows; text: NULL */
	bool oom;
};

static int event_show(const struct store_ticket_event *e, void *arg)
{
	struct show_ctx *c = arg;
	if (c->arr) {
		json_t *o = json_pack("{s:o,s:s,s:s,s:s}", "at", ctl_json_time(e->at), "what",
				      e->what, "who", e->who, "why", e->why);
		c->oom |= !o || json_array_append_new(c->arr, o) != 0;
		return c->oom;
	}
	char at[TIME_STRLEN], who[TEXT_ESCAPED_MAX(64)], why[TEXT_ESCAPED_MAX(STORE_TEXT_MAX)];
	time_format_iso8601(e->at, at);
	fprintf(c->r->out, "  %s %s who=\"%s\" why=\"%s\"\n", at, e->what,
		text_escape(e->who, who, sizeof(who)), text_escape(e->why, why, sizeof(why)));
	return 0;
}

static int sample_print(const struct ctl_sample *s, void *arg)
{
	struct show_ctx *c = arg;
	if (c->arr) {
		json_t *o = json_pack("{s:o,s:s,s:b,s:s,s:s,s:I,s:s}", "received_at",
				      ctl_json_time(s->received_at), "class", store_class_name(s->cls),
				      "envelope", s->envelope, "helo", s->helo, "mail_from",
				      s->mail_from, "size", (json_int_t)s->size, "signals", s->signals);
		if (o)
			json_object_set_new(o, "headers", s->sample ? json_stringn(s->sample,
										     s->sample_len)
								    : json_null());
		c->oom |= !o || json_array_append_new(c->arr, o) != 0;
		return c->oom;
	}
	FILE *f = c->r->out;
	char at[TIME_STRLEN], helo[TEXT_ESCAPED_MAX(256)], from[TEXT_ESCAPED_MAX(256)];
	char sig[TEXT_ESCAPED_MAX(256)], line[TEXT_ESCAPED_MAX(512)], part[513];
	time_format_iso8601(s->received_at, at);
	fprintf(f, "  trap hit %s class=%s size=%llu helo=\"%s\" mail_from=\"%s\" signals=\"%s\"\n",
		at, store_class_name(s->cls), (unsigned long long)s->size,
		text_escape(s->helo, helo, sizeof(helo)), text_escape(s->mail_from, from, sizeof(from)),
		text_escape(s->signals, sig, sizeof(sig)));
	for (size_t i = 0; s->sample && i < s->sample_len;) {
		size_t n = strcspn(s->sample + i, "\n");
		if (i + n > s->sample_len)
			n = s->sample_len - i;
		snprintf(part, sizeof(part), "%.*s", (int)(n > 512 ? 512 : n), s->sample + i);
		fprintf(f, "    | %s\n", text_escape(part, line, sizeof(line)));
		i += n + 1;
	}
	return 0;
}

/* A stored analysis's string member, "" when absent or not a string. */
static const char *member(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* One user report of the address with the Received-chain analysis that chose it: the same
 * explanation the reporter got, so the moderator sees why this address and not another. */
static int report_print(const struct store_report *rp, void *arg)
{
	struct show_ctx *c = arg;
	json_t *a = json_loads(rp->analysis ? rp->analysis : "", 0, NULL);
	char ip[IP_STRLEN];
	ip_format(rp->source, ip);
	if (c->arr) {
		json_t *o = json_pack("{s:s,s:o,s:s,s:s,s:o}", "id", rp->id, "received_at",
				      ctl_json_time(rp->received_at), "class",
				      store_class_name(rp->cls), "source_ip", ip, "analysis",
				      a ? a : json_null());
		c->oom |= !o || json_array_append_new(c->arr, o) != 0;
		return c->oom;
	}
	FILE *f = c->r->out;
	char at[TIME_STRLEN], why[TEXT_ESCAPED_MAX(1024)];
	time_format_iso8601(rp->received_at, at);
	fprintf(f, "  report %s %s class=%s source=%s\n", rp->id, at, store_class_name(rp->cls), ip);
	fprintf(f, "    why: %s\n", text_escape(member(a, "why"), why, sizeof(why)));
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(a, "hops"), i, h) {
		char v[TEXT_ESCAPED_MAX(32)], hip[TEXT_ESCAPED_MAX(64)];
		char rdns[TEXT_ESCAPED_MAX(256)], helo[TEXT_ESCAPED_MAX(256)];
		fprintf(f, "    hop %zu: %s ip=%s rdns=%s helo=%s\n", i + 1,
			text_escape(member(h, "verdict"), v, sizeof(v)),
			text_escape(member(h, "ip"), hip, sizeof(hip)),
			text_escape(member(h, "rdns"), rdns, sizeof(rdns)),
			text_escape(member(h, "helo"), helo, sizeof(helo)));
		fprintf(f, "      why: %s\n", text_escape(member(h, "why"), why, sizeof(why)));
	}
	json_decref(a);
	return 0;
}

/* A request's own fields: who sent it and what it says. */
static void request_text(FILE *f, const struct store_ticket *t, const char *indent)
{
	char at[TIME_STRLEN], client[IP_STRLEN], name[32];
	time_format_iso8601(t->created_at, at);
	ip_format(t->client, client);
	fprintf(f, "%sfiled_at: %s\n%sclient: %s%s\n", indent, at, indent, client,
		ip_is_v4(t->client) ? "" : "/64");
	snprintf(name, sizeof(name), "%semail", indent);
	field_text(f, name, t->email);
	snprintf(name, sizeof(name), "%sfixed", indent);
	field_text(f, name, t->fixed);
	snprintf(name, sizeof(name), "%scomment", indent);
	field_text(f, name, t->comment);
}

struct joined_ctx {
	const struct ctl_run *r;
	json_t *arr; /* JSON: the requests; text: NULL */
	bool oom;
};

static int joined_show(const struct store_ticket *t, void *arg)
{
	struct joined_ctx *c = arg;
	if (c->arr) {
		json_t *o = ticket_json(t, true);
		c->oom |= !o || json_array_append_new(c->arr, o) != 0;
		return c->oom;
	}
	fprintf(c->r->out, "  request %s\n", t->id);
	request_text(c->r->out, t, "    ");
	return 0;
}

static int show_text(struct ctl_run *r, const struct store_ticket *t, const struct ctl_status *s)
{
	FILE *f = r->out;
	char ip[IP_STRLEN], at[TIME_STRLEN], who[96];
	ip_format(t->ip, ip);
	fprintf(f, "ticket: %s\nstatus: %s\nip: %s\n", t->id, store_ticket_status_name(t->status),
		ip);
	if (t->joined[0])
		fprintf(f, "joined: %s (the open ticket this request joined, decided with it: "
			   "trapline review show %s)\n",
			t->joined, t->joined);
	request_text(f, t, "");
	if (t->decided_at) {
		time_format_iso8601(t->decided_at, at);
		fprintf(f, "decided_at: %s\n", at);
		field_text(f, t->by_action ? "closed_by" : "moderator", t->moderator);
		fprintf(f, "%s: %s\n", t->by_action ? "closed_because" : "decided_by",
			t->by_action ? (t->status == STORE_TICKET_DELISTED
						? "the address was delisted outside the ticket"
						: "the address was excluded outside the ticket")
				     : ctl_who_words(t->moderator, who, sizeof(who)));
		if (t->until) {
			time_format_iso8601(t->until, at);
			fprintf(f, "until: %s\n", at);
		}
		field_text(f, "reason", t->reason);
	}
	int rc;
	if (!t->joined[0]) {
		fprintf(f, "requests: %u (this one and %u that joined it)\n", 1 + t->joined_n,
			t->joined_n);
		struct joined_ctx jc = {.r = r};
		rc = store_ticket_joined_foreach(r->svc->reader, t->id, joined_show, &jc);
		if (rc != STORE_OK)
			return ctl_fail_store(r, rc);
	}
	fprintf(f, "history:\n");
	struct show_ctx c = {.r = r};
	rc = store_ticket_event_foreach(r->svc->reader, t->id, event_show, &c);
	if (rc != STORE_OK)
		return ctl_fail_store(r, rc);
	fprintf(f, "the address now:\n");
	ctl_status_text(f, s);
	fprintf(f, "recent trap hits (trap addresses masked):\n");
	rc = ctl_review_samples(r->svc, r->svc->reader, t->ip, sample_print, &c);
	if (rc != CTL_OK)
		return ctl_fail_store(r, rc);
	fprintf(f, "recent user reports (the Received chain as analysed):\n");
	rc = store_report_recent(r->svc->reader, t->ip, CTL_REPORTS_SHOWN, report_print, &c);
	return rc == STORE_OK ? CTL_EXIT_OK : ctl_fail_store(r, rc);
}

static int show_json(struct ctl_run *r, const struct store_ticket *t, const struct ctl_status *s)
{
	struct show_ctx ev = {.r = r, .arr = json_array()}, sm = {.r = r, .arr = json_array()};
	struct show_ctx rp = {.r = r, .arr = json_array()};
	struct joined_ctx jc = {.r = r, .arr = json_array()};
	int rc = ev.arr && sm.arr && rp.arr && jc.arr
			 ? store_ticket_event_foreach(r->svc->reader, t->id, event_show, &ev)
			 : CTL_ENOMEM;
	if (rc == CTL_OK && !t->joined[0])
		rc = store_ticket_joined_foreach(r->svc->reader, t->id, joined_show, &jc);
	if (rc == CTL_OK)
		rc = ctl_review_samples(r->svc, r->svc->reader, t->ip, sample_print, &sm);
	if (rc == CTL_OK)
		rc = store_report_recent(r->svc->reader, t->ip, CTL_REPORTS_SHOWN, report_print, &rp);
	if (rc != CTL_OK || ev.oom || sm.oom || rp.oom || jc.oom) {
		json_decref(ev.arr);
		json_decref(sm.arr);
		json_decref(rp.arr);
		json_decref(jc.arr);
		return rc != CTL_OK ? ctl_fail_store(r, rc) : ctl_print_json(r, NULL);
	}
	return ctl_print_json(r, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "ticket",
					   ctl_ticket_json(t), "joined_requests", jc.arr, "history",
					   ev.arr, "status", ctl_status_json(s), "trap_hits", sm.arr,
					   "reports", rp.arr));
}

int ctl_run_review_show(struct ctl_run *r)
{
	struct store_ticket *t = malloc(sizeof(*t));
	if (!t)
		return ctl_print_json(r, NULL);
	int status = ticket_read(r, t);
	struct ctl_status s;
	if (status == CTL_EXIT_OK) {
		int rc = ctl_query_status(r->svc, r->svc->reader, t->ip, r->now, &s);
		status = rc != CTL_OK ? ctl_fail_store(r, rc)
				      : r->req->json ? show_json(r, t, &s) : show_text(r, t, &s);
	}
	free(t);
	return status;
}

static enum store_ticket_status decision_of(const struct ctl_command *c)
{
	if (strcmp(c->name, "review-delist") == 0)
		return STORE_TICKET_DELISTED;
	return strcmp(c->name, "review-exclude") == 0 ? STORE_TICKET_EXCLUDED
						     : STORE_TICKET_REJECTED;
}

static int decide_refused(const struct ctl_run *r, int rc, const struct writer_decision *d)
{
	switch (d->refusal) {
	case WRITER_REFUSED_NO_TICKET:
		fprintf(r->err, "trapline: no review request %s (see trapline review list --all)\n",
			d->ticket);
		return CTL_EXIT_USAGE;
	case WRITER_REFUSED_DECIDED: {
		char at[TIME_STRLEN], who[96];
		time_format_iso8601(d->was_at, at);
		ctl_who_words(d->was_who, who, sizeof(who));
		if (d->was_by_action)
			fprintf(r->err, "trapline: review request %s was closed at %s: %s %s the "
					"address, which answered it (trapline review show %s)\n",
				d->ticket, at, who,
				d->was == STORE_TICKET_DELISTED ? "delisted" : "excluded", d->ticket);
		else
			fprintf(r->err, "trapline: review request %s was decided already (%s by %s at "
					"%s; trapline review show %s)\n",
				d->ticket, store_ticket_status_name(d->was), who, at, d->ticket);
		return CTL_EXIT_USAGE;
	}
	default:
		return ctl_fail_writer(r, rc);
	}
}

int ctl_run_review_decide(struct ctl_run *r)
{
	const struct ctl_request *req = r->req;
	enum store_ticket_status st = decision_of(req->cmd);
	if (strlen(req->why) > 900) {
		fprintf(r->err, "trapline: --why: longer than 900 characters\n");
		return CTL_EXIT_USAGE;
	}
	struct writer_decision d;
	int rc = ctl_review_decide(r->svc, req->id, st, st == STORE_TICKET_EXCLUDED ? req->until : 0,
				   r->who, req->why, NULL, &d);
	if (rc != WRITER_OK)
		return decide_refused(r, rc, &d);
	struct ctl_status s;
	rc = ctl_query_status(r->svc, r->svc->reader, d.ip, r->now, &s);
	if (rc != CTL_OK)
		return ctl_fail_store(r, rc);
	char ip[IP_STRLEN];
	ip_format(d.ip, ip);
	/* d.ticket: the ticket decided, which a request that joined it stands for. */
	if (req->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:i,s:o}", "ticket", d.ticket, "decision",
				      store_ticket_status_name(st), "ip", ip, "until",
				      ctl_json_time(d.until), "why", req->why, "requests",
				      (int)d.requests, "status", ctl_status_json(&s));
		return ctl_print_json(r, o);
	}
	fprintf(r->out, "%s: %s (review request %s closed", store_ticket_status_name(st), ip,
		d.ticket);
	if (d.requests > 1)
		fprintf(r->out, " with the %u requests that joined it", d.requests - 1);
	fprintf(r->out, "; their pages show the decision)\n");
	ctl_status_line(r->out, &s);
	return CTL_EXIT_OK;
}
