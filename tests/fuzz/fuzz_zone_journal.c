/* fuzz_zone_journal.c - libFuzzer target: the IXFR journal's stored form and its serials. Any
 * bytes as a stored entry decode whole or not at all, encode back to the same bytes, and any
 * serials (wrap-around included) as the entries' ends and the client's serial give an IXFR
 * whose records are well formed, or ZONE_ENOTFOUND. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zone/zone.h"

static struct zone_snapshot *g_base;

static void fuzz_setup(void)
{
	struct zone_defaults d;
	memset(&d, 0, sizeof d);
	strcpy(d.soa.mname, "ns1.bl.example.org");
	strcpy(d.soa.rname, "hostmaster.bl.example.org");
	d.soa.ttl = 3600;
	d.ttl = 2100;
	d.a = 0x7f000002;
	d.txt = "Listed $";
	struct zone_builder *b = zone_builder_new(&d);
	zone_defaults_free(&d);
	zone_snapshot_build(b, &g_base);
	zone_builder_free(b);
	if (!g_base)
		__builtin_trap();
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g_base)
		fuzz_setup();
	if (size < 16)
		return 0;
	/* Serials: the entry's ends, the next entry's end, the client's. */
	uint32_t from = get32(data), to = get32(data + 4), next = get32(data + 8), client = get32(data + 12);
	const uint8_t *blob = data + 16;
	size_t len = size - 16;
	struct zone_jentry *e = NULL;
	int rc = zone_jentry_decode(from, to, 0, blob, len, &e);
	if (rc != ZONE_OK) {
		if (e)
			__builtin_trap();
		return 0;
	}
	uint8_t *back = NULL;
	size_t blen = 0;
	if (zone_jentry_encode(e, &back, &blen) != ZONE_OK || blen != len ||
	    (len && memcmp(back, blob, len) != 0))
		__builtin_trap();
	free(back);

	struct zone_journal *j = zone_journal_new(1u << 20, 0);
	zone_journal_add(j, e, 0);
	struct zone_jentry *e2 = NULL;
	if (zone_jentry_empty(to, next, 0, &e2) == ZONE_OK)
		zone_journal_add(j, e2, 0);
	struct zone_snapshot *s = NULL;
	if (zone_snapshot_apply(g_base, NULL, 0, next, &s) == ZONE_OK) {
		struct zone_ixfr *x = NULL;
		rc = zone_ixfr_new(j, s, "bl.example.org", client, &x);
		if (rc == ZONE_OK) {
			struct zone_rr rr;
			int k = 0;
			while ((rc = zone_ixfr_next(x, &rr)) == 1 && k++ < 1000000)
				if (rr.rdlen > 65535 || rr.owner_len > 66 || (rr.rdlen && !rr.rdata))
					__builtin_trap();
			if (rc < 0 && rc != ZONE_ETOOMANY && rc != ZONE_ENOMEM)
				__builtin_trap();
			zone_ixfr_free(x);
		} else if (rc != ZONE_ENOTFOUND && rc != ZONE_ENOMEM) {
			__builtin_trap();
		}
		zone_snapshot_free(s);
	}
	zone_journal_free(j);
	return 0;
}
