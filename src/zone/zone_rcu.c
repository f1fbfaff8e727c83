/* zone_rcu.c - publication of the current snapshot to reader threads with userspace RCU. */
#include <stdbool.h>
#include <stdlib.h>

#include <urcu/urcu-memb.h>

#include "zone_internal.h"

/* Retired snapshots wait for one grace period shared by up to this many publications: each
 * grace period is a membarrier, an interrupt on every core that runs a DNS worker. */
#define ZONE_RETIRED_MAX 8

struct zone_handle {
	struct zone_snapshot *cur;
	struct zone_snapshot *retired[ZONE_RETIRED_MAX];
	size_t nretired;
	uint64_t publications, grace_periods;
	struct zone_journal *journal;
};

static void retired_free(struct zone_handle *h)
{
	for (size_t i = 0; i < h->nretired; i++)
		zone_snapshot_free(h->retired[i]);
	h->nretired = 0;
}

struct zone_handle *zone_handle_new(void)
{
	return calloc(1, sizeof(struct zone_handle));
}

void zone_handle_free(struct zone_handle *h)
{
	if (!h)
		return;
	retired_free(h);
	zone_snapshot_free(h->cur);
	zone_journal_free(h->journal);
	free(h);
}

void zone_reader_register(void)
{
	urcu_memb_register_thread();
}

void zone_reader_unregister(void)
{
	urcu_memb_unregister_thread();
}

void zone_read_lock(void)
{
	urcu_memb_read_lock();
}

void zone_read_unlock(void)
{
	urcu_memb_read_unlock();
}

const struct zone_snapshot *zone_current(struct zone_handle *h)
{
	return rcu_dereference(h->cur);
}

/* One writer: the pointer store is the whole publication; the grace period guarantees that no
 * reader still holds an old snapshot when it is freed. Old snapshots that share their arrays
 * with the new one cost only their overlay, so they wait for company; one that leaves arrays
 * behind (the overlay was merged) is freed at once with the others. */
void zone_publish(struct zone_handle *h, struct zone_snapshot *s)
{
	struct zone_snapshot *old = rcu_xchg_pointer(&h->cur, s);
	if (!old)
		return;
	h->publications++;
	h->retired[h->nretired++] = old;
	bool shared = old->s4 == s->s4 && old->r4 == s->r4 && old->p6 == s->p6;
	if (shared && h->nretired < ZONE_RETIRED_MAX)
		return;
	urcu_memb_synchronize_rcu();
	h->grace_periods++;
	retired_free(h);
}

void zone_publish_stats(const struct zone_handle *h, struct zone_publish_stats *st)
{
	st->publications = h->publications;
	st->grace_periods = h->grace_periods;
	st->retired = h->nretired;
}

void zone_handle_set_journal(struct zone_handle *h, struct zone_journal *j)
{
	h->journal = j;
}

struct zone_journal *zone_handle_journal(struct zone_handle *h)
{
	return h ? h->journal : NULL;
}
