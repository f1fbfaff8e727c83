/* smtp.h - the spamtrap: an RFC 5321 server whose every accepted message is evidence against
 * the client's address. The dialogue is a state machine over bytes and the PROXY header a
 * parser over bytes (both driven by tests and fuzzers without sockets); the server runs them
 * on libevent, with STARTTLS through OpenSSL, and hands each message to the writer. */
#ifndef TRAPLINE_SMTP_H
#define TRAPLINE_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/base.h"
#include "writer/writer.h"

/* The codes of the one error space (base.h) that smtp functions return. */
enum smtp_err {
	SMTP_OK = TL_OK,
	SMTP_EINVAL = TL_EINVAL, /* bad configuration: the log says which key */
	SMTP_ENOMEM = TL_ENOMEM,
	SMTP_EIO = TL_EIO,       /* a socket, TLS or file operation failed (logged) */
	SMTP_EPROTO = TL_EPROTO, /* not a valid PROXY header */
};

/* ---- the dialogue ------------------------------------------------------------------- */

/* Command lines longer than this (with CRLF) are refused, 500 5.5.2: RFC 5321 4.5.3.1.4's
 * 512 octets and room for the parameters of the extensions offered. Message text lines have
 * no limit (RFC 5321 4.5.3.1: none should be imposed). */
#define SMTP_LINE_MAX 1024

struct smtp_dialog_config {
	const char *hostname;       /* in the greeting and the EHLO answer */
	const char *trap_domains;   /* comma separated; borrowed for the dialogue's life */
	const char *trap_addresses; /* comma separated local@domain; borrowed */
	size_t max_size;            /* bytes of one message at most */
	unsigned max_rcpts;
	unsigned max_errors;        /* replies 500 and up (but 552) before 421 and close */
	bool tls_available;         /* STARTTLS is offered */
};

/* What the host must do before it feeds more bytes. */
enum smtp_event {
	SMTP_EVENT_NONE = 0, /* every byte given was consumed: read more */
	SMTP_EVENT_MESSAGE,  /* a message is complete: store it (smtp_dialog_message), then
				smtp_dialog_message_done; the 250 waits for that */
	SMTP_EVENT_STARTTLS, /* send the output, discard every byte read but not consumed
				(RFC 3207 5: nothing sent before the handshake counts), start TLS,
				then smtp_dialog_tls_started */
	SMTP_EVENT_CLOSE,    /* send the output, then close */
};

/* One received message, as smtp_dialog_message shows it: valid until message_done. */
struct smtp_message {
	const char *helo;        /* "" when the client sent none */
	const char *mail_from;   /* "" for the null sender <> */
	const char *const *rcpts;/* the trap recipients, each once */
	unsigned n_rcpts;
	const uint8_t *data;     /* the message, dot-unstuffed, without the final CRLF.CRLF */
	size_t len;
	bool tls;                /* received inside TLS */
};

struct smtp_dialog;

/* A new dialogue (nothing written yet: call smtp_dialog_greet). NULL when out of memory. */
struct smtp_dialog *smtp_dialog_new(const struct smtp_dialog_config *cfg);
void smtp_dialog_free(struct smtp_dialog *d);
/* Writes the 220 greeting. */
void smtp_dialog_greet(struct smtp_dialog *d);
/* No client address is known (a PROXY LOCAL or UNKNOWN header: the proxy's own health
 * check): the session may talk, but MAIL is refused, so that nothing is ever recorded
 * against the proxy. */
void smtp_dialog_no_client(struct smtp_dialog *d);
/* The same for a client nothing may be recorded against, with why in the 550 reply ("127.0.0.1
 * is in 127.0.0.0/8, Loopback (RFC 1122), a special-purpose address"; cut at 223 bytes). The
 * first reason given stands. */
void smtp_dialog_refuse_mail(struct smtp_dialog *d, const char *why);
/* Consumes bytes of in[0..len) (the dialogue keeps partial lines itself) until all are
 * consumed or an event needs the host; returns how many it consumed and sets *ev. In the
 * states that wait for the host (a message being stored, TLS starting, closed) it consumes
 * nothing; once closed, everything. */
size_t smtp_dialog_feed(struct smtp_dialog *d, const uint8_t *in, size_t len,
			enum smtp_event *ev);
