/* dns_tcp.c - DNS over TCP (RFC 7766): one epoll thread, length-framed, pipelined queries. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/base.h"
#include "dns_internal.h"

/* Room for the largest message with its length prefix. */
#define TCP_IN_CAP (2 + DNS_MAX_MSG)
/* Answers pending for a connection beyond this stop its reading until the client has taken
 * them (RFC 7766 6.2.3: do not let a client that does not read make us buffer unboundedly). */
#define TCP_OUT_PENDING 16384
/* An answer is written only when the largest one fits, so the buffer holds the cap plus one. */
#define TCP_OUT_CAP (TCP_OUT_PENDING + 2 + DNS_MAX_MSG)
/* Rounds of answering and sending one connection gets per event: a transfer sends about
 * 2 x 16 KiB a round, so 16 rounds (half a MiB) and then the other connections' turn. */
#define TCP_XFR_TURN 16
/* epoll_wait timeout: the stop flag and the idle timers are looked at least this often. */
#define TCP_TICK_MS 50
#define TCP_EVENTS 64
/* epoll data of a listener: this bit plus the address index; a connection: its slot. */
#define TCP_LISTENER (1ull << 32)
/* epoll data of an event left in the batch for a connection closed to make room. */
#define TCP_STALE UINT64_MAX
/* epoll data of the transfer thread's handoff eventfd. */
#define TCP_HANDOFF (UINT64_MAX - 1)
/* A limit hit is logged at once, then at most once per this long per kind of limit. */
#define TCP_LOG_EVERY_NS (5ull * 1000000000u)

struct tcp_conn {
	int fd;             /* -1: free slot */
	uint32_t events;    /* what epoll watches for it now */
	bool eof;           /* the client finished sending: close once answered */
	bool bad;           /* a 0-length message: answer nothing more, close once flushed */
	uint64_t last_ns;   /* last byte read or written */
	uint64_t query_ns;  /* the first byte of the query in progress came; 0: none in progress */
	uint8_t client[16]; /* whom it counts against: ip_client_key */
	uint8_t addr[16];   /* the peer's address (usage limits, public resolvers) */
	struct dns_xfr *xfr; /* a zone transfer being sent, NULL: none */
	size_t in_len;      /* bytes in in[] */
	size_t out_off, out_len; /* pending answers are out[out_off .. out_off + out_len) */
	uint8_t *in, *out;  /* one allocation made at accept */
};

/* The limits a newcomer can meet; each kind is logged on its own schedule. */
enum tcp_limit {
	TCP_LIMIT_CLIENT, /* its client holds tcp_max_per_client already: refused */
	TCP_LIMIT_EVICT,  /* the table full: the connection idle the longest closed for it */
	TCP_LIMIT_EVICT_SLOW, /* the table full: a connection mid-query, begun long ago, closed */
	TCP_LIMIT_FULL,   /* the table full, every connection with answers waiting: refused */
	TCP_LIMIT_QUERY,  /* not a newcomer's: a query not whole tcp_query_ms after its start */
	TCP_LIMIT_KINDS
};

/* One kind's log: a line for the first event, then at most one per TCP_LOG_EVERY_NS, which
 * describes the latest event and counts those that no line described. */
struct tcp_limit_log {
	uint64_t last_ns;   /* when a line of this kind was last written; 0: never */
	uint64_t pending;   /* events since that line */
	uint8_t client[16]; /* the latest event: refused client, or the one closed for room */
	unsigned conns;     /* ... that client's connections (CLIENT) or the table's */
	uint64_t age_ms;    /* ... EVICT: how long the closed one had been idle; EVICT_SLOW,
			     * QUERY: how long since its query began */
};

struct tcp_state {
	int ep;
	unsigned max, n_open;
	unsigned per_client;      /* tcp_max_per_client; max when there is no such limit */
	bool paused;              /* listeners off for a tick after EMFILE and the like */
	uint64_t resume_ns;       /* ... until then */
	uint64_t warned_ns;       /* last time that was logged */
	uint64_t idle_ns, query_ns, next_scan_ns;
	struct tcp_conn *conns;   /* max slots */
	unsigned *free_slots, n_free;
	struct tcp_limit_log limits[TCP_LIMIT_KINDS];
	unsigned ev_next, n_ev;   /* the batch in ev[] is being handled from ev_next on */
	struct epoll_event ev[TCP_EVENTS];
};

