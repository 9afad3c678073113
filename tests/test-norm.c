/* Linear (and its small-K GEMM), BatchNorm2d, LayerNorm and the fused inference MLP: fast kernels vs the naive references on
 * odd shapes (with and without a pool), backward vs finite differences for
 * every input and parameter, BN running statistics and folding, and
 * PyTorch fixtures (tests/reference/ops_norm.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

static const int Ts[] = {1, 7, 37, 1000};
static const int Cs[] = {1, 3, 8, 40, 129};

/* ---- linear ---- */

static void test_linear_fast_vs_naive(void) {
  tu_rng r = tu_rng_new(1);
  for (size_t ti = 0; ti < G_N_ELEMENTS(Ts); ti++)
    for (size_t a = 0; a < G_N_ELEMENTS(Cs); a++)
      for (size_t b = 0; b < G_N_ELEMENTS(Cs); b += 2) {
        int T = Ts[ti], Cin = Cs[a], Cout = Cs[(a + b) % G_N_ELEMENTS(Cs)];
        gboolean bias = (a + b) % 2 == 0;
        size_t nx = (size_t)T * Cin, ny = (size_t)T * Cout, nw = (size_t)Cout * Cin;
        float *x = tu_random(&r, nx, -1, 1), *w = tu_random(&r, nw, -1, 1);
        float *bb = bias ? tu_random(&r, Cout, -1, 1) : NULL;
        float *y = g_new(float, ny), *y0 = g_new(float, ny);
        hy_linear_forward(y, x, w, bb, T, Cin, Cout);
        hy_linear_forward_naive(y0, x, w, bb, T, Cin, Cout);
        tu_assert_close("linear y", y, y0, ny, 1e-5, 1e-5);
        /* gradients accumulate onto what is already there */
        float *dy = tu_random(&r, ny, -1, 1);
        float *dx = tu_random(&r, nx, -1, 1), *dw = tu_random(&r, nw, -1, 1),
              *db = tu_random(&r, Cout, -1, 1);
        float *dx0 = tu_copy(dx, nx), *dw0 = tu_copy(dw, nw), *db0 = tu_copy(db, Cout);
        hy_linear_backward(dx, dw, db, dy, x, w, T, Cin, Cout);
        hy_linear_backward_naive(dx0, dw0, db0, dy, x, w, T, Cin, Cout);
        tu_assert_close("linear dx", dx, dx0, nx, 1e-5, 1e-5);
        tu_assert_close("linear dw", dw, dw0, nw, 1e-4, 1e-5);
        tu_assert_close("linear db", db, db0, Cout, 1e-4, 1e-5);
        /* NULL gradients are skipped */
        hy_linear_backward(NULL, NULL, db, dy, x, w, T, Cin, Cout);
        hy_linear_backward_naive(NULL, NULL, db0, dy, x, w, T, Cin, Cout);
        tu_assert_close("linear db only", db, db0, Cout, 1e-4, 1e-5);
        g_free(x), g_free(w), g_free(bb), g_free(y), g_free(y0), g_free(dy);
        g_free(dx), g_free(dw), g_free(db), g_free(dx0), g_free(dw0), g_free(db0);
      }
}

typedef struct {
  float *y, *x, *w, *b, *r;
  int T, Cin, Cout;
} linear_ctx;

static double linear_loss(void *p) {
  linear_ctx *c = p;
  hy_linear_forward(c->y, c->x, c->w, c->b, c->T, c->Cin, c->Cout);
  return tu_dot(c->y, c->r, (size_t)c->T * c->Cout);
}

static void test_linear_grad(void) {
  tu_rng r = tu_rng_new(2);
  linear_ctx c = {.T = 5, .Cin = 7, .Cout = 3};
  size_t nx = 35, nw = 21, ny = 15;
  c.x = tu_random(&r, nx, -1, 1), c.w = tu_random(&r, nw, -1, 1), c.b = tu_random(&r, 3, -1, 1);
  c.r = tu_random(&r, ny, -1, 1), c.y = g_new(float, ny);
  float *dx = g_new0(float, nx), *dw = g_new0(float, nw), *db = g_new0(float, 3);
  hy_linear_backward(dx, dw, db, c.r, c.x, c.w, c.T, c.Cin, c.Cout);
  tu_check_grad("linear dx", c.x, dx, nx, linear_loss, &c, NULL);
  tu_check_grad("linear dw", c.w, dw, nw, linear_loss, &c, NULL);
  tu_check_grad("linear db", c.b, db, 3, linear_loss, &c, NULL);
  g_free(c.x), g_free(c.w), g_free(c.b), g_free(c.r), g_free(c.y);
  g_free(dx), g_free(dw), g_free(db);
}

