/* dns_internal.h - private to src/dns/: what the server (dns_server.c) shares with the
 * transports it starts (dns_udp.c, dns_tcp.c): the server's state, a worker's state and its
 * counters, and each transport's entry points. It sits below all three, so that the workers
 * never reach up into the file that starts them. The counters' updates are inline: they run
 * on every packet, which must not pay for a call. */
#ifndef TRAPLINE_DNS_INTERNAL_H
#define TRAPLINE_DNS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "dns.h"

#define DNS_CACHE_LINE 64

/* One thread's state. The counters come first and the struct is cache-line aligned (and so
 * sized in whole lines), so a worker's counter updates never touch another worker's line. */
struct dns_worker {
	_Alignas(DNS_CACHE_LINE) struct dns_stats stats;
	struct dns_server *srv;
	struct dns_ctx *ctx;
	void *io;       /* transport state: UDP batch buffers or the TCP connection table */
	int fd;         /* UDP socket (TCP: unused, the listeners are in srv->tcp_fd) */
	pthread_t tid;
	bool running;   /* tid is a thread to join */
	bool pktinfo;   /* UDP socket on a wildcard address: answer from the query's address */
	uint64_t spin_ns; /* UDP: poll an empty queue this long before sleeping (0: never) */
};

struct dns_server {
	struct dns_server_config cfg;
	struct zone_handle *zone;
	atomic_bool stop;
	unsigned n_udp;             /* cfg.n_listen * cfg.threads */
	struct dns_worker *udp;     /* n_udp workers, socket i*threads+j for address i */
	struct dns_worker *tcp;     /* one worker serving every TCP listener */
	int tcp_fd[DNS_LISTEN_MAX]; /* listening sockets, one per address */
};

/* Adds v to a counter that only this thread writes; the relaxed store lets dns_server_stats
 * read it from another thread without a data race, at the cost of a plain add. */
static inline void dns_stat_add(uint64_t *counter, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)counter, *counter + v, memory_order_relaxed);
}

/* The index of a query type in dns_stats.answered. */
static inline unsigned dns_stat_qtype(unsigned qt)
{
	switch (qt) {
	case 1: return DNS_STAT_QT_A;
	case 2: return DNS_STAT_QT_NS;
	case 6: return DNS_STAT_QT_SOA;
	case 12: return DNS_STAT_QT_PTR;
	case 15: return DNS_STAT_QT_MX;
	case 16: return DNS_STAT_QT_TXT;
	case 28: return DNS_STAT_QT_AAAA;
	case 251: return DNS_STAT_QT_IXFR;
	case 252: return DNS_STAT_QT_AXFR;
	case 255: return DNS_STAT_QT_ANY;
	default: return DNS_STAT_QT_OTHER;
	}
}

/* Counts an answer of len bytes (at least a header's) by its rcode and its question's type,
 * and its TC bit. The question is ours (dns_answer wrote it, uncompressed), so skipping its
 * name is a walk over a few length bytes; nothing is shared with another worker. */
static inline void dns_stat_answer(struct dns_stats *st, const uint8_t *ans, size_t len)
{
	unsigned rcode = ans[3] & 0x0fu, qt = DNS_STAT_QT_OTHER;
	if (ans[2] & 0x02u)
		dns_stat_add(&st->truncated, 1);
	if (rcode >= DNS_STAT_RCODES - 1)
		rcode = DNS_STAT_RCODES - 1;
	if (len > 12 && (ans[4] | ans[5]) != 0) {
		size_t p = 12;
		while (p < len && ans[p] != 0 && ans[p] < 0x40u)
			p += 1u + ans[p];
		if (p + 2 < len && ans[p] == 0)
			qt = dns_stat_qtype(((unsigned)ans[p + 1] << 8) | ans[p + 2]);
	}
	dns_stat_add(&st->answered[rcode][qt], 1);
}

/* UDP workers (dns_udp.c): allocate the batch buffers, run, free them. */
int dns_udp_prepare(struct dns_worker *w);
void *dns_udp_main(void *arg);
void dns_udp_release(struct dns_worker *w);

/* The TCP thread (dns_tcp.c): allocate the connection table, run, close and free it. */
int dns_tcp_prepare(struct dns_worker *w);
void *dns_tcp_main(void *arg);
void dns_tcp_release(struct dns_worker *w);

#endif
