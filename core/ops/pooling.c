#include "pooling.h"

#include <stddef.h>
#include <string.h>

#include "vecmath.h"

/* Pixels per task of the per-pixel channel reductions: the running sum, max
 * and arg-max of one band (12 KB) stay in L1 while C input rows stream by. */
#define BAND 1024

typedef struct {
  float *y, *dx;
  int32_t *arg;
  const float *x, *dy;
  const int32_t *carg;
  int C, H, W, OH, OW, ldx, ldy, bands;
  size_t hw;
} pool_ctx;

/* ---- global average ---- */

static HY_HOT void gavg_fwd_task(void *p, int plane, int thread) {
  const pool_ctx *c = p;
  c->y[plane] = hy_vsum(c->x + (size_t)plane * c->hw, (int)c->hw) / (float)c->hw;
}

void hy_global_avgpool_forward(float *y, const float *x, int N, int C, int H,
                               int W, hy_pool *pool) {
  pool_ctx c = {.y = y, .x = x, .hw = (size_t)H * W};
  hy_pool_run(pool, N * C, gavg_fwd_task, &c);
}

static HY_HOT void gavg_bwd_task(void *p, int plane, int thread) {
  const pool_ctx *c = p;
  float g = c->dy[plane] / (float)c->hw;
  float *dx = c->dx + (size_t)plane * c->hw;
  for (size_t i = 0; i < c->hw; i++) dx[i] += g;
}

void hy_global_avgpool_backward(float *dx, const float *dy, int N, int C,
                                int H, int W, hy_pool *pool) {
  pool_ctx c = {.dx = dx, .dy = dy, .hw = (size_t)H * W};
  hy_pool_run(pool, N * C, gavg_bwd_task, &c);
}

/* ---- global max ---- */

/* Two passes: the maximum with 8 vectorisable lanes, then the first index
 * holding it (the plane is still in cache). With NaN in the plane the
 * search may find nothing and stops at the last index: y = x[argmax]
 * always, in bounds. */
static HY_HOT void gmax_fwd_task(void *p, int plane, int thread) {
  const pool_ctx *c = p;
  const float *x = c->x + (size_t)plane * c->hw;
  size_t n = c->hw;
  float m[8];
  for (int j = 0; j < 8; j++) m[j] = x[0];
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
  for (; i < n; i++) m[0] = x[i] > m[0] ? x[i] : m[0];
  float best = m[0];
  for (int j = 1; j < 8; j++) best = m[j] > best ? m[j] : best;
  size_t arg = 0;
  while (arg + 1 < n && !(x[arg] == best)) arg++;
  c->y[plane] = x[arg];
  c->arg[plane] = (int32_t)arg;
}

void hy_global_maxpool_forward(float *y, int32_t *argmax, const float *x,
                               int N, int C, int H, int W, hy_pool *pool) {
  pool_ctx c = {.y = y, .arg = argmax, .x = x, .hw = (size_t)H * W};
  hy_pool_run(pool, N * C, gmax_fwd_task, &c);
}

void hy_global_maxpool_backward(float *dx, const float *dy,
                                const int32_t *argmax, int N, int C, int H,
                                int W) {
  size_t hw = (size_t)H * W;
  for (size_t q = 0; q < (size_t)N * C; q++) dx[q * hw + (size_t)argmax[q]] += dy[q];
}

/* ---- mean and max over channels ---- */

/* One band of 4 channels x[ch..ch+3] into the running sum, max and
 * arg-max: a tournament in which a later channel wins only when strictly
 * greater (written as plain ?: on comparisons, which GCC if-converts). */
static HY_HOT void meanmax4(float *restrict sum, float *restrict mx,
                            int32_t *restrict arg, const float *restrict x,
                            size_t hw, int ch, int len) {
  const float *x0 = x, *x1 = x + hw, *x2 = x1 + hw, *x3 = x2 + hw;
  for (int i = 0; i < len; i++) {
    float v0 = x0[i], v1 = x1[i], v2 = x2[i], v3 = x3[i];
    float m01 = v1 > v0 ? v1 : v0, m23 = v3 > v2 ? v3 : v2;
    int32_t a01 = v1 > v0 ? ch + 1 : ch, a23 = v3 > v2 ? ch + 3 : ch + 2;
    float m4 = m23 > m01 ? m23 : m01;
    int32_t a4 = m23 > m01 ? a23 : a01;
    float m = mx[i];
    arg[i] = m4 > m ? a4 : arg[i];
    mx[i] = m4 > m ? m4 : m;
    sum[i] += (v0 + v1) + (v2 + v3);
  }
}

