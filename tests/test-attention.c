/* Bi-level routing attention and the stage-5 global attention: fast kernels
 * vs the naive references (padding, overlapping and upsampling pooling bins,
 * top-1 and top-k, 1..5 heads, batch 1 and 2; 1 and 2 threads give the same
 * bits), routing ties going to the lower index, backward vs finite
 * differences for x and every parameter, the NETWORK.md §9 oracle (BRA with
 * every region routed and identity pooling is plain attention), and PyTorch
 * fixtures (tests/reference/ops_attention.py).
 *
 * Tolerances: fast vs naive and vs PyTorch (float64), forward 3e-5 and
 * gradients 2e-4, each as atol = tol * max(1, max |reference|) plus
 * rtol = tol; routing indices exactly; finite differences eps 1e-2,
 * atol 2e-3, rtol 2e-2. Inputs carry a per-region offset and are redrawn
 * until every query region's k-th and (k+1)-th routing scores differ by at
 * least 0.02, so the probes' nudges (at most ~4e-3 on a score) never flip
 * the routing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hyatt.h"
#include "testutil.h"

static float maxabs(const float *x, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
  return m;
}

static void check(const char *what, const float *got, const float *want,
                  size_t n, double tol) {
  double m = maxabs(want, n);
  tu_assert_close(what, got, want, n, tol * (m > 1 ? m : 1), tol);
}

/* ---- BRA cases ----------------------------------------------------------- */

enum { NPAR = 7 }; /* x and the six parameters */
static const char *const bra_names[NPAR] = {
    "x", "qkv.weight", "qkv.bias", "lepe.weight", "lepe.bias", "proj.weight", "proj.bias"};

typedef struct bra_case {
  hy_bra_dims d;
  float *t[NPAR]; /* x, qkv_w, qkv_b, lepe_w, lepe_b, proj_w, proj_b */
  size_t n[NPAR];
  size_t ny;
  float *y, *cache, *scratch, *r;
  hy_pool *pool;
} bra_case;

static void bra_sizes(bra_case *c) {
  hy_bra_dims d = c->d;
  size_t C = d.C;
  c->ny = (size_t)d.N * d.H * d.W * C;
  size_t n[NPAR] = {c->ny, 3 * C * C, 3 * C, C * 25, C, C * C, C};
  memcpy(c->n, n, sizeof n);
}

/* The smallest gap between the k-th and (k+1)-th routing score over all
 * query regions, from the region means of the padded input (the means of
 * q and k are affine in them). */
static double bra_margin(const bra_case *c) {
  hy_bra_dims d = c->d;
  int C = d.C, S = d.S, R = S * S;
  int rh = (d.H + S - 1) / S, rw = (d.W + S - 1) / S;
  if (d.topk >= R) return INFINITY;
  double *qm = g_new0(double, (size_t)R * C), *km = g_new0(double, (size_t)R * C);
  double *xm = g_new0(double, C), *A = g_new(double, R);
  double scale = 1.0 / sqrt(C), margin = INFINITY;
  for (int n = 0; n < d.N; n++) {
    for (int r = 0; r < R; r++) {
      memset(xm, 0, C * sizeof *xm);
      for (int y = (r / S) * rh; y < (r / S + 1) * rh; y++)
        for (int x = (r % S) * rw; x < (r % S + 1) * rw; x++)
          if (y < d.H && x < d.W)
            for (int i = 0; i < C; i++)
              xm[i] += c->t[0][(((size_t)n * d.H + y) * d.W + x) * C + i] / (rh * rw);
      for (int o = 0; o < C; o++) {
        double q = c->t[2][o], k = c->t[2][C + o];
        for (int i = 0; i < C; i++) {
          q += c->t[1][(size_t)o * C + i] * xm[i];
          k += c->t[1][(size_t)(C + o) * C + i] * xm[i];
        }
        qm[(size_t)r * C + o] = q;
        km[(size_t)r * C + o] = k;
      }
    }
    for (int r = 0; r < R; r++) {
      for (int s = 0; s < R; s++) {
        A[s] = 0;
        for (int i = 0; i < C; i++) A[s] += qm[(size_t)r * C + i] * km[(size_t)s * C + i];
        A[s] *= scale;
      }
      /* sorted descending; an exact tie (regions that are all padding)
       * is broken by index in both implementations, so only the gaps
       * around the tied group at the k-th place count */
      for (int j = 0; j < R; j++)
        for (int s = j + 1; s < R; s++)
          if (A[s] > A[j]) {
            double tmp = A[s];
            A[s] = A[j];
            A[j] = tmp;
          }
      int lo = d.topk - 1, hi = d.topk;
      while (lo > 0 && A[lo - 1] == A[d.topk - 1]) lo--;
      while (hi < R && A[hi] == A[d.topk - 1]) hi++;
      if (lo > 0) margin = fmin(margin, A[lo - 1] - A[lo]);
      if (hi < R) margin = fmin(margin, A[hi - 1] - A[hi]);
    }
  }
  g_free(qm), g_free(km), g_free(xm), g_free(A);
  return margin;
}

