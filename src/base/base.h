/* base.h - what every module shares: errors, logging, IP addresses and prefixes, socket
 * addresses, time, growable arrays and the configuration schema. Uses nothing of ours. */
#ifndef TRAPLINE_BASE_H
#define TRAPLINE_BASE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- errors: one space for every module ------------------------------------ */
/* Every function of ours that can fail returns 0 or one of these (STYLE.md 7). Modules name
 * the ones they return with their own prefix (STORE_ENOTFOUND is TL_ENOTFOUND), so a code
 * passes from one module to the next unchanged and tl_strerror names any of them. */

enum tl_err {
	TL_OK = 0,
	TL_EINVAL = -1,      /* bad input or argument: the message says what */
	TL_ENOMEM = -2,      /* allocation failed */
	TL_EIO = -3,         /* a system call failed; errno says why */
	TL_ERANGE = -4,      /* a number or prefix out of range */
	TL_EPARSE = -5,      /* a data file has lines that do not parse (each one logged) */
	TL_ETOOMANY = -6,    /* more than a table holds */
	TL_EDB = -7,         /* the database failed (SQLite's message is logged) */
	TL_ENEWER = -8,      /* the database was written by a newer Trapline */
	TL_ENOTFOUND = -9,   /* no such row */
	TL_EBUSY = -10,      /* another process holds the database for writing */
	TL_ESTOPPED = -11,   /* the writer is stopping */
	TL_EEXPORT = -12,    /* an export could not be written (the log says which and why) */
	TL_ENOSERVICE = -13, /* no service answers on the control socket */
	TL_EPROTO = -14,     /* the other side does not speak the protocol */
	TL_EUNLOADABLE = -15, /* an export that the server meant to load it would refuse */
	TL_EEXIST = -16,     /* already there: a name taken, the same report again */
	TL_ELIMIT = -17,     /* a limit is reached (reports per hour): try again later */
	TL_ESPECIAL = -18,   /* a special-purpose address (RFC 6890) where a public one must be */
};

/* Name of any error code of ours, for messages ("out of memory"). */
const char *tl_strerror(int err);

/* Kept for the base functions' own documentation below. */
#define BASE_OK TL_OK
#define BASE_EINVAL TL_EINVAL
#define BASE_ENOMEM TL_ENOMEM
#define BASE_EIO TL_EIO
#define BASE_ERANGE TL_ERANGE

/* ---- logging --------------------------------------------------------------- */
/* One line per event on stderr: "ts=2026-11-23T16:00:00.123Z level=info module=dns <message>".
 * Messages are written as "event key=value key=value" so the line stays machine-readable.
 * (The levels are not LOG_LEVEL_DEBUG...: those are <syslog.h>'s names.) */

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_WARN = 2,
	LOG_LEVEL_ERROR = 3,
};

void log_set_level(enum log_level level);
/* How a line is written: ts=... level=... module=... and the message (text), or one JSON object
 * with time, level, module, message and the message's key=value fields as members (json). */
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };
void log_set_format(enum log_format f);
int log_format_parse(const char *s, enum log_format *out);
/* One line of the json format from its parts (for the logger and its tests): msg is the
 * formatted message, whose key=value and key="quoted value" fields become members and whose
 * text before the first field is "message". Returns the length written to out (at most cap - 1,
 * a '\n' ended object, or an object cut at a field boundary). */
size_t log_json_line(char *out, size_t cap, const char *ts, const char *level,
		     const char *module, const char *msg);
/* Parses "debug", "info", "warn", "error"; returns BASE_EINVAL for anything else. */
int log_level_parse(const char *s, enum log_level *out);
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *module, const char *fmt, va_list ap);

#define log_debug(mod, ...) log_msg(LOG_LEVEL_DEBUG, (mod), __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_LEVEL_INFO, (mod), __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_LEVEL_WARN, (mod), __VA_ARGS__)
#define log_err(mod, ...) log_msg(LOG_LEVEL_ERROR, (mod), __VA_ARGS__)

/* ---- what a piece of evidence is ---------------------------------------------- */

/* The class of a message that became evidence, as the trap's classifier and an operator's
 * `evidence add --class` name it. What a listing means depends on it (mostly bounces: a
 * backscatter source), so the store, the policy, the trap and the pages share it. */
