/* @NAME@.h — what the @NAME@ data source shares with its test. */
#ifndef @NAME_UPPER@_H
#define @NAME_UPPER@_H

#include <stdint.h>

#include "engram/source.h"

/* n patterns of dim values in {-1, +1} into x [n, dim] (see @NAME@_source.c) */
void @NAME@_generate(int64_t n, int64_t dim, double overlap, uint64_t seed, float *x);

#endif