static void bra_alloc_work(bra_case *c) {
  size_t sn = hy_bra_scratch_size(c->d, hy_pool_threads(c->pool));
  size_t nn = hy_bra_naive_scratch_size(c->d);
  c->y = g_new(float, c->ny);
  c->cache = g_new(float, hy_bra_cache_size(c->d));
  c->scratch = g_new(float, sn > nn ? sn : nn);
}

/* Random parameters and a region-structured input with a clear routing. */
static bra_case bra_new(hy_bra_dims d, uint64_t seed, hy_pool *pool) {
  bra_case c = {.d = d, .pool = pool};
  bra_sizes(&c);
  float b = 1.0f / sqrtf((float)d.C);
  int S = d.S, rh = (d.H + S - 1) / S, rw = (d.W + S - 1) / S;
  for (int attempt = 0; attempt < 200; attempt++) {
    tu_rng r = tu_rng_new(seed * 1000 + attempt);
    for (int k = 0; k < NPAR; k++) g_free(c.t[k]);
    c.t[1] = tu_random(&r, c.n[1], -b, b);
    c.t[2] = tu_random(&r, c.n[2], -b, b);
    c.t[3] = tu_random(&r, c.n[3], -0.2f, 0.2f);
    c.t[4] = tu_random(&r, c.n[4], -0.2f, 0.2f);
    c.t[5] = tu_random(&r, c.n[5], -b, b);
    c.t[6] = tu_random(&r, c.n[6], -b, b);
    float *off = tu_random(&r, (size_t)d.N * S * S * d.C, -3.0f, 3.0f);
    c.t[0] = tu_random(&r, c.ny, -0.5f, 0.5f);
    for (int n = 0; n < d.N; n++)
      for (int y = 0; y < d.H; y++)
        for (int x = 0; x < d.W; x++)
          for (int i = 0; i < d.C; i++)
            c.t[0][(((size_t)n * d.H + y) * d.W + x) * d.C + i] +=
                off[(((size_t)n * S + y / rh) * S + x / rw) * d.C + i];
    g_free(off);
    if (bra_margin(&c) >= 0.02) {
      bra_alloc_work(&c);
      tu_rng rr = tu_rng_new(seed + 77);
      c.r = tu_random(&rr, c.ny, -1, 1);
      return c;
    }
  }
  g_error("no input with a routing margin of 0.02 for this shape");
}

static void bra_free(bra_case *c) {
  for (int k = 0; k < NPAR; k++) g_free(c->t[k]);
  g_free(c->y), g_free(c->cache), g_free(c->scratch), g_free(c->r);
}

static void bra_fwd(bra_case *c) {
  hy_bra_forward(c->y, c->cache, c->t[0], NULL, c->t[1], c->t[2], c->t[3], c->t[4],
                 c->t[5], c->t[6], c->d, c->scratch, c->pool);
}

