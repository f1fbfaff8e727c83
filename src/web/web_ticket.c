/* web_ticket.c - a review request (a ticket) as both its pages show it, the requester's
 * (web_review.c) and the moderators' (web_admin.c): its values, its history in words, and the
 * ticket a route names, read with the same answer for an id that is not one and for one
 * nobody was given. */
#include <stdlib.h>
#include <string.h>

#include "web_internal.h"

struct events_ctx {
	struct web_rows rows;
	bool admin; /* the moderators' pages say who; the requester's never */
};

/* What each event of a ticket's history says, the same on both pages but for who. */
static const struct {
	const char *what, *words;
	bool why_public; /* its why was written for the requester (a decision's reason) */
} event_table[] = {
	{"filed", "Request received", false},
	{"joined", "Added to the request already open about this address: they are decided "
		   "together", false},
	{"added", "Another request about this address was added to this one", false},
	{"delist", "Delisted in answer to this request", true},
	{"exclude", "Excluded for a while in answer to this request", true},
	{"reject", "Rejected: the listing was kept", true},
	{"operator-delist", "The list's operators delisted the address, which closed this request",
	 false},
	{"operator-exclude", "The list's operators excluded the address, which closed this request",
	 false},
};

static int event_row(const struct store_ticket_event *e, void *arg)
{
	struct events_ctx *c = arg;
	const char *words = e->what;
	bool why_public = false;
	for (size_t i = 0; i < sizeof(event_table) / sizeof(event_table[0]); i++)
		if (strcmp(e->what, event_table[i].what) == 0) {
			words = event_table[i].words;
			why_public = event_table[i].why_public;
		}
	char who[96];
	struct web_vals p = {0};
	web_vals_time(&p, "at", e->at);
	web_vals_text(&p, "what", e->what);
	web_vals_text(&p, "words", words);
	/* Who and the operator's notes are for the moderators; the requester reads the reason a
	 * decision gives, and no name. */
	web_vals_text(&p, "who", c->admin ? ctl_who_words(e->who, who, sizeof(who)) : NULL);
	web_vals_text(&p, "why", e->why[0] && (c->admin || why_public) ? e->why : NULL);
	return web_rows_add(&c->rows, &p, "ticket-event.html");
}

int web_ticket_events(struct web_server *srv, struct web_thread *th, const char *id, bool admin,
		      struct web_vals *p)
{
	struct web_buf b;
	web_buf_init(&b);
	struct events_ctx c = {{srv, th, &b, 0, WEB_OK}, admin};
	int rc = store_ticket_event_foreach(th->reader, id, event_row, &c);
	web_vals_html(p, "events", web_vals_own(p, &b));
	return rc != STORE_OK ? rc : c.rows.rc;
}

void web_ticket_vals(const struct store_ticket *t, struct web_vals *p)
{
	char ip[IP_STRLEN];
	ip_format(t->ip, ip);
	web_vals_text(p, "id", t->id);
	web_vals_printf(p, "ip", "%s", ip);
	web_vals_text(p, "status", store_ticket_status_name(t->status));
	web_vals_flag(p, "open", t->status == STORE_TICKET_OPEN);
	web_vals_flag(p, "delisted", t->status == STORE_TICKET_DELISTED);
	web_vals_flag(p, "excluded", t->status == STORE_TICKET_EXCLUDED);
	web_vals_flag(p, "rejected", t->status == STORE_TICKET_REJECTED);
	web_vals_flag(p, "by_action", t->by_action);
	web_vals_flag(p, "joined", t->joined[0] != '\0');
	web_vals_time(p, "filed_at", t->created_at);
	web_vals_text(p, "email", t->email);
	web_vals_text(p, "fixed", t->fixed);
	web_vals_text(p, "comment", t->comment[0] ? t->comment : NULL);
	web_vals_time(p, "decided_at", t->decided_at);
	web_vals_time(p, "until", t->until);
	web_vals_text(p, "reason", t->reason[0] ? t->reason : NULL);
}

static bool ticket_id_ok(const char *s, size_t n)
{
	return n == STORE_TICKET_ID_LEN && strspn(s, "0123456789abcdef") >= n;
}

/* The ticket of a route's argument; false (and the not-found page) when there is none. The
 * same answer for an id that is not one and for one nobody was given. */
bool web_ticket_read(struct web_server *srv, struct web_thread *th, const struct web_route *r,
		     struct store_ticket *t, struct web_reply *reply)
{
	char id[STORE_TICKET_ID_LEN + 1];
	int rc = STORE_ENOTFOUND;
	if (ticket_id_ok(r->arg, r->arg_len)) {
		memcpy(id, r->arg, STORE_TICKET_ID_LEN);
		id[STORE_TICKET_ID_LEN] = '\0';
		rc = store_ticket_get(th->reader, id, t);
	}
	if (rc == STORE_OK)
		return true;
	if (rc == STORE_ENOTFOUND)
		web_message(srv, th, reply, 404, "No such request",
			    "There is no review request at this address. Check that the link is "
			    "complete: it is the only way to a request's page.",
			    "/", "Look up an address");
	else
		web_message(srv, th, reply, 503, "Try again later",
			    "The list cannot be read just now.", "/", "Home");
	return false;
}
