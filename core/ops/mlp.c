#include "mlp.h"

#include <math.h>
#include <stdlib.h>

#include "gelu_phi.h"

enum {
  TILE = 16,          /* tokens per tile: one per lane */
  TILES_PER_TASK = 8,
  R_BLOCK = 4,        /* hidden units per pass of fc1: four independent GELU chains */
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

/* One tile of n <= 16 tokens, lanes = tokens. xn: [C][16] the normalised
 * inputs, g: [R][16] the hidden values after GELU. */
HY_V16 static void mlp_tile(const mlp_job *j, int t0, int n, float *xn, float *g) {
  const hy_mlp_weights *w = j->w;
  int C = j->C, R = j->R;
  __mmask16 m = n == TILE ? 0xFFFF : (__mmask16)((1u << n) - 1);
  __m512i idx = _mm512_mullo_epi32(
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(C));
  const float *x = j->x + (size_t)t0 * C;
  float *y = j->y + (size_t)t0 * C;
  __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), fc = _mm512_set1_ps((float)C);

  /* LayerNorm, two passes over the gathered columns */
  __m512 sum = zero;
  for (int c = 0; c < C; c++) {
    __m512 v = _mm512_mask_i32gather_ps(zero, m, idx, x + c, 4);
    _mm512_storeu_ps(xn + c * TILE, v);
    sum = _mm512_add_ps(sum, v);
  }
  __m512 mean = _mm512_div_ps(sum, fc), ss = zero;
  for (int c = 0; c < C; c++) {
    __m512 d = _mm512_sub_ps(_mm512_loadu_ps(xn + c * TILE), mean);
    ss = _mm512_fmadd_ps(d, d, ss);
  }
  __m512 rstd = _mm512_div_ps(
      one, _mm512_sqrt_ps(_mm512_add_ps(_mm512_div_ps(ss, fc), _mm512_set1_ps(w->ln_eps))));
  for (int c = 0; c < C; c++) {
    __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xn + c * TILE), mean), rstd);
    _mm512_storeu_ps(xn + c * TILE,
                    _mm512_fmadd_ps(d, _mm512_set1_ps(w->ln_w[c]), _mm512_set1_ps(w->ln_b[c])));
  }

  /* fc1 + GELU */
  int r = 0;
  for (; r + R_BLOCK <= R; r += R_BLOCK) {
    const float *w0 = w->w1 + (size_t)r * C;
    __m512 a0 = _mm512_set1_ps(w->b1[r]), a1 = _mm512_set1_ps(w->b1[r + 1]);
    __m512 a2 = _mm512_set1_ps(w->b1[r + 2]), a3 = _mm512_set1_ps(w->b1[r + 3]);
    for (int c = 0; c < C; c++) {
      __m512 v = _mm512_loadu_ps(xn + c * TILE);
      a0 = _mm512_fmadd_ps(_mm512_set1_ps(w0[c]), v, a0);
      a1 = _mm512_fmadd_ps(_mm512_set1_ps(w0[C + c]), v, a1);
      a2 = _mm512_fmadd_ps(_mm512_set1_ps(w0[2 * C + c]), v, a2);
      a3 = _mm512_fmadd_ps(_mm512_set1_ps(w0[3 * C + c]), v, a3);
    }
    __m512 nh, nl;
    _mm512_storeu_ps(g + (r + 0) * TILE, _mm512_mul_ps(a0, hy_v16phi(a0, &nh, &nl)));
    _mm512_storeu_ps(g + (r + 1) * TILE, _mm512_mul_ps(a1, hy_v16phi(a1, &nh, &nl)));
    _mm512_storeu_ps(g + (r + 2) * TILE, _mm512_mul_ps(a2, hy_v16phi(a2, &nh, &nl)));
    _mm512_storeu_ps(g + (r + 3) * TILE, _mm512_mul_ps(a3, hy_v16phi(a3, &nh, &nl)));
  }
  for (; r < R; r++) {
    const float *w0 = w->w1 + (size_t)r * C;
    __m512 a = _mm512_set1_ps(w->b1[r]), nh, nl;
    for (int c = 0; c < C; c++)
      a = _mm512_fmadd_ps(_mm512_set1_ps(w0[c]), _mm512_loadu_ps(xn + c * TILE), a);
    _mm512_storeu_ps(g + r * TILE, _mm512_mul_ps(a, hy_v16phi(a, &nh, &nl)));
  }

  /* fc2 + bias + the residual, scattered back to token rows */
  int c = 0;
  for (; c + C_BLOCK <= C; c += C_BLOCK) {
    const float *w0 = w->w2 + (size_t)c * R;
    __m512 acc[C_BLOCK];
    for (int k = 0; k < C_BLOCK; k++) acc[k] = _mm512_set1_ps(w->b2[c + k]);
    for (int q = 0; q < R; q++) {
      __m512 v = _mm512_loadu_ps(g + q * TILE);
      for (int k = 0; k < C_BLOCK; k++)
        acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(w0[(size_t)k * R + q]), v, acc[k]);
    }
    for (int k = 0; k < C_BLOCK; k++) {
      __m512 res = _mm512_mask_i32gather_ps(zero, m, idx, x + c + k, 4);
      _mm512_mask_i32scatter_ps(y + c + k, m, idx, _mm512_add_ps(res, acc[k]), 4);
    }
  }
  for (; c < C; c++) {
    const float *w0 = w->w2 + (size_t)c * R;
    __m512 acc = _mm512_set1_ps(w->b2[c]);
    for (int q = 0; q < R; q++)
      acc = _mm512_fmadd_ps(_mm512_set1_ps(w0[q]), _mm512_loadu_ps(g + q * TILE), acc);
    __m512 res = _mm512_mask_i32gather_ps(zero, m, idx, x + c, 4);
    _mm512_mask_i32scatter_ps(y + c, m, idx, _mm512_add_ps(res, acc), 4);
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