static void check_linear_fixture(const char *name) {
  hy_tensorfile *tf = tu_fixture(name);
  int T = tu_meta_int(tf, "T"), Cin = tu_meta_int(tf, "Cin"), Cout = tu_meta_int(tf, "Cout");
  gboolean bias = tu_meta_int(tf, "bias");
  size_t nx = (size_t)T * Cin, ny = (size_t)T * Cout, nw = (size_t)Cout * Cin;
  const float *x = tu_f32(tf, "x", nx), *w = tu_f32(tf, "w", nw), *dy = tu_f32(tf, "dy", ny);
  const float *b = bias ? tu_f32(tf, "b", Cout) : NULL;
  float *y = g_new(float, ny), *dx = g_new0(float, nx), *dw = g_new0(float, nw),
        *db = g_new0(float, Cout);
  hy_linear_forward(y, x, w, b, T, Cin, Cout);
  hy_linear_backward(dx, dw, bias ? db : NULL, dy, x, w, T, Cin, Cout);
  /* float32 sums of a few terms vs float64 PyTorch */
  tu_assert_close("fixture linear y", y, tu_f32(tf, "y", ny), ny, 1e-6, 1e-5);
  tu_assert_close("fixture linear dx", dx, tu_f32(tf, "dx", nx), nx, 1e-6, 1e-5);
  tu_assert_close("fixture linear dw", dw, tu_f32(tf, "dw", nw), nw, 1e-6, 1e-5);
  if (bias) tu_assert_close("fixture linear db", db, tu_f32(tf, "db", Cout), Cout, 1e-6, 1e-5);
  g_free(y), g_free(dx), g_free(dw), g_free(db);
  hy_tensorfile_free(tf);
}

static void test_linear_fixture(void) {
  check_linear_fixture("ops/norm-linear.hyatt");
  check_linear_fixture("ops/norm-linear-nobias.hyatt");
}

/* ---- batchnorm ---- */

static void test_batchnorm_fast_vs_naive(void) {
  tu_rng r = tu_rng_new(3);
  static const int HWs[] = {2, 7, 37, 1000};
  hy_pool *pool2 = tu_pool_new(2);
  for (int N = 1; N <= 3; N += 2)
    for (size_t ci = 0; ci < 4; ci++)
      for (size_t hi = 0; hi < G_N_ELEMENTS(HWs); hi++) {
        int C = Cs[ci], HW = HWs[hi];
        hy_pool *pool = (ci + hi) % 2 ? pool2 : NULL;
        gboolean affine = ci != 1;
        size_t n = (size_t)N * C * HW;
        /* per-channel offsets well above the spread: variance by cancellation would fail */
        float *x = tu_random(&r, n, -1, 1);
        for (size_t i = 0; i < n; i++) x[i] += 20.0f * (float)((i / HW) % C) - 15.0f;
        float *w = affine ? tu_random(&r, C, 0.5f, 1.5f) : NULL;
        float *b = affine ? tu_random(&r, C, -1, 1) : NULL;
        float *rm = tu_random(&r, C, -1, 1), *rv = tu_random(&r, C, 0.5f, 2);
        float *rm0 = tu_copy(rm, C), *rv0 = tu_copy(rv, C);
        float *y = g_new(float, n), *y0 = g_new(float, n);
        float *mean = g_new(float, C), *rstd = g_new(float, C);
        float *mean0 = g_new(float, C), *rstd0 = g_new(float, C);
        hy_batchnorm_forward_train(y, mean, rstd, rm, rv, x, w, b, N, C, HW,
                                   1e-5f, 0.1f, pool);
        hy_batchnorm_forward_train_naive(y0, mean0, rstd0, rm0, rv0, x, w, b, N,
                                         C, HW, 1e-5f, 0.1f);
        tu_assert_close("bn train y", y, y0, n, 2e-5, 1e-5);
        tu_assert_close("bn mean", mean, mean0, C, 1e-6, 1e-6);
        tu_assert_close("bn rstd", rstd, rstd0, C, 0, 1e-5);
        tu_assert_close("bn running_mean", rm, rm0, C, 1e-6, 1e-6);
        tu_assert_close("bn running_var", rv, rv0, C, 0, 1e-5);

        float *dy = tu_random(&r, n, -1, 1), *dx = tu_random(&r, n, -1, 1);
        float *dw = tu_random(&r, C, -1, 1), *db = tu_random(&r, C, -1, 1);
        float *dx0 = tu_copy(dx, n), *dw0 = tu_copy(dw, C), *db0 = tu_copy(db, C);
        hy_batchnorm_backward_train(dx, dw, db, dy, x, mean, rstd, w, N, C, HW, pool);
        hy_batchnorm_backward_train_naive(dx0, dw0, db0, dy, x, mean, rstd, w, N, C, HW);
        tu_assert_close("bn train dx", dx, dx0, n, 1e-5, 1e-4);
        tu_assert_close("bn train dweight", dw, dw0, C, 1e-4, 1e-5);
        tu_assert_close("bn train dbias", db, db0, C, 1e-4, 1e-5);

        hy_batchnorm_forward_eval(y, x, rm, rv, w, b, N, C, HW, 1e-5f, pool);
        hy_batchnorm_forward_eval_naive(y0, x, rm, rv, w, b, N, C, HW, 1e-5f);
        tu_assert_close("bn eval y", y, y0, n, 1e-5, 1e-5);
        hy_batchnorm_backward_eval(dx, dw, db, dy, x, rm, rv, w, N, C, HW, 1e-5f, pool);
        hy_batchnorm_backward_eval_naive(dx0, dw0, db0, dy, x, rm, rv, w, N, C, HW, 1e-5f);
        tu_assert_close("bn eval dx", dx, dx0, n, 1e-5, 1e-4);
        tu_assert_close("bn eval dweight", dw, dw0, C, 1e-3, 1e-5);
        tu_assert_close("bn eval dbias", db, db0, C, 1e-4, 1e-5);
        /* FrozenBatchNorm2d: no parameter gradients, x not read */
        hy_batchnorm_backward_eval(dx, NULL, NULL, dy, NULL, rm, rv, w, N, C, HW, 1e-5f, pool);
        hy_batchnorm_backward_eval_naive(dx0, NULL, NULL, dy, NULL, rm, rv, w, N, C, HW, 1e-5f);
        tu_assert_close("bn frozen dx", dx, dx0, n, 1e-5, 1e-4);

        g_free(x), g_free(w), g_free(b), g_free(rm), g_free(rv), g_free(rm0);
        g_free(rv0), g_free(y), g_free(y0), g_free(mean), g_free(rstd);
        g_free(mean0), g_free(rstd0), g_free(dy), g_free(dx), g_free(dw);
        g_free(db), g_free(dx0), g_free(dw0), g_free(db0);
      }
  hy_pool_destroy(pool2);
}

