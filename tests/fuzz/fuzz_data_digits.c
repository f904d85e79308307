/* fuzz_data_digits.c — the digits CSV reader: the input is the CSV (raw or gzip),
 * 64 pixel values 0..16 and a label per line. Seeds: corpus/data_digits/. */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_data_put("digits.csv", data, size);
    if (path) fuzz_data_load("digits", "data.path", path, (const char *)NULL);
    return 0;
}
