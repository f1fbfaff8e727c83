/* zone_rcu.c - publication of the current snapshot to reader threads with userspace RCU. */
#include <stdlib.h>

#include <urcu/urcu-memb.h>

#include "zone/zone_internal.h"

struct zone_handle {
	struct zone_snapshot *cur;
};

struct zone_handle *zone_handle_new(void)
{
	return calloc(1, sizeof(struct zone_handle));
}

void zone_handle_free(struct zone_handle *h)
{
	if (!h)
		return;
	zone_snapshot_free(h->cur);
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
 * reader still holds the old snapshot when it is freed. */
void zone_publish(struct zone_handle *h, struct zone_snapshot *s)
{
	struct zone_snapshot *old = rcu_xchg_pointer(&h->cur, s);
	if (!old)
		return;
	urcu_memb_synchronize_rcu();
	zone_snapshot_free(old);
}
