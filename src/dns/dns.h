/* dns.h - the DNS side: the query/answer core on byte buffers and the UDP/TCP server. */
#ifndef TRAPLINE_DNS_H
#define TRAPLINE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/base.h"

#include "zone/zone.h"

/* The codes of the one error space (base.h) that dns functions return. */
enum dns_err {
	DNS_OK = TL_OK,
	DNS_EINVAL = TL_EINVAL, /* bad configuration value */
	DNS_ENOMEM = TL_ENOMEM,
	DNS_EIO = TL_EIO,       /* socket/bind/thread failure; errno says why */
};


#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP 4
#define DNS_RCODE_REFUSED 5
#define DNS_RCODE_NOTAUTH 9  /* RFC 8945: a TSIG that does not verify */
#define DNS_RCODE_BADVERS 16 /* extended (EDNS) */

#define DNS_MAX_UDP 4096      /* the largest EDNS UDP size we ever answer with */
#define DNS_MAX_MSG 65535     /* TCP */

/* What the answering core needs to know; shared read-only by every worker. */
struct dns_config {
	char zone[256];         /* zone origin, presentation form, no trailing dot ("bl.example.org") */
	uint16_t edns_udp_max;  /* cap on the client's advertised EDNS UDP size (default 1232) */
	/* Usage limits: what a client over its limit, or a public resolver, is told about any
	 * address (A; TXT when the text is not empty), with this TTL. */
	uint32_t answer_a_excess, answer_a_public_resolver; /* host order */
	char txt_excess[512], txt_public_resolver[512];
	uint32_t code_ttl;
};

/* Per-worker answering state: the zone name in wire form and caches derived from the current
 * snapshot (the encoded SOA, NS and glue records). Init once per thread; after that it
 * allocates only when a new snapshot brings a bigger NS or glue set than any before. */
struct dns_ctx;

/* Allocates a context for cfg (copied). NULL on allocation failure or a zone name that is
 * not a valid domain name. */
struct dns_ctx *dns_ctx_new(const struct dns_config *cfg);
void dns_ctx_free(struct dns_ctx *ctx);
/* Sets the usage-limit answers of ctx (answer_a_excess, answer_a_public_resolver, their texts
 * and TTL) from cfg, copied: what a reload of the limits changes in each worker's context. */
void dns_ctx_codes_set(struct dns_ctx *ctx, const struct dns_config *cfg);

/* Answers one query. q/qlen: the received message; out/cap: where the answer goes (cap is
 * the most the transport can carry: DNS_MAX_UDP for UDP, DNS_MAX_MSG for TCP). tcp: the
 * query came over TCP (no truncation to the UDP size). An RRset that does not fit the
 * client's UDP size is never cut: the answer goes out with TC=1 and no records, and the
 * client asks again over TCP (RFC 2181 9); the NS RRset always fits TCP (ZONE_NS_WIRE_MAX).
 * snap may be NULL (nothing loaded yet: SERVFAIL). Returns the answer length, or 0 when
 * nothing must be sent (QR=1, no readable header). Allocates nothing per query, only the
 * ctx's caches on the first query of a snapshot with a bigger NS or glue set (out of memory:
 * SERVFAIL); never reads past qlen nor writes past cap. */
size_t dns_answer(struct dns_ctx *ctx, const struct zone_snapshot *snap, const uint8_t *q,
		  size_t qlen, uint8_t *out, size_t cap, bool tcp);

/* The answers counted by rcode and qtype (trapline_dns_queries_total): the rcodes of the
 * header (0 to 5, then any other) and the query types a blocklist is asked for (then any
 * other, or none: a FORMERR without a question). */
enum dns_stat_rcode { DNS_STAT_RCODES = 7 };   /* 0..5 as the header says, 6: other */
enum dns_stat_qtype {
	DNS_STAT_QT_OTHER = 0, DNS_STAT_QT_A, DNS_STAT_QT_NS, DNS_STAT_QT_SOA, DNS_STAT_QT_PTR,
	DNS_STAT_QT_MX, DNS_STAT_QT_TXT, DNS_STAT_QT_AAAA, DNS_STAT_QT_IXFR, DNS_STAT_QT_AXFR,
	DNS_STAT_QT_ANY, DNS_STAT_QTYPES
};
/* "NOERROR"... and "A"...; "other" past the end. */
const char *dns_stat_rcode_name(unsigned i);
const char *dns_stat_qtype_name(unsigned i);
/* ---- response rate limiting and usage limits (dns_rrl.c, docs/rrl.md) ---------- */