typedef struct {
  float *y, *x, *w, *b, *r, *mean, *rstd, *rm, *rv;
  int N, C, HW, train;
} bn_ctx;

static double bn_loss(void *p) {
  bn_ctx *c = p;
  if (c->train)
    hy_batchnorm_forward_train(c->y, c->mean, c->rstd, NULL, NULL, c->x, c->w,
                               c->b, c->N, c->C, c->HW, 1e-5f, 0.1f, NULL);
  else
    hy_batchnorm_forward_eval(c->y, c->x, c->rm, c->rv, c->w, c->b, c->N, c->C,
                              c->HW, 1e-5f, NULL);
  return tu_dot(c->y, c->r, (size_t)c->N * c->C * c->HW);
}

static void check_bn_grad(int N, int C, int HW, int train, uint64_t seed) {
  tu_rng r = tu_rng_new(seed);
  bn_ctx c = {.N = N, .C = C, .HW = HW, .train = train};
  size_t n = (size_t)N * C * HW;
  c.x = tu_random(&r, n, -2, 2), c.w = tu_random(&r, C, 0.5f, 1.5f), c.b = tu_random(&r, C, -1, 1);
  c.r = tu_random(&r, n, -1, 1), c.y = g_new(float, n);
  c.mean = g_new(float, C), c.rstd = g_new(float, C);
  c.rm = tu_random(&r, C, -1, 1), c.rv = tu_random(&r, C, 0.5f, 2);
  float *dx = g_new0(float, n), *dw = g_new0(float, C), *db = g_new0(float, C);
  bn_loss(&c);
  if (train)
    hy_batchnorm_backward_train(dx, dw, db, c.r, c.x, c.mean, c.rstd, c.w, N, C, HW, NULL);
  else
    hy_batchnorm_backward_eval(dx, dw, db, c.r, c.x, c.rm, c.rv, c.w, N, C, HW, 1e-5f, NULL);
  /* small steps: with M = N*HW small, y is strongly non-linear in x */
  tu_gradcheck opt = {.eps = 1e-3, .atol = 2e-3, .rtol = 1e-2, .max_probes = 64};
  tu_check_grad(train ? "bn train dx" : "bn eval dx", c.x, dx, n, bn_loss, &c, &opt);
  tu_check_grad(train ? "bn train dweight" : "bn eval dweight", c.w, dw, C, bn_loss, &c, &opt);
  tu_check_grad(train ? "bn train dbias" : "bn eval dbias", c.b, db, C, bn_loss, &c, &opt);
  g_free(c.x), g_free(c.w), g_free(c.b), g_free(c.r), g_free(c.y);
  g_free(c.mean), g_free(c.rstd), g_free(c.rm), g_free(c.rv);
  g_free(dx), g_free(dw), g_free(db);
}

static void test_batchnorm_grad(void) {
  /* M = N*HW of 3..6 values per channel: the terms through the batch
   * statistics are as large as the direct one */
  check_bn_grad(1, 2, 3, 1, 4);
  check_bn_grad(2, 3, 3, 1, 5);
  check_bn_grad(3, 2, 2, 1, 6);
  check_bn_grad(2, 3, 5, 0, 7);
}

