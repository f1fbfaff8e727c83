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
	struct dns_worker *notify;  /* the NOTIFY sender (notify set), else NULL */
	int tcp_fd[DNS_LISTEN_MAX]; /* listening sockets, one per address */
};

/* Adds v to a counter that only this thread writes; the relaxed store lets dns_server_stats
 * read it from another thread without a data race, at the cost of a plain add. */
static inline void dns_stat_add(uint64_t *counter, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)counter, *counter + v, memory_order_relaxed);
}

/* Counts the rcode and TC bit of an answer of at least a header's length. */
static inline void dns_stat_answer(struct dns_stats *st, const uint8_t *ans)
{
	unsigned rcode = ans[3] & 0x0fu;
	if (ans[2] & 0x02u)
		dns_stat_add(&st->truncated, 1);
	if (rcode == DNS_RCODE_NXDOMAIN)
		dns_stat_add(&st->nxdomain, 1);
	else if (rcode == DNS_RCODE_FORMERR)
		dns_stat_add(&st->formerr, 1);
	else if (rcode == DNS_RCODE_REFUSED)
		dns_stat_add(&st->refused, 1);
}

/* UDP workers (dns_udp.c): allocate the batch buffers, run, free them. */
int dns_udp_prepare(struct dns_worker *w);
void *dns_udp_main(void *arg);
void dns_udp_release(struct dns_worker *w);

/* The TCP thread (dns_tcp.c): allocate the connection table, run, close and free it. */
int dns_tcp_prepare(struct dns_worker *w);
void *dns_tcp_main(void *arg);
void dns_tcp_release(struct dns_worker *w);

/* The NOTIFY thread (dns_notify.c): its sockets and secondaries, run, free. */
int dns_notify_prepare(struct dns_worker *w);
void *dns_notify_main(void *arg);
void dns_notify_release(struct dns_worker *w);

/* ---- zone transfers (dns_xfr.c) ---- */

struct dns_xfr;
enum dns_xfr_verdict {
	DNS_XFR_NOT = 0,      /* not a transfer of our zone: dns_answer answers it */
	DNS_XFR_ANSWERED = 1, /* answered in one message (refused, NOTAUTH, the SOA alone) */
	DNS_XFR_STARTED = 2,  /* *xfr streams the answer: dns_xfr_next until done */
};
/* Looks at the whole message q from a TCP client at peer (16-byte form). A transfer of the
 * zone gets its ACL (transfer_allow) and TSIG checks here; a refusal is logged once. snap is
 * the current snapshot (read-locked by the caller; the transfer pins its own copy); journal
 * the IXFR journal (NULL: none, IXFR gets the whole zone). out/cap
 * as for dns_answer; *alen the answer's length for DNS_XFR_ANSWERED. */
int dns_xfr_request(const struct dns_server_config *cfg, const struct zone_snapshot *snap,
		    struct zone_journal *journal, const uint8_t peer[16], const uint8_t *q,
		    size_t qlen, uint8_t *out,
		    size_t cap, size_t *alen, struct dns_xfr **xfr);
/* The transfer's next message into out (cap >= 65,535 is best; less works for small
 * records): its length, *done after the last one. 0 on failure (logged): close the
 * connection. No zone lock is needed. */
size_t dns_xfr_next(struct dns_xfr *x, uint8_t *out, size_t cap, bool *done);
void dns_xfr_free(struct dns_xfr *x);
/* Whether peer is inside transfer_allow. */
bool dns_xfr_allowed(const struct dns_xfr_config *x, const uint8_t peer[16]);
/* A transfer of serial ended well for peer: the secondaries' table (dns_secondary.c). */
void dns_xfr_served(const char *client, const uint8_t peer[16], uint32_t serial);
/* A NOTIFY to addr:port was sent (sent_at), answered (answered_at, for serial) or given up
 * (unanswered); 0 leaves a time as it was. */
void dns_secondary_notify_state(const uint8_t addr[16], uint16_t port, int64_t sent_at,
				int64_t answered_at, uint32_t serial, bool unanswered);

#endif
