/* Elementwise, pooling, concat, resize, pad and token layout ops
 * (core/ops/elementwise, pooling, concat, resize, pad, transpose): fast vs
 * naive on odd shapes with batch 1 and 2, the same bits for 1 and 3 threads,
 * backward vs finite differences for every input, accumulation (+=), max
 * ties, the bilinear worked example, PyTorch's adaptive bins, and PyTorch
 * fixtures (tests/reference/ops_elem.py).
 *
 * Tolerances: fast vs naive 1e-6 abs + 1e-5 rel (float vs double sums);
 * fixtures 1e-5 abs + 1e-5 rel (float64 PyTorch, float32 for resizes);
 * finite differences eps 1e-2 (1e-3 for max ops), 1e-3 abs + 1e-2 rel. */
#include <math.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

static hy_pool *pool3; /* 3 threads: results must equal the serial ones */
static GPtrArray *garbage;

static float *fnew(size_t n) {
  float *p = g_new0(float, n ? n : 1);
  g_ptr_array_add(garbage, p);
  return p;
}

static float *frand(tu_rng *r, size_t n) {
  float *p = fnew(n);
  tu_fill(r, p, n, -1.0f, 1.0f);
  return p;
}

static float *fcopy(const float *x, size_t n) {
  float *p = fnew(n);
  memcpy(p, x, n * sizeof *p);
  return p;
}

static void collect(void) { g_ptr_array_set_size(garbage, 0); }

/* ---- one op under test ---- */

typedef struct op_t op_t;
struct op_t {
  const char *name;
  void (*fwd)(op_t *o);               /* y from in[] (fast, o->pool) */
  void (*bwd)(op_t *o, float **g);    /* g[i] += dL/d in[i] with dy = r */
  void (*fwd_ref)(op_t *o);           /* naive */
  void (*bwd_ref)(op_t *o, float **g);
  int n_in;
  float *in[4];
  size_t nin[4];
  float *y, *r; /* output and the projection / dy */
  size_t ny;
  int32_t *arg; /* saved arg-max */
  size_t narg;
  float *scratch;
  hy_pool *pool;
  int N, C, H, W, OH, OW, ldx, ldy, Hp, Wp;
  hy_bcast bc;
  int Cs[3];
  double fd_eps;
};

static double proj_loss(void *p) {
  op_t *o = p;
  o->fwd(o);
  return tu_dot(o->y, o->r, o->ny);
}

static void assert_same_bits(const char *what, const void *a, const void *b,
                             size_t bytes) {
  if (memcmp(a, b, bytes)) g_error("%s: results differ between 1 and 3 threads", what);
}

/* Fast (serial and 3 threads) vs naive, forward and backward into
 * pre-filled gradients; then finite differences for every input and a second
 * backward that must double the gradient. */
static void check_op(op_t *o, tu_rng *rng) {
  char what[160];
  o->r = frand(rng, o->ny);
  o->y = fnew(o->ny);
  if (o->narg) {
    o->arg = g_new0(int32_t, o->narg);
    g_ptr_array_add(garbage, o->arg);
  }

  o->pool = NULL;
  o->fwd(o);
  float *y1 = fcopy(o->y, o->ny);
  int32_t *arg1 = o->narg ? g_memdup2(o->arg, o->narg * sizeof *o->arg) : NULL;
  o->pool = pool3;
  o->fwd(o);
  g_snprintf(what, sizeof what, "%s forward", o->name);
  assert_same_bits(what, y1, o->y, o->ny * sizeof *y1);
  if (o->narg) assert_same_bits(what, arg1, o->arg, o->narg * sizeof *arg1);
  if (o->fwd_ref) {
    o->fwd_ref(o);
    tu_assert_close(what, y1, o->y, o->ny, 1e-6, 1e-5);
    if (o->narg)
      for (size_t i = 0; i < o->narg; i++)
        if (arg1[i] != o->arg[i])
          g_error("%s: arg-max [%zu] fast %d naive %d", what, i, arg1[i], o->arg[i]);
  }
  o->pool = NULL;
  o->fwd(o); /* the fast op's saved values for backward */

  float *g1[4], *g3[4], *gr[4], *g0[4];
  for (int i = 0; i < o->n_in; i++) {
    g0[i] = frand(rng, o->nin[i]);
    g1[i] = fcopy(g0[i], o->nin[i]);
    g3[i] = fcopy(g0[i], o->nin[i]);
    gr[i] = fcopy(g0[i], o->nin[i]);
  }
  o->bwd(o, g1);
  o->pool = pool3;
  o->bwd(o, g3);
  o->pool = NULL;
  if (o->bwd_ref) o->bwd_ref(o, gr);
  for (int i = 0; i < o->n_in; i++) {
    g_snprintf(what, sizeof what, "%s backward d(input %d)", o->name, i);
    assert_same_bits(what, g1[i], g3[i], o->nin[i] * sizeof(float));
    if (o->bwd_ref) tu_assert_close(what, g1[i], gr[i], o->nin[i], 1e-6, 1e-5);
  }

  /* from zero: finite differences, then a second pass doubles */
  float *gz[4];
  for (int i = 0; i < o->n_in; i++) gz[i] = fnew(o->nin[i]);
  o->bwd(o, gz);
  tu_gradcheck opts = {.eps = o->fd_eps, .max_probes = 48};
  for (int i = 0; i < o->n_in; i++) {
    g_snprintf(what, sizeof what, "%s d(input %d)", o->name, i);
    tu_check_grad(what, o->in[i], gz[i], o->nin[i], proj_loss, o, &opts);
  }
  o->fwd(o);
  float *once[4];
  for (int i = 0; i < o->n_in; i++) once[i] = fcopy(gz[i], o->nin[i]);
  o->bwd(o, gz);
  for (int i = 0; i < o->n_in; i++) {
    for (size_t k = 0; k < o->nin[i]; k++) once[i][k] *= 2;
    g_snprintf(what, sizeof what, "%s backward accumulates into input %d", o->name, i);
    tu_assert_close(what, gz[i], once[i], o->nin[i], 1e-6, 1e-6);
  }
  g_free(arg1);
}

