/* fuzz_common.h — helpers shared by the libFuzzer targets in tests/fuzz/.
 * Each target file fuzz_<name>.c defines LLVMFuzzerTestOneInput; its seed and
 * regression inputs live in tests/fuzz/corpus/<name>/. The same file builds two
 * ways: with clang and libFuzzer (-DEG_FUZZ=ON, scripts/fuzz.sh) and, in every
 * normal build, with replay_main.c as the ctest test fuzz/<name>, which feeds it
 * every file of its corpus (so each crash that joins the corpus stays a test). */
#ifndef EG_FUZZ_COMMON_H
#define EG_FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes data to this process's scratch file ("<TMPDIR>/engram-fuzz-<pid><suffix>",
 * replaced on every call, removed at exit) and returns its path: the readers under
 * test take paths, not buffers. NULL when the file cannot be written. */
static inline const char *fuzz_write_tmp(const uint8_t *data, size_t size, const char *suffix) {
    static char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/engram-fuzz-%ld%s", tmp && *tmp ? tmp : "/tmp", (long)getpid(),
             suffix ? suffix : "");
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    size_t put = size ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || put != size) return NULL;
    return path;
}

/* A NUL-terminated copy of the input (for text parsers); free() it. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return NULL;
    if (size) memcpy(s, data, size);
    s[size] = 0;
    return s;
}
#endif
