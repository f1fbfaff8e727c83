/* base.h - small shared pieces: logging, IP parsing and formatting, socket addresses, time. */
#ifndef TRAPLINE_BASE_H
#define TRAPLINE_BASE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- errors ---------------------------------------------------------------- */

enum base_err {
	BASE_OK = 0,
	BASE_EINVAL = -1,  /* input does not parse */
	BASE_ENOMEM = -2,  /* allocation failed */
	BASE_EIO = -3,     /* a system call failed; errno says why */
	BASE_ERANGE = -4,  /* a number is out of range */
};

/* Name of a base_err value, for messages. */
const char *base_strerror(int err);

/* ---- logging --------------------------------------------------------------- */
/* One line per event on stderr: "ts=2026-11-23T16:00:00.123Z level=info module=dns <message>".
 * Messages are written as "event key=value key=value" so the line stays machine-readable. */

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERR = 3 };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error"; returns BASE_EINVAL for anything else. */
int log_level_parse(const char *s, enum log_level *out);
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *module, const char *fmt, va_list ap);

#define log_debug(mod, ...) log_msg(LOG_DEBUG, (mod), __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, (mod), __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, (mod), __VA_ARGS__)
#define log_err(mod, ...) log_msg(LOG_ERR, (mod), __VA_ARGS__)

/* ---- IP addresses ---------------------------------------------------------- */
/* IPv4 addresses are uint32_t in host byte order (1.2.3.4 == 0x01020304).
 * IPv6 addresses are 16 bytes in network order. */

#define IP4_STRLEN 16 /* "255.255.255.255" + NUL */
#define IP6_STRLEN 46 /* INET6_ADDRSTRLEN */

/* Parses a dotted quad of exactly four decimal octets (no leading '+', at most
 * three digits per octet) from s[0..len). Returns 0 or BASE_EINVAL. */
int ip4_parse(const char *s, size_t len, uint32_t *out);
/* Parses an IPv6 address in any RFC 4291 text form from s[0..len). 0 or BASE_EINVAL. */
int ip6_parse(const char *s, size_t len, uint8_t out[16]);
/* Formats into buf (IP4_STRLEN / IP6_STRLEN bytes); returns the length written. */
size_t ip4_format(uint32_t ip, char *buf);
size_t ip6_format(const uint8_t ip[16], char *buf);
/* Parses "ADDR/LEN" or a bare ADDR (one host) from s[0..len), IPv4 or IPv6, into the form the
 * store keeps: 16 bytes with IPv4 as ::ffff:a.b.c.d and *plen = 96 + the IPv4 length (a bare
 * address gives 128). BASE_EINVAL when it does not parse, BASE_ERANGE when bits below the
 * prefix length are set (10.0.0.1/8): a typo the operator should see, not silently widen. */
int cidr_parse(const char *s, size_t len, uint8_t addr[16], unsigned *plen);

/* ---- socket addresses ------------------------------------------------------ */

/* Parses "127.0.0.1:5353", "[::1]:5353" (a port is required) into ss/len.
 * Returns 0 or BASE_EINVAL. */
int sockaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);
/* Formats an address as "127.0.0.1:5353" or "[::1]:5353" into buf of size cap. */
void sockaddr_format(const struct sockaddr *sa, char *buf, size_t cap);

/* ---- time ------------------------------------------------------------------ */

/* Monotonic clock in nanoseconds. */
uint64_t time_mono_ns(void);
/* Wall clock, seconds since the epoch. */
int64_t time_wall_s(void);

/* ---- configuration ------------------------------------------------------- */
/* Every key lives in one schema table (base_config.c): name, type, default, limits, help.
 * The file format is "key = value" lines; '#' starts a comment. The command line sets the
 * same keys after the file, so an option overrides the file. */

#define CONFIG_STR_MAX 1024
#define CONFIG_ERR_MAX 512