static void test_batchnorm_running_stats(void) {
  /* N = 2, C = 2, HW = 2, running stats from (0, 1), momentum 0.1.
   * step 1: c0 = {1,2 | 3,4}: mean 2.5, unbiased var 5/3;
   *         c1 = {0,0 | 2,6}: mean 2, unbiased var 8.
   * step 2: x * 2: c0 mean 5, biased var 5, unbiased 20/3;
   *         c1 mean 4, biased var 24, unbiased 32. */
  float x[8] = {1, 2, 0, 0, 3, 4, 2, 6};
  float rm[2] = {0, 0}, rv[2] = {1, 1}, mean[2], rstd[2], y[8];
  hy_pool *pool = tu_pool_new(2);
  hy_batchnorm_forward_train(y, mean, rstd, rm, rv, x, NULL, NULL, 2, 2, 2, 1e-5f, 0.1f, pool);
  const float rm1[2] = {0.25f, 0.2f}, rv1[2] = {0.9f + 0.1f * 5.0f / 3.0f, 0.9f + 0.8f};
  tu_assert_close("running_mean step 1", rm, rm1, 2, 1e-7, 1e-6);
  tu_assert_close("running_var step 1", rv, rv1, 2, 1e-7, 1e-6);
  for (int i = 0; i < 8; i++) x[i] *= 2;
  float w[2] = {2, 0.5f}, b[2] = {1, -1};
  hy_batchnorm_forward_train(y, mean, rstd, rm, rv, x, w, b, 2, 2, 2, 1e-5f, 0.1f, pool);
  const float rm2[2] = {0.9f * 0.25f + 0.5f, 0.9f * 0.2f + 0.4f};
  const float rv2[2] = {0.9f * rv1[0] + 0.1f * 20.0f / 3.0f, 0.9f * rv1[1] + 3.2f};
  tu_assert_close("running_mean step 2", rm, rm2, 2, 1e-7, 1e-6);
  tu_assert_close("running_var step 2", rv, rv2, 2, 1e-7, 1e-6);
  /* normalised with the biased variance, eps inside the root */
  float r0 = 1.0f / sqrtf(5.0f + 1e-5f), r1 = 1.0f / sqrtf(24.0f + 1e-5f);
  const float want[8] = {
      2 * (2 - 5) * r0 + 1, 2 * (4 - 5) * r0 + 1, 0.5f * (0 - 4) * r1 - 1, 0.5f * (0 - 4) * r1 - 1,
      2 * (6 - 5) * r0 + 1, 2 * (8 - 5) * r0 + 1, 0.5f * (4 - 4) * r1 - 1, 0.5f * (12 - 4) * r1 - 1};
  tu_assert_close("bn y step 2", y, want, 8, 1e-6, 1e-6);
  const float mean2[2] = {5, 4}, rstd2[2] = {r0, r1};
  tu_assert_close("bn saved mean", mean, mean2, 2, 1e-6, 1e-6);
  tu_assert_close("bn saved rstd", rstd, rstd2, 2, 0, 1e-6);
  hy_pool_destroy(pool);
}

static void test_batchnorm_fold(void) {
  /* 1x1 conv (a per-pixel matrix) then eval BN == the folded conv */
  tu_rng r = tu_rng_new(8);
  enum { N = 2, Cin = 5, Cout = 4, HW = 6 };
  for (int with_bias = 0; with_bias <= 1; with_bias++) {
    float *x = tu_random(&r, N * Cin * HW, -1, 1), *cw = tu_random(&r, Cout * Cin, -1, 1);
    float *cb = with_bias ? tu_random(&r, Cout, -1, 1) : NULL;
    float *rm = tu_random(&r, Cout, -1, 1), *rv = tu_random(&r, Cout, 0.2f, 2);
    float *g = tu_random(&r, Cout, 0.5f, 1.5f), *be = tu_random(&r, Cout, -1, 1);
    float conv[N * Cout * HW], want[N * Cout * HW], got[N * Cout * HW];
    float fw[Cout * Cin], fb[Cout];
    for (int n = 0; n < N; n++)
      for (int o = 0; o < Cout; o++)
        for (int p = 0; p < HW; p++) {
          double s = cb ? cb[o] : 0;
          for (int i = 0; i < Cin; i++)
            s += (double)cw[o * Cin + i] * x[(n * Cin + i) * HW + p];
          conv[(n * Cout + o) * HW + p] = (float)s;
        }
    hy_batchnorm_forward_eval_naive(want, conv, rm, rv, g, be, N, Cout, HW, 1e-5f);
    hy_batchnorm_fold(fw, fb, cw, cb, rm, rv, g, be, 1, Cout, Cin, 1e-5f);
    for (int n = 0; n < N; n++)
      for (int o = 0; o < Cout; o++)
        for (int p = 0; p < HW; p++) {
          double s = fb[o];
          for (int i = 0; i < Cin; i++)
            s += (double)fw[o * Cin + i] * x[(n * Cin + i) * HW + p];
          got[(n * Cout + o) * HW + p] = (float)s;
        }
    tu_assert_close("folded conv", got, want, N * Cout * HW, 1e-5, 1e-5);
    /* in place, and the transposed-conv layout [Cin][Cout][k*k] scales axis 1 */
    float *tw = tu_random(&r, 3 * Cout * 2, -1, 1), *tw0 = tu_copy(tw, 3 * Cout * 2);
    float tb[Cout];
    hy_batchnorm_fold(tw, tb, tw, NULL, rm, rv, g, be, 3, Cout, 2, 1e-5f);
    for (int i = 0; i < 3; i++)
      for (int o = 0; o < Cout; o++)
        for (int k = 0; k < 2; k++) {
          float s = g[o] / sqrtf(rv[o] + 1e-5f);
          int at = (i * Cout + o) * 2 + k;
          g_assert_cmpfloat_with_epsilon(tw[at], tw0[at] * s, 1e-6);
        }
    for (int o = 0; o < Cout; o++)
      g_assert_cmpfloat_with_epsilon(tb[o], be[o] - rm[o] * g[o] / sqrtf(rv[o] + 1e-5f), 1e-6);
    g_free(x), g_free(cw), g_free(cb), g_free(rm), g_free(rv), g_free(g);
    g_free(be), g_free(tw), g_free(tw0);
  }
}