/* The reply bytes written so far; smtp_dialog_output_clear once the host has taken them. */
const uint8_t *smtp_dialog_output(const struct smtp_dialog *d, size_t *len);
void smtp_dialog_output_clear(struct smtp_dialog *d);
/* After SMTP_EVENT_MESSAGE: the message. */
void smtp_dialog_message(const struct smtp_dialog *d, struct smtp_message *out);
/* The message is stored (250 2.0.0) or could not be (451 4.3.0: the client tries again);
 * the transaction ends either way and the dialogue reads commands again. */
void smtp_dialog_message_done(struct smtp_dialog *d, bool stored);
/* TLS is up: the dialogue starts over (RFC 3207 4.2: the client greets again). */
void smtp_dialog_tls_started(struct smtp_dialog *d);
/* The client was silent too long: 421 4.4.2, then SMTP_EVENT_CLOSE is due. */
void smtp_dialog_timeout(struct smtp_dialog *d);
/* Inside DATA (the host applies the data timeout rather than the command timeout). */
bool smtp_dialog_in_data(const struct smtp_dialog *d);
/* The host closes the session for a limit of its own: "421 code hostname Error: why", the
 * message being received (if any) let go unrecorded, then SMTP_EVENT_CLOSE is due. Nothing
 * while the host stores a message (that one is answered first). */
void smtp_dialog_abort(struct smtp_dialog *d, const char *code, const char *why);

/* The host's account of message buffers (its budget, smtp_memory_max): called before the
 * buffer of the message being received goes from `from` to `to` bytes. A growth (to > from)
 * may be refused (false): at DATA (from 0) the client is told 452 4.3.1 and may try again;
 * later the message is let go, the rest of it read and dropped, and its end answered 452
 * 4.3.1. A shrink (to < from, to 0 when the buffer goes) cannot be refused. The buffer exists
 * only from DATA until the message is stored, refused or abandoned. */
typedef bool smtp_dialog_mem_fn(void *arg, size_t from, size_t to);
void smtp_dialog_set_mem(struct smtp_dialog *d, smtp_dialog_mem_fn *fn, void *arg);

/* What the host's limits look at. */
struct smtp_dialog_progress {
	uint64_t commands;   /* command lines read so far (each one answered) */
	size_t line_bytes;   /* bytes of the command line begun and not finished */
	uint64_t data_bytes; /* inside DATA: bytes of the message read so far */
	size_t held;         /* bytes of message buffer held */
};
void smtp_dialog_progress(const struct smtp_dialog *d, struct smtp_dialog_progress *out);

/* ---- the PROXY protocol header (HAProxy's specification, versions 1 and 2) ------------ */

struct smtp_proxy_info {
	bool local;          /* LOCAL (v2), UNKNOWN (v1) or UNSPEC: no client address given */
	uint8_t src[16];     /* the client's address (16-byte form, IPv4 mapped) */
	uint16_t src_port;
	uint8_t dst[16];     /* the address the client connected to */
	uint16_t dst_port;
};

#define SMTP_PROXY_V1_MAX 107          /* the longest v1 line, CRLF included */
#define SMTP_PROXY_V2_MAX (16 + 2048)  /* longest v2 header accepted (TLVs included) */

/* Reads a PROXY header at the start of buf[0..len). Returns 1 when a whole header is there
 * (*consumed its length, *out the addresses), 0 when more bytes are needed, SMTP_EPROTO when
 * buf does not start with a valid v1 or v2 header. */
int smtp_proxy_parse(const uint8_t *buf, size_t len, size_t *consumed,
		     struct smtp_proxy_info *out);

/* ---- the server ---------------------------------------------------------------------- */

#define SMTP_LISTEN_MAX 16
#define SMTP_PROXY_TRUSTED_MAX 64

enum smtp_sample { SMTP_SAMPLE_HEADERS = 0, SMTP_SAMPLE_MESSAGE = 1, SMTP_SAMPLE_NONE = 2 };

