/* fs.h — file helpers of the host beyond engram/host.h's eg_mkdirs. */
#ifndef EG_BASE_FS_H
#define EG_BASE_FS_H
#include <stdio.h>

/* A new file at path for writing, created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) after
 * removing whatever is at the name, so a link planted there (a shared directory) is
 * removed, never written through. NULL with errno set on failure. */
FILE *eg_fopen_fresh(const char *path);
#endif
