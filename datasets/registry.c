/* registry.c — the table of dataset sources (`engram datasets` lists it in this order). */
#include <string.h>

#include "ds_common.h"
#include "gaussians.h"

extern const eg_data_source eg_src_sines, eg_src_colour_dots; /* sines.c, colordots.c (CompVAE) */
extern const eg_data_source eg_src_shapes, eg_src_flying_shapes, eg_src_flying_fmnist,
    eg_src_flying_mnist; /* shapes.c, flying_shapes.c, flying_images.c (N-EM) */

extern const eg_data_source eg_src_teacher_student; /* teacher_student.c (vmfdam) */

static const eg_data_source *const sources[] = {
    &eg_src_fashion_mnist, &eg_src_mnist, &eg_src_digits, &eg_src_cifar10, &eg_src_hdf5, &eg_src_random_patterns,
    &eg_src_gaussians,     &eg_src_gaussians_hdf5,
    &eg_src_sines, &eg_src_colour_dots,
    &eg_src_shapes, &eg_src_flying_shapes, &eg_src_flying_fmnist, &eg_src_flying_mnist,
    &eg_src_teacher_student,
};

int eg_data_source_count(void) {
    return (int)(sizeof sources / sizeof *sources);
}

const eg_data_source *eg_data_source_at(int i) {
    return i >= 0 && i < eg_data_source_count() ? sources[i] : NULL;
}

const eg_data_source *eg_data_source_find(const char *name) {
    for (int i = 0; name && i < eg_data_source_count(); i++)
        if (strcmp(sources[i]->name, name) == 0) return sources[i];
    return NULL;
}

eg_status eg_data_check(const eg_cfg *cfg, char *err, size_t cap) {
    const char *name = cfg ? eg_cfg_text(cfg, "data.source") : NULL;
    if (!name || !*name) return ds_fail(err, cap, EG_ERR_SPEC, "data.source: required");
    const eg_data_source *src = eg_data_source_find(name);
    if (!src) return ds_fail(err, cap, EG_ERR_NOTFOUND, "data.source: unknown dataset '%s'", name);
    eg_dataset *ds = NULL;
    eg_status st = src->load(cfg, NULL, &ds, err, cap);
    eg_dataset_free(ds);
    return st;
}
