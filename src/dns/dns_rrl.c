/* dns_rrl.c - response rate limiting (a shared table of CAS-updated buckets) and the usage limits (a count-min sketch per day, the public resolvers' prefixes); docs/rrl.md. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <urcu/urcu-memb.h>

#include "base/base.h"
#include "dns_internal.h"

/* ---- hashing ------------------------------------------------------------------ */

/* The finaliser of MurmurHash3 (public domain): every input bit reaches every output bit. */
static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Up to 8 bytes as a word; whole words are one load. */
static inline uint64_t load64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	if (n >= 8)
		memcpy(&v, p, 8);
	else
		memcpy(&v, p, n);
	return v;
}

/* One multiply and a shift per word: this runs for every UDP answer (bench/rrl.sh), and
 * mix64 once at the end spreads what it leaves to every bit of the slot index and tag. */
static inline uint64_t absorb(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 32);
}

/* Hash of a prefix (16 bytes), a class and a name, seeded. The name is folded to lowercase
 * by setting bit 0x20 of every byte, eight at a time: names that differ only in that bit
 * (case, or label lengths 32 apart) share a bucket, which can only limit sooner. */
static uint64_t key_hash(uint64_t seed, const uint8_t prefix[16], unsigned cls,
			 const uint8_t *name, size_t len)
{
	uint64_t h = seed ^ ((uint64_t)cls << 56) ^ len;
	h = absorb(h, load64(prefix, 8));
	h = absorb(h, load64(prefix + 8, 8));
	for (size_t o = 0; o < len; o += 8)
		h = absorb(h, load64(name + o, len - o) | 0x2020202020202020ull);
	return mix64(h);
}

static uint64_t random_seed(void)
{
	uint64_t s = 0;
	/* A seed the client cannot guess, so nobody can aim many keys at one bucket. */
	if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
		s = time_mono_ns() ^ (uint64_t)(uintptr_t)&s;
	return s;
}

void dns_client_prefix(const uint8_t ip[16], unsigned v4_prefix, unsigned v6_prefix,
		       uint8_t out[16])
{
	unsigned bits = ip_is_v4(ip) ? 96 + v4_prefix : v6_prefix;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : (bits > 8 * i ? bits - 8 * i : 0);
		out[i] = (uint8_t)(ip[i] & (uint8_t)(0xFF00u >> keep));
	}
}

/* ---- the rate limiter ------------------------------------------------------------ */

/* A slot is one word: the key's tag (32 bits), the second it counts (16 bits, the low bits
 * of the monotonic second) and the answers counted in it (16 bits). */
#define RRL_SEC_SHIFT 16
#define RRL_COUNT_MASK 0xFFFFull

struct dns_rrl {
	struct dns_rrl_config cfg;
	uint64_t seed;
	uint64_t mask;
	_Atomic uint64_t *slots;
	bool owns_slots; /* false: a view of another table's slots (dns_rrl_view) */
};

bool dns_rrl_step(uint64_t word, uint32_t tag, uint64_t now_s, unsigned rate, uint64_t *next)
{
	uint64_t head = ((uint64_t)tag << 32) | ((now_s & 0xFFFFu) << RRL_SEC_SHIFT);
	if ((word & ~RRL_COUNT_MASK) != head) {
		/* Another key (a collision takes the slot over: the other key's count restarts,
		 * so a collision can only let answers through) or an earlier second. */
		*next = head | 1u;
		return rate >= 1;
	}
	if ((word & RRL_COUNT_MASK) >= rate) {
		*next = word;
		return false;
	}
	*next = word + 1;
	return true;
}

struct dns_rrl *dns_rrl_new(const struct dns_rrl_config *cfg, unsigned slots)
{
	if (slots == 0 || (slots & (slots - 1)) != 0)
		return NULL;
	struct dns_rrl *rrl = calloc(1, sizeof *rrl);
	if (!rrl)
		return NULL;
	rrl->slots = calloc(slots, sizeof *rrl->slots);
	if (!rrl->slots) {
		free(rrl);
		return NULL;
	}
	rrl->cfg = *cfg;
	if (rrl->cfg.n_exempt > DNS_RRL_EXEMPT_MAX)
		rrl->cfg.n_exempt = DNS_RRL_EXEMPT_MAX;
	rrl->mask = slots - 1;
	rrl->seed = random_seed();
	rrl->owns_slots = true;
	return rrl;
}

