/* zone_internal.h - private layout of builders and snapshots, shared by the src/zone/ files only. */
#ifndef TRAPLINE_ZONE_INTERNAL_H
#define TRAPLINE_ZONE_INTERNAL_H

#include <stdatomic.h>

#include "zone.h"

typedef unsigned __int128 zone_u128;

#define ZONE_TP_LISTED ZONE_TEST_POINT_LISTED     /* RFC 5782 section 5: must be listed */
#define ZONE_TP_UNLISTED ZONE_TEST_POINT_UNLISTED /* RFC 5782 section 5: must not be listed */
#define ZONE_IDX_SIZE 65537          /* one slot per top-16-bit value, plus the end */
#define ZONE_OVERLAY_MAX 4096        /* overlay entries before apply merges into new arrays */
#define ZONE_PLEN_NONE 0xff          /* v6 segment that no prefix covers */

/* ---- builder ---- */

struct zone_bclass {
	uint32_t a, ttl;
	char *txt; /* NULL: no TXT */
	uint32_t txt_len;
};

struct zone_r4in {
	uint32_t first, last;
	uint16_t cls;
};

struct zone_e6 {
	zone_u128 start;
	uint16_t cls;
	uint8_t plen;
};

struct zone_builder {
	struct zone_soa soa;
	struct zone_ns ns;
	struct zone_glue glue;
	uint32_t def_a, def_ttl; /* the defaults the builder started from */
	char *def_txt;
	uint32_t cur_a, cur_ttl; /* the current default (":A:TXT" / $TTL lines) */
	char *cur_txt;
	uint32_t cur_txt_len;
	bool cur_valid;
	uint16_t cur_id;
	bool soa_seen, ns_seen; /* the first $SOA / $NS of the data wins, as in rbldnsd */
	bool serial_from_mtime; /* serial 0 in the data: the newest data file mtime */

	struct zone_bclass *classes; /* [0] unused: id 0 is the exclusion */
	size_t nclass, capclass;
	uint32_t *hash; /* open addressing on class ids, 0 = empty */
	size_t hashcap;

	uint64_t *singles; /* ip << 32 | class: /32 entries */
	size_t nsingle, capsingle;
	struct zone_r4in *ranges;
	size_t nrange, caprange;
	struct zone_e6 *v6;
	size_t nv6, capv6;
};

/* ---- shared immutable parts (reference counted between snapshots) ---- */

/* IPv4 /32 entries: the low 16 bits of each key, bucketed by the top 16 bits through idx. */
struct zone_s4 {
	atomic_long refs;
	size_t n;
	size_t count; /* data entries among them (the test points are not counted) */
	uint16_t *lo;
	uint16_t *cls;
	uint32_t *idx; /* ZONE_IDX_SIZE: keys with top16 == h are [idx[h], idx[h+1]) */
};

/* IPv4 ranges flattened into disjoint segments [start[i], start[i+1]) -> cls[i], start[0] == 0. */
struct zone_r4 {
	atomic_long refs;
	size_t n; /* 0: no ranges at all */
	size_t count; /* distinct ranges added */
	uint32_t *start;
	uint16_t *cls;
	uint32_t *idx; /* ZONE_IDX_SIZE: idx[h] is the segment holding h << 16, idx[65536] = n - 1;
			NULL for a few segments */
};

/* IPv6 prefixes: the entries (for merges) and their flattening into disjoint segments. */
struct zone_p6 {
	atomic_long refs;
	size_t nent;
	struct zone_e6 *ent; /* deduplicated, sorted by (start, plen), test points not included */
	size_t nseg;
	zone_u128 *start;
	uint16_t *cls;
	uint8_t *plen; /* prefix length of the winning entry, ZONE_PLEN_NONE for gaps */
};

struct zone_ov4 {
	uint32_t ip;
	uint16_t cls; /* 0: deleted (not listed) */
};

struct zone_ov6 {
	zone_u128 start;
	uint16_t cls;
	uint8_t plen;
};

struct zone_snapshot {
	uint64_t id;
	struct zone_s4 *s4;
	struct zone_r4 *r4;
	struct zone_p6 *p6;
	size_t nov4, nov6;
	struct zone_ov4 *ov4; /* sorted by ip */
	long ov4_delta;       /* what the v4 overlay adds to the entry count (zone_apply.c) */
	struct zone_ov6 *ov6; /* sorted by (start, plen) */
	uint64_t ov6_plens[3]; /* bit p set: some overlay entry has plen p */
	size_t nclass; /* classes[1..nclass] */
	struct zone_class *classes;
	char *arena; /* TXT templates of the classes */
	size_t arena_len;
	uint16_t default_cls;
	size_t count;
	struct zone_soa soa;
	struct zone_ns ns;
	struct zone_glue glue;
};

/* ---- helpers between files ---- */

