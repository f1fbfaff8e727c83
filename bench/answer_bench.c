/* answer_bench.c - microbenchmark of dns_answer alone: ns per query over a 1M-entry snapshot, no sockets.
 *
 * Not part of the CMake build. From the source root, after `cmake --build build`:
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/answer_bench.c build/libtrapline_core.a \
 *      $(pkg-config --libs liburcu-memb) -lpthread -o /tmp/answer_bench && /tmp/answer_bench
 * Optional arguments: the number of queries (default 10000000), then "glue" to configure
 * addresses for ns1.bl.example.org (ns_addr) and see that address lookups do not pay for it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns.h"
#include "zone/zone.h"

#ifndef ENTRIES
#define ENTRIES 1000000 /* -DENTRIES=1000 to see the core without cache misses */
#endif
#define NQ 8192 /* distinct prepared queries, cycled; larger than L1 so lookups are not all hot */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static size_t put_name(uint8_t *b, const char *name)
{
	size_t o = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		b[o++] = (uint8_t)l;
		memcpy(b + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	return o;
}

static size_t make_query(uint8_t *b, const char *name, uint16_t qtype, int edns)
{
	memset(b, 0, 12);
	b[0] = (uint8_t)rng();
	b[1] = (uint8_t)rng();
	b[2] = 0x01;
	b[5] = 1;
	b[11] = edns ? 1 : 0;
	size_t p = 12 + put_name(b + 12, name);
	b[p++] = (uint8_t)(qtype >> 8);
	b[p++] = (uint8_t)qtype;
	b[p++] = 0;
	b[p++] = 1;
	if (edns) {
		static const uint8_t opt[11] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
		memcpy(b + p, opt, sizeof opt);
		p += sizeof opt;
	}
	return p;
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 10000000L;
	static uint32_t listed[ENTRIES];
	struct zone_defaults d;

	memset(&d, 0, sizeof d);
	strcpy(d.soa.mname, "ns1.bl.example.org");
	strcpy(d.soa.rname, "hostmaster.bl.example.org");
	d.soa.serial = 1;
	d.soa.minimum = 300;
	d.soa.ttl = 3600;
	d.ttl = 2100;
	d.a = 0x7f000002;
	d.txt = "Listed, see https://bl.example.org/lookup?ip=$";
	if (argc > 2 && strcmp(argv[2], "glue") == 0)
		zone_glue_add(&d.glue, "ns1.bl.example.org", false, 0xC0000235, NULL);
	struct zone_builder *b = zone_builder_new(&d);
	uint16_t def;
	if (!b || zone_builder_default_class(b, &def))
		return 1;
	for (size_t i = 0; i < ENTRIES; i++) {
		listed[i] = rng();
		if (zone_builder_add4(b, listed[i], listed[i], def))
			return 1;
	}
	struct zone_snapshot *snap;
	if (zone_snapshot_build(b, &snap))
		return 1;
	zone_builder_free(b);

	struct dns_config cfg;
	memset(&cfg, 0, sizeof cfg);
	strcpy(cfg.zone, "bl.example.org");
	cfg.edns_udp_max = 1232;
	struct dns_ctx *ctx = dns_ctx_new(&cfg);
	if (!ctx)
		return 1;

	/* The mix a DNSBL sees: mostly A lookups of unlisted addresses, some listed, TXT for the
	 * listed ones, a few IPv6 and apex queries; a third carries EDNS. */
	static uint8_t qbuf[NQ][160];
	static size_t qlen[NQ];
	for (size_t i = 0; i < NQ; i++) {
		char name[256];
		unsigned kind = rng() % 100;
		uint32_t ip = kind < 30 || (kind >= 70 && kind < 85) ? listed[rng() % ENTRIES] : rng();
		uint16_t qtype = kind >= 70 && kind < 85 ? 16 : 1;
		snprintf(name, sizeof name, "%u.%u.%u.%u.bl.example.org", ip & 255, (ip >> 8) & 255,
			 (ip >> 16) & 255, ip >> 24);
		if (kind >= 95) {
			char *p = name;
			for (int k = 0; k < 32; k++)
				p += sprintf(p, "%x.", rng() & 15);
			strcpy(p, "bl.example.org");
		} else if (kind >= 93) {
			strcpy(name, "bl.example.org");
			qtype = 6;
		}
		qlen[i] = make_query(qbuf[i], name, qtype, rng() % 3 == 0);
	}

	static uint8_t out[DNS_MAX_UDP];
	size_t bytes = 0, answered = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < total; i++) {
		size_t k = (size_t)i & (NQ - 1);
		size_t n = dns_answer(ctx, snap, qbuf[k], qlen[k], out, sizeof out, false);
		bytes += n;
		answered += out[7] != 0; /* ANCOUNT low byte: keeps the work observable */
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("%ld queries, %.1f ns/query (%.2f M answers/s on one core), %zu with answers, "
	       "%zu bytes out\n",
	       total, ns / (double)total, (double)total / ns * 1e3, answered, bytes);
	dns_ctx_free(ctx);
	zone_snapshot_free(snap);
	return 0;
}
