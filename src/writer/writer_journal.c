/* writer_journal.c - the IXFR journal on the writer's side: an entry per publication, in
 * memory for the DNS thread and in the store for the next start. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "writer_internal.h"

#define JOURNAL_FP_KEY "journal_fp"

/* FNV-1a over what decides a listing's records besides the listing itself: the answers by
 * reason and class, and the apex. An entry bridges a restart only when this did not change,
 * or a secondary would keep records the new configuration answers differently. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211u;
	}
	return h;
}

static uint64_t answers_fingerprint(const struct writer *w)
{
	uint64_t h = 1469598103934665603u;
	struct zone_soa soa = w->defaults.soa;
	soa.serial = 0;
	h = fnv(h, soa.mname, strlen(soa.mname));
	h = fnv(h, soa.rname, strlen(soa.rname));
	uint32_t v[] = { soa.refresh, soa.retry, soa.expire, soa.minimum, soa.ttl,
			 w->defaults.ttl, w->defaults.a, w->defaults.ns.ttl, w->defaults.glue.ttl,
			 w->cfg.answer_a[0], w->cfg.answer_a[1], w->cfg.answer_a[2],
			 w->cfg.answer_a[3] };
	h = fnv(h, v, sizeof v);
	for (unsigned i = 0; i < w->defaults.ns.count; i++)
		h = fnv(h, w->defaults.ns.names[i], strlen(w->defaults.ns.names[i]) + 1);
	for (unsigned i = 0; i < w->defaults.glue.count; i++)
		h = fnv(h, &w->defaults.glue.names[i], sizeof w->defaults.glue.names[i]);
	if (w->defaults.txt)
		h = fnv(h, w->defaults.txt, strlen(w->defaults.txt) + 1);
	for (int r = 0; r < 4; r++)
		for (int d = 0; d < EVIDENCE_CLASSES; d++)
			h = fnv(h, w->txt[r][d] ? w->txt[r][d] : "", w->txt[r][d] ? strlen(w->txt[r][d]) + 1 : 1);
	return h;
}

/* Writes e into the store and trims the store's rows to what the journal keeps. */
static void journal_store(struct writer *w, struct zone_jentry *e, struct zone_journal *j,
			  int64_t now)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int64_t id = 0;
	if (zone_jentry_encode(e, &buf, &len) != ZONE_OK) {
		log_err("writer", "journal entry not stored: out of memory");
		zone_jentry_free(e);
		return;
	}
	struct store_journal_row r = { .serial_from = zone_jentry_from(e),
				       .serial_to = zone_jentry_to(e), .at = now,
				       .changes = zone_jentry_changes(e), .data = buf, .len = len };
	if (store_journal_add(w->store, &r, &id) != STORE_OK)
		log_err("writer", "journal entry not stored serial=%u", r.serial_to);
	free(buf);
	zone_jentry_set_store_id(e, id);
	int64_t keep = zone_journal_add(j, e, now);
	if (store_journal_trim(w->store, keep) != STORE_OK)
		log_err("writer", "journal not trimmed");
}

void writer_journal_publish(struct writer *w, const struct zone_snapshot *next)
{
	struct zone_journal *j = zone_handle_journal(w->zone);
	if (!j || w->cfg.ixfr_journal_max == 0 || !w->current)
		return;
	uint8_t (*ips)[16] = malloc((w->changes_n ? w->changes_n : 1) * sizeof *ips);
	if (!ips) {
		log_err("writer", "journal entry lost: out of memory (IXFR sends the whole zone)");
		return;
	}
	for (size_t i = 0; i < w->changes_n; i++) {
		const struct zone_change *c = &w->changes[i];
		if (c->v6)
			memcpy(ips[i], c->ip6, 16);
		else
			ip_from_v4(c->ip4, ips[i]);
	}
	int64_t now = time_now();
	struct zone_jentry *e = NULL;
	if (zone_journal_diff(w->current, next, (const uint8_t(*)[16])ips, w->changes_n, now, &e) ==
	    ZONE_OK)
		journal_store(w, e, j, now);
	else
		log_err("writer", "journal entry lost: out of memory (IXFR sends the whole zone)");
	free(ips);
}

struct load_arg {
	struct zone_journal *j;
	int64_t now;
	size_t rows, bad;
};

static int load_row(const struct store_journal_row *r, void *arg)
{
	struct load_arg *a = arg;
	struct zone_jentry *e = NULL;
	if (zone_jentry_decode(r->serial_from, r->serial_to, r->at, r->data, r->len, &e) != ZONE_OK) {
		a->bad++; /* the chain breaks there: IXFR across it sends the whole zone */
		return 0;
	}
	zone_jentry_set_store_id(e, r->id);
	zone_journal_add(a->j, e, a->now);
	a->rows++;
	return 0;
}

void writer_journal_load(struct writer *w, bool had_stored, uint32_t stored, uint32_t serial,
			 int64_t now)
{
	struct zone_journal *j = zone_handle_journal(w->zone);
	if (!j) {
		j = zone_journal_new(w->cfg.ixfr_journal_max, w->cfg.ixfr_journal_age);
		if (!j) {
			log_err("writer", "no IXFR journal: out of memory");
			return;
		}
		zone_handle_set_journal(w->zone, j);
	}
	if (w->cfg.ixfr_journal_max == 0) {
		store_journal_trim(w->store, 0);
		return;
	}
	struct load_arg a = { .j = j, .now = now };
	if (store_journal_foreach(w->store, load_row, &a) != STORE_OK)
		log_err("writer", "journal not read: IXFR sends the whole zone to older serials");
	uint64_t fp = answers_fingerprint(w);
	int64_t was = 0;
	bool same = store_meta_get_int(w->store, JOURNAL_FP_KEY, &was) == STORE_OK &&
		    (uint64_t)was == fp;
	uint32_t last = 0;
	size_t n = zone_journal_entries(j, &last);
	/* What was served at the stored serial is what the store's listings build now: the last
	 * entry led there, and the answers are configured as then. */
	bool bridge = had_stored && same && n > 0 && last == stored;
	if (!bridge && had_stored && same && n == 0 && a.rows == 0)
		bridge = true; /* the first start with a journal: secondaries at stored go on */
	if (bridge) {
		struct zone_jentry *e = NULL;
		if (zone_jentry_empty(stored, serial, now, &e) == ZONE_OK)
			journal_store(w, e, j, now);
	}
	if (!same && store_meta_set_int(w->store, JOURNAL_FP_KEY, (int64_t)fp) != STORE_OK)
		log_err("writer", "journal fingerprint not stored");
	log_info("writer", "journal loaded entries=%zu damaged=%zu continued=%s from=%u serial=%u",
		 zone_journal_entries(j, NULL), a.bad, bridge ? "yes" : "no", stored, serial);
}
