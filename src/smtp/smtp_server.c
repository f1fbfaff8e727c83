/* smtp_server.c - the trap's network side: one libevent loop on its own thread holds every
 * session (no thread per connection, so slow clients cost a buffer, not a thread), runs the
 * dialogue over the bytes read, starts TLS with OpenSSL bufferevents, reads PROXY headers
 * from trusted load balancers, and acknowledges a message only once its sink (the writer, or a
 * trap node's spool) committed it. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/evp.h>

#include "mail/mail.h"
#include "smtp_internal.h"

_Static_assert((int)MAIL_CLASS_BOUNCE == (int)STORE_CLASS_BOUNCE &&
		       (int)MAIL_CLASS_AUTOREPLY == (int)STORE_CLASS_AUTOREPLY &&
		       (int)MAIL_CLASS_VIRUS == (int)STORE_CLASS_VIRUS &&
		       (int)MAIL_CLASS_SPAM == (int)STORE_CLASS_SPAM,
	       "mail and store classes share their numbers");

#define IPC_BUCKETS 4096
#define STOP_WAIT_S 10    /* the most stop waits for the writer to answer held messages */
#define LINGER_MS 10      /* a closing TLS session checks this often that its bytes left */
#define LINGER_TRIES 100
/* Replies waiting for a client that sends commands and does not read them: past this, its
 * commands wait (no more are read) until the replies are taken. A pipelining client has a
 * transaction's few replies in flight (RFC 2920); without the stop, one that never read would
 * make the trap hold its replies at the rate it can send commands. */
#define OUT_MAX (64 * 1024)
#define LOG_EVERY_NS 10000000000ull /* a limit is logged once per 10 s, with a count */
#define NS 1000000000ull
/* A message that has not grown for this long is stalled, and the first to go when the budget
 * of message bytes is spent: a transfer that is alive moves sooner, since even a lossy path
 * retransmits within a second (RFC 6298's initial RTO), loopback and LANs far sooner. */
#define STALL_NS (2 * NS)
/* Callbacks deferred to the loop: a write into a TLS bufferevent can fail at once, and a
 * callback run from inside our own call could free the session under our feet. */
#define BEV_OPTS (BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)

struct smtp_session {
	struct smtp_server *srv;
	struct bufferevent *bev;   /* NULL once the connection is gone */
	struct smtp_dialog *dlg;
	uint8_t ip[16];            /* the client: the PROXY header's behind a trusted proxy */
	uint8_t client[16];        /* whom smtp_max_per_ip counts it against (ip_client_key) */
	char ip_text[IP_STRLEN];
	bool proxy_wait;           /* a trusted proxy's header is awaited */
	bool ip_counted;
	bool pending;              /* the writer holds its message */
	bool closing;              /* sending what is left, then gone */
	bool data_timeouts;        /* the timeouts in force are DATA's */
	bool out_full;             /* reading stopped until the replies are taken (OUT_MAX) */
	struct event *linger;      /* closing, or out_full, inside TLS: a look every LINGER_MS */
	unsigned linger_n;
	/* The clocks of the limits (time_mono_ns). clock_ns starts the current command line's
	 * smtp_command_timeout (at the previous reply), or, inside DATA, the message's (at the
	 * 354); the deadline event fires at the earliest the limit could be due and looks again,
	 * so that progress costs no event_add. */
	struct event *deadline;
	uint64_t clock_ns;
	uint64_t commands;         /* the dialogue's count of command lines at the last look */
	uint64_t data_bytes;       /* bytes of the message at the last look */
	uint64_t grown_ns;         /* when the message last grew */
	uint64_t active_ns;        /* last progress: the list is kept in this order */
	size_t held;               /* bytes of message buffer its dialogue holds */
	struct smtp_session *prev, *next; /* srv->sessions: the most recently active first */
	/* What the writer reads until it answers (writer_event.trap is not copied). */
	struct writer_event ev;
	struct store_trap_hit hit;
	char *rcpts;
	unsigned n_rcpts;
	bool tls;
	char signals[256];
};

struct ip_count {
	uint8_t ip[16];
	unsigned n;
	struct ip_count *next;
};

struct done_item {
	struct smtp_session *s;
	int result;
};

enum limit_kind {
	LIM_SESSIONS, LIM_IDLEST, LIM_PER_IP, LIM_PROXY, LIM_STORE, LIM_ACCEPT, LIM_COMMAND,
	LIM_DATA_RATE, LIM_MEMORY, LIM_MEMORY_REFUSED, LIM_REPLIES, LIM_SPECIAL, LIM_COUNT
};

struct smtp_server {
	struct smtp_server_config cfg;
	struct smtp_dialog_config dcfg;
	struct event_base *base;
	struct evconnlistener *listeners[SMTP_LISTEN_MAX];
	unsigned n_listeners;
	struct event *accept_pause;
	SSL_CTX *tls;
	struct smtp_sink sink;   /* the writer, or a trap node's spool */
	pthread_t thread;
	bool started;
	/* the writer's answers, handed over to the loop through an eventfd */
	int efd;
	struct event *efd_ev;
	pthread_mutex_t mtx;
	struct done_item *done;
	size_t done_n, done_cap;
	bool stop;      /* under mtx: smtp_server_stop asked */
	struct smtp_server_config *reload; /* under mtx: a reload's settings for the loop */
	bool stopping;  /* loop: sessions closed, waiting for held messages */
	bool stuck;     /* the writer did not answer in time: srv must never be freed */
	struct event *stop_timer;
	/* loop-thread state */
	struct smtp_session *sessions, *sessions_tail;
	unsigned n_sessions, n_pending;
	size_t held;    /* bytes of message buffers of every session (smtp_memory_max) */
	struct ip_count *ipc[IPC_BUCKETS];
	uint64_t lim_last[LIM_COUNT];
	unsigned lim_suppressed[LIM_COUNT];
	atomic_ullong st_sessions, st_messages, st_deferred, st_refused;
};

static void session_process(struct smtp_session *s);

/* ---- small helpers -------------------------------------------------------------------- */

