/* dns_wire.c - DNS wire format: query parsing (question, skipped RRs, EDNS0 OPT), a transfer
 * request or any message with a TSIG (dns_xfr_parse), and encoding helpers. */
#include <string.h>

#include "dns.h"
#include "dns_wire.h"

/* Skips an owner name without following compression pointers: a pointer ends the name, and
 * where it points does not matter for skipping, so loops cannot hang us. */
static bool wire_skip_name(const uint8_t *q, size_t qlen, size_t *pos)
{
	size_t p = *pos, total = 0;

	for (;;) {
		if (p >= qlen)
			return false;
		uint8_t len = q[p];
		if ((len & 0xC0) == 0xC0) {
			if (p + 2 > qlen)
				return false;
			*pos = p + 2;
			return true;
		}
		if (len & 0xC0) /* 0x40 and 0x80: extended label types (RFC 6891 obsoleted them) */
			return false;
		total += (size_t)len + 1;
		if (total > DNS_NAME_MAX)
			return false;
		p += (size_t)len + 1;
		if (len == 0) {
			*pos = p;
			return true;
		}
	}
}

/* The question name: no pointer allowed (it is the first name of the message, nothing
 * before it to point at), labels recorded for the zone match and the IP reading. */
static bool wire_parse_qname(const uint8_t *q, size_t qlen, struct dns_query *out)
{
	size_t p = DNS_HDR_LEN;
	unsigned n = 0;

	for (;;) {
		if (p >= qlen)
			return false;
		uint8_t len = q[p];
		if (len & 0xC0)
			return false;
		if (p - DNS_HDR_LEN + (size_t)len + 1 > DNS_NAME_MAX)
			return false;
		out->label_off[n] = (uint8_t)(p - DNS_HDR_LEN);
		if (len == 0)
			break;
		n++; /* at most 127 labels fit in 255 bytes, so n stays below DNS_LABELS_MAX */
		p += (size_t)len + 1;
	}
	out->nlabels = n;
	out->qname = q + DNS_HDR_LEN;
	out->qname_len = p + 1 - DNS_HDR_LEN;
	return true;
}

/* RFC 6891 6.1.2: the OPT RR, already known to have type 41 at q[p..]; p points at its type. */
static bool wire_parse_opt(const uint8_t *q, size_t qlen, size_t p, size_t name_start,
			   struct dns_query *out)
{
	if (p - name_start != 1 || q[name_start] != 0) /* owner must be the root */
		return false;
	if (out->edns) /* RFC 6891 6.1.1: more than one OPT is FORMERR */
		return false;
	out->edns = true;
	out->edns_udp = dns_get16(q + p + 2);
	out->edns_version = q[p + 5];
	out->edns_do = (q[p + 6] & 0x80) != 0;
	size_t rdlen = dns_get16(q + p + 8);
	size_t o = p + 10, end = o + rdlen;
	if (end > qlen)
		return false;
	while (o < end) { /* options must tile the RDATA exactly */
		if (o + 4 > end)
			return false;
		size_t olen = dns_get16(q + o + 2);
		o += 4 + olen;
		if (o > end)
			return false;
	}
	return true;
}

/* Skips count RRs; OPT is only allowed (once) in the additional section. */
static bool wire_skip_rrs(const uint8_t *q, size_t qlen, size_t *pos, unsigned count,
			  bool additional, struct dns_query *out)
{
	size_t p = *pos;

	for (unsigned i = 0; i < count; i++) {
		size_t name_start = p;
		if (!wire_skip_name(q, qlen, &p))
			return false;
		if (p + 10 > qlen)
			return false;
		uint16_t type = dns_get16(q + p);
		if (type == DNS_T_OPT) {
			if (!additional || !wire_parse_opt(q, qlen, p, name_start, out))
				return false;
		}
		size_t rdlen = dns_get16(q + p + 8);
		p += 10 + rdlen;
		if (p > qlen)
			return false;
	}
	*pos = p;
	return true;
}

