/* smtp_proxy.c - the PROXY protocol header (HAProxy's "PROXY protocol" specification,
 * versions 1 and 2) that a load balancer sends before the client's first byte, naming the
 * client. A parser over bytes: the server believes it only from smtp_proxy_trusted. */
#include <string.h>

#include "smtp.h"

static const uint8_t v2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
static const char v1_sig[] = "PROXY ";

/* A decimal port of one to five digits, no leading zero (the specification's form). */
static bool port_parse(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "TCP4 a b p q" / "TCP6 a b p q": four fields after the protocol, single spaces. */
static int v1_fields(const char *s, size_t len, struct smtp_proxy_info *out)
{
	const char *f[5];
	size_t fl[5];
	size_t n = 0, i = 0;
	while (n < 5) {
		size_t start = i;
		while (i < len && s[i] != ' ')
			i++;
		f[n] = s + start;
		fl[n++] = i - start;
		if (i == len)
			break;
		i++; /* one space */
	}
	if (n != 5 || i != len)
		return SMTP_EPROTO;
	bool v4 = fl[0] == 4 && memcmp(f[0], "TCP4", 4) == 0;
	bool v6 = fl[0] == 4 && memcmp(f[0], "TCP6", 4) == 0;
	if (v4) {
		uint32_t a, b;
		if (ip4_parse(f[1], fl[1], &a) != 0 || ip4_parse(f[2], fl[2], &b) != 0)
			return SMTP_EPROTO;
		ip_from_v4(a, out->src);
		ip_from_v4(b, out->dst);
	} else if (v6) {
		if (ip6_parse(f[1], fl[1], out->src) != 0 || ip6_parse(f[2], fl[2], out->dst) != 0)
			return SMTP_EPROTO;
	} else {
		return SMTP_EPROTO;
	}
	if (!port_parse(f[3], fl[3], &out->src_port) || !port_parse(f[4], fl[4], &out->dst_port))
		return SMTP_EPROTO;
	return 1;
}

static int v1_parse(const uint8_t *buf, size_t len, size_t *consumed, struct smtp_proxy_info *out)
{
	size_t max = len < SMTP_PROXY_V1_MAX ? len : SMTP_PROXY_V1_MAX;
	const uint8_t *lf = memchr(buf, '\n', max);
	if (!lf)
		return len >= SMTP_PROXY_V1_MAX ? SMTP_EPROTO : 0;
	size_t end = (size_t)(lf - buf);
	if (end < sizeof v1_sig || buf[end - 1] != '\r')
		return SMTP_EPROTO;
	const char *s = (const char *)buf + sizeof v1_sig - 1;
	size_t n = end - 1 - (sizeof v1_sig - 1);
	memset(out, 0, sizeof *out);
	*consumed = end + 1;
	/* UNKNOWN: the proxy could not tell (or speaks for itself); the rest is ignored. */
	if (n >= 7 && memcmp(s, "UNKNOWN", 7) == 0 && (n == 7 || s[7] == ' ')) {
		out->local = true;
		return 1;
	}
	return v1_fields(s, n, out);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static int v2_parse(const uint8_t *buf, size_t len, size_t *consumed, struct smtp_proxy_info *out)
{
	if (len < 16)
		return 0;
	uint8_t ver = buf[12] >> 4, cmd = buf[12] & 0x0F;
	uint8_t fam = buf[13] >> 4, proto = buf[13] & 0x0F;
	size_t body = be16(buf + 14);
	if (ver != 2 || cmd > 1 || 16 + body > SMTP_PROXY_V2_MAX)
		return SMTP_EPROTO;
	if (len < 16 + body)
		return 0;
	memset(out, 0, sizeof *out);
	*consumed = 16 + body;
	const uint8_t *a = buf + 16;
	/* LOCAL: the proxy's own connection (a health check); UNSPEC: it cannot say. Both
	 * carry no client address, and any address block is skipped. */
	if (cmd == 0 || fam == 0) {
		out->local = true;
		return 1;
	}
	if (proto != 1) /* STREAM only: SMTP is TCP */
		return SMTP_EPROTO;
	if (fam == 1) {
		if (body < 12)
			return SMTP_EPROTO;
		uint32_t s = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
		uint32_t d = (uint32_t)a[4] << 24 | (uint32_t)a[5] << 16 | (uint32_t)a[6] << 8 | a[7];
		ip_from_v4(s, out->src);
		ip_from_v4(d, out->dst);
		out->src_port = be16(a + 8);
		out->dst_port = be16(a + 10);
		return 1;
	}
	if (fam == 2) {
		if (body < 36)
			return SMTP_EPROTO;
		memcpy(out->src, a, 16);
		memcpy(out->dst, a + 16, 16);
		out->src_port = be16(a + 32);
		out->dst_port = be16(a + 34);
		return 1;
	}
	return SMTP_EPROTO; /* AF_UNIX and unknown families name no client address */
}

int smtp_proxy_parse(const uint8_t *buf, size_t len, size_t *consumed,
		     struct smtp_proxy_info *out)
{
	if (!buf || !consumed || !out)
		return SMTP_EINVAL;
	*consumed = 0;
	size_t n = len < sizeof v2_sig ? len : sizeof v2_sig;
	if (memcmp(buf, v2_sig, n) == 0)
		return n < sizeof v2_sig ? 0 : v2_parse(buf, len, consumed, out);
	n = len < sizeof v1_sig - 1 ? len : sizeof v1_sig - 1;
	if (memcmp(buf, v1_sig, n) == 0)
		return n < sizeof v1_sig - 1 ? 0 : v1_parse(buf, len, consumed, out);
	return SMTP_EPROTO;
}
