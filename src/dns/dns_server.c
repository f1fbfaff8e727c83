/* dns_server.c - the DNS server's life cycle: bind every socket, start and stop the workers, sum their counters. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "dns_internal.h"

int dns_server_config_from(const struct config *cfg, struct dns_server_config *sc, char *err,
			   size_t errcap)
{
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->dns.zone, sizeof(sc->dns.zone), "%s", cfg->zone);
	sc->dns.edns_udp_max = (uint16_t)cfg->edns_udp_max;
	char why[CONFIG_ERR_MAX];
	if (config_listen_parse(cfg->dns_listen, sc->listen, sc->listen_len, DNS_LISTEN_MAX,
				&sc->n_listen, why, sizeof(why)) != BASE_OK) {
		snprintf(err, errcap, "dns_listen: %s", why);
		return DNS_EINVAL;
	}
	sc->threads = threads_or_cores(cfg->threads);
	sc->tcp_max_conns = cfg->tcp_max_conns;
	sc->tcp_max_per_client = cfg->tcp_max_per_client;
	sc->tcp_idle_ms = cfg->tcp_idle_ms;
	sc->tcp_query_ms = cfg->tcp_query_ms;
	sc->udp_spin_us = cfg->udp_spin_us;
	if (config_cidrs_parse(cfg->transfer_allow, sc->xfr.allow, DNS_XFR_ALLOW_MAX,
			       &sc->xfr.n_allow, why, sizeof(why)) != BASE_OK) {
		snprintf(err, errcap, "transfer_allow: %s", why);
		return DNS_EINVAL;
	}
	if (dns_tsig_key_from(cfg->transfer_key, &sc->xfr.key, why, sizeof(why)) != DNS_OK) {
		snprintf(err, errcap, "transfer_key: %s", why);
		return DNS_EINVAL;
	}
	sc->xfr.expand_max = ZONE_RR_EXPAND_MAX;
	if (cfg->notify[0] &&
	    config_listen_parse(cfg->notify, sc->notify, sc->notify_len, DNS_NOTIFY_MAX,
				&sc->n_notify, why, sizeof(why)) != BASE_OK) {
		snprintf(err, errcap, "notify: %s", why);
		return DNS_EINVAL;
	}
	return dns_limits_config_from(cfg, sc, err, errcap);
}

/* Socket buffers big enough to absorb a burst of a few thousand queries while a worker is
 * busy; measured: the default 208 KiB drops packets under a qblast burst at -q 100+. */
#define DNS_SOCKBUF (4 << 20)
#define DNS_TCP_BACKLOG 1024
#define DNS_TCP_IDLE_DEFAULT_MS 10000
#define DNS_TCP_QUERY_DEFAULT_MS 5000

static void sock_buffers(int fd)
{
	int sz = DNS_SOCKBUF;
	/* The FORCE variants pass net.core.rmem_max when we are root (CAP_NET_ADMIN). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int sock_v6only(int fd, int family)
{
	int one = 1;
	if (family != AF_INET6)
		return 0;
	/* Without it a [::]:53 socket would also claim 0.0.0.0:53 and clash with a v4 listener. */
	return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
}

static bool addr_is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

/* On a wildcard address the kernel would pick an answer's source address by route, which on
 * a multi-homed host may differ from the address the client asked, and the client drops
 * such an answer: ask for each query's destination address to answer from it. */
static int udp_pktinfo(int fd, int family)
{
	int one = 1;
	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
}

/* Closes a socket whose setup failed and returns -1, keeping errno for the caller's log. */
static int sock_close_keep_errno(int fd)
{
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int udp_open(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1;
	/* Stop latency: the worker's recvmmsg wakes at least this often to see the stop flag. */
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (sock_v6only(fd, ss->ss_family) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    (addr_is_any(ss) && udp_pktinfo(fd, ss->ss_family) != 0))
		goto fail_close;
	sock_buffers(fd);
	if (bind(fd, (const struct sockaddr *)ss, len) != 0)
		goto fail_close;
	return fd;
fail_close:
	return sock_close_keep_errno(fd);
}

static int tcp_open(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (sock_v6only(fd, ss->ss_family) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    /* Accepted sockets inherit it: we write each batch of answers in one write, so
	     * Nagle would only add a round trip's delay to the next batch. */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, DNS_TCP_BACKLOG) != 0)
		goto fail_close;
	return fd;
fail_close:
	return sock_close_keep_errno(fd);
}

