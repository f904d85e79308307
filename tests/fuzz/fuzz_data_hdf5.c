/* fuzz_data_hdf5.c — the bring-your-own HDF5 reader (source hdf5, data.x = "x"): the
 * input's first byte says whether data.y = "y" is named (bit 0); the rest is the
 * recipe of an HDF5 file with datasets x and y (fuzz_data_h5build.h), built, then
 * loaded as a run's preflight would. EG_FUZZ_HDF5_RAW=1: the input is the file
 * itself. Seeds: corpus/data_hdf5/ (tests/hostile/data/make_corpus.py). */
#include "fuzz_data.h"
#include "fuzz_data_h5build.h"

FUZZ_DATA_HDF5_TARGET

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const names[] = {"x", "y"};
    const char *path = fz_h5_input(data, size, "data.h5", names, 2);
    if (path)
        fuzz_data_load("hdf5", "data.path", path, "data.x", "x", "data.y",
                       size && (data[0] & 1) ? "y" : "", (const char *)NULL);
    fuzz_data_h5_none_open();
    return 0;
}