/* ---- op adapters ---- */

#define X0 o->in[0]
#define DIMS o->N, o->C, o->H, o->W

static void gavg_f(op_t *o) { hy_global_avgpool_forward(o->y, X0, DIMS, o->pool); }
static void gavg_b(op_t *o, float **g) { hy_global_avgpool_backward(g[0], o->r, DIMS, o->pool); }
static void gavg_fr(op_t *o) { hy_global_avgpool_forward_naive(o->y, X0, DIMS); }
static void gavg_br(op_t *o, float **g) { hy_global_avgpool_backward_naive(g[0], o->r, DIMS); }

static void gmax_f(op_t *o) { hy_global_maxpool_forward(o->y, o->arg, X0, DIMS, o->pool); }
static void gmax_b(op_t *o, float **g) { hy_global_maxpool_backward(g[0], o->r, o->arg, DIMS); }
static void gmax_fr(op_t *o) { hy_global_maxpool_forward_naive(o->y, o->arg, X0, DIMS); }

static void cmm_f(op_t *o) { hy_channel_meanmax_forward(o->y, o->arg, X0, DIMS, o->pool); }
static void cmm_b(op_t *o, float **g) { hy_channel_meanmax_backward(g[0], o->r, o->arg, DIMS, o->pool); }
static void cmm_fr(op_t *o) { hy_channel_meanmax_forward_naive(o->y, o->arg, X0, DIMS); }
static void cmm_br(op_t *o, float **g) { hy_channel_meanmax_backward_naive(g[0], o->r, o->arg, DIMS); }

static void aavg_f(op_t *o) { hy_adaptive_avgpool_forward(o->y, X0, DIMS, o->OH, o->OW, o->pool); }
static void aavg_b(op_t *o, float **g) { hy_adaptive_avgpool_backward(g[0], o->r, DIMS, o->OH, o->OW, o->pool); }
static void aavg_fr(op_t *o) { hy_adaptive_avgpool_forward_naive(o->y, X0, DIMS, o->OH, o->OW); }
static void aavg_br(op_t *o, float **g) { hy_adaptive_avgpool_backward_naive(g[0], o->r, DIMS, o->OH, o->OW); }

/* NHWC: N maps of H x W tokens, channels [1, 1 + C) of ldx pooled into
 * channels [0, C) of ldy */
#define NHWC o->N, o->H, o->W, o->C, o->OH, o->OW, o->ldx, o->ldy
static void anhwc_f(op_t *o) { hy_adaptive_avgpool_nhwc_forward(o->y, X0 + 1, NHWC, o->pool); }
static void anhwc_b(op_t *o, float **g) { hy_adaptive_avgpool_nhwc_backward(g[0] + 1, o->r, NHWC, o->pool); }
static void anhwc_fr(op_t *o) { hy_adaptive_avgpool_nhwc_forward_naive(o->y, X0 + 1, NHWC); }
static void anhwc_br(op_t *o, float **g) { hy_adaptive_avgpool_nhwc_backward_naive(g[0] + 1, o->r, NHWC); }

#define BIN o->in[0], o->in[1], o->bc, DIMS
static void add_f(op_t *o) { hy_add_forward(o->y, BIN, o->pool); }
static void add_b(op_t *o, float **g) { hy_add_backward(g[0], g[1], o->r, o->bc, DIMS, o->pool); }
static void add_fr(op_t *o) { hy_add_forward_naive(o->y, BIN); }
static void add_br(op_t *o, float **g) { hy_add_backward_naive(g[0], g[1], o->r, o->bc, DIMS); }
static void mul_f(op_t *o) { hy_mul_forward(o->y, BIN, o->pool); }
static void mul_b(op_t *o, float **g) { hy_mul_backward(g[0], g[1], o->r, BIN, o->pool); }
static void mul_fr(op_t *o) { hy_mul_forward_naive(o->y, BIN); }
static void mul_br(op_t *o, float **g) { hy_mul_backward_naive(g[0], g[1], o->r, BIN); }

/* y = in0; y += in1 */
static void acc_f(op_t *o) {
  memcpy(o->y, o->in[0], o->ny * sizeof *o->y);
  hy_add_inplace_forward(o->y, o->in[1], o->ny, o->pool);
}
static void acc_b(op_t *o, float **g) {
  hy_add_inplace_backward(g[0], o->r, o->ny, o->pool); /* y's own gradient */
  hy_add_inplace_backward(g[1], o->r, o->ny, o->pool);
}

static void cat_f(op_t *o) {
  hy_concat_forward(o->y, (const float *const *)o->in, o->Cs, 3, o->N, o->H, o->W, o->pool);
}
static void cat_b(op_t *o, float **g) { hy_concat_backward(g, o->r, o->Cs, 3, o->N, o->H, o->W, o->pool); }
static void cat_fr(op_t *o) {
  hy_concat_forward_naive(o->y, (const float *const *)o->in, o->Cs, 3, o->N, o->H, o->W);
}
static void cat_br(op_t *o, float **g) { hy_concat_backward_naive(g, o->r, o->Cs, 3, o->N, o->H, o->W); }