struct smtp_server_config {
	struct sockaddr_storage listen[SMTP_LISTEN_MAX];
	socklen_t listen_len[SMTP_LISTEN_MAX];
	unsigned n_listen;
	char hostname[256];
	char trap_domains[CONFIG_STR_MAX];
	char trap_addresses[CONFIG_STR_MAX];
	size_t max_size;
	unsigned max_rcpts, max_sessions, max_per_ip, max_errors;
	unsigned command_timeout_s, data_timeout_s;
	unsigned data_min_rate;   /* bytes/s a message must average past data_timeout_s; 0: none */
	size_t memory_max;        /* bytes of message buffers of all sessions together */
	struct ip_prefix proxy_trusted[SMTP_PROXY_TRUSTED_MAX];
	unsigned n_proxy_trusted;
	char tls_cert[CONFIG_STR_MAX], tls_key[CONFIG_STR_MAX]; /* "" and "": self-signed */
	char data_dir[CONFIG_STR_MAX]; /* where a self-signed pair is made */
	int owner_uid, owner_gid;      /* owner of the files made there (-1: the caller) */
	enum smtp_sample sample;
	unsigned sample_days;
	bool special_refused;          /* exclude_default names special-purpose: a client at a
					  special-purpose address (after a PROXY header) may talk,
					  but MAIL is refused: its hits could never list it */
};

/* The server's part of the configuration (smtp_* and trap_* keys). SMTP_EINVAL with the
 * problem in err; *enabled false when smtp_listen is off. */
int smtp_server_config_make(const struct config *c, struct smtp_server_config *out,
			    bool *enabled, char *err, size_t errcap);

/* Reads the operator's certificate and key (smtp_tls_cert, smtp_tls_key) as check-config and
 * serve do before anything starts: each file readable, in PEM, the key the certificate's.
 * SMTP_OK (also when none is set: a self-signed pair is made later), or SMTP_EINVAL with
 * "KEY FILE: problem" in err. */
int smtp_tls_check(const struct smtp_server_config *cfg, char *err, size_t errcap);

struct smtp_server;

/* Binds the listening sockets and sets up TLS (reading the certificate and key, or making a
 * self-signed pair in data_dir the first time): call it before privileges are dropped.
 * SMTP_EIO when an address cannot be bound or TLS cannot be set up (logged). */
int smtp_server_bind(const struct smtp_server_config *cfg, struct smtp_server **out);
/* Where the trap's accepted messages go: the writer (a whole Trapline) or a trap node's spool
 * (smtp_spool_sink). post takes ev as writer_post_nowait does: it never blocks; WRITER_OK when
 * taken (done(arg, result) is then called exactly once, on any thread, when it is stored or
 * failed: only then is the client answered), or an error (done is never called; the client
 * is told 451). ev and what it points to stay untouched until done. */
struct smtp_sink {
	int (*post)(void *ctx, const struct writer_event *ev, writer_done_fn done, void *arg);
	void *ctx;
};

/* Starts the event loop's thread; messages go to w, which must outlive the server. */
int smtp_server_start(struct smtp_server *srv, struct writer *w);
/* The same with messages going to sink (copied; its ctx must outlive the server). */
int smtp_server_start_sink(struct smtp_server *srv, const struct smtp_sink *sink);
/* ---- a trap node (smtp_node.c, smtp_spool.c, smtp_forward.c) --------------------------
 * `serve --forward URL`: the trap alone, its hits committed to a spool in data_dir (SQLite,
 * "spool.db") before each 250, and a forwarder thread that sends them in batches to the
 * primary's POST /api/v1/evidence, each with an id of its own (the node's name and 128 random
 * bits), deleting only what the primary acknowledged by id, retrying with a doubling wait
 * while the primary is away. docs/trap-node.md. */

#define SMTP_NODE_NAME_MAX 64                          /* bytes of a node's name in its ids */
#define SMTP_HIT_ID_MAX (SMTP_NODE_NAME_MAX + 1 + 32 + 1) /* "NAME-" 32 hex digits, NUL */

struct smtp_node_config {
	char data_dir[CONFIG_STR_MAX];
	char node[256];              /* smtp_hostname; "": the host's name */
	char url[CONFIG_STR_MAX];    /* forward_url: the primary's base URL */
	char key[128];               /* forward_key */
	uint64_t spool_max;          /* forward_spool_max */
	unsigned batch;              /* forward_batch */
	unsigned retry_max_s;        /* forward_retry_max */
};
void smtp_node_config_from(const struct config *c, struct smtp_node_config *out);