static void addr_port_set(struct sockaddr_storage *ss, in_port_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = port;
	else
		((struct sockaddr_in *)ss)->sin_port = port;
}

static in_port_t addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)ss)->sin6_port;
	return ((const struct sockaddr_in *)ss)->sin_port;
}

/* Opens address i's UDP sockets and TCP listener. With port 0 the first socket's port is
 * used for the rest, so all of them (and TCP) share one port as with a fixed port. */
static int server_bind_addr(struct dns_server *srv, unsigned i)
{
	struct sockaddr_storage ss = srv->cfg.listen[i];
	socklen_t len = srv->cfg.listen_len[i];
	const char *proto = "udp";
	char name[128];
	unsigned t;

	for (t = 0; t < srv->cfg.threads; t++) {
		int fd = udp_open(&ss, len);
		if (fd < 0)
			goto fail;
		srv->udp[i * srv->cfg.threads + t].fd = fd;
		srv->udp[i * srv->cfg.threads + t].pktinfo = addr_is_any(&ss);
		srv->udp[i * srv->cfg.threads + t].spin_ns = (uint64_t)srv->cfg.udp_spin_us * 1000u;
		if (t == 0 && addr_port(&ss) == 0) {
			struct sockaddr_storage bound;
			socklen_t blen = sizeof(bound);
			if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0)
				goto fail;
			addr_port_set(&ss, addr_port(&bound));
		}
	}
	sockaddr_format((const struct sockaddr *)&ss, name, sizeof(name));
	log_info("dns", "listening proto=udp addr=%s sockets=%u", name, srv->cfg.threads);

	proto = "tcp";
	srv->tcp_fd[i] = tcp_open(&ss, len);
	if (srv->tcp_fd[i] < 0)
		goto fail;
	log_info("dns", "listening proto=tcp addr=%s sockets=1", name);
	return DNS_OK;
fail:;
	int saved = errno;
	sockaddr_format((const struct sockaddr *)&ss, name, sizeof(name));
	log_err("dns", "bind failed proto=%s addr=%s error=\"%s\"%s", proto, name, strerror(saved),
		sockaddr_bind_hint(saved));
	errno = saved;
	return DNS_EIO;
}

/* Closes every socket and frees srv; the threads must have been joined. */
static void server_free(struct dns_server *srv)
{
	unsigned i;
	if (srv->udp) {
		for (i = 0; i < srv->n_udp; i++) {
			dns_udp_release(&srv->udp[i]);
			dns_ctx_free(srv->udp[i].ctx);
			if (srv->udp[i].fd >= 0)
				close(srv->udp[i].fd);
		}
	}
	if (srv->tcp) {
		dns_tcp_release(srv->tcp);
		dns_ctx_free(srv->tcp->ctx);
	}
	if (srv->notify)
		dns_notify_release(srv->notify);
	if (srv->xfr) {
		dns_tcp_release(srv->xfr);
		dns_ctx_free(srv->xfr->ctx);
	}
	dns_tcp_handoff_free(srv);
	for (i = 0; i < DNS_LISTEN_MAX; i++)
		if (srv->tcp_fd[i] >= 0)
			close(srv->tcp_fd[i]);
	free(srv->udp);
	free(srv->tcp);
	dns_limits_free(srv->limits);
	dns_rrl_free(srv->rrl_table);
	dns_usage_free(srv->usage);
	free(srv->notify);
	free(srv->xfr);
	free(srv);
}

static struct dns_worker *workers_new(struct dns_server *srv, unsigned n)
{
	size_t bytes = sizeof(struct dns_worker) * n; /* a whole number of cache lines */
	struct dns_worker *w = aligned_alloc(DNS_CACHE_LINE, bytes);
	unsigned i;
	if (!w)
		return NULL;
	memset(w, 0, bytes);
	for (i = 0; i < n; i++) {
		w[i].srv = srv;
		w[i].fd = -1;
	}
	return w;
}