struct dns_rrl *dns_rrl_view(const struct dns_rrl *table, const struct dns_rrl_config *cfg)
{
	struct dns_rrl *rrl = malloc(sizeof *rrl);
	if (!rrl)
		return NULL;
	*rrl = *table;
	rrl->cfg = *cfg;
	if (rrl->cfg.n_exempt > DNS_RRL_EXEMPT_MAX)
		rrl->cfg.n_exempt = DNS_RRL_EXEMPT_MAX;
	rrl->owns_slots = false;
	return rrl;
}

void dns_rrl_free(struct dns_rrl *rrl)
{
	if (!rrl)
		return;
	if (rrl->owns_slots)
		free(rrl->slots);
	free(rrl);
}

bool dns_rrl_exempt(const struct dns_rrl *rrl, const uint8_t client[16])
{
	for (unsigned i = 0; i < rrl->cfg.n_exempt; i++)
		if (ip_prefix_covers(&rrl->cfg.exempt[i], client))
			return true;
	return false;
}

bool dns_rrl_allow(struct dns_rrl *rrl, const uint8_t client[16], enum dns_rrl_class cls,
		   const uint8_t *qname, size_t qname_len, uint64_t now_s)
{
	uint8_t prefix[16];
	dns_client_prefix(client, rrl->cfg.v4_prefix, rrl->cfg.v6_prefix, prefix);
	/* The classes about an address count per name; the others per prefix alone. */
	if (cls != DNS_RRL_LISTED && cls != DNS_RRL_NEGATIVE)
		qname_len = 0;
	uint64_t h = key_hash(rrl->seed, prefix, (unsigned)cls, qname, qname ? qname_len : 0);
	_Atomic uint64_t *slot = &rrl->slots[h & rrl->mask];
	uint32_t tag = (uint32_t)(h >> 32);
	uint64_t old = atomic_load_explicit(slot, memory_order_relaxed), next;
	for (;;) {
		if (!dns_rrl_step(old, tag, now_s, rrl->cfg.rate, &next))
			return false; /* limited: nothing written, no cache line taken from others */
		if (atomic_compare_exchange_weak_explicit(slot, &old, next, memory_order_relaxed,
							  memory_order_relaxed))
			return true;
	}
}

/* ---- usage per day: a count-min sketch ------------------------------------------------ */

/* DEPTH rows of 2^WIDTH_LOG2 counters (1 MiB): a prefix's count is the least of its DEPTH
 * counters, which is never below the truth and, of N queries in a day, above it by more
 * than e*N/width with probability at most e^-DEPTH (1.8%): 415 queries for N = 10 million
 * (docs/rrl.md). */
#define USAGE_DEPTH 4
#define USAGE_WIDTH_LOG2 16

struct dns_usage {
	_Atomic int64_t day;
	uint64_t seed[USAGE_DEPTH];
	_Atomic uint32_t *counts; /* DEPTH rows */
};

struct dns_usage *dns_usage_new(void)
{
	struct dns_usage *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->counts = calloc((size_t)USAGE_DEPTH << USAGE_WIDTH_LOG2, sizeof *u->counts);
	if (!u->counts) {
		free(u);
		return NULL;
	}
	for (unsigned r = 0; r < USAGE_DEPTH; r++)
		u->seed[r] = random_seed();
	atomic_init(&u->day, -1);
	return u;
}

void dns_usage_free(struct dns_usage *u)
{
	if (!u)
		return;
	free(u->counts);
	free(u);
}

uint32_t dns_usage_count(struct dns_usage *u, const uint8_t prefix[16], int64_t day)
{
	const size_t width = (size_t)1 << USAGE_WIDTH_LOG2;
	int64_t d = atomic_load_explicit(&u->day, memory_order_relaxed);
	if (day > d && atomic_compare_exchange_strong(&u->day, &d, day)) {
		/* A new day: the one thread that moved the day clears the counts. Others count
		 * meanwhile; a few of their queries may be lost or kept, once a day. */
		for (size_t i = 0; i < width * USAGE_DEPTH; i++)
			atomic_store_explicit(&u->counts[i], 0, memory_order_relaxed);
	}
	uint32_t least = UINT32_MAX;
	for (unsigned r = 0; r < USAGE_DEPTH; r++) {
		uint64_t h = key_hash(u->seed[r], prefix, 0, NULL, 0);
		_Atomic uint32_t *c = &u->counts[r * width + (h & (width - 1))];
		uint32_t v = atomic_load_explicit(c, memory_order_relaxed);
		if (v < UINT32_MAX) /* saturates rather than wrapping to zero */
			v = atomic_fetch_add_explicit(c, 1, memory_order_relaxed) + 1;
		if (v < least)
			least = v;
	}
	return least;
}

