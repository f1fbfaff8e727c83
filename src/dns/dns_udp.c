/* dns_udp.c - the UDP workers: one thread per SO_REUSEPORT socket, batched recvmmsg/sendmmsg. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "dns_internal.h"

/* Datagrams per recvmmsg/sendmmsg call, as udp_echo. qblast -q 100 keeps at most 100 in
 * flight, so a batch of 64 is about half of them; 16, 64 and 256 measured the same within
 * the noise of the shared 2-core VM (see the bench notes in the commit log). */
#define UDP_BATCH 64
/* Buffer stride: a multiple of 4 KiB would map every buffer's header to the same L1 cache
 * set; one extra line per buffer spreads them over the sets. */
#define UDP_STRIDE (DNS_MAX_UDP + DNS_CACHE_LINE)

struct udp_batch {
	struct mmsghdr rx[UDP_BATCH];
	struct mmsghdr tx[UDP_BATCH];
	struct iovec rxiov[UDP_BATCH];
	struct iovec txiov[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	/* Wildcard sockets only: the query's destination, sent back as the answer's source. */
	_Alignas(struct cmsghdr) uint8_t ctl[UDP_BATCH][CMSG_SPACE(sizeof(struct in6_pktinfo))];
	_Alignas(DNS_CACHE_LINE) uint8_t in[UDP_BATCH][UDP_STRIDE];
	_Alignas(DNS_CACHE_LINE) uint8_t out[UDP_BATCH][UDP_STRIDE];
};

int dns_udp_prepare(struct dns_worker *w)
{
	struct udp_batch *b;
	unsigned i;

	if (w->io)
		return DNS_OK;
	b = aligned_alloc(DNS_CACHE_LINE, sizeof(*b));
	if (!b)
		return DNS_ENOMEM;
	/* Only the headers: the buffers get their pages when first written. */
	memset(b, 0, offsetof(struct udp_batch, in));
	for (i = 0; i < UDP_BATCH; i++) {
		/* Everything constant is set once; per batch only msg_namelen (the kernel
		 * overwrites it) and the send side's lengths and names change. */
		b->rxiov[i].iov_base = b->in[i];
		b->rxiov[i].iov_len = DNS_MAX_UDP;
		b->rx[i].msg_hdr.msg_name = &b->peer[i];
		b->rx[i].msg_hdr.msg_namelen = sizeof(b->peer[i]);
		b->rx[i].msg_hdr.msg_iov = &b->rxiov[i];
		b->rx[i].msg_hdr.msg_iovlen = 1;
		b->tx[i].msg_hdr.msg_iov = &b->txiov[i];
		b->tx[i].msg_hdr.msg_iovlen = 1;
		if (w->pktinfo) {
			b->rx[i].msg_hdr.msg_control = b->ctl[i];
			b->rx[i].msg_hdr.msg_controllen = sizeof(b->ctl[i]);
		}
	}
	w->io = b;
	return DNS_OK;
}

void dns_udp_release(struct dns_worker *w)
{
	free(w->io);
	w->io = NULL;
}

/* Turns the received packet info of rx into the source to send from; false if there is none. */
static bool udp_pktinfo_reply(struct msghdr *rx)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(rx);
	if (!cm || (rx->msg_flags & MSG_CTRUNC))
		return false;
	if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
		struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cm);
		/* Answer from the address asked; let routing pick the interface. */
		pi->ipi_spec_dst = pi->ipi_addr;
		pi->ipi_ifindex = 0;
		return true;
	}
	/* IPv6: ipi6_addr is already the source to use; the interface keeps a link-local
	 * address's scope. */
	return cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO;
}