int dns_server_bind(const struct dns_server_config *cfg, struct dns_server **out)
{
	struct dns_server *srv;
	unsigned i;
	int err;

	*out = NULL;
	if (cfg->threads < 1 || cfg->n_listen < 1 || cfg->n_listen > DNS_LISTEN_MAX ||
	    cfg->threads > 1024)
		return DNS_EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return DNS_ENOMEM;
	srv->cfg = *cfg;
	if (srv->cfg.tcp_idle_ms == 0)
		srv->cfg.tcp_idle_ms = DNS_TCP_IDLE_DEFAULT_MS;
	if (srv->cfg.tcp_query_ms == 0)
		srv->cfg.tcp_query_ms = DNS_TCP_QUERY_DEFAULT_MS;
	atomic_init(&srv->stop, false);
	for (i = 0; i < DNS_LISTEN_MAX; i++)
		srv->tcp_fd[i] = -1;
	srv->handoff.efd = -1;
	srv->n_udp = cfg->n_listen * cfg->threads;
	srv->udp = workers_new(srv, srv->n_udp);
	srv->tcp = workers_new(srv, 1);
	if (!srv->udp || !srv->tcp) {
		err = DNS_ENOMEM;
		goto fail_free;
	}
	char why[CONFIG_ERR_MAX];
	err = dns_limits_new(srv, cfg, &srv->limits, why, sizeof(why));
	if (err != DNS_OK) {
		log_err("dns", "public_resolvers failed error=\"%s\"", why);
		goto fail_free;
	}
	dns_limits_log(srv->limits, "limits");
	for (i = 0; i < cfg->n_listen; i++) {
		err = server_bind_addr(srv, i);
		if (err != DNS_OK)
			goto fail_free;
	}
	*out = srv;
	return DNS_OK;
fail_free:;
	int saved = errno;
	server_free(srv);
	errno = saved;
	return err;
}

/* Sets the stop flag and joins every thread that runs. */
static void server_join(struct dns_server *srv)
{
	unsigned i;
	atomic_store(&srv->stop, true);
	for (i = 0; i < srv->n_udp; i++) {
		if (srv->udp[i].running)
			pthread_join(srv->udp[i].tid, NULL);
		srv->udp[i].running = false;
	}
	if (srv->tcp->running)
		pthread_join(srv->tcp->tid, NULL);
	srv->tcp->running = false;
	if (srv->notify && srv->notify->running)
		pthread_join(srv->notify->tid, NULL);
	if (srv->notify)
		srv->notify->running = false;
	if (srv->xfr && srv->xfr->running)
		pthread_join(srv->xfr->tid, NULL);
	if (srv->xfr)
		srv->xfr->running = false;
}

/* name shows in top -H and perf: "tl-udp" or "tl-tcp". */
static int worker_spawn(struct dns_worker *w, void *(*fn)(void *), const char *name)
{
	int err = pthread_create(&w->tid, NULL, fn, w);
	if (err != 0) {
		errno = err;
		return DNS_EIO;
	}
	pthread_setname_np(w->tid, name);
	w->running = true;
	return DNS_OK;
}