#define RS DIMS, o->OH, o->OW
static void near_f(op_t *o) { hy_resize_nearest_forward(o->y, X0, RS, o->pool); }
static void near_b(op_t *o, float **g) { hy_resize_nearest_backward(g[0], o->r, RS, o->pool); }
static void near_fr(op_t *o) { hy_resize_nearest_forward_naive(o->y, X0, RS); }
static void near_br(op_t *o, float **g) { hy_resize_nearest_backward_naive(g[0], o->r, RS); }
static void bil_f(op_t *o) { hy_resize_bilinear_forward(o->y, X0, RS, o->scratch, o->pool); }
static void bil_b(op_t *o, float **g) { hy_resize_bilinear_backward(g[0], o->r, RS, o->scratch, o->pool); }
static void bil_fr(op_t *o) { hy_resize_bilinear_forward_naive(o->y, X0, RS); }
static void bil_br(op_t *o, float **g) { hy_resize_bilinear_backward_naive(g[0], o->r, RS); }

#define PD o->N, o->H, o->W, o->C, o->Hp, o->Wp
static void pad_f(op_t *o) { hy_pad_forward(o->y, X0, PD, o->pool); }
static void pad_b(op_t *o, float **g) { hy_pad_backward(g[0], o->r, PD, o->pool); }
static void pad_fr(op_t *o) { hy_pad_forward_naive(o->y, X0, PD); }
static void pad_br(op_t *o, float **g) { hy_pad_backward_naive(g[0], o->r, PD); }
static void crop_f(op_t *o) { hy_crop_forward(o->y, X0, PD, o->pool); }
static void crop_b(op_t *o, float **g) { hy_crop_backward(g[0], o->r, PD, o->pool); }
static void crop_fr(op_t *o) { hy_crop_forward_naive(o->y, X0, PD); }
static void crop_br(op_t *o, float **g) { hy_crop_backward_naive(g[0], o->r, PD); }

static size_t nchw(int N, int C, int H, int W) { return (size_t)N * C * H * W; }

static void unary(op_t *o, tu_rng *rng, size_t nx, size_t ny) {
  o->n_in = 1;
  o->nin[0] = nx;
  o->in[0] = frand(rng, nx);
  o->ny = ny;
}

/* ---- tests: fast vs naive, threads, gradients ---- */

static const int shapes[][4] = {{1, 3, 5, 7}, {2, 4, 9, 13}, {2, 3, 1, 1},
                                {1, 2, 17, 3}, {2, 5, 33, 37}};

static void test_global_pools(void) {
  tu_rng rng = tu_rng_new(1);
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    const int *d = shapes[s];
    op_t a = {"global avgpool", gavg_f, gavg_b, gavg_fr, gavg_br,
              .N = d[0], .C = d[1], .H = d[2], .W = d[3]};
    unary(&a, &rng, nchw(d[0], d[1], d[2], d[3]), (size_t)d[0] * d[1]);
    check_op(&a, &rng);
    op_t m = {"global maxpool", gmax_f, gmax_b, gmax_fr, NULL, .N = d[0],
              .C = d[1], .H = d[2], .W = d[3], .fd_eps = 1e-3};
    unary(&m, &rng, nchw(d[0], d[1], d[2], d[3]), (size_t)d[0] * d[1]);
    m.narg = m.ny;
    check_op(&m, &rng);
    collect();
  }
}

static void test_channel_meanmax(void) {
  tu_rng rng = tu_rng_new(2);
  static const int more[][4] = {{2, 1, 4, 4}, {1, 7, 40, 52}};
  for (size_t s = 0; s < G_N_ELEMENTS(shapes) + 2; s++) {
    const int *d = s < G_N_ELEMENTS(shapes) ? shapes[s] : more[s - G_N_ELEMENTS(shapes)];
    op_t o = {"channel mean/max", cmm_f, cmm_b, cmm_fr, cmm_br, .N = d[0],
              .C = d[1], .H = d[2], .W = d[3], .fd_eps = 1e-3};
    unary(&o, &rng, nchw(d[0], d[1], d[2], d[3]), nchw(d[0], 2, d[2], d[3]));
    o.narg = (size_t)d[0] * d[2] * d[3];
    check_op(&o, &rng);
    collect();
  }
}

