/* datasets.h — TEMPORARY forward to the public header (removed with the last includer). */
#include "base/cfg.h"
#include "engram/source.h"
