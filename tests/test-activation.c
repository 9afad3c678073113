/* ReLU, GELU, sigmoid and softmax: fast kernels vs the naive references
 * (also over dense grids, for the approximations' accuracy), in place,
 * thread-count independence, backward vs finite differences, and PyTorch
 * fixtures (tests/reference/ops_norm.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"
#include "vecmath.h"


/* sizes around the vector width and the pool's chunk of 16384 */
static const int Ns[] = {1, 7, 37, 1000, 16384, 40000};

static void test_exp(void) {
  double worst = 0;
  for (double v = -87.0; v <= 88.0; v += 1e-3) {
    float x = (float)v;
    double want = exp((double)x), got = hy_vexpf(x);
    worst = fmax(worst, fabs(got - want) / want);
  }
  g_test_message("hy_vexpf: max relative error %.3g on [-87, 88]", worst);
  g_assert_cmpfloat(worst, <, 2.5e-7);
  g_assert_cmpfloat(hy_vexpf(-INFINITY), ==, 0.0f);
  g_assert_cmpfloat(hy_vexpf(-200.0f), ==, 0.0f);
  g_assert_cmpfloat(hy_vexpf(0.0f), ==, 1.0f);
  g_assert_true(isnan(hy_vexpf(NAN)));
}

typedef void (*fwd_fn)(float *, const float *, int, hy_pool *);
typedef void (*fwd_naive_fn)(float *, const float *, int);
typedef void (*bwd_fn)(float *, const float *, const float *, int, hy_pool *);
typedef void (*bwd_naive_fn)(float *, const float *, const float *, int);

/* backward_reads_y: the backward takes the output (sigmoid), else the input */
static void check_fast_vs_naive(const char *what, fwd_fn f, fwd_naive_fn fn,
                                bwd_fn b, bwd_naive_fn bn, int backward_reads_y,
                                double atol, double rtol) {
  tu_rng r = tu_rng_new(11);
  hy_pool *pool = tu_pool_new(2);
  for (size_t k = 0; k < G_N_ELEMENTS(Ns); k++) {
    int n = Ns[k];
    float *x = tu_random(&r, n, -10, 10), *y = g_new(float, n), *y0 = g_new(float, n);
    f(y, x, n, k % 2 ? pool : NULL);
    fn(y0, x, n);
    tu_assert_close(what, y, y0, n, atol, rtol);
    float *y1 = g_new(float, n);
    f(y1, x, n, k % 2 ? NULL : pool);
    g_assert_cmpmem(y1, n * sizeof *y1, y, n * sizeof *y);
    float *dy = tu_random(&r, n, -1, 1), *dx = tu_random(&r, n, -1, 1), *dx0 = tu_copy(dx, n);
    const float *v = backward_reads_y ? y : x;
    b(dx, dy, v, n, pool);
    bn(dx0, dy, v, n);
    /* accumulated onto random values: absolute rounding of the sum too */
    g_autofree char *wd = g_strdup_printf("%s backward", what);
    tu_assert_close(wd, dx, dx0, n, 2e-7, rtol);
    /* in place */
    memcpy(y1, x, n * sizeof *x);
    f(y1, y1, n, pool);
    g_assert_cmpmem(y1, n * sizeof *y1, y, n * sizeof *y);
    g_free(x), g_free(y), g_free(y0), g_free(y1), g_free(dy), g_free(dx), g_free(dx0);
  }
  hy_pool_destroy(pool);
}

/* worst error of the approximation over a dense grid, in units of
 * atol + rtol * scale, scale = |want| or, for the backward, dscale(x): the
 * size of the terms of f' where they cancel (GELU's minimum) */
