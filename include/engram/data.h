/* engram/data.h — datasets as a plugin sees them: host arrays, pixels in [0, 1].
 * Loaded by libengram from the spec's `data:` section (see `engram datasets`). */
#ifndef ENGRAM_DATA_H
#define ENGRAM_DATA_H

#include <stdint.h>

#include "export.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eg_dataset {
    const char *source;          /* "fashion-mnist", "digits", ... */
    const char *split;           /* "train", "test", "all" */
    int64_t n;                   /* items */
    int64_t dim;                 /* floats per item = channels * height * width */
    int channels, height, width; /* images; for vectors channels = height = 1, width = dim */
    const float *x;              /* [n, dim] row-major; images are CHW */
    const int32_t *y;            /* [n] labels, or NULL */
    int n_classes;               /* 0 when unlabelled */
    int binary;                  /* 1 when values are in {-1, +1} (random-patterns kind: binary) */
    /* ---- appended: segmentation ground truth and sequences (shapes, flying-* sources) ---- */
    int frames;            /* sequences: frames per item, channels = frames * channels per frame,
                              frame-major (frame f = channels [f*c, (f+1)*c)); 0 = not a sequence */
    const uint8_t *groups; /* [n, max(frames, 1) * height * width] true group of every pixel of every
                              frame: 0 = background or overlap, 1.. = object; NULL when absent */
} eg_dataset;

/* rows [start, start + count) as a [count, dim] tensor of dtype dt */
EG_API eg_tensor *eg_dataset_rows(eg_ctx *ctx, const eg_dataset *ds, eg_dtype dt, int64_t start, int64_t count);
/* rows at the given indices */
EG_API eg_tensor *eg_dataset_gather(eg_ctx *ctx, const eg_dataset *ds, eg_dtype dt, const int64_t *idx, int64_t count);
/* labels [start, start+count) as an EG_I32 tensor (error when unlabelled) */
EG_API eg_tensor *eg_dataset_labels(eg_ctx *ctx, const eg_dataset *ds, int64_t start, int64_t count);

#ifdef __cplusplus
}
#endif
#endif
