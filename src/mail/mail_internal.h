/* mail_internal.h - what the mail module's files share beyond mail.h: the classifier on a
 * message GMime has parsed already. */
#ifndef TRAPLINE_MAIL_INTERNAL_H
#define TRAPLINE_MAIL_INTERNAL_H

#include <gmime/gmime.h>

#include "mail.h"

/* GMime's process-wide tables (charsets, content types), filled once: call before any GMime
 * function. */
void mail_gmime_ready(void);

/* mail_classify_word on m, parsed already (a report's judged message): the same signals and
 * the same decision, its envelope sender from its Return-Path, without parsing the message
 * twice more (measured: the two parses took more time than the report's analysis). The whole
 * message counts, where mail_classify reads MAIL_CLASSIFY_MAX bytes of it. */
const char *mail_classify_parsed_word(GMimeMessage *m);

#endif
