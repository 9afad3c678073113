#include "activation.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gelu_phi.h"
#include "vecmath.h"

/* elements per pool task */
enum { CHUNK = 16384 };

typedef struct {
  float *out;
  const float *a, *b;
  int n;
  int C; /* hy_gelu_bias_forward: channels per row */
} act_job;

static void run(hy_pool *pool, hy_task_fn fn, float *out, const float *a,
                const float *b, int n) {
  act_job job = {out, a, b, n, 0};
  int tasks = (n + CHUNK - 1) / CHUNK;
  if (!pool || tasks <= 1)
    for (int t = 0; t < tasks; t++) fn(&job, t, 0);
  else
    hy_pool_run(pool, tasks, fn, &job);
}

#define RANGE(job, task)                                        \
  int i0 = (task) * CHUNK;                                      \
  int i1 = (job)->n - i0 < CHUNK ? (job)->n : i0 + CHUNK

HY_HOT static void relu_forward_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  float *y = j->out;
  const float *x = j->a;
  for (int i = i0; i < i1; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void hy_relu_forward(float *y, const float *x, int n, hy_pool *pool) {
  run(pool, relu_forward_task, y, x, NULL, n);
}

HY_HOT static void relu_backward_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  float *dx = j->out;
  const float *dy = j->a, *v = j->b;
  for (int i = i0; i < i1; i++) dx[i] += v[i] > 0.0f ? dy[i] : 0.0f;
}

void hy_relu_backward(float *dx, const float *dy, const float *v, int n,
                      hy_pool *pool) {
  run(pool, relu_backward_task, dx, dy, v, n);
}

/* a * a / 2 as hi + lo, hi exact: a's top 12 significant bits squared fit a
 * float, so exp(-a^2/2) keeps full precision in the tails. */
static inline void half_square(float a, float *hi, float *lo) {
  uint32_t bits;
  memcpy(&bits, &a, sizeof bits);
  bits &= 0xFFFFF000u;
  float ah;
  memcpy(&ah, &bits, sizeof ah);
  float al = a - ah;
  *hi = 0.5f * (ah * ah);
  *lo = 0.5f * (al * (a + ah));
}

/* 0.5 * erfc(a / sqrt 2) = Phi(-a) for a >= 0, by the Chebyshev-fitted
 * erfc of Numerical Recipes (erfcc, fractional error < 1.2e-7 everywhere):
 * one exp and one division, no branches. */
static inline float upper_tail(float a) {
  float z = a * 0.70710678118654752f;
  float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  float hi, lo; /* z * z */
  half_square(a, &hi, &lo);
  return 0.5f * t * hy_vexpf2(-hi, p - lo);
}

static inline float big_phi(float x) {
  float q = upper_tail(fabsf(x));
  return hy_vsel(x < 0.0f, q, 1.0f - q);
}

/* The same GELU in registers with FMA (gelu_phi.h; AVX2+FMA or AVX-512
 * CPUs, picked at run time): at least as accurate, in about half the
 * instructions of the scalar code. */
#if HY_HAVE_V8FMA
#define HAVE_FMA_GELU 1
#define FMA HY_V8FMA

FMA static void gelu_forward_fma(float *y, const float *x, int i0, int i1) {
  int i = i0;
  __m256 v[4], q[4], nh[4], nl[4];
  for (; i + 32 <= i1; i += 32) {
    for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + i + 8 * k);
    hy_v8phi4(v, q, nh, nl);
    for (int k = 0; k < 4; k++) _mm256_storeu_ps(y + i + 8 * k, _mm256_mul_ps(v[k], q[k]));
  }
  for (; i < i1; i += 8) { /* the tail through a zero-padded vector */
    int n = i1 - i < 8 ? i1 - i : 8;
    float buf[8] = {0};
    memcpy(buf, x + i, sizeof(float) * (size_t)n);
    v[0] = _mm256_loadu_ps(buf);
    hy_v8phi1(v, q, nh, nl);
    _mm256_storeu_ps(buf, _mm256_mul_ps(v[0], q[0]));
    memcpy(y + i, buf, sizeof(float) * (size_t)n);
  }
}