static HY_HOT void cmm_fwd_task(void *p, int task, int thread) {
  const pool_ctx *c = p;
  int n = task / c->bands;
  size_t p0 = (size_t)(task % c->bands) * BAND;
  int len = (int)(c->hw - p0 < BAND ? c->hw - p0 : BAND);
  const float *x = c->x + (size_t)n * c->C * c->hw + p0;
  float *sum = c->y + (size_t)n * 2 * c->hw + p0;
  float *mx = sum + c->hw;
  int32_t *arg = c->arg + (size_t)n * c->hw + p0;
  for (int i = 0; i < len; i++) {
    sum[i] = x[i];
    mx[i] = x[i];
    arg[i] = 0;
  }
  /* four channels per pass: fewer stores to the band, and fewer loads that
   * alias them modulo 4 KB (H·W is often a multiple of 1024) */
  int ch = 1;
  for (; ch + 4 <= c->C; ch += 4)
    meanmax4(sum, mx, arg, x + (size_t)ch * c->hw, c->hw, ch, len);
  for (; ch < c->C; ch++) {
    const float *xc = x + (size_t)ch * c->hw;
    for (int i = 0; i < len; i++) {
      float v = xc[i];
      int gt = v > mx[i];
      sum[i] += v;
      mx[i] = gt ? v : mx[i];
      arg[i] = gt ? ch : arg[i];
    }
  }
  float inv = 1.0f / (float)c->C;
  for (int i = 0; i < len; i++) sum[i] *= inv;
}

void hy_channel_meanmax_forward(float *y, int32_t *argmax, const float *x,
                                int N, int C, int H, int W, hy_pool *pool) {
  pool_ctx c = {.y = y, .arg = argmax, .x = x, .C = C, .hw = (size_t)H * W};
  c.bands = (int)((c.hw + BAND - 1) / BAND);
  hy_pool_run(pool, N * c.bands, cmm_fwd_task, &c);
}

static HY_HOT void cmm_bwd_task(void *p, int task, int thread) {
  const pool_ctx *c = p;
  int n = task / c->bands;
  size_t p0 = (size_t)(task % c->bands) * BAND;
  int len = (int)(c->hw - p0 < BAND ? c->hw - p0 : BAND);
  float *dx = c->dx + (size_t)n * c->C * c->hw + p0;
  const float *dmean = c->dy + (size_t)n * 2 * c->hw + p0;
  const float *dmax = dmean + c->hw;
  const int32_t *arg = c->carg + (size_t)n * c->hw + p0;
  float inv = 1.0f / (float)c->C;
  for (int ch = 0; ch < c->C; ch++) {
    float *d = dx + (size_t)ch * c->hw;
    for (int i = 0; i < len; i++)
      d[i] += dmean[i] * inv + (arg[i] == ch ? dmax[i] : 0.0f);
  }
}

void hy_channel_meanmax_backward(float *dx, const float *dy,
                                 const int32_t *argmax, int N, int C, int H,
                                 int W, hy_pool *pool) {
  pool_ctx c = {.dx = dx, .dy = dy, .carg = argmax, .C = C, .hw = (size_t)H * W};
  c.bands = (int)((c.hw + BAND - 1) / BAND);
  hy_pool_run(pool, N * c.bands, cmm_bwd_task, &c);
}

/* ---- adaptive average ---- */

void hy_adaptive_bin(int i, int in, int out, int *start, int *end) {
  *start = (int)((long long)i * in / out);
  *end = (int)(((long long)(i + 1) * in + out - 1) / out);
}

/* Sums a bin row by row, each row segment with 8 lanes. */
static HY_HOT void aavg_fwd_task(void *p, int plane, int thread) {
  const pool_ctx *c = p;
  const float *x = c->x + (size_t)plane * c->hw;
  float *y = c->y + (size_t)plane * c->OH * c->OW;
  for (int i = 0; i < c->OH; i++) {
    int r0, r1;
    hy_adaptive_bin(i, c->H, c->OH, &r0, &r1);
    for (int j = 0; j < c->OW; j++) {
      int q0, q1;
      hy_adaptive_bin(j, c->W, c->OW, &q0, &q1);
      float s = 0;
      for (int r = r0; r < r1; r++) s += hy_vsum(x + (size_t)r * c->W + q0, q1 - q0);
      y[i * c->OW + j] = s / (float)((r1 - r0) * (q1 - q0));
    }
  }
}

void hy_adaptive_avgpool_forward(float *y, const float *x, int N, int C, int H,
                                 int W, int OH, int OW, hy_pool *pool) {
  pool_ctx c = {.y = y, .x = x, .H = H, .W = W, .OH = OH, .OW = OW,
                .hw = (size_t)H * W};
  hy_pool_run(pool, N * C, aavg_fwd_task, &c);
}

