/* mail_gmime.c - GMime's process-wide set-up, which every file of the module that reads a
 * message with GMime (the classifier, the masking, the report analysis) asks for first. */
#include <pthread.h>

#include <gmime/gmime.h>

#include "mail_internal.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

/* GMime's global tables are set up once for the process and stay (they are not a leak). */
static void gmime_init_once(void)
{
	g_mime_init();
}

void mail_gmime_ready(void)
{
	pthread_once(&gmime_once, gmime_init_once);
}
