/* base_config.c - the configuration schema: one table row per key, the file reader and printers. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base.h"

enum config_type {
	CONFIG_STRING, /* free text */
	CONFIG_PATH,   /* a file system path */
	CONFIG_UINT,   /* unsigned decimal within [min, max] */
	CONFIG_IP4,    /* a dotted quad */
	CONFIG_NAME,   /* a domain name */
	CONFIG_NAMES,  /* comma-separated domain names */
	CONFIG_LISTEN, /* comma-separated ADDR:PORT */
	CONFIG_LEVEL,  /* a log level */
	CONFIG_DOUBLE, /* a decimal number within [min, max] */
	CONFIG_CIDRS,  /* comma-separated ADDR/LEN prefixes, host bits clear */
	CONFIG_EXCLUSIONS, /* like CONFIG_CIDRS, and the word special-purpose */
	CONFIG_NSADDRS,/* comma-separated NAME=ADDR pairs, IPv4 or IPv6 */
	CONFIG_LISTEN_OFF, /* like CONFIG_LISTEN, or "off" */
	CONFIG_MAILBOXES,  /* comma-separated local@domain addresses */
	CONFIG_SAMPLE,     /* one of the words of sample_modes */
	CONFIG_URL,        /* http:// or https:// and printable ASCII without quotes or blanks */
	CONFIG_LOGFORMAT,  /* text or json (log_format_parse) */
	CONFIG_SECRET,     /* printable ASCII without blanks; never printed by check-config */
	CONFIG_TSIG_KEY,   /* hmac-sha256:NAME:BASE64SECRET (dig -y's form), or empty; never
			    * printed by check-config */
};

/* What a trap keeps of a message for the moderators (trap_sample). */
static const char *const sample_modes[] = { "headers", "message", "none" };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	size_t size; /* string types: capacity of the field */
	const char *def;
	unsigned min, max;
	/* CONFIG_EMPTY_OK (string types: "" is allowed; `true` in a row says the same) and
	 * CONFIG_LIVE: SIGHUP changes it in the running service (src/cli/cli_reload.c hands the
	 * new configuration to each module's *_reload); a key without it keeps its value until a
	 * restart, and a reload that changes it says so in the log. A key becomes live by adding
	 * the flag to its row once the module that reads it takes it in its *_reload. */
	unsigned flags;
	const char *help;
};

#define CONFIG_EMPTY_OK 1u
#define CONFIG_LIVE 2u

#define STR(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define NUM(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