static void check_bn_fixture(const char *name) {
  hy_tensorfile *tf = tu_fixture(name);
  int N = tu_meta_int(tf, "N"), C = tu_meta_int(tf, "C");
  int HW = tu_meta_int(tf, "H") * tu_meta_int(tf, "W"), train = tu_meta_int(tf, "training");
  float eps = (float)tu_meta_num(tf, "eps"), mom = (float)tu_meta_num(tf, "momentum");
  size_t n = (size_t)N * C * HW;
  const float *x = tu_f32(tf, "x", n), *w = tu_f32(tf, "weight", C), *b = tu_f32(tf, "bias", C);
  const float *dy = tu_f32(tf, "dy", n);
  float *rm = tu_copy(tu_f32(tf, "running_mean", C), C);
  float *rv = tu_copy(tu_f32(tf, "running_var", C), C);
  float *y = g_new(float, n), *dx = g_new0(float, n);
  float *dw = g_new0(float, C), *db = g_new0(float, C);
  float *mean = g_new(float, C), *rstd = g_new(float, C);
  hy_pool *pool = tu_pool_new(2);
  if (train) {
    hy_batchnorm_forward_train(y, mean, rstd, rm, rv, x, w, b, N, C, HW, eps, mom, pool);
    hy_batchnorm_backward_train(dx, dw, db, dy, x, mean, rstd, w, N, C, HW, pool);
    tu_assert_close("fixture bn running_mean", rm, tu_f32(tf, "running_mean_after", C), C, 1e-6,
                    1e-6);
    tu_assert_close("fixture bn running_var", rv, tu_f32(tf, "running_var_after", C), C, 1e-6,
                    1e-6);
  } else {
    hy_batchnorm_forward_eval(y, x, rm, rv, w, b, N, C, HW, eps, pool);
    hy_batchnorm_backward_eval(dx, dw, db, dy, x, rm, rv, w, N, C, HW, eps, pool);
  }
  /* float32 vs float64: a few ulps of values of order 1 */
  tu_assert_close("fixture bn y", y, tu_f32(tf, "y", n), n, 2e-6, 1e-5);
  tu_assert_close("fixture bn dx", dx, tu_f32(tf, "dx", n), n, 2e-6, 1e-5);
  tu_assert_close("fixture bn dweight", dw, tu_f32(tf, "dweight", C), C, 2e-6, 1e-5);
  tu_assert_close("fixture bn dbias", db, tu_f32(tf, "dbias", C), C, 2e-6, 1e-5);
  hy_pool_destroy(pool);
  g_free(rm), g_free(rv), g_free(y), g_free(dx), g_free(dw), g_free(db);
  g_free(mean), g_free(rstd);
  hy_tensorfile_free(tf);
}

static void test_batchnorm_fixture(void) {
  check_bn_fixture("ops/norm-batchnorm-train.hyatt");
  check_bn_fixture("ops/norm-batchnorm-eval.hyatt");
}

/* ---- layernorm ---- */

