/* shapes_common.h — private helpers of the segmentation sources (shapes.c,
 * flying_shapes.c, flying_images.c): the three templates of the static-shapes
 * set (Reichert & Serre 2014, via the N-EM notes §1.9), per-split Philox draws,
 * and datasets whose ground-truth groups live in the tail of the x allocation
 * (so eg_dataset_free releases them with x). Not part of the SDK. */
#ifndef EG_SHAPES_COMMON_H
#define EG_SHAPES_COMMON_H

#include <stdint.h>

#include "ds_common.h"
#include "engram/philox.h"

/* declared in registry.c too */
extern const eg_data_source eg_src_shapes, eg_src_flying_shapes, eg_src_flying_fmnist, eg_src_flying_mnist;

#define SHAPES_TEMPLATES 3
#define SHAPES_MAX_OBJECTS 16

typedef struct shapes_template {
    int h, w;
    const char *rows; /* h rows of w chars, '#' = 1 */
} shapes_template;

extern const shapes_template shapes_templates[SHAPES_TEMPLATES]; /* square, triangle, inverted triangle */

/* uniform [0, 1) value j of item i of a split: Philox(seed, stream of "<source>/<split>", i * 256 + j) */
typedef struct shapes_rng {
    uint64_t seed, stream;
} shapes_rng;
shapes_rng shapes_rng_make(const char *source, const char *split, int64_t seed);
double shapes_u(const shapes_rng *r, int64_t item, int j);

/* dataset of n items of `frames` frames of one channel h x w (frames = 0: a static image) with a groups
 * array [n, max(frames,1) * h * w] carved from the tail of the x allocation */
eg_dataset *shapes_alloc(const char *source, const char *split, int64_t n, int frames, int h, int w);

/* counts and labels of one frame: adds template t at top-left (x, y) into count[h*w] and writes
 * label into lab[h*w] on its pixels (later objects overwrite) */
void shapes_stamp(int t, int x, int y, int side_h, int side_w, uint8_t *count, uint8_t *lab, uint8_t label);
/* finishes a frame: pixel = count > 0, group = label where count == 1 else 0 */
void shapes_finish(const uint8_t *count, const uint8_t *lab, int64_t npix, float *x, uint8_t *groups);

/* the split's size from the options n_train / n_valid / n_test */
eg_status shapes_split_size(const eg_cfg *cfg, const eg_data_source *src, const char *split, int64_t *n, char *err,
                            size_t cap);

#endif
