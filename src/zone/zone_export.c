/* zone_export.c - writes a snapshot as an rbldnsd data file or a BIND master file, atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/base.h"
#include "zone_internal.h"

/* ---- the effective answer map ---------------------------------------------- */
/* Both formats are written from one view of the snapshot: the address space cut into disjoint
 * segments [start[i], start[i+1]) -> class (0: not listed), base and overlay already resolved.
 * Writing only listed space, never "!" exclusions, keeps every entry of the export disjoint
 * from the others, so rbldnsd's rules for overlaps (per-dataset TTLs, most specific first) and
 * Trapline's own reader cannot disagree about it. */

struct seg_map {
	size_t n, cap;
	zone_u128 *start;
	uint16_t *cls;
};

static void map_free(struct seg_map *m)
{
	free(m->start);
	free(m->cls);
	memset(m, 0, sizeof(*m));
}

static int map_reserve(struct seg_map *m, size_t cap)
{
	m->start = malloc(cap * sizeof(*m->start));
	m->cls = malloc(cap * sizeof(*m->cls));
	m->cap = cap;
	return m->start && m->cls ? 0 : ZONE_ENOMEM;
}

static int map_push(struct seg_map *m, zone_u128 start, uint16_t cls)
{
	if (m->n && m->cls[m->n - 1] == cls)
		return 0;
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		zone_u128 *s = realloc(m->start, ncap * sizeof(*s));
		if (!s)
			return ZONE_ENOMEM;
		m->start = s;
		uint16_t *c = realloc(m->cls, ncap * sizeof(*c));
		if (!c)
			return ZONE_ENOMEM;
		m->cls = c;
		m->cap = ncap;
	}
	m->start[m->n] = start;
	m->cls[m->n] = cls;
	m->n++;
	return 0;
}

/* Range classes over [from, to) (to <= 2^32); *j walks the range segments forward. */
static int map_fill_ranges(struct seg_map *m, const struct zone_r4 *r, size_t *j, uint64_t from,
			   uint64_t to)
{
	while (from < to) {
		if (r->n == 0)
			return map_push(m, from, 0);
		while (*j + 1 < r->n && r->start[*j + 1] <= from)
			(*j)++;
		uint64_t end = *j + 1 < r->n ? r->start[*j + 1] : (uint64_t)1 << 32;
		int rc = map_push(m, from, r->cls[*j]);
		if (rc)
			return rc;
		from = end < to ? end : to;
	}
	return 0;
}

/* IPv4: the /32s (base merged with the overlay, which wins) cut into the flattened ranges. */
static int map_v4(const struct zone_snapshot *s, struct seg_map *m)
{
	const struct zone_s4 *p = s->s4;
	size_t j = 0, o = 0;
	uint64_t pos = 0;
	int rc = map_reserve(m, 2 * (p->n + s->nov4 + s->r4->n) + 4);
	for (uint32_t h = 0; h < 65536 && !rc; h++) {
		for (uint32_t i = p->idx[h]; i < p->idx[h + 1] && !rc; i++) {
			uint32_t ip = h << 16 | p->lo[i];
			uint16_t cls = p->cls[i];
			/* An overlay entry answers for its address, a delete (class 0) included:
			 * a deleted address is not listed even inside a listed range. */
			for (; o < s->nov4 && s->ov4[o].ip <= ip && !rc; o++) {
				if (s->ov4[o].ip == ip) {
					cls = s->ov4[o].cls;
					continue;
				}
				rc = map_fill_ranges(m, s->r4, &j, pos, s->ov4[o].ip);
				if (!rc)
					rc = map_push(m, s->ov4[o].ip, s->ov4[o].cls);
				pos = (uint64_t)s->ov4[o].ip + 1;
			}
			if (rc)
				break;
			rc = map_fill_ranges(m, s->r4, &j, pos, ip);
			if (!rc)
				rc = map_push(m, ip, cls);
			pos = (uint64_t)ip + 1;
		}
	}
	for (; o < s->nov4 && !rc; o++) {
		uint32_t ip = s->ov4[o].ip;
		rc = map_fill_ranges(m, s->r4, &j, pos, ip);
		if (!rc)
			rc = map_push(m, ip, s->ov4[o].cls);
		pos = (uint64_t)ip + 1;
	}
	if (!rc)
		rc = map_fill_ranges(m, s->r4, &j, pos, (uint64_t)1 << 32);
	return rc;
}

