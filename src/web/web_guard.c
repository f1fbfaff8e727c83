/* web_guard.c - the guards of the forms: tokens against cross-site requests, the browser's
 * tl_csrf cookie they are bound to and the Origin check, and the lockout of logins after
 * repeated failures; the server's key and lockout, made at its start. The lockout lives in
 * memory, by design: persisting each failed guess would hand anyone on the network a way to
 * make the store write; a restart, which only the operator causes, clears it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "web_internal.h"

#define CSRF_COOKIE "tl_csrf"
#define CSRF_COOKIE_S 86400

/* ---- tokens against cross-site requests ---------------------------------------------------- */

static void csrf_mac(const uint8_t key[WEB_CSRF_KEY_LEN], const char *purpose, const char *cookie,
		     size_t cookie_len, const char *about, const char time_hex[16],
		     unsigned char mac[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, key, WEB_CSRF_KEY_LEN, 32);
	/* Each part with its length first: "ab"+"c" never MACs like "a"+"bc". */
	const char *parts[3] = {purpose, cookie, about ? about : ""};
	size_t lens[3] = {strlen(purpose), cookie_len, about ? strlen(about) : 0};
	for (int i = 0; i < 3; i++) {
		uint64_t n = lens[i];
		crypto_generichash_update(&st, (const unsigned char *)&n, sizeof(n));
		crypto_generichash_update(&st, (const unsigned char *)parts[i], lens[i]);
	}
	crypto_generichash_update(&st, (const unsigned char *)time_hex, 16);
	crypto_generichash_final(&st, mac, 32);
}

void web_csrf_make(const uint8_t key[WEB_CSRF_KEY_LEN], const char *purpose, const char *cookie,
		   size_t cookie_len, const char *about, int64_t now, char out[WEB_CSRF_LEN + 1])
{
	char t[17];
	snprintf(t, sizeof(t), "%016llx", (unsigned long long)now);
	unsigned char mac[32];
	csrf_mac(key, purpose, cookie, cookie_len, about, t, mac);
	memcpy(out, t, 16);
	sodium_bin2hex(out + 16, WEB_CSRF_LEN - 16 + 1, mac, sizeof(mac));
}

bool web_csrf_check(const uint8_t key[WEB_CSRF_KEY_LEN], const char *purpose, const char *cookie,
		    size_t cookie_len, const char *about, int64_t now, const char *token,
		    size_t len)
{
	if (!token || len != WEB_CSRF_LEN || !cookie || cookie_len == 0)
		return false;
	for (size_t i = 0; i < len; i++) /* token[0..len): no terminator to stop strspn */
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
			return false;
	char t[17];
	memcpy(t, token, 16);
	t[16] = '\0';
	/* Unsigned: a time with its top bit set (made up by a client) is no negative number that
	 * now - made could overflow on (fuzz_web_cookie found it). */
	uint64_t made = strtoull(t, NULL, 16);
	if (now < 0 || made > (uint64_t)now || (uint64_t)now - made > WEB_CSRF_TTL)
		return false;
	unsigned char mac[32], given[32];
	csrf_mac(key, purpose, cookie, cookie_len, about, t, mac);
	if (sodium_hex2bin(given, sizeof(given), token + 16, 64, NULL, NULL, NULL) != 0)
		return false;
	return sodium_memcmp(mac, given, sizeof(mac)) == 0;
}

/* ---- the lockout ------------------------------------------------------------------------- */

struct lockout_slot {
	bool used, client;         /* client: keyed by address, else by name */
	uint8_t key[STORE_NAME_MAX]; /* a name, or an address in its first 16 bytes */
	unsigned failures;
	int64_t first, locked_until;
};

struct web_lockout {
	pthread_mutex_t mtx;
	unsigned failures, window_s;
	struct lockout_slot slots[WEB_LOCKOUT_SLOTS];
};

struct web_lockout *web_lockout_new(unsigned failures, unsigned window_s)
{
	struct web_lockout *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	pthread_mutex_init(&l->mtx, NULL);
	l->failures = failures ? failures : 1;
	l->window_s = window_s ? window_s : 1;
	return l;
}

void web_lockout_free(struct web_lockout *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->mtx);
	free(l);
}

static void key_of(bool client, const char *name, const uint8_t ip[16], uint8_t out[STORE_NAME_MAX])
{
	memset(out, 0, STORE_NAME_MAX);
	if (client)
		ip_client_key(ip, out);
	else
		snprintf((char *)out, STORE_NAME_MAX, "%s", name);
}

/* The slot of the key; with make, a free one (or the one whose lock ended longest ago) for it;
 * NULL when none. A slot that still locks someone is never handed to another key. */
static struct lockout_slot *slot_find(struct web_lockout *l, bool client,
				      const uint8_t key[STORE_NAME_MAX], bool make, int64_t now)
{
	uint32_t h = 2166136261u; /* FNV-1a: the table is searched from the key's place on */
	for (size_t i = 0; i < STORE_NAME_MAX; i++)
		h = (h ^ key[i]) * 16777619u;
	h ^= client;
	struct lockout_slot *spare = NULL;
	for (size_t k = 0; k < 64; k++) { /* bounded probe: a lookup never walks the table */
		struct lockout_slot *s = &l->slots[(h + k) % WEB_LOCKOUT_SLOTS];
		if (!s->used) {
			if (!spare || spare->used)
				spare = s;
			continue;
		}
		if (s->client == client && memcmp(s->key, key, STORE_NAME_MAX) == 0)
			return s;
		bool idle = s->locked_until <= now && now - s->first >= (int64_t)l->window_s;
		if (idle && (!spare || (spare->used && s->first < spare->first)))
			spare = s;
	}
	if (!make || !spare)
		return NULL;
	memset(spare, 0, sizeof(*spare));
	spare->used = true;
	spare->client = client;
	memcpy(spare->key, key, STORE_NAME_MAX);
	return spare;
}