enum dns_parse_result dns_query_parse(const uint8_t *q, size_t qlen, struct dns_query *out)
{
	out->edns = false;
	out->edns_udp = 0;
	out->edns_version = 0;
	out->edns_do = false;
	if (qlen < DNS_HDR_LEN || dns_get16(q + 4) != 1)
		return DNS_PARSE_BAD;
	if (!wire_parse_qname(q, qlen, out))
		return DNS_PARSE_BAD;
	size_t p = DNS_HDR_LEN + out->qname_len;
	if (p + 4 > qlen)
		return DNS_PARSE_BAD;
	out->qtype = dns_get16(q + p);
	out->qclass = dns_get16(q + p + 2);
	out->question_len = out->qname_len + 4;
	p += 4;

	if (!wire_skip_rrs(q, qlen, &p, dns_get16(q + 6), false, out) ||
	    !wire_skip_rrs(q, qlen, &p, dns_get16(q + 8), false, out) ||
	    !wire_skip_rrs(q, qlen, &p, dns_get16(q + 10), true, out))
		return DNS_PARSE_BAD_AFTER_Q;
	if (p != qlen) /* trailing garbage: not a message we understand */
		return DNS_PARSE_BAD_AFTER_Q;
	return DNS_PARSE_OK;
}

size_t dns_name_to_wire(const char *s, uint8_t *out, bool lower, unsigned *nlabels)
{
	size_t slen = strlen(s), o = 0;
	unsigned n = 0;

	if (slen > 0 && s[slen - 1] == '.')
		slen--;
	size_t i = 0;
	while (i < slen) {
		size_t j = i;
		while (j < slen && s[j] != '.')
			j++;
		size_t len = j - i;
		if (len == 0 || len > DNS_LABEL_MAX || o + len + 2 > DNS_NAME_MAX)
			return 0;
		out[o++] = (uint8_t)len;
		for (size_t k = i; k < j; k++) {
			char c = s[k];
			if (lower && c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			out[o++] = (uint8_t)c;
		}
		n++;
		i = j + 1;
		if (j < slen && i == slen) /* "a..": the stripped dot left an empty last label */
			return 0;
	}
	out[o++] = 0;
	if (nlabels)
		*nlabels = n;
	return o;
}

/* A transfer request, or any message with a TSIG (the answer to our NOTIFY): its question, the
 * client's SOA serial of an IXFR, and where the TSIG record starts (dns_xfr.c, dns_tsig.c). */
int dns_xfr_parse(const uint8_t *q, size_t qlen, struct dns_xfr_req *r)
{
	memset(r, 0, sizeof *r);
	if (qlen < DNS_HDR_LEN || dns_get16(q + 4) != 1)
		return DNS_EINVAL;
	size_t p = DNS_HDR_LEN;
	if (!wire_skip_name(q, qlen, &p) || p + 4 > qlen)
		return DNS_EINVAL;
	r->qname_len = p - DNS_HDR_LEN;
	if (q[p - 1] != 0 || r->qname_len > DNS_NAME_MAX) /* no pointer in the question */
		return DNS_EINVAL;
	r->qtype = dns_get16(q + p);
	r->qclass = dns_get16(q + p + 2);
	r->question_len = r->qname_len + 4;
	p += 4;
	unsigned an = dns_get16(q + 6), ns = dns_get16(q + 8), ar = dns_get16(q + 10);
	for (unsigned i = 0; i < an + ns + ar; i++) {
		size_t start = p;
		if (!wire_skip_name(q, qlen, &p) || p + 10 > qlen)
			return DNS_EINVAL;
		uint16_t type = dns_get16(q + p);
		size_t rdlen = dns_get16(q + p + 8), rd = p + 10;
		if (rd + rdlen > qlen)
			return DNS_EINVAL;
		/* RFC 1995 3: the client's SOA in the authority section; its serial is the
		 * first of the five numbers that end the RDATA. */
		if (i >= an && i < an + ns && type == DNS_T_SOA && rdlen >= 22) {
			const uint8_t *s = q + rd + rdlen - 20;
			r->has_soa = true;
			r->serial = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
				    (uint32_t)s[2] << 8 | s[3];
		}
		if (type == DNS_T_TSIG) {
			/* RFC 8945 5.1: the last record of the additional section, only there. */
			if (i != an + ns + ar - 1 || i < an + ns)
				return DNS_EINVAL;
			r->tsig_off = start;
		}
		p = rd + rdlen;
	}
	if (p != qlen)
		return DNS_EINVAL;
	return DNS_OK;
}