/* IPv6: the base entries with the overlay merged in (an overlay prefix replaces the same base
 * prefix; longest prefix wins), flattened the way a rebuild would, test points included. */
static int map_v6(const struct zone_snapshot *s, struct seg_map *m)
{
	const struct zone_p6 *p = s->p6;
	struct zone_p6 *merged = NULL;
	if (s->nov6) {
		merged = zone_p6_merged(s);
		if (!merged)
			return ZONE_ENOMEM;
		p = merged;
	}
	int rc = map_reserve(m, p->nseg + 1);
	for (size_t i = 0; i < p->nseg && !rc; i++)
		rc = map_push(m, p->start[i], p->cls[i]);
	zone_p6_unref(merged);
	return rc;
}

/* Last address of segment i in a space of width bits. */
static zone_u128 seg_last(const struct seg_map *m, size_t i, unsigned width)
{
	if (i + 1 < m->n)
		return m->start[i + 1] - 1;
	return width == 128 ? ~(zone_u128)0 : ((zone_u128)1 << width) - 1;
}

/* ---- output helpers ---------------------------------------------------------- */

static char *put_u32(char *w, uint32_t v)
{
	char tmp[10];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*w++ = tmp[--n];
	return w;
}

static char *put_ip4(char *w, uint32_t ip)
{
	for (int i = 3; i >= 0; i--) {
		w = put_u32(w, (ip >> (8 * i)) & 255);
		if (i)
			*w++ = '.';
	}
	return w;
}

/* Eight groups, uncompressed: rbldnsd reads it, and a line never starts with ':' (which both
 * rbldnsd and Trapline's reader would have to tell from a ":A:TXT" default line). */
static char *put_ip6_full(char *w, zone_u128 v)
{
	static const char hex[] = "0123456789abcdef";
	for (int g = 7; g >= 0; g--) {
		unsigned x = (unsigned)(v >> (16 * g)) & 0xffff;
		bool lead = true;
		for (int d = 3; d >= 0; d--) {
			unsigned nib = (x >> (4 * d)) & 15;
			if (lead && nib == 0 && d > 0)
				continue;
			lead = false;
			*w++ = hex[nib];
		}
		if (g)
			*w++ = ':';
	}
	return w;
}

