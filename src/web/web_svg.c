/* web_svg.c - the lookup page's 30-day chart, drawn by the server as inline SVG (no script):
 * evidence per day as stacked bars, the periods the address was listed shaded behind them. */
#include <string.h>

#include "web.h"

#define DAY 86400
#define W 720
#define H 200
#define LEFT 40
#define RIGHT 8
#define TOP 12
#define BOTTOM 28
#define PLOT_W (W - LEFT - RIGHT)
#define PLOT_H (H - TOP - BOTTOM)

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* x of time t on the plot, clamped to it. */
static double x_of(const struct ctl_history *h, int64_t t)
{
	double span = (double)CTL_HISTORY_DAYS * DAY;
	double f = (double)(t - h->from) / span;
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return LEFT + f * PLOT_W;
}

/* "2026-11-20" of the day starting at t. */
static void day_name(int64_t t, char out[11])
{
	char buf[TIME_STRLEN];
	time_format_iso8601(t, buf);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

static uint32_t scale_max(const struct ctl_history *h)
{
	uint32_t m = 0;
	for (int d = 0; d < CTL_HISTORY_DAYS; d++)
		if (h->traps[d] + h->reports[d] > m)
			m = h->traps[d] + h->reports[d];
	/* A round top: 1, 2, 5, 10, 20, 50 ... */
	uint64_t top = 1;
	for (int step = 0; top < m; step++)
		top = step % 3 == 1 ? top / 2 * 5 : top * 2;
	return top > UINT32_MAX ? UINT32_MAX : (uint32_t)top;
}

static void shade(struct web_buf *b, const struct ctl_history *h)
{
	for (size_t i = 0; i < h->n_episodes; i++) {
		const struct ctl_episode *e = &h->episodes[i];
		int64_t end = e->ended_at ? e->ended_at : h->at;
		double x0 = x_of(h, e->listed_at), x1 = x_of(h, end);
		if (x1 - x0 < 2)
			x1 = x0 + 2; /* a listing that began just now is still seen */
		char from[TIME_STRLEN], to[TIME_STRLEN];
		time_format_iso8601(e->listed_at, from);
		time_format_iso8601(end, to);
		web_buf_addf(b, "<rect class=\"listed\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
				"height=\"%d\" data-from=\"%s\" data-to=\"%s\"%s><title>listed from "
				"%s to %s</title></rect>\n",
			     x0, TOP, x1 - x0, PLOT_H, from, e->ended_at ? to : "now",
			     e->ended_at ? "" : " data-current=\"1\"", from,
			     e->ended_at ? to : "now");
	}
}

static void bars(struct web_buf *b, const struct ctl_history *h, uint32_t top)
{
	double slot = (double)PLOT_W / CTL_HISTORY_DAYS, bw = slot * 0.7;
	for (int d = 0; d < CTL_HISTORY_DAYS; d++) {
		char day[11];
		day_name(h->from + (int64_t)d * DAY, day);
		uint32_t t = h->traps[d], r = h->reports[d];
		double x = LEFT + d * slot + (slot - bw) / 2;
		double ht = (double)t * PLOT_H / top, hr = (double)r * PLOT_H / top;
		double base = TOP + PLOT_H;
		web_buf_addf(b, "<g class=\"day\" data-day=\"%s\" data-traps=\"%u\" "
				"data-reports=\"%u\"><title>%s: %u trap hit%s, %u report%s</title>",
			     day, t, r, day, t, t == 1 ? "" : "s", r, r == 1 ? "" : "s");
		if (t)
			web_buf_addf(b, "<rect class=\"traps\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					"height=\"%.1f\"/>",
				     x, base - ht, bw, ht);
		if (r)
			web_buf_addf(b, "<rect class=\"reports\" x=\"%.1f\" y=\"%.1f\" "
					"width=\"%.1f\" height=\"%.1f\"/>",
				     x, base - ht - hr, bw, hr);
		/* An empty day still answers to a pointer: a transparent hit area. */
		web_buf_addf(b, "<rect class=\"hit\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
				"height=\"%d\"/></g>\n",
			     LEFT + d * slot, TOP, slot, PLOT_H);
	}
}

static void axes(struct web_buf *b, const struct ctl_history *h, uint32_t top)
{
	double slot = (double)PLOT_W / CTL_HISTORY_DAYS;
	web_buf_addf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT,
		     TOP + PLOT_H, W - RIGHT, TOP + PLOT_H);
	web_buf_addf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT,
		     TOP, W - RIGHT, TOP);
	web_buf_addf(b, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%u</text>\n",
		     LEFT - 6, TOP + 4, top);
	web_buf_addf(b, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
		     LEFT - 6, TOP + PLOT_H + 4);
	/* A date every week, the last one today. */
	for (int d = CTL_HISTORY_DAYS - 1; d >= 0; d -= 7) {
		char day[11];
		day_name(h->from + (int64_t)d * DAY, day);
		int m = (day[5] - '0') * 10 + (day[6] - '0');
		int dd = (day[8] - '0') * 10 + (day[9] - '0');
		web_buf_addf(b, "<text class=\"label\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
				"%d %s</text>\n",
			     LEFT + (d + 0.5) * slot, H - 8, dd, months[(m + 11) % 12]);
	}
}

void web_svg_history(struct web_buf *b, const struct ctl_history *h)
{
	uint32_t top = scale_max(h);
	unsigned traps = 0, reports = 0;
	for (int d = 0; d < CTL_HISTORY_DAYS; d++) {
		traps += h->traps[d];
		reports += h->reports[d];
	}
	web_buf_addf(b, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
			"aria-labelledby=\"chart-title chart-desc\" xmlns=\"http://www.w3.org/2000/svg\">\n"
			"<title id=\"chart-title\">Evidence per day over the last %d days</title>\n"
			"<desc id=\"chart-desc\">%u trap hit%s and %u report%s in %d days; %zu "
			"listed period%s shaded.</desc>\n",
		     W, H, CTL_HISTORY_DAYS, traps, traps == 1 ? "" : "s", reports,
		     reports == 1 ? "" : "s", CTL_HISTORY_DAYS, h->n_episodes,
		     h->n_episodes == 1 ? "" : "s");
	shade(b, h);
	axes(b, h, top);
	bars(b, h, top);
	web_buf_adds(b, "</svg>\n");
}
