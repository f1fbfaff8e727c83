/* smtp_config.c - the trap's settings from the configuration (smtp_* and trap_* keys). */
#include <string.h>
#include <unistd.h>

#include "smtp.h"

static int proxy_trusted_parse(const char *list, struct smtp_server_config *out, char *err,
			       size_t errcap)
{
	char buf[CONFIG_STR_MAX];
	snprintf(buf, sizeof buf, "%s", list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (out->n_proxy_trusted == SMTP_PROXY_TRUSTED_MAX) {
			snprintf(err, errcap, "smtp_proxy_trusted: more than %d prefixes",
				 SMTP_PROXY_TRUSTED_MAX);
			return SMTP_EINVAL;
		}
		if (ip_prefix_parse(tok, strlen(tok), &out->proxy_trusted[out->n_proxy_trusted]) != 0) {
			snprintf(err, errcap, "smtp_proxy_trusted: '%s' is not ADDR/LEN", tok);
			return SMTP_EINVAL;
		}
		out->n_proxy_trusted++;
	}
	return SMTP_OK;
}

int smtp_server_config_make(const struct config *c, struct smtp_server_config *out,
			    bool *enabled, char *err, size_t errcap)
{
	memset(out, 0, sizeof *out);
	*enabled = !config_listen_off(c->smtp_listen);
	if (!*enabled)
		return SMTP_OK;
	char why[CONFIG_ERR_MAX];
	if (config_listen_parse(c->smtp_listen, out->listen, out->listen_len, SMTP_LISTEN_MAX,
				&out->n_listen, why, sizeof why) != 0) {
		snprintf(err, errcap, "smtp_listen: %s", why);
		return SMTP_EINVAL;
	}
	if ((c->smtp_tls_cert[0] != '\0') != (c->smtp_tls_key[0] != '\0')) {
		snprintf(err, errcap, "smtp_tls_cert and smtp_tls_key: give both or neither");
		return SMTP_EINVAL;
	}
	if (c->smtp_hostname[0]) {
		snprintf(out->hostname, sizeof out->hostname, "%s", c->smtp_hostname);
	} else if (gethostname(out->hostname, sizeof out->hostname - 1) != 0 ||
		   !config_name_valid(out->hostname)) {
		snprintf(out->hostname, sizeof out->hostname, "localhost");
	}
	snprintf(out->trap_domains, sizeof out->trap_domains, "%s", c->trap_domains);
	snprintf(out->trap_addresses, sizeof out->trap_addresses, "%s", c->trap_addresses);
	out->max_size = c->smtp_max_size;
	out->max_rcpts = c->smtp_max_rcpts;
	out->max_sessions = c->smtp_max_sessions;
	out->max_per_ip = c->smtp_max_per_ip;
	out->max_errors = c->smtp_max_errors;
	out->command_timeout_s = c->smtp_command_timeout;
	out->data_timeout_s = c->smtp_data_timeout;
	out->data_min_rate = c->smtp_data_min_rate;
	out->memory_max = c->smtp_memory_max;
	if (proxy_trusted_parse(c->smtp_proxy_trusted, out, err, errcap) != SMTP_OK)
		return SMTP_EINVAL;
	snprintf(out->tls_cert, sizeof out->tls_cert, "%s", c->smtp_tls_cert);
	snprintf(out->tls_key, sizeof out->tls_key, "%s", c->smtp_tls_key);
	snprintf(out->data_dir, sizeof out->data_dir, "%s", c->data_dir);
	out->owner_uid = out->owner_gid = -1;
	out->sample = strcmp(c->trap_sample, "message") == 0 ? SMTP_SAMPLE_MESSAGE
		      : strcmp(c->trap_sample, "none") == 0  ? SMTP_SAMPLE_NONE
							     : SMTP_SAMPLE_HEADERS;
	out->sample_days = c->trap_sample_days;
	/* exclude_default's word special-purpose: MAIL from such a client is refused. */
	unsigned n;
	if (config_exclusions_parse(c->exclude_default, NULL, CONFIG_PREFIX_MAX, &n,
				    &out->special_refused, why, sizeof why) != 0) {
		snprintf(err, errcap, "exclude_default: %s", why);
		return SMTP_EINVAL;
	}
	return SMTP_OK;
}
