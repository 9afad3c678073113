#include "kept_image.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"

hy_status hy_kept_image_load(hy_kept_image *k, const char *path, int in_w, int in_h,
                             double factor, hy_error *err) {
  memset(k, 0, sizeof *k);
  hy_image img = {0}, small = {0};
  hy_status st = hy_image_load(&img, path, err);
  if (st != HY_OK) return st;
  double s = fmin((double)in_w / img.width, (double)in_h / img.height);
  double f = fmin(1.0, factor * s);
  k->w = img.width;
  k->h = img.height;
  k->cw = (int)fmax(1, lround(img.width * f));
  k->ch = (int)fmax(1, lround(img.height * f));
  k->to_kept = hy_affine_resize(k->w, k->h, k->cw, k->ch);
  k->bytes = img.bit_depth > 8 ? 2 : 1;
  const hy_image *src = &img;
  if (k->cw != k->w || k->ch != k->h) {
    st = hy_image_new(&small, k->cw, k->ch, err);
    if (st == HY_OK) st = hy_image_resize(&small, &img, err);
    src = &small;
  }
  size_t n = (size_t)k->cw * k->ch;
  if (st == HY_OK && !(k->px = malloc(n * (size_t)k->bytes)))
    st = hy_fail(err, HY_E_NOMEM, "no memory to keep %s", path);
  if (st == HY_OK) {
    float levels = k->bytes == 1 ? 255.0f : 65535.0f;
    for (size_t j = 0; j < n; j++) {
      float v = src->pixels[j];
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      if (k->bytes == 1) ((uint8_t *)k->px)[j] = (uint8_t)lrintf(v * levels);
      else ((uint16_t *)k->px)[j] = (uint16_t)lrintf(v * levels);
    }
  }
  hy_image_free(&small);
  hy_image_free(&img);
  return st;
}

void hy_kept_image_free(hy_kept_image *k) {
  free(k->px);
  memset(k, 0, sizeof *k);
}

hy_image hy_kept_image_expand(const hy_kept_image *k, float *work) {
  size_t n = (size_t)k->cw * k->ch;
  float scale = k->bytes == 1 ? 1.0f / 255.0f : 1.0f / 65535.0f;
  for (size_t j = 0; j < n; j++)
    work[j] = (float)(k->bytes == 1 ? ((const uint8_t *)k->px)[j]
                                    : ((const uint16_t *)k->px)[j]) * scale;
  return (hy_image){k->cw, k->ch, k->bytes * 8, work};
}
