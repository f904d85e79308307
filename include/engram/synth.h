/* engram/synth.h — synthetic generators of multiset-of-parts problems (the
 * CompVAE paper's sines and colour-dots problems, Berger & Sebag 2019), for
 * plugins that draw fresh data online (one K per sub-batch) and for the
 * `sines` / `colour-dots` dataset sources built on them.
 *
 * Randomness: value j of a call is Philox4x32-10 index rng->offset + j of
 * (rng->seed, rng->stream) (engram/philox.h); the call advances rng->offset,
 * so a stream reproduces the same items on every machine. */
#ifndef ENGRAM_SYNTH_H
#define ENGRAM_SYNTH_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EG_SINES_LEN 200  /* T: samples t_n = n / 100, n = 0..199 */
#define EG_SINES_FREQS 9  /* frequencies 1..9 */
#define EG_DOTS_COLOURS 5 /* red, green, blue, black, white */

/* n wholes of K parts each (the sines problem):
 *   f_i ~ U{1..9}, a_i ~ N(1, 0.3^2), phi_i ~ N(0, 0.8^2),
 *   S(t) = sum_i a_i cos(2 pi f_i t + phi_i), x(t) = K tanh(3 S(t) / K), t = n/100.
 * Outputs (NULL to skip): x [n, len], freq [n, K] (1..9), amp / phase [n, K],
 * s_pre [n, len] (S before the tanh). len is EG_SINES_LEN in the paper. */
EG_API eg_status eg_sines_generate(eg_rng *rng, int64_t n, int K, int len, float *x, int32_t *freq, float *amp,
                                   float *phase, float *s_pre);

/* RGB (0/1 values) of colour index c (0 red, 1 green, 2 blue, 3 black, 4 white) */
EG_API void eg_dots_colour(int c, float rgb[3]);

/* n images [n, 3, size, size] (CHW) of K soft-Voronoi blobs each (the colour-dots problem):
 *   colour c_k ~ U{0..4}, centre (cx, cy) ~ U(-0.9, 0.9)^2, sharpness s_k ~ U(5, 10);
 *   grid u_j = 2 j / (size - 1) - 1 (cx against the column, cy against the row),
 *   pi_k(p) = softmax_k(-s_k |u(p) - c_k|^2), image = sum_k pi_k colour_k,
 *   x = clamp(image^(1/2.4), 0, 1).
 * Outputs (NULL to skip): x, colour [n, K], centre [n, K, 2] (cx, cy), sharp [n, K]. */
EG_API eg_status eg_dots_generate(eg_rng *rng, int64_t n, int K, int size, float *x, int32_t *colour, float *centre,
                                  float *sharp);
/* render given parts (the generator's second half); weights [size*size, K] of pi may be NULL */
EG_API void eg_dots_render(int K, int size, const int32_t *colour, const float *centre, const float *sharp, float *x,
                           float *weights);

#ifdef __cplusplus
}
#endif
#endif