/* g[k] += gradients of sum(y * dy); forward must have run. */
static void bra_bwd(bra_case *c, float **g, const float *dy) {
  hy_bra_backward(g[0], g[1], g[2], g[3], g[4], g[5], g[6], dy, c->cache,
                  c->t[0], c->t[1], c->t[3], c->t[5], c->d, c->scratch, c->pool);
}

static void bra_bwd_naive(bra_case *c, float **g, const float *dy) {
  hy_bra_backward_naive(g[0], g[1], g[2], g[3], g[4], g[5], g[6], dy, c->t[0],
                        c->t[1], c->t[2], c->t[3], c->t[4], c->t[5], c->t[6],
                        c->d, c->scratch);
}

static const hy_bra_dims bra_shapes[] = {
    /* N, H, W, C, S, topk, heads, pool, infer */
    {1, 13, 11, 8, 3, 2, 1, 4, 0},  /* regions 5 x 4: overlapping rows, padding */
    {2, 12, 15, 10, 2, 1, 2, 4, 0}, /* batch 2, top-1, regions 6 x 8, pad 1 col */
    {1, 16, 18, 40, 4, 5, 5, 4, 0}, /* 5 heads, regions 4 x 5, pad 2 cols */
    {2, 9, 9, 16, 3, 9, 2, 4, 0},   /* every region routed; 3 x 3 pooled up to 4 x 4 */
    {1, 20, 14, 8, 2, 3, 1, 3, 0},  /* pool 3 over 10 x 7 */
    {1, 7, 10, 12, 1, 1, 3, 4, 0},  /* one region */
    {1, 4, 12, 8, 3, 4, 2, 4, 0},   /* last region row all padding: exact ties */
    {1, 10, 9, 40, 2, 2, 2, 4, 0},  /* head width 20 */
};

static void test_bra_fast_vs_naive(void) {
  hy_pool *pool2 = tu_pool_new(2);
  for (size_t s = 0; s < G_N_ELEMENTS(bra_shapes); s++) {
    bra_case c = bra_new(bra_shapes[s], 10 + s, NULL);
    hy_bra_dims d = c.d;
    size_t nidx = (size_t)d.N * d.S * d.S * d.topk;
    float *y0 = g_new(float, c.ny);
    int32_t *idx0 = g_new(int32_t, nidx);
    hy_bra_forward_naive(y0, idx0, c.t[0], c.t[1], c.t[2], c.t[3], c.t[4],
                         c.t[5], c.t[6], d, c.scratch);
    bra_fwd(&c);
    check("bra y", c.y, y0, c.ny, 3e-5);
    const int32_t *idx = hy_bra_cache_idx(c.cache, d);
    for (size_t i = 0; i < nidx; i++) g_assert_cmpint(idx[i], ==, idx0[i]);

    /* inference (its own attention kernel where the CPU has one): the same
     * y, and the same bits on 2 threads */
    float *y_train = c.y, *scratch1 = c.scratch, *scratch2 = g_new(float, hy_bra_scratch_size(d, 2));
    float *yi = g_new(float, c.ny), *yi2 = g_new(float, c.ny);
    c.d.infer = 1, c.y = yi;
    bra_fwd(&c);
    check("bra y, inference", yi, y0, c.ny, 3e-5);
    c.pool = pool2, c.scratch = scratch2, c.y = yi2;
    bra_fwd(&c);
    g_assert_cmpmem(yi2, c.ny * sizeof(float), yi, c.ny * sizeof(float));
    /* with a residual, added as the output is written: res + y, bit for bit */
    tu_rng rr = tu_rng_new(700 + s);
    float *res = tu_random(&rr, c.ny, -1, 1);
    hy_bra_forward(yi2, c.cache, c.t[0], res, c.t[1], c.t[2], c.t[3], c.t[4], c.t[5], c.t[6],
                   c.d, c.scratch, c.pool);
    for (size_t i = 0; i < c.ny; i++) yi[i] += res[i];
    g_assert_cmpmem(yi2, c.ny * sizeof(float), yi, c.ny * sizeof(float));
    g_free(res);
    c.d.infer = 0, c.pool = NULL, c.scratch = scratch1, c.y = y_train;
    g_free(yi), g_free(yi2), g_free(scratch2);
    bra_fwd(&c); /* the training cache again, for backward */

    /* backward accumulates onto what is there */
    tu_rng r = tu_rng_new(500 + s);
    float *g[NPAR], *g0[NPAR];
    for (int k = 0; k < NPAR; k++) {
      g[k] = tu_random(&r, c.n[k], -1, 1);
      g0[k] = g_memdup2(g[k], c.n[k] * sizeof(float));
    }
    bra_bwd(&c, g, c.r);
    bra_bwd_naive(&c, g0, c.r);
    for (int k = 0; k < NPAR; k++) check(bra_names[k], g[k], g0[k], c.n[k], 2e-4);

    /* a 2-thread pool: the same results bit for bit */
    float *y1 = g_memdup2(c.y, c.ny * sizeof(float));
    float *g1[NPAR];
    for (int k = 0; k < NPAR; k++) {
      g1[k] = g_new0(float, c.n[k]);
      memset(g[k], 0, c.n[k] * sizeof(float));
    }
    bra_bwd(&c, g, c.r);
    g_free(c.scratch);
    c.pool = pool2;
    c.scratch = g_new(float, hy_bra_scratch_size(d, 2));
    bra_fwd(&c);
    g_assert_cmpmem(c.y, c.ny * sizeof(float), y1, c.ny * sizeof(float));
    bra_bwd(&c, g1, c.r);
    for (int k = 0; k < NPAR; k++)
      g_assert_cmpmem(g1[k], c.n[k] * sizeof(float), g[k], c.n[k] * sizeof(float));

    for (int k = 0; k < NPAR; k++) g_free(g[k]), g_free(g0[k]), g_free(g1[k]);
    g_free(y0), g_free(y1), g_free(idx0);
    bra_free(&c);
  }
  hy_pool_destroy(pool2);
}