enum evidence_class {
	EVIDENCE_SPAM = 0,
	EVIDENCE_BOUNCE = 1,    /* a bounce or delivery status notification: backscatter */
	EVIDENCE_AUTOREPLY = 2, /* vacation messages, auto-responders, challenge-response */
	EVIDENCE_VIRUS = 3,     /* a virus scanner's notice */
	EVIDENCE_UNKNOWN = 4,
	EVIDENCE_CLASSES = 5
};
/* "spam", "bounce", "autoreply", "virus", "unknown" ("?" out of range) and back (BASE_EINVAL). */
const char *evidence_class_name(enum evidence_class c);
int evidence_class_parse(const char *s, enum evidence_class *out);

/* ---- text from outside ------------------------------------------------------ */

/* s as one line that cannot pass for another: backslash, double quote, newline, carriage
 * return and tab become \\ \" \n \r \t, other control characters \xNN; bytes from 0x80 up
 * (UTF-8) are kept. Every free text an operator or a sender gave (--why, a HELO name) goes
 * through it before it is printed in text output or a log line (STYLE.md 13). Writes at most
 * cap bytes with the NUL, cut at a whole escape; returns buf. TEXT_ESCAPED_MAX(n): room for
 * the escaped form of n bytes. */
#define TEXT_ESCAPED_MAX(n) (4 * (n) + 1)
const char *text_escape(const char *s, char *buf, size_t cap);
/* The length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF; an ASCII byte is 1), 0 when it is not one. */
size_t text_utf8_len(const unsigned char *s, size_t n);
/* The value of a hexadecimal digit (either case), -1 for any other character. */
int text_hex_digit(char c);

/* ---- IP addresses and prefixes --------------------------------------------- */
/* The wire and file readers work on IPv4 as uint32_t in host byte order (1.2.3.4 ==
 * 0x01020304) and IPv6 as 16 bytes in network order. Everywhere else an address is 16 bytes
 * with IPv4 as the IPv4-mapped ::ffff:a.b.c.d, so that one ordering and one prefix type
 * cover both families. */

#define IP4_STRLEN 16 /* "255.255.255.255" + NUL */
#define IP6_STRLEN 46 /* INET6_ADDRSTRLEN */
#define IP_STRLEN IP6_STRLEN
#define IP_PREFIX_STRLEN (IP6_STRLEN + 4) /* "/128" */

/* Parses a dotted quad of exactly four decimal octets (no sign, at most three digits per
 * octet, no leading zero: "010.0.0.1" is refused, as inet_pton does) from s[0..len).
 * Returns 0 or BASE_EINVAL. */
int ip4_parse(const char *s, size_t len, uint32_t *out);
/* Parses an IPv6 address in any RFC 4291 text form from s[0..len). 0 or BASE_EINVAL. */
int ip6_parse(const char *s, size_t len, uint8_t out[16]);
/* Formats into buf (IP4_STRLEN / IP6_STRLEN bytes); returns the length written. IPv6 in the
 * RFC 5952 form (lowercase, longest zero run as "::", ::ffff:a.b.c.d for mapped). Neither
 * allocates nor touches locale state: the DNS workers call them per answer. */
size_t ip4_format(uint32_t ip, char *buf);
size_t ip6_format(const uint8_t ip[16], char *buf);

/* An IPv4-mapped address (::ffff:a.b.c.d)? */
bool ip_is_v4(const uint8_t ip[16]);
/* The IPv4 address of a mapped one, host order. */
uint32_t ip_v4(const uint8_t ip[16]);
/* v4 (host order) as ::ffff:a.b.c.d. */
void ip_from_v4(uint32_t v4, uint8_t out[16]);
/* One address, IPv4 or IPv6 (not a prefix), from s[0..len) into the 16-byte form. An IPv6
 * text of a mapped address is the same address as its IPv4 text. 0 or BASE_EINVAL. */
int ip_parse(const char *s, size_t len, uint8_t out[16]);
/* An address in the 16-byte form as text: a mapped address as its dotted quad, anything else
 * as ip6_format. buf holds IP_STRLEN bytes; returns the length. */
size_t ip_format(const uint8_t ip[16], char *buf);

