#include "activation.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vecmath.h"

/* elements per pool task */
enum { CHUNK = 16384 };

typedef struct {
  float *out;
  const float *a, *b;
  int n;
} act_job;

static void run(hy_pool *pool, hy_task_fn fn, float *out, const float *a,
                const float *b, int n) {
  act_job job = {out, a, b, n};
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

HY_HOT static void gelu_forward_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  float *y = j->out;
  const float *x = j->a;
  for (int i = i0; i < i1; i++) y[i] = x[i] * big_phi(x[i]);
}

void hy_gelu_forward(float *y, const float *x, int n, hy_pool *pool) {
  run(pool, gelu_forward_task, y, x, NULL, n);
}

HY_HOT static void gelu_backward_task(void *p, int task, int thread) {
  const act_job *j = p;
  RANGE(j, task);
  float *dx = j->out;
  const float *dy = j->a, *x = j->b;
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
