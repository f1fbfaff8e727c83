/* intake.c - the writer's benchmarks: events per second to a committed state, the time from
 * "acknowledged" to "answered by DNS", the start-up rebuild of 1M listings, and a DNS server
 * whose zone changes at a fixed rate while qblast loads it (bench/intake.sh drives it).
 *
 *   bench_intake throughput [--events N] [--producers P] [--batch B]   (B events per call)
 *   bench_intake rebuild [--listings N]
 *   bench_intake serve --port PORT [--changes R] [--seconds S] [--listings N]
 *
 * Everything runs in one process on a temporary data directory (removed at exit), with the
 * real store (SQLite, WAL, synchronous=NORMAL), the real writer and, for serve, the real DNS
 * server on 127.0.0.1. The last line of each mode is machine-readable: "RESULT key=value ...". */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "dns/dns.h"
#include "policy/policy.h"
#include "store/store.h"
#include "writer/writer.h"
#include "zone/zone.h"

static char data_dir[256];

static void cleanup(void)
{
	if (data_dir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "intake: could not remove %s\n", data_dir);
	}
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "intake: %s failed (%d)\n", what, rc);
	exit(1);
}

static void defaults_make(struct zone_defaults *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->soa.mname, sizeof(d->soa.mname), "ns1.bl.example.org");
	snprintf(d->soa.rname, sizeof(d->soa.rname), "hostmaster.bl.example.org");
	d->soa.ttl = 3600;
	d->soa.refresh = 600;
	d->soa.retry = 300;
	d->soa.expire = 86400;
	d->soa.minimum = 300;
	d->ns.ttl = 3600;
	zone_ns_add(&d->ns, "ns1.bl.example.org");
	d->ttl = 2100;
	d->a = 0x7f000002;
	d->txt = "Listed - see http://127.0.0.1:8080/lookup?ip=$";
}

/* Public-looking IPv4 addresses (never in the default exclusions): 11.0.0.0 + i. */
static void ip_mapped(uint32_t i, uint8_t out[16])
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	uint32_t ip = 0x0b000000u + i;
	out[12] = (uint8_t)(ip >> 24);
	out[13] = (uint8_t)(ip >> 16);
	out[14] = (uint8_t)(ip >> 8);
	out[15] = (uint8_t)ip;
}

struct bench {
	struct store *store;
	struct zone_handle *zone;
	struct writer *writer;
};

static void bench_open(struct bench *b)
{
	snprintf(data_dir, sizeof(data_dir), "/tmp/trapline-intake.XXXXXX");
	if (!mkdtemp(data_dir))
		die("mkdtemp", errno);
	atexit(cleanup);
	int rc = store_open(data_dir, &b->store);
	if (rc)
		die("store_open", rc);
	b->zone = zone_handle_new();
	zone_reader_register();
}

static double bench_start_writer(struct bench *b)
{
	struct writer_config wc;
	memset(&wc, 0, sizeof(wc));
	policy_config_defaults(&wc.policy);
	wc.zone = "bl.example.org";
	wc.export_dir = "";
	struct zone_defaults d;
	defaults_make(&d);
	uint64_t t0 = time_mono_ns();
	int rc = writer_start(&wc, b->store, b->zone, &d, &b->writer);
	if (rc)
		die("writer_start", rc);
	return (double)(time_mono_ns() - t0) / 1e9;
}

static void bench_close(struct bench *b)
{
	writer_stop(b->writer);
	zone_reader_unregister();
	zone_handle_free(b->zone);
	store_close(b->store);
}

static void evidence_make(struct writer_event *ev, uint32_t i, bool trap)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = WRITER_EV_EVIDENCE;
	ip_mapped(i, ev->evidence.ip);
	ev->evidence.kind = trap ? STORE_KIND_TRAP : STORE_KIND_REPORT;
	ev->evidence.cls = STORE_CLASS_SPAM;
	ev->evidence.received_at = time_now();
	snprintf(ev->evidence.source, sizeof(ev->evidence.source), "trap%u@traps.example", i % 7);
}

/* ---- throughput ---- */

