/* fuzz_data_cifar.c — the CIFAR-10 reader: the input is test_batch.bin (raw or
 * gzip), records of 1 label + 3072 pixel bytes. Seeds: corpus/data_cifar/. */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!fuzz_data_put("test_batch.bin", data, size)) return 0;
    fuzz_data_load("cifar10", "data.path", fuzz_data_dir(), (const char *)NULL);
    return 0;
}