/* Adding a key is adding a row (and a field in struct config). */
static const struct config_key config_keys[] = {
	{"data_dir", CONFIG_PATH, STR(data_dir), "./var", 0, 0, false,
	 "Data directory (database, exports); created on first start and then owned by user. "
	 "An existing directory must already be user's: one Trapline did not create is never "
	 "taken over. ./var in a checkout, /var/lib/trapline when installed."},
	{"dns_listen", CONFIG_LISTEN, STR(dns_listen), "127.0.0.1:5353", 0, 0, false,
	 "DNS addresses, UDP and TCP on each: ADDR:PORT or [ADDR6]:PORT, comma separated."},
	{"zone", CONFIG_NAME, STR(zone), "bl.example.org", 0, 0, false,
	 "The zone served: listed 1.2.3.4 is answered as 4.3.2.1.<zone>."},
	{"threads", CONFIG_UINT, NUM(threads), "0", 0, 256, false,
	 "UDP worker threads per address, each with its own socket; 0 = one per core."},
	{"static_file", CONFIG_PATH, STR(static_file), "", 0, 0, true,
	 "rbldnsd-format data file (ip4set/ip4trie/ip6trie/combined) served as the zone; "
	 "reloaded when it changes and on SIGHUP. Empty: none."},
	{"user", CONFIG_STRING, STR(user), "trapline", 0, 0, false,
	 "When started as root, run as this user once the sockets are bound; it owns data_dir "
	 "and the control socket. A user of its own: `make install` and scripts/deps.sh create "
	 "the system user trapline. nobody is refused (other daemons run as nobody, and the "
	 "control socket trusts its user) unless allow_nobody is 1."},
	{"allow_nobody", CONFIG_UINT, NUM(allow_nobody), "0", 0, 1, false,
	 "1: accept user = nobody (serve --allow-nobody). Any process of that user could then "
	 "use the control socket."},
	{"ctl_group", CONFIG_STRING, STR(ctl_group), "", 0, 0, true,
	 "A group whose members may use the control socket (DATA_DIR/trapline.sock, then mode "
	 "0660 of that group; data_dir is made with that group so they can reach it). Root and "
	 "the service's user always may; nobody else. Empty: none."},
	{"log_level", CONFIG_LEVEL, STR(log_level), "info", 0, 0, CONFIG_LIVE,
	 "Least severe log level written: debug, info, warn or error."},
	{"answer_a", CONFIG_IP4, NUM(answer_a), "127.0.0.2", 0, 0, CONFIG_LIVE,
	 "A record of a listed address (RFC 5782: 127.0.0.2 by default)."},
	{"answer_a_traps", CONFIG_IP4, NUM(answer_a_traps), "127.0.0.2", 0, 0, CONFIG_LIVE,
	 "A record of an address listed on spamtrap hits only."},
	{"answer_a_reports", CONFIG_IP4, NUM(answer_a_reports), "127.0.0.2", 0, 0, CONFIG_LIVE,
	 "A record of an address listed on user reports only."},
	{"answer_a_both", CONFIG_IP4, NUM(answer_a_both), "127.0.0.2", 0, 0, CONFIG_LIVE,
	 "A record of an address listed on spamtrap hits and user reports (a consumer may weigh "
	 "it higher when it differs from the others)."},
	{"answer_txt", CONFIG_STRING, STR(answer_txt),
	 "Listed ({reason}) - see http://127.0.0.1:8080/lookup?ip=$", 0, 0, CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "TXT record of a listed address; '$' becomes the queried IP and {reason} what the "
	 "listing usually means (\"spamtrap hits, mostly bounces: probably backscatter\"). Not "
	 "set: \"Listed ({reason}) - see PUBLIC_URL/lookup?ip=$\" with public_url. Empty: no TXT."},
	{"answer_ttl", CONFIG_UINT, NUM(answer_ttl), "2100", 0, 604800, CONFIG_LIVE,
	 "TTL in seconds of A and TXT answers for listed addresses."},
	{"soa_mname", CONFIG_NAME, STR(soa_mname), "", 0, 0, CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "SOA primary name server; empty: ns1.<zone>."},
	{"soa_rname", CONFIG_NAME, STR(soa_rname), "", 0, 0, CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "SOA mailbox of the list's operator as a name; empty: hostmaster.<zone>."},
	{"soa_ttl", CONFIG_UINT, NUM(soa_ttl), "3600", 0, 604800, CONFIG_LIVE,
	 "TTL of the SOA record."},
	{"soa_refresh", CONFIG_UINT, NUM(soa_refresh), "600", 1, 604800, CONFIG_LIVE,
	 "SOA refresh: how often secondaries check the serial."},
	{"soa_retry", CONFIG_UINT, NUM(soa_retry), "300", 1, 604800, CONFIG_LIVE,
	 "SOA retry after a failed refresh."},
	{"soa_expire", CONFIG_UINT, NUM(soa_expire), "86400", 1, 2419200, CONFIG_LIVE,
	 "SOA expire: secondaries stop answering this long without the primary."},
	{"soa_minimum", CONFIG_UINT, NUM(soa_minimum), "300", 0, 86400, CONFIG_LIVE,
	 "Negative-answer TTL (RFC 2308): how long resolvers cache \"not listed\"."},
	{"ns", CONFIG_NAMES, STR(ns), "", 0, 0, CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Name servers of the zone, comma separated; empty: ns1.<zone>."},
	{"ns_ttl", CONFIG_UINT, NUM(ns_ttl), "3600", 0, 604800, CONFIG_LIVE,
	 "TTL of the NS records."},
	{"ns_addr", CONFIG_NSADDRS, STR(ns_addr), "", 0, 0, CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Addresses of name servers named inside the zone (ns1.<zone>), which nobody else can "
	 "answer for (RFC 1034 4.2.1 glue): NAME=ADDR pairs, IPv4 or IPv6, comma separated, at "
	 "most 4 per name, each NAME one of ns or soa_mname, e.g. "
	 "ns1.bl.example.org=192.0.2.53, ns1.bl.example.org=2001:db8::53. Served as A/AAAA and "
	 "written into the BIND export, which named-checkzone refuses without them. Empty: none."},
	{"edns_udp_max", CONFIG_UINT, NUM(edns_udp_max), "1232", 512, 4096, false,
	 "Largest UDP answer sent to an EDNS client (1232 avoids IP fragmentation)."},
	{"tcp_max_conns", CONFIG_UINT, NUM(tcp_max_conns), "256", 1, 65536, false,
	 "Open TCP connections at most. When all are open, the one stalled the longest is closed "
	 "for a newcomer: idle the longest, or in the middle of a query begun the longest ago; "
	 "when every connection has answers waiting to be sent, the newcomer is closed at once."},
	{"tcp_max_per_client", CONFIG_UINT, NUM(tcp_max_per_client), "16", 0, 65536, false,
	 "Open TCP connections of one client at most; more are closed at once. A client is an "
	 "IPv4 address or an IPv6 /64 (one host usually holds a whole /64). 0: no such limit "
	 "(a front end that forwards every client from one address)."},
	{"tcp_idle_ms", CONFIG_UINT, NUM(tcp_idle_ms), "10000", 100, 600000, false,
	 "A TCP connection idle this long (milliseconds) is closed (RFC 7766)."},
	{"tcp_query_ms", CONFIG_UINT, NUM(tcp_query_ms), "5000", 100, 600000, false,
	 "A query over TCP must arrive whole within this long (milliseconds) of its first byte, "
	 "or the connection is closed: a client that trickles a query a byte at a time never "
	 "goes idle, so tcp_idle_ms alone would keep it for ever."},
	{"udp_spin_us", CONFIG_UINT, NUM(udp_spin_us), "100", 0, 10000, false,
	 "A UDP worker with nothing to read polls this long (microseconds) before it sleeps: "
	 "at moderate load the next query comes sooner than a sleeping thread wakes, which "
	 "halves the median latency, at the price of CPU time. 0: sleep at once."},
	/* -- response rate limiting and usage limits (src/dns/dns_rrl.c, docs/rrl.md) -- */
	{"rrl_rate", CONFIG_UINT, NUM(rrl_rate), "20", 0, 65535, CONFIG_LIVE,
	 "Response rate limiting (UDP; TCP is never limited): answers per second one client "
	 "prefix gets of one kind: about one address (listed, or NXDOMAIN/NODATA), the zone's "
	 "own records (SOA, NS, name servers), or errors (REFUSED, FORMERR...). A resolver asks "
	 "about one address once per TTL, so 20 a second is far above any real one and far "
	 "below a reflection flood. Limited answers are dropped, or truncated (rrl_slip). "
	 "0: off. See docs/rrl.md."},
	{"rrl_slip", CONFIG_UINT, NUM(rrl_slip), "2", 0, 100, CONFIG_LIVE,
	 "Every Nth rate-limited answer goes out truncated (TC=1, no records), so a real "
	 "resolver whose address is being forged retries over TCP and is answered; the others "
	 "are dropped. 1: every one truncated, 0: all dropped."},
	{"rrl_ipv4_prefix", CONFIG_UINT, NUM(rrl_ipv4_prefix), "24", 0, 32, CONFIG_LIVE,
	 "IPv4 clients are counted by this prefix (rate limiting and usage_limit_per_day)."},
	{"rrl_ipv6_prefix", CONFIG_UINT, NUM(rrl_ipv6_prefix), "56", 0, 128, CONFIG_LIVE,
	 "IPv6 clients are counted by this prefix (rate limiting and usage_limit_per_day)."},
	{"rrl_exempt", CONFIG_CIDRS, STR(rrl_exempt), "127.0.0.0/8, ::1/128", 0, 0,
	 CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Clients never rate-limited, comma-separated prefixes: the loopback by default (no "
	 "packet from outside can carry a loopback source, so nobody can be attacked through "
	 "it) and, say, your own resolvers. Empty: none."},
	{"usage_limit_per_day", CONFIG_UINT, NUM(usage_limit_per_day), "0", 0, 4000000000u,
	 CONFIG_LIVE, "Queries one client prefix (rrl_ipv4_prefix, rrl_ipv6_prefix) may make in a UTC "
	 "day, UDP and TCP; past it, every address it asks about is answered answer_a_excess. "
	 "Counted approximately (never fewer than were made; docs/rrl.md gives the error). "
	 "0: no limit."},
	{"answer_a_excess", CONFIG_IP4, NUM(answer_a_excess), "127.255.255.255", 0, 0, CONFIG_LIVE,
	 "The A answer about any address to a client over usage_limit_per_day (Spamhaus's "
	 "code); explained on /about/usage."},
	{"answer_a_public_resolver", CONFIG_IP4, NUM(answer_a_public_resolver),
	 "127.255.255.254", 0, 0, CONFIG_LIVE,
	 "The A answer about any address to a client in public_resolvers (Spamhaus's code): "
	 "a public resolver's many users share its quota and its answers."},
	{"public_resolvers", CONFIG_PATH, STR(public_resolvers), "", 0, 0,
	 CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "A file of public resolvers' addresses (one address or ADDR/LEN a line, # comments), "
	 "read at start and again on each reload (SIGHUP: a file that does not load changes "
	 "nothing); each is answered answer_a_public_resolver about every address. "
	 "Empty: none."},
	/* -- end of rate limiting and usage limits -- */
	{"reload_check_ms", CONFIG_UINT, NUM(reload_check_ms), "1000", 50, 3600000, false,
	 "How often (milliseconds) the static file is checked for changes."},
	{"policy_report_fresh", CONFIG_DOUBLE, NUM(policy_report_fresh), "4", 0, 1000000, CONFIG_LIVE,
	 "Listing policy: score of a user report about mail received just now."},
	{"policy_report_old", CONFIG_DOUBLE, NUM(policy_report_old), "1", 0, 1000000, CONFIG_LIVE,
	 "Listing policy: score of a report about mail policy_report_decay seconds old or older."},
	{"policy_report_decay", CONFIG_UINT, NUM(policy_report_decay), "172800", 1, 31536000,
	 CONFIG_LIVE, "Listing policy: seconds over which a report's score falls linearly from "
		"policy_report_fresh to policy_report_old (48 h)."},
	{"policy_window", CONFIG_UINT, NUM(policy_window), "604800", 1, 31536000, CONFIG_LIVE,
	 "Listing policy: evidence received longer ago than this many seconds is ignored (7 days)."},
	{"policy_trap_square_from", CONFIG_UINT, NUM(policy_trap_square_from), "6", 1, 1000000,
	 CONFIG_LIVE, "Listing policy: below this many spamtrap hits each adds policy_trap_weight; from "
		"it on the hits add hits squared."},
	{"policy_trap_weight", CONFIG_DOUBLE, NUM(policy_trap_weight), "5", 0, 1000000, CONFIG_LIVE,
	 "Listing policy: score of one spamtrap hit below policy_trap_square_from hits."},
	{"policy_threshold", CONFIG_DOUBLE, NUM(policy_threshold), "5", 0, 1000000, CONFIG_LIVE,
	 "Listing policy: an address is listed when its score reaches this."},
	{"policy_min_evidence", CONFIG_UINT, NUM(policy_min_evidence), "2", 1, 1000000, CONFIG_LIVE,
	 "Listing policy: pieces of evidence an address needs at least (one report never lists)."},
	{"policy_min_reporters", CONFIG_UINT, NUM(policy_min_reporters), "2", 1, 1000000, CONFIG_LIVE,
	 "Listing policy: reporters an address needs at least to be listed on user reports alone. "
	 "The reports of one reporter about one address count once within policy_window, "
	 "however many it sends."},
	{"policy_listing", CONFIG_UINT, NUM(policy_listing), "86400", 1, 31536000, CONFIG_LIVE,
	 "Listing policy: a listing ends this many seconds after the last evidence (24 h)."},
	{"policy_two_reports", CONFIG_UINT, NUM(policy_two_reports), "43200", 1, 31536000, CONFIG_LIVE,
	 "Listing policy: the most a listing on two reports and nothing else lasts (12 h)."},
	{"export_interval", CONFIG_UINT, NUM(export_interval), "300", 0, 86400, CONFIG_LIVE,
	 "Seconds between writes of the zone exports (rbldnsd and BIND files) into data_dir; "
	 "0: only on demand (trapline export)."},
	/* zone transfers to secondaries: AXFR/IXFR, TSIG, NOTIFY (src/dns/dns_xfr.c,
	 * dns_tsig.c, dns_notify.c; the journal in src/zone and the store) */
	{"transfer_allow", CONFIG_CIDRS, STR(transfer_allow), "", 0, 0, true,
	 "Who may transfer the zone (AXFR and IXFR over TCP): ADDR/LEN prefixes, comma "
	 "separated, e.g. 192.0.2.53/32, 2001:db8::/64. Anyone else is answered REFUSED and "
	 "logged. Empty: nobody. With transfer_key set a request must also be signed."},
	{"transfer_key", CONFIG_TSIG_KEY, STR(transfer_key), "", 0, 0, true,
	 "TSIG key (RFC 8945) that transfers must be signed with, in dig -y's form "
	 "hmac-sha256:NAME:BASE64SECRET (make one with: tsig-keygen -a hmac-sha256 NAME, or "
	 "head -c 32 /dev/urandom | base64). Answers are signed, every message of a transfer, "
	 "and NOTIFYs too. A request unsigned, with another key, a bad MAC or a time off by more "
	 "than 300 s is answered NOTAUTH (BADKEY, BADSIG, BADTIME) and logged. Empty: none."},
	{"notify", CONFIG_LISTEN, STR(notify), "", 0, 0, true,
	 "Secondaries told of each new serial by NOTIFY (RFC 1996): ADDR:PORT or [ADDR6]:PORT, "
	 "comma separated. One NOTIFY in flight per secondary, a newer serial replacing one not "
	 "yet answered, retried with backoff; a secondary that never answers is logged. Empty: "
	 "none."},
	{"ixfr_journal_max", CONFIG_UINT, NUM(ixfr_journal_max), "100000", 0, 100000000, false,
	 "Changed addresses the IXFR journal keeps at most, all serials together; the oldest "
	 "serials go first. A secondary whose serial is no longer in the journal gets the whole "
	 "zone. 0: no journal (every IXFR gets the whole zone)."},
	{"ixfr_journal_age", CONFIG_UINT, NUM(ixfr_journal_age), "86400", 0, 31536000, false,
	 "Seconds the IXFR journal keeps a serial's changes (24 h); older serials get the whole "
	 "zone. 0: no limit by age."},
	{"exclude_default", CONFIG_EXCLUSIONS, STR(exclude_default), CONFIG_SPECIAL_PURPOSE, 0, 0,
	 CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Prefixes never listed whatever the evidence, comma separated. The word special-purpose "
	 "stands for every range of the IANA special-purpose address registries (RFC 6890 and "
	 "its updates: private, shared, loopback, link-local, documentation, benchmarking, "
	 "unique-local, the 6to4 and NAT64 forms of those, ...) and multicast: evidence naming "
	 "one of those is refused where it comes in (trap, reports, feeds, evidence add) and a "
	 "report whose first untrusted hop is one names no source. Leave the word out only for a "
	 "list of a private network or a test instance; unspecified, broadcast, multicast and "
	 "reserved addresses are refused even then. Empty: none."},
	{"smtp_listen", CONFIG_LISTEN_OFF, STR(smtp_listen), "127.0.0.1:2525", 0, 0, false,
	 "Spamtrap SMTP addresses: ADDR:PORT or [ADDR6]:PORT, comma separated (port 25 for the "
	 "MX of trap domains), or off."},
	{"smtp_hostname", CONFIG_NAME, STR(smtp_hostname), "", 0, 0, true,
	 "Name the trap gives in its greeting, EHLO answer and self-signed certificate; empty: "
	 "the host's name."},
	{"trap_domains", CONFIG_NAMES, STR(trap_domains), "", 0, 0, CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Trap domains, comma separated: every address at them is a spamtrap (their MX points "
	 "here). Mail for any other domain is refused at RCPT (550 5.1.1): a trap never relays."},
	{"trap_addresses", CONFIG_MAILBOXES, STR(trap_addresses), "", 0, 0, CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Single trap addresses at other domains (local@domain), comma separated."},
	{"smtp_max_size", CONFIG_UINT, NUM(smtp_max_size), "10485760", 1024, 1073741824, CONFIG_LIVE,
	 "Largest message the trap takes, in bytes (advertised as SIZE; larger: 552 5.3.4)."},
	{"smtp_max_rcpts", CONFIG_UINT, NUM(smtp_max_rcpts), "100", 1, 100000, CONFIG_LIVE,
	 "Recipients of one message at most (more: 452 4.5.3, RFC 5321 4.5.3.1.8)."},
	{"smtp_max_sessions", CONFIG_UINT, NUM(smtp_max_sessions), "500", 1, 100000, false,
	 "SMTP sessions at once, all clients together. When all are open, a newcomer takes the "
	 "place of the session idle the longest (told 421 4.7.0 and closed; a message it was "
	 "sending is not recorded); when none can go (every one has a message being stored), "
	 "the newcomer is told 421 and closed."},
	{"smtp_max_per_ip", CONFIG_UINT, NUM(smtp_max_per_ip), "20", 1, 100000, CONFIG_LIVE,
	 "SMTP sessions at once from one client: an IPv4 address or an IPv6 /64 (one host usually "
	 "holds a whole /64); behind a proxy, the PROXY header's address. More are told 421."},
	{"smtp_command_timeout", CONFIG_UINT, NUM(smtp_command_timeout), "120", 1, 3600, CONFIG_LIVE,
	 "Seconds a client may take to send a whole command line (and the PROXY header), counted "
	 "from the previous reply however the bytes trickle in; then 421 4.4.2 and close."},
	{"smtp_data_timeout", CONFIG_UINT, NUM(smtp_data_timeout), "180", 1, 3600, CONFIG_LIVE,
	 "Seconds a client may stay silent while it sends a message, and the grace before "
	 "smtp_data_min_rate applies; then 421 4.4.2, close, nothing recorded."},
	{"smtp_data_min_rate", CONFIG_UINT, NUM(smtp_data_min_rate), "1024", 0, 1073741824, CONFIG_LIVE,
	 "Bytes per second a message must average: one of N bytes must end within "
	 "smtp_data_timeout + N / smtp_data_min_rate seconds of the 354, or the session is told "
	 "421 4.4.2 and closed, nothing recorded. The default lets a 10 MiB message take almost 3 "
	 "hours and closes a client that trickles a byte now and then after smtp_data_timeout. "
	 "0: no floor (only the silence limit)."},
	{"smtp_memory_max", CONFIG_UINT, NUM(smtp_memory_max), "268435456", 65536, 4294967295u,
	 CONFIG_LIVE,
	 "Bytes of message buffers that all SMTP sessions may hold together (messages being "
	 "received or stored; 256 MiB). Past it, a DATA is told 452 4.3.1, and the session holding "
	 "the most of a message that has not grown for 2 s is told 421 4.3.1 and closed to make "
	 "room, its message not recorded; a message that finds no room is let go, read to its end "
	 "and answered 452 4.3.1. Nothing acknowledged is lost. At least smtp_max_size."},
	{"smtp_max_errors", CONFIG_UINT, NUM(smtp_max_errors), "10", 1, 1000, CONFIG_LIVE,
	 "Bad or refused commands in one session before it is closed (421 4.7.0)."},
	{"smtp_proxy_trusted", CONFIG_CIDRS, STR(smtp_proxy_trusted), "", 0, 0,
	 CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Load balancers whose PROXY protocol header (HAProxy v1 or v2) names the client, as "
	 "ADDR/LEN prefixes, comma separated: a session from them must start with one, and "
	 "the address recorded is the client's. From anyone else a PROXY header is refused. "
	 "Empty: none."},
	{"smtp_tls_cert", CONFIG_PATH, STR(smtp_tls_cert), "", 0, 0, true,
	 "PEM certificate (with its chain) for STARTTLS; read before privileges are dropped. "
	 "Empty (with smtp_tls_key empty): a self-signed pair made in data_dir on first start."},
	{"smtp_tls_key", CONFIG_PATH, STR(smtp_tls_key), "", 0, 0, true,
	 "PEM private key of smtp_tls_cert."},
	{"trap_sample", CONFIG_SAMPLE, STR(trap_sample), "headers", 0, 0, CONFIG_LIVE,
	 "What a trap keeps of each message for the moderators: headers, message (the whole "
	 "message) or none. Trap addresses are masked wherever a sample is shown."},
	{"trap_sample_days", CONFIG_UINT, NUM(trap_sample_days), "7", 1, 3650, CONFIG_LIVE,
	 "Days a sample is kept; the writer deletes older ones."},
	{"report_max_size", CONFIG_UINT, NUM(report_max_size), "10485760", 1024, 10485760, CONFIG_LIVE,
	 "Bytes of one reported message at most (trapline report, POST /api/v1/reports); a larger "
	 "one is refused unread (HTTP 413). 10 MiB at most: what the analysis reads."},
	{"report_max_per_hour", CONFIG_UINT, NUM(report_max_per_hour), "1000", 0, 1000000000, CONFIG_LIVE,
	 "Reports one reporter may send per clock hour (refused ones count, the same message "
	 "again does not); more are refused until the next hour (HTTP 429 with Retry-After). "
	 "0: no limit."},
	{"http_listen", CONFIG_LISTEN_OFF, STR(http_listen), "127.0.0.1:8080", 0, 0, false,
	 "Web pages and JSON API (lookup, how listing works): ADDR:PORT or [ADDR6]:PORT, comma "
	 "separated, or off."},
	{"public_url", CONFIG_URL, STR(public_url), "http://127.0.0.1:8080", 0, 0, false,
	 "How people reach the web pages (no trailing slash); the default TXT record points "
	 "there."},
	{"web_templates", CONFIG_PATH, STR(web_templates), "", 0, 0,
	 CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Folder of page templates and the stylesheet read at start and on SIGHUP, each file there "
	 "replacing the built-in one of the same name (src/web/templates). Empty: the built-in "
	 "ones."},
	{"http_threads", CONFIG_UINT, NUM(http_threads), "0", 0, 256, false,
	 "Web worker threads, each with its own read-only store connection; 0 = one per core."},
	{"http_max_conns", CONFIG_UINT, NUM(http_max_conns), "512", 1, 65536, false,
	 "Open HTTP connections at most. When all are open, the one whose request has taken the "
	 "longest (still coming in, or not begun since the connection opened or its last answer) "
	 "is closed for a newcomer; when every connection is being answered, the newcomer is "
	 "closed at once. Each is logged."},
	{"http_max_conns_per_ip", CONFIG_UINT, NUM(http_max_conns_per_ip), "32", 1, 65536,
	 false, "Open HTTP connections of one client at most; more are closed at once. A client "
	 "is an IPv4 address or an IPv6 /64 (one host usually holds a whole /64)."},
	{"http_request_max", CONFIG_UINT, NUM(http_request_max), "8192", 2048, 1048576, false,
	 "Bytes a request line and its headers may take; a longer request is refused (HTTP 414 "
	 "or 431)."},
	{"http_timeout", CONFIG_UINT, NUM(http_timeout), "15", 1, 3600, false,
	 "Seconds an HTTP connection may stay silent (no byte either way) before it is closed."},
	{"http_request_timeout", CONFIG_UINT, NUM(http_request_timeout), "60", 1, 3600, false,
	 "Seconds a request may take to come whole (request line, headers and body), counted "
	 "from the connection's opening or the end of its previous answer; then the connection "
	 "is closed. A client sending a byte every few seconds is never silent for http_timeout, "
	 "so this is what ends it. A report of report_max_size must be uploaded within it."},
	{"http_nice", CONFIG_UINT, NUM(http_nice), "10", 0, 19, false,
	 "CPU priority of the web threads below DNS (nice value added): pages may slow down "
	 "under load, DNS answers should not. 0: the same priority."},
	/* the report and evidence API */
	{"feed_max_hits", CONFIG_UINT, NUM(feed_max_hits), "1000", 1, 1024, CONFIG_LIVE,
	 "Trap hits one POST /api/v1/evidence may carry (a feed sends more in several requests); "
	 "the body may hold 512 bytes a hit. At most 1024: one request is one transaction, all "
	 "of it stored or none."},
	/* review requests and moderation */
	{"review_per_client_day", CONFIG_UINT, NUM(review_per_client_day), "5", 0, 1000000, CONFIG_LIVE,
	 "Review requests one client address (an IPv4 address or an IPv6 /64) may file in 24 "
	 "hours; more are refused (HTTP 429) and nothing is written. 0: no limit."},
	{"review_per_ip_day", CONFIG_UINT, NUM(review_per_ip_day), "3", 0, 1000000, CONFIG_LIVE,
	 "Tickets about one listed address that moderators may decide in 24 hours; once that "
	 "many were, a new ticket is refused (HTTP 429). Requests about an address whose ticket "
	 "is open join it and are never refused for this. 0: no limit."},
	{"review_text_max", CONFIG_UINT, NUM(review_text_max), "4000", 100, 8000, CONFIG_LIVE,
	 "Bytes of each free-text field of a review request (what was fixed, the comment) at "
	 "most; longer is refused (HTTP 400), with the text kept in the form."},
	{"review_form_max", CONFIG_UINT, NUM(review_form_max), "32768", 1024, 1048576, false,
	 "Bytes of the body of a form (review request, login, a moderator's action) at most; a "
	 "larger one is refused (HTTP 413) and nothing of it is kept."},
	{"moderator_session_hours", CONFIG_UINT, NUM(moderator_session_hours), "12", 1, 720, CONFIG_LIVE,
	 "A moderator's login holds this many hours, then the queue asks for the password again. "
	 "Logging out, or `trapline moderator remove`, ends it at once."},
	{"moderator_lockout_failures", CONFIG_UINT, NUM(moderator_lockout_failures), "5", 1, 1000,
	 false,
	 "Failed logins of one moderator name, or from one client address, before further logins "
	 "of it are refused (HTTP 429), the right password included, for "
	 "moderator_lockout_minutes."},
	{"moderator_lockout_minutes", CONFIG_UINT, NUM(moderator_lockout_minutes), "15", 1, 10080,
	 false, "How long a lockout after moderator_lockout_failures failed logins holds."},
	/* seeing it: metrics, status, logs (docs/metrics.md) */
	{"metrics_allow", CONFIG_CIDRS, STR(metrics_allow), "127.0.0.0/8, ::1/128", 0, 0,
	 CONFIG_EMPTY_OK | CONFIG_LIVE,
	 "Who may read GET /metrics (Prometheus text format) on the web server: client addresses "
	 "in these CIDRs, comma separated; others are answered 403. Default: loopback only. "
	 "Empty: nobody."},
	{"log_format", CONFIG_LOGFORMAT, STR(log_format), "text", 0, 0, CONFIG_LIVE,
	 "How log lines are written on stderr: text (ts=... level=... module=... then the "
	 "message's key=value fields) or json (one JSON object a line with time, level, module, "
	 "message and each key=value field as a member, for log shippers)."},
	/* trap nodes (issue 21): a trap that forwards its hits to a primary (docs/trap-node.md) */
	{"forward_url", CONFIG_URL, STR(forward_url), "", 0, 0, true,
	 "The primary's web address (http:// or https://, no trailing slash) to which this "
	 "Trapline forwards its trap hits (POST /api/v1/evidence): set, `serve` runs the spamtrap "
	 "alone, as a trap node, without DNS, store or web pages; each message's hit is committed "
	 "to a spool in data_dir before its 250. Empty: a whole Trapline."},
	{"forward_key", CONFIG_SECRET, STR(forward_key), "", 0, 0, true,
	 "The feed key (tlf_...) the primary gave this node (`trapline feed add NAME` there); "
	 "needed with forward_url. Prefer the file (mode 0600) to --forward-key, which other "
	 "users see in the process list."},
	{"forward_spool_max", CONFIG_UINT, NUM(forward_spool_max), "100000", 1, 100000000, false,
	 "Hits a trap node's spool holds at most while the primary cannot take them; when it is "
	 "full, senders are told 451 4.3.0 (try again later) and nothing is lost."},
	{"forward_batch", CONFIG_UINT, NUM(forward_batch), "500", 1, 1024, false,
	 "Hits one request to the primary carries at most; keep it at most the primary's "
	 "feed_max_hits."},
	{"forward_retry_max", CONFIG_UINT, NUM(forward_retry_max), "60", 1, 3600, false,
	 "Seconds between tries at most while the primary is away or answers 5xx: the wait "
	 "starts at 1 s and doubles up to this."},
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))
#define CONFIG_LINE_MAX 4096 /* a line longer than this is not one we wrote */

/* Defaults a binary replaces at start (the installed one's data_dir), beside the table. */
static const char *config_default_over[CONFIG_NKEYS];

static const char *config_key_default(const struct config_key *k)
{
	const char *over = config_default_over[k - config_keys];
	return over ? over : k->def;
}

static const struct config_key *config_key_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

bool config_name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
		if (!ok || ++label > 63)
			return false;
	}
	return label > 0;
}

static int config_names_check(const char *list, char *why, size_t cap)
{
	char buf[CONFIG_STR_MAX];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (!config_name_valid(tok)) {
			snprintf(why, cap, "'%s' is not a domain name", tok);
			return BASE_EINVAL;
		}
	}
	return BASE_OK;
}