/* Ties: the first index (memory order) wins and gets the whole gradient. */
static void test_max_ties(void) {
  float x[2 * 3 * 4] = {0}; /* [2][3][2][2] */
  for (int i = 0; i < 24; i++) x[i] = (float)(i % 5) * 0.1f;
  x[4 + 1] = x[4 + 3] = 2.0f; /* n0 c1: pixels 1 and 3 */
  x[12 + 0] = 1.0f;            /* n1 c0: max 1 at pixel 0 ... */
  x[12 + 4] = 1.0f;            /* ... n1 c1 pixel 0 ties across channels */
  float y[6], dy[6] = {1, 2, 3, 4, 5, 6}, dx[24] = {0};
  int32_t arg[6];
  hy_global_maxpool_forward(y, arg, x, 2, 3, 2, 2, NULL);
  g_assert_cmpint(arg[1], ==, 1);
  hy_global_maxpool_backward(dx, dy, arg, 2, 3, 2, 2);
  g_assert_cmpfloat(dx[5], ==, 2.0f);
  g_assert_cmpfloat(dx[7], ==, 0.0f);
  float allsame[9] = {3, 3, 3, 3, 3, 3, 3, 3, 3};
  hy_global_maxpool_forward(y, arg, allsame, 1, 1, 3, 3, NULL);
  g_assert_cmpint(arg[0], ==, 0);
  allsame[0] = NAN; /* NaN is not propagated, but the arg-max stays in bounds */
  hy_global_maxpool_forward(y, arg, allsame, 1, 1, 3, 3, NULL);
  g_assert_true(arg[0] >= 0 && arg[0] < 9);

  float m[2 * 2 * 4], dm[2 * 2 * 4], dxc[24] = {0};
  int32_t carg[8];
  hy_channel_meanmax_forward(m, carg, x, 2, 3, 2, 2, pool3);
  g_assert_cmpint(carg[4 + 0], ==, 0); /* n1 pixel 0: channels 0 and 1 tie */
  for (int i = 0; i < 16; i++) dm[i] = i < 4 || (i >= 8 && i < 12) ? 0.0f : 1.0f;
  hy_channel_meanmax_backward(dxc, dm, carg, 2, 3, 2, 2, NULL);
  g_assert_cmpfloat(dxc[12 + 0], ==, 1.0f);
  g_assert_cmpfloat(dxc[12 + 4], ==, 0.0f);

  /* 9 channels, 6 pixels: ties inside and across the fast kernel's groups of
   * four channels (1-4, 5-8) and with channel 0 */
  static const int tie[6][2] = {{1, 2}, {3, 4}, {2, 3}, {0, 1}, {1, 5}, {4, 8}};
  float x9[9 * 6], y9[2 * 6];
  int32_t a9[6];
  for (int i = 0; i < 9 * 6; i++) x9[i] = (float)(i % 7) * 0.1f;
  for (int p = 0; p < 6; p++) x9[tie[p][0] * 6 + p] = x9[tie[p][1] * 6 + p] = 3.0f;
  hy_channel_meanmax_forward(y9, a9, x9, 1, 9, 1, 6, NULL);
  for (int p = 0; p < 6; p++) g_assert_cmpint(a9[p], ==, tie[p][0]);
}

static void test_adaptive_bins(void) {
  /* PyTorch's bins (probed with one-hot inputs to adaptive_avg_pool1d) */
  static const int want[][9] = {
      {4, 0, 1, 1, 2, 2, 3, 3, 4},   {5, 0, 2, 1, 3, 2, 4, 3, 5},
      {7, 0, 2, 1, 4, 3, 6, 5, 7},   {13, 0, 4, 3, 7, 6, 10, 9, 13},
      {3, 0, 1, 0, 2, 1, 3, 2, 3}};
  for (size_t k = 0; k < G_N_ELEMENTS(want); k++)
    for (int i = 0; i < 4; i++) {
      int s, e;
      hy_adaptive_bin(i, want[k][0], 4, &s, &e);
      g_assert_cmpint(s, ==, want[k][1 + 2 * i]);
      g_assert_cmpint(e, ==, want[k][2 + 2 * i]);
    }
}

static void test_adaptive_avgpool(void) {
  tu_rng rng = tu_rng_new(3);
  static const int cases[][6] = {{1, 2, 4, 5, 4, 4},   {2, 3, 7, 5, 4, 4},
                                 {1, 2, 13, 9, 4, 4},  {2, 1, 3, 2, 4, 4},
                                 {1, 3, 32, 26, 4, 4}, {2, 2, 11, 6, 3, 5}};
  for (size_t s = 0; s < G_N_ELEMENTS(cases); s++) {
    const int *d = cases[s];
    op_t o = {"adaptive avgpool", aavg_f, aavg_b, aavg_fr, aavg_br, .N = d[0],
              .C = d[1], .H = d[2], .W = d[3], .OH = d[4], .OW = d[5]};
    unary(&o, &rng, nchw(d[0], d[1], d[2], d[3]), nchw(d[0], d[1], d[4], d[5]));
    check_op(&o, &rng);

    /* channels-last, strided, must agree with the NCHW op per channel */
    int N = d[0] * 2, C = d[1] + 2, ldx = C + 3, ldy = C + 1;
    op_t t = {"adaptive avgpool nhwc", anhwc_f, anhwc_b, anhwc_fr, anhwc_br,
              .N = N, .C = C, .H = d[2], .W = d[3], .OH = d[4], .OW = d[5],
              .ldx = ldx, .ldy = ldy};
    unary(&t, &rng, (size_t)N * d[2] * d[3] * ldx, (size_t)N * d[4] * d[5] * ldy);
    check_op(&t, &rng);
    size_t hw = (size_t)d[2] * d[3], ohw = (size_t)d[4] * d[5];
    float *planes = fnew((size_t)N * C * hw), *want = fnew((size_t)N * C * ohw);
    for (int n = 0; n < N; n++)
      for (int c = 0; c < C; c++)
        for (size_t i = 0; i < hw; i++)
          planes[((size_t)n * C + c) * hw + i] = t.in[0][((size_t)n * hw + i) * ldx + 1 + c];
    hy_adaptive_avgpool_forward(want, planes, N, C, d[2], d[3], d[4], d[5], NULL);
    float *y = fnew(t.ny);
    for (size_t i = 0; i < t.ny; i++) y[i] = 12345.0f;
    hy_adaptive_avgpool_nhwc_forward(y, t.in[0] + 1, N, d[2], d[3], C, d[4],
                                     d[5], ldx, ldy, pool3);
    for (int n = 0; n < N; n++)
      for (size_t i = 0; i < ohw; i++) {
        for (int c = 0; c < C; c++)
          g_assert_cmpfloat_with_epsilon(y[((size_t)n * ohw + i) * ldy + c],
                                         want[((size_t)n * C + c) * ohw + i], 1e-6);
        g_assert_cmpfloat(y[((size_t)n * ohw + i) * ldy + C], ==, 12345.0f);
      }
    collect();
  }
}

