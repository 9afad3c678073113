/* Convolutions (conv, dwconv, conv_transpose): the fast paths against the
 * naive loops on many shapes (bands of one row and the default band, pool of
 * 1 and 2 threads, accumulation into non-zero gradients, NULL gradients),
 * backward against central finite differences, and against PyTorch fixtures
 * (tests/reference/ops_conv.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

typedef enum { OP_CONV, OP_DW, OP_CONVT } op_kind;

typedef struct {
  op_kind op;
  int N, Cin, H, W, Cout, kh, kw, stride, ph, pw, dil, groups, bias;
} spec;

/* Fast vs naive: the naive loops accumulate in double (forward) or float
 * (weight gradients over N*Hout*Wout terms), the fast ones in float. */
#define Y_ATOL 2e-4
#define Y_RTOL 1e-4
#define DW_ATOL 1e-3
#define DW_RTOL 1e-4

static int out_h(const spec *s) {
  return s->op == OP_CONVT ? hy_conv_transpose_out_size(s->H, s->kh, s->stride, s->ph)
                           : hy_conv_out_size(s->H, s->kh, s->stride, s->ph, s->dil);
}

static int out_w(const spec *s) {
  return s->op == OP_CONVT ? hy_conv_transpose_out_size(s->W, s->kw, s->stride, s->pw)
                           : hy_conv_out_size(s->W, s->kw, s->stride, s->pw, s->dil);
}

static size_t x_size(const spec *s) { return (size_t)s->N * s->Cin * s->H * s->W; }
static size_t y_size(const spec *s) {
  return (size_t)s->N * s->Cout * out_h(s) * out_w(s);
}
static size_t w_size(const spec *s) {
  return (size_t)s->Cout * s->Cin / (s->op == OP_CONVT ? 1 : s->groups) * s->kh * s->kw;
}

/* for the largest pool of these tests (3 threads) */
static size_t scratch_size(const spec *s) {
  switch (s->op) {
  case OP_CONV:
    return hy_conv_scratch(s->Cin, s->H, s->W, s->Cout, s->kh, s->kw, s->stride,
                           s->ph, s->pw, s->dil, s->groups, 3);
  case OP_DW:
    return 0;
  default:
    return hy_conv_transpose_scratch(s->Cin, s->H, s->W, s->Cout, s->kh, s->kw,
                                     s->stride, s->ph, s->pw, 3);
  }
}

static void forward(const spec *s, float *y, const float *x, const float *w,
                    const float *b, float *scratch, hy_pool *pool) {
  switch (s->op) {
  case OP_CONV:
    hy_conv_forward(y, x, w, b, s->N, s->Cin, s->H, s->W, s->Cout, s->kh, s->kw,
                    s->stride, s->ph, s->pw, s->dil, s->groups, scratch, pool);
    break;
  case OP_DW:
    hy_dwconv_forward(y, x, w, b, s->N, s->Cin, s->H, s->W, s->kh, s->stride,
                      s->ph, pool);
    break;
  default:
    hy_conv_transpose_forward(y, x, w, b, s->N, s->Cin, s->H, s->W, s->Cout,
                              s->kh, s->kw, s->stride, s->ph, s->pw, scratch, pool);
  }
}

static void backward(const spec *s, float *dx, float *dw, float *db,
                     const float *dy, const float *x, const float *w,
                     float *scratch, hy_pool *pool) {
  switch (s->op) {
  case OP_CONV:
    hy_conv_backward(dx, dw, db, dy, x, w, s->N, s->Cin, s->H, s->W, s->Cout,
                     s->kh, s->kw, s->stride, s->ph, s->pw, s->dil, s->groups,
                     scratch, pool);
    break;
  case OP_DW:
    hy_dwconv_backward(dx, dw, db, dy, x, w, s->N, s->Cin, s->H, s->W, s->kh,
                       s->stride, s->ph, pool);
    break;
  default:
    hy_conv_transpose_backward(dx, dw, db, dy, x, w, s->N, s->Cin, s->H, s->W,
                               s->Cout, s->kh, s->kw, s->stride, s->ph, s->pw,
                               scratch, pool);
  }
}