int dns_server_start(struct dns_server *srv, struct zone_handle *zone)
{
	sigset_t all, old;
	unsigned i;
	int err = DNS_OK;

	srv->zone = zone;
	/* Everything a worker needs is allocated here, before any thread runs, so a failure
	 * is reported to the caller (who then frees with dns_server_stop). */
	for (i = 0; i <= srv->n_udp; i++) {
		struct dns_worker *w = i < srv->n_udp ? &srv->udp[i] : srv->tcp;
		if (!w->ctx)
			w->ctx = dns_ctx_new(&srv->cfg.dns);
		if (!w->ctx) {
			/* dns_ctx_new fails on a zone name it cannot encode, or out of memory. */
			log_err("dns", "context failed zone=%s", srv->cfg.dns.zone);
			return DNS_EINVAL;
		}
		err = i < srv->n_udp ? dns_udp_prepare(w) : dns_tcp_prepare(w);
		if (err != DNS_OK)
			return err;
	}

	/* Transfers are sent by a thread of their own below the workers' priority; none is
	 * made when nobody may transfer. */
	if (srv->cfg.xfr.n_allow > 0 && !srv->xfr) {
		if (dns_tcp_handoff_init(srv) != DNS_OK)
			return DNS_EIO;
		srv->xfr = workers_new(srv, 1);
		if (!srv->xfr)
			return DNS_ENOMEM;
		srv->xfr->xfr_only = true;
		srv->xfr->ctx = dns_ctx_new(&srv->cfg.dns);
		if (!srv->xfr->ctx)
			return DNS_ENOMEM;
		err = dns_tcp_prepare(srv->xfr);
		if (err != DNS_OK)
			return err;
	}
	if (srv->cfg.n_notify > 0 && !srv->notify) {
		srv->notify = workers_new(srv, 1);
		if (!srv->notify)
			return DNS_ENOMEM;
		err = dns_notify_prepare(srv->notify);
		if (err != DNS_OK) {
			log_err("dns", "notify sockets failed error=\"%s\"", strerror(errno));
			return err;
		}
	}

	/* Workers block every signal, so SIGINT/SIGTERM reach the main thread, which stops us. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < srv->n_udp && err == DNS_OK; i++)
		err = worker_spawn(&srv->udp[i], dns_udp_main, "tl-udp");
	if (err == DNS_OK)
		err = worker_spawn(srv->tcp, dns_tcp_main, "tl-tcp");
	if (err == DNS_OK && srv->notify)
		err = worker_spawn(srv->notify, dns_notify_main, "tl-notify");
	if (err == DNS_OK && srv->xfr)
		err = worker_spawn(srv->xfr, dns_tcp_main, "tl-xfr");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != DNS_OK) {
		log_err("dns", "thread start failed error=\"%s\"", strerror(errno));
		server_join(srv);
		atomic_store(&srv->stop, false);
	}
	return err;
}

void dns_server_stop(struct dns_server *srv)
{
	struct dns_stats st;
	if (!srv)
		return;
	server_join(srv);
	dns_server_stats(srv, &st);
	log_debug("dns", "stopped queries=%llu answers=%llu dropped=%llu tcp_conns=%llu "
		  "tcp_rejected=%llu tcp_rejected_client=%llu tcp_evicted=%llu tcp_query_timeouts=%llu",
		  (unsigned long long)st.queries, (unsigned long long)st.answers,
		  (unsigned long long)st.dropped, (unsigned long long)st.tcp_conns,
		  (unsigned long long)st.tcp_rejected, (unsigned long long)st.tcp_rejected_client,
		  (unsigned long long)st.tcp_evicted, (unsigned long long)st.tcp_query_timeouts);
	if (dns_limits_on(srv->limits))
		log_info("dns", "stopped limits rrl_dropped=%llu rrl_slipped=%llu usage_excess=%llu "
			 "public_resolver=%llu", (unsigned long long)st.rrl_dropped,
			 (unsigned long long)st.rrl_slipped, (unsigned long long)st.usage_excess,
			 (unsigned long long)st.public_resolver);
	server_free(srv);
}

static void stats_sum(struct dns_stats *sum, const struct dns_stats *s)
{
	/* Relaxed loads: each counter has one writer; a sum is a moment's approximation. */
#define DNS_STAT_LOAD(f) \
	sum->f += atomic_load_explicit((_Atomic uint64_t *)&s->f, memory_order_relaxed)
	DNS_STAT_LOAD(queries);
	DNS_STAT_LOAD(answers);
	DNS_STAT_LOAD(dropped);
	DNS_STAT_LOAD(truncated);
	for (unsigned r = 0; r < DNS_STAT_RCODES; r++)
		for (unsigned q = 0; q < DNS_STAT_QTYPES; q++)
			DNS_STAT_LOAD(answered[r][q]);
	DNS_STAT_LOAD(tcp_conns);
	DNS_STAT_LOAD(tcp_rejected);
	DNS_STAT_LOAD(tcp_rejected_client);
	DNS_STAT_LOAD(tcp_evicted);
	DNS_STAT_LOAD(tcp_query_timeouts);
	DNS_STAT_LOAD(rrl_dropped);
	DNS_STAT_LOAD(rrl_slipped);
	DNS_STAT_LOAD(usage_excess);
	DNS_STAT_LOAD(public_resolver);
	DNS_STAT_LOAD(xfr_started);
	DNS_STAT_LOAD(xfr_answered);
	DNS_STAT_LOAD(xfr_messages);
#undef DNS_STAT_LOAD
}

