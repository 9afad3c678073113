/* A training image as kept in memory (train.c's image cache, finetune.c's
 * bounded one): decoded once, downscaled to `factor` times its letterbox
 * size in the network input (never upscaled), with the exact affine from
 * the original; 8-bit sources kept as 8 bits a pixel, deeper ones as 16.
 * At most (factor·in_w)·(factor·in_h)·2 bytes whatever the original's size. */
#pragma once

#include "affine.h"
#include "error.h"
#include "image.h"

typedef struct hy_kept_image {
  int w, h;           /* original size */
  int cw, ch;         /* kept size */
  hy_affine to_kept;  /* original px → kept px */
  int bytes;          /* 1 or 2 per pixel */
  void *px;           /* owned [ch][cw] */
} hy_kept_image;

/* Decodes path and keeps it for an in_w × in_h input. */
hy_status hy_kept_image_load(hy_kept_image *k, const char *path, int in_w, int in_h,
                             double factor, hy_error *err);
void hy_kept_image_free(hy_kept_image *k);

/* The kept pixels as floats in [0, 1] in work [cw·ch] (the caller's), as an
 * image borrowing work. */
hy_image hy_kept_image_expand(const hy_kept_image *k, float *work);
