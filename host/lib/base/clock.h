/* clock.h — wall-clock time for the records (the monotonic clock is SDK: engram/clock.h). */
#ifndef EG_BASE_CLOCK_H
#define EG_BASE_CLOCK_H

#include <stddef.h>

#include "engram/clock.h"

/* seconds since the Unix epoch */
double eg_wall_now(void);
/* "2026-12-07T02:34:36Z" */
void eg_iso_time(double unix_seconds, char *buf, size_t cap);

#endif
