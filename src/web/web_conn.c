/* web_conn.c - the HTTP connections the server holds, as libmicrohttpd's notifications tell
 * of them: whom each counts against and since when it has owed a whole request, so that a
 * request that trickles in is closed at http_request_timeout, the connections of one client (an
 * IPv4 address or an IPv6 /64) are limited, and a full table closes the slowest for a newcomer.
 *
 * libmicrohttpd 0.9.75 restarts a connection's idle timer at every byte, counts its per-IP
 * limit by whole addresses and refuses a newcomer when its table is full, whoever fills it; so
 * the server keeps its own table and closes connections itself. It cannot close them through
 * MHD from another thread; it shuts their socket down (shutdown(2)), MHD's next read sees the
 * end, and MHD closes the connection as any other ended by its client. That is safe only while
 * the descriptor is still the connection's: MHD calls the CLOSED notification before it closes
 * the descriptor (daemon.c, MHD_cleanup_connections and new_connection_process_'s cleanup:
 * notify_connection(..., MHD_CONNECTION_NOTIFY_CLOSED) precedes MHD_socket_close_chk_), and the
 * notification takes the table's lock to remove the entry; every shutdown here happens under
 * that lock with the entry in the table. So a descriptor is never shut down after its close,
 * nor once it is reused by another connection. */
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "web_internal.h"

/* How often the timer looks for requests past their time: the deadline is whole seconds, so
 * a quarter of one late at most. */
#define WEB_CONN_TICK_MS 250
/* A limit hit is logged at once, then at most once per this long per kind. */
#define WEB_CONN_LOG_EVERY_NS (5ull * 1000000000u)

struct web_conn {
	struct web_conn *prev, *next;
	int fd;
	uint8_t client[16]; /* ip_client_key */
	uint64_t since_ns;  /* accept, or the end of the previous request: the request's clock */
	bool whole;         /* the request has come whole and is being answered: no clock */
	bool closing;       /* shut down here; gone from the counts, MHD closes it next */
};

/* The limits a connection can meet; each kind is logged on its own schedule. */
enum web_conn_limit {
	WEB_LIMIT_CLIENT,  /* its client holds http_max_conns_per_ip already: refused */
	WEB_LIMIT_EVICT,   /* the table full: the slowest request closed for a newcomer */
	WEB_LIMIT_FULL,    /* the table full, every connection being answered: refused */
	WEB_LIMIT_TIMEOUT, /* a request not whole http_request_timeout after its clock began */
	WEB_LIMIT_KINDS
};

/* One kind's log: a line for the first event, then at most one per WEB_CONN_LOG_EVERY_NS,
 * which describes the latest event and counts those that no line described. */
struct web_conn_log {
	uint64_t last_ns;   /* when a line of this kind was last written; 0: never */
	uint64_t pending;   /* events since that line */
	uint8_t client[16]; /* the latest event's client: refused, or closed */
	unsigned conns;     /* ... that client's connections (CLIENT) or the table's */
	uint64_t waited_ms; /* ... EVICT, TIMEOUT: how long the closed one's request had taken */
};

struct web_conns {
	pthread_mutex_t lock; /* all below, and every shutdown of a descriptor in the table */
	pthread_cond_t wake;
	pthread_t timer;
	bool timer_made, stop;
	struct web_conn *head;
	unsigned n_live;      /* in the table and not closing */
	unsigned max, per_client;
	uint64_t deadline_ns;
	struct web_conn_log logs[WEB_LIMIT_KINDS];
	struct web_server *srv;
};

static void conn_log_write(struct web_conns *t, enum web_conn_limit kind, uint64_t now)
{
	struct web_conn_log *l = &t->logs[kind];
	char who[IP_PREFIX_STRLEN];
	unsigned long long suppressed = l->pending - 1;
	ip_client_format(l->client, who);
	if (kind == WEB_LIMIT_CLIENT)
		log_warn("web", "http refused reason=client_limit client=%s conns=%u limit=%u "
			 "suppressed=%llu", who, l->conns, t->per_client, suppressed);
	else if (kind == WEB_LIMIT_EVICT)
		log_warn("web", "http closed slow reason=table_full client=%s waited_ms=%llu conns=%u "
			 "limit=%u suppressed=%llu", who, (unsigned long long)l->waited_ms, l->conns,
			 t->max, suppressed);
	else if (kind == WEB_LIMIT_FULL)
		log_warn("web", "http refused reason=table_full_busy client=%s conns=%u limit=%u "
			 "suppressed=%llu", who, l->conns, t->max, suppressed);
	else
		log_warn("web", "http closed slow reason=request_timeout client=%s waited_ms=%llu "
			 "limit_ms=%llu suppressed=%llu", who, (unsigned long long)l->waited_ms,
			 (unsigned long long)(t->deadline_ns / 1000000u), suppressed);
	l->last_ns = now;
	l->pending = 0;
}

