#include "batchnorm.h"

#include <math.h>
#include <stddef.h>

#include "vecmath.h"

/* Per-channel sums over M = N * HW values run in double with 8 lanes:
 * M reaches 10^5..10^6 here, too many for a float accumulator. */

static inline double sum_dev(const float *x, int n, float shift) {
  double acc[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] += (double)(x[i + j] - shift);
  for (; i < n; i++) acc[i & 7] += (double)(x[i] - shift);
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

static inline double sum_sq_dev(const float *x, int n, float shift) {
  double acc[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) {
      double d = (double)(x[i + j] - shift);
      acc[j] += d * d;
    }
  for (; i < n; i++) {
    double d = (double)(x[i] - shift);
    acc[i & 7] += d * d;
  }
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* sum(dy) and sum(dy * (x - shift)) */
static inline void sum_dy_dyx(const float *dy, const float *x, int n,
                              float shift, double *g, double *h) {
  double ag[8] = {0}, ah[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) {
      ag[j] += (double)dy[i + j];
      ah[j] += (double)dy[i + j] * (double)(x[i + j] - shift);
    }
  for (; i < n; i++) {
    ag[i & 7] += (double)dy[i];
    ah[i & 7] += (double)dy[i] * (double)(x[i] - shift);
  }
  *g += ((ag[0] + ag[4]) + (ag[1] + ag[5])) + ((ag[2] + ag[6]) + (ag[3] + ag[7]));
  *h += ((ah[0] + ah[4]) + (ah[1] + ah[5])) + ((ah[2] + ah[6]) + (ah[3] + ah[7]));
}

/* (x - m - m_lo) * a + b: subtracting first, with the mean in two parts,
 * keeps precision when |mean| >> std */
static inline void affine(float *y, const float *x, int n, float m,
                          float m_lo, float a, float b) {
  for (int i = 0; i < n; i++) y[i] = ((x[i] - m) - m_lo) * a + b;
}

typedef struct {
  float *y, *mean, *rstd, *running_mean, *running_var;
  float *dx, *dweight, *dbias;
  const float *x, *dy, *weight, *bias, *rmean, *rvar;
  const float *saved_mean, *saved_rstd;
  int N, C, HW;
  float eps, momentum;
} bn_job;

static void run(hy_pool *pool, int C, hy_task_fn fn, bn_job *job) {
  if (!pool || C == 1)
    for (int c = 0; c < C; c++) fn(job, c, 0);
  else
    hy_pool_run(pool, C, fn, job);
}

HY_HOT static void train_forward_task(void *p, int c, int thread) {
  const bn_job *j = p;
  size_t M = (size_t)j->N * j->HW;
  /* two passes: the mean, then squared deviations from it (no cancellation);
   * the channel's planes are usually still in cache for the second pass */
  double s = 0;
  for (int n = 0; n < j->N; n++)
    s += sum_dev(j->x + ((size_t)n * j->C + c) * j->HW, j->HW, 0.0f);
  double mu_d = s / (double)M;
  float mu = (float)mu_d, mu_lo = (float)(mu_d - mu);
  double ss = 0;
  for (int n = 0; n < j->N; n++)
    ss += sum_sq_dev(j->x + ((size_t)n * j->C + c) * j->HW, j->HW, mu);
  /* ss is about x - mu with mu rounded to float: remove that offset */
  double var = ss / (double)M - (double)mu_lo * mu_lo;
  if (var < 0) var = 0;
  float r = (float)(1.0 / sqrt(var + (double)j->eps));
  j->mean[c] = mu;
  j->rstd[c] = r;
  if (j->running_mean)
    j->running_mean[c] = (1.0f - j->momentum) * j->running_mean[c] +
                         j->momentum * mu;
  if (j->running_var)
    j->running_var[c] = (1.0f - j->momentum) * j->running_var[c] +
                        j->momentum * (float)(var * (double)M / (double)(M - 1));
  float a = (j->weight ? j->weight[c] : 1.0f) * r;
  float b = j->bias ? j->bias[c] : 0.0f;
  for (int n = 0; n < j->N; n++) {
    size_t off = ((size_t)n * j->C + c) * j->HW;
    affine(j->y + off, j->x + off, j->HW, mu, mu_lo, a, b);
  }
}

void hy_batchnorm_forward_train(float *y, float *mean, float *rstd,
                                float *running_mean, float *running_var,
                                const float *x, const float *weight,
                                const float *bias, int N, int C, int HW,
                                float eps, float momentum, hy_pool *pool) {
  bn_job job = {.y = y, .mean = mean, .rstd = rstd, .running_mean = running_mean,
                .running_var = running_var, .x = x, .weight = weight,
                .bias = bias, .N = N, .C = C, .HW = HW, .eps = eps,
                .momentum = momentum};
  run(pool, C, train_forward_task, &job);
}

HY_HOT static void train_backward_task(void *p, int c, int thread) {
  const bn_job *j = p;
  double M = (double)j->N * j->HW;
  float mu = j->saved_mean[c], r = j->saved_rstd[c];
  double g = 0, h = 0; /* sum(dy), sum(dy * (x - mu)) */
  for (int n = 0; n < j->N; n++) {
    size_t off = ((size_t)n * j->C + c) * j->HW;
    sum_dy_dyx(j->dy + off, j->x + off, j->HW, mu, &g, &h);
  }
  double hx = h * r; /* sum(dy * xhat) */
  if (j->dweight) j->dweight[c] += (float)hx;
  if (j->dbias) j->dbias[c] += (float)g;
  if (!j->dx) return;
  /* dx += A * dy + B * (x - mu) + D */
  double gam = j->weight ? j->weight[c] : 1.0;
  float A = (float)(gam * r);
  float B = (float)(-gam * r * r * hx / M);
  float D = (float)(-gam * r * g / M);
  for (int n = 0; n < j->N; n++) {
    size_t off = ((size_t)n * j->C + c) * j->HW;
    float *dxc = j->dx + off;
    const float *dyc = j->dy + off, *xc = j->x + off;
    for (int i = 0; i < j->HW; i++) dxc[i] += A * dyc[i] + (B * (xc[i] - mu) + D);
  }
}

void hy_batchnorm_backward_train(float *dx, float *dweight, float *dbias,
                                 const float *dy, const float *x,
                                 const float *mean, const float *rstd,
                                 const float *weight, int N, int C, int HW,
                                 hy_pool *pool) {
  if (!dx && !dweight && !dbias) return;
  bn_job job = {.dx = dx, .dweight = dweight, .dbias = dbias, .dy = dy, .x = x,
                .saved_mean = mean, .saved_rstd = rstd, .weight = weight,
                .N = N, .C = C, .HW = HW};
  run(pool, C, train_backward_task, &job);
}

HY_HOT static void eval_forward_task(void *p, int c, int thread) {
  const bn_job *j = p;
  float r = 1.0f / sqrtf(j->rvar[c] + j->eps);
  float a = (j->weight ? j->weight[c] : 1.0f) * r;
  float b = j->bias ? j->bias[c] : 0.0f;
  for (int n = 0; n < j->N; n++) {
    size_t off = ((size_t)n * j->C + c) * j->HW;
    affine(j->y + off, j->x + off, j->HW, j->rmean[c], 0.0f, a, b);
  }
}

void hy_batchnorm_forward_eval(float *y, const float *x,
                               const float *running_mean,
                               const float *running_var, const float *weight,
                               const float *bias, int N, int C, int HW,
                               float eps, hy_pool *pool) {
  bn_job job = {.y = y, .x = x, .rmean = running_mean, .rvar = running_var,
                .weight = weight, .bias = bias, .N = N, .C = C, .HW = HW,
                .eps = eps};
  run(pool, C, eval_forward_task, &job);
}

HY_HOT static void eval_backward_task(void *p, int c, int thread) {
  const bn_job *j = p;
  float r = 1.0f / sqrtf(j->rvar[c] + j->eps);
  float a = (j->weight ? j->weight[c] : 1.0f) * r;
  double g = 0, h = 0;
  for (int n = 0; n < j->N; n++) {
    size_t off = ((size_t)n * j->C + c) * j->HW;
    if (j->dweight)
      sum_dy_dyx(j->dy + off, j->x + off, j->HW, j->rmean[c], &g, &h);
    else if (j->dbias)
      g += sum_dev(j->dy + off, j->HW, 0.0f);
    if (j->dx) {
      float *dxc = j->dx + off;
      const float *dyc = j->dy + off;
      for (int i = 0; i < j->HW; i++) dxc[i] += a * dyc[i];
    }
  }
  if (j->dweight) j->dweight[c] += (float)(h * r);
  if (j->dbias) j->dbias[c] += (float)g;
}

void hy_batchnorm_backward_eval(float *dx, float *dweight, float *dbias,
                                const float *dy, const float *x,
                                const float *running_mean,
                                const float *running_var, const float *weight,
                                int N, int C, int HW, float eps, hy_pool *pool) {
  if (!dx && !dweight && !dbias) return;
  bn_job job = {.dx = dx, .dweight = dweight, .dbias = dbias, .dy = dy, .x = x,
                .rmean = running_mean, .rvar = running_var, .weight = weight,
                .N = N, .C = C, .HW = HW, .eps = eps};
  run(pool, C, eval_backward_task, &job);
}

void hy_batchnorm_fold(float *w_out, float *b_out, const float *conv_w,
                       const float *conv_b, const float *running_mean,
                       const float *running_var, const float *weight,
                       const float *bias, int outer, int Cout, int inner,
                       float eps) {
  for (int o = 0; o < Cout; o++) {
    double s = (weight ? weight[o] : 1.0) / sqrt((double)running_var[o] + eps);
    for (int g = 0; g < outer; g++) {
      size_t off = ((size_t)g * Cout + o) * inner;
      for (int k = 0; k < inner; k++)
        w_out[off + k] = (float)(conv_w[off + k] * s);
    }
    double b = conv_b ? conv_b[o] : 0.0;
    b_out[o] = (float)((b - running_mean[o]) * s + (bias ? bias[o] : 0.0));
  }
}

void hy_batchnorm_forward_train_naive(float *y, float *mean, float *rstd,
                                      float *running_mean, float *running_var,
                                      const float *x, const float *weight,
                                      const float *bias, int N, int C, int HW,
                                      float eps, float momentum) {
  for (int c = 0; c < C; c++) {
    double M = (double)N * HW, s = 0, ss = 0;
    for (int n = 0; n < N; n++)
      for (int i = 0; i < HW; i++) s += x[((size_t)n * C + c) * HW + i];
    double mu = s / M;
    for (int n = 0; n < N; n++)
      for (int i = 0; i < HW; i++) {
        double d = x[((size_t)n * C + c) * HW + i] - mu;
        ss += d * d;
      }
    double var = ss / M, r = 1.0 / sqrt(var + eps);
    mean[c] = (float)mu;
    rstd[c] = (float)r;
    if (running_mean)
      running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mu);
    if (running_var)
      running_var[c] = (float)((1.0 - momentum) * running_var[c] +
                               momentum * var * M / (M - 1));
    for (int n = 0; n < N; n++)
      for (int i = 0; i < HW; i++) {
        size_t k = ((size_t)n * C + c) * HW + i;
        y[k] = (float)((x[k] - mu) * r * (weight ? weight[c] : 1.0) +
                       (bias ? bias[c] : 0.0));
      }
  }
}

void hy_batchnorm_backward_train_naive(float *dx, float *dweight, float *dbias,
                                       const float *dy, const float *x,
                                       const float *mean, const float *rstd,
                                       const float *weight, int N, int C,
                                       int HW) {
  for (int c = 0; c < C; c++) {
    double M = (double)N * HW, g = 0, h = 0, r = rstd[c];
    double gam = weight ? weight[c] : 1.0;
    for (int n = 0; n < N; n++)
      for (int i = 0; i < HW; i++) {
        size_t k = ((size_t)n * C + c) * HW + i;
        g += dy[k];
        h += dy[k] * (x[k] - (double)mean[c]) * r;
      }
    if (dweight) dweight[c] += (float)h;
    if (dbias) dbias[c] += (float)g;
    if (dx)
      for (int n = 0; n < N; n++)
        for (int i = 0; i < HW; i++) {
          size_t k = ((size_t)n * C + c) * HW + i;
          double xhat = (x[k] - (double)mean[c]) * r;
          dx[k] += (float)(gam * r * (dy[k] - g / M - xhat * h / M));
        }
  }
}

void hy_batchnorm_forward_eval_naive(float *y, const float *x,
                                     const float *running_mean,
                                     const float *running_var,
                                     const float *weight, const float *bias,
                                     int N, int C, int HW, float eps) {
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      double r = 1.0 / sqrt((double)running_var[c] + eps);
      for (int i = 0; i < HW; i++) {
        size_t k = ((size_t)n * C + c) * HW + i;
        y[k] = (float)((x[k] - (double)running_mean[c]) * r *
                           (weight ? weight[c] : 1.0) +
                       (bias ? bias[c] : 0.0));
      }
    }
}

void hy_batchnorm_backward_eval_naive(float *dx, float *dweight, float *dbias,
                                      const float *dy, const float *x,
                                      const float *running_mean,
                                      const float *running_var,
                                      const float *weight, int N, int C, int HW,
                                      float eps) {
  for (int c = 0; c < C; c++) {
    double r = 1.0 / sqrt((double)running_var[c] + eps), g = 0, h = 0;
    double gam = weight ? weight[c] : 1.0;
    for (int n = 0; n < N; n++)
      for (int i = 0; i < HW; i++) {
        size_t k = ((size_t)n * C + c) * HW + i;
        g += dy[k];
        if (dweight) h += dy[k] * (x[k] - (double)running_mean[c]) * r;
        if (dx) dx[k] += (float)(dy[k] * gam * r);
      }
    if (dweight) dweight[c] += (float)h;
    if (dbias) dbias[c] += (float)g;
  }
}
