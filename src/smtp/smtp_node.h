/* smtp_node.h - what a trap node's spool (smtp_spool.c) and forwarder (smtp_forward.c) share.
 * Private to src/smtp/. */
#ifndef TRAPLINE_SMTP_NODE_H
#define TRAPLINE_SMTP_NODE_H

#include <sqlite3.h>

#include "smtp.h"

struct smtp_spool;
struct smtp_forwarder;

/* The spool file of data_dir ("DIR/spool.db"). */
void smtp_spool_path(const char *data_dir, char *buf, size_t cap);
/* A connection to it: WAL, synchronous FULL, a busy timeout; readonly: TL_ENOTFOUND when
 * there is no file (not a node). SMTP_EIO after logging why. */
int smtp_spool_db_open(const char *data_dir, bool readonly, sqlite3 **out);
/* Opens (creating) the spool and starts its committing thread. node prefixes the ids ("" or
 * NULL: the host's name); at most max rows (then its sink answers WRITER_EFULL). */
int smtp_spool_open(const char *data_dir, const char *node, uint64_t max, struct smtp_spool **out);
/* The sink the SMTP server posts to: each hit committed before done(arg, WRITER_OK). */
void smtp_spool_sink(struct smtp_spool *sp, struct smtp_sink *out);
/* From now on: nothing more is taken, and every wait of smtp_spool_wait returns false. */
void smtp_spool_shutdown(struct smtp_spool *sp);
bool smtp_spool_stopping(struct smtp_spool *sp);
/* Commits what is queued, stops the thread, closes the file; frees sp. */
void smtp_spool_close(struct smtp_spool *sp);
/* For the forwarder: n rows left the spool. */
void smtp_spool_forwarded(struct smtp_spool *sp, uint64_t n);
uint64_t smtp_spool_depth(struct smtp_spool *sp);
/* Waits up to ms (for_rows: or until the spool has rows); false once the spool stops. */
bool smtp_spool_wait(struct smtp_spool *sp, unsigned ms, bool for_rows);

/* The forwarder's thread, reading and deleting through a connection of its own. */
int smtp_forward_start(struct smtp_spool *sp, const char *data_dir,
		       const struct smtp_node_config *cfg, struct smtp_forwarder **out);
/* After smtp_spool_shutdown: waits for the thread (a request under way is cut short). */
void smtp_forward_join(struct smtp_forwarder *f);
void smtp_forward_free(struct smtp_forwarder *f);

#endif
