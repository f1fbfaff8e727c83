/* zone.h - the listing set: entries, answer classes, immutable snapshots, lookup, publication. */
#ifndef TRAPLINE_ZONE_H
#define TRAPLINE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

/* ---- errors ---------------------------------------------------------------- */

/* The codes of the one error space (base.h) that zone functions return. */
enum zone_err {
	ZONE_OK = TL_OK,
	ZONE_EINVAL = TL_EINVAL,     /* bad argument (prefix length, address with host bits set, ...) */
	ZONE_ENOMEM = TL_ENOMEM,     /* allocation failed */
	ZONE_EIO = TL_EIO,           /* the data file could not be read; errno says why */
	ZONE_EPARSE = TL_EPARSE,     /* the data file had lines that do not parse (each one logged) */
	ZONE_ETOOMANY = TL_ETOOMANY, /* past a limit: ZONE_CLASS_MAX, ZONE_NS_WIRE_MAX, ZONE_GLUE_ADDRS */
	ZONE_EUNLOADABLE = TL_EUNLOADABLE, /* the export would not load where it is meant to */
	ZONE_ENOTFOUND = TL_ENOTFOUND, /* the IXFR journal does not hold the way from a serial */
};

/* The RFC 5782 test points (section 5), which every snapshot answers whatever the data:
 * 127.0.0.2 (and ::FFFF:7F00:2) listed, 127.0.0.1 (and ::FFFF:7F00:1) never. */
#define ZONE_TEST_POINT_LISTED 0x7f000002u
#define ZONE_TEST_POINT_UNLISTED 0x7f000001u

/* ---- SOA serials (RFC 1982) ------------------------------------------------- */
/* Serials are compared in serial number arithmetic (RFC 1982 3.2, SERIAL_BITS 32): they wrap
 * around at 2^32, and a secondary takes a zone only when its serial is greater in that sense.
 * A publication's serial is always zone_serial_next of the highest one served before. */

/* True when a is greater than b (RFC 1982 3.2). a - b == 2^31 is undefined there: false both
 * ways, so no caller ever treats such a pair as newer. */
bool zone_serial_gt(uint32_t a, uint32_t b);
/* The serial to publish after last (the highest served so far), at clock now (seconds): now
 * when it is greater than last (a fresh start after a long pause keeps the familiar
 * time-based serial), else last + 1, wrapping from 2^32 - 1 to 0 (which is greater, RFC 1982
 * 3.1). The result is always greater than last. */
uint32_t zone_serial_next(uint32_t last, uint32_t now);

/* ---- answer classes -------------------------------------------------------- */
/* Every entry points at an answer class: the A value, the TXT template and the TTL.
 * Class 0 (ZONE_CLASS_EXCLUDE) marks an exclusion: "not listed". */

#define ZONE_CLASS_EXCLUDE 0
#define ZONE_CLASS_MAX 65535

struct zone_class {
	uint32_t a;      /* A value, host byte order (127.0.0.2 == 0x7f000002) */
	uint32_t ttl;    /* TTL of the A and TXT answers */
	const char *txt; /* TXT template, '$' becomes the queried IP; NULL: no TXT record */
	uint32_t txt_len;
};

/* ---- zone-wide data -------------------------------------------------------- */

#define ZONE_NAME_MAX 255 /* presentation form, without the trailing dot */

struct zone_soa {
	char mname[ZONE_NAME_MAX + 1]; /* primary name server, no trailing dot */
	char rname[ZONE_NAME_MAX + 1]; /* hostmaster mailbox as a domain name, no trailing dot */
	uint32_t serial, refresh, retry, expire, minimum;
	uint32_t ttl; /* TTL of the SOA record itself */
};