/* A limit that was hit, logged at most once per LOG_EVERY_NS per kind (STYLE.md 13). */
static void __attribute__((format(printf, 3, 4)))
limit_log(struct smtp_server *srv, enum limit_kind k, const char *fmt, ...)
{
	uint64_t now = time_mono_ns();
	if (srv->lim_last[k] && now - srv->lim_last[k] < LOG_EVERY_NS) {
		srv->lim_suppressed[k]++;
		return;
	}
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_warn("smtp", "%s suppressed=%u", msg, srv->lim_suppressed[k]);
	srv->lim_last[k] = now;
	srv->lim_suppressed[k] = 0;
}

static void ip_of_sockaddr(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		ip_from_v4(ntohl(in->sin_addr.s_addr), out);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	}
}

static bool proxy_trusted(const struct smtp_server *srv, const uint8_t ip[16])
{
	for (unsigned i = 0; i < srv->cfg.n_proxy_trusted; i++)
		if (ip_prefix_covers(&srv->cfg.proxy_trusted[i], ip))
			return true;
	return false;
}

/* ---- sessions per client address ------------------------------------------------------- */

static struct ip_count **ipc_slot(struct smtp_server *srv, const uint8_t ip[16])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	struct ip_count **p = &srv->ipc[h & (IPC_BUCKETS - 1)];
	while (*p && memcmp((*p)->ip, ip, 16) != 0)
		p = &(*p)->next;
	return p;
}

/* True when client (an ip_client_key) has max_per_ip sessions already. */
static bool ipc_full(struct smtp_server *srv, const uint8_t client[16])
{
	struct ip_count **p = ipc_slot(srv, client);
	return *p && (*p)->n >= srv->cfg.max_per_ip;
}

/* Counts one more session from ip (an ip_client_key); false (nothing counted) at max_per_ip. */
static bool ipc_take(struct smtp_server *srv, const uint8_t ip[16])
{
	struct ip_count **p = ipc_slot(srv, ip);
	if (*p && (*p)->n >= srv->cfg.max_per_ip)
		return false;
	if (!*p) {
		*p = calloc(1, sizeof **p);
		if (!*p)
			return false;
		memcpy((*p)->ip, ip, 16);
	}
	(*p)->n++;
	return true;
}

static void ipc_release(struct smtp_server *srv, const uint8_t ip[16])
{
	struct ip_count **p = ipc_slot(srv, ip);
	if (*p && --(*p)->n == 0) {
		struct ip_count *dead = *p;
		*p = dead->next;
		free(dead);
	}
}

/* ---- session life ---------------------------------------------------------------------- */

static void list_unlink(struct smtp_session *s)
{
	struct smtp_server *srv = s->srv;
	if (s->prev)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		srv->sessions_tail = s->prev;
	s->prev = s->next = NULL;
}

static void list_push(struct smtp_session *s)
{
	struct smtp_server *srv = s->srv;
	s->prev = NULL;
	s->next = srv->sessions;
	if (s->next)
		s->next->prev = s;
	else
		srv->sessions_tail = s;
	srv->sessions = s;
}

/* The session made progress: it moves to the head of the list, so that the tail is always
 * the one idle the longest (smtp_max_sessions) without a search. */
static void session_touch(struct smtp_session *s, uint64_t now)
{
	s->active_ns = now;
	if (s->srv->sessions != s) {
		list_unlink(s);
		list_push(s);
	}
}

static void session_free(struct smtp_session *s)
{
	list_unlink(s);
	if (s->linger)
		event_free(s->linger);
	if (s->deadline)
		event_free(s->deadline);
	smtp_dialog_free(s->dlg); /* its message buffer leaves the budget (session_mem) */
	free(s->rcpts);
	free(s);
}

/* The connection is gone (closed by us or the client). A session whose message the writer
 * holds stays until the answer comes: the writer reads its buffers until then. */
static void session_gone(struct smtp_session *s)
{
	struct smtp_server *srv = s->srv;
	if (s->bev) {
		bufferevent_free(s->bev);
		s->bev = NULL;
		__atomic_store_n(&srv->n_sessions, srv->n_sessions - 1, __ATOMIC_RELAXED);
		if (s->ip_counted)
			ipc_release(srv, s->client);
		s->ip_counted = false;
		event_del(s->deadline);
	}
	if (!s->pending)
		session_free(s);
}

static size_t output_left(struct smtp_session *s)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(s->bev));
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	if (under)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

static void out_resume(struct smtp_session *s);

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	if (s->out_full && !s->closing) { /* a TLS session's replies, looked at until taken */
		if (s->bev && output_left(s) > OUT_MAX / 2) {
			struct timeval tv = { 0, LINGER_MS * 1000 };
			event_add(s->linger, &tv);
		} else if (s->bev) {
			out_resume(s);
		}
		return;
	}
	if (!s->bev || output_left(s) == 0 || ++s->linger_n >= LINGER_TRIES) {
		session_gone(s);
		return;
	}
	struct timeval tv = { 0, LINGER_MS * 1000 };
	event_add(s->linger, &tv);
}

/* Sends what is left, then closes: the last reply (221, 421) reaches the client. */
static void session_close(struct smtp_session *s)
{
	if (!s->bev) {
		session_gone(s);
		return;
	}
	s->closing = true;
	event_del(s->deadline);
	bufferevent_disable(s->bev, EV_READ);
	if (output_left(s) == 0) {
		session_gone(s);
		return;
	}
	/* A TLS session's bytes pass through a second buffer that the write callback does not
	 * see: look at both every few milliseconds, a bounded number of times. */
	if (bufferevent_get_underlying(s->bev)) {
		if (!s->linger)
			s->linger = evtimer_new(s->srv->base, on_linger, s);
		if (!s->linger) {
			session_gone(s);
			return;
		}
		on_linger(-1, 0, s);
	}
}

/* The dialogue's replies to the client. A plain session with nothing queued sends them at
 * once: through the bufferevent every reply turned write interest on and off again, two
 * epoll changes for each of a message's four replies (perf, bench/smtp.sh). What the socket
 * does not take, and everything of a TLS session, goes through the bufferevent; an error is
 * left for it to find. */