static void u128_bytes(zone_u128 v, uint8_t out[16])
{
	for (int i = 15; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static unsigned u128_ctz(zone_u128 v, unsigned width)
{
	unsigned n = 0;
	while (n < width && !((v >> n) & 1))
		n++;
	return n;
}

/* Calls emit(first, plen) for the minimal CIDR cover of [first, last] in a width-bit space. */
static int cidr_cover(zone_u128 first, zone_u128 last, unsigned width,
		      int (*emit)(void *ctx, zone_u128 first, unsigned plen), void *ctx)
{
	for (;;) {
		unsigned bits = u128_ctz(first, width);
		while (bits > 0) {
			zone_u128 span = bits == 128 ? ~(zone_u128)0 : ((zone_u128)1 << bits) - 1;
			if (first + span <= last && first + span >= first)
				break;
			bits--;
		}
		int rc = emit(ctx, first, width - bits);
		if (rc)
			return rc;
		zone_u128 span = bits == 128 ? ~(zone_u128)0 : ((zone_u128)1 << bits) - 1;
		if (first + span >= last)
			return 0;
		first += span + 1;
	}
}

/* ---- rbldnsd --------------------------------------------------------------------- */

struct rbl_out {
	FILE *f;
	unsigned width;
};

static int rbl_emit(void *ctx, zone_u128 first, unsigned plen)
{
	struct rbl_out *o = ctx;
	char line[64], *w = line;
	if (o->width == 32)
		w = put_ip4(w, (uint32_t)first);
	else
		w = put_ip6_full(w, first);
	if (plen != o->width) {
		*w++ = '/';
		w = put_u32(w, plen);
	}
	*w++ = '\n';
	return fwrite(line, 1, (size_t)(w - line), o->f) == (size_t)(w - line) ? 0 : ZONE_EIO;
}

/* ":A:TXT" with the template as is; a line break in a template would end the line, so control
 * characters become spaces (neither reader could take them back). */
static void rbl_default_line(FILE *f, const struct zone_class *c)
{
	char a[16];
	*put_ip4(a, c->a) = '\0';
	fprintf(f, ":%s:", a);
	for (uint32_t i = 0; c->txt && i < c->txt_len; i++)
		fputc((unsigned char)c->txt[i] < 0x20 ? ' ' : c->txt[i], f);
	fputc('\n', f);
}

/* Segment indices of the listed segments, grouped by class (counting sort, so addresses stay
 * in order within a class). *off[c]..off[c+1] are class c's. */
static int rbl_group(const struct zone_snapshot *s, const struct seg_map *m, size_t **order,
		     size_t **off)
{
	size_t *cnt = calloc(s->nclass + 2, sizeof(*cnt));
	size_t *ord = malloc((m->n ? m->n : 1) * sizeof(*ord));
	if (!cnt || !ord) {
		free(cnt);
		free(ord);
		return ZONE_ENOMEM;
	}
	for (size_t i = 0; i < m->n; i++)
		cnt[m->cls[i] + 1]++;
	for (size_t c = 1; c <= s->nclass + 1; c++)
		cnt[c] += cnt[c - 1];
	size_t *pos = malloc((s->nclass + 1) * sizeof(*pos));
	if (!pos) {
		free(cnt);
		free(ord);
		return ZONE_ENOMEM;
	}
	memcpy(pos, cnt, (s->nclass + 1) * sizeof(*pos));
	for (size_t i = 0; i < m->n; i++)
		ord[pos[m->cls[i]]++] = i;
	free(pos);
	*order = ord;
	*off = cnt;
	return 0;
}

/* One dataset section per TTL (rbldnsd's $TTL holds for a whole dataset), each with one
 * ":A:TXT" group per class of that TTL. */
static int rbl_sections(FILE *f, const struct zone_snapshot *s, const struct seg_map *m,
			const char *type, unsigned width)
{
	size_t *order, *off;
	int rc = rbl_group(s, m, &order, &off);
	if (rc)
		return rc;
	bool *done = calloc(s->nclass + 1, sizeof(*done));
	if (!done) {
		free(order);
		free(off);
		return ZONE_ENOMEM;
	}
	struct rbl_out o = { f, width };
	for (size_t c = 1; c <= s->nclass && !rc; c++) {
		if (done[c] || off[c] == off[c + 1])
			continue;
		uint32_t ttl = s->classes[c].ttl;
		fprintf(f, "$DATASET %s:ttl%u @\n$TTL %u\n", type, ttl, ttl);
		for (size_t k = c; k <= s->nclass && !rc; k++) {
			if (done[k] || off[k] == off[k + 1] || s->classes[k].ttl != ttl)
				continue;
			done[k] = true;
			rbl_default_line(f, &s->classes[k]);
			for (size_t x = off[k]; x < off[k + 1] && !rc; x++) {
				size_t i = order[x];
				rc = cidr_cover(m->start[i], seg_last(m, i, width), width, rbl_emit, &o);
			}
		}
	}
	free(done);
	free(order);
	free(off);
	return rc;
}

static void name_dot(char *out, size_t cap, const char *name)
{
	size_t len = strlen(name);
	snprintf(out, cap, "%s%s", name, len && name[len - 1] == '.' ? "" : ".");
}

int zone_export_rbldnsd(const struct zone_snapshot *s, const char *zone, FILE *f)
{
	if (!s || !zone || !f)
		return ZONE_EINVAL;
	struct seg_map m4 = { 0 }, m6 = { 0 };
	int rc = map_v4(s, &m4);
	if (!rc)
		rc = map_v6(s, &m6);
	if (rc)
		goto out;
	const struct zone_soa *soa = &s->soa;
	fprintf(f, "# Trapline export of %s, serial %u: rbldnsd data, load as %s:combined:FILE\n",
		zone, soa->serial, zone);
	char n1[ZONE_NAME_MAX + 2], n2[ZONE_NAME_MAX + 2];
	if (soa->mname[0]) {
		name_dot(n1, sizeof(n1), soa->mname);
		name_dot(n2, sizeof(n2), soa->rname[0] ? soa->rname : soa->mname);
		fprintf(f, "$SOA %u %s %s %u %u %u %u %u\n", soa->ttl, n1, n2, soa->serial,
			soa->refresh, soa->retry, soa->expire, soa->minimum);
	}
	if (s->ns.count) {
		fprintf(f, "$NS %u", s->ns.ttl);
		for (unsigned i = 0; i < s->ns.count; i++) {
			name_dot(n1, sizeof(n1), s->ns.names[i]);
			fprintf(f, " %s", n1);
		}
		fputc('\n', f);
	}
	rc = rbl_sections(f, s, &m4, "ip4set", 32);
	if (!rc)
		rc = rbl_sections(f, s, &m6, "ip6trie", 128);
	if (!rc && (fflush(f) || ferror(f)))
		rc = ZONE_EIO;
out:
	map_free(&m4);
	map_free(&m6);
	return rc;
}

/* ---- BIND -------------------------------------------------------------------------- */
/* Names are label-aligned nodes of the address tree (octets for IPv4, nibbles for IPv6). A
 * node whose addresses all answer alike is one wildcard "*.node" (or the name itself at full
 * depth); any other node is split into its children. A wildcard is exact only when no name
 * exists below its node, which the split guarantees: a node holding a boundary is never a
 * wildcard. Runs of like children between boundaries are written as siblings, so the work is
 * proportional to the output. */

struct bind_out {
	FILE *f;
	const struct zone_snapshot *s;
	unsigned width, step; /* address bits; bits per label */
	const struct seg_map *m;
	size_t budget;        /* names left for expansions */
	size_t skipped;       /* names left out over the budget */
	char *txt;            /* substitution buffer */
	size_t txtcap;
	int rc;
};

static size_t seg_find(const struct seg_map *m, zone_u128 a)
{
	return zone_u128_floor(m->start, m->n, a);
}

/* Owner name of node a at depth labels, relative to the origin, "*." first for a wildcard. */
static char *bind_owner(char *w, const struct bind_out *o, zone_u128 a, unsigned depth, bool wild)
{
	static const char hex[] = "0123456789abcdef";
	if (wild) {
		*w++ = '*';
		if (depth)
			*w++ = '.';
	}
	for (unsigned d = depth; d > 0; d--) {
		unsigned label = (unsigned)(a >> (o->width - d * o->step)) & ((1u << o->step) - 1);
		if (o->step == 4)
			*w++ = hex[label];
		else
			w = put_u32(w, label);
		if (d > 1)
			*w++ = '.';
	}
	return w;
}

/* What '$' stands for: the address at full depth, the node as CIDR for a wildcard (a zone file
 * cannot know which address was asked for). */
static size_t bind_subst(const struct bind_out *o, zone_u128 a, unsigned depth, char *buf)
{
	uint8_t b[16];
	size_t n;
	if (o->width == 32) {
		n = ip4_format((uint32_t)a, buf);
	} else {
		u128_bytes(a, b);
		n = ip6_format(b, buf);
	}
	unsigned plen = depth * o->step;
	if (plen < o->width)
		n += (size_t)sprintf(buf + n, "/%u", plen);
	return n;
}

/* TXT RDATA in master-file syntax: character-strings of at most 255 bytes (RFC 1035 3.3.14),
 * quoted, with '"' and '\' escaped and anything outside printable ASCII as \DDD. */
static void bind_txt(FILE *f, const char *t, size_t n)
{
	size_t off = 0;
	do {
		size_t end = n - off > 255 ? off + 255 : n;
		if (off)
			fputc(' ', f);
		fputc('"', f);
		for (size_t i = off; i < end; i++) {
			unsigned char c = (unsigned char)t[i];
			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c < 0x20 || c > 0x7e)
				fprintf(f, "\\%03u", c);
			else
				fputc(c, f);
		}
		fputc('"', f);
		off = end;
	} while (off < n);
}

static void bind_records(struct bind_out *o, zone_u128 a, unsigned depth, uint16_t cls)
{
	const struct zone_class *c = &o->s->classes[cls];
	bool wild = depth * o->step < o->width;
	char owner[160], *w = bind_owner(owner, o, a, depth, wild);
	*w = '\0';
	char av[16];
	*put_ip4(av, c->a) = '\0';
	fprintf(o->f, "%s\t%u\tIN\tA\t%s\n", owner, c->ttl, av);
	if (!c->txt)
		return;
	char sub[64];
	size_t sn = bind_subst(o, a, depth, sub);
	size_t need = c->txt_len + 1;
	for (uint32_t i = 0; i < c->txt_len; i++)
		need += c->txt[i] == '$' ? sn : 0;
	if (need > o->txtcap) {
		char *nb = realloc(o->txt, need);
		if (!nb) {
			o->rc = ZONE_ENOMEM;
			return;
		}
		o->txt = nb;
		o->txtcap = need;
	}
	size_t n = 0;
	for (uint32_t i = 0; i < c->txt_len; i++) {
		if (c->txt[i] == '$') {
			memcpy(o->txt + n, sub, sn);
			n += sn;
		} else {
			o->txt[n++] = c->txt[i];
		}
	}
	fprintf(o->f, "%s\t%u\tIN\tTXT\t", owner, c->ttl);
	bind_txt(o->f, o->txt, n);
	fputc('\n', o->f);
}

/* count sibling nodes from a at depth, all answering cls. */
static void bind_run(struct bind_out *o, zone_u128 a, zone_u128 count, unsigned depth,
		     uint16_t cls)
{
	if (cls == 0 || count == 0)
		return;
	unsigned bits = o->width - depth * o->step;
	if (count > 1 || bits > 0) { /* an expansion of a range, not a listed address */
		if (count > o->budget) {
			o->skipped += (size_t)count;
			return;
		}
		o->budget -= (size_t)count;
	}
	for (zone_u128 k = 0; k < count && !o->rc; k++)
		bind_records(o, bits >= 128 ? a : a + (k << bits), depth, cls);
}

static void bind_node(struct bind_out *o, zone_u128 a, unsigned depth)
{
	unsigned bits = o->width - depth * o->step;
	zone_u128 last = a | (bits == 128 ? ~(zone_u128)0 : ((zone_u128)1 << bits) - 1);
	size_t i = seg_find(o->m, a);
	if (!(i + 1 < o->m->n && o->m->start[i + 1] <= last)) {
		bind_run(o, a, 1, depth, o->m->cls[i]);
		return;
	}
	unsigned cbits = bits - o->step;
	zone_u128 c = a;
	while (!o->rc) {
		i = seg_find(o->m, c);
		bool to_end = !(i + 1 < o->m->n && o->m->start[i + 1] <= last);
		zone_u128 run = to_end ? ((last - c) >> cbits) + 1 : (o->m->start[i + 1] - c) >> cbits;
		bind_run(o, c, run, depth + 1, o->m->cls[i]);
		if (to_end)
			return;
		c += run << cbits;
		if (c == o->m->start[i + 1])
			continue; /* the boundary falls between children */
		bind_node(o, c, depth + 1);
		if (c + (((zone_u128)1 << cbits) - 1) == last)
			return;
		c += (zone_u128)1 << cbits;
	}
}

/* True when name (no trailing dot) is zone or below it, without case. */
static bool name_in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	if (z > 0 && zone[z - 1] == '.')
		z--;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n < z || strncasecmp(name + n - z, zone, z) != 0)
		return false;
	return n == z || name[n - z - 1] == '.';
}

