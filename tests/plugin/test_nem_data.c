/* test_nem_data.c — the segmentation sources (shapes, flying-shapes,
 * flying-fmnist) against the statistics of the N-EM notes §1.13 and their own
 * invariants: foreground fraction, overlap, visible groups, determinism, split
 * disjointness, groups consistent with pixels, bouncing motion inside the frame. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cfg.h"
#include "check.h"
#include "engram/source.h"

static eg_dataset *load(const char *src, const char *split, const char *const *kv) {
    eg_cfg c;
    eg_cfg_init(&c);
    char key[128];
    for (int i = 0; kv && kv[i]; i += 2) {
        eg_value v;
        snprintf(key, sizeof key, "data.%s", kv[i]);
        if (eg_value_parse(kv[i + 1], &v) == EG_OK) {
            eg_cfg_set(&c, key, &v);
            eg_value_free(&v);
        }
    }
    const eg_data_source *s = eg_data_source_find(src);
    CHECK(s != NULL);
    eg_dataset *ds = NULL;
    char err[1024] = "";
    eg_status st = s ? s->load(&c, split, &ds, err, sizeof err) : EG_ERR_NOTFOUND;
    if (st != EG_OK) fprintf(stderr, "%s/%s: %s\n", src, split, err);
    CHECK(st == EG_OK);
    eg_cfg_free(&c);
    return ds;
}

static void test_shapes_stats(void) {
    const char *kv[] = {"n_test", "20000", "seed", "7", NULL};
    eg_dataset *ds = load("shapes", "test", kv);
    if (!ds) return;
    CHECK(ds->n == 20000 && ds->dim == 784 && ds->height == 28 && ds->width == 28 && ds->frames == 0);
    CHECK(ds->groups != NULL);
    double fg = 0, ov = 0, any_ov = 0, three = 0;
    int bad = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        const float *x = ds->x + i * 784;
        const uint8_t *g = ds->groups + i * 784;
        int f = 0, o = 0, seen[4] = {0};
        for (int p = 0; p < 784; p++) {
            if (x[p] != 0.0f && x[p] != 1.0f) bad++;
            if (x[p] == 0.0f && g[p] != 0) bad++; /* background has group 0 */
            if (g[p] > 3) bad++;
            f += x[p] > 0.5f;
            o += x[p] > 0.5f && g[p] == 0; /* foreground without a group = overlap */
            seen[g[p]] = 1;
        }
        fg += f, ov += o, any_ov += o > 0;
        three += seen[1] + seen[2] + seen[3] == 3;
        if (ds->y[i] != seen[1] + seen[2] + seen[3]) bad++;
    }
    double n = (double)ds->n;
    CHECK(bad == 0);
    printf("shapes: foreground %.2f px (%.2f%%), overlap %.2f px, with overlap %.2f%%, 3 visible %.2f%%\n", fg / n,
           100 * fg / n / 784, ov / n, 100 * any_ov / n, 100 * three / n);
    CHECK_NEAR(fg / n, 125.1, 1.5, 0);      /* notes §1.13: 125.1 px (16.0%) */
    CHECK_NEAR(ov / n, 10.5, 0.5, 0);       /* 10.5 px of overlap per image */
    CHECK_NEAR(any_ov / n, 0.72, 0.015, 0); /* 72% of images have some overlap */
    CHECK_NEAR(three / n, 0.997, 0.003, 0); /* 99.7% keep 3 visible groups */

    /* determinism and split disjointness */
    const char *kv2[] = {"n_test", "50", "seed", "7", NULL};
    eg_dataset *again = load("shapes", "test", kv2);
    const char *kv3[] = {"n_train", "50", "seed", "7", NULL};
    eg_dataset *train = load("shapes", "train", kv3);
    const char *kv4[] = {"n_test", "50", "seed", "8", NULL};
    eg_dataset *other = load("shapes", "test", kv4);
    if (again && train && other) {
        CHECK(memcmp(again->x, ds->x, 50 * 784 * sizeof(float)) == 0); /* a prefix is the same for every n */
        CHECK(memcmp(again->groups, ds->groups, 50 * 784) == 0);
        CHECK(memcmp(train->x, ds->x, 50 * 784 * sizeof(float)) != 0);
        CHECK(memcmp(other->x, ds->x, 50 * 784 * sizeof(float)) != 0);
    }
    eg_dataset_free(again), eg_dataset_free(train), eg_dataset_free(other);
    eg_dataset_free(ds);
}

static void test_flying_shapes(void) {
    const char *kv[] = {"n_valid", "200", "frames", "12", "objects", "3", "seed", "1", NULL};
    eg_dataset *ds = load("flying-shapes", "valid", kv);
    if (!ds) return;
    CHECK(ds->frames == 12 && ds->channels == 12 && ds->dim == 12 * 784 && ds->groups != NULL);
    int bad = 0;
    double moved = 0, fg = 0;
    for (int64_t i = 0; i < ds->n; i++)
        for (int f = 0; f < 12; f++) {
            const float *x = ds->x + (i * 12 + f) * 784;
            const uint8_t *g = ds->groups + (i * 12 + f) * 784;
            int cnt = 0;
            for (int p = 0; p < 784; p++) {
                if (x[p] == 0.0f && g[p] != 0) bad++;
                if (g[p] > 3) bad++;
                cnt += x[p] > 0.5f;
            }
            fg += cnt;
            if (cnt == 0) bad++; /* objects never leave the frame */
            if (f > 0) moved += memcmp(x, x - 784, 784 * sizeof(float)) != 0;
        }
    CHECK(bad == 0);
    /* with speeds 1..2 px/frame almost every frame differs from the previous one */
    CHECK(moved / (200.0 * 11) > 0.95);
    /* each object keeps its pixel count when unoccluded: mean foreground near the static set's */
    CHECK_NEAR(fg / (200.0 * 12), 125.1, 8, 0);
    eg_dataset_free(ds);
}

static void test_flying_fmnist(void) {
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "rb");
    if (!f) f = fopen("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte", "rb");
    if (!f) {
        printf("flying-fmnist: Fashion-MNIST files absent, skipped\n");
        return;
    }
    fclose(f);
    const char *kv[] = {"n_test", "100", "frames", "5", "seed", "3", NULL};
    eg_dataset *ds = load("flying-fmnist", "test", kv);
    if (!ds) return;
    CHECK(ds->frames == 5 && ds->height == 24 && ds->width == 24 && ds->dim == 5 * 576);
    int bad = 0;
    double g1 = 0, g2 = 0;
    for (int64_t i = 0; i < ds->n * 5 * 576; i++) {
        float v = ds->x[i];
        if (!(v >= 0 && v <= 1)) bad++;
        if (ds->groups[i] && !(v > 0.5f)) bad++; /* a group pixel is covered above the threshold */
        g1 += ds->groups[i] == 1, g2 += ds->groups[i] == 2;
    }
    CHECK(bad == 0);
    CHECK(g1 > 1000 && g2 > 1000);
    eg_dataset_free(ds);
}

int main(void) {
    test_shapes_stats();
    test_flying_shapes();
    test_flying_fmnist();
    return eg_test_finish();
}