static void flush_output(struct smtp_session *s)
{
	size_t len;
	const uint8_t *out = smtp_dialog_output(s->dlg, &len);
	if (len && s->bev && !bufferevent_get_underlying(s->bev) &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
		ssize_t n = send(bufferevent_getfd(s->bev), out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			out += n;
			len -= (size_t)n;
		}
	}
	if (len && s->bev)
		bufferevent_write(s->bev, out, len);
	smtp_dialog_output_clear(s->dlg);
}

/* libevent's read timeout starts again with every byte, so it only limits silence: inside
 * DATA it is smtp_data_timeout's; a command line's whole time is the deadline's (below). */
static void timeouts_set(struct smtp_session *s, bool data)
{
	struct timeval rd = { (time_t)s->srv->cfg.data_timeout_s, 0 };
	struct timeval wr = { (time_t)s->srv->cfg.command_timeout_s, 0 };
	bufferevent_set_timeouts(s->bev, data ? &rd : NULL, &wr);
	s->data_timeouts = data;
}

/* Closes a session for one of the server's limits: 421 code, its message not recorded. */
static void session_abort(struct smtp_session *s, const char *code, const char *why)
{
	smtp_dialog_abort(s->dlg, code, why);
	flush_output(s);
	session_close(s);
}

/* ---- the deadlines ---------------------------------------------------------------------- */

/* When the limit in force is due (UINT64_MAX: none): a command line's smtp_command_timeout
 * from the previous reply, however its bytes trickle in (slowloris); a message's
 * smtp_data_timeout from the 354 plus its bytes at smtp_data_min_rate. */
static uint64_t deadline_due(const struct smtp_session *s)
{
	const struct smtp_server_config *c = &s->srv->cfg;
	if (!s->data_timeouts)
		return s->clock_ns + c->command_timeout_s * NS;
	if (!c->data_min_rate)
		return UINT64_MAX;
	uint64_t b = s->data_bytes, r = c->data_min_rate;
	return s->clock_ns + c->data_timeout_s * NS + b / r * NS + b % r * NS / r;
}

static void deadline_arm(struct smtp_session *s, uint64_t now)
{
	uint64_t due = deadline_due(s);
	if (due == UINT64_MAX) {
		event_del(s->deadline);
		return;
	}
	uint64_t wait = due > now ? due - now : 0;
	struct timeval tv = { (time_t)(wait / NS), (suseconds_t)(wait % NS / 1000) };
	event_add(s->deadline, &tv);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	struct smtp_server *srv = s->srv;
	if (!s->bev || s->closing || s->pending)
		return; /* an answered message arms it again */
	uint64_t now = time_mono_ns();
	if (now < deadline_due(s)) { /* progress moved it on since it was armed */
		deadline_arm(s, now);
		return;
	}
	struct smtp_dialog_progress p;
	smtp_dialog_progress(s->dlg, &p);
	size_t partial = s->proxy_wait ? evbuffer_get_length(bufferevent_get_input(s->bev))
				       : p.line_bytes;
	if (s->data_timeouts)
		limit_log(srv, LIM_DATA_RATE,
			  "session closed ip=%s reason=\"smtp_data_min_rate %u\" bytes=%llu "
			  "seconds=%llu recorded=no",
			  s->ip_text, srv->cfg.data_min_rate, (unsigned long long)p.data_bytes,
			  (unsigned long long)((now - s->clock_ns) / NS));
	else if (partial)
		limit_log(srv, LIM_COMMAND,
			  "session closed ip=%s reason=\"smtp_command_timeout %u\" line_bytes=%zu",
			  s->ip_text, srv->cfg.command_timeout_s, partial);
	else /* plain silence: clients that die or give up do this all day */
		log_debug("smtp", "timeout ip=%s in_data=no", s->ip_text);
	smtp_dialog_timeout(s->dlg);
	flush_output(s);
	session_close(s);
}

/* After the dialogue consumed bytes: the clocks move with what it finished. A mode change
 * (DATA began or ended) re-arms the deadline; otherwise the deadline only ever moves later,
 * and on_deadline finds that out when it fires. */
static void session_progress(struct smtp_session *s)
{
	struct smtp_dialog_progress p;
	smtp_dialog_progress(s->dlg, &p);
	uint64_t now = time_mono_ns();
	bool data = smtp_dialog_in_data(s->dlg);
	if (data != s->data_timeouts) {
		timeouts_set(s, data);
		s->clock_ns = s->grown_ns = now;
		s->commands = p.commands;
		s->data_bytes = p.data_bytes;
		session_touch(s, now);
		deadline_arm(s, now);
		return;
	}
	bool moved = false;
	if (p.commands != s->commands) {
		s->commands = p.commands;
		s->clock_ns = now;
		moved = true;
	}
	if (data && p.data_bytes != s->data_bytes) {
		s->data_bytes = p.data_bytes;
		s->grown_ns = now;
		moved = true;
	}
	if (moved)
		session_touch(s, now);
}

/* ---- the budget of message bytes (smtp_memory_max) and the table of sessions ------------- */

/* Closes the sessions holding the most of a stalled message (not self's) until `more` bytes
 * fit in the budget or none is left: a client that sent part of a message and waits is the
 * cheapest way to hold the trap's memory, and the one that loses least when it goes. */
static void memory_make_room(struct smtp_server *srv, struct smtp_session *self, size_t more)
{
	uint64_t now = time_mono_ns();
	while (srv->held + more > srv->cfg.memory_max) {
		struct smtp_session *big = NULL;
		for (struct smtp_session *x = srv->sessions; x; x = x->next)
			if (x != self && x->bev && !x->closing && !x->pending && x->data_timeouts &&
			    x->held && now - x->grown_ns >= STALL_NS && (!big || x->held > big->held))
				big = x;
		if (!big)
			return;
		limit_log(srv, LIM_MEMORY,
			  "session closed ip=%s reason=\"smtp_memory_max %zu\" held=%zu "
			  "stalled_ms=%llu recorded=no",
			  big->ip_text, srv->cfg.memory_max, big->held,
			  (unsigned long long)((now - big->grown_ns) / 1000000));
		session_abort(big, "4.3.1", "insufficient system storage, your message stalled");
	}
}