static const struct zone_glue_name *glue_of(const struct zone_glue *g, const char *name)
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	for (unsigned i = 0; i < g->count; i++)
		if (strlen(g->names[i].name) == n && strncasecmp(g->names[i].name, name, n) == 0)
			return &g->names[i];
	return NULL;
}

/* The addresses of the in-zone name servers (RFC 1034 4.2.1): without them a server loading
 * the file cannot reach the zone's own name servers, and named-checkzone refuses it. */
static void bind_glue(FILE *f, const struct zone_snapshot *s, const char *zone)
{
	char n[ZONE_NAME_MAX + 2], ip[IP6_STRLEN];
	for (unsigned i = 0; i < s->glue.count; i++) {
		const struct zone_glue_name *g = &s->glue.names[i];
		if (!name_in_zone(g->name, zone)) /* another zone's name: not ours to publish */
			continue;
		name_dot(n, sizeof(n), g->name);
		for (unsigned k = 0; k < g->n4; k++) {
			ip4_format(g->a4[k], ip);
			fprintf(f, "%s\t%u\tIN\tA\t%s\n", n, s->glue.ttl, ip);
		}
		for (unsigned k = 0; k < g->n6; k++) {
			ip6_format(g->a6[k], ip);
			fprintf(f, "%s\t%u\tIN\tAAAA\t%s\n", n, s->glue.ttl, ip);
		}
	}
}