static void test_layernorm_fast_vs_naive(void) {
  tu_rng r = tu_rng_new(9);
  hy_pool *pool2 = tu_pool_new(2), *pool3 = tu_pool_new(3);
  for (size_t ti = 0; ti < G_N_ELEMENTS(Ts); ti++)
    for (size_t ci = 0; ci < G_N_ELEMENTS(Cs); ci++) {
      int T = Ts[ti], C = Cs[ci];
      size_t n = (size_t)T * C;
      float *x = tu_random(&r, n, -1, 1);
      for (size_t i = 0; i < n; i++) x[i] += (float)(i / C % 7) - 3.0f; /* per-token offsets */
      float *w = tu_random(&r, C, 0.5f, 1.5f), *b = tu_random(&r, C, -1, 1);
      float *y = g_new(float, n), *y0 = g_new(float, n), *y3 = g_new(float, n);
      float *mean = g_new(float, T), *rstd = g_new(float, T);
      float *mean0 = g_new(float, T), *rstd0 = g_new(float, T);
      hy_layernorm_forward(y, mean, rstd, x, w, b, T, C, 1e-6f, pool2);
      hy_layernorm_forward_naive(y0, mean0, rstd0, x, w, b, T, C, 1e-6f);
      tu_assert_close("ln y", y, y0, n, 1e-5, 1e-5);
      tu_assert_close("ln mean", mean, mean0, T, 1e-6, 1e-6);
      /* C = 1: var = 0, rstd = 1/sqrt(eps) = 1000, anything relative */
      tu_assert_close("ln rstd", rstd, rstd0, T, 0, 1e-5);
      hy_layernorm_forward(y3, NULL, NULL, x, w, b, T, C, 1e-6f, NULL);
      g_assert_cmpmem(y3, n * sizeof *y3, y, n * sizeof *y);

      float *dy = tu_random(&r, n, -1, 1), *dx = tu_random(&r, n, -1, 1);
      float *dw = tu_random(&r, C, -1, 1), *db = tu_random(&r, C, -1, 1);
      float *dx0 = tu_copy(dx, n), *dw0 = tu_copy(dw, C), *db0 = tu_copy(db, C);
      float *dx3 = tu_copy(dx, n), *dw3 = tu_copy(dw, C), *db3 = tu_copy(db, C);
      float *scratch = g_new(float, hy_layernorm_scratch(T, C));
      hy_layernorm_backward(dx, dw, db, dy, x, mean, rstd, w, T, C, scratch, pool2);
      hy_layernorm_backward_naive(dx0, dw0, db0, dy, x, mean, rstd, w, T, C);
      double dxtol = C == 1 ? 1e-3 : 1e-5; /* C = 1: dx is 0 up to rounding * 1000 */
      tu_assert_close("ln dx", dx, dx0, n, dxtol, 1e-4);
      tu_assert_close("ln dweight", dw, dw0, C, 1e-4, 1e-5);
      tu_assert_close("ln dbias", db, db0, C, 1e-4, 1e-5);
      /* every bit the same on another thread count */
      hy_layernorm_backward(dx3, dw3, db3, dy, x, mean, rstd, w, T, C, scratch, pool3);
      g_assert_cmpmem(dx3, n * sizeof *dx, dx, n * sizeof *dx);
      g_assert_cmpmem(dw3, C * sizeof *dw, dw, C * sizeof *dw);
      g_assert_cmpmem(db3, C * sizeof *db, db, C * sizeof *db);
      g_free(x), g_free(w), g_free(b), g_free(y), g_free(y0), g_free(y3);
      g_free(mean), g_free(rstd), g_free(mean0), g_free(rstd0), g_free(dy);
      g_free(dx), g_free(dw), g_free(db), g_free(dx0), g_free(dw0), g_free(db0);
      g_free(dx3), g_free(dw3), g_free(db3), g_free(scratch);
    }
  hy_pool_destroy(pool2);
  hy_pool_destroy(pool3);
}

typedef struct {
  float *y, *x, *w, *b, *r;
  int T, C;
} ln_ctx;

static double ln_loss(void *p) {
  ln_ctx *c = p;
  hy_layernorm_forward(c->y, NULL, NULL, c->x, c->w, c->b, c->T, c->C, 1e-6f, NULL);
  return tu_dot(c->y, c->r, (size_t)c->T * c->C);
}

