/* version.h — which engram this is (declared in engram/host.h; defined in version.c). */
#ifndef EG_BASE_VERSION_H
#define EG_BASE_VERSION_H

#include "engram/host.h"

#endif