/* All-zero input: every routing score is the same, so every query region
 * routes to regions 0 .. topk-1 (ties go to the lower index). */
static void test_bra_ties(void) {
  hy_bra_dims d = {2, 9, 8, 8, 3, 4, 2, 4, 0};
  bra_case c = bra_new(d, 60, NULL);
  memset(c.t[0], 0, c.n[0] * sizeof(float));
  bra_fwd(&c);
  size_t nr = (size_t)d.N * d.S * d.S;
  int32_t *idx0 = g_new(int32_t, nr * d.topk);
  hy_bra_forward_naive(c.y, idx0, c.t[0], c.t[1], c.t[2], c.t[3], c.t[4], c.t[5],
                       c.t[6], d, c.scratch);
  const int32_t *idx = hy_bra_cache_idx(c.cache, d);
  for (size_t r = 0; r < nr; r++)
    for (int k = 0; k < d.topk; k++) {
      g_assert_cmpint(idx[r * d.topk + k], ==, k);
      g_assert_cmpint(idx0[r * d.topk + k], ==, k);
    }
  g_free(idx0);
  bra_free(&c);
}

static double bra_loss(void *p) {
  bra_case *c = p;
  bra_fwd(c);
  return tu_dot(c->y, c->r, c->ny);
}

static void test_bra_gradcheck(void) {
  static const hy_bra_dims shapes[] = {
      {1, 13, 11, 8, 3, 2, 2, 4, 0},
      {2, 7, 8, 10, 3, 3, 5, 4, 0},
      {1, 8, 10, 8, 2, 1, 1, 4, 0},
  };
  tu_gradcheck opt = {.eps = 1e-2, .atol = 2e-3, .rtol = 2e-2, .max_probes = 40};
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    bra_case c = bra_new(shapes[s], 40 + s, NULL);
    float *g[NPAR];
    for (int k = 0; k < NPAR; k++) g[k] = g_new0(float, c.n[k]);
    bra_fwd(&c);
    bra_bwd(&c, g, c.r);
    for (int k = 0; k < NPAR; k++) {
      g_autofree char *what = g_strdup_printf("bra shape %zu d/d%s", s, bra_names[k]);
      tu_check_grad(what, c.t[k], g[k], c.n[k], bra_loss, &c, &opt);
      g_free(g[k]);
    }
    bra_free(&c);
  }
}

