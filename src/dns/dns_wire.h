/* dns_wire.h - private to dns/: the parsed form of a query and the wire helpers behind dns_answer. */
#ifndef TRAPLINE_DNS_WIRE_H
#define TRAPLINE_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_T_A 1
#define DNS_T_NS 2
#define DNS_T_SOA 6
#define DNS_T_TXT 16
#define DNS_T_AAAA 28
#define DNS_T_OPT 41
#define DNS_T_TSIG 250
#define DNS_T_IXFR 251
#define DNS_T_AXFR 252
#define DNS_T_ANY 255
#define DNS_C_IN 1
#define DNS_C_ANY 255

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255   /* wire form, root byte included (RFC 1035 3.1) */
#define DNS_LABEL_MAX 63
#define DNS_LABELS_MAX 128 /* 255 bytes hold at most 127 one-byte labels plus the root */
#define DNS_OPT_RR_LEN 11  /* root name, type, class, ttl, rdlength 0 */

/* What dns_query_parse found. Pointers point into the query buffer. */
struct dns_query {
	const uint8_t *qname;    /* the question name, wire form, never compressed */
	size_t qname_len;        /* root byte included */
	size_t question_len;     /* qname_len + type + class */
	unsigned nlabels;        /* labels before the root */
	uint8_t label_off[DNS_LABELS_MAX + 1]; /* offset of each label's length byte in qname;
						 label_off[nlabels] is the root byte */
	uint16_t qtype, qclass;
	bool edns;               /* exactly one well-formed OPT RR in the additional section */
	uint16_t edns_udp;       /* the client's advertised UDP size (as sent) */
	uint8_t edns_version;
	bool edns_do;            /* DNSSEC OK (RFC 3225), echoed */
};

enum dns_parse_result {
	DNS_PARSE_OK = 0,
	DNS_PARSE_BAD = 1,          /* FORMERR, the question did not parse */
	DNS_PARSE_BAD_AFTER_Q = 2,  /* FORMERR, the question parsed, something after it did not */
};

/* Parses the question and the OPT RR of a query of qlen >= 12 bytes. Never follows a
 * compression pointer and never reads past qlen. */
enum dns_parse_result dns_query_parse(const uint8_t *q, size_t qlen, struct dns_query *out);

/* Presentation name ("bl.example.org", an optional trailing dot, "" or "." for the root)
 * to wire form in out (DNS_NAME_MAX bytes); lowercases it when lower. Returns the wire
 * length, or 0 when the name is not valid (empty label, label over 63, name over 255).
 * Backslash escapes are not supported. */
size_t dns_name_to_wire(const char *s, uint8_t *out, bool lower, unsigned *nlabels);

static inline void dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void dns_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t dns_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

#endif
