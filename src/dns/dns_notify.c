/* dns_notify.c - NOTIFY (RFC 1996) to the secondaries in `notify`: one thread that watches the
 * published serial and tells each secondary, one NOTIFY in flight per secondary, retried. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "dns_internal.h"
#include "dns_wire.h"

#define OPCODE_NOTIFY 4
/* The published serial is looked at this often: the delay a NOTIFY adds to a change at most. */
#define NOTIFY_TICK_MS 20
/* Retries after 1, 2, 4, 8 and 16 s; 16 s after the last one the secondary is logged as not
 * answering (47 s in all), and the next serial starts again (RFC 1996 3.6 leaves the
 * schedule to us). */
#define NOTIFY_TRIES 6
#define NOTIFY_FIRST_RETRY_MS 1000

struct notify_peer {
	struct sockaddr_storage addr;
	socklen_t len;
	uint8_t ip[16];
	uint16_t port;
	char text[IP_STRLEN + 8];
	bool inflight;          /* a NOTIFY waits for its answer */
	uint16_t id;            /* ... its id */
	uint32_t serial;        /* ... the serial it announced */
	unsigned tries;
	uint64_t next_ns;       /* when to send it again */
	bool pending;           /* a newer serial to announce once the one in flight is done */
	uint32_t pending_serial;
	bool silent;            /* it gave no answer to the last NOTIFY (logged once) */
	struct dns_tsig_state ts;
	uint8_t msg[DNS_MAX_UDP];
	size_t msg_len;
};

struct notify_state {
	struct dns_server *srv;
	int fd4, fd6;
	unsigned n;
	struct notify_peer *peers;
	bool have_serial;
	uint32_t serial;        /* the last serial seen published */
	uint8_t zone[DNS_NAME_MAX];
	size_t zone_len;
	uint8_t soa_rdata[2 * DNS_NAME_MAX + 20];
	size_t soa_len;
	uint32_t soa_ttl;
};

static uint16_t notify_id(void)
{
	static uint32_t x;
	if (x == 0)
		x = (uint32_t)time_mono_ns() | 1u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (uint16_t)x;
}

/* The NOTIFY of serial for p: the zone's SOA question and, as RFC 1996 3.7 allows, the SOA
 * itself in the answer section; signed when transfer_key is set. */
static void notify_build(struct notify_state *ns, struct notify_peer *p, uint32_t serial)
{
	uint8_t *m = p->msg;
	size_t o = DNS_HDR_LEN;
	p->id = notify_id();
	dns_put16(m, p->id);
	m[2] = (uint8_t)(OPCODE_NOTIFY << 3 | 0x04); /* opcode NOTIFY, AA */
	m[3] = 0;
	dns_put16(m + 4, 1);
	dns_put16(m + 6, 1);
	dns_put16(m + 8, 0);
	dns_put16(m + 10, 0);
	memcpy(m + o, ns->zone, ns->zone_len);
	o += ns->zone_len;
	dns_put16(m + o, DNS_T_SOA);
	dns_put16(m + o + 2, DNS_C_IN);
	o += 4;
	dns_put16(m + o, 0xC00C);
	dns_put16(m + o + 2, DNS_T_SOA);
	dns_put16(m + o + 4, DNS_C_IN);
	dns_put32(m + o + 6, ns->soa_ttl);
	dns_put16(m + o + 10, (uint16_t)ns->soa_len);
	memcpy(m + o + 12, ns->soa_rdata, ns->soa_len);
	dns_put32(m + o + 12 + ns->soa_len - 20, serial);
	o += 12 + ns->soa_len;
	const struct dns_tsig_key *key = &ns->srv->cfg.xfr.key;
	if (key->set) {
		size_t n = dns_tsig_sign_request(key, m, o, sizeof p->msg, time_wall_s(), &p->ts);
		if (n > 0)
			o = n;
	}
	p->msg_len = o;
	p->serial = serial;
}