static void test_layernorm_grad(void) {
  tu_rng r = tu_rng_new(10);
  static const int shapes[][2] = {{3, 5}, {4, 2}, {2, 9}};
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    ln_ctx c = {.T = shapes[s][0], .C = shapes[s][1]};
    size_t n = (size_t)c.T * c.C;
    c.x = tu_random(&r, n, -2, 2), c.w = tu_random(&r, c.C, 0.5f, 1.5f);
    c.b = tu_random(&r, c.C, -1, 1), c.r = tu_random(&r, n, -1, 1), c.y = g_new(float, n);
    float *mean = g_new(float, c.T), *rstd = g_new(float, c.T);
    float *dx = g_new0(float, n), *dw = g_new0(float, c.C), *db = g_new0(float, c.C);
    float *scratch = g_new(float, hy_layernorm_scratch(c.T, c.C));
    hy_layernorm_forward(c.y, mean, rstd, c.x, c.w, c.b, c.T, c.C, 1e-6f, NULL);
    hy_layernorm_backward(dx, dw, db, c.r, c.x, mean, rstd, c.w, c.T, c.C, scratch, NULL);
    tu_gradcheck opt = {.eps = 1e-3, .atol = 2e-3, .rtol = 1e-2, .max_probes = 64};
    tu_check_grad("ln dx", c.x, dx, n, ln_loss, &c, &opt);
    tu_check_grad("ln dweight", c.w, dw, c.C, ln_loss, &c, &opt);
    tu_check_grad("ln dbias", c.b, db, c.C, ln_loss, &c, &opt);
    g_free(c.x), g_free(c.w), g_free(c.b), g_free(c.r), g_free(c.y);
    g_free(mean), g_free(rstd), g_free(dx), g_free(dw), g_free(db), g_free(scratch);
  }
}

static void test_layernorm_fixture(void) {
  hy_tensorfile *tf = tu_fixture("ops/norm-layernorm.hyatt");
  int T = tu_meta_int(tf, "T"), C = tu_meta_int(tf, "C");
  float eps = (float)tu_meta_num(tf, "eps");
  g_assert_cmpfloat(eps, ==, 1e-6f);
  size_t n = (size_t)T * C;
  const float *x = tu_f32(tf, "x", n), *w = tu_f32(tf, "weight", C), *b = tu_f32(tf, "bias", C);
  const float *dy = tu_f32(tf, "dy", n);
  float *y = g_new(float, n), *dx = g_new0(float, n), *dw = g_new0(float, C),
        *db = g_new0(float, C), *mean = g_new(float, T), *rstd = g_new(float, T);
  float *scratch = g_new(float, hy_layernorm_scratch(T, C));
  hy_layernorm_forward(y, mean, rstd, x, w, b, T, C, eps, NULL);
  hy_layernorm_backward(dx, dw, db, dy, x, mean, rstd, w, T, C, scratch, NULL);
  tu_assert_close("fixture ln y", y, tu_f32(tf, "y", n), n, 2e-6, 1e-5);
  tu_assert_close("fixture ln dx", dx, tu_f32(tf, "dx", n), n, 2e-6, 1e-5);
  tu_assert_close("fixture ln dweight", dw, tu_f32(tf, "dweight", C), C, 2e-6, 1e-5);
  tu_assert_close("fixture ln dbias", db, tu_f32(tf, "dbias", C), C, 2e-6, 1e-5);
  g_free(y), g_free(dx), g_free(dw), g_free(db), g_free(mean), g_free(rstd);
  g_free(scratch);
  hy_tensorfile_free(tf);
}

/* ---- the fused LN + MLP + residual of inference ---- */

static void test_mlp_fused_vs_naive(void) {
  if (!hy_mlp_fused_available()) {
    g_test_skip("the fused MLP needs AVX-512");
    return;
  }
  /* the network's (C, R) and odd ones: partial register blocks of fc1 (R % 4)
   * and fc2 (C % 8); T around the tile of 16 tokens and the task of 128 */
  static const int CR[][2] = {{8, 64}, {16, 128}, {40, 320}, {64, 256}, {3, 12}, {13, 50}, {1, 5}};
  static const int Tm[] = {1, 7, 16, 37, 128, 1000};
  tu_rng r = tu_rng_new(12);
  hy_pool *pool2 = tu_pool_new(2), *pool3 = tu_pool_new(3);
  for (size_t k = 0; k < G_N_ELEMENTS(CR); k++)
    for (size_t ti = 0; ti < G_N_ELEMENTS(Tm); ti++) {
      int C = CR[k][0], R = CR[k][1], T = Tm[ti];
      size_t n = (size_t)T * C;
      float *x = tu_random(&r, n, -2, 2);
      for (size_t i = 0; i < n; i++) x[i] += (float)(i / C % 5) - 2.0f; /* per-token offsets */
      float *lw = tu_random(&r, C, 0.5f, 1.5f), *lb = tu_random(&r, C, -0.5f, 0.5f);
      float *w1 = tu_random(&r, (size_t)R * C, -1, 1), *b1 = tu_random(&r, R, -1, 1);
      float *w2 = tu_random(&r, (size_t)C * R, -0.3f, 0.3f), *b2 = tu_random(&r, C, -1, 1);
      hy_mlp_weights w = {lw, lb, 1e-6f, w1, b1, w2, b2};
      float *y = g_new(float, n), *y0 = g_new(float, n), *y3 = g_new(float, n);
      float *scratch2 = g_new(float, hy_mlp_scratch_size(C, R, 2));
      float *scratch3 = g_new(float, hy_mlp_scratch_size(C, R, 3));
      hy_mlp_residual_forward(y, x, &w, T, C, R, scratch2, pool2);
      hy_mlp_residual_forward_naive(y0, x, &w, T, C, R);
      tu_assert_close("fused mlp", y, y0, n, 2e-5, 2e-5);
      hy_mlp_residual_forward(y3, x, &w, T, C, R, scratch3, T % 2 ? pool3 : NULL);
      g_assert_cmpmem(y3, n * sizeof *y3, y, n * sizeof *y);
      g_free(x), g_free(lw), g_free(lb), g_free(w1), g_free(b1), g_free(w2), g_free(b2);
      g_free(y), g_free(y0), g_free(y3), g_free(scratch2), g_free(scratch3);
    }
  hy_pool_destroy(pool2);
  hy_pool_destroy(pool3);
}