/* The most bytes the NS RRset may take in an answer: each record a 2-byte pointer to the
 * apex, 10 bytes of type, class, TTL and length, and its name uncompressed (the text's length
 * + 2). It is what one TCP message (65,535 bytes) leaves after the header (12), the longest
 * question (255 + 4) and an EDNS OPT record (11), so the whole set always reaches a client
 * over TCP (RFC 2181 9: never a partial RRset). That is 244 names of the longest kind and
 * about 1,900 of 20 characters; NSD sets no limit, and no real zone comes near this one. */
#define ZONE_NS_WIRE_MAX (65535 - 12 - 259 - 11)

/* The zone's name servers, in the order given. zone_ns_add fills it and owns what it
 * allocates until zone_ns_free; a copy made by assignment shares that memory (so it is cheap)
 * and must not outlive the original. Builders and snapshots keep copies of their own. */
struct zone_ns {
	uint32_t ttl;
	unsigned count;
	char **names; /* [count], no trailing dot */
	unsigned cap; /* room in names (zone_ns_add's bookkeeping) */
	size_t wire;  /* bytes of the RRset as ZONE_NS_WIRE_MAX counts them (zone_ns_add's) */
};

/* Appends a copy of name (a trailing dot dropped) to ns. ZONE_EINVAL for an empty name or one
 * longer than ZONE_NAME_MAX; ZONE_ETOOMANY when the set would pass ZONE_NS_WIRE_MAX (ns is
 * left as it was); ZONE_ENOMEM. */
int zone_ns_add(struct zone_ns *ns, const char *name);
/* Frees the names of ns and empties it (the TTL stays). */
void zone_ns_free(struct zone_ns *ns);

/* Addresses of name servers named inside the zone (RFC 1034 4.2.1 glue): nobody but the zone
 * itself can answer for ns1.<zone>, and a master file whose NS names lack them is refused.
 * They come from the config (ns_addr) only: a data file's $NS lines carry no addresses, so a
 * $NS line replaces the names but leaves these. */
#define ZONE_GLUE_ADDRS 4 /* addresses of one name, of each family */

struct zone_glue_name {
	char name[ZONE_NAME_MAX + 1]; /* lowercase, no trailing dot */
	unsigned n4, n6;
	uint32_t a4[ZONE_GLUE_ADDRS];    /* host order */
	uint8_t a6[ZONE_GLUE_ADDRS][16];
};

/* Filled by zone_glue_add, freed by zone_glue_free; assignment shares, as for zone_ns. */
struct zone_glue {
	uint32_t ttl; /* of the A and AAAA records */
	unsigned count;
	struct zone_glue_name *names; /* [count] */
	unsigned cap;                 /* room in names (zone_glue_add's bookkeeping) */
};

/* Adds one address of name (v6: ip6, else ip4 in host order) to g, grouping by name (compared
 * without case); as many names as memory holds (every NS name and the SOA primary can have
 * some). ZONE_ETOOMANY past ZONE_GLUE_ADDRS addresses of one family; ZONE_EINVAL for a name
 * longer than ZONE_NAME_MAX; ZONE_ENOMEM. */
int zone_glue_add(struct zone_glue *g, const char *name, bool v6, uint32_t ip4,
		  const uint8_t ip6[16]);
/* Frees the names of g and empties it (the TTL stays). */
void zone_glue_free(struct zone_glue *g);

/* What a builder starts from: the values used where the data does not say
 * otherwise (the config gives them; a data file's $SOA/$NS/$TTL/":A:TXT" lines win). */
struct zone_defaults {
	struct zone_soa soa; /* serial 0: the builder uses the current time */
	struct zone_ns ns;     /* filled with zone_ns_add */
	struct zone_glue glue; /* addresses of in-zone name servers; count 0: none */
	uint32_t ttl;        /* TTL for A/TXT answers */
	uint32_t a;          /* default A value, host order */
	const char *txt;     /* default TXT template (copied) */
	char txt_buf[1024];  /* zone_defaults_from's template, which txt points at */
};

