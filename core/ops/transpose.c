#include "transpose.h"

#include <stddef.h>

#define BLOCK 32

typedef struct {
  float *dst;
  const float *src;
  int N, rows, cols; /* src is [N][rows][cols], dst [N][cols][rows] */
  int accumulate;
  int bands;
} job;

/* One band of source rows of one image, in BLOCK x BLOCK tiles. */
static void transpose_task(void *p, int task, int thread) {
  const job *j = p;
  int n = task / j->bands, band = task % j->bands;
  int r0 = (int)((long long)j->rows * band / j->bands);
  int r1 = (int)((long long)j->rows * (band + 1) / j->bands);
  const float *s = j->src + (size_t)n * j->rows * j->cols;
  float *d = j->dst + (size_t)n * j->rows * j->cols;
  for (int rb = r0; rb < r1; rb += BLOCK) {
    int re = rb + BLOCK < r1 ? rb + BLOCK : r1;
    for (int cb = 0; cb < j->cols; cb += BLOCK) {
      int ce = cb + BLOCK < j->cols ? cb + BLOCK : j->cols;
      for (int c = cb; c < ce; c++) {
        float *dr = d + (size_t)c * j->rows;
        if (j->accumulate)
          for (int r = rb; r < re; r++) dr[r] += s[(size_t)r * j->cols + c];
        else
          for (int r = rb; r < re; r++) dr[r] = s[(size_t)r * j->cols + c];
      }
    }
  }
}

static void transpose(float *dst, const float *src, int N, int rows, int cols,
                      int accumulate, hy_pool *pool) {
  /* every destination element is written by exactly one task: no races */
  int bands = 4 * hy_pool_threads(pool);
  if (bands > rows) bands = rows;
  job j = {dst, src, N, rows, cols, accumulate, bands};
  hy_pool_run(pool, N * bands, transpose_task, &j);
}

void hy_to_tokens_forward(float *y, const float *x, int N, int C, int HW, hy_pool *pool) {
  transpose(y, x, N, C, HW, 0, pool);
}

void hy_to_tokens_backward(float *dx, const float *dy, int N, int C, int HW, hy_pool *pool) {
  transpose(dx, dy, N, HW, C, 1, pool);
}

void hy_from_tokens_forward(float *y, const float *x, int N, int C, int HW, hy_pool *pool) {
  transpose(y, x, N, HW, C, 0, pool);
}

void hy_from_tokens_backward(float *dx, const float *dy, int N, int C, int HW, hy_pool *pool) {
  transpose(dx, dy, N, C, HW, 1, pool);
}
