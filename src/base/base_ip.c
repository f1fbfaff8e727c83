/* base_ip.c - IP address and socket address parsing and formatting, and clocks. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
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

size_t ip4_format(uint32_t ip, char *buf)
{
	char *p = buf;
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned v = (ip >> shift) & 0xff;
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		if (shift)
			*p++ = '.';
	}
	*p = '\0';
	return (size_t)(p - buf);
}

size_t ip6_format(const uint8_t ip[16], char *buf)
{
	if (!inet_ntop(AF_INET6, ip, buf, IP6_STRLEN)) {
		buf[0] = '\0';
		return 0;
	}
	return strlen(buf);
}

int cidr_parse(const char *s, size_t len, uint8_t addr[16], unsigned *plen)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	uint32_t v4;
	unsigned max;
	memset(addr, 0, 16);
	if (ip4_parse(s, alen, &v4) == BASE_OK) {
		addr[10] = addr[11] = 0xff;
		addr[12] = (uint8_t)(v4 >> 24);
		addr[13] = (uint8_t)(v4 >> 16);
		addr[14] = (uint8_t)(v4 >> 8);
		addr[15] = (uint8_t)v4;
		max = 32;
	} else if (ip6_parse(s, alen, addr) == BASE_OK) {
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
	unsigned full = n + (128 - max);
	/* A mapped IPv6 address given in IPv6 form is the same host as its IPv4 form. */
	for (unsigned bit = full; bit < 128; bit++)
		if (addr[bit / 8] & (0x80u >> (bit % 8)))
			return BASE_ERANGE;
	*plen = full;
	return BASE_OK;
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

uint64_t time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t time_wall_s(void)
{
	return (int64_t)time(NULL);
}