struct producer {
	struct writer *w;
	uint32_t first, count, batch;
	atomic_ulong *failed;
};

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct writer_event evs[256];
	int results[256];
	for (uint32_t i = 0; i < p->count; i += p->batch) {
		uint32_t k = p->count - i < p->batch ? p->count - i : p->batch;
		/* Two events per address, so half of them also list an address. */
		for (uint32_t j = 0; j < k; j++)
			evidence_make(&evs[j], p->first + (i + j) / 2, true);
		writer_submit_many(p->w, evs, k, results);
		for (uint32_t j = 0; j < k; j++)
			if (results[j] != WRITER_OK)
				atomic_fetch_add(p->failed, 1);
	}
	return NULL;
}

static int mode_throughput(unsigned long events, unsigned producers, unsigned batch)
{
	struct bench b;
	bench_open(&b);
	bench_start_writer(&b);
	pthread_t tid[64];
	struct producer pr[64];
	atomic_ulong failed = 0;
	uint64_t t0 = time_mono_ns();
	for (unsigned i = 0; i < producers; i++) {
		pr[i] = (struct producer){b.writer, (uint32_t)(i * (events / producers)),
					  (uint32_t)(events / producers), batch, &failed};
		pthread_create(&tid[i], NULL, producer_main, &pr[i]);
	}
	for (unsigned i = 0; i < producers; i++)
		pthread_join(tid[i], NULL);
	double s = (double)(time_mono_ns() - t0) / 1e9;
	unsigned long done = (events / producers) * producers;
	bench_close(&b);
	printf("%lu events from %u producers, %u per call, each acknowledged after its commit, in "
	       "%.2f s\n", done, producers, batch, s);
	printf("RESULT events=%lu producers=%u batch=%u seconds=%.3f events_per_s=%.0f failed=%lu\n",
	       done, producers, batch, s, (double)done / s, (unsigned long)failed);
	return failed ? 1 : 0;
}

/* ---- rebuild ---- */

static int mode_rebuild(unsigned long listings)
{
	struct bench b;
	bench_open(&b);
	int64_t now = time_now();
	uint64_t t0 = time_mono_ns();
	int rc = store_begin(b.store);
	for (unsigned long i = 0; i < listings && rc == 0; i++) {
		struct store_listing l;
		memset(&l, 0, sizeof(l));
		ip_mapped((uint32_t)i, l.ip);
		l.listed_at = now - 60;
		l.last_evidence_at = now - 60;
		l.expires_at = now + 86400;
		l.traps = 2;
		l.score = 10;
		l.reason = POLICY_REASON_TRAPS;
		rc = store_listing_put(b.store, &l);
	}
	if (rc == 0)
		rc = store_commit(b.store);
	if (rc)
		die("store listings", rc);
	double fill = (double)(time_mono_ns() - t0) / 1e9;
	double start = bench_start_writer(&b);
	zone_read_lock();
	size_t n = zone_snapshot_count(zone_current(b.zone));
	zone_read_unlock();
	bench_close(&b);
	printf("%lu listings stored in %.2f s; writer_start (read them, build and publish the zone) "
	       "%.3f s; zone entries %zu\n", listings, fill, start, n);
	printf("RESULT listings=%lu rebuild_s=%.3f zone_entries=%zu\n", listings, start, n);
	return n >= listings ? 0 : 1;
}

/* ---- serve: DNS under change, and acknowledged-to-answered latency ---- */

static atomic_bool stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

