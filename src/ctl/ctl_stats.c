/* ctl_stats.c - the reads the web pages add: the list's live figures and one address's last
 * 30 days (evidence per day, listed periods), for the home page and the lookup chart. */
#include <string.h>

#include "ctl_internal.h"

#define DAY 86400

int ctl_query_figures(const struct ctl_service *svc, struct store *reader, int64_t now,
		      struct ctl_figures *out)
{
	(void)svc;
	memset(out, 0, sizeof(*out));
	out->at = now;
	int rc = store_listing_count(reader, &out->listed);
	if (rc == STORE_OK)
		rc = store_evidence_count(reader, now - 3600, now + 1, &out->traps_1h,
					  &out->reports_1h);
	if (rc == STORE_OK)
		rc = store_evidence_count(reader, now - DAY, now + 1, &out->traps_24h,
					  &out->reports_24h);
	return rc;
}

static int history_episode(const struct store_episode *e, void *arg)
{
	struct ctl_history *h = arg;
	if (h->n_episodes == CTL_HISTORY_EPISODES_MAX) {
		/* Keep the newest: they are what the chart's right end shows. */
		memmove(h->episodes, h->episodes + 1, (CTL_HISTORY_EPISODES_MAX - 1) *
						      sizeof(h->episodes[0]));
		h->n_episodes--;
		h->episodes_cut = true;
	}
	h->episodes[h->n_episodes++] = (struct ctl_episode){e->listed_at, e->ended_at,
							     (enum policy_reason)e->reason};
	return 0;
}

int ctl_query_history(const struct ctl_service *svc, struct store *reader, const uint8_t ip[16],
		      int64_t now, struct ctl_history *out)
{
	(void)svc;
	memset(out, 0, sizeof(*out));
	memcpy(out->ip, ip, 16);
	out->at = now;
	int64_t today = now - (now % DAY + DAY) % DAY; /* floor, also before 1970 */
	out->from = today - (CTL_HISTORY_DAYS - 1) * (int64_t)DAY;
	int rc = store_evidence_per_day(reader, ip, out->from, CTL_HISTORY_DAYS, out->traps,
					out->reports);
	if (rc == STORE_OK)
		rc = store_history_for_ip(reader, ip, out->from, history_episode, out);
	if (rc != STORE_OK)
		return rc;
	struct store_listing l;
	rc = store_listing_get(reader, ip, &l);
	if (rc == STORE_ENOTFOUND)
		return CTL_OK;
	if (rc != STORE_OK)
		return rc;
	struct store_episode cur = {.listed_at = l.listed_at, .ended_at = 0, .reason = l.reason};
	history_episode(&cur, out);
	return CTL_OK;
}

json_t *ctl_figures_json(const struct ctl_figures *f)
{
	return json_pack("{s:o,s:I,s:{s:{s:I,s:I},s:{s:I,s:I}}}", "at", ctl_json_time(f->at),
			 "listed", (json_int_t)f->listed, "evidence", "last_1h", "traps",
			 (json_int_t)f->traps_1h, "reports", (json_int_t)f->reports_1h, "last_24h",
			 "traps", (json_int_t)f->traps_24h, "reports", (json_int_t)f->reports_24h);
}

json_t *ctl_history_json(const struct ctl_history *h)
{
	char ip[IP_STRLEN];
	ip_format(h->ip, ip);
	json_t *days = json_array(), *eps = json_array();
	bool ok = days && eps;
	for (int d = 0; ok && d < CTL_HISTORY_DAYS; d++) {
		char date[TIME_STRLEN];
		time_format_iso8601(h->from + (int64_t)d * DAY, date);
		date[10] = '\0';
		ok = json_array_append_new(days, json_pack("{s:s,s:i,s:i}", "date", date, "traps",
							   (int)h->traps[d], "reports",
							   (int)h->reports[d])) == 0;
	}
	for (size_t i = 0; ok && i < h->n_episodes; i++) {
		const struct ctl_episode *e = &h->episodes[i];
		ok = json_array_append_new(
			     eps, json_pack("{s:o,s:o,s:s}", "listed_at", ctl_json_time(e->listed_at),
					    "ended_at", ctl_json_time(e->ended_at), "reason",
					    policy_reason_name(e->reason))) == 0;
	}
	json_t *o = ok ? json_pack("{s:s,s:o,s:O,s:O}", "ip", ip, "evaluated_at",
				   ctl_json_time(h->at), "days", days, "listed_periods", eps)
		       : NULL;
	json_decref(days);
	json_decref(eps);
	return o;
}
