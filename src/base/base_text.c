/* base_text.c - free text from outside made safe to show on one line (command output, logs). */
#include <stdio.h>
#include <string.h>

#include "base.h"

const char *text_escape(const char *s, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (cap == 0)
		return buf;
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		char two = *p == '\\' ? '\\' : *p == '"' ? '"' : *p == '\n' ? 'n' : *p == '\r' ? 'r'
			 : *p == '\t' ? 't' : 0;
		size_t need = two ? 2 : (*p < 0x20 || *p == 0x7f) ? 4 : 1;
		if (o + need >= cap)
			break; /* cut at a whole character of the escaped form */
		if (two) {
			buf[o++] = '\\';
			buf[o++] = two;
		} else if (need == 4) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o] = '\0';
	return buf;
}
