/* report_png.h — pictures for the report: a run's uint8 artifact [n, h, w, c] tiled
 * into one PNG (libpng), upscaled with nearest-neighbour to a readable size. */
#ifndef EG_REPORT_PNG_H
#define EG_REPORT_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "engram/status.h"

/* the columns of a tiling of n tiles: ceil(n / tile_rows) when the plugin said how many
 * tiles make a column (eg_picture_layout), else min(n, 10) */
int rp_grid_columns(int64_t n, int tile_rows);
/* the integer upscale giving tiles of about 64 pixels or more (1..8) */
int rp_upscale(int64_t h, int64_t w);
/* tiles [n, h, w, c] (c = 1, 3 or 4) into `cols` columns, each pixel scale x scale, a
 * white gap of one scaled pixel between tiles; tile_rows > 0: consecutive groups of
 * tile_rows tiles fill one column each (column-major), else tiles fill rows; written to path. *out_w, *out_h: the
 * image's size. EG_ERR_INVALID for a bad shape, EG_ERR_IO with err. */
eg_status rp_png_write(const char *path, const uint8_t *pix, int64_t n, int64_t h, int64_t w, int64_t c, int cols,
                       int tile_rows, int scale, int *out_w, int *out_h, char *err, size_t cap);

#endif