static void forward_naive(const spec *s, float *y, const float *x,
                          const float *w, const float *b) {
  switch (s->op) {
  case OP_CONV:
    hy_conv_forward_naive(y, x, w, b, s->N, s->Cin, s->H, s->W, s->Cout, s->kh,
                          s->kw, s->stride, s->ph, s->pw, s->dil, s->groups);
    break;
  case OP_DW:
    hy_dwconv_forward_naive(y, x, w, b, s->N, s->Cin, s->H, s->W, s->kh,
                            s->stride, s->ph);
    break;
  default:
    hy_conv_transpose_forward_naive(y, x, w, b, s->N, s->Cin, s->H, s->W,
                                    s->Cout, s->kh, s->kw, s->stride, s->ph, s->pw);
  }
}

static void backward_naive(const spec *s, float *dx, float *dw, float *db,
                           const float *dy, const float *x, const float *w) {
  switch (s->op) {
  case OP_CONV:
    hy_conv_backward_naive(dx, dw, db, dy, x, w, s->N, s->Cin, s->H, s->W,
                           s->Cout, s->kh, s->kw, s->stride, s->ph, s->pw,
                           s->dil, s->groups);
    break;
  case OP_DW:
    hy_dwconv_backward_naive(dx, dw, db, dy, x, w, s->N, s->Cin, s->H, s->W,
                             s->kh, s->stride, s->ph);
    break;
  default:
    hy_conv_transpose_backward_naive(dx, dw, db, dy, x, w, s->N, s->Cin, s->H,
                                     s->W, s->Cout, s->kh, s->kw, s->stride,
                                     s->ph, s->pw);
  }
}

static char *describe(const spec *s) {
  static const char *const names[] = {"conv", "dwconv", "conv_transpose"};
  return g_strdup_printf("%s N%d %d->%d %dx%d k%dx%d s%d p%d,%d d%d g%d%s",
                         names[s->op], s->N, s->Cin, s->Cout, s->H, s->W, s->kh,
                         s->kw, s->stride, s->ph, s->pw, s->dil, s->groups,
                         s->bias ? " bias" : "");
}

/* Scratch is filled with NaN: an op must not read what it did not write. */
static float *new_scratch(const spec *s) {
  size_t n = scratch_size(s) + 1;
  float *p = g_new(float, n);
  for (size_t i = 0; i < n; i++) p[i] = NAN;
  return p;
}

static void assert_same(const char *what, const float *a, const float *b, size_t n) {
  if (memcmp(a, b, n * sizeof(float)))
    g_error("%s: results differ between pool thread counts", what);
}

/* One shape: fast (pool NULL, 2 and 3 threads) vs naive, forward and
 * backward (3 threads: forward only). */
