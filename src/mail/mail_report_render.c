/* mail_report_render.c - an analysis as the explanation a moderator reads: text, or JSON (the
 * shape is documented in docs/api.md). Every name in it was escaped when it was read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mail.h"

int mail_analysis_text(const struct mail_analysis *a, char **out)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return MAIL_ENOMEM;
	char ip[IP_STRLEN];
	if (a->has_source) {
		ip_format(a->source, ip);
		fprintf(f, "source: %s\n", ip);
	} else {
		fprintf(f, "refused: %s\n", mail_refusal_name(a->refusal));
	}
	fprintf(f, "why: %s\n", a->why);
	fprintf(f, "class: %s\n", a->cls ? a->cls : "-");
	fprintf(f, "message: %s, %zu Received header%s\n",
		a->forwarded ? "the attached message (message/rfc822), not the forward around it"
			     : "as received",
		a->n_received, a->n_received == 1 ? "" : "s");
	for (size_t i = 0; i < a->n_hops; i++) {
		const struct mail_hop *h = &a->hops[i];
		const struct mail_received *r = &h->rcv;
		fprintf(f, "hop %zu: %s", i + 1, mail_hop_verdict_name(h->verdict));
		if (r->kind == MAIL_RECEIVED_PEER) {
			ip_format(r->ip, ip);
			fprintf(f, " ip=%s rdns=%s%s", ip, r->rdns[0] ? r->rdns : "-",
				r->rdns[0] && !r->rdns_confirmed ? "(unconfirmed)" : "");
		}
		fprintf(f, " helo=%s by=%s", r->helo[0] ? r->helo : "-", r->by[0] ? r->by : "-");
		if (r->form != MAIL_FORM_NONE)
			fprintf(f, " form=%s", mail_received_form_name(r->form));
		if (h->trusted_by[0])
			fprintf(f, " trusted_by=%s", h->trusted_by);
		fprintf(f, "\n  read: %s\n  why: %s\n", r->note, h->why);
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return MAIL_ENOMEM;
	}
	*out = buf;
	return MAIL_OK;
}

/* Sets o[key] to v, or records that something failed (v NULL: out of memory). */
static void json_put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (!v || json_object_set_new(o, key, v) != 0)
		*ok = false;
}

static json_t *json_text_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *json_hop(const struct mail_hop *h, size_t index, bool *ok)
{
	const struct mail_received *r = &h->rcv;
	json_t *o = json_object();
	if (!o) {
		*ok = false;
		return NULL;
	}
	char ip[IP_STRLEN];
	if (r->kind == MAIL_RECEIVED_PEER)
		ip_format(r->ip, ip);
	json_put(o, "index", json_integer((json_int_t)index), ok);
	json_put(o, "verdict", json_string(mail_hop_verdict_name(h->verdict)), ok);
	json_put(o, "ip", r->kind == MAIL_RECEIVED_PEER ? json_string(ip) : json_null(), ok);
	json_put(o, "rdns", json_text_or_null(r->rdns), ok);
	json_put(o, "rdns_confirmed", json_boolean(r->rdns[0] && r->rdns_confirmed), ok);
	json_put(o, "helo", json_text_or_null(r->helo), ok);
	json_put(o, "by", json_text_or_null(r->by), ok);
	json_put(o, "form", r->form != MAIL_FORM_NONE ?
		 json_string(mail_received_form_name(r->form)) : json_null(), ok);
	json_put(o, "trusted_by", json_text_or_null(h->trusted_by), ok);
	json_put(o, "read", json_string(r->note), ok);
	json_put(o, "why", json_string(h->why), ok);
	return o;
}

int mail_analysis_json(const struct mail_analysis *a, char **out)
{
	bool ok = true;
	json_t *root = json_object(), *hops = json_array();
	if (!root || !hops) {
		json_decref(root);
		json_decref(hops);
		return MAIL_ENOMEM;
	}
	char ip[IP_STRLEN];
	if (a->has_source)
		ip_format(a->source, ip);
	const char *refusal = mail_refusal_name(a->refusal);
	json_put(root, "source_ip", a->has_source ? json_string(ip) : json_null(), &ok);
	json_put(root, "refusal", refusal ? json_string(refusal) : json_null(), &ok);
	json_put(root, "why", json_string(a->why), &ok);
	/* Filled through mail_report_options.classify (mail_classify_word); null without it. */
	json_put(root, "class", a->cls ? json_string(a->cls) : json_null(), &ok);
	json_put(root, "forwarded", json_boolean(a->forwarded), &ok);
	json_put(root, "received_headers", json_integer((json_int_t)a->n_received), &ok);
	for (size_t i = 0; i < a->n_hops; i++) {
		json_t *h = json_hop(&a->hops[i], i + 1, &ok);
		if (!h || json_array_append_new(hops, h) != 0)
			ok = false;
	}
	json_put(root, "hops", hops, &ok);
	char *s = ok ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!s)
		return MAIL_ENOMEM;
	*out = s;
	return MAIL_OK;
}