int dns_tcp_prepare(struct dns_worker *w)
{
	const struct dns_server *srv = w->srv;
	struct tcp_state *t;
	unsigned i;

	if (w->io)
		return DNS_OK;
	t = calloc(1, sizeof(*t));
	if (!t)
		return DNS_ENOMEM;
	t->ep = -1;
	t->max = srv->cfg.tcp_max_conns;
	t->per_client = srv->cfg.tcp_max_per_client;
	if (t->per_client == 0 || t->per_client > t->max)
		t->per_client = t->max;
	t->idle_ns = (uint64_t)srv->cfg.tcp_idle_ms * 1000000u;
	t->query_ns = (uint64_t)srv->cfg.tcp_query_ms * 1000000u;
	t->conns = calloc(t->max ? t->max : 1, sizeof(*t->conns));
	t->free_slots = calloc(t->max ? t->max : 1, sizeof(*t->free_slots));
	if (!t->conns || !t->free_slots)
		goto fail;
	for (i = 0; i < t->max; i++) {
		t->conns[i].fd = -1;
		t->free_slots[t->n_free++] = t->max - 1 - i; /* slot 0 is handed out first */
	}
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->ep < 0)
		goto fail;
	for (i = 0; i < srv->cfg.n_listen && !w->xfr_only; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TCP_LISTENER | i};
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, srv->tcp_fd[i], &ev) != 0)
			goto fail;
	}
	if (w->xfr_only) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TCP_HANDOFF};
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, srv->handoff.efd, &ev) != 0)
			goto fail;
	}
	w->io = t;
	return DNS_OK;
fail:
	if (t->ep >= 0)
		close(t->ep);
	free(t->conns);
	free(t->free_slots);
	free(t);
	return DNS_ENOMEM;
}

static void conn_close(struct tcp_state *t, struct tcp_conn *c)
{
	close(c->fd); /* also removes it from the epoll set */
	dns_xfr_free(c->xfr);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	t->free_slots[t->n_free++] = (unsigned)(c - t->conns);
	t->n_open--;
}

void dns_tcp_release(struct dns_worker *w)
{
	struct tcp_state *t = w->io;
	unsigned i;
	if (!t)
		return;
	for (i = 0; i < t->max; i++)
		if (t->conns[i].fd >= 0)
			conn_close(t, &t->conns[i]);
	close(t->ep);
	free(t->conns);
	free(t->free_slots);
	free(t);
	w->io = NULL;
}

/* Stops (or resumes) watching the listeners. */
static void tcp_listen_pause(struct dns_worker *w, struct tcp_state *t, bool pause, uint64_t now)
{
	const struct dns_server *srv = w->srv;
	if (t->paused == pause)
		return;
	for (unsigned i = 0; i < srv->cfg.n_listen; i++) {
		struct epoll_event ev = {.events = pause ? 0 : EPOLLIN, .data.u64 = TCP_LISTENER | i};
		(void)epoll_ctl(t->ep, EPOLL_CTL_MOD, srv->tcp_fd[i], &ev);
	}
	/* At most one line every 10 s while it lasts: it pauses again every tick. */
	if (pause && (t->warned_ns == 0 || now - t->warned_ns >= 10000000000u)) {
		log_warn("dns", "tcp accept paused error=\"%s\"", strerror(errno));
		t->warned_ns = now;
	}
	t->paused = pause;
	t->resume_ns = now + (uint64_t)TCP_TICK_MS * 1000000u;
}

static void tcp_limit_write(struct tcp_state *t, enum tcp_limit kind, uint64_t now)
{
	struct tcp_limit_log *l = &t->limits[kind];
	char who[IP_PREFIX_STRLEN];
	unsigned long long suppressed = l->pending - 1;
	ip_client_format(l->client, who);
	if (kind == TCP_LIMIT_CLIENT)
		log_warn("dns", "tcp refused reason=client_limit client=%s conns=%u limit=%u "
			 "suppressed=%llu", who, l->conns, t->per_client, suppressed);
	else if (kind == TCP_LIMIT_EVICT)
		log_warn("dns", "tcp closed idle reason=table_full client=%s idle_ms=%llu conns=%u "
			 "limit=%u suppressed=%llu", who, (unsigned long long)l->age_ms, l->conns,
			 t->max, suppressed);
	else if (kind == TCP_LIMIT_EVICT_SLOW)
		log_warn("dns", "tcp closed slow reason=table_full client=%s query_ms=%llu conns=%u "
			 "limit=%u suppressed=%llu", who, (unsigned long long)l->age_ms, l->conns,
			 t->max, suppressed);
	else if (kind == TCP_LIMIT_QUERY)
		log_warn("dns", "tcp closed slow reason=query_timeout client=%s query_ms=%llu "
			 "limit_ms=%llu suppressed=%llu", who, (unsigned long long)l->age_ms,
			 (unsigned long long)(t->query_ns / 1000000u), suppressed);
	else
		log_warn("dns", "tcp refused reason=table_full_busy client=%s conns=%u limit=%u "
			 "suppressed=%llu", who, l->conns, t->max, suppressed);
	l->last_ns = now;
	l->pending = 0;
}

