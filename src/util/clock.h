/*
 * clock.h — the wall clock, in milliseconds since the epoch (UTC). Only the
 * log takes record times from it; the room never reads a clock.
 */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H

#include <stdint.h>

int64_t util_wall_ms(void);

#endif