/* The defaults from the configuration: soa_* (mname and rname default to ns1.<zone> and
 * hostmaster.<zone>), ns (default ns1.<zone>), ns_ttl, ns_addr as glue, answer_a, answer_txt,
 * answer_ttl. The default class answers the RFC 5782 test points (and a data file's entries
 * that name no class), whose listing has no reason: "{reason}" in answer_txt becomes "RFC
 * 5782 test point" with the store, and is left out (with its brackets) for a data file.
 * d->txt points at d->txt_buf. The config schema and config_check have checked every value;
 * an ns_addr pair past the glue table's room is logged and left out. */
void zone_defaults_from(const struct config *cfg, struct zone_defaults *d);
/* Frees what zone_ns_add and zone_glue_add allocated in d (not d itself, not txt). Copies of
 * d made by assignment share those names (the writer keeps one while it runs): free d only
 * when none of them is used any more. */
void zone_defaults_free(struct zone_defaults *d);

/* ---- building a snapshot --------------------------------------------------- */

struct zone_builder;
struct zone_snapshot;

/* A new empty builder seeded with defaults (copied, names included: the caller may free
 * them afterwards). NULL on allocation failure. */
struct zone_builder *zone_builder_new(const struct zone_defaults *defaults);
void zone_builder_free(struct zone_builder *b);

/* Interns an answer class (identical classes share one id) and returns its id (>= 1)
 * in *id. txt may be NULL (no TXT). ZONE_ETOOMANY past ZONE_CLASS_MAX classes. */
int zone_builder_class(struct zone_builder *b, uint32_t a, const char *txt, size_t txt_len,
		       uint32_t ttl, uint16_t *id);
/* The class used for entries that name none: the current default (":A:TXT" line or defaults). */
int zone_builder_default_class(struct zone_builder *b, uint16_t *id);

/* Adds an IPv4 range [first, last] (host order, inclusive; a /32 is first == last; any range,
 * it need not be a CIDR block) pointing at class_id, or an exclusion with ZONE_CLASS_EXCLUDE.
 * Where entries overlap, the most specific (smallest) one wins; between two of the same size,
 * the exclusion wins, then the one added last. */
int zone_builder_add4(struct zone_builder *b, uint32_t first, uint32_t last, uint16_t class_id);
/* Adds an IPv6 prefix (host bits must be zero: ZONE_EINVAL otherwise; plen 0..128). */
int zone_builder_add6(struct zone_builder *b, const uint8_t prefix[16], unsigned plen,
		      uint16_t class_id);
/* Replaces the SOA / NS of what will be built (both copied; ns may be freed afterwards).
 * zone_builder_set_ns: ZONE_ENOMEM, and the builder keeps its previous NS set. */
void zone_builder_set_soa(struct zone_builder *b, const struct zone_soa *soa);
int zone_builder_set_ns(struct zone_builder *b, const struct zone_ns *ns);

/* Entries added so far (IPv4 ranges + IPv6 prefixes, exclusions included). */
size_t zone_builder_count(const struct zone_builder *b);

/* Builds an immutable snapshot from everything added and resets nothing: the builder can be
 * freed afterwards. The RFC 5782 test points are always present: 127.0.0.2 and
 * ::ffff:7f00:2 listed (default class), 127.0.0.1 and ::ffff:7f00:1 never listed.
 * *out is owned by the caller until published; free an unpublished one with zone_snapshot_free. */
int zone_snapshot_build(struct zone_builder *b, struct zone_snapshot **out);
void zone_snapshot_free(struct zone_snapshot *s);

/* ---- incremental changes --------------------------------------------------- */
/* The writer changes a few entries at a time. A change set applied to a
 * snapshot gives a new snapshot that shares the big immutable arrays of the old one and
 * carries the changes in a small overlay; when the overlay grows past a bound, apply merges
 * it into new arrays (linear in the size of the zone, amortised over many changes). */

enum zone_change_op { ZONE_CHANGE_SET = 1, ZONE_CHANGE_DELETE = 2 };

