#include "mlp.h"

#include <math.h>
#include <stdlib.h>

#include "gelu_phi.h"

enum {
  TILE = 32,          /* tokens per tile: one per lane of two vectors */
  TILES_PER_TASK = 4,
  R_BLOCK = 4,        /* hidden units per pass of fc1 */
  C_BLOCK = 8,        /* output channels per pass of fc2 */
};

typedef struct {
  float *y;
  const float *x;
  const hy_mlp_weights *w;
  int T, C, R;
  float *scratch;
} mlp_job;

size_t hy_mlp_scratch_size(int C, int R, int threads) {
  return (size_t)threads * (size_t)(C + R) * TILE;
}

#if HY_HAVE_V8FMA

int hy_mlp_fused_available(void) { return hy_cpu_avx512(); }

/* One tile of n <= 32 tokens, lanes = tokens, two vectors (halves) per
 * row: each weight broadcast feeds two FMAs, so the products are bound by
 * the FMAs, not the loads. xn: [C][32] the normalised inputs, g: [R][32]
 * the hidden values after GELU. */
HY_V16 static void mlp_tile(const mlp_job *j, int t0, int n, float *xn, float *g) {
  const hy_mlp_weights *w = j->w;
  int C = j->C, R = j->R;
  __mmask16 m[2] = {hy_v16mask(n), hy_v16mask(n - 16)};
  __m512i idx = hy_v16rows(C);
  const float *x[2] = {j->x + (size_t)t0 * C, j->x + (size_t)(t0 + 16) * C};
  float *y[2] = {j->y + (size_t)t0 * C, j->y + (size_t)(t0 + 16) * C};
  __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), fc = _mm512_set1_ps((float)C);

  /* LayerNorm, two passes over the gathered columns */
  for (int h = 0; h < 2; h++) {
    __m512 sum = zero;
    for (int c = 0; c < C; c++) {
      __m512 v = _mm512_mask_i32gather_ps(zero, m[h], idx, x[h] + c, 4);
      _mm512_storeu_ps(xn + c * TILE + 16 * h, v);
      sum = _mm512_add_ps(sum, v);
    }
    __m512 mean = _mm512_div_ps(sum, fc), ss = zero;
    for (int c = 0; c < C; c++) {
      __m512 d = _mm512_sub_ps(_mm512_loadu_ps(xn + c * TILE + 16 * h), mean);
      ss = _mm512_fmadd_ps(d, d, ss);
    }
    __m512 rstd = _mm512_div_ps(
        one, _mm512_sqrt_ps(_mm512_add_ps(_mm512_div_ps(ss, fc), _mm512_set1_ps(w->ln_eps))));
    for (int c = 0; c < C; c++) {
      float *p = xn + c * TILE + 16 * h;
      __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(p), mean), rstd);
      _mm512_storeu_ps(p, _mm512_fmadd_ps(d, _mm512_set1_ps(w->ln_w[c]), _mm512_set1_ps(w->ln_b[c])));
    }
  }

  /* fc1 + GELU, R_BLOCK hidden units at a time */
  for (int r = 0; r < R; r += R_BLOCK) {
    int nr = R - r < R_BLOCK ? R - r : R_BLOCK;
    __m512 a[R_BLOCK][2];
    for (int k = 0; k < R_BLOCK; k++) a[k][0] = a[k][1] = _mm512_set1_ps(w->b1[r + (k < nr ? k : 0)]);
    const float *w0 = w->w1 + (size_t)r * C;
    for (int c = 0; c < C; c++) {
      __m512 v0 = _mm512_loadu_ps(xn + c * TILE), v1 = _mm512_loadu_ps(xn + c * TILE + 16);
      for (int k = 0; k < R_BLOCK; k++) {
        __m512 wk = _mm512_set1_ps(w0[(size_t)(k < nr ? k : 0) * C + c]);
        a[k][0] = _mm512_fmadd_ps(wk, v0, a[k][0]);
        a[k][1] = _mm512_fmadd_ps(wk, v1, a[k][1]);
      }
    }
    /* each half's R_BLOCK GELUs interleaved (gelu_phi.h) */
    for (int h = 0; h < 2; h++) {
      __m512 v[R_BLOCK], q[R_BLOCK], nh[R_BLOCK], nl[R_BLOCK];
      for (int k = 0; k < R_BLOCK; k++) v[k] = a[k][h];
      hy_v16phi4(v, q, nh, nl);
      for (int k = 0; k < nr; k++) _mm512_storeu_ps(g + (r + k) * TILE + 16 * h, _mm512_mul_ps(v[k], q[k]));
    }
  }

  /* fc2 + bias + the residual, C_BLOCK output channels at a time,
   * scattered back to token rows */
  for (int c = 0; c < C; c += C_BLOCK) {
    int nc = C - c < C_BLOCK ? C - c : C_BLOCK;
    const float *w0 = w->w2 + (size_t)c * R;
    __m512 acc[C_BLOCK][2];
    for (int k = 0; k < C_BLOCK; k++) acc[k][0] = acc[k][1] = _mm512_set1_ps(w->b2[c + (k < nc ? k : 0)]);
    for (int q = 0; q < R; q++) {
      __m512 v0 = _mm512_loadu_ps(g + q * TILE), v1 = _mm512_loadu_ps(g + q * TILE + 16);
      for (int k = 0; k < C_BLOCK; k++) {
        __m512 wk = _mm512_set1_ps(w0[(size_t)(k < nc ? k : 0) * R + q]);
        acc[k][0] = _mm512_fmadd_ps(wk, v0, acc[k][0]);
        acc[k][1] = _mm512_fmadd_ps(wk, v1, acc[k][1]);
      }
    }
    for (int k = 0; k < nc; k++)
      for (int h = 0; h < 2; h++) {
        __m512 res = _mm512_mask_i32gather_ps(zero, m[h], idx, x[h] + c + k, 4);
        _mm512_mask_i32scatter_ps(y[h] + c + k, m[h], idx, _mm512_add_ps(res, acc[k][h]), 4);
      }
  }
}

