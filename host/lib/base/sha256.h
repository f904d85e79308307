/* sha256.h — SHA-256 (FIPS 180-4), for run ids. */
#ifndef EG_SHA256_H
#define EG_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct eg_sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    uint8_t buf[64];
    size_t fill;
} eg_sha256;

void eg_sha256_init(eg_sha256 *s);
void eg_sha256_update(eg_sha256 *s, const void *data, size_t n);
void eg_sha256_final(eg_sha256 *s, uint8_t out[32]);
/* one call: digest of data */
void eg_sha256_sum(const void *data, size_t n, uint8_t out[32]);
/* lower-case hex of the digest's first n_hex/2 bytes into hex[n_hex + 1] */
void eg_sha256_hex(const uint8_t digest[32], char *hex, int n_hex);

#endif