/* NETWORK.md §9: with top-k = S², 4 x 4 regions pooled to 4 x 4 and no
 * padding, BRA is plain multi-head attention over all tokens with scale
 * C^-1/2, plus the depthwise term on v. */
static void naive_mha(float *y, const bra_case *c) {
  hy_bra_dims d = c->d;
  int C = d.C, T = d.H * d.W, dh = C / d.heads;
  const float *qw = c->t[1], *qb = c->t[2], *lw = c->t[3], *lb = c->t[4],
              *pw = c->t[5], *pb = c->t[6];
  double scale = 1.0 / sqrt(C);
  double *qkv = g_new(double, (size_t)T * 3 * C), *o = g_new(double, C),
         *p = g_new(double, T);
  for (int n = 0; n < d.N; n++) {
    const float *x = c->t[0] + (size_t)n * T * C;
    for (int t = 0; t < T; t++)
      for (int k = 0; k < 3 * C; k++) {
        double a = qb[k];
        for (int i = 0; i < C; i++) a += (double)qw[(size_t)k * C + i] * x[(size_t)t * C + i];
        qkv[(size_t)t * 3 * C + k] = a;
      }
    for (int t = 0; t < T; t++) {
      for (int h = 0; h < d.heads; h++) {
        double mx = -INFINITY, sum = 0;
        for (int u = 0; u < T; u++) {
          double a = 0;
          for (int i = h * dh; i < (h + 1) * dh; i++)
            a += qkv[(size_t)t * 3 * C + i] * qkv[(size_t)u * 3 * C + C + i];
          p[u] = a * scale;
          mx = fmax(mx, p[u]);
        }
        for (int u = 0; u < T; u++) sum += (p[u] = exp(p[u] - mx));
        for (int i = h * dh; i < (h + 1) * dh; i++) {
          double a = 0;
          for (int u = 0; u < T; u++) a += p[u] / sum * qkv[(size_t)u * 3 * C + 2 * C + i];
          o[i] = a;
        }
      }
      int yy = t / d.W, xx = t % d.W;
      for (int i = 0; i < C; i++) {
        o[i] += lb[i];
        for (int ky = 0; ky < 5; ky++)
          for (int kx = 0; kx < 5; kx++) {
            int iy = yy + ky - 2, ix = xx + kx - 2;
            if (iy >= 0 && iy < d.H && ix >= 0 && ix < d.W)
              o[i] += lw[i * 25 + ky * 5 + kx] * qkv[((size_t)iy * d.W + ix) * 3 * C + 2 * C + i];
          }
      }
      for (int k = 0; k < C; k++) {
        double a = pb[k];
        for (int i = 0; i < C; i++) a += pw[(size_t)k * C + i] * o[i];
        y[((size_t)n * T + t) * C + k] = (float)a;
      }
    }
  }
  g_free(qkv), g_free(o), g_free(p);
}

static void test_bra_oracle(void) {
  static const hy_bra_dims shapes[] = {
      {1, 8, 8, 16, 2, 4, 2, 4, 0},
      {2, 12, 12, 10, 3, 9, 5, 4, 0},
      {1, 8, 12, 8, 2, 4, 1, 4, 0}, /* 4 x 6 regions, pooled 4 x 4: not identity */
  };
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    bra_case c = bra_new(shapes[s], 70 + s, NULL);
    float *y0 = g_new(float, c.ny);
    naive_mha(y0, &c);
    bra_fwd(&c);
    if (s < 2) {
      check("bra = attention", c.y, y0, c.ny, 3e-5);
    } else { /* the oracle needs identity pooling: here it must fail */
      double m = maxabs(y0, c.ny), worst = 0;
      for (size_t i = 0; i < c.ny; i++) worst = fmax(worst, fabs(c.y[i] - y0[i]));
      g_assert_cmpfloat(worst, >, 1e-3 * (m > 1 ? m : 1));
    }
    g_free(y0);
    bra_free(&c);
  }
}