static void notify_send(struct notify_state *ns, struct notify_peer *p, uint64_t now)
{
	int fd = p->addr.ss_family == AF_INET6 ? ns->fd6 : ns->fd4;
	if (fd >= 0)
		(void)sendto(fd, p->msg, p->msg_len, MSG_NOSIGNAL, (struct sockaddr *)&p->addr,
			     p->len);
	p->tries++;
	unsigned shift = p->tries - 1 < 4 ? p->tries - 1 : 4; /* 1, 2, 4, 8, then 16 s */
	p->next_ns = now + ((uint64_t)NOTIFY_FIRST_RETRY_MS << shift) * 1000000u;
	dns_secondary_notify_state(p->ip, p->port, time_wall_s(), 0, 0, p->silent);
}

static void notify_start(struct notify_state *ns, struct notify_peer *p, uint32_t serial,
			 uint64_t now)
{
	p->inflight = true;
	p->tries = 0;
	notify_build(ns, p, serial);
	notify_send(ns, p, now);
	log_debug("notify", "sent secondary=%s serial=%u", p->text, serial);
}

/* The one in flight is over (answered or given up): the newer serial, if any, goes now. */
static void notify_done(struct notify_state *ns, struct notify_peer *p, uint64_t now)
{
	p->inflight = false;
	if (p->pending && zone_serial_gt(p->pending_serial, p->serial)) {
		p->pending = false;
		notify_start(ns, p, p->pending_serial, now);
	}
	p->pending = false;
}

/* A new serial was published: every secondary is told, or will be once the NOTIFY it has in
 * flight is done (a newer serial replaces one still waiting). */
static void notify_serial(struct notify_state *ns, uint32_t serial, uint64_t now)
{
	for (unsigned i = 0; i < ns->n; i++) {
		struct notify_peer *p = &ns->peers[i];
		if (p->inflight) {
			p->pending = true;
			p->pending_serial = serial;
		} else {
			notify_start(ns, p, serial, now);
		}
	}
}

static void notify_timers(struct notify_state *ns, uint64_t now)
{
	for (unsigned i = 0; i < ns->n; i++) {
		struct notify_peer *p = &ns->peers[i];
		if (!p->inflight || now < p->next_ns)
			continue;
		if (p->tries < NOTIFY_TRIES) {
			notify_send(ns, p, now);
			continue;
		}
		if (!p->silent) /* once, until it answers again */
			log_warn("notify", "unanswered secondary=%s serial=%u tries=%u", p->text,
				 p->serial, p->tries);
		p->silent = true;
		dns_secondary_notify_state(p->ip, p->port, 0, 0, 0, true);
		notify_done(ns, p, now);
	}
}

/* An answer on fd: the secondary it came from, its id, and (with a key) its TSIG. */
static void notify_read(struct notify_state *ns, int fd, uint64_t now)
{
	for (int k = 0; k < 64; k++) {
		uint8_t buf[DNS_MAX_UDP];
		struct sockaddr_storage from;
		socklen_t flen = sizeof from;
		ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from,
				     &flen);
		if (r < 0)
			return;
		if (r < DNS_HDR_LEN || !(buf[2] & 0x80) || ((buf[2] >> 3) & 0x0F) != OPCODE_NOTIFY)
			continue;
		uint8_t ip[16];
		sockaddr_ip((struct sockaddr *)&from, ip);
		for (unsigned i = 0; i < ns->n; i++) {
			struct notify_peer *p = &ns->peers[i];
			if (!p->inflight || dns_get16(buf) != p->id || memcmp(p->ip, ip, 16) != 0)
				continue;
			if (ns->srv->cfg.xfr.key.set &&
			    !dns_tsig_check_answer(&p->ts, buf, (size_t)r)) {
				log_debug("notify", "answer without a valid TSIG secondary=%s", p->text);
				continue;
			}
			unsigned rcode = buf[3] & 0x0F;
			if (p->silent)
				log_info("notify", "answered again secondary=%s serial=%u", p->text,
					 p->serial);
			else
				log_debug("notify", "answered secondary=%s serial=%u rcode=%u", p->text,
					  p->serial, rcode);
			if (rcode != DNS_RCODE_NOERROR)
				log_warn("notify", "refused secondary=%s serial=%u rcode=%u", p->text,
					 p->serial, rcode);
			p->silent = false;
			dns_secondary_notify_state(p->ip, p->port, 0, time_wall_s(), p->serial, false);
			notify_done(ns, p, now);
		}
	}
}

