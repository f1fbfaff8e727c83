/* zone_rbldnsd.c - reader for rbldnsd ip4set/ip4trie/ip6trie/combined data files into a builder. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "zone_internal.h"

#define LOAD_ERRORS_SHOWN 100 /* a broken million-line file must not flood the log */

struct loader {
	struct zone_builder *b;
	const char *name;
	size_t line;
	struct zone_load_report rep;
	size_t warnings;
	bool skip;        /* inside a $DATASET section we do not serve */
	bool in_dataset;  /* past the first $DATASET line */
	uint32_t global_ttl;
	int fatal;        /* out of memory or too many classes: stop reading */
};

static void load_complain(struct loader *ld, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void load_complain(struct loader *ld, bool error, const char *fmt, ...)
{
	size_t shown = ld->rep.errors + ld->warnings;
	if (error)
		ld->rep.errors++;
	else
		ld->warnings++;
	if (shown >= LOAD_ERRORS_SHOWN)
		return;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error)
		log_warn("zone", "%s:%zu: %s", ld->name, ld->line, msg);
	else
		log_warn("zone", "%s:%zu: warning: %s", ld->name, ld->line, msg);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_space(const char *p, const char *e)
{
	while (p < e && is_space(*p))
		p++;
	return p;
}

static const char *token_end(const char *p, const char *e)
{
	while (p < e && !is_space(*p))
		p++;
	return p;
}

/* Up to four dotted decimal octets; *n is how many were read (0: none). */
static const char *scan_octets(const char *p, const char *e, uint32_t oct[4], int *n)
{
	*n = 0;
	while (p < e && *n < 4) {
		if (*p < '0' || *p > '9')
			break;
		uint32_t v = 0;
		int digits = 0;
		while (p < e && *p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (uint32_t)(*p++ - '0');
			digits++;
		}
		if (digits > 3 || v > 255)
			return NULL;
		oct[(*n)++] = v;
		if (*n < 4 && p + 1 < e && *p == '.' && p[1] >= '0' && p[1] <= '9')
			p++;
		else
			break;
	}
	return *n ? p : NULL;
}

static uint32_t octets_value(const uint32_t oct[4], int n, uint32_t fill)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | (i < n ? oct[i] : fill);
	return v;
}

static const char *scan_uint(const char *p, const char *e, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = p;
	while (p < e && *p >= '0' && *p <= '9' && p - s < 11)
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p == s || v > max)
		return NULL;
	*out = (uint32_t)v;
	return p;
}

