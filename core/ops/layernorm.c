#include "layernorm.h"

#include <math.h>

#include "vecmath.h"

/* Token bands per call: fixed (not the thread count) so the order of the
 * dweight/dbias reduction, and with it every bit of the result, is the same
 * on any pool. */
enum { BANDS = 32 };

static int n_bands(int T) { return T < BANDS ? T : BANDS; }

typedef struct {
  float *y, *mean, *rstd, *dx, *dweight, *dbias, *scratch;
  const float *x, *dy, *weight, *bias, *saved_mean, *saved_rstd;
  int T, C, bands;
  float eps;
} ln_job;

static void run(hy_pool *pool, int bands, hy_task_fn fn, ln_job *job) {
  if (!pool || bands == 1)
    for (int b = 0; b < bands; b++) fn(job, b, 0);
  else
    hy_pool_run(pool, bands, fn, job);
}

static inline float sum_sq_dev(const float *x, int n, float m) {
  float acc[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) {
      float d = x[i + j] - m;
      acc[j] += d * d;
    }
  for (; i < n; i++) {
    float d = x[i] - m;
    acc[i & 7] += d * d;
  }
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

HY_HOT static void forward_task(void *p, int band, int thread) {
  const ln_job *j = p;
  int C = j->C;
  int t0 = (int)((long long)j->T * band / j->bands);
  int t1 = (int)((long long)j->T * (band + 1) / j->bands);
  for (int t = t0; t < t1; t++) {
    const float *xt = j->x + (size_t)t * C;
    float *yt = j->y + (size_t)t * C;
    float m = hy_vsum(xt, C) / (float)C;
    float var = sum_sq_dev(xt, C, m) / (float)C;
    float r = 1.0f / sqrtf(var + j->eps);
    if (j->mean) j->mean[t] = m;
    if (j->rstd) j->rstd[t] = r;
    for (int c = 0; c < C; c++)
      yt[c] = (xt[c] - m) * r * j->weight[c] + j->bias[c];
  }
}

void hy_layernorm_forward(float *y, float *mean, float *rstd, const float *x,
                          const float *weight, const float *bias, int T, int C,
                          float eps, hy_pool *pool) {
  ln_job job = {.y = y, .mean = mean, .rstd = rstd, .x = x, .weight = weight,
                .bias = bias, .T = T, .C = C, .bands = n_bands(T), .eps = eps};
  run(pool, job.bands, forward_task, &job);
}

size_t hy_layernorm_scratch(int T, int C) {
  return (size_t)n_bands(T) * 2 * (size_t)C;
}

HY_HOT static void backward_task(void *p, int band, int thread) {
  const ln_job *j = p;
  int C = j->C;
  int t0 = (int)((long long)j->T * band / j->bands);
  int t1 = (int)((long long)j->T * (band + 1) / j->bands);
  float *pw = j->scratch + (size_t)band * 2 * C, *pb = pw + C;
  for (int c = 0; c < 2 * C; c++) pw[c] = 0.0f;
  for (int t = t0; t < t1; t++) {
    const float *xt = j->x + (size_t)t * C, *dyt = j->dy + (size_t)t * C;
    float m = j->saved_mean[t], r = j->saved_rstd[t];
    float ag[8] = {0}, ah[8] = {0}; /* sum(g), sum(g * xhat), g = dy * w */
    int c = 0;
    for (; c + 8 <= C; c += 8)
      for (int k = 0; k < 8; k++) {
        float g = dyt[c + k] * j->weight[c + k];
        ag[k] += g;
        ah[k] += g * ((xt[c + k] - m) * r);
      }
    for (; c < C; c++) {
      float g = dyt[c] * j->weight[c];
      ag[c & 7] += g;
      ah[c & 7] += g * ((xt[c] - m) * r);
    }
    float sg = ((ag[0] + ag[4]) + (ag[1] + ag[5])) + ((ag[2] + ag[6]) + (ag[3] + ag[7]));
    float sh = ((ah[0] + ah[4]) + (ah[1] + ah[5])) + ((ah[2] + ah[6]) + (ah[3] + ah[7]));
    float mg = sg / (float)C, mh = sh / (float)C;
    if (j->dweight || j->dbias)
      for (c = 0; c < C; c++) {
        float xhat = (xt[c] - m) * r;
        pw[c] += dyt[c] * xhat;
        pb[c] += dyt[c];
      }
    if (j->dx) {
      float *dxt = j->dx + (size_t)t * C;
      for (c = 0; c < C; c++) {
        float xhat = (xt[c] - m) * r;
        dxt[c] += r * (dyt[c] * j->weight[c] - mg - xhat * mh);
      }
    }
  }
}

void hy_layernorm_backward(float *dx, float *dweight, float *dbias,
                           const float *dy, const float *x, const float *mean,
                           const float *rstd, const float *weight, int T, int C,
                           float *scratch, hy_pool *pool) {
  if (!dx && !dweight && !dbias) return;
  ln_job job = {.dx = dx, .dweight = dweight, .dbias = dbias,
                .scratch = scratch, .dy = dy, .x = x,
                .saved_mean = mean, .saved_rstd = rstd, .weight = weight,
                .T = T, .C = C, .bands = n_bands(T)};
  run(pool, job.bands, backward_task, &job);
  for (int b = 0; b < job.bands; b++) {
    const float *pw = scratch + (size_t)b * 2 * C, *pb = pw + C;
    if (dweight)
      for (int c = 0; c < C; c++) dweight[c] += pw[c];
    if (dbias)
      for (int c = 0; c < C; c++) dbias[c] += pb[c];
  }
}

void hy_layernorm_forward_naive(float *y, float *mean, float *rstd,
                                const float *x, const float *weight,
                                const float *bias, int T, int C, float eps) {
  for (int t = 0; t < T; t++) {
    const float *xt = x + (size_t)t * C;
    double s = 0, ss = 0;
    for (int c = 0; c < C; c++) s += xt[c];
    double m = s / C;
    for (int c = 0; c < C; c++) ss += (xt[c] - m) * (xt[c] - m);
    double r = 1.0 / sqrt(ss / C + eps);
    if (mean) mean[t] = (float)m;
    if (rstd) rstd[t] = (float)r;
    for (int c = 0; c < C; c++)
      y[(size_t)t * C + c] = (float)((xt[c] - m) * r * weight[c] + bias[c]);
  }
}

void hy_layernorm_backward_naive(float *dx, float *dweight, float *dbias,
                                 const float *dy, const float *x,
                                 const float *mean, const float *rstd,
                                 const float *weight, int T, int C) {
  for (int t = 0; t < T; t++) {
    const float *xt = x + (size_t)t * C, *dyt = dy + (size_t)t * C;
    double m = mean[t], r = rstd[t], sg = 0, sh = 0;
    for (int c = 0; c < C; c++) {
      double g = (double)dyt[c] * weight[c];
      sg += g;
      sh += g * (xt[c] - m) * r;
    }
    if (dx)
      for (int c = 0; c < C; c++) {
        double xhat = (xt[c] - m) * r;
        dx[(size_t)t * C + c] +=
            (float)(r * (dyt[c] * weight[c] - sg / C - xhat * sh / C));
      }
  }
  for (int c = 0; c < C; c++) {
    double sw = 0, sb = 0;
    for (int t = 0; t < T; t++) {
      size_t k = (size_t)t * C + c;
      sw += dy[k] * ((x[k] - (double)mean[t]) * rstd[t]);
      sb += dy[k];
    }
    if (dweight) dweight[c] += (float)sw;
    if (dbias) dbias[c] += (float)sb;
  }
}