/* The dialogue's account of its message buffer (smtp_dialog_mem_fn). */
static bool session_mem(void *arg, size_t from, size_t to)
{
	struct smtp_session *s = arg;
	struct smtp_server *srv = s->srv;
	if (to <= from) {
		srv->held -= from - to;
		s->held -= from - to;
		return true;
	}
	size_t more = to - from, was = srv->held;
	if (srv->held + more > srv->cfg.memory_max) {
		memory_make_room(srv, s, more);
		/* A new message waits for the room made: its client tries again (452), and by then
		 * the room is there, rather than a stalled session taking it back meanwhile. */
		if (from == 0 || srv->held + more > srv->cfg.memory_max) {
			limit_log(srv, LIM_MEMORY_REFUSED,
				  "%s ip=%s reason=\"smtp_memory_max %zu\" held=%zu",
				  from == 0 ? "DATA refused" : "message dropped", s->ip_text,
				  srv->cfg.memory_max, was);
			return false;
		}
	}
	srv->held += more;
	s->held += more;
	return true;
}

/* The table is full: the session idle the longest (the list's tail; never one whose message
 * the writer holds) makes way for a newcomer, so that clients that hold sessions without
 * using them cannot keep others out. false: none could go. */
static bool session_evict_idlest(struct smtp_server *srv)
{
	struct smtp_session *v = srv->sessions_tail;
	while (v && (!v->bev || v->closing || v->pending))
		v = v->prev;
	if (!v)
		return false;
	limit_log(srv, LIM_IDLEST,
		  "session closed ip=%s reason=\"smtp_max_sessions %u\" idle_ms=%llu "
		  "why=\"the idlest, for a newcomer\"",
		  v->ip_text, srv->cfg.max_sessions,
		  (unsigned long long)((time_mono_ns() - v->active_ns) / 1000000));
	session_abort(v, "4.7.0", "too many sessions, yours was idle the longest");
	return true;
}

/* ---- the writer's answers --------------------------------------------------------------- */

/* On the writer's thread: hand the answer to the loop and return at once. */
static void commit_done(void *arg, int result)
{
	struct smtp_session *s = arg;
	struct smtp_server *srv = s->srv;
	pthread_mutex_lock(&srv->mtx);
	if (srv->done_n == srv->done_cap) {
		size_t cap = srv->done_cap ? srv->done_cap * 2 : 64;
		struct done_item *g = realloc(srv->done, cap * sizeof *g);
		if (!g) {
			/* Cannot happen often; never lose an answer: wait for memory. */
			pthread_mutex_unlock(&srv->mtx);
			usleep(1000);
			commit_done(arg, result);
			return;
		}
		srv->done = g;
		srv->done_cap = cap;
	}
	srv->done[srv->done_n++] = (struct done_item){ s, result };
	pthread_mutex_unlock(&srv->mtx);
	uint64_t one = 1;
	ssize_t w = write(srv->efd, &one, sizeof one);
	(void)w; /* the counter cannot overflow at one write per answer */
}

static void answer(struct smtp_session *s, int result)
{
	struct smtp_server *srv = s->srv;
	s->pending = false;
	srv->n_pending--;
	free(s->rcpts);
	s->rcpts = NULL;
	if (result == WRITER_OK) {
		atomic_fetch_add_explicit(&srv->st_messages, 1, memory_order_relaxed);
		log_info("smtp", "hit ip=%s class=%s size=%llu rcpts=%u tls=%s signals=\"%s\"",
			 s->ip_text, store_class_name(s->ev.evidence.cls),
			 (unsigned long long)s->hit.size, s->n_rcpts, s->tls ? "yes" : "no",
			 s->signals);
	} else {
		atomic_fetch_add_explicit(&srv->st_deferred, 1, memory_order_relaxed);
		limit_log(srv, LIM_STORE, "message deferred ip=%s reason=\"%s\"", s->ip_text,
			  tl_strerror(result));
	}
	if (!s->bev) { /* the client left while the writer stored its message */
		session_free(s);
		return;
	}
	smtp_dialog_message_done(s->dlg, result == WRITER_OK);
	flush_output(s);
	/* The next command line's clock starts at this reply (message_post stopped the last). */
	s->clock_ns = time_mono_ns();
	deadline_arm(s, s->clock_ns);
	if (!s->out_full)
		bufferevent_enable(s->bev, EV_READ);
	session_process(s); /* commands pipelined behind DATA are waiting already */
}

static void stop_sessions(struct smtp_server *srv);

/* On the loop's thread: a reload's live settings replace the running ones. The sessions'
 * dialogues read the trap domains and addresses from srv->cfg's buffers, so they see the new
 * ones at their next RCPT; the sizes and counts apply to sessions that start after it. */
static void reload_apply(struct smtp_server *srv, struct smtp_server_config *n)
{
	struct smtp_server_config *c = &srv->cfg;
	memcpy(c->trap_domains, n->trap_domains, sizeof(c->trap_domains));
	memcpy(c->trap_addresses, n->trap_addresses, sizeof(c->trap_addresses));
	c->max_size = n->max_size;
	c->max_rcpts = n->max_rcpts;
	c->max_per_ip = n->max_per_ip;
	c->max_errors = n->max_errors;
	c->command_timeout_s = n->command_timeout_s;
	c->data_timeout_s = n->data_timeout_s;
	c->data_min_rate = n->data_min_rate;
	c->memory_max = n->memory_max;
	memcpy(c->proxy_trusted, n->proxy_trusted, sizeof(c->proxy_trusted));
	c->n_proxy_trusted = n->n_proxy_trusted;
	c->sample = n->sample;
	c->sample_days = n->sample_days;
	c->special_refused = n->special_refused;
	srv->dcfg.max_size = c->max_size;
	srv->dcfg.max_rcpts = c->max_rcpts;
	srv->dcfg.max_errors = c->max_errors;
	if (!c->trap_domains[0] && !c->trap_addresses[0])
		log_warn("smtp", "no trap_domains or trap_addresses: every recipient is refused");
	log_info("smtp", "reloaded trap_domains=\"%s\"", c->trap_domains);
	free(n);
}