/* Whom a limit per client counts against (DNS over TCP, the SMTP trap, the web's login lockout
 * and review form): an IPv4 address whole, an IPv6 address by its /64. A /64 is the smallest
 * IPv6 subnet (64-bit interface IDs, RFC 4291); one host usually holds a whole one (SLAAC,
 * privacy addresses) and can send from any address in it, so counting per address would not
 * limit that host at all, while a shorter prefix would lump whole sites together. out may be
 * ip. */
void ip_client_key(const uint8_t ip[16], uint8_t out[16]);
/* A key of ip_client_key as text: "192.0.2.1" or "2001:db8:1:2::/64", into buf of
 * IP_PREFIX_STRLEN bytes; returns the length. */
size_t ip_client_format(const uint8_t key[16], char *buf);

/* NULL for an address that can send mail, or why it never can ("is the broadcast address"):
 * unspecified, this-network, broadcast, multicast, reserved (the rows of the special-purpose
 * table below marked never_sends). The other special-purpose ranges (loopback, private
 * space, documentation...) are not refused here: whether evidence may name them is the
 * configuration's choice (exclude_default, ip_special_find). */
const char *ip_never_sends(const uint8_t ip[16]);

/* A prefix in the 16-byte form: IPv4 a.b.c.d/n is ::ffff:a.b.c.d/(96 + n). */
struct ip_prefix {
	uint8_t addr[16]; /* bits past plen are zero */
	uint8_t plen;     /* 0..128 */
};

/* ---- special-purpose addresses ---------------------------------------------------- */
/* One range of the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and the
 * RFCs that updated them since, up to RFC 9780), plus multicast: addresses from which no mail
 * comes from the public Internet, so that evidence naming one is a mistake, a test or a
 * forgery, and a listing of one would only answer for somebody's private network. The one
 * table (base_ip_special.c) serves exclude_default's default, the intake of evidence (trap
 * hits, reports, feeds, `evidence add`) and the Received walk. IPv4 rows are in the mapped
 * form (::ffff:0:0/96 is how this program writes IPv4, so a mapped address is judged by its
 * IPv4 address); a sub-block comes before the block that holds it, so that it names itself. */
struct ip_special {
	struct ip_prefix prefix;
	const char *name;  /* the registry's name: "Private-Use", "Documentation (TEST-NET-1)" */
	const char *rfc;   /* the RFC that made it: "RFC 1918" */
	const char *never_sends; /* unspecified, this network, broadcast, multicast, reserved:
				    why no host has such a source address, whatever the
				    configuration ("is the broadcast address"); NULL for the
				    others */
	uint8_t v4_at;     /* 6to4 and NAT64 (64:ff9b::/96): the byte of the address where an
			      IPv4 address is embedded, which judges the address; 0: none */
};

/* The table and its number of rows (ip_special_find's order). */
const struct ip_special *ip_special_table(size_t *n);
/* The special-purpose range ip lies in, or NULL when the registries leave it public. An
 * address that embeds an IPv4 address (6to4 2002::/16, NAT64 64:ff9b::/96) is judged by that
 * address: the result is then the IPv4 range (a 6to4 address of 192.168.1.1 is private space,
 * one of a public address is public), and *outer, when not NULL, is the embedding range
 * (NULL otherwise). */
const struct ip_special *ip_special_find(const uint8_t ip[16], const struct ip_special **outer);
/* Why ip is special-purpose, in words, into buf (cap bytes): "10.0.0.1 is in 10.0.0.0/8,
 * Private-Use (RFC 1918)", or for an embedded address "2002:a00:1:: is the 6to4 form
 * (2002::/16, RFC 3056) of 10.0.0.1, in 10.0.0.0/8, Private-Use (RFC 1918)". Returns false
 * (buf "") when it is not special. */
bool ip_special_describe(const uint8_t ip[16], char *buf, size_t cap);

/* Parses "ADDR/LEN" or a bare ADDR (one host: /32 or /128) from s[0..len). BASE_EINVAL when it
 * does not parse, BASE_ERANGE when bits below the prefix length are set (10.0.0.1/8): a typo
 * the operator should see, not silently widen. */
