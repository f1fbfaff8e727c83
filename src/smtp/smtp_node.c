/* smtp_node.c - a trap node: the spool the trap's messages are committed to and the forwarder
 * that empties it into the primary, started and stopped as one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "smtp_node.h"

struct smtp_node {
	struct smtp_spool *spool;
	struct smtp_forwarder *fwd;
};

void smtp_node_config_from(const struct config *c, struct smtp_node_config *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->data_dir, sizeof(out->data_dir), "%s", c->data_dir);
	snprintf(out->node, sizeof(out->node), "%s", c->smtp_hostname);
	snprintf(out->url, sizeof(out->url), "%s", c->forward_url);
	snprintf(out->key, sizeof(out->key), "%s", c->forward_key);
	out->spool_max = c->forward_spool_max;
	out->batch = c->forward_batch;
	out->retry_max_s = c->forward_retry_max;
}

int smtp_node_start(const struct smtp_node_config *cfg, struct smtp_node **out)
{
	*out = NULL;
	if (!cfg->url[0] || !cfg->key[0])
		return SMTP_EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return SMTP_EIO;
	struct smtp_node *n = calloc(1, sizeof(*n));
	if (!n)
		return SMTP_ENOMEM;
	int rc = smtp_spool_open(cfg->data_dir, cfg->node, cfg->spool_max, &n->spool);
	if (rc != SMTP_OK)
		goto fail;
	rc = smtp_forward_start(n->spool, cfg->data_dir, cfg, &n->fwd);
	if (rc != SMTP_OK)
		goto fail_spool;
	*out = n;
	return SMTP_OK;
fail_spool:
	smtp_spool_close(n->spool);
fail:
	free(n);
	return rc;
}

void smtp_node_sink(struct smtp_node *n, struct smtp_sink *out)
{
	smtp_spool_sink(n->spool, out);
}

void smtp_node_stop(struct smtp_node *n)
{
	if (!n)
		return;
	smtp_spool_shutdown(n->spool);
	smtp_forward_join(n->fwd);
	smtp_forward_free(n->fwd);
	smtp_spool_close(n->spool);
	free(n);
}