/* Calls fn on each item of a comma- or blank-separated list (fn gets a writable copy and the
 * item's index), at most max of them; fn's error stops the walk and its message stands.
 * *n: the number of items. */
static int config_list_each(const char *list, unsigned max, const char *what,
			    int (*fn)(char *tok, unsigned i, void *arg, char *err, size_t errcap),
			    void *arg, unsigned *n, char *err, size_t errcap)
{
	char buf[CONFIG_STR_MAX];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	unsigned count = 0;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (count == max) {
			snprintf(err, errcap, "more than %u %s", max, what);
			return BASE_EINVAL;
		}
		if (fn(tok, count, arg, err, errcap) != BASE_OK)
			return BASE_EINVAL;
		count++;
	}
	*n = count;
	return BASE_OK;
}

struct listen_out {
	struct sockaddr_storage *addrs;
	socklen_t *lens;
};

static int listen_item(char *tok, unsigned i, void *arg, char *err, size_t errcap)
{
	struct listen_out *o = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	if (sockaddr_parse(tok, &ss, &len) != BASE_OK) {
		snprintf(err, errcap, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:5353 or [::1]:5353)",
			 tok);
		return BASE_EINVAL;
	}
	if (o->addrs) {
		o->addrs[i] = ss;
		o->lens[i] = len;
	}
	return BASE_OK;
}

