/* base_ip.c - IP addresses, prefixes and socket addresses: parsing and formatting. */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

int ip4_parse(const char *s, size_t len, uint32_t *out)
{
	/* Hand-written rather than inet_pton: the data-file reader calls this a million
	 * times at load, on text that is not NUL-terminated. */
	uint32_t ip = 0;
	size_t i = 0;
	for (int octet = 0; octet < 4; octet++) {
		if (octet > 0) {
			if (i >= len || s[i] != '.')
				return BASE_EINVAL;
			i++;
		}
		unsigned v = 0, digits = 0;
		size_t first = i;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		/* No leading zeros, as inet_pton: "010" is 10 to some readers and 8 to others
		 * (inet_aton's octal), so it is neither. */
		if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[first] == '0'))
			return BASE_EINVAL;
		ip = (ip << 8) | v;
	}
	if (i != len)
		return BASE_EINVAL;
	*out = ip;
	return BASE_OK;
}

int ip6_parse(const char *s, size_t len, uint8_t out[16])
{
	char buf[IP6_STRLEN];
	if (len == 0 || len >= sizeof(buf))
		return BASE_EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? BASE_OK : BASE_EINVAL;
}

/* One octet in decimal, no leading zeros. */
static char *fmt_u8(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
	}
	*p++ = (char)('0' + v % 10);
	return p;
}

size_t ip4_format(uint32_t ip, char *buf)
{
	char *p = buf;
	p = fmt_u8(p, ip >> 24);
	*p++ = '.';
	p = fmt_u8(p, (ip >> 16) & 0xFF);
	*p++ = '.';
	p = fmt_u8(p, (ip >> 8) & 0xFF);
	*p++ = '.';
	p = fmt_u8(p, ip & 0xFF);
	*p = '\0';
	return (size_t)(p - buf);
}

/* One group in lowercase hex without leading zeros (RFC 5952 4.1, 4.3). */
static char *fmt_group(char *p, unsigned g)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 12;
	while (shift > 0 && ((g >> shift) & 0xF) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hex[(g >> shift) & 0xF];
	return p;
}

/* Hand-written rather than inet_ntop: the DNS workers format an address into each TXT answer,
 * and this one is RFC 5952 to the letter (inet_ntop writes ::102:304 as ::1.2.3.4). */
