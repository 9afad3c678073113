#include "mhsa.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "bra.h"
#include "softmax.h"

static size_t al16(size_t n) { return (n + 15) & ~(size_t)15; }

typedef struct geo {
  int N, H, W, C, M, T, dh;
  float scale;
} geo;

static geo geo_of(hy_mhsa_dims d) {
  geo g = {d.N, d.H, d.W, d.C, d.heads, d.H * d.W, d.C / d.heads, 0.0f};
  g.scale = (float)(1.0 / sqrt((double)g.dh));
  return g;
}

typedef struct parts {
  float *qkv, *prob, *opre; /* cache */
  float *lepe, *lin, *dqkv, *dopre, *dP; /* scratch */
  size_t cache_size, scratch_size;
} parts;

static parts layout(float *cache, float *scratch, geo g, int nt) {
  parts p;
  size_t nt_tok = (size_t)g.N * g.T;
  size_t o = 0;
  p.qkv = cache ? cache + o : NULL;
  o += al16(nt_tok * 3 * g.C);
  p.prob = cache ? cache + o : NULL;
  o += al16((size_t)g.N * g.M * g.T * g.T);
  p.opre = cache ? cache + o : NULL;
  o += al16(nt_tok * g.C);
  p.cache_size = o;
  o = 0;
  p.lepe = scratch ? scratch + o : NULL;
  o += al16(hy_bra_lepe_scratch_size(g.N, 1, g.H, g.W, g.C, 5, nt));
  p.lin = scratch ? scratch + o : NULL;
  o += al16(hy_bra_linear_scratch_size(g.C, 3 * g.C));
  p.dqkv = scratch ? scratch + o : NULL;
  o += al16(nt_tok * 3 * g.C);
  p.dopre = scratch ? scratch + o : NULL;
  o += al16(nt_tok * g.C);
  p.dP = scratch ? scratch + o : NULL;
  o += al16((size_t)nt * 2 * g.T * g.T);
  p.scratch_size = o;
  return p;
}

size_t hy_mhsa_cache_size(hy_mhsa_dims d) {
  return layout(NULL, NULL, geo_of(d), 1).cache_size;
}

size_t hy_mhsa_scratch_size(hy_mhsa_dims d, int n_threads) {
  return layout(NULL, NULL, geo_of(d), n_threads < 1 ? 1 : n_threads).scratch_size;
}

double hy_mhsa_flops(hy_mhsa_dims d) {
  geo g = geo_of(d);
  double tok = (double)g.N * g.T;
  return 2.0 * tok * g.C * (3 * g.C + 2 * g.T + 25 + g.C);
}


typedef struct job {
  geo g;
  parts p;
} job;

/* task = n * heads + h */
static void attn_fwd_task(void *ctx, int task, int thread) {
  const job *j = ctx;
  geo g = j->g;
  int n = task / g.M, h = task % g.M, C = g.C, T = g.T, dh = g.dh;
  const float *qkv = j->p.qkv + (size_t)n * T * 3 * C;
  float *Pm = j->p.prob + (size_t)task * T * T;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, g.scale,
              qkv + h * dh, 3 * C, qkv + C + h * dh, 3 * C, 0.0f, Pm, T);
  hy_softmax_forward(Pm, Pm, T, T, NULL);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, Pm, T,
              qkv + 2 * C + h * dh, 3 * C, 0.0f,
              j->p.opre + (size_t)n * T * C + h * dh, C);
}

