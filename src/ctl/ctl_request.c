/* ctl_request.c - the operator's requests: the command table, arguments, checks, and the
 * one-line text form the control socket carries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "ctl.h"

/* One row per command: its protocol name, the keys it takes and those it needs. Adding a
 * command is adding a row here and a handler in ctl_exec.c. Key lists are space separated. */
struct ctl_cmd_def {
	enum ctl_cmd cmd;
	const char *name;
	const char *keys;
	const char *required;
};

static const struct ctl_cmd_def ctl_cmds[] = {
	{CTL_CMD_EVIDENCE_ADD, "evidence-add", "ip kind at class", "ip kind"},
	{CTL_CMD_CHECK, "check", "ip", "ip"},
	{CTL_CMD_LIST, "list", "json", ""},
	{CTL_CMD_DELIST, "delist", "ip why", "ip why"},
	{CTL_CMD_EXCLUDE, "exclude", "cidr until why", "cidr why"},
	{CTL_CMD_REBUILD, "rebuild", "", ""},
	{CTL_CMD_EXPORT, "export", "format", "format"},
	{CTL_CMD_EXPLAIN, "explain", "ip", "ip"},
	{CTL_CMD_REPUTATION, "reputation", "cidr points remove why", "cidr points why"},
	{CTL_CMD_REPUTATION_LIST, "reputation-list", "json", ""},
};

#define N_CTL_CMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

/* How the error for a missing key reads (the CLI spells them as options). */
static const char *key_flag(const char *key)
{
	if (strcmp(key, "cidr") == 0)
		return "a CIDR";
	if (strcmp(key, "ip") == 0)
		return "an IP address";
	return key;
}

static const struct ctl_cmd_def *cmd_def(enum ctl_cmd cmd)
{
	for (size_t i = 0; i < N_CTL_CMDS; i++)
		if (ctl_cmds[i].cmd == cmd)
			return &ctl_cmds[i];
	return NULL;
}

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
	const struct ctl_cmd_def *d = cmd_def(cmd);
	return d ? d->name : NULL;
}

/* True when key is one of the words of the space-separated list. */
static bool word_in(const char *list, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n == klen && n > 0 && memcmp(p, key, n) == 0)
			return true;
		p += n;
	}
	return false;
}

int ctl_request_init(struct ctl_request *req, const char *name, char *err, size_t errcap)
{
	memset(req, 0, sizeof(*req));
	for (size_t i = 0; i < N_CTL_CMDS; i++) {
		if (strcmp(ctl_cmds[i].name, name) == 0) {
			req->cmd = ctl_cmds[i].cmd;
			return CTL_OK;
		}
	}
	snprintf(err, errcap, "unknown command '%s'", name);
	return CTL_EINVAL;
}

/* ---- arguments -------------------------------------------------------------- */

static int set_ip(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	if (ip_parse(v, strlen(v), req->ip) != BASE_OK) {
		snprintf(err, cap, "'%s' is not an IP address", v);
		return CTL_EINVAL;
	}
	req->has_ip = true;
	return CTL_OK;
}

static int set_cidr(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	int rc = ip_prefix_parse(v, strlen(v), &req->prefix);
	if (rc == BASE_ERANGE) {
		snprintf(err, cap, "'%s' has host bits set: did you mean the network address?", v);
		return CTL_EINVAL;
	}
	if (rc != BASE_OK) {
		snprintf(err, cap, "'%s' is not a CIDR prefix (ADDR/LEN)", v);
		return CTL_EINVAL;
	}
	req->has_prefix = true;
	return CTL_OK;
}

/* A plain decimal: "10", "2.5", ".5". No sign, exponent, hex, inf or nan: what an operator
 * means by a number of points, and what ctl_request_format writes back. */
static int set_points(struct ctl_request *req, const char *v, bool remove, char *err, size_t cap)
{
	double p = 0;
	if (!remove) {
		size_t digits_n = strspn(v, "0123456789"), dots = 0;
		for (const char *c = v; *c; c++)
			dots += *c == '.';
		char *end = NULL;
		bool plain = *v && strspn(v, "0123456789.") == strlen(v) && dots <= 1 &&
			     (digits_n > 0 || strlen(v) > 1);
		if (plain)
			p = strtod(v, &end);
		if (!plain || !end || *end || !(p >= 0 && p <= CTL_POINTS_MAX)) {
			snprintf(err, cap, "--points: '%s' is not a number from 0 to %.0f", v,
				 CTL_POINTS_MAX);
			return CTL_EINVAL;
		}
	}
	if (req->has_points && req->points != p) {
		snprintf(err, cap, "--points and --remove disagree: give one of them");
		return CTL_EINVAL;
	}
	req->points = p;
	req->has_points = true;
	return CTL_OK;
}

