/* dns_secondary.c - what we know of each secondary: the last transfer served to it and the
 * last NOTIFY it answered, kept for the status and metrics (dns_secondaries). */
#include <pthread.h>
#include <string.h>

#include "base/base.h"
#include "dns_internal.h"

/* A process serves one zone to a handful of secondaries: a small table, the least recently
 * seen client (not a NOTIFY target) giving way when it is full. */
static struct dns_secondary table[DNS_SECONDARIES_MAX];
static size_t table_n;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/* The row of addr (16-byte form), made when missing. Under the lock. */
static struct dns_secondary *row_of(const uint8_t addr[16])
{
	for (size_t i = 0; i < table_n; i++)
		if (memcmp(table[i].addr, addr, 16) == 0)
			return &table[i];
	struct dns_secondary *r = NULL;
	if (table_n < DNS_SECONDARIES_MAX) {
		r = &table[table_n++];
	} else {
		for (size_t i = 0; i < table_n; i++)
			if (!table[i].notify_target &&
			    (!r || table[i].last_transfer_at < r->last_transfer_at))
				r = &table[i];
		if (!r)
			return NULL;
	}
	memset(r, 0, sizeof *r);
	memcpy(r->addr, addr, 16);
	ip_format(addr, r->text);
	return r;
}

void dns_xfr_served(const char *client, const uint8_t peer[16], uint32_t serial)
{
	(void)client;
	pthread_mutex_lock(&table_lock);
	struct dns_secondary *r = row_of(peer);
	if (r) {
		r->last_transfer_at = time_wall_s();
		r->last_transfer_serial = serial;
		r->transfers++;
	}
	pthread_mutex_unlock(&table_lock);
}

void dns_secondary_notify_state(const uint8_t addr[16], uint16_t port, int64_t sent_at,
				int64_t answered_at, uint32_t serial, bool unanswered)
{
	pthread_mutex_lock(&table_lock);
	struct dns_secondary *r = row_of(addr);
	if (r) {
		r->notify_target = true;
		r->notify_port = port;
		if (sent_at)
			r->last_notify_sent_at = sent_at;
		if (answered_at) {
			r->last_notify_answered_at = answered_at;
			r->last_notify_serial = serial;
		}
		r->notify_unanswered = unanswered;
	}
	pthread_mutex_unlock(&table_lock);
}

size_t dns_secondaries(struct dns_secondary *out, size_t max)
{
	pthread_mutex_lock(&table_lock);
	size_t n = table_n < max ? table_n : max;
	memcpy(out, table, n * sizeof *out);
	pthread_mutex_unlock(&table_lock);
	return n;
}
