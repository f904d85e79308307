/* report_png.c — tiled, upscaled PNG pictures through libpng (report_png.h). */
#include "report_png.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"

int rp_grid_columns(int64_t n, int tile_rows) {
    if (tile_rows > 0) return (int)((n + tile_rows - 1) / tile_rows);
    return (int)(n < 10 ? (n > 0 ? n : 1) : 10);
}

int rp_upscale(int64_t h, int64_t w) {
    int64_t side = h < w ? h : w;
    int s = side > 0 ? (int)(64 / side) : 1;
    return s < 1 ? 1 : s > 8 ? 8 : s;
}

eg_status rp_png_write(const char *path, const uint8_t *pix, int64_t n, int64_t h, int64_t w, int64_t c, int cols,
                       int tile_rows, int scale, int *out_w, int *out_h, char *err, size_t cap) {
    if (n < 1 || h < 1 || w < 1 || (c != 1 && c != 3 && c != 4) || cols < 1 || scale < 1 || h * w > (1 << 24)) {
        snprintf(err, cap, "%s: cannot draw an artifact of shape [%lld, %lld, %lld, %lld]", path, (long long)n,
                 (long long)h, (long long)w, (long long)c);
        return EG_ERR_INVALID;
    }
    int64_t rows = tile_rows > 0 ? tile_rows : (n + cols - 1) / cols, gap = scale;
    int64_t W = cols * w * scale + (cols - 1) * gap, H = rows * h * scale + (rows - 1) * gap;
    if (W > 16384 || H > 16384) {
        snprintf(err, cap, "%s: picture of %lld x %lld pixels is too large to draw", path, (long long)W, (long long)H);
        return EG_ERR_INVALID;
    }
    int oc = c == 1 ? 1 : c == 3 ? 3 : 4;
    uint8_t *img = malloc((size_t)(W * H * oc));
    if (!img) {
        snprintf(err, cap, "%s: out of memory", path);
        return EG_ERR_NOMEM;
    }
    memset(img, 255, (size_t)(W * H * oc));
    for (int64_t t = 0; t < n; t++) {
        int64_t row = tile_rows > 0 ? t % tile_rows : t / cols, col = tile_rows > 0 ? t / tile_rows : t % cols;
        int64_t r0 = row * (h * scale + gap), c0 = col * (w * scale + gap);
        for (int64_t y = 0; y < h * scale; y++)
            for (int64_t x = 0; x < w * scale; x++) {
                const uint8_t *src = pix + ((t * h + y / scale) * w + x / scale) * c;
                memcpy(img + ((r0 + y) * W + c0 + x) * oc, src, (size_t)oc);
            }
    }
    /* written beside and renamed into place: a picture is whole or absent (a later
     * report reuses one that is newer than its run file) */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = eg_fopen_fresh(tmp);
    png_structp png = f ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    eg_status st = EG_OK;
    if (!f || !png || !info) {
        snprintf(err, cap, "%s: cannot write the picture: %s", path, strerror(f ? ENOMEM : errno));
        st = EG_ERR_IO;
    } else if (setjmp(png_jmpbuf(png))) {
        snprintf(err, cap, "%s: libpng failed while writing", path);
        st = EG_ERR_IO;
    } else {
        png_init_io(png, f);
        png_set_IHDR(png, info, (png_uint_32)W, (png_uint_32)H, 8,
                     oc == 1 ? PNG_COLOR_TYPE_GRAY : oc == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int64_t y = 0; y < H; y++)
            png_write_row(png, img + y * W * oc);
        png_write_end(png, NULL);
    }
    if (png) png_destroy_write_struct(&png, info ? &info : NULL);
    if (f && fclose(f) != 0 && st == EG_OK) {
        snprintf(err, cap, "%s: cannot write the picture: %s", path, strerror(errno));
        st = EG_ERR_IO;
    }
    if (st == EG_OK && rename(tmp, path) != 0) {
        snprintf(err, cap, "%s: cannot rename the picture into place: %s", path, strerror(errno));
        st = EG_ERR_IO;
    }
    if (st != EG_OK && f) unlink(tmp);
    free(img);
    if (st == EG_OK) *out_w = (int)W, *out_h = (int)H;
    return st;
}