/* Answers the n datagrams in b->rx into b->tx; returns how many answers there are. */
static unsigned udp_answer_batch(struct dns_worker *w, struct udp_batch *b, unsigned n)
{
	const struct zone_snapshot *snap;
	unsigned i, m = 0;

	zone_read_lock();
	/* The limits, like the snapshot, are the ones in force when the batch began. */
	const struct dns_limits *lim = dns_limits_current(w);
	bool limits = dns_limits_on(lim);
	/* One clock read per batch: RRL counts whole seconds, the usage limit whole days. */
	uint64_t now_s = lim->rrl ? time_mono_ns() / 1000000000u : 0;
	int64_t day = lim->usage ? time_now() / 86400 : 0;
	snap = zone_current(w->srv->zone);
	for (i = 0; i < n; i++) {
		struct msghdr *rh = &b->rx[i].msg_hdr;
		size_t len;
		if (!limits) {
			len = dns_answer(w->ctx, snap, b->in[i], b->rx[i].msg_len, b->out[i],
					 DNS_MAX_UDP, false);
		} else {
			uint8_t addr[16];
			struct dns_answer_info info;
			sockaddr_ip((const struct sockaddr *)&b->peer[i], addr);
			enum dns_client_mode mode = DNS_CLIENT_NORMAL;
			if (lim->usage || lim->public_resolvers)
				mode = dns_limits_mode(w, lim, addr, day);
			len = dns_answer_client(w->ctx, snap, b->in[i], b->rx[i].msg_len,
						b->out[i], DNS_MAX_UDP, false, mode, &info);
			if (len > 0 && lim->rrl)
				len = dns_limits_rrl(w, lim, addr, b->out[i], len, &info, now_s);
		}
		if (len == 0)
			continue;
		if (w->srv->cfg.xfr.key.set)
			len = dns_tsig_wrap(&w->srv->cfg.xfr.key, b->in[i], b->rx[i].msg_len, b->out[i],
					    len, DNS_MAX_UDP);
		dns_stat_answer(&w->stats, b->out[i], len);
		b->txiov[m].iov_base = b->out[i];
		b->txiov[m].iov_len = len;
		b->tx[m].msg_hdr.msg_name = rh->msg_name;
		b->tx[m].msg_hdr.msg_namelen = rh->msg_namelen;
		if (w->pktinfo) {
			bool ok = udp_pktinfo_reply(rh);
			b->tx[m].msg_hdr.msg_control = ok ? rh->msg_control : NULL;
			b->tx[m].msg_hdr.msg_controllen = ok ? rh->msg_controllen : 0;
		}
		m++;
	}
	zone_read_unlock();
	return m;
}

/* Sends the m answers; returns how many went out. Never blocks: a full socket buffer
 * (EAGAIN, ENOBUFS) drops the rest of the batch, as a router would; any other error (a
 * peer we may not send to) costs that one answer only. */
static unsigned udp_send_batch(int fd, struct udp_batch *b, unsigned m)
{
	unsigned done = 0, sent = 0;
	while (done < m) {
		int r = sendmmsg(fd, b->tx + done, m - done, MSG_DONTWAIT);
		if (r > 0) {
			done += (unsigned)r;
			sent += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			break;
		} else {
			done++; /* sendmmsg reports an error only for the first message */
		}
	}
	return sent;
}

/* Receives the next batch. With spin_ns set, an empty queue is polled (non-blocking) for up
 * to that long before the thread sleeps: at moderate load the next query usually arrives
 * within it, and the wake-up of a sleeping thread (and, in a VM, of a halted vCPU) costs
 * more latency than the answer itself. At full load the queue is never empty and this costs
 * nothing; idle, the thread spins spin_ns once per burst, then sleeps. */
static int udp_receive(struct dns_worker *w, struct udp_batch *b)
{
	if (w->spin_ns == 0)
		return recvmmsg(w->fd, b->rx, UDP_BATCH, MSG_WAITFORONE, NULL);
	uint64_t t0 = 0;
	for (;;) {
		int n = recvmmsg(w->fd, b->rx, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n > 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return n;
		uint64_t now = time_mono_ns();
		if (t0 == 0)
			t0 = now;
		else if (now - t0 >= w->spin_ns)
			break;
	}
	return recvmmsg(w->fd, b->rx, UDP_BATCH, MSG_WAITFORONE, NULL);
}

void *dns_udp_main(void *arg)
{
	struct dns_worker *w = arg;
	struct udp_batch *b = w->io;
	unsigned prev = UDP_BATCH, i;

	zone_reader_register();
	while (!atomic_load_explicit(&w->srv->stop, memory_order_relaxed)) {
		/* Reset only what the previous call overwrote. */
		for (i = 0; i < prev; i++)
			b->rx[i].msg_hdr.msg_namelen = sizeof(b->peer[i]);
		if (w->pktinfo)
			for (i = 0; i < prev; i++)
				b->rx[i].msg_hdr.msg_controllen = sizeof(b->ctl[i]);
		/* MSG_WAITFORONE: block (up to SO_RCVTIMEO) for the first datagram, then take
		 * whatever else is queued: one syscall per batch, none to poll. */
		int n = udp_receive(w, b);
		if (n <= 0) {
			prev = 0;
			continue; /* EAGAIN: the timeout, to look at the stop flag; EINTR */
		}
		prev = (unsigned)n;
		unsigned m = udp_answer_batch(w, b, (unsigned)n);
		unsigned sent = m ? udp_send_batch(w->fd, b, m) : 0;
		dns_stat_add(&w->stats.queries, (uint64_t)n);
		dns_stat_add(&w->stats.answers, sent);
		dns_stat_add(&w->stats.dropped, (uint64_t)n - sent);
	}
	zone_reader_unregister();
	return NULL;
}