static void aavg_bwd_task(void *p, int plane, int thread) {
  const pool_ctx *c = p;
  float *dx = c->dx + (size_t)plane * c->hw;
  const float *dy = c->dy + (size_t)plane * c->OH * c->OW;
  for (int i = 0; i < c->OH; i++) {
    int r0, r1;
    hy_adaptive_bin(i, c->H, c->OH, &r0, &r1);
    for (int j = 0; j < c->OW; j++) {
      int q0, q1;
      hy_adaptive_bin(j, c->W, c->OW, &q0, &q1);
      float g = dy[i * c->OW + j] / (float)((r1 - r0) * (q1 - q0));
      for (int r = r0; r < r1; r++)
        for (int q = q0; q < q1; q++) dx[(size_t)r * c->W + q] += g;
    }
  }
}

void hy_adaptive_avgpool_backward(float *dx, const float *dy, int N, int C,
                                  int H, int W, int OH, int OW, hy_pool *pool) {
  pool_ctx c = {.dx = dx, .dy = dy, .H = H, .W = W, .OH = OH, .OW = OW,
                .hw = (size_t)H * W};
  hy_pool_run(pool, N * C, aavg_bwd_task, &c);
}

/* Channels-last: the inner loops run over C contiguous channels. */
static HY_HOT void aavg_nhwc_fwd_task(void *p, int n, int thread) {
  const pool_ctx *c = p;
  const float *x = c->x + (size_t)n * c->hw * c->ldx;
  float *y = c->y + (size_t)n * c->OH * c->OW * c->ldy;
  int C = c->C;
  for (int i = 0; i < c->OH; i++) {
    int r0, r1;
    hy_adaptive_bin(i, c->H, c->OH, &r0, &r1);
    for (int j = 0; j < c->OW; j++) {
      int q0, q1;
      hy_adaptive_bin(j, c->W, c->OW, &q0, &q1);
      float *yt = y + ((size_t)i * c->OW + j) * c->ldy;
      memset(yt, 0, (size_t)C * sizeof *yt);
      for (int r = r0; r < r1; r++)
        for (int q = q0; q < q1; q++) {
          const float *xt = x + ((size_t)r * c->W + q) * c->ldx;
          for (int k = 0; k < C; k++) yt[k] += xt[k];
        }
      float inv = 1.0f / (float)((r1 - r0) * (q1 - q0));
      for (int k = 0; k < C; k++) yt[k] *= inv;
    }
  }
}

void hy_adaptive_avgpool_nhwc_forward(float *y, const float *x, int N, int H,
                                      int W, int C, int OH, int OW, int ldx,
                                      int ldy, hy_pool *pool) {
  pool_ctx c = {.y = y, .x = x, .C = C, .H = H, .W = W, .OH = OH, .OW = OW,
                .ldx = ldx, .ldy = ldy, .hw = (size_t)H * W};
  hy_pool_run(pool, N, aavg_nhwc_fwd_task, &c);
}

static HY_HOT void aavg_nhwc_bwd_task(void *p, int n, int thread) {
  const pool_ctx *c = p;
  float *dx = c->dx + (size_t)n * c->hw * c->ldx;
  const float *dy = c->dy + (size_t)n * c->OH * c->OW * c->ldy;
  int C = c->C;
  for (int i = 0; i < c->OH; i++) {
    int r0, r1;
    hy_adaptive_bin(i, c->H, c->OH, &r0, &r1);
    for (int j = 0; j < c->OW; j++) {
      int q0, q1;
      hy_adaptive_bin(j, c->W, c->OW, &q0, &q1);
      const float *g = dy + ((size_t)i * c->OW + j) * c->ldy;
      float inv = 1.0f / (float)((r1 - r0) * (q1 - q0));
      for (int r = r0; r < r1; r++)
        for (int q = q0; q < q1; q++) {
          float *dxt = dx + ((size_t)r * c->W + q) * c->ldx;
          for (int k = 0; k < C; k++) dxt[k] += g[k] * inv;
        }
    }
  }
}

void hy_adaptive_avgpool_nhwc_backward(float *dx, const float *dy, int N,
                                       int H, int W, int C, int OH, int OW,
                                       int ldx, int ldy, hy_pool *pool) {
  pool_ctx c = {.dx = dx, .dy = dy, .C = C, .H = H, .W = W, .OH = OH, .OW = OW,
                .ldx = ldx, .ldy = ldy, .hw = (size_t)H * W};
  hy_pool_run(pool, N, aavg_nhwc_bwd_task, &c);
}

/* ---- naive references ---- */