uint64_t zone_next_id(void);
void zone_s4_unref(struct zone_s4 *p);
void zone_r4_unref(struct zone_r4 *p);
void zone_p6_unref(struct zone_p6 *p);
/* Builds the /32 part from (ip << 32 | cls) items sorted by ip (duplicates already resolved),
 * forcing the IPv4 test points; tp_cls is the class for 127.0.0.2 when the data lacks it. */
struct zone_s4 *zone_s4_from_sorted(const uint64_t *items, size_t n, uint16_t tp_cls);
/* Flattens deduplicated, sorted v6 entries (takes ownership of ent) with the test points. */
struct zone_p6 *zone_p6_from_entries(struct zone_e6 *ent, size_t nent, uint16_t tp_cls);
/* The v6 part of s with its overlay merged in (an overlay prefix replaces the same base
 * prefix), flattened as a rebuild would: a new zone_p6 (unref it), NULL when out of memory. */
struct zone_p6 *zone_p6_merged(const struct zone_snapshot *s);
/* The last i with start[i] <= key in start[0..n) (start[0] <= key, n >= 1), without branches
 * in the loop: the lookups' inner search. */
static inline size_t zone_u128_floor(const zone_u128 *start, size_t n, zone_u128 key)
{
	size_t lo = 0;
	while (n > 1) {
		size_t half = n / 2;
		if (start[lo + half] <= key)
			lo += half;
		n -= half;
	}
	return lo;
}
/* Sorts and deduplicates v6 entries in place (equal prefix: exclusion, else the last); new n. */
size_t zone_e6_sort_dedup(struct zone_e6 *e, size_t n);
size_t zone_s4_bytes(const struct zone_s4 *p);
size_t zone_r4_bytes(const struct zone_r4 *p);
size_t zone_p6_bytes(const struct zone_p6 *p);
/* Stable radix sort of items on their top 32 bits; returns whichever of a and tmp holds them. */
uint64_t *zone_radix_sort_hi32(uint64_t *a, uint64_t *tmp, size_t n);
/* Raw lookups of the shared parts: class id (0 none); *found says whether an entry matched. */
uint16_t zone_s4_find(const struct zone_s4 *p, uint32_t ip, bool *found);
uint16_t zone_r4_find(const struct zone_r4 *p, uint32_t ip);
/* Sets the builder's current default class (":A:TXT" lines); txt NULL for none. */
int zone_builder_set_default(struct zone_builder *b, uint32_t a, const char *txt, size_t txt_len);
void zone_builder_set_ttl(struct zone_builder *b, uint32_t ttl);
/* Back to the defaults the builder was created with (a new $DATASET section). */
void zone_builder_reset_default(struct zone_builder *b);
/* Copies the builder's interned classes into s (s->classes and one arena for the TXT
 * templates); used by a full build and by apply. ZONE_ENOMEM. */
int zone_snapshot_classes(struct zone_snapshot *s, const struct zone_builder *b);
/* dst = a copy of src with memory of its own (dst is overwritten, not freed). ZONE_ENOMEM, or
 * what zone_ns_add says of a name of src that it would not have taken. */
int zone_ns_copy(struct zone_ns *dst, const struct zone_ns *src);
int zone_glue_copy(struct zone_glue *dst, const struct zone_glue *src);
/* Heap bytes behind ns and g (for zone_snapshot_bytes). */
size_t zone_names_bytes(const struct zone_ns *ns, const struct zone_glue *g);

/* ---- records (zone_rr.c, shared with the journal) ---- */

/* A growing byte buffer for one record's RDATA. */
struct zone_rr_buf {
	uint8_t *data;
	size_t len, cap;
};
int zone_rr_buf_room(struct zone_rr_buf *b, size_t need);
/* name (presentation, optional trailing dot) in wire form; 0 when it is not a valid name. */
size_t zone_name_wire(const char *s, uint8_t out[256]);
/* The owner labels of node a at depth labels (octets for width 32, nibbles for 128), "*"
 * first for a wildcard; at most 66 bytes. Returns the length. */
size_t zone_rr_owner(uint8_t *w, unsigned width, zone_u128 a, unsigned depth, bool wild);
/* The TXT RDATA of class c for address a (plen < width: the block a/plen) into b. */
int zone_rr_txt(struct zone_rr_buf *b, const struct zone_class *c, unsigned width, zone_u128 a,
		unsigned plen);

static inline zone_u128 zone_u128_load(const uint8_t ip[16])
{
	zone_u128 v = 0;
	for (int i = 0; i < 16; i++)
		v = (v << 8) | ip[i];
	return v;
}

static inline zone_u128 zone_u128_mask(unsigned plen)
{
	if (plen == 0)
		return 0;
	return ~(zone_u128)0 << (128 - plen);
}

#endif
