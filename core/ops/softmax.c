#include "softmax.h"

#include <math.h>
#include <stddef.h>

#include "vecmath.h"

/* about this many elements per pool task */
enum { CHUNK = 16384 };

typedef struct {
  float *out;
  const float *a, *b;
  int R, L, rows_per_task;
} sm_job;

static void run(hy_pool *pool, hy_task_fn fn, sm_job *job) {
  int rows = CHUNK / job->L;
  job->rows_per_task = rows < 1 ? 1 : rows;
  int tasks = (job->R + job->rows_per_task - 1) / job->rows_per_task;
  if (!pool || tasks <= 1)
    for (int t = 0; t < tasks; t++) fn(job, t, 0);
  else
    hy_pool_run(pool, tasks, fn, job);
}

static inline float row_max(const float *x, int n) {
  float acc[8];
  for (int j = 0; j < 8; j++) acc[j] = x[0];
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  for (; i < n; i++) acc[0] = x[i] > acc[0] ? x[i] : acc[0];
  float m = acc[0];
  for (int j = 1; j < 8; j++) m = acc[j] > m ? acc[j] : m;
  return m;
}

HY_HOT static void forward_task(void *p, int task, int thread) {
  const sm_job *j = p;
  int L = j->L;
  int r0 = task * j->rows_per_task;
  int r1 = j->R - r0 < j->rows_per_task ? j->R : r0 + j->rows_per_task;
  for (int r = r0; r < r1; r++) {
    const float *x = j->a + (size_t)r * L;
    float *y = j->out + (size_t)r * L;
    float m = row_max(x, L);
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= L; i += 8)
      for (int k = 0; k < 8; k++) {
        float e = hy_vexpf(x[i + k] - m);
        y[i + k] = e;
        acc[k] += e;
      }
    for (; i < L; i++) {
      float e = hy_vexpf(x[i] - m);
      y[i] = e;
      acc[i & 7] += e;
    }
    float inv = 1.0f / (((acc[0] + acc[4]) + (acc[1] + acc[5])) +
                        ((acc[2] + acc[6]) + (acc[3] + acc[7])));
    for (i = 0; i < L; i++) y[i] *= inv;
  }
}

void hy_softmax_forward(float *y, const float *x, int R, int L, hy_pool *pool) {
  sm_job job = {.out = y, .a = x, .R = R, .L = L};
  run(pool, forward_task, &job);
}

HY_HOT static void backward_task(void *p, int task, int thread) {
  const sm_job *j = p;
  int L = j->L;
  int r0 = task * j->rows_per_task;
  int r1 = j->R - r0 < j->rows_per_task ? j->R : r0 + j->rows_per_task;
  for (int r = r0; r < r1; r++) {
    const float *dy = j->a + (size_t)r * L, *y = j->b + (size_t)r * L;
    float *dx = j->out + (size_t)r * L;
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= L; i += 8)
      for (int k = 0; k < 8; k++) acc[k] += dy[i + k] * y[i + k];
    for (; i < L; i++) acc[i & 7] += dy[i] * y[i];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (i = 0; i < L; i++) dx[i] += y[i] * (dy[i] - s);
  }
}

void hy_softmax_backward(float *dx, const float *dy, const float *y, int R,
                         int L, hy_pool *pool) {
  sm_job job = {.out = dx, .a = dy, .b = y, .R = R, .L = L};
  run(pool, backward_task, &job);
}

void hy_softmax_forward_naive(float *y, const float *x, int R, int L) {
  for (int r = 0; r < R; r++) {
    const float *xr = x + (size_t)r * L;
    float *yr = y + (size_t)r * L;
    double m = xr[0], s = 0;
    for (int i = 1; i < L; i++) m = xr[i] > m ? xr[i] : m;
    for (int i = 0; i < L; i++) s += exp(xr[i] - m);
    for (int i = 0; i < L; i++) yr[i] = (float)(exp(xr[i] - m) / s);
  }
}

void hy_softmax_backward_naive(float *dx, const float *dy, const float *y,
                               int R, int L) {
  for (int r = 0; r < R; r++) {
    size_t o = (size_t)r * L;
    double s = 0;
    for (int i = 0; i < L; i++) s += (double)dy[o + i] * y[o + i];
    for (int i = 0; i < L; i++) dx[o + i] += (float)(y[o + i] * (dy[o + i] - s));
  }
}
