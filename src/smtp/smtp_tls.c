/* smtp_tls.c - the STARTTLS context: the operator's certificate, or a self-signed one made
 * in the data directory on first start, so that senders that insist on TLS are still caught
 * (a sender delivering opportunistically checks no certificate, RFC 7435). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "smtp_internal.h"

#define SELF_CERT "smtp-cert.pem"
#define SELF_KEY "smtp-key.pem"
#define SELF_DAYS 3650

static void tls_log_errors(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	ERR_error_string_n(e, buf, sizeof buf);
	log_err("smtp", "tls %s failed error=\"%s\"", what, e ? buf : "unknown");
	ERR_clear_error();
}

/* Writes one PEM file with mode, through FILE.tmp and a rename, owned by uid/gid. */
static int pem_write(const char *path, mode_t mode, int uid, int gid, EVP_PKEY *key, X509 *cert)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return SMTP_EINVAL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		log_err("smtp", "cannot write file=%s reason=\"%s\"", tmp, strerror(errno));
		return SMTP_EIO;
	}
	if (uid >= 0 && fchown(fd, (uid_t)uid, (gid_t)gid) != 0)
		log_warn("smtp", "cannot chown file=%s reason=\"%s\"", tmp, strerror(errno));
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return SMTP_EIO;
	}
	int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_X509(f, cert);
	/* On disk before the rename: a crash or a file system that turns read-only must leave
	 * the old file or the whole new one, never an empty one under the final name. */
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
		log_err("smtp", "cannot write file=%s", path);
		unlink(tmp);
		return SMTP_EIO;
	}
	return SMTP_OK;
}

static int cert_name(X509 *x, const char *host)
{
	X509_NAME *name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1,
					-1, 0))
		return 0;
	if (!X509_set_issuer_name(x, name))
		return 0;
	char san[300];
	snprintf(san, sizeof san, "DNS:%s", host);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (!ext)
		return 0;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A P-256 key and a certificate for hostname, valid SELF_DAYS. */
static int self_signed_make(const struct smtp_server_config *cfg, const char *cert_path,
			    const char *key_path)
{
	int rc = SMTP_EIO;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	if (!key || !x)
		goto done;
	unsigned char serial[8];
	FILE *r = fopen("/dev/urandom", "rb");
	bool have_serial = r && fread(serial, 1, sizeof serial, r) == sizeof serial;
	if (r)
		fclose(r);
	serial[0] &= 0x7F;
	BIGNUM *bn = have_serial ? BN_bin2bn(serial, sizeof serial, NULL) : NULL;
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
		BN_free(bn);
		goto done;
	}
	BN_free(bn);
	if (!X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)SELF_DAYS * 86400) ||
	    !X509_set_pubkey(x, key) || !cert_name(x, cfg->hostname) ||
	    !X509_sign(x, key, EVP_sha256()))
		goto done;
	if ((rc = pem_write(key_path, 0600, cfg->owner_uid, cfg->owner_gid, key, NULL)) == 0)
		rc = pem_write(cert_path, 0644, cfg->owner_uid, cfg->owner_gid, NULL, x);
	if (rc == SMTP_OK)
		log_info("smtp", "self-signed certificate made cert=%s key=%s name=%s", cert_path,
			 key_path, cfg->hostname);
done:
	if (rc != SMTP_OK)
		tls_log_errors("self-signed certificate");
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* A context with cert and key; NULL after logging why (quiet: only the OpenSSL errors are
 * dropped, for a first try that may be retried). */
static SSL_CTX *tls_context_load(const char *cert, const char *key, bool quiet)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		tls_log_errors("context");
		return NULL;
	}
	/* TLS 1.2 and up; no session tickets to keep keys for; the client's pick of cipher is
	 * as good as ours for a trap that only wants the mail. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		if (quiet) {
			ERR_clear_error();
		} else {
			log_err("smtp", "cannot load the TLS certificate cert=%s key=%s", cert, key);
			tls_log_errors("certificate");
		}
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *smtp_tls_context(const struct smtp_server_config *cfg)
{
	char cert[PATH_MAX], key[PATH_MAX];
	if (cfg->tls_cert[0])
		return tls_context_load(cfg->tls_cert, cfg->tls_key, false);
	snprintf(cert, sizeof cert, "%s/%s", cfg->data_dir, SELF_CERT);
	snprintf(key, sizeof key, "%s/%s", cfg->data_dir, SELF_KEY);
	if ((access(cert, F_OK) != 0 || access(key, F_OK) != 0) &&
	    self_signed_make(cfg, cert, key) != SMTP_OK)
		return NULL;
	SSL_CTX *ctx = tls_context_load(cert, key, true);
	if (ctx)
		return ctx;
	/* Our own pair, unreadable: a machine that crashed (or a disk that turned read-only)
	 * before an older version's write reached the disk. It is ours to make again. */
	log_warn("smtp", "self-signed certificate unreadable, made again cert=%s key=%s", cert, key);
	if (self_signed_make(cfg, cert, key) != SMTP_OK)
		return NULL;
	return tls_context_load(cert, key, false);
}

/* Opens path as a regular file the caller can read, or says why in err as "KEY PATH: ...". */
static FILE *tls_file_open(const char *key, const char *path, char *err, size_t errcap)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	if (!f) {
		snprintf(err, errcap, "%s %s: cannot read it: %s", key, path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errcap, "%s %s: not a file", key, path);
		fclose(f);
		return NULL;
	}
	return f;
}

int smtp_tls_check(const struct smtp_server_config *cfg, char *err, size_t errcap)
{
	if (!cfg->tls_cert[0])
		return SMTP_OK; /* self-signed, made at the first start */
	int rc = SMTP_EINVAL;
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	FILE *f = tls_file_open("smtp_tls_cert", cfg->tls_cert, err, errcap);
	if (!f)
		return SMTP_EINVAL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		snprintf(err, errcap, "smtp_tls_cert %s: no PEM certificate in it", cfg->tls_cert);
		goto done;
	}
	if (!(f = tls_file_open("smtp_tls_key", cfg->tls_key, err, errcap)))
		goto done;
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!key) {
		snprintf(err, errcap, "smtp_tls_key %s: no PEM private key in it (or one with a "
				      "pass phrase)", cfg->tls_key);
		goto done;
	}
	if (X509_check_private_key(x, key) != 1) {
		snprintf(err, errcap, "smtp_tls_key %s: not the key of the certificate %s",
			 cfg->tls_key, cfg->tls_cert);
		goto done;
	}
	rc = SMTP_OK;
done:
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}