static void test_add_mul(void) {
  tu_rng rng = tu_rng_new(4);
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    const int *d = shapes[s];
    for (int bc = HY_BCAST_NONE; bc <= HY_BCAST_PIXEL; bc++)
      for (int mul = 0; mul < 2; mul++) {
        op_t o = {mul ? "mul" : "add", mul ? mul_f : add_f, mul ? mul_b : add_b,
                  mul ? mul_fr : add_fr, mul ? mul_br : add_br, .N = d[0],
                  .C = d[1], .H = d[2], .W = d[3], .bc = (hy_bcast)bc};
        size_t n = nchw(d[0], d[1], d[2], d[3]);
        unary(&o, &rng, n, n);
        o.n_in = 2;
        o.nin[1] = hy_bcast_size(o.bc, d[0], d[1], d[2], d[3]);
        o.in[1] = frand(&rng, o.nin[1]);
        check_op(&o, &rng);

        /* y may be a; a NULL gradient is skipped */
        float *y = fnew(n), *a = fcopy(o.in[0], n);
        (mul ? hy_mul_forward : hy_add_forward)(y, a, o.in[1], o.bc, d[0], d[1],
                                                 d[2], d[3], NULL);
        (mul ? hy_mul_forward : hy_add_forward)(a, a, o.in[1], o.bc, d[0], d[1],
                                                 d[2], d[3], pool3);
        tu_assert_close("in place", a, y, n, 0, 0);
        float *db = fnew(o.nin[1]), *dbw = fnew(o.nin[1]);
        if (mul) {
          hy_mul_backward(NULL, db, o.r, o.in[0], o.in[1], o.bc, d[0], d[1], d[2], d[3], NULL);
          hy_mul_backward_naive(NULL, dbw, o.r, o.in[0], o.in[1], o.bc, d[0], d[1], d[2], d[3]);
        } else {
          hy_add_backward(NULL, db, o.r, o.bc, d[0], d[1], d[2], d[3], NULL);
          hy_add_backward_naive(NULL, dbw, o.r, o.bc, d[0], d[1], d[2], d[3]);
        }
        tu_assert_close("db only", db, dbw, o.nin[1], 1e-6, 1e-5);
      }
    size_t n = nchw(d[0], d[1], d[2], d[3]);
    { /* the ARM's tail: max(0, a·s + r) is mul, add and ReLU, bit for bit */
      size_t np = hy_bcast_size(HY_BCAST_PIXEL, d[0], d[1], d[2], d[3]);
      float *a = frand(&rng, n), *sp = frand(&rng, np), *r = frand(&rng, n);
      float *want = fnew(n), *got = fnew(n);
      hy_mul_forward(want, a, sp, HY_BCAST_PIXEL, d[0], d[1], d[2], d[3], NULL);
      hy_add_forward(want, want, r, HY_BCAST_NONE, d[0], d[1], d[2], d[3], NULL);
      hy_relu_forward(want, want, (int)n, NULL);
      hy_mul_add_relu_forward(got, a, sp, r, d[0], d[1], d[2], d[3], pool3);
      tu_assert_close("mul add relu", got, want, n, 0, 0);
      hy_mul_add_relu_forward(r, a, sp, r, d[0], d[1], d[2], d[3], NULL); /* in place */
      tu_assert_close("mul add relu in place", r, want, n, 0, 0);
    }
    op_t acc = {"add in place", acc_f, acc_b, .N = d[0], .C = d[1], .H = d[2], .W = d[3]};
    unary(&acc, &rng, n, n);
    acc.n_in = 2;
    acc.nin[1] = n;
    acc.in[1] = frand(&rng, n);
    check_op(&acc, &rng);
    collect();
  }
}

static void test_concat(void) {
  tu_rng rng = tu_rng_new(5);
  static const int cases[][6] = {{1, 2, 1, 3, 3, 5}, {2, 8, 3, 5, 13, 9}};
  for (size_t s = 0; s < G_N_ELEMENTS(cases); s++) {
    const int *d = cases[s];
    op_t o = {"concat", cat_f, cat_b, cat_fr, cat_br, .N = d[0], .H = d[4],
              .W = d[5], .Cs = {d[1], d[2], d[3]}};
    o.n_in = 3;
    for (int i = 0; i < 3; i++) {
      o.nin[i] = nchw(d[0], d[1 + i], d[4], d[5]);
      o.in[i] = frand(&rng, o.nin[i]);
    }
    o.ny = nchw(d[0], d[1] + d[2] + d[3], d[4], d[5]);
    check_op(&o, &rng);
    /* NULL gradients are skipped */
    float *dx0 = fnew(o.nin[0]), *dx2 = fnew(o.nin[2]);
    float *g[3] = {dx0, NULL, dx2};
    hy_concat_backward(g, o.r, o.Cs, 3, d[0], d[4], d[5], pool3);
    float *w0 = fnew(o.nin[0]), *w2 = fnew(o.nin[2]);
    float *gw[3] = {w0, NULL, w2};
    hy_concat_backward_naive(gw, o.r, o.Cs, 3, d[0], d[4], d[5]);
    tu_assert_close("concat dx0", dx0, w0, o.nin[0], 0, 0);
    tu_assert_close("concat dx2", dx2, w2, o.nin[2], 0, 0);
    collect();
  }
}

/* The token layout changes against index loops: both splits (a side of a
 * few channels and of many), the summed addend, accumulation, 3 threads. */