static void attn_bwd_task(void *ctx, int task, int thread) {
  const job *j = ctx;
  geo g = j->g;
  int n = task / g.M, h = task % g.M, C = g.C, T = g.T, dh = g.dh;
  const float *qkv = j->p.qkv + (size_t)n * T * 3 * C;
  const float *Pm = j->p.prob + (size_t)task * T * T;
  const float *dO = j->p.dopre + (size_t)n * T * C + h * dh;
  float *dq = j->p.dqkv + (size_t)n * T * 3 * C + h * dh;
  float *dP = j->p.dP + (size_t)thread * 2 * T * T, *dS = dP + (size_t)T * T;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.0f, dO, C,
              qkv + 2 * C + h * dh, 3 * C, 0.0f, dP, T);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, Pm, T,
              dO, C, 0.0f, dq + 2 * C, 3 * C);
  memset(dS, 0, (size_t)T * T * sizeof *dS);
  hy_softmax_backward(dS, dP, Pm, T, T, NULL);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, g.scale, dS,
              T, qkv + C + h * dh, 3 * C, 0.0f, dq, 3 * C);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, g.scale, dS,
              T, qkv + h * dh, 3 * C, 0.0f, dq + C, 3 * C);
}

void hy_mhsa_forward(float *y, float *cache, const float *x, const float *qkv_w,
                     const float *lepe_w, const float *lepe_b,
                     const float *proj_w, const float *proj_b, hy_mhsa_dims d,
                     float *scratch, hy_pool *pool) {
  job j;
  j.g = geo_of(d);
  geo g = j.g;
  j.p = layout(cache, scratch, g, hy_pool_threads(pool));
  int nt = g.N * g.T;
  hy_bra_linear_forward(j.p.qkv, x, qkv_w, NULL, nt, g.C, 3 * g.C, pool);
  hy_pool_run_sgemm(pool, g.N * g.M, attn_fwd_task, &j);
  hy_bra_lepe_forward(j.p.opre, g.C, x, g.C, lepe_w, lepe_b, g.N, 1, g.H, g.W,
                      g.C, 5, j.p.lepe, pool);
  hy_bra_linear_forward(y, j.p.opre, proj_w, proj_b, nt, g.C, g.C, pool);
}

void hy_mhsa_backward(float *dx, float *dqkv_w, float *dlepe_w, float *dlepe_b,
                      float *dproj_w, float *dproj_b, const float *dy,
                      const float *cache, const float *x, const float *qkv_w,
                      const float *lepe_w, const float *proj_w, hy_mhsa_dims d,
                      float *scratch, hy_pool *pool) {
  job j;
  j.g = geo_of(d);
  geo g = j.g;
  j.p = layout((float *)cache, scratch, g, hy_pool_threads(pool));
  int nt = g.N * g.T;
  memset(j.p.dopre, 0, (size_t)nt * g.C * sizeof *j.p.dopre);
  hy_bra_linear_backward(j.p.dopre, dproj_w, dproj_b, dy, j.p.opre, proj_w, nt,
                         g.C, g.C, j.p.lin, pool);
  hy_bra_lepe_backward(dx, g.C, dlepe_w, dlepe_b, j.p.dopre, g.C, x, g.C, lepe_w,
                       g.N, 1, g.H, g.W, g.C, 5, j.p.lepe, pool);
  hy_pool_run_sgemm(pool, g.N * g.M, attn_bwd_task, &j);
  hy_bra_linear_backward(dx, dqkv_w, NULL, j.p.dqkv, x, qkv_w, nt, g.C, 3 * g.C,
                         j.p.lin, pool);
}

/* ---- naive reference ---------------------------------------------------- */

size_t hy_mhsa_naive_scratch_size(hy_mhsa_dims d) {
  geo g = geo_of(d);
  size_t tok = (size_t)g.N * g.T;
  /* qkv, o, dO, dqkv, p, dp */
  return tok * 3 * g.C * 2 + tok * g.C * 2 + 2 * (size_t)g.T;
}