struct zone_change {
	enum zone_change_op op;
	bool v6;
	uint32_t ip4;     /* v4: a single address (host order) */
	uint8_t ip6[16];  /* v6: a /128 or a prefix */
	uint8_t plen6;    /* v6 prefix length */
	struct {          /* SET: what the entry answers (interned into the new snapshot) */
		bool own;        /* false: the snapshot's default class, the rest ignored */
		uint32_t a;
		uint32_t ttl;
		const char *txt; /* NULL: no TXT record */
	} cls;
};

/* New snapshot = base + changes; base is not modified and stays valid. serial is the new
 * SOA serial. *out as for zone_snapshot_build. */
int zone_snapshot_apply(const struct zone_snapshot *base, const struct zone_change *changes,
			size_t n, uint32_t serial, struct zone_snapshot **out);

/* ---- reading a snapshot (lock-free, any thread) ---------------------------- */

/* The class answering for ip, or NULL when it is not listed. The pointer lives as long as
 * the snapshot. Lookup allocates nothing. */
const struct zone_class *zone_lookup4(const struct zone_snapshot *s, uint32_t ip);
const struct zone_class *zone_lookup6(const struct zone_snapshot *s, const uint8_t ip[16]);
/* True when at least one listed address lies in [first, last] (used to tell an empty
 * non-terminal like 3.2.1.ZONE from a name that does not exist). */
bool zone_any4(const struct zone_snapshot *s, uint32_t first, uint32_t last);
/* True when at least one listed address lies inside prefix/plen (plen 0..128). */
bool zone_any6(const struct zone_snapshot *s, const uint8_t prefix[16], unsigned plen);

const struct zone_soa *zone_snapshot_soa(const struct zone_snapshot *s);
const struct zone_ns *zone_snapshot_ns(const struct zone_snapshot *s);
/* The addresses of in-zone name servers the snapshot answers for (zone_defaults.glue). */
const struct zone_glue *zone_snapshot_glue(const struct zone_snapshot *s);
/* A number unique to this snapshot in this process (never reused), so readers can cache
 * data derived from a snapshot (encoded SOA, ...) and notice when it changed. */
uint64_t zone_snapshot_id(const struct zone_snapshot *s);
/* Listed + excluded entries it holds (IPv4 ranges and IPv6 prefixes, test points excluded). */
size_t zone_snapshot_count(const struct zone_snapshot *s);
/* Bytes of memory the snapshot owns. */
size_t zone_snapshot_bytes(const struct zone_snapshot *s);

/* ---- rbldnsd data files ---------------------------------------------------- */
/* The subset of rbldnsd's ip4set / ip4trie / ip6trie format that lists use: comments (# ;),
 * $SOA, $NS, $TTL, ":A:TXT" default lines, entries "a.b.c.d", "a.b.c.d/len", "a.b.c.d-e",
 * "a.b.c.d-a.b.c.d", abbreviated "a.b.c" (a /24) forms, IPv6 addresses and prefixes, a
 * per-entry ":A:TXT" or "TXT" value after the address, "!" exclusions, and the combined
 * form's "$DATASET ip4set|ip4trie|ip6trie[:name] @" sections. */

struct zone_load_report {
	size_t lines;    /* lines read */
	size_t entries;  /* entries added */
	size_t errors;   /* lines that did not parse (each logged as file:line: problem) */
};

/* Reads path into b. Bad lines are logged with file and line number, counted in
 * report->errors and skipped; the call then returns ZONE_EPARSE after reading the whole file
 * (the caller decides whether a file with errors is served). ZONE_EIO if it cannot be read. */
int zone_load_rbldnsd(struct zone_builder *b, const char *path, struct zone_load_report *report);
/* The same on a buffer (name is used in messages): what the fuzz target drives. */
int zone_load_rbldnsd_buf(struct zone_builder *b, const char *name, const char *data, size_t len,
			  struct zone_load_report *report);

/* ---- serving a data file ------------------------------------------------------ */

struct zone_static;
struct zone_handle;