static void test_tokens(void) {
  tu_rng rng = tu_rng_new(12);
  static const int cases[][3] = {{1, 8, 1000}, {2, 3, 37}, {1, 40, 65}, {2, 70, 5}, {1, 1, 1}};
  for (size_t s = 0; s < G_N_ELEMENTS(cases); s++) {
    int N = cases[s][0], C = cases[s][1], HW = cases[s][2];
    size_t n = (size_t)N * C * HW;
    float *x = frand(&rng, n), *x2 = frand(&rng, n), *base = frand(&rng, n);
    float *sum = fnew(n), *tok = fnew(n), *got = fnew(n), *acc = fnew(n), *want = fnew(n);
    for (int b = 0; b < N; b++)
      for (int c = 0; c < C; c++)
        for (int p = 0; p < HW; p++) {
          size_t i = ((size_t)b * C + c) * HW + p, t = ((size_t)b * HW + p) * C + c;
          tok[t] = x[i];
          sum[t] = x[i] + x2[i];
        }
    for (int run = 0; run < 2; run++) {
      hy_pool *pool = run ? pool3 : NULL;
      hy_to_tokens_forward(got, x, NULL, N, C, HW, pool);
      tu_assert_close("to_tokens", got, tok, n, 0, 0);
      hy_to_tokens_forward(got, x, x2, N, C, HW, pool);
      tu_assert_close("to_tokens + x2", got, sum, n, 0, 0);
      hy_from_tokens_forward(got, tok, N, C, HW, pool);
      tu_assert_close("from_tokens", got, x, n, 0, 0);
      /* backward adds: dx += the other layout of dy */
      memcpy(acc, base, n * sizeof *acc);
      hy_to_tokens_backward(acc, tok, N, C, HW, pool);
      for (size_t i = 0; i < n; i++) want[i] = base[i] + x[i];
      tu_assert_close("to_tokens backward", acc, want, n, 0, 0);
      memcpy(acc, base, n * sizeof *acc);
      hy_from_tokens_backward(acc, x, N, C, HW, pool);
      for (size_t i = 0; i < n; i++) want[i] = base[i] + tok[i];
      tu_assert_close("from_tokens backward", acc, want, n, 0, 0);
    }
    collect();
  }
}

static const int resize_cases[][6] = {
    {2, 3, 3, 5, 6, 10},  /* x2 up */
    {1, 1, 8, 10, 4, 5},  /* [::2, ::2] */
    {1, 2, 5, 6, 7, 74},  /* float index rule differs from exact here */
    {1, 1, 6, 5, 74, 7},  /* ... and here, along rows */
    {2, 2, 4, 3, 12, 9},  /* x3 up */
    {1, 3, 7, 9, 3, 4},   /* down, uneven */
    {2, 2, 5, 5, 5, 5},   /* identity */
    {1, 2, 1, 1, 3, 4},   /* from one pixel */
    {1, 2, 3, 4, 1, 1},   /* to one pixel */
    {1, 2, 20, 700, 40, 1400}, /* several row bands per plane */
};

static void test_resize(void) {
  tu_rng rng = tu_rng_new(6);
  for (size_t s = 0; s < G_N_ELEMENTS(resize_cases); s++) {
    const int *d = resize_cases[s];
    int big = d[5] > 100;
    op_t o = {"nearest", near_f, near_b, near_fr, near_br, .N = d[0], .C = d[1],
              .H = d[2], .W = d[3], .OH = d[4], .OW = d[5]};
    unary(&o, &rng, nchw(d[0], d[1], d[2], d[3]), nchw(d[0], d[1], d[4], d[5]));
    check_op(&o, &rng);
    op_t b = {"bilinear", bil_f, bil_b, bil_fr, bil_br, .N = d[0], .C = d[1],
              .H = d[2], .W = d[3], .OH = d[4], .OW = d[5]};
    unary(&b, &rng, nchw(d[0], d[1], d[2], d[3]), nchw(d[0], d[1], d[4], d[5]));
    b.scratch = fnew(hy_resize_bilinear_scratch(d[5], hy_pool_threads(pool3)));
    if (big) b.fd_eps = 2e-2;
    check_op(&b, &rng);
    collect();
  }
  g_assert_cmpint(hy_resize_nearest_src(37, 6, 74), ==, 2); /* PyTorch's float rule */
  g_assert_cmpint(hy_resize_nearest_src(36, 6, 74), ==, 2);
  g_assert_cmpint(hy_resize_nearest_src(38, 6, 74), ==, 3);
}

/* align_corners=True: 2x2 -> 4x4 interpolates [1, 2] as [1, 4/3, 5/3, 2];
 * the four corners are the input's corners. */
static void test_bilinear_example(void) {
  const float x[4] = {1, 2, 3, 4};
  float y[16], scratch[64];
  g_assert_cmpuint(hy_resize_bilinear_scratch(4, 1), <=, G_N_ELEMENTS(scratch));
  hy_resize_bilinear_forward(y, x, 1, 1, 2, 2, 4, 4, scratch, NULL);
  const float row0[4] = {1, 4.0f / 3, 5.0f / 3, 2};
  tu_assert_close("2x2 -> 4x4 first row", y, row0, 4, 1e-6, 0);
  const float col0[4] = {y[0], y[4], y[8], y[12]}, want[4] = {1, 5.0f / 3, 7.0f / 3, 3};
  tu_assert_close("2x2 -> 4x4 first column", col0, want, 4, 1e-6, 0);
  g_assert_cmpfloat(y[3], ==, 2);
  g_assert_cmpfloat(y[12], ==, 3);
  g_assert_cmpfloat(y[15], ==, 4);
  float dx[4] = {0}, dy[16];
  for (int i = 0; i < 16; i++) dy[i] = 1;
  hy_resize_bilinear_backward(dx, dy, 1, 1, 2, 2, 4, 4, scratch, NULL);
  const float dxw[4] = {4, 4, 4, 4}; /* each output's weights sum to 1, by symmetry */
  tu_assert_close("2x2 -> 4x4 backward of ones", dx, dxw, 4, 1e-6, 0);
}

