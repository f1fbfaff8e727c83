/* fuzz_zone_file.c - libFuzzer target: rbldnsd data files through the reader, build and lookups. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "zone/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		log_set_level(LOG_LEVEL_ERROR); /* every bad line warns; that is the point here */
		quiet = true;
	}
	struct zone_defaults d = { 0 };
	d.a = 0x7f000002;
	d.ttl = 60;
	d.txt = "listed $";
	struct zone_builder *b = zone_builder_new(&d);
	if (!b)
		return 0;
	struct zone_load_report rep;
	zone_load_rbldnsd_buf(b, "fuzz", (const char *)data, size, &rep);
	struct zone_snapshot *s = NULL;
	if (zone_snapshot_build(b, &s) == 0) {
		/* Probe addresses taken from the input itself, plus the fixed test points. */
		uint32_t probe[8] = { 0x7f000001, 0x7f000002, 0, UINT32_MAX };
		for (size_t i = 0; i < 4 && size >= (i + 1) * 4; i++)
			memcpy(&probe[4 + i], data + i * 4, 4);
		for (size_t i = 0; i < 8; i++) {
			const struct zone_class *c = zone_lookup4(s, probe[i]);
			if (c && c->txt && strlen(c->txt) != c->txt_len)
				__builtin_trap();
			zone_any4(s, probe[i] & 0xffffff00u, probe[i] | 0xff);
		}
		if (zone_lookup4(s, 0x7f000001) || !zone_lookup4(s, 0x7f000002))
			__builtin_trap(); /* RFC 5782 test points */
		uint8_t v6[16] = { 0 };
		memcpy(v6, data, size < 16 ? size : 16);
		zone_lookup6(s, v6);
		zone_any6(s, v6, 64);
		struct zone_change ch[2] = {
			{ .op = ZONE_CHANGE_SET, .ip4 = probe[4] },
			{ .op = ZONE_CHANGE_DELETE, .v6 = true, .plen6 = 64 },
		};
		memcpy(ch[1].ip6, v6, 16);
		struct zone_snapshot *n = NULL;
		if (zone_snapshot_apply(s, ch, 2, 1, &n) == 0) {
			if (!zone_lookup4(n, probe[4]) && probe[4] != 0x7f000001)
				__builtin_trap();
			zone_snapshot_free(n);
		}
		zone_snapshot_free(s);
	}
	zone_builder_free(b);
	return 0;
}