static int set_time(int64_t *field, const char *key, const char *v, char *err, size_t cap)
{
	int64_t t;
	if (time_parse_iso8601(v, &t) != CTL_OK || t <= 0) {
		snprintf(err, cap, "--%s: '%s' is not an ISO 8601 time such as 2026-11-21T10:00:00Z",
			 key, v);
		return CTL_EINVAL;
	}
	*field = t;
	return CTL_OK;
}

int ctl_request_set(struct ctl_request *req, const char *key, const char *value, char *err,
		    size_t errcap)
{
	const struct ctl_cmd_def *d = cmd_def(req->cmd);
	if (!d || !word_in(d->keys, key)) {
		snprintf(err, errcap, "%s does not take %s%s", d ? d->name : "this command",
			 strcmp(key, "ip") == 0 || strcmp(key, "cidr") == 0 ? "" : "--",
			 key_flag(key));
		return CTL_EINVAL;
	}
	if (strcmp(key, "ip") == 0)
		return set_ip(req, value, err, errcap);
	if (strcmp(key, "cidr") == 0)
		return set_cidr(req, value, err, errcap);
	if (strcmp(key, "at") == 0)
		return set_time(&req->at, key, value, err, errcap);
	if (strcmp(key, "until") == 0)
		return set_time(&req->until, key, value, err, errcap);
	if (strcmp(key, "points") == 0)
		return set_points(req, value, false, err, errcap);
	if (strcmp(key, "remove") == 0)
		return set_points(req, value, true, err, errcap);
	if (strcmp(key, "kind") == 0) {
		if (store_kind_parse(value, &req->kind) != STORE_OK) {
			snprintf(err, errcap, "--kind: '%s' is not trap or report", value);
			return CTL_EINVAL;
		}
		return CTL_OK;
	}
	if (strcmp(key, "class") == 0) {
		if (store_class_parse(value, &req->cls) != STORE_OK) {
			snprintf(err, errcap,
				 "--class: '%s' is not spam, bounce, autoreply, virus or unknown", value);
			return CTL_EINVAL;
		}
		req->has_class = true;
		return CTL_OK;
	}
	if (strcmp(key, "why") == 0) {
		size_t n = strlen(value);
		if (n >= sizeof(req->why)) {
			snprintf(err, errcap, "--why: longer than %zu characters", sizeof(req->why) - 1);
			return CTL_EINVAL;
		}
		memcpy(req->why, value, n + 1);
		req->has_why = true;
		return CTL_OK;
	}
	if (strcmp(key, "format") == 0) {
		if (strcmp(value, "rbldnsd") == 0)
			req->format = CTL_FORMAT_RBLDNSD;
		else if (strcmp(value, "bind") == 0)
			req->format = CTL_FORMAT_BIND;
		else {
			snprintf(err, errcap, "--format: '%s' is not rbldnsd or bind", value);
			return CTL_EINVAL;
		}
		return CTL_OK;
	}
	/* json: a flag; the protocol carries it as json=1. */
	req->json = strcmp(value, "0") != 0;
	return CTL_OK;
}

static bool key_given(const struct ctl_request *req, const char *key)
{
	if (strcmp(key, "ip") == 0)
		return req->has_ip;
	if (strcmp(key, "cidr") == 0)
		return req->has_prefix;
	if (strcmp(key, "kind") == 0)
		return req->kind != 0;
	if (strcmp(key, "why") == 0)
		return req->has_why;
	if (strcmp(key, "format") == 0)
		return req->format != CTL_FORMAT_NONE;
	if (strcmp(key, "points") == 0)
		return req->has_points;
	return true;
}

int ctl_request_check(const struct ctl_request *req, int64_t now, char *err, size_t errcap)
{
	const struct ctl_cmd_def *d = cmd_def(req->cmd);
	if (!d) {
		snprintf(err, errcap, "no command");
		return CTL_EINVAL;
	}
	char key[16];
	for (const char *p = d->required; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n == 0 || n >= sizeof(key))
			break;
		memcpy(key, p, n);
		key[n] = '\0';
		p += n;
		if (!key_given(req, key)) {
			bool positional = strcmp(key, "cidr") == 0 ||
					  (strcmp(key, "ip") == 0 && req->cmd != CTL_CMD_EVIDENCE_ADD);
			snprintf(err, errcap, "%s needs %s%s", d->name, positional ? "" : "--",
				 positional ? key_flag(key) : key);
			return CTL_EINVAL;
		}
	}
	if (req->has_why && req->why[strspn(req->why, " \t")] == '\0') {
		snprintf(err, errcap, "--why must say why (it goes to the audit log)");
		return CTL_EINVAL;
	}
	char t[32];
	if (req->until != 0 && req->until <= now) {
		time_format_iso8601(req->until, t);
		snprintf(err, errcap, "--until %s is in the past", t);
		return CTL_EINVAL;
	}
	/* A minute of slack for a reporter's clock; more is a typo (a year, a month). */
	if (req->at > now + 60) {
		time_format_iso8601(req->at, t);
		snprintf(err, errcap, "--at %s is in the future", t);
		return CTL_EINVAL;
	}
	return CTL_OK;
}