static void check_vs_naive(const spec *s, tu_rng *rng, hy_pool *pool2, hy_pool *pool3) {
  g_autofree char *name = describe(s);
  size_t nx = x_size(s), ny = y_size(s), nw = w_size(s), nb = (size_t)s->Cout;
  float *x = g_new(float, nx), *w = g_new(float, nw), *b = g_new(float, nb);
  float *dy = g_new(float, ny), *y0 = g_new(float, ny), *y1 = g_new(float, ny);
  float *y2 = g_new(float, ny);
  tu_fill(rng, x, nx, -1, 1);
  tu_fill(rng, w, nw, -0.5f, 0.5f);
  tu_fill(rng, b, nb, -0.5f, 0.5f);
  tu_fill(rng, dy, ny, -1, 1);
  const float *bp = s->bias ? b : NULL;

  float *scratch = new_scratch(s);
  forward_naive(s, y0, x, w, bp);
  forward(s, y1, x, w, bp, scratch, NULL);
  forward(s, y2, x, w, bp, scratch, pool2);
  g_autofree char *yname = g_strdup_printf("%s: y", name);
  tu_assert_close(yname, y1, y0, ny, Y_ATOL, Y_RTOL);
  assert_same(yname, y1, y2, ny);
  forward(s, y2, x, w, bp, scratch, pool3);
  assert_same(yname, y1, y2, ny);
  if (s->op != OP_DW) { /* with the ReLU: fused or a pass of its own, the same numbers */
    if (s->op == OP_CONV)
      hy_conv_relu_forward(y2, x, w, bp, s->N, s->Cin, s->H, s->W, s->Cout, s->kh, s->kw,
                           s->stride, s->ph, s->pw, s->dil, s->groups, scratch, pool2);
    else
      hy_conv_transpose_relu_forward(y2, x, w, bp, s->N, s->Cin, s->H, s->W, s->Cout, s->kh,
                                     s->kw, s->stride, s->ph, s->pw, scratch, pool2);
    for (size_t i = 0; i < ny; i++) y1[i] = y1[i] < 0 ? 0 : y1[i];
    assert_same(yname, y1, y2, ny);
  }

  /* gradients start non-zero: backward must add to them */
  float *g0 = g_new(float, nx + nw + nb), *g1 = g_new(float, nx + nw + nb);
  float *g2 = g_new(float, nx + nw + nb), *g3 = g_new(float, nx + nw + nb);
  tu_fill(rng, g0, nx + nw + nb, -1, 1);
  memcpy(g1, g0, (nx + nw + nb) * sizeof(float));
  memcpy(g2, g0, (nx + nw + nb) * sizeof(float));
  memcpy(g3, g0, (nx + nw + nb) * sizeof(float));
  backward_naive(s, g0, g0 + nx, g0 + nx + nw, dy, x, w);
  backward(s, g1, g1 + nx, g1 + nx + nw, dy, x, w, scratch, NULL);
  backward(s, g2, g2 + nx, g2 + nx + nw, dy, x, w, scratch, pool2);
  g_autofree char *dxname = g_strdup_printf("%s: dx", name);
  g_autofree char *dwname = g_strdup_printf("%s: dw", name);
  g_autofree char *dbname = g_strdup_printf("%s: db", name);
  tu_assert_close(dxname, g1, g0, nx, Y_ATOL, Y_RTOL);
  tu_assert_close(dwname, g1 + nx, g0 + nx, nw, DW_ATOL, DW_RTOL);
  tu_assert_close(dbname, g1 + nx + nw, g0 + nx + nw, nb, DW_ATOL, DW_RTOL);
  assert_same(dxname, g1, g2, nx + nw + nb);

  /* each gradient alone (the others NULL) gives the same numbers */
  backward(s, g3, NULL, NULL, dy, x, w, scratch, NULL);
  backward(s, NULL, g3 + nx, NULL, dy, x, w, scratch, NULL);
  backward(s, NULL, NULL, g3 + nx + nw, dy, x, w, scratch, NULL);
  assert_same(dxname, g1, g3, nx + nw + nb);

  g_free(g0), g_free(g1), g_free(g2), g_free(g3);
  g_free(scratch);
  g_free(x), g_free(w), g_free(b), g_free(dy), g_free(y0), g_free(y1), g_free(y2);
}

/* Runs every shape with the default band and with one-row bands. */
static void check_shapes(const spec *shapes, int n, tu_rng *rng) {
  hy_pool *pool2 = tu_pool_new(2), *pool3 = tu_pool_new(3);
  /* the kernels this CPU picks, then the AVX2 ones; each with the default
   * band and one-row bands */
  for (int run = 0; run < 4; run++) {
    hy_conv_winograd_set_avx2(run / 2);
    hy_conv_set_band_floats(run % 2);
    for (int i = 0; i < n; i++) check_vs_naive(&shapes[i], rng, pool2, pool3);
  }
  hy_conv_set_band_floats(0);
  hy_pool_destroy(pool2);
  hy_pool_destroy(pool3);
}

static spec conv_spec(int N, int Cin, int H, int W, int Cout, int kh, int kw,
                      int s, int ph, int pw, int d, int g, int bias) {
  return (spec){OP_CONV, N, Cin, H, W, Cout, kh, kw, s, ph, pw, d, g, bias};
}