/* The rcode totals the log lines name, from the table by rcode and qtype. */
static void stats_rcodes(struct dns_stats *st)
{
	for (unsigned q = 0; q < DNS_STAT_QTYPES; q++) {
		st->formerr += st->answered[DNS_RCODE_FORMERR][q];
		st->nxdomain += st->answered[DNS_RCODE_NXDOMAIN][q];
		st->refused += st->answered[DNS_RCODE_REFUSED][q];
	}
}

void dns_server_stats(const struct dns_server *srv, struct dns_stats *out)
{
	unsigned i;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < srv->n_udp; i++)
		stats_sum(out, &srv->udp[i].stats);
	stats_sum(out, &srv->tcp->stats);
	if (srv->xfr)
		stats_sum(out, &srv->xfr->stats);
	stats_rcodes(out);
}

static const char *const rcode_names[DNS_STAT_RCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "other"};
static const char *const qtype_names[DNS_STAT_QTYPES] = {
	[DNS_STAT_QT_OTHER] = "other", [DNS_STAT_QT_A] = "A", [DNS_STAT_QT_NS] = "NS",
	[DNS_STAT_QT_SOA] = "SOA", [DNS_STAT_QT_PTR] = "PTR", [DNS_STAT_QT_MX] = "MX",
	[DNS_STAT_QT_TXT] = "TXT", [DNS_STAT_QT_AAAA] = "AAAA", [DNS_STAT_QT_IXFR] = "IXFR",
	[DNS_STAT_QT_AXFR] = "AXFR", [DNS_STAT_QT_ANY] = "ANY"};

const char *dns_stat_rcode_name(unsigned i)
{
	return i < DNS_STAT_RCODES ? rcode_names[i] : "other";
}

const char *dns_stat_qtype_name(unsigned i)
{
	return i < DNS_STAT_QTYPES ? qtype_names[i] : "other";
}

/* One transport's answers by rcode and qtype: the pairs never seen are left out (a counter
 * that appears at its first increment is what Prometheus expects of labels). */
static void metrics_answers(struct metrics *m, const struct dns_stats *st, const char *proto)
{
	for (unsigned r = 0; r < DNS_STAT_RCODES; r++)
		for (unsigned q = 0; q < DNS_STAT_QTYPES; q++)
			if (st->answered[r][q])
				metrics_value(m, (double)st->answered[r][q],
					      "rcode=\"%s\",qtype=\"%s\",proto=\"%s\"",
					      rcode_names[r], qtype_names[q], proto);
}

/* Each secondary of the zone transfers (dns_secondary.c's table): its last transfer, the
 * transfers served to it, and for a notify target its last answered NOTIFY. `trapline status`
 * reads the first (ctl_status.c's STATUS_XFR_LAST_METRIC). */