static void check_grid(const char *what, fwd_fn f, fwd_naive_fn fn, bwd_fn b,
                       bwd_naive_fn bn, int backward_reads_y,
                       double (*dscale)(double), double atol, double rtol) {
  int n = 48001;
  float *x = g_new(float, n), *y = g_new(float, n), *y0 = g_new(float, n);
  float *one = g_new(float, n), *dx = g_new0(float, n), *dx0 = g_new0(float, n);
  for (int i = 0; i < n; i++) x[i] = -12.0f + 24.0f * (float)i / (float)(n - 1), one[i] = 1;
  f(y, x, n, NULL);
  fn(y0, x, n);
  b(dx, one, backward_reads_y ? y : x, n, NULL);
  bn(dx0, one, backward_reads_y ? y : x, n); /* the same y: tests the backward alone */
  double worst_y = 0, worst_d = 0;
  for (int i = 0; i < n; i++) {
    worst_y = fmax(worst_y, fabs(y[i] - (double)y0[i]) / (atol + rtol * fabs(y0[i])));
    double sd = dscale ? dscale(x[i]) : fabs(dx0[i]);
    worst_d = fmax(worst_d, fabs(dx[i] - (double)dx0[i]) / (atol + rtol * sd));
  }
  g_test_message("%s on [-12, 12]: worst error %.3g (forward), %.3g (backward) of "
                 "atol %.0e + rtol %.0e", what, worst_y, worst_d, atol, rtol);
  g_assert_cmpfloat(worst_y, <=, 1.0);
  g_assert_cmpfloat(worst_d, <=, 1.0);
  g_free(x), g_free(y), g_free(y0), g_free(one), g_free(dx), g_free(dx0);
}

/* Phi(x) + |x| phi(x) */
static double gelu_dscale(double x) {
  return 0.5 * erfc(-x / sqrt(2.0)) + fabs(x) * exp(-0.5 * x * x) * 0.3989422804014327;
}

static void test_gelu_fast_vs_naive(void) {
  /* erfc approximation: ~1e-7 relative, also in the negative tail */
  check_fast_vs_naive("gelu", hy_gelu_forward, hy_gelu_forward_naive,
                      hy_gelu_backward, hy_gelu_backward_naive, 0, 1e-30, 1e-6);
  check_grid("gelu", hy_gelu_forward, hy_gelu_forward_naive, hy_gelu_backward,
             hy_gelu_backward_naive, 0, gelu_dscale, 1e-30, 1e-6);
}

static void test_sigmoid_fast_vs_naive(void) {
  check_fast_vs_naive("sigmoid", hy_sigmoid_forward, hy_sigmoid_forward_naive,
                      hy_sigmoid_backward, hy_sigmoid_backward_naive, 1, 1e-30, 1e-6);
  check_grid("sigmoid", hy_sigmoid_forward, hy_sigmoid_forward_naive,
             hy_sigmoid_backward, hy_sigmoid_backward_naive, 1, NULL, 1e-30, 1e-6);
}

static void test_relu(void) {
  const float x[6] = {-2, -0.5f, 0, 0.25f, 3, NAN};
  float y[6], dx[6] = {1, 1, 1, 1, 1, 1};
  const float dy[6] = {10, 20, 30, 40, 50, 60};
  hy_relu_forward(y, x, 6, NULL);
  const float want[5] = {0, 0, 0, 0.25f, 3};
  tu_assert_close("relu", y, want, 5, 0, 0);
  g_assert_true(isnan(y[5]));
  /* from the input or from the output: the same */
  hy_relu_backward(dx, dy, x, 6, NULL);
  hy_relu_backward(dx, dy, y, 6, NULL);
  const float dwant[6] = {1, 1, 1, 81, 101, 1};
  tu_assert_close("relu backward", dx, dwant, 6, 0, 0);
  /* in place, big, pooled */
  tu_rng r = tu_rng_new(12);
  hy_pool *pool = tu_pool_new(2);
  int n = 40000;
  float *a = tu_random(&r, n, -1, 1), *a0 = tu_copy(a, n);
  hy_relu_forward(a, a, n, pool);
  for (int i = 0; i < n; i++) g_assert_cmpfloat(a[i], ==, a0[i] > 0 ? a0[i] : 0);
  g_free(a), g_free(a0);
  hy_pool_destroy(pool);
}

typedef struct {
  fwd_fn f;
  float *y, *x, *r;
  int n;
} act_ctx;

static double act_loss(void *p) {
  act_ctx *c = p;
  c->f(c->y, c->x, c->n, NULL);
  return tu_dot(c->y, c->r, c->n);
}

static void check_act_grad(const char *what, fwd_fn f, bwd_fn b, int reads_y,
                           float lo, float hi) {
  tu_rng r = tu_rng_new(13);
  act_ctx c = {.f = f, .n = 64};
  c.x = tu_random(&r, c.n, lo, hi), c.r = tu_random(&r, c.n, -1, 1), c.y = g_new(float, c.n);
  for (int i = 0; i < c.n; i++) /* ReLU: keep clear of the kink */
    if (fabsf(c.x[i]) < 0.05f) c.x[i] = 0.5f;
  float *dx = g_new0(float, c.n);
  act_loss(&c);
  b(dx, c.r, reads_y ? c.y : c.x, c.n, NULL);
  tu_gradcheck opt = {.eps = 1e-3, .atol = 1e-4, .rtol = 1e-3, .max_probes = 64};
  tu_check_grad(what, c.x, dx, c.n, act_loss, &c, &opt);
  g_free(c.x), g_free(c.r), g_free(c.y), g_free(dx);
}