/* probabilities of query t (image n, head h) over all keys */
static void naive_probs(float *p, const float *qkv, geo g, int n, int t, int h) {
  const float *q = qkv + ((size_t)n * g.T + t) * 3 * g.C;
  double mx = -INFINITY;
  for (int u = 0; u < g.T; u++) {
    const float *k = qkv + ((size_t)n * g.T + u) * 3 * g.C + g.C;
    double a = 0;
    for (int c = h * g.dh; c < (h + 1) * g.dh; c++) a += (double)q[c] * k[c];
    a *= g.scale;
    p[u] = (float)a;
    mx = a > mx ? a : mx;
  }
  double sum = 0;
  for (int u = 0; u < g.T; u++) sum += exp((double)p[u] - mx);
  for (int u = 0; u < g.T; u++) p[u] = (float)(exp((double)p[u] - mx) / sum);
}

/* qkv and o (attention + LePE of x) */
static void naive_core(float *qkv, float *o, float *p, const float *x,
                       const float *qkv_w, const float *lepe_w,
                       const float *lepe_b, geo g) {
  int C = g.C, C3 = 3 * C;
  size_t tok = (size_t)g.N * g.T;
  for (size_t t = 0; t < tok; t++)
    for (int oc = 0; oc < C3; oc++) {
      double a = 0;
      for (int i = 0; i < C; i++) a += (double)x[t * C + i] * qkv_w[(size_t)oc * C + i];
      qkv[t * C3 + oc] = (float)a;
    }
  for (int n = 0; n < g.N; n++)
    for (int t = 0; t < g.T; t++) {
      float *out = o + ((size_t)n * g.T + t) * C;
      for (int h = 0; h < g.M; h++) {
        naive_probs(p, qkv, g, n, t, h);
        for (int c = h * g.dh; c < (h + 1) * g.dh; c++) {
          double a = 0;
          for (int u = 0; u < g.T; u++)
            a += (double)p[u] * qkv[((size_t)n * g.T + u) * C3 + 2 * C + c];
          out[c] = (float)a;
        }
      }
      int y = t / g.W, xx = t % g.W;
      for (int c = 0; c < C; c++) {
        double a = lepe_b[c];
        for (int ky = 0; ky < 5; ky++)
          for (int kx = 0; kx < 5; kx++) {
            int iy = y + ky - 2, ix = xx + kx - 2;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
            a += (double)lepe_w[(size_t)c * 25 + ky * 5 + kx] *
                 x[(((size_t)n * g.H + iy) * g.W + ix) * C + c];
          }
        out[c] = (float)(out[c] + a);
      }
    }
}

void hy_mhsa_forward_naive(float *y, const float *x, const float *qkv_w,
                           const float *lepe_w, const float *lepe_b,
                           const float *proj_w, const float *proj_b,
                           hy_mhsa_dims d, float *scratch) {
  geo g = geo_of(d);
  size_t tok = (size_t)g.N * g.T;
  float *qkv = scratch, *o = qkv + tok * 3 * g.C, *p = o + tok * g.C;
  naive_core(qkv, o, p, x, qkv_w, lepe_w, lepe_b, g);
  for (size_t t = 0; t < tok; t++)
    for (int c = 0; c < g.C; c++) {
      double a = proj_b[c];
      for (int i = 0; i < g.C; i++) a += (double)o[t * g.C + i] * proj_w[(size_t)c * g.C + i];
      y[t * g.C + c] = (float)a;
    }
}