int smtp_server_reload(struct smtp_server *srv, const struct config *cfg)
{
	if (!srv)
		return SMTP_OK;
	struct smtp_server_config *n = malloc(sizeof(*n));
	char err[CONFIG_ERR_MAX];
	bool enabled;
	if (!n)
		return SMTP_ENOMEM;
	if (smtp_server_config_make(cfg, n, &enabled, err, sizeof(err)) != SMTP_OK) {
		log_err("smtp", "reload refused reason=\"%s\"", err);
		free(n);
		return SMTP_EINVAL;
	}
	pthread_mutex_lock(&srv->mtx);
	free(srv->reload);
	srv->reload = n;
	pthread_mutex_unlock(&srv->mtx);
	uint64_t one = 1;
	ssize_t w = write(srv->efd, &one, sizeof one);
	(void)w;
	return SMTP_OK;
}

static void on_efd(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct smtp_server *srv = arg;
	uint64_t n;
	ssize_t r = read(fd, &n, sizeof n); /* first, so that no answer is left unannounced */
	(void)r;
	pthread_mutex_lock(&srv->mtx);
	struct done_item *items = srv->done;
	size_t count = srv->done_n;
	bool stop = srv->stop;
	struct smtp_server_config *reload = srv->reload;
	srv->reload = NULL;
	srv->done = NULL;
	srv->done_n = srv->done_cap = 0;
	pthread_mutex_unlock(&srv->mtx);
	for (size_t i = 0; i < count; i++)
		answer(items[i].s, items[i].result);
	free(items);
	if (reload)
		reload_apply(srv, reload);
	if (stop && !srv->stopping)
		stop_sessions(srv);
	if (srv->stopping && srv->n_pending == 0)
		event_base_loopbreak(srv->base);
}

/* ---- a message ------------------------------------------------------------------------ */

/* OpenSSL's SHA-256 (its assembly uses the CPU's SHA instructions), the algorithm fetched
 * once: EVP_sha256() looks it up on every call, and that with 32 snprintf calls for the hex
 * was a twentieth of the SMTP thread (perf, bench/smtp.sh). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void digest_hex(const uint8_t *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	out[0] = '\0';
	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || EVP_Digest(data, len, md, &mdlen, sha256_md, NULL) != 1 || mdlen != 32)
		return;
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

static char *rcpts_join(const struct smtp_message *m)
{
	size_t n = 1;
	for (unsigned i = 0; i < m->n_rcpts; i++)
		n += strlen(m->rcpts[i]) + 1;
	char *s = malloc(n), *p = s;
	if (!s)
		return NULL;
	for (unsigned i = 0; i < m->n_rcpts; i++)
		p += sprintf(p, "%s%s", i ? "\n" : "", m->rcpts[i]);
	*p = '\0';
	return s;
}

/* Classifies the message and hands it to the writer. false: it could not be queued. */
static bool message_post(struct smtp_session *s)
{
	struct smtp_server *srv = s->srv;
	struct smtp_message m;
	smtp_dialog_message(s->dlg, &m);
	struct mail_verdict v;
	if (mail_classify((const char *)m.data, m.len, m.mail_from, &v) != MAIL_OK)
		v = (struct mail_verdict){ .cls = MAIL_CLASS_SPAM };
	mail_signals_format(&v, s->signals, sizeof s->signals);
	s->rcpts = rcpts_join(&m);
	if (!s->rcpts)
		return false;
	struct store_evidence *e = &s->ev.evidence;
	memset(&s->ev, 0, sizeof s->ev);
	s->ev.type = WRITER_EV_EVIDENCE;
	memcpy(e->ip, s->ip, 16);
	e->kind = STORE_KIND_TRAP;
	e->cls = (enum store_class)v.cls;
	e->received_at = time_now();
	snprintf(e->source, sizeof e->source, "%s", m.n_rcpts ? m.rcpts[0] : "");
	digest_hex(m.data, m.len, e->digest);
	s->hit = (struct store_trap_hit){ .helo = m.helo, .mail_from = m.mail_from,
					  .rcpts = s->rcpts, .size = m.len,
					  .signals = s->signals };
	if (srv->cfg.sample != SMTP_SAMPLE_NONE) {
		s->hit.sample = (const char *)m.data;
		s->hit.sample_len = srv->cfg.sample == SMTP_SAMPLE_MESSAGE
					    ? m.len
					    : mail_header_length((const char *)m.data, m.len);
		s->hit.sample_until = e->received_at + (int64_t)srv->cfg.sample_days * 86400;
	}
	s->ev.trap = &s->hit;
	int rc = srv->sink.post(srv->sink.ctx, &s->ev, commit_done, s);
	if (rc != WRITER_OK) {
		atomic_fetch_add_explicit(&srv->st_deferred, 1, memory_order_relaxed);
		limit_log(srv, LIM_STORE, "message deferred ip=%s reason=\"%s\"", s->ip_text,
			  tl_strerror(rc));
		free(s->rcpts);
		s->rcpts = NULL;
		return false;
	}
	s->n_rcpts = m.n_rcpts;
	s->tls = m.tls;
	s->pending = true;
	srv->n_pending++;
	event_del(s->deadline); /* the writer's time is not the client's */
	return true;
}

/* ---- TLS --------------------------------------------------------------------------------- */

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

/* RFC 3207: the 220 is on its way in the clear; whatever the client sent after STARTTLS was
 * dropped by the caller (CVE-2011-0411's command injection); TLS starts on the same socket. */