static void mlp_task(void *p, int task, int thread) {
  const mlp_job *j = p;
  float *xn = j->scratch + (size_t)thread * (size_t)(j->C + j->R) * TILE;
  float *g = xn + (size_t)j->C * TILE;
  int t1 = (task + 1) * TILES_PER_TASK * TILE;
  if (t1 > j->T) t1 = j->T;
  for (int t0 = task * TILES_PER_TASK * TILE; t0 < t1; t0 += TILE)
    mlp_tile(j, t0, t1 - t0 < TILE ? t1 - t0 : TILE, xn, g);
}

void hy_mlp_residual_forward(float *y, const float *x, const hy_mlp_weights *w, int T, int C,
                             int R, float *scratch, hy_pool *pool) {
  mlp_job job = {y, x, w, T, C, R, scratch};
  int tasks = (T + TILES_PER_TASK * TILE - 1) / (TILES_PER_TASK * TILE);
  if (!pool || tasks <= 1)
    for (int t = 0; t < tasks; t++) mlp_task(&job, t, 0);
  else
    hy_pool_run(pool, tasks, mlp_task, &job);
}

#else

int hy_mlp_fused_available(void) { return 0; }

void hy_mlp_residual_forward(float *y, const float *x, const hy_mlp_weights *w, int T, int C,
                             int R, float *scratch, hy_pool *pool) {
  (void)scratch, (void)pool;
  hy_mlp_residual_forward_naive(y, x, w, T, C, R);
}

#endif

void hy_mlp_residual_forward_naive(float *y, const float *x, const hy_mlp_weights *w, int T,
                                   int C, int R) {
  double *xn = malloc(sizeof(double) * (size_t)C), *s = malloc(sizeof(double) * (size_t)C);
  for (int t = 0; t < T; t++) {
    const float *xt = x + (size_t)t * C;
    double mean = 0, var = 0;
    for (int c = 0; c < C; c++) mean += xt[c];
    mean /= C;
    for (int c = 0; c < C; c++) var += (xt[c] - mean) * (xt[c] - mean);
    double rstd = 1.0 / sqrt(var / C + w->ln_eps);
    for (int c = 0; c < C; c++) {
      xn[c] = (xt[c] - mean) * rstd * w->ln_w[c] + w->ln_b[c];
      s[c] = w->b2[c];
    }
    for (int r = 0; r < R; r++) {
      double h = w->b1[r];
      for (int c = 0; c < C; c++) h += w->w1[(size_t)r * C + c] * xn[c];
      double g = 0.5 * h * erfc(-h / sqrt(2.0));
      for (int c = 0; c < C; c++) s[c] += w->w2[(size_t)c * R + r] * g;
    }
    for (int c = 0; c < C; c++) y[(size_t)t * C + c] = (float)(xt[c] + s[c]);
  }
  free(xn);
  free(s);
}
