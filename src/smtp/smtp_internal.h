/* smtp_internal.h - what the server's files share: TLS set-up. Private to src/smtp/. */
#ifndef TRAPLINE_SMTP_INTERNAL_H
#define TRAPLINE_SMTP_INTERNAL_H

#include <openssl/ssl.h>

#include "smtp.h"

/* The server's TLS context: cert/key from the configuration, or the self-signed pair in
 * data_dir (made the first time, owned by owner_uid/gid, the key 0600 and the certificate
 * 0644). NULL after logging why. */
SSL_CTX *smtp_tls_context(const struct smtp_server_config *cfg);

#endif