/* Seconds the slot still locks (0: none), after forgetting failures older than the window. */
static int64_t slot_locked(struct web_lockout *l, struct lockout_slot *s, int64_t now)
{
	if (!s)
		return 0;
	if (s->locked_until > now)
		return s->locked_until - now;
	if (now - s->first >= (int64_t)l->window_s)
		s->failures = 0;
	return 0;
}

static void slot_fail(struct web_lockout *l, struct lockout_slot *s, int64_t now)
{
	if (!s)
		return;
	if (s->failures == 0)
		s->first = now;
	if (++s->failures >= l->failures)
		s->locked_until = now + (int64_t)l->window_s;
}

int64_t web_lockout_try(struct web_lockout *l, const char *name, const uint8_t client[16],
			int64_t now)
{
	uint8_t kn[STORE_NAME_MAX], kc[STORE_NAME_MAX];
	key_of(false, name, client, kn);
	key_of(true, name, client, kc);
	pthread_mutex_lock(&l->mtx);
	struct lockout_slot *sn = slot_find(l, false, kn, true, now);
	struct lockout_slot *sc = slot_find(l, true, kc, true, now);
	int64_t wait = slot_locked(l, sn, now), wc = slot_locked(l, sc, now);
	if (wc > wait)
		wait = wc;
	/* No room to count this attempt (a flood of names and clients, each locked): it is not
	 * made, rather than made uncounted. */
	if (!wait && (!sn || !sc))
		wait = l->window_s;
	if (!wait) {
		slot_fail(l, sn, now);
		slot_fail(l, sc, now);
	}
	pthread_mutex_unlock(&l->mtx);
	return wait;
}

void web_lockout_done(struct web_lockout *l, const char *name, const uint8_t client[16],
		      bool success, int64_t now)
{
	if (!success)
		return; /* counted when it began */
	uint8_t kn[STORE_NAME_MAX], kc[STORE_NAME_MAX];
	key_of(false, name, client, kn);
	key_of(true, name, client, kc);
	pthread_mutex_lock(&l->mtx);
	struct lockout_slot *s[2] = {slot_find(l, false, kn, false, now),
				     slot_find(l, true, kc, false, now)};
	for (int i = 0; i < 2; i++)
		if (s[i])
			memset(s[i], 0, sizeof(*s[i]));
	pthread_mutex_unlock(&l->mtx);
}

/* ---- the server's guards: its key, its lockout, the cookie and the origin ------------------ */

int web_guard_start(struct web_server *srv)
{
	struct web_guard *gd = calloc(1, sizeof(*gd));
	if (!gd || sodium_init() < 0) {
		free(gd);
		return WEB_ENOMEM;
	}
	/* A new key at each start: forms made before a restart are refused (reload the page). */
	randombytes_buf(gd->key, sizeof(gd->key));
	gd->lockout = web_lockout_new(srv->cfg.lockout_failures, srv->cfg.lockout_s);
	if (!gd->lockout) {
		free(gd);
		return WEB_ENOMEM;
	}
	srv->guard = gd;
	return WEB_OK;
}

void web_guard_stop(struct web_server *srv)
{
	if (!srv->guard)
		return;
	web_lockout_free(srv->guard->lockout);
	sodium_memzero(srv->guard, sizeof(*srv->guard));
	free(srv->guard);
	srv->guard = NULL;
}

void web_csrf_cookie(struct web_server *srv, const struct web_request *req,
		     struct web_reply *reply, char out[33])
{
	const char *v = NULL;
	size_t n = 0;
	if (web_csrf_cookie_sent(req, &v, &n) && n == 32 && strspn(v, "0123456789abcdef") >= 32) {
		memcpy(out, v, 32);
		out[32] = '\0';
		return;
	}
	unsigned char raw[16];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, 33, raw, sizeof(raw));
	web_reply_cookie(reply, CSRF_COOKIE, out, "/", CSRF_COOKIE_S, srv->cfg.secure);
}

bool web_csrf_cookie_sent(const struct web_request *req, const char **v, size_t *n)
{
	return req->cookie &&
	       web_cookie_get(req->cookie, strlen(req->cookie), CSRF_COOKIE, v, n) == WEB_OK;
}

bool web_same_origin(const struct web_request *req)
{
	/* Not every client sends one; and under the pages' Referrer-Policy: no-referrer a browser
	 * sends "Origin: null" with every form, ours included (Fetch, "append a request Origin
	 * header"). Neither says anything: the token, bound to a SameSite=Strict cookie, guards
	 * the form. An Origin that names another site is refused outright. */
	if (!req->origin || strcmp(req->origin, "null") == 0)
		return true;
	const char *o = req->origin;
	if (strncmp(o, "http://", 7) == 0)
		o += 7;
	else if (strncmp(o, "https://", 8) == 0)
		o += 8;
	else
		return false;
	return req->host && strcasecmp(o, req->host) == 0;
}