void hy_mhsa_backward_naive(float *dx, float *dqkv_w, float *dlepe_w,
                            float *dlepe_b, float *dproj_w, float *dproj_b,
                            const float *dy, const float *x,
                            const float *qkv_w, const float *lepe_w,
                            const float *lepe_b, const float *proj_w,
                            hy_mhsa_dims d, float *scratch) {
  geo g = geo_of(d);
  int C = g.C, C3 = 3 * C;
  size_t tok = (size_t)g.N * g.T;
  float *qkv = scratch, *o = qkv + tok * C3, *dO = o + tok * C, *dqkv = dO + tok * C;
  float *p = dqkv + tok * C3, *dp = p + g.T;
  naive_core(qkv, o, p, x, qkv_w, lepe_w, lepe_b, g);

  for (size_t t = 0; t < tok; t++)
    for (int i = 0; i < C; i++) {
      double a = 0;
      for (int oc = 0; oc < C; oc++) a += (double)dy[t * C + oc] * proj_w[(size_t)oc * C + i];
      dO[t * C + i] = (float)a;
    }
  for (int oc = 0; oc < C; oc++) {
    double gb = 0;
    for (size_t t = 0; t < tok; t++) gb += dy[t * C + oc];
    if (dproj_b) dproj_b[oc] += (float)gb;
    for (int i = 0; i < C && dproj_w; i++) {
      double a = 0;
      for (size_t t = 0; t < tok; t++) a += (double)dy[t * C + oc] * o[t * C + i];
      dproj_w[(size_t)oc * C + i] += (float)a;
    }
  }

  /* LePE of x */
  for (int c = 0; c < C; c++) {
    double gb = 0;
    for (size_t t = 0; t < tok; t++) gb += dO[t * C + c];
    if (dlepe_b) dlepe_b[c] += (float)gb;
    for (int tap = 0; tap < 25; tap++) {
      int ky = tap / 5, kx = tap % 5;
      double a = 0;
      for (int n = 0; n < g.N; n++)
        for (int y = 0; y < g.H; y++)
          for (int xx = 0; xx < g.W; xx++) {
            int iy = y + ky - 2, ix = xx + kx - 2;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
            size_t src = ((size_t)n * g.H + iy) * g.W + ix;
            size_t dst = ((size_t)n * g.H + y) * g.W + xx;
            a += (double)dO[dst * C + c] * x[src * C + c];
            if (dx) dx[src * C + c] += dO[dst * C + c] * lepe_w[(size_t)c * 25 + tap];
          }
      if (dlepe_w) dlepe_w[(size_t)c * 25 + tap] += (float)a;
    }
  }

  memset(dqkv, 0, tok * C3 * sizeof *dqkv);
  for (int n = 0; n < g.N; n++)
    for (int t = 0; t < g.T; t++) {
      size_t qi = (size_t)n * g.T + t;
      for (int h = 0; h < g.M; h++) {
        naive_probs(p, qkv, g, n, t, h);
        double dot = 0;
        for (int u = 0; u < g.T; u++) {
          const float *v = qkv + ((size_t)n * g.T + u) * C3 + 2 * C;
          double a = 0;
          for (int c = h * g.dh; c < (h + 1) * g.dh; c++) a += (double)dO[qi * C + c] * v[c];
          dp[u] = (float)a;
          dot += a * p[u];
        }
        for (int u = 0; u < g.T; u++) {
          size_t ki = (size_t)n * g.T + u;
          double ds = p[u] * (dp[u] - dot);
          for (int c = h * g.dh; c < (h + 1) * g.dh; c++) {
            dqkv[qi * C3 + c] += (float)(g.scale * ds * qkv[ki * C3 + C + c]);
            dqkv[ki * C3 + C + c] += (float)(g.scale * ds * qkv[qi * C3 + c]);
            dqkv[ki * C3 + 2 * C + c] += (float)((double)p[u] * dO[qi * C + c]);
          }
        }
      }
    }
  for (int oc = 0; oc < C3 && dqkv_w; oc++)
    for (int i = 0; i < C; i++) {
      double a = 0;
      for (size_t t = 0; t < tok; t++) a += (double)dqkv[t * C3 + oc] * x[t * C + i];
      dqkv_w[(size_t)oc * C + i] += (float)a;
    }
  if (dx)
    for (size_t t = 0; t < tok; t++)
      for (int i = 0; i < C; i++) {
        double a = 0;
        for (int oc = 0; oc < C3; oc++) a += (double)dqkv[t * C3 + oc] * qkv_w[(size_t)oc * C + i];
        dx[t * C + i] += (float)a;
      }
}