static void test_conv_vs_naive(void) {
  spec shapes[40];
  int n = 0;
  /*                         N Cin  H   W Cout kh kw s ph pw d  g b */
  shapes[n++] = conv_spec(1, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1);
  shapes[n++] = conv_spec(2, 5, 13, 11, 7, 3, 3, 2, 1, 1, 1, 1, 0);
  shapes[n++] = conv_spec(1, 4, 13, 11, 6, 3, 3, 1, 2, 2, 2, 1, 0); /* ARM */
  shapes[n++] = conv_spec(2, 6, 9, 7, 4, 1, 1, 1, 0, 0, 1, 1, 1);   /* 1x1 */
  shapes[n++] = conv_spec(2, 6, 9, 7, 4, 1, 1, 1, 0, 0, 1, 2, 0);   /* 1x1 g2 */
  shapes[n++] = conv_spec(1, 6, 9, 7, 4, 1, 1, 2, 0, 0, 1, 2, 1);   /* 1x1 s2 */
  shapes[n++] = conv_spec(1, 3, 13, 11, 4, 4, 4, 2, 1, 1, 1, 1, 1); /* patch */
  shapes[n++] = conv_spec(2, 3, 14, 12, 5, 4, 4, 2, 1, 1, 1, 1, 1); /* patch, parities */
  shapes[n++] = conv_spec(1, 2, 13, 11, 1, 7, 7, 1, 3, 3, 1, 1, 0); /* CBAM */
  shapes[n++] = conv_spec(2, 6, 11, 13, 9, 5, 5, 1, 2, 2, 1, 3, 1);
  shapes[n++] = conv_spec(1, 4, 9, 7, 4, 3, 3, 1, 1, 1, 1, 4, 1);   /* -> dw */
  shapes[n++] = conv_spec(2, 5, 13, 11, 5, 3, 3, 2, 1, 1, 1, 5, 0); /* -> dw s2 */
  shapes[n++] = conv_spec(1, 4, 9, 7, 4, 3, 3, 1, 2, 2, 2, 4, 1);   /* dw, d2 */
  shapes[n++] = conv_spec(1, 4, 9, 7, 8, 3, 3, 1, 1, 1, 1, 4, 0);   /* g4 x2 */
  shapes[n++] = conv_spec(1, 3, 9, 10, 5, 3, 3, 2, 3, 3, 1, 1, 1);  /* pad 3 */
  shapes[n++] = conv_spec(1, 3, 9, 11, 4, 3, 5, 1, 1, 2, 1, 1, 1);  /* 3x5 */
  shapes[n++] = conv_spec(2, 10, 37, 29, 12, 3, 3, 1, 1, 1, 1, 1, 1);
  shapes[n++] = conv_spec(1, 3, 8, 8, 2, 5, 5, 1, 0, 0, 1, 1, 0);
  shapes[n++] = conv_spec(1, 2, 9, 9, 3, 3, 3, 3, 0, 0, 1, 1, 1);   /* s3 gaps */
  shapes[n++] = conv_spec(1, 200, 30, 61, 13, 3, 3, 1, 2, 2, 2, 1, 1); /* direct, 3 bands */
  shapes[n++] = conv_spec(2, 12, 30, 27, 13, 3, 3, 1, 1, 1, 1, 1, 1); /* Winograd y and dx */
  shapes[n++] = conv_spec(1, 5, 9, 100, 11, 3, 3, 1, 2, 2, 2, 1, 1); /* direct: rows > a tile */
  shapes[n++] = conv_spec(1, 7, 6, 50, 20, 2, 2, 1, 0, 0, 1, 1, 0);  /* direct 2x2, 3 blocks */
  shapes[n++] = conv_spec(2, 9, 11, 9, 70, 3, 3, 2, 1, 1, 1, 1, 1);  /* GEMM split into row tasks */
  /* random ones */
  tu_rng rng = tu_rng_new(11);
  static const int ks[] = {1, 3, 4, 5, 7};
  while (n < 30) {
    spec s = {OP_CONV};
    s.N = tu_int(&rng, 1, 2);
    s.groups = tu_int(&rng, 1, 3);
    s.Cin = s.groups * tu_int(&rng, 1, 4);
    s.Cout = s.groups * tu_int(&rng, 1, 4);
    s.kh = s.kw = ks[tu_int(&rng, 0, 4)];
    s.stride = tu_int(&rng, 1, 2);
    s.dil = tu_int(&rng, 1, 2);
    s.ph = tu_int(&rng, 0, 3);
    s.pw = tu_int(&rng, 0, 3);
    s.H = tu_int(&rng, 5, 17);
    s.W = tu_int(&rng, 5, 17);
    s.bias = tu_int(&rng, 0, 1);
    if (out_h(&s) < 1 || out_w(&s) < 1) continue;
    shapes[n++] = s;
  }
  /* the direct kernels this CPU picks, then the AVX2 ones (the same on
   * a CPU without AVX-512) */
  for (int avx2 = 0; avx2 < 2; avx2++) {
    hy_conv_direct_set_avx2(avx2);
    check_shapes(shapes, n, &rng);
  }
  hy_conv_direct_set_avx2(0);
}