/* ---- the small-K GEMM under the linears and 1x1 convs ---- */

static void test_gemm_small_vs_naive(void) {
  if (!hy_gemm_small_fits(8)) {
    g_test_skip("the small-K GEMM needs AVX-512");
    return;
  }
  /* every remainder of the 6-row tile, partial and whole 16-lane halves,
   * more than one task of rows or columns */
  static const int Ms[] = {1, 2, 3, 4, 5, 6, 7, 13, 200};
  static const int Ns[] = {1, 15, 16, 17, 31, 32, 33, 600};
  static const int Ks[] = {1, 8, 40, 128};
  tu_rng r = tu_rng_new(13);
  hy_pool *pool = tu_pool_new(2);
  for (size_t mi = 0; mi < G_N_ELEMENTS(Ms); mi++)
    for (size_t ni = 0; ni < G_N_ELEMENTS(Ns); ni++)
      for (size_t ki = 0; ki < G_N_ELEMENTS(Ks); ki++) {
        int M = Ms[mi], N = Ns[ni], K = Ks[ki], mode = (int)((mi + ni + ki) % 4);
        int lda = K + 3, ldb = N + 5, ldc = N + 2; /* strides wider than the matrices */
        float *A = tu_random(&r, (size_t)M * lda, -1, 1), *B = tu_random(&r, (size_t)K * ldb, -1, 1);
        float *bm = tu_random(&r, M, -1, 1), *bn = tu_random(&r, N, -1, 1);
        float *C = tu_random(&r, (size_t)M * ldc, -1, 1), *C0 = tu_copy(C, (size_t)M * ldc);
        float *C2 = tu_copy(C, (size_t)M * ldc);
        const float *bias_m = mode == 1 ? bm : NULL, *bias_n = mode == 2 ? bn : NULL;
        int relu = mode == 3;
        hy_gemm_small(C, ldc, A, lda, B, ldb, M, N, K, bias_m, bias_n, relu, NULL);
        for (int m = 0; m < M; m++)
          for (int n = 0; n < N; n++) {
            double acc = bias_m ? bias_m[m] : bias_n ? bias_n[n] : 0.0;
            for (int k = 0; k < K; k++) acc += (double)A[(size_t)m * lda + k] * B[(size_t)k * ldb + n];
            C0[(size_t)m * ldc + n] = (float)(relu && acc < 0 ? 0 : acc);
          }
        /* the padding columns between rows are left alone */
        g_autofree char *what = g_strdup_printf("gemm small M %d N %d K %d mode %d", M, N, K, mode);
        tu_assert_close(what, C, C0, (size_t)M * ldc, 1e-5, 1e-5);
        hy_gemm_small(C2, ldc, A, lda, B, ldb, M, N, K, bias_m, bias_n, relu, pool);
        g_assert_cmpmem(C2, (size_t)M * ldc * sizeof *C, C, (size_t)M * ldc * sizeof *C);
        g_free(A), g_free(B), g_free(bm), g_free(bn), g_free(C), g_free(C0), g_free(C2);
      }
  hy_pool_destroy(pool);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/linear/fast-vs-naive", test_linear_fast_vs_naive);
  g_test_add_func("/linear/grad", test_linear_grad);
  g_test_add_func("/linear/fixture", test_linear_fixture);
  g_test_add_func("/batchnorm/fast-vs-naive", test_batchnorm_fast_vs_naive);
  g_test_add_func("/batchnorm/grad", test_batchnorm_grad);
  g_test_add_func("/batchnorm/running-stats", test_batchnorm_running_stats);
  g_test_add_func("/batchnorm/fold", test_batchnorm_fold);
  g_test_add_func("/batchnorm/fixture", test_batchnorm_fixture);
  g_test_add_func("/layernorm/fast-vs-naive", test_layernorm_fast_vs_naive);
  g_test_add_func("/layernorm/grad", test_layernorm_grad);
  g_test_add_func("/layernorm/fixture", test_layernorm_fixture);
  g_test_add_func("/mlp/fused-vs-naive", test_mlp_fused_vs_naive);
  g_test_add_func("/gemm-small/vs-naive", test_gemm_small_vs_naive);
  return g_test_run();
}