int config_listen_parse(const char *list, struct sockaddr_storage *addrs, socklen_t *lens,
			unsigned max, unsigned *n, char *err, size_t errcap)
{
	struct listen_out o = { addrs, lens };
	if (config_list_each(list, max, "addresses", listen_item, &o, n, err, errcap) != BASE_OK)
		return BASE_EINVAL;
	if (*n == 0) {
		snprintf(err, errcap, "no address given");
		return BASE_EINVAL;
	}
	return BASE_OK;
}

bool config_listen_off(const char *list)
{
	return strcmp(list, "off") == 0;
}

/* local@domain with a non-empty local part, a valid domain, no spaces or angle brackets. */
static int mailbox_item(char *tok, unsigned i, void *arg, char *err, size_t errcap)
{
	(void)i;
	(void)arg;
	char *at = strrchr(tok, '@');
	bool ok = at && at != tok && config_name_valid(at + 1) &&
		  strcspn(tok, "<>\"()[],;:") == strlen(tok);
	if (!ok) {
		snprintf(err, errcap, "'%s' is not a mail address (local@domain)", tok);
		return BASE_EINVAL;
	}
	return BASE_OK;
}

static int cidr_item(char *tok, unsigned i, void *arg, char *err, size_t errcap)
{
	struct ip_prefix p, *out = arg;
	int rc = ip_prefix_parse(tok, strlen(tok), &p);
	if (rc == BASE_ERANGE) {
		snprintf(err, errcap, "'%s' has host bits set", tok);
		return BASE_EINVAL;
	}
	if (rc != BASE_OK) {
		snprintf(err, errcap, "'%s' is not ADDR/LEN", tok);
		return BASE_EINVAL;
	}
	if (out)
		out[i] = p;
	return BASE_OK;
}