bool zone_export_bind_problem(const struct zone_snapshot *s, const char *zone, char *why,
			      size_t cap)
{
	char ns1[ZONE_NAME_MAX + 1];
	snprintf(ns1, sizeof(ns1), "%s", s->soa.mname);
	unsigned count = s->ns.count ? s->ns.count : 1;
	for (unsigned i = 0; i < count; i++) {
		const char *name = s->ns.count ? s->ns.names[i] : ns1;
		const struct zone_glue_name *g = glue_of(&s->glue, name);
		if (name_in_zone(name, zone) && (!g || g->n4 + g->n6 == 0)) {
			snprintf(why, cap, "name server %s is inside zone %s and has no address, so "
					   "BIND and named-checkzone would refuse the file; set ns_addr "
					   "= %s=ADDR, or name servers outside the zone (ns)",
				 name, zone, name);
			return true;
		}
	}
	return false;
}

int zone_export_bind(const struct zone_snapshot *s, const char *zone, FILE *f)
{
	if (!s || !zone || !f)
		return ZONE_EINVAL;
	char why[ZONE_NAME_MAX * 3 + 256];
	if (zone_export_bind_problem(s, zone, why, sizeof(why))) {
		/* Once per process: the service exports every export_interval, and an operator
		 * who has read it once does not need it in the log every five minutes. */
		static atomic_bool told;
		if (!atomic_exchange(&told, true))
			log_err("zone", "bind export refused zone=%s reason=\"%s\"", zone, why);
		return ZONE_EUNLOADABLE;
	}
	struct seg_map m4 = { 0 }, m6 = { 0 };
	struct bind_out o = { .f = f, .s = s, .budget = ZONE_EXPORT_BIND_EXPAND_MAX };
	int rc = map_v4(s, &m4);
	if (!rc)
		rc = map_v6(s, &m6);
	if (rc)
		goto out;
	char origin[ZONE_NAME_MAX + 2], n1[ZONE_NAME_MAX + 2], n2[ZONE_NAME_MAX + 2];
	name_dot(origin, sizeof(origin), zone);
	const struct zone_soa *soa = &s->soa;
	if (soa->mname[0])
		name_dot(n1, sizeof(n1), soa->mname);
	else
		snprintf(n1, sizeof(n1), "ns1.%.250s", origin);
	if (soa->rname[0])
		name_dot(n2, sizeof(n2), soa->rname);
	else
		snprintf(n2, sizeof(n2), "hostmaster.%.245s", origin);
	fprintf(f, "; Trapline export of %s, serial %u: RFC 1035 master file\n", zone, soa->serial);
	fprintf(f, "$ORIGIN %s\n$TTL %u\n", origin, s->classes[s->default_cls].ttl);
	fprintf(f, "@\t%u\tIN\tSOA\t%s %s %u %u %u %u %u\n", soa->ttl, n1, n2, soa->serial,
		soa->refresh, soa->retry, soa->expire, soa->minimum);
	for (unsigned i = 0; i < s->ns.count; i++) {
		name_dot(n2, sizeof(n2), s->ns.names[i]);
		fprintf(f, "@\t%u\tIN\tNS\t%s\n", s->ns.ttl, n2);
	}
	if (s->ns.count == 0) /* a zone must have NS records: the SOA's primary then */
		fprintf(f, "@\t%u\tIN\tNS\t%s\n", soa->ttl, n1);
	bind_glue(f, s, zone);
	o.width = 32;
	o.step = 8;
	o.m = &m4;
	bind_node(&o, 0, 0);
	o.width = 128;
	o.step = 4;
	o.m = &m6;
	if (!o.rc)
		bind_node(&o, 0, 0);
	rc = o.rc;
	if (!rc && o.skipped) {
		fprintf(f, "; WARNING: %zu names over the expansion limit of %u were left out\n",
			o.skipped, ZONE_EXPORT_BIND_EXPAND_MAX);
		log_warn("zone", "bind export incomplete zone=%s skipped_names=%zu limit=%u", zone,
			 o.skipped, ZONE_EXPORT_BIND_EXPAND_MAX);
	}
	if (!rc && (fflush(f) || ferror(f)))
		rc = ZONE_EIO;
out:
	free(o.txt);
	map_free(&m4);
	map_free(&m6);
	return rc;
}

