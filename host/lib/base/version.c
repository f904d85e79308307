/* version.c — the version and commit compiled into libengram. */
#include "version.h"

#ifndef EG_VERSION
#define EG_VERSION "0.0.0"
#endif
#ifndef EG_GIT_COMMIT
#define EG_GIT_COMMIT "unknown"
#endif

const char *eg_engram_version(void) {
    return EG_VERSION;
}
const char *eg_engram_git_commit(void) {
    return EG_GIT_COMMIT;
}