static void test_activation_grad(void) {
  check_act_grad("relu dx", hy_relu_forward, hy_relu_backward, 0, -2, 2);
  check_act_grad("relu dx (from y)", hy_relu_forward, hy_relu_backward, 1, -2, 2);
  check_act_grad("gelu dx", hy_gelu_forward, hy_gelu_backward, 0, -5, 5);
  check_act_grad("sigmoid dx", hy_sigmoid_forward, hy_sigmoid_backward, 1, -6, 6);
}

static void check_act_fixture(const char *name, fwd_fn f, bwd_fn b, int reads_y,
                              double atol, double datol, double rtol) {
  g_autofree char *file = g_strdup_printf("ops/norm-%s.hyatt", name);
  hy_tensorfile *tf = tu_fixture(file);
  int n = tu_meta_int(tf, "n");
  const float *x = tu_f32(tf, "x", n), *dy = tu_f32(tf, "dy", n);
  float *y = g_new(float, n), *dx = g_new0(float, n);
  f(y, x, n, NULL);
  b(dx, dy, reads_y ? y : x, n, NULL);
  g_autofree char *wy = g_strdup_printf("fixture %s y", name);
  g_autofree char *wd = g_strdup_printf("fixture %s dx", name);
  tu_assert_close(wy, y, tu_f32(tf, "y", n), n, atol, rtol);
  tu_assert_close(wd, dx, tu_f32(tf, "dx", n), n, datol, rtol);
  g_free(y), g_free(dx);
  hy_tensorfile_free(tf);
}

static void test_activation_fixture(void) {
  /* float32 results vs float64 PyTorch. PyTorch's GELU is 0.5 x (1 + erf):
   * in the far tail it cancels to 0 (gelu(-9) = -1e-18 exactly, -0 there).
   * GELU's derivative cancels near its minimum (x = -0.75): absolute there.
   * Sigmoid's backward reads the float output: 1 - y is known only to
   * ulp(1) = 6e-8 where y is near 1: absolute there too. */
  check_act_fixture("gelu", hy_gelu_forward, hy_gelu_backward, 0, 1e-15, 1e-7, 2e-6);
  check_act_fixture("sigmoid", hy_sigmoid_forward, hy_sigmoid_backward, 1, 1e-30, 1e-7, 2e-6);
  check_act_fixture("relu", hy_relu_forward, hy_relu_backward, 0, 0, 0, 1e-7);
}

/* ---- softmax ---- */