/* A data file served as the zone on zone (path "" : the defaults and test points only).
 * defaults are copied. ZONE_ENOMEM. */
int zone_static_new(struct zone_handle *zone, const struct zone_defaults *defaults,
		    const char *path, struct zone_static **out);
void zone_static_free(struct zone_static *zs);
/* Builds a snapshot from the defaults and the file and publishes it; why names the occasion in
 * the log ("start", "sighup"). A load that fails keeps the snapshot being served and is
 * logged: ZONE_EIO (unreadable), ZONE_EPARSE (bad lines; published unless nothing valid is left
 * while an earlier load serves), ZONE_ENOMEM. ZONE_OK when published without bad lines. */
int zone_static_load(struct zone_static *zs, const char *why);
/* A configuration reload: defaults (copied; its names must outlive zs) replace zs's, for the
 * next zone_static_load. ZONE_ENOMEM keeps the old ones. */
int zone_static_defaults_set(struct zone_static *zs, const struct zone_defaults *defaults);
/* Called every reload_check_ms: reloads a changed file once it has stopped changing for one
 * check, so a file being written in place is not loaded half-way. */
void zone_static_check(struct zone_static *zs);

/* ---- exports ---------------------------------------------------------------- */
/* The live zone as files that other servers load: rbldnsd mirrors and BIND/NSD/Knot. Both are
 * written from what the snapshot answers (base + overlay, test points included), as listed
 * space only: no exclusion lines, every entry disjoint from the others. */

enum zone_export_format { ZONE_EXPORT_RBLDNSD = 1, ZONE_EXPORT_BIND = 2 };

/* Names a BIND export may spend on expanding ranges (wildcards, and the addresses around an
 * exception inside a /24); past it the rest of the expansions are left out, with a warning in
 * the log and a comment at the end of the file. Listed single addresses are never left out. */
#define ZONE_EXPORT_BIND_EXPAND_MAX 1000000u

/* rbldnsd "combined" data ($SOA, $NS, then one "$DATASET ip4set:ttlN @" and one
 * "$DATASET ip6trie:ttlN @" section per TTL, with a ":A:TXT" line before each class's entries,
 * ranges as minimal CIDR covers). rbldnsd serves it as ZONE:combined:FILE and answers as the
 * snapshot does; zone_load_rbldnsd reads it back to the same answers. Control characters in a
 * TXT template become spaces. zone is used in the header comment. ZONE_EIO on a write error,
 * ZONE_ENOMEM. */
int zone_export_rbldnsd(const struct zone_snapshot *s, const char *zone, FILE *f);
/* An RFC 1035 master file for zone: SOA, NS (the SOA primary when there are none), A and TXT
 * per listed address (IPv4 "d.c.b.a", IPv6 32 nibbles), ranges as wildcards where a wildcard
 * answers exactly, split into the children otherwise. A wildcard's TXT has the block in CIDR
 * form where the template has '$'. Known differences from the server: a wildcard also answers
 * names with more labels, and IPv4 wildcards and IPv6 names can meet where octets are single
 * digits (both are rare in lists). NS names inside the zone get their A/AAAA records from the
 * snapshot's glue; when one has none the file would not load (named-checkzone: "NS has no
 * address records"), so nothing is written and the call returns ZONE_EUNLOADABLE (logged
 * once per process; zone_export_bind_problem says why). */
int zone_export_bind(const struct zone_snapshot *s, const char *zone, FILE *f);
/* True, with the reason in why, when a BIND export of s would not load: an NS name inside the
 * zone without an address. */
bool zone_export_bind_problem(const struct zone_snapshot *s, const char *zone, char *why,
			      size_t cap);
/* Writes the export to path atomically: path.tmp, fflush + fsync, rename over path, fsync of
 * the directory. On any error the temp file is removed and an existing path is left as it was:
 * ZONE_EIO (errno says why), ZONE_ENOMEM, ZONE_EINVAL for an unknown format. */
int zone_export_file(const struct zone_snapshot *s, const char *zone, int format,
		     const char *path);

