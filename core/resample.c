#include "resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int reduce_factor(double f, int size) {
  if (!(f >= 1.5)) return 1;
  double k = floor(f + 0.5);
  return k < size ? (int)k : size;
}

/* dst[ry][rx] = mean of the source block (rx0 + rx, ry0 + ry) of kx x ky
 * pixels; blocks cut by the image's right or bottom edge average what they
 * have. */
static void box_reduce(float *dst, /* [rh][rw] */
                       const float *src, /* [h][w] */
                       int w, int h, int kx, int ky, int rx0, int ry0, int rw,
                       int rh, float *acc /* [rw * kx] */) {
  const int xa = rx0 * kx, xb = (rx0 + rw) * kx < w ? (rx0 + rw) * kx : w;
  for (int ry = 0; ry < rh; ry++) {
    int y0 = (ry0 + ry) * ky, y1 = y0 + ky < h ? y0 + ky : h;
    const float *s = src + (size_t)y0 * w + xa;
    for (int x = 0; x < xb - xa; x++) acc[x] = s[x];
    for (int y = y0 + 1; y < y1; y++) {
      s = src + (size_t)y * w + xa;
      for (int x = 0; x < xb - xa; x++) acc[x] += s[x];
    }
    float *d = dst + (size_t)ry * rw;
    double full = 1.0 / ((double)kx * (y1 - y0));
    for (int rx = 0; rx < rw; rx++) {
      int x0 = rx * kx, x1 = x0 + kx < xb - xa ? x0 + kx : xb - xa;
      double sum = 0;
      for (int x = x0; x < x1; x++) sum += acc[x];
      d[rx] = (float)(x1 - x0 == kx ? sum * full
                                    : sum / ((double)(x1 - x0) * (y1 - y0)));
    }
  }
}

/* [lo, hi) of the reduced-grid indices that bilinear samples at coords in
 * [cmin, cmax] can touch, within [0, n). */
static void block_range(double cmin, double cmax, int n, int *lo, int *hi) {
  double a = floor(cmin) - 1, b = floor(cmax) + 2;
  a = a < 0 ? 0 : (a > n ? n : a);
  b = b < a ? a : (b > n ? n : b);
  *lo = (int)a;
  *hi = (int)b;
}

static hy_status check_pair(const hy_image *dst, const hy_image *src,
                            hy_error *err) {
  if (!src || !src->pixels || src->width <= 0 || src->height <= 0)
    return hy_fail(err, HY_E_ARG, "resample: source image is empty");
  if (!dst || !dst->pixels || dst->width <= 0 || dst->height <= 0)
    return hy_fail(err, HY_E_ARG,
                   "resample: destination image is empty (make it with hy_image_new)");
  if (dst->pixels == src->pixels)
    return hy_fail(err, HY_E_ARG, "resample: destination and source are the same pixels");
  return HY_OK;
}

hy_status hy_image_warp(hy_image *dst, const hy_image *src,
                        const hy_affine *src_to_dst, float fill,
                        hy_error *err) {
  hy_status st = check_pair(dst, src, err);
  if (st != HY_OK) return st;
  hy_affine inv; /* dst -> src */
  st = hy_affine_invert(&inv, src_to_dst, err);
  if (st != HY_OK) return st;

  const int w = src->width, h = src->height;
  int kx = reduce_factor(hypot(inv.m[0], inv.m[1]), w);
  int ky = reduce_factor(hypot(inv.m[3], inv.m[4]), h);
  const float *img = src->pixels; /* [rh][rw] */
  int rw = w, rh = h;
  double ox = 0, oy = 0; /* where img starts, in (reduced) source coords */
  float *reduced = NULL;
  if (kx > 1 || ky > 1) {
    /* Source coords -> reduced coords: u = (x + 0.5) / kx - 0.5. */
    hy_affine to_reduced = {{1.0 / kx, 0, 0.5 / kx - 0.5, 0, 1.0 / ky, 0.5 / ky - 0.5}};
    inv = hy_affine_compose(&inv, &to_reduced);
    /* Reduce only the blocks dst samples: a zoomed-in crop needs few. */
    double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
    for (int c = 0; c < 4; c++) {
      double u, v;
      hy_affine_apply(&inv, (c & 1) ? dst->width - 1 : 0,
                      (c & 2) ? dst->height - 1 : 0, &u, &v);
      umin = fmin(umin, u), umax = fmax(umax, u);
      vmin = fmin(vmin, v), vmax = fmax(vmax, v);
    }
    int rx0, rx1, ry0, ry1;
    block_range(umin, umax, (w + kx - 1) / kx, &rx0, &rx1);
    block_range(vmin, vmax, (h + ky - 1) / ky, &ry0, &ry1);
    if (rx1 <= rx0 || ry1 <= ry0) { /* dst sees none of the source */
      for (size_t i = 0; i < (size_t)dst->width * dst->height; i++) dst->pixels[i] = fill;
      dst->bit_depth = src->bit_depth;
      return HY_OK;
    }
    rw = rx1 - rx0;
    rh = ry1 - ry0;
    ox = rx0;
    oy = ry0;
    reduced = malloc((size_t)rw * rh * sizeof *reduced);
    float *acc = malloc((size_t)rw * kx * sizeof *acc);
    if (!reduced || !acc) {
      free(reduced);
      free(acc);
      return hy_fail(err, HY_E_NOMEM, "resample: no memory for a %dx%d reduced image",
                     rw, rh);
    }
    box_reduce(reduced, src->pixels, w, h, kx, ky, rx0, ry0, rw, rh, acc);
    free(acc);
    img = reduced;
    hy_affine shift = hy_affine_translate(-ox, -oy);
    inv = hy_affine_compose(&inv, &shift);
  }
  /* The source's area [-0.5, w - 0.5] in the coords of img. */
  const double ulo = -0.5 - ox, uhi = (double)w / kx - 0.5 - ox;
  const double vlo = -0.5 - oy, vhi = (double)h / ky - 0.5 - oy;
  const double umax = rw - 1, vmax = rh - 1;
  const double *m = inv.m;

  for (int y = 0; y < dst->height; y++) {
    float *out = dst->pixels + (size_t)y * dst->width;
    const double ub = m[1] * y + m[2], vb = m[4] * y + m[5];
    for (int x = 0; x < dst->width; x++) {
      double u = ub + m[0] * x, v = vb + m[3] * x;
      if (!(u >= ulo && u <= uhi && v >= vlo && v <= vhi)) {
        out[x] = fill;
        continue;
      }
      u = u < 0 ? 0 : (u > umax ? umax : u);
      v = v < 0 ? 0 : (v > vmax ? vmax : v);
      int iu = (int)u, iv = (int)v;
      float au = (float)(u - iu), av = (float)(v - iv);
      size_t su = iu + 1 < rw ? 1 : 0, sv = iv + 1 < rh ? (size_t)rw : 0;
      const float *p = img + (size_t)iv * rw + iu;
      float top = p[0] + au * (p[su] - p[0]);
      float bot = p[sv] + au * (p[sv + su] - p[sv]);
      out[x] = top + av * (bot - top);
    }
  }
  dst->bit_depth = src->bit_depth;
  free(reduced);
  return HY_OK;
}

hy_status hy_image_resize(hy_image *dst, const hy_image *src, hy_error *err) {
  hy_status st = check_pair(dst, src, err);
  if (st != HY_OK) return st;
  hy_affine a = hy_affine_resize(src->width, src->height, dst->width, dst->height);
  return hy_image_warp(dst, src, &a, 0.0f, err);
}
