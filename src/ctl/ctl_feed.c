/* ctl_feed.c - trap hits from traps elsewhere: a feed's JSON body read into hits (all or
 * nothing: the first bad hit refuses the request, named by its position and why), then stored
 * through the writer as trap evidence, in one transaction. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"

/* The words a feed may give a hit's class: the trap's classes. "unknown" is the store's word
 * for a class nobody determined, not one a feed can claim. */
static const struct {
	const char *word;
	enum store_class cls;
} feed_classes[] = {
	{"spam", STORE_CLASS_SPAM},
	{"bounce", STORE_CLASS_BOUNCE},
	{"autoreply", STORE_CLASS_AUTOREPLY},
	{"virus", STORE_CLASS_VIRUS},
};

static bool refuse(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool refuse(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return false;
}

/* The first bytes of a string from the body, for a message: printable ASCII kept, every other
 * byte as \xNN, cut at 40 bytes ("..."), so that a reason is one line of ASCII whatever the
 * client sent (jansson refuses to put bytes that are not UTF-8 into the answer). */
static const char *excerpt(const char *s, size_t len, char out[4 * 40 + 4])
{
	size_t k = 0;
	for (size_t i = 0; i < len && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[k++] = (char)c;
		else
			k += (size_t)snprintf(out + k, 5, "\\x%02x", c);
	}
	if (len > 40) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

static bool read_ip(json_t *v, bool special_refused, struct ctl_feed_hit *out, char *why,
		    size_t cap)
{
	char ex[4 * 40 + 4];
	if (!json_is_string(v))
		return refuse(why, cap, "ip: missing, or not a string");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (ip_parse(s, len, out->ip) != BASE_OK)
		return refuse(why, cap, "ip: \"%s\" is not one IPv4 or IPv6 address",
			      excerpt(s, len, ex));
	const char *never = ip_never_sends(out->ip);
	if (never) {
		char ip[IP_STRLEN];
		ip_format(out->ip, ip);
		return refuse(why, cap, "ip: %s %s: it never sends mail", ip, never);
	}
	char what[200];
	if (special_refused && ip_special_describe(out->ip, what, sizeof(what)))
		return refuse(why, cap, "ip: %s: a special-purpose address, never a public source "
					"of mail (exclude_default)", what);
	return true;
}

static bool read_at(json_t *v, int64_t now, int64_t window_s, struct ctl_feed_hit *out,
		    char *why, size_t cap)
{
	char ex[4 * 40 + 4], t[TIME_STRLEN];
	if (!v || json_is_null(v)) {
		out->at = now;
		return true;
	}
	if (!json_is_string(v))
		return refuse(why, cap, "at: not a string (an ISO 8601 time: 2026-12-02T10:00:00Z)");
	const char *s = json_string_value(v);
	int rc = time_parse_iso8601(s, &out->at);
	if (rc == BASE_ERANGE)
		return refuse(why, cap, "at: \"%s\" is before 1970", excerpt(s, strlen(s), ex));
	if (rc != BASE_OK)
		return refuse(why, cap, "at: \"%s\" is not an ISO 8601 time with a zone "
					"(2026-12-02T10:00:00Z)", excerpt(s, strlen(s), ex));
	time_format_iso8601(out->at, t);
	if (out->at > now + CTL_FEED_SKEW_S)
		return refuse(why, cap, "at: %s is %lld s in the future (%d s of clock skew are "
					"allowed)", t, (long long)(out->at - now), CTL_FEED_SKEW_S);
	if (out->at < now - window_s)
		return refuse(why, cap, "at: %s is older than the policy's window of %lld s "
					"(policy_window): it would never count", t,
			      (long long)window_s);
	return true;
}

static bool read_class(json_t *v, struct ctl_feed_hit *out, char *why, size_t cap)
{
	char ex[4 * 40 + 4];
	out->cls = STORE_CLASS_SPAM;
	if (!v)
		return true;
	if (!json_is_string(v))
		return refuse(why, cap, "class: not a string (spam, bounce, autoreply or virus)");
	const char *s = json_string_value(v);
	for (size_t i = 0; i < sizeof(feed_classes) / sizeof(feed_classes[0]); i++) {
		if (strcmp(s, feed_classes[i].word) == 0) {
			out->cls = feed_classes[i].cls;
			return true;
		}
	}
	return refuse(why, cap, "class: \"%s\" is not one of spam, bounce, autoreply, virus",
		      excerpt(s, json_string_length(v), ex));
}

/* A hit's id: printable ASCII without space, quote or backslash, so that it is one word in a
 * log line and in the answer as it came. */
static bool read_id(json_t *v, struct ctl_feed_hit *out, char *why, size_t cap)
{
	char ex[4 * 40 + 4];
	if (!v)
		return true;
	if (!json_is_string(v))
		return refuse(why, cap, "id: not a string");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0 || len >= sizeof(out->id))
		return refuse(why, cap, "id: %zu bytes, not 1 to %zu", len, sizeof(out->id) - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return refuse(why, cap, "id: \"%s\" has a byte that is not printable ASCII "
						"(or a space, quote or backslash)",
				      excerpt(s, len, ex));
	}
	memcpy(out->id, s, len + 1);
	return true;
}

/* One hit: an object with ip, and optionally at and class, and no other key (a misspelt key
 * would otherwise be a default silently taken). false with the reason in why. */
static bool hit_read(json_t *o, int64_t now, int64_t window_s, bool special_refused,
		     struct ctl_feed_hit *out, char *why, size_t cap)
{
	char ex[4 * 40 + 4];
	if (!json_is_object(o))
		return refuse(why, cap, "not an object ({\"ip\": ..., \"at\": ..., \"class\": ...})");
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "ip") != 0 && strcmp(key, "at") != 0 && strcmp(key, "class") != 0 &&
		    strcmp(key, "id") != 0)
			return refuse(why, cap, "unknown key \"%s\" (a hit has ip, at, class and id)",
				      excerpt(key, strlen(key), ex));
	}
	memset(out, 0, sizeof(*out));
	return read_ip(json_object_get(o, "ip"), special_refused, out, why, cap) &&
	       read_at(json_object_get(o, "at"), now, window_s, out, why, cap) &&
	       read_class(json_object_get(o, "class"), out, why, cap) &&
	       read_id(json_object_get(o, "id"), out, why, cap);
}