struct smtp_node;
/* Opens the spool (made on first start) and starts the forwarder. SMTP_EINVAL without url or
 * key, SMTP_EIO when the spool cannot be opened (logged). */
int smtp_node_start(const struct smtp_node_config *cfg, struct smtp_node **out);
/* The sink for smtp_server_start_sink: the node's spool. */
void smtp_node_sink(struct smtp_node *n, struct smtp_sink *out);
/* After smtp_server_stop: commits what the spool holds, ends the forwarder (a request under
 * way is cut short; what it carried stays in the spool), frees n. */
void smtp_node_stop(struct smtp_node *n);

/* What the primary's answer to one forwarded batch of `sent` hits means: a pure function of
 * the status and the body's bytes (the forwarder acts on it; fuzzed). */
enum smtp_fwd_verdict {
	SMTP_FWD_ACK = 1,   /* a 2xx naming ids as new or duplicate: those rows may go */
	SMTP_FWD_RETRY,     /* a 5xx, 408, 429, or a 2xx naming no id: keep the rows, wait, retry */
	SMTP_FWD_REFUSED,   /* another 4xx (a wrong key): keep the rows, say so loudly */
	SMTP_FWD_SMALLER,   /* 413, or 400 over the primary's feed_max_hits, with batch > 1:
			       send fewer a request */
	SMTP_FWD_SET_ASIDE, /* 400 naming hit `index` as one the primary can never count (its
			       address, a time older than its window): that hit goes aside */
};
struct smtp_fwd_answer {
	enum smtp_fwd_verdict verdict;
	size_t index;                   /* SET_ASIDE: the hit, < sent */
	char why[256];                  /* the primary's "error", "" when none */
	char (*ids)[SMTP_HIT_ID_MAX];   /* ACK: the ids named (owned; smtp_fwd_answer_free) */
	size_t n_ids;                   /* at most sent */
};
/* SMTP_OK, or SMTP_ENOMEM (then nothing to free). */
int smtp_fwd_answer_read(long status, const char *body, size_t len, size_t sent, unsigned batch,
			 struct smtp_fwd_answer *out);
void smtp_fwd_answer_free(struct smtp_fwd_answer *a);

/* A node's spool as `trapline status` shows it (read from the file: the service may run). */
struct smtp_spool_stats {
	uint64_t depth;          /* hits waiting for the primary */
	uint64_t refused;        /* hits the primary refused for good, kept aside */
	uint64_t forwarded;      /* hits the primary acknowledged, since the spool was made */
	int64_t oldest_at;       /* when the oldest waiting hit was received; 0: none */
	int64_t last_forward_at; /* the last acknowledged request; 0: never */
};
/* SMTP_OK; TL_ENOTFOUND when data_dir has no spool (not a node); SMTP_EIO (logged). */
int smtp_spool_stats(const char *data_dir, struct smtp_spool_stats *out);

/* What the server did. */
struct smtp_stats {
	uint64_t sessions;   /* accepted connections */
	uint64_t messages;   /* stored and acknowledged (250) */
	uint64_t deferred;   /* refused with 451 because the store could not take them */
	uint64_t refused;    /* connections refused at once (limits, bad PROXY header) */
	uint64_t active;     /* sessions open now */
};
void smtp_server_stats(struct smtp_server *srv, struct smtp_stats *out);
/* The trap's families (a metrics_collect_fn; arg: the smtp_server):
 * trapline_smtp_sessions_total{result}, trapline_smtp_sessions_open,
 * trapline_smtp_messages_total{result}. */
void smtp_server_metrics(void *srv, struct metrics *m);
/* Stops accepting, closes every session, waits for the messages the writer still holds to be
 * answered (so call it before writer_stop), stops the thread and frees srv. */
void smtp_server_stop(struct smtp_server *srv);
/* A configuration reload: the trap's live settings from cfg (trap_domains, trap_addresses,
 * the sizes, counts and timeouts of a session but smtp_max_sessions, smtp_memory_max,
 * smtp_proxy_trusted, trap_sample, trap_sample_days), handed to the loop's thread through its
 * eventfd and applied there between two events: no session is dropped. NULL srv: nothing. */
int smtp_server_reload(struct smtp_server *srv, const struct config *cfg);

#endif
