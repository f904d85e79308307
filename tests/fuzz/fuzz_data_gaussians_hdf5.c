/* fuzz_data_gaussians_hdf5.c — the gaussians-hdf5 reader: the input's first byte
 * says whether data.y = "y" is named (bit 0); the rest is the recipe of an HDF5 file
 * with datasets means, covariances and y (fuzz_data_h5build.h), built, then loaded
 * as a run's preflight would. EG_FUZZ_HDF5_RAW=1: the input is the file itself.
 * Seeds: corpus/data_gaussians_hdf5/ (tests/hostile/data/make_corpus.py). */
#include "fuzz_data.h"
#include "fuzz_data_h5build.h"

FUZZ_DATA_HDF5_TARGET

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const names[] = {"means", "covariances", "y"};
    const char *path = fz_h5_input(data, size, "gaussians.h5", names, 3);
    if (path)
        fuzz_data_load("gaussians-hdf5", "data.path", path, "data.y",
                       size && (data[0] & 1) ? "y" : "", (const char *)NULL);
    fuzz_data_h5_none_open();
    return 0;
}
