/* smtp_dialog.c - the SMTP dialogue (RFC 5321, 1870, 2034, 2920, 3207, 6152) as a state
 * machine over bytes: a state plus a table of {verb, allowed states, handler}. It never
 * touches a socket; the server and the tests feed it bytes and read its replies. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp.h"

enum dstate {
	ST_INIT = 1 << 0,  /* greeted, no HELO/EHLO yet */
	ST_READY = 1 << 1, /* HELO/EHLO seen, no transaction */
	ST_MAIL = 1 << 2,  /* MAIL accepted, no recipient yet */
	ST_RCPT = 1 << 3,  /* at least one recipient */
	ST_DATA = 1 << 4,  /* reading the message */
	ST_WAIT = 1 << 5,  /* the host stores the message */
	ST_TLS = 1 << 6,   /* the host starts TLS */
	ST_CLOSED = 1 << 7,
};

#define ST_ANY (ST_INIT | ST_READY | ST_MAIL | ST_RCPT)

/* Where the reader stands in the message text: only <CRLF>.<CRLF> ends it (RFC 5321
 * 4.1.1.4), so a bare LF never does, and a dot starting a line is removed (4.5.2). */
enum data_state { DS_BOL, DS_MID, DS_CR, DS_DOT, DS_DOT_CR };

#define PATH_MAX_LEN 256 /* RFC 5321 4.5.3.1.3 */
#define HELO_MAX 255

struct smtp_dialog {
	struct smtp_dialog_config cfg;
	enum dstate st;
	enum smtp_event event;
	bool tls;
	char no_mail[224]; /* MAIL is refused with this reason ("": taken) */
	unsigned errors;
	/* the command line being read */
	char line[SMTP_LINE_MAX + 1];
	size_t line_len;
	bool line_long;
	/* the transaction */
	char helo[HELO_MAX + 1];
	char mail_from[PATH_MAX_LEN + 1];
	char **rcpts;
	unsigned n_rcpts;
	uint8_t *data;
	size_t data_len, data_cap;
	uint64_t data_total;
	bool data_dropped;         /* the host had no room: read to the end, then 452 */
	enum data_state ds;
	uint64_t commands;         /* command lines read */
	smtp_dialog_mem_fn *mem;   /* the host's account of message buffers; NULL: none */
	void *mem_arg;
	/* replies */
	uint8_t *out;
	size_t out_len, out_cap;
	bool out_oom;
};

/* ---- replies ------------------------------------------------------------------------- */

static void out_put(struct smtp_dialog *d, const char *s, size_t n)
{
	if (d->out_len + n > d->out_cap) {
		size_t cap = d->out_cap ? d->out_cap : 512;
		while (cap < d->out_len + n)
			cap *= 2;
		uint8_t *p = realloc(d->out, cap);
		if (!p) {
			d->out_oom = true; /* the session is closed: a reply cannot be half sent */
			d->event = SMTP_EVENT_CLOSE;
			d->st = ST_CLOSED;
			return;
		}
		d->out = p;
		d->out_cap = cap;
	}
	memcpy(d->out + d->out_len, s, n);
	d->out_len += n;
}

static void close_now(struct smtp_dialog *d)
{
	d->st = ST_CLOSED;
	d->event = SMTP_EVENT_CLOSE;
}

/* One reply line; a code of 500 and up (but 552, the size limit) is one of the client's
 * errors, and max_errors of them close the session. */
static void __attribute__((format(printf, 2, 3))) reply(struct smtp_dialog *d, const char *fmt,
							 ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 3)
		n = (int)(sizeof buf - 3);
	buf[n++] = '\r';
	buf[n++] = '\n';
	out_put(d, buf, (size_t)n);
	int code = atoi(buf);
	if (code >= 500 && code != 552 && d->st != ST_CLOSED && ++d->errors >= d->cfg.max_errors) {
		char bye[300];
		int m = snprintf(bye, sizeof bye, "421 4.7.0 %s Error: too many errors\r\n",
				 d->cfg.hostname);
		out_put(d, bye, (size_t)m);
		close_now(d);
	}
}

