/* The training step's arithmetic: masked MSE (fast vs naive, finite
 * differences, PyTorch), Adam/AdamW (5 steps vs torch.optim, weight-decay
 * exemptions, thread-count independence), clip_grad_norm_ vs torch, the
 * non-finite check and the L2 pull. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

static hy_tensorfile *load_fixture(const char *case_name) {
  g_autofree char *name = g_strdup_printf("ops/optim-%s.hyatt", case_name);
  return tu_fixture(name);
}

/* ---- MSE ---- */

typedef struct {
  float *o, *t, *w;
  float scale;
  int N, K, H, W;
} mse_case;

static mse_case mse_new(tu_rng *r, int N, int K, int H, int W) {
  size_t n = (size_t)N * K * H * W;
  mse_case c = {g_new(float, n), g_new(float, n), g_new(float, (size_t)N * K),
                1000.0f, N, K, H, W};
  tu_fill(r, c.o, n, -0.5f, 1.0f);
  tu_fill(r, c.t, n, 0.0f, 1.0f);
  for (int i = 0; i < N * K; i++) c.w[i] = i % 3 == 1 ? 0.0f : 1.0f;
  return c;
}

static void mse_free(mse_case *c) {
  g_free(c->o);
  g_free(c->t);
  g_free(c->w);
}

static double mse_loss(void *p) {
  mse_case *c = p;
  return hy_mse_forward(c->o, c->t, c->w, c->scale, c->N, c->K, c->H, c->W, NULL);
}

static void test_mse_fast_vs_naive(void) {
  static const int shapes[][4] = {{1, 1, 1, 1}, {2, 5, 7, 9}, {1, 19, 13, 11},
                                  {3, 100, 2, 3}}; /* the last: > 256 planes */
  tu_rng r = tu_rng_new(1);
  hy_pool *pool = tu_pool_new(2);
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    mse_case c = mse_new(&r, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3]);
    c.w[0] = 0.5f; /* a fractional weight too */
    size_t n = (size_t)c.N * c.K * c.H * c.W;
    double naive = hy_mse_forward_naive(c.o, c.t, c.w, c.scale, c.N, c.K, c.H, c.W);
    double serial = hy_mse_forward(c.o, c.t, c.w, c.scale, c.N, c.K, c.H, c.W, NULL);
    double pooled = hy_mse_forward(c.o, c.t, c.w, c.scale, c.N, c.K, c.H, c.W, pool);
    g_assert_cmpfloat_with_epsilon(serial, naive, 1e-12 * fabs(naive));
    g_assert_true(serial == pooled); /* thread count never changes the sum */

    float *d_fast = g_new(float, n), *d_naive = g_new(float, n);
    tu_fill(&r, d_fast, n, -1, 1); /* backward accumulates */
    memcpy(d_naive, d_fast, n * sizeof *d_fast);
    hy_mse_backward(d_fast, c.o, c.t, c.w, c.scale, c.N, c.K, c.H, c.W, pool);
    hy_mse_backward_naive(d_naive, c.o, c.t, c.w, c.scale, c.N, c.K, c.H, c.W);
    tu_assert_close("mse dO fast vs naive", d_fast, d_naive, n, 1e-6, 1e-6);
    g_free(d_fast);
    g_free(d_naive);
    mse_free(&c);
  }
  hy_pool_destroy(pool);
}

static void test_mse_gradient(void) {
  tu_rng r = tu_rng_new(2);
  mse_case c = mse_new(&r, 2, 4, 5, 7);
  size_t plane = (size_t)c.H * c.W, n = (size_t)c.N * c.K * plane;
  float *d = g_new0(float, n);
  hy_mse_backward(d, c.o, c.t, c.w, c.scale, c.N, c.K, c.H, c.W, NULL);
  for (size_t i = 0; i < n; i++)
    if (c.w[i / plane] == 0.0f && d[i] != 0.0f)
      g_error("dO[%zu] is %g in a masked plane, expected exactly 0", i, d[i]);
  tu_check_grad("mse dO", c.o, d, n, mse_loss, &c,
                &(tu_gradcheck){.eps = 1e-2, .atol = 1e-4, .rtol = 1e-3,
                                .max_probes = 200});
  /* masked planes do not move the loss at all */
  double before = mse_loss(&c);
  for (size_t i = plane; i < 2 * plane; i++) c.o[i] += 5.0f; /* plane 1: w = 0 */
  g_assert_cmpfloat(mse_loss(&c), ==, before);
  g_free(d);
  mse_free(&c);
}