/* Winograd F(4x4, 3x3) on its own, against the naive conv and the direct
 * kernel it stands in for: random shapes around the tile and vector sizes
 * (odd sizes, partial tiles and vectors, several vectors per tile row),
 * padding 0-2, with and without bias, with the fused ReLU, accumulating
 * onto non-zero values, one-row bands and the default band, 1 and 2
 * threads bit for bit. */
/* pool2 and pool3: 2 and 3 threads */
static void check_winograd(int Cin, int H, int W, int Cout, int pad, int bias, hy_pool *pool2,
                           hy_pool *pool3, tu_rng *rng) {
  int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  g_assert_true(hy_conv_winograd_fits(Cin, Cout, 3, 1, 1, 1, Ho, Wo));
  g_autofree char *name = g_strdup_printf("winograd %d->%d %dx%d p%d%s", Cin, Cout, H, W, pad,
                                          bias ? " bias" : "");
  size_t nx = (size_t)Cin * H * W, ny = (size_t)Cout * Ho * Wo, nw = (size_t)Cout * Cin * 9;
  float *x = tu_random(rng, nx, -1, 1), *w = tu_random(rng, nw, -0.5f, 0.5f);
  float *b = bias ? tu_random(rng, (size_t)Cout, -0.5f, 0.5f) : NULL;
  float *y0 = g_new(float, ny), *y1 = g_new(float, ny), *y2 = g_new(float, ny);
  size_t ns = hy_conv_winograd_scratch(Cin, H, W, Cout, pad, 3) + 1;
  size_t nd = hy_conv_direct_scratch(Cin, H, W, Cout, 3, pad, 1, 3) + 1;
  float *scratch = g_new(float, ns > nd ? ns : nd);
  for (size_t i = 0; i < ns; i++) scratch[i] = NAN;
  hy_conv_forward_naive(y0, x, w, b, 1, Cin, H, W, Cout, 3, 3, 1, pad, pad, 1, 1);
  hy_conv_winograd_forward(y1, x, w, b, Cin, H, W, Cout, pad, 0, 0, scratch, NULL);
  tu_assert_close(name, y1, y0, ny, Y_ATOL, Y_RTOL);
  hy_conv_winograd_forward(y2, x, w, b, Cin, H, W, Cout, pad, 0, 0, scratch, pool2);
  assert_same(name, y1, y2, ny);
  hy_conv_winograd_forward(y2, x, w, b, Cin, H, W, Cout, pad, 0, 0, scratch, pool3);
  assert_same(name, y1, y2, ny);
  if (hy_conv_direct_fits(Cin, Cout, 3, 1, 1)) {
    hy_conv_direct_forward(y2, x, w, b, Cin, H, W, Cout, 3, pad, 1, 0, 0, scratch, NULL);
    tu_assert_close(name, y1, y2, ny, Y_ATOL, Y_RTOL);
  }
  /* relu: clamped at 0 in the same pass */
  hy_conv_winograd_forward(y2, x, w, b, Cin, H, W, Cout, pad, 0, 1, scratch, pool2);
  for (size_t i = 0; i < ny; i++) y0[i] = y0[i] > 0 ? y0[i] : 0;
  g_autofree char *relu = g_strdup_printf("%s relu", name);
  tu_assert_close(relu, y2, y0, ny, Y_ATOL, Y_RTOL);
  /* accumulate: y += conv(x, w), the bias left out */
  tu_fill(rng, y1, ny, -1, 1);
  memcpy(y2, y1, ny * sizeof *y2);
  hy_conv_forward_naive(y0, x, w, NULL, 1, Cin, H, W, Cout, 3, 3, 1, pad, pad, 1, 1);
  for (size_t i = 0; i < ny; i++) y0[i] += y1[i];
  hy_conv_winograd_forward(y1, x, w, b, Cin, H, W, Cout, pad, 1, 0, scratch, pool2);
  g_autofree char *acc = g_strdup_printf("%s accumulated", name);
  tu_assert_close(acc, y1, y0, ny, Y_ATOL, Y_RTOL);
  g_free(x), g_free(w), g_free(b), g_free(y0), g_free(y1), g_free(y2), g_free(scratch);
}