FMA static void gelu_backward_fma(float *dx, const float *dy, const float *x, int i0, int i1) {
  for (int i = i0; i < i1; i += 8) {
    int n = i1 - i < 8 ? i1 - i : 8;
    float bx[8] = {0}, bdy[8] = {0}, bdx[8];
    const float *px = x + i, *pdy = dy + i;
    float *pdx = dx + i;
    if (n < 8) { /* the tail through zero-padded vectors */
      memcpy(bx, px, sizeof(float) * (size_t)n);
      memcpy(bdy, pdy, sizeof(float) * (size_t)n);
      memcpy(bdx, pdx, sizeof(float) * (size_t)n);
      px = bx, pdy = bdy, pdx = bdx;
    }
    __m256 v = _mm256_loadu_ps(px), phi, nh, nl;
    hy_v8phi1(&v, &phi, &nh, &nl);
    __m256 pdf = _mm256_mul_ps(_mm256_set1_ps(0.39894228040143268f), hy_v8expf2(nh, nl));
    __m256 d = _mm256_mul_ps(_mm256_loadu_ps(pdy), _mm256_fmadd_ps(v, pdf, phi));
    _mm256_storeu_ps(pdx, _mm256_add_ps(_mm256_loadu_ps(pdx), d));
    if (n < 8) memcpy(dx + i, bdx, sizeof(float) * (size_t)n);
  }
}

/* The same at 16 lanes (AVX-512), lane for lane the same numbers; the tails
 * go through masked loads and stores. */
HY_V16 static void gelu_forward_avx512(float *y, const float *x, int i0, int i1) {
  int i = i0;
  __m512 v[4], q[4], nh[4], nl[4];
  for (; i + 64 <= i1; i += 64) {
    for (int k = 0; k < 4; k++) v[k] = _mm512_loadu_ps(x + i + 16 * k);
    hy_v16phi4(v, q, nh, nl);
    for (int k = 0; k < 4; k++) _mm512_storeu_ps(y + i + 16 * k, _mm512_mul_ps(v[k], q[k]));
  }
  for (; i < i1; i += 16) {
    __mmask16 m = hy_v16mask(i1 - i);
    v[0] = _mm512_maskz_loadu_ps(m, x + i);
    hy_v16phi1(v, q, nh, nl);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(v[0], q[0]));
  }
}

/* dx += dy * (Phi(x) + x * pdf(x)) for vectors k < NV at i (masks m) */
#define GELU_BWD16(NV, m)                                                                      \
  do {                                                                                         \
    __m512 v[NV], q[NV], nh[NV], nl[NV];                                                       \
    for (int k = 0; k < NV; k++) v[k] = _mm512_maskz_loadu_ps(m[k], x + i + 16 * k);           \
    hy_v16phi##NV(v, q, nh, nl);                                                               \
    for (int k = 0; k < NV; k++) {                                                             \
      __m512 pdf = _mm512_mul_ps(_mm512_set1_ps(0.39894228040143268f), hy_v16expf2(nh[k], nl[k])); \
      __m512 d = _mm512_mul_ps(_mm512_maskz_loadu_ps(m[k], dy + i + 16 * k),                   \
                               _mm512_fmadd_ps(v[k], pdf, q[k]));                              \
      _mm512_mask_storeu_ps(dx + i + 16 * k, m[k],                                             \
                            _mm512_add_ps(_mm512_maskz_loadu_ps(m[k], dx + i + 16 * k), d));   \
    }                                                                                          \
  } while (0)

HY_V16 static void gelu_backward_avx512(float *dx, const float *dy, const float *x, int i0, int i1) {
  int i = i0;
  const __mmask16 all[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
  for (; i + 64 <= i1; i += 64) GELU_BWD16(4, all);
  for (; i < i1; i += 16) {
    __mmask16 m[1] = {hy_v16mask(i1 - i)};
    GELU_BWD16(1, m);
  }
}
#undef GELU_BWD16

#else
#define HAVE_FMA_GELU 0
#endif

HY_HOT static void gelu_forward_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  float *y = j->out;
  const float *x = j->a;
#if HAVE_FMA_GELU
  if (hy_cpu_avx512()) {
    gelu_forward_avx512(y, x, i0, i1);
    return;
  }
  if (hy_cpu_fma()) {
    gelu_forward_fma(y, x, i0, i1);
    return;
  }
#endif
  for (int i = i0; i < i1; i++) y[i] = x[i] * big_phi(x[i]);
}

