#include "transpose.h"

#include <stddef.h>

#define BLOCK 32

typedef struct {
  float *dst;
  const float *src, *src2; /* src2: NULL or a second addend */
  int N, rows, cols; /* src is [N][rows][cols], dst [N][cols][rows] */
  int accumulate;
  int by_rows; /* tasks split src's rows, else its columns (dst's rows) */
  int bands;
} job;

/* One band of one image, in BLOCK x BLOCK tiles. A band spans the longer
 * side, so each task writes whole runs of dst: split over a side of a few
 * channels, tasks would write every few floats of the same cache lines. */
static void transpose_task(void *p, int task, int thread) {
  const job *j = p;
  int n = task / j->bands, band = task % j->bands, len = j->by_rows ? j->rows : j->cols;
  int b0 = (int)((long long)len * band / j->bands), b1 = (int)((long long)len * (band + 1) / j->bands);
  int r0 = j->by_rows ? b0 : 0, r1 = j->by_rows ? b1 : j->rows;
  int c0 = j->by_rows ? 0 : b0, c1 = j->by_rows ? j->cols : b1;
  size_t off = (size_t)n * j->rows * j->cols;
  const float *s = j->src + off, *s2 = j->src2 ? j->src2 + off : NULL;
  float *d = j->dst + off;
  for (int rb = r0; rb < r1; rb += BLOCK) {
    int re = rb + BLOCK < r1 ? rb + BLOCK : r1;
    for (int cb = c0; cb < c1; cb += BLOCK) {
      int ce = cb + BLOCK < c1 ? cb + BLOCK : c1;
      for (int c = cb; c < ce; c++) {
        float *dr = d + (size_t)c * j->rows;
        if (j->accumulate)
          for (int r = rb; r < re; r++) dr[r] += s[(size_t)r * j->cols + c];
        else if (s2)
          for (int r = rb; r < re; r++) dr[r] = s[(size_t)r * j->cols + c] + s2[(size_t)r * j->cols + c];
        else
          for (int r = rb; r < re; r++) dr[r] = s[(size_t)r * j->cols + c];
      }
    }
  }
}

static void transpose(float *dst, const float *src, const float *src2, int N, int rows, int cols,
                      int accumulate, hy_pool *pool) {
  /* every destination element is written by exactly one task: no races */
  int by_rows = rows >= cols, len = by_rows ? rows : cols;
  int bands = 4 * hy_pool_threads(pool);
  if (bands > len) bands = len;
  job j = {dst, src, src2, N, rows, cols, accumulate, by_rows, bands};
  hy_pool_run(pool, N * bands, transpose_task, &j);
}

void hy_to_tokens_forward(float *y, const float *x, const float *x2, int N, int C, int HW,
                          hy_pool *pool) {
  transpose(y, x, x2, N, C, HW, 0, pool);
}

void hy_to_tokens_backward(float *dx, const float *dy, int N, int C, int HW, hy_pool *pool) {
  transpose(dx, dy, NULL, N, HW, C, 1, pool);
}

void hy_from_tokens_forward(float *y, const float *x, int N, int C, int HW, hy_pool *pool) {
  transpose(y, x, NULL, N, HW, C, 0, pool);
}

void hy_from_tokens_backward(float *dx, const float *dy, int N, int C, int HW, hy_pool *pool) {
  transpose(dx, dy, NULL, N, C, HW, 1, pool);
}