/* Records one limit hit (the lock held); written at once unless a line of its kind went out
 * less than WEB_CONN_LOG_EVERY_NS ago (then the timer writes it later, with the count). */
static void conn_log_hit(struct web_conns *t, enum web_conn_limit kind, const uint8_t client[16],
			 unsigned conns, uint64_t waited_ns, uint64_t now)
{
	struct web_conn_log *l = &t->logs[kind];
	memcpy(l->client, client, 16);
	l->conns = conns;
	l->waited_ms = waited_ns / 1000000u;
	l->pending++;
	atomic_fetch_add(&t->srv->limits, 1);
	if (l->last_ns == 0 || now - l->last_ns >= WEB_CONN_LOG_EVERY_NS)
		conn_log_write(t, kind, now);
}

/* Ends c's connection (the lock held, c in the table): MHD reads the end and closes it. */
static void conn_shut(struct web_conns *t, struct web_conn *c)
{
	(void)shutdown(c->fd, SHUT_RDWR);
	c->closing = true;
	t->n_live--;
}

/* Whether a newcomer from client gets in (the lock held). Past its client's limit it does not.
 * In a full table the connection whose request has taken the longest is closed for it (one
 * waiting for a request since it connected or since its last answer, or one whose request is
 * still coming in, counted from the same start), so that slow or idle connections, however
 * many, never lock others out; only when every connection is being answered is the newcomer
 * turned away. */
static bool conn_admit(struct web_conns *t, const uint8_t client[16], uint64_t now)
{
	bool full = t->n_live >= t->max;
	/* Fewer open than the per-client limit: no client can be at it, nothing to count. */
	bool count = t->per_client < t->max && t->n_live >= t->per_client;
	if (!full && !count)
		return true;
	/* One pass: at most http_max_conns live entries (and the few closing), only when the
	 * table holds more than a client may; the timer walks it four times a second anyway. */
	unsigned mine = 0;
	struct web_conn *slowest = NULL;
	for (struct web_conn *c = t->head; c; c = c->next) {
		if (c->closing)
			continue;
		mine += memcmp(c->client, client, 16) == 0;
		if (!c->whole && (!slowest || c->since_ns < slowest->since_ns))
			slowest = c;
	}
	if (count && mine >= t->per_client) {
		conn_log_hit(t, WEB_LIMIT_CLIENT, client, mine, 0, now);
		return false;
	}
	if (!full)
		return true;
	if (!slowest) {
		conn_log_hit(t, WEB_LIMIT_FULL, client, t->n_live, 0, now);
		return false;
	}
	conn_log_hit(t, WEB_LIMIT_EVICT, slowest->client, t->n_live, now - slowest->since_ns, now);
	conn_shut(t, slowest);
	return true;
}