static void test_mse_torch(void) {
  hy_tensorfile *tf = load_fixture("mse");
  int N = (int)tu_meta_num(tf, "N"), K = (int)tu_meta_num(tf, "K");
  int H = (int)tu_meta_num(tf, "H"), W = (int)tu_meta_num(tf, "W");
  size_t n = (size_t)N * K * H * W;
  float scale = (float)tu_meta_num(tf, "scale");
  const float *o = tu_f32(tf, "o", n), *t = tu_f32(tf, "t", n);
  const float *w = tu_f32(tf, "w", (size_t)N * K);
  double want = tu_meta_num(tf, "loss");
  double got = hy_mse_forward(o, t, w, scale, N, K, H, W, NULL);
  if (!(fabs(got - want) <= 1e-9 * fabs(want)))
    g_error("mse loss %.12g, torch %.12g", got, want);
  float *d = g_new0(float, n);
  hy_mse_backward(d, o, t, w, scale, N, K, H, W, NULL);
  tu_assert_close("mse dO vs torch", d, tu_f32(tf, "do", n), n, 1e-7, 1e-6);
  g_free(d);
  hy_tensorfile_free(tf);
}

/* ---- Adam / AdamW ---- */

static void adam_from_fixture(hy_adam *opt, hy_adam_range *range,
                              const hy_tensorfile *tf, size_t n) {
  hy_adam_init(opt, g_str_equal(hy_tensorfile_meta(tf, "op"), "adamw"),
               tu_meta_num(tf, "weight_decay"));
  g_assert_cmpfloat(opt->beta1, ==, tu_meta_num(tf, "beta1"));
  g_assert_cmpfloat(opt->beta2, ==, tu_meta_num(tf, "beta2"));
  g_assert_cmpfloat(opt->eps, ==, tu_meta_num(tf, "eps"));
  const char *nd = hy_tensorfile_meta(tf, "no_decay");
  if (nd && !g_str_equal(nd, "none")) {
    char *end;
    range->begin = strtoull(nd, &end, 10);
    range->end = strtoull(end, NULL, 10);
    hy_error err = {0};
    g_assert_cmpint(hy_adam_set_no_decay(opt, range, 1, n, &err), ==, HY_OK);
  }
}

static void check_adam_case(const char *case_name) {
  hy_tensorfile *tf = load_fixture(case_name);
  size_t n = (size_t)tu_meta_num(tf, "n");
  int steps = (int)tu_meta_num(tf, "steps");
  double lr = tu_meta_num(tf, "lr");
  hy_adam opt;
  hy_adam_range range;
  adam_from_fixture(&opt, &range, tf, n);
  const float *grads = tu_f32(tf, "grads", (size_t)steps * n);
  const float *want = tu_f32(tf, "params", (size_t)steps * n);
  float *p = g_memdup2(tu_f32(tf, "p0", n), n * sizeof(float));
  float *m = g_new0(float, n), *v = g_new0(float, n);
  for (int s = 0; s < steps; s++) {
    hy_adam_update(&opt, p, m, v, grads + (size_t)s * n, lr, n, NULL);
    g_autofree char *what = g_strdup_printf("%s params after step %d", case_name, s + 1);
    /* one step moves a parameter by about lr = 1e-2 */
    tu_assert_close(what, p, want + (size_t)s * n, n, 1e-7, 1e-6);
  }
  g_assert_cmpint(opt.step, ==, steps);
  tu_assert_close("exp_avg", m, tu_f32(tf, "m", n), n, 1e-9, 1e-5);
  tu_assert_close("exp_avg_sq", v, tu_f32(tf, "v", n), n, 1e-12, 1e-5);
  g_free(p);
  g_free(m);
  g_free(v);
  hy_tensorfile_free(tf);
}

static void test_adam_torch(void) {
  static const char *cases[] = {"adam", "adam-wd", "adam-groups",
                                "adamw", "adamw-wd", "adamw-groups"};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) check_adam_case(cases[i]);
}