int config_cidrs_parse(const char *list, struct ip_prefix *out, unsigned max, unsigned *n,
		       char *err, size_t errcap)
{
	return config_list_each(list, max, "prefixes", cidr_item, out, n, err, errcap);
}

struct exclusions_out {
	struct ip_prefix *out;
	unsigned n;
	bool special;
};

static int exclusion_item(char *tok, unsigned i, void *arg, char *err, size_t errcap)
{
	(void)i;
	struct exclusions_out *o = arg;
	if (strcmp(tok, CONFIG_SPECIAL_PURPOSE) == 0) {
		o->special = true;
		return BASE_OK;
	}
	if (cidr_item(tok, 0, NULL, err, errcap) != BASE_OK) {
		size_t len = strlen(err);
		snprintf(err + len, errcap > len ? errcap - len : 0, " (nor the word %s)",
			 CONFIG_SPECIAL_PURPOSE);
		return BASE_EINVAL;
	}
	if (o->out)
		cidr_item(tok, o->n, o->out, err, errcap);
	o->n++;
	return BASE_OK;
}

int config_exclusions_parse(const char *list, struct ip_prefix *out, unsigned max, unsigned *n,
			    bool *special, char *err, size_t errcap)
{
	struct exclusions_out o = {out, 0, false};
	unsigned items;
	/* The word takes an item of its own: one more than max prefixes may be listed. */
	int rc = config_list_each(list, max + 1, "prefixes", exclusion_item, &o, &items, err,
				  errcap);
	if (rc == BASE_OK && o.n > max) {
		snprintf(err, errcap, "more than %u prefixes", max);
		rc = BASE_EINVAL;
	}
	*n = rc == BASE_OK ? o.n : 0;
	*special = rc == BASE_OK && o.special;
	return rc;
}

static int config_cidrs_check(const char *list, char *why, size_t cap)
{
	unsigned n;
	return config_cidrs_parse(list, NULL, CONFIG_PREFIX_MAX, &n, why, cap);
}

