/* ctl.h - the operator's commands (evidence add, check, list, delist, exclude, rebuild, export,
 * explain, reputation): their requests, the one-line control protocol, the handlers both the
 * control socket of a running service and the in-process path of the CLI run, and the socket. */
#ifndef TRAPLINE_CTL_H
#define TRAPLINE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

#include "policy/policy.h"
#include "store/store.h"

struct writer;
struct zone_handle;

/* The codes of the one error space (base.h) that ctl functions return. */
enum ctl_err {
	CTL_OK = TL_OK,
	CTL_EINVAL = TL_EINVAL,         /* bad input: the message says what */
	CTL_ENOMEM = TL_ENOMEM,
	CTL_EIO = TL_EIO,               /* a socket call failed; errno says why */
	CTL_ENOSERVICE = TL_ENOSERVICE, /* no service answers on the control socket */
	CTL_EPROTO = TL_EPROTO,         /* the other side does not speak the protocol */
};


/* Exit statuses of the commands (and the status a service answers with). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1  /* the store or the writer failed */
#define CTL_EXIT_USAGE 2 /* bad input: nothing was changed */

#define CTL_LINE_MAX 8192 /* a request line, newline included */
#define CTL_ERR_MAX 512
#define CTL_WHO_MAX 64
#define CTL_POINTS_MAX 1e9 /* reputation points: beyond it is a typo, not a policy */

enum ctl_cmd {
	CTL_CMD_NONE = 0,
	CTL_CMD_EVIDENCE_ADD,
	CTL_CMD_CHECK,
	CTL_CMD_LIST,
	CTL_CMD_DELIST,
	CTL_CMD_EXCLUDE,
	CTL_CMD_REBUILD,
	CTL_CMD_EXPORT,
	CTL_CMD_EXPLAIN,
	CTL_CMD_REPUTATION,
	CTL_CMD_REPUTATION_LIST,
};

enum ctl_format { CTL_FORMAT_NONE = 0, CTL_FORMAT_RBLDNSD = 1, CTL_FORMAT_BIND = 2 };

/* A parsed request. Fields a command does not take stay zero. Times are seconds since the
 * epoch; at == 0 means "now" (the service's clock, time_now). */
struct ctl_request {
	enum ctl_cmd cmd;
	bool has_ip;
	uint8_t ip[16];              /* IPv4 mapped, as the store keeps it */
	bool has_prefix;
	struct ip_prefix prefix;  /* exclude */
	enum store_kind kind;        /* 0: not given */
	bool has_class;
	enum store_class cls;
	int64_t at;                  /* evidence add: when the mail was received */
	int64_t until;               /* exclude: 0 = for ever */
	bool has_points;
	double points;               /* reputation: >= 0, finite; 0 removes the prefix's points */
	bool has_why;
	char why[STORE_TEXT_MAX];
	enum ctl_format format;      /* export */
	bool json;                   /* list */
};

/* The protocol name of a command ("evidence-add", "check", ...); NULL for an unknown one. */
const char *ctl_cmd_name(enum ctl_cmd cmd);
/* Starts a request for the command named name (protocol name); CTL_EINVAL if unknown. */
int ctl_request_init(struct ctl_request *req, const char *name, char *err, size_t errcap);
/* Sets one argument from its text ("ip", "kind", "class", "at", "cidr", "until", "why",
 * "format", "json", "points", "remove" (the same as points=0)). Checks what can be checked
 * without a clock: the address parses, a CIDR has no host bits, a time is ISO 8601, points are
 * a plain decimal from 0 to CTL_POINTS_MAX, the command takes the key. CTL_EINVAL with a
 * one-line message in err otherwise. */
int ctl_request_set(struct ctl_request *req, const char *key, const char *value, char *err,
		    size_t errcap);
/* Checks the request as a whole against now: required arguments given (--ip, --kind, --why,
 * --format...), --until in the future, --at not in the future. CTL_EINVAL with a message. */
int ctl_request_check(const struct ctl_request *req, int64_t now, char *err, size_t errcap);

/* The protocol: one request per connection, one line "NAME key=value key=value\n", values
 * %XX-escaped (space, '%', '=', control and non-ASCII bytes), and the answer "status N\n"
 * followed by the command's output until the connection closes (its standard output when
 * N is 0, its error message otherwise). */
/* Writes req as a request line (with its newline) into buf; CTL_EINVAL when cap is too small. */
int ctl_request_format(const struct ctl_request *req, char *buf, size_t cap);
/* Parses a request line (the newline may be there or not) into req. */
int ctl_request_parse(const char *line, size_t len, struct ctl_request *req, char *err,
		      size_t errcap);

/* What a command runs against: a running service's, or the CLI's own writer when no service
 * runs. reader is a store handle used only by the thread that calls ctl_execute (the control
 * socket's thread opens its own read-only one), so reads never share the writer's connection. */
struct ctl_service {
	struct writer *writer;
	struct store *reader;
	struct zone_handle *zone;   /* the caller is a registered zone reader (export) */
	const char *zone_name;
	struct policy_config policy;
	const struct ip_prefix *default_exclusions;
	size_t n_default_exclusions;
};

/* Runs req: writes through writer_submit, reads from reader. Output goes to out, a one-line
 * error message ("trapline: ...") to err. who names the operator for the audit log. Returns
 * an exit status: CTL_EXIT_OK, CTL_EXIT_USAGE (bad input, nothing changed) or CTL_EXIT_FAIL. */
int ctl_execute(const struct ctl_service *svc, const struct ctl_request *req, const char *who,
		FILE *out, FILE *err);

/* The control socket of a running service: an AF_UNIX stream socket at path, mode 0600,
 * answered by one thread, one request per connection. A socket file left by a killed process
 * (nothing accepts on it) is replaced; one a live process answers on is CTL_EIO with errno
 * EADDRINUSE. svc is copied, but what it points to must outlive the server; the server opens
 * its own read-only store handle on data_dir and ignores svc->reader. uid/gid: owner given to
 * the socket file (-1: leave it). */
struct ctl_server;
int ctl_server_start(const char *path, const char *data_dir, const struct ctl_service *svc,
		     int uid, int gid, struct ctl_server **out);
/* Stops the thread (a request being run finishes first), removes the socket file, frees. */
void ctl_server_stop(struct ctl_server *srv);

/* Sends req to the service listening on path and copies its answer: the output to out when the
 * status is 0, to err otherwise. *status gets the service's exit status. CTL_ENOSERVICE when
 * there is no socket file or nothing accepts on it (run the command in-process then). */
int ctl_client_call(const char *path, const struct ctl_request *req, FILE *out, FILE *err,
		    int *status);

#endif