/* ---- a set of prefixes (public_resolvers) --------------------------------------------- */

/* Sorted by length, then address; a lookup masks the address once per distinct length and
 * searches that length's run: a few binary searches whatever the file's size. */
struct dns_prefix_set {
	struct ip_prefix *p;
	size_t n;
	unsigned n_lens;
	struct {
		uint8_t plen;
		size_t first, count;
	} lens[129];
};

static int prefix_cmp(const void *a, const void *b)
{
	const struct ip_prefix *x = a, *y = b;
	if (x->plen != y->plen)
		return x->plen > y->plen ? -1 : 1; /* longest first */
	return memcmp(x->addr, y->addr, 16);
}

static int set_add_line(struct ip_prefix **arr, size_t *cap, size_t *n, const char *s,
			size_t len)
{
	struct ip_prefix p;
	if (memchr(s, '/', len)) {
		if (ip_prefix_parse(s, len, &p) != BASE_OK)
			return DNS_EINVAL;
	} else {
		if (ip_parse(s, len, p.addr) != BASE_OK)
			return DNS_EINVAL;
		p.plen = 128;
	}
	if (array_grow((void **)arr, cap, *n + 1, sizeof **arr) != BASE_OK)
		return DNS_ENOMEM;
	(*arr)[(*n)++] = p;
	return DNS_OK;
}

static void set_index(struct dns_prefix_set *s)
{
	qsort(s->p, s->n, sizeof *s->p, prefix_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (s->n_lens == 0 || s->lens[s->n_lens - 1].plen != s->p[i].plen) {
			s->lens[s->n_lens].plen = s->p[i].plen;
			s->lens[s->n_lens].first = i;
			s->lens[s->n_lens].count = 0;
			s->n_lens++;
		}
		s->lens[s->n_lens - 1].count++;
	}
}

int dns_prefix_set_load(const char *path, struct dns_prefix_set **out, char *err,
			size_t errcap)
{
	struct dns_prefix_set *s = calloc(1, sizeof *s);
	size_t cap = 0, lineno = 0;
	char line[512];
	int rc = DNS_OK;
	*out = NULL;
	if (!s)
		return DNS_ENOMEM;
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		free(s);
		return DNS_EIO;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *b = line, *e = line + strlen(line);
		while (*b == ' ' || *b == '\t')
			b++;
		while (e > b && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == b)
			continue;
		rc = set_add_line(&s->p, &cap, &s->n, b, (size_t)(e - b));
		if (rc != DNS_OK) {
			snprintf(err, errcap, "%s:%zu: not an address or prefix", path, lineno);
			break;
		}
	}
	fclose(f);
	if (rc != DNS_OK) {
		dns_prefix_set_free(s);
		return rc;
	}
	set_index(s);
	*out = s;
	return DNS_OK;
}

void dns_prefix_set_free(struct dns_prefix_set *s)
{
	if (!s)
		return;
	free(s->p);
	free(s);
}

size_t dns_prefix_set_count(const struct dns_prefix_set *s)
{
	return s ? s->n : 0;
}

bool dns_prefix_set_has(const struct dns_prefix_set *s, const uint8_t ip[16])
{
	for (unsigned k = 0; k < s->n_lens; k++) {
		struct ip_prefix key = {.plen = s->lens[k].plen};
		unsigned bits = key.plen;
		for (unsigned i = 0; i < 16; i++) {
			unsigned keep = bits >= 8 * (i + 1) ? 8 : (bits > 8 * i ? bits - 8 * i : 0);
			key.addr[i] = (uint8_t)(ip[i] & (uint8_t)(0xFF00u >> keep));
		}
		if (bsearch(&key, s->p + s->lens[k].first, s->lens[k].count, sizeof key,
			    prefix_cmp))
			return true;
	}
	return false;
}

/* ---- what a worker asks ------------------------------------------------------------- */