size_t ip6_format(const uint8_t ip[16], char *buf)
{
	unsigned g[8];
	int best = -1, best_len = 0;
	char *p = buf;
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)(ip[2 * i] << 8 | ip[2 * i + 1]);
	/* RFC 5952 5: IPv4-mapped addresses keep the dotted quad. */
	if (ip_is_v4(ip)) {
		memcpy(p, "::ffff:", 7);
		p += 7;
		p += ip4_format(ip_v4(ip), p);
		return (size_t)(p - buf);
	}
	/* RFC 5952 4.2: the longest run of two or more zero groups, the first on a tie. */
	for (int i = 0; i < 8;) {
		if (g[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			*p++ = ':';
		p = fmt_group(p, g[i]);
	}
	*p = '\0';
	return (size_t)(p - buf);
}

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool ip_is_v4(const uint8_t ip[16])
{
	return memcmp(ip, v4_mapped_prefix, 12) == 0;
}

uint32_t ip_v4(const uint8_t ip[16])
{
	return (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
}

void ip_from_v4(uint32_t v4, uint8_t out[16])
{
	memcpy(out, v4_mapped_prefix, 12);
	out[12] = (uint8_t)(v4 >> 24);
	out[13] = (uint8_t)(v4 >> 16);
	out[14] = (uint8_t)(v4 >> 8);
	out[15] = (uint8_t)v4;
}

int ip_parse(const char *s, size_t len, uint8_t out[16])
{
	uint32_t v4;
	if (ip4_parse(s, len, &v4) == BASE_OK) {
		ip_from_v4(v4, out);
		return BASE_OK;
	}
	return ip6_parse(s, len, out);
}

size_t ip_format(const uint8_t ip[16], char *buf)
{
	return ip_is_v4(ip) ? ip4_format(ip_v4(ip), buf) : ip6_format(ip, buf);
}

void ip_client_key(const uint8_t ip[16], uint8_t out[16])
{
	memmove(out, ip, 16);
	if (!ip_is_v4(out))
		memset(out + 8, 0, 8);
}

size_t ip_client_format(const uint8_t key[16], char *buf)
{
	if (ip_is_v4(key))
		return ip_format(key, buf);
	struct ip_prefix p = {.plen = 64};
	memcpy(p.addr, key, 8);
	return ip_prefix_format(&p, buf, IP_PREFIX_STRLEN);
}

bool ip_prefix_valid(const struct ip_prefix *p)
{
	if (p->plen > 128)
		return false;
	for (unsigned bit = p->plen; bit < 128; bit++)
		if (p->addr[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

int ip_prefix_parse(const char *s, size_t len, struct ip_prefix *out)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	struct ip_prefix p;
	memset(&p, 0, sizeof p);
	uint32_t v4;
	unsigned max;
	if (ip4_parse(s, alen, &v4) == BASE_OK) {
		ip_from_v4(v4, p.addr);
		max = 32;
	} else if (ip6_parse(s, alen, p.addr) == BASE_OK) {
		max = 128;
	} else {
		return BASE_EINVAL;
	}
	unsigned n = max;
	if (slash) {
		size_t i = alen + 1;
		if (i == len || len - i > 3)
			return BASE_EINVAL;
		n = 0;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return BASE_EINVAL;
			n = n * 10 + (unsigned)(s[i] - '0');
		}
		if (n > max)
			return BASE_EINVAL;
	}
	/* A mapped IPv6 address given in IPv6 form is the same host as its IPv4 form. */
	p.plen = (uint8_t)(n + (128 - max));
	if (!ip_prefix_valid(&p))
		return BASE_ERANGE;
	*out = p;
	return BASE_OK;
}

size_t ip_prefix_format(const struct ip_prefix *p, char *buf, size_t cap)
{
	char ip[IP_STRLEN];
	bool v4 = p->plen >= 96 && ip_is_v4(p->addr);
	if (v4)
		ip4_format(ip_v4(p->addr), ip);
	else
		ip6_format(p->addr, ip); /* a wider prefix of mapped space stays IPv6 */
	int n = snprintf(buf, cap, "%s/%u", ip, v4 ? p->plen - 96u : p->plen);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

bool ip_prefix_covers(const struct ip_prefix *p, const uint8_t ip[16])
{
	unsigned full = p->plen / 8, rest = p->plen % 8;
	if (memcmp(p->addr, ip, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (p->addr[full] & mask) == (ip[full] & mask);
}

int ip4_range_parse(const char *s, size_t len, uint32_t *first, uint32_t *last)
{
	const char *dash = memchr(s, '-', len);
	if (!dash)
		return BASE_EINVAL;
	size_t alen = (size_t)(dash - s), blen = len - alen - 1;
	uint32_t a, b;
	if (ip4_parse(s, alen, &a) != BASE_OK)
		return BASE_EINVAL;
	if (ip4_parse(dash + 1, blen, &b) != BASE_OK) {
		/* "a.b.c.d-e": the last octet, as ip4_parse reads one (no sign, no leading 0). */
		unsigned v = 0;
		if (blen == 0 || blen > 3 || (blen > 1 && dash[1] == '0'))
			return BASE_EINVAL;
		for (size_t i = 0; i < blen; i++) {
			if (dash[1 + i] < '0' || dash[1 + i] > '9')
				return BASE_EINVAL;
			v = v * 10 + (unsigned)(dash[1 + i] - '0');
		}
		if (v > 255)
			return BASE_EINVAL;
		b = (a & ~0xffu) | v;
	}
	if (b < a)
		return BASE_ERANGE;
	*first = a;
	*last = b;
	return BASE_OK;
}

size_t ip4_range_prefixes(uint32_t first, uint32_t last, struct ip_prefix *out, size_t max)
{
	size_t n = 0;
	uint64_t lo = first, hi = last;
	while (lo <= hi) {
		/* The largest block that starts at lo (aligned) and ends within hi. */
		unsigned bits = 0;
		while (bits < 32 && (lo & ((2ull << bits) - 1)) == 0 && lo + (2ull << bits) - 1 <= hi)
			bits++;
		if (n == max)
			return 0;
		memset(&out[n], 0, sizeof out[n]);
		ip_from_v4((uint32_t)lo, out[n].addr);
		out[n++].plen = (uint8_t)(128 - bits);
		lo += 1ull << bits;
	}
	return n;
}

int ip_prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b)
{
	int c = memcmp(a->addr, b->addr, 16);
	if (c)
		return c;
	return (a->plen > b->plen) - (a->plen < b->plen);
}

static int port_parse(const char *s, uint16_t *port)
{
	char *end;
	if (*s < '0' || *s > '9')
		return BASE_EINVAL;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return BASE_EINVAL;
	*port = (uint16_t)v;
	return BASE_OK;
}

int sockaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	uint16_t port;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || port_parse(close + 2, &port) != BASE_OK)
			return BASE_EINVAL;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		if (ip6_parse(s + 1, (size_t)(close - s - 1), a6->sin6_addr.s6_addr) != BASE_OK)
			return BASE_EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return BASE_OK;
	}
	const char *colon = strrchr(s, ':');
	if (!colon || port_parse(colon + 1, &port) != BASE_OK)
		return BASE_EINVAL;
	uint32_t ip;
	if (ip4_parse(s, (size_t)(colon - s), &ip) != BASE_OK)
		return BASE_EINVAL;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	a4->sin_family = AF_INET;
	a4->sin_addr.s_addr = htonl(ip);
	a4->sin_port = htons(port);
	*len = sizeof(*a4);
	return BASE_OK;
}

void sockaddr_ip(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET)
		ip_from_v4(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr), out);
	else if (sa->sa_family == AF_INET6)
		memcpy(out, ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr, 16);
}

const char *sockaddr_bind_hint(int err)
{
	/* Started unprivileged (the systemd unit starts it as its user), a port below 1024 is
	 * the one thing that needs a capability: say which, instead of a bare EACCES. */
	if (err != EACCES)
		return "";
	return " hint=\"a port below 1024 needs root (Trapline then drops to the config key user) "
	       "or CAP_NET_BIND_SERVICE (AmbientCapabilities= in trapline.service)\"";
}

void sockaddr_format(const struct sockaddr *sa, char *buf, size_t cap)
{
	char ip[IP6_STRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)(const void *)sa;
		ip4_format(ntohl(a4->sin_addr.s_addr), ip);
		snprintf(buf, cap, "%s:%u", ip, ntohs(a4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)(const void *)sa;
		ip6_format(a6->sin6_addr.s6_addr, ip);
		snprintf(buf, cap, "[%s]:%u", ip, ntohs(a6->sin6_port));
	} else {
		snprintf(buf, cap, "unknown");
	}
}