static void test_winograd_vs_naive(void) {
  if (!hy_conv_winograd_fits(16, 16, 3, 1, 1, 1, 32, 32)) {
    g_test_skip("the CPU has no AVX2 and FMA");
    return;
  }
  tu_rng rng = tu_rng_new(15);
  hy_pool *pool2 = tu_pool_new(2), *pool3 = tu_pool_new(3);
  /* the kernels this CPU picks, then the AVX2 ones; each with the default
   * band and one-row bands */
  for (int run = 0; run < 4; run++) {
    hy_conv_winograd_set_avx2(run / 2);
    hy_conv_set_band_floats(run % 2);
    /* the network's kinds: head 3 (59 -> 16), the widest (128) */
    check_winograd(59, 30, 70, 16, 1, 1, pool2, pool3, &rng);
    check_winograd(128, 26, 24, 128, 1, 1, pool2, pool3, &rng);
    check_winograd(32, 33, 65, 32, 1, 0, pool2, pool3, &rng);
    for (int i = 0; i < 24; i++) {
      int pad = tu_int(&rng, 0, 2);
      check_winograd(tu_int(&rng, 12, 30), tu_int(&rng, 26 - 2 * pad, 50),
                     tu_int(&rng, 26 - 2 * pad, 80), tu_int(&rng, 12, 30), pad,
                     tu_int(&rng, 0, 1), pool2, pool3, &rng);
    }
  }
  hy_conv_set_band_floats(0);
  hy_conv_winograd_set_avx2(0);
  hy_pool_destroy(pool2);
  hy_pool_destroy(pool3);
}

static spec dw_spec(int N, int C, int H, int W, int k, int s, int p, int bias) {
  return (spec){OP_DW, N, C, H, W, C, k, k, s, p, p, 1, C, bias};
}

static void test_dwconv_vs_naive(void) {
  spec shapes[] = {
      dw_spec(2, 5, 9, 8, 3, 1, 1, 1),     dw_spec(1, 3, 13, 11, 5, 1, 2, 0),
      dw_spec(1, 4, 7, 9, 7, 1, 3, 1),     dw_spec(1, 3, 13, 11, 3, 2, 1, 0),
      dw_spec(2, 3, 13, 11, 5, 2, 2, 1),   dw_spec(1, 2, 11, 9, 7, 2, 3, 0),
      dw_spec(1, 3, 9, 7, 3, 1, 0, 1),     dw_spec(1, 2, 9, 7, 3, 1, 3, 0),
      dw_spec(1, 2, 8, 8, 4, 1, 1, 1),     dw_spec(1, 2, 12, 13, 9, 3, 4, 0),
      dw_spec(1, 1, 4, 3, 5, 1, 2, 1),     dw_spec(1, 3, 64, 52, 3, 1, 1, 1),
      dw_spec(1, 2, 33, 41, 5, 1, 2, 1),   dw_spec(2, 2, 31, 27, 7, 2, 3, 1),
      dw_spec(1, 1, 20, 20, 17, 1, 8, 1),  dw_spec(1, 2, 9, 9, 1, 1, 0, 1),
  };
  tu_rng rng = tu_rng_new(12);
  check_shapes(shapes, (int)G_N_ELEMENTS(shapes), &rng);
}