/* ---- the transaction ------------------------------------------------------------------ */

/* The message buffer goes: a session between messages holds none, so that the host's budget
 * of message bytes (smtp_memory_max) counts only messages being received or stored. */
static void data_release(struct smtp_dialog *d)
{
	if (d->data_cap && d->mem)
		d->mem(d->mem_arg, d->data_cap, 0);
	free(d->data);
	d->data = NULL;
	d->data_cap = 0;
	d->data_len = 0;
}

static void transaction_reset(struct smtp_dialog *d)
{
	for (unsigned i = 0; i < d->n_rcpts; i++)
		free(d->rcpts[i]);
	d->n_rcpts = 0;
	d->mail_from[0] = '\0';
	data_release(d);
	d->data_total = 0;
	d->data_dropped = false;
	if (d->st & (ST_MAIL | ST_RCPT | ST_DATA | ST_WAIT))
		d->st = ST_READY;
}

/* Grows (or first allocates) the message buffer to cap bytes, if the host has room for it.
 * false: it has not, or memory ran out; the buffer is as it was. */
static bool data_grow(struct smtp_dialog *d, size_t cap)
{
	if (d->mem && !d->mem(d->mem_arg, d->data_cap, cap))
		return false;
	uint8_t *g = realloc(d->data, cap);
	if (!g) {
		if (d->mem)
			d->mem(d->mem_arg, cap, d->data_cap);
		return false;
	}
	d->data = g;
	d->data_cap = cap;
	return true;
}

/* ---- paths ----------------------------------------------------------------------------- */

/* Skips "FROM:" / "TO:" (case-insensitive, blanks after the colon tolerated), then reads the
 * path into out: "<addr>", "<>" (out = ""), or a bare address (what much ratware sends). A
 * source route (<@a,@b:user@c>, RFC 5321 4.1.2) is dropped. *params points after the path.
 * false: a syntax error, whose reply is already written. */
static bool path_read(struct smtp_dialog *d, const char *arg, const char *kw, char *out,
		      const char **params)
{
	size_t kwlen = strlen(kw);
	if (strncasecmp(arg, kw, kwlen) != 0) {
		reply(d, "501 5.5.4 Syntax: %s<address>", kw);
		return false;
	}
	const char *p = arg + kwlen;
	p += strspn(p, " ");
	const char *start, *end;
	if (*p == '<') {
		start = ++p;
		bool quoted = false;
		while (*p && (quoted || *p != '>')) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (*p != '>') {
			reply(d, "501 5.1.7 Bad address syntax");
			return false;
		}
		end = p++;
	} else {
		start = p;
		p += strcspn(p, " ");
		end = p;
	}
	if (end > start && *start == '@') { /* a source route */
		const char *colon = memchr(start, ':', (size_t)(end - start));
		if (!colon) {
			reply(d, "501 5.1.7 Bad address syntax");
			return false;
		}
		start = colon + 1;
	}
	size_t n = (size_t)(end - start);
	if (n > PATH_MAX_LEN) {
		reply(d, "501 5.1.7 Address too long");
		return false;
	}
	memcpy(out, start, n);
	out[n] = '\0';
	*params = p + strspn(p, " ");
	return true;
}

/* The first parameter of s ("SIZE=100 BODY=8BITMIME") into name/value; returns the rest. */
static const char *param_next(const char *s, char *name, size_t ncap, const char **value,
			      size_t *vlen)
{
	size_t n = strcspn(s, " =");
	snprintf(name, ncap, "%.*s", (int)(n < ncap ? n : ncap - 1), s);
	s += n;
	*value = "";
	*vlen = 0;
	if (*s == '=') {
		*value = ++s;
		*vlen = strcspn(s, " ");
		s += *vlen;
	}
	return s + strspn(s, " ");
}