static void test_pad(void) {
  tu_rng rng = tu_rng_new(7);
  static const int cases[][5] = {{2, 5, 7, 3, 4}, {1, 8, 8, 2, 4}, {1, 13, 26, 5, 8}};
  for (size_t s = 0; s < G_N_ELEMENTS(cases); s++) {
    const int *d = cases[s];
    int Hp = hy_pad_to_multiple(d[1], d[4]), Wp = hy_pad_to_multiple(d[2], d[4]);
    g_assert_cmpint(Hp % d[4], ==, 0);
    g_assert_true(Hp >= d[1] && Hp < d[1] + d[4]);
    size_t small = (size_t)d[0] * d[1] * d[2] * d[3], padded = (size_t)d[0] * Hp * Wp * d[3];
    op_t p = {"pad", pad_f, pad_b, pad_fr, pad_br, .N = d[0], .H = d[1],
              .W = d[2], .C = d[3], .Hp = Hp, .Wp = Wp};
    unary(&p, &rng, small, padded);
    check_op(&p, &rng);
    op_t c = {"crop", crop_f, crop_b, crop_fr, crop_br, .N = d[0], .H = d[1],
              .W = d[2], .C = d[3], .Hp = Hp, .Wp = Wp};
    unary(&c, &rng, padded, small);
    check_op(&c, &rng);
    /* crop(pad(x)) == x, and the padding is exact zeros */
    float *y = fnew(padded), *back = fnew(small);
    for (size_t i = 0; i < padded; i++) y[i] = 7.0f;
    hy_pad_forward(y, p.in[0], d[0], d[1], d[2], d[3], Hp, Wp, pool3);
    hy_crop_forward(back, y, d[0], d[1], d[2], d[3], Hp, Wp, NULL);
    tu_assert_close("crop(pad(x))", back, p.in[0], small, 0, 0);
    double pad_sum = 0;
    for (size_t i = 0; i < padded; i++) pad_sum += y[i] == 7.0f;
    g_assert_cmpfloat(pad_sum, ==, 0);
    collect();
  }
  g_assert_cmpint(hy_pad_to_multiple(1, 8), ==, 8);
  g_assert_cmpint(hy_pad_to_multiple(16, 8), ==, 16);
  g_assert_cmpint(hy_pad_to_multiple(17, 8), ==, 24);
}

/* ---- PyTorch fixtures ---- */

static hy_tensorfile *load_fixture(const char *name) {
  g_autofree char *file = g_strdup_printf("ops/elem-%s.hyatt", name);
  return tu_fixture(file);
}

static const float *tensor(const hy_tensorfile *tf, const char *name,
                           size_t *count, int64_t dims[4]) {
  const hy_tensor_entry *e = hy_tensorfile_find(tf, name);
  if (!e) g_error("fixture has no tensor %s", name);
  size_t n = 1;
  for (int i = 0; i < 4; i++) dims[i] = 1;
  for (int i = 0; i < e->ndim; i++) {
    n *= (size_t)e->dims[i];
    dims[4 - e->ndim + i] = e->dims[i]; /* right-aligned: [N][C][H][W] */
  }
  if (count) *count = n;
  hy_error err = {0};
  const float *p = hy_tensorfile_f32(tf, name, n, &err);
  if (!p) g_error("%s", err.msg);
  return p;
}

/* Runs o (whose in[], dims and y/ny are set) against y, and its backward
 * with dy against the fixture's gradients (names in grads). */
static void check_fixture(const char *what, op_t *o, const hy_tensorfile *tf,
                          const char *const *grads) {
  int64_t d[4];
  size_t ny;
  const float *y = tensor(tf, "y", &ny, d);
  g_assert_cmpuint(ny, ==, o->ny);
  o->y = fnew(ny);
  o->r = fcopy(tensor(tf, "dy", NULL, d), ny);
  if (o->narg) {
    o->arg = g_new0(int32_t, o->narg);
    g_ptr_array_add(garbage, o->arg);
  }
  o->pool = pool3;
  o->fwd(o);
  char msg[128];
  g_snprintf(msg, sizeof msg, "fixture %s forward", what);
  tu_assert_close(msg, o->y, y, ny, 1e-5, 1e-5);
  float *g[4];
  for (int i = 0; i < o->n_in; i++) g[i] = fnew(o->nin[i]);
  o->bwd(o, g);
  for (int i = 0; i < o->n_in; i++) {
    size_t n;
    const float *want = tensor(tf, grads[i], &n, d);
    g_assert_cmpuint(n, ==, o->nin[i]);
    g_snprintf(msg, sizeof msg, "fixture %s %s", what, grads[i]);
    tu_assert_close(msg, g[i], want, n, 1e-5, 1e-5);
  }
}

static void fixture_unary(const char *name, op_t *o, int out_spatial) {
  hy_tensorfile *tf = load_fixture(name);
  int64_t d[4], e[4];
  size_t nx, ny;
  const float *x = tensor(tf, "x", &nx, d);
  o->in[0] = fcopy(x, nx);
  tensor(tf, "y", &ny, e);
  o->n_in = 1;
  o->nin[0] = nx;
  o->ny = ny;
  o->N = (int)d[0], o->C = (int)d[1], o->H = (int)d[2], o->W = (int)d[3];
  if (out_spatial) o->OH = (int)e[2], o->OW = (int)e[3];
  if (o->scratch == NULL && o->fwd == bil_f)
    o->scratch = fnew(hy_resize_bilinear_scratch(o->OW, hy_pool_threads(pool3)));
  check_fixture(name, o, tf, (const char *const[]){"dx"});
  hy_tensorfile_free(tf);
}