static spec convt_spec(int N, int Cin, int H, int W, int Cout, int k, int s,
                       int p, int bias) {
  return (spec){OP_CONVT, N, Cin, H, W, Cout, k, k, s, p, p, 1, 1, bias};
}

static void test_conv_transpose_vs_naive(void) {
  spec shapes[] = {
      convt_spec(1, 4, 5, 6, 3, 4, 2, 1, 1), convt_spec(2, 3, 7, 9, 5, 4, 2, 1, 0),
      convt_spec(1, 2, 5, 4, 3, 3, 1, 1, 1), convt_spec(1, 3, 4, 5, 2, 3, 2, 0, 0),
      convt_spec(1, 5, 13, 11, 4, 4, 2, 1, 1), convt_spec(1, 2, 6, 5, 3, 2, 3, 0, 1),
      convt_spec(2, 9, 12, 10, 10, 4, 2, 1, 0),
      /* forward as one Winograd 3x3 conv with 4 Cout outputs */
      convt_spec(1, 12, 26, 29, 5, 4, 2, 1, 1), convt_spec(2, 13, 24, 25, 32, 4, 2, 1, 0),
  };
  tu_rng rng = tu_rng_new(13);
  check_shapes(shapes, (int)G_N_ELEMENTS(shapes), &rng);
}

/* Finite differences. The ops are linear in each of x, w and b, so central
 * differences have no truncation error; only float rounding of the forward
 * outputs remains: eps 1e-2 on inputs ~U(-1, 1), atol 1e-3, rtol 1e-2. */
typedef struct {
  const spec *s;
  float *x, *w, *b, *y, *r, *scratch;
} fd_ctx;

static double fd_loss(void *p) {
  fd_ctx *c = p;
  forward(c->s, c->y, c->x, c->w, c->s->bias ? c->b : NULL, c->scratch, NULL);
  return tu_dot(c->y, c->r, y_size(c->s));
}

static void check_fd(const spec *s, tu_rng *rng) {
  g_autofree char *name = describe(s);
  size_t nx = x_size(s), ny = y_size(s), nw = w_size(s), nb = (size_t)s->Cout;
  fd_ctx c = {s, g_new(float, nx), g_new(float, nw), g_new(float, nb),
              g_new(float, ny), g_new(float, ny), new_scratch(s)};
  tu_fill(rng, c.x, nx, -1, 1);
  tu_fill(rng, c.w, nw, -1, 1);
  tu_fill(rng, c.b, nb, -1, 1);
  tu_fill(rng, c.r, ny, -1, 1);
  float *dx = g_new0(float, nx), *dw = g_new0(float, nw), *db = g_new0(float, nb);
  backward(s, dx, dw, s->bias ? db : NULL, c.r, c.x, c.w, c.scratch, NULL);
  tu_gradcheck opts = {.eps = 1e-2, .atol = 1e-3, .rtol = 1e-2, .max_probes = 48};
  g_autofree char *xn = g_strdup_printf("%s: d/dx", name);
  g_autofree char *wn = g_strdup_printf("%s: d/dw", name);
  g_autofree char *bn = g_strdup_printf("%s: d/db", name);
  tu_check_grad(xn, c.x, dx, nx, fd_loss, &c, &opts);
  tu_check_grad(wn, c.w, dw, nw, fd_loss, &c, &opts);
  if (s->bias) tu_check_grad(bn, c.b, db, nb, fd_loss, &c, &opts);
  g_free(dx), g_free(dw), g_free(db);
  g_free(c.x), g_free(c.w), g_free(c.b), g_free(c.y), g_free(c.r), g_free(c.scratch);
}