static void test_bra_blas_threads_restored(void) {
  hy_pool *pool = tu_pool_new(2);
  int before = hy_blas_threads();
  hy_blas_set_threads(2);
  bra_case c = bra_new(bra_shapes[0], 90, pool);
  float *g[NPAR];
  for (int k = 0; k < NPAR; k++) g[k] = g_new0(float, c.n[k]);
  bra_fwd(&c);
  g_assert_cmpint(hy_blas_threads(), ==, 2);
  bra_bwd(&c, g, c.r);
  g_assert_cmpint(hy_blas_threads(), ==, 2);
  for (int k = 0; k < NPAR; k++) g_free(g[k]);
  bra_free(&c);
  hy_blas_set_threads(before);
  hy_pool_destroy(pool);
}

/* ---- fixtures ----------------------------------------------------------- */

static void test_bra_fixtures(void) {
  static const char *const files[] = {
      "ops/attn-bra-pad.hyatt", "ops/attn-bra-batch.hyatt", "ops/attn-bra-stage1.hyatt"};
  hy_pool *pool = tu_pool_new(2);
  for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
    hy_tensorfile *tf = tu_fixture(files[f]);
    g_assert_cmpstr(hy_tensorfile_meta(tf, "op"), ==, "bra");
    bra_case c = {.pool = pool};
    c.d = (hy_bra_dims){tu_meta_int(tf, "N"), tu_meta_int(tf, "H"), tu_meta_int(tf, "W"),
                        tu_meta_int(tf, "C"), tu_meta_int(tf, "S"), tu_meta_int(tf, "topk"),
                        tu_meta_int(tf, "heads"), tu_meta_int(tf, "pool"), 0};
    bra_sizes(&c);
    bra_alloc_work(&c);
    float *g[NPAR];
    for (int k = 0; k < NPAR; k++) {
      c.t[k] = g_memdup2(tu_f32(tf, bra_names[k], c.n[k]), c.n[k] * sizeof(float));
      g[k] = g_new0(float, c.n[k]);
    }
    bra_fwd(&c);
    check("fixture y", c.y, tu_f32(tf, "y", c.ny), c.ny, 3e-5);
    size_t nidx = (size_t)c.d.N * c.d.S * c.d.S * c.d.topk;
    const hy_tensor_entry *e = hy_tensorfile_find(tf, "idx");
    g_assert_nonnull(e);
    g_assert_cmpint(e->dtype, ==, HY_I32);
    g_assert_cmpuint(e->nbytes, ==, nidx * 4);
    const int32_t *want = e->data, *idx = hy_bra_cache_idx(c.cache, c.d);
    for (size_t i = 0; i < nidx; i++) g_assert_cmpint(idx[i], ==, want[i]);
    bra_bwd(&c, g, tu_f32(tf, "dy", c.ny));
    for (int k = 0; k < NPAR; k++) {
      g_autofree char *name = g_strdup_printf("d%s", bra_names[k]);
      check(name, g[k], tu_f32(tf, name, c.n[k]), c.n[k], 2e-4);
      g_free(g[k]);
    }
    bra_free(&c);
    hy_tensorfile_free(tf);
  }
  hy_pool_destroy(pool);
}

/* ---- stage-5 attention --------------------------------------------------- */

enum { MPAR = 6 }; /* x, qkv.weight, lepe.weight, lepe.bias, proj.weight, proj.bias */
static const char *const mhsa_names[MPAR] = {
    "x", "qkv.weight", "lepe.weight", "lepe.bias", "proj.weight", "proj.bias"};

typedef struct mhsa_case {
  hy_mhsa_dims d;
  float *t[MPAR];
  size_t n[MPAR];
  size_t ny;
  float *y, *cache, *scratch, *r;
  hy_pool *pool;
} mhsa_case;