/* True when item equals one of the comma/blank separated entries of list, without case. */
static bool list_has(const char *list, const char *item, size_t n)
{
	for (const char *p = list; p && *p;) {
		p += strspn(p, ", \t");
		size_t l = strcspn(p, ", \t");
		if (l == n && n > 0 && strncasecmp(p, item, n) == 0)
			return true;
		p += l;
	}
	return false;
}

/* A trap: an address at a trap domain, or one of the trap addresses. */
static bool is_trap(const struct smtp_dialog *d, const char *addr)
{
	const char *at = strrchr(addr, '@');
	if (!at || at == addr)
		return false;
	size_t dlen = strlen(at + 1);
	return list_has(d->cfg.trap_domains, at + 1, dlen) ||
	       list_has(d->cfg.trap_addresses, addr, strlen(addr));
}

/* ---- the commands ---------------------------------------------------------------------- */

static void cmd_helo(struct smtp_dialog *d, const char *arg, bool ehlo)
{
	size_t n = strcspn(arg, " ");
	if (n == 0) {
		reply(d, "501 5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		return;
	}
	transaction_reset(d);
	snprintf(d->helo, sizeof d->helo, "%.*s", (int)(n > HELO_MAX ? HELO_MAX : n), arg);
	d->st = ST_READY;
	if (!ehlo) {
		reply(d, "250 %s", d->cfg.hostname);
		return;
	}
	/* RFC 5321 4.1.1.1: every line but the last has a '-' after the code. */
	char size[32];
	snprintf(size, sizeof size, "SIZE %zu", d->cfg.max_size);
	const char *lines[] = { d->cfg.hostname, "PIPELINING", size, "8BITMIME",
				"ENHANCEDSTATUSCODES", "STARTTLS" };
	size_t count = sizeof lines / sizeof lines[0];
	if (!d->cfg.tls_available || d->tls)
		count--; /* STARTTLS is last: offered only before TLS */
	for (size_t i = 0; i < count; i++)
		reply(d, "250%c%s", i + 1 < count ? '-' : ' ', lines[i]);
}

static void cmd_ehlo(struct smtp_dialog *d, const char *arg)
{
	cmd_helo(d, arg, true);
}

static void cmd_helo_plain(struct smtp_dialog *d, const char *arg)
{
	cmd_helo(d, arg, false);
}

static void cmd_mail(struct smtp_dialog *d, const char *arg)
{
	if (d->no_mail[0]) {
		reply(d, "550 5.7.1 Error: %s: nothing is accepted", d->no_mail);
		return;
	}
	const char *params;
	if (!path_read(d, arg, "FROM:", d->mail_from, &params))
		return;
	while (*params) {
		char name[16];
		const char *v;
		size_t vlen;
		params = param_next(params, name, sizeof name, &v, &vlen);
		if (strcasecmp(name, "SIZE") == 0) {
			/* RFC 1870 6: a declared size over the limit is refused at once. */
			char num[24];
			snprintf(num, sizeof num, "%.*s", (int)(vlen < 23 ? vlen : 23), v);
			char *end;
			unsigned long long sz = strtoull(num, &end, 10);
			if (vlen == 0 || *end || num[0] < '0' || num[0] > '9') {
				reply(d, "501 5.5.4 Bad SIZE parameter");
				return;
			}
			if (sz > d->cfg.max_size) {
				reply(d, "552 5.3.4 Message size exceeds fixed limit");
				return;
			}
		} else if (strcasecmp(name, "BODY") == 0) {
			if (!((vlen == 4 && strncasecmp(v, "7BIT", 4) == 0) ||
			      (vlen == 8 && strncasecmp(v, "8BITMIME", 8) == 0))) {
				reply(d, "501 5.5.4 Bad BODY parameter");
				return;
			}
		} else {
			reply(d, "555 5.5.4 Unsupported option: %s", name);
			return;
		}
	}
	d->st = ST_MAIL;
	reply(d, "250 2.1.0 Ok");
}

static void cmd_rcpt(struct smtp_dialog *d, const char *arg)
{
	char addr[PATH_MAX_LEN + 1];
	const char *params;
	if (!path_read(d, arg, "TO:", addr, &params))
		return;
	if (*params) {
		char name[16];
		const char *v;
		size_t vlen;
		param_next(params, name, sizeof name, &v, &vlen);
		reply(d, "555 5.5.4 Unsupported option: %s", name);
		return;
	}
	size_t alen = strlen(addr);
	if (alen > 0 && addr[alen - 1] == '.')
		addr[alen - 1] = '\0'; /* a fully qualified domain's root dot */
	/* A trap never relays and never takes mail meant for a person. */
	if (!is_trap(d, addr)) {
		reply(d, "550 5.1.1 <%s>: Recipient address rejected: User unknown", addr);
		return;
	}
	for (unsigned i = 0; i < d->n_rcpts; i++) {
		if (strcasecmp(d->rcpts[i], addr) == 0) {
			reply(d, "250 2.1.5 Ok");
			return;
		}
	}
	if (d->n_rcpts >= d->cfg.max_rcpts) {
		reply(d, "452 4.5.3 Error: too many recipients");
		return;
	}
	char *copy = strdup(addr);
	char **grown = copy ? realloc(d->rcpts, (d->n_rcpts + 1) * sizeof *d->rcpts) : NULL;
	if (!grown) {
		free(copy);
		reply(d, "452 4.3.1 Error: insufficient system resources");
		return;
	}
	d->rcpts = grown;
	d->rcpts[d->n_rcpts++] = copy;
	d->st = ST_RCPT;
	reply(d, "250 2.1.5 Ok");
}

static void cmd_data(struct smtp_dialog *d, const char *arg)
{
	if (*arg) {
		reply(d, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (d->n_rcpts == 0) {
		reply(d, "554 5.5.1 Error: no valid recipients");
		return;
	}
	/* The first buffer now: when the host's budget is spent, the client hears it before it
	 * sends the message (RFC 5321 4.3.2 lists 452 among DATA's replies). */
	if (!d->data && !data_grow(d, d->cfg.max_size < 4096 ? d->cfg.max_size : 4096)) {
		reply(d, "452 4.3.1 Error: insufficient system storage, try again later");
		return;
	}
	d->st = ST_DATA;
	d->ds = DS_BOL;
	d->data_len = 0;
	d->data_total = 0;
	d->data_dropped = false;
	reply(d, "354 End data with <CR><LF>.<CR><LF>");
}

static void cmd_rset(struct smtp_dialog *d, const char *arg)
{
	(void)arg;
	transaction_reset(d);
	reply(d, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_dialog *d, const char *arg)
{
	(void)arg;
	reply(d, "250 2.0.0 Ok");
}

static void cmd_quit(struct smtp_dialog *d, const char *arg)
{
	(void)arg;
	reply(d, "221 2.0.0 Bye");
	close_now(d);
}

static void cmd_vrfy(struct smtp_dialog *d, const char *arg)
{
	(void)arg;
	reply(d, "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery");
}

static void cmd_help(struct smtp_dialog *d, const char *arg)
{
	(void)arg;
	reply(d, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP%s",
	      d->cfg.tls_available && !d->tls ? " STARTTLS" : "");
}

static void cmd_starttls(struct smtp_dialog *d, const char *arg)
{
	if (!d->cfg.tls_available) {
		reply(d, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (d->tls) {
		reply(d, "503 5.5.1 Error: TLS already active");
		return;
	}
	if (*arg) {
		reply(d, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	reply(d, "220 2.0.0 Ready to start TLS");
	d->st = ST_TLS;
	d->event = SMTP_EVENT_STARTTLS;
}

static void cmd_not_implemented(struct smtp_dialog *d, const char *arg)
{
	(void)arg;
	reply(d, "502 5.5.1 Error: command not implemented");
}

/* A PROXY header from an address not in smtp_proxy_trusted: whoever sends it wants its
 * claim believed, and a trap that did so could be made to list anyone. */
static void cmd_proxy(struct smtp_dialog *d, const char *arg)
{
	(void)arg;
	reply(d, "554 5.7.0 Error: PROXY header not accepted from this address");
	close_now(d);
}

struct command {
	const char *verb;
	unsigned states;          /* where it is allowed */
	const char *out_of_order; /* the reply elsewhere */
	void (*fn)(struct smtp_dialog *d, const char *arg);
};

static const struct command commands[] = {
	{ "EHLO", ST_ANY, NULL, cmd_ehlo },
	{ "HELO", ST_ANY, NULL, cmd_helo_plain },
	{ "MAIL", ST_READY, NULL, cmd_mail },
	{ "RCPT", ST_MAIL | ST_RCPT, "503 5.5.1 Error: need MAIL command", cmd_rcpt },
	{ "DATA", ST_MAIL | ST_RCPT, "503 5.5.1 Error: need RCPT command", cmd_data },
	{ "RSET", ST_ANY, NULL, cmd_rset },
	{ "NOOP", ST_ANY, NULL, cmd_noop },
	{ "QUIT", ST_ANY, NULL, cmd_quit },
	{ "VRFY", ST_ANY, NULL, cmd_vrfy },
	{ "HELP", ST_ANY, NULL, cmd_help },
	{ "STARTTLS", ST_INIT | ST_READY, "503 5.5.1 Error: STARTTLS inside a transaction",
	  cmd_starttls },
	{ "EXPN", ST_ANY, NULL, cmd_not_implemented },
	{ "BDAT", ST_ANY, NULL, cmd_not_implemented },
	{ "AUTH", ST_ANY, NULL, cmd_not_implemented },
	{ "ETRN", ST_ANY, NULL, cmd_not_implemented },
	{ "TURN", ST_ANY, NULL, cmd_not_implemented },
	{ "PROXY", ST_ANY, NULL, cmd_proxy },
};

/* The reply to MAIL out of order depends on why. */
static const char *mail_out_of_order(const struct smtp_dialog *d)
{
	return d->st == ST_INIT ? "503 5.5.1 Error: send HELO/EHLO first"
				: "503 5.5.1 Error: nested MAIL command";
}

static void command_run(struct smtp_dialog *d, char *line, size_t len)
{
	if (memchr(line, '\0', len)) {
		reply(d, "500 5.5.2 Error: NUL byte in command");
		return;
	}
	line[len] = '\0';
	size_t vlen = strcspn(line, " ");
	const char *arg = line + vlen;
	arg += strspn(arg, " ");
	/* Trailing blanks are not part of the argument. */
	size_t alen = strlen(arg);
	while (alen > 0 && arg[alen - 1] == ' ')
		line[(size_t)(arg - line) + --alen] = '\0';
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const struct command *c = &commands[i];
		if (strlen(c->verb) != vlen || strncasecmp(line, c->verb, vlen) != 0)
			continue;
		if (!(c->states & d->st)) {
			reply(d, "%s", c->out_of_order ? c->out_of_order : mail_out_of_order(d));
			return;
		}
		c->fn(d, arg);
		return;
	}
	reply(d, "500 5.5.2 Error: command not recognized");
}

/* ---- reading -------------------------------------------------------------------------- */

/* Command lines end in CRLF; a bare LF is taken as the end too, since much ratware sends it
 * and a trap wants its evidence (inside DATA it never ends anything). */
static size_t line_feed(struct smtp_dialog *d, const uint8_t *in, size_t len)
{
	const uint8_t *lf = memchr(in, '\n', len);
	size_t n = lf ? (size_t)(lf - in) : len;
	if (!d->line_long && d->line_len + n <= SMTP_LINE_MAX - 1) {
		memcpy(d->line + d->line_len, in, n);
		d->line_len += n;
	} else {
		d->line_long = true;
	}
	if (!lf)
		return len;
	size_t l = d->line_len;
	if (l > 0 && d->line[l - 1] == '\r')
		l--;
	d->commands++;
	if (d->line_long)
		reply(d, "500 5.5.2 Error: line too long");
	else
		command_run(d, d->line, l);
	d->line_len = 0;
	d->line_long = false;
	return n + 1;
}

static void data_put(struct smtp_dialog *d, const uint8_t *p, size_t n)
{
	d->data_total += n;
	if (d->data_total > d->cfg.max_size || d->data_dropped)
		return; /* read to the end and refused there (552): RFC 5321 4.5.3.1.10 */
	if (d->data_len + n > d->data_cap) {
		/* Doubling, but never past max_size (data_len + n is not past it here): a buffer
		 * twice the largest message would be held for nothing. */
		size_t cap = d->data_cap ? d->data_cap : 4096;
		while (cap < d->data_len + n)
			cap *= 2;
		if (cap > d->cfg.max_size)
			cap = d->cfg.max_size;
		if (!data_grow(d, cap)) {
			/* No room: what came is let go at once, the rest is read and dropped, and the
			 * end is answered 452 (the client tries again; nothing was acknowledged). */
			data_release(d);
			d->data_dropped = true;
			return;
		}
	}
	memcpy(d->data + d->data_len, p, n);
	d->data_len += n;
}

static void data_end(struct smtp_dialog *d)
{
	if (d->data_total > d->cfg.max_size) {
		transaction_reset(d);
		reply(d, "552 5.3.4 Error: message too big (the limit is %zu bytes)", d->cfg.max_size);
		return;
	}
	if (d->data_dropped) {
		transaction_reset(d);
		reply(d, "452 4.3.1 Error: insufficient system storage, try again later");
		return;
	}
	d->st = ST_WAIT;
	d->event = SMTP_EVENT_MESSAGE;
}

static size_t data_feed(struct smtp_dialog *d, const uint8_t *in, size_t len)
{
	static const uint8_t cr = '\r';
	size_t i = 0;
	while (i < len) {
		uint8_t c = in[i];
		if (d->ds == DS_MID) {
			/* The common case: copy up to the next CR at once. */
			const uint8_t *p = memchr(in + i, '\r', len - i);
			size_t n = p ? (size_t)(p - (in + i)) : len - i;
			data_put(d, in + i, n);
			i += n;
			if (p) {
				data_put(d, &cr, 1);
				i++;
				d->ds = DS_CR;
			}
			continue;
		}
		i++;
		switch (d->ds) {
		case DS_CR:
			data_put(d, &c, 1);
			d->ds = c == '\n' ? DS_BOL : c == '\r' ? DS_CR : DS_MID;
			break;
		case DS_BOL:
			if (c == '.') {
				d->ds = DS_DOT;
			} else {
				data_put(d, &c, 1);
				d->ds = c == '\r' ? DS_CR : DS_MID;
			}
			break;
		case DS_DOT: /* the dot was stuffing: dropped */
			if (c == '\r') {
				d->ds = DS_DOT_CR;
			} else {
				data_put(d, &c, 1);
				d->ds = DS_MID;
			}
			break;
		case DS_DOT_CR:
			if (c == '\n') {
				data_end(d);
				return i;
			}
			data_put(d, &cr, 1); /* ".\rX": a dot-stuffed line with a CR in it */
			data_put(d, &c, 1);
			d->ds = c == '\r' ? DS_CR : DS_MID;
			break;
		case DS_MID:
			break;
		}
	}
	return i;
}

/* ---- public ----------------------------------------------------------------------------- */

struct smtp_dialog *smtp_dialog_new(const struct smtp_dialog_config *cfg)
{
	struct smtp_dialog *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->cfg = *cfg;
	if (!d->cfg.hostname)
		d->cfg.hostname = "localhost";
	if (d->cfg.max_errors == 0)
		d->cfg.max_errors = 1;
	d->st = ST_INIT;
	return d;
}

void smtp_dialog_free(struct smtp_dialog *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->n_rcpts; i++)
		free(d->rcpts[i]);
	free(d->rcpts);
	data_release(d);
	free(d->out);
	free(d);
}

void smtp_dialog_set_mem(struct smtp_dialog *d, smtp_dialog_mem_fn *fn, void *arg)
{
	d->mem = fn;
	d->mem_arg = arg;
}

void smtp_dialog_greet(struct smtp_dialog *d)
{
	reply(d, "220 %s ESMTP", d->cfg.hostname);
}

void smtp_dialog_no_client(struct smtp_dialog *d)
{
	smtp_dialog_refuse_mail(d, "no client address (PROXY LOCAL)");
}

void smtp_dialog_refuse_mail(struct smtp_dialog *d, const char *why)
{
	if (d->no_mail[0])
		return; /* the first reason stands (PROXY LOCAL, then the proxy's own address) */
	/* A reply line holds no CR or LF: why comes from this program, but keep it one line. */
	size_t n = 0;
	for (; why[n] && n + 1 < sizeof d->no_mail; n++)
		d->no_mail[n] = why[n] == '\r' || why[n] == '\n' ? ' ' : why[n];
	d->no_mail[n] = '\0';
}

size_t smtp_dialog_feed(struct smtp_dialog *d, const uint8_t *in, size_t len,
			enum smtp_event *ev)
{
	size_t i = 0;
	if (d->st == ST_CLOSED) {
		*ev = SMTP_EVENT_CLOSE;
		d->event = SMTP_EVENT_NONE;
		return len;
	}
	while (i < len && d->event == SMTP_EVENT_NONE && !(d->st & (ST_WAIT | ST_TLS))) {
		if (d->st == ST_DATA)
			i += data_feed(d, in + i, len - i);
		else
			i += line_feed(d, in + i, len - i);
	}
	*ev = d->event;
	d->event = SMTP_EVENT_NONE;
	return i;
}

const uint8_t *smtp_dialog_output(const struct smtp_dialog *d, size_t *len)
{
	*len = d->out_len;
	return d->out;
}

void smtp_dialog_output_clear(struct smtp_dialog *d)
{
	d->out_len = 0;
}

void smtp_dialog_message(const struct smtp_dialog *d, struct smtp_message *out)
{
	out->helo = d->helo;
	out->mail_from = d->mail_from;
	out->rcpts = (const char *const *)d->rcpts;
	out->n_rcpts = d->n_rcpts;
	out->data = d->data ? d->data : (const uint8_t *)"";
	out->len = d->data_len;
	out->tls = d->tls;
}

void smtp_dialog_message_done(struct smtp_dialog *d, bool stored)
{
	if (d->st != ST_WAIT)
		return;
	transaction_reset(d);
	if (stored)
		reply(d, "250 2.0.0 Ok: stored");
	else
		reply(d, "451 4.3.0 Error: the message could not be stored, try again later");
}

void smtp_dialog_tls_started(struct smtp_dialog *d)
{
	transaction_reset(d);
	d->helo[0] = '\0';
	d->line_len = 0;
	d->line_long = false;
	d->tls = true;
	d->st = ST_INIT;
}

void smtp_dialog_timeout(struct smtp_dialog *d)
{
	if (d->st == ST_CLOSED)
		return;
	if (d->st == ST_DATA)
		transaction_reset(d); /* never recorded: its buffer goes now, not at the close */
	reply(d, "421 4.4.2 %s Error: timeout exceeded", d->cfg.hostname);
	close_now(d);
}

bool smtp_dialog_in_data(const struct smtp_dialog *d)
{
	return d->st == ST_DATA;
}

void smtp_dialog_abort(struct smtp_dialog *d, const char *code, const char *why)
{
	if (d->st == ST_CLOSED || d->st == ST_WAIT)
		return;
	transaction_reset(d);
	reply(d, "421 %s %s Error: %s", code, d->cfg.hostname, why);
	close_now(d);
}

void smtp_dialog_progress(const struct smtp_dialog *d, struct smtp_dialog_progress *out)
{
	out->commands = d->commands;
	out->line_bytes = d->st == ST_DATA ? 0 : d->line_len;
	out->data_bytes = d->st == ST_DATA ? d->data_total : 0;
	out->held = d->data_cap;
}