/* Records one limit hit; written at once unless a line of its kind went out less than
 * TCP_LOG_EVERY_NS ago (then tcp_limit_flush writes it later, with the count). */
static void tcp_limit_hit(struct tcp_state *t, enum tcp_limit kind, const uint8_t client[16],
			  unsigned conns, uint64_t age_ns, uint64_t now)
{
	struct tcp_limit_log *l = &t->limits[kind];
	memcpy(l->client, client, 16);
	l->conns = conns;
	l->age_ms = age_ns / 1000000u;
	l->pending++;
	if (l->last_ns == 0 || now - l->last_ns >= TCP_LOG_EVERY_NS)
		tcp_limit_write(t, kind, now);
}

/* Writes what was held back, once its kind's interval has passed: so a burst ends with a
 * line that counts it even when nothing follows. */
static void tcp_limit_flush(struct tcp_state *t, uint64_t now)
{
	for (unsigned k = 0; k < TCP_LIMIT_KINDS; k++)
		if (t->limits[k].pending > 0 && now - t->limits[k].last_ns >= TCP_LOG_EVERY_NS)
			tcp_limit_write(t, (enum tcp_limit)k, now);
}

/* Since when c has got nowhere: the start of its query in progress, or else its last byte.
 * UINT64_MAX for one with answers waiting for the client to read them: it is being served. */
static uint64_t conn_stalled_since(const struct tcp_conn *c)
{
	if (c->out_len > 0)
		return UINT64_MAX;
	return c->query_ns ? c->query_ns : c->last_ns;
}

/* One pass over the table: how many connections client holds, and the one stalled the longest
 * (conn_stalled_since; NULL when every one has answers waiting). Measured on the 2-vCPU test
 * machine: 2.3 ns a slot, 0.6 us for the default 256 (10 us for 4,096), where the accept4
 * before it took 25 to 50 us. It runs only once n_open reaches the per-client limit, and the
 * idle reaper already walks every slot each tick: the table's size bounds both alike. */
static unsigned tcp_scan(struct tcp_state *t, const uint8_t client[16], struct tcp_conn **stalled)
{
	unsigned same = 0;
	uint64_t since = UINT64_MAX;
	*stalled = NULL;
	for (unsigned i = 0; i < t->max; i++) {
		struct tcp_conn *c = &t->conns[i];
		if (c->fd < 0)
			continue;
		same += memcmp(c->client, client, 16) == 0;
		uint64_t s = conn_stalled_since(c);
		if (s < since) {
			since = s;
			*stalled = c;
		}
	}
	return same;
}

/* Closes c to make room while the batch in t->ev is being handled; events of c later in the
 * batch are dropped, or they would reach the newcomer that takes its slot. */
static void tcp_evict(struct tcp_state *t, struct tcp_conn *c)
{
	uint64_t slot = (uint64_t)(c - t->conns);
	for (unsigned i = t->ev_next; i < t->n_ev; i++)
		if (t->ev[i].data.u64 == slot)
			t->ev[i].data.u64 = TCP_STALE;
	conn_close(t, c);
}

/* Whether a newcomer from client gets a slot (RFC 7766 6.2 lets a server limit connections
 * per client address or subnet, and close idle ones, sooner under load). Past the client's
 * limit it does not. In a full table the connection stalled the longest is closed for it:
 * idle the longest, or in the middle of a query begun the longest ago (a query comes whole in
 * one segment from any real client, so one half-sent for long is a slow or hostile one). So
 * neither idle nor half-sent connections, however many, lock others out; only when every
 * connection has answers waiting to be read is the newcomer turned away. Each case counted
 * and logged. */