static mhsa_case mhsa_new(hy_mhsa_dims d, uint64_t seed, hy_pool *pool,
                          const hy_tensorfile *tf) {
  mhsa_case c = {.d = d, .pool = pool};
  size_t C = d.C;
  c.ny = (size_t)d.N * d.H * d.W * C;
  size_t n[MPAR] = {c.ny, 3 * C * C, 25 * C, C, C * C, C};
  memcpy(c.n, n, sizeof n);
  tu_rng r = tu_rng_new(seed);
  float b = 1.0f / sqrtf((float)C);
  float lo[MPAR] = {-1.5f, -b, -0.2f, -0.2f, -b, -b};
  for (int k = 0; k < MPAR; k++)
    c.t[k] = tf ? g_memdup2(tu_f32(tf, mhsa_names[k], c.n[k]), c.n[k] * sizeof(float))
                : tu_random(&r, c.n[k], lo[k], -lo[k]);
  c.r = tu_random(&r, c.ny, -1, 1);
  size_t sn = hy_mhsa_scratch_size(d, hy_pool_threads(pool));
  size_t nn = hy_mhsa_naive_scratch_size(d);
  c.y = g_new(float, c.ny);
  c.cache = g_new(float, hy_mhsa_cache_size(d));
  c.scratch = g_new(float, sn > nn ? sn : nn);
  return c;
}

static void mhsa_free(mhsa_case *c) {
  for (int k = 0; k < MPAR; k++) g_free(c->t[k]);
  g_free(c->y), g_free(c->cache), g_free(c->scratch), g_free(c->r);
}

static void mhsa_fwd(mhsa_case *c) {
  hy_mhsa_forward(c->y, c->cache, c->t[0], c->t[1], c->t[2], c->t[3], c->t[4],
                  c->t[5], c->d, c->scratch, c->pool);
}

static void mhsa_bwd(mhsa_case *c, float **g, const float *dy) {
  hy_mhsa_backward(g[0], g[1], g[2], g[3], g[4], g[5], dy, c->cache, c->t[0],
                   c->t[1], c->t[2], c->t[4], c->d, c->scratch, c->pool);
}

static void test_mhsa_fast_vs_naive(void) {
  static const hy_mhsa_dims shapes[] = {
      {1, 5, 7, 16, 8}, {2, 4, 3, 24, 8}, {1, 16, 13, 40, 8}, {2, 6, 5, 10, 1}, {1, 2, 3, 16, 8}, {1, 16, 13, 128, 8}};
  hy_pool *pool = tu_pool_new(2);
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    mhsa_case c = mhsa_new(shapes[s], 200 + s, NULL, NULL);
    float *y0 = g_new(float, c.ny);
    hy_mhsa_forward_naive(y0, c.t[0], c.t[1], c.t[2], c.t[3], c.t[4], c.t[5], c.d,
                          c.scratch);
    mhsa_fwd(&c);
    check("mhsa y", c.y, y0, c.ny, 3e-5);
    tu_rng r = tu_rng_new(300 + s);
    float *g[MPAR], *g0[MPAR];
    for (int k = 0; k < MPAR; k++) {
      g[k] = tu_random(&r, c.n[k], -1, 1);
      g0[k] = g_memdup2(g[k], c.n[k] * sizeof(float));
    }
    mhsa_bwd(&c, g, c.r);
    hy_mhsa_backward_naive(g0[0], g0[1], g0[2], g0[3], g0[4], g0[5], c.r, c.t[0],
                           c.t[1], c.t[2], c.t[3], c.t[4], c.d, c.scratch);
    for (int k = 0; k < MPAR; k++) check(mhsa_names[k], g[k], g0[k], c.n[k], 2e-4);

    /* a 2-thread pool: the same results bit for bit */
    float *y1 = g_memdup2(c.y, c.ny * sizeof(float));
    for (int k = 0; k < MPAR; k++) {
      memset(g[k], 0, c.n[k] * sizeof(float));
      memset(g0[k], 0, c.n[k] * sizeof(float));
    }
    mhsa_bwd(&c, g, c.r);
    g_free(c.scratch);
    c.pool = pool;
    c.scratch = g_new(float, hy_mhsa_scratch_size(c.d, 2));
    mhsa_fwd(&c);
    g_assert_cmpmem(c.y, c.ny * sizeof(float), y1, c.ny * sizeof(float));
    mhsa_bwd(&c, g0, c.r);
    for (int k = 0; k < MPAR; k++)
      g_assert_cmpmem(g0[k], c.n[k] * sizeof(float), g[k], c.n[k] * sizeof(float));
    for (int k = 0; k < MPAR; k++) g_free(g[k]), g_free(g0[k]);
    g_free(y0), g_free(y1);
    mhsa_free(&c);
  }
  hy_pool_destroy(pool);
}

