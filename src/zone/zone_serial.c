/* zone_serial.c - SOA serial number arithmetic (RFC 1982), shared by the writer and transfers. */
#include "zone.h"

bool zone_serial_gt(uint32_t a, uint32_t b)
{
	/* RFC 1982 3.2 with SERIAL_BITS 32: a > b when a - b (mod 2^32) lies in (0, 2^31). */
	uint32_t d = a - b;
	return d != 0 && d < 0x80000000u;
}

uint32_t zone_serial_next(uint32_t last, uint32_t now)
{
	if (zone_serial_gt(now, last))
		return now;
	return last + 1u; /* unsigned: wraps from 2^32 - 1 to 0, which is greater (RFC 1982 3.1) */
}