static void metrics_secondaries(struct metrics *m)
{
	struct dns_secondary *sec = calloc(DNS_SECONDARIES_MAX, sizeof(*sec));
	size_t n = sec ? dns_secondaries(sec, DNS_SECONDARIES_MAX) : 0;
	metrics_family(m, "trapline_xfr_last_transfer_time_seconds", METRIC_GAUGE,
		       "When the last zone transfer (AXFR or IXFR) served to a secondary ended, "
		       "as Unix time; secondaries that never transferred are left out.");
	for (size_t i = 0; i < n; i++)
		if (sec[i].last_transfer_at)
			metrics_value(m, (double)sec[i].last_transfer_at, "secondary=\"%s\"",
				      sec[i].text);
	metrics_family(m, "trapline_xfr_last_transfer_serial", METRIC_GAUGE,
		       "The SOA serial of the last zone transfer served to a secondary.");
	for (size_t i = 0; i < n; i++)
		if (sec[i].last_transfer_at)
			metrics_value(m, (double)sec[i].last_transfer_serial,
				      "secondary=\"%s\"", sec[i].text);
	metrics_family(m, "trapline_xfr_transfers_total", METRIC_COUNTER,
		       "Zone transfers (AXFR, IXFR) served, by secondary.");
	for (size_t i = 0; i < n; i++)
		metrics_value(m, (double)sec[i].transfers, "secondary=\"%s\"", sec[i].text);
	metrics_family(m, "trapline_xfr_notify_answered_time_seconds", METRIC_GAUGE,
		       "When a secondary of notify last answered a NOTIFY, as Unix time; 0: never.");
	for (size_t i = 0; i < n; i++)
		if (sec[i].notify_target)
			metrics_value(m, (double)sec[i].last_notify_answered_at,
				      "secondary=\"%s\"", sec[i].text);
	free(sec);
}

void dns_server_metrics(void *arg, struct metrics *m)
{
	const struct dns_server *srv = arg;
	struct dns_stats udp, tcp;
	memset(&udp, 0, sizeof(udp));
	memset(&tcp, 0, sizeof(tcp));
	for (unsigned i = 0; i < srv->n_udp; i++)
		stats_sum(&udp, &srv->udp[i].stats);
	stats_sum(&tcp, &srv->tcp->stats);
	metrics_family(m, "trapline_dns_queries_total", METRIC_COUNTER,
		       "DNS queries answered, by the answer's rcode, the question's type and the "
		       "transport.");
	metrics_answers(m, &udp, "udp");
	metrics_answers(m, &tcp, "tcp");
	metrics_family(m, "trapline_dns_dropped_total", METRIC_COUNTER,
		       "DNS queries received and not answered (unparsable, QR set, a full socket "
		       "buffer), by transport.");
	metrics_value(m, (double)udp.dropped, "proto=\"udp\"");
	metrics_value(m, (double)tcp.dropped, "proto=\"tcp\"");
	metrics_family(m, "trapline_dns_truncated_total", METRIC_COUNTER,
		       "DNS answers sent with TC=1 (too large for the client's UDP size, or slipped "
		       "by the rate limit).");
	metrics_value(m, (double)(udp.truncated + tcp.truncated), NULL);
	metrics_family(m, "trapline_dns_rrl_total", METRIC_COUNTER,
		       "DNS answers limited by response rate limiting, by action: dropped (not "
		       "sent) or slipped (sent truncated).");
	metrics_value(m, (double)(udp.rrl_dropped + tcp.rrl_dropped), "action=\"dropped\"");
	metrics_value(m, (double)(udp.rrl_slipped + tcp.rrl_slipped), "action=\"slipped\"");
	metrics_family(m, "trapline_dns_usage_limited_total", METRIC_COUNTER,
		       "DNS queries about an address answered with a usage-limit code instead: "
		       "excess (answer_a_excess, over usage_limit_per_day) or public_resolver "
		       "(answer_a_public_resolver).");
	metrics_value(m, (double)(udp.usage_excess + tcp.usage_excess), "code=\"excess\"");
	metrics_value(m, (double)(udp.public_resolver + tcp.public_resolver),
		      "code=\"public_resolver\"");
	metrics_family(m, "trapline_dns_tcp_connections_total", METRIC_COUNTER,
		       "DNS TCP connections, by what became of them: accepted, rejected (table "
		       "full), rejected_client (tcp_max_per_client), evicted, query_timeout.");
	metrics_value(m, (double)tcp.tcp_conns, "result=\"accepted\"");
	metrics_value(m, (double)tcp.tcp_rejected, "result=\"rejected\"");
	metrics_value(m, (double)tcp.tcp_rejected_client, "result=\"rejected_client\"");
	metrics_value(m, (double)tcp.tcp_evicted, "result=\"evicted\"");
	metrics_value(m, (double)tcp.tcp_query_timeouts, "result=\"query_timeout\"");
	metrics_secondaries(m);
}
