/* version.h — which engram this is (recorded in every run file, printed by `engram --version`). */
#ifndef EG_BASE_VERSION_H
#define EG_BASE_VERSION_H

const char *eg_engram_version(void);    /* "0.1.0" */
const char *eg_engram_git_commit(void); /* 12 hex chars, or "unknown" */

#endif