static void test_softmax_fast_vs_naive(void) {
  tu_rng r = tu_rng_new(14);
  hy_pool *pool = tu_pool_new(2);
  static const int Ls[] = {1, 3, 8, 40, 129, 1000, 20000};
  static const int Rs[] = {1, 7, 37};
  for (size_t li = 0; li < G_N_ELEMENTS(Ls); li++)
    for (size_t ri = 0; ri < G_N_ELEMENTS(Rs); ri++) {
      int R = Rs[ri], L = Ls[li];
      size_t n = (size_t)R * L;
      float *x = tu_random(&r, n, -20, 20);
      for (size_t i = 0; i < n; i++) x[i] += (float)(i / L % 5) * 30.0f; /* row offsets */
      float *y = g_new(float, n), *y0 = g_new(float, n), *y1 = g_new(float, n);
      hy_softmax_forward(y, x, R, L, pool);
      hy_softmax_forward_naive(y0, x, R, L);
      tu_assert_close("softmax y", y, y0, n, 1e-9, 1e-5);
      hy_softmax_forward(y1, x, R, L, NULL);
      g_assert_cmpmem(y1, n * sizeof *y1, y, n * sizeof *y);
      memcpy(y1, x, n * sizeof *x);
      hy_softmax_forward(y1, y1, R, L, pool);
      g_assert_cmpmem(y1, n * sizeof *y1, y, n * sizeof *y);
      float *dy = tu_random(&r, n, -1, 1), *dx = tu_random(&r, n, -1, 1), *dx0 = tu_copy(dx, n);
      hy_softmax_backward(dx, dy, y, R, L, pool);
      hy_softmax_backward_naive(dx0, dy, y, R, L);
      tu_assert_close("softmax dx", dx, dx0, n, 1e-6, 1e-5);
      g_free(x), g_free(y), g_free(y0), g_free(y1), g_free(dy), g_free(dx), g_free(dx0);
    }
  /* stable: large logits, the maximum last (past the 8-lane blocks) */
  float xs[3][10] = {{0, 0, 0, 0, 0, 0, 0, 0, 200, 300},
                     {0, 0, 0, 300, 0, 0, 0, 250, 0, 0},
                     {1000, 990, 995, 999, 1000, 980, 990, 1000, 1001, 1002}};
  float ys[30], ys0[30];
  hy_softmax_forward(ys, &xs[0][0], 3, 10, NULL);
  hy_softmax_forward_naive(ys0, &xs[0][0], 3, 10);
  tu_assert_close("softmax large logits", ys, ys0, 30, 1e-30, 1e-5);
  /* -inf entries (masks) give exactly 0 */
  const float xm[4] = {1, -INFINITY, 2, -INFINITY};
  float ym[4];
  hy_softmax_forward(ym, xm, 1, 4, NULL);
  g_assert_cmpfloat(ym[1], ==, 0.0f);
  g_assert_cmpfloat(ym[3], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon(ym[2], 1.0 / (1.0 + exp(-1.0)), 1e-7);
  hy_pool_destroy(pool);
}

typedef struct {
  float *y, *x, *r;
  int R, L;
} sm_ctx;

static double sm_loss(void *p) {
  sm_ctx *c = p;
  hy_softmax_forward(c->y, c->x, c->R, c->L, NULL);
  return tu_dot(c->y, c->r, (size_t)c->R * c->L);
}

static void test_softmax_grad(void) {
  tu_rng r = tu_rng_new(15);
  sm_ctx c = {.R = 3, .L = 11};
  size_t n = 33;
  c.x = tu_random(&r, n, -2, 2), c.r = tu_random(&r, n, -1, 1), c.y = g_new(float, n);
  float *dx = g_new0(float, n);
  sm_loss(&c);
  hy_softmax_backward(dx, c.r, c.y, c.R, c.L, NULL);
  tu_gradcheck opt = {.eps = 1e-3, .atol = 1e-4, .rtol = 1e-3, .max_probes = 64};
  tu_check_grad("softmax dx", c.x, dx, n, sm_loss, &c, &opt);
  g_free(c.x), g_free(c.r), g_free(c.y), g_free(dx);
}

static void test_softmax_fixture(void) {
  hy_tensorfile *tf = tu_fixture("ops/norm-softmax.hyatt");
  int R = tu_meta_int(tf, "R"), L = tu_meta_int(tf, "L");
  size_t n = (size_t)R * L;
  const float *x = tu_f32(tf, "x", n), *dy = tu_f32(tf, "dy", n);
  float *y = g_new(float, n), *dx = g_new0(float, n);
  hy_softmax_forward(y, x, R, L, NULL);
  hy_softmax_backward(dx, dy, y, R, L, NULL);
  /* probabilities down to ~1e-20 in the fixture: relative for those */
  tu_assert_close("fixture softmax y", y, tu_f32(tf, "y", n), n, 1e-30, 2e-6);
  tu_assert_close("fixture softmax dx", dx, tu_f32(tf, "dx", n), n, 1e-7, 1e-5);
  g_free(y), g_free(dx);
  hy_tensorfile_free(tf);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/activation/exp", test_exp);
  g_test_add_func("/activation/gelu-fast-vs-naive", test_gelu_fast_vs_naive);
  g_test_add_func("/activation/sigmoid-fast-vs-naive", test_sigmoid_fast_vs_naive);
  g_test_add_func("/activation/relu", test_relu);
  g_test_add_func("/activation/grad", test_activation_grad);
  g_test_add_func("/activation/fixture", test_activation_fixture);
  g_test_add_func("/softmax/fast-vs-naive", test_softmax_fast_vs_naive);
  g_test_add_func("/softmax/grad", test_softmax_grad);
  g_test_add_func("/softmax/fixture", test_softmax_fixture);
  return g_test_run();
}