/* Splits "NAME=ADDR" and parses both halves. */
static int config_ns_addr_item(char *tok, struct config_ns_addr *out, char *err, size_t errcap)
{
	char *eq = strchr(tok, '=');
	if (!eq) {
		snprintf(err, errcap, "'%s' is not NAME=ADDRESS", tok);
		return BASE_EINVAL;
	}
	*eq = '\0';
	const char *addr = eq + 1;
	if (!config_name_valid(tok)) {
		snprintf(err, errcap, "'%s' is not a domain name", tok);
		return BASE_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	size_t len = strlen(tok);
	if (tok[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++) /* names compare without case (RFC 4343) */
		out->name[i] = (char)(tok[i] >= 'A' && tok[i] <= 'Z' ? tok[i] + 32 : tok[i]);
	if (ip4_parse(addr, strlen(addr), &out->ip4) == BASE_OK)
		return BASE_OK;
	if (ip6_parse(addr, strlen(addr), out->ip6) == BASE_OK) {
		out->v6 = true;
		return BASE_OK;
	}
	snprintf(err, errcap, "'%s' (for %s) is not an IPv4 or IPv6 address", addr, out->name);
	return BASE_EINVAL;
}

static int ns_addr_item(char *tok, unsigned i, void *arg, char *err, size_t errcap)
{
	struct config_ns_addr *out = arg, item;
	if (config_ns_addr_item(tok, &item, err, errcap) != BASE_OK)
		return BASE_EINVAL;
	if (out)
		out[i] = item;
	return BASE_OK;
}

int config_ns_addr_parse(const char *list, struct config_ns_addr *out, unsigned max, unsigned *n,
			 char *err, size_t errcap)
{
	return config_list_each(list, max, "addresses", ns_addr_item, out, n, err, errcap);
}

static int config_double_parse(const struct config_key *k, const char *v, double *out, char *why,
			       size_t cap)
{
	errno = 0;
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end != '\0' || !(*v >= '0' && *v <= '9')) {
		snprintf(why, cap, "'%s' is not a number", v);
		return BASE_EINVAL;
	}
	if (errno == ERANGE || !(d >= k->min && d <= k->max)) {
		snprintf(why, cap, "%s is out of range %u..%u", v, k->min, k->max);
		return BASE_EINVAL;
	}
	*out = d;
	return BASE_OK;
}

static int config_uint_parse(const struct config_key *k, const char *v, unsigned *out, char *why,
			     size_t cap)
{
	if (*v < '0' || *v > '9') {
		snprintf(why, cap, "'%s' is not a number", v);
		return BASE_EINVAL;
	}
	errno = 0;
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (*end != '\0') {
		snprintf(why, cap, "'%s' is not a number", v);
		return BASE_EINVAL;
	}
	if (errno == ERANGE || n < k->min || n > k->max) {
		snprintf(why, cap, "%s is out of range %u..%u", v, k->min, k->max);
		return BASE_EINVAL;
	}
	*out = (unsigned)n;
	return BASE_OK;
}

/* The value of one base64 character, -1 for any other. */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int config_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, pad = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		int v = b64_value(s[i]);
		if (v < 0 || pad > 0) /* nothing but padding after padding */
			return BASE_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return BASE_EINVAL;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || (len - pad) % 4 == 1)
		return BASE_EINVAL;
	*n = o;
	return BASE_OK;
}

int config_tsig_key_parse(const char *v, char *name, uint8_t *secret, size_t *secret_len,
			  char *why, size_t cap)
{
	static const char alg[] = "hmac-sha256:";
	uint8_t tmp[CONFIG_TSIG_SECRET_MAX];
	size_t n = 0;
	if (strncasecmp(v, alg, sizeof alg - 1) != 0) {
		snprintf(why, cap, "is not hmac-sha256:NAME:BASE64SECRET (the algorithm must be "
			 "hmac-sha256)");
		return BASE_EINVAL;
	}
	const char *kn = v + sizeof alg - 1, *colon = strchr(kn, ':');
	char kname[256];
	if (!colon || colon == kn || (size_t)(colon - kn) >= sizeof kname) {
		snprintf(why, cap, "is not hmac-sha256:NAME:BASE64SECRET");
		return BASE_EINVAL;
	}
	memcpy(kname, kn, (size_t)(colon - kn));
	kname[colon - kn] = '\0';
	if (!config_name_valid(kname)) {
		snprintf(why, cap, "key name '%s' is not a domain name", kname);
		return BASE_EINVAL;
	}
	if (config_base64_decode(colon + 1, strlen(colon + 1), tmp, sizeof tmp, &n) != BASE_OK ||
	    n == 0) {
		snprintf(why, cap, "the secret of key '%s' is not base64 (of at most %d bytes)",
			 kname, CONFIG_TSIG_SECRET_MAX);
		return BASE_EINVAL;
	}
	if (name)
		snprintf(name, 256, "%s", kname);
	if (secret)
		memcpy(secret, tmp, n);
	if (secret_len)
		*secret_len = n;
	return BASE_OK;
}

static int config_apply(struct config *c, const struct config_key *k, const char *v, char *why,
			size_t cap)
{
	char *field = (char *)c + k->offset;
	size_t len = strlen(v);
	if (k->type != CONFIG_UINT && k->type != CONFIG_IP4 && k->type != CONFIG_DOUBLE) {
		if (len == 0 && !(k->flags & CONFIG_EMPTY_OK)) {
			snprintf(why, cap, "must not be empty");
			return BASE_EINVAL;
		}
		if (len >= k->size) {
			snprintf(why, cap, "longer than %zu characters", k->size - 1);
			return BASE_EINVAL;
		}
	}
	switch (k->type) {
	case CONFIG_UINT:
		return config_uint_parse(k, v, (unsigned *)(void *)field, why, cap);
	case CONFIG_DOUBLE:
		return config_double_parse(k, v, (double *)(void *)field, why, cap);
	case CONFIG_CIDRS:
		if (config_cidrs_check(v, why, cap) != BASE_OK)
			return BASE_EINVAL;
		break;
	case CONFIG_EXCLUSIONS: {
		unsigned n;
		bool special;
		if (config_exclusions_parse(v, NULL, CONFIG_PREFIX_MAX, &n, &special, why, cap) !=
		    BASE_OK)
			return BASE_EINVAL;
		break;
	}
	case CONFIG_NSADDRS: {
		unsigned n;
		if (config_ns_addr_parse(v, NULL, CONFIG_NS_ADDR_MAX, &n, why, cap) != BASE_OK)
			return BASE_EINVAL;
		break;
	}
	case CONFIG_IP4: {
		uint32_t ip;
		if (ip4_parse(v, len, &ip) != BASE_OK) {
			snprintf(why, cap, "'%s' is not an IPv4 address", v);
			return BASE_EINVAL;
		}
		*(uint32_t *)(void *)field = ip;
		return BASE_OK;
	}
	case CONFIG_NAME:
		if (len > 0 && !config_name_valid(v)) {
			snprintf(why, cap, "'%s' is not a domain name", v);
			return BASE_EINVAL;
		}
		break;
	case CONFIG_NAMES:
		if (config_names_check(v, why, cap) != BASE_OK)
			return BASE_EINVAL;
		break;
	case CONFIG_URL:
		if (len == 0)
			break; /* empty_ok was checked above */
		if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
		    strpbrk(v, " \t\"'<>\\") || v[len - 1] == '/') {
			snprintf(why, cap, "'%s' is not an http:// or https:// URL without a trailing "
				 "slash", v);
			return BASE_EINVAL;
		}
		for (size_t i = 0; i < len; i++) {
			if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
				snprintf(why, cap, "'%s' has a character a URL cannot", v);
				return BASE_EINVAL;
			}
		}
		break;
	case CONFIG_LISTEN_OFF: {
		unsigned n;
		if (!config_listen_off(v) &&
		    config_listen_parse(v, NULL, NULL, 64, &n, why, cap) != BASE_OK) {
			snprintf(why, cap, "'%s' is neither off nor ADDR:PORT[,ADDR:PORT...]", v);
			return BASE_EINVAL;
		}
		break;
	}
	case CONFIG_LISTEN: {
		unsigned n;
		if (len > 0 && config_listen_parse(v, NULL, NULL, 64, &n, why, cap) != BASE_OK)
			return BASE_EINVAL;
		break;
	}
	case CONFIG_MAILBOXES: {
		unsigned n;
		if (config_list_each(v, UINT_MAX, "addresses", mailbox_item, NULL, &n, why, cap) !=
		    BASE_OK)
			return BASE_EINVAL;
		break;
	}
	case CONFIG_SAMPLE: {
		bool known = false;
		for (size_t i = 0; i < sizeof(sample_modes) / sizeof(sample_modes[0]); i++)
			known = known || strcmp(v, sample_modes[i]) == 0;
		if (!known) {
			snprintf(why, cap, "'%s' is not one of headers, message, none", v);
			return BASE_EINVAL;
		}
		break;
	}
	case CONFIG_LOGFORMAT: {
		enum log_format lf;
		if (log_format_parse(v, &lf) != BASE_OK) {
			snprintf(why, cap, "'%s' is not one of text, json", v);
			return BASE_EINVAL;
		}
		break;
	}
	case CONFIG_LEVEL: {
		enum log_level lv;
		if (log_level_parse(v, &lv) != BASE_OK) {
			snprintf(why, cap, "'%s' is not one of debug, info, warn, error", v);
			return BASE_EINVAL;
		}
		break;
	}
	case CONFIG_SECRET:
		for (size_t i = 0; i < len; i++) {
			if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
				snprintf(why, cap, "has a character that is not printable ASCII");
				return BASE_EINVAL;
			}
		}
		break;
	case CONFIG_TSIG_KEY:
		if (len > 0 && config_tsig_key_parse(v, NULL, NULL, NULL, why, cap) != BASE_OK)
			return BASE_EINVAL;
		break;
	case CONFIG_STRING:
	case CONFIG_PATH:
		break;
	}
	memcpy(field, v, len + 1);
	/* A domain name is kept without its trailing dot: the zone code adds the root. */
	if ((k->type == CONFIG_NAME) && len > 1 && field[len - 1] == '.')
		field[len - 1] = '\0';
	return BASE_OK;
}