/* The zone's SOA as the answer section carries it (re-read for each new serial). */
static void notify_soa(struct notify_state *ns, const struct zone_snapshot *s)
{
	struct zone_iter *it = NULL;
	struct zone_rr rr;
	if (zone_iter_new(s, ns->srv->cfg.dns.zone, 0, &it) == ZONE_OK &&
	    zone_iter_next(it, &rr) == 1 && rr.rdlen <= sizeof ns->soa_rdata) {
		memcpy(ns->soa_rdata, rr.rdata, rr.rdlen);
		ns->soa_len = rr.rdlen;
		ns->soa_ttl = rr.ttl;
	}
	zone_iter_free(it);
}

void *dns_notify_main(void *arg)
{
	struct dns_worker *w = arg;
	struct notify_state *ns = w->io;
	struct dns_server *srv = w->srv;
	zone_reader_register();
	while (!atomic_load_explicit(&srv->stop, memory_order_relaxed)) {
		struct pollfd pfd[2] = { { .fd = ns->fd4, .events = POLLIN },
					 { .fd = ns->fd6, .events = POLLIN } };
		(void)poll(pfd, 2, NOTIFY_TICK_MS);
		uint64_t now = time_mono_ns();
		if (ns->fd4 >= 0 && (pfd[0].revents & POLLIN))
			notify_read(ns, ns->fd4, now);
		if (ns->fd6 >= 0 && (pfd[1].revents & POLLIN))
			notify_read(ns, ns->fd6, now);
		zone_read_lock();
		const struct zone_snapshot *s = zone_current(srv->zone);
		bool fresh = false;
		uint32_t serial = 0;
		if (s) {
			serial = zone_snapshot_soa(s)->serial;
			fresh = !ns->have_serial || serial != ns->serial;
			if (fresh)
				notify_soa(ns, s);
		}
		zone_read_unlock();
		if (fresh) {
			ns->have_serial = true;
			ns->serial = serial;
			notify_serial(ns, serial, now);
		}
		notify_timers(ns, now);
	}
	zone_reader_unregister();
	return NULL;
}

int dns_notify_prepare(struct dns_worker *w)
{
	const struct dns_server_config *cfg = &w->srv->cfg;
	struct notify_state *ns = calloc(1, sizeof *ns);
	if (!ns)
		return DNS_ENOMEM;
	ns->srv = w->srv;
	ns->fd4 = ns->fd6 = -1;
	ns->peers = calloc(cfg->n_notify, sizeof *ns->peers);
	ns->zone_len = dns_name_to_wire(cfg->dns.zone, ns->zone, true, NULL);
	if (!ns->peers || ns->zone_len == 0)
		goto fail;
	ns->n = cfg->n_notify;
	for (unsigned i = 0; i < ns->n; i++) {
		struct notify_peer *p = &ns->peers[i];
		p->addr = cfg->notify[i];
		p->len = cfg->notify_len[i];
		sockaddr_ip((struct sockaddr *)&p->addr, p->ip);
		p->port = ntohs(p->addr.ss_family == AF_INET6
					? ((struct sockaddr_in6 *)&p->addr)->sin6_port
					: ((struct sockaddr_in *)&p->addr)->sin_port);
		sockaddr_format((struct sockaddr *)&p->addr, p->text, sizeof p->text);
		int *fd = p->addr.ss_family == AF_INET6 ? &ns->fd6 : &ns->fd4;
		if (*fd < 0)
			*fd = socket(p->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (*fd < 0)
			goto fail;
		dns_secondary_notify_state(p->ip, p->port, 0, 0, 0, false);
		/* A NOTIFY makes the secondary ask for the zone: say at start when it may not. */
		if (!dns_xfr_allowed(&cfg->xfr, p->ip))
			log_warn("notify", "secondary=%s is outside transfer_allow: the transfers it "
				 "asks for after a NOTIFY will be refused", p->text);
	}
	w->io = ns;
	return DNS_OK;
fail:
	w->io = ns;
	dns_notify_release(w);
	return DNS_EIO;
}

void dns_notify_release(struct dns_worker *w)
{
	struct notify_state *ns = w->io;
	if (!ns)
		return;
	if (ns->fd4 >= 0)
		close(ns->fd4);
	if (ns->fd6 >= 0)
		close(ns->fd6);
	free(ns->peers);
	free(ns);
	w->io = NULL;
}
