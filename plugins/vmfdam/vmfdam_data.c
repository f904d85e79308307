/* vmfdam_data.c — inputs on the unit sphere (reference/model-vmfdam.md §1,
 * paper §2.1: the data is scale invariant, so each item is normalised).
 * Per item: x <- x - mean_i x_i (optional), then x <- x/|x|; a zero vector
 * (a blank image or a constant patch) stays the zero vector, whose overlap with
 * every memory is 0. Patches: VALID windows patch x patch with stride `stride`
 * (6x6 stride 2 on 28x28 gives 12 x 12 = 144 patches of N = 36). */
#include <math.h>
#include <string.h>

#include "vmfdam.h"

void vmf_preprocess(const float *x, int64_t count, int64_t dim, int center, float *out) {
    for (int64_t i = 0; i < count; i++) {
        const float *a = x + i * dim;
        float *o = out + i * dim;
        double mean = 0, ss = 0;
        if (center) {
            for (int64_t j = 0; j < dim; j++)
                mean += a[j];
            mean /= (double)dim;
        }
        for (int64_t j = 0; j < dim; j++) {
            double v = (double)a[j] - mean;
            ss += v * v;
        }
        double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        /* a constant item centres to (rounding noise around) 0: treat it as zero */
        if (center && ss <= 1e-24 * (double)dim) inv = 0.0;
        for (int64_t j = 0; j < dim; j++)
            o[j] = (float)(((double)a[j] - mean) * inv);
    }
}

int64_t vmf_patches_per_image(int64_t h, int64_t w, int64_t patch, int64_t stride) {
    if (patch <= 0 || stride <= 0 || patch > h || patch > w) return 0;
    return ((h - patch) / stride + 1) * ((w - patch) / stride + 1);
}

void vmf_extract_patches(const float *x, int64_t count, int64_t c, int64_t h, int64_t w, int64_t patch, int64_t stride,
                         float *out) {
    int64_t ph = (h - patch) / stride + 1, pw = (w - patch) / stride + 1, dim = c * h * w;
    for (int64_t i = 0; i < count; i++)
        for (int64_t py = 0; py < ph; py++)
            for (int64_t px = 0; px < pw; px++)
                for (int64_t ch = 0; ch < c; ch++)
                    for (int64_t r = 0; r < patch; r++) {
                        const float *src = x + i * dim + ch * h * w + (py * stride + r) * w + px * stride;
                        memcpy(out, src, (size_t)patch * sizeof *out);
                        out += patch;
                    }
}