static void conn_started(struct web_conns *t, struct MHD_Connection *mc, void **ctx)
{
	const union MHD_ConnectionInfo *fi =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *ai =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	uint8_t ip[16] = {0};
	*ctx = NULL;
	if (!fi)
		return; /* cannot happen in 0.9.75: the descriptor is there from the accept */
	if (ai && ai->client_addr)
		sockaddr_ip(ai->client_addr, ip);
	struct web_conn *c = calloc(1, sizeof(*c));
	uint64_t now = time_mono_ns();
	pthread_mutex_lock(&t->lock);
	if (!c) {
		/* Not in the table, so never closed by it: closed now rather than uncounted. */
		(void)shutdown(fi->connect_fd, SHUT_RDWR);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	ip_client_key(ip, c->client);
	if (!conn_admit(t, c->client, now)) {
		/* The descriptor is this connection's for the whole call (MHD closes it after its
		 * CLOSED notification, which has not come): closed at once, without an answer. */
		(void)shutdown(fi->connect_fd, SHUT_RDWR);
		pthread_mutex_unlock(&t->lock);
		free(c);
		return;
	}
	c->fd = fi->connect_fd;
	c->since_ns = now;
	c->next = t->head;
	if (t->head)
		t->head->prev = c;
	t->head = c;
	t->n_live++;
	pthread_mutex_unlock(&t->lock);
	*ctx = c;
}

static void conn_closed(struct web_conns *t, void **ctx)
{
	struct web_conn *c = *ctx;
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (!c->closing)
		t->n_live--;
	pthread_mutex_unlock(&t->lock);
	free(c);
	*ctx = NULL;
}

void web_conn_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
		     enum MHD_ConnectionNotificationCode code)
{
	struct web_server *srv = cls;
	if (!srv->conns)
		return;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		conn_started(srv->conns, mc, socket_context);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		conn_closed(srv->conns, socket_context);
}

static struct web_conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i ? i->socket_context : NULL;
}

void web_conn_request_whole(struct web_server *srv, struct MHD_Connection *mc)
{
	struct web_conn *c = conn_of(mc);
	if (!srv->conns || !c)
		return;
	pthread_mutex_lock(&srv->conns->lock);
	c->whole = true;
	pthread_mutex_unlock(&srv->conns->lock);
}

void web_conn_request_ended(struct web_server *srv, struct MHD_Connection *mc)
{
	struct web_conn *c = conn_of(mc);
	if (!srv->conns || !c)
		return;
	uint64_t now = time_mono_ns();
	pthread_mutex_lock(&srv->conns->lock);
	c->whole = false;
	c->since_ns = now;
	pthread_mutex_unlock(&srv->conns->lock);
}

/* Closes the connections whose request is not whole http_request_timeout after its clock
 * began (the lock held), and writes the log lines held back. MHD's own timeout cannot do it:
 * each byte that comes restarts it. */
static void conn_reap(struct web_conns *t, uint64_t now)
{
	for (struct web_conn *c = t->head; c; c = c->next) {
		if (c->closing || c->whole || now - c->since_ns < t->deadline_ns)
			continue;
		conn_log_hit(t, WEB_LIMIT_TIMEOUT, c->client, 0, now - c->since_ns, now);
		conn_shut(t, c);
	}
	for (unsigned k = 0; k < WEB_LIMIT_KINDS; k++)
		if (t->logs[k].pending > 0 && now - t->logs[k].last_ns >= WEB_CONN_LOG_EVERY_NS)
			conn_log_write(t, (enum web_conn_limit)k, now);
}

static void *conn_timer(void *arg)
{
	struct web_conns *t = arg;
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += WEB_CONN_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		int rc = 0;
		while (!t->stop && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&t->wake, &t->lock, &ts);
		if (!t->stop)
			conn_reap(t, time_mono_ns());
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int web_conns_start(struct web_server *srv)
{
	struct web_conns *t = calloc(1, sizeof(*t));
	if (!t)
		return WEB_ENOMEM;
	t->srv = srv;
	t->max = srv->cfg.max_conns;
	t->per_client = srv->cfg.max_conns_per_ip ? srv->cfg.max_conns_per_ip : t->max;
	if (t->per_client > t->max)
		t->per_client = t->max;
	t->deadline_ns = (uint64_t)srv->cfg.request_timeout_s * 1000000000u;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the deadline is on that clock */
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	srv->conns = t;
	if (pthread_create(&t->timer, NULL, conn_timer, t) != 0)
		return WEB_ENOMEM; /* web_conns_stop frees it */
	pthread_setname_np(t->timer, "tl-webconn");
	t->timer_made = true;
	return WEB_OK;
}

void web_conns_stop(struct web_server *srv)
{
	struct web_conns *t = srv->conns;
	if (!t)
		return;
	if (t->timer_made) {
		pthread_mutex_lock(&t->lock);
		t->stop = true;
		pthread_cond_signal(&t->wake);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->timer, NULL);
	}
	/* The daemons have stopped: every connection's CLOSED came and emptied the table. */
	while (t->head) {
		struct web_conn *c = t->head;
		t->head = c->next;
		free(c);
	}
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
	srv->conns = NULL;
}