/* ---- atomic file -------------------------------------------------------------------- */

/* The rename is only durable once the directory entry is on disk. */
static int fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int zone_export_file(const struct zone_snapshot *s, const char *zone, int format, const char *path)
{
	if (!s || !zone || !path || (format != ZONE_EXPORT_RBLDNSD && format != ZONE_EXPORT_BIND))
		return ZONE_EINVAL;
	uint64_t t0 = time_mono_ns();
	size_t len = strlen(path);
	char *tmp = malloc(len + 5);
	if (!tmp)
		return ZONE_ENOMEM;
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp", 5);
	int rc = ZONE_EIO, saved = 0;
	FILE *f = NULL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		saved = errno;
		goto fail;
	}
	f = fdopen(fd, "w");
	if (!f) {
		saved = errno;
		close(fd);
		goto fail_unlink;
	}
	rc = format == ZONE_EXPORT_RBLDNSD ? zone_export_rbldnsd(s, zone, f)
					   : zone_export_bind(s, zone, f);
	saved = errno;
	if (rc)
		goto fail_close;
	rc = ZONE_EIO;
	if (fflush(f) || fsync(fileno(f)) < 0) {
		saved = errno;
		goto fail_close;
	}
	long size = ftell(f);
	int cr = fclose(f);
	f = NULL;
	if (cr) {
		saved = errno;
		goto fail_unlink;
	}
	if (rename(tmp, path) < 0) {
		saved = errno;
		goto fail_unlink;
	}
	if (fsync_dir(path) < 0) /* the file is in place; only its durability is in doubt */
		log_warn("zone", "export fsync of directory failed file=%s error=\"%s\"", path,
			 strerror(errno));
	log_info("zone", "export written file=%s format=%s bytes=%ld ms=%.1f", path,
		 format == ZONE_EXPORT_RBLDNSD ? "rbldnsd" : "bind", size,
		 (double)(time_mono_ns() - t0) / 1e6);
	free(tmp);
	return 0;
fail_close:
	fclose(f);
fail_unlink:
	unlink(tmp);
fail:
	log_err("zone", "export failed file=%s error=\"%s\"", path,
		rc == ZONE_EIO ? strerror(saved) : tl_strerror(rc));
	free(tmp);
	errno = saved;
	return rc;
}
