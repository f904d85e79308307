/* fuzz_data_idx.c — the IDX reader (mnist source; fashion-mnist is the same code):
 * the input is a labels/images pair, u16le length L, then L bytes of the
 * t10k-labels-idx1-ubyte file, then the t10k-images-idx3-ubyte file (each raw or
 * gzip: zlib tells them apart by content). Seeds: corpus/data_idx/ (make_corpus.py). */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t l = size >= 2 ? (size_t)(data[0] | data[1] << 8) : 0;
    const uint8_t *rest = data + (size >= 2 ? 2 : size);
    size_t left = size - (size_t)(rest - data);
    if (l > left) l = left;
    if (!fuzz_data_put("t10k-labels-idx1-ubyte", rest, l) ||
        !fuzz_data_put("t10k-images-idx3-ubyte", rest + l, left - l))
        return 0;
    fuzz_data_load("mnist", "data.path", fuzz_data_dir(), (const char *)NULL);
    return 0;
}