/* The kinds of answer a client's budget is counted per (docs/rrl.md says why these). A
 * blocklist's clients are resolvers asking about many different addresses, so the two
 * classes about addresses are counted per query name (one address asked again and again is
 * the anomaly), while the zone's own records and errors are counted per client prefix alone
 * (a resolver needs them once per TTL; they are the largest answers, or the ones a reflector
 * gets for any name). */
enum dns_rrl_class {
	DNS_RRL_LISTED = 0,   /* records about an address: A, TXT, or a usage-limit code */
	DNS_RRL_NEGATIVE = 1, /* NXDOMAIN or NODATA about a name below the apex */
	DNS_RRL_ZONE = 2,     /* the apex (SOA, NS, ANY) and the name servers' addresses */
	DNS_RRL_ERROR = 3,    /* FORMERR, REFUSED, NOTIMP, SERVFAIL, BADVERS */
};

/* How a client is answered about an address (usage limits). */
enum dns_client_mode {
	DNS_CLIENT_NORMAL = 0,
	DNS_CLIENT_EXCESS = 1,          /* over usage_limit_per_day: answer_a_excess */
	DNS_CLIENT_PUBLIC_RESOLVER = 2, /* in public_resolvers: answer_a_public_resolver */
};

/* What dns_answer_client says of the answer it wrote, for the rate limiter. */
struct dns_answer_info {
	enum dns_rrl_class cls;
	const uint8_t *qname;   /* the question's name in the query (wire form), NULL if none */
	size_t qname_len;
	size_t question_end;    /* offset in out where the question ends (12 when none) */
};

/* dns_answer for a client in mode (the usage-limit codes replace the answer about any
 * address; the zone's own records and errors are unchanged), filling *info (may be NULL).
 * info->qname points into q: valid while q is. */
size_t dns_answer_client(struct dns_ctx *ctx, const struct zone_snapshot *snap, const uint8_t *q,
			 size_t qlen, uint8_t *out, size_t cap, bool tcp, enum dns_client_mode mode,
			 struct dns_answer_info *info);

/* Turns an answer of len bytes into its truncated form (TC=1, the question alone, no OPT):
 * what a rate-limited client gets on a slip, so that a real resolver retries over TCP.
 * Returns the new length. */
size_t dns_answer_slip(uint8_t *out, const struct dns_answer_info *info);

#define DNS_RRL_EXEMPT_MAX 128

struct dns_rrl_config {
	unsigned rate;        /* answers per second per bucket; 0: no limiting */
	unsigned slip;        /* every slip-th limited answer goes out truncated; 0: none */
	unsigned v4_prefix;   /* client prefix lengths: the bucket's client */
	unsigned v6_prefix;
	unsigned n_exempt;
	struct ip_prefix exempt[DNS_RRL_EXEMPT_MAX]; /* never limited */
};

/* The shared table of buckets, one 64-bit word each (tag, second, count), updated with CAS:
 * no lock, and a collision costs at most a restarted count (it fails open). */
struct dns_rrl;

#define DNS_RRL_SLOTS_DEFAULT (1u << 17)

/* A table of slots buckets (a power of two) with a random hash seed. NULL when out of
 * memory. */
struct dns_rrl *dns_rrl_new(const struct dns_rrl_config *cfg, unsigned slots);
/* A limiter with cfg that counts in table's slots (same seed): what a reload makes, so that
 * changing the rate changes the comparison and keeps the counts. It must be freed before
 * table; NULL when out of memory. */
struct dns_rrl *dns_rrl_view(const struct dns_rrl *table, const struct dns_rrl_config *cfg);
/* Frees rrl (a view's slots stay with their table). */
void dns_rrl_free(struct dns_rrl *rrl);
/* True when client (16-byte form) is in rrl_exempt. */
bool dns_rrl_exempt(const struct dns_rrl *rrl, const uint8_t client[16]);
/* Counts one answer of class cls (about qname, lowercased for the hash; ignored for the
 * classes counted per prefix) to client at second now_s; false when its bucket already
 * holds rate answers of that second (the answer is limited; nothing is counted). */
bool dns_rrl_allow(struct dns_rrl *rrl, const uint8_t client[16], enum dns_rrl_class cls,
		   const uint8_t *qname, size_t qname_len, uint64_t now_s);

/* One bucket's arithmetic, for the tests: given the slot's word, the key's tag, the second
 * and the rate, sets *next to the word to store and returns whether the answer may go. A
 * word of another tag or another second starts a new count. */