const struct dns_limits *dns_limits_current(struct dns_worker *w)
{
	const struct dns_limits *lim = rcu_dereference(w->srv->limits);
	if (lim->gen != w->limits_gen) { /* once per reload: the codes are copied */
		dns_ctx_codes_set(w->ctx, &lim->codes);
		w->limits_gen = lim->gen;
	}
	return lim;
}

enum dns_client_mode dns_limits_mode(struct dns_worker *w, const struct dns_limits *lim,
				     const uint8_t addr[16], int64_t day)
{
	if (lim->public_resolvers && dns_prefix_set_has(lim->public_resolvers, addr)) {
		dns_stat_add(&w->stats.public_resolver, 1);
		return DNS_CLIENT_PUBLIC_RESOLVER;
	}
	if (!lim->usage)
		return DNS_CLIENT_NORMAL;
	uint8_t prefix[16];
	dns_client_prefix(addr, lim->v4_prefix, lim->v6_prefix, prefix);
	if (dns_usage_count(lim->usage, prefix, day) <= lim->usage_limit)
		return DNS_CLIENT_NORMAL;
	dns_stat_add(&w->stats.usage_excess, 1);
	return DNS_CLIENT_EXCESS;
}

size_t dns_limits_rrl(struct dns_worker *w, const struct dns_limits *lim, const uint8_t addr[16],
		      uint8_t *out, size_t len, const struct dns_answer_info *info, uint64_t now_s)
{
	struct dns_rrl *rrl = lim->rrl;
	if (dns_rrl_exempt(rrl, addr) ||
	    dns_rrl_allow(rrl, addr, info->cls, info->qname, info->qname_len, now_s))
		return len;
	unsigned slip = lim->slip;
	/* Every slip-th limited answer of this worker: a flood from one client mostly lands on
	 * one worker (SO_REUSEPORT hashes its address and port), so the ratio holds per client
	 * nearly as well as a per-bucket count would, without writing the shared slot again. */
	if (slip && ++w->rrl_limited % slip == 0) {
		dns_stat_add(&w->stats.rrl_slipped, 1);
		return dns_answer_slip(out, info);
	}
	dns_stat_add(&w->stats.rrl_dropped, 1);
	return 0;
}

/* Generations of the limits are numbered so that a worker can tell a new one from an old one
 * freed and a new one allocated at the same address. */
static uint64_t limits_generation;

int dns_limits_new(struct dns_server *srv, const struct dns_server_config *cfg,
		   struct dns_limits **out, char *err, size_t errcap)
{
	struct dns_limits *lim = calloc(1, sizeof *lim);
	*out = NULL;
	if (!lim)
		return DNS_ENOMEM;
	lim->gen = ++limits_generation;
	lim->slip = cfg->rrl.slip;
	lim->v4_prefix = cfg->rrl.v4_prefix;
	lim->v6_prefix = cfg->rrl.v6_prefix;
	lim->usage_limit = cfg->usage_limit_per_day;
	lim->codes = cfg->dns;
	/* The table and the day's counts are the server's, made the first time a generation
	 * needs them and kept by every later one: a reload changes the comparison, not what
	 * was counted. */
	if (cfg->rrl.rate > 0) {
		if (!srv->rrl_table &&
		    !(srv->rrl_table = dns_rrl_new(&cfg->rrl, DNS_RRL_SLOTS_DEFAULT)))
			goto fail_nomem;
		if (!(lim->rrl = dns_rrl_view(srv->rrl_table, &cfg->rrl)))
			goto fail_nomem;
	}
	if (cfg->usage_limit_per_day > 0) {
		if (!srv->usage && !(srv->usage = dns_usage_new()))
			goto fail_nomem;
		lim->usage = srv->usage;
	}
	if (cfg->public_resolvers[0]) {
		int rc = dns_prefix_set_load(cfg->public_resolvers, &lim->public_resolvers, err,
					     errcap);
		if (rc != DNS_OK) {
			dns_limits_free(lim);
			return rc;
		}
	}
	*out = lim;
	return DNS_OK;
fail_nomem:
	snprintf(err, errcap, "out of memory");
	dns_limits_free(lim);
	return DNS_ENOMEM;
}

