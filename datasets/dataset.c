/* dataset.c — ownership of loaded datasets: eg_dataset_alloc / eg_dataset_free. */
#include <stdlib.h>
#include <string.h>

#include "ds_common.h"

/* eg_dataset is the first member, so a dataset pointer is also an owned pointer */
typedef struct ds_owned {
    eg_dataset pub;
    char *source, *split;
} ds_owned;

eg_dataset *eg_dataset_alloc(const char *source, const char *split, int64_t n, int c, int h, int w, int labelled) {
    if (n < 0 || c <= 0 || h <= 0 || w <= 0) return NULL;
    int64_t dim = (int64_t)c * h * w;
    if (dim <= 0 || (n > 0 && (uint64_t)dim > SIZE_MAX / sizeof(float) / (uint64_t)n)) return NULL;
    ds_owned *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->source = strdup(source ? source : "");
    d->split = strdup(split ? split : "all");
    float *x = malloc(n > 0 ? (size_t)n * (size_t)dim * sizeof(float) : 1);
    int32_t *y = labelled ? calloc(n > 0 ? (size_t)n : 1, sizeof(int32_t)) : NULL;
    if (!d->source || !d->split || !x || (labelled && !y)) {
        free(d->source);
        free(d->split);
        free(x);
        free(y);
        free(d);
        return NULL;
    }
    d->pub.source = d->source;
    d->pub.split = d->split;
    d->pub.n = n;
    d->pub.dim = dim;
    d->pub.channels = c;
    d->pub.height = h;
    d->pub.width = w;
    d->pub.x = x;
    d->pub.y = y;
    return &d->pub;
}

void eg_dataset_free(eg_dataset *ds) {
    if (!ds) return;
    ds_owned *d = (ds_owned *)ds;
    free((void *)ds->x);
    free((void *)ds->y);
    free(d->source);
    free(d->split);
    free(d);
}