/* ---- the zone as records (zone transfers) ---------------------------------- */
/* What AXFR sends: the apex SOA, the NS set (the SOA primary when there is none), the glue of
 * in-zone name servers, then every listed name as its A and TXT records (IPv4 "d.c.b.a", IPv6
 * 32 nibbles; the RFC 5782 test points among them), and the SOA again. Ranges become
 * wildcards where a wildcard answers exactly (a run covering a whole /8, /16 or /24, or a
 * nibble-aligned IPv6 block) and single names elsewhere, as the BIND export does; a
 * wildcard's TXT has the block in CIDR form where the template has '$'. The iterator walks
 * the snapshot's arrays with a few cursors: it builds neither the zone as text nor a copy of
 * its IPv4 part (the IPv6 part is merged once when the snapshot has a v6 overlay). */

/* Names that the expansion of ranges may take in one walk (the same limit as the BIND
 * export's). Listed single addresses are never counted nor left out. */
#define ZONE_RR_EXPAND_MAX ZONE_EXPORT_BIND_EXPAND_MAX

/* One record. The owner is the labels below the apex in wire form without the zone's own
 * labels (owner_len 0: the apex): the caller appends the zone (a compression pointer). Names
 * inside rdata (NS, SOA) are whole wire names, uncompressed. Valid until the next call. */
struct zone_rr {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type; /* 1 A, 2 NS, 6 SOA, 16 TXT, 28 AAAA */
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
};

struct zone_iter;

/* An iterator over s (which must outlive it) for zone (presentation form). Ranges may expand
 * into at most expand_max names (ZONE_RR_EXPAND_MAX); past it the rest of the expansions are
 * left out (zone_iter_skipped counts them). ZONE_EINVAL for a bad zone name, ZONE_ENOMEM. */
int zone_iter_new(const struct zone_snapshot *s, const char *zone, size_t expand_max,
		  struct zone_iter **out);
/* The next record into *rr: 1; 0 after the closing SOA; ZONE_ENOMEM or ZONE_ETOOMANY (a TXT
 * past 65,535 bytes) on failure. */
int zone_iter_next(struct zone_iter *it, struct zone_rr *rr);
/* Names of expansions left out so far. */
size_t zone_iter_skipped(const struct zone_iter *it);
void zone_iter_free(struct zone_iter *it);
/* A private copy of s that shares its arrays (cheap: the overlay and the classes are copied):
 * what a long reader such as a transfer holds instead of staying inside zone_read_lock, which
 * would hold up every publication. Free it with zone_snapshot_free. ZONE_ENOMEM. */
int zone_snapshot_pin(const struct zone_snapshot *s, struct zone_snapshot **out);

/* ---- the IXFR journal ------------------------------------------------------- */
/* What each publication changed, as records deleted and added between two serials (RFC
 * 1995), kept in memory for IXFR and in the store across restarts (the writer writes each
 * entry's encoded form). Bounded by a count of changed addresses (ixfr_journal_max) and an age
 * (ixfr_journal_age). The writer adds; the DNS TCP thread reads under the journal's own lock
 * and keeps references to the entries it sends, so neither waits for the other. */

struct zone_journal;
struct zone_jentry;

/* A journal keeping at most max_changes changed addresses (0: none kept) and entries younger
 * than max_age seconds (0: any age). NULL out of memory. */
struct zone_journal *zone_journal_new(size_t max_changes, uint32_t max_age);
void zone_journal_free(struct zone_journal *j);
/* The entry from old's serial to new's: each of ips whose answer differs between them, with
 * both answers. ZONE_ENOMEM. */
int zone_journal_diff(const struct zone_snapshot *old, const struct zone_snapshot *new,
		      const uint8_t (*ips)[16], size_t n, int64_t at, struct zone_jentry **out);