int config_default_set(const char *key, const char *value)
{
	const struct config_key *k = config_key_find(key);
	if (!k)
		return BASE_EINVAL;
	struct config probe;
	memset(&probe, 0, sizeof(probe));
	char why[CONFIG_ERR_MAX];
	if (config_apply(&probe, k, value, why, sizeof(why)) != BASE_OK)
		return BASE_EINVAL;
	config_default_over[k - config_keys] = value;
	return BASE_OK;
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	char why[CONFIG_ERR_MAX];
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		/* The defaults are ours; one that does not pass its own check is a bug. */
		if (config_apply(c, &config_keys[i], config_key_default(&config_keys[i]), why,
				 sizeof(why)) != 0)
			log_err("config", "bad default key=%s problem=\"%s\"", config_keys[i].name,
				why);
	}
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errcap)
{
	const struct config_key *k = config_key_find(key);
	if (!k) {
		snprintf(err, errcap, "%s: unknown key", key);
		return BASE_EINVAL;
	}
	char why[CONFIG_ERR_MAX];
	if (config_apply(c, k, value, why, sizeof(why)) != BASE_OK) {
		snprintf(err, errcap, "%s: %s", key, why);
		return BASE_EINVAL;
	}
	/* The default TXT points at the lookup page, wherever public_url puts it, until
	 * answer_txt is given (in whichever order the two come). */
	if (strcmp(key, "answer_txt") == 0)
		c->answer_txt_set = true;
	else if (strcmp(key, "public_url") == 0 && !c->answer_txt_set)
		snprintf(c->answer_txt, sizeof(c->answer_txt),
			 "Listed ({reason}) - see %.900s/lookup?ip=$", c->public_url);
	return BASE_OK;
}

/* ---- relations between keys ---- */

/* True when name (lowercase) equals one of the comma-separated names in list, either case,
 * trailing dots ignored. */
static bool config_names_have(const char *list, const char *name)
{
	char buf[CONFIG_STR_MAX];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		size_t len = strlen(tok);
		if (len > 1 && tok[len - 1] == '.')
			tok[--len] = '\0';
		if (strcasecmp(tok, name) == 0)
			return true;
	}
	return false;
}

/* The labels of name left of the zone read as a reversed IPv4 address or prefix (one to four
 * decimal octets) or a full IPv6 name (32 nibbles): the answering core reads such names as
 * list entries, so a name server there would shadow, or be shadowed by, the list. */
static bool config_name_reads_as_ip(const char *name, size_t len)
{
	unsigned labels = 0, octets = 0, nibbles = 0;
	const char *p = name, *end = name + len;
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
		bool digits = l >= 1 && l <= 3 && strspn(p, "0123456789") >= l &&
			      (l == 1 || p[0] != '0') && (l < 3 || strncmp(p, "255", 3) <= 0);
		bool hex = l == 1 && strchr("0123456789abcdef", p[0]);
		labels++;
		octets += digits;
		nibbles += hex;
		p += l + 1;
	}
	return (labels <= 4 && octets == labels) || (labels == 32 && nibbles == 32);
}

/* Why name cannot have an address in c (NULL when it can): the zone must be its parent, and
 * only the zone's own name servers get addresses, as glue (RFC 1034 4.2.1). */
static const char *config_ns_addr_why(const struct config *c, const char *name)
{
	size_t nlen = strlen(name), zlen = strlen(c->zone);
	if (nlen <= zlen + 1 || name[nlen - zlen - 1] != '.' ||
	    strcasecmp(name + nlen - zlen, c->zone) != 0)
		return "is not below the zone";
	if (config_name_reads_as_ip(name, nlen - zlen - 1))
		return "reads as a listed address's name";
	char def[300];
	snprintf(def, sizeof(def), "ns1.%s", c->zone);
	bool ns = c->ns[0] ? config_names_have(c->ns, name) : strcasecmp(def, name) == 0;
	bool mname = c->soa_mname[0] ? config_names_have(c->soa_mname, name)
				     : strcasecmp(def, name) == 0;
	if (!ns && !mname)
		return "is not a name server of the zone (ns, soa_mname)";
	return NULL;
}

int config_check(const struct config *c, char *err, size_t errcap)
{
	struct config_ns_addr a[CONFIG_NS_ADDR_MAX];
	unsigned n;
	/* A certificate without its key (or the reverse) is a half-done edit: say so at once
	 * rather than fall back to a self-signed pair the operator did not ask for. */
	if ((c->smtp_tls_cert[0] != '\0') != (c->smtp_tls_key[0] != '\0')) {
		snprintf(err, errcap, "smtp_tls_cert and smtp_tls_key: give both or neither");
		return BASE_EINVAL;
	}
	/* A budget smaller than one message would answer 452 to the largest ones for ever. */
	if (c->smtp_memory_max < c->smtp_max_size) {
		snprintf(err, errcap, "smtp_memory_max: %u is below smtp_max_size (%u)",
			 c->smtp_memory_max, c->smtp_max_size);
		return BASE_EINVAL;
	}
	/* A trap node without its key would be refused (401) by the primary for ever. */
	if (c->forward_url[0] && !c->forward_key[0]) {
		snprintf(err, errcap, "forward_url: needs forward_key, the feed key the primary gave "
				      "(trapline feed add NAME there)");
		return BASE_EINVAL;
	}
	if (config_ns_addr_parse(c->ns_addr, a, CONFIG_NS_ADDR_MAX, &n, err, errcap) != BASE_OK)
		return BASE_EINVAL; /* config_set let it through: only a caller's own struct */
	for (unsigned i = 0; i < n; i++) {
		const char *why = config_ns_addr_why(c, a[i].name);
		if (why) {
			snprintf(err, errcap, "ns_addr: %s %s", a[i].name, why);
			return BASE_EINVAL;
		}
		unsigned same = 0;
		for (unsigned j = 0; j < n; j++)
			same += strcmp(a[j].name, a[i].name) == 0;
		if (same > CONFIG_NS_ADDR_PER_NAME) {
			snprintf(err, errcap, "ns_addr: %s has %u addresses, at most %u", a[i].name,
				 same, CONFIG_NS_ADDR_PER_NAME);
			return BASE_EINVAL;
		}
	}
	return BASE_OK;
}