void hy_global_avgpool_forward_naive(float *y, const float *x, int N, int C,
                                     int H, int W) {
  for (int q = 0; q < N * C; q++) {
    double s = 0;
    for (int i = 0; i < H * W; i++) s += x[(size_t)q * H * W + i];
    y[q] = (float)(s / (H * W));
  }
}

void hy_global_avgpool_backward_naive(float *dx, const float *dy, int N, int C,
                                      int H, int W) {
  for (int q = 0; q < N * C; q++)
    for (int i = 0; i < H * W; i++)
      dx[(size_t)q * H * W + i] += (float)((double)dy[q] / (H * W));
}

void hy_global_maxpool_forward_naive(float *y, int32_t *argmax, const float *x,
                                     int N, int C, int H, int W) {
  for (int q = 0; q < N * C; q++) {
    const float *xp = x + (size_t)q * H * W;
    int best = 0;
    for (int i = 1; i < H * W; i++)
      if (xp[i] > xp[best]) best = i;
    y[q] = xp[best];
    argmax[q] = best;
  }
}

void hy_channel_meanmax_forward_naive(float *y, int32_t *argmax, const float *x,
                                      int N, int C, int H, int W) {
  size_t hw = (size_t)H * W;
  for (int n = 0; n < N; n++)
    for (size_t i = 0; i < hw; i++) {
      double s = 0;
      int best = 0;
      for (int c = 0; c < C; c++) {
        float v = x[((size_t)n * C + c) * hw + i];
        s += v;
        if (v > x[((size_t)n * C + best) * hw + i]) best = c;
      }
      y[(size_t)n * 2 * hw + i] = (float)(s / C);
      y[(size_t)n * 2 * hw + hw + i] = x[((size_t)n * C + best) * hw + i];
      argmax[(size_t)n * hw + i] = best;
    }
}

void hy_channel_meanmax_backward_naive(float *dx, const float *dy,
                                       const int32_t *argmax, int N, int C,
                                       int H, int W) {
  size_t hw = (size_t)H * W;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (size_t i = 0; i < hw; i++) {
        float g = (float)((double)dy[(size_t)n * 2 * hw + i] / C);
        if (argmax[(size_t)n * hw + i] == c) g += dy[(size_t)n * 2 * hw + hw + i];
        dx[((size_t)n * C + c) * hw + i] += g;
      }
}

void hy_adaptive_avgpool_forward_naive(float *y, const float *x, int N, int C,
                                       int H, int W, int OH, int OW) {
  hy_adaptive_avgpool_nhwc_forward_naive(y, x, N * C, H, W, 1, OH, OW, 1, 1);
}

void hy_adaptive_avgpool_backward_naive(float *dx, const float *dy, int N,
                                        int C, int H, int W, int OH, int OW) {
  hy_adaptive_avgpool_nhwc_backward_naive(dx, dy, N * C, H, W, 1, OH, OW, 1, 1);
}

void hy_adaptive_avgpool_nhwc_forward_naive(float *y, const float *x, int N,
                                            int H, int W, int C, int OH, int OW,
                                            int ldx, int ldy) {
  for (int n = 0; n < N; n++)
    for (int i = 0; i < OH; i++)
      for (int j = 0; j < OW; j++)
        for (int k = 0; k < C; k++) {
          int r0, r1, q0, q1;
          hy_adaptive_bin(i, H, OH, &r0, &r1);
          hy_adaptive_bin(j, W, OW, &q0, &q1);
          double s = 0;
          for (int r = r0; r < r1; r++)
            for (int q = q0; q < q1; q++)
              s += x[(((size_t)n * H + r) * W + q) * ldx + k];
          y[(((size_t)n * OH + i) * OW + j) * ldy + k] =
              (float)(s / ((r1 - r0) * (q1 - q0)));
        }
}

void hy_adaptive_avgpool_nhwc_backward_naive(float *dx, const float *dy, int N,
                                             int H, int W, int C, int OH,
                                             int OW, int ldx, int ldy) {
  for (int n = 0; n < N; n++)
    for (int i = 0; i < OH; i++)
      for (int j = 0; j < OW; j++)
        for (int k = 0; k < C; k++) {
          int r0, r1, q0, q1;
          hy_adaptive_bin(i, H, OH, &r0, &r1);
          hy_adaptive_bin(j, W, OW, &q0, &q1);
          double g = (double)dy[(((size_t)n * OH + i) * OW + j) * ldy + k] /
                     ((r1 - r0) * (q1 - q0));
          for (int r = r0; r < r1; r++)
            for (int q = q0; q < q1; q++)
              dx[(((size_t)n * H + r) * W + q) * ldx + k] += (float)g;
        }
}