int ip_prefix_parse(const char *s, size_t len, struct ip_prefix *out);
/* "192.0.2.0/24" or "2001:db8::/32" (IPv4 lengths counted in IPv4 bits) into buf of cap
 * bytes (IP_PREFIX_STRLEN is always enough); returns the length. */
size_t ip_prefix_format(const struct ip_prefix *p, char *buf, size_t cap);
/* Whether ip (16-byte form) lies inside p. */
bool ip_prefix_covers(const struct ip_prefix *p, const uint8_t ip[16]);
/* An IPv4 range as rbldnsd's data files write it, from s[0..len): "a.b.c.d-e.f.g.h" (both ends
 * whole addresses) or "a.b.c.d-e" (the last octet runs from d to e). *first and *last in host
 * order, first <= last. BASE_EINVAL when it is neither form, BASE_ERANGE when it runs
 * backwards. */
int ip4_range_parse(const char *s, size_t len, uint32_t *first, uint32_t *last);
/* The fewest prefixes that cover exactly first..last (host order; at most 62) into out[0..max):
 * their number, or 0 when max is too small. */
size_t ip4_range_prefixes(uint32_t first, uint32_t last, struct ip_prefix *out, size_t max);
/* Orders by address, then by length (shorter first); 0 when equal. */
int ip_prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b);
/* True when the bits of p->addr past p->plen are all zero and plen <= 128. */
bool ip_prefix_valid(const struct ip_prefix *p);

/* ---- socket addresses ------------------------------------------------------ */

/* Parses "127.0.0.1:5353", "[::1]:5353" (a port is required) into ss/len.
 * Returns 0 or BASE_EINVAL. */
int sockaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);
/* The address of sa in the 16-byte form (IPv4 mapped); all zero for another family. */
void sockaddr_ip(const struct sockaddr *sa, uint8_t out[16]);
/* Formats an address as "127.0.0.1:5353" or "[::1]:5353" into buf of size cap. */
void sockaddr_format(const struct sockaddr *sa, char *buf, size_t cap);
/* What to add to the log line of a bind(2) that failed with err: for EACCES, a key=value pair
 * that says why (ports below 1024 need root or CAP_NET_BIND_SERVICE); "" otherwise. Static. */
const char *sockaddr_bind_hint(int err);

/* ---- time ------------------------------------------------------------------ */

#define TIME_STRLEN 32 /* "2026-11-21T10:00:00Z" with room to spare */

/* Monotonic clock in nanoseconds. */
uint64_t time_mono_ns(void);
/* Wall clock, seconds since the epoch. */
int64_t time_wall_s(void);
/* The clock every decision uses (evidence times, expiry, --until checks): the wall clock, or,
 * for tests only, the number of seconds in the file named by the environment variable
 * TRAPLINE_TEST_CLOCK (re-read at each call), so that tests can move time forward a day
 * without sleeping. */
int64_t time_now(void);
/* True when TRAPLINE_TEST_CLOCK is set (time_now jumps when a test rewrites the file). */
bool time_now_is_test_clock(void);
/* ISO 8601 in UTC: "2026-11-21T10:00:00Z", or with a zone "+HH:MM"/"-HH:MM", or a bare date
 * "2026-11-21" (midnight UTC). A time without a zone is refused: whose clock would it be?
 * Dates that do not exist (2026-02-31) are refused. 0 or BASE_EINVAL; BASE_ERANGE for a
 * well-formed time before 1970. */
int time_parse_iso8601(const char *s, int64_t *out);
/* t as "2026-11-21T10:00:00Z" into buf (TIME_STRLEN bytes); returns the length. Uses no time
 * zone or locale state. */
size_t time_format_iso8601(int64_t t, char *buf);

/* ---- test hooks ----------------------------------------------------------------- */

/* For tests only, like the test clock: when the environment variable TRAPLINE_TEST_HOOKS names
 * a file, test_hook(name) is true while that file holds the word name (re-read at each call),
 * so that a test can make a commit fail or hold the writer at a chosen point of a running
 * service. Without the variable it is false and costs one getenv. */
bool test_hook(const char *name);
/* Tells the test that the process reached the hook's point: creates FILE.NAME beside the
 * hooks file (nothing without the variable). */
void test_hook_reached(const char *name);

/* ---- growable arrays ------------------------------------------------------- */