/* Asks the server for 4.3.2.1.bl.example.org A until it answers NOERROR; returns the µs. */
static double ask_until_listed(int fd, const struct sockaddr_in *srv, uint32_t ip)
{
	uint8_t q[512], r[512];
	uint64_t t0 = time_mono_ns();
	for (int tries = 0; tries < 20000; tries++) {
		size_t n = 12;
		memset(q, 0, 12);
		q[0] = (uint8_t)(tries >> 8);
		q[1] = (uint8_t)tries;
		q[5] = 1; /* QDCOUNT */
		char name[64];
		snprintf(name, sizeof(name), "%u.%u.%u.%u.bl.example.org", ip & 255, ip >> 8 & 255,
			 ip >> 16 & 255, ip >> 24);
		for (char *lab = strtok(name, "."); lab; lab = strtok(NULL, ".")) {
			size_t l = strlen(lab);
			q[n++] = (uint8_t)l;
			memcpy(q + n, lab, l);
			n += l;
		}
		q[n++] = 0;
		q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 1;
		sendto(fd, q, n, 0, (const struct sockaddr *)srv, sizeof(*srv));
		ssize_t got = recv(fd, r, sizeof(r), 0);
		if (got >= 12 && (r[3] & 15) == 0 && r[7] > 0)
			return (double)(time_mono_ns() - t0) / 1e3;
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static atomic_ulong change_failed;
static int producer_cpu = -1; /* --producer-cpu: where the producer runs (-1: with the rest) */
static unsigned phase_ms;     /* --phase-ms: changes on and off by turns, this long each */

/* ---- phases: the same process, the same load, changes on and off by turns ---- */

#define PHASES_MAX 4096

struct phases {
	uint64_t len_ns, start_ns;
	size_t n;                      /* phases ended */
	uint64_t queries[PHASES_MAX];  /* queries answered in each */
	double qps[PHASES_MAX];        /* the same per second of the phase as it was measured */
	uint64_t last_q, last_t;
};

static uint64_t served(const struct dns_server *srv)
{
	struct dns_stats st;
	dns_server_stats(srv, &st);
	return st.queries;
}

/* Phase i (from 0) has changes when i is odd. Records the phases that ended by now: the
 * producer notices the end late when it was waiting for an acknowledgement, so each phase's
 * rate is over the time it was actually counted. */
static bool phase_on(struct phases *ph, const struct dns_server *srv, uint64_t now)
{
	size_t cur = (size_t)((now - ph->start_ns) / ph->len_ns);
	if (ph->n == 0 && ph->last_t == 0)
		ph->last_t = ph->start_ns;
	if (ph->n < cur && ph->n < PHASES_MAX) {
		uint64_t q = served(srv), t = time_mono_ns();
		ph->queries[ph->n] = q - ph->last_q;
		ph->qps[ph->n] = (double)(q - ph->last_q) * 1e9 / (double)(t - ph->last_t);
		ph->n++;
		/* A phase that went by unnoticed (it cannot: they last 100 ms or more) counts 0. */
		while (ph->n < cur && ph->n < PHASES_MAX)
			ph->queries[ph->n] = 0, ph->qps[ph->n++] = 0;
		ph->last_q = q;
		ph->last_t = t;
	}
	return cur % 2 == 1;
}

/* The median over the phases with changes of their queries against the mean of the two
 * phases without around them; phases while the load starts or stops (under 80% of the median
 * phase) are left out. Returns the number of ratios, each in r. */
static size_t phases_ratio(const struct phases *ph, double *median, double *r)
{
	double q[PHASES_MAX];
	for (size_t i = 0; i < ph->n; i++)
		q[i] = ph->qps[i];
	qsort(q, ph->n, sizeof *q, cmp_double);
	double low = ph->n ? 0.8 * q[ph->n / 2] : 0;
	size_t k = 0;
	for (size_t i = 1; i + 1 < ph->n; i += 2) {
		double a = ph->qps[i - 1], b = ph->qps[i], c = ph->qps[i + 1];
		if (a < low || b < low || c < low)
			continue;
		r[k++] = b / ((a + c) / 2);
	}
	double *sorted = malloc((k ? k : 1) * sizeof *sorted);
	if (!sorted)
		die("phases", ENOMEM);
	memcpy(sorted, r, k * sizeof *r);
	qsort(sorted, k, sizeof *sorted, cmp_double);
	*median = k ? sorted[k / 2] : 0;
	free(sorted);
	return k;
}
/* The producer's pacing tick. */
#define PACE_TICK_NS 10000000ull

static sem_t acked;

/* The writer's callback for a posted change (on the writer's thread). */
static void change_done(void *arg, int result)
{
	if (result != WRITER_OK)
		atomic_fetch_add(&change_failed, 1);
	if (arg)
		sem_post(arg);
}

static int mode_serve(unsigned port, unsigned rate, unsigned seconds, unsigned long listings)
{
	struct bench b;
	bench_open(&b);
	if (listings) { /* a zone of realistic size to change */
		int64_t now = time_now();
		int rc = store_begin(b.store);
		for (unsigned long i = 0; i < listings && rc == 0; i++) {
			struct store_listing l;
			memset(&l, 0, sizeof(l));
			ip_mapped((uint32_t)(0x800000 + i), l.ip);
			l.listed_at = l.last_evidence_at = now - 60;
			l.expires_at = now + 86400;
			l.traps = 2;
			l.score = 10;
			l.reason = POLICY_REASON_TRAPS;
			rc = store_listing_put(b.store, &l);
		}
		if (rc || store_commit(b.store))
			die("store listings", rc);
	}
	bench_start_writer(&b);
	struct dns_server_config sc;
	memset(&sc, 0, sizeof(sc));
	snprintf(sc.dns.zone, sizeof(sc.dns.zone), "bl.example.org");
	sc.dns.edns_udp_max = 1232;
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	sc.n_listen = 1;
	if (sockaddr_parse(addr, &sc.listen[0], &sc.listen_len[0]))
		die("address", 0);
	sc.threads = 1;
	sc.tcp_max_conns = 16;
	sc.tcp_idle_ms = 1000;
	sc.udp_spin_us = 100;
	struct dns_server *srv;
	if (dns_server_bind(&sc, &srv) || dns_server_start(srv, b.zone))
		die("dns server", 0);
	/* The producer stands for the mail arriving from outside, as qblast stands for the
	 * resolvers: on their core it leaves the writer's and the DNS worker's cost on this one
	 * (threads started so far keep the CPU set the process was started with). */
	if (producer_cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(producer_cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
			die("producer cpu", 0);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready port=%u changes_per_s=%u\n", port, rate);
	fflush(stdout);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = {0, 100000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(0x7f000001)};
	double *lat = calloc((size_t)seconds * 64 + 64, sizeof(double));
	size_t nlat = 0;
	unsigned long changes = 0;
	uint64_t t0 = time_mono_ns(), end = t0 + (uint64_t)seconds * 1000000000u;
	uint32_t next_ip = 1;
	struct writer_event ev;
	sem_init(&acked, 0, 0);
	static struct phases ph;
	ph.len_ns = (uint64_t)phase_ms * 1000000u;
	ph.start_ns = t0;
	uint64_t pace_t0 = t0, pace_k = 0;
	bool was_on = false;
	while (!atomic_load(&stop) && time_mono_ns() < end) {
		uint64_t now = time_mono_ns();
		if (phase_ms && rate) {
			bool on = phase_on(&ph, srv, now);
			if (!on) {
				uint64_t next = ph.start_ns + ((now - ph.start_ns) / ph.len_ns + 1) * ph.len_ns;
				struct timespec ts = {0, (long)(next - now)};
				nanosleep(&ts, NULL);
				was_on = false;
				continue;
			}
			if (!was_on) /* a new phase with changes: pace from its start */
				pace_t0 = now, pace_k = 0;
			was_on = true;
		}
		if (rate == 0) {
			struct timespec ts = {0, 50000000};
			nanosleep(&ts, NULL);
			continue;
		}
		/* Paced: change k is due at t0 + k / rate, posted at the start of its 10 ms tick
		 * with the others of that tick, as an event loop hands over what one wake-up
		 * brought (one wake-up per change cost the client's core 4% at 1,000/s). Two trap
		 * hits list an address. */
		uint64_t off = pace_k * 1000000000ull / rate;
		uint64_t due = pace_t0 + off - off % PACE_TICK_NS;
		if (now < due) {
			struct timespec ts = {0, (long)(due - now)};
			nanosleep(&ts, NULL);
		}
		pace_k++;
		uint32_t ip = next_ip++;
		evidence_make(&ev, ip, true);
		/* Posted, as an SMTP server's event loop would: the first hit does not list, the
		 * second does. Every 100th change waits for its acknowledgement and then asks DNS
		 * how long until it answers (not with phases: their ends must be on time). */
		bool sample = !phase_ms && changes % 100 == 1 && nlat < (size_t)seconds * 64;
		int rc = writer_post(b.writer, &ev, change_done, NULL);
		if (rc == WRITER_OK)
			rc = writer_post(b.writer, &ev, change_done, sample ? &acked : NULL);
		if (rc != WRITER_OK)
			atomic_fetch_add(&change_failed, 1);
		changes++;
		if (rc == WRITER_OK && sample) {
			while (sem_wait(&acked) != 0)
				;
			double us = ask_until_listed(fd, &sa, 0x0b000000u + ip);
			if (us >= 0)
				lat[nlat++] = us;
		}
	}
	double s = (double)(time_mono_ns() - t0) / 1e9;
	qsort(lat, nlat, sizeof(double), cmp_double);
	double p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(nlat * 99) / 100] : 0;
	struct dns_stats st;
	dns_server_stats(srv, &st);
	dns_server_stop(srv);
	close(fd);
	free(lat);
	bench_close(&b);
	double pr = 0, ratios[PHASES_MAX / 2];
	size_t npr = phase_ms ? phases_ratio(&ph, &pr, ratios) : 0;
	if (phase_ms) { /* the raw figures, even phases without changes, odd ones with */
		printf("phases ms=%u queries:", phase_ms);
		for (size_t i = 0; i < ph.n; i++)
			printf(" %llu", (unsigned long long)ph.queries[i]);
		printf("\nPHASE_RATIOS");
		for (size_t i = 0; i < npr; i++)
			printf(" %.4f", ratios[i]);
		printf("\n");
	}
	printf("RESULT seconds=%.1f changes=%lu changes_per_s=%.0f ack_to_dns_p50_us=%.0f "
	       "ack_to_dns_p99_us=%.0f samples=%zu queries=%llu failed=%lu phase_ratio=%.3f "
	       "phase_pairs=%zu\n",
	       s, changes, (double)changes / s, p50, p99, nlat, (unsigned long long)st.queries,
	       (unsigned long)atomic_load(&change_failed), pr, npr);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_intake throughput|rebuild|serve [options]\n");
		return 2;
	}
	unsigned long events = 200000, listings = 1000000;
	unsigned producers = 8, port = 0, rate = 1000, seconds = 10, batch = 1;
	bool listings_set = false;
	for (int i = 2; i + 1 < argc; i += 2) {
		unsigned long v = strtoul(argv[i + 1], NULL, 10);
		if (!strcmp(argv[i], "--events"))
			events = v;
		else if (!strcmp(argv[i], "--producers"))
			producers = v < 1 ? 1 : v > 64 ? 64 : (unsigned)v;
		else if (!strcmp(argv[i], "--batch"))
			batch = v < 1 ? 1 : v > 256 ? 256 : (unsigned)v;
		else if (!strcmp(argv[i], "--listings"))
			listings = v, listings_set = true;
		else if (!strcmp(argv[i], "--port"))
			port = (unsigned)v;
		else if (!strcmp(argv[i], "--changes"))
			rate = (unsigned)v;
		else if (!strcmp(argv[i], "--seconds"))
			seconds = v > 3600 ? 3600 : (unsigned)v;
		else if (!strcmp(argv[i], "--producer-cpu"))
			producer_cpu = (int)v;
		else if (!strcmp(argv[i], "--phase-ms"))
			phase_ms = v > 60000 ? 60000 : (unsigned)v;
		else {
			fprintf(stderr, "bench_intake: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	log_set_level(LOG_LEVEL_WARN);
	if (!strcmp(argv[1], "throughput"))
		return mode_throughput(events, producers, batch);
	if (!strcmp(argv[1], "rebuild"))
		return mode_rebuild(listings);
	if (!strcmp(argv[1], "serve") && port)
		return mode_serve(port, rate, seconds, listings_set ? listings : 0);
	fprintf(stderr, "bench_intake: unknown mode or missing --port\n");
	return 2;
}
