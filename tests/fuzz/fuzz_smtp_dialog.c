/* fuzz_smtp_dialog.c - libFuzzer target: any bytes from a client, split anywhere, must leave
 * the dialogue consistent: replies well formed (a code and CRLF), a message only within its
 * limits, its buffer never past the largest message and accounted to the host to the byte
 * (the host's budget, taken from the input, refusing some), never a crash or a leak. The
 * host's answers (stored or not, TLS up, a close of its own) are taken from the input too. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp.h"

static const struct smtp_dialog_config CFG = {
	.hostname = "trap.fuzz",
	.trap_domains = "trap.example",
	.trap_addresses = "one@people.example",
	.max_size = 4096,
	.max_rcpts = 4,
	.max_errors = 20,
	.tls_available = true,
};

/* The host's budget of message bytes, as the server keeps it. */
struct budget {
	size_t held, max;
};

static bool budget_mem(void *arg, size_t from, size_t to)
{
	struct budget *b = arg;
	if (to > CFG.max_size || from > b->held)
		abort();
	if (to <= from) {
		b->held -= from - to;
		return true;
	}
	if (b->held + (to - from) > b->max)
		return false;
	b->held += to - from;
	return true;
}

/* Every reply line is "DDD" then ' ' or '-', and ends in CRLF. */
static void check_output(struct smtp_dialog *d)
{
	size_t len;
	const uint8_t *o = smtp_dialog_output(d, &len);
	size_t i = 0;
	while (i < len) {
		if (len - i < 6 || o[i] < '2' || o[i] > '5' || (o[i + 3] != ' ' && o[i + 3] != '-'))
			abort();
		const uint8_t *lf = memchr(o + i, '\n', len - i);
		if (!lf || lf == o + i || lf[-1] != '\r')
			abort();
		i = (size_t)(lf - o) + 1;
	}
	smtp_dialog_output_clear(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_dialog *d = smtp_dialog_new(&CFG);
	if (!d)
		return 0;
	/* The last byte picks the budget: none at all up to more than a message needs. */
	struct budget b = { .max = size ? (size_t)(data[size - 1] % 6) * 1024 : 4096 };
	smtp_dialog_set_mem(d, budget_mem, &b);
	smtp_dialog_greet(d);
	check_output(d);
	/* The first byte picks the chunk size, so that every split of the input is tried. */
	size_t step = size ? (size_t)(data[0] % 64) + 1 : 1;
	size_t i = size ? 1 : 0;
	bool no_client = size && (data[0] & 0x80);
	if (no_client)
		smtp_dialog_no_client(d);
	unsigned decisions = 0;
	while (i < size) {
		size_t n = size - i < step ? size - i : step;
		enum smtp_event ev;
		size_t used = smtp_dialog_feed(d, data + i, n, &ev);
		if (used > n)
			abort();
		check_output(d);
		i += used;
		struct smtp_dialog_progress p;
		smtp_dialog_progress(d, &p);
		if (p.held != b.held || p.line_bytes > SMTP_LINE_MAX)
			abort();
		if (ev == SMTP_EVENT_MESSAGE) {
			struct smtp_message m;
			smtp_dialog_message(d, &m);
			if (m.len > CFG.max_size || m.n_rcpts == 0 || m.n_rcpts > CFG.max_rcpts || no_client ||
			    m.len > b.held)
				abort();
			smtp_dialog_message_done(d, (decisions++ & 1) == 0);
			check_output(d);
		} else if (ev == SMTP_EVENT_STARTTLS) {
			smtp_dialog_tls_started(d);
		} else if (ev == SMTP_EVENT_CLOSE) {
			break;
		} else if (used < n) {
			abort(); /* nothing waits for the host, yet bytes were left */
		}
	}
	if (size && data[size - 1] == 'T') {
		smtp_dialog_timeout(d);
		check_output(d);
	} else if (size && data[size - 1] == 'A') {
		smtp_dialog_abort(d, "4.3.1", "the host's own limit");
		check_output(d);
	}
	smtp_dialog_free(d);
	if (b.held != 0) /* every byte accounted comes back */
		abort();
	return 0;
}