/* What jansson says about a body it cannot read may quote the body: keep it ASCII. */
static void ascii_only(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

int ctl_feed_parse(const char *body, size_t len, int64_t now, int64_t window_s,
		   bool special_refused, size_t max, struct ctl_feed_hit *out, size_t *n,
		   long *index, char *err, size_t errcap)
{
	*n = 0;
	*index = -1;
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root) {
		snprintf(err, errcap, "not JSON: %s (line %d, column %d)", je.text, je.line,
			 je.column);
		ascii_only(err);
		return CTL_EINVAL;
	}
	size_t count = json_is_array(root) ? json_array_size(root) : 1;
	int rc = CTL_EINVAL;
	if (!json_is_array(root) && !json_is_object(root))
		snprintf(err, errcap, "neither a hit (an object) nor an array of hits");
	else if (count == 0)
		snprintf(err, errcap, "an empty array: no hit");
	else if (count > max)
		snprintf(err, errcap, "%zu hits, more than the %zu one request may carry "
				      "(feed_max_hits): send them in several requests", count, max);
	else
		rc = CTL_OK;
	char why[384];
	for (size_t i = 0; rc == CTL_OK && i < count; i++) {
		json_t *o = json_is_array(root) ? json_array_get(root, i) : root;
		if (!hit_read(o, now, window_s, special_refused, &out[i], why, sizeof(why))) {
			snprintf(err, errcap, "hit %zu: %s", i, why);
			*index = (long)i;
			rc = CTL_EINVAL;
		}
	}
	json_decref(root);
	*n = rc == CTL_OK ? count : 0;
	return rc;
}

int ctl_feed_take(const struct ctl_service *svc, const struct store_holder *feed,
		  struct ctl_feed_hit *hits, size_t n, size_t *stored)
{
	*stored = 0;
	if (n == 0)
		return CTL_OK;
	struct writer_event *evs = calloc(n, sizeof(*evs));
	int *results = calloc(n, sizeof(*results));
	if (!evs || !results) {
		free(evs);
		free(results);
		return CTL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		evs[i].type = WRITER_EV_EVIDENCE;
		memcpy(evs[i].evidence.ip, hits[i].ip, 16);
		evs[i].evidence.kind = STORE_KIND_TRAP;
		evs[i].evidence.cls = hits[i].cls;
		evs[i].evidence.received_at = hits[i].at;
		snprintf(evs[i].evidence.source, sizeof(evs[i].evidence.source), "feed:%s",
			 feed->name);
		memcpy(evs[i].evidence.hit_id, hits[i].id, sizeof(hits[i].id));
	}
	/* One call: the writer commits them in one transaction (n <= feed_max_hits <= its
	 * batch), so a failure stores none and a retry doubles nothing. */
	int rc = svc->writer_nowait ? writer_submit_many_nowait(svc->writer, evs, n, results)
				    : writer_submit_many(svc->writer, evs, n, results);
	/* A known id is the writer's EEXIST for that hit alone: the others are stored. */
	bool only_known = true;
	for (size_t i = 0; i < n; i++) {
		hits[i].duplicate = results[i] == WRITER_EEXIST;
		if (results[i] == WRITER_OK)
			(*stored)++;
		else if (results[i] != WRITER_EEXIST)
			only_known = false;
	}
	if (rc == WRITER_EEXIST && only_known)
		rc = CTL_OK;
	free(evs);
	free(results);
	return rc;
}