bool dns_rrl_step(uint64_t word, uint32_t tag, uint64_t now_s, unsigned rate, uint64_t *next);

/* The client's prefix (v4_prefix or v6_prefix bits kept) in the 16-byte form. */
void dns_client_prefix(const uint8_t ip[16], unsigned v4_prefix, unsigned v6_prefix,
		       uint8_t out[16]);

/* Queries per client prefix in one day, counted approximately in bounded memory (a
 * count-min sketch, 1 MiB; never below the truth, docs/rrl.md states the error above it). */
struct dns_usage;
struct dns_usage *dns_usage_new(void);
void dns_usage_free(struct dns_usage *u);
/* Counts one query of prefix (dns_client_prefix) on day (days since the epoch, UTC); returns
 * the day's count of that prefix, this query included. A later day starts every count anew. */
uint32_t dns_usage_count(struct dns_usage *u, const uint8_t prefix[16], int64_t day);

/* A set of prefixes read from a file (public_resolvers): one address or ADDR/LEN a line,
 * '#' starts a comment. */
struct dns_prefix_set;
/* DNS_EIO (cannot read) or DNS_EINVAL (a bad line), with "FILE[:LINE]: problem" in err. */
int dns_prefix_set_load(const char *path, struct dns_prefix_set **out, char *err,
			size_t errcap);
void dns_prefix_set_free(struct dns_prefix_set *s);
size_t dns_prefix_set_count(const struct dns_prefix_set *s);
bool dns_prefix_set_has(const struct dns_prefix_set *s, const uint8_t ip[16]);

/* Counters a worker keeps (read without locks, approximately, for logs and metrics). */
struct dns_stats {
	uint64_t answered[DNS_STAT_RCODES][DNS_STAT_QTYPES]; /* answers by rcode and qtype */
	uint64_t queries, answers, dropped, formerr, nxdomain, refused, truncated;
	uint64_t tcp_conns;           /* TCP connections accepted (then kept or closed) */
	uint64_t tcp_rejected;        /* closed at once: the table full and none idle (or no memory) */
	uint64_t tcp_rejected_client; /* closed at once: the client held tcp_max_per_client */
	uint64_t tcp_evicted;         /* idle or mid-query connections closed to make room for a
				       * newcomer */
	uint64_t tcp_query_timeouts;  /* closed: a query not whole tcp_query_ms after its first byte */
	uint64_t rrl_dropped;         /* UDP answers rate-limited and not sent */
	uint64_t rrl_slipped;         /* UDP answers rate-limited and sent truncated (TC=1) */
	uint64_t usage_excess;        /* answered answer_a_excess: over usage_limit_per_day */
	uint64_t public_resolver;     /* answered answer_a_public_resolver */
	uint64_t xfr_started;         /* zone transfers begun (AXFR, IXFR beyond the SOA) */
	uint64_t xfr_answered;        /* transfer requests answered in one message: refused,
				       * NOTAUTH, or the SOA alone for a current IXFR */
	uint64_t xfr_messages;        /* messages of transfers sent */
};

/* ---- zone transfers (dns_xfr.c, dns_tsig.c) ----------------------------------- */

/* A TSIG key (RFC 8945) with HMAC-SHA256, the one algorithm we take. */
struct dns_tsig_key {
	bool set;
	char name[256];          /* presentation, no trailing dot */
	uint8_t name_wire[256];  /* canonical (lowercase) wire form */
	size_t name_len;
	uint8_t secret[CONFIG_TSIG_SECRET_MAX];
	size_t secret_len;
};

/* Fills k from transfer_key's form "hmac-sha256:NAME:BASE64SECRET" ("" leaves k unset).
 * DNS_EINVAL with the reason in err. */
int dns_tsig_key_from(const char *text, struct dns_tsig_key *k, char *err, size_t errcap);

/* TSIG errors (RFC 8945 3) and the time window we sign with. */
#define DNS_TSIG_BADSIG 16
#define DNS_TSIG_BADKEY 17
#define DNS_TSIG_BADTIME 18
#define DNS_TSIG_BADTRUNC 22
#define DNS_TSIG_FUDGE 300

