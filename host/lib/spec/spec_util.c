/* spec_util.c — small string helpers of the spec layer (spec_internal.h): membership,
 * the first name of a dotted key, "a|b|c" choices, joining names for a message. A leaf:
 * it calls no other part of spec/. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "spec_internal.h"

int spec_str_in(const char *s, const char *const *list, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return 1;
    return 0;
}

/* first segment of a dotted key */
void spec_first_seg(const char *key, char *buf, size_t cap) {
    const char *dot = strchr(key, '.');
    size_t n = dot ? (size_t)(dot - key) : strlen(key);
    if (n >= cap) n = cap - 1;
    memcpy(buf, key, n);
    buf[n] = 0;
}

/* "a|b|c" split into at most `max` pointers into buf */
int spec_split_bar(const char *choices, char *buf, size_t cap, const char **out, int max) {
    snprintf(buf, cap, "%s", choices ? choices : "");
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, "|", &save); t && n < max; t = strtok_r(NULL, "|", &save))
        out[n++] = t;
    return n;
}

/* "a, b, c" */
void spec_join(const char *const *items, int n, const char *sep, char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? sep : "", items[i]);
}

/* the run key a grid or zip axis entry sets ("sweep.grid.params.beta" -> "params.beta"), its
 * form ("grid" / "zip") in *form; NULL (and *form NULL) for any other key */
const char *spec_axis_of(const char *key, const char **form) {
    if (!strncmp(key, "sweep.grid.", 11)) {
        *form = "grid";
        return key + 11;
    }
    if (!strncmp(key, "sweep.zip.", 10)) {
        *form = "zip";
        return key + 10;
    }
    *form = NULL;
    return NULL;
}