static bool tcp_admit(struct dns_worker *w, struct tcp_state *t, const uint8_t client[16],
		      uint64_t now)
{
	bool full = t->n_free == 0;
	/* Fewer open than the per-client limit: no client can be at it, nothing to count. */
	bool count = t->per_client < t->max && t->n_open >= t->per_client;
	struct tcp_conn *stalled;
	unsigned mine;

	if (!full && !count)
		return true;
	mine = tcp_scan(t, client, &stalled);
	if (count && mine >= t->per_client) {
		dns_stat_add(&w->stats.tcp_rejected_client, 1);
		tcp_limit_hit(t, TCP_LIMIT_CLIENT, client, mine, 0, now);
		return false;
	}
	if (!full)
		return true;
	if (!stalled) {
		dns_stat_add(&w->stats.tcp_rejected, 1);
		tcp_limit_hit(t, TCP_LIMIT_FULL, client, t->n_open, 0, now);
		return false;
	}
	dns_stat_add(&w->stats.tcp_evicted, 1);
	if (stalled->query_ns)
		tcp_limit_hit(t, TCP_LIMIT_EVICT_SLOW, stalled->client, t->n_open,
			      now - stalled->query_ns, now);
	else
		tcp_limit_hit(t, TCP_LIMIT_EVICT, stalled->client, t->n_open,
			      now - stalled->last_ns, now);
	tcp_evict(t, stalled);
	return true;
}

static void tcp_accept(struct dns_worker *w, struct tcp_state *t, int lfd, uint64_t now)
{
	for (unsigned k = 0; k < TCP_EVENTS; k++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		uint8_t client[16], addr[16];
		int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of descriptors or memory: the pending connection stays queued and
			 * the listener stays readable, so pause accepting for a tick instead of
			 * spinning on it. EAGAIN: all taken; ECONNABORTED and the like: gone. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				tcp_listen_pause(w, t, true, now);
			return;
		}
		dns_stat_add(&w->stats.tcp_conns, 1);
		sockaddr_ip((const struct sockaddr *)&peer, addr);
		ip_client_key(addr, client);
		if (!tcp_admit(w, t, client, now)) {
			close(fd); /* at once, so the client knows to go elsewhere or retry later */
			continue;
		}
		struct tcp_conn *c = t->n_free ? &t->conns[t->free_slots[t->n_free - 1]] : NULL;
		uint8_t *mem = c ? malloc(TCP_IN_CAP + TCP_OUT_CAP) : NULL;
		struct epoll_event ev = {.events = EPOLLIN};
		if (mem)
			ev.data.u64 = (uint64_t)(c - t->conns);
		if (!mem || epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			/* Out of memory: closed at once, as above. */
			free(mem);
			close(fd);
			dns_stat_add(&w->stats.tcp_rejected, 1);
			continue;
		}
		t->n_free--;
		t->n_open++;
		c->fd = fd;
		c->events = EPOLLIN;
		c->last_ns = now;
		memcpy(c->client, client, 16);
		memcpy(c->addr, addr, 16);
		c->in = mem;
		c->out = mem + TCP_IN_CAP;
	}
}

/* The length of the complete message at in[off], or -1 if it has not all arrived yet. */
static long conn_msg_len(const struct tcp_conn *c, size_t off)
{
	if (c->in_len - off < 2)
		return -1;
	size_t len = (size_t)c->in[off] << 8 | c->in[off + 1];
	return c->in_len - off - 2 < len ? -1 : (long)len;
}

/* Frames a message of alen bytes written at dst + 2; an answer (not a transfer's later
 * message) is counted as one. */
static void conn_frame(struct dns_worker *w, struct tcp_conn *c, uint8_t *dst, size_t alen,
		       bool answer)
{
	dst[0] = (uint8_t)(alen >> 8);
	dst[1] = (uint8_t)alen;
	c->out_len += 2 + alen;
	if (!answer)
		return;
	dns_stat_add(&w->stats.answers, 1);
	dns_stat_answer(&w->stats, dst + 2, alen);
}

/* A zone transfer's next messages, while the output buffer has room. It goes out before
 * any later query is answered: its messages are one answer (RFC 5936 2.2). A failure closes
 * the connection once what is pending has gone. */
