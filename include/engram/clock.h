/* engram/clock.h — time as a model plugin measures it (epoch times, deadlines). */
#ifndef ENGRAM_CLOCK_H
#define ENGRAM_CLOCK_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* seconds on CLOCK_MONOTONIC: differences are elapsed time, unaffected by clock changes */
EG_API double eg_monotonic(void);

#ifdef __cplusplus
}
#endif
#endif
