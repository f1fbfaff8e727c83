/* base_util.c - the names of the error codes and of evidence classes, growable arrays, and
 * the thread count by default. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

const char *tl_strerror(int err)
{
	switch (err) {
	case TL_OK: return "ok";
	case TL_EINVAL: return "invalid input";
	case TL_ENOMEM: return "out of memory";
	case TL_EIO: return "input/output error";
	case TL_ERANGE: return "value out of range";
	case TL_EPARSE: return "data file has lines that do not parse";
	case TL_ETOOMANY: return "too many entries";
	case TL_EDB: return "database error (see the log)";
	case TL_ENEWER: return "database written by a newer trapline";
	case TL_ENOTFOUND: return "not found";
	case TL_EBUSY: return "database in use by another process";
	case TL_ESTOPPED: return "the writer is stopping";
	case TL_EEXPORT: return "an export could not be written";
	case TL_ENOSERVICE: return "no service answers on the control socket";
	case TL_EPROTO: return "protocol error";
	case TL_EUNLOADABLE: return "the export would not load";
	case TL_EEXIST: return "already there";
	case TL_ELIMIT: return "a limit is reached: try again later";
	case TL_ESPECIAL: return "a special-purpose address (RFC 6890), never a public source of mail";
	}
	return "unknown error";
}

static const char *const class_names[EVIDENCE_CLASSES] = {
	[EVIDENCE_SPAM] = "spam",	    [EVIDENCE_BOUNCE] = "bounce",
	[EVIDENCE_AUTOREPLY] = "autoreply", [EVIDENCE_VIRUS] = "virus",
	[EVIDENCE_UNKNOWN] = "unknown",
};

const char *evidence_class_name(enum evidence_class c)
{
	return (unsigned)c < EVIDENCE_CLASSES ? class_names[c] : "?";
}

int evidence_class_parse(const char *s, enum evidence_class *out)
{
	for (unsigned i = 0; s && i < EVIDENCE_CLASSES; i++) {
		if (strcmp(s, class_names[i]) == 0) {
			*out = (enum evidence_class)i;
			return BASE_OK;
		}
	}
	return BASE_EINVAL;
}

int array_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return BASE_OK;
	/* A size that cannot be represented is an allocation that cannot succeed. */
	if (elem == 0 || need > SIZE_MAX / 2 / elem)
		return BASE_ENOMEM;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return BASE_ENOMEM;
	*arr = p;
	*cap = n;
	return BASE_OK;
}

unsigned threads_or_cores(unsigned n)
{
	if (n)
		return n;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 0 ? (unsigned)cores : 1;
}