static void conn_xfr(struct dns_worker *w, struct tcp_conn *c)
{
	while (c->xfr && TCP_OUT_CAP - c->out_len >= 2 + DNS_MAX_MSG) {
		uint8_t *dst = c->out + c->out_len;
		bool done = false;
		size_t n = dns_xfr_next(c->xfr, dst + 2, DNS_MAX_MSG, &done);
		if (n == 0) {
			c->bad = true;
			done = true;
		} else {
			conn_frame(w, c, dst, n, false);
			dns_stat_add(&w->stats.xfr_messages, 1);
		}
		if (done) {
			dns_xfr_free(c->xfr);
			c->xfr = NULL;
		}
	}
}

/* Answers, in order, every complete message that has room in the output buffer; a transfer
 * request starts a transfer, which the queries after it wait for. */
static void conn_serve(struct dns_worker *w, struct tcp_conn *c)
{
	const struct zone_snapshot *snap;
	size_t off = 0;
	long len;

	if (c->out_off > 0) { /* keep the free room at the end */
		memmove(c->out, c->out + c->out_off, c->out_len);
		c->out_off = 0;
	}
	conn_xfr(w, c);
	if (c->xfr || c->bad || conn_msg_len(c, 0) < 0)
		return;
	zone_read_lock();
	snap = zone_current(w->srv->zone);
	const struct dns_limits *lim = dns_limits_current(w);
	while (TCP_OUT_CAP - c->out_len >= 2 + DNS_MAX_MSG && (len = conn_msg_len(c, off)) >= 0) {
		if (len == 0) {
			c->bad = true; /* not a DNS message; nothing after it can be trusted */
			break;
		}
		uint8_t *dst = c->out + c->out_len;
		const uint8_t *q = c->in + off + 2;
		size_t alen = 0;
		struct dns_xfr *x = NULL;
		int v = dns_xfr_request(&w->srv->cfg, snap, zone_handle_journal(w->srv->zone),
					c->addr, q, (size_t)len, dst + 2, DNS_MAX_MSG, &alen, &x);
		if (v == DNS_XFR_NOT) {
			/* Usage limits hold over TCP too; rate limiting does not (a TCP client's
			 * address is not forged). */
			enum dns_client_mode mode = DNS_CLIENT_NORMAL;
			if (lim->usage || lim->public_resolvers)
				mode = dns_limits_mode(w, lim, c->addr, time_now() / 86400);
			alen = dns_answer_client(w->ctx, snap, q, (size_t)len, dst + 2, DNS_MAX_MSG,
						 true, mode, NULL);
			if (alen > 0 && w->srv->cfg.xfr.key.set)
				alen = dns_tsig_wrap(&w->srv->cfg.xfr.key, q, (size_t)len, dst + 2,
						     alen, DNS_MAX_MSG);
		} else {
			dns_stat_add(v == DNS_XFR_STARTED ? &w->stats.xfr_started
							 : &w->stats.xfr_answered, 1);
		}
		dns_stat_add(&w->stats.queries, 1);
		if (alen > 0)
			conn_frame(w, c, dst, alen, true);
		else if (v != DNS_XFR_STARTED)
			dns_stat_add(&w->stats.dropped, 1);
		off += 2 + (size_t)len;
		if (v == DNS_XFR_STARTED) {
			c->xfr = x;
			break;
		}
	}
	zone_read_unlock();
	c->in_len -= off;
	memmove(c->in, c->in + off, c->in_len);
	if (off > 0)
		c->query_ns = 0; /* what is left, if anything, is the next query's */
	if (w->xfr_only || !w->srv->xfr) /* else the transfer thread sends it */
		conn_xfr(w, c);
}

/* Writes what is pending; false when the connection failed. */
static bool conn_flush(struct tcp_conn *c, uint64_t now)
{
	while (c->out_len > 0) {
		/* MSG_NOSIGNAL: a client gone away is EPIPE here, never a SIGPIPE. */
		ssize_t r = send(c->fd, c->out + c->out_off, c->out_len, MSG_NOSIGNAL);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->out_off += (size_t)r;
		c->out_len -= (size_t)r;
		c->last_ns = now;
	}
	c->out_off = 0;
	return true;
}

static bool conn_hand_over(struct dns_worker *w, struct tcp_state *t, struct tcp_conn *c);

