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

/* Counters a worker keeps (read without locks, approximately, for logs and metrics). */
struct dns_stats {
	uint64_t answered[DNS_STAT_RCODES][DNS_STAT_QTYPES]; /* answers by rcode and qtype */
	uint64_t rrl_dropped;  /* response rate limiting: answers not sent (dns_rrl.c) */
	uint64_t rrl_slipped;  /* ... sent truncated (TC=1) instead, for the client to retry on TCP */
	uint64_t queries, answers, dropped, formerr, nxdomain, refused, truncated;
	uint64_t tcp_conns;           /* TCP connections accepted (then kept or closed) */
	uint64_t tcp_rejected;        /* closed at once: the table full and none idle (or no memory) */
	uint64_t tcp_rejected_client; /* closed at once: the client held tcp_max_per_client */
	uint64_t tcp_evicted;         /* idle or mid-query connections closed to make room for a
				       * newcomer */
	uint64_t tcp_query_timeouts;  /* closed: a query not whole tcp_query_ms after its first byte */
};

/* ---- the server ------------------------------------------------------------ */

#define DNS_LISTEN_MAX 8

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
};

/* The server's settings from the configuration: zone, edns_udp_max, dns_listen, threads (0:
 * one per core), tcp_max_conns, tcp_max_per_client, tcp_idle_ms, tcp_query_ms, udp_spin_us.
 * DNS_EINVAL with "KEY: problem" in err when dns_listen names more addresses than
 * DNS_LISTEN_MAX. */
int dns_server_config_from(const struct config *cfg, struct dns_server_config *sc, char *err,
			   size_t errcap);

struct dns_server;

/* Creates and binds every socket (UDP: cfg->threads per address; TCP: one per address) but
 * starts no thread, so the caller can drop privileges in between. DNS_EIO (logged with the
 * address) if a socket cannot be bound. */
int dns_server_bind(const struct dns_server_config *cfg, struct dns_server **out);
/* Starts the workers, which answer from zone (read with zone_read_lock/zone_current). */
int dns_server_start(struct dns_server *srv, struct zone_handle *zone);
/* Stops the workers (within about 100 ms), closes the sockets, frees srv. */
void dns_server_stop(struct dns_server *srv);
/* Sum of every worker's counters. */
void dns_server_stats(const struct dns_server *srv, struct dns_stats *out);
/* The server's families for GET /metrics (a metrics_collect_fn; arg: the dns_server):
 * trapline_dns_queries_total{rcode,qtype,proto}, trapline_dns_rrl_total{action},
 * trapline_dns_dropped_total{proto} and the TCP connection counters. */
void dns_server_metrics(void *srv, struct metrics *m);

#endif