static void tls_start(struct smtp_session *s)
{
	SSL *ssl = SSL_new(s->srv->tls);
	if (!ssl) {
		session_close(s);
		return;
	}
	bufferevent_set_timeouts(s->bev, NULL, NULL);
	struct bufferevent *t = bufferevent_openssl_filter_new(
		s->srv->base, s->bev, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPTS);
	if (!t) {
		SSL_free(ssl);
		session_close(s);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(t, 1);
	s->bev = t;
	smtp_dialog_tls_started(s->dlg);
	bufferevent_setcb(t, on_read, on_write, on_event, s);
	timeouts_set(s, false);
	/* The handshake and the new EHLO have one command's time (a handshake can trickle too). */
	s->clock_ns = time_mono_ns();
	deadline_arm(s, s->clock_ns);
	/* Last: enabling may run the handshake at once and a failure may free s in on_event. */
	bufferevent_enable(t, EV_READ | EV_WRITE);
}

/* ---- reading ------------------------------------------------------------------------------ */

/* Admits a session from s->ip under max_per_ip and greets it. false: refused and closing. */
static bool session_admit(struct smtp_session *s)
{
	struct smtp_server *srv = s->srv;
	ip_format(s->ip, s->ip_text);
	ip_client_key(s->ip, s->client);
	if (!ipc_take(srv, s->client)) {
		char who[IP_PREFIX_STRLEN];
		ip_client_format(s->client, who);
		limit_log(srv, LIM_PER_IP,
			  "session refused ip=%s client=%s reason=\"smtp_max_per_ip %u\"", s->ip_text,
			  who, srv->cfg.max_per_ip);
		atomic_fetch_add_explicit(&srv->st_refused, 1, memory_order_relaxed);
		char line[320];
		int n = snprintf(line, sizeof line,
				 "421 4.7.0 %s Error: too many sessions from your address\r\n",
				 srv->cfg.hostname);
		bufferevent_write(s->bev, line, (size_t)n);
		session_close(s);
		return false;
	}
	s->ip_counted = true;
	/* A trap behind a relay on its own host, or a test: what it sends could never list the
	 * address, so it is refused where it would be recorded, with the reason. */
	char what[200], why[224];
	if (srv->cfg.special_refused && ip_special_describe(s->ip, what, sizeof what)) {
		snprintf(why, sizeof why, "%.180s, a special-purpose address", what);
		smtp_dialog_refuse_mail(s->dlg, why);
		limit_log(srv, LIM_SPECIAL, "session from a special-purpose address ip=%s: MAIL "
			  "refused (exclude_default)", s->ip_text);
	}
	smtp_dialog_greet(s->dlg);
	flush_output(s);
	s->clock_ns = time_mono_ns(); /* the first command's time starts at the greeting */
	return true;
}

/* The header a trusted proxy sends first. false: not complete yet, or the session is gone. */
static bool proxy_read(struct smtp_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t len = evbuffer_get_length(in);
	size_t take = len < SMTP_PROXY_V2_MAX ? len : SMTP_PROXY_V2_MAX;
	const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)take);
	struct smtp_proxy_info info;
	size_t used = 0;
	int rc = p ? smtp_proxy_parse(p, take, &used, &info) : SMTP_EPROTO;
	if (rc == 0 && take < SMTP_PROXY_V2_MAX)
		return false;
	if (rc != 1) {
		char peer[IP_STRLEN];
		ip_format(s->ip, peer);
		limit_log(s->srv, LIM_PROXY, "session refused proxy=%s reason=\"no valid PROXY header\"",
			  peer);
		atomic_fetch_add_explicit(&s->srv->st_refused, 1, memory_order_relaxed);
		session_gone(s);
		return false;
	}
	evbuffer_drain(in, used);
	s->proxy_wait = false;
	if (info.local) {
		/* The proxy speaking for itself: talk, never record (smtp_dialog_no_client). */
		smtp_dialog_no_client(s->dlg);
	} else {
		memcpy(s->ip, info.src, 16);
	}
	return session_admit(s);
}

/* Too many replies not taken: no more commands are read until they are (out_resume). */
static void out_pause(struct smtp_session *s)
{
	limit_log(s->srv, LIM_REPLIES, "session paused ip=%s reason=\"replies not taken\" bytes=%zu",
		  s->ip_text, output_left(s));
	log_debug("smtp", "paused ip=%s tls=%s", s->ip_text,
		  bufferevent_get_underlying(s->bev) ? "yes" : "no");
	s->out_full = true;
	bufferevent_disable(s->bev, EV_READ);
	/* A plain session hears of its replies' going from on_write; a TLS session's pass a
	 * buffer that callback does not see. */
	if (bufferevent_get_underlying(s->bev)) {
		if (!s->linger)
			s->linger = evtimer_new(s->srv->base, on_linger, s);
		struct timeval tv = { 0, LINGER_MS * 1000 };
		if (s->linger)
			event_add(s->linger, &tv);
	}
}

static void session_process(struct smtp_session *s)
{
	if (s->out_full)
		return;
	while (s->bev && !s->pending && !s->closing) {
		if (output_left(s) > OUT_MAX) {
			out_pause(s);
			break;
		}
		struct evbuffer *in = bufferevent_get_input(s->bev);
		struct evbuffer_iovec v[8];
		int n = evbuffer_peek(in, -1, NULL, v, 8);
		if (n <= 0)
			break;
		size_t used = 0;
		enum smtp_event ev = SMTP_EVENT_NONE;
		for (int i = 0; i < n && i < 8; i++) {
			size_t c = smtp_dialog_feed(s->dlg, v[i].iov_base, v[i].iov_len, &ev);
			used += c;
			if (ev != SMTP_EVENT_NONE || c < v[i].iov_len)
				break;
		}
		evbuffer_drain(in, used);
		if (ev == SMTP_EVENT_MESSAGE) {
			flush_output(s); /* replies to what came before DATA's end go first */
			if (message_post(s)) {
				bufferevent_disable(s->bev, EV_READ);
				return;
			}
			smtp_dialog_message_done(s->dlg, false);
		} else if (ev == SMTP_EVENT_STARTTLS) {
			flush_output(s);
			evbuffer_drain(in, evbuffer_get_length(in));
			tls_start(s);
			return;
		} else if (ev == SMTP_EVENT_CLOSE) {
			flush_output(s);
			session_close(s);
			return;
		} else if (used == 0) {
			break;
		}
	}
	if (!s->bev)
		return;
	flush_output(s);
	session_progress(s);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct smtp_session *s = arg;
	if (s->closing)
		return;
	if (s->proxy_wait && !proxy_read(s))
		return;
	session_process(s);
}

