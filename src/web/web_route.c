/* web_route.c - the parsers of what a request says: which page its path names, and what was
 * typed into the lookup box. Exact names only: no path reaches the file system. */
#include <ctype.h>
#include <string.h>

#include "web.h"

static const struct {
	const char *path;
	enum web_route_id id;
} exact[] = {
	{"/", WEB_R_HOME},
	{"/lookup", WEB_R_LOOKUP},
	{"/about/end-users", WEB_R_END_USERS},
	{"/about/listing", WEB_R_LISTING},
	{"/about/usage", WEB_R_USAGE},
	{"/about/warranty", WEB_R_WARRANTY},
	{"/api/v1/", WEB_R_API_INDEX},
	{"/api/v1", WEB_R_API_INDEX},
	{"/api/v1/figures", WEB_R_API_FIGURES},
	{"/favicon.ico", WEB_R_FAVICON},
	{"/api/v1/reports", WEB_R_API_REPORTS},
	{"/api/v1/evidence", WEB_R_API_EVIDENCE},
	/* review requests and moderation */
	{"/review", WEB_R_REVIEW},
	{"/admin/", WEB_R_ADMIN},
	{"/admin", WEB_R_ADMIN},
	{"/admin/login", WEB_R_ADMIN_LOGIN},
	{"/admin/logout", WEB_R_ADMIN_LOGOUT},
	{"/metrics", WEB_R_METRICS},
};

static const char *const route_names[WEB_R_COUNT] = {
	[WEB_R_NOTFOUND] = "other", [WEB_R_HOME] = "home", [WEB_R_LOOKUP] = "lookup",
	[WEB_R_END_USERS] = "about_end_users", [WEB_R_LISTING] = "about_listing",
	[WEB_R_USAGE] = "about_usage", [WEB_R_WARRANTY] = "about_warranty",
	[WEB_R_STATIC] = "static", [WEB_R_API_INDEX] = "api_index",
	[WEB_R_API_LOOKUP] = "api_lookup", [WEB_R_API_HISTORY] = "api_history",
	[WEB_R_API_FIGURES] = "api_figures", [WEB_R_FAVICON] = "favicon",
	[WEB_R_API_REPORTS] = "api_reports", [WEB_R_API_REPORT] = "api_report",
	[WEB_R_API_EVIDENCE] = "api_evidence", [WEB_R_REVIEW] = "review",
	[WEB_R_TICKET] = "ticket", [WEB_R_ADMIN] = "admin", [WEB_R_ADMIN_LOGIN] = "admin_login",
	[WEB_R_ADMIN_LOGOUT] = "admin_logout", [WEB_R_ADMIN_TICKET] = "admin_ticket",
	[WEB_R_METRICS] = "metrics",
};

const char *web_route_name(enum web_route_id id)
{
	return (unsigned)id < WEB_R_COUNT && route_names[id] ? route_names[id] : "other";
}

static const struct {
	const char *prefix;
	enum web_route_id id;
	unsigned slashes; /* '/' allowed in the rest: a CIDR typed after lookup/ gets help */
} below[] = {
	{"/static/", WEB_R_STATIC, 0},
	{"/api/v1/lookup/", WEB_R_API_LOOKUP, 1},
	{"/api/v1/history/", WEB_R_API_HISTORY, 1},
	{"/api/v1/reports/", WEB_R_API_REPORT, 0},
	{"/ticket/", WEB_R_TICKET, 0},
	{"/admin/ticket/", WEB_R_ADMIN_TICKET, 0},
};

bool web_uri_clean(const char *uri, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uri[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c != '%' || i + 2 >= len)
			continue;
		char h = uri[i + 1], l = uri[i + 2];
		if ((h == '0' || h == '1') && isxdigit((unsigned char)l))
			return false;
		if (h == '7' && (l == 'f' || l == 'F'))
			return false;
	}
	return true;
}