static void conn_event(struct dns_worker *w, struct tcp_state *t, struct tcp_conn *c,
		       uint32_t events, uint64_t now)
{
	if (events & EPOLLERR)
		goto close;
	if ((events & (EPOLLIN | EPOLLHUP)) && !c->eof && !c->bad && c->in_len < TCP_IN_CAP) {
		ssize_t r = read(c->fd, c->in + c->in_len, TCP_IN_CAP - c->in_len);
		if (r > 0) {
			c->in_len += (size_t)r;
			c->last_ns = now;
		} else if (r == 0) {
			c->eof = true;
		} else if (errno != EAGAIN && errno != EINTR) {
			goto close;
		}
	}
	/* A transfer gets a bounded turn (about 16 KiB a message), then the other connections
	 * theirs: EPOLLOUT brings it back at once when the socket has room. */
	for (unsigned turn = 0; turn < TCP_XFR_TURN; turn++) {
		conn_serve(w, c);
		if (c->xfr && conn_hand_over(w, t, c))
			return;
		if (!conn_flush(c, now))
			goto close;
		/* Stop when the client is slow to read, or when nothing more can be answered. */
		if (c->out_len > 0 || c->bad || (!c->xfr && conn_msg_len(c, 0) < 0))
			break;
	}
	if ((c->eof || c->bad) && c->out_len == 0 && !c->xfr)
		goto close;
	/* A part of a query left: its deadline runs from the read that brought its first byte
	 * (this one, or an earlier one). Whole queries waiting for room to answer are not. */
	if (c->in_len == 0 || conn_msg_len(c, 0) >= 0)
		c->query_ns = 0;
	else if (c->query_ns == 0)
		c->query_ns = now;

	uint32_t want = 0;
	if (!c->eof && !c->bad && c->out_len < TCP_OUT_PENDING && c->in_len < TCP_IN_CAP)
		want |= EPOLLIN;
	if (c->out_len > 0 || c->xfr)
		want |= EPOLLOUT;
	if (want != c->events) {
		struct epoll_event ev = {.events = want, .data.u64 = (uint64_t)(c - t->conns)};
		if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
			goto close;
		c->events = want;
	}
	return;
close:
	conn_close(t, c);
}

/* Closes connections idle for longer than tcp_idle_ms, including one that sent half a
 * message and stalled, and one that stopped reading its answers; and one whose query in
 * progress began tcp_query_ms ago, however often its bytes trickle in (each byte restarts the
 * idle clock, so the idle timeout alone would keep a byte-a-second client for ever). */
static void tcp_reap(struct dns_worker *w, struct tcp_state *t, uint64_t now)
{
	if (now < t->next_scan_ns || t->n_open == 0)
		return;
	t->next_scan_ns = now + (uint64_t)TCP_TICK_MS * 1000000u;
	for (unsigned i = 0; i < t->max; i++) {
		struct tcp_conn *c = &t->conns[i];
		if (c->fd < 0)
			continue;
		if (c->query_ns && now - c->query_ns >= t->query_ns) {
			dns_stat_add(&w->stats.tcp_query_timeouts, 1);
			tcp_limit_hit(t, TCP_LIMIT_QUERY, c->client, 0, now - c->query_ns, now);
			conn_close(t, c);
		} else if (now - c->last_ns >= t->idle_ns) {
			conn_close(t, c);
		}
	}
}

/* ---- the transfer thread ------------------------------------------------------------
 * A connection whose request started a transfer moves, whole (socket, buffers, the transfer),
 * from the TCP thread to the transfer thread, which runs this same loop at nice DNS_XFR_NICE
 * and keeps the connection until it closes. */

int dns_tcp_handoff_init(struct dns_server *srv)
{
	pthread_mutex_init(&srv->handoff.mu, NULL);
	srv->handoff.n = 0;
	srv->handoff.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return srv->handoff.efd >= 0 ? DNS_OK : DNS_EIO;
}

static void handed_close(struct tcp_conn *c)
{
	close(c->fd);
	dns_xfr_free(c->xfr);
	free(c->in);
	free(c);
}

void dns_tcp_handoff_free(struct dns_server *srv)
{
	if (srv->handoff.efd < 0)
		return;
	for (unsigned i = 0; i < srv->handoff.n; i++)
		handed_close(srv->handoff.conn[i]);
	srv->handoff.n = 0;
	close(srv->handoff.efd);
	srv->handoff.efd = -1;
	pthread_mutex_destroy(&srv->handoff.mu);
}

/* On the TCP thread: c, which has a transfer to send, goes to the transfer thread. False when
 * there is none or its queue is full: c then stays and is served here. */