static void test_fixtures(void) {
  op_t avg = {.fwd = gavg_f, .bwd = gavg_b};
  fixture_unary("avgpool", &avg, 0);
  op_t mx = {.fwd = gmax_f, .bwd = gmax_b, .narg = 6};
  fixture_unary("maxpool", &mx, 0); /* has a tie */
  op_t cmm = {.fwd = cmm_f, .bwd = cmm_b, .narg = 2 * 4 * 6};
  fixture_unary("chmeanmax", &cmm, 0); /* has a tie */
  static const char *const adapt[] = {"adapt-4x5", "adapt-7x5", "adapt-13x9"};
  for (size_t i = 0; i < G_N_ELEMENTS(adapt); i++) {
    op_t a = {.fwd = aavg_f, .bwd = aavg_b};
    fixture_unary(adapt[i], &a, 1);
  }
  static const char *const nearest[] = {"nearest-up2", "nearest-sub2", "nearest-odd",
                                         "nearest-oddrows"};
  for (size_t i = 0; i < G_N_ELEMENTS(nearest); i++) {
    op_t n = {.fwd = near_f, .bwd = near_b};
    fixture_unary(nearest[i], &n, 1);
  }
  static const char *const bilinear[] = {"bilinear-up2", "bilinear-odd", "bilinear-down"};
  for (size_t i = 0; i < G_N_ELEMENTS(bilinear); i++) {
    op_t b = {.fwd = bil_f, .bwd = bil_b};
    fixture_unary(bilinear[i], &b, 1);
  }
  collect();

  /* pad: x is [N][H][W][C] */
  hy_tensorfile *tf = load_fixture("pad");
  int64_t d[4], e[4];
  size_t nx, ny;
  op_t p = {.fwd = pad_f, .bwd = pad_b, .n_in = 1};
  const float *x = tensor(tf, "x", &nx, d);
  p.in[0] = fcopy(x, nx);
  tensor(tf, "y", &ny, e);
  p.nin[0] = nx, p.ny = ny;
  p.N = (int)d[0], p.H = (int)d[1], p.W = (int)d[2], p.C = (int)d[3];
  p.Hp = (int)e[1], p.Wp = (int)e[2];
  g_assert_cmpint(p.Hp, ==, hy_pad_to_multiple(p.H, atoi(hy_tensorfile_meta(tf, "S"))));
  check_fixture("pad", &p, tf, (const char *const[]){"dx"});
  hy_tensorfile_free(tf);

  static const char *const muls[] = {"mul-channel", "mul-pixel"};
  for (size_t i = 0; i < G_N_ELEMENTS(muls); i++) {
    tf = load_fixture(muls[i]);
    op_t m = {.fwd = mul_f, .bwd = mul_b, .n_in = 2,
              .bc = i == 0 ? HY_BCAST_CHANNEL : HY_BCAST_PIXEL};
    const float *a = tensor(tf, "a", &nx, d);
    m.in[0] = fcopy(a, nx);
    m.nin[0] = m.ny = nx;
    m.N = (int)d[0], m.C = (int)d[1], m.H = (int)d[2], m.W = (int)d[3];
    const float *b = tensor(tf, "b", &m.nin[1], e);
    m.in[1] = fcopy(b, m.nin[1]);
    g_assert_cmpuint(m.nin[1], ==, hy_bcast_size(m.bc, m.N, m.C, m.H, m.W));
    check_fixture(muls[i], &m, tf, (const char *const[]){"da", "db"});
    hy_tensorfile_free(tf);
  }

  tf = load_fixture("concat");
  op_t c = {.fwd = cat_f, .bwd = cat_b, .n_in = 3};
  static const char *const xs[] = {"x0", "x1", "x2"};
  for (int i = 0; i < 3; i++) {
    const float *xi = tensor(tf, xs[i], &c.nin[i], d);
    c.in[i] = fcopy(xi, c.nin[i]);
    c.Cs[i] = (int)d[1];
  }
  c.N = (int)d[0], c.H = (int)d[2], c.W = (int)d[3];
  c.ny = nchw(c.N, c.Cs[0] + c.Cs[1] + c.Cs[2], c.H, c.W);
  check_fixture("concat", &c, tf, (const char *const[]){"dx0", "dx1", "dx2"});
  hy_tensorfile_free(tf);
  collect();
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  garbage = g_ptr_array_new_with_free_func(g_free);
  hy_error err = {0};
  if (hy_pool_create(&pool3, 3, &err) != HY_OK) g_error("%s", err.msg);
  g_test_add_func("/elementwise/global-pools", test_global_pools);
  g_test_add_func("/elementwise/channel-meanmax", test_channel_meanmax);
  g_test_add_func("/elementwise/max-ties", test_max_ties);
  g_test_add_func("/elementwise/adaptive-bins", test_adaptive_bins);
  g_test_add_func("/elementwise/adaptive-avgpool", test_adaptive_avgpool);
  g_test_add_func("/elementwise/add-mul", test_add_mul);
  g_test_add_func("/elementwise/concat", test_concat);
  g_test_add_func("/elementwise/tokens", test_tokens);
  g_test_add_func("/elementwise/resize", test_resize);
  g_test_add_func("/elementwise/bilinear-example", test_bilinear_example);
  g_test_add_func("/elementwise/pad", test_pad);
  g_test_add_func("/elementwise/fixtures", test_fixtures);
  int rc = g_test_run();
  hy_pool_destroy(pool3);
  g_ptr_array_unref(garbage);
  return rc;
}