typedef struct {
  float *p, *m, *v;
} adam_state;

static adam_state state_copy(const float *p0, size_t n) {
  return (adam_state){g_memdup2(p0, n * sizeof(float)), g_new0(float, n),
                      g_new0(float, n)};
}

static void state_free(adam_state *s) {
  g_free(s->p);
  g_free(s->m);
  g_free(s->v);
}

/* Ranges across chunk borders (chunks are 16384 here) get exactly the
 * wd = 0 update, everything else exactly the decayed one, with or without
 * a pool. */
static void test_adam_no_decay_ranges(void) {
  enum { N = 70001 };
  static const hy_adam_range ranges[] = {
      {0, 5}, {16380, 16390}, {40000, 50000}, {50001, 50002}, {69999, 70001}};
  tu_rng r = tu_rng_new(3);
  float *p0 = g_new(float, N), *g = g_new(float, N);
  tu_fill(&r, p0, N, -2, 2);
  hy_pool *pool = tu_pool_new(2);
  for (int decoupled = 0; decoupled <= 1; decoupled++) {
    hy_adam with, plain, none;
    hy_adam_init(&with, decoupled, 0.1);
    hy_adam_init(&plain, decoupled, 0.1);
    hy_adam_init(&none, decoupled, 0.0);
    hy_error err = {0};
    g_assert_cmpint(hy_adam_set_no_decay(&with, ranges, G_N_ELEMENTS(ranges), N, &err),
                    ==, HY_OK);
    adam_state a = state_copy(p0, N), b = state_copy(p0, N), c = state_copy(p0, N);
    adam_state d = state_copy(p0, N);
    hy_adam with_serial = with;
    for (int s = 0; s < 3; s++) {
      tu_fill(&r, g, N, -1, 1);
      hy_adam_update(&with, a.p, a.m, a.v, g, 0.01, N, pool);
      hy_adam_update(&plain, b.p, b.m, b.v, g, 0.01, N, pool);
      hy_adam_update(&none, c.p, c.m, c.v, g, 0.01, N, NULL);
      hy_adam_update(&with_serial, d.p, d.m, d.v, g, 0.01, N, NULL);
    }
    g_assert_cmpmem(a.p, N * sizeof(float), d.p, N * sizeof(float));
    size_t k = 0;
    for (size_t i = 0; i < N; i++) {
      while (k < G_N_ELEMENTS(ranges) && ranges[k].end <= i) k++;
      int exempt = k < G_N_ELEMENTS(ranges) && ranges[k].begin <= i;
      float want = exempt ? c.p[i] : b.p[i];
      if (a.p[i] != want)
        g_error("%s: param %zu (%s) is %.9g, expected %.9g", decoupled ? "adamw" : "adam",
                i, exempt ? "exempt" : "decayed", a.p[i], want);
    }
    state_free(&a);
    state_free(&b);
    state_free(&c);
    state_free(&d);
  }
  hy_pool_destroy(pool);
  g_free(p0);
  g_free(g);
}

static void test_adam_bad_ranges(void) {
  hy_adam opt;
  hy_adam_init(&opt, 1, 0.01);
  hy_error err = {0};
  hy_adam_range overlap[] = {{0, 10}, {5, 20}};
  g_assert_cmpint(hy_adam_set_no_decay(&opt, overlap, 2, 100, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "overlaps"));
  hy_adam_range outside[] = {{90, 101}};
  g_assert_cmpint(hy_adam_set_no_decay(&opt, outside, 1, 100, &err), ==, HY_E_ARG);
  g_assert_nonnull(strstr(err.msg, "outside the 100"));
  g_assert_null(opt.no_decay);
}

/* ---- gradient helpers ---- */

static void check_clip_case(const char *case_name) {
  hy_tensorfile *tf = load_fixture(case_name);
  size_t n = (size_t)tu_meta_num(tf, "n");
  float *g = g_memdup2(tu_f32(tf, "g", n), n * sizeof(float));
  float norm = hy_clip_grad_norm(g, n, (float)tu_meta_num(tf, "max_norm"), NULL);
  double want = tu_meta_num(tf, "norm");
  if (!(fabs(norm - want) <= 1e-6 * want))
    g_error("%s: norm %.9g, torch %.9g", case_name, norm, want);
  tu_assert_close(case_name, g, tu_f32(tf, "clipped", n), n, 1e-7, 1e-6);
  g_free(g);
  hy_tensorfile_free(tf);
}