struct config {
	char data_dir[CONFIG_STR_MAX];   /* data directory (SQLite, exports) */
	char dns_listen[CONFIG_STR_MAX]; /* "ADDR:PORT[,ADDR:PORT...]" (UDP and TCP each) */
	char zone[256];                  /* zone origin, no trailing dot */
	unsigned threads;                /* UDP workers per address; 0 = one per core */
	char static_file[CONFIG_STR_MAX];/* rbldnsd-format data file, "" = none */
	char user[64];                   /* user to run as after binding, when started as root */
	char log_level[16];
	uint32_t answer_a;               /* default A value, host order */
	char answer_txt[CONFIG_STR_MAX]; /* default TXT template, '$' = the queried IP */
	unsigned answer_ttl;
	char soa_mname[256];             /* "" = ns1.<zone> */
	char soa_rname[256];             /* "" = hostmaster.<zone> */
	unsigned soa_ttl, soa_refresh, soa_retry, soa_expire, soa_minimum;
	char ns[CONFIG_STR_MAX];         /* name servers, comma separated; "" = ns1.<zone> */
	unsigned ns_ttl;
	char ns_addr[CONFIG_STR_MAX];    /* NAME=ADDR pairs for in-zone name servers, "" = none */
	unsigned edns_udp_max;
	unsigned tcp_max_conns;
	unsigned tcp_idle_ms;
	unsigned udp_spin_us;
	unsigned reload_check_ms;        /* how often the static file's mtime is checked */
	/* the listing policy (struct policy_config) and the writer */
	double policy_report_fresh, policy_report_old, policy_trap_weight, policy_threshold;
	unsigned policy_report_decay, policy_window, policy_trap_square_from;
	unsigned policy_min_evidence, policy_listing, policy_two_reports;
	unsigned export_interval;        /* seconds between exports of the zone files; 0 = on demand */
	char exclude_default[CONFIG_STR_MAX]; /* CIDRs never listed, comma separated */
};

/* Fills every key with its default. */
void config_defaults(struct config *c);
/* Sets one key from its text form. On error returns BASE_EINVAL and writes
 * "KEY: problem" into err. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errcap);
/* Reads a config file over c. On error returns BASE_EINVAL/BASE_EIO and writes
 * "FILE:LINE: KEY: problem" into err; c may be partly updated. */
int config_load_file(struct config *c, const char *path, char *err, size_t errcap);
/* Prints every key as "key = value" with its help and default (check-config). */
void config_print(FILE *f, const struct config *c);
/* Prints the commented default configuration (the source of etc/trapline.conf). */
void config_template(FILE *f);
/* Parses a dns_listen list into at most max addresses. BASE_EINVAL names the bad item in err. */
int config_listen_parse(const char *list, struct sockaddr_storage *addrs, socklen_t *lens,
			unsigned max, unsigned *n, char *err, size_t errcap);
/* One NAME=ADDRESS pair of the ns_addr key: the address of a name server inside the zone. */
#define CONFIG_NS_ADDR_MAX 32      /* pairs in all */
#define CONFIG_NS_ADDR_PER_NAME 4  /* addresses of one name, IPv4 and IPv6 together */
struct config_ns_addr {
	char name[256]; /* lowercase, no trailing dot */
	bool v6;
	uint32_t ip4;   /* host order, when !v6 */
	uint8_t ip6[16];
};
/* Parses an ns_addr list ("ns1.zone=192.0.2.53, ns1.zone=2001:db8::53") into out[0..max);
 * *n is the number of pairs. Syntax only; config_check relates the names to the zone.
 * BASE_EINVAL names the bad item in err. */
int config_ns_addr_parse(const char *list, struct config_ns_addr *out, unsigned max, unsigned *n,
			 char *err, size_t errcap);
/* Checks what no single key can: the relations between keys once all are set (the file and
 * the command line). Today: every ns_addr name is one of the zone's name servers (ns, or
 * soa_mname) and lies below the zone. BASE_EINVAL with "KEY: problem" in err. */
int config_check(const struct config *c, char *err, size_t errcap);
/* True when s is a valid domain name in presentation form (labels 1..63 of
 * letters, digits, '-', '_'; 255 bytes at most; one trailing dot allowed). */
bool config_name_valid(const char *s);

#endif