static void out_resume(struct smtp_session *s)
{
	s->out_full = false;
	if (s->pending)
		return; /* the writer's answer enables reading */
	bufferevent_enable(s->bev, EV_READ);
	session_process(s);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct smtp_session *s = arg;
	if (s->closing && !s->linger && output_left(s) == 0)
		session_gone(s);
	else if (s->out_full && !s->closing && !bufferevent_get_underlying(s->bev) &&
		 output_left(s) <= OUT_MAX / 2)
		out_resume(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct smtp_session *s = arg;
	if (what & BEV_EVENT_CONNECTED)
		return; /* the TLS handshake is done */
	if ((what & BEV_EVENT_TIMEOUT) && !s->closing) {
		log_debug("smtp", "timeout ip=%s in_data=%s", s->ip_text,
			  smtp_dialog_in_data(s->dlg) ? "yes" : "no");
		smtp_dialog_timeout(s->dlg);
		flush_output(s);
		session_close(s);
		return;
	}
	/* EOF, an error, or a timeout while closing: the connection is gone. A message whose
	 * end had not arrived is dropped here, never recorded. */
	if (smtp_dialog_in_data(s->dlg))
		log_debug("smtp", "client left inside DATA ip=%s: nothing recorded", s->ip_text);
	session_gone(s);
}

/* ---- accepting ------------------------------------------------------------------------------ */

static void refuse_fd(struct smtp_server *srv, evutil_socket_t fd)
{
	char line[320];
	int n = snprintf(line, sizeof line, "421 4.7.0 %s Error: too many sessions, try later\r\n",
			 srv->cfg.hostname);
	ssize_t w = send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	evutil_closesocket(fd);
	atomic_fetch_add_explicit(&srv->st_refused, 1, memory_order_relaxed);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	(void)l;
	(void)salen;
	struct smtp_server *srv = arg;
	if (srv->stopping) {
		evutil_closesocket(fd);
		return;
	}
	atomic_fetch_add_explicit(&srv->st_sessions, 1, memory_order_relaxed);
	uint8_t ip[16], client[16];
	ip_of_sockaddr(sa, ip);
	ip_client_key(ip, client);
	bool proxied = proxy_trusted(srv, ip);
	/* A newcomer that smtp_max_per_ip refuses anyway (session_admit) takes nobody's place. */
	if (srv->n_sessions >= srv->cfg.max_sessions && (proxied || !ipc_full(srv, client)) &&
	    !session_evict_idlest(srv)) {
		limit_log(srv, LIM_SESSIONS, "session refused reason=\"smtp_max_sessions %u\"",
			  srv->cfg.max_sessions);
		refuse_fd(srv, fd);
		return;
	}
	struct smtp_session *s = calloc(1, sizeof *s);
	if (s)
		s->dlg = smtp_dialog_new(&srv->dcfg);
	if (s && s->dlg)
		s->deadline = evtimer_new(srv->base, on_deadline, s);
	if (s && s->deadline)
		s->bev = bufferevent_socket_new(srv->base, fd, BEV_OPTS);
	if (!s || !s->dlg || !s->deadline || !s->bev) {
		if (s) {
			smtp_dialog_free(s->dlg);
			if (s->deadline)
				event_free(s->deadline);
		}
		free(s);
		refuse_fd(srv, fd);
		return;
	}
	s->srv = srv;
	smtp_dialog_set_mem(s->dlg, session_mem, s);
	list_push(s);
	__atomic_store_n(&srv->n_sessions, srv->n_sessions + 1, __ATOMIC_RELAXED);
	memcpy(s->ip, ip, 16);
	ip_format(s->ip, s->ip_text);
	bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
	timeouts_set(s, false);
	s->clock_ns = s->active_ns = time_mono_ns();
	deadline_arm(s, s->clock_ns);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	/* A trusted proxy speaks first; anyone else is greeted at once. */
	if (proxied)
		s->proxy_wait = true;
	else
		session_admit(s);
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_server *srv = arg;
	for (unsigned i = 0; i < srv->n_listeners; i++)
		evconnlistener_enable(srv->listeners[i]);
}

/* accept() failing (EMFILE above all) leaves the socket readable: pause 100 ms instead of
 * spinning on it. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	struct smtp_server *srv = arg;
	int e = EVUTIL_SOCKET_ERROR();
	limit_log(srv, LIM_ACCEPT, "accept failed reason=\"%s\"", evutil_socket_error_to_string(e));
	for (unsigned i = 0; i < srv->n_listeners; i++)
		evconnlistener_disable(srv->listeners[i]);
	struct timeval tv = { 0, 100000 };
	event_add(srv->accept_pause, &tv);
}

/* ---- stopping -------------------------------------------------------------------------------- */

static void on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_server *srv = arg;
	log_err("smtp", "stop: the writer did not answer pending=%u within %d s", srv->n_pending,
		STOP_WAIT_S);
	srv->stuck = true;
	event_base_loopbreak(srv->base);
}

static void stop_sessions(struct smtp_server *srv)
{
	srv->stopping = true;
	for (unsigned i = 0; i < srv->n_listeners; i++)
		evconnlistener_free(srv->listeners[i]);
	srv->n_listeners = 0;
	struct smtp_session *s = srv->sessions, *next;
	for (; s; s = next) {
		next = s->next;
		session_gone(s); /* a held message stays until the writer answers */
	}
	struct timeval tv = { STOP_WAIT_S, 0 };
	event_add(srv->stop_timer, &tv);
}

/* ---- public ---------------------------------------------------------------------------------- */

static int listen_one(struct smtp_server *srv, const struct sockaddr_storage *ss, socklen_t len)
{
	char name[IP_STRLEN + 16];
	sockaddr_format((const struct sockaddr *)ss, name, sizeof name);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 1024) != 0)
		goto fail;
	struct evconnlistener *l =
		evconnlistener_new(srv->base, on_accept, srv, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (!l)
		goto fail;
	evconnlistener_set_error_cb(l, on_accept_error);
	srv->listeners[srv->n_listeners++] = l;
	log_info("smtp", "listening addr=%s", name);
	return SMTP_OK;
fail:
	log_err("smtp", "cannot listen addr=%s reason=\"%s\"%s", name, strerror(errno),
		sockaddr_bind_hint(errno));
	if (fd >= 0)
		close(fd);
	return SMTP_EIO;
}

/* Sessions hold a descriptor each: make room for max_sessions of them beside the rest. */
static void fd_limit_raise(unsigned sessions)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)sessions + 256)
		return;
	rlim_t want = (rlim_t)sessions + 256;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_warn("smtp", "open files limit=%llu is below smtp_max_sessions + 256",
			 (unsigned long long)rl.rlim_cur);
}

