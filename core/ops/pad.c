#include "pad.h"

#include <stddef.h>
#include <string.h>

#include "vecmath.h"

typedef struct {
  float *out;
  const float *in;
  int H, W, C, Hp, Wp;
} pad_ctx;

int hy_pad_to_multiple(int n, int S) { return (n + S - 1) / S * S; }

/* offsets of row h of image n in the small (H x W) and padded map */
static size_t small_row(const pad_ctx *c, int n, int h) {
  return ((size_t)n * c->H + h) * c->W * c->C;
}
static size_t big_row(const pad_ctx *c, int n, int h) {
  return ((size_t)n * c->Hp + h) * c->Wp * c->C;
}

static HY_HOT void acc(float *restrict y, const float *restrict x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

/* task t = padded row (n, h), h < Hp */
static void pad_fwd_task(void *p, int t, int thread) {
  const pad_ctx *c = p;
  int n = t / c->Hp, h = t % c->Hp;
  size_t wc = (size_t)c->W * c->C, wpc = (size_t)c->Wp * c->C;
  float *y = c->out + big_row(c, n, h);
  if (h < c->H) {
    memcpy(y, c->in + small_row(c, n, h), wc * sizeof *y);
    memset(y + wc, 0, (wpc - wc) * sizeof *y);
  } else {
    memset(y, 0, wpc * sizeof *y);
  }
}

/* task t = valid row (n, h), h < H */
static void pad_bwd_task(void *p, int t, int thread) {
  const pad_ctx *c = p;
  int n = t / c->H, h = t % c->H;
  acc(c->out + small_row(c, n, h), c->in + big_row(c, n, h), (size_t)c->W * c->C);
}

static void crop_fwd_task(void *p, int t, int thread) {
  const pad_ctx *c = p;
  int n = t / c->H, h = t % c->H;
  memcpy(c->out + small_row(c, n, h), c->in + big_row(c, n, h),
         (size_t)c->W * c->C * sizeof(float));
}

static void crop_bwd_task(void *p, int t, int thread) {
  const pad_ctx *c = p;
  int n = t / c->H, h = t % c->H;
  acc(c->out + big_row(c, n, h), c->in + small_row(c, n, h), (size_t)c->W * c->C);
}

void hy_pad_forward(float *y, const float *x, int N, int H, int W, int C,
                    int Hp, int Wp, hy_pool *pool) {
  pad_ctx c = {y, x, H, W, C, Hp, Wp};
  hy_pool_run(pool, N * Hp, pad_fwd_task, &c);
}

void hy_pad_backward(float *dx, const float *dy, int N, int H, int W, int C,
                     int Hp, int Wp, hy_pool *pool) {
  pad_ctx c = {dx, dy, H, W, C, Hp, Wp};
  hy_pool_run(pool, N * H, pad_bwd_task, &c);
}

void hy_crop_forward(float *y, const float *x, int N, int H, int W, int C,
                     int Hp, int Wp, hy_pool *pool) {
  pad_ctx c = {y, x, H, W, C, Hp, Wp};
  hy_pool_run(pool, N * H, crop_fwd_task, &c);
}

void hy_crop_backward(float *dx, const float *dy, int N, int H, int W, int C,
                      int Hp, int Wp, hy_pool *pool) {
  pad_ctx c = {dx, dy, H, W, C, Hp, Wp};
  hy_pool_run(pool, N * H, crop_bwd_task, &c);
}

/* ---- naive references ---- */

static size_t at(int n, int h, int w, int c, int H, int W, int C) {
  return (((size_t)n * H + h) * W + w) * C + c;
}

void hy_pad_forward_naive(float *y, const float *x, int N, int H, int W, int C,
                          int Hp, int Wp) {
  for (int n = 0; n < N; n++)
    for (int h = 0; h < Hp; h++)
      for (int w = 0; w < Wp; w++)
        for (int c = 0; c < C; c++)
          y[at(n, h, w, c, Hp, Wp, C)] =
              h < H && w < W ? x[at(n, h, w, c, H, W, C)] : 0.0f;
}

void hy_pad_backward_naive(float *dx, const float *dy, int N, int H, int W,
                           int C, int Hp, int Wp) {
  for (int n = 0; n < N; n++)
    for (int h = 0; h < H; h++)
      for (int w = 0; w < W; w++)
        for (int c = 0; c < C; c++)
          dx[at(n, h, w, c, H, W, C)] += dy[at(n, h, w, c, Hp, Wp, C)];
}

void hy_crop_forward_naive(float *y, const float *x, int N, int H, int W, int C,
                           int Hp, int Wp) {
  for (int n = 0; n < N; n++)
    for (int h = 0; h < H; h++)
      for (int w = 0; w < W; w++)
        for (int c = 0; c < C; c++)
          y[at(n, h, w, c, H, W, C)] = x[at(n, h, w, c, Hp, Wp, C)];
}

void hy_crop_backward_naive(float *dx, const float *dy, int N, int H, int W,
                            int C, int Hp, int Wp) {
  for (int n = 0; n < N; n++)
    for (int h = 0; h < H; h++)
      for (int w = 0; w < W; w++)
        for (int c = 0; c < C; c++)
          dx[at(n, h, w, c, Hp, Wp, C)] += dy[at(n, h, w, c, H, W, C)];
}