static void test_finite_differences(void) {
  const spec shapes[] = {
      conv_spec(2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1),
      conv_spec(1, 4, 9, 7, 4, 3, 3, 2, 2, 2, 2, 2, 1),
      conv_spec(1, 4, 6, 5, 6, 1, 1, 1, 0, 0, 1, 1, 1),
      conv_spec(1, 3, 11, 10, 2, 4, 4, 2, 1, 1, 1, 1, 1),
      conv_spec(1, 2, 9, 11, 1, 7, 7, 1, 3, 3, 1, 1, 0),
      dw_spec(2, 3, 9, 8, 3, 1, 1, 1),
      dw_spec(1, 2, 11, 9, 5, 2, 2, 1),
      dw_spec(1, 2, 9, 10, 7, 1, 3, 1),
      convt_spec(1, 3, 5, 6, 2, 4, 2, 1, 1),
  };
  tu_rng rng = tu_rng_new(14);
  hy_conv_set_band_floats(1);
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) check_fd(&shapes[i], &rng);
  hy_conv_set_band_floats(0);
}

/* PyTorch fixtures: references computed in float64 from the float32 inputs;
 * ours accumulate in float over at most ~200 terms: atol 2e-5, rtol 1e-4. */
static void check_fixture(const char *which) {
  g_autofree char *file = g_strdup_printf("ops/conv-%s.hyatt", which);
  hy_tensorfile *tf = tu_fixture(file);
  const char *op = hy_tensorfile_meta(tf, "op");
  g_assert_nonnull(op);
  spec s = {strcmp(op, "conv_transpose") ? OP_CONV : OP_CONVT,
            tu_meta_int(tf, "N"), tu_meta_int(tf, "Cin"), tu_meta_int(tf, "H"),
            tu_meta_int(tf, "W"), tu_meta_int(tf, "Cout"), tu_meta_int(tf, "kh"),
            tu_meta_int(tf, "kw"), tu_meta_int(tf, "stride"), tu_meta_int(tf, "ph"),
            tu_meta_int(tf, "pw"), tu_meta_int(tf, "dil"), tu_meta_int(tf, "groups"),
            tu_meta_int(tf, "bias")};
  size_t nx = x_size(&s), ny = y_size(&s), nw = w_size(&s), nb = (size_t)s.Cout;
  const float *x = tu_f32(tf, "x", nx), *w = tu_f32(tf, "w", nw);
  const float *b = s.bias ? tu_f32(tf, "b", nb) : NULL;
  float *y = g_new(float, ny), *scratch = new_scratch(&s);
  float *dx = g_new0(float, nx), *dw = g_new0(float, nw), *db = g_new0(float, nb);
  forward(&s, y, x, w, b, scratch, NULL);
  backward(&s, dx, dw, s.bias ? db : NULL, tu_f32(tf, "dy", ny), x, w, scratch, NULL);
  g_autofree char *yn = g_strdup_printf("%s: y", file);
  g_autofree char *dxn = g_strdup_printf("%s: dx", file);
  g_autofree char *dwn = g_strdup_printf("%s: dw", file);
  g_autofree char *dbn = g_strdup_printf("%s: db", file);
  tu_assert_close(yn, y, tu_f32(tf, "y", ny), ny, 2e-5, 1e-4);
  tu_assert_close(dxn, dx, tu_f32(tf, "dx", nx), nx, 2e-5, 1e-4);
  tu_assert_close(dwn, dw, tu_f32(tf, "dw", nw), nw, 2e-5, 1e-4);
  if (s.bias) tu_assert_close(dbn, db, tu_f32(tf, "db", nb), nb, 2e-5, 1e-4);
  g_free(y), g_free(scratch), g_free(dx), g_free(dw), g_free(db);
  hy_tensorfile_free(tf);
}

static void test_pytorch(void) {
  static const char *const cases[] = {"3x3", "patch4s2", "dil2", "1x1",
                                      "cbam7", "dw3", "dw5", "convT4s2"};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) check_fixture(cases[i]);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/conv/conv-vs-naive", test_conv_vs_naive);
  g_test_add_func("/conv/winograd-vs-naive", test_winograd_vs_naive);
  g_test_add_func("/conv/dwconv-vs-naive", test_dwconv_vs_naive);
  g_test_add_func("/conv/conv-transpose-vs-naive", test_conv_transpose_vs_naive);
  g_test_add_func("/conv/finite-differences", test_finite_differences);
  g_test_add_func("/conv/pytorch", test_pytorch);
  return g_test_run();
}