static void server_free(struct smtp_server *srv)
{
	if (srv->stuck) /* the writer may still call commit_done with srv */
		return;
	while (srv->sessions)
		session_free(srv->sessions);
	for (unsigned i = 0; i < srv->n_listeners; i++)
		evconnlistener_free(srv->listeners[i]);
	for (size_t i = 0; i < IPC_BUCKETS; i++) {
		while (srv->ipc[i]) {
			struct ip_count *n = srv->ipc[i]->next;
			free(srv->ipc[i]);
			srv->ipc[i] = n;
		}
	}
	if (srv->efd_ev)
		event_free(srv->efd_ev);
	if (srv->stop_timer)
		event_free(srv->stop_timer);
	if (srv->accept_pause)
		event_free(srv->accept_pause);
	if (srv->base)
		event_base_free(srv->base);
	if (srv->efd >= 0)
		close(srv->efd);
	SSL_CTX_free(srv->tls);
	free(srv->done);
	free(srv->reload);
	pthread_mutex_destroy(&srv->mtx);
	free(srv);
}

int smtp_server_bind(const struct smtp_server_config *cfg, struct smtp_server **out)
{
	struct smtp_server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return SMTP_ENOMEM;
	srv->cfg = *cfg;
	srv->efd = -1;
	pthread_mutex_init(&srv->mtx, NULL);
	int rc = SMTP_EIO;
	srv->tls = smtp_tls_context(&srv->cfg);
	if (!srv->tls)
		goto fail;
	srv->base = event_base_new();
	srv->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!srv->base || srv->efd < 0)
		goto fail;
	srv->efd_ev = event_new(srv->base, srv->efd, EV_READ | EV_PERSIST, on_efd, srv);
	srv->stop_timer = evtimer_new(srv->base, on_stop_timer, srv);
	srv->accept_pause = evtimer_new(srv->base, on_accept_resume, srv);
	if (!srv->efd_ev || !srv->stop_timer || !srv->accept_pause || event_add(srv->efd_ev, NULL))
		goto fail;
	for (unsigned i = 0; i < cfg->n_listen; i++)
		if ((rc = listen_one(srv, &cfg->listen[i], cfg->listen_len[i])) != SMTP_OK)
			goto fail;
	fd_limit_raise(cfg->max_sessions);
	srv->dcfg = (struct smtp_dialog_config){
		.hostname = srv->cfg.hostname,
		.trap_domains = srv->cfg.trap_domains,
		.trap_addresses = srv->cfg.trap_addresses,
		.max_size = srv->cfg.max_size,
		.max_rcpts = srv->cfg.max_rcpts,
		.max_errors = srv->cfg.max_errors,
		.tls_available = true,
	};
	if (!cfg->trap_domains[0] && !cfg->trap_addresses[0])
		log_warn("smtp", "no trap_domains or trap_addresses: every recipient is refused");
	*out = srv;
	return SMTP_OK;
fail:
	if (rc == SMTP_EIO && !srv->tls)
		log_err("smtp", "TLS could not be set up");
	server_free(srv);
	return rc == SMTP_OK ? SMTP_EIO : rc;
}

static void *loop_main(void *arg)
{
	struct smtp_server *srv = arg;
	event_base_dispatch(srv->base);
	return NULL;
}

static int writer_sink_post(void *ctx, const struct writer_event *ev, writer_done_fn done,
			    void *arg)
{
	return writer_post_nowait(ctx, ev, done, arg);
}

int smtp_server_start(struct smtp_server *srv, struct writer *w)
{
	if (!w)
		return SMTP_EINVAL;
	struct smtp_sink sink = {writer_sink_post, w};
	return smtp_server_start_sink(srv, &sink);
}

int smtp_server_start_sink(struct smtp_server *srv, const struct smtp_sink *sink)
{
	if (!srv || !sink || !sink->post)
		return SMTP_EINVAL;
	srv->sink = *sink;
	if (pthread_create(&srv->thread, NULL, loop_main, srv) != 0)
		return SMTP_ENOMEM;
	pthread_setname_np(srv->thread, "tl-smtp");
	srv->started = true;
	return SMTP_OK;
}

void smtp_server_stats(struct smtp_server *srv, struct smtp_stats *out)
{
	out->sessions = atomic_load_explicit(&srv->st_sessions, memory_order_relaxed);
	out->messages = atomic_load_explicit(&srv->st_messages, memory_order_relaxed);
	out->deferred = atomic_load_explicit(&srv->st_deferred, memory_order_relaxed);
	out->refused = atomic_load_explicit(&srv->st_refused, memory_order_relaxed);
	out->active = __atomic_load_n(&srv->n_sessions, __ATOMIC_RELAXED);
}

void smtp_server_metrics(void *arg, struct metrics *m)
{
	struct smtp_server *srv = arg;
	struct smtp_stats st;
	smtp_server_stats(srv, &st);
	metrics_family(m, "trapline_smtp_sessions_total", METRIC_COUNTER,
		       "SMTP connections to the trap since the start, by result: accepted, or "
		       "refused at once (limits, a bad PROXY header).");
	metrics_value(m, (double)st.sessions - (double)st.refused, "result=\"accepted\"");
	metrics_value(m, (double)st.refused, "result=\"refused\"");
	metrics_family(m, "trapline_smtp_sessions_open", METRIC_GAUGE, "SMTP sessions open now.");
	metrics_value(m, (double)st.active, NULL);
	metrics_family(m, "trapline_smtp_messages_total", METRIC_COUNTER,
		       "Messages the trap took to the end of DATA, by result: stored (answered "
		       "250 after the commit) or deferred (answered 451: the store could not take "
		       "it).");
	metrics_value(m, (double)st.messages, "result=\"stored\"");
	metrics_value(m, (double)st.deferred, "result=\"deferred\"");
}

void smtp_server_stop(struct smtp_server *srv)
{
	if (!srv)
		return;
	if (srv->started) {
		pthread_mutex_lock(&srv->mtx);
		srv->stop = true;
		pthread_mutex_unlock(&srv->mtx);
		uint64_t one = 1;
		ssize_t w = write(srv->efd, &one, sizeof one);
		(void)w;
		pthread_join(srv->thread, NULL);
	}
	server_free(srv);
}
