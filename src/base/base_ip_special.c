/* base_ip_special.c - the special-purpose address table: the IANA IPv4 and IPv6 Special-Purpose
 * Address Registries (RFC 6890, updated by RFC 8190 and the RFCs that added rows since) and
 * multicast, with each range's name and RFC, and the look-up every module judges addresses by. */
#include <stdio.h>
#include <string.h>

#include "base.h"

#define V4(a, b, c, d, n) {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d}, 96 + (n)}
#define V6(n, ...) {{__VA_ARGS__}, n}
#define NEVER_THIS "is a \"this network\" address (0.0.0.0/8), which no host sends from"

/* Rows as the registries name them (checked against the registries of October 2025). A
 * sub-block comes before its block, so that the first row that covers an address is the most
 * telling one; IPv4 rows first (ip_special_find looks at one family only). Multicast is not
 * in the special-purpose registries (it has registries of its own) but sends no mail either.
 * Rows the registries call globally reachable (AS112, AMT, the anycast addresses) are here
 * too: they are servers of one protocol, none of them a mail client. */
static const struct ip_special rows[] = {
	/* IPv4 */
	{V4(0, 0, 0, 0, 8), "\"This network\"", "RFC 791", NEVER_THIS, 0},
	{V4(10, 0, 0, 0, 8), "Private-Use", "RFC 1918", NULL, 0},
	{V4(100, 64, 0, 0, 10), "Shared Address Space", "RFC 6598", NULL, 0},
	{V4(127, 0, 0, 0, 8), "Loopback", "RFC 1122", NULL, 0},
	{V4(169, 254, 0, 0, 16), "Link Local", "RFC 3927", NULL, 0},
	{V4(172, 16, 0, 0, 12), "Private-Use", "RFC 1918", NULL, 0},
	{V4(192, 0, 0, 0, 29), "IPv4 Service Continuity Prefix", "RFC 7335", NULL, 0},
	{V4(192, 0, 0, 8, 32), "IPv4 dummy address", "RFC 7600", NULL, 0},
	{V4(192, 0, 0, 9, 32), "Port Control Protocol Anycast", "RFC 7723", NULL, 0},
	{V4(192, 0, 0, 10, 32), "Traversal Using Relays around NAT Anycast", "RFC 8155", NULL, 0},
	{V4(192, 0, 0, 170, 31), "NAT64/DNS64 Discovery", "RFC 8880", NULL, 0},
	{V4(192, 0, 0, 0, 24), "IETF Protocol Assignments", "RFC 6890", NULL, 0},
	{V4(192, 0, 2, 0, 24), "Documentation (TEST-NET-1)", "RFC 5737", NULL, 0},
	{V4(192, 31, 196, 0, 24), "AS112-v4", "RFC 7535", NULL, 0},
	{V4(192, 52, 193, 0, 24), "AMT", "RFC 7450", NULL, 0},
	{V4(192, 88, 99, 0, 24), "Deprecated (6to4 Relay Anycast)", "RFC 7526", NULL, 0},
	{V4(192, 168, 0, 0, 16), "Private-Use", "RFC 1918", NULL, 0},
	{V4(192, 175, 48, 0, 24), "Direct Delegation AS112 Service", "RFC 7534", NULL, 0},
	{V4(198, 18, 0, 0, 15), "Benchmarking", "RFC 2544", NULL, 0},
	{V4(198, 51, 100, 0, 24), "Documentation (TEST-NET-2)", "RFC 5737", NULL, 0},
	{V4(203, 0, 113, 0, 24), "Documentation (TEST-NET-3)", "RFC 5737", NULL, 0},
	{V4(224, 0, 0, 0, 4), "Multicast", "RFC 5771", "is a multicast address (224.0.0.0/4)", 0},
	{V4(255, 255, 255, 255, 32), "Limited Broadcast", "RFC 919", "is the broadcast address", 0},
	{V4(240, 0, 0, 0, 4), "Reserved", "RFC 1112", "is reserved (240.0.0.0/4)", 0},
	/* IPv6 */
	{V6(128, 0), "Unspecified Address", "RFC 4291", "is the unspecified address (::)", 0},
	{V6(128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), "Loopback Address", "RFC 4291",
	 NULL, 0},
	{V6(96, 0, 0x64, 0xff, 0x9b), "IPv4-IPv6 Translation (NAT64)", "RFC 6052", NULL, 12},
	{V6(48, 0, 0x64, 0xff, 0x9b, 0, 1), "IPv4-IPv6 Translation (local use)", "RFC 8215", NULL,
	 0},
	{V6(64, 0x01, 0x00), "Discard-Only Address Block", "RFC 6666", NULL, 0},
	{V6(64, 0x01, 0x00, 0, 0, 0, 0, 0, 1), "Dummy IPv6 Prefix", "RFC 9780", NULL, 0},
	{V6(32, 0x20, 0x01, 0, 0), "TEREDO", "RFC 4380", NULL, 0},
	{V6(128, 0x20, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
	 "Port Control Protocol Anycast", "RFC 7723", NULL, 0},
	{V6(128, 0x20, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2),
	 "Traversal Using Relays around NAT Anycast", "RFC 8155", NULL, 0},
	{V6(128, 0x20, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3),
	 "DNS-SD Service Registration Protocol Anycast", "RFC 9665", NULL, 0},
	{V6(48, 0x20, 0x01, 0, 2, 0, 0), "Benchmarking", "RFC 5180", NULL, 0},
	{V6(32, 0x20, 0x01, 0, 3), "AMT", "RFC 7450", NULL, 0},
	{V6(48, 0x20, 0x01, 0, 4, 0x01, 0x12), "AS112-v6", "RFC 7535", NULL, 0},
	{V6(28, 0x20, 0x01, 0, 0x10), "Deprecated (previously ORCHID)", "RFC 4843", NULL, 0},
	{V6(28, 0x20, 0x01, 0, 0x20), "ORCHIDv2", "RFC 7343", NULL, 0},
	{V6(28, 0x20, 0x01, 0, 0x30), "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
	 "RFC 9374", NULL, 0},
	{V6(23, 0x20, 0x01), "IETF Protocol Assignments", "RFC 2928", NULL, 0},
	{V6(32, 0x20, 0x01, 0x0d, 0xb8), "Documentation", "RFC 3849", NULL, 0},
	{V6(16, 0x20, 0x02), "6to4", "RFC 3056", NULL, 2},
	{V6(48, 0x26, 0x20, 0, 0x4f, 0x80, 0), "Direct Delegation AS112 Service", "RFC 7534",
	 NULL, 0},
	{V6(20, 0x3f, 0xff), "Documentation", "RFC 9637", NULL, 0},
	{V6(16, 0x5f, 0x00), "Segment Routing (SRv6) SIDs", "RFC 9602", NULL, 0},
	{V6(7, 0xfc), "Unique-Local", "RFC 4193", NULL, 0},
	{V6(10, 0xfe, 0x80), "Link-Local Unicast", "RFC 4291", NULL, 0},
	{V6(8, 0xff), "Multicast", "RFC 4291", "is a multicast address (ff00::/8)", 0},
};

#define N_ROWS (sizeof rows / sizeof rows[0])
#define N_V4 24 /* the IPv4 rows come first */

_Static_assert(N_ROWS > N_V4, "the IPv6 rows follow the IPv4 ones");

const struct ip_special *ip_special_table(size_t *n)
{
	*n = N_ROWS;
	return rows;
}

/* The first row of ip's family that covers it. */
static const struct ip_special *row_of(const uint8_t ip[16])
{
	bool v4 = ip_is_v4(ip);
	for (size_t i = v4 ? 0 : N_V4; i < (v4 ? N_V4 : N_ROWS); i++)
		if (ip_prefix_covers(&rows[i].prefix, ip))
			return &rows[i];
	return NULL;
}

const struct ip_special *ip_special_find(const uint8_t ip[16], const struct ip_special **outer)
{
	const struct ip_special *r = row_of(ip);
	if (outer)
		*outer = NULL;
	if (!r || !r->v4_at)
		return r;
	/* 6to4 and NAT64 carry an IPv4 address: that address is where the mail came from. */
	const uint8_t *p = ip + r->v4_at;
	uint8_t v4[16];
	ip_from_v4((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3], v4);
	const struct ip_special *inner = row_of(v4);
	if (inner && outer)
		*outer = r;
	return inner;
}

bool ip_special_describe(const uint8_t ip[16], char *buf, size_t cap)
{
	const struct ip_special *outer, *r = ip_special_find(ip, &outer);
	char a[IP_STRLEN], pre[IP_PREFIX_STRLEN];
	if (cap)
		buf[0] = '\0';
	if (!r)
		return false;
	ip_format(ip, a);
	ip_prefix_format(&r->prefix, pre, sizeof pre);
	if (!outer) {
		snprintf(buf, cap, "%s is in %s, %s (%s)", a, pre, r->name, r->rfc);
		return true;
	}
	const uint8_t *p = ip + outer->v4_at;
	char v4[IP4_STRLEN], opre[IP_PREFIX_STRLEN];
	ip4_format((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3], v4);
	ip_prefix_format(&outer->prefix, opre, sizeof opre);
	snprintf(buf, cap, "%s is the %s form (%s, %s) of %s, which is in %s, %s (%s)", a,
		 outer->name, opre, outer->rfc, v4, pre, r->name, r->rfc);
	return true;
}

const char *ip_never_sends(const uint8_t ip[16])
{
	const struct ip_special *r = ip_special_find(ip, NULL);
	return r ? r->never_sends : NULL;
}
