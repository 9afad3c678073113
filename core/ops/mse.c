#include "mse.h"

#include <stddef.h>

/* Upper bound on the number of plane groups: partials live on the stack and
 * the grouping depends only on the dimensions, never on the thread count. */
#define MSE_MAX_TASKS 256
#define MSE_LANES 8

typedef struct {
  float *dO;
  const float *o, *t, *w;
  double scale;
  size_t plane, count;
  int planes, tasks;
  double partial[MSE_MAX_TASKS];
} mse_ctx;

static int first_plane(const mse_ctx *c, int task) {
  return (int)((long long)c->planes * task / c->tasks);
}

/* Σ (o − t)² over one plane, in independent double lanes so that the loop
 * vectorises without reassociation. */
static double plane_sq_sum(const float *o, const float *t, size_t n) {
  double acc[MSE_LANES] = {0};
  size_t i = 0;
  for (; i + MSE_LANES <= n; i += MSE_LANES)
    for (int j = 0; j < MSE_LANES; j++) {
      double d = (double)o[i + j] - (double)t[i + j];
      acc[j] += d * d;
    }
  for (; i < n; i++) {
    double d = (double)o[i] - (double)t[i];
    acc[0] += d * d;
  }
  double s = 0;
  for (int j = 0; j < MSE_LANES; j++) s += acc[j];
  return s;
}

static void forward_task(void *p, int task, int thread) {
  mse_ctx *c = p;
  double s = 0;
  for (int q = first_plane(c, task); q < first_plane(c, task + 1); q++) {
    double wk = c->w[q];
    s += wk * wk * plane_sq_sum(c->o + (size_t)q * c->plane,
                                c->t + (size_t)q * c->plane, c->plane);
  }
  c->partial[task] = s;
}

static int task_count(int planes) {
  return planes < MSE_MAX_TASKS ? planes : MSE_MAX_TASKS;
}

double hy_mse_forward(const float *o, const float *t, const float *w,
                      float scale, int N, int K, int H, int W, hy_pool *pool) {
  mse_ctx c = {
      .o = o, .t = t, .w = w,
      .plane = (size_t)H * W,
      .count = (size_t)N * K * H * W,
      .planes = N * K,
      .tasks = task_count(N * K),
  };
  hy_pool_run(pool, c.tasks, forward_task, &c);
  double s = 0;
  for (int i = 0; i < c.tasks; i++) s += c.partial[i];
  return (double)scale * s / (double)c.count;
}

static void backward_task(void *p, int task, int thread) {
  mse_ctx *c = p;
  for (int q = first_plane(c, task); q < first_plane(c, task + 1); q++) {
    double wk = c->w[q];
    float k = (float)(c->scale * 2.0 * wk * wk / (double)c->count);
    float *d = c->dO + (size_t)q * c->plane;
    const float *oq = c->o + (size_t)q * c->plane;
    const float *tq = c->t + (size_t)q * c->plane;
    for (size_t i = 0; i < c->plane; i++) d[i] += k * (oq[i] - tq[i]);
  }
}

void hy_mse_backward(float *dO, const float *o, const float *t, const float *w,
                     float scale, int N, int K, int H, int W, hy_pool *pool) {
  if (!dO) return;
  mse_ctx c = {
      .dO = dO, .o = o, .t = t, .w = w,
      .scale = scale,
      .plane = (size_t)H * W,
      .count = (size_t)N * K * H * W,
      .planes = N * K,
      .tasks = task_count(N * K),
  };
  hy_pool_run(pool, c.tasks, backward_task, &c);
}

double hy_mse_forward_naive(const float *o, const float *t, const float *w,
                            float scale, int N, int K, int H, int W) {
  size_t plane = (size_t)H * W, count = (size_t)N * K * plane;
  double s = 0;
  for (size_t i = 0; i < count; i++) {
    double d = (double)w[i / plane] * ((double)o[i] - (double)t[i]);
    s += d * d;
  }
  return (double)scale * s / (double)count;
}

void hy_mse_backward_naive(float *dO, const float *o, const float *t,
                           const float *w, float scale, int N, int K, int H,
                           int W) {
  if (!dO) return;
  size_t plane = (size_t)H * W, count = (size_t)N * K * plane;
  for (size_t i = 0; i < count; i++) {
    double wk = w[i / plane];
    dO[i] += (float)((double)scale * 2.0 * wk * wk *
                     ((double)o[i] - (double)t[i]) / (double)count);
  }
}
