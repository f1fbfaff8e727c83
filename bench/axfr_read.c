/*
 * axfr_read - one AXFR over TCP, read to its end, timed: the client of bench/transfer.sh.
 *
 * Build:  cc -O2 -o axfr_read axfr_read.c
 * Usage:  axfr_read -p PORT -z ZONE [-s 127.0.0.1] [-n LOOPS] [-o FILE]
 *
 * Sends an AXFR query for ZONE and reads length-prefixed messages until the zone's SOA has
 * come a second time (RFC 5936 2.2), walking each message only as far as each record's type,
 * so the client costs little beside the server it measures and the same for every server.
 * With -o, the raw messages (with their 2-byte lengths) are written to FILE. Prints one line
 * per transfer: "RESULT seconds=S messages=M records=R bytes=B", then exits 0; a refused or
 * broken transfer prints why and exits 1. -n repeats the transfer LOOPS times (0: until
 * killed), each on a new connection. Only loopback targets are accepted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Skips a (possibly compressed) name at off; returns the offset after it, or -1. */
static long skip_name(const uint8_t *m, size_t len, size_t off)
{
	while (off < len) {
		uint8_t c = m[off];

		if ((c & 0xC0) == 0xC0)
			return off + 2 <= len ? (long)off + 2 : -1;
		if (c == 0)
			return (long)off + 1;
		off += 1 + (size_t)c;
	}
	return -1;
}

static size_t encode_name(uint8_t *out, const char *zone)
{
	size_t o = 0;
	const char *p = zone;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63)
			break;
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[o++] = 0;
	return o;
}

/* One transfer; returns 0 and fills the counts, or -1 with a message printed. */
static int transfer(const struct sockaddr_in *sa, const char *zone, FILE *raw, long *msgs,
		    long *rrs, long *bytes)
{
	static uint8_t msg[65536];
	uint8_t q[300];
	size_t ql;
	int fd, one = 1, soas = 0;
	uint16_t id = (uint16_t)(now() * 1000);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		fprintf(stderr, "axfr_read: connect: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(q, 0, 14);
	q[2] = id >> 8;
	q[3] = id & 0xff;
	q[7] = 1; /* QDCOUNT */
	ql = 14 + encode_name(q + 14, zone);
	q[ql++] = 0;
	q[ql++] = 252; /* AXFR */
	q[ql++] = 0;
	q[ql++] = 1; /* IN */
	q[0] = (uint8_t)((ql - 2) >> 8);
	q[1] = (uint8_t)((ql - 2) & 0xff);
	if (write(fd, q, ql) != (ssize_t)ql) {
		fprintf(stderr, "axfr_read: write: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	*msgs = *rrs = *bytes = 0;
	while (soas < 2) {
		uint8_t lb[2];
		size_t len, off;
		unsigned qd, an, i;

		if (read_full(fd, lb, 2) < 0) {
			fprintf(stderr, "axfr_read: connection closed after %ld messages, %d SOA\n", *msgs,
				soas);
			close(fd);
			return -1;
		}
		len = (size_t)lb[0] << 8 | lb[1];
		if (len < 12 || read_full(fd, msg, len) < 0) {
			fprintf(stderr, "axfr_read: short message\n");
			close(fd);
			return -1;
		}
		if (raw && (fwrite(lb, 1, 2, raw) != 2 || fwrite(msg, 1, len, raw) != len)) {
			fprintf(stderr, "axfr_read: write: %s\n", strerror(errno));
			close(fd);
			return -1;
		}
		(*msgs)++;
		*bytes += (long)len + 2;
		if ((msg[3] & 15) != 0) {
			fprintf(stderr, "axfr_read: rcode %d\n", msg[3] & 15);
			close(fd);
			return -1;
		}
		qd = (unsigned)msg[4] << 8 | msg[5];
		an = (unsigned)msg[6] << 8 | msg[7];
		off = 12;
		for (i = 0; i < qd; i++) {
			long o = skip_name(msg, len, off);

			if (o < 0) {
				fprintf(stderr, "axfr_read: bad question\n");
				close(fd);
				return -1;
			}
			off = (size_t)o + 4;
		}
		for (i = 0; i < an; i++) {
			long o = skip_name(msg, len, off);
			unsigned type, rdlen;

			if (o < 0 || (size_t)o + 10 > len) {
				fprintf(stderr, "axfr_read: bad record\n");
				close(fd);
				return -1;
			}
			type = (unsigned)msg[o] << 8 | msg[o + 1];
			rdlen = (unsigned)msg[o + 8] << 8 | msg[o + 9];
			off = (size_t)o + 10 + rdlen;
			(*rrs)++;
			if (type == 6)
				soas++;
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	const char *server = "127.0.0.1", *zone = NULL, *out = NULL;
	int port = 0, c;
	long loops = 1, n;
	FILE *raw = NULL;

	while ((c = getopt(argc, argv, "s:p:z:n:o:")) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'z': zone = optarg; break;
		case 'n': loops = atol(optarg); break;
		case 'o': out = optarg; break;
		default:
			fprintf(stderr, "usage: axfr_read -p PORT -z ZONE [-s ADDR] [-n LOOPS] [-o FILE]\n");
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (!zone || port <= 0 || inet_pton(AF_INET, server, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "axfr_read: needs -p PORT -z ZONE and a 127.0.0.0/8 server\n");
		return 2;
	}
	if (out && !(raw = fopen(out, "wb"))) {
		fprintf(stderr, "axfr_read: %s: %s\n", out, strerror(errno));
		return 2;
	}
	for (n = 0; loops == 0 || n < loops; n++) {
		long msgs, rrs, bytes;
		double t0 = now();

		if (transfer(&sa, zone, raw, &msgs, &rrs, &bytes) < 0)
			return 1;
		printf("RESULT seconds=%.4f messages=%ld records=%ld bytes=%ld\n", now() - t0, msgs, rrs,
		       bytes);
		fflush(stdout);
	}
	if (raw && fclose(raw) != 0)
		return 1;
	return 0;
}