static void test_clip_torch(void) {
  check_clip_case("clip");
  check_clip_case("noclip");
}

static void test_clip_threads(void) {
  enum { N = 300001 };
  tu_rng r = tu_rng_new(4);
  float *a = g_new(float, N), *b = g_new(float, N);
  tu_fill(&r, a, N, -1, 1);
  memcpy(b, a, N * sizeof(float));
  double s = 0;
  for (size_t i = 0; i < N; i++) s += (double)a[i] * a[i];
  hy_pool *pool = tu_pool_new(2);
  float na = hy_clip_grad_norm(a, N, 1.0f, NULL);
  float nb = hy_clip_grad_norm(b, N, 1.0f, pool);
  g_assert_true(na == nb);
  g_assert_cmpfloat_with_epsilon(na, sqrt(s), 1e-6 * sqrt(s));
  g_assert_cmpmem(a, N * sizeof(float), b, N * sizeof(float));
  double after = 0;
  for (size_t i = 0; i < N; i++) after += (double)a[i] * a[i];
  g_assert_cmpfloat_with_epsilon(sqrt(after), 1.0, 1e-5);
  /* a non-finite norm is reported and leaves the gradients alone */
  a[7] = NAN;
  memcpy(b, a, N * sizeof(float));
  g_assert_true(isnan(hy_clip_grad_norm(a, N, 1.0f, pool)));
  g_assert_cmpmem(a, N * sizeof(float), b, N * sizeof(float));
  hy_pool_destroy(pool);
  g_free(a);
  g_free(b);
}

static void test_check_finite(void) {
  enum { N = 100000 };
  float *g = g_new0(float, N);
  hy_pool *pool = tu_pool_new(2);
  hy_error err = {0};
  g_assert_cmpint(hy_grad_check_finite(g, N, "gradients", pool, &err), ==, HY_OK);
  g[90000] = -INFINITY;
  g[70001] = NAN;
  g_assert_cmpint(hy_grad_check_finite(g, N, "gradients", pool, &err), ==, HY_E_NUMERIC);
  g_assert_nonnull(strstr(err.msg, "gradients: element 70001 of 100000 is nan"));
  g[70001] = 0;
  g_assert_cmpint(hy_grad_check_finite(g, N, "gradients", NULL, &err), ==, HY_E_NUMERIC);
  g_assert_nonnull(strstr(err.msg, "element 90000 of 100000 is -inf"));
  hy_pool_destroy(pool);
  g_free(g);
}

static void test_pull_to_base(void) {
  enum { N = 40000 };
  tu_rng r = tu_rng_new(5);
  float *g = g_new(float, N), *p = g_new(float, N), *base = g_new(float, N);
  float *want = g_new(float, N);
  tu_fill(&r, g, N, -1, 1);
  tu_fill(&r, p, N, -1, 1);
  tu_fill(&r, base, N, -1, 1);
  for (size_t i = 0; i < N; i++) want[i] = g[i] + 0.01f * (p[i] - base[i]);
  hy_pool *pool = tu_pool_new(2);
  hy_grad_pull_to_base(g, p, base, 0.01f, N, pool);
  tu_assert_close("pull to base", g, want, N, 0, 0);
  hy_pool_destroy(pool);
  g_free(g);
  g_free(p);
  g_free(base);
  g_free(want);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/optim/mse/fast-vs-naive", test_mse_fast_vs_naive);
  g_test_add_func("/optim/mse/gradient", test_mse_gradient);
  g_test_add_func("/optim/mse/torch", test_mse_torch);
  g_test_add_func("/optim/adam/torch", test_adam_torch);
  g_test_add_func("/optim/adam/no-decay-ranges", test_adam_no_decay_ranges);
  g_test_add_func("/optim/adam/bad-ranges", test_adam_bad_ranges);
  g_test_add_func("/optim/clip/torch", test_clip_torch);
  g_test_add_func("/optim/clip/threads", test_clip_threads);
  g_test_add_func("/optim/check-finite", test_check_finite);
  g_test_add_func("/optim/pull-to-base", test_pull_to_base);
  return g_test_run();
}
