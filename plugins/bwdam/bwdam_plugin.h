/* bwdam_plugin.h — the plugin's evals (bwdam_eval.c), shared with the descriptor (not for tests). */
#ifndef EG_PLUGIN_BWDAM_PLUGIN_H
#define EG_PLUGIN_BWDAM_PLUGIN_H

#include "bwdam.h"

/* bw and eu-dam on Gaussian data (the gaussians / gaussians-hdf5 sources) */
eg_status eg_bwdam__eval_gaussians(const eg_bwdam *h, eg_run *run);
/* pixel-dam: MCHN on raw image items with the shared task's corruptions and scoring */
eg_status eg_bwdam__eval_pixels(const eg_bwdam *h, eg_run *run);

#endif
