/* Grey float images: PNG and JPEG decoding, grey PNG encoding.
 *
 * Decoding keeps the source size and turns every image into one grey channel
 * of floats in [0, 1]: the raw sample value divided by its maximum (255 or
 * 65535; 1-, 2- and 4-bit grey are first scaled to 8 bits), so 16-bit
 * samples keep their full precision. No gamma or colour management: values
 * are the stored samples.
 * - Colour becomes luminance with the Rec. 601 weights,
 *   Y = 0.299 R + 0.587 G + 0.114 B. For a JPEG this is the decoder's own luma
 *   (JFIF defines its Y with the same weights), computed by libjpeg.
 * - Alpha (an alpha channel or a palette's tRNS) is ignored: the colour
 *   samples are used as they are, never composited on a background.
 * - Palette images use their palette colours; an animated PNG gives its
 *   first frame (libpng skips the APNG chunks).
 * - The format comes from the first bytes, never from a file name.
 * - Refused (HY_E_FORMAT): other formats, truncated or corrupt data (a JPEG
 *   with missing or damaged entropy-coded data too, which libjpeg would
 *   otherwise pad with grey), CMYK/YCCK JPEGs, zero-sized images.
 *   Refused (HY_E_LIMIT): more than HY_IMAGE_MAX_SIDE pixels on a side or
 *   HY_IMAGE_MAX_PIXELS in all, checked on the header before any pixel
 *   memory is allocated.
 * libpng and libjpeg never print anything: their messages end up in the
 * hy_error. */
#pragma once

#include <stddef.h>

#include "error.h"

#define HY_IMAGE_MAX_SIDE 20000
#ifndef HY_IMAGE_MAX_PIXELS /* fuzz builds set a smaller cap (fuzz/build) */
#define HY_IMAGE_MAX_PIXELS 400000000LL
#endif
#define HY_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

typedef struct hy_image {
  int width, height;
  int bit_depth;   /* of the source samples: 8 or 16 (1/2/4 reported as 8) */
  float *pixels;   /* owned, [height][width], grey in [0, 1] */
} hy_image;

/* Decodes a PNG or JPEG held in memory into *out (which the caller later
 * frees with hy_image_free). On failure *out is left zeroed. */
hy_status hy_image_decode(hy_image *out, const void *bytes, size_t n,
                          hy_error *err);

/* Reads the file at path (at most HY_IMAGE_MAX_FILE_BYTES) and decodes it;
 * error messages name the path. */
hy_status hy_image_load(hy_image *out, const char *path, hy_error *err);

/* A width x height image of zeros, bit_depth 8. */
hy_status hy_image_new(hy_image *out, int width, int height, hy_error *err);

/* Frees the pixels; safe on a zeroed struct; leaves *img zeroed. */
void hy_image_free(hy_image *img);

/* Writes img as a grey PNG of bit_depth 8 or 16: values are clamped to
 * [0, 1] (NaN becomes 0) and rounded to the nearest level. The file is
 * encoded in memory and then replaced atomically. */
hy_status hy_image_save_png(const hy_image *img, const char *path,
                            int bit_depth, hy_error *err);