static double mhsa_loss(void *p) {
  mhsa_case *c = p;
  mhsa_fwd(c);
  return tu_dot(c->y, c->r, c->ny);
}

static void test_mhsa_gradcheck(void) {
  static const hy_mhsa_dims shapes[] = {{1, 5, 4, 16, 8}, {2, 3, 4, 8, 2}};
  tu_gradcheck opt = {.eps = 1e-2, .atol = 2e-3, .rtol = 2e-2, .max_probes = 40};
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    mhsa_case c = mhsa_new(shapes[s], 400 + s, NULL, NULL);
    float *g[MPAR];
    for (int k = 0; k < MPAR; k++) g[k] = g_new0(float, c.n[k]);
    mhsa_fwd(&c);
    mhsa_bwd(&c, g, c.r);
    for (int k = 0; k < MPAR; k++) {
      g_autofree char *what = g_strdup_printf("mhsa shape %zu d/d%s", s, mhsa_names[k]);
      tu_check_grad(what, c.t[k], g[k], c.n[k], mhsa_loss, &c, &opt);
      g_free(g[k]);
    }
    mhsa_free(&c);
  }
}

static void test_mhsa_fixtures(void) {
  static const char *const files[] = {"ops/attn-mhsa.hyatt", "ops/attn-mhsa-batch.hyatt"};
  for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
    hy_tensorfile *tf = tu_fixture(files[f]);
    g_assert_cmpstr(hy_tensorfile_meta(tf, "op"), ==, "mhsa");
    hy_mhsa_dims d = {tu_meta_int(tf, "N"), tu_meta_int(tf, "H"), tu_meta_int(tf, "W"),
                      tu_meta_int(tf, "C"), tu_meta_int(tf, "heads")};
    mhsa_case c = mhsa_new(d, 1, NULL, tf);
    float *g[MPAR];
    for (int k = 0; k < MPAR; k++) g[k] = g_new0(float, c.n[k]);
    mhsa_fwd(&c);
    check("fixture y", c.y, tu_f32(tf, "y", c.ny), c.ny, 3e-5);
    mhsa_bwd(&c, g, tu_f32(tf, "dy", c.ny));
    for (int k = 0; k < MPAR; k++) {
      g_autofree char *name = g_strdup_printf("d%s", mhsa_names[k]);
      check(name, g[k], tu_f32(tf, name, c.n[k]), c.n[k], 2e-4);
      g_free(g[k]);
    }
    mhsa_free(&c);
    hy_tensorfile_free(tf);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/attention/bra/fast-vs-naive", test_bra_fast_vs_naive);
  g_test_add_func("/attention/bra/ties", test_bra_ties);
  g_test_add_func("/attention/bra/gradcheck", test_bra_gradcheck);
  g_test_add_func("/attention/bra/oracle", test_bra_oracle);
  g_test_add_func("/attention/bra/blas-threads", test_bra_blas_threads_restored);
  g_test_add_func("/attention/bra/fixtures", test_bra_fixtures);
  g_test_add_func("/attention/mhsa/fast-vs-naive", test_mhsa_fast_vs_naive);
  g_test_add_func("/attention/mhsa/gradcheck", test_mhsa_gradcheck);
  g_test_add_func("/attention/mhsa/fixtures", test_mhsa_fixtures);
  return g_test_run();
}