static bool conn_hand_over(struct dns_worker *w, struct tcp_state *t, struct tcp_conn *c)
{
	struct dns_server *srv = w->srv;
	if (w->xfr_only || !srv->xfr || srv->handoff.efd < 0)
		return false;
	struct tcp_conn *copy = malloc(sizeof *copy);
	if (!copy)
		return false;
	pthread_mutex_lock(&srv->handoff.mu);
	bool room = srv->handoff.n < DNS_HANDOFF_MAX;
	if (room) {
		(void)epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
		*copy = *c;
		srv->handoff.conn[srv->handoff.n++] = copy;
	}
	pthread_mutex_unlock(&srv->handoff.mu);
	if (!room) {
		free(copy);
		return false;
	}
	uint64_t one = 1;
	(void)!write(srv->handoff.efd, &one, sizeof one);
	/* The slot is free again; the socket and the buffers now belong to the copy. */
	uint64_t slot = (uint64_t)(c - t->conns);
	for (unsigned i = t->ev_next; i < t->n_ev; i++)
		if (t->ev[i].data.u64 == slot)
			t->ev[i].data.u64 = TCP_STALE;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	t->free_slots[t->n_free++] = (unsigned)slot;
	t->n_open--;
	return true;
}

/* On the transfer thread: the connections waiting in the handoff queue, each into a slot. */
static void conn_adopt(struct dns_worker *w, struct tcp_state *t, uint64_t now)
{
	struct dns_server *srv = w->srv;
	uint64_t v;
	(void)!read(srv->handoff.efd, &v, sizeof v);
	pthread_mutex_lock(&srv->handoff.mu);
	unsigned n = srv->handoff.n;
	void *got[DNS_HANDOFF_MAX];
	memcpy(got, srv->handoff.conn, n * sizeof got[0]);
	srv->handoff.n = 0;
	pthread_mutex_unlock(&srv->handoff.mu);
	for (unsigned i = 0; i < n; i++) {
		struct tcp_conn *h = got[i];
		if (t->n_free == 0) {
			log_warn("dns", "transfer dropped reason=transfer_table_full conns=%u", t->n_open);
			handed_close(h);
			continue;
		}
		struct tcp_conn *c = &t->conns[t->free_slots[t->n_free - 1]];
		*c = *h;
		free(h);
		c->last_ns = now;
		c->events = EPOLLIN | EPOLLOUT;
		struct epoll_event ev = {.events = c->events, .data.u64 = (uint64_t)(c - t->conns)};
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
			close(c->fd);
			dns_xfr_free(c->xfr);
			free(c->in);
			memset(c, 0, sizeof(*c));
			c->fd = -1;
			continue;
		}
		t->n_free--;
		t->n_open++;
	}
}

void *dns_tcp_main(void *arg)
{
	struct dns_worker *w = arg;
	struct dns_server *srv = w->srv;
	struct tcp_state *t = w->io;

	zone_reader_register();
	/* Below the DNS workers: a transfer's CPU time is what the workers' core can spare. A
	 * thread's own nice value (Linux: setpriority on its thread id); raising it needs no
	 * privilege. */
	if (w->xfr_only && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), DNS_XFR_NICE) != 0)
		log_warn("dns", "transfer thread priority not lowered error=\"%s\"", strerror(errno));
	while (!atomic_load_explicit(&srv->stop, memory_order_relaxed)) {
		int n = epoll_wait(t->ep, t->ev, TCP_EVENTS, TCP_TICK_MS);
		uint64_t now = time_mono_ns();
		t->n_ev = n > 0 ? (unsigned)n : 0;
		for (t->ev_next = 0; t->ev_next < t->n_ev;) {
			uint64_t d = t->ev[t->ev_next].data.u64;
			uint32_t events = t->ev[t->ev_next++].events;
			if (d == TCP_STALE)
				continue;
			if (d == TCP_HANDOFF)
				conn_adopt(w, t, now);
			else if (d & TCP_LISTENER)
				tcp_accept(w, t, srv->tcp_fd[d & 0xffffffffu], now);
			else if (t->conns[d].fd >= 0)
				conn_event(w, t, &t->conns[d], events, now);
		}
		tcp_reap(w, t, now);
		tcp_limit_flush(t, now);
		if (t->paused && now >= t->resume_ns)
			tcp_listen_pause(w, t, false, now);
	}
	zone_reader_unregister();
	return NULL;
}
