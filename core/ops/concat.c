#include "concat.h"

#include <stddef.h>
#include <string.h>

#include "vecmath.h"

typedef struct {
  float *y;
  const float *const *x;
  float *const *dx;
  const float *dy;
  const int *C;
  int count, Cy;
  size_t hw;
} concat_ctx;

/* input i and its channel for output channel ch */
static int source(const int *C, int count, int ch, int *ci) {
  int i = 0;
  while (i < count - 1 && ch >= C[i]) ch -= C[i++];
  *ci = ch;
  return i;
}

static void fwd_task(void *p, int plane, int thread) {
  const concat_ctx *c = p;
  int n = plane / c->Cy, ci;
  int i = source(c->C, c->count, plane % c->Cy, &ci);
  float *dst = c->y + (size_t)plane * c->hw;
  const float *src = c->x[i] + ((size_t)n * c->C[i] + ci) * c->hw;
  if (src != dst) memcpy(dst, src, c->hw * sizeof(float)); /* in place: written there already */
}

static HY_HOT void bwd_task(void *p, int plane, int thread) {
  const concat_ctx *c = p;
  int n = plane / c->Cy, ci;
  int i = source(c->C, c->count, plane % c->Cy, &ci);
  if (!c->dx[i]) return;
  float *dx = c->dx[i] + ((size_t)n * c->C[i] + ci) * c->hw;
  const float *dy = c->dy + (size_t)plane * c->hw;
  for (size_t k = 0; k < c->hw; k++) dx[k] += dy[k];
}

static int total(const int *C, int count) {
  int s = 0;
  for (int i = 0; i < count; i++) s += C[i];
  return s;
}

void hy_concat_forward(float *y, const float *const *x, const int *C,
                       int count, int N, int H, int W, hy_pool *pool) {
  concat_ctx c = {.y = y, .x = x, .C = C, .count = count,
                  .Cy = total(C, count), .hw = (size_t)H * W};
  hy_pool_run(pool, N * c.Cy, fwd_task, &c);
}

void hy_concat_backward(float *const *dx, const float *dy, const int *C,
                        int count, int N, int H, int W, hy_pool *pool) {
  concat_ctx c = {.dx = dx, .dy = dy, .C = C, .count = count,
                  .Cy = total(C, count), .hw = (size_t)H * W};
  hy_pool_run(pool, N * c.Cy, bwd_task, &c);
}

void hy_concat_forward_naive(float *y, const float *const *x, const int *C,
                             int count, int N, int H, int W) {
  size_t hw = (size_t)H * W;
  int Cy = total(C, count);
  for (int n = 0; n < N; n++) {
    int base = 0;
    for (int i = 0; i < count; i++) {
      for (int c = 0; c < C[i]; c++)
        for (size_t k = 0; k < hw; k++)
          y[((size_t)n * Cy + base + c) * hw + k] = x[i][((size_t)n * C[i] + c) * hw + k];
      base += C[i];
    }
  }
}

void hy_concat_backward_naive(float *const *dx, const float *dy, const int *C,
                              int count, int N, int H, int W) {
  size_t hw = (size_t)H * W;
  int Cy = total(C, count);
  for (int n = 0; n < N; n++) {
    int base = 0;
    for (int i = 0; i < count; i++) {
      if (dx[i])
        for (int c = 0; c < C[i]; c++)
          for (size_t k = 0; k < hw; k++)
            dx[i][((size_t)n * C[i] + c) * hw + k] += dy[((size_t)n * Cy + base + c) * hw + k];
      base += C[i];
    }
  }
}