/* Makes room in *arr (elements of elem bytes, capacity *cap elements) for need elements,
 * doubling from 64. 0, or BASE_ENOMEM with *arr and *cap unchanged. */
int array_grow(void **arr, size_t *cap, size_t need, size_t elem);
/* A thread count from the config: n, or one per online core when n is 0 (the default of
 * dns and http threads). */
unsigned threads_or_cores(unsigned n);

/* ---- metrics (base_metrics.c): figures gathered from every module, rendered as the
 * Prometheus text exposition format (version 0.0.4) for GET /metrics and read back by name for
 * `trapline status` ------------------------------------------------------------------------ */

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* One scrape's figures: families (name, type, help) each with its samples. Built by the
 * sources of a registry on one thread, then rendered or read; nothing is shared. */
struct metrics;
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
/* Starts a family: name in base units with the trapline_ prefix (a counter's ends in _total),
 * help one line of plain text. The samples added next belong to it. A family started twice
 * (two sources) keeps its first help and gathers the samples of both. */
void metrics_family(struct metrics *m, const char *name, enum metric_type type,
		    const char *help);
/* A sample of the current family. labels: NULL, or printf-formatted `key="value",...` whose
 * values are ours (fixed words, numbers, addresses): not escaped again. */
void metrics_value(struct metrics *m, double v, const char *labels_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A histogram sample of the current family: n buckets with upper bounds le[] (ascending) and
 * counts[] of observations in each (not cumulative: the renderer sums them), the count above
 * the last bound, and the sum of the observations. */
void metrics_histogram(struct metrics *m, const double *le, const uint64_t *counts, size_t n,
		       uint64_t above, double sum);
/* The exposition text of every family into *out (malloc'd, NUL-terminated, *len bytes).
 * BASE_ENOMEM when out of memory, at any point of the gathering too. */
int metrics_render(const struct metrics *m, char **out, size_t *len);
/* A sample's value by its name and exact label text ("" or NULL: none); *found false and 0 if
 * absent. */
double metrics_get(const struct metrics *m, const char *name, const char *labels, bool *found);
/* The sum of every sample named name (all label sets), and whether any was. */
double metrics_sum(const struct metrics *m, const char *name, bool *found);
/* Calls fn for every sample named name with its label text, in the order added. */
void metrics_each(const struct metrics *m, const char *name,
		  void (*fn)(void *arg, const char *labels, double v), void *arg);

/* Who adds figures: each module has a function that adds its own families (dns_metrics,
 * writer_metrics, smtp_metrics, web_metrics...); the service lists them here once, before
 * any reader starts, and the readers (/metrics, `trapline status`) collect them all. */
typedef void (*metrics_collect_fn)(void *arg, struct metrics *m);
#define METRICS_SOURCES_MAX 16
struct metrics_registry {
	struct {
		const char *name;
		metrics_collect_fn fn;
		void *arg;
	} src[METRICS_SOURCES_MAX];
	size_t n;
	int64_t started;  /* wall clock at the service's start: trapline_start_time_seconds */
};
void metrics_registry_init(struct metrics_registry *r);
/* BASE_ERANGE when the table is full. */
int metrics_registry_add(struct metrics_registry *r, const char *name, metrics_collect_fn fn,
			 void *arg);
/* A new struct metrics with trapline_start_time_seconds, trapline_uptime_seconds and then
 * every source's families; NULL when out of memory. Free it with metrics_free. */
struct metrics *metrics_collect(const struct metrics_registry *r);

/* ---- configuration ------------------------------------------------------- */
/* Every key lives in one schema table (base_config.c): name, type, default, limits, help.
 * The file format is "key = value" lines; '#' starts a comment. The command line sets the
 * same keys after the file, so an option overrides the file. */

#define CONFIG_STR_MAX 1024
#define CONFIG_ERR_MAX 512

struct config {
	char data_dir[CONFIG_STR_MAX];   /* data directory (SQLite, exports) */
	char dns_listen[CONFIG_STR_MAX]; /* "ADDR:PORT[,ADDR:PORT...]" (UDP and TCP each) */
	char zone[256];                  /* zone origin, no trailing dot */
	unsigned threads;                /* UDP workers per address; 0 = one per core */
	char static_file[CONFIG_STR_MAX];/* rbldnsd-format data file, "" = none */
	char user[64];                   /* user to run as after binding, when started as root */
	unsigned allow_nobody;           /* 1: user may be nobody */
	char ctl_group[64];              /* group whose members may use the control socket */
	char log_level[16];
	uint32_t answer_a;               /* default A value, host order */
	uint32_t answer_a_traps, answer_a_reports, answer_a_both; /* A by reason of listing */
	char answer_txt[CONFIG_STR_MAX]; /* default TXT template, '$' = the queried IP */
	unsigned answer_ttl;
	char soa_mname[256];             /* "" = ns1.<zone> */
	char soa_rname[256];             /* "" = hostmaster.<zone> */
	unsigned soa_ttl, soa_refresh, soa_retry, soa_expire, soa_minimum;
	char ns[CONFIG_STR_MAX];         /* name servers, comma separated; "" = ns1.<zone> */
	unsigned ns_ttl;
	char ns_addr[CONFIG_STR_MAX];    /* NAME=ADDR pairs for in-zone name servers, "" = none */
	unsigned edns_udp_max;
	unsigned tcp_max_conns;
	unsigned tcp_max_per_client;     /* TCP connections of one IPv4 address or IPv6 /64; 0 = any */
	unsigned tcp_idle_ms;
	unsigned tcp_query_ms;           /* a query over TCP must arrive whole this soon after its first byte */
	unsigned udp_spin_us;
	unsigned reload_check_ms;        /* how often the static file's mtime is checked */
	/* the listing policy (struct policy_config) and the writer */
	double policy_report_fresh, policy_report_old, policy_trap_weight, policy_threshold;
	unsigned policy_report_decay, policy_window, policy_trap_square_from;
	unsigned policy_min_evidence, policy_listing, policy_two_reports, policy_min_reporters;
	unsigned export_interval;        /* seconds between exports of the zone files; 0 = on demand */
	char exclude_default[CONFIG_STR_MAX]; /* CIDRs never listed, comma separated, and the
					       * word special-purpose (CONFIG_SPECIAL_PURPOSE) */
	/* the spamtrap (src/smtp) */
	char smtp_listen[CONFIG_STR_MAX];     /* "ADDR:PORT[,...]", or "off" */
	char smtp_hostname[256];              /* name in the greeting; "" = the host's name */
	char trap_domains[CONFIG_STR_MAX];    /* every address at these domains is a trap */
	char trap_addresses[CONFIG_STR_MAX];  /* single trap addresses at other domains */
	unsigned smtp_max_size;               /* bytes of one message at most */
	unsigned smtp_max_rcpts;              /* recipients of one message at most */
	unsigned smtp_max_sessions;           /* sessions at once, all clients */
	unsigned smtp_max_per_ip;             /* sessions at once from one IPv4 address or IPv6 /64 */
	unsigned smtp_command_timeout;        /* seconds a client may take for a whole command line */
	unsigned smtp_data_timeout;           /* seconds a client may go silent inside DATA */
	unsigned smtp_data_min_rate;          /* bytes/s a message must average after that; 0: none */
	unsigned smtp_memory_max;             /* bytes of message buffers of all sessions together */
	unsigned smtp_max_errors;             /* bad commands before the session is closed */
	char smtp_proxy_trusted[CONFIG_STR_MAX]; /* CIDRs whose PROXY header is believed */
	char smtp_tls_cert[CONFIG_STR_MAX];   /* PEM certificate (chain); "" = self-signed */
	char smtp_tls_key[CONFIG_STR_MAX];    /* PEM private key; "" = self-signed */
	char trap_sample[16];                 /* "headers", "message" or "none" */
	unsigned trap_sample_days;            /* how long samples are kept */
	/* user reports and evidence feeds (ctl's intake) */
	unsigned report_max_size;        /* bytes of one reported message at most */
	unsigned report_max_per_hour;    /* reports one reporter may send per clock hour; 0 = any */
	/* the web pages and the JSON API (src/web) */
	char http_listen[CONFIG_STR_MAX]; /* "ADDR:PORT[,...]", or "off" */
	char public_url[CONFIG_STR_MAX];  /* how people reach the pages; fills the default TXT */
	char web_templates[CONFIG_STR_MAX]; /* folder of templates overriding the built-in ones */
	unsigned http_threads, http_max_conns, http_max_conns_per_ip, http_request_max;
	unsigned http_timeout, http_nice;
	unsigned http_request_timeout;    /* seconds a whole request may take to arrive */
	/* review requests and moderation */
	unsigned review_per_client_day;  /* requests one client address may file in 24 hours */
	unsigned review_per_ip_day;      /* requests about one listed address in 24 hours */
	unsigned review_text_max;        /* bytes of the free-text fields of a request */
	unsigned review_form_max;        /* bytes of a form's body */
	unsigned moderator_session_hours; /* a moderator's login lasts this long */
	unsigned moderator_lockout_failures; /* failed logins before a name or client is locked */
	unsigned moderator_lockout_minutes;  /* how long the lock holds */
	bool answer_txt_set;             /* answer_txt was given: public_url no longer fills it */
	/* the report and evidence API */
	unsigned feed_max_hits;          /* trap hits one POST /api/v1/evidence may carry */
	/* seeing it: metrics, status, logs */
	char metrics_allow[CONFIG_STR_MAX]; /* CIDRs that may read GET /metrics */
	char log_format[16];             /* "text" or "json" */
	/* response rate limiting and usage limits (src/dns/dns_rrl.c, docs/rrl.md) */
	unsigned rrl_rate, rrl_slip, rrl_ipv4_prefix, rrl_ipv6_prefix;
	char rrl_exempt[CONFIG_STR_MAX];      /* CIDRs never rate-limited */
	unsigned usage_limit_per_day;         /* queries per client prefix a day; 0 = none */
	uint32_t answer_a_excess, answer_a_public_resolver; /* host order */
	char public_resolvers[CONFIG_STR_MAX]; /* file of CIDRs; "" = none */
	/* trap nodes: forwarding trap hits to a primary (src/smtp/smtp_spool.c, smtp_forward.c) */
	char forward_url[CONFIG_STR_MAX];   /* the primary's base URL; "" = not a node */
	char forward_key[128];              /* its feed key, tlf_... */
	unsigned forward_spool_max;         /* hits the spool holds at most (451 beyond) */
	unsigned forward_batch;             /* hits per request at most */
	unsigned forward_retry_max;         /* seconds between tries at most (backoff cap) */
	/* zone transfers (src/dns/dns_xfr.c, dns_tsig.c, dns_notify.c) */
	char transfer_allow[CONFIG_STR_MAX]; /* CIDRs that may AXFR/IXFR; "" = nobody */
	char transfer_key[CONFIG_STR_MAX];   /* hmac-sha256:NAME:BASE64SECRET; "" = none */
	char notify[CONFIG_STR_MAX];         /* secondaries to NOTIFY, "ADDR:PORT[,...]"; "" = none */
	unsigned ixfr_journal_max;           /* changed addresses the IXFR journal keeps */
	unsigned ixfr_journal_age;           /* seconds it keeps a serial's changes; 0 = any */
};

/* Fills every key with its default. */
void config_defaults(struct config *c);
/* Replaces key's default for this process (config_defaults, check-config, config-template):
 * the installed binary's data_dir. value must outlive every use and pass the key's check.
 * BASE_OK, or BASE_EINVAL for an unknown key or a bad value. Call before any other thread
 * reads the config. */
int config_default_set(const char *key, const char *value);
/* Sets one key from its text form. On error returns BASE_EINVAL and writes
 * "KEY: problem" into err. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errcap);
/* Reads a config file over c. On error returns BASE_EINVAL/BASE_EIO and writes
 * "FILE:LINE: KEY: problem" into err; c may be partly updated. */
int config_load_file(struct config *c, const char *path, char *err, size_t errcap);
/* Whether SIGHUP changes key in the running service (the schema's CONFIG_LIVE flag). */
bool config_key_live(const char *key);
/* The keys whose value differs between old and now, among the live ones (live) or the others:
 * their number, and their names comma separated in names (cut to cap). */
size_t config_changed(const struct config *old, const struct config *now, bool live, char *names,
		      size_t cap);
/* Copies into now the value in old of every key that is not live: what a reload keeps. */
void config_keep_restart_keys(struct config *now, const struct config *old);
/* Prints every key as "key = value" with its help and default (check-config). */
void config_print(FILE *f, const struct config *c);
/* Prints the commented default configuration (the source of etc/trapline.conf). */
void config_template(FILE *f);
/* One key of the schema as documentation shows it (trapline.conf(5)): strings owned by the
 * schema. */
struct config_key_doc {
	const char *name;
	const char *def;  /* the default of this binary (config_default_set applied) */
	const char *type; /* what a value is, in words: "number", "path", "ADDR:PORT list" */
	const char *help;
	bool ranged;      /* a number: min and max hold */
	unsigned min, max;
	bool live;        /* SIGHUP changes it in the running service (config_key_live) */
};
/* The i-th key in schema order into *out; false past the last one. */
bool config_key_doc(size_t i, struct config_key_doc *out);
/* True when a listen key (smtp_listen) says "off". */
bool config_listen_off(const char *list);
/* Parses a dns_listen list into at most max addresses. BASE_EINVAL names the bad item in err. */
int config_listen_parse(const char *list, struct sockaddr_storage *addrs, socklen_t *lens,
			unsigned max, unsigned *n, char *err, size_t errcap);
/* Parses a comma-separated list of prefixes (exclude_default, ...) into out[0..max) (out may be
 * NULL: check only); *n is their number. BASE_EINVAL names the bad item (or too many) in err. */
#define CONFIG_PREFIX_MAX 128
int config_cidrs_parse(const char *list, struct ip_prefix *out, unsigned max, unsigned *n,
		       char *err, size_t errcap);
/* exclude_default's word for every range of the special-purpose table (ip_special_find). */
#define CONFIG_SPECIAL_PURPOSE "special-purpose"
/* Parses an exclude_default list: prefixes as config_cidrs_parse does, and the word
 * special-purpose, which *special reports (it takes no room in out). BASE_EINVAL names the bad
 * item in err. */
int config_exclusions_parse(const char *list, struct ip_prefix *out, unsigned max, unsigned *n,
			    bool *special, char *err, size_t errcap);
/* One NAME=ADDRESS pair of the ns_addr key: the address of a name server inside the zone. */
#define CONFIG_NS_ADDR_MAX 32      /* pairs in all */
#define CONFIG_NS_ADDR_PER_NAME 4  /* addresses of one name, IPv4 and IPv6 together */
struct config_ns_addr {
	char name[256]; /* lowercase, no trailing dot */
	bool v6;
	uint32_t ip4;   /* host order, when !v6 */
	uint8_t ip6[16];
};
/* Parses an ns_addr list ("ns1.zone=192.0.2.53, ns1.zone=2001:db8::53") into out[0..max);
 * *n is the number of pairs. Syntax only; config_check relates the names to the zone.
 * BASE_EINVAL names the bad item in err. */
int config_ns_addr_parse(const char *list, struct config_ns_addr *out, unsigned max, unsigned *n,
			 char *err, size_t errcap);
/* Checks what no single key can: the relations between keys once all are set (the file and
 * the command line). Today: every ns_addr name is one of the zone's name servers (ns, or
 * soa_mname) and lies below the zone; smtp_tls_cert and smtp_tls_key come together. BASE_EINVAL with "KEY: problem" in err. */
int config_check(const struct config *c, char *err, size_t errcap);
/* A TSIG key in dig -y's form "hmac-sha256:NAME:BASE64SECRET" (transfer_key): the name (256
 * bytes, may be NULL) and the decoded secret (CONFIG_TSIG_SECRET_MAX bytes, may be NULL).
 * BASE_EINVAL says why in why. */
#define CONFIG_TSIG_SECRET_MAX 128
int config_tsig_key_parse(const char *v, char *name, uint8_t *secret, size_t *secret_len,
			  char *why, size_t cap);
/* Standard base64 (RFC 4648 4, padding optional) of s[0..len) into out[0..cap): *n bytes.
 * BASE_EINVAL for a character outside the alphabet or more than cap bytes. */
int config_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n);
/* True when s is a valid domain name in presentation form (labels 1..63 of
 * letters, digits, '-', '_'; 255 bytes at most; one trailing dot allowed). */
bool config_name_valid(const char *s);

#endif