/* rbldnsd time values: a number with an optional unit (s m h d w), units may repeat ("1h30m"). */
static bool parse_time(const char *p, const char *e, uint32_t *out)
{
	uint64_t total = 0;
	if (p == e)
		return false;
	while (p < e) {
		uint32_t v;
		p = scan_uint(p, e, UINT32_MAX, &v);
		if (!p)
			return false;
		uint64_t mul = 1;
		if (p < e) {
			switch (*p | 0x20) {
			case 's': mul = 1; break;
			case 'm': mul = 60; break;
			case 'h': mul = 3600; break;
			case 'd': mul = 86400; break;
			case 'w': mul = 604800; break;
			default: return false;
			}
			p++;
		}
		total += v * mul;
		if (total > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)total;
	return true;
}

/* ---- values ---- */

/* The A part of ":A:TXT": a dotted quad, or its last octets with 127.0.0 implied (":2:"). */
static bool parse_a(const char *p, const char *e, uint32_t *a)
{
	uint32_t oct[4];
	int n;
	const char *q = scan_octets(p, e, oct, &n);
	if (!q || q != e)
		return false;
	uint32_t v = ZONE_TP_LISTED & ~0xffu;
	for (int i = 0; i < n; i++)
		v = (v & ~(0xffu << (8 * (n - 1 - i)))) | oct[i] << (8 * (n - 1 - i));
	*a = v;
	return true;
}

static const char *trim_end(const char *p, const char *e)
{
	while (e > p && is_space(e[-1]))
		e--;
	return e;
}

/* An entry's value (rbldnsd: ":A:TXT", ":A:", ":A", or a bare "TXT"); empty: the default. */
static int entry_class(struct loader *ld, const char *p, const char *e, uint16_t *id)
{
	struct zone_builder *b = ld->b;
	e = trim_end(p, e);
	if (p == e || *p == '#' || *p == ';')
		return zone_builder_default_class(b, id);
	if (*p != ':')
		return zone_builder_class(b, b->cur_a, p, (size_t)(e - p), b->cur_ttl, id);
	p++;
	const char *colon = memchr(p, ':', (size_t)(e - p));
	const char *aend = colon ? colon : e;
	uint32_t a = b->cur_a;
	if (aend > p && !parse_a(p, aend, &a))
		return ZONE_EINVAL;
	if (!colon)
		return zone_builder_class(b, a, b->cur_txt, b->cur_txt_len, b->cur_ttl, id);
	if (colon + 1 == e)
		return zone_builder_class(b, a, NULL, 0, b->cur_ttl, id);
	return zone_builder_class(b, a, colon + 1, (size_t)(e - colon - 1), b->cur_ttl, id);
}

/* A ":A:TXT" line: the default for the entries that follow it in this dataset. */
static void default_line(struct loader *ld, const char *p, const char *e)
{
	e = trim_end(p, e);
	p++;
	const char *colon = memchr(p, ':', (size_t)(e - p));
	const char *aend = colon ? colon : e;
	uint32_t a = ZONE_TP_LISTED;
	if (aend > p && !parse_a(p, aend, &a)) {
		load_complain(ld, true, "bad A value in default line");
		return;
	}
	const char *txt = colon && colon + 1 < e ? colon + 1 : NULL;
	if (zone_builder_set_default(ld->b, a, txt, txt ? (size_t)(e - txt) : 0))
		ld->fatal = ZONE_ENOMEM;
}

/* ---- addresses ---- */

/* IPv4 forms of ip4set: a.b.c.d, a.b.c (a /24), a.b (/16), a (/8), any of these /len,
 * a.b.c.d-e (last octet given), a.b-c (last given octet), first-last with prefixes. */
static const char *scan_range4(struct loader *ld, const char *p, const char *e, uint32_t *first,
			       uint32_t *last)
{
	uint32_t oct[4], oct2[4];
	int n, n2;
	p = scan_octets(p, e, oct, &n);
	if (!p)
		return NULL;
	*first = octets_value(oct, n, 0);
	*last = octets_value(oct, n, 255);
	if (p < e && *p == '/') {
		uint32_t plen;
		p = scan_uint(p + 1, e, 32, &plen);
		if (!p)
			return NULL;
		uint32_t mask = plen ? ~0u << (32 - plen) : 0;
		if (*first & ~mask)
			load_complain(ld, false, "prefix has host bits set, masked to /%u", plen);
		*first &= mask;
		*last = *first | ~mask;
	} else if (p < e && *p == '-') {
		p = scan_octets(p + 1, e, oct2, &n2);
		if (!p)
			return NULL;
		if (n2 == 1) {
			oct[n - 1] = oct2[0];
			*last = octets_value(oct, n, 255);
		} else {
			*last = octets_value(oct2, n2, 255);
		}
		if (*last < *first)
			return NULL;
	}
	return p;
}

/* rbldnsd's ip6 forms: a full address (/128), or leading groups with the trailing zero groups
 * left out ("2001:db8:1:2" is a /64), each with an optional /len. */
static bool scan_prefix6(struct loader *ld, const char *p, const char *e, uint8_t out[16],
			 unsigned *plen)
{
	const char *slash = memchr(p, '/', (size_t)(e - p));
	const char *aend = slash ? slash : e;
	char buf[64];
	size_t len = (size_t)(aend - p);
	if (len == 0 || len + 3 > sizeof(buf))
		return false;
	memcpy(buf, p, len);
	unsigned colons = 0;
	bool dbl = false, dot = false;
	for (size_t i = 0; i < len; i++) {
		colons += buf[i] == ':';
		dbl |= i + 1 < len && buf[i] == ':' && buf[i + 1] == ':';
		dot |= buf[i] == '.';
	}
	unsigned def = 128;
	if (!dbl && !dot && colons < 7) {
		buf[len++] = ':';
		buf[len++] = ':';
		def = 16 * (colons + 1);
	}
	if (ip6_parse(buf, len, out))
		return false;
	*plen = def;
	if (slash) {
		uint32_t v;
		const char *q = scan_uint(slash + 1, e, 128, &v);
		if (!q || q != e)
			return false;
		*plen = v;
	}
	zone_u128 a = zone_u128_load(out), m = zone_u128_mask(*plen);
	if (a & ~m) {
		load_complain(ld, false, "prefix has host bits set, masked to /%u", *plen);
		a &= m;
		for (int i = 15; i >= 0; i--, a >>= 8)
			out[i] = (uint8_t)a;
	}
	return true;
}

static void entry_line(struct loader *ld, const char *p, const char *e)
{
	bool excl = *p == '!';
	if (excl)
		p = skip_space(p + 1, e);
	const char *tend = token_end(p, e);
	/* v4 unless a ':' comes before any '.': "1.2.3.4:2:txt" is v4 with a value. */
	bool v6 = false;
	for (const char *q = p; q < tend; q++) {
		if (*q == '.')
			break;
		if (*q == ':') {
			v6 = true;
			break;
		}
	}
	int rc = 0;
	uint16_t id = ZONE_CLASS_EXCLUDE;
	if (v6) {
		uint8_t pfx[16];
		unsigned plen;
		if (!scan_prefix6(ld, p, tend, pfx, &plen)) {
			load_complain(ld, true, "bad IPv6 address or prefix");
			return;
		}
		if (!excl && (rc = entry_class(ld, skip_space(tend, e), e, &id)))
			goto bad_value;
		rc = zone_builder_add6(ld->b, pfx, plen, id);
	} else {
		uint32_t first, last;
		const char *q = scan_range4(ld, p, tend, &first, &last);
		if (!q || (q < tend && *q != ':' && *q != '#' && *q != ';')) {
			load_complain(ld, true, "bad IPv4 address or range");
			return;
		}
		if (!excl && (rc = entry_class(ld, skip_space(q, e), e, &id)))
			goto bad_value;
		rc = zone_builder_add4(ld->b, first, last, id);
	}
	if (rc) {
		ld->fatal = rc;
		return;
	}
	ld->rep.entries++;
	return;
bad_value:
	if (rc == ZONE_EINVAL)
		load_complain(ld, true, "bad value (expected :A:TXT or TXT)");
	else
		ld->fatal = rc;
}

/* ---- $ lines ---- */

static bool copy_name(char *dst, const char *p, const char *e)
{
	if (e > p && e[-1] == '.')
		e--;
	size_t len = (size_t)(e - p);
	if (len == 0 || len > ZONE_NAME_MAX)
		return false;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return true;
}

/* Splits p..e into at most max space-separated tokens. */
static int tokens(const char *p, const char *e, const char **ts, const char **te, int max)
{
	int n = 0;
	for (p = skip_space(p, e); p < e && n < max; p = skip_space(p, e)) {
		ts[n] = p;
		p = token_end(p, e);
		te[n++] = p;
	}
	return p < e ? max + 1 : n;
}

static void soa_line(struct loader *ld, const char *p, const char *e)
{
	const char *ts[9], *te[9];
	struct zone_soa soa;
	uint32_t *times[5] = { &soa.ttl, &soa.refresh, &soa.retry, &soa.expire, &soa.minimum };
	int tidx[5] = { 0, 4, 5, 6, 7 };
	if (tokens(p, e, ts, te, 9) != 8) {
		load_complain(ld, true, "$SOA needs ttl mname rname serial refresh retry expire minimum");
		return;
	}
	for (int i = 0; i < 5; i++) {
		if (!parse_time(ts[tidx[i]], te[tidx[i]], times[i])) {
			load_complain(ld, true, "bad time value in $SOA");
			return;
		}
	}
	const char *q = scan_uint(ts[3], te[3], UINT32_MAX, &soa.serial);
	if (!q || q != te[3] || !copy_name(soa.mname, ts[1], te[1]) ||
	    !copy_name(soa.rname, ts[2], te[2])) {
		load_complain(ld, true, "bad serial or name in $SOA");
		return;
	}
	if (ld->b->soa_seen)
		return; /* rbldnsd: only the first $SOA counts */
	if (soa.ttl == 0)
		soa.ttl = ld->b->cur_ttl;
	ld->b->soa = soa;
	ld->b->soa_seen = true;
}

/* "$NS ttl name [name...]": every name is served, as NSD would; a set too big for one TCP
 * message (ZONE_NS_WIRE_MAX) refuses the line as a whole rather than serve part of it. */
static void ns_line(struct loader *ld, const char *p, const char *e)
{
	p = skip_space(p, e);
	const char *tend = token_end(p, e);
	struct zone_ns ns = { 0 };
	if (!parse_time(p, tend, &ns.ttl)) {
		load_complain(ld, true, "$NS needs ttl name [name...]");
		return;
	}
	unsigned given = 0;
	char name[ZONE_NAME_MAX + 1];
	for (p = skip_space(tend, e); p < e; p = skip_space(tend, e)) {
		tend = token_end(p, e);
		given++;
		if (*p == '-')
			continue; /* rbldnsd: a name commented out */
		if (!copy_name(name, p, tend)) {
			load_complain(ld, true, "bad name in $NS");
			goto out;
		}
		int rc = zone_ns_add(&ns, name);
		if (rc == ZONE_ETOOMANY) {
			load_complain(ld, true,
				      "$NS refused: its name servers take more than the %d bytes one "
				      "DNS message over TCP can carry (at name %u)",
				      ZONE_NS_WIRE_MAX, given);
			goto out;
		}
		if (rc != ZONE_OK) {
			ld->fatal = rc;
			goto out;
		}
	}
	if (given == 0) {
		load_complain(ld, true, "$NS needs ttl name [name...]");
		goto out;
	}
	if (ld->b->ns_seen)
		goto out;
	if (ns.ttl == 0)
		ns.ttl = ld->b->cur_ttl;
	zone_ns_free(&ld->b->ns);
	ld->b->ns = ns; /* the builder takes the names */
	ld->b->ns_seen = true;
	return;
out:
	zone_ns_free(&ns);
}

static bool token_is(const char *p, const char *e, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(e - p) == n && memcmp(p, word, n) == 0;
}

static void dataset_line(struct loader *ld, const char *p, const char *e)
{
	static const char *const types[] = { "ip4set", "ip4trie", "ip4tset", "ip6trie", "ip6tset" };
	p = skip_space(p, e);
	const char *tend = token_end(p, e);
	const char *colon = memchr(p, ':', (size_t)(tend - p));
	const char *type_end = colon ? colon : tend;
	bool known = false, at = false;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		known |= token_is(p, type_end, types[i]);
	for (const char *q = skip_space(tend, e); q < e; q = skip_space(q, e)) {
		const char *qe = token_end(q, e);
		at |= token_is(q, qe, "@");
		q = qe;
	}
	ld->in_dataset = true;
	ld->skip = !known || !at;
	zone_builder_reset_default(ld->b);
	zone_builder_set_ttl(ld->b, ld->global_ttl);
	if (!known)
		log_info("zone", "%s:%zu: dataset type %.*s not served, section skipped", ld->name,
			 ld->line, (int)(type_end - p), p);
	else if (!at)
		log_info("zone", "%s:%zu: dataset not for the base zone (@), section skipped",
			 ld->name, ld->line);
}

static void special_line(struct loader *ld, const char *p, const char *e)
{
	const char *kend = token_end(p, e);
	if (token_is(p, kend, "DATASET")) {
		dataset_line(ld, kend, e);
		return;
	}
	if (ld->skip)
		return;
	if (token_is(p, kend, "SOA")) {
		soa_line(ld, kend, e);
	} else if (token_is(p, kend, "NS")) {
		ns_line(ld, kend, e);
	} else if (token_is(p, kend, "TTL")) {
		const char *v = skip_space(kend, e);
		uint32_t ttl;
		if (!parse_time(v, token_end(v, e), &ttl)) {
			load_complain(ld, true, "bad $TTL value");
			return;
		}
		zone_builder_set_ttl(ld->b, ttl);
		if (!ld->in_dataset)
			ld->global_ttl = ttl;
	} else if (token_is(p, kend, "TIMESTAMP") || token_is(p, kend, "MAXRANGE4") ||
		   token_is(p, kend, "=") || (kend - p == 1 && *p >= '0' && *p <= '9')) {
		/* Understood by rbldnsd, not used by this server. */
	} else {
		load_complain(ld, true, "unknown special $%.*s", (int)(kend - p), p);
	}
}

/* "::ffff:7f00:2" and ":A:TXT" both start with ':'; rbldnsd reads the first as an address,
 * so a line whose first token is an IPv6 address (or prefix) is an entry, not a default. */
static bool line_is_ip6(const char *p, const char *e)
{
	const char *tend = token_end(p, e);
	const char *slash = memchr(p, '/', (size_t)(tend - p));
	uint8_t a[16];
	return ip6_parse(p, (size_t)((slash ? slash : tend) - p), a) == 0;
}

static void load_line(struct loader *ld, const char *p, const char *e)
{
	p = skip_space(p, e);
	if (p == e)
		return;
	if (memchr(p, '\0', (size_t)(e - p))) {
		/* TXT templates are C strings for the answering code; a NUL means a binary file. */
		load_complain(ld, true, "NUL byte in line");
		return;
	}
	char c = *p;
	if (c == '$') {
		special_line(ld, p + 1, e);
		return;
	}
	if ((c == '#' || c == ';' || c == ':') && p + 1 < e && p[1] == '$') {
		special_line(ld, p + 2, e);
		return;
	}
	if (c == '#' || c == ';' || ld->skip)
		return;
	if (c == ':' && !line_is_ip6(p, e))
		default_line(ld, p, e);
	else
		entry_line(ld, p, e);
}

/* Room for a /32 per 8 bytes of file (a typical line is 8 to 16), so a million-line file does
 * not realloc its way up; pages never written cost no memory. */
static int reserve_singles(struct zone_builder *b, size_t len)
{
	size_t need = b->nsingle + len / 8 + 16;
	if (need <= b->capsingle)
		return 0;
	uint64_t *n = realloc(b->singles, need * sizeof(*n));
	if (!n)
		return ZONE_ENOMEM;
	b->singles = n;
	b->capsingle = need;
	return 0;
}

/* The line most files are made of, "a.b.c.d\n" with the default class, without the general
 * path's tokenising: half the load time of a million-line file went there. NULL: not that
 * line, take the general path. */
static const char *fast_single(struct loader *ld, const char *p, const char *end)
{
	uint32_t ip = 0;
	for (int oct = 0;; oct++) {
		uint32_t v = 0;
		const char *s = p;
		while (p < end && (unsigned)(*p - '0') < 10 && p - s < 3)
			v = v * 10 + (uint32_t)(*p++ - '0');
		if (p == s || v > 255 || p == end)
			return NULL;
		ip = ip << 8 | v;
		if (oct == 3)
			break;
		if (*p++ != '.')
			return NULL;
	}
	if (*p == '\r' && p + 1 < end)
		p++;
	if (*p != '\n' || ld->skip)
		return NULL;
	struct zone_builder *b = ld->b;
	uint16_t id;
	if (!b->cur_valid || b->nsingle == b->capsingle)
		return NULL;
	id = b->cur_id;
	b->singles[b->nsingle++] = (uint64_t)ip << 32 | id;
	ld->line++;
	ld->rep.entries++;
	return p + 1;
}

/* Reads every complete line of data[0..len) (all of it when last); returns the bytes used. */
static size_t loader_feed(struct loader *ld, const char *data, size_t len, bool last)
{
	const char *p = data, *end = data + len;
	if (!last) {
		/* Stop after the last complete line: the caller brings the rest of it. */
		const char *lnl = memrchr(data, '\n', len);
		if (!lnl)
			return 0;
		end = lnl + 1;
	}
	while (p < end && !ld->fatal) {
		const char *q = fast_single(ld, p, end);
		if (q) {
			p = q;
			continue;
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		ld->line++;
		const char *e = le > p && le[-1] == '\r' ? le - 1 : le;
		load_line(ld, p, e);
		p = nl ? nl + 1 : end;
	}
	return (size_t)(p - data);
}

static int loader_finish(struct loader *ld, struct zone_load_report *report)
{
	struct zone_builder *b = ld->b;
	/* Each file starts its own scope in rbldnsd: defaults do not leak into the next one. */
	zone_builder_reset_default(b);
	zone_builder_set_ttl(b, ld->global_ttl);
	size_t hidden = ld->rep.errors + ld->warnings;
	if (hidden > LOAD_ERRORS_SHOWN)
		log_warn("zone", "%s: %zu more problems not shown", ld->name,
			 hidden - LOAD_ERRORS_SHOWN);
	ld->rep.lines = ld->line;
	if (report)
		*report = ld->rep;
	if (ld->fatal)
		return ld->fatal;
	return ld->rep.errors ? ZONE_EPARSE : 0;
}

int zone_load_rbldnsd_buf(struct zone_builder *b, const char *name, const char *data, size_t len,
			  struct zone_load_report *report)
{
	if (!b || (!data && len))
		return ZONE_EINVAL;
	struct loader ld = { .b = b, .name = name ? name : "-", .global_ttl = b->cur_ttl };
	if (reserve_singles(b, len))
		return ZONE_ENOMEM;
	loader_feed(&ld, data, len, true);
	return loader_finish(&ld, report);
}

/* The file is read in blocks of this size, not whole: a 1M-entry file is 14 MB, which held
 * at once beside the builder's arrays made the peak memory of a load larger than rbldnsd's. */
#define LOAD_BLOCK (1u << 20)

/* Reads path block by block into the loader. ZONE_EIO (errno set) or ZONE_ENOMEM. */
static int load_file(struct loader *ld, const char *path, int64_t *mtime)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ZONE_EIO;
	struct stat st;
	int rc = ZONE_EIO;
	if (fstat(fd, &st) < 0)
		goto fail_close;
	*mtime = st.st_mtime;
	rc = ZONE_ENOMEM;
	if (reserve_singles(ld->b, (size_t)st.st_size))
		goto fail_close;
	size_t cap = LOAD_BLOCK, have = 0;
	char *buf = malloc(cap);
	if (!buf)
		goto fail_close;
	for (;;) {
		if (have == cap) { /* one line longer than a block: make room for it */
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail_free;
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + have, cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ZONE_EIO;
			goto fail_free;
		}
		have += (size_t)r;
		size_t used = loader_feed(ld, buf, have, r == 0);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (r == 0 || ld->fatal)
			break;
	}
	free(buf);
	close(fd);
	return 0;
fail_free:
	free(buf);
fail_close:;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int zone_load_rbldnsd(struct zone_builder *b, const char *path, struct zone_load_report *report)
{
	if (!b || !path)
		return ZONE_EINVAL;
	uint64_t t0 = time_mono_ns();
	struct loader ld = { .b = b, .name = path, .global_ttl = b->cur_ttl };
	int64_t mtime = 0;
	int rc = load_file(&ld, path, &mtime);
	if (rc) {
		int saved = errno;
		log_err("zone", "load failed file=%s error=\"%s\"", path,
			rc == ZONE_ENOMEM ? tl_strerror(rc) : strerror(saved));
		errno = saved;
		return rc;
	}
	rc = loader_finish(&ld, report);
	/* rbldnsd: a zero serial means the data file's modification time. */
	if (b->soa.serial == 0 || b->serial_from_mtime) {
		if (b->soa.serial < (uint32_t)mtime)
			b->soa.serial = (uint32_t)mtime;
		b->serial_from_mtime = true;
	}
	double ms = (double)(time_mono_ns() - t0) / 1e6;
	log_info("zone", "loaded file=%s lines=%zu entries=%zu errors=%zu ms=%.1f", path,
		 ld.rep.lines, ld.rep.entries, ld.rep.errors, ms);
	return rc;
}
