/* cli_reload.c - SIGHUP: the configuration read again as at start, checked (a bad one changes
 * nothing), the keys the schema marks live handed to each module's *_reload, the others named
 * in the log and kept until a restart. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctl/ctl.h"
#include "dns/dns.h"
#include "smtp/smtp.h"
#include "web/web.h"
#include "writer/writer.h"
#include "zone/zone.h"

/* One configuration the service has run with. Modules keep pointers into the one they were
 * given (names, templates), so every one stays until the service stops. */
struct cli_reload_gen {
	struct config cfg;
	struct zone_defaults defaults; /* a static file's, from cfg */
	bool defaults_made;
	struct cli_reload_gen *older;
};

struct cli_reload {
	int argc;
	char **argv;
	const struct config *start; /* serve's own */
	struct cli_reload_gen *now; /* NULL: still the start's */
	unsigned n;                 /* reloads applied */
};

struct cli_reload *cli_reload_new(int argc, char **argv, const struct config *cfg)
{
	struct cli_reload *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->argc = argc;
	r->argv = argv;
	r->start = cfg;
	return r;
}

void cli_reload_free(struct cli_reload *r)
{
	if (!r)
		return;
	for (struct cli_reload_gen *g = r->now, *o; g; g = o) {
		o = g->older;
		if (g->defaults_made)
			zone_defaults_free(&g->defaults);
		free(g);
	}
	free(r);
}

/* The keys that go to the writer: what it decides and publishes with. */
static const char *const writer_keys[] = {
	"answer_a", "answer_a_traps", "answer_a_reports", "answer_a_both", "answer_txt",
	"answer_ttl", "soa_mname", "soa_rname", "soa_ttl", "soa_refresh", "soa_retry",
	"soa_expire", "soa_minimum", "ns", "ns_ttl", "ns_addr", "policy_report_fresh",
	"policy_report_old", "policy_report_decay", "policy_window", "policy_trap_square_from",
	"policy_trap_weight", "policy_threshold", "policy_min_evidence", "policy_min_reporters",
	"policy_listing", "policy_two_reports", "export_interval", "exclude_default",
};

/* Whether one of the comma-separated names is in keys. */
static bool names_have_any(const char *names, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(keys[i]);
		for (const char *p = names; (p = strstr(p, keys[i])) != NULL; p += len) {
			bool start = p == names || p[-1] == ',';
			bool end = p[len] == '\0' || p[len] == ',';
			if (start && end)
				return true;
		}
	}
	return false;
}

/* Hands g's configuration to each module whose keys changed (names: the live ones that did). */
static int reload_modules(struct cli_reload_gen *g, const char *names,
			  const struct cli_reload_targets *t)
{
	int failed = 0;
	enum log_level level = LOG_LEVEL_INFO;
	if (log_level_parse(g->cfg.log_level, &level) == BASE_OK)
		log_set_level(level);
	enum log_format format = LOG_FORMAT_TEXT;
	if (log_format_parse(g->cfg.log_format, &format) == BASE_OK)
		log_set_format(format);
	bool writer = names_have_any(names, writer_keys, sizeof(writer_keys) / sizeof(*writer_keys));
	if (t->writer && writer && writer_reload(t->writer, &g->cfg) != WRITER_OK) {
		log_err("main", "reload: the writer did not take the configuration");
		failed = 1;
	}
	if (t->zs && writer) {
		zone_defaults_from(&g->cfg, &g->defaults);
		g->defaults_made = true;
		if (zone_static_defaults_set(t->zs, &g->defaults) != ZONE_OK)
			failed = 1;
	}
	if (ctl_server_reload(t->ctl, &g->cfg) != CTL_OK)
		failed = 1;
	if (web_server_reload(t->web, &g->cfg) != WEB_OK)
		failed = 1;
	if (smtp_server_reload(t->smtp, &g->cfg) != SMTP_OK)
		failed = 1;
	/* Always: the public_resolvers file is read again even when its name did not change. */
	if (dns_server_reload(t->dns, &g->cfg) != DNS_OK)
		failed = 1;
	return failed;
}

int cli_reload_run(struct cli_reload *r, const struct cli_reload_targets *t)
{
	const struct config *cur = r->now ? &r->now->cfg : r->start;
	struct cli_reload_gen *g = calloc(1, sizeof(*g));
	char err[CONFIG_ERR_MAX];
	if (!g) {
		log_err("main", "reload failed reason=\"out of memory\" keeping=running");
		return 1;
	}
	if (cli_serve_config_reread(r->argc, r->argv, &g->cfg, err, sizeof(err)) != 0) {
		/* One line: the escaping of the log keeps a file's text from passing for more. */
		char esc[TEXT_ESCAPED_MAX(CONFIG_ERR_MAX)];
		log_err("main", "reload failed reason=\"%s\" keeping=running",
			text_escape(err, esc, sizeof(esc)));
		free(g);
		return 1;
	}
	char restart[2048], live[4096];
	size_t n_restart = config_changed(cur, &g->cfg, false, restart, sizeof(restart));
	config_keep_restart_keys(&g->cfg, cur);
	/* The default TXT follows public_url (kept) while answer_txt is not given. */
	char why[CONFIG_ERR_MAX];
	char url[CONFIG_STR_MAX];
	snprintf(url, sizeof(url), "%s", g->cfg.public_url);
	config_set(&g->cfg, "public_url", url, why, sizeof(why));
	size_t n_live = config_changed(cur, &g->cfg, true, live, sizeof(live));
	/* The pages' templates and the public_resolvers file are read by the reload itself: a
	 * folder or a file that would not load is refused here, before any module changed. */
	if ((t->web && web_templates_check(g->cfg.web_templates, err, sizeof(err)) != WEB_OK) ||
	    (t->dns && dns_limits_check(&g->cfg, err, sizeof(err)) != DNS_OK)) {
		char esc[TEXT_ESCAPED_MAX(CONFIG_ERR_MAX)];
		log_err("main", "reload failed reason=\"%s\" keeping=running",
			text_escape(err, esc, sizeof(esc)));
		free(g);
		return 1;
	}
	if (n_restart)
		log_warn("main", "reload: keys that need a restart changed and keep their values "
			 "keys=%s", restart);
	/* Kept even when no key changed: the template files may have, and the modules are handed
	 * this configuration (they keep pointers into it). */
	g->older = r->now;
	r->now = g;
	int failed = reload_modules(g, n_live ? live : "", t);
	r->n++;
	log_info("main", "reload %s changed=%s reloads=%u", failed ? "partly failed" : "done",
		 n_live ? live : "none", r->n);
	return failed;
}
