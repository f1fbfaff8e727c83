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

/* The limits on clients (dns_rrl.c), one immutable generation shared by every worker: a
 * reload (dns_server_reload) publishes a new one with one RCU pointer swap and frees the old
 * after a grace period. Each part NULL when off. */
struct dns_limits {
	uint64_t gen;                             /* 1, 2...: which generation (dns_ctx codes) */
	struct dns_rrl *rrl;                      /* rrl_rate > 0: a view of srv->rrl_table */
	struct dns_usage *usage;                  /* usage_limit_per_day > 0: srv->usage */
	struct dns_prefix_set *public_resolvers;  /* a public_resolvers file: owned */
	unsigned usage_limit, slip, v4_prefix, v6_prefix;
	struct dns_config codes;                  /* answer_a_excess, answer_a_public_resolver */
};

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
	uint64_t rrl_limited; /* answers this worker limited: every rrl_slip-th slips */
	bool xfr_only;  /* TCP: the transfer thread (no listeners; connections handed over) */
	uint64_t limits_gen;  /* the generation of limits whose codes ctx answers with */
};

/* Connections handed from the TCP thread to the transfer thread (dns_tcp.c): a transfer is
 * sent at a lower CPU priority than the DNS workers, so that a secondary's AXFR of a big zone
 * never takes a UDP worker's core from it. */
#define DNS_HANDOFF_MAX 64
struct dns_handoff {
	pthread_mutex_t mu;
	int efd;                 /* eventfd: readable while connections wait */
	unsigned n;
	void *conn[DNS_HANDOFF_MAX]; /* struct tcp_conn copies, malloc'd */
};

struct dns_server {
	struct dns_server_config cfg;
	struct zone_handle *zone;
	/* The limits in force: read with rcu_dereference inside zone_read_lock, swapped by
	 * dns_server_reload. The bucket table and the day's counts outlive every generation. */
	struct dns_limits *limits;
	struct dns_rrl *rrl_table;  /* made when a generation first has rrl_rate > 0 */
	struct dns_usage *usage;    /* made when one first has usage_limit_per_day > 0 */
	atomic_bool stop;
	unsigned n_udp;             /* cfg.n_listen * cfg.threads */
	struct dns_worker *udp;     /* n_udp workers, socket i*threads+j for address i */
	struct dns_worker *tcp;     /* one worker serving every TCP listener */
	struct dns_worker *notify;  /* the NOTIFY sender (notify set), else NULL */
	struct dns_worker *xfr;     /* the transfer thread (tl-xfr), at nice DNS_XFR_NICE */
	struct dns_handoff handoff; /* from tcp to xfr */
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

/* True when a query from this server's clients needs its address: some limit is on. */
static inline bool dns_limits_on(const struct dns_limits *lim)
{
	return lim->rrl || lim->usage || lim->public_resolvers;
}
/* The limits in force, inside a zone_read_lock section (valid until its end); the worker's
 * context takes the usage-limit codes of a new generation. */
const struct dns_limits *dns_limits_current(struct dns_worker *w);
/* The mode to answer a query from addr in (public resolver, over the usage limit, normal),
 * counting the query against the usage limit of its prefix on day; counted in w's stats. */
enum dns_client_mode dns_limits_mode(struct dns_worker *w, const struct dns_limits *lim,
				     const uint8_t addr[16], int64_t day);
/* Rate-limits the UDP answer of len bytes in out to addr (lim->rrl must be set): returns
 * len when it may go, its truncated length on a slip, 0 when it is dropped. */
size_t dns_limits_rrl(struct dns_worker *w, const struct dns_limits *lim, const uint8_t addr[16],
		      uint8_t *out, size_t len, const struct dns_answer_info *info, uint64_t now_s);
/* A new generation of srv's limits from cfg (making srv's bucket table and day counts the
 * first time they are needed: call from one thread at a time). DNS_EINVAL/DNS_EIO when the
 * public_resolvers file cannot be read, DNS_ENOMEM; err says why. */
int dns_limits_new(struct dns_server *srv, const struct dns_server_config *cfg,
		   struct dns_limits **out, char *err, size_t errcap);
/* One log line naming the limits of lim, after what ("limits", "limits reloaded"). */
void dns_limits_log(const struct dns_limits *lim, const char *what);
void dns_limits_free(struct dns_limits *lim);
/* The limits' keys of cfg into sc (dns_server_config_from): rrl_*, usage_limit_per_day,
 * public_resolvers, answer_a_excess, answer_a_public_resolver. DNS_EINVAL with "KEY:
 * problem" in err. */
int dns_limits_config_from(const struct config *cfg, struct dns_server_config *sc, char *err,
			   size_t errcap);

/* UDP workers (dns_udp.c): allocate the batch buffers, run, free them. */
int dns_udp_prepare(struct dns_worker *w);
void *dns_udp_main(void *arg);
void dns_udp_release(struct dns_worker *w);

/* The nice value of the transfer thread: below the DNS workers (0), as the web's threads. */
#define DNS_XFR_NICE 10
/* The TCP thread (dns_tcp.c): allocate the connection table, run, close and free it. The
 * transfer thread is the same loop with xfr_only set: no listeners, connections adopted from
 * srv->handoff. dns_tcp_handoff_free closes what is still waiting there. */
int dns_tcp_prepare(struct dns_worker *w);
void *dns_tcp_main(void *arg);
void dns_tcp_release(struct dns_worker *w);
int dns_tcp_handoff_init(struct dns_server *srv);
void dns_tcp_handoff_free(struct dns_server *srv);

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
/* An ordinary query signed with transfer_key (a secondary's SOA check before a transfer:
 * NSD and Knot sign it) gets its answer out[0..alen) signed back (RFC 8945 5.3); one whose
 * TSIG does not verify gets NOTAUTH with the TSIG error instead. Any other query's answer is
 * left as it is. Returns the answer's new length (at most cap). Costs a parse only for a
 * query with additional records while a key is set. */
size_t dns_tsig_wrap(const struct dns_tsig_key *key, const uint8_t *q, size_t qlen, uint8_t *out,
		     size_t alen, size_t cap);
/* Whether peer is inside transfer_allow. */
bool dns_xfr_allowed(const struct dns_xfr_config *x, const uint8_t peer[16]);
/* A transfer of serial ended well for peer: the secondaries' table (dns_secondary.c). */
void dns_xfr_served(const char *client, const uint8_t peer[16], uint32_t serial);
/* A NOTIFY to addr:port was sent (sent_at), answered (answered_at, for serial) or given up
 * (unanswered); 0 leaves a time as it was. */
void dns_secondary_notify_state(const uint8_t addr[16], uint16_t port, int64_t sent_at,
				int64_t answered_at, uint32_t serial, bool unanswered);

#endif