/* ---- the text form ---------------------------------------------------------- */

static bool needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%' || c == '=';
}

/* Appends " key=value" (value escaped) at buf[*pos]; false when it does not fit. */
static bool put_kv(char *buf, size_t cap, size_t *pos, const char *key, const char *value)
{
	int n = snprintf(buf + *pos, cap - *pos, " %s=", key);
	if (n < 0 || (size_t)n >= cap - *pos)
		return false;
	*pos += (size_t)n;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*pos + 4 >= cap)
			return false;
		if (needs_escape(*p))
			*pos += (size_t)snprintf(buf + *pos, cap - *pos, "%%%02X", *p);
		else
			buf[(*pos)++] = (char)*p;
	}
	buf[*pos] = '\0';
	return true;
}

int ctl_request_format(const struct ctl_request *req, char *buf, size_t cap)
{
	const char *name = ctl_cmd_name(req->cmd);
	if (!name || cap == 0)
		return CTL_EINVAL;
	int n = snprintf(buf, cap, "%s", name);
	if (n < 0 || (size_t)n >= cap)
		return CTL_EINVAL;
	size_t pos = (size_t)n;
	char tmp[64];
	bool ok = true;
	if (req->has_ip) {
		ip_format(req->ip, tmp);
		ok = ok && put_kv(buf, cap, &pos, "ip", tmp);
	}
	if (req->has_prefix) {
		ip_prefix_format(&req->prefix, tmp, sizeof(tmp));
		ok = ok && put_kv(buf, cap, &pos, "cidr", tmp);
	}
	if (req->kind)
		ok = ok && put_kv(buf, cap, &pos, "kind", store_kind_name(req->kind));
	if (req->has_class)
		ok = ok && put_kv(buf, cap, &pos, "class", store_class_name(req->cls));
	if (req->at) {
		time_format_iso8601(req->at, tmp);
		ok = ok && put_kv(buf, cap, &pos, "at", tmp);
	}
	if (req->until) {
		time_format_iso8601(req->until, tmp);
		ok = ok && put_kv(buf, cap, &pos, "until", tmp);
	}
	if (req->has_points) {
		/* %.9f then trimmed: every value set_points accepts, in a form it accepts back. */
		snprintf(tmp, sizeof(tmp), "%.9f", req->points);
		char *end = tmp + strlen(tmp);
		while (end > tmp && end[-1] == '0')
			*--end = '\0';
		if (end > tmp && end[-1] == '.')
			*--end = '\0';
		ok = ok && put_kv(buf, cap, &pos, "points", tmp);
	}
	if (req->has_why)
		ok = ok && put_kv(buf, cap, &pos, "why", req->why);
	if (req->format)
		ok = ok && put_kv(buf, cap, &pos, "format",
				  req->format == CTL_FORMAT_BIND ? "bind" : "rbldnsd");
	if (req->json)
		ok = ok && put_kv(buf, cap, &pos, "json", "1");
	if (!ok || pos + 2 > cap)
		return CTL_EINVAL;
	buf[pos++] = '\n';
	buf[pos] = '\0';
	return CTL_OK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undoes the %XX escapes of s in place; false on a broken escape or an escaped NUL. */
static bool unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return false;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return true;
}

int ctl_request_parse(const char *line, size_t len, struct ctl_request *req, char *err,
		      size_t errcap)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || len >= CTL_LINE_MAX || memchr(line, '\0', len) || memchr(line, '\n', len)) {
		snprintf(err, errcap, "not a request line");
		return CTL_EINVAL;
	}
	char *buf = malloc(len + 1);
	if (!buf)
		return CTL_ENOMEM;
	memcpy(buf, line, len);
	buf[len] = '\0';
	char *save = NULL;
	char *tok = strtok_r(buf, " ", &save);
	int rc = tok ? ctl_request_init(req, tok, err, errcap) : CTL_EINVAL;
	if (!tok)
		snprintf(err, errcap, "not a request line");
	while (rc == CTL_OK && (tok = strtok_r(NULL, " ", &save)) != NULL) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			snprintf(err, errcap, "'%.64s' is not key=value", tok);
			rc = CTL_EINVAL;
			break;
		}
		*eq = '\0';
		if (!unescape(eq + 1)) {
			snprintf(err, errcap, "%.32s: bad %%-escape", tok);
			rc = CTL_EINVAL;
			break;
		}
		rc = ctl_request_set(req, tok, eq + 1, err, errcap);
	}
	free(buf);
	return rc;
}