/* An entry that changes nothing but the serial (a restart that goes on from the last one). */
int zone_jentry_empty(uint32_t from, uint32_t to, int64_t at, struct zone_jentry **out);
/* The entry's stored form (*buf malloc'd: the caller frees), and back. Decoding refuses a
 * damaged form whole (ZONE_EPARSE), never reading past len. */
int zone_jentry_encode(const struct zone_jentry *e, uint8_t **buf, size_t *len);
int zone_jentry_decode(uint32_t from, uint32_t to, int64_t at, const uint8_t *buf, size_t len,
		       struct zone_jentry **out);
uint32_t zone_jentry_from(const struct zone_jentry *e);
uint32_t zone_jentry_to(const struct zone_jentry *e);
size_t zone_jentry_changes(const struct zone_jentry *e);
/* The store's row of the entry, so that trimming the journal can trim the store too. */
void zone_jentry_set_store_id(struct zone_jentry *e, int64_t id);
/* Frees an entry not added to a journal. */
void zone_jentry_free(struct zone_jentry *e);
/* Appends e (the journal takes it; j NULL or keeping nothing: freed) and drops the oldest
 * entries past the bounds at time now. Returns the store id of the oldest entry kept (0:
 * none): rows older than it can go. */
int64_t zone_journal_add(struct zone_journal *j, struct zone_jentry *e, int64_t now);
/* Entries held, and the serial the newest leads to (*last_to, untouched when none). */
size_t zone_journal_entries(struct zone_journal *j, uint32_t *last_to);

struct zone_ixfr;
/* The IXFR answer (RFC 1995 4) from serial from to s's serial: the new SOA, then for each
 * entry of the way the old SOA, the records deleted, the next SOA and the records added, and
 * the new SOA again. ZONE_ENOTFOUND when the journal does not hold an unbroken way from from
 * to s's serial (the caller sends the whole zone), ZONE_ENOMEM. */
int zone_ixfr_new(struct zone_journal *j, const struct zone_snapshot *s, const char *zone,
		  uint32_t from, struct zone_ixfr **out);
/* As zone_iter_next. */
int zone_ixfr_next(struct zone_ixfr *x, struct zone_rr *rr);
/* Changed addresses in the answer. */
size_t zone_ixfr_changes(const struct zone_ixfr *x);
void zone_ixfr_free(struct zone_ixfr *x);
/* The journal readers find through the handle (the handle owns it: zone_handle_free frees
 * it). Set once, before readers start. */
void zone_handle_set_journal(struct zone_handle *h, struct zone_journal *j);
struct zone_journal *zone_handle_journal(struct zone_handle *h);

/* ---- publication (RCU) ----------------------------------------------------- */
/* One published "current" snapshot. Reader threads register once, then bracket each use
 * (a batch of queries) with zone_read_lock/unlock; the pointer from zone_current is valid
 * until zone_read_unlock. zone_publish swaps in a new snapshot with one pointer store and
 * frees the old one after every reader has left it. */

struct zone_handle;

struct zone_handle *zone_handle_new(void);
/* Frees the handle and the current snapshot; no reader may be running. */
void zone_handle_free(struct zone_handle *h);
void zone_reader_register(void);
void zone_reader_unregister(void);
void zone_read_lock(void);
void zone_read_unlock(void);
/* The current snapshot (NULL before the first publish). Only between lock and unlock. */
const struct zone_snapshot *zone_current(struct zone_handle *h);
/* Publishes s (the handle takes ownership). The old snapshot is freed after every reader has
 * left it: at once when s no longer shares its arrays, else together with up to 7 others that
 * followed it, so that one grace period serves them all. */
void zone_publish(struct zone_handle *h, struct zone_snapshot *s);

struct zone_publish_stats {
	uint64_t publications;  /* that replaced a snapshot */
	uint64_t grace_periods; /* waited for (each frees every retired snapshot) */
	size_t retired;         /* old snapshots waiting for the next grace period */
};
/* Only from the publishing thread. */
void zone_publish_stats(const struct zone_handle *h, struct zone_publish_stats *st);

#endif
