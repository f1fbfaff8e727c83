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
};

/* Per-worker answering state: the zone name in wire form and caches derived from the current
 * snapshot (the encoded SOA, NS and glue records). Init once per thread; after that it
 * allocates only when a new snapshot brings a bigger NS or glue set than any before. */
struct dns_ctx;

/* Allocates a context for cfg (copied). NULL on allocation failure or a zone name that is
 * not a valid domain name. */
struct dns_ctx *dns_ctx_new(const struct dns_config *cfg);
void dns_ctx_free(struct dns_ctx *ctx);

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

/* Counters a worker keeps (read without locks, approximately, for logs and metrics). */
struct dns_stats {
	uint64_t queries, answers, dropped, formerr, nxdomain, refused, truncated;
	uint64_t tcp_conns;           /* TCP connections accepted (then kept or closed) */
	uint64_t tcp_rejected;        /* closed at once: the table full and none idle (or no memory) */
	uint64_t tcp_rejected_client; /* closed at once: the client held tcp_max_per_client */
	uint64_t tcp_evicted;         /* idle or mid-query connections closed to make room for a
				       * newcomer */
	uint64_t tcp_query_timeouts;  /* closed: a query not whole tcp_query_ms after its first byte */
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
/* Sum of every worker's counters. */
void dns_server_stats(const struct dns_server *srv, struct dns_stats *out);

#endif