void dns_limits_log(const struct dns_limits *lim, const char *what)
{
	log_info("dns", "%s rrl_rate=%u rrl_slip=%u rrl_exempt=%u usage_limit_per_day=%u "
		 "public_resolvers=%zu", what, lim->rrl ? lim->rrl->cfg.rate : 0, lim->slip,
		 lim->rrl ? lim->rrl->cfg.n_exempt : 0, lim->usage ? lim->usage_limit : 0,
		 dns_prefix_set_count(lim->public_resolvers));
}

void dns_limits_free(struct dns_limits *lim)
{
	if (!lim)
		return;
	dns_rrl_free(lim->rrl); /* a view: the server's table stays */
	dns_prefix_set_free(lim->public_resolvers);
	free(lim);
}

int dns_limits_check(const struct config *cfg, char *err, size_t errcap)
{
	struct dns_server_config *sc = calloc(1, sizeof *sc);
	char why[CONFIG_ERR_MAX];
	if (!sc)
		return DNS_ENOMEM;
	int rc = dns_limits_config_from(cfg, sc, err, errcap);
	if (rc == DNS_OK && sc->public_resolvers[0]) {
		struct dns_prefix_set *set = NULL;
		rc = dns_prefix_set_load(sc->public_resolvers, &set, why, sizeof why);
		if (rc != DNS_OK)
			snprintf(err, errcap, "public_resolvers: %.400s", why);
		dns_prefix_set_free(set);
	}
	free(sc);
	return rc;
}

int dns_server_reload(struct dns_server *srv, const struct config *cfg)
{
	char err[CONFIG_ERR_MAX];
	struct dns_limits *lim = NULL;
	if (!srv)
		return DNS_OK;
	struct dns_server_config *sc = calloc(1, sizeof *sc);
	if (!sc)
		return DNS_ENOMEM;
	sc->dns = srv->cfg.dns;
	int rc = dns_limits_config_from(cfg, sc, err, sizeof err);
	if (rc == DNS_OK)
		rc = dns_limits_new(srv, sc, &lim, err, sizeof err);
	free(sc);
	if (rc != DNS_OK) {
		char esc[TEXT_ESCAPED_MAX(CONFIG_ERR_MAX)];
		log_err("dns", "limits not reloaded error=\"%s\" keeping=old",
			text_escape(err, esc, sizeof esc));
		return rc;
	}
	/* Only this (the main) thread publishes: the workers read the pointer inside their
	 * read-side section, so the old limits are freed once every one has left it. */
	struct dns_limits *old = rcu_xchg_pointer(&srv->limits, lim);
	urcu_memb_synchronize_rcu();
	dns_limits_free(old);
	dns_limits_log(lim, "limits reloaded");
	return DNS_OK;
}

int dns_limits_config_from(const struct config *cfg, struct dns_server_config *sc, char *err,
			   size_t errcap)
{
	char why[CONFIG_ERR_MAX];
	sc->rrl.rate = cfg->rrl_rate;
	sc->rrl.slip = cfg->rrl_slip;
	sc->rrl.v4_prefix = cfg->rrl_ipv4_prefix;
	sc->rrl.v6_prefix = cfg->rrl_ipv6_prefix;
	if (config_cidrs_parse(cfg->rrl_exempt, sc->rrl.exempt, DNS_RRL_EXEMPT_MAX,
			       &sc->rrl.n_exempt, why, sizeof why) != BASE_OK) {
		snprintf(err, errcap, "rrl_exempt: %s", why);
		return DNS_EINVAL;
	}
	sc->usage_limit_per_day = cfg->usage_limit_per_day;
	snprintf(sc->public_resolvers, sizeof sc->public_resolvers, "%s", cfg->public_resolvers);
	sc->dns.answer_a_excess = cfg->answer_a_excess;
	sc->dns.answer_a_public_resolver = cfg->answer_a_public_resolver;
	/* Short: the code is about the client, not the address, and must not outlive the day
	 * in a resolver's cache. */
	sc->dns.code_ttl = 60;
	snprintf(sc->dns.txt_excess, sizeof sc->dns.txt_excess,
		 "Query limit exceeded - see %.400s/about/usage", cfg->public_url);
	snprintf(sc->dns.txt_public_resolver, sizeof sc->dns.txt_public_resolver,
		 "Queries through public resolvers are not answered - see %.400s/about/usage",
		 cfg->public_url);
	return DNS_OK;
}
