/* gaussians.h — the Gaussian-measure dataset sources (`gaussians`, `gaussians-hdf5`)
 * for the bwdam plugin.
 *
 * Row layout of both (one item = one Gaussian N(m, Σ) in dimension d, channels 1):
 *   full covariances:  [m (d), Σ (d x d, row-major)]   height d + 1, width d
 *   diagonal:          [m (d), variances (d)]          height 2,     width d
 * so d = width and the covariance is full exactly when height = d + 1 (for d = 1
 * both layouts are the same two numbers). The source name starts with "gaussians";
 * labels are the item index (gaussians) or the file's labels (gaussians-hdf5). */
#ifndef EG_DATASETS_GAUSSIANS_H
#define EG_DATASETS_GAUSSIANS_H

#include "engram/source.h"

extern const eg_data_source eg_src_gaussians;
extern const eg_data_source eg_src_gaussians_hdf5;

#endif