/* One exchange's TSIG: what the request said and the MAC the next message chains to. */
struct dns_tsig_state {
	bool on;        /* the answer carries a TSIG record */
	bool signing;   /* ... with a MAC (false: an unsigned error, BADKEY/BADSIG) */
	bool chained;   /* a message was signed: the next ones cover the timers only */
	const struct dns_tsig_key *key;
	uint8_t key_name[256], alg[256]; /* as the request named them, lowercase wire */
	size_t key_name_len, alg_len;
	uint64_t time;      /* the request's Time Signed */
	uint16_t orig_id, error;
	uint8_t mac[32];    /* the request's MAC, then the last message's */
	size_t mac_len;
};

/* Checks the TSIG record at m[tsig_off] (0: none) of a request of len bytes against key, at
 * time now (seconds). DNS_RCODE_NOERROR: signed with key, *ts ready to sign the answers.
 * Otherwise the rcode to answer (NOTAUTH, FORMERR; SERVFAIL out of memory), *why a word for
 * the log ("unsigned", "tsig_badkey", "tsig_badsig", "tsig_badtime", ...), and ts->error the
 * TSIG error the answer carries (RFC 8945 5.2: unsigned for BADKEY and BADSIG, signed for
 * BADTIME). Reads nothing past len. */
unsigned dns_tsig_verify(const struct dns_tsig_key *key, const uint8_t *m, size_t len,
			 size_t tsig_off, int64_t now, struct dns_tsig_state *ts, const char **why);
/* Appends the TSIG record to the message m[0..len) (cap bytes of room) and counts it in
 * ARCOUNT: the first answer's MAC covers the request's MAC, the message and the TSIG
 * variables; each later one the previous MAC, the message and the timers (RFC 8945 5.3.1).
 * Returns the new length (len when it did not fit). */
size_t dns_tsig_sign(struct dns_tsig_state *ts, uint8_t *m, size_t len, size_t cap);
/* Signs a request we send (a NOTIFY) with key: the new length, 0 when it did not fit. *ts
 * then checks the answer (dns_tsig_check_answer). */
size_t dns_tsig_sign_request(const struct dns_tsig_key *key, uint8_t *m, size_t len, size_t cap,
			     int64_t now, struct dns_tsig_state *ts);
/* True when the answer m[0..len) carries a TSIG of ts's key whose MAC covers the request's. */
bool dns_tsig_check_answer(struct dns_tsig_state *ts, const uint8_t *m, size_t len);
/* HMAC-SHA256 (RFC 2104) of data with key: what TSIG's MACs are; DNS_ENOMEM on failure. */
int dns_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *data, size_t len,
		    uint8_t out[32]);

/* What a transfer request (or any message with one question) holds, for dns_xfr.c. */
struct dns_xfr_req {
	size_t qname_len, question_len;
	uint16_t qtype, qclass;
	bool has_soa;     /* IXFR: the client's SOA in the authority section */
	uint32_t serial;  /* ... its serial */
	size_t tsig_off;  /* the TSIG record (last of the additional section), 0: none */
};
/* Parses a message of one uncompressed question and walks every record (names may be
 * compressed; pointers are not followed). DNS_EINVAL when it does not parse, or a TSIG
 * record is not the last. Never reads past len. */
int dns_xfr_parse(const uint8_t *m, size_t len, struct dns_xfr_req *out);

#define DNS_XFR_ALLOW_MAX CONFIG_PREFIX_MAX

/* Who may transfer the zone and how. */
struct dns_xfr_config {
	unsigned n_allow;                            /* 0: nobody */
	struct ip_prefix allow[DNS_XFR_ALLOW_MAX];   /* transfer_allow */
	struct dns_tsig_key key;                     /* transfer_key; unset: none required */
	size_t expand_max;                           /* ZONE_RR_EXPAND_MAX */
};

/* ---- secondaries (dns_secondary.c) --------------------------------------------- */

#define DNS_SECONDARIES_MAX 64

/* What the server knows of one secondary: a client that transferred the zone, or an address
 * of the notify key (or both: the same address). */
struct dns_secondary {
	uint8_t addr[16];               /* 16-byte form (IPv4 mapped) */
	char text[IP_STRLEN];           /* the address as text */
	bool notify_target;             /* listed in notify */
	uint16_t notify_port;
	int64_t last_notify_sent_at;    /* wall clock seconds; 0: never */
	int64_t last_notify_answered_at;
	uint32_t last_notify_serial;    /* the serial of the NOTIFY it last answered */
	bool notify_unanswered;         /* the last NOTIFY went unanswered after every retry */
	int64_t last_transfer_at;       /* the end of the last transfer served to it; 0: never */
	uint32_t last_transfer_serial;
	uint64_t transfers;             /* transfers served to it (AXFR, IXFR) */
};