static char *config_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* Opens path for reading as a regular file: a directory (or a device) is an error, not an
 * empty configuration. */
static FILE *config_open(const char *path, char *err, size_t errcap)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	if (!f) {
		snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errcap, "%s: not a file%s", path,
			 S_ISDIR(st.st_mode) ? " (a directory): give the configuration file" : "");
		fclose(f);
		return NULL;
	}
	return f;
}

/* One "key = value" line (trimmed, not a comment) into c; lineno names it in messages. A key
 * set on an earlier line of the same file (seen[]) is refused: which one would count is
 * nobody's guess when reading the file. */
static int config_line(struct config *c, char *s, const char *path, size_t lineno,
		       size_t *seen, char *err, size_t errcap)
{
	char *eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errcap, "%s:%zu: expected 'key = value'", path, lineno);
		return BASE_EINVAL;
	}
	*eq = '\0';
	char *key = config_trim(s);
	char *value = config_trim(eq + 1);
	/* Values may be quoted to keep leading or trailing spaces. */
	size_t vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	const struct config_key *k = config_key_find(key);
	size_t idx = k ? (size_t)(k - config_keys) : 0;
	if (k && seen[idx]) {
		snprintf(err, errcap, "%s:%zu: %s: set twice (first on line %zu)", path, lineno, key,
			 seen[idx]);
		return BASE_EINVAL;
	}
	char why[CONFIG_ERR_MAX];
	if (config_set(c, key, value, why, sizeof(why)) != BASE_OK) {
		snprintf(err, errcap, "%s:%zu: %s", path, lineno, why);
		return BASE_EINVAL;
	}
	seen[idx] = lineno;
	return BASE_OK;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errcap)
{
	FILE *f = config_open(path, err, errcap);
	if (!f)
		return BASE_EIO;
	size_t seen[CONFIG_NKEYS] = {0};
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = BASE_OK;
	while (rc == BASE_OK && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (memchr(line, '\0', (size_t)len)) {
			snprintf(err, errcap, "%s:%zu: a NUL byte: not a text file?", path, lineno);
			rc = BASE_EINVAL;
		} else if (len > CONFIG_LINE_MAX) {
			snprintf(err, errcap, "%s:%zu: line longer than %d characters", path, lineno,
				 CONFIG_LINE_MAX);
			rc = BASE_EINVAL;
		} else {
			char *s = config_trim(line);
			if (*s != '\0' && *s != '#')
				rc = config_line(c, s, path, lineno, seen, err, errcap);
		}
	}
	if (rc == BASE_OK && ferror(f)) {
		snprintf(err, errcap, "%s: cannot read: %s", path, strerror(errno));
		rc = BASE_EIO;
	}
	free(line);
	fclose(f);
	return rc;
}

static void config_value_format(const struct config *c, const struct config_key *k, char *buf,
				size_t cap)
{
	const char *field = (const char *)c + k->offset;
	if (k->type == CONFIG_UINT)
		snprintf(buf, cap, "%u", *(const unsigned *)(const void *)field);
	else if (k->type == CONFIG_DOUBLE)
		snprintf(buf, cap, "%g", *(const double *)(const void *)field);
	else if (k->type == CONFIG_IP4)
		ip4_format(*(const uint32_t *)(const void *)field, buf);
	else if ((k->type == CONFIG_SECRET || k->type == CONFIG_TSIG_KEY) && field[0])
		snprintf(buf, cap, "(set, not shown)");
	else
		snprintf(buf, cap, "%s", field);
}

bool config_key_live(const char *key)
{
	const struct config_key *k = config_key_find(key);
	return k && (k->flags & CONFIG_LIVE);
}

/* Whether key k has the same value in a and b (as the file would write it). */
static bool config_same(const struct config *a, const struct config *b,
			const struct config_key *k)
{
	char va[CONFIG_STR_MAX], vb[CONFIG_STR_MAX];
	config_value_format(a, k, va, sizeof(va));
	config_value_format(b, k, vb, sizeof(vb));
	return strcmp(va, vb) == 0;
}

size_t config_changed(const struct config *old, const struct config *now, bool live, char *names,
		      size_t cap)
{
	size_t n = 0, pos = 0;
	bool full = cap == 0;
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (((k->flags & CONFIG_LIVE) != 0) != live || config_same(old, now, k))
			continue;
		n++;
		if (full)
			continue;
		int w = snprintf(names + pos, cap - pos, "%s%s", pos ? "," : "", k->name);
		if (w > 0 && pos + (size_t)w < cap)
			pos += (size_t)w;
		else
			full = true; /* whole names only: the list stops at the first that is cut */
		names[pos] = '\0';
	}
	if (cap)
		names[pos] = '\0';
	return n;
}

void config_keep_restart_keys(struct config *now, const struct config *old)
{
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (!(k->flags & CONFIG_LIVE))
			memcpy((char *)now + k->offset, (const char *)old + k->offset, k->size);
	}
}

void config_print(FILE *f, const struct config *c)
{
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		char val[CONFIG_STR_MAX];
		config_value_format(c, k, val, sizeof(val));
		const char *def = config_key_default(k);
		bool is_default = strcmp(val, def) == 0;
		fprintf(f, "%s = %s\n    # %s (default: \"%s\"%s; %s)\n", k->name, val, k->help,
			def, is_default ? "" : "; changed",
			(k->flags & CONFIG_LIVE) ? "SIGHUP reloads it" : "a restart changes it");
	}
}

/* The type column of trapline.conf(5), by enum config_type. */
static const char *const config_type_words[] = {
	[CONFIG_STRING] = "text",
	[CONFIG_PATH] = "path",
	[CONFIG_UINT] = "number",
	[CONFIG_IP4] = "IPv4 address",
	[CONFIG_NAME] = "domain name",
	[CONFIG_NAMES] = "domain names, comma separated",
	[CONFIG_LISTEN] = "ADDR:PORT list",
	[CONFIG_LEVEL] = "log level",
	[CONFIG_DOUBLE] = "decimal number",
	[CONFIG_CIDRS] = "CIDR list",
	[CONFIG_EXCLUSIONS] = "CIDR list or special-purpose",
	[CONFIG_NSADDRS] = "NAME=ADDR list",
	[CONFIG_LISTEN_OFF] = "ADDR:PORT list or off",
	[CONFIG_MAILBOXES] = "mailbox list",
	[CONFIG_SAMPLE] = "headers, message or none",
	[CONFIG_URL] = "URL",
};

bool config_key_doc(size_t i, struct config_key_doc *out)
{
	if (i >= CONFIG_NKEYS)
		return false;
	const struct config_key *k = &config_keys[i];
	const char *type = (size_t)k->type < sizeof(config_type_words) / sizeof(config_type_words[0])
				   ? config_type_words[k->type]
				   : NULL;
	*out = (struct config_key_doc){
		.name = k->name,
		.def = config_key_default(k),
		.type = type ? type : "text",
		.help = k->help,
		.ranged = k->type == CONFIG_UINT || k->type == CONFIG_DOUBLE,
		.min = k->min,
		.max = k->max,
		.live = (k->flags & CONFIG_LIVE) != 0,
	};
	return true;
}

void config_template(FILE *f)
{
	fprintf(f, "# trapline.conf - Trapline's configuration, every key with its default.\n"
		   "# Generated by `trapline config-template` from the schema in "
		   "src/base/base_config.c;\n"
		   "# `trapline check-config FILE` validates a file. Format: key = value; "
		   "'#' starts a comment.\n"
		   "# A command-line option (--dns, --zone, ...) overrides the file.\n"
		   "# SIGHUP reloads the file: the keys marked so change at once, the others keep\n"
		   "# their value until a restart (the log names those that changed).\n");
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		const char *def = config_key_default(k);
		fprintf(f, "\n# %s%s\n#%s =%s%s\n", k->help,
			(k->flags & CONFIG_LIVE) ? " SIGHUP reloads it." : "", k->name,
			def[0] ? " " : "", def);
	}
}
