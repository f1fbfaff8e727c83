/* fuzz_ctl_feed.c - libFuzzer target for a feed's request body (ctl_feed_parse, what POST
 * /api/v1/evidence reads): any bytes are either hits that a store may take (an address that
 * sends mail, a time inside the window and the skew, one of the four classes) and that read
 * back the same once written as JSON again, or a refusal with a reason of printable ASCII and
 * the position of the bad hit; never a crash, a leak or a read past the body. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

#define NOW 1800000000ll
#define WINDOW 604800ll
#define MAX 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	struct ctl_feed_hit hits[MAX], back[MAX];
	size_t n = 99, n2 = 0;
	long index = -2, index2;
	char err[512] = "", err2[512];
	/* Both settings of exclude_default's special-purpose word, by the body's length. */
	bool special = size % 2 == 0;
	int rc = ctl_feed_parse(body, size, NOW, WINDOW, special, MAX, hits, &n, &index, err,
				sizeof(err));
	free(body);
	if (rc != CTL_OK) {
		if (rc != CTL_EINVAL || n != 0 || !err[0] || index < -1 || index >= MAX)
			abort();
		for (const char *c = err; *c; c++)
			if (*c < 0x20 || *c >= 0x7f)
				abort(); /* a reason is one line of ASCII, whatever came in */
		return 0;
	}
	if (n == 0 || n > MAX || index != -1)
		abort();
	static const char *const words[] = {"spam", "bounce", "autoreply", "virus"};
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (ip_never_sends(hits[i].ip) || (special && ip_special_find(hits[i].ip, NULL)) ||
		    hits[i].at > NOW + CTL_FEED_SKEW_S ||
		    hits[i].at < NOW - WINDOW || (unsigned)hits[i].cls > STORE_CLASS_VIRUS)
			abort();
		char ip[IP_STRLEN], t[TIME_STRLEN];
		ip_format(hits[i].ip, ip);
		time_format_iso8601(hits[i].at, t);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "ip", ip, "at", t, "class",
						     words[hits[i].cls]));
	}
	char *again = json_dumps(arr, 0);
	json_decref(arr);
	if (!again)
		abort();
	if (ctl_feed_parse(again, strlen(again), NOW, WINDOW, special, MAX, back, &n2, &index2,
			   err2, sizeof(err2)) != CTL_OK || n2 != n)
		abort(); /* what we would store, written back, reads the same */
	for (size_t i = 0; i < n; i++)
		if (memcmp(back[i].ip, hits[i].ip, 16) != 0 || back[i].at != hits[i].at ||
		    back[i].cls != hits[i].cls)
			abort();
	free(again);
	return 0;
}