void hy_gelu_forward(float *y, const float *x, int n, hy_pool *pool) {
  run(pool, gelu_forward_task, y, x, NULL, n);
}

/* x[t][c] += b[c] over the elements [i0, i1) of rows of C. */
static void add_bias(float *x, const float *b, int C, int i0, int i1) {
  for (int i = i0; i < i1;) {
    int c = i % C, n = C - c < i1 - i ? C - c : i1 - i;
    for (int k = 0; k < n; k++) x[i + k] += b[c + k];
    i += n;
  }
}

/* gelu_forward_task on x + b: the chunk is still in cache for the GELU. */
static void gelu_bias_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  add_bias((float *)j->a, j->b, j->C, i0, i1);
  gelu_forward_task(p, task, thread);
}

void hy_gelu_bias_forward(float *y, float *x, const float *b, int T, int C, hy_pool *pool) {
  act_job job = {y, x, b, T * C, C};
  int tasks = (job.n + CHUNK - 1) / CHUNK;
  if (!pool || tasks <= 1)
    for (int t = 0; t < tasks; t++) gelu_bias_task(&job, t, 0);
  else
    hy_pool_run(pool, tasks, gelu_bias_task, &job);
}

HY_HOT static void gelu_backward_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  float *dx = j->out;
  const float *dy = j->a, *x = j->b;
#if HAVE_FMA_GELU
  if (hy_cpu_avx512()) {
    gelu_backward_avx512(dx, dy, x, i0, i1);
    return;
  }
  if (hy_cpu_fma()) {
    gelu_backward_fma(dx, dy, x, i0, i1);
    return;
  }
#endif
  for (int i = i0; i < i1; i++) {
    float v = x[i];
    float hi, lo;
    half_square(v, &hi, &lo);
    float pdf = 0.39894228040143268f * hy_vexpf2(-hi, -lo);
    dx[i] += dy[i] * (big_phi(v) + v * pdf);
  }
}

void hy_gelu_backward(float *dx, const float *dy, const float *x, int n,
                      hy_pool *pool) {
  run(pool, gelu_backward_task, dx, dy, x, n);
}

HY_HOT static void sigmoid_forward_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  float *y = j->out;
  const float *x = j->a;
  /* e = exp(-|x|) never overflows; each side keeps its relative precision */
  for (int i = i0; i < i1; i++) {
    float e = hy_vexpf(-fabsf(x[i]));
    y[i] = hy_vsel(x[i] < 0.0f, e, 1.0f) / (1.0f + e);
  }
}

void hy_sigmoid_forward(float *y, const float *x, int n, hy_pool *pool) {
  run(pool, sigmoid_forward_task, y, x, NULL, n);
}

HY_HOT static void sigmoid_backward_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  float *dx = j->out;
  const float *dy = j->a, *y = j->b;
  for (int i = i0; i < i1; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}

void hy_sigmoid_backward(float *dx, const float *dy, const float *y, int n,
                         hy_pool *pool) {
  run(pool, sigmoid_backward_task, dx, dy, y, n);
}

void hy_gelu_forward_naive(float *y, const float *x, int n) {
  for (int i = 0; i < n; i++) {
    double v = x[i];
    y[i] = (float)(0.5 * v * erfc(-v / sqrt(2.0))); /* no cancellation in the tail */
  }
}

void hy_gelu_backward_naive(float *dx, const float *dy, const float *x, int n) {
  for (int i = 0; i < n; i++) {
    double v = x[i];
    double cdf = 0.5 * erfc(-v / sqrt(2.0));
    double pdf = exp(-0.5 * v * v) * 0.39894228040143268; /* 1/sqrt(2 pi) */
    dx[i] += (float)(dy[i] * (cdf + v * pdf));
  }
}

void hy_sigmoid_forward_naive(float *y, const float *x, int n) {
  for (int i = 0; i < n; i++) y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
}

void hy_sigmoid_backward_naive(float *dx, const float *dy, const float *y,
                               int n) {
  for (int i = 0; i < n; i++)
    dx[i] += (float)(dy[i] * (double)y[i] * (1.0 - y[i]));
}
