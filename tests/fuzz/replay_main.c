/* replay_main.c — the main() of a fuzz target in a normal build (ctest fuzz/<name>):
 * feeds every file named on the command line, or every file of each directory
 * named, to LLVMFuzzerTestOneInput once, in name order, so the committed corpus
 * (seeds and the inputs of past crashes, regress-*) is a regression test under
 * the release and the sanitizer builds alike. Exits 1 when a directory holds no
 * input (an empty corpus is a mistake, not a pass). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return -1;
    }
    /* a private copy of exactly len bytes, so ASan sees reads past the input */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact && len) memcpy(exact, buf, len);
    free(buf);
    if (!exact) return -1;
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int replay_dir(const char *dir, int *count) {
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name), rc = 0, here = 0;
    if (n < 0) {
        fprintf(stderr, "replay: cannot read directory %s\n", dir);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) < 0) rc = -1;
            here++;
        }
        free(names[i]);
    }
    free(names);
    if (here == 0) {
        fprintf(stderr, "replay: no input in %s\n", dir);
        rc = -1;
    }
    *count += here;
    return rc;
}

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0, count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such input %s\n", argv[i]);
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (replay_dir(argv[i], &count) < 0) rc = 1;
        } else {
            if (replay_file(argv[i]) < 0) rc = 1;
            count++;
        }
    }
    printf("replayed %d inputs%s\n", count, rc ? " (with errors above)" : "");
    return argc < 2 ? 1 : rc;
}