/* Copies at most max rows of the table into out; returns how many. Any thread (a mutex
 * guards the table); the metrics export it (trapline_..._last_transfer). */
size_t dns_secondaries(struct dns_secondary *out, size_t max);

/* ---- the server ------------------------------------------------------------ */

#define DNS_LISTEN_MAX 8
#define DNS_NOTIFY_MAX 32

struct dns_server_config {
	struct dns_config dns;
	unsigned n_listen;
	struct sockaddr_storage listen[DNS_LISTEN_MAX]; /* each gets UDP and TCP */
	socklen_t listen_len[DNS_LISTEN_MAX];
	unsigned threads;        /* UDP workers per address (SO_REUSEPORT sockets), >= 1 */
	unsigned tcp_max_conns;  /* open TCP connections at most; when full, the one stalled the
				  * longest (idle, or mid-query) is closed for a newcomer, else
				  * the newcomer is */
	unsigned tcp_max_per_client; /* open TCP connections of one client (IPv4 address or IPv6
				      * /64) at most; more are closed at once. 0: no such limit */
	unsigned tcp_idle_ms;    /* a TCP connection idle this long is closed */
	unsigned tcp_query_ms;   /* a query must arrive whole this soon after its first byte,
				  * or its connection is closed */
	unsigned udp_spin_us;    /* a UDP worker polls an empty queue this long before it sleeps */
	/* Response rate limiting (UDP) and usage limits (UDP and TCP). */
	struct dns_rrl_config rrl;
	unsigned usage_limit_per_day;          /* queries per client prefix a day; 0: none */
	char public_resolvers[CONFIG_STR_MAX]; /* file of prefixes; "": none */
	struct dns_xfr_config xfr; /* zone transfers over TCP */
	unsigned n_notify;         /* secondaries told of each new serial (notify) */
	struct sockaddr_storage notify[DNS_NOTIFY_MAX];
	socklen_t notify_len[DNS_NOTIFY_MAX];
};

/* The server's settings from the configuration: zone, edns_udp_max, dns_listen, threads (0:
 * one per core), tcp_max_conns, tcp_max_per_client, tcp_idle_ms, tcp_query_ms, udp_spin_us,
 * transfer_allow, transfer_key, notify (at most DNS_NOTIFY_MAX addresses).
 * DNS_EINVAL with "KEY: problem" in err when dns_listen names more addresses than
 * DNS_LISTEN_MAX. */
int dns_server_config_from(const struct config *cfg, struct dns_server_config *sc, char *err,
			   size_t errcap);

struct dns_server;

/* Creates and binds every socket (UDP: cfg->threads per address; TCP: one per address) but
 * starts no thread, so the caller can drop privileges in between. DNS_EIO (logged with the
 * address) if a socket cannot be bound. */
int dns_server_bind(const struct dns_server_config *cfg, struct dns_server **out);
/* Starts the workers, which answer from zone (read with zone_read_lock/zone_current), and
 * with notify set the thread that sends NOTIFYs (tl-notify). */
int dns_server_start(struct dns_server *srv, struct zone_handle *zone);
/* Stops the workers (within about 100 ms), closes the sockets, frees srv. */
void dns_server_stop(struct dns_server *srv);
/* A configuration reload: the limits on clients (rrl_*, usage_limit_per_day, answer_a_excess,
 * answer_a_public_resolver, the public_resolvers file read again) published whole to the
 * running workers (RCU: the hot path takes no lock; the old limits are freed after a grace
 * period). The bucket table and the day's counts stay. Call from the thread that started the
 * server, outside any read-side section. A file that does not load changes nothing (logged):
 * DNS_EIO/DNS_EINVAL; DNS_ENOMEM. */
int dns_server_reload(struct dns_server *srv, const struct config *cfg);
/* What a reload would refuse of cfg's limits (rrl_exempt, the public_resolvers file), for the
 * reload's check before any module changes: DNS_OK, or an error with "KEY: problem" in err. */
int dns_limits_check(const struct config *cfg, char *err, size_t errcap);
/* Sum of every worker's counters. */
void dns_server_stats(const struct dns_server *srv, struct dns_stats *out);
/* The server's families for GET /metrics (a metrics_collect_fn; arg: the dns_server):
 * trapline_dns_queries_total{rcode,qtype,proto}, trapline_dns_rrl_total{action},
 * trapline_dns_dropped_total{proto} and the TCP connection counters. */
void dns_server_metrics(void *srv, struct metrics *m);

#endif
