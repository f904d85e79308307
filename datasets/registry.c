/* registry.c — the table of dataset sources (`engram datasets` lists it in this order). */
#include <string.h>

#include "ds_common.h"

static const eg_data_source *const sources[] = {
    &eg_src_fashion_mnist, &eg_src_mnist, &eg_src_digits, &eg_src_cifar10, &eg_src_hdf5, &eg_src_random_patterns,
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