int web_route_parse(const char *path, size_t len, struct web_route *out)
{
	memset(out, 0, sizeof(*out));
	out->id = WEB_R_NOTFOUND;
	if (!path || len == 0 || len > WEB_PATH_MAX || path[0] != '/')
		return WEB_EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return WEB_EINVAL;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (strlen(exact[i].path) == len && memcmp(exact[i].path, path, len) == 0) {
			out->id = exact[i].id;
			return WEB_OK;
		}
	}
	for (size_t i = 0; i < sizeof(below) / sizeof(below[0]); i++) {
		size_t plen = strlen(below[i].prefix);
		if (len <= plen || memcmp(below[i].prefix, path, plen) != 0)
			continue;
		/* One segment after the prefix, nothing more: no '/' for files, so no "..", no
		 * folders. */
		unsigned slashes = 0;
		for (size_t k = plen; k < len; k++)
			slashes += path[k] == '/';
		if (slashes > below[i].slashes)
			return WEB_OK;
		out->id = below[i].id;
		out->arg = path + plen;
		out->arg_len = len - plen;
		return WEB_OK;
	}
	return WEB_OK;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A domain name someone might type: letters, digits, '-', dots, at least one dot and one
 * letter (an address is never a name here). */
static bool looks_like_hostname(const char *s, size_t len)
{
	bool dot = false, letter = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.')
			dot = true;
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			letter = true;
		else if (!((c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	char name[WEB_INPUT_MAX + 1];
	memcpy(name, s, len);
	name[len] = '\0';
	return dot && letter && config_name_valid(name);
}

/* 192.0.2.1/24 (host bits set): the range it lies in, and the address typed (ip). */
static int prefix_of_host(const char *s, size_t len, struct web_input *out)
{
	const char *slash = memchr(s, '/', len);
	if (ip_parse(s, (size_t)(slash - s), out->ip) != BASE_OK)
		return BASE_EINVAL;
	unsigned n = 0;
	for (const char *p = slash + 1; p < s + len; p++)
		n = n * 10 + (unsigned)(*p - '0'); /* ip_prefix_parse checked: 1 to 3 digits */
	uint32_t v4;
	n += ip4_parse(s, (size_t)(slash - s), &v4) == BASE_OK ? 96 : 0; /* IPv4 text: IPv4 bits */
	memset(&out->prefix, 0, sizeof(out->prefix));
	out->prefix.plen = (uint8_t)n;
	for (unsigned b = 0; b < n && b < 128; b++)
		out->prefix.addr[b / 8] |= (uint8_t)(out->ip[b / 8] & (0x80 >> (b % 8)));
	out->prefix_host_bits = true;
	return BASE_OK;
}

void web_input_parse(const char *s, size_t len, struct web_input *out)
{
	memset(out, 0, sizeof(*out));
	while (len && blank(*s))
		s++, len--;
	while (len && blank(s[len - 1]))
		len--;
	out->text_len = len > WEB_INPUT_MAX ? WEB_INPUT_MAX : len;
	memcpy(out->text, s, out->text_len);
	if (len == 0) {
		out->kind = WEB_INPUT_EMPTY;
		return;
	}
	if (len > WEB_INPUT_MAX) {
		out->kind = WEB_INPUT_TOOLONG;
		return;
	}
	if (memchr(s, '\0', len)) {
		out->kind = WEB_INPUT_BAD;
		return;
	}
	if (ip_parse(s, len, out->ip) == BASE_OK) {
		out->kind = WEB_INPUT_IP;
		return;
	}
	if (memchr(s, '/', len)) {
		int rc = ip_prefix_parse(s, len, &out->prefix);
		if (rc == BASE_ERANGE)
			rc = prefix_of_host(s, len, out);
		if (rc == BASE_OK) {
			bool host = out->prefix.plen == 128;
			if (host && !out->prefix_host_bits) {
				memcpy(out->ip, out->prefix.addr, 16);
				out->kind = WEB_INPUT_IP;
			} else {
				out->kind = WEB_INPUT_CIDR;
			}
			return;
		}
	}
	out->kind = looks_like_hostname(s, len) ? WEB_INPUT_HOSTNAME : WEB_INPUT_BAD;
}
