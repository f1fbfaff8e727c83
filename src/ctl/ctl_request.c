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

const char *ctl_strerror(int err)
{
	switch (err) {
	case CTL_OK: return "ok";
	case CTL_EINVAL: return "bad input";
	case CTL_ENOMEM: return "out of memory";
	case CTL_EIO: return "input/output error";
	case CTL_ENOSERVICE: return "no service answers on the control socket";
	case CTL_EPROTO: return "protocol error";
	default: return "unknown ctl error";
	}
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

/* ---- times ------------------------------------------------------------------ */

static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int ctl_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	size_t len = strlen(s);
	if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d))
		return CTL_EINVAL;
	if (len > 10) {
		if ((s[10] != 'T' && s[10] != 't') || len < 20 || !digits(s + 11, 2, &h) ||
		    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
		    !digits(s + 17, 2, &sec))
			return CTL_EINVAL;
		const char *z = s + 19;
		if (strcmp(z, "Z") == 0 || strcmp(z, "z") == 0) {
			off = 0;
		} else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':') {
			int oh, om;
			if (!digits(z + 1, 2, &oh) || !digits(z + 4, 2, &om) || oh > 23 || om > 59)
				return CTL_EINVAL;
			off = (oh * 60 + om) * 60 * (z[0] == '-' ? -1 : 1);
		} else {
			/* A time without a zone is ambiguous: the operator's or the server's? */
			return CTL_EINVAL;
		}
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return CTL_EINVAL;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	/* timegm normalises 2026-02-31 to March: refuse dates that do not exist. */
	struct tm back;
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return CTL_EINVAL;
	*out = (int64_t)t - off;
	return CTL_OK;
}

void ctl_time_format(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)t);
}

void ctl_ip_format(const uint8_t ip[16], char *buf)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(ip, mapped, 12) == 0)
		ip4_format((uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 |
				   (uint32_t)ip[14] << 8 | ip[15],
			   buf);
	else
		ip6_format(ip, buf);
}

static void prefix_format(const struct store_prefix *p, char *buf, size_t cap)
{
	char ip[IP6_STRLEN];
	ctl_ip_format(p->addr, ip);
	bool v4 = strchr(ip, ':') == NULL;
	snprintf(buf, cap, "%s/%u", ip, v4 ? p->plen - 96u : p->plen);
}

/* ---- arguments -------------------------------------------------------------- */

static int set_ip(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	unsigned plen;
	if (strchr(v, '/') || cidr_parse(v, strlen(v), req->ip, &plen) != BASE_OK) {
		snprintf(err, cap, "'%s' is not an IP address", v);
		return CTL_EINVAL;
	}
	req->has_ip = true;
	return CTL_OK;
}

static int set_cidr(struct ctl_request *req, const char *v, char *err, size_t cap)
{
	unsigned plen;
	int rc = cidr_parse(v, strlen(v), req->prefix.addr, &plen);
	if (rc == BASE_ERANGE) {
		snprintf(err, cap, "'%s' has host bits set: did you mean the network address?", v);
		return CTL_EINVAL;
	}
	if (rc != BASE_OK) {
		snprintf(err, cap, "'%s' is not a CIDR prefix (ADDR/LEN)", v);
		return CTL_EINVAL;
	}
	req->prefix.plen = (uint8_t)plen;
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
	if (ctl_time_parse(v, &t) != CTL_OK || t <= 0) {
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
		ctl_time_format(req->until, t, sizeof(t));
		snprintf(err, errcap, "--until %s is in the past", t);
		return CTL_EINVAL;
	}
	/* A minute of slack for a reporter's clock; more is a typo (a year, a month). */
	if (req->at > now + 60) {
		ctl_time_format(req->at, t, sizeof(t));
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
		ctl_ip_format(req->ip, tmp);
		ok = ok && put_kv(buf, cap, &pos, "ip", tmp);
	}
	if (req->has_prefix) {
		prefix_format(&req->prefix, tmp, sizeof(tmp));
		ok = ok && put_kv(buf, cap, &pos, "cidr", tmp);
	}
	if (req->kind)
		ok = ok && put_kv(buf, cap, &pos, "kind", store_kind_name(req->kind));
	if (req->has_class)
		ok = ok && put_kv(buf, cap, &pos, "class", store_class_name(req->cls));
	if (req->at) {
		ctl_time_format(req->at, tmp, sizeof(tmp));
		ok = ok && put_kv(buf, cap, &pos, "at", tmp);
	}
	if (req->until) {
		ctl_time_format(req->until, tmp, sizeof(tmp));
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
